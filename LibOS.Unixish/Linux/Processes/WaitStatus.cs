// Linux's wait statuses and the wait calls' options, as <sys/wait.h> encodes them (pure logic,
// host-tested in Aegis.Tests/Host/LinuxProcessTests.cs):
//   exited      (code & 0xFF) << 8                     WIFEXITED, WEXITSTATUS
//   signalled   signo | 0x80 if a core was dumped      WIFSIGNALED, WTERMSIG, WCOREDUMP
//   stopped     (signo << 8) | 0x7F                    WIFSTOPPED, WSTOPSIG
//   continued   0xFFFF                                 WIFCONTINUED
// How a status travels between environments (Aegis's exit status is a 64-bit word the parent
// reads with EnvironmentStatus): a program the kernel started (no Linux parent) exits with the
// status a shell shows (the code, or 128 + signo), so QEMU's status is the program's; a forked
// process exits with Carried | the wait status, so its parent recovers the exact status even
// when the exit notice (an IPC) could not reach it.
namespace Aegis.LibOS.Unixish.Linux.Processes
{
    public static class WaitStatus
    {
        public const int WNOHANG = 1, WUNTRACED = 2, WSTOPPED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x0100_0000;
        public const int __WNOTHREAD = 0x2000_0000, __WALL = 0x4000_0000, __WCLONE = unchecked((int)0x8000_0000);
        /// <summary>Options wait4 accepts (others: -EINVAL, as Linux).</summary>
        public const int Wait4Options = WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WALL | __WCLONE;
        /// <summary>Options waitid accepts.</summary>
        public const int WaitidOptions = WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE;
        /// <summary>waitid's idtype.</summary>
        public const int P_ALL = 0, P_PID = 1, P_PGID = 2, P_PIDFD = 3;
        /// <summary>siginfo si_code for SIGCHLD.</summary>
        public const int CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_TRAPPED = 4, CLD_STOPPED = 5, CLD_CONTINUED = 6;
        /// <summary>Marks an Aegis exit status that carries a wait status in its low 16 bits.</summary>
        public const ulong Carried = 1UL << 32;

        public static int Exited(int code) => (code & 0xFF) << 8;
        public static int Signaled(int signal, bool core = false) => (signal & 0x7F) | (core ? 0x80 : 0);
        public static int Stopped(int signal) => ((signal & 0xFF) << 8) | 0x7F;
        public const int Continued = 0xFFFF;

        public static bool IsExited(int status) => (status & 0x7F) == 0;
        public static int ExitCode(int status) => (status >> 8) & 0xFF;
        public static bool IsSignaled(int status) => ((sbyte)((status & 0x7F) + 1) >> 1) > 0;
        public static int TermSignal(int status) => status & 0x7F;
        public static bool CoreDumped(int status) => (status & 0x80) != 0;

        /// <summary>What a shell shows as $?: the code, or 128 + the signal.</summary>
        public static int ShellStatus(int status) => IsSignaled(status) ? 128 + TermSignal(status) : ExitCode(status);

        /// <summary>The Aegis exit status a process ends with: the shell status for a program with no
        /// Linux parent, else Carried | the wait status.</summary>
        public static ulong ToAegis(int status, bool hasLinuxParent)
            => hasLinuxParent ? Carried | (uint)(status & 0xFFFF) : (ulong)ShellStatus(status);

        /// <summary>The wait status of a child that Exited with the Aegis status (Carried, or a
        /// plain code from a process that did not go through the Linux exit).</summary>
        public static int FromAegisExit(ulong aegisStatus)
            => (aegisStatus & Carried) != 0 ? (int)(aegisStatus & 0xFFFF) : Exited((int)(aegisStatus & 0xFF));

        /// <summary>siginfo's si_code for a child's wait status.</summary>
        public static int ChildCode(int status)
        {
            if (status == Continued) return CLD_CONTINUED;
            if ((status & 0xFF) == 0x7F) return CLD_STOPPED;
            if (IsExited(status)) return CLD_EXITED;
            return CoreDumped(status) ? CLD_DUMPED : CLD_KILLED;
        }

        /// <summary>siginfo's si_status: the exit code, or the signal.</summary>
        public static int ChildStatusField(int status)
        {
            if (status == Continued) return 18; // SIGCONT
            if ((status & 0xFF) == 0x7F) return (status >> 8) & 0xFF;
            return IsExited(status) ? ExitCode(status) : TermSignal(status);
        }
    }
}
