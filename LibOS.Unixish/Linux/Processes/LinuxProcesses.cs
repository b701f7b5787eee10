// Linux processes between environments: exit and wait, kill to other processes, process groups
// and sessions. One Linux process per environment, pid = the environment id; the kernel knows
// nothing of processes.
//
// How processes find each other: by environment id, over IPC (IpcServer's message filter takes
// the messages below), and by the parent's capability over each child (LinuxFork keeps it in
// Children). There is no process server: each process knows itself (pid, parent, group, session)
// and its children (ChildTable: pid, slot, group, session, state); a child tells its parent
// when it changes group or session, and when it ends.
//   ExitTag   child -> parent: Word0 = the wait status, Word1 = 1 if the child lingers (below)
//   KillTag   any -> process: Word0 = the signal, Word1 = a group (0: the process itself), Word2 =
//             Flood: the receiver also passes it to its children (kill of a group, kill(-1))
//   GroupTag  child -> parent / parent -> child: Word0 = the group, Word1 = the session
//   PowerOffTag any -> the tree's first program (Init): end every process of the tree (poweroff)
//   StopTag   child -> parent: Word0 = WaitStatus.Stopped(signal) when a stop signal stopped it,
//             WaitStatus.Continued when SIGCONT resumed it (wait4's WUNTRACED/WCONTINUED, SIGCHLD
//             with CLD_STOPPED/CLD_CONTINUED unless the parent's SIGCHLD action has SA_NOCLDSTOP)
// Every process turns on the kernel's asynchronous delivery and child-end wakeups (Notices.cs):
// a message to a process that is not in Wait is kept by the kernel (IpcLimits.PendingMessages of
// them; the sender retries, yielding, only while that ring is full) and interrupts the process
// the next time it runs — a process computing without system calls hears a kill at once, a
// sleeping one is woken. SIGKILL to one's own child asks it to end (its libOS runs exit, so its
// descriptors and pipe ends close) and destroys its environment if it has not within a tenth of a
// second (EndKilledChildren).
//
// exit/exit_group: the exit hooks run (the file table closes every descriptor: pipe ends go), the
// parent gets ExitTag, and the environment ends with WaitStatus.ToAegis. Orphans: Aegis ends every
// descendant of an ended environment (AncestorEnded), where Linux would reparent them to init. So
// a process that exits while children of its own still run *lingers*: its parent has its status
// (wait4 returns at once), but its environment stays, in Wait, until those children end; then it
// ends. A shell's pipelines and background jobs therefore run to completion whatever order their
// processes exit in. The exiting parent tells each child still running (OrphanTag): the child's
// getppid answers 1 from then on, as after Linux's reparenting to init, and its PR_SET_PDEATHSIG
// signal, if any, is posted.
//
// Power off (reboot(RB_POWER_OFF), and kill(1, SIGUSR1/SIGUSR2), which busybox's poweroff and
// halt send to init): Aegis has no init process and no pid 1 (environment ids start at 1024), so
// the first program of the tree — the one the kernel (or a native app) started, Init — plays
// that part. It exits with status 0 at once, without lingering, and the kernel ends every
// descendant with it (AncestorEnded): with the kernel's `exit` the machine ends with status 0.
// Another process asks it (PowerOffTag) and waits to be ended with it.
//
// kill/tkill/tgkill are the signal layer's (Signals.cs): a target other than this process comes
// to KillProcess through Signals.Sender.
//
// wait4/waitid: a zombie is an entry in Children with its status (none with SIGCHLD ignored or
// SA_NOCLDWAIT: ReapIgnoredChildren); wait reports it once (WNOWAIT
// keeps it) and frees the slot (EnvironmentDestroy on an ended or exiting child; a lingering
// child keeps its slot until it ends). Blocking: Wait, woken by the child's ExitTag; before each
// Wait every running child's EnvironmentStatus is read, so a child that ended without a notice
// (killed by the kernel) is seen at the next call. WUNTRACED/WCONTINUED report a child's latest
// stop or continue (StopTag) once (WNOWAIT keeps it). A stopped process waits in the signal
// layer (Signals.Stop) until SIGCONT or SIGKILL. rusage is zeroed.
using System.Threading;
using Aegis.Abi;
using static Aegis.LibOS.Unixish.Linux.LinuxSystemCallNumbers;

