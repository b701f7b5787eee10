// Protected control transfer. IpcCall runs the target's upcall entry at once, on the rest of
// the caller's slice, with four words of message (and optionally a page: its frame is granted
// to the target, which maps it where it likes); the caller blocks until IpcReply, whose two
// words become the results of the call. IpcSend delivers the same upcall without waiting.
// Only a target blocked in Wait accepts a message (WouldBlock otherwise: the sender retries,
// typically after a Yield), so no environment is interrupted by IPC it did not ask for. A
// target that is stopped, dead or without an upcall entry refuses with BadEnvironment;
// nothing changes.
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class Ipc
    {
        private static ulong Fail(Error error) => unchecked((ulong)(long)error);
        public static ulong Call(Environment caller, InterruptFrame* frame, ulong targetId, ulong w0, ulong w1, ulong w2, ulong w3, ulong pageAddress)
            => Transfer(caller, frame, targetId, w0, w1, w2, w3, pageAddress, true);

        public static ulong Send(Environment caller, InterruptFrame* frame, ulong targetId, ulong w0, ulong w1, ulong w2, ulong w3, ulong pageAddress)
            => Transfer(caller, frame, targetId, w0, w1, w2, w3, pageAddress, false);

        private static ulong Transfer(Environment caller, InterruptFrame* frame, ulong targetId, ulong w0, ulong w1, ulong w2, ulong w3, ulong pageAddress, bool synchronous)
        {
            Environment target = Environments.Find(targetId);
            if (target == null || target == caller || target.State == EnvironmentState.Stopped)
                return Fail(Error.BadEnvironment);
            if (target.UpcallEntry == 0)
                return Fail(Error.BadEnvironment);
            // Only an environment that asked for messages (it is blocked in Wait) receives one: an
            // environment that never waits can never be interrupted by another's IPC.
            if (target.PendingCaller != 0 || target.State != EnvironmentState.Blocked || target.Blocked != BlockReason.Waiting)
                return Fail(Error.WouldBlock);
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
            }

            UpcallFrame upcall;
            Upcalls.Header(&upcall, synchronous ? UpcallKind.IpcCall : UpcallKind.IpcSend);
            upcall.Sender = caller.Id;
            upcall.Word0 = w0; upcall.Word1 = w1; upcall.Word2 = w2; upcall.Word3 = w3;
            upcall.Frame = frameNumber;
            string problem = Scheduler.DeliverToWaiting(target, &upcall);
            if (problem != null)
            {
                Environments.Destroy(target, EnvironmentState.Destroyed, DestroyReason.BadUpcall, 0,
                    "destroyed: cannot deliver an IPC upcall: " + problem);
                return Fail(Error.BadEnvironment);
            }
            if (frameNumber != UpcallFrame.NoFrame)
            {
                Environments.Ledger.Grant(frameNumber, caller.Id, target.Id, writable);
                target.PagesReceived++;
            }
            target.IpcMessagesReceived++;
            Scheduler.DirectTo(target);
            frame->Rax = 0;
            Scheduler.Save(caller, frame, false);
            if (synchronous)
            {
                target.PendingCaller = caller.Id;
                caller.CallTarget = target.Id;
                caller.State = EnvironmentState.Blocked;
                caller.Blocked = BlockReason.AwaitingReply;
            }
            else
                caller.State = EnvironmentState.Runnable;
            // The target runs now, on the rest of the caller's slice, without a trip through the loop.
            Scheduler.SwitchDirect(target);
            return 0;
        }

        public static ulong Reply(Environment replier, InterruptFrame* frame, ulong w0, ulong w1)
        {
            Environment caller = Environments.Find(replier.PendingCaller);
            if (caller == null || caller.Blocked != BlockReason.AwaitingReply || caller.CallTarget != replier.Id)
            {
                replier.PendingCaller = 0;
                return Fail(Error.BadEnvironment);
            }
            replier.PendingCaller = 0;
            Scheduler.Wake(caller, w0, w1);
            Scheduler.DirectTo(caller);
            frame->Rax = 0;
            Scheduler.Save(replier, frame, false);
            replier.State = EnvironmentState.Runnable;
            Scheduler.SwitchDirect(caller);
            return 0;
        }
    }
}
