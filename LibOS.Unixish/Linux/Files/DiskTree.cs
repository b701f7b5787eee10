// The root file system on the disk (issue #11; docs/libos-unixish.md, "The root on the disk"):
// an ext2/ext3 file system (LibOS.Unixish/Storage) seen through the VFS's nodes. The nodes are the
// cache of names and attributes — a directory's entries are read from the disk the first time a
// walk or a listing needs them (MemoryDirectory.Unloaded), a file's bytes never live in a node
// (RegularFile.Disk: every read and write goes to the file system, through its buffer cache) —
// and every change is made on the disk first, then mirrored in the nodes with the attributes the
// disk reports. Pure logic; compiles under the real .NET (host tests mount images made by mke2fs).
//
// Invariants:
// - A disk node's Number is its ext2 inode number; one node per inode (_nodes), so hard links
//   share their node as on a memory tree.
// - A node's Mode, Uid, Gid, Links, times and a file's size are what the disk holds (Apply after
//   every change; times have whole seconds, as ext2's 128-byte inodes keep them).
// - A name covered by a mount (/dev, /proc, /sys, /tmp on the disk root) is never loaded over it.
// - An unlinked file that is still open keeps its bytes: before the disk frees its last name, its
//   content moves into the node's memory (Detach), as Linux keeps an open file until its last close.
using System.Collections.Generic;
using Aegis.LibOS.Unixish.Storage;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public sealed unsafe class DiskTree
    {
        public const ulong Ext2SuperMagic = 0xEF53;
        /// <summary>What /proc/mounts and stat's st_dev say of the disk's root (Linux's names for a root mounted from the kernel command line).</summary>
        public const string RootSource = "/dev/root", RootOptions = "rw,relatime";
        public static readonly ulong RootDevice = LinuxFile.MakeDevice(254, 0);
        /// <summary>Bytes moved through the file system per Read/Write call on its byte[] API.</summary>
        private const int ChunkBytes = 65536;

        public readonly Ext2FileSystem Ext2;
        /// <summary>"ext3" with a journal, else "ext2" (what /proc/mounts says).</summary>
        public string Type => Ext2.HasJournal ? "ext3" : "ext2";
        public Mount Mount { get; private set; }
        /// <summary>Directories loaded and nodes made (tests, logs).</summary>
        public long DirectoriesLoaded, NodesMade;
        /// <summary>The last error a directory load met (the directory then shows what was read before it).</summary>
        public string LoadError;

        private readonly Dictionary<uint, Inode> _nodes = new Dictionary<uint, Inode>();
        private readonly List<MemoryDirectory> _loaded = new List<MemoryDirectory>();
        private readonly byte[] _chunk = new byte[ChunkBytes];

        /// <summary>The regular files of the archive the build embeds (path without the leading '/'
        /// → its bytes in memory), or null: a disk file equal to its archive copy is then served as
        /// the archive's bytes (exec maps them in place instead of copying the program).</summary>
        public Dictionary<string, TarEntry> Archive;

        /// <summary>The device's request counts (/proc/diskstats); null: not counted.</summary>
        public readonly IDiskCounters Counters;

        public DiskTree(Ext2FileSystem ext2, IDiskCounters counters = null) { Ext2 = ext2; Counters = counters; }

        /// <summary>The root directory on mount (called once by FileSystem): its entries load when first needed.</summary>
        internal MemoryDirectory MakeRoot(Mount mount)
        {
            Mount = mount;
            int error = Ext2.GetAttributes(Ext2FileSystem.RootInode, out Ext2Stat stat);
            if (error < 0) throw new StorageException(-error, "the root inode: " + (Ext2.LastError ?? "errno " + (-error)));
            var root = (MemoryDirectory)Make(Ext2FileSystem.RootInode, ref stat);
            return root;
        }

        // ---------------------------------------------------------------- nodes

        private static long Nanoseconds(uint seconds) => seconds * 1_000_000_000L;
        private static uint Seconds(long nanoseconds) => nanoseconds <= 0 ? 0 : (uint)(nanoseconds / 1_000_000_000L);

        private Inode Make(uint number, ref Ext2Stat stat)
        {
            Inode node;
            uint permissions = stat.Mode & 0xFFF;
            long time = Nanoseconds(stat.Mtime);
            switch (stat.Mode & LinuxFile.S_IFMT)
            {
                case LinuxFile.S_IFDIR:
                    node = new MemoryDirectory(Mount, number, permissions, time) { Disk = this, Unloaded = true };
                    break;
                case LinuxFile.S_IFREG:
                    var file = new RegularFile(Mount, number, permissions, time);
                    file.Disk = this;
                    node = file;
                    break;
                case LinuxFile.S_IFLNK:
                    node = new DiskSymlink(this, Mount, number, time);
                    break;
                default:
                    node = new DiskSpecialNode(Mount, number, stat.Mode, stat.Device, time);
                    break;
            }
            Apply(node, ref stat);
            _nodes[number] = node;
            NodesMade++;
            return node;
        }

        /// <summary>The node of inode number (made from the disk's attributes when first met), or null with error.</summary>
        private Inode NodeFor(uint number, out int error)
        {
            error = 0;
            if (_nodes.TryGetValue(number, out Inode known)) return known;
            error = Ext2.GetAttributes(number, out Ext2Stat stat);
            return error < 0 ? null : Make(number, ref stat);
        }

        private static void Apply(Inode node, ref Ext2Stat stat)
        {
            node.Mode = (node.Mode & LinuxFile.S_IFMT) | (stat.Mode & 0xFFF);
            node.Uid = stat.Uid;
            node.Gid = stat.Gid;
            node.Links = (int)stat.Links;
            node.AccessTime = Nanoseconds(stat.Atime);
            node.ModifyTime = Nanoseconds(stat.Mtime);
            node.ChangeTime = Nanoseconds(stat.Ctime);
            if (node is RegularFile file) file.SetDiskSize(stat.Size, stat.Blocks512);
            else if (node is MemoryDirectory directory) directory.DiskSize = stat.Size;
        }

        /// <summary>Reads node's attributes from the disk again (after a change the disk made to them).</summary>
        private void Refresh(Inode node)
        {
            if (node == null || !IsOnDisk(node)) return;
            if (Ext2.GetAttributes((uint)node.Number, out Ext2Stat stat) == 0) Apply(node, ref stat);
        }

        private bool IsOnDisk(Inode node) =>
            node.Mount == Mount && (node is RegularFile file ? file.Disk == this : node is MemoryDirectory directory ? directory.Disk == this : true)
            && _nodes.TryGetValue((uint)node.Number, out Inode known) && known == node;

        /// <summary>Fills directory with its entries from the disk (names a mount covers are kept as they are).</summary>
        internal void Load(MemoryDirectory directory)
        {
            directory.Unloaded = false;
            DirectoriesLoaded++;
            _loaded.Add(directory);
            long position = 0;
            for (int guard = 0; guard < 1 << 22; guard++)
            {
                int found = Ext2.ReadDirectory((uint)directory.Number, position, out Ext2DirectoryEntry entry);
                if (found < 0) { LoadError = "directory " + directory.Number + ": " + (Ext2.LastError ?? "errno " + (-found)); return; }
                if (found == 0) return;
                if (entry.Next <= position) { LoadError = "directory " + directory.Number + ": positions do not advance"; return; }
                position = entry.Next;
                string name = entry.Name;
                if (name == "." || name == ".." || directory.Lookup(name) != null) continue;
                Inode node = NodeFor(entry.Inode, out int error);
                if (node == null) { LoadError = "inode " + entry.Inode + " of '" + name + "': " + (Ext2.LastError ?? "errno " + (-error)); continue; }
                if (node is MemoryDirectory child && child.Parent != child && child.Parent != directory) continue; // a second name of a directory: corrupt, skipped
                directory.AddLoaded(name, node);
            }
        }

        /// <summary>Forgets every loaded listing and every cached block (drop_caches): the next walk reads them again.</summary>
        public int DropCaches()
        {
            int error = Sync();
            if (error < 0 || Ext2.Cache.DirtyCount() != 0) return error < 0 ? error : -Errno.EBUSY;
            for (int i = 0; i < _loaded.Count; i++) _loaded[i].Unload();
            _loaded.Clear();
            Ext2.Cache.DropAll();
            Ext2.DropNameIndexes();
            return 0;
        }

        // ---------------------------------------------------------------- namespace changes (parent is a disk directory)

        internal int MakeDirectory(MemoryDirectory parent, string name, uint permissions, uint gid, out MemoryDirectory made)
        {
            made = null;
            int error = Ext2.MakeDirectory((uint)parent.Number, name, permissions & 0xFFF, 0, gid, out uint number);
            if (error < 0) return error;
            Inode node = NodeFor(number, out error);
            if (node == null) return error;
            made = (MemoryDirectory)node;
            made.Unloaded = false; // new and empty: nothing to read
            parent.Add(name, made);
            Refresh(parent);
            return 0;
        }

        internal int CreateFile(MemoryDirectory parent, string name, uint permissions, uint gid, out RegularFile file)
        {
            file = null;
            int error = Ext2.Create((uint)parent.Number, name, LinuxFile.S_IFREG | (permissions & 0xFFF), 0, gid, out uint number);
            if (error < 0) return error;
            Inode node = NodeFor(number, out error);
            if (node == null) return error;
            file = (RegularFile)node;
            parent.Add(name, file);
            Refresh(parent);
            return 0;
        }

        internal int Symlink(MemoryDirectory parent, string name, string target)
        {
            int error = Ext2.Symlink((uint)parent.Number, name, target, 0, 0, out uint number);
            if (error < 0) return error;
            Inode node = NodeFor(number, out error);
            if (node == null) return error;
            parent.Add(name, node);
            Refresh(parent);
            return 0;
        }

        /// <summary>A socket file (an AF_UNIX bind): an S_IFSOCK inode on the disk, seen as a DiskSpecialNode.</summary>
        internal int MakeSocketFile(MemoryDirectory parent, string name, uint permissions, out Inode made)
        {
            made = null;
            int error = Ext2.Create((uint)parent.Number, name, LinuxFile.S_IFSOCK | (permissions & 0xFFF), 0, (parent.Mode & 0x400) != 0 ? parent.Gid : 0, out uint number);
            if (error < 0) return error;
            made = NodeFor(number, out error);
            if (made == null) return error;
            parent.Add(name, made);
            Refresh(parent);
            return 0;
        }

        internal int Link(Inode node, MemoryDirectory parent, string name)
        {
            int error = Ext2.Link((uint)node.Number, (uint)parent.Number, name);
            if (error < 0) return error;
            parent.Add(name, node);
            Refresh(node);
            Refresh(parent);
            return 0;
        }

        /// <summary>unlink of a file (not a directory) the walk found at parent/name.</summary>
        internal int Unlink(MemoryDirectory parent, string name, Inode node)
        {
            if (node.Links <= 1 && node is RegularFile file && file.Opens > 0)
            {
                int detached = Detach(file);
                if (detached < 0) return detached;
            }
            int error = Ext2.Unlink((uint)parent.Number, name);
            if (error < 0) return error;
            parent.Remove(name);
            Forget(node);
            Refresh(parent);
            return 0;
        }

        internal int RemoveDirectory(MemoryDirectory parent, string name, MemoryDirectory directory)
        {
            int error = Ext2.RemoveDirectory((uint)parent.Number, name);
            if (error < 0) return error;
            parent.Remove(name);
            directory.Removed = true;
            directory.Links = 0;
            _nodes.Remove((uint)directory.Number);
            Refresh(parent);
            return 0;
        }

        /// <summary>rename (not RENAME_EXCHANGE) after the VFS checked the names: replaced is the node at the new name, or null.</summary>
        internal int Rename(MemoryDirectory fromParent, string fromName, Inode moving, MemoryDirectory toParent, string toName, Inode replaced)
        {
            if (replaced != null && replaced.Links <= 1 && replaced is RegularFile file && file.Opens > 0)
            {
                int detached = Detach(file);
                if (detached < 0) return detached;
            }
            int error = Ext2.Rename((uint)fromParent.Number, fromName, (uint)toParent.Number, toName);
            if (error < 0) return error;
            fromParent.Remove(fromName);
            if (replaced != null)
            {
                toParent.Replace(toName, moving);
                if (replaced is MemoryDirectory gone) { gone.Removed = true; gone.Links = 0; _nodes.Remove((uint)gone.Number); }
                else Forget(replaced);
            }
            else toParent.Add(toName, moving);
            Refresh(moving);
            Refresh(fromParent);
            if (toParent != fromParent) Refresh(toParent);
            return 0;
        }

        /// <summary>renameat2 with RENAME_EXCHANGE after the VFS checked the names: both exist.</summary>
        internal int Exchange(MemoryDirectory fromParent, string fromName, Inode moving, MemoryDirectory toParent, string toName, Inode other)
        {
            int error = Ext2.Exchange((uint)fromParent.Number, fromName, (uint)toParent.Number, toName);
            if (error < 0) return error;
            fromParent.Replace(fromName, other);
            toParent.Replace(toName, moving);
            Refresh(moving);
            Refresh(other);
            Refresh(fromParent);
            if (toParent != fromParent) Refresh(toParent);
            return 0;
        }

        /// <summary>After a name of node went: its attributes again, or (no names left) it leaves the tree.</summary>
        private void Forget(Inode node)
        {
            if (node is RegularFile file && file.Disk == null) { node.Links = 0; return; } // detached: memory only now
            // Links mirrors the disk: at one name, that name was the last (and the inode is free:
            // asking the file system would only raise its "not in use").
            if (node.Links > 1 && Ext2.GetAttributes((uint)node.Number, out Ext2Stat stat) == 0 && stat.Links > 0
                && (stat.Mode & LinuxFile.S_IFMT) == (node.Mode & LinuxFile.S_IFMT))
            {
                Apply(node, ref stat);
                return;
            }
            node.Links = 0;
            _nodes.Remove((uint)node.Number);
        }

        /// <summary>Moves an open file's bytes into memory before its last name goes (the disk frees it then).</summary>
        private int Detach(RegularFile file)
        {
            long size = file.Size;
            if (size > RegularFile.MaxFileSize) return -Errno.EBUSY;
            byte[] content;
            try { content = new byte[size]; }
            catch (System.OutOfMemoryException) { return -Errno.ENOMEM; }
            fixed (byte* to = content)
            {
                long got = size == 0 ? 0 : Read(file, 0, to, size);
                if (got < 0) return (int)got;
            }
            _nodes.Remove((uint)file.Number);
            file.DetachTo(content, size);
            return 0;
        }

        // ---------------------------------------------------------------- the archive's copies

        /// <summary>When file (at the absolute path) has the size of the archive's file at the same
        /// path and the same bytes — read from the disk and compared once, until the file changes —
        /// its content is served as the archive's bytes, which every process has at the same address:
        /// exec maps them instead of copying the program through the server. Files written since
        /// (or never in the archive) are read from the disk as always.</summary>
        public void TryArchiveAlias(RegularFile file, string path)
        {
            if (Archive == null || file.Disk != this || file.AliasChecked || path == null || path.Length < 2 || path[0] != '/') return;
            file.AliasChecked = true;
            if (!Archive.TryGetValue(path.Substring(1), out TarEntry entry) || entry.Size != file.Size || entry.Size == 0) return;
            byte[] content;
            try { content = new byte[entry.Size]; }
            catch (System.OutOfMemoryException) { return; }
            fixed (byte* disk = content)
            {
                if (Read(file, 0, disk, entry.Size) != entry.Size) return;
                for (long i = 0; i < entry.Size; i++) if (disk[i] != entry.Data[i]) return;
            }
            file.AliasArchive(entry.Data);
            ArchiveAliases++;
        }

        /// <summary>Disk files served as the archive's bytes (tests, logs).</summary>
        public long ArchiveAliases;

        // ---------------------------------------------------------------- contents and attributes

        internal long Read(RegularFile file, long offset, byte* buffer, long length)
        {
            long done = 0;
            while (done < length)
            {
                int count = length - done < ChunkBytes ? (int)(length - done) : ChunkBytes;
                int got = Ext2.Read((uint)file.Number, offset + done, _chunk, 0, count);
                if (got < 0) return done > 0 ? done : got;
                fixed (byte* from = _chunk) System.Buffer.MemoryCopy(from, buffer + done, got, got);
                done += got;
                if (got < count) break;
            }
            return done;
        }

        internal long Write(RegularFile file, long offset, byte* buffer, long length)
        {
            long done = 0;
            while (done < length)
            {
                int count = length - done < ChunkBytes ? (int)(length - done) : ChunkBytes;
                fixed (byte* to = _chunk) System.Buffer.MemoryCopy(buffer + done, to, count, count);
                int put = Ext2.Write((uint)file.Number, offset + done, _chunk, 0, count);
                if (put < 0) { if (done == 0) { Refresh(file); return put; } break; }
                done += put;
                if (put < count) break;
            }
            Refresh(file);
            return done;
        }

        internal long Truncate(RegularFile file, long size)
        {
            int error = Ext2.Truncate((uint)file.Number, size);
            Refresh(file);
            return error;
        }

        /// <summary>Writes node's mode, owner and times (chmod, chown, utimensat set them on the node first).</summary>
        public int SaveAttributes(Inode node)
        {
            if (!IsOnDisk(node)) return 0;
            uint number = (uint)node.Number;
            int error = Ext2.SetMode(number, node.Mode);
            if (error == 0) error = Ext2.SetOwner(number, node.Uid, node.Gid);
            if (error == 0) error = Ext2.SetTimes(number, Seconds(node.AccessTime), Seconds(node.ModifyTime));
            Refresh(node);
            return error;
        }

        /// <summary>fsync/fdatasync of node: its changes (ext3: the whole running transaction) are on the device.</summary>
        public int Fsync(Inode node) => Ext2.FsyncFile((uint)node.Number);

        /// <summary>sync: everything is on the device and written home.</summary>
        public int Sync() => Ext2.Sync();

        /// <summary>The journal's running transaction committed, when there is one (the file server's periodic commit).</summary>
        public int Commit() => Ext2.HasJournal && Ext2.Journal.HasRunningTransaction ? Ext2.FsyncFile(Ext2FileSystem.RootInode) : 0;

        /// <summary>Everything written home and the file system marked clean; it takes no changes after.</summary>
        public int Unmount() => Ext2.Unmount();

        /// <summary>statfs: in 4 KiB units as the VFS reports (the file system's blocks are 1, 2 or 4 KiB).</summary>
        public void StatFs(out long blocks, out long freeBlocks, out long files, out long freeFiles)
        {
            long scale = Ext2.BlockSize;
            blocks = Ext2.TotalBlocks * scale / 4096;
            freeBlocks = Ext2.FreeBlocks * scale / 4096;
            files = Ext2.TotalInodes;
            freeFiles = Ext2.FreeInodes;
        }
    }

    /// <summary>A symbolic link on the disk: its target read when first asked.</summary>
    public sealed class DiskSymlink : SymlinkNode
    {
        private readonly DiskTree _tree;
        private string _target;

        public DiskSymlink(DiskTree tree, Mount mount, ulong number, long now) : base(mount, number, "", now) { _tree = tree; }

        public override string Target
        {
            get
            {
                if (_target == null)
                {
                    int error = _tree.Ext2.ReadLink((uint)Number, out string target);
                    _target = error < 0 || target == null ? "" : target;
                }
                return _target;
            }
        }
    }

    /// <summary>A device node, FIFO or socket stored on the disk: listed and stat'ed; opening it is ENXIO
    /// (devices are /dev's, made by the personality).</summary>
    public sealed class DiskSpecialNode : Inode
    {
        private readonly ulong _rdev;

        public DiskSpecialNode(Mount mount, ulong number, uint mode, uint device, long now) : base(mount, number, mode, now)
        {
            _rdev = LinuxFile.MakeDevice((device >> 8) & 0xFFF, (device & 0xFF) | ((device >> 12) & 0xFFF00));
        }

        public override ulong RDevice => _rdev;
    }
}
