// PageSlots: a value per page of the program's address space, for the pages that have one
// (ProgramPages' table: mapped by the libOS, or parked with a frame). Two levels, as a page table:
// a dictionary of 2 MiB regions, each an array of 512 slots, and the region last used kept at
// hand — so the loops of exec, fork and munmap, which go through pages in order, cost an array
// access a page instead of a hash lookup (a Dictionary<ulong, ulong> of pages took ~80,000
// instructions of an exec of a small static program). Exec, munmap and the loader go through
// runs (NextFilled, NextEmpty, SetRange, RemoveRange: a region's slots scanned in place) rather
// than page by page through a list (session 6: ~65,000 of an exec's ~290,000 instructions were
// the page list and per-page lookups).
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

        /// <summary>A new region for page's 2 MiB, made the one at hand; it counts as empty until a
        /// slot fills.</summary>
        private Region Create(ulong page)
        {
            var region = new Region();
            _regions[page >> RegionShift] = region;
            _lastKey = page >> RegionShift;
            _last = region;
            _empty++;
            return region;
        }

        /// <summary>page's region has no page left: kept for reuse (up to KeptEmpty), else dropped.</summary>
        private void Emptied(ulong page)
        {
            if (_empty < KeptEmpty)
            {
                _empty++;
                return;
            }
            _regions.Remove(page >> RegionShift);
            _lastKey = ulong.MaxValue;
            _last = null;
        }

        /// <summary>Gives the page the value (at most ulong.MaxValue - 1).</summary>
        public void Set(ulong page, ulong value)
        {
            Region region = Find(page) ?? Create(page);
            int index = Index(page);
            if (region.Slots[index] == 0)
            {
                if (region.Count++ == 0) _empty--;
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
            if (--region.Count == 0) Emptied(page);
            return true;
        }

        // ---- runs (exec's and munmap's loops: a region's slots scanned in place, no page list) ----

        /// <summary>The next run of pages with a value in [at, end), ascending: a parked page alone
        /// (value != 0), or consecutive pages of value 0 within one region. at moves past the run;
        /// false when there is none left.</summary>
        public bool NextFilled(ref ulong at, ulong end, out ulong runStart, out int pages, out ulong value)
        {
            runStart = 0; pages = 0; value = 0;
            while (at < end && Count > 0)
            {
                Region region = Find(at);
                ulong regionBase = at & ~((1UL << RegionShift) - 1);
                ulong regionEnd = regionBase + (1UL << RegionShift);
                if (region == null || region.Count == 0)
                {
                    at = NextRegionBase(at >> RegionShift, end);
                    continue;
                }
                ulong[] slots = region.Slots;
                int i = Index(at), limit = end < regionEnd && end > regionBase ? Index(end - 1) + 1 : SlotsPerRegion;
                while (i < limit && slots[i] == 0) i++;
                if (i == limit)
                {
                    at = regionEnd <= at ? end : regionEnd; // (the top region: nothing after it)
                    continue;
                }
                runStart = regionBase + ((ulong)i << PageShift);
                value = slots[i] - 1;
                int j = i + 1;
                if (value == 0)
                    while (j < limit && slots[j] == 1) j++;
                pages = j - i;
                at = runStart + ((ulong)pages << PageShift);
                if (at == 0) at = end; // the last page of the address space
                return true;
            }
            return false;
        }

        /// <summary>The next run of pages without a value in [at, end) (within one region), ascending;
        /// at moves past it; false when there is none left.</summary>
        public bool NextEmpty(ref ulong at, ulong end, out ulong runStart, out int pages)
        {
            runStart = 0; pages = 0;
            while (at < end)
            {
                Region region = Find(at);
                ulong regionBase = at & ~((1UL << RegionShift) - 1);
                ulong regionEnd = regionBase + (1UL << RegionShift);
                int i = Index(at), limit = end < regionEnd && end > regionBase ? Index(end - 1) + 1 : SlotsPerRegion;
                if (region != null)
                {
                    ulong[] slots = region.Slots;
                    while (i < limit && slots[i] != 0) i++;
                    if (i == limit) { at = regionEnd <= at ? end : regionEnd; continue; }
                    int j = i + 1;
                    while (j < limit && slots[j] == 0) j++;
                    runStart = regionBase + ((ulong)i << PageShift);
                    pages = j - i;
                }
                else
                {
                    runStart = at;
                    pages = limit - i;
                }
                at = runStart + ((ulong)pages << PageShift);
                if (at == 0) at = end;
                return true;
            }
            return false;
        }

        /// <summary>Gives each of the pages [start, start + pages * 4 KiB) the value.</summary>
        public void SetRange(ulong start, int pages, ulong value)
        {
            for (int done = 0; done < pages; )
            {
                ulong page = start + ((ulong)done << PageShift);
                Region region = Find(page) ?? Create(page);
                ulong[] slots = region.Slots;
                int i = Index(page), stop = i + (pages - done);
                if (stop > SlotsPerRegion) stop = SlotsPerRegion;
                int added = 0;
                for (int k = i; k < stop; k++)
                {
                    if (slots[k] == 0) added++;
                    slots[k] = value + 1;
                }
                if (added > 0)
                {
                    if (region.Count == 0) _empty--;
                    region.Count += added;
                    Count += added;
                }
                done += stop - i;
            }
        }

        /// <summary>Takes the values of [start, start + pages * 4 KiB) away (pages without one are skipped).</summary>
        public void RemoveRange(ulong start, int pages)
        {
            for (int done = 0; done < pages; )
            {
                ulong page = start + ((ulong)done << PageShift);
                int i = Index(page), stop = i + (pages - done);
                if (stop > SlotsPerRegion) stop = SlotsPerRegion;
                done += stop - i;
                Region region = Find(page);
                if (region == null) continue;
                ulong[] slots = region.Slots;
                int removed = 0;
                for (int k = i; k < stop; k++)
                {
                    if (slots[k] == 0) continue;
                    slots[k] = 0;
                    removed++;
                }
                if (removed == 0) continue;
                Count -= removed;
                region.Count -= removed;
                if (region.Count == 0) Emptied(page);
            }
        }

        /// <summary>The base of the next region after key that holds pages, or end.</summary>
        private ulong NextRegionBase(ulong key, ulong end)
        {
            if (end == 0) return 0;
            ulong lastKey = (end - 1) >> RegionShift;
            if (key >= lastKey) return end;
            if (lastKey - key <= 64)
            {
                for (ulong k = key + 1; k <= lastKey; k++)
                    if (_regions.TryGetValue(k, out Region r) && r.Count > 0) return k << RegionShift;
                return end;
            }
            ulong best = ulong.MaxValue;
            foreach (KeyValuePair<ulong, Region> entry in _regions)
                if (entry.Key > key && entry.Key <= lastKey && entry.Key < best && entry.Value.Count > 0) best = entry.Key;
            return best == ulong.MaxValue ? end : best << RegionShift;
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
