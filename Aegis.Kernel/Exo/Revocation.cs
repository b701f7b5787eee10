// Visible revocation and the abort protocol for memory. A capability holder (or the kernel's
// test harness) asks an environment to give back N frames by a deadline: the environment gets a
// Revoke upcall and frees frames of its choosing (FrameFree). If frames are still owed at the
// deadline, the kernel takes them by force: the frames the environment acquired most recently,
// each removed from every address space that maps it and returned to the free pool, each
// recorded in its EnvironmentPage repossession vector.
// Bounded work: the abort protocol runs in the timer tick with interrupts off, so it takes at
// most FramesPerTick frames per tick (over all overdue environments) and continues at the next
// tick until everything owed is taken; finding each frame is O(1) (the FrameLedger's owner
// lists) and taking it O(its mappings). The tick itself allocates nothing.
using Aegis.Abi;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class Revocation
    {
        /// <summary>The most frames the abort protocol takes in one timer tick (docs/kernel.md).</summary>
        public const ulong FramesPerTick = 256;

        private static readonly ulong[] s_overdue = new ulong[EnvironmentTable.Capacity];

        /// <summary>The most frames the abort protocol took in one timer tick since ResetCounters.</summary>
        public static ulong MaxFramesPerTick { get; private set; }

        /// <summary>The longest time one tick's share of the abort protocol took since ResetCounters,
        /// in TSC cycles (measured only on ticks that run it).</summary>
        public static ulong MaxCyclesPerTick { get; private set; }

        public static void ResetCounters()
        {
            MaxFramesPerTick = 0;
            MaxCyclesPerTick = 0;
        }

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
                {
                    // Written into a fixed buffer, as IPC's failure path does: RevokeFrames is a
                    // system call, and no system call allocates.
                    Diagnostics.TextBuffer why = Diagnostics.ReportBuffers.Death;
                    why.Clear();
                    why.Append("destroyed: cannot deliver the revocation upcall: ");
                    why.Append(problem);
                    why.Append(" (0x");
                    why.AppendHex(Upcalls.ProblemAddress);
                    why.Append(')');
                    Environments.DestroyReporting(target, EnvironmentState.Destroyed, DestroyReason.BadUpcall, 0, why);
                }
            }
            return Error.None;
        }

        /// <summary>Called every tick: runs one tick's share of the abort protocol on the environments
        /// past their deadlines. O(1) when none is (the common case).</summary>
        public static void CheckDeadlines()
        {
            RevocationTracker tracker = Environments.Revocations;
            if (!tracker.HasOverdue(Clock.Ticks))
                return;
            ulong start = Cpu.ReadTimestampCounter();
            int count = tracker.CollectOverdue(Clock.Ticks, s_overdue);
            ulong budget = FramesPerTick;
            for (int i = 0; i < count && budget > 0; i++)
            {
                Environment environment = Environments.Find(s_overdue[i]);
                if (environment == null)
                {
                    tracker.Forget(s_overdue[i]);
                    continue;
                }
                ulong owed = tracker.Owed(environment.Id);
                ulong share = owed < budget ? owed : budget;
                ulong taken = Take(environment, share);
                budget -= taken;
                bool paid = tracker.Repossessed(environment.Id, taken);
                if (!paid && taken < share)
                {
                    // It owns nothing more to take: the request ends with what was taken.
                    tracker.CompleteAbort(environment.Id, 0);
                    paid = true;
                }
                environment.Page->RevocationPending = paid ? 0 : tracker.Owed(environment.Id);
                if (paid)
                    Report(environment);
            }
            ulong takenThisTick = FramesPerTick - budget;
            if (takenThisTick > MaxFramesPerTick) MaxFramesPerTick = takenThisTick;
            ulong cycles = Cpu.ReadTimestampCounter() - start;
            if (cycles > MaxCyclesPerTick) MaxCyclesPerTick = cycles;
        }

        /// <summary>Takes up to count frames, the most recently acquired first. Returns how many.</summary>
        private static ulong Take(Environment environment, ulong count)
        {
            FrameLedger ledger = Environments.Ledger;
            ulong taken = 0;
            while (taken < count)
            {
                ulong frame = ledger.LastOwnedBy(environment.Id);
                if (frame >= ledger.FrameLimit)
                    break;
                Environments.FreeFrame(environment, frame, countsTowardRevocation: false);
                ulong slot = environment.Page->RepossessedCount % 64;
                environment.Page->Repossessed[slot] = frame;
                environment.Page->RepossessedCount++;
                environment.RepossessedFrames++;
                taken++;
            }
            return taken;
        }

        /// <summary>One line when an abort completes, written without allocating.</summary>
        private static void Report(Environment environment)
        {
            KernelLog.Write("aegis: environment ");
            KernelLog.WriteHex(environment.Id);
            KernelLog.Write(" missed its revocation deadline; the abort protocol has taken ");
            KernelLog.WriteDecimal(environment.RepossessedFrames);
            KernelLog.WriteLine(" frames from it in all");
        }
    }
}
