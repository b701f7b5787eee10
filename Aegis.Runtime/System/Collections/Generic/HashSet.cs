// HashSet<T>: separate chaining over index arrays, like Dictionary (no per-entry allocation).
// Invariants: _buckets[h % n] is 1 + the index of the first entry of that chain (0 = empty);
// entries chain through Next (-1 ends); removed entries form a free list through Next (encoded
// as -3 - next); _count - _freeCount live entries. Adding changes _version (an enumerator then
// throws InvalidOperationException, as in .NET); Remove and Clear do too.
namespace System.Collections.Generic
{
#if !AEGIS_HOST_TESTS // the host's BCL defines ISet<T> (with the same members)
    public interface ISet<T> : ICollection<T>
    {
        new bool Add(T item);
        void UnionWith(IEnumerable<T> other);
        void IntersectWith(IEnumerable<T> other);
        void ExceptWith(IEnumerable<T> other);
        void SymmetricExceptWith(IEnumerable<T> other);
        bool IsSubsetOf(IEnumerable<T> other);
        bool IsSupersetOf(IEnumerable<T> other);
        bool IsProperSupersetOf(IEnumerable<T> other);
        bool IsProperSubsetOf(IEnumerable<T> other);
        bool Overlaps(IEnumerable<T> other);
        bool SetEquals(IEnumerable<T> other);
    }
#endif

    public class HashSet<T> : ISet<T>, IReadOnlyCollection<T>
    {
        private struct Entry
        {
            public uint HashCode;
            public int Next;
            public T Value;
        }

        private const int StartOfFreeList = -3;
        private int[] _buckets;
        private Entry[] _entries;
        private int _count;
        private int _freeList = -1;
        private int _freeCount;
        private int _version;
        private readonly IEqualityComparer<T> _comparer;

        public HashSet() : this(0, null) { }
        public HashSet(IEqualityComparer<T> comparer) : this(0, comparer) { }
        public HashSet(int capacity) : this(capacity, null) { }

        public HashSet(int capacity, IEqualityComparer<T> comparer)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException(nameof(capacity));
            _comparer = comparer ?? EqualityComparer<T>.Default;
            _buckets = new int[capacity < 3 ? 3 : capacity];
            _entries = new Entry[capacity < 3 ? 3 : capacity];
        }

        public HashSet(IEnumerable<T> collection) : this(collection, null) { }

        public HashSet(IEnumerable<T> collection, IEqualityComparer<T> comparer) : this(0, comparer)
        {
            if (collection == null) throw new ArgumentNullException(nameof(collection));
            foreach (T item in collection) Add(item);
        }

        public int Count => _count - _freeCount;
        public bool IsReadOnly => false;
        public IEqualityComparer<T> Comparer => _comparer;

        private uint Hash(T item) => item == null ? 0 : (uint)_comparer.GetHashCode(item);

        private int FindItem(T item)
        {
            uint hash = Hash(item);
            int i = _buckets[hash % (uint)_buckets.Length] - 1;
            while (i >= 0)
            {
                if (_entries[i].HashCode == hash && _comparer.Equals(_entries[i].Value, item)) return i;
                i = _entries[i].Next;
            }
            return -1;
        }

        public bool Contains(T item) => FindItem(item) >= 0;

        public bool TryGetValue(T equalValue, out T actualValue)
        {
            int i = FindItem(equalValue);
            actualValue = i >= 0 ? _entries[i].Value : default;
            return i >= 0;
        }

