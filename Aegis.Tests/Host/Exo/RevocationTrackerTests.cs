// Visible revocation: the kernel asks for frames by a deadline; a polite libOS pays in time,
// a rude one is found overdue and the abort protocol takes the rest.
using Aegis.Abi;
using Aegis.Kernel.Core.Exo;
using NUnit.Framework;

namespace Aegis.Tests.Host.Exo;

public class RevocationTrackerTests
{
    private const ulong Alice = 0x401, Bob = 0x402;

    [Test]
    public void PoliteEnvironmentSatisfiesTheRequest()
    {
        RevocationTracker tracker = new();
        Assert.That(tracker.Request(Alice, 3, deadlineTick: 110, nowTick: 100), Is.EqualTo(Error.None));
        Assert.That(tracker.StateOf(Alice), Is.EqualTo(RevocationState.Requested));
        Assert.That(tracker.Owed(Alice), Is.EqualTo(3UL));
        Assert.That(tracker.DeadlineOf(Alice), Is.EqualTo(110UL));
        Assert.That(tracker.OnFrameFreed(Alice), Is.EqualTo(RevocationState.Requested));
        Assert.That(tracker.OnFrameFreed(Alice), Is.EqualTo(RevocationState.Requested));
        Assert.That(tracker.OnFrameFreed(Alice), Is.EqualTo(RevocationState.Satisfied));
        Assert.That(tracker.StateOf(Alice), Is.EqualTo(RevocationState.Idle));
        Assert.That(tracker.Owed(Alice), Is.Zero);
        Assert.That(tracker.SatisfiedCount(Alice), Is.EqualTo(1UL));
        Assert.That(tracker.TotalRepossessed(Alice), Is.Zero);
        Assert.That(tracker.Pending, Is.Zero);
        Assert.That(tracker.Overdue(1000).Count, Is.Zero);
    }

    [Test]
    public void RudeEnvironmentBecomesOverdueAndIsAborted()
    {
        RevocationTracker tracker = new();
        tracker.Request(Alice, 4, 110, 100);
        tracker.OnFrameFreed(Alice);
        Assert.That(tracker.HasOverdue(109), Is.False);
        Assert.That(tracker.Overdue(109).Count, Is.Zero);
        Assert.That(tracker.HasOverdue(110), Is.True);
        Assert.That(tracker.Overdue(110).ToArray(), Is.EqualTo(new[] { Alice }));
        Assert.That(tracker.StateOf(Alice), Is.EqualTo(RevocationState.Overdue));
        Assert.That(tracker.Owed(Alice), Is.EqualTo(3UL), "what the abort protocol must take");
        Assert.That(tracker.CompleteAbort(Alice, 3), Is.True);
        Assert.That(tracker.StateOf(Alice), Is.EqualTo(RevocationState.Idle));
        Assert.That(tracker.TotalRepossessed(Alice), Is.EqualTo(3UL));
        Assert.That(tracker.SatisfiedCount(Alice), Is.Zero);
        Assert.That(tracker.Pending, Is.Zero);
        Assert.That(tracker.HasOverdue(200), Is.False);
    }

    [Test]
    public void TheAbortTakesWhatIsOwedOverSeveralTicks()
    {
        // The abort protocol takes at most a tick's share at a time (Revocation.FramesPerTick).
        RevocationTracker tracker = new();
        tracker.Request(Alice, 600, 110, 100);
        System.Span<ulong> ids = stackalloc ulong[EnvironmentTable.Capacity];
        Assert.That(tracker.CollectOverdue(110, ids), Is.EqualTo(1));
        Assert.That(tracker.Repossessed(Alice, 256), Is.False);
        Assert.That(tracker.Owed(Alice), Is.EqualTo(344UL));
        Assert.That(tracker.StateOf(Alice), Is.EqualTo(RevocationState.Overdue));
        Assert.That(tracker.HasOverdue(111), Is.True, "continues at the next tick");
        Assert.That(tracker.CollectOverdue(111, ids), Is.EqualTo(1));
        Assert.That(tracker.Repossessed(Alice, 256), Is.False);
        Assert.That(tracker.OnFrameFreed(Alice), Is.EqualTo(RevocationState.Overdue), "a frame it frees itself counts too");
        Assert.That(tracker.Repossessed(Alice, 87), Is.True, "everything owed is paid: closed");
        Assert.That(tracker.StateOf(Alice), Is.EqualTo(RevocationState.Idle));
        Assert.That(tracker.TotalRepossessed(Alice), Is.EqualTo(599UL));
        Assert.That(tracker.Pending, Is.Zero);
        Assert.That(tracker.HasOverdue(112), Is.False);
        Assert.That(tracker.Repossessed(Alice, 1), Is.False, "no overdue request: nothing changes");
        Assert.That(tracker.Repossessed(Bob, 1), Is.False);
    }

