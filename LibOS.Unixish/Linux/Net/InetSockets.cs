// Linux's AF_INET sockets over LibOS.Net (docs/libos-unixish.md, "Sockets"): the file server's
// ISocketProvider. SOCK_STREAM is a TcpConnection or a TcpListener, SOCK_DGRAM a UdpSocket; the
// provider learns of every readiness change (TCP's ITcpNotify, UDP's Queued) and lists the changed
// sockets that have watchers, for the server's loop to wake (TakeChanged). Pure logic over
// LibOS.Net; compiles under the real .NET (host tests connect two stacks through a wire in memory).
//
// Invariants: every live stream socket's connection or listener maps back to it (_streams,
// _listeners) until Close; a port bound by bind() or listen() is in _boundPorts (stream and
// datagram separately) until its socket closes, so two sockets never bind one port of one protocol.
using System.Collections.Generic;
using Aegis.LibOS.Net;
using Aegis.LibOS.Unixish.Linux.Files;
using E = Aegis.LibOS.Unixish.Linux.Errno;

namespace Aegis.LibOS.Unixish.Linux.Net
{
    public sealed unsafe class InetSockets : ISocketProvider, ITcpNotify
    {
        public readonly NetStack Stack;
        public readonly Tcp Tcp;
        /// <summary>Microseconds now (the stack's clock).</summary>
        public readonly System.Func<long> Clock;
        private readonly Dictionary<TcpConnection, StreamSocket> _streams = new Dictionary<TcpConnection, StreamSocket>();
        private readonly Dictionary<TcpListener, StreamSocket> _listeners = new Dictionary<TcpListener, StreamSocket>();
        private readonly HashSet<int> _streamPorts = new HashSet<int>();
        private readonly List<Socket> _changed = new List<Socket>();
        private readonly System.Action<UdpSocket> _udpQueued;
        private readonly Dictionary<UdpSocket, DatagramSocket> _datagrams = new Dictionary<UdpSocket, DatagramSocket>();

        /// <summary>Sockets open now (tests; leaks show here).</summary>
        public int Open => _streams.Count + _listeners.Count + _datagrams.Count + _unattached;
        private int _unattached;

        public InetSockets(NetStack stack, Tcp tcp, System.Func<long> clock)
        {
            Stack = stack; Tcp = tcp; Clock = clock;
            tcp.Notify = this;
            _udpQueued = OnUdpQueued;
        }

        public long Create(int domain, int type, int protocol, out Socket socket)
        {
            socket = null;
            if (domain != LinuxSocket.AF_INET) return -Errno.EAFNOSUPPORT;
            if (type == LinuxSocket.SOCK_STREAM)
            {
                if (protocol != 0 && protocol != LinuxSocket.IPPROTO_TCP) return -Errno.EPROTONOSUPPORT;
                socket = new StreamSocket(this);
                _unattached++;
                return 0;
            }
            if (type == LinuxSocket.SOCK_DGRAM)
            {
                if (protocol != 0 && protocol != LinuxSocket.IPPROTO_UDP) return -Errno.EPROTONOSUPPORT;
                UdpSocket udp = Stack.Udp.Open();
                udp.Queued = _udpQueued;
                var datagram = new DatagramSocket(this, udp);
                _datagrams[udp] = datagram;
                socket = datagram;
                return 0;
            }
            return -Errno.ESOCKTNOSUPPORT;
        }

        /// <summary>The sockets that changed since the last call and have watchers (the caller wakes them).</summary>
        public void TakeChanged(List<Socket> into)
        {
            for (int i = 0; i < _changed.Count; i++) into.Add(_changed[i]); // AddRange would enumerate through an interface: an allocation a call
            _changed.Clear();
        }

        private void Changed(Socket socket)
        {
            if (socket == null) return;
            socket.Changes++;
            if (!socket.Watched || socket.ChangeListed) return;
            socket.ChangeListed = true;
            _changed.Add(socket);
        }

