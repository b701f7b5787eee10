// Thread-local blocks in the x86-64 ELF layout ("variant II"): the block sits just below the
// thread pointer (TP = FS base), and [TP] holds TP itself. Generated code reaches a thread-local
// variable at TP + its link-time offset (the linker turns ILC's general-dynamic accesses into
// local-exec ones, since the image is a static executable).
// The block's distance below TP is whatever the linker chose (the TLS size rounded up to the TLS
// segment's alignment); Native/runtime.S reports it (RhpThreadLocalBlockOffset), so this code never
// guesses the linker's rounding.
namespace Internal.Runtime
{
    internal static unsafe class ThreadLocalStorage
    {
        private const int ThreadPointerAlignment = 64;
        private const int ControlBlockSize = 16;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall)]
        [System.Runtime.RuntimeImport("*", "RhpThreadLocalBlockOffset")]
        private static extern nint ThreadLocalBlockOffset();

        public static nint Create(nint templateStart, nint templateEnd, nint tlsEnd)
        {
            nint blockSize = -ThreadLocalBlockOffset();
            nint templateSize = templateEnd - templateStart;
            if (templateSize < 0 || tlsEnd < templateEnd || blockSize < tlsEnd - templateStart)
                RuntimeHost.Fail(null, "System.ArgumentException", "CreateThreadLocalStorage: the TLS bounds do not match the image's thread-local layout.");
            byte* memory = Heap.Allocate((nuint)(blockSize + ThreadPointerAlignment + ControlBlockSize));
            if (memory == null)
                RuntimeHost.Fail(null, "System.OutOfMemoryException", "no memory for a thread-local block");
            byte* threadPointer = (byte*)(((nint)memory + blockSize + ThreadPointerAlignment - 1) & ~(nint)(ThreadPointerAlignment - 1));
            byte* block = threadPointer - blockSize;
            System.Buffer.Memmove(ref *block, ref *(byte*)templateStart, (nuint)templateSize);
            // The rest of the block (.tbss) is already zero: heap memory comes zeroed.
            *(byte**)threadPointer = threadPointer;
            return (nint)threadPointer;
        }
    }
}
