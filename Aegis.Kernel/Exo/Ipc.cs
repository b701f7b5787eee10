// Protected control transfer. IpcCall runs the target's upcall entry at once, on the rest of
// the caller's slice, with four words of message (and optionally a page: its frame is granted
// to the target, which maps it where it likes); the caller blocks until IpcReply, whose two
// words become the results of the call: the status apart from the data (RAX 0, reply word 0 in
// RDX, reply word 1 in RSI), so every reply word is data, a negative one included. An error
// (RAX < 0) means no reply came. IpcSend delivers the same upcall without waiting.
// A target blocked in Wait receives a message at once. An IpcSend without a page to a target not
// in Wait is kept for it (Exo/Notifications.cs: delivered at its next Wait, or interrupting it if
// it asked for asynchronous delivery; WouldBlock when its ring of kept messages is full); an
// IpcCall or a page needs the target in Wait (WouldBlock otherwise: the sender retries), so no
// environment is interrupted by IPC it did not ask for. A
// target that is stopped, dead or without an upcall entry refuses with BadEnvironment;
// nothing changes.
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class Ipc
    {
        /// <summary>Loads the registers the IPC upcall interrupted (a Wait) from its frame on the
        /// upcall stack, as the libOS trampoline would: every general register, RIP, RSP and RFLAGS of
        /// the saved state are written. False (nothing changed) if the frame can no longer be read or
        /// does not hold a resumable user state.</summary>
        private static bool ResumeInterruptedWait(Environment replier)
        {
            ulong address = replier.IpcWaitFrame + UpcallFrame.RegistersOffset;
            if ((address & 4095) > 4096 - (ulong)sizeof(UserRegisters))
                return ResumeStraddling(replier, address);
            // The common case: the saved registers lie in one page; read them in place (no copy of
            // the whole block first: the fields go straight into the saved frame).
            ulong* leaf = PageWalk.UserLeaf(replier, address, false);
            if (leaf == null) return false;
            return Resume(replier, (UserRegisters*)(KernelMemory.DirectMapBase + (*leaf & PageBits.FrameMask) + (address & 4095)));
        }

        /// <summary>The saved registers straddle a page boundary: read them through the page tables.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool ResumeStraddling(Environment replier, ulong address)
        {
            UserRegisters copy;
            if (!UserMemory.TryRead(replier, address, new System.Span<byte>(&copy, sizeof(UserRegisters))))
                return false;
            return Resume(replier, &copy);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool Resume(Environment replier, UserRegisters* registers)
        {
            ulong rip = registers->Rip, rsp = registers->Rsp;
            if (!UserMemory.IsUserRange(rip, 1) || !UserMemory.IsUserRange(rsp, 0))
                return false;
            InterruptFrame* saved = replier.Frame;
            saved->R15 = registers->R15; saved->R14 = registers->R14; saved->R13 = registers->R13; saved->R12 = registers->R12;
            saved->R11 = registers->R11; saved->R10 = registers->R10; saved->R9 = registers->R9; saved->R8 = registers->R8;
            saved->Rbp = registers->Rbp; saved->Rdi = registers->Rdi; saved->Rsi = registers->Rsi; saved->Rdx = registers->Rdx;
            saved->Rcx = registers->Rcx; saved->Rbx = registers->Rbx; saved->Rax = 0;
            saved->Rip = rip; saved->Rsp = rsp;
            saved->Rflags = (registers->Rflags & 0xCD5) | 0x202; // arithmetic flags kept; IF on, no IOPL/TF
            return true;
        }

        private static ulong Fail(Error error) => unchecked((ulong)(long)error);
        public static ulong Call(Environment caller, InterruptFrame* frame, ulong targetId, ulong w0, ulong w1, ulong w2, ulong w3, ulong pageAddress)
            => Transfer(caller, frame, targetId, w0, w1, w2, w3, pageAddress, true);

        /// <summary>IpcSend. IpcSendFlags are given as the page argument (without a page); any
        /// other unaligned value fails the page's check in Transfer (InvalidArgument).</summary>
        public static ulong Send(Environment caller, InterruptFrame* frame, ulong targetId, ulong w0, ulong w1, ulong w2, ulong w3, ulong pageAddress)
        {
            bool continues = pageAddress == IpcSendFlags.SenderContinues;
            s_senderContinues = continues;
            return Transfer(caller, frame, targetId, w0, w1, w2, w3, continues ? 0 : pageAddress, false);
        }

        /// <summary>This IpcSend's IpcSendFlags.SenderContinues, for Transfer's send branch: a
        /// static, not a parameter, so IpcCall's fast path carries nothing for it (a parameter cost
        /// ipc_roundtrip 7-12 instructions). The kernel runs one system call at a time; every
        /// Send sets it.</summary>
        private static bool s_senderContinues;

        private static ulong Transfer(Environment caller, InterruptFrame* frame, ulong targetId, ulong w0, ulong w1, ulong w2, ulong w3, ulong pageAddress, bool synchronous)
        {
            Environment target = Environments.Find(targetId);
            if (target == null || target == caller || target.State == EnvironmentState.Stopped)
                return Fail(Error.BadEnvironment);
            if (target.UpcallEntry == 0)
                return Fail(Error.BadEnvironment);
            // Only an environment that asked for messages (it is blocked in Wait, or it turned on
            // asynchronous delivery) receives one: any other is never interrupted by another's IPC.
            if (target.PendingCaller != 0 || target.State != EnvironmentState.Blocked || target.Blocked != BlockReason.Waiting)
            {
                // Not in Wait: a plain IpcSend is kept for it (Notifications; WouldBlock when its ring
                // is full); a call or a page still needs it in Wait.
                if (synchronous || pageAddress != 0) return Fail(Error.WouldBlock);
                ulong kept = Notifications.Keep(caller, target, w0, w1, w2, w3);
                if (!caller.IsAlive) Scheduler.LeaveToLoop(); // the caller descended from a target destroyed for a bad upcall
                return kept;
            }
            ulong frameNumber = UpcallFrame.NoFrame;
            bool writable = false;
            if (pageAddress != 0)
            {
                if ((pageAddress & 4095) != 0 || !UserMemory.IsUserRange(pageAddress, 4096))
                    return Fail(Error.InvalidArgument);
                if (!caller.Tables.TryTranslate(pageAddress, out ulong physical, out PageFlags flags) || (flags & PageFlags.User) == 0)
                    return Fail(Error.BadAddress);
                frameNumber = physical / 4096;
                if (Environments.Ledger.OwnerOf(frameNumber) != caller.Id)
                    return Fail(Error.NotOwner);
                writable = (flags & PageFlags.Writable) != 0;
                // The grant behind the page is made below and must not fail then: check it now.
                // No grant left (the caller's account quota or the kernel's pool) refuses the send.
                if (!Environments.Ledger.IsGrantedTo(frameNumber, target.Id, out _))
                {
                    Error grantError = Accounts.CheckGrant(caller);
                    if (grantError == Error.None && Environments.Ledger.GrantCount >= Environments.Ledger.MaximumGrants)
                        grantError = Error.NoMemory;
                    if (grantError != Error.None)
                    {
                        caller.PageSendsRefused++;
                        return Fail(grantError);
                    }
                }
            }

            bool interruptsWait = target.State == EnvironmentState.Blocked && target.Blocked == BlockReason.Waiting;
            if (interruptsWait)
            {
                target.Frame->Rax = 0;
                target.Blocked = BlockReason.None;
                target.State = EnvironmentState.Runnable;
            }
            string problem = Upcalls.Deliver(target, target.Frame, synchronous ? UpcallKind.IpcCall : UpcallKind.IpcSend,
                0, 0, 0, caller.Id, w0, w1, w2, w3, frameNumber);
            if (problem != null)
            {
                Diagnostics.TextBuffer why = Diagnostics.ReportBuffers.Death;
                why.Clear();
                why.Append("destroyed: cannot deliver an IPC upcall: ");
                why.Append(problem);
                why.Append(" (0x");
                why.AppendHex(Upcalls.ProblemAddress);
                why.Append(')');
                Environments.DestroyReporting(target, EnvironmentState.Destroyed, DestroyReason.BadUpcall, 0, why);
                if (!caller.IsAlive)
                    Scheduler.LeaveToLoop(); // the caller descended from the target: it ended with it
                return Fail(Error.BadEnvironment);
            }
            target.IpcWaitFrame = interruptsWait ? target.Frame->Rsp : 0;
            if (frameNumber != UpcallFrame.NoFrame)
            {
                Environments.Ledger.Grant(frameNumber, caller.Id, target.Id, writable, caller.Account == null ? 0 : caller.Account.Index);
                target.PagesReceived++;
                byte* head = (byte*)KernelMemory.PhysicalToVirtual(frameNumber * 4096);
                for (int i = 0; i < Environment.ReceivedPageHeadBytes; i++) target.ReceivedPageHead[i] = head[i];
            }
            target.IpcMessagesReceived++;
            // FAST PATH (docs/kernel.md): straight to the target, not through the scheduler's slice search.
            Scheduler.DirectTo(target);
            frame->Rax = 0;
            if (synchronous)
            {
                Scheduler.Save(caller, frame, false);
                target.PendingCaller = caller.Id;
                caller.CallTarget = target.Id;
                caller.State = EnvironmentState.Blocked;
                caller.Blocked = BlockReason.AwaitingReply;
            }
            else
            {
                if (s_senderContinues)
                    return 0; // the target runs when the sender next stops (its Wait, Yield or slice end)
                Scheduler.Save(caller, frame, false);
                caller.State = EnvironmentState.Runnable;
            }
            // The target runs now, on the rest of the caller's slice, without a trip through the loop.
            Scheduler.SwitchDirect(target);
            return 0;
        }

        public static ulong Reply(Environment replier, InterruptFrame* frame, ulong w0, ulong w1, ulong flags, ulong deadline)
        {
            if (flags > IpcReplyFlags.AndWaitUntil)
                return Fail(Error.InvalidArgument);
            Environment caller = Environments.Find(replier.PendingCaller);
            if (caller == null || caller.Blocked != BlockReason.AwaitingReply || caller.CallTarget != replier.Id)
            {
                replier.PendingCaller = 0;
                return Fail(Error.BadEnvironment);
            }
            replier.PendingCaller = 0;
            // The status (RAX 0) apart from the data: the reply words go in RDX and RSI.
            Scheduler.Wake(caller, 0, w0);
            caller.Frame->Rsi = w1;
            Scheduler.DirectTo(caller);
            replier.State = EnvironmentState.Runnable;
            // FAST PATH (docs/kernel.md): reply-and-wait resumes the Wait the IPC upcall interrupted, in place.
            if (flags == IpcReplyFlags.None || replier.IpcWaitFrame == 0 || !ResumeInterruptedWait(replier))
            {
                // The replier resumes after this call (ResumeInterruptedWait, when it succeeds, has
                // written every register of the saved state itself: no copy of this frame first).
                frame->Rax = 0;
                Scheduler.Save(replier, frame, false);
            }
            else
            {
                // The upcall is over: the replier is back in the Wait it was in, blocked, so the
                // next message is delivered at once (no refused call, no yield, no new Wait) —
                // unless a wakeup is pending (a revocation came during the handler): then that
                // Wait returns 0 at once, as a new Wait would. AndWaitUntil gives that Wait a new
                // deadline first (a passed one: it returns DeadlinePassed at once).
                if (flags == IpcReplyFlags.AndWaitUntil && !Notifications.Rearm(replier, deadline))
                    replier.Frame->Rax = WaitResult.DeadlinePassed;
                else if (replier.WakeupPending)
                    replier.WakeupPending = false;
                else
                {
                    replier.State = EnvironmentState.Blocked;
                    replier.Blocked = BlockReason.Waiting;
                }
            }
            replier.IpcWaitFrame = 0;
            Scheduler.SwitchDirect(caller);
            return 0;
        }
    }
}
