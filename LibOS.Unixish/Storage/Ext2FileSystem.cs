// An ext2 file system with an ext3 (JBD2) metadata journal, over a BufferCache over an
// IBlockStore. Pure logic: no system calls, no VFS types; a VFS adapter names files by inode
// number and gets 0, a count, or a negative Linux errno from every operation.
//
// This file: mounting (validation, journal recovery), the group geometry, the superblock and
// group-descriptor write-back, inode records, and the transaction boundary every operation goes
// through. Ext2Inodes.cs maps and frees file blocks, Ext2Directories.cs edits directory blocks,
// Ext2Allocator.cs owns the bitmaps, Ext2Operations.cs is the public API, Jbd2Journal.cs the log.
//
// Invariants (e2fsck -fn must find nothing after any sequence of operations):
// - bitmaps, group free/used-dir counts and superblock free counts always agree;
// - every changed metadata block goes through Dirty(), which joins the journal's running
//   transaction (so it reaches its home only after a commit); file data goes through DirtyData();
// - an operation validates everything before changing anything; a corrupt structure found while
//   changing aborts the journal (the file system turns read-only, the disk keeps the last commit);
// - a transaction is committed only between operations or at points where the metadata is
//   consistent (the write and truncate loops), so a crash at any write leaves a consistent image.
using System;
using System.Collections.Generic;
using Aegis.LibOS.Unixish.Linux;

namespace Aegis.LibOS.Unixish.Storage
{
    public sealed class Ext2MountOptions
    {
        public bool ReadOnly;
        /// <summary>Buffer cache size in file-system blocks.</summary>
        public int CacheBlocks = 2048;
        /// <summary>Seconds since 1970 for timestamps (the libOS's clock); null: timestamps 0.</summary>
        public Func<long> Clock;
    }

    public sealed partial class Ext2FileSystem
    {
        public const uint RootInode = Ext2.RootInode;
        const ushort StateValid = 1, StateErrors = 2;

        readonly IBlockStore store;
        readonly BufferCache cache;
        readonly Ext2Superblock sb;
        readonly Ext2GroupDescriptor[] groups;
        readonly Func<long> clock;
        readonly Jbd2Journal journal;
        readonly int blockSize;
        readonly int pointersPerBlock;
        readonly int inodeSize;
        readonly uint groupCount;
        readonly long superblockBlock;
        readonly int superblockOffset;
        readonly uint descriptorBlocks;
        readonly bool hasFileType;
        readonly bool readOnly;
        bool aborted;
        bool unmounted;
        uint generation;

        public int BlockSize => blockSize;
        public bool IsReadOnly => readOnly || aborted || unmounted;
        public bool HasJournal => journal != null;
        public Jbd2Journal Journal => journal;
        public BufferCache Cache => cache;
        public int ReplayedTransactions { get; private set; }
        /// <summary>The message of the last error an operation returned (corruption, device errors).</summary>
        public string LastError { get; private set; }
        public long FreeBlocks => sb.FreeBlocks;
        public long FreeInodes => sb.FreeInodes;
        public long TotalBlocks => sb.BlocksCount;
        public long TotalInodes => sb.InodesCount;

