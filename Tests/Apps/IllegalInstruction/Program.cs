// illegalinstruction: an invalid opcode (trap 6) is delivered to the app's own handler with the
// right trap number and address, and the app resumes. The handler records both and skips the 2-byte
// `ud2` (the CPU reports its own address for a fault). illegalinstruction.S puts the instruction at
// a known address.
// The kernel judges the resume itself: the assembly stops the app (EnvironmentStop, the kernel's
// checkpoint) right after the trapping instruction, and the kernel checks that RIP against the trap's;
// resumed, the app exits with the status the kernel chose (its argument).
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.IllegalInstruction
{
    internal static class Program
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "illegalinstruction_run")] private static extern void Run(ulong stopCall);
        [MethodImpl(Import), RuntimeImport("*", "illegalinstruction_ud2_address")] private static extern ulong InstructionAddress();
        [MethodImpl(Import), RuntimeImport("*", "illegalinstruction_ud2_end_address")] private static extern ulong InstructionEndAddress();

        private static ulong s_trap = ulong.MaxValue;
        private static ulong s_rip;
        private static int s_upcalls;

        private static int Main()
        {
            Upcalls.SetExceptionHandler(Traps.InvalidOpcode, OnException);
            Run((ulong)SystemCall.EnvironmentStop);
            if (s_upcalls != 1 || s_trap != Traps.InvalidOpcode || s_rip != InstructionAddress())
            {
                Console.WriteLine("illegalinstruction: FAIL: " + s_upcalls.ToString() + " upcalls, trap " + s_trap.ToString() + " at 0x" + s_rip.ToString("x")
                    + ", expected 1 upcall, trap 6 at 0x" + InstructionAddress().ToString("x"));
                return 1;
            }
            Console.WriteLine("illegalinstruction: trap " + s_trap.ToString() + " at 0x" + s_rip.ToString("x") + ", resumed");
            return KernelToken(); // the exit status the kernel chose (its argument): it ran on after the trap
        }

        /// <summary>The decimal number the protection suite passed as this app's argument.</summary>
        private static int KernelToken()
        {
            string argument = Info.Argument;
            int token = 0;
            for (int i = 0; i < argument.Length && argument[i] >= '0' && argument[i] <= '9'; i++)
                token = token * 10 + (argument[i] - '0');
            return token;
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
