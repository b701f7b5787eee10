namespace Aegis.LibOS.Net
{
    /// <summary>Told when a connection's or listener's readiness may have changed (data
    /// arrived, space freed, state changed, an error is pending), so a poll/epoll layer need
    /// not scan. Called from inside Receive/Poll/API calls; it must not call back into the Tcp
    /// synchronously in ways that re-enter segment processing.</summary>
    public interface ITcpNotify
    {
        void ConnectionChanged(TcpConnection connection);
        void ListenerChanged(TcpListener listener);
    }

    /// <summary>The 4-tuple naming a connection.</summary>
    internal readonly struct TcpKey : System.IEquatable<TcpKey>
    {
        public readonly ulong Remote;   // remote address << 32 | remote port << 16 | local port
        public readonly uint Local;

        public TcpKey(Ipv4Address local, int localPort, Ipv4Address remote, int remotePort)
        {
            Remote = (ulong)remote.Value << 32 | (ulong)(uint)(remotePort & 0xFFFF) << 16 | (uint)(localPort & 0xFFFF);
            Local = local.Value;
        }

        public bool Equals(TcpKey other) => Remote == other.Remote && Local == other.Local;
        public override bool Equals(object obj) => obj is TcpKey k && Equals(k);

        public override int GetHashCode()
        {
            ulong h = (Remote ^ ((ulong)Local * 0x9E3779B97F4A7C15UL)) * 0xBF58476D1CE4E5B9UL;
            return (int)(h ^ (h >> 31) ^ (h >> 45));
        }
    }

    /// <summary>TCP (RFC 9293) over the IPv4 seam: demultiplexes received segments to
    /// connections and listeners, answers the rest with RST, keeps the timers. Pure logic: no
    /// clock reads (every call takes nowMicros), no threads. Call <see cref="Poll"/> at
    /// <see cref="NextDeadlineMicros"/> (or sooner). docs/network.md "TCP".</summary>
    public sealed partial class Tcp : ITransport, ISupersedingTransport
    {
        public const int DefaultReceiveBufferSize = 128 * 1024;
        public const int DefaultSendBufferSize = 128 * 1024; // the ring grows to it (TcpSendBuffer): a 64 KiB answer and its headers fit
        public const long Never = long.MaxValue;

        // Tunables (documented in docs/network.md).
        public long MinRtoMicros = 200 * 1000;
        public long MaxRtoMicros = 60L * 1000 * 1000;
        public long InitialRtoMicros = 1000 * 1000;
        public long DelayedAckMicros = 40 * 1000;
        public long MslMicros = 30L * 1000 * 1000;
        public long FinWait2TimeoutMicros = 60L * 1000 * 1000;
        public int SynRetries = 6;
        public int SynAckRetries = 5;
        public int MaxRetransmissions = 10;
        public int InitialWindowSegments = 10;
        public int SynBacklog = 256;
        public int TimeWaitLimit = 16384;
        public int ChallengeAcksPerSecond = 10;
        public bool VerifyChecksums = true;

        /// <summary>The test switch (issue #12's lossy-link test): drop every Nth received and
        /// every Nth sent segment (0: off). Dropped segments are counted in
        /// <see cref="Counters"/>.</summary>
        public int DropEveryNthReceived;
        public int DropEveryNthSent;
        private long _receivedForDrop;
        private long _sentForDrop;

        /// <summary>Tests: the next connection (active or passive) starts at this ISN.</summary>
        public bool UseFixedIsn;
        public uint FixedIsn;

        public readonly TcpCounters Counters = new TcpCounters();
        public ITcpNotify Notify;

        internal readonly IIpv4Output Ip;
        private readonly TcpIsnGenerator _isn;
        internal readonly byte[] Scratch = new byte[65536 + 128];
        /// <summary>Rings of ended connections for the next ones: receive rings of the default
        /// size, send rings of their first size (TcpRingPool).</summary>
        internal readonly TcpRingPool ReceiveRings = new TcpRingPool(DefaultReceiveBufferSize);
        internal readonly TcpRingPool SendRings = new TcpRingPool(TcpSendBuffer.FirstRingBytes);

        private readonly System.Collections.Generic.Dictionary<TcpKey, TcpConnection> _connections =
            new System.Collections.Generic.Dictionary<TcpKey, TcpConnection>();
        private readonly System.Collections.Generic.Dictionary<ulong, TcpListener> _listeners =
            new System.Collections.Generic.Dictionary<ulong, TcpListener>();
        private readonly System.Collections.Generic.Dictionary<int, int> _portUse =
            new System.Collections.Generic.Dictionary<int, int>();
        private TcpConnection[] _timed = new TcpConnection[16];
        private int _timedCount;
        private long _timedMin = Never;
        // TIME_WAIT connections in deadline order (every wait is 2 MSL, so appending keeps the
        // order; a restarted wait moves to the tail): the head is the next to expire.
        private TcpConnection _twHead, _twTail;
        private int _timeWaitCount;
        private uint _ephemeralCounter;

        public const int EphemeralFirst = 49152;
        public const int EphemeralLast = 65535;

        /// <summary>A TCP sending through <paramref name="ip"/>; the seed keys RFC 6528's ISN
        /// hash (take it from a random source at start-up).</summary>
        public Tcp(IIpv4Output ip, ulong isnSeed0, ulong isnSeed1)
        {
            Ip = ip;
            _isn = new TcpIsnGenerator(isnSeed0, isnSeed1);
            _ephemeralCounter = (uint)(isnSeed0 ^ (isnSeed1 >> 17));
        }

        public byte Protocol => 6;

        /// <summary>Connections in the table (every state but CLOSED, TIME_WAIT included).</summary>
        public int ConnectionCount => _connections.Count;
        public int TimeWaitCount => _timeWaitCount;

        /// <summary>socket(): a connection object in CLOSED; set its Options, optionally Bind,
        /// then Connect.</summary>
        public TcpConnection CreateConnection() => new TcpConnection(this);

        /// <summary>socket() for a listener: set Options, then Listen.</summary>
        public TcpListener CreateListener() => new TcpListener(this);

        /// <summary>The connection for a 4-tuple, if any (tests, getsockname-style lookups).</summary>
        public TcpConnection Find(Ipv4Address local, int localPort, Ipv4Address remote, int remotePort) =>
            Lookup(new TcpKey(local, localPort, remote, remotePort));

        /// <summary>Whether a connection on localPort still needs the frames a card brings for it:
        /// any state but TIME_WAIT, its peer neither on the loopback (127/8) nor 'own' (this
        /// machine's address, whose segments never reach a card). A listener's port can be lent to
        /// another stack only when none does (docs/libos-unixish.md, "The listener in the process").</summary>
        public bool NeedsFramesOnPort(int localPort, Ipv4Address own)
        {
            foreach (var kv in _connections)
            {
                TcpConnection c = kv.Value;
                if (c.LocalPort != localPort || c.State == TcpState.TimeWait || c.State == TcpState.Closed) continue;
                uint remote = c.RemoteAddress.Value;
                if ((remote >> 24) == 127 || remote == own.Value) continue;
                return true;
            }
            return false;
        }

        /// <summary>The connections in the table on localPort (TIME_WAIT too), into 'into'.</summary>
        public void ConnectionsOnPort(int localPort, System.Collections.Generic.List<TcpConnection> into)
        {
            foreach (var kv in _connections)
                if (kv.Value.LocalPort == localPort) into.Add(kv.Value);
        }

        /// <summary>Whether the connection waits in a listener's accept queue or handshake (not yet accepted).</summary>
        public static bool IsQueued(TcpConnection c) => c.Listener != null;

        // ---- input ----

        /// <summary>Pure ACKs merged into the segment being received (Supersedes); its slow
        /// start grows the window as the ACKs one by one would have.</summary>
        internal int MergedAcks;
        private int _mergedAcksPending;

        /// <summary>Merged ACKs (docs/network.md, "Merged ACKs"): a pure ACK (no data, no option,
        /// no flag but ACK and PSH) is covered by the next one for the same connection with the
        /// same sequence number and a higher acknowledgement whose checksum is right. A duplicate
        /// ACK (the same acknowledgement: fast retransmit counts them) never is, nor a segment
        /// with data, options (SACK) or a SYN, FIN, RST or URG.</summary>
        public bool Supersedes(Ipv4Address source, Ipv4Address destination, System.ReadOnlySpan<byte> earlier, System.ReadOnlySpan<byte> later)
        {
            if (earlier.Length != TcpSegment.HeaderSize || later.Length != TcpSegment.HeaderSize) return false;
            if (earlier[12] != 0x50 || later[12] != 0x50                                // 20-byte header, reserved bits clear
                || (earlier[13] & ~TcpSegment.Psh) != TcpSegment.Ack || (later[13] & ~TcpSegment.Psh) != TcpSegment.Ack
                || Wire.U32(earlier, 0) != Wire.U32(later, 0) || Wire.U32(earlier, 4) != Wire.U32(later, 4)   // ports, sequence
                || !TcpSeq.Gt(Wire.U32(later, 8), Wire.U32(earlier, 8))) return false;
            if (VerifyChecksums && !TcpSegment.ChecksumValid(later, source, destination)) return false;
            Counters.AcksMerged++;
            _mergedAcksPending++;
            return true;
        }

        public void Receive(Ipv4Address source, Ipv4Address destination, System.ReadOnlySpan<byte> payload, long nowMicros)
        {
            MergedAcks = _mergedAcksPending;
            _mergedAcksPending = 0;
            ReceiveSegment(source, destination, payload, nowMicros);
            MergedAcks = 0;
        }

        private void ReceiveSegment(Ipv4Address source, Ipv4Address destination, System.ReadOnlySpan<byte> payload, long nowMicros)
        {
            Counters.SegmentsReceived++;
            if (DropEveryNthReceived > 0 && ++_receivedForDrop % DropEveryNthReceived == 0)
            {
                Counters.DroppedByTestReceive++;
                return;
            }
            if (!TcpSegment.TryParse(payload, out TcpSegment seg))
            {
                Counters.Malformed++;
                return;
            }
            if (VerifyChecksums && !TcpSegment.ChecksumValid(payload, source, destination))
            {
                Counters.BadChecksum++;
                return;
            }
            // RFC 1122 4.2.3.10: nothing for broadcast or multicast addresses.
            if (source.IsBroadcast || source.IsMulticast || destination.IsBroadcast || destination.IsMulticast ||
                seg.SourcePort == 0 || seg.DestinationPort == 0)
            {
                Counters.Malformed++;
                return;
            }
            System.ReadOnlySpan<byte> data = payload.Slice(seg.HeaderLength);
            var key = new TcpKey(destination, seg.DestinationPort, source, seg.SourcePort);
            bool hasFloor = false;
            uint floor = 0;
            if (_connections.TryGetValue(key, out TcpConnection c))
            {
                if (c.State == TcpState.TimeWait && seg.HasSyn && !seg.HasAck && !seg.HasRst &&
                    (TcpSeq.Gt(seg.Seq, c.TimeWaitRcvNxt) || c.TimeWaitRcvNxt - seg.Seq > c.TimeWaitReach)
                    && FindListener(destination, seg.DestinationPort) != null)
                {
                    // RFC 6191 / RFC 1122 4.2.2.13 without timestamps: a SYN whose ISN is beyond
                    // everything the old incarnation sent ends TIME_WAIT and opens anew; our ISN
                    // continues beyond what the old incarnation used. So does one whose ISN lies
                    // more than TimeWaitReach behind: a peer whose ISN clock outruns half the
                    // sequence space within 2MSL looks "behind" (QEMU's user network adds 64,000 a
                    // connection: at 1,400 connections a second it wraps in 48 s, and a host port
                    // comes back every 20 s). None of the old incarnation's retransmissions (all
                    // within a window of RCV.NXT) can then land in the new window; a duplicate the
                    // network kept from earlier in that connection still could, the risk RFC
                    // 6191's timestamps remove and QEMU's user network cannot produce.
                    Counters.TimeWaitReused++;
                    hasFloor = true;
                    floor = c.TimeWaitSndMax + 65536 * 2;
                    c.Terminate(TcpError.None);
                }
                else
                {
                    c.Input(ref seg, data, nowMicros);
                    return;
                }
            }
            // Handed over (TcpHandover.cs): another stack runs the connection, and a reset would
            // kill it; or the whole port's frames went to another stack (a lent listener given
            // back), and what reached this ring before the move is that stack's (a handshake's ACK,
            // a new SYN), which a listener still here (a twin draining its queue) or a reset would take.
            bool movedConnection = _movedKeys != null && MovedLately(key, nowMicros);
            if (movedConnection || (_movedPortUntil != null && MovedPortLately(destination, seg.DestinationPort, nowMicros)))
            {
                if (MovedSegment == null)
                {
                    if (movedConnection) Counters.DroppedForMovedConnection++;
                    else Counters.DroppedForMovedPort++;
                    return;
                }
                if (movedConnection) Counters.ForwardedForMovedConnection++;
                else Counters.ForwardedForMovedPort++;
                MovedSegment(source, destination, payload);
                return;
            }
            TcpListener l = FindListener(destination, seg.DestinationPort);
            if (l != null)
            {
                l.Input(source, destination, ref seg, nowMicros, hasFloor, floor);
                return;
            }
            Counters.NoConnection++;
            if (!seg.HasRst)
            {
                if (seg.HasAck) SendReset(destination, source, seg.DestinationPort, seg.SourcePort, seg.AckNumber, 0, false);
                else SendReset(destination, source, seg.DestinationPort, seg.SourcePort, 0, seg.Seq + (uint)seg.SeqLength, true);
            }
        }

        /// <summary>RFC 9293 3.10.7.1: a reset for a segment no connection owns.</summary>
        internal void SendReset(Ipv4Address local, Ipv4Address remote, int localPort, int remotePort, uint seq, uint ack, bool withAck)
        {
            byte[] buf = Scratch;
            byte flags = (byte)(TcpSegment.Rst | (withAck ? TcpSegment.Ack : 0));
            int hl = TcpSegment.Write(buf, localPort, remotePort, seq, ack, flags, 0, -1, -1);
            var segment = new System.Span<byte>(buf, 0, hl);
            TcpSegment.SetChecksum(segment, local, remote);
            Counters.ResetsSent++;
            Transmit(remote, segment);
        }

        /// <summary>A segment with more payload than segmentSize: cut on its way out (by the card
        /// when it can); counted as the segments the wire carries.</summary>
        internal void TransmitSegmented(Ipv4Address remote, System.ReadOnlySpan<byte> segment, int headerBytes, int segmentSize)
        {
            Counters.SegmentsSent += (segment.Length - headerBytes + segmentSize - 1) / segmentSize;
            if (!Ip.SendTcpSegmented(remote, segment, headerBytes, segmentSize)) Counters.SendRefusedByIp++;
        }

        internal void Transmit(Ipv4Address remote, System.ReadOnlySpan<byte> segment)
        {
            Counters.SegmentsSent++;
            if (DropEveryNthSent > 0 && ++_sentForDrop % DropEveryNthSent == 0)
            {
                Counters.DroppedByTestSend++;
                return;
            }
            if (!Ip.Send(remote, 6, segment)) Counters.SendRefusedByIp++;
        }

        // ---- tables ----

        internal TcpConnection Lookup(TcpKey key) => _connections.TryGetValue(key, out TcpConnection c) ? c : null;

        internal void Add(TcpConnection c)
        {
            if (c.InTable) return;
            _connections[c.Key] = c;
            c.InTable = true;
            _portUse.TryGetValue(c.LocalPort, out int n);
            _portUse[c.LocalPort] = n + 1;
        }

        internal void Remove(TcpConnection c)
        {
            if (!c.InTable) return;
            c.InTable = false;
            _connections.Remove(c.Key);
            if (_portUse.TryGetValue(c.LocalPort, out int n))
            {
                if (n <= 1) _portUse.Remove(c.LocalPort);
                else _portUse[c.LocalPort] = n - 1;
            }
        }

        private static ulong ListenerKey(Ipv4Address a, int port) => (ulong)a.Value << 16 | (uint)(port & 0xFFFF);

        private TcpListener FindListener(Ipv4Address local, int port)
        {
            if (_listeners.TryGetValue(ListenerKey(local, port), out TcpListener l)) return l;
            if (_listeners.TryGetValue(ListenerKey(Ipv4Address.Any, port), out l)) return l;
            return null;
        }

        private bool AnyListenerOnPort(int port)
        {
            if (_listeners.TryGetValue(ListenerKey(Ipv4Address.Any, port), out _)) return true;
            foreach (var kv in _listeners)
                if ((int)(kv.Key & 0xFFFF) == port) return true;
            return false;
        }

        internal TcpError AddListener(TcpListener l, Ipv4Address local, int port)
        {
            if (local.IsAny ? AnyListenerOnPort(port) : FindListener(local, port) != null) return TcpError.AddressInUse;
            if (!l.Options.ReuseAddress && _portUse.ContainsKey(port)) return TcpError.AddressInUse;
            _listeners[ListenerKey(local, port)] = l;
            return TcpError.None;
        }

        internal void RemoveListener(TcpListener l)
        {
            ulong k = ListenerKey(l.LocalAddress, l.LocalPort);
            if (_listeners.TryGetValue(k, out TcpListener x) && x == l) _listeners.Remove(k);
        }

        internal void AbortHalfOpen(TcpListener l, long now)
        {
            var doomed = new System.Collections.Generic.List<TcpConnection>();
            foreach (var kv in _connections)
                if (kv.Value.Listener == l) doomed.Add(kv.Value);
            for (int i = 0; i < doomed.Count; i++) doomed[i].Abort(now);
        }

        /// <summary>An ephemeral port for connect() (RFC 6056: a keyed start and a counter; a
        /// port is taken when the 4-tuple is in use or a listener holds it).</summary>
        internal int ChooseEphemeralPort(Ipv4Address local, Ipv4Address remote, int remotePort)
        {
            const int n = EphemeralLast - EphemeralFirst + 1;
            uint offset = (uint)_isn.Hash((ulong)local.Value << 32 | remote.Value, (uint)remotePort);
            for (int i = 0; i < n; i++)
            {
                int port = EphemeralFirst + (int)((offset + _ephemeralCounter++) % n);
                if (AnyListenerOnPort(port)) continue;
                if (Lookup(new TcpKey(local, port, remote, remotePort)) != null) continue;
                return port;
            }
            return 0;
        }

        /// <summary>A free ephemeral port (no listener, no connection on it), or 0: what bind() to
        /// port 0 or listen() on an unbound socket takes.</summary>
        public int ChooseListenPort()
        {
            const int n = EphemeralLast - EphemeralFirst + 1;
            for (int i = 0; i < n; i++)
            {
                int port = EphemeralFirst + (int)(_ephemeralCounter++ % n);
                if (!AnyListenerOnPort(port) && !_portUse.ContainsKey(port)) return port;
            }
            return 0;
        }

        internal uint NewIsn(Ipv4Address local, int localPort, Ipv4Address remote, int remotePort, long now,
            uint floor, bool hasFloor)
        {
            uint isn;
            if (UseFixedIsn)
            {
                UseFixedIsn = false;
                isn = FixedIsn;
            }
            else isn = _isn.Next(local, localPort, remote, remotePort, now);
            if (hasFloor && TcpSeq.Lt(isn, floor)) isn = floor;
            return isn;
        }

        // ---- timers ----

        /// <summary>When <see cref="Poll"/> should next run (Never when nothing is pending). It
        /// may be early (a cancelled timer), never late.</summary>
        public long NextDeadlineMicros
        {
            get
            {
                long d = _timedMin;
                if (_twHead != null && _twHead.TimeWaitDeadline < d) d = _twHead.TimeWaitDeadline;
                return d;
            }
        }

        /// <summary>Runs every timer due at <paramref name="nowMicros"/>.</summary>
        public void Poll(long nowMicros)
        {
            while (_twHead != null && _twHead.TimeWaitDeadline <= nowMicros)
                _twHead.Terminate(TcpError.None);       // unlinks it
            if (nowMicros < _timedMin) return;
            _timedMin = Never;
            for (int i = _timedCount - 1; i >= 0; i--)
            {
                if (i >= _timedCount) continue;
                TcpConnection c = _timed[i];
                if (c.Deadline <= nowMicros)
                {
                    c.OnTimers(nowMicros);
                    Schedule(c);
                    Signal(c);
                }
                else if (c.Deadline < _timedMin) _timedMin = c.Deadline;
            }
        }

        /// <summary>Recomputes a connection's next deadline and keeps the list of connections
        /// with timers (and its minimum) up to date.</summary>
        internal void Schedule(TcpConnection c)
        {
            long d = c.State == TcpState.Closed ? Never : c.ComputeDeadline();
            c.Deadline = d;
            if (d == Never)
            {
                int i = c.TimedIndex;
                if (i >= 0)
                {
                    TcpConnection last = _timed[--_timedCount];
                    _timed[i] = last;
                    last.TimedIndex = i;
                    _timed[_timedCount] = null;
                    c.TimedIndex = -1;
                }
                return;
            }
            if (c.TimedIndex < 0)
            {
                if (_timedCount == _timed.Length) System.Array.Resize(ref _timed, _timed.Length * 2);
                c.TimedIndex = _timedCount;
                _timed[_timedCount++] = c;
            }
            if (d < _timedMin) _timedMin = d;
        }

        internal void EnterTimeWait(TcpConnection c)
        {
            Schedule(c);
            if (_timeWaitCount >= TimeWaitLimit)
            {
                Counters.TimeWaitOverflow++;
                c.Terminate(TcpError.None);
                return;
            }
            LinkTimeWait(c);
        }

        private void LinkTimeWait(TcpConnection c)
        {
            c.TwPrev = _twTail;
            c.TwNext = null;
            if (_twTail != null) _twTail.TwNext = c;
            else _twHead = c;
            _twTail = c;
            c.InTimeWaitList = true;
            _timeWaitCount++;
        }

        internal void UnlinkTimeWait(TcpConnection c)
        {
            if (!c.InTimeWaitList) return;
            if (c.TwPrev != null) c.TwPrev.TwNext = c.TwNext;
            else _twHead = c.TwNext;
            if (c.TwNext != null) c.TwNext.TwPrev = c.TwPrev;
            else _twTail = c.TwPrev;
            c.TwPrev = null;
            c.TwNext = null;
            c.InTimeWaitList = false;
            _timeWaitCount--;
        }

        /// <summary>A retransmitted FIN restarted the 2MSL wait: the latest deadline, so the tail.</summary>
        internal void RestartTimeWait(TcpConnection c)
        {
            if (!c.InTimeWaitList) return;
            UnlinkTimeWait(c);
            LinkTimeWait(c);
        }

        internal void Signal(TcpConnection c)
        {
            if (Notify != null) Notify.ConnectionChanged(c);
        }

        internal void Signal(TcpListener l)
        {
            if (Notify != null) Notify.ListenerChanged(l);
        }
    }
}