        Ext2FileSystem(IBlockStore store, Ext2MountOptions options)
        {
            this.store = store;
            readOnly = options.ReadOnly;
            clock = options.Clock;
            sb = ReadSuperblock(store);
            timeAtMount = Math.Max(sb.Wtime, sb.Mtime);
            blockSize = sb.BlockSize;
            pointersPerBlock = blockSize / 4;
            inodeSize = (int)sb.InodeSize;
            groupCount = (uint)((sb.BlocksCount - sb.FirstDataBlock + sb.BlocksPerGroup - 1) / sb.BlocksPerGroup);
            CheckFeatures(sb, readOnly);
            superblockBlock = Ext2.SuperblockOffset / blockSize;
            superblockOffset = Ext2.SuperblockOffset % blockSize;
            hasFileType = (sb.FeatureIncompat & Ext2.IncompatFiletype) != 0;
            descriptorBlocks = (uint)((groupCount * Ext2GroupDescriptor.Size + blockSize - 1) / blockSize);
            if ((long)sb.InodesPerGroup * groupCount < sb.InodesCount || sb.InodesCount == 0)
                throw StorageException.Corrupt("inode count " + sb.InodesCount + " exceeds " + groupCount + " groups of " + sb.InodesPerGroup);
            if (sb.FirstDataBlock + 1 + descriptorBlocks > sb.BlocksCount)
                throw StorageException.Corrupt("group descriptors run past the end of the file system");
            cache = new BufferCache(store, blockSize, Math.Max(128, options.CacheBlocks));
            groups = new Ext2GroupDescriptor[groupCount];
            ReadGroupDescriptors();

            if ((sb.FeatureCompat & Ext2.CompatHasJournal) != 0)
            {
                journal = Jbd2Journal.Open(cache, JournalMap());
                if (!readOnly && journal.MaxTransactionBlocks < 4 * OperationReserve)
                    throw new StorageException(Errno.EINVAL, "ext2: journal of " + (journal.MaxTransactionBlocks * 4) + " log blocks is too small to write (at least " + 16 * OperationReserve + ")");
                if (journal.NeedsRecovery || (sb.FeatureIncompat & Ext2.IncompatRecover) != 0)
                {
                    ReplayedTransactions = journal.Recover(sb.BlocksCount);
                    cache.DropAll();
                    Ext2Superblock replayed = ReadSuperblock(store);
                    CheckFeatures(replayed, readOnly);
                    CopyCounts(replayed);
                    ReadGroupDescriptors();
                    sb.FeatureIncompat &= ~Ext2.IncompatRecover;
                    StoreSuperblockNow();
                }
            }
            else if ((sb.FeatureIncompat & Ext2.IncompatRecover) != 0)
                throw new StorageException(Errno.EINVAL, "ext2: needs_recovery is set but there is no journal");

            CheckRoot();
            if (!readOnly)
            {
                sb.MountCount++;
                sb.Mtime = Now();
                if (journal != null) sb.FeatureIncompat |= Ext2.IncompatRecover;
                else sb.State = (ushort)(sb.State & ~StateValid);
                StoreSuperblockNow();
                if (sb.LastOrphan != 0) ProcessOrphans();
            }
        }

        /// <summary>Finishes what a crash interrupted on a kernel that keeps an orphan list
        /// (s_last_orphan, chained through i_dtime): an orphan without links is freed, one with
        /// links is truncated to its size. The walk is bounded by the inode count.</summary>
        void ProcessOrphans()
        {
            uint next = sb.LastOrphan;
            sb.LastOrphan = 0;
            StoreSuperblock();
            for (uint steps = 0; next != 0 && steps < sb.InodesCount; steps++)
            {
                if (next < sb.FirstInode || next > sb.InodesCount) throw StorageException.Corrupt("orphan list names inode " + next);
                if (journal != null && journal.NearlyFull(OperationReserve)) journal.Commit();
                Ext2Inode orphan = ReadInode(next);
                next = orphan.Dtime;
                orphan.Dtime = 0;
                if ((orphan.Flags & (Ext2.ExtentsFlag | Ext2.InlineDataFlag)) != 0) throw StorageException.Corrupt("orphan " + orphan.Number + " uses extents");
                if (orphan.Mode == 0) { WriteInode(orphan); continue; }
                if (orphan.LinksCount == 0) DestroyInode(orphan);
                else
                {
                    if (orphan.IsRegular) FreeBlocksFrom(orphan, (orphan.Size + blockSize - 1) / blockSize);
                    WriteInode(orphan);
                }
            }
            if (journal != null) journal.Commit();
            else { cache.WriteBack(); cache.Flush(); }
        }

        /// <summary>Mounts the file system on store; throws StorageException (with an errno and a
        /// message) for an image it cannot handle safely.</summary>
        public static Ext2FileSystem Mount(IBlockStore store, Ext2MountOptions options = null) =>
            new Ext2FileSystem(store, options ?? new Ext2MountOptions());

