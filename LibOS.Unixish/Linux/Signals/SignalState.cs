// One Linux process's signal state, as pure logic (no program memory, no kernel calls: the host
// tests compile this file unchanged): the dispositions (struct k_sigaction), the blocked mask,
// the pending set with each pending signal's siginfo, the alternate signal stack, and the
// choice of the next signal to deliver. Signals.cs is the libOS side (system calls, delivery,
// timers); SignalFrame.cs the rt_sigframe layout.
//
// Sets are Linux's 64-bit sigset_t: signal N is bit N - 1 (signals 1..64).
// Invariants:
//   - SIGKILL and SIGSTOP are never blocked, never ignored, never caught;
//   - a standard signal (1..31) is pending at most once (a second one coalesces, its siginfo
//     dropped, as on Linux); a real-time signal (32..64) queues up to RealtimeDepth instances
//     in order, the first one never lost;
//   - a signal whose action is "ignore" (SIG_IGN, or SIG_DFL for a default-ignore signal) is
//     discarded when posted, unless blocked (then it waits, as on Linux: the action may change
//     before it is unblocked), and pending instances are discarded when the action becomes
//     "ignore";
//   - Take hands out the synchronous signals (SEGV, BUS, ILL, TRAP, FPE, SYS) first, then the
//     lowest number (Linux's next_signal);
//   - Changed is called after every change of Pending or Blocked (the delivery check word).
using System.Runtime.CompilerServices;
namespace Aegis.LibOS.Unixish.Linux
{
    /// <summary>Linux x86-64 signal numbers, flags and codes (asm/signal.h, asm-generic/siginfo.h).</summary>
    public static class Sig
    {
        public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8,
            SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15, SIGSTKFLT = 16,
            SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22, SIGURG = 23, SIGXCPU = 24,
            SIGXFSZ = 25, SIGVTALRM = 26, SIGPROF = 27, SIGWINCH = 28, SIGIO = 29, SIGPWR = 30, SIGSYS = 31;
        /// <summary>The first real-time signal (the kernel's; glibc keeps 32 and 33 for itself).</summary>
        public const int SIGRTMIN = 32;
        /// <summary>The highest signal number (_NSIG).</summary>
        public const int Count = 64;

        public const ulong SIG_DFL = 0, SIG_IGN = 1;

        public const ulong SA_NOCLDSTOP = 0x1, SA_NOCLDWAIT = 0x2, SA_SIGINFO = 0x4, SA_RESTORER = 0x04000000,
            SA_ONSTACK = 0x08000000, SA_RESTART = 0x10000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000;

        public const int SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;

        // sigaltstack
        public const int SS_ONSTACK = 1, SS_DISABLE = 2;
        public const uint SS_AUTODISARM = 1u << 31;
        public const ulong MINSIGSTKSZ = 2048;

        // si_code
        public const int SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TIMER = -2, SI_MESGQ = -3, SI_ASYNCIO = -4,
            SI_SIGIO = -5, SI_TKILL = -6;
        public const int ILL_ILLOPC = 1, ILL_ILLOPN = 2, FPE_INTDIV = 1, FPE_INTOVF = 2, FPE_FLTDIV = 3, FPE_FLTOVF = 4,
            FPE_FLTUND = 5, FPE_FLTRES = 6, FPE_FLTINV = 7, SEGV_MAPERR = 1, SEGV_ACCERR = 2, BUS_ADRALN = 1,
            TRAP_BRKPT = 1, TRAP_TRACE = 2, CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_TRAPPED = 4,
            CLD_STOPPED = 5, CLD_CONTINUED = 6;

        /// <summary>The set holding signal (1..64).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Bit(int signal) => 1UL << (signal - 1);

        /// <summary>The standard signals 1..31.</summary>
        public const ulong Standard = (1UL << (SIGRTMIN - 1)) - 1;

        /// <summary>The lowest signal in a nonempty set (a binary search, no loop over the bits).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static int Lowest(ulong set)
        {
            int signal = 1;
            if ((set & 0xFFFF_FFFF) == 0) { set >>= 32; signal += 32; }
            if ((set & 0xFFFF) == 0) { set >>= 16; signal += 16; }
            if ((set & 0xFF) == 0) { set >>= 8; signal += 8; }
            if ((set & 0xF) == 0) { set >>= 4; signal += 4; }
            if ((set & 0x3) == 0) { set >>= 2; signal += 2; }
            if ((set & 0x1) == 0) signal += 1;
            return signal;
        }

        public static bool Valid(int signal) => signal >= 1 && signal <= Count;

