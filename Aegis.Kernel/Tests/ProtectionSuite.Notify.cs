// Protection-suite behaviours for notifications (issue #9, Exo/Notifications.cs): messages kept for
// an environment that is not in Wait, their asynchronous delivery into a computing environment,
// WaitUntil's deadline, the creator's wakeup when a child ends. All run the app 'notify'
// (Tests/Apps/Notify) in a mode; the verdicts are the kernel's own observations (its counters,
// states and ticks) and the words it chose arriving in order.
using System;
using Aegis.Abi;
using Aegis.Kernel.Exo;
using Aegis.Kernel.Hal;
using Internal.Runtime;

namespace Aegis.Kernel.Tests
{
    internal static unsafe partial class ProtectionSuite
    {
        private static readonly string[] s_notifyBehaviours =
        {
            "ipc-pending", "ipc-pending-full", "ipc-async", "wait-deadline", "child-end", "ipc-reply-wait-until",
            "ipc-send-sender-continues", "environment-alive",
        };

        private const string NotifyImage = "notify";

        private static string NotifyImageOf(string name)
        {
            for (int i = 0; i < s_notifyBehaviours.Length; i++)
                if (s_notifyBehaviours[i] == name) return NotifyImage;
            return name;
        }

        private static bool TryDispatchNotify(string name, out string reason)
        {
            switch (name)
            {
                case "ipc-pending": reason = IpcPendingBehaviour(3); return true;
                case "ipc-pending-full": reason = IpcPendingBehaviour(IpcLimits.PendingMessages + 1); return true;
                case "ipc-async": reason = IpcAsyncBehaviour(); return true;
                case "wait-deadline": reason = WaitDeadlineBehaviour(); return true;
                case "child-end": reason = ChildEndBehaviour(); return true;
                case "ipc-reply-wait-until": reason = ReplyWaitUntilBehaviour(); return true;
                case "ipc-send-sender-continues": reason = SenderContinuesBehaviour(); return true;
                case "environment-alive": reason = EnvironmentAliveBehaviour(); return true;
                default: reason = null; return false;
            }
        }

        /// <summary>A sender's messages to a receiver that is not in Wait (it yields for a second) are
        /// kept, not refused — up to IpcLimits.PendingMessages, the next WouldBlock — and none is
        /// delivered meanwhile; then each of its Waits returns at once with the next message, in
        /// order (UpcallFrame.Trap IntoWait). The kernel heap does not grow on that path.</summary>
        private static string IpcPendingBehaviour(int sent)
        {
            int kept = sent > IpcLimits.PendingMessages ? IpcLimits.PendingMessages : sent;
            Environment receiver = Spawn(NotifyImage, "hold " + kept.ToString());
            if (!Start(receiver)) return "cannot start the receiver";
            Scheduler.Run(() => !receiver.IsAlive || Output(receiver).Contains("holding"), DefaultTicks);
            if (!receiver.IsAlive) return "the receiver " + Ending(receiver) + ": " + Output(receiver);
            ulong token = 1000 + Clock.Ticks % 100000;
            Environment sender = Spawn(NotifyImage, "send " + receiver.Id.ToString() + " " + sent.ToString() + " " + token.ToString());
            if (!Start(sender)) return "cannot start the sender";
            Func<bool> senderEnded = () => !sender.IsAlive; // made before the count starts
            ulong allocationsBefore = RuntimeHost.HeapAllocations;
            Scheduler.Run(senderEnded, DefaultTicks);
            ulong allocations = RuntimeHost.HeapAllocations - allocationsBefore;
            if (!ExitedWith(sender, 0)) return "the sender " + Ending(sender) + ": " + Output(sender);
            if (allocations != 0) return "the kernel heap allocated " + allocations.ToString() + " times while messages were kept";
            if (receiver.MessagesQueued != (ulong)kept || receiver.PendingCount != kept)
                return "the kernel kept " + receiver.MessagesQueued.ToString() + " messages (" + receiver.PendingCount.ToString() + " pending), expected " + kept.ToString();
            if (Output(receiver).Contains("waiting")) return "the sender took longer than the receiver's second out of Wait";
            if (receiver.IpcMessagesReceived != 0) return "a message reached the receiver while it was not in Wait";
            ulong refused = sender.SystemCallErrors;
            if (refused != (ulong)(sent - kept)) return "the sender had " + refused.ToString() + " calls refused, expected " + (sent - kept).ToString();
            string output = Output(sender);
            if (sent > kept && !output.Contains("notify: send " + kept.ToString() + " WouldBlock")) return "the send past the ring was not WouldBlock: " + output;
            if (!RunToEnd(5000)) return "timed out: a Wait did not return for a kept message";
            output = Output(receiver);
            if (!ExitedWith(receiver, 0)) return "the receiver " + Ending(receiver) + ": " + output;
            if (receiver.IpcMessagesReceived != (ulong)kept || receiver.PendingCount != 0) return "the receiver got " + receiver.IpcMessagesReceived.ToString() + " messages";
            int at = 0;
            for (int i = 0; i < kept; i++)
            {
                string line = "notify: got " + (token + (ulong)i).ToString() + " " + i.ToString() + " trap " + UpcallDelivery.IntoWait.ToString() + "\n";
                int found = output.IndexOf(line);
                if (found < at) return "message " + i.ToString() + " missing or out of order: " + output;
                at = found;
            }
            if (output.Contains("brought")) return "a Wait brought other than one message: " + output;
            return null;
        }

