// illegalinstruction: an invalid opcode (trap 6) is delivered to the app's own handler with the
// right trap number and address, and the app resumes. The handler records both and skips the 2-byte
// `ud2` (the CPU reports its own address for a fault). illegalinstruction.S puts the instruction at
// a known address.
// The shared shape (handler, checks, the kernel's checkpoint and token): ../Shared/TrapFixture.cs.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Apps.Shared;
using Aegis.LibOS;

namespace Aegis.Apps.IllegalInstruction
{
    internal static unsafe class Program
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "illegalinstruction_run")] private static extern void Run(ulong stopCall);
        [MethodImpl(Import), RuntimeImport("*", "illegalinstruction_ud2_address")] private static extern ulong InstructionAddress();
        [MethodImpl(Import), RuntimeImport("*", "illegalinstruction_ud2_end_address")] private static extern ulong InstructionEndAddress();

        private static void Trigger(ulong stopCall) => Run(stopCall);

        private static int Main() => TrapFixture.Run("illegalinstruction", Traps.InvalidOpcode, &Trigger, InstructionAddress(), InstructionEndAddress());
    }
}
