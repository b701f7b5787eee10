// Delivering pending signals into an interrupted register state, as pure logic (the host tests
// compile this file unchanged; Signals.cs gives it the program's memory check and the actions
// that end or stop the process):
//   - every deliverable signal in turn (SignalState.Take): ignored ones dropped, default actions
//     run (Terminate/Stop callbacks), caught ones framed on the stack one on top of the other
//     (the last framed runs first), as Linux's exit-to-user loop does;
//   - a system call that returned -ERESTART* is restarted (RIP back over `syscall`, RAX = its
//     number) or answers -EINTR, by Linux's rules, decided at the first handler; with no
//     handler it restarts;
//   - the mask sigsuspend replaced (SavedMask) goes into the first frame's uc_sigmask, or back
//     into Blocked when no handler ran;
//   - TryDeliverFast: the same result in one pass for the common case (one deliverable standard
//     signal, caught, no alternate stack, no restart, no saved mask), or false and no change.
// Invariant: a frame is written only after Writable said the whole range [frame, FP area end) is
// the program's writable memory; a frame that cannot be placed calls FrameFailed (which ends
// the process in the libOS) and changes nothing else.
using System.Runtime.CompilerServices;
using System;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    public sealed unsafe class SignalDelivery
    {
        public const int ERESTARTSYS = 512, ERESTARTNOINTR = 513, ERESTARTNOHAND = 514, ERESTART_RESTARTBLOCK = 516;

        public readonly SignalState State;
        /// <summary>Whether [address, address + length) is program memory the libOS may write.</summary>
        public Func<ulong, ulong, bool> Writable;
        /// <summary>Default action terminate/core (signal, its siginfo): ends the process in the libOS.</summary>
        public Action<int, SigInfo> Terminate;
        /// <summary>Default action stop: returns when the process is continued.</summary>
        public Action<int> Stop;
        /// <summary>A caught signal's frame cannot be built (signal, why, address): force_sigsegv.</summary>
        public Action<int, string, ulong> FrameFailed;

        /// <summary>The mask to restore after a sigsuspend-like wait (into the frame, or Blocked).</summary>
        public ulong SavedMask;
        public bool HasSavedMask;

        public SignalDelivery(SignalState state) => State = state;

        /// <summary>Whether a system call's result asks for a restart (-ERESTARTSYS .. -ERESTART_RESTARTBLOCK, not 515).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool IsRestartRequest(long result)
            => result <= -ERESTARTSYS && result >= -ERESTART_RESTARTBLOCK && result != -515;

        /// <summary>Delivers what is deliverable into regs (fxsave: the interrupted FP image, 512
        /// bytes, replaced by the handler's initial state when a handler is entered). current is
        /// RAX's value for the interrupted code (a system call's result); restart: current is a
        /// restart request of the call number. Returns RAX's new value.</summary>
        public long DeliverPending(ref UserRegisters regs, byte* fxsave, long current, bool restart, ulong number)
        {
            SignalState state = State;
            for (;;)
            {
                int signal = state.Take(state.Deliverable, out SigInfo info);
                if (signal == 0) break;
                SignalAction action = state.Actions[signal];
                if (action.Handler == Sig.SIG_IGN) continue;
                if (action.Handler == Sig.SIG_DFL)
                {
                    DefaultAction kind = Sig.Default(signal);
                    if (kind == DefaultAction.Stop) Stop(signal);
                    else if (kind == DefaultAction.Terminate || kind == DefaultAction.CoreDump) Terminate(signal, info);
                    continue; // ignored, continue (we run), or continued after a stop
                }
                long interrupted = current;
                ulong rip = regs.Rip;
                if (restart)
                {
                    long code = -current;
                    bool again = code == ERESTARTNOINTR || (code == ERESTARTSYS && (action.Flags & Sig.SA_RESTART) != 0);
                    if (again)
                    {
                        interrupted = (long)number;
                        rip -= 2;
                    }
                    else
                    {
                        interrupted = -Errno.EINTR;
                    }
                }
                regs.Rax = (ulong)interrupted;
                regs.Rip = rip;
                if (!DeliverOne(ref regs, fxsave, signal, in info))
                {
                    regs.Rax = (ulong)current;
                    return current;
                }
                restart = false;
                current = 0;
            }
            if (restart)
            {
                // No handler ran: the call starts again (Linux's "no handler" restart).
                current = (long)number;
                regs.Rip -= 2;
            }
            if (HasSavedMask)
            {
                HasSavedMask = false;
                state.SetBlocked(SavedMask);
            }
            return current;
        }

        /// <summary>The common case of DeliverPending, in one pass (docs/libos-unixish.md, "Signal
        /// fast path"): exactly one deliverable signal, a standard one, caught by a handler with
        /// SA_RESTORER and without SA_RESETHAND; no alternate stack set (AltSize 0, SS_DISABLE); no
        /// sigsuspend mask to put back; current not a restart request; the frame's whole range
        /// writable. Then it writes the same frame, registers and state DeliverPending would, and
        /// returns true (RAX's new value is 0); else false and nothing changed (the caller runs
        /// DeliverPending, which also reports what cannot be delivered).</summary>
        public bool TryDeliverFast(ref UserRegisters regs, byte* fxsave, long current)
        {
            SignalState state = State;
            ulong deliverable = state.Pending & ~state.Blocked;
            if (deliverable == 0 || (deliverable & (deliverable - 1)) != 0 || (deliverable & Sig.Standard) == 0
                || HasSavedMask || IsRestartRequest(current) || state.AltSize != 0 || state.AltFlags != Sig.SS_DISABLE)
                return false;
            int signal = Sig.Lowest(deliverable);
            ref SignalAction action = ref state.Actions[signal];
            if (!PlaceSimpleFrame(in action, regs.Rsp, out ulong at, out ulong fpState)) return false;
            ulong saved = state.Blocked;
            regs.Rax = (ulong)current;
            SignalFrame.WriteContext(at, fpState, in regs, action.Restorer, in state.StandardInfo(signal), saved, 0, Sig.SS_DISABLE, 0,
                (action.Flags & Sig.SA_SIGINFO) != 0);
            SignalFrame.SwitchFpToHandler(fxsave, fpState);
            SignalFrame.EnterHandler(ref regs, at, action.Handler, signal);
            state.TakeStandardAndBlock(signal, BlockedInHandler(in action, signal, saved));
            return true;
        }

        /// <summary>The one-pass deliveries' frame (TryDeliverFast, TryDeliverNow): the action is a
        /// handler with SA_RESTORER and without SA_RESETHAND, and the frame below sp's red zone (no
        /// alternate stack) is writable; at and fpState as SignalFrame.Place gives them.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private bool PlaceSimpleFrame(in SignalAction action, ulong sp, out ulong at, out ulong fpState)
        {
            at = fpState = 0;
            if (action.Handler <= Sig.SIG_IGN || (action.Flags & (Sig.SA_RESTORER | Sig.SA_RESETHAND)) != Sig.SA_RESTORER)
                return false;
            ulong top = sp - SignalFrame.RedZone;
            if (top > sp) return false;
            at = SignalFrame.Place(top, out fpState);
            return Writable(at, fpState + SignalFrame.FpStateSize - at);
        }

        /// <summary>The mask a handler runs with (Linux's signal_delivered): the interrupted one,
        /// sa_mask, and the signal itself unless SA_NODEFER.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static ulong BlockedInHandler(in SignalAction action, int signal, ulong saved)
        {
            ulong blocked = saved | action.Mask;
            if ((action.Flags & Sig.SA_NODEFER) == 0) blocked |= Sig.Bit(signal);
            return blocked;
        }

        /// <summary>Signals that TryDeliverNow may deliver: standard, neither SIGCONT nor a stop
        /// signal (posting those changes other pending signals), nor SIGKILL (never caught).</summary>
        public const ulong DirectSignals = Sig.Standard & ~Sig.StopSignals & ~(1UL << (Sig.SIGCONT - 1)) & ~(1UL << (Sig.SIGKILL - 1));

        /// <summary>kill/tkill of this process by itself (docs/libos-unixish.md, "Signal fast
        /// path"): when nothing is deliverable and the signal is a DirectSignals one, not blocked,
        /// caught as TryDeliverFast requires (SA_RESTORER, no SA_RESETHAND, no alternate stack, no
        /// sigsuspend mask), its handler is entered at once — the same frame (siginfo code, pid;
        /// uid 0), registers and state as posting it (SignalState.PostFromProcess) and delivering
        /// it at the call's return with result current (TryDeliverFast) — and it is never pending.
        /// The state change only adds to Blocked, which cannot make anything deliverable, so
        /// Changed is not called. False and nothing changed otherwise (the caller posts it). The
        /// libOS calls it only when nothing else wants attention at the return (no timer armed,
        /// no message noted: SignalAttention.Word is 0).</summary>
        public bool TryDeliverNow(ref UserRegisters regs, byte* fxsave, int signal, int code, int pid, long current)
        {
            SignalState state = State;
            ulong bit = Sig.Bit(signal);
            if ((state.Pending & ~state.Blocked) != 0 || ((state.Blocked | ~DirectSignals) & bit) != 0
                || HasSavedMask || IsRestartRequest(current) || state.AltSize != 0 || state.AltFlags != Sig.SS_DISABLE)
                return false;
            ref SignalAction action = ref state.Actions[signal];
            if (!PlaceSimpleFrame(in action, regs.Rsp, out ulong at, out ulong fpState)) return false;
            ulong saved = state.Blocked;
            regs.Rax = (ulong)current;
            SignalFrame.WriteUcontext(at, fpState, in regs, action.Restorer, saved, 0, Sig.SS_DISABLE, 0, 0, 0, 0);
            if ((action.Flags & Sig.SA_SIGINFO) != 0) SignalFrame.WriteProcessSiginfo((byte*)at + SignalFrame.SiginfoOffset, signal, code, pid);
            SignalFrame.SwitchFpToHandler(fxsave, fpState);
            SignalFrame.EnterHandler(ref regs, at, action.Handler, signal);
            state.BlockWithoutNotice(BlockedInHandler(in action, signal, saved));
            return true;
        }

        /// <summary>Frames one caught signal and points regs at its handler; false (after
        /// FrameFailed) when the frame cannot be built.</summary>
        public bool DeliverOne(ref UserRegisters regs, byte* fxsave, int signal, in SigInfo info)
        {
            SignalState state = State;
            SignalAction action = state.Actions[signal];
            if ((action.Flags & Sig.SA_RESTORER) == 0)
            {
                FrameFailed(signal, "the handler has no SA_RESTORER (x86-64 needs one)", 0);
                return false;
            }
            ulong sp = regs.Rsp;
            bool onAlt = state.OnAltStack(sp);
            bool useAlt = (action.Flags & Sig.SA_ONSTACK) != 0 && state.AltSize != 0 && !onAlt;
            ulong top = useAlt ? state.AltBase + state.AltSize : sp - SignalFrame.RedZone;
            if (!useAlt && top > sp)
            {
                FrameFailed(signal, "the stack pointer wraps", sp);
                return false;
            }
            ulong at = SignalFrame.Place(top, out ulong fpState);
            ulong end = fpState + SignalFrame.FpStateSize;
            if (at > top || ((useAlt || onAlt) && at < state.AltBase))
            {
                FrameFailed(signal, "the alternate stack is too small", at);
                return false;
            }
            if (!Writable(at, end - at))
            {
                FrameFailed(signal, "the stack is not writable", at);
                return false;
            }
            ulong saved = HasSavedMask ? SavedMask : state.Blocked;
            HasSavedMask = false;
            SignalFrame.WriteContext(at, fpState, in regs, action.Restorer, in info, saved, state.AltBase, state.AltFlags, state.AltSize,
                (action.Flags & Sig.SA_SIGINFO) != 0);
            SignalFrame.SwitchFpToHandler(fxsave, fpState);
            if ((state.AltFlags & unchecked((int)Sig.SS_AUTODISARM)) != 0)
            {
                state.AltBase = 0;
                state.AltSize = 0;
                state.AltFlags = Sig.SS_DISABLE;
            }
            SignalFrame.EnterHandler(ref regs, at, action.Handler, signal);
            state.Delivered(signal);
            return true;
        }

        /// <summary>rt_sigreturn's logic on the ucontext at uc (the caller checked it readable, and
        /// fpReadable checks the FP image): regs, the FP image into fxsave, the mask, uc_stack.
        /// False when the FP image is unreadable (the caller ends the process).</summary>
        public bool Sigreturn(ref UserRegisters regs, byte* fxsave, Func<ulong, bool> fpReadable)
        {
            ulong uc = regs.Rsp;
            SignalFrame.Restore(uc, ref regs, out ulong mask, out ulong fpState);
            if (fpState == 0)
                SignalFrame.WriteInitialFpState(fxsave);
            else if (fpReadable(fpState))
                SignalFrame.RestoreFp(fxsave, (byte*)fpState);
            else
                return false;
            // uc_stack: as Linux's restore_altstack, errors other than a bad address are ignored
            // (the stack the frame recorded, unchanged: nothing to set).
            ulong* stack = (ulong*)(uc + SignalFrame.UcStack);
            SignalState state = State;
            if (stack[0] != state.AltBase || (int)(uint)stack[1] != state.AltFlags || stack[2] != state.AltSize)
                state.SetAltStack(regs.Rsp, stack[0], (int)(uint)stack[1], stack[2]);
            State.SetBlocked(mask);
            HasSavedMask = false;
            return true;
        }
    }
}
