// Threads of a Linux process (issue #10): user-level threads of the libOS, in the one environment
// that is the process, scheduled by the libOS on the environment's own time slices. The kernel
// knows nothing of them: it runs the environment; which thread's registers the environment
// resumes is this class's choice.
//
// The model. A thread is its saved program state: the general registers, RIP/RSP/RFLAGS (the
// UpcallFrame's UserRegisters), its FS base (the frame's Reserved2: arch_prctl and CLONE_SETTLS
// set it per thread) and its x87/SSE state (the FXSAVE image the trampoline keeps just below the
// frame, Native/linux.S). The running thread's state is the frame itself; the others' are here.
// Switching threads is copying one state out of the frame and another in, at a point where the
// frame is the program's: the end of a system call (LinuxUpcalls.DispatchSystemCall) or an
// upcall that interrupted the program (a slice end).
//
// The policy (replaceable per app: the program's environment at execve names it, see Policy):
// round robin by default. The running thread keeps the CPU until it blocks (futex wait,
// nanosleep), exits, calls sched_yield, or its environment's slice ends (the kernel's SliceEnd
// upcall, every UpcallLimits.SliceTicks ticks: 10 ms), when the next runnable thread in tid order
// takes over. AEGIS_THREADS=run-to-completion makes a thread keep the CPU until it blocks, yields
// or exits (slice ends do not switch threads). A blocked thread costs nothing: when no thread can
// run, the environment waits in the kernel (Notices.WaitStep) until the earliest thread deadline,
// a signal or a message.
//
// Slices (round robin only): the process asks the kernel's slice vector for one more slice per
// runnable thread beyond the first, at most MaximumExtraSlices, and gives them back when fewer
// threads can run; it looks at each slice end (AdjustSlices). A process with four busy threads
// thus gets up to four times the CPU of a single-threaded one: the libOS's decision, through the
// vector, not kernel policy. execve gives the extra slices back; a fork's child holds none.
//
// What is per thread: registers, FS base, FP state, tid (the first thread's is the pid; others
// are pid | index << 22, unique in the system as Linux's tids), clear_child_tid
// (CLONE_CHILD_CLEARTID, set_tid_address: zeroed and futex-woken at the thread's exit), the futex
// it waits on. What is per process here (a documented difference from Linux): the signal mask and
// pending signals (a signal is delivered to whichever thread runs; tgkill to a thread of this
// process goes to the process), the CPU clocks. Other blocking calls: a pipe's read or write,
// poll/select, a terminal read and wait4/waitid that would wait while another thread can run
// return ERESTART_THREAD instead (their thread is made to repeat the call when it next runs:
// RestartLater), and wait in the kernel only when no other thread can run (until the earliest
// thread deadline).
//
// Futexes are private to the process (its own memory: a wait queue per thread, no kernel call);
// FUTEX_WAIT/WAKE (+BITSET), REQUEUE, CMP_REQUEUE and WAKE_OP, PRIVATE or not (a futex in MAP_SHARED
// memory does not wake another process: documented).
//
// Invariants: s_threads[s_current] is the running thread whenever the table exists (made at the
// first clone or futex wait); a thread's saved state is valid exactly when it is not the running
// one; Live counts threads that have not exited; s_switchTo is -1 except between a handler that
// chose the next thread and the dispatcher that switches (in the same system call).
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux.Processes
{
    public enum ThreadState { Running, Runnable, Blocked, Ended }

    public sealed unsafe class LinuxThread
    {
        public int Tid;
        public ThreadState State;
        /// <summary>The saved program state (while not running): registers, FS base, FXSAVE image.</summary>
        public UserRegisters Registers;
        public ulong FsBase;
        public readonly byte[] Fp = new byte[512];
        /// <summary>CLONE_CHILD_CLEARTID / set_tid_address: zeroed and woken when the thread exits.</summary>
        public ulong ClearChildTid;
        /// <summary>While Blocked in a futex wait: the word and the bitset; 0: a sleep.</summary>
        public ulong FutexAddress;
        public uint FutexBits;
        /// <summary>While Blocked: the TSC deadline (ulong.MaxValue: none) and what RAX becomes then.</summary>
        public ulong Deadline;
        public long TimeoutResult;
        /// <summary>A timed call that waits its turn (RestartLater) keeps its deadline here for when
        /// it is made again (KeepDeadline, ResumeDeadline): which call, and the TSC deadline (0: none).</summary>
        public ulong KeptCall, KeptDeadline;
    }

    public static unsafe class LinuxThreads
    {
        /// <summary>Most threads a process has at once (clone answers -EAGAIN past it).</summary>
        public const int MaximumThreads = 64;
        private const int TidShift = 22;

        // No static initializers here (a class constructor would cost its callers a check). The
        // thread chosen to run next is kept as its index + 1 in SignalAttention.ThreadSwitch (0:
        // none), and choosing one sets the signal word's bit 0: the dispatcher's one test of that
        // word at every system call's end covers threads too (getppid pays nothing for them).
        private static LinuxThread[] s_threads;
        private static int s_current, s_live;

        /// <summary>Threads that have not exited (1 without a table).</summary>
        public static int Live => s_threads == null ? 1 : s_live;

        private static int s_switchTo
        {
            get => SignalAttention.ThreadSwitch - 1;
            set
            {
                SignalAttention.ThreadSwitch = value + 1;
                if (value >= 0) SignalAttention.Word |= 1; // the dispatcher looks (LinuxUpcalls.AfterCall)
            }
        }

        /// <summary>Switches done (for tests and /proc).</summary>
        public static ulong Switches;

        /// <summary>How the threads of this process share its CPU time (per app: AEGIS_THREADS in the
        /// environment execve passes; a fork's child keeps its parent's).</summary>
        public enum Policy { RoundRobin, RunToCompletion }

        /// <summary>This process's policy (RoundRobin unless its program was started with
        /// AEGIS_THREADS=run-to-completion).</summary>
        public static Policy Current;

        /// <summary>The variable that names the policy, and its values.</summary>
        public const string PolicyVariable = "AEGIS_THREADS";

        /// <summary>The policy an environment (NAME=VALUE strings, execve's envp) asks for.</summary>
        public static Policy PolicyFor(System.Collections.Generic.List<byte[]> environment) =>
            EnvironmentStrings.ValueIs(environment, PolicyVariable, "run-to-completion") ? Policy.RunToCompletion : Policy.RoundRobin;

        /// <summary>Most slices a process takes beyond the one it starts with (round robin).</summary>
        public const int MaximumExtraSlices = 3;
        private static int[] s_extraSlices;
        private static int s_extraCount;

        /// <summary>Extra slices held now (for tests).</summary>
        public static int ExtraSlices => s_extraCount;

        /// <summary>At a slice end: one extra slice per runnable thread beyond the first (at most
        /// MaximumExtraSlices; none under run-to-completion), taken from or given back to the kernel's
        /// slice vector. A refused SliceAllocate (the vector is full, the account's quota) is no error:
        /// the process runs on what it has.</summary>
        private static void AdjustSlices()
        {
            int wanted = 0;
            if (Current == Policy.RoundRobin && s_threads != null)
            {
                for (int i = 0; i < MaximumThreads; i++)
                {
                    LinuxThread t = s_threads[i];
                    if (t != null && (t.State == ThreadState.Running || t.State == ThreadState.Runnable)) wanted++;
                }
                wanted--;
                if (wanted > MaximumExtraSlices) wanted = MaximumExtraSlices;
            }
            if (wanted == s_extraCount) return;
            if (s_extraSlices == null) s_extraSlices = new int[MaximumExtraSlices];
            while (s_extraCount < wanted)
            {
                SystemCallResult taken = SystemCalls.SliceAllocate();
                if (taken.Error != Error.None) return;
                s_extraSlices[s_extraCount++] = (int)taken.Value;
            }
            while (s_extraCount > wanted && s_extraCount > 0)
                SystemCalls.SliceFree((ulong)s_extraSlices[--s_extraCount]);
        }

        /// <summary>The running thread's tid (the pid without threads).</summary>
        public static int CurrentTid => s_threads == null ? (int)LinuxProcess.Id : s_threads[s_current].Tid;

        /// <summary>Whether tid names a live thread of this process (the pid included).</summary>
        public static bool IsOwnThread(long tid)
        {
            if (tid == (long)LinuxProcess.Id) return true;
            if (s_threads == null || tid <= 0) return false;
            int index = (int)(tid >> TidShift);
            return index > 0 && index < MaximumThreads && (tid & ((1L << TidShift) - 1)) == (long)LinuxProcess.Id
                && s_threads[index] != null && s_threads[index].State != ThreadState.Ended;
        }

        /// <summary>The table, made at first need: the running program becomes thread 0 (tid = pid).</summary>
        private static void EnsureTable()
        {
            if (s_threads != null) return;
            s_threads = new LinuxThread[MaximumThreads];
            s_threads[0] = new LinuxThread { Tid = (int)LinuxProcess.Id, State = ThreadState.Running, ClearChildTid = LinuxProcess.ClearChildTid };
            s_current = 0;
            s_switchTo = -1;
            s_live = 1;
        }

        /// <summary>After fork (in the child: ownsSlices false, its parent's extra slices are not its
        /// own) and execve (ownsSlices true: they are given back): one thread, the caller, tid = pid.</summary>
        public static void Reset(bool ownsSlices)
        {
            if (ownsSlices) { s_threads = null; AdjustSlices(); }
            s_extraCount = 0;
            s_threads = null;
            s_current = 0;
            s_switchTo = -1;
            s_live = 0;
            s_kept = 0;
        }

        /// <summary>set_tid_address for the running thread.</summary>
        public static void SetClearChildTid(ulong address)
        {
            if (s_threads == null) LinuxProcess.ClearChildTid = address;
            else s_threads[s_current].ClearChildTid = address;
        }

        // ---- clone ----------------------------------------------------------------------------

        /// <summary>clone of a thread: a copy of the caller's state (RAX 0, RSP = stack when given, FS
        /// base = tls with CLONE_SETTLS), runnable. The tid, or -EAGAIN when the table is full.</summary>
        public static long Create(UpcallFrame* frame, ulong flags, ulong stack, ulong parentTid, ulong childTid, ulong tls)
        {
            EnsureTable();
            int index = 1;
            while (index < MaximumThreads && s_threads[index] != null && s_threads[index].State != ThreadState.Ended) index++;
            if (index == MaximumThreads) return -Errno.EAGAIN;
            int tid = (int)((ulong)index << TidShift | LinuxProcess.Id);
            var thread = new LinuxThread { Tid = tid, State = ThreadState.Runnable };
            thread.Registers = frame->Registers;
            thread.Registers.Rax = 0;
            if (stack != 0) thread.Registers.Rsp = stack;
            thread.FsBase = (flags & LinuxFork.CLONE_SETTLS) != 0 ? tls : frame->Reserved2;
            fixed (byte* fp = thread.Fp) System.Buffer.MemoryCopy((byte*)frame - 512, fp, 512, 512);
            if ((flags & LinuxFork.CLONE_CHILD_CLEARTID) != 0) thread.ClearChildTid = childTid;
            // The same memory: both tid words are written now (Linux: before either runs).
            if ((flags & LinuxFork.CLONE_PARENT_SETTID) != 0 && !UserPointers.CopyOut(parentTid, &tid, 4)) return -Errno.EFAULT;
            if ((flags & LinuxFork.CLONE_CHILD_SETTID) != 0 && !UserPointers.CopyOut(childTid, &tid, 4)) return -Errno.EFAULT;
            s_threads[index] = thread;
            s_live++;
            return tid;
        }

        // ---- switching ------------------------------------------------------------------------

        /// <summary>Whether a handler chose another thread to run at this system call's end.</summary>
        public static bool SwitchPending => SignalAttention.ThreadSwitch != 0;

        /// <summary>What a blocking call returns instead of waiting in the kernel when another thread
        /// can run (RestartLater): not an errno (Linux's internal codes stop at 516); it never
        /// reaches the program.</summary>
        public const int ERESTART_THREAD = 530;

        /// <summary>Whether a thread other than the running one can run now (deadlines looked at).</summary>
        public static bool OthersCanRun()
        {
            if (s_threads == null || s_live < 2) return false;
            ExpireDeadlines(LinuxCpu.Timestamp());
            return NextRunnable() >= 0;
        }

        /// <summary>A blocking call that has done nothing yet and would wait, while OthersCanRun: the
        /// call is made again later (its thread stays runnable, at the syscall instruction with its
        /// arguments) and the next thread runs now. The caller returns what this returns.</summary>
        public static long RestartLater()
        {
            s_switchTo = NextRunnable();
            return -ERESTART_THREAD;
        }

        /// <summary>A blocking call with a time limit (a socket's SO_RCVTIMEO) that returns RestartLater
        /// keeps its TSC deadline for the running thread: made again, it resumes it (ResumeDeadline)
        /// instead of waiting its whole time again, so busy threads cannot make it wait for ever.
        /// 'call' names the call (the caller's choice), so a signal handler's own call between the
        /// two does not take it.</summary>
        public static void KeepDeadline(ulong call, ulong deadline)
        {
            if (s_threads == null) return; // RestartLater needs another thread: the table exists
            LinuxThread current = s_threads[s_current];
            if (current.KeptDeadline == 0) s_kept++;
            current.KeptCall = call;
            current.KeptDeadline = deadline;
        }

        /// <summary>The deadline the running thread kept for 'call' (forgotten now), or 0.</summary>
        public static ulong ResumeDeadline(ulong call)
        {
            if (s_kept == 0 || s_threads == null) return 0;
            LinuxThread current = s_threads[s_current];
            if (current.KeptDeadline == 0 || current.KeptCall != call) return 0;
            ulong deadline = current.KeptDeadline;
            current.KeptDeadline = 0;
            s_kept--;
            return deadline;
        }

        /// <summary>Kept deadlines not yet resumed (ResumeDeadline's fast answer when none; one a thread
        /// took with it when it ended only costs later calls the look at their thread).</summary>
        private static int s_kept;

        /// <summary>The earliest deadline of a blocked thread (ulong.MaxValue: none): a blocking call
        /// that waits in the kernel while others are blocked wakes by then, to let them run.</summary>
        public static ulong NextDeadline => s_threads == null || s_live < 2 ? ulong.MaxValue : EarliestDeadline();

        /// <summary>At the end of the system call (LinuxUpcalls): the running thread's state (with
        /// RAX = result) is saved, the chosen thread's loaded into the frame; its RAX is returned.
        /// A call that asked to be made again (ERESTART_THREAD) is saved at its syscall instruction
        /// with RAX = its number.</summary>
        public static long SwitchAfterCall(UpcallFrame* frame, long result)
        {
            if (result == -ERESTART_THREAD)
            {
                frame->Registers.Rip -= 2; // the syscall instruction (0F 05) again
                result = (long)frame->Registers.Rax; // still the number: the trampoline writes the result after
            }
            frame->Registers.Rax = (ulong)result;
            SwitchTo(frame, s_switchTo);
            return (long)frame->Registers.Rax;
        }

        /// <summary>A slice end that interrupted the program: the next runnable thread takes over
        /// (round robin); nothing changes when there is none.</summary>
        public static void Preempt(UpcallFrame* frame)
        {
            if (s_threads == null || (Live < 2 && s_extraCount == 0)) return;
            ExpireDeadlines(LinuxCpu.Timestamp()); // sleepers whose time came wake at a slice end at the latest
            AdjustSlices();
            if (Current == Policy.RunToCompletion) return;
            int next = NextRunnable();
            if (next >= 0) SwitchTo(frame, next);
        }

        /// <summary>A slice end that interrupted the libOS (most often inside a thread's system call:
        /// a thread that computes through system calls, clock_gettime in a loop, would otherwise
        /// rarely be preempted): the next runnable thread runs from the end of the system call in
        /// progress, or of the next one. A handler that chooses a thread itself overrides this.</summary>
        public static void PreemptAtCallEnd()
        {
            if (s_threads == null || (s_live < 2 && s_extraCount == 0) || SignalAttention.ThreadSwitch != 0) return;
            ExpireDeadlines(LinuxCpu.Timestamp());
            AdjustSlices();
            if (Current == Policy.RunToCompletion) return;
            int next = NextRunnable();
            if (next >= 0) s_switchTo = next;
        }

        /// <summary>sched_yield: the next runnable thread, if any, runs from this call's end.</summary>
        public static void Yield()
        {
            if (s_threads == null || Live < 2) return;
            ExpireDeadlines(LinuxCpu.Timestamp());
            int next = NextRunnable();
            if (next >= 0) s_switchTo = next;
        }

        private static void SwitchTo(UpcallFrame* frame, int next)
        {
            s_switchTo = -1;
            LinuxThread current = s_threads[s_current], chosen = s_threads[next];
            if (current.State != ThreadState.Ended)
            {
                current.Registers = frame->Registers;
                current.FsBase = frame->Reserved2;
                fixed (byte* fp = current.Fp) System.Buffer.MemoryCopy((byte*)frame - 512, fp, 512, 512);
                if (current.State == ThreadState.Running) current.State = ThreadState.Runnable;
            }
            frame->Registers = chosen.Registers;
            frame->Reserved2 = chosen.FsBase;
            fixed (byte* fp = chosen.Fp) System.Buffer.MemoryCopy(fp, (byte*)frame - 512, 512, 512);
            chosen.State = ThreadState.Running;
            s_current = next;
            Switches++;
        }

        /// <summary>The first Runnable thread after the running one, in table order; -1 if none.</summary>
        private static int NextRunnable()
        {
            for (int step = 1; step < MaximumThreads; step++)
            {
                int i = (s_current + step) % MaximumThreads;
                LinuxThread t = s_threads[i];
                if (t != null && t.State == ThreadState.Runnable) return i;
            }
            return -1;
        }

        // ---- blocking -------------------------------------------------------------------------

        /// <summary>The running thread stops (Blocked with its deadline, or Ended). Returns false when
        /// another thread was chosen (the handler returns; the dispatcher switches), true when the
        /// running thread itself goes on with 'result': woken by its deadline (its TimeoutResult),
        /// or -EINTR for a signal to the process. Waits in the kernel while nothing can run.</summary>
        private static bool RunAnother(out long result)
        {
            bool blocking = false;
            for (;;)
            {
                ExpireDeadlines(LinuxCpu.Timestamp());
                LinuxThread current = s_threads[s_current];
                if (current.State == ThreadState.Runnable)
                {
                    current.State = ThreadState.Running;
                    result = (long)current.Registers.Rax;
                    return true;
                }
                int next = NextRunnable();
                if (next >= 0)
                {
                    s_switchTo = next;
                    result = 0;
                    return false;
                }
                if (Signals.InterruptPending())
                {
                    // A signal for the process: the running thread takes it (-EINTR), or, when it has
                    // ended, the first blocked one.
                    int taker = current.State == ThreadState.Blocked ? s_current : FirstBlocked();
                    if (taker >= 0)
                    {
                        LinuxThread t = s_threads[taker];
                        t.FutexAddress = 0;
                        t.Registers.Rax = unchecked((ulong)(long)-Errno.EINTR);
                        if (taker == s_current)
                        {
                            t.State = ThreadState.Running;
                            result = -Errno.EINTR;
                            return true;
                        }
                        t.State = ThreadState.Runnable;
                        continue;
                    }
                }
                if (!blocking) { Notices.BeginBlocking(); blocking = true; }
                Notices.WaitStep(EarliestDeadline());
            }
        }

        private static int FirstBlocked()
        {
            for (int i = 0; i < MaximumThreads; i++)
                if (s_threads[i] != null && s_threads[i].State == ThreadState.Blocked) return i;
            return -1;
        }

        private static void ExpireDeadlines(ulong now)
        {
            for (int i = 0; i < MaximumThreads; i++)
            {
                LinuxThread t = s_threads[i];
                if (t == null || t.State != ThreadState.Blocked || t.Deadline > now) continue;
                t.State = ThreadState.Runnable;
                t.FutexAddress = 0;
                t.Registers.Rax = (ulong)t.TimeoutResult;
            }
        }

        private static ulong EarliestDeadline()
        {
            ulong earliest = ulong.MaxValue;
            for (int i = 0; i < MaximumThreads; i++)
            {
                LinuxThread t = s_threads[i];
                if (t != null && t.State == ThreadState.Blocked && t.Deadline < earliest) earliest = t.Deadline;
            }
            return earliest;
        }

        /// <summary>nanosleep with other threads: the running thread sleeps until the TSC deadline while
        /// the others run. 0 when it slept its time (now or when resumed), -EINTR for a signal.</summary>
        public static long Sleep(ulong deadline)
        {
            EnsureTable();
            LinuxThread current = s_threads[s_current];
            current.State = ThreadState.Blocked;
            current.FutexAddress = 0;
            current.Deadline = deadline;
            current.TimeoutResult = 0;
            return RunAnother(out long result) ? result : 0;
        }

        /// <summary>exit(2) of one thread while others live: clear_child_tid zeroed and woken, the
        /// thread ends, another runs. False (nothing done) for the last thread: the process exits.</summary>
        public static bool ExitThread()
        {
            if (s_threads == null || Live < 2) return false;
            LinuxThread current = s_threads[s_current];
            if (current.ClearChildTid != 0)
            {
                int zero = 0;
                if (UserPointers.CopyOut(current.ClearChildTid, &zero, 4)) Wake(current.ClearChildTid, 1, uint.MaxValue);
            }
            current.State = ThreadState.Ended;
            s_live--;
            RunAnother(out _); // an ended thread is never resumed: another is chosen, or one blocked takes a signal
            if (s_switchTo < 0)
            {
                int next = NextRunnable();
                s_switchTo = next;
            }
            return true;
        }

        // ---- futex ----------------------------------------------------------------------------

        public const int FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5,
            FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10, FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;

        /// <summary>futex(uaddr, op, val, timeout/val2, uaddr2, val3).</summary>
        public static long Futex(ref LinuxCall call)
        {
            ulong address = call.A0;
            int op = (int)call.A1;
            int command = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
            uint value = (uint)call.A2;
            if ((address & 3) != 0) return -Errno.EINVAL;
            if ((op & FUTEX_CLOCK_REALTIME) != 0 && command != FUTEX_WAIT_BITSET && command != FUTEX_WAIT) return -Errno.ENOSYS;
            switch (command)
            {
                case FUTEX_WAIT:
                    return Wait(address, value, call.A3, false, (op & FUTEX_CLOCK_REALTIME) != 0, uint.MaxValue);
                case FUTEX_WAIT_BITSET:
                    if ((uint)call.A5 == 0) return -Errno.EINVAL;
                    return Wait(address, value, call.A3, true, (op & FUTEX_CLOCK_REALTIME) != 0, (uint)call.A5);
                case FUTEX_WAKE:
                    return Wake(address, (int)value, uint.MaxValue);
                case FUTEX_WAKE_BITSET:
                    if ((uint)call.A5 == 0) return -Errno.EINVAL;
                    return Wake(address, (int)value, (uint)call.A5);
                case FUTEX_REQUEUE:
                case FUTEX_CMP_REQUEUE:
                {
                    if ((call.A4 & 3) != 0) return -Errno.EINVAL;
                    if (command == FUTEX_CMP_REQUEUE)
                    {
                        uint now;
                        if (!UserPointers.CopyIn(&now, address, 4)) return -Errno.EFAULT;
                        if (now != (uint)call.A5) return -Errno.EAGAIN;
                    }
                    int woken = Wake(address, (int)value, uint.MaxValue);
                    int moved = Requeue(address, call.A4, (int)call.A3);
                    return command == FUTEX_CMP_REQUEUE ? woken + moved : woken;
                }
                case FUTEX_WAKE_OP:
                    return WakeOp(address, (int)value, call.A4, (int)call.A3, (uint)call.A5);
                default:
                    return -Errno.ENOSYS;
            }
        }

        private static long Wait(ulong address, uint expected, ulong timeoutPointer, bool absolute, bool realtime, uint bits)
        {
            uint now;
            if (!UserPointers.CopyIn(&now, address, 4)) return -Errno.EFAULT;
            if (now != expected) return -Errno.EAGAIN;
            ulong deadline = ulong.MaxValue;
            if (timeoutPointer != 0)
            {
                long error = TimeCalls.ReadTimespec(timeoutPointer, out ulong nanoseconds);
                if (error < 0) return error;
                ulong hz = Info.GlobalPage->TimestampHz;
                ulong start = LinuxCpu.Timestamp();
                if (absolute)
                {
                    TimeCalls.Now(realtime ? TimeCalls.ClockRealtime : TimeCalls.ClockMonotonic, out ulong clock);
                    nanoseconds = nanoseconds > clock ? nanoseconds - clock : 0;
                }
                if (nanoseconds == 0) return -Errno.ETIMEDOUT;
                ulong ticks = TimeCalls.NanosecondsToTicks(nanoseconds, hz);
                deadline = ticks > ulong.MaxValue - start ? ulong.MaxValue - 1 : start + ticks;
            }
            EnsureTable();
            LinuxThread current = s_threads[s_current];
            current.State = ThreadState.Blocked;
            current.FutexAddress = address;
            current.FutexBits = bits;
            current.Deadline = deadline;
            current.TimeoutResult = -Errno.ETIMEDOUT;
            current.Registers.Rax = 0;
            return RunAnother(out long result) ? result : 0;
        }

        /// <summary>Makes up to 'count' threads waiting on address (with a bit of 'bits') runnable; how many.</summary>
        public static int Wake(ulong address, int count, uint bits)
        {
            if (s_threads == null || count <= 0) return 0;
            int woken = 0;
            for (int step = 1; step <= MaximumThreads && woken < count; step++)
            {
                LinuxThread t = s_threads[(s_current + step) % MaximumThreads];
                if (t == null || t.State != ThreadState.Blocked || t.FutexAddress != address || (t.FutexBits & bits) == 0) continue;
                t.State = ThreadState.Runnable;
                t.FutexAddress = 0;
                t.Registers.Rax = 0;
                woken++;
            }
            return woken;
        }

        private static int Requeue(ulong from, ulong to, int count)
        {
            if (s_threads == null || count <= 0) return 0;
            int moved = 0;
            for (int i = 0; i < MaximumThreads && moved < count; i++)
            {
                LinuxThread t = s_threads[i];
                if (t == null || t.State != ThreadState.Blocked || t.FutexAddress != from) continue;
                t.FutexAddress = to;
                moved++;
            }
            return moved;
        }

        /// <summary>FUTEX_WAKE_OP: *address2 = op(old, oparg); wake 'count' on address; when cmp(old,
        /// cmparg) holds, wake 'count2' on address2 (Linux's encoding of val3).</summary>
        private static long WakeOp(ulong address, int count, ulong address2, int count2, uint encoded)
        {
            if ((address2 & 3) != 0) return -Errno.EINVAL;
            int operation = (int)(encoded >> 28) & 7, comparison = (int)(encoded >> 24) & 15;
            bool shift = ((encoded >> 28) & 8) != 0;
            int operand = (int)(encoded << 8) >> 20, comparand = (int)(encoded << 20) >> 20;
            if (shift) operand = 1 << (operand & 31);
            int old;
            if (!UserPointers.CopyIn(&old, address2, 4)) return -Errno.EFAULT;
            int updated;
            switch (operation)
            {
                case 0: updated = operand; break;
                case 1: updated = old + operand; break;
                case 2: updated = old | operand; break;
                case 3: updated = old & ~operand; break;
                case 4: updated = old ^ operand; break;
                default: return -Errno.ENOSYS;
            }
            bool holds;
            switch (comparison)
            {
                case 0: holds = old == comparand; break;
                case 1: holds = old != comparand; break;
                case 2: holds = old < comparand; break;
                case 3: holds = old <= comparand; break;
                case 4: holds = old > comparand; break;
                case 5: holds = old >= comparand; break;
                default: return -Errno.ENOSYS;
            }
            if (!UserPointers.CopyOut(address2, &updated, 4)) return -Errno.EFAULT;
            int woken = Wake(address, count, uint.MaxValue);
            if (holds) woken += Wake(address2, count2, uint.MaxValue);
            return woken;
        }
    }
}
