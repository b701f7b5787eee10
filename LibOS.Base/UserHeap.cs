// The runtime's heap beyond its first region (a .bss array in the image): when an allocation
// does not fit, the runtime asks Grow, which takes frames from the kernel and maps them at the
// next addresses of the heap area (AddressSpace.HeapBase upwards), so consecutive growths
// extend one contiguous region. Policy (how much at a time, where) is the libOS's.
// Invariant: Grow never allocates managed memory (it is the allocator's own back end) and
// returns either a fully mapped, zeroed region or nothing.
using Aegis.Abi;

namespace Aegis.LibOS
{
    public static unsafe class UserHeap
    {
        /// <summary>The heap grows by at least this much at a time (fewer system calls).</summary>
        public const ulong GrowthBytes = 64 * 1024;

        private static ulong s_next = AddressSpace.HeapBase;

        /// <summary>Bytes mapped for the heap so far (beyond the image's first region).</summary>
        public static ulong MappedBytes => s_next - AddressSpace.HeapBase;

        /// <summary>RuntimeHost's heap grower: at least 'bytes' more zeroed bytes, or 0.</summary>
        internal static nint Grow(nuint bytes, nuint* granted)
        {
            ulong size = ((ulong)bytes + Memory.PageSize - 1) & ~(Memory.PageSize - 1);
            if (size < GrowthBytes)
                size = GrowthBytes;
            if (size < (ulong)bytes || AddressSpace.HeapLimit - s_next < size)
                return 0;
            if (Memory.AllocateAndMap(s_next, (int)(size / Memory.PageSize), Memory.ReadWrite) != Error.None)
                return 0;
            ulong start = s_next;
            s_next += size;
            *granted = (nuint)size;
            return (nint)start;
        }
    }
}
