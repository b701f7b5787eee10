// LittleEndian: reads and writes unsigned integers stored least-significant byte first (the x86,
// multiboot2 and on-disk extent table byte order) in a byte span.
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

        public static void WriteUInt32(Span<byte> bytes, int offset, uint value)
        {
            bytes[offset] = (byte)value;
            bytes[offset + 1] = (byte)(value >> 8);
            bytes[offset + 2] = (byte)(value >> 16);
            bytes[offset + 3] = (byte)(value >> 24);
        }

        public static void WriteUInt64(Span<byte> bytes, int offset, ulong value)
        {
            WriteUInt32(bytes, offset, (uint)value);
            WriteUInt32(bytes, offset + 4, (uint)(value >> 32));
        }
    }
}
