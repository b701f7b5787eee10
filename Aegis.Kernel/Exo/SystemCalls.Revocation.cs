// System calls of visible revocation: RevokeFrames asks an environment (through its
// capability) to give frames back by a deadline; the abort protocol is Exo/Revocation.cs.
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
        private static ulong RevokeFrames(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => RevokeFrames(Scheduler.Current, a0, a1, a2);

        private static ulong RevokeFrames(Environment caller, ulong slot, ulong count, ulong deadline)
        {
            if (slot == CapabilitySlots.Self) return Fail(Error.InvalidArgument);
            Error error = ResolveEnvironment(caller, slot, out Environment target);
            if (error != Error.None) return Fail(error);
            error = Revocation.Request(target, count, deadline);
            if (!caller.IsAlive)
                Scheduler.LeaveToLoop(); // the target was destroyed (bad upcall) and the caller descended from it
            return ErrorResult(error);
        }
    }
}
