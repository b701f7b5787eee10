// The device a file system sits on: numbered blocks of one size, read and written whole.
// Results are 0 (or a count) on success and a negative Linux errno on failure; a store never
// throws for an I/O error. Flush returns only when every earlier write is durable.
//
// MemoryBlockStore keeps the blocks in one byte array (host tests, RAM disks).
using System;
using Aegis.LibOS.Unixish.Linux;

namespace Aegis.LibOS.Unixish.Storage
{
    /// <summary>A block store's requests to its device, as /proc/diskstats shows them.</summary>
    public interface IDiskCounters
    {
        ulong Reads { get; }
        ulong SectorsRead { get; }
        ulong Writes { get; }
        ulong SectorsWritten { get; }
        /// <summary>What Linux would call the device ("vda", "sda").</summary>
        string DeviceName { get; }
    }

    public interface IBlockStore
    {
        /// <summary>Bytes in one device block (512 for a disk sector).</summary>
        int BlockSize { get; }
        long BlockCount { get; }
        /// <summary>Reads blocks [block, block+count) into buffer at offset: 0 or -errno.</summary>
        int Read(long block, int count, byte[] buffer, int offset);
        /// <summary>Writes blocks [block, block+count) from buffer at offset: 0 or -errno.</summary>
        int Write(long block, int count, byte[] buffer, int offset);
        /// <summary>Makes every earlier write durable: 0 or -errno.</summary>
        int Flush();
    }

    /// <summary>A block store over one byte array; every write is durable at once.</summary>
    public sealed class MemoryBlockStore : IBlockStore
    {
        readonly byte[] bytes;
        readonly int blockSize;

        public MemoryBlockStore(byte[] image, int blockSize = 512)
        {
            if (blockSize <= 0 || image.Length % blockSize != 0)
                throw new ArgumentException("image length must be a multiple of the block size");
            bytes = image;
            this.blockSize = blockSize;
        }

        public MemoryBlockStore(long blockCount, int blockSize = 512) : this(new byte[blockCount * blockSize], blockSize) { }

        public int BlockSize => blockSize;
        public long BlockCount => bytes.Length / blockSize;
        /// <summary>The image itself (not a copy).</summary>
        public byte[] Bytes => bytes;

        public int Read(long block, int count, byte[] buffer, int offset)
        {
            if (!InRange(block, count, buffer, offset)) return -Errno.EINVAL;
            Array.Copy(bytes, (int)(block * blockSize), buffer, offset, count * blockSize);
            return 0;
        }

        public int Write(long block, int count, byte[] buffer, int offset)
        {
            if (!InRange(block, count, buffer, offset)) return -Errno.EINVAL;
            Array.Copy(buffer, offset, bytes, (int)(block * blockSize), count * blockSize);
            return 0;
        }

        public int Flush() => 0;

        bool InRange(long block, int count, byte[] buffer, int offset) =>
            block >= 0 && count >= 0 && block + count <= BlockCount && offset >= 0 &&
            (long)offset + (long)count * blockSize <= buffer.Length;
    }
}
