// Aegis.Runtime's HashSet<T>, Queue<T>, Stack<T> (inside this assembly the runtime's sources replace
// the BCL's) against models built from BCL types the runtime does not replace (SortedSet,
// LinkedList), on long random operation sequences; and its introsort against Array.Sort, with a
// bound on comparisons for inputs that make naive quicksorts quadratic.
using System.Collections;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class RuntimeCollectionsTests
{
    [Test]
    public void TheRuntimeSourcesAreTheOnesUnderTest()
    {
        Assert.That(typeof(HashSet<int>).Assembly, Is.EqualTo(typeof(RuntimeCollectionsTests).Assembly));
        Assert.That(typeof(Queue<int>).Assembly, Is.EqualTo(typeof(RuntimeCollectionsTests).Assembly));
        Assert.That(typeof(Stack<int>).Assembly, Is.EqualTo(typeof(RuntimeCollectionsTests).Assembly));
    }

    private sealed class FewBuckets : IEqualityComparer<int>
    {
        public bool Equals(int x, int y) => x == y;
        public int GetHashCode(int obj) => obj % 4;
    }

    [Test]
    public void HashSetBehavesLikeASetUnderRandomAddsAndRemoves()
    {
        foreach (IEqualityComparer<int> comparer in new IEqualityComparer<int>[] { null, new FewBuckets() })
        {
            var random = new Random(21);
            var set = new HashSet<int>(comparer);
            var model = new SortedSet<int>();
            for (int i = 0; i < 20000; i++)
            {
                int value = random.Next(300);
                switch (random.Next(4))
                {
                    case 0: case 1: Assert.That(set.Add(value), Is.EqualTo(model.Add(value))); break;
                    case 2: Assert.That(set.Remove(value), Is.EqualTo(model.Remove(value))); break;
                    default: Assert.That(set.Contains(value), Is.EqualTo(model.Contains(value))); break;
                }
                Assert.That(set.Count, Is.EqualTo(model.Count));
                if (i % 1000 == 0)
                {
                    var items = new List<int>(set);
                    items.Sort();
                    Assert.That(items, Is.EqualTo(model.ToArray()));
                }
            }
            set.Clear();
            Assert.That(set.Count, Is.Zero);
            Assert.That(set.Contains(5), Is.False);
        }
    }

    [Test]
    public void HashSetSetOperationsAreTheMathematicalOnes()
    {
        var a = new HashSet<int> { 1, 2, 3, 4 };
        var b = new[] { 3, 4, 5 };
        var union = new HashSet<int>(a); union.UnionWith(b);
        var intersection = new HashSet<int>(a); intersection.IntersectWith(b);
        var except = new HashSet<int>(a); except.ExceptWith(b);
        var symmetric = new HashSet<int>(a); symmetric.SymmetricExceptWith(b);
        Assert.That(Sorted(union), Is.EqualTo(new[] { 1, 2, 3, 4, 5 }));
        Assert.That(Sorted(intersection), Is.EqualTo(new[] { 3, 4 }));
        Assert.That(Sorted(except), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(Sorted(symmetric), Is.EqualTo(new[] { 1, 2, 5 }));
        Assert.That(intersection.IsSubsetOf(a) && intersection.IsProperSubsetOf(a) && a.IsSupersetOf(intersection) && a.IsProperSupersetOf(intersection), Is.True);
        Assert.That(a.IsSubsetOf(b), Is.False);
        Assert.That(a.Overlaps(b) && !except.Overlaps(b), Is.True);
        Assert.That(a.SetEquals(new[] { 4, 3, 2, 1, 1 }) && !a.SetEquals(b), Is.True);
        Assert.That(a.RemoveWhere(x => x % 2 == 0), Is.EqualTo(2));
        Assert.That(Sorted(a), Is.EqualTo(new[] { 1, 3 }));
        var withNull = new HashSet<string> { null, "x" };
        Assert.That(withNull.Contains(null) && withNull.Remove(null) && !withNull.Contains(null), Is.True);
    }

    private static int[] Sorted(IEnumerable<int> items) { var list = new List<int>(items); list.Sort(); return list.ToArray(); }

    [Test]
    public void ModifyingACollectionInvalidatesItsEnumerators()
    {
        var set = new HashSet<int> { 1, 2 };
        var queue = new Queue<int>(new[] { 1, 2 });
        var stack = new Stack<int>(new[] { 1, 2 });
        Assert.Throws<InvalidOperationException>(() => { foreach (int x in set) set.Add(x + 10); });
        Assert.Throws<InvalidOperationException>(() => { foreach (int x in queue) queue.Enqueue(x); });
        Assert.Throws<InvalidOperationException>(() => { foreach (int x in stack) stack.Push(x); });
    }

    [Test]
    public void EmptyQueueAndStackThrowLikeDotNet()
    {
        var queue = new Queue<int>();
        var stack = new Stack<int>();
        Assert.That(Assert.Throws<InvalidOperationException>(() => queue.Dequeue()).Message, Is.EqualTo("Queue empty."));
        Assert.That(Assert.Throws<InvalidOperationException>(() => queue.Peek()).Message, Is.EqualTo("Queue empty."));
        Assert.That(Assert.Throws<InvalidOperationException>(() => stack.Pop()).Message, Is.EqualTo("Stack empty."));
        Assert.That(Assert.Throws<InvalidOperationException>(() => stack.Peek()).Message, Is.EqualTo("Stack empty."));
        Assert.That(queue.TryDequeue(out _) || queue.TryPeek(out _) || stack.TryPop(out _) || stack.TryPeek(out _), Is.False);
    }

    [Test]
    public void QueueAndStackMatchAListModelUnderRandomOperations()
    {
        var random = new Random(22);
        var queue = new Queue<int>();
        var stack = new Stack<int>();
        var queueModel = new LinkedList<int>();
        var stackModel = new LinkedList<int>();
        for (int i = 0; i < 30000; i++)
        {
            int value = random.Next();
            if (random.Next(3) != 0)
            {
                queue.Enqueue(value); queueModel.AddLast(value);
                stack.Push(value); stackModel.AddFirst(value);
            }
            else if (queueModel.Count > 0)
            {
                Assert.That(queue.Peek(), Is.EqualTo(queueModel.First.Value));
                Assert.That(queue.Dequeue(), Is.EqualTo(queueModel.First.Value)); queueModel.RemoveFirst();
                Assert.That(stack.Peek(), Is.EqualTo(stackModel.First.Value));
                Assert.That(stack.Pop(), Is.EqualTo(stackModel.First.Value)); stackModel.RemoveFirst();
            }
            if (i % 2000 == 0)
            {
                Assert.That(queue.ToArray(), Is.EqualTo(queueModel.ToArray()));
                Assert.That(new List<int>(queue), Is.EqualTo(queueModel.ToArray()));
                Assert.That(stack.ToArray(), Is.EqualTo(stackModel.ToArray()));
                Assert.That(new List<int>(stack), Is.EqualTo(stackModel.ToArray()));
                if (queueModel.Count > 0) Assert.That(queue.Contains(queueModel.Last.Value) && stack.Contains(stackModel.Last.Value), Is.True);
            }
            Assert.That(queue.Count, Is.EqualTo(queueModel.Count));
            Assert.That(stack.Count, Is.EqualTo(stackModel.Count));
        }
    }

    private static int[] Pattern(string name, int n, Random random)
    {
        var a = new int[n];
        for (int i = 0; i < n; i++)
            a[i] = name switch
            {
                "sorted" => i,
                "reversed" => n - i,
                "equal" => 7,
                "organ" => i < n / 2 ? i : n - i,
                "sawtooth" => i % 17,
                "few" => random.Next(3),
                _ => random.Next(),
            };
        if (name == "median3killer")
        {
            // Puts the median-of-three candidates' worst values where the pivot is taken.
            for (int i = 0; i < n; i++) a[i] = i;
            for (int i = n - 1; i > 1; i -= 2) (a[i], a[i / 2]) = (a[i / 2], a[i]);
        }
        return a;
    }

    [Test]
    public void IntroSortSortsEveryPatternInAtMostNLogNComparisons()
    {
        var random = new Random(23);
        foreach (string name in new[] { "random", "sorted", "reversed", "equal", "organ", "sawtooth", "few", "median3killer" })
            foreach (int n in new[] { 0, 1, 2, 3, 15, 16, 17, 100, 1000, 30000 })
            {
                int[] ours = Pattern(name, n, random);
                int[] expected = (int[])ours.Clone();
                Array.Sort(expected);
                long comparisons = 0;
                IntroSort.Sort<int>(ours, (x, y) => { comparisons++; return x.CompareTo(y); });
                Assert.That(ours, Is.EqualTo(expected), $"{name} {n}");
                double bound = 4.0 * n * Math.Max(1, Math.Log2(n)) + 64;
                Assert.That(comparisons, Is.LessThanOrEqualTo(bound), $"{name} {n}: {comparisons} comparisons");
            }
    }

    [Test]
    public void IntroSortWithAnInconsistentComparisonStaysInBoundsAndEnds()
    {
        var random = new Random(24);
        int[] items = Pattern("random", 5000, random);
        int[] copy = (int[])items.Clone();
        IntroSort.Sort<int>(items, (x, y) => random.Next(3) - 1);
        Array.Sort(items); Array.Sort(copy);
        Assert.That(items, Is.EqualTo(copy)); // a permutation: nothing lost or duplicated
    }

    [Test]
    public void IntroSortSortsReferencesWithAComparison()
    {
        string[] words = { "pear", "apple", "fig", "banana", "cherry", "date" };
        IntroSort.Sort<string>(words, string.CompareOrdinal);
        Assert.That(words, Is.EqualTo(new[] { "apple", "banana", "cherry", "date", "fig", "pear" }));
    }
}
