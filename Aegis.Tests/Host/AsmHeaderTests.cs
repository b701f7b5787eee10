// The assembly headers against the C# they mirror (the role NativeAOT's AsmOffsets.h plays):
//   Aegis.Abi/abi.h               every constant of Aegis.Abi (enum values, const fields, struct
//                                 field offsets and sizes), named TYPE_MEMBER in upper snake case;
//   Aegis.Kernel/Arch/x86_64/entry.h  the InterruptFrame offsets and the user selectors.
// A field moved, a call added or a value changed on one side fails here, with the line to write.
// Also: no assembly or C file keeps a hand copy of an ABI constant, and the fast path's sysretq
// can only ever return to a canonical address (the invariant usermode.S states).
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Aegis.Abi;
using Aegis.Kernel.Core.Exo;
using Aegis.Tests.Boot;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class AsmHeaderTests
{
    private static string Root => FrontDoor.RepositoryRoot;
    private static string AbiHeaderPath => Path.Combine(Root, "Aegis.Abi", "abi.h");
    private static string EntryHeaderPath => Path.Combine(Root, "Aegis.Kernel", "Arch", "x86_64", "entry.h");

    [Test]
    public void AbiHeaderMatchesAegisAbi()
    {
        SortedDictionary<string, ulong> header = ParseHeader(AbiHeaderPath, "AEGIS_ABI_H");
        SortedDictionary<string, ulong> expected = AbiConstants();
        CompareHeader("Aegis.Abi/abi.h", header, expected);
    }

    [Test]
    public void EntryHeaderMatchesTheInterruptFrame()
    {
        SortedDictionary<string, ulong> header = ParseHeader(EntryHeaderPath, "AEGIS_ENTRY_H");
        var expected = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
        foreach (FieldInfo field in typeof(Aegis.Kernel.Hal.InterruptFrame).GetFields(BindingFlags.Public | BindingFlags.Instance))
            expected["IFRAME_" + Snake(field.Name)] = (ulong)Marshal.OffsetOf<Aegis.Kernel.Hal.InterruptFrame>(field.Name);
        expected["IFRAME_SIZE"] = (ulong)Marshal.SizeOf<Aegis.Kernel.Hal.InterruptFrame>();
        // Not C# facts, but checked against their C# owners where there is one.
        expected["IFRAME_SYSCALL_VECTOR"] = 256;
        expected["GDT_USER_DATA_RPL3"] = GdtSelector("UserData") | 3;
        expected["GDT_USER_CODE_RPL3"] = GdtSelector("UserCode") | 3;
        expected["FXSAVE_AREA_SIZE"] = 512;
        // Environment.Counters[2] and [3] (Exo/Environment.cs, CountersSystemCallUpcallFrame/Entry).
        expected["COUNTERS_SYSTEM_CALL_UPCALL_FRAME"] = 2 * 8;
        expected["COUNTERS_SYSTEM_CALL_UPCALL_ENTRY"] = 3 * 8;
        CompareHeader("Aegis.Kernel/Arch/x86_64/entry.h", header, expected);
    }

    /// <summary>The header's names are the ABI's: a #define of one of its prefixes anywhere else is
    /// a hand copy that can drift.</summary>
    [Test]
    public void NoAssemblyOrCFileCopiesAnAbiConstant()
    {
        string[] prefixes = typeof(SystemCall).Assembly.GetTypes()
            .Where(t => t.Namespace == "Aegis.Abi" && t.IsPublic).Select(t => HeaderPrefix(t)).ToArray();
        var offenders = new List<string>();
        foreach (string directory in new[] { "Aegis.Kernel", "Aegis.Runtime", "LibOS.Base", "LibOS.Unixish", "LibOS.Database", "Apps", "Tests", "tools" })
        {
            string path = Path.Combine(Root, directory);
            if (!Directory.Exists(path)) continue;
            foreach (string file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                         .Where(f => (f.EndsWith(".S") || f.EndsWith(".c") || f.EndsWith(".h")) && !f.Contains("/obj/") && !f.Contains("/bin/")))
            {
                foreach (string line in File.ReadLines(file))
                {
                    Match define = Regex.Match(line, @"^\s*#\s*define\s+(\w+)");
                    if (define.Success && prefixes.Any(p => define.Groups[1].Value.StartsWith(p, StringComparison.Ordinal)))
                        offenders.Add(Path.GetRelativePath(Root, file) + ": " + line.Trim());
                }
            }
        }
        Assert.That(offenders, Is.Empty, "ABI constants belong in Aegis.Abi/abi.h only (#include \"abi.h\")");
    }

    /// <summary>usermode.S's fast path returns with sysretq to the RCX the syscall instruction left:
    /// at most 2 bytes past an executable user page. Nothing a libOS can map reaches the top of the
    /// user half (and the two information pages above ReservedTop are mapped no-execute), so that
    /// address is below UserEnd: canonical, and sysretq cannot fault in ring 0.</summary>
    [Test]
    public void SysretReturnAddressIsCanonical()
    {
        Assert.That(UserAddresses.ReservedTop + 2 * UserAddresses.PageSize, Is.LessThanOrEqualTo(UserAddresses.EnvironmentPage));
        Assert.That(UserAddresses.EnvironmentPage, Is.LessThan(UserAddresses.InfoPage));
        Assert.That(UserAddresses.InfoPage + UserAddresses.PageSize, Is.LessThan(UserAddresses.UserEnd), "the top page of the user half stays unmapped");
        Assert.That(UserAddresses.UserEnd, Is.EqualTo(1UL << 47), "the canonical lower half ends at 2^47");
        for (ulong address = UserAddresses.ReservedTop; address < UserAddresses.UserEnd; address += UserAddresses.PageSize)
            Assert.That(MappingValidator.IsMappableAddress(address), Is.False, () => "a libOS could map 0x" + address.ToString("X"));
        Assert.That(MappingValidator.IsMappableAddress(UserAddresses.ReservedTop - UserAddresses.PageSize), Is.True);
    }

    [Test]
    public void SnakeCaseNamesAreTheHeadersConvention()
    {
        Assert.That(Snake("IpcCall"), Is.EqualTo("IPC_CALL"));
        Assert.That(Snake("R15"), Is.EqualTo("R15"));
        Assert.That(Snake("Word0"), Is.EqualTo("WORD0"));
        Assert.That(Snake("InfoPageMagic"), Is.EqualTo("INFO_PAGE_MAGIC"));
    }

    /// <summary>Every constant of the Aegis.Abi namespace, by its header name.</summary>
    private static SortedDictionary<string, ulong> AbiConstants()
    {
        var constants = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
        void Add(string name, ulong value)
        {
            if (constants.TryGetValue(name, out ulong existing) && existing != value)
                Assert.Fail($"two Aegis.Abi members map to {name} with different values (0x{existing:X}, 0x{value:X})");
            constants[name] = value;
        }
        IEnumerable<Type> types = typeof(SystemCall).Assembly.GetTypes()
            .Where(t => t.Namespace == "Aegis.Abi" && t.IsPublic);
        foreach (Type type in types)
        {
            string prefix = HeaderPrefix(type);
            if (type.IsEnum)
            {
                foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
                    Add(prefix + Snake(field.Name), ToBits(field.GetRawConstantValue()!));
                continue;
            }
            foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral))
                Add(prefix + Snake(field.Name), ToBits(field.GetRawConstantValue()!));
            if (type.IsValueType)
            {
                foreach (FieldInfo field in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
                    Add(prefix + Snake(field.Name), (ulong)Marshal.OffsetOf(type, field.Name));
                Add(prefix + "SIZE", (ulong)Marshal.SizeOf(type));
            }
        }
        return constants;
    }

    private static ulong ToBits(object value) => value switch
    {
        long l => unchecked((ulong)l),
        int i => unchecked((ulong)(long)i),
        short s => unchecked((ulong)(long)s),
        ulong u => u,
        uint u => u,
        ushort u => u,
        byte b => b,
        _ => throw new InvalidOperationException("unexpected constant type " + value.GetType()),
    };

    /// <summary>The header prefix of a type's members: its name in upper snake case, except
    /// SystemCallNumbers, whose bounds read as the call numbers' own (SYSTEM_CALL_FIRST, SYSTEM_CALL_END).</summary>
    private static string HeaderPrefix(Type type) => type == typeof(SystemCallNumbers) ? "SYSTEM_CALL_" : Snake(type.Name) + "_";

    /// <summary>SystemCallNumbers is [First, End) of the SystemCall values: First is Null's number, End
    /// one past the highest, and every call lies inside (the kernel's table and fast path rely on it).</summary>
    [Test]
    public void SystemCallNumbersBoundEveryCall()
    {
        ulong[] numbers = Enum.GetValues<SystemCall>().Select(c => (ulong)c).ToArray();
        Assert.That(SystemCallNumbers.First, Is.EqualTo(512UL), "0 .. 511 are left to hosted programs (Linux's numbers)");
        Assert.That((ulong)SystemCall.Null, Is.EqualTo(SystemCallNumbers.First));
        Assert.That(numbers.Max() + 1, Is.EqualTo(SystemCallNumbers.End), "End is one past the highest call");
        Assert.That(numbers.All(n => n >= SystemCallNumbers.First && n < SystemCallNumbers.End), Is.True);
        Assert.That(numbers.Distinct().Count(), Is.EqualTo(numbers.Length), "no two calls share a number");
        Assert.That((ulong)SystemCall.SetSystemCallUpcall, Is.EqualTo(541UL));
        Assert.That((ulong)UpcallKind.SystemCall, Is.EqualTo(6UL));
        Assert.That(CpuFeatureBits.FsGsBase, Is.EqualTo(1UL));
    }

    /// <summary>PascalCase to UPPER_SNAKE: an underscore before each capital that follows a lower-case letter.</summary>
    private static string Snake(string name)
    {
        var builder = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && char.IsLower(name[i - 1]))
                builder.Append('_');
            builder.Append(char.ToUpperInvariant(name[i]));
        }
        return builder.ToString();
    }

    /// <summary>"#define NAME value" lines (value: decimal, 0x hex, or (-decimal)); the include guard
    /// is the one define without a value. Anything else that looks like a define fails.</summary>
    private static SortedDictionary<string, ulong> ParseHeader(string path, string guard)
    {
        Assert.That(File.Exists(path), Is.True, path + " is missing");
        var values = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
        foreach (string raw in File.ReadLines(path))
        {
            string line = Regex.Replace(raw, @"/\*.*?\*/", "").Trim();
            Match define = Regex.Match(line, @"^#\s*define\s+(\w+)(?:\(|\s|$)(.*)$");
            if (!define.Success) continue;
            string name = define.Groups[1].Value;
            string text = define.Groups[2].Value.Trim();
            if (name == guard && text.Length == 0) continue;
            if (line.StartsWith("#define FUNCTION(", StringComparison.Ordinal)) continue;
            Assert.That(values.ContainsKey(name), Is.False, path + " defines " + name + " twice");
            values[name] = ParseValue(path, name, text);
        }
        return values;
    }

    private static ulong ParseValue(string path, string name, string text)
    {
        Match negative = Regex.Match(text, @"^\(-(\d+)\)$");
        if (negative.Success)
            return unchecked((ulong)-long.Parse(negative.Groups[1].Value, CultureInfo.InvariantCulture));
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && ulong.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong hex))
            return hex;
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value))
            return value;
        Assert.Fail($"{path}: #define {name} {text}: not a number (write decimal, 0x hex or (-N))");
        return 0;
    }

    private static void CompareHeader(string file, SortedDictionary<string, ulong> header, SortedDictionary<string, ulong> expected)
    {
        var problems = new List<string>();
        foreach ((string name, ulong value) in expected.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!header.TryGetValue(name, out ulong actual))
                problems.Add("missing: #define " + name + " " + Format(value));
            else if (actual != value)
                problems.Add($"wrong: {name} is {Format(actual)} in the header, {Format(value)} in C#");
        }
        foreach (string name in header.Keys.Where(n => !expected.ContainsKey(n)).OrderBy(n => n, StringComparer.Ordinal))
            problems.Add("unknown: " + name + " (no C# member has this name)");
        Assert.That(problems, Is.Empty, file + " disagrees with the C# definitions:\n" + string.Join("\n", problems));
    }

    private static string Format(ulong value)
        => (long)value < 0 && (long)value > -1000 ? "(" + ((long)value).ToString(CultureInfo.InvariantCulture) + ")"
            : value > 0xFFFF ? "0x" + value.ToString("X", CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture);

    private static ulong GdtSelector(string name)
    {
        string source = File.ReadAllText(Path.Combine(Root, "Aegis.Kernel", "Hal", "GlobalDescriptorTable.cs"));
        Match match = Regex.Match(source, @"const\s+ushort\s+" + name + @"\s*=\s*0x([0-9A-Fa-f]+)\s*;");
        Assert.That(match.Success, Is.True, "GlobalDescriptorTable." + name + " not found");
        return ulong.Parse(match.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }
}
