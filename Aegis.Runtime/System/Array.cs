// System.Array and Array<T> (the base ILC uses for T[]). Layout (fixed by ILC):
// MethodTable pointer, 32-bit length, 32-bit padding, then the elements.
using Internal.Runtime;
using System.Collections;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace System
{
    public abstract unsafe class Array : ICloneable
    {
        public int Length => (int)Unsafe.As<RawArrayData>(this).Length;
        public long LongLength => Length;

        internal ref byte GetRawArrayData() => ref Unsafe.As<RawArrayData>(this).Data;
        internal int ElementSize => GetMethodTable()->ComponentSize;
        internal long ByteLength => (long)Length * ElementSize;

        public int Rank => GetMethodTable()->ArrayRank;

        /// <summary>For a multi-dimensional array: its lengths, then its lower bounds (one int each).</summary>
        internal int* MultiDimensionalBounds => (int*)((byte*)Unsafe.AsPointer(ref Unsafe.As<RawArrayData>(this).Length) + 2 * sizeof(int));

        public int GetLength(int dimension)
        {
            int rank = Rank;
            if ((uint)dimension >= (uint)rank)
                throw new IndexOutOfRangeException();
            return GetMethodTable()->IsSzArray ? Length : MultiDimensionalBounds[dimension];
        }

        public int GetLowerBound(int dimension)
        {
            if ((uint)dimension >= (uint)Rank)
                throw new IndexOutOfRangeException();
            return 0;
        }

        public int GetUpperBound(int dimension) => GetLength(dimension) - 1;

        public object Clone()
        {
            Array copy = Unsafe.As<Array>(Heap.AllocateArray(GetMethodTable(), Length));
            Buffer.Memmove(ref copy.GetRawArrayData(), ref GetRawArrayData(), (nuint)ByteLength);
            return copy;
        }

        public static void Copy(Array sourceArray, Array destinationArray, int length)
            => Copy(sourceArray, 0, destinationArray, 0, length);

        public static void Copy(Array sourceArray, int sourceIndex, Array destinationArray, int destinationIndex, int length)
        {
            if (sourceArray == null) throw new ArgumentNullException(nameof(sourceArray));
            if (destinationArray == null) throw new ArgumentNullException(nameof(destinationArray));
            if (sourceArray.GetMethodTable() != destinationArray.GetMethodTable())
                throw new ArrayTypeMismatchException("Array.Copy between arrays of different types is not supported.");
            if (length < 0 || sourceIndex < 0 || destinationIndex < 0 ||
                sourceIndex > sourceArray.Length - length || destinationIndex > destinationArray.Length - length)
                throw new ArgumentOutOfRangeException(nameof(length));
            int size = sourceArray.ElementSize;
            Buffer.Memmove(ref Unsafe.Add(ref destinationArray.GetRawArrayData(), (nint)destinationIndex * size),
                ref Unsafe.Add(ref sourceArray.GetRawArrayData(), (nint)sourceIndex * size), (nuint)length * (nuint)size);
        }

        public static void Clear(Array array) => Clear(array, 0, array.Length);

        public static void Clear(Array array, int index, int length)
        {
            if (array == null) throw new ArgumentNullException(nameof(array));
            if (index < 0 || length < 0 || index > array.Length - length)
                throw new IndexOutOfRangeException();
            int size = array.ElementSize;
            Buffer.ZeroMemory(ref Unsafe.Add(ref array.GetRawArrayData(), (nint)index * size), (nuint)length * (nuint)size);
        }

        public static T[] Empty<T>() => EmptyArray<T>.Value;

        public static int IndexOf<T>(T[] array, T value)
        {
            if (array == null) throw new ArgumentNullException(nameof(array));
            EqualityComparerShim<T> comparer = default;
            for (int i = 0; i < array.Length; i++)
                if (comparer.Equal(array[i], value)) return i;
            return -1;
        }

        public static void Resize<T>(ref T[] array, int newSize)
        {
            if (newSize < 0) throw new ArgumentOutOfRangeException(nameof(newSize));
            T[] larger = new T[newSize];
            if (array != null)
                Copy(array, larger, array.Length < newSize ? array.Length : newSize);
            array = larger;
        }

        public static void Reverse<T>(T[] array)
        {
            for (int i = 0, j = array.Length - 1; i < j; i++, j--)
            {
                T temporary = array[i];
                array[i] = array[j];
                array[j] = temporary;
            }
        }

        public static void Fill<T>(T[] array, T value)
        {
            for (int i = 0; i < array.Length; i++) array[i] = value;
        }

        // Sorting: introsort (System/Collections/Generic/ArraySortHelper.cs), O(n log n), not stable (as .NET).
        public static void Sort<T>(T[] array)
        {
            if (array == null) throw new ArgumentNullException(nameof(array));
            IntroSort.Sort(new Span<T>(array), Comparer<T>.Default.Compare);
        }

        public static void Sort<T>(T[] array, Comparison<T> comparison)
        {
            if (array == null) throw new ArgumentNullException(nameof(array));
            if (comparison == null) throw new ArgumentNullException(nameof(comparison));
            IntroSort.Sort(new Span<T>(array), comparison);
        }

        public static void Sort<T>(T[] array, IComparer<T> comparer)
        {
            if (array == null) throw new ArgumentNullException(nameof(array));
            IntroSort.Sort(new Span<T>(array), (comparer ?? Comparer<T>.Default).Compare);
        }

        public static void Sort<T>(T[] array, int index, int length) => Sort(array, index, length, null);

        public static void Sort<T>(T[] array, int index, int length, IComparer<T> comparer)
        {
            if (array == null) throw new ArgumentNullException(nameof(array));
            if (index < 0) throw new ArgumentOutOfRangeException(nameof(index), "Non-negative number required.");
            if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), "Non-negative number required.");
            if (array.Length - index < length) throw new ArgumentException("Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.");
            IntroSort.Sort(new Span<T>(array, index, length), (comparer ?? Comparer<T>.Default).Compare);
        }

        /// <summary>The index of value in the sorted array, or the bitwise complement of where it would go.</summary>
        public static int BinarySearch<T>(T[] array, T value) => BinarySearch(array, 0, array?.Length ?? 0, value, null);

        public static int BinarySearch<T>(T[] array, T value, IComparer<T> comparer) => BinarySearch(array, 0, array?.Length ?? 0, value, comparer);

        public static int BinarySearch<T>(T[] array, int index, int length, T value, IComparer<T> comparer)
        {
            if (array == null) throw new ArgumentNullException(nameof(array));
            if (index < 0 || length < 0 || array.Length - index < length) throw new ArgumentOutOfRangeException(nameof(index));
            comparer ??= Comparer<T>.Default;
            int low = index, high = index + length - 1;
            while (low <= high)
            {
                int middle = low + ((high - low) >> 1);
                int order = comparer.Compare(array[middle], value);
                if (order == 0) return middle;
                if (order < 0) low = middle + 1;
                else high = middle - 1;
            }
            return ~low;
        }

        private static class EmptyArray<T>
        {
            internal static readonly T[] Value = new T[0];
        }

        private struct EqualityComparerShim<T>
        {
            public bool Equal(T a, T b) => System.Collections.Generic.EqualityComparer<T>.Default.Equals(a, b);
        }
    }

    // ILC gives every T[] the interfaces of Array<T>, and these implementations ('this' is the
    // T[]), so a T[] is an IList<T>, IReadOnlyList<T> and IEnumerable<T> as in .NET.
    // Arrays are fixed-size: the IList<T> methods that would change the length throw.
    public class Array<T> : Array, IList<T>, IReadOnlyList<T>
    {
        private T[] Items => Unsafe.As<T[]>(this);

        public IEnumerator<T> GetEnumerator() => new ArrayEnumerator<T>(Items);
        IEnumerator IEnumerable.GetEnumerator() => new ArrayEnumerator<T>(Items);

        int ICollection<T>.Count => Length;
        int IReadOnlyCollection<T>.Count => Length;
        bool ICollection<T>.IsReadOnly => true;

        T IList<T>.this[int index]
        {
            get => Items[index];
            set => Items[index] = value;
        }

        T IReadOnlyList<T>.this[int index] => Items[index];

        int IList<T>.IndexOf(T item) => IndexOf(Items, item);
        bool ICollection<T>.Contains(T item) => IndexOf(Items, item) >= 0;
        void ICollection<T>.CopyTo(T[] array, int arrayIndex) => Copy(Items, 0, array, arrayIndex, Length);

        void ICollection<T>.Add(T item) => throw new NotSupportedException("Collection was of a fixed size.");
        void ICollection<T>.Clear() => throw new NotSupportedException("Collection was of a fixed size.");
        bool ICollection<T>.Remove(T item) => throw new NotSupportedException("Collection was of a fixed size.");
        void IList<T>.Insert(int index, T item) => throw new NotSupportedException("Collection was of a fixed size.");
        void IList<T>.RemoveAt(int index) => throw new NotSupportedException("Collection was of a fixed size.");
    }

    internal sealed class ArrayEnumerator<T> : IEnumerator<T>
    {
        private readonly T[] _items;
        private int _index = -1;

        public ArrayEnumerator(T[] items) { _items = items; }

        public bool MoveNext() => ++_index < _items.Length;
        public T Current => _items[_index];
        object IEnumerator.Current => _items[_index];
        public void Reset() => _index = -1;
        public void Dispose() { }
    }
}
