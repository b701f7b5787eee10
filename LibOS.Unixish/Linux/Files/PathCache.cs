// The client's answers about absolute paths of the shared tree (docs/libos-unixish.md, "Files":
// "Caches"), keyed by the path's bytes exactly as the program passed them: a system call served
// from here makes no string, no dictionary lookup and no request. Pure logic; compiles under the
// real .NET (host-tested: LinuxVfsServerTests, LinuxVfsPathCacheTests).
//
// What a key means: the bytes of an absolute path (no NUL) and the lookup's flags (follow the last
// link or not). An entry is valid only at the tree generation it was taken at (VfsClient compares
// it with the generation the server writes into the buffer); the tables themselves never decide
// validity. Bytes are compared in full (the hash only picks the slot).
//
// Invariants: StatTable holds at most StatLimit entries (then it starts again empty), each key
// once; its remembered last entry is one of them (or null); a slot's Path array is the entry's own
// copy (the caller's bytes are never kept); AnchorTable holds at most AnchorLimit entries, each a
// distinct key.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    public static unsafe class PathKey
    {
        /// <summary>A hash of the length bytes at path (read eight at a time, never past the
        /// length), with the flags and the length mixed in.</summary>
        public static uint Hash(byte* path, int length, int flags)
        {
            const ulong Multiplier = 0x9E3779B97F4A7C15UL;
            ulong hash = ((ulong)(uint)flags << 32 | (uint)length) * Multiplier;
            int i = 0;
            for (; i + 8 <= length; i += 8)
            {
                hash = (hash ^ *(ulong*)(path + i)) * Multiplier;
                hash ^= hash >> 29;
            }
            if (i < length)
            {
                ulong tail = 0;
                for (; i < length; i++) tail = tail << 8 | path[i];
                hash = (hash ^ tail) * Multiplier;
            }
            hash ^= hash >> 32;
            hash *= 0xD6E8FEB86659FD93UL;
            return (uint)(hash ^ hash >> 32);
        }

        /// <summary>Whether key's first length bytes are path's (key is exactly length long).</summary>
        public static bool Same(byte[] key, byte* path, int length)
        {
            if (key.Length != length) return false;
            fixed (byte* k = key)
            {
                int i = 0;
                for (; i + 8 <= length; i += 8)
                    if (*(ulong*)(k + i) != *(ulong*)(path + i)) return false;
                for (; i < length; i++)
                    if (k[i] != path[i]) return false;
            }
            return true;
        }

        public static byte[] Copy(byte* path, int length)
        {
            var key = new byte[length];
            for (int i = 0; i < length; i++) key[i] = path[i];
            return key;
        }
    }

    /// <summary>One kept stat answer: the result (0 or -errno), the inode's StatInfo and, made when
    /// first wanted, the struct stat Linux would write (LinuxLayouts.WriteStat).</summary>
    public sealed class StatEntry
    {
        public byte[] Path;
        public uint Hash;
        public int Flags;
        public ulong Generation;
        public int Result;
        public StatInfo Info;
        public byte[] Image;
    }

    /// <summary>stat answers by (path bytes, flags): an open-addressed table, linear probing.</summary>
    public sealed unsafe class StatTable
    {
        public const int StatLimit = 512;
        private const int Slots = 1024; // a power of two, twice the limit: probes stay short
        private readonly StatEntry[] _slots = new StatEntry[Slots];
        private int _count;
        // The entry the last Find returned (a program repeating a path costs no hash).
        private StatEntry _last;

        public int Count => _count;

        /// <summary>The entry of (path, flags), or null.</summary>
        public StatEntry Find(byte* path, int length, int flags)
        {
            StatEntry last = _last;
            if (last != null && last.Flags == flags && PathKey.Same(last.Path, path, length)) return last;
            StatEntry found = Find(path, length, flags, PathKey.Hash(path, length, flags));
            if (found != null) _last = found;
            return found;
        }

        private StatEntry Find(byte* path, int length, int flags, uint hash)
        {
            for (int i = (int)(hash & (Slots - 1)); ; i = (i + 1) & (Slots - 1))
            {
                StatEntry entry = _slots[i];
                if (entry == null) return null;
                if (entry.Hash == hash && entry.Flags == flags && PathKey.Same(entry.Path, path, length)) return entry;
            }
        }

        /// <summary>The answer for (path, flags) at generation: replaces the key's old one.</summary>
        public void Put(byte* path, int length, int flags, ulong generation, int result, in StatInfo info)
        {
            uint hash = PathKey.Hash(path, length, flags);
            StatEntry entry = Find(path, length, flags, hash);
            if (entry == null)
            {
                if (_count >= StatLimit) Clear();
                entry = new StatEntry { Path = PathKey.Copy(path, length), Hash = hash, Flags = flags };
                int i = (int)(hash & (Slots - 1));
                while (_slots[i] != null) i = (i + 1) & (Slots - 1);
                _slots[i] = entry;
                _count++;
            }
            entry.Generation = generation;
            entry.Result = result;
            entry.Info = info;
            entry.Image = null;
        }

        public void Clear()
        {
            for (int i = 0; i < Slots; i++) _slots[i] = null;
            _count = 0;
            _last = null;
        }
    }

    /// <summary>What an anchor keeps (VfsClient: opening a path again read-only without a request).</summary>
    /// <summary>An anchor: the path's bytes, the closed description kept (its Local holds what
    /// its open learnt: size, first bytes, archive bytes, stat) and the generation that was at.</summary>
    public struct AnchorEntry
    {
        public byte[] Path;
        public RemoteHandle Handle;
        public ulong Generation;
    }

    /// <summary>At most AnchorLimit anchors by path bytes; the oldest goes first when full.</summary>
    public sealed unsafe class AnchorTable
    {
        public const int AnchorLimit = 8;
        private readonly AnchorEntry[] _entries = new AnchorEntry[AnchorLimit];
        private int _count;

        public int Count => _count;
        public ref readonly AnchorEntry this[int index] => ref _entries[index];

        /// <summary>The index of the anchor of path, or -1 (a few entries: compared in turn, no hash).</summary>
        public int Find(byte* path, int length)
        {
            for (int i = 0; i < _count; i++)
                if (PathKey.Same(_entries[i].Path, path, length)) return i;
            return -1;
        }

        /// <summary>Adds an entry (the caller made room: Count &lt; AnchorLimit, key not present).</summary>
        public void Add(byte[] path, RemoteHandle handle, ulong generation)
        {
            ref AnchorEntry entry = ref _entries[_count++];
            entry.Path = path; entry.Handle = handle; entry.Generation = generation;
        }

        /// <summary>Removes entry index; the later ones move down (the oldest stays first).</summary>
        public void RemoveAt(int index)
        {
            for (int i = index; i + 1 < _count; i++) _entries[i] = _entries[i + 1];
            _entries[--_count] = default;
        }

        public void Clear()
        {
            for (int i = 0; i < _count; i++) _entries[i] = default;
            _count = 0;
        }
    }
}
