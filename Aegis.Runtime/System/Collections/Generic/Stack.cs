// Stack<T>: last in, first out, in an array. Invariants: the items are _array[0, _size), the
// top at _size - 1; slots past them hold default(T); _version changes on every mutation and
// invalidates enumerators (InvalidOperationException). Pop/Peek on an empty stack throw
// InvalidOperationException("Stack empty."), as in .NET; enumeration and ToArray go from the top.
namespace System.Collections.Generic
{
    public class Stack<T> : IEnumerable<T>, IReadOnlyCollection<T>
    {
        private T[] _array;
        private int _size;
        private int _version;

        public Stack() { _array = Array.Empty<T>(); }

        public Stack(int capacity)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException(nameof(capacity));
            _array = new T[capacity];
        }

        public Stack(IEnumerable<T> collection) : this()
        {
            if (collection == null) throw new ArgumentNullException(nameof(collection));
            foreach (T item in collection) Push(item);
        }

        public int Count => _size;

        public void Push(T item)
        {
            if (_size == _array.Length)
            {
                T[] larger = new T[_array.Length < 4 ? 4 : _array.Length * 2];
                Array.Copy(_array, larger, _size);
                _array = larger;
            }
            _array[_size++] = item;
            _version++;
        }

        public T Pop()
        {
            if (_size == 0) throw new InvalidOperationException("Stack empty.");
            T item = _array[--_size];
            _array[_size] = default;
            _version++;
            return item;
        }

        public bool TryPop(out T result)
        {
            if (_size == 0) { result = default; return false; }
            result = Pop();
            return true;
        }

        public T Peek()
        {
            if (_size == 0) throw new InvalidOperationException("Stack empty.");
            return _array[_size - 1];
        }

        public bool TryPeek(out T result)
        {
            if (_size == 0) { result = default; return false; }
            result = _array[_size - 1];
            return true;
        }

        public void Clear()
        {
            for (int i = 0; i < _size; i++) _array[i] = default;
            _size = 0;
            _version++;
        }

        public bool Contains(T item)
        {
            EqualityComparer<T> comparer = EqualityComparer<T>.Default;
            for (int i = 0; i < _size; i++)
                if (comparer.Equals(_array[i], item)) return true;
            return false;
        }

        /// <summary>The items from the top down (the order Pop returns them).</summary>
        public T[] ToArray()
        {
            T[] result = new T[_size];
            for (int i = 0; i < _size; i++) result[i] = _array[_size - 1 - i];
            return result;
        }

        public void CopyTo(T[] array, int arrayIndex)
        {
            if (array == null) throw new ArgumentNullException(nameof(array));
            if (arrayIndex < 0 || array.Length - arrayIndex < _size) throw new ArgumentOutOfRangeException(nameof(arrayIndex));
            for (int i = 0; i < _size; i++) array[arrayIndex + i] = _array[_size - 1 - i];
        }

        public void TrimExcess()
        {
            if (_size < _array.Length * 9 / 10)
            {
                T[] smaller = new T[_size];
                Array.Copy(_array, smaller, _size);
                _array = smaller;
                _version++;
            }
        }

        public Enumerator GetEnumerator() => new Enumerator(this);
        IEnumerator<T> IEnumerable<T>.GetEnumerator() => new Enumerator(this);
        IEnumerator IEnumerable.GetEnumerator() => new Enumerator(this);

        /// <summary>From the top down.</summary>
        public struct Enumerator : IEnumerator<T>
        {
            private readonly Stack<T> _stack;
            private readonly int _version;
            private int _index; // -2 before the start, -1 after the end
            private T _current;

            internal Enumerator(Stack<T> stack) { _stack = stack; _version = stack._version; _index = -2; _current = default; }

            public bool MoveNext()
            {
                if (_version != _stack._version) throw new InvalidOperationException("Collection was modified; enumeration operation may not execute.");
                if (_index == -2) _index = _stack._size;
                if (_index == -1) return false;
                _index--;
                if (_index < 0) { _index = -1; _current = default; return false; }
                _current = _stack._array[_index];
                return true;
            }

            public T Current
            {
                get
                {
                    if (_index < 0) throw new InvalidOperationException(_index == -2 ? "Enumeration has not started. Call MoveNext." : "Enumeration already finished.");
                    return _current;
                }
            }

            object IEnumerator.Current => Current;
            public void Reset() { _index = -2; _current = default; }
            public void Dispose() { _index = -1; _current = default; }
        }
    }
}
