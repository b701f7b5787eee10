// The app symbol bundle (Aegis.Kernel/Core/SymbolBundle.cs): the one boot module that carries
// every app's symbol file. Entries are read in order with their names and exact bytes; a
// malformed header or a length past the end ends the walk, never a throw.
using System.Text;
using Aegis.Kernel.Core;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class SymbolBundleTests
{
    private static List<(string Name, string File)> ReadAll(string bundle)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(bundle);
        var entries = new List<(string, string)>();
        int offset = 0;
        while (SymbolBundle.TryReadEntry(bytes, ref offset, out int nameOffset, out int nameLength, out int fileOffset, out int fileLength))
            entries.Add((Encoding.ASCII.GetString(bytes, nameOffset, nameLength), Encoding.ASCII.GetString(bytes, fileOffset, fileLength)));
        return entries;
    }

    [Test]
    public void EntriesAreReadInOrderWithTheirExactBytes()
    {
        string hello = "F 0000000000400000 0000000000000010 main\nL 0000000000400000 3 Program.cs\n";
        string bundle = $"@ hello {hello.Length}\n{hello}@ empty 0\n@ linux 3\n@ x";
        Assert.That(ReadAll(bundle), Is.EqualTo(new[] { ("hello", hello), ("empty", ""), ("linux", "@ x") }));
    }

    [Test]
    public void AnEmptyBundleHasNoEntries()
    {
        Assert.That(ReadAll(""), Is.Empty);
    }

    [TestCase("hello 3\nabc", TestName = "no @")]
    [TestCase("@hello 3\nabc", TestName = "no space after @")]
    [TestCase("@  3\nabc", TestName = "no name")]
    [TestCase("@ hello\nabc", TestName = "no length")]
    [TestCase("@ hello 3x\nabc", TestName = "length not a number")]
    [TestCase("@ hello -3\nabc", TestName = "negative length")]
    [TestCase("@ hello 3", TestName = "no end of the header")]
    [TestCase("@ hello 4\nabc", TestName = "length past the end")]
    [TestCase("@ hello 99999999999\nabc", TestName = "length of eleven digits")]
    public void AMalformedFirstEntryEndsTheWalk(string bundle)
    {
        Assert.That(ReadAll(bundle), Is.Empty);
    }

    [Test]
    public void TheEntriesBeforeAMalformedOneStay()
    {
        Assert.That(ReadAll("@ a 1\nx@ b 5\nyy"), Is.EqualTo(new[] { ("a", "x") }));
    }

    [Test]
    public void AnOffsetOutsideTheBundleReadsNothing()
    {
        byte[] bytes = Encoding.ASCII.GetBytes("@ a 1\nx");
        foreach (int start in new[] { -1, bytes.Length, bytes.Length + 5 })
        {
            int offset = start;
            Assert.That(SymbolBundle.TryReadEntry(bytes, ref offset, out _, out _, out _, out _), Is.False, $"offset {start}");
            Assert.That(offset, Is.EqualTo(start), "a failed read leaves the offset");
        }
    }
}
