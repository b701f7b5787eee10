// The public operations a VFS adapter calls. Files are named by inode number (the identity a
// VFS keeps); names are strings (UTF-8 on disk). Every operation returns 0 (or a count) or a
// negative Linux errno and never throws: a corrupt structure is -EUCLEAN (LastError says what),
// a device error -EIO. Each changing operation validates its arguments and the names involved
// before it changes anything (seL4's decode, then invoke); a corruption found after that aborts
// the journal (the file system turns read-only with the disk at its last commit).
using System;
using Aegis.LibOS.Unixish.Linux;

namespace Aegis.LibOS.Unixish.Storage
{
    /// <summary>What stat reports for an inode.</summary>
    public struct Ext2Stat
    {
        public uint Inode, Mode, Uid, Gid, Links;
        public long Size, Blocks512;
        public uint Atime, Mtime, Ctime;
        public uint Device; // rdev for character/block devices (old encoding in i_block[0] or new in [1])
    }

    public sealed partial class Ext2FileSystem
    {
        const int LinkMax = 65000;

        byte[] CheckName(string name, out int error)
        {
            error = 0;
            if (name == null || name.Length == 0) { error = -Errno.ENOENT; return null; }
            byte[] bytes = Utf8Names.Encode(name);
            if (bytes.Length > 255) { error = -Errno.ENAMETOOLONG; return null; }
            for (int i = 0; i < bytes.Length; i++) if (bytes[i] == '/' || bytes[i] == 0) { error = -Errno.EINVAL; return null; }
            return bytes;
        }

        static bool IsDotName(byte[] name) => name.Length == 1 && name[0] == '.' || name.Length == 2 && name[0] == '.' && name[1] == '.';

        Ext2Inode LiveDirectory(uint number, out int error)
        {
            Ext2Inode dir = LiveInode(number);
            error = dir.IsDirectory ? 0 : -Errno.ENOTDIR;
            return dir;
        }

        // ---- Reading ----

        public int Lookup(uint directory, string name, out uint inode)
        {
            inode = 0;
            try
            {
                Ext2Inode dir = LiveDirectory(directory, out int error);
                if (error != 0) return error;
                byte[] bytes = CheckName(name, out error);
                if (error != 0) return error;
                if (!FindEntry(dir, bytes, out EntryPlace place)) return -Errno.ENOENT;
                if (place.Inode == 0 || place.Inode > sb.InodesCount) throw StorageException.Corrupt("entry names inode " + place.Inode);
                inode = place.Inode;
                return 0;
            }
            catch (StorageException e) { return Fail(e, false); }
        }

        public int GetAttributes(uint number, out Ext2Stat stat)
        {
            stat = default;
            try
            {
                Ext2Inode inode = LiveInode(number);
                stat.Inode = number;
                stat.Mode = inode.Mode;
                stat.Uid = inode.Uid;
                stat.Gid = inode.Gid;
                stat.Links = inode.LinksCount;
                stat.Size = inode.Size;
                stat.Blocks512 = inode.Blocks512;
                stat.Atime = inode.Atime;
                stat.Mtime = inode.Mtime;
                stat.Ctime = inode.Ctime;
                if (inode.Type == Ext2.ModeCharacter || inode.Type == Ext2.ModeBlock)
                    stat.Device = inode.Block[0] != 0 ? inode.Block[0] : inode.Block[1];
                return 0;
            }
            catch (StorageException e) { return Fail(e, false); }
        }

        /// <summary>Reads up to count bytes at offset of a regular file: the count read, or -errno.</summary>
        public int Read(uint number, long offset, byte[] buffer, int bufferOffset, int count)
        {
            if (offset < 0 || count < 0 || bufferOffset < 0 || bufferOffset + count > buffer.Length) return -Errno.EINVAL;
            try
            {
                Ext2Inode inode = LiveInode(number);
                if (inode.IsDirectory) return -Errno.EISDIR;
                if (!inode.IsRegular) return -Errno.EINVAL;
                if (inode.Size > MaxFileSize) throw StorageException.Corrupt("inode " + number + " has size " + inode.Size);
                return ReadData(inode, offset, buffer, bufferOffset, count);
            }
            catch (StorageException e) { return Fail(e, false); }
        }