namespace Aegis.LibOS.Unixish.Linux.Processes
{
    public static unsafe class LinuxProcesses
    {
        public const ulong ExitTag = 0x4C58_4558_4954_0001;  // "LXEXIT"
        public const ulong KillTag = 0x4C58_4B49_4C4C_0002;  // "LXKILL"
        public const ulong GroupTag = 0x4C58_4752_5050_0003; // "LXGRP"
        public const ulong StopTag = 0x4C58_5354_4F50_0005;  // "LXSTOP"
        public const ulong OrphanTag = 0x4C58_4F52_5048_0006; // "LXORPH"
        public const ulong PowerOffTag = 0x4C58_504F_5746_0007; // "LXPOWF"
        /// <summary>The first program of this tree of Linux processes (set once by the program the
        /// kernel or a native app started; forked processes inherit it): the machine's init for
        /// power off. pid 1 in kill means it.</summary>
        public static ulong Init;
        /// <summary>Init only: a power off is under way (Exit ends with 0 and does not linger).</summary>
        private static bool s_poweringOff;
        public const ulong Flood = 1;
        /// <summary>Attempts to reach a process not in Wait (each one yields to it).</summary>
        public const int SendAttempts = 64;
        public const int SIGKILL = 9, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22,
            SIGURG = 23, SIGWINCH = 28, SignalCount = 64;

        /// <summary>This process's children.</summary>
        public static readonly ChildTable Children = new ChildTable();
        /// <summary>The process group and session (the first program leads both: its pid).</summary>
        public static ulong Group, Session;
        /// <summary>Whether a Linux parent forked this process (it then gets ExitTag and a carried status).</summary>
        public static bool Forked;
        /// <summary>Whether this process's Linux parent has exited (OrphanTag): getppid answers 1, as
        /// after Linux's reparenting to init; the environment's parent still reaps it.</summary>
        public static bool Orphaned;
        /// <summary>Run once when this process becomes an orphan (Prctl: PR_SET_PDEATHSIG's signal).
        /// Inside the message filter: it must not block.</summary>
        public static delegate*<ulong, void> WhenOrphaned;
        private static bool s_initialized, s_reportedUndelivered;

        /// <summary>Signals.Stopped: a stop signal stopped this process; its parent hears of it.</summary>
        public static void OnStopped(int signal)
        {
            ProcessRegistry.State('T');
            if (Forked) Send(Info.ParentId, (ulong)WaitStatus.Stopped(signal), 0, 0, StopTag, SendAttempts);
        }

        /// <summary>Signals.Continued: SIGCONT resumed this stopped process; its parent hears of it.</summary>
        public static void OnContinued()
        {
            ProcessRegistry.State('S');
            if (Forked) Send(Info.ParentId, (ulong)WaitStatus.Continued, 0, 0, StopTag, SendAttempts);
        }
        private static IpcMessageFilter s_filter;
        private static readonly System.Collections.Generic.List<nint> s_exitHooks = new System.Collections.Generic.List<nint>();
        private static readonly System.Collections.Generic.List<nint> s_forkHooks = new System.Collections.Generic.List<nint>();

        public static void Register()
        {
            Initialize();
            LinuxSystemCalls.Define(fork, &LinuxFork.ForkCall);
            LinuxSystemCalls.Define(vfork, &LinuxFork.ForkCall);
            LinuxSystemCalls.Define(clone, &LinuxFork.CloneCall);
            LinuxSystemCalls.Define(clone3, &LinuxFork.Clone3Call);
            LinuxSystemCalls.Define(exit, &ExitThreadCall);
            LinuxSystemCalls.Define(exit_group, &ExitCall);
            LinuxSystemCalls.Define(wait4, &Wait4);
            LinuxSystemCalls.Define(waitid, &WaitId);
            LinuxSystemCalls.Define(setpgid, &SetPgid);
            LinuxSystemCalls.Define(getpgid, &GetPgid);
            LinuxSystemCalls.Define(getpgrp, &GetPgrp);
            LinuxSystemCalls.Define(setsid, &SetSid);
            LinuxSystemCalls.Define(getsid, &GetSid);
        }

        /// <summary>Once per personality: the IPC filter, the first program's group and session.</summary>
        public static void Initialize()
        {
            if (s_initialized) return;
            s_initialized = true;
            if (Group == 0) Group = Session = Info.EnvironmentId;
            if (Init == 0) Init = Info.EnvironmentId;
            ProcessRegistry.Create(); // the tree's process list (ps): this is its first program
            s_filter = OnMessage;
            IpcServer.SetMessageFilter(s_filter);
            Notices.TurnOn();
            Terminal.SetProcessIdentity(&Identity);
            Terminal.WhenCreated(&ConfigureTerminal);
            ProcessSignals.Install(); // Power off (reboot(RB_POWER_OFF), and kill(1, SIGUSR1/SIGUSR2), which busybox's poweroff and
// halt send to init): Aegis has no init process and no pid 1 (environment ids start at 1024), so
// the first program of the tree — the one the kernel (or a native app) started, Init — plays
// that part. It exits with status 0 at once, without lingering, and the kernel ends every
// descendant with it (AncestorEnded): with the kernel's `exit` the machine ends with status 0.
// Another process asks it (PowerOffTag) and waits to be ended with it.
//
// kill/tkill/tgkill are the signal layer's; other processes come here
            SharedPipe.Install();
        }