        /// <summary>What cannot be blocked, caught or ignored.</summary>
        public const ulong Unblockable = (1UL << (SIGKILL - 1)) | (1UL << (SIGSTOP - 1));

        /// <summary>Linux's SYNCHRONOUS_MASK: delivered before any other pending signal.</summary>
        public const ulong Synchronous = (1UL << (SIGSEGV - 1)) | (1UL << (SIGBUS - 1)) | (1UL << (SIGILL - 1))
            | (1UL << (SIGTRAP - 1)) | (1UL << (SIGFPE - 1)) | (1UL << (SIGSYS - 1));

        public const ulong StopSignals = (1UL << (SIGSTOP - 1)) | (1UL << (SIGTSTP - 1)) | (1UL << (SIGTTIN - 1)) | (1UL << (SIGTTOU - 1));

        /// <summary>The default action (man 7 signal).</summary>
        public static DefaultAction Default(int signal)
        {
            switch (signal)
            {
                case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV:
                case SIGXCPU: case SIGXFSZ: case SIGSYS:
                    return DefaultAction.CoreDump;
                case SIGCHLD: case SIGURG: case SIGWINCH:
                    return DefaultAction.Ignore;
                case SIGCONT:
                    return DefaultAction.Continue;
                case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
                    return DefaultAction.Stop;
                default:
                    return DefaultAction.Terminate;
            }
        }

        /// <summary>The status wait4 reports for a process killed by signal (core bit 0x80 for core-dumping signals).</summary>
        public static int KilledWaitStatus(int signal) => signal | (Default(signal) == DefaultAction.CoreDump ? 0x80 : 0);
        /// <summary>The status wait4 (WUNTRACED) reports for a process stopped by signal.</summary>
        public static int StoppedWaitStatus(int signal) => (signal << 8) | 0x7F;
        /// <summary>The status wait4 (WCONTINUED) reports for a continued process.</summary>
        public const int ContinuedWaitStatus = 0xFFFF;

        public static string Name(int signal)
        {
            switch (signal)
            {
                case SIGHUP: return "SIGHUP"; case SIGINT: return "SIGINT"; case SIGQUIT: return "SIGQUIT";
                case SIGILL: return "SIGILL"; case SIGTRAP: return "SIGTRAP"; case SIGABRT: return "SIGABRT";
                case SIGBUS: return "SIGBUS"; case SIGFPE: return "SIGFPE"; case SIGKILL: return "SIGKILL";
                case SIGUSR1: return "SIGUSR1"; case SIGSEGV: return "SIGSEGV"; case SIGUSR2: return "SIGUSR2";
                case SIGPIPE: return "SIGPIPE"; case SIGALRM: return "SIGALRM"; case SIGTERM: return "SIGTERM";
                case SIGSTKFLT: return "SIGSTKFLT"; case SIGCHLD: return "SIGCHLD"; case SIGCONT: return "SIGCONT";
                case SIGSTOP: return "SIGSTOP"; case SIGTSTP: return "SIGTSTP"; case SIGTTIN: return "SIGTTIN";
                case SIGTTOU: return "SIGTTOU"; case SIGURG: return "SIGURG"; case SIGXCPU: return "SIGXCPU";
                case SIGXFSZ: return "SIGXFSZ"; case SIGVTALRM: return "SIGVTALRM"; case SIGPROF: return "SIGPROF";
                case SIGWINCH: return "SIGWINCH"; case SIGIO: return "SIGIO"; case SIGPWR: return "SIGPWR";
                case SIGSYS: return "SIGSYS";
                default: return signal >= SIGRTMIN && signal <= Count ? "SIGRT" + (signal - SIGRTMIN).ToString() : "signal " + signal.ToString();
            }
        }
    }

    public enum DefaultAction { Terminate, CoreDump, Ignore, Stop, Continue }

    /// <summary>struct k_sigaction as rt_sigaction reads and writes it (32 bytes).</summary>
    public struct SignalAction
    {
        public ulong Handler;   // 0: SIG_DFL, SIG_IGN or the handler's address
        public ulong Flags;     // 8: SA_*
        public ulong Restorer;  // 16
        public ulong Mask;      // 24: 8-byte sigset_t
        public const int Size = 32;
    }

    /// <summary>A signal's siginfo, in the fields it may carry; SignalFrame writes the Linux
    /// siginfo_t (128 bytes) from it by Linux's layout rules (siginfo_layout).</summary>
    public struct SigInfo
    {
        public int Signo, Errno, Code;
        public int Pid;
        public uint Uid;
        /// <summary>SIGCHLD: si_status; SI_TIMER: si_overrun.</summary>
        public int Status;
        /// <summary>Faults: si_addr.</summary>
        public ulong Address;
        /// <summary>sigqueue's si_value (SI_QUEUE, SI_TIMER, ...).</summary>
        public ulong Value;
        /// <summary>SIGCHLD: si_utime, si_stime (clock ticks).</summary>
        public long UserTime, SystemTime;
        /// <summary>Faults: the trap number and error code for the sigcontext (not in siginfo_t).</summary>
        public ulong Trap, ErrorCode;

