// A fixed-size cache of file-system blocks over an IBlockStore.
//
// Policy (a libOS choice, replaceable):
// - Capacity is fixed at construction, in file-system blocks; the cache never grows past it.
// - Replacement is least-recently-used over the buffers that are not pinned.
// - Write-back: a changed buffer is marked dirty and reaches the device on WriteBack (the file
//   system's Sync), when it is evicted, or when the journal writes it at a checkpoint.
// - A pinned buffer (metadata of the journal's running transaction) is never written home and
//   never evicted; the journal unpins it after the transaction commits.
// - Read-ahead: a miss reads the requested block and following blocks that are not cached, in
//   one device request; they enter at the cold end of the LRU list and only take free slots or
//   clean, unpinned victims. How many follows the reader (as Linux's readahead does): a miss just
//   past the previous request's blocks is sequential and doubles the window (up to ReadAhead),
//   any other miss starts again at ReadAheadFirst: random reads of a large file do not drag in
//   blocks nobody asked for, a scan or a cold directory of small files gets 64 KiB requests.
//
// Invariants: every buffer is in exactly one of the free list or the hash index (and then in the
// LRU list); a hit does not allocate; a caller does not keep a CachedBlock across another Get (it may
// be evicted and reused for another block).
using System;
using System.Collections.Generic;
using Aegis.LibOS.Unixish.Linux;

namespace Aegis.LibOS.Unixish.Storage
{
    /// <summary>One cached file-system block.</summary>
    public sealed class CachedBlock
    {
        public long Block { get; internal set; }
        public readonly byte[] Data;
        public bool Dirty { get; internal set; }
        public bool Pinned { get; internal set; }
        internal CachedBlock Newer, Older;
        internal readonly int Slot;     // index in the cache's buffer array
        internal int HashNext = -1;     // next slot in the same hash bucket, -1 at the end

        internal CachedBlock(int size, int slot) { Data = new byte[size]; Block = -1; Slot = slot; }
    }

    /// <summary>Compares block numbers without boxing (the default comparer may box a long).</summary>
    public sealed class BlockNumberComparer : IEqualityComparer<long>
    {
        public static readonly BlockNumberComparer Instance = new BlockNumberComparer();
        public bool Equals(long x, long y) => x == y;
        public int GetHashCode(long value) => (int)value ^ (int)(value >> 32);
    }

    public sealed class BufferCache
    {
        /// <summary>Most blocks read with a missed one, in the same device request (those not
        /// cached already, up to the first that is): 15 with 4 KiB blocks, 64 KiB requests (a cold
        /// read of 1,000 small files: 69 requests; 432 with 4, in a second request).</summary>
        public const int ReadAhead = 15;
        /// <summary>The window after a miss that does not follow the previous request.</summary>
        public const int ReadAheadFirst = 3;

        long _nextSequential = -1; // the block just past the previous miss's request
        int _window = ReadAheadFirst;

        readonly IBlockStore store;
        readonly int blockSize;
        readonly int deviceBlocksPerBlock;
        readonly long blockCount;
        readonly int[] buckets; // block hash -> first slot + 1 (0: empty); a fixed table, so a hit never allocates
        readonly CachedBlock[] all;
        readonly Stack<CachedBlock> free;
        readonly byte[] readAheadBuffer;
        readonly long[] order;      // WriteBack's dirty buffers: block * capacity + slot, sorted
        readonly byte[] runBuffer;  // WriteBack's run of consecutive blocks
        CachedBlock newest, oldest; // LRU list of indexed buffers

        public int Capacity => all.Length;
        public int BlockSize => blockSize;
        public long BlockCount => blockCount;
        public long Hits { get; private set; }
        public long Misses { get; private set; }
        public long DeviceWrites { get; private set; }

        public BufferCache(IBlockStore store, int blockSize, int capacity)
        {
            if (blockSize < store.BlockSize || blockSize % store.BlockSize != 0)
                throw new ArgumentException("file-system block size must be a multiple of the device's");
            if (capacity < 16) throw new ArgumentException("capacity must be at least 16 blocks");
            this.store = store;
            this.blockSize = blockSize;
            deviceBlocksPerBlock = blockSize / store.BlockSize;
            blockCount = store.BlockCount / deviceBlocksPerBlock;
            int bucketCount = 1;
            while (bucketCount < capacity * 2) bucketCount <<= 1;
            buckets = new int[bucketCount];
            all = new CachedBlock[capacity];
            free = new Stack<CachedBlock>(capacity);
            for (int i = capacity - 1; i >= 0; i--) { all[i] = new CachedBlock(blockSize, i); free.Push(all[i]); }
            readAheadBuffer = new byte[blockSize * (ReadAhead + 1)];
            order = new long[capacity];
            runBuffer = new byte[blockSize * RunBlocks];
        }

