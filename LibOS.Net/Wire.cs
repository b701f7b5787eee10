namespace Aegis.LibOS.Net
{
    /// <summary>Network byte order (big-endian) reads and writes on packet bytes. Every header
    /// field in this library goes through these; nothing else swaps bytes.</summary>
    public static class Wire
    {
        public static ushort U16(System.ReadOnlySpan<byte> b, int at) => (ushort)(b[at] << 8 | b[at + 1]);

        public static uint U32(System.ReadOnlySpan<byte> b, int at) =>
            (uint)(b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3]);

        public static void Put16(System.Span<byte> b, int at, int value)
        {
            b[at] = (byte)(value >> 8);
            b[at + 1] = (byte)value;
        }

        public static void Put32(System.Span<byte> b, int at, uint value)
        {
            b[at] = (byte)(value >> 24);
            b[at + 1] = (byte)(value >> 16);
            b[at + 2] = (byte)(value >> 8);
            b[at + 3] = (byte)value;
        }
    }
}