        /// <summary>The entry at or after position in a directory: 1 with an entry, 0 at the end, or -errno.</summary>
        public int ReadDirectory(uint directory, long position, out Ext2DirectoryEntry entry)
        {
            entry = default;
            try
            {
                Ext2Inode dir = LiveDirectory(directory, out int error);
                if (error != 0) return error;
                return NextEntry(dir, position, out entry) ? 1 : 0;
            }
            catch (StorageException e) { return Fail(e, false); }
        }

        public int ReadLink(uint number, out string target)
        {
            target = null;
            try
            {
                Ext2Inode inode = LiveInode(number);
                if (!inode.IsSymlink) return -Errno.EINVAL;
                if (inode.Size <= 0 || inode.Size >= blockSize) throw StorageException.Corrupt("symlink " + number + " has length " + inode.Size);
                int length = (int)inode.Size;
                byte[] bytes = new byte[length];
                if (IsFastSymlink(inode))
                {
                    for (int i = 0; i < length; i++) bytes[i] = (byte)(inode.Block[i / 4] >> (8 * (i % 4)));
                }
                else
                {
                    uint block = inode.Block[0];
                    CheckDataBlock(block, inode);
                    if (block == 0) throw StorageException.Corrupt("symlink " + number + " has no block");
                    Array.Copy(cache.Get(block).Data, 0, bytes, 0, length);
                }
                target = Utf8Names.Decode(bytes, 0, length);
                return 0;
            }
            catch (StorageException e) { return Fail(e, false); }
        }

        // ---- Creating ----

        /// <summary>Creates a regular file (or fifo/socket/device node by mode's type).</summary>
        public int Create(uint directory, string name, uint mode, uint uid, uint gid, out uint inode)
        {
            if ((mode & Ext2.ModeTypeMask) == 0) mode |= Ext2.ModeRegular;
            if ((mode & Ext2.ModeTypeMask) == Ext2.ModeDirectory || (mode & Ext2.ModeTypeMask) == Ext2.ModeSymlink) { inode = 0; return -Errno.EINVAL; }
            return MakeNode(directory, name, mode, uid, gid, null, out inode);
        }

        public int MakeDirectory(uint directory, string name, uint mode, uint uid, uint gid, out uint inode) =>
            MakeNode(directory, name, (mode & 0xFFF) | Ext2.ModeDirectory, uid, gid, null, out inode);

        public int Symlink(uint directory, string name, string target, uint uid, uint gid, out uint inode)
        {
            inode = 0;
            if (target == null || target.Length == 0) return -Errno.ENOENT;
            byte[] bytes = Utf8Names.Encode(target);
            if (bytes.Length >= blockSize) return -Errno.ENAMETOOLONG;
            return MakeNode(directory, name, Ext2.ModeSymlink | 0x1FF, uid, gid, bytes, out inode);
        }