        /// <summary>The block's buffer, read from the device on a miss.</summary>
        public CachedBlock Get(long block)
        {
            CheckRange(block);
            CachedBlock hit = Find(block);
            if (hit != null)
            {
                Hits++;
                Touch(hit);
                return hit;
            }
            Misses++;
            CachedBlock buffer = TakeVictim(true);
            _window = block == _nextSequential ? Math.Min(_window * 2 + 1, ReadAhead) : ReadAheadFirst;
            int ahead = 0;
            while (ahead < _window && block + 1 + ahead < blockCount && Find(block + 1 + ahead) == null) ahead++;
            _nextSequential = block + 1 + ahead;
            int result = store.Read(block * deviceBlocksPerBlock, (1 + ahead) * deviceBlocksPerBlock, readAheadBuffer, 0);
            if (result < 0 && ahead > 0)
            {
                ahead = 0; // perhaps a bad block further on: the one asked for alone
                result = store.Read(block * deviceBlocksPerBlock, deviceBlocksPerBlock, readAheadBuffer, 0);
            }
            if (result < 0)
            {
                free.Push(buffer);
                throw new StorageException(Errno.EIO, "block device read failed at block " + block);
            }
            Array.Copy(readAheadBuffer, 0, buffer.Data, 0, blockSize);
            Insert(buffer, block, true);
            for (int i = 1; i <= ahead; i++)
            {
                CachedBlock extra = TakeVictim(false);
                if (extra == null) break;
                Array.Copy(readAheadBuffer, i * blockSize, extra.Data, 0, blockSize);
                Insert(extra, block + i, false);
            }
            return buffer;
        }

        /// <summary>The block's buffer filled with zeros, without reading the device (a new block).</summary>
        public CachedBlock GetZeroed(long block)
        {
            CheckRange(block);
            CachedBlock hit = Find(block);
            if (hit != null)
            {
                Touch(hit);
                Array.Clear(hit.Data, 0, blockSize);
                return hit;
            }
            CachedBlock buffer = TakeVictim(true);
            Array.Clear(buffer.Data, 0, blockSize);
            Insert(buffer, block, true);
            return buffer;
        }

        /// <summary>The cached buffer of a block, or null (no device access, no LRU change).</summary>
        public CachedBlock Peek(long block) => Find(block);

        public void MarkDirty(CachedBlock buffer) => buffer.Dirty = true;
        public void Pin(CachedBlock buffer) => buffer.Pinned = true;
        public void Unpin(CachedBlock buffer) => buffer.Pinned = false;

        /// <summary>Most blocks one write request of WriteBack carries (a run of consecutive blocks).</summary>
        public const int RunBlocks = 16;

        /// <summary>Writes every dirty, unpinned buffer home (without a device flush), in block
        /// order, consecutive blocks together: one device request per run of up to RunBlocks (a
        /// thousand small files' data blocks, allocated side by side, are ~60 requests, not 1,000).</summary>
        public void WriteBack()
        {
            int count = 0;
            for (int i = 0; i < all.Length; i++)
            {
                CachedBlock buffer = all[i];
                if (buffer.Block >= 0 && buffer.Dirty && !buffer.Pinned) order[count++] = buffer.Block * all.Length + i;
            }
            if (count == 0) return;
            Array.Sort(order, 0, count);
            for (int at = 0; at < count;)
            {
                int run = 1;
                long first = order[at] / all.Length;
                while (at + run < count && run < RunBlocks && order[at + run] / all.Length == first + run) run++;
                if (run == 1)
                {
                    WriteHome(all[(int)(order[at] % all.Length)]);
                }
                else
                {
                    for (int k = 0; k < run; k++)
                        Buffer.BlockCopy(all[(int)(order[at + k] % all.Length)].Data, 0, runBuffer, k * blockSize, blockSize);
                    CheckRange(first + run - 1);
                    DeviceWrites++;
                    if (store.Write(first * deviceBlocksPerBlock, run * deviceBlocksPerBlock, runBuffer, 0) < 0)
                        throw new StorageException(Errno.EIO, "block device write failed at blocks " + first + ".." + (first + run - 1));
                    for (int k = 0; k < run; k++) all[(int)(order[at + k] % all.Length)].Dirty = false;
                }
                at += run;
            }
        }

        /// <summary>Makes earlier writes durable.</summary>
        public void Flush()
        {
            if (store.Flush() < 0) throw new StorageException(Errno.EIO, "block device flush failed");
        }

