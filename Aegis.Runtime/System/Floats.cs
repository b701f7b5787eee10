#pragma warning disable CS1718 // x != x is the NaN test
using System.Globalization;

// Floating-point primitives. ToString/TryFormat print like .NET 10 (shortest round-trip digits by
// default; standard formats G, R, E, F, N, P: Number.Formatting.cs); Parse/TryParse read back
// every string they print, correctly rounded (Number.Parsing.cs).
namespace System
{
    public struct Single : IEquatable<float>, IComparable<float>, IFormattable, ISpanFormattable
    {
        private readonly float m_value;
        public const float MaxValue = 3.40282346638528859e+38f;
        public const float MinValue = -3.40282346638528859e+38f;
        public const float Epsilon = 1.401298E-45f;
        public const float NaN = 0.0f / 0.0f;
        public const float PositiveInfinity = 1.0f / 0.0f;
        public const float NegativeInfinity = -1.0f / 0.0f;

        public override string ToString() => Number.FormatSingle(m_value, null);
        public string ToString(string format) => Number.FormatSingle(m_value, format);
        public string ToString(IFormatProvider provider) => Number.FormatSingle(m_value, null);
        public string ToString(string format, IFormatProvider provider) => Number.FormatSingle(m_value, format);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
            => Number.TryFormatSingle(m_value, format, destination, out charsWritten);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format = default)
            => Number.TryFormatSingle(m_value, format, destination, out charsWritten);

        public bool Equals(float other) => m_value == other || (m_value != m_value && other != other);
        public override bool Equals(object obj) => obj is float f && Equals(f);
        // Equal values hash alike: +0 and -0, and every NaN.
        public override unsafe int GetHashCode() { float v = m_value; if (v == 0) return 0; if (v != v) return int.MinValue; return *(int*)&v; }
        // .NET's order: NaN is less than everything else (and equal to itself).
        public int CompareTo(float other) => m_value < other ? -1 : m_value > other ? 1 : m_value == other ? 0 : m_value != m_value ? (other != other ? 0 : -1) : 1;

        public static float Parse(string s) => Number.ParseSingle(s, NumberStyles.Float | NumberStyles.AllowThousands);
        public static float Parse(string s, NumberStyles style) => Number.ParseSingle(s, style);
        public static float Parse(string s, IFormatProvider provider) => Number.ParseSingle(s, NumberStyles.Float | NumberStyles.AllowThousands);
        public static float Parse(string s, NumberStyles style, IFormatProvider provider) => Number.ParseSingle(s, style);
        public static float Parse(ReadOnlySpan<char> s, NumberStyles style = NumberStyles.Float | NumberStyles.AllowThousands, IFormatProvider provider = null) => Number.ParseSingle(s, style);
        public static bool TryParse(string s, out float result) => TryParse((ReadOnlySpan<char>)s, NumberStyles.Float | NumberStyles.AllowThousands, null, out result);
        public static bool TryParse(ReadOnlySpan<char> s, out float result) => TryParse(s, NumberStyles.Float | NumberStyles.AllowThousands, null, out result);
        public static bool TryParse(string s, NumberStyles style, IFormatProvider provider, out float result) => TryParse((ReadOnlySpan<char>)s, style, provider, out result);
        public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider provider, out float result)
            => Internal.Numerics.NumberParser.ParseSingle(s, (int)style, out result) == Internal.Numerics.NumberParser.Ok;

        public static bool IsNaN(float f) => f != f;
        public static bool IsInfinity(float f) => f == PositiveInfinity || f == NegativeInfinity;
        public static bool IsPositiveInfinity(float f) => f == PositiveInfinity;
        public static bool IsNegativeInfinity(float f) => f == NegativeInfinity;
        public static bool IsFinite(float f) => f - f == 0;
        public static unsafe bool IsNegative(float f) => *(int*)&f < 0;
        public static unsafe bool IsSubnormal(float f) { uint bits = *(uint*)&f & 0x7FFFFFFF; return bits != 0 && bits < 0x00800000; }
    }

    public struct Double : IEquatable<double>, IComparable<double>, IFormattable, ISpanFormattable
    {
        private readonly double m_value;
        public const double MaxValue = 1.7976931348623157E+308;
        public const double MinValue = -1.7976931348623157E+308;
        public const double Epsilon = 4.9406564584124654E-324;
        public const double NaN = 0.0 / 0.0;
        public const double PositiveInfinity = 1.0 / 0.0;
        public const double NegativeInfinity = -1.0 / 0.0;

        public override string ToString() => Number.FormatDouble(m_value, null);
        public string ToString(string format) => Number.FormatDouble(m_value, format);
        public string ToString(IFormatProvider provider) => Number.FormatDouble(m_value, null);
        public string ToString(string format, IFormatProvider provider) => Number.FormatDouble(m_value, format);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider provider)
            => Number.TryFormatDouble(m_value, format, destination, out charsWritten);
        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format = default)
            => Number.TryFormatDouble(m_value, format, destination, out charsWritten);

        public bool Equals(double other) => m_value == other || (m_value != m_value && other != other);
        public override bool Equals(object obj) => obj is double d && Equals(d);
        public override unsafe int GetHashCode() { double v = m_value; if (v == 0) return 0; if (v != v) return int.MinValue; long bits = *(long*)&v; return (int)bits ^ (int)(bits >> 32); }
        public int CompareTo(double other) => m_value < other ? -1 : m_value > other ? 1 : m_value == other ? 0 : m_value != m_value ? (other != other ? 0 : -1) : 1;

        public static double Parse(string s) => Number.ParseDouble(s, NumberStyles.Float | NumberStyles.AllowThousands);
        public static double Parse(string s, NumberStyles style) => Number.ParseDouble(s, style);
        public static double Parse(string s, IFormatProvider provider) => Number.ParseDouble(s, NumberStyles.Float | NumberStyles.AllowThousands);
        public static double Parse(string s, NumberStyles style, IFormatProvider provider) => Number.ParseDouble(s, style);
        public static double Parse(ReadOnlySpan<char> s, NumberStyles style = NumberStyles.Float | NumberStyles.AllowThousands, IFormatProvider provider = null) => Number.ParseDouble(s, style);
        public static bool TryParse(string s, out double result) => TryParse((ReadOnlySpan<char>)s, NumberStyles.Float | NumberStyles.AllowThousands, null, out result);
        public static bool TryParse(ReadOnlySpan<char> s, out double result) => TryParse(s, NumberStyles.Float | NumberStyles.AllowThousands, null, out result);
        public static bool TryParse(string s, NumberStyles style, IFormatProvider provider, out double result) => TryParse((ReadOnlySpan<char>)s, style, provider, out result);
        public static bool TryParse(ReadOnlySpan<char> s, NumberStyles style, IFormatProvider provider, out double result)
            => Internal.Numerics.NumberParser.ParseDouble(s, (int)style, out result) == Internal.Numerics.NumberParser.Ok;

        public static bool IsNaN(double d) => d != d;
        public static bool IsInfinity(double d) => d == PositiveInfinity || d == NegativeInfinity;
        public static bool IsPositiveInfinity(double d) => d == PositiveInfinity;
        public static bool IsNegativeInfinity(double d) => d == NegativeInfinity;
        public static bool IsFinite(double d) => d - d == 0;
        public static unsafe bool IsNegative(double d) => *(long*)&d < 0;
        public static unsafe bool IsSubnormal(double d) { ulong bits = *(ulong*)&d & 0x7FFFFFFFFFFFFFFF; return bits != 0 && bits < 0x0010000000000000; }
    }
}
