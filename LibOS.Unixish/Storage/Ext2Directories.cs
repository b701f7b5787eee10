// Directory blocks: linear lists of entries (inode, rec_len, name_len, file_type, name). An
// htree-indexed directory (dir_index) reads the same way: its index blocks look like empty
// entries. Changing an indexed directory clears EXT2_INDEX_FL, as Linux without htree support
// does; e2fsck accepts the result (and -D can rebuild the index).
//
// Checks on every entry read: rec_len at least 8, a multiple of 4 and inside the block; the name
// inside rec_len; the inode number in range. A violation is a corruption error, never a loop.
using System;
using Aegis.LibOS.Unixish.Linux;

namespace Aegis.LibOS.Unixish.Storage
{
    /// <summary>One entry returned by ReadDirectory.</summary>
    public struct Ext2DirectoryEntry
    {
        public uint Inode;
        public byte FileType; // Ext2.Ft* (0 when the file system has no filetype feature)
        public string Name;
        /// <summary>The position to pass for the entry after this one.</summary>
        public long Next;
    }

    public sealed partial class Ext2FileSystem
    {
        struct EntryPlace
        {
            public uint Physical;
            public int Offset, RecLength, Previous; // Previous: offset of the entry before, -1 at a block start
            public uint Inode;
        }

        long DirectoryBlocks(Ext2Inode dir)
        {
            // A directory has no holes: its blocks fit in i_blocks (which also counts indirect blocks).
            if (dir.Size % blockSize != 0 || dir.Size / blockSize >= MaxFileBlocks || dir.Size / blockSize > dir.Blocks512 / (blockSize / 512))
                throw StorageException.Corrupt("directory " + dir.Number + " has size " + dir.Size + " for " + dir.Blocks512 + " sectors");
            return dir.Size / blockSize;
        }

        /// <summary>Validates the entry at offset and returns its record length.</summary>
        int ReadEntry(byte[] data, int offset, Ext2Inode dir, out uint inode, out int nameLength, out byte type)
        {
            if (offset + 8 > blockSize) throw StorageException.Corrupt("directory " + dir.Number + ": entry header past the block");
            inode = Bytes.U32(data, offset);
            int recLength = Bytes.U16(data, offset + 4);
            if (hasFileType) { nameLength = data[offset + 6]; type = data[offset + 7]; }
            else { nameLength = Bytes.U16(data, offset + 6) & 0xFF; type = 0; }
            if (recLength < 8 || (recLength & 3) != 0 || offset + recLength > blockSize || 8 + nameLength > recLength)
                throw StorageException.Corrupt("directory " + dir.Number + ": bad entry at offset " + offset + " (rec_len " + recLength + ", name_len " + nameLength + ")");
            if (inode > sb.InodesCount) throw StorageException.Corrupt("directory " + dir.Number + ": entry names inode " + inode);
            return recLength;
        }

        static bool NameEquals(byte[] data, int offset, int length, byte[] name)
        {
            if (length != name.Length) return false;
            for (int i = 0; i < length; i++) if (data[offset + i] != name[i]) return false;
            return true;
        }

        bool FindEntry(Ext2Inode dir, byte[] name, out EntryPlace place)
        {
            int indexed = FindIndexed(dir, name, out place);
            if (indexed >= 0) return indexed == 1;
            place = default;
            long blocks = DirectoryBlocks(dir);
            for (long logical = 0; logical < blocks; logical++)
            {
                uint physical = MapBlock(dir, logical, false, out _);
                if (physical == 0) continue;
                byte[] data = cache.Get(physical).Data;
                int previous = -1;
                for (int offset = 0; offset < blockSize;)
                {
                    int recLength = ReadEntry(data, offset, dir, out uint inode, out int nameLength, out _);
                    if (inode != 0 && NameEquals(data, offset + 8, nameLength, name))
                    {
                        place = new EntryPlace { Physical = physical, Offset = offset, RecLength = recLength, Previous = previous, Inode = inode };
                        return true;
                    }
                    previous = offset;
                    offset += recLength;
                }
            }
            return false;
        }

        /// <summary>Adds an entry; false when the disk is full.</summary>
        bool AddEntry(Ext2Inode dir, byte[] name, uint inode, byte type)
        {
            int needed = Ext2.EntrySize(name.Length);
            long blocks = DirectoryBlocks(dir);
            ClearIndex(dir);
            long hint = AppendHint(dir);
            if (hint >= 0 && hint < blocks && TryAddInBlock(dir, hint, name, inode, type, needed, AppendOffsetOf(dir))) return true;
            for (long logical = 0; logical < blocks; logical++)
                if (TryAddInBlock(dir, logical, name, inode, type, needed, 0)) return true;
            dir.AllocationHint = 0;
            uint fresh = MapBlock(dir, blocks, true, out bool isNew);
            if (fresh == 0) return false;
            CachedBlock block = cache.GetZeroed(fresh);
            PutEntry(block.Data, 0, blockSize, inode, name, type);
            Dirty(block);
            dir.Size += blockSize;
            IndexAdded(dir, name, fresh, 0, blocks);
            return true;
        }