        public const int Size = 128;

        /// <summary>A kill/tgkill/raise from process pid.</summary>
        public static SigInfo FromProcess(int signal, int code, int pid, uint uid)
        {
            var info = default(SigInfo);
            info.Signo = signal; info.Code = code; info.Pid = pid; info.Uid = uid;
            return info;
        }

        /// <summary>Sent by the kernel (Linux's SEND_SIG_PRIV: si_code SI_KERNEL, nothing else).</summary>
        public static SigInfo FromKernel(int signal)
        {
            var info = default(SigInfo);
            info.Signo = signal; info.Code = Sig.SI_KERNEL;
            return info;
        }
    }

    public sealed class SignalState
    {
        /// <summary>How many instances of one real-time signal may wait (Linux: RLIMIT_SIGPENDING in all).</summary>
        public const int RealtimeDepth = 16;

        public readonly SignalAction[] Actions = new SignalAction[Sig.Count + 1];
        /// <summary>The blocked mask (never holds SIGKILL or SIGSTOP).</summary>
        public ulong Blocked;
        /// <summary>The pending set (a real-time signal's bit: at least one queued).</summary>
        public ulong Pending;

        private readonly SigInfo[] _standard = new SigInfo[Sig.SIGRTMIN];
        private readonly SigInfo[] _realtime = new SigInfo[(Sig.Count - Sig.SIGRTMIN + 1) * RealtimeDepth];
        private readonly int[] _realtimeHead = new int[Sig.Count - Sig.SIGRTMIN + 1];
        private readonly int[] _realtimeCount = new int[Sig.Count - Sig.SIGRTMIN + 1];

        /// <summary>The alternate stack (sigaltstack): base, size, and the flags it was set with
        /// (SS_DISABLE when there is none; SS_AUTODISARM kept).</summary>
        public ulong AltBase, AltSize;
        public int AltFlags = Sig.SS_DISABLE;

        /// <summary>Set when SIGCONT was posted (whatever its action): ends a stop.</summary>
        public bool ContinueRequested;

        /// <summary>Instances dropped because a real-time queue was full.</summary>
        public long Dropped;

        /// <summary>Called after every change of Pending or Blocked.</summary>
        public System.Action Changed;

        /// <summary>Pending and not blocked.</summary>
        public ulong Deliverable => Pending & ~Blocked;

        private void Notify() => Changed?.Invoke();

        /// <summary>Whether signal's action is to ignore it (SIG_IGN, or SIG_DFL of a default-ignore signal).</summary>
        public bool IsIgnored(int signal)
        {
            ulong handler = Actions[signal].Handler;
            if (handler == Sig.SIG_IGN) return true;
            // Linux's sig_kernel_ignore: SIGCONT's default (continue) counts as ignoring it here.
            return handler == Sig.SIG_DFL && (Sig.Default(signal) == DefaultAction.Ignore || signal == Sig.SIGCONT);
        }

        /// <summary>rt_sigaction's logic: 0 or -EINVAL. old gets the action before.</summary>
        public int SetAction(int signal, bool set, in SignalAction action, out SignalAction old)
        {
            old = default;
            if (!Sig.Valid(signal)) return -Errno.EINVAL;
            old = Actions[signal];
            if (!set) return 0;
            if ((Sig.Bit(signal) & Sig.Unblockable) != 0) return -Errno.EINVAL;
            SignalAction changed = action;
            changed.Mask &= ~Sig.Unblockable;
            Actions[signal] = changed;
            if (IsIgnored(signal) && (Pending & Sig.Bit(signal)) != 0)
            {
                Discard(signal);
                Notify();
            }
            return 0;
        }

        /// <summary>rt_sigprocmask's logic: 0 or -EINVAL (old = the mask before).</summary>
        public int ChangeMask(int how, bool set, ulong mask, out ulong old)
        {
            old = Blocked;
            if (!set) return 0;
            ulong blocked;
            switch (how)
            {
                case Sig.SIG_BLOCK: blocked = Blocked | mask; break;
                case Sig.SIG_UNBLOCK: blocked = Blocked & ~mask; break;
                case Sig.SIG_SETMASK: blocked = mask; break;
                default: return -Errno.EINVAL;
            }
            SetBlocked(blocked);
            return 0;
        }

