// JBD2 metadata journaling (ext3's journal, version 2 superblock, no checksums), inside the
// journal inode's blocks. Every on-disk number of the journal is big-endian.
//
// Protocol (ordered mode, as ext3):
//   1. Metadata buffers changed by an operation join the running transaction: the cache pins
//      them, so they never reach their home location before the transaction commits.
//   2. Commit: every dirty unpinned buffer (file data, and metadata of earlier, committed
//      transactions) is written home and flushed; then revoke blocks, descriptor blocks and
//      copies of the pinned buffers go to the log and are flushed; then one commit block is
//      written and flushed. Only then are the buffers unpinned (free to go home).
//   3. Checkpoint (when the log has less room than one maximal transaction, or on Sync): every
//      dirty buffer goes home, is flushed, and the journal superblock's s_start becomes 0 (the log
//      is empty); the next transaction starts again at s_first.
//   4. Recovery (at mount, when s_start != 0): a scan pass finds the last transaction with a
//      commit block, a revoke pass collects revoked blocks, a replay pass writes every logged
//      block whose latest revoke is older than its transaction; then the log is marked empty.
// Revokes: a freed block that was logged since the last checkpoint gets a revoke record, so an
// old copy is not replayed over the block's next owner. A block freed in the running transaction
// is not reused until that transaction commits (the allocator asks IsFreedInRunning).
//
// Invariants: s_start != 0 exactly when the log may hold committed transactions not yet
// checkpointed; transaction ids only grow; a running transaction never needs more log blocks than
// MaxTransactionBlocks, and after every commit the log has room for one such transaction.
using System;
using System.Collections.Generic;
using Aegis.LibOS.Unixish.Linux;

namespace Aegis.LibOS.Unixish.Storage
{
    public sealed class Jbd2Journal
    {
        public const uint Magic = 0xC03B3998;
        const uint TypeDescriptor = 1, TypeCommit = 2, TypeSuperV1 = 3, TypeSuperV2 = 4, TypeRevoke = 5;
        const uint IncompatRevoke = 0x1;
        const uint TagEscape = 1, TagSameUuid = 2, TagLast = 8;
        const int HeaderSize = 12, TagSize = 8, UuidSize = 16, RevokeHeaderSize = 16;

        readonly BufferCache cache;
        readonly long[] map; // log block -> file-system block
        readonly int blockSize;
        readonly uint first, length; // s_first, s_maxlen
        readonly byte[] uuid = new byte[UuidSize];
        readonly byte[] scratch;
        uint version;
        uint featureIncompat;
        uint start;      // s_start: 0 when the log is empty
        uint sequence;   // id of the running transaction
        uint startSequence; // id of the oldest transaction in the log (s_sequence while s_start != 0)
        uint head;       // next log block to write
        uint used;       // log blocks used since the last checkpoint

        readonly List<long> running = new List<long>();
        readonly HashSet<long> inRunning = new HashSet<long>(BlockNumberComparer.Instance);
        readonly List<long> revokes = new List<long>();
        readonly HashSet<long> revokedInRunning = new HashSet<long>(BlockNumberComparer.Instance);
        readonly HashSet<long> loggedSinceCheckpoint = new HashSet<long>(BlockNumberComparer.Instance);

        public bool NeedsRecovery => start != 0;
        public uint Sequence => sequence;
        public int RunningBlocks => running.Count;
        public long Commits { get; private set; }
        public long Checkpoints { get; private set; }
        /// <summary>Largest transaction (in log blocks, descriptors and commit included) the log takes.</summary>
        public int MaxTransactionBlocks => (int)((length - first) / 4);

