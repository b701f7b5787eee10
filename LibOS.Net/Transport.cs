namespace Aegis.LibOS.Net
{
    /// <summary>The seam between the IPv4 layer and a transport (TCP, UDP, ICMP). The IPv4 layer
    /// hands each whole (reassembled) datagram addressed to this host to the transport registered
    /// for its protocol number; the transport sends through <see cref="IIpv4Output"/>.
    /// Times are microseconds from an arbitrary origin, supplied by the caller (never read from a
    /// clock inside the protocol code, so host tests drive time).</summary>
    public interface ITransport
    {
        /// <summary>IP protocol number: 1 ICMP, 6 TCP, 17 UDP.</summary>
        byte Protocol { get; }

        /// <summary>A datagram's payload (the transport header and data); the span is valid only
        /// during the call.</summary>
        void Receive(Ipv4Address source, Ipv4Address destination, System.ReadOnlySpan<byte> payload, long nowMicros);
    }

    /// <summary>A transport that can let a datagram stand for the one received just before it
    /// (docs/network.md, "Merged ACKs"). The IPv4 layer asks only when both came in one batch from
    /// the link, one right after the other, with the same addresses, protocol and IPv4 header
    /// (but for identification and checksum), and the later one's IPv4 header is valid; when the
    /// transport answers true, the earlier datagram is not delivered.</summary>
    public interface ISupersedingTransport
    {
        /// <summary>True when <paramref name="later"/> carries everything <paramref name="earlier"/>
        /// would tell the transport (both are payloads: transport header and data). The transport
        /// then counts the earlier one into the later one's delivery.</summary>
        bool Supersedes(Ipv4Address source, Ipv4Address destination, System.ReadOnlySpan<byte> earlier, System.ReadOnlySpan<byte> later);
    }

    /// <summary>What a transport needs from the IPv4 layer.</summary>
    public interface IIpv4Output
    {
        /// <summary>This host's address on the route to <paramref name="destination"/> (the
        /// source a transport puts into its pseudo header), or Any when there is no route.</summary>
        Ipv4Address SourceFor(Ipv4Address destination);

        /// <summary>Largest transport payload that fits one frame towards the destination
        /// without fragmentation (1480 on Ethernet).</summary>
        int MaxPayload(Ipv4Address destination);

        /// <summary>Sends one datagram. The payload is copied before the call returns. Returns
        /// false when it was dropped (no route, the link's queue is full, ARP unresolved and its
        /// waiting queue full); the transport's own retransmission covers it.</summary>
        bool Send(Ipv4Address destination, byte protocol, System.ReadOnlySpan<byte> payload);

        /// <summary>The most TCP payload one SendTcpSegmented may carry behind a TCP header of
        /// tcpHeaderBytes; 0 when the link cannot cut segments (TCP then sends one MSS a segment).</summary>
        int SegmentedPayloadLimit(int tcpHeaderBytes);

        /// <summary>Sends one TCP segment larger than segmentSize (its header's fields final except
        /// the checksum, which the output fills) as segments of segmentSize payload bytes: cut by
        /// the card when it can (TCP segmentation offload), else by the output. False: dropped.</summary>
        bool SendTcpSegmented(Ipv4Address destination, System.ReadOnlySpan<byte> segment, int tcpHeaderBytes, int segmentSize);

        /// <summary>Where a large segment of 'length' bytes may be built in place, right where the
        /// frame to the card will hold it (SendTcpSegmented of it then copies nothing); empty when
        /// there is no such place now: build it elsewhere.</summary>
        System.Span<byte> TcpSegmentedRoom(int length);
    }
}
