namespace Aegis.LibOS.Net
{
    /// <summary>An Ethernet address; <see cref="Value"/> holds its six bytes in wire order in the
    /// low 48 bits (52:54:00:12:34:56 is 0x525400123456).</summary>
    public readonly struct MacAddress : System.IEquatable<MacAddress>
    {
        public readonly ulong Value;

        public MacAddress(ulong value) { Value = value & 0xFFFF_FFFF_FFFFUL; }

        public static readonly MacAddress Broadcast = new MacAddress(0xFFFF_FFFF_FFFFUL);
        public static readonly MacAddress Zero = new MacAddress(0UL);

        public bool IsBroadcast => Value == 0xFFFF_FFFF_FFFFUL;
        public bool IsMulticast => ((Value >> 40) & 1) != 0;

        // Two fields of the wire's (every frame received reads one or two): one bounds check each.
        public static MacAddress Read(System.ReadOnlySpan<byte> b, int at) =>
            new MacAddress((ulong)Wire.U16(b, at) << 32 | Wire.U32(b, at + 2));

        public void Write(System.Span<byte> b, int at)
        {
            Wire.Put16(b, at, (ushort)(Value >> 32));
            Wire.Put32(b, at + 2, (uint)Value);
        }

        public override string ToString()
        {
            const string hex = "0123456789abcdef";
            var c = new char[17];
            for (int i = 0; i < 6; i++)
            {
                int b = (int)(Value >> (40 - 8 * i)) & 0xFF;
                c[i * 3] = hex[b >> 4];
                c[i * 3 + 1] = hex[b & 15];
                if (i < 5) c[i * 3 + 2] = ':';
            }
            return new string(c);
        }

        public bool Equals(MacAddress other) => Value == other.Value;
        public override bool Equals(object obj) => obj is MacAddress m && m.Value == Value;
        public override int GetHashCode() => (int)Value ^ (int)(Value >> 32);
        public static bool operator ==(MacAddress a, MacAddress b) => a.Value == b.Value;
        public static bool operator !=(MacAddress a, MacAddress b) => a.Value != b.Value;
    }
}