        Jbd2Journal(BufferCache cache, long[] map)
        {
            this.cache = cache;
            this.map = map;
            blockSize = cache.BlockSize;
            scratch = new byte[blockSize];
            cache.ReadThrough(map[0], scratch, 0);
            if (Bytes.BigU32(scratch, 0) != Magic)
                throw StorageException.Corrupt("journal superblock has a bad magic number");
            version = Bytes.BigU32(scratch, 4) == TypeSuperV2 ? 2u : Bytes.BigU32(scratch, 4) == TypeSuperV1 ? 1u : 0u;
            if (version == 0) throw StorageException.Corrupt("journal superblock has an unknown block type");
            if ((int)Bytes.BigU32(scratch, 0x0C) != blockSize)
                throw StorageException.Corrupt("journal block size differs from the file system's");
            length = Bytes.BigU32(scratch, 0x10);
            first = Bytes.BigU32(scratch, 0x14);
            sequence = Bytes.BigU32(scratch, 0x18);
            start = Bytes.BigU32(scratch, 0x1C);
            startSequence = sequence;
            if (length > map.Length || length < 16 || first < 1 || first >= length || length - first < 8)
                throw StorageException.Corrupt("journal superblock's size (" + length + " blocks, first " + first + ") does not fit the journal inode (" + map.Length + " blocks)");
            if (start != 0 && (start < first || start >= length))
                throw StorageException.Corrupt("journal start " + start + " is outside the log");
            if (version == 2)
            {
                uint compat = Bytes.BigU32(scratch, 0x24);
                featureIncompat = Bytes.BigU32(scratch, 0x28);
                if ((compat & 1) != 0)
                    throw new StorageException(Errno.EINVAL, "ext2: journal uses v1 checksums (not supported)");
                if ((featureIncompat & ~IncompatRevoke) != 0)
                    throw new StorageException(Errno.EINVAL, "ext2: journal has unsupported incompatible features 0x" + featureIncompat.ToString("x") + " (64bit, async commit, checksums v2/v3 or fast commits)");
                if (Bytes.BigU32(scratch, 0x40) > 1)
                    throw new StorageException(Errno.EINVAL, "ext2: shared external journals are not supported");
                Array.Copy(scratch, 0x30, uuid, 0, UuidSize);
            }
            head = first;
        }

        /// <summary>Opens the journal whose log blocks are at map (index = log block number).</summary>
        public static Jbd2Journal Open(BufferCache cache, long[] map) => new Jbd2Journal(cache, map);

        // ---- Running transaction ----

        /// <summary>Adds a changed metadata buffer to the running transaction.</summary>
        public void Join(CachedBlock buffer)
        {
            cache.MarkDirty(buffer);
            if (!inRunning.Add(buffer.Block)) { cache.Pin(buffer); return; }
            cache.Pin(buffer);
            running.Add(buffer.Block);
        }

        public bool IsFreedInRunning(long block) => revokedInRunning.Contains(block) || freedInRunning.Contains(block);
        readonly HashSet<long> freedInRunning = new HashSet<long>(BlockNumberComparer.Instance);

        /// <summary>Records that a block was freed: revoked if an old copy may sit in the log; not
        /// reused before this transaction commits.</summary>
        public void Freed(long block)
        {
            freedInRunning.Add(block);
            if ((loggedSinceCheckpoint.Contains(block) || inRunning.Contains(block)) && revokedInRunning.Add(block))
                revokes.Add(block);
        }

        int TagsPerDescriptor => (blockSize - HeaderSize - UuidSize) / TagSize;
        int RevokesPerBlock => (blockSize - RevokeHeaderSize) / 4;

        int LogBlocksNeeded(int blocks, int revokeCount)
        {
            int descriptors = (blocks + TagsPerDescriptor - 1) / TagsPerDescriptor;
            int revokeBlocks = (revokeCount + RevokesPerBlock - 1) / RevokesPerBlock;
            return descriptors + blocks + revokeBlocks + 1;
        }

        /// <summary>True when the running transaction might not fit after `reserve` more blocks.</summary>
        public bool NearlyFull(int reserve) =>
            LogBlocksNeeded(running.Count + reserve, revokes.Count + reserve) > MaxTransactionBlocks ||
            running.Count + reserve > cache.Capacity / 2; // pinned buffers must leave the cache room to work

        public bool HasRunningTransaction => running.Count > 0 || revokes.Count > 0;

        // ---- Commit and checkpoint ----

