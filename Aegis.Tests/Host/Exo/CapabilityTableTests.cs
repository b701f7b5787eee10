// Capability checks: a slot gives access only to what it holds, of the kind the call needs.
using Aegis.Abi;
using Aegis.Kernel.Core.Exo;
using NUnit.Framework;

namespace Aegis.Tests.Host.Exo;

public class CapabilityTableTests
{
    private const ulong Child = 0x402;

    [Test]
    public void HasFreeSlotTellsWhetherInsertWouldSucceed()
    {
        CapabilityTable table = new();
        Assert.That(table.HasFreeSlot(), Is.True);
        ulong last = 0;
        while (table.TryInsert(CapabilityKind.Environment, Child, out ulong slot) == Error.None)
            last = slot;
        Assert.That(table.HasFreeSlot(), Is.False);
        Assert.That(table.TryInsert(CapabilityKind.Environment, Child, out _), Is.EqualTo(Error.NoMemory));
        table.Remove(last);
        Assert.That(table.HasFreeSlot(), Is.True);
    }

    [Test]
    public void InsertTakesTheLowestFreeSlotFromTwo()
    {
        CapabilityTable table = new();
        Assert.That(table.TryInsert(CapabilityKind.Environment, Child, out ulong slot), Is.EqualTo(Error.None));
        Assert.That(slot, Is.EqualTo(2UL));
        Assert.That(table.TryInsert(CapabilityKind.Environment, Child + 1, out ulong next), Is.EqualTo(Error.None));
        Assert.That(next, Is.EqualTo(3UL));
        table.Remove(2);
        Assert.That(table.TryInsert(CapabilityKind.Environment, Child + 2, out ulong again), Is.EqualTo(Error.None));
        Assert.That(again, Is.EqualTo(2UL));
        Assert.That(table.Count, Is.EqualTo(2));
    }

    [Test]
    public void LookupYieldsTheObjectForTheRightKind()
    {
        CapabilityTable table = new();
        table.TryInsert(CapabilityKind.Environment, Child, out ulong slot);
        Assert.That(table.Lookup(slot, CapabilityKind.Environment, out ulong id), Is.EqualTo(Error.None));
        Assert.That(id, Is.EqualTo(Child));
    }

    [Test]
    public void WrongKindIsNoCapability()
    {
        CapabilityTable table = new();
        table.TryInsertAt(CapabilitySlots.Console, CapabilityKind.Console, 0);
        Assert.That(table.Lookup(CapabilitySlots.Console, CapabilityKind.Environment, out ulong id), Is.EqualTo(Error.NoCapability));
        Assert.That(id, Is.Zero);
        Assert.That(table.Lookup(CapabilitySlots.Console, CapabilityKind.Console, out _), Is.EqualTo(Error.None));
    }

    [Test]
    public void EmptySlotIsNoCapability()
    {
        CapabilityTable table = new();
        for (ulong slot = 0; slot < CapabilitySlots.Count; slot++)
            Assert.That(table.Lookup(slot, CapabilityKind.Console, out _), Is.EqualTo(Error.NoCapability));
    }

    [TestCase(64UL)]
    [TestCase(65UL)]
    [TestCase(0x1_0000_0002UL)]
    [TestCase(ulong.MaxValue)]
    [TestCase(0xFFFF_8000_0000_0000UL)]
    public void SlotOutOfRangeIsInvalidArgument(ulong slot)
    {
        CapabilityTable table = new();
        table.TryInsertAt(slot & 63, CapabilityKind.Console, 0);
        Assert.That(table.Lookup(slot, CapabilityKind.Console, out _), Is.EqualTo(Error.InvalidArgument));
        Assert.That(table.Query(slot, out _, out _), Is.EqualTo(Error.InvalidArgument));
        Assert.That(table.TryInsertAt(slot, CapabilityKind.Console, 0), Is.EqualTo(Error.InvalidArgument));
        table.Remove(slot);
    }

    [Test]
    public void SlotZeroIsSelfAndNeverStored()
    {
        CapabilityTable table = new();
        Assert.That(table.TryInsertAt(CapabilitySlots.Self, CapabilityKind.Environment, Child), Is.EqualTo(Error.InvalidArgument));
        Assert.That(table.Lookup(CapabilitySlots.Self, CapabilityKind.Environment, out _), Is.EqualTo(Error.NoCapability));
        Assert.That(table.Count, Is.Zero);
    }

    [Test]
    public void KindNoneCannotBeStoredOrLookedUp()
    {
        CapabilityTable table = new();
        Assert.That(table.TryInsert(CapabilityKind.None, 1, out _), Is.EqualTo(Error.InvalidArgument));
        Assert.That(table.TryInsertAt(5, CapabilityKind.None, 1), Is.EqualTo(Error.InvalidArgument));
        Assert.That(table.Lookup(5, CapabilityKind.None, out _), Is.EqualTo(Error.NoCapability));
    }

