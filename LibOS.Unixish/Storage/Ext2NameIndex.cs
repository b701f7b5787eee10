// An index of the names of large directories, kept in memory by the library (nothing of it is on
// the disk; ext3's htree blocks are neither read nor written: AddEntry clears a directory's htree
// flag, as before). Without it every create, lookup and unlink read every entry of the directory:
// the 1,000th file of a directory cost ~150,000 instructions in FindEntry and AddEntry. With it,
// FindEntry reads one entry, and AddEntry starts at the block that took the last new name.
//
// Invariants: for an indexed directory, the hash of every live entry's name is in Places and
// points at that entry (its block and offset) — or at Ambiguous when two names share the hash;
// a hash not in Places names no entry. Every change of a directory's entries goes through
// AddEntry, RemoveEntry and RetargetEntry (which keep it: retargeting moves no entry) or drops the
// index (the directory destroyed, a failed operation, DropNameIndexes). An index is only a hint
// where it can be checked: a place it gives is read and its name compared; a mismatch scans.
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Storage
{
    public sealed partial class Ext2FileSystem
    {
        /// <summary>Directories of at least this many blocks get an index when first searched (one
        /// 4 KiB block holds 256 short names: scanning it cost ~10,000 instructions).</summary>
        const int IndexFromBlocks = 1;
        /// <summary>Most directories indexed at once (then every index is dropped and rebuilt on demand).</summary>
        const int MaximumIndexes = 64;
        const ulong Ambiguous = ulong.MaxValue;

        sealed class NameIndex
        {
            public readonly Dictionary<ulong, ulong> Places = new Dictionary<ulong, ulong>(WordComparer.Instance);
            /// <summary>The logical block AddEntry tries first (the one that took the last new name),
            /// and the offset of an entry in it to start looking for room at (an entry's start: kept
            /// so by IndexAdded and IndexRemoved).</summary>
            public long AppendBlock;
            public int AppendOffset;
        }

        sealed class WordComparer : IEqualityComparer<ulong>
        {
            public static readonly WordComparer Instance = new WordComparer();
            public bool Equals(ulong x, ulong y) => x == y;
            public int GetHashCode(ulong value) => (int)value ^ (int)(value >> 32);
        }

        readonly Dictionary<uint, NameIndex> nameIndexes = new Dictionary<uint, NameIndex>();

        /// <summary>Directories indexed (tests).</summary>
        public int IndexedDirectories => nameIndexes.Count;

        /// <summary>Forgets every index (drop_caches; after a failed operation).</summary>
        public void DropNameIndexes() => nameIndexes.Clear();

        static ulong HashName(byte[] data, int offset, int length)
        {
            ulong hash = 0xCBF29CE484222325;
            for (int i = 0; i < length; i++) hash = (hash ^ data[offset + i]) * 0x100000001B3;
            return hash;
        }

        static ulong Pack(uint physical, int offset) => ((ulong)physical << 16) | (uint)offset;

        /// <summary>The directory's index, built now when it is large enough and has none; else null.</summary>
        NameIndex IndexOf(Ext2Inode dir)
        {
            if (nameIndexes.TryGetValue(dir.Number, out NameIndex index)) return index;
            long blocks = DirectoryBlocks(dir);
            if (blocks < IndexFromBlocks || blockSize > 65536) return null;
            index = new NameIndex { AppendBlock = blocks - 1 };
            for (long logical = 0; logical < blocks; logical++)
            {
                uint physical = MapBlock(dir, logical, false, out _);
                if (physical == 0) continue;
                byte[] data = cache.Get(physical).Data;
                for (int offset = 0; offset < blockSize;)
                {
                    int recLength = ReadEntry(data, offset, dir, out uint inode, out int nameLength, out _);
                    if (inode != 0) Put(index, HashName(data, offset + 8, nameLength), physical, offset);
                    offset += recLength;
                }
            }
            if (nameIndexes.Count >= MaximumIndexes) nameIndexes.Clear();
            nameIndexes[dir.Number] = index;
            return index;
        }

        static void Put(NameIndex index, ulong hash, uint physical, int offset)
        {
            ulong place = Pack(physical, offset);
            if (index.Places.TryGetValue(hash, out ulong old) && old != place) index.Places[hash] = Ambiguous;
            else index.Places[hash] = place;
        }

        /// <summary>FindEntry through the index: 1 found, 0 absent, -1 the index cannot say (scan).</summary>
        int FindIndexed(Ext2Inode dir, byte[] name, out EntryPlace place)
        {
            place = default;
            NameIndex index = IndexOf(dir);
            if (index == null) return -1;
            if (!index.Places.TryGetValue(HashName(name, 0, name.Length), out ulong packed)) return 0;
            if (packed == Ambiguous) return -1;
            uint physical = (uint)(packed >> 16);
            int offset = (int)(packed & 0xFFFF);
            byte[] data = cache.Get(physical).Data;
            // The entry before it (RemoveEntry merges into it): one pass over this block.
            // (rec_len only: the entry found is checked in full below; a chain that does not land
            // on the place exactly means the index is wrong here, and the caller scans).
            int previous = -1;
            for (int at = 0; at < offset;)
            {
                int length = data[at + 4] | data[at + 5] << 8;
                if (length < 8 || (length & 3) != 0 || at + length > offset) return -1;
                previous = at;
                at += length;
            }
            int recLength = ReadEntry(data, offset, dir, out uint inode, out int nameLength, out _);
            if (inode == 0 || !NameEquals(data, offset + 8, nameLength, name)) return -1;
            place = new EntryPlace { Physical = physical, Offset = offset, RecLength = recLength, Previous = previous, Inode = inode };
            return 1;
        }

        void IndexAdded(Ext2Inode dir, byte[] name, uint physical, int offset, long logical)
        {
            if (!nameIndexes.TryGetValue(dir.Number, out NameIndex index)) return;
            Put(index, HashName(name, 0, name.Length), physical, offset);
            index.AppendBlock = logical;
            index.AppendOffset = offset;
        }

        void IndexRemoved(Ext2Inode dir, EntryPlace place, byte[] data)
        {
            if (!nameIndexes.TryGetValue(dir.Number, out NameIndex index)) return;
            int nameLength = hasFileType ? data[place.Offset + 6] : data[place.Offset + 6];
            ulong hash = HashName(data, place.Offset + 8, nameLength);
            if (index.Places.TryGetValue(hash, out ulong packed) && packed == Pack(place.Physical, place.Offset)) index.Places.Remove(hash);
            // The removed entry merges into the one before it: room is looked for from there on.
            if (place.Offset <= index.AppendOffset && MapsTo(dir, index.AppendBlock, place.Physical)) index.AppendOffset = place.Previous >= 0 ? place.Previous : 0;
        }

        bool MapsTo(Ext2Inode dir, long logical, uint physical) => MapBlock(dir, logical, false, out _) == physical;

        /// <summary>Where in the append block AddEntry starts looking (0: from its start).</summary>
        int AppendOffsetOf(Ext2Inode dir) => nameIndexes.TryGetValue(dir.Number, out NameIndex index) ? index.AppendOffset : 0;

        void IndexDropped(uint directory) => nameIndexes.Remove(directory);

        /// <summary>The logical block AddEntry tries first, or -1.</summary>
        long AppendHint(Ext2Inode dir) => nameIndexes.TryGetValue(dir.Number, out NameIndex index) ? index.AppendBlock : -1;
    }
}
