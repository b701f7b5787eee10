// Handing a live connection from one Tcp to another (docs/network.md, "Handing a connection
// over"): the stack that runs a connection can change — a libOS may give an accepted connection
// to the process that will use it, so its segments reach that process's own stack, and take it
// back when the process forks or ends — without the peer seeing anything. The record is the whole
// transmission control block and the bytes it holds; the taking stack checks every field, because
// a record may come from another environment and must never be able to break the stack that
// reads it.
namespace Aegis.LibOS.Net
{
    /// <summary>Tcp.MovedSegment: a TCP segment (header and data, as it came) of a connection this
    /// stack handed over lately, with its IPv4 source and destination.</summary>
    public delegate void SegmentForwarder(Ipv4Address source, Ipv4Address destination, System.ReadOnlySpan<byte> segment);

    public sealed partial class TcpConnection
    {
        /// <summary>The record's fixed part (HandoverBytes adds the queued bytes).</summary>
        public const int HandoverHeaderBytes = 320;
        internal const uint HandoverMagic = 0x54435048; // "TCPH"
        internal const int HandoverVersion = 1;

        /// <summary>Whether this connection can be handed over now: a synchronized state (not a
        /// handshake, not closed), accepted (not waiting in a listener's queue).</summary>
        public bool CanHandOver =>
            State >= TcpState.Established && State <= TcpState.TimeWait && Listener == null && InTable;

        /// <summary>Whether this is a handshake a listener of this stack answered and its peer has not
        /// finished (SYN_RECEIVED): <see cref="HandOverHalfOpen"/> can move it to another stack's
        /// listener for the same port (<see cref="TcpListener.Enqueue"/>), where the peer's final
        /// ACK then completes it.</summary>
        public bool CanHandOverHalfOpen =>
            State == TcpState.SynReceived && Listener != null && !InAcceptQueue && InTable;

        /// <summary>The bytes <see cref="HandOver"/> writes: the fixed part, the send queue (sent
        /// and not acknowledged, and not yet sent) and the in-order received bytes not yet read.
        /// Out-of-order bytes are not carried: the peer, never told of them, sends them again.</summary>
        public int HandoverBytes => HandoverHeaderBytes + (_snd != null ? _snd.Length : 0) + (_rcv != null ? _rcv.Length : 0);

        /// <summary>Writes this connection's record into <paramref name="destination"/> and takes it out
        /// of its stack (table, timers, TIME_WAIT list) without sending anything: from now on
        /// only the stack that takes the record over (<see cref="Tcp.TakeOver"/>) runs it, and this
        /// object is dead (every call answers NotConnected). For <see cref="Tcp.MovedQuietMicros"/>
        /// this stack drops the connection's segments that still reach it (frames already on their
        /// way when its filter moved) without answering them with a reset. Returns the record's
        /// length, or the negated error: InvalidArgument when <see cref="CanHandOver"/> is false,
        /// NoBufferSpace when the destination is shorter than <see cref="HandoverBytes"/>.</summary>
        public int HandOver(System.Span<byte> destination, long nowMicros)
        {
            if (!CanHandOver) return -(int)TcpError.InvalidArgument;
            return WriteRecord(destination, nowMicros);
        }

        /// <summary>As <see cref="HandOver"/>, for a handshake in progress (<see cref="CanHandOverHalfOpen"/>):
        /// the record (no buffers: a half-open connection has none yet) is taken over only by
        /// <see cref="Tcp.TakeOver(System.ReadOnlySpan{byte}, long, out TcpError, bool)"/> with halfOpen,
        /// and joins a listener with <see cref="TcpListener.Enqueue"/>. The listener here forgets it.</summary>
        public int HandOverHalfOpen(System.Span<byte> destination, long nowMicros)
        {
            if (!CanHandOverHalfOpen) return -(int)TcpError.InvalidArgument;
            if (destination.Length < HandoverBytes) return -(int)TcpError.NoBufferSpace;
            Listener.ChildGone(this);
            Listener = null;
            return WriteRecord(destination, nowMicros);
        }

