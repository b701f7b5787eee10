// Dictionary<TKey,TValue>: separate chaining over index arrays (no per-entry allocation).
// Invariants: _buckets[h % n] is 1 + the index of the first entry of that chain (0 = empty);
// entries chain through Next (-1 ends); removed entries form a free list through Next
// (encoded as -3 - next so they are distinguishable); _count - _freeCount live entries.
// As in .NET, only adding a key changes _version: removing, overwriting and clearing during
// enumeration are allowed (the enumerator skips freed entries and stops at _count).
namespace System.Collections.Generic
{
    public class Dictionary<TKey, TValue> : IDictionary<TKey, TValue>, IReadOnlyDictionary<TKey, TValue>
    {
        private struct Entry
        {
            public uint HashCode;
            public int Next;
            public TKey Key;
            public TValue Value;
        }

        private const int StartOfFreeList = -3;
        private int[] _buckets;
        private Entry[] _entries;
        private int _count;
        private int _freeList = -1;
        private int _freeCount;
        private int _version;
        private readonly IEqualityComparer<TKey> _comparer;

        public Dictionary() : this(0, null) { }
        public Dictionary(int capacity) : this(capacity, null) { }
        public Dictionary(IEqualityComparer<TKey> comparer) : this(0, comparer) { }

        public Dictionary(int capacity, IEqualityComparer<TKey> comparer)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException(nameof(capacity));
            _comparer = comparer ?? EqualityComparer<TKey>.Default;
            Initialize(capacity < 3 ? 3 : capacity);
        }

        private void Initialize(int size)
        {
            _buckets = new int[size];
            _entries = new Entry[size];
        }

        public int Count => _count - _freeCount;
        public bool IsReadOnly => false;

        public TValue this[TKey key]
        {
            get
            {
                int index = FindEntry(key);
                if (index < 0) throw new KeyNotFoundException("The given key '" + key.ToString() + "' was not present in the dictionary.");
                return _entries[index].Value;
            }
            set => Insert(key, value, overwrite: true);
        }

        public void Add(TKey key, TValue value) => Insert(key, value, overwrite: false);
        public void Add(KeyValuePair<TKey, TValue> item) => Add(item.Key, item.Value);
        public bool TryAdd(TKey key, TValue value)
        {
            if (FindEntry(key) >= 0) return false;
            Insert(key, value, overwrite: false);
            return true;
        }

        public bool ContainsKey(TKey key) => FindEntry(key) >= 0;

        public bool ContainsValue(TValue value)
        {
            EqualityComparer<TValue> comparer = EqualityComparer<TValue>.Default;
            for (int i = 0; i < _count; i++)
                if (_entries[i].Next >= -1 && comparer.Equals(_entries[i].Value, value)) return true;
            return false;
        }

        public bool Contains(KeyValuePair<TKey, TValue> item)
        {
            int index = FindEntry(item.Key);
            return index >= 0 && EqualityComparer<TValue>.Default.Equals(_entries[index].Value, item.Value);
        }

        public bool TryGetValue(TKey key, out TValue value)
        {
            int index = FindEntry(key);
            if (index >= 0)
            {
                value = _entries[index].Value;
                return true;
            }
            value = default;
            return false;
        }

        private uint HashOf(TKey key)
        {
            if (key == null) throw new ArgumentNullException(nameof(key));
            return (uint)_comparer.GetHashCode(key);
        }

        private int FindEntry(TKey key)
        {
            uint hash = HashOf(key);
            int index = _buckets[hash % (uint)_buckets.Length] - 1;
            while (index >= 0)
            {
                ref Entry entry = ref _entries[index];
                if (entry.HashCode == hash && _comparer.Equals(entry.Key, key))
                    return index;
                index = entry.Next;
            }
            return -1;
        }

        private void Insert(TKey key, TValue value, bool overwrite)
        {
            uint hash = HashOf(key);
            int existing = FindEntry(key);
            if (existing >= 0)
            {
                if (!overwrite)
                    throw new ArgumentException("An item with the same key has already been added. Key: " + key.ToString());
                _entries[existing].Value = value;
                return;
            }
            int index;
            if (_freeCount > 0)
            {
                index = _freeList;
                _freeList = StartOfFreeList - _entries[index].Next;
                _freeCount--;
            }
            else
            {
                if (_count == _entries.Length)
                    Resize();
                index = _count++;
            }
            ref int bucket = ref _buckets[hash % (uint)_buckets.Length];
            ref Entry entry = ref _entries[index];
            entry.HashCode = hash;
            entry.Next = bucket - 1;
            entry.Key = key;
            entry.Value = value;
            bucket = index + 1;
            _version++;
        }

        private void Resize()
        {
            int size = _entries.Length * 2 + 1;
            Entry[] entries = new Entry[size];
            Array.Copy(_entries, entries, _count);
            int[] buckets = new int[size];
            for (int i = 0; i < _count; i++)
            {
                if (entries[i].Next < -1) continue;
                ref int bucket = ref buckets[entries[i].HashCode % (uint)size];
                entries[i].Next = bucket - 1;
                bucket = i + 1;
            }
            _buckets = buckets;
            _entries = entries;
        }

        public bool Remove(TKey key) => Remove(key, out _);

