// Copy-on-write faults resolved in the kernel (SystemCall.CopyOnWriteMark, docs/abi.md). The
// libOS decides which pages are copy-on-write (it marks them with a software bit, PageShare
// CopyOnWrite does so at fork) and asks the kernel to resolve write faults on pages carrying
// that mark itself, instead of an upcall and five calls from its handler (about 5,000
// instructions a fault; here about 1,000). The rule is the libOS handler's (LibOS.Unixish's
// CopyOnWrite.cs), moved, not changed:
//   - a frame the faulting environment owns and nobody else maps: writable again, mark cleared;
//   - any other: a fresh frame of its own (charged to its account) with the same bytes replaces
//     it, writable, without the mark and the drop bits; if it owned the old frame (others still
//     map it) it gives it up as PageShare Release does (freed with its last mapping, charged to
//     it until then).
// Anything else (no mark, a device frame, the account or the pool exhausted, no mapping record)
// declines, and the fault is upcalled as it was before the call: the libOS's handler stays the
// fallback. Invariants: as UserPageTables.cs (every change of a leaf keeps the reverse map and
// the mapping count exact; the TLB entry of the page is flushed); nothing allocates on the heap.
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe partial class UserPageTables
    {
        /// <summary>SystemCall.CopyOnWriteMark(slot, mark, dropOnCopy), the slot resolved to 'target'.</summary>
        public static ulong SetCopyOnWriteMark(Environment target, ulong mark, ulong drop)
        {
            if ((mark & ~SoftwareBits) != 0 || (drop & ~SoftwareBits) != 0 || (mark == 0 && drop != 0))
                return Fail(Error.InvalidArgument);
            target.CopyOnWriteMark = mark;
            target.CopyOnWriteDrop = drop;
            return Ok();
        }

        /// <summary>A write fault from ring 3 at 'address' (the page was present: a protection
        /// violation). True when the kernel made the page writable (the environment retries the
        /// write); false: deliver the fault as an upcall.</summary>
        public static bool TryCopyOnWrite(Environment environment, ulong address)
        {
            ulong mark = environment.CopyOnWriteMark;
            if (mark == 0) return false;
            if (address >= UserAddresses.ReservedTop) return false;
            ulong page = address & ~4095UL;
            ulong* leaf = LeafTable(environment.RootPhysical, page);
            if (leaf == null) return false;
            leaf += (page >> 12) & 511;
            ulong entry = *leaf;
            const ulong presentUser = PageBits.Present | PageBits.User;
            if ((entry & presentUser) != presentUser || (entry & PageBits.Writable) != 0 || (entry & mark) != mark) return false;
            FrameLedger ledger = Environments.Ledger;
            ulong frame = (entry & PageBits.FrameMask) >> PageBits.FrameShift;
            if (frame >= ledger.FrameLimit) return false;
            ulong owner = ledger.OwnerOf(frame);
            if (owner == FrameLedger.DeviceOwner) return false;
            if (owner == environment.Id && ledger.MappingsOf(frame) == 1)
            {
                *leaf = (entry | PageBits.Writable) & ~mark;
                Changed(environment, page, 1);
                environment.CopyOnWriteKept++;
                return true;
            }
            // A copy: the new frame is the environment's own (as FrameAllocate), not zeroed first.
            if (Accounts.CheckFrames(environment, 1) != Error.None || ledger.FreeMappingRecords == 0) return false;
            if (!KernelMemory.Frames.TryAllocate(out ulong fresh)) return false;
            ulong space = SpaceOf(environment);
            // Owned first (the ledger assigns only a frame nobody maps), then mapped.
            if (ledger.Assign(fresh, environment.Id) != Error.None)
            {
                KernelMemory.Frames.Free(fresh);
                return false;
            }
            if (ledger.AddMapping(fresh, space, page) != Error.None)
            {
                if (ledger.ReleaseOwnership(fresh)) KernelMemory.Frames.Free(fresh);
                return false;
            }
            Cpu.CopyPage(KernelMemory.PhysicalToVirtual(fresh * 4096), KernelMemory.PhysicalToVirtual(frame * 4096));
            Accounts.Charge(environment, 1);
            environment.Page->FramesOwned = ledger.CountOwnedBy(environment.Id);
            *leaf = fresh * 4096 | (entry & ~(PageBits.FrameMask | mark | environment.CopyOnWriteDrop | PageBits.Accessed | PageBits.Dirty)) | PageBits.Writable;
            // The old frame: given up if it was ours (others map it: it goes with its last mapping),
            // then this mapping of it forgotten (freed now if that was the last of an ownerless frame).
            if (owner == environment.Id) ledger.Release(frame, environment.Id);
            if (ledger.RemoveMapping(frame, space, page)) FreeUnowned(frame);
            Changed(environment, page, 1);
            environment.CopyOnWriteCopies++;
            return true;
        }

        /// <summary>SystemCall.PageAllocate(address, pageCount, permissions): fresh frames of the
        /// caller's own mapped there, all or nothing (docs/abi.md). Checks first (arguments, no page
        /// mapped, the account for frames and page tables, mapping records), then per page
        /// Environments.AllocateFrame and Map; a failure after the checks (the pool or page-table
        /// memory) frees what this call took.</summary>
        public static ulong PageAllocate(Environment caller, ulong address, ulong pageCount, ulong permissions)
        {
            if ((address & 4095) != 0 || pageCount == 0 || pageCount > (ulong)SystemCallLimits.MaximumMapRequests
                || MappingValidator.CheckPermissions(permissions) != Error.None)
                return Fail(Error.InvalidArgument);
            if (address < UserAddresses.LowestMappable || address >= UserAddresses.ReservedTop
                || pageCount > (UserAddresses.ReservedTop - address) / 4096) return Fail(Error.BadAddress);
            ulong end = address + pageCount * 4096;
            for (ulong page = address; page < end; )
            {
                ulong tableEnd = (page | (512UL * 4096 - 1)) + 1;
                if (tableEnd > end) tableEnd = end;
                ulong* table = LeafTable(caller.RootPhysical, page);
                if (table != null)
                {
                    ulong tableBase = page & ~(512UL * 4096 - 1);
                    int limit = (int)((tableEnd - tableBase) >> 12);
                    if (NextPresent(table, (int)((page >> 12) & 511), limit) < limit) return Fail(Error.Busy);
                }
                page = tableEnd;
            }
            Error error = Accounts.CheckFrames(caller, pageCount + pageCount / 512 + 7); // the frames and their page tables
            if (error == Error.None) error = CheckNewMappings(caller, (int)pageCount, pageCount, nearLimit: false);
            if (error != Error.None) return Fail(error);
            PageFlags flags = MappingValidator.ToPageFlags(permissions);
            for (ulong page = address; page < end; page += 4096)
            {
                error = Environments.AllocateFrame(caller, SystemCallLimits.AnyFrame, out ulong frame);
                if (error == Error.None)
                {
                    error = Map(caller, page, frame, flags);
                    if (error != Error.None) Environments.FreeFrame(caller, frame, countsTowardRevocation: false);
                }
                if (error != Error.None)
                {
                    // Undo this call's pages (ours alone: nobody else could map them meanwhile).
                    for (ulong undo = address; undo < page; undo += 4096)
                    {
                        ulong* leaf = PageWalk.UserLeaf(caller, undo, false);
                        if (leaf != null) Environments.FreeFrame(caller, (*leaf & PageBits.FrameMask) >> PageBits.FrameShift, countsTowardRevocation: false);
                    }
                    return Fail(error);
                }
            }
            return Ok(pageCount);
        }
    }
}