        int MakeNode(uint directory, string name, uint mode, uint uid, uint gid, byte[] linkTarget, out uint number)
        {
            number = 0;
            int error = BeginChange();
            if (error != 0) return error;
            bool changed = false;
            try
            {
                Ext2Inode dir = LiveDirectory(directory, out error);
                if (error != 0) return error;
                byte[] bytes = CheckName(name, out error);
                if (error != 0) return error;
                if (IsDotName(bytes) || FindEntry(dir, bytes, out _)) return -Errno.EEXIST;
                bool isDirectory = (mode & Ext2.ModeTypeMask) == Ext2.ModeDirectory;
                if (isDirectory && dir.LinksCount >= LinkMax) return -Errno.EMLINK;
                int spare = isDirectory ? 2 : linkTarget != null && linkTarget.Length >= Ext2.FastSymlinkMax ? 1 : 0;
                if (sb.FreeBlocks < (uint)(spare + 4)) return -Errno.ENOSPC;

                changed = true;
                uint fresh = AllocateInode(directory, isDirectory);
                if (fresh == 0) return -Errno.ENOSPC;
                ClearInodeRecord(fresh);
                uint now = Now();
                var inode = new Ext2Inode
                {
                    Number = fresh, Mode = mode, Uid = uid, Gid = gid, LinksCount = isDirectory ? 2u : 1u,
                    Atime = now, Ctime = now, Mtime = now, Generation = ++generation,
                };
                if (isDirectory)
                {
                    if (!InitializeDirectory(inode, directory)) throw new StorageException(Errno.ENOSPC, "ext2: no space for a directory block");
                }
                else if (linkTarget != null)
                {
                    inode.Size = linkTarget.Length;
                    if (linkTarget.Length < Ext2.FastSymlinkMax)
                        for (int i = 0; i < linkTarget.Length; i++) inode.Block[i / 4] |= (uint)linkTarget[i] << (8 * (i % 4));
                    else
                    {
                        uint block = MapBlock(inode, 0, true, out _);
                        if (block == 0) throw new StorageException(Errno.ENOSPC, "ext2: no space for a symlink block");
                        CachedBlock buffer = cache.GetZeroed(block);
                        Array.Copy(linkTarget, 0, buffer.Data, 0, linkTarget.Length);
                        Dirty(buffer);
                    }
                }
                WriteInode(inode);
                if (!AddEntry(dir, bytes, fresh, Ext2.FileTypeOf(mode))) throw new StorageException(Errno.ENOSPC, "ext2: no space for a directory entry");
                if (isDirectory) dir.LinksCount++;
                dir.Mtime = dir.Ctime = now;
                WriteInode(dir);
                number = fresh;
                return 0;
            }
            catch (StorageException e) { return Fail(e, changed); }
        }

        public int Link(uint number, uint directory, string name)
        {
            int error = BeginChange();
            if (error != 0) return error;
            bool changed = false;
            try
            {
                Ext2Inode inode = LiveInode(number);
                if (inode.IsDirectory) return -Errno.EPERM;
                if (inode.LinksCount >= LinkMax) return -Errno.EMLINK;
                Ext2Inode dir = LiveDirectory(directory, out error);
                if (error != 0) return error;
                byte[] bytes = CheckName(name, out error);
                if (error != 0) return error;
                if (IsDotName(bytes) || FindEntry(dir, bytes, out _)) return -Errno.EEXIST;
                changed = true;
                if (!AddEntry(dir, bytes, number, Ext2.FileTypeOf(inode.Mode))) return -Errno.ENOSPC;
                uint now = Now();
                if (dir.Number == inode.Number) throw StorageException.Corrupt("linking a directory into itself");
                inode.LinksCount++;
                inode.Ctime = now;
                WriteInode(inode);
                dir.Mtime = dir.Ctime = now;
                WriteInode(dir);
                return 0;
            }
            catch (StorageException e) { return Fail(e, changed); }
        }

        // ---- Removing ----

        public int Unlink(uint directory, string name) => Remove(directory, name, false);
        public int RemoveDirectory(uint directory, string name) => Remove(directory, name, true);

        int Remove(uint directory, string name, bool wantDirectory)
        {
            int error = BeginChange();
            if (error != 0) return error;
            bool changed = false;
            try
            {
                Ext2Inode dir = LiveDirectory(directory, out error);
                if (error != 0) return error;
                byte[] bytes = CheckName(name, out error);
                if (error != 0) return error;
                if (IsDotName(bytes)) return wantDirectory ? (bytes.Length == 1 ? -Errno.EINVAL : -Errno.ENOTEMPTY) : -Errno.EISDIR;
                if (!FindEntry(dir, bytes, out EntryPlace place)) return -Errno.ENOENT;
                Ext2Inode victim = LiveInode(place.Inode);
                if (wantDirectory && !victim.IsDirectory) return -Errno.ENOTDIR;
                if (!wantDirectory && victim.IsDirectory) return -Errno.EISDIR;
                if (wantDirectory && !IsEmptyDirectory(victim)) return -Errno.ENOTEMPTY;
                changed = true;
                uint now = Now();
                if (!wantDirectory && victim.LinksCount == 1 && victim.Blocks512 > 0 && journal != null)
                    ShrinkBeforeRemoval(victim);
                RemoveEntry(dir, place);
                DropLink(victim, dir, now);
                dir.Mtime = dir.Ctime = now;
                WriteInode(dir);
                return 0;
            }
            catch (StorageException e) { return Fail(e, changed); }
        }

