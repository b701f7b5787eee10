// Frame accounting: ownership, grants and the reverse map (every mapping of a frame) decide who
// may bind a frame and when it goes back to the allocator; no frame is ever lost or freed twice;
// an owner's frames are found and taken in O(1) each (owner lists).
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using NUnit.Framework;

namespace Aegis.Tests.Host.Exo;

public class FrameLedgerTests
{
    private const ulong Alice = 0x401, Bob = 0x402, Carol = 0x403;

    [Test]
    public void GrantsAreCountedPerAccountUntilTheyGo()
    {
        FrameLedger ledger = new(16, maximumGrants: 8);
        ledger.Assign(1, Alice);
        ledger.Assign(2, Alice);
        Assert.That(ledger.Grant(1, Alice, Bob, false, account: 3), Is.EqualTo(Error.None));
        Assert.That(ledger.Grant(1, Alice, Carol, true, account: 3), Is.EqualTo(Error.None));
        Assert.That(ledger.Grant(2, Alice, Bob, false, account: 5), Is.EqualTo(Error.None));
        Assert.That(ledger.GrantsOf(3), Is.EqualTo(2));
        Assert.That(ledger.GrantsOf(5), Is.EqualTo(1));
        // Re-granting changes rights only: no new charge.
        Assert.That(ledger.Grant(1, Alice, Bob, true, account: 3), Is.EqualTo(Error.None));
        Assert.That(ledger.GrantsOf(3), Is.EqualTo(2));
        // The grantee ends: its grants go, and their charge with them.
        ledger.DropGrantsTo(Bob);
        Assert.That(ledger.GrantsOf(3), Is.EqualTo(1));
        Assert.That(ledger.GrantsOf(5), Is.EqualTo(0));
        // The owner gives the frame up: the rest goes.
        ledger.ReleaseOwnership(1);
        Assert.That(ledger.GrantsOf(3), Is.EqualTo(0));
        Assert.That(ledger.GrantCount, Is.EqualTo(0));
    }

    /// <summary>PageShare's Release: the owner gives up a frame others still map; it is an orphan
    /// freed with its last mapping (once), its grants go, and the releaser is remembered until then.</summary>
    [Test]
    public void ReleasedFrameIsFreedWithItsLastMappingAndRemembersItsReleaser()
    {
        FrameLedger ledger = new(16);
        Assert.That(ledger.Assign(3, Alice), Is.EqualTo(Error.None));
        Assert.That(ledger.Release(3, Alice), Is.EqualTo(Error.Busy), "nothing maps it: FrameFree it instead");
        ledger.AddMapping(3, 1, 0x40000000);
        ledger.AddMapping(3, 2, 0x40000000);
        ledger.Grant(3, Alice, Carol, true);
        Assert.That(ledger.Release(3, Bob), Is.EqualTo(Error.NotOwner));
        Assert.That(ledger.Release(99, Alice), Is.EqualTo(Error.InvalidArgument));
        Assert.That(ledger.Release(3, Alice), Is.EqualTo(Error.None));
        Assert.That(ledger.OwnerOf(3), Is.EqualTo(FrameLedger.NoOwner));
        Assert.That(ledger.IsReleased(3), Is.True);
        Assert.That(ledger.OwnedFrames, Is.EqualTo(0UL));
        Assert.That(ledger.OrphanedFrames, Is.EqualTo(1UL));
        Assert.That(ledger.GrantCount, Is.EqualTo(0), "its grants went with the ownership");
        Assert.That(ledger.CheckMap(3, Alice, false), Is.EqualTo(Error.NotOwner), "the releaser may not bind it any more");
        Assert.That(ledger.Release(3, Alice), Is.EqualTo(Error.NotOwner), "released once");
        Assert.That(ledger.RemoveMapping(3, 1, 0x40000000), Is.False);
        Assert.That(ledger.RemoveMapping(3, 2, 0x40000000), Is.True, "the last mapping frees it");
        Assert.That(ledger.OrphanedFrames, Is.EqualTo(0UL));
        Assert.That(ledger.TakeReleaser(3), Is.EqualTo(Alice));
        Assert.That(ledger.TakeReleaser(3), Is.EqualTo(FrameLedger.NoOwner), "taken once");
        Assert.That(ledger.IsReleased(3), Is.False);
        // Reassigned later: a fresh frame, no releaser.
        Assert.That(ledger.Assign(3, Bob), Is.EqualTo(Error.None));
        Assert.That(ledger.TakeReleaser(3), Is.EqualTo(FrameLedger.NoOwner));
    }

    [Test]
    public void GrantsNeverOutgrowThePoolMadeAtTheStart()
    {
        FrameLedger ledger = new(64, maximumGrants: 4);
        for (ulong frame = 0; frame < 8; frame++)
            ledger.Assign(frame, Alice);
        int made = 0;
        for (ulong frame = 0; frame < 8; frame++)
            if (ledger.Grant(frame, Alice, Bob, false, account: 1) == Error.None) made++;
        Assert.That(made, Is.EqualTo(4));
        Assert.That(ledger.GrantsOf(1), Is.EqualTo(4));
        Assert.That(ledger.Grant(7, Alice, Carol, false), Is.EqualTo(Error.NoMemory));
    }

