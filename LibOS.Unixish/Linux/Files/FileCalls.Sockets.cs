// The Linux socket calls (docs/libos-unixish.md, "Sockets"): arguments copied in through
// UserPointers (EFAULT for a bad pointer), the work done by the file server's sockets through
// VfsClient (VfsClient.Sockets.cs), results copied out. read, write, readv, writev, poll, select,
// fcntl, ioctl(FIONBIO, FIONREAD), fstat, dup and close work on sockets through the file calls.
// Without a file server, or when it has no network, socket() fails with EAFNOSUPPORT.
using static Aegis.LibOS.Unixish.Linux.LinuxSystemCallNumbers;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public static unsafe partial class FileCalls
    {
        /// <summary>recvmsg's gathering buffer and sendmsg's for a datagram (the libOS runs one
        /// system call at a time: one buffer serves every thread), grown to a large datagram's size
        /// when one comes (SocketScratch).</summary>
        private static byte[] s_socketScratch = new byte[VfsProtocol.DataBytes];

        private static byte[] SocketScratch(long bytes)
        {
            if (bytes > s_socketScratch.Length) s_socketScratch = new byte[bytes];
            return s_socketScratch;
        }

        private static void RegisterSockets()
        {
            D(socket, &SocketCall); D(bind, &Bind); D(listen, &Listen); D(accept, &Accept); D(accept4, &Accept4);
            D(connect, &Connect); D(sendto, &Sendto); D(recvfrom, &Recvfrom); D(sendmsg, &Sendmsg); D(recvmsg, &Recvmsg);
            D(sendmmsg, &Sendmmsg); D(recvmmsg, &Recvmmsg);
            D(shutdown, &ShutdownCall); D(getsockname, &Getsockname); D(getpeername, &Getpeername);
            D(setsockopt, &Setsockopt); D(getsockopt, &Getsockopt); D(socketpair, &Socketpair);
        }

        /// <summary>Where an AF_UNIX path of this process starts: its cwd's server descriptor (the
        /// root: AT_FDCWD), or OutsideTree when the cwd is in its own /dev, /proc or /sys.</summary>
        private static int SocketDirectory => Files.CurrentDirectory is RemoteDirectory cwd ? cwd.Handle.ServerFd : SocketCaller.OutsideTree;

        private static long SocketOf(int fd, out RemoteSocket socket)
        {
            socket = null;
            OpenFile file = Files.Table.Get(fd);
            if (file == null) return -Errno.EBADF;
            socket = file.Node as RemoteSocket;
            return socket == null ? -Errno.ENOTSOCK : 0;
        }

        /// <summary>A new descriptor for a socket the server made (its description released if the table is full).</summary>
        private static long InstallSocket(RemoteSocket socket, int flags)
        {
            var file = new OpenFile(FileSystem, socket, LinuxFile.O_RDWR | ((flags & LinuxSocket.SOCK_NONBLOCK) != 0 ? LinuxFile.O_NONBLOCK : 0), null);
            int fd = Files.Table.Install(file, (flags & LinuxSocket.SOCK_CLOEXEC) != 0);
            if (fd < 0) file.Release();
            return fd;
        }

        /// <summary>A struct sockaddr from the program (at most AddressBytes of it are used).</summary>
        private static long AddressIn(ulong address, ulong length, byte* into, out int used)
        {
            used = 0;
            if (length > 128) return -Errno.EINVAL; // sizeof(struct sockaddr_storage)
            if (length == 0) return 0;
            if (address == 0) return -Errno.EFAULT;
            used = (int)length < LinuxSocket.AddressBytes ? (int)length : LinuxSocket.AddressBytes;
            return UserPointers.CopyIn(into, address, (ulong)used) ? 0 : -Errno.EFAULT;
        }

        /// <summary>An address out to the program: as much as its *lengthAddress allows, and the real length into *lengthAddress.</summary>
        private static long AddressOut(ulong address, ulong lengthAddress, byte* from, int length)
        {
            if (address == 0 || lengthAddress == 0) return 0;
            int room;
            if (!UserPointers.CopyIn(&room, lengthAddress, 4)) return -Errno.EFAULT;
            if (room < 0) return -Errno.EINVAL;
            int count = length < room ? length : room;
            if (count > 0 && !UserPointers.CopyOut(address, from, (ulong)count)) return -Errno.EFAULT;
            return UserPointers.CopyOut(lengthAddress, &length, 4) ? 0 : -Errno.EFAULT;
        }

        /// <summary>socketpair(2): two connected sockets (AF_UNIX; another family: its errors, then EOPNOTSUPP).</summary>
        private static long Socketpair(ref LinuxCall c)
        {
            int type = (int)c.A1;
            if ((type & ~(LinuxSocket.SOCK_TYPE_MASK | LinuxSocket.SOCK_NONBLOCK | LinuxSocket.SOCK_CLOEXEC)) != 0) return -Errno.EINVAL;
            if (!UserPointers.IsAccessible(c.A3, 8, true)) return -Errno.EFAULT;
            if (Remote == null) return -Errno.EAFNOSUPPORT;
            long made = Remote.SocketPair((int)c.A0, type, (int)c.A2, out RemoteSocket first, out RemoteSocket second);
            if (made < 0) return made;
            long one = InstallSocket(first, type);
            if (one < 0)
            {
                second.Handle.Release();
                Remote.Flush();
                return one;
            }
            long two = InstallSocket(second, type);
            if (two < 0)
            {
                Files.Close((int)one);
                return two;
            }
            int* pair = stackalloc int[2];
            pair[0] = (int)one;
            pair[1] = (int)two;
            if (UserPointers.CopyOut(c.A3, pair, 8)) return 0;
            Files.Close((int)one);
            Files.Close((int)two);
            return -Errno.EFAULT;
        }

        private static long SocketCall(ref LinuxCall c)
        {
            if (Remote == null) return -Errno.EAFNOSUPPORT;
            int type = (int)c.A1;
            long made = Remote.Socket((int)c.A0, type, (int)c.A2, out RemoteSocket socket);
            return made < 0 ? made : InstallSocket(socket, type);
        }

        private static long Bind(ref LinuxCall c)
        {
            long error = SocketOf((int)c.A0, out RemoteSocket socket);
            if (error < 0) return error;
            byte* address = stackalloc byte[LinuxSocket.AddressBytes];
            if ((error = AddressIn(c.A1, c.A2, address, out int length)) < 0) return error;
            return socket.Handle.Client.Bind(socket, address, length, SocketDirectory, Files.Umask);
        }

        private static long Listen(ref LinuxCall c)
        {
            long error = SocketOf((int)c.A0, out RemoteSocket socket);
            return error < 0 ? error : socket.Handle.Client.Listen(socket, (int)c.A1);
        }

        private static long Accept(ref LinuxCall c) => DoAccept((int)c.A0, c.A1, c.A2, 0);
        private static long Accept4(ref LinuxCall c) => DoAccept((int)c.A0, c.A1, c.A2, (int)c.A3);

        private static long DoAccept(int fd, ulong address, ulong lengthAddress, int flags)
        {
            long error = SocketOf(fd, out RemoteSocket socket);
            if (error < 0) return error;
            if ((flags & ~(LinuxSocket.SOCK_NONBLOCK | LinuxSocket.SOCK_CLOEXEC)) != 0) return -Errno.EINVAL;
            if (address != 0 && lengthAddress == 0) return -Errno.EFAULT;
            byte* peer = stackalloc byte[LinuxSocket.AddressBytes];
            int length;
            RemoteSocket accepted;
            bool nonBlocking = Files.Table.Get(fd).NonBlocking;
            if (socket.LocalListener != null)
            {
                // A lent listener (docs/libos-unixish.md, "The listener in the process"): its twin's
                // queue first; the server's only when its board slot may show a connection there
                // (one from inside the machine). A blocking description waits at the server: the loan goes back first.
                // So does an accept of a connection with a blocking description (it runs at the server).
                bool blockingConnection = (flags & LinuxSocket.SOCK_NONBLOCK) == 0;
                if (socket.Lent && (!nonBlocking || blockingConnection)) Net.LocalNet.GiveBack(socket, keepQueued: true);
                error = Net.LocalNet.AcceptLocal(socket, peer, out length, out accepted);
                if (error == 0)
                {
                    if (blockingConnection) _ = accepted.Handle; // to the server (it has a filter of its own since the loan went back)
                    return AcceptedHere(accepted, flags, address, lengthAddress, peer, length);
                }
                if (socket.Lent && socket.Handle.Client.PollBoard(socket, out short boarded) && (boarded & 0x1) == 0) return -Errno.EAGAIN;
            }
            // A non-blocking accept may run the connection here (docs/libos-unixish.md, "Connections run by the process").
            bool stream = (flags & LinuxSocket.SOCK_NONBLOCK) != 0 && socket.SocketType == LinuxSocket.SOCK_STREAM;
            bool here = stream && LocalSockets.Worthwhile && Net.LocalNet.CanTake;
            error = socket.Handle.Client.Accept(socket, flags, peer, out length, out accepted, here);
            if (error < 0) return error;
            bool inet = length >= 2 && *(ushort*)peer == LinuxSocket.AF_INET;
            long fdNew = AcceptedHere(accepted, flags, address, lengthAddress, peer, length);
            // Its later connections from their first segment; after AcceptedHere, which listed the
            // connection if it runs here (the loan makes it the twin's).
            if (fdNew >= 0 && stream && nonBlocking && inet) Net.LocalNet.MaybeLend(socket);
            return fdNew;
        }

        private static long AcceptedHere(RemoteSocket accepted, int flags, ulong address, ulong lengthAddress, byte* peer, int length)
        {
            long error;
            if (accepted.Local != null) Net.LocalNet.Taken(accepted);
            long fdNew = InstallSocket(accepted, flags);
            if (fdNew < 0) return fdNew;
            if ((error = AddressOut(address, lengthAddress, peer, length)) < 0) return error;
            return fdNew;
        }

        private static long Connect(ref LinuxCall c)
        {
            long error = SocketOf((int)c.A0, out RemoteSocket socket);
            if (error < 0) return error;
            byte* address = stackalloc byte[LinuxSocket.AddressBytes];
            if ((error = AddressIn(c.A1, c.A2, address, out int length)) < 0) return error;
            return socket.Handle.Client.Connect(socket, address, length, SocketDirectory);
        }

        private static long Sendto(ref LinuxCall c)
        {
            long error = SocketOf((int)c.A0, out RemoteSocket socket);
            if (error < 0) return error;
            long count = Count(c.A2);
            if (!UserPointers.IsAccessible(c.A1, (ulong)count, false)) return -Errno.EFAULT;
            int flags = (int)c.A3;
            byte* address = stackalloc byte[LinuxSocket.AddressBytes];
            if ((error = AddressIn(c.A4, c.A5, address, out int length)) < 0) return error;
            long sent = LocalSockets.Sends(socket, flags, length) ? LocalSockets.Send(socket, (byte*)c.A1, count)
                : socket.Handle.Client.Send(socket, (byte*)c.A1, count, flags, length > 0 ? address : null, length, SocketDirectory);
            return (flags & LinuxSocket.MSG_NOSIGNAL) != 0 ? sent : ReportPipe(sent);
        }

        private static long Recvfrom(ref LinuxCall c)
        {
            long error = SocketOf((int)c.A0, out RemoteSocket socket);
            if (error < 0) return error;
            long count = Count(c.A2);
            if (!UserPointers.IsAccessible(c.A1, (ulong)count, true)) return -Errno.EFAULT;
            byte* address = stackalloc byte[LinuxSocket.AddressBytes];
            int length = 0;
            long got = LocalSockets.Receives(socket, (int)c.A3) ? LocalSockets.Receive(socket, (byte*)c.A1, count, (int)c.A3)
                : socket.Handle.Client.Receive(socket, (byte*)c.A1, count, (int)c.A3, address, out length);
            if (got > 0 && socket.Local == null) socket.Receives++; // (LocalSockets counts its own)
            if (got < 0) return got;
            // As Linux's move_addr_to_user: *addrlen gets the sender's length even when it is 0 (an unnamed sender, a stream).
            if ((error = AddressOut(c.A4, c.A5, address, length)) < 0) return error;
            return got;
        }

        // struct msghdr: name, namelen (int), iov, iovlen, control, controllen, flags (int): 56 bytes.
        private const int MessageHeaderBytes = 56;
        // struct cmsghdr: cmsg_len (size_t), cmsg_level, cmsg_type (int), then the data, 8-aligned.
        private const int ControlHeaderBytes = 16;
        /// <summary>Most bytes of msg_control sendmsg reads (Linux's net.core.optmem_max is 20480 or more).</summary>
        private const int MaximumControlBytes = 65536;

        /// <summary>What an AF_UNIX read brought besides bytes (one system call at a time: one serves every thread).</summary>
        private static readonly SocketControl s_control = new SocketControl();

        private static int ControlSpace(int dataBytes) => ControlHeaderBytes + ((dataBytes + 7) & ~7);

        /// <summary>An iovec array from the program: count checked (EMSGSIZE above 1024, as Linux's
        /// UIO_MAXIOV), each piece accessible for reading (sending) or writing (receiving): the total.</summary>
        private static long Pieces(ulong vectors, long count, ulong* iov, bool receiving)
        {
            if (count > 0 && !UserPointers.CopyIn(iov, vectors, (ulong)count * 16)) return -Errno.EFAULT;
            long total = 0;
            for (int i = 0; i < count; i++)
            {
                if ((long)iov[2 * i + 1] < 0) return -Errno.EINVAL;
                if (!UserPointers.IsAccessible(iov[2 * i], iov[2 * i + 1], receiving)) return -Errno.EFAULT;
                total += (long)iov[2 * i + 1];
                if (total < 0) return -Errno.EINVAL;
            }
            return total;
        }

        /// <summary>A system call while the process holds sends on a corked socket (VfsClient's
        /// held sends): they go to the server first unless the call is one that keeps them held.</summary>
        public static void BeforeCallWhileHolding(ref LinuxCall call)
        {
            VfsClient client = VfsClient.Holding;
            if (!VfsClient.HoldingSurvives(call.Number, NodeOf(call.A0), client.HeldSocket)) client.FlushHeld();
        }

        private static Inode NodeOf(ulong fd) => Files == null || fd > int.MaxValue ? null : Files.Table.Get((int)fd)?.Node;

        /// <summary>sendmsg's and writev's work: the pieces to the socket, one message for a datagram
        /// or packet socket (gathered first), gathered into sends of up to the scratch's size for a
        /// stream; rights (SCM_RIGHTS) go with the first bytes.</summary>
        private static long SendPieces(RemoteSocket socket, ulong* iov, long count, long total, int flags, byte* address, int length, int* rights, int rightsCount)
        {
            VfsClient client = socket.Handle.Client;
            if (socket.KeepsBoundaries || rightsCount > 0)
            {
                // A datagram goes whole, up to MaximumDatagram (the client sends it in pieces); a
                // packet or a message with rights must fit one call.
                bool large = socket.SocketType == LinuxSocket.SOCK_DGRAM && rightsCount == 0;
                byte[] buffer = large && total <= VfsProtocol.MaximumDatagram ? SocketScratch(total) : s_socketScratch;
                if (total > buffer.Length)
                {
                    if (socket.KeepsBoundaries) return -Errno.EMSGSIZE;
                    total = buffer.Length; // a stream's first part carries the rights; the rest follows below
                }
                long at = 0;
                int piece = 0;
                fixed (byte* scratch = buffer)
                {
                    for (; piece < count && at < total; piece++)
                    {
                        long take = (long)iov[2 * piece + 1] < total - at ? (long)iov[2 * piece + 1] : total - at;
                        System.Buffer.MemoryCopy((byte*)iov[2 * piece], scratch + at, take, take);
                        at += take;
                        if (take < (long)iov[2 * piece + 1]) break;
                    }
                    long first = client.Send(socket, scratch, total, flags, address, length, SocketDirectory, rights, rightsCount);
                    if (socket.KeepsBoundaries || first < total) return first;
                }
                // The rest of a stream's pieces, after the part that carried the rights.
                long sent = total;
                long skip = total;
                for (int i = 0; i < count; i++)
                {
                    long size = (long)iov[2 * i + 1];
                    if (skip >= size) { skip -= size; continue; }
                    long n = client.Send(socket, (byte*)iov[2 * i] + skip, size - skip, flags, null, 0, SocketDirectory);
                    if (n < 0) return sent;
                    sent += n;
                    if (n < size - skip) break;
                    skip = 0;
                }
                return sent;
            }
            if (count == 0 || total == 0) return client.Send(socket, null, 0, flags, address, length, SocketDirectory);
            int pieces = 0, only = 0;
            for (int i = 0; i < count; i++)
                if (iov[2 * i + 1] != 0) { pieces++; only = i; }
            if (pieces == 1) return client.Send(socket, (byte*)iov[2 * only], (long)iov[2 * only + 1], flags, address, length, SocketDirectory);
            // A stream's pieces gathered, a scratch buffer's worth a send, as Linux's tcp_sendmsg
            // copies them all before it pushes: the bytes go out in full segments, and a small
            // piece does not go alone and hold the next back behind Nagle's wait for its ACK.
            long done = 0, offset = 0;
            int next = 0;
            fixed (byte* scratch = s_socketScratch)
            {
                long room = s_socketScratch.Length;
                while (next < count)
                {
                    long at = 0;
                    while (next < count && at < room)
                    {
                        long size = (long)iov[2 * next + 1] - offset;
                        long take = size < room - at ? size : room - at;
                        System.Buffer.MemoryCopy((byte*)iov[2 * next] + offset, scratch + at, take, take);
                        at += take;
                        if (take < size) { offset += take; break; }
                        next++;
                        offset = 0;
                    }
                    if (at == 0) break;
                    long n = client.Send(socket, scratch, at, flags, address, length, SocketDirectory);
                    if (n < 0) return done > 0 ? done : n;
                    done += n;
                    if (n < at) break;
                }
            }
            return done;
        }

        /// <summary>recvmsg's and readv's work: one read into the scratch buffer (at most its size),
        /// scattered into the pieces: the bytes (a message's whole length with MSG_TRUNC).</summary>
        private static long ReceivePieces(RemoteSocket socket, ulong* iov, long count, long room, int flags, byte* address,
                                          out int addressLength, out bool truncated, SocketControl control)
        {
            // A stream's read gives at most the scratch's bytes; a datagram comes whole (up to the room).
            long limit = socket.SocketType == LinuxSocket.SOCK_DGRAM ? VfsProtocol.MaximumDatagram : s_socketScratch.Length;
            if (room > limit) room = limit;
            long got;
            fixed (byte* scratch = SocketScratch(room))
            {
                got = socket.Handle.Client.Receive(socket, scratch, room, flags, address, out addressLength, out truncated, control);
                if (got < 0) return got;
                long left = got < room ? got : room, at = 0;
                for (int i = 0; i < count && left > 0; i++)
                {
                    long piece = (long)iov[2 * i + 1] < left ? (long)iov[2 * i + 1] : left;
                    System.Buffer.MemoryCopy(scratch + at, (byte*)iov[2 * i], piece, piece);
                    at += piece;
                    left -= piece;
                }
            }
            return got;
        }

        /// <summary>readv/writev on a socket: as recvmsg/sendmsg with no address, flags or control.</summary>
        private static long SocketVector(RemoteSocket socket, ulong* iov, long count, bool write)
        {
            long total = 0; // (Vector copied the pieces in and checked their lengths)
            for (int i = 0; i < count; i++)
            {
                if (!UserPointers.IsAccessible(iov[2 * i], iov[2 * i + 1], !write)) return -Errno.EFAULT;
                total += (long)iov[2 * i + 1];
            }
            if (socket.Local != null) return write ? ReportPipe(LocalSockets.SendPieces(socket, iov, count)) : LocalSockets.ReceivePieces(socket, iov, count, 0);
            if (write) return ReportPipe(SendPieces(socket, iov, count, total, 0, null, 0, null, 0));
            long got = ReceivePieces(socket, iov, count, total, 0, null, out _, out _, null);
            if (got > 0) socket.Receives++;
            return got;
        }

        /// <summary>sendmsg's control messages (Linux's __scm_send): SCM_RIGHTS' descriptors become the
        /// server descriptors they name (EBADF for a closed one; EOPNOTSUPP for one this process keeps
        /// itself: a pipe, an eventfd, a terminal, /dev and /proc files); SCM_CREDENTIALS is checked
        /// and ignored (the receiver gets the real ones); other SOL_SOCKET types: EINVAL; other levels skipped.</summary>
        private static long ParseControl(ulong control, ulong length, int* rights, out int rightsCount)
        {
            rightsCount = 0;
            if (length > MaximumControlBytes) return -Errno.ENOBUFS;
            if (length < ControlHeaderBytes) return 0;
            byte* buffer = stackalloc byte[(int)length];
            if (!UserPointers.CopyIn(buffer, control, length)) return -Errno.EFAULT;
            for (ulong at = 0; at + ControlHeaderBytes <= length;)
            {
                ulong size = *(ulong*)(buffer + at);
                int level = *(int*)(buffer + at + 8), type = *(int*)(buffer + at + 12);
                if (size < ControlHeaderBytes || size > length - at) return -Errno.EINVAL;
                if (level == LinuxSocket.SOL_SOCKET)
                {
                    if (type == LinuxSocket.SCM_RIGHTS)
                    {
                        int count = (int)((size - ControlHeaderBytes) / 4);
                        if (rightsCount + count > VfsProtocol.MaximumRights) return -Errno.EINVAL;
                        for (int i = 0; i < count; i++)
                        {
                            OpenFile file = Files.Table.Get(*(int*)(buffer + at + ControlHeaderBytes + 4 * (ulong)i));
                            if (file == null) return -Errno.EBADF;
                            if (!(file.Node is IRemoteNode remote)) return -Errno.EOPNOTSUPP;
                            int serverFd = remote.Handle.Client.ServerFdToPass(remote.Handle); // (an offset kept in this process moves to the server)
                            if (serverFd < 0) return -Errno.EOPNOTSUPP;
                            rights[rightsCount++] = serverFd;
                        }
                    }
                    else if (type == LinuxSocket.SCM_CREDENTIALS)
                    {
                        if (size != ControlHeaderBytes + 12) return -Errno.EINVAL;
                    }
                    else return -Errno.EINVAL;
                }
                ulong next = at + ((size + 7) & ~7UL);
                if (next <= at) break;
                at = next;
            }
            return 0;
        }

        private static long Sendmsg(ref LinuxCall c)
        {
            long error = SocketOf((int)c.A0, out RemoteSocket socket);
            return error < 0 ? error : SendMessage(socket, c.A1, (int)c.A2, out _);
        }

        // struct mmsghdr: a msghdr and msg_len (unsigned int), 64 bytes with its padding.
        private const int MultipleMessageBytes = 64;

        /// <summary>sendmmsg: each message as sendmsg sends it, its count into msg_len, until one fails
        /// or is sent in part (glibc's resolver sends its A and AAAA queries so); the messages sent,
        /// or the first one's error.</summary>
        private static long Sendmmsg(ref LinuxCall c)
        {
            long error = SocketOf((int)c.A0, out RemoteSocket socket);
            if (error < 0) return error;
            uint count = (uint)c.A2 > 1024 ? 1024 : (uint)c.A2; // UIO_MAXIOV
            int flags = (int)c.A3;
            uint sent = 0;
            long result = 0;
            while (sent < count)
            {
                ulong entry = c.A1 + sent * (ulong)MultipleMessageBytes;
                result = SendMessage(socket, entry, flags, out long whole);
                if (result < 0) break;
                uint length = (uint)result;
                if (!UserPointers.CopyOut(entry + MessageHeaderBytes, &length, 4)) { result = -Errno.EFAULT; break; }
                sent++;
                if (result < whole) break;
            }
            return sent > 0 ? sent : result;
        }

        /// <summary>sendmsg of the struct msghdr at headerAddress: bytes sent or -errno (SIGPIPE raised
        /// as write's); total: the bytes its iovecs hold.</summary>
        private static long SendMessage(RemoteSocket socket, ulong headerAddress, int flags, out long total)
        {
            long error;
            total = 0;
            ulong* header = stackalloc ulong[MessageHeaderBytes / 8];
            if (!UserPointers.CopyIn(header, headerAddress, MessageHeaderBytes)) return -Errno.EFAULT;
            byte* address = stackalloc byte[LinuxSocket.AddressBytes];
            if ((error = AddressIn(header[0], (uint)header[1], address, out int length)) < 0) return error;
            long count = (long)header[3];
            if (count < 0 || count > 1024) return -Errno.EMSGSIZE;
            ulong* iov = stackalloc ulong[count > 0 ? (int)count * 2 : 1];
            long pieces = Pieces(header[2], count, iov, false);
            if (pieces < 0) return pieces;
            total = pieces;
            int* rights = stackalloc int[VfsProtocol.MaximumRights];
            int rightsCount = 0;
            if (header[5] != 0 && (error = ParseControl(header[4], header[5], rights, out rightsCount)) < 0) return error;
            long sent = SendPieces(socket, iov, count, total, flags, length > 0 ? address : null, length, rights, rightsCount);
            return (flags & LinuxSocket.MSG_NOSIGNAL) != 0 ? sent : ReportPipe(sent);
        }

        private static long Recvmsg(ref LinuxCall c)
        {
            long error = SocketOf((int)c.A0, out RemoteSocket socket);
            return error < 0 ? error : ReceiveMessage(socket, c.A1, (int)c.A2);
        }

        /// <summary>recvmmsg: messages as recvmsg receives them, each one's count into its msg_len.
        /// MSG_WAITFORONE: only the first may wait. The timeout, as on Linux, is looked at only after
        /// each message (a receive that waits is not cut short by it), and the time left is written
        /// back into it. The messages received, or the first one's error (a later error ends the
        /// call; the messages before it count).</summary>
        private static long Recvmmsg(ref LinuxCall c)
        {
            long error;
            ulong deadline = 0;
            if (c.A4 != 0) // (before the descriptor, as Linux)
            {
                if ((error = TimeCalls.ReadTimespec(c.A4, out ulong timeout)) < 0) return error;
                ulong now = TimeCalls.MonotonicNanoseconds();
                deadline = timeout > ulong.MaxValue - now ? ulong.MaxValue : now + timeout;
            }
            if ((error = SocketOf((int)c.A0, out RemoteSocket socket)) < 0) return error;
            uint count = (uint)c.A2 > 1024 ? 1024 : (uint)c.A2; // UIO_MAXIOV
            int flags = (int)c.A3 & ~LinuxSocket.MSG_WAITFORONE;
            bool waitForOne = ((int)c.A3 & LinuxSocket.MSG_WAITFORONE) != 0;
            uint received = 0;
            long result = 0;
            while (received < count)
            {
                ulong entry = c.A1 + received * (ulong)MultipleMessageBytes;
                result = ReceiveMessage(socket, entry, received > 0 && waitForOne ? flags | LinuxSocket.MSG_DONTWAIT : flags);
                if (result < 0) break;
                uint length = (uint)result;
                if (!UserPointers.CopyOut(entry + MessageHeaderBytes, &length, 4)) { result = -Errno.EFAULT; break; }
                received++;
                if (deadline != 0 && TimeCalls.MonotonicNanoseconds() >= deadline) break;
            }
            if (received == 0) return result;
            if (c.A4 != 0)
            {
                // As Linux: the time left goes back into the caller's timespec.
                ulong now = TimeCalls.MonotonicNanoseconds();
                if (TimeCalls.PutTimespec(c.A4, deadline > now ? deadline - now : 0) < 0) return -Errno.EFAULT;
            }
            return received;
        }

        /// <summary>recvmsg into the struct msghdr at headerAddress: bytes received or -errno.</summary>
        private static long ReceiveMessage(RemoteSocket socket, ulong headerAddress, int flags)
        {
            ulong* header = stackalloc ulong[MessageHeaderBytes / 8];
            if (!UserPointers.CopyIn(header, headerAddress, MessageHeaderBytes)) return -Errno.EFAULT;
            long count = (long)header[3];
            if (count < 0 || count > 1024) return -Errno.EMSGSIZE;
            ulong* iov = stackalloc ulong[count > 0 ? (int)count * 2 : 1];
            long room = Pieces(header[2], count, iov, true);
            if (room < 0) return room;
            ulong control = header[4], controlRoom = header[5] > int.MaxValue ? int.MaxValue : header[5];
            if (controlRoom > 0 && !UserPointers.IsAccessible(control, controlRoom, true)) return -Errno.EFAULT;
            byte* address = stackalloc byte[LinuxSocket.AddressBytes];
            long got = ReceivePieces(socket, iov, count, room, flags, address, out int length, out bool truncated, s_control);
            if (got < 0) return got;
            if (got > 0) socket.Receives++;
            // msg_namelen, the control messages (msg_controllen: the bytes written) and msg_flags.
            int nameLength = header[0] != 0 ? length : 0;
            if (nameLength > 0)
            {
                int give = nameLength < (int)(uint)header[1] ? nameLength : (int)(uint)header[1];
                if (give > 0 && !UserPointers.CopyOut(header[0], address, (ulong)give)) { ReleaseControl(0); return -Errno.EFAULT; }
            }
            int messageFlags = truncated ? LinuxSocket.MSG_TRUNC : 0;
            ulong used = WriteControl(control, controlRoom, (flags & LinuxSocket.MSG_CMSG_CLOEXEC) != 0, ref messageFlags);
            if (!UserPointers.CopyOut(headerAddress + 8, &nameLength, 4) || !UserPointers.CopyOut(headerAddress + 40, &used, 8)
                || !UserPointers.CopyOut(headerAddress + 48, &messageFlags, 4)) return -Errno.EFAULT;
            return got;
        }

        /// <summary>recvmsg's control messages, as Linux's scm_recv: the credentials (SO_PASSCRED),
        /// then the passed descriptions installed as descriptors (as many as the room holds and the
        /// table takes; the rest closed, MSG_CTRUNC). The bytes written.</summary>
        private static ulong WriteControl(ulong control, ulong room, bool closeOnExec, ref int messageFlags)
        {
            SocketControl received = s_control;
            ulong used = 0;
            if (received.HasCredentials)
            {
                const int Size = ControlHeaderBytes + 12;
                if (room - used < Size) messageFlags |= LinuxSocket.MSG_CTRUNC;
                else
                {
                    ulong* head = stackalloc ulong[4];
                    head[0] = Size;
                    ((int*)head)[2] = LinuxSocket.SOL_SOCKET;
                    ((int*)head)[3] = LinuxSocket.SCM_CREDENTIALS;
                    ((int*)head)[4] = received.Pid;
                    ((uint*)head)[5] = received.Uid;
                    ((uint*)head)[6] = received.Gid;
                    ((int*)head)[7] = 0;
                    ulong space = (ulong)ControlSpace(12) < room - used ? (ulong)ControlSpace(12) : room - used;
                    UserPointers.CopyOut(control + used, head, Size);
                    used += space;
                }
            }
            int passed = received.RightsCount;
            if (passed == 0) return used;
            ulong left = room - used;
            ulong holds = left < ControlHeaderBytes ? 0 : (left - ControlHeaderBytes) / 4;
            int fit = holds < (ulong)passed ? (int)holds : passed;
            int* fds = stackalloc int[passed];
            int delivered = 0;
            for (int i = 0; i < fit; i++)
            {
                var file = new OpenFile(FileSystem, received.Rights[i], received.RightsFlags[i], null);
                received.Rights[i] = null; // the table's now, or released with its description below
                int fd = Files.Table.Install(file, closeOnExec);
                if (fd < 0) { file.Release(); break; }
                fds[delivered++] = fd;
            }
            if (delivered < passed) messageFlags |= LinuxSocket.MSG_CTRUNC;
            ReleaseControl(delivered);
            if (delivered == 0) return used; // Linux writes no SCM_RIGHTS message without a descriptor in it
            ulong* header = stackalloc ulong[2];
            header[0] = (ulong)(ControlHeaderBytes + 4 * delivered);
            ((int*)header)[2] = LinuxSocket.SOL_SOCKET;
            ((int*)header)[3] = LinuxSocket.SCM_RIGHTS;
            UserPointers.CopyOut(control + used, header, ControlHeaderBytes);
            UserPointers.CopyOut(control + used + ControlHeaderBytes, fds, (ulong)(4 * delivered));
            ulong written = (ulong)ControlSpace(4 * delivered) < left ? (ulong)ControlSpace(4 * delivered) : left;
            return used + written;
        }

        /// <summary>Closes the passed descriptions from 'from' on (not installed) and forgets them all.</summary>
        private static void ReleaseControl(int from)
        {
            SocketControl received = s_control;
            for (int i = from; i < received.RightsCount; i++)
                if (received.Rights[i] is IRemoteNode remote) remote.Handle.Release();
            received.Clear();
        }

        private static long ShutdownCall(ref LinuxCall c)
        {
            long error = SocketOf((int)c.A0, out RemoteSocket socket);
            if (error < 0) return error;
            return socket.Local != null ? LocalSockets.Shutdown(socket, (int)c.A1) : socket.Handle.Client.Shutdown(socket, (int)c.A1);
        }

        private static long Getsockname(ref LinuxCall c) => DoName((int)c.A0, c.A1, c.A2, false);
        private static long Getpeername(ref LinuxCall c) => DoName((int)c.A0, c.A1, c.A2, true);

        private static long DoName(int fd, ulong address, ulong lengthAddress, bool peer)
        {
            long error = SocketOf(fd, out RemoteSocket socket);
            if (error < 0) return error;
            if (address == 0 || lengthAddress == 0) return -Errno.EFAULT;
            byte* name = stackalloc byte[LinuxSocket.AddressBytes];
            long length;
            if (socket.Local != null)
            {
                long named = socket.Local.Name(peer, name, out int written);
                length = named < 0 ? named : written;
            }
            else length = socket.Handle.Client.Name(socket, peer, name);
            if (length < 0) return length;
            return AddressOut(address, lengthAddress, name, (int)length);
        }

        private static long Setsockopt(ref LinuxCall c)
        {
            long error = SocketOf((int)c.A0, out RemoteSocket socket);
            if (error < 0) return error;
            int length = (int)c.A4;
            if (length < 0) return -Errno.EINVAL;
            byte* value = stackalloc byte[LinuxSocket.AddressBytes];
            int used = length < LinuxSocket.AddressBytes ? length : LinuxSocket.AddressBytes;
            if (used > 0 && !UserPointers.CopyIn(value, c.A3, (ulong)used)) return -Errno.EFAULT;
            if (LocalSockets.SetsOption(socket, (int)c.A1, (int)c.A2)) return LocalSockets.SetOption(socket, (int)c.A1, (int)c.A2, value, used);
            return socket.Handle.Client.SetOption(socket, (int)c.A1, (int)c.A2, value, used);
        }

        private static long Getsockopt(ref LinuxCall c)
        {
            long error = SocketOf((int)c.A0, out RemoteSocket socket);
            if (error < 0) return error;
            if (c.A3 == 0 || c.A4 == 0) return -Errno.EFAULT;
            int room;
            if (!UserPointers.CopyIn(&room, c.A4, 4)) return -Errno.EFAULT;
            if (room < 0) return -Errno.EINVAL;
            byte* value = stackalloc byte[LinuxSocket.AddressBytes];
            long written = socket.Handle.Client.GetOption(socket, (int)c.A1, (int)c.A2, value, room < LinuxSocket.AddressBytes ? room : LinuxSocket.AddressBytes);
            if (written < 0) return written;
            int length = (int)written;
            if (length > 0 && !UserPointers.CopyOut(c.A3, value, (ulong)length)) return -Errno.EFAULT;
            return UserPointers.CopyOut(c.A4, &length, 4) ? 0 : -Errno.EFAULT;
        }
    }
}