        /// <summary>Adds item; false if an equal item is already there.</summary>
        public bool Add(T item)
        {
            uint hash = Hash(item);
            int bucket = (int)(hash % (uint)_buckets.Length);
            for (int i = _buckets[bucket] - 1; i >= 0; i = _entries[i].Next)
                if (_entries[i].HashCode == hash && _comparer.Equals(_entries[i].Value, item)) return false;
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
                {
                    Resize(_count * 2 + 1);
                    bucket = (int)(hash % (uint)_buckets.Length);
                }
                index = _count++;
            }
            _entries[index].HashCode = hash;
            _entries[index].Value = item;
            _entries[index].Next = _buckets[bucket] - 1;
            _buckets[bucket] = index + 1;
            _version++;
            return true;
        }

        void ICollection<T>.Add(T item) => Add(item);

        private void Resize(int size)
        {
            var entries = new Entry[size];
            Array.Copy(_entries, entries, _count);
            var buckets = new int[size];
            for (int i = 0; i < _count; i++)
            {
                if (entries[i].Next < -1) continue; // free (only when called with free entries: never, see Add)
                int bucket = (int)(entries[i].HashCode % (uint)size);
                entries[i].Next = buckets[bucket] - 1;
                buckets[bucket] = i + 1;
            }
            _entries = entries;
            _buckets = buckets;
        }

        public bool Remove(T item)
        {
            uint hash = Hash(item);
            int bucket = (int)(hash % (uint)_buckets.Length);
            int last = -1;
            for (int i = _buckets[bucket] - 1; i >= 0; last = i, i = _entries[i].Next)
            {
                if (_entries[i].HashCode != hash || !_comparer.Equals(_entries[i].Value, item)) continue;
                if (last < 0) _buckets[bucket] = _entries[i].Next + 1;
                else _entries[last].Next = _entries[i].Next;
                _entries[i].Value = default;
                _entries[i].Next = StartOfFreeList - _freeList;
                _freeList = i;
                _freeCount++;
                _version++;
                return true;
            }
            return false;
        }

        public int RemoveWhere(Predicate<T> match)
        {
            if (match == null) throw new ArgumentNullException(nameof(match));
            int removed = 0;
            for (int i = 0; i < _count; i++)
            {
                if (_entries[i].Next < -1) continue;
                T value = _entries[i].Value;
                if (match(value) && Remove(value)) removed++;
            }
            return removed;
        }

        public void Clear()
        {
            if (_count > 0)
            {
                Array.Clear(_buckets);
                Array.Clear(_entries);
                _count = 0;
                _freeList = -1;
                _freeCount = 0;
            }
            _version++;
        }

        public void CopyTo(T[] array) => CopyTo(array, 0);

        public void CopyTo(T[] array, int arrayIndex)
        {
            if (array == null) throw new ArgumentNullException(nameof(array));
            if (arrayIndex < 0 || array.Length - arrayIndex < Count) throw new ArgumentOutOfRangeException(nameof(arrayIndex));
            for (int i = 0; i < _count; i++)
                if (_entries[i].Next >= -1) array[arrayIndex++] = _entries[i].Value;
        }

        // ---- set operations (ISet<T>) ----

        private HashSet<T> AsSet(IEnumerable<T> other)
        {
            if (other == null) throw new ArgumentNullException(nameof(other));
            return other is HashSet<T> set && set._comparer == _comparer ? set : new HashSet<T>(other, _comparer);
        }

        public void UnionWith(IEnumerable<T> other)
        {
            if (other == null) throw new ArgumentNullException(nameof(other));
            foreach (T item in other) Add(item);
        }

        public void IntersectWith(IEnumerable<T> other)
        {
            HashSet<T> set = AsSet(other);
            if ((object)set == this) return;
            for (int i = 0; i < _count; i++)
            {
                if (_entries[i].Next < -1) continue;
                T value = _entries[i].Value;
                if (!set.Contains(value)) Remove(value);
            }
        }

        public void ExceptWith(IEnumerable<T> other)
        {
            if (other == null) throw new ArgumentNullException(nameof(other));
            if ((object)other == this) { Clear(); return; }
            foreach (T item in other) Remove(item);
        }

        public void SymmetricExceptWith(IEnumerable<T> other)
        {
            HashSet<T> set = AsSet(other);
            if ((object)set == this) { Clear(); return; }
            foreach (T item in set)
                if (!Remove(item)) Add(item);
        }

        public bool IsSubsetOf(IEnumerable<T> other)
        {
            HashSet<T> set = AsSet(other);
            foreach (T item in this)
                if (!set.Contains(item)) return false;
            return true;
        }

        public bool IsProperSubsetOf(IEnumerable<T> other)
        {
            HashSet<T> set = AsSet(other);
            return set.Count > Count && IsSubsetOf(set);
        }

        public bool IsSupersetOf(IEnumerable<T> other)
        {
            if (other == null) throw new ArgumentNullException(nameof(other));
            foreach (T item in other)
                if (!Contains(item)) return false;
            return true;
        }

        public bool IsProperSupersetOf(IEnumerable<T> other)
        {
            HashSet<T> set = AsSet(other);
            return Count > set.Count && IsSupersetOf(set);
        }

        public bool Overlaps(IEnumerable<T> other)
        {
            if (other == null) throw new ArgumentNullException(nameof(other));
            foreach (T item in other)
                if (Contains(item)) return true;
            return false;
        }

        public bool SetEquals(IEnumerable<T> other)
        {
            HashSet<T> set = AsSet(other);
            return set.Count == Count && IsSubsetOf(set);
        }

        public Enumerator GetEnumerator() => new Enumerator(this);
        IEnumerator<T> IEnumerable<T>.GetEnumerator() => new Enumerator(this);
        IEnumerator IEnumerable.GetEnumerator() => new Enumerator(this);

        public struct Enumerator : IEnumerator<T>
        {
            private readonly HashSet<T> _set;
            private readonly int _version;
            private int _index;
            private T _current;

            internal Enumerator(HashSet<T> set)
            {
                _set = set;
                _version = set._version;
                _index = 0;
                _current = default;
            }

            public bool MoveNext()
            {
                if (_version != _set._version) throw new InvalidOperationException("Collection was modified; enumeration operation may not execute.");
                while (_index < _set._count)
                {
                    int i = _index++;
                    if (_set._entries[i].Next >= -1)
                    {
                        _current = _set._entries[i].Value;
                        return true;
                    }
                }
                _current = default;
                return false;
            }

            public T Current => _current;
            object IEnumerator.Current => _current;
            public void Reset()
            {
                if (_version != _set._version) throw new InvalidOperationException("Collection was modified; enumeration operation may not execute.");
                _index = 0;
                _current = default;
            }
            public void Dispose() { }
        }
    }
}