    [Test]
    public void OwnerMayMapReadOnlyAndWritable()
    {
        FrameLedger ledger = new(100);
        Assert.That(ledger.Assign(10, Alice), Is.EqualTo(Error.None));
        Assert.That(ledger.OwnerOf(10), Is.EqualTo(Alice));
        Assert.That(ledger.CheckMap(10, Alice, false), Is.EqualTo(Error.None));
        Assert.That(ledger.CheckMap(10, Alice, true), Is.EqualTo(Error.None));
    }

    [Test]
    public void OthersFramesAreNotOwner()
    {
        FrameLedger ledger = new(100);
        ledger.Assign(10, Alice);
        Assert.That(ledger.CheckMap(10, Bob, false), Is.EqualTo(Error.NotOwner));
        Assert.That(ledger.CheckMap(11, Bob, false), Is.EqualTo(Error.NotOwner), "an unowned frame");
        Assert.That(ledger.CheckMap(10, FrameLedger.NoOwner, false), Is.EqualTo(Error.NotOwner));
    }

    [Test]
    public void KernelFramesAreNobodysToMap()
    {
        FrameLedger ledger = new(100);
        ledger.Assign(3, FrameLedger.KernelOwner);
        Assert.That(ledger.CheckMap(3, Alice, false), Is.EqualTo(Error.NotOwner));
        Assert.That(ledger.Grant(3, Alice, Bob, false), Is.EqualTo(Error.NotOwner));
    }

    [TestCase(100UL)]
    [TestCase(ulong.MaxValue)]
    [TestCase(1UL << 40)]
    public void FramePastTheLimitIsInvalidArgument(ulong frame)
    {
        FrameLedger ledger = new(100);
        Assert.That(ledger.CheckMap(frame, Alice, false), Is.EqualTo(Error.InvalidArgument));
        Assert.That(ledger.Assign(frame, Alice), Is.EqualTo(Error.InvalidArgument));
        Assert.That(ledger.Grant(frame, Alice, Bob, false), Is.EqualTo(Error.InvalidArgument));
        Assert.That(ledger.AddMapping(frame, 1, 0x1000), Is.EqualTo(Error.InvalidArgument));
        Assert.That(ledger.RemoveMapping(frame, 1, 0x1000), Is.False);
        Assert.That(ledger.TryGetMapping(frame, out _, out _), Is.False);
        Assert.That(ledger.ReleaseOwnership(frame), Is.False);
        Assert.That(ledger.OwnerOf(frame), Is.EqualTo(FrameLedger.NoOwner));
    }

    [Test]
    public void AFrameTakesAtMostMaximumMappingsPerFrameMappings()
    {
        FrameLedger ledger = new(100, maximumMappings: 4096);
        Assert.That(ledger.Assign(10, Alice), Is.EqualTo(Error.None));
        for (ulong i = 0; i < FrameLedger.MaximumMappingsPerFrame; i++)
            Assert.That(ledger.AddMapping(10, 1, 0x1000 + i * 4096), Is.EqualTo(Error.None));
        int free = ledger.FreeMappingRecords;
        Assert.That(ledger.AddMapping(10, 2, 0x1000), Is.EqualTo(Error.QuotaExceeded));
        Assert.That(ledger.FreeMappingRecords, Is.EqualTo(free), "a refused mapping takes no record");
        Assert.That(ledger.MappingsOf(10), Is.EqualTo((ulong)FrameLedger.MaximumMappingsPerFrame));
        Assert.That(ledger.AddMapping(11, 1, 0x1000), Is.EqualTo(Error.None), "other frames are not limited by it");
        Assert.That(ledger.RemoveMapping(10, 1, 0x1000), Is.False);
        Assert.That(ledger.AddMapping(10, 2, 0x1000), Is.EqualTo(Error.None), "a removed mapping makes room");
    }

    [Test]
    public void AssignRefusesOwnedOrMappedFrames()
    {
        FrameLedger ledger = new(100);
        ledger.Assign(10, Alice);
        Assert.That(ledger.Assign(10, Bob), Is.EqualTo(Error.Busy));
        ledger.AddMapping(10, 1, 0x1000);
        ledger.ReleaseOwnership(10);
        Assert.That(ledger.Assign(10, Bob), Is.EqualTo(Error.Busy), "still mapped");
        Assert.That(ledger.Assign(11, FrameLedger.NoOwner), Is.EqualTo(Error.InvalidArgument));
    }

    [Test]
    public void ReadOnlyGrantAllowsOnlyReadOnlyMaps()
    {
        FrameLedger ledger = new(100);
        ledger.Assign(10, Alice);
        Assert.That(ledger.Grant(10, Alice, Bob, false), Is.EqualTo(Error.None));
        Assert.That(ledger.CheckMap(10, Bob, false), Is.EqualTo(Error.None));
        Assert.That(ledger.CheckMap(10, Bob, true), Is.EqualTo(Error.NotOwner));
        Assert.That(ledger.CheckMap(10, Carol, false), Is.EqualTo(Error.NotOwner));
    }