        /// <summary>Forgets every buffer without writing it (after the device changed underneath).</summary>
        public void DropAll()
        {
            Array.Clear(buckets, 0, buckets.Length);
            free.Clear();
            newest = oldest = null;
            for (int i = all.Length - 1; i >= 0; i--)
            {
                all[i].Block = -1; all[i].Dirty = false; all[i].Pinned = false;
                all[i].Newer = all[i].Older = null;
                all[i].HashNext = -1;
                free.Push(all[i]);
            }
        }

        public int DirtyCount()
        {
            int count = 0;
            for (int i = 0; i < all.Length; i++) if (all[i].Block >= 0 && all[i].Dirty) count++;
            return count;
        }

        /// <summary>Writes blocks straight to the device, bypassing the cache (the journal's log).</summary>
        public void WriteThrough(long block, byte[] data, int offset)
        {
            CheckRange(block);
            DeviceWrites++;
            if (store.Write(block * deviceBlocksPerBlock, deviceBlocksPerBlock, data, offset) < 0)
                throw new StorageException(Errno.EIO, "block device write failed at block " + block);
        }

        /// <summary>Reads a block straight from the device, bypassing the cache (journal recovery).</summary>
        public void ReadThrough(long block, byte[] data, int offset)
        {
            CheckRange(block);
            if (store.Read(block * deviceBlocksPerBlock, deviceBlocksPerBlock, data, offset) < 0)
                throw new StorageException(Errno.EIO, "block device read failed at block " + block);
        }

        void WriteHome(CachedBlock buffer)
        {
            WriteThrough(buffer.Block, buffer.Data, 0);
            buffer.Dirty = false;
        }

        void CheckRange(long block)
        {
            if (block < 0 || block >= blockCount)
                throw StorageException.Corrupt("block " + block + " is outside the device (" + blockCount + " blocks)");
        }

        CachedBlock TakeVictim(bool mayWrite)
        {
            if (free.Count > 0) return free.Pop();
            for (CachedBlock candidate = oldest; candidate != null; candidate = candidate.Newer)
            {
                if (candidate.Pinned) continue;
                if (candidate.Dirty)
                {
                    if (!mayWrite) return null;
                    WriteHome(candidate);
                }
                Unlink(candidate);
                RemoveFromIndex(candidate);
                candidate.Block = -1;
                return candidate;
            }
            if (!mayWrite) return null;
            throw new InvalidOperationException("buffer cache: every buffer is pinned by the running transaction");
        }

        void Insert(CachedBlock buffer, long block, bool asNewest)
        {
            buffer.Block = block;
            buffer.Dirty = false;
            buffer.Pinned = false;
            int bucket = Bucket(block);
            buffer.HashNext = buckets[bucket] - 1;
            buckets[bucket] = buffer.Slot + 1;
            if (asNewest) LinkNewest(buffer); else LinkOldest(buffer);
        }

        int Bucket(long block) => (int)(((ulong)block * 0x9E3779B97F4A7C15UL) >> 40) & (buckets.Length - 1);

        CachedBlock Find(long block)
        {
            for (int slot = buckets[Bucket(block)] - 1; slot >= 0; slot = all[slot].HashNext)
                if (all[slot].Block == block) return all[slot];
            return null;
        }

        void RemoveFromIndex(CachedBlock buffer)
        {
            int bucket = Bucket(buffer.Block);
            int slot = buckets[bucket] - 1;
            if (slot == buffer.Slot) { buckets[bucket] = buffer.HashNext + 1; buffer.HashNext = -1; return; }
            while (slot >= 0)
            {
                CachedBlock previous = all[slot];
                if (previous.HashNext == buffer.Slot) { previous.HashNext = buffer.HashNext; buffer.HashNext = -1; return; }
                slot = previous.HashNext;
            }
        }

        void Touch(CachedBlock buffer)
        {
            if (buffer == newest) return;
            Unlink(buffer);
            LinkNewest(buffer);
        }

        void LinkNewest(CachedBlock buffer)
        {
            buffer.Older = newest; buffer.Newer = null;
            if (newest != null) newest.Newer = buffer; else oldest = buffer;
            newest = buffer;
        }

        void LinkOldest(CachedBlock buffer)
        {
            buffer.Newer = oldest; buffer.Older = null;
            if (oldest != null) oldest.Older = buffer; else newest = buffer;
            oldest = buffer;
        }

        void Unlink(CachedBlock buffer)
        {
            if (buffer.Newer != null) buffer.Newer.Older = buffer.Older; else newest = buffer.Older;
            if (buffer.Older != null) buffer.Older.Newer = buffer.Newer; else oldest = buffer.Newer;
            buffer.Newer = buffer.Older = null;
        }
    }
}
