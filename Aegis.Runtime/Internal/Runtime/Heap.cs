// The managed heap: a bump allocator over regions handed over by the host.
// There is no garbage collector yet (a later issue), so nothing is ever freed.
// Invariants: every region is zeroed when added; 'current' never passes 'limit';
// every object starts 8-byte aligned with an 8-byte header word before its MethodTable pointer.
namespace Internal.Runtime
{
    internal static unsafe class Heap
    {
        private static byte* s_current;
        private static byte* s_limit;
        private static nuint s_allocated;
        private static nuint s_reserved;
        private static ulong s_allocations;

        public static nuint BytesAllocated => s_allocated;
        /// <summary>Successful allocations since start (objects, arrays, raw blocks): a host can
        /// prove that a path allocates nothing by reading it before and after.</summary>
        public static ulong Allocations => s_allocations;
        public static nuint BytesReserved => s_reserved;
        /// <summary>Bytes left in the current region (what can be allocated without growing).</summary>
        public static nuint BytesLeft => s_current == null ? 0 : (nuint)(s_limit - s_current);

        public static void AddRegion(nint start, nuint size)
        {
            s_current = (byte*)start;
            s_limit = (byte*)start + size;
            s_reserved += size;
        }

        /// <summary>Returns 'size' zeroed bytes, 8-byte aligned, or null when the host has no more memory.</summary>
        public static byte* Allocate(nuint size)
        {
            size = (size + 7) & ~(nuint)7;
            if (s_current == null || (nuint)(s_limit - s_current) < size)
            {
                if (!Grow(size))
                    return null;
            }
            byte* result = s_current;
            s_current += size;
            s_allocated += size;
            s_allocations++;
            if (RuntimeHost.s_allocationObserver != null) RuntimeHost.s_allocationObserver(size);
            return result;
        }

        private static bool Grow(nuint size)
        {
            if (RuntimeHost.s_growHeap == null)
                return false;
            nuint granted;
            nint region = RuntimeHost.s_growHeap(size, &granted);
            if (region == 0 || granted < size)
                return false;
            // A region that continues the current one extends it; otherwise the tail is abandoned.
            if ((byte*)region == s_limit)
                s_limit += granted;
            else
            {
                s_current = (byte*)region;
                s_limit = (byte*)region + granted;
            }
            s_reserved += granted;
            return true;
        }

        public static object AllocateObject(MethodTable* methodTable, nuint size)
        {
            byte* memory = Allocate(size);
            if (memory == null)
                OutOfMemory(size);
            byte* obj = memory + sizeof(nint);
            *(MethodTable**)obj = methodTable;
            return System.Runtime.CompilerServices.Unsafe.AsRef<object>(&obj);
        }

        public static object AllocateArray(MethodTable* methodTable, int length)
        {
            if (length < 0)
                throw new System.OverflowException();
            nuint size = methodTable->BaseSize + (nuint)(uint)length * methodTable->ComponentSize;
            byte* memory = Allocate(size);
            if (memory == null)
                OutOfMemory(size);
            byte* obj = memory + sizeof(nint);
            *(MethodTable**)obj = methodTable;
            *(int*)(obj + sizeof(nint)) = length;
            return System.Runtime.CompilerServices.Unsafe.AsRef<object>(&obj);
        }

        private static void OutOfMemory(nuint size)
        {
            // No heap left to build an exception object from: report straight to the host.
            // The message is a literal: literals live in the image and need no allocation.
            RuntimeHost.Fail(null, "System.OutOfMemoryException", "the managed heap is exhausted and the host gave no more memory");
        }
    }
}
