// Visible revocation and the abort protocol for memory. A capability holder (or the kernel's
// test harness) asks an environment to give back N frames by a deadline: the environment gets a
// Revoke upcall and frees frames of its choosing (FrameFree). If frames are still owed at the
// deadline, the kernel takes them by force: the environment's highest-numbered owned frames,
// unmapped from it and reclaimed, each recorded in its EnvironmentPage repossession vector.
using System.Collections.Generic;
using Aegis.Abi;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class Revocation
    {
        public static Error Request(Environment target, ulong frameCount, ulong deadlineTick)
        {
            if (!target.IsAlive)
                return Error.BadEnvironment;
            if (frameCount == 0 || frameCount > Environments.Ledger.CountOwnedBy(target.Id))
                return Error.InvalidArgument;
            Error error = Environments.Revocations.Request(target.Id, frameCount, deadlineTick, Clock.Ticks);
            if (error != Error.None)
                return error;
            target.Page->RevocationPending = frameCount;
            target.Page->RevocationDeadline = deadlineTick;
            if (target.UpcallEntry != 0 && target.Blocked != BlockReason.AwaitingReply && target.State != EnvironmentState.Stopped
                && target != Scheduler.Current)
            {
                UpcallFrame upcall;
                Upcalls.Header(&upcall, UpcallKind.Revoke);
                upcall.Word0 = frameCount;
                upcall.Word1 = deadlineTick;
                string problem = Scheduler.DeliverToWaiting(target, &upcall);
                if (problem != null)
                    Environments.Destroy(target, EnvironmentState.Destroyed, DestroyReason.BadUpcall, 0, "destroyed: cannot deliver the revocation upcall: " + problem);
            }
            return Error.None;
        }

        public const ulong FramesPerTick = 256;

        /// <summary>The most frames the abort protocol took in one timer tick since ResetCounters.</summary>
        public static ulong MaxFramesPerTick { get; private set; }

        public static void ResetCounters() => MaxFramesPerTick = 0;

        /// <summary>Called every tick: runs the abort protocol on every environment past its deadline.</summary>
        public static void CheckDeadlines()
        {
            if (!Environments.Revocations.HasOverdue(Clock.Ticks))
                return; // the common case allocates nothing (no garbage collector)
            List<ulong> overdue = Environments.Revocations.Overdue(Clock.Ticks);
            ulong takenThisTick = 0;
            for (int i = 0; i < overdue.Count; i++)
            {
                Environment environment = Environments.Find(overdue[i]);
                if (environment == null)
                {
                    Environments.Revocations.Forget(overdue[i]);
                    continue;
                }
                ulong taken = Abort(environment, Environments.Revocations.Owed(environment.Id));
                Environments.Revocations.CompleteAbort(environment.Id, taken);
                environment.Page->RevocationPending = 0;
                takenThisTick += taken;
            }
            if (takenThisTick > MaxFramesPerTick) MaxFramesPerTick = takenThisTick;
        }

        private static ulong HighestOwnedFrame(ulong id)
        {
            ulong limit = KernelMemory.Frames.FrameLimit;
            ulong highest = ulong.MaxValue;
            for (ulong frame = Environments.Ledger.NextOwnedBy(id, 0); frame < limit; frame = Environments.Ledger.NextOwnedBy(id, frame + 1))
                highest = frame;
            return highest;
        }

        private static ulong Abort(Environment environment, ulong count)
        {
            // The highest-numbered frames it owns, found without allocating.
            ulong taken = 0;
            while (taken < count)
            {
                ulong frame = HighestOwnedFrame(environment.Id);
                if (frame == ulong.MaxValue)
                    break;
                Environments.FreeFrame(environment, frame, countsTowardRevocation: false);
                ulong slot = environment.Page->RepossessedCount % 64;
                environment.Page->Repossessed[slot] = frame;
                environment.Page->RepossessedCount++;
                environment.RepossessedFrames++;
                taken++;
            }
            KernelLog.WriteLine("aegis: " + environment.Describe() + " missed its revocation deadline; the abort protocol took "
                + taken.ToString() + " frames");
            return taken;
        }
    }
}