        public void ConnectionChanged(TcpConnection connection)
        {
            if (_streams.TryGetValue(connection, out StreamSocket socket)) Changed(socket);
        }

        public void ListenerChanged(TcpListener listener)
        {
            if (_listeners.TryGetValue(listener, out StreamSocket socket)) Changed(socket);
        }

        private void OnUdpQueued(UdpSocket udp)
        {
            if (_datagrams.TryGetValue(udp, out DatagramSocket socket)) Changed(socket);
        }

        // ---- shared by both kinds

        internal static long FromTcp(TcpError error) => error == TcpError.None ? 0 : -(long)(int)error;

        /// <summary>A bind address: Any, or this machine's own (else EADDRNOTAVAIL).</summary>
        internal long CheckLocal(uint address)
        {
            if (address == 0 || address == Stack.Address.Value || (address >> 24) == 127) return 0;
            return -E.EADDRNOTAVAIL;
        }

        internal bool ClaimStreamPort(int port) => _streamPorts.Add(port);

        /// <summary>An ephemeral port neither TCP nor a bound socket uses (0: none left).</summary>
        internal int FreeStreamPort()
        {
            for (int attempt = 0; attempt < 64; attempt++)
            {
                int port = Tcp.ChooseListenPort();
                if (port == 0) return 0;
                if (!_streamPorts.Contains(port)) return port;
            }
            return 0;
        }
        internal void ReleaseStreamPort(int port) { if (port != 0) _streamPorts.Remove(port); }
        internal void Attach(TcpConnection connection, StreamSocket socket) { _streams[connection] = socket; }
        internal void Attach(TcpListener listener, StreamSocket socket) { _listeners[listener] = socket; }
        /// <summary>A socket made by socket() got its connection or listener (or closed without one).</summary>
        internal void Unattached() => _unattached--;
        internal void Detach(TcpConnection connection, TcpListener listener)
        {
            if (connection != null) _streams.Remove(connection);
            if (listener != null) _listeners.Remove(listener);
        }
        internal void Detach(UdpSocket udp) { _datagrams.Remove(udp); }

        /// <summary>A connected socket for a connection this stack's Tcp just took over (Tcp.TakeOver):
        /// the file server's Adopt, or a process's own stack (LocalNet).</summary>
        public StreamSocket Adopt(TcpConnection connection) => new StreamSocket(this, connection);

        internal static int ReadInt(byte* value, int length, out long error)
        {
            error = 0;
            if (value == null || length < 4) { error = -E.EINVAL; return 0; }
            return *(int*)value;
        }

        internal static long PutInt(byte* value, int length, int number, out int written)
        {
            written = 0;
            if (length < 4) return -E.EINVAL;
            *(int*)value = number;
            written = 4;
            return 0;
        }

        /// <summary>Options every socket answers (SOL_SOCKET's identity ones): true when answered.</summary>
        internal static bool CommonOption(Socket socket, int level, int name, byte* value, int length, out long result, out int written)
        {
            result = 0; written = 0;
            if (level != LinuxSocket.SOL_SOCKET) return false;
            switch (name)
            {
                case LinuxSocket.SO_TYPE: result = PutInt(value, length, socket.Type, out written); return true;
                case LinuxSocket.SO_DOMAIN: result = PutInt(value, length, socket.Domain, out written); return true;
                case LinuxSocket.SO_PROTOCOL:
                    result = PutInt(value, length, socket.Type == LinuxSocket.SOCK_STREAM ? LinuxSocket.IPPROTO_TCP : LinuxSocket.IPPROTO_UDP, out written);
                    return true;
                default: return false;
            }
        }
    }

