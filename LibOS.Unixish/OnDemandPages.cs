// Read-only memory a forked child maps only when it touches it (issue #9, fast fork): large
// read-only parts of the libOS image, such as the Linux personality's embedded root archive
// (about 7,000 pages), are not mapped into a child at fork. The parent marks them with
// PageShare(child, range, OnDemand); the child's first touch of a page there faults (not
// present), and the handler here asks the kernel to map the frames its nearest ancestor maps
// (PageInherit), a cluster of pages at a time. Code that is about to read much of such a range
// (the loader reading a program from the archive) maps it in one go with Ensure.
// Invariants: the ranges are set before the first fork (a child reads them from its inherited
// copy of this class's statics) and never change; the handler allocates nothing and claims
// only a not-present fault inside a range whose page the kernel then mapped; in the first
// process (which has every page) the handler never runs.
using Aegis.Abi;

namespace Aegis.LibOS.Unixish
{
    public static class OnDemandPages
    {
        /// <summary>Most ranges Add accepts.</summary>
        public const int MaximumRanges = 4;
        /// <summary>Pages mapped per fault (aligned, clipped to the range): a reader of the archive
        /// goes through a file's pages in order.</summary>
        public const ulong ClusterPages = 16;
        private const ulong Page = UserAddresses.PageSize;

        private static readonly ulong[] s_starts = new ulong[MaximumRanges];
        private static readonly ulong[] s_ends = new ulong[MaximumRanges];
        private static int s_count;
        private static PageFaultHandler s_handler;

        /// <summary>Whether this process maps the ranges from an ancestor (a forked process: it owns
        /// none of their frames); false in the first process, which has them all.</summary>
        public static bool FromAncestor;

        /// <summary>Faults resolved by mapping an ancestor's pages (this environment's own count).</summary>
        public static ulong FaultsResolved;

        public static int Count => s_count;

        /// <summary>Range 'index' as [start, end), page-aligned.</summary>
        public static void Get(int index, out ulong start, out ulong end)
        {
            start = s_starts[index];
            end = s_ends[index];
        }

        /// <summary>Makes [start, end) (page-aligned outward) a range children map on demand, and
        /// registers the fault handler (once). False when the table is full or the range is empty.</summary>
        public static bool Add(ulong start, ulong end)
        {
            start &= ~(Page - 1);
            end = (end + Page - 1) & ~(Page - 1);
            if (s_count == MaximumRanges || end <= start) return false;
            if (s_handler == null)
            {
                s_handler = OnPageFault;
                PageFaults.Register(s_handler);
            }
            s_starts[s_count] = start;
            s_ends[s_count] = end;
            s_count++;
            return true;
        }

        /// <summary>Whether address lies in a range; its bounds when it does.</summary>
        public static bool Find(ulong address, out ulong start, out ulong end)
        {
            for (int i = 0; i < s_count; i++)
            {
                if (address < s_starts[i] || address >= s_ends[i]) continue;
                start = s_starts[i];
                end = s_ends[i];
                return true;
            }
            start = end = 0;
            return false;
        }

        /// <summary>Maps whatever of [address, address + length) lies in a range and is not mapped yet
        /// (a no-op in a process that has it all). Errors are ignored: a page left out faults later.</summary>
        public static void Ensure(ulong address, ulong length)
        {
            if (s_count == 0 || length == 0) return;
            ulong page = address & ~(Page - 1), last = address + length;
            while (page < last)
            {
                if (!Find(page, out ulong start, out ulong end))
                {
                    page += Page;
                    continue;
                }
                ulong stop = last < end ? (last + Page - 1) & ~(Page - 1) : end;
                while (page < stop)
                {
                    ulong pages = (stop - page) / Page;
                    if (pages > SystemCallLimits.MaximumMapRequests) pages = SystemCallLimits.MaximumMapRequests;
                    SystemCallResult mapped = SystemCalls.PageInherit(page, pages);
                    if (mapped.IsError) return; // not a child with on-demand ranges (the first process)
                    page += pages * Page;
                }
            }
        }

        private static bool OnPageFault(ref UpcallFrame frame)
        {
            if (PageFaults.IsProtectionViolation(frame)) return false;
            ulong page = PageFaults.FaultPage(frame);
            if (!Find(page, out ulong start, out ulong end)) return false;
            ulong first = page & ~(ClusterPages * Page - 1);
            if (first < start) first = start;
            ulong stop = first + ClusterPages * Page;
            if (stop > end) stop = end;
            SystemCallResult mapped = SystemCalls.PageInherit(first, (stop - first) / Page);
            if (mapped.IsError || Memory.Query(page, out _) != Error.None) return false; // reported as a fault
            FaultsResolved++;
            return true;
        }
    }
}
