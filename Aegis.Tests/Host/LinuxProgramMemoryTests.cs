using Aegis.LibOS.Unixish.Linux;
using NUnit.Framework;

namespace Aegis.Tests.Host;

/// <summary>The Linux personality's area table (LibOS.Unixish/Linux/ProgramMemory.cs).</summary>
public class LinuxProgramMemoryTests
{
    private const ulong Page = 4096;

    private static Area Anonymous(ulong start, ulong end, int protection = Protection.Read | Protection.Write)
        => new Area { Start = start, End = end, Protection = protection, Kind = AreaKind.Anonymous };

    private static ProgramMemory WithLibOS()
    {
        var memory = new ProgramMemory();
        Assert.That(memory.Insert(new Area { Start = 0x6000_0000, End = 0x6010_0000, Kind = AreaKind.LibOS }), Is.True);
        return memory;
    }

    [Test]
    public void InsertRefusesOverlapsAndRangesOutsideTheWindow()
    {
        var memory = new ProgramMemory();
        Assert.That(memory.Insert(Anonymous(0x40_0000, 0x40_3000)), Is.True);
        Assert.That(memory.Insert(Anonymous(0x40_2000, 0x40_4000)), Is.False, "overlap");
        Assert.That(memory.Insert(Anonymous(0x3F_F000, 0x40_1000)), Is.False, "overlap from below");
        Assert.That(memory.Insert(Anonymous(0x40_3000, 0x40_4000, Protection.Read)), Is.True, "adjacent is fine");
        Assert.That(memory.Insert(Anonymous(0, 0x1000)), Is.False, "below the window");
        Assert.That(memory.Insert(Anonymous(ProgramMemory.WindowHigh, ProgramMemory.WindowHigh + Page)), Is.False, "above the window");
        Assert.That(memory.Insert(Anonymous(0x50_0000, 0x50_0800)), Is.False, "not page-aligned");
        Assert.That(memory.Count, Is.EqualTo(2));
        Assert.That(memory.IndexOf(0x40_2FFF), Is.EqualTo(0));
        Assert.That(memory.IndexOf(0x40_3000), Is.EqualTo(1));
        Assert.That(memory.IndexOf(0x40_4000), Is.EqualTo(-1));
    }

    [Test]
    public void FindFreeIsTopDownBelowMmapTopAndHonoursAFreeHint()
    {
        var memory = WithLibOS();
        ulong first = memory.FindFree(4 * Page, 0);
        Assert.That(first, Is.EqualTo(ProgramMemory.MmapTop - 4 * Page));
        Assert.That(memory.Insert(Anonymous(first, first + 4 * Page)), Is.True);
        ulong second = memory.FindFree(Page, 0);
        Assert.That(second, Is.EqualTo(first - Page), "the next one goes right below");
        Assert.That(memory.FindFree(Page, 0x7000_0000), Is.EqualTo(0x7000_0000UL), "a free hint is taken");
        Assert.That(memory.FindFree(Page, 0x6000_0000), Is.EqualTo(first - Page), "a hint on the libOS is not");
        Assert.That(memory.FindFree(Page, first + Page), Is.EqualTo(first - Page), "a hint on a used range is not");
        Assert.That(memory.FindFree(0, 0), Is.EqualTo(0UL));
        Assert.That(memory.FindFree(ProgramMemory.WindowHigh, 0), Is.EqualTo(0UL), "nothing that large is free");
    }

    [Test]
    public void FindFreeSkipsAreasStraddlingMmapTop()
    {
        var memory = new ProgramMemory();
        Assert.That(memory.Insert(Anonymous(ProgramMemory.MmapTop - 2 * Page, ProgramMemory.MmapTop + 2 * Page)), Is.True);
        Assert.That(memory.FindFree(Page, 0), Is.EqualTo(ProgramMemory.MmapTop - 3 * Page));
    }