        /// <summary>Adds a hook exit runs before the parent hears (the file table closes its descriptors).</summary>
        public static void OnExit(delegate*<void> hook) => s_exitHooks.Add((nint)hook);

        /// <summary>Adds a hook a forked child runs before its program resumes (on the upcall stack;
        /// it must not allocate).</summary>
        public static void OnFork(delegate*<void> hook) => s_forkHooks.Add((nint)hook);

        /// <summary>The child's side of fork (LinuxFork.ChildStarted): no children, no pending signals.</summary>
        internal static void OnForkChild(ulong parent)
        {
            ProcessRegistry.AfterFork(); // before Children is cleared: nothing of the parent's to free
            Children.Clear();
            Forked = true;
            Orphaned = false;
            Notices.TurnOn(); // the kernel's notification flags are per environment
            for (int i = 0; i < s_forkHooks.Count; i++) ((delegate*<void>)s_forkHooks[i])();
        }

        // ---- exit --------------------------------------------------------------------------------

        /// <summary>exit(2): the thread ends; the process too when it was the last (LinuxThreads).</summary>
        public static long ExitThreadCall(ref LinuxCall call)
        {
            if (LinuxThreads.ExitThread()) return 0;
            return ExitCall(ref call);
        }

        public static long ExitCall(ref LinuxCall call)
        {
            Exit(WaitStatus.Exited((int)(call.A0 & 0xFF)));
            return 0;
        }

        /// <summary>Ends this process with the wait status (never returns): hooks, the parent's
        /// notice, lingering while children live (see the header), the environment's end.</summary>
        public static void Exit(int status)
        {
            LinuxFork.ReportProblems();
            for (int i = 0; i < s_exitHooks.Count; i++) ((delegate*<void>)s_exitHooks[i])();
            s_exitHooks.Clear();
            Refresh();
            if (s_poweringOff) status = WaitStatus.Exited(0);
            for (int i = 0; i < ChildTable.Capacity; i++)
                if (Children[i].State == ChildState.Zombie) ProcessRegistry.Reaped(Children[i].Pid); // never reaped
            ProcessRegistry.Ended(Forked);
            bool linger = !s_poweringOff && Children.CountAlive() > 0;
            if (Forked) Send(Info.ParentId, (ulong)(status & 0xFFFF), linger ? 1UL : 0, 0, ExitTag, SendAttempts);
            if (linger) TellOrphans();
            while (linger)
            {
                SystemCalls.Wait();
                Refresh();
                linger = Children.CountAlive() > 0;
            }
            SystemCalls.Exit(WaitStatus.ToAegis(status, Forked));
        }

        /// <summary>Power off: ends every process of the tree (see the header). In Init: exits now with
        /// 0, and its descendants end with it. Elsewhere: asks Init and waits to be ended; -EIO
        /// when Init cannot be reached or has not ended this process within a second.</summary>
        public static long PowerOff(string caller)
        {
            LinuxLog.Line("power off (asked by " + caller + ")");
            if (Info.EnvironmentId == Init)
            {
                s_poweringOff = true;
                Exit(WaitStatus.Exited(0));
                return 0;
            }
            if (Send(Init, 0, 0, 0, PowerOffTag, SendAttempts) != Error.None)
            {
                LinuxLog.Line("power off: the first program (" + Init.ToString() + ") cannot be reached");
                return -Errno.EIO;
            }
            ulong deadline = LinuxCpu.Timestamp() + Info.TimestampHz;
            while (LinuxCpu.Timestamp() < deadline) Notices.WaitStep(deadline);
            LinuxLog.Line("power off: the first program (" + Init.ToString() + ") did not end");
            return -Errno.EIO;
        }

        /// <summary>kill(1, signal): pid 1 is init, played by Init (see the header). Signal 0 finds it;
        /// SIGUSR1 (busybox's halt) and SIGUSR2 (its poweroff) power off; init takes no other
        /// signal: SIGTERM (busybox's reboot) is -EPERM, as a reboot is (Aegis cannot restart the
        /// machine), and the rest are ignored, as Linux's init ignores signals it has no handler for.</summary>
        private static long KillInit(int signal)
        {
            const int SIGUSR1 = 10, SIGUSR2 = 12, SIGTERM = 15;
            if (signal == SIGUSR1 || signal == SIGUSR2) return PowerOff(signal == SIGUSR1 ? "halt: kill(1, SIGUSR1)" : "poweroff: kill(1, SIGUSR2)");
            if (signal == SIGTERM)
            {
                LinuxLog.Line("reboot: kill(1, SIGTERM): Aegis cannot restart the machine (poweroff ends it)");
                return -Errno.EPERM;
            }
            return 0;
        }

