namespace Aegis.LibOS.Net
{
    public enum Ipv4HeaderCheck : byte { Ok, TooShort, BadVersion, BadHeaderLength, BadTotalLength, BadChecksum }

    /// <summary>The IPv4 header (RFC 791): field offsets, validation and construction. The
    /// routing and delivery logic is in <see cref="NetStack"/>, reassembly in
    /// <see cref="Ipv4Reassembler"/>.</summary>
    public static class Ipv4
    {
        public const int HeaderLength = 20;
        public const int MaximumHeaderLength = 60;
        /// <summary>The largest payload in one Ethernet frame without fragmentation (no options).</summary>
        public const int MaximumPayload = Ethernet.MaximumPayload - HeaderLength;
        /// <summary>The largest reassembled payload: a 65,535-byte datagram minus a minimal header.</summary>
        public const int MaximumDatagramPayload = 65535 - HeaderLength;
        public const byte DefaultTtl = 64;

        public const int FlagReserved = 0x8000, FlagDontFragment = 0x4000, FlagMoreFragments = 0x2000, OffsetMask = 0x1FFF;

        public const byte ProtocolIcmp = 1, ProtocolTcp = 6, ProtocolUdp = 17;

        public static int Version(System.ReadOnlySpan<byte> h) => h[0] >> 4;
        public static int HeaderBytes(System.ReadOnlySpan<byte> h) => (h[0] & 0x0F) * 4;
        public static int TotalLength(System.ReadOnlySpan<byte> h) => Wire.U16(h, 2);
        public static ushort Identification(System.ReadOnlySpan<byte> h) => Wire.U16(h, 4);
        public static int FlagsAndOffset(System.ReadOnlySpan<byte> h) => Wire.U16(h, 6);
        public static byte Ttl(System.ReadOnlySpan<byte> h) => h[8];
        public static byte Protocol(System.ReadOnlySpan<byte> h) => h[9];
        public static Ipv4Address Source(System.ReadOnlySpan<byte> h) => Ipv4Address.Read(h, 12);
        public static Ipv4Address Destination(System.ReadOnlySpan<byte> h) => Ipv4Address.Read(h, 16);

        /// <summary>Checks a received datagram (the bytes after the Ethernet header, possibly
        /// followed by link padding): version 4, IHL at least 5, the total length covering the
        /// header and within the bytes received, and the header checksum. Options are not
        /// interpreted (IHL skips them). The received TTL is not a reason to drop: a host must
        /// not discard a datagram for its TTL (RFC 1122 3.2.1.7).</summary>
        public static Ipv4HeaderCheck Check(System.ReadOnlySpan<byte> d)
        {
            if (d.Length < HeaderLength) return Ipv4HeaderCheck.TooShort;
            if (Version(d) != 4) return Ipv4HeaderCheck.BadVersion;
            int ihl = HeaderBytes(d);
            if (ihl < HeaderLength || ihl > d.Length) return Ipv4HeaderCheck.BadHeaderLength;
            int total = TotalLength(d);
            if (total < ihl || total > d.Length) return Ipv4HeaderCheck.BadTotalLength;
            if (Checksum.Finish(Checksum.Add(0, d.Slice(0, ihl))) != 0) return Ipv4HeaderCheck.BadChecksum;
            return Ipv4HeaderCheck.Ok;
        }

        /// <summary>Writes a 20-byte header (no options) with its checksum.</summary>
        public static void WriteHeader(System.Span<byte> h, int payloadLength, ushort identification, bool dontFragment,
            byte ttl, byte protocol, Ipv4Address source, Ipv4Address destination) =>
            WriteHeader(h, payloadLength, identification, dontFragment ? FlagDontFragment : 0, ttl, protocol, source, destination);

        /// <summary>Writes a 20-byte header with its flags and fragment offset (in 8-byte units) as given.</summary>
        public static void WriteHeader(System.Span<byte> h, int payloadLength, ushort identification, int flagsAndOffset,
            byte ttl, byte protocol, Ipv4Address source, Ipv4Address destination)
        {
            h[0] = 0x45;
            h[1] = 0;
            Wire.Put16(h, 2, HeaderLength + payloadLength);
            Wire.Put16(h, 4, identification);
            Wire.Put16(h, 6, flagsAndOffset);
            h[8] = ttl;
            h[9] = protocol;
            h[10] = 0;
            h[11] = 0;
            source.Write(h, 12);
            destination.Write(h, 16);
            Wire.Put16(h, 10, Checksum.Finish(Checksum.Add(0, h.Slice(0, HeaderLength))));
        }
    }
}