        private int WriteRecord(System.Span<byte> destination, long nowMicros)
        {
            int length = HandoverBytes;
            if (destination.Length < length) return -(int)TcpError.NoBufferSpace;
            var w = new HandoverCursor(destination);
            w.U32(HandoverMagic);
            w.U32(HandoverVersion);
            w.U32((uint)State);
            w.U32(Flags());
            w.U32(LocalAddress.Value);
            w.U32((uint)LocalPort);
            w.U32(RemoteAddress.Value);
            w.U32((uint)RemotePort);
            // options
            w.U32((uint)Options.ReceiveBufferSize);
            w.U32((uint)Options.SendBufferSize);
            w.I64(Options.KeepIdleMicros);
            w.I64(Options.KeepIntervalMicros);
            w.U32((uint)Options.KeepCount);
            w.U32((uint)Options.LingerSeconds);
            // send side
            w.U32(_iss); w.U32(_sndUna); w.U32(_sndNxt); w.U32(_sndMax); w.U32(_sndWl1); w.U32(_sndWl2);
            w.U32(_sndWnd); w.U32(_maxSndWnd); w.U32(_sndBufSeq); w.U32(_finSeq);
            w.U32((uint)_sndScale); w.U32((uint)_rcvScale); w.U32((uint)_offeredScale);
            w.U32((uint)_mss); w.U32((uint)_rcvMss);
            // congestion control and retransmission
            w.U32(_cwnd); w.U32(_ssthresh); w.U32(_recover); w.U32(_caBytes); w.U32((uint)_dupAcks);
            w.I64(_rtt.Srtt); w.I64(_rtt.RttVar); w.I64(_rtt.Rto); w.U32((uint)_rtt.Backoffs);
            w.U32(_timingSeq); w.I64(_timingStart); w.U32((uint)_retries);
            w.I64(_rtoDeadline); w.I64(_persistDeadline); w.I64(_corkDeadline); w.I64(_delackDeadline); w.I64(_stateDeadline);
            w.U32((uint)_persistShift); w.U32((uint)_persistProbes); w.I64(_lastSend);
            // receive side
            w.U32(_irs); w.U32(_rcvNxt); w.U32(_rcvAdvEdge); w.U32(_rcvFinSeq);
            w.U32((uint)_rcvMssSeen); w.U32((uint)_delackBytes);
            w.I64(_idleSince); w.U32((uint)_keepProbes); w.I64(_lastKeepProbe);
            w.I64(_challengeWindowStart); w.U32((uint)_challengeCount);
            w.U32((uint)_pendingError);
            // the buffers: capacities, then lengths, then bytes
            w.U32(_snd != null ? (uint)_snd.Capacity : 0);
            w.U32(_rcv != null ? (uint)_rcv.Capacity : 0);
            int sendLength = _snd != null ? _snd.Length : 0, receiveLength = _rcv != null ? _rcv.Length : 0;
            w.U32((uint)sendLength);
            w.U32((uint)receiveLength);
            if (w.Position != HandoverHeaderBytes) throw new System.InvalidOperationException("the handover record's fixed part changed size");
            if (sendLength > 0) _snd.CopyOut(0, destination.Slice(w.Position, sendLength));
            if (receiveLength > 0) _rcv.Read(destination.Slice(w.Position + sendLength, receiveLength), peek: true);
            if (_rcv != null) _tcp.Counters.HandoverOutOfOrderBytesDropped += _rcv.OutOfOrderBytes;
            _tcp.RememberMoved(Key, nowMicros);
            Detach();
            return length;
        }

        /// <summary>Out of the stack, dead: what a handover leaves behind.</summary>
        private void Detach()
        {
            _tcp.UnlinkTimeWait(this);
            _tcp.Remove(this);
            State = TcpState.Closed;
            _tcp.Schedule(this); // Closed: off the timed list
            _everConnecting = false;
            _closedByUser = true;
            _pendingError = TcpError.None;
            _resetOrTimedOut = false;
            DropSend();
            DropReceive();
            _tcp.Counters.HandedOver++;
        }

        /// <summary>The record's flag word: bit i is the i-th of these, in TakeRecord's order.</summary>
        private uint Flags()
        {
            bool[] flags =
            {
                Options.NoDelay, Options.Cork, Options.KeepAlive, Options.ReuseAddress, Options.Linger,
                _bound, _finQueued, _finSent, _writeShut, _wsOk, _inRecovery, _firstPartialAck, _timing,
                _finReceived, _rcvFinPending, _readShut, _ackNow, _closedByUser, _rtt.HasSample, _snd != null, _rcv != null,
            };
            uint word = 0;
            for (int i = 0; i < flags.Length; i++)
                if (flags[i]) word |= 1u << i;
            return word;
        }

