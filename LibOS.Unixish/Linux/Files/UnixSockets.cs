// Linux's AF_UNIX sockets (unix(7), socketpair(2); docs/libos-unixish.md, "Sockets"): the file
// server's provider for the local family, beside the network's (InetSockets). It needs no network:
// a socket here is a queue of bytes or messages in the server's memory, and the names are the
// server's tree (a path) or a table of abstract names. Pure logic; compiles under the real .NET.
//
// The model is Linux's: a send puts its bytes into the receiver's queue (UnixQueue), counted
// against the sender's send buffer until the receiver reads them (InFlight); a stream connect
// makes the server's end at once (queued on the listener until accept), so the client is
// connected before accept and may write; a datagram socket takes at most MaximumDatagramQueue + 1
// messages from senders that are not its own peer. Closing a stream end shuts both directions of
// the other (EOF after its data; ECONNRESET when the closed end left data unread or was never
// accepted). Blocking calls answer -EAGAIN and the server records the caller (Sockets.cs); the
// change that lets them go on (data, room, a connection, a close) lists the socket (Changed) so the
// server's loop wakes its watchers. A sender waiting for room in another socket (a full backlog,
// a full datagram queue) is listed among that socket's room waiters and changed when room comes.
//
// Invariants: a bound socket's name maps back to it (_byNode for a path, _underDev for a path
// under /dev, _abstract for an abstract name, per socket type as Linux hashes them) until it closes; an accepted socket shares its
// listener's name but does not own it; every byte in a queue is counted in its sender's InFlight
// until read or dropped; nothing here throws on a caller's input (lengths are checked by the
// server, addresses by Validate).
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    /// <summary>The credentials SO_PEERCRED reports (struct ucred).</summary>
    public struct UnixCredentials
    {
        public int Pid;
        public uint Uid, Gid;

        /// <summary>No peer: what Linux reports for an unconnected socket (pid 0, uid and gid -1).</summary>
        public static UnixCredentials None => new UnixCredentials { Pid = 0, Uid = uint.MaxValue, Gid = uint.MaxValue };
        /// <summary>The calling process (the libOS has one user: root).</summary>
        public static UnixCredentials Of(in SocketCaller caller) => new UnixCredentials { Pid = (int)caller.Process, Uid = 0, Gid = 0 };
    }

    /// <summary>A bound address, as getsockname returns it: a path's (the family, the path and its
    /// NUL: offsetof(sun_path) + strlen + 1 bytes) or an abstract one (the bytes bind was given).</summary>
    public sealed class UnixName
    {
        public readonly byte[] Bytes;
        /// <summary>The socket file of a path name in the server's tree (null: abstract, or under /dev).</summary>
        public readonly Inode Node;
        /// <summary>A path under /dev (each process's own tree): the absolute path the name is kept by.</summary>
        public readonly string DevicePath;

        public UnixName(byte[] bytes, Inode node, string devicePath = null) { Bytes = bytes; Node = node; DevicePath = devicePath; }
    }

    public sealed unsafe class UnixSockets : ISocketProvider
    {
        /// <summary>Linux's default SO_SNDBUF and SO_RCVBUF (net.core.wmem_default, rmem_default).</summary>
        public const int DefaultBuffer = 212992;
        /// <summary>setsockopt's ceiling (twice net.core.wmem_max's default) and floors (SOCK_MIN_SNDBUF, SOCK_MIN_RCVBUF).</summary>
        public const int MaximumBuffer = 2 * 212992, MinimumSendBuffer = 4608, MinimumReceiveBuffer = 2304;
        /// <summary>net.unix.max_dgram_qlen: a datagram socket is full for other senders past this many messages.</summary>
        public const int MaximumDatagramQueue = 10;
        /// <summary>What a queued message costs its sender beyond its bytes (Linux counts a buffer's truesize).</summary>
        public const int MessageOverhead = 512;
        /// <summary>net.core.somaxconn: listen's backlog at most.</summary>
        public const int MaximumBacklog = 4096;

        private readonly LinuxFiles _files;
        private readonly Dictionary<Inode, UnixSocket> _byNode = new Dictionary<Inode, UnixSocket>();
        private readonly Dictionary<ulong, UnixSocket> _abstract = new Dictionary<ulong, UnixSocket>();
        /// <summary>Names under /dev, by absolute path: /dev is each process's own, so no socket file
        /// can be made there; the name lives here (syslog's /dev/log), reached by connect and sendto.</summary>
        private readonly Dictionary<string, UnixSocket> _underDev = new Dictionary<string, UnixSocket>();
        private readonly List<Socket> _changed = new List<Socket>();
        private int _nextAutobind;

        /// <summary>Sockets open now, accepted or not (tests; leaks show here).</summary>
        public int Open { get; internal set; }

        /// <summary>files: the server's view of the tree (path names are made and found there).</summary>
        public UnixSockets(LinuxFiles files) { _files = files; }

        public long Create(int domain, int type, int protocol, out Socket socket)
        {
            socket = null;
            long error = Check(domain, ref type, protocol);
            if (error < 0) return error;
            socket = new UnixSocket(this, type);
            return 0;
        }

        /// <summary>socketpair(2): two connected sockets whose peer credentials are the caller's.</summary>
        public long CreatePair(int domain, int type, int protocol, in SocketCaller caller, out Socket first, out Socket second)
        {
            first = second = null;
            long error = Check(domain, ref type, protocol);
            if (error < 0) return error;
            var a = new UnixSocket(this, type);
            var b = new UnixSocket(this, type);
            a.Join(b, UnixCredentials.Of(caller));
            first = a;
            second = b;
            return 0;
        }

        private static long Check(int domain, ref int type, int protocol)
        {
            if (domain != LinuxSocket.AF_UNIX) return -Errno.EAFNOSUPPORT;
            if (protocol != 0 && protocol != LinuxSocket.AF_UNIX) return -Errno.EPROTONOSUPPORT;
            if (type == LinuxSocket.SOCK_RAW) type = LinuxSocket.SOCK_DGRAM; // as Linux's unix_create
            if (type != LinuxSocket.SOCK_STREAM && type != LinuxSocket.SOCK_DGRAM && type != LinuxSocket.SOCK_SEQPACKET)
                return -Errno.ESOCKTNOSUPPORT;
            return 0;
        }

        /// <summary>Whether a socket with watchers changed since the last TakeChanged.</summary>
        public bool HasChanged => _changed.Count > 0;

        /// <summary>The sockets that changed since the last call and have watchers (the caller wakes them).</summary>
        public void TakeChanged(List<Socket> into)
        {
            into.AddRange(_changed);
            _changed.Clear();
        }

        /// <summary>The socket's readiness changed: its count moves (an edge-triggered epoll reports
        /// again) and its watchers are listed to be woken.</summary>
        internal void Changed(Socket socket)
        {
            socket.Changes++;
            if (!socket.Watched || socket.ChangeListed) return;
            socket.ChangeListed = true;
            _changed.Add(socket);
        }

        /// <summary>Set when a dropped message closed a network socket it carried (the server then
        /// lets the network send its FIN: VfsServer.SocketsTouched); the server clears it.</summary>
        public bool ClosedNetworkSocket;

        /// <summary>Releases descriptions passed in a message nobody will receive (null: none).</summary>
        public void Drop(OpenFile[] rights)
        {
            if (rights == null) return;
            for (int i = 0; i < rights.Length; i++)
            {
                OpenFile file = rights[i];
                if (file == null || --file.References != 0) continue;
                if (file.Node is SocketNode node && node.Socket.Domain != LinuxSocket.AF_UNIX) ClosedNetworkSocket = true;
                file.Release();
            }
        }

        // ---- addresses

        /// <summary>Linux's unix_validate_addr: a family of AF_UNIX and 3..110 bytes, else -EINVAL.</summary>
        internal static long Validate(byte* address, int length)
        {
            if (address == null || length <= 2 || length > LinuxSocket.UnixAddressLength) return -Errno.EINVAL;
            return *(ushort*)address == LinuxSocket.AF_UNIX ? 0 : -Errno.EINVAL;
        }

        /// <summary>A validated path address's path: sun_path up to its first NUL or the length's end.</summary>
        private static string PathOf(byte* address, int length)
        {
            int count = 0;
            while (count < length - 2 && address[2 + count] != 0) count++;
            return PathBytes.ToString(address + 2, count);
        }

        /// <summary>The start of a path's walk: the caller's cwd (a server descriptor) or the root.</summary>
        private int Start(string path, in SocketCaller caller, out DirectoryNode start)
        {
            start = null;
            int dirfd = caller.Directory;
            if (dirfd == SocketCaller.OutsideTree)
            {
                if (path.Length == 0 || path[0] != '/') return FileSystem.Redirected;
                dirfd = LinuxFile.AT_FDCWD;
            }
            return _files.StartDirectory(dirfd, path, out start);
        }

        private static ulong AbstractKey(int type, byte* name, int length)
        {
            ulong hash = 14695981039346656037UL ^ (ulong)(uint)type;
            for (int i = 0; i < length; i++) hash = (hash ^ name[i]) * 1099511628211UL;
            return hash;
        }

        private UnixSocket FindAbstract(int type, byte* address, int length)
        {
            _abstract.TryGetValue(AbstractKey(type, address + 2, length - 2), out UnixSocket socket);
            for (; socket != null; socket = socket.NextSameKey)
            {
                if (socket.Type != type) continue;
                byte[] bytes = socket.BoundName.Bytes;
                if (bytes.Length != length) continue;
                bool same = true;
                for (int i = 2; i < length && same; i++) same = bytes[i] == address[i];
                if (same) return socket;
            }
            return null;
        }

        /// <summary>bind: the socket gets the name (a path: a socket file made in the tree; an
        /// abstract name; length 2: autobind). 0 or -errno as Linux's unix_bind.</summary>
        internal long Bind(UnixSocket socket, byte* address, int length, in SocketCaller caller)
        {
            if (address != null && length == 2 && *(ushort*)address == LinuxSocket.AF_UNIX) return Autobind(socket);
            long error = Validate(address, length);
            if (error < 0) return error;
            if (address[2] == 0)
            {
                if (socket.BoundName != null) return -Errno.EINVAL;
                if (FindAbstract(socket.Type, address, length) != null) return -Errno.EADDRINUSE;
                var bytes = new byte[length];
                for (int i = 0; i < length; i++) bytes[i] = address[i];
                Register(socket, new UnixName(bytes, null), address, length);
                return 0;
            }
            string path = PathOf(address, length);
            int found = Start(path, caller, out DirectoryNode start);
            if (found == FileSystem.Redirected) return -Errno.EACCES; // a relative path from the process's own /dev, /proc or /sys
            if (found < 0) return found;
            int made = _files.FileSystem.MakeSocketFile(start, path, 0x1FF & ~caller.Umask, socket.BoundName != null, out Inode node);
            if (made == FileSystem.Redirected) return BindUnderDev(socket, path, _files.FileSystem.RedirectPath);
            if (made == -Errno.EEXIST) return -Errno.EADDRINUSE;
            if (made < 0) return made;
            if (socket.BoundName != null) return -Errno.EINVAL; // checked after the path, as Linux does
            var name = new byte[2 + path.Length + 1];
            name[0] = (byte)LinuxSocket.AF_UNIX;
            for (int i = 0; i < path.Length; i++) name[2 + i] = (byte)path[i];
            socket.BoundName = new UnixName(name, node);
            socket.OwnsName = true;
            _byNode[node] = socket;
            return 0;
        }

        /// <summary>bind to a path that leads into a process's own tree: under /dev the name is kept
        /// here by its absolute path (where); /proc and /sys hold no names (EACCES).</summary>
        private long BindUnderDev(UnixSocket socket, string path, string where)
        {
            bool underDev = where != null && where.Length > 5 && where[0] == '/' && where[1] == 'd' && where[2] == 'e' && where[3] == 'v' && where[4] == '/';
            if (!underDev) return -Errno.EACCES;
            if (_underDev.ContainsKey(where)) return -Errno.EADDRINUSE;
            if (socket.BoundName != null) return -Errno.EINVAL;
            var name = new byte[2 + path.Length + 1];
            name[0] = (byte)LinuxSocket.AF_UNIX;
            for (int i = 0; i < path.Length; i++) name[2 + i] = (byte)path[i];
            socket.BoundName = new UnixName(name, null, where);
            socket.OwnsName = true;
            _underDev[where] = socket;
            return 0;
        }

        /// <summary>An abstract name of five hex digits ("\0" + "%05x", 8 bytes), as Linux's autobind; 0 when already named.</summary>
        internal long Autobind(UnixSocket socket)
        {
            if (socket.BoundName != null) return 0;
            byte* address = stackalloc byte[8];
            for (int attempt = 0; attempt <= 0xFFFFF; attempt++)
            {
                int number = _nextAutobind;
                _nextAutobind = (_nextAutobind + 1) & 0xFFFFF;
                *(ushort*)address = LinuxSocket.AF_UNIX;
                address[2] = 0;
                for (int digit = 0; digit < 5; digit++)
                {
                    int nibble = (number >> (4 * (4 - digit))) & 0xF;
                    address[3 + digit] = (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
                }
                if (FindAbstract(socket.Type, address, 8) != null) continue;
                var bytes = new byte[8];
                for (int i = 0; i < 8; i++) bytes[i] = address[i];
                Register(socket, new UnixName(bytes, null), address, 8);
                return 0;
            }
            return -Errno.EADDRINUSE;
        }

        private void Register(UnixSocket socket, UnixName name, byte* address, int length)
        {
            ulong key = AbstractKey(socket.Type, address + 2, length - 2);
            _abstract.TryGetValue(key, out UnixSocket first);
            socket.NextSameKey = first;
            socket.AbstractKey = key;
            _abstract[key] = socket;
            socket.BoundName = name;
            socket.OwnsName = true;
        }

        /// <summary>The socket closes: its name no longer reaches it (a socket file stays in the tree, as on Linux).</summary>
        internal void Unregister(UnixSocket socket)
        {
            if (!socket.OwnsName) return;
            socket.OwnsName = false;
            if (socket.BoundName.Node != null)
            {
                if (_byNode.TryGetValue(socket.BoundName.Node, out UnixSocket bound) && bound == socket) _byNode.Remove(socket.BoundName.Node);
                return;
            }
            if (socket.BoundName.DevicePath != null)
            {
                _underDev.Remove(socket.BoundName.DevicePath);
                return;
            }
            _abstract.TryGetValue(socket.AbstractKey, out UnixSocket first);
            if (first == socket)
            {
                if (socket.NextSameKey == null) _abstract.Remove(socket.AbstractKey);
                else _abstract[socket.AbstractKey] = socket.NextSameKey;
            }
            else
            {
                for (UnixSocket s = first; s != null; s = s.NextSameKey)
                    if (s.NextSameKey == socket) { s.NextSameKey = socket.NextSameKey; break; }
            }
            socket.NextSameKey = null;
        }

        /// <summary>The socket a validated address names, of the given type: 0, -ENOENT (no such
        /// path, or no name kept under /dev), -ECONNREFUSED (no socket bound there, or an abstract
        /// name nobody has), -EPROTOTYPE (a socket of another type bound to the path), or the walk's error.</summary>
        internal long Find(byte* address, int length, int type, in SocketCaller caller, out UnixSocket other)
        {
            other = null;
            if (address[2] == 0)
            {
                other = FindAbstract(type, address, length);
                return other == null ? -Errno.ECONNREFUSED : 0;
            }
            string path = PathOf(address, length);
            int found = Start(path, caller, out DirectoryNode start);
            if (found == FileSystem.Redirected) return -Errno.ECONNREFUSED;
            if (found < 0) return found;
            found = _files.FileSystem.ResolveExisting(start, path, true, out Inode node);
            UnixSocket bound;
            if (found == FileSystem.Redirected)
            {
                if (!_underDev.TryGetValue(_files.FileSystem.RedirectPath ?? "", out bound)) return -Errno.ENOENT;
            }
            else if (found < 0) return found;
            else if (node.Type != LinuxFile.S_IFSOCK || !_byNode.TryGetValue(node, out bound)) return -Errno.ECONNREFUSED;
            if (bound.Type != type) return -Errno.EPROTOTYPE;
            other = bound;
            return 0;
        }
    }
}