    [Test]
    public void RemoveSplitsAreasAndReportsThePiecesTaken()
    {
        var memory = new ProgramMemory();
        memory.Insert(Anonymous(0x40_0000, 0x41_0000));
        var removed = new List<Area>();
        Assert.That(memory.Remove(0x40_4000, 0x40_8000, removed), Is.True);
        Assert.That(memory.Count, Is.EqualTo(2));
        Assert.That(memory[0].End, Is.EqualTo(0x40_4000UL));
        Assert.That(memory[1].Start, Is.EqualTo(0x40_8000UL));
        Assert.That(removed.Count, Is.EqualTo(1));
        Assert.That(removed[0].Start, Is.EqualTo(0x40_4000UL));
        Assert.That(removed[0].End, Is.EqualTo(0x40_8000UL));
        Assert.That(memory.IsFree(0x40_4000, 0x40_8000), Is.True);
    }

    [Test]
    public void NothingOfTheLibOSCanBeRemovedOrProtected()
    {
        var memory = WithLibOS();
        memory.Insert(Anonymous(0x5FF0_0000, 0x6000_0000));
        Assert.That(memory.Remove(0x5FF0_0000, 0x6000_1000, null), Is.False);
        Assert.That(memory.Count, Is.EqualTo(2), "nothing changed");
        Assert.That(memory.Protect(0x5FF0_0000, 0x6000_1000, Protection.Read), Is.False);
        Assert.That(memory.TouchesLibOS(0x5FFF_F000, 0x6000_1000), Is.True);
        Assert.That(memory.IsAccessible(0x6000_0000, 1, false), Is.False, "the program cannot hand the libOS's memory in");
    }

    [Test]
    public void ProtectSplitsAndMergesBack()
    {
        var memory = new ProgramMemory();
        memory.Insert(Anonymous(0x40_0000, 0x40_4000));
        Assert.That(memory.Protect(0x40_1000, 0x40_2000, Protection.Read), Is.True);
        Assert.That(memory.Count, Is.EqualTo(3));
        Assert.That(memory.IsAccessible(0x40_1000, Page, true), Is.False, "read-only now");
        Assert.That(memory.IsAccessible(0x40_1000, Page, false), Is.True);
        Assert.That(memory.Protect(0x40_1000, 0x40_2000, Protection.Read | Protection.Write), Is.True);
        Assert.That(memory.Count, Is.EqualTo(1), "identical neighbours join again");
        Assert.That(memory.Protect(0x40_3000, 0x40_5000, Protection.Read), Is.False, "not all mapped: ENOMEM, nothing changed");
        Assert.That(memory.Count, Is.EqualTo(1));
    }

