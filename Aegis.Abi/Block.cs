// Block devices (issue #11): the kernel multiplexes disks and protects their sectors; what the
// sectors mean (a file system, a database) is the libOS's business. docs/abi.md, "Disks".
//
// A disk carries, in its first MiB, an extent table the kernel keeps (two copies, each a header
// sector and ExtentRecordSectors sectors of records; the newer valid copy wins at boot): which
// named extents of the disk exist. The table is the on-disk record of ownership — it survives
// reboots — and an Extent capability is the right to read (and, if writable, write) one extent.
// A Disk capability (init holds it, in CapabilitySlots.Disk) opens, allocates and frees extents.
using System.Runtime.InteropServices;

namespace Aegis.Abi
{
    public static class BlockLimits
    {
        /// <summary>Bytes in a sector: every sector number and count is in these.</summary>
        public const int SectorSize = 512;
        /// <summary>Sectors in a page (a request's buffer is whole pages).</summary>
        public const int SectorsPerPage = 8;
        /// <summary>Pages one request may move (128 KiB).</summary>
        public const int MaximumPagesPerRequest = 32;
        /// <summary>Requests an environment may have submitted and not yet collected with
        /// BlockComplete (in flight or completed): past it BlockSubmit answers WouldBlock.</summary>
        public const int MaximumRequestsPerEnvironment = 32;
        /// <summary>Requests the kernel holds for all environments together (its request slots).</summary>
        public const int MaximumRequests = 128;
        /// <summary>Extents a disk's table holds.</summary>
        public const int MaximumExtents = 64;
        /// <summary>Bytes of an extent's name (UTF-8, shorter names end with a zero byte).</summary>
        public const int NameBytes = 24;
        /// <summary>The first sector an extent may use: below it are the MBR and the two copies of
        /// the extent table (a partition table's usual 1 MiB alignment).</summary>
        public const ulong FirstExtentSector = 2048;
        /// <summary>Where the table's two copies start (each: a header sector, then the records).</summary>
        public const ulong TableCopyA = 2, TableCopyB = 16;
        /// <summary>Sectors of records in a copy (64 records of 64 bytes).</summary>
        public const int ExtentRecordSectors = 8;
        /// <summary>Bytes of one record.</summary>
        public const int ExtentRecordSize = 64;
    }

    /// <summary>What a BlockRequest asks.</summary>
    public enum BlockOperation : uint
    {
        /// <summary>Sectors into the buffer's pages (the device writes memory: every page must be
        /// mapped writable and be the caller's own frame, or one granted to it writable).</summary>
        Read = 0,
        /// <summary>The buffer's pages to the sectors (an Extent capability that is writable).</summary>
        Write = 1,
        /// <summary>Everything written before it that completed is durable once it completes
        /// (Sector, Buffer and Pages must be 0).</summary>
        Flush = 2,
    }

    /// <summary>BlockSubmit's argument, read from the caller's memory (32 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BlockRequest
    {
        /// <summary>The caller's own number for the request; its completion carries it back.</summary>
        public ulong Tag;
        /// <summary>The first sector, counted from the start of the extent.</summary>
        public ulong Sector;
        /// <summary>The buffer: a page-aligned user address of Pages whole pages.</summary>
        public ulong Buffer;
        public BlockOperation Operation;
        /// <summary>1..MaximumPagesPerRequest (0 for Flush).</summary>
        public uint Pages;
    }

    /// <summary>One completed request, as BlockComplete writes it (16 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BlockCompletion
    {
        public ulong Tag;
        /// <summary>0, or an Error: DeviceError when the device failed the request or did not
        /// answer in time.</summary>
        public long Status;
    }

    /// <summary>What BlockInfo writes (64 bytes): about the disk (a Disk capability) or one extent
    /// (an Extent capability).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BlockInfo
    {
        /// <summary>The disk's sectors (Disk), or the extent's (Extent).</summary>
        public ulong Sectors;
        /// <summary>Sectors no extent holds (Disk), or the extent's first sector on the disk (Extent).</summary>
        public ulong FreeOrStart;
        /// <summary>BlockInfoFlags.</summary>
        public ulong Flags;
        /// <summary>Extents in the table (Disk), or the extent's index in it (Extent).</summary>
        public ulong Extents;
        /// <summary>Requests completed and failed on this disk since boot.</summary>
        public ulong Completed, Failed;
        /// <summary>The PCI address of the controller (bus &lt;&lt; 8 | device &lt;&lt; 3 | function).</summary>
        public ulong PciAddress;
        /// <summary>BlockController.</summary>
        public ulong Controller;
    }

    public static class BlockInfoFlags
    {
        /// <summary>The capability is an Extent's (else the Disk's).</summary>
        public const ulong Extent = 1;
        /// <summary>Writes are allowed through the capability.</summary>
        public const ulong Writable = 2;
        /// <summary>The disk holds a valid extent table (else only its information is available).</summary>
        public const ulong Formatted = 4;
        /// <summary>The device failed a request or stopped answering: every request now fails.</summary>
        public const ulong Failed = 8;
    }

    public enum BlockController : ulong
    {
        None = 0,
        /// <summary>virtio-blk through its legacy (transitional) I/O interface.</summary>
        VirtioBlock = 1,
        /// <summary>A SATA disk on an AHCI controller (one port).</summary>
        Ahci = 2,
    }

    /// <summary>How an Extent capability's object is packed (the kernel reads it; a libOS may print it).</summary>
    public static class ExtentCapability
    {
        /// <summary>Bits 0..7: the extent's index in the table.</summary>
        public const ulong IndexMask = 0xFF;
        /// <summary>Bit 8: writable.</summary>
        public const ulong Writable = 0x100;
        /// <summary>Bits 16..23: the disk.</summary>
        public const int DiskShift = 16;
        /// <summary>Bits 32..63: the extent's generation (a freed and reallocated extent has a new
        /// one, so an old capability names nothing).</summary>
        public const int GenerationShift = 32;
    }
}