    [Test]
    public void OverdueIsReportedUntilTheAbortCompletes()
    {
        RevocationTracker tracker = new();
        tracker.Request(Alice, 1, 110, 100);
        Assert.That(tracker.Overdue(120).Count, Is.EqualTo(1));
        Assert.That(tracker.Overdue(121).ToArray(), Is.EqualTo(new[] { Alice }));
        tracker.CompleteAbort(Alice, 1);
        Assert.That(tracker.Overdue(122).Count, Is.Zero);
    }

    [Test]
    public void OnlyExpiredRequestsAreOverdue()
    {
        RevocationTracker tracker = new();
        tracker.Request(Alice, 1, 110, 100);
        tracker.Request(Bob, 1, 150, 100);
        Assert.That(tracker.Overdue(120).ToArray(), Is.EqualTo(new[] { Alice }));
        Assert.That(tracker.StateOf(Bob), Is.EqualTo(RevocationState.Requested));
        tracker.CompleteAbort(Alice, 1);
        Assert.That(tracker.HasOverdue(149), Is.False);
        Assert.That(tracker.HasOverdue(150), Is.True);
    }

    [Test]
    public void SecondRequestWhileOneIsOpenIsBusy()
    {
        RevocationTracker tracker = new();
        tracker.Request(Alice, 2, 110, 100);
        Assert.That(tracker.Request(Alice, 5, 200, 101), Is.EqualTo(Error.Busy));
        Assert.That(tracker.Owed(Alice), Is.EqualTo(2UL));
        tracker.Overdue(110);
        Assert.That(tracker.Request(Alice, 5, 200, 111), Is.EqualTo(Error.Busy), "overdue is still open");
        tracker.CompleteAbort(Alice, 2);
        Assert.That(tracker.Request(Alice, 5, 200, 112), Is.EqualTo(Error.None));
    }

    [TestCase(0UL, 110UL, 100UL)]
    [TestCase(1UL, 100UL, 100UL)]
    [TestCase(1UL, 99UL, 100UL)]
    [TestCase(1UL, 0UL, 0UL)]
    public void BadRequestsAreInvalidArgument(ulong count, ulong deadline, ulong now)
    {
        RevocationTracker tracker = new();
        Assert.That(tracker.Request(Alice, count, deadline, now), Is.EqualTo(Error.InvalidArgument));
        Assert.That(tracker.StateOf(Alice), Is.EqualTo(RevocationState.Idle));
        Assert.That(tracker.Request(0, 1, 110, 100), Is.EqualTo(Error.InvalidArgument));
    }

    [Test]
    public void DeathMidRequestForgetsEverything()
    {
        RevocationTracker tracker = new();
        tracker.Request(Alice, 2, 110, 100);
        tracker.Forget(Alice);
        Assert.That(tracker.Pending, Is.Zero);
        Assert.That(tracker.StateOf(Alice), Is.EqualTo(RevocationState.Idle));
        Assert.That(tracker.HasOverdue(200), Is.False);
        Assert.That(tracker.Overdue(200).Count, Is.Zero);
        Assert.That(tracker.CompleteAbort(Alice, 2), Is.False);
    }

    [Test]
    public void DeathWhileOverdueForgetsEverything()
    {
        RevocationTracker tracker = new();
        tracker.Request(Alice, 2, 110, 100);
        tracker.Overdue(110);
        tracker.Forget(Alice);
        Assert.That(tracker.Pending, Is.Zero);
        Assert.That(tracker.Overdue(200).Count, Is.Zero);
    }

