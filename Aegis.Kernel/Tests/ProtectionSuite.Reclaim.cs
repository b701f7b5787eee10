// Protection-suite behaviours for reclaiming resources: revocation, orphans, bounded interrupts-off work
// (issue #7). Each behaviour is an attack run as its own app; the kernel judges it from what it
// observed itself: its tick-gap and work-per-tick counters, the frame ledger, the environment
// table and the child's page tables. Names here, checks below; ProtectionSuite.cs runs them.
using Aegis.Abi;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Tests
{
    internal static unsafe partial class ProtectionSuite
    {
        private static readonly string[] s_reclaimBehaviours =
        {
            "revoke-huge", "console-flood", "orphan-children", "orphan-frames", "revoke-mapped-elsewhere", "destroy-huge",
        };

        /// <summary>The longest gap between two timer ticks (1 ms apart) an attack may cause. The
        /// designed stretches are far shorter (docs/kernel.md, "Interrupts off"); the bound has the
        /// margin that a loaded host running QEMU without -icount needs, and before the fix the
        /// revoke-huge attack stopped the clock for seconds.</summary>
        private const ulong MaximumTickGapMicroseconds = 500000;

        /// <summary>Where orphan-frames and revoke-mapped-elsewhere map the frame in their child.</summary>
        private const ulong ChildAddress = 0x0000_0000_4000_0000;

        /// <summary>Runs the check of a behaviour of this area (reason: null for PASS, else why it
        /// failed); false when the name is not one of this area's.</summary>
        private static bool TryDispatchReclaim(string name, out string reason)
        {
            switch (name)
            {
                case "revoke-huge": reason = RevokeHuge(); return true;
                case "console-flood": reason = ConsoleFlood(); return true;
                case "orphan-children": reason = OrphanChildren(); return true;
                case "orphan-frames": reason = OrphanFrames(); return true;
                case "revoke-mapped-elsewhere": reason = RevokeMappedElsewhere(); return true;
                case "destroy-huge": reason = DestroyHuge(); return true;
                default: reason = null; return false;
            }
        }

        private static void ResetInterruptsOffCounters()
        {
            Clock.ResetTickGaps();
            SerialPort.ResetCounters();
            Revocation.ResetCounters();
            Environments.ResetTeardownCounter();
        }

        private static string TickGapProblem()
        {
            ulong gap = Clock.MaxTickGapMicroseconds;
            if (gap > MaximumTickGapMicroseconds)
                return "the timer was held off for " + gap.ToString() + " us (bound " + MaximumTickGapMicroseconds.ToString()
                    + " us; " + Clock.LostTicks.ToString() + " ticks lost)";
            return null;
        }

        private static string RevokeHuge()
        {
            const ulong frames = 16000;
            Environment app = Spawn("revoke-huge");
            Environment bystander = Spawn("bystander");
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || Output(app).Contains("revoke-huge: ready"), 60000);
            if (!app.IsAlive) return "revoke-huge " + Ending(app) + " before the revocation: " + Output(app);
            if (Environments.Ledger.CountOwnedBy(app.Id) < frames) return "it owns only " + Environments.Ledger.CountOwnedBy(app.Id).ToString() + " frames";
            ResetInterruptsOffCounters();
            Error error = Revocation.Request(app, frames, Clock.Ticks + 5);
            if (error != Error.None) return "the revocation request failed: " + ((long)error).ToString();
            if (!Start(bystander)) return "cannot start the bystander";
            if (!RunToEnd(120000)) return "timed out";
            KernelLog.WriteLine("revoke-huge: longest tick gap " + Clock.MaxTickGapMicroseconds.ToString() + " us, "
                + Clock.LostTicks.ToString() + " ticks lost, at most " + Revocation.MaxFramesPerTick.ToString() + " frames taken per tick, in at most "
                + (Clock.TimestampHz < 1000000 ? 0 : Revocation.MaxCyclesPerTick / (Clock.TimestampHz / 1000000)).ToString() + " us");
            if (app.RepossessedFrames != frames) return "the abort protocol took " + app.RepossessedFrames.ToString() + " frames, expected " + frames.ToString();
            if (!ExitedWith(app, 0)) return "revoke-huge " + Ending(app) + ": " + Output(app);
            if (Revocation.MaxFramesPerTick > Revocation.FramesPerTick)
                return "the abort protocol took " + Revocation.MaxFramesPerTick.ToString() + " frames in one tick (bound " + Revocation.FramesPerTick.ToString() + ")";
            return TickGapProblem() ?? BystanderProblem(bystander);
        }

        private static string DestroyHuge()
        {
            Environment app = Spawn("destroy-huge");
            Environment bystander = Spawn("bystander");
            ResetInterruptsOffCounters();
            if (!Start(app) || !Start(bystander)) return "cannot start";
            if (!RunToEnd(120000)) return "timed out";
            KernelLog.WriteLine("destroy-huge: longest tick gap " + Clock.MaxTickGapMicroseconds.ToString() + " us, "
                + Clock.LostTicks.ToString() + " ticks lost, at most " + Environments.MaxTeardownUnits.ToString() + " teardown units at once");
            if (!ExitedWith(app, 0)) return "destroy-huge " + Ending(app) + ": " + Output(app);
            if (Environments.ReapingCount != 0) return Environments.ReapingCount.ToString() + " ended environments still hold memory";
            // A share is checked before each table it starts (three levels at most) and each mapping.
            const long bound = Environments.ReapUnitsPerTick + 3 * UserPageTables.PageTableScanUnits;
            if (Environments.MaxTeardownUnits > bound)
                return "ending it took " + Environments.MaxTeardownUnits.ToString() + " teardown units at once (bound "
                    + bound.ToString() + " per tick)";
            return TickGapProblem() ?? BystanderProblem(bystander);
        }

        private static string ConsoleFlood()
        {
            const ulong total = 12 * SystemCallLimits.MaximumConsoleWrite;
            Environment app = Spawn("console-flood");
            Environment bystander = Spawn("bystander");
            ResetInterruptsOffCounters();
            ulong uartBefore = SerialPort.BytesWritten;
            if (!Start(app) || !Start(bystander)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            ulong maxBytesPerTick = SerialPort.MaxBytesPerTick, gap = Clock.MaxTickGapMicroseconds;
            KernelLog.Flush(); // what is still buffered goes out now (after the measurement)
            ulong uartBytes = SerialPort.BytesWritten - uartBefore;
            KernelLog.WriteLine("console-flood: at most " + maxBytesPerTick.ToString() + " bytes to the UART per tick; longest tick gap "
                + gap.ToString() + " us");
            if (!ExitedWith(app, 0)) return "console-flood " + Ending(app) + ": " + Output(app);
            // The app's own summary line comes on top of the flood.
            if (app.ConsoleBytesAccepted < total)
                return "the kernel accepted " + app.ConsoleBytesAccepted.ToString() + " bytes, the app wrote " + total.ToString();
            if (uartBytes < total) return "only " + uartBytes.ToString() + " bytes reached the UART of " + total.ToString() + " accepted: output was lost";
            if (maxBytesPerTick > KernelLog.MaximumBytesPerTick)
                return maxBytesPerTick.ToString() + " bytes were written to the UART between two ticks (bound "
                    + KernelLog.MaximumBytesPerTick.ToString() + ")";
            return TickGapProblem() ?? BystanderProblem(bystander);
        }

        /// <summary>Live environments created during this test.</summary>
        private static int LiveFromThisTest(out Environment first)
        {
            int count = 0;
            first = null;
            for (int i = 0; i < Environments.Capacity; i++)
            {
                Environment environment = Environments.At(i);
                if (environment == null || environment.Sequence < s_createdBefore) continue;
                if (first == null) first = environment;
                count++;
            }
            return count;
        }

        private static Environment ChildOf(Environment parent)
        {
            for (int i = 0; i < Environments.Capacity; i++)
            {
                Environment environment = Environments.At(i);
                if (environment != null && environment.ParentId == parent.Id) return environment;
            }
            return null;
        }

        private static string OrphanChildren()
        {
            Environment root = Spawn("orphan-children");
            if (!Start(root)) return "cannot start";
            Scheduler.Run(() => !root.IsAlive || LiveFromThisTest(out _) >= 3, 20000);
            if (!root.IsAlive) return "the root " + Ending(root) + ": " + Output(root);
            if (LiveFromThisTest(out _) < 3) return "the tree did not grow to three environments: " + Output(root);
            // The suite holds the root's only capability; the root holds the child's, the child the grandchild's.
            Environments.Destroy(root, EnvironmentState.Destroyed, DestroyReason.ByCapability, 0, null);
            int left = LiveFromThisTest(out Environment orphan);
            if (left != 0)
                return left.ToString() + " descendants of the destroyed root are still alive (e.g. " + orphan.Describe()
                    + ", parent " + orphan.ParentId.ToString("x") + ") and no live environment holds a capability to them";
            if (Environments.Ledger.OrphanedFrames != 0)
                return Environments.Ledger.OrphanedFrames.ToString() + " frames have no owner but are still mapped";
            return null;
        }

        private static string OrphanFrames()
        {
            Environment app = Spawn("orphan-frames");
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || Output(app).Contains("orphan-frames: freed"), 20000);
            if (!app.IsAlive) return "orphan-frames " + Ending(app) + ": " + Output(app);
            if (!Output(app).Contains("orphan-frames: freed")) return "it never freed its frame: " + Output(app);
            return MappedElsewhereProblem(app, "FrameFree");
        }

        private static string RevokeMappedElsewhere()
        {
            Environment app = Spawn("revoke-mapped-elsewhere");
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || Output(app).Contains("revoke-mapped-elsewhere: ready"), 20000);
            if (!app.IsAlive) return "revoke-mapped-elsewhere " + Ending(app) + " before the revocation: " + Output(app);
            Error error = Revocation.Request(app, 1, Clock.Ticks + 20);
            if (error != Error.None) return "the revocation request failed: " + ((long)error).ToString();
            Scheduler.Run(() => !app.IsAlive || Output(app).Contains("repossessed"), 20000);
            if (!app.IsAlive) return "revoke-mapped-elsewhere " + Ending(app) + ": " + Output(app);
            if (app.RepossessedFrames != 1) return "the abort protocol took " + app.RepossessedFrames.ToString() + " frames, expected 1";
            ulong frame = app.Page->Repossessed[0];
            if (Environments.Ledger.MappingsOf(frame) != 0 || !KernelMemory.Frames.IsFree(frame))
                return "the repossessed frame " + frame.ToString("x") + " is still mapped " + Environments.Ledger.MappingsOf(frame).ToString()
                    + " times and " + (KernelMemory.Frames.IsFree(frame) ? "free" : "not free");
            return MappedElsewhereProblem(app, "the abort protocol");
        }

        /// <summary>After the app's frame was taken back (by 'how'), with its child still alive: the
        /// child must not map it any more and no frame may be left mapped without an owner.</summary>
        private static string MappedElsewhereProblem(Environment app, string how)
        {
            Environment child = ChildOf(app);
            if (child == null) return "the app's child is gone";
            if (child.TryGetMappedFrame(ChildAddress, out ulong frame))
                return "after " + how + " the child still maps frame " + frame.ToString("x") + " (owner "
                    + Environments.Ledger.OwnerOf(frame).ToString("x") + ", " + Environments.Ledger.MappingsOf(frame).ToString() + " mappings)";
            if (Environments.Ledger.OrphanedFrames != 0)
                return Environments.Ledger.OrphanedFrames.ToString() + " frames have no owner but are still mapped";
            return null;
        }
    }
}
