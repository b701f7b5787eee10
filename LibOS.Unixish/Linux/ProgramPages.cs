// The pages behind the program's areas: which pages the libOS has mapped for the program (the
// rest of an area is filled on demand by the page-fault upcall), and the frames of PROT_NONE
// pages it keeps unmapped ("parked") so that a later mprotect gives their bytes back.
//
// Invariants (s_pages: PageSlots, a two-level table): a page is in s_pages iff the libOS mapped
// it for the program (value 0) or parked it (value frame + 1, not mapped, PROT_NONE); a mapped
// page's frame is always read back with
// PageQuery (a fork's copy-on-write may have replaced it), never trusted from here. Every
// program page lies in an area of LinuxProcess.Memory. Fault handling here allocates managed
// memory only for a fault at a program address (never inside the runtime's allocator: that
// never touches program memory).
using System.Collections.Generic;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    public enum FaultOutcome
    {
        /// <summary>The page was filled: resume.</summary>
        Resolved,
        /// <summary>Not at a program address, or a protection fault the areas allow (copy-on-write): someone else's.</summary>
        NotMine,
        /// <summary>No area there (SIGSEGV, SEGV_MAPERR).</summary>
        Unmapped,
        /// <summary>The area forbids the access (SIGSEGV, SEGV_ACCERR).</summary>
        Forbidden,
        /// <summary>No frame left (the program is killed, as Linux's OOM killer would).</summary>
        OutOfMemory,
    }

    public static unsafe class ProgramPages
    {
        private const ulong Page = 4096;
        /// <summary>Anonymous areas up to this many pages are mapped at mmap time; larger ones on demand.</summary>
        public const ulong EagerPages = 16;

        private static readonly PageSlots s_pages = new PageSlots();

        public static int Count => s_pages.Count;

        public static ulong Bits(int protection)
            => ((protection & Protection.Write) != 0 ? PageBits.Writable : 0) | ((protection & Protection.Execute) != 0 ? 0 : PageBits.NoExecute);

        /// <summary>Maps fresh zeroed frames over [start, end) with the protection's bits (pages
        /// already there are kept). Error.NoMemory leaves what was mapped so far in the table.</summary>
        public static Error MapZeroed(ulong start, ulong end, int protection)
        {
            if (protection == Protection.None) return Error.None;
            ulong bits = Bits(protection);
            ulong at = start;
            // Each run of pages not yet filled: one PageMap per 128 (Memory.AllocateAndMap).
            while (s_pages.NextEmpty(ref at, end, out ulong run, out int pages))
            {
                Error error = Memory.AllocateAndMap(run, pages, bits);
                if (error != Error.None) return error;
                s_pages.SetRange(run, pages, 0);
            }
            return Error.None;
        }

        /// <summary>The next run of pages of [at, end) the libOS has neither mapped nor parked: its
        /// start and length (at moves past it); false when there is none.</summary>
        public static bool NextUnfilled(ref ulong at, ulong end, out ulong run, out int pages)
            => s_pages.NextEmpty(ref at, end, out run, out pages);

        /// <summary>Gives [start, end), pages MapZeroed has just filled (none parked, none
        /// copy-on-write), the protection in one PageProtect per 512 pages (exec's segments); any
        /// other case goes through Reprotect.</summary>
        public static Error ProtectFilled(ulong start, ulong end, int protection)
        {
            if (protection == Protection.None) return Reprotect(start, end, protection);
            ulong bits = Bits(protection);
            while (start < end)
            {
                ulong pages = (end - start) / Page;
                if (pages > (ulong)SystemCallLimits.MaximumMapRequests) pages = (ulong)SystemCallLimits.MaximumMapRequests;
                Error error = SystemCalls.PageProtect(CapabilitySlots.Self, start, pages, bits).Error;
                if (error != Error.None) return error;
                start += pages * Page;
            }
            return Error.None;
        }

        /// <summary>The lowest page of [start, end) the libOS has mapped or parked, or end.</summary>
        public static ulong FirstFilled(ulong start, ulong end)
        {
            ulong at = start;
            return s_pages.NextFilled(ref at, end, out ulong run, out _, out _) ? run : end;
        }

        /// <summary>The pages of [start, end) the libOS has mapped or parked, ascending.</summary>
        public static void Collect(ulong start, ulong end, List<ulong> into) => s_pages.Collect(start, end, into);

        /// <summary>Unmaps [start, end) and gives its frames back (parked ones too).</summary>
        public static void Release(ulong start, ulong end)
        {
            // The mapped pages go in runs, in the kernel (Memory.UnmapAndFree: PageShare Discard): a
            // frame shared with a parent or a child (copy-on-write) is only unmapped or given up,
            // never taken from them.
            ulong at = start;
            while (s_pages.NextFilled(ref at, end, out ulong run, out int pages, out ulong parked))
            {
                s_pages.RemoveRange(run, pages);
                if (parked != 0) Memory.FreeFrame(parked - 1);
                else Memory.UnmapAndFree(run, pages);
            }
        }

        /// <summary>Gives [start, end)'s pages the protection: parks them for PROT_NONE, maps parked
        /// ones back otherwise. Pages not yet filled stay unfilled (the fault uses the area's new protection).</summary>
        public static Error Reprotect(ulong start, ulong end, int protection)
        {
            var pages = new List<ulong>();
            Collect(start, end, pages);
            ulong bits = Bits(protection);
            foreach (ulong page in pages)
            {
                ulong parked = s_pages[page];
                Error error;
                if (protection == Protection.None)
                {
                    if (parked != 0) continue;
                    if (Memory.Query(page, out PageInfo info) != Error.None) { s_pages.Remove(page); continue; }
                    if ((info.Bits & CopyOnWrite.Bit) != 0 && !OwnCopy(page, out info)) return Error.NoMemory;
                    error = Memory.Unmap(page);
                    if (error == Error.None) s_pages[page] = info.Frame + 1;
                }
                else if (parked != 0)
                {
                    error = Memory.Map(page, parked - 1, bits);
                    if (error == Error.None) s_pages[page] = 0;
                }
                else
                {
                    // Keep a copy-on-write page read-only with its mark (the copy takes the new rights);
                    // the kernel may copy it for a write only while the program may write it.
                    if (Memory.Query(page, out PageInfo info) == Error.None && (info.Bits & CopyOnWrite.Bit) != 0)
                        error = SystemCalls.PageProtect(CapabilitySlots.Self, page, 1, (bits & ~PageBits.Writable) | CopyOnWrite.Bit
                            | ((bits & PageBits.Writable) != 0 ? CopyOnWrite.WritableCopy : 0)).Error;
                    else
                        error = SystemCalls.PageProtect(CapabilitySlots.Self, page, 1, bits).Error;
                }
                if (error != Error.None) return error;
            }
            return Error.None;
        }

        /// <summary>A copy-on-write page (a frame shared with a parent, a child, or the root archive
        /// through exec's PageAlias) becomes this process's own copy: a parked frame must be one it
        /// may map again (PageMap maps only frames it owns). The page is made writable copy-on-write
        /// and a byte written back: the kernel (or the libOS's handler) copies it. info: the page's
        /// new frame and bits.</summary>
        private static bool OwnCopy(ulong page, out PageInfo info)
        {
            SystemCalls.PageProtect(CapabilitySlots.Self, page, 1, PageBits.NoExecute | CopyOnWrite.Bit | CopyOnWrite.WritableCopy);
            byte* at = (byte*)page;
            byte value = *at;
            *at = value; // the write fault: the kernel copies the page
            return Memory.Query(page, out info) == Error.None && (info.Bits & CopyOnWrite.Bit) == 0;
        }

        /// <summary>Moves the pages of [from, from + length) to [to, to + length) without copying
        /// bytes (the frames are remapped). The destination must hold no pages.</summary>
        public static Error Move(ulong from, ulong to, ulong length, int protection)
        {
            var pages = new List<ulong>();
            Collect(from, from + length, pages);
            ulong bits = Bits(protection);
            for (int i = 0; i < pages.Count; i++)
            {
                Error error = MovePage(pages[i], to + (pages[i] - from), bits);
                if (error == Error.None) continue;
                // All or nothing: the pages moved so far go back where they were (each move only
                // changed where a frame is mapped, so moving back needs nothing new).
                for (int j = i - 1; j >= 0; j--) MovePage(to + (pages[j] - from), pages[j], bits);
                return error;
            }
            return Error.None;
        }

        /// <summary>One page of Move: a parked page's record, or the mapping. A page shared
        /// copy-on-write (a parent's or child's frame, or one of the root archive's that exec
        /// aliased) is mapped at the target with PageAlias — the frame may not be this process's
        /// own, which PageMap would refuse — keeping its read-only permissions and mark, so a
        /// write there still gets a private copy; any other page is remapped with bits.</summary>
        private static Error MovePage(ulong page, ulong target, ulong bits)
        {
            ulong parked = s_pages[page];
            if (parked != 0)
            {
                s_pages.Remove(page);
                s_pages[target] = parked;
                return Error.None;
            }
            if (Memory.Query(page, out PageInfo info) != Error.None)
            {
                s_pages.Remove(page);
                return Error.None;
            }
            Error error;
            if ((info.Bits & CopyOnWrite.Bit) != 0 && !info.IsWritable)
            {
                SystemCallResult aliased = SystemCalls.PageAlias(page, target, 1, info.Permissions);
                error = aliased.IsError ? aliased.Error : Error.None;
            }
            else
            {
                error = Memory.Map(target, info.Frame, (info.Bits & CopyOnWrite.Bit) != 0 ? info.Permissions : bits);
            }
            if (error != Error.None) return error;
            Memory.Unmap(page);
            s_pages.Remove(page);
            s_pages[target] = 0;
            return Error.None;
        }

        /// <summary>Records [start, end) as mapped by the libOS through another path (exec's
        /// PageAlias of read-only segment pages: released like any other, PageShare Discard only
        /// unmaps a frame the process does not own).</summary>
        public static void AdoptRange(ulong start, ulong end)
        {
            if (end > start) s_pages.SetRange(start, (int)((end - start) / Page), 0);
        }

        /// <summary>Unmaps [start, end), pages PageAlias mapped and nobody recorded yet.</summary>
        public static void UnmapAliased(ulong start, ulong end) => Memory.Unmap(start, (int)((end - start) / Page));

        /// <summary>Forgets a page the libOS mapped through some other path (the loader's copies).</summary>
        public static void Adopt(ulong page) => s_pages[page] = 0;

        /// <summary>A page fault at address (write/execute access): fills it if an area allows it.</summary>
        public static FaultOutcome Fault(ulong address, bool write, bool execute, bool present)
        {
            ProgramMemory memory = LinuxProcess.Memory;
            if (memory == null) return FaultOutcome.NotMine;
            int index = memory.IndexOf(address);
            if (index < 0) return FaultOutcome.Unmapped;
            Area area = memory[index];
            if (area.Kind == AreaKind.LibOS) return FaultOutcome.NotMine;
            if (area.Protection == Protection.None
                || (write && (area.Protection & Protection.Write) == 0)
                || (execute && (area.Protection & Protection.Execute) == 0))
                return FaultOutcome.Forbidden;
            if (present) return FaultOutcome.NotMine;
            ulong page = address & ~(Page - 1);
            if (s_pages.Contains(page)) return FaultOutcome.NotMine;
            Error error = area.Kind == AreaKind.LazyFile ? MemoryCalls.FillLazy(area, page) : MapZeroed(page, page + Page, area.Protection);
            return error == Error.None ? FaultOutcome.Resolved : FaultOutcome.OutOfMemory;
        }

        /// <summary>The handler LibOS.Base's dispatcher offers faults the libOS itself takes while
        /// touching program memory it checked (a demand-paged buffer): claims only what it fills.</summary>
        internal static bool OnLibOSFault(ref UpcallFrame frame)
            => Fault(frame.FaultAddress, PageFaults.IsWrite(frame), false, PageFaults.IsProtectionViolation(frame)) == FaultOutcome.Resolved;
    }
}
