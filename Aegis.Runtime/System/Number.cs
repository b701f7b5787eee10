// Integer and floating-point formatting for ToString, TryFormat and string interpolation. The
// work is done by Internal.Numerics.NumberFormatter (Number.Formatting.cs: which formats exist and
// how unsupported ones fail) and FloatDigits (Number.Digits.cs: exact shortest round-trip digits).
using Internal.Numerics;

namespace System
{
    internal static class Number
    {
        internal static string FormatSigned(long value, ulong bits, string format)
            => NumberFormatter.Format(NumericValue.FromSigned(value, bits), format);

        internal static string FormatUnsigned(ulong value, ulong bits, string format)
            => NumberFormatter.Format(NumericValue.FromUnsigned(value, bits), format);

        internal static bool TryFormatSigned(long value, ulong bits, ReadOnlySpan<char> format, Span<char> destination, out int charsWritten)
            => NumberFormatter.TryFormat(NumericValue.FromSigned(value, bits), format, destination, out charsWritten);

        internal static bool TryFormatUnsigned(ulong value, ulong bits, ReadOnlySpan<char> format, Span<char> destination, out int charsWritten)
            => NumberFormatter.TryFormat(NumericValue.FromUnsigned(value, bits), format, destination, out charsWritten);

        internal static string FormatDouble(double value, string format)
            => NumberFormatter.Format(NumericValue.FromDouble(value), format);

        internal static string FormatSingle(float value, string format)
            => NumberFormatter.Format(NumericValue.FromSingle(value), format);

        internal static bool TryFormatDouble(double value, ReadOnlySpan<char> format, Span<char> destination, out int charsWritten)
            => NumberFormatter.TryFormat(NumericValue.FromDouble(value), format, destination, out charsWritten);

        internal static bool TryFormatSingle(float value, ReadOnlySpan<char> format, Span<char> destination, out int charsWritten)
            => NumberFormatter.TryFormat(NumericValue.FromSingle(value), format, destination, out charsWritten);
    }
}
