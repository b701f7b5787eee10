// System calls on memory: frames (allocate, free, grant) and mappings (map, protect, query,
// clean). Each checks everything before it changes anything (see SystemCalls.cs).
using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Diagnostics;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe partial class SystemCalls
    {
        private static readonly ulong[] s_protectSaved = new ulong[SystemCallLimits.MaximumMapRequests];
        private static readonly PageMapRequest[] s_mapRequests = new PageMapRequest[SystemCallLimits.MaximumMapRequests];

        private static ulong FrameAllocate(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
        {
            // Environments.AllocateFrame checks the account and the reserve before it takes anything.
            Error error = Environments.AllocateFrame(Scheduler.Current, a0, out ulong frameNumber);
            return error == Error.None ? Ok(frameNumber) : Fail(error);
        }

        private static ulong FrameFree(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
            => ErrorResult(Environments.FreeFrame(Scheduler.Current, a0));

        private static ulong FrameGrant(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => FrameGrant(Scheduler.Current, a0, a1, a2);
        private static ulong PageMap(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => PageMap(Scheduler.Current, a0, a1, a2);
        private static ulong PageProtect(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => PageProtect(Scheduler.Current, a0, a1, a2, a3);
        private static ulong PageQuery(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => PageQuery(Scheduler.Current, a0, a1);
        private static ulong PageClean(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => PageClean(Scheduler.Current, a0, a1);

        private static ulong FrameGrant(Environment caller, ulong frameNumber, ulong slot, ulong writable)
        {
            if (writable > 1) return Fail(Error.InvalidArgument);
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (frameNumber >= KernelMemory.Frames.FrameLimit) return Fail(Error.InvalidArgument);
            // A new grant is charged to the caller's account (re-granting only changes the rights).
            if (target.Id != caller.Id && !Environments.Ledger.IsGrantedTo(frameNumber, target.Id, out _))
            {
                error = Accounts.CheckGrant(caller);
                if (error != Error.None) return Fail(error);
            }
            return ErrorResult(Environments.Ledger.Grant(frameNumber, caller.Id, target.Id, writable == 1, caller.Account == null ? 0 : caller.Account.Index));
        }

        private static ulong PageMap(Environment caller, ulong slot, ulong address, ulong count)
        {
            Error error = ResolveEnvironment(caller, slot, out Environment target);
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
            // All or nothing also when page tables must be built: each request can need up to three
            // new tables, so refuse up front rather than fail half-way.
            error = Accounts.CheckFrames(target, count * 3 + 3);
            if (error != Error.None) return Fail(error);
            for (int i = 0; i < requests.Length; i++)
            {
                PageMapRequest request = requests[i];
                PageFlags flags = MappingValidator.ToPageFlags(request.Permissions);
                switch (request.Operation)
                {
                    case PageMapOperation.Map: error = Environments.Map(target, request.VirtualAddress, request.Frame, flags); break;
                    case PageMapOperation.Unmap: error = Environments.Unmap(target, request.VirtualAddress); break;
                    default: error = Environments.Protect(target, request.VirtualAddress, flags); break;
                }
                if (error != Error.None)
                    return Fail(error); // only out of page-table memory can fail here
            }
            return Ok(count);
        }

        /// <summary>The range Protect. One pass sets each page's new permissions, remembering the old
        /// entries; if a page turns out unmapped, or a page to be made writable holds a frame neither
        /// the caller nor the target may write, every change is undone: all or nothing. Consecutive
        /// pages share their page table, so the tables are walked once per 512 pages.</summary>
        private static ulong PageProtect(Environment caller, ulong slot, ulong address, ulong pageCount, ulong permissions)
        {
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (pageCount == 0 || pageCount > (ulong)SystemCallLimits.MaximumMapRequests) return Fail(Error.InvalidArgument);
            if ((address & 4095) != 0 || (permissions & ~PageBits.Allowed) != 0) return Fail(Error.InvalidArgument);
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
            if (Environments.TouchesUpcallPages(target, address, pageCount))
                target.MappingGeneration++;
            if (target == Scheduler.Current)
            {
                if (pageCount > 16) Cpu.WriteCr3(target.RootPhysical); // flushes the user half; kernel pages are global
                else for (ulong i = 0; i < pageCount; i++) Cpu.InvalidatePage(address + i * 4096);
            }
            return Ok(pageCount);
        }

        /// <summary>PageProtect of a single page: the same checks, without the run machinery.</summary>
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
            if (Environments.TouchesUpcallPages(target, address, 1))
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

        private static ulong PageQuery(Environment caller, ulong slot, ulong address)
        {
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (!UserMemory.IsUserRange(address, 1)) return Fail(Error.BadAddress);
            ulong* leaf = PageWalk.UserLeaf(target, address & ~4095UL, false);
            if (leaf == null) return Fail(Error.NotMapped);
            const ulong reported = PageBits.FrameMask | PageBits.Present | PageBits.Writable | PageBits.User | PageBits.Accessed
                | PageBits.Dirty | PageBits.Software0 | PageBits.Software1 | PageBits.Software2 | PageBits.NoExecute;
            return Ok(*leaf & reported);
        }

        private static ulong PageClean(Environment caller, ulong slot, ulong address)
        {
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            if (!UserMemory.IsUserRange(address, 1)) return Fail(Error.BadAddress);
            ulong page = address & ~4095UL;
            ulong* leaf = PageWalk.UserLeaf(target, page, false);
            if (leaf == null) return Fail(Error.NotMapped);
            *leaf &= ~(PageBits.Accessed | PageBits.Dirty);
            target.MappingGeneration++;
            if (target == caller) Cpu.InvalidatePage(page);
            return Ok();
        }
    }
}