    /// <summary>IsAccessible remembers the last area a range was found in (the signal frame's and
    /// system-call buffers' hot path): every change of the table must forget it.</summary>
    [Test]
    public void AccessCheckForgetsItsLastHitWhenTheTableChanges()
    {
        var memory = new ProgramMemory();
        memory.Insert(Anonymous(0x40_0000, 0x40_4000));
        Assert.That(memory.IsAccessible(0x40_1000, 16, true), Is.True, "the hit is remembered");
        Assert.That(memory.Protect(0x40_0000, 0x40_4000, Protection.Read), Is.True);
        Assert.That(memory.IsAccessible(0x40_1000, 16, true), Is.False, "mprotect read-only: no longer writable");
        Assert.That(memory.IsAccessible(0x40_1000, 16, false), Is.True);
        Assert.That(memory.Remove(0x40_1000, 0x40_2000, null), Is.True);
        Assert.That(memory.IsAccessible(0x40_1000, 16, false), Is.False, "munmap: gone");
        Assert.That(memory.IsAccessible(0x40_0000, 16, false), Is.True);
        Assert.That(memory.IsAccessible(0x40_3000, 16, true), Is.False, "still read-only");
        Assert.That(memory.IsAccessible(0x40_3000, 16, false), Is.True);
        Assert.That(memory.Resize(memory.IndexOf(0x40_3000), 0x40_3000), Is.True);
        Assert.That(memory.IsAccessible(0x40_3000, 16, false), Is.False, "a shrunk area (brk, mremap)");
        Assert.That(memory.IsAccessible(0x40_2000, 16, false), Is.True);
        memory.Insert(Anonymous(0x50_0000, 0x50_2000));
        Assert.That(memory.IsAccessible(0x50_0000, 2 * Page, true), Is.True);
        memory.Clear(null);
        Assert.That(memory.IsAccessible(0x50_0000, 16, false), Is.False, "execve: every area gone");
        memory.Insert(Anonymous(0x50_0000, 0x50_1000));
        Assert.That(memory.IsAccessible(0x50_0000, 2 * Page, false), Is.False, "a hit never covers more than the area has now");
        Assert.That(memory.IsAccessible(ulong.MaxValue - 4, 16, false), Is.False, "wrapping around, after hits");
        // Two areas remembered: alternating between them, each answer still follows the table.
        memory.Insert(Anonymous(0x60_0000, 0x60_1000, Protection.Read));
        for (int i = 0; i < 3; i++)
        {
            Assert.That(memory.IsAccessible(0x50_0000, 8, true), Is.True);
            Assert.That(memory.IsAccessible(0x60_0000, 8, false), Is.True);
            Assert.That(memory.IsAccessible(0x60_0000, 8, true), Is.False, "the second area is read-only");
        }
        Assert.That(memory.Protect(0x50_0000, 0x50_1000, Protection.Read), Is.True);
        Assert.That(memory.IsAccessible(0x50_0000, 8, true), Is.False, "forgotten: both entries");
        Assert.That(memory.Remove(0x60_0000, 0x60_1000, null), Is.True);
        Assert.That(memory.IsAccessible(0x60_0000, 8, false), Is.False);
    }

    [Test]
    public void AccessChecksFollowProtectionsAndGaps()
    {
        var memory = new ProgramMemory();
        memory.Insert(Anonymous(0x40_0000, 0x40_2000));
        memory.Insert(Anonymous(0x40_2000, 0x40_3000, Protection.None));
        memory.Insert(Anonymous(0x40_4000, 0x40_5000, Protection.Read));
        Assert.That(memory.IsAccessible(0x40_0000, 2 * Page, true), Is.True);
        Assert.That(memory.IsAccessible(0x40_1FFF, 2, false), Is.False, "into PROT_NONE");
        Assert.That(memory.IsAccessible(0x40_3FFF, 2, false), Is.False, "from a gap");
        Assert.That(memory.IsAccessible(0x40_4000, 8, true), Is.False, "writing read-only");
        Assert.That(memory.IsAccessible(0x40_4000, 8, false), Is.True);
        Assert.That(memory.IsAccessible(ulong.MaxValue - 4, 16, false), Is.False, "wrapping around");
        Assert.That(memory.IsAccessible(0, 0, true), Is.True, "length 0");
        Assert.That(memory.IsCovered(0x40_0000, 0x40_3000, Protection.None), Is.True);
        Assert.That(memory.IsCovered(0x40_0000, 0x40_5000, Protection.None), Is.False);
    }

