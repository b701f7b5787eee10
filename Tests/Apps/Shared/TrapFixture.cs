// The shape the trap fixtures (divzero, breakpoint, illegalinstruction) share: register a handler
// for one trap, run the trapping instruction (each app's own assembly puts it at a known address),
// and check that exactly one upcall came for that trap at the expected RIP. The handler records
// what it saw and moves RIP to where the app resumes (unchanged for a trap such as int3, past the
// instruction for a fault). The kernel judges the resume itself: the assembly stops the app
// (EnvironmentStop, the kernel's checkpoint) right after the instruction, the kernel compares that
// RIP with the trap's, and the app, resumed, exits with the status the kernel chose (its argument).
// Compiled into each trap fixture (its .csproj), not a library: fixtures carry no code of their own
// beyond the instruction under test.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Shared
{
    internal static unsafe class TrapFixture
    {
        private static ulong s_trap = ulong.MaxValue;
        private static ulong s_rip;
        private static int s_upcalls;
        private static ulong s_reportedRip;
        private static ulong s_resumeRip;

        /// <summary>Runs 'trigger' (given the EnvironmentStop call number for its checkpoint), expecting
        /// one upcall for 'trap' reported at 'reportedRip'; the handler resumes at 'resumeRip'.
        /// Returns the app's exit status: the kernel's token on success, 1 otherwise.</summary>
        public static int Run(string name, ulong trap, delegate*<ulong, void> trigger, ulong reportedRip, ulong resumeRip)
        {
            s_reportedRip = reportedRip;
            s_resumeRip = resumeRip;
            Upcalls.SetExceptionHandler(trap, OnException);
            trigger((ulong)SystemCall.EnvironmentStop);
            if (s_upcalls != 1 || s_trap != trap || s_rip != reportedRip)
            {
                Console.WriteLine(name + ": FAIL: " + s_upcalls.ToString() + " upcalls, trap " + s_trap.ToString() + " at 0x" + s_rip.ToString("x")
                    + ", expected 1 upcall, trap " + trap.ToString() + " at 0x" + reportedRip.ToString("x"));
                return 1;
            }
            Console.WriteLine(name + ": trap " + s_trap.ToString() + " at 0x" + s_rip.ToString("x") + ", resumed");
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
            if (frame.Registers.Rip != s_reportedRip)
                Upcalls.ReportAndExit(ref frame); // not the one this app caused
            frame.Registers.Rip = s_resumeRip;
        }
    }
}