        /// <summary>Our Linux life is over while children still run: each running child hears that it
        /// is an orphan now (OrphanTag: its getppid becomes 1, its PR_SET_PDEATHSIG signal comes).</summary>
        private static void TellOrphans()
        {
            for (int i = 0; i < ChildTable.Capacity; i++)
            {
                ChildEntry entry = Children[i];
                if (entry.State == ChildState.Running) Send(entry.Pid, 0, 0, 0, OrphanTag, SendAttempts);
            }
        }

        /// <summary>Ends this process as killed by the signal (core dump flag for the core signals).</summary>
        public static void ExitSignaled(int signal) => Exit(WaitStatus.Signaled(signal, DumpsCore(signal)));

        public static bool DumpsCore(int signal)
            => signal == 3 || signal == 4 || signal == 5 || signal == 6 || signal == 7 || signal == 8 || signal == 11 || signal == 24 || signal == 25 || signal == 31;

        // ---- wait ----------------------------------------------------------------------------------

        /// <summary>Reads the state of every running child from the kernel (a child that ended
        /// without a notice: marked ended, SIGCHLD posted) and frees the slots of lingering
        /// children that have ended.</summary>
        public static void Refresh()
        {
            for (int i = 0; i < ChildTable.Capacity; i++)
            {
                ChildEntry entry = Children[i];
                if (entry.State != ChildState.Running && entry.State != ChildState.Lingering) continue;
                SystemCallResult state = SystemCalls.EnvironmentStatus(entry.Slot);
                if (state.IsError) { if (entry.State == ChildState.Lingering) Children.Remove(i); continue; }
                if (state.Value == (ulong)EnvironmentState.Exited || state.Value == (ulong)EnvironmentState.Destroyed)
                {
                    int status = state.Value == (ulong)EnvironmentState.Exited ? WaitStatus.FromAegisExit(state.Second) : WaitStatus.Signaled(SIGKILL);
                    if (entry.State == ChildState.Lingering)
                    {
                        SystemCalls.EnvironmentDestroy(entry.Slot);
                        Children.Remove(i);
                    }
                    else
                    {
                        Children.MarkEnded(entry.Pid, status);
                        ProcessSignals.PostChild(entry.Pid, status); // its notice may never come (it ended unheard)
                    }
                }
            }
            ReapIgnoredChildren();
        }

        /// <summary>With SIGCHLD ignored (SIG_IGN) or SA_NOCLDWAIT, an ended child is no zombie: Linux
        /// reaps it at once, and wait blocks until every child has ended, then fails with ECHILD.
        /// Here the exit notice arrives in an upcall, which only marks the child ended, so the
        /// zombies are reaped at the next wait (Refresh) or fork. Without it a server that forks a
        /// child a connection (busybox httpd sets SIGCHLD to SIG_IGN) filled its table of 60
        /// children and answered nothing from then on.</summary>
        public static void ReapIgnoredChildren()
        {
            if (!Signals.ChildrenReapedAtOnce) return;
            for (int i = 0; i < ChildTable.Capacity; i++)
                if (Children[i].State == ChildState.Zombie) Reap(i);
        }

        /// <summary>The wait core: the pid of a child that matched with its status, 0 (WNOHANG,
        /// none yet), -ECHILD or -ERESTARTSYS (a signal arrived: -EINTR unless SA_RESTART), or
        /// -ERESTART_THREAD instead of waiting while another thread of the process can run.</summary>
        public static long WaitFor(long selector, int options, bool consume, out int status)
        {
            status = 0;
            bool blocking = false;
            while (true)
            {
                Refresh();
                int index = (options & WaitStatus.WEXITED) != 0 ? Children.FindZombie(selector, Group) : -1;
                if (index >= 0)
                {
                    ChildEntry entry = Children[index];
                    status = entry.Status;
                    if (consume) Reap(index);
                    return (long)entry.Pid;
                }
                index = Children.FindReport(selector, Group, (options & WaitStatus.WUNTRACED) != 0, (options & WaitStatus.WCONTINUED) != 0);
                if (index >= 0)
                {
                    ChildEntry entry = Children[index];
                    status = entry.Report;
                    if (consume) Children.TakeReport(index);
                    return (long)entry.Pid;
                }
                if (!Children.AnyWaitable(selector, Group)) return -Errno.ECHILD;
                if ((options & WaitStatus.WNOHANG) != 0) return 0;
                if (TakeInterrupt()) return -ProcessSignals.ERESTARTSYS;
                // Another thread of the process can run: it does, and this wait is made again when
                // this thread next runs (nothing was consumed yet).
                if (LinuxThreads.OthersCanRun()) return LinuxThreads.RestartLater();
                if (!blocking) { Notices.BeginBlocking(); blocking = true; }
                // Woken by a child's exit notice, by the kernel when a child ended without one
                // (WaitResult.ChildEnded), by a signal, a timer, ^C typed meanwhile, or the earliest
                // deadline of a sleeping thread (then another thread may run).
                Notices.WaitStep(LinuxThreads.NextDeadline);
            }
        }