    /// <summary>SOCK_STREAM: unconnected (options and a bound address kept here), a listener, or a connection.</summary>
    public sealed unsafe class StreamSocket : Socket
    {
        private const short POLLIN = 0x1, POLLOUT = 0x4, POLLHUP = 0x10;
        private readonly InetSockets _owner;
        private TcpConnection _connection;
        private TcpListener _listener;
        private readonly TcpSocketOptions _options;
        private uint _boundAddress;
        private int _boundPort;
        private bool _bound, _closed, _unattached;

        internal StreamSocket(InetSockets owner) : base(LinuxSocket.AF_INET, LinuxSocket.SOCK_STREAM, LinuxSocket.IPPROTO_TCP)
        {
            _owner = owner;
            _options = new TcpSocketOptions();
            _unattached = true;
        }

        /// <summary>An accepted connection.</summary>
        internal StreamSocket(InetSockets owner, TcpConnection connection) : base(LinuxSocket.AF_INET, LinuxSocket.SOCK_STREAM, LinuxSocket.IPPROTO_TCP)
        {
            _owner = owner;
            _connection = connection;
            _options = connection.Options;
            owner.Attach(connection, this);
        }

        private long Now => _owner.Clock();

        private void Attached()
        {
            if (_unattached) { _unattached = false; _owner.Unattached(); }
        }

        public override long Bind(byte* address, int length, in SocketCaller caller)
        {
            long error = ReadInet(address, length, out uint local, out int port);
            if (error < 0) return error;
            if (_bound || _connection != null || _listener != null) return -E.EINVAL;
            if ((error = _owner.CheckLocal(local)) < 0) return error;
            if (port == 0) port = _owner.FreeStreamPort(); // chosen now, as Linux does: getsockname shows it
            if (port == 0) return -E.EADDRINUSE;
            if (!_owner.ClaimStreamPort(port)) return -E.EADDRINUSE;
            _boundAddress = local;
            _boundPort = port;
            _bound = true;
            return 0;
        }

        public override long Listen(int backlog, in SocketCaller caller)
        {
            if (_connection != null) return -E.EINVAL;
            if (_listener != null) return 0; // listen again: Linux changes the backlog; ours stays
            TcpListener listener = _owner.Tcp.CreateListener();
            listener.Options = _options;
            // A port bind() claimed is handed to the listener (it claims it again in Tcp).
            _owner.ReleaseStreamPort(_boundPort);
            TcpError error = listener.Listen(new Ipv4Address(_boundAddress), _boundPort, backlog < 1 ? 1 : backlog);
            if (error != TcpError.None)
            {
                if (_boundPort != 0) _owner.ClaimStreamPort(_boundPort);
                return InetSockets.FromTcp(error);
            }
            _boundPort = listener.LocalPort;
            _owner.ClaimStreamPort(_boundPort);
            _bound = true;
            _listener = listener;
            Attached();
            _owner.Attach(listener, this);
            return 0;
        }

        public override long Accept(out Socket accepted, byte* address, out int addressLength)
        {
            accepted = null;
            addressLength = 0;
            if (_listener == null) return -E.EINVAL;
            TcpConnection connection = _listener.Accept(out TcpError error);
            if (connection == null) return error == TcpError.WouldBlock ? -E.EAGAIN : InetSockets.FromTcp(error);
            accepted = new StreamSocket(_owner, connection);
            addressLength = WriteInet(address, connection.RemoteAddress.Value, connection.RemotePort);
            return 0;
        }

        public override long Connect(byte* address, int length, in SocketCaller caller)
        {
            if (_listener != null) return -E.EISCONN;
            long error = ReadInet(address, length, out uint remote, out int port);
            if (error < 0) return error;
            if (_connection == null)
            {
                TcpConnection connection = _owner.Tcp.CreateConnection();
                connection.Options = _options;
                if (_bound)
                {
                    _owner.ReleaseStreamPort(_boundPort); // the connection holds it from now on
                    connection.Bind(new Ipv4Address(_boundAddress), _boundPort);
                }
                _connection = connection;
                Attached();
                _owner.Attach(connection, this);
            }
            return InetSockets.FromTcp(_connection.Connect(new Ipv4Address(remote), port, Now));
        }

