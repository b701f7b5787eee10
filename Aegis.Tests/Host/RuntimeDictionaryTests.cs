// Tests of Aegis.Runtime's Dictionary<TKey,TValue>: inside this assembly the runtime's source replaces the BCL's.
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class RuntimeDictionaryTests
{
    /// <summary>Every key hashes alike, so every entry shares one chain.</summary>
    private sealed class CollidingComparer : IEqualityComparer<int>
    {
        public bool Equals(int x, int y) => x == y;
        public int GetHashCode(int obj) => 42;
    }

    /// <summary>Hashes by value modulo 4: a few long chains.</summary>
    private sealed class FewBucketsComparer : IEqualityComparer<int>
    {
        public bool Equals(int x, int y) => x == y;
        public int GetHashCode(int obj) => obj % 4;
    }

    private static List<int> Keys<T>(Dictionary<int, T> dictionary)
    {
        List<int> keys = new();
        foreach (KeyValuePair<int, T> pair in dictionary) keys.Add(pair.Key);
        return keys;
    }

    [Test]
    public void TheRuntimeSourceIsTheOneUnderTest()
        => Assert.That(typeof(Dictionary<int, int>).Assembly, Is.SameAs(typeof(RuntimeDictionaryTests).Assembly));

    [Test]
    public void AddedValuesCanBeFound()
    {
        Dictionary<string, int> dictionary = new();
        dictionary.Add("one", 1);
        dictionary["two"] = 2;
        Assert.That(dictionary["one"], Is.EqualTo(1));
        Assert.That(dictionary.TryGetValue("two", out int two), Is.True);
        Assert.That(two, Is.EqualTo(2));
        Assert.That(dictionary.TryGetValue("three", out int missing), Is.False);
        Assert.That(missing, Is.Zero);
        Assert.That(dictionary.ContainsKey("one"), Is.True);
        Assert.That(dictionary.Count, Is.EqualTo(2));
    }

    [Test]
    public void AddingADuplicateKeyThrowsAndTryAddRefuses()
    {
        Dictionary<string, int> dictionary = new() { ["k"] = 1 };
        Assert.Throws<ArgumentException>(() => dictionary.Add("k", 2));
        Assert.That(dictionary.TryAdd("k", 3), Is.False);
        Assert.That(dictionary.TryAdd("j", 3), Is.True);
        Assert.That(dictionary["k"], Is.EqualTo(1));
    }

    [Test]
    public void IndexerOverwrites()
    {
        Dictionary<string, int> dictionary = new() { ["k"] = 1 };
        dictionary["k"] = 5;
        Assert.That(dictionary["k"], Is.EqualTo(5));
        Assert.That(dictionary.Count, Is.EqualTo(1));
    }

    [Test]
    public void MissingKeyThrowsKeyNotFound()
    {
        Dictionary<string, int> dictionary = new();
        Assert.Throws<KeyNotFoundException>(() => _ = dictionary["nope"]);
    }

    [Test]
    public void NullKeyThrows()
    {
        Dictionary<string, int> dictionary = new();
        Assert.Throws<ArgumentNullException>(() => dictionary.Add(null!, 1));
        Assert.Throws<ArgumentNullException>(() => dictionary.TryGetValue(null!, out _));
        Assert.Throws<ArgumentNullException>(() => dictionary.Remove(null!));
    }

    [Test]
    public void RemoveDeletesOnlyThatKey()
    {
        Dictionary<int, string> dictionary = new() { [1] = "a", [2] = "b", [3] = "c" };
        Assert.That(dictionary.Remove(2, out string removed), Is.True);
        Assert.That(removed, Is.EqualTo("b"));
        Assert.That(dictionary.Remove(2), Is.False);
        Assert.That(dictionary.ContainsKey(2), Is.False);
        Assert.That(dictionary[1], Is.EqualTo("a"));
        Assert.That(dictionary[3], Is.EqualTo("c"));
        Assert.That(dictionary.Count, Is.EqualTo(2));
    }

    [Test]
    public void FreedSlotsAreReusedLastFreedFirst()
    {
        Dictionary<int, int> dictionary = new() { [1] = 1, [2] = 2, [3] = 3 };
        dictionary.Remove(1);
        dictionary.Remove(2);
        dictionary[4] = 4;
        dictionary[5] = 5;
        Assert.That(Keys(dictionary), Is.EqualTo(new[] { 5, 4, 3 }), "the same order as .NET's Dictionary");
    }

    [Test]
    public void EnumerationFollowsInsertionOrderWithoutRemovals()
    {
        Dictionary<int, int> dictionary = new();
        for (int i = 50; i > 0; i--) dictionary[i * 7] = i;
        List<int> keys = Keys(dictionary);
        Assert.That(keys.Count, Is.EqualTo(50));
        for (int i = 0; i < 50; i++) Assert.That(keys[i], Is.EqualTo((50 - i) * 7));
    }

    [Test]
    public void CollidingKeysCanBeAddedRemovedAndReAdded()
    {
        Dictionary<int, string> dictionary = new(new CollidingComparer());
        for (int i = 0; i < 20; i++) dictionary.Add(i, "v" + i);
        Assert.That(dictionary.Remove(0), Is.True, "tail of the chain");
        Assert.That(dictionary.Remove(19), Is.True, "head of the chain");
        Assert.That(dictionary.Remove(10), Is.True, "middle of the chain");
        for (int i = 0; i < 20; i++)
            Assert.That(dictionary.ContainsKey(i), Is.EqualTo(i != 0 && i != 10 && i != 19), "key " + i);
        dictionary.Add(10, "again");
        dictionary.Add(0, "zero");
        Assert.That(dictionary[10], Is.EqualTo("again"));
        Assert.That(dictionary[0], Is.EqualTo("zero"));
        Assert.That(dictionary[5], Is.EqualTo("v5"));
        Assert.That(dictionary.Count, Is.EqualTo(19));
    }

    [Test]
    public void RandomOperationsAgreeWithAModel()
    {
        Random random = new(8);
        Dictionary<int, int> dictionary = new(new FewBucketsComparer());
        System.Collections.Generic.SortedDictionary<int, int> model = new();
        for (int step = 0; step < 20000; step++)
        {
            int key = random.Next(0, 300);
            switch (random.Next(4))
            {
                case 0:
                case 1:
                    dictionary[key] = step;
                    model[key] = step;
                    break;
                case 2:
                    Assert.That(dictionary.Remove(key), Is.EqualTo(model.Remove(key)));
                    break;
                case 3:
                    Assert.That(dictionary.TryGetValue(key, out int value), Is.EqualTo(model.TryGetValue(key, out int expected)));
                    Assert.That(value, Is.EqualTo(expected));
                    break;
            }
            Assert.That(dictionary.Count, Is.EqualTo(model.Count));
        }
        List<int> keys = Keys(dictionary);
        keys.Sort();
        Assert.That(keys, Is.EqualTo(model.Keys));
    }

    [Test]
    public void GrowingKeepsEveryEntry()
    {
        Dictionary<string, int> dictionary = new();
        for (int i = 0; i < 5000; i++) dictionary.Add("key" + i, i);
        for (int i = 0; i < 5000; i++) Assert.That(dictionary["key" + i], Is.EqualTo(i));
        Assert.That(dictionary.Count, Is.EqualTo(5000));
    }

    [Test]
    public void AddingDuringEnumerationThrows()
    {
        Dictionary<int, int> dictionary = new() { [1] = 1, [2] = 2 };
        Assert.Throws<InvalidOperationException>(() => { foreach (KeyValuePair<int, int> pair in dictionary) dictionary[pair.Key + 10] = 0; });
    }

    [Test]
    public void RemovingOrOverwritingDuringEnumerationIsAllowed()
    {
        Dictionary<int, int> dictionary = new() { [1] = 1, [2] = 2, [3] = 3 };
        foreach (KeyValuePair<int, int> pair in dictionary) dictionary[pair.Key] = pair.Value * 10;
        Assert.That(dictionary[3], Is.EqualTo(30));
        foreach (KeyValuePair<int, int> pair in dictionary) dictionary.Remove(pair.Key);
        Assert.That(dictionary.Count, Is.Zero);
    }

    [Test]
    public void ClearDuringEnumerationEndsIt()
    {
        Dictionary<int, int> dictionary = new() { [1] = 1, [2] = 2, [3] = 3 };
        int seen = 0;
        foreach (KeyValuePair<int, int> pair in dictionary)
        {
            dictionary.Clear();
            seen++;
        }
        Assert.That(seen, Is.EqualTo(1));
    }

    [Test]
    public void ClearEmptiesAndAllowsReuse()
    {
        Dictionary<string, int> dictionary = new() { ["a"] = 1, ["b"] = 2 };
        dictionary.Remove("a");
        dictionary.Clear();
        Assert.That(dictionary.Count, Is.Zero);
        Assert.That(dictionary.ContainsKey("b"), Is.False);
        dictionary["c"] = 3;
        Assert.That(dictionary["c"], Is.EqualTo(3));
        Assert.That(dictionary.Count, Is.EqualTo(1));
    }

    [Test]
    public void KeysValuesAndContainsValue()
    {
        Dictionary<string, int> dictionary = new() { ["a"] = 1, ["b"] = 2, ["c"] = 3 };
        dictionary.Remove("b");
        List<string> keys = new();
        foreach (string key in dictionary.Keys) keys.Add(key);
        List<int> values = new();
        foreach (int value in dictionary.Values) values.Add(value);
        Assert.That(keys, Is.EqualTo(new[] { "a", "c" }));
        Assert.That(values, Is.EqualTo(new[] { 1, 3 }));
        Assert.That(dictionary.Keys.Count, Is.EqualTo(2));
        Assert.That(dictionary.ContainsValue(3), Is.True);
        Assert.That(dictionary.ContainsValue(2), Is.False);
    }

    [Test]
    public void PairsCanBeAddedCheckedAndRemoved()
    {
        Dictionary<string, int> dictionary = new();
        dictionary.Add(new KeyValuePair<string, int>("a", 1));
        Assert.That(dictionary.Contains(new KeyValuePair<string, int>("a", 1)), Is.True);
        Assert.That(dictionary.Contains(new KeyValuePair<string, int>("a", 2)), Is.False);
        Assert.That(dictionary.Remove(new KeyValuePair<string, int>("a", 2)), Is.False);
        Assert.That(dictionary.Remove(new KeyValuePair<string, int>("a", 1)), Is.True);
        Assert.That(dictionary.Count, Is.Zero);
    }

    [Test]
    public void CopyToWritesLivePairs()
    {
        Dictionary<int, int> dictionary = new() { [1] = 10, [2] = 20, [3] = 30 };
        dictionary.Remove(2);
        KeyValuePair<int, int>[] pairs = new KeyValuePair<int, int>[3];
        dictionary.CopyTo(pairs, 1);
        Assert.That(pairs[1], Is.EqualTo(new KeyValuePair<int, int>(1, 10)));
        Assert.That(pairs[2], Is.EqualTo(new KeyValuePair<int, int>(3, 30)));
    }

    [Test]
    public void NegativeCapacityThrows()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new Dictionary<int, int>(-1));

    [Test]
    public void DefaultComparerUsesEquatableAndObjectEquality()
    {
        Assert.That(EqualityComparer<string>.Default.Equals("ab", new string(new[] { 'a', 'b' })), Is.True);
        Assert.That(EqualityComparer<string>.Default.Equals(null!, null!), Is.True);
        Assert.That(EqualityComparer<string>.Default.Equals("a", null!), Is.False);
        Assert.That(EqualityComparer<string>.Default.GetHashCode(null!), Is.Zero);
        Assert.That(EqualityComparer<int>.Default.Equals(3, 3), Is.True);
        Assert.That(EqualityComparer<object>.Default.Equals(1, 1), Is.True);
    }
}