        private const int FlagCount = 21;

        private static bool Bit(uint flags, ref int bit) => (flags >> bit++ & 1) != 0;

        /// <summary>Fills this fresh connection from a record; false (nothing taken) when any field
        /// is out of its range or the fields contradict each other. Every relation the segment
        /// code relies on is checked here, so a made-up record cannot make it index outside a
        /// buffer or loop.</summary>
        internal bool TakeRecord(System.ReadOnlySpan<byte> record, long now, bool halfOpen)
        {
            if (record.Length < HandoverHeaderBytes) return false;
            var r = new HandoverCursor(record);
            if (r.U32() != HandoverMagic || r.U32() != HandoverVersion) return false;
            uint state = r.U32();
            if (halfOpen ? state != (uint)TcpState.SynReceived : state < (uint)TcpState.Established || state > (uint)TcpState.TimeWait) return false;
            uint flags = r.U32();
            if (flags >> FlagCount != 0) return false;
            var local = new Ipv4Address(r.U32());
            uint localPort = r.U32();
            var remote = new Ipv4Address(r.U32());
            uint remotePort = r.U32();
            if (!Usable(local) || !Usable(remote) || localPort - 1 > 65534 || remotePort - 1 > 65534) return false;

            var o = new TcpSocketOptions();
            o.ReceiveBufferSize = (int)r.U32();
            o.SendBufferSize = (int)r.U32();
            o.KeepIdleMicros = r.I64();
            o.KeepIntervalMicros = r.I64();
            o.KeepCount = (int)r.U32();
            o.LingerSeconds = (int)r.U32();
            if (!BufferSize(o.ReceiveBufferSize) || !BufferSize(o.SendBufferSize)) return false;
            if (o.KeepIdleMicros <= 0 || o.KeepIntervalMicros <= 0 || (uint)o.KeepCount > 1000 || (uint)o.LingerSeconds > 1_000_000) return false;

            uint iss = r.U32(), sndUna = r.U32(), sndNxt = r.U32(), sndMax = r.U32(), sndWl1 = r.U32(), sndWl2 = r.U32();
            uint sndWnd = r.U32(), maxSndWnd = r.U32(), sndBufSeq = r.U32(), finSeq = r.U32();
            int sndScale = (int)r.U32(), rcvScale = (int)r.U32(), offeredScale = (int)r.U32();
            int mss = (int)r.U32(), rcvMss = (int)r.U32();
            uint cwnd = r.U32(), ssthresh = r.U32(), recover = r.U32(), caBytes = r.U32();
            int dupAcks = (int)r.U32();
            long srtt = r.I64(), rttVar = r.I64(), rto = r.I64();
            int backoffs = (int)r.U32();
            uint timingSeq = r.U32();
            long timingStart = r.I64();
            int retries = (int)r.U32();
            long rtoDeadline = r.I64(), persistDeadline = r.I64(), corkDeadline = r.I64(), delackDeadline = r.I64(), stateDeadline = r.I64();
            int persistShift = (int)r.U32(), persistProbes = (int)r.U32();
            long lastSend = r.I64();
            uint irs = r.U32(), rcvNxt = r.U32(), rcvAdvEdge = r.U32(), rcvFinSeq = r.U32();
            int rcvMssSeen = (int)r.U32(), delackBytes = (int)r.U32();
            long idleSince = r.I64();
            int keepProbes = (int)r.U32();
            long lastKeepProbe = r.I64(), challengeWindowStart = r.I64();
            int challengeCount = (int)r.U32();
            uint pendingError = r.U32();
            int sendCapacity = (int)r.U32(), receiveCapacity = (int)r.U32();
            int sendLength = (int)r.U32(), receiveLength = (int)r.U32();

            int bit = 0;
            o.NoDelay = Bit(flags, ref bit);
            o.Cork = Bit(flags, ref bit);
            o.KeepAlive = Bit(flags, ref bit);
            o.ReuseAddress = Bit(flags, ref bit);
            o.Linger = Bit(flags, ref bit);
            bool bound = Bit(flags, ref bit), finQueued = Bit(flags, ref bit), finSent = Bit(flags, ref bit);
            bool writeShut = Bit(flags, ref bit), wsOk = Bit(flags, ref bit), inRecovery = Bit(flags, ref bit);
            bool firstPartialAck = Bit(flags, ref bit), timing = Bit(flags, ref bit), finReceived = Bit(flags, ref bit);
            bool rcvFinPending = Bit(flags, ref bit), readShut = Bit(flags, ref bit), ackNow = Bit(flags, ref bit);
            bool closedByUser = Bit(flags, ref bit), hasSample = Bit(flags, ref bit);
            bool hasSend = Bit(flags, ref bit), hasReceive = Bit(flags, ref bit);

            var s = (TcpState)state;
            if (halfOpen)
            {
                // A handshake: our SYN sent (and only it), the peer's SYN taken, nothing else yet:
                // no buffers, no FIN either way, no close by a user (nobody accepted it).
                if (hasSend || hasReceive || sendCapacity != 0 || receiveCapacity != 0 || sendLength != 0 || receiveLength != 0) return false;
                if (record.Length != HandoverHeaderBytes) return false;
                if (sndUna != iss || sndNxt != iss + 1 || sndMax != iss + 1 || sndBufSeq != iss + 1 || rcvNxt != irs + 1) return false;
                if (finQueued || finSent || writeShut || finReceived || rcvFinPending || readShut || closedByUser) return false;
                if (cwnd == 0) cwnd = 1; // (set when the handshake ends)
            }
            // The buffers: present where the state uses them, within their sizes, bytes all there.
            if (hasSend != (sendCapacity != 0) || hasReceive != (receiveCapacity != 0)) return false;
            if (hasSend && !BufferSize(sendCapacity) || hasReceive && !BufferSize(receiveCapacity)) return false;
            if ((uint)sendLength > (uint)sendCapacity || (uint)receiveLength > (uint)receiveCapacity) return false;
            if (record.Length != HandoverHeaderBytes + sendLength + receiveLength) return false;
            if (!halfOpen && hasSend == (s == TcpState.TimeWait)) return false; // TIME_WAIT has no send queue; every other synchronized state has one
            // Segment sizes and window scales within what the route and RFC 7323 allow.
            int routeMost = RouteMss(remote);
            if (mss < 64 || mss > routeMost || rcvMss < 64 || rcvMss > 65535) return false;
            if ((uint)sndScale > 14 || (uint)rcvScale > 14 || offeredScale < -1 || offeredScale > 14) return false;
            if (!wsOk && (sndScale != 0 || rcvScale != 0)) return false;
            // The send sequence space: SND.UNA <= SND.NXT <= SND.MAX, all inside the queue (and its
            // FIN), the queue starting at SND.UNA (or, once the FIN is acknowledged, ending there).
            uint bufEnd = sndBufSeq + (uint)sendLength;
            if (!TcpSeq.Le(sndUna, sndNxt) || !TcpSeq.Le(sndNxt, sndMax)) return false;
            if (finSent && (!finQueued || !writeShut || finSeq != bufEnd)) return false;
            if (finQueued && !writeShut) return false;
            if (!TcpSeq.Le(sndMax, bufEnd + (finSent ? 1u : 0u))) return false;
            bool finAcked = finSent && sndUna == finSeq + 1;
            if (!halfOpen && (finAcked ? sendLength != 0 || sndBufSeq != finSeq : sndUna != sndBufSeq)) return false;
            if (timing && (!TcpSeq.Le(sndUna, timingSeq) || !TcpSeq.Lt(timingSeq, sndMax))) return false;
            // The receive side: a pending FIN lies beyond RCV.NXT within the window.
            if (rcvFinPending && (!TcpSeq.Gt(rcvFinSeq, rcvNxt) || rcvFinSeq - rcvNxt > (uint)receiveCapacity + 1)) return false;
            if (finReceived && rcvFinPending) return false;
            // Counters and estimator values within the ranges the code produces.
            if ((uint)dupAcks > 1_000_000 || (uint)retries > 1000 || (uint)persistShift > 30 || (uint)persistProbes > 1000
                || (uint)keepProbes > 1000 || (uint)challengeCount > 1_000_000 || (uint)backoffs > 64
                || (uint)rcvMssSeen > 65535 || (uint)delackBytes > (uint)receiveCapacity + 65535) return false;
            if (srtt < 0 || rttVar < 0 || srtt > _tcp.MaxRtoMicros * 4 || rttVar > _tcp.MaxRtoMicros * 4) return false;
            if (cwnd == 0) return false;
            if (pendingError != 0) return false; // only a connection that ended has one

            // Taken: this fresh connection becomes the record's.
            State = s;
            LocalAddress = local;
            LocalPort = (int)localPort;
            RemoteAddress = remote;
            RemotePort = (int)remotePort;
            Key = new TcpKey(local, LocalPort, remote, RemotePort);
            Options = o;
            _everConnecting = true;
            _bound = bound;
            _iss = iss; _sndUna = sndUna; _sndNxt = sndNxt; _sndMax = sndMax; _sndWl1 = sndWl1; _sndWl2 = sndWl2;
            _sndWnd = sndWnd; _maxSndWnd = maxSndWnd; _sndBufSeq = sndBufSeq; _finSeq = finSeq;
            _finQueued = finQueued; _finSent = finSent; _writeShut = writeShut;
            _sndScale = sndScale; _rcvScale = rcvScale; _offeredScale = offeredScale; _wsOk = wsOk;
            _mss = mss; _rcvMss = rcvMss;
            _cwnd = cwnd > MaxWindow ? MaxWindow : cwnd; _ssthresh = ssthresh; _recover = recover; _caBytes = caBytes; _dupAcks = dupAcks;
            _inRecovery = inRecovery; _firstPartialAck = firstPartialAck;
            _rtt.Srtt = srtt; _rtt.RttVar = rttVar; _rtt.HasSample = hasSample; _rtt.Backoffs = backoffs;
            _rtt.Rto = rto < _tcp.MinRtoMicros ? _tcp.MinRtoMicros : rto > _tcp.MaxRtoMicros ? _tcp.MaxRtoMicros : rto;
            _timing = timing; _timingSeq = timingSeq; _timingStart = timingStart; _retries = retries;
            _rtoDeadline = rtoDeadline; _persistDeadline = persistDeadline; _corkDeadline = corkDeadline;
            _delackDeadline = delackDeadline;
            // A 2MSL wait never grows by moving: at most the importing stack's own.
            long mostState = now + 2 * _tcp.MslMicros;
            _stateDeadline = s == TcpState.TimeWait && stateDeadline > mostState ? mostState : stateDeadline;
            _persistShift = persistShift; _persistProbes = persistProbes; _lastSend = lastSend;
            _irs = irs; _rcvNxt = rcvNxt; _rcvAdvEdge = rcvAdvEdge; _rcvFinSeq = rcvFinSeq;
            _finReceived = finReceived; _rcvFinPending = rcvFinPending; _readShut = readShut; _ackNow = ackNow;
            _rcvMssSeen = rcvMssSeen; _delackBytes = delackBytes;
            _idleSince = idleSince; _keepProbes = keepProbes; _lastKeepProbe = lastKeepProbe;
            _challengeWindowStart = challengeWindowStart; _challengeCount = challengeCount;
            _closedByUser = closedByUser;
            _pendingError = (TcpError)pendingError;
            if (hasSend)
            {
                _snd = NewSendBuffer(sendCapacity);
                if (sendLength > 0) _snd.Append(record.Slice(HandoverHeaderBytes, sendLength));
            }
            if (hasReceive)
            {
                _rcv = NewReceiveBuffer(receiveCapacity);
                if (receiveLength > 0) _rcv.Store(0, 0, record.Slice(HandoverHeaderBytes + sendLength, receiveLength), out _);
            }
            return true;
        }

