// LittleEndian: reads unsigned integers stored least-significant byte first (the x86 and
// multiboot2 byte order) from a byte span.
// Invariant: callers check bounds first; an offset past the span fails the span's own bounds
// check (a panic in the kernel), never a silent wrong read.
using System;

namespace Aegis.Kernel.Core
{
    public static class LittleEndian
    {
        public static ushort ReadUInt16(ReadOnlySpan<byte> bytes, int offset)
            => (ushort)(bytes[offset] | (bytes[offset + 1] << 8));

        public static uint ReadUInt32(ReadOnlySpan<byte> bytes, int offset)
            => bytes[offset]
               | ((uint)bytes[offset + 1] << 8)
               | ((uint)bytes[offset + 2] << 16)
               | ((uint)bytes[offset + 3] << 24);

        public static ulong ReadUInt64(ReadOnlySpan<byte> bytes, int offset)
            => ReadUInt32(bytes, offset) | ((ulong)ReadUInt32(bytes, offset + 4) << 32);
    }
}
