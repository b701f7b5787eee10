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
            "umip", "smap-ac", "nmi-user",
        };

        /// <summary>Runs the check of a behaviour of this area (reason: null for PASS, else why it
        /// failed); false when the name is not one of this area's.</summary>
        private static bool TryDispatchCpu(string name, out string reason)
        {
            switch (name)
            {
                case "umip": reason = Umip(); return true;
                case "smap-ac": reason = SmapWithAlignmentCheck(); return true;
                case "nmi-user": reason = NmiInUserMode(); return true;
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

        /// <summary>A ring-3 program sets RFLAGS.AC and spins; the timer interrupts it. The kernel
        /// counts ticks that came from ring 3 with AC set (the attack happened) and, on each of them,
        /// whether the kernel itself was still running with AC set (interrupt_common's clac: never).</summary>
        private static string SmapWithAlignmentCheck()
        {
            ulong userBefore = Interrupts.UserTicksWithAlignmentCheck;
            ulong kernelBefore = Interrupts.KernelEntriesWithAlignmentCheck;
            Environment app = Spawn("smap-ac");
            if (!Start(app)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(app, 0)) return "smap-ac " + Ending(app);
            ulong userTicks = Interrupts.UserTicksWithAlignmentCheck - userBefore;
            ulong kernelTicks = Interrupts.KernelEntriesWithAlignmentCheck - kernelBefore;
            if (userTicks == 0) return "no timer tick interrupted the app while it had AC set";
            if (kernelTicks != 0)
                return "the kernel ran with RFLAGS.AC set (SMAP lifted) on " + kernelTicks.ToString() + " of " + userTicks.ToString()
                    + " timer entries from ring 3 with AC set";
            if (!Cpu.SupervisorAccessPreventionEnabled) return "SMAP is off";
            return null;
        }

        // The local APIC, used here only to raise test NMIs: its timer, one-shot, with the NMI delivery
        // mode in its LVT entry (QEMU honours the delivery mode of every LVT entry).
        private const uint ApicBaseMsr = 0x1B;
        private const ulong ApicGlobalEnable = 1UL << 11;
        private const int ApicSpurious = 0xF0, ApicLvtTimer = 0x320, ApicInitialCount = 0x380, ApicDivide = 0x3E0;
        private const uint ApicSoftwareEnable = 1u << 8, ApicDeliveryNmi = 4u << 8, ApicMasked = 1u << 16, ApicDivideBy1 = 0xB;
        private const uint NmiDelayCount = 300000;   // timer counts (about 0.3 ms in QEMU)
        private const int NmiAttempts = 50;

        private static void ApicWrite(byte* apic, int register, uint value) => *(uint*)(apic + register) = value;

        /// <summary>NMIs taken while a program runs in ring 3 are the machine's, not the program's: the
        /// program gets no exception upcall, is not destroyed, and ends normally. The kernel raises
        /// NMIs (one-shot local-APIC timer, NMI delivery) until one interrupts ring 3.</summary>
        private static string NmiInUserMode()
        {
            ulong apicBase = Cpu.ReadMsr(ApicBaseMsr);
            if ((apicBase & ApicGlobalEnable) == 0) return "no local APIC to raise a test NMI with";
            byte* apic = (byte*)KernelMemory.PhysicalToVirtual(apicBase & 0xFFFFF000UL);
            Environment app = Spawn("nmi-user");
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || Output(app).Contains("nmi-user: spinning"), 5000);
            ulong before = Interrupts.NmiFromUserCount;
            uint spuriousBefore = *(uint*)(apic + ApicSpurious);
            ApicWrite(apic, ApicSpurious, ApicSoftwareEnable | 0xFF);
            ApicWrite(apic, ApicDivide, ApicDivideBy1);
            for (int attempt = 0; attempt < NmiAttempts && Interrupts.NmiFromUserCount == before && app.IsAlive; attempt++)
            {
                ApicWrite(apic, ApicLvtTimer, ApicDeliveryNmi);
                ApicWrite(apic, ApicInitialCount, NmiDelayCount);
                Scheduler.Run(() => Interrupts.NmiFromUserCount != before || !app.IsAlive, 3);
            }
            ApicWrite(apic, ApicInitialCount, 0);
            ApicWrite(apic, ApicLvtTimer, ApicMasked);
            ApicWrite(apic, ApicSpurious, spuriousBefore);     // the APIC as the kernel found it
            ulong fromUser = Interrupts.NmiFromUserCount - before;
            if (!RunToEnd()) return "timed out";
            ulong upcalls = app.ExceptionUpcalls[InterruptDescriptorTable.Nmi];
            if (upcalls != 0) return "the environment was handed " + upcalls.ToString() + " NMI exception upcall(s) and " + Ending(app);
            if (!ExitedWith(app, 0)) return "nmi-user " + Ending(app) + " after " + fromUser.ToString() + " NMI(s) in ring 3";
            if (fromUser == 0) return "no test NMI interrupted ring 3 in " + NmiAttempts.ToString() + " attempts";
            return null;
        }
    }
}