        /// <summary>What the taking stack does once the record is in: sends what is owed (an ACK
        /// the old stack held back, bytes the windows allow) and keeps the timers.</summary>
        internal void Resume(long now)
        {
            Output(now);
        }

        private int RouteMss(Ipv4Address remote)
        {
            int max = _tcp.Ip.MaxPayload(remote) - TcpSegment.HeaderSize;
            if (max > _tcp.Scratch.Length - 64) max = _tcp.Scratch.Length - 64;
            return max < 64 ? 64 : max;
        }

        private static bool Usable(Ipv4Address a) => !a.IsAny && !a.IsBroadcast && !a.IsMulticast;

        private static bool BufferSize(int bytes) => bytes >= 2048 && bytes <= Tcp.MaximumBufferBytes;
    }

    public sealed partial class Tcp
    {
        /// <summary>The largest send or receive buffer: the Linux personality's SO_SNDBUF/SO_RCVBUF
        /// ceiling (InetSockets), and so the most a handed-over record may ask for.</summary>
        public const int MaximumBufferBytes = 4 * 1024 * 1024;

        /// <summary>Takes over a connection another stack handed over (<see cref="TcpConnection.HandOver"/>):
        /// checks the record, puts the connection in this stack's table and timers (a TIME_WAIT one
        /// in its queue by deadline) and sends what it owes. Null with InvalidArgument for a record
        /// that is malformed or inconsistent, AddressInUse when this stack already has a connection
        /// with the same addresses and ports.</summary>
        public TcpConnection TakeOver(System.ReadOnlySpan<byte> record, long nowMicros, out TcpError error)
            => TakeOver(record, nowMicros, out error, halfOpen: false);