        private static void Reap(int index)
        {
            ChildEntry entry = Children[index];
            ProcessRegistry.Reaped(entry.Pid);
            SystemCallResult state = SystemCalls.EnvironmentStatus(entry.Slot);
            bool alive = !state.IsError && state.Value != (ulong)EnvironmentState.Exited && state.Value != (ulong)EnvironmentState.Destroyed;
            if (alive && s_lingering[index])
            {
                Children.Reap(index, true);
                return;
            }
            // Ended, or about to (its notice said it has no children left): the slot goes now.
            SystemCalls.EnvironmentDestroy(entry.Slot);
            Children.Reap(index, false);
        }

        /// <summary>Per child index: its exit notice said it lingers.</summary>
        private static readonly bool[] s_lingering = new bool[ChildTable.Capacity];

        public static long Wait4(ref LinuxCall call)
        {
            long selector = (long)call.A0;
            int options = (int)call.A2;
            if ((options & ~WaitStatus.Wait4Options) != 0) return -Errno.EINVAL;
            if (selector == long.MinValue || (int)selector == int.MinValue) return -Errno.ESRCH;
            selector = (int)selector;
            if (call.A1 != 0 && !UserPointers.IsAccessible(call.A1, 4, true)) return -Errno.EFAULT;
            if (call.A3 != 0 && !UserPointers.IsAccessible(call.A3, RusageBytes, true)) return -Errno.EFAULT;
            long pid = WaitFor(selector, options | WaitStatus.WEXITED, true, out int status);
            if (pid > 0 && call.A1 != 0 && !UserPointers.CopyOut(call.A1, &status, 4)) return -Errno.EFAULT;
            if (pid >= 0 && call.A3 != 0 && !ZeroRusage(call.A3)) return -Errno.EFAULT;
            return pid;
        }

        public const int RusageBytes = 144, SiginfoBytes = 128;

        private static bool ZeroRusage(ulong address)
        {
            byte* zero = stackalloc byte[RusageBytes];
            for (int i = 0; i < RusageBytes; i++) zero[i] = 0;
            return UserPointers.CopyOut(address, zero, RusageBytes);
        }

        /// <summary>waitid(idtype, id, infop, options, rusage).</summary>
        public static long WaitId(ref LinuxCall call)
        {
            int idType = (int)call.A0;
            long id = (int)call.A1;
            int options = (int)call.A3;
            if ((options & ~WaitStatus.WaitidOptions) != 0) return -Errno.EINVAL;
            if ((options & (WaitStatus.WEXITED | WaitStatus.WSTOPPED | WaitStatus.WCONTINUED)) == 0) return -Errno.EINVAL;
            long selector;
            switch (idType)
            {
                case WaitStatus.P_ALL: selector = -1; break;
                case WaitStatus.P_PID: if (id <= 0) return -Errno.EINVAL; selector = id; break;
                case WaitStatus.P_PGID: if (id < 0) return -Errno.EINVAL; selector = id == 0 ? 0 : id == 1 ? ChildTable.GroupOne : -id; break;
                default: return -Errno.EINVAL;
            }
            if (call.A2 != 0 && !UserPointers.IsAccessible(call.A2, SiginfoBytes, true)) return -Errno.EFAULT;
            if (call.A4 != 0 && !UserPointers.IsAccessible(call.A4, RusageBytes, true)) return -Errno.EFAULT;
            long pid = WaitFor(selector, options, (options & WaitStatus.WNOWAIT) == 0, out int status);
            if (pid < 0) return pid;
            if (call.A2 != 0 && !WriteSiginfo(call.A2, pid, status)) return -Errno.EFAULT;
            if (call.A4 != 0 && !ZeroRusage(call.A4)) return -Errno.EFAULT;
            return 0;
        }

        /// <summary>siginfo_t for a child (si_signo SIGCHLD, si_code CLD_*, si_pid, si_uid 0,
        /// si_status); all zero when pid is 0 (WNOHANG with nothing to report).</summary>
        private static bool WriteSiginfo(ulong address, long pid, int status)
        {
            if (address == 0) return true;
            byte* info = stackalloc byte[SiginfoBytes];
            for (int i = 0; i < SiginfoBytes; i++) info[i] = 0;
            if (pid > 0)
            {
                *(int*)info = SIGCHLD;
                *(int*)(info + 8) = WaitStatus.ChildCode(status);
                *(int*)(info + 16) = (int)pid;
                *(int*)(info + 24) = WaitStatus.ChildStatusField(status);
            }
            return UserPointers.CopyOut(address, info, SiginfoBytes);
        }

