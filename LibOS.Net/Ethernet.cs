namespace Aegis.LibOS.Net
{
    /// <summary>How a stack sends a frame: the libOS's binding to the NIC (Aegis/), or a
    /// simulated wire in the host tests.</summary>
    public interface IFrameLink
    {
        /// <summary>Sends one Ethernet frame (destination MAC first, no FCS). The bytes are
        /// copied before the call returns. False when the link dropped it (queue full, down).</summary>
        bool TrySend(System.ReadOnlySpan<byte> frame);

        /// <summary>The longest frame TrySendSegmented takes; 0 when the link cannot cut segments
        /// (the stack then cuts them itself).</summary>
        int SegmentedFrameBytes { get; }

        /// <summary>Sends an IPv4 frame carrying one TCP segment that the link (the card) cuts into
        /// segments of segmentSize payload bytes each, as NicSendRequest describes: IP checksum 0,
        /// the TCP checksum field the pseudo-header's sum without the length. False when dropped.</summary>
        bool TrySendSegmented(System.ReadOnlySpan<byte> frame, int segmentSize);

        /// <summary>The link's own buffer for the next segmented frame (SegmentedFrameBytes long),
        /// to build it in place: TrySendSegmented of a frame that starts there sends it without a
        /// copy. Empty when the link has none free now (or none at all): build it elsewhere.</summary>
        System.Span<byte> SegmentedBuffer();
    }

    /// <summary>Ethernet II framing (IEEE 802.3 with an EtherType). Only EtherTypes 0x0800
    /// (IPv4) and 0x0806 (ARP) are used; 802.1Q-tagged and 802.3 length-field frames are
    /// recognised so that they can be counted and dropped.</summary>
    public static class Ethernet
    {
        public const int HeaderLength = 14;
        public const int MaximumPayload = 1500;
        /// <summary>Shortest frame on the wire without its FCS; shorter frames are padded.</summary>
        public const int MinimumFrame = 60;
        public const int MaximumFrame = HeaderLength + MaximumPayload;

        public const ushort TypeIpv4 = 0x0800;
        public const ushort TypeArp = 0x0806;
        public const ushort TypeVlan = 0x8100;
        public const ushort TypeQinQ = 0x88A8;

        public static MacAddress Destination(System.ReadOnlySpan<byte> frame) => MacAddress.Read(frame, 0);
        public static MacAddress Source(System.ReadOnlySpan<byte> frame) => MacAddress.Read(frame, 6);
        public static ushort EtherType(System.ReadOnlySpan<byte> frame) => Wire.U16(frame, 12);

        /// <summary>Writes the 14-byte header at the start of <paramref name="frame"/>.</summary>
        public static void WriteHeader(System.Span<byte> frame, MacAddress destination, MacAddress source, ushort etherType)
        {
            destination.Write(frame, 0);
            source.Write(frame, 6);
            Wire.Put16(frame, 12, etherType);
        }

        /// <summary>The MAC an IPv4 multicast group maps to (RFC 1112 6.4): 01:00:5e and the
        /// group's low 23 bits.</summary>
        public static MacAddress MulticastMac(Ipv4Address group) =>
            new MacAddress(0x01005E000000UL | (group.Value & 0x7FFFFFu));
    }
}
