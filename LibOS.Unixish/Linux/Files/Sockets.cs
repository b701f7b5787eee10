// Sockets as the file server keeps them (docs/libos-unixish.md, "Sockets"): a socket is a server
// description whose inode is a SocketNode; what it does is a Socket, made by the server's
// ISocketProviders: InetSockets (Linux/Net/InetSockets.cs: TCP and UDP over LibOS.Net, when the
// server has a network) and UnixSockets (UnixSockets.cs: AF_UNIX, always). The process holds a
// RemoteSocket proxy (VfsClient.cs) and reaches it with the socket operations of VfsProtocol.
// Pure logic; compiles under the real .NET.
//
// Blocking without spinning: the server never blocks. A call on a blocking description that
// cannot go on now answers VfsProtocol.Blocked after recording the caller among the socket's
// waiters (Watch); the next change of the socket's readiness wakes every waiter once (the
// provider lists changed sockets; the server's loop sends each waiter a wake message) and the
// waiters are forgotten. The caller Waits and calls again. poll/select record themselves the
// same way (VfsProtocol.Poll with its watch bit) before they sleep. No wakeup is lost: the record
// is made in the same call that found the socket not ready, and a wake message sent before the
// caller reaches its Wait stays pending in the kernel (asynchronous delivery).
// Invariants: Watchers holds at most MaximumWatchers distinct environment ids. A caller that
// finds the table full is told VfsProtocol.BlockedUnwatched instead: it yields and calls again
// (it spins, as a poll on a shared pipe with every poller slot taken does), so nobody sleeps
// unrecorded. Errno.EAGAIN is the only "not now" a Socket gives.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    /// <summary>Linux's socket constants (socket(2), socket(7), tcp(7), ip(7)).</summary>
    public static class LinuxSocket
    {
        public const int AF_UNSPEC = 0, AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16;
        public const int SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_SEQPACKET = 5, SOCK_TYPE_MASK = 0xF;
        public const int SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
        public const int IPPROTO_IP = 0, IPPROTO_TCP = 6, IPPROTO_UDP = 17;
        public const int SOL_SOCKET = 1;
        public const int SO_DEBUG = 1, SO_REUSEADDR = 2, SO_TYPE = 3, SO_ERROR = 4, SO_DONTROUTE = 5, SO_BROADCAST = 6,
            SO_SNDBUF = 7, SO_RCVBUF = 8, SO_KEEPALIVE = 9, SO_OOBINLINE = 10, SO_LINGER = 13, SO_REUSEPORT = 15,
            SO_PASSCRED = 16, SO_PEERCRED = 17, SO_RCVLOWAT = 18, SO_SNDLOWAT = 19, SO_RCVTIMEO = 20, SO_SNDTIMEO = 21,
            SO_ACCEPTCONN = 30, SO_PEERSEC = 31, SO_SNDBUFFORCE = 32, SO_RCVBUFFORCE = 33, SO_PASSSEC = 34,
            SO_PROTOCOL = 38, SO_DOMAIN = 39, SO_RCVTIMEO_NEW = 66, SO_SNDTIMEO_NEW = 67;
        /// <summary>Control messages of SOL_SOCKET (unix(7)).</summary>
        public const int SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;
        public const int TCP_NODELAY = 1, TCP_MAXSEG = 2, TCP_CORK = 3, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6,
            TCP_DEFER_ACCEPT = 9, TCP_INFO = 11, TCP_QUICKACK = 12, TCP_FASTOPEN = 23;
        public const int IP_TOS = 1, IP_TTL = 2;
        public const int MSG_OOB = 0x1, MSG_PEEK = 0x2, MSG_CTRUNC = 0x8, MSG_TRUNC = 0x20, MSG_EOR = 0x80, MSG_DONTWAIT = 0x40, MSG_WAITALL = 0x100,
            MSG_NOSIGNAL = 0x4000, MSG_MORE = 0x8000, MSG_WAITFORONE = 0x10000, MSG_CMSG_CLOEXEC = 0x40000000;
        public const int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
        /// <summary>sizeof(struct sockaddr_in).</summary>
        public const int InetAddressLength = 16;
        /// <summary>sizeof(struct sockaddr_un): the family and sun_path[108].</summary>
        public const int UnixAddressLength = 110;
        /// <summary>Most bytes of an address the protocol carries: sizeof(struct sockaddr_storage)
        /// (a bound path's name is offsetof(sun_path) + strlen + 1 bytes: up to 111).</summary>
        public const int AddressBytes = 128;
    }

    /// <summary>A socket's inode in the server's table: fstat shows S_IFSOCK.</summary>
    public sealed class SocketNode : Inode
    {
        public readonly Socket Socket;

        public SocketNode(Mount mount, ulong number, Socket socket, long now)
            : base(mount, number, LinuxFile.S_IFSOCK | 0x1FF, now) { Socket = socket; }
    }

    /// <summary>What the file server knows of the process making a socket call: who it is (its pid,
    /// for SO_PEERCRED), where its relative paths start and its umask (an AF_UNIX path bind).</summary>
    public readonly struct SocketCaller
    {
        /// <summary>Directory: the process's cwd is in its own tree (/dev, /proc, /sys), not the server's.</summary>
        public const int OutsideTree = int.MinValue;
        /// <summary>The environment id (the Linux pid).</summary>
        public readonly ulong Process;
        /// <summary>The server descriptor of the cwd (LinuxFile.AT_FDCWD: the root), or OutsideTree.</summary>
        public readonly int Directory;
        public readonly uint Umask;

        public SocketCaller(ulong process, int directory, uint umask) { Process = process; Directory = directory; Umask = umask; }

        /// <summary>The server itself (sendfile's sends): no process, paths from the root.</summary>
        public static SocketCaller Server => new SocketCaller(0, LinuxFile.AT_FDCWD, 0x12);
    }

    /// <summary>Makes sockets of one family or more (VfsServer: UnixSockets for AF_UNIX, the network's for the others).</summary>
    public interface ISocketProvider
    {
        /// <summary>socket(domain, type without its flags, protocol): 0 and the socket, or -errno.</summary>
        long Create(int domain, int type, int protocol, out Socket socket);
    }

    /// <summary>What one socket does. Every call returns a count, 0, or -errno; -EAGAIN means "not
    /// now" (the server turns it into Blocked for a blocking description). Addresses are Linux's
    /// struct sockaddr bytes; every length is checked by the caller against its buffer.</summary>
    public abstract unsafe class Socket
    {
        public const int MaximumWatchers = 16;
        public readonly int Domain, Type, Protocol;
        /// <summary>Environments to wake at the next change (0: a free entry).</summary>
        public readonly ulong[] Watchers = new ulong[MaximumWatchers];
        public int WatcherCount;
        /// <summary>Readiness changes so far (the provider counts them): an edge-triggered epoll
        /// reports again when it moved (OpenFile.ChangeStamp, through VfsProtocol.Poll's reply).</summary>
        public long Changes;
        /// <summary>Listed in the provider's changed list (cleared when the server wakes the watchers).</summary>
        public bool ChangeListed;
        /// <summary>Readiness boards that show this socket (ReadinessBoard.cs): the process, its
        /// server descriptor of the socket and the board's slot (process 0: a free entry). The
        /// server checks an entry each time it writes it and drops one whose descriptor the process
        /// no longer holds, so a close needs no bookkeeping here.</summary>
        public const int MaximumSubscribers = 4;
        public readonly ulong[] SubscriberProcess = new ulong[MaximumSubscribers];
        public readonly int[] SubscriberFd = new int[MaximumSubscribers];
        public readonly int[] SubscriberSlot = new int[MaximumSubscribers];
        public int SubscriberCount;
        /// <summary>The server's, set at the first subscription: writes a changed socket's readiness
        /// into its subscribers' boards (VfsServer.Publish), called for every socket on a changed list.</summary>
        public System.Action<Socket> Published;
        /// <summary>SO_RCVTIMEO and SO_SNDTIMEO as Linux keeps them (every kind of socket), in
        /// milliseconds, a HZ=1000 kernel's jiffies: NoTimeout (the default, and a timeval of 0:
        /// a blocking call waits for ever), 0 (a negative tv_sec: it does not wait at all), else how
        /// long it waits. The server never waits: it sends the limit with Blocked and the process's
        /// wait measures it (VfsClient.SocketTimeout).</summary>
        public long ReceiveTimeout = NoTimeout, SendTimeout = NoTimeout;
        public const long NoTimeout = long.MaxValue;

        protected Socket(int domain, int type, int protocol) { Domain = domain; Type = type; Protocol = protocol; }

        /// <summary>Datagrams and sequenced packets: one send is one message, received whole or cut.</summary>
        public bool KeepsBoundaries => Type == LinuxSocket.SOCK_DGRAM || Type == LinuxSocket.SOCK_SEQPACKET;

        public abstract long Bind(byte* address, int length, in SocketCaller caller);
        public abstract long Listen(int backlog, in SocketCaller caller);
        /// <summary>accept: a connected socket, and the peer's address (length written).</summary>
        public abstract long Accept(out Socket accepted, byte* address, out int addressLength);
        public abstract long Connect(byte* address, int length, in SocketCaller caller);
        /// <summary>send/sendto (address null: the connected peer).</summary>
        public abstract long Send(byte* data, int length, int flags, byte* address, int addressLength, in SocketCaller caller);
        /// <summary>recv/recvfrom: the sender's address into 'address' (AddressBytes), its length out (0: none).
        /// A socket that keeps message boundaries (KeepsBoundaries) returns the whole message's length
        /// with MSG_TRUNC, and copies at most 'length' bytes of it either way.</summary>
        public abstract long Receive(byte* data, int length, int flags, byte* address, out int addressLength);
        public abstract long Shutdown(int how);
        /// <summary>getsockname (peer false) or getpeername: the address into 'address', its length out.</summary>
        public abstract long Name(bool peer, byte* address, out int addressLength);
        public abstract long SetOption(int level, int name, byte* value, int length);
        /// <summary>getsockopt: the value into 'value' (at most 'length' bytes), its length out.</summary>
        public abstract long GetOption(int level, int name, byte* value, int length, out int written);
        /// <summary>poll's revents now (POLLIN, POLLOUT, POLLERR, POLLHUP, POLLRDHUP).</summary>
        public abstract short Poll();
        /// <summary>FIONREAD: bytes a read would return now.</summary>
        public abstract long ReadableBytes { get; }
        /// <summary>The last description closed.</summary>
        public abstract void Close();

        /// <summary>setsockopt(SOL_SOCKET, SO_RCVTIMEO or SO_SNDTIMEO): a struct timeval, as Linux's
        /// sock_set_timeout reads it: shorter than 16 bytes EINVAL, tv_usec outside 0..999,999 EDOM,
        /// a negative tv_sec "do not wait", 0 "for ever", else rounded up to the millisecond.</summary>
        public long SetTimeout(bool send, byte* value, int length)
        {
            if (value == null || length < 16) return -Errno.EINVAL;
            long seconds = ((long*)value)[0], microseconds = ((long*)value)[1];
            if (microseconds < 0 || microseconds >= 1_000_000) return -Errno.EDOM;
            long timeout;
            if (seconds < 0) timeout = 0;
            else if ((seconds == 0 && microseconds == 0) || seconds >= long.MaxValue / 1000 - 1) timeout = NoTimeout;
            else timeout = seconds * 1000 + (microseconds + 999) / 1000;
            if (send) SendTimeout = timeout; else ReceiveTimeout = timeout;
            return 0;
        }

        /// <summary>getsockopt(SO_RCVTIMEO or SO_SNDTIMEO): the struct timeval (0 for no limit), cut
        /// to 'length' bytes as Linux copies it.</summary>
        public long GetTimeout(bool send, byte* value, int length, out int written)
        {
            long timeout = send ? SendTimeout : ReceiveTimeout;
            long* timeval = stackalloc long[2];
            timeval[0] = timeout == NoTimeout ? 0 : timeout / 1000;
            timeval[1] = timeout == NoTimeout ? 0 : timeout % 1000 * 1000;
            written = length < 16 ? (length < 0 ? 0 : length) : 16;
            for (int i = 0; i < written; i++) value[i] = ((byte*)timeval)[i];
            return 0;
        }

        /// <summary>Records 'environment' to be woken at the next change; false when the table is full.</summary>
        public bool Watch(ulong environment)
        {
            for (int i = 0; i < MaximumWatchers; i++) if (Watchers[i] == environment) return true;
            for (int i = 0; i < MaximumWatchers; i++)
                if (Watchers[i] == 0) { Watchers[i] = environment; WatcherCount++; return true; }
            return false;
        }

        /// <summary>Whether a changed list must name this socket (someone waits for it or shows it).</summary>
        public bool Watched => WatcherCount != 0 || SubscriberCount != 0;

        /// <summary>A recv now would find nothing to return (no bytes, no end of stream, no error)
        /// and wait or answer EAGAIN; false where unsure (the readiness board's Empty flag).</summary>
        public virtual bool ReceiveWouldWait => false;

        /// <summary>Bytes at the head of the receive queue lent to one process (VfsServer.Lending,
        /// LendArea.cs): still queued here, copied into the process's lend page, and dropped when
        /// the server takes back what the process took (0: none lent).</summary>
        public int Lent;
        /// <summary>The process the bytes are lent to.</summary>
        public ulong LentTo;
        /// <summary>The lender's server descriptor of the socket, and the area of its lend page.</summary>
        public int LentFd, LentArea;

        /// <summary>Copies up to 'length' in-order bytes from the head of the receive queue without
        /// taking them, for lending: 0 where nothing may be lent (the default: only a TCP
        /// connection lends; its bytes are plain, with no addresses or messages).</summary>
        public virtual int PeekForLending(byte* data, int length) => 0;

        /// <summary>Drops 'bytes' from the head of the receive queue as a read would (what a process
        /// took of its lent bytes).</summary>
        public virtual void DropLent(int bytes) { }

        /// <summary>poll's revents and the Empty flag as the process the first 'lent' bytes went to
        /// sees them once it has them: readable only for more bytes, the end or an error.</summary>
        public virtual void BeyondLent(int lent, ref short revents, ref bool empty) { }

        /// <summary>A send of 'bytes' now would be taken whole at once (a connected stream with that
        /// much room and no error); false where unsure (the readiness board's Roomy flag).</summary>
        public virtual bool SendTakes(int bytes) => false;

        /// <summary>The subscribers' boards get the socket's readiness (Published); then every
        /// watcher is handed to 'wake' and forgotten.</summary>
        public void WakeWatchers(System.Action<ulong> wake)
        {
            ChangeListed = false;
            if (SubscriberCount != 0) Published?.Invoke(this);
            if (WatcherCount == 0) return;
            for (int i = 0; i < MaximumWatchers; i++)
            {
                ulong environment = Watchers[i];
                if (environment == 0) continue;
                Watchers[i] = 0;
                wake?.Invoke(environment);
            }
            WatcherCount = 0;
        }

        /// <summary>Writes a struct sockaddr_in (16 bytes): family, port and address in network order.</summary>
        public static int WriteInet(byte* to, uint addressHostOrder, int port)
        {
            for (int i = 0; i < LinuxSocket.InetAddressLength; i++) to[i] = 0;
            *(ushort*)to = LinuxSocket.AF_INET;
            to[2] = (byte)(port >> 8); to[3] = (byte)port;
            to[4] = (byte)(addressHostOrder >> 24); to[5] = (byte)(addressHostOrder >> 16);
            to[6] = (byte)(addressHostOrder >> 8); to[7] = (byte)addressHostOrder;
            return LinuxSocket.InetAddressLength;
        }

        /// <summary>Reads a struct sockaddr_in: 0, or -EINVAL (too short), -EAFNOSUPPORT (another family).</summary>
        public static long ReadInet(byte* from, int length, out uint addressHostOrder, out int port)
        {
            addressHostOrder = 0; port = 0;
            if (from == null || length < LinuxSocket.InetAddressLength) return -Errno.EINVAL;
            ushort family = *(ushort*)from;
            if (family != LinuxSocket.AF_INET) return -Errno.EAFNOSUPPORT;
            port = from[2] << 8 | from[3];
            addressHostOrder = (uint)(from[4] << 24 | from[5] << 16 | from[6] << 8 | from[7]);
            return 0;
        }
    }
}
