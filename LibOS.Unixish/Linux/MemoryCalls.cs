// The program's memory calls: brk, mmap, munmap, mprotect, madvise, mremap - Linux's semantics
// on Aegis's secure bindings. Policy: the area table (ProgramMemory) decides where things go and
// what the program may touch; pages are mapped eagerly for small anonymous areas (<= 16 pages)
// and file copies, on demand (the page-fault upcall, ProgramPages.Fault) for larger ones and
// the stack; PROT_NONE pages are unmapped with their frames kept. File-backed mappings are
// private copies of the file's bytes, except read-only ones of a file in the root archive, whose
// whole pages are the archive's own frames, shared by every process (FillFromFile: the page
// cache of shared libraries); MAP_SHARED of a file is the same when not writable; writable
// MAP_SHARED of a file is refused with -ENODEV: nothing would write it back.
// MAP_SHARED anonymous memory is marked Shared for fork (its pages are shared, not copied).
//
// Invariant: the area table changes only after the mapping work it implies succeeded, or the
// work is undone (a failed mmap leaves neither an area nor pages).
using System.Collections.Generic;
using Aegis.Abi;
using static Aegis.LibOS.Unixish.Linux.LinuxSystemCallNumbers;

namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class MemoryCalls
    {
        public const int MapShared = 0x01, MapPrivate = 0x02, MapSharedValidate = 0x03, MapType = 0x0F,
            MapFixed = 0x10, MapAnonymous = 0x20, MapGrowsDown = 0x100, MapDenyWrite = 0x800, MapExecutable = 0x1000,
            MapLocked = 0x2000, MapNoReserve = 0x4000, MapPopulate = 0x8000, MapNonBlock = 0x10000, MapStack = 0x20000,
            MapHugeTlb = 0x40000, MapSync = 0x80000, MapFixedNoReplace = 0x100000;
        public const int MremapMayMove = 1, MremapFixed = 2, MremapDontUnmap = 4;
        public const int MadvDontNeed = 4, MadvFree = 8, MadvRemove = 9;
        private const ulong Page = 4096;
        /// <summary>Read-only archive file maps larger than this many pages are filled on demand.</summary>
        public const ulong LazyFilePages = 32;
        /// <summary>Pages a fault in a lazy file area fills around the faulting one (an aligned group).</summary>
        public const ulong FaultAroundPages = 16;

        public static void Register()
        {
            LinuxSystemCalls.Define(brk, &Brk);
            LinuxSystemCalls.Define(mmap, &Mmap);
            LinuxSystemCalls.Define(munmap, &Munmap);
            LinuxSystemCalls.Define(mprotect, &Mprotect);
            LinuxSystemCalls.Define(madvise, &Madvise);
            LinuxSystemCalls.Define(mremap, &Mremap);
            LinuxSystemCalls.Define(msync, &Msync);
            LinuxSystemCalls.Define(mlock, &Mlock);
            LinuxSystemCalls.Define(munlock, &Mlock);
            LinuxSystemCalls.Define(mlockall, &MlockAll);
            LinuxSystemCalls.Define(munlockall, &MlockAll);
            LinuxSystemCalls.Define(get_mempolicy, &GetMempolicy);
        }

        private static ProgramMemory Areas => LinuxProcess.Memory;

        // ---- brk ------------------------------------------------------------------------------

        /// <summary>brk(addr): the new break, or the old one when it cannot move there (Linux returns
        /// the current break on failure, never an errno).</summary>
        public static long Brk(ref LinuxCall call) => (long)SetBreak(call.A0);

        public static ulong SetBreak(ulong requested)
        {
            ulong start = LinuxProcess.BreakStart, current = LinuxProcess.Break;
            if (requested < start || requested - start > LinuxProcess.BreakLimit) return current;
            ulong oldEnd = ProgramMemory.PageUp(current), newEnd = ProgramMemory.PageUp(requested);
            if (newEnd > oldEnd)
            {
                int index = oldEnd == start ? -1 : Areas.IndexOf(start);
                if (index < 0)
                {
                    var heap = new Area { Start = start, End = newEnd, Protection = Protection.Read | Protection.Write, Kind = AreaKind.Heap, Name = "[heap]" };
                    if (!Areas.Insert(heap)) return current;
                }
                else if (!Areas.Resize(index, newEnd)) return current;
            }
            else if (newEnd < oldEnd)
            {
                ProgramPages.Release(newEnd, oldEnd);
                Areas.Remove(newEnd, oldEnd, null);
            }
            LinuxProcess.Break = requested;
            return requested;
        }

        // ---- mmap -----------------------------------------------------------------------------

        public static long Mmap(ref LinuxCall call)
            => Map(call.A0, call.A1, (int)call.A2, (int)call.A3, (int)call.A4, call.A5,
                (call.A3 & MapAnonymous) == 0 ? ProgramFiles.DescriptorName((int)call.A4) : null);

        /// <summary>mmap. name: what /proc/self/maps shows for a file mapping (null: the VFS's path is unknown here).</summary>
        public static long Map(ulong address, ulong length, int protection, int flags, int fd, ulong offset, string name)
        {
            if (length == 0) return -Errno.EINVAL;
            int type = flags & MapType;
            if (type != MapShared && type != MapPrivate && type != MapSharedValidate) return -Errno.EINVAL;
            if ((protection & ~Protection.All) != 0) return -Errno.EINVAL;
            if ((offset & (Page - 1)) != 0) return -Errno.EINVAL;
            if ((flags & MapHugeTlb) != 0) return -Errno.EINVAL;
            ulong size = ProgramMemory.PageUp(length);
            if (size == 0 || size > ProgramMemory.WindowHigh) return -Errno.ENOMEM;
            bool anonymous = (flags & MapAnonymous) != 0;
            bool shared = type != MapPrivate;
            bool fixedPlace = (flags & (MapFixed | MapFixedNoReplace)) != 0;

            byte* fileData = null;
            ulong fileLength = 0;
            if (!anonymous)
            {
                int error = ProgramFiles.TryGetDescriptorBytes(fd, out fileData, out fileLength);
                if (error < 0) return error;
                if (shared && (protection & Protection.Write) != 0) return -Errno.ENODEV;
                if (offset > ulong.MaxValue - size) return -Errno.EOVERFLOW;
            }

            ulong start;
            if (fixedPlace)
            {
                if ((address & (Page - 1)) != 0) return -Errno.EINVAL;
                if (address > ProgramMemory.WindowHigh - size || !ProgramMemory.InWindow(address, address + size)) return -Errno.ENOMEM;
                if (Areas.TouchesLibOS(address, address + size)) return -Errno.ENOMEM;
                if (!Areas.IsFree(address, address + size))
                {
                    if ((flags & MapFixed) == 0) return -Errno.EEXIST;
                    Unmap(address, address + size);
                }
                start = address;
            }
            else
            {
                start = Areas.FindFree(size, address);
                if (start == 0) return -Errno.ENOMEM;
            }

            var area = new Area
            {
                Start = start, End = start + size, Protection = protection, Shared = shared && anonymous,
                Kind = anonymous ? AreaKind.Anonymous : AreaKind.File, Name = anonymous ? null : name, FileOffset = anonymous ? 0 : offset,
            };

            // Policy: a large read-only map of a file in the root archive, not placed over another
            // mapping, is filled on demand (the dynamic linker maps each library whole this way,
            // then maps its segments over it with MAP_FIXED: filling the first would be work thrown
            // away). Everything else is filled now.
            if (!anonymous && !fixedPlace && protection == Protection.Read && size / Page > LazyFilePages
                && Loader.MayAlias() && Loader.InArchive((ulong)fileData, fileLength))
            {
                area.Kind = AreaKind.LazyFile;
                if (!Areas.Insert(area)) return -Errno.ENOMEM;
                (s_lazy ??= new List<LazyRange>()).Add(new LazyRange { Start = start, End = start + size, Data = (ulong)fileData, Length = fileLength });
                return (long)start;
            }
            if (!Areas.Insert(area)) return -Errno.ENOMEM;

            Error mapped = Error.None;
            if (!anonymous)
                mapped = FillFromFile(start, size, protection, fileData, fileLength, offset);
            else if (protection != Protection.None && (size / Page <= ProgramPages.EagerPages || (flags & MapPopulate) != 0))
                mapped = ProgramPages.MapZeroed(start, start + size, protection);
            if (mapped != Error.None)
            {
                Unmap(start, start + size);
                return -Errno.ENOMEM;
            }
            return (long)start;
        }

        /// <summary>Maps [start, start + size) with the file's bytes from offset (zeros past its end)
        /// and the protection. A read-only mapping of a file in the root archive maps the archive's
        /// own frames for its whole pages of file bytes (Loader.AliasFilePages: the libOS's page
        /// cache, shared by every process; not in the first process, which owns the archive);
        /// every other page is a private copy: mapped writable, copied, then given the protection.</summary>
        public static Error FillFromFile(ulong start, ulong size, int protection, byte* data, ulong length, ulong offset)
        {
            ulong aliasEnd = start;
            if ((protection & Protection.Write) == 0 && protection != Protection.None && offset < length && Loader.MayAlias())
            {
                ulong wholePages = (length - offset) & ~(Page - 1);
                if (wholePages > size) wholePages = size;
                if (wholePages != 0 && Loader.AliasFilePages((ulong)data + offset, start, start + wholePages, protection))
                    aliasEnd = start + wholePages;
            }
            ulong copyStart = aliasEnd, end = start + size;
            if (copyStart == end) return Error.None;
            Error error = ProgramPages.MapZeroed(copyStart, end, Protection.Read | Protection.Write);
            if (error != Error.None) return error;
            ulong from = offset + (copyStart - start);
            if (from < length)
            {
                OnDemandPages.Ensure((ulong)data + from, length - from < end - copyStart ? length - from : end - copyStart);
                ulong bytes = length - from < end - copyStart ? length - from : end - copyStart;
                System.Buffer.MemoryCopy(data + from, (void*)copyStart, (long)bytes, (long)bytes);
            }
            if (protection != (Protection.Read | Protection.Write))
                return ProgramPages.Reprotect(copyStart, end, protection);
            return Error.None;
        }

        /// <summary>Where the files of lazy areas are: the range each was mapped at, the file's first
        /// byte (in the root archive) and its length. A fault finds the newest range holding its
        /// address; munmap drops the ranges it covers whole; exec forgets them all.</summary>
        private struct LazyRange
        {
            public ulong Start, End, Data, Length;
        }

        private static List<LazyRange> s_lazy;

        /// <summary>exec: no lazy area is left.</summary>
        public static void ForgetLazy() => s_lazy?.Clear();

        private static bool FindLazy(ulong address, out LazyRange range)
        {
            range = default;
            if (s_lazy == null) return false;
            for (int i = s_lazy.Count - 1; i >= 0; i--)
                if (address >= s_lazy[i].Start && address < s_lazy[i].End) { range = s_lazy[i]; return true; }
            return false;
        }

        /// <summary>A fault in a lazy file area: the aligned group of FaultAroundPages around page,
        /// inside the area, filled from the file where not filled yet.</summary>
        public static Error FillLazy(in Area area, ulong page)
        {
            ulong group = FaultAroundPages * Page;
            ulong first = page & ~(group - 1), last = first + group;
            if (first < area.Start) first = area.Start;
            if (last > area.End) last = area.End;
            return FillLazyRange(area, first, last);
        }

        /// <summary>The pages of [first, last) (inside the lazy area) not filled yet, filled from the
        /// file (FillFromFile: the archive's frames for whole pages, a copy for the last partial one,
        /// zeros past the file's end).</summary>
        private static Error FillLazyRange(in Area area, ulong first, ulong last)
        {
            if (!FindLazy(first, out LazyRange file)) return Error.NoMemory; // cannot happen: every lazy area has its range
            ulong at = first;
            while (ProgramPages.NextUnfilled(ref at, last, out ulong run, out int pages))
            {
                Error error = FillFromFile(run, (ulong)pages * Page, area.Protection, (byte*)file.Data, file.Length,
                    area.FileOffset + (run - area.Start));
                if (error != Error.None) return error;
            }
            return Error.None;
        }

        // ---- munmap ---------------------------------------------------------------------------

        public static long Munmap(ref LinuxCall call)
        {
            ulong address = call.A0, length = call.A1;
            if ((address & (Page - 1)) != 0 || length == 0) return -Errno.EINVAL;
            ulong size = ProgramMemory.PageUp(length);
            if (size == 0 || address > ulong.MaxValue - size) return -Errno.EINVAL;
            ulong end = address + size;
            if (end > ProgramMemory.WindowHigh || address < ProgramMemory.WindowLow) return -Errno.EINVAL;
            if (Areas.TouchesLibOS(address, end)) return -Errno.EINVAL;
            Unmap(address, end);
            return 0;
        }

        /// <summary>Removes [start, end) from the areas and its pages from the address space.</summary>
        public static void Unmap(ulong start, ulong end)
        {
            ProgramPages.Release(start, end);
            Areas.Remove(start, end, null);
            if (s_lazy != null)
                for (int i = s_lazy.Count - 1; i >= 0; i--)
                    if (s_lazy[i].Start >= start && s_lazy[i].End <= end) s_lazy.RemoveAt(i);
        }

        // ---- mprotect -------------------------------------------------------------------------

        public const int ProtGrowsDown = 0x01000000, ProtGrowsUp = 0x02000000;

        public static long Mprotect(ref LinuxCall call)
        {
            ulong address = call.A0, length = call.A1;
            int protection = (int)call.A2 & ~(ProtGrowsDown | ProtGrowsUp);
            if ((address & (Page - 1)) != 0 || ((int)call.A2 & ~(Protection.All | ProtGrowsDown | ProtGrowsUp)) != 0) return -Errno.EINVAL;
            if (length == 0) return 0;
            ulong size = ProgramMemory.PageUp(length);
            if (size == 0 || address > ulong.MaxValue - size) return -Errno.ENOMEM;
            ulong end = address + size;
            if (!Areas.IsCovered(address, end, Protection.None)) return -Errno.ENOMEM;
            if (ProgramPages.Reprotect(address, end, protection) != Error.None) return -Errno.ENOMEM;
            Areas.Protect(address, end, protection);
            return 0;
        }

        // ---- madvise, msync, mlock --------------------------------------------------------------

        public static long Madvise(ref LinuxCall call)
        {
            ulong address = call.A0, length = call.A1;
            int advice = (int)call.A2;
            if ((address & (Page - 1)) != 0) return -Errno.EINVAL;
            if (length == 0) return 0;
            ulong size = ProgramMemory.PageUp(length);
            if (size == 0 || address > ulong.MaxValue - size) return -Errno.EINVAL;
            ulong end = address + size;
            if (advice < 0 || advice > 25 || (advice >= 5 && advice <= 7)) return -Errno.EINVAL;
            if (!Areas.IsCovered(address, end, Protection.None)) return -Errno.ENOMEM;
            if (advice == MadvDontNeed || advice == MadvRemove)
            {
                // Private anonymous memory reads back as zeros: give the pages back, the next
                // touch maps a zeroed one (the area keeps its protection). Heap and stack too.
                for (int i = Areas.IndexOf(address); i >= 0 && i < Areas.Count && Areas[i].Start < end; i++)
                {
                    Area area = Areas[i];
                    if (area.Kind == AreaKind.File || area.Kind == AreaKind.Image || area.Kind == AreaKind.LazyFile || area.Shared) continue;
                    ulong from = area.Start > address ? area.Start : address, to = area.End < end ? area.End : end;
                    ProgramPages.Release(from, to);
                }
            }
            return 0;
        }

        public static long Msync(ref LinuxCall call)
        {
            if ((call.A0 & (Page - 1)) != 0 || (call.A2 & ~7UL) != 0) return -Errno.EINVAL;
            ulong size = ProgramMemory.PageUp(call.A1);
            if (call.A1 != 0 && (size == 0 || !Areas.IsCovered(call.A0, call.A0 + size, Protection.None))) return -Errno.ENOMEM;
            return 0; // private copies: nothing to write back
        }

        public const int MPOL_F_NODE = 1, MPOL_F_ADDR = 2, MPOL_F_MEMS_ALLOWED = 4;

        /// <summary>get_mempolicy(mode, nodemask, maxnode, addr, flags) as Linux answers on a machine
        /// with one memory node (node 0) and no policy set: mode MPOL_DEFAULT (0) and an empty mask;
        /// MPOL_F_MEMS_ALLOWED: the allowed nodes, {0}; MPOL_F_NODE|MPOL_F_ADDR: the node of the page
        /// at addr, 0 (EFAULT when nothing is mapped there). The .NET runtime asks at start-up whether
        /// NUMA calls work (get_mempolicy(NULL, NULL, 0, NULL, 0)).</summary>
        public static long GetMempolicy(ref LinuxCall call)
        {
            ulong modeAddress = call.A0, maskAddress = call.A1, maxNode = call.A2, address = call.A3, flags = call.A4;
            if ((flags & ~(ulong)(MPOL_F_NODE | MPOL_F_ADDR | MPOL_F_MEMS_ALLOWED)) != 0) return -Errno.EINVAL;
            if ((flags & MPOL_F_MEMS_ALLOWED) != 0 && (flags & (MPOL_F_NODE | MPOL_F_ADDR)) != 0) return -Errno.EINVAL;
            if ((flags & MPOL_F_ADDR) == 0 && address != 0) return -Errno.EINVAL;
            if (maskAddress != 0 && (maxNode < 1 || maxNode > 4096 * 8)) return -Errno.EINVAL; // Linux: at most a page of mask
            if ((flags & MPOL_F_ADDR) != 0 && !Areas.IsCovered(address & ~(Page - 1), (address & ~(Page - 1)) + Page, Protection.None)) return -Errno.EFAULT;
            if (modeAddress != 0)
            {
                int mode = 0; // MPOL_DEFAULT; with MPOL_F_NODE: node 0
                if (!UserPointers.CopyOut(modeAddress, &mode, 4)) return -Errno.EFAULT;
            }
            if (maskAddress != 0)
            {
                ulong words = (maxNode + 63) / 64;
                for (ulong i = 0; i < words; i++)
                {
                    ulong word = i == 0 && (flags & MPOL_F_MEMS_ALLOWED) != 0 ? 1UL : 0;
                    if (!UserPointers.CopyOut(maskAddress + i * 8, &word, 8)) return -Errno.EFAULT;
                }
            }
            return 0;
        }

        /// <summary>mlock/munlock: every mapped page stays resident anyway (no swapping here).</summary>
        public static long Mlock(ref LinuxCall call)
        {
            ulong start = call.A0 & ~(Page - 1);
            ulong end = ProgramMemory.PageUp(call.A0 + call.A1);
            if (call.A1 == 0) return 0;
            if (end == 0 || !Areas.IsCovered(start, end, Protection.None)) return -Errno.ENOMEM;
            return 0;
        }

        public static long MlockAll(ref LinuxCall call) => (call.A0 & ~7UL) != 0 ? -Errno.EINVAL : 0;

        // ---- mremap ---------------------------------------------------------------------------

        public static long Mremap(ref LinuxCall call)
        {
            ulong old = call.A0, oldLength = call.A1, newLength = call.A2, target = call.A4;
            int flags = (int)call.A3;
            if ((old & (Page - 1)) != 0 || (flags & ~(MremapMayMove | MremapFixed | MremapDontUnmap)) != 0) return -Errno.EINVAL;
            if ((flags & MremapFixed) != 0 && (flags & MremapMayMove) == 0) return -Errno.EINVAL;
            if ((flags & MremapDontUnmap) != 0) return -Errno.EINVAL; // not offered (it needs userfaultfd semantics)
            ulong oldSize = ProgramMemory.PageUp(oldLength), newSize = ProgramMemory.PageUp(newLength);
            if (newLength == 0 || newSize == 0 || newSize > ProgramMemory.WindowHigh) return -Errno.EINVAL;
            if (oldSize == 0) return -Errno.EINVAL; // duplicating a shared mapping (old_size 0) is not offered
            int index = Areas.IndexOf(old);
            if (index < 0 || old > ulong.MaxValue - oldSize || Areas[index].End < old + oldSize || Areas[index].Kind == AreaKind.LibOS)
                return -Errno.EFAULT;
            Area area = Areas[index];
            if (area.Kind == AreaKind.LazyFile)
            {
                // Moved or grown, a lazy area is first filled whole and becomes an ordinary file area.
                if (FillLazyRange(area, area.Start, area.End) != Error.None) return -Errno.ENOMEM;
                Areas.SetKind(index, AreaKind.File);
                area = Areas[index];
            }

            if ((flags & MremapFixed) == 0)
            {
                if (newSize <= oldSize)
                {
                    if (newSize < oldSize) Unmap(old + newSize, old + oldSize);
                    return (long)old;
                }
                // Grow in place when the area ends here and the room after it is free.
                if (area.End == old + oldSize && old + newSize <= ProgramMemory.WindowHigh && Areas.IsFree(old + oldSize, old + newSize)
                    && Areas.Resize(index, old + newSize))
                    return (long)old;
                if ((flags & MremapMayMove) == 0) return -Errno.ENOMEM;
                target = Areas.FindFree(newSize, 0);
                if (target == 0) return -Errno.ENOMEM;
            }
            else
            {
                if ((target & (Page - 1)) != 0 || target > ProgramMemory.WindowHigh - newSize || !ProgramMemory.InWindow(target, target + newSize))
                    return -Errno.EINVAL;
                if (Areas.TouchesLibOS(target, target + newSize)) return -Errno.EINVAL;
                if (target < old + oldSize && old < target + newSize) return -Errno.EINVAL;
                Unmap(target, target + newSize);
            }

            // Move: a new area of the same kind, the frames remapped (no copy), the old range dropped.
            ulong keep = oldSize < newSize ? oldSize : newSize;
            var moved = area;
            moved.Start = target;
            moved.End = target + newSize;
            if (moved.Kind == AreaKind.File || moved.Kind == AreaKind.Image) moved.FileOffset += old - area.Start;
            if (moved.Kind == AreaKind.Heap || moved.Kind == AreaKind.Stack) { moved.Kind = AreaKind.Anonymous; moved.Name = null; }
            if (!Areas.Insert(moved)) return -Errno.ENOMEM;
            if (ProgramPages.Move(old, target, keep, area.Protection) != Error.None)
            {
                Unmap(target, target + newSize);
                return -Errno.ENOMEM;
            }
            Unmap(old, old + oldSize);
            return (long)target;
        }
    }
}
