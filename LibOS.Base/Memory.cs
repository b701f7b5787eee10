// Frames and page mappings: the secure-binding half of memory, as a libOS uses it. The kernel
// only checks (own frames, user permissions, user addresses); where things go is decided here
// and by the caller. Every helper builds PageMapRequest arrays on the stack (no heap use, so the
// heap grower and fault handlers can call them) and sends up to RequestsPerCall per PageMap
// call. One call is all or nothing; a helper that needs several calls undoes its earlier calls
// when a later one fails.
using Aegis.Abi;

namespace Aegis.LibOS
{
    public static unsafe class Memory
    {
        public const ulong PageSize = UserAddresses.PageSize;
        /// <summary>Requests per PageMap call made by these helpers (4 KiB of stack).</summary>
        public const int RequestsPerCall = 128;

        /// <summary>Permissions for data: writable, not executable.</summary>
        public const ulong ReadWrite = PageBits.Writable | PageBits.NoExecute;
        /// <summary>Permissions for read-only data.</summary>
        public const ulong ReadOnly = PageBits.NoExecute;

        public static bool IsPageAligned(ulong address) => (address & (PageSize - 1)) == 0;

        /// <summary>Takes a frame (any free one, or the named frame number). It comes zeroed.</summary>
        public static Error AllocateFrame(out ulong frame, ulong frameNumber = SystemCallLimits.AnyFrame)
        {
            SystemCallResult result = SystemCalls.FrameAllocate(frameNumber);
            frame = result.IsError ? 0 : result.Value;
            return result.Error;
        }

        /// <summary>Gives a frame back (the kernel unmaps it everywhere first).</summary>
        public static Error FreeFrame(ulong frame) => SystemCalls.FrameFree(frame);

        /// <summary>Maps one frame at a page-aligned address with PageBits permissions.</summary>
        public static Error Map(ulong address, ulong frame, ulong permissions, ulong environmentSlot = CapabilitySlots.Self)
        {
            PageMapRequest request;
            request.VirtualAddress = address;
            request.Frame = frame;
            request.Permissions = permissions;
            request.Operation = PageMapOperation.Map;
            request.Reserved = 0;
            return SystemCalls.PageMap(environmentSlot, &request, 1).Error;
        }

        /// <summary>Maps frames[i] at address + i pages.</summary>
        public static Error Map(ulong address, ulong* frames, int count, ulong permissions, ulong environmentSlot = CapabilitySlots.Self)
            => Apply(PageMapOperation.Map, address, frames, count, permissions, environmentSlot);

        /// <summary>Removes the mappings of pageCount pages from address on.</summary>
        public static Error Unmap(ulong address, int pageCount = 1, ulong environmentSlot = CapabilitySlots.Self)
            => Apply(PageMapOperation.Unmap, address, null, pageCount, 0, environmentSlot);

        /// <summary>Sets the permissions of pageCount mapped pages from address on (the frames stay):
        /// one PageProtect call per SystemCallLimits.MaximumMapRequests pages.</summary>
        public static Error Protect(ulong address, int pageCount, ulong permissions, ulong environmentSlot = CapabilitySlots.Self)
        {
            while (pageCount > 0)
            {
                int batch = pageCount < SystemCallLimits.MaximumMapRequests ? pageCount : SystemCallLimits.MaximumMapRequests;
                SystemCallResult result = SystemCalls.PageProtect(environmentSlot, address, (ulong)batch, permissions);
                if (result.IsError)
                    return result.Error;
                address += (ulong)batch * UserAddresses.PageSize;
                pageCount -= batch;
            }
            return Error.None;
        }

        /// <summary>Sends caller-built requests as they are, up to SystemCallLimits.MaximumMapRequests
        /// per call (each call all or nothing; earlier calls stay applied if a later one fails).</summary>
        public static Error Apply(PageMapRequest* requests, int count, ulong environmentSlot = CapabilitySlots.Self)
        {
            while (count > 0)
            {
                int batch = count < SystemCallLimits.MaximumMapRequests ? count : SystemCallLimits.MaximumMapRequests;
                SystemCallResult result = SystemCalls.PageMap(environmentSlot, requests, (ulong)batch);
                if (result.IsError)
                    return result.Error;
                requests += batch;
                count -= batch;
            }
            return Error.None;
        }

        /// <summary>Takes pageCount fresh frames and maps them from address on, all or nothing: on
        /// failure every frame taken is given back (which also unmaps it).</summary>
        public static Error AllocateAndMap(ulong address, int pageCount, ulong permissions)
        {
            // The kernel does both in one call per 512 pages (PageAllocate) when nothing is mapped
            // there yet; a range partly mapped (Busy) goes the long way, replacing what is there.
            int allocated = 0;
            while (allocated < pageCount)
            {
                int batch = pageCount - allocated < SystemCallLimits.MaximumMapRequests ? pageCount - allocated : SystemCallLimits.MaximumMapRequests;
                SystemCallResult result = SystemCalls.PageAllocate(address + (ulong)allocated * PageSize, (ulong)batch, permissions);
                if (result.IsError)
                {
                    if (result.Error == Error.Busy) break;
                    UnmapAndFree(address, allocated);
                    return result.Error;
                }
                allocated += batch;
            }
            if (allocated == pageCount) return Error.None;
            Error rest = AllocateAndMapEach(address + (ulong)allocated * PageSize, pageCount - allocated, permissions);
            if (rest != Error.None) UnmapAndFree(address, allocated);
            return rest;
        }

