// A process's half of sockets (docs/libos-unixish.md, "Sockets"): RemoteSocket, the proxy its fd
// table holds for a socket the file server keeps, and the calls that reach it (VfsProtocol's
// socket operations). Pure logic; compiles under the real .NET.
//
// Blocking: a call the server answers Blocked waits through SocketWait (the process layer: a
// signal ends it with -ERESTARTSYS, another runnable thread makes it -ERESTART_THREAD, else the
// process sleeps until the server's wake message) and is made again; BlockedUnwatched (the
// socket's watcher table was full) waits the same way but with recorded = false (yield, not sleep).
// A send that blocks after some bytes went returns what went only when the wait is cut short.
//
// Timeouts (SO_RCVTIMEO, SO_SNDTIMEO): the server keeps them and sends the call's with Blocked;
// the call's SocketTimeout carries it to SocketWait, which starts the deadline at the first wait
// and ends the call with -EAGAIN when it passes (connect: EINPROGRESS), as Linux's timed waits.
// One deadline serves the whole call (every piece of a large send, every wait of MSG_WAITALL).
//
// Datagrams are never split: one larger than a call's data (DataRoom) goes in pieces the server
// gathers (SendTo with the datagram's length) or hands out (ReceiveFrom's ReceiveWhole, then
// ReceiveRest), up to VfsProtocol.MaximumDatagram.
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    /// <summary>A socket the server holds (fstat: S_IFSOCK).</summary>
    public sealed unsafe class RemoteSocket : Inode, IRemoteNode
    {
        /// <summary>The server's descriptor. Of a connection running in this process (Local not
        /// null) there is none yet: asking for it hands the connection back first (HandBack), so
        /// every path that is not served locally keeps the server's semantics.</summary>
        public RemoteHandle Handle
        {
            get
            {
                if (Local != null) HandBack(this);
                return _handle;
            }
        }
        private RemoteHandle _handle;
        /// <summary>A TCP connection this process runs itself (docs/libos-unixish.md, "Connections
        /// run by the process"): its socket in the process's own stack; null once handed back, and
        /// for every socket the server keeps.</summary>
        public Socket Local;
        /// <summary>The process layer's: moves Local's connection back to the server and sets the
        /// handle (BecameRemote); on failure the socket answers as one the server closed.</summary>
        public static delegate*<RemoteSocket, void> HandBack;
        /// <summary>The process layer's: the last descriptor of a connection running here closed:
        /// the server closes it (one call: VfsProtocol.AdoptAndClose).</summary>
        public static delegate*<RemoteSocket, void> CloseLocal;
        /// <summary>The process layer's: this process's description of a listener with a twin
        /// (LocalListener) closed: the loan goes back and the twin closes.</summary>
        public static delegate*<RemoteSocket, void> ListenerClosing;
        /// <summary>Receives that brought bytes (LocalSockets' policy; counted by the system calls).</summary>
        public int Receives;
        /// <summary>A listener lent to this process (docs/libos-unixish.md, "The listener in the
        /// process"): its twin in the process's own stack, which answers the port's handshakes
        /// while Lent; after LendBack it stays until its queue is accepted. Null otherwise.</summary>
        public Socket LocalListener;
        /// <summary>The port's frames come to this process (Lend granted, LendBack not yet).</summary>
        public bool Lent;
        /// <summary>Accepts to go before asking Lend again (it was refused).</summary>
        public int LendWait;
        /// <summary>Of a connection the process's twin of a lent listener made: that listener
        /// (the server never had the connection and gave no filter for it; its close stays here).
        /// Null for every other socket, and once LendBack gave it a filter of its own.</summary>
        public RemoteSocket BornOf;

        /// <summary>HandBack's end: the server's descriptor for the connection (Local cleared).</summary>
        public void BecameRemote(RemoteHandle handle)
        {
            Local = null;
            _handle = handle;
        }
        /// <summary>The server socket's change count at the last Poll (OpenFile.ChangeStamp).</summary>
        public long Changes;
        /// <summary>Set by VfsClient.PollMany: the next OpenFile.Poll of this socket takes Batched
        /// instead of asking the server (and clears it).</summary>
        public bool BatchValid;
        public short Batched;
        /// <summary>This process's readiness board slot for the socket + 1 (0: none; ReadinessBoard.cs).</summary>
        public int BoardSlot;
        /// <summary>SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET, as the server made it (a message goes in one call: at most DataRoom bytes).</summary>
        public readonly int SocketType;
        /// <summary>TCP_CORK as this process last told the server (CorkAtServer), whether the server
        /// took a TCP_CORK of 1 on it before (CorkAccepted), and a cork of 1 not yet told
        /// (CorkPending: it rides with the next send, VfsProtocol.SendCorkFirst). nginx corks
        /// before each answer and uncorks after it: the cork costs no call of its own.</summary>
        public bool CorkAtServer, CorkAccepted, CorkPending;

        public RemoteSocket(Mount mount, RemoteHandle handle, int type) : base(mount, 0, LinuxFile.S_IFSOCK | 0x1FF, 0) { _handle = handle; SocketType = type; }

        /// <summary>A connection taken into this process (VfsClient.Accept with here).</summary>
        public RemoteSocket(Mount mount, Socket local) : base(mount, 0, LinuxFile.S_IFSOCK | 0x1FF, 0) { Local = local; SocketType = LinuxSocket.SOCK_STREAM; }

        /// <summary>Datagrams and sequenced packets: one send is one message (sendmsg, writev gather it; recvmsg, readv scatter it).</summary>
        public bool KeepsBoundaries => SocketType == LinuxSocket.SOCK_DGRAM || SocketType == LinuxSocket.SOCK_SEQPACKET;

        public override StatInfo Stat() => Handle.Client.Fstat(Handle);
    }

    /// <summary>What an AF_UNIX read brought besides bytes (recvmsg's control messages): the
    /// descriptions passed (SCM_RIGHTS) as proxies with their status flags, which the caller
    /// installs or releases (Inode's handle), and the sender's credentials (SO_PASSCRED).</summary>
    public sealed class SocketControl
    {
        public int RightsCount;
        public readonly Inode[] Rights = new Inode[VfsProtocol.MaximumRights];
        public readonly int[] RightsFlags = new int[VfsProtocol.MaximumRights];
        public bool HasCredentials;
        public int Pid;
        public uint Uid, Gid;

        public void Clear()
        {
            for (int i = 0; i < RightsCount; i++) Rights[i] = null;
            RightsCount = 0;
            HasCredentials = false;
        }
    }

    public sealed unsafe partial class VfsClient
    {
        /// <summary>One blocking socket call's time limit: the socket's timeout (from the server's
        /// Blocked), and the deadline SocketWait keeps once the call began to wait.</summary>
        public struct SocketTimeout
        {
            /// <summary>The socket's SO_RCVTIMEO or SO_SNDTIMEO for this call, in milliseconds (0: none).</summary>
            public long Milliseconds;
            /// <summary>The process layer's: when the call gives up (0: not set yet).</summary>
            public ulong Deadline;
            /// <summary>Which call this is (operation and server descriptor): a call made again after
            /// another thread ran resumes its deadline (ResumeTimeout).</summary>
            public ulong Call;
        }

        /// <summary>How a blocked socket call waits (recorded: the server will wake this process, so
        /// it may sleep; else it yields) within its timeout: 0 to call again, or what the call
        /// returns (-EAGAIN when the deadline passed). Null (host tests): -EAGAIN.</summary>
        public static delegate*<bool, SocketTimeout*, long> SocketWait;
        /// <summary>The deadline a call made again (LinuxThreads.RestartLater) had (0: none, or null on the host).</summary>
        public static delegate*<ulong, ulong> ResumeTimeout;

        /// <summary>Set by poll and select while they look at descriptors they may then sleep on:
        /// a socket's look also records this process to be woken (OpenFile.Poll). PollUnrecorded
        /// tells them a socket's table of watchers was full (they must not sleep: they yield).</summary>
        public static bool PollWatch, PollUnrecorded;

        private static SocketTimeout StartTimeout(int op, RemoteSocket socket)
        {
            var timeout = new SocketTimeout { Call = (ulong)(uint)op | (ulong)(uint)socket.Handle.ServerFd << 8 };
            if (ResumeTimeout != null) timeout.Deadline = ResumeTimeout(timeout.Call);
            return timeout;
        }

        /// <summary>The wait after a Blocked reply (limit: its reply1, the socket's timeout).</summary>
        private static long WaitFor(long reply, ulong limit, SocketTimeout* timeout)
        {
            timeout->Milliseconds = (long)limit;
            return SocketWait == null ? -Errno.EAGAIN : SocketWait(reply == VfsProtocol.Blocked, timeout);
        }

        /// <summary>Linux's ERESTARTSYS (Signals'), which SocketWait answers for a signal.</summary>
        private const int RestartSys = 512;

        private static bool IsBlocked(long reply) => reply == VfsProtocol.Blocked || reply == VfsProtocol.BlockedUnwatched;

        private static int DataRoom => VfsProtocol.DataBytes < VfsProtocol.PayloadBytes - VfsProtocol.SocketData
            ? VfsProtocol.DataBytes : VfsProtocol.PayloadBytes - VfsProtocol.SocketData;

        private RemoteSocket NewSocket(long fd, int type) => new RemoteSocket(_mount, NewHandle((int)fd), type);

        /// <summary>socket(2) (type with SOCK_NONBLOCK): 0 and the proxy, or -errno.</summary>
        public long Socket(int domain, int type, int protocol, out RemoteSocket socket)
        {
            socket = null;
            long fd = Call(VfsProtocol.Socket, (ulong)(uint)domain | (ulong)(uint)type << 32, (ulong)(uint)protocol, 0, out ulong made);
            if (fd < 0) return fd;
            socket = NewSocket(fd, made != 0 ? (int)(uint)made : type & LinuxSocket.SOCK_TYPE_MASK);
            return 0;
        }

        /// <summary>socketpair(2) (type with SOCK_NONBLOCK): 0 and the two connected proxies, or -errno.</summary>
        public long SocketPair(int domain, int type, int protocol, out RemoteSocket first, out RemoteSocket second)
        {
            first = second = null;
            long fd = Call(VfsProtocol.SocketPair, (ulong)(uint)domain | (ulong)(uint)type << 32, (ulong)(uint)protocol, 0, out ulong other);
            if (fd < 0) return fd;
            int made = (int)(other >> 32);
            first = NewSocket(fd, made);
            second = NewSocket((int)(uint)other, made);
            return 0;
        }

        private void PutAddress(byte* address, int length)
        {
            if (length > 0) System.Buffer.MemoryCopy(address, Payload, length, length);
        }

        /// <summary>bind: directory is the cwd's server descriptor (an AF_UNIX path is walked from it; AT_FDCWD: the root), umask the process's.</summary>
        public long Bind(RemoteSocket socket, byte* address, int length, int directory = LinuxFile.AT_FDCWD, uint umask = 0x12)
        {
            if (length < 0 || length > LinuxSocket.AddressBytes) return -Errno.EINVAL;
            PutAddress(address, length);
            return Call(VfsProtocol.Bind, (ulong)socket.Handle.ServerFd, (ulong)length, (ulong)(uint)directory | (ulong)(umask & 0x1FF) << 32, out _);
        }

        public long Listen(RemoteSocket socket, int backlog) =>
            Call(VfsProtocol.Listen, (ulong)socket.Handle.ServerFd, (ulong)(uint)backlog, 0, out _);

        /// <summary>The process layer's (LocalNet): takes a connection the server handed over
        /// (the record, VfsProtocol's HandoverInfo block and the peer's address) into this process's own stack: its
        /// socket, or null (then the record goes straight back to the server). Null: never asked.</summary>
        public static delegate*<byte*, int, byte*, byte*, Socket> TakeHere;

        /// <summary>accept4: 0 and the new proxy, the peer's address into 'address' (AddressBytes), or -errno.
        /// here: the server may hand the connection over (VfsProtocol.AcceptHere) when TakeHere is set;
        /// the proxy then runs it in this process (RemoteSocket.Local).</summary>
        public long Accept(RemoteSocket socket, int flags, byte* address, out int addressLength, out RemoteSocket accepted, bool here = false)
        {
            accepted = null;
            addressLength = 0;
            SocketTimeout timeout = StartTimeout(VfsProtocol.Accept, socket);
            ulong ask = here && TakeHere != null ? VfsProtocol.AcceptHere : 0;
            // An event loop's connection (SOCK_NONBLOCK) is subscribed to a board slot by the
            // accept itself: its epoll_ctl and first look then need no PollMany call.
            int slot = 0;
            if ((flags & LinuxSocket.SOCK_NONBLOCK) != 0 && socket.SocketType == LinuxSocket.SOCK_STREAM)
            {
                Transport.AskLend(); // (once, as PollMany does: the subscribed socket's bytes may be lent)
                slot = TakeBoardSlot();
            }
            while (true)
            {
                long fd = Call(VfsProtocol.Accept, (ulong)socket.Handle.ServerFd, (ulong)(uint)flags | ask, (ulong)(uint)slot, out ulong length);
                if (IsBlocked(fd))
                {
                    long waited = WaitFor(fd, length, &timeout);
                    if (waited != 0) { FreeBoardSlot(slot); return waited; }
                    continue;
                }
                if (fd < 0) { FreeBoardSlot(slot); return fd; }
                int peerLength = (int)(uint)length;
                addressLength = peerLength > LinuxSocket.AddressBytes ? LinuxSocket.AddressBytes : peerLength;
                System.Buffer.MemoryCopy(Payload, address, addressLength, addressLength);
                if (fd == VfsProtocol.HandedOver)
                {
                    FreeBoardSlot(slot); // (the server subscribes only a socket it installs)
                    return TakeHandedOver((int)(length >> 32), flags, address, out accepted);
                }
                accepted = NewSocket(fd, socket.SocketType);
                accepted.BoardSlot = slot;
                accepted.CorkAccepted = IsTcp(accepted, address, addressLength);
                return 0;
            }
        }

        private byte[] _record;

        private long TakeHandedOver(int recordLength, int flags, byte* peer, out RemoteSocket accepted)
        {
            accepted = null;
            if (recordLength <= 0 || VfsProtocol.HandoverRecord + recordLength > VfsProtocol.PayloadBytes) return -Errno.EPROTO;
            // The payload is this call's buffer: the record is copied out before any other call.
            if (_record == null || _record.Length < recordLength) _record = new byte[VfsProtocol.PayloadBytes];
            byte* info = stackalloc byte[VfsProtocol.HandoverInfoBytes];
            System.Buffer.MemoryCopy(Payload + VfsProtocol.HandoverInfo, info, VfsProtocol.HandoverInfoBytes, VfsProtocol.HandoverInfoBytes);
            fixed (byte* record = _record)
            {
                System.Buffer.MemoryCopy(Payload + VfsProtocol.HandoverRecord, record, recordLength, recordLength);
                Socket local = TakeHere(record, recordLength, info, peer);
                if (local != null)
                {
                    accepted = new RemoteSocket(_mount, local);
                    return 0;
                }
                long fd = AdoptRecord(record, recordLength, flags); // this process cannot run it: the server does
                if (fd < 0) return fd;
                accepted = NewSocket(fd, LinuxSocket.SOCK_STREAM);
                accepted.CorkAccepted = true; // a handed-over connection is TCP
                return 0;
            }
        }

        /// <summary>An accepted stream socket whose peer is an IPv4 or IPv6 address is TCP, which
        /// takes TCP_CORK as Linux's does: its first cork needs no call of its own to learn that
        /// (RemoteSocket.CorkAccepted; it rides with the next send).</summary>
        private static bool IsTcp(RemoteSocket socket, byte* address, int addressLength)
        {
            if (socket.SocketType != LinuxSocket.SOCK_STREAM || addressLength < 2) return false;
            ushort family = *(ushort*)address;
            return family == LinuxSocket.AF_INET || family == LinuxSocket.AF_INET6;
        }

        /// <summary>Gives a connection's handover record to the server (VfsProtocol.Adopt, in pieces
        /// of at most PayloadBytes): the server descriptor it installed for it (status flags: SOCK_NONBLOCK), or -errno.</summary>
        public long AdoptRecord(byte* record, int length, int flags, bool close = false)
        {
            if (length <= 0) return -Errno.EINVAL;
            int offset = 0;
            while (true)
            {
                int piece = length - offset < VfsProtocol.PayloadBytes ? length - offset : VfsProtocol.PayloadBytes;
                System.Buffer.MemoryCopy(record + offset, Payload, piece, piece);
                ulong w2 = (ulong)(uint)offset | (ulong)(uint)(flags & LinuxSocket.SOCK_NONBLOCK) << 32 | (close ? VfsProtocol.AdoptAndClose : 0);
                long result = Call(VfsProtocol.Adopt, (ulong)(uint)length, w2, (ulong)(uint)piece, out _);
                offset += piece;
                if (result < 0 || offset == length) return result;
            }
        }

        /// <summary>A connection that ended in this process (reset, or closed before it could move):
        /// the server takes back the filter it gave for it (VfsProtocol.AdoptForget), so a later
        /// connection with the same addresses and ports reaches the server again.</summary>
        public long ForgetGiven(uint local, int localPort, uint remote, int remotePort)
        {
            int* tuple = (int*)Payload;
            tuple[0] = (int)local; tuple[1] = localPort; tuple[2] = (int)remote; tuple[3] = remotePort;
            return Call(VfsProtocol.Adopt, 0, VfsProtocol.AdoptForget, 0, out _);
        }

        /// <summary>VfsProtocol.LateSegment: a segment of a connection given back lately (Adopt) that
        /// reached this process's stack after the move: 0 (received there) or -errno.</summary>
        public long LateSegment(uint source, uint destination, System.ReadOnlySpan<byte> segment)
        {
            if (segment.Length > VfsProtocol.PayloadBytes) return -Errno.EINVAL;
            segment.CopyTo(new System.Span<byte>(Payload, segment.Length));
            return Call(VfsProtocol.LateSegment, (ulong)(uint)segment.Length, source | (ulong)destination << 32, 0, out _);
        }

        /// <summary>VfsProtocol.Requeue: a connection the twin of the lent listener made and nobody
        /// here accepted goes to the listener's queue at the server: 0 or -errno.</summary>
        public long Requeue(RemoteSocket listener, byte* record, int length)
        {
            if (length <= 0 || length > VfsProtocol.PayloadBytes) return -Errno.EINVAL;
            System.Buffer.MemoryCopy(record, Payload, length, length);
            return Call(VfsProtocol.Requeue, (ulong)listener.Handle.ServerFd, (ulong)(uint)length, 0, out _);
        }

        /// <summary>VfsProtocol.Lend: the listener's port, its route into info (HandoverInfoBytes), or
        /// -errno; undonePort: the port when the server gave the filter and took it back (-EBUSY),
        /// so frames of the port may be in this process's ring.</summary>
        public long Lend(RemoteSocket listener, byte* info, out int undonePort)
        {
            long port = Call(VfsProtocol.Lend, (ulong)listener.Handle.ServerFd, 0, 0, out ulong reply1);
            undonePort = port == -Errno.EBUSY ? (int)reply1 : 0;
            if (port > 0) System.Buffer.MemoryCopy(Payload + VfsProtocol.HandoverInfo, info, VfsProtocol.HandoverInfoBytes, VfsProtocol.HandoverInfoBytes);
            return port;
        }

        /// <summary>VfsProtocol.LendBack: the port's filter goes back; the connections listed
        /// (count four-tuples: local address, local port, remote address, remote port) keep
        /// running here, each with a filter of its own where given[i] is 1. How many, or -errno.</summary>
        public long LendBack(RemoteSocket listener, int* tuples, int count, int* given)
        {
            if (count < 0 || count > VfsProtocol.MaximumKept) return -Errno.EINVAL;
            System.Buffer.MemoryCopy(tuples, Payload, count * VfsProtocol.LendTupleBytes, count * VfsProtocol.LendTupleBytes);
            long result = Call(VfsProtocol.LendBack, (ulong)listener.Handle.ServerFd, (ulong)count, 0, out _);
            if (result >= 0) System.Buffer.MemoryCopy(Payload, given, count * 4, count * 4);
            return result;
        }

        /// <summary>RemoteSocket.HandBack's end: a proxy for the server descriptor that Adopt installed.</summary>
        public RemoteHandle AdoptedHandle(int serverFd) => NewHandle(serverFd);

        /// <summary>connect: a blocking description waits for the handshake's end (at most SO_SNDTIMEO:
        /// then EINPROGRESS, as Linux); a wait cut short by a signal is EINTR (connect is never restarted).</summary>
        public long Connect(RemoteSocket socket, byte* address, int length, int directory = LinuxFile.AT_FDCWD)
        {
            if (length < 0 || length > LinuxSocket.AddressBytes) return -Errno.EINVAL;
            SocketTimeout timeout = StartTimeout(VfsProtocol.Connect, socket);
            ulong again = timeout.Deadline != 0 ? 1UL : 0UL; // made again after another thread ran: the handshake began
            while (true)
            {
                PutAddress(address, length);
                long result = Call(VfsProtocol.Connect, (ulong)socket.Handle.ServerFd, (ulong)length, again | (ulong)(uint)directory << 32, out ulong limit);
                if (!IsBlocked(result)) return result;
                long waited = WaitFor(result, limit, &timeout);
                if (waited == -Errno.EAGAIN) return -Errno.EINPROGRESS;
                if (waited == -Errno.EINTR || waited == -RestartSys) return -Errno.EINTR;
                if (waited != 0) return waited; // made again later (another thread runs first)
                again = 1;
            }
        }

        /// <summary>send/sendto (address null: the connected peer): bytes sent or -errno. A stream
        /// send on a blocking description goes on until every byte is queued.</summary>
        public long Send(RemoteSocket socket, byte* data, long count, int flags, byte* address, int addressLength, int directory = LinuxFile.AT_FDCWD) =>
            Send(socket, data, count, flags, address, addressLength, directory, null, 0);

        /// <summary>As Send, passing descriptions with the first bytes (SCM_RIGHTS: rights holds
        /// rightsCount server descriptors this process holds).</summary>
        public long Send(RemoteSocket socket, byte* data, long count, int flags, byte* address, int addressLength, int directory, int* rights, int rightsCount)
        {
            if (addressLength < 0 || addressLength > LinuxSocket.AddressBytes || rightsCount < 0 || rightsCount > VfsProtocol.MaximumRights) return -Errno.EINVAL;
            if (Hold(socket, data, count, flags, addressLength, rightsCount)) return count;
            if (_heldSocket != null) FlushHeld(false); // what is held goes first
            long total = 0;
            int room = DataRoom;
            if (socket.KeepsBoundaries && count > room)
            {
                if (socket.SocketType != LinuxSocket.SOCK_DGRAM || rightsCount > 0) return -Errno.EMSGSIZE;
                return count > VfsProtocol.MaximumDatagram ? -Errno.EMSGSIZE : SendDatagramInPieces(socket, data, (int)count, flags, address, addressLength, directory);
            }
            SocketTimeout timeout = StartTimeout(VfsProtocol.SendTo, socket);
            do
            {
                int chunk = count - total < room ? (int)(count - total) : room;
                PutAddress(address, addressLength);
                System.Buffer.MemoryCopy(data + total, Payload + VfsProtocol.SocketData, chunk, chunk);
                int passing = total == 0 ? rightsCount : 0; // the descriptions go with the first bytes
                for (int i = 0; i < passing; i++) ((int*)(Payload + VfsProtocol.RightsData))[i] = rights[i];
                PutSendExtra(passing, directory);
                ulong cork = socket.CorkPending ? VfsProtocol.SendCorkFirst : 0;
                long sent = Call(VfsProtocol.SendTo, (ulong)socket.Handle.ServerFd, (ulong)(uint)chunk | (ulong)(uint)flags << 32,
                    (ulong)(uint)addressLength | cork, out ulong limit);
                if (cork != 0) CorkTold(socket);
                if (IsBlocked(sent))
                {
                    long waited = WaitFor(sent, limit, &timeout);
                    if (waited != 0) return total > 0 ? total : waited;
                    continue;
                }
                if (sent < 0) return total > 0 ? total : sent;
                total += sent;
                if (sent < chunk && (flags & LinuxSocket.MSG_DONTWAIT) != 0) break;
            } while (total < count);
            return total;
        }

        /// <summary>SendTo's two words at SendExtraData: descriptions passed, and the cwd for a path address.</summary>
        private void PutSendExtra(int passing, int directory)
        {
            long* extra = (long*)(Payload + VfsProtocol.SendExtraData);
            extra[0] = passing;
            extra[1] = directory;
        }

        /// <summary>A datagram larger than one call's data: its pieces, the last one sending it whole
        /// (the server gathers them); what that send answers. A wait (the last piece was Blocked)
        /// sends the last piece again.</summary>
        private long SendDatagramInPieces(RemoteSocket socket, byte* data, int count, int flags, byte* address, int addressLength, int directory)
        {
            int room = DataRoom, offset = 0;
            SocketTimeout timeout = StartTimeout(VfsProtocol.SendTo, socket);
            while (true)
            {
                int chunk = count - offset < room ? count - offset : room;
                PutAddress(address, addressLength);
                System.Buffer.MemoryCopy(data + offset, Payload + VfsProtocol.SocketData, chunk, chunk);
                ulong where = (ulong)(uint)addressLength | (ulong)(uint)offset << 8 | (ulong)(uint)count << 32;
                PutSendExtra(0, directory);
                long sent = Call(VfsProtocol.SendTo, (ulong)socket.Handle.ServerFd, (ulong)(uint)chunk | (ulong)(uint)flags << 32, where, out ulong limit);
                if (IsBlocked(sent))
                {
                    long waited = WaitFor(sent, limit, &timeout);
                    if (waited != 0) return waited;
                    continue;
                }
                if (sent < 0 || offset + chunk == count) return sent;
                offset += chunk;
            }
        }

        /// <summary>recv/recvfrom of a datagram socket: one datagram, however large (MSG_WAITALL has
        /// no effect, as Linux's UDP); the bytes a larger one has beyond DataRoom come in pieces.</summary>
        private long ReceiveDatagram(RemoteSocket socket, byte* data, long count, int flags, byte* address, out int addressLength,
                                     out bool truncated, SocketControl control)
        {
            addressLength = 0;
            truncated = false;
            int room = DataRoom;
            int want = count > VfsProtocol.MaximumDatagram ? VfsProtocol.MaximumDatagram : (int)count;
            ulong whole = want > room ? VfsProtocol.ReceiveWhole : 0;
            int serverFd = socket.Handle.ServerFd;
            SocketTimeout timeout = StartTimeout(VfsProtocol.ReceiveFrom, socket);
            while (true)
            {
                long got = Call(VfsProtocol.ReceiveFrom, (ulong)serverFd, (ulong)(uint)want | (ulong)(uint)(flags & ~LinuxSocket.MSG_WAITALL) << 32, whole, out ulong reply1);
                if (IsBlocked(got))
                {
                    long waited = WaitFor(got, reply1, &timeout);
                    if (waited != 0) return waited;
                    continue;
                }
                if (got < 0) return got;
                int length = (int)(uint)reply1;
                if (address != null && length > 0)
                {
                    addressLength = length > LinuxSocket.AddressBytes ? LinuxSocket.AddressBytes : length;
                    System.Buffer.MemoryCopy(Payload, address, addressLength, addressLength);
                }
                long copied = got < want ? got : want; // MSG_TRUNC answers the datagram's full length
                long at = copied < room ? copied : room;
                System.Buffer.MemoryCopy(Payload + VfsProtocol.SocketData, data, at, at);
                truncated = (reply1 & VfsProtocol.Truncated) != 0;
                if (TakeControl(reply1, control)) return got; // an AF_UNIX message (at most DataBytes: no pieces)
                while (at < copied && (reply1 & VfsProtocol.ReceiveMore) != 0)
                {
                    int piece = copied - at < room ? (int)(copied - at) : room;
                    long n = Call(VfsProtocol.ReceiveFrom, (ulong)serverFd, (ulong)(uint)piece, VfsProtocol.ReceiveRest | (ulong)at << 8, out _);
                    if (n <= 0) return n < 0 ? n : -Errno.EIO;
                    System.Buffer.MemoryCopy(Payload + VfsProtocol.SocketData, data + at, n, n);
                    at += n;
                }
                return got;
            }
        }

        /// <summary>recv/recvfrom: bytes (0 at the end of the stream) or -errno; the sender's address
        /// into 'address' (AddressBytes; may be null), its length out. MSG_WAITALL gathers 'count'
        /// bytes of a stream unless it ends, fails or a wait is cut short.</summary>
        public long Receive(RemoteSocket socket, byte* data, long count, int flags, byte* address, out int addressLength) =>
            Receive(socket, data, count, flags, address, out addressLength, out _, null);

        /// <summary>As Receive; truncated: a message was longer than count (its rest is gone unless
        /// MSG_PEEK); control (may be null: passed descriptions are then closed) gets what came with
        /// the bytes. A read that brings descriptions ends there (MSG_WAITALL too), as Linux's.</summary>
        public long Receive(RemoteSocket socket, byte* data, long count, int flags, byte* address, out int addressLength, out bool truncated, SocketControl control)
        {
            control?.Clear();
            // A datagram larger than one call's data comes in pieces (ReceiveDatagram).
            if (socket.SocketType == LinuxSocket.SOCK_DGRAM && count > DataRoom)
                return ReceiveDatagram(socket, data, count, flags, address, out addressLength, out truncated, control);
            addressLength = 0;
            truncated = false;
            if (socket.BoardSlot != 0 && (flags & ~LentFlags) == 0 && count > 0)
            {
                // Bytes the server lent this process (LendArea.cs): no call. MSG_WAITALL takes them
                // and asks the server for the rest.
                int took = LendArea.Take(Transport.Lend, socket.Handle.ServerFd, data, count > int.MaxValue ? int.MaxValue : (int)count, (flags & LinuxSocket.MSG_PEEK) != 0);
                if (took > 0)
                {
                    LentReceives++;
                    if ((flags & LinuxSocket.MSG_WAITALL) == 0 || took == count || (flags & LinuxSocket.MSG_PEEK) != 0) return took;
                    long rest = Receive(socket, data + took, count - took, flags, null, out _, out _, null);
                    return rest > 0 ? took + rest : took;
                }
            }
            if (BoardSaysAgain(socket, flags)) return -Errno.EAGAIN;
            long total = 0;
            int room = DataRoom;
            bool all = (flags & LinuxSocket.MSG_WAITALL) != 0 && (flags & (LinuxSocket.MSG_PEEK | LinuxSocket.MSG_DONTWAIT)) == 0 && !socket.KeepsBoundaries;
            SocketTimeout timeout = StartTimeout(VfsProtocol.ReceiveFrom, socket);
            do
            {
                int chunk = count - total < room ? (int)(count - total) : room;
                long got = Call(VfsProtocol.ReceiveFrom, (ulong)socket.Handle.ServerFd, (ulong)(uint)chunk | (ulong)(uint)(flags & ~LinuxSocket.MSG_WAITALL) << 32, 0, out ulong length);
                if (IsBlocked(got))
                {
                    long waited = WaitFor(got, length, &timeout);
                    if (waited != 0) return total > 0 ? total : waited;
                    continue;
                }
                if (got < 0) return total > 0 ? total : got;
                uint named = (uint)length;
                if (address != null && total == 0 && named > 0)
                {
                    addressLength = named > LinuxSocket.AddressBytes ? LinuxSocket.AddressBytes : (int)named;
                    System.Buffer.MemoryCopy(Payload, address, addressLength, addressLength);
                }
                if ((length & VfsProtocol.Truncated) != 0) truncated = true;
                long copied = got < chunk ? got : chunk; // a datagram's full length may exceed what was asked (MSG_TRUNC)
                System.Buffer.MemoryCopy(Payload + VfsProtocol.SocketData, data + total, copied, copied);
                bool passed = TakeControl(length, control); // last: a close it defers may call the server (the payload changes)
                if (!all) return got;
                total += copied;
                if (got == 0 || passed) break;
            } while (total < count);
            return total;
        }

        /// <summary>The credentials and passed descriptions of a ReceiveFrom reply (reply1: its
        /// second word) into control as proxies, or closed when control is null or full. Whether
        /// descriptions came.</summary>
        private bool TakeControl(ulong reply1, SocketControl control)
        {
            if (control != null && (reply1 & VfsProtocol.Credentials) != 0)
            {
                int* credentials = (int*)(Payload + VfsProtocol.CredentialsData);
                control.HasCredentials = true;
                control.Pid = credentials[0];
                control.Uid = (uint)credentials[1];
                control.Gid = (uint)credentials[2];
            }
            int count = (int)((reply1 >> 40) & 0xFF);
            if (count > VfsProtocol.MaximumRights) count = VfsProtocol.MaximumRights;
            if (count == 0) return false;
            int words = VfsProtocol.PassedEntryBytes / 4;
            int* entries = stackalloc int[count * words]; // copied first: releasing a proxy may call the server
            System.Buffer.MemoryCopy(Payload + VfsProtocol.RightsData, entries, count * VfsProtocol.PassedEntryBytes, count * VfsProtocol.PassedEntryBytes);
            for (int i = 0; i < count; i++)
            {
                int* entry = entries + i * words;
                int fd = entry[0], flags = entry[1], type = entry[3];
                uint mode = (uint)entry[2];
                RemoteHandle handle = NewHandle(fd);
                if (control == null || control.RightsCount == control.Rights.Length)
                {
                    handle.Release(); // nobody to take it: closed (deferred), as Linux closes what recv cannot deliver
                    continue;
                }
                Inode node;
                if ((mode & LinuxFile.S_IFMT) == LinuxFile.S_IFDIR) node = new RemoteDirectory(_mount, handle, mode);
                else if ((mode & LinuxFile.S_IFMT) == LinuxFile.S_IFSOCK) node = new RemoteSocket(_mount, handle, type);
                else node = new RemoteFile(_mount, handle, mode, null, 0);
                control.Rights[control.RightsCount] = node;
                control.RightsFlags[control.RightsCount] = flags;
                control.RightsCount++;
            }
            return true;
        }

        /// <summary>sendfile from a server file to a socket, moved inside the server (no copy through
        /// this process): offset &lt; 0 uses and moves the description's position in the server.
        /// Bytes sent or -errno; a blocking socket waits until some can go.</summary>
        public long SendFile(RemoteSocket socket, RemoteFile file, long offset, long count)
        {
            // An archive file opened from an anchor has no server description yet: its bytes are in
            // this process's copy of the archive, so a send that fits one call carries them (one
            // call, as SendFile is, without the Reopen that making the description would cost).
            if (file.ArchiveData != null && file.Handle.Fd == RemoteHandle.Pending && offset >= 0 && count <= DataRoom)
            {
                long left = file.ArchiveSize - offset;
                if (left <= 0 || count == 0) return 0;
                return Send(socket, file.ArchiveData + offset, count < left ? count : left, 0, null, 0);
            }
            if (_heldSocket != null) FlushHeld(false); // what is held goes first
            long total = 0;
            SocketTimeout timeout = StartTimeout(VfsProtocol.SendFile, socket);
            while (total < count)
            {
                // The descriptors first: a file opened from an anchor gets its server description
                // now (a Reopen call, which writes the payload), before this call's payload is written.
                ulong socketFd = (ulong)socket.Handle.ServerFd, fileFd = (ulong)file.Handle.ServerFd;
                *(long*)Payload = offset < 0 ? -1 : offset + total;
                bool cork = socket.CorkPending;
                ((long*)Payload)[1] = cork ? 1 : 0;
                long sent = Call(VfsProtocol.SendFile, socketFd, fileFd, (ulong)(count - total), out ulong limit);
                if (cork) CorkTold(socket);
                if (IsBlocked(sent))
                {
                    long waited = WaitFor(sent, limit, &timeout);
                    if (waited != 0) return total > 0 ? total : waited;
                    continue;
                }
                if (sent < 0) return total > 0 ? total : sent;
                if (sent == 0) break;
                total += sent;
            }
            return total;
        }

        public long Shutdown(RemoteSocket socket, int how) =>
            Call(VfsProtocol.Shutdown, (ulong)socket.Handle.ServerFd, (ulong)(uint)how, 0, out _);

        /// <summary>getsockname (peer false) or getpeername: the address's length, written to 'address' (AddressBytes).</summary>
        public long Name(RemoteSocket socket, bool peer, byte* address)
        {
            long length = Call(VfsProtocol.SocketName, (ulong)socket.Handle.ServerFd, peer ? 1UL : 0UL, 0, out _);
            if (length < 0) return length;
            if (length > LinuxSocket.AddressBytes) length = LinuxSocket.AddressBytes;
            System.Buffer.MemoryCopy(Payload, address, length, length);
            return length;
        }

        public long SetOption(RemoteSocket socket, int level, int name, byte* value, int length)
        {
            if (length < 0) return -Errno.EINVAL;
            if (length > LinuxSocket.AddressBytes) length = LinuxSocket.AddressBytes; // no option we know is longer
            bool cork = level == LinuxSocket.IPPROTO_TCP && name == LinuxSocket.TCP_CORK && length >= 4;
            if (cork && socket.CorkAccepted)
            {
                // A cork waits for the next send (nothing can see it before); an uncork of a cork
                // never told undoes nothing. Only an uncork of a told cork goes now (it pushes);
                // what the process held goes with it, in the same call.
                bool on = *(int*)value != 0;
                if (on) { if (!socket.CorkAtServer) socket.CorkPending = true; return 0; }
                if (_heldSocket == socket && FlushHeld(true)) return 0;
                socket.CorkPending = false;
                if (!socket.CorkAtServer) return 0;
            }
            if (_heldSocket != null) FlushHeld(false);
            PutAddress(value, length);
            long result = Call(VfsProtocol.SetOption, (ulong)socket.Handle.ServerFd, (ulong)(uint)level | (ulong)(uint)name << 32, (ulong)length, out _);
            if (cork && result == 0)
            {
                socket.CorkAtServer = *(int*)value != 0;
                if (socket.CorkAtServer) socket.CorkAccepted = true;
            }
            return result;
        }

        // ---- held sends (docs/libos-unixish.md, "Held sends")
        //
        // While a TCP socket is corked (TCP_CORK of 1, as nginx's tcp_nopush has it around each
        // answer), what the process sends on it stays in the process, up to HoldBytes, and goes
        // to the server in one call with the uncork: nginx's header, its file and the uncork are
        // one call instead of three. Linux holds these bytes too (a corked socket sends only full
        // segments), in the kernel; here they must go before anything that could tell the
        // difference, so they are flushed (with the cork kept) before
        // - every other call to the server (Send, SendFile, SetOption and GetOption do it before
        //   writing their payload; Call does it, keeping the payload, for any other);
        // - every Linux system call but the few HoldingSurvives names (LinuxSystemCalls.Dispatch):
        //   a sleep, a fork, an exit, a read of the reply all come after the bytes went.
        // Invariants: bytes are held only while the socket's board slot shows it Roomy (a send of
        // HoldBytes would be taken whole) and without error or hang-up, so the flush is answered
        // as the sends were; only sends of this process fill the socket until the flush (a fork
        // flushes first), so the room stays. The flush waits for room even on an O_NONBLOCK
        // description (VfsProtocol.SendHeld): those bytes were answered as sent. Not kept:
        // Linux's 200 ms cork timer (a process that corks, sends and then computes without a
        // system call keeps its bytes until its next call).
        private byte[] _held;
        private int _heldCount;
        private RemoteSocket _heldSocket;

        /// <summary>The client holding bytes (HeldSocket), or null.</summary>
        public static VfsClient Holding
        {
            get => s_holding;
            private set { s_holding = value; DispatchFlag.Update(); }
        }
        private static VfsClient s_holding;
        /// <summary>The socket whose sends are held, or null.</summary>
        public RemoteSocket HeldSocket => _heldSocket;
        /// <summary>Sends held in the process, and flushes of them (tests).</summary>
        public ulong HeldSends, HeldFlushes;
        /// <summary>The process layer's wait while a flush finds no room (recorded: the server wakes
        /// it at the socket's next change); null: give up (the rest is lost, as a dead connection's).</summary>
        public static delegate*<bool, void> FlushWait;

        private const int HoldableFlags = LinuxSocket.MSG_NOSIGNAL | LinuxSocket.MSG_DONTWAIT | LinuxSocket.MSG_MORE;

        private bool Hold(RemoteSocket socket, byte* data, long count, int flags, int addressLength, int rightsCount)
        {
            if (count <= 0 || !(socket.CorkPending || socket.CorkAtServer) || socket.BoardSlot == 0) return false;
            if (addressLength != 0 || rightsCount != 0 || (flags & ~HoldableFlags) != 0 || socket.SocketType != LinuxSocket.SOCK_STREAM) return false;
            if ((_heldSocket != null && _heldSocket != socket) || _heldCount + count > VfsProtocol.HoldBytes) return false;
            byte* buffer = Transport.Buffer;
            if (buffer == null || !ReadinessBoard.Read(buffer, socket.BoardSlot - 1, socket.Handle.ServerFd, out short revents, out ushort boardFlags, out _)) return false;
            if ((boardFlags & ReadinessBoard.Roomy) == 0 || (revents & (PollError | PollHangUp)) != 0) return false;
            if (_held == null) _held = new byte[VfsProtocol.HoldBytes];
            fixed (byte* to = _held) System.Buffer.MemoryCopy(data, to + _heldCount, count, count);
            _heldCount += (int)count;
            _heldSocket = socket;
            Holding = this;
            HeldSends++;
            return true;
        }

        private const short PollError = 0x8, PollHangUp = 0x10;

        /// <summary>Whether Linux call 'number', whose first argument names 'target' (a descriptor's
        /// node, or null), leaves held sends held: more bytes for the held socket (which may hold
        /// them too), its cork's setsockopt (the uncork sends them), a close (of another
        /// descriptor; of the held socket's, whose last close sends them with the close in one
        /// call: VfsClient.Flush), and calls nothing of the socket can be seen through. Every other
        /// call (a sleep, a read, a fork, an exit...) comes after the bytes went, as on Linux.</summary>
        public static bool HoldingSurvives(ulong number, Inode target, RemoteSocket held)
        {
            switch (number)
            {
                case LinuxSystemCallNumbers.write: case LinuxSystemCallNumbers.writev: case LinuxSystemCallNumbers.sendto:
                case LinuxSystemCallNumbers.sendmsg: case LinuxSystemCallNumbers.sendfile: case LinuxSystemCallNumbers.setsockopt:
                    return target == held;
                case LinuxSystemCallNumbers.close:
                    return true;
                case LinuxSystemCallNumbers.fstat: case LinuxSystemCallNumbers.getpid: case LinuxSystemCallNumbers.gettimeofday:
                case LinuxSystemCallNumbers.time: case LinuxSystemCallNumbers.clock_gettime:
                    return true;
                default:
                    return false;
            }
        }

        /// <summary>Sends what is held now, the socket staying corked (LinuxSystemCalls.Dispatch, before a call that could see it).</summary>
        public void FlushHeld() => FlushHeld(false);

        /// <summary>Sends what is held, in one call: with uncork, as the uncork's call (the cork
        /// comes off once every byte is queued). Whether every byte went.</summary>
        private bool FlushHeld(bool uncork)
        {
            RemoteSocket socket = _heldSocket;
            if (socket == null) return true;
            int count = _heldCount;
            _heldSocket = null;
            _heldCount = 0;
            Holding = null;
            HeldFlushes++;
            ulong bits = VfsProtocol.SendHeld;
            if (uncork)
            {
                // Uncorked after the send even when the cork was never told: an uncork pushes what
                // waits past Nagle too (Linux's TCP_NAGLE_PUSH), which a plain send would not.
                bits |= VfsProtocol.SendUncorkAfter;
                socket.CorkPending = false;
            }
            else if (socket.CorkPending) bits |= VfsProtocol.SendCorkFirst;
            int total = 0;
            int fd = socket.Handle.ServerFd;
            fixed (byte* held = _held)
            {
                while (total < count)
                {
                    int chunk = count - total;
                    System.Buffer.MemoryCopy(held + total, Payload + VfsProtocol.SocketData, chunk, chunk);
                    PutSendExtra(0, LinuxFile.AT_FDCWD);
                    long sent = Call(VfsProtocol.SendTo, (ulong)fd, (ulong)(uint)chunk | (ulong)(uint)LinuxSocket.MSG_NOSIGNAL << 32, bits, out _);
                    if ((bits & VfsProtocol.SendCorkFirst) != 0) { CorkTold(socket); bits &= ~VfsProtocol.SendCorkFirst; }
                    if (IsBlocked(sent))
                    {
                        if (FlushWait == null) break;
                        FlushWait(sent == VfsProtocol.Blocked);
                        continue;
                    }
                    if (sent <= 0) break; // the connection failed: lost, as what a reset connection had queued
                    total += (int)sent;
                }
            }
            if (total < count) return false;
            if ((bits & VfsProtocol.SendUncorkAfter) != 0) socket.CorkAtServer = false;
            return true;
        }

        /// <summary>A pending cork went with a send: the server corked before sending.</summary>
        private static void CorkTold(RemoteSocket socket)
        {
            socket.CorkPending = false;
            socket.CorkAtServer = true;
        }

        /// <summary>Tells the server a pending cork now (before a call that could see it: getsockopt).</summary>
        private void TellCork(RemoteSocket socket)
        {
            if (!socket.CorkPending) return;
            int one = 1;
            socket.CorkPending = false;
            PutAddress((byte*)&one, 4);
            if (Call(VfsProtocol.SetOption, (ulong)socket.Handle.ServerFd, (ulong)LinuxSocket.IPPROTO_TCP | (ulong)LinuxSocket.TCP_CORK << 32, 4, out _) == 0)
                socket.CorkAtServer = true;
        }

        /// <summary>getsockopt: the value's length (at most 'length'), written to 'value'.</summary>
        public long GetOption(RemoteSocket socket, int level, int name, byte* value, int length)
        {
            if (length < 0) return -Errno.EINVAL;
            if (_heldSocket != null) FlushHeld(false);
            TellCork(socket);
            if (length > LinuxSocket.AddressBytes) length = LinuxSocket.AddressBytes;
            long written = Call(VfsProtocol.GetOption, (ulong)socket.Handle.ServerFd, (ulong)(uint)level | (ulong)(uint)name << 32, (ulong)length, out _);
            if (written < 0) return written;
            if (written > length) written = length;
            System.Buffer.MemoryCopy(Payload, value, written, written);
            return written;
        }

        /// <summary>One call for many sockets (an epoll's look over its interests): each one's revents
        /// and change count are kept in it for its next OpenFile.Poll (BatchValid); with watch the
        /// server records this process on each (PollUnrecorded when one could not).</summary>
        public void PollMany(List<RemoteSocket> sockets, bool watch)
        {
            int count = sockets.Count < VfsProtocol.MaximumPollBatch ? sockets.Count : VfsProtocol.MaximumPollBatch;
            if (count == 0) return;
            Transport.AskLend(); // (once: a process that watches sockets may be lent their bytes)
            byte* payload = Payload;
            bool subscribing = false;
            for (int i = 0; i < count; i++)
            {
                byte* entry = payload + i * VfsProtocol.PollEntryBytes;
                RemoteSocket socket = sockets[i];
                if (socket.BoardSlot == 0) socket.BoardSlot = TakeBoardSlot();
                subscribing |= socket.BoardSlot != 0;
                *(int*)entry = socket.Handle.ServerFd;
                *(int*)(entry + 4) = socket.BoardSlot; // as a short at +4 (the server's revents go to +6)
                *(long*)(entry + 8) = 0;
            }
            long result = Call(VfsProtocol.PollMany, (ulong)count, (watch ? 1UL : 0UL) | (subscribing ? VfsProtocol.PollSubscribe : 0), 0, out ulong unrecorded);
            if (result < 0) return; // each socket asks for itself
            payload = Payload; // (the call may have registered the buffer again: the same pages)
            for (int i = 0; i < count; i++)
            {
                byte* entry = payload + i * VfsProtocol.PollEntryBytes;
                RemoteSocket socket = sockets[i];
                socket.Batched = *(short*)(entry + 6);
                socket.Changes = *(long*)(entry + 8);
                socket.BatchValid = true;
            }
            if (watch && unrecorded != 0) PollUnrecorded = true;
        }

        // ---- the readiness board (ReadinessBoard.cs)

        /// <summary>Slots of this process's board in use (bit i: slot i).</summary>
        private readonly ulong[] _boardUsed = new ulong[(ReadinessBoard.Slots + 63) / 64];

        /// <summary>Looks answered from the board, and receives it answered EAGAIN (tests, /proc).</summary>
        public long BoardLooks, BoardAgains;
        /// <summary>Receives answered from lent bytes (LendArea.cs), without a call.</summary>
        public long LentReceives;
        /// <summary>The MSG_ flags a receive from lent bytes allows (others ask the server).</summary>
        private const int LentFlags = LinuxSocket.MSG_PEEK | LinuxSocket.MSG_DONTWAIT | LinuxSocket.MSG_WAITALL;

        /// <summary>A free board slot + 1, or 0 when all are taken (the socket is then asked each time).</summary>
        private int TakeBoardSlot()
        {
            for (int w = 0; w < _boardUsed.Length; w++)
            {
                ulong free = ~_boardUsed[w];
                if (free == 0) continue;
                int bit = 0;
                while ((free & 1) == 0) { free >>= 1; bit++; } // (our runtime has no BitOperations)
                int slot = w * 64 + bit;
                if (slot >= ReadinessBoard.Slots) return 0;
                _boardUsed[w] |= 1UL << bit;
                return slot + 1;
            }
            return 0;
        }

        /// <summary>The socket's description was released (its close already reached the server: no
        /// more writes to the slot from that subscription): its slot is free again.</summary>
        public void ForgetBoard(RemoteSocket socket)
        {
            FreeBoardSlot(socket.BoardSlot);
            socket.BoardSlot = 0;
        }

        /// <summary>A slot TakeBoardSlot gave (slot + 1; 0: none) is free again.</summary>
        private void FreeBoardSlot(int slotPlusOne)
        {
            int slot = slotPlusOne - 1;
            if (slot >= 0) _boardUsed[slot >> 6] &= ~(1UL << (slot & 63));
        }

        /// <summary>Whether the board shows this socket (its epoll looks then need no call).</summary>
        public bool BoardShows(RemoteSocket socket)
        {
            if (socket.BoardSlot == 0) return false;
            byte* buffer = Transport.Buffer;
            return buffer != null && ReadinessBoard.Read(buffer, socket.BoardSlot - 1, socket.Handle.ServerFd, out _, out _, out _);
        }

        /// <summary>poll's revents of the socket from the board (its change count into Changes);
        /// with PollWatch the board is armed first, so the slot's next change wakes this process.
        /// False: the board does not show it (ask the server).</summary>
        public bool PollBoard(RemoteSocket socket, out short revents)
        {
            revents = 0;
            if (socket.BoardSlot == 0) return false;
            byte* buffer = Transport.Buffer;
            if (buffer == null) return false;
            if (PollWatch) ReadinessBoard.Arm(buffer);
            if (!ReadinessBoard.Read(buffer, socket.BoardSlot - 1, socket.Handle.ServerFd, out revents, out _, out long changes)) return false;
            if (LendArea.Remaining(Transport.Lend, socket.Handle.ServerFd) > 0) revents |= LentReadable; // the slot shows it beyond them
            socket.Changes = changes;
            BoardLooks++;
            return true;
        }

        private const short LentReadable = 0x1; // POLLIN

        /// <summary>After a wait: no wake is wanted for the board any more.</summary>
        public void DisarmBoard()
        {
            byte* buffer = Transport.Buffer;
            if (buffer != null) ReadinessBoard.Disarm(buffer);
        }

        /// <summary>A receive (these MSG_ flags) the board shows would answer EAGAIN: no call needed.</summary>
        private bool BoardSaysAgain(RemoteSocket socket, int flags)
        {
            if (socket.BoardSlot == 0 || (flags & LinuxSocket.MSG_PEEK) != 0) return false;
            byte* buffer = Transport.Buffer;
            if (buffer == null || !ReadinessBoard.Read(buffer, socket.BoardSlot - 1, socket.Handle.ServerFd, out _, out ushort boardFlags, out _)) return false;
            if (!ReadinessBoard.ReceiveIsAgain(boardFlags, flags)) return false;
            BoardAgains++;
            return true;
        }

        /// <summary>poll's revents of the socket; with watch the server records this process to be
        /// woken at the socket's next change, ready or not (an edge-triggered epoll sleeps on
        /// ready sockets it already reported); recorded false: its table was full, the caller
        /// must not sleep.</summary>
        public short Poll(RemoteSocket socket, short events, bool watch, out bool recorded)
        {
            long ready = Call(VfsProtocol.Poll, (ulong)socket.Handle.ServerFd, (watch ? 1UL : 0UL) | (ulong)(ushort)events << 16, 0, out ulong second);
            recorded = watch && (second & 1) == 0;
            socket.Changes = (long)(second >> 1);
            if (ready < 0) { recorded = false; return 0x8; } // POLLERR: the server could not answer
            return (short)ready;
        }
    }

    /// <summary>Whether system calls take LinuxSystemCalls' slow dispatch: a client holds sends
    /// (VfsClient.Holding != null) or the process counts its calls (AEGIS_SYSCALL_COUNTS). A lone
    /// bool: the test LinuxSystemCalls.Dispatch makes on every system call is one compare (a
    /// reference static of a class with a static constructor cost getppid 7 instructions).</summary>
    public static class DispatchFlag
    {
        public static bool Slow;
        /// <summary>Whether the process counts its calls (LinuxSystemCalls.CountFor sets it).</summary>
        public static bool Counting;

        /// <summary>Sets Slow from what it stands for (after either changes).</summary>
        public static void Update() => Slow = VfsClient.Holding != null || Counting;
    }
}
