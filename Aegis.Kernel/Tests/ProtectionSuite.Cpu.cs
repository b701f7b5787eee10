// Protection-suite behaviours of the CPU side of the kernel (issue #7): what the entry and exit
// code and the control-register setup guarantee against a ring-3 program. Each behaviour is an
// app run in its own environment; the kernel judges it from its own counters. Names here,
// checks below; ProtectionSuite.cs runs them.
using Aegis.Kernel.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Tests
{
    internal static unsafe partial class ProtectionSuite
    {
        private static readonly string[] s_cpuBehaviours =
        {
            "umip",
        };

        /// <summary>Runs the check of a behaviour of this area (reason: null for PASS, else why it
        /// failed); false when the name is not one of this area's.</summary>
        private static bool TryDispatchCpu(string name, out string reason)
        {
            switch (name)
            {
                case "umip": reason = Umip(); return true;
                default: reason = null; return false;
            }
        }

        /// <summary>sgdt, sidt, sldt, str and smsw in ring 3 each raise #GP (CR4.UMIP), delivered to
        /// the app as an exception upcall: the kernel counts five #GP upcalls and a clean exit (the
        /// app's handler resumes only after the instruction it expected to fault).</summary>
        private static string Umip()
        {
            Environment app = Spawn("umip");
            if (!Start(app)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            ulong faults = app.ExceptionUpcalls[InterruptDescriptorTable.GeneralProtection];
            if (faults != 5)
                return "expected 5 #GP upcalls (sgdt, sidt, sldt, str, smsw), the kernel delivered " + faults.ToString()
                    + (Cpu.UserModeInstructionPreventionEnabled ? "" : " (CR4.UMIP is off)");
            if (!ExitedWith(app, 0)) return "umip " + Ending(app);
            return null;
        }
    }
}