        /// <summary>Puts the entry in the directory's logical block when it has room there.</summary>
        bool TryAddInBlock(Ext2Inode dir, long logical, byte[] name, uint inode, byte type, int needed, int start)
        {
            uint physical = MapBlock(dir, logical, false, out _);
            if (physical == 0) return false;
            byte[] data = cache.Get(physical).Data;
            for (int offset = start; offset < blockSize;)
            {
                int recLength = ReadEntry(data, offset, dir, out uint used, out int nameLength, out _);
                int occupied = used == 0 ? 0 : Ext2.EntrySize(nameLength);
                if (recLength - occupied >= needed)
                {
                    CachedBlock buffer = cache.Get(physical);
                    int at = offset;
                    int length = recLength;
                    if (occupied > 0)
                    {
                        Bytes.PutU16(buffer.Data, offset + 4, (uint)occupied);
                        at = offset + occupied;
                        length = recLength - occupied;
                    }
                    PutEntry(buffer.Data, at, length, inode, name, type);
                    Dirty(buffer);
                    IndexAdded(dir, name, physical, at, logical);
                    return true;
                }
                offset += recLength;
            }
            return false;
        }

        void PutEntry(byte[] data, int offset, int recLength, uint inode, byte[] name, byte type)
        {
            Bytes.PutU32(data, offset, inode);
            Bytes.PutU16(data, offset + 4, (uint)recLength);
            data[offset + 6] = (byte)name.Length;
            data[offset + 7] = hasFileType ? type : (byte)0;
            Array.Copy(name, 0, data, offset + 8, name.Length);
        }

        /// <summary>Removes an entry found by FindEntry (merged into the previous one, or zeroed at a block start).</summary>
        void RemoveEntry(Ext2Inode dir, EntryPlace place)
        {
            ClearIndex(dir);
            CachedBlock buffer = cache.Get(place.Physical);
            IndexRemoved(dir, place, buffer.Data);
            if (place.Previous >= 0)
            {
                int previousLength = Bytes.U16(buffer.Data, place.Previous + 4);
                Bytes.PutU16(buffer.Data, place.Previous + 4, (uint)(previousLength + place.RecLength));
            }
            else Bytes.PutU32(buffer.Data, place.Offset, 0);
            Dirty(buffer);
        }

        /// <summary>Points an existing entry at another inode (rename over a target, a moved directory's "..").</summary>
        void RetargetEntry(Ext2Inode dir, EntryPlace place, uint inode, byte type)
        {
            ClearIndex(dir);
            CachedBlock buffer = cache.Get(place.Physical);
            Bytes.PutU32(buffer.Data, place.Offset, inode);
            if (hasFileType) buffer.Data[place.Offset + 7] = type;
            Dirty(buffer);
        }

        void ClearIndex(Ext2Inode dir) => dir.Flags &= ~Ext2.IndexFlag;

        /// <summary>True when the directory holds nothing but "." and "..".</summary>
        bool IsEmptyDirectory(Ext2Inode dir)
        {
            long blocks = DirectoryBlocks(dir);
            for (long logical = 0; logical < blocks; logical++)
            {
                uint physical = MapBlock(dir, logical, false, out _);
                if (physical == 0) continue;
                byte[] data = cache.Get(physical).Data;
                for (int offset = 0; offset < blockSize;)
                {
                    int recLength = ReadEntry(data, offset, dir, out uint inode, out int nameLength, out _);
                    if (inode != 0)
                    {
                        bool dot = nameLength == 1 && data[offset + 8] == '.';
                        bool dotDot = nameLength == 2 && data[offset + 8] == '.' && data[offset + 9] == '.';
                        if (!dot && !dotDot) return false;
                    }
                    offset += recLength;
                }
            }
            return true;
        }

        /// <summary>Writes "." and ".." into a new directory's first block.</summary>
        bool InitializeDirectory(Ext2Inode dir, uint parent)
        {
            uint block = MapBlock(dir, 0, true, out _);
            if (block == 0) return false;
            CachedBlock buffer = cache.GetZeroed(block);
            PutEntry(buffer.Data, 0, 12, dir.Number, Dot, Ext2.FtDirectory);
            PutEntry(buffer.Data, 12, blockSize - 12, parent, DotDot, Ext2.FtDirectory);
            Dirty(buffer);
            dir.Size = blockSize;
            return true;
        }

        static readonly byte[] Dot = { (byte)'.' };
        static readonly byte[] DotDot = { (byte)'.', (byte)'.' };

        /// <summary>The entry at or after position (a byte offset into the directory); false at the end.</summary>
        bool NextEntry(Ext2Inode dir, long position, out Ext2DirectoryEntry entry)
        {
            entry = default;
            long blocks = DirectoryBlocks(dir);
            if (position < 0) position = 0;
            for (long logical = position / blockSize; logical < blocks; logical++)
            {
                uint physical = MapBlock(dir, logical, false, out _);
                if (physical == 0) continue;
                byte[] data = cache.Get(physical).Data;
                long blockStart = logical * blockSize;
                for (int offset = 0; offset < blockSize;)
                {
                    int recLength = ReadEntry(data, offset, dir, out uint inode, out int nameLength, out byte type);
                    if (inode != 0 && blockStart + offset >= position)
                    {
                        entry.Inode = inode;
                        entry.FileType = type;
                        entry.Name = Utf8Names.Decode(data, offset + 8, nameLength);
                        entry.Next = blockStart + offset + recLength;
                        return true;
                    }
                    offset += recLength;
                }
            }
            return false;
        }
    }
}
