namespace Aegis.LibOS.Net
{
    /// <summary>Something with timers that the stack's <see cref="NetStack.Poll"/> drives
    /// (DHCP, DNS, and TCP if it chooses to register).</summary>
    public interface INetTimer
    {
        void Poll(long nowMicros);

        /// <summary>When Poll must next run; long.MaxValue when nothing is pending.</summary>
        long NextDeadlineMicros { get; }
    }

    /// <summary>Receives the ICMP errors (destination unreachable 3, source quench 4, time
    /// exceeded 11, parameter problem 12) about datagrams this host sent with one protocol.
    /// A transport registered with <see cref="NetStack.Register"/> that implements this gets
    /// them for its protocol; <see cref="NetStack.SetIcmpErrorReceiver"/> sets one explicitly.</summary>
    public interface IIcmpErrorReceiver
    {
        /// <summary><paramref name="rest"/> is the ICMP header's second word (for type 3 code 4,
        /// "fragmentation needed", its low 16 bits are the next-hop MTU, RFC 1191).
        /// <paramref name="original"/> is the quoted start of the original datagram's payload
        /// (the transport header; at least 8 bytes), valid only during the call.</summary>
        void IcmpError(byte type, byte code, uint rest, Ipv4Address reporter, Ipv4Address originalSource,
            Ipv4Address originalDestination, System.ReadOnlySpan<byte> original, long nowMicros);
    }
}
