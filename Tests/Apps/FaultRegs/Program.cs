// faultregs: every general register, RFLAGS and the SSE registers are exactly restored after an
// upcall whose handler clobbers them. faultregs.S loads values derived from the kernel's seed (the
// argument) into all of them, takes a page fault, and right after the resume stops at the kernel's
// checkpoint (EnvironmentStop): the kernel compares the general registers and RFLAGS it saved there
// with the values it derives from the seed itself. Then the app also stores and compares them (and
// the SSE registers) for its own report; the page-fault handler skips the faulting store, clobbers
// the registers itself and returns.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.FaultRegs
{
    internal static unsafe class Program
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "faultregs_run")] private static extern void Run(ulong* expected, ulong* actual);
        [MethodImpl(Import), RuntimeImport("*", "faultregs_fault_address")] private static extern ulong FaultAddress();
        [MethodImpl(Import), RuntimeImport("*", "faultregs_fault_end_address")] private static extern ulong FaultEndAddress();
        [MethodImpl(Import), RuntimeImport("*", "faultregs_clobber")] private static extern void Clobber();
        [MethodImpl(Import), RuntimeImport("*", "faultregs_set_stop_call")] private static extern void SetStopCall(ulong number);

        /// <summary>The address faultregs.S stores to (below LowestMappable: never mapped).</summary>
        private const ulong TouchedAddress = 0x1000;
        private const int SlotRflags = 15;
        private const int SlotRsp = 16;
        private const int SlotXmm0 = 17;
        private const int SlotCount = 33;
        /// <summary>CF, PF, AF, ZF, SF, DF, OF set, plus the always-one bit 1 and IF (ring 3 cannot clear it).</summary>
        private const ulong ExpectedFlags = 0x1 | 0x2 | 0x4 | 0x10 | 0x40 | 0x80 | 0x200 | 0x400 | 0x800;

        private static readonly string[] SlotNames =
        {
            "r15", "r14", "r13", "r12", "r11", "r10", "r9", "r8", "rbp", "rdi", "rsi", "rdx", "rcx", "rbx", "rax",
            "rflags", "rsp",
            "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
            "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
        };

        private static int s_faults;
        private static ulong s_faultRip;
        private static ulong s_faultAddress;

        private static int Main()
        {
            // The values come from the seed the kernel chose (the argument): the kernel computes the
            // same values and compares them with the registers at the checkpoint after the resume.
            ulong seed = 0;
            string argument = Info.Argument;
            for (int i = 0; i < argument.Length && argument[i] >= '0' && argument[i] <= '9'; i++)
                seed = seed * 10 + (ulong)(argument[i] - '0');
            SetStopCall((ulong)SystemCall.EnvironmentStop);
            ulong* expected = stackalloc ulong[SlotCount];
            ulong* actual = stackalloc ulong[SlotCount];
            for (int i = 0; i < SlotCount; i++)
            {
                expected[i] = Expected(seed, i);
                actual[i] = 0;
            }
            expected[SlotRflags] = ExpectedFlags;

            PageFaults.Register(OnPageFault);
            Run(expected, actual);

            if (s_faults != 1 || s_faultRip != FaultAddress() || s_faultAddress != TouchedAddress)
            {
                Console.WriteLine("faultregs: FAIL: " + s_faults.ToString() + " faults, last at rip 0x" + s_faultRip.ToString("x")
                    + " address 0x" + s_faultAddress.ToString("x") + "; expected 1 at rip 0x" + FaultAddress().ToString("x") + " address 0x1000");
                return 1;
            }
            int differences = 0;
            for (int i = 0; i < SlotCount; i++)
            {
                if (actual[i] != expected[i])
                {
                    differences++;
                    Console.WriteLine("faultregs: " + SlotNames[i] + " differs: expected 0x" + expected[i].ToString("x")
                        + ", after the upcall 0x" + actual[i].ToString("x"));
                }
            }
            if (differences != 0)
            {
                Console.WriteLine("faultregs: FAIL: " + differences.ToString() + " of " + SlotCount.ToString() + " registers not restored");
                return 1;
            }
            Console.WriteLine("faultregs: all registers restored");
            return 0;
        }

        /// <summary>Register slot i's value for 'seed' (ProtectionSuite.FaultRegisters computes the same).</summary>
        private static ulong Expected(ulong seed, int i)
            => 0xA5A5_0000_0000_0000UL | ((ulong)i << 40) | ((0x0102_0304UL * (ulong)(i + 1) + seed * 0x1_0001UL) & 0xFF_FFFF_FFFFUL);

        private static bool OnPageFault(ref UpcallFrame frame)
        {
            if (frame.FaultAddress != TouchedAddress)
                return false;
            s_faults++;
            s_faultRip = frame.Registers.Rip;
            s_faultAddress = frame.FaultAddress;
            if (frame.Registers.Rip != FaultAddress())
                Upcalls.ReportAndExit(ref frame); // resuming would fault again forever
            frame.Registers.Rip = FaultEndAddress();
            Clobber();
            return true;
        }
    }
}
