// Linux x86-64's binary layouts of the file calls' structures, written into libOS-addressable
// memory (a buffer the caller checked or its own): struct stat (144 bytes), struct statx (256),
// struct linux_dirent64 (8-aligned records), struct statfs (120). Pure logic; the host tests
// compare the offsets with the host's C headers.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    public static unsafe class LinuxLayouts
    {
        public const int StatSize = 144, StatxSize = 256, StatfsSize = 120;
        public const uint STATX_BASIC_STATS = 0x7FF;

        private static void Time(byte* at, long nanoseconds, out long seconds, out long fraction)
        {
            seconds = nanoseconds / 1_000_000_000;
            fraction = nanoseconds % 1_000_000_000;
            if (fraction < 0) { fraction += 1_000_000_000; seconds--; }
        }

        /// <summary>Fills struct stat.</summary>
        public static void WriteStat(byte* s, in StatInfo info)
        {
            // Every byte is written: the fields below, __pad0 (36..40) and __unused[3] (120..144).
            *(uint*)(s + 36) = 0;
            *(ulong*)(s + 120) = 0;
            *(ulong*)(s + 128) = 0;
            *(ulong*)(s + 136) = 0;
            *(ulong*)(s + 0) = info.Device;
            *(ulong*)(s + 8) = info.Inode;
            *(ulong*)(s + 16) = info.Links;
            *(uint*)(s + 24) = info.Mode;
            *(uint*)(s + 28) = info.Uid;
            *(uint*)(s + 32) = info.Gid;
            *(ulong*)(s + 40) = info.RDevice;
            *(long*)(s + 48) = info.Size;
            *(long*)(s + 56) = info.BlockSize;
            *(long*)(s + 64) = info.Blocks;
            WriteTimespec(s + 72, info.AccessTime);
            WriteTimespec(s + 88, info.ModifyTime);
            WriteTimespec(s + 104, info.ChangeTime);
        }

        /// <summary>A struct timespec (seconds, nanoseconds) from nanoseconds since the epoch.</summary>
        public static void WriteTimespec(byte* at, long nanoseconds)
        {
            Time(at, nanoseconds, out long seconds, out long fraction);
            *(long*)at = seconds;
            *(long*)(at + 8) = fraction;
        }

        /// <summary>Fills struct statx with the basic fields (stx_mask = STATX_BASIC_STATS).</summary>
        public static void WriteStatx(byte* s, in StatInfo info)
        {
            for (int i = 0; i < StatxSize / 8; i++) ((ulong*)s)[i] = 0;
            *(uint*)(s + 0) = STATX_BASIC_STATS;
            *(uint*)(s + 4) = (uint)info.BlockSize;
            *(uint*)(s + 16) = (uint)info.Links;
            *(uint*)(s + 20) = info.Uid;
            *(uint*)(s + 24) = info.Gid;
            *(ushort*)(s + 28) = (ushort)info.Mode;
            *(ulong*)(s + 32) = info.Inode;
            *(ulong*)(s + 40) = (ulong)info.Size;
            *(ulong*)(s + 48) = (ulong)info.Blocks;
            WriteStatxTime(s + 64, info.AccessTime);
            WriteStatxTime(s + 96, info.ChangeTime);
            WriteStatxTime(s + 112, info.ModifyTime);
            *(uint*)(s + 128) = LinuxFile.Major(info.RDevice);
            *(uint*)(s + 132) = LinuxFile.Minor(info.RDevice);
            *(uint*)(s + 136) = LinuxFile.Major(info.Device);
            *(uint*)(s + 140) = LinuxFile.Minor(info.Device);
        }

        private static void WriteStatxTime(byte* at, long nanoseconds)
        {
            Time(at, nanoseconds, out long seconds, out long fraction);
            *(long*)at = seconds;
            *(uint*)(at + 8) = (uint)fraction;
            *(int*)(at + 12) = 0;
        }

        /// <summary>Bytes one dirent64 record with a name of nameLength bytes takes (8-aligned).</summary>
        public static int DirentSize(int nameLength) => (19 + nameLength + 1 + 7) & ~7;

        /// <summary>Writes one linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name + NUL (+ zero padding).</summary>
        public static void WriteDirent(byte* d, ulong inode, long nextOffset, byte type, string name)
        {
            int size = DirentSize(name.Length);
            *(ulong*)d = inode;
            *(long*)(d + 8) = nextOffset;
            *(ushort*)(d + 16) = (ushort)size;
            d[18] = type;
            for (int i = 0; i < name.Length; i++) d[19 + i] = (byte)name[i];
            for (int i = 19 + name.Length; i < size; i++) d[i] = 0;
        }

        /// <summary>Fills struct statfs.</summary>
        public static void WriteStatfs(byte* s, ulong type, long blocks, long freeBlocks, long files, long freeFiles, ulong device)
        {
            for (int i = 0; i < StatfsSize; i++) s[i] = 0;
            *(long*)(s + 0) = (long)type;
            *(long*)(s + 8) = 4096;          // f_bsize
            *(long*)(s + 16) = blocks;
            *(long*)(s + 24) = freeBlocks;
            *(long*)(s + 32) = freeBlocks;   // f_bavail
            *(long*)(s + 40) = files;
            *(long*)(s + 48) = freeFiles;
            *(int*)(s + 56) = (int)(device & 0xFFFFFFFF); // f_fsid
            *(int*)(s + 60) = (int)(device >> 32);
            *(long*)(s + 64) = LinuxFile.NameMax; // f_namelen
            *(long*)(s + 72) = 4096;         // f_frsize
            *(long*)(s + 80) = 0x20;         // f_flags: ST_VALID
        }
    }
}
