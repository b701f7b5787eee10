// The heap's size classes (Aegis.Runtime/Internal/Runtime/GcSizeClasses.cs): every small size maps
// to the smallest cell that holds it, cells grow and stay 8-byte multiples, a block holds at least
// three cells and its mark bits, and Native/gc.S agrees on the constants it hard-codes.
using System.Text.RegularExpressions;
using Internal.Runtime;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class GcSizeClassTests
{
    [Test]
    public void CellSizesIncreaseAndAreMultiplesOfEight()
    {
        Assert.That(GcSizeClasses.CellSize(0), Is.EqualTo(GcSizeClasses.MinimumCell));
        Assert.That(GcSizeClasses.CellSize(GcSizeClasses.Count - 1), Is.EqualTo(GcSizeClasses.MaximumSmall));
        for (int c = 0; c < GcSizeClasses.Count; c++)
        {
            Assert.That(GcSizeClasses.CellSize(c) % 8, Is.EqualTo(0), "class " + c);
            if (c > 0)
                Assert.That(GcSizeClasses.CellSize(c), Is.GreaterThan(GcSizeClasses.CellSize(c - 1)), "class " + c);
        }
    }

    [Test]
    public void EverySmallSizeGetsTheSmallestCellThatHoldsIt()
    {
        for (int size = 1; size <= GcSizeClasses.MaximumSmall; size++)
        {
            int c = GcSizeClasses.ClassOf(size);
            Assert.That(c, Is.InRange(0, GcSizeClasses.Count - 1), "size " + size);
            Assert.That(GcSizeClasses.CellSize(c), Is.GreaterThanOrEqualTo(size), "size " + size);
            if (c > 0)
                Assert.That(GcSizeClasses.CellSize(c - 1), Is.LessThan(size), "size " + size + " could use a smaller class");
        }
    }

    [Test]
    public void WasteIsBelowAQuarterOfTheObject()
    {
        for (int size = 24; size <= GcSizeClasses.MaximumSmall; size += 8)
        {
            int cell = GcSizeClasses.CellSize(GcSizeClasses.ClassOf(size));
            Assert.That(cell - size, Is.LessThanOrEqualTo(size / 4 + 8), "size " + size);
        }
    }

    [Test]
    public void EveryClassFitsThreeCellsAndItsMarkBitsInABlock()
    {
        for (int c = 0; c < GcSizeClasses.Count; c++)
        {
            Assert.That(GcSizeClasses.CellsPerBlock(c), Is.GreaterThanOrEqualTo(3), "class " + c);
            Assert.That(GcSizeClasses.CellsPerBlock(c), Is.LessThanOrEqualTo(32 * 64), "class " + c + ": more cells than the 32 mark words hold");
        }
        // GcBlock: 64 bytes of fields, then 32 mark words.
        Assert.That(GcSizeClasses.BlockHeaderSize, Is.GreaterThanOrEqualTo(64 + 32 * 8));
        Assert.That(GcSizeClasses.BlockHeaderSize % 8, Is.EqualTo(0));
    }

    [Test]
    public void AllocationFastPathAgreesOnTheConstants()
    {
        string source = File.ReadAllText(Path.Combine(RepositoryRoot(), "Aegis.Runtime", "Native", "gc.S"));
        Assert.That(Define(source, "GC_MAX_SMALL"), Is.EqualTo(GcSizeClasses.MaximumSmall));
        Assert.That(Define(source, "GC_CLASS_COUNT"), Is.EqualTo(GcSizeClasses.Count));
    }

    private static int Define(string source, string name)
    {
        Match match = Regex.Match(source, @"#define\s+" + name + @"\s+(\d+)");
        Assert.That(match.Success, Is.True, name + " is not defined in gc.S");
        return int.Parse(match.Groups[1].Value);
    }

    private static string RepositoryRoot()
    {
        string directory = TestContext.CurrentContext.TestDirectory;
        while (directory != null && !File.Exists(Path.Combine(directory, "Aegis.sln")))
            directory = Path.GetDirectoryName(directory);
        Assert.That(directory, Is.Not.Null, "repository root (Aegis.sln) not found");
        return directory;
    }
}
