// A fixed-size cache of file-system blocks over an IBlockStore.
//
// Policy (a libOS choice, replaceable):
// - Capacity is fixed at construction, in file-system blocks; the cache never grows past it.
// - Replacement is least-recently-used over the buffers that are not pinned.
// - Write-back: a changed buffer is marked dirty and reaches the device on WriteBack (the file
//   system's Sync), when it is evicted, or when the journal writes it at a checkpoint.
// - A pinned buffer (metadata of the journal's running transaction) is never written home and
//   never evicted; the journal unpins it after the transaction commits.
// - Read-ahead: a miss reads the requested block and up to ReadAhead following blocks that are
//   not cached, in one device request; they enter at the cold end of the LRU list and only take
//   free slots or clean, unpinned victims.
//
// Invariants: every buffer is in exactly one of the free list or the index (and then in the LRU
// list); a hit does not allocate; a caller does not keep a CachedBlock across another Get (it may
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

        internal CachedBlock(int size) { Data = new byte[size]; Block = -1; }
    }

    public sealed class BufferCache
    {
        public const int ReadAhead = 4;

        readonly IBlockStore store;
        readonly int blockSize;
        readonly int deviceBlocksPerBlock;
        readonly long blockCount;
        readonly Dictionary<long, CachedBlock> index;
        readonly CachedBlock[] all;
        readonly Stack<CachedBlock> free;
        readonly byte[] readAheadBuffer;
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
            index = new Dictionary<long, CachedBlock>(capacity);
            all = new CachedBlock[capacity];
            free = new Stack<CachedBlock>(capacity);
            for (int i = capacity - 1; i >= 0; i--) { all[i] = new CachedBlock(blockSize); free.Push(all[i]); }
            readAheadBuffer = new byte[blockSize * ReadAhead];
        }

        /// <summary>The block's buffer, read from the device on a miss.</summary>
        public CachedBlock Get(long block)
        {
            CheckRange(block);
            if (index.TryGetValue(block, out CachedBlock hit))
            {
                Hits++;
                Touch(hit);
                return hit;
            }
            Misses++;
            CachedBlock buffer = TakeVictim(true);
            int result = store.Read(block * deviceBlocksPerBlock, deviceBlocksPerBlock, buffer.Data, 0);
            if (result < 0)
            {
                free.Push(buffer);
                throw new StorageException(Errno.EIO, "block device read failed at block " + block);
            }
            Insert(buffer, block, true);
            ReadAheadAfter(block);
            return buffer;
        }

        /// <summary>The block's buffer filled with zeros, without reading the device (a new block).</summary>
        public CachedBlock GetZeroed(long block)
        {
            CheckRange(block);
            if (index.TryGetValue(block, out CachedBlock hit))
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
        public CachedBlock Peek(long block) => index.TryGetValue(block, out CachedBlock hit) ? hit : null;

        public void MarkDirty(CachedBlock buffer) => buffer.Dirty = true;
        public void Pin(CachedBlock buffer) => buffer.Pinned = true;
        public void Unpin(CachedBlock buffer) => buffer.Pinned = false;

        /// <summary>Writes every dirty, unpinned buffer home (without a device flush).</summary>
        public void WriteBack()
        {
            for (int i = 0; i < all.Length; i++)
            {
                CachedBlock buffer = all[i];
                if (buffer.Block >= 0 && buffer.Dirty && !buffer.Pinned) WriteHome(buffer);
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
            index.Clear();
            free.Clear();
            newest = oldest = null;
            for (int i = all.Length - 1; i >= 0; i--)
            {
                all[i].Block = -1; all[i].Dirty = false; all[i].Pinned = false;
                all[i].Newer = all[i].Older = null;
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
                index.Remove(candidate.Block);
                candidate.Block = -1;
                return candidate;
            }
            if (!mayWrite) return null;
            throw new InvalidOperationException("buffer cache: every buffer is pinned by the running transaction");
        }

        void ReadAheadAfter(long block)
        {
            int count = 0;
            while (count < ReadAhead && block + 1 + count < blockCount && !index.ContainsKey(block + 1 + count)) count++;
            if (count == 0) return;
            if (store.Read((block + 1) * deviceBlocksPerBlock, count * deviceBlocksPerBlock, readAheadBuffer, 0) < 0) return;
            for (int i = 0; i < count; i++)
            {
                CachedBlock buffer = TakeVictim(false);
                if (buffer == null) return;
                Buffer.BlockCopy(readAheadBuffer, i * blockSize, buffer.Data, 0, blockSize);
                Insert(buffer, block + 1 + i, false);
            }
        }

        void Insert(CachedBlock buffer, long block, bool asNewest)
        {
            buffer.Block = block;
            buffer.Dirty = false;
            buffer.Pinned = false;
            index[block] = buffer;
            if (asNewest) LinkNewest(buffer); else LinkOldest(buffer);
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
