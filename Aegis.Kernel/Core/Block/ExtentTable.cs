// A disk's extent table (issue #11; docs/abi.md "Disks", docs/kernel.md "Disks"): the on-disk
// record of which named extents of the disk exist — the kernel's whole knowledge of ownership, an
// XN in miniature. Pure logic over byte spans (host-tested; the front door's image tool writes it
// too), no allocation after construction.
//
// On the disk: two copies (BlockLimits.TableCopyA and TableCopyB), each a header sector then
// ExtentRecordSectors sectors of 64 records. Header: magic "AEGISXT1", version 1, record count,
// sequence, the disk's sectors when written, the first extent sector, then an FNV-1a checksum of
// the header's first 48 bytes and of the records. Record: start, sectors, generation, flags (1: in
// use), a 24-byte name. A change is written to the copy not in use with the sequence one higher,
// then flushed: a write torn by a power cut leaves a copy whose checksum fails, and the other
// (older, whole) copy is read at the next boot.
//
// Invariants (checked on every load, kept by every change): in-use extents have a name that no
// other in-use extent has, at least one sector, lie inside [FirstExtentSector, disk sectors) and
// do not overlap.
using System;
using Aegis.Abi;

namespace Aegis.Kernel.Core.Block
{
    public sealed class ExtentTable
    {
        public const ulong Magic = 0x3154584953494745; // "AEGISXT1"
        public const uint Version = 1;
        public const int Records = BlockLimits.MaximumExtents;
        public const int RecordBytes = BlockLimits.ExtentRecordSize;
        public const int RecordArea = Records * RecordBytes;
        /// <summary>Bytes of one copy: the header sector and the records.</summary>
        public const int CopyBytes = BlockLimits.SectorSize + RecordArea;
        private const int HeaderChecked = 48, ChecksumOffset = 48;
        private const uint InUse = 1;

        private readonly ulong[] _start = new ulong[Records];
        private readonly ulong[] _sectors = new ulong[Records];
        private readonly uint[] _generation = new uint[Records];
        private readonly bool[] _inUse = new bool[Records];
        private readonly byte[] _names = new byte[Records * BlockLimits.NameBytes];

        /// <summary>The disk's sectors (what the table is checked against).</summary>
        public ulong DiskSectors { get; private set; }
        /// <summary>The sequence of the copy last read or written.</summary>
        public ulong Sequence { get; private set; }
        /// <summary>Which copy holds Sequence: 0 (A) or 1 (B).</summary>
        public int CurrentCopy { get; private set; }

        public bool IsInUse(int index) => index >= 0 && index < Records && _inUse[index];
        public ulong StartOf(int index) => _start[index];
        public ulong SectorsOf(int index) => _sectors[index];
        public uint GenerationOf(int index) => _generation[index];
        public ReadOnlySpan<byte> NameOf(int index) => Trimmed(new ReadOnlySpan<byte>(_names, index * BlockLimits.NameBytes, BlockLimits.NameBytes));

        public int Count
        {
            get { int n = 0; for (int i = 0; i < Records; i++) if (_inUse[i]) n++; return n; }
        }

        /// <summary>Sectors from FirstExtentSector on that no extent holds.</summary>
        public ulong FreeSectors
        {
            get
            {
                ulong used = 0;
                for (int i = 0; i < Records; i++) if (_inUse[i]) used += _sectors[i];
                ulong usable = DiskSectors > BlockLimits.FirstExtentSector ? DiskSectors - BlockLimits.FirstExtentSector : 0;
                return usable - used;
            }
        }

        /// <summary>An empty table for a disk of diskSectors (a format: nothing is written here).</summary>
        public void Format(ulong diskSectors)
        {
            DiskSectors = diskSectors;
            Sequence = 0;
            CurrentCopy = 1; // the first write goes to copy A
            for (int i = 0; i < Records; i++)
            {
                _start[i] = 0; _sectors[i] = 0; _generation[i] = 0; _inUse[i] = false;
            }
            Array.Clear(_names);
        }

        /// <summary>Loads the newer valid copy of the two. False (and why) when neither is valid;
        /// the table is then empty and unusable.</summary>
        public bool TryLoad(ReadOnlySpan<byte> copyA, ReadOnlySpan<byte> copyB, ulong diskSectors, out string problem)
        {
            bool a = Check(copyA, diskSectors, out ulong sequenceA, out string problemA);
            bool b = Check(copyB, diskSectors, out ulong sequenceB, out string problemB);
            Format(diskSectors);
            if (!a && !b)
            {
                problem = problemA == problemB ? problemA : "copy A: " + problemA + "; copy B: " + problemB;
                return false;
            }
            bool useB = b && (!a || sequenceB > sequenceA);
            Read(useB ? copyB : copyA);
            Sequence = useB ? sequenceB : sequenceA;
            CurrentCopy = useB ? 1 : 0;
            problem = null;
            return true;
        }

