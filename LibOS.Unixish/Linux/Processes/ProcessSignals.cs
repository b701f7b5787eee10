// The seam between the process layer and the signal layer (LibOS.Unixish/Linux/Signals): a signal
// that arrived from another process (kill, a group kill, the terminal's Ctrl-C through the
// foreground group, SIGCHLD from an exiting child) is handed to Signals.Post in the receiving
// process, often inside the IPC upcall that brought it (the blocking loop the upcall interrupted
// sees it through Signals.InterruptPending; delivery happens at the system call's return).
// The other direction: Signals.Sender is the process layer's KillProcess (targets other than
// this process), ResetForChild runs in a fork's child.
namespace Aegis.LibOS.Unixish.Linux.Processes
{
    public static unsafe class ProcessSignals
    {
        /// <summary>si_code SI_USER (kill).</summary>
        public const int SI_USER = 0;

        public static void Post(int signal, ulong fromPid)
        {
            SigInfo info = SigInfo.FromProcess(signal, SI_USER, (int)fromPid, 0);
            Signals.Post(signal, in info);
        }

        /// <summary>SIGCHLD for a child that ended with the wait status.</summary>
        public static void PostChild(ulong childPid, int status)
        {
            SigInfo info = SigInfo.FromProcess(LinuxProcesses.SIGCHLD, WaitStatus.ChildCode(status), (int)childPid, 0);
            info.Status = WaitStatus.ChildStatusField(status);
            Signals.Post(LinuxProcesses.SIGCHLD, in info);
        }

        /// <summary>Whether a blocking call must end now for a signal (it then returns -ERESTARTSYS).</summary>
        public static bool TakeInterrupt() => Signals.InterruptPending();

        public const int ERESTARTSYS = Signals.ERESTARTSYS;

        /// <summary>A blocking call's wait for a wake-up from another process. With a timer of this
        /// process armed (alarm, setitimer) the kernel's Wait ends at the earliest timer's deadline
        /// (WaitUntil), so the caller's look at Signals.InterruptPending sees it fire (found by the
        /// Linux-ABI fuzzer: a read of an empty pipe ignored the program's alarm for ever; it then
        /// yielded in a loop until the timer fired, busy).</summary>
        public static void WaitForWake() => WaitForWake(ulong.MaxValue);

        /// <summary>As WaitForWake, ending by the TSC deadline at the latest (a socket's timeout;
        /// ulong.MaxValue: none).</summary>
        public static void WaitForWake(ulong deadline)
        {
            ulong threads = LinuxThreads.NextDeadline; // a blocked thread's deadline: it runs then (the caller looks again)
            if (!Signals.TimersArmed && threads == ulong.MaxValue && deadline == ulong.MaxValue)
            {
                SystemCalls.Wait();
                return;
            }
            ulong timer = Signals.TimersArmed ? Signals.NextTimerDeadline : ulong.MaxValue;
            if (threads < timer) timer = threads;
            if (deadline < timer) timer = deadline;
            if (timer == ulong.MaxValue) SystemCalls.Wait();
            else SystemCalls.WaitUntil(timer == 0 ? 1 : timer);
        }

        /// <summary>Signals.Sender: kill's pid semantics for targets other than this process.</summary>
        public static long Send(long pid, int signal, ref SigInfo info) => LinuxProcesses.KillProcess(pid, signal);

        internal static void Install()
        {
            Signals.Sender = &Send;
            // sigsuspend and pause yield in a loop, so a child's exit notice (an IPC that needs this
            // process in Wait) may never arrive: each step reads the children's states instead
            // (busybox's `wait` builtin sleeps in sigsuspend until SIGCHLD: `sleep 1 & wait` hung).
            Signals.WaitHook = &LinuxProcesses.Refresh;
            Signals.Stopped = &LinuxProcesses.OnStopped;
            Signals.Continued = &LinuxProcesses.OnContinued;
            LinuxProcesses.OnFork(&ResetForChild);
        }

        private static void ResetForChild() => Signals.ResetForChild();
    }
}
