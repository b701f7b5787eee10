// The Linux personality's VFS: one tree of inodes with four mounts — / (tmpfs, filled from the
// root file-system archive), /dev (devtmpfs: console, tty, null, zero, full, random, urandom),
// /proc (generated, read-only) and /tmp (tmpfs, mode 1777) — and the namespace operations on it,
// request/response-shaped: a starting directory and a path in, an inode or a Linux errno out. It
// holds no process state except the reference to the one process it serves (Process: its fd table
// and cwd, for /proc/self), so it can later move behind an IPC server. Pure logic; compiles under
// the real .NET.
//
// Path resolution follows Linux's path_lookupat: components separated by any number of '/';
// "." and ".." (".." of the root is the root); every intermediate component must be a directory
// (ENOTDIR) that exists (ENOENT); symbolic links are followed in intermediate components always
// and in the last one when asked, or when the path ends in '/'; more than 40 links in one
// resolution give ELOOP; a component longer than 255 bytes gives ENAMETOOLONG; a path ending
// in '/' must name a directory (ENOTDIR). One root user: permission bits are stored and
// reported, and checked only where root is refused too (execute needs some x bit).
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    /// <summary>The outside facts the VFS shows (filled by the personality at start-up; any may be null).</summary>
    public sealed class FileSystemSources
    {
        public IProcessTable Processes;
        public IMemoryMapSource Maps;
        public ISystemInfo System;
        public IEntropySource Entropy;
        /// <summary>The root file system's disk (/proc/diskstats, drop_caches); null: none.</summary>
        public IDiskSource Disk;
        /// <summary>The file server's requests by operation (VfsProtocol numbers) into the array; false:
        /// no server (/proc/aegis/file_server is then empty). Null: none.</summary>
        public System.Func<long[], bool> FileServerCalls;
        /// <summary>Wall time, nanoseconds since the epoch (file times). Null: 0.</summary>
        public System.Func<long> Clock;
    }

    /// <summary>The outcome of resolving a path: the directory holding the last component, its name
    /// and the inode it names (null when absent).</summary>
    public struct PathLookup
    {
        public DirectoryNode Parent;
        public string Name;
        public Inode Node;
        /// <summary>The path ended in '/'.</summary>
        public bool TrailingSlash;
        /// <summary>The last component is "." or ".." (or the path is "/").</summary>
        public bool IsDot;
    }

    public sealed unsafe class FileSystem
    {
        public readonly FileSystemSources Sources;
        public readonly MemoryDirectory Root;
        public readonly Mount RootMount, DevMount, ProcMount, SysMount, TmpMount, PipeMount, SocketMount;
        /// <summary>Linux's anon_inodefs: eventfd and epoll descriptors (never in the tree).</summary>
        public readonly Mount AnonMount;
        public readonly List<Mount> Mounts = new List<Mount>();
        public readonly ProcFs Proc;
        public readonly SysFs Sys;
        public readonly MemoryDirectory Dev, Tmp;
        /// <summary>The process this VFS serves (/proc/self/fd, /proc/self/cwd).</summary>
        public LinuxFiles Process;

        private ulong _nextInode = 1;
        private readonly List<DirectoryNode> _mountRoots = new List<DirectoryNode>();

        // ---- the shared tree (VfsServer, VfsClient): where a walk leaves this tree
        /// <summary>What Resolve (and every operation built on it) returns when the path continues
        /// in the other half of the shared tree: RedirectStart and RedirectPath say where.</summary>
        public const int Redirected = -100000;
        /// <summary>The file server's tree: /dev, /proc and /sys belong to each process, so a walk that
        /// reaches them stops with Redirected (RedirectPath: the absolute path left).</summary>
        public bool ForeignDevAndProc;
        /// <summary>A process's own tree (/dev, /proc and /sys only): the server's root. A walk reaching a
        /// name of / other than dev, proc and sys, or a RemoteDirectory, stops with Redirected
        /// (RedirectStart: the server directory to go on from, RedirectPath: the path left).</summary>
        public RemoteDirectory ServerRoot;
        public DirectoryNode RedirectStart;
        public string RedirectPath;

        /// <summary>The file system on the disk when it is the root (else null: / is the archive in memory).</summary>
        public readonly DiskTree Disk;

        public FileSystem(FileSystemSources sources, ICharacterDevice terminal, DiskTree disk = null)
        {
            Sources = sources ?? new FileSystemSources();
            long now = Now;
            Disk = disk;
            RootMount = disk == null
                ? AddMount("rootfs", "/", "rootfs", "rw", LinuxFile.MakeDevice(0, 1), LinuxFile.TMPFS_MAGIC, true)
                : AddMount(DiskTree.RootSource, "/", disk.Type, DiskTree.RootOptions, DiskTree.RootDevice, DiskTree.Ext2SuperMagic, true);
            DevMount = AddMount("devtmpfs", "/dev", "devtmpfs", "rw,nosuid,mode=755", LinuxFile.MakeDevice(0, 5), LinuxFile.TMPFS_MAGIC, true);
            ProcMount = AddMount("proc", "/proc", "proc", "rw,nosuid,nodev,noexec", LinuxFile.MakeDevice(0, 4), LinuxFile.PROC_SUPER_MAGIC, false);
            SysMount = AddMount("sysfs", "/sys", "sysfs", "rw,nosuid,nodev,noexec", LinuxFile.MakeDevice(0, 21), LinuxFile.SYSFS_MAGIC, false);
            TmpMount = AddMount("tmpfs", "/tmp", "tmpfs", "rw,nosuid,nodev", LinuxFile.MakeDevice(0, 6), LinuxFile.TMPFS_MAGIC, true);
            PipeMount = new Mount("pipefs", "", "pipefs", "rw", LinuxFile.MakeDevice(0, 12), 0x50495045, false);
            SocketMount = new Mount("sockfs", "", "sockfs", "rw", LinuxFile.MakeDevice(0, 8), 0x534F434B, false);
            AnonMount = new Mount("anon_inodefs", "", "anon_inodefs", "rw", LinuxFile.MakeDevice(0, 13), 0x09041934, false);

            Root = disk == null ? new MemoryDirectory(RootMount, NewInodeNumber(), 0x1ED, now) : disk.MakeRoot(RootMount); // 0755
            _mountRoots.Add(Root);
            int rootLinks = Root.Links;

            Dev = new MemoryDirectory(DevMount, NewInodeNumber(), 0x1ED, now);
            Root.Add("dev", Dev);
            _mountRoots.Add(Dev);
            var random = new RandomDevice(Sources.Entropy, (ulong)now ^ 0x5DEECE66DUL);
            AddDevice("console", 0x180, 5, 1, terminal);   // crw------- 5,1
            AddDevice("tty", 0x1B6, 5, 0, terminal);       // crw-rw-rw- 5,0
            AddDevice("null", 0x1B6, 1, 3, new NullDevice());
            AddDevice("zero", 0x1B6, 1, 5, new ZeroDevice(false));
            AddDevice("full", 0x1B6, 1, 7, new ZeroDevice(true));
            AddDevice("random", 0x1B6, 1, 8, random);
            AddDevice("urandom", 0x1B6, 1, 9, random);
            Dev.Add("fd", new SymlinkNode(DevMount, NewInodeNumber(), "/proc/self/fd", now));
            Dev.Add("stdin", new SymlinkNode(DevMount, NewInodeNumber(), "/proc/self/fd/0", now));
            Dev.Add("stdout", new SymlinkNode(DevMount, NewInodeNumber(), "/proc/self/fd/1", now));
            Dev.Add("stderr", new SymlinkNode(DevMount, NewInodeNumber(), "/proc/self/fd/2", now));

            Proc = new ProcFs(this, ProcMount);
            Root.Add("proc", Proc.Root);
            _mountRoots.Add(Proc.Root);

            Sys = new SysFs(this, SysMount);
            Root.Add("sys", Sys.Root);
            _mountRoots.Add(Sys.Root);

            Tmp = new MemoryDirectory(TmpMount, NewInodeNumber(), 0x3FF, now); // 1777
            Root.Add("tmp", Tmp);
            _mountRoots.Add(Tmp);
            if (disk != null) Root.Links = rootLinks; // the disk's count: mounts cover names, they add none
        }

        private Mount AddMount(string source, string point, string type, string options, ulong device, ulong magic, bool writable)
        {
            var mount = new Mount(source, point, type, options, device, magic, writable);
            Mounts.Add(mount);
            return mount;
        }

        private void AddDevice(string name, uint permissions, uint major, uint minor, ICharacterDevice device)
        {
            if (device == null) return;
            Dev.Add(name, new DeviceNode(DevMount, NewInodeNumber(), permissions, LinuxFile.MakeDevice(major, minor), device, Now));
        }

        public ulong NewInodeNumber() => _nextInode++;

        /// <summary>The one inode number every eventfd and epoll shares (Linux's single anon_inode).</summary>
        public ulong AnonInodeNumber
        {
            get
            {
                if (_anonInode == 0) _anonInode = NewInodeNumber();
                return _anonInode;
            }
        }
        private ulong _anonInode;

        /// <summary>Wall time in nanoseconds since the epoch (0 without a clock).</summary>
        public long Now => Sources.Clock == null ? 0 : Sources.Clock();

        public bool IsMountRoot(Inode node)
        {
            for (int i = 0; i < _mountRoots.Count; i++)
                if (_mountRoots[i] == node) return true;
            return false;
        }

        // ---------------------------------------------------------------- the archive

        /// <summary>Adds every member of a ustar archive under /: null, or the error (members before it stay).
        /// File data stays in the archive (which must outlive the VFS) until first written.</summary>
        public string LoadArchive(byte* data, long length)
        {
            var entries = new List<TarEntry>();
            string error = TarArchive.Read(data, length, entries);
            for (int i = 0; i < entries.Count; i++)
            {
                string problem = AddArchiveEntry(entries[i]);
                if (problem != null) return problem;
            }
            return error;
        }

        private string AddArchiveEntry(TarEntry entry)
        {
            long time = entry.ModifyTime * 1_000_000_000L;
            if (entry.Path.Length == 0)
            {
                if (entry.Kind != TarEntryKind.Directory) return "tar: the root entry is not a directory";
                Root.Mode = LinuxFile.S_IFDIR | entry.Mode;
                Root.Uid = entry.Uid; Root.Gid = entry.Gid;
                Root.ModifyTime = Root.ChangeTime = time;
                return null;
            }
            int slash = entry.Path.LastIndexOf('/');
            string parentPath = slash < 0 ? "" : entry.Path.Substring(0, slash);
            string name = slash < 0 ? entry.Path : entry.Path.Substring(slash + 1);
            if (name.Length > LinuxFile.NameMax) return "tar: name too long: " + entry.Path;
            MemoryDirectory parent = EnsureArchiveDirectory(parentPath);
            if (parent == null) return "tar: '" + entry.Path + "': a parent is not a directory";
            Inode existing = parent.Lookup(name);
            Inode node;
            switch (entry.Kind)
            {
                case TarEntryKind.Directory:
                    if (existing is DirectoryNode directory)
                    {
                        if (!IsMountRoot(directory))
                        {
                            directory.Mode = LinuxFile.S_IFDIR | entry.Mode;
                            directory.Uid = entry.Uid; directory.Gid = entry.Gid;
                            directory.ModifyTime = directory.ChangeTime = time;
                        }
                        return null;
                    }
                    node = new MemoryDirectory(parent.Mount, NewInodeNumber(), entry.Mode, time);
                    break;
                case TarEntryKind.Regular:
                    var file = new RegularFile(parent.Mount, NewInodeNumber(), entry.Mode, time);
                    file.ReferenceArchive(entry.Data, entry.Size);
                    node = file;
                    break;
                case TarEntryKind.Symlink:
                    node = new SymlinkNode(parent.Mount, NewInodeNumber(), entry.LinkTarget, time);
                    break;
                case TarEntryKind.HardLink:
                    {
                        Inode target = FindArchivePath(entry.LinkTarget);
                        if (target == null || target is DirectoryNode)
                            return "tar: hard link '" + entry.Path + "' to '" + entry.LinkTarget + "', which is not an earlier file";
                        if (existing == target) return null;
                        if (existing != null) Unlink(parent, name);
                        target.Links++;
                        parent.Add(name, target);
                        return null;
                    }
                default:
                    return null; // devices and fifos in the archive are not recreated: /dev is generated
            }
            node.Uid = entry.Uid; node.Gid = entry.Gid;
            if (existing != null)
            {
                if (existing is DirectoryNode) return "tar: '" + entry.Path + "' replaces a directory";
                existing.Links--;
                parent.Replace(name, node);
            }
            else parent.Add(name, node);
            return null;
        }

        private MemoryDirectory EnsureArchiveDirectory(string path)
        {
            MemoryDirectory directory = Root;
            if (path.Length == 0) return directory;
            string[] parts = path.Split('/');
            for (int i = 0; i < parts.Length; i++)
            {
                Inode next = directory.Lookup(parts[i]);
                if (next == null)
                {
                    var made = new MemoryDirectory(directory.Mount, NewInodeNumber(), 0x1ED, Now);
                    directory.Add(parts[i], made);
                    next = made;
                }
                directory = next as MemoryDirectory;
                if (directory == null) return null;
            }
            return directory;
        }

        private Inode FindArchivePath(string path)
        {
            Inode node = Root;
            string[] parts = path.Split('/');
            for (int i = 0; i < parts.Length && node != null; i++)
                node = node is DirectoryNode directory ? directory.Lookup(parts[i]) : null;
            return node;
        }

        // ---------------------------------------------------------------- resolution

        /// <summary>Resolves path from start (absolute paths from the root). followLast: follow a
        /// symbolic link in the last component (a trailing '/' follows it too, and then requires a
        /// directory). parentOnly: the operation works on the last name itself (create, remove,
        /// rename: Linux's parent lookups): it is never followed and a trailing '/' is left for the
        /// operation to judge. 0 or -errno; on 0, lookup.Node may be null (absent).</summary>
        public int Resolve(DirectoryNode start, string path, bool followLast, out PathLookup lookup, bool parentOnly = false)
        {
            int symlinks = 0;
            if (path.Length == 0) { lookup = default; return -Errno.ENOENT; }
            if (path.Length >= LinuxFile.PathMax) { lookup = default; return -Errno.ENAMETOOLONG; }
            return Walk(start, path, followLast, parentOnly, ref symlinks, out lookup);
        }

        /// <summary>Resolves a path that must name an existing inode.</summary>
        public int ResolveExisting(DirectoryNode start, string path, bool followLast, out Inode node)
        {
            int error = Resolve(start, path, followLast, out PathLookup lookup);
            node = lookup.Node;
            if (error < 0) return error;
            return node == null ? -Errno.ENOENT : 0;
        }

        private int Walk(DirectoryNode directory, string path, bool followLast, bool parentOnly, ref int symlinks, out PathLookup lookup)
        {
            fixed (char* chars = path) // the characters read directly: String's indexer was a call each
                return Walk(directory, path, chars, followLast, parentOnly, ref symlinks, out lookup);
        }

        private int Walk(DirectoryNode directory, string path, char* chars, bool followLast, bool parentOnly, ref int symlinks, out PathLookup lookup)
        {
            lookup = default;
            int length = path.Length, at = 0;
            if (length > 0 && chars[0] == '/') directory = Root;
            while (true)
            {
                while (at < length && chars[at] == '/') at++;
                if (LeavesTree(directory, path, at)) return Redirected;
                if (at == length)
                {
                    // "/" or a path that ended in slashes after a directory already walked into.
                    lookup.Parent = directory.Parent; lookup.Name = "."; lookup.Node = directory;
                    lookup.IsDot = true; lookup.TrailingSlash = length > 0;
                    return 0;
                }
                int begin = at;
                while (at < length && chars[at] != '/') at++;
                int nameLength = at - begin;
                if (nameLength > LinuxFile.NameMax) return -Errno.ENAMETOOLONG;
                int next = at;
                while (next < length && chars[next] == '/') next++;
                bool last = next == length;
                bool dot = nameLength == 1 && chars[begin] == '.';
                bool dotDot = nameLength == 2 && chars[begin] == '.' && chars[begin + 1] == '.';

                if (!last)
                {
                    Inode child;
                    if (dot) child = directory;
                    else if (dotDot) child = directory.Parent;
                    else child = directory.Lookup(path.Substring(begin, nameLength));
                    if (child == null) return -Errno.ENOENT;
                    if (child.Class == NodeClass.Symlink)
                    {
                        int error = FollowLink(directory, Unsafe.As<SymlinkNode>(child), ref symlinks, out PathLookup target);
                        if (error == Redirected) RedirectPath = RedirectPath + "/" + path.Substring(next);
                        if (error < 0) return error;
                        if (target.Node == null) return -Errno.ENOENT;
                        child = target.Node;
                    }
                    if (child.Class < NodeClass.Directory) return -Errno.ENOTDIR;
                    directory = Unsafe.As<DirectoryNode>(child);
                    at = next;
                    continue;
                }

                bool trailing = next > at;
                lookup.Parent = directory;
                lookup.TrailingSlash = trailing;
                if (dot || dotDot)
                {
                    lookup.Name = dot ? "." : "..";
                    lookup.Node = dot ? directory : directory.Parent;
                    lookup.IsDot = true;
                    if (!dot && LeavesTree(directory.Parent, ".", 0)) return Redirected;
                    return 0;
                }
                lookup.Name = path.Substring(begin, nameLength);
                Inode node = directory.Lookup(lookup.Name);
                if (parentOnly)
                {
                    lookup.Node = node;
                    return 0;
                }
                if (node != null && node.Class == NodeClass.Symlink && (followLast || trailing))
                {
                    int error = FollowLink(directory, Unsafe.As<SymlinkNode>(node), ref symlinks, out PathLookup target);
                    if (error == Redirected && trailing) RedirectPath += "/";
                    if (error < 0) return error;
                    target.TrailingSlash |= trailing;
                    lookup = target;
                    if (trailing && lookup.Node != null && !lookup.Node.IsDirectory) return -Errno.ENOTDIR;
                    return 0;
                }
                lookup.Node = node;
                if (node != null && node.Class >= NodeClass.Directory && node != directory
                    && LeavesTree(Unsafe.As<DirectoryNode>(node), trailing ? "/" : "", 0)) return Redirected;
                if (trailing && node != null && !node.IsDirectory) return -Errno.ENOTDIR;
                return 0;
            }
        }

        /// <summary>Whether a walk standing in directory with path[at..] left (at: the next
        /// component, slashes skipped) goes on in the other half of the shared tree; if so, sets
        /// RedirectStart and RedirectPath.</summary>
        private bool LeavesTree(DirectoryNode directory, string path, int at)
        {
            if (ForeignDevAndProc)
            {
                if (directory != Dev && directory != Proc.Root && directory != Sys.Root) return false;
                RedirectStart = null;
                string rest = path.Substring(at);
                string point = directory == Dev ? DevMount.MountPoint : directory == Proc.Root ? ProcMount.MountPoint : SysMount.MountPoint;
                RedirectPath = rest.Length == 0 ? point : point + "/" + rest;
                return true;
            }
            if (ServerRoot == null) return false;
            if (directory.Class == NodeClass.RemoteDirectory)
            {
                RedirectStart = Unsafe.As<RemoteDirectory>(directory);
                RedirectPath = at >= path.Length ? "." : path.Substring(at);
                return true;
            }
            if (directory != Root) return false;
            if (at < path.Length)
            {
                int end = at;
                while (end < path.Length && path[end] != '/') end++;
                int n = end - at;
                if (n == 3 && path[at] == 'd' && path[at + 1] == 'e' && path[at + 2] == 'v') return false;
                if (n == 4 && path[at] == 'p' && path[at + 1] == 'r' && path[at + 2] == 'o' && path[at + 3] == 'c') return false;
                if (n == 3 && path[at] == 's' && path[at + 1] == 'y' && path[at + 2] == 's') return false;
                if (n == 2 && path[at] == '.' && path[at + 1] == '.') return false; // ".." of the root: the root
            }
            RedirectStart = ServerRoot;
            RedirectPath = at >= path.Length ? "." : path.Substring(at);
            return true;
        }

        private int FollowLink(DirectoryNode directory, SymlinkNode link, ref int symlinks, out PathLookup target)
        {
            target = default;
            if (++symlinks > LinuxFile.MaxSymlinks) return -Errno.ELOOP;
            if (link is ProcSymlink magic)
            {
                Inode node = magic.MagicTarget;
                if (node != null)
                {
                    target.Node = node;
                    target.Parent = node is DirectoryNode d ? d.Parent : null;
                    target.Name = node is DirectoryNode d2 ? d2.NameInParent : null;
                    return 0;
                }
            }
            string text = link.Target;
            if (text.Length == 0) return -Errno.ENOENT;
            return Walk(directory, text, true, false, ref symlinks, out target);
        }

        /// <summary>The absolute path of a directory ("/" for the root).</summary>
        public string PathOf(DirectoryNode directory)
        {
            if (directory == Root) return "/";
            var parts = new List<string>();
            for (DirectoryNode d = directory; d != Root; d = d.Parent)
            {
                if (d.Parent == d) break;
                parts.Add(d.NameInParent);
            }
            var b = new System.Text.StringBuilder();
            for (int i = parts.Count - 1; i >= 0; i--) b.Append('/').Append(parts[i]);
            return b.ToString();
        }

        /// <summary>The absolute path of name inside directory.</summary>
        public string PathOf(DirectoryNode directory, string name)
        {
            string parent = PathOf(directory);
            return parent == "/" ? "/" + name : parent + "/" + name;
        }

        // ---------------------------------------------------------------- namespace operations

        private static int CheckCreate(ref PathLookup lookup)
        {
            if (lookup.Parent == null || lookup.Parent.Removed) return -Errno.ENOENT;
            return 0;
        }

        /// <summary>mkdir: 0 or -errno (EEXIST, ENOENT, EPERM on /proc...).</summary>
        public int MakeDirectory(DirectoryNode start, string path, uint permissions)
        {
            int error = Resolve(start, path, false, out PathLookup lookup, parentOnly: true);
            if (error < 0) return error;
            if (lookup.Node != null) return -Errno.EEXIST;
            if ((error = CheckCreate(ref lookup)) < 0) return error;
            if (!(lookup.Parent is MemoryDirectory parent) || !parent.Mount.Writable) return -Errno.EPERM;
            if (parent.Disk != null)
                return (parent.Mode & 0x400) != 0
                    ? parent.Disk.MakeDirectory(parent, lookup.Name, (permissions & 0xFFF) | 0x400, parent.Gid, out _)
                    : parent.Disk.MakeDirectory(parent, lookup.Name, permissions & 0xFFF, 0, out _);
            var directory = new MemoryDirectory(parent.Mount, NewInodeNumber(), permissions & 0xFFF, Now);
            if ((parent.Mode & 0x400) != 0) { directory.Gid = parent.Gid; directory.Mode |= 0x400; } // setgid directories
            parent.Add(lookup.Name, directory);
            parent.ModifyTime = parent.ChangeTime = directory.ModifyTime;
            return 0;
        }

        /// <summary>Creates a regular file at lookup (absent, parent checked): the new inode or null with error.</summary>
        internal int CreateFile(ref PathLookup lookup, uint permissions, out RegularFile file)
        {
            file = null;
            int error = CheckCreate(ref lookup);
            if (error < 0) return error;
            if (!(lookup.Parent is MemoryDirectory parent) || !parent.Mount.Writable) return -Errno.EACCES;
            if (parent.Disk != null)
                return parent.Disk.CreateFile(parent, lookup.Name, permissions & 0xFFF, (parent.Mode & 0x400) != 0 ? parent.Gid : 0, out file);
            file = new RegularFile(parent.Mount, NewInodeNumber(), permissions & 0xFFF, Now);
            if ((parent.Mode & 0x400) != 0) file.Gid = parent.Gid;
            parent.Add(lookup.Name, file);
            parent.ModifyTime = parent.ChangeTime = file.ModifyTime;
            return 0;
        }

        /// <summary>unlink: 0 or -errno (EISDIR for directories, ENOENT, EPERM on /proc).</summary>
        public int Unlink(DirectoryNode start, string path)
        {
            int error = Resolve(start, path, false, out PathLookup lookup, parentOnly: true);
            if (error < 0) return error;
            if (lookup.Node == null) return -Errno.ENOENT;
            if (lookup.IsDot || lookup.Node.IsDirectory) return -Errno.EISDIR;
            if (lookup.TrailingSlash) return -Errno.ENOTDIR;
            if (!(lookup.Parent is MemoryDirectory parent) || !parent.Mount.Writable) return -Errno.EPERM;
            if (parent.Disk != null) return parent.Disk.Unlink(parent, lookup.Name, lookup.Node);
            parent.Remove(lookup.Name);
            long now = Now;
            lookup.Node.Links--;
            lookup.Node.ChangeTime = now;
            parent.ModifyTime = parent.ChangeTime = now;
            return 0;
        }

        /// <summary>rmdir: 0 or -errno (ENOTDIR, ENOTEMPTY, EINVAL for ".", EBUSY for mount points).</summary>
        public int RemoveDirectory(DirectoryNode start, string path)
        {
            int error = Resolve(start, path, false, out PathLookup lookup, parentOnly: true);
            if (error < 0) return error;
            if (lookup.Node == null) return -Errno.ENOENT;
            if (lookup.IsDot)
            {
                if (lookup.Node == Root) return -Errno.EBUSY;
                return lookup.Name == "." ? -Errno.EINVAL : -Errno.ENOTEMPTY;
            }
            if (!(lookup.Node is DirectoryNode directory)) return -Errno.ENOTDIR;
            if (IsMountRoot(directory)) return -Errno.EBUSY;
            if (!(lookup.Parent is MemoryDirectory parent) || !parent.Mount.Writable) return -Errno.EPERM;
            if (!directory.IsEmpty) return -Errno.ENOTEMPTY;
            if (parent.Disk != null) return parent.Disk.RemoveDirectory(parent, lookup.Name, (MemoryDirectory)directory);
            parent.Remove(lookup.Name);
            directory.Removed = true;
            directory.Links = 0;
            long now = Now;
            directory.ChangeTime = now;
            parent.ModifyTime = parent.ChangeTime = now;
            return 0;
        }

        /// <summary>Where a new name at path goes (symlink, a socket's bind): its writable parent and
        /// last component, or -errno: EEXIST (a name is there), ENOENT (no parent, or a trailing
        /// '/'), the parent's permission, EPERM (a mount that cannot hold names), Redirected.</summary>
        private int NewName(DirectoryNode start, string path, out MemoryDirectory parent, out string name)
        {
            parent = null;
            name = null;
            int error = Resolve(start, path, false, out PathLookup lookup, parentOnly: true);
            if (error < 0) return error;
            if (lookup.Node != null) return -Errno.EEXIST;
            if (lookup.TrailingSlash) return -Errno.ENOENT;
            if ((error = CheckCreate(ref lookup)) < 0) return error;
            if (!(lookup.Parent is MemoryDirectory directory) || !directory.Mount.Writable) return -Errno.EPERM;
            parent = directory;
            name = lookup.Name;
            return 0;
        }

        /// <summary>symlink: 0 or -errno (EEXIST, ENOENT for an empty target).</summary>
        public int Symlink(string target, DirectoryNode start, string path)
        {
            if (target.Length == 0) return -Errno.ENOENT;
            if (target.Length >= LinuxFile.PathMax) return -Errno.ENAMETOOLONG;
            int error = NewName(start, path, out MemoryDirectory parent, out string name);
            if (error < 0) return error;
            if (parent.Disk != null) return parent.Disk.Symlink(parent, name, target);
            var link = new SymlinkNode(parent.Mount, NewInodeNumber(), target, Now);
            parent.Add(name, link);
            parent.ModifyTime = parent.ChangeTime = link.ModifyTime;
            return 0;
        }

        /// <summary>An AF_UNIX socket's name (bind to a path): a socket file made at path with
        /// permissions, as mknod(S_IFSOCK) would. 0 and the node, or -errno: EEXIST (a name is there:
        /// the caller answers EADDRINUSE), ENOENT (no parent, or a trailing '/'), EPERM (a mount that
        /// cannot hold names), or Redirected (the path goes on into /dev, /proc or /sys). dryRun:
        /// only the checks (bind on a socket that already has a name answers as Linux does).</summary>
        public int MakeSocketFile(DirectoryNode start, string path, uint permissions, bool dryRun, out Inode node)
        {
            node = null;
            int error = NewName(start, path, out MemoryDirectory parent, out string name);
            if (error < 0) return error;
            if (dryRun) return 0;
            if (parent.Disk != null) return parent.Disk.MakeSocketFile(parent, name, permissions & 0xFFF, out node);
            node = new SocketFileNode(parent.Mount, NewInodeNumber(), permissions, Now);
            parent.Add(name, node);
            parent.ModifyTime = parent.ChangeTime = node.ModifyTime;
            return 0;
        }

        /// <summary>link: a new name for an existing non-directory inode on the same mount.</summary>
        public int Link(Inode node, DirectoryNode start, string path)
        {
            if (node.IsDirectory) return -Errno.EPERM;
            int error = Resolve(start, path, false, out PathLookup lookup, parentOnly: true);
            if (error < 0) return error;
            if (lookup.Node != null) return -Errno.EEXIST;
            if (lookup.TrailingSlash) return -Errno.ENOENT;
            if ((error = CheckCreate(ref lookup)) < 0) return error;
            if (lookup.Parent.Mount != node.Mount) return -Errno.EXDEV;
            if (!(lookup.Parent is MemoryDirectory parent) || !parent.Mount.Writable) return -Errno.EPERM;
            if (node.Links == 0 && !(node is RegularFile)) return -Errno.ENOENT;
            if (parent.Disk != null)
            {
                // A file kept only in memory (unlinked while open, O_TMPFILE) cannot get a name on the disk back.
                if (node.Links == 0 || node is RegularFile memory && memory.Disk == null) return -Errno.ENOENT;
                return parent.Disk.Link(node, parent, lookup.Name);
            }
            node.Links++;
            long now = Now;
            node.ChangeTime = now;
            parent.Add(lookup.Name, node);
            parent.ModifyTime = parent.ChangeTime = now;
            return 0;
        }

        /// <summary>rename/renameat2 (flags RENAME_NOREPLACE, RENAME_EXCHANGE): 0 or -errno.</summary>
        public int Rename(DirectoryNode oldStart, string oldPath, DirectoryNode newStart, string newPath, int flags)
        {
            if ((flags & ~(LinuxFile.RENAME_NOREPLACE | LinuxFile.RENAME_EXCHANGE | LinuxFile.RENAME_WHITEOUT)) != 0) return -Errno.EINVAL;
            if ((flags & LinuxFile.RENAME_NOREPLACE) != 0 && (flags & LinuxFile.RENAME_EXCHANGE) != 0) return -Errno.EINVAL;
            if ((flags & LinuxFile.RENAME_WHITEOUT) != 0) return -Errno.EINVAL;
            bool exchange = (flags & LinuxFile.RENAME_EXCHANGE) != 0;

            int error = Resolve(oldStart, oldPath, false, out PathLookup from, parentOnly: true);
            if (error < 0) return error;
            error = Resolve(newStart, newPath, false, out PathLookup to, parentOnly: true);
            if (error < 0) return error;
            if (from.IsDot || to.IsDot) return -Errno.EBUSY;
            if (from.Node == null) return -Errno.ENOENT;
            if (to.Parent.Removed) return -Errno.ENOENT;
            if (from.Parent.Mount != to.Parent.Mount) return -Errno.EXDEV;
            if (!(from.Parent is MemoryDirectory fromParent) || !(to.Parent is MemoryDirectory toParent) || !fromParent.Mount.Writable)
                return -Errno.EPERM;
            Inode moving = from.Node, replaced = to.Node;
            if (IsMountRoot(moving) || (replaced != null && IsMountRoot(replaced))) return -Errno.EBUSY;
            if (!moving.IsDirectory && (from.TrailingSlash || (to.TrailingSlash && !exchange)) ) return -Errno.ENOTDIR;

            if (exchange)
            {
                if (replaced == null) return -Errno.ENOENT;
                if (moving == replaced) return 0;
                if (moving is DirectoryNode md0 && IsAncestor(md0, toParent)) return -Errno.EINVAL;
                if (replaced is DirectoryNode rd0 && IsAncestor(rd0, fromParent)) return -Errno.EINVAL;
                if (fromParent.Disk != null) return fromParent.Disk.Exchange(fromParent, from.Name, moving, toParent, to.Name, replaced);
                if (moving is DirectoryNode md && IsAncestor(md, toParent)) return -Errno.EINVAL;
                if (replaced is DirectoryNode rd && IsAncestor(rd, fromParent)) return -Errno.EINVAL;
                fromParent.Replace(from.Name, replaced);
                toParent.Replace(to.Name, moving);
                long t = Now;
                moving.ChangeTime = replaced.ChangeTime = t;
                fromParent.ModifyTime = fromParent.ChangeTime = toParent.ModifyTime = toParent.ChangeTime = t;
                return 0;
            }

            if (replaced != null)
            {
                if ((flags & LinuxFile.RENAME_NOREPLACE) != 0) return -Errno.EEXIST;
                if (moving == replaced) return 0; // two names of one inode: nothing happens
                if (moving.IsDirectory && !replaced.IsDirectory) return -Errno.ENOTDIR;
                if (!moving.IsDirectory && replaced.IsDirectory) return -Errno.EISDIR;
            }
            if (moving is DirectoryNode movingDirectory && IsAncestor(movingDirectory, toParent)) return -Errno.EINVAL;
            if (replaced is DirectoryNode replacedDirectory && !replacedDirectory.IsEmpty) return -Errno.ENOTEMPTY;
            if (fromParent.Disk != null) return fromParent.Disk.Rename(fromParent, from.Name, moving, toParent, to.Name, replaced);

            long now = Now;
            fromParent.Remove(from.Name);
            if (replaced != null)
            {
                toParent.Replace(to.Name, moving);
                if (replaced is DirectoryNode gone) { gone.Removed = true; gone.Links = 0; }
                else replaced.Links--;
                replaced.ChangeTime = now;
            }
            else toParent.Add(to.Name, moving);
            moving.ChangeTime = now;
            fromParent.ModifyTime = fromParent.ChangeTime = toParent.ModifyTime = toParent.ChangeTime = now;
            return 0;
        }

        /// <summary>A process's own tree (its / is the file server's): what the server's root is, as
        /// VfsProtocol.RootKind says (/proc/mounts, statfs and df then describe the disk).</summary>
        public void RootIsOnTheDisk(long kind)
        {
            if (kind == VfsProtocol.RootExt2 || kind == VfsProtocol.RootExt3)
                RootMount.Describe(DiskTree.RootSource, kind == VfsProtocol.RootExt3 ? "ext3" : "ext2", DiskTree.RootOptions, DiskTree.RootDevice, DiskTree.Ext2SuperMagic);
        }

        /// <summary>fsync/fdatasync (node) or sync (null): what the disk holds is made durable; 0 for memory.</summary>
        public int Sync(Inode node)
        {
            if (Disk == null) return 0;
            if (node == null) return Disk.Sync();
            return node.Mount == RootMount ? Disk.Fsync(node) : 0;
        }

        /// <summary>An attribute change the VFS made on node (chmod, chown, utimensat): written to the disk when node is there.</summary>
        public int AttributesChanged(Inode node) => Disk != null && node.Mount == RootMount ? Disk.SaveAttributes(node) : 0;

        /// <summary>Whether directory is candidate or one of its ancestors.</summary>
        private bool IsAncestor(DirectoryNode directory, DirectoryNode candidate)
        {
            for (DirectoryNode d = candidate; ; d = d.Parent)
            {
                if (d == directory) return true;
                if (d.Parent == d) return false;
            }
        }

        /// <summary>statfs for the mount holding node (struct statfs fields, in 4 KiB blocks).</summary>
        public void StatFs(Inode node, out ulong type, out long blocks, out long freeBlocks, out long files, out long freeFiles)
        {
            Mount mount = node.Mount;
            type = mount.Magic;
            ISystemInfo system = Sources.System;
            if (Disk != null && mount == RootMount)
            {
                Disk.StatFs(out blocks, out freeBlocks, out files, out freeFiles);
            }
            else if (mount.Magic == LinuxFile.TMPFS_MAGIC && system != null)
            {
                // tmpfs's default limit: half of memory; what is free of it: what the machine has free.
                blocks = system.MemoryTotalBytes / 2 / 4096;
                long free = system.MemoryFreeBytes / 4096;
                freeBlocks = free < blocks ? free : blocks;
                files = blocks;
                freeFiles = freeBlocks;
            }
            else
            {
                blocks = freeBlocks = files = freeFiles = 0;
            }
        }
    }
}