        /// <summary>A large file's blocks are freed in committed steps while it is still linked, so
        /// no transaction outgrows the journal; the last step removes the name.</summary>
        void ShrinkBeforeRemoval(Ext2Inode victim)
        {
            if (!victim.IsRegular) return;
            commitPointsAllowed = true;
            try { FreeBlocksFrom(victim, 0); }
            finally { commitPointsAllowed = false; }
            WriteInode(victim);
        }

        /// <summary>Takes one name away from an inode whose entry is already gone from parent;
        /// frees it at zero links (a directory holds two: its entry and its ".").</summary>
        void DropLink(Ext2Inode victim, Ext2Inode parent, uint now)
        {
            victim.Ctime = now;
            if (victim.IsDirectory)
            {
                if (parent.LinksCount > 2) parent.LinksCount--;
                DestroyInode(victim);
                return;
            }
            if (victim.LinksCount > 0) victim.LinksCount--;
            if (victim.LinksCount == 0) DestroyInode(victim);
            else WriteInode(victim);
        }

        // ---- Rename ----

        /// <summary>Rename's and Exchange's arguments checked: both directories live, both names
        /// valid and neither "." nor "..".</summary>
        int TwoNames(uint fromDirectory, string fromName, uint toDirectory, string toName, out Ext2Inode from, out Ext2Inode to, out byte[] oldName, out byte[] newName)
        {
            to = null; oldName = newName = null;
            from = LiveDirectory(fromDirectory, out int error);
            if (error != 0) return error;
            to = fromDirectory == toDirectory ? from : LiveDirectory(toDirectory, out error);
            if (error != 0) return error;
            oldName = CheckName(fromName, out error);
            if (error != 0) return error;
            newName = CheckName(toName, out error);
            if (error != 0) return error;
            return IsDotName(oldName) || IsDotName(newName) ? -Errno.EBUSY : 0;
        }