    [Test]
    public void GrantingAgainUpdatesTheRights()
    {
        FrameLedger ledger = new(100);
        ledger.Assign(10, Alice);
        ledger.Grant(10, Alice, Bob, false);
        Assert.That(ledger.Grant(10, Alice, Bob, true), Is.EqualTo(Error.None));
        Assert.That(ledger.CheckMap(10, Bob, true), Is.EqualTo(Error.None));
        Assert.That(ledger.GrantCount, Is.EqualTo(1));
        ledger.Grant(10, Alice, Bob, false);
        Assert.That(ledger.CheckMap(10, Bob, true), Is.EqualTo(Error.NotOwner));
        Assert.That(ledger.IsGrantedTo(10, Bob, out bool writable), Is.True);
        Assert.That(writable, Is.False);
    }

    [Test]
    public void OnlyTheOwnerMayGrant()
    {
        FrameLedger ledger = new(100);
        ledger.Assign(10, Alice);
        ledger.Grant(10, Alice, Bob, true);
        Assert.That(ledger.Grant(10, Bob, Carol, true), Is.EqualTo(Error.NotOwner), "a grantee cannot pass it on");
        Assert.That(ledger.Grant(11, Alice, Bob, true), Is.EqualTo(Error.NotOwner), "an unowned frame");
        Assert.That(ledger.Grant(10, FrameLedger.NoOwner, Bob, true), Is.EqualTo(Error.NotOwner));
        Assert.That(ledger.Grant(10, Alice, FrameLedger.NoOwner, true), Is.EqualTo(Error.InvalidArgument));
        Assert.That(ledger.Grant(10, Alice, Alice, false), Is.EqualTo(Error.None));
        Assert.That(ledger.CheckMap(10, Alice, true), Is.EqualTo(Error.None), "granting to oneself changes nothing");
        Assert.That(ledger.GrantCount, Is.EqualTo(1));
    }

    [Test]
    public void GrantsAreBounded()
    {
        FrameLedger ledger = new(100, maximumGrants: 3);
        ledger.Assign(10, Alice);
        for (ulong grantee = 1; grantee <= 3; grantee++) Assert.That(ledger.Grant(10, Alice, 0x1000 + grantee, false), Is.EqualTo(Error.None));
        Assert.That(ledger.Grant(10, Alice, 0x2000, false), Is.EqualTo(Error.NoMemory));
        Assert.That(ledger.Grant(10, Alice, 0x1001, true), Is.EqualTo(Error.None), "updating an existing grant needs no room");
        ledger.DropGrantsTo(0x1002);
        Assert.That(ledger.Grant(10, Alice, 0x2000, false), Is.EqualTo(Error.None));
    }

    [Test]
    public void ReleasingAnUnmappedFrameFreesItAndDropsItsGrants()
    {
        FrameLedger ledger = new(100);
        ledger.Assign(10, Alice);
        ledger.Grant(10, Alice, Bob, true);
        Assert.That(ledger.ReleaseOwnership(10), Is.True);
        Assert.That(ledger.OwnerOf(10), Is.EqualTo(FrameLedger.NoOwner));
        Assert.That(ledger.GrantCount, Is.Zero);
        Assert.That(ledger.CheckMap(10, Bob, false), Is.EqualTo(Error.NotOwner));
        Assert.That(ledger.ReleaseOwnership(10), Is.False, "nothing to release twice");
    }

    [Test]
    public void AMappedFrameOutlivesItsOwnerUntilTheLastUnmap()
    {
        FrameLedger ledger = new(100);
        ledger.Assign(10, Alice);
        ledger.Grant(10, Alice, Bob, false);
        ledger.AddMapping(10, 1, 0x1000);
        ledger.AddMapping(10, 2, 0x7000);
        Assert.That(ledger.ReleaseOwnership(10), Is.False);
        Assert.That(ledger.OrphanedFrames, Is.EqualTo(1UL));
        Assert.That(ledger.RemoveMapping(10, 1, 0x1000), Is.False);
        Assert.That(ledger.RemoveMapping(10, 2, 0x7000), Is.True, "last mapping of an ownerless frame: free it");
        Assert.That(ledger.OrphanedFrames, Is.Zero);
        Assert.That(ledger.RemoveMapping(10, 2, 0x7000), Is.False, "never negative, never freed twice");
        Assert.That(ledger.MappingsOf(10), Is.Zero);
    }

    [Test]
    public void UnmappingAnOwnedFrameKeepsIt()
    {
        FrameLedger ledger = new(100);
        ledger.Assign(10, Alice);
        ledger.AddMapping(10, 1, 0x1000);
        Assert.That(ledger.RemoveMapping(10, 1, 0x1000), Is.False);
        Assert.That(ledger.OwnerOf(10), Is.EqualTo(Alice));
    }

