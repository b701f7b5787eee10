// The Linux personality's one system-call table. The kernel delivers every `syscall` the Linux
// program makes (RAX below SystemCallNumbers.First) to the libOS as an UpcallKind.SystemCall
// upcall carrying the program's registers; the trampoline (Native/linux.S) calls Dispatch with
// them, and resumes the program with RAX = the handler's result and RCX = RIP, R11 = RFLAGS (as
// Linux leaves them). A handler returns a result >= 0 or -Errno.X; it may change other registers
// of the program through Registers (execve, rt_sigreturn, fork's child). Numbers without a
// handler return -ENOSYS and are logged once, by name (LinuxSystemCallNames).
//
// Invariants: the table is filled once at start-up (Define), before the program runs; a
// handler never lets an exception escape (Dispatch turns one into -EFAULT after logging it: a
// bug of ours must not end the program silently with a wrong answer).
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    /// <summary>One system call of the program: its number and six arguments, in its saved registers.</summary>
    public unsafe struct LinuxCall
    {
        /// <summary>The program's registers at the syscall instruction (inside the UpcallFrame).</summary>
        public UserRegisters* Registers;

        public ulong Number => Registers->Rax;
        public ulong A0 => Registers->Rdi;
        public ulong A1 => Registers->Rsi;
        public ulong A2 => Registers->Rdx;
        public ulong A3 => Registers->R10;
        public ulong A4 => Registers->R8;
        public ulong A5 => Registers->R9;

        /// <summary>The UpcallFrame around Registers.</summary>
        public UpcallFrame* Frame => (UpcallFrame*)((byte*)Registers - UpcallFrame.RegistersOffset);

        /// <summary>The program's FS base, restored by the trampoline when the program resumes
        /// (arch_prctl(ARCH_SET_FS) writes it; Native/linux.S keeps it in UpcallFrame.Reserved2).</summary>
        public ulong ProgramFsBase
        {
            get => Frame->Reserved2;
            set => Frame->Reserved2 = value;
        }
    }

    public static unsafe class LinuxSystemCalls
    {
        /// <summary>Linux x86-64 numbers are below this (Aegis's own calls start here).</summary>
        public const int Limit = 512;

        private static delegate*<ref LinuxCall, long>[] s_table;
        private static bool[] s_reported;

        /// <summary>Installs the handler for a Linux system-call number (start-up only).</summary>
        public static void Define(int number, delegate*<ref LinuxCall, long> handler)
        {
            if (s_table == null)
            {
                s_table = new delegate*<ref LinuxCall, long>[Limit];
                s_reported = new bool[Limit];
            }
            s_table[number] = handler;
        }

        /// <summary>Whether a handler is installed for the number.</summary>
        public static bool IsDefined(ulong number) => s_table != null && number < Limit && s_table[number] != null;

        /// <summary>Runs the handler for call.Number; -ENOSYS (logged once by name) when there is none.</summary>
        public static long Dispatch(ref LinuxCall call)
        {
            if (Files.HeldSendsFlag.On) return DispatchHolding(ref call); // held sends (VfsClient.Sockets.cs)
            return DispatchTable(ref call);
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private static long DispatchTable(ref LinuxCall call)
        {
            ulong number = call.Number;
            if (s_table != null && number < Limit)
            {
                delegate*<ref LinuxCall, long> handler = s_table[number];
                if (handler != null)
                    return handler(ref call);
            }
            ReportMissing(number);
            return -Errno.ENOSYS;
        }

        /// <summary>Dispatch while the process holds sends: they go first unless the call keeps
        /// them (apart, so the usual path keeps its shape: a call in it cost every system call 6
        /// instructions of saved registers).</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static long DispatchHolding(ref LinuxCall call)
        {
            Files.FileCalls.BeforeCallWhileHolding(ref call);
            return DispatchTable(ref call);
        }

        private static bool s_reportedBeyondLimit;

        /// <summary>One log line per number below Limit, and one for all numbers at or above it
        /// (a program looping on a wild number must not flood the console).</summary>
        private static void ReportMissing(ulong number)
        {
            if (number < Limit)
            {
                if (s_reported == null || s_reported[number]) return;
                s_reported[number] = true;
            }
            else
            {
                if (s_reportedBeyondLimit) return;
                s_reportedBeyondLimit = true;
            }
            LinuxLog.Missing(number);
        }
    }
}