        /// <summary>Whether copy is a valid table for a disk of diskSectors (and its sequence).</summary>
        public static bool Check(ReadOnlySpan<byte> copy, ulong diskSectors, out ulong sequence, out string problem)
        {
            sequence = 0;
            if (copy.Length < CopyBytes) { problem = "short copy"; return false; }
            if (LittleEndian.ReadUInt64(copy, 0) != Magic) { problem = "no extent table (magic)"; return false; }
            if (LittleEndian.ReadUInt32(copy, 8) != Version) { problem = "unknown version " + LittleEndian.ReadUInt32(copy, 8).ToString(); return false; }
            if (LittleEndian.ReadUInt32(copy, 12) != Records) { problem = "record count is not " + Records.ToString(); return false; }
            if (LittleEndian.ReadUInt64(copy, ChecksumOffset) != Checksum(copy)) { problem = "checksum mismatch (a torn or damaged write)"; return false; }
            ulong written = LittleEndian.ReadUInt64(copy, 24);
            if (written > diskSectors) { problem = "written for a disk of " + written.ToString() + " sectors; this one has " + diskSectors.ToString(); return false; }
            if (LittleEndian.ReadUInt64(copy, 32) != BlockLimits.FirstExtentSector) { problem = "first extent sector is not " + BlockLimits.FirstExtentSector.ToString(); return false; }
            ReadOnlySpan<byte> records = copy.Slice(BlockLimits.SectorSize, RecordArea);
            for (int i = 0; i < Records; i++)
            {
                ReadOnlySpan<byte> r = records.Slice(i * RecordBytes, RecordBytes);
                uint flags = LittleEndian.ReadUInt32(r, 20);
                if ((flags & ~InUse) != 0) { problem = "record " + i.ToString() + " has unknown flags"; return false; }
                if (flags == 0) continue;
                ulong start = LittleEndian.ReadUInt64(r, 0), sectors = LittleEndian.ReadUInt64(r, 8);
                if (sectors == 0 || start < BlockLimits.FirstExtentSector || start > written || sectors > written - start)
                { problem = "extent " + i.ToString() + " lies outside the disk"; return false; }
                ReadOnlySpan<byte> name = Trimmed(r.Slice(24, BlockLimits.NameBytes));
                if (name.Length == 0) { problem = "extent " + i.ToString() + " has no name"; return false; }
                for (int j = 0; j < i; j++)
                {
                    ReadOnlySpan<byte> o = records.Slice(j * RecordBytes, RecordBytes);
                    if (LittleEndian.ReadUInt32(o, 20) == 0) continue;
                    ulong oStart = LittleEndian.ReadUInt64(o, 0), oSectors = LittleEndian.ReadUInt64(o, 8);
                    if (start < oStart + oSectors && oStart < start + sectors) { problem = "extents " + j.ToString() + " and " + i.ToString() + " overlap"; return false; }
                    if (Trimmed(o.Slice(24, BlockLimits.NameBytes)).SequenceEqual(name)) { problem = "extents " + j.ToString() + " and " + i.ToString() + " have the same name"; return false; }
                }
            }
            sequence = LittleEndian.ReadUInt64(copy, 16);
            problem = null;
            return true;
        }

        private void Read(ReadOnlySpan<byte> copy)
        {
            ReadOnlySpan<byte> records = copy.Slice(BlockLimits.SectorSize, RecordArea);
            for (int i = 0; i < Records; i++)
            {
                ReadOnlySpan<byte> r = records.Slice(i * RecordBytes, RecordBytes);
                _inUse[i] = LittleEndian.ReadUInt32(r, 20) == InUse;
                _start[i] = LittleEndian.ReadUInt64(r, 0);
                _sectors[i] = LittleEndian.ReadUInt64(r, 8);
                _generation[i] = LittleEndian.ReadUInt32(r, 16);
                r.Slice(24, BlockLimits.NameBytes).CopyTo(new Span<byte>(_names, i * BlockLimits.NameBytes, BlockLimits.NameBytes));
            }
        }

