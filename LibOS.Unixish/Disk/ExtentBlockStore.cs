// ExtentBlockStore: a file system's IBlockStore (Storage/IBlockStore.cs) on an extent of the disk
// (issue #11; docs/disks.md): 512-byte blocks, moved by DMA through a staging area of this
// libOS's own pages (the file system's buffers are managed arrays, which a device cannot reach
// page by page), one copy each way. A request is whole pages from any sector, so a run of sectors
// that is not a whole number of pages reads the pages around it (and a write reads them first,
// patches them and writes them back). Not compiled into the host tests: it calls the kernel.
// Invariants: the staging area is StagingPages pages, mapped at construction; no request leaves
// the extent (the kernel would refuse it; this class never asks).
using System;
using Aegis.Abi;
using Aegis.LibOS.Unixish.Linux;
using Aegis.LibOS.Unixish.Storage;

namespace Aegis.LibOS.Unixish.Disk
{
    public sealed unsafe class ExtentBlockStore : IBlockStore, IDiskCounters
    {
        private const int SectorSize = BlockLimits.SectorSize;
        private const int PageSectors = BlockLimits.SectorsPerPage;
        private const int StagingPages = BlockLimits.MaximumPagesPerRequest;

        private readonly DiskExtent _extent;
        private readonly ulong _staging;

        public ExtentBlockStore(DiskExtent extent)
        {
            _extent = extent ?? throw new ArgumentNullException(nameof(extent));
            if (extent.Sectors < PageSectors) throw new ArgumentException("the extent holds less than a page");
            _staging = AddressSpace.Reserve(StagingPages);
            if (_staging == 0 || Memory.AllocateAndMap(_staging, StagingPages, Memory.ReadWrite) != Error.None)
                throw new InvalidOperationException("the block store cannot map its staging pages");
        }

        public int BlockSize => SectorSize;
        public long BlockCount => (long)_extent.Sectors;
        /// <summary>Requests made to the disk (one per staged run of pages), and their sectors.</summary>
        public ulong Reads { get; private set; }
        public ulong Writes { get; private set; }
        public ulong SectorsRead { get; private set; }
        public ulong SectorsWritten { get; private set; }
        public string DeviceName => _extent.Controller == (ulong)Aegis.Abi.BlockController.Ahci ? "sda" : "vda";

        public int Read(long block, int count, byte[] buffer, int offset)
        {
            if (!InRange(block, count, buffer, offset)) return -Errno.EINVAL;
            while (count > 0)
            {
                int sectors = Math.Min(count, StagingPages * PageSectors - PageSectors); // room for a partial page at the start
                int result = Stage(block, sectors, out ulong first, out int pages);
                if (result != 0) return result;
                fixed (byte* into = &buffer[offset])
                    Buffer.MemoryCopy((byte*)_staging + (block - (long)first) * SectorSize, into, (long)sectors * SectorSize, (long)sectors * SectorSize);
                block += sectors; count -= sectors; offset += sectors * SectorSize;
                Reads++;
                SectorsRead += (ulong)pages * PageSectors;
            }
            return 0;
        }

        public int Write(long block, int count, byte[] buffer, int offset)
        {
            if (!InRange(block, count, buffer, offset)) return -Errno.EINVAL;
            while (count > 0)
            {
                int sectors = Math.Min(count, StagingPages * PageSectors - PageSectors);
                ulong first; int pages;
                if (sectors % PageSectors == 0)
                {
                    first = (ulong)block; pages = sectors / PageSectors; // whole pages: nothing to read first
                    if (first + (ulong)pages * PageSectors > _extent.Sectors) { int r = Stage(block, sectors, out first, out pages); if (r != 0) return r; }
                }
                else
                {
                    int r = Stage(block, sectors, out first, out pages); // the pages around it, to patch
                    if (r != 0) return r;
                }
                fixed (byte* from = &buffer[offset])
                    Buffer.MemoryCopy(from, (byte*)_staging + (block - (long)first) * SectorSize, (long)sectors * SectorSize, (long)sectors * SectorSize);
                Error error = _extent.Write(first, _staging, (uint)pages);
                if (error != Error.None) return -Errno.EIO;
                block += sectors; count -= sectors; offset += sectors * SectorSize;
                Writes++;
                SectorsWritten += (ulong)pages * PageSectors;
            }
            return 0;
        }

        public int Flush() => _extent.Flush() == Error.None ? 0 : -Errno.EIO;

        /// <summary>Reads the whole pages that cover [block, block + sectors) into the staging area:
        /// from 'first' (block, or earlier when the pages would pass the extent's end), 'pages' of them.</summary>
        private int Stage(long block, int sectors, out ulong first, out int pages)
        {
            pages = (sectors + PageSectors - 1) / PageSectors;
            first = (ulong)block;
            ulong end = first + (ulong)pages * PageSectors;
            if (end > _extent.Sectors)
            {
                ulong back = end - _extent.Sectors;
                if (back > first) return -Errno.EINVAL;
                first -= back;
                if ((ulong)block + (ulong)sectors > first + (ulong)pages * PageSectors) pages++; // the shifted pages must still cover the run
                if (first + (ulong)pages * PageSectors > _extent.Sectors) return -Errno.EINVAL;
            }
            Error error = _extent.Read(first, _staging, (uint)pages);
            return error == Error.None ? 0 : -Errno.EIO;
        }

        private bool InRange(long block, int count, byte[] buffer, int offset) =>
            block >= 0 && count >= 0 && buffer != null && offset >= 0 && (long)offset + (long)count * SectorSize <= buffer.Length
            && (ulong)block + (ulong)count <= _extent.Sectors;
    }
}
