namespace Aegis.LibOS.Net
{
    /// <summary>A listening socket: answers SYNs (up to <see cref="Tcp.SynBacklog"/> half-open
    /// connections at once) and queues established connections (up to the backlog) for
    /// <see cref="Accept"/>. A SYN that finds both full is dropped, as Linux does; the client
    /// retries it.</summary>
    public sealed class TcpListener
    {
        private readonly Tcp _tcp;
        private TcpConnection[] _queue;
        private int _head;
        private int _count;
        internal int SynReceivedCount;

        /// <summary>Options copied into every accepted connection (buffer sizes, NoDelay,
        /// KeepAlive, Linger); ReuseAddress applies to the listener's own bind.</summary>
        public TcpSocketOptions Options = new TcpSocketOptions();

        public Ipv4Address LocalAddress { get; private set; }
        public int LocalPort { get; private set; }
        public bool IsListening { get; private set; }
        public int Backlog => _queue != null ? _queue.Length : 0;
        /// <summary>Established connections waiting for Accept.</summary>
        public int Pending => _count;

        internal TcpListener(Tcp tcp) { _tcp = tcp; }

        /// <summary>bind() + listen(): port 0 picks an ephemeral port. Fails with AddressInUse
        /// when another listener has the port, or connections use it and ReuseAddress is off.</summary>
        public TcpError Listen(Ipv4Address local, int port, int backlog)
        {
            if (IsListening) return TcpError.InvalidArgument;
            if (port < 0 || port > 65535) return TcpError.InvalidArgument;
            if (local.IsBroadcast || local.IsMulticast) return TcpError.AddressNotAvailable;
            if (backlog < 1) backlog = 1;
            if (backlog > 4096) backlog = 4096;
            if (port == 0)
            {
                port = _tcp.ChooseListenPort();
                if (port == 0) return TcpError.AddressInUse;
            }
            TcpError e = _tcp.AddListener(this, local, port);
            if (e != TcpError.None) return e;
            LocalAddress = local;
            LocalPort = port;
            _queue = new TcpConnection[backlog];
            IsListening = true;
            return TcpError.None;
        }

        /// <summary>accept(): the oldest established connection, or null with WouldBlock.</summary>
        public TcpConnection Accept(out TcpError error)
        {
            if (!IsListening)
            {
                error = TcpError.InvalidArgument;
                return null;
            }
            if (_count == 0)
            {
                error = TcpError.WouldBlock;
                return null;
            }
            error = TcpError.None;
            return Dequeue();
        }

        /// <summary>The oldest queued connection, out of the queue (there is one).</summary>
        private TcpConnection Dequeue()
        {
            TcpConnection c = _queue[_head];
            _queue[_head] = null;
            _head = (_head + 1) % _queue.Length;
            _count--;
            c.InAcceptQueue = false;
            c.Listener = null;
            return c;
        }

        public TcpReadiness Readiness => _count > 0 ? TcpReadiness.Readable : TcpReadiness.None;

        /// <summary>Stops listening: queued and half-open connections are reset.</summary>
        public void Close(long nowMicros)
        {
            if (!IsListening) return;
            IsListening = false;
            _tcp.RemoveListener(this);
            while (_count > 0)
            {
                // (Not Accept: it refuses once IsListening is off, and a null here took the server down.)
                Dequeue().Abort(nowMicros);
            }
            _tcp.AbortHalfOpen(this, nowMicros);
        }

        internal bool HasRoom => _count < _queue.Length;

        internal bool CanTakeSyn => SynReceivedCount < _tcp.SynBacklog && _count < _queue.Length;

        /// <summary>A segment for the listening port and no connection (RFC 9293 3.10.7.2).</summary>
        internal void Input(Ipv4Address source, Ipv4Address destination, ref TcpSegment seg, long now,
            bool hasIssFloor, uint issFloor)
        {
            if (seg.HasRst) return;
            if (seg.HasAck)
            {
                _tcp.SendReset(destination, source, seg.DestinationPort, seg.SourcePort, seg.AckNumber, 0, false);
                return;
            }
            if (!seg.HasSyn) return;
            if (source.IsBroadcast || source.IsMulticast || source.IsAny || seg.SourcePort == 0) return;
            if (!CanTakeSyn)
            {
                _tcp.Counters.ListenOverflows++;
                return;
            }
            Ipv4Address local = destination;
            uint iss = _tcp.NewIsn(local, LocalPort, source, seg.SourcePort, now, issFloor, hasIssFloor);
            var c = new TcpConnection(_tcp);
            c.Listener = this;
            SynReceivedCount++;
            c.StartPassive(this, local, LocalPort, source, seg.SourcePort, ref seg, iss, now);
        }

        internal void ChildEstablished(TcpConnection c, long now)
        {
            SynReceivedCount--;
            if (!IsListening || _count == _queue.Length)
            {
                c.Listener = null;
                c.Abort(now);
                return;
            }
            _queue[(_head + _count) % _queue.Length] = c;
            _count++;
            c.InAcceptQueue = true;
            _tcp.Signal(this);
        }

        /// <summary>A connection this stack took over (<see cref="Tcp.TakeOver"/>) that waited,
        /// established and never accepted, in another stack's queue for this port (a process's twin
        /// of a listener it shares: docs/libos-unixish.md, "The listener in the process"): queued
        /// for <see cref="Accept"/> as if its handshake had ended here. A handshake that stack
        /// answered (SYN_RECEIVED, taken over with halfOpen) becomes one of this listener's,
        /// within its SYN backlog. False when it cannot be:
        /// another port or address, a state a queued connection cannot have, not listening, or the
        /// queue full — the connection is then reset, as one whose handshake ends at a full queue
        /// is; another stack's connection, or one queued already, is left as it is.</summary>
        public bool Enqueue(TcpConnection c, long nowMicros)
        {
            if (c == null || !c.BelongsTo(_tcp) || c.Listener != null || c.InAcceptQueue) return false; // (not this stack's to reset)
            bool handshake = c.State == TcpState.SynReceived;
            if (c.LocalPort != LocalPort || !(LocalAddress.IsAny || LocalAddress.Value == c.LocalAddress.Value)
                || (c.State != TcpState.Established && c.State != TcpState.CloseWait && !handshake) || !IsListening
                || (handshake ? !CanTakeSyn : _count == _queue.Length))
            {
                c.Abort(nowMicros);
                return false;
            }
            if (handshake)
            {
                // A handshake the other stack answered (Tcp.TakeOver with halfOpen): one of ours
                // now, queued when the peer's ACK ends it (ChildEstablished).
                c.Listener = this;
                SynReceivedCount++;
                return true;
            }
            c.Listener = this;
            _queue[(_head + _count) % _queue.Length] = c;
            _count++;
            c.InAcceptQueue = true;
            _tcp.Signal(this);
            return true;
        }

        /// <summary>Whether c is a handshake in progress this listener answered (SYN_RECEIVED, not queued).</summary>
        public bool OwnsHandshake(TcpConnection c) =>
            c != null && c.Listener == this && c.State == TcpState.SynReceived && !c.InAcceptQueue;

        internal void ChildGone(TcpConnection c)
        {
            SynReceivedCount--;
        }
    }
}