        /// <summary>As <see cref="TakeOver(System.ReadOnlySpan{byte}, long, out TcpError)"/>; with
        /// halfOpen, only a handshake's record (<see cref="TcpConnection.HandOverHalfOpen"/>) is
        /// taken, and the caller must give it to a listener at once (<see cref="TcpListener.Enqueue"/>):
        /// a handshake belongs to a listener. Its SYN-ACK's retransmission timer runs on here.</summary>
        public TcpConnection TakeOver(System.ReadOnlySpan<byte> record, long nowMicros, out TcpError error, bool halfOpen)
        {
            var c = new TcpConnection(this);
            if (!c.TakeRecord(record, nowMicros, halfOpen))
            {
                Counters.TakeOverRefused++;
                error = TcpError.InvalidArgument;
                return null;
            }
            if (Lookup(c.Key) != null)
            {
                Counters.TakeOverRefused++;
                error = TcpError.AddressInUse;
                return null;
            }
            ForgetMoved(c.Key);
            Add(c);
            if (c.State == TcpState.TimeWait)
            {
                Schedule(c);
                if (_timeWaitCount >= TimeWaitLimit)
                {
                    Counters.TimeWaitOverflow++;
                    c.Terminate(TcpError.None);
                }
                else LinkTimeWaitByDeadline(c);
            }
            else
            {
                if (!halfOpen) c.Resume(nowMicros); // a handshake owes nothing: its SYN-ACK went
                Schedule(c);
            }
            Counters.TakenOver++;
            error = TcpError.None;
            return c;
        }

