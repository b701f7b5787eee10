// Host tests of InputWatchers (Aegis.Kernel/Core/Exo/InputWatchers.cs): the environments one input
// device wakes. Every watcher stays until removed; the latest is the one added most recently; a
// full set drops the watcher added longest ago; the storage never grows.
using Aegis.Kernel.Core.Exo;
using NUnit.Framework;

namespace Aegis.Tests.Host.Exo;

[TestFixture]
public class InputWatchersTests
{
    private static ulong[] Ids(InputWatchers watchers)
    {
        var ids = new System.Collections.Generic.List<ulong>();
        for (int i = 0; i < watchers.Capacity; i++) if (watchers.At(i) != 0) ids.Add(watchers.At(i));
        ids.Sort();
        return ids.ToArray();
    }

    [Test]
    public void EveryWatcherStaysAndTheLatestIsTheLastAdded()
    {
        var watchers = new InputWatchers(8);
        Assert.That(watchers.Latest, Is.EqualTo(0UL));
        Assert.That(watchers.Add(401), Is.EqualTo(0UL));
        Assert.That(watchers.Add(403), Is.EqualTo(0UL));
        Assert.That(Ids(watchers), Is.EqualTo(new ulong[] { 401, 403 }));
        Assert.That(watchers.Latest, Is.EqualTo(403UL));
        Assert.That(watchers.Add(401), Is.EqualTo(0UL), "adding a watcher again drops nobody");
        Assert.That(watchers.Count, Is.EqualTo(2), "and does not add it twice");
        Assert.That(watchers.Latest, Is.EqualTo(401UL), "it is the latest again");
    }

    [Test]
    public void RemovingTheLatestMakesTheOneAddedBeforeItTheLatest()
    {
        var watchers = new InputWatchers(4);
        watchers.Add(1); watchers.Add(2); watchers.Add(3);
        Assert.That(watchers.Remove(3), Is.True);
        Assert.That(watchers.Latest, Is.EqualTo(2UL));
        Assert.That(watchers.Remove(3), Is.False, "not a watcher any more");
        Assert.That(watchers.Contains(3), Is.False);
        watchers.Remove(2); watchers.Remove(1);
        Assert.That(watchers.Latest, Is.EqualTo(0UL));
        Assert.That(watchers.Count, Is.EqualTo(0));
    }

    [Test]
    public void AFullSetDropsTheWatcherAddedLongestAgo()
    {
        var watchers = new InputWatchers(3);
        watchers.Add(10); watchers.Add(20); watchers.Add(30);
        watchers.Add(10); // 20 is now the one added longest ago
        Assert.That(watchers.Add(40), Is.EqualTo(20UL));
        Assert.That(Ids(watchers), Is.EqualTo(new ulong[] { 10, 30, 40 }));
        Assert.That(watchers.Latest, Is.EqualTo(40UL));
        Assert.That(watchers.Add(50), Is.EqualTo(30UL));
        Assert.That(Ids(watchers), Is.EqualTo(new ulong[] { 10, 40, 50 }));
    }

    [Test]
    public void IdZeroIsNeverAWatcherAndAnEmptiedSlotIsReused()
    {
        var watchers = new InputWatchers(2);
        Assert.That(watchers.Add(0), Is.EqualTo(0UL));
        Assert.That(watchers.Count, Is.EqualTo(0));
        Assert.That(watchers.Contains(0), Is.False);
        watchers.Add(7); watchers.Add(8);
        int slot = watchers.At(0) == 7 ? 0 : 1;
        watchers.RemoveAt(slot);
        Assert.That(watchers.Add(9), Is.EqualTo(0UL), "the emptied slot takes it: nobody dropped");
        Assert.That(Ids(watchers), Is.EqualTo(new ulong[] { 8, 9 }));
    }

    [Test]
    public void AddingAndRemovingDoNotAllocate()
    {
        var watchers = new InputWatchers(8);
        watchers.Add(1);
        long before = System.GC.GetAllocatedBytesForCurrentThread();
        for (ulong i = 0; i < 1000; i++) { watchers.Add(i % 20 + 1); watchers.Remove(i % 7 + 1); _ = watchers.Latest; }
        Assert.That(System.GC.GetAllocatedBytesForCurrentThread() - before, Is.EqualTo(0));
    }
}
