// The on-disk extent table (Aegis.Kernel/Core/Block/ExtentTable.cs; docs/disks.md): allocation,
// freeing, both copies and what a damaged or hostile table gives at load.
using System.Text;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Block;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class ExtentTableTests
{
    private static byte[] Name(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Both copies of 'table' as its next two writes make them (A then B).</summary>
    private static (byte[] A, byte[] B) Written(ExtentTable table)
    {
        byte[] a = new byte[ExtentTable.CopyBytes], b = new byte[ExtentTable.CopyBytes];
        for (int round = 0; round < 2; round++)
        {
            byte[] copy = new byte[ExtentTable.CopyBytes];
            int which = table.WriteNext(copy);
            table.Commit();
            if (which == 0) a = copy; else b = copy;
        }
        return (a, b);
    }

    [Test]
    public void AllocationTakesTheLowestFreeRunAndFreeingMakesRoom()
    {
        var table = new ExtentTable();
        table.Format(100_000);
        Assert.That(table.Allocate(1000, Name("a"), out int a), Is.EqualTo(Error.None));
        Assert.That(table.Allocate(2000, Name("b"), out int b), Is.EqualTo(Error.None));
        Assert.That(table.StartOf(a), Is.EqualTo(BlockLimits.FirstExtentSector));
        Assert.That(table.StartOf(b), Is.EqualTo(BlockLimits.FirstExtentSector + 1000));
        uint generation = table.GenerationOf(a);
        table.Free(a);
        Assert.That(table.GenerationOf(a), Is.Not.EqualTo(generation), "an old capability must not name the next extent in the slot");
        Assert.That(table.Allocate(500, Name("c"), out int c), Is.EqualTo(Error.None));
        Assert.That(table.StartOf(c), Is.EqualTo(BlockLimits.FirstExtentSector), "the hole a left");
        Assert.That(table.Allocate(600, Name("d"), out int d), Is.EqualTo(Error.None));
        Assert.That(table.StartOf(d), Is.EqualTo(BlockLimits.FirstExtentSector + 3000), "600 does not fit in the 500 left of the hole");
        Assert.That(table.FreeSectors, Is.EqualTo(100_000 - BlockLimits.FirstExtentSector - 3100));
    }

    [Test]
    public void AllocationRefusesBadNamesTakenNamesAndWhatDoesNotFit()
    {
        var table = new ExtentTable();
        table.Format(10_000);
        Assert.That(table.Allocate(10, Name("x"), out _), Is.EqualTo(Error.None));
        Assert.That(table.Allocate(10, Name("x"), out _), Is.EqualTo(Error.Busy));
        Assert.That(table.Allocate(10, Name(""), out _), Is.EqualTo(Error.InvalidArgument));
        Assert.That(table.Allocate(10, new byte[] { (byte)'a', 0, (byte)'b' }, out _), Is.EqualTo(Error.InvalidArgument));
        Assert.That(table.Allocate(10, Name(new string('n', BlockLimits.NameBytes + 1)), out _), Is.EqualTo(Error.InvalidArgument));
        Assert.That(table.Allocate(0, Name("z"), out _), Is.EqualTo(Error.InvalidArgument));
        Assert.That(table.Allocate(10_000, Name("big"), out _), Is.EqualTo(Error.NoMemory));
        Assert.That(table.Allocate(ulong.MaxValue, Name("huge"), out _), Is.EqualTo(Error.NoMemory), "no overflow past the disk's end");
        for (int i = 1; i < ExtentTable.Records; i++)
            Assert.That(table.Allocate(1, Name("e" + i), out _), Is.EqualTo(Error.None));
        Assert.That(table.Allocate(1, Name("one-too-many"), out _), Is.EqualTo(Error.NoMemory), "64 records");
    }

    [Test]
    public void TheNewerValidCopyIsLoadedAndADamagedOneIsSkipped()
    {
        var table = new ExtentTable();
        table.Format(50_000);
        table.Allocate(100, Name("first"), out _);
        var (a1, b1) = Written(table); // A: sequence 1, B: sequence 2, same records
        table.Allocate(200, Name("second"), out _);
        byte[] a2 = new byte[ExtentTable.CopyBytes];
        Assert.That(table.WriteNext(a2), Is.EqualTo(0), "the next write goes to the copy not in use (A)");
        table.Commit();

        var loaded = new ExtentTable();
        Assert.That(loaded.TryLoad(a2, b1, 50_000, out string problem), Is.True, problem);
        Assert.That(loaded.Sequence, Is.EqualTo(3));
        Assert.That(loaded.Find(Name("second")), Is.GreaterThanOrEqualTo(0));

        a2[ExtentTable.CopyBytes - 1] ^= 1; // a torn write of A: B (older) is read
        Assert.That(loaded.TryLoad(a2, b1, 50_000, out problem), Is.True, problem);
        Assert.That(loaded.Sequence, Is.EqualTo(2));
        Assert.That(loaded.Find(Name("second")), Is.EqualTo(-1));
        Assert.That(loaded.Find(Name("first")), Is.GreaterThanOrEqualTo(0));

        b1[600] ^= 0x40;
        Assert.That(loaded.TryLoad(a2, b1, 50_000, out problem), Is.False);
        Assert.That(problem, Does.Contain("checksum mismatch"));
        Assert.That(loaded.Count, Is.EqualTo(0), "nothing is usable from a table that failed");
    }

    /// <summary>A copy with a checksum that matches (so the checks behind it are what refuses).</summary>
    private static byte[] Forged(Action<byte[]> change, ulong diskSectors = 50_000)
    {
        var table = new ExtentTable();
        table.Format(diskSectors);
        table.Allocate(100, Name("one"), out _);
        table.Allocate(100, Name("two"), out _);
        byte[] copy = new byte[ExtentTable.CopyBytes];
        table.WriteNext(copy);
        change(copy);
        LittleEndian.WriteUInt64(copy, 48, ExtentTable.Checksum(copy));
        return copy;
    }

    [TestCase("overlap", "overlap")]
    [TestCase("outside", "outside the disk")]
    [TestCase("wrap", "outside the disk")]
    [TestCase("below", "outside the disk")]
    [TestCase("same-name", "the same name")]
    [TestCase("no-name", "has no name")]
    [TestCase("flags", "unknown flags")]
    [TestCase("bigger-disk", "written for a disk of")]
    [TestCase("version", "unknown version")]
    public void AHostileTableIsRefusedWithAReason(string damage, string reason)
    {
        const int second = 512 + 64; // record 1
        byte[] copy = Forged(c =>
        {
            switch (damage)
            {
                case "overlap": LittleEndian.WriteUInt64(c, second, BlockLimits.FirstExtentSector + 50); break;
                case "outside": LittleEndian.WriteUInt64(c, second + 8, 1UL << 40); break;
                case "wrap": LittleEndian.WriteUInt64(c, second + 8, ulong.MaxValue - 10); break;
                case "below": LittleEndian.WriteUInt64(c, second, 5); break;
                case "same-name": c[second + 24] = (byte)'o'; c[second + 25] = (byte)'n'; c[second + 26] = (byte)'e'; break;
                case "no-name": Array.Clear(c, second + 24, BlockLimits.NameBytes); break;
                case "flags": c[second + 20] = 3; break;
                case "bigger-disk": LittleEndian.WriteUInt64(c, 24, 60_000); break;
                case "version": c[8] = 2; break;
            }
        });
        Assert.That(ExtentTable.Check(copy, 50_000, out _, out string problem), Is.False);
        Assert.That(problem, Does.Contain(reason));
    }

    [Test]
    public void RandomDamageNeverThrows()
    {
        var random = new Random(11);
        byte[] good = Forged(_ => { });
        var table = new ExtentTable();
        for (int round = 0; round < 2000; round++)
        {
            byte[] copy = (byte[])good.Clone();
            for (int flips = random.Next(1, 8); flips > 0; flips--)
                copy[random.Next(copy.Length)] = (byte)random.Next(256);
            if (random.Next(2) == 0) LittleEndian.WriteUInt64(copy, 48, ExtentTable.Checksum(copy)); // past the checksum
            table.TryLoad(copy, new byte[ExtentTable.CopyBytes], 50_000, out _);
            for (int i = 0; i < ExtentTable.Records; i++)
                if (table.IsInUse(i))
                    Assert.That(table.StartOf(i) + table.SectorsOf(i), Is.LessThanOrEqualTo(50_000UL));
        }
    }
}
