// The seam between the process layer and the signal layer (helper "signals",
// LibOS.Unixish/Linux/Signals): a signal that arrived from another process (kill, a group kill,
// the terminal's Ctrl-C through the foreground group, SIGCHLD from an exiting child) is handed
// to Post, in the receiving process, often inside the IPC upcall that brought it.
//
// Until the signal layer is merged, Post applies Linux's default action itself: SIGCHLD,
// SIGCONT, SIGURG and SIGWINCH are ignored, the stop signals are ignored too (stopping is not
// supported yet), every other signal ends the process with the signalled wait status. The
// signal layer replaces Post's body with its own Signals.Post (handlers, masks, EINTR), and
// TakeInterrupt with "a handled signal is pending" (wait4 then returns -EINTR).
namespace Aegis.LibOS.Unixish.Linux.Processes
{
    public static class ProcessSignals
    {
        public static void Post(int signal, ulong fromPid)
        {
            switch (signal)
            {
                case LinuxProcesses.SIGCHLD:
                case LinuxProcesses.SIGCONT:
                case LinuxProcesses.SIGURG:
                case LinuxProcesses.SIGWINCH:
                case LinuxProcesses.SIGSTOP:
                case LinuxProcesses.SIGTSTP:
                case LinuxProcesses.SIGTTIN:
                case LinuxProcesses.SIGTTOU:
                    return;
                default:
                    LinuxProcesses.ExitSignaled(signal);
                    return;
            }
        }

        /// <summary>Whether a blocking call should return -EINTR now (a handled signal arrived).</summary>
        public static bool TakeInterrupt() => false;
    }
}