        public override long Send(byte* data, int length, int flags, byte* address, int addressLength, in SocketCaller caller)
        {
            if (_connection == null) return -E.EPIPE; // as Linux's tcp_sendmsg on a socket never connected
            return _connection.Send(new System.ReadOnlySpan<byte>(data, length), Now); // TcpError is numbered as errno (WouldBlock = EAGAIN)
        }

        public override long Receive(byte* data, int length, int flags, byte* address, out int addressLength)
        {
            addressLength = 0;
            if (_connection == null) return -E.ENOTCONN;
            return _connection.Receive(new System.Span<byte>(data, length), Now, (flags & LinuxSocket.MSG_PEEK) != 0);
        }

        public override long Shutdown(int how)
        {
            if (how < LinuxSocket.SHUT_RD || how > LinuxSocket.SHUT_RDWR) return -E.EINVAL;
            if (_connection == null) return -E.ENOTCONN;
            return InetSockets.FromTcp(_connection.Shutdown(how != LinuxSocket.SHUT_WR, how != LinuxSocket.SHUT_RD, Now));
        }

        public override long Name(bool peer, byte* address, out int addressLength)
        {
            addressLength = 0;
            if (peer)
            {
                if (_connection == null || _connection.State == TcpState.Closed || _connection.State == TcpState.SynSent) return -E.ENOTCONN;
                addressLength = WriteInet(address, _connection.RemoteAddress.Value, _connection.RemotePort);
                return 0;
            }
            if (_connection != null && _connection.LocalPort != 0)
                addressLength = WriteInet(address, _connection.LocalAddress.Value, _connection.LocalPort);
            else if (_listener != null)
                addressLength = WriteInet(address, _listener.LocalAddress.Value, _listener.LocalPort);
            else
                addressLength = WriteInet(address, _boundAddress, _boundPort);
            return 0;
        }

        public override long SetOption(int level, int name, byte* value, int length)
        {
            int number = InetSockets.ReadInt(value, length, out long error);
            if (level == LinuxSocket.SOL_SOCKET)
            {
                switch (name)
                {
                    case LinuxSocket.SO_REUSEADDR: if (error == 0) _options.ReuseAddress = number != 0; return error;
                    case LinuxSocket.SO_KEEPALIVE: if (error == 0) _options.KeepAlive = number != 0; return error;
                    case LinuxSocket.SO_RCVBUF: if (error == 0) _options.ReceiveBufferSize = Clamp(number); return error;
                    case LinuxSocket.SO_SNDBUF: if (error == 0) _options.SendBufferSize = Clamp(number); return error;
                    case LinuxSocket.SO_LINGER:
                        if (length < 8) return -E.EINVAL;
                        _options.Linger = ((int*)value)[0] != 0;
                        _options.LingerSeconds = ((int*)value)[1] < 0 ? 0 : ((int*)value)[1];
                        return 0;
                    case LinuxSocket.SO_REUSEPORT: case LinuxSocket.SO_OOBINLINE: case LinuxSocket.SO_DEBUG:
                    case LinuxSocket.SO_DONTROUTE: case LinuxSocket.SO_RCVLOWAT: case LinuxSocket.SO_SNDLOWAT:
                        return error; // accepted, no effect here
                    default: return -E.ENOPROTOOPT;
                }
            }
            if (level == LinuxSocket.IPPROTO_TCP)
            {
                switch (name)
                {
                    case LinuxSocket.TCP_NODELAY:
                        if (error != 0) return error;
                        _options.NoDelay = number != 0;
                        if (number != 0 && _connection != null) _connection.Push(Now); // as Linux: setting TCP_NODELAY pushes what waits
                        return 0;
                    case LinuxSocket.TCP_KEEPIDLE: if (error == 0) { if (number < 1) return -E.EINVAL; _options.KeepIdleMicros = number * 1_000_000L; } return error;
                    case LinuxSocket.TCP_KEEPINTVL: if (error == 0) { if (number < 1) return -E.EINVAL; _options.KeepIntervalMicros = number * 1_000_000L; } return error;
                    case LinuxSocket.TCP_KEEPCNT: if (error == 0) { if (number < 1) return -E.EINVAL; _options.KeepCount = number; } return error;
                    case LinuxSocket.TCP_CORK:
                        if (error != 0) return error;
                        if (number != 0) _options.Cork = true;
                        else if (_connection != null) _connection.Uncork(Now);
                        else _options.Cork = false;
                        return 0;
                    case LinuxSocket.TCP_QUICKACK: case LinuxSocket.TCP_DEFER_ACCEPT:
                    case LinuxSocket.TCP_FASTOPEN: case LinuxSocket.TCP_MAXSEG:
                        return error; // hints: accepted, no effect here
                    default: return -E.ENOPROTOOPT;
                }
            }
            if (level == LinuxSocket.IPPROTO_IP && (name == LinuxSocket.IP_TOS || name == LinuxSocket.IP_TTL)) return error;
            return -E.ENOPROTOOPT;
        }

