// PhysicalMemoryPlan: which physical memory may become free frames. From the firmware's
// memory map and the ranges already in use (kernel image, boot information, modules), it
// computes the usable ranges:
//   usable = (union of Available entries) - (union of every other entry, every reserved range
//            and the first MiB),
// then cuts each piece inward to whole 4 KiB pages.
//
// Invariants of a plan:
//   - nothing below 1 MiB is usable, whatever the caller reserves: BIOS data and the real-mode
//     interrupt table live there, and physical address 0 must never be handed out (0 means
//     "no table" to IPageTableMemory and "null" to everyone else);
//   - UsableRanges are sorted, disjoint, non-empty, and start and end on page boundaries;
//   - no usable byte lies in a non-Available map entry or a reserved range, even where map
//     entries overlap (reserved wins) and even by part of a page;
//   - UsableBytes is the sum of the usable ranges' lengths.
using System;
using System.Collections.Generic;

namespace Aegis.Kernel.Core
{
    public sealed class PhysicalMemoryPlan
    {
        public const ulong PageSize = 4096;

        /// <summary>The end of the first MiB (BIOS data, real-mode IVT, option ROMs): never usable.</summary>
        public const ulong FirstMegabyteEnd = 0x100000;

        private readonly List<PhysicalRange> _usable;

        private PhysicalMemoryPlan(List<PhysicalRange> usable, ulong availableBytes, ulong highestAddress)
        {
            _usable = usable;
            AvailableBytes = availableBytes;
            HighestAddress = highestAddress;
            for (int i = 0; i < usable.Count; i++)
                UsableBytes += usable[i].Length;
            HighestUsableAddress = usable.Count == 0 ? 0 : usable[usable.Count - 1].End;
        }

        public ReadOnlyListView<PhysicalRange> UsableRanges => new ReadOnlyListView<PhysicalRange>(_usable);

        /// <summary>Bytes in usable frames.</summary>
        public ulong UsableBytes { get; }

        /// <summary>Bytes the map calls Available (overlaps counted once), before any reservation.</summary>
        public ulong AvailableBytes { get; }

        /// <summary>One past the highest byte of any map entry, whatever its type.</summary>
        public ulong HighestAddress { get; }

        /// <summary>One past the highest usable byte (0 when nothing is usable).</summary>
        public ulong HighestUsableAddress { get; }

        /// <summary>The frame number one past the highest usable frame: the size a frame allocator needs.</summary>
        public ulong FrameLimit => HighestUsableAddress / PageSize;

        /// <summary>The plan for a parsed map (Multiboot2Info.MemoryMap): no boxing, no enumerator allocation.</summary>
        public static PhysicalMemoryPlan Create(ReadOnlyListView<MemoryRegion> memoryMap, IReadOnlyList<PhysicalRange> reservedRanges)
        {
            Inputs inputs = new Inputs();
            foreach (MemoryRegion region in memoryMap)
                inputs.AddRegion(region);
            return inputs.Plan(reservedRanges);
        }

        public static PhysicalMemoryPlan Create(IReadOnlyList<MemoryRegion> memoryMap, IReadOnlyList<PhysicalRange> reservedRanges)
        {
            Inputs inputs = new Inputs();
            for (int i = 0; i < memoryMap.Count; i++)
                inputs.AddRegion(memoryMap[i]);
            return inputs.Plan(reservedRanges);
        }

        /// <summary>The map sorted into what may be used and what may not.</summary>
        private sealed class Inputs
        {
            private readonly List<PhysicalRange> _available = new List<PhysicalRange>();
            private readonly List<PhysicalRange> _blocked = new List<PhysicalRange>();
            private ulong _highestAddress;

            public Inputs()
            {
                _blocked.Add(new PhysicalRange(0, FirstMegabyteEnd));
            }

            public void AddRegion(MemoryRegion region)
            {
                PhysicalRange range = PhysicalRange.FromLength(region.Base, region.Length);
                if (range.End > _highestAddress) _highestAddress = range.End;
                if (region.IsAvailable) _available.Add(range);
                else _blocked.Add(range);
            }

            public PhysicalMemoryPlan Plan(IReadOnlyList<PhysicalRange> reservedRanges)
            {
                if (reservedRanges != null)
                {
                    for (int i = 0; i < reservedRanges.Count; i++)
                        _blocked.Add(reservedRanges[i]);
                }
                List<PhysicalRange> availableUnion = Union(_available);
                ulong availableBytes = 0;
                for (int i = 0; i < availableUnion.Count; i++)
                    availableBytes += availableUnion[i].Length;
                return new PhysicalMemoryPlan(Subtract(availableUnion, Union(_blocked)), availableBytes, _highestAddress);
            }
        }

        /// <summary>Sorted, disjoint, non-adjacent ranges covering exactly the non-empty input ranges.</summary>
        private static List<PhysicalRange> Union(List<PhysicalRange> ranges)
        {
            SortByStart(ranges);
            List<PhysicalRange> union = new List<PhysicalRange>();
            for (int i = 0; i < ranges.Count; i++)
            {
                PhysicalRange range = ranges[i];
                if (range.IsEmpty) continue;
                int last = union.Count - 1;
                if (last >= 0 && range.Start <= union[last].End)
                {
                    if (range.End > union[last].End)
                        union[last] = new PhysicalRange(union[last].Start, range.End);
                }
                else
                {
                    union.Add(range);
                }
            }
            return union;
        }

        /// <summary>Both inputs sorted and disjoint; the result is page-aligned inward.</summary>
        private static List<PhysicalRange> Subtract(List<PhysicalRange> available, List<PhysicalRange> blocked)
        {
            List<PhysicalRange> result = new List<PhysicalRange>();
            for (int i = 0; i < available.Count; i++)
            {
                PhysicalRange piece = available[i];
                ulong cursor = piece.Start;
                for (int j = 0; j < blocked.Count && cursor < piece.End; j++)
                {
                    PhysicalRange hole = blocked[j];
                    if (hole.End <= cursor) continue;
                    if (hole.Start >= piece.End) break;
                    if (hole.Start > cursor) AddWholePages(result, cursor, hole.Start);
                    cursor = hole.End;
                }
                if (cursor < piece.End) AddWholePages(result, cursor, piece.End);
            }
            return result;
        }

        private static void AddWholePages(List<PhysicalRange> result, ulong start, ulong end)
        {
            if (start > ulong.MaxValue - (PageSize - 1)) return;
            ulong first = (start + PageSize - 1) & ~(PageSize - 1);
            ulong last = end & ~(PageSize - 1);
            if (first < last) result.Add(new PhysicalRange(first, last));
        }

        /// <summary>Insertion sort: maps have tens of entries, and it needs no delegate.</summary>
        private static void SortByStart(List<PhysicalRange> ranges)
        {
            for (int i = 1; i < ranges.Count; i++)
            {
                PhysicalRange item = ranges[i];
                int j = i - 1;
                while (j >= 0 && ranges[j].Start > item.Start)
                {
                    ranges[j + 1] = ranges[j];
                    j--;
                }
                ranges[j + 1] = item;
            }
        }
    }
}