    [Test]
    public void InsertAtAnOccupiedSlotIsBusy()
    {
        CapabilityTable table = new();
        Assert.That(table.TryInsertAt(7, CapabilityKind.Environment, Child), Is.EqualTo(Error.None));
        Assert.That(table.TryInsertAt(7, CapabilityKind.Console, 0), Is.EqualTo(Error.Busy));
        Assert.That(table.Lookup(7, CapabilityKind.Environment, out ulong id), Is.EqualTo(Error.None));
        Assert.That(id, Is.EqualTo(Child));
    }

    [Test]
    public void FullTableIsNoMemory()
    {
        CapabilityTable table = new();
        table.TryInsertAt(CapabilitySlots.Console, CapabilityKind.Console, 0);
        for (int i = 2; i < CapabilitySlots.Count; i++)
            Assert.That(table.TryInsert(CapabilityKind.Environment, (ulong)i, out _), Is.EqualTo(Error.None));
        Assert.That(table.TryInsert(CapabilityKind.Environment, 99, out ulong slot), Is.EqualTo(Error.NoMemory));
        Assert.That(slot, Is.Zero);
        Assert.That(table.Count, Is.EqualTo(CapabilitySlots.Count - 1));
    }

    [Test]
    public void InsertNeverUsesTheConsoleSlot()
    {
        CapabilityTable table = new();
        for (int i = 2; i < CapabilitySlots.Count; i++) table.TryInsert(CapabilityKind.Environment, (ulong)i, out _);
        Assert.That(table.TryInsert(CapabilityKind.Environment, 99, out _), Is.EqualTo(Error.NoMemory));
        Assert.That(table.Query(CapabilitySlots.Console, out _, out _), Is.EqualTo(Error.NoCapability));
    }

    [Test]
    public void CapabilitiesOverAnEndedEnvironmentCanBeDropped()
    {
        CapabilityTable table = new();
        table.TryInsertAt(CapabilitySlots.Console, CapabilityKind.Console, 0);
        table.TryInsert(CapabilityKind.Environment, Child, out ulong first);
        table.TryInsert(CapabilityKind.Environment, Child + 1, out ulong other);
        table.TryInsert(CapabilityKind.Environment, Child, out ulong copy);
        Assert.That(table.RemoveAllFor(CapabilityKind.Environment, Child), Is.EqualTo(2));
        Assert.That(table.Lookup(first, CapabilityKind.Environment, out _), Is.EqualTo(Error.NoCapability));
        Assert.That(table.Lookup(copy, CapabilityKind.Environment, out _), Is.EqualTo(Error.NoCapability));
        Assert.That(table.Lookup(other, CapabilityKind.Environment, out _), Is.EqualTo(Error.None));
        Assert.That(table.Lookup(CapabilitySlots.Console, CapabilityKind.Console, out _), Is.EqualTo(Error.None));
        Assert.That(table.Count, Is.EqualTo(2));
    }

    [Test]
    public void StaleEnvironmentIdInACapabilityIsCaughtByTheEnvironmentTable()
    {
        EnvironmentTable environments = new();
        environments.TryAllocate(0, out ulong child);
        CapabilityTable table = new();
        table.TryInsert(CapabilityKind.Environment, child, out ulong slot);
        environments.Free(child);
        environments.TryAllocate(0, out _);
        Assert.That(table.Lookup(slot, CapabilityKind.Environment, out ulong named), Is.EqualTo(Error.None));
        Assert.That(environments.IsLive(named), Is.False, "the capability names the ended environment, not a new one");
    }

    [Test]
    public void QueryReportsKindAndObject()
    {
        CapabilityTable table = new();
        table.TryInsert(CapabilityKind.Environment, Child, out ulong slot);
        Assert.That(table.Query(slot, out CapabilityKind kind, out ulong id), Is.EqualTo(Error.None));
        Assert.That(kind, Is.EqualTo(CapabilityKind.Environment));
        Assert.That(id, Is.EqualTo(Child));
        Assert.That(table.Query(slot + 1, out kind, out _), Is.EqualTo(Error.NoCapability));
        Assert.That(kind, Is.EqualTo(CapabilityKind.None));
    }

    [Test]
    public void ClearEmptiesEverySlot()
    {
        CapabilityTable table = new();
        table.TryInsertAt(CapabilitySlots.Console, CapabilityKind.Console, 0);
        table.TryInsert(CapabilityKind.Environment, Child, out _);
        table.Clear();
        Assert.That(table.Count, Is.Zero);
        Assert.That(table.Lookup(CapabilitySlots.Console, CapabilityKind.Console, out _), Is.EqualTo(Error.NoCapability));
    }

    [Test]
    public void RemovingAnEmptySlotKeepsTheCount()
    {
        CapabilityTable table = new();
        table.TryInsert(CapabilityKind.Environment, Child, out _);
        table.Remove(40);
        table.Remove(0);
        Assert.That(table.Count, Is.EqualTo(1));
    }
}