        // ---- signals to other processes -------------------------------------------------------------

        /// <summary>kill's semantics: pid > 0 one process, 0 our group, -1 every process we can
        /// reach (our descendants), < -1 the group -pid. Signal 0 checks only.</summary>
        public static long KillProcess(long pid, int signal)
        {
            if (signal < 0 || signal > SignalCount) return -Errno.EINVAL;
            ulong self = Info.EnvironmentId;
            if (pid > 0)
            {
                if (pid == 1) return KillInit(signal);
                if ((ulong)pid == self)
                {
                    if (signal != 0) ProcessSignals.Post(signal, self);
                    return 0;
                }
                int index = Children.IndexOf((ulong)pid);
                if (index >= 0)
                {
                    ChildEntry entry = Children[index];
                    if (entry.State != ChildState.Running || signal == 0) return 0;
                    if (signal == SIGKILL)
                    {
                        s_killAsked[index] = true;
                        EndKilledChildren();
                        return 0;
                    }
                }
                Error error = Send((ulong)pid, (ulong)signal, 0, 0, KillTag, signal == 0 ? 1 : SendAttempts);
                if (error == Error.BadEnvironment || error == Error.InvalidArgument) return -Errno.ESRCH;
                if (error == Error.WouldBlock && signal != 0) ReportUndelivered((ulong)pid, signal);
                return 0;
            }
            ulong group = pid == 0 ? Group : pid == -1 ? 0 : (ulong)(-pid);
            return KillGroup(group, signal, pid == -1);
        }

        /// <summary>A signal to every process of the group (everyone below us when all): ours, our
        /// children's, and theirs (each receiver passes it on). -ESRCH when nobody we know is in it.</summary>
        public static long KillGroup(ulong group, int signal, bool all = false)
        {
            bool known = all || group == Group || Children.AnyInGroup(group);
            if (!known && Children.CountAlive() == 0) return -Errno.ESRCH;
            if (signal == 0) return known ? 0 : -Errno.ESRCH;
            PassToChildren(group, signal, all);
            if (!all && group == Group) ProcessSignals.Post(signal, Info.EnvironmentId);
            return known ? 0 : -Errno.ESRCH;
        }

        /// <summary>The signal to our children in the group (every child when all). mayWait: SIGKILL
        /// may wait for them to end (EndKilledChildren); false inside the message filter (an IPC
        /// upcall), where those children are destroyed at once.</summary>
        private static void PassToChildren(ulong group, int signal, bool all, bool mayWait = true)
        {
            bool killed = false;
            for (int i = 0; i < ChildTable.Capacity; i++)
            {
                ChildEntry entry = Children[i];
                if (entry.State != ChildState.Running && entry.State != ChildState.Lingering) continue;
                if (signal == SIGKILL && entry.State == ChildState.Running && (all || entry.Group == group))
                {
                    s_killAsked[i] = true; // (its descendants in the group hear it from it, or end with it)
                    killed = true;
                    continue;
                }
                Error error = Send(entry.Pid, (ulong)signal, all ? 0 : group, Flood, KillTag, SendAttempts);
                if (error == Error.WouldBlock) ReportUndelivered(entry.Pid, signal);
            }
            if (killed) EndKilledChildren(all ? 0 : group, all, mayWait);
        }

        /// <summary>How long a child SIGKILL asked to end has to do so itself before its
        /// environment is destroyed (a tenth of a second).</summary>
        private static ulong KillGrace => Info.TimestampHz / 10;

        private static readonly bool[] s_killAsked = new bool[ChildTable.Capacity];

        /// <summary>SIGKILL to the children marked in s_killAsked. Each is asked first (KillTag, as
        /// any process is): its libOS ends it as for any fatal signal, so its exit hooks run — its
        /// descriptors and pipe ends close, the file server forgets it — and its parent hears
        /// "killed by SIGKILL". Then this process waits (Notices.WaitStep, handling messages) until
        /// each has ended or sent its exit notice (it may linger for children of its own, as after
        /// exit); one that has not within KillGrace — a libOS that cannot act, a full message ring —
        /// is destroyed, as before (its descendants end with it, and what it held elsewhere stays).
        /// Certain either way: every asked child is dead or has reported its end when this returns.</summary>
        private static void EndKilledChildren(ulong group = 0, bool all = false, bool mayWait = true)
        {
            int asked = 0;
            for (int i = 0; i < ChildTable.Capacity; i++)
            {
                if (!s_killAsked[i]) continue;
                ChildEntry entry = Children[i];
                if (entry.State == ChildState.Running && mayWait
                    && Send(entry.Pid, SIGKILL, all ? 0 : group, group != 0 || all ? Flood : 0, KillTag, SendAttempts) == Error.None)
                {
                    asked++;
                    continue;
                }
                if (entry.State == ChildState.Running) Destroy(i);
                s_killAsked[i] = false;
            }
            ulong deadline = LinuxCpu.Timestamp() + KillGrace;
            while (asked > 0)
            {
                Refresh();
                asked = 0;
                bool late = LinuxCpu.Timestamp() >= deadline;
                for (int i = 0; i < ChildTable.Capacity; i++)
                {
                    if (!s_killAsked[i]) continue;
                    if (Children[i].State != ChildState.Running) { s_killAsked[i] = false; continue; }
                    if (late) { Destroy(i); s_killAsked[i] = false; continue; }
                    asked++;
                }
                if (asked > 0) Notices.WaitStep(deadline);
            }
        }