    [Test]
    public void OwnedFramesAreCountedAndListedPerOwner()
    {
        FrameLedger ledger = new(100);
        ledger.Assign(5, Alice);
        ledger.Assign(50, Alice);
        ledger.Assign(7, Bob);
        ledger.Assign(99, Alice);
        Assert.That(ledger.CountOwnedBy(Alice), Is.EqualTo(3UL));
        Assert.That(ledger.CountOwnedBy(Bob), Is.EqualTo(1UL));
        Assert.That(ledger.CountOwnedBy(Carol), Is.Zero);
        Assert.That(ledger.CountOwnedBy(FrameLedger.NoOwner), Is.Zero);
        Assert.That(ledger.FramesOwnedBy(Alice).ToArray(), Is.EqualTo(new ulong[] { 5, 50, 99 }), "in the order acquired");
        Assert.That(ledger.FirstOwnedBy(Alice), Is.EqualTo(5UL));
        Assert.That(ledger.NextOwnedAfter(5), Is.EqualTo(50UL));
        Assert.That(ledger.LastOwnedBy(Alice), Is.EqualTo(99UL));
        Assert.That(ledger.NextOwnedAfter(99), Is.EqualTo(100UL), "FrameLimit at the end");
        Assert.That(ledger.OwnedFrames, Is.EqualTo(4UL));
        ledger.ReleaseOwnership(50);
        Assert.That(ledger.CountOwnedBy(Alice), Is.EqualTo(2UL));
        Assert.That(ledger.FramesOwnedBy(Alice).ToArray(), Is.EqualTo(new ulong[] { 5, 99 }));
        Assert.That(ledger.NextOwnedAfter(5), Is.EqualTo(99UL), "taken out of the middle of the list");
    }

    [Test]
    public void TheLastAcquiredFrameIsTakenFirstUntilNoneIsLeft()
    {
        FrameLedger ledger = new(1000);
        ulong[] order = { 700, 3, 512, 999, 4 };
        foreach (ulong frame in order) ledger.Assign(frame, Alice);
        ledger.Assign(600, Bob);
        for (int i = order.Length - 1; i >= 0; i--)
        {
            Assert.That(ledger.LastOwnedBy(Alice), Is.EqualTo(order[i]));
            Assert.That(ledger.ReleaseOwnership(order[i]), Is.True);
        }
        Assert.That(ledger.LastOwnedBy(Alice), Is.EqualTo(1000UL), "none left: FrameLimit");
        Assert.That(ledger.FirstOwnedBy(Alice), Is.EqualTo(1000UL));
        Assert.That(ledger.CountOwnedBy(Alice), Is.Zero);
        Assert.That(ledger.LastOwnedBy(Bob), Is.EqualTo(600UL), "another owner's list is untouched");
        Assert.That(ledger.LastOwnedBy(FrameLedger.NoOwner), Is.EqualTo(1000UL));
    }

    [Test]
    public void TakingEveryFrameOfALargeOwnerIsLinear()
    {
        // The abort protocol and Destroy take an owner's frames one by one through LastOwnedBy; a
        // scan per frame (the old NextOwnedBy) made 16,000 frames take seconds. 200,000 frames
        // here would take minutes that way.
        const int frames = 200000;
        FrameLedger ledger = new(frames);
        for (ulong frame = 0; frame < frames; frame++) ledger.Assign(frame, (frame & 1) == 0 ? Alice : Bob);
        System.Diagnostics.Stopwatch watch = System.Diagnostics.Stopwatch.StartNew();
        ulong taken = 0;
        for (ulong frame = ledger.LastOwnedBy(Alice); frame < frames; frame = ledger.LastOwnedBy(Alice))
        {
            Assert.That(ledger.OwnerOf(frame), Is.EqualTo(Alice));
            ledger.ReleaseOwnership(frame);
            taken++;
        }
        Assert.That(taken, Is.EqualTo((ulong)frames / 2));
        Assert.That(ledger.CountOwnedBy(Bob), Is.EqualTo((ulong)frames / 2));
        Assert.That(watch.Elapsed.TotalSeconds, Is.LessThan(10), "taking frames must not scan the frame table");
    }

    [Test]
    public void OwnersSharingATableSlotCannotOwnFramesAtOnce()
    {
        const ulong sameSlotAsAlice = Alice + EnvironmentTable.Capacity; // the slot's next generation
        FrameLedger ledger = new(100);
        ledger.Assign(10, Alice);
        Assert.That(ledger.Assign(11, sameSlotAsAlice), Is.EqualTo(Error.Busy));
        Assert.That(ledger.CountOwnedBy(sameSlotAsAlice), Is.Zero);
        ledger.ReleaseOwnership(10);
        Assert.That(ledger.Assign(11, sameSlotAsAlice), Is.EqualTo(Error.None), "once Alice's frames are gone");
        Assert.That(ledger.CountOwnedBy(Alice), Is.Zero);
        Assert.That(ledger.LastOwnedBy(Alice), Is.EqualTo(100UL));
        Assert.That(ledger.LastOwnedBy(sameSlotAsAlice), Is.EqualTo(11UL));
    }