        /// <summary>Commits the running transaction (ordered mode: data first); durable on return.</summary>
        public void Commit()
        {
            if (!HasRunningTransaction) { freedInRunning.Clear(); return; }
            int needed = LogBlocksNeeded(running.Count, revokes.Count);
            if (needed > MaxTransactionBlocks)
                throw new InvalidOperationException("journal: transaction of " + needed + " blocks exceeds the limit " + MaxTransactionBlocks);
            cache.WriteBack();
            cache.Flush();
            if (start == 0)
            {
                start = first;
                startSequence = sequence;
                head = first;
                used = 0;
                if (revokes.Count > 0) featureIncompat |= IncompatRevoke;
                WriteSuperblock();
                cache.Flush();
            }
            else if (revokes.Count > 0 && (featureIncompat & IncompatRevoke) == 0)
            {
                featureIncompat |= IncompatRevoke;
                WriteSuperblock();
            }
            WriteRevokes();
            WriteDescriptorsAndCopies();
            cache.Flush();
            Array.Clear(scratch, 0, blockSize);
            PutHeader(scratch, TypeCommit, sequence);
            WriteLog(scratch);
            cache.Flush();
            for (int i = 0; i < running.Count; i++)
            {
                CachedBlock buffer = cache.Peek(running[i]);
                if (buffer != null) cache.Unpin(buffer);
                loggedSinceCheckpoint.Add(running[i]);
            }
            running.Clear(); inRunning.Clear(); revokes.Clear(); revokedInRunning.Clear(); freedInRunning.Clear();
            sequence++;
            Commits++;
            if ((int)(length - first - used) < MaxTransactionBlocks) Checkpoint();
        }

        /// <summary>Writes every committed buffer home and empties the log (commits first if needed).</summary>
        public void Checkpoint()
        {
            if (HasRunningTransaction) { Commit(); if (start == 0) return; }
            cache.WriteBack();
            cache.Flush();
            if (start != 0)
            {
                start = 0;
                WriteSuperblock();
                cache.Flush();
            }
            head = first;
            used = 0;
            loggedSinceCheckpoint.Clear();
            Checkpoints++;
        }

        void WriteRevokes()
        {
            int at = 0;
            while (at < revokes.Count)
            {
                Array.Clear(scratch, 0, blockSize);
                PutHeader(scratch, TypeRevoke, sequence);
                int offset = RevokeHeaderSize;
                while (at < revokes.Count && offset + 4 <= blockSize)
                {
                    Bytes.PutBigU32(scratch, offset, (uint)revokes[at++]);
                    offset += 4;
                }
                Bytes.PutBigU32(scratch, HeaderSize, (uint)offset);
                WriteLog(scratch);
            }
        }

        void WriteDescriptorsAndCopies()
        {
            var descriptor = new byte[blockSize];
            int at = 0;
            while (at < running.Count)
            {
                int count = Math.Min(TagsPerDescriptor, running.Count - at);
                Array.Clear(descriptor, 0, blockSize);
                PutHeader(descriptor, TypeDescriptor, sequence);
                int offset = HeaderSize;
                for (int i = 0; i < count; i++)
                {
                    CachedBlock buffer = cache.Peek(running[at + i]);
                    if (buffer == null || !buffer.Pinned) throw new InvalidOperationException("journal: a running buffer left the cache");
                    uint flags = 0;
                    if (Bytes.BigU32(buffer.Data, 0) == Magic) flags |= TagEscape;
                    if (i > 0) flags |= TagSameUuid;
                    if (i == count - 1) flags |= TagLast;
                    Bytes.PutBigU32(descriptor, offset, (uint)running[at + i]);
                    Bytes.PutBigU16(descriptor, offset + 6, flags);
                    offset += TagSize;
                    if (i == 0) { Array.Copy(uuid, 0, descriptor, offset, UuidSize); offset += UuidSize; }
                }
                WriteLog(descriptor);
                for (int i = 0; i < count; i++)
                {
                    CachedBlock buffer = cache.Peek(running[at + i]);
                    Array.Copy(buffer.Data, 0, scratch, 0, blockSize);
                    if (Bytes.BigU32(scratch, 0) == Magic) Bytes.PutBigU32(scratch, 0, 0);
                    WriteLog(scratch);
                }
                at += count;
            }
        }

