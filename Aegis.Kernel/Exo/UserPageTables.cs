// The one writer of user page tables. Every change to the user half of an environment's page
// tables — installing, replacing and removing a mapping, changing permissions, clearing the
// accessed/dirty bits, taking a frame out of every address space — happens here (the system
// calls PageMap, PageProtect, PageQuery and PageClean are implemented here; Environments,
// BootImages and the abort protocol call Map/Unmap/UnmapEverywhere). Each change keeps four
// things true together:
//  - ownership: a batch of PageMap requests is checked by the MappingValidator before any of
//    it is applied, and making a page writable (PageProtect) needs the frame's owner or a
//    writable grant: an environment binds only frames it owns or was granted;
//  - the reverse map: the FrameLedger records exactly the user leaves that map each frame
//    (address space = the environment's table slot, and the virtual address), so a frame
//    taken back is unmapped everywhere in O(its mappings), and a frame with no owner goes back
//    to the FrameAllocator when its last mapping goes;
//  - the TLB: a change to the tables of the running environment (or of the loaded CR3)
//    invalidates the page (a range of more than 16 pages reloads CR3);
//  - the upcall checks: Environment.MappingGeneration changes whenever a change touches a page
//    the upcall path checked (its entry page, its stack: TouchesUpcallPages), so the upcall
//    path never uses a check made before the change.
// Fast paths (listed in docs/kernel.md, "Fast paths"): Map and Unmap edit the leaf in place
// through PageWalk when the tables exist (PageTableBuilder builds missing ones); PageProtect's
// run loops (assembly) edit leaves in place and leave the reverse map alone, because they keep
// each leaf's frame and change only permission bits.
// Bounded work: every operation costs O(pages asked for) plus O(mappings of the frame) for
// UnmapEverywhere; UnmapSome (an ended environment's teardown) stops after the budget it is
// given and goes on from a cursor; nothing allocates.
using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe partial class UserPageTables
    {
        private const ulong PageSize = 4096;
        private const ulong Present = PageBits.Present;

        /// <summary>The bits a leaf takes from the caller's flags (as PageTableBuilder.Map).</summary>
        private const ulong LeafFlagMask = (ulong)(PageFlags.Present | PageFlags.Writable | PageFlags.User |
            PageFlags.WriteThrough | PageFlags.CacheDisable | PageFlags.Accessed | PageFlags.Dirty |
            PageFlags.Global | PageFlags.NoExecute) | 0xE00;

        private static readonly ulong[] s_protectSaved = new ulong[SystemCallLimits.MaximumMapRequests];
        private static readonly PageMapRequest[] s_mapRequests = new PageMapRequest[SystemCallLimits.MaximumMapRequests];

        private static ulong Ok(ulong value = 0) => value;
        private static ulong Fail(Error error) => unchecked((ulong)(long)error);

        /// <summary>The reverse map's name for an environment's address space: its table slot.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong SpaceOf(Environment environment) => (ulong)EnvironmentTable.SlotOf(environment.Id);

        // ------------------------------------------------------------------ single pages

        /// <summary>An environment's mapped pages, and its account's share (a mapping takes a record of
        /// the ledger's reverse map, which every environment shares: Accounts.CheckMappings).</summary>
        private static void CountMappings(Environment environment, long delta)
        {
            environment.MappedPages += delta;
            if (environment.Account != null)
                environment.Account.MappingsCharged += delta;
        }

        /// <summary>Installs (or replaces) a user mapping. The caller has checked ownership (the
        /// MappingValidator). NoMemory when a page table or a mapping record cannot be had.</summary>
        public static Error Map(Environment target, ulong virtualAddress, ulong frame, PageFlags flags)
        {
            FrameLedger ledger = Environments.Ledger;
            ulong space = SpaceOf(target);
            ulong entry = frame * PageSize | ((ulong)flags & LeafFlagMask) | Present;
            ulong* slot = PageWalk.LeafSlot(target.RootPhysical, virtualAddress);
            if (slot != null)
            {
                // FAST PATH (docs/kernel.md): the page table exists; write the leaf in place.
                ulong previous = *slot;
                ulong previousFrame = (previous & PageBits.FrameMask) >> PageBits.FrameShift;
                if ((previous & Present) != 0 && previousFrame == frame)
                    *slot = entry; // the same frame again: only the permissions change
                else
                {
                    if (ledger.AddMapping(frame, space, virtualAddress) != Error.None)
                        return Error.NoMemory;
                    *slot = entry;
                    if ((previous & Present) == 0)
                        CountMappings(target, 1);
                    else if (ledger.RemoveMapping(previousFrame, space, virtualAddress))
                        FreeUnowned(previousFrame);
                }
            }
            else
            {
                // No table yet (or a path the builder must widen): the general, host-tested builder.
                if (ledger.AddMapping(frame, space, virtualAddress) != Error.None)
                    return Error.NoMemory;
                MapResult result = target.Tables.Map(virtualAddress, frame * PageSize, flags);
                if (result == MapResult.AlreadyMapped && target.Tables.Unmap(virtualAddress, out ulong replaced) == MapResult.Ok)
                {
                    CountMappings(target, -1);
                    ulong replacedFrame = (replaced & PageBits.FrameMask) >> PageBits.FrameShift;
                    if (ledger.RemoveMapping(replacedFrame, space, virtualAddress))
                        FreeUnowned(replacedFrame);
                    result = target.Tables.Map(virtualAddress, frame * PageSize, flags);
                }
                if (result != MapResult.Ok)
                {
                    if (ledger.RemoveMapping(frame, space, virtualAddress))
                        FreeUnowned(frame);
                    return result == MapResult.OutOfMemory ? Error.NoMemory : Error.InvalidArgument;
                }
                CountMappings(target, 1);
            }
            Changed(target, virtualAddress, 1);
            return Error.None;
        }

        /// <summary>Removes a user mapping; its frame goes back to the pool if that was its last
        /// mapping and it has no owner. NotMapped when nothing is mapped there.</summary>
        public static Error Unmap(Environment target, ulong virtualAddress)
        {
            // FAST PATH (docs/kernel.md): clear the leaf in place.
            ulong* leaf = PageWalk.Leaf(target.RootPhysical, virtualAddress, out _);
            if (leaf == null)
                return Error.NotMapped;
            ulong previous = *leaf;
            *leaf = 0;
            CountMappings(target, -1);
            ulong frame = (previous & PageBits.FrameMask) >> PageBits.FrameShift;
            if (Environments.Ledger.RemoveMapping(frame, SpaceOf(target), virtualAddress))
                FreeUnowned(frame);
            Changed(target, virtualAddress, 1);
            return Error.None;
        }

        /// <summary>New permissions for a mapped page (same frame; accessed and dirty kept).</summary>
        public static Error Protect(Environment target, ulong virtualAddress, PageFlags flags)
        {
            ulong* leaf = PageWalk.UserLeaf(target, virtualAddress, false);
            if (leaf == null)
                return Error.NotMapped;
            ulong kept = *leaf & (PageBits.FrameMask | PageBits.Accessed | PageBits.Dirty);
            *leaf = kept | ((ulong)flags & ~(PageBits.FrameMask | PageBits.Accessed | PageBits.Dirty));
            Changed(target, virtualAddress, 1);
            return Error.None;
        }

        /// <summary>Takes the frame out of every address space that maps it (the owner's, its
        /// children's, grantees'): FrameFree and the abort protocol. O(the frame's mappings).</summary>
        public static void UnmapEverywhere(ulong frame)
        {
            FrameLedger ledger = Environments.Ledger;
            while (ledger.TryGetMapping(frame, out ulong space, out ulong virtualAddress))
            {
                Environment holder = Environments.At((int)space);
                ulong* leaf = holder == null ? null : PageWalk.Leaf(holder.RootPhysical, virtualAddress, out _);
                if (leaf != null && ((*leaf & PageBits.FrameMask) >> PageBits.FrameShift) == frame)
                {
                    *leaf = 0;
                    CountMappings(holder, -1);
                    Changed(holder, virtualAddress, 1);
                }
                else
                    Diagnostics.KernelAssert.That(false, "the reverse map names a page that does not map the frame");
                // Always forget the record, so the loop ends whatever the tables said.
                if (ledger.RemoveMapping(frame, space, virtualAddress))
                    FreeUnowned(frame);
            }
        }

        /// <summary>What looking through one page table's 512 entries costs, in teardown units (a
        /// mapping removed is one).</summary>
        public const long PageTableScanUnits = 8;

        /// <summary>Removes the user mappings of an environment that has ended (the information pages
        /// too), from page number 'cursor' on, spending about 'budget' units (one per mapping removed,
        /// PageTableScanUnits per table looked through; absent entries are skipped free, and each
        /// table is looked through once). True when none is left; false with 'cursor' where to go on.</summary>
        public static bool UnmapSome(Environment environment, ref ulong cursor, ref long budget)
        {
            const ulong userPages = 1UL << 35; // 256 top-level entries of 2^27 pages
            FrameLedger ledger = Environments.Ledger;
            ulong space = SpaceOf(environment);
            byte* window = (byte*)KernelMemory.PhysicalWindow;
            ulong* pml4 = (ulong*)(window + environment.RootPhysical);
            ulong page = cursor;
            // One loop per level, each resuming at the cursor's index and passing absent entries
            // eight at a time (NextPresent): a sparse table costs about 130 instructions, not a
            // walk from the top per entry.
            while (page < userPages)
            {
                if (budget <= 0) { cursor = page; return false; }
                ulong top = pml4[page >> 27];
                if ((top & 1) == 0)
                {
                    int next = NextPresent(pml4, (int)(page >> 27) + 1, (int)(userPages >> 27));
                    page = (ulong)next << 27;
                    continue;
                }
                if ((page & ((1UL << 27) - 1)) == 0) budget -= PageTableScanUnits;
                ulong* upperTable = (ulong*)(window + (top & PageBits.FrameMask));
                ulong topBase = page & ~((1UL << 27) - 1);
                for (int i2 = NextPresent(upperTable, (int)((page >> 18) & 511)); i2 < 512; i2 = NextPresent(upperTable, i2 + 1))
                {
                    ulong upper = upperTable[i2];
                    if ((upper & 0x80) != 0) continue;
                    ulong upperBase = topBase + ((ulong)i2 << 18);
                    if (page < upperBase) page = upperBase;
                    if (budget <= 0) { cursor = page; return false; }
                    if ((page & ((1UL << 18) - 1)) == 0) budget -= PageTableScanUnits;
                    ulong* middleTable = (ulong*)(window + (upper & PageBits.FrameMask));
                    for (int i3 = NextPresent(middleTable, (int)((page >> 9) & 511)); i3 < 512; i3 = NextPresent(middleTable, i3 + 1))
                    {
                        ulong middle = middleTable[i3];
                        if ((middle & 0x80) != 0) continue;
                        ulong middleBase = upperBase + ((ulong)i3 << 9);
                        if (page < middleBase) page = middleBase;
                        if (budget <= 0) { cursor = page; return false; }
                        ulong* pt = (ulong*)(window + (middle & PageBits.FrameMask));
                        budget -= PageTableScanUnits;
                        for (int i1 = NextPresent(pt, (int)(page & 511)); i1 < 512; i1 = NextPresent(pt, i1 + 1))
                        {
                            ulong at = middleBase + (ulong)i1;
                            if (budget <= 0)
                            {
                                cursor = at;
                                return false;
                            }
                            budget--;
                            ulong entry = pt[i1];
                            pt[i1] = 0;
                            ulong frame = (entry & PageBits.FrameMask) >> PageBits.FrameShift;
                            // The information pages are the kernel's: not in the reverse map (answers false).
                            if (ledger.RemoveMapping(frame, space, at << 12))
                                FreeUnowned(frame);
                        }
                        page = middleBase + 512;
                    }
                    page = upperBase + (1UL << 18);
                }
                page = topBase + (1UL << 27);
            }
            cursor = page;
            environment.MappedPages = 0;
            environment.MappingGeneration++;
            if (Cpu.ReadCr3() == environment.RootPhysical)
                Cpu.WriteCr3(environment.RootPhysical);
            return true;
        }

        /// <summary>The index of the first entry at or after 'index' of a 512-entry table with the
        /// present bit, or 512. Runs of zero entries are passed by Cpu.ScanNonzero (repe scasq).</summary>
        public static int NextPresent(ulong* table, int index) => NextPresent(table, index, 512);

        /// <summary>As NextPresent, looking only below 'limit' (at most 512); 'limit' when none is.</summary>
        public static int NextPresent(ulong* table, int index, int limit)
        {
            while (index < limit)
            {
                if ((table[index] & 1) != 0) return index; // a dense table: no scan
                index = (int)Cpu.ScanNonzero(table, index + 1, limit);
                if (index >= limit) return limit;
                if ((table[index] & 1) != 0) return index;
                index++; // not zero, not present: past it
            }
            return limit;
        }

        /// <summary>A frame with no owner lost its last mapping (RemoveMapping answered true): back to the
        /// pool, and its releaser (PageShare Release), if still live, is no longer charged for it.</summary>
        private static void FreeUnowned(ulong frame)
        {
            ulong releaser = Environments.Ledger.TakeReleaser(frame);
            if (releaser != FrameLedger.NoOwner)
            {
                Environment charged = Environments.Find(releaser);
                if (charged != null && charged.Account != null) Accounts.Uncharge(charged, 1); // not after it left its account
            }
            Environments.ReturnFrame(frame);
        }

        private static ulong* Table(ulong physical) => (ulong*)KernelMemory.PhysicalToVirtual(physical);

        /// <summary>After a change to [address, address + pages): the upcall checks and the TLB.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Changed(Environment target, ulong address, ulong pages)
        {
            if (TouchesUpcallPages(target, address, pages))
                target.MappingGeneration++;
            if (Scheduler.Current == target || Cpu.ReadCr3() == target.RootPhysical)
                Cpu.InvalidatePage(address);
        }

        /// <summary>True when [address, address + pages) overlaps the pages the upcall path checked
        /// (its entry's page, its stack): only then must a change forget those checks. (The upcall
        /// path's own cache of the page it last wrote a frame to is the upcall code's business.)</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool TouchesUpcallPages(Environment target, ulong address, ulong pages)
        {
            ulong end = address + pages * 4096;
            ulong entryPage = target.UpcallEntry & ~4095UL;
            if (entryPage >= address && entryPage < end) return true;
            ulong stackTop = target.UpcallStackTop;
            ulong stackBottom = stackTop - (ulong)UpcallLimits.UpcallStackPages * 4096;
            return address < stackTop && end > stackBottom;
        }

        // ------------------------------------------------------------------ system calls

        /// <summary>PageMap: a batch of map/unmap/protect requests, all or nothing.</summary>
        public static ulong PageMap(Environment caller, ulong slot, ulong address, ulong count)
        {
            Error error = SystemCalls.ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (count == 0) return Ok(0);
            if (count > (ulong)SystemCallLimits.MaximumMapRequests) return Fail(Error.InvalidArgument);
            ulong bytes = count * (ulong)sizeof(PageMapRequest);
            if (!UserMemory.IsUserRange(address, bytes)) return Fail(Error.BadAddress);
            Span<PageMapRequest> requests = new Span<PageMapRequest>(s_mapRequests, 0, (int)count);
            fixed (PageMapRequest* destination = s_mapRequests)
            {
                if (!UserMemory.TryRead(caller, address, new Span<byte>(destination, (int)bytes)))
                    return Fail(Error.BadAddress);
            }
            // Validate everything first: all or nothing.
            error = Environments.Validator.ValidateBatch(requests, caller.Id, target.Id, target, out _);
            if (error != Error.None) return Fail(error);
            // All or nothing also when page tables must be built (each request can need up to three
            // new tables) and mappings recorded (one record per request): refuse up front.
            // The tables are charged to the target's account and may not touch the kernel's reserve.
            error = Accounts.CheckFrames(target, count * 3 + 3);
            if (error != Error.None) return Fail(error);
            // The reverse map's records: within the target's account (QuotaExceeded), within the
            // table (NoMemory), and at most FrameLedger.MaximumMappingsPerFrame per frame (so that
            // unmapping one stays bounded work).
            error = CheckMappingRecords(target, requests);
            if (error != Error.None) return Fail(error);
            for (int i = 0; i < requests.Length; i++)
            {
                PageMapRequest request = requests[i];
                PageFlags flags = MappingValidator.ToPageFlags(request.Permissions);
                switch (request.Operation)
                {
                    case PageMapOperation.Map: error = Map(target, request.VirtualAddress, request.Frame, flags); break;
                    case PageMapOperation.Unmap: error = Unmap(target, request.VirtualAddress); break;
                    default: error = Protect(target, request.VirtualAddress, flags); break;
                }
                if (error != Error.None)
                    return Fail(error); // only out of page-table memory can fail here
            }
            return Ok(count);
        }

        private static Error CheckMappingRecords(Environment target, Span<PageMapRequest> requests)
        {
            FrameLedger ledger = Environments.Ledger;
            int maps = 0;
            for (int i = 0; i < requests.Length; i++)
                if (requests[i].Operation == PageMapOperation.Map) maps++;
            if (maps == 0) return Error.None;
            Error error = Accounts.CheckMappings(target, maps);
            if (error != Error.None) return error;
            if (ledger.FreeMappingRecords < maps) return Error.NoMemory;
            for (int i = 0; i < requests.Length; i++)
            {
                if (requests[i].Operation != PageMapOperation.Map) continue;
                ulong frame = requests[i].Frame;
                ulong mappings = ledger.MappingsOf(frame);
                if (mappings + (ulong)maps <= FrameLedger.MaximumMappingsPerFrame) continue;
                // Near the limit (rare): count this frame's maps in the batch exactly.
                ulong inBatch = 0;
                for (int j = 0; j < requests.Length; j++)
                    if (requests[j].Operation == PageMapOperation.Map && requests[j].Frame == frame) inBatch++;
                if (mappings + inBatch > FrameLedger.MaximumMappingsPerFrame) return Error.QuotaExceeded;
            }
            return Error.None;
        }

        /// <summary>PageProtect, the range Protect. One pass sets each page's new permissions,
        /// remembering the old entries; if a page turns out unmapped, or a page to be made writable
        /// holds a frame neither the caller nor the target may write, every change is undone: all
        /// or nothing. Consecutive pages share their page table, so the tables are walked once per
        /// 512 pages.</summary>
        public static ulong PageProtect(Environment caller, ulong slot, ulong address, ulong pageCount, ulong permissions)
        {
            Error error = SystemCalls.ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (pageCount == 0 || pageCount > (ulong)SystemCallLimits.MaximumMapRequests) return Fail(Error.InvalidArgument);
            // MappingValidator's one permission rule (AcceptedPermissions == PageBits.Allowed, host-tested), inline.
            if ((address & 4095) != 0 || (permissions & ~MappingValidator.AcceptedPermissions) != 0) return Fail(Error.InvalidArgument);
            if (address < UserAddresses.LowestMappable || address > UserAddresses.ReservedTop
                || pageCount * 4096 > UserAddresses.ReservedTop - address) return Fail(Error.BadAddress);
            ulong leafBits = PageBits.Present | PageBits.User | permissions;
            bool writable = (permissions & PageBits.Writable) != 0;
            const ulong keep = PageBits.FrameMask | PageBits.Accessed | PageBits.Dirty;
            const ulong presentUser = PageBits.Present | PageBits.User;
            if (pageCount == 1)
                return ProtectOnePage(caller, target, address, leafBits, writable);
            int count = (int)pageCount;
            int changed = 0;
            Error failure = Error.None;
            fixed (ulong* saved = s_protectSaved)
            fixed (ulong* owners = Environments.Ledger.OwnerTable)
            {
                ulong* ids = stackalloc ulong[2];
                ids[0] = caller.Id;
                ids[1] = target.Id;
                while (changed < count && failure == Error.None)
                {
                    ulong page = address + (ulong)changed * 4096;
                    ulong* leaf = PageWalk.UserLeaf(target, page, false);
                    if (leaf == null) { failure = Error.NotMapped; break; }
                    int inTable = 512 - (int)((page >> 12) & 511);
                    int run = count - changed < inTable ? count - changed : inTable;
                    int done = 0;
                    while (done < run)
                    {
                        // FAST PATH (docs/kernel.md): the run loops edit leaves in place.
                        done += (int)(writable
                            ? ProtectRunWritable(leaf + done, (ulong)(run - done), leafBits, saved + changed + done, owners, ids)
                            : ProtectRun(leaf + done, (ulong)(run - done), leafBits, saved + changed + done));
                        if (done == run) break;
                        // The loop stopped at an entry it could not decide: not mapped, or (making
                        // pages writable) a frame neither the caller nor the target owns.
                        ulong value = leaf[done];
                        if ((~value & presentUser) != 0) { failure = Error.NotMapped; break; }
                        if (!writable || !MayWriteByGrant(value, caller.Id, target.Id)) { failure = Error.NotOwner; break; }
                        saved[changed + done] = value;
                        leaf[done] = (value & keep) | leafBits;
                        done++;
                    }
                    changed += done;
                }
            }
            if (failure != Error.None)
            {
                for (int i = 0; i < changed; i++)
                    *PageWalk.UserLeaf(target, address + (ulong)i * 4096, false) = s_protectSaved[i];
                return Fail(failure);
            }
            if (TouchesUpcallPages(target, address, pageCount))
                target.MappingGeneration++;
            if (target == Scheduler.Current)
            {
                if (pageCount > 16) Cpu.WriteCr3(target.RootPhysical); // flushes the user half; kernel pages are global
                else for (ulong i = 0; i < pageCount; i++) Cpu.InvalidatePage(address + i * 4096);
            }
            return Ok(pageCount);
        }

        /// <summary>PageProtect of a single page: the same checks, without the run machinery.
        /// FAST PATH (docs/kernel.md): inlined into PageProtect, edits the leaf in place.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong ProtectOnePage(Environment caller, Environment target, ulong address, ulong leafBits, bool writable)
        {
            ulong* leaf = PageWalk.UserLeaf(target, address, false);
            if (leaf == null) return Fail(Error.NotMapped);
            ulong value = *leaf;
            if (writable)
            {
                ulong owner = Environments.Ledger.OwnerOf((value & PageBits.FrameMask) >> PageBits.FrameShift);
                if (owner != caller.Id && owner != target.Id && !MayWriteByGrant(value, caller.Id, target.Id))
                    return Fail(Error.NotOwner);
            }
            *leaf = (value & (PageBits.FrameMask | PageBits.Accessed | PageBits.Dirty)) | leafBits;
            if (TouchesUpcallPages(target, address, 1))
                target.MappingGeneration++;
            if (target == Scheduler.Current)
                Cpu.InvalidatePage(address);
            return Ok(1);
        }

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_protect_run")]
        private static extern ulong ProtectRun(ulong* leaf, ulong count, ulong leafBits, ulong* saved);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_unprotect_run")]
        private static extern ulong ProtectRunWritable(ulong* leaf, ulong count, ulong leafBits, ulong* saved, ulong* owners, ulong* ids);

        private static bool MayWriteByGrant(ulong entry, ulong callerId, ulong targetId)
        {
            ulong frame = (entry & PageBits.FrameMask) >> PageBits.FrameShift;
            return Environments.Ledger.CheckMap(frame, callerId, true) == Error.None
                || Environments.Ledger.CheckMap(frame, targetId, true) == Error.None;
        }

        /// <summary>PageQuery: the leaf's frame and bits (reads only).</summary>
        public static ulong PageQuery(Environment caller, ulong slot, ulong address)
        {
            Error error = SystemCalls.ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (!UserMemory.IsUserRange(address, 1)) return Fail(Error.BadAddress);
            ulong* leaf = PageWalk.UserLeaf(target, address & ~4095UL, false);
            if (leaf == null) return Fail(Error.NotMapped);
            const ulong reported = PageBits.FrameMask | PageBits.Present | PageBits.Writable | PageBits.User | PageBits.Accessed
                | PageBits.Dirty | PageBits.Software0 | PageBits.Software1 | PageBits.Software2 | PageBits.NoExecute;
            return Ok(*leaf & reported);
        }

        /// <summary>PageClean: clears the accessed and dirty bits of a mapped page.</summary>
        public static ulong PageClean(Environment caller, ulong slot, ulong address)
        {
            Error error = SystemCalls.ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (!UserMemory.IsUserRange(address, 1)) return Fail(Error.BadAddress);
            ulong page = address & ~4095UL;
            ulong* leaf = PageWalk.UserLeaf(target, page, false);
            if (leaf == null) return Fail(Error.NotMapped);
            *leaf &= ~(PageBits.Accessed | PageBits.Dirty);
            Changed(target, page, 1);
            return Ok();
        }
    }
}
