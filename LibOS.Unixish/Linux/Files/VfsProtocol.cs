// The file server's protocol (docs/libos-unixish.md, "Files"): what a process (VfsClient) and the
// file-server environment (VfsServer) say to each other over IpcCall. Pure constants; compiles
// under the real .NET.
//
// A call is four words and the client's buffer (BufferBytes, granted to the server once, page by
// page, with Hello). Word 0 is the operation in its low 8 bits and, in bits 8-15, how many server
// descriptors the client closes with this call (deferred closes: their numbers are the first
// ints of the buffer). The request's strings and data start at Payload; so do the reply's. Reply
// word 0 is the result (>= 0, or -errno, or Redirected), reply word 1 a second result.
//
// The server writes the tree's generation at Generation in every registered buffer whenever the
// tree changes in a way stat could see (see VfsServer.Changes).
//
// Redirected: the path went on into the other half of the tree (the server's walk reached /dev or
// /proc, which are each process's own): the payload holds the absolute path left, reply word 1 its
// length; the client resolves it in its own tree.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    public static class VfsProtocol
    {
        public const int BufferPages = 4;
        public const int BufferBytes = BufferPages * 4096;
        /// <summary>The page after the buffer, registered (Hello with this index) only by a process
        /// that subscribes a readiness board: the server lends it received bytes there (LendArea.cs).
        /// A call from a process that has it passes the server BufferBytes + 4096 as the buffer's size.</summary>
        public const int LendPage = BufferPages;
        /// <summary>Pages reserved for a process's buffer: the buffer and the lend page.</summary>
        public const int ReservedPages = BufferPages + 1;
        /// <summary>Where the readiness board starts (ReadinessBoard.cs), from the buffer's start:
        /// past the largest payload any call uses (SendExtraData's two longs end 12,400 bytes into
        /// the payload, which starts at Payload: 12,656), up to Generation; the payload ends before
        /// it. In the same pages as the payload, so registering costs no more Hellos.</summary>
        public const int Board = 12672;
        /// <summary>Where the payload starts (before it: the deferred closes).</summary>
        public const int Payload = 256;
        /// <summary>Where the server keeps the tree's generation in every client's buffer (the last
        /// 64 bytes: never payload): it grows with every change a stat could see, so a process may
        /// keep the answers it got at an unchanged generation (VfsClient's stat cache).</summary>
        public const int Generation = BufferBytes - 64;
        public const int PayloadBytes = Board - Payload;
        /// <summary>Where the server writes, at Hello, what its / is: RootArchive (0), RootExt2 or RootExt3.</summary>
        public const int RootKind = BufferBytes - 56;
        public const long RootArchive = 0, RootExt2 = 1, RootExt3 = 2;
        /// <summary>Most deferred closes one call carries.</summary>
        public const int MaximumCloses = Payload / 4;
        /// <summary>Longest data transfer in one call (reads, writes, getdents).</summary>
        public const int DataBytes = 8192;
        /// <summary>Most bytes of a file opened read-only that Open's reply carries.</summary>
        public const int PrefetchBytes = 4096;
        /// <summary>Where Open's reply puts the file's StatInfo (after the prefetched bytes).</summary>
        public const int OpenStatOffset = 32 + PrefetchBytes;
        /// <summary>The server's descriptor table (every process's open descriptions together).</summary>
        public const int ServerDescriptors = 16384;

        public const long Redirected = FileSystem.Redirected;

        // Operations (word 0, low 8 bits). Arguments: w1, w2, w3 as listed; "path" is the payload.
        public const int Hello = 1;        // w1 page index (0 .. BufferPages-1, or LendPage), the page with the call
        public const int Goodbye = 2;      // closes every descriptor the sender holds, forgets its buffer
        public const int Open = 3;         // w1 dirfd, w2 flags | mode << 32, w3 path length | umask << 32 -> fd; reply1 mode | archive << 32 | prefetch << 33 | stat << 34;
                                           // archive: payload = data address, size; prefetch (a tmpfs file opened O_RDONLY): payload[2] = bytes, [3] = size, bytes from 32;
                                           // stat (a regular file opened O_RDONLY): its StatInfo at OpenStatOffset (fstat answers it while nothing changes)
        public const int Stat = 4;         // w1 dirfd, w2 flags, w3 path length -> 0; payload = StatInfo
        public const int Fstat = 5;        // w1 fd -> 0; payload = StatInfo
        public const int ReadLink = 6;     // w1 dirfd, w3 path length -> target length; payload = target
        public const int MakeDirectory = 7; // w1 dirfd, w2 mode, w3 path length
        public const int Unlink = 8;       // w1 dirfd, w2 flags, w3 path length
        public const int Rename = 9;       // w1 old dirfd | new dirfd << 32, w2 flags, w3 old length | new length << 32
        public const int Link = 10;        // as Rename
        public const int Symlink = 11;     // w1 new dirfd, w3 target length | path length << 32
        public const int Access = 12;      // w1 dirfd, w2 mode | flags << 32, w3 path length
        public const int Chmod = 13;       // w1 dirfd, w2 mode | flags << 32, w3 path length
        public const int Chown = 14;       // w1 dirfd, w2 uid | gid << 32, w3 path length | flags << 32
        public const int Utimens = 15;     // w1 dirfd, w2 flags | haveTimes << 32, w3 path length; payload: 4 longs, then the path
        public const int Truncate = 16;    // w1 dirfd, w2 length, w3 path length
        public const int Fchmod = 17;      // w1 fd, w2 mode
        public const int Fchown = 18;      // w1 fd, w2 uid | gid << 32
        public const int Ftruncate = 19;   // w1 fd, w2 length
        public const int Futimens = 20;    // w1 fd, w2 haveTimes; payload: 4 longs
        public const int StatFs = 21;      // w1 dirfd, w3 path length (0: w1 is the fd) -> 0; payload: type, blocks, free, files, free files, device
        public const int Read = 22;        // w1 fd, w2 count -> bytes; payload = data
        public const int PRead = 23;       // w1 fd, w2 count, w3 offset
        public const int Write = 24;       // w1 fd, w2 count; payload = data
        public const int PWrite = 25;      // w1 fd, w2 count, w3 offset
        public const int Seek = 26;        // w1 fd, w2 offset, w3 whence
        public const int GetDents = 27;    // w1 fd, w2 length
        public const int GetFlags = 28;    // w1 fd
        public const int SetFlags = 29;    // w1 fd, w2 flags
        public const int Close = 30;       // w1 fd
        public const int Duplicate = 31;   // w1 count, w2 new owner (environment id); payload: fds in, new fds out (-errno each)
        public const int GetCwd = 32;      // w1 fd of a directory -> length; payload = path
        public const int Exec = 33;        // w1 dirfd, w3 path length -> fd as Open (O_RDONLY; -EACCES unless executable)
        public const int Reopen = 34;      // w1 fd, w2 flags -> fd as Open: a new description of fd's inode
        public const int DisplayPath = 35; // w1 fd -> length; payload = what /proc/self/fd shows
        public const int Readable = 36;    // w1 fd -> bytes after the position (FIONREAD)
        public const int SetPosition = 37; // w1 fd, w2 position (the client's own position of an archive file)
        public const int Sync = 38;        // w1 fd (fsync, fdatasync, syncfs) or -1 (sync): what the disk holds is durable
        public const int DropCaches = 39;  // writes back, then forgets every cached block and listing of the disk (/proc/sys/vm/drop_caches)
        public const int Unmount = 40;     // the first process's exit: the disk's file system is written home and marked clean
        public const int DiskStatistics = 41; // -> 0 (payload: reads, sectors read, writes, sectors written, 1 for AHCI's "sda") or -ENODEV
        // Sockets (docs/libos-unixish.md, "Sockets"; Sockets.cs). Addresses are struct sockaddr bytes
        // at the payload's start (LinuxSocket.AddressBytes); data follows at SocketData. "dirfd" is
        // the caller's cwd as a server descriptor (AT_FDCWD: the root; SocketCaller.OutsideTree: not
        // in the server's tree), from which an AF_UNIX path is walked.
        public const int Socket = 42;      // w1 domain | type << 32 (with SOCK_NONBLOCK), w2 protocol -> fd; reply1 the socket's type (AF_UNIX's SOCK_RAW is SOCK_DGRAM)
        public const int Bind = 43;        // w1 fd, w2 address length, w3 dirfd | umask << 32; payload = address
        public const int Listen = 44;      // w1 fd, w2 backlog
        public const int Accept = 45;      // w1 fd, w2 flags (SOCK_NONBLOCK) | AcceptHere, w3 a board slot + 1 for the new socket (0: none) -> fd; payload = the peer's address, reply1 its length;
                                           // or HandedOver: reply1 | record length << 32, payload + HandoverInfo and + HandoverRecord
        public const int Connect = 46;     // w1 fd, w2 address length, w3 1 (calling again after Blocked) | dirfd << 32; payload = address
        public const int Shutdown = 47;    // w1 fd, w2 how
        public const int SocketName = 48;  // w1 fd, w2 1 for the peer's -> address length; payload = address
        public const int SetOption = 49;   // w1 fd, w2 level | name << 32, w3 length; payload = value
        public const int GetOption = 50;   // w1 fd, w2 level | name << 32, w3 length -> length; payload = value
        public const int Poll = 51;        // w1 fd, w2 1 (record the sender to be woken at the next change) | events << 16 -> revents; reply1 the socket's change count << 1 | 1 when not recorded
        public const int SendTo = 52;      // w1 fd, w2 count | flags << 32, w3 address length | piece offset << 8 | SendUncorkAfter | SendHeld | SendCorkFirst | datagram length << 32 (0: the
                                           // data is the whole message); payload = address, data at SocketData, SendExtraData's words, the passed
                                           // server fds (SCM_RIGHTS, ints) at RightsData -> bytes (a piece short of the end: its count)
        public const int ReceiveFrom = 53; // w1 fd, w2 count | flags << 32, w3 0, ReceiveWhole or ReceiveRest | offset << 8 -> bytes (a message's whole
                                           // length with MSG_TRUNC); payload = address, data at SocketData; reply1 address length | Truncated |
                                           // Credentials | ReceiveMore | descriptions passed << 40: PassedEntryBytes each at RightsData (the
                                           // receiver's new server fd, its flags, its mode, a socket's type), pid, uid, gid at CredentialsData
        public const int SendFile = 54;    // w1 socket fd, w2 file fd, w3 count; payload[0] = the file offset (-1: the description's position, which moves),
                                           // payload[1] = 1: cork first (as SendCorkFirst) -> bytes
        public const int PollMany = 55;    // w1 count (1..MaximumPollBatch), w2 1: record the sender on each | PollSubscribe; payload: count entries of
                                           // PollEntryBytes (int fd, short board slot + 1 (0: none), short revents out, long change count out) -> 0;
                                           // reply1 1 when one could not record
        public const int SocketPair = 56;  // w1 domain | type << 32 (with SOCK_NONBLOCK), w2 protocol -> the first fd; reply1 the second fd | type << 32
        public const int ServerCalls = 57; // -> Count; payload: the server's calls so far by operation (Count longs), for /proc/aegis/file_server, then ServerFacts longs
        public const int Adopt = 58;       // w1 the record's whole length, w2 this piece's offset | SOCK_NONBLOCK << 32, w3 the piece's length; payload = the
                                           // piece of a TcpConnection.HandOver record -> 0 (more to come), or the fd of the connection the server took over
        public const int Lend = 59;        // w1 a listening TCP socket's fd -> its port; payload + HandoverInfo = the route (the next hop: the router);
                                           // -EBUSY with reply1 the port when the filter was given and taken back (the port's frames meanwhile: LateSegment)
        public const int LendBack = 60;    // w1 fd, w2 count (0 .. MaximumKept); payload = count four-tuples (LendTuple) -> how many were given; payload = an int per tuple, 1 given
        public const int LateSegment = 61; // w1 length, w2 the IPv4 source | destination << 32 (host order); payload = a TCP segment of a connection the
                                           // sender gave back by Adopt or Requeue lately, or to a port whose loan it gave back (LendBack) or whose Lend
                                           // was undone lately, which reached the sender's stack before the filter moved -> 0, -EPERM (not such)
        public const int Requeue = 62;     // w1 a listener's fd lent to the sender, w2 the record's length (one piece); payload = the TcpConnection.HandOver
                                           // record of a connection the twin made and nobody accepted, on the lent port, or the HandOverHalfOpen record of a
                                           // handshake the twin answered -> 0 (in the listener's queue, or its handshakes, here, for any process that holds
                                           // it), -ECONNREFUSED (not listening, queue or SYN backlog full: reset), -EINVAL (not the sender's loan,
                                           // another port or address, a bad record)
        public const int Count = 63;

        /// <summary>LendBack's four-tuples: ints local address, local port, remote address, remote port.</summary>
        public const int LendTupleBytes = 16;
        /// <summary>Most connections one LendBack keeps running in the process.</summary>
        public const int MaximumKept = 256;

        /// <summary>Accept's w2 bit: the caller may run the connection itself (docs/libos-unixish.md,
        /// "Connections run by the process"); the server may then answer HandedOver.</summary>
        public const ulong AcceptHere = 1UL << 40;
        /// <summary>Adopt's w2 bit: the process closed its last descriptor of the connection: the
        /// server closes it at once (its FIN, its TIME_WAIT) and answers 0, no descriptor.</summary>
        public const ulong AdoptAndClose = 1UL << 62;
        /// <summary>Adopt's w2 bit: no record (w1 and w3 0); the payload names a connection that
        /// ended in the process (4 ints: local address, local port, remote address, remote port):
        /// the server takes back the filter it gave the caller for it. Answers 0.</summary>
        public const ulong AdoptForget = 1UL << 61;
        /// <summary>Accept's answer when it handed the connection over (never a descriptor).</summary>
        public const long HandedOver = 1L << 40;
        /// <summary>Where a handed-over accept's reply puts the route (HandoverInfoBytes: our address,
        /// mask and router as Ipv4Address values, 4 bytes 0, the next hop's MAC as a ulong, 8 bytes 0)
        /// and the record (TcpConnection.HandOver).</summary>
        public const int HandoverInfo = 128, HandoverInfoBytes = 32, HandoverRecord = HandoverInfo + HandoverInfoBytes;

        /// <summary>What ServerCalls' payload has after the Count calls: connections the server
        /// handed to processes to run (AcceptHere answered HandedOver), and connections it took
        /// over from them (Adopt), listeners lent (Lend), processes ended without Goodbye, and
        /// handshakes a borrower gave to a listener here (Requeue), Lends undone after the filter
        /// was given, and segments a process gave for a port whose loan went back (LateSegment)
        /// (/proc/aegis/handover).</summary>
        public const int ServerFacts = 7;

        /// <summary>Each operation's name (/proc/aegis/file_server), indexed by its number; 0 is no operation.</summary>
        public static readonly string[] Names =
        {
            null, "hello", "goodbye", "open", "stat", "fstat", "readlink", "mkdir", "unlink", "rename", "link",
            "symlink", "access", "chmod", "chown", "utimens", "truncate", "fchmod", "fchown", "ftruncate", "futimens",
            "statfs", "read", "pread", "write", "pwrite", "seek", "getdents", "getflags", "setflags", "close",
            "duplicate", "getcwd", "exec", "reopen", "display_path", "readable", "set_position", "sync", "drop_caches", "unmount",
            "disk_statistics", "socket", "bind", "listen", "accept", "connect", "shutdown", "socket_name", "setsockopt", "getsockopt",
            "poll", "sendto", "recvfrom", "sendfile", "poll_many", "socketpair", "server_calls", "adopt", "lend", "lend_back",
            "late_segment", "requeue",
        };
        public const int MaximumPollBatch = 512, PollEntryBytes = 16;
        /// <summary>PollMany's w2 bit: each entry with a board slot subscribes the sender's readiness
        /// board to that socket (ReadinessBoard.cs): the server keeps the slot current from then on.</summary>
        public const ulong PollSubscribe = 2;

        /// <summary>SendTo's w3 bit (above the piece offset's 23 bits): set TCP_CORK to 1 before
        /// sending (a setsockopt the client kept back: VfsClient.SetOption).</summary>
        public const ulong SendCorkFirst = 1UL << 31;
        /// <summary>SendTo's w3 bit: bytes a process held while its socket was corked (VfsClient,
        /// "held sends"): they were answered as sent, so the server waits for room even on an
        /// O_NONBLOCK description (the room was there when they were held: ReadinessBoard.Roomy).</summary>
        public const ulong SendHeld = 1UL << 30;
        /// <summary>SendTo's w3 bit: set TCP_CORK to 0 once every byte of this send is queued (the
        /// uncork that made the process send what it held: one call for both).</summary>
        public const ulong SendUncorkAfter = 1UL << 29;
        /// <summary>The operation word's bit (above the closes' count): the closes this call lists
        /// are done after its operation, not before, and only when ClosesWentAfter says the
        /// operation ended (else they are not done: the client lists them again). SendTo only: the
        /// bytes a process held on a corked socket and that socket's close, in one call (nginx's
        /// answer on a connection it closes: VfsClient.Flush).</summary>
        public const ulong ClosesAfter = 1UL << 16;

        /// <summary>Whether a SendTo with ClosesAfter did its closes: every byte of it was taken
        /// (count, w2's low word); a partial send, an error or a Blocked answer leaves them.</summary>
        public static bool ClosesWentAfter(long result, ulong w2) => result >= 0 && result == (long)(uint)w2;

        /// <summary>SendTo's w3: the piece offset's bits (after the address length's 8): 21, below the flags above.</summary>
        public const ulong SendOffsetMask = 0x1FFFFF;
        /// <summary>The most bytes a process holds on a corked socket (one call's data).</summary>
        public const int HoldBytes = DataBytes;

        /// <summary>Where a socket call's data starts in the payload (after the address: sockaddr_storage's 128 bytes).</summary>
        public const int SocketData = 128;
        /// <summary>ReceiveFrom's reply1 bit: the message was longer than the count asked (recvmsg's MSG_TRUNC).</summary>
        public const ulong Truncated = 1UL << 32;
        /// <summary>ReceiveFrom's reply1 bit: the sender's credentials are at CredentialsData (the socket has SO_PASSCRED).</summary>
        public const ulong Credentials = 1UL << 33;
        /// <summary>Where descriptions passed with a message (SCM_RIGHTS) ride: after the largest data.</summary>
        public const int RightsData = SocketData + DataBytes;
        /// <summary>One passed description in ReceiveFrom's reply: int server fd, int flags, uint mode, int socket type.</summary>
        public const int PassedEntryBytes = 16;
        /// <summary>Most descriptions one message passes (Linux's SCM_MAX_FD).</summary>
        public const int MaximumRights = 253;
        /// <summary>Where ReceiveFrom's credentials (struct ucred: pid, uid, gid) ride: after the passed descriptions (ends within the payload).</summary>
        public const int CredentialsData = RightsData + MaximumRights * PassedEntryBytes;
        /// <summary>SendTo's two longs: the descriptions passed (their server fds at RightsData), and the
        /// caller's cwd for a path address (a server fd it holds, AT_FDCWD, or SocketCaller.OutsideTree).</summary>
        public const int SendExtraData = CredentialsData + 16;

        /// <summary>The largest datagram the protocol carries (in pieces of DataBytes: SendTo with the
        /// datagram's length in w3, ReceiveFrom with ReceiveWhole then ReceiveRest); a socket may
        /// allow less (UDP: 65,507 bytes, as Linux).</summary>
        public const int MaximumDatagram = 65536;
        /// <summary>ReceiveFrom's w3: a datagram socket's count may exceed DataBytes; the datagram is
        /// taken whole, its first piece answered, the rest kept for this process (reply1 has ReceiveMore).</summary>
        public const ulong ReceiveWhole = 1;
        /// <summary>ReceiveFrom's w3 (with the offset << 8): the next piece of the kept datagram.</summary>
        public const ulong ReceiveRest = 2;
        /// <summary>ReceiveFrom's reply1: more of the datagram is kept (ReceiveRest asks for it).</summary>
        public const ulong ReceiveMore = 1UL << 34;

        /// <summary>A socket call on a blocking description that cannot go on now: the sender is
        /// recorded to be woken (a WakeTag message) at the socket's next change; it waits and calls
        /// again. reply1: the socket's SO_RCVTIMEO or SO_SNDTIMEO for the call in milliseconds (0: none).</summary>
        public const long Blocked = -100002;
        /// <summary>As Blocked, but the socket's table of watchers was full: the sender yields and calls again.</summary>
        public const long BlockedUnwatched = -100003;

        /// <summary>The reply of a server busy with its own work (the periodic commit): the client yields and calls again.</summary>
        public const long Busy = -100001;
        /// <summary>The reply to a process whose buffer the server does not hold (never registered, or
        /// its slot was taken for another): it registers again (Hello) and calls again. Not an errno:
        /// ENOTCONN, which it once was, is also a socket call's answer (getpeername unconnected).</summary>
        public const long Unregistered = -100004;
    }
}
