// Integer and floating-point formatting for ToString, TryFormat and string interpolation. The
// work is done by Internal.Numerics.NumberFormatter (Number.Formatting.cs: which formats exist and
// how unsupported ones fail) and FloatDigits (Number.Digits.cs: exact shortest round-trip digits).
// Parsing: NumberParser (Number.Parsing.cs). Parse throws ArgumentNullException (null),
// FormatException (not a number) or OverflowException (out of the type's range), like .NET;
// TryParse returns false for all three.
using System.Globalization;
using System.Runtime.CompilerServices;
using Internal.Numerics;

namespace System
{
    internal static class Number
    {
        // The entry points are never inlined: a caller (often a rarely taken error branch in the
        // kernel, e.g. "vector " + vector.ToString()) then passes only primitives; inlined, the
        // formatter's struct temporaries would be zeroed in the caller's prologue on every call.
        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static string FormatSigned(long value, ulong bits, string format)
            => NumberFormatter.FormatInteger(NumericValue.FromSigned(value, bits), format);

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static string FormatUnsigned(ulong value, ulong bits, string format)
            => NumberFormatter.FormatInteger(NumericValue.FromUnsigned(value, bits), format);

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static bool TryFormatSigned(long value, ulong bits, ReadOnlySpan<char> format, Span<char> destination, out int charsWritten)
            => NumberFormatter.TryFormatInteger(NumericValue.FromSigned(value, bits), format, destination, out charsWritten);

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static bool TryFormatUnsigned(ulong value, ulong bits, ReadOnlySpan<char> format, Span<char> destination, out int charsWritten)
            => NumberFormatter.TryFormatInteger(NumericValue.FromUnsigned(value, bits), format, destination, out charsWritten);

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static string FormatDouble(double value, string format)
            => NumberFormatter.FormatFloat(NumericValue.FromDouble(value), format);

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static string FormatSingle(float value, string format)
            => NumberFormatter.FormatFloat(NumericValue.FromSingle(value), format);

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static bool TryFormatDouble(double value, ReadOnlySpan<char> format, Span<char> destination, out int charsWritten)
            => NumberFormatter.TryFormatFloat(NumericValue.FromDouble(value), format, destination, out charsWritten);

        [MethodImpl(MethodImplOptions.NoInlining)]
        internal static bool TryFormatSingle(float value, ReadOnlySpan<char> format, Span<char> destination, out int charsWritten)
            => NumberFormatter.TryFormatFloat(NumericValue.FromSingle(value), format, destination, out charsWritten);
   
        internal static bool TryParseSigned(ReadOnlySpan<char> s, NumberStyles styles, long minimum, long maximum, int bits, out long value, out int status)
        {
            status = NumberParser.ParseInteger(s, (int)styles, (ulong)maximum, (ulong)(-(minimum + 1)) + 1, bits, out ulong magnitude, out bool negative);
            if (status != NumberParser.Ok) { value = 0; return false; }
            if ((styles & NumberStyles.AllowHexSpecifier) != 0)
                value = bits == 64 ? (long)magnitude : (long)(magnitude << (64 - bits)) >> (64 - bits);
            else
                value = negative ? (long)(0 - magnitude) : (long)magnitude;
            return true;
        }

        internal static bool TryParseUnsigned(ReadOnlySpan<char> s, NumberStyles styles, ulong maximum, int bits, out ulong value, out int status)
        {
            status = NumberParser.ParseInteger(s, (int)styles, maximum, 0, bits, out value, out _);
            if (status != NumberParser.Ok) { value = 0; return false; }
            return true;
        }

        internal static long ParseSigned(string s, NumberStyles styles, long minimum, long maximum, int bits, string typeName)
        {
            if (s == null) throw new ArgumentNullException(nameof(s));
            return ParseSigned((ReadOnlySpan<char>)s, styles, minimum, maximum, bits, typeName);
        }

        internal static long ParseSigned(ReadOnlySpan<char> s, NumberStyles styles, long minimum, long maximum, int bits, string typeName)
        {
            if (!TryParseSigned(s, styles, minimum, maximum, bits, out long value, out int status)) throw ParseError(s, status, typeName);
            return value;
        }

        internal static ulong ParseUnsigned(string s, NumberStyles styles, ulong maximum, int bits, string typeName)
        {
            if (s == null) throw new ArgumentNullException(nameof(s));
            return ParseUnsigned((ReadOnlySpan<char>)s, styles, maximum, bits, typeName);
        }

        internal static ulong ParseUnsigned(ReadOnlySpan<char> s, NumberStyles styles, ulong maximum, int bits, string typeName)
        {
            if (!TryParseUnsigned(s, styles, maximum, bits, out ulong value, out int status)) throw ParseError(s, status, typeName);
            return value;
        }

        internal static double ParseDouble(string s, NumberStyles styles)
        {
            if (s == null) throw new ArgumentNullException(nameof(s));
            return ParseDouble((ReadOnlySpan<char>)s, styles);
        }

        internal static double ParseDouble(ReadOnlySpan<char> s, NumberStyles styles)
        {
            if (NumberParser.ParseDouble(s, (int)styles, out double value) != NumberParser.Ok) throw ParseError(s, NumberParser.BadFormat, "Double");
            return value;
        }

        internal static float ParseSingle(string s, NumberStyles styles)
        {
            if (s == null) throw new ArgumentNullException(nameof(s));
            return ParseSingle((ReadOnlySpan<char>)s, styles);
        }

        internal static float ParseSingle(ReadOnlySpan<char> s, NumberStyles styles)
        {
            if (NumberParser.ParseSingle(s, (int)styles, out float value) != NumberParser.Ok) throw ParseError(s, NumberParser.BadFormat, "Single");
            return value;
        }

        private static Exception ParseError(ReadOnlySpan<char> s, int status, string typeName)
        {
            if (status == NumberParser.Overflow)
                return new OverflowException("Value was either too large or too small for " + (typeName[0] == 'I' || typeName[0] == 'U' ? "an " : "a ") + typeName + ".");
            return new FormatException("The input string '" + new string(s) + "' was not in a correct format.");
        }
    }
}
