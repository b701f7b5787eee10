// System calls on capabilities: copy one into another environment's table, query a slot.
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
        private static ulong CapabilityCopy(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => CapabilityCopy(Scheduler.Current, a0, a1);
        private static ulong CapabilityQuery(Environment caller, InterruptFrame* frame) => CapabilityQuery(caller, frame, frame->Rdi);

        private static ulong CapabilityCopy(Environment caller, ulong slot, ulong environmentSlot)
        {
            if (slot == CapabilitySlots.Self || slot >= CapabilitySlots.Count) return Fail(Error.InvalidArgument);
            Error error = caller.Capabilities.Query(slot, out CapabilityKind kind, out ulong objectId);
            if (error != Error.None) return Fail(error);
            error = ResolveEnvironment(caller, environmentSlot, out Environment target);
            if (error != Error.None) return Fail(error);
            // A capability with a well-known slot (Console, the devices) goes there when it is empty.
            ulong home = HomeSlot(kind, objectId);
            if (home != 0 && target.Capabilities.Lookup(home, kind, out _) != Error.None
                && target.Capabilities.TryInsertAt(home, kind, objectId) == Error.None)
                return Ok(home);
            error = target.Capabilities.TryInsert(kind, objectId, out ulong newSlot);
            return error == Error.None ? Ok(newSlot) : Fail(error);
        }

        /// <summary>Where the first environment holds a capability of this kind and object (0: no fixed slot).</summary>
        private static ulong HomeSlot(CapabilityKind kind, ulong objectId)
        {
            switch (kind)
            {
                case CapabilityKind.Console: return CapabilitySlots.Console;
                case CapabilityKind.Display: return CapabilitySlots.Display;
                case CapabilityKind.Disk: return objectId == 0 ? CapabilitySlots.Disk : 0;
                case CapabilityKind.Nic: return objectId == 0 ? CapabilitySlots.Nic : 0;
                case CapabilityKind.Input:
                    return objectId == (ulong)InputDevice.Keyboard ? CapabilitySlots.Keyboard : objectId == (ulong)InputDevice.Serial ? CapabilitySlots.Serial : 0;
                default: return 0;
            }
        }

        private static ulong CapabilityQuery(Environment caller, InterruptFrame* frame, ulong slot)
        {
            if (slot >= CapabilitySlots.Count) return Fail(Error.InvalidArgument);
            if (slot == CapabilitySlots.Self)
            {
                frame->Rdx = caller.Id;
                return Ok((ulong)CapabilityKind.Environment);
            }
            Error error = caller.Capabilities.Query(slot, out CapabilityKind kind, out ulong objectId);
            if (error != Error.None) return Fail(error);
            frame->Rdx = objectId;
            return Ok((ulong)kind);
        }
    }
}
