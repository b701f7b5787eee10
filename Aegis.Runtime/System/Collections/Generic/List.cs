// List<T>: a growable array. Invariants: 0 <= _size <= _items.Length; slots at and past
// _size hold default(T); _version changes on every mutation and invalidates enumerators.
namespace System.Collections.Generic
{
    public class List<T> : IList<T>, IReadOnlyList<T>
    {
        private const int DefaultCapacity = 4;
        private T[] _items;
        private int _size;
        private int _version;

        public List() { _items = Array.Empty<T>(); }

        public List(int capacity)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException(nameof(capacity));
            _items = capacity == 0 ? Array.Empty<T>() : new T[capacity];
        }

        public List(IEnumerable<T> collection) : this()
        {
            if (collection == null) throw new ArgumentNullException(nameof(collection));
            foreach (T item in collection) Add(item);
        }

        public int Count => _size;
        public bool IsReadOnly => false;

        public int Capacity
        {
            get => _items.Length;
            set
            {
                if (value < _size) throw new ArgumentOutOfRangeException(nameof(value));
                if (value == _items.Length) return;
                T[] items = new T[value];
                Array.Copy(_items, items, _size);
                _items = items;
            }
        }

        public T this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_size) throw new ArgumentOutOfRangeException(nameof(index));
                return _items[index];
            }
            set
            {
                if ((uint)index >= (uint)_size) throw new ArgumentOutOfRangeException(nameof(index));
                _items[index] = value;
                _version++;
            }
        }

        public void Add(T item)
        {
            if (_size == _items.Length) Grow(_size + 1);
            _items[_size++] = item;
            _version++;
        }

        public void AddRange(IEnumerable<T> collection)
        {
            foreach (T item in collection) Add(item);
        }

        private void Grow(int minimum)
        {
            int capacity = _items.Length == 0 ? DefaultCapacity : _items.Length * 2;
            if (capacity < minimum) capacity = minimum;
            Capacity = capacity;
        }

        public void Insert(int index, T item)
        {
            if ((uint)index > (uint)_size) throw new ArgumentOutOfRangeException(nameof(index));
            if (_size == _items.Length) Grow(_size + 1);
            for (int i = _size; i > index; i--) _items[i] = _items[i - 1];
            _items[index] = item;
            _size++;
            _version++;
        }

        public void RemoveAt(int index)
        {
            if ((uint)index >= (uint)_size) throw new ArgumentOutOfRangeException(nameof(index));
            _size--;
            for (int i = index; i < _size; i++) _items[i] = _items[i + 1];
            _items[_size] = default;
            _version++;
        }

        public bool Remove(T item)
        {
            int index = IndexOf(item);
            if (index < 0) return false;
            RemoveAt(index);
            return true;
        }

        public int RemoveAll(Predicate<T> match)
        {
            int kept = 0;
            for (int i = 0; i < _size; i++)
            {
                if (!match(_items[i])) _items[kept++] = _items[i];
            }
            int removed = _size - kept;
            if (removed == 0) return 0;
            for (int i = kept; i < _size; i++) _items[i] = default;
            _size = kept;
            _version++;
            return removed;
        }

        public void Clear()
        {
            for (int i = 0; i < _size; i++) _items[i] = default;
            _size = 0;
            _version++;
        }

        public int IndexOf(T item)
        {
            EqualityComparer<T> comparer = EqualityComparer<T>.Default;
            for (int i = 0; i < _size; i++)
                if (comparer.Equals(_items[i], item)) return i;
            return -1;
        }

        public bool Contains(T item) => IndexOf(item) >= 0;

        public T Find(Predicate<T> match)
        {
            for (int i = 0; i < _size; i++)
                if (match(_items[i])) return _items[i];
            return default;
        }

        public bool Exists(Predicate<T> match) => FindIndex(match) >= 0;

        public int FindIndex(Predicate<T> match)
        {
            for (int i = 0; i < _size; i++)
                if (match(_items[i])) return i;
            return -1;
        }

        public void ForEach(Action<T> action)
        {
            int version = _version;
            for (int i = 0; i < _size; i++)
            {
                if (version != _version) throw new InvalidOperationException("Collection was modified; enumeration operation may not execute.");
                action(_items[i]);
            }
        }

        public void CopyTo(T[] array, int arrayIndex) => Array.Copy(_items, 0, array, arrayIndex, _size);

        public T[] ToArray()
        {
            T[] result = new T[_size];
            Array.Copy(_items, result, _size);
            return result;
        }

        public void Sort(Comparison<T> comparison)
        {
            if (comparison == null) throw new ArgumentNullException(nameof(comparison));
            IntroSort.Sort(new Span<T>(_items, 0, _size), comparison);
            _version++;
        }

        public void Sort() => Sort(Comparer<T>.Default.Compare);

        public void Sort(IComparer<T> comparer) => Sort((comparer ?? Comparer<T>.Default).Compare);

        public void Sort(int index, int count, IComparer<T> comparer)
        {
            if (index < 0 || count < 0 || _size - index < count) throw new ArgumentOutOfRangeException(nameof(index));
            IntroSort.Sort(new Span<T>(_items, index, count), (comparer ?? Comparer<T>.Default).Compare);
            _version++;
        }

        public int BinarySearch(T item) => Array.BinarySearch(_items, 0, _size, item, null);
        public int BinarySearch(T item, IComparer<T> comparer) => Array.BinarySearch(_items, 0, _size, item, comparer);

        public void Reverse()
        {
            for (int i = 0, j = _size - 1; i < j; i++, j--)
            {
                T temporary = _items[i];
                _items[i] = _items[j];
                _items[j] = temporary;
            }
            _version++;
        }

        public Enumerator GetEnumerator() => new Enumerator(this);
        IEnumerator<T> IEnumerable<T>.GetEnumerator() => new Enumerator(this);
        IEnumerator IEnumerable.GetEnumerator() => new Enumerator(this);

        public struct Enumerator : IEnumerator<T>
        {
            private readonly List<T> _list;
            private readonly int _version;
            private int _index;
            private T _current;

            internal Enumerator(List<T> list)
            {
                _list = list;
                _version = list._version;
                _index = 0;
                _current = default;
            }

            public bool MoveNext()
            {
                if (_version != _list._version)
                    throw new InvalidOperationException("Collection was modified; enumeration operation may not execute.");
                if (_index < _list._size)
                {
                    _current = _list._items[_index++];
                    return true;
                }
                _current = default;
                return false;
            }

            public T Current => _current;
            object IEnumerator.Current => _current;
            public void Reset() { _index = 0; _current = default; }
            public void Dispose() { }
        }
    }
}
