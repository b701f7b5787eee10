// One AF_UNIX socket as the file server keeps it (unix(7); UnixSockets.cs has the provider, the
// names and the model). SOCK_STREAM and SOCK_SEQPACKET connect, listen and accept; SOCK_DGRAM
// sends to a name or to the socket it connected to. Every answer follows Linux's af_unix.c: the
// errno for each case and the order in which the cases are checked, poll's bits (unix_poll,
// unix_dgram_poll), and the option values getsockopt reports. Pure logic; compiles under the real
// .NET.
//
// State: a stream or seqpacket socket is unconnected, listening (_pending holds the server ends of
// connections not yet accepted) or connected (_peer: the other end, kept after it closes). A
// datagram socket's _peer is the socket connect named (null: none). _readShut and _writeShut are
// Linux's sk_shutdown bits: set by shutdown(2) here or at the other end (a stream's), and both by
// the other end's close. _error is sk_err (ECONNRESET), taken by the next read or SO_ERROR.
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public sealed unsafe class UnixSocket : Socket
    {
        private const short POLLIN = 0x1, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLRDNORM = 0x40,
            POLLWRNORM = 0x100, POLLWRBAND = 0x200, POLLRDHUP = 0x2000;
        private enum Connection : byte { None, Listening, Connected }

        private readonly UnixSockets _owner;
        private Connection _state;
        private UnixSocket _peer;
        private readonly UnixQueue _incoming = new UnixQueue();
        private Queue<UnixSocket> _pending;
        private int _backlog;
        private List<UnixSocket> _roomWaiters;
        private bool _readShut, _writeShut, _closed;
        /// <summary>A connection's server end not yet accepted (its close resets the client).</summary>
        private bool _embryo;
        private int _error;
        private int _sendBuffer = UnixSockets.DefaultBuffer, _receiveBuffer = UnixSockets.DefaultBuffer, _receiveLowWater = 1;
        private UnixCredentials _peerCredentials = UnixCredentials.None, _listenCredentials;
        /// <summary>The boolean SOL_SOCKET options set (bit n: option n).</summary>
        private ulong _switches;
        private int _lingerOn, _lingerSeconds;

        /// <summary>The bound name (null: none); an accepted socket shares its listener's.</summary>
        internal UnixName BoundName;
        /// <summary>Whether BoundName is this socket's own binding (UnixSockets maps it back here).</summary>
        internal bool OwnsName;
        internal ulong AbstractKey;
        internal UnixSocket NextSameKey;
        /// <summary>Bytes (and message overheads) this socket sent that their receivers have not read.</summary>
        internal int InFlight;

        /// <summary>What the last read took off the queue besides bytes (the server hands it on and clears it):
        /// the descriptions passed with it (SCM_RIGHTS) and the sending process's pid (SCM_CREDENTIALS).</summary>
        internal OpenFile[] ReceivedRights;
        internal int ReceivedPid;

        internal UnixSocket(UnixSockets owner, int type) : base(LinuxSocket.AF_UNIX, type, 0)
        {
            _owner = owner;
            owner.Open++;
        }

        private bool ConnectionOriented => Type != LinuxSocket.SOCK_DGRAM;
        /// <summary>SO_PASSCRED: reads report the sender's credentials.</summary>
        internal bool PassCredentials => (_switches & (1UL << LinuxSocket.SO_PASSCRED)) != 0;

        /// <summary>socketpair: this and other become each other's peer, with credentials as both peers'.</summary>
        internal void Join(UnixSocket other, UnixCredentials credentials)
        {
            _peer = other;
            other._peer = this;
            if (ConnectionOriented) _state = other._state = Connection.Connected;
            _peerCredentials = other._peerCredentials = credentials;
        }

        public override long Bind(byte* address, int length, in SocketCaller caller) => _owner.Bind(this, address, length, caller);

        public override long Listen(int backlog, in SocketCaller caller)
        {
            if (!ConnectionOriented) return -Errno.EOPNOTSUPP;
            if (BoundName == null || _state == Connection.Connected) return -Errno.EINVAL;
            if ((uint)backlog > UnixSockets.MaximumBacklog) backlog = UnixSockets.MaximumBacklog; // as listen(2) caps it (a negative one too)
            if (_state == Connection.Listening)
            {
                if (backlog > _backlog) WakeRoomWaiters();
                _backlog = backlog;
                return 0;
            }
            _state = Connection.Listening;
            _backlog = backlog;
            _pending = new Queue<UnixSocket>();
            _listenCredentials = _peerCredentials = UnixCredentials.Of(caller);
            _owner.Changed(this);
            return 0;
        }

        public override long Accept(out Socket accepted, byte* address, out int addressLength)
        {
            accepted = null;
            addressLength = 0;
            if (!ConnectionOriented) return -Errno.EOPNOTSUPP;
            if (_state != Connection.Listening) return -Errno.EINVAL;
            if (_pending.Count == 0) return -Errno.EAGAIN;
            UnixSocket socket = _pending.Dequeue();
            socket._embryo = false;
            WakeRoomWaiters(); // a connect waiting for room in the backlog
            addressLength = socket._peer.WriteName(address);
            accepted = socket;
            return 0;
        }

        public override long Connect(byte* address, int length, in SocketCaller caller)
        {
            if (!ConnectionOriented) return ConnectDatagram(address, length, caller);
            long error = UnixSockets.Validate(address, length);
            if (error < 0) return error;
            if (PassCredentials && BoundName == null && (error = _owner.Autobind(this)) < 0) return error;
            if ((error = _owner.Find(address, length, Type, caller, out UnixSocket listener)) < 0) return error;
            if (listener._state != Connection.Listening || listener._readShut) return -Errno.ECONNREFUSED;
            if (listener._pending.Count > listener._backlog)
            {
                listener.WaitForRoom(this);
                return -Errno.EAGAIN;
            }
            if (_state == Connection.Connected) return -Errno.EISCONN;
            if (_state == Connection.Listening) return -Errno.EINVAL;
            var server = new UnixSocket(_owner, Type) { BoundName = listener.BoundName, _embryo = true, _state = Connection.Connected };
            server._peer = this;
            server._peerCredentials = UnixCredentials.Of(caller);
            _peer = server;
            _state = Connection.Connected;
            _peerCredentials = listener._listenCredentials;
            listener._pending.Enqueue(server);
            _owner.Changed(listener);
            _owner.Changed(this);
            return 0;
        }

        private long ConnectDatagram(byte* address, int length, in SocketCaller caller)
        {
            if (address == null || length < 2) return -Errno.EINVAL;
            if (*(ushort*)address == LinuxSocket.AF_UNSPEC)
            {
                _peer = null; // dissolves the association
                _owner.Changed(this);
                return 0;
            }
            long error = UnixSockets.Validate(address, length);
            if (error < 0) return error;
            if (PassCredentials && BoundName == null && (error = _owner.Autobind(this)) < 0) return error;
            if ((error = _owner.Find(address, length, Type, caller, out UnixSocket other)) < 0) return error;
            if (other._peer != null && other._peer != this) return -Errno.EPERM; // it talks only to its own peer
            _peer = other;
            _owner.Changed(this);
            return 0;
        }

        public override long Send(byte* data, int length, int flags, byte* address, int addressLength, in SocketCaller caller)
        {
            OpenFile[] none = null;
            return Send(data, length, flags, address, addressLength, caller, ref none);
        }

        /// <summary>sendmsg with descriptions to pass (SCM_RIGHTS; each holds a reference): when the
        /// message is queued they go with it (rights becomes null); otherwise the caller keeps them.</summary>
        internal long Send(byte* data, int length, int flags, byte* address, int addressLength, in SocketCaller caller, ref OpenFile[] rights)
        {
            if ((flags & LinuxSocket.MSG_OOB) != 0) return -Errno.EOPNOTSUPP; // no out-of-band data
            bool named = address != null && addressLength > 0;
            if (Type == LinuxSocket.SOCK_STREAM)
            {
                if (named) return _state == Connection.Connected ? -Errno.EISCONN : -Errno.EOPNOTSUPP;
                if (_state != Connection.Connected) return -Errno.ENOTCONN;
                if (_writeShut) return -Errno.EPIPE;
                if (length == 0) return 0;
                UnixSocket other = _peer;
                if (other._closed || other._readShut) return -Errno.EPIPE;
                int room = _sendBuffer - InFlight;
                if (room <= 0) return -Errno.EAGAIN;
                int count = length < room ? length : room;
                other._incoming.Append(data, count, this, (int)caller.Process, count, rights, true);
                rights = null;
                InFlight += count;
                _owner.Changed(other);
                return count;
            }
            if (Type == LinuxSocket.SOCK_SEQPACKET)
            {
                if (_state != Connection.Connected) return -Errno.ENOTCONN;
                named = false; // a connected packet socket ignores an address, as Linux's
            }
            else if (named)
            {
                long invalid = UnixSockets.Validate(address, addressLength);
                if (invalid < 0) return invalid;
            }
            else if (_peer == null) return -Errno.ENOTCONN;
            long error;
            if (PassCredentials && BoundName == null && (error = _owner.Autobind(this)) < 0) return error;
            if (length > _sendBuffer - 32) return -Errno.EMSGSIZE;
            if (_writeShut) return -Errno.EPIPE;
            if (InFlight >= _sendBuffer) return -Errno.EAGAIN;
            UnixSocket target = _peer;
            if (named && (error = _owner.Find(address, addressLength, Type, caller, out target)) < 0) return error;
            if (target._peer != null && target._peer != this) return -Errno.EPERM;
            if (target._closed)
            {
                if (Type == LinuxSocket.SOCK_SEQPACKET) return -Errno.EPIPE;
                if (_peer == target) _peer = null; // the association ends with the refusal
                return -Errno.ECONNREFUSED;
            }
            if (target._readShut) return -Errno.EPIPE;
            if (target._peer != this && target._incoming.Count > UnixSockets.MaximumDatagramQueue)
            {
                target.WaitForRoom(this);
                return -Errno.EAGAIN;
            }
            int cost = length + UnixSockets.MessageOverhead;
            target._incoming.Append(data, length, this, (int)caller.Process, cost, rights, false);
            rights = null;
            InFlight += cost;
            _owner.Changed(target);
            return length;
        }

        public override long Receive(byte* data, int length, int flags, byte* address, out int addressLength)
        {
            addressLength = 0;
            ReceivedPid = 0;
            if (Type == LinuxSocket.SOCK_STREAM)
            {
                if ((flags & LinuxSocket.MSG_OOB) != 0) return -Errno.EINVAL; // no out-of-band byte waits
                if (_state != Connection.Connected) return -Errno.EINVAL;
            }
            else
            {
                if ((flags & LinuxSocket.MSG_OOB) != 0) return -Errno.EOPNOTSUPP;
                if (Type == LinuxSocket.SOCK_SEQPACKET && _state != Connection.Connected) return -Errno.ENOTCONN;
            }
            if (_incoming.IsEmpty)
            {
                if (_error != 0)
                {
                    int error = _error;
                    _error = 0;
                    return -error;
                }
                if (!_readShut) return -Errno.EAGAIN;
                // The end of a stream or of a packet connection; a datagram socket shut for reading
                // answers 0 to a blocking read only.
                return Type == LinuxSocket.SOCK_DGRAM && (flags & LinuxSocket.MSG_DONTWAIT) != 0 ? -Errno.EAGAIN : 0;
            }
            bool peek = (flags & LinuxSocket.MSG_PEEK) != 0;
            if (address != null) addressLength = _incoming.Head.Sender.WriteSenderName(address);
            ReceivedPid = _incoming.Head.Pid;
            if (Type == LinuxSocket.SOCK_STREAM)
            {
                if (peek)
                {
                    int seen = length < _incoming.Bytes ? length : _incoming.Bytes;
                    _incoming.CopyOut(0, data, seen);
                    return seen;
                }
                // Records are read on until the buffer is full, after one that carried descriptions,
                // or (SO_PASSCRED) before another process's.
                int copied = 0;
                while (copied < length && !_incoming.IsEmpty)
                {
                    if (copied > 0 && PassCredentials && _incoming.Head.Pid != ReceivedPid) break;
                    int piece = _incoming.Head.Length < length - copied ? _incoming.Head.Length : length - copied;
                    _incoming.CopyOut(0, data + copied, piece);
                    Credit(_incoming.ConsumeHead(piece, out int credit, out OpenFile[] rights), credit);
                    copied += piece;
                    if (rights != null)
                    {
                        ReceivedRights = rights;
                        break;
                    }
                }
                return copied;
            }
            int whole = _incoming.Head.Length, count = length < whole ? length : whole;
            _incoming.CopyOut(0, data, count);
            if (!peek)
            {
                Credit(_incoming.ConsumeHead(whole, out int credit, out ReceivedRights), credit);
                if (_incoming.Count <= UnixSockets.MaximumDatagramQueue) WakeRoomWaiters();
            }
            return (flags & LinuxSocket.MSG_TRUNC) != 0 ? whole : count;
        }

        /// <summary>A receiver read (or dropped) what sender queued: its send buffer has room again.</summary>
        private void Credit(UnixSocket sender, int credit)
        {
            if (sender == null || credit == 0) return;
            sender.InFlight -= credit;
            if (!sender._closed && sender.InFlight * 4 <= sender._sendBuffer) _owner.Changed(sender); // Linux's unix_write_space
        }

        /// <summary>sender found no room here (a full backlog or datagram queue): it is changed when room comes.</summary>
        private void WaitForRoom(UnixSocket sender)
        {
            if (_roomWaiters == null) _roomWaiters = new List<UnixSocket>();
            if (!_roomWaiters.Contains(sender)) _roomWaiters.Add(sender);
        }

        private void WakeRoomWaiters()
        {
            if (_roomWaiters == null || _roomWaiters.Count == 0) return;
            for (int i = 0; i < _roomWaiters.Count; i++)
                if (!_roomWaiters[i]._closed) _owner.Changed(_roomWaiters[i]);
            _roomWaiters.Clear();
        }

        public override long Shutdown(int how)
        {
            if (how < LinuxSocket.SHUT_RD || how > LinuxSocket.SHUT_RDWR) return -Errno.EINVAL;
            bool read = how != LinuxSocket.SHUT_WR, write = how != LinuxSocket.SHUT_RD;
            if (read) _readShut = true;
            if (write) _writeShut = true;
            _owner.Changed(this);
            if (ConnectionOriented && _state == Connection.Connected)
            {
                if (read) _peer._writeShut = true;
                if (write) _peer._readShut = true;
                _owner.Changed(_peer);
            }
            return 0;
        }

        public override long Name(bool peer, byte* address, out int addressLength)
        {
            addressLength = 0;
            UnixSocket named = this;
            if (peer)
            {
                if (_peer == null) return -Errno.ENOTCONN;
                named = _peer;
            }
            addressLength = named.WriteName(address);
            return 0;
        }

        /// <summary>getsockname's bytes: the name, or the family alone (2 bytes) for an unnamed socket.</summary>
        private int WriteName(byte* to)
        {
            if (BoundName == null)
            {
                *(ushort*)to = LinuxSocket.AF_UNIX;
                return 2;
            }
            return WriteSenderName(to);
        }

        /// <summary>recvfrom's bytes: the sender's name, or nothing (0) for an unnamed one.</summary>
        private int WriteSenderName(byte* to)
        {
            if (BoundName == null) return 0;
            byte[] bytes = BoundName.Bytes;
            for (int i = 0; i < bytes.Length; i++) to[i] = bytes[i];
            return bytes.Length;
        }

        public override long SetOption(int level, int name, byte* value, int length)
        {
            if (level != LinuxSocket.SOL_SOCKET) return -Errno.EOPNOTSUPP; // AF_UNIX has no protocol level
            if (value == null || length < 4) return -Errno.EINVAL;
            int number = *(int*)value;
            switch (name)
            {
                // The *FORCE forms are capped too: the bytes in flight live in the server, which serves everyone.
                case LinuxSocket.SO_SNDBUF: case LinuxSocket.SO_SNDBUFFORCE:
                    _sendBuffer = BufferSize(number, UnixSockets.MinimumSendBuffer);
                    _owner.Changed(this); // writable may have changed
                    return 0;
                case LinuxSocket.SO_RCVBUF: case LinuxSocket.SO_RCVBUFFORCE:
                    _receiveBuffer = BufferSize(number, UnixSockets.MinimumReceiveBuffer);
                    return 0;
                case LinuxSocket.SO_DEBUG: case LinuxSocket.SO_REUSEADDR: case LinuxSocket.SO_DONTROUTE: case LinuxSocket.SO_BROADCAST:
                case LinuxSocket.SO_KEEPALIVE: case LinuxSocket.SO_OOBINLINE: case LinuxSocket.SO_REUSEPORT: case LinuxSocket.SO_PASSCRED:
                case LinuxSocket.SO_PASSSEC:
                    if (number != 0) _switches |= 1UL << name;
                    else _switches &= ~(1UL << name);
                    return 0;
                case LinuxSocket.SO_RCVLOWAT:
                    _receiveLowWater = number < 1 ? 1 : number; // kept; reads return what is there, as Linux's unix sockets
                    return 0;
                case LinuxSocket.SO_LINGER:
                    if (length < 8) return -Errno.EINVAL;
                    _lingerOn = number != 0 ? 1 : 0;
                    _lingerSeconds = ((int*)value)[1];
                    return 0;
                case LinuxSocket.SO_RCVTIMEO: case LinuxSocket.SO_SNDTIMEO:
                    return SetTimeout(name == LinuxSocket.SO_SNDTIMEO, value, length); // Socket's: the process's wait measures it
                default:
                    return -Errno.ENOPROTOOPT;
            }
        }

        /// <summary>setsockopt's buffer sizes: doubled, capped by wmem_max/rmem_max, at least the floor.</summary>
        private static int BufferSize(int requested, int floor)
        {
            uint value = (uint)requested;
            if (value > UnixSockets.MaximumBuffer / 2) value = UnixSockets.MaximumBuffer / 2;
            int doubled = (int)value * 2;
            return doubled < floor ? floor : doubled;
        }

        public override long GetOption(int level, int name, byte* value, int length, out int written)
        {
            written = 0;
            if (level != LinuxSocket.SOL_SOCKET) return -Errno.EOPNOTSUPP;
            if (length < 0) return -Errno.EINVAL;
            long* scratch = stackalloc long[2];
            byte* bytes = (byte*)scratch;
            int size = 4;
            switch (name)
            {
                case LinuxSocket.SO_TYPE: *(int*)bytes = Type; break;
                case LinuxSocket.SO_DOMAIN: *(int*)bytes = LinuxSocket.AF_UNIX; break;
                case LinuxSocket.SO_PROTOCOL: *(int*)bytes = 0; break;
                case LinuxSocket.SO_ACCEPTCONN: *(int*)bytes = _state == Connection.Listening ? 1 : 0; break;
                case LinuxSocket.SO_ERROR: *(int*)bytes = _error; _error = 0; break;
                case LinuxSocket.SO_SNDBUF: *(int*)bytes = _sendBuffer; break;
                case LinuxSocket.SO_RCVBUF: *(int*)bytes = _receiveBuffer; break;
                case LinuxSocket.SO_RCVLOWAT: *(int*)bytes = _receiveLowWater; break;
                case LinuxSocket.SO_SNDLOWAT: *(int*)bytes = 1; break;
                case LinuxSocket.SO_DEBUG: case LinuxSocket.SO_REUSEADDR: case LinuxSocket.SO_DONTROUTE: case LinuxSocket.SO_BROADCAST:
                case LinuxSocket.SO_KEEPALIVE: case LinuxSocket.SO_OOBINLINE: case LinuxSocket.SO_REUSEPORT: case LinuxSocket.SO_PASSCRED:
                case LinuxSocket.SO_PASSSEC:
                    *(int*)bytes = (_switches & (1UL << name)) != 0 ? 1 : 0;
                    break;
                case LinuxSocket.SO_PEERCRED:
                    ((int*)bytes)[0] = _peerCredentials.Pid;
                    ((uint*)bytes)[1] = _peerCredentials.Uid;
                    ((uint*)bytes)[2] = _peerCredentials.Gid;
                    size = 12;
                    break;
                case LinuxSocket.SO_LINGER:
                    ((int*)bytes)[0] = _lingerOn;
                    ((int*)bytes)[1] = _lingerSeconds;
                    size = 8;
                    break;
                case LinuxSocket.SO_RCVTIMEO: case LinuxSocket.SO_SNDTIMEO:
                    return GetTimeout(name == LinuxSocket.SO_SNDTIMEO, value, length, out written);
                default:
                    return -Errno.ENOPROTOOPT; // SO_PEERSEC among them: no security module
            }
            written = length < size ? length : size; // a short buffer gets the first bytes, as Linux's
            for (int i = 0; i < written; i++) value[i] = bytes[i];
            return 0;
        }

        public override short Poll()
        {
            short mask = 0;
            if (_error != 0) mask |= POLLERR;
            if (_readShut && _writeShut) mask |= POLLHUP;
            if (_readShut) mask |= POLLRDHUP | POLLIN | POLLRDNORM;
            if (_state == Connection.Listening ? _pending.Count > 0 : !_incoming.IsEmpty) mask |= POLLIN | POLLRDNORM;
            if (ConnectionOriented && _state == Connection.None) mask |= POLLHUP; // no connection yet (or ever)
            bool writable = _state != Connection.Listening && InFlight * 4 <= _sendBuffer;
            if (writable && !ConnectionOriented && _peer != null && _peer._peer != this && _peer._incoming.Count > UnixSockets.MaximumDatagramQueue)
            {
                writable = false;
                _peer.WaitForRoom(this); // its next read changes this socket (Linux's unix_dgram_peer_wake_me)
            }
            if (writable) mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
            return mask;
        }

        public override long ReadableBytes
        {
            get
            {
                if (_state == Connection.Listening) return -Errno.EINVAL;
                if (Type == LinuxSocket.SOCK_STREAM) return _incoming.Bytes;
                return _incoming.IsEmpty ? 0 : _incoming.Head.Length;
            }
        }

        public override void Close()
        {
            if (_closed) return;
            _closed = true;
            _owner.Open--;
            _owner.Unregister(this);
            _readShut = _writeShut = true;
            bool unread = !_incoming.IsEmpty;
            while (!_incoming.IsEmpty)
            {
                Credit(_incoming.ConsumeHead(int.MaxValue, out int credit, out OpenFile[] rights), credit);
                _owner.Drop(rights); // descriptions in flight to nobody: closed (they may be sockets: their close runs now)
            }
            _incoming.Trim();
            UnixSocket peer = _peer;
            if (peer != null && ConnectionOriented && peer._peer == this)
            {
                peer._readShut = peer._writeShut = true;
                if (unread || _embryo) peer._error = Errno.ECONNRESET; // it sent what nobody will read
                _owner.Changed(peer);
            }
            if (_pending != null)
                while (_pending.Count > 0) _pending.Dequeue().Close(); // connections never accepted: their clients are reset
            WakeRoomWaiters();
            _peer = null;
        }
    }
}