        /// <summary>A receiver that turned on asynchronous delivery computes without any system call;
        /// a message sent to it interrupts the computation (an IpcSend upcall with Trap =
        /// Asynchronous), which then ends. Without that upcall it would compute for ever.</summary>
        private static string IpcAsyncBehaviour()
        {
            Environment receiver = Spawn(NotifyImage, "spin");
            if (!Start(receiver)) return "cannot start the receiver";
            Scheduler.Run(() => !receiver.IsAlive || Output(receiver).Contains("computing"), DefaultTicks);
            Scheduler.Run(() => !receiver.IsAlive, 30); // let it compute a while
            if (!receiver.IsAlive || receiver.State == EnvironmentState.Blocked) return "the receiver is not computing: " + Ending(receiver) + " " + Output(receiver);
            ulong calls = receiver.SystemCalls;
            ulong token = 5000 + Clock.Ticks % 100000;
            Environment sender = Spawn(NotifyImage, "send " + receiver.Id.ToString() + " 1 " + token.ToString());
            if (!Start(sender)) return "cannot start the sender";
            if (!RunToEnd(3000)) return "timed out: the message did not interrupt the computation";
            string output = Output(receiver);
            if (!ExitedWith(receiver, 0)) return "the receiver " + Ending(receiver) + ": " + output;
            if (!ExitedWith(sender, 0) || !Output(sender).Contains("notify: send 0 None")) return "the sender " + Ending(sender) + ": " + Output(sender);
            if (receiver.AsynchronousUpcalls != 1) return "the kernel delivered " + receiver.AsynchronousUpcalls.ToString() + " asynchronous upcalls";
            if (!output.Contains("notify: async got " + token.ToString() + " trap " + UpcallDelivery.Asynchronous.ToString() + " after some rounds"))
                return "the computation did not see the message: " + output;
            if (!output.Contains("notify: bad flag InvalidArgument")) return "NotifyControl accepted an unknown flag: " + output;
            if (calls == 0) return "no system call seen before the message";
            return null;
        }

