// Mark-bitmap runs (Aegis.Runtime/Internal/Runtime/GcBitmap.cs): the allocator hands out the runs
// of clear bits (free cells) between set ones (live cells); counts and searches cross word
// boundaries and stop at the block's cell count.
using Internal.Runtime;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public unsafe class GcBitmapTests
{
    private static ulong[] Bits(int count, params int[] set)
    {
        ulong[] bits = new ulong[(count + 63) / 64 + 1];
        foreach (int index in set)
            bits[index >> 6] |= 1UL << (index & 63);
        return bits;
    }

    [Test]
    public void FreeRunsAreTheGapsBetweenLiveCells()
    {
        ulong[] bits = Bits(200, 0, 1, 5, 63, 64, 130);
        fixed (ulong* p = bits)
        {
            var runs = new List<(int, int)>();
            int from = 0;
            while (true)
            {
                int start = GcBitmap.NextClearRun(p, 200, from, out int end);
                if (start < 0) break;
                runs.Add((start, end));
                from = end;
            }
            Assert.That(runs, Is.EqualTo(new[] { (2, 5), (6, 63), (65, 130), (131, 200) }));
        }
    }

    [Test]
    public void AFullBitmapHasNoFreeRunAndAnEmptyOneIsOneRun()
    {
        ulong[] full = new ulong[3] { ulong.MaxValue, ulong.MaxValue, 0 };
        ulong[] empty = new ulong[3];
        fixed (ulong* f = full)
        fixed (ulong* e = empty)
        {
            Assert.That(GcBitmap.NextClearRun(f, 128, 0, out _), Is.EqualTo(-1));
            Assert.That(GcBitmap.NextClearRun(e, 150, 0, out int end), Is.EqualTo(0));
            Assert.That(end, Is.EqualTo(150));
            Assert.That(GcBitmap.NextClearRun(e, 150, 150, out _), Is.EqualTo(-1));
        }
    }

    [Test]
    public void FindStopsAtTheCountEvenIfLaterBitsMatch()
    {
        ulong[] bits = Bits(70, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        fixed (ulong* p = bits)
        {
            Assert.That(GcBitmap.Find(p, 10, 0, false), Is.EqualTo(-1));
            Assert.That(GcBitmap.Find(p, 11, 0, false), Is.EqualTo(10));
        }
    }

    [Test]
    public void EverySingleBitIsFoundAndCounted()
    {
        for (int index = 0; index < 128; index++)
        {
            ulong[] bits = Bits(128, index);
            fixed (ulong* p = bits)
            {
                Assert.That(GcBitmap.Find(p, 128, 0, true), Is.EqualTo(index), "bit " + index);
                Assert.That(GcBitmap.Test(p, index), Is.True);
                Assert.That(GcBitmap.Count(p, 128), Is.EqualTo(1));
            }
        }
    }

    [Test]
    public void CountIgnoresBitsPastTheCount()
    {
        ulong[] bits = new ulong[2] { ulong.MaxValue, ulong.MaxValue };
        fixed (ulong* p = bits)
        {
            Assert.That(GcBitmap.Count(p, 100), Is.EqualTo(100));
            Assert.That(GcBitmap.Count(p, 64), Is.EqualTo(64));
            Assert.That(GcBitmap.Count(p, 3), Is.EqualTo(3));
        }
    }

    [Test]
    public void SetMarksOnlyItsBit()
    {
        ulong[] bits = new ulong[2];
        fixed (ulong* p = bits)
        {
            GcBitmap.Set(p, 70);
            Assert.That(bits[0], Is.EqualTo(0UL));
            Assert.That(bits[1], Is.EqualTo(1UL << 6));
            Assert.That(GcBitmap.PopCount(0xF0F0UL), Is.EqualTo(8));
        }
    }
}
