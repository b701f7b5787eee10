// The Linux file system calls: each handler copies the program's arguments in through UserPointers
// (EFAULT for a bad pointer, never a libOS fault), asks the process's LinuxFiles (the semantics,
// host-tested) and copies results out. Register() installs every handler and builds the VFS:
// the embedded root file-system archive under /, /dev, /proc, /tmp, and fds 0-2 on the terminal.
//
// Hooks for the rest of the personality (all optional):
//   FileCalls.Sources.Processes  the process table /proc shows (default: this process only);
//   FileCalls.Sources.Maps       the VMA table for /proc/self/maps (default: none → empty file);
//   FileCalls.Sources.Clock      wall time for file times (default: time since boot);
//   FileCalls.CurrentProcess     the default table's entry (name, arguments, exe: core's loader sets them);
//   FileCalls.CloseOnExec()      execve's step; FileCalls.BrokenPipe: called when a write gets EPIPE
//                                (core raises SIGPIPE); FileCalls.Idle: replaces the blocking file
//                                calls' wait between two looks (FileCalls.Waiting.cs).
using Aegis.Abi;
using static Aegis.LibOS.Unixish.Linux.LinuxSystemCallNumbers;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public static unsafe partial class FileCalls
    {
        public static readonly FileSystemSources Sources = new FileSystemSources();
        public static FileSystem FileSystem;
        public static LinuxFiles Files;
        /// <summary>This process's connection to the file server (null: the tree is this process's own).</summary>
        public static VfsClient Remote;
        /// <summary>This process's /proc entry (the default table's: its own after a fork).</summary>
        public static ProcessStatus CurrentProcess => s_currentTable?.Status;
        private static CurrentProcessTable s_currentTable;
        /// <summary>Called (with no arguments) when a write fails with EPIPE: SIGPIPE's place.</summary>
        public static delegate*<void> BrokenPipe;
        /// <summary>What poll/select/pselect/ppoll do while they wait (default: SystemCalls.Yield).</summary>
        public static delegate*<void> Idle;
        /// <summary>The error the root archive gave (null: read whole, or no archive in the image).</summary>
        public static string ArchiveError;

        private const int PathMax = LinuxFile.PathMax;

        /// <summary>Builds the VFS (once) and installs every file call in LinuxSystemCalls.</summary>
        public static void Register()
        {
            if (FileSystem == null) Initialize();
            D(read, &Read); D(write, &Write); D(open, &Open); D(close, &Close); D(stat, &Stat); D(fstat, &Fstat);
            D(lstat, &Lstat); D(poll, &Poll); D(lseek, &Lseek); D(ioctl, &Ioctl); D(pread64, &Pread64);
            D(pwrite64, &Pwrite64); D(readv, &Readv); D(writev, &Writev); D(access, &Access); D(pipe, &PipeCall);
            D(select, &Select); D(dup, &Dup); D(dup2, &Dup2); D(sendfile, &Sendfile); D(fcntl, &Fcntl);
            D(flock, &Flock); D(fsync, &Fsync); D(fdatasync, &Fsync); D(truncate, &Truncate); D(ftruncate, &Ftruncate);
            D(getcwd, &Getcwd); D(chdir, &Chdir); D(fchdir, &Fchdir); D(rename, &Rename); D(mkdir, &Mkdir);
            D(rmdir, &Rmdir); D(creat, &Creat); D(link, &Link); D(unlink, &Unlink); D(symlink, &Symlink);
            D(readlink, &Readlink); D(chmod, &Chmod); D(fchmod, &Fchmod); D(chown, &Chown); D(fchown, &Fchown);
            D(lchown, &Lchown); D(umask, &Umask); D(statfs, &Statfs); D(fstatfs, &Fstatfs); D(sync, &Sync);
            D(getdents64, &Getdents64); D(fadvise64, &Fadvise64); D(openat, &Openat); D(mkdirat, &Mkdirat);
            D(fchownat, &Fchownat); D(newfstatat, &Newfstatat); D(unlinkat, &Unlinkat); D(renameat, &Renameat);
            D(linkat, &Linkat); D(symlinkat, &Symlinkat); D(readlinkat, &Readlinkat); D(fchmodat, &Fchmodat);
            D(faccessat, &Faccessat); D(pselect6, &Pselect6); D(ppoll, &Ppoll); D(utimensat, &Utimensat);
            D(dup3, &Dup3); D(pipe2, &Pipe2); D(syncfs, &Syncfs); D(renameat2, &Renameat2); D(statx, &Statx);
            D(faccessat2, &Faccessat2); D(close_range, &CloseRange);
            D(eventfd, &EventFd); D(eventfd2, &EventFd2); D(epoll_create, &EpollCreate); D(epoll_create1, &EpollCreate1);
            D(epoll_ctl, &EpollCtl); D(epoll_wait, &EpollWait); D(epoll_pwait, &EpollPwait); D(epoll_pwait2, &EpollPwait2);
            RegisterSockets();
            VfsClient.SocketWait = &SocketWait;
            VfsClient.FlushWait = &FlushWait;
            VfsClient.ResumeTimeout = &Processes.LinuxThreads.ResumeDeadline;
        }

        /// <summary>A socket call the server answered Blocked (VfsClient.SocketWait): a signal ends it
        /// (-ERESTARTSYS; -EINTR for a socket with a timeout, which Linux never restarts), its
        /// timeout ends it (-EAGAIN: the deadline is set at its first wait), another runnable thread
        /// makes it wait its turn (the call is made again later, with the same deadline), else this
        /// process sleeps until the server's wake (recorded) or the deadline, or yields once.</summary>
        private static long SocketWait(bool recorded, VfsClient.SocketTimeout* timeout)
        {
            bool timed = timeout->Milliseconds > 0;
            ulong now = LinuxCpu.Timestamp();
            if (timed && timeout->Deadline == 0)
            {
                ulong ticks = (ulong)timeout->Milliseconds * TscPerMillisecond;
                bool overflows = ticks / TscPerMillisecond != (ulong)timeout->Milliseconds || ticks > ulong.MaxValue - now;
                timeout->Deadline = overflows ? ulong.MaxValue : now + ticks;
            }
            if (Processes.ProcessSignals.TakeInterrupt()) return timed ? -Errno.EINTR : -Processes.ProcessSignals.ERESTARTSYS;
            if (timed && now >= timeout->Deadline) return -Errno.EAGAIN;
            if (Processes.LinuxThreads.OthersCanRun())
            {
                // Kept untimed too (no deadline): a connect made again knows it began (VfsClient.Connect).
                Processes.LinuxThreads.KeepDeadline(timeout->Call, timed ? timeout->Deadline : ulong.MaxValue);
                return Processes.LinuxThreads.RestartLater();
            }
            if (recorded && Processes.Notices.On) Processes.ProcessSignals.WaitForWake(timed ? timeout->Deadline : ulong.MaxValue);
            else SystemCalls.Yield();
            if (Processes.Notices.Waiting) Processes.Notices.Drain();
            return 0;
        }

        /// <summary>A flush of held sends that found no room (VfsClient.FlushWait): it must go on
        /// whatever comes (those bytes were answered as sent), so a signal does not end it; the
        /// wait is bounded (10 ms) and the flush asks again.</summary>
        private static void FlushWait(bool recorded)
        {
            if (recorded && Processes.Notices.On) Processes.ProcessSignals.WaitForWake(LinuxCpu.Timestamp() + 10 * TscPerMillisecond);
            else SystemCalls.Yield();
            if (Processes.Notices.Waiting) Processes.Notices.Drain();
        }

        private static void D(int number, delegate*<ref LinuxCall, long> handler) => LinuxSystemCalls.Define(number, handler);

        /// <summary>Builds the VFS (once; Register calls it too): the root archive, /dev, /proc, /tmp and
        /// fds 0-2 on the terminal. The loader needs it before the program is prepared.</summary>
        public static void Initialize()
        {
            if (FileSystem != null) return;
            if (Sources.Processes == null)
            {
                var table = new CurrentProcessTable();
                s_currentTable = table;
                Sources.Processes = table;
            }
            VfsTransport transport = VfsIpc.Connect();
            if (transport != null)
            {
                // The tree is the file server's; this process keeps /dev, /proc and /sys (docs: "Files").
                FileSystem = BuildTree(new ConsoleDevice(), false);
                FileSystem.RootIsOnTheDisk(VfsIpc.RootKind);
                if (VfsIpc.RootKind != VfsProtocol.RootArchive) Sources.Disk = new ServerDisk();
                Remote = new VfsClient(transport, FileSystem.RootMount);
                Sources.FileServerCalls = calls => Remote != null && Remote.ServerCalls(calls);
                Files = new LinuxFiles(FileSystem, Remote);
            }
            else
            {
                FileSystem = BuildTree(new ConsoleDevice(), true);
                Files = new LinuxFiles(FileSystem);
            }
            LinuxFiles.InterruptPending = &Signals.InterruptPending;
            Files.OpenStandardStreams();
        }

        /// <summary>A tree: /, /dev (terminal may be null: the server has none), /proc, /tmp, and
        /// with archive the embedded root file system under /.</summary>
        public static FileSystem BuildTree(ICharacterDevice terminal, bool archive = true, DiskTree disk = null)
        {
            if (Sources.System == null) Sources.System = new MachineInfo();
            if (Sources.Entropy == null && MachineInfo.HasRdRand) Sources.Entropy = new RdRandEntropy();
            if (Sources.Clock == null) Sources.Clock = () => (long)Info.Ticks * 1_000_000;
            var fs = new FileSystem(Sources, terminal, disk);
            byte* start = FilesNative.RootfsStart(), end = FilesNative.RootfsEnd();
            if (archive && start != null && end > start)
            {
                ArchiveError = fs.LoadArchive(start, end - start);
                if (ArchiveError != null) LinuxLog.Line("root file system: " + ArchiveError);
            }
            return fs;
        }

        /// <summary>exit's step: the server drops this process's descriptors.</summary>
        public static void Goodbye()
        {
            // The process that started the file server ends it (its descendants end with it): the disk first.
            Net.LocalNet.HandBackAll(); // the server closes them as a Linux kernel closes an exiting process's sockets
            if (Remote != null && VfsIpc.StartedTheServer) Remote.Unmount();
            Files?.Goodbye();
        }

        /// <summary>fork's step in the parent, before the child's memory is copied (LinuxFork): the
        /// server duplicates this process's descriptors for child. 0 or -errno.</summary>
        public static int BeforeFork(ulong child)
        {
            if (Remote == null) return 0;
            Net.LocalNet.HandBackAll(forFork: true); // the child must not share a connection this process runs (its copy of the stack would answer too)
            return Remote.BeforeFork(child);
        }

        /// <summary>A fork that failed after BeforeFork.</summary>
        public static void ForkFailed() => Remote?.UndoFork();

        /// <summary>execve's step: closes the descriptors marked close-on-exec.</summary>
        public static void CloseOnExec()
        {
            Net.LocalNet.HandBackAll(); // the new program starts with the server's sockets only
            Files?.Table.CloseOnExec();
        }

        /// <summary>ProgramFiles's source (the loader): the bytes of the executable file at path
        /// (path bytes without the NUL): 0, or -ENOENT/-ENOTDIR/-ELOOP/-ENAMETOOLONG/-EACCES.
        /// The bytes stay valid and unchanged until the file is next written.</summary>
        public static int ProgramBytes(byte* path, int length, int role, byte** data, ulong* size)
        {
            if (Files == null) return -Errno.ENOENT;
            if (length <= 0) return -Errno.ENOENT;
            if (length >= PathMax) return -Errno.ENAMETOOLONG;
            int error = Files.ExecutableBytes(PathBytes.ToString(path, length), out byte* bytes, out long count, role == 1);
            if (error < 0) return error;
            *data = bytes;
            *size = (ulong)count;
            return 0;
        }

        /// <summary>ProgramFiles's descriptor source (file-backed mmap): 0, or -EBADF (not open),
        /// -EACCES (not open for reading), -ENODEV (not a regular file).</summary>
        public static int DescriptorBytes(int fd, byte** data, ulong* size)
        {
            OpenFile file = Files?.Table.Get(fd);
            if (file == null || file.IsPath) return -Errno.EBADF;
            if (!file.CanRead) return -Errno.EACCES;
            if (file.Node is RemoteFile remote)
            {
                long length = remote.Copy != null ? remote.Copy.Length : Remote.Content(remote, out byte* content);
                if (length < 0) return (int)length;
                if (remote.ArchiveData != null) { *data = remote.ArchiveData; *size = (ulong)remote.ArchiveSize; return 0; }
                fixed (byte* copy = remote.Copy) *data = copy;
                *size = (ulong)length;
                return 0;
            }
            if (!(file.Node is RegularFile regular)) return -Errno.ENODEV;
            regular.GetContent(out byte* bytes, out long count);
            *data = bytes;
            *size = (ulong)count;
            return 0;
        }

        /// <summary>The path of the file open as fd with its links followed (what /proc/self/maps
        /// names a file mapping by, as Linux), or null.</summary>
        public static string DescriptorName(int fd)
        {
            OpenFile file = Files?.Table.Get(fd);
            if (file == null) return null;
            // A file of the server's half: the server's name for it, links followed there.
            if (file.Node is IRemoteNode remote) return remote.Handle.Client.DisplayPath(remote.Handle);
            string path = file.DisplayPath;
            if (path == null || path.Length == 0 || path[0] != '/') return path;
            return Files.ResolvedPathAt(LinuxFile.AT_FDCWD, path, out _) ?? path;
        }

        // ------------------------------------------------------------------ helpers

        // The path buffers are not cleared first (SkipLocalsInit: 4 KiB of zeroes per call): ReadString
        // writes every byte it reports.
        [System.Runtime.CompilerServices.SkipLocalsInit]
        private static long ReadPath(ulong address, out string path)
        {
            path = null;
            byte* buffer = stackalloc byte[PathMax];
            long length = UserPointers.ReadString(address, buffer, PathMax);
            if (length < 0) return length;
            path = PathBytes.ToString(buffer, (int)length);
            return 0;
        }

        [System.Runtime.CompilerServices.SkipLocalsInit] // WriteStat writes every byte
        private static long CopyStat(ulong address, in StatInfo info)
        {
            byte* buffer = stackalloc byte[LinuxLayouts.StatSize];
            LinuxLayouts.WriteStat(buffer, info);
            return UserPointers.CopyOut(address, buffer, LinuxLayouts.StatSize) ? 0 : -Errno.EFAULT;
        }

        private static long ReportPipe(long result)
        {
            if (result == -Errno.EPIPE && BrokenPipe != null) BrokenPipe();
            return result;
        }

        // How much of a read's buffer the read can touch: a file's remaining bytes, a pipe's buffered
        // ones (Linux faults only on memory it writes; a large count over a small buffer is fine).
        private static long ReadBound(OpenFile file, long count, long offset)
        {
            long available;
            switch (file.Node)
            {
                case RegularFile regular: available = regular.Size - (offset < 0 ? file.Position : offset); break;
                case ProcFile _: available = (file.Snapshot == null ? 0 : file.Snapshot.Length) - (offset < 0 ? file.Position : offset); break;
                // A pipe's read may wait for bytes that are not there yet: the whole buffer is
                // checked (bounding it by what is buffered now made an empty pipe read 0 bytes:
                // end of file instead of EAGAIN or waiting for the writer).
                case PipeNode _: return count;
                // A server file: the server answers what is there; the buffer is checked whole.
                default: return count;
            }
            if (available < 0) available = 0;
            return count < available ? count : available;
        }

        private static long Count(ulong value) => value > long.MaxValue ? long.MaxValue : (long)value;

        private static long DoRead(int fd, ulong buffer, long count, long offset)
        {
            OpenFile file = Files.Table.Get(fd);
            if (file == null) return -Errno.EBADF;
            if (count < 0) return -Errno.EINVAL;
            if (!file.CanRead) return -Errno.EBADF;
            long bound = ReadBound(file, count, offset);
            if (!UserPointers.IsAccessible(buffer, (ulong)bound, true)) return -Errno.EFAULT;
            count = bound;
            long result = offset < 0 ? Files.Read(fd, (byte*)buffer, count) : Files.PRead(fd, (byte*)buffer, count, offset);
            return result == EventFdNode.WouldWait && file.Node is EventFdNode ? WaitForCounter(fd, (byte*)buffer, count, false) : result;
        }

        private static long DoWrite(int fd, ulong buffer, long count, long offset)
        {
            OpenFile file = Files.Table.Get(fd);
            if (file == null) return -Errno.EBADF;
            if (count < 0) return -Errno.EINVAL;
            if (!file.CanWrite) return -Errno.EBADF;
            if (!UserPointers.IsAccessible(buffer, (ulong)count, false)) return -Errno.EFAULT;
            long result = offset < 0 ? Files.Write(fd, (byte*)buffer, count) : Files.PWrite(fd, (byte*)buffer, count, offset);
            if (result == EventFdNode.WouldWait && file.Node is EventFdNode) return WaitForCounter(fd, (byte*)buffer, count, true);
            return ReportPipe(result);
        }

        // ------------------------------------------------------------------ data

        private static long Read(ref LinuxCall c) => DoRead((int)c.A0, c.A1, Count(c.A2), -1);
        private static long Write(ref LinuxCall c) => DoWrite((int)c.A0, c.A1, Count(c.A2), -1);

        private static long Pread64(ref LinuxCall c)
        {
            if ((long)c.A3 < 0) return Files.Table.Get((int)c.A0) == null ? -Errno.EBADF : -Errno.EINVAL;
            return DoRead((int)c.A0, c.A1, Count(c.A2), (long)c.A3);
        }

        private static long Pwrite64(ref LinuxCall c)
        {
            if ((long)c.A3 < 0) return Files.Table.Get((int)c.A0) == null ? -Errno.EBADF : -Errno.EINVAL;
            return DoWrite((int)c.A0, c.A1, Count(c.A2), (long)c.A3);
        }

        private static long Readv(ref LinuxCall c) => Vector((int)c.A0, c.A1, (long)c.A2, false);
        private static long Writev(ref LinuxCall c) => Vector((int)c.A0, c.A1, (long)c.A2, true);

        private static long Vector(int fd, ulong vectors, long count, bool write)
        {
            OpenFile file = Files.Table.Get(fd);
            if (file == null) return -Errno.EBADF;
            if (write ? !file.CanWrite : !file.CanRead) return -Errno.EBADF;
            if (count < 0 || count > 1024) return -Errno.EINVAL;
            if (count == 0) return 0;
            ulong* iov = stackalloc ulong[(int)count * 2];
            if (!UserPointers.CopyIn(iov, vectors, (ulong)count * 16)) return -Errno.EFAULT;
            long total = 0;
            for (int i = 0; i < count; i++)
            {
                if ((long)iov[i * 2 + 1] < 0) return -Errno.EINVAL;
                total += (long)iov[i * 2 + 1];
                if (total < 0) return -Errno.EINVAL;
            }
            if (file.Node is RemoteSocket socket) return SocketVector(socket, iov, count, write); // a message socket's pieces are one message
            long done = 0;
            for (int i = 0; i < count; i++)
            {
                long length = (long)iov[i * 2 + 1];
                if (length == 0) continue;
                long result = write ? DoWrite(fd, iov[i * 2], length, -1) : DoRead(fd, iov[i * 2], length, -1);
                if (result < 0) return done > 0 ? done : result;
                done += result;
                if (result < length) break;
            }
            return done;
        }

        private static long Lseek(ref LinuxCall c) => Files.Seek((int)c.A0, (long)c.A1, (int)c.A2);

        private static long Sendfile(ref LinuxCall c)
        {
            int outFd = (int)c.A0, inFd = (int)c.A1;
            long count = Count(c.A3);
            if (c.A2 == 0) return ReportPipe(Files.SendFile(outFd, inFd, null, count));
            long offset;
            if (!UserPointers.CopyIn(&offset, c.A2, 8)) return -Errno.EFAULT;
            if (!UserPointers.IsAccessible(c.A2, 8, true)) return -Errno.EFAULT;
            long result = Files.SendFile(outFd, inFd, &offset, count);
            if (result >= 0 && !UserPointers.CopyOut(c.A2, &offset, 8)) return -Errno.EFAULT;
            return ReportPipe(result);
        }

        private static long Getdents64(ref LinuxCall c)
        {
            OpenFile file = Files.Table.Get((int)c.A0);
            if (file == null) return -Errno.EBADF;
            long length = Count(c.A2);
            if (length > int.MaxValue) length = int.MaxValue;
            if (!(file.Node is DirectoryNode)) return -Errno.ENOTDIR;
            if (!UserPointers.IsAccessible(c.A1, (ulong)length, true)) return -Errno.EFAULT;
            return Files.GetDirectoryEntries((int)c.A0, (byte*)c.A1, (int)length);
        }

        // ------------------------------------------------------------------ open, close, descriptors

        private static long Open(ref LinuxCall c) => OpenPath(LinuxFile.AT_FDCWD, c.A0, (int)c.A1, (uint)c.A2);

        private static long Creat(ref LinuxCall c)
        {
            long error = ReadPath(c.A0, out string path);
            return error < 0 ? error : Files.OpenAt(LinuxFile.AT_FDCWD, path, LinuxFile.O_CREAT | LinuxFile.O_WRONLY | LinuxFile.O_TRUNC, (uint)c.A1);
        }

        private static long Openat(ref LinuxCall c) => OpenPath((int)c.A0, c.A1, (int)c.A2, (uint)c.A3);

        // open/openat: the path's bytes first go to the client's cache (LinuxFiles.OpenCached: a
        // read-only open of an anchored absolute path needs no string and no request).
        [System.Runtime.CompilerServices.SkipLocalsInit]
        private static long OpenPath(int dirfd, ulong pathAddress, int flags, uint mode)
        {
            byte* path = stackalloc byte[PathMax];
            long length = UserPointers.ReadString(pathAddress, path, PathMax);
            if (length < 0) return length;
            long fd = Files.OpenCached(path, (int)length, flags);
            if (fd != VfsClient.NotCached) return fd;
            return Files.OpenAt(dirfd, PathBytes.ToString(path, (int)length), flags, mode);
        }

        private static long Close(ref LinuxCall c) => Files.Close((int)c.A0);

        private static long CloseRange(ref LinuxCall c)
        {
            uint first = (uint)c.A0, last = (uint)c.A1, flags = (uint)c.A2;
            const uint CLOSE_RANGE_UNSHARE = 2, CLOSE_RANGE_CLOEXEC = 4;
            if ((flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) != 0 || first > last) return -Errno.EINVAL;
            FileTable table = Files.Table;
            for (long fd = first; fd <= last && fd < table.Size; fd++)
            {
                if (table.Get((int)fd) == null) continue;
                if ((flags & CLOSE_RANGE_CLOEXEC) != 0) table.SetCloseOnExec((int)fd, true);
                else table.Close((int)fd);
            }
            return 0;
        }

        private static long Dup(ref LinuxCall c) => Files.Dup((int)c.A0);
        private static long Dup2(ref LinuxCall c) => Files.Dup2((int)c.A0, (int)c.A1);
        private static long Dup3(ref LinuxCall c) => Files.Dup3((int)c.A0, (int)c.A1, (int)c.A2);

        private static long PipeCall(ref LinuxCall c) => MakePipe(c.A0, 0);
        private static long Pipe2(ref LinuxCall c) => MakePipe(c.A0, (int)c.A1);

        private static long MakePipe(ulong fds, int flags)
        {
            if (!UserPointers.IsAccessible(fds, 8, true)) return -Errno.EFAULT;
            long result = Files.Pipe2(flags, out int readFd, out int writeFd);
            if (result < 0) return result;
            int* pair = stackalloc int[2];
            pair[0] = readFd; pair[1] = writeFd;
            if (!UserPointers.CopyOut(fds, pair, 8)) { Files.Close(readFd); Files.Close(writeFd); return -Errno.EFAULT; }
            return 0;
        }

        private static long Fcntl(ref LinuxCall c)
        {
            int fd = (int)c.A0, command = (int)c.A1;
            const int F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38;
            switch (command)
            {
                case LinuxFile.F_GETLK:
                case LinuxFile.F_SETLK:
                case LinuxFile.F_SETLKW:
                case F_OFD_GETLK:
                case F_OFD_SETLK:
                case F_OFD_SETLKW:
                    {
                        // One process holds every lock there is: nothing ever conflicts.
                        if (Files.Table.Get(fd) == null) return -Errno.EBADF;
                        byte* flock = stackalloc byte[32];
                        if (!UserPointers.CopyIn(flock, c.A2, 32)) return -Errno.EFAULT;
                        short type = *(short*)flock;
                        if (type != LinuxFile.F_RDLCK && type != LinuxFile.F_WRLCK && type != LinuxFile.F_UNLCK) return -Errno.EINVAL;
                        if (command == LinuxFile.F_GETLK || command == F_OFD_GETLK)
                        {
                            *(short*)flock = LinuxFile.F_UNLCK;
                            if (!UserPointers.CopyOut(c.A2, flock, 32)) return -Errno.EFAULT;
                        }
                        return 0;
                    }
                case LinuxFile.F_SETOWN:
                    {
                        OpenFile owned = Files.Table.Get(fd);
                        if (owned == null) return -Errno.EBADF;
                        owned.Owner = (int)c.A2;
                        return 0;
                    }
                case LinuxFile.F_GETOWN:
                    {
                        OpenFile owned = Files.Table.Get(fd);
                        return owned == null ? -Errno.EBADF : owned.Owner;
                    }
                default:
                    return Files.Fcntl(fd, command, c.A2);
            }
        }

        private static long Flock(ref LinuxCall c)
        {
            OpenFile file = Files.Table.Get((int)c.A0);
            if (file == null || file.IsPath) return -Errno.EBADF;
            int operation = (int)c.A1 & ~4; // LOCK_NB
            return operation == 1 || operation == 2 || operation == 8 ? 0 : -Errno.EINVAL;
        }

        private static long Ioctl(ref LinuxCall c)
        {
            int fd = (int)c.A0;
            ulong request = (uint)c.A1, argument = c.A2;
            OpenFile file = Files.Table.Get(fd);
            if (file == null || file.IsPath) return -Errno.EBADF;
            if (request == LinuxFile.FIONBIO)
            {
                int on;
                if (!UserPointers.CopyIn(&on, argument, 4)) return -Errno.EFAULT;
                Files.SetNonBlocking(fd, on != 0);
                return 0;
            }
            if (request == LinuxFile.FIOASYNC)
            {
                // O_ASYNC on or off, as F_SETFL would set it (nginx's master asks it of each
                // worker's channel and gave up spawning workers on ENOTTY).
                int on;
                if (!UserPointers.CopyIn(&on, argument, 4)) return -Errno.EFAULT;
                int flags = on != 0 ? file.Flags | LinuxFile.O_ASYNC : file.Flags & ~LinuxFile.O_ASYNC;
                return Files.Fcntl(fd, LinuxFile.F_SETFL, (ulong)(uint)flags);
            }
            long handled = Files.IoctlGeneric(fd, request, out long readable);
            if (handled == 1)
            {
                if (request == LinuxFile.FIONREAD)
                {
                    int value = readable > int.MaxValue ? int.MaxValue : (int)readable;
                    if (!UserPointers.CopyOut(argument, &value, 4)) return -Errno.EFAULT;
                }
                return 0;
            }
            if (file.Node is DeviceNode device) return device.Device.Ioctl(request, argument);
            return handled < 0 ? handled : -Errno.ENOTTY;
        }

        private static long Fsync(ref LinuxCall c)
        {
            OpenFile file = Files.Table.Get((int)c.A0);
            if (file == null || file.IsPath) return -Errno.EBADF;
            if (file.Node is IRemoteNode remote) return remote.Handle.Client.Sync(remote.Handle);
            if (!(file.Node is RegularFile || file.Node is DirectoryNode)) return -Errno.EINVAL;
            return FileSystem.Sync(file.Node);
        }

        private static long Syncfs(ref LinuxCall c)
        {
            OpenFile file = Files.Table.Get((int)c.A0);
            if (file == null) return -Errno.EBADF;
            if (file.Node is IRemoteNode remote) return remote.Handle.Client.Sync(null);
            return FileSystem.Sync(null);
        }

        private static long Sync(ref LinuxCall c)
        {
            // sync(2) cannot fail; what the disk holds is written (the memory trees have nothing to write).
            if (Remote != null) Remote.Sync(null);
            else FileSystem.Sync(null);
            return 0;
        }

        private static long Fadvise64(ref LinuxCall c)
        {
            OpenFile file = Files.Table.Get((int)c.A0);
            if (file == null || file.IsPath) return -Errno.EBADF;
            if (file.Node is PipeNode) return -Errno.ESPIPE;
            return (int)c.A3 >= 0 && (int)c.A3 <= 5 ? 0 : -Errno.EINVAL;
        }

        // ------------------------------------------------------------------ metadata

        private static long Stat(ref LinuxCall c) => StatPath(LinuxFile.AT_FDCWD, c.A0, c.A1, 0);
        private static long Lstat(ref LinuxCall c) => StatPath(LinuxFile.AT_FDCWD, c.A0, c.A1, LinuxFile.AT_SYMLINK_NOFOLLOW);
        private static long Newfstatat(ref LinuxCall c) => StatPath((int)c.A0, c.A1, c.A2, (int)c.A3);

        // stat/lstat/newfstatat: the path's bytes first go to the client's kept answers
        // (LinuxFiles.CachedStat: the struct stat is copied out as kept, no string, no request).
        [System.Runtime.CompilerServices.SkipLocalsInit]
        private static long StatPath(int dirfd, ulong pathAddress, ulong buffer, int flags)
        {
            byte* path = stackalloc byte[PathMax];
            long length = UserPointers.ReadString(pathAddress, path, PathMax);
            if (length < 0) return length;
            if (length == 0 && dirfd != LinuxFile.AT_FDCWD && (flags & LinuxFile.AT_EMPTY_PATH) != 0 && (flags & ~StatPathFlags) == 0)
                return Fstat(dirfd, buffer); // glibc's fstat: newfstatat(fd, "", buf, AT_EMPTY_PATH), as LookupAt answers it, without the kept answers' lookup or a string
            int kept = Files.CachedStat(path, (int)length, flags, out byte[] image);
            if (kept != VfsClient.NotCached)
            {
                if (kept < 0) return kept;
                fixed (byte* from = image)
                    return UserPointers.CopyOut(buffer, from, LinuxLayouts.StatSize) ? 0 : -Errno.EFAULT;
            }
            long error = Files.StatAt(dirfd, PathBytes.ToString(path, (int)length), flags, out StatInfo info);
            return error < 0 ? error : CopyStat(buffer, info);
        }

        private const int StatPathFlags = LinuxFile.AT_SYMLINK_NOFOLLOW | LinuxFile.AT_EMPTY_PATH | LinuxFile.AT_NO_AUTOMOUNT | LinuxFile.AT_STATX_SYNC_TYPE;

        private static long Fstat(ref LinuxCall c) => Fstat((int)c.A0, c.A1);

        private static long Fstat(int fd, ulong buffer)
        {
            long error = Files.Fstat(fd, out StatInfo info);
            return error < 0 ? error : CopyStat(buffer, info);
        }

        private static long Statx(ref LinuxCall c)
        {
            int dirfd = (int)c.A0, flags = (int)c.A2;
            uint mask = (uint)c.A3;
            if ((mask & 0x80000000) != 0) return -Errno.EINVAL; // STATX__RESERVED
            if ((flags & LinuxFile.AT_STATX_SYNC_TYPE) == LinuxFile.AT_STATX_SYNC_TYPE) return -Errno.EINVAL;
            long error = ReadPath(c.A1, out string path);
            if (error < 0) return error;
            error = Files.StatAt(dirfd, path, flags, out StatInfo info);
            if (error < 0) return error;
            byte* buffer = stackalloc byte[LinuxLayouts.StatxSize];
            LinuxLayouts.WriteStatx(buffer, info);
            return UserPointers.CopyOut(c.A4, buffer, LinuxLayouts.StatxSize) ? 0 : -Errno.EFAULT;
        }

        private static long Readlink(ref LinuxCall c) => DoReadlink(LinuxFile.AT_FDCWD, c.A0, c.A1, (long)c.A2);
        private static long Readlinkat(ref LinuxCall c) => DoReadlink((int)c.A0, c.A1, c.A2, (long)c.A3);

        private static long DoReadlink(int dirfd, ulong pathAddress, ulong buffer, long size)
        {
            long error = ReadPath(pathAddress, out string path);
            if (error < 0) return error;
            if (size <= 0) return -Errno.EINVAL;
            if (size > int.MaxValue) size = int.MaxValue;
            error = Files.ReadLinkAt(dirfd, path, out string target);
            if (error < 0) return error;
            int count = target.Length < size ? target.Length : (int)size;
            if (!UserPointers.IsAccessible(buffer, (ulong)count, true)) return -Errno.EFAULT;
            return PathBytes.Copy(target, (byte*)buffer, count);
        }

        private static long Access(ref LinuxCall c) => DoAccess(LinuxFile.AT_FDCWD, c.A0, (int)c.A1, 0);
        private static long Faccessat(ref LinuxCall c) => DoAccess((int)c.A0, c.A1, (int)c.A2, 0);
        private static long Faccessat2(ref LinuxCall c) => DoAccess((int)c.A0, c.A1, (int)c.A2, (int)c.A3);

        private static long DoAccess(int dirfd, ulong pathAddress, int mode, int flags)
        {
            long error = ReadPath(pathAddress, out string path);
            return error < 0 ? error : Files.AccessAt(dirfd, path, mode, flags);
        }

        private static long Mkdir(ref LinuxCall c)
        {
            long error = ReadPath(c.A0, out string path);
            return error < 0 ? error : Files.MakeDirectoryAt(LinuxFile.AT_FDCWD, path, (uint)c.A1);
        }

        private static long Mkdirat(ref LinuxCall c)
        {
            long error = ReadPath(c.A1, out string path);
            return error < 0 ? error : Files.MakeDirectoryAt((int)c.A0, path, (uint)c.A2);
        }

        private static long Rmdir(ref LinuxCall c)
        {
            long error = ReadPath(c.A0, out string path);
            return error < 0 ? error : Files.UnlinkAt(LinuxFile.AT_FDCWD, path, LinuxFile.AT_REMOVEDIR);
        }

        private static long Unlink(ref LinuxCall c)
        {
            long error = ReadPath(c.A0, out string path);
            return error < 0 ? error : Files.UnlinkAt(LinuxFile.AT_FDCWD, path, 0);
        }

        private static long Unlinkat(ref LinuxCall c)
        {
            long error = ReadPath(c.A1, out string path);
            return error < 0 ? error : Files.UnlinkAt((int)c.A0, path, (int)c.A2);
        }

        private static long Rename(ref LinuxCall c) => DoRename(LinuxFile.AT_FDCWD, c.A0, LinuxFile.AT_FDCWD, c.A1, 0);
        private static long Renameat(ref LinuxCall c) => DoRename((int)c.A0, c.A1, (int)c.A2, c.A3, 0);
        private static long Renameat2(ref LinuxCall c) => DoRename((int)c.A0, c.A1, (int)c.A2, c.A3, (int)c.A4);

        private static long DoRename(int oldDirfd, ulong oldAddress, int newDirfd, ulong newAddress, int flags)
        {
            long error = ReadPath(oldAddress, out string oldPath);
            if (error < 0) return error;
            error = ReadPath(newAddress, out string newPath);
            return error < 0 ? error : Files.RenameAt(oldDirfd, oldPath, newDirfd, newPath, flags);
        }

        private static long Link(ref LinuxCall c) => DoLink(LinuxFile.AT_FDCWD, c.A0, LinuxFile.AT_FDCWD, c.A1, 0);
        private static long Linkat(ref LinuxCall c) => DoLink((int)c.A0, c.A1, (int)c.A2, c.A3, (int)c.A4);

        private static long DoLink(int oldDirfd, ulong oldAddress, int newDirfd, ulong newAddress, int flags)
        {
            long error = ReadPath(oldAddress, out string oldPath);
            if (error < 0) return error;
            error = ReadPath(newAddress, out string newPath);
            return error < 0 ? error : Files.LinkAt(oldDirfd, oldPath, newDirfd, newPath, flags);
        }

        private static long Symlink(ref LinuxCall c) => DoSymlink(c.A0, LinuxFile.AT_FDCWD, c.A1);
        private static long Symlinkat(ref LinuxCall c) => DoSymlink(c.A0, (int)c.A1, c.A2);

        private static long DoSymlink(ulong targetAddress, int newDirfd, ulong newAddress)
        {
            long error = ReadPath(targetAddress, out string target);
            if (error < 0) return error;
            error = ReadPath(newAddress, out string newPath);
            return error < 0 ? error : Files.SymlinkAt(target, newDirfd, newPath);
        }

        private static long Chmod(ref LinuxCall c)
        {
            long error = ReadPath(c.A0, out string path);
            return error < 0 ? error : Files.ChmodAt(LinuxFile.AT_FDCWD, path, (uint)c.A1, 0);
        }

        private static long Fchmodat(ref LinuxCall c)
        {
            long error = ReadPath(c.A1, out string path);
            return error < 0 ? error : Files.ChmodAt((int)c.A0, path, (uint)c.A2, 0);
        }

        private static long Fchmod(ref LinuxCall c) => Files.Fchmod((int)c.A0, (uint)c.A1);

        private static long Chown(ref LinuxCall c) => DoChown(LinuxFile.AT_FDCWD, c.A0, (uint)c.A1, (uint)c.A2, 0);
        private static long Lchown(ref LinuxCall c) => DoChown(LinuxFile.AT_FDCWD, c.A0, (uint)c.A1, (uint)c.A2, LinuxFile.AT_SYMLINK_NOFOLLOW);
        private static long Fchownat(ref LinuxCall c) => DoChown((int)c.A0, c.A1, (uint)c.A2, (uint)c.A3, (int)c.A4);
        private static long Fchown(ref LinuxCall c) => Files.Fchown((int)c.A0, (uint)c.A1, (uint)c.A2);

        private static long DoChown(int dirfd, ulong pathAddress, uint uid, uint gid, int flags)
        {
            long error = ReadPath(pathAddress, out string path);
            return error < 0 ? error : Files.ChownAt(dirfd, path, uid, gid, flags);
        }

        private static long Utimensat(ref LinuxCall c)
        {
            int dirfd = (int)c.A0, flags = (int)c.A3;
            string path = null;
            if (c.A1 != 0)
            {
                long error = ReadPath(c.A1, out path);
                if (error < 0) return error;
            }
            if (c.A2 == 0) return Files.UtimensAt(dirfd, path, false, 0, 0, 0, 0, flags);
            long* times = stackalloc long[4];
            if (!UserPointers.CopyIn(times, c.A2, 32)) return -Errno.EFAULT;
            return Files.UtimensAt(dirfd, path, true, times[0], times[1], times[2], times[3], flags);
        }

        private static long Truncate(ref LinuxCall c)
        {
            long error = ReadPath(c.A0, out string path);
            return error < 0 ? error : Files.Truncate(path, (long)c.A1);
        }

        private static long Ftruncate(ref LinuxCall c) => Files.Ftruncate((int)c.A0, (long)c.A1);

        private static long Umask(ref LinuxCall c) => Files.SetUmask((uint)c.A0);

        private static long Statfs(ref LinuxCall c)
        {
            long error = ReadPath(c.A0, out string path);
            return error < 0 ? error : DoStatfs(-1, path, c.A1);
        }

        private static long Fstatfs(ref LinuxCall c) => DoStatfs((int)c.A0, null, c.A1);

        private static long DoStatfs(int fd, string path, ulong buffer)
        {
            long* values = stackalloc long[6];
            long error = Files.StatFs(fd, path, values);
            if (error < 0) return error;
            byte* s = stackalloc byte[LinuxLayouts.StatfsSize];
            LinuxLayouts.WriteStatfs(s, (ulong)values[0], values[1], values[2], values[3], values[4], (ulong)values[5]);
            return UserPointers.CopyOut(buffer, s, LinuxLayouts.StatfsSize) ? 0 : -Errno.EFAULT;
        }

        // ------------------------------------------------------------------ cwd

        private static long Getcwd(ref LinuxCall c)
        {
            int error = Files.GetCwd(out string path);
            if (error < 0) return error;
            long size = Count(c.A1);
            if (path.Length + 1 > PathMax) return -Errno.ENAMETOOLONG;
            if (path.Length + 1 > size) return -Errno.ERANGE;
            byte* buffer = stackalloc byte[path.Length + 1];
            PathBytes.Copy(path, buffer, path.Length);
            buffer[path.Length] = 0;
            return UserPointers.CopyOut(c.A0, buffer, (ulong)path.Length + 1) ? path.Length + 1 : -Errno.EFAULT;
        }

        private static long Chdir(ref LinuxCall c)
        {
            long error = ReadPath(c.A0, out string path);
            return error < 0 ? error : Files.ChangeDirectory(path);
        }

        private static long Fchdir(ref LinuxCall c) => Files.ChangeDirectory((int)c.A0);
    }
}