    /// <summary>PageAlias records a leaf table's run of pages in one call: the same records
    /// AddMapping would make one by one (frame, space, address), orphan counting included.</summary>
    [Test]
    public void AMappingRunRecordsWhatAddMappingWouldPageByPage()
    {
        FrameLedger ledger = new(100, maximumMappings: 64);
        ledger.Assign(10, Alice);
        ledger.Assign(12, Alice);
        int free = ledger.FreeMappingRecords;
        // Frame 11 has no owner: its first mapping makes it an orphan, as with AddMapping.
        ulong[] frames = { 99, 10, 11, 12, 10 };
        Assert.That(ledger.AddMappingRun(frames, 1, 4, 2, 0x40_0000), Is.EqualTo(4));
        Assert.That(ledger.FreeMappingRecords, Is.EqualTo(free - 4));
        Assert.That(ledger.MappingsOf(10), Is.EqualTo(2UL));
        Assert.That(ledger.MappingsOf(11), Is.EqualTo(1UL));
        Assert.That(ledger.MappingsOf(99), Is.Zero, "outside [first, first + count)");
        Assert.That(ledger.OrphanedFrames, Is.EqualTo(1UL));
        var seen = new System.Collections.Generic.List<(ulong, ulong, ulong)>();
        foreach (ulong frame in new ulong[] { 10, 11, 12 })
            while (ledger.TryGetMapping(frame, out ulong space, out ulong address))
            {
                seen.Add((frame, space, address));
                ledger.RemoveMapping(frame, space, address);
            }
        Assert.That(seen, Is.EquivalentTo(new[] { (10UL, 2UL, 0x40_0000UL), (11UL, 2UL, 0x40_1000UL), (12UL, 2UL, 0x40_2000UL), (10UL, 2UL, 0x40_3000UL) }));
        Assert.That(ledger.FreeMappingRecords, Is.EqualTo(free));
        Assert.That(ledger.OrphanedFrames, Is.Zero, "the orphan went with its last mapping");
    }

    [Test]
    public void AMappingRunStopsWhereAddMappingWouldRefuse()
    {
        FrameLedger ledger = new(100, maximumMappings: 3000);
        ledger.Assign(10, Alice);
        ledger.Assign(20, Alice);
        for (ulong i = 0; i < FrameLedger.MaximumMappingsPerFrame; i++) ledger.AddMapping(20, 1, i * 4096);
        int free = ledger.FreeMappingRecords;
        // The third frame is at its limit: two recorded, nothing of the rest.
        Assert.That(ledger.AddMappingRun(new ulong[] { 10, 10, 20, 10 }, 0, 4, 2, 0x1000), Is.EqualTo(2));
        Assert.That(ledger.FreeMappingRecords, Is.EqualTo(free - 2));
        Assert.That(ledger.MappingsOf(10), Is.EqualTo(2UL));
        // A frame past the limit stops it too; bad arguments record nothing.
        Assert.That(ledger.AddMappingRun(new ulong[] { 10, 100 }, 0, 2, 2, 0x10_0000), Is.EqualTo(1));
        Assert.That(ledger.AddMappingRun(new ulong[] { 10 }, 0, 2, 2, 0x20_0000), Is.Zero, "count past the array");
        Assert.That(ledger.AddMappingRun(new ulong[] { 10 }, 0, 1, 2, 0x20_0800), Is.Zero, "unaligned address");
        Assert.That(ledger.MappingsOf(10), Is.EqualTo(3UL));
        // Out of records: it stops at the last one.
        FrameLedger small = new(100, maximumMappings: 2);
        small.Assign(10, Alice);
        Assert.That(small.AddMappingRun(new ulong[] { 10, 10, 10 }, 0, 3, 1, 0), Is.EqualTo(2));
        Assert.That(small.FreeMappingRecords, Is.Zero);
    }

    [Test]
    public void MayMapAgainRefusesDeviceFramesAndFramesPastTheLimitAndReportsTheMostMappings()
    {
        FrameLedger ledger = new(100);
        ledger.Assign(10, Alice);
        ledger.Assign(11, Alice);
        Assert.That(ledger.MarkDevice(50), Is.EqualTo(Error.None));
        ledger.AddMapping(11, 1, 0x1000);
        ledger.AddMapping(11, 2, 0x1000);
        Assert.That(ledger.MayMapAgain(new ulong[] { 10, 11, 12 }, 3, out uint most), Is.True);
        Assert.That(most, Is.EqualTo(2u));
        Assert.That(ledger.MayMapAgain(new ulong[] { 10, 50 }, 2, out _), Is.False, "a device frame");
        Assert.That(ledger.MayMapAgain(new ulong[] { 10, 100 }, 2, out _), Is.False, "past the limit");
        Assert.That(ledger.MayMapAgain(new ulong[] { 10, 50 }, 1, out most), Is.True, "only the first count are looked at");
        Assert.That(most, Is.Zero);
        Assert.That(ledger.MayMapAgain(new ulong[] { 10 }, 2, out _), Is.False, "count past the array");
    }

    [Test]
    public void TheReverseMapNamesEveryMappingOfAFrame()
    {
        FrameLedger ledger = new(100);
        ledger.Assign(10, Alice);
        Assert.That(ledger.AddMapping(10, 1, 0x40_0000), Is.EqualTo(Error.None));
        Assert.That(ledger.AddMapping(10, 3, 0x4000_0000), Is.EqualTo(Error.None));
        Assert.That(ledger.AddMapping(10, 1, 0x50_0000), Is.EqualTo(Error.None));
        Assert.That(ledger.MappingsOf(10), Is.EqualTo(3UL));
        Assert.That(ledger.RemoveMapping(10, 2, 0x40_0000), Is.False, "not a recorded mapping: nothing changes");
        Assert.That(ledger.MappingsOf(10), Is.EqualTo(3UL));
        var seen = new System.Collections.Generic.List<(ulong, ulong)>();
        while (ledger.TryGetMapping(10, out ulong space, out ulong address))
        {
            seen.Add((space, address));
            Assert.That(ledger.RemoveMapping(10, space, address), Is.False, "still owned");
        }
        Assert.That(seen, Is.EquivalentTo(new[] { (1UL, 0x40_0000UL), (3UL, 0x4000_0000UL), (1UL, 0x50_0000UL) }));
        Assert.That(ledger.MappingsOf(10), Is.Zero);
        Assert.That(ledger.ReleaseOwnership(10), Is.True);
    }