        /// <summary>Writes the next copy (sequence + 1) into copy; returns which copy it is (0 A, 1 B),
        /// which the caller writes at TableCopyA or TableCopyB. The table takes that sequence and
        /// copy as its own once the write is durable (Commit).</summary>
        public int WriteNext(Span<byte> copy)
        {
            copy.Slice(0, CopyBytes).Clear();
            LittleEndian.WriteUInt64(copy, 0, Magic);
            LittleEndian.WriteUInt32(copy, 8, Version);
            LittleEndian.WriteUInt32(copy, 12, Records);
            LittleEndian.WriteUInt64(copy, 16, Sequence + 1);
            LittleEndian.WriteUInt64(copy, 24, DiskSectors);
            LittleEndian.WriteUInt64(copy, 32, BlockLimits.FirstExtentSector);
            Span<byte> records = copy.Slice(BlockLimits.SectorSize, RecordArea);
            for (int i = 0; i < Records; i++)
            {
                Span<byte> r = records.Slice(i * RecordBytes, RecordBytes);
                LittleEndian.WriteUInt64(r, 0, _start[i]);
                LittleEndian.WriteUInt64(r, 8, _sectors[i]);
                LittleEndian.WriteUInt32(r, 16, _generation[i]);
                LittleEndian.WriteUInt32(r, 20, _inUse[i] ? InUse : 0);
                new ReadOnlySpan<byte>(_names, i * BlockLimits.NameBytes, BlockLimits.NameBytes).CopyTo(r.Slice(24));
            }
            LittleEndian.WriteUInt64(copy, ChecksumOffset, Checksum(copy));
            return 1 - CurrentCopy;
        }

        /// <summary>The copy WriteNext made is durable: it is now the current one.</summary>
        public void Commit()
        {
            Sequence++;
            CurrentCopy = 1 - CurrentCopy;
        }

        /// <summary>The in-use extent named name, or -1.</summary>
        public int Find(ReadOnlySpan<byte> name)
        {
            name = Trimmed(name);
            if (name.Length == 0) return -1;
            for (int i = 0; i < Records; i++)
                if (_inUse[i] && NameOf(i).SequenceEqual(name)) return i;
            return -1;
        }

        /// <summary>Takes the lowest free run of 'sectors' for a new extent named name (1..NameBytes
        /// bytes, no zero byte). Busy when the name is taken, NoMemory when the table is full or no run
        /// fits, InvalidArgument for a bad name or 0 sectors. Nothing changes on an error.</summary>
        public Error Allocate(ulong sectors, ReadOnlySpan<byte> name, out int index)
        {
            index = -1;
            if (sectors == 0 || name.Length == 0 || name.Length > BlockLimits.NameBytes || name.IndexOf((byte)0) >= 0)
                return Error.InvalidArgument;
            if (Find(name) >= 0) return Error.Busy;
            int slot = -1;
            for (int i = 0; i < Records && slot < 0; i++) if (!_inUse[i]) slot = i;
            if (slot < 0) return Error.NoMemory;
            ulong candidate = BlockLimits.FirstExtentSector;
            for (bool moved = true; moved;)
            {
                moved = false;
                for (int i = 0; i < Records; i++)
                {
                    if (!_inUse[i]) continue;
                    if (candidate < _start[i] + _sectors[i] && _start[i] < candidate + sectors)
                    {
                        candidate = _start[i] + _sectors[i];
                        moved = true;
                    }
                }
                if (candidate > DiskSectors || sectors > DiskSectors - candidate) return Error.NoMemory;
            }
            _start[slot] = candidate;
            _sectors[slot] = sectors;
            _generation[slot]++;
            _inUse[slot] = true;
            Span<byte> stored = new Span<byte>(_names, slot * BlockLimits.NameBytes, BlockLimits.NameBytes);
            stored.Clear();
            name.CopyTo(stored);
            index = slot;
            return Error.None;
        }

        /// <summary>Frees an in-use extent (its generation moves on: old capabilities name nothing).</summary>
        public void Free(int index)
        {
            _inUse[index] = false;
            _generation[index]++;
            _start[index] = 0;
            _sectors[index] = 0;
            new Span<byte>(_names, index * BlockLimits.NameBytes, BlockLimits.NameBytes).Clear();
        }

        /// <summary>Undoes Allocate or Free when the table could not be written (the copy in memory
        /// goes back to what the disk holds).</summary>
        public void Restore(int index, bool inUse, ulong start, ulong sectors, uint generation, ReadOnlySpan<byte> name)
        {
            _inUse[index] = inUse; _start[index] = start; _sectors[index] = sectors; _generation[index] = generation;
            Span<byte> stored = new Span<byte>(_names, index * BlockLimits.NameBytes, BlockLimits.NameBytes);
            stored.Clear();
            name.CopyTo(stored);
        }

        private static ReadOnlySpan<byte> Trimmed(ReadOnlySpan<byte> name)
        {
            int end = name.IndexOf((byte)0);
            return end < 0 ? name : name.Slice(0, end);
        }

        /// <summary>FNV-1a (64-bit) of the header's first 48 bytes and the records.</summary>
        public static ulong Checksum(ReadOnlySpan<byte> copy)
        {
            ulong hash = 0xCBF29CE484222325;
            for (int i = 0; i < HeaderChecked; i++) hash = (hash ^ copy[i]) * 0x100000001B3;
            ReadOnlySpan<byte> records = copy.Slice(BlockLimits.SectorSize, RecordArea);
            for (int i = 0; i < records.Length; i++) hash = (hash ^ records[i]) * 0x100000001B3;
            return hash;
        }
    }
}