        void WriteLog(byte[] data)
        {
            cache.WriteThrough(map[head], data, 0);
            head = Next(head);
            used++;
        }

        uint Next(uint position) => position + 1 >= length ? first : position + 1;

        static void PutHeader(byte[] b, uint type, uint sequence)
        {
            Bytes.PutBigU32(b, 0, Magic);
            Bytes.PutBigU32(b, 4, type);
            Bytes.PutBigU32(b, 8, sequence);
        }

        void WriteSuperblock()
        {
            cache.ReadThrough(map[0], scratch, 0);
            Bytes.PutBigU32(scratch, 0x18, start != 0 ? startSequence : sequence);
            Bytes.PutBigU32(scratch, 0x1C, start);
            if (version == 2) Bytes.PutBigU32(scratch, 0x28, featureIncompat);
            cache.WriteThrough(map[0], scratch, 0);
        }

        // ---- Recovery ----

        /// <summary>Replays committed transactions into their home blocks (through the device, not
        /// the cache), then marks the log empty. Returns the number of transactions replayed.</summary>
        public int Recover(long fileSystemBlocks)
        {
            if (start == 0) return 0;
            uint end = Pass(0, sequence, fileSystemBlocks, null);
            var revoked = new Dictionary<long, uint>();
            Pass(1, end, fileSystemBlocks, revoked);
            Pass(2, end, fileSystemBlocks, revoked);
            cache.Flush();
            int replayed = (int)(end - sequence);
            sequence = end;
            start = 0;
            WriteSuperblock();
            cache.Flush();
            head = first;
            used = 0;
            return replayed;
        }

        // Pass 0 scans and returns the id after the last committed transaction; pass 1 collects
        // revokes; pass 2 replays. Every pass stops at the first block that does not continue the log.
        uint Pass(int pass, uint end, long fileSystemBlocks, Dictionary<long, uint> revoked)
        {
            uint position = start;
            uint expected = sequence;
            var block = new byte[blockSize];
            var copy = pass == 2 ? new byte[blockSize] : null;
            long steps = 0;
            while (steps++ <= length)
            {
                if (pass != 0 && expected == end) break;
                cache.ReadThrough(map[position], block, 0);
                if (Bytes.BigU32(block, 0) != Magic || Bytes.BigU32(block, 8) != expected) break;
                uint type = Bytes.BigU32(block, 4);
                if (type == TypeDescriptor)
                {
                    int offset = HeaderSize;
                    position = Next(position);
                    while (offset + TagSize <= blockSize)
                    {
                        uint target = Bytes.BigU32(block, offset);
                        uint flags = Bytes.BigU16(block, offset + 6);
                        offset += TagSize;
                        if ((flags & TagSameUuid) == 0) offset += UuidSize;
                        if (pass == 2)
                        {
                            bool skip = revoked.TryGetValue(target, out uint revokedAt) && (int)(revokedAt - expected) >= 0;
                            if (!skip)
                            {
                                if (target >= fileSystemBlocks)
                                    throw StorageException.Corrupt("journal replays block " + target + " outside the file system");
                                cache.ReadThrough(map[position], copy, 0);
                                if ((flags & TagEscape) != 0) Bytes.PutBigU32(copy, 0, Magic);
                                cache.WriteThrough(target, copy, 0);
                            }
                        }
                        position = Next(position);
                        steps++;
                        if ((flags & TagLast) != 0) break;
                    }
                }
                else if (type == TypeCommit)
                {
                    expected++;
                    position = Next(position);
                }
                else if (type == TypeRevoke)
                {
                    if (pass == 1)
                    {
                        int count = (int)Math.Min(Bytes.BigU32(block, HeaderSize), (uint)blockSize);
                        for (int offset = RevokeHeaderSize; offset + 4 <= count; offset += 4)
                        {
                            long target = Bytes.BigU32(block, offset);
                            if (!revoked.TryGetValue(target, out uint at) || (int)(expected - at) > 0) revoked[target] = expected;
                        }
                    }
                    position = Next(position);
                }
                else break;
            }
            return expected;
        }
    }
}
