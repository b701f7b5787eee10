// illegalinstruction: an invalid opcode (trap 6) is delivered to the app's own handler with the
// right trap number and address, and the app resumes. The handler records both and skips the 2-byte
// `ud2` (the CPU reports its own address for a fault). illegalinstruction.S puts the instruction at
// a known address.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.IllegalInstruction
{
    internal static class Program
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "illegalinstruction_run")] private static extern void Run();
        [MethodImpl(Import), RuntimeImport("*", "illegalinstruction_ud2_address")] private static extern ulong InstructionAddress();
        [MethodImpl(Import), RuntimeImport("*", "illegalinstruction_ud2_end_address")] private static extern ulong InstructionEndAddress();

        private static ulong s_trap = ulong.MaxValue;
        private static ulong s_rip;
        private static int s_upcalls;

        private static int Main()
        {
            Upcalls.SetExceptionHandler(Traps.InvalidOpcode, OnException);
            Run();
            if (s_upcalls != 1 || s_trap != Traps.InvalidOpcode || s_rip != InstructionAddress())
            {
                Console.WriteLine("illegalinstruction: FAIL: " + s_upcalls.ToString() + " upcalls, trap " + s_trap.ToString() + " at 0x" + s_rip.ToString("x")
                    + ", expected 1 upcall, trap 6 at 0x" + InstructionAddress().ToString("x"));
                return 1;
            }
            Console.WriteLine("illegalinstruction: trap " + s_trap.ToString() + " at 0x" + s_rip.ToString("x") + ", resumed");
            return 0;
        }

        private static void OnException(ref UpcallFrame frame)
        {
            s_upcalls++;
            s_trap = frame.Trap;
            s_rip = frame.Registers.Rip;
            if (frame.Registers.Rip != InstructionAddress())
                Upcalls.ReportAndExit(ref frame); // not the one this app caused
            frame.Registers.Rip = InstructionEndAddress();
        }
    }
}