        private static int Clamp(int bytes) => bytes < 4096 ? 4096 : bytes > Tcp.MaximumBufferBytes ? Tcp.MaximumBufferBytes : bytes;

        public override long GetOption(int level, int name, byte* value, int length, out int written)
        {
            written = 0;
            if (InetSockets.CommonOption(this, level, name, value, length, out long common, out written)) return common;
            if (level == LinuxSocket.SOL_SOCKET)
            {
                switch (name)
                {
                    case LinuxSocket.SO_ERROR:
                        return InetSockets.PutInt(value, length, _connection == null ? 0 : (int)_connection.TakeError(), out written);
                    case LinuxSocket.SO_ACCEPTCONN: return InetSockets.PutInt(value, length, _listener != null ? 1 : 0, out written);
                    case LinuxSocket.SO_REUSEADDR: return InetSockets.PutInt(value, length, _options.ReuseAddress ? 1 : 0, out written);
                    case LinuxSocket.SO_KEEPALIVE: return InetSockets.PutInt(value, length, _options.KeepAlive ? 1 : 0, out written);
                    case LinuxSocket.SO_RCVBUF: return InetSockets.PutInt(value, length, _options.ReceiveBufferSize, out written);
                    case LinuxSocket.SO_SNDBUF: return InetSockets.PutInt(value, length, _options.SendBufferSize, out written);
                    case LinuxSocket.SO_LINGER:
                        if (length < 8) return -E.EINVAL;
                        ((int*)value)[0] = _options.Linger ? 1 : 0;
                        ((int*)value)[1] = _options.LingerSeconds;
                        written = 8;
                        return 0;
                    default: return -E.ENOPROTOOPT;
                }
            }
            if (level == LinuxSocket.IPPROTO_TCP)
            {
                switch (name)
                {
                    case LinuxSocket.TCP_NODELAY: return InetSockets.PutInt(value, length, _options.NoDelay ? 1 : 0, out written);
                    case LinuxSocket.TCP_CORK: return InetSockets.PutInt(value, length, _options.Cork ? 1 : 0, out written);
                    case LinuxSocket.TCP_MAXSEG: return InetSockets.PutInt(value, length, _connection != null && _connection.SendMss > 0 ? _connection.SendMss : 536, out written);
                    case LinuxSocket.TCP_KEEPIDLE: return InetSockets.PutInt(value, length, (int)(_options.KeepIdleMicros / 1_000_000), out written);
                    case LinuxSocket.TCP_KEEPINTVL: return InetSockets.PutInt(value, length, (int)(_options.KeepIntervalMicros / 1_000_000), out written);
                    case LinuxSocket.TCP_KEEPCNT: return InetSockets.PutInt(value, length, _options.KeepCount, out written);
                    default: return -E.ENOPROTOOPT;
                }
            }
            return -E.ENOPROTOOPT;
        }