    [Test]
    public void MappingRecordsAreBoundedAndReused()
    {
        FrameLedger ledger = new(100, maximumMappings: 2);
        ledger.Assign(10, Alice);
        Assert.That(ledger.AddMapping(10, 1, 0x1000), Is.EqualTo(Error.None));
        Assert.That(ledger.AddMapping(10, 1, 0x2000), Is.EqualTo(Error.None));
        Assert.That(ledger.FreeMappingRecords, Is.Zero);
        Assert.That(ledger.AddMapping(10, 1, 0x3000), Is.EqualTo(Error.NoMemory));
        Assert.That(ledger.MappingsOf(10), Is.EqualTo(2UL), "a refused mapping changes nothing");
        ledger.RemoveMapping(10, 1, 0x1000);
        Assert.That(ledger.AddMapping(10, 1, 0x3000), Is.EqualTo(Error.None), "a freed record is reused");
        Assert.That(ledger.AddMapping(10, FrameLedger.MaximumSpace + 1, 0x4000), Is.EqualTo(Error.InvalidArgument));
        Assert.That(ledger.AddMapping(10, 1, 0x4001), Is.EqualTo(Error.InvalidArgument), "unaligned");
    }

    [Test]
    public void DropGrantsToRemovesOnlyThatGrantee()
    {
        FrameLedger ledger = new(100);
        for (ulong frame = 0; frame < 10; frame++)
        {
            ledger.Assign(frame, Alice);
            ledger.Grant(frame, Alice, Bob, true);
            ledger.Grant(frame, Alice, Carol, false);
        }
        Assert.That(ledger.DropGrantsTo(Bob), Is.EqualTo(10));
        Assert.That(ledger.GrantCount, Is.EqualTo(10));
        for (ulong frame = 0; frame < 10; frame++)
        {
            Assert.That(ledger.CheckMap(frame, Bob, false), Is.EqualTo(Error.NotOwner));
            Assert.That(ledger.CheckMap(frame, Carol, false), Is.EqualTo(Error.None));
        }
        Assert.That(ledger.DropGrantsTo(Bob), Is.Zero);
    }

    [Test]
    public void AccountingMatchesAModelUnderRandomOperations(
        [Values(1, 2, 3, 4, 5)] int seed)
    {
        LedgerModel model = new(new Random(seed), frameCount: 48, environmentCount: 5, maximumGrants: 40);
        for (int step = 0; step < 6000; step++)
        {
            model.Step();
            model.CheckInvariants(step);
        }
        Assert.That(model.Checks, Is.GreaterThan(0));
    }

    /// <summary>A FrameLedger and FrameAllocator driven like the kernel drives them, next to a
    /// plain model of what each frame's owner, mappings and grants should be.</summary>
    private sealed class LedgerModel
    {
        private readonly Random _random;
        private readonly ulong _frameCount;
        private readonly int _maximumGrants;
        private readonly ulong[] _environments;
        private readonly FrameAllocator _allocator;
        private readonly FrameLedger _ledger;
        private readonly ulong[] _owner;
        private readonly int[] _mappings;
        private readonly System.Collections.Generic.Dictionary<(ulong Frame, ulong Grantee), bool> _grants = new();
        private readonly System.Collections.Generic.List<(ulong Environment, ulong Frame, ulong Address)> _liveMappings = new();
        private ulong _nextAddress = 0x1000;

        public LedgerModel(Random random, ulong frameCount, int environmentCount, int maximumGrants)
        {
            _random = random;
            _frameCount = frameCount;
            _maximumGrants = maximumGrants;
            _environments = new ulong[environmentCount];
            for (int i = 0; i < environmentCount; i++) _environments[i] = 0x400UL + (ulong)i + 1;
            _allocator = new FrameAllocator(frameCount);
            _allocator.AddFreeRange(0, frameCount);
            _ledger = new FrameLedger(frameCount, maximumGrants);
            _owner = new ulong[frameCount];
            _mappings = new int[frameCount];
        }

        public int Checks { get; private set; }

        public void Step()
        {
            switch (_random.Next(8))
            {
                case 0: case 1: Allocate(); break;
                case 2: Grant(); break;
                case 3: case 4: Map(); break;
                case 5: Unmap(); break;
                case 6: if (_random.Next(2) == 0) Release(); else TakeBack(); break;
                default: if (_random.Next(10) == 0) EnvironmentEnds(); else Map(); break;
            }
        }

        private ulong AnyEnvironment() => _environments[_random.Next(_environments.Length)];
        private ulong AnyFrame() => (ulong)_random.Next((int)_frameCount + 2); // sometimes past the limit

