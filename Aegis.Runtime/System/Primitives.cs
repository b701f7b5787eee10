// The primitive value types. Each wraps a field of its own type (ILC and the C# compiler
// treat them specially). Formatting lives in Number.cs.
using System.Runtime.CompilerServices;

namespace System
{
    public struct Void { }

    public struct Boolean : IEquatable<bool>, IComparable<bool>
    {
        private readonly bool m_value;
        public static readonly string TrueString = "True";
        public static readonly string FalseString = "False";
        public override string ToString() => m_value ? "True" : "False";
        public bool Equals(bool other) => m_value == other;
        public override bool Equals(object obj) => obj is bool b && b == m_value;
        public override int GetHashCode() => m_value ? 1 : 0;
        public int CompareTo(bool other) => m_value == other ? 0 : m_value ? 1 : -1;
    }

    public struct Char : IEquatable<char>, IComparable<char>, IFormattable, ISpanFormattable
    {
        private readonly char m_value;
        public const char MaxValue = (char)0xFFFF;
        public const char MinValue = (char)0;
        public override string ToString() => new string(m_value, 1);
        public string ToString(string format, IFormatProvider provider) => ToString();
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
        {
            if (destination.Length < 1) { charsWritten = 0; return false; }
            destination[0] = m_value; charsWritten = 1; return true;
        }
        public bool Equals(char other) => m_value == other;
        public override bool Equals(object obj) => obj is char c && c == m_value;
        public override int GetHashCode() => m_value | (m_value << 16);
        public int CompareTo(char other) => m_value - other;
        public static bool IsDigit(char c) => c >= '0' && c <= '9';
        public static bool IsLetter(char c) => (uint)((c | 0x20) - 'a') <= 'z' - 'a';
        public static bool IsWhiteSpace(char c) => c == ' ' || (c >= '\t' && c <= '\r') || c == '\u00a0';
        public static bool IsUpper(char c) => c >= 'A' && c <= 'Z';
        public static bool IsLower(char c) => c >= 'a' && c <= 'z';
        public static char ToUpperInvariant(char c) => IsLower(c) ? (char)(c - 32) : c;
        public static char ToLowerInvariant(char c) => IsUpper(c) ? (char)(c + 32) : c;
    }
}
