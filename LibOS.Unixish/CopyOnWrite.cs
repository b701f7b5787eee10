// Copy-on-write, in user space, from page-fault upcalls (the kernel only reports the fault and
// checks the mappings). Fork maps the parent's writable pages into the child read-only with
// PageBits.Software0 set (CopyOnWrite.Bit) and marks them the same way in the parent. A write to
// such a page faults; the handler registered with LibOS.Base's page-fault dispatcher gives the
// page a fresh frame of the environment's own with the same bytes, mapped writable:
//   allocate a frame -> map it at a scratch page -> copy -> map it over the faulting page and
//   unmap the scratch page (one PageMap call). Before copying it asks the kernel (PageShare
//   Reclaim | Release on the page): a frame of its own that nobody else maps any more is made
//   writable again without a copy; a frame of its own that others still map is given up (it goes
//   back to the pool with its last mapping, so a parent that forks often leaks nothing), then
//   copied. A frame that is not its own (a parent's) is copied and left to its owner.
// Since issue #9's fourth session the kernel applies this same rule itself (CopyOnWriteMark,
// asked for by AskKernel): the handler here runs only for faults the kernel declines.
// Invariants:
//   - a page with the bit set is never writable; a page the handler repaired never has the bit;
//   - the handler allocates no managed memory and writes nothing but its counter, so it runs in
//     any upcall, including a fault inside another handler (or inside itself: the counter's page
//     may be copy-on-write too); each nesting depth on the upcall stack copies through its own
//     scratch page (HandlerScratch), so nested faults never share one;
//   - code outside upcalls (fork's walk) uses a scratch page of its own (WalkScratch).
using Aegis.Abi;

namespace Aegis.LibOS.Unixish
{
    public static unsafe class CopyOnWrite
    {
        /// <summary>The software page bit that marks a copy-on-write page.</summary>
        public const ulong Bit = PageBits.Software0;
        /// <summary>The software page bit a fork sets on every page it maps into a child from the
        /// parent's frames (the Linux personality's fork, Linux/Processes/LinuxFork.cs): the frame
        /// is not the child's own, so the child copies it before handing it on. A copy drops it.</summary>
        public const ulong Borrowed = PageBits.Software1;
        /// <summary>Set with Bit on a copy-on-write page the program may write (its area is
        /// writable): the kernel copies those on a write fault (AskKernel). A page with Bit alone is
        /// read-only for the program too (a fork's MarkReadOnly, an mprotect to read-only): a write
        /// there is upcalled, and the libOS decides (SIGSEGV). A copy drops both.</summary>
        public const ulong WritableCopy = PageBits.Software2;
        /// <summary>What the kernel needs on a page to copy it for a write (CopyOnWriteMark's mark).</summary>
        public const ulong KernelMark = Bit | WritableCopy;

        /// <summary>One scratch page per this many bytes of upcall-stack depth. An upcall frame, the
        /// 128-byte gap and the trampoline's 512-byte SSE area alone exceed it, so two nested
        /// handlers never compute the same page.</summary>
        private const ulong DepthBytesPerScratch = 512;
        private const int HandlerScratchPages = (int)(AddressSpace.UpcallStackPages * UserAddresses.PageSize / DepthBytesPerScratch);

        private static ulong s_scratchBase;
        private static PageFaultHandler s_handler;

        /// <summary>Copy-on-write faults resolved by this environment (its own, not inherited).</summary>
        public static ulong FaultsResolved => s_faultsResolved;
        private static ulong s_faultsResolved;

        /// <summary>Copy-on-write faults resolved without a copy (the frame was ours alone: PageShare Reclaim).</summary>
        public static ulong FaultsReclaimed => s_faultsReclaimed;
        private static ulong s_faultsReclaimed;

        /// <summary>Reserves the scratch pages and registers the fault handler (once).</summary>
        internal static Error Install()
        {
            if (s_handler != null)
                return Error.None;
            ulong scratch = AddressSpace.Reserve(HandlerScratchPages + 1);
            if (scratch == 0)
                return Error.NoMemory;
            s_scratchBase = scratch;
            s_handler = OnPageFault;
            PageFaults.Register(s_handler);
            AskKernel();
            return Error.None;
        }