        /// <summary>AllocateAndMap one FrameAllocate per page and one PageMap per 128 (replaces what is mapped).</summary>
        private static Error AllocateAndMapEach(ulong address, int pageCount, ulong permissions)
        {
            ulong* frames = stackalloc ulong[RequestsPerCall];
            int done = 0;
            while (done < pageCount)
            {
                int batch = pageCount - done < RequestsPerCall ? pageCount - done : RequestsPerCall;
                Error error = Error.None;
                int taken = 0;
                for (; taken < batch; taken++)
                {
                    error = AllocateFrame(out frames[taken]);
                    if (error != Error.None)
                        break;
                }
                if (error == Error.None)
                    error = Map(address + (ulong)done * PageSize, frames, batch, permissions);
                if (error != Error.None)
                {
                    for (int i = 0; i < taken; i++)
                        FreeFrame(frames[i]);
                    UnmapAndFree(address, done);
                    return error;
                }
                done += batch;
            }
            return Error.None;
        }

        /// <summary>Unmaps pageCount pages from address on and gives their frames back, in the kernel
        /// (PageShare Discard, up to 512 pages a call): a frame of ours mapped nowhere else is freed,
        /// one others still map (a forked child's copy-on-write page) is given up and freed with its
        /// last mapping, a frame of someone else's only loses this mapping. Pages not mapped are
        /// skipped. Returns the first error.</summary>
        public static Error UnmapAndFree(ulong address, int pageCount)
        {
            while (pageCount > 0)
            {
                int batch = pageCount < RequestsPerCall ? pageCount : RequestsPerCall;
                SystemCallResult discarded = SystemCalls.PageShare(CapabilitySlots.Self, address, (ulong)batch, PageShareFlags.Discard, 0);
                if (discarded.IsError) return discarded.Error;
                address += (ulong)batch * PageSize;
                pageCount -= batch;
            }
            return Error.None;
        }

        /// <summary>What is mapped at address: Error.NotMapped if nothing.</summary>
        public static Error Query(ulong address, out PageInfo info, ulong environmentSlot = CapabilitySlots.Self)
        {
            SystemCallResult result = SystemCalls.PageQuery(environmentSlot, address);
            // A PTE with NoExecute (bit 63) is negative as a signed RAX: only the small negative
            // values are error codes (a PTE never has bits 52..62 set, so never looks like one).
            bool isError = result.Raw < 0 && result.Raw > MostNegativeError;
            info = isError ? default : new PageInfo(result.Value);
            return isError ? (Error)result.Raw : Error.None;
        }

        /// <summary>Error codes are -1 .. -4095 (Aegis uses far fewer); see Query.</summary>
        private const long MostNegativeError = -4096;

        /// <summary>Clears the accessed and dirty bits of a mapped page.</summary>
        public static Error Clean(ulong address, ulong environmentSlot = CapabilitySlots.Self)
            => SystemCalls.PageClean(environmentSlot, address);

        private static Error Apply(PageMapOperation operation, ulong address, ulong* frames, int count, ulong permissions, ulong environmentSlot)
        {
            if (count < 0)
                return Error.InvalidArgument;
            int batchLimit = count < RequestsPerCall ? count : RequestsPerCall;
            PageMapRequest* requests = stackalloc PageMapRequest[batchLimit == 0 ? 1 : batchLimit];
            int done = 0;
            while (done < count)
            {
                int batch = count - done < batchLimit ? count - done : batchLimit;
                for (int i = 0; i < batch; i++)
                {
                    requests[i].VirtualAddress = address + (ulong)(done + i) * PageSize;
                    requests[i].Frame = frames == null ? 0 : frames[done + i];
                    requests[i].Permissions = permissions;
                    requests[i].Operation = operation;
                    requests[i].Reserved = 0;
                }
                SystemCallResult result = SystemCalls.PageMap(environmentSlot, requests, (ulong)batch);
                if (result.IsError)
                    return result.Error;
                done += batch;
            }
            return Error.None;
        }
    }

    /// <summary>A page-table entry as PageQuery reports it.</summary>
    public readonly struct PageInfo
    {
        public PageInfo(ulong bits) { Bits = bits; }

        /// <summary>The raw entry: frame &lt;&lt; 12 | PageBits.</summary>
        public ulong Bits { get; }
        public ulong Frame => (Bits & PageBits.FrameMask) >> PageBits.FrameShift;
        public bool IsWritable => (Bits & PageBits.Writable) != 0;
        public bool IsExecutable => (Bits & PageBits.NoExecute) == 0;
        public bool IsAccessed => (Bits & PageBits.Accessed) != 0;
        public bool IsDirty => (Bits & PageBits.Dirty) != 0;
        /// <summary>The permission bits a PageMap request would carry to recreate this mapping.</summary>
        public ulong Permissions => Bits & PageBits.Allowed;
    }
}
