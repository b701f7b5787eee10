// The file server's logic (docs/libos-unixish.md, "Files"): the one tree every Linux process sees
// (the root archive plus tmpfs; /dev, /proc and /sys are each process's own, so a walk that reaches them
// is handed back: FileSystem.ForeignDevAndProc) and every process's open file descriptions, in
// one descriptor table whose entries belong to the process that opened or was given them.
// Handle answers one request (VfsProtocol) from one process; the environment glue
// (VfsServerMain) maps each client's buffer and calls it from the IPC upcall. Pure logic; compiles
// under the real .NET (the host tests drive it through VfsClient without IPC).
//
// Invariants: every request is checked before it is used: descriptor numbers must name a
// description the sender holds (else EBADF), lengths and counts must fit the buffer (else EFAULT
// or EINVAL), strings must fit PATH_MAX (ENAMETOOLONG); an exception in the file system's code
// becomes EIO for that request and the server goes on. A description lives while some process
// holds a descriptor of it (the table's References); Goodbye drops all of a process's.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    public sealed unsafe partial class VfsServer
    {
        public readonly FileSystem FileSystem;
        /// <summary>The server's view: its table holds every description; its cwd is the root.</summary>
        public readonly LinuxFiles Files;
        private readonly ulong[] _owners = new ulong[VfsProtocol.ServerDescriptors];

        /// <summary>Requests answered, and requests refused as malformed (for tests and logs).</summary>
        public ulong Requests, Malformed;
        /// <summary>The tree's generation: grows with each request that may change what stat shows.</summary>
        public ulong Generation = 1;
        /// <summary>Called after a request that changed the generation: writes it into every other
        /// registered buffer (the sender's is written by Handle).</summary>
        public System.Action<ulong> Broadcast;

        /// <summary>Whether request op (word 0's low byte) with w2 may change what stat shows of
        /// some path: then Generation grows before it is answered.</summary>
        public static bool Changes(int op, ulong w2)
        {
            switch (op)
            {
                case VfsProtocol.Open:
                case VfsProtocol.Reopen:
                    return ((int)(uint)w2 & (LinuxFile.O_CREAT | LinuxFile.O_TRUNC)) != 0;
                case VfsProtocol.Write: case VfsProtocol.PWrite: case VfsProtocol.MakeDirectory: case VfsProtocol.Unlink:
                case VfsProtocol.Rename: case VfsProtocol.Link: case VfsProtocol.Symlink: case VfsProtocol.Chmod:
                case VfsProtocol.Chown: case VfsProtocol.Utimens: case VfsProtocol.Futimens: case VfsProtocol.Truncate:
                case VfsProtocol.Fchmod: case VfsProtocol.Fchown: case VfsProtocol.Ftruncate:
                case VfsProtocol.Bind: // an AF_UNIX path bind makes a socket file
                    return true;
                default:
                    return false;
            }
        }

        public VfsServer(FileSystem fileSystem)
        {
            FileSystem = fileSystem;
            fileSystem.ForeignDevAndProc = true;
            Files = new LinuxFiles(fileSystem);
            Files.Table = new FileTable(VfsProtocol.ServerDescriptors);
            Unix = new UnixSockets(Files);
        }

        /// <summary>Descriptors the server holds for sender (tests; leaks show here).</summary>
        public int DescriptorsOf(ulong sender)
        {
            int count = 0;
            for (int fd = 0; fd < Files.Table.Size; fd++)
                if (Files.Table.Get(fd) != null && _owners[fd] == sender) count++;
            return count;
        }

        /// <summary>Requests so far by operation (VfsProtocol numbers; descriptors closed along with
        /// another request are not requests): /proc/aegis/file_server.</summary>
        public readonly long[] Calls = new long[VfsProtocol.Count];

        /// <summary>The sender's deferred closes a call lists (its server descriptors; one it does not
        /// hold is skipped).</summary>
        private void CloseListed(ulong sender, int* list, int count)
        {
            for (int i = 0; i < count; i++)
            {
                int fd = list[i];
                if (!Owned(sender, fd)) continue;
                if (Files.Table.Get(fd).Node is SocketNode closing && closing.Socket.Domain != LinuxSocket.AF_UNIX)
                    SocketsTouched = true; // its close may wake others, arm timers
                Files.Table.Close(fd);
            }
        }

        /// <summary>Answers one request; buffer is the sender's (size bytes, at least BufferBytes
        /// for a registered client; BufferBytes + 4096 when its lend page follows: LendArea.cs).
        /// Never throws.</summary>
        public long Handle(ulong sender, ulong w0, ulong w1, ulong w2, ulong w3, byte* buffer, int size, out ulong reply1)
        {
            reply1 = 0;
            Requests++;
            if ((w0 & 0xFF) < VfsProtocol.Count) Calls[w0 & 0xFF]++;
            if (buffer == null || size < VfsProtocol.BufferBytes) { Malformed++; return -Errno.EFAULT; }
            try
            {
                // First, before any descriptor is used: what the sender took of its lent bytes.
                if (_unlentCount != 0) RepublishUnlent(); // (left by a call that ended in an exception)
                if (size >= VfsProtocol.BufferBytes + 4096) EndLending(sender, buffer + VfsProtocol.BufferBytes);
                int closes = (int)((w0 >> 8) & 0xFF);
                bool closesAfter = (w0 & VfsProtocol.ClosesAfter) != 0;
                if (closes > VfsProtocol.MaximumCloses || (w0 >> 17) != 0 || (closesAfter && (w0 & 0xFF) != VfsProtocol.SendTo)) { Malformed++; return -Errno.EINVAL; }
                if (!closesAfter) CloseListed(sender, (int*)buffer, closes);
                if ((w0 & 0xFF) == VfsProtocol.Goodbye) SocketsTouched = true; // a socket may close
                bool changes = Changes((int)(w0 & 0xFF), w2);
                if (changes) Generation++;
                long result = Dispatch(sender, (int)(w0 & 0xFF), w1, w2, w3, buffer + VfsProtocol.Payload, out reply1);
                // (The list lies before the payload: the operation did not touch it.)
                if (closesAfter && VfsProtocol.ClosesWentAfter(result, w2)) CloseListed(sender, (int*)buffer, closes);
                if (_unlentCount != 0) RepublishUnlent();
                if (Unix.ClosedNetworkSocket) { Unix.ClosedNetworkSocket = false; SocketsTouched = true; } // passed in a message dropped unread
                *(ulong*)(buffer + VfsProtocol.Generation) = Generation;
                if (changes && Broadcast != null) Broadcast(Generation);
                if (result == -Errno.EFAULT || result == -Errno.EBADF) Malformed++;
                return result;
            }
            catch (System.Exception)
            {
                Malformed++;
                reply1 = 0;
                return -Errno.EIO;
            }
        }

        /// <summary>Everything the server holds for a process goes: its descriptors (a description
        /// another process shares stays), a datagram it was staging, its handover records, the filters
        /// given to it. Goodbye's work, and what the environment glue does for a process it learns
        /// ended without Goodbye (VfsIpc.NoticeEnds: InfoPage.EnvironmentEnds, EnvironmentAlive).</summary>
        public void Depart(ulong sender)
        {
            if (!Saying) DepartedCount++;
            LinuxFiles files = Files;
            for (int fd = 0; fd < files.Table.Size; fd++)
                if (Owned(sender, fd)) files.Table.Close(fd);
            ForgetStaged(sender);
            ForgetHandovers(sender);
            _heldFor.Remove(sender);
            SocketsTouched = true; // a socket may have closed
        }

        /// <summary>Processes given descriptors by another's Duplicate (fork's children), until they depart.</summary>
        private readonly System.Collections.Generic.HashSet<ulong> _heldFor = new System.Collections.Generic.HashSet<ulong>();

        /// <summary>Processes found ended without Goodbye and departed for (/proc/aegis/file_server's
        /// "ended_without_goodbye").</summary>
        public long DepartedCount;
        private bool Saying;

        /// <summary>Every process the server holds something for, added to 'holders' once each (ids
        /// there already are skipped): the children given descriptors by a Duplicate, staged
        /// datagrams, handover records, lent and given filters, and — only when 'descriptors' (a
        /// registered process's slot was taken from it) — every descriptor's owner (the whole table).</summary>
        public void Holders(System.Collections.Generic.List<ulong> holders, bool descriptors)
        {
            if (descriptors)
                for (int fd = 0; fd < Files.Table.Size; fd++)
                    if (Files.Table.Get(fd) != null) AddOnce(holders, _owners[fd]);
            foreach (ulong sender in _heldFor) AddOnce(holders, sender);
            foreach (ulong sender in _staged.Keys) AddOnce(holders, sender);
            HandoverHolders(holders);
        }

        /// <summary>Whether the server holds something for the process outside the registry: given
        /// descriptors by a Duplicate, a staged datagram, handover records, lent or given filters
        /// (not the descriptors of a process whose slot was taken: Holders finds those).</summary>
        public bool Holds(ulong process)
        {
            if (process == 0) return false;
            return _heldFor.Contains(process) || _staged.ContainsKey(process) || HoldsHandover(process);
        }

        private static void AddOnce(System.Collections.Generic.List<ulong> list, ulong id)
        {
            if (id != 0 && !list.Contains(id)) list.Add(id);
        }

        private bool Owned(ulong sender, int fd) =>
            fd >= 0 && fd < Files.Table.Size && Files.Table.Get(fd) != null && _owners[fd] == sender;

        private OpenFile Own(ulong sender, ulong word)
        {
            long fd = (long)word;
            if (fd < 0 || fd >= Files.Table.Size) return null;
            return Owned(sender, (int)fd) ? Files.Table.Get((int)fd) : null;
        }

        /// <summary>A dirfd argument: AT_FDCWD (the root: the server's cwd) or a descriptor the sender holds.</summary>
        private bool Dirfd(ulong sender, ulong word, out int dirfd)
        {
            dirfd = (int)word;
            if ((long)word == LinuxFile.AT_FDCWD || (int)word == LinuxFile.AT_FDCWD) { dirfd = LinuxFile.AT_FDCWD; return true; }
            return Own(sender, word) != null;
        }

        private static long ReadString(byte* payload, long offset, ulong length, out string text)
        {
            text = null;
            if (length >= LinuxFile.PathMax) return -Errno.ENAMETOOLONG;
            if (offset < 0 || offset + (long)length > VfsProtocol.PayloadBytes) return -Errno.EFAULT;
            text = PathBytes.ToString(payload + offset, (int)length);
            return 0;
        }

        private static int WriteString(string text, byte* payload) => PathBytes.Copy(text, payload, VfsProtocol.PayloadBytes);

        private long Redirect(byte* payload, out ulong reply1)
        {
            reply1 = (ulong)WriteString(FileSystem.RedirectPath, payload);
            return VfsProtocol.Redirected;
        }

        private long Installed(ulong sender, long fd)
        {
            if (fd >= 0) _owners[fd] = sender;
            return fd;
        }

        /// <summary>What Open, Exec and Reopen report: the mode, and an archive file's bytes (which
        /// every process has at the same address: its own copy of the image).</summary>
        private static ulong Describe(OpenFile file, byte* payload)
        {
            ulong reply = file.Node.Mode;
            if (file.Node is RegularFile regular && regular.IsInArchive)
            {
                regular.GetContent(out byte* data, out long length);
                ((ulong*)payload)[0] = (ulong)data;
                ((long*)payload)[1] = length;
                reply |= 1UL << 32;
            }
            return reply;
        }

        private long Dispatch(ulong sender, int op, ulong w1, ulong w2, ulong w3, byte* payload, out ulong reply1)
        {
            reply1 = 0;
            LinuxFiles files = Files;
            int dirfd;
            string path, other;
            long error;
            OpenFile file;
            switch (op)
            {
                case VfsProtocol.Goodbye:
                    Saying = true;
                    Depart(sender);
                    Saying = false;
                    return 0;

                case VfsProtocol.Open:
                    {
                        if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                        if ((error = ReadString(payload, 0, w3 & 0xFFFFFFFF, out path)) < 0) return error;
                        files.Umask = (uint)(w3 >> 32) & 0x1FF;
                        int flags = (int)(uint)w2 & ~LinuxFile.O_CLOEXEC;
                        long fd = files.OpenAt(dirfd, path, flags, (uint)(w2 >> 32));
                        if (fd == VfsProtocol.Redirected) return Redirect(payload, out reply1);
                        if (fd < 0) return fd;
                        Installed(sender, fd);
                        file = files.Table.Get((int)fd);
                        reply1 = Describe(file, payload);
                        if ((reply1 >> 32) == 0 && file.Node is RegularFile tmp && (flags & (LinuxFile.O_ACCMODE | LinuxFile.O_PATH)) == LinuxFile.O_RDONLY)
                        {
                            // The first bytes ride with the reply (the client reads them while nothing changes).
                            long* info = (long*)payload;
                            info[3] = tmp.Size;
                            info[2] = tmp.ReadAt(0, payload + 32, VfsProtocol.PrefetchBytes);
                            reply1 |= 1UL << 33;
                        }
                        if (file.Node is RegularFile && (flags & (LinuxFile.O_ACCMODE | LinuxFile.O_PATH)) == LinuxFile.O_RDONLY)
                        {
                            // So does its stat: nginx's open is followed by fstat (the size and time of its answer).
                            *(StatInfo*)(payload + VfsProtocol.OpenStatOffset) = file.Node.Stat();
                            reply1 |= 1UL << 34;
                        }
                        return fd;
                    }

                case VfsProtocol.Exec:
                    {
                        if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                        if ((error = ReadString(payload, 0, w3 & 0xFFFFFFFF, out path)) < 0) return error;
                        int found = files.LookupAt(dirfd, path, 0, out Inode node);
                        if (found == VfsProtocol.Redirected) return Redirect(payload, out reply1);
                        if (found < 0) return found;
                        if (!(node is RegularFile regular) || (regular.Mode & 0x49) == 0) return -Errno.EACCES;
                        // Named with links followed, as Linux's /proc/PID/exe shows a program (see ResolvedPath).
                        string resolved = files.ResolvedPathAt(dirfd, path, out _);
                        if (regular.Disk != null) FileSystem.Disk?.TryArchiveAlias(regular, resolved);
                        file = new OpenFile(FileSystem, regular, LinuxFile.O_RDONLY | LinuxFile.O_LARGEFILE, resolved ?? path);
                        long fd = Installed(sender, files.Table.Install(file, false));
                        if (fd < 0) return fd;
                        reply1 = Describe(file, payload);
                        return fd;
                    }

                case VfsProtocol.Reopen:
                    {
                        if ((file = Own(sender, w1)) == null) return -Errno.EBADF;
                        int flags = (int)(uint)w2;
                        int access = flags & LinuxFile.O_ACCMODE;
                        if (access == 3) return -Errno.EINVAL;
                        Inode node = file.Node;
                        if (node.IsDirectory && access != LinuxFile.O_RDONLY && (flags & LinuxFile.O_PATH) == 0) return -Errno.EISDIR;
                        if ((flags & LinuxFile.O_DIRECTORY) != 0 && !node.IsDirectory) return -Errno.ENOTDIR;
                        int kept = flags & ~(LinuxFile.O_CREAT | LinuxFile.O_EXCL | LinuxFile.O_NOCTTY | LinuxFile.O_TRUNC | LinuxFile.O_CLOEXEC);
                        var reopened = new OpenFile(FileSystem, node, kept | LinuxFile.O_LARGEFILE, file.DisplayPath);
                        if ((flags & LinuxFile.O_TRUNC) != 0 && node is RegularFile truncated && reopened.CanWrite)
                        {
                            long cut = truncated.Truncate(0);
                            if (cut < 0) return cut;
                        }
                        long fd = Installed(sender, files.Table.Install(reopened, false));
                        if (fd < 0) return fd;
                        reply1 = Describe(reopened, payload);
                        return fd;
                    }

                case VfsProtocol.Stat:
                    {
                        if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                        if ((error = ReadString(payload, 0, w3, out path)) < 0) return error;
                        int result = files.StatAt(dirfd, path, (int)w2, out StatInfo info);
                        if (result == VfsProtocol.Redirected) return Redirect(payload, out reply1);
                        if (result < 0) return result;
                        *(StatInfo*)payload = info;
                        return 0;
                    }

                case VfsProtocol.Fstat:
                    if ((file = Own(sender, w1)) == null) return -Errno.EBADF;
                    *(StatInfo*)payload = file.Node.Stat();
                    return 0;

                case VfsProtocol.ReadLink:
                    {
                        if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                        if ((error = ReadString(payload, 0, w3, out path)) < 0) return error;
                        int result = files.ReadLinkAt(dirfd, path, out string target);
                        if (result == VfsProtocol.Redirected) return Redirect(payload, out reply1);
                        if (result < 0) return result;
                        return WriteString(target, payload);
                    }

                case VfsProtocol.MakeDirectory:
                    if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                    if ((error = ReadString(payload, 0, w3, out path)) < 0) return error;
                    files.Umask = 0; // the client applied its umask
                    return Redirectable(files.MakeDirectoryAt(dirfd, path, (uint)w2), payload, out reply1);

                case VfsProtocol.Unlink:
                    if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                    if ((error = ReadString(payload, 0, w3, out path)) < 0) return error;
                    return Redirectable(files.UnlinkAt(dirfd, path, (int)w2), payload, out reply1);

                case VfsProtocol.Rename:
                case VfsProtocol.Link:
                    {
                        if (!Dirfd(sender, w1 & 0xFFFFFFFF, out dirfd) || !Dirfd(sender, w1 >> 32, out int newDirfd)) return -Errno.EBADF;
                        ulong oldLength = w3 & 0xFFFFFFFF, newLength = w3 >> 32;
                        if ((error = ReadString(payload, 0, oldLength, out path)) < 0) return error;
                        if ((error = ReadString(payload, (long)oldLength, newLength, out other)) < 0) return error;
                        long result = op == VfsProtocol.Rename
                            ? files.RenameAt(dirfd, path, newDirfd, other, (int)w2)
                            : files.LinkAt(dirfd, path, newDirfd, other, (int)w2);
                        return result == VfsProtocol.Redirected ? -Errno.EXDEV : result;
                    }

                case VfsProtocol.Symlink:
                    {
                        if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                        ulong targetLength = w3 & 0xFFFFFFFF, pathLength = w3 >> 32;
                        if ((error = ReadString(payload, 0, targetLength, out other)) < 0) return error;
                        if ((error = ReadString(payload, (long)targetLength, pathLength, out path)) < 0) return error;
                        return Redirectable(files.SymlinkAt(other, dirfd, path), payload, out reply1);
                    }

                case VfsProtocol.Access:
                    if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                    if ((error = ReadString(payload, 0, w3, out path)) < 0) return error;
                    return Redirectable(files.AccessAt(dirfd, path, (int)(uint)w2, (int)(w2 >> 32)), payload, out reply1);

                case VfsProtocol.Chmod:
                    if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                    if ((error = ReadString(payload, 0, w3, out path)) < 0) return error;
                    return Redirectable(files.ChmodAt(dirfd, path, (uint)w2, (int)(w2 >> 32)), payload, out reply1);

                case VfsProtocol.Chown:
                    if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                    if ((error = ReadString(payload, 0, w3 & 0xFFFFFFFF, out path)) < 0) return error;
                    return Redirectable(files.ChownAt(dirfd, path, (uint)w2, (uint)(w2 >> 32), (int)(w3 >> 32)), payload, out reply1);

                case VfsProtocol.Utimens:
                    {
                        if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                        long* times = (long*)payload;
                        if ((error = ReadString(payload, 32, w3, out path)) < 0) return error;
                        long result = files.UtimensAt(dirfd, path, (w2 >> 32) != 0, times[0], times[1], times[2], times[3], (int)(uint)w2);
                        return Redirectable(result, payload, out reply1);
                    }

                case VfsProtocol.Futimens:
                    {
                        if (Own(sender, w1) == null) return -Errno.EBADF;
                        long* times = (long*)payload;
                        return files.UtimensAt((int)w1, null, w2 != 0, times[0], times[1], times[2], times[3], 0);
                    }

                case VfsProtocol.Truncate:
                    {
                        if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                        if ((error = ReadString(payload, 0, w3, out path)) < 0) return error;
                        if ((long)w2 < 0) return -Errno.EINVAL;
                        int found = files.LookupAt(dirfd, path, 0, out Inode node);
                        if (found == VfsProtocol.Redirected) return Redirect(payload, out reply1);
                        if (found < 0) return found;
                        if (node.IsDirectory) return -Errno.EISDIR;
                        if (!(node is RegularFile regular)) return -Errno.EINVAL;
                        long cut = regular.Truncate((long)w2);
                        if (cut < 0) return cut;
                        regular.ModifyTime = regular.ChangeTime = FileSystem.Now;
                        return 0;
                    }

                case VfsProtocol.Fchmod:
                    if (Own(sender, w1) == null) return -Errno.EBADF;
                    return files.Fchmod((int)w1, (uint)w2);

                case VfsProtocol.Fchown:
                    if (Own(sender, w1) == null) return -Errno.EBADF;
                    return files.Fchown((int)w1, (uint)w2, (uint)(w2 >> 32));

                case VfsProtocol.Ftruncate:
                    if (Own(sender, w1) == null) return -Errno.EBADF;
                    return files.Ftruncate((int)w1, (long)w2);

                case VfsProtocol.StatFs:
                    {
                        Inode node;
                        if (w3 == 0)
                        {
                            if ((file = Own(sender, w1)) == null) return -Errno.EBADF;
                            node = file.Node;
                        }
                        else
                        {
                            if (!Dirfd(sender, w1, out dirfd)) return -Errno.EBADF;
                            if ((error = ReadString(payload, 0, w3, out path)) < 0) return error;
                            int found = files.LookupAt(dirfd, path, 0, out node);
                            if (found == VfsProtocol.Redirected) return Redirect(payload, out reply1);
                            if (found < 0) return found;
                        }
                        FileSystem.StatFs(node, out ulong type, out long blocks, out long free, out long inodes, out long freeInodes);
                        long* values = (long*)payload;
                        values[0] = (long)type; values[1] = blocks; values[2] = free; values[3] = inodes; values[4] = freeInodes;
                        values[5] = (long)node.Mount.Device;
                        return 0;
                    }

                case VfsProtocol.Read:
                case VfsProtocol.PRead:
                    {
                        if (Own(sender, w1) == null) return -Errno.EBADF;
                        if (w2 > VfsProtocol.DataBytes) return -Errno.EINVAL;
                        return op == VfsProtocol.Read
                            ? files.Read((int)w1, payload, (long)w2)
                            : files.PRead((int)w1, payload, (long)w2, (long)w3);
                    }

                case VfsProtocol.Write:
                case VfsProtocol.PWrite:
                    {
                        if (Own(sender, w1) == null) return -Errno.EBADF;
                        if (w2 > VfsProtocol.DataBytes) return -Errno.EINVAL;
                        return op == VfsProtocol.Write
                            ? files.Write((int)w1, payload, (long)w2)
                            : files.PWrite((int)w1, payload, (long)w2, (long)w3);
                    }

                case VfsProtocol.Seek:
                    if (Own(sender, w1) == null) return -Errno.EBADF;
                    return files.Seek((int)w1, (long)w2, (int)w3);

                case VfsProtocol.SetPosition:
                    if ((file = Own(sender, w1)) == null) return -Errno.EBADF;
                    if ((long)w2 < 0) return -Errno.EINVAL;
                    file.Position = (long)w2;
                    return 0;

                case VfsProtocol.GetDents:
                    if (Own(sender, w1) == null) return -Errno.EBADF;
                    if (w2 > VfsProtocol.DataBytes) return -Errno.EINVAL;
                    return files.GetDirectoryEntries((int)w1, payload, (int)w2);

                case VfsProtocol.GetFlags:
                    if (Own(sender, w1) == null) return -Errno.EBADF;
                    return files.Fcntl((int)w1, LinuxFile.F_GETFL, 0);

                case VfsProtocol.SetFlags:
                    {
                        if (Own(sender, w1) == null) return -Errno.EBADF;
                        long set = files.Fcntl((int)w1, LinuxFile.F_SETFL, w2);
                        PublishCalled(sender, w1); // a board shows whether the description is O_NONBLOCK
                        return set;
                    }

                case VfsProtocol.Readable:
                    {
                        if ((file = Own(sender, w1)) == null) return -Errno.EBADF;
                        if (file.Node is DirectoryNode) return -Errno.EINVAL;
                        if (file.Node is SocketNode socketNode) return socketNode.Socket.ReadableBytes;
                        long size = file.Node.Size;
                        return size > file.Position ? size - file.Position : 0;
                    }

                case VfsProtocol.Close:
                    if (Own(sender, w1) == null) return -Errno.EBADF;
                    return files.Close((int)w1);

                case VfsProtocol.Duplicate:
                    {
                        if (w1 > VfsProtocol.PayloadBytes / 4) return -Errno.EINVAL;
                        int* fds = (int*)payload;
                        if (w2 != sender && w1 > 0) _heldFor.Add(w2); // a child that may never call (Holders)
                        for (int i = 0; i < (int)w1; i++)
                        {
                            int fd = fds[i];
                            fds[i] = Owned(sender, fd) ? (int)Installed(w2, files.Dup(fd)) : -Errno.EBADF;
                        }
                        return 0;
                    }

                case VfsProtocol.GetCwd:
                    {
                        if ((file = Own(sender, w1)) == null) return -Errno.EBADF;
                        if (!(file.Node is DirectoryNode directory)) return -Errno.ENOTDIR;
                        for (DirectoryNode d = directory; ; d = d.Parent)
                        {
                            if (d.Removed) return -Errno.ENOENT;
                            if (d.Parent == d) break;
                        }
                        return WriteString(FileSystem.PathOf(directory), payload);
                    }

                case VfsProtocol.Sync:
                    {
                        if ((long)w1 == -1) return FileSystem.Sync(null);
                        if ((file = Own(sender, w1)) == null) return -Errno.EBADF;
                        return FileSystem.Sync(file.Node);
                    }

                case VfsProtocol.DropCaches:
                    return FileSystem.Disk == null ? 0 : FileSystem.Disk.DropCaches();

                case VfsProtocol.DiskStatistics:
                    {
                        Storage.IDiskCounters counters = FileSystem.Disk?.Counters;
                        if (counters == null) return -Errno.ENODEV;
                        ulong* values = (ulong*)payload;
                        values[0] = counters.Reads; values[1] = counters.SectorsRead;
                        values[2] = counters.Writes; values[3] = counters.SectorsWritten;
                        values[4] = counters.DeviceName == "sda" ? 1UL : 0UL;
                        return 0;
                    }

                case VfsProtocol.Unmount:
                    return FileSystem.Disk == null ? 0 : FileSystem.Disk.Unmount();

                case VfsProtocol.ServerCalls:
                    for (int i = 0; i < VfsProtocol.Count; i++) ((long*)payload)[i] = Calls[i];
                    ((long*)payload)[VfsProtocol.Count] = HandedOverCount;
                    ((long*)payload)[VfsProtocol.Count + 1] = AdoptedCount;
                    ((long*)payload)[VfsProtocol.Count + 2] = LentCount;
                    ((long*)payload)[VfsProtocol.Count + 3] = DepartedCount;
                    ((long*)payload)[VfsProtocol.Count + 4] = RequeuedHandshakes;
                    ((long*)payload)[VfsProtocol.Count + 5] = LendsUndone;
                    ((long*)payload)[VfsProtocol.Count + 6] = LatePortSegments;
                    return VfsProtocol.Count;

                case VfsProtocol.DisplayPath:
                    if ((file = Own(sender, w1)) == null) return -Errno.EBADF;
                    return WriteString(file.DisplayPath ?? "", payload);

                default:
                    if (op >= VfsProtocol.Socket && op < VfsProtocol.Count) return SocketCall(sender, op, w1, w2, w3, payload, out reply1);
                    return -Errno.ENOSYS;
            }
        }

        private long Redirectable(long result, byte* payload, out ulong reply1)
        {
            reply1 = 0;
            return result == VfsProtocol.Redirected ? Redirect(payload, out reply1) : result;
        }
    }
}
