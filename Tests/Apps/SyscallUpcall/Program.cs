// syscall-upcall: a program's `syscall` with a number outside Aegis's range, delivered to its own
// libOS as a system-call upcall (SetSystemCallUpcall). The argument, chosen by the kernel's
// protection suite (ProtectionSuite.SystemCallUpcall.cs), is "MODE SEED NUMBER":
//   deliver    turn the upcall on (entry scu_entry) and make the call: the entry stops at a
//              checkpoint where the kernel reads the frame; it answers ~NUMBER and resumes the
//              program, which stops at a second checkpoint where the kernel checks every register
//   off        turn it on, then off again (SetSystemCallUpcall(0)); also try a kernel entry
//              (BadAddress) and no upcall stack (InvalidArgument); the call returns NoSuchCall
//   bad-stack  turn it on, make the upcall stack's top page read-only, make the call: the kernel
//              cannot write the frame and ends the environment (BadUpcall)
//   fsgs       set FS and GS bases with wrfsbase/wrgsbase (CpuFeatureBits.FsGsBase), yield while
//              others run, read them back: the kernel checks them at a checkpoint
// The register values derive from SEED; the kernel derives the same values and is the judge. What
// this program prints is for people; its exit status only says it got to its end.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.SyscallUpcall
{
    internal static unsafe class Program
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "scu_run")] private static extern void Run(ulong* values, ulong number);
        [MethodImpl(Import), RuntimeImport("*", "scu_fsgs")] private static extern void FsGs(ulong fs, ulong gs);
        [MethodImpl(Import), RuntimeImport("*", "scu_entry_address")] private static extern ulong EntryAddress();

        private static int Main()
        {
            string[] words = Info.Argument.Split(' ');
            if (words.Length != 3)
            {
                Console.WriteLine("syscall-upcall: expected MODE SEED NUMBER");
                return 1;
            }
            string mode = words[0];
            ulong seed = ulong.Parse(words[1]);
            ulong number = ulong.Parse(words[2]);
            ulong* values = stackalloc ulong[15];
            for (int i = 0; i < 15; i++)
                values[i] = Value(seed, i);

            if (mode == "fsgs")
            {
                if ((InfoPageFeatures() & CpuFeatureBits.FsGsBase) == 0)
                {
                    Console.WriteLine("syscall-upcall: no FSGSBASE");
                    return 3;
                }
                FsGs(values[0] & 0x0000_7FFF_FFFF_F000UL, values[1] | 0xFFFF_8000_0000_0000UL);
                Console.WriteLine("syscall-upcall: fsgs done");
                return 0;
            }

            Error error = SystemCalls.SetSystemCallUpcall(EntryAddress());
            if (error != Error.None)
            {
                Console.WriteLine("syscall-upcall: SetSystemCallUpcall: " + Errors.Name(error));
                return 1;
            }
            if (mode == "off")
            {
                if (SystemCalls.SetSystemCallUpcall(0) != Error.None) return 1;
                Error kernelEntry = SystemCalls.SetSystemCallUpcall(0xFFFF_FFFF_8010_0000UL);
                // No upcall stack: unregister it (the entry too) for a moment, then put both back.
                SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, 0, 0, 0);
                Error noStack = SystemCalls.SetSystemCallUpcall(EntryAddress());
                SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, Upcalls.EntryAddress, AddressSpace.UpcallStackTop, AddressSpace.UpcallStackPages);
                Console.WriteLine("syscall-upcall: a kernel entry: " + Errors.Name(kernelEntry) + "; no upcall stack: " + Errors.Name(noStack));
                if (kernelEntry != Error.BadAddress || noStack != Error.InvalidArgument) return 1;
            }
            else if (mode == "bad-stack")
            {
                if (SystemCalls.PageProtect(CapabilitySlots.Self, AddressSpace.UpcallStackTop - Memory.PageSize, 1, Memory.ReadOnly).IsError)
                {
                    Console.WriteLine("syscall-upcall: cannot protect the upcall stack");
                    return 1;
                }
            }
            Run(values, number);
            Console.WriteLine("syscall-upcall: " + mode + " done");
            return 0;
        }

        private static ulong InfoPageFeatures() => ((InfoPage*)UserAddresses.InfoPage)->CpuFeatures;

        /// <summary>Register i's value (UserRegisters order) for 'seed'; ProtectionSuite.SystemCallUpcall.cs computes the same.</summary>
        private static ulong Value(ulong seed, int i)
            => 0xC3C3_0000_0000_0000UL | ((ulong)i << 40) | ((0x0102_0304UL * (ulong)(i + 1) + seed * 0x1_0001UL) & 0xFF_FFFF_FFFFUL);
    }
}
