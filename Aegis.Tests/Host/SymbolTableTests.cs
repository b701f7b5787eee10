using System.Text;
using Aegis.Kernel.Core;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class SymbolTableTests
{
    // Shaped like artifacts/Release/Aegis.Kernel.sym: F records by address, then L records.
    private const string Synthetic =
        "F ffffffff80100000 0000000000000000 boot_entry\n" +
        "F ffffffff80100040 0000000000000000 boot_long_mode\n" +
        "F ffffffff80101220 000000000000003a Aegis_Kernel_Aegis_Kernel_KernelLog__Write\n" +
        "F ffffffff80101260 0000000000000043 Aegis_Kernel_Aegis_Kernel_KernelLog__Write_0\n" +
        "F ffffffff801012b0 0000000000000059 aegis_kernel_main\n" +
        "F ffffffff801012b0 0000000000000059 Aegis_Kernel_Aegis_Kernel_KernelMain__Main\n" +
        "F ffffffff80102500 0000000000000005 Aegis_Runtime_Internal_Runtime_RuntimeExports__RhpNewArray\n" +
        "F ffffffff80102500 0000000000000005 RhpNewArray\n" +
        "F ffffffff80103000 0000000000000010 Outer__Run\n" +
        "F ffffffff80103004 0000000000000004 Outer__Inner\n" +
        "L ffffffff8010122c 12 KernelLog.cs\n" +
        "L ffffffff80101231 13 KernelLog.cs\n" +
        "L ffffffff8010124c 14 KernelLog.cs\n" +
        "L ffffffff80101260 25 KernelLog.cs\n" +
        "L ffffffff801012b0 13 KernelMain.cs\n" +
        "L ffffffff801012c8 0 KernelMain.cs\n" +
        "L ffffffff801012c3 14 KernelMain.cs\n";

    private static byte[] Bytes(string text) => Encoding.ASCII.GetBytes(text);

    private static (string Name, ulong Start)? Function(string file, ulong address)
        => SymbolTable.TryFindFunction(Bytes(file), address, out string name, out ulong start) ? (name, start) : null;

    private static (string File, int Line)? Line(string file, ulong address)
        => SymbolTable.TryFindLine(Bytes(file), address, out string path, out int line) ? (path, line) : null;

    [Test]
    public void AddressInsideAFunctionFindsIt()
    {
        Assert.That(Function(Synthetic, 0xffffffff80101230), Is.EqualTo(("Aegis_Kernel_Aegis_Kernel_KernelLog__Write", 0xffffffff80101220UL)));
        Assert.That(Function(Synthetic, 0xffffffff80101220)!.Value.Name, Does.EndWith("KernelLog__Write"));
        Assert.That(Function(Synthetic, 0xffffffff80101259)!.Value.Name, Does.EndWith("KernelLog__Write"));
    }

    [Test]
    public void AddressPastAFunctionsEndFindsNothing()
    {
        Assert.That(Function(Synthetic, 0xffffffff8010125a), Is.Null);
        Assert.That(Function(Synthetic, 0xffffffff80200000), Is.Null);
    }

    [Test]
    public void AddressBelowEverySymbolFindsNothing()
        => Assert.That(Function(Synthetic, 0xffffffff800fffff), Is.Null);

    [Test]
    public void ManagedNameWinsOverAnAliasAtTheSameAddress()
    {
        Assert.That(Function(Synthetic, 0xffffffff801012c0)!.Value.Name, Is.EqualTo("Aegis_Kernel_Aegis_Kernel_KernelMain__Main"));
        Assert.That(Function(Synthetic, 0xffffffff80102502)!.Value.Name, Is.EqualTo("Aegis_Runtime_Internal_Runtime_RuntimeExports__RhpNewArray"));
    }

    [Test]
    public void ZeroSizeSymbolCoversUpToTheNextSymbol()
    {
        Assert.That(Function(Synthetic, 0xffffffff80100010), Is.EqualTo(("boot_entry", 0xffffffff80100000UL)));
        Assert.That(Function(Synthetic, 0xffffffff80100100), Is.EqualTo(("boot_long_mode", 0xffffffff80100040UL)));
    }

    [Test]
    public void ZeroSizeSymbolReachesLessThanLabelReach()
    {
        const string LastIsALabel = "F ffffffff80100000 0000000000000010 Sized\nF ffffffff80200000 0000000000000000 aegis_halt\n";
        Assert.That(SymbolTable.TryFindFunction(Bytes(LastIsALabel), 0xffffffff80200000UL + SymbolTable.LabelReach - 1, out string name, out _), Is.True);
        Assert.That(name, Is.EqualTo("aegis_halt"));
        Assert.That(SymbolTable.TryFindFunction(Bytes(LastIsALabel), 0xffffffff80200000UL + SymbolTable.LabelReach, out _, out _), Is.False,
            "a word LabelReach above the last label is not its routine's");
    }

    [Test]
    public void InnermostContainingFunctionWins()
    {
        Assert.That(Function(Synthetic, 0xffffffff80103005)!.Value.Name, Is.EqualTo("Outer__Inner"));
        Assert.That(Function(Synthetic, 0xffffffff80103009)!.Value.Name, Is.EqualTo("Outer__Run"));
    }

    [Test]
    public void LineIsTheGreatestRowAtOrBelowTheAddress()
    {
        Assert.That(Line(Synthetic, 0xffffffff8010122c), Is.EqualTo(("KernelLog.cs", 12)));
        Assert.That(Line(Synthetic, 0xffffffff80101240), Is.EqualTo(("KernelLog.cs", 13)));
        Assert.That(Line(Synthetic, 0xffffffff80101255), Is.EqualTo(("KernelLog.cs", 14)));
    }

    [Test]
    public void LineMustLieInTheSameFunction()
    {
        Assert.That(Line(Synthetic, 0xffffffff80101225), Is.Null, "before the function's first row");
        Assert.That(Line(Synthetic, 0xffffffff80103004), Is.Null, "a function without rows");
    }

    [Test]
    public void LineRowsNeedNotBeSortedAndLineZeroIsSkipped()
        => Assert.That(Line(Synthetic, 0xffffffff801012d0), Is.EqualTo(("KernelMain.cs", 14)));

    [Test]
    public void DescribeGivesNameOffsetAndLine()
    {
        Assert.That(SymbolTable.Describe(Bytes(Synthetic), 0xffffffff80101240), Is.EqualTo("Aegis.Kernel.KernelLog.Write+0x20 (KernelLog.cs:13)"));
        Assert.That(SymbolTable.Describe(Bytes(Synthetic), 0xffffffff80103005), Is.EqualTo("Outer.Inner+0x1"));
        Assert.That(SymbolTable.Describe(Bytes(Synthetic), 0x1234), Is.EqualTo("0x0000000000001234 (no symbol)"));
    }

    [Test]
    public void EmptyFileFindsNothing()
    {
        Assert.That(Function("", 0x1000), Is.Null);
        Assert.That(Line("", 0x1000), Is.Null);
    }

    [Test]
    public void MalformedLinesAreSkipped()
    {
        const string file =
            "F zzzz 0000000000000010 Bad__Hex\n" +
            "F 1000 Missing__Size\n" +
            "F 11111111111111111 10 Too__ManyDigits\n" +
            "F 1000 10\n" +
            "X 1000 10 Wrong__Kind\n" +
            "\n" +
            "F  1000 10 Double__Space\n" +
            "F 1000 0000000000000010 Good__Name\r\n" +
            "L 1004 abc Bad.cs\n" +
            "L 1004 99999999999 Huge.cs\n" +
            "L 1004 7\n" +
            "L 1006 8 Good.cs  \r\n" +
            "F 1000";
        Assert.That(Function(file, 0x1008), Is.EqualTo(("Good__Name", 0x1000UL)));
        Assert.That(Line(file, 0x1008), Is.EqualTo(("Good.cs", 8)));
    }

    [Test]
    public void NonAsciiBytesBecomeQuestionMarks()
    {
        byte[] file = [.. Bytes("F 1000 10 Caf"), 0xC3, 0xA9, .. Bytes("__Run\n")];
        Assert.That(SymbolTable.TryFindFunction(file, 0x1000, out string name, out _), Is.True);
        Assert.That(name, Is.EqualTo("Caf??__Run"));
    }

    [Test]
    public void RandomBytesNeverThrow()
    {
        Random random = new(11);
        byte[] alphabet = Bytes("FL 0123456789abcdefxyz_\n\r");
        for (int round = 0; round < 5000; round++)
        {
            byte[] file = new byte[random.Next(0, 300)];
            for (int i = 0; i < file.Length; i++) file[i] = alphabet[random.Next(alphabet.Length)];
            ulong address = (ulong)random.Next(0, 0x2000);
            SymbolTable.TryFindFunction(file, address, out _, out _);
            SymbolTable.TryFindLine(file, address, out _, out _);
            SymbolTable.Describe(file, address);
        }
    }

    private static byte[] RealSymbolFile()
    {
        string directory = TestContext.CurrentContext.TestDirectory;
        while (directory != null && !File.Exists(Path.Combine(directory, "Aegis.sln")))
            directory = Path.GetDirectoryName(directory)!;
        string path = directory == null ? "" : Path.Combine(directory, "artifacts", "Release", "Aegis.Kernel.sym");
        if (!File.Exists(path))
            Assert.Ignore("artifacts/Release/Aegis.Kernel.sym is absent: build the kernel (dotnet build Aegis.Kernel/Aegis.Kernel.csproj -c Release) first");
        return File.ReadAllBytes(path);
    }

    private static IEnumerable<(ulong Start, ulong Size, string Name)> FunctionRecords(byte[] file)
    {
        foreach (string line in Encoding.ASCII.GetString(file).Split('\n'))
        {
            string[] fields = line.Split(' ', 4);
            if (fields.Length == 4 && fields[0] == "F")
                yield return (Convert.ToUInt64(fields[1], 16), Convert.ToUInt64(fields[2], 16), fields[3]);
        }
    }

    [Test]
    public void RealFileNamesTheKernelEntryPoint()
    {
        byte[] file = RealSymbolFile();
        (ulong start, ulong size, string _) = FunctionRecords(file).First(f => f.Name == "aegis_kernel_main");
        Assert.That(SymbolTable.TryFindFunction(file, start + size / 2, out string name, out ulong found), Is.True);
        Assert.That(found, Is.EqualTo(start));
        Assert.That(name, Is.EqualTo("Aegis_Kernel_Aegis_Kernel_KernelMain__Main"));
        Assert.That(SymbolTable.Demangle(name), Is.EqualTo("Aegis.Kernel.KernelMain.Main"));
        Assert.That(SymbolTable.TryFindLine(file, start + size / 2, out string source, out int line), Is.True);
        Assert.That(source, Does.EndWith("KernelMain.cs"));
        Assert.That(line, Is.GreaterThan(0));
    }

    [Test]
    public void RealFileFindsEverySizedFunctionAtItsMiddle()
    {
        byte[] file = RealSymbolFile();
        (ulong Start, ulong Size, string Name)[] records = FunctionRecords(file).ToArray();
        Assert.That(records.Length, Is.GreaterThan(10));
        foreach ((ulong start, ulong size, string recordName) in records)
        {
            if (size == 0) continue;
            ulong address = start + size / 2;
            Assert.That(SymbolTable.TryFindFunction(file, address, out string name, out ulong found), Is.True, recordName);
            bool nested = records.Any(r => r.Size != 0 && r.Start > start && r.Start <= address && address < r.Start + r.Size);
            if (!nested) Assert.That(found, Is.EqualTo(start), recordName);
        }
    }

    [Test]
    public void RealFileManagedNamesDemangleToDottedNames()
    {
        byte[] file = RealSymbolFile();
        int managed = 0;
        foreach ((ulong _, ulong _, string name) in FunctionRecords(file))
        {
            string demangled = SymbolTable.Demangle(name);
            if (name.StartsWith("Aegis_Kernel_Aegis_Kernel_", StringComparison.Ordinal) && !name.Contains("___"))
            {
                Assert.That(demangled, Does.StartWith("Aegis.Kernel.").And.Not.Contain("__"), name);
                managed++;
            }
        }
        Assert.That(managed, Is.GreaterThan(3));
    }

    [Test]
    public void RealFileLookupIsFastEnoughForAPanic()
    {
        byte[] file = RealSymbolFile();
        (ulong start, ulong size, string _) = FunctionRecords(file).Last(f => f.Size != 0);
        System.Diagnostics.Stopwatch watch = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 20; i++) SymbolTable.Describe(file, start + size - 1);
        Assert.That(watch.ElapsedMilliseconds, Is.LessThan(2000));
    }

    private static string Formatted(string elfName, int room = 256)
    {
        char[] buffer = new char[room];
        int length = SymbolTable.FormatFunctionName(Bytes(elfName), buffer);
        return new string(buffer, 0, length);
    }

    [TestCase("Aegis_Kernel_Aegis_Kernel_KernelLog__Write_0")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_KernelMain__Main")]
    [TestCase("NullDeref_Aegis_Apps_NullDeref_Program__Main")]
    [TestCase("LibOS_Base_Aegis_LibOS_SystemCalls__Exit")]
    [TestCase("Aegis_Runtime_System_ArgumentException___ctor_1")]
    [TestCase("Aegis_Runtime_System_Collections_Generic_List_1__Add")]
    [TestCase("unbox_Int32__Equals_0")]
    public void FormattedNamesMatchTheDemangler(string elfName)
    {
        Assert.That(Formatted(elfName), Is.EqualTo(SymbolTable.Demangle(elfName)));
    }

    [TestCase("RhpNewArray")]
    [TestCase("__managed__Startup")]
    [TestCase("Aegis_Runtime_System_Span_1<Char>__Slice_0")]
    public void NamesOfOtherShapesAreCopiedUnchanged(string elfName)
    {
        Assert.That(Formatted(elfName), Is.EqualTo(elfName));
    }

    [TestCase("NullDeref_Aegis_Apps_NullDeref_Program__Read", "nullderef", "Aegis.Apps.NullDeref.Program.Read")]
    [TestCase("Revoke_Polite_Aegis_Apps_RevokePolite_Program__Main", "revoke-polite", "Revoke.Polite.Aegis.Apps.RevokePolite.Program.Main")]
    [TestCase("RevokePolite_Aegis_Apps_RevokePolite_Program__Main_0", "revokepolite", "Aegis.Apps.RevokePolite.Program.Main")]
    [TestCase("LibOS_Base_Aegis_LibOS_Upcalls__ReportAndExit", "nullderef", "LibOS.Base.Aegis.LibOS.Upcalls.ReportAndExit")]
    [TestCase("Aegis_Kernel_Aegis_Kernel_KernelMain__Main", "nullderef", "Aegis.Kernel.KernelMain.Main")]
    public void AnAppsAssemblyPrefixIsDroppedByItsImageName(string elfName, string image, string expected)
    {
        char[] buffer = new char[256];
        int length = SymbolTable.FormatFunctionName(Bytes(elfName), buffer, image);
        Assert.That(new string(buffer, 0, length), Is.EqualTo(expected));
    }

    [Test]
    public void TypeNamesComeFromTheTRecords()
    {
        byte[] file = Bytes(Synthetic + "T 00000000004093c8 _ZTV46Aegis_Runtime_System_InvalidOperationException\n"
            + "T 0000000000409400 _ZTV45NullDeref_Aegis_Apps_NullDeref_Program_Failure\n");
        char[] buffer = new char[128];
        Assert.That(SymbolTable.TryFindTypeName(file, 0x4093c8, out int offset, out int length), Is.True);
        Assert.That(new string(buffer, 0, SymbolTable.FormatTypeName(file.AsSpan(offset, length), buffer, "nullderef")), Is.EqualTo("System.InvalidOperationException"));
        Assert.That(SymbolTable.TryFindTypeName(file, 0x409400, out offset, out length), Is.True);
        Assert.That(new string(buffer, 0, SymbolTable.FormatTypeName(file.AsSpan(offset, length), buffer, "nullderef")), Is.EqualTo("Aegis.Apps.NullDeref.Program.Failure"));
        Assert.That(SymbolTable.TryFindTypeName(file, 0x4093c0, out _, out _), Is.False);
        Assert.That(SymbolTable.TryFindTypeName(file, 0xffffffff80101220, out _, out _), Is.False); // an F record's address
    }

    [Test]
    public void FormattedNamesAreTruncatedToTheBuffer()
    {
        Assert.That(Formatted("Aegis_Kernel_Aegis_Kernel_KernelMain__Main", 10), Is.EqualTo("Aegis.Kern"));
    }

    [Test]
    public void NameAndLineRangesPointIntoTheFile()
    {
        byte[] file = Bytes(Synthetic);
        Assert.That(SymbolTable.TryFindFunctionName(file, 0xffffffff80101230, out int nameOffset, out int nameLength, out ulong start), Is.True);
        Assert.That(Encoding.ASCII.GetString(file, nameOffset, nameLength), Is.EqualTo("Aegis_Kernel_Aegis_Kernel_KernelLog__Write"));
        Assert.That(start, Is.EqualTo(0xffffffff80101220UL));
        Assert.That(SymbolTable.TryFindLineName(file, 0xffffffff80101230, out int fileOffset, out int fileLength, out int line), Is.True);
        Assert.That((Encoding.ASCII.GetString(file, fileOffset, fileLength), line), Is.EqualTo(Line(Synthetic, 0xffffffff80101230)!.Value));
        Assert.That(SymbolTable.TryFindFunctionName(file, 0x1000, out _, out _, out _), Is.False);
        Assert.That(SymbolTable.TryFindLineName(file, 0x1000, out _, out _, out _), Is.False);
    }
}