        public bool Remove(TKey key, out TValue value)
        {
            uint hash = HashOf(key);
            ref int bucket = ref _buckets[hash % (uint)_buckets.Length];
            int previous = -1;
            int index = bucket - 1;
            while (index >= 0)
            {
                ref Entry entry = ref _entries[index];
                if (entry.HashCode == hash && _comparer.Equals(entry.Key, key))
                {
                    if (previous < 0) bucket = entry.Next + 1;
                    else _entries[previous].Next = entry.Next;
                    value = entry.Value;
                    entry.Next = StartOfFreeList - _freeList;
                    entry.Key = default;
                    entry.Value = default;
                    _freeList = index;
                    _freeCount++;
                    return true;
                }
                previous = index;
                index = entry.Next;
            }
            value = default;
            return false;
        }

        public bool Remove(KeyValuePair<TKey, TValue> item) => Contains(item) && Remove(item.Key);

        public void Clear()
        {
            if (_count == 0) return;
            Array.Clear(_buckets);
            Array.Clear(_entries, 0, _count);
            _count = 0;
            _freeList = -1;
            _freeCount = 0;
        }

        public void CopyTo(KeyValuePair<TKey, TValue>[] array, int arrayIndex)
        {
            foreach (KeyValuePair<TKey, TValue> pair in this) array[arrayIndex++] = pair;
        }

        public KeyCollection Keys => new KeyCollection(this);
        public ValueCollection Values => new ValueCollection(this);

#if AEGIS_HOST_TESTS
        // Host tests compile this class against the BCL, whose dictionary interfaces also expose
        // Keys and Values as collections; snapshots are enough there.
        ICollection<TKey> IDictionary<TKey, TValue>.Keys => KeySnapshot();
        ICollection<TValue> IDictionary<TKey, TValue>.Values => ValueSnapshot();
        IEnumerable<TKey> IReadOnlyDictionary<TKey, TValue>.Keys => KeySnapshot();
        IEnumerable<TValue> IReadOnlyDictionary<TKey, TValue>.Values => ValueSnapshot();

        private List<TKey> KeySnapshot()
        {
            List<TKey> keys = new List<TKey>(Count);
            foreach (TKey key in Keys) keys.Add(key);
            return keys;
        }

        private List<TValue> ValueSnapshot()
        {
            List<TValue> values = new List<TValue>(Count);
            foreach (TValue value in Values) values.Add(value);
            return values;
        }
#endif

        public Enumerator GetEnumerator() => new Enumerator(this);
        IEnumerator<KeyValuePair<TKey, TValue>> IEnumerable<KeyValuePair<TKey, TValue>>.GetEnumerator() => new Enumerator(this);
        IEnumerator IEnumerable.GetEnumerator() => new Enumerator(this);

        public struct Enumerator : IEnumerator<KeyValuePair<TKey, TValue>>
        {
            private readonly Dictionary<TKey, TValue> _dictionary;
            private readonly int _version;
            private int _index;
            private KeyValuePair<TKey, TValue> _current;

            internal Enumerator(Dictionary<TKey, TValue> dictionary)
            {
                _dictionary = dictionary;
                _version = dictionary._version;
                _index = 0;
                _current = default;
            }

            public bool MoveNext()
            {
                if (_version != _dictionary._version)
                    throw new InvalidOperationException("Collection was modified; enumeration operation may not execute.");
                while ((uint)_index < (uint)_dictionary._count)
                {
                    ref Entry entry = ref _dictionary._entries[_index++];
                    if (entry.Next >= -1)
                    {
                        _current = new KeyValuePair<TKey, TValue>(entry.Key, entry.Value);
                        return true;
                    }
                }
                _current = default;
                return false;
            }

            public KeyValuePair<TKey, TValue> Current => _current;
            object IEnumerator.Current => _current;
            public void Reset() { _index = 0; _current = default; }
            public void Dispose() { }
        }

        public readonly struct KeyCollection
        {
            private readonly Dictionary<TKey, TValue> _dictionary;
            internal KeyCollection(Dictionary<TKey, TValue> dictionary) { _dictionary = dictionary; }
            public int Count => _dictionary.Count;
            public KeyEnumerator GetEnumerator() => new KeyEnumerator(_dictionary);
        }

        public struct KeyEnumerator
        {
            private Enumerator _inner;
            internal KeyEnumerator(Dictionary<TKey, TValue> dictionary) { _inner = new Enumerator(dictionary); }
            public bool MoveNext() => _inner.MoveNext();
            public TKey Current => _inner.Current.Key;
        }

        public readonly struct ValueCollection
        {
            private readonly Dictionary<TKey, TValue> _dictionary;
            internal ValueCollection(Dictionary<TKey, TValue> dictionary) { _dictionary = dictionary; }
            public int Count => _dictionary.Count;
            public ValueEnumerator GetEnumerator() => new ValueEnumerator(_dictionary);
        }

        public struct ValueEnumerator
        {
            private Enumerator _inner;
            internal ValueEnumerator(Dictionary<TKey, TValue> dictionary) { _inner = new Enumerator(dictionary); }
            public bool MoveNext() => _inner.MoveNext();
            public TValue Current => _inner.Current.Value;
        }
    }
}