        public override short Poll()
        {
            if (_listener != null) return _listener.Pending > 0 ? POLLIN : (short)0;
            if (_connection == null) return (short)(POLLOUT | POLLHUP); // never connected (Linux's TCP_CLOSE)
            return (short)(int)_connection.Readiness;
        }

        public override long ReadableBytes => _connection != null ? _connection.ReceiveAvailable : 0;

        /// <summary>TcpConnection.Receive's WouldBlock: a connection not closed with nothing readable and no error.</summary>
        public override bool ReceiveWouldWait =>
            _connection != null && _listener == null && _connection.State != TcpState.Closed
            && (_connection.Readiness & (TcpReadiness.Readable | TcpReadiness.Error)) == 0;

        public override int PeekForLending(byte* data, int length)
        {
            if (_connection == null || _listener != null) return 0;
            int n = _connection.Receive(new System.Span<byte>(data, length), Now, peek: true);
            return n > 0 ? n : 0;
        }

        public override void DropLent(int bytes)
        {
            if (_connection != null) _connection.Discard(bytes, Now);
        }

        public override void BeyondLent(int lent, ref short revents, ref bool empty)
        {
            if (_connection == null || lent <= 0 || _connection.ReceiveAvailable > lent || _connection.ReadableWithoutData) return;
            revents &= ~POLLIN;
            empty = _connection.State != TcpState.Closed;
        }

        /// <summary>TcpConnection.Send takes every byte: established (or the peer closed its side),
        /// no error pending, the room there.</summary>
        public override bool SendTakes(int bytes) =>
            _connection != null && (_connection.State == TcpState.Established || _connection.State == TcpState.CloseWait)
            && _connection.PendingError == TcpError.None && _connection.SendFree >= bytes;

        /// <summary>The bytes HandOver writes, or -1 when this is no connection that can move
        /// (a listener, never connected, closed, handed over already).</summary>
        public int HandOverSize => _closed || _connection == null || _listener != null || !_connection.CanHandOver ? -1 : _connection.HandoverBytes;

        /// <summary>The connection's record (TcpConnection.HandOver) into record, and this socket
        /// closed without a word to the peer: the connection now runs where the record goes. The
        /// record's length, or -EINVAL (HandOverSize is -1) / -ENOBUFS (record too short), nothing changed.</summary>
        public long HandOver(System.Span<byte> record)
        {
            if (HandOverSize < 0) return -E.EINVAL;
            int written = _connection.HandOver(record, Now);
            if (written < 0) return written == -(int)TcpError.NoBufferSpace ? -E.ENOBUFS : -E.EINVAL;
            _closed = true;
            Attached();
            _owner.Detach(_connection, null);
            return written;
        }

        /// <summary>A listener's Enqueue (TcpListener.Enqueue): a connection its stack took over, which
        /// waited in a process's twin of this listener, joins its queue; false (reset, or not a
        /// listener: left as it is) when it cannot.</summary>
        /// <summary>Whether this socket is the listener a handshake in progress belongs to.</summary>
        public bool IsListenerOf(TcpConnection connection) => _listener != null && _listener.OwnsHandshake(connection);

        public bool Enqueue(TcpConnection connection)
        {
            if (_closed || _listener == null) { if (connection != null && connection.State != TcpState.Closed) connection.Abort(Now); return false; }
            return _listener.Enqueue(connection, Now);
        }

        /// <summary>The four-tuple (host-order address values), for the filter that follows a connection.</summary>
        public bool Tuple(out uint local, out int localPort, out uint remote, out int remotePort)
        {
            local = remote = 0;
            localPort = remotePort = 0;
            if (_connection == null || _listener != null) return false;
            local = _connection.LocalAddress.Value; localPort = _connection.LocalPort;
            remote = _connection.RemoteAddress.Value; remotePort = _connection.RemotePort;
            return true;
        }

