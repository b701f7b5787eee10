namespace Aegis.LibOS.Net
{
    public enum UdpError : byte
    {
        None, AddressInUse, NoEphemeralPort, AlreadyBound, Closed, MessageTooBig, NoRoute, NotConnected, InvalidArgument,
    }

    /// <summary>Called with each datagram for a socket that has a handler (instead of queueing
    /// it); the data span is valid only during the call.</summary>
    public interface IUdpHandler
    {
        void UdpReceived(UdpSocket socket, Ipv4Address source, ushort sourcePort, Ipv4Address destination,
            System.ReadOnlySpan<byte> data, long nowMicros);
    }

    /// <summary>UDP (RFC 768): demultiplexes datagrams to <see cref="UdpSocket"/>s by local
    /// port, verifies checksums when present, computes them when sending, and answers a
    /// datagram to an unbound port with ICMP port unreachable (unicast only).</summary>
    public sealed class UdpTransport : ITransport, IIcmpErrorReceiver
    {
        public const int HeaderLength = 8;
        /// <summary>The largest datagram: an IPv4 datagram's payload (65,515) minus the UDP header,
        /// 65,507 bytes as Linux; one above Ipv4.MaximumPayload leaves in fragments.</summary>
        public const int MaximumData = Ipv4.MaximumDatagramPayload - HeaderLength;

        private readonly NetStack _stack;
        private readonly NetStackOptions _options;
        private readonly NetCounters _counters;
        // Bound sockets by local port: chained buckets (no generic dictionary, whose default
        // comparer may box on our runtime; the receive path must not allocate).
        private readonly UdpSocket[] _buckets = new UdpSocket[64];
        private readonly byte[] _tx = new byte[Ipv4.MaximumDatagramPayload];
        private int _nextEphemeral;

        internal UdpTransport(NetStack stack, NetStackOptions options)
        {
            _stack = stack;
            _options = options;
            _counters = stack.Counters;
            int range = options.EphemeralPortLast - options.EphemeralPortFirst + 1;
            _nextEphemeral = options.EphemeralPortFirst + (range > 0 ? stack.Random.Below(range) : 0);
        }

        public byte Protocol => Ipv4.ProtocolUdp;
        internal NetStack Stack => _stack;

        /// <summary>A new, unbound socket whose receive queue holds
        /// <paramref name="receiveBytes"/> bytes (0: the stack's default).</summary>
        public UdpSocket Open(int receiveBytes = 0) =>
            new UdpSocket(this, receiveBytes > 0 ? receiveBytes : _options.UdpReceiveBytes);

        public bool IsBound(int port) => Lookup(port) != null;

        private UdpSocket Lookup(int port)
        {
            for (UdpSocket s = _buckets[port & 63]; s != null; s = s.NextBound)
                if (s.LocalPort == port) return s;
            return null;
        }

        internal UdpError Bind(UdpSocket s, int port)
        {
            if (port < 0 || port > 65535) return UdpError.InvalidArgument;
            if (port == 0)
            {
                int first = _options.EphemeralPortFirst, last = _options.EphemeralPortLast;
                int range = last - first + 1;
                for (int i = 0; i < range; i++)
                {
                    int candidate = _nextEphemeral;
                    _nextEphemeral = candidate == last ? first : candidate + 1;
                    if (Lookup(candidate) == null) { port = candidate; break; }
                }
                if (port == 0) return UdpError.NoEphemeralPort;
            }
            else if (Lookup(port) != null) return UdpError.AddressInUse;
            s.LocalPort = (ushort)port;
            s.NextBound = _buckets[port & 63];
            _buckets[port & 63] = s;
            return UdpError.None;
        }

        internal void Unbind(UdpSocket s)
        {
            if (s.LocalPort == 0) return;
            int b = s.LocalPort & 63;
            if (_buckets[b] == s) _buckets[b] = s.NextBound;
            else
                for (UdpSocket p = _buckets[b]; p != null; p = p.NextBound)
                    if (p.NextBound == s) { p.NextBound = s.NextBound; break; }
            s.NextBound = null;
        }

        public void Receive(Ipv4Address source, Ipv4Address destination, System.ReadOnlySpan<byte> p, long nowMicros)
        {
            _counters.UdpReceived++;
            if (p.Length < HeaderLength) { _counters.UdpMalformed++; return; }
            int length = Wire.U16(p, 4);
            if (length < HeaderLength || length > p.Length) { _counters.UdpMalformed++; return; }
            p = p.Slice(0, length);
            if (Wire.U16(p, 6) != 0 &&
                Checksum.Finish(Checksum.Add(Checksum.PseudoHeader(source, destination, Ipv4.ProtocolUdp, length), p)) != 0)
            {
                _counters.UdpBadChecksum++;
                return;
            }
            ushort sourcePort = Wire.U16(p, 0);
            ushort port = Wire.U16(p, 2);
            UdpSocket s = Lookup(port);
            if (s == null ||
                (!s.LocalAddress.IsAny && s.LocalAddress != destination && !destination.IsBroadcast && destination != _stack.SubnetBroadcast))
            {
                _counters.UdpNoPort++;
                _stack.SendDestinationUnreachable(IcmpTransport.CodePortUnreachable, p);
                return;
            }
            if (s.IsConnected && (source != s.RemoteAddress || sourcePort != s.RemotePort))
            {
                _counters.UdpFiltered++;
                s.Filtered++;
                return;
            }
            if (s.Deliver(source, sourcePort, destination, p.Slice(HeaderLength), nowMicros)) _counters.UdpDelivered++;
            else _counters.UdpQueueFull++;
        }

        internal UdpError Send(UdpSocket s, Ipv4Address destination, ushort port, System.ReadOnlySpan<byte> data)
        {
            if (data.Length > MaximumData) return UdpError.MessageTooBig;
            if (port == 0 || destination.IsAny) return UdpError.InvalidArgument;
            Ipv4Address source = s.LocalAddress.IsAny ? _stack.SourceFor(destination) : s.LocalAddress;
            if (source.IsAny && _stack.IsConfigured) { _counters.UdpSendFailed++; return UdpError.NoRoute; }
            int length = HeaderLength + data.Length;
            var m = new System.Span<byte>(_tx, 0, length);
            Wire.Put16(m, 0, s.LocalPort);
            Wire.Put16(m, 2, port);
            Wire.Put16(m, 4, length);
            Wire.Put16(m, 6, 0);
            data.CopyTo(m.Slice(HeaderLength));
            ushort sum = Checksum.Finish(Checksum.Add(Checksum.PseudoHeader(source, destination, Ipv4.ProtocolUdp, length), m));
            Wire.Put16(m, 6, sum == 0 ? 0xFFFF : sum);
            if (!_stack.Send(destination, Ipv4.ProtocolUdp, m)) { _counters.UdpSendFailed++; return UdpError.NoRoute; }
            _counters.UdpSent++;
            return UdpError.None;
        }

        /// <summary>Port unreachable (and other errors) about a datagram a connected socket
        /// sent: remembered as the socket's <see cref="UdpSocket.PendingError"/>.</summary>
        public void IcmpError(byte type, byte code, uint rest, Ipv4Address reporter, Ipv4Address originalSource,
            Ipv4Address originalDestination, System.ReadOnlySpan<byte> original, long nowMicros)
        {
            if (original.Length < HeaderLength) return;
            UdpSocket s = Lookup(Wire.U16(original, 0));
            if (s == null) return;
            if (!s.IsConnected || s.RemoteAddress != originalDestination || s.RemotePort != Wire.U16(original, 2)) return;
            if (type == IcmpTransport.TypeDestinationUnreachable) s.PendingError = code == IcmpTransport.CodePortUnreachable
                ? UdpSocketError.ConnectionRefused : UdpSocketError.Unreachable;
        }
    }

    public enum UdpSocketError : byte { None, ConnectionRefused, Unreachable }

    /// <summary>A UDP socket: bind (port 0 picks an ephemeral port), connect (a default
    /// destination that also filters what is received), sendto, and a bounded receive queue
    /// read without blocking. A datagram that does not fit the queue is dropped and counted in
    /// <see cref="Drops"/>. With a <see cref="Handler"/>, datagrams go to it instead.</summary>
    public sealed class UdpSocket
    {
        private const int RecordHeader = 8; // length (2), source port (2), source address (4)
        private readonly UdpTransport _udp;
        private readonly byte[] _queue;
        private int _head, _used, _count;

        internal UdpSocket(UdpTransport udp, int receiveBytes)
        {
            _udp = udp;
            _queue = new byte[receiveBytes < RecordHeader + 1 ? RecordHeader + 1 : receiveBytes];
        }

        public ushort LocalPort { get; internal set; }
        internal UdpSocket NextBound;
        public Ipv4Address LocalAddress { get; private set; }
        public Ipv4Address RemoteAddress { get; private set; }
        public ushort RemotePort { get; private set; }
        public bool IsBound => LocalPort != 0;
        public bool IsConnected => RemotePort != 0;
        public bool IsClosed { get; private set; }
        public IUdpHandler Handler;
        /// <summary>Told after a datagram was queued (a poll layer's wake-up; not with a Handler).</summary>
        public System.Action<UdpSocket> Queued;
        /// <summary>Datagrams dropped because the receive queue was full.</summary>
        public long Drops;
        /// <summary>Datagrams refused by the connected filter (from another peer).</summary>
        public long Filtered;
        /// <summary>An ICMP error about what this connected socket sent (read and cleared by
        /// <see cref="TakeError"/>).</summary>
        public UdpSocketError PendingError;

        /// <summary>Datagrams waiting.</summary>
        public int QueuedDatagrams => _count;
        public int QueuedBytes => _used;
        public int ReceiveCapacity => _queue.Length;

        /// <summary>Readiness (poll's POLLIN): a datagram is waiting or an error is pending.</summary>
        public bool Readable => _count > 0 || PendingError != UdpSocketError.None;
        /// <summary>Readiness (POLLOUT): sends never wait, so always while open.</summary>
        public bool Writable => !IsClosed;

        /// <summary>The size of the next waiting datagram (-1 if none).</summary>
        public int NextDatagramLength => _count == 0 ? -1 : Peek(0) << 8 | Peek(1);

        public UdpSocketError TakeError()
        {
            var e = PendingError;
            PendingError = UdpSocketError.None;
            return e;
        }

        /// <summary>Binds to <paramref name="port"/> (0: an ephemeral port) on all addresses,
        /// or only <paramref name="address"/> (broadcasts are received either way).</summary>
        public UdpError Bind(int port, Ipv4Address address = default)
        {
            if (IsClosed) return UdpError.Closed;
            if (IsBound) return UdpError.AlreadyBound;
            var e = _udp.Bind(this, port);
            if (e == UdpError.None) LocalAddress = address;
            return e;
        }

        /// <summary>Sets the default destination and receives only from it; binds an
        /// ephemeral port first if unbound. Address Any disconnects.</summary>
        public UdpError Connect(Ipv4Address address, ushort port)
        {
            if (IsClosed) return UdpError.Closed;
            if (address.IsAny) { RemoteAddress = Ipv4Address.Any; RemotePort = 0; return UdpError.None; }
            if (port == 0) return UdpError.InvalidArgument;
            if (!IsBound)
            {
                var e = Bind(0);
                if (e != UdpError.None) return e;
            }
            RemoteAddress = address;
            RemotePort = port;
            PendingError = UdpSocketError.None;
            return UdpError.None;
        }

        public UdpError SendTo(Ipv4Address destination, ushort port, System.ReadOnlySpan<byte> data)
        {
            if (IsClosed) return UdpError.Closed;
            if (!IsBound)
            {
                var e = Bind(0);
                if (e != UdpError.None) return e;
            }
            return _udp.Send(this, destination, port, data);
        }

        public UdpError Send(System.ReadOnlySpan<byte> data) =>
            !IsConnected ? UdpError.NotConnected : SendTo(RemoteAddress, RemotePort, data);

        /// <summary>Takes the oldest datagram without waiting: returns its full length (the
        /// copy is cut to <paramref name="buffer"/>, the rest discarded, as with MSG_TRUNC), or -1
        /// when none is waiting. With <paramref name="peek"/> (MSG_PEEK) the datagram stays
        /// queued: the next call gets it again.</summary>
        public int TryReceive(System.Span<byte> buffer, out Ipv4Address source, out ushort sourcePort, bool peek = false)
        {
            source = Ipv4Address.Any;
            sourcePort = 0;
            if (_count == 0) return -1;
            int length = Peek(0) << 8 | Peek(1);
            sourcePort = (ushort)(Peek(2) << 8 | Peek(3));
            source = new Ipv4Address((uint)(Peek(4) << 24 | Peek(5) << 16 | Peek(6) << 8 | Peek(7)));
            int n = length < buffer.Length ? length : buffer.Length;
            int at = (_head + RecordHeader) % _queue.Length;
            int first = _queue.Length - at < n ? _queue.Length - at : n;
            new System.ReadOnlySpan<byte>(_queue, at, first).CopyTo(buffer);
            if (first < n) new System.ReadOnlySpan<byte>(_queue, 0, n - first).CopyTo(buffer.Slice(first));
            if (peek) return length;
            int record = RecordHeader + length;
            _head = (_head + record) % _queue.Length;
            _used -= record;
            _count--;
            return length;
        }

        private byte Peek(int offset) => _queue[(_head + offset) % _queue.Length];

        internal bool Deliver(Ipv4Address source, ushort sourcePort, Ipv4Address destination, System.ReadOnlySpan<byte> data, long now)
        {
            if (Handler != null)
            {
                Handler.UdpReceived(this, source, sourcePort, destination, data, now);
                return true;
            }
            int record = RecordHeader + data.Length;
            if (record > _queue.Length - _used) { Drops++; return false; }
            int tail = (_head + _used) % _queue.Length;
            Span8(tail, (ushort)data.Length, sourcePort, source);
            int at = (tail + RecordHeader) % _queue.Length;
            int first = _queue.Length - at < data.Length ? _queue.Length - at : data.Length;
            data.Slice(0, first).CopyTo(new System.Span<byte>(_queue, at, first));
            if (first < data.Length) data.Slice(first).CopyTo(new System.Span<byte>(_queue, 0, data.Length - first));
            _used += record;
            _count++;
            Queued?.Invoke(this);
            return true;
        }

        private void Span8(int at, ushort length, ushort port, Ipv4Address source)
        {
            int n = _queue.Length;
            _queue[at] = (byte)(length >> 8);
            _queue[(at + 1) % n] = (byte)length;
            _queue[(at + 2) % n] = (byte)(port >> 8);
            _queue[(at + 3) % n] = (byte)port;
            _queue[(at + 4) % n] = (byte)(source.Value >> 24);
            _queue[(at + 5) % n] = (byte)(source.Value >> 16);
            _queue[(at + 6) % n] = (byte)(source.Value >> 8);
            _queue[(at + 7) % n] = (byte)source.Value;
        }

        /// <summary>Unbinds and drops what is queued.</summary>
        public void Close()
        {
            if (IsClosed) return;
            _udp.Unbind(this);
            IsClosed = true;
            _head = _used = _count = 0;
        }
    }
}