        /// <summary>Ends child i's environment now (its descendants end with it: AncestorEnded).</summary>
        private static void Destroy(int i)
        {
            ChildEntry entry = Children[i];
            SystemCalls.EnvironmentDestroy(entry.Slot);
            Children.MarkEnded(entry.Pid, WaitStatus.Signaled(SIGKILL));
            s_lingering[i] = false;
        }

        private static void ReportUndelivered(ulong pid, int signal)
        {
            if (s_reportedUndelivered) return;
            s_reportedUndelivered = true;
            LinuxLog.Line("signal " + signal.ToString() + " to pid " + pid.ToString() + " not delivered: it made no blocking call (reported once)");
        }

        /// <summary>IpcSend with retries, yielding to the target between them.</summary>
        private static Error Send(ulong target, ulong word0, ulong word1, ulong word2, ulong tag, int attempts)
        {
            Error error = Error.WouldBlock;
            for (int attempt = 0; attempt < attempts && error == Error.WouldBlock; attempt++)
            {
                error = SystemCalls.IpcSend(target, word0, word1, word2, tag);
                if (error == Error.WouldBlock) SystemCalls.Yield(target);
            }
            return error;
        }

        // ---- the terminal ---------------------------------------------------------------------------

        private static TerminalCaller Identity()
            => new TerminalCaller { ProcessId = (int)Info.EnvironmentId, ProcessGroup = (int)Group, Session = (int)Session };

        private static void ConfigureTerminal(TerminalDevice device)
        {
            device.SignalHook = SignalForegroundGroup;
            device.InterruptPending = Signals.InterruptPending;
            device.InsteadOfWaiting = OtherThreadInsteadOfWaiting;
        }

        /// <summary>A terminal read that would wait while another thread of the process can run:
        /// made again later (LinuxThreads.RestartLater), the other thread runs now.</summary>
        private static long OtherThreadInsteadOfWaiting() => LinuxThreads.OthersCanRun() ? LinuxThreads.RestartLater() : 0;

        /// <summary>The terminal's ^C, ^\, ^Z (and SIGWINCH, SIGHUP): the signal to every process of
        /// the group, as kill(-group) from the session's leader would send it — the leader is an
        /// ancestor of every process of its session (Aegis keeps orphans under their parents), so a
        /// flood from it reaches them all, wherever in the tree the process that read the key is.</summary>
        public static void SignalForegroundGroup(int signal, int group)
        {
            if (group <= 0 || signal <= 0 || signal > SignalCount) return;
            ulong self = Info.EnvironmentId;
            if (Session != self && Session != 0)
            {
                Error error = Send(Session, (ulong)signal, (ulong)group, Flood, KillTag, SendAttempts);
                if (error == Error.None) return;
            }
            KillGroup((ulong)group, signal); // we lead the session (or its leader is gone): our part of the tree
        }

        /// <summary>True once after a signal from another process arrived (EINTR for a wait).</summary>
        public static bool TakeInterrupt() => ProcessSignals.TakeInterrupt();

