// breakpoint: a breakpoint (trap 3) is delivered to the app's own handler with the right trap
// number and address, and the app resumes. The handler records both and changes nothing: for a trap
// the CPU reports the address after int3. breakpoint.S puts the instruction at a known address.
// The kernel judges the resume itself: the assembly stops the app (EnvironmentStop, the kernel's
// checkpoint) right after the trapping instruction, and the kernel checks that RIP against the trap's;
// resumed, the app exits with the status the kernel chose (its argument).
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Breakpoint
{
    internal static class Program
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "breakpoint_hit")] private static extern void Hit(ulong stopCall);
        [MethodImpl(Import), RuntimeImport("*", "breakpoint_int3_address")] private static extern ulong InstructionAddress();
        [MethodImpl(Import), RuntimeImport("*", "breakpoint_int3_end_address")] private static extern ulong InstructionEndAddress();

        private static ulong s_trap = ulong.MaxValue;
        private static ulong s_rip;
        private static int s_upcalls;

        private static int Main()
        {
            Upcalls.SetExceptionHandler(Traps.Breakpoint, OnException);
            Hit((ulong)SystemCall.EnvironmentStop);
            if (s_upcalls != 1 || s_trap != Traps.Breakpoint || s_rip != InstructionEndAddress())
            {
                Console.WriteLine("breakpoint: FAIL: " + s_upcalls.ToString() + " upcalls, trap " + s_trap.ToString() + " at 0x" + s_rip.ToString("x")
                    + ", expected 1 upcall, trap 3 at 0x" + InstructionEndAddress().ToString("x"));
                return 1;
            }
            Console.WriteLine("breakpoint: trap " + s_trap.ToString() + " at 0x" + s_rip.ToString("x") + ", resumed");
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
            if (frame.Registers.Rip != InstructionEndAddress())
                Upcalls.ReportAndExit(ref frame); // not the one this app caused
        }
    }
}