        /// <summary>A listener's address (host-order value; 0: any) and port; false for anything else.</summary>
        public bool Listening(out uint address, out int port)
        {
            address = 0;
            port = 0;
            if (_closed || _listener == null) return false;
            address = _listener.LocalAddress.Value;
            port = _listener.LocalPort;
            return true;
        }

        /// <summary>The connection (null: a listener, or never connected).</summary>
        public TcpConnection Connection => _connection;

        /// <summary>The stack this socket lives in.</summary>
        public InetSockets Owner => _owner;

        public override void Close()
        {
            if (_closed) return;
            _closed = true;
            long now = Now;
            Attached();
            _owner.Detach(_connection, _listener);
            if (_listener != null) _listener.Close(now);
            if (_connection != null) _connection.Close(now);
            // The port: claimed by bind() until connect handed it to the connection (then Tcp keeps
            // it until the connection is gone), or by the listener until now.
            if (_connection == null) _owner.ReleaseStreamPort(_boundPort);
        }
    }

    /// <summary>SOCK_DGRAM: a UdpSocket.</summary>
    public sealed unsafe class DatagramSocket : Socket
    {
        private const short POLLIN = 0x1, POLLOUT = 0x4, POLLERR = 0x8;
        private readonly InetSockets _owner;
        private readonly UdpSocket _udp;
        private bool _closed;

        internal DatagramSocket(InetSockets owner, UdpSocket udp) : base(LinuxSocket.AF_INET, LinuxSocket.SOCK_DGRAM, LinuxSocket.IPPROTO_UDP)
        {
            _owner = owner; _udp = udp;
        }

        private static long FromUdp(UdpError error)
        {
            switch (error)
            {
                case UdpError.None: return 0;
                case UdpError.AddressInUse: return -E.EADDRINUSE;
                case UdpError.NoEphemeralPort: return -E.EAGAIN;
                case UdpError.AlreadyBound: return -E.EINVAL;
                case UdpError.Closed: return -E.EBADF;
                case UdpError.MessageTooBig: return -E.EMSGSIZE;
                case UdpError.NoRoute: return -E.ENETUNREACH;
                case UdpError.NotConnected: return -E.EDESTADDRREQ;
                default: return -E.EINVAL;
            }
        }

        public override long Bind(byte* address, int length, in SocketCaller caller)
        {
            long error = ReadInet(address, length, out uint local, out int port);
            if (error < 0) return error;
            if ((error = _owner.CheckLocal(local)) < 0) return error;
            return FromUdp(_udp.Bind(port, new Ipv4Address(local)));
        }

        public override long Listen(int backlog, in SocketCaller caller) => -E.EOPNOTSUPP;

        public override long Accept(out Socket accepted, byte* address, out int addressLength)
        {
            accepted = null; addressLength = 0;
            return -E.EOPNOTSUPP;
        }

        public override long Connect(byte* address, int length, in SocketCaller caller)
        {
            if (length >= 2 && *(ushort*)address == LinuxSocket.AF_UNSPEC) return FromUdp(_udp.Connect(Ipv4Address.Any, 0)); // dissolve
            long error = ReadInet(address, length, out uint remote, out int port);
            if (error < 0) return error;
            if (!_udp.IsBound && (error = FromUdp(_udp.Bind(0))) < 0) return error;
            return FromUdp(_udp.Connect(new Ipv4Address(remote), (ushort)port));
        }

        public override long Send(byte* data, int length, int flags, byte* address, int addressLength, in SocketCaller caller)
        {
            var payload = new System.ReadOnlySpan<byte>(data, length);
            if (address == null)
            {
                if (!_udp.IsConnected) return -E.EDESTADDRREQ;
                long failed = FromUdp(_udp.Send(payload));
                return failed < 0 ? failed : length;
            }
            long error = ReadInet(address, addressLength, out uint remote, out int port);
            if (error < 0) return error;
            error = FromUdp(_udp.SendTo(new Ipv4Address(remote), (ushort)port, payload));
            return error < 0 ? error : length;
        }

