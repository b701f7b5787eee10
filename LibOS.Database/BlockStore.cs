// BlockStore: where the database's blocks live when they are not in the buffer pool. Aegis has
// no disk driver yet, so this store keeps its blocks in memory (a RAM disk the libOS owns); the
// buffer pool talks to it only through ReadBlock and WriteBlock, as it would to a disk's block
// interface. Counts the transfers, so a test can see what the replacement policy cost.
// Invariant: every block exists (zeroed until written); block numbers are 0 .. BlockCount-1.
using System;

namespace Aegis.LibOS.Database
{
    public sealed unsafe class BlockStore
    {
        public const int BlockSize = 4096;

        private readonly byte[] _blocks;

        public BlockStore(int blockCount)
        {
            if (blockCount <= 0)
                throw new ArgumentOutOfRangeException(nameof(blockCount));
            BlockCount = blockCount;
            _blocks = new byte[blockCount * BlockSize];
        }

        public int BlockCount { get; }
        public ulong Reads { get; private set; }
        public ulong Writes { get; private set; }

        public void ReadBlock(ulong block, byte* destination)
        {
            fixed (byte* source = &_blocks[Offset(block)])
                Buffer.MemoryCopy(source, destination, BlockSize, BlockSize);
            Reads++;
        }

        public void WriteBlock(ulong block, byte* source)
        {
            fixed (byte* destination = &_blocks[Offset(block)])
                Buffer.MemoryCopy(source, destination, BlockSize, BlockSize);
            Writes++;
        }

        private int Offset(ulong block)
        {
            if (block >= (ulong)BlockCount)
                throw new ArgumentOutOfRangeException(nameof(block));
            return (int)block * BlockSize;
        }
    }
}
