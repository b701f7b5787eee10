// divzero: a divide by zero (trap 0) is delivered to the app's own handler with the right trap
// number and address, and the app resumes. The handler records both and skips the `div` (the CPU
// reports its own address for a fault). divzero.S puts the instruction at a known address.
// The shared shape (handler, checks, the kernel's checkpoint and token): ../Shared/TrapFixture.cs.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Apps.Shared;
using Aegis.LibOS;

namespace Aegis.Apps.DivZero
{
    internal static unsafe class Program
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "divzero_divide")] private static extern ulong Divide(ulong dividend, ulong divisor, ulong stopCall);
        [MethodImpl(Import), RuntimeImport("*", "divzero_div_address")] private static extern ulong InstructionAddress();
        [MethodImpl(Import), RuntimeImport("*", "divzero_div_end_address")] private static extern ulong InstructionEndAddress();

        private static ulong s_divisor; // 0, in a field so nothing folds the division away

        private static void Trigger(ulong stopCall) => Divide(7, s_divisor, stopCall);

        private static int Main() => TrapFixture.Run("divzero", Traps.DivideError, &Trigger, InstructionAddress(), InstructionEndAddress());
    }
}
