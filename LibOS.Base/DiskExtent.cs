// DiskExtent: a libOS's handle on one extent of the disk (issue #11; docs/disks.md): the Extent
// capability, its size, and requests by DMA straight into the caller's own pages. Synchronous
// calls (Read, Write, Flush) submit one request and wait for it; Submit and Poll let a caller keep
// many in flight. Completions arrive for the whole environment (BlockComplete), so they are
// collected here, process-wide, and kept by tag until their request's caller asks.
// Invariants: tags are unique for the life of the environment (a counter); a completion is kept
// in s_done until Take returns it; at most BlockLimits.MaximumRequestsPerEnvironment are out.
using Aegis.Abi;

namespace Aegis.LibOS
{
    public sealed unsafe class DiskExtent
    {
        public const int SectorsPerPage = BlockLimits.SectorsPerPage;
        private const int Kept = 2 * BlockLimits.MaximumRequestsPerEnvironment; // room for completions async callers have not taken yet

        private static ulong s_nextTag = 1;
        private static readonly ulong[] s_doneTags = new ulong[Kept];
        private static readonly long[] s_doneStatus = new long[Kept];
        private static int s_doneCount;

        /// <summary>The Extent capability's slot.</summary>
        public ulong Slot { get; }
        /// <summary>Its size in 512-byte sectors, and where it starts on the disk.</summary>
        public ulong Sectors { get; }
        public ulong Start { get; }
        public bool Writable { get; }
        /// <summary>The disk's controller (BlockController).</summary>
        public ulong Controller { get; }
        /// <summary>Whole pages it holds.</summary>
        public ulong Pages => Sectors / SectorsPerPage;

        private DiskExtent(ulong slot, BlockInfo info)
        {
            Slot = slot;
            Sectors = info.Sectors;
            Start = info.FreeOrStart;
            Writable = (info.Flags & BlockInfoFlags.Writable) != 0;
            Controller = info.Controller;
        }

        /// <summary>The extent named 'name' (writable), through the Disk capability in diskSlot.</summary>
        public static Error Open(string name, out DiskExtent extent, ulong diskSlot = CapabilitySlots.Disk)
        {
            extent = null;
            byte* bytes = stackalloc byte[BlockLimits.NameBytes];
            if (!Ascii(name, bytes)) return Error.InvalidArgument;
            SystemCallResult result = SystemCalls.ExtentOpen(diskSlot, bytes, (ulong)name.Length);
            return result.IsError ? result.Error : From(result.Value, out extent);
        }

        /// <summary>A new extent of 'sectors' named 'name' (on the disk when this returns).</summary>
        public static Error Allocate(string name, ulong sectors, out DiskExtent extent, ulong diskSlot = CapabilitySlots.Disk)
        {
            extent = null;
            byte* bytes = stackalloc byte[BlockLimits.NameBytes];
            if (!Ascii(name, bytes)) return Error.InvalidArgument;
            SystemCallResult result = SystemCalls.ExtentAllocate(diskSlot, sectors, bytes, (ulong)name.Length);
            return result.IsError ? result.Error : From(result.Value, out extent);
        }

        /// <summary>Opens 'name', or makes it with 'sectors' when the disk has no such extent.</summary>
        public static Error OpenOrAllocate(string name, ulong sectors, out DiskExtent extent, ulong diskSlot = CapabilitySlots.Disk)
        {
            Error error = Open(name, out extent, diskSlot);
            return error == Error.NoSuchExtent ? Allocate(name, sectors, out extent, diskSlot) : error;
        }

        /// <summary>The extent whose capability is in 'slot' (one another environment granted with CapabilityCopy).</summary>
        public static Error FromSlot(ulong slot, out DiskExtent extent) => From(slot, out extent);

        private static Error From(ulong slot, out DiskExtent extent)
        {
            extent = null;
            BlockInfo info;
            Error error = SystemCalls.BlockInfo(slot, &info);
            if (error != Error.None) return error;
            extent = new DiskExtent(slot, info);
            return Error.None;
        }

        private static bool Ascii(string name, byte* into)
        {
            if (name == null || name.Length == 0 || name.Length > BlockLimits.NameBytes) return false;
            for (int i = 0; i < name.Length; i++)
            {
                if (name[i] == 0 || name[i] > 0x7E) return false;
                into[i] = (byte)name[i];
            }
            return true;
        }

        /// <summary>Starts a request: 'pages' pages at the page-aligned 'buffer' from or to the
        /// extent's 'sector' on. Its tag (for Take) comes back in 'tag'.</summary>
        public Error Submit(BlockOperation operation, ulong sector, ulong buffer, uint pages, out ulong tag)
        {
            tag = s_nextTag++;
            BlockRequest request = new BlockRequest { Tag = tag, Operation = operation, Sector = sector, Buffer = buffer, Pages = pages };
            Error error = SystemCalls.BlockSubmit(Slot, &request);
            while (error == Error.WouldBlock)
            {
                // Our requests fill the kernel's allowance: collect what finished (kept here), then retry.
                if (!Collect()) SystemCalls.Wait();
                error = SystemCalls.BlockSubmit(Slot, &request);
            }
            return error;
        }

        /// <summary>The status of request 'tag' if it finished (it is then forgotten).</summary>
        public static bool TryTake(ulong tag, out Error status)
        {
            status = Error.None;
            for (int i = 0; i < s_doneCount; i++)
            {
                if (s_doneTags[i] != tag) continue;
                status = (Error)s_doneStatus[i];
                s_doneCount--;
                s_doneTags[i] = s_doneTags[s_doneCount];
                s_doneStatus[i] = s_doneStatus[s_doneCount];
                return true;
            }
            return false;
        }

        /// <summary>Waits for request 'tag' (Wait between collections) and returns its status.</summary>
        public static Error Take(ulong tag)
        {
            while (true)
            {
                if (TryTake(tag, out Error status)) return status;
                if (!Collect()) SystemCalls.Wait();
            }
        }

        /// <summary>Collects finished requests from the kernel into the kept list; true when any came.</summary>
        public static bool Collect()
        {
            BlockCompletion* completions = stackalloc BlockCompletion[Kept];
            int room = Kept - s_doneCount;
            if (room <= 0) return false;
            if (room > BlockLimits.MaximumRequestsPerEnvironment) room = BlockLimits.MaximumRequestsPerEnvironment;
            SystemCallResult result = SystemCalls.BlockComplete(completions, (ulong)room);
            if (result.IsError || result.Value == 0) return false;
            for (ulong i = 0; i < result.Value; i++)
            {
                s_doneTags[s_doneCount] = completions[i].Tag;
                s_doneStatus[s_doneCount] = completions[i].Status;
                s_doneCount++;
            }
            return true;
        }

        public Error Read(ulong sector, ulong buffer, uint pages) => Run(BlockOperation.Read, sector, buffer, pages);
        public Error Write(ulong sector, ulong buffer, uint pages) => Run(BlockOperation.Write, sector, buffer, pages);
        /// <summary>Everything written before it that completed is durable when it returns.</summary>
        public Error Flush() => Run(BlockOperation.Flush, 0, 0, 0);

        private Error Run(BlockOperation operation, ulong sector, ulong buffer, uint pages)
        {
            Error error = Submit(operation, sector, buffer, pages, out ulong tag);
            return error != Error.None ? error : Take(tag);
        }
    }
}
