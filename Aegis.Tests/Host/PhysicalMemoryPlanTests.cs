using Aegis.Kernel.Core;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class PhysicalMemoryPlanTests
{
    private const ulong MiB = 0x100000;

    private static List<MemoryRegion> Map(params (ulong Base, ulong Length, uint Type)[] entries)
    {
        List<MemoryRegion> map = new();
        foreach ((ulong b, ulong l, uint t) in entries) map.Add(new MemoryRegion(b, l, t));
        return map;
    }

    private static List<PhysicalRange> Reserved(params (ulong Start, ulong End)[] ranges)
    {
        List<PhysicalRange> list = new();
        foreach ((ulong s, ulong e) in ranges) list.Add(new PhysicalRange(s, e));
        return list;
    }

    private static (ulong, ulong)[] Ranges(PhysicalMemoryPlan plan)
    {
        (ulong, ulong)[] result = new (ulong, ulong)[plan.UsableRanges.Count];
        for (int i = 0; i < result.Length; i++) result[i] = (plan.UsableRanges[i].Start, plan.UsableRanges[i].End);
        return result;
    }

    [Test]
    public void OnlyAvailableMemoryIsUsable()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(
            Map((0, 0x9F000, 1), (0x9F000, 0x1000, 2), (MiB, 3 * MiB, 1), (4 * MiB, MiB, 3), (5 * MiB, MiB, 4), (6 * MiB, MiB, 5)),
            Reserved());
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (MiB, 4 * MiB) }));
    }

    [Test]
    public void FirstMegabyteIsNeverUsableEvenUnreserved()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((0, 0x9FC00, 1), (0x80000, 2 * MiB, 1)), Reserved());
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (MiB, 0x280000UL) }));
        Assert.That(plan.AvailableBytes, Is.EqualTo(0x280000UL), "available memory still counts it");
    }

    [Test]
    public void FrameZeroIsNeverHandedOut()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((0, 4 * MiB, 1)), Reserved());
        FrameAllocator frames = new(plan.FrameLimit);
        foreach (PhysicalRange range in plan.UsableRanges) frames.AddFreeRange(range.Start / 4096, range.Length / 4096);
        Assert.That(frames.IsUsable(0), Is.False);
        Assert.That(frames.TryAllocate(out ulong first), Is.True);
        Assert.That(first, Is.EqualTo(MiB / 4096));
    }

    [Test]
    public void RangesArePageAlignedInward()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((MiB + 0x1800, 0x3000, 1)), Reserved());
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (MiB + 0x2000, MiB + 0x4000) }));
    }

    [Test]
    public void EntrySmallerThanAPageGivesNothing()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((MiB + 0x1100, 0xE00, 1)), Reserved());
        Assert.That(plan.UsableRanges, Is.Empty);
        Assert.That(plan.UsableBytes, Is.EqualTo(0UL));
        Assert.That(plan.HighestUsableAddress, Is.EqualTo(0UL));
    }

    [Test]
    public void AdjacentAvailableEntriesJoinAcrossAPage()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((MiB + 0x1000, 0x800, 1), (MiB + 0x1800, 0x1800, 1)), Reserved());
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (MiB + 0x1000, MiB + 0x3000) }));
    }

    [Test]
    public void OverlappingAvailableEntriesCountOnce()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((MiB, 2 * MiB, 1), (2 * MiB, 2 * MiB, 1)), Reserved());
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (MiB, 4 * MiB) }));
        Assert.That(plan.AvailableBytes, Is.EqualTo(3 * MiB));
    }

    [Test]
    public void ReservedRangesAreCutOut()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((0, 16 * MiB, 1)),
            Reserved((0, MiB), (2 * MiB, 3 * MiB), (8 * MiB, 9 * MiB)));
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (MiB, 2 * MiB), (3 * MiB, 8 * MiB), (9 * MiB, 16 * MiB) }));
    }

    [Test]
    public void PartiallyReservedPagesAreNotUsable()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((MiB, 0x10000, 1)), Reserved((MiB + 0x2100, MiB + 0x2200), (MiB + 0x7FFF, MiB + 0x8001)));
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (MiB, MiB + 0x2000), (MiB + 0x3000, MiB + 0x7000), (MiB + 0x9000, MiB + 0x10000) }));
    }

    [Test]
    public void ReservedEntryOverlappingAvailableWins()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(
            Map((MiB, 8 * MiB, 1), (3 * MiB, MiB, 2), (0x7FF800, 0x1000, 4)), Reserved());
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (MiB, 3 * MiB), (4 * MiB, 0x7FF000UL), (0x801000UL, 9 * MiB) }));
    }

    [Test]
    public void ReservedEntryListedBeforeAvailableStillWins()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((3 * MiB, MiB, 2), (MiB, 8 * MiB, 1)), Reserved());
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (MiB, 3 * MiB), (4 * MiB, 9 * MiB) }));
    }

    [Test]
    public void OverlappingReservedRangesAreAllRespected()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((0, 10 * MiB, 1)),
            Reserved((2 * MiB, 5 * MiB), (4 * MiB, 6 * MiB), (3 * MiB, 4 * MiB), (9 * MiB, 20 * MiB)));
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (MiB, 2 * MiB), (6 * MiB, 9 * MiB) }));
    }

    [Test]
    public void EmptyAndInvertedReservedRangesAreIgnored()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((MiB, 2 * MiB, 1)), Reserved((2 * MiB, 2 * MiB), (2 * MiB + 0x5000, 2 * MiB)));
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (MiB, 3 * MiB) }));
    }

    [Test]
    public void TotalsAndHighestAddressesAreReported()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(
            Map((0, 0x9FC00, 1), (MiB, 127 * MiB, 1), (0xFFFC0000, 0x40000, 2)), Reserved((0, MiB), (MiB, 2 * MiB)));
        Assert.That(plan.UsableBytes, Is.EqualTo(126 * MiB));
        Assert.That(plan.AvailableBytes, Is.EqualTo(0x9FC00 + 127 * MiB));
        Assert.That(plan.HighestAddress, Is.EqualTo(0x1_0000_0000UL));
        Assert.That(plan.HighestUsableAddress, Is.EqualTo(128 * MiB));
        Assert.That(plan.FrameLimit, Is.EqualTo(128 * MiB / 4096));
    }

    [Test]
    public void EverythingReservedLeavesNothing()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((0, 4 * MiB, 1)), Reserved((0, ulong.MaxValue)));
        Assert.That(plan.UsableRanges, Is.Empty);
    }

    [Test]
    public void MemoryNearTheTopOfTheAddressSpaceDoesNotOverflow()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(
            Map((0xFFFF_FFFF_FFFF_E000, 0x1FFF, 1), (0xFFFF_FFFF_FFFF_F800, 0x7FF, 1)), Reserved());
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (0xFFFF_FFFF_FFFF_E000UL, 0xFFFF_FFFF_FFFF_F000UL) }));
    }

    [Test]
    public void RangesComeOutSortedWhateverTheMapOrder()
    {
        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(Map((8 * MiB, MiB, 1), (MiB, MiB, 1), (4 * MiB, MiB, 1)), Reserved());
        Assert.That(Ranges(plan), Is.EqualTo(new[] { (MiB, 2 * MiB), (4 * MiB, 5 * MiB), (8 * MiB, 9 * MiB) }));
    }

    [Test]
    public void RandomMapsNeverLeaveAUsableByteInReservedMemory()
    {
        Random random = new(7);
        for (int round = 0; round < 300; round++)
        {
            List<MemoryRegion> map = new();
            List<PhysicalRange> reserved = new();
            for (int i = random.Next(1, 12); i > 0; i--)
                map.Add(new MemoryRegion((ulong)random.Next(0, 3 << 20), (ulong)random.Next(1, 1 << 19), (uint)random.Next(1, 6)));
            for (int i = random.Next(0, 6); i > 0; i--)
            {
                ulong start = (ulong)random.Next(0, 3 << 20);
                reserved.Add(new PhysicalRange(start, start + (ulong)random.Next(0, 1 << 16)));
            }

            PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(map, reserved);

            ulong previousEnd = 0, total = 0;
            foreach (PhysicalRange range in plan.UsableRanges)
            {
                Assert.That(range.Start % 4096, Is.Zero);
                Assert.That(range.Start, Is.GreaterThanOrEqualTo(MiB));
                Assert.That(range.End % 4096, Is.Zero);
                Assert.That(range.Start, Is.GreaterThanOrEqualTo(previousEnd));
                Assert.That(range.End, Is.GreaterThan(range.Start));
                previousEnd = range.End;
                total += range.Length;
                for (ulong page = range.Start; page < range.End; page += 4096)
                {
                    PhysicalRange frame = new(page, page + 4096);
                    bool inAvailable = false;
                    foreach (MemoryRegion region in map)
                    {
                        PhysicalRange entry = PhysicalRange.FromLength(region.Base, region.Length);
                        if (!region.IsAvailable) Assert.That(entry.Overlaps(frame), Is.False, "frame in a non-available entry");
                        else if (entry.Start <= page && page + 4096 <= entry.End) inAvailable = true;
                    }
                    foreach (PhysicalRange hole in reserved) Assert.That(hole.Overlaps(frame), Is.False, "frame in a reserved range");
                    if (!inAvailable) Assert.That(CoveredByAvailableUnion(map, page), Is.True, "frame outside available memory");
                }
            }
            Assert.That(plan.UsableBytes, Is.EqualTo(total));
        }
    }

    private static bool CoveredByAvailableUnion(List<MemoryRegion> map, ulong page)
    {
        ulong address = page;
        while (address < page + 4096)
        {
            ulong next = address;
            foreach (MemoryRegion region in map)
                if (region.IsAvailable && address >= region.Base && address < region.End && region.End > next) next = region.End;
            if (next == address) return false;
            address = next;
        }
        return true;
    }

    [Test]
    public void ParsedMapFeedsTheFrameAllocator()
    {
        Assert.That(Multiboot2Info.TryParse(Multiboot2ImageBuilder.QemuLike().Build(), out Multiboot2Info info, out _), Is.True);
        List<PhysicalRange> reserved = Reserved((0, PhysicalMemoryPlan.FirstMegabyteEnd), (MiB, 3 * MiB));
        foreach (BootModule module in info.Modules) reserved.Add(new PhysicalRange(module.Start, module.End));

        PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(info.MemoryMap, reserved);
        FrameAllocator frames = new(plan.FrameLimit);
        foreach (PhysicalRange range in plan.UsableRanges) frames.AddFreeRange(range.Start / 4096, range.Length / 4096);

        Assert.That(frames.FreeFrames * 4096, Is.EqualTo(plan.UsableBytes));
        Assert.That(plan.UsableBytes, Is.EqualTo(0x7FE0000 - 3 * MiB));
        Assert.That(frames.IsUsable(0x200), Is.False, "module frame");
        Assert.That(frames.IsUsable(0x300), Is.True);
        Assert.That(frames.TryAllocate(out ulong first), Is.True);
        Assert.That(first, Is.EqualTo(3 * MiB / 4096));
    }
}