        /// <summary>The addresses and ports a record (<see cref="TcpConnection.HandOver"/>) names,
        /// read without taking it over (a taker that must check them first); false when the record
        /// is too short or not a record. Nothing else in it is checked here: TakeOver checks all.</summary>
        public static bool RecordTuple(System.ReadOnlySpan<byte> record, out Ipv4Address local, out int localPort, out Ipv4Address remote, out int remotePort)
            => RecordTuple(record, out local, out localPort, out remote, out remotePort, out _);

        /// <summary>As RecordTuple, with the state the record says (SynReceived for a handshake's).</summary>
        public static bool RecordTuple(System.ReadOnlySpan<byte> record, out Ipv4Address local, out int localPort, out Ipv4Address remote, out int remotePort, out TcpState state)
        {
            local = remote = default;
            localPort = remotePort = 0;
            state = TcpState.Closed;
            if (record.Length < TcpConnection.HandoverHeaderBytes) return false;
            var r = new HandoverCursor(record);
            if (r.U32() != TcpConnection.HandoverMagic || r.U32() != TcpConnection.HandoverVersion) return false;
            state = (TcpState)r.U32();
            r.U32(); // flags
            local = new Ipv4Address(r.U32());
            localPort = (int)r.U32();
            remote = new Ipv4Address(r.U32());
            remotePort = (int)r.U32();
            return true;
        }

        /// <summary>How long a stack that handed a connection over drops, without a reset, the
        /// segments of it that still reach it.</summary>
        public long MovedQuietMicros = 2_000_000;

        /// <summary>Where a segment of a connection handed over lately goes instead of being dropped
        /// (the stack that runs it now, when the owner can reach it: a process's stack gives a
        /// connection's late segments to the file server, which took it over). Null: dropped.</summary>
        public SegmentForwarder MovedSegment;

        private const int MovedKept = 64;
        private TcpKey[] _movedKeys;
        private long[] _movedUntil;
        private int _movedNext;

        /// <summary>A connection this stack handed over: its segments are dropped quietly until then.</summary>
        internal void RememberMoved(TcpKey key, long nowMicros)
        {
            if (_movedKeys == null)
            {
                _movedKeys = new TcpKey[MovedKept];
                _movedUntil = new long[MovedKept];
            }
            _movedKeys[_movedNext] = key;
            _movedUntil[_movedNext] = nowMicros + MovedQuietMicros;
            _movedNext = (_movedNext + 1) % MovedKept;
        }

