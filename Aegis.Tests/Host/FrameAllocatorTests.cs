using System.Diagnostics;
using Aegis.Kernel.Core;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class FrameAllocatorTests
{
    private static ulong CountFreeBits(FrameAllocator frames)
    {
        ulong count = 0;
        for (ulong frame = 0; frame < frames.FrameLimit; frame++)
            if (frames.IsFree(frame)) count++;
        return count;
    }

    [Test]
    public void NewAllocatorHasNoFrames()
    {
        FrameAllocator frames = new(1000);
        Assert.That(frames.FreeFrames, Is.Zero);
        Assert.That(frames.TotalFrames, Is.Zero);
        Assert.That(frames.FrameLimit, Is.EqualTo(1000UL));
        Assert.That(frames.TryAllocate(out _), Is.False);
        Assert.That(frames.IsFree(0), Is.False);
    }

    [Test]
    public void BitmapFor4GiBIs128KiB()
    {
        FrameAllocator frames = new(4UL * 1024 * 1024 * 1024 / FrameAllocator.FrameSize);
        ulong[] bits = (ulong[])typeof(FrameAllocator).GetField("_freeBits", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(frames)!;
        Assert.That(bits.Length * sizeof(ulong), Is.EqualTo(128 * 1024));
    }

    [Test]
    public void AddFreeRangeMakesFramesFreeAndCountsThem()
    {
        FrameAllocator frames = new(1000);
        Assert.That(frames.AddFreeRange(10, 100), Is.EqualTo(100UL));
        Assert.That(frames.FreeFrames, Is.EqualTo(100UL));
        Assert.That(frames.TotalFrames, Is.EqualTo(100UL));
        Assert.That(frames.IsFree(9), Is.False);
        Assert.That(frames.IsFree(10), Is.True);
        Assert.That(frames.IsFree(109), Is.True);
        Assert.That(frames.IsFree(110), Is.False);
        Assert.That(CountFreeBits(frames), Is.EqualTo(100UL));
    }

    [Test]
    public void AddingOverlappingRangesCountsEachFrameOnce()
    {
        FrameAllocator frames = new(1000);
        frames.AddFreeRange(100, 100);
        frames.AddFreeRange(300, 100);
        Assert.That(frames.AddFreeRange(50, 400), Is.EqualTo(200UL));
        Assert.That(frames.TotalFrames, Is.EqualTo(400UL));
        Assert.That(frames.FreeFrames, Is.EqualTo(400UL));
        Assert.That(CountFreeBits(frames), Is.EqualTo(400UL));
    }

    [Test]
    public void ReAddingAnAllocatedFrameDoesNotFreeIt()
    {
        FrameAllocator frames = new(1000);
        frames.AddFreeRange(0, 10);
        Assert.That(frames.TryAllocateSpecific(5), Is.True);
        Assert.That(frames.AddFreeRange(0, 10), Is.Zero);
        Assert.That(frames.IsFree(5), Is.False);
        Assert.That(frames.FreeFrames, Is.EqualTo(9UL));
    }

    [Test]
    public void AddFreeRangeIsClippedAtTheLimit()
    {
        FrameAllocator frames = new(100);
        Assert.That(frames.AddFreeRange(90, 50), Is.EqualTo(10UL));
        Assert.That(frames.AddFreeRange(100, 5), Is.Zero);
        Assert.That(frames.AddFreeRange(95, ulong.MaxValue), Is.Zero);
        Assert.That(frames.AddFreeRange(5, 0), Is.Zero);
        Assert.That(frames.TotalFrames, Is.EqualTo(10UL));
    }

    [Test]
    public void AllocationHandsOutLowestFramesInOrder()
    {
        FrameAllocator frames = new(1000);
        frames.AddFreeRange(60, 200);
        for (ulong expected = 60; expected < 260; expected++)
        {
            Assert.That(frames.TryAllocate(out ulong frame), Is.True);
            Assert.That(frame, Is.EqualTo(expected));
        }
        Assert.That(frames.TryAllocate(out _), Is.False);
        Assert.That(frames.FreeFrames, Is.Zero);
    }

    [Test]
    public void NextFitWrapsAroundToFreedFrames()
    {
        FrameAllocator frames = new(1000);
        frames.AddFreeRange(0, 200);
        for (int i = 0; i < 150; i++) frames.TryAllocate(out _);
        Assert.That(frames.Free(3), Is.EqualTo(FrameFreeResult.Ok));
        for (int i = 0; i < 50; i++)
        {
            Assert.That(frames.TryAllocate(out ulong frame), Is.True);
            Assert.That(frame, Is.GreaterThanOrEqualTo(150UL));
        }
        Assert.That(frames.TryAllocate(out ulong wrapped), Is.True);
        Assert.That(wrapped, Is.EqualTo(3UL));
    }

    [Test]
    public void AllocatingANamedFreeFrameSucceedsOnce()
    {
        FrameAllocator frames = new(1000);
        frames.AddFreeRange(0, 100);
        Assert.That(frames.TryAllocateSpecific(42), Is.True);
        Assert.That(frames.TryAllocateSpecific(42), Is.False);
        Assert.That(frames.IsFree(42), Is.False);
        Assert.That(frames.FreeFrames, Is.EqualTo(99UL));
    }

    [Test]
    public void AllocatingANamedUnusableFrameFails()
    {
        FrameAllocator frames = new(1000);
        frames.AddFreeRange(0, 100);
        Assert.That(frames.TryAllocateSpecific(500), Is.False);
        Assert.That(frames.TryAllocateSpecific(1000), Is.False);
        Assert.That(frames.TryAllocateSpecific(ulong.MaxValue), Is.False);
        Assert.That(frames.FreeFrames, Is.EqualTo(100UL));
    }

    [Test]
    public void ContiguousAllocationSpansWords()
    {
        FrameAllocator frames = new(1000);
        frames.AddFreeRange(10, 500);
        Assert.That(frames.TryAllocateContiguous(300, out ulong first), Is.True);
        Assert.That(first, Is.EqualTo(10UL));
        for (ulong frame = 10; frame < 310; frame++) Assert.That(frames.IsFree(frame), Is.False);
        Assert.That(frames.IsFree(310), Is.True);
        Assert.That(frames.FreeFrames, Is.EqualTo(200UL));
        Assert.That(CountFreeBits(frames), Is.EqualTo(200UL));
    }

    [Test]
    public void ContiguousAllocationSkipsRunsThatAreTooShort()
    {
        FrameAllocator frames = new(1000);
        frames.AddFreeRange(0, 30);
        frames.AddFreeRange(40, 100);
        frames.AddFreeRange(200, 300);
        frames.TryAllocateSpecific(100);
        Assert.That(frames.TryAllocateContiguous(80, out ulong first), Is.True);
        Assert.That(first, Is.EqualTo(200UL));
        Assert.That(frames.TryAllocateContiguous(60, out first), Is.True);
        Assert.That(first, Is.EqualTo(40UL));
        Assert.That(frames.TryAllocateContiguous(30, out first), Is.True);
        Assert.That(first, Is.EqualTo(0UL));
    }

    [Test]
    public void ContiguousAllocationFailsWhenFragmented()
    {
        FrameAllocator frames = new(256);
        frames.AddFreeRange(0, 256);
        for (ulong frame = 0; frame < 256; frame += 2) frames.TryAllocateSpecific(frame);
        Assert.That(frames.TryAllocateContiguous(2, out _), Is.False);
        Assert.That(frames.TryAllocateContiguous(1, out ulong single), Is.True);
        Assert.That(single, Is.EqualTo(1UL));
        Assert.That(frames.FreeFrames, Is.EqualTo(127UL));
    }

    [Test]
    public void ContiguousAllocationOfZeroOrTooManyFails()
    {
        FrameAllocator frames = new(100);
        frames.AddFreeRange(0, 100);
        Assert.That(frames.TryAllocateContiguous(0, out _), Is.False);
        Assert.That(frames.TryAllocateContiguous(101, out _), Is.False);
        Assert.That(frames.TryAllocateContiguous(100, out ulong first), Is.True);
        Assert.That(first, Is.Zero);
        Assert.That(frames.FreeFrames, Is.Zero);
    }

    [Test]
    public void FreeingAnAllocatedFrameReturnsOk()
    {
        FrameAllocator frames = new(100);
        frames.AddFreeRange(0, 100);
        frames.TryAllocate(out ulong frame);
        Assert.That(frames.Free(frame), Is.EqualTo(FrameFreeResult.Ok));
        Assert.That(frames.IsFree(frame), Is.True);
        Assert.That(frames.FreeFrames, Is.EqualTo(100UL));
    }

    [Test]
    public void FreeingAFreeFrameIsADoubleFree()
    {
        FrameAllocator frames = new(100);
        frames.AddFreeRange(0, 100);
        frames.TryAllocate(out ulong frame);
        frames.Free(frame);
        Assert.That(frames.Free(frame), Is.EqualTo(FrameFreeResult.DoubleFree));
        Assert.That(frames.Free(50), Is.EqualTo(FrameFreeResult.DoubleFree));
        Assert.That(frames.FreeFrames, Is.EqualTo(100UL));
    }

    [Test]
    public void FreeingAFrameThatWasNeverUsableIsRefused()
    {
        FrameAllocator frames = new(1000);
        frames.AddFreeRange(0, 100);
        frames.AddFreeRange(200, 100);
        Assert.That(frames.Free(150), Is.EqualTo(FrameFreeResult.NeverUsable));
        Assert.That(frames.Free(999), Is.EqualTo(FrameFreeResult.NeverUsable));
        Assert.That(frames.Free(1000), Is.EqualTo(FrameFreeResult.NeverUsable));
        Assert.That(frames.Free(ulong.MaxValue), Is.EqualTo(FrameFreeResult.NeverUsable));
        Assert.That(frames.IsFree(150), Is.False);
        Assert.That(frames.FreeFrames, Is.EqualTo(200UL));
    }

    [Test]
    public void UsableFramesAreKnownWhetherFreeOrAllocated()
    {
        FrameAllocator frames = new(1000);
        frames.AddFreeRange(100, 50);
        frames.AddFreeRange(150, 50);
        frames.AddFreeRange(300, 1);
        frames.TryAllocateSpecific(120);
        Assert.That(frames.IsUsable(99), Is.False);
        Assert.That(frames.IsUsable(100), Is.True);
        Assert.That(frames.IsUsable(120), Is.True);
        Assert.That(frames.IsUsable(199), Is.True);
        Assert.That(frames.IsUsable(200), Is.False);
        Assert.That(frames.IsUsable(300), Is.True);
        Assert.That(frames.IsUsable(301), Is.False);
    }

    [Test]
    public void RandomOperationsKeepTheCountsExact()
    {
        const ulong limit = 2000;
        Random random = new(20261126);
        FrameAllocator frames = new(limit);
        HashSet<ulong> usable = new();
        HashSet<ulong> free = new();

        for (int step = 0; step < 20000; step++)
        {
            ulong frame = (ulong)random.Next(0, (int)limit + 10);
            switch (random.Next(6))
            {
                case 0:
                    ulong count = (ulong)random.Next(0, 70);
                    ulong added = frames.AddFreeRange(frame, count);
                    ulong expectedAdded = 0;
                    for (ulong f = frame; f < frame + count && f < limit; f++)
                        if (usable.Add(f)) { free.Add(f); expectedAdded++; }
                    Assert.That(added, Is.EqualTo(expectedAdded));
                    break;
                case 1:
                case 2:
                    if (frames.TryAllocate(out ulong allocated))
                        Assert.That(free.Remove(allocated), Is.True, "allocated a frame that was not free");
                    else
                        Assert.That(free, Is.Empty);
                    break;
                case 3:
                    Assert.That(frames.TryAllocateSpecific(frame), Is.EqualTo(free.Remove(frame)));
                    break;
                case 4:
                    FrameFreeResult expected = !usable.Contains(frame) ? FrameFreeResult.NeverUsable
                        : free.Contains(frame) ? FrameFreeResult.DoubleFree : FrameFreeResult.Ok;
                    Assert.That(frames.Free(frame), Is.EqualTo(expected));
                    if (expected == FrameFreeResult.Ok) free.Add(frame);
                    break;
                case 5:
                    ulong run = (ulong)random.Next(1, 20);
                    if (frames.TryAllocateContiguous(run, out ulong first))
                    {
                        for (ulong f = first; f < first + run; f++)
                            Assert.That(free.Remove(f), Is.True, "contiguous run held a frame that was not free");
                    }
                    break;
            }
            Assert.That(frames.FreeFrames, Is.EqualTo((ulong)free.Count));
            Assert.That(frames.TotalFrames, Is.EqualTo((ulong)usable.Count));
        }

        for (ulong frame = 0; frame < limit; frame++)
        {
            Assert.That(frames.IsFree(frame), Is.EqualTo(free.Contains(frame)), "frame " + frame);
            Assert.That(frames.IsUsable(frame), Is.EqualTo(usable.Contains(frame)), "frame " + frame);
        }
        Assert.That(CountFreeBits(frames), Is.EqualTo(frames.FreeFrames));
    }

    [Test]
    public void SequentialAllocationOfA4GiBMachineIsFast()
    {
        const ulong frameCount = 1UL << 20;
        FrameAllocator frames = new(frameCount);
        frames.AddFreeRange(256, frameCount - 256);
        Stopwatch watch = Stopwatch.StartNew();
        ulong allocated = 0;
        while (frames.TryAllocate(out _)) allocated++;
        watch.Stop();
        Assert.That(allocated, Is.EqualTo(frameCount - 256));
        Assert.That(watch.ElapsedMilliseconds, Is.LessThan(2000));
    }
}