        /// <summary>WaitUntil: blocked (not runnable) until the deadline 50 ms ahead, then
        /// DeadlinePassed; a deadline already passed returns at once; a message ends a 10 s WaitUntil
        /// early with Woken.</summary>
        private static string WaitDeadlineBehaviour()
        {
            Environment app = Spawn(NotifyImage, "deadline");
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || (app.State == EnvironmentState.Blocked && app.WaitDeadline != 0), DefaultTicks);
            if (app.State != EnvironmentState.Blocked || app.Blocked != BlockReason.Waiting) return "it did not block in WaitUntil: " + Ending(app) + " " + Output(app);
            // Measured on the TSC, the deadline's own clock: on a loaded host QEMU may merge timer
            // ticks (a run saw 44 ticks for 50 ms), so counting ticks would fail a correct kernel.
            ulong blockedAt = Cpu.ReadTimestampCounter();
            Scheduler.Run(() => !app.IsAlive || app.DeadlinesPassed >= 2, DefaultTicks);
            ulong wokeMs = (Cpu.ReadTimestampCounter() - blockedAt) * 1000 / Clock.TimestampHz;
            if (app.DeadlinesPassed < 2) return "the deadlines did not pass: " + Ending(app) + " " + Output(app);
            if (wokeMs < 45) return "the 50 ms deadline passed after " + wokeMs.ToString() + " ms (TSC)";
            Scheduler.Run(() => !app.IsAlive || (app.State == EnvironmentState.Blocked && app.WaitDeadline != 0), DefaultTicks);
            if (app.State != EnvironmentState.Blocked) return "it did not block in the long WaitUntil: " + Ending(app) + " " + Output(app);
            ulong token = 7000 + Clock.Ticks % 100000;
            Environment sender = Spawn(NotifyImage, "send " + app.Id.ToString() + " 1 " + token.ToString());
            if (!Start(sender)) return "cannot start the sender";
            if (!RunToEnd(5000)) return "timed out: the message did not end the long WaitUntil";
            string output = Output(app);
            if (!ExitedWith(app, 0)) return "notify " + Ending(app) + ": " + output;
            if (app.DeadlinesPassed != 2) return "the kernel counted " + app.DeadlinesPassed.ToString() + " passed deadlines, expected 2";
            string problem = Expect(output, "notify: deadline " + WaitResult.DeadlinePassed.ToString() + " after")
                ?? Expect(output, "notify: passed " + WaitResult.DeadlinePassed.ToString() + " at once")
                ?? Expect(output, "notify: long " + WaitResult.Woken.ToString() + " with 1 message(s), word " + token.ToString() + ", after less than 5 s");
            return problem;
        }

        /// <summary>IpcReply with IpcReplyFlags.AndWaitUntil: a server blocked in a 10 s WaitUntil
        /// answers a call and goes back into that Wait with a deadline 50 ms ahead — the kernel wakes
        /// it with DeadlinePassed then, not after 10 s; a second reply with a deadline already passed
        /// makes the Wait return DeadlinePassed at once. Judged on the kernel's own count of passed
        /// deadlines and the TSC, besides the app's lines.</summary>
        private static string ReplyWaitUntilBehaviour()
        {
            Environment server = Spawn(NotifyImage, "rearm");
            if (!Start(server)) return "cannot start the server";
            Scheduler.Run(() => !server.IsAlive || (server.State == EnvironmentState.Blocked && server.WaitDeadline != 0), DefaultTicks);
            if (server.State != EnvironmentState.Blocked || server.Blocked != BlockReason.Waiting) return "it did not block in WaitUntil: " + Ending(server) + " " + Output(server);
            Environment caller = Spawn(NotifyImage, "call " + server.Id.ToString() + " 2");
            if (!Start(caller)) return "cannot start the caller";
            ulong startedAt = Cpu.ReadTimestampCounter();
            if (!RunToEnd(5000)) return "timed out: the new deadline did not end the 10 s WaitUntil";
            ulong tookMs = (Cpu.ReadTimestampCounter() - startedAt) * 1000 / Clock.TimestampHz;
            string output = Output(server);
            if (!ExitedWith(server, 0)) return "the server " + Ending(server) + ": " + output;
            if (!ExitedWith(caller, 0)) return "the caller " + Ending(caller) + ": " + Output(caller);
            if (server.DeadlinesPassed != 2) return "the kernel counted " + server.DeadlinesPassed.ToString() + " passed deadlines, expected 2: " + output;
            if (tookMs >= 5000) return "the server ran " + tookMs.ToString() + " ms: a 10 s deadline was kept";
            string problem = Expect(Output(caller), "notify: call 0 reply 1001") ?? Expect(Output(caller), "notify: call 1 reply 1002")
                ?? Expect(output, "notify: rearm 1 " + WaitResult.DeadlinePassed.ToString() + " after ")
                ?? Expect(output, "notify: rearm 2 " + WaitResult.DeadlinePassed.ToString() + " after ");
            if (problem != null) return problem;
            ulong first = MillisecondsAfter(output, "notify: rearm 1 " + WaitResult.DeadlinePassed.ToString() + " after ");
            if (first < 45) return "the 50 ms deadline passed after " + first.ToString() + " ms: " + output;
            // The passed deadline: the Wait returned at once (the replier runs once the caller it
            // switched to lets it: a few ms at most, never the 10 s of its own deadline).
            ulong second = MillisecondsAfter(output, "notify: rearm 2 " + WaitResult.DeadlinePassed.ToString() + " after ");
            return second < 1000 ? null : "the passed deadline took " + second.ToString() + " ms: " + output;
        }

