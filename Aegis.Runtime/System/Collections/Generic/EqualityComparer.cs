// EqualityComparer<T>.Default and Comparer<T>.Default: IEquatable<T>/IComparable<T> when the type
// has them (no boxing for value types: generic code is specialised per value type), else Object.Equals.
namespace System.Collections.Generic
{
    public abstract class EqualityComparer<T> : IEqualityComparer<T>
    {
        public static EqualityComparer<T> Default { get; } = new DefaultEqualityComparer<T>();
        public abstract bool Equals(T x, T y);
        public abstract int GetHashCode(T obj);
    }

    internal sealed class DefaultEqualityComparer<T> : EqualityComparer<T>
    {
        public override bool Equals(T x, T y)
        {
            if (x == null) return y == null;
            if (y == null) return false;
            if (x is IEquatable<T>) return ((IEquatable<T>)x).Equals(y);
            return x.Equals(y);
        }

        public override int GetHashCode(T obj) => obj == null ? 0 : obj.GetHashCode();
    }

    public abstract class Comparer<T> : IComparer<T>
    {
        public static Comparer<T> Default { get; } = new DefaultComparer<T>();
        public abstract int Compare(T x, T y);
    }

    internal sealed class DefaultComparer<T> : Comparer<T>
    {
        public override int Compare(T x, T y)
        {
            if (x == null) return y == null ? 0 : -1;
            if (y == null) return 1;
            if (x is IComparable<T>) return ((IComparable<T>)x).CompareTo(y);
            throw new InvalidOperationException("The type does not implement IComparable<T>.");
        }
    }

#if !AEGIS_HOST_TESTS // Host tests compile this file against the BCL, whose interfaces name the BCL's KeyValuePair.
    public readonly struct KeyValuePair<TKey, TValue>
    {
        private readonly TKey _key;
        private readonly TValue _value;
        public KeyValuePair(TKey key, TValue value) { _key = key; _value = value; }
        public TKey Key => _key;
        public TValue Value => _value;
        public void Deconstruct(out TKey key, out TValue value) { key = _key; value = _value; }
        public override string ToString() => "[" + (_key?.ToString() ?? "") + ", " + (_value?.ToString() ?? "") + "]";
    }
#endif
}
