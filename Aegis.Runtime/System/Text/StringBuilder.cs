// StringBuilder: a growable char buffer. Invariant: 0 <= _length <= _chars.Length.
namespace System.Text
{
    public sealed class StringBuilder
    {
        private char[] _chars;
        private int _length;

        public StringBuilder() : this(16) { }
        public StringBuilder(int capacity) { _chars = new char[capacity < 1 ? 1 : capacity]; }
        public StringBuilder(string value) : this(value == null ? 16 : value.Length + 16) { Append(value); }

        public int Length
        {
            get => _length;
            set
            {
                if (value < 0) throw new ArgumentOutOfRangeException(nameof(value));
                EnsureCapacity(value);
                for (int i = _length; i < value; i++) _chars[i] = '\0';
                _length = value;
            }
        }

        public int Capacity => _chars.Length;

        public char this[int index]
        {
            get
            {
                if ((uint)index >= (uint)_length) throw new IndexOutOfRangeException();
                return _chars[index];
            }
            set
            {
                if ((uint)index >= (uint)_length) throw new IndexOutOfRangeException();
                _chars[index] = value;
            }
        }

        public int EnsureCapacity(int capacity)
        {
            if (capacity > _chars.Length)
            {
                int size = _chars.Length * 2;
                if (size < capacity) size = capacity;
                char[] larger = new char[size];
                Array.Copy(_chars, larger, _length);
                _chars = larger;
            }
            return _chars.Length;
        }

        public StringBuilder Append(char value)
        {
            EnsureCapacity(_length + 1);
            _chars[_length++] = value;
            return this;
        }

        public StringBuilder Append(char value, int repeatCount)
        {
            if (repeatCount < 0) throw new ArgumentOutOfRangeException(nameof(repeatCount));
            EnsureCapacity(_length + repeatCount);
            for (int i = 0; i < repeatCount; i++) _chars[_length++] = value;
            return this;
        }

        public StringBuilder Append(string value) => value == null ? this : Append((ReadOnlySpan<char>)value);

        public StringBuilder Append(ReadOnlySpan<char> value)
        {
            EnsureCapacity(_length + value.Length);
            value.CopyTo(new Span<char>(_chars, _length, value.Length));
            _length += value.Length;
            return this;
        }

        public StringBuilder Append(object value) => value == null ? this : Append(value.ToString());
        public StringBuilder Append(bool value) => Append(value ? "True" : "False");
        public StringBuilder Append(int value) => AppendFormattable(value);
        public StringBuilder Append(uint value) => AppendFormattable(value);
        public StringBuilder Append(long value) => AppendFormattable(value);
        public StringBuilder Append(ulong value) => AppendFormattable(value);
        public StringBuilder Append(short value) => AppendFormattable(value);
        public StringBuilder Append(ushort value) => AppendFormattable(value);
        public StringBuilder Append(byte value) => AppendFormattable(value);
        public StringBuilder Append(sbyte value) => AppendFormattable(value);

        private StringBuilder AppendFormattable<T>(T value) where T : ISpanFormattable
        {
            int written;
            while (!value.TryFormat(new Span<char>(_chars).Slice(_length), out written, default, null))
                EnsureCapacity(_chars.Length + 32);
            _length += written;
            return this;
        }

        public StringBuilder AppendFormat(string format, params object[] args)
        {
            Internal.Numerics.CompositeFormatter.AppendFormat(this, null, format, args);
            return this;
        }

        public StringBuilder AppendFormat(IFormatProvider provider, string format, params object[] args)
        {
            Internal.Numerics.CompositeFormatter.AppendFormat(this, provider, format, args);
            return this;
        }

        public StringBuilder AppendLine() => Append('\n');
        public StringBuilder AppendLine(string value) => Append(value).Append('\n');

        public StringBuilder Insert(int index, string value)
        {
            if ((uint)index > (uint)_length) throw new ArgumentOutOfRangeException(nameof(index));
            if (value == null || value.Length == 0) return this;
            EnsureCapacity(_length + value.Length);
            for (int i = _length - 1; i >= index; i--) _chars[i + value.Length] = _chars[i];
            for (int i = 0; i < value.Length; i++) _chars[index + i] = value[i];
            _length += value.Length;
            return this;
        }

        public StringBuilder Remove(int startIndex, int length)
        {
            if (startIndex < 0 || length < 0 || startIndex > _length - length) throw new ArgumentOutOfRangeException(nameof(startIndex));
            for (int i = startIndex; i + length < _length; i++) _chars[i] = _chars[i + length];
            _length -= length;
            return this;
        }

        public StringBuilder Clear()
        {
            _length = 0;
            return this;
        }

        public override string ToString() => new string(_chars, 0, _length);
    }
}