        private void ForgetMoved(TcpKey key)
        {
            if (_movedKeys == null) return;
            for (int i = 0; i < MovedKept; i++)
                if (_movedUntil[i] != 0 && _movedKeys[i].Equals(key)) _movedUntil[i] = 0;
        }

        /// <summary>Whether a segment for no connection of ours belongs to one handed over lately.</summary>
        private bool MovedLately(TcpKey key, long nowMicros)
        {
            if (_movedKeys == null) return false;
            for (int i = 0; i < MovedKept; i++)
                if (_movedUntil[i] > nowMicros && _movedKeys[i].Equals(key)) return true;
            return false;
        }

        private const int MovedPortsKept = 8;
        private uint[] _movedPortAddress;
        private int[] _movedPort;
        private long[] _movedPortUntil;
        private int _movedPortNext;

        /// <summary>The frames of a whole port (local address and port) now go to another stack: a
        /// listener lent to this stack went back, or a loan was undone while frames of the port
        /// could reach this ring. For <see cref="MovedQuietMicros"/>, a segment to that port that
        /// no connection here owns goes to <see cref="MovedSegment"/> (or is dropped without a
        /// reset), before any listener here sees it: it reached this ring before the move, and
        /// belongs to the stack that has the port now.</summary>
        public void RememberMovedPort(Ipv4Address local, int port, long nowMicros)
        {
            if (_movedPortUntil == null)
            {
                _movedPortAddress = new uint[MovedPortsKept];
                _movedPort = new int[MovedPortsKept];
                _movedPortUntil = new long[MovedPortsKept];
            }
            ForgetMovedPort(local, port);
            _movedPortAddress[_movedPortNext] = local.Value;
            _movedPort[_movedPortNext] = port;
            _movedPortUntil[_movedPortNext] = nowMicros + MovedQuietMicros;
            _movedPortNext = (_movedPortNext + 1) % MovedPortsKept;
        }

        /// <summary>The port's frames come to this stack again (a new loan): its segments are its own.</summary>
        public void ForgetMovedPort(Ipv4Address local, int port)
        {
            if (_movedPortUntil == null) return;
            for (int i = 0; i < MovedPortsKept; i++)
                if (_movedPort[i] == port && _movedPortAddress[i] == local.Value) _movedPortUntil[i] = 0;
        }

        private bool MovedPortLately(Ipv4Address local, int port, long nowMicros)
        {
            for (int i = 0; i < MovedPortsKept; i++)
                if (_movedPortUntil[i] > nowMicros && _movedPort[i] == port && _movedPortAddress[i] == local.Value) return true;
            return false;
        }

        /// <summary>Links a TIME_WAIT connection where its deadline belongs: Poll ends them from the
        /// head while the head's deadline has passed, so the list stays ordered.</summary>
        private void LinkTimeWaitByDeadline(TcpConnection c)
        {
            TcpConnection after = _twTail;
            while (after != null && after.TimeWaitDeadline > c.TimeWaitDeadline) after = after.TwPrev;
            c.TwPrev = after;
            c.TwNext = after != null ? after.TwNext : _twHead;
            if (c.TwNext != null) c.TwNext.TwPrev = c;
            else _twTail = c;
            if (after != null) after.TwNext = c;
            else _twHead = c;
            c.InTimeWaitList = true;
            _timeWaitCount++;
        }
    }

    /// <summary>Sequential big-endian fields of a handover record.</summary>
    internal ref struct HandoverCursor
    {
        private readonly System.Span<byte> _write;
        private readonly System.ReadOnlySpan<byte> _read;
        public int Position;

        public HandoverCursor(System.Span<byte> bytes)
        {
            _write = bytes;
            _read = bytes;
            Position = 0;
        }

        public HandoverCursor(System.ReadOnlySpan<byte> bytes)
        {
            _write = default;
            _read = bytes;
            Position = 0;
        }

        public void U32(uint value)
        {
            Wire.Put32(_write, Position, value);
            Position += 4;
        }

        public void I64(long value)
        {
            U32((uint)((ulong)value >> 32));
            U32((uint)value);
        }

        public uint U32()
        {
            uint v = Wire.U32(_read, Position);
            Position += 4;
            return v;
        }

        public long I64()
        {
            ulong high = U32();
            return (long)(high << 32 | U32());
        }
    }
}
