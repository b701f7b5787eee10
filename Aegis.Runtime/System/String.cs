// System.String: immutable UTF-16 text. Layout (fixed by ILC): int length, then the chars,
// then a terminating NUL that is not counted in Length.
using Internal.Runtime;
using System.Runtime.CompilerServices;

namespace System
{
    public sealed unsafe class String : IEquatable<string>, IComparable<string>
    {
        public static readonly string Empty = "";

        private readonly int _stringLength;
        private char _firstChar;

        public int Length => _stringLength;

        [IndexerName("Chars")]
        public char this[int index]
        {
            [Intrinsic] // the JIT expands it as an array access (the BCL's String does the same)
            get
            {
                if ((uint)index >= (uint)_stringLength)
                    ThrowHelper.ThrowIndexOutOfRangeException();
                return Unsafe.Add(ref _firstChar, index);
            }
        }

        public ref readonly char GetPinnableReference() => ref _firstChar;
        internal ref char GetRawStringData() => ref _firstChar;

        internal static string FastAllocateString(int length)
        {
            if (length == 0) return Empty;
            // The MethodTable of System.String, taken from a literal (literals live in the image).
            MethodTable* stringType = ((object)"").GetMethodTable();
            return Unsafe.As<string>(Heap.AllocateArray(stringType, length));
        }

        // Constructors: ILC turns 'new string(...)' into calls to the matching static Ctor.
        [MethodImpl(MethodImplOptions.InternalCall)] public extern String(char[] value);
        [MethodImpl(MethodImplOptions.InternalCall)] public extern String(char[] value, int startIndex, int length);
        [MethodImpl(MethodImplOptions.InternalCall)] public extern String(char c, int count);
        [MethodImpl(MethodImplOptions.InternalCall)] public extern String(ReadOnlySpan<char> value);
        [MethodImpl(MethodImplOptions.InternalCall)] public extern String(char* value, int startIndex, int length);
        [MethodImpl(MethodImplOptions.InternalCall)] public extern String(sbyte* value, int startIndex, int length);

        private static string Ctor(char[] value) => value == null ? Empty : Ctor(new ReadOnlySpan<char>(value));

        private static string Ctor(char[] value, int startIndex, int length)
        {
            if (value == null) throw new ArgumentNullException(nameof(value));
            return Ctor(new ReadOnlySpan<char>(value, startIndex, length));
        }

        private static string Ctor(char c, int count)
        {
            if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
            string result = FastAllocateString(count);
            for (int i = 0; i < count; i++)
                Unsafe.Add(ref result._firstChar, i) = c;
            return result;
        }

        private static string Ctor(ReadOnlySpan<char> value)
        {
            string result = FastAllocateString(value.Length);
            value.CopyTo(new Span<char>(ref result._firstChar, value.Length));
            return result;
        }

        private static string Ctor(char* value, int startIndex, int length)
            => Ctor(new ReadOnlySpan<char>(value + startIndex, length));

        private static string Ctor(sbyte* value, int startIndex, int length)
        {
            string result = FastAllocateString(length);
            for (int i = 0; i < length; i++)
                Unsafe.Add(ref result._firstChar, i) = (char)(byte)value[startIndex + i];
            return result;
        }

        public static implicit operator ReadOnlySpan<char>(string value)
            => value == null ? default : new ReadOnlySpan<char>(ref value._firstChar, value._stringLength);

        public static bool IsNullOrEmpty(string value) => value == null || value._stringLength == 0;

        public static bool IsNullOrWhiteSpace(string value)
        {
            if (value == null) return true;
            for (int i = 0; i < value.Length; i++)
                if (!char.IsWhiteSpace(value[i])) return false;
            return true;
        }

        public static string Concat(string str0, string str1)
        {
            if (IsNullOrEmpty(str0)) return str1 ?? Empty;
            if (IsNullOrEmpty(str1)) return str0;
            string result = FastAllocateString(str0.Length + str1.Length);
            CopyInto(result, 0, str0);
            CopyInto(result, str0.Length, str1);
            return result;
        }

