// The runtime's heap beyond its first region (a .bss array in the image): when an allocation
// does not fit, the runtime asks Grow, which takes frames from the kernel and maps them at the
// next addresses of the heap area (AddressSpace.HeapBase upwards). When the collector frees whole
// blocks it gives their pages back through Release (unmapped, frames freed to the kernel) and may
// take them again through Recommit. New regions are only reserved (Reserve): the runtime maps each
// 32 KiB block through Recommit when it first takes it. Policy (how much at a time, where) is the libOS's.
// Invariants: nothing here allocates managed memory (it is the allocator's own back end); Grow
// and Recommit return either fully mapped, zeroed memory or nothing; MappedBytes counts exactly
// the heap pages mapped now (beyond the first region).
using Aegis.Abi;

namespace Aegis.LibOS
{
    public static unsafe class UserHeap
    {
        private static ulong s_next = AddressSpace.HeapBase;
        private static ulong s_mapped;

        /// <summary>Bytes mapped for the heap now (beyond the image's first region).</summary>
        public static ulong MappedBytes => s_mapped;

        /// <summary>Bytes from HeapBase up to the end of the last growth (pages in it may be released).</summary>
        public static ulong ExtentBytes => s_next - AddressSpace.HeapBase;

        /// <summary>RuntimeHost's heap grower: at least 'bytes' more zeroed bytes (whole pages), or 0.</summary>
        internal static nint Grow(nuint bytes, nuint* granted)
        {
            ulong size = ((ulong)bytes + Memory.PageSize - 1) & ~(Memory.PageSize - 1);
            if (size < (ulong)bytes || size == 0 || AddressSpace.HeapLimit - s_next < size)
                return 0;
            if (Memory.AllocateAndMap(s_next, (int)(size / Memory.PageSize), Memory.ReadWrite) != Error.None)
                return 0;
            ulong start = s_next;
            s_next += size;
            s_mapped += size;
            *granted = (nuint)size;
            return (nint)start;
        }

        /// <summary>RuntimeHost's heap reserver: 'bytes' (whole pages) of the heap area for a new
        /// region, not mapped (the runtime maps its blocks through Recommit as it takes them), or 0.</summary>
        internal static nint Reserve(nuint bytes, nuint* granted)
        {
            ulong size = ((ulong)bytes + Memory.PageSize - 1) & ~(Memory.PageSize - 1);
            if (size < (ulong)bytes || size == 0 || AddressSpace.HeapLimit - s_next < size)
                return 0;
            ulong start = s_next;
            s_next += size;
            *granted = (nuint)size;
            return (nint)start;
        }

        /// <summary>RuntimeHost's release hook: unmaps [start, start + bytes) (pages Grow mapped) and frees the frames.</summary>
        internal static bool Release(nint start, nuint bytes)
        {
            if (!InGrownArea((ulong)start, (ulong)bytes))
                return false;
            Memory.UnmapAndFree((ulong)start, (int)((ulong)bytes / Memory.PageSize));
            s_mapped -= (ulong)bytes;
            return true;
        }

        /// <summary>RuntimeHost's recommit hook: maps fresh zeroed frames at a released range again.</summary>
        internal static bool Recommit(nint start, nuint bytes)
        {
            if (!InGrownArea((ulong)start, (ulong)bytes))
                return false;
            if (Memory.AllocateAndMap((ulong)start, (int)((ulong)bytes / Memory.PageSize), Memory.ReadWrite) != Error.None)
                return false;
            s_mapped += (ulong)bytes;
            return true;
        }

        /// <summary>A forked child's: 'bytes' of grown heap its parent did not hand on (the runtime
        /// took them as released: RuntimeHost.ForgetUntouchedHeapRanges) are not mapped here.</summary>
        public static void ForgetUnmapped(ulong bytes) => s_mapped -= bytes <= s_mapped ? bytes : s_mapped;

        private static bool InGrownArea(ulong start, ulong bytes)
            => start >= AddressSpace.HeapBase && bytes <= s_next - start && start < s_next
               && ((start | bytes) & (Memory.PageSize - 1)) == 0;
    }
}