        public override long Receive(byte* data, int length, int flags, byte* address, out int addressLength)
        {
            addressLength = 0;
            if (_udp.PendingError != UdpSocketError.None)
            {
                UdpSocketError pending = _udp.TakeError();
                return pending == UdpSocketError.ConnectionRefused ? -E.ECONNREFUSED : -E.EHOSTUNREACH;
            }
            if (_udp.QueuedDatagrams == 0) return -E.EAGAIN;
            bool peek = (flags & LinuxSocket.MSG_PEEK) != 0; // the datagram stays: the next receive gets it again
            int full = _udp.TryReceive(new System.Span<byte>(data, length), out Ipv4Address source, out ushort sourcePort, peek);
            if (address != null) addressLength = WriteInet(address, source.Value, sourcePort);
            return (flags & LinuxSocket.MSG_TRUNC) != 0 ? full : (full < length ? full : length);
        }

        public override long Shutdown(int how) => how < 0 || how > 2 ? -E.EINVAL : _udp.IsConnected ? 0 : -E.ENOTCONN;

        public override long Name(bool peer, byte* address, out int addressLength)
        {
            addressLength = 0;
            if (peer)
            {
                if (!_udp.IsConnected) return -E.ENOTCONN;
                addressLength = WriteInet(address, _udp.RemoteAddress.Value, _udp.RemotePort);
                return 0;
            }
            addressLength = WriteInet(address, _udp.LocalAddress.Value, _udp.LocalPort);
            return 0;
        }

        public override long SetOption(int level, int name, byte* value, int length)
        {
            InetSockets.ReadInt(value, length, out long error);
            if (level == LinuxSocket.SOL_SOCKET)
            {
                switch (name)
                {
                    case LinuxSocket.SO_REUSEADDR: case LinuxSocket.SO_BROADCAST: case LinuxSocket.SO_RCVBUF: case LinuxSocket.SO_SNDBUF:
                    case LinuxSocket.SO_REUSEPORT: case LinuxSocket.SO_KEEPALIVE:
                        return error;
                    default: return -E.ENOPROTOOPT;
                }
            }
            if (level == LinuxSocket.IPPROTO_IP) return error; // IP_TOS, IP_TTL, IP_RECVERR...: accepted
            return -E.ENOPROTOOPT;
        }

        public override long GetOption(int level, int name, byte* value, int length, out int written)
        {
            if (InetSockets.CommonOption(this, level, name, value, length, out long common, out written)) return common;
            if (level == LinuxSocket.SOL_SOCKET && name == LinuxSocket.SO_ERROR)
            {
                UdpSocketError pending = _udp.TakeError();
                int errno = pending == UdpSocketError.None ? 0 : pending == UdpSocketError.ConnectionRefused ? E.ECONNREFUSED : E.EHOSTUNREACH;
                return InetSockets.PutInt(value, length, errno, out written);
            }
            if (level == LinuxSocket.SOL_SOCKET && (name == LinuxSocket.SO_RCVBUF || name == LinuxSocket.SO_SNDBUF))
                return InetSockets.PutInt(value, length, _udp.ReceiveCapacity, out written);
            return -E.ENOPROTOOPT;
        }

        public override short Poll()
        {
            short ready = POLLOUT;
            if (_udp.Readable) ready |= POLLIN;
            if (_udp.PendingError != UdpSocketError.None) ready |= POLLERR;
            return ready;
        }

        public override long ReadableBytes => _udp.NextDatagramLength < 0 ? 0 : _udp.NextDatagramLength;

        public override void Close()
        {
            if (_closed) return;
            _closed = true;
            _owner.Detach(_udp);
            _udp.Close();
        }
    }
}
