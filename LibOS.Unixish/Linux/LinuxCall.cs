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
            if (Files.DispatchFlag.Slow) return DispatchSlow(ref call); // held sends (VfsClient.Sockets.cs) or counting
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

        /// <summary>Dispatch while the process counts its calls or holds sends: the call is counted,
        /// and held sends go first unless the call keeps them (apart, so the usual path keeps its
        /// shape: a call in it cost every system call 6 instructions of saved registers).</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static long DispatchSlow(ref LinuxCall call)
        {
            long[] counts = s_counts;
            if (counts == null)
            {
                if (Files.VfsClient.Holding != null) Files.FileCalls.BeforeCallWhileHolding(ref call);
                return DispatchTable(ref call);
            }
            ulong slot = call.Number < Limit ? call.Number : Limit;
            counts[slot]++;
            ulong start = LinuxNative.Rdtsc();
            if (Files.VfsClient.Holding != null) Files.FileCalls.BeforeCallWhileHolding(ref call);
            long result = DispatchTable(ref call);
            ulong[] ticks = s_ticks;
            if (ticks != null) ticks[slot] += LinuxNative.Rdtsc() - start; // a forked child's fork lands on its cleared table
            return result;
        }

        // ---- counting (AEGIS_SYSCALL_COUNTS=1: docs/libos-unixish.md, "Counting a program's calls")

        /// <summary>The environment variable that makes execve's new program count its calls.</summary>
        public const string CountsVariable = "AEGIS_SYSCALL_COUNTS";

        /// <summary>Calls made so far by number (the last entry: every number at or above Limit); null when not counting.</summary>
        private static long[] s_counts;
        /// <summary>TSC ticks spent inside the calls by number (instructions under -icount), with s_counts.</summary>
        private static ulong[] s_ticks;
        private static bool s_hooked;

        /// <summary>Whether this process counts its calls.</summary>
        public static bool Counting => s_counts != null;

        /// <summary>execve's part: the new program counts its calls from zero when its environment
        /// (NAME=VALUE strings) has AEGIS_SYSCALL_COUNTS=1, and not otherwise.</summary>
        public static void CountFor(System.Collections.Generic.List<byte[]> environment)
        {
            if (Processes.EnvironmentStrings.ValueIs(environment, CountsVariable, "1"))
            {
                if (s_counts == null) { s_counts = new long[Limit + 1]; s_ticks = new ulong[Limit + 1]; }
                else { System.Array.Clear(s_counts, 0, s_counts.Length); System.Array.Clear(s_ticks, 0, s_ticks.Length); }
                if (!s_hooked)
                {
                    s_hooked = true;
                    Processes.LinuxProcesses.OnExit(&ReportCounts);
                    Processes.LinuxProcesses.OnFork(&ForgetCounts);
                }
            }
            else { s_counts = null; s_ticks = null; }
            Files.DispatchFlag.Counting = s_counts != null;
            Files.DispatchFlag.Update();
        }

        /// <summary>A forked child counts its own calls from zero (it must not allocate: it clears).</summary>
        private static void ForgetCounts()
        {
            if (s_counts == null) return;
            for (int i = 0; i < s_counts.Length; i++) { s_counts[i] = 0; s_ticks[i] = 0; }
        }

        /// <summary>At exit: one line with the total, then one a number, most first: its name, how
        /// many, and the TSC ticks a call on average (from the handler's start to its return: a call
        /// that blocks counts its wait; one that never returns, like exit_group, counts 0).</summary>
        private static void ReportCounts()
        {
            long[] counts = s_counts;
            if (counts == null) return;
            long total = 0;
            for (int i = 0; i < counts.Length; i++) total += counts[i];
            LinuxLog.Line("system calls of pid " + LinuxProcess.Id.ToString() + ": " + total.ToString());
            var taken = new bool[counts.Length];
            while (true)
            {
                int most = -1;
                for (int i = 0; i < counts.Length; i++)
                    if (!taken[i] && counts[i] > 0 && (most < 0 || counts[i] > counts[most])) most = i;
                if (most < 0) break;
                taken[most] = true;
                string name = most == Limit ? "(numbers from " + Limit.ToString() + ")" : LinuxSystemCallNames.Of((ulong)most);
                ulong each = s_ticks[most] / (ulong)counts[most];
                LinuxLog.Line("  " + name + " " + counts[most].ToString() + " " + each.ToString());
            }
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
