namespace Aegis.LibOS.Net
{
    /// <summary>A stack's bounds and policies, fixed when the <see cref="NetStack"/> is made
    /// (buffers are allocated from them). Times are microseconds.</summary>
    public sealed class NetStackOptions
    {
        /// <summary>Whether this stack answers ARP requests and ICMP echo requests for its
        /// address (docs/network.md, "Who answers ARP and ping").</summary>
        public bool AnswersArpAndPing = true;
        /// <summary>Whether this stack sends ICMP destination-unreachable for datagrams to an
        /// unbound UDP port or an unregistered protocol.</summary>
        public bool SendsIcmpErrors = true;

        public int ArpCacheEntries = 32;
        /// <summary>Frames waiting for a resolution, over all destinations (preallocated, a
        /// maximum frame each: 64 are ~97 KiB). 64 hold a 65,507-byte datagram's 45 fragments, or
        /// the SYN-ACKs to a burst of clients that arrived before the gateway resolved.</summary>
        public int ArpQueueFrames = 64;
        public long ArpLifetimeMicros = 120_000_000;
        public long ArpRefreshMicros = 15_000_000;
        public long ArpRetryMicros = 1_000_000;
        public int ArpRequests = 3;
        /// <summary>Gratuitous ARPs sent when an address is configured, and their spacing
        /// (RFC 5227's ANNOUNCE_NUM and ANNOUNCE_INTERVAL).</summary>
        public int ArpAnnouncements = 2;
        public long ArpAnnounceIntervalMicros = 2_000_000;

        public int ReassemblySlots = 4;
        public int ReassemblyHoles = 32;
        public long ReassemblyTimeoutMicros = 30_000_000;

        public byte Ttl = Ipv4.DefaultTtl;

        /// <summary>ICMP errors sent at most this many per <see cref="IcmpErrorIntervalMicros"/>
        /// (RFC 1122 3.2.2's rate limit).</summary>
        public int IcmpErrorBurst = 10;
        public long IcmpErrorIntervalMicros = 1_000_000;

        /// <summary>Default receive buffer of a UDP socket (bytes of queued datagrams and their
        /// 8-byte record headers).</summary>
        public int UdpReceiveBytes = 65536;
        public int EphemeralPortFirst = 49152, EphemeralPortLast = 65535;

        /// <summary>Seed of the stack's <see cref="NetRandom"/> (DHCP xid, DNS ids, ports).</summary>
        public ulong RandomSeed = 1;
    }
}
