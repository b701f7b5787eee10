// Linux signals for the program this environment runs: the system calls (rt_sigaction,
// rt_sigprocmask, rt_sigreturn, rt_sigpending, rt_sigsuspend, rt_sigtimedwait, rt_sigqueueinfo,
// sigaltstack, kill/tgkill/tkill, pause, alarm, setitimer/getitimer), delivery into the program,
// synchronous faults (DeliverFault) and default actions. State: SignalState; frame: SignalFrame.
//
// Delivery points. A signal reaches the program
//   - when a system call returns: LinuxUpcalls.DispatchSystemCall tests SignalAttention.Word
//     (one load and test; zero when nothing is deliverable and no timer is armed) and calls
//     AfterSystemCall only when it is set;
//   - when an upcall (slice end, IPC, a resolved page fault) interrupted program code:
//     LinuxUpcalls.DispatchUpcall calls AfterUpcall under the same test;
//   - at once, for a fault of the program (DeliverFault).
// Delivering to a handler builds the rt_sigframe (SignalFrame) on the program's stack or the
// alternate stack and rewrites the interrupted registers in the UpcallFrame, which the trampoline
// (Native/linux.S) then resumes: RIP = handler, RSP = frame, RDI/RSI/RDX = signal, &siginfo,
// &ucontext, RAX = 0; the program's FP state (the trampoline's FXSAVE area below the UpcallFrame)
// goes into the frame and the handler starts with the initial FP state (SignalFrame.FpToFrame:
// linux.S's FXRSTOR/FXSAVE moves). rt_sigreturn puts everything back from the ucontext, the
// handler's changes included. The common case (one caught signal at a system call's return, no
// alternate stack) takes SignalDelivery.TryDeliverFast (docs/libos-unixish.md, "Signal fast path").
//
// Blocking calls (for every area): a loop that waits calls Signals.InterruptPending() each time
// round (it also fires expired timers) and, when true, returns
//   -Signals.ERESTARTSYS    restarted when the handler has SA_RESTART (read, write, wait4, ...),
//                           else -EINTR;
//   -Signals.ERESTARTNOHAND -EINTR when a handler runs (pause, sigsuspend, poll, select);
//   -Signals.ERESTART_RESTARTBLOCK  -EINTR when a handler runs (nanosleep; the caller writes the
//                           remaining time first);
// or -EINTR itself (never restarted). When no handler runs (the signal was ignored, or stopped
// and continued the process), every ERESTART* call is restarted: RIP goes back to the syscall
// instruction with RAX = its number (a restarted nanosleep sleeps its whole time again: there is
// no restart_syscall). These values never reach the program. Return them only after
// InterruptPending() said true (that is what makes AfterSystemCall run). WaitStep() is the wait
// itself (WaitUntil the earliest armed timer: Processes/Notices.cs).
//
// Timers (alarm, setitimer): ITIMER_REAL counts the TSC; ITIMER_VIRTUAL and ITIMER_PROF count the
// same clock (the libOS's process CPU time is the TSC time since the start, TimeCalls). An
// expired timer is noticed at the next system-call return, InterruptPending() call or upcall
// that interrupted the program (a slice end: at most a scheduling slice, UpcallLimits.SliceTicks
// timer ticks, late for a program that computes without system calls).
//
// Other processes: kill/tgkill/tkill/rt_sigqueueinfo for a target other than this process go to
// Sender (the process work's IPC: pid semantics as kill's, positive pid, 0 own group, -1 all,
// -pgrp); without a Sender they answer -ESRCH (pid 0 and -own pid: this process alone). The
// receiving side calls Signals.Post. Hooks for the process work: Killed (before the environment
// ends by a signal: the wait status), Stopped/Continued (a stop signal's default action: the
// environment waits in WaitStep until SIGCONT or SIGKILL), and ResetForChild (a fork's child).
using System;
using System.Runtime.CompilerServices;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    /// <summary>The delivery check word: nonzero when a signal is deliverable or a timer is armed.
    /// (A class without a static constructor: reading it is one load.)</summary>
    public static class SignalAttention
    {
        public static ulong Word;
        /// <summary>The thread a handler chose to run from this system call's end, as its index + 1
        /// (0: none; Processes/LinuxThreads.cs). Choosing one also sets Word's bit 0 (kept by
        /// Refresh while this is set), so the dispatcher's one test of Word covers both.</summary>
        public static int ThreadSwitch;
    }

    public static unsafe class Signals
    {
        public const int ERESTARTSYS = SignalDelivery.ERESTARTSYS, ERESTARTNOINTR = SignalDelivery.ERESTARTNOINTR,
            ERESTARTNOHAND = SignalDelivery.ERESTARTNOHAND, ERESTART_RESTARTBLOCK = SignalDelivery.ERESTART_RESTARTBLOCK;
        public const int ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2;

        private static SignalState s_state;
        private static SignalDelivery s_delivery;
        private static bool s_noRestart, s_timersArmed;
        private static ulong s_faultRip;
        private static ulong[] s_timerDeadline, s_timerInterval;

        /// <summary>Sends a signal to a target other than this process (kill's pid semantics);
        /// set by the process work. Returns 0 or -errno.</summary>
        public static delegate*<long, int, ref SigInfo, long> Sender;
        /// <summary>Called before the environment ends by a signal: (signal, wait status).</summary>
        public static delegate*<int, int, void> Killed;
        /// <summary>Called when a stop signal stops the process (signal) and when it continues.</summary>
        public static delegate*<int, void> Stopped;
        public static delegate*<void> Continued;

        public static SignalState State
        {
            get
            {
                if (s_state == null) Initialize();
                return s_state;
            }
        }

        private static void Initialize()
        {
            s_state = new SignalState();
            s_state.Changed = Refresh;
            s_delivery = new SignalDelivery(s_state)
            {
                Writable = (address, length) => UserPointers.IsAccessible(address, length, true),
                Terminate = (signal, info) => Terminate(signal, in info, false),
                Stop = Stop,
                FrameFailed = FrameFailed,
            };
            s_timerDeadline = new ulong[3];
            s_timerInterval = new ulong[3];
            SignalFrame.FpToFrame = &FpToFrame;
            SignalFrame.FpFromFrame = &FpFromFrame;
        }

        private static void FpToFrame(byte* area, byte* frameFp) => LinuxNative.FpToFrame(area, frameFp);
        private static void FpFromFrame(byte* area, byte* frameFp) => LinuxNative.FpFromFrame(area, frameFp);

        private static void Refresh()
        {
            SignalAttention.Word = s_state.Deliverable | (s_timersArmed ? 1UL : 0UL);
            // A message noted by an upcall that interrupted the store above keeps the word set
            // (Processes/Notices.cs: its Stash also sets it when it comes after).
            if (Processes.Notices.Waiting || SignalAttention.ThreadSwitch != 0) SignalAttention.Word |= 1; // (a thread switch chosen: LinuxThreads)
        }

        public static void Register()
        {
            if (s_state == null || !SignalFrame.Ready) Initialize();
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.rt_sigaction, &RtSigaction);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.rt_sigprocmask, &RtSigprocmask);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.rt_sigreturn, &RtSigreturn);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.rt_sigpending, &RtSigpending);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.rt_sigsuspend, &RtSigsuspend);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.rt_sigtimedwait, &RtSigtimedwait);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.rt_sigqueueinfo, &RtSigqueueinfo);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.sigaltstack, &SigAltStack);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.kill, &Kill);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.tgkill, &TgKill);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.tkill, &TKill);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.pause, &Pause);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.alarm, &Alarm);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.setitimer, &SetItimer);
            LinuxSystemCalls.Define(LinuxSystemCallNumbers.getitimer, &GetItimer);
            LinuxPersonality.OnExec(&OnExec);
        }

        private static void OnExec() => State.Exec();

        /// <summary>A fork's child: nothing pending, no timers (POSIX), actions/mask/altstack inherited.</summary>
        public static void ResetForChild()
        {
            State.Fork();
            for (int i = 0; i < 3; i++) s_timerDeadline[i] = s_timerInterval[i] = 0;
            s_timersArmed = false;
            s_delivery.HasSavedMask = false;
            Refresh();
        }

        /// <summary>Makes signal pending for this process (from another process, the terminal, the
        /// process work's SIGCHLD): delivered at the next delivery point. False when discarded.</summary>
        public static bool Post(int signal, in SigInfo info)
        {
            SigInfo copy = info;
            copy.Signo = signal;
            return State.Post(in copy);
        }

        /// <summary>A signal the libOS raises on the program's behalf, as Linux's send_sig(sig,
        /// current, 0): si_code SI_USER from this process (SIGPIPE for a write to a pipe without
        /// readers; SIGXFSZ).</summary>
        public static bool RaiseSelf(int signal)
            => State.Post(SigInfo.FromProcess(signal, Sig.SI_USER, (int)Self, 0));

        /// <summary>Whether a timer (alarm, setitimer) is armed: a blocking loop must then not
        /// Wait without a deadline (ProcessSignals.WaitForWake).</summary>
        public static bool TimersArmed => s_timersArmed;

        /// <summary>For blocking loops: true when the wait must end (a signal is deliverable; fires
        /// expired timers first).</summary>
        public static bool InterruptPending()
        {
            if (Processes.Notices.Waiting) Processes.Notices.Drain(); // messages noted while the libOS ran
            if (s_timersArmed) CheckTimers();
            return State.Deliverable != 0;
        }

        /// <summary>Run at each WaitStep (the process layer's: notices children that ended without a
        /// notice reaching this process, and posts their SIGCHLD).</summary>
        public static delegate*<void> WaitHook;

        /// <summary>One step of a wait for a signal (or anything else): blocks until a message, a
        /// child's end or the earliest armed timer (Processes/Notices.cs).</summary>
        public static void WaitStep()
        {
            if (WaitHook != null) WaitHook();
            Processes.Notices.WaitStep(ulong.MaxValue);
        }

        /// <summary>The TSC value at which the earliest armed interval timer expires (ulong.MaxValue: none).</summary>
        public static ulong NextTimerDeadline
        {
            get
            {
                if (!s_timersArmed) return ulong.MaxValue;
                ulong earliest = ulong.MaxValue;
                for (int i = 0; i < 3; i++)
                    if (s_timerDeadline[i] != 0 && s_timerDeadline[i] < earliest) earliest = s_timerDeadline[i];
                return earliest;
            }
        }

        private static ulong Self => LinuxProcess.Id;

        // ---- delivery ----

        /// <summary>The FXSAVE area the trampoline keeps the interrupted FP state in (linux.S: below the frame, 16-aligned).</summary>
        private static byte* FpArea(UpcallFrame* frame) => (byte*)(((ulong)frame - SignalFrame.FpStateSize) & ~15UL);

        /// <summary>At a system call's return (SignalAttention.Word != 0): delivers what is
        /// deliverable; the value for RAX.</summary>
        public static long AfterSystemCall(UpcallFrame* frame, long result)
        {
            if (Processes.Notices.Waiting) Processes.Notices.Drain(); // messages noted while the libOS ran
            else if (!s_timersArmed)
            {
                // The fast paths (docs/libos-unixish.md "Signal fast path"): after rt_sigreturn with
                // nothing deliverable, only the flag and the word; one caught signal: TryDeliverFast.
                SignalState state = s_state;
                if ((state.Pending & ~state.Blocked) == 0 && !s_delivery.HasSavedMask
                    && (s_noRestart || !SignalDelivery.IsRestartRequest(result)))
                {
                    s_noRestart = false;
                    Refresh();
                    return result;
                }
                if (!s_noRestart && s_delivery.TryDeliverFast(ref frame->Registers, FpArea(frame), result))
                    return 0; // (its state change ran Refresh)
            }
            bool restart = !s_noRestart && SignalDelivery.IsRestartRequest(result);
            s_noRestart = false;
            long value = DeliverPending(frame, result, restart, frame->Registers.Rax);
            Refresh();
            return value;
        }

        /// <summary>After an upcall that interrupted program code (SignalAttention.Word != 0).</summary>
        public static void AfterUpcall(UpcallFrame* frame)
        {
            try
            {
                if (Processes.Notices.Waiting) Processes.Notices.Drain();
                frame->Registers.Rax = (ulong)DeliverPending(frame, (long)frame->Registers.Rax, false, 0);
            }
            catch (Exception e)
            {
                LinuxLog.Line("signal delivery failed inside the libOS: " + e.GetType().Name + ": " + e.Message);
            }
        }

        private static long DeliverPending(UpcallFrame* frame, long current, bool restart, ulong number)
        {
            if (s_timersArmed) CheckTimers();
            return s_delivery.DeliverPending(ref frame->Registers, FpArea(frame), current, restart, number);
        }

        private static void FrameFailed(int signal, string why, ulong address)
        {
            LinuxLog.Line("cannot deliver " + Sig.Name(signal) + " to " + LinuxSignals.ProgramName() + " (pid " + Self.ToString()
                + "): " + why + (address != 0 ? " (0x" + address.ToString("x") + ")" : "") + ": killed by SIGSEGV");
            Terminate(Sig.SIGSEGV, SigInfo.FromKernel(Sig.SIGSEGV), true);
        }

        /// <summary>A synchronous fault of the program: its handler when one is installed and the
        /// signal not blocked, else (blocked, ignored or default) the default action (Linux's
        /// force_sig_fault). code/address: si_code and si_addr; for a CPU exception other than a
        /// page fault they are Linux's for the trap (SignalFrame.TrapCode).</summary>
        public static void DeliverFault(ref UpcallFrame frame, int signal, int code, ulong address)
        {
            var info = default(SigInfo);
            info.Signo = signal;
            info.Code = code;
            info.Address = address;
            info.Trap = frame.Trap;
            info.ErrorCode = frame.ErrorCode;
            fixed (UpcallFrame* f = &frame)
            {
                if (frame.Kind == UpcallKind.Exception && frame.Trap != Traps.PageFault)
                {
                    info.Code = SignalFrame.TrapCode(frame.Trap, frame.Registers.Rip, *(uint*)(FpArea(f) + 24), out info.Address);
                }
                SignalState state = State;
                SignalAction action = state.Actions[signal];
                if (action.Handler == Sig.SIG_DFL || action.Handler == Sig.SIG_IGN || (state.Blocked & Sig.Bit(signal)) != 0)
                {
                    s_faultRip = frame.Registers.Rip;
                    Terminate(signal, in info, true);
                    return;
                }
                if (!s_delivery.DeliverOne(ref f->Registers, FpArea(f), signal, in info)) return;
                f->Registers.Rax = (ulong)DeliverPending(f, (long)f->Registers.Rax, false, 0);
            }
        }

        /// <summary>The default action "terminate" (and "core"): the wait status goes to Killed,
        /// the environment ends with 128 + signal.</summary>
        public static void Terminate(int signal, in SigInfo info, bool fault)
        {
            if (Sig.Default(signal) == DefaultAction.CoreDump || fault)
            {
                string line = LinuxSignals.Describe(signal) + " (" + Sig.Name(signal) + ") in " + LinuxSignals.ProgramName()
                    + " (pid " + Self.ToString() + ")" + (fault && s_faultRip != 0 ? " at rip 0x" + s_faultRip.ToString("x") : "");
                if (fault && (signal == Sig.SIGSEGV || signal == Sig.SIGBUS) && info.Code > 0 && info.Code < Sig.SI_KERNEL)
                    line += ", address 0x" + info.Address.ToString("x")
                        + (signal == Sig.SIGSEGV ? (info.Code == Sig.SEGV_ACCERR ? " (access not allowed)" : " (nothing mapped)") : "");
                LinuxLog.Line(line);
            }
            if (Killed != null) Killed(signal, Sig.KilledWaitStatus(signal));
            LinuxSignals.Terminate(signal);
        }

        /// <summary>Whether a child's stop or continue posts SIGCHLD here (no SA_NOCLDSTOP on SIGCHLD's action).</summary>
        public static bool ChildStopsNotified => (State.Actions[Sig.SIGCHLD].Flags & Sig.SA_NOCLDSTOP) == 0;

        /// <summary>Whether children that end are reaped at once instead of becoming zombies: SIGCHLD's
        /// action is SIG_IGN (set explicitly: SIG_DFL ignores the signal but keeps zombies) or has
        /// SA_NOCLDWAIT, as on Linux.</summary>
        public static bool ChildrenReapedAtOnce
            => State.Actions[Sig.SIGCHLD].Handler == Sig.SIG_IGN || (State.Actions[Sig.SIGCHLD].Flags & Sig.SA_NOCLDWAIT) != 0;

        /// <summary>The default action "stop": waits until SIGCONT (or SIGKILL) is posted.</summary>
        private static void Stop(int signal)
        {
            SignalState state = State;
            state.ContinueRequested = false;
            if (Stopped != null) Stopped(signal);
            while (!state.ContinueRequested && (state.Pending & Sig.Bit(Sig.SIGKILL)) == 0)
                WaitStep();
            state.ContinueRequested = false;
            if (Continued != null) Continued();
        }

        // ---- timers ----

        private static ulong Hz => Info.GlobalPage->TimestampHz;

        private static void CheckTimers()
        {
            ulong now = LinuxCpu.Timestamp();
            bool armed = false;
            for (int i = 0; i < 3; i++)
            {
                ulong deadline = s_timerDeadline[i];
                if (deadline == 0) continue;
                if (now >= deadline)
                {
                    State.Post(SigInfo.FromKernel(TimerSignal(i)));
                    ulong interval = s_timerInterval[i];
                    if (interval != 0)
                    {
                        deadline += interval;
                        if (deadline <= now) deadline = now + interval;
                    }
                    else deadline = 0;
                    s_timerDeadline[i] = deadline;
                }
                if (s_timerDeadline[i] != 0) armed = true;
            }
            s_timersArmed = armed;
            Refresh();
        }

        private static int TimerSignal(int which) => which == ITIMER_REAL ? Sig.SIGALRM : which == ITIMER_VIRTUAL ? Sig.SIGVTALRM : Sig.SIGPROF;

        /// <summary>A timer's remaining time and interval, in ns.</summary>
        private static void ReadTimer(int which, out ulong remaining, out ulong interval)
        {
            ulong deadline = s_timerDeadline[which], now = LinuxCpu.Timestamp();
            remaining = deadline == 0 ? 0 : deadline > now ? TimeCalls.TicksToNanoseconds(deadline - now, Hz) : 1000;
            interval = TimeCalls.TicksToNanoseconds(s_timerInterval[which], Hz);
        }

        private static void ArmTimer(int which, ulong value, ulong interval)
        {
            if (s_state == null) Initialize();
            s_timerDeadline[which] = value == 0 ? 0 : LinuxCpu.Timestamp() + Math.Max(1UL, TimeCalls.NanosecondsToTicks(value, Hz));
            s_timerInterval[which] = value == 0 ? 0 : TimeCalls.NanosecondsToTicks(interval, Hz);
            s_timersArmed = s_timerDeadline[0] != 0 || s_timerDeadline[1] != 0 || s_timerDeadline[2] != 0;
            Refresh();
        }

        private const ulong Billion = 1_000_000_000;

        public static long Alarm(ref LinuxCall call)
        {
            ReadTimer(ITIMER_REAL, out ulong remaining, out _);
            ulong seconds = (uint)call.A0;
            ArmTimer(ITIMER_REAL, seconds * Billion, 0);
            ulong old = remaining / Billion, micro = remaining % Billion / 1000;
            if ((old == 0 && micro != 0) || micro >= 500_000) old++;
            return (long)old;
        }

        private static long PutItimerval(ulong address, ulong remaining, ulong interval)
        {
            long* value = stackalloc long[4];
            value[0] = (long)(interval / Billion);
            value[1] = (long)(interval % Billion / 1000);
            value[2] = (long)(remaining / Billion);
            value[3] = (long)((remaining % Billion + 999) / 1000);
            if (value[3] == 1_000_000) { value[2]++; value[3] = 0; }
            return UserPointers.CopyOut(address, value, 32) ? 0 : -Errno.EFAULT;
        }

        public static long GetItimer(ref LinuxCall call)
        {
            int which = (int)call.A0;
            if (which < 0 || which > 2) return -Errno.EINVAL;
            ReadTimer(which, out ulong remaining, out ulong interval);
            return PutItimerval(call.A1, remaining, interval);
        }

        public static long SetItimer(ref LinuxCall call)
        {
            int which = (int)call.A0;
            if (which < 0 || which > 2) return -Errno.EINVAL;
            long* value = stackalloc long[4];
            value[0] = value[1] = value[2] = value[3] = 0;
            if (call.A1 != 0 && !UserPointers.CopyIn(value, call.A1, 32)) return -Errno.EFAULT;
            for (int i = 0; i < 4; i += 2)
                if (value[i] < 0 || value[i + 1] < 0 || value[i + 1] >= 1_000_000) return -Errno.EINVAL;
            ReadTimer(which, out ulong remaining, out ulong oldInterval);
            if (call.A2 != 0 && PutItimerval(call.A2, remaining, oldInterval) < 0) return -Errno.EFAULT;
            ulong newInterval = (ulong)value[0] * Billion + (ulong)value[1] * 1000;
            ulong newValue = (ulong)value[2] * Billion + (ulong)value[3] * 1000;
            ArmTimer(which, newValue, newInterval);
            return 0;
        }

        // ---- system calls ----

        public static long RtSigaction(ref LinuxCall call)
        {
            int signal = (int)call.A0;
            if (call.A3 != 8) return -Errno.EINVAL;
            var action = default(SignalAction);
            bool set = call.A1 != 0;
            if (set && !UserPointers.CopyIn(&action, call.A1, SignalAction.Size)) return -Errno.EFAULT;
            int error = State.SetAction(signal, set, in action, out SignalAction old);
            if (error < 0) return error;
            if (call.A2 != 0 && !UserPointers.CopyOut(call.A2, &old, SignalAction.Size)) return -Errno.EFAULT;
            return 0;
        }

        public static long RtSigprocmask(ref LinuxCall call)
        {
            if (call.A3 != 8) return -Errno.EINVAL;
            ulong mask = 0;
            bool set = call.A1 != 0;
            if (set && !UserPointers.CopyIn(&mask, call.A1, 8)) return -Errno.EFAULT;
            int how = (int)call.A0;
            if (set && (how < Sig.SIG_BLOCK || how > Sig.SIG_SETMASK)) return -Errno.EINVAL;
            State.ChangeMask(how, set, mask, out ulong old);
            if (call.A2 != 0 && !UserPointers.CopyOut(call.A2, &old, 8)) return -Errno.EFAULT;
            return 0;
        }

        public static long RtSigpending(ref LinuxCall call)
        {
            if (call.A1 > 8) return -Errno.EINVAL;
            ulong set = State.Pending & State.Blocked;
            return UserPointers.CopyOut(call.A0, &set, call.A1) ? 0 : -Errno.EFAULT;
        }

        public static long RtSigsuspend(ref LinuxCall call)
        {
            if (call.A1 != 8) return -Errno.EINVAL;
            ulong mask;
            if (!UserPointers.CopyIn(&mask, call.A0, 8)) return -Errno.EFAULT;
            s_delivery.SavedMask = State.Blocked;
            s_delivery.HasSavedMask = true;
            State.SetBlocked(mask);
            Processes.Notices.BeginBlocking();
            while (!InterruptPending()) WaitStep();
            return -ERESTARTNOHAND;
        }

        /// <summary>A call's signal mask for the time of its wait (epoll_pwait's sigmask, as
        /// sigsuspend's): mask becomes the blocked set until EndWaitMask.</summary>
        public static void BeginWaitMask(ulong mask)
        {
            s_delivery.SavedMask = State.Blocked;
            s_delivery.HasSavedMask = true;
            State.SetBlocked(mask);
        }

        /// <summary>The end of BeginWaitMask's call with its result: the old mask is back, except
        /// after a signal ended the wait (-ERESTARTNOHAND): delivery puts it back then, once the
        /// handler's frame holds it (Linux's restore_saved_sigmask_unless).</summary>
        public static void EndWaitMask(long result)
        {
            if (result == -ERESTARTNOHAND || !s_delivery.HasSavedMask) return;
            s_delivery.HasSavedMask = false;
            State.SetBlocked(s_delivery.SavedMask);
        }

        public static long Pause(ref LinuxCall call)
        {
            Processes.Notices.BeginBlocking();
            while (!InterruptPending()) WaitStep();
            return -ERESTARTNOHAND;
        }

        public static long RtSigtimedwait(ref LinuxCall call)
        {
            if (call.A3 != 8) return -Errno.EINVAL;
            ulong set;
            if (!UserPointers.CopyIn(&set, call.A0, 8)) return -Errno.EFAULT;
            set &= ~Sig.Unblockable;
            ulong deadline = ulong.MaxValue;
            if (call.A2 != 0)
            {
                long* timeout = stackalloc long[2];
                if (!UserPointers.CopyIn(timeout, call.A2, 16)) return -Errno.EFAULT;
                if (timeout[0] < 0 || timeout[1] < 0 || timeout[1] >= (long)Billion) return -Errno.EINVAL;
                ulong ns = (ulong)timeout[0] > ulong.MaxValue / 2 / Billion ? ulong.MaxValue / 2 : (ulong)timeout[0] * Billion + (ulong)timeout[1];
                deadline = LinuxCpu.Timestamp() + TimeCalls.NanosecondsToTicks(ns, Hz);
            }
            for (;;)
            {
                if (s_timersArmed) CheckTimers();
                int signal = State.Take(set, out SigInfo info);
                if (signal != 0)
                {
                    if (call.A1 != 0)
                    {
                        byte* bytes = stackalloc byte[SigInfo.Size];
                        SignalFrame.WriteSiginfo(bytes, in info);
                        if (!UserPointers.CopyOut(call.A1, bytes, SigInfo.Size)) return -Errno.EFAULT;
                    }
                    return signal;
                }
                if (State.Deliverable != 0) return -Errno.EINTR;
                if (LinuxCpu.Timestamp() >= deadline) return -Errno.EAGAIN;
                Processes.Notices.WaitStep(deadline);
            }
        }

        public static long SigAltStack(ref LinuxCall call)
        {
            SignalState state = State;
            ulong sp = call.Registers->Rsp;
            ulong* old = stackalloc ulong[3];
            old[0] = state.AltBase;
            old[1] = (uint)state.AltStackFlags(sp);
            old[2] = state.AltSize;
            if (call.A0 != 0)
            {
                ulong* wanted = stackalloc ulong[3];
                if (!UserPointers.CopyIn(wanted, call.A0, 24)) return -Errno.EFAULT;
                int error = state.SetAltStack(sp, wanted[0], (int)(uint)wanted[1], wanted[2]);
                if (error < 0) return error;
            }
            if (call.A1 != 0 && !UserPointers.CopyOut(call.A1, old, 24)) return -Errno.EFAULT;
            return 0;
        }

        public static long RtSigreturn(ref LinuxCall call)
        {
            ref UserRegisters regs = ref *call.Registers;
            ulong uc = regs.Rsp;
            if (!UserPointers.IsAccessible(uc, SignalFrame.UcontextSize, false))
            {
                BadSigreturn(uc);
                return 0;
            }
            if (!s_delivery.Sigreturn(ref regs, FpArea(call.Frame), fp => UserPointers.IsAccessible(fp, SignalFrame.FpStateSize, false)))
            {
                BadSigreturn(regs.Rsp);
                return 0;
            }
            // The restored RAX is the interrupted code's, never a restart request (Linux: orig_ax = -1).
            // Only a value that looks like one needs the flag; the attention bit makes
            // AfterSystemCall run now and consume it. Any other value passes AfterSystemCall's
            // restart test untouched, so with nothing deliverable (the word is 0) it does not run.
            if (SignalDelivery.IsRestartRequest((long)regs.Rax))
            {
                s_noRestart = true;
                SignalAttention.Word |= 1; // (an upcall's Notices.Stash sets only this bit too: nothing is lost)
            }
            return (long)regs.Rax;
        }

        private static void BadSigreturn(ulong address)
        {
            LinuxLog.Line("rt_sigreturn in " + LinuxSignals.ProgramName() + " (pid " + Self.ToString() + ") found no frame at 0x"
                + address.ToString("x") + ": killed by SIGSEGV");
            Terminate(Sig.SIGSEGV, SigInfo.FromKernel(Sig.SIGSEGV), true);
        }

        /// <summary>Sends to target (kill's pid semantics); this process is handled here, others by Sender.</summary>
        private static long Send(long target, int signal, ref SigInfo info)
        {
            long self = (long)Self;
            if (target == self)
            {
                if (signal != 0) State.Post(in info);
                return 0;
            }
            if (Sender != null) return Sender(target, signal, ref info);
            if (target == 0 || target == -self)
            {
                if (signal != 0) State.Post(in info);
                return 0;
            }
            return -Errno.ESRCH;
        }

        public static long Kill(ref LinuxCall call)
        {
            int signal = (int)call.A1;
            if (signal != 0 && !Sig.Valid(signal)) return -Errno.EINVAL;
            long target = (int)call.A0;
            if (target == (long)Self && signal != 0)
            {
                // To itself (raise, the fast path's usual start): with nothing else wanting
                // attention, its handler is entered now (never pending); else posted in place,
                // no siginfo copies.
                if (SignalAttention.Word == 0
                    && s_delivery.TryDeliverNow(ref *call.Registers, FpArea(call.Frame), signal, Sig.SI_USER, (int)target, 0))
                    return 0;
                s_state.PostFromProcess(signal, Sig.SI_USER, (int)target);
                return 0;
            }
            return KillOther(target, signal);
        }

        /// <summary>kill for every other target (apart, so the fast case has no siginfo local to clear).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long KillOther(long target, int signal)
        {
            SigInfo info = SigInfo.FromProcess(signal, Sig.SI_USER, (int)Self, 0);
            return Send(target, signal, ref info);
        }

        public static long TgKill(ref LinuxCall call)
        {
            long tgid = (int)call.A0, tid = (int)call.A1;
            int signal = (int)call.A2;
            if (tgid <= 0 || tid <= 0 || (signal != 0 && !Sig.Valid(signal))) return -Errno.EINVAL;
            if (tgid == (long)Self && Processes.LinuxThreads.IsOwnThread(tid)) tid = (long)Self; // a thread of ours: the process
            if (tid != (long)Self || tgid != (long)Self)
            {
                if (Sender == null) return -Errno.ESRCH;
                SigInfo other = SigInfo.FromProcess(signal, Sig.SI_TKILL, (int)Self, 0);
                return Sender(tid, signal, ref other);
            }
            if (signal != 0 && SignalAttention.Word == 0
                && s_delivery.TryDeliverNow(ref *call.Registers, FpArea(call.Frame), signal, Sig.SI_TKILL, (int)Self, 0))
                return 0; // raise(): as kill to itself
            SigInfo info = SigInfo.FromProcess(signal, Sig.SI_TKILL, (int)Self, 0);
            return Send(tid, signal, ref info);
        }

        public static long TKill(ref LinuxCall call)
        {
            long tid = (int)call.A0;
            int signal = (int)call.A1;
            if (tid <= 0 || (signal != 0 && !Sig.Valid(signal))) return -Errno.EINVAL;
            if (Processes.LinuxThreads.IsOwnThread(tid)) tid = (long)Self; // a thread of ours: the process
            if (tid == (long)Self && signal != 0 && SignalAttention.Word == 0
                && s_delivery.TryDeliverNow(ref *call.Registers, FpArea(call.Frame), signal, Sig.SI_TKILL, (int)Self, 0))
                return 0;
            SigInfo info = SigInfo.FromProcess(signal, Sig.SI_TKILL, (int)Self, 0);
            if (tid != (long)Self) return Sender == null ? -Errno.ESRCH : Sender(tid, signal, ref info);
            return Send(tid, signal, ref info);
        }

        public static long RtSigqueueinfo(ref LinuxCall call)
        {
            long target = (int)call.A0;
            int signal = (int)call.A1;
            if (signal != 0 && !Sig.Valid(signal)) return -Errno.EINVAL;
            byte* bytes = stackalloc byte[SigInfo.Size];
            if (!UserPointers.CopyIn(bytes, call.A2, SigInfo.Size)) return -Errno.EFAULT;
            SigInfo info = SignalFrame.ReadSiginfo(bytes);
            info.Signo = signal;
            // Linux: only SI_QUEUE-like (negative, not SI_TKILL) codes may be forged towards another process.
            if ((info.Code >= 0 || info.Code == Sig.SI_TKILL) && target != (long)Self) return -Errno.EPERM;
            if (target <= 0) return -Errno.ESRCH;
            return Send(target, signal, ref info);
        }
    }
}