        static Ext2Superblock ReadSuperblock(IBlockStore store)
        {
            int deviceBlock = store.BlockSize;
            if (deviceBlock <= 0 || deviceBlock > 4096 || (deviceBlock & (deviceBlock - 1)) != 0)
                throw new StorageException(Errno.EINVAL, "ext2: unsupported device block size " + deviceBlock);
            int count = (2048 + deviceBlock - 1) / deviceBlock;
            if (store.BlockCount < count) throw new StorageException(Errno.EINVAL, "ext2: device too small for a superblock");
            var bytes = new byte[count * deviceBlock];
            if (store.Read(0, count, bytes, 0) < 0) throw new StorageException(Errno.EIO, "ext2: cannot read the superblock");
            Ext2Superblock s = Ext2Superblock.Parse(bytes, Ext2.SuperblockOffset);
            if (s.Magic != Ext2.Magic) throw new StorageException(Errno.EINVAL, "ext2: bad magic number 0x" + s.Magic.ToString("x4") + " (not ext2/3)");
            if (s.LogBlockSize > 2) throw new StorageException(Errno.EINVAL, "ext2: block size " + (1024L << (int)Math.Min(s.LogBlockSize, 20u)) + " not supported (1K-4K)");
            int blockSize = s.BlockSize;
            if (blockSize < deviceBlock) throw new StorageException(Errno.EINVAL, "ext2: block size smaller than the device's");
            if (s.FirstDataBlock != (blockSize == 1024 ? 1u : 0u)) throw StorageException.Corrupt("first data block " + s.FirstDataBlock + " is wrong for " + blockSize + "-byte blocks");
            if (s.BlocksPerGroup == 0 || s.BlocksPerGroup > 8 * blockSize) throw StorageException.Corrupt("blocks per group " + s.BlocksPerGroup);
            if (s.InodesPerGroup == 0 || s.InodesPerGroup > 8 * blockSize) throw StorageException.Corrupt("inodes per group " + s.InodesPerGroup);
            if (s.BlocksCount <= s.FirstDataBlock + 1) throw StorageException.Corrupt("block count " + s.BlocksCount);
            if ((long)s.BlocksCount * (blockSize / deviceBlock) > store.BlockCount)
                throw new StorageException(Errno.EINVAL, "ext2: file system (" + s.BlocksCount + " blocks) is larger than the device");
            if (s.RevLevel > 1) throw new StorageException(Errno.EINVAL, "ext2: revision " + s.RevLevel + " not supported");
            if (s.InodeSize < 128 || s.InodeSize > blockSize || (s.InodeSize & (s.InodeSize - 1)) != 0) throw StorageException.Corrupt("inode size " + s.InodeSize);
            if (s.FirstInode < Ext2.GoodOldFirstInode || s.FirstInode >= s.InodesCount) throw StorageException.Corrupt("first inode " + s.FirstInode);
            if (s.FreeBlocks > s.BlocksCount || s.FreeInodes > s.InodesCount) throw StorageException.Corrupt("free counts exceed totals");
            return s;
        }

        static void CheckFeatures(Ext2Superblock s, bool readOnly)
        {
            uint unknownIncompat = s.FeatureIncompat & ~Ext2.IncompatSupported;
            if (unknownIncompat != 0)
                throw new StorageException(Errno.EINVAL, "ext2: unsupported incompatible features 0x" + unknownIncompat.ToString("x") + Describe(unknownIncompat));
            uint unknownRo = s.FeatureRoCompat & ~Ext2.RoCompatSupported;
            if (unknownRo != 0 && !readOnly)
                throw new StorageException(Errno.EROFS, "ext2: read-only compatible features 0x" + unknownRo.ToString("x") + " not supported for writing (mount read-only)");
            if ((s.FeatureCompat & Ext2.CompatHasJournal) != 0 && (s.JournalInode == 0 || s.JournalDevice != 0))
                throw new StorageException(Errno.EINVAL, "ext2: external journals are not supported");
            if ((s.FeatureCompat & Ext2.CompatHasJournal) != 0 && (s.JournalInode >= s.FirstInode && s.JournalInode != Ext2.JournalInode || s.JournalInode > s.InodesCount))
                throw StorageException.Corrupt("journal inode " + s.JournalInode);
        }

