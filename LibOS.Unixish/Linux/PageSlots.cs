// PageSlots: a value per page of the program's address space, for the pages that have one
// (ProgramPages' table: mapped by the libOS, or parked with a frame). Two levels, as a page table:
// a dictionary of 2 MiB regions, each an array of 512 slots, and the region last used kept at
// hand — so the loops of exec, fork and munmap, which go through pages in order, cost an array
// access a page instead of a hash lookup (a Dictionary<ulong, ulong> of pages took ~80,000
// instructions of an exec of a small static program).
//
// Invariants: a slot holds value + 1 (0: no entry); a region's Count is its non-zero slots; at most
// KeptEmpty regions with none stay in the dictionary (_empty counts them: an mmap + munmap loop in
// one region allocates nothing), the others are dropped; Count is the sum over regions. Pages are 4 KiB-aligned
// addresses below 2^64 - 2 MiB. Pure logic: compiles under the real .NET (host-tested).
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux
{
    public sealed class PageSlots
    {
        private const int RegionShift = 21, PageShift = 12, SlotsPerRegion = 512;
        /// <summary>Regions without pages kept for reuse (4 KiB each).</summary>
        public const int KeptEmpty = 16;

        private sealed class Region
        {
            public readonly ulong[] Slots = new ulong[SlotsPerRegion];
            public int Count;
        }

        private readonly Dictionary<ulong, Region> _regions = new Dictionary<ulong, Region>();
        private ulong _lastKey = ulong.MaxValue;
        private Region _last;
        private int _empty;

        /// <summary>Pages with a value.</summary>
        public int Count { get; private set; }

        private Region Find(ulong page)
        {
            ulong key = page >> RegionShift;
            if (key == _lastKey) return _last;
            if (!_regions.TryGetValue(key, out Region region)) return null;
            _lastKey = key;
            _last = region;
            return region;
        }

        private static int Index(ulong page) => (int)((page >> PageShift) & (SlotsPerRegion - 1));

        public bool Contains(ulong page)
        {
            Region region = Find(page);
            return region != null && region.Slots[Index(page)] != 0;
        }

        public bool TryGetValue(ulong page, out ulong value)
        {
            Region region = Find(page);
            ulong slot = region == null ? 0 : region.Slots[Index(page)];
            value = slot - 1;
            if (slot == 0) value = 0;
            return slot != 0;
        }

        /// <summary>The value of a page that has one (0 for one that has none).</summary>
        public ulong this[ulong page]
        {
            get
            {
                TryGetValue(page, out ulong value);
                return value;
            }
            set => Set(page, value);
        }

        /// <summary>Gives the page the value (at most ulong.MaxValue - 1).</summary>
        public void Set(ulong page, ulong value)
        {
            bool created = false;
            Region region = Find(page);
            if (region == null)
            {
                region = new Region();
                _regions[page >> RegionShift] = region;
                _lastKey = page >> RegionShift;
                _last = region;
                created = true;
            }
            int index = Index(page);
            if (region.Slots[index] == 0)
            {
                if (region.Count++ == 0 && !created) _empty--;
                Count++;
            }
            region.Slots[index] = value + 1;
        }

        /// <summary>Takes the page's value away; false when it had none.</summary>
        public bool Remove(ulong page)
        {
            Region region = Find(page);
            if (region == null) return false;
            int index = Index(page);
            if (region.Slots[index] == 0) return false;
            region.Slots[index] = 0;
            Count--;
            if (--region.Count == 0)
            {
                if (_empty < KeptEmpty)
                {
                    _empty++;
                }
                else
                {
                    _regions.Remove(page >> RegionShift);
                    _lastKey = ulong.MaxValue;
                    _last = null;
                }
            }
            return true;
        }

        /// <summary>Appends the pages of [start, end) that have a value, ascending.</summary>
        public void Collect(ulong start, ulong end, List<ulong> into)
        {
            if (end <= start || Count == 0) return;
            ulong firstKey = start >> RegionShift, lastKey = (end - 1) >> RegionShift;
            if (lastKey - firstKey <= (ulong)_regions.Count * 4 + 8)
            {
                for (ulong key = firstKey; key <= lastKey && key >= firstKey; key++)
                    CollectRegion(key, start, end, into);
                return;
            }
            // A range of many regions (a runtime's reservation of gigabytes): the few there are.
            var keys = new List<ulong>();
            foreach (KeyValuePair<ulong, Region> entry in _regions)
                if (entry.Key >= firstKey && entry.Key <= lastKey) keys.Add(entry.Key);
            keys.Sort();
            foreach (ulong key in keys) CollectRegion(key, start, end, into);
        }

        private void CollectRegion(ulong key, ulong start, ulong end, List<ulong> into)
        {
            if (!_regions.TryGetValue(key, out Region region)) return;
            ulong regionBase = key << RegionShift;
            int from = start > regionBase ? Index(start) : 0;
            ulong regionEnd = regionBase + ((ulong)SlotsPerRegion << PageShift);
            int to = end < regionEnd ? (int)((end - regionBase + (1UL << PageShift) - 1) >> PageShift) : SlotsPerRegion;
            ulong[] slots = region.Slots;
            for (int i = from; i < to; i++)
                if (slots[i] != 0) into.Add(regionBase + ((ulong)i << PageShift));
        }
    }
}