        private void Allocate()
        {
            if (!_allocator.TryAllocate(out ulong frame)) return;
            ulong owner = AnyEnvironment();
            Assert.That(_ledger.Assign(frame, owner), Is.EqualTo(Error.None));
            _owner[frame] = owner;
        }

        private void Grant()
        {
            ulong frame = AnyFrame(), claimedOwner = AnyEnvironment(), grantee = AnyEnvironment();
            bool writable = _random.Next(2) == 0;
            Error expected;
            if (frame >= _frameCount) expected = Error.InvalidArgument;
            else if (_owner[frame] != claimedOwner) expected = Error.NotOwner;
            else if (grantee == claimedOwner || _grants.ContainsKey((frame, grantee))) expected = Error.None;
            else expected = _grants.Count >= _maximumGrants ? Error.NoMemory : Error.None;
            Assert.That(_ledger.Grant(frame, claimedOwner, grantee, writable), Is.EqualTo(expected));
            if (expected == Error.None && grantee != claimedOwner) _grants[(frame, grantee)] = writable;
        }

        private void Map()
        {
            ulong frame = AnyFrame(), requester = AnyEnvironment();
            bool writable = _random.Next(2) == 0;
            Error expected;
            if (frame >= _frameCount) expected = Error.InvalidArgument;
            else if (_owner[frame] == requester) expected = Error.None;
            else if (_grants.TryGetValue((frame, requester), out bool grantWritable) && (grantWritable || !writable)) expected = Error.None;
            else expected = Error.NotOwner;
            Assert.That(_ledger.CheckMap(frame, requester, writable), Is.EqualTo(expected));
            if (expected != Error.None) return;
            ulong address = _nextAddress;
            _nextAddress += 0x1000;
            Assert.That(_ledger.AddMapping(frame, requester & 0x3FF, address), Is.EqualTo(Error.None));
            _mappings[frame]++;
            _liveMappings.Add((requester, frame, address));
        }

        private void Unmap()
        {
            if (_liveMappings.Count == 0) return;
            int index = _random.Next(_liveMappings.Count);
            Unmap(index);
        }

        private void Unmap(int index)
        {
            (ulong environment, ulong frame, ulong address) = _liveMappings[index];
            _liveMappings.RemoveAt(index);
            _mappings[frame]--;
            bool shouldFree = _mappings[frame] == 0 && _owner[frame] == 0;
            Assert.That(_ledger.RemoveMapping(frame, environment & 0x3FF, address), Is.EqualTo(shouldFree));
            if (shouldFree) Assert.That(_allocator.Free(frame), Is.EqualTo(FrameFreeResult.Ok));
        }

        private void Release()
        {
            ulong frame = AnyFrame();
            if (frame >= _frameCount || _owner[frame] == 0)
            {
                Assert.That(_ledger.ReleaseOwnership(frame), Is.False);
                return;
            }
            ReleaseOwned(frame);
        }

        /// <summary>What FrameFree and the abort protocol do: every mapping of an owned frame goes
        /// (through the reverse map), then its ownership; it must be free then.</summary>
        private void TakeBack()
        {
            ulong frame = AnyFrame();
            if (frame >= _frameCount || _owner[frame] == 0) return;
            while (_ledger.TryGetMapping(frame, out ulong space, out ulong address))
            {
                int index = _liveMappings.FindIndex(m => m.Frame == frame && (m.Environment & 0x3FF) == space && m.Address == address);
                Assert.That(index, Is.GreaterThanOrEqualTo(0), "the reverse map names a mapping that exists");
                Unmap(index);
            }
            Assert.That(_mappings[frame], Is.Zero, "the reverse map named every mapping");
            ReleaseOwned(frame);
            Assert.That(_allocator.IsFree(frame), Is.True);
        }

        private void ReleaseOwned(ulong frame)
        {
            bool shouldFree = _mappings[frame] == 0;
            Assert.That(_ledger.ReleaseOwnership(frame), Is.EqualTo(shouldFree));
            _owner[frame] = 0;
            foreach (ulong grantee in _environments) _grants.Remove((frame, grantee));
            if (shouldFree) Assert.That(_allocator.Free(frame), Is.EqualTo(FrameFreeResult.Ok));
        }

        /// <summary>What the kernel does when an environment ends: its mappings go, then its
        /// grants, then its frames.</summary>
        private void EnvironmentEnds()
        {
            ulong ended = AnyEnvironment();
            for (int i = _liveMappings.Count - 1; i >= 0; i--)
                if (_liveMappings[i].Environment == ended) Unmap(i);
            int expectedDropped = 0;
            for (ulong frame = 0; frame < _frameCount; frame++)
                if (_grants.Remove((frame, ended))) expectedDropped++;
            Assert.That(_ledger.DropGrantsTo(ended), Is.EqualTo(expectedDropped));
            List<ulong> owned = _ledger.FramesOwnedBy(ended);
            for (int i = 0; i < owned.Count; i++) ReleaseOwned(owned[i]);
            Assert.That(_ledger.CountOwnedBy(ended), Is.Zero);
        }