        static string Describe(uint incompat)
        {
            string text = "";
            if ((incompat & Ext2.IncompatExtents) != 0) text += " extents";
            if ((incompat & Ext2.Incompat64Bit) != 0) text += " 64bit";
            if ((incompat & Ext2.IncompatFlexBg) != 0) text += " flex_bg";
            if ((incompat & Ext2.IncompatMetaBg) != 0) text += " meta_bg";
            if ((incompat & Ext2.IncompatJournalDev) != 0) text += " journal_dev";
            if ((incompat & Ext2.IncompatMmp) != 0) text += " mmp";
            if ((incompat & Ext2.IncompatCompression) != 0) text += " compression";
            return text.Length == 0 ? "" : " (" + text.Substring(1) + ")";
        }

        void CopyCounts(Ext2Superblock from)
        {
            sb.FreeBlocks = from.FreeBlocks;
            sb.FreeInodes = from.FreeInodes;
            sb.FeatureCompat = from.FeatureCompat;
            sb.FeatureIncompat = from.FeatureIncompat;
            sb.FeatureRoCompat = from.FeatureRoCompat;
            sb.State = from.State;
            sb.MountCount = from.MountCount;
            sb.LastOrphan = from.LastOrphan;
        }

        void ReadGroupDescriptors()
        {
            for (uint g = 0; g < groupCount; g++)
            {
                long block = sb.FirstDataBlock + 1 + g * Ext2GroupDescriptor.Size / blockSize;
                CachedBlock buffer = cache.Get(block);
                Ext2GroupDescriptor d = Ext2GroupDescriptor.Parse(buffer.Data, (int)(g * Ext2GroupDescriptor.Size % blockSize));
                long first = GroupFirstBlock(g), end = GroupEnd(g);
                long tableBlocks = ((long)sb.InodesPerGroup * inodeSize + blockSize - 1) / blockSize;
                if (d.BlockBitmap < first || d.BlockBitmap >= end || d.InodeBitmap < first || d.InodeBitmap >= end ||
                    d.InodeTable < first || d.InodeTable + tableBlocks > end)
                    throw StorageException.Corrupt("group " + g + "'s bitmaps or inode table lie outside the group");
                if (d.FreeBlocks > end - first || d.FreeInodes > sb.InodesPerGroup || d.UsedDirectories > sb.InodesPerGroup)
                    throw StorageException.Corrupt("group " + g + "'s counts exceed its size");
                groups[g] = d;
            }
        }

        /// <summary>Largest journal accepted: 2^20 blocks (4 GiB of 4 KiB blocks; mke2fs makes at most 1 GiB).</summary>
        const uint MaxJournalBlocks = 1 << 20;

        long[] JournalMap()
        {
            Ext2Inode inode = ReadInode(sb.JournalInode);
            if (!inode.IsRegular || (inode.Flags & Ext2.ExtentsFlag) != 0)
                throw StorageException.Corrupt("journal inode is not a regular block-mapped file");
            long blocks = inode.Size / blockSize;
            if (blocks < 16) throw StorageException.Corrupt("journal size " + inode.Size);
            // The log's own length (s_maxlen) bounds the map, not the inode's size alone.
            uint firstBlock = MapBlock(inode, 0, false, out _);
            if (firstBlock == 0) throw StorageException.Corrupt("journal has no superblock");
            uint logLength = Bytes.BigU32(cache.Get(firstBlock).Data, 0x10);
            if (logLength < 16 || logLength > blocks || logLength > MaxJournalBlocks)
                throw StorageException.Corrupt("journal length " + logLength + " blocks does not fit its inode (" + blocks + " blocks)");
            blocks = logLength;
            var map = new long[blocks];
            for (long i = 0; i < blocks; i++)
            {
                uint physical = MapBlock(inode, i, false, out _);
                if (physical == 0) throw StorageException.Corrupt("journal has a hole at block " + i);
                map[i] = physical;
            }
            return map;
        }

        void CheckRoot()
        {
            Ext2Inode root = ReadInode(RootInode);
            if (!root.IsDirectory || root.LinksCount < 2) throw StorageException.Corrupt("root inode is not a directory");
        }

        // ---- Geometry ----

