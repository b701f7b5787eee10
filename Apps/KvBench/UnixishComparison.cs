// kvbench's ",unixish" part: the policy comparison of issue #11. The same B+tree (LibOS.Database's
// KvStore and BTree, unchanged) runs over a file of the Unixish libOS's ext2 file system instead of
// over an extent of its own: FilePageStore is an IPageStore whose pages are the file's 4 KiB blocks,
// read and written through Ext2FileSystem and its LRU BufferCache (LibOS.Unixish/Storage), on the
// extent "kvfs" (ExtentBlockStore). The file system's cache is limited to 12 MiB (3,072 blocks),
// and the store's own PageCache to 2 frames, so the file system's policy decides what stays in
// memory. kv_mixed then runs as on the database libOS, and the pages the device read are counted
// under the file system (CountingBlockStore).
// The file is a copy of the extent kv's store after kv_put (its header, meta page and tree pages at
// the same offsets; the log's pages are holes), so both sides run on the very same tree.
using System;
using Aegis.Abi;
using Aegis.LibOS;
using Aegis.LibOS.Database;
using Aegis.LibOS.Unixish.Disk;
using Aegis.LibOS.Unixish.Storage;

namespace Aegis.Apps.KvBench
{
    /// <summary>An IBlockStore that counts the sectors read and written through it.</summary>
    internal sealed class CountingBlockStore : IBlockStore
    {
        private readonly IBlockStore _inner;
        public CountingBlockStore(IBlockStore inner) { _inner = inner; }
        public ulong SectorsRead, SectorsWritten;
        public int BlockSize => _inner.BlockSize;
        public long BlockCount => _inner.BlockCount;

        public int Read(long block, int count, byte[] buffer, int offset)
        {
            SectorsRead += (ulong)count;
            return _inner.Read(block, count, buffer, offset);
        }

        public int Write(long block, int count, byte[] buffer, int offset)
        {
            SectorsWritten += (ulong)count;
            return _inner.Write(block, count, buffer, offset);
        }

        public int Flush() => _inner.Flush();
    }

    /// <summary>A key-value store's pages as the 4 KiB blocks of one ext2 file.</summary>
    internal sealed unsafe class FilePageStore : IPageStore
    {
        private readonly Ext2FileSystem _fs;
        private readonly uint _inode;
        private readonly byte[] _buffer = new byte[32 * PageCache.PageSize];

        public FilePageStore(Ext2FileSystem fs, uint inode, ulong pageCount)
        {
            _fs = fs;
            _inode = inode;
            PageCount = pageCount;
        }

        public ulong PageCount { get; }

        public void Read(ulong page, byte* destination, int count)
        {
            while (count > 0)
            {
                int n = count < 32 ? count : 32, bytes = n * PageCache.PageSize;
                int read = _fs.Read(_inode, (long)page * PageCache.PageSize, _buffer, 0, bytes);
                if (read < 0) throw new InvalidOperationException("the file read failed: " + read.ToString() + " " + _fs.LastError);
                if (read < bytes) Array.Clear(_buffer, read, bytes - read); // past the end: zeros, as a store's unwritten pages
                fixed (byte* from = _buffer) Buffer.MemoryCopy(from, destination, bytes, bytes);
                page += (ulong)n; destination += bytes; count -= n;
            }
        }

        public void Write(ulong page, byte* source, int count)
        {
            while (count > 0)
            {
                int n = count < 32 ? count : 32, bytes = n * PageCache.PageSize;
                fixed (byte* to = _buffer) Buffer.MemoryCopy(source, to, bytes, bytes);
                int written = _fs.Write(_inode, (long)page * PageCache.PageSize, _buffer, 0, bytes);
                if (written != bytes) throw new InvalidOperationException("the file write failed: " + written.ToString() + " " + _fs.LastError);
                page += (ulong)n; source += bytes; count -= n;
            }
        }

        public void Flush()
        {
            int result = _fs.Sync();
            if (result != 0) throw new InvalidOperationException("the file system did not sync: " + result.ToString());
        }
    }
}
