// Queue<T>: first in, first out, in a circular array. Invariants: the items are
// _array[(_head + i) % _array.Length] for i in [0, _size); slots outside them hold default(T);
// _version changes on every mutation and invalidates enumerators (InvalidOperationException).
// Dequeue/Peek on an empty queue throw InvalidOperationException("Queue empty."), as in .NET.
namespace System.Collections.Generic
{
    public class Queue<T> : IEnumerable<T>, IReadOnlyCollection<T>
    {
        private T[] _array;
        private int _head;
        private int _size;
        private int _version;

        public Queue() { _array = Array.Empty<T>(); }

        public Queue(int capacity)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException(nameof(capacity));
            _array = new T[capacity];
        }

        public Queue(IEnumerable<T> collection) : this()
        {
            if (collection == null) throw new ArgumentNullException(nameof(collection));
            foreach (T item in collection) Enqueue(item);
        }

        public int Count => _size;

        public void Enqueue(T item)
        {
            if (_size == _array.Length) SetCapacity(_array.Length < 4 ? 4 : _array.Length * 2);
            _array[(_head + _size) % _array.Length] = item;
            _size++;
            _version++;
        }

        public T Dequeue()
        {
            if (_size == 0) throw new InvalidOperationException("Queue empty.");
            T item = _array[_head];
            _array[_head] = default;
            _head = (_head + 1) % _array.Length;
            _size--;
            _version++;
            return item;
        }

        public bool TryDequeue(out T result)
        {
            if (_size == 0) { result = default; return false; }
            result = Dequeue();
            return true;
        }

        public T Peek()
        {
            if (_size == 0) throw new InvalidOperationException("Queue empty.");
            return _array[_head];
        }

        public bool TryPeek(out T result)
        {
            if (_size == 0) { result = default; return false; }
            result = _array[_head];
            return true;
        }

        public void Clear()
        {
            for (int i = 0; i < _size; i++) _array[(_head + i) % _array.Length] = default;
            _head = 0;
            _size = 0;
            _version++;
        }

        public bool Contains(T item)
        {
            EqualityComparer<T> comparer = EqualityComparer<T>.Default;
            for (int i = 0; i < _size; i++)
                if (comparer.Equals(_array[(_head + i) % _array.Length], item)) return true;
            return false;
        }

        public T[] ToArray()
        {
            T[] result = new T[_size];
            CopyTo(result, 0);
            return result;
        }

        public void CopyTo(T[] array, int arrayIndex)
        {
            if (array == null) throw new ArgumentNullException(nameof(array));
            if (arrayIndex < 0 || array.Length - arrayIndex < _size) throw new ArgumentOutOfRangeException(nameof(arrayIndex));
            for (int i = 0; i < _size; i++) array[arrayIndex + i] = _array[(_head + i) % _array.Length];
        }

        public int EnsureCapacity(int capacity)
        {
            if (capacity < 0) throw new ArgumentOutOfRangeException(nameof(capacity));
            if (_array.Length < capacity) SetCapacity(capacity > _array.Length * 2 ? capacity : _array.Length * 2);
            return _array.Length;
        }

        public void TrimExcess() { if (_size < _array.Length * 9 / 10) SetCapacity(_size); }

        private void SetCapacity(int capacity)
        {
            T[] array = new T[capacity];
            CopyTo(array, 0);
            _array = array;
            _head = 0;
            _version++;
        }

        public Enumerator GetEnumerator() => new Enumerator(this);
        IEnumerator<T> IEnumerable<T>.GetEnumerator() => new Enumerator(this);
        IEnumerator IEnumerable.GetEnumerator() => new Enumerator(this);

        /// <summary>From the head (the next to dequeue) to the tail.</summary>
        public struct Enumerator : IEnumerator<T>
        {
            private readonly Queue<T> _queue;
            private readonly int _version;
            private int _index;
            private T _current;

            internal Enumerator(Queue<T> queue) { _queue = queue; _version = queue._version; _index = -1; _current = default; }

            public bool MoveNext()
            {
                if (_version != _queue._version) throw new InvalidOperationException("Collection was modified; enumeration operation may not execute.");
                if (_index == -2) return false;
                _index++;
                if (_index == _queue._size) { _index = -2; _current = default; return false; }
                _current = _queue._array[(_queue._head + _index) % _queue._array.Length];
                return true;
            }

            public T Current
            {
                get
                {
                    if (_index < 0) throw new InvalidOperationException(_index == -1 ? "Enumeration has not started. Call MoveNext." : "Enumeration already finished.");
                    return _current;
                }
            }

            object IEnumerator.Current => Current;
            public void Reset() { _index = -1; _current = default; }
            public void Dispose() { _index = -2; _current = default; }
        }
    }
}
