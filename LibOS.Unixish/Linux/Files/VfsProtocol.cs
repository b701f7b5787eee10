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
        /// <summary>Where the payload starts (before it: the deferred closes).</summary>
        public const int Payload = 256;
        /// <summary>Where the server keeps the tree's generation in every client's buffer (the last
        /// 64 bytes: never payload): it grows with every change a stat could see, so a process may
        /// keep the answers it got at an unchanged generation (VfsClient's stat cache).</summary>
        public const int Generation = BufferBytes - 64;
        public const int PayloadBytes = Generation - Payload;
        /// <summary>Where the server writes, at Hello, what its / is: RootArchive (0), RootExt2 or RootExt3.</summary>
        public const int RootKind = BufferBytes - 56;
        public const long RootArchive = 0, RootExt2 = 1, RootExt3 = 2;
        /// <summary>Most deferred closes one call carries.</summary>
        public const int MaximumCloses = Payload / 4;
        /// <summary>Longest data transfer in one call (reads, writes, getdents).</summary>
        public const int DataBytes = 8192;
        /// <summary>Most bytes of a file opened read-only that Open's reply carries.</summary>
        public const int PrefetchBytes = 4096;
        /// <summary>The server's descriptor table (every process's open descriptions together).</summary>
        public const int ServerDescriptors = 16384;

        public const long Redirected = FileSystem.Redirected;

        // Operations (word 0, low 8 bits). Arguments: w1, w2, w3 as listed; "path" is the payload.
        public const int Hello = 1;        // w1 page index (0 .. BufferPages-1), the page with the call
        public const int Goodbye = 2;      // closes every descriptor the sender holds, forgets its buffer
        public const int Open = 3;         // w1 dirfd, w2 flags | mode << 32, w3 path length | umask << 32 -> fd; reply1 mode | archive << 32 | prefetch << 33;
                                           // archive: payload = data address, size; prefetch (a tmpfs file opened O_RDONLY): payload[2] = bytes, [3] = size, bytes from 32
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
        public const int Count = 42;

        /// <summary>The reply of a server busy with its own work (the periodic commit): the client yields and calls again.</summary>
        public const long Busy = -100001;
    }
}
