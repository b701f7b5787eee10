// Environment ids: generations make every id of an ended environment stale for good.
using Aegis.Kernel.Core.Exo;
using NUnit.Framework;

namespace Aegis.Tests.Host.Exo;

public class EnvironmentTableTests
{
    [Test]
    public void FirstEnvironmentGetsSlotOneOfGenerationOne()
    {
        EnvironmentTable table = new();
        Assert.That(table.TryAllocate(0, out ulong id), Is.True);
        Assert.That(id, Is.EqualTo((1UL << EnvironmentTable.IndexBits) | 1));
        Assert.That(table.IndexOf(id), Is.EqualTo(1));
        Assert.That(table.IsLive(id), Is.True);
        Assert.That(table.Count, Is.EqualTo(1));
        Assert.That(table.ParentOf(id), Is.Zero);
    }

    [Test]
    public void IdZeroIsNeverLive()
    {
        EnvironmentTable table = new();
        table.TryAllocate(0, out _);
        Assert.That(table.IsLive(0), Is.False);
        Assert.That(table.IndexOf(0), Is.EqualTo(-1));
        Assert.That(table.IdAt(0), Is.Zero);
    }

    [Test]
    public void StaleIdIsRejectedAfterFree()
    {
        EnvironmentTable table = new();
        table.TryAllocate(0, out ulong id);
        table.Free(id);
        Assert.That(table.IsLive(id), Is.False);
        Assert.That(table.IndexOf(id), Is.EqualTo(-1));
        Assert.That(table.Count, Is.Zero);
    }

    [Test]
    public void ReusedSlotGetsANewGenerationAndTheOldIdStaysStale()
    {
        EnvironmentTable table = new();
        ulong first = 0;
        for (int i = 0; i < EnvironmentTable.Capacity - 1; i++)
        {
            Assert.That(table.TryAllocate(0, out ulong id), Is.True);
            if (i == 0) first = id;
        }
        table.Free(first);
        Assert.That(table.TryAllocate(0, out ulong reused), Is.True);
        Assert.That(EnvironmentTable.SlotOf(reused), Is.EqualTo(EnvironmentTable.SlotOf(first)));
        Assert.That(reused, Is.Not.EqualTo(first));
        Assert.That(table.IsLive(first), Is.False);
        Assert.That(table.IsLive(reused), Is.True);
    }

    [Test]
    public void FreedSlotIsReusedAsLateAsPossible()
    {
        EnvironmentTable table = new();
        table.TryAllocate(0, out ulong a);
        table.Free(a);
        table.TryAllocate(0, out ulong b);
        Assert.That(EnvironmentTable.SlotOf(b), Is.EqualTo(2));
    }

    [Test]
    public void TableHoldsCapacityMinusOneEnvironments()
    {
        EnvironmentTable table = new();
        for (int i = 0; i < EnvironmentTable.Capacity - 1; i++) Assert.That(table.TryAllocate(0, out _), Is.True);
        Assert.That(table.TryAllocate(0, out ulong none), Is.False);
        Assert.That(none, Is.Zero);
        Assert.That(table.Count, Is.EqualTo(EnvironmentTable.Capacity - 1));
    }

    [Test]
    public void ForgedIdsAreNotLive()
    {
        EnvironmentTable table = new();
        table.TryAllocate(0, out ulong id);
        Assert.That(table.IsLive(id + (1UL << EnvironmentTable.IndexBits)), Is.False, "next generation");
        Assert.That(table.IsLive(id - (1UL << EnvironmentTable.IndexBits)), Is.False, "generation 0");
        Assert.That(table.IsLive(id + 1), Is.False, "a slot never used");
        Assert.That(table.IsLive(ulong.MaxValue), Is.False);
        Assert.That(table.IsLive(1), Is.False);
    }

    [Test]
    public void ParentMustBeLiveOrNone()
    {
        EnvironmentTable table = new();
        table.TryAllocate(0, out ulong parent);
        Assert.That(table.TryAllocate(parent, out ulong child), Is.True);
        Assert.That(table.ParentOf(child), Is.EqualTo(parent));
        table.Free(parent);
        Assert.That(table.TryAllocate(parent, out _), Is.False, "a stale parent");
        Assert.That(table.SetParent(child, 0), Is.True);
        Assert.That(table.ParentOf(child), Is.Zero);
        Assert.That(table.SetParent(child, parent), Is.False);
    }

    [Test]
    public void FreeOfAStaleIdChangesNothing()
    {
        EnvironmentTable table = new();
        table.TryAllocate(0, out ulong old);
        table.Free(old);
        for (int i = 0; i < EnvironmentTable.Capacity - 1; i++) table.TryAllocate(0, out _);
        ulong current = table.IdAt(EnvironmentTable.SlotOf(old));
        Assert.That(current, Is.Not.Zero);
        table.Free(old);
        Assert.That(table.IsLive(current), Is.True);
        Assert.That(table.Count, Is.EqualTo(EnvironmentTable.Capacity - 1));
    }

    [Test]
    public void IdAtNamesTheLiveEnvironmentOfASlot()
    {
        EnvironmentTable table = new();
        table.TryAllocate(0, out ulong id);
        Assert.That(table.IdAt(EnvironmentTable.SlotOf(id)), Is.EqualTo(id));
        Assert.That(table.IdAt(-1), Is.Zero);
        Assert.That(table.IdAt(EnvironmentTable.Capacity), Is.Zero);
        Assert.That(table.IdAt(5), Is.Zero);
    }

    [Test]
    public void NoIdIsEverTheKernelOwner()
        => Assert.That((EnvironmentTable.MaximumGeneration << EnvironmentTable.IndexBits) | EnvironmentTable.IndexMask,
            Is.LessThan(FrameLedger.KernelOwner));
}
