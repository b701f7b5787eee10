// The seam between the core and the signal work (Signals/): the program's faults come in through
// DeliverFault, which hands them to Signals.DeliverFault (the handler with siginfo_t/ucontext_t
// on the program's stack, or the default action).
//
// Exit status: a program ended by signal N ends its environment with status 128 + N, the value
// a shell's $? shows (139 for SIGSEGV), so `init=/PATH exit` ends QEMU with it. A line like a
// shell's ("Segmentation fault") and the details go to the console first.
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    public static class LinuxSignals
    {
        public const int SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8, SIGKILL = 9, SIGSEGV = 11;
        public const int SEGV_MAPERR = 1, SEGV_ACCERR = 2;

        /// <summary>A synchronous fault of the program (signal, si_code, the faulting address) with
        /// its registers in frame: runs the program's handler when one is installed and the signal
        /// is not blocked, else the default action (Signals/Signals.cs).</summary>
        public static void DeliverFault(ref UpcallFrame frame, int signal, int code, ulong address)
            => Signals.DeliverFault(ref frame, signal, code, address);

        /// <summary>Ends the program as killed by signal (status 128 + signal).</summary>
        public static void Terminate(int signal) => Processes.LinuxProcesses.ExitSignaled(signal);

        public static string ProgramName()
            => LinuxProcess.ExecutablePath == null ? "the program" : Loader.Utf8String(LinuxProcess.ExecutablePath);

        /// <summary>What a shell prints for a child killed by the signal.</summary>
        public static string Describe(int signal) => signal switch
        {
            SIGILL => "Illegal instruction",
            SIGTRAP => "Trace/breakpoint trap",
            SIGABRT => "Aborted",
            SIGBUS => "Bus error",
            SIGFPE => "Floating point exception",
            SIGKILL => "Killed",
            SIGSEGV => "Segmentation fault",
            _ => "Signal " + signal.ToString(),
        };

        public static string Name(int signal) => signal switch
        {
            SIGILL => "SIGILL",
            SIGTRAP => "SIGTRAP",
            SIGABRT => "SIGABRT",
            SIGBUS => "SIGBUS",
            SIGFPE => "SIGFPE",
            SIGKILL => "SIGKILL",
            SIGSEGV => "SIGSEGV",
            _ => "signal " + signal.ToString(),
        };

        /// <summary>The signal Linux raises for a CPU exception vector (arch/x86/kernel/traps.c).</summary>
        public static int ForTrap(ulong trap) => trap switch
        {
            0 => SIGFPE,   // #DE divide error
            1 => SIGTRAP,  // #DB
            3 => SIGTRAP,  // #BP int3
            4 => SIGSEGV,  // #OF
            5 => SIGSEGV,  // #BR
            6 => SIGILL,   // #UD
            7 => SIGSEGV,  // #NM (cannot happen: the FPU is always on)
            13 => SIGSEGV, // #GP
            14 => SIGSEGV, // #PF
            16 => SIGFPE,  // #MF x87
            17 => SIGBUS,  // #AC alignment check
            19 => SIGFPE,  // #XM SIMD
            12 => SIGBUS,  // #SS stack segment
            _ => SIGSEGV,
        };
    }
}
