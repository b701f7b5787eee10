// The Linux personality's file tree: inodes of every kind the VFS holds. Pure logic (no program
// memory, no system calls): it compiles against the real .NET for the host tests.
//
// Invariants: a DirectoryNode has exactly one parent (directories cannot be hard-linked; the root
// is its own parent) and its NameInParent is the name it has there; a MemoryDirectory's index maps
// every live name to its slot in the entry list, and removed slots hold null (their positions stay
// stable for getdents offsets until the list is compacted); a RegularFile's bytes are either the
// archive's (read in place, never written) or its own array, copied from the archive on the first
// change; Size never exceeds the bytes it can serve.
using System;
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    /// <summary>Linux's file-type and permission bits (st_mode), open flags, *at flags and the rest
    /// of the constants the file calls speak (x86-64 values).</summary>
    public static class LinuxFile
    {
        public const uint S_IFMT = 0xF000, S_IFSOCK = 0xC000, S_IFLNK = 0xA000, S_IFREG = 0x8000,
            S_IFBLK = 0x6000, S_IFDIR = 0x4000, S_IFCHR = 0x2000, S_IFIFO = 0x1000;
        public const uint PermissionBits = 0xFFF; // rwx for user/group/other + setuid/setgid/sticky

        public const int O_ACCMODE = 3, O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2;
        public const int O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100, O_TRUNC = 0x200, O_APPEND = 0x400,
            O_NONBLOCK = 0x800, O_DSYNC = 0x1000, O_ASYNC = 0x2000, O_DIRECT = 0x4000, O_LARGEFILE = 0x8000,
            O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000, O_NOATIME = 0x40000, O_CLOEXEC = 0x80000,
            O_SYNC = 0x101000, O_PATH = 0x200000, O_TMPFILE = 0x410000;

        public const int AT_FDCWD = -100;
        public const int AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200, AT_EACCESS = 0x200,
            AT_SYMLINK_FOLLOW = 0x400, AT_NO_AUTOMOUNT = 0x800, AT_EMPTY_PATH = 0x1000,
            AT_STATX_SYNC_TYPE = 0x6000;

        public const int RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;

        public const int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;

        public const int F_OK = 0, X_OK = 1, W_OK = 2, R_OK = 4;

        public const int F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5,
            F_SETLK = 6, F_SETLKW = 7, F_SETOWN = 8, F_GETOWN = 9, F_DUPFD_CLOEXEC = 1030,
            F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032, FD_CLOEXEC = 1;
        public const short F_RDLCK = 0, F_WRLCK = 1, F_UNLCK = 2;

        public const byte DT_UNKNOWN = 0, DT_FIFO = 1, DT_CHR = 2, DT_DIR = 4, DT_BLK = 6, DT_REG = 8, DT_LNK = 10, DT_SOCK = 12;

        public const ulong FIONREAD = 0x541B, FIONBIO = 0x5421, FIOCLEX = 0x5451, FIONCLEX = 0x5450, FIOASYNC = 0x5452;

        public const long UTIME_NOW = (1L << 30) - 1, UTIME_OMIT = (1L << 30) - 2;

        /// <summary>Longest path (with its NUL) and longest component, as Linux's PATH_MAX / NAME_MAX.</summary>
        public const int PathMax = 4096, NameMax = 255;
        /// <summary>Symbolic links followed in one resolution before ELOOP (Linux's MAXSYMLINKS).</summary>
        public const int MaxSymlinks = 40;

        public const ulong TMPFS_MAGIC = 0x01021994, PROC_SUPER_MAGIC = 0x9FA0, SYSFS_MAGIC = 0x62656572;

        public static byte DirentType(uint mode)
        {
            switch (mode & S_IFMT)
            {
                case S_IFREG: return DT_REG;
                case S_IFDIR: return DT_DIR;
                case S_IFLNK: return DT_LNK;
                case S_IFCHR: return DT_CHR;
                case S_IFBLK: return DT_BLK;
                case S_IFIFO: return DT_FIFO;
                case S_IFSOCK: return DT_SOCK;
                default: return DT_UNKNOWN;
            }
        }

        /// <summary>Linux's device number encoding (new_encode_dev / makedev).</summary>
        public static ulong MakeDevice(uint major, uint minor) =>
            ((ulong)(minor & 0xFF)) | ((ulong)(major & 0xFFF) << 8) | ((ulong)(minor & ~0xFFu) << 12) | ((ulong)(major & ~0xFFFu) << 32);
        public static uint Major(ulong device) => (uint)(((device >> 8) & 0xFFF) | ((device >> 32) & ~0xFFFUL));
        public static uint Minor(ulong device) => (uint)((device & 0xFF) | ((device >> 12) & ~0xFFUL));
    }

    /// <summary>A mounted file system: what stat's st_dev, statfs and /proc/mounts report, and the
    /// boundary rename and link do not cross (EXDEV).</summary>
    public sealed class Mount
    {
        public readonly string MountPoint;
        public string Source { get; private set; }
        public string Type { get; private set; }
        public string Options { get; private set; }
        public ulong Device { get; private set; }
        public ulong Magic { get; private set; }
        /// <summary>Whether names can be created and removed in its directories (tmpfs: yes; proc: no).</summary>
        public readonly bool Writable;

        public Mount(string source, string mountPoint, string type, string options, ulong device, ulong magic, bool writable)
        {
            Source = source; MountPoint = mountPoint; Type = type; Options = options;
            Device = device; Magic = magic; Writable = writable;
        }

        /// <summary>A process's own tree learns what the file server's / is (VfsProtocol.RootKind).</summary>
        internal void Describe(string source, string type, string options, ulong device, ulong magic)
        {
            Source = source; Type = type; Options = options; Device = device; Magic = magic;
        }
    }

    /// <summary>What stat, fstat, newfstatat and statx report (times in nanoseconds since the epoch).</summary>
    public struct StatInfo
    {
        public ulong Device, Inode, Links, RDevice;
        public uint Mode, Uid, Gid;
        public long Size, BlockSize, Blocks;
        public long AccessTime, ModifyTime, ChangeTime;
    }

    /// <summary>Inode.Class: the node's class among those path resolution tells apart (a directory
    /// class is at least Directory).</summary>
    public static class NodeClass
    {
        public const byte Other = 0, Symlink = 1, Directory = 2, RemoteDirectory = 3;
    }

    /// <summary>One node of the tree. Times are nanoseconds since the Unix epoch.</summary>
    public abstract class Inode
    {
        public readonly Mount Mount;
        public readonly ulong Number;
        public uint Mode;
        public uint Uid, Gid;
        public int Links;
        public long AccessTime, ModifyTime, ChangeTime;
        /// <summary>Which of the classes path resolution tells apart this node is (NodeClass): set
        /// once by their constructors, and tested where a type test on each path component cost a
        /// walk of the class hierarchy (~100 instructions a component).</summary>
        public byte Class;
        /// <summary>Open file descriptions of this node (OpenFile counts them): a disk file unlinked
        /// while open keeps its bytes (DiskTree.Unlink).</summary>
        public int Opens;

        protected Inode(Mount mount, ulong number, uint mode, long now)
        {
            Mount = mount; Number = number; Mode = mode;
            AccessTime = ModifyTime = ChangeTime = now;
            Links = 1;
        }

        public uint Type => Mode & LinuxFile.S_IFMT;
        public bool IsDirectory => Type == LinuxFile.S_IFDIR;
        public bool IsSymlink => Type == LinuxFile.S_IFLNK;
        public bool IsRegular => Type == LinuxFile.S_IFREG;

        /// <summary>st_size.</summary>
        public virtual long Size => 0;
        /// <summary>st_rdev (device nodes).</summary>
        public virtual ulong RDevice => 0;

        /// <summary>What stat reports (a proxy of a server node asks the server).</summary>
        public virtual StatInfo Stat()
        {
            StatInfo info;
            info.Device = Mount.Device;
            info.Inode = Number;
            info.Links = (ulong)(Links < 0 ? 0 : Links);
            info.RDevice = RDevice;
            info.Mode = Mode;
            info.Uid = Uid;
            info.Gid = Gid;
            info.Size = Size;
            info.BlockSize = 4096;
            info.Blocks = Blocks512();
            info.AccessTime = AccessTime;
            info.ModifyTime = ModifyTime;
            info.ChangeTime = ChangeTime;
            return info;
        }

        /// <summary>st_blocks: 512-byte units of memory the node holds.</summary>
        protected virtual long Blocks512() => 0;
    }

    /// <summary>A directory: lookup and listing; MemoryDirectory stores entries, ProcFs generates them.</summary>
    public abstract class DirectoryNode : Inode
    {
        /// <summary>The directory holding this one (the root: itself).</summary>
        public DirectoryNode Parent;
        public string NameInParent;
        /// <summary>Set when the directory was removed (rmdir): nothing can be created in it.</summary>
        public bool Removed;

        protected DirectoryNode(Mount mount, ulong number, uint permissions, long now)
            : base(mount, number, LinuxFile.S_IFDIR | (permissions & LinuxFile.PermissionBits), now)
        {
            Parent = this;
            NameInParent = "";
            Links = 2;
            Class = NodeClass.Directory;
        }

        /// <summary>The child called name (never "." or ".."), or null.</summary>
        public abstract Inode Lookup(string name);

        /// <summary>The entry at listing position index (0-based, after "." and ".."): false past the
        /// end; name null when the slot is empty (a removed entry).</summary>
        public abstract bool EntryAt(int index, out string name, out Inode node);

        /// <summary>Whether the directory has no entries besides "." and "..".</summary>
        public abstract bool IsEmpty { get; }
    }

    /// <summary>A tmpfs directory: entries in creation order (getdents lists them so; Linux 6.6+ tmpfs too).</summary>
    public sealed class MemoryDirectory : DirectoryNode
    {
        private readonly List<string> _names = new List<string>();
        private readonly List<Inode> _nodes = new List<Inode>();
        private readonly Dictionary<string, int> _index = new Dictionary<string, int>();
        private int _removedSlots;

        public MemoryDirectory(Mount mount, ulong number, uint permissions, long now) : base(mount, number, permissions, now) { }

        /// <summary>Non-null: a directory of the file system on the disk (DiskTree), whose entries
        /// are read from it when first needed (Unloaded until then).</summary>
        internal DiskTree Disk;
        internal bool Unloaded;
        /// <summary>A disk directory's size as the disk reports it.</summary>
        internal long DiskSize;

        public int Count { get { if (Unloaded) Disk.Load(this); return _index.Count; } }
        /// <summary>tmpfs's bogus directory size: 40 plus 20 per entry (a disk directory: its size on the disk).</summary>
        public override long Size => Disk != null ? DiskSize : 40 + 20L * _index.Count;
        protected override long Blocks512() => Disk != null ? (DiskSize + 511) / 512 : 0;

        public override Inode Lookup(string name)
        {
            if (Unloaded) Disk.Load(this);
            return _index.TryGetValue(name, out int slot) ? _nodes[slot] : null;
        }

        public override bool EntryAt(int index, out string name, out Inode node)
        {
            if (Unloaded) Disk.Load(this);
            if (index < 0 || index >= _names.Count) { name = null; node = null; return false; }
            name = _names[index];
            node = _nodes[index];
            return true;
        }

        public override bool IsEmpty { get { if (Unloaded) Disk.Load(this); return _index.Count == 0; } }

        /// <summary>An entry read from the disk (DiskTree.Load): link counts are the disk's.</summary>
        internal void AddLoaded(string name, Inode node)
        {
            _index[name] = _names.Count;
            _names.Add(name);
            _nodes.Add(node);
            if (node is DirectoryNode directory)
            {
                directory.Parent = this;
                directory.NameInParent = name;
            }
        }

        /// <summary>Forgets the entries read from the disk (drop_caches), keeping the ones a mount put
        /// here: the next lookup reads them again.</summary>
        internal void Unload()
        {
            if (Disk == null) return;
            for (int slot = 0; slot < _names.Count; slot++)
            {
                Inode node = _nodes[slot];
                if (node == null || node.Mount != Mount) continue; // a mount point stays
                _index.Remove(_names[slot]);
                _names[slot] = null;
                _nodes[slot] = null;
                _removedSlots++;
            }
            Compact();
            Unloaded = true;
        }

        /// <summary>Adds name → node (the caller checked the name is free); keeps link counts.</summary>
        public void Add(string name, Inode node)
        {
            AddLoaded(name, node);
            if (node is DirectoryNode) Links++;
        }

        /// <summary>Removes name (present); its slot stays empty so listing positions do not move.</summary>
        public Inode Remove(string name)
        {
            int slot = _index[name];
            Inode node = _nodes[slot];
            _index.Remove(name);
            _names[slot] = null;
            _nodes[slot] = null;
            _removedSlots++;
            if (node is DirectoryNode) Links--;
            if (_removedSlots >= 64 && _removedSlots * 2 >= _names.Count) Compact();
            return node;
        }

        /// <summary>Points an existing name at another node (rename over an existing entry).</summary>
        public void Replace(string name, Inode node)
        {
            int slot = _index[name];
            Inode old = _nodes[slot];
            if (old is DirectoryNode) Links--;
            _nodes[slot] = node;
            if (node is DirectoryNode directory)
            {
                directory.Parent = this;
                directory.NameInParent = name;
                Links++;
            }
        }

        // Drops the empty slots. Positions of a listing in progress may then skip or repeat entries,
        // as POSIX allows for a directory changed while it is read.
        private void Compact()
        {
            int to = 0;
            for (int from = 0; from < _names.Count; from++)
            {
                if (_names[from] == null) continue;
                _names[to] = _names[from];
                _nodes[to] = _nodes[from];
                _index[_names[to]] = to;
                to++;
            }
            for (int last = _names.Count - 1; last >= to; last--) { _names.RemoveAt(last); _nodes.RemoveAt(last); }
            _removedSlots = 0;
        }
    }

    /// <summary>A regular tmpfs file: bytes in the archive (read in place) until first changed, then its own.</summary>
    public sealed unsafe class RegularFile : Inode
    {
        private byte* _archiveData;   // non-null: the content is the archive's, read-only
        private byte[] _data;         // the content once written (capacity >= _size)
        private long _size;

        public RegularFile(Mount mount, ulong number, uint permissions, long now)
            : base(mount, number, LinuxFile.S_IFREG | (permissions & LinuxFile.PermissionBits), now) { }

        public override long Size => _size;
        protected override long Blocks512() => Disk != null ? _diskBlocks : _archiveData != null ? 0 : ((_data == null ? 0 : (long)_data.Length) + 511) / 512;

        /// <summary>Whether the content is still the archive's bytes (not copied), or a disk file
        /// found byte for byte equal to the archive's copy (DiskTree.TryArchiveAlias).</summary>
        public bool IsInArchive => _archiveData != null || _alias != null;
        private byte* _alias;
        /// <summary>A disk file compared with the archive since it last changed (equal or not).</summary>
        internal bool AliasChecked;

        /// <summary>The disk file's bytes are these archive bytes, until it is next written or truncated.</summary>
        internal void AliasArchive(byte* data) { _alias = data; AliasChecked = true; }

        private void Changed() { _alias = null; AliasChecked = false; }

        /// <summary>Non-null: the content is on the disk (DiskTree): reads, writes and truncates go
        /// there; the size is the disk's.</summary>
        internal DiskTree Disk;
        private long _diskBlocks;

        internal void SetDiskSize(long size, long blocks512) { _size = size; _diskBlocks = blocks512; }

        /// <summary>The content becomes these bytes in memory (an open file losing its last name on the disk).</summary>
        internal void DetachTo(byte[] content, long size)
        {
            Disk = null;
            _archiveData = null;
            _data = content;
            _size = size;
        }

        /// <summary>The content's address and length, valid until the file is next written or
        /// truncated (the archive's bytes, or the file's own array: Aegis's collector never moves
        /// objects, so the address stays valid while the array is the file's).</summary>
        public void GetContent(out byte* data, out long length)
        {
            length = _size;
            if (_alias != null) { data = _alias; return; }
            if (Disk != null)
            {
                // A disk file's bytes as one array (a process's own tree executing or mapping it).
                _data = new byte[_size];
                fixed (byte* to = _data) length = _size == 0 ? 0 : Disk.Read(this, 0, to, _size);
                if (length < 0) length = 0;
            }
            if (_archiveData != null) { data = _archiveData; return; }
            if (_data == null || _data.Length == 0) { data = null; return; }
            fixed (byte* pinned = _data) data = pinned;
        }

        /// <summary>Makes the content the archive's bytes at data (referenced, never written).</summary>
        public void ReferenceArchive(byte* data, long length)
        {
            _archiveData = length > 0 ? data : null;
            _data = null;
            _size = length;
        }

        /// <summary>Where the content lies when it is in memory (not a disk file's): the archive's
        /// bytes (read-only) or this file's own array, Size bytes of it; for sendfile's single copy.</summary>
        public bool InMemory(out byte* archive, out byte[] data)
        {
            archive = _archiveData;
            data = _data;
            return Disk == null;
        }

        /// <summary>Copies up to length bytes from offset into buffer: the count (0 at or past the end).</summary>
        public long ReadAt(long offset, byte* buffer, long length)
        {
            if (offset >= _size || length <= 0) return 0;
            long count = _size - offset < length ? _size - offset : length;
            if (Disk != null) return Disk.Read(this, offset, buffer, count);
            if (_archiveData != null)
                Buffer.MemoryCopy(_archiveData + offset, buffer, count, count);
            else
                fixed (byte* data = _data) Buffer.MemoryCopy(data + offset, buffer, count, count);
            return count;
        }

        /// <summary>Writes length bytes at offset (the gap before it reads as zeros): the count, or -EFBIG/-ENOSPC.</summary>
        public long WriteAt(long offset, byte* buffer, long length)
        {
            if (length <= 0) return 0;
            if (offset < 0) return -Errno.EINVAL;
            long end = offset + length;
            if (end < offset || end > MaxFileSize) return -Errno.EFBIG;
            if (Disk != null) { Changed(); return Disk.Write(this, offset, buffer, length); }
            long error = EnsureOwnData(end);
            if (error < 0) return error;
            fixed (byte* data = _data) Buffer.MemoryCopy(buffer, data + offset, length, length);
            if (end > _size) _size = end;
            return length;
        }

        /// <summary>Sets the size (growing reads as zeros): 0, or -EFBIG/-ENOSPC.</summary>
        public long Truncate(long length)
        {
            if (length < 0) return -Errno.EINVAL;
            if (length > MaxFileSize) return -Errno.EFBIG;
            if (length == _size) return 0;
            if (Disk != null) { Changed(); return Disk.Truncate(this, length); }
            long error = EnsureOwnData(length);
            if (error < 0) return error == -Errno.ENOSPC ? -Errno.EFBIG : error; // ENOSPC is not truncate's
            if (length < _size)
                Array.Clear(_data, (int)length, (int)(_size - length));
            _size = length;
            if (length == 0 || _data.Length > 65536 && length < _data.Length / 4)
                Array.Resize(ref _data, (int)length);
            return 0;
        }

        /// <summary>Largest file the memory tmpfs holds (one managed array).</summary>
        public const long MaxFileSize = 0x7FFF_FFC7;

        /// <summary>How many more bytes the files' contents may take now; null: no limit but
        /// MaxFileSize. The personality sets it from the kernel's free frames (half of them, as
        /// Linux's tmpfs takes at most half the memory by default), so a program that grows a file
        /// beyond what memory holds gets -ENOSPC (a write) or -EFBIG (a truncate) instead of
        /// exhausting the libOS's heap, which would end the process (found by the Linux-ABI fuzzer:
        /// ftruncate(fd, 1 GiB) ended the libOS with OutOfMemory).</summary>
        public static Func<long> MemoryBudget;

        private long EnsureOwnData(long needed)
        {
            long owned = _data == null ? 0 : _data.Length;
            long budget = MemoryBudget == null ? long.MaxValue : MemoryBudget();
            if (needed > owned && needed - owned > budget) return -Errno.ENOSPC;
            if (_archiveData != null)
            {
                long capacity = needed > _size ? needed : _size;
                byte[] copy;
                try { copy = new byte[capacity]; }
                catch (OutOfMemoryException) { return -Errno.ENOSPC; }
                fixed (byte* to = copy) Buffer.MemoryCopy(_archiveData, to, _size, _size);
                _data = copy;
                _archiveData = null;
                return 0;
            }
            if (_data == null || _data.Length < needed)
            {
                long capacity = _data == null || _data.Length == 0 ? 64 : _data.Length;
                while (capacity < needed) capacity *= 2;
                if (capacity > MaxFileSize || capacity - owned > budget) capacity = needed;
                byte[] grown;
                try { grown = new byte[capacity]; }
                catch (OutOfMemoryException) { return -Errno.ENOSPC; }
                if (_data != null) Array.Copy(_data, grown, (int)_size);
                _data = grown;
            }
            return 0;
        }
    }

    /// <summary>A symbolic link: its target text (TargetFor lets /proc compute it).</summary>
    public class SymlinkNode : Inode
    {
        private readonly string _target;

        public SymlinkNode(Mount mount, ulong number, string target, long now)
            : base(mount, number, LinuxFile.S_IFLNK | 0x1FF, now) { _target = target; Class = NodeClass.Symlink; }

        public virtual string Target => _target;
        public override long Size => Target.Length;
    }

    /// <summary>What a character device does (null, zero, the terminal...). Buffers are already checked.</summary>
    public unsafe interface ICharacterDevice
    {
        long Read(byte* buffer, int length, bool nonBlocking);
        long Write(byte* buffer, int length, bool nonBlocking);
        /// <summary>An ioctl other than the generic ones (FIONBIO, FIOCLEX...): its result or -ENOTTY.</summary>
        long Ioctl(ulong request, ulong argument);
        bool PollReadable { get; }
        bool PollWritable { get; }
        /// <summary>Whether lseek works (and returns 0) rather than failing with ESPIPE.</summary>
        bool Seekable { get; }
        /// <summary>Whether sendfile may read it (Linux: a device with splice_read, as /dev/null,
        /// /dev/zero and /dev/urandom; a terminal has none, and sendfile from it is EINVAL).</summary>
        bool Splices { get; }
        /// <summary>Bytes FIONREAD reports, or -ENOTTY when the device does not answer it.</summary>
        long BytesReadable { get; }
    }

    /// <summary>A character-device node (/dev/null, /dev/tty...).</summary>
    public sealed class DeviceNode : Inode
    {
        public readonly ICharacterDevice Device;
        private readonly ulong _rdev;

        public DeviceNode(Mount mount, ulong number, uint permissions, ulong rdev, ICharacterDevice device, long now)
            : base(mount, number, LinuxFile.S_IFCHR | (permissions & LinuxFile.PermissionBits), now)
        {
            Device = device; _rdev = rdev;
        }

        public override ulong RDevice => _rdev;
    }

    /// <summary>A pipe's inode (pipefs: never in the tree).</summary>
    public sealed class PipeNode : Inode
    {
        public readonly Pipe Pipe;

        public PipeNode(Mount mount, ulong number, Pipe pipe, long now) : base(mount, number, LinuxFile.S_IFIFO | 0x180, now) { Pipe = pipe; }

        public override long Size => 0;
    }

    /// <summary>The name an AF_UNIX socket bound to a path made in tmpfs (S_IFSOCK; on the disk the
    /// same name is a DiskSpecialNode). Which socket it names, if any, UnixSockets knows; opening
    /// it is ENXIO, as on Linux.</summary>
    public sealed class SocketFileNode : Inode
    {
        public SocketFileNode(Mount mount, ulong number, uint permissions, long now)
            : base(mount, number, LinuxFile.S_IFSOCK | (permissions & LinuxFile.PermissionBits), now) { }
    }
}
