// Block copies and clears. The byte loops are in assembly (Native/runtime.S: memmove, memset)
// so that copies cost what the hardware's 'rep movsb' costs.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace System
{
    public static unsafe class Buffer
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "memmove")]
        private static extern void* NativeMemmove(void* destination, void* source, nuint length);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "memset")]
        private static extern void* NativeMemset(void* destination, int value, nuint length);

        internal static void Memmove(ref byte destination, ref byte source, nuint length)
            => NativeMemmove(Unsafe.AsPointer(ref destination), Unsafe.AsPointer(ref source), length);

        internal static void Memmove<T>(ref T destination, ref T source, nuint elementCount)
            => NativeMemmove(Unsafe.AsPointer(ref destination), Unsafe.AsPointer(ref source), elementCount * (nuint)Unsafe.SizeOf<T>());

        internal static void ZeroMemory(ref byte destination, nuint length)
            => NativeMemset(Unsafe.AsPointer(ref destination), 0, length);

        internal static void Fill(ref byte destination, byte value, nuint length)
            => NativeMemset(Unsafe.AsPointer(ref destination), value, length);

        private static void MemmoveInternal(ref byte destination, ref byte source, nuint length) => Memmove(ref destination, ref source, length);

        private static void ZeroMemoryInternal(ref byte destination, nuint length) => ZeroMemory(ref destination, length);

        internal static void BulkMoveWithWriteBarrier(ref byte destination, ref byte source, nuint length) => Memmove(ref destination, ref source, length);

        public static void MemoryCopy(void* source, void* destination, long destinationSizeInBytes, long sourceBytesToCopy)
        {
            if (sourceBytesToCopy > destinationSizeInBytes)
                throw new ArgumentOutOfRangeException(nameof(sourceBytesToCopy));
            NativeMemmove(destination, source, (nuint)sourceBytesToCopy);
        }

        public static void BlockCopy(Array src, int srcOffset, Array dst, int dstOffset, int count)
        {
            if (src == null || dst == null) throw new ArgumentNullException(src == null ? nameof(src) : nameof(dst));
            if (srcOffset < 0 || dstOffset < 0 || count < 0 ||
                (long)srcOffset + count > src.ByteLength || (long)dstOffset + count > dst.ByteLength)
                throw new ArgumentOutOfRangeException(nameof(count));
            Memmove(ref Unsafe.Add(ref dst.GetRawArrayData(), dstOffset), ref Unsafe.Add(ref src.GetRawArrayData(), srcOffset), (nuint)count);
        }
    }

    internal static unsafe class SpanHelpers
    {
        public static void ClearWithoutReferences(ref byte destination, nuint length) => Buffer.ZeroMemory(ref destination, length);

        public static void ClearWithReferences(ref IntPtr destination, nuint pointerCount)
            => Buffer.ZeroMemory(ref Unsafe.As<IntPtr, byte>(ref destination), pointerCount * (nuint)sizeof(IntPtr));

        // ILC's memset helper (initblk with a non-zero value): found by name, so there must be no
        // other method called Fill on this type.
        public static void Fill(ref byte destination, byte value, nuint length)
            => Buffer.Fill(ref destination, value, length);

        public static void Memmove(ref byte destination, ref byte source, nuint length) => Buffer.Memmove(ref destination, ref source, length);
    }
}