        public void CheckInvariants(int step)
        {
            ulong owned = 0, orphaned = 0;
            for (ulong frame = 0; frame < _frameCount; frame++)
            {
                bool unused = _owner[frame] == 0 && _mappings[frame] == 0;
                if (_allocator.IsFree(frame) != unused)
                    Assert.Fail($"step {step}: frame {frame} free in the allocator is {_allocator.IsFree(frame)}, owner {_owner[frame]:X}, mappings {_mappings[frame]}");
                if (_ledger.OwnerOf(frame) != _owner[frame] || _ledger.MappingsOf(frame) != (ulong)_mappings[frame])
                    Assert.Fail($"step {step}: frame {frame} disagrees with the model");
                if (_mappings[frame] < 0) Assert.Fail($"step {step}: negative mapping count");
                if (_owner[frame] != 0) owned++;
                else if (_mappings[frame] > 0) orphaned++;
            }
            Assert.That(_ledger.OwnedFrames, Is.EqualTo(owned), $"step {step}");
            Assert.That(_ledger.OrphanedFrames, Is.EqualTo(orphaned), $"step {step}");
            Assert.That(owned + orphaned + _allocator.FreeFrames, Is.EqualTo(_frameCount), $"step {step}: a frame leaked");
            Assert.That(_ledger.GrantCount, Is.EqualTo(_grants.Count), $"step {step}");
            ulong sum = 0;
            foreach (ulong environment in _environments) sum += _ledger.CountOwnedBy(environment);
            Assert.That(sum, Is.EqualTo(owned), $"step {step}");
            Checks++;
        }
    }
}

/// <summary>Device frames (issue #9): the VGA text buffer is mapped by the kernel, owned by no one.</summary>
public class FrameLedgerDeviceFrameTests
{
    [Test]
    public void DeviceFramesCannotBeAssignedFreedGrantedOrBoundByNumber()
    {
        var ledger = new Aegis.Kernel.Core.Exo.FrameLedger(1024);
        Assert.That(ledger.MarkDevice(0xB8), Is.EqualTo(Aegis.Abi.Error.None));
        Assert.That(ledger.IsDevice(0xB8), Is.True);
        Assert.That(ledger.Assign(0xB8, 7), Is.EqualTo(Aegis.Abi.Error.Busy));
        Assert.That(ledger.CheckMap(0xB8, 7, false), Is.EqualTo(Aegis.Abi.Error.NotOwner));
        Assert.That(ledger.Grant(0xB8, Aegis.Kernel.Core.Exo.FrameLedger.DeviceOwner, 7, true), Is.EqualTo(Aegis.Abi.Error.NotOwner));
        Assert.That(ledger.Grant(0xB8, 7, 8, true), Is.EqualTo(Aegis.Abi.Error.NotOwner));
        Assert.That(ledger.ReleaseOwnership(0xB8), Is.False);
        Assert.That(ledger.OwnedFrames, Is.EqualTo(0UL), "device frames are no one's frames");
        Assert.That(ledger.CountOwnedBy(Aegis.Kernel.Core.Exo.FrameLedger.DeviceOwner), Is.EqualTo(0UL));
        Assert.That(ledger.Assign(0x100, Aegis.Kernel.Core.Exo.FrameLedger.DeviceOwner), Is.EqualTo(Aegis.Abi.Error.InvalidArgument));
    }

    [Test]
    public void MappingsOfADeviceFrameAreRecordedButItIsNeverToBeFreed()
    {
        var ledger = new Aegis.Kernel.Core.Exo.FrameLedger(1024);
        ledger.MarkDevice(0xB9);
        Assert.That(ledger.AddMapping(0xB9, 3, 0x200000), Is.EqualTo(Aegis.Abi.Error.None));
        Assert.That(ledger.AddMapping(0xB9, 4, 0x300000), Is.EqualTo(Aegis.Abi.Error.None));
        Assert.That(ledger.OrphanedFrames, Is.EqualTo(0UL));
        Assert.That(ledger.MappingsOf(0xB9), Is.EqualTo(2UL));
        Assert.That(ledger.RemoveMapping(0xB9, 3, 0x200000), Is.False, "never 'free it now'");
        Assert.That(ledger.RemoveMapping(0xB9, 4, 0x300000), Is.False, "not even for its last mapping");
        Assert.That(ledger.MappingsOf(0xB9), Is.EqualTo(0UL));
        Assert.That(ledger.IsDevice(0xB9), Is.True);
    }

    [Test]
    public void OnlyAFrameNoOneHasCanBecomeADevice()
    {
        var ledger = new Aegis.Kernel.Core.Exo.FrameLedger(1024);
        ledger.Assign(0x10, 5);
        Assert.That(ledger.MarkDevice(0x10), Is.EqualTo(Aegis.Abi.Error.Busy));
        ledger.AddMapping(0x11, 1, 0x1000);
        Assert.That(ledger.MarkDevice(0x11), Is.EqualTo(Aegis.Abi.Error.Busy));
        Assert.That(ledger.MarkDevice(1024), Is.EqualTo(Aegis.Abi.Error.InvalidArgument));
        Assert.That(ledger.MarkDevice(0x12), Is.EqualTo(Aegis.Abi.Error.None));
        Assert.That(ledger.MarkDevice(0x12), Is.EqualTo(Aegis.Abi.Error.None), "again: nothing changes");
        Assert.That(ledger.DeviceFrames, Is.EqualTo(1UL));
    }
}
