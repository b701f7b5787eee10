// Protection-suite behaviours for the system-call interface, upcalls and verdicts apps cannot forge
// (issue #7). Each behaviour is an attack run as its own app; the kernel judges it from what it
// observed itself. Names here, checks below; ProtectionSuite.cs runs them.
using Aegis.Abi;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Tests
{
    internal static unsafe partial class ProtectionSuite
    {
        private static readonly string[] s_interfaceBehaviours =
        {
            "readonly-upcall-stack", "ipc-negative-reply", "forge-verdict",
        };

        /// <summary>Runs the check of a behaviour of this area (reason: null for PASS, else why it
        /// failed); false when the name is not one of this area's.</summary>
        private static bool TryDispatchInterface(string name, out string reason)
        {
            switch (name)
            {
                case "readonly-upcall-stack": reason = ReadonlyUpcallStack(); return true;
                case "ipc-negative-reply": reason = IpcNegativeReply(); return true;
                case "forge-verdict": reason = ForgeVerdict(); return true;
                default: reason = null; return false;
            }
        }

        /// <summary>The app prints would-be verdict lines. The kernel checks that it really tried (its
        /// output holds them, each at the start of one of its lines); that none of them reached the
        /// console as a verdict is the boot test's to see (it reads the console: only lines without
        /// the "[<id> <name>] " the kernel puts before every line an environment starts count).</summary>
        private static string ForgeVerdict()
        {
            Environment app = Spawn("forge-verdict");
            if (!Start(app)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(app, 0)) return "forge-verdict " + Ending(app);
            string output = Output(app);
            if (!output.StartsWith("TEST forge-verdict FAIL forged") || !output.Contains("\nTEST hello FAIL forged") || !output.Contains("\nTESTS 0 passed, 99 failed"))
                return "the app did not print its forged verdicts: " + output;
            return null;
        }

        private static readonly ulong[] s_pageSnapshot = new ulong[512];

        /// <summary>The app stops itself with a page below its upcall stack's bottom made read-only
        /// after the kernel wrote a nested frame there; the kernel snapshots that page, lets the app
        /// take the same nested upcall again, and then compares the page with the snapshot.</summary>
        /// <summary>The ledger's address-space number for a frame the suite holds itself (no
        /// environment's table slot is ever this high).</summary>
        private const ulong SuiteHoldSpace = FrameLedger.MaximumSpace;

        private static string ReadonlyUpcallStack()
        {
            Environment app = Spawn("readonly-upcall-stack");
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            if (app.State != EnvironmentState.Stopped) return "it did not reach its checkpoint: " + Ending(app) + " " + Output(app);
            if (app.ExceptionUpcalls[InterruptDescriptorTable.Breakpoint] != 1) return "the first nested breakpoint upcall was not delivered";
            ulong bottom = app.UpcallStackTop - (ulong)app.UpcallStackPages * 4096;
            ulong page = bottom - 4096;
            ulong* leaf = PageWalk.UserLeaf(app, page, false);
            if (leaf == null || (*leaf & PageBits.Writable) != 0) return "the page below the upcall stack (0x" + page.ToString("x") + ") is not mapped read-only";
            ulong frame = (*leaf & PageBits.FrameMask) >> PageBits.FrameShift;
            ulong* contents = (ulong*)KernelMemory.PhysicalToVirtual(frame * 4096);
            for (int i = 0; i < 512; i++) s_pageSnapshot[i] = contents[i];
            // Keep the frame (a mapping record in an address space no environment has) past the
            // environment's end, to compare it.
            if (Environments.Ledger.AddMapping(frame, SuiteHoldSpace, 0) != Error.None) return "cannot hold the frame";
            string reason = null;
            if (Environments.Start(app) != Error.None) reason = "cannot resume it";
            else
            {
                // (An app whose frame was written into the read-only page faults on it for ever.)
                bool ended = RunToEnd(3000);
                for (int i = 0; i < 512 && reason == null; i++)
                    if (contents[i] != s_pageSnapshot[i])
                        reason = "the kernel wrote an upcall frame into the read-only page 0x" + page.ToString("x") + " (word " + i.ToString() + " changed)";
                if (reason == null && !ended) reason = "timed out";
                if (reason == null && (app.State != EnvironmentState.Destroyed || app.DestroyReason != DestroyReason.BadUpcall))
                    reason = "it " + Ending(app) + "; expected destroyed for a bad upcall";
            }
            if (Environments.Ledger.RemoveMapping(frame, SuiteHoldSpace, 0))
                KernelMemory.Frames.Free(frame);
            return reason;
        }

        /// <summary>The server replies (-23, -24); the caller exits with reply word 0 if the call
        /// succeeded and word 1 arrived.</summary>
        private static string IpcNegativeReply()
        {
            Environment root = Spawn("ipc-negative-reply");
            if (!Start(root)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            if (Environments.IpcReceivedSince(s_createdBefore) < 2) return "the call and the quit message were not both delivered";
            const ulong expected = unchecked((ulong)-23L);
            if (!ExitedWith(root, expected))
                return "the caller " + Ending(root) + " (" + (root.ExitStatus == 1 ? "the reply -23 came back as an error" : root.ExitStatus == 2 ? "reply word 1 was lost" : "?") + ")";
            return null;
        }
    }
}
