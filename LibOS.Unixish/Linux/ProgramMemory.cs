// The Linux program's address space as the libOS sees it: the table of virtual memory areas
// (VMAs), like Linux's mm->mmap. Pure bookkeeping: no page is mapped here (MemoryCalls and the
// Loader do that through LibOS.Base's Memory); this class decides where things go and what the
// program may touch, and is host-tested (Aegis.Tests/Host/LinuxProgramMemoryTests.cs).
//
// Layout (all inside the program window [WindowLow, WindowHigh), below the libOS's own heap and
// dynamic ranges at AddressSpace.HeapBase and up):
//   0x0000_0000_0040_0000  a non-PIE program (its PT_LOADs), then its brk heap
//   0x0000_0000_6000_0000  the libOS image (the host app `linux`): an area of Kind.LibOS the
//                          program can neither see into nor map over
//   0x0000_0555_5540_0000  a static-PIE program (PieBase), then its brk heap
//   ... mmap areas, placed top-down from MmapTop ...
//   0x0000_0FFF_FF80_0000  the program's stack (StackTop, Kind.Stack, grows down to StackLimit)
//
// Invariants: areas are sorted by Start, never overlap, are page-aligned and non-empty; every
// area lies in the window; a LibOS area is never removed, split or changed by a program's
// request (Remove/Protect refuse a range touching it); no two adjacent anonymous areas have the
// same protection, sharing and name (they are merged, as Linux merges VMAs).
using System.Runtime.CompilerServices;
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux
{
    /// <summary>Linux's PROT_* bits (what the program asked for).</summary>
    public static class Protection
    {
        public const int None = 0;
        public const int Read = 1;
        public const int Write = 2;
        public const int Execute = 4;
        public const int All = Read | Write | Execute;
    }

    public enum AreaKind
    {
        /// <summary>mmap'd anonymous memory (zero-filled, private unless Shared).</summary>
        Anonymous = 0,
        /// <summary>A private copy of file bytes (mmap of a file, or the program's PT_LOADs).</summary>
        File = 1,
        /// <summary>The program's PT_LOAD segments.</summary>
        Image = 2,
        /// <summary>The brk heap.</summary>
        Heap = 3,
        /// <summary>The main stack (grows down).</summary>
        Stack = 4,
        /// <summary>The libOS's own image: not the program's.</summary>
        LibOS = 5,
        /// <summary>A File area filled on demand (MemoryCalls.Map's policy: a large read-only map of a
        /// file in the root archive) by the page-fault upcall, 16 pages at a time; the file's bytes
        /// are in MemoryCalls' table of lazy ranges (not here: an area is copied by value often, and
        /// a larger struct cost every mmap and munmap 140 instructions).</summary>
        LazyFile = 6,
    }

    public struct Area
    {
        public ulong Start;
        public ulong End;
        public int Protection;
        public AreaKind Kind;
        /// <summary>MAP_SHARED: a fork shares the pages instead of copying them on write.</summary>
        public bool Shared;
        /// <summary>For /proc/self/maps: the file's path, "[heap]", "[stack]", or null.</summary>
        public string Name;
        /// <summary>For file areas: the file offset of Start (what /proc/self/maps shows).</summary>
        public ulong FileOffset;

        public ulong Length => End - Start;
        public bool Contains(ulong address) => address >= Start && address < End;
    }

    public sealed class ProgramMemory
    {
        public const ulong PageSize = 4096;
        public const ulong WindowLow = 0x0000_0000_0001_0000;
        /// <summary>AddressSpace.HeapBase: the libOS's heap and dynamic ranges start here.</summary>
        public const ulong WindowHigh = 0x0000_1000_0000_0000;
        public const ulong PieBase = 0x0000_0555_5540_0000;
        public const ulong StackTop = 0x0000_0FFF_FF80_0000;
        /// <summary>RLIMIT_STACK: 8 MiB, as Linux's default.</summary>
        public const ulong StackLimit = 8UL << 20;
        /// <summary>mmap areas go top-down from here (a gap of 1 GiB under the stack's limit).</summary>
        public const ulong MmapTop = StackTop - StackLimit - (1UL << 30);

        // The areas in address order: an array used by reference (a List<Area>'s indexer copied the
        // 48-byte struct at each read, ~2,000 instructions an mmap in the binary searches alone).
        // It starts small and doubles: a forked child writes it, and each libOS heap page it spans
        // is a copy-on-write fault (32 entries at first cost fork_exec_wait 12,000 instructions).
        private Area[] _areas = new Area[8];
        private int _count;
        // IsAccessible's guesses (indexes into _areas, possibly stale: always checked).
        private int _readHint, _writeHint;

        // The last two areas IsAccessible found a whole range in (bounds, whether writable): each
        // [_hitStart, _hitEnd) is one program area that is not PROT_NONE. Two, because calls
        // alternate between two areas (a path in the program's data and a buffer on its stack).
        // Every change of the table forgets both (Forget), so a hit is always what the table says
        // now. The hot users are the signal frame (the stack, three checks per signal) and
        // system-call buffers.
        private ulong _hitStart, _hitEnd, _hit2Start, _hit2End;
        private bool _hitWritable, _hit2Writable;

        private void Forget()
        {
            _hitEnd = 0; // an empty end matches no range of length > 0 (and length 0 is always accessible)
            _hit2End = 0;
        }

        public int Count => _count;
        public Area this[int index] => (uint)index < (uint)_count ? _areas[index] : throw new System.ArgumentOutOfRangeException(nameof(index));

        private void InsertAt(int index, in Area area)
        {
            if (_count == _areas.Length) System.Array.Resize(ref _areas, _areas.Length * 2);
            if (index < _count) System.Array.Copy(_areas, index, _areas, index + 1, _count - index);
            _areas[index] = area;
            _count++;
        }

        private void RemoveRange(int index, int count)
        {
            if (count == 0) return;
            if (index + count < _count) System.Array.Copy(_areas, index + count, _areas, index, _count - index - count);
            _count -= count;
            System.Array.Clear(_areas, _count, count); // drops the names' references
        }

        private void RemoveAt(int index)
        {
            _count--;
            if (index < _count) System.Array.Copy(_areas, index + 1, _areas, index, _count - index);
            _areas[_count] = default; // drops the name's reference
        }

        /// <summary>Gives the area at index another kind (MemoryCalls: a lazy file area filled whole becomes File).</summary>
        public void SetKind(int index, AreaKind kind)
        {
            _areas[index].Kind = kind;
        }

        public static bool IsPageAligned(ulong value) => (value & (PageSize - 1)) == 0;

        /// <summary>Rounds up to a page; 0 when it would overflow (callers treat 0 as "too big").</summary>
        public static ulong PageUp(ulong value) => value > ulong.MaxValue - (PageSize - 1) ? 0 : (value + PageSize - 1) & ~(PageSize - 1);

        /// <summary>Whether [start, end) is a non-empty, page-aligned range inside the window.</summary>
        public static bool InWindow(ulong start, ulong end)
            => start < end && start >= WindowLow && end <= WindowHigh && IsPageAligned(start) && IsPageAligned(end);

        /// <summary>The index of the area containing address, or -1.</summary>
        public int IndexOf(ulong address)
        {
            Area[] areas = _areas;
            int low = 0, high = _count - 1;
            while (low <= high)
            {
                int middle = (low + high) >> 1;
                ref Area area = ref areas[middle];
                if (address < area.Start) high = middle - 1;
                else if (address >= area.End) low = middle + 1;
                else return middle;
            }
            return -1;
        }

        /// <summary>The first area whose End is above address (its index), or Count.</summary>
        private int FirstEndingAbove(ulong address)
        {
            Area[] areas = _areas;
            int low = 0, high = _count;
            while (low < high)
            {
                int middle = (low + high) >> 1;
                if (areas[middle].End <= address) low = middle + 1;
                else high = middle;
            }
            return low;
        }

        /// <summary>Whether no area intersects [start, end).</summary>
        public bool IsFree(ulong start, ulong end)
        {
            int i = FirstEndingAbove(start);
            return i == _count || _areas[i].Start >= end;
        }

        /// <summary>Whether any LibOS area intersects [start, end).</summary>
        public bool TouchesLibOS(ulong start, ulong end)
        {
            for (int i = FirstEndingAbove(start); i < _count && _areas[i].Start < end; i++)
                if (_areas[i].Kind == AreaKind.LibOS) return true;
            return false;
        }

        /// <summary>Adds an area over a free range (false if it is not free or not in the window);
        /// an anonymous area joins its neighbours when they are compatible (Merge), as Linux's VMAs.</summary>
        public bool Insert(Area area)
        {
            if (!InWindow(area.Start, area.End) || !IsFree(area.Start, area.End)) return false;
            // No Forget: an insert only adds areas (and Merge joins identical neighbours), so a
            // remembered range stays one area with the same rights.
            InsertAt(FirstEndingAbove(area.Start), area);
            Merge(area.Start, area.End);
            return true;
        }

        /// <summary>A free, page-aligned range of length bytes: the hint if that range is free and in
        /// the window, else the highest free range below MmapTop (top-down, as Linux). 0 if none.</summary>
        public ulong FindFree(ulong length, ulong hint)
        {
            if (length == 0 || !IsPageAligned(length) || length > WindowHigh) return 0;
            hint &= ~(PageSize - 1);
            if (hint != 0 && hint <= WindowHigh - length && InWindow(hint, hint + length) && IsFree(hint, hint + length))
                return hint;
            ulong ceiling = MmapTop;
            for (int j = _count - 1; ; j--)
            {
                if (j >= 0 && _areas[j].End > ceiling)
                {
                    // Above or straddling the ceiling: the gap below it starts lower.
                    if (_areas[j].Start < ceiling) ceiling = _areas[j].Start;
                    continue;
                }
                ulong floor = j >= 0 ? _areas[j].End : WindowLow;
                if (ceiling >= floor && ceiling - floor >= length) return ceiling - length;
                if (j < 0) return 0;
                ceiling = _areas[j].Start;
            }
        }

        /// <summary>Takes [start, end) out of the table, splitting areas that straddle its ends;
        /// the pieces removed are added to removed (when not null). False (nothing changed) if the
        /// range touches a LibOS area.</summary>
        public bool Remove(ulong start, ulong end, List<Area> removed)
        {
            if (TouchesLibOS(start, end)) return false;
            Forget();
            Split(start);
            Split(end);
            int first = FirstEndingAbove(start), last = first;
            for (; last < _count && _areas[last].Start < end; last++) removed?.Add(_areas[last]);
            RemoveRange(first, last - first);
            return true;
        }

        /// <summary>Sets the protection of every area piece inside [start, end) (splitting at the
        /// ends). False (nothing changed) if the range is not entirely covered by program areas.</summary>
        public bool Protect(ulong start, ulong end, int protection)
        {
            if (!IsCovered(start, end, Protection.None)) return false;
            Forget();
            Split(start);
            Split(end);
            for (int i = FirstEndingAbove(start); i < _count && _areas[i].Start < end; i++)
                _areas[i].Protection = protection;
            Merge(start, end);
            return true;
        }

        /// <summary>Whether [start, end) is covered without gaps by program areas (not LibOS) whose
        /// protection includes every bit of required (Protection.None: any protection at all).</summary>
        public bool IsCovered(ulong start, ulong end, int required)
        {
            if (start >= end) return true;
            int i = FirstEndingAbove(start);
            ulong at = start;
            for (; i < _count && at < end; i++)
            {
                ref Area area = ref _areas[i];
                if (area.Start > at || area.Kind == AreaKind.LibOS || (area.Protection & required) != required)
                    return false;
                at = area.End;
            }
            return at >= end;
        }

        /// <summary>Whether the program may read (write: and write) [address, address + length):
        /// every byte in program areas that are not PROT_NONE (x86 can read any mapped page) and,
        /// for writing, PROT_WRITE. Length 0 is always accessible.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool IsAccessible(ulong address, ulong length, bool write)
        {
            ulong end = address + length;
            // The hit path: no frame, no locals (the walk below has a struct with a reference).
            if (address >= _hitStart && end <= _hitEnd && end >= address && (_hitWritable || !write)) return true;
            if (address >= _hit2Start && end <= _hit2End && end >= address && (_hit2Writable || !write)) return true;
            return IsAccessibleWalk(address, length, write);
        }

        private bool IsAccessibleWalk(ulong address, ulong length, bool write)
        {
            if (length == 0) return true;
            ulong end = address + length;
            if (end < address) return false;
            // The area the last check of this kind ended in (a system call's path is usually in one
            // area, its result buffer in another): a guess, read afresh, so a table changed since
            // cannot mislead it; a range inside one area is decided by that area alone.
            int hint = write ? _writeHint : _readHint;
            if ((uint)hint < (uint)_count)
            {
                ref Area guess = ref _areas[hint];
                if (guess.Start <= address && end <= guess.End)
                    return guess.Kind != AreaKind.LibOS && guess.Protection != Protection.None
                        && (!write || (guess.Protection & Protection.Write) != 0);
            }
            int i = FirstEndingAbove(address);
            if (write) _writeHint = i; else _readHint = i;
            ulong at = address;
            for (; i < _count && at < end; i++)
            {
                ref Area area = ref _areas[i];
                if (area.Start > at || area.Kind == AreaKind.LibOS || area.Protection == Protection.None
                    || (write && (area.Protection & Protection.Write) == 0))
                    return false;
                if (at == address && area.End >= end)
                {
                    _hit2Start = _hitStart;
                    _hit2End = _hitEnd;
                    _hit2Writable = _hitWritable;
                    _hitStart = area.Start;
                    _hitEnd = area.End;
                    _hitWritable = (area.Protection & Protection.Write) != 0;
                    return true;
                }
                at = area.End;
            }
            return at >= end;
        }

        /// <summary>Changes the end of area index (brk, mremap in place): false if the new end
        /// would overlap the next area or leave the window.</summary>
        public bool Resize(int index, ulong newEnd)
        {
            if ((uint)index >= (uint)_count) return false;
            ulong start = _areas[index].Start;
            if (newEnd <= start || !IsPageAligned(newEnd) || newEnd > WindowHigh) return false;
            if (index + 1 < _count && newEnd > _areas[index + 1].Start) return false;
            Forget();
            _areas[index].End = newEnd;
            Merge(start, newEnd);
            return true;
        }

        /// <summary>Splits the area containing address (if any, and address is inside it, not at
        /// its start) into two at address.</summary>
        private void Split(ulong address)
        {
            int i = IndexOf(address);
            if (i < 0 || _areas[i].Start == address) return;
            Area low = _areas[i], high = low;
            low.End = address;
            high.Start = address;
            if (high.Kind == AreaKind.File || high.Kind == AreaKind.Image || high.Kind == AreaKind.LazyFile)
                high.FileOffset += address - low.Start;
            _areas[i] = low;
            InsertAt(i + 1, high);
        }

        /// <summary>Joins neighbours around [start, end) that became identical (after Protect, Insert,
        /// Resize): adjacent anonymous areas with the same protection, sharing and name are one
        /// area, so mremap and /proc/self/maps see one mapping where Linux has one VMA (a page
        /// MAP_FIXED back into the middle of a mapping joins it again).</summary>
        private void Merge(ulong start, ulong end)
        {
            int i = FirstEndingAbove(start);
            if (i > 0) i--;
            while (i + 1 < _count && _areas[i].Start <= end)
            {
                ref Area a = ref _areas[i];
                ref Area b = ref _areas[i + 1];
                if (a.End == b.Start && a.Kind == b.Kind && a.Protection == b.Protection && a.Shared == b.Shared
                    && a.Kind == AreaKind.Anonymous && (object)a.Name == (object)b.Name)
                {
                    a.End = b.End;
                    RemoveAt(i + 1);
                }
                else i++;
            }
        }

        /// <summary>Forgets every program area (execve): LibOS areas stay.</summary>
        public void Clear(List<Area> removed)
        {
            Forget();
            int kept = 0;
            for (int i = 0; i < _count; i++)
            {
                if (_areas[i].Kind == AreaKind.LibOS) _areas[kept++] = _areas[i];
                else removed?.Add(_areas[i]);
            }
            System.Array.Clear(_areas, kept, _count - kept); // drops the names' references
            _count = kept;
        }
    }
}
