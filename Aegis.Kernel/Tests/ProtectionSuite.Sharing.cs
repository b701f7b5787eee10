// Protection-suite behaviour for PageShare and PageInherit (issue #9, fast fork): the app
// 'pageshare' (Tests/Apps/PageShare) calls them from ring 3 and stops at three checkpoints; the
// kernel judges from what it observes itself: both page tables, the frame ledger (owners, mapping
// counts, releases), the app's charge, the errors it counted. The suite's own accounting check
// (RunOne: every frame back after the app and its children end) covers the teardown.
using Aegis.Abi;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Tests
{
    internal static unsafe partial class ProtectionSuite
    {
        private static readonly string[] s_sharingBehaviours = { "page-share", "kernel-copy-on-write" };

        private static bool TryDispatchSharing(string name, out string reason)
        {
            switch (name)
            {
                case "page-share": reason = PageShareBehaviour(); return true;
                case "kernel-copy-on-write": reason = KernelCopyOnWriteBehaviour(); return true;
                default: reason = null; return false;
            }
        }

        private const ulong ShareBase = 0x40000000, ShareLazy = 0x50000000;

        private static ulong LeafOf(Environment environment, ulong address)
        {
            ulong* leaf = PageWalk.UserLeaf(environment, address, false);
            return leaf == null ? 0 : *leaf;
        }

        private static ulong FrameOfLeaf(ulong leaf) => (leaf & PageBits.FrameMask) >> PageBits.FrameShift;

        private static Environment OnlyChildOf(Environment parent)
        {
            Environment found = null;
            for (int i = 0; i < Environments.Capacity; i++)
            {
                Environment e = Environments.At(i);
                if (e != null && e.IsAlive && e.ParentId == parent.Id) found = e;
            }
            return found;
        }

        /// <summary>PageShare: every bad argument refused with no effect; a copy-on-write share maps the
        /// caller's frames into the child read-only with the mark (and turns the caller's writable pages
        /// read-only with it), skips the unmapped page; PageInherit maps the parent's page in an
        /// on-demand range and refuses one outside; Reclaim makes the caller's sole frames writable
        /// again; Release gives up a frame the child still maps, which stays charged to the releaser
        /// until its last mapping goes and then is free.</summary>
        private static string PageShareBehaviour()
        {
            FrameLedger ledger = Environments.Ledger;
            Environment app = Spawn("page-share");
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            string output = Output(app);
            if (app.State != EnvironmentState.Stopped) return "it did not reach checkpoint 1: " + Ending(app) + " " + output;
            string problem = Expect(output, "bad flags InvalidArgument") ?? Expect(output, "bad mark InvalidArgument")
                ?? Expect(output, "unaligned InvalidArgument") ?? Expect(output, "no pages InvalidArgument")
                ?? Expect(output, "too many pages InvalidArgument") ?? Expect(output, "kernel address BadAddress")
                ?? Expect(output, "empty slot NoCapability") ?? Expect(output, "to itself InvalidArgument")
                ?? Expect(output, "reclaim in a child InvalidArgument") ?? Expect(output, "on demand mixed InvalidArgument")
                ?? Expect(output, "inherit outside BadAddress") ?? Expect(output, "inherit no pages InvalidArgument")
                ?? Expect(output, "pageshare: share 4\n") ?? Expect(output, "pageshare: on demand 16\n");
            if (problem != null) return problem;
            if (app.SystemCallErrors != 12) return "expected 12 refusals, the kernel counted " + app.SystemCallErrors.ToString();
            Environment child = OnlyChildOf(app);
            if (child == null) return "the app's child is not alive";
            // Checkpoint 1: the same frames in both, read-only with the mark (page 2 was read-only:
            // marked in the child only, MarkReadOnly); page 3 unmapped in both.
            for (ulong i = 0; i < 5; i++)
            {
                ulong address = ShareBase + i * 4096;
                ulong own = LeafOf(app, address), theirs = LeafOf(child, address);
                if (i == 3)
                {
                    if (own != 0 || theirs != 0) return "page 3 (unmapped in the app) is mapped";
                    continue;
                }
                if (own == 0 || theirs == 0 || FrameOfLeaf(own) != FrameOfLeaf(theirs)) return "page " + i.ToString() + " does not map the app's frame in the child";
                if ((own & PageBits.Writable) != 0 || (theirs & PageBits.Writable) != 0) return "page " + i.ToString() + " is still writable";
                if ((theirs & PageBits.Software0) == 0) return "page " + i.ToString() + " lacks the mark in the child";
                if ((own & PageBits.Software0) == 0 && i != 2) return "the app's page " + i.ToString() + " lacks the mark";
                if (i == 2 && (own & PageBits.Software0) != 0) return "the app's read-only page got the mark";
                if (ledger.MappingsOf(FrameOfLeaf(own)) != 2 || ledger.OwnerOf(FrameOfLeaf(own)) != app.Id) return "page " + i.ToString() + "'s frame is not the app's with two mappings";
            }
            // The on-demand range: nothing mapped yet; PageInherit maps the parent's page read-only.
            if (LeafOf(child, ShareLazy) != 0) return "the on-demand range was mapped at once";
            ulong lazyFrame = FrameOfLeaf(LeafOf(app, ShareLazy));
            ulong inherited = UserPageTables.PageInherit(child, ShareLazy, 16);
            if (inherited != 1) return "PageInherit in the child mapped " + inherited.ToString() + " pages, not 1";
            ulong lazyLeaf = LeafOf(child, ShareLazy);
            if (FrameOfLeaf(lazyLeaf) != lazyFrame || (lazyLeaf & PageBits.Writable) != 0) return "PageInherit did not map the parent's frame read-only";
            if ((long)UserPageTables.PageInherit(child, ShareLazy + 16 * 4096, 1) != (long)Error.BadAddress) return "PageInherit outside the range was not refused";
            if (UserPageTables.PageInherit(child, ShareLazy, 16) != 0) return "PageInherit mapped a page twice";

            // Checkpoint 2: reclaimed, written, shared again and released.
            ulong frame0 = FrameOfLeaf(LeafOf(app, ShareBase));
            ulong chargedBefore = app.FramesCharged;
            if (Environments.Start(app) != Error.None) return "cannot resume it";
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            output = Output(app);
            if (app.State != EnvironmentState.Stopped) return "it did not reach checkpoint 2: " + Ending(app) + " " + output;
            problem = Expect(output, "pageshare: reclaim 3\n") ?? Expect(output, "pageshare: share again 1\n") ?? Expect(output, "pageshare: release 0\n");
            if (problem != null) return problem;
            if (child.IsAlive) return "the first child is alive after its destruction";
            ulong leaf4 = LeafOf(app, ShareBase + 4 * 4096);
            if ((leaf4 & PageBits.Writable) == 0 || (leaf4 & PageBits.Software0) != 0) return "a reclaimed page is not writable without the mark";
            if (*(ulong*)KernelMemory.PhysicalToVirtual(FrameOfLeaf(leaf4) * 4096) != 0x6A04) return "the app's write to a reclaimed page did not land in its own frame";
            Environment second = OnlyChildOf(app);
            if (second == null) return "the second child is not alive";
            if (FrameOfLeaf(LeafOf(second, ShareBase)) != frame0 || FrameOfLeaf(LeafOf(app, ShareBase)) != frame0) return "page 0 is not the released frame in both";
            if (ledger.OwnerOf(frame0) != FrameLedger.NoOwner || !ledger.IsReleased(frame0) || ledger.MappingsOf(frame0) != 2)
                return "the released frame is not ownerless, released and mapped twice";
            if (app.FramesCharged != chargedBefore) return "the release changed the app's charge (" + chargedBefore.ToString() + " -> " + app.FramesCharged.ToString() + ")";

            // Checkpoint 3: the frame's last mapping went: free, and no longer charged to the app.
            if (Environments.Start(app) != Error.None) return "cannot resume it";
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            output = Output(app);
            if (app.State != EnvironmentState.Stopped) return "it did not reach checkpoint 3: " + Ending(app) + " " + output;
            problem = Expect(output, "pageshare: unmap 0\n") ?? Expect(output, "pageshare: destroy second 0\n");
            if (problem != null) return problem;
            if (!KernelMemory.Frames.IsFree(frame0) || ledger.IsReleased(frame0) || ledger.MappingsOf(frame0) != 0)
                return "the released frame is not free after its last mapping went";
            if (app.FramesCharged != chargedBefore - 1) return "the app is still charged for the released frame (" + chargedBefore.ToString() + " -> " + app.FramesCharged.ToString() + ")";
            if (Environments.Start(app) != Error.None) return "cannot resume it";
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(app, 0)) return "pageshare " + Ending(app) + " " + Output(app);
            return null;
        }

        /// <summary>CopyOnWriteMark: bad settings refused; a write to a page carrying the whole mark
        /// that a child also maps gets a fresh frame of the writer's own with the same bytes (the child
        /// keeps the old frame and bytes; the old frame, the writer's, is released to the child); a
        /// page with half the mark is upcalled as before; once the child is gone a marked page whose
        /// frame the writer alone maps keeps its frame and becomes writable; no upcall for either.
        /// Then PageShare Discard: refused mixed or on another slot; frees a frame the app alone maps
        /// (uncharged) and gives up one a child still maps (it keeps it). PageAllocate: bad calls
        /// refused, fresh zeroed frames of the app's own. PageAlias: bad calls refused, the app's
        /// frames a second time, read-only.</summary>
        private static string KernelCopyOnWriteBehaviour()
        {
            FrameLedger ledger = Environments.Ledger;
            const ulong a = ShareBase, b = ShareBase + 4096, c = ShareBase + 2 * 4096;
            const ulong mark = PageBits.Software0 | PageBits.Software2;
            Environment app = Spawn("kernel-copy-on-write");
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            string output = Output(app);
            if (app.State != EnvironmentState.Stopped) return "it did not reach checkpoint 1: " + Ending(app) + " " + output;
            string problem = Expect(output, "cowmark: bad mark InvalidArgument") ?? Expect(output, "cowmark: drop without mark InvalidArgument")
                ?? Expect(output, "cowmark: empty slot NoCapability")
                ?? Expect(output, "cowmark: mark 0\n") ?? Expect(output, "cowmark: share 2\n") ?? Expect(output, "cowmark: half mark 1\n")
                ?? Expect(output, "cowmark: upcalled 1\n");
            if (problem != null) return problem;
            if (app.SystemCallErrors != 3) return "expected 3 refusals, the kernel counted " + app.SystemCallErrors.ToString();
            if (app.CopyOnWriteCopies != 1 || app.CopyOnWriteKept != 0)
                return "the kernel copied " + app.CopyOnWriteCopies.ToString() + " and kept " + app.CopyOnWriteKept.ToString() + " pages, not 1 and 0";
            Environment child = OnlyChildOf(app);
            if (child == null) return "the app's child is not alive";
            ulong ownA = LeafOf(app, a), theirA = LeafOf(child, a);
            if (ownA == 0 || theirA == 0 || FrameOfLeaf(ownA) == FrameOfLeaf(theirA)) return "page A was not copied for the app";
            if ((ownA & PageBits.Writable) == 0 || (ownA & (mark | PageBits.Software1)) != 0) return "the app's copy of A is not writable without the mark";
            if ((theirA & PageBits.Writable) != 0 || (theirA & mark) != mark) return "the child's A changed";
            if (*(ulong*)KernelMemory.PhysicalToVirtual(FrameOfLeaf(ownA) * 4096) != 0xA1) return "the app's write to A is not in its copy";
            if (*(ulong*)KernelMemory.PhysicalToVirtual(FrameOfLeaf(theirA) * 4096) != 0xA0) return "the child's A does not hold the old bytes";
            if (ledger.OwnerOf(FrameOfLeaf(ownA)) != app.Id || ledger.MappingsOf(FrameOfLeaf(ownA)) != 1) return "the copy is not the app's own, mapped once";
            if (ledger.OwnerOf(FrameOfLeaf(theirA)) != FrameLedger.NoOwner || !ledger.IsReleased(FrameOfLeaf(theirA)) || ledger.MappingsOf(FrameOfLeaf(theirA)) != 1)
                return "the old frame of A is not released to the child (ownerless, mapped once)";
            ulong leafC = LeafOf(app, c);
            if ((leafC & PageBits.Writable) == 0 || *(ulong*)KernelMemory.PhysicalToVirtual(FrameOfLeaf(leafC) * 4096) != 0xC1) return "page C was not handled by the app's upcall";
            ulong frameB = FrameOfLeaf(LeafOf(app, b));

            if (Environments.Start(app) != Error.None) return "cannot resume it";
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            output = Output(app);
            if (app.State != EnvironmentState.Stopped) return "it did not reach checkpoint 2: " + Ending(app) + " " + output;
            problem = Expect(output, "cowmark: destroy 0\ncowmark: upcalled 1\n");
            if (problem != null) return problem;
            if (app.CopyOnWriteCopies != 1 || app.CopyOnWriteKept != 1) return "after the child's end the kernel copied " + app.CopyOnWriteCopies.ToString() + " and kept " + app.CopyOnWriteKept.ToString();
            ulong leafB = LeafOf(app, b);
            if (FrameOfLeaf(leafB) != frameB || (leafB & PageBits.Writable) == 0 || (leafB & mark) != 0) return "page B did not keep its frame, writable without the mark";
            if (*(ulong*)KernelMemory.PhysicalToVirtual(frameB * 4096) != 0xB1) return "the app's write to B is not in its frame";
            ulong frameA = FrameOfLeaf(LeafOf(app, a));

            // Checkpoint 3: PageShare Discard frees A's frame (the app's alone) and gives up B's (the
            // third child maps it), both unmapped in the app; B stays charged until its last mapping.
            ulong chargedBefore = app.FramesCharged;
            if (Environments.Start(app) != Error.None) return "cannot resume it";
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            output = Output(app);
            if (app.State != EnvironmentState.Stopped) return "it did not reach checkpoint 3: " + Ending(app) + " " + output;
            problem = Expect(output, "cowmark: share B 1\n") ?? Expect(output, "cowmark: discard mixed InvalidArgument")
                ?? Expect(output, "cowmark: discard in a child InvalidArgument") ?? Expect(output, "cowmark: discard 2\n");
            if (problem != null) return problem;
            if (LeafOf(app, a) != 0 || LeafOf(app, b) != 0) return "Discard left a page mapped";
            if (!KernelMemory.Frames.IsFree(frameA) || ledger.MappingsOf(frameA) != 0) return "A's frame (the app's alone) was not freed";
            if (ledger.OwnerOf(frameB) != FrameLedger.NoOwner || !ledger.IsReleased(frameB) || ledger.MappingsOf(frameB) != 1)
                return "B's frame (the child maps it) was not given up, mapped once";
            Environment third = OnlyChildOf(app);
            if (third == null || FrameOfLeaf(LeafOf(third, b)) != frameB) return "the third child lost B";
            if (app.FramesCharged != chargedBefore - 1) return "the app's charge went " + chargedBefore.ToString() + " -> " + app.FramesCharged.ToString() + ", not down by A's frame";

            // Checkpoint 4: PageAllocate refuses six bad calls (nothing mapped by them), maps 3 fresh
            // zeroed frames of the app's own, charged to it.
            const ulong d = ShareBase + 16 * 4096;
            ulong errorsBefore = app.SystemCallErrors;
            chargedBefore = app.FramesCharged;
            if (Environments.Start(app) != Error.None) return "cannot resume it";
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            output = Output(app);
            if (app.State != EnvironmentState.Stopped) return "it did not reach checkpoint 4: " + Ending(app) + " " + output;
            problem = Expect(output, "cowmark: allocate unaligned InvalidArgument") ?? Expect(output, "cowmark: allocate none InvalidArgument")
                ?? Expect(output, "cowmark: allocate too many InvalidArgument") ?? Expect(output, "cowmark: allocate bad permissions InvalidArgument")
                ?? Expect(output, "cowmark: allocate kernel BadAddress") ?? Expect(output, "cowmark: allocate over a mapped page Busy")
                ?? Expect(output, "cowmark: allocate 3\n");
            if (problem != null) return problem;
            if (app.SystemCallErrors != errorsBefore + 6) return "expected 6 more refusals, the kernel counted " + (app.SystemCallErrors - errorsBefore).ToString();
            if (LeafOf(app, b) != 0) return "the refused PageAllocate over B mapped it";
            for (ulong i = 0; i < 3; i++)
            {
                ulong leaf = LeafOf(app, d + i * 4096);
                if (leaf == 0 || (leaf & PageBits.Writable) == 0) return "PageAllocate's page " + i.ToString() + " is not mapped writable";
                ulong frame = FrameOfLeaf(leaf);
                if (ledger.OwnerOf(frame) != app.Id || ledger.MappingsOf(frame) != 1) return "PageAllocate's page " + i.ToString() + " is not the app's own frame, mapped once";
                ulong* bytes = (ulong*)KernelMemory.PhysicalToVirtual(frame * 4096);
                for (int w = 0; w < 512; w++)
                    if (bytes[w] != (i == 1 && w == 0 ? 0xD1UL : 0)) return "PageAllocate's page " + i.ToString() + " is not zero but for the app's write";
            }
            // (Its heap may grow meanwhile, through PageAllocate too: at least the 3 are charged.)
            if (app.FramesCharged < chargedBefore + 3) return "PageAllocate's frames are not charged: " + chargedBefore.ToString() + " -> " + app.FramesCharged.ToString();

            // Checkpoint 5: PageAlias refuses six bad calls (nothing mapped by them), then maps D's
            // three frames a second time at E: the same frames, read-only, with the asked software
            // bit, each now mapped twice and still the app's; a write through D is read through E.
            const ulong e = ShareBase + 32 * 4096;
            errorsBefore = app.SystemCallErrors;
            if (Environments.Start(app) != Error.None) return "cannot resume it";
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            output = Output(app);
            if (app.State != EnvironmentState.Stopped) return "it did not reach checkpoint 5: " + Ending(app) + " " + output;
            problem = Expect(output, "cowmark: alias writable InvalidArgument") ?? Expect(output, "cowmark: alias unaligned InvalidArgument")
                ?? Expect(output, "cowmark: alias too many InvalidArgument") ?? Expect(output, "cowmark: alias kernel BadAddress")
                ?? Expect(output, "cowmark: alias unmapped source NotMapped") ?? Expect(output, "cowmark: alias over a mapped page Busy")
                ?? Expect(output, "cowmark: alias 3\n");
            if (problem != null) return problem;
            if (app.SystemCallErrors != errorsBefore + 6) return "expected 6 more refusals from PageAlias, the kernel counted " + (app.SystemCallErrors - errorsBefore).ToString();
            if (LeafOf(app, b) != 0 || LeafOf(app, a) != 0) return "a refused PageAlias mapped a page";
            for (ulong i = 0; i < 3; i++)
            {
                ulong original = LeafOf(app, d + i * 4096), alias = LeafOf(app, e + i * 4096);
                if (alias == 0 || FrameOfLeaf(alias) != FrameOfLeaf(original)) return "PageAlias's page " + i.ToString() + " is not D's frame";
                if ((alias & PageBits.Writable) != 0 || (alias & (PageBits.Software0 | PageBits.Software1 | PageBits.Software2)) != PageBits.Software0)
                    return "PageAlias's page " + i.ToString() + " is writable or lacks exactly the asked software bit";
                ulong frame = FrameOfLeaf(alias);
                if (ledger.OwnerOf(frame) != app.Id || ledger.MappingsOf(frame) != 2) return "PageAlias's frame " + i.ToString() + " is not the app's, mapped twice";
            }
            if (*(ulong*)KernelMemory.PhysicalToVirtual(FrameOfLeaf(LeafOf(app, e + 4096)) * 4096) != 0xD2) return "the write through D is not in E's frame";
            if (Environments.Start(app) != Error.None) return "cannot resume it";
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(app, 0)) return "cowmark " + Ending(app) + " " + Output(app);
            return null;
        }
    }
}
