// The builder the C# compiler uses for $"..." strings. Values are formatted through
// ISpanFormattable when the type has it (every integer type does), else ToString().
namespace System.Runtime.CompilerServices
{
    [InterpolatedStringHandler]
    public ref struct DefaultInterpolatedStringHandler
    {
        private char[] _buffer;
        private int _position;

        public DefaultInterpolatedStringHandler(int literalLength, int formattedCount)
        {
            _buffer = new char[literalLength + formattedCount * 11 + 8];
            _position = 0;
        }

        public DefaultInterpolatedStringHandler(int literalLength, int formattedCount, IFormatProvider provider)
            : this(literalLength, formattedCount) { }

        public void AppendLiteral(string value) => AppendSpan(value);

        public void AppendFormatted(string value) => AppendSpan(value);

        public void AppendFormatted(ReadOnlySpan<char> value) => AppendSpan(value);

        public void AppendFormatted(object value, int alignment = 0, string format = null) => AppendFormatted<object>(value, alignment, format);

        public void AppendFormatted<T>(T value) => AppendFormatted(value, 0, null);

        public void AppendFormatted<T>(T value, string format) => AppendFormatted(value, 0, format);

        public void AppendFormatted<T>(T value, int alignment) => AppendFormatted(value, alignment, null);

        public void AppendFormatted<T>(T value, int alignment, string format)
        {
            int start = _position;
            if (value is ISpanFormattable)
            {
                int written;
                while (!((ISpanFormattable)value).TryFormat(new Span<char>(_buffer).Slice(_position), out written, format, null))
                    Grow(32);
                _position += written;
            }
            else if (value is IFormattable)
            {
                AppendSpan(((IFormattable)value).ToString(format, null));
            }
            else if (value != null)
            {
                AppendSpan(value.ToString());
            }
            if (alignment != 0)
                Align(start, alignment);
        }

        private void Align(int start, int alignment)
        {
            int width = _position - start;
            int target = alignment < 0 ? -alignment : alignment;
            if (width >= target) return;
            int padding = target - width;
            EnsureCapacity(padding);
            if (alignment > 0)
            {
                // Right-align: shift the value right and pad in front.
                for (int i = _position - 1; i >= start; i--) _buffer[i + padding] = _buffer[i];
                for (int i = 0; i < padding; i++) _buffer[start + i] = ' ';
            }
            else
            {
                for (int i = 0; i < padding; i++) _buffer[_position + i] = ' ';
            }
            _position += padding;
        }

        private void AppendSpan(ReadOnlySpan<char> value)
        {
            EnsureCapacity(value.Length);
            value.CopyTo(new Span<char>(_buffer).Slice(_position));
            _position += value.Length;
        }

        private void EnsureCapacity(int additional)
        {
            if (_position + additional > _buffer.Length)
                Grow(additional);
        }

        private void Grow(int additional)
        {
            int size = _buffer.Length * 2;
            if (size < _position + additional) size = _position + additional;
            char[] larger = new char[size];
            new Span<char>(_buffer).Slice(0, _position).CopyTo(larger);
            _buffer = larger;
        }

        public override string ToString() => new string(_buffer, 0, _position);

        public string ToStringAndClear()
        {
            string result = ToString();
            _buffer = null;
            _position = 0;
            return result;
        }
    }
}
