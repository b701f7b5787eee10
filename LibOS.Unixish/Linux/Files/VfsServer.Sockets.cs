// The file server's socket calls (docs/libos-unixish.md, "Sockets"; VfsProtocol's socket
// operations, Sockets.cs): a socket is a description of this server's table like a file, owned by
// the process that made or accepted it, shared across fork by Duplicate and dropped by Goodbye.
// AF_UNIX sockets come from Unix (UnixSockets.cs), the others from the network's provider (Sockets).
// Calls that may name an AF_UNIX path carry the caller's cwd (a server descriptor it must hold);
// descriptions passed with a message (SCM_RIGHTS) hold a reference each while in flight and are
// installed for the receiver by its read. Pure logic; compiles under the real .NET.
//
// A call that cannot go on now answers -EAGAIN on a non-blocking description (O_NONBLOCK, or
// MSG_DONTWAIT), else Blocked with the sender recorded among the socket's watchers (the server
// wakes them at the socket's next change) — so the server itself never waits for a socket. Blocked
// carries the socket's SO_RCVTIMEO or SO_SNDTIMEO for the call's direction: the process measures it.
//
// A datagram larger than one call's data (VfsProtocol.DataBytes) travels in pieces, kept here for
// the sender (_staged: one at most per process, which makes one call at a time): SendTo's pieces
// are gathered and the datagram is sent whole by the piece that completes it; ReceiveFrom with
// ReceiveWhole takes the datagram whole and answers its first piece, the rest is asked for with
// ReceiveRest. A datagram is thus never split into two datagrams, nor two receives.
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public sealed unsafe partial class VfsServer
    {
        /// <summary>The network's sockets, every family but AF_UNIX (null: socket() fails with EAFNOSUPPORT).</summary>
        public ISocketProvider Sockets;
        /// <summary>AF_UNIX sockets (UnixSockets.cs): always here, with or without a network.</summary>
        public readonly UnixSockets Unix;
        /// <summary>Set by every call on a network socket and by a close that may have ended one: the
        /// network may have timers to arm and wakes to send (the environment glue clears it).
        /// AF_UNIX calls leave it: they have no timers, and their wakes are Unix's changed list.</summary>
        public bool SocketsTouched;

        /// <summary>A TCP_CORK of 1 the client kept back and sent with this send (VfsProtocol.SendCorkFirst).</summary>
        private static void CorkFirst(Socket socket)
        {
            int one = 1;
            socket.SetOption(LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&one, 4);
        }

        /// <summary>TCP_CORK to 0 (VfsProtocol.SendUncorkAfter): what is queued goes now.</summary>
        private static void Uncork(Socket socket)
        {
            int zero = 0;
            socket.SetOption(LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&zero, 4);
        }

        private long SocketCall(ulong sender, int op, ulong w1, ulong w2, ulong w3, byte* payload, out ulong reply1)
        {
            long result = SocketCallOnce(sender, op, w1, w2, w3, payload, out reply1);
            if (op != VfsProtocol.Socket && op != VfsProtocol.SocketPair && op != VfsProtocol.PollMany && op != VfsProtocol.Adopt && op != VfsProtocol.LateSegment) PublishCalled(sender, w1);
            return result;
        }

        private long SocketCallOnce(ulong sender, int op, ulong w1, ulong w2, ulong w3, byte* payload, out ulong reply1)
        {
            reply1 = 0;
            if (op == VfsProtocol.Socket || op == VfsProtocol.SocketPair)
            {
                int domain = (int)(uint)w1, typeWord = (int)(w1 >> 32);
                if (domain != LinuxSocket.AF_UNIX) SocketsTouched = true;
                if ((typeWord & ~(LinuxSocket.SOCK_TYPE_MASK | LinuxSocket.SOCK_NONBLOCK | LinuxSocket.SOCK_CLOEXEC)) != 0) return -Errno.EINVAL;
                int type = typeWord & LinuxSocket.SOCK_TYPE_MASK;
                bool nonBlocking = (typeWord & LinuxSocket.SOCK_NONBLOCK) != 0;
                if (op == VfsProtocol.SocketPair) return SocketPair(sender, domain, type, (int)w2, nonBlocking, out reply1);
                ISocketProvider provider = domain == LinuxSocket.AF_UNIX ? Unix : Sockets;
                if (provider == null) return -Errno.EAFNOSUPPORT;
                long made = provider.Create(domain, type, (int)w2, out Socket created);
                if (made < 0) return made;
                reply1 = (ulong)(uint)created.Type;
                return InstallSocket(sender, created, nonBlocking);
            }
            if (op == VfsProtocol.PollMany)
            {
                SocketsTouched = true;
                return PollMany(sender, w1, w2, payload, out reply1);
            }
            if (op == VfsProtocol.Adopt)
            {
                SocketsTouched = true;
                return Adopt(sender, w1, w2, w3, payload);
            }
            if (op == VfsProtocol.LateSegment)
            {
                SocketsTouched = true;
                return LateSegment(sender, w1, w2, payload);
            }
            OpenFile file = Own(sender, w1);
            if (file == null) return -Errno.EBADF;
            if (!(file.Node is SocketNode node)) return -Errno.ENOTSOCK;
            Socket socket = node.Socket;
            if (socket.Domain != LinuxSocket.AF_UNIX) SocketsTouched = true;
            byte* address = payload, data = payload + VfsProtocol.SocketData;
            const int DataRoom = VfsProtocol.PayloadBytes - VfsProtocol.SocketData;
            long result;
            int length;
            SocketCaller caller;
            switch (op)
            {
                case VfsProtocol.Bind:
                    if (w2 > LinuxSocket.AddressBytes) return -Errno.EINVAL;
                    if ((result = Caller(sender, w3, (uint)(w3 >> 32) & 0x1FF, out caller)) < 0) return result;
                    return socket.Bind(address, (int)w2, caller);

                case VfsProtocol.Listen:
                    return socket.Listen((int)w2, new SocketCaller(sender, LinuxFile.AT_FDCWD, 0));

                case VfsProtocol.Lend:
                    return Lend(sender, socket, payload, out reply1);

                case VfsProtocol.LendBack:
                    return LendBack(sender, socket, w2, payload);

                case VfsProtocol.Requeue:
                    return Requeue(sender, socket, w2, payload);

                case VfsProtocol.Accept:
                    {
                        result = socket.Accept(out Socket accepted, address, out length);
                        if (result == -Errno.EAGAIN) return NotNow(sender, file, socket, 0, false, out reply1); // accept waits as long as SO_RCVTIMEO says, as Linux's
                        if (result < 0) return result;
                        reply1 = (ulong)length;
                        if ((w2 & VfsProtocol.AcceptHere) != 0 && accepted is Net.StreamSocket stream)
                        {
                            long record = HandOverAccepted(sender, stream, payload);
                            if (record > 0)
                            {
                                reply1 |= (ulong)record << 32;
                                return VfsProtocol.HandedOver;
                            }
                        }
                        long installed = InstallSocket(sender, accepted, ((int)w2 & LinuxSocket.SOCK_NONBLOCK) != 0);
                        // The caller's board slot shows the new socket from now on, as PollMany's
                        // subscription would (its epoll_ctl then asks nothing). Not recorded: the
                        // caller's look finds the slot not showing it and subscribes then.
                        if (installed >= 0 && w3 != 0) Subscribe(sender, (int)installed, accepted, (int)(uint)w3 - 1);
                        return installed;
                    }

                case VfsProtocol.Connect:
                    {
                        if (w2 > LinuxSocket.AddressBytes) return -Errno.EINVAL;
                        if ((result = Caller(sender, w3 >> 32, 0, out caller)) < 0) return result;
                        bool again = (w3 & 1) != 0;
                        result = socket.Connect(address, (int)w2, caller);
                        // again: the blocking connect calls again to learn how its handshake ended.
                        if (again && result == -Errno.EISCONN) return 0;
                        if (result == -Errno.EINPROGRESS || (again && result == -Errno.EALREADY))
                        {
                            if (file.NonBlocking) return result;
                            result = NotNow(sender, file, socket, 0, true, out reply1);
                            return result == -Errno.EAGAIN ? -Errno.EINPROGRESS : result; // SO_SNDTIMEO of a negative time: do not wait
                        }
                        if (result == -Errno.EAGAIN && socket.Domain == LinuxSocket.AF_UNIX)
                            return NotNow(sender, file, socket, 0, true, out reply1); // a full backlog: the listener's accept changes this socket
                        return result;
                    }

                case VfsProtocol.Shutdown:
                    return socket.Shutdown((int)w2);

                case VfsProtocol.SocketName:
                    result = socket.Name(w2 == 1, address, out length);
                    return result < 0 ? result : length;

                case VfsProtocol.SetOption:
                    if (w3 > LinuxSocket.AddressBytes) return -Errno.EINVAL;
                    if (IsTimeout((int)(uint)w2, (int)(w2 >> 32), out bool sending)) return socket.SetTimeout(sending, payload, (int)w3);
                    return socket.SetOption((int)(uint)w2, (int)(w2 >> 32), payload, (int)w3);

                case VfsProtocol.GetOption:
                    {
                        if (w3 > LinuxSocket.AddressBytes) return -Errno.EINVAL;
                        result = IsTimeout((int)(uint)w2, (int)(w2 >> 32), out bool sendTimeout)
                            ? socket.GetTimeout(sendTimeout, payload, (int)w3, out length)
                            : socket.GetOption((int)(uint)w2, (int)(w2 >> 32), payload, (int)w3, out length);
                        return result < 0 ? result : length;
                    }

                case VfsProtocol.Poll:
                    {
                        // With the watch bit the sender is recorded even when something is ready: an
                        // edge-triggered epoll may sleep on a socket that is ready but already reported,
                        // and must still hear of its next change (new data). A recorded process that
                        // does not sleep after all only gets one early return from a later Wait.
                        short ready = socket.Poll();
                        bool unrecorded = (w2 & 1) != 0 && !socket.Watch(sender); // the caller spins
                        reply1 = (ulong)socket.Changes << 1 | (unrecorded ? 1UL : 0UL);
                        return (ushort)ready;
                    }

                case VfsProtocol.SendTo:
                    {
                        int count = (int)(uint)w2, flags = (int)(w2 >> 32);
                        bool cork = (w3 & VfsProtocol.SendCorkFirst) != 0, held = (w3 & VfsProtocol.SendHeld) != 0,
                            uncork = (w3 & VfsProtocol.SendUncorkAfter) != 0;
                        int addressLength = (int)(w3 & 0xFF), offset = (int)((w3 >> 8) & VfsProtocol.SendOffsetMask), whole = (int)(w3 >> 32);
                        long* extra = (long*)(payload + VfsProtocol.SendExtraData);
                        long passing = extra[0];
                        if (count < 0 || count > VfsProtocol.DataBytes || count > DataRoom || addressLength > LinuxSocket.AddressBytes
                            || passing < 0 || passing > VfsProtocol.MaximumRights) return -Errno.EINVAL;
                        if (addressLength == 0) caller = new SocketCaller(sender, LinuxFile.AT_FDCWD, 0);
                        else if ((result = Caller(sender, (ulong)extra[1], 0, out caller)) < 0) return result;
                        byte* to = addressLength == 0 ? null : address;
                        if (cork) CorkFirst(socket);
                        if (whole != 0)
                            return passing != 0 ? -Errno.EINVAL : SendPiece(sender, file, socket, data, count, flags, to, addressLength, caller, offset, whole, out reply1);
                        if (offset != 0) return -Errno.EINVAL;
                        if (held || uncork)
                        {
                            // What a process held on its corked stream (VfsClient's held sends).
                            if (passing != 0 || to != null || socket.Type != LinuxSocket.SOCK_STREAM) return -Errno.EINVAL;
                            result = socket.Send(data, count, flags, null, 0, caller);
                            if (result == count && uncork) Uncork(socket);
                            return result == -Errno.EAGAIN ? NotNow(sender, file, socket, flags, true, out reply1, held) : result;
                        }
                        if (passing == 0) result = socket.Send(data, count, flags, to, addressLength, caller);
                        else
                        {
                            // SCM_RIGHTS: the descriptions go with the message, each holding a reference
                            // until the receiver installs it (or it is dropped unread).
                            if (!(socket is UnixSocket unix)) return -Errno.EINVAL; // as Linux's sock_cmsg_send for the network's sockets
                            OpenFile[] rights = new OpenFile[passing];
                            int* fds = (int*)(payload + VfsProtocol.RightsData);
                            for (int i = 0; i < passing; i++)
                                if ((rights[i] = Own(sender, (ulong)(long)fds[i])) == null) return -Errno.EBADF;
                            for (int i = 0; i < passing; i++) rights[i].References++;
                            result = unix.Send(data, count, flags, to, addressLength, caller, ref rights);
                            Unix.Drop(rights); // not sent: the references taken above go back
                        }
                        return result == -Errno.EAGAIN ? NotNow(sender, file, socket, flags, true, out reply1) : result;
                    }

                case VfsProtocol.ReceiveFrom:
                    {
                        int count = (int)(uint)w2, flags = (int)(w2 >> 32);
                        if ((w3 & VfsProtocol.ReceiveRest) != 0) return ReceivePiece(sender, socket, data, count, (int)(w3 >> 8));
                        if ((w3 & VfsProtocol.ReceiveWhole) != 0 && count > VfsProtocol.DataBytes)
                            return ReceiveWhole(sender, file, socket, data, count, flags, address, payload, out reply1);
                        if (w3 != 0 && w3 != VfsProtocol.ReceiveWhole) return -Errno.EINVAL;
                        if (count < 0 || count > VfsProtocol.DataBytes || count > DataRoom) return -Errno.EINVAL;
                        // A message socket answers the whole message's length (MSG_TRUNC) so the reply can
                        // say it was cut; a non-blocking description is MSG_DONTWAIT to the socket.
                        bool messages = socket.KeepsBoundaries;
                        int given = flags | (file.NonBlocking ? LinuxSocket.MSG_DONTWAIT : 0) | (messages ? LinuxSocket.MSG_TRUNC : 0);
                        if (socket.Lent > 0) EndLendingOf(socket); // (the lender's own calls ended it already)
                        result = socket.Receive(data, count, given, address, out length);
                        if (result == -Errno.EAGAIN) return NotNow(sender, file, socket, flags, false, out reply1);
                        if (result < 0) return result;
                        reply1 = (ulong)(uint)length;
                        if (messages && result > count)
                        {
                            reply1 |= VfsProtocol.Truncated;
                            if ((flags & LinuxSocket.MSG_TRUNC) == 0) result = count;
                        }
                        if (socket is UnixSocket local) reply1 |= Received(sender, local, payload);
                        return result;
                    }

                case VfsProtocol.SendFile:
                    {
                        OpenFile input = Own(sender, w2);
                        if (input == null || !input.CanRead) return -Errno.EBADF;
                        if (!(input.Node is RegularFile)) return -Errno.EINVAL;
                        long offset = *(long*)payload;
                        if (((long*)payload)[1] == 1) CorkFirst(socket);
                        long at = offset >= 0 ? offset : input.Position;
                        long count = (long)w3 > MaximumSendFile ? MaximumSendFile : (long)w3, total = 0;
                        if (at >= 0 && socket.Type == LinuxSocket.SOCK_STREAM && ((RegularFile)input.Node).InMemory(out byte* archive, out byte[] content))
                        {
                            // In memory (the archive, tmpfs): straight from the file's bytes into the
                            // socket's queue, one copy instead of two through _sendFileChunk.
                            long size = input.Node.Size, end = at + count < size ? at + count : size;
                            fixed (byte* own = content)
                            {
                                byte* from = archive != null ? archive : own;
                                while (at + total < end)
                                {
                                    int want = (int)(end - at - total);
                                    long sent = socket.Send(from + at + total, want, 0, null, 0, SocketCaller.Server);
                                    if (sent == -Errno.EAGAIN && total == 0) return NotNow(sender, file, socket, 0, true, out reply1);
                                    if (sent < 0) { if (total == 0) return sent; break; }
                                    total += sent;
                                    if (sent < want) break; // the queue is full: the rest waits for the next call
                                }
                            }
                            if (offset < 0) input.Position = at + total;
                            return total;
                        }
                        fixed (byte* chunk = _sendFileChunk)
                        {
                            while (total < count)
                            {
                                long want = count - total < _sendFileChunk.Length ? count - total : _sendFileChunk.Length;
                                long got = input.ReadAt(at + total, chunk, want, false);
                                if (got <= 0) { if (total == 0 && got < 0) return got; break; }
                                long sent = socket.Send(chunk, (int)got, 0, null, 0, SocketCaller.Server);
                                if (sent == -Errno.EAGAIN && total == 0) return NotNow(sender, file, socket, 0, true, out reply1);
                                if (sent < 0) { if (total == 0) return sent; break; }
                                total += sent;
                                if (sent < got) break;
                            }
                        }
                        if (offset < 0) input.Position = at + total;
                        return total;
                    }

                default:
                    return -Errno.ENOSYS;
            }
        }

        /// <summary>Most bytes one SendFile call moves (the server stays responsive to others).</summary>
        public const int MaximumSendFile = 1 << 20;
        private readonly byte[] _sendFileChunk = new byte[16384];

        /// <summary>Poll of many sockets in one call (an epoll's look): each entry's revents and
        /// change count; with watch, the sender is recorded on each (as Poll). A descriptor the
        /// sender does not hold, or not a socket, gets POLLNVAL.</summary>
        private long PollMany(ulong sender, ulong count, ulong watch, byte* payload, out ulong reply1)
        {
            reply1 = 0;
            if (count == 0 || count > VfsProtocol.MaximumPollBatch || (long)count * VfsProtocol.PollEntryBytes > VfsProtocol.PayloadBytes) return -Errno.EINVAL;
            for (int i = 0; i < (int)count; i++)
            {
                byte* entry = payload + i * VfsProtocol.PollEntryBytes;
                OpenFile file = Own(sender, (ulong)(long)*(int*)entry);
                if (file == null || !(file.Node is SocketNode node))
                {
                    *(short*)(entry + 6) = 0x20; // POLLNVAL
                    *(long*)(entry + 8) = 0;
                    continue;
                }
                *(short*)(entry + 6) = node.Socket.Poll();
                *(long*)(entry + 8) = node.Socket.Changes;
                if ((watch & 1) != 0 && !node.Socket.Watch(sender)) reply1 = 1;
                int slot = *(short*)(entry + 4) - 1;
                if ((watch & VfsProtocol.PollSubscribe) != 0 && slot >= 0) Subscribe(sender, *(int*)entry, node.Socket, slot);
            }
            return 0;
        }

        /// <summary>The caller of a call that may name a path (bind, connect, sendto): its cwd, which
        /// must be a server descriptor it holds (word's low 32 bits; AT_FDCWD: the root;
        /// SocketCaller.OutsideTree: its cwd is in its own tree) else -EBADF.</summary>
        private long Caller(ulong sender, ulong word, uint umask, out SocketCaller caller)
        {
            int directory = (int)(uint)word;
            caller = default;
            if (directory != SocketCaller.OutsideTree && !Dirfd(sender, (ulong)(long)directory, out directory)) return -Errno.EBADF;
            caller = new SocketCaller(sender, directory, umask);
            return 0;
        }

        /// <summary>socketpair(2): two connected AF_UNIX sockets, both installed for sender (fd, and
        /// reply1 the second fd | the type &lt;&lt; 32). Another family: its socket's own errors
        /// (Linux makes the sockets before it asks the family for a pair), then EOPNOTSUPP.</summary>
        private long SocketPair(ulong sender, int domain, int type, int protocol, bool nonBlocking, out ulong reply1)
        {
            reply1 = 0;
            if (domain != LinuxSocket.AF_UNIX)
            {
                if (Sockets == null) return -Errno.EAFNOSUPPORT;
                long made = Sockets.Create(domain, type, protocol, out Socket probe);
                if (made < 0) return made;
                probe.Close();
                return -Errno.EOPNOTSUPP;
            }
            long result = Unix.CreatePair(domain, type, protocol, new SocketCaller(sender, LinuxFile.AT_FDCWD, 0), out Socket first, out Socket second);
            if (result < 0) return result;
            long one = InstallSocket(sender, first, nonBlocking);
            if (one < 0) { second.Close(); return one; }
            long two = InstallSocket(sender, second, nonBlocking);
            if (two < 0) { Files.Table.Close((int)one); return two; }
            reply1 = (ulong)two | (ulong)(uint)first.Type << 32;
            return one;
        }

        /// <summary>What an AF_UNIX read took besides bytes, into ReceiveFrom's reply: the passed
        /// descriptions installed for the receiver (its new server descriptors; one the table has no
        /// room for is dropped) and, with SO_PASSCRED, the sender's credentials. The reply1 bits.</summary>
        private ulong Received(ulong receiver, UnixSocket socket, byte* payload)
        {
            ulong bits = 0;
            OpenFile[] rights = socket.ReceivedRights;
            socket.ReceivedRights = null;
            if (socket.PassCredentials)
            {
                int* credentials = (int*)(payload + VfsProtocol.CredentialsData);
                credentials[0] = socket.ReceivedPid;
                credentials[1] = credentials[2] = 0; // one user: root
                bits |= VfsProtocol.Credentials;
            }
            if (rights == null) return bits;
            int delivered = 0;
            for (int i = 0; i < rights.Length && i < VfsProtocol.MaximumRights; i++)
            {
                OpenFile passed = rights[i];
                long fd = Installed(receiver, Files.Table.Install(passed, false));
                if (--passed.References == 0) passed.Release(); // the message's reference: the descriptor holds it now
                if (fd < 0) continue;
                int* entry = (int*)(payload + VfsProtocol.RightsData + delivered * VfsProtocol.PassedEntryBytes);
                entry[0] = (int)fd;
                entry[1] = passed.Flags;
                entry[2] = (int)passed.Node.Mode;
                entry[3] = passed.Node is SocketNode node ? node.Socket.Type : 0;
                delivered++;
            }
            return bits | (ulong)delivered << 40;
        }

        /// <summary>EAGAIN for a non-blocking call (or a timeout of "do not wait"); else the sender is
        /// recorded to be woken (Blocked), and timeout is the socket's limit for the call's direction
        /// (SO_SNDTIMEO when sending, else SO_RCVTIMEO) in milliseconds, 0 for none.</summary>
        private static long NotNow(ulong sender, OpenFile file, Socket socket, int flags, bool sending, out ulong timeout, bool mustWait = false)
        {
            timeout = 0;
            if (!mustWait && (file.NonBlocking || (flags & LinuxSocket.MSG_DONTWAIT) != 0)) return -Errno.EAGAIN;
            long limit = mustWait ? Socket.NoTimeout : sending ? socket.SendTimeout : socket.ReceiveTimeout;
            if (limit == 0) return -Errno.EAGAIN;
            timeout = limit == Socket.NoTimeout ? 0 : (ulong)limit;
            return socket.Watch(sender) ? VfsProtocol.Blocked : VfsProtocol.BlockedUnwatched;
        }

        /// <summary>SOL_SOCKET's SO_RCVTIMEO or SO_SNDTIMEO (the old and the new numbers: the same
        /// struct on x86-64): every kind of socket keeps them alike (Socket.SetTimeout).</summary>
        private static bool IsTimeout(int level, int name, out bool send)
        {
            send = name == LinuxSocket.SO_SNDTIMEO || name == LinuxSocket.SO_SNDTIMEO_NEW;
            return level == LinuxSocket.SOL_SOCKET && (send || name == LinuxSocket.SO_RCVTIMEO || name == LinuxSocket.SO_RCVTIMEO_NEW);
        }

        // ---- datagrams in pieces

        /// <summary>A datagram on its way in pieces for one process (sending: gathered up to Filled;
        /// receiving: taken whole, handed out up to Filled).</summary>
        private sealed class StagedDatagram
        {
            public Socket Socket;
            public bool Sending;
            public byte[] Bytes;
            public int Filled;
        }

        private readonly Dictionary<ulong, StagedDatagram> _staged = new Dictionary<ulong, StagedDatagram>();
        /// <summary>Where a whole datagram is received before its first piece is answered (one call at a time).</summary>
        private byte[] _datagramScratch;

        /// <summary>Datagrams kept in pieces now (tests: none is left behind).</summary>
        public int StagedDatagrams => _staged.Count;

        /// <summary>A process's unfinished piece (exit, or a new datagram of its) is forgotten.</summary>
        private void ForgetStaged(ulong sender) => _staged.Remove(sender);

        /// <summary>SendTo's piece at 'offset' of a datagram of 'whole' bytes: gathered (answer: its
        /// count) until the piece that completes it sends the datagram (answer: the send's). Pieces
        /// come in order from offset 0; anything else is EINVAL and forgets the datagram.</summary>
        private long SendPiece(ulong sender, OpenFile file, Socket socket, byte* data, int count, int flags, byte* address,
                               int addressLength, SocketCaller caller, int offset, int whole, out ulong reply1)
        {
            reply1 = 0;
            if (socket.Type != LinuxSocket.SOCK_DGRAM || whole < 0) return -Errno.EINVAL;
            if (whole > VfsProtocol.MaximumDatagram) return -Errno.EMSGSIZE;
            if (offset == 0) ForgetStaged(sender);
            _staged.TryGetValue(sender, out StagedDatagram staged);
            if (offset == 0 && count > 0) _staged[sender] = staged = new StagedDatagram { Socket = socket, Sending = true, Bytes = new byte[whole] };
            if (staged == null || !staged.Sending || staged.Socket != socket || staged.Bytes.Length != whole
                || offset != staged.Filled || count == 0 || offset + count > whole)
            {
                ForgetStaged(sender);
                return -Errno.EINVAL;
            }
            new System.ReadOnlySpan<byte>(data, count).CopyTo(new System.Span<byte>(staged.Bytes, offset, count));
            if (offset + count < whole)
            {
                staged.Filled = offset + count;
                return count;
            }
            long result;
            fixed (byte* bytes = staged.Bytes) result = socket.Send(bytes, whole, flags, address, addressLength, caller);
            if (result == -Errno.EAGAIN)
            {
                result = NotNow(sender, file, socket, flags, true, out reply1);
                if (result != -Errno.EAGAIN) return result; // kept: the last piece comes again after the wait
            }
            ForgetStaged(sender);
            return result;
        }

        /// <summary>ReceiveFrom with ReceiveWhole: the next datagram taken whole (at most count bytes
        /// of it), its first piece answered; reply1 is the address's length, with ReceiveMore when the
        /// rest is kept for ReceiveRest.</summary>
        private long ReceiveWhole(ulong sender, OpenFile file, Socket socket, byte* data, int count, int flags, byte* address, byte* payload, out ulong reply1)
        {
            reply1 = 0;
            if (socket.Type != LinuxSocket.SOCK_DGRAM || count > VfsProtocol.MaximumDatagram) return -Errno.EINVAL;
            ForgetStaged(sender);
            if (_datagramScratch == null) _datagramScratch = new byte[VfsProtocol.MaximumDatagram];
            long result;
            int length;
            // The whole length asked (MSG_TRUNC) so the reply can say the datagram was cut.
            int given = flags | (file.NonBlocking ? LinuxSocket.MSG_DONTWAIT : 0) | LinuxSocket.MSG_TRUNC;
            fixed (byte* scratch = _datagramScratch) result = socket.Receive(scratch, count, given, address, out length);
            if (result == -Errno.EAGAIN) return NotNow(sender, file, socket, flags, false, out reply1);
            if (result < 0) return result;
            reply1 = (ulong)(uint)length;
            if (result > count)
            {
                reply1 |= VfsProtocol.Truncated;
                if ((flags & LinuxSocket.MSG_TRUNC) == 0) result = count;
            }
            if (socket is UnixSocket local) reply1 |= Received(sender, local, payload);
            int copied = result < count ? (int)result : count;
            int first = copied < VfsProtocol.DataBytes ? copied : VfsProtocol.DataBytes;
            new System.ReadOnlySpan<byte>(_datagramScratch, 0, first).CopyTo(new System.Span<byte>(data, first));
            if (copied > first)
            {
                var staged = new StagedDatagram { Socket = socket, Bytes = new byte[copied], Filled = first };
                System.Array.Copy(_datagramScratch, staged.Bytes, copied);
                _staged[sender] = staged;
                reply1 |= VfsProtocol.ReceiveMore;
            }
            return result;
        }

        /// <summary>ReceiveRest: the kept datagram's bytes from offset (the next piece, in order): their count.</summary>
        private long ReceivePiece(ulong sender, Socket socket, byte* data, int count, int offset)
        {
            if (!_staged.TryGetValue(sender, out StagedDatagram staged) || staged.Sending || staged.Socket != socket
                || offset != staged.Filled || count <= 0 || count > VfsProtocol.DataBytes)
            {
                ForgetStaged(sender);
                return -Errno.EINVAL;
            }
            int n = staged.Bytes.Length - offset < count ? staged.Bytes.Length - offset : count;
            new System.ReadOnlySpan<byte>(staged.Bytes, offset, n).CopyTo(new System.Span<byte>(data, n));
            staged.Filled = offset + n;
            if (staged.Filled == staged.Bytes.Length) ForgetStaged(sender);
            return n;
        }

        private long InstallSocket(ulong sender, Socket socket, bool nonBlocking)
        {
            var node = new SocketNode(FileSystem.SocketMount, FileSystem.NewInodeNumber(), socket, FileSystem.Now);
            var file = new OpenFile(FileSystem, node, LinuxFile.O_RDWR | (nonBlocking ? LinuxFile.O_NONBLOCK : 0), "socket:[" + node.Number.ToString() + "]");
            long fd = Installed(sender, Files.Table.Install(file, false));
            if (fd < 0) file.Release(); // the table is full: the socket goes
            return fd;
        }
    }
}
