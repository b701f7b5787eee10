// Notifications (issue #9, session 2): how an environment hears of things while it is not blocked
// in Wait, and Wait with a deadline. Mechanism only; what a message means is the libOS's business.
//  - Pending messages. An IpcSend (without a page) to an environment that is not in Wait is not
//    refused: it is kept in the target's fixed ring of IpcLimits.PendingMessages records
//    (Environment.PendingMessages, preallocated with the environment: nothing is allocated); a
//    full ring refuses with WouldBlock, as every send did before. A kept message is delivered, as
//    an IpcSend upcall, at the target's next Wait or WaitUntil (which then returns 0 at once after
//    the upcall: UpcallFrame.Trap = UpcallDelivery.IntoWait) — or, if the target asked for it
//    (NotifyControl, NotifyFlags.Asynchronous), as soon as it next runs in user mode, interrupting
//    whatever it runs (Trap = UpcallDelivery.Asynchronous): at once into its saved registers when
//    it is runnable, else at the end of the slice it runs in (an environment that was blocked in
//    an IpcCall; or its next Wait, whichever comes first). An asynchronous delivery also leaves a wakeup pending, so a
//    libOS that only notes the message in the upcall and acts on it later never sleeps through it.
//    IpcCall and sends with a page still need the target in Wait (WouldBlock otherwise).
//  - Child ends. With NotifyFlags.ChildEnded, the end of an environment it created (exit, destroy,
//    fault: anything but its own end taking the child with it) makes the creator's Wait return
//    WaitResult.ChildEnded: at once if it is blocked in Wait, else its next Wait. Coalesced (one
//    flag), so nothing can fill up.
//  - Deadlines. WaitUntil(deadline) blocks like Wait and returns WaitResult.DeadlinePassed once
//    the TSC has reached deadline. The timer tick compares the TSC with the earliest deadline of
//    any blocked WaitUntil (one comparison a tick); only when one passed does it scan the table.
// Invariants: 0 <= PendingCount <= IpcLimits.PendingMessages; a message is delivered at most once
// and in order of arrival; s_earliest is at most every WaitDeadline of an environment blocked in
// WaitUntil (it may be earlier: a stale value costs one scan); nothing here allocates.
using Aegis.Abi;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class Notifications
    {
        private static ulong s_earliest = ulong.MaxValue;

        private static ulong Fail(Error error) => unchecked((ulong)(long)error);

        /// <summary>NotifyControl(flags): the previous flags, or InvalidArgument.</summary>
        public static ulong Control(Environment caller, ulong flags)
        {
            if ((flags & ~NotifyFlags.All) != 0) return Fail(Error.InvalidArgument);
            ulong previous = caller.NotifyFlags;
            caller.NotifyFlags = flags;
            if ((flags & NotifyFlags.ChildEnded) == 0) caller.EndsPending &= unchecked((byte)~Environment.EndsPendingChild);
            if ((flags & NotifyFlags.OthersEnded) == 0) caller.EndsPending &= unchecked((byte)~Environment.EndsPendingOther);
            return previous;
        }

        /// <summary>IpcSend to a target not in Wait: keeps the message (WouldBlock when its ring is
        /// full); an asynchronous, runnable target gets it at once. 0, or an error.</summary>
        public static ulong Keep(Environment caller, Environment target, ulong w0, ulong w1, ulong w2, ulong w3)
        {
            if (target.PendingCount >= IpcLimits.PendingMessages) return Fail(Error.WouldBlock);
            int at = target.PendingHead + target.PendingCount;
            if (at >= IpcLimits.PendingMessages) at -= IpcLimits.PendingMessages;
            ulong* record = target.PendingMessages + at * Environment.PendingWords;
            record[0] = caller.Id; record[1] = w0; record[2] = w1; record[3] = w2; record[4] = w3;
            target.PendingCount++;
            target.MessagesQueued++;
            if ((target.NotifyFlags & NotifyFlags.Asynchronous) != 0 && target.State == EnvironmentState.Runnable)
            {
                // Not running and not blocked: its registers are in its Frame; the upcall goes there now.
                if (!DeliverAsynchronously(target, target.Frame))
                    return Fail(Error.BadEnvironment); // it was destroyed for a bad upcall stack
            }
            return 0;
        }

        /// <summary>Delivers the oldest kept message as an IpcSend upcall into 'registers' (the
        /// environment's state now). Null, or why it could not be delivered (the message is gone).</summary>
        private static string DeliverOldest(Environment environment, InterruptFrame* registers, ulong delivery)
        {
            ulong* record = environment.PendingMessages + environment.PendingHead * Environment.PendingWords;
            ulong sender = record[0], w0 = record[1], w1 = record[2], w2 = record[3], w3 = record[4];
            environment.PendingHead = environment.PendingHead + 1 == IpcLimits.PendingMessages ? 0 : environment.PendingHead + 1;
            environment.PendingCount--;
            string problem = Upcalls.Deliver(environment, registers, UpcallKind.IpcSend, delivery, 0, 0, sender, w0, w1, w2, w3, UpcallFrame.NoFrame);
            if (problem == null) environment.IpcMessagesReceived++;
            return problem;
        }

        /// <summary>An asynchronous delivery of the oldest kept message into 'registers' (a runnable
        /// environment's saved frame, or the live frame of a tick in ring 3). False when the upcall
        /// could not be delivered: the environment has been destroyed (BadUpcall, reported).</summary>
        public static bool DeliverAsynchronously(Environment environment, InterruptFrame* registers)
        {
            string problem = DeliverOldest(environment, registers, UpcallDelivery.Asynchronous);
            if (problem == null)
            {
                environment.AsynchronousUpcalls++;
                environment.WakeupPending = true; // its next Wait returns at once (no lost wakeup)
                return true;
            }
            ReportBadUpcall(environment, problem);
            return false;
        }

        private static void ReportBadUpcall(Environment environment, string problem)
        {
            Diagnostics.TextBuffer why = Diagnostics.ReportBuffers.Death;
            why.Clear();
            why.Append("destroyed: cannot deliver an IPC upcall: ");
            why.Append(problem);
            why.Append(" (0x");
            why.AppendHex(Upcalls.ProblemAddress);
            why.Append(')');
            Environments.DestroyReporting(environment, EnvironmentState.Destroyed, DestroyReason.BadUpcall, 0, why);
        }

        /// <summary>From the timer tick that ended the slice of 'current' in ring 3: a kept message for an
        /// asynchronous environment is delivered now. False when it was destroyed doing so.</summary>
        public static bool OnUserTick(Environment current, InterruptFrame* frame)
        {
            if (current.PendingCount == 0 || (current.NotifyFlags & NotifyFlags.Asynchronous) == 0) return true;
            return DeliverAsynchronously(current, frame);
        }

        /// <summary>Wait and WaitUntil (deadline 0: none). Returns the call's result unless it
        /// blocks (then it does not return: the loop runs something else).</summary>
        public static ulong Wait(Environment caller, InterruptFrame* frame, ulong deadline)
        {
            if (caller.WakeupPending)
            {
                // An upcall came since the last Wait: no sleep (no lost wakeup).
                caller.WakeupPending = false;
                return WaitResult.Woken;
            }
            if (caller.PendingCount > 0)
            {
                // A message kept while it was not in Wait: delivered into this Wait, which returns 0.
                frame->Rax = WaitResult.Woken;
                string problem = DeliverOldest(caller, frame, UpcallDelivery.IntoWait);
                if (problem != null)
                {
                    Scheduler.Save(caller, frame, false);
                    ReportBadUpcall(caller, problem);
                    Scheduler.LeaveToLoop();
                }
                return WaitResult.Woken;
            }
            if (caller.EndsPending != 0)
            {
                // A child's end first, then another's (each reported once, the other kept for the next Wait).
                if ((caller.EndsPending & Environment.EndsPendingChild) != 0)
                {
                    caller.EndsPending &= unchecked((byte)~Environment.EndsPendingChild);
                    caller.ChildEndWakes++;
                    return WaitResult.ChildEnded;
                }
                caller.EndsPending = 0;
                caller.OtherEndWakes++;
                return WaitResult.OtherEnded;
            }
            if (deadline != 0)
            {
                if (Cpu.ReadTimestampCounter() >= deadline)
                {
                    caller.DeadlinesPassed++;
                    return WaitResult.DeadlinePassed;
                }
                if (deadline < s_earliest) s_earliest = deadline;
            }
            caller.WaitDeadline = deadline;
            Scheduler.BlockCurrent(frame, BlockReason.Waiting);
            return WaitResult.Woken;
        }

        /// <summary>IpcReply's AndWaitUntil: the Wait the replier goes back into gets 'deadline' (0:
        /// none). False when it has passed already (counted: the Wait then returns DeadlinePassed).</summary>
        public static bool Rearm(Environment replier, ulong deadline)
        {
            if (deadline != 0 && Cpu.ReadTimestampCounter() >= deadline)
            {
                replier.WaitDeadline = 0;
                replier.DeadlinesPassed++;
                return false;
            }
            replier.WaitDeadline = deadline;
            if (deadline != 0 && deadline < s_earliest) s_earliest = deadline;
            return true;
        }

        /// <summary>From Environments when an environment ends on its own (not as a descendant of one
        /// that ends): its creator hears of it if it asked to (NotifyFlags.ChildEnded).</summary>
        public static void OnChildEnded(Environment child)
        {
            Environment parent = Environments.Find(child.ParentId);
            if (parent == null || !parent.IsAlive || (parent.NotifyFlags & NotifyFlags.ChildEnded) == 0) return;
            if (parent.State == EnvironmentState.Blocked && parent.Blocked == BlockReason.Waiting)
            {
                parent.ChildEndWakes++;
                Scheduler.Wake(parent, WaitResult.ChildEnded, 0);
            }
            else
                parent.EndsPending |= Environment.EndsPendingChild;
        }

        /// <summary>From Environments.DestroyOne's walk over the other environments when one ends (any
        /// way, descendants included): 'watcher' asked to hear of every end (NotifyFlags.OthersEnded).</summary>
        public static void OnOtherEnded(Environment watcher)
        {
            if (watcher.State == EnvironmentState.Blocked && watcher.Blocked == BlockReason.Waiting)
            {
                watcher.OtherEndWakes++;
                Scheduler.Wake(watcher, WaitResult.OtherEnded, 0);
            }
            else
                watcher.EndsPending |= Environment.EndsPendingOther;
        }

        /// <summary>Every timer tick at a safe point: wakes the WaitUntils whose deadline passed.
        /// One comparison unless one did.</summary>
        public static void OnTick()
        {
            if (s_earliest == ulong.MaxValue) return;
            ulong now = Cpu.ReadTimestampCounter();
            if (now < s_earliest) return;
            ulong earliest = ulong.MaxValue;
            for (int i = 0; i < Environments.Capacity; i++)
            {
                Environment environment = Environments.At(i);
                if (environment == null || environment.WaitDeadline == 0 || !environment.IsAlive) continue;
                bool waiting = environment.State == EnvironmentState.Blocked && environment.Blocked == BlockReason.Waiting;
                if (!waiting && now >= environment.WaitDeadline)
                {
                    // Woken by an upcall and not back in that Wait yet (an IPC handler may return into
                    // it with reply-and-wait): the deadline is over; a pending wakeup ends that Wait.
                    environment.WaitDeadline = 0;
                    environment.WakeupPending = true;
                    continue;
                }
                if (waiting && now >= environment.WaitDeadline)
                {
                    environment.WaitDeadline = 0;
                    environment.DeadlinesPassed++;
                    Scheduler.Wake(environment, WaitResult.DeadlinePassed, 0);
                }
                else if (environment.WaitDeadline < earliest)
                    earliest = environment.WaitDeadline;
            }
            s_earliest = earliest;
        }
    }
}
