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
    /// <summary>How many quadwords from RSP up are searched for kernel return addresses.</summary>
    public const int StackWords = 256;

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
            // 256 quadwords: a snapshot taken inside an interrupt has the handler's frames, the 22
            // saved quadwords and the 512-byte fxsave area (interrupts.S) above the interrupted
            // code's return addresses; 32 words stopped there (a flaky CI run; the boot test
            // AStateTakenInsideAnInterruptHandlerStillNamesTheInterruptedIdleLoop catches it).
            Match rsp = Regex.Match(registers, @"RSP=([0-9a-f]{16})");
            string stack = rsp.Success ? monitor.Command("x /" + StackWords + "gx 0x" + rsp.Groups[1].Value) : "";
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

    /// <summary>The start of the kernel function whose ELF name ends with 'nameEnd' (e.g.
    /// "Interrupts__DispatchIrq"), from the symbol file's F records.</summary>
    public static ulong KernelFunction(string nameEnd)
    {
        string path = KernelSymbols.PathOf();
        foreach (string line in File.ReadLines(path))
        {
            string[] fields = line.Split(' ');
            if (fields.Length == 4 && fields[0] == "F" && fields[3].EndsWith(nameEnd, StringComparison.Ordinal))
                return ulong.Parse(fields[1], NumberStyles.HexNumber);
        }
        throw new InvalidOperationException($"no kernel function named *{nameEnd} in {path}");
    }

    /// <summary>The kernel's function symbols (artifacts/CONFIG/Aegis.Kernel.sym), looked up with the
    /// kernel's own SymbolTable: an assembly routine without a size (aegis_halt) reaches up to the
    /// next symbol and at most SymbolTable.LabelReach, so stack and data words are not named.</summary>
    private sealed class KernelSymbols
    {
        private readonly byte[] _file;

        private KernelSymbols(byte[] file) => _file = file;

        public static KernelSymbols Load()
        {
            string path = PathOf();
            return new KernelSymbols(File.Exists(path) ? File.ReadAllBytes(path) : Array.Empty<byte>());
        }

        public static string PathOf()
        {
            string config = Environment.GetEnvironmentVariable("AEGIS_CONFIG") is { Length: > 0 } value ? value : "Release";
            return Path.Combine(FrontDoor.RepositoryRoot, "artifacts", config, "Aegis.Kernel.sym");
        }

        /// <summary>"function+0xOFFSET" for an address inside a kernel function; else null.</summary>
        public string Name(ulong address) =>
            Aegis.Kernel.Core.SymbolTable.TryFindFunction(_file, address, out string name, out ulong start)
                ? name + "+0x" + (address - start).ToString("x") : null;
    }
}