        long GroupFirstBlock(uint group) => sb.FirstDataBlock + (long)group * sb.BlocksPerGroup;
        long GroupEnd(uint group) => Math.Min(GroupFirstBlock(group) + sb.BlocksPerGroup, sb.BlocksCount);
        uint GroupOfBlock(long block) => (uint)((block - sb.FirstDataBlock) / sb.BlocksPerGroup);
        uint GroupOfInode(uint inode) => (inode - 1) / sb.InodesPerGroup;

        /// <summary>Whether a group holds a superblock and descriptor backup (sparse_super: 0, 1, powers of 3, 5, 7).</summary>
        bool HasSuperblockCopy(uint group)
        {
            if (group <= 1 || (sb.FeatureRoCompat & Ext2.RoCompatSparseSuper) == 0) return true;
            return IsPower(group, 3) || IsPower(group, 5) || IsPower(group, 7);
        }

        static bool IsPower(uint value, uint b)
        {
            uint p = b;
            while (p < value) p *= b;
            return p == value;
        }

        /// <summary>True for blocks no file may own: superblocks, descriptors, reserved descriptors,
        /// bitmaps and inode tables (a guard against corrupt bitmaps).</summary>
        bool IsSystemBlock(long block)
        {
            if (block < sb.FirstDataBlock || block >= sb.BlocksCount) return true;
            uint g = GroupOfBlock(block);
            long first = GroupFirstBlock(g);
            if (HasSuperblockCopy(g) && block <= first + descriptorBlocks + sb.ReservedGdtBlocks) return true;
            Ext2GroupDescriptor d = groups[g];
            long tableBlocks = ((long)sb.InodesPerGroup * inodeSize + blockSize - 1) / blockSize;
            return block == d.BlockBitmap || block == d.InodeBitmap || (block >= d.InodeTable && block < d.InodeTable + tableBlocks);
        }

        // ---- Metadata write-back ----

        /// <summary>Seconds since 1970; without a clock, the superblock's last write time (never 0:
        /// e2fsck reads a small i_dtime as an orphan-list link).</summary>
        uint Now() => clock == null ? Math.Max(timeAtMount, 1u) : (uint)clock();
        uint timeAtMount;

        void Dirty(CachedBlock buffer)
        {
            if (journal != null) journal.Join(buffer); else cache.MarkDirty(buffer);
        }

        void DirtyData(CachedBlock buffer) => cache.MarkDirty(buffer);

        void StoreSuperblock()
        {
            CachedBlock buffer = cache.Get(superblockBlock);
            sb.Wtime = Now();
            sb.Store(buffer.Data, superblockOffset);
            Dirty(buffer);
        }

        /// <summary>Writes the superblock home at once (mount and unmount, outside any transaction).</summary>
        void StoreSuperblockNow()
        {
            CachedBlock buffer = cache.Get(superblockBlock);
            sb.Store(buffer.Data, superblockOffset);
            cache.MarkDirty(buffer);
            cache.WriteBack();
            cache.Flush();
        }

        void StoreGroup(uint group)
        {
            long offset = (long)group * Ext2GroupDescriptor.Size;
            CachedBlock buffer = cache.Get(sb.FirstDataBlock + 1 + offset / blockSize);
            groups[group].StoreCounts(buffer.Data, (int)(offset % blockSize));
            Dirty(buffer);
        }

        // ---- Inode records ----

        void InodeLocation(uint number, out long block, out int offset)
        {
            if (number == 0 || number > sb.InodesCount) throw StorageException.Corrupt("inode number " + number + " out of range");
            uint group = GroupOfInode(number);
            long index = (number - 1) % sb.InodesPerGroup;
            long byteOffset = index * inodeSize;
            block = groups[group].InodeTable + byteOffset / blockSize;
            offset = (int)(byteOffset % blockSize);
        }

        Ext2Inode ReadInode(uint number)
        {
            InodeLocation(number, out long block, out int offset);
            CachedBlock buffer = cache.Get(block);
            return Ext2Inode.Parse(number, buffer.Data, offset);
        }

