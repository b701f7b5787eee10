namespace Aegis.LibOS.Net
{
    /// <summary>The connection states of RFC 9293 section 3.3.2 (LISTEN belongs to
    /// <see cref="TcpListener"/>; a connection object is never in it).</summary>
    public enum TcpState
    {
        Closed,
        Listen,
        SynSent,
        SynReceived,
        Established,
        FinWait1,
        FinWait2,
        CloseWait,
        Closing,
        LastAck,
        TimeWait,
    }

    /// <summary>Errors, numbered as Linux's errno so the Linux personality can hand them on
    /// unchanged. API calls that return an int give a count (>= 0) or the negated error.</summary>
    public enum TcpError
    {
        None = 0,
        WouldBlock = 11,            // EAGAIN
        InvalidArgument = 22,       // EINVAL
        Pipe = 32,                  // EPIPE
        AddressInUse = 98,          // EADDRINUSE
        AddressNotAvailable = 99,   // EADDRNOTAVAIL
        NetworkUnreachable = 101,   // ENETUNREACH
        ConnectionAborted = 103,    // ECONNABORTED
        ConnectionReset = 104,      // ECONNRESET
        NoBufferSpace = 105,        // ENOBUFS
        IsConnected = 106,          // EISCONN
        NotConnected = 107,         // ENOTCONN
        TimedOut = 110,             // ETIMEDOUT
        ConnectionRefused = 111,    // ECONNREFUSED
        HostUnreachable = 113,      // EHOSTUNREACH
        Already = 114,              // EALREADY
        InProgress = 115,           // EINPROGRESS
    }

    /// <summary>Readiness for poll/epoll, with Linux's poll bit values (POLLIN, POLLOUT,
    /// POLLERR, POLLHUP, POLLRDHUP).</summary>
    [System.Flags]
    public enum TcpReadiness
    {
        None = 0,
        Readable = 0x001,
        Writable = 0x004,
        Error = 0x008,
        HangUp = 0x010,
        ReadHangUp = 0x2000,
    }

    /// <summary>Per-socket options (setsockopt's common ones). A listener's options are copied
    /// into each connection it accepts. Buffer sizes take effect when a connection is set up
    /// (connect, or a SYN reaching a listener): they fix the window scale we offer.</summary>
    public sealed class TcpSocketOptions
    {
        /// <summary>SO_RCVBUF: the receive ring's size in bytes (also the largest window we offer).</summary>
        public int ReceiveBufferSize = Tcp.DefaultReceiveBufferSize;
        /// <summary>SO_SNDBUF: the send ring's size in bytes.</summary>
        public int SendBufferSize = Tcp.DefaultSendBufferSize;
        /// <summary>TCP_NODELAY: turns Nagle's algorithm off.</summary>
        public bool NoDelay;
        /// <summary>TCP_CORK: only full segments leave while it is on, and a partial one after
        /// <see cref="TcpConnection.CorkCeilingMicros"/> (200 ms); turning it off with
        /// <see cref="TcpConnection.Uncork"/> sends what waits at once, Nagle or not (Linux's behaviour).</summary>
        public bool Cork;
        /// <summary>SO_KEEPALIVE, with TCP_KEEPIDLE / TCP_KEEPINTVL / TCP_KEEPCNT.</summary>
        public bool KeepAlive;
        public long KeepIdleMicros = 7200L * 1000 * 1000;
        public long KeepIntervalMicros = 75L * 1000 * 1000;
        public int KeepCount = 9;
        /// <summary>SO_REUSEADDR: a listener may bind a port that connections (TIME_WAIT ones
        /// included) still use.</summary>
        public bool ReuseAddress;
        /// <summary>SO_LINGER: with Linger on and LingerSeconds 0, Close resets the connection
        /// (RST, unsent data discarded). Other linger times behave as a normal close here (the
        /// API never blocks; a caller that wants to wait watches <see cref="TcpConnection.State"/>).</summary>
        public bool Linger;
        public int LingerSeconds;

        public TcpSocketOptions Clone()
        {
            var o = new TcpSocketOptions();
            o.ReceiveBufferSize = ReceiveBufferSize;
            o.SendBufferSize = SendBufferSize;
            o.NoDelay = NoDelay;
            o.Cork = Cork;
            o.KeepAlive = KeepAlive;
            o.KeepIdleMicros = KeepIdleMicros;
            o.KeepIntervalMicros = KeepIntervalMicros;
            o.KeepCount = KeepCount;
            o.ReuseAddress = ReuseAddress;
            o.Linger = Linger;
            o.LingerSeconds = LingerSeconds;
            return o;
        }
    }

    /// <summary>Sequence-number arithmetic modulo 2^32 (RFC 9293 section 3.4): a is before b
    /// when the signed difference is negative.</summary>
    public static class TcpSeq
    {
        public static bool Lt(uint a, uint b) => (int)(a - b) < 0;
        public static bool Le(uint a, uint b) => (int)(a - b) <= 0;
        public static bool Gt(uint a, uint b) => (int)(a - b) > 0;
        public static bool Ge(uint a, uint b) => (int)(a - b) >= 0;
        public static uint Max(uint a, uint b) => Gt(a, b) ? a : b;
        public static uint Min(uint a, uint b) => Lt(a, b) ? a : b;
        /// <summary>lo &lt;= x &lt; hi.</summary>
        public static bool InWindow(uint x, uint lo, uint hi) => Ge(x, lo) && Lt(x, hi);
    }

    /// <summary>Counters over one <see cref="Tcp"/> (all connections), for tests and
    /// /proc-style reporting.</summary>
    public sealed class TcpCounters
    {
        public long SegmentsReceived;
        /// <summary>Pure ACKs the next ACK of their batch covered (Tcp.Supersedes): not counted in SegmentsReceived.</summary>
        public long AcksMerged;
        public long SegmentsSent;
        public long Malformed;
        public long BadChecksum;
        public long DroppedByTestReceive;
        public long DroppedByTestSend;
        public long SendRefusedByIp;
        public long ResetsSent;
        public long ResetsReceived;
        public long Retransmissions;
        public long RetransmissionTimeouts;
        public long FastRetransmits;
        public long ZeroWindowProbes;
        public long KeepAliveProbes;
        public long ChallengeAcks;
        public long DuplicateSegments;
        public long OutOfOrderSegments;
        public long OutOfOrderDropped;
        public long OutOfWindow;
        public long DelayedAcks;
        /// <summary>Partial segments a cork held that left at its 200 ms ceiling.</summary>
        public long CorkTimeouts;
        public long ListenOverflows;
        public long NoConnection;
        public long TimeWaitReused;
        /// <summary>TIME_WAIT connections a RST at exactly RCV.NXT ended (the peer's answer to the
        /// ACK for a SYN that could not reopen them).</summary>
        public long TimeWaitEndedByReset;
        public long TimeWaitOverflow;
        public long ActiveOpens;
        public long PassiveOpens;
        public long TimedOut;
        /// <summary>Connections handed to another stack (TcpConnection.HandOver) and taken from
        /// one (Tcp.TakeOver); records TakeOver refused; out-of-order bytes a handover left behind
        /// (the peer sends them again).</summary>
        public long HandedOver;
        /// <summary>Buffer rings a new connection took from the ones ended connections gave back
        /// (TcpRingPool) instead of allocating them.</summary>
        public long RingsReused;
        public long TakenOver;
        public long TakeOverRefused;
        public long HandoverOutOfOrderBytesDropped;
        /// <summary>Segments of a connection handed over lately, dropped without a reset.</summary>
        public long DroppedForMovedConnection;
        /// <summary>Segments of a connection handed over lately, given to Tcp.MovedSegment.</summary>
        public long ForwardedForMovedConnection;
        /// <summary>Segments for no connection here to a port whose frames went to another stack
        /// lately (Tcp.RememberMovedPort): given to Tcp.MovedSegment, or dropped without a reset
        /// when there is none.</summary>
        public long ForwardedForMovedPort;
        public long DroppedForMovedPort;
    }
}