        /// <summary>IpcSend with IpcSendFlags.SenderContinues to a receiver in Wait: the message is
        /// delivered (the kernel counts it, the receiver is runnable) but the sender goes on and ends
        /// before the receiver runs at all; then the receiver's Wait returns with the word. Unknown
        /// flags are refused (InvalidArgument) and deliver nothing. A plain IpcSend would have run the
        /// receiver at once, which would then have ended first.</summary>
        private static string SenderContinuesBehaviour()
        {
            Environment receiver = Spawn(NotifyImage, "once");
            if (!Start(receiver)) return "cannot start the receiver";
            Scheduler.Run(() => !receiver.IsAlive || (receiver.State == EnvironmentState.Blocked && receiver.Blocked == BlockReason.Waiting), DefaultTicks);
            if (receiver.State != EnvironmentState.Blocked || receiver.Blocked != BlockReason.Waiting) return "the receiver did not block in Wait: " + Ending(receiver) + " " + Output(receiver);
            ulong token = 9000 + Clock.Ticks % 100000;
            Environment sender = Spawn(NotifyImage, "continue " + receiver.Id.ToString() + " " + token.ToString());
            if (!Start(sender)) return "cannot start the sender";
            Scheduler.Run(() => !sender.IsAlive || !receiver.IsAlive, DefaultTicks);
            if (!receiver.IsAlive) return "the receiver ran and ended before the sender: " + Output(receiver);
            if (!ExitedWith(sender, 0)) return "the sender " + Ending(sender) + ": " + Output(sender);
            string problem = Expect(Output(sender), "notify: continue InvalidArgument None");
            if (problem != null) return problem;
            if (receiver.IpcMessagesReceived != 1) return "the receiver was given " + receiver.IpcMessagesReceived.ToString() + " messages, expected 1";
            if (!receiver.IsRunnable) return "the receiver is not runnable after the message";
            if (Output(receiver).Contains("got")) return "the receiver ran before the sender stopped: " + Output(receiver);
            if (!RunToEnd(3000)) return "timed out: the receiver did not run";
            if (!ExitedWith(receiver, 0)) return "the receiver " + Ending(receiver) + ": " + Output(receiver);
            return Expect(Output(receiver), "notify: got " + token.ToString() + " trap " + UpcallDelivery.IntoWait.ToString());
        }

        private static ulong MillisecondsAfter(string output, string marker)
        {
            int at = output.IndexOf(marker) + marker.Length;
            ulong ms = 0;
            while (at < output.Length && output[at] >= '0' && output[at] <= '9') ms = ms * 10 + (ulong)(output[at++] - '0');
            return ms;
        }

