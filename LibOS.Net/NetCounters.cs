namespace Aegis.LibOS.Net
{
    /// <summary>Everything a stack received, sent, and dropped (and why). Plain fields, read by
    /// the libOS (statistics, tests); only the stack writes them. A dropped frame is counted in
    /// exactly one Drop* or *Malformed field at the layer that dropped it.</summary>
    public sealed class NetCounters
    {
        // Ethernet
        public long FramesReceived, FramesSent, FramesSendFailed;
        public long DropShortFrame, DropNotOurMac, DropVlanTagged, DropUnknownEtherType;

        // ARP
        public long ArpReceived, ArpMalformed, ArpIgnored, ArpRequestsSent, ArpRepliesSent;
        public long ArpAnnouncementsSent, ArpAddressConflicts, ArpResolutionFailures;
        public long ArpQueued, ArpQueueOverflow, ArpQueuedDroppedUnresolved, ArpCacheEvictions;

        // IPv4 receive
        public long Ipv4Received, Ipv4Delivered;
        public long Ipv4DropTooShort, Ipv4DropBadVersion, Ipv4DropBadHeaderLength, Ipv4DropBadTotalLength;
        public long Ipv4DropBadChecksum, Ipv4DropReservedFlag, Ipv4DropBadSource, Ipv4DropNotForUs;
        public long Ipv4DropNoTransport;

        // IPv4 send
        public long Ipv4Sent, Ipv4SendTooBig, Ipv4SendNoRoute, Ipv4SendUnconfigured, Ipv4SendToSelf, Ipv4SendLinkFailed;
        /// <summary>Datagrams to ourselves queued for loopback delivery (Ipv4SendToSelf: dropped, the queue was full).</summary>
        public long LoopbackSent;
        /// <summary>Datagrams sent in fragments (larger than one frame), and the fragments.</summary>
        public long Ipv4Fragmented, FragmentsSent;
        /// <summary>Large TCP segments the link cut (TCP segmentation offload: each one frame to the
        /// link, its pieces counted in FramesSent and Ipv4Sent).</summary>
        public long SegmentedSends;
        /// <summary>Frames the next frame of their batch superseded (pure TCP ACKs covered by the
        /// next one: docs/network.md, "Merged ACKs"), counted in FramesReceived, not delivered.</summary>
        public long Superseded;

        // Reassembly
        public long FragmentsReceived, Reassembled, ReassemblyTimeouts, ReassemblyEvictions;
        public long FragmentDropBad, FragmentDropTooBig, FragmentDropInconsistent, FragmentDropTooManyHoles;
        public long FragmentOverlaps, FragmentDuplicates;

        // ICMP
        public long IcmpReceived, IcmpMalformed, IcmpBadChecksum, IcmpEchoRequests, IcmpEchoRepliesSent;
        public long IcmpEchoRequestsIgnored, IcmpEchoRepliesReceived, IcmpEchoRepliesUnmatched;
        public long IcmpErrorsReceived, IcmpErrorsDelivered, IcmpErrorsSent, IcmpErrorsRateLimited, IcmpOtherIgnored;

        // UDP
        public long UdpReceived, UdpDelivered, UdpMalformed, UdpBadChecksum, UdpNoPort, UdpFiltered;
        public long UdpQueueFull, UdpSent, UdpSendFailed;

        // DHCP and DNS (messages received but not used)
        public long DhcpIgnored, DnsIgnored;
    }
}