        void WriteInode(Ext2Inode inode)
        {
            InodeLocation(inode.Number, out long block, out int offset);
            CachedBlock buffer = cache.Get(block);
            inode.Store(buffer.Data, offset);
            Dirty(buffer);
        }

        /// <summary>A fresh record: every byte zero except the extra-size field of a large inode.</summary>
        void ClearInodeRecord(uint number)
        {
            InodeLocation(number, out long block, out int offset);
            CachedBlock buffer = cache.Get(block);
            Array.Clear(buffer.Data, offset, inodeSize);
            if (inodeSize > Ext2.GoodOldInodeSize) Bytes.PutU16(buffer.Data, offset + 0x80, (uint)Math.Min(32, inodeSize - Ext2.GoodOldInodeSize));
            Dirty(buffer);
        }

        /// <summary>An inode that is in use (links > 0, mode set), or a corruption error.</summary>
        Ext2Inode LiveInode(uint number)
        {
            Ext2Inode inode = ReadInode(number);
            if (inode.LinksCount == 0 || inode.Mode == 0) throw new StorageException(Errno.ENOENT, "ext2: inode " + number + " is not in use");
            if ((inode.Flags & (Ext2.ExtentsFlag | Ext2.InlineDataFlag)) != 0)
                throw StorageException.Corrupt("inode " + number + " uses extents or inline data");
            return inode;
        }

        // ---- Transaction boundary ----

        /// <summary>Blocks one step of an operation may add to the running transaction.</summary>
        const int OperationReserve = 48;

        /// <summary>Called at the start of every change: commits first when the transaction could overflow.</summary>
        int BeginChange()
        {
            if (aborted) return -Errno.EIO;
            if (readOnly || unmounted) return -Errno.EROFS;
            if (journal != null && journal.NearlyFull(OperationReserve)) journal.Commit();
            return 0;
        }

        /// <summary>Set while an operation is at a point where a commit leaves consistent metadata
        /// (the block loops of write, truncate and the shrinking before an unlink).</summary>
        bool commitPointsAllowed;

        /// <summary>Inside a long loop (write, truncate): the inode is consistent on disk, commit if needed.</summary>
        void MaybeCommitInside(Ext2Inode inode)
        {
            if (journal == null || !commitPointsAllowed || !journal.NearlyFull(OperationReserve)) return;
            WriteInode(inode);
            journal.Commit();
        }

        int Fail(StorageException e, bool changing)
        {
            LastError = e.Message;
            if (changing && e.Errno != Errno.ENOENT) aborted = true;
            if (changing) nameIndexes.Clear(); // a directory may have changed before the error
            return -e.Errno;
        }

        /// <summary>Commits the running transaction and writes every dirty block home (checkpoint).</summary>
        public int Sync()
        {
            if (aborted) return -Errno.EIO;
            if (readOnly || unmounted) return 0;
            try
            {
                if (journal != null) journal.Checkpoint();
                else { StoreSuperblock(); cache.WriteBack(); cache.Flush(); }
                return 0;
            }
            catch (StorageException e) { return Fail(e, true); }
        }

        /// <summary>Makes one file's data and metadata durable (ext3 commits the whole transaction).</summary>
        public int FsyncFile(uint inode)
        {
            if (aborted) return -Errno.EIO;
            if (readOnly || unmounted) return 0;
            try
            {
                if (journal != null) journal.Commit();
                else { cache.WriteBack(); cache.Flush(); }
                return 0;
            }
            catch (StorageException e) { return Fail(e, true); }
        }

        /// <summary>Commits, checkpoints, clears needs_recovery (or marks ext2 clean); the file
        /// system takes no more changes.</summary>
        public int Unmount()
        {
            if (unmounted) return 0;
            if (aborted || readOnly) { unmounted = true; return aborted ? -Errno.EIO : 0; }
            try
            {
                if (journal != null) journal.Checkpoint();
                if (journal != null) sb.FeatureIncompat &= ~Ext2.IncompatRecover;
                else sb.State = (ushort)(sb.State | StateValid);
                sb.Wtime = Now();
                StoreSuperblockNow();
                unmounted = true;
                return 0;
            }
            catch (StorageException e) { return Fail(e, true); }
        }
    }
}