        public static string Concat(string str0, string str1, string str2) => Concat(Concat(str0, str1), str2);
        public static string Concat(string str0, string str1, string str2, string str3) => Concat(Concat(str0, str1), Concat(str2, str3));

        public static string Concat(params string[] values)
        {
            int total = 0;
            for (int i = 0; i < values.Length; i++)
                total += values[i]?.Length ?? 0;
            string result = FastAllocateString(total);
            int position = 0;
            for (int i = 0; i < values.Length; i++)
            {
                if (values[i] == null) continue;
                CopyInto(result, position, values[i]);
                position += values[i].Length;
            }
            return result;
        }

        public static string Concat(object arg0) => arg0?.ToString() ?? Empty;
        public static string Concat(object arg0, object arg1) => Concat(arg0?.ToString(), arg1?.ToString());
        public static string Concat(object arg0, object arg1, object arg2) => Concat(arg0?.ToString(), arg1?.ToString(), arg2?.ToString());
        public static string Concat(ReadOnlySpan<char> str0, ReadOnlySpan<char> str1)
        {
            string result = FastAllocateString(str0.Length + str1.Length);
            Span<char> destination = new Span<char>(ref result._firstChar, result.Length);
            str0.CopyTo(destination);
            str1.CopyTo(destination.Slice(str0.Length));
            return result;
        }

        // Composite formatting: "{index[,alignment][:format]}" (String.Format.cs).
        public static string Format(string format, object arg0) => Internal.Numerics.CompositeFormatter.Format(null, format, new[] { arg0 });
        public static string Format(string format, object arg0, object arg1) => Internal.Numerics.CompositeFormatter.Format(null, format, new[] { arg0, arg1 });
        public static string Format(string format, object arg0, object arg1, object arg2) => Internal.Numerics.CompositeFormatter.Format(null, format, new[] { arg0, arg1, arg2 });
        public static string Format(string format, params object[] args) => Internal.Numerics.CompositeFormatter.Format(null, format, args);
        public static string Format(IFormatProvider provider, string format, params object[] args) => Internal.Numerics.CompositeFormatter.Format(provider, format, args);

        public static string Join(string separator, params string[] values)
        {
            if (values.Length == 0) return Empty;
            string result = values[0] ?? Empty;
            for (int i = 1; i < values.Length; i++)
                result = Concat(result, separator, values[i]);
            return result;
        }

        private static void CopyInto(string destination, int position, string source)
            => Buffer.Memmove(ref Unsafe.As<char, byte>(ref Unsafe.Add(ref destination._firstChar, position)),
                ref Unsafe.As<char, byte>(ref source._firstChar), (nuint)source.Length * 2);

        public static bool Equals(string a, string b)
        {
            if ((object)a == b) return true;
            if (a is null || b is null || a._stringLength != b._stringLength) return false;
            return ((ReadOnlySpan<char>)a).SequenceEqual(b);
        }

        public static bool operator ==(string a, string b) => Equals(a, b);
        public static bool operator !=(string a, string b) => !Equals(a, b);
        public bool Equals(string value) => Equals(this, value);
        public override bool Equals(object obj) => obj is string s && Equals(this, s);

        public override int GetHashCode()
        {
            // FNV-1a over the UTF-16 code units: deterministic across boots (no randomisation).
            uint hash = 2166136261;
            for (int i = 0; i < _stringLength; i++)
            {
                hash = (hash ^ Unsafe.Add(ref _firstChar, i)) * 16777619;
            }
            return (int)hash;
        }

        public override string ToString() => this;

        public static int CompareOrdinal(string a, string b)
        {
            if ((object)a == b) return 0;
            if (a is null) return -1;
            if (b is null) return 1;
            int length = a.Length < b.Length ? a.Length : b.Length;
            for (int i = 0; i < length; i++)
            {
                int difference = a[i] - b[i];
                if (difference != 0) return difference;
            }
            return a.Length - b.Length;
        }

        public int CompareTo(string other) => CompareOrdinal(this, other);

