// One process's view of the VFS and the semantics of every file call, with paths as strings and
// buffers as libOS-addressable pointers (FileCalls copies the program's arguments in and the
// results out through UserPointers). Holds the fd table, the working directory and the umask.
// Pure logic; compiles under the real .NET, so the host tests exercise each call's Linux semantics.
//
// Invariants: Cwd is a directory of the tree (possibly removed: getcwd then fails with ENOENT, as
// Linux); results are >= 0 or -errno with Linux's values; nothing here touches program memory.
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public sealed unsafe class LinuxFiles
    {
        public readonly FileSystem FileSystem;
        public FileTable Table;
        public DirectoryNode Cwd;
        public uint Umask = 0x12; // 022

        /// <summary>The file server this process shares the tree with (null: the whole tree is this
        /// process's own, as in the host tests of the semantics and in the server itself).</summary>
        public readonly VfsClient Remote;
        private const int MaximumHops = 8;

        public LinuxFiles(FileSystem fileSystem)
        {
            FileSystem = fileSystem;
            Table = new FileTable();
            Cwd = fileSystem.Root;
            fileSystem.Process = this;
        }

        /// <summary>A process of the shared tree: / is the server's (remote), /dev, /proc and /sys this
        /// process's own (fileSystem holds only them).</summary>
        public LinuxFiles(FileSystem fileSystem, VfsClient remote) : this(fileSystem)
        {
            Remote = remote;
            fileSystem.ServerRoot = remote.Root;
            Cwd = remote.Root;
        }

        // ------------------------------------------------------------------ the shared tree

        /// <summary>Whether an operation on path from start goes to the file server (from
        /// remoteStart), rather than to this process's /dev, /proc and /sys.</summary>
        private bool AtServer(DirectoryNode start, string path, out RemoteDirectory remoteStart)
        {
            remoteStart = null;
            if (Remote == null) return false;
            if (path.Length > 0 && path[0] == '/')
            {
                if (IsLocalAbsolute(path)) return false;
                remoteStart = Remote.Root;
                return true;
            }
            remoteStart = start as RemoteDirectory;
            return remoteStart != null;
        }

        private static bool IsLocalAbsolute(string path) =>
            (path.Length >= 4 && path[1] == 'd' && path[2] == 'e' && path[3] == 'v' && (path.Length == 4 || path[4] == '/'))
            || (path.Length >= 5 && path[1] == 'p' && path[2] == 'r' && path[3] == 'o' && path[4] == 'c' && (path.Length == 5 || path[5] == '/'))
            || (path.Length >= 4 && path[1] == 's' && path[2] == 'y' && path[3] == 's' && (path.Length == 4 || path[4] == '/'));

        private delegate long LocalOperation(DirectoryNode start, string path);
        private delegate long RemoteOperation(RemoteDirectory start, string path);

        /// <summary>Runs an operation where the path leads: at the server or here, following the
        /// hand-overs (Redirected) between the two halves, at most MaximumHops (then ELOOP).</summary>
        private long Routed(DirectoryNode start, string path, LocalOperation local, RemoteOperation remote)
        {
            if (Remote == null) return local(start, path);
            for (int hop = 0; hop < MaximumHops; hop++)
            {
                long result;
                if (AtServer(start, path, out RemoteDirectory remoteStart))
                {
                    result = remote(remoteStart, path);
                    if (result != FileSystem.Redirected) return result;
                    start = FileSystem.Root;
                    path = Remote.RedirectPath;
                }
                else
                {
                    result = local(start, path);
                    if (result != FileSystem.Redirected) return result;
                    start = FileSystem.RedirectStart;
                    path = FileSystem.RedirectPath;
                }
            }
            return -Errno.ELOOP;
        }

        private int _againDepth;

        /// <summary>A server operation that was handed back (Redirected): done again from the
        /// absolute path the server gave (this process's /dev or /proc), a bounded number of times.</summary>
        private long RemoteAgain(long result, System.Func<long> again)
        {
            if (result != FileSystem.Redirected) return result;
            if (_againDepth >= MaximumHops) return -Errno.ELOOP;
            _againDepth++;
            try { return again(); }
            finally { _againDepth--; }
        }

        private void SetCwd(DirectoryNode directory)
        {
            DirectoryNode old = Cwd;
            Cwd = directory;
            if (old != directory && old is RemoteDirectory remote && remote != Remote.Root) remote.Handle.Release();
        }

        /// <summary>Opens the terminal (/dev/console, O_RDWR) once and makes it fds 0, 1 and 2: one
        /// open file description, as a Linux init inherits it (F_SETFL on one changes all three).</summary>
        public void OpenStandardStreams()
        {
            if (Table.Get(0) != null || Table.Get(1) != null || Table.Get(2) != null) return;
            long fd = OpenAt(LinuxFile.AT_FDCWD, "/dev/console", LinuxFile.O_RDWR, 0);
            if (fd != 0) return; // no console device: nothing to open
            Dup2(0, 1);
            Dup2(0, 2);
        }

        public DirectoryNode CurrentDirectory => Cwd;
        public string CurrentDirectoryPath()
        {
            if (Cwd is RemoteDirectory remote) return remote.Handle.Client.GetCwd(remote.Handle, out _) ?? "/";
            return FileSystem.PathOf(Cwd);
        }

        /// <summary>The directory a *at call starts from: the root for absolute paths, the cwd for
        /// AT_FDCWD, else the directory dirfd names (EBADF, ENOTDIR).</summary>
        public int StartDirectory(int dirfd, string path, out DirectoryNode start)
        {
            start = null;
            if (path.Length > 0 && path[0] == '/') { start = FileSystem.Root; return 0; }
            if (dirfd == LinuxFile.AT_FDCWD) { start = Cwd; return 0; }
            OpenFile file = Table.Get(dirfd);
            if (file == null) return -Errno.EBADF;
            if (!(file.Node is DirectoryNode directory)) return path.Length == 0 ? 0 : -Errno.ENOTDIR;
            start = directory;
            return 0;
        }

        private OpenFile File(int fd) => Table.Get(fd);

        // ------------------------------------------------------------------ open, close

        /// <summary>openat: the new descriptor or -errno.</summary>
        public long OpenAt(int dirfd, string path, int flags, uint mode)
        {
            int error = OpenDescription(dirfd, path, flags, mode, out OpenFile file);
            if (error < 0) return error;
            int fd = Table.Install(file, (flags & LinuxFile.O_CLOEXEC) != 0);
            if (fd < 0 && file.References == 0) file.Release();
            return fd;
        }

        /// <summary>openat with the path as the program's bytes (without the NUL) when the client's
        /// cache can serve it without a string or a request: a read-only open of an absolute path
        /// whose anchor holds (VfsClient.TryOpenAnchored). The new descriptor, -errno, or
        /// VfsClient.NotCached (then OpenAt with the path as a string). Absolute paths ignore dirfd.</summary>
        public long OpenCached(byte* path, int length, int flags)
        {
            if (Remote == null || !Remote.TryOpenAnchored(path, length, flags, out Inode node)) return VfsClient.NotCached;
            var file = new OpenFile(FileSystem, node, Stored(flags), null);
            int fd = Table.Install(file, (flags & LinuxFile.O_CLOEXEC) != 0);
            if (fd < 0 && file.References == 0) file.Release();
            return fd;
        }

        /// <summary>Resolves and opens path (without installing a descriptor).</summary>
        public int OpenDescription(int dirfd, string path, int flags, uint mode, out OpenFile file)
        {
            file = null;
            if (path.Length == 0) return -Errno.ENOENT;
            int error = StartDirectory(dirfd, path, out DirectoryNode start);
            if (error < 0) return error;
            if (Remote == null) return OpenLocal(start, path, flags, mode, out file);
            for (int hop = 0; hop < MaximumHops; hop++)
            {
                if (AtServer(start, path, out RemoteDirectory remoteStart))
                {
                    long result = Remote.Open(remoteStart, path, flags, mode, Umask, out Inode node);
                    if (result == FileSystem.Redirected) { start = FileSystem.Root; path = Remote.RedirectPath; continue; }
                    if (result < 0) return (int)result;
                    file = new OpenFile(FileSystem, node, Stored(flags), null);
                    return 0;
                }
                error = OpenLocal(start, path, flags, mode, out file);
                if (error != FileSystem.Redirected) return error;
                start = FileSystem.RedirectStart;
                path = FileSystem.RedirectPath;
            }
            return -Errno.ELOOP;
        }

        private int OpenLocal(DirectoryNode start, string path, int flags, uint mode, out OpenFile file)
        {
            file = null;
            int error;
            if ((flags & LinuxFile.O_PATH) != 0)
                flags &= LinuxFile.O_PATH | LinuxFile.O_DIRECTORY | LinuxFile.O_NOFOLLOW | LinuxFile.O_CLOEXEC;
            int access = flags & LinuxFile.O_ACCMODE;
            if (access == 3 && (flags & LinuxFile.O_PATH) == 0) return -Errno.EINVAL;
            FileSystem fs = FileSystem;

            if ((flags & LinuxFile.O_TMPFILE) == LinuxFile.O_TMPFILE)
            {
                if (access == LinuxFile.O_RDONLY) return -Errno.EINVAL;
                error = fs.ResolveExisting(start, path, true, out Inode where);
                if (error < 0) return error;
                if (!(where is MemoryDirectory directory)) return where is DirectoryNode ? -Errno.EOPNOTSUPP : -Errno.ENOTDIR;
                if (!directory.Mount.Writable || directory.Removed) return -Errno.ENOENT;
                if (directory.Disk != null) return -Errno.EOPNOTSUPP; // the disk's file system has no unnamed files
                var anonymous = new RegularFile(directory.Mount, fs.NewInodeNumber(), mode & ~Umask & 0xFFF, fs.Now);
                anonymous.Links = 0;
                file = new OpenFile(fs, anonymous, Stored(flags), fs.PathOf(directory, "#" + anonymous.Number.ToString() + " (deleted)"));
                return 0;
            }
            if ((flags & 0x400000) != 0) return -Errno.EINVAL; // __O_TMPFILE without O_DIRECTORY

            bool create = (flags & LinuxFile.O_CREAT) != 0;
            bool exclusive = create && (flags & LinuxFile.O_EXCL) != 0;
            bool follow = (flags & LinuxFile.O_NOFOLLOW) == 0 && !exclusive;
            error = fs.Resolve(start, path, follow, out PathLookup lookup);
            if (error < 0) return error;
            Inode node = lookup.Node;
            bool created = false;
            if (node == null)
            {
                if (!create) return -Errno.ENOENT;
                if (lookup.TrailingSlash) return -Errno.EISDIR;
                error = fs.CreateFile(ref lookup, mode & ~Umask, out RegularFile made);
                if (error < 0) return error;
                node = made;
                created = true;
            }
            else
            {
                if (exclusive) return -Errno.EEXIST;
                if (node.IsSymlink)
                {
                    if ((flags & LinuxFile.O_PATH) == 0 || (flags & LinuxFile.O_NOFOLLOW) == 0) return -Errno.ELOOP;
                }
                else if ((flags & LinuxFile.O_DIRECTORY) != 0 && !node.IsDirectory) return -Errno.ENOTDIR;
                if (node.IsDirectory && (flags & LinuxFile.O_PATH) == 0 && (create || access != LinuxFile.O_RDONLY))
                    return -Errno.EISDIR;
                if (create && node.IsDirectory) return -Errno.EISDIR;
                if (node is ProcFile procFile && (flags & LinuxFile.O_PATH) == 0
                    && (procFile.Writer == null ? access != LinuxFile.O_RDONLY : access != LinuxFile.O_WRONLY)) return -Errno.EACCES;
            }
            if ((flags & LinuxFile.O_DIRECTORY) != 0 && !node.IsDirectory && !(node.IsSymlink && (flags & LinuxFile.O_PATH) != 0))
                return -Errno.ENOTDIR;
            if (node.Type == LinuxFile.S_IFSOCK && (flags & LinuxFile.O_PATH) == 0) return -Errno.ENXIO; // a socket's name: connect(2) reaches it, open(2) does not
            if (node is IRemoteNode proxy)
            {
                // /proc/self/fd/N or /proc/self/cwd naming a server description: a new one of its inode.
                long reopened = proxy.Handle.Client.Reopen(proxy.Handle, flags, out Inode fresh);
                if (reopened < 0) return (int)reopened;
                file = new OpenFile(fs, fresh, Stored(flags), null);
                return 0;
            }

            // What /proc/self/fd shows is made when first asked (PathOf is not cheap).
            string display = null;
            if (node is PipeNode) display = "pipe:[" + node.Number.ToString() + "]";
            else if (!(node is DirectoryNode) && (lookup.Parent == null || lookup.Name == null)) display = path;

            file = new OpenFile(fs, node, Stored(flags), display);
            if (display == null)
            {
                file.DisplayParent = node is DirectoryNode asDirectory ? asDirectory : lookup.Parent;
                file.DisplayName = node is DirectoryNode ? null : lookup.Name;
            }
            if (node is PipeNode pipeNode)
            {
                // Reopening a pipe through /proc/self/fd/N: one more reader and/or writer.
                if (file.PipeReader) pipeNode.Pipe.Readers++;
                if (file.PipeWriter) pipeNode.Pipe.Writers++;
            }
            if ((flags & LinuxFile.O_PATH) != 0) return 0;
            if (node is ProcFile proc) file.Snapshot = proc.Generate();
            if (!created && (flags & LinuxFile.O_TRUNC) != 0 && node is RegularFile regular && regular.Size != 0)
            {
                error = (int)regular.Truncate(0);
                if (error < 0) return error;
                regular.ModifyTime = regular.ChangeTime = fs.Now;
            }
            return 0;
        }

        // The status flags an open file description keeps (O_LARGEFILE as Linux's 64-bit open adds it).
        private static int Stored(int flags)
        {
            int kept = flags & ~(LinuxFile.O_CREAT | LinuxFile.O_EXCL | LinuxFile.O_NOCTTY | LinuxFile.O_TRUNC | LinuxFile.O_CLOEXEC);
            if ((flags & LinuxFile.O_PATH) != 0) return kept & (LinuxFile.O_PATH | LinuxFile.O_DIRECTORY | LinuxFile.O_NOFOLLOW);
            return kept | LinuxFile.O_LARGEFILE;
        }

        public long Close(int fd) => Table.Close(fd);

        // ------------------------------------------------------------------ data

        private long Usable(int fd, out OpenFile file)
        {
            file = File(fd);
            if (file == null) return -Errno.EBADF;
            return 0;
        }

        public long Read(int fd, byte* buffer, long count)
        {
            OpenFile file = File(fd);
            if (file == null) return -Errno.EBADF;
            if (count < 0) return -Errno.EINVAL;
            return file.Read(buffer, count);
        }

        public long Write(int fd, byte* buffer, long count)
        {
            OpenFile file = File(fd);
            if (file == null) return -Errno.EBADF;
            if (count < 0) return -Errno.EINVAL;
            return file.Write(buffer, count);
        }

        public long PRead(int fd, byte* buffer, long count, long offset)
        {
            OpenFile file = File(fd);
            if (file == null || !file.CanRead) return -Errno.EBADF;
            if (offset < 0 || count < 0) return -Errno.EINVAL;
            if (!file.Seekable || file.Node is DeviceNode dn && !dn.Device.Seekable) return -Errno.ESPIPE;
            return file.ReadAt(offset, buffer, count, false);
        }

        public long PWrite(int fd, byte* buffer, long count, long offset)
        {
            OpenFile file = File(fd);
            if (file == null || !file.CanWrite) return -Errno.EBADF;
            if (offset < 0 || count < 0) return -Errno.EINVAL;
            if (!file.Seekable) return -Errno.ESPIPE;
            return file.WriteAt(offset, buffer, count, false);
        }

        public long Seek(int fd, long offset, int whence)
        {
            OpenFile file = File(fd);
            if (file == null) return -Errno.EBADF;
            if (file.IsPath) return -Errno.EBADF;
            return file.Seek(offset, whence);
        }

        public long GetDirectoryEntries(int fd, byte* buffer, int length)
        {
            OpenFile file = File(fd);
            if (file == null) return -Errno.EBADF;
            return file.ReadDirectory(buffer, length);
        }

        /// <summary>Whether a signal is waiting to be delivered (the personality's
        /// Signals.InterruptPending; null on the host): a long sendfile stops early for it.</summary>
        public static delegate*<bool> InterruptPending;

        /// <summary>Linux's MAX_RW_COUNT: the most one read, write or sendfile moves.</summary>
        public const long MaxTransfer = 0x7FFF_F000;

        /// <summary>sendfile: copies up to count bytes (at most MaxTransfer) from inFd (at *offset
        /// when given, which then advances instead of the file position) to outFd: bytes copied or
        /// -errno. As Linux, a signal waiting ends it early with what was copied (found by the
        /// Linux-ABI fuzzer: /dev/zero to /dev/null with a huge count ran for minutes, deaf to
        /// the program's alarm).</summary>
        [System.Runtime.CompilerServices.SkipLocalsInit] // the small chunk is written before it is read: zeroing its 4 KiB cost every sendfile ~520 instructions
        public long SendFile(int outFd, int inFd, long* offset, long count)
        {
            OpenFile input = File(inFd), output = File(outFd);
            if (input == null || output == null || !input.CanRead || !output.CanWrite) return -Errno.EBADF;
            if (count < 0) return -Errno.EINVAL;
            if (input.Node is DirectoryNode) return -Errno.EINVAL;
            // As Linux: a pipe or a terminal cannot be spliced from. busybox cat then reads; before,
            // sendfile read on after a terminal's first line and took the ^D that should end cat.
            if (input.Node is PipeNode || input.Node is DeviceNode { Device.Splices: false }) return -Errno.EINVAL;
            if ((output.Flags & LinuxFile.O_APPEND) != 0) return -Errno.EINVAL;
            if (offset != null && !input.Seekable) return -Errno.ESPIPE;
            if (offset != null && *offset < 0) return -Errno.EINVAL;
            if (output.Node is RemoteSocket socket && socket.Local == null && input.Node is RemoteFile remote)
            {
                // A server file to a socket: the server moves the bytes itself (VfsProtocol.SendFile).
                if (count > MaxTransfer) count = MaxTransfer;
                long at = offset != null ? *offset : remote.LocalPosition ? remote.Position : -1;
                long sent = socket.Handle.Client.SendFile(socket, remote, at, count);
                if (sent > 0 && offset != null) *offset += sent;
                else if (sent > 0 && remote.LocalPosition) remote.Position += sent;
                return sent;
            }
            // A connection running in this process takes 64 KiB a write: its TCP then hands the card
            // one large segment, not sixteen (each waited for a large send buffer to come free).
            byte[] large = output.Node is RemoteSocket { Local: not null } ? (s_sendChunk ??= new byte[LocalChunkBytes]) : null;
            fixed (byte* largeChunk = large)
            {
                byte* small = stackalloc byte[4096];
                return CopyForSendFile(input, output, offset, count, large != null ? largeChunk : small, large != null ? LocalChunkBytes : 4096);
            }
        }

        private const int LocalChunkBytes = 65536;
        /// <summary>sendfile's buffer for a connection running here (one system call at a time).</summary>
        private static byte[] s_sendChunk;

        private long CopyForSendFile(OpenFile input, OpenFile output, long* offset, long count, byte* chunk, int chunkBytes)
        {
            long total = 0;
            long position = offset != null ? *offset : input.Position;
            bool stream = offset == null && input.Node is RemoteFile; // the server keeps the position
            if (count > MaxTransfer) count = MaxTransfer;
            while (total < count)
            {
                if (total > 0 && InterruptPending != null && InterruptPending()) break;
                long want = count - total < chunkBytes ? count - total : chunkBytes;
                long got = !stream && (offset != null || input.Seekable) ? input.ReadAt(position, chunk, want, !input.Seekable) : input.Read(chunk, want);
                if (got < 0) { if (total == 0) return got; break; }
                if (got == 0) break;
                long put = output.Write(chunk, got);
                if (stream && got > (put < 0 ? 0 : put)) input.Seek(-(got - (put < 0 ? 0 : put)), LinuxFile.SEEK_CUR); // bytes read, not sent
                if (put < 0) { if (total == 0) return put; break; }
                position += put;
                total += put;
                if (put < got) break;
            }
            if (offset != null) *offset = position;
            else if (!stream && input.Seekable) input.Position = position;
            return total;
        }

        // ------------------------------------------------------------------ descriptors

        public long Dup(int fd)
        {
            OpenFile file = File(fd);
            if (file == null) return -Errno.EBADF;
            return Table.Install(file, false);
        }

        /// <summary>dup2 semantics (same fd: returns it if valid).</summary>
        public long Dup2(int oldFd, int newFd)
        {
            OpenFile file = File(oldFd);
            if (file == null) return -Errno.EBADF;
            if (oldFd == newFd) return newFd;
            return Table.InstallAt(newFd, file, false);
        }

        /// <summary>dup3: flags only O_CLOEXEC; same fd is EINVAL.</summary>
        public long Dup3(int oldFd, int newFd, int flags)
        {
            if ((flags & ~LinuxFile.O_CLOEXEC) != 0) return -Errno.EINVAL;
            if (oldFd == newFd) return -Errno.EINVAL;
            OpenFile file = File(oldFd);
            if (file == null) return -Errno.EBADF;
            return Table.InstallAt(newFd, file, (flags & LinuxFile.O_CLOEXEC) != 0);
        }

        /// <summary>pipe2: flags O_CLOEXEC, O_NONBLOCK, O_DIRECT (accepted: packet mode is not kept).</summary>
        public long Pipe2(int flags, out int readFd, out int writeFd)
        {
            readFd = writeFd = -1;
            if ((flags & ~(LinuxFile.O_CLOEXEC | LinuxFile.O_NONBLOCK | LinuxFile.O_DIRECT)) != 0) return -Errno.EINVAL;
            FileSystem fs = FileSystem;
            var pipe = Pipe.Create();
            var node = new PipeNode(fs.PipeMount, fs.NewInodeNumber(), pipe, fs.Now);
            string display = "pipe:[" + node.Number.ToString() + "]";
            int status = flags & LinuxFile.O_NONBLOCK;
            var reader = new OpenFile(fs, node, LinuxFile.O_RDONLY | status, display);
            var writer = new OpenFile(fs, node, LinuxFile.O_WRONLY | status, display);
            pipe.Readers = 1; pipe.Writers = 1;
            bool cloexec = (flags & LinuxFile.O_CLOEXEC) != 0;
            int r = Table.Install(reader, cloexec);
            if (r < 0) { reader.Release(); writer.Release(); return r; }
            int w = Table.Install(writer, cloexec);
            if (w < 0) { Table.Close(r); writer.Release(); return w; }
            readFd = r; writeFd = w;
            return 0;
        }

        /// <summary>eventfd2 (eventfd: flags 0): flags EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC;
        /// the descriptor, -EINVAL or -EMFILE (EventFd.cs).</summary>
        public long EventFd(uint initial, int flags)
        {
            const int known = EventFdNode.EFD_SEMAPHORE | EventFdNode.EFD_NONBLOCK | EventFdNode.EFD_CLOEXEC;
            if ((flags & ~known) != 0) return -Errno.EINVAL;
            FileSystem fs = FileSystem;
            var node = new EventFdNode(fs.AnonMount, fs.AnonInodeNumber, initial, (flags & EventFdNode.EFD_SEMAPHORE) != 0, fs.Now);
            return InstallAnonymous(node, LinuxFile.O_RDWR | (flags & LinuxFile.O_NONBLOCK), EventFdNode.DisplayName, (flags & LinuxFile.O_CLOEXEC) != 0);
        }

        /// <summary>epoll_create1 (epoll_create: flags 0): flags EPOLL_CLOEXEC; the descriptor,
        /// -EINVAL or -EMFILE (Epoll.cs).</summary>
        public long EpollCreate(int flags)
        {
            if ((flags & ~EpollNode.EPOLL_CLOEXEC) != 0) return -Errno.EINVAL;
            FileSystem fs = FileSystem;
            var node = new EpollNode(fs.AnonMount, fs.AnonInodeNumber, fs.Now);
            return InstallAnonymous(node, LinuxFile.O_RDWR, EpollNode.DisplayName, (flags & EpollNode.EPOLL_CLOEXEC) != 0);
        }

        private long InstallAnonymous(Inode node, int flags, string display, bool closeOnExec)
        {
            var file = new OpenFile(FileSystem, node, flags, display);
            int fd = Table.Install(file, closeOnExec);
            if (fd < 0) file.Release();
            return fd;
        }

        /// <summary>epoll_ctl with the event already copied in: 0 or -EBADF (either descriptor not
        /// open, or O_PATH), then EpollNode.Control's errors.</summary>
        public long EpollControl(int epfd, int op, int fd, uint events, ulong data)
        {
            OpenFile self = File(epfd), target = File(fd);
            if (self == null || self.IsPath || target == null || target.IsPath) return -Errno.EBADF;
            if (!(self.Node is EpollNode epoll)) return target.CanPoll ? -Errno.EINVAL : -Errno.EPERM;
            return epoll.Control(self, op, fd, target, events, data);
        }

        /// <summary>One look of epoll_wait (maxevents already checked): the count of events written
        /// into output (0: none ready), -EBADF or -EINVAL (not an epoll).</summary>
        public long EpollCollect(int epfd, byte* output, int max)
        {
            OpenFile file = File(epfd);
            if (file == null || file.IsPath) return -Errno.EBADF;
            if (!(file.Node is EpollNode epoll)) return -Errno.EINVAL;
            return epoll.Collect(output, max);
        }

        /// <summary>fcntl commands that need no program memory: F_DUPFD(_CLOEXEC), F_GETFD/SETFD,
        /// F_GETFL/SETFL, F_GETPIPE_SZ/SETPIPE_SZ. Others: -EINVAL.</summary>
        public long Fcntl(int fd, int command, ulong argument)
        {
            OpenFile file = File(fd);
            if (file == null) return -Errno.EBADF;
            switch (command)
            {
                case LinuxFile.F_DUPFD:
                case LinuxFile.F_DUPFD_CLOEXEC:
                    if (argument >= FileTable.Limit) return -Errno.EINVAL;
                    return Table.Install(file, command == LinuxFile.F_DUPFD_CLOEXEC, (int)argument);
                case LinuxFile.F_GETFD:
                    return Table.IsCloseOnExec(fd) ? LinuxFile.FD_CLOEXEC : 0;
                case LinuxFile.F_SETFD:
                    Table.SetCloseOnExec(fd, (argument & LinuxFile.FD_CLOEXEC) != 0);
                    return 0;
                case LinuxFile.F_GETFL:
                    if (file.Node is IRemoteNode remoteFlags) // the status flags are the shared description's
                    {
                        long flags = remoteFlags.Handle.Client.HandleCall(VfsProtocol.GetFlags, remoteFlags.Handle);
                        if (flags >= 0) file.Flags = (int)flags;
                    }
                    return file.Flags;
                case LinuxFile.F_SETFL:
                    {
                        if (file.IsPath) return -Errno.EBADF;
                        const int changeable = LinuxFile.O_APPEND | LinuxFile.O_NONBLOCK | LinuxFile.O_ASYNC | LinuxFile.O_DIRECT | LinuxFile.O_NOATIME;
                        if (file.Node is IRemoteNode remote)
                        {
                            long set = remote.Handle.Client.HandleCall(VfsProtocol.SetFlags, remote.Handle, argument);
                            if (set < 0) return set;
                        }
                        file.Flags = (file.Flags & ~changeable) | ((int)argument & changeable);
                        return 0;
                    }
                case LinuxFile.F_GETPIPE_SZ:
                    return file.Node is PipeNode ? Pipe.Capacity : -Errno.EBADF;
                case LinuxFile.F_SETPIPE_SZ:
                    if (!(file.Node is PipeNode)) return -Errno.EBADF;
                    return Pipe.Capacity; // the capacity stays 64 KiB (what Linux answers for sizes up to it)
                default:
                    return -Errno.EINVAL;
            }
        }

        // ------------------------------------------------------------------ metadata

        /// <summary>newfstatat / statx's lookup: the inode (AT_EMPTY_PATH with "": dirfd's own).</summary>
        public int LookupAt(int dirfd, string path, int flags, out Inode node)
        {
            node = null;
            if ((flags & ~(LinuxFile.AT_SYMLINK_NOFOLLOW | LinuxFile.AT_EMPTY_PATH | LinuxFile.AT_NO_AUTOMOUNT | LinuxFile.AT_STATX_SYNC_TYPE)) != 0)
                return -Errno.EINVAL;
            if (path.Length == 0)
            {
                if ((flags & LinuxFile.AT_EMPTY_PATH) == 0) return -Errno.ENOENT;
                if (dirfd == LinuxFile.AT_FDCWD) { node = Cwd; return 0; }
                OpenFile file = File(dirfd);
                if (file == null) return -Errno.EBADF;
                node = file.Node;
                return 0;
            }
            int error = StartDirectory(dirfd, path, out DirectoryNode start);
            if (error < 0) return error;
            return FileSystem.ResolveExisting(start, path, (flags & LinuxFile.AT_SYMLINK_NOFOLLOW) == 0, out node);
        }

        private const int StatFlags = LinuxFile.AT_SYMLINK_NOFOLLOW | LinuxFile.AT_EMPTY_PATH | LinuxFile.AT_NO_AUTOMOUNT | LinuxFile.AT_STATX_SYNC_TYPE;

        /// <summary>stat/lstat/newfstatat with the path as the program's bytes (without the NUL),
        /// from the client's kept answers (VfsClient.CachedStat): 0 with image the struct stat to
        /// copy out, -errno, or VfsClient.NotCached (then StatAt with the path as a string). Only
        /// absolute paths are kept (dirfd is then ignored, as Linux ignores it).</summary>
        public int CachedStat(byte* path, int length, int flags, out byte[] image)
        {
            image = null;
            if (Remote == null || length == 0 || path[0] != '/' || (flags & ~StatFlags) != 0) return VfsClient.NotCached;
            return Remote.CachedStat(path, length, flags & LinuxFile.AT_SYMLINK_NOFOLLOW, out image);
        }

        public int StatAt(int dirfd, string path, int flags, out StatInfo info)
        {
            info = default;
            if (Remote != null && path.Length > 0)
            {
                if ((flags & ~StatFlags) != 0) return -Errno.EINVAL;
                int error = StartDirectory(dirfd, path, out DirectoryNode start);
                if (error < 0) return error;
                for (int hop = 0; hop < MaximumHops; hop++)
                {
                    if (AtServer(start, path, out RemoteDirectory remoteStart))
                    {
                        error = Remote.Stat(remoteStart, path, flags & LinuxFile.AT_SYMLINK_NOFOLLOW, out info);
                        if (error != FileSystem.Redirected) return error;
                        start = FileSystem.Root;
                        path = Remote.RedirectPath;
                        continue;
                    }
                    error = FileSystem.ResolveExisting(start, path, (flags & LinuxFile.AT_SYMLINK_NOFOLLOW) == 0, out Inode found);
                    if (error == 0) { info = found.Stat(); return 0; }
                    if (error != FileSystem.Redirected) return error;
                    start = FileSystem.RedirectStart;
                    path = FileSystem.RedirectPath;
                }
                return -Errno.ELOOP;
            }
            int lookup = LookupAt(dirfd, path, flags, out Inode node);
            if (lookup < 0) return lookup;
            info = node.Stat();
            return 0;
        }

        /// <summary>LookupAt with the path's last step wherever it leads: the inode (a proxy when
        /// it is the server's: node null and remoteStart/remotePath set for a server operation).</summary>
        private int LookupRouted(int dirfd, ref string path, int flags, out Inode node, out RemoteDirectory remoteStart)
        {
            node = null;
            remoteStart = null;
            if (Remote == null || path.Length == 0) return LookupAt(dirfd, path, flags, out node);
            if ((flags & ~(LinuxFile.AT_SYMLINK_NOFOLLOW | LinuxFile.AT_EMPTY_PATH | LinuxFile.AT_NO_AUTOMOUNT | LinuxFile.AT_STATX_SYNC_TYPE)) != 0)
                return -Errno.EINVAL;
            int error = StartDirectory(dirfd, path, out DirectoryNode start);
            if (error < 0) return error;
            if (AtServer(start, path, out remoteStart)) return 0;
            for (int hop = 0; hop < MaximumHops; hop++)
            {
                error = FileSystem.ResolveExisting(start, path, (flags & LinuxFile.AT_SYMLINK_NOFOLLOW) == 0, out node);
                if (error != FileSystem.Redirected) return error;
                path = FileSystem.RedirectPath;
                remoteStart = FileSystem.RedirectStart as RemoteDirectory;
                if (remoteStart != null) { node = null; return 0; }
                start = FileSystem.Root;
            }
            return -Errno.ELOOP;
        }

        public int Fstat(int fd, out StatInfo info)
        {
            info = default;
            OpenFile file = File(fd);
            if (file == null) return -Errno.EBADF;
            info = file.Node.Stat();
            return 0;
        }

        /// <summary>readlinkat: the target text, or -errno (EINVAL: not a symbolic link).</summary>
        public int ReadLinkAt(int dirfd, string path, out string target)
        {
            target = null;
            if (Remote != null && path.Length > 0)
            {
                int error0 = StartDirectory(dirfd, path, out DirectoryNode start);
                if (error0 < 0) return error0;
                string found = null;
                long routed = Routed(start, path,
                    (s, p) =>
                    {
                        int e = FileSystem.ResolveExisting(s, p, false, out Inode n);
                        if (e < 0) return e;
                        if (!(n is SymlinkNode l)) return -Errno.EINVAL;
                        found = l.Target;
                        return 0;
                    },
                    (r, p) =>
                    {
                        int e = Remote.ReadLink(r, p, out string t);
                        found = t;
                        return e;
                    });
                target = found;
                return (int)routed;
            }
            int error = LookupAt(dirfd, path, path.Length == 0 ? LinuxFile.AT_EMPTY_PATH | LinuxFile.AT_SYMLINK_NOFOLLOW : LinuxFile.AT_SYMLINK_NOFOLLOW, out Inode node);
            if (error < 0) return error;
            if (!(node is SymlinkNode link)) return path.Length == 0 ? -Errno.ENOENT : -Errno.EINVAL;
            target = link.Target;
            return 0;
        }

        public long MakeDirectoryAt(int dirfd, string path, uint mode)
        {
            int error = StartDirectory(dirfd, path, out DirectoryNode start);
            if (error < 0) return error;
            if (path.Length == 0) return -Errno.ENOENT;
            uint permissions = mode & ~Umask & 0xFFF;
            return Routed(start, path, (s, p) => FileSystem.MakeDirectory(s, p, permissions),
                (r, p) => Remote.PathCall(VfsProtocol.MakeDirectory, r, p, permissions));
        }

        public long UnlinkAt(int dirfd, string path, int flags)
        {
            if ((flags & ~LinuxFile.AT_REMOVEDIR) != 0) return -Errno.EINVAL;
            int error = StartDirectory(dirfd, path, out DirectoryNode start);
            if (error < 0) return error;
            if (path.Length == 0) return -Errno.ENOENT;
            return Routed(start, path,
                (s, p) => (flags & LinuxFile.AT_REMOVEDIR) != 0 ? FileSystem.RemoveDirectory(s, p) : FileSystem.Unlink(s, p),
                (r, p) => Remote.PathCall(VfsProtocol.Unlink, r, p, (ulong)(uint)flags));
        }

        public long RenameAt(int oldDirfd, string oldPath, int newDirfd, string newPath, int flags)
        {
            int error = StartDirectory(oldDirfd, oldPath, out DirectoryNode oldStart);
            if (error < 0) return error;
            error = StartDirectory(newDirfd, newPath, out DirectoryNode newStart);
            if (error < 0) return error;
            if (oldPath.Length == 0 || newPath.Length == 0) return -Errno.ENOENT;
            if (Remote != null)
            {
                bool oldRemote = AtServer(oldStart, oldPath, out RemoteDirectory oldServer);
                bool newRemote = AtServer(newStart, newPath, out RemoteDirectory newServer);
                if (oldRemote && newRemote) return Remote.TwoPaths(VfsProtocol.Rename, oldServer, oldPath, newServer, newPath, flags);
                if (oldRemote || newRemote) return -Errno.EXDEV;
                long local = FileSystem.Rename(oldStart, oldPath, newStart, newPath, flags);
                return local == FileSystem.Redirected ? -Errno.EXDEV : local;
            }
            return FileSystem.Rename(oldStart, oldPath, newStart, newPath, flags);
        }

        /// <summary>linkat: 0 or -errno. A name on either side whose walk crosses between this
        /// process's half of the tree and the server's is EXDEV (the walk's internal Redirected
        /// code never reaches the program: the Linux-ABI fuzzer saw -100000).</summary>
        public long LinkAt(int oldDirfd, string oldPath, int newDirfd, string newPath, int flags)
        {
            long result = LinkAtAnywhere(oldDirfd, oldPath, newDirfd, newPath, flags);
            return result == FileSystem.Redirected ? -Errno.EXDEV : result;
        }

        private long LinkAtAnywhere(int oldDirfd, string oldPath, int newDirfd, string newPath, int flags)
        {
            if ((flags & ~(LinuxFile.AT_SYMLINK_FOLLOW | LinuxFile.AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
            int lookupFlags = (flags & LinuxFile.AT_SYMLINK_FOLLOW) != 0 ? 0 : LinuxFile.AT_SYMLINK_NOFOLLOW;
            if ((flags & LinuxFile.AT_EMPTY_PATH) != 0) lookupFlags |= LinuxFile.AT_EMPTY_PATH;
            if (Remote != null && oldPath.Length > 0 && newPath.Length > 0)
            {
                int e = StartDirectory(oldDirfd, oldPath, out DirectoryNode oldStart);
                if (e < 0) return e;
                e = StartDirectory(newDirfd, newPath, out DirectoryNode newStart2);
                if (e < 0) return e;
                bool oldRemote = AtServer(oldStart, oldPath, out RemoteDirectory oldServer);
                bool newRemote = AtServer(newStart2, newPath, out RemoteDirectory newServer);
                if (oldRemote && newRemote) return Remote.TwoPaths(VfsProtocol.Link, oldServer, oldPath, newServer, newPath, flags);
                if (oldRemote || newRemote) return -Errno.EXDEV;
            }
            int error = LookupAt(oldDirfd, oldPath, lookupFlags, out Inode node);
            if (error < 0) return error;
            error = StartDirectory(newDirfd, newPath, out DirectoryNode newStart);
            if (error < 0) return error;
            if (newPath.Length == 0) return -Errno.ENOENT;
            if (node is IRemoteNode || error == FileSystem.Redirected) return -Errno.EXDEV;
            if (node.Links == 0 && !(node is RegularFile regular && regular.Links == 0 && oldPath.Length == 0)) return -Errno.ENOENT;
            // A new name whose walk leaves this process's half of the tree (e.g. /dev/null linked
            // to a name under /tmp) would be a link across the two halves: EXDEV, as for rename.
            // (The Linux-ABI fuzzer found the walk's internal Redirected code returned as is.)
            int linked = FileSystem.Link(node, newStart, newPath);
            return linked == FileSystem.Redirected ? -Errno.EXDEV : linked;
        }

        public long SymlinkAt(string target, int newDirfd, string newPath)
        {
            int error = StartDirectory(newDirfd, newPath, out DirectoryNode start);
            if (error < 0) return error;
            if (newPath.Length == 0) return -Errno.ENOENT;
            return Routed(start, newPath, (s, p) => FileSystem.Symlink(target, s, p), (r, p) => Remote.Symlink(target, r, p));
        }

        /// <summary>faccessat2: mode F_OK or R_OK|W_OK|X_OK; flags AT_EACCESS, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH.</summary>
        public long AccessAt(int dirfd, string path, int mode, int flags)
        {
            if ((mode & ~7) != 0) return -Errno.EINVAL;
            if ((flags & ~(LinuxFile.AT_EACCESS | LinuxFile.AT_SYMLINK_NOFOLLOW | LinuxFile.AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
            int error = LookupRouted(dirfd, ref path, flags & (LinuxFile.AT_SYMLINK_NOFOLLOW | LinuxFile.AT_EMPTY_PATH), out Inode node, out RemoteDirectory server);
            if (error < 0) return error;
            if (node == null) return RemoteAgain(Remote.PathCall(VfsProtocol.Access, server, path, (uint)mode | ((ulong)(uint)flags << 32)), () => AccessAt(LinuxFile.AT_FDCWD, Remote.RedirectPath, mode, flags));

            // The one user is root: read and write are granted; execute needs an x bit on a non-directory.
            if ((mode & LinuxFile.X_OK) != 0 && !node.IsDirectory && (node.Mode & 0x49) == 0) return -Errno.EACCES;
            return 0;
        }

        /// <summary>The path of what path names, symbolic links followed (as Linux's /proc/PID/exe and
        /// maps show a program: "/bin/busybox" for an exec of /bin/sh or /proc/self/exe); null when it
        /// does not resolve.</summary>
        public string ResolvedPath(string path, bool interpreter = false)
        {
            string local = ResolvedPathAt(LinuxFile.AT_FDCWD, path, out bool redirected);
            // In the file server's half of the tree: the server named the program (its dynamic
            // linker) when exec opened it (ExecutableBytes, with links followed there).
            RemoteFile opened = interpreter ? _interpreter : _program;
            if (redirected && opened != null && Remote != null) return Remote.DisplayPath(opened.Handle);
            return local;
        }

        /// <summary>ResolvedPath from dirfd; redirected: the walk went on in the other half of the
        /// shared tree (null is returned then).</summary>
        public string ResolvedPathAt(int dirfd, string path, out bool redirected)
        {
            redirected = false;
            if (StartDirectory(dirfd, path, out DirectoryNode start) < 0 || start == null) return null;
            int error = FileSystem.Resolve(start, path, true, out PathLookup lookup);
            if (error == FileSystem.Redirected) { redirected = true; return null; }
            if (error < 0 || lookup.Node == null) return null;
            if (lookup.Node is DirectoryNode directory) return FileSystem.PathOf(directory);
            return lookup.Parent != null && lookup.Name != null ? FileSystem.PathOf(lookup.Parent, lookup.Name) : null;
        }

        /// <summary>execve's lookup: the regular file at path (symbolic links followed), executable
        /// by root (some x bit): 0, or -ENOENT, -ENOTDIR, -ELOOP, -ENAMETOOLONG, -EACCES.</summary>
        public int ExecutableAt(string path, out RegularFile file)
        {
            file = null;
            int error = LookupAt(LinuxFile.AT_FDCWD, path, 0, out Inode node);
            if (error < 0) return error;
            if (!(node is RegularFile regular) || (regular.Mode & 0x49) == 0) return -Errno.EACCES;
            file = regular;
            return 0;
        }

        /// <summary>execve's bytes: the executable at path (see ExecutableAt), its content valid
        /// until the next call (a server file that is not the archive's is copied).</summary>
        public int ExecutableBytes(string path, out byte* data, out long length, bool interpreter = false)
        {
            data = null;
            length = 0;
            if (Remote == null)
            {
                int error = ExecutableAt(path, out RegularFile file);
                if (error < 0) return error;
                file.GetContent(out data, out length);
                return 0;
            }
            if (path.Length == 0) return -Errno.ENOENT;
            int lookup = LookupRouted(LinuxFile.AT_FDCWD, ref path, 0, out Inode node, out RemoteDirectory server);
            if (lookup < 0) return lookup;
            RemoteFile program;
            if (node == null)
            {
                long found = Remote.Exec(server, path, out program);
                if (found == FileSystem.Redirected) return -Errno.EACCES; // /dev, /proc and /sys hold no programs
                if (found < 0) return (int)found;
            }
            else if (node is RemoteFile proxy)
            {
                long reopened = Remote.Reopen(proxy.Handle, LinuxFile.O_RDONLY, out Inode fresh);
                if (reopened < 0) return (int)reopened;
                program = (RemoteFile)fresh;
                if ((program.Mode & 0x49) == 0) { program.Handle.Release(); return -Errno.EACCES; }
            }
            else return -Errno.EACCES;
            long size = Remote.Content(program, out data);
            // Keeps a copy alive until the next exec: the program's and its dynamic linker's apart
            // (the loader reads both); a program's lookup starts a new exec.
            if (_interpreter != null) _interpreter.Handle.Release();
            _interpreter = null;
            if (interpreter) _interpreter = program;
            else
            {
                if (_program != null) _program.Handle.Release();
                _program = program;
            }
            if (size < 0) return (int)size;
            length = size;
            return 0;
        }

        private RemoteFile _program, _interpreter;

        public long ChangeDirectory(string path)
        {
            int error = StartDirectory(LinuxFile.AT_FDCWD, path, out DirectoryNode start);
            if (error < 0) return error;
            if (Remote != null)
            {
                if (path.Length == 0) return -Errno.ENOENT;
                OpenFile opened;
                error = OpenDescription(LinuxFile.AT_FDCWD, path, LinuxFile.O_PATH | LinuxFile.O_DIRECTORY, 0, out opened);
                if (error < 0) return error;
                if (opened.Node is RemoteDirectory remote) { SetCwd(remote); return 0; }
                opened.Release();
                if (!(opened.Node is DirectoryNode local)) return -Errno.ENOTDIR;
                SetCwd(local);
                return 0;
            }
            error = FileSystem.ResolveExisting(start, path, true, out Inode node);
            if (error < 0) return error;
            if (!(node is DirectoryNode directory)) return -Errno.ENOTDIR;
            Cwd = directory;
            return 0;
        }

        public long ChangeDirectory(int fd)
        {
            OpenFile file = File(fd);
            if (file == null) return -Errno.EBADF;
            if (!(file.Node is DirectoryNode directory)) return -Errno.ENOTDIR;
            if (directory is RemoteDirectory remote)
            {
                long reopened = remote.Handle.Client.Reopen(remote.Handle, LinuxFile.O_PATH | LinuxFile.O_DIRECTORY, out Inode fresh);
                if (reopened < 0) return reopened;
                SetCwd((DirectoryNode)fresh);
                return 0;
            }
            SetCwd(directory);
            return 0;
        }

        /// <summary>getcwd's text, or -ENOENT when the directory was removed.</summary>
        public int GetCwd(out string path)
        {
            path = null;
            if (Cwd is RemoteDirectory remote)
            {
                path = remote.Handle.Client.GetCwd(remote.Handle, out long error);
                return (int)error < 0 ? (int)error : 0;
            }
            for (DirectoryNode d = Cwd; ; d = d.Parent)
            {
                if (d.Removed) return -Errno.ENOENT;
                if (d.Parent == d) break;
            }
            path = FileSystem.PathOf(Cwd);
            return 0;
        }

        public uint SetUmask(uint mask)
        {
            uint old = Umask;
            Umask = mask & 0x1FF;
            return old;
        }

        public long Truncate(string path, long length)
        {
            if (length < 0) return -Errno.EINVAL;
            int error = LookupRouted(LinuxFile.AT_FDCWD, ref path, 0, out Inode node, out RemoteDirectory server);
            if (error < 0) return error;
            if (node == null) return RemoteAgain(Remote.PathCall(VfsProtocol.Truncate, server, path, (ulong)length), () => Truncate(Remote.RedirectPath, length));
            return TruncateNode(node, length);
        }

        public long Ftruncate(int fd, long length)
        {
            OpenFile file = File(fd);
            if (file == null || file.IsPath) return -Errno.EBADF;
            if (length < 0) return -Errno.EINVAL;
            if (!file.CanWrite || !(file.Node is RegularFile || file.Node is RemoteFile)) return -Errno.EINVAL;
            if (file.Node is IRemoteNode remote) return remote.Handle.Client.HandleCall(VfsProtocol.Ftruncate, remote.Handle, (ulong)length);
            if ((file.Flags & LinuxFile.O_APPEND) != 0) return -Errno.EPERM;
            return TruncateNode(file.Node, length);
        }

        private long TruncateNode(Inode node, long length)
        {
            if (node is IRemoteNode remote)
            {
                // Through /proc/self/fd/N: a description opened for writing does it.
                long opened = remote.Handle.Client.Reopen(remote.Handle, LinuxFile.O_WRONLY, out Inode fresh);
                if (opened < 0) return opened;
                long cut = remote.Handle.Client.HandleCall(VfsProtocol.Ftruncate, ((IRemoteNode)fresh).Handle, (ulong)length);
                ((IRemoteNode)fresh).Handle.Release();
                return cut;
            }
            if (node.IsDirectory) return -Errno.EISDIR;
            if (!(node is RegularFile file)) return -Errno.EINVAL;
            long error = file.Truncate(length);
            if (error < 0) return error;
            file.ModifyTime = file.ChangeTime = FileSystem.Now;
            return 0;
        }

        /// <summary>fchmodat (flags: AT_SYMLINK_NOFOLLOW → EOPNOTSUPP on a link, as Linux).</summary>
        public long ChmodAt(int dirfd, string path, uint mode, int flags)
        {
            if ((flags & ~(LinuxFile.AT_SYMLINK_NOFOLLOW | LinuxFile.AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
            int error = LookupRouted(dirfd, ref path, flags, out Inode node, out RemoteDirectory server);
            if (error < 0) return error;
            if (node == null) return RemoteAgain(Remote.PathCall(VfsProtocol.Chmod, server, path, mode | ((ulong)(uint)flags << 32)), () => ChmodAt(LinuxFile.AT_FDCWD, Remote.RedirectPath, mode, flags));
            return Chmod(node, mode);
        }

        public long Fchmod(int fd, uint mode)
        {
            OpenFile file = File(fd);
            if (file == null || file.IsPath) return -Errno.EBADF;
            return Chmod(file.Node, mode);
        }

        private long Chmod(Inode node, uint mode)
        {
            if (node is IRemoteNode remote) return remote.Handle.Client.HandleCall(VfsProtocol.Fchmod, remote.Handle, mode);
            if (node.IsSymlink) return -Errno.EOPNOTSUPP;
            if (node.Mount == FileSystem.ProcMount) return -Errno.EPERM;
            node.Mode = (node.Mode & LinuxFile.S_IFMT) | (mode & 0xFFF);
            node.ChangeTime = FileSystem.Now;
            return FileSystem.AttributesChanged(node);
        }

        /// <summary>fchownat: uid/gid -1 (0xFFFFFFFF) leaves that id.</summary>
        public long ChownAt(int dirfd, string path, uint uid, uint gid, int flags)
        {
            if ((flags & ~(LinuxFile.AT_SYMLINK_NOFOLLOW | LinuxFile.AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
            int error = LookupRouted(dirfd, ref path, flags, out Inode node, out RemoteDirectory server);
            if (error < 0) return error;
            if (node == null) return RemoteAgain(Remote.PathCall(VfsProtocol.Chown, server, path, uid | ((ulong)gid << 32), (ulong)(uint)flags), () => ChownAt(LinuxFile.AT_FDCWD, Remote.RedirectPath, uid, gid, flags));
            return Chown(node, uid, gid);
        }

        public long Fchown(int fd, uint uid, uint gid)
        {
            OpenFile file = File(fd);
            if (file == null || file.IsPath) return -Errno.EBADF;
            return Chown(file.Node, uid, gid);
        }

        private long Chown(Inode node, uint uid, uint gid)
        {
            if (node is IRemoteNode remote) return remote.Handle.Client.HandleCall(VfsProtocol.Fchown, remote.Handle, uid | ((ulong)gid << 32));
            if (node.Mount == FileSystem.ProcMount) return -Errno.EPERM;
            if (uid != 0xFFFFFFFF) node.Uid = uid;
            if (gid != 0xFFFFFFFF) node.Gid = gid;
            // chown by root clears set-user-ID and (with group execute) set-group-ID on non-directories.
            if ((uid != 0xFFFFFFFF || gid != 0xFFFFFFFF) && !node.IsDirectory)
            {
                node.Mode &= ~0x800u;
                if ((node.Mode & 0x8) != 0) node.Mode &= ~0x400u;
            }
            node.ChangeTime = FileSystem.Now;
            return FileSystem.AttributesChanged(node);
        }

        /// <summary>utimensat: times in nanoseconds, or UTIME_NOW / UTIME_OMIT in the nanosecond part
        /// (atimeNs/mtimeNs as given by the program: seconds and nanoseconds separate). path null: fd itself.</summary>
        public long UtimensAt(int dirfd, string path, bool haveTimes, long atimeSeconds, long atimeNanos, long mtimeSeconds, long mtimeNanos, int flags)
        {
            if ((flags & ~(LinuxFile.AT_SYMLINK_NOFOLLOW | LinuxFile.AT_EMPTY_PATH)) != 0) return -Errno.EINVAL;
            if (haveTimes)
            {
                if (!ValidTime(atimeNanos) || !ValidTime(mtimeNanos)) return -Errno.EINVAL;
            }
            Inode node;
            if (path == null)
            {
                if (dirfd == LinuxFile.AT_FDCWD) return -Errno.EFAULT;
                OpenFile file = File(dirfd);
                if (file == null) return -Errno.EBADF;
                node = file.Node;
            }
            else
            {
                int error = LookupRouted(dirfd, ref path, flags, out node, out RemoteDirectory server);
                if (error < 0) return error;
                if (node == null)
                {
                    return RemoteAgain(Remote.Utimens(server, path, haveTimes, atimeSeconds, atimeNanos, mtimeSeconds, mtimeNanos, flags),
                        () => UtimensAt(LinuxFile.AT_FDCWD, Remote.RedirectPath, haveTimes, atimeSeconds, atimeNanos, mtimeSeconds, mtimeNanos, flags));
                }
            }
            if (node is IRemoteNode remoteNode)
                return remoteNode.Handle.Client.Futimens(remoteNode.Handle, haveTimes, atimeSeconds, atimeNanos, mtimeSeconds, mtimeNanos);
            long now = FileSystem.Now;
            if (!haveTimes) { node.AccessTime = node.ModifyTime = now; }
            else
            {
                if (atimeNanos != LinuxFile.UTIME_OMIT) node.AccessTime = atimeNanos == LinuxFile.UTIME_NOW ? now : atimeSeconds * 1_000_000_000 + atimeNanos;
                if (mtimeNanos != LinuxFile.UTIME_OMIT) node.ModifyTime = mtimeNanos == LinuxFile.UTIME_NOW ? now : mtimeSeconds * 1_000_000_000 + mtimeNanos;
                if (atimeNanos == LinuxFile.UTIME_OMIT && mtimeNanos == LinuxFile.UTIME_OMIT) return 0;
            }
            node.ChangeTime = now;
            return FileSystem.AttributesChanged(node);
        }

        private static bool ValidTime(long nanos) =>
            nanos == LinuxFile.UTIME_NOW || nanos == LinuxFile.UTIME_OMIT || (nanos >= 0 && nanos < 1_000_000_000);

        /// <summary>The inode statfs describes: a path's, or (path null) fd's.</summary>
        /// <summary>statfs of path, or (path null) of fd: type, blocks, free, files, free files, device into values.</summary>
        public long StatFs(int fd, string path, long* values)
        {
            Inode node;
            if (Remote != null)
            {
                if (path == null)
                {
                    OpenFile file = File(fd);
                    if (file == null) return -Errno.EBADF;
                    if (file.Node is IRemoteNode remote) return Remote.StatFs(null, null, remote.Handle, values);
                    node = file.Node;
                }
                else
                {
                    int error = LookupRouted(LinuxFile.AT_FDCWD, ref path, 0, out node, out RemoteDirectory server);
                    if (error < 0) return error;
                    if (node == null) return RemoteAgain(Remote.StatFs(server, path, null, values), () => StatFs(fd, Remote.RedirectPath, values));
                    if (node is IRemoteNode remote) return Remote.StatFs(null, null, remote.Handle, values);
                }
            }
            else
            {
                int error = StatFsTarget(fd, path, out node);
                if (error < 0) return error;
            }
            FileSystem.StatFs(node, out ulong type, out long blocks, out long free, out long files, out long freeFiles);
            values[0] = (long)type; values[1] = blocks; values[2] = free; values[3] = files; values[4] = freeFiles;
            values[5] = (long)node.Mount.Device;
            return 0;
        }

        public int StatFsTarget(int fd, string path, out Inode node)
        {
            node = null;
            if (path != null) return LookupAt(LinuxFile.AT_FDCWD, path, 0, out node);
            OpenFile file = File(fd);
            if (file == null) return -Errno.EBADF;
            node = file.Node;
            return 0;
        }

        /// <summary>ioctl requests every descriptor answers (FIONBIO, FIOCLEX, FIONCLEX need no memory;
        /// FIONREAD's count is returned through readable): 1 when handled here, 0 when it belongs to
        /// the device, -errno.</summary>
        public long IoctlGeneric(int fd, ulong request, out long readable)
        {
            readable = 0;
            OpenFile file = File(fd);
            if (file == null || file.IsPath) return -Errno.EBADF;
            switch (request)
            {
                case LinuxFile.FIOCLEX: Table.SetCloseOnExec(fd, true); return 1;
                case LinuxFile.FIONCLEX: Table.SetCloseOnExec(fd, false); return 1;
                case LinuxFile.FIONREAD:
                    switch (file.Node)
                    {
                        case PipeNode pipe: readable = pipe.Pipe.Buffered; return 1;
                        case RegularFile regular:
                            readable = regular.Size > file.Position ? regular.Size - file.Position : 0; return 1;
                        case RemoteSocket socket:
                            long queued = socket.Handle.Client.HandleCall(VfsProtocol.Readable, socket.Handle);
                            if (queued < 0) return queued;
                            readable = queued; return 1;
                        case RemoteFile remote:
                            long left = remote.Handle.Client.Readable(remote);
                            if (left < 0) return left;
                            readable = left; return 1;
                        case DeviceNode device:
                            long count = device.Device.BytesReadable;
                            if (count < 0) return count;
                            readable = count; return 1;
                        case DirectoryNode _: return -Errno.EINVAL;
                        default: return -Errno.ENOTTY;
                    }
            }
            return 0;
        }

        /// <summary>Turns O_NONBLOCK on or off (FIONBIO).</summary>
        public void SetNonBlocking(int fd, bool on)
        {
            OpenFile file = File(fd);
            if (file == null) return;
            if (on) file.Flags |= LinuxFile.O_NONBLOCK; else file.Flags &= ~LinuxFile.O_NONBLOCK;
            // A server description's flags live in the server (a socket's blocking is decided there).
            if (file.Node is IRemoteNode remote) remote.Handle.Client.HandleCall(VfsProtocol.SetFlags, remote.Handle, (ulong)(uint)(file.Flags & ~LinuxFile.O_ACCMODE));
        }

        /// <summary>poll's revents for one descriptor (POLLNVAL for a closed one).</summary>
        public short Poll(int fd, short events)
        {
            const short POLLNVAL = 0x20;
            if (fd < 0) return 0;
            OpenFile file = File(fd);
            if (file == null) return POLLNVAL;
            return file.Poll(events);
        }

        /// <summary>A fork's copy: its own table (sharing the descriptions) and cwd.</summary>
        /// <summary>The process ends: its server descriptors go.</summary>
        public void Goodbye() => Remote?.Goodbye();

        public LinuxFiles CloneForChild()
        {
            var copy = new LinuxFiles(FileSystem) { Table = Table.Clone(), Cwd = Cwd, Umask = Umask };
            FileSystem.Process = this;
            return copy;
        }
    }
}
