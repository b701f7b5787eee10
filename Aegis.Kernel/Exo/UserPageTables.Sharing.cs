// PageShare and PageInherit (issue #9, fast fork): handing the caller's own mappings on to another
// environment by walking page tables in the kernel, instead of one PageQuery and one PageMap
// request per page from the libOS. PageAlias: the same frames a second time in the caller's own
// space, read-only (a program's text mapped from the file's pages instead of copied).
//
// The authority is the mapping itself: an environment that maps a frame (its own, granted to it,
// or handed on to it by PageShare) may give an environment it holds a capability over the same
// frame at the same address with no more rights than its own leaf has (never writable unless its
// leaf is writable). It grants nothing: no grant record is made, so the frame's owner keeps every
// way of taking it back it had — FrameFree and the abort protocol take a frame out of every address
// space through the reverse map, these mappings included; when the owner ends, the frame is
// orphaned and goes with its last mapping, as any frame mapped elsewhere. Device frames are never
// handed on (skipped: the target maps the device with its own capability).
//
// Invariants kept (as UserPageTables.cs's): each mapping made goes through Map (reverse map, the
// target's mapping count and account, upcall checks); the caller's own leaves change only in their
// Writable and software bits (frame kept, so the reverse map is untouched); the TLB is flushed for
// the caller once per call. Every call checks everything first (ranges, flags, quotas, mapping
// records, the per-frame mapping limit) with no write, then performs: all or nothing, except that
// a page table the builder cannot get after the check (the kernel's reserve) stops it half-way,
// as PageMap. Work: O(pages in the range) (at most MaximumMapRequests), plus for PageInherit
// O(pages x ancestors looked through) (at most MaximumInheritDepth each); nothing allocates (the
// scratch arrays are static).
using System;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe partial class UserPageTables
    {
        private const ulong SoftwareBits = PageBits.Software0 | PageBits.Software1 | PageBits.Software2;
        private const ulong LeafPermissions = PageBits.Writable | PageBits.NoExecute | SoftwareBits;

        // Pages found by the checking pass, performed by the second (one call at a time: interrupts
        // are off). They live in a class of their own: static fields added to UserPageTables cost
        // its fast paths (PageProtect, measured +15 instructions a call) a class-constructor check.
        private static ulong[] s_shareAddresses => ShareScratch.Addresses;
        private static ulong[] s_shareFrames => ShareScratch.Frames;
        private static ulong[] s_sharePermissions => ShareScratch.Permissions;
        private static ulong[] s_shareLeaves => ShareScratch.Leaves;

        /// <summary>PageShare(slot, address, pageCount, flags, mark): see SystemCall.PageShare and docs/abi.md.</summary>
        public static ulong PageShare(Environment caller, ulong slot, ulong address, ulong pageCount, ulong flags, ulong mark, ulong readOnlyMark)
        {
            if ((flags & ~PageShareFlags.All) != 0 || (mark & ~SoftwareBits) != 0 || (readOnlyMark & ~SoftwareBits) != 0) return Fail(Error.InvalidArgument);
            if (readOnlyMark == 0) readOnlyMark = mark;
            bool onDemand = (flags & PageShareFlags.OnDemand) != 0;
            bool ownPages = (flags & (PageShareFlags.Reclaim | PageShareFlags.Release)) != 0;
            // OnDemand stands alone; Reclaim/Release do not mix with handing pages on.
            if (onDemand && flags != PageShareFlags.OnDemand) return Fail(Error.InvalidArgument);
            if (ownPages && (flags & ~(PageShareFlags.Reclaim | PageShareFlags.Release)) != 0) return Fail(Error.InvalidArgument);
            if ((address & 4095) != 0 || pageCount == 0) return Fail(Error.InvalidArgument);
            if (!onDemand && pageCount > (ulong)SystemCallLimits.MaximumMapRequests) return Fail(Error.InvalidArgument);
            if (address < UserAddresses.LowestMappable || address >= UserAddresses.ReservedTop
                || pageCount > (UserAddresses.ReservedTop - address) / 4096) return Fail(Error.BadAddress);
            Error error = SystemCalls.ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (flags == PageShareFlags.Discard)
                return target != caller || mark != 0 ? Fail(Error.InvalidArgument) : DiscardOwn(caller, address, (int)pageCount);
            if ((flags & PageShareFlags.Discard) != 0) return Fail(Error.InvalidArgument);
            if (ownPages)
                return target != caller ? Fail(Error.InvalidArgument) : ReclaimOwn(caller, address, (int)pageCount, flags, mark);
            if (target == caller) return Fail(Error.InvalidArgument); // the same addresses in the same space
            if (onDemand)
                return AddOnDemandRange(caller, target, address, pageCount);
            return ShareRange(caller, target, address, (int)pageCount, flags, mark, readOnlyMark);
        }

        /// <summary>OnDemand: the range is recorded in the target, a child the caller created.</summary>
        private static ulong AddOnDemandRange(Environment caller, Environment target, ulong address, ulong pageCount)
        {
            if (target.ParentId != caller.Id) return Fail(Error.NotOwner);
            if (target.OnDemandCount == SystemCallLimits.MaximumOnDemandRanges) return Fail(Error.NoMemory);
            int at = 2 * target.OnDemandCount;
            target.OnDemandRanges[at] = address;
            target.OnDemandRanges[at + 1] = address + pageCount * 4096;
            target.OnDemandCount++;
            return Ok(pageCount);
        }

        private static ulong ShareRange(Environment caller, Environment target, ulong address, int pageCount, ulong flags, ulong mark, ulong readOnlyMark)
        {
            FrameLedger ledger = Environments.Ledger;
            ulong frameLimit = ledger.FrameLimit;
            bool copyOnWrite = (flags & PageShareFlags.CopyOnWrite) != 0;
            bool markReadOnly = (flags & PageShareFlags.MarkReadOnly) != 0;
            ulong end = address + (ulong)pageCount * 4096;
            int count = 0;
            bool nearLimit = false;
            const ulong presentUser = PageBits.Present | PageBits.User;
            fixed (ulong* leaves = s_shareLeaves)
            fixed (ulong* addresses = s_shareAddresses)
            fixed (ulong* frames = s_shareFrames)
            fixed (ulong* permissionsOf = s_sharePermissions)
            fixed (ulong* owners = ledger.OwnerTable)
            fixed (uint* mappings = ledger.MappingCountTable)
            {
                // Pass 1, no writes: the caller's present pages, one table walk per 512 pages.
                ulong page = address;
                while (page < end)
                {
                    ulong tableEnd = (page | (512UL * 4096 - 1)) + 1;
                    if (tableEnd > end) tableEnd = end;
                    ulong* table = LeafTable(caller.RootPhysical, page);
                    if (table == null) { page = tableEnd; continue; }
                    for (; page < tableEnd; page += 4096)
                    {
                        ulong* leaf = table + ((page >> 12) & 511);
                        ulong entry = *leaf;
                        if ((entry & presentUser) != presentUser) continue;
                        ulong frame = (entry & PageBits.FrameMask) >> PageBits.FrameShift;
                        if (frame >= frameLimit || owners[frame] == FrameLedger.DeviceOwner) continue; // never handed on
                        if (mappings[frame] + (uint)pageCount > FrameLedger.MaximumMappingsPerFrame) nearLimit = true;
                        ulong permissions = entry & LeafPermissions;
                        if ((permissions & PageBits.Writable) != 0)
                        {
                            if (copyOnWrite) permissions = (permissions & ~PageBits.Writable) | mark;
                        }
                        else if (markReadOnly)
                            permissions |= readOnlyMark;
                        leaves[count] = (ulong)leaf;
                        addresses[count] = page;
                        frames[count] = frame;
                        permissionsOf[count] = permissions;
                        count++;
                    }
                }
                if (count == 0) return Ok(0);
                Error error = CheckNewMappings(target, count, (ulong)pageCount, nearLimit);
                if (error != Error.None) return Fail(error);

                // Pass 2: the target's leaves, written in place where its table exists (else Map builds it).
                ulong space = SpaceOf(target);
                long fastMapped = 0;
                bool callerChanged = false;
                ulong* slots = null;
                ulong slotsTable = ulong.MaxValue;
                for (int i = 0; i < count; i++)
                {
                    ulong* leaf = (ulong*)leaves[i];
                    ulong pageAt = addresses[i];
                    ulong frame = frames[i];
                    ulong permissions = permissionsOf[i];
                    error = MapHandedOn(target, space, pageAt, frame, permissions, ref slotsTable, ref slots, ref fastMapped);
                    if (error != Error.None) return Fail(error); // only out of records or page-table memory
                    if (copyOnWrite && (*leaf & PageBits.Writable) != 0)
                    {
                        // The caller's own page: read-only with the mark, the same frame (the reverse map stays).
                        *leaf = (*leaf & ~PageBits.Writable) | mark;
                        callerChanged = true;
                    }
                }
                if (fastMapped != 0) CountMappings(target, fastMapped);
                if (TouchesUpcallPages(target, address, (ulong)pageCount)) target.MappingGeneration++;
                if (Cpu.ReadCr3() == target.RootPhysical) Cpu.WriteCr3(target.RootPhysical);
                if (callerChanged) FlushCaller(caller, address, (ulong)pageCount);
            }
            return Ok((ulong)count);
        }

        /// <summary>The leaf table (512 entries) holding 'address''s leaf when every level above is
        /// present and user-accessible (not a large page), else null.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong* LeafTable(ulong rootPhysical, ulong address)
        {
            const ulong presentUser = PageBits.Present | PageBits.User, large = 0x80;
            byte* window = (byte*)KernelMemory.DirectMapBase;
            ulong top = *(ulong*)(window + rootPhysical + ((address >> 36) & 0xFF8));
            if ((top & presentUser) != presentUser) return null;
            ulong upper = *(ulong*)(window + (top & PageBits.FrameMask) + ((address >> 27) & 0xFF8));
            if ((upper & (presentUser | large)) != presentUser) return null;
            ulong middle = *(ulong*)(window + (upper & PageBits.FrameMask) + ((address >> 18) & 0xFF8));
            if ((middle & (presentUser | large)) != presentUser) return null;
            return (ulong*)(window + (middle & PageBits.FrameMask));
        }

        /// <summary>Reclaim / Release over the caller's own pages carrying the mark.</summary>
        private static ulong ReclaimOwn(Environment caller, ulong address, int pageCount, ulong flags, ulong mark)
        {
            FrameLedger ledger = Environments.Ledger;
            bool reclaim = (flags & PageShareFlags.Reclaim) != 0, release = (flags & PageShareFlags.Release) != 0;
            int reclaimed = 0;
            bool changed = false;
            for (int i = 0; i < pageCount; i++)
            {
                ulong page = address + (ulong)i * 4096;
                ulong* leaf = PageWalk.UserLeaf(caller, page, false);
                if (leaf == null) continue;
                ulong entry = *leaf;
                if ((entry & mark) != mark) continue;
                ulong frame = (entry & PageBits.FrameMask) >> PageBits.FrameShift;
                if (ledger.OwnerOf(frame) != caller.Id) continue;
                if (ledger.MappingsOf(frame) == 1)
                {
                    if (!reclaim) continue;
                    *leaf = (entry | PageBits.Writable) & ~mark;
                    reclaimed++;
                    changed = true;
                }
                else if (release && ledger.Release(frame, caller.Id) == Error.None)
                {
                    // Still charged to the caller until the frame is freed (FreeUnowned) or the caller ends.
                }
            }
            if (changed) FlushCaller(caller, address, (ulong)pageCount);
            return Ok((ulong)reclaimed);
        }

        /// <summary>Discard over the caller's own pages: each mapped page is unmapped; an owned frame
        /// mapped only here is freed (FreeFrame: uncharged, counted for revocation), an owned frame
        /// others map is given up (Release: charged until its last mapping goes), any other frame
        /// just loses this mapping (freed if that was the last mapping of an ownerless frame).</summary>
        private static ulong DiscardOwn(Environment caller, ulong address, int pageCount)
        {
            FrameLedger ledger = Environments.Ledger;
            ulong space = SpaceOf(caller);
            ulong end = address + (ulong)pageCount * 4096;
            int discarded = 0;
            ulong page = address;
            while (page < end)
            {
                ulong tableEnd = (page | (512UL * 4096 - 1)) + 1;
                if (tableEnd > end) tableEnd = end;
                ulong* table = LeafTable(caller.RootPhysical, page);
                if (table == null) { page = tableEnd; continue; }
                ulong tableBase = page & ~(512UL * 4096 - 1);
                int limit = (int)((tableEnd - tableBase) >> 12);
                for (int i = NextPresent(table, (int)((page >> 12) & 511), limit); i < limit; i = NextPresent(table, i + 1, limit))
                {
                    ulong at = tableBase + ((ulong)i << 12);
                    ulong entry = table[i];
                    if ((entry & PageBits.User) == 0) continue;
                    ulong frame = (entry & PageBits.FrameMask) >> PageBits.FrameShift;
                    discarded++;
                    if (ledger.OwnerOf(frame) == caller.Id && ledger.MappingsOf(frame) == 1)
                    {
                        Environments.FreeFrame(caller, frame); // takes the one mapping (ours) out too
                        continue;
                    }
                    if (ledger.OwnerOf(frame) == caller.Id) ledger.Release(frame, caller.Id);
                    table[i] = 0;
                    CountMappings(caller, -1);
                    if (ledger.RemoveMapping(frame, space, at)) FreeUnowned(frame);
                }
                page = tableEnd;
            }
            if (discarded != 0) FlushCaller(caller, address, (ulong)pageCount);
            return Ok((ulong)discarded);
        }

        /// <summary>PageInherit(address, pageCount): see SystemCall.PageInherit and docs/abi.md.</summary>
        public static ulong PageInherit(Environment caller, ulong address, ulong pageCount)
        {
            if ((address & 4095) != 0 || pageCount == 0 || pageCount > (ulong)SystemCallLimits.MaximumMapRequests)
                return Fail(Error.InvalidArgument);
            if (address < UserAddresses.LowestMappable || address >= UserAddresses.ReservedTop
                || pageCount > (UserAddresses.ReservedTop - address) / 4096) return Fail(Error.BadAddress);
            ulong end = address + pageCount * 4096;
            if (!InOnDemandRange(caller, address, end)) return Fail(Error.BadAddress);
            FrameLedger ledger = Environments.Ledger;
            const ulong presentUser = PageBits.Present | PageBits.User;
            Environment creator = Environments.Find(caller.ParentId);
            int count = 0;
            // Our leaf table and our creator's, looked up once per 2 MiB: the common case (the
            // creator maps the page) costs two loads a page; deeper ancestors go the long way.
            ulong tablesKey = ulong.MaxValue;
            ulong* ownTable = null, creatorTable = null;
            for (ulong page = address; page < end; page += 4096)
            {
                if ((page >> 21) != tablesKey)
                {
                    tablesKey = page >> 21;
                    ownTable = LeafTable(caller.RootPhysical, page);
                    creatorTable = creator == null ? null : LeafTable(creator.RootPhysical, page);
                }
                int index = (int)((page >> 12) & 511);
                if (ownTable != null && (ownTable[index] & presentUser) == presentUser) continue; // mapped already
                ulong entry = AncestorEntry(creator, creatorTable, index, page);
                if (entry == 0) continue;
                ulong frame = (entry & PageBits.FrameMask) >> PageBits.FrameShift;
                if (frame >= ledger.FrameLimit || ledger.IsDevice(frame)) continue;
                s_shareAddresses[count] = page;
                s_shareFrames[count] = frame;
                s_sharePermissions[count] = entry & LeafPermissions & ~PageBits.Writable;
                count++;
            }
            if (count == 0) return Ok(0);
            Error error = CheckNewMappings(caller, count, pageCount);
            if (error != Error.None) return Fail(error);
            // The leaves, written in place where the table exists (as ShareRange; they were not
            // present, so no TLB entry can hold them), else through Map, which builds the table.
            ulong space = SpaceOf(caller);
            long fastMapped = 0;
            ulong* slots = null;
            ulong slotsKey = ulong.MaxValue;
            for (int i = 0; i < count; i++)
            {
                error = MapHandedOn(caller, space, s_shareAddresses[i], s_shareFrames[i], s_sharePermissions[i], ref slotsKey, ref slots, ref fastMapped);
                if (error != Error.None) return Fail(error);
            }
            if (fastMapped != 0) CountMappings(caller, fastMapped);
            if (TouchesUpcallPages(caller, address, pageCount)) caller.MappingGeneration++;
            return Ok((ulong)count);
        }

        /// <summary>The leaf the nearest ancestor maps at 'page' (present and user; 0: none): the
        /// creator's (its leaf table for the page's 2 MiB in creatorTable, or null), else, through
        /// ancestors whose creators marked the page on demand for them too, a deeper one's (at most
        /// MaximumInheritDepth). The caller checked that 'page' lies in one of its on-demand ranges.</summary>
        private static ulong AncestorEntry(Environment creator, ulong* creatorTable, int index, ulong page)
        {
            const ulong presentUser = PageBits.Present | PageBits.User;
            if (creatorTable != null && (creatorTable[index] & presentUser) == presentUser) return creatorTable[index];
            if (creator == null || !InOnDemandRange(creator, page, page + 4096)) return 0;
            Environment holder = creator;
            for (int depth = 1; depth < SystemCallLimits.MaximumInheritDepth; depth++)
            {
                Environment parent = Environments.Find(holder.ParentId);
                if (parent == null) break;
                ulong* leaf = PageWalk.UserLeaf(parent, page, false);
                if (leaf != null) return *leaf;
                if (!InOnDemandRange(parent, page, page + 4096)) break;
                holder = parent;
            }
            return 0;
        }

        /// <summary>PageAlias(source, destination, pageCount, permissions): see SystemCall.PageAlias
        /// and docs/abi.md. The authority is the caller's own access: each frame is one it maps at
        /// the source page (or, inside its on-demand ranges, one its nearest ancestor maps there,
        /// which PageInherit would map for it), mapped a second time read-only, so nothing becomes
        /// writable or reachable that was not.</summary>
        public static ulong PageAlias(Environment caller, ulong source, ulong destination, ulong pageCount, ulong permissions)
        {
            if (((source | destination) & 4095) != 0 || pageCount == 0 || pageCount > (ulong)SystemCallLimits.MaximumMapRequests
                || MappingValidator.CheckPermissions(permissions) != Error.None || (permissions & PageBits.Writable) != 0)
                return Fail(Error.InvalidArgument);
            if (source < UserAddresses.LowestMappable || source >= UserAddresses.ReservedTop
                || pageCount > (UserAddresses.ReservedTop - source) / 4096
                || destination < UserAddresses.LowestMappable || destination >= UserAddresses.ReservedTop
                || pageCount > (UserAddresses.ReservedTop - destination) / 4096) return Fail(Error.BadAddress);
            FrameLedger ledger = Environments.Ledger;
            const ulong presentUser = PageBits.Present | PageBits.User;
            Environment creator = Environments.Find(caller.ParentId);
            ulong sourceKey = ulong.MaxValue, destinationKey = ulong.MaxValue;
            ulong* ownTable = null, creatorTable = null, destinationTable = null;
            ulong[] frames = s_shareFrames;
            int count = (int)pageCount;
            // The end of the caller's on-demand range holding the source page (0: none), found once
            // a range, not once a page (exec and mmap alias hundreds of pages from the archive,
            // which a process started by exec maps on demand from its ancestor).
            ulong demandEnd = 0;
            for (int i = 0; i < count; i++)
            {
                ulong page = source + (ulong)i * 4096, target = destination + (ulong)i * 4096;
                if ((target >> 21) != destinationKey)
                {
                    destinationKey = target >> 21;
                    destinationTable = LeafTable(caller.RootPhysical, target);
                }
                if (destinationTable != null && (destinationTable[(target >> 12) & 511] & PageBits.Present) != 0)
                    return Fail(Error.Busy);
                if ((page >> 21) != sourceKey)
                {
                    sourceKey = page >> 21;
                    ownTable = LeafTable(caller.RootPhysical, page);
                    creatorTable = null;
                }
                int index = (int)((page >> 12) & 511);
                ulong entry = ownTable == null ? 0 : ownTable[index];
                if ((entry & presentUser) != presentUser)
                {
                    entry = 0;
                    if (page >= demandEnd) demandEnd = OnDemandRangeEnd(caller, page, page + 4096);
                    if (page < demandEnd)
                    {
                        if (creatorTable == null && creator != null) creatorTable = LeafTable(creator.RootPhysical, page);
                        entry = creatorTable != null && (creatorTable[index] & presentUser) == presentUser
                            ? creatorTable[index] : AncestorEntry(creator, creatorTable, index, page);
                    }
                    if (entry == 0) return Fail(Error.NotMapped);
                }
                frames[i] = (entry & PageBits.FrameMask) >> PageBits.FrameShift;
            }
            // Every frame a real one, none a device's, and whether any is near its mapping limit:
            // one ledger pass over the run.
            if (!ledger.MayMapAgain(frames, count, out uint mostMappings)) return Fail(Error.NotOwner);
            bool nearLimit = mostMappings + (ulong)count > FrameLedger.MaximumMappingsPerFrame;
            // Overlapping ranges: a destination page the loop above found free may be a source page
            // looked up on demand; it is mapped only below, so every lookup saw the tables as they were.
            Error error = CheckNewMappings(caller, count, pageCount, nearLimit);
            if (error != Error.None) return Fail(error);
            ulong space = SpaceOf(caller);
            ulong leafBits = permissions & LeafPermissions;
            ulong leafFlags = leafBits | PageBits.Present | PageBits.User;
            long fastMapped = 0;
            // FAST PATH (docs/kernel.md, "UserPageTables.Map, table present; PageAlias's runs").
            // The leaves, a leaf table's run at a time: the run's mapping records in one ledger
            // call, then its entries written in place (they were checked empty above, so no TLB
            // entry can hold them). Where no leaf table exists yet, Map builds it for the first page.
            for (int i = 0; i < count; )
            {
                ulong page = destination + (ulong)i * 4096;
                ulong* slot = PageWalk.LeafSlot(caller.RootPhysical, page);
                if (slot == null)
                {
                    error = Map(caller, page, frames[i], MappingValidator.ToPageFlags(leafBits));
                    if (error != Error.None) { if (fastMapped != 0) CountMappings(caller, fastMapped); return Fail(error); }
                    i++;
                    continue;
                }
                int room = 512 - (int)((page >> 12) & 511);
                int run = count - i < room ? count - i : room;
                int recorded = ledger.AddMappingRun(frames, i, run, space, page);
                for (int k = 0; k < recorded; k++) slot[k] = frames[i + k] * 4096 | leafFlags;
                fastMapped += recorded;
                if (recorded < run) { CountMappings(caller, fastMapped); return Fail(Error.NoMemory); } // checked above: cannot happen
                i += run;
            }
            if (fastMapped != 0) CountMappings(caller, fastMapped);
            if (TouchesUpcallPages(caller, destination, pageCount)) caller.MappingGeneration++;
            return Ok(pageCount);
        }

        /// <summary>Maps 'frame' at 'page' in 'target' with 'permissions' (leaf bits, Present and User
        /// added) for PageShare, PageInherit and PageAlias, after their checks. The leaf table of the 2 MiB
        /// around the page is remembered in slotsKey/slots between calls (start with ulong.MaxValue);
        /// an empty leaf in an existing table is written in place (counted in fastMapped: the caller
        /// adds them to the target's mapping count at the end, and no TLB entry can hold an empty
        /// leaf), anything else goes through Map, which builds the table.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)] // once a page on fork's path: a call costs ~30 instructions a page
        private static Error MapHandedOn(Environment target, ulong space, ulong page, ulong frame, ulong permissions,
            ref ulong slotsKey, ref ulong* slots, ref long fastMapped)
        {
            if ((page >> 21) != slotsKey)
            {
                slotsKey = page >> 21;
                ulong* slot = PageWalk.LeafSlot(target.RootPhysical, page);
                slots = slot == null ? null : slot - ((page >> 12) & 511);
            }
            ulong* leaf = slots == null ? null : slots + ((page >> 12) & 511);
            if (leaf != null && (*leaf & PageBits.Present) == 0)
            {
                // FAST PATH (docs/kernel.md, "UserPageTables.Map, table present"): an empty leaf.
                if (Environments.Ledger.AddMapping(frame, space, page) != Error.None) return Error.NoMemory;
                *leaf = frame * 4096 | permissions | PageBits.Present | PageBits.User;
                fastMapped++;
                return Error.None;
            }
            slotsKey = ulong.MaxValue; // the builder may make the table
            return Map(target, page, frame, MappingValidator.ToPageFlags(permissions));
        }

        /// <summary>The end of the environment's first on-demand range holding [start, end) whole,
        /// 0 when none does (PageAlias asks once a range: every page below that end is in it too).</summary>
        private static ulong OnDemandRangeEnd(Environment environment, ulong start, ulong end)
        {
            ulong[] ranges = environment.OnDemandRanges;
            for (int i = 0; i < environment.OnDemandCount; i++)
                if (start >= ranges[2 * i] && end <= ranges[2 * i + 1]) return ranges[2 * i + 1];
            return 0;
        }

        private static bool InOnDemandRange(Environment environment, ulong start, ulong end) => OnDemandRangeEnd(environment, start, end) != 0;

        /// <summary>Before mapping the 'count' pages in s_shareFrames into 'target' (spread over a range
        /// of 'rangePages'): page tables within its account and above the kernel's reserve, mapping
        /// records within its account and the table, at most MaximumMappingsPerFrame per frame.</summary>
        private static Error CheckNewMappings(Environment target, int count, ulong rangePages, bool nearLimit = true)
        {
            // Page tables a contiguous range can need: its leaf tables, and the tables above them.
            Error error = Accounts.CheckFrames(target, rangePages / 512 + 2 + 2 * 2 + 1);
            if (error != Error.None) return error;
            error = Accounts.CheckMappings(target, count);
            if (error != Error.None) return error;
            FrameLedger ledger = Environments.Ledger;
            if (ledger.FreeMappingRecords < count) return Error.NoMemory;
            if (!nearLimit) return Error.None; // every frame has room for all 'count' (the walk checked)
            for (int i = 0; i < count; i++)
            {
                ulong frame = s_shareFrames[i];
                ulong mappings = ledger.MappingsOf(frame);
                if (mappings + (ulong)count <= FrameLedger.MaximumMappingsPerFrame) continue;
                // Near the limit (rare): count this frame's pages in the batch exactly.
                ulong inBatch = 0;
                for (int j = 0; j < count; j++)
                    if (s_shareFrames[j] == frame) inBatch++;
                if (mappings + inBatch > FrameLedger.MaximumMappingsPerFrame) return Error.QuotaExceeded;
            }
            return Error.None;
        }

        /// <summary>After the caller's own leaves in [address, address + pages) changed: the upcall
        /// checks and the TLB, once for the whole range.</summary>
        private static void FlushCaller(Environment caller, ulong address, ulong pages)
        {
            if (TouchesUpcallPages(caller, address, pages))
                caller.MappingGeneration++;
            if (Scheduler.Current == caller || Cpu.ReadCr3() == caller.RootPhysical)
            {
                if (pages > 16) Cpu.WriteCr3(caller.RootPhysical);
                else for (ulong i = 0; i < pages; i++) Cpu.InvalidatePage(address + i * 4096);
            }
        }
    }

    /// <summary>PageShare's and PageInherit's scratch arrays (see UserPageTables.Sharing).</summary>
    internal static class ShareScratch
    {
        public static readonly ulong[] Addresses = new ulong[SystemCallLimits.MaximumMapRequests];
        public static readonly ulong[] Frames = new ulong[SystemCallLimits.MaximumMapRequests];
        public static readonly ulong[] Permissions = new ulong[SystemCallLimits.MaximumMapRequests];
        public static readonly ulong[] Leaves = new ulong[SystemCallLimits.MaximumMapRequests];
    }
}
