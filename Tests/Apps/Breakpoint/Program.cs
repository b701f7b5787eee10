// breakpoint: a breakpoint (trap 3) is delivered to the app's own handler with the right trap
// number and address, and the app resumes. The handler records both and changes nothing: for a trap
// the CPU reports the address after int3. breakpoint.S puts the instruction at a known address.
// The shared shape (handler, checks, the kernel's checkpoint and token): ../Shared/TrapFixture.cs.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Apps.Shared;
using Aegis.LibOS;

namespace Aegis.Apps.Breakpoint
{
    internal static unsafe class Program
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "breakpoint_hit")] private static extern void Hit(ulong stopCall);
        [MethodImpl(Import), RuntimeImport("*", "breakpoint_int3_end_address")] private static extern ulong InstructionEndAddress();

        private static void Trigger(ulong stopCall) => Hit(stopCall);

        private static int Main() => TrapFixture.Run("breakpoint", Traps.Breakpoint, &Trigger, InstructionEndAddress(), InstructionEndAddress());
    }
}
