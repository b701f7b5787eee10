// ext2/ext3's on-disk structures (the kernel.org "ext4 Data Structures and Algorithms" layout):
// the superblock, group descriptors, inodes and directory entries, read and written
// little-endian at explicit offsets. Only the fields this file system changes are written back;
// every other byte of a structure is left as it was on disk.
using System;
using System.Text;

namespace Aegis.LibOS.Unixish.Storage
{
    /// <summary>Little- and big-endian integers at byte offsets (the journal is big-endian).</summary>
    public static class Bytes
    {
        public static ushort U16(byte[] b, int o) => (ushort)(b[o] | b[o + 1] << 8);
        public static uint U32(byte[] b, int o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);
        public static void PutU16(byte[] b, int o, uint v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); }
        public static void PutU32(byte[] b, int o, uint v) { b[o] = (byte)v; b[o + 1] = (byte)(v >> 8); b[o + 2] = (byte)(v >> 16); b[o + 3] = (byte)(v >> 24); }
        public static uint BigU32(byte[] b, int o) => (uint)(b[o] << 24 | b[o + 1] << 16 | b[o + 2] << 8 | b[o + 3]);
        public static ushort BigU16(byte[] b, int o) => (ushort)(b[o] << 8 | b[o + 1]);
        public static void PutBigU32(byte[] b, int o, uint v) { b[o] = (byte)(v >> 24); b[o + 1] = (byte)(v >> 16); b[o + 2] = (byte)(v >> 8); b[o + 3] = (byte)v; }
        public static void PutBigU16(byte[] b, int o, uint v) { b[o] = (byte)(v >> 8); b[o + 1] = (byte)v; }
    }

    /// <summary>Feature bits, special inodes, flags and file types of ext2/ext3.</summary>
    public static class Ext2
    {
        public const ushort Magic = 0xEF53;
        public const int SuperblockOffset = 1024, SuperblockSize = 1024;
        public const uint RootInode = 2, ResizeInode = 7, JournalInode = 8;
        public const int GoodOldInodeSize = 128, GoodOldFirstInode = 11;
        public const int DirectBlocks = 12, IndirectSlot = 12, DoubleSlot = 13, TripleSlot = 14;
        public const int FastSymlinkMax = 60; // bytes of i_block; a fast symlink holds fewer

        public const uint CompatDirPrealloc = 0x1, CompatImagicInodes = 0x2, CompatHasJournal = 0x4,
            CompatExtAttr = 0x8, CompatResizeInode = 0x10, CompatDirIndex = 0x20;
        public const uint IncompatCompression = 0x1, IncompatFiletype = 0x2, IncompatRecover = 0x4,
            IncompatJournalDev = 0x8, IncompatMetaBg = 0x10, IncompatExtents = 0x40, Incompat64Bit = 0x80,
            IncompatMmp = 0x100, IncompatFlexBg = 0x200;
        public const uint RoCompatSparseSuper = 0x1, RoCompatLargeFile = 0x2, RoCompatBtreeDir = 0x4,
            RoCompatHugeFile = 0x8, RoCompatGdtCsum = 0x10, RoCompatDirNlink = 0x20, RoCompatExtraIsize = 0x40,
            RoCompatMetadataCsum = 0x400;

        /// <summary>INCOMPAT features this code understands (anything else: refused).</summary>
        public const uint IncompatSupported = IncompatFiletype | IncompatRecover;
        /// <summary>RO_COMPAT features it keeps correct when writing (anything else: read-only at most).</summary>
        public const uint RoCompatSupported = RoCompatSparseSuper | RoCompatLargeFile;

        public const uint IndexFlag = 0x1000, ExtentsFlag = 0x80000, InlineDataFlag = 0x10000000;
        public const uint ExtAttrMagic = 0xEA020000;

        public const byte FtUnknown = 0, FtRegular = 1, FtDirectory = 2, FtCharacter = 3, FtBlock = 4,
            FtFifo = 5, FtSocket = 6, FtSymlink = 7;

        public const uint ModeTypeMask = 0xF000, ModeRegular = 0x8000, ModeDirectory = 0x4000, ModeSymlink = 0xA000,
            ModeCharacter = 0x2000, ModeBlock = 0x6000, ModeFifo = 0x1000, ModeSocket = 0xC000;

        public static byte FileTypeOf(uint mode)
        {
            switch (mode & ModeTypeMask)
            {
                case ModeRegular: return FtRegular;
                case ModeDirectory: return FtDirectory;
                case ModeSymlink: return FtSymlink;
                case ModeCharacter: return FtCharacter;
                case ModeBlock: return FtBlock;
                case ModeFifo: return FtFifo;
                case ModeSocket: return FtSocket;
                default: return FtUnknown;
            }
        }

        /// <summary>Bytes a directory entry with a name of this length needs (header + name, 4-aligned).</summary>
        public static int EntrySize(int nameLength) => (8 + nameLength + 3) & ~3;
    }

    /// <summary>The superblock's fields, parsed once at mount; the changing ones are written back
    /// into the cached superblock block by Store.</summary>
    public sealed class Ext2Superblock
    {
        public uint InodesCount, BlocksCount, ReservedBlocks, FreeBlocks, FreeInodes, FirstDataBlock;
        public uint LogBlockSize, BlocksPerGroup, InodesPerGroup, Mtime, Wtime;
        public ushort MountCount, MaxMountCount, Magic, State, Errors;
        public uint RevLevel, FirstInode, InodeSize;
        public uint FeatureCompat, FeatureIncompat, FeatureRoCompat;
        public ushort ReservedGdtBlocks;
        public uint JournalInode, JournalDevice, LastOrphan;
        public uint BlocksCountHigh;
        public ushort DescriptorSize;

        public int BlockSize => 1024 << (int)LogBlockSize;

        public static Ext2Superblock Parse(byte[] b, int o)
        {
            var s = new Ext2Superblock();
            s.InodesCount = Bytes.U32(b, o + 0x00);
            s.BlocksCount = Bytes.U32(b, o + 0x04);
            s.ReservedBlocks = Bytes.U32(b, o + 0x08);
            s.FreeBlocks = Bytes.U32(b, o + 0x0C);
            s.FreeInodes = Bytes.U32(b, o + 0x10);
            s.FirstDataBlock = Bytes.U32(b, o + 0x14);
            s.LogBlockSize = Bytes.U32(b, o + 0x18);
            s.BlocksPerGroup = Bytes.U32(b, o + 0x20);
            s.InodesPerGroup = Bytes.U32(b, o + 0x28);
            s.Mtime = Bytes.U32(b, o + 0x2C);
            s.Wtime = Bytes.U32(b, o + 0x30);
            s.MountCount = Bytes.U16(b, o + 0x34);
            s.MaxMountCount = Bytes.U16(b, o + 0x36);
            s.Magic = Bytes.U16(b, o + 0x38);
            s.State = Bytes.U16(b, o + 0x3A);
            s.Errors = Bytes.U16(b, o + 0x3C);
            s.RevLevel = Bytes.U32(b, o + 0x4C);
            if (s.RevLevel == 0)
            {
                s.FirstInode = Ext2.GoodOldFirstInode;
                s.InodeSize = Ext2.GoodOldInodeSize;
            }
            else
            {
                s.FirstInode = Bytes.U32(b, o + 0x54);
                s.InodeSize = Bytes.U16(b, o + 0x58);
                s.FeatureCompat = Bytes.U32(b, o + 0x5C);
                s.FeatureIncompat = Bytes.U32(b, o + 0x60);
                s.FeatureRoCompat = Bytes.U32(b, o + 0x64);
                s.ReservedGdtBlocks = Bytes.U16(b, o + 0xCE);
                s.JournalInode = Bytes.U32(b, o + 0xE0);
                s.JournalDevice = Bytes.U32(b, o + 0xE4);
                s.LastOrphan = Bytes.U32(b, o + 0xE8);
                s.DescriptorSize = Bytes.U16(b, o + 0xFE);
                s.BlocksCountHigh = Bytes.U32(b, o + 0x150);
            }
            return s;
        }

        /// <summary>Writes the fields this file system changes (counts, state, times, features).</summary>
        public void Store(byte[] b, int o)
        {
            Bytes.PutU32(b, o + 0x0C, FreeBlocks);
            Bytes.PutU32(b, o + 0x10, FreeInodes);
            Bytes.PutU32(b, o + 0x2C, Mtime);
            Bytes.PutU32(b, o + 0x30, Wtime);
            Bytes.PutU16(b, o + 0x34, MountCount);
            Bytes.PutU16(b, o + 0x3A, State);
            if (RevLevel >= 1)
            {
                Bytes.PutU32(b, o + 0x5C, FeatureCompat);
                Bytes.PutU32(b, o + 0x60, FeatureIncompat);
                Bytes.PutU32(b, o + 0x64, FeatureRoCompat);
                Bytes.PutU32(b, o + 0xE8, LastOrphan);
            }
        }
    }

    /// <summary>One block group's descriptor (the 32-byte ext2 form).</summary>
    public struct Ext2GroupDescriptor
    {
        public const int Size = 32;
        public uint BlockBitmap, InodeBitmap, InodeTable;
        public uint FreeBlocks, FreeInodes, UsedDirectories;

        public static Ext2GroupDescriptor Parse(byte[] b, int o) => new Ext2GroupDescriptor
        {
            BlockBitmap = Bytes.U32(b, o + 0x00),
            InodeBitmap = Bytes.U32(b, o + 0x04),
            InodeTable = Bytes.U32(b, o + 0x08),
            FreeBlocks = Bytes.U16(b, o + 0x0C),
            FreeInodes = Bytes.U16(b, o + 0x0E),
            UsedDirectories = Bytes.U16(b, o + 0x10),
        };

        public void StoreCounts(byte[] b, int o)
        {
            Bytes.PutU16(b, o + 0x0C, FreeBlocks);
            Bytes.PutU16(b, o + 0x0E, FreeInodes);
            Bytes.PutU16(b, o + 0x10, UsedDirectories);
        }
    }

    /// <summary>An inode's fields, copied out of the inode table; Store writes them back into the
    /// table's bytes (fields it does not know, such as extended attributes in a large inode, stay).</summary>
    public sealed class Ext2Inode
    {
        public uint Number;
        public uint Mode, Uid, Gid, LinksCount, Flags, Generation, FileAcl, Dtime;
        public uint Atime, Ctime, Mtime;
        public long Size;
        public long Blocks512; // i_blocks: 512-byte units
        public readonly uint[] Block = new uint[15];
        /// <summary>Not on disk: where the next block of a running write should go.</summary>
        public long AllocationHint;

        public uint Type => Mode & Ext2.ModeTypeMask;
        public bool IsDirectory => Type == Ext2.ModeDirectory;
        public bool IsRegular => Type == Ext2.ModeRegular;
        public bool IsSymlink => Type == Ext2.ModeSymlink;

        public static Ext2Inode Parse(uint number, byte[] b, int o)
        {
            var inode = new Ext2Inode { Number = number };
            inode.Mode = Bytes.U16(b, o + 0x00);
            inode.Uid = Bytes.U16(b, o + 0x02) | (uint)Bytes.U16(b, o + 0x78) << 16;
            uint sizeLow = Bytes.U32(b, o + 0x04);
            inode.Atime = Bytes.U32(b, o + 0x08);
            inode.Ctime = Bytes.U32(b, o + 0x0C);
            inode.Mtime = Bytes.U32(b, o + 0x10);
            inode.Dtime = Bytes.U32(b, o + 0x14);
            inode.Gid = Bytes.U16(b, o + 0x18) | (uint)Bytes.U16(b, o + 0x7A) << 16;
            inode.LinksCount = Bytes.U16(b, o + 0x1A);
            inode.Blocks512 = Bytes.U32(b, o + 0x1C) | (long)Bytes.U16(b, o + 0x74) << 32;
            inode.Flags = Bytes.U32(b, o + 0x20);
            for (int i = 0; i < 15; i++) inode.Block[i] = Bytes.U32(b, o + 0x28 + 4 * i);
            inode.Generation = Bytes.U32(b, o + 0x64);
            inode.FileAcl = Bytes.U32(b, o + 0x68);
            uint sizeHigh = inode.Type == Ext2.ModeRegular ? Bytes.U32(b, o + 0x6C) : 0;
            inode.Size = (long)((ulong)sizeHigh << 32 | sizeLow);
            return inode;
        }

        public void Store(byte[] b, int o)
        {
            Bytes.PutU16(b, o + 0x00, Mode);
            Bytes.PutU16(b, o + 0x02, Uid & 0xFFFF);
            Bytes.PutU16(b, o + 0x78, Uid >> 16);
            Bytes.PutU32(b, o + 0x04, (uint)Size);
            Bytes.PutU32(b, o + 0x08, Atime);
            Bytes.PutU32(b, o + 0x0C, Ctime);
            Bytes.PutU32(b, o + 0x10, Mtime);
            Bytes.PutU32(b, o + 0x14, Dtime);
            Bytes.PutU16(b, o + 0x18, Gid & 0xFFFF);
            Bytes.PutU16(b, o + 0x7A, Gid >> 16);
            Bytes.PutU16(b, o + 0x1A, LinksCount);
            Bytes.PutU32(b, o + 0x1C, (uint)Blocks512);
            Bytes.PutU16(b, o + 0x74, (uint)(Blocks512 >> 32));
            Bytes.PutU32(b, o + 0x20, Flags);
            for (int i = 0; i < 15; i++) Bytes.PutU32(b, o + 0x28 + 4 * i, Block[i]);
            Bytes.PutU32(b, o + 0x64, Generation);
            Bytes.PutU32(b, o + 0x68, FileAcl);
            if (Type == Ext2.ModeRegular) Bytes.PutU32(b, o + 0x6C, (uint)((ulong)Size >> 32));
        }
    }

    /// <summary>Names on disk are bytes; the API speaks strings, converted as UTF-8 (ill-formed
    /// bytes read back as U+FFFD).</summary>
    public static class Utf8Names
    {
        static bool IsHigh(char c) => c >= 0xD800 && c <= 0xDBFF;
        static bool IsLow(char c) => c >= 0xDC00 && c <= 0xDFFF;

        public static byte[] Encode(string name)
        {
            int length = 0;
            for (int i = 0; i < name.Length; i++)
            {
                char c = name[i];
                if (c < 0x80) length += 1;
                else if (c < 0x800) length += 2;
                else if (IsHigh(c) && i + 1 < name.Length && IsLow(name[i + 1])) { length += 4; i++; }
                else length += 3;
            }
            var bytes = new byte[length];
            int at = 0;
            for (int i = 0; i < name.Length; i++)
            {
                int c = name[i];
                if (IsHigh(name[i]) && i + 1 < name.Length && IsLow(name[i + 1]))
                {
                    c = 0x10000 + ((c - 0xD800) << 10) + (name[i + 1] - 0xDC00);
                    i++;
                }
                if (c < 0x80) bytes[at++] = (byte)c;
                else if (c < 0x800) { bytes[at++] = (byte)(0xC0 | c >> 6); bytes[at++] = (byte)(0x80 | c & 0x3F); }
                else if (c < 0x10000) { bytes[at++] = (byte)(0xE0 | c >> 12); bytes[at++] = (byte)(0x80 | c >> 6 & 0x3F); bytes[at++] = (byte)(0x80 | c & 0x3F); }
                else { bytes[at++] = (byte)(0xF0 | c >> 18); bytes[at++] = (byte)(0x80 | c >> 12 & 0x3F); bytes[at++] = (byte)(0x80 | c >> 6 & 0x3F); bytes[at++] = (byte)(0x80 | c & 0x3F); }
            }
            return bytes;
        }

        public static string Decode(byte[] b, int offset, int count)
        {
            var text = new StringBuilder(count);
            int i = offset, end = offset + count;
            while (i < end)
            {
                int c = b[i];
                int extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
                if (extra < 0) { text.Append('\uFFFD'); i++; continue; }
                int value = extra == 0 ? c : c & (0x3F >> extra);
                bool ok = true;
                for (int k = 1; k <= extra; k++)
                {
                    if (i + k >= end || (b[i + k] & 0xC0) != 0x80) { ok = false; break; }
                    value = value << 6 | b[i + k] & 0x3F;
                }
                if (!ok || (extra == 1 && value < 0x80) || (extra == 2 && (value < 0x800 || (value >= 0xD800 && value < 0xE000))) || (extra == 3 && (value < 0x10000 || value > 0x10FFFF)))
                {
                    text.Append('\uFFFD'); i++; continue;
                }
                if (value >= 0x10000)
                {
                    value -= 0x10000;
                    text.Append((char)(0xD800 + (value >> 10)));
                    text.Append((char)(0xDC00 + (value & 0x3FF)));
                }
                else text.Append((char)value);
                i += extra + 1;
            }
            return text.ToString();
        }
    }
}
