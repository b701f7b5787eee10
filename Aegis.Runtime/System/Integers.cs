// Integer primitive types (generated shape, one per type; keep them identical).
// ToString/TryFormat: the standard formats of Number.Formatting.cs (D, X, N, E, F, P, G, B, R).
// Hex of a negative number uses its two's-complement bits. Parse/TryParse: Number.Parsing.cs.
using System.Globalization;
using System.Runtime.CompilerServices;

namespace System
{
    public struct SByte : IEquatable<sbyte>, IComparable<sbyte>, IFormattable, ISpanFormattable
    {
        private readonly sbyte m_value;
        public const sbyte MaxValue = unchecked((sbyte)0x7F);
        public const sbyte MinValue = unchecked((sbyte)-0x80);
        public override string ToString() => Number.FormatSigned((long)m_value, (ulong)m_value & 0xFF, null);
        public string ToString(string format) => Number.FormatSigned((long)m_value, (ulong)m_value & 0xFF, format);
        public string ToString(string format, IFormatProvider provider) => ToString(format);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
            => Number.TryFormatSigned((long)m_value, (ulong)m_value & 0xFF, format, destination, out charsWritten);
        public bool Equals(sbyte other) => m_value == other;
        public override bool Equals(object obj) => obj is sbyte other && other == m_value;
        public override int GetHashCode() => (int)m_value;
        public int CompareTo(sbyte other) => m_value < other ? -1 : m_value > other ? 1 : 0;
        public static sbyte Parse(string s) => Parse(s, NumberStyles.Integer, null);
        public static sbyte Parse(string s, NumberStyles style) => Parse(s, style, null);
        public static sbyte Parse(string s, IFormatProvider provider) => Parse(s, NumberStyles.Integer, provider);
        public static sbyte Parse(string s, NumberStyles style, IFormatProvider provider) => (sbyte)Number.ParseSigned(s, style, MinValue, MaxValue, 8, "SByte");
        public static sbyte Parse(ReadOnlySpan<char> s, NumberStyles style = NumberStyles.Integer, IFormatProvider provider = null) => (sbyte)Number.ParseSigned(s, style, MinValue, MaxValue, 8, "SByte");
        public static bool TryParse(string s, out sbyte result) => TryParse((ReadOnlySpan<char>)s, NumberStyles.Integer, null, out result);
        public static bool TryParse(ReadOnlySpan<char> s, out sbyte result) => TryParse(s, NumberStyles.Integer, null, out result);
        public static bool TryParse(string s, NumberStyles style, IFormatProvider provider, out sbyte result) => TryParse((ReadOnlySpan<char>)s, style, provider, out result);
        public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider provider, out sbyte result)
        {
            bool ok = Number.TryParseSigned(s, style, MinValue, MaxValue, 8, out long v, out _);
            result = (sbyte)v;
            return ok;
        }
    }

    public struct Byte : IEquatable<byte>, IComparable<byte>, IFormattable, ISpanFormattable
    {
        private readonly byte m_value;
        public const byte MaxValue = unchecked((byte)0xFF);
        public const byte MinValue = unchecked((byte)0);
        public override string ToString() => Number.FormatUnsigned((ulong)m_value, (ulong)m_value, null);
        public string ToString(string format) => Number.FormatUnsigned((ulong)m_value, (ulong)m_value, format);
        public string ToString(string format, IFormatProvider provider) => ToString(format);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
            => Number.TryFormatUnsigned((ulong)m_value, (ulong)m_value, format, destination, out charsWritten);
        public bool Equals(byte other) => m_value == other;
        public override bool Equals(object obj) => obj is byte other && other == m_value;
        public override int GetHashCode() => (int)m_value;
        public int CompareTo(byte other) => m_value < other ? -1 : m_value > other ? 1 : 0;
        public static byte Parse(string s) => Parse(s, NumberStyles.Integer, null);
        public static byte Parse(string s, NumberStyles style) => Parse(s, style, null);
        public static byte Parse(string s, IFormatProvider provider) => Parse(s, NumberStyles.Integer, provider);
        public static byte Parse(string s, NumberStyles style, IFormatProvider provider) => (byte)Number.ParseUnsigned(s, style, MaxValue, 8, "Byte");
        public static byte Parse(ReadOnlySpan<char> s, NumberStyles style = NumberStyles.Integer, IFormatProvider provider = null) => (byte)Number.ParseUnsigned(s, style, MaxValue, 8, "Byte");
        public static bool TryParse(string s, out byte result) => TryParse((ReadOnlySpan<char>)s, NumberStyles.Integer, null, out result);
        public static bool TryParse(ReadOnlySpan<char> s, out byte result) => TryParse(s, NumberStyles.Integer, null, out result);
        public static bool TryParse(string s, NumberStyles style, IFormatProvider provider, out byte result) => TryParse((ReadOnlySpan<char>)s, style, provider, out result);
        public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider provider, out byte result)
        {
            bool ok = Number.TryParseUnsigned(s, style, MaxValue, 8, out ulong v, out _);
            result = (byte)v;
            return ok;
        }
    }

    public struct Int16 : IEquatable<short>, IComparable<short>, IFormattable, ISpanFormattable
    {
        private readonly short m_value;
        public const short MaxValue = unchecked((short)0x7FFF);
        public const short MinValue = unchecked((short)-0x8000);
        public override string ToString() => Number.FormatSigned((long)m_value, (ulong)m_value & 0xFFFF, null);
        public string ToString(string format) => Number.FormatSigned((long)m_value, (ulong)m_value & 0xFFFF, format);
        public string ToString(string format, IFormatProvider provider) => ToString(format);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
            => Number.TryFormatSigned((long)m_value, (ulong)m_value & 0xFFFF, format, destination, out charsWritten);
        public bool Equals(short other) => m_value == other;
        public override bool Equals(object obj) => obj is short other && other == m_value;
        public override int GetHashCode() => (int)m_value;
        public int CompareTo(short other) => m_value < other ? -1 : m_value > other ? 1 : 0;
        public static short Parse(string s) => Parse(s, NumberStyles.Integer, null);
        public static short Parse(string s, NumberStyles style) => Parse(s, style, null);
        public static short Parse(string s, IFormatProvider provider) => Parse(s, NumberStyles.Integer, provider);
        public static short Parse(string s, NumberStyles style, IFormatProvider provider) => (short)Number.ParseSigned(s, style, MinValue, MaxValue, 16, "Int16");
        public static short Parse(ReadOnlySpan<char> s, NumberStyles style = NumberStyles.Integer, IFormatProvider provider = null) => (short)Number.ParseSigned(s, style, MinValue, MaxValue, 16, "Int16");
        public static bool TryParse(string s, out short result) => TryParse((ReadOnlySpan<char>)s, NumberStyles.Integer, null, out result);
        public static bool TryParse(ReadOnlySpan<char> s, out short result) => TryParse(s, NumberStyles.Integer, null, out result);
        public static bool TryParse(string s, NumberStyles style, IFormatProvider provider, out short result) => TryParse((ReadOnlySpan<char>)s, style, provider, out result);
        public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider provider, out short result)
        {
            bool ok = Number.TryParseSigned(s, style, MinValue, MaxValue, 16, out long v, out _);
            result = (short)v;
            return ok;
        }
    }

    public struct UInt16 : IEquatable<ushort>, IComparable<ushort>, IFormattable, ISpanFormattable
    {
        private readonly ushort m_value;
        public const ushort MaxValue = unchecked((ushort)0xFFFF);
        public const ushort MinValue = unchecked((ushort)0);
        public override string ToString() => Number.FormatUnsigned((ulong)m_value, (ulong)m_value, null);
        public string ToString(string format) => Number.FormatUnsigned((ulong)m_value, (ulong)m_value, format);
        public string ToString(string format, IFormatProvider provider) => ToString(format);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
            => Number.TryFormatUnsigned((ulong)m_value, (ulong)m_value, format, destination, out charsWritten);
        public bool Equals(ushort other) => m_value == other;
        public override bool Equals(object obj) => obj is ushort other && other == m_value;
        public override int GetHashCode() => (int)m_value;
        public int CompareTo(ushort other) => m_value < other ? -1 : m_value > other ? 1 : 0;
        public static ushort Parse(string s) => Parse(s, NumberStyles.Integer, null);
        public static ushort Parse(string s, NumberStyles style) => Parse(s, style, null);
        public static ushort Parse(string s, IFormatProvider provider) => Parse(s, NumberStyles.Integer, provider);
        public static ushort Parse(string s, NumberStyles style, IFormatProvider provider) => (ushort)Number.ParseUnsigned(s, style, MaxValue, 16, "UInt16");
        public static ushort Parse(ReadOnlySpan<char> s, NumberStyles style = NumberStyles.Integer, IFormatProvider provider = null) => (ushort)Number.ParseUnsigned(s, style, MaxValue, 16, "UInt16");
        public static bool TryParse(string s, out ushort result) => TryParse((ReadOnlySpan<char>)s, NumberStyles.Integer, null, out result);
        public static bool TryParse(ReadOnlySpan<char> s, out ushort result) => TryParse(s, NumberStyles.Integer, null, out result);
        public static bool TryParse(string s, NumberStyles style, IFormatProvider provider, out ushort result) => TryParse((ReadOnlySpan<char>)s, style, provider, out result);
        public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider provider, out ushort result)
        {
            bool ok = Number.TryParseUnsigned(s, style, MaxValue, 16, out ulong v, out _);
            result = (ushort)v;
            return ok;
        }
    }

    public struct Int32 : IEquatable<int>, IComparable<int>, IFormattable, ISpanFormattable
    {
        private readonly int m_value;
        public const int MaxValue = unchecked((int)0x7FFFFFFF);
        public const int MinValue = unchecked((int)-0x80000000);
        public override string ToString() => Number.FormatSigned((long)m_value, (ulong)m_value & 0xFFFFFFFF, null);
        public string ToString(string format) => Number.FormatSigned((long)m_value, (ulong)m_value & 0xFFFFFFFF, format);
        public string ToString(string format, IFormatProvider provider) => ToString(format);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
            => Number.TryFormatSigned((long)m_value, (ulong)m_value & 0xFFFFFFFF, format, destination, out charsWritten);
        public bool Equals(int other) => m_value == other;
        public override bool Equals(object obj) => obj is int other && other == m_value;
        public override int GetHashCode() => (int)m_value;
        public int CompareTo(int other) => m_value < other ? -1 : m_value > other ? 1 : 0;
        public static int Parse(string s) => Parse(s, NumberStyles.Integer, null);
        public static int Parse(string s, NumberStyles style) => Parse(s, style, null);
        public static int Parse(string s, IFormatProvider provider) => Parse(s, NumberStyles.Integer, provider);
        public static int Parse(string s, NumberStyles style, IFormatProvider provider) => (int)Number.ParseSigned(s, style, MinValue, MaxValue, 32, "Int32");
        public static int Parse(ReadOnlySpan<char> s, NumberStyles style = NumberStyles.Integer, IFormatProvider provider = null) => (int)Number.ParseSigned(s, style, MinValue, MaxValue, 32, "Int32");
        public static bool TryParse(string s, out int result) => TryParse((ReadOnlySpan<char>)s, NumberStyles.Integer, null, out result);
        public static bool TryParse(ReadOnlySpan<char> s, out int result) => TryParse(s, NumberStyles.Integer, null, out result);
        public static bool TryParse(string s, NumberStyles style, IFormatProvider provider, out int result) => TryParse((ReadOnlySpan<char>)s, style, provider, out result);
        public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider provider, out int result)
        {
            bool ok = Number.TryParseSigned(s, style, MinValue, MaxValue, 32, out long v, out _);
            result = (int)v;
            return ok;
        }
    }

    public struct UInt32 : IEquatable<uint>, IComparable<uint>, IFormattable, ISpanFormattable
    {
        private readonly uint m_value;
        public const uint MaxValue = unchecked((uint)0xFFFFFFFF);
        public const uint MinValue = unchecked((uint)0);
        public override string ToString() => Number.FormatUnsigned((ulong)m_value, (ulong)m_value, null);
        public string ToString(string format) => Number.FormatUnsigned((ulong)m_value, (ulong)m_value, format);
        public string ToString(string format, IFormatProvider provider) => ToString(format);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
            => Number.TryFormatUnsigned((ulong)m_value, (ulong)m_value, format, destination, out charsWritten);
        public bool Equals(uint other) => m_value == other;
        public override bool Equals(object obj) => obj is uint other && other == m_value;
        public override int GetHashCode() => (int)m_value;
        public int CompareTo(uint other) => m_value < other ? -1 : m_value > other ? 1 : 0;
        public static uint Parse(string s) => Parse(s, NumberStyles.Integer, null);
        public static uint Parse(string s, NumberStyles style) => Parse(s, style, null);
        public static uint Parse(string s, IFormatProvider provider) => Parse(s, NumberStyles.Integer, provider);
        public static uint Parse(string s, NumberStyles style, IFormatProvider provider) => (uint)Number.ParseUnsigned(s, style, MaxValue, 32, "UInt32");
        public static uint Parse(ReadOnlySpan<char> s, NumberStyles style = NumberStyles.Integer, IFormatProvider provider = null) => (uint)Number.ParseUnsigned(s, style, MaxValue, 32, "UInt32");
        public static bool TryParse(string s, out uint result) => TryParse((ReadOnlySpan<char>)s, NumberStyles.Integer, null, out result);
        public static bool TryParse(ReadOnlySpan<char> s, out uint result) => TryParse(s, NumberStyles.Integer, null, out result);
        public static bool TryParse(string s, NumberStyles style, IFormatProvider provider, out uint result) => TryParse((ReadOnlySpan<char>)s, style, provider, out result);
        public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider provider, out uint result)
        {
            bool ok = Number.TryParseUnsigned(s, style, MaxValue, 32, out ulong v, out _);
            result = (uint)v;
            return ok;
        }
    }

    public struct Int64 : IEquatable<long>, IComparable<long>, IFormattable, ISpanFormattable
    {
        private readonly long m_value;
        public const long MaxValue = unchecked((long)0x7FFFFFFFFFFFFFFF);
        public const long MinValue = unchecked((long)-0x8000000000000000);
        public override string ToString() => Number.FormatSigned((long)m_value, (ulong)m_value, null);
        public string ToString(string format) => Number.FormatSigned((long)m_value, (ulong)m_value, format);
        public string ToString(string format, IFormatProvider provider) => ToString(format);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
            => Number.TryFormatSigned((long)m_value, (ulong)m_value, format, destination, out charsWritten);
        public bool Equals(long other) => m_value == other;
        public override bool Equals(object obj) => obj is long other && other == m_value;
        public override int GetHashCode() => (int)m_value ^ (int)(m_value >> 32);
        public int CompareTo(long other) => m_value < other ? -1 : m_value > other ? 1 : 0;
        public static long Parse(string s) => Parse(s, NumberStyles.Integer, null);
        public static long Parse(string s, NumberStyles style) => Parse(s, style, null);
        public static long Parse(string s, IFormatProvider provider) => Parse(s, NumberStyles.Integer, provider);
        public static long Parse(string s, NumberStyles style, IFormatProvider provider) => (long)Number.ParseSigned(s, style, MinValue, MaxValue, 64, "Int64");
        public static long Parse(ReadOnlySpan<char> s, NumberStyles style = NumberStyles.Integer, IFormatProvider provider = null) => (long)Number.ParseSigned(s, style, MinValue, MaxValue, 64, "Int64");
        public static bool TryParse(string s, out long result) => TryParse((ReadOnlySpan<char>)s, NumberStyles.Integer, null, out result);
        public static bool TryParse(ReadOnlySpan<char> s, out long result) => TryParse(s, NumberStyles.Integer, null, out result);
        public static bool TryParse(string s, NumberStyles style, IFormatProvider provider, out long result) => TryParse((ReadOnlySpan<char>)s, style, provider, out result);
        public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider provider, out long result)
        {
            bool ok = Number.TryParseSigned(s, style, MinValue, MaxValue, 64, out long v, out _);
            result = (long)v;
            return ok;
        }
    }

    public struct UInt64 : IEquatable<ulong>, IComparable<ulong>, IFormattable, ISpanFormattable
    {
        private readonly ulong m_value;
        public const ulong MaxValue = unchecked((ulong)0xFFFFFFFFFFFFFFFF);
        public const ulong MinValue = unchecked((ulong)0);
        public override string ToString() => Number.FormatUnsigned((ulong)m_value, (ulong)m_value, null);
        public string ToString(string format) => Number.FormatUnsigned((ulong)m_value, (ulong)m_value, format);
        public string ToString(string format, IFormatProvider provider) => ToString(format);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
            => Number.TryFormatUnsigned((ulong)m_value, (ulong)m_value, format, destination, out charsWritten);
        public bool Equals(ulong other) => m_value == other;
        public override bool Equals(object obj) => obj is ulong other && other == m_value;
        public override int GetHashCode() => (int)m_value ^ (int)(m_value >> 32);
        public int CompareTo(ulong other) => m_value < other ? -1 : m_value > other ? 1 : 0;
        public static ulong Parse(string s) => Parse(s, NumberStyles.Integer, null);
        public static ulong Parse(string s, NumberStyles style) => Parse(s, style, null);
        public static ulong Parse(string s, IFormatProvider provider) => Parse(s, NumberStyles.Integer, provider);
        public static ulong Parse(string s, NumberStyles style, IFormatProvider provider) => (ulong)Number.ParseUnsigned(s, style, MaxValue, 64, "UInt64");
        public static ulong Parse(ReadOnlySpan<char> s, NumberStyles style = NumberStyles.Integer, IFormatProvider provider = null) => (ulong)Number.ParseUnsigned(s, style, MaxValue, 64, "UInt64");
        public static bool TryParse(string s, out ulong result) => TryParse((ReadOnlySpan<char>)s, NumberStyles.Integer, null, out result);
        public static bool TryParse(ReadOnlySpan<char> s, out ulong result) => TryParse(s, NumberStyles.Integer, null, out result);
        public static bool TryParse(string s, NumberStyles style, IFormatProvider provider, out ulong result) => TryParse((ReadOnlySpan<char>)s, style, provider, out result);
        public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider provider, out ulong result)
        {
            bool ok = Number.TryParseUnsigned(s, style, MaxValue, 64, out ulong v, out _);
            result = (ulong)v;
            return ok;
        }
    }

    public struct IntPtr : IEquatable<nint>, IComparable<nint>, IFormattable, ISpanFormattable
    {
        private readonly unsafe void* _value;
        private unsafe nint m_value => (nint)_value;
        public static readonly IntPtr Zero;
        public static unsafe int Size => sizeof(nint);
        public static IntPtr MaxValue => unchecked((nint)long.MaxValue);
        public static IntPtr MinValue => unchecked((nint)long.MinValue);
        public unsafe IntPtr(int value) { _value = (void*)value; }
        public unsafe IntPtr(long value) { _value = (void*)value; }
        public unsafe IntPtr(void* value) { _value = value; }
        public unsafe void* ToPointer() => _value;
        public int ToInt32() => checked((int)m_value);
        public long ToInt64() => (long)m_value;
        public static unsafe explicit operator IntPtr(void* value) => new IntPtr(value);
        public static unsafe explicit operator void*(IntPtr value) => value._value;
        public static explicit operator IntPtr(int value) => new IntPtr(value);
        public static explicit operator IntPtr(long value) => new IntPtr(value);
        public static explicit operator long(IntPtr value) => (long)value.m_value;
        public static explicit operator int(IntPtr value) => (int)value.m_value;
        public static bool operator ==(IntPtr a, IntPtr b) => a.m_value == b.m_value;
        public static bool operator !=(IntPtr a, IntPtr b) => a.m_value != b.m_value;
        public override string ToString() => Number.FormatSigned((long)m_value, (ulong)m_value, null);
        public string ToString(string format) => Number.FormatSigned((long)m_value, (ulong)m_value, format);
        public string ToString(string format, IFormatProvider provider) => ToString(format);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
            => Number.TryFormatSigned((long)m_value, (ulong)m_value, format, destination, out charsWritten);
        public bool Equals(nint other) => m_value == other;
        public override bool Equals(object obj) => obj is nint other && other == m_value;
        public override int GetHashCode() => (int)m_value ^ (int)(m_value >> 32);
        public int CompareTo(nint other) => m_value < other ? -1 : m_value > other ? 1 : 0;
    }

    public struct UIntPtr : IEquatable<nuint>, IComparable<nuint>, IFormattable, ISpanFormattable
    {
        private readonly unsafe void* _value;
        private unsafe nuint m_value => (nuint)_value;
        public static readonly UIntPtr Zero;
        public static unsafe int Size => sizeof(nuint);
        public static UIntPtr MaxValue => unchecked((nuint)ulong.MaxValue);
        public static UIntPtr MinValue => (UIntPtr)0UL;
        public unsafe UIntPtr(uint value) { _value = (void*)value; }
        public unsafe UIntPtr(ulong value) { _value = (void*)value; }
        public unsafe UIntPtr(void* value) { _value = value; }
        public unsafe void* ToPointer() => _value;
        public uint ToUInt32() => checked((uint)m_value);
        public ulong ToUInt64() => (ulong)m_value;
        public static unsafe explicit operator UIntPtr(void* value) => new UIntPtr(value);
        public static unsafe explicit operator void*(UIntPtr value) => value._value;
        public static explicit operator UIntPtr(uint value) => new UIntPtr(value);
        public static explicit operator UIntPtr(ulong value) => new UIntPtr(value);
        public static explicit operator ulong(UIntPtr value) => (ulong)value.m_value;
        public static explicit operator uint(UIntPtr value) => checked((uint)value.m_value);
        public static bool operator ==(UIntPtr a, UIntPtr b) => a.m_value == b.m_value;
        public static bool operator !=(UIntPtr a, UIntPtr b) => a.m_value != b.m_value;
        public override string ToString() => Number.FormatUnsigned((ulong)m_value, (ulong)m_value, null);
        public string ToString(string format) => Number.FormatUnsigned((ulong)m_value, (ulong)m_value, format);
        public string ToString(string format, IFormatProvider provider) => ToString(format);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
            => Number.TryFormatUnsigned((ulong)m_value, (ulong)m_value, format, destination, out charsWritten);
        public bool Equals(nuint other) => m_value == other;
        public override bool Equals(object obj) => obj is nuint other && other == m_value;
        public override int GetHashCode() => (int)m_value ^ (int)(m_value >> 32);
        public int CompareTo(nuint other) => m_value < other ? -1 : m_value > other ? 1 : 0;
    }

}
