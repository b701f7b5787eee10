namespace Aegis.LibOS.Net
{
    /// <summary>An IPv4 address. <see cref="Value"/> holds the four bytes as read in network
    /// order: 10.0.2.15 is 0x0A00020F.</summary>
    public readonly struct Ipv4Address : System.IEquatable<Ipv4Address>
    {
        public readonly uint Value;

        public Ipv4Address(uint value) { Value = value; }

        public Ipv4Address(int a, int b, int c, int d)
        {
            Value = (uint)((a & 0xFF) << 24 | (b & 0xFF) << 16 | (c & 0xFF) << 8 | (d & 0xFF));
        }

        public static readonly Ipv4Address Any = new Ipv4Address(0u);
        public static readonly Ipv4Address Broadcast = new Ipv4Address(0xFFFFFFFFu);

        public bool IsAny => Value == 0;
        public bool IsBroadcast => Value == 0xFFFFFFFFu;
        public bool IsMulticast => (Value >> 28) == 0xE;
        public bool IsLoopback => (Value >> 24) == 127;

        public static Ipv4Address Read(System.ReadOnlySpan<byte> b, int at) => new Ipv4Address(Wire.U32(b, at));

        public void Write(System.Span<byte> b, int at) => Wire.Put32(b, at, Value);

        /// <summary>True when <paramref name="other"/> is on the same subnet under <paramref name="mask"/>.</summary>
        public bool SameSubnet(Ipv4Address other, Ipv4Address mask) => (Value & mask.Value) == (other.Value & mask.Value);

        /// <summary>Parses dotted-quad text ("10.0.2.15"); false for anything else.</summary>
        public static bool TryParse(System.ReadOnlySpan<char> text, out Ipv4Address address)
        {
            address = Any;
            uint value = 0;
            int part = 0, digits = 0, octet = 0;
            for (int i = 0; i <= text.Length; i++)
            {
                if (i == text.Length || text[i] == '.')
                {
                    if (digits == 0 || part > 3) return false;
                    value = value << 8 | (uint)octet;
                    part++;
                    digits = 0;
                    octet = 0;
                    continue;
                }
                char c = text[i];
                if (c < '0' || c > '9' || digits == 3) return false;
                octet = octet * 10 + (c - '0');
                digits++;
                if (octet > 255) return false;
            }
            if (part != 4) return false;
            address = new Ipv4Address(value);
            return true;
        }

        public override string ToString() =>
            (Value >> 24).ToString() + "." + ((Value >> 16) & 0xFF).ToString() + "." +
            ((Value >> 8) & 0xFF).ToString() + "." + (Value & 0xFF).ToString();

        public bool Equals(Ipv4Address other) => Value == other.Value;
        public override bool Equals(object obj) => obj is Ipv4Address a && a.Value == Value;
        public override int GetHashCode() => (int)Value;
        public static bool operator ==(Ipv4Address a, Ipv4Address b) => a.Value == b.Value;
        public static bool operator !=(Ipv4Address a, Ipv4Address b) => a.Value != b.Value;
    }
}