        /// <summary>EnvironmentAlive (issue #12): 1 for a live child and for the caller, 0 for 0 and an id
        /// past the table, 0 for the child once destroyed; InfoPage.EnvironmentEnds grew by exactly
        /// the one end (the kernel's own count of ends agrees, and the child is really gone).
        /// NotifyFlags.OthersEnded: an end wakes the WaitUntil with OtherEnded; with the flag off an
        /// end does not (the Wait runs to its deadline).</summary>
        private static string EnvironmentAliveBehaviour()
        {
            ulong endsBefore = Environments.Info->EnvironmentEnds;
            Environment app = Spawn(NotifyImage, "alive");
            if (!Start(app)) return "cannot start";
            if (!RunToEnd(5000)) return "timed out: " + Output(app);
            string output = Output(app);
            if (!ExitedWith(app, 0)) return "notify " + Ending(app) + ": " + output;
            string problem = Expect(output, "notify: alive 1 1 0 0") ?? Expect(output, "notify: after 0 ends 1")
                ?? Expect(output, "notify: other " + WaitResult.OtherEnded.ToString()) ?? Expect(output, "notify: off " + WaitResult.DeadlinePassed.ToString());
            if (problem != null) return problem;
            string marker = "notify: spawned ";
            int at = output.IndexOf(marker);
            if (at < 0) return "no child id: " + output;
            ulong child = MillisecondsAfter(output, marker);
            if (Environments.IsAliveId(child)) return "the kernel still has the child " + child.ToString() + " alive";
            if (!Environments.TryGetStatus(child, out EnvironmentState state, out _) || state != EnvironmentState.Destroyed)
                return "the child " + child.ToString() + " did not end destroyed";
            // The three children's ends and the app's own; one OthersEnded wake (the first 'quit').
            ulong ends = Environments.Info->EnvironmentEnds - endsBefore;
            if (ends != 4) return "InfoPage.EnvironmentEnds grew by " + ends.ToString() + ", expected 4 (three children and the app)";
            if (app.OtherEndWakes != 1) return "the kernel counted " + app.OtherEndWakes.ToString() + " other-end wakeups, expected 1";
            return null;
        }

        /// <summary>A parent with NotifyFlags.ChildEnded blocked in WaitUntil is woken with ChildEnded
        /// when the kernel destroys its child (no exit notice from it); a child that ends while the
        /// parent is not in Wait leaves ChildEnded for its next Wait, which returns at once.</summary>
        private static string ChildEndBehaviour()
        {
            Environment parent = Spawn(NotifyImage, "parent");
            if (!Start(parent)) return "cannot start";
            Environment child = null;
            Scheduler.Run(() =>
            {
                if (!parent.IsAlive) return true;
                for (int i = 0; i < Environments.Capacity && child == null; i++)
                {
                    Environment e = Environments.At(i);
                    if (e != null && e.ParentId == parent.Id && e.IsAlive && e.State == EnvironmentState.Blocked) child = e;
                }
                return child != null && parent.State == EnvironmentState.Blocked;
            }, DefaultTicks);
            if (child == null || parent.State != EnvironmentState.Blocked) return "the parent did not wait with an idle child: " + Ending(parent) + " " + Output(parent);
            Environments.Destroy(child, EnvironmentState.Destroyed, DestroyReason.ByCapability, 0, null);
            if (parent.State != EnvironmentState.Runnable) return "the child's end did not wake its parent (state " + ((ulong)parent.State).ToString() + ")";
            if (!RunToEnd(5000)) return "timed out: " + Output(parent);
            string output = Output(parent);
            if (!ExitedWith(parent, 0)) return "notify " + Ending(parent) + ": " + output;
            if (parent.ChildEndWakes != 2) return "the kernel counted " + parent.ChildEndWakes.ToString() + " child-end wakeups, expected 2: " + output;
            return Expect(output, "notify: first " + WaitResult.ChildEnded.ToString() + ", child state " + ((ulong)EnvironmentState.Destroyed).ToString())
                ?? Expect(output, "notify: second " + WaitResult.ChildEnded.ToString() + " after less than 1 s");
        }
    }
}
