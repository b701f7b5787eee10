namespace Aegis.LibOS.Net
{
    /// <summary>One TCP connection (a transmission control block) with a non-blocking,
    /// socket-shaped API: <see cref="Connect"/>, <see cref="Send"/>, <see cref="Receive"/>,
    /// <see cref="Shutdown"/>, <see cref="Close"/>, <see cref="Abort"/>, readiness and a
    /// pending error. Calls that move bytes return a count (>= 0) or a negated
    /// <see cref="TcpError"/>. Created by <see cref="Tcp.CreateConnection"/> (active open) or
    /// handed out by <see cref="TcpListener.Accept"/> (passive open).</summary>
    public sealed partial class TcpConnection
    {
        private const long Never = long.MaxValue;
        private const int DefaultPeerMss = 536;           // RFC 9293 3.7.1 (IPv4)
        private const uint MaxWindow = 0x3FFFFFFF;        // RFC 7323: 2^30 largest scaled window

        private readonly Tcp _tcp;
        internal TcpKey Key;
        internal bool InTable;
        internal int TimedIndex = -1;
        internal long Deadline = Never;
        internal TcpConnection TwPrev, TwNext;
        internal bool InTimeWaitList;
        /// <summary>The listener a passive connection belongs to until it is accepted.</summary>
        internal TcpListener Listener;
        internal bool InAcceptQueue;

        /// <summary>Options; set them before <see cref="Connect"/> (buffer sizes fix the window
        /// scale). NoDelay, KeepAlive and Linger may change at any time.</summary>
        public TcpSocketOptions Options;

        public TcpState State { get; private set; }

        /// <summary>Whether this connection is tcp's (a listener queues only its own stack's).</summary>
        internal bool BelongsTo(Tcp tcp) => _tcp == tcp;
        public Ipv4Address LocalAddress { get; private set; }
        public int LocalPort { get; private set; }
        public Ipv4Address RemoteAddress { get; private set; }
        public int RemotePort { get; private set; }

        private bool _everConnecting;
        private bool _bound;

        // Send side (RFC 9293 3.3.1 names).
        private uint _iss, _sndUna, _sndNxt, _sndMax, _sndWl1, _sndWl2;
        private uint _sndWnd, _maxSndWnd;
        private uint _sndBufSeq;        // sequence number of the send buffer's first byte
        private TcpSendBuffer _snd;
        private bool _finQueued, _finSent;
        private uint _finSeq;
        private bool _writeShut;
        private int _sndScale, _rcvScale, _offeredScale;
        private bool _wsOk;
        private int _mss;               // segment size we send (the peer's MSS, our route's limit)
        private int _rcvMss;            // the MSS we announced

        // Congestion control (RFC 5681, RFC 6582 NewReno, RFC 6928 initial window).
        private uint _cwnd, _ssthresh, _recover, _caBytes;
        private int _dupAcks;
        private bool _inRecovery;
        private bool _firstPartialAck;

        // Retransmission (RFC 6298).
        private TcpRttEstimator _rtt;
        private bool _timing;
        private uint _timingSeq;
        private long _timingStart;
        private int _retries;
        private long _rtoDeadline = Never;
        private long _persistDeadline = Never;
        private long _corkDeadline = Never;
        private int _persistShift;
        private int _persistProbes;
        private long _lastSend;

        // Receive side.
        private uint _irs, _rcvNxt, _rcvAdvEdge;
        private TcpReceiveBuffer _rcv;
        private bool _finReceived;
        private bool _rcvFinPending;
        private uint _rcvFinSeq;
        private bool _readShut;
        private int _rcvMssSeen;
        private int _delackBytes;
        private long _delackDeadline = Never;
        private bool _ackNow;

        // Keep-alive.
        private long _idleSince;
        private int _keepProbes;
        private long _lastKeepProbe;

        // Challenge-ACK rate limit (RFC 5961 7).
        private long _challengeWindowStart;
        private int _challengeCount;

        private long _stateDeadline = Never;
        private bool _closedByUser;
        private TcpError _pendingError;
        private bool _resetOrTimedOut;

        internal TcpConnection(Tcp tcp)
        {
            _tcp = tcp;
            Options = new TcpSocketOptions();
            _rtt = new TcpRttEstimator(tcp.InitialRtoMicros, tcp.MinRtoMicros, tcp.MaxRtoMicros);
        }

        // ---- observation (diagnostics, tests) ----

        public uint CongestionWindow => _cwnd;
        public uint SlowStartThreshold => _ssthresh;
        public bool InFastRecovery => _inRecovery;
        public int SendMss => _mss;
        public int AnnouncedMss => _rcvMss;
        public int SendWindowScale => _sndScale;
        public int ReceiveWindowScale => _rcvScale;
        public uint SendWindow => _sndWnd;
        public uint SendUnacknowledged => _sndUna;
        public uint SendNext => _sndNxt;
        public uint ReceiveNext => _rcvNxt;
        public uint InitialSendSequence => _iss;
        public TcpRttEstimator Rtt => _rtt;
        public int Retries => _retries;
        /// <summary>Bytes queued but not yet acknowledged.</summary>
        public int SendQueued => _snd != null ? _snd.Length : 0;
        /// <summary>Room in the send buffer.</summary>
        public int SendFree => _snd != null && !_writeShut ? _snd.Free : 0;
        /// <summary>In-order bytes ready to read.</summary>
        public int ReceiveAvailable => _rcv != null ? _rcv.Length : 0;
        public int OutOfOrderRanges => _rcv != null ? _rcv.OutOfOrderRanges : 0;
        /// <summary>The window we last advertised, in bytes.</summary>
        public uint AdvertisedWindow => TcpSeq.Gt(_rcvAdvEdge, _rcvNxt) ? _rcvAdvEdge - _rcvNxt : 0;
        public bool PeerClosed => _finReceived;

        /// <summary>SO_ERROR: the pending error, without clearing it.</summary>
        public TcpError PendingError => _pendingError;

        /// <summary>SO_ERROR as getsockopt reads it: returns and clears the pending error.</summary>
        public TcpError TakeError()
        {
            TcpError e = _pendingError;
            _pendingError = TcpError.None;
            return e;
        }

        /// <summary>poll/epoll readiness.</summary>
        public TcpReadiness Readiness
        {
            get
            {
                TcpReadiness r = TcpReadiness.None;
                if (_pendingError != TcpError.None) r |= TcpReadiness.Error;
                bool dead = State == TcpState.Closed && (_everConnecting || _resetOrTimedOut);
                if ((_rcv != null && _rcv.Length > 0) || _finReceived || _readShut || dead) r |= TcpReadiness.Readable;
                if (_finReceived || _readShut) r |= TcpReadiness.ReadHangUp;
                if (dead || (_finReceived && _writeShut)) r |= TcpReadiness.HangUp;
                if (State == TcpState.Established || State == TcpState.CloseWait)
                {
                    if (_writeShut || (_snd != null && (_snd.Free >= _snd.Capacity / 4 || _snd.Length == 0)))
                        r |= TcpReadiness.Writable;
                }
                else if (_writeShut || dead) r |= TcpReadiness.Writable;
                return r;
            }
        }

        // ---- the socket API ----

        /// <summary>bind(): the local address (Any: the route's source) and port (0: ephemeral)
        /// used by <see cref="Connect"/>.</summary>
        public TcpError Bind(Ipv4Address local, int port)
        {
            if (State != TcpState.Closed || _everConnecting) return TcpError.InvalidArgument;
            if (port < 0 || port > 65535) return TcpError.InvalidArgument;
            LocalAddress = local;
            LocalPort = port;
            _bound = true;
            return TcpError.None;
        }

        /// <summary>connect(), non-blocking: sends the SYN and returns InProgress; the
        /// connection becomes writable when established, or reports ConnectionRefused /
        /// TimedOut through <see cref="PendingError"/>.</summary>
        public TcpError Connect(Ipv4Address remote, int remotePort, long nowMicros)
        {
            if (_everConnecting)
            {
                if (State == TcpState.SynSent || State == TcpState.SynReceived) return TcpError.Already;
                if (State == TcpState.Closed) return _pendingError != TcpError.None ? TakeError() : TcpError.InvalidArgument;
                return TcpError.IsConnected;
            }
            if (remotePort <= 0 || remotePort > 65535 || remote.IsAny || remote.IsBroadcast || remote.IsMulticast)
                return TcpError.InvalidArgument;
            Ipv4Address local = _bound ? LocalAddress : Ipv4Address.Any;
            if (local.IsAny) local = _tcp.Ip.SourceFor(remote);
            if (local.IsAny) return TcpError.NetworkUnreachable;
            int lport = _bound ? LocalPort : 0;
            if (lport == 0)
            {
                lport = _tcp.ChooseEphemeralPort(local, remote, remotePort);
                if (lport == 0) return TcpError.AddressNotAvailable;
            }
            var key = new TcpKey(local, lport, remote, remotePort);
            if (_tcp.Lookup(key) != null) return TcpError.AddressInUse;
            LocalAddress = local;
            LocalPort = lport;
            RemoteAddress = remote;
            RemotePort = remotePort;
            Key = key;
            _everConnecting = true;
            SetupRouteMss();
            _offeredScale = ScaleFor(Options.ReceiveBufferSize);
            AllocateBuffers();
            SetupSend(_tcp.NewIsn(local, lport, remote, remotePort, nowMicros, 0, false));
            State = TcpState.SynSent;
            _tcp.Add(this);
            _tcp.Counters.ActiveOpens++;
            EmitSyn(nowMicros, false);
            _tcp.Schedule(this);
            return TcpError.InProgress;
        }

        /// <summary>send(): queues up to data.Length bytes; returns how many, or -WouldBlock when
        /// the send buffer is full, -Pipe after shutdown/close, the pending error after a reset.</summary>
        public int Send(System.ReadOnlySpan<byte> data, long nowMicros)
        {
            int refusal = SendRefusal();
            if (refusal != 0) return refusal;
            if (data.Length == 0) return 0;
            return AfterQueued(_snd.Append(data), nowMicros);
        }

        /// <summary>send() of bytes the caller will not change until they are acknowledged (a
        /// cached response: docs/network.md, "Sending from the document"): as Send, but the send
        /// queue refers to array[offset..] instead of copying it, so the bytes are copied once,
        /// into the frame.</summary>
        public int SendStable(byte[] array, int offset, int length, long nowMicros)
        {
            int refusal = SendRefusal();
            if (refusal != 0) return refusal;
            if (length == 0) return 0;
            return AfterQueued(_snd.AppendStable(array, offset, length), nowMicros);
        }

        /// <summary>0 when the state lets a send queue bytes, else what Send returns.</summary>
        private int SendRefusal()
        {
            if (_pendingError != TcpError.None) return -(int)TakeError();
            switch (State)
            {
                case TcpState.Established:
                case TcpState.CloseWait:
                    break;
                case TcpState.SynSent:
                case TcpState.SynReceived:
                    return _writeShut ? -(int)TcpError.Pipe : -(int)TcpError.WouldBlock;
                case TcpState.Closed:
                    return _everConnecting ? -(int)TcpError.Pipe : -(int)TcpError.NotConnected;
                default:
                    return -(int)TcpError.Pipe;
            }
            return _writeShut ? -(int)TcpError.Pipe : 0;
        }

        private int AfterQueued(int n, long nowMicros)
        {
            if (n == 0) return -(int)TcpError.WouldBlock;
            Output(nowMicros);
            _tcp.Schedule(this);
            return n;
        }

        /// <summary>recv(): copies up to destination.Length in-order bytes; 0 at end of stream
        /// (the peer's FIN) or after shutdown of the read side; -WouldBlock when nothing is
        /// there yet; the pending error after a reset or timeout.</summary>
        public int Receive(System.Span<byte> destination, long nowMicros, bool peek = false)
        {
            if (_rcv != null && _rcv.Length > 0 && !_readShut)
            {
                if (destination.Length == 0) return 0;
                int n = _rcv.Read(destination, peek);
                if (!peek) AfterRead(nowMicros);
                return n;
            }
            if (_finReceived || _readShut) return 0;
            if (_pendingError != TcpError.None) return -(int)TakeError();
            if (State == TcpState.Closed) return _everConnecting || _resetOrTimedOut ? 0 : -(int)TcpError.NotConnected;
            if (State == TcpState.SynSent || State == TcpState.SynReceived) return -(int)TcpError.WouldBlock;
            return -(int)TcpError.WouldBlock;
        }

        /// <summary>Drops up to <paramref name="bytes"/> in-order bytes as a read would (the window
        /// opens the same way): bytes a caller already had by peeking (the file server's lent
        /// receives, docs/libos-unixish.md). Returns how many went.</summary>
        public int Discard(int bytes, long nowMicros)
        {
            if (_rcv == null || _readShut || bytes <= 0) return 0;
            int n = bytes < _rcv.Length ? bytes : _rcv.Length;
            if (n == 0) return 0;
            _rcv.Consume(n);
            AfterRead(nowMicros);
            return n;
        }

        /// <summary>Whether <see cref="Readiness"/> says Readable for more than queued bytes: the
        /// end of the stream, a shut read side, an error, or a connection that died.</summary>
        public bool ReadableWithoutData =>
            _pendingError != TcpError.None || _finReceived || _readShut || (State == TcpState.Closed && (_everConnecting || _resetOrTimedOut));

        /// <summary>shutdown(): <paramref name="read"/> discards what arrives from now on;
        /// <paramref name="write"/> sends a FIN after the queued data (half-close).</summary>
        public TcpError Shutdown(bool read, bool write, long nowMicros)
        {
            if (State == TcpState.Closed || !_everConnecting) return TcpError.NotConnected;
            if (read && !_readShut)
            {
                _readShut = true;
                if (_rcv != null && _rcv.Length > 0)
                {
                    _rcv.Consume(_rcv.Length);
                    AfterRead(nowMicros);
                }
            }
            if (write) QueueFin(nowMicros);
            _tcp.Schedule(this);
            _tcp.Signal(this);
            return TcpError.None;
        }

        /// <summary>close(): the application is done with the connection. Queued data is sent
        /// and followed by a FIN; the stack keeps the connection until the close completes
        /// (TIME_WAIT included). Unread received data, or SO_LINGER with time 0, makes it a
        /// reset instead (RFC 9293 3.10.4, RFC 2525 2.17).</summary>
        public void Close(long nowMicros)
        {
            if (_closedByUser) return;
            _closedByUser = true;
            bool unread = _rcv != null && _rcv.Length > 0;
            switch (State)
            {
                case TcpState.Closed:
                    _tcp.Remove(this);
                    ReleaseBuffers();
                    return;
                case TcpState.SynSent:
                    Terminate(TcpError.None);
                    ReleaseBuffers();
                    return;
                case TcpState.TimeWait:
                    ReleaseBuffers();
                    return;
            }
            if (unread || (Options.Linger && Options.LingerSeconds == 0) || State == TcpState.SynReceived)
            {
                Abort(nowMicros);
                return;
            }
            QueueFin(nowMicros);
            if (State == TcpState.FinWait2) _stateDeadline = nowMicros + _tcp.FinWait2TimeoutMicros;
            _tcp.Schedule(this);
        }

        /// <summary>Aborts: sends a RST (in a synchronized state) and forgets the connection.</summary>
        public void Abort(long nowMicros)
        {
            _closedByUser = true;
            if (State != TcpState.Closed && State != TcpState.SynSent && State != TcpState.TimeWait)
                EmitReset();
            Terminate(TcpError.None);
            ReleaseBuffers();
        }

        // ---- set-up ----

        private void SetupRouteMss()
        {
            int max = _tcp.Ip.MaxPayload(RemoteAddress) - TcpSegment.HeaderSize;
            if (max > _tcp.Scratch.Length - 64) max = _tcp.Scratch.Length - 64;
            if (max < 64) max = 64;
            _rcvMss = max;
            _mss = max;
        }

        internal static int ScaleFor(int bufferSize)
        {
            int s = 0;
            while (s < 14 && (bufferSize >> s) > 65535) s++;
            return s;
        }

        private void AllocateBuffers()
        {
            int rb = Options.ReceiveBufferSize, sb = Options.SendBufferSize;
            if (rb < 2048) rb = 2048;
            if (sb < 2048) sb = 2048;
            if (rb > (1 << 30)) rb = 1 << 30;
            if (sb > (1 << 30)) sb = 1 << 30;
            if (_rcv == null) _rcv = NewReceiveBuffer(rb);
            if (_snd == null) _snd = NewSendBuffer(sb);
        }

        /// <summary>A receive buffer of capacity bytes, its ring from the stack's pool when of the default size.</summary>
        private TcpReceiveBuffer NewReceiveBuffer(int capacity)
            => capacity == _tcp.ReceiveRings.Length ? new TcpReceiveBuffer(_tcp.ReceiveRings.Take(_tcp.Counters)) : new TcpReceiveBuffer(capacity);

        /// <summary>A send queue of capacity bytes, its first ring from the stack's pool when it starts at the pool's length.</summary>
        private TcpSendBuffer NewSendBuffer(int capacity)
            => capacity >= _tcp.SendRings.Length ? new TcpSendBuffer(capacity, _tcp.SendRings.Take(_tcp.Counters)) : new TcpSendBuffer(capacity);

        /// <summary>Drops the send queue, its ring back to the stack's pool.</summary>
        private void DropSend()
        {
            if (_snd == null) return;
            _snd.GiveRing(_tcp.SendRings);
            _snd = null;
        }

        /// <summary>Drops the receive buffer, its ring back to the stack's pool.</summary>
        private void DropReceive()
        {
            if (_rcv == null) return;
            _rcv.GiveRing(_tcp.ReceiveRings);
            _rcv = null;
        }

        private void ReleaseBuffers()
        {
            DropSend();
            if (_closedByUser) DropReceive();
        }

        private void SetupSend(uint iss)
        {
            _iss = iss;
            _sndUna = iss;
            _sndNxt = iss;
            _sndMax = iss;
            _sndBufSeq = iss + 1;
            _recover = iss - 1;
            _ssthresh = MaxWindow;
        }

        private void InitialCongestionWindow()
        {
            // RFC 6928: min(10 MSS, max(2 MSS, 14600)); the count is a tunable.
            uint mss = (uint)_mss;
            uint iw = (uint)_tcp.InitialWindowSegments * mss;
            uint cap = mss * 2 > 14600 ? mss * 2 : 14600;
            if (_tcp.InitialWindowSegments >= 10 && iw > cap) iw = cap > mss * 10 ? mss * 10 : cap;
            if (iw < mss) iw = mss;
            _cwnd = iw;
        }

        private void TakePeerSynOptions(ref TcpSegment seg, bool weOfferedScale)
        {
            int peerMss = seg.Mss >= 0 ? seg.Mss : DefaultPeerMss;
            if (peerMss < 64) peerMss = 64;
            if (peerMss < _mss) _mss = peerMss;
            if (seg.WindowScale >= 0 && weOfferedScale)
            {
                _wsOk = true;
                _sndScale = seg.WindowScale > 14 ? 14 : seg.WindowScale;
                _rcvScale = _offeredScale;
            }
            else
            {
                _wsOk = false;
                _sndScale = 0;
                _rcvScale = 0;
            }
        }

        /// <summary>A SYN reached a listener: this connection answers it (SYN_RECEIVED).</summary>
        internal void StartPassive(TcpListener listener, Ipv4Address local, int localPort, Ipv4Address remote,
            int remotePort, ref TcpSegment syn, uint iss, long now)
        {
            Listener = listener;
            Options = listener.Options.Clone();
            LocalAddress = local;
            LocalPort = localPort;
            RemoteAddress = remote;
            RemotePort = remotePort;
            Key = new TcpKey(local, localPort, remote, remotePort);
            _everConnecting = true;
            SetupRouteMss();
            _offeredScale = ScaleFor(Options.ReceiveBufferSize);
            TakePeerSynOptions(ref syn, true);
            if (!_wsOk) _offeredScale = -1;
            SetupSend(iss);
            _irs = syn.Seq;
            _rcvNxt = syn.Seq + 1;
            _sndWnd = syn.Window;
            _maxSndWnd = _sndWnd;
            _sndWl1 = syn.Seq;
            _sndWl2 = iss;
            _idleSince = now;
            State = TcpState.SynReceived;
            _tcp.Add(this);
            _tcp.Counters.PassiveOpens++;
            EmitSyn(now, true);
            _tcp.Schedule(this);
        }

        // ---- segment output ----

        private int ReceiveCapacity => _rcv != null ? _rcv.Capacity : Options.ReceiveBufferSize;

        private int ReceiveFree
        {
            get
            {
                if (_rcv != null) return _rcv.Free;
                if (State == TcpState.SynReceived || State == TcpState.SynSent) return Options.ReceiveBufferSize;
                return 0;
            }
        }

        /// <summary>The window field for a non-SYN segment: the ring's free space, with the
        /// right edge moved only by useful amounts (receiver-side SWS avoidance, RFC 1122
        /// 4.2.3.3), scaled (RFC 7323).</summary>
        private int WindowField()
        {
            int free = ReceiveFree;
            uint edge = _rcvNxt + (uint)free;
            if (TcpSeq.Gt(edge, _rcvAdvEdge))
            {
                int cap = ReceiveCapacity;
                uint threshold = (uint)(cap / 2 < _rcvMss ? cap / 2 : _rcvMss);
                if (edge - _rcvAdvEdge >= threshold || TcpSeq.Le(_rcvAdvEdge, _rcvNxt) && free >= threshold)
                    _rcvAdvEdge = edge;
            }
            uint wnd = TcpSeq.Gt(_rcvAdvEdge, _rcvNxt) ? _rcvAdvEdge - _rcvNxt : 0;
            wnd >>= _rcvScale;
            return wnd > 65535 ? 65535 : (int)wnd;
        }

        private void Emit(uint seq, byte flags, int dataLength, long now, bool synOptions = false)
        {
            if (dataLength > _mss && !synOptions)
            {
                // Many segments' worth: built where the frame to the card will hold it, when the
                // output has such a place (no copy on the way out), else in the scratch buffer.
                System.Span<byte> room = _tcp.Ip.TcpSegmentedRoom(TcpSegment.HeaderSize + dataLength);
                if (room.Length != 0)
                {
                    EmitSegmented(room, seq, flags, dataLength, now);
                    return;
                }
            }
            byte[] buf = _tcp.Scratch;
            int window;
            int mssOption = -1, scaleOption = -1;
            if (synOptions)
            {
                int free = ReceiveFree;
                window = free > 65535 ? 65535 : free;
                _rcvAdvEdge = _rcvNxt + (uint)window;
                mssOption = _rcvMss;
                scaleOption = _offeredScale;
            }
            else window = WindowField();
            uint ack = (flags & TcpSegment.Ack) != 0 ? _rcvNxt : 0;
            int hl = TcpSegment.Write(buf, LocalPort, RemotePort, seq, ack, flags, window, mssOption, scaleOption);
            if (dataLength > 0)
                _snd.CopyOut((int)(seq - _sndBufSeq), new System.Span<byte>(buf, hl, dataLength));
            var segment = new System.Span<byte>(buf, 0, hl + dataLength);
            if (dataLength > _mss) _tcp.TransmitSegmented(RemoteAddress, segment, hl, _mss); // the output fills the checksum
            else
            {
                TcpSegment.SetChecksum(segment, LocalAddress, RemoteAddress);
                _tcp.Transmit(RemoteAddress, segment);
            }
            AfterEmit(flags, now);
        }

        /// <summary>What every segment sent does: an ACK in it answers what delayed ACKs held.</summary>
        private void AfterEmit(byte flags, long now)
        {
            if ((flags & TcpSegment.Ack) != 0)
            {
                _delackBytes = 0;
                _delackDeadline = Never;
                _ackNow = false;
            }
            _lastSend = now;
        }

        private void EmitSegmented(System.Span<byte> segment, uint seq, byte flags, int dataLength, long now)
        {
            uint ack = (flags & TcpSegment.Ack) != 0 ? _rcvNxt : 0;
            int hl = TcpSegment.Write(segment, LocalPort, RemotePort, seq, ack, flags, WindowField(), -1, -1);
            _snd.CopyOut((int)(seq - _sndBufSeq), segment.Slice(hl, dataLength));
            _tcp.TransmitSegmented(RemoteAddress, segment.Slice(0, hl + dataLength), hl, _mss);
            AfterEmit(flags, now);
        }

        private void EmitSyn(long now, bool withAck)
        {
            Emit(_iss, (byte)(TcpSegment.Syn | (withAck ? TcpSegment.Ack : 0)), 0, now, true);
            if (_sndMax == _iss)
            {
                _sndNxt = _iss + 1;
                _sndMax = _iss + 1;
            }
            if (_retries == 0)
            {
                _timing = true;
                _timingSeq = _iss;
                _timingStart = now;
            }
            else _timing = false;
            _rtoDeadline = now + _rtt.Rto;
        }

        private void EmitAck(long now) => Emit(_sndNxt, TcpSegment.Ack, 0, now);

        private void EmitReset()
        {
            _tcp.Counters.ResetsSent++;
            Emit(_sndNxt, TcpSegment.Rst | TcpSegment.Ack, 0, _lastSend);
        }

        /// <summary>An ACK answering a segment that failed a check (RFC 5961's challenge ACK,
        /// RFC 9293's "send an ACK and drop"), at most <see cref="Tcp.ChallengeAcksPerSecond"/> a
        /// second when the segment carried nothing.</summary>
        private void ChallengeAck(long now, bool limited)
        {
            if (limited)
            {
                if (now - _challengeWindowStart >= 1000000)
                {
                    _challengeWindowStart = now;
                    _challengeCount = 0;
                }
                if (++_challengeCount > _tcp.ChallengeAcksPerSecond) return;
                _tcp.Counters.ChallengeAcks++;
            }
            EmitAck(now);
        }

        private bool _push;

        /// <summary>TCP_CORK's ceiling (Linux's, tcp(7)): a partial segment the cork holds leaves
        /// this long after it was first held, as if pushed; the cork stays on.</summary>
        public const long CorkCeilingMicros = 200_000;

        /// <summary>TCP_CORK off: what waits goes out now (within the windows), Nagle or not.</summary>
        public void Uncork(long now)
        {
            Options.Cork = false;
            Push(now);
        }

        /// <summary>What waits goes out now (within the windows), Nagle and the cork or not:
        /// TCP_NODELAY's setting (which flushes even a corked connection, tcp(7)), Uncork and
        /// the cork's ceiling.</summary>
        public void Push(long now)
        {
            _push = true;
            Output(now);
            _push = false;
            _tcp.Schedule(this);
        }

        /// <summary>Sends what the windows, Nagle, the cork and SWS avoidance allow, then a bare ACK
        /// if one is owed; arms the persist timer when data waits behind a closed window, and the
        /// cork's ceiling when the cork holds a partial segment.</summary>
        private void Output(long now)
        {
            switch (State)
            {
                case TcpState.Established:
                case TcpState.CloseWait:
                case TcpState.FinWait1:
                case TcpState.Closing:
                case TcpState.LastAck:
                    break;
                case TcpState.FinWait2:
                case TcpState.TimeWait:
                    if (_ackNow) EmitAck(now);
                    return;
                default:
                    return;
            }
            bool sent = false, corked = false;
            int avail = 0;
            while (true)
            {
                uint bufEnd = _sndBufSeq + (uint)(_snd != null ? _snd.Length : 0);
                avail = TcpSeq.Gt(bufEnd, _sndNxt) ? (int)(bufEnd - _sndNxt) : 0;
                uint flight = _sndNxt - _sndUna;
                // RFC 3042 limited transmit: the first two duplicate ACKs each let one more
                // segment out, so a small window still produces the third.
                uint cw = _cwnd;
                if (!_inRecovery && _dupAcks > 0 && _dupAcks < 3) cw += (uint)(_dupAcks * _mss);
                uint wnd = _sndWnd < cw ? _sndWnd : cw;
                int usable = wnd > flight ? (int)System.Math.Min(wnd - flight, 0x40000000u) : 0;
                int len = avail < usable ? avail : usable;
                bool retransmit = TcpSeq.Lt(_sndNxt, _sndMax);
                // Many segments' worth at once when the card cuts them (TCP segmentation offload):
                // whole segments, and the tail only where a lone segment would go too.
                if (len > _mss)
                {
                    int most = retransmit ? _mss : SegmentedPayloadMost();
                    if (len > most) len = most;
                }
                if (len > _mss)
                {
                    bool tailGoes = len == avail && !(Options.Cork && !_finQueued && !_push)
                        && (Options.NoDelay || flight == 0 || _finQueued || _push);
                    if (!tailGoes) len -= len % _mss;
                }
                bool fin = _finQueued && _sndNxt + (uint)len == bufEnd && TcpSeq.Le(_sndNxt, bufEnd);
                bool go = false;
                if (len > 0)
                {
                    if (len >= _mss || retransmit) go = true;
                    else if (Options.Cork && !fin && !_push) corked = true; // TCP_CORK: full segments only
                    else if (len == avail && (Options.NoDelay || flight == 0 || fin || _push)) go = true;
                    else if (_maxSndWnd > 0 && len >= (int)(_maxSndWnd / 2)) go = true;
                }
                else if (fin && avail == 0) go = true;
                if (!go) break;
                SendSegment(len, fin, len == avail, now);
                sent = true;
            }
            if (!sent && _ackNow) EmitAck(now);
            if (!corked) _corkDeadline = Never;
            else if (_corkDeadline == Never) _corkDeadline = now + CorkCeilingMicros;
            if (avail > 0 && _sndNxt == _sndUna && _rtoDeadline == Never && _persistDeadline == Never)
            {
                _persistShift = 0;
                _persistDeadline = now + PersistInterval();
            }
        }

        /// <summary>The most payload one segment may carry: one MSS, or whole MSSes up to what the
        /// link cuts (IIpv4Output.SegmentedPayloadLimit) when it can and no test switch drops sent
        /// segments (the switch counts the wire's segments).</summary>
        private int SegmentedPayloadMost()
        {
            if (_tcp.DropEveryNthSent > 0) return _mss;
            int limit = _tcp.Ip.SegmentedPayloadLimit(TcpSegment.HeaderSize);
            int room = _tcp.Scratch.Length - 60; // the largest header Emit writes
            if (limit > room) limit = room;
            if (limit < 2 * _mss || _mss < 536) return _mss;
            return limit - limit % _mss;
        }

        private long PersistInterval()
        {
            long t = _rtt.Rto << _persistShift;
            if (t < _tcp.MinRtoMicros || t <= 0) t = _tcp.MinRtoMicros;
            if (t > _tcp.MaxRtoMicros) t = _tcp.MaxRtoMicros;
            return t;
        }

        /// <summary>Sends len bytes at SND.NXT (and the FIN when asked), advancing SND.NXT and
        /// starting the retransmission timer and an RTT measurement as RFC 6298 says.</summary>
        private void SendSegment(int len, bool fin, bool push, long now)
        {
            bool retransmit = TcpSeq.Lt(_sndNxt, _sndMax);
            // RFC 5681 4.1: after an idle period longer than the RTO, restart from the initial window.
            if (!retransmit && _sndUna == _sndMax && now - _lastSend > _rtt.Rto && _lastSend != 0)
            {
                uint cw = _cwnd;
                InitialCongestionWindow();
                if (cw < _cwnd) _cwnd = cw;
            }
            byte flags = TcpSegment.Ack;
            if (fin) flags |= TcpSegment.Fin;
            if (push && len > 0) flags |= TcpSegment.Psh;
            Emit(_sndNxt, flags, len, now);
            if (retransmit)
            {
                _tcp.Counters.Retransmissions++;
                _timing = false;
            }
            else if (!_timing && len > 0)
            {
                _timing = true;
                _timingSeq = _sndNxt;
                _timingStart = now;
            }
            if (fin)
            {
                _finSent = true;
                _finSeq = _sndNxt + (uint)len;
            }
            _sndNxt += (uint)len + (fin ? 1u : 0u);
            if (TcpSeq.Gt(_sndNxt, _sndMax)) _sndMax = _sndNxt;
            if (_rtoDeadline == Never) _rtoDeadline = now + _rtt.Rto;
            _persistDeadline = Never;
        }

        /// <summary>Retransmits one segment at SND.UNA without moving SND.NXT (fast
        /// retransmit, NewReno's partial acknowledgements).</summary>
        private void RetransmitFirst(long now)
        {
            uint bufEnd = _sndBufSeq + (uint)(_snd != null ? _snd.Length : 0);
            int avail = TcpSeq.Gt(bufEnd, _sndUna) ? (int)(bufEnd - _sndUna) : 0;
            int len = avail < _mss ? avail : _mss;
            bool fin = _finSent && _sndUna + (uint)len == _finSeq;
            if (len == 0 && !fin) return;
            byte flags = TcpSegment.Ack;
            if (fin) flags |= TcpSegment.Fin;
            Emit(_sndUna, flags, len, now);
            _tcp.Counters.Retransmissions++;
            _timing = false;
            if (_rtoDeadline == Never) _rtoDeadline = now + _rtt.Rto;
        }

        private void QueueFin(long now)
        {
            if (_writeShut) return;
            _writeShut = true;
            switch (State)
            {
                case TcpState.Established:
                    State = TcpState.FinWait1;
                    _finQueued = true;
                    break;
                case TcpState.CloseWait:
                    State = TcpState.LastAck;
                    _finQueued = true;
                    break;
                case TcpState.SynReceived:
                case TcpState.SynSent:
                    _finQueued = true;      // sent once established
                    return;
                default:
                    return;
            }
            Output(now);
            _tcp.Signal(this);
        }

        // ---- segment input ----

        internal void Input(ref TcpSegment seg, System.ReadOnlySpan<byte> data, long now)
        {
            bool listened = _tcp.Notify != null; // else Signal does nothing: skip the comparison
            TcpReadiness before = listened ? Readiness : TcpReadiness.None;
            TcpState stateBefore = State;
            uint receivedBefore = _rcvNxt;
            switch (State)
            {
                case TcpState.SynSent:
                    InputSynSent(ref seg, now);
                    break;
                case TcpState.TimeWait:
                    InputTimeWait(ref seg, data, now);
                    break;
                case TcpState.Closed:
                case TcpState.Listen:
                    return;
                default:
                    InputSynchronized(ref seg, data, now);
                    break;
            }
            _tcp.Schedule(this);
            // Watchers hear of what poll would see: a readiness bit that changed, bytes or a FIN
            // that arrived (each arrival, as Linux's data_ready), a new state. An ACK that only
            // frees room in a send queue already writable changes nothing a waiter sees (Linux
            // wakes writers only once one found the queue full): it wakes nobody, so nginx,
            // waiting in epoll_wait after its answer, sleeps through the 45 ACKs of a 64 KiB one.
            if (listened && (Readiness != before || State != stateBefore || _rcvNxt != receivedBefore)) _tcp.Signal(this);
        }

        private void InputSynSent(ref TcpSegment seg, long now)
        {
            bool ackOk = false;
            if (seg.HasAck)
            {
                if (TcpSeq.Le(seg.AckNumber, _iss) || TcpSeq.Gt(seg.AckNumber, _sndMax))
                {
                    if (!seg.HasRst) _tcp.SendReset(LocalAddress, RemoteAddress, LocalPort, RemotePort, seg.AckNumber, 0, false);
                    return;
                }
                ackOk = true;
            }
            if (seg.HasRst)
            {
                if (ackOk)
                {
                    _tcp.Counters.ResetsReceived++;
                    Terminate(TcpError.ConnectionRefused);
                }
                return;
            }
            if (!seg.HasSyn) return;
            _irs = seg.Seq;
            _rcvNxt = seg.Seq + 1;
            TakePeerSynOptions(ref seg, true);
            _idleSince = now;
            if (ackOk)
            {
                _sndUna = seg.AckNumber;
                if (TcpSeq.Lt(_sndNxt, _sndUna)) _sndNxt = _sndUna;
                if (_timing && _retries == 0) _rtt.Sample(now - _timingStart);
                else if (_retries > 0) _rtt.ResetAfterSynRetransmission(3000000);
                _timing = false;
                _retries = 0;
                _rtoDeadline = Never;
                _sndWnd = seg.Window;       // never scaled in a SYN (RFC 7323 2.2)
                _maxSndWnd = _sndWnd;
                _sndWl1 = seg.Seq;
                _sndWl2 = seg.AckNumber;
                InitialCongestionWindow();
                State = TcpState.Established;
                _ackNow = true;
                if (_finQueued)
                {
                    _finQueued = false;
                    _writeShut = false;
                    QueueFin(now);
                }
                Output(now);
            }
            else
            {
                // Simultaneous open (RFC 9293 figure 7): SYN-ACK with our original ISN.
                State = TcpState.SynReceived;
                _sndWnd = seg.Window;
                _maxSndWnd = _sndWnd;
                _sndWl1 = seg.Seq;
                _sndWl2 = _iss;
                _retries = 0;
                EmitSyn(now, true);
            }
        }

        private void InputTimeWait(ref TcpSegment seg, System.ReadOnlySpan<byte> data, long now)
        {
            // A new SYN is the Tcp's decision (reuse, RFC 6191); one it refused gets the ACK
            // below, and the peer's answer, a RST at exactly RCV.NXT, ends TIME_WAIT so that the
            // SYN's retransmission opens the connection (Linux's default, net.ipv4.tcp_rfc1337 = 0:
            // without it a refused SYN would wait out the whole 2MSL). Any other RST is ignored
            // (RFC 1337). Anything else carrying sequence space, a retransmitted FIN above all, is
            // acknowledged and the 2MSL wait restarts.
            if (seg.HasRst)
            {
                if (seg.Seq == _rcvNxt)
                {
                    _tcp.Counters.TimeWaitEndedByReset++;
                    Terminate(TcpError.None);
                }
                return;
            }
            if (seg.HasFin)
            {
                _stateDeadline = now + 2 * _tcp.MslMicros;
                _tcp.RestartTimeWait(this);
                EmitAck(now);
                return;
            }
            if (seg.SeqLength > 0 || seg.Seq != _rcvNxt) ChallengeAck(now, data.Length == 0);
        }

        private void InputSynchronized(ref TcpSegment seg, System.ReadOnlySpan<byte> data, long now)
        {
            uint seq = seg.Seq;
            bool syn = seg.HasSyn;
            bool fin = seg.HasFin;

            if (State == TcpState.SynReceived && syn)
            {
                if (!seg.HasAck && !seg.HasRst && seq == _irs)
                {
                    // The peer retransmitted its SYN: our SYN-ACK was lost.
                    _tcp.Counters.Retransmissions++;
                    Emit(_iss, TcpSegment.Syn | TcpSegment.Ack, 0, now, true);
                    return;
                }
                if (seg.HasAck && !seg.HasRst && seq == _irs && seg.AckNumber == _sndMax)
                {
                    // Simultaneous open: the peer's SYN-ACK acknowledges our SYN.
                    syn = false;
                    seq++;
                }
            }

            // First: is the segment in the window (RFC 9293 3.10.7.4)?
            int segLen = data.Length + (syn ? 1 : 0) + (fin ? 1 : 0);
            uint wnd = (uint)ReceiveFree;
            bool acceptable;
            if (segLen == 0)
                acceptable = wnd == 0 ? seq == _rcvNxt : TcpSeq.InWindow(seq, _rcvNxt, _rcvNxt + wnd);
            else
                acceptable = wnd != 0 && (TcpSeq.InWindow(seq, _rcvNxt, _rcvNxt + wnd) ||
                                          TcpSeq.InWindow(seq + (uint)segLen - 1, _rcvNxt, _rcvNxt + wnd));
            if (!acceptable)
            {
                if (seg.HasRst) return;
                if (TcpSeq.Lt(seq, _rcvNxt)) _tcp.Counters.DuplicateSegments++;
                else _tcp.Counters.OutOfWindow++;
                ChallengeAck(now, segLen == 0);
                return;
            }

            // Second: RST (RFC 5961 3.2: only the exact next sequence number resets).
            if (seg.HasRst)
            {
                if (seq != _rcvNxt)
                {
                    ChallengeAck(now, true);
                    return;
                }
                _tcp.Counters.ResetsReceived++;
                switch (State)
                {
                    case TcpState.SynReceived:
                        Terminate(Listener != null ? TcpError.None : TcpError.ConnectionRefused);
                        break;
                    case TcpState.Established:
                    case TcpState.FinWait1:
                    case TcpState.FinWait2:
                    case TcpState.CloseWait:
                        Terminate(TcpError.ConnectionReset);
                        break;
                    default:
                        Terminate(TcpError.None);
                        break;
                }
                return;
            }

            // Fourth: a SYN in a synchronized state gets a challenge ACK (RFC 5961 4.2).
            if (syn)
            {
                ChallengeAck(now, true);
                return;
            }

            // Fifth: the ACK field.
            if (!seg.HasAck) return;
            _idleSince = now;
            _keepProbes = 0;
            uint ack = seg.AckNumber;
            if (State == TcpState.SynReceived)
            {
                if (TcpSeq.Gt(ack, _sndUna) && TcpSeq.Le(ack, _sndMax))
                {
                    if (Listener != null && Listener.IsListening && !Listener.HasRoom)
                    {
                        // The accept queue is full: stay half-open and let the SYN-ACK's
                        // retransmission ask for this ACK again later (as Linux does).
                        _tcp.Counters.ListenOverflows++;
                        return;
                    }
                    Establish(ref seg, now);
                    if (State == TcpState.Closed) return;
                }
                else
                {
                    _tcp.SendReset(LocalAddress, RemoteAddress, LocalPort, RemotePort, ack, 0, false);
                    return;
                }
            }
            if (TcpSeq.Gt(ack, _sndMax))
            {
                ChallengeAck(now, data.Length == 0);
                return;
            }
            if (TcpSeq.Lt(ack, _sndUna - _maxSndWnd))
            {
                ChallengeAck(now, data.Length == 0);    // RFC 5961 5.2: too old to be believed
                return;
            }
            _persistProbes = 0;
            uint newWindow = (uint)seg.Window << _sndScale;
            if (newWindow > MaxWindow) newWindow = MaxWindow;
            if (TcpSeq.Gt(ack, _sndUna))
            {
                NewAck(ack, now);
            }
            else if (ack == _sndUna && data.Length == 0 && !fin && newWindow == _sndWnd && _sndMax != _sndUna)
            {
                DuplicateAck(now);
            }
            if (TcpSeq.Lt(_sndWl1, seq) || (_sndWl1 == seq && TcpSeq.Le(_sndWl2, ack)))
            {
                if (newWindow > _sndWnd) _persistDeadline = Never;
                _sndWnd = newWindow;
                _sndWl1 = seq;
                _sndWl2 = ack;
                if (_sndWnd > _maxSndWnd) _maxSndWnd = _sndWnd;
            }
            bool finAcked = _finSent && TcpSeq.Gt(_sndUna, _finSeq);
            switch (State)
            {
                case TcpState.FinWait1:
                    if (finAcked)
                    {
                        State = TcpState.FinWait2;
                        if (_closedByUser) _stateDeadline = now + _tcp.FinWait2TimeoutMicros;
                    }
                    break;
                case TcpState.Closing:
                    if (finAcked)
                    {
                        EnterTimeWait(now);
                        return;
                    }
                    break;
                case TcpState.LastAck:
                    if (finAcked)
                    {
                        Terminate(TcpError.None);
                        return;
                    }
                    break;
            }

            // Seventh and eighth: the text and the FIN.
            if (data.Length > 0 || fin)
            {
                if (State == TcpState.Established || State == TcpState.FinWait1 || State == TcpState.FinWait2)
                {
                    if (!ProcessText(seq, data, fin, now)) return;
                }
                else _ackNow = true;    // a retransmission of what we have (CLOSE_WAIT, CLOSING, LAST_ACK)
            }
            if (State == TcpState.TimeWait) return;
            Output(now);
        }

        private void Establish(ref TcpSegment seg, long now)
        {
            if (_timing && _retries == 0) _rtt.Sample(now - _timingStart);
            else if (_retries > 0) _rtt.ResetAfterSynRetransmission(3000000);
            _timing = false;
            _retries = 0;
            _rtoDeadline = Never;
            _sndUna = _iss + 1;
            _sndWnd = (uint)seg.Window << _sndScale;
            if (_sndWnd > MaxWindow) _sndWnd = MaxWindow;
            _maxSndWnd = _sndWnd;
            _sndWl1 = seg.Seq;
            _sndWl2 = seg.AckNumber;
            InitialCongestionWindow();
            AllocateBuffers();
            State = TcpState.Established;
            if (Listener != null) Listener.ChildEstablished(this, now);
            if (_finQueued)
            {
                _finQueued = false;
                _writeShut = false;
                QueueFin(now);
            }
        }

        private void NewAck(uint ack, long now)
        {
            uint acked = ack - _sndUna;
            // Karn (RFC 6298 3): only a segment sent once gives a sample.
            if (_timing && TcpSeq.Gt(ack, _timingSeq))
            {
                _rtt.Sample(now - _timingStart);
                _timing = false;
            }
            _retries = 0;
            uint dataEnd = _finSent && TcpSeq.Gt(ack, _finSeq) ? _finSeq : ack;
            if (_snd != null && TcpSeq.Gt(dataEnd, _sndBufSeq))
            {
                int n = (int)(dataEnd - _sndBufSeq);
                if (n > _snd.Length) n = _snd.Length;
                _snd.Consume(n);
                _sndBufSeq += (uint)n;
            }
            _sndUna = ack;
            if (TcpSeq.Lt(_sndNxt, _sndUna)) _sndNxt = _sndUna;

            uint mss = (uint)_mss;
            if (_inRecovery)
            {
                if (TcpSeq.Ge(ack, _recover))
                {
                    // RFC 6582 3.2 (3): full acknowledgement; deflate to ssthresh.
                    uint flight = _sndMax - _sndUna;
                    uint w = (flight > mss ? flight : mss) + mss;
                    _cwnd = _ssthresh < w ? _ssthresh : w;
                    _inRecovery = false;
                    _dupAcks = 0;
                    _caBytes = 0;
                }
                else
                {
                    // (4) Partial acknowledgement: retransmit the next hole, deflate by the
                    // amount acknowledged, add back one MSS if at least one was acknowledged.
                    RetransmitFirst(now);
                    _cwnd = _cwnd > acked ? _cwnd - acked : mss;
                    if (acked >= mss) _cwnd += mss;
                    if (_cwnd < mss) _cwnd = mss;
                    if (_firstPartialAck)
                    {
                        _firstPartialAck = false;
                        _rtoDeadline = now + _rtt.Rto;
                    }
                }
            }
            else
            {
                _dupAcks = 0;
                // Keep "recover" close behind SND.UNA so that it never wraps ahead of it.
                if (TcpSeq.Lt(_recover, _sndUna - 1)) _recover = _sndUna - 2;
                if (_cwnd < _ssthresh)
                {
                    // Slow start (RFC 5681 3.1): at most an SMSS for each ACK, the merged ones too.
                    uint limit = mss * (uint)(1 + _tcp.MergedAcks);
                    _cwnd += acked < limit ? acked : limit;
                }
                else
                {
                    _caBytes += acked;                              // congestion avoidance, byte counting
                    if (_caBytes >= _cwnd)
                    {
                        _caBytes -= _cwnd;
                        _cwnd += mss;
                    }
                }
                if (_cwnd > MaxWindow) _cwnd = MaxWindow;
            }

            if (_sndUna == _sndMax) _rtoDeadline = Never;
            else if (!_inRecovery || TcpSeq.Ge(ack, _recover)) _rtoDeadline = now + _rtt.Rto;
        }

        private void DuplicateAck(long now)
        {
            uint mss = (uint)_mss;
            _dupAcks++;
            if (_inRecovery)
            {
                _cwnd += mss;                                       // RFC 6582 3.2 (5)
                return;
            }
            if (_dupAcks != 3) return;
            // RFC 6582 3.2 (2): only when the ACK covers more than "recover".
            if (!TcpSeq.Gt(_sndUna - 1, _recover)) return;
            uint flight = _sndMax - _sndUna;
            _ssthresh = flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
            _recover = _sndMax;
            _inRecovery = true;
            _firstPartialAck = true;
            _tcp.Counters.FastRetransmits++;
            RetransmitFirst(now);
            _cwnd = _ssthresh + 3 * mss;
        }

        /// <summary>Stores the segment's data and FIN (RFC 9293 3.10.7.4, seventh and eighth).
        /// False when the connection ended.</summary>
        private bool ProcessText(uint seq, System.ReadOnlySpan<byte> data, bool fin, long now)
        {
            uint finAt = seq + (uint)data.Length;
            if (TcpSeq.Lt(seq, _rcvNxt))
            {
                uint cutU = _rcvNxt - seq;
                int cut = cutU > (uint)data.Length ? data.Length : (int)cutU;
                data = data.Slice(cut);
                seq += (uint)cut;
            }
            if (fin && TcpSeq.Lt(finAt, _rcvNxt)) fin = false;
            if (data.Length > 0 && _closedByUser)
            {
                // Data for an application that closed: nobody will read it (RFC 9293 3.10.4).
                EmitReset();
                Terminate(TcpError.None);
                return false;
            }
            int room = _rcv != null ? _rcv.Free : 0;
            uint limit = _rcvNxt + (uint)room;
            if (data.Length > 0 && TcpSeq.Gt(seq + (uint)data.Length, limit))
            {
                int keep = TcpSeq.Gt(limit, seq) ? (int)(limit - seq) : 0;
                data = data.Slice(0, keep);
                fin = false;
            }
            if (data.Length > 0)
            {
                bool inOrder = seq == _rcvNxt;
                uint before = _rcvNxt;
                _rcvNxt = _rcv.Store(_rcvNxt, seq, data, out bool dropped);
                if (!inOrder)
                {
                    _tcp.Counters.OutOfOrderSegments++;
                    if (dropped) _tcp.Counters.OutOfOrderDropped++;
                    _ackNow = true;                                     // RFC 5681 4.2: duplicate ACK at once
                }
                else
                {
                    if (data.Length > _rcvMssSeen) _rcvMssSeen = data.Length;
                    if (_rcvNxt - before > (uint)data.Length || _rcv.OutOfOrderRanges > 0) _ackNow = true;   // a hole filled
                    else
                    {
                        _delackBytes += data.Length;
                        int full = _rcvMssSeen < _rcvMss ? _rcvMssSeen : _rcvMss;
                        if (_delackBytes >= 2 * full) _ackNow = true;   // every second full segment
                        else if (_delackDeadline == Never) _delackDeadline = now + _tcp.DelayedAckMicros;
                    }
                    if (_readShut) _rcv.Consume(_rcv.Length);
                }
            }
            if (fin)
            {
                if (finAt == _rcvNxt) ConsumeFin(now);
                else if (TcpSeq.Gt(finAt, _rcvNxt))
                {
                    _rcvFinPending = true;
                    _rcvFinSeq = finAt;
                    _ackNow = true;
                }
            }
            if (_rcvFinPending && _rcvFinSeq == _rcvNxt) ConsumeFin(now);
            return State != TcpState.Closed;
        }

        private void ConsumeFin(long now)
        {
            _rcvFinPending = false;
            _rcvNxt++;
            _finReceived = true;
            _ackNow = true;
            switch (State)
            {
                case TcpState.Established:
                    State = TcpState.CloseWait;
                    break;
                case TcpState.FinWait1:
                    if (_finSent && TcpSeq.Gt(_sndUna, _finSeq)) EnterTimeWait(now);
                    else State = TcpState.Closing;
                    break;
                case TcpState.FinWait2:
                    EnterTimeWait(now);
                    break;
            }
        }

        private void EnterTimeWait(long now)
        {
            if (_ackNow) EmitAck(now);
            State = TcpState.TimeWait;
            _rtoDeadline = Never;
            _persistDeadline = Never;
            _delackDeadline = Never;
            _timing = false;
            _stateDeadline = now + 2 * _tcp.MslMicros;
            ReleaseBuffers();
            _tcp.EnterTimeWait(this);
        }

        /// <summary>The 2MSL wait ended (called by the Tcp's TIME_WAIT queue).</summary>
        internal long TimeWaitDeadline => _stateDeadline;

        internal uint TimeWaitRcvNxt => _rcvNxt;
        /// <summary>How far behind RCV.NXT a new SYN's ISN must lie for none of this incarnation's
        /// retransmissions (within one window of RCV.NXT) to fall in the new one's window: twice
        /// the most this one could advertise.</summary>
        internal uint TimeWaitReach => 2u * (uint)(ReceiveCapacity > 65535 ? ReceiveCapacity : 65535);
        internal uint TimeWaitSndMax => _sndMax;

        /// <summary>Ends the connection: CLOSED, out of the table, the error (if any) pending.</summary>
        internal void Terminate(TcpError error)
        {
            if (error != TcpError.None)
            {
                _pendingError = error;
                _resetOrTimedOut = true;
            }
            TcpState was = State;
            State = TcpState.Closed;
            _tcp.UnlinkTimeWait(this);
            _rtoDeadline = Never;
            _persistDeadline = Never;
            _delackDeadline = Never;
            _stateDeadline = Never;
            _timing = false;
            ReleaseBuffers();
            if (Listener != null && !InAcceptQueue && was == TcpState.SynReceived)
            {
                Listener.ChildGone(this);
                Listener = null;
            }
            _tcp.Remove(this);
            _tcp.Schedule(this);
            _tcp.Signal(this);
        }

        // ---- reading and window updates ----

        private void AfterRead(long now)
        {
            if (State == TcpState.Closed || State == TcpState.TimeWait || _rcv == null) return;
            // Send a window update when reading opened the window usefully: the advertised
            // window had fallen to a quarter of the ring (or four segments) and now at least
            // doubles, growing by an MSS or more. This also ends a zero-window stall without
            // waiting for the peer's probe.
            uint advertised = TcpSeq.Gt(_rcvAdvEdge, _rcvNxt) ? _rcvAdvEdge - _rcvNxt : 0;
            uint now_ = (uint)_rcv.Free;
            bool low = advertised < (uint)_rcv.Capacity / 4 || advertised < 4 * (uint)_rcvMss;
            if (low && now_ >= 2 * advertised && now_ - advertised >= (uint)_rcvMss)
            {
                _ackNow = true;
                Output(now);
                _tcp.Schedule(this);
            }
        }

        // ---- timers ----

        internal long ComputeDeadline()
        {
            long d = _rtoDeadline;
            if (_persistDeadline < d) d = _persistDeadline;
            if (_corkDeadline < d) d = _corkDeadline;
            if (_delackDeadline < d) d = _delackDeadline;
            if (State != TcpState.TimeWait && _stateDeadline < d) d = _stateDeadline;
            long k = KeepAliveDeadline();
            if (k < d) d = k;
            return d;
        }

        private long KeepAliveDeadline()
        {
            if (!Options.KeepAlive) return Never;
            if (State != TcpState.Established && State != TcpState.CloseWait && State != TcpState.FinWait1 &&
                State != TcpState.FinWait2)
                return Never;
            return _keepProbes == 0 ? _idleSince + Options.KeepIdleMicros : _lastKeepProbe + Options.KeepIntervalMicros;
        }

        internal void OnTimers(long now)
        {
            if (_rtoDeadline <= now) OnRetransmissionTimeout(now);
            if (State == TcpState.Closed) return;
            if (_persistDeadline <= now) OnPersist(now);
            if (State == TcpState.Closed) return;
            if (_corkDeadline <= now)
            {
                _corkDeadline = Never;
                _tcp.Counters.CorkTimeouts++;
                _push = true;
                Output(now); // the held partial segment goes, as Linux's after 200 ms
                _push = false;
            }
            if (_delackDeadline <= now)
            {
                _delackDeadline = Never;
                _tcp.Counters.DelayedAcks++;
                EmitAck(now);
            }
            if (KeepAliveDeadline() <= now) OnKeepAlive(now);
            if (State == TcpState.Closed) return;
            if (State != TcpState.TimeWait && _stateDeadline <= now)
            {
                _stateDeadline = Never;
                Terminate(TcpError.None);      // an orphaned FIN_WAIT_2 waited long enough
            }
        }

        private void OnRetransmissionTimeout(long now)
        {
            _rtoDeadline = Never;
            _tcp.Counters.RetransmissionTimeouts++;
            if (State == TcpState.SynSent || State == TcpState.SynReceived)
            {
                int limit = State == TcpState.SynSent ? _tcp.SynRetries : _tcp.SynAckRetries;
                if (++_retries > limit)
                {
                    _tcp.Counters.TimedOut++;
                    Terminate(Listener != null ? TcpError.None : TcpError.TimedOut);
                    return;
                }
                _rtt.Backoff();
                _tcp.Counters.Retransmissions++;
                EmitSyn(now, State == TcpState.SynReceived);
                return;
            }
            if (_sndMax == _sndUna) return;
            if (++_retries > _tcp.MaxRetransmissions)
            {
                _tcp.Counters.TimedOut++;
                EmitReset();
                Terminate(TcpError.TimedOut);
                return;
            }
            uint mss = (uint)_mss;
            if (_retries == 1)
            {
                // RFC 5681 (4): ssthresh from the flight; held on repeated timeouts.
                uint flight = _sndMax - _sndUna;
                _ssthresh = flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
            }
            _cwnd = mss;                                    // the loss window
            _caBytes = 0;
            _inRecovery = false;
            _dupAcks = 0;
            _recover = _sndMax;                             // RFC 6582 3.2 (after a timeout)
            _sndNxt = _sndUna;                              // go back N
            _timing = false;                                // Karn
            _rtt.Backoff();
            Output(now);
            // Nothing went out only when the peer's window is closed: the persist timer,
            // which Output armed, takes over.
            if (_rtoDeadline == Never && _sndNxt != _sndUna) _rtoDeadline = now + _rtt.Rto;
        }

        private void OnPersist(long now)
        {
            _persistDeadline = Never;
            uint bufEnd = _sndBufSeq + (uint)(_snd != null ? _snd.Length : 0);
            int avail = TcpSeq.Gt(bufEnd, _sndNxt) ? (int)(bufEnd - _sndNxt) : 0;
            if (avail == 0 || _sndNxt != _sndUna) return;
            if (++_persistProbes > _tcp.MaxRetransmissions)
            {
                _tcp.Counters.TimedOut++;
                Terminate(TcpError.TimedOut);
                return;
            }
            if (_sndWnd == 0)
            {
                // A zero-window probe: an old sequence number the peer must acknowledge with
                // its current window.
                _tcp.Counters.ZeroWindowProbes++;
                Emit(_sndUna - 1, TcpSegment.Ack, 0, now);
            }
            else
            {
                int len = avail < (int)_sndWnd ? avail : (int)_sndWnd;
                if (len > _mss) len = _mss;
                SendSegment(len, false, len == avail, now);
                return;
            }
            if (_persistShift < 16) _persistShift++;
            _persistDeadline = now + PersistInterval();
        }

        private void OnKeepAlive(long now)
        {
            if (_sndMax != _sndUna)
            {
                _idleSince = now;   // data outstanding: the retransmission timer watches the peer
                _keepProbes = 0;
                return;
            }
            if (_keepProbes >= Options.KeepCount)
            {
                _tcp.Counters.TimedOut++;
                Terminate(TcpError.TimedOut);
                return;
            }
            _keepProbes++;
            _lastKeepProbe = now;
            _tcp.Counters.KeepAliveProbes++;
            Emit(_sndUna - 1, TcpSegment.Ack, 0, now);
        }

        public override string ToString() =>
            LocalAddress.ToString() + ":" + LocalPort.ToString() + " -> " + RemoteAddress.ToString() + ":" +
            RemotePort.ToString();
    }
}