        /// <summary>Hands the common case to the kernel (SystemCall.CopyOnWriteMark): a write fault
        /// on a page with Bit is resolved there by the same rule as OnPageFault, without an upcall;
        /// the handler here sees only what the kernel declines (its account or the pool exhausted).
        /// Per environment: the first process at Install; a forked child's parent asks for it.</summary>
        internal static void AskKernel() => AskKernel(CapabilitySlots.Self);

        /// <summary>The same for a child environment (before it starts: it may write a marked page first thing).</summary>
        internal static Error AskKernel(ulong slot) => SystemCalls.CopyOnWriteMark(slot, KernelMark, Borrowed).Error;

        /// <summary>The scratch page of code that runs outside upcalls (fork's walk).</summary>
        internal static ulong WalkScratch => s_scratchBase + (ulong)HandlerScratchPages * UserAddresses.PageSize;

        private static bool OnPageFault(ref UpcallFrame frame)
        {
            if (!PageFaults.IsWrite(frame) || !PageFaults.IsProtectionViolation(frame))
                return false;
            ulong page = PageFaults.FaultPage(frame);
            // Our own frame that nobody else maps any more (the child ended or copied it): writable
            // again, no copy. Our own frame others still map: given up (freed with their last
            // mapping, charged to us until then), then copied below.
            SystemCallResult reclaimed = SystemCalls.PageShare(CapabilitySlots.Self, page, 1,
                PageShareFlags.Reclaim | PageShareFlags.Release, Bit);
            if (!reclaimed.IsError && reclaimed.Value == 1)
            {
                s_faultsReclaimed++;
                return true;
            }
            if (Memory.Query(page, out PageInfo mapping) != Error.None || (mapping.Bits & Bit) == 0)
                return false;
            ulong permissions = (mapping.Permissions & ~(Bit | Borrowed | WritableCopy)) | PageBits.Writable;
            if (ReplaceWithCopy(page, permissions, HandlerScratch(), out _) != Error.None)
                return false; // out of memory: reported as an unhandled fault
            // The old frame is not freed here: others may still map it (FrameFree would take it out
            // of every address space). If it was ours, Release gave it up above: it goes back to the
            // pool with its last mapping.
            s_faultsResolved++;
            return true;
        }

        /// <summary>Gives 'page' a fresh frame of the caller's own holding the same bytes, mapped
        /// with 'permissions', copying through 'scratch'. All or nothing.</summary>
        internal static Error ReplaceWithCopy(ulong page, ulong permissions, ulong scratch, out ulong frame)
        {
            frame = 0;
            SystemCallResult allocated = SystemCalls.FrameAllocate();
            if (allocated.IsError)
                return allocated.Error;
            ulong fresh = allocated.Value;
            Error error = Memory.Map(scratch, fresh, Memory.ReadWrite);
            if (error != Error.None)
            {
                SystemCalls.FrameFree(fresh);
                return error;
            }
            NativeMethods.CopyPage((void*)scratch, (void*)page);
            PageMapRequest* requests = stackalloc PageMapRequest[2];
            requests[0] = Request(PageMapOperation.Map, page, fresh, permissions);
            requests[1] = Request(PageMapOperation.Unmap, scratch, 0, 0);
            SystemCallResult mapped = SystemCalls.PageMap(CapabilitySlots.Self, requests, 2);
            if (mapped.IsError)
            {
                SystemCalls.FrameFree(fresh); // also unmaps the scratch page
                return mapped.Error;
            }
            frame = fresh;
            return Error.None;
        }

        internal static PageMapRequest Request(PageMapOperation operation, ulong address, ulong frame, ulong permissions)
        {
            PageMapRequest request;
            request.VirtualAddress = address;
            request.Frame = frame;
            request.Permissions = permissions;
            request.Operation = operation;
            request.Reserved = 0;
            return request;
        }

        /// <summary>The scratch page for the handler's nesting depth on the upcall stack.</summary>
        private static ulong HandlerScratch()
        {
            ulong marker = 0;
            ulong stackPointer = (ulong)&marker;
            ulong index = 0;
            if (stackPointer < AddressSpace.UpcallStackTop && stackPointer >= AddressSpace.UpcallStackBottom)
                index = (AddressSpace.UpcallStackTop - stackPointer) / DepthBytesPerScratch;
            if (index >= (ulong)HandlerScratchPages)
                index = (ulong)HandlerScratchPages - 1;
            return s_scratchBase + index * UserAddresses.PageSize;
        }
    }
}