    [Test]
    public void AStaleIdDoesNotTouchTheNextEnvironmentOfItsSlot()
    {
        EnvironmentTable environments = new();
        environments.TryAllocate(0, out ulong old);
        RevocationTracker tracker = new();
        tracker.Request(old, 1, 110, 100);
        tracker.Overdue(110);
        tracker.CompleteAbort(old, 1);
        environments.Free(old);
        tracker.Forget(old);
        for (int i = 0; i < EnvironmentTable.Capacity - 1; i++) environments.TryAllocate(0, out _);
        ulong current = environments.IdAt(EnvironmentTable.SlotOf(old));
        Assert.That(tracker.TotalRepossessed(current), Is.Zero);
        tracker.Request(current, 2, 210, 200);
        Assert.That(tracker.OnFrameFreed(old), Is.EqualTo(RevocationState.Idle));
        Assert.That(tracker.CompleteAbort(old, 9), Is.False);
        tracker.Forget(old);
        Assert.That(tracker.Owed(current), Is.EqualTo(2UL));
        Assert.That(tracker.Pending, Is.EqualTo(1));
    }

    [Test]
    public void ANewEnvironmentInAnUnforgottenSlotStartsClean()
    {
        RevocationTracker tracker = new();
        ulong old = (1UL << EnvironmentTable.IndexBits) | 5, next = (2UL << EnvironmentTable.IndexBits) | 5;
        tracker.Request(old, 1, 110, 100);
        Assert.That(tracker.Request(next, 1, 210, 200), Is.EqualTo(Error.None));
        Assert.That(tracker.Pending, Is.EqualTo(1));
        Assert.That(tracker.StateOf(old), Is.EqualTo(RevocationState.Idle));
    }

    [Test]
    public void FreeingWithNothingAskedChangesNothing()
    {
        RevocationTracker tracker = new();
        Assert.That(tracker.OnFrameFreed(Alice), Is.EqualTo(RevocationState.Idle));
        Assert.That(tracker.OnFrameFreed(0), Is.EqualTo(RevocationState.Idle));
        Assert.That(tracker.Owed(Alice), Is.Zero);
    }

    [Test]
    public void PayingAnOverdueRequestBeforeTheAbortClosesItWithoutCredit()
    {
        RevocationTracker tracker = new();
        tracker.Request(Alice, 1, 110, 100);
        tracker.Overdue(111);
        Assert.That(tracker.OnFrameFreed(Alice), Is.EqualTo(RevocationState.Idle));
        Assert.That(tracker.SatisfiedCount(Alice), Is.Zero);
        Assert.That(tracker.Pending, Is.Zero);
        Assert.That(tracker.CompleteAbort(Alice, 0), Is.False);
    }

    [Test]
    public void CountersAccumulateOverManyRequests()
    {
        RevocationTracker tracker = new();
        ulong now = 0;
        for (int round = 0; round < 10; round++)
        {
            tracker.Request(Alice, 2, now + 10, now);
            if (round % 2 == 0)
            {
                tracker.OnFrameFreed(Alice);
                tracker.OnFrameFreed(Alice);
            }
            else
            {
                now += 10;
                Assert.That(tracker.Overdue(now).ToArray(), Is.EqualTo(new[] { Alice }));
                tracker.CompleteAbort(Alice, tracker.Owed(Alice));
            }
            now++;
        }
        Assert.That(tracker.SatisfiedCount(Alice), Is.EqualTo(5UL));
        Assert.That(tracker.TotalRepossessed(Alice), Is.EqualTo(10UL));
    }

    [Test]
    public void CollectOverdueWritesIntoASpan()
    {
        RevocationTracker tracker = new();
        tracker.Request(Alice, 1, 110, 100);
        tracker.Request(Bob, 1, 110, 100);
        Span<ulong> ids = stackalloc ulong[EnvironmentTable.Capacity];
        Assert.That(tracker.CollectOverdue(110, ids), Is.EqualTo(2));
        Assert.That(ids[0] == Alice && ids[1] == Bob, Is.True);
    }
}
