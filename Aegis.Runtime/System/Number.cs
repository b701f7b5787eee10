#pragma warning disable CS1718 // x != x is the NaN test
// Integer and floating-point formatting for ToString and string interpolation.
// Supported integer formats: "" / "D[n]" (decimal, n = minimum digits), "X[n]" / "x[n]" (hex).
// Any other format throws FormatException, naming it, rather than printing something wrong.
namespace System
{
    internal static class Number
    {
        private const int MaxDigits = 66;

        internal static string FormatSigned(long value, ulong bits, string format) => FormatSigned(value, bits, (ReadOnlySpan<char>)format);

        internal static string FormatUnsigned(ulong value, ulong bits, string format) => FormatUnsigned(value, bits, (ReadOnlySpan<char>)format);

        private static string FormatSigned(long value, ulong bits, ReadOnlySpan<char> format)
        {
            Span<char> buffer = stackalloc char[MaxDigits];
            if (!TryFormatSigned(value, bits, format, buffer, out int written))
                throw new FormatException("Format string is too wide.");
            return new string(buffer.Slice(0, written));
        }

        private static string FormatUnsigned(ulong value, ulong bits, ReadOnlySpan<char> format)
        {
            Span<char> buffer = stackalloc char[MaxDigits];
            if (!TryFormatUnsigned(value, bits, format, buffer, out int written))
                throw new FormatException("Format string is too wide.");
            return new string(buffer.Slice(0, written));
        }

        internal static bool TryFormatSigned(long value, ulong bits, ReadOnlySpan<char> format, Span<char> destination, out int charsWritten)
        {
            ParseFormat(format, out char kind, out int minimumDigits);
            if (kind == 'X' || kind == 'x')
                return TryFormatDigits(bits, 16, kind == 'x', false, minimumDigits, destination, out charsWritten);
            bool negative = value < 0;
            ulong magnitude = negative ? (ulong)(-(value + 1)) + 1 : (ulong)value;
            return TryFormatDigits(magnitude, 10, false, negative, minimumDigits, destination, out charsWritten);
        }

        internal static bool TryFormatUnsigned(ulong value, ulong bits, ReadOnlySpan<char> format, Span<char> destination, out int charsWritten)
        {
            ParseFormat(format, out char kind, out int minimumDigits);
            if (kind == 'X' || kind == 'x')
                return TryFormatDigits(bits, 16, kind == 'x', false, minimumDigits, destination, out charsWritten);
            return TryFormatDigits(value, 10, false, false, minimumDigits, destination, out charsWritten);
        }

        private static void ParseFormat(ReadOnlySpan<char> format, out char kind, out int minimumDigits)
        {
            kind = 'D';
            minimumDigits = 1;
            if (format.Length == 0)
                return;
            kind = format[0];
            if (kind != 'D' && kind != 'd' && kind != 'X' && kind != 'x' && kind != 'G' && kind != 'g')
                throw new FormatException("Unsupported numeric format '" + new string(format) + "' (Aegis supports D, G and X).");
            if (kind == 'G' || kind == 'g') kind = 'D';
            int digits = 0;
            for (int i = 1; i < format.Length; i++)
            {
                char c = format[i];
                if (c < '0' || c > '9')
                    throw new FormatException("Unsupported numeric format '" + new string(format) + "'.");
                digits = digits * 10 + (c - '0');
                if (digits > MaxDigits - 2)
                    throw new FormatException("Format precision is too large.");
            }
            if (format.Length > 1) minimumDigits = digits;
        }

        private static bool TryFormatDigits(ulong value, uint radix, bool lowercase, bool negative, int minimumDigits, Span<char> destination, out int charsWritten)
        {
            Span<char> digits = stackalloc char[MaxDigits];
            int count = 0;
            while (value != 0 || count < minimumDigits)
            {
                uint digit = (uint)(value % radix);
                digits[count++] = (char)(digit < 10 ? '0' + digit : (lowercase ? 'a' : 'A') + digit - 10);
                value /= radix;
            }
            int total = count + (negative ? 1 : 0);
            if (total > destination.Length)
            {
                charsWritten = 0;
                return false;
            }
            int position = 0;
            if (negative) destination[position++] = '-';
            for (int i = count - 1; i >= 0; i--)
                destination[position++] = digits[i];
            charsWritten = position;
            return true;
        }

        /// <summary>Fixed notation with up to six decimals, trailing zeros removed (not round-trip exact).</summary>
        internal static string FormatDouble(double value)
        {
            if (value != value) return "NaN";
            if (value > 1.7976931348623157E+308) return "∞";
            if (value < -1.7976931348623157E+308) return "-∞";
            bool negative = value < 0;
            if (negative) value = -value;
            if (value >= 1e18)
                return (negative ? "-" : "") + "1E+18+";
            ulong whole = (ulong)value;
            ulong fraction = (ulong)((value - whole) * 1000000 + 0.5);
            if (fraction >= 1000000) { whole++; fraction -= 1000000; }
            string text = whole.ToString();
            if (fraction != 0)
            {
                string digits = fraction.ToString("D6");
                int end = digits.Length;
                while (end > 0 && digits[end - 1] == '0') end--;
                text = text + "." + digits.Substring(0, end);
            }
            return negative ? "-" + text : text;
        }
    }
}