        /// <summary>Process messages (IpcServer's filter, inside the IPC upcall; allocates nothing).</summary>
        private static bool OnMessage(in IpcMessage message)
        {
            if (message.Word3 == ExitTag)
            {
                int index = Children.IndexOf(message.Sender);
                if (index < 0) return true;
                s_lingering[index] = message.Word1 != 0;
                Children.MarkEnded(message.Sender, (int)(message.Word0 & 0xFFFF));
                ProcessSignals.PostChild(message.Sender, (int)(message.Word0 & 0xFFFF));
                return true;
            }
            if (message.Word3 == KillTag)
            {
                int signal = (int)message.Word0;
                if (signal < 1 || signal > SignalCount) return true;
                bool flood = (message.Word2 & Flood) != 0;
                ulong group = message.Word1;
                if (flood) PassToChildren(group, signal, group == 0, mayWait: false);
                if (group == 0 || group == Group) ProcessSignals.Post(signal, message.Sender);
                return true;
            }
            if (message.Word3 == StopTag)
            {
                int status = (int)(message.Word0 & 0xFFFF);
                if (!Children.SetReport(message.Sender, status)) return true;
                if (Signals.ChildStopsNotified) ProcessSignals.PostChild(message.Sender, status);
                return true;
            }
            if (message.Word3 == PowerOffTag)
            {
                if (Info.EnvironmentId != Init) return true;
                s_poweringOff = true;
                ProcessSignals.Post(SIGKILL, message.Sender); // ends this process wherever it is blocked; Exit sees s_poweringOff
                return true;
            }
            if (message.Word3 == SharedPipe.WakeTag) return true; // its Wait returned: the pipe is looked at again
            if (message.Word3 == OrphanTag)
            {
                if (message.Sender != Info.ParentId || Orphaned) return true;
                Orphaned = true;
                ProcessCalls.BecomeOrphan();
                ProcessRegistry.Parent(1);
                if (WhenOrphaned != null) WhenOrphaned(message.Sender);
                return true;
            }
            if (message.Word3 == GroupTag)
            {
                if (message.Sender == Info.ParentId)
                {
                    Group = message.Word0;
                    ProcessRegistry.Group((int)Group, (int)Session);
                    return true;
                }
                Children.SetGroup(message.Sender, message.Word0);
                if (message.Word1 != 0) Children.SetSession(message.Sender, message.Word1);
                return true;
            }
            return false;
        }

        // ---- process groups and sessions ------------------------------------------------------

        public static long SetPgid(ref LinuxCall call)
        {
            long pid = (int)call.A0, group = (int)call.A1;
            ulong self = Info.EnvironmentId;
            if (group < 0) return -Errno.EINVAL;
            if (pid == 0) pid = (long)self;
            if (group == 0) group = pid;
            if ((ulong)pid == self)
            {
                if (Session == self) return (ulong)group == Group ? 0 : -Errno.EPERM; // a session leader stays
                if ((ulong)group != self && !GroupInSession((ulong)group)) return -Errno.EPERM;
                Group = (ulong)group;
                ProcessRegistry.Group((int)Group, (int)Session);
                if (Forked) Send(Info.ParentId, Group, Session, 0, GroupTag, SendAttempts);
                return 0;
            }
            int index = Children.IndexOf((ulong)pid);
            if (index < 0 || Children[index].State == ChildState.Lingering) return -Errno.ESRCH;
            ChildEntry entry = Children[index];
            if (entry.Session != 0 && entry.Session != Session) return -Errno.EPERM;
            if (entry.Pid == entry.Session) return -Errno.EPERM;
            if ((ulong)group != entry.Pid && !GroupInSession((ulong)group)) return -Errno.EPERM;
            Children.SetGroup(entry.Pid, (ulong)group);
            // The child learns it by IPC if it is waiting; it usually sets it itself too (shells do both).
            Send(entry.Pid, (ulong)group, 0, 0, GroupTag, 1);
            return 0;
        }

        /// <summary>Whether a group exists in our session as far as we know (ours, or a child's).</summary>
        private static bool GroupInSession(ulong group) => group == Group || Children.AnyInGroup(group);

        public static long GetPgid(ref LinuxCall call)
        {
            long pid = (int)call.A0;
            if (pid < 0) return -Errno.ESRCH;
            if (pid == 0 || (ulong)pid == Info.EnvironmentId) return (long)Group;
            int index = Children.IndexOf((ulong)pid);
            if (index >= 0) return (long)Children[index].Group;
            if ((ulong)pid == Info.ParentId) return (long)Group; // as far as we know: the group we were born in
            return -Errno.ESRCH;
        }

        public static long GetPgrp(ref LinuxCall call) => (long)Group;

        public static long SetSid(ref LinuxCall call)
        {
            ulong self = Info.EnvironmentId;
            if (Group == self) return -Errno.EPERM; // a group leader cannot start a session
            Group = Session = self;
            ProcessRegistry.Group((int)Group, (int)Session);
            if (Forked) Send(Info.ParentId, Group, Session, 0, GroupTag, SendAttempts);
            return (long)self;
        }

        public static long GetSid(ref LinuxCall call)
        {
            long pid = (int)call.A0;
            if (pid < 0) return -Errno.ESRCH;
            if (pid == 0 || (ulong)pid == Info.EnvironmentId) return (long)Session;
            int index = Children.IndexOf((ulong)pid);
            if (index >= 0) return (long)(Children[index].Session != 0 ? Children[index].Session : Session);
            if ((ulong)pid == Info.ParentId) return (long)Session;
            return -Errno.ESRCH;
        }
    }
}
