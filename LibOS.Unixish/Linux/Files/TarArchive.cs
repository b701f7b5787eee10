// A reader of POSIX ustar archives (what `tar --format=ustar` writes): the root file system the
// build packs into the linux image. Pure logic over (byte*, length); compiles under the real .NET.
//
// Guarantees: every header is checked before it is used (magic "ustar", the header checksum, octal
// fields, the entry's data lying inside the archive); a corrupt or truncated archive gives a clear
// error naming the entry's offset, never a read outside [data, data + length). The archive ends at
// the first all-zero block (the end marker, two zero blocks; one is accepted, as GNU tar does) or
// exactly at its end. Data is referenced in place (Entry.Data points into the archive).
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public enum TarEntryKind
    {
        Regular, HardLink, Symlink, CharacterDevice, BlockDevice, Directory, Fifo,
    }

    /// <summary>One member of the archive. Path is normalised: no leading "./" or "/", no trailing "/"
    /// ("" is the archive's root directory).</summary>
    public unsafe struct TarEntry
    {
        public string Path;
        public TarEntryKind Kind;
        public uint Mode;       // permission bits (07777)
        public uint Uid, Gid;
        public long ModifyTime; // seconds since the epoch
        public long Size;       // data bytes (regular files)
        public byte* Data;      // the data, inside the archive
        public string LinkTarget; // symlinks: the target text; hard links: the normalised path linked to
        public uint DeviceMajor, DeviceMinor;
        public long HeaderOffset;
    }

    public static unsafe class TarArchive
    {
        public const int BlockSize = 512;

        /// <summary>Reads every member into entries: null, or the error that stopped the reading
        /// (entries then holds the members before it).</summary>
        public static string Read(byte* data, long length, List<TarEntry> entries)
        {
            if (data == null && length != 0) return "tar: no archive";
            if (length < 0) return "tar: negative archive length";
            long offset = 0;
            while (true)
            {
                if (offset == length) return null; // no end marker: accepted when it ends on a block boundary
                if (length - offset < BlockSize)
                    return "tar: truncated header at offset " + offset.ToString() + " (" + (length - offset).ToString() + " bytes left)";
                byte* header = data + offset;
                if (IsZeroBlock(header)) return null;
                string error = ParseHeader(header, offset, out TarEntry entry);
                if (error != null) return error;
                long dataOffset = offset + BlockSize;
                long padded = (entry.Size + BlockSize - 1) / BlockSize * BlockSize;
                if (entry.Size > length - dataOffset)
                    return "tar: entry '" + entry.Path + "' at offset " + offset.ToString() + " has " + entry.Size.ToString()
                        + " bytes of data but the archive ends " + (length - dataOffset).ToString() + " bytes after its header";
                entry.Data = data + dataOffset;
                entries.Add(entry);
                offset = dataOffset + (padded > length - dataOffset ? length - dataOffset : padded);
            }
        }

        private static bool IsZeroBlock(byte* block)
        {
            for (int i = 0; i < BlockSize; i++)
                if (block[i] != 0) return false;
            return true;
        }

        private static string ParseHeader(byte* h, long offset, out TarEntry entry)
        {
            entry = default;
            entry.HeaderOffset = offset;
            string where = " in the header at offset " + offset.ToString();
            // magic "ustar\0" + version "00" (POSIX) or "ustar " + " \0" (old GNU); only POSIX is accepted.
            if (h[257] != 'u' || h[258] != 's' || h[259] != 't' || h[260] != 'a' || h[261] != 'r' || h[262] != 0)
                return "tar: not a ustar header" + where + " (bad magic)";
            if (!ParseOctal(h + 148, 8, out long storedSum))
                return "tar: bad checksum field" + where;
            long sum = 0;
            for (int i = 0; i < BlockSize; i++)
                sum += (i >= 148 && i < 156) ? (byte)' ' : h[i];
            if (sum != storedSum)
                return "tar: header checksum mismatch" + where + " (stored " + storedSum.ToString() + ", computed " + sum.ToString() + ")";

            string name = Field(h, 100), prefix = Field(h + 345, 155);
            string path = prefix.Length > 0 ? prefix + "/" + name : name;
            if (!ParseOctal(h + 100, 8, out long mode)) return "tar: bad mode field" + where;
            if (!ParseOctal(h + 108, 8, out long uid)) return "tar: bad uid field" + where;
            if (!ParseOctal(h + 116, 8, out long gid)) return "tar: bad gid field" + where;
            if (!ParseOctal(h + 124, 12, out long size)) return "tar: bad size field" + where;
            if (!ParseOctal(h + 136, 12, out long mtime)) return "tar: bad mtime field" + where;
            byte type = h[156];
            switch (type)
            {
                case (byte)'0': case 0: case (byte)'7': entry.Kind = TarEntryKind.Regular; break;
                case (byte)'1': entry.Kind = TarEntryKind.HardLink; break;
                case (byte)'2': entry.Kind = TarEntryKind.Symlink; break;
                case (byte)'3': entry.Kind = TarEntryKind.CharacterDevice; break;
                case (byte)'4': entry.Kind = TarEntryKind.BlockDevice; break;
                case (byte)'5': entry.Kind = TarEntryKind.Directory; break;
                case (byte)'6': entry.Kind = TarEntryKind.Fifo; break;
                default:
                    return "tar: unsupported entry type '" + ((char)type).ToString() + "'" + where + " (only ustar types 0-7)";
            }
            if (entry.Kind == TarEntryKind.CharacterDevice || entry.Kind == TarEntryKind.BlockDevice)
            {
                if (!ParseOctal(h + 329, 8, out long major) || !ParseOctal(h + 337, 8, out long minor))
                    return "tar: bad device number" + where;
                entry.DeviceMajor = (uint)major;
                entry.DeviceMinor = (uint)minor;
            }
            if (entry.Kind != TarEntryKind.Regular) size = 0; // POSIX: no data follows the other types
            entry.Path = Normalize(path);
            if (entry.Path == null) return "tar: bad path '" + path + "'" + where;
            entry.Mode = (uint)(mode & 0xFFF);
            entry.Uid = (uint)uid;
            entry.Gid = (uint)gid;
            entry.ModifyTime = mtime;
            entry.Size = size;
            string link = Field(h + 157, 100);
            if (entry.Kind == TarEntryKind.Symlink)
            {
                if (link.Length == 0) return "tar: symlink '" + entry.Path + "' without a target" + where;
                entry.LinkTarget = link;
            }
            else if (entry.Kind == TarEntryKind.HardLink)
            {
                entry.LinkTarget = Normalize(link);
                if (entry.LinkTarget == null || entry.LinkTarget.Length == 0) return "tar: hard link '" + entry.Path + "' with a bad target" + where;
            }
            return null;
        }

        /// <summary>Drops leading "/" and "./", empty and "." components and the trailing "/"; null if
        /// the path has a ".." component (an archive must not reach outside its root).</summary>
        public static string Normalize(string path)
        {
            string[] parts = path.Split('/');
            var result = new System.Text.StringBuilder();
            for (int i = 0; i < parts.Length; i++)
            {
                string part = parts[i];
                if (part.Length == 0 || part == ".") continue;
                if (part == "..") return null;
                if (result.Length > 0) result.Append('/');
                result.Append(part);
            }
            return result.ToString();
        }

        // A NUL-terminated (or full-width) text field, one char per byte (Linux names are bytes).
        private static string Field(byte* field, int width)
        {
            int length = 0;
            while (length < width && field[length] != 0) length++;
            return PathBytes.ToString(field, length);
        }

        // An octal number field: optional leading spaces, digits, then NUL/space terminators. GNU's
        // base-256 form (high bit of the first byte) is read too, for values octal cannot hold.
        public static bool ParseOctal(byte* field, int width, out long value)
        {
            value = 0;
            if ((field[0] & 0x80) != 0)
            {
                if ((field[0] & 0x40) != 0) return false; // negative
                long v = field[0] & 0x3F;
                for (int i = 1; i < width; i++)
                {
                    if (v > (long.MaxValue >> 8)) return false;
                    v = (v << 8) | field[i];
                }
                value = v;
                return true;
            }
            int at = 0;
            while (at < width && field[at] == ' ') at++;
            bool digits = false;
            while (at < width && field[at] >= '0' && field[at] <= '7')
            {
                if (value > (long.MaxValue >> 3)) return false;
                value = value * 8 + (field[at] - '0');
                at++;
                digits = true;
            }
            while (at < width && (field[at] == ' ' || field[at] == 0)) at++;
            return at == width && (digits || width > 0);
        }
    }

    /// <summary>Linux names are bytes: the VFS holds them as strings of one char per byte (lossless).</summary>
    public static unsafe class PathBytes
    {
        public static string ToString(byte* bytes, int length)
        {
            if (length == 0) return "";
            char[] chars = new char[length];
            for (int i = 0; i < length; i++) chars[i] = (char)bytes[i];
            return new string(chars);
        }

        /// <summary>Copies text (one byte per char) to destination: the count written (at most capacity).</summary>
        public static int Copy(string text, byte* destination, int capacity)
        {
            int count = text.Length < capacity ? text.Length : capacity;
            for (int i = 0; i < count; i++) destination[i] = (byte)text[i];
            return count;
        }

        public static byte[] ToBytes(string text)
        {
            byte[] bytes = new byte[text.Length];
            for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)text[i];
            return bytes;
        }
    }
}
