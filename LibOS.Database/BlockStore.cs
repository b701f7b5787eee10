// BlockStore: where the database's blocks live when they are not in the buffer pool: an extent of
// the disk the database owns (issue #11: no file system underneath; docs/disks.md), or memory
// (a RAM disk, for tests without a disk). On the disk a block moves by DMA straight between the
// device and the buffer pool's own page (no second copy); a destination that is not a whole page
// of ours goes through one bounce page. The buffer pool talks to it only through ReadBlock,
// WriteBlock and Flush. Counts the transfers, so a test can see what the replacement policy cost.
// Invariant: every block exists (zeroed until written); block numbers are 0 .. BlockCount-1.
using System;
using Aegis.Abi;

namespace Aegis.LibOS.Database
{
    public sealed unsafe class BlockStore : IAsyncPageStore
    {
        public const int BlockSize = 4096;
        private const int MaximumRun = BlockLimits.MaximumPagesPerRequest;

        private readonly byte[] _blocks;
        private readonly DiskExtent _extent;
        private ulong _bounce;

        /// <summary>A RAM disk of blockCount blocks.</summary>
        public BlockStore(int blockCount)
        {
            if (blockCount <= 0)
                throw new ArgumentOutOfRangeException(nameof(blockCount));
            BlockCount = blockCount;
            _blocks = new byte[blockCount * BlockSize];
        }

        /// <summary>The blocks of a disk extent (as many whole pages as it holds).</summary>
        public BlockStore(DiskExtent extent)
        {
            _extent = extent ?? throw new ArgumentNullException(nameof(extent));
            ulong pages = extent.Pages;
            if (pages == 0 || pages > int.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(extent));
            BlockCount = (int)pages;
        }

        public bool OnDisk => _extent != null;

        /// <summary>Who waits for this store's disk requests: null, the store itself
        /// (DiskExtent.Take); a TransactionScheduler runs other transactions meanwhile.</summary>
        public IRequestWaiter Waiter { get; set; }

        private Error Request(BlockOperation operation, ulong sector, ulong address, uint pages)
        {
            Error error = _extent.Submit(operation, sector, address, pages, out ulong tag);
            if (error != Error.None) return error;
            return Waiter != null ? Waiter.WaitFor(tag) : DiskExtent.Take(tag);
        }

        public int BlockCount { get; }
        public ulong Reads { get; private set; }
        public ulong Writes { get; private set; }

        public void ReadBlock(ulong block, byte* destination)
        {
            int offset = Offset(block);
            if (_extent != null) Transfer(block, destination, write: false);
            else
                fixed (byte* source = &_blocks[offset])
                    Buffer.MemoryCopy(source, destination, BlockSize, BlockSize);
            Reads++;
        }

        public void WriteBlock(ulong block, byte* source)
        {
            int offset = Offset(block);
            if (_extent != null) Transfer(block, source, write: true);
            else
                fixed (byte* destination = &_blocks[offset])
                    Buffer.MemoryCopy(source, destination, BlockSize, BlockSize);
            Writes++;
        }

        public ulong PageCount => (ulong)BlockCount;

        /// <summary>IPageStore: 'count' blocks from 'page'; on the disk, one request per 32 blocks
        /// when the memory is page-aligned (DMA straight into it), else block by block.</summary>
        public void Read(ulong page, byte* destination, int count) => Run(page, destination, count, write: false);

        public void Write(ulong page, byte* source, int count) => Run(page, source, count, write: true);

        private void Run(ulong page, byte* memory, int count, bool write)
        {
            if (count < 0 || page + (ulong)count > (ulong)BlockCount) throw new ArgumentOutOfRangeException(nameof(count));
            bool aligned = ((ulong)memory & (BlockSize - 1)) == 0;
            int done = 0;
            while (done < count)
            {
                if (_extent == null || !aligned)
                {
                    if (write) WriteBlock(page + (ulong)done, memory + (long)done * BlockSize);
                    else ReadBlock(page + (ulong)done, memory + (long)done * BlockSize);
                    done++;
                    continue;
                }
                int run = count - done < MaximumRun ? count - done : MaximumRun;
                ulong sector = (page + (ulong)done) * (ulong)DiskExtent.SectorsPerPage;
                ulong address = (ulong)(memory + (long)done * BlockSize);
                Error error = Request(write ? BlockOperation.Write : BlockOperation.Read, sector, address, (uint)run);
                if (error != Error.None)
                    throw new InvalidOperationException("the disk " + (write ? "write" : "read") + " of " + run.ToString() + " blocks at " + (page + (ulong)done).ToString() + " failed: " + Errors.Name(error));
                if (write) Writes += (ulong)run; else Reads += (ulong)run;
                done += run;
            }
        }

        /// <summary>Every block written before it is durable when it returns (no-op in memory).</summary>
        public void Flush()
        {
            if (_extent == null) return;
            Error error = Request(BlockOperation.Flush, 0, 0, 0);
            if (error != Error.None) throw new InvalidOperationException("the disk did not flush: " + Errors.Name(error));
        }

        private void Transfer(ulong block, byte* memory, bool write)
        {
            ulong page = (ulong)memory;
            bool direct = (page & (BlockSize - 1)) == 0;
            if (!direct)
            {
                if (_bounce == 0)
                {
                    _bounce = AddressSpace.Reserve(1);
                    if (_bounce == 0 || Memory.AllocateAndMap(_bounce, 1, Memory.ReadWrite) != Error.None)
                        throw new InvalidOperationException("the block store cannot map its bounce page");
                }
                page = _bounce;
                if (write) Buffer.MemoryCopy(memory, (byte*)page, BlockSize, BlockSize);
            }
            ulong sector = block * (ulong)DiskExtent.SectorsPerPage;
            Error error = write ? _extent.Write(sector, page, 1) : _extent.Read(sector, page, 1);
            if (error != Error.None)
                throw new InvalidOperationException("the disk " + (write ? "write" : "read") + " of block " + block.ToString() + " failed: " + Errors.Name(error));
            if (!direct && !write) Buffer.MemoryCopy((byte*)page, memory, BlockSize, BlockSize);
        }

        private int Offset(ulong block)
        {
            if (block >= (ulong)BlockCount)
                throw new ArgumentOutOfRangeException(nameof(block));
            return (int)block * BlockSize;
        }
    }
}
