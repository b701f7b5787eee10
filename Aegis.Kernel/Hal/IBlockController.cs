// What Exo/BlockDevices.cs needs of a disk controller's driver (issue #11): start a request by
// its slot number, hand back finished ones. The driver owns its device's memory (queues, command
// tables, headers); the data pages are the environment's frames, already checked and pinned.
// Slots are 0..BlockLimits.MaximumRequests (the last is the kernel's own, for the extent table).
using Aegis.Abi;

namespace Aegis.Kernel.Hal
{
    internal unsafe interface IBlockController
    {
        /// <summary>The disk's size in 512-byte sectors.</summary>
        ulong Sectors { get; }
        /// <summary>Whether a flush reaches the medium (else flushes complete at once: a write is
        /// durable when it completes).</summary>
        bool HasFlush { get; }
        BlockController Kind { get; }
        /// <summary>"virtio-blk", "AHCI port 0".</summary>
        string Name { get; }
        /// <summary>Starts request 'slot': 'count' pieces of physical memory (address, length) for
        /// a read or write of 'sector' onwards (none for a flush). False when the device has no
        /// room now (the request waits until a completion makes some).</summary>
        bool TryStart(int slot, BlockOperation operation, ulong sector, ulong* physical, uint* lengths, int count);
        /// <summary>The next finished request, if any: its slot and whether the device reported success.</summary>
        bool TryTakeCompleted(out int slot, out bool succeeded);
        /// <summary>Clears the device's interrupt (called from its interrupt handler).</summary>
        void AcknowledgeInterrupt();
    }
}
