// umip: the instructions that reveal kernel addresses (sgdt, sidt, sldt, str, smsw) fault in
// ring 3 (CR4.UMIP): each raises #GP, which reaches this app's handler as an exception upcall;
// the handler checks the fault is the instruction it expected and resumes after it. Without
// UMIP they simply run (and sgdt/sidt hand the app the kernel's GDT and IDT addresses). The
// kernel judges from its own count of #GP upcalls (ProtectionSuite.Cpu.cs); the text printed
// here is only for a reader.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Umip
{
    internal static unsafe class Program
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "umip_run")] private static extern void Run(ulong instruction, byte* buffer);
        [MethodImpl(Import), RuntimeImport("*", "umip_address")] private static extern ulong Address(ulong instruction);
        [MethodImpl(Import), RuntimeImport("*", "umip_end_address")] private static extern ulong EndAddress(ulong instruction);

        private const int InstructionCount = 5;
        private static readonly string[] s_names = { "sgdt", "sidt", "sldt", "str", "smsw" };
        private static ulong s_expected;
        private static int s_faults;

        private static int Main()
        {
            Upcalls.SetExceptionHandler(Traps.GeneralProtection, OnGeneralProtection);
            byte* buffer = stackalloc byte[16];
            int failures = 0;
            for (ulong i = 0; i < InstructionCount; i++)
            {
                int before = s_faults;
                s_expected = i;
                Run(i, buffer);
                if (s_faults == before)
                {
                    Console.WriteLine("umip: " + s_names[i] + " ran in ring 3 (no #GP): UMIP is off");
                    failures++;
                }
            }
            if (failures != 0)
                return 1;
            Console.WriteLine("umip: sgdt, sidt, sldt, str and smsw each raised #GP");
            return 0;
        }

        private static void OnGeneralProtection(ref UpcallFrame frame)
        {
            if (frame.Registers.Rip != Address(s_expected))
                Upcalls.ReportAndExit(ref frame); // a #GP this app did not mean to cause
            s_faults++;
            frame.Registers.Rip = EndAddress(s_expected);
        }
    }
}
