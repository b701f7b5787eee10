// Tests of Aegis.Runtime's List<T>: inside this assembly the runtime's source replaces the BCL's.
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class RuntimeListTests
{
    [Test]
    public void TheRuntimeSourceIsTheOneUnderTest()
        => Assert.That(typeof(List<int>).Assembly, Is.SameAs(typeof(RuntimeListTests).Assembly));

    [Test]
    public void AddGrowsAndKeepsOrder()
    {
        List<int> list = new();
        for (int i = 0; i < 100; i++) list.Add(i * 3);
        Assert.That(list.Count, Is.EqualTo(100));
        Assert.That(list.Capacity, Is.GreaterThanOrEqualTo(100));
        for (int i = 0; i < 100; i++) Assert.That(list[i], Is.EqualTo(i * 3));
    }

    [Test]
    public void InsertAndRemoveAtShiftItems()
    {
        List<string> list = new() { "a", "c" };
        list.Insert(1, "b");
        list.Insert(3, "d");
        list.Insert(0, "start");
        Assert.That(list, Is.EqualTo(new[] { "start", "a", "b", "c", "d" }));
        list.RemoveAt(0);
        list.RemoveAt(3);
        Assert.That(list, Is.EqualTo(new[] { "a", "b", "c" }));
    }

    [Test]
    public void RemoveTakesTheFirstEqualItem()
    {
        List<string> list = new() { "x", "y", "x" };
        Assert.That(list.Remove("x"), Is.True);
        Assert.That(list, Is.EqualTo(new[] { "y", "x" }));
        Assert.That(list.Remove("zz"), Is.False);
    }

    [Test]
    public void IndexOfAndContainsUseEquality()
    {
        List<string> list = new() { "alpha", null!, new string('b', 2) };
        Assert.That(list.IndexOf("bb"), Is.EqualTo(2));
        Assert.That(list.IndexOf(null!), Is.EqualTo(1));
        Assert.That(list.Contains("alpha"), Is.True);
        Assert.That(list.Contains("beta"), Is.False);
    }

    [Test]
    public void IndexOutOfRangeThrows()
    {
        List<int> list = new() { 1 };
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = list[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = list[-1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => list[1] = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => list.Insert(2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => list.RemoveAt(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new List<int>(-1));
    }

    [Test]
    public void ClearEmptiesAndKeepsCapacity()
    {
        List<int> list = new() { 1, 2, 3 };
        int capacity = list.Capacity;
        list.Clear();
        Assert.That(list.Count, Is.Zero);
        Assert.That(list.Capacity, Is.EqualTo(capacity));
        list.Add(9);
        Assert.That(list[0], Is.EqualTo(9));
    }

    [Test]
    public void CapacityCannotDropBelowCount()
    {
        List<int> list = new() { 1, 2, 3 };
        Assert.Throws<ArgumentOutOfRangeException>(() => list.Capacity = 2);
        list.Capacity = 3;
        Assert.That(list, Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void EnumerationSeesEveryItem()
    {
        List<int> list = new() { 4, 5, 6 };
        int sum = 0;
        foreach (int item in list) sum += item;
        Assert.That(sum, Is.EqualTo(15));
    }

    [Test]
    public void ChangingTheListDuringEnumerationThrows()
    {
        List<int> list = new() { 1, 2, 3 };
        Assert.Throws<InvalidOperationException>(() => { foreach (int item in list) list.Add(item); });
        Assert.Throws<InvalidOperationException>(() => { foreach (int item in list) list[0] = item; });
        Assert.Throws<InvalidOperationException>(() => { foreach (int item in list) list.RemoveAt(0); });
    }

    [Test]
    public void RemoveAllThatRemovesNothingKeepsEnumeratorsValid()
    {
        List<int> list = new() { 1, 2, 3 };
        int seen = 0;
        foreach (int item in list)
        {
            list.RemoveAll(x => x > 100);
            seen++;
        }
        Assert.That(seen, Is.EqualTo(3));
    }

    [Test]
    public void RemoveAllRemovesMatchesAndKeepsOrder()
    {
        List<int> list = new() { 1, 2, 3, 4, 5, 6 };
        Assert.That(list.RemoveAll(x => x % 2 == 0), Is.EqualTo(3));
        Assert.That(list, Is.EqualTo(new[] { 1, 3, 5 }));
    }

    [Test]
    public void SortOrdersStably()
    {
        List<(int Key, string Tag)> list = new() { (3, "a"), (1, "b"), (3, "c"), (2, "d"), (1, "e") };
        list.Sort((x, y) => x.Key.CompareTo(y.Key));
        Assert.That(list.ToArray(), Is.EqualTo(new[] { (1, "b"), (1, "e"), (2, "d"), (3, "a"), (3, "c") }));
        List<int> numbers = new() { 5, -1, 3 };
        numbers.Sort();
        Assert.That(numbers, Is.EqualTo(new[] { -1, 3, 5 }));
    }

    [Test]
    public void FindAndForEachVisitInOrder()
    {
        List<int> list = new() { 4, 7, 8 };
        Assert.That(list.Find(x => x > 4), Is.EqualTo(7));
        Assert.That(list.Find(x => x > 40), Is.Zero);
        Assert.That(list.FindIndex(x => x == 8), Is.EqualTo(2));
        Assert.That(list.Exists(x => x == 9), Is.False);
        List<int> visited = new();
        list.ForEach(visited.Add);
        Assert.That(visited, Is.EqualTo(new[] { 4, 7, 8 }));
    }

    [Test]
    public void ReverseCopyToAndToArray()
    {
        List<int> list = new() { 1, 2, 3 };
        list.Reverse();
        Assert.That(list.ToArray(), Is.EqualTo(new[] { 3, 2, 1 }));
        int[] target = new int[5];
        list.CopyTo(target, 1);
        Assert.That(target, Is.EqualTo(new[] { 0, 3, 2, 1, 0 }));
    }

    [Test]
    public void ConstructingFromASequenceCopiesIt()
    {
        List<int> list = new(new[] { 9, 8, 7 });
        Assert.That(list, Is.EqualTo(new[] { 9, 8, 7 }));
        Assert.Throws<ArgumentNullException>(() => new List<int>(null!));
    }

    [Test]
    public void RemovedSlotsAreCleared()
    {
        List<string> list = new() { "a", "b" };
        list.RemoveAt(1);
        list.Capacity = list.Capacity; // no-op; the backing slot must already be default
        string[] backing = (string[])typeof(List<string>).GetField("_items", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(list)!;
        Assert.That(backing[1], Is.Null);
    }
}