        public int Rename(uint fromDirectory, string fromName, uint toDirectory, string toName)
        {
            int error = BeginChange();
            if (error != 0) return error;
            bool changed = false;
            try
            {
                error = TwoNames(fromDirectory, fromName, toDirectory, toName, out Ext2Inode from, out Ext2Inode to, out byte[] oldName, out byte[] newName);
                if (error != 0) return error;
                if (!FindEntry(from, oldName, out EntryPlace source)) return -Errno.ENOENT;
                Ext2Inode moving = LiveInode(source.Inode);
                if (moving.IsDirectory && fromDirectory != toDirectory && IsSameOrBelow(toDirectory, moving.Number)) return -Errno.EINVAL;
                bool hasTarget = FindEntry(to, newName, out EntryPlace target);
                Ext2Inode replaced = null;
                if (hasTarget)
                {
                    if (target.Inode == source.Inode) return 0;
                    replaced = LiveInode(target.Inode);
                    if (moving.IsDirectory && !replaced.IsDirectory) return -Errno.ENOTDIR;
                    if (!moving.IsDirectory && replaced.IsDirectory) return -Errno.EISDIR;
                    if (replaced.IsDirectory && !IsEmptyDirectory(replaced)) return -Errno.ENOTEMPTY;
                }
                if (moving.IsDirectory && fromDirectory != toDirectory)
                {
                    if (!hasTarget && to.LinksCount >= LinkMax) return -Errno.EMLINK;
                }
                if (!hasTarget && sb.FreeBlocks < 4) return -Errno.ENOSPC;

                changed = true;
                uint now = Now();
                byte type = Ext2.FileTypeOf(moving.Mode);
                if (hasTarget) RetargetEntry(to, target, moving.Number, type);
                else if (!AddEntry(to, newName, moving.Number, type)) throw new StorageException(Errno.ENOSPC, "ext2: no space for a directory entry");
                if (!FindEntry(from, oldName, out source)) throw StorageException.Corrupt("renamed entry vanished");
                RemoveEntry(from, source);
                if (replaced != null)
                {
                    if (replaced.IsDirectory) { replaced.LinksCount = 0; DestroyInode(replaced); if (to.LinksCount > 2) to.LinksCount--; }
                    else DropLink(replaced, to, now);
                }
                if (moving.IsDirectory && fromDirectory != toDirectory)
                {
                    if (!FindEntry(moving, DotDot, out EntryPlace dotDot)) throw StorageException.Corrupt("directory " + moving.Number + " has no ..");
                    RetargetEntry(moving, dotDot, toDirectory, Ext2.FtDirectory);
                    if (from.LinksCount > 2) from.LinksCount--;
                    to.LinksCount++;
                }
                moving.Ctime = now;
                WriteInode(moving);
                from.Mtime = from.Ctime = now;
                to.Mtime = to.Ctime = now;
                WriteInode(from);
                if (to != from) WriteInode(to);
                return 0;
            }
            catch (StorageException e) { return Fail(e, changed); }
        }

        /// <summary>renameat2's RENAME_EXCHANGE: the two names trade inodes, in one transaction.</summary>
        public int Exchange(uint fromDirectory, string fromName, uint toDirectory, string toName)
        {
            int error = BeginChange();
            if (error != 0) return error;
            bool changed = false;
            try
            {
                error = TwoNames(fromDirectory, fromName, toDirectory, toName, out Ext2Inode from, out Ext2Inode to, out byte[] oldName, out byte[] newName);
                if (error != 0) return error;
                if (!FindEntry(from, oldName, out EntryPlace first) || !FindEntry(to, newName, out EntryPlace second)) return -Errno.ENOENT;
                if (first.Inode == second.Inode) return 0;
                Ext2Inode a = LiveInode(first.Inode), b = LiveInode(second.Inode);
                bool across = fromDirectory != toDirectory;
                if (across && a.IsDirectory && IsSameOrBelow(toDirectory, a.Number)) return -Errno.EINVAL;
                if (across && b.IsDirectory && IsSameOrBelow(fromDirectory, b.Number)) return -Errno.EINVAL;

                changed = true;
                uint now = Now();
                RetargetEntry(to, second, a.Number, Ext2.FileTypeOf(a.Mode));
                if (!FindEntry(from, oldName, out first)) throw StorageException.Corrupt("exchanged entry vanished");
                RetargetEntry(from, first, b.Number, Ext2.FileTypeOf(b.Mode));
                if (across)
                {
                    if (a.IsDirectory) MoveDotDot(a, toDirectory);
                    if (b.IsDirectory) MoveDotDot(b, fromDirectory);
                    if (a.IsDirectory && !b.IsDirectory) { from.LinksCount--; to.LinksCount++; }
                    if (b.IsDirectory && !a.IsDirectory) { to.LinksCount--; from.LinksCount++; }
                }
                a.Ctime = b.Ctime = now;
                WriteInode(a);
                WriteInode(b);
                from.Mtime = from.Ctime = now;
                to.Mtime = to.Ctime = now;
                WriteInode(from);
                if (to != from) WriteInode(to);
                return 0;
            }
            catch (StorageException e) { return Fail(e, changed); }
        }

        void MoveDotDot(Ext2Inode directory, uint parent)
        {
            if (!FindEntry(directory, DotDot, out EntryPlace dotDot)) throw StorageException.Corrupt("directory " + directory.Number + " has no ..");
            RetargetEntry(directory, dotDot, parent, Ext2.FtDirectory);
        }

