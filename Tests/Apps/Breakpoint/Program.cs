// breakpoint: a breakpoint (trap 3) is delivered to the app's own handler with the right trap
// number and address, and the app resumes. The handler records both and changes nothing: for a trap
// the CPU reports the address after int3. breakpoint.S puts the instruction at a known address.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Breakpoint
{
    internal static class Program
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "breakpoint_hit")] private static extern void Hit();
        [MethodImpl(Import), RuntimeImport("*", "breakpoint_int3_address")] private static extern ulong InstructionAddress();
        [MethodImpl(Import), RuntimeImport("*", "breakpoint_int3_end_address")] private static extern ulong InstructionEndAddress();

        private static ulong s_trap = ulong.MaxValue;
        private static ulong s_rip;
        private static int s_upcalls;

        private static int Main()
        {
            Upcalls.SetExceptionHandler(Traps.Breakpoint, OnException);
            Hit();
            if (s_upcalls != 1 || s_trap != Traps.Breakpoint || s_rip != InstructionEndAddress())
            {
                Console.WriteLine("breakpoint: FAIL: " + s_upcalls.ToString() + " upcalls, trap " + s_trap.ToString() + " at 0x" + s_rip.ToString("x")
                    + ", expected 1 upcall, trap 3 at 0x" + InstructionEndAddress().ToString("x"));
                return 1;
            }
            Console.WriteLine("breakpoint: trap " + s_trap.ToString() + " at 0x" + s_rip.ToString("x") + ", resumed");
            return 0;
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