        public void SetBlocked(ulong mask)
        {
            Blocked = mask & ~Sig.Unblockable;
            Notify();
        }

        /// <summary>Makes the signal pending (Linux's send_signal/__send_signal): false when it was
        /// discarded (ignored and not blocked, a standard signal already pending, a full real-time
        /// queue). A stop signal discards a pending SIGCONT and SIGCONT discards pending stop signals.</summary>
        public bool Post(in SigInfo info)
        {
            int signal = info.Signo;
            if (!Sig.Valid(signal)) return false;
            ulong bit = Sig.Bit(signal);
            if (signal == Sig.SIGCONT)
            {
                ContinueRequested = true;
                for (int s = Sig.SIGSTOP; s <= Sig.SIGTTOU; s++)
                    if ((Pending & Sig.Bit(s)) != 0) Discard(s);
            }
            else if ((bit & Sig.StopSignals) != 0 && (Pending & Sig.Bit(Sig.SIGCONT)) != 0)
            {
                Discard(Sig.SIGCONT);
            }
            bool queued = Enqueue(signal, bit, in info);
            Notify();
            return queued;
        }

        /// <summary>Post(SigInfo.FromProcess(signal, code, pid, 0)) without building and copying
        /// the siginfo for a standard signal that is neither SIGCONT nor a stop signal (those, and
        /// real-time signals, go through Post).</summary>
        public bool PostFromProcess(int signal, int code, int pid)
        {
            ulong bit = Sig.Bit(signal);
            if (signal >= Sig.SIGRTMIN || signal == Sig.SIGCONT || (bit & Sig.StopSignals) != 0)
                return PostBuilt(signal, code, pid);
            bool queued = false;
            if ((Pending & bit) == 0 && (Actions[signal].Handler > Sig.SIG_IGN || (Blocked & bit) != 0 || !IsIgnored(signal)))
            {
                ref SigInfo slot = ref _standard[signal];
                slot.Signo = signal;
                slot.Errno = 0;
                slot.Code = code;
                slot.Pid = pid;
                slot.Uid = 0;
                slot.Status = 0;
                slot.Address = 0;
                slot.Value = 0;
                slot.UserTime = 0;
                slot.SystemTime = 0;
                slot.Trap = 0;
                slot.ErrorCode = 0;
                Pending |= bit;
                queued = true;
            }
            Notify();
            return queued;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private bool PostBuilt(int signal, int code, int pid) => Post(SigInfo.FromProcess(signal, code, pid, 0));

        private bool Enqueue(int signal, ulong bit, in SigInfo info)
        {
            if ((Blocked & bit) == 0 && IsIgnored(signal)) return false;
            if (signal < Sig.SIGRTMIN)
            {
                if ((Pending & bit) != 0) return false;
                _standard[signal] = info;
                Pending |= bit;
                return true;
            }
            int queue = signal - Sig.SIGRTMIN;
            if (_realtimeCount[queue] == RealtimeDepth)
            {
                Dropped++;
                return false;
            }
            _realtime[queue * RealtimeDepth + (_realtimeHead[queue] + _realtimeCount[queue]) % RealtimeDepth] = info;
            _realtimeCount[queue]++;
            Pending |= bit;
            return true;
        }

        /// <summary>Drops every pending instance of signal.</summary>
        public void Discard(int signal)
        {
            Pending &= ~Sig.Bit(signal);
            if (signal >= Sig.SIGRTMIN)
            {
                _realtimeCount[signal - Sig.SIGRTMIN] = 0;
                _realtimeHead[signal - Sig.SIGRTMIN] = 0;
            }
        }

        /// <summary>The signal Take would hand out from set (0 if none): synchronous first, then the lowest.</summary>
        public static int Next(ulong set)
        {
            if (set == 0) return 0;
            ulong first = set & Sig.Synchronous;
            if (first != 0) set = first;
            return Sig.Lowest(set);
        }

        /// <summary>Removes the next pending signal of set (Deliverable for delivery, a sigtimedwait
        /// set for it) and its siginfo: its number, or 0 when none is pending there.</summary>
        public int Take(ulong set, out SigInfo info)
        {
            info = default;
            int signal = Next(Pending & set);
            if (signal == 0) return 0;
            ulong bit = Sig.Bit(signal);
            if (signal < Sig.SIGRTMIN)
            {
                info = _standard[signal];
                Pending &= ~bit;
            }
            else
            {
                int queue = signal - Sig.SIGRTMIN;
                info = _realtime[queue * RealtimeDepth + _realtimeHead[queue]];
                _realtimeHead[queue] = (_realtimeHead[queue] + 1) % RealtimeDepth;
                if (--_realtimeCount[queue] == 0)
                {
                    _realtimeHead[queue] = 0;
                    Pending &= ~bit;
                }
            }
            Notify();
            return signal;
        }

        /// <summary>The siginfo of a pending standard signal (1..31), in place (no copy).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ref SigInfo StandardInfo(int signal) => ref _standard[signal];

        /// <summary>The fast delivery's change of state (SignalDelivery.TryDeliverFast): takes the
        /// pending standard signal signal (its siginfo stays readable in StandardInfo until the next
        /// post) and sets the blocked mask, as Take and Delivered together; one Changed call.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void TakeStandardAndBlock(int signal, ulong blocked)
        {
            Pending &= ~Sig.Bit(signal);
            Blocked = blocked & ~Sig.Unblockable;
            Notify();
        }

        /// <summary>Sets the blocked mask to one that blocks at least what is blocked now, without
        /// calling Changed: blocking more never makes a signal deliverable (SignalDelivery.TryDeliverNow).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void BlockWithoutNotice(ulong blocked) => Blocked = blocked & ~Sig.Unblockable;

        /// <summary>How many instances of signal are pending (0 or 1 for a standard signal).</summary>
        public int PendingCount(int signal)
        {
            if (!Sig.Valid(signal) || (Pending & Sig.Bit(signal)) == 0) return 0;
            return signal < Sig.SIGRTMIN ? 1 : _realtimeCount[signal - Sig.SIGRTMIN];
        }

        /// <summary>What delivering a caught signal does to the state (Linux's signal_delivered):
        /// blocked |= sa_mask, plus the signal unless SA_NODEFER; SA_RESETHAND resets the action.</summary>
        public void Delivered(int signal)
        {
            SignalAction action = Actions[signal];
            ulong blocked = Blocked | action.Mask;
            if ((action.Flags & Sig.SA_NODEFER) == 0) blocked |= Sig.Bit(signal);
            if ((action.Flags & Sig.SA_RESETHAND) != 0)
                Actions[signal] = default;
            SetBlocked(blocked);
        }

        /// <summary>Whether sp is on the alternate stack (Linux's on_sig_stack; never with SS_AUTODISARM).</summary>
        public bool OnAltStack(ulong sp)
        {
            if ((AltFlags & unchecked((int)Sig.SS_AUTODISARM)) != 0) return false;
            return AltSize != 0 && sp - 1 - AltBase < AltSize;
        }

        /// <summary>sigaltstack's ss_flags for a caller at sp.</summary>
        public int AltStackFlags(ulong sp)
        {
            int flags = AltSize == 0 ? Sig.SS_DISABLE : OnAltStack(sp) ? Sig.SS_ONSTACK : 0;
            return flags | (AltFlags & unchecked((int)Sig.SS_AUTODISARM));
        }

        /// <summary>sigaltstack's logic for a new stack (do_sigaltstack): 0, -EPERM (on it now),
        /// -EINVAL (bad flags), -ENOMEM (smaller than MINSIGSTKSZ).</summary>
        public int SetAltStack(ulong sp, ulong stackBase, int flags, ulong size)
        {
            if (OnAltStack(sp)) return -Errno.EPERM;
            int mode = flags & ~unchecked((int)Sig.SS_AUTODISARM);
            if (mode != Sig.SS_DISABLE && mode != Sig.SS_ONSTACK && mode != 0) return -Errno.EINVAL;
            if (mode == Sig.SS_DISABLE)
            {
                stackBase = 0;
                size = 0;
            }
            else if (size < Sig.MINSIGSTKSZ)
            {
                return -Errno.ENOMEM;
            }
            AltBase = stackBase;
            AltSize = size;
            AltFlags = flags;
            return 0;
        }

        /// <summary>What execve keeps (POSIX): caught signals go back to SIG_DFL (ignored stay
        /// ignored, flags and masks cleared), the mask and pending set stay, no alternate stack.</summary>
        public void Exec()
        {
            for (int s = 1; s <= Sig.Count; s++)
            {
                if (Actions[s].Handler != Sig.SIG_IGN) Actions[s] = default;
                else Actions[s] = new SignalAction { Handler = Sig.SIG_IGN };
            }
            AltBase = 0;
            AltSize = 0;
            AltFlags = Sig.SS_DISABLE;
            Notify();
        }

        /// <summary>A fork's child: nothing pending (the actions, mask and alternate stack are inherited).</summary>
        public void Fork()
        {
            for (int s = 1; s <= Sig.Count; s++) Discard(s);
            ContinueRequested = false;
            Notify();
        }
    }
}