    /// <summary>mremap over areas a MAP_FIXED split failed with EFAULT: the table kept three areas
    /// where Linux has one VMA. Compatible anonymous neighbours merge on insert and resize.</summary>
    [Test]
    public void APageMappedBackIntoTheMiddleJoinsItsNeighbours()
    {
        var memory = WithLibOS();
        memory.Insert(Anonymous(0x40_0000, 0x40_4000));
        memory.Remove(0x40_2000, 0x40_3000, null);
        Assert.That(memory.Count, Is.EqualTo(3), "libOS and two pieces");
        Assert.That(memory.Insert(Anonymous(0x40_2000, 0x40_3000)), Is.True);
        int index = memory.IndexOf(0x40_0000);
        Assert.That((memory[index].Start, memory[index].End), Is.EqualTo((0x40_0000UL, 0x40_4000UL)), "one area again");
        Assert.That(memory.Count, Is.EqualTo(2));

        // Not merged: another protection, a shared area, another kind.
        memory.Insert(Anonymous(0x40_4000, 0x40_5000, Protection.Read));
        memory.Insert(new Area { Start = 0x40_5000, End = 0x40_6000, Protection = Protection.Read, Kind = AreaKind.Anonymous, Shared = true });
        memory.Insert(new Area { Start = 0x40_6000, End = 0x40_7000, Protection = Protection.Read, Kind = AreaKind.Heap, Name = "[heap]" });
        Assert.That(memory.Count, Is.EqualTo(5));

        // Growing an area up to a compatible neighbour joins them.
        memory.Insert(Anonymous(0x50_0000, 0x50_1000));
        memory.Insert(Anonymous(0x50_4000, 0x50_5000));
        Assert.That(memory.Resize(memory.IndexOf(0x50_0000), 0x50_4000), Is.True);
        index = memory.IndexOf(0x50_0000);
        Assert.That((memory[index].Start, memory[index].End), Is.EqualTo((0x50_0000UL, 0x50_5000UL)));
    }

    [Test]
    public void ResizeStopsAtTheNextArea()
    {
        var memory = new ProgramMemory();
        memory.Insert(Anonymous(0x40_0000, 0x40_1000));
        memory.Insert(Anonymous(0x40_8000, 0x40_9000, Protection.Read)); // not mergeable
        Assert.That(memory.Resize(0, 0x40_8000), Is.True);
        Assert.That(memory.Resize(0, 0x40_9000), Is.False);
        Assert.That(memory.Resize(0, 0x40_0000), Is.False, "empty");
        Assert.That(memory[0].End, Is.EqualTo(0x40_8000UL));
    }

    [Test]
    public void ManyAreasGrowTheTableAndARemoveTakesAWholeRunOfThem()
    {
        // More areas than the table's first capacity (it starts small and doubles), then one
        // munmap-like Remove over 50 of them at once, then an exec-like Clear.
        ProgramMemory memory = WithLibOS();
        for (int i = 0; i < 100; i++)
        {
            int protection = i % 2 == 0 ? Protection.Read : Protection.Read | Protection.Write; // no merging
            Assert.That(memory.Insert(Anonymous(0x100_0000 + (ulong)i * Page, 0x100_0000 + (ulong)(i + 1) * Page, protection)), Is.True);
        }
        Assert.That(memory.Count, Is.EqualTo(101));
        var removed = new System.Collections.Generic.List<Area>();
        Assert.That(memory.Remove(0x100_0000 + 25 * Page, 0x100_0000 + 75 * Page, removed), Is.True);
        Assert.That(removed.Count, Is.EqualTo(50));
        Assert.That(removed[0].Start, Is.EqualTo(0x100_0000 + 25 * Page));
        Assert.That(removed[49].End, Is.EqualTo(0x100_0000 + 75 * Page));
        Assert.That(memory.Count, Is.EqualTo(51));
        Assert.That(memory.IndexOf(0x100_0000 + 24 * Page), Is.EqualTo(24));
        Assert.That(memory.IndexOf(0x100_0000 + 25 * Page), Is.EqualTo(-1));
        Assert.That(memory[25].Start, Is.EqualTo(0x100_0000 + 75 * Page));
        Assert.That(memory[50].Kind, Is.EqualTo(AreaKind.LibOS));
        removed.Clear();
        memory.Clear(removed);
        Assert.That(removed.Count, Is.EqualTo(50));
        Assert.That(memory.Count, Is.EqualTo(1));
        Assert.That(memory[0].Kind, Is.EqualTo(AreaKind.LibOS));
        Assert.Throws<System.ArgumentOutOfRangeException>(() => _ = memory[1]);
    }

