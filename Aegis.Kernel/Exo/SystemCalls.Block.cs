// System calls on disks (issue #11): BlockInfo, ExtentOpen, ExtentAllocate, ExtentFree,
// ExtentRestrict, BlockSubmit, BlockComplete (Aegis.Abi/SystemCall.cs, docs/abi.md "Disks"). Each
// resolves its capability and checks every argument before anything changes; the work is in
// BlockDevices. None allocates: names and requests are read into the stack.
using System;
using Aegis.Abi;
using Aegis.Kernel.Core.Exo;

namespace Aegis.Kernel.Exo
{
    internal static unsafe partial class SystemCalls
    {
        private static ulong BlockInfoCall(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => BlockInfoCall(Scheduler.Current, a0, a1);
        private static ulong ExtentOpen(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => ExtentOpen(Scheduler.Current, a0, a1, a2);
        private static ulong ExtentAllocate(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => ExtentAllocate(Scheduler.Current, a0, a1, a2, a3);
        private static ulong ExtentFree(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => ExtentFree(Scheduler.Current, a0);
        private static ulong ExtentRestrict(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => ExtentRestrict(Scheduler.Current, a0);
        private static ulong BlockSubmit(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => BlockSubmit(Scheduler.Current, a0, a1);
        private static ulong BlockComplete(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => BlockComplete(Scheduler.Current, a0, a1);

        private static Error ResolveDisk(Environment caller, ulong slot)
        {
            Error error = caller.Capabilities.Lookup(slot, CapabilityKind.Disk, out ulong disk);
            if (error != Error.None) return error;
            return disk == 0 && BlockDevices.Present ? Error.None : Error.NoCapability;
        }

        private static Error ResolveExtentSlot(Environment caller, ulong slot, out int index, out bool writable)
        {
            index = -1; writable = false;
            Error error = caller.Capabilities.Lookup(slot, CapabilityKind.Extent, out ulong objectId);
            if (error != Error.None) return error;
            return BlockDevices.ResolveExtent(objectId, out index, out writable);
        }

        private static ulong BlockInfoCall(Environment caller, ulong slot, ulong address)
        {
            BlockInfo info = default;
            Error error = caller.Capabilities.Query(slot, out CapabilityKind kind, out ulong objectId);
            if (error != Error.None) return Fail(error);
            if (kind == CapabilityKind.Disk)
            {
                error = ResolveDisk(caller, slot);
                if (error != Error.None) return Fail(error);
                BlockDevices.FillDiskInfo(&info);
            }
            else if (kind == CapabilityKind.Extent)
            {
                error = BlockDevices.ResolveExtent(objectId, out int index, out bool writable);
                if (error != Error.None) return Fail(error);
                BlockDevices.FillExtentInfo(&info, index, writable);
            }
            else return Fail(Error.NoCapability);
            if (!UserMemory.TryWrite(caller, address, new ReadOnlySpan<byte>(&info, sizeof(BlockInfo)))) return Fail(Error.BadAddress);
            return Ok();
        }

        /// <summary>Reads an extent's name (1..NameBytes bytes) from the caller into 'name'.</summary>
        private static Error ReadExtentName(Environment caller, ulong address, ulong length, Span<byte> name)
        {
            if (length == 0 || length > BlockLimits.NameBytes) return Error.InvalidArgument;
            if (!UserMemory.TryRead(caller, address, name.Slice(0, (int)length))) return Error.BadAddress;
            if (name.Slice(0, (int)length).IndexOf((byte)0) >= 0) return Error.InvalidArgument;
            return Error.None;
        }

        private static ulong InsertExtent(Environment caller, int index, bool writable)
        {
            Error error = caller.Capabilities.TryInsert(CapabilityKind.Extent, BlockDevices.ExtentObject(index, writable), out ulong slot);
            return error == Error.None ? Ok(slot) : Fail(error);
        }

        private static ulong ExtentOpen(Environment caller, ulong diskSlot, ulong nameAddress, ulong nameLength)
        {
            Error error = ResolveDisk(caller, diskSlot);
            if (error != Error.None) return Fail(error);
            Span<byte> name = stackalloc byte[BlockLimits.NameBytes];
            error = ReadExtentName(caller, nameAddress, nameLength, name);
            if (error != Error.None) return Fail(error);
            if (!caller.Capabilities.HasFreeSlot()) return Fail(Error.NoMemory);
            error = BlockDevices.Open(name.Slice(0, (int)nameLength), out int index);
            if (error != Error.None) return Fail(error);
            return InsertExtent(caller, index, writable: true);
        }

        private static ulong ExtentAllocate(Environment caller, ulong diskSlot, ulong sectors, ulong nameAddress, ulong nameLength)
        {
            Error error = ResolveDisk(caller, diskSlot);
            if (error != Error.None) return Fail(error);
            Span<byte> name = stackalloc byte[BlockLimits.NameBytes];
            error = ReadExtentName(caller, nameAddress, nameLength, name);
            if (error != Error.None) return Fail(error);
            if (sectors == 0) return Fail(Error.InvalidArgument);
            if (!caller.Capabilities.HasFreeSlot()) return Fail(Error.NoMemory);
            error = BlockDevices.Allocate(sectors, name.Slice(0, (int)nameLength), out int index);
            if (error != Error.None) return Fail(error);
            return InsertExtent(caller, index, writable: true);
        }

        private static ulong ExtentFree(Environment caller, ulong slot)
        {
            Error error = ResolveExtentSlot(caller, slot, out int index, out bool writable);
            if (error != Error.None) return Fail(error);
            if (!writable) return Fail(Error.NoCapability);
            return ErrorResult(BlockDevices.Free(index));
        }

        private static ulong ExtentRestrict(Environment caller, ulong slot)
        {
            Error error = ResolveExtentSlot(caller, slot, out int index, out _);
            if (error != Error.None) return Fail(error);
            return InsertExtent(caller, index, writable: false);
        }

        private static ulong BlockSubmit(Environment caller, ulong slot, ulong requestAddress)
        {
            Error error = ResolveExtentSlot(caller, slot, out int index, out bool writable);
            if (error != Error.None) return Fail(error);
            BlockRequest request;
            if (!UserMemory.TryRead(caller, requestAddress, new Span<byte>(&request, sizeof(BlockRequest)))) return Fail(Error.BadAddress);
            return ErrorResult(BlockDevices.Submit(caller, index, writable, request));
        }

        private static ulong BlockComplete(Environment caller, ulong address, ulong count)
        {
            if (count > BlockLimits.MaximumRequestsPerEnvironment) return Fail(Error.InvalidArgument);
            if (!UserMemory.IsAccessible(caller, address, count * (ulong)sizeof(BlockCompletion), true)) return Fail(Error.BadAddress);
            BlockCompletion* completions = stackalloc BlockCompletion[BlockLimits.MaximumRequestsPerEnvironment];
            int written = BlockDevices.Collect(caller, completions, (int)count);
            if (written > 0 && !UserMemory.TryWrite(caller, address, new ReadOnlySpan<byte>(completions, written * sizeof(BlockCompletion))))
                return Fail(Error.BadAddress); // checked above; only a page the caller unmapped since (the completions are gone: its own doing)
            return Ok((ulong)written);
        }
    }
}