        public string Substring(int startIndex) => Substring(startIndex, _stringLength - startIndex);

        public string Substring(int startIndex, int length)
        {
            if (startIndex < 0 || length < 0 || startIndex > _stringLength - length)
                throw new ArgumentOutOfRangeException(nameof(startIndex));
            if (length == _stringLength) return this;
            return new string(((ReadOnlySpan<char>)this).Slice(startIndex, length));
        }

        public int IndexOf(char value) => ((ReadOnlySpan<char>)this).IndexOf(value);

        public int IndexOf(char value, int startIndex)
        {
            if ((uint)startIndex > (uint)_stringLength) throw new ArgumentOutOfRangeException(nameof(startIndex));
            int found = ((ReadOnlySpan<char>)this).Slice(startIndex).IndexOf(value);
            return found < 0 ? -1 : found + startIndex;
        }

        public int IndexOf(string value) => ((ReadOnlySpan<char>)this).IndexOf((ReadOnlySpan<char>)value);

        public int LastIndexOf(char value)
        {
            for (int i = _stringLength - 1; i >= 0; i--)
                if (Unsafe.Add(ref _firstChar, i) == value) return i;
            return -1;
        }

        public bool Contains(string value) => IndexOf(value) >= 0;
        public bool Contains(char value) => IndexOf(value) >= 0;
        public bool StartsWith(string value) => value.Length <= _stringLength && ((ReadOnlySpan<char>)this).Slice(0, value.Length).SequenceEqual(value);
        public bool EndsWith(string value) => value.Length <= _stringLength && ((ReadOnlySpan<char>)this).Slice(_stringLength - value.Length).SequenceEqual(value);
        public bool StartsWith(char value) => _stringLength > 0 && _firstChar == value;
        public bool EndsWith(char value) => _stringLength > 0 && this[_stringLength - 1] == value;

        public string Trim()
        {
            int start = 0, end = _stringLength;
            while (start < end && char.IsWhiteSpace(this[start])) start++;
            while (end > start && char.IsWhiteSpace(this[end - 1])) end--;
            return Substring(start, end - start);
        }

        public string PadLeft(int totalWidth, char paddingChar = ' ')
            => totalWidth <= _stringLength ? this : Concat(new string(paddingChar, totalWidth - _stringLength), this);

        public string PadRight(int totalWidth, char paddingChar = ' ')
            => totalWidth <= _stringLength ? this : Concat(this, new string(paddingChar, totalWidth - _stringLength));

        public string ToUpperInvariant()
        {
            string result = FastAllocateString(_stringLength);
            for (int i = 0; i < _stringLength; i++)
                Unsafe.Add(ref result._firstChar, i) = char.ToUpperInvariant(this[i]);
            return result;
        }

        public string ToLowerInvariant()
        {
            string result = FastAllocateString(_stringLength);
            for (int i = 0; i < _stringLength; i++)
                Unsafe.Add(ref result._firstChar, i) = char.ToLowerInvariant(this[i]);
            return result;
        }

        public string Replace(char oldChar, char newChar)
        {
            string result = FastAllocateString(_stringLength);
            for (int i = 0; i < _stringLength; i++)
            {
                char c = this[i];
                Unsafe.Add(ref result._firstChar, i) = c == oldChar ? newChar : c;
            }
            return result;
        }

        public char[] ToCharArray()
        {
            char[] result = new char[_stringLength];
            ((ReadOnlySpan<char>)this).CopyTo(result);
            return result;
        }

        public void CopyTo(Span<char> destination) => ((ReadOnlySpan<char>)this).CopyTo(destination);

        public string[] Split(char separator)
        {
            int count = 1;
            for (int i = 0; i < _stringLength; i++)
                if (this[i] == separator) count++;
            string[] parts = new string[count];
            int part = 0, start = 0;
            for (int i = 0; i <= _stringLength; i++)
            {
                if (i == _stringLength || this[i] == separator)
                {
                    parts[part++] = Substring(start, i - start);
                    start = i + 1;
                }
            }
            return parts;
        }
    }
}
