using System.Runtime.CompilerServices;

namespace Aegis.LibOS.Net
{
    /// <summary>Network byte order (big-endian) reads and writes on packet bytes. Every header
    /// field in this library goes through these; nothing else swaps bytes. Each is inlined and
    /// checks its bounds once: the slice of the field's own width has a length the compiler
    /// knows, so its bytes need no check of their own (a received segment reads some twenty
    /// fields).</summary>
    public static class Wire
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ushort U16(System.ReadOnlySpan<byte> b, int at)
        {
            b = b.Slice(at, 2);
            return (ushort)(b[0] << 8 | b[1]);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint U32(System.ReadOnlySpan<byte> b, int at)
        {
            b = b.Slice(at, 4);
            return (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Put16(System.Span<byte> b, int at, int value)
        {
            b = b.Slice(at, 2);
            b[0] = (byte)(value >> 8);
            b[1] = (byte)value;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Put32(System.Span<byte> b, int at, uint value)
        {
            b = b.Slice(at, 4);
            b[0] = (byte)(value >> 24);
            b[1] = (byte)(value >> 16);
            b[2] = (byte)(value >> 8);
            b[3] = (byte)value;
        }
    }
}