    [Test]
    public void ClearKeepsOnlyTheLibOS()
    {
        var memory = WithLibOS();
        memory.Insert(Anonymous(0x40_0000, 0x40_1000));
        memory.Insert(Anonymous(0x7000_0000, 0x7000_1000));
        var removed = new List<Area>();
        memory.Clear(removed);
        Assert.That(memory.Count, Is.EqualTo(1));
        Assert.That(memory[0].Kind, Is.EqualTo(AreaKind.LibOS));
        Assert.That(removed.Count, Is.EqualTo(2));
    }

    /// <summary>IsAccessible starts from the area its last check ended in (a guess per direction,
    /// read afresh): after every change of the table its answers are still the table's as it is
    /// now (compared with a walk over every area).</summary>
    [Test]
    public void AccessChecksAnswerFromTheTableAsItIsNowAfterEveryChange()
    {
        var random = new Random(11);
        var memory = WithLibOS();
        for (int step = 0; step < 4000; step++)
        {
            ulong start = (ulong)random.Next(0x100, 0x200) * Page, end = start + (ulong)random.Next(1, 40) * Page;
            switch (random.Next(5))
            {
                case 0: memory.Insert(Anonymous(start, end, random.Next(8))); break;
                case 1: memory.Remove(start, end, null); break;
                case 2: memory.Protect(start, end, random.Next(8)); break;
                default: break; // checks only: the guesses are reused
            }
            for (int check = 0; check < 4; check++)
            {
                ulong address = (ulong)random.Next(0xF0 * (int)Page, 0x230 * (int)Page);
                ulong length = (ulong)random.Next(0, 3 * (int)Page);
                bool write = random.Next(2) == 0;
                Assert.That(memory.IsAccessible(address, length, write), Is.EqualTo(Walk(memory, address, length, write)),
                    $"step {step}: {address:x} + {length:x} {(write ? "write" : "read")}");
            }
        }
        Assert.That(memory.IsAccessible(0x6000_0000, 1, false), Is.False, "the libOS's area, after all that");
    }

    private static bool Walk(ProgramMemory memory, ulong address, ulong length, bool write)
    {
        for (ulong at = address; at < address + length; at++)
        {
            bool inside = false;
            for (int i = 0; i < memory.Count && !inside; i++)
            {
                Area area = memory[i];
                if (!area.Contains(at)) continue;
                if (area.Kind == AreaKind.LibOS || area.Protection == Protection.None) return false;
                if (write && (area.Protection & Protection.Write) == 0) return false;
                inside = true;
            }
            if (!inside) return false;
            at |= Page - 1; // the rest of the page is in the same area (areas are whole pages)
        }
        return true;
    }

    [Test]
    public void RandomOperationsKeepTheTableSortedAndDisjoint()
    {
        var random = new Random(9);
        var memory = WithLibOS();
        for (int step = 0; step < 3000; step++)
        {
            ulong start = (ulong)random.Next(0x100, 0x200) * Page, end = start + (ulong)random.Next(1, 40) * Page;
            switch (random.Next(4))
            {
                case 0: memory.Insert(Anonymous(start, end, random.Next(8))); break;
                case 1: memory.Remove(start, end, null); break;
                case 2: memory.Protect(start, end, random.Next(8)); break;
                default:
                    ulong found = memory.FindFree((ulong)random.Next(1, 8) * Page, start);
                    if (found != 0) Assert.That(memory.IsFree(found, found + Page), Is.True);
                    break;
            }
            for (int i = 0; i < memory.Count; i++)
            {
                Assert.That(memory[i].Start, Is.LessThan(memory[i].End));
                if (i > 0) Assert.That(memory[i - 1].End, Is.LessThanOrEqualTo(memory[i].Start));
                if (i > 0 && memory[i - 1].End == memory[i].Start && memory[i].Kind == AreaKind.Anonymous && memory[i - 1].Kind == AreaKind.Anonymous)
                    Assert.That(memory[i - 1].Protection, Is.Not.EqualTo(memory[i].Protection), "compatible neighbours are merged");
            }
        }
    }
}
