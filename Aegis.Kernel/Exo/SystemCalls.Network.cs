// System calls on network controllers (issue #12): NicInfo, NicAttach, NicFilterInstall,
// NicFilterRemove, NicSend, NicRestrict, NicFilterDelegate (Aegis.Abi/SystemCall.cs, docs/abi.md "Networks"). Each
// resolves the Nic capability and checks every argument before anything changes; the work is in
// NetworkDevices. None allocates: atoms and requests are read into the stack.
using System;
using Aegis.Abi;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe partial class SystemCalls
    {
        private static ulong NicInfoCall(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => NicInfoCall(Scheduler.Current, a0, a1);
        private static ulong NicAttach(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => NicAttach(Scheduler.Current, a0, a1, a2);
        private static ulong NicFilterRemove(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => NicFilterRemove(Scheduler.Current, a0, a1);
        private static ulong NicSend(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => NicSend(Scheduler.Current, a0, a1, a2);
        private static ulong NicRestrict(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => NicRestrict(Scheduler.Current, a0, a1, a2);

        private static Error ResolveNic(Environment caller, ulong slot, out ulong objectId)
        {
            Error error = caller.Capabilities.Lookup(slot, CapabilityKind.Nic, out objectId);
            if (error != Error.None) return error;
            return NetworkDevices.Present ? Error.None : Error.NoCapability;
        }

        private static ulong NicInfoCall(Environment caller, ulong slot, ulong address)
        {
            Error error = ResolveNic(caller, slot, out ulong objectId);
            if (error != Error.None) return Fail(error);
            NicInfo info = default;
            NetworkDevices.FillInfo(&info, objectId);
            if (!UserMemory.TryWrite(caller, address, new ReadOnlySpan<byte>(&info, sizeof(NicInfo)))) return Fail(Error.BadAddress);
            return Ok();
        }

        private static ulong NicAttach(Environment caller, ulong slot, ulong address, ulong slots)
        {
            Error error = ResolveNic(caller, slot, out _);
            if (error != Error.None) return Fail(error);
            if (address == 0 && slots == 0)
            {
                NetworkDevices.Detach(caller);
                return Ok();
            }
            if (slots < NicLimits.MinimumRingSlots || slots > NicLimits.MaximumRingSlots || (slots & (slots - 1)) != 0) return Fail(Error.InvalidArgument);
            if ((address & 4095) != 0) return Fail(Error.InvalidArgument);
            return ErrorResult(NetworkDevices.Attach(caller, address, (uint)slots));
        }

        private static ulong NicFilterInstall(Environment caller, InterruptFrame* frame) => FilterCall(caller, frame, false);

        private static ulong NicFilterDelegate(Environment caller, InterruptFrame* frame) => FilterCall(caller, frame, true);

        /// <summary>NicFilterInstall (nic slot, atoms, count) and NicFilterDelegate (the same and the
        /// target's id in R10): the id in RAX, the FilterError in RDX, the environment in the way in RSI.</summary>
        private static ulong FilterCall(Environment caller, InterruptFrame* frame, bool delegated)
        {
            ulong slot = frame->Rdi, address = frame->Rsi, count = frame->Rdx, targetId = frame->R10;
            frame->Rdx = 0;
            frame->Rsi = 0;
            Error error = ResolveNic(caller, slot, out ulong objectId);
            if (error != Error.None) return Fail(error);
            if (count == 0 || count > NetworkLimits.MaximumAtoms)
            {
                frame->Rdx = (ulong)(count == 0 ? FilterError.NoAtoms : FilterError.TooManyAtoms);
                return Fail(Error.InvalidArgument);
            }
            Environment target = null;
            if (delegated)
            {
                target = Environments.Find(targetId);
                if (target == null || !target.IsAlive) return Fail(Error.BadEnvironment);
            }
            FilterAtom* atoms = stackalloc FilterAtom[NetworkLimits.MaximumAtoms];
            if (!UserMemory.TryRead(caller, address, new Span<byte>(atoms, (int)count * sizeof(FilterAtom)))) return Fail(Error.BadAddress);
            var given = new ReadOnlySpan<FilterAtom>(atoms, (int)count);
            int id;
            FilterError reason;
            ulong conflictingOwner;
            error = delegated
                ? NetworkDevices.DelegateFilter(caller, objectId, target, given, out id, out reason, out conflictingOwner)
                : NetworkDevices.InstallFilter(caller, objectId, given, out id, out reason, out conflictingOwner);
            frame->Rdx = (ulong)reason;
            frame->Rsi = conflictingOwner;
            return error == Error.None ? Ok((ulong)id) : Fail(error);
        }

        private static ulong NicFilterRemove(Environment caller, ulong slot, ulong id)
        {
            Error error = ResolveNic(caller, slot, out _);
            if (error != Error.None) return Fail(error);
            return ErrorResult(NetworkDevices.RemoveFilter(caller, id));
        }

        [System.Runtime.CompilerServices.SkipLocalsInit] // only the 'count' requests read are used
        private static ulong NicSend(Environment caller, ulong slot, ulong address, ulong count)
        {
            Error error = ResolveNic(caller, slot, out _);
            if (error != Error.None) return Fail(error);
            if (count == 0 || count > NicLimits.MaximumSendBatch) return Fail(Error.InvalidArgument);
            NicSendRequest* requests = stackalloc NicSendRequest[NicLimits.MaximumSendBatch];
            if (!UserMemory.TryRead(caller, address, new Span<byte>(requests, (int)count * sizeof(NicSendRequest)))) return Fail(Error.BadAddress);
            ulong queued = 0;
            for (; queued < count; queued++)
            {
                error = NetworkDevices.Send(caller, requests[queued]);
                if (error != Error.None) break;
            }
            // Once half the caller's sends are in flight, those the device has finished are counted
            // now rather than by their interrupt or the tick: a burst should never find all 64 of
            // its buffers taken by sends long done (docs/network.md: insurance, not a proven cause).
            NetworkDevices.ReapSendsWhenHalfInFlight(caller);
            if (queued == 0) return Fail(error);
            return Ok(queued);
        }

        private static ulong NicRestrict(Environment caller, ulong slot, ulong low, ulong high)
        {
            Error error = ResolveNic(caller, slot, out ulong objectId);
            if (error != Error.None) return Fail(error);
            if (low > high || high > 65535) return Fail(Error.InvalidArgument);
            NetworkDevices.PortRange(objectId, out uint ownLow, out uint ownHigh);
            if (low < ownLow || high > ownHigh) return Fail(Error.NoCapability);
            if (!caller.Capabilities.HasFreeSlot()) return Fail(Error.NoMemory);
            error = caller.Capabilities.TryInsert(CapabilityKind.Nic, NetworkDevices.RestrictedObject((uint)low, (uint)high), out ulong newSlot);
            return error == Error.None ? Ok(newSlot) : Fail(error);
        }
    }
}
