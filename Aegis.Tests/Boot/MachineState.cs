// Where the machine was when a boot test's interaction failed: the vCPU's registers, the kernel
// function its RIP is in, the kernel addresses on its stack (a poor man's backtrace) and the
// interrupt controllers' state, read from QEMU's monitor before the run is killed. A hang in CI
// then says where the guest was spinning or halted (docs/debugging.md, "When a boot test hangs").
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

public static class MachineState
{
    /// <summary>Runs 'interaction'; when it fails (an assertion or any other exception), the
    /// failure is rethrown with the machine's state appended to its message.</summary>
    public static void OnFailure(QemuMonitor monitor, Action interaction)
    {
        try
        {
            interaction();
        }
        catch (ResultStateException e) when (e is not AssertionException)
        {
            throw; // Ignore, Inconclusive, Pass: not failures
        }
        catch (Exception e)
        {
            string state = Describe(monitor);
            if (e is AssertionException)
                throw new AssertionException(e.Message + "\n" + state, e);
            throw new InvalidOperationException(e.GetType().Name + ": " + e.Message + "\n" + state, e);
        }
    }

    /// <summary>The machine's state in a few dozen lines, or why it could not be read.</summary>
    public static string Describe(QemuMonitor monitor)
    {
        var text = new StringBuilder("The machine when the interaction failed (QEMU's monitor):\n");
        try
        {
            string registers = monitor.Command("info registers").Replace("\r", "");
            int floating = registers.IndexOf("FCW=", StringComparison.Ordinal); // the x87 and SSE registers: not needed here
            text.Append((floating < 0 ? registers : registers[..floating]).TrimEnd()).Append('\n');
            var symbols = KernelSymbols.Load();
            Match rip = Regex.Match(registers, @"RIP=([0-9a-f]{16})");
            Match cpl = Regex.Match(registers, @"CPL=(\d)");
            if (rip.Success)
            {
                ulong address = ulong.Parse(rip.Groups[1].Value, NumberStyles.HexNumber);
                text.Append("RIP is ").Append(cpl.Success && cpl.Groups[1].Value == "3" ? "in ring 3 at " : "")
                    .Append(symbols.Name(address) ?? "not in the kernel's symbols").Append('\n');
            }
            Match rsp = Regex.Match(registers, @"RSP=([0-9a-f]{16})");
            string stack = rsp.Success ? monitor.Command("x /32gx 0x" + rsp.Groups[1].Value) : "";
            var called = new List<string>();
            foreach (Match word in Regex.Matches(stack, @"0x([0-9a-f]{16})"))
            {
                string name = symbols.Name(ulong.Parse(word.Groups[1].Value, NumberStyles.HexNumber));
                if (name != null) called.Add(name);
            }
            text.Append("kernel addresses on the stack, top first: ").Append(called.Count == 0 ? "none" : string.Join(" < ", called)).Append('\n');
            // The interrupt controllers, without the I/O APIC's masked pins (Aegis uses the 8259s).
            foreach (string line in monitor.Command("info pic").Replace("\r", "").Split('\n'))
                if (line.Length > 0 && !(line.TrimStart().StartsWith("pin ", StringComparison.Ordinal) && line.Contains(" masked ")))
                    text.Append(line).Append('\n');
        }
        catch (Exception e)
        {
            text.Append("(could not be read: ").Append(e.GetType().Name).Append(": ").Append(e.Message).Append(")\n");
        }
        return text.ToString();
    }

    /// <summary>The kernel's function symbols (artifacts/CONFIG/Aegis.Kernel.sym: "F ADDRESS SIZE NAME").</summary>
    private sealed class KernelSymbols
    {
        private const ulong AssemblyRoutineLimit = 4096;
        private readonly ulong[] _starts;
        private readonly ulong[] _sizes;
        private readonly string[] _names;

        private KernelSymbols(List<(ulong Start, ulong Size, string Name)> symbols)
        {
            symbols.Sort((a, b) => a.Start.CompareTo(b.Start));
            _starts = symbols.Select(s => s.Start).ToArray();
            _sizes = symbols.Select(s => s.Size).ToArray();
            _names = symbols.Select(s => s.Name).ToArray();
        }

        public static KernelSymbols Load()
        {
            string config = Environment.GetEnvironmentVariable("AEGIS_CONFIG") is { Length: > 0 } value ? value : "Release";
            string path = Path.Combine(FrontDoor.RepositoryRoot, "artifacts", config, "Aegis.Kernel.sym");
            var symbols = new List<(ulong, ulong, string)>();
            if (File.Exists(path))
            {
                foreach (string line in File.ReadLines(path))
                {
                    string[] fields = line.Split(' ', 4);
                    if (fields.Length == 4 && fields[0] == "F"
                        && ulong.TryParse(fields[1], NumberStyles.HexNumber, null, out ulong start)
                        && ulong.TryParse(fields[2], NumberStyles.HexNumber, null, out ulong size))
                        symbols.Add((start, size, fields[3]));
                }
            }
            // An assembly routine has no size (aegis_halt): it runs up to the next symbol.
            symbols.Sort((a, b) => a.Item1.CompareTo(b.Item1));
            for (int i = 0; i < symbols.Count; i++)
            {
                if (symbols[i].Item2 != 0) continue;
                ulong next = i + 1 < symbols.Count ? symbols[i + 1].Item1 : symbols[i].Item1;
                symbols[i] = (symbols[i].Item1, Math.Min(next - symbols[i].Item1, AssemblyRoutineLimit), symbols[i].Item3);
            }
            return new KernelSymbols(symbols);
        }

        /// <summary>"function+0xOFFSET" for an address inside a kernel function; else null.</summary>
        public string Name(ulong address)
        {
            int at = Array.BinarySearch(_starts, address);
            if (at < 0) at = ~at - 1;
            if (at < 0 || address - _starts[at] >= _sizes[at]) return null;
            return _names[at] + "+0x" + (address - _starts[at]).ToString("x");
        }
    }
}
