// The state of the Linux program this environment runs (one program per environment: pid =
// the environment id). Statics are per environment: every environment has its own copy of the
// libOS's data.
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    public static class LinuxProcess
    {
        /// <summary>The program's areas (created by LinuxPersonality.Start).</summary>
        public static ProgramMemory Memory;
        /// <summary>Where brk starts (the page after the program's highest segment) and where it is now.</summary>
        public static ulong BreakStart, Break;
        /// <summary>How far brk may grow from BreakStart (1 GiB; less when an area is in the way).</summary>
        public const ulong BreakLimit = 1UL << 30;
        /// <summary>The path the program was started from (AT_EXECFN, /proc/self/exe).</summary>
        public static byte[] ExecutablePath;
        /// <summary>The TSC when the program started (CPU-time clocks count from it).</summary>
        public static ulong ProgramStarted;
        /// <summary>set_tid_address's pointer and set_robust_list's head (kept for threads and exit).</summary>
        public static ulong ClearChildTid, RobustList;

        /// <summary>The pid: the environment id.</summary>
        public static ulong Id => Info.EnvironmentId;
        /// <summary>The parent's pid: the environment's parent (0 for a program the kernel started, like Linux's pid 1).</summary>
        public static ulong ParentId => Info.ParentId;
    }
}