        /// <summary>Whether directory `start` is `ancestor` or lies below it (walking ".." to the root).</summary>
        bool IsSameOrBelow(uint start, uint ancestor)
        {
            uint current = start;
            for (int steps = 0; steps < 65536; steps++)
            {
                if (current == ancestor) return true;
                if (current == RootInode) return false;
                Ext2Inode dir = LiveInode(current);
                if (!dir.IsDirectory || !FindEntry(dir, DotDot, out EntryPlace parent)) throw StorageException.Corrupt("directory " + current + " has no ..");
                current = parent.Inode;
            }
            throw StorageException.Corrupt("directory parents form a loop");
        }

        // ---- Contents and attributes ----

        /// <summary>Writes count bytes at offset of a regular file: the count written, or -errno.</summary>
        public int Write(uint number, long offset, byte[] buffer, int bufferOffset, int count)
        {
            if (offset < 0 || count < 0 || bufferOffset < 0 || bufferOffset + count > buffer.Length) return -Errno.EINVAL;
            int error = BeginChange();
            if (error != 0) return error;
            bool changed = false;
            try
            {
                Ext2Inode inode = LiveInode(number);
                if (inode.IsDirectory) return -Errno.EISDIR;
                if (!inode.IsRegular) return -Errno.EINVAL;
                if (offset + count > MaxFileSize) return -Errno.EFBIG;
                if (count == 0) return 0;
                changed = true;
                commitPointsAllowed = true;
                int written;
                try { written = WriteData(inode, offset, buffer, bufferOffset, count, false); }
                finally { commitPointsAllowed = false; }
                if (written > 0)
                {
                    if (inode.Size > int.MaxValue) SetLargeFile();
                    uint now = Now();
                    inode.Mtime = inode.Ctime = now;
                }
                WriteInode(inode);
                return written;
            }
            catch (StorageException e) { return Fail(e, changed); }
        }

        public int Truncate(uint number, long size)
        {
            if (size < 0) return -Errno.EINVAL;
            int error = BeginChange();
            if (error != 0) return error;
            bool changed = false;
            try
            {
                Ext2Inode inode = LiveInode(number);
                if (inode.IsDirectory) return -Errno.EISDIR;
                if (!inode.IsRegular) return -Errno.EINVAL;
                if (size > MaxFileSize) return -Errno.EFBIG;
                changed = true;
                commitPointsAllowed = true;
                try { ResizeFile(inode, size); }
                finally { commitPointsAllowed = false; }
                if (size > int.MaxValue) SetLargeFile();
                inode.Mtime = inode.Ctime = Now();
                WriteInode(inode);
                return 0;
            }
            catch (StorageException e) { return Fail(e, changed); }
        }

        void SetLargeFile()
        {
            if ((sb.FeatureRoCompat & Ext2.RoCompatLargeFile) != 0) return;
            sb.FeatureRoCompat |= Ext2.RoCompatLargeFile;
            StoreSuperblock();
        }

        public int SetMode(uint number, uint mode) => ChangeInode(number, inode => inode.Mode = (inode.Mode & Ext2.ModeTypeMask) | (mode & 0xFFF));

        public int SetOwner(uint number, uint uid, uint gid) => ChangeInode(number, inode => { inode.Uid = uid; inode.Gid = gid; });

        public int SetTimes(uint number, uint atime, uint mtime) => ChangeInode(number, inode => { inode.Atime = atime; inode.Mtime = mtime; });

        int ChangeInode(uint number, Action<Ext2Inode> change)
        {
            int error = BeginChange();
            if (error != 0) return error;
            try
            {
                Ext2Inode inode = LiveInode(number);
                change(inode);
                inode.Ctime = Now();
                WriteInode(inode);
                return 0;
            }
            catch (StorageException e) { return Fail(e, true); }
        }
    }
}
