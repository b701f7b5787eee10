// Standard numeric format strings for integers, double and float, with .NET's output in the
// invariant culture (group separator ",", decimal point ".", percent "n %" / "-n %"), except that
// infinities print as "∞" / "-∞" (as .NET does in en-US and most cultures) and NaN as "NaN".
//   Floating point: G[n], R, E[n], F[n], N[n], P[n] (and lower case). Default (null, "", "G",
//     "G0", "R"): the shortest round-trip digits, fixed notation for decimal exponents -5..16
//     (float: -5..8) and "1E+20" / "1E-05" style outside, exactly where .NET switches.
//     A precision rounds the exact binary value, ties to even (as .NET does).
//   Integers: G[n], D[n], X[n], B[n], R, E[n], F[n], N[n], P[n]; rounding of E/G/N with fewer
//     digits is half away from zero (as .NET does for integers).
// Anything else throws FormatException naming the format: custom formats ("0.00", "#,##0") and
// currency ("C") are not supported. No format is ever silently ignored.
// Compiled unchanged into the host tests (Aegis.Tests), which compare it with .NET's output.
namespace Internal.Numerics
{
    /// <summary>Writes into a span; past its end it only counts, so a caller learns the length
    /// needed and can retry with a larger buffer.</summary>
    internal ref struct CharWriter
    {
        private readonly System.Span<char> _destination;
        private int _position;

        public CharWriter(System.Span<char> destination) { _destination = destination; _position = 0; }

        public int Position => _position;
        public bool Overflowed => _position > _destination.Length;

        public void Append(char c)
        {
            if ((uint)_position < (uint)_destination.Length) _destination[_position] = c;
            _position++;
        }

        public void Append(char c, int count)
        {
            for (int i = 0; i < count; i++) Append(c);
        }

        public void Append(string text)
        {
            for (int i = 0; i < text.Length; i++) Append(text[i]);
        }
    }

    /// <summary>A number to format: an integer (magnitude, sign and the type's bits for X/B),
    /// a double or a float.</summary>
    internal struct NumericValue
    {
        public const int Integer = 0, Double = 1, Single = 2;
        public int Kind;
        public ulong Magnitude;
        public bool Negative;
        public ulong Bits;
        public double DoubleValue;
        public float SingleValue;

        public static NumericValue FromSigned(long value, ulong bits)
            => new NumericValue { Kind = Integer, Negative = value < 0, Magnitude = value < 0 ? (ulong)(-(value + 1)) + 1 : (ulong)value, Bits = bits };

        public static NumericValue FromUnsigned(ulong value, ulong bits)
            => new NumericValue { Kind = Integer, Magnitude = value, Bits = bits };

        public static NumericValue FromDouble(double value) => new NumericValue { Kind = Double, DoubleValue = value };

        public static NumericValue FromSingle(float value) => new NumericValue { Kind = Single, SingleValue = value };
    }

    internal static unsafe class NumberFormatter
    {
        public const string PositiveInfinitySymbol = "∞";
        public const string NegativeInfinitySymbol = "-∞";
        public const string NaNSymbol = "NaN";

        private const int StackChars = 128;

        // Integers and floating point have separate entry points, so that an image that formats
        // only integers does not carry the floating-point digit generation (ILC drops it).
        public static string Format(NumericValue value, System.ReadOnlySpan<char> format)
            => value.Kind == NumericValue.Integer ? FormatInteger(value, format) : FormatFloat(value, format);

        public static bool TryFormat(NumericValue value, System.ReadOnlySpan<char> format, System.Span<char> destination, out int charsWritten)
            => value.Kind == NumericValue.Integer ? TryFormatInteger(value, format, destination, out charsWritten) : TryFormatFloat(value, format, destination, out charsWritten);

        public static string FormatInteger(NumericValue value, System.ReadOnlySpan<char> format)
        {
            char* stack = stackalloc char[StackChars];
            var writer = new CharWriter(new System.Span<char>(stack, StackChars));
            WriteInteger(ref writer, ref value, format);
            if (!writer.Overflowed)
                return new string(new System.ReadOnlySpan<char>(stack, writer.Position));
            char[] large = new char[writer.Position];
            writer = new CharWriter(large);
            WriteInteger(ref writer, ref value, format);
            return new string(large);
        }

        public static string FormatFloat(NumericValue value, System.ReadOnlySpan<char> format)
        {
            char* stack = stackalloc char[StackChars];
            var writer = new CharWriter(new System.Span<char>(stack, StackChars));
            WriteFloat(ref writer, ref value, format);
            if (!writer.Overflowed)
                return new string(new System.ReadOnlySpan<char>(stack, writer.Position));
            char[] large = new char[writer.Position];
            writer = new CharWriter(large);
            WriteFloat(ref writer, ref value, format);
            return new string(large);
        }

        public static bool TryFormatInteger(NumericValue value, System.ReadOnlySpan<char> format, System.Span<char> destination, out int charsWritten)
        {
            var writer = new CharWriter(destination);
            WriteInteger(ref writer, ref value, format);
            return Finish(ref writer, out charsWritten);
        }

        public static bool TryFormatFloat(NumericValue value, System.ReadOnlySpan<char> format, System.Span<char> destination, out int charsWritten)
        {
            var writer = new CharWriter(destination);
            WriteFloat(ref writer, ref value, format);
            return Finish(ref writer, out charsWritten);
        }

        private static bool Finish(ref CharWriter writer, out int charsWritten)
        {
            if (writer.Overflowed)
            {
                charsWritten = 0;
                return false;
            }
            charsWritten = writer.Position;
            return true;
        }

        /// <summary>.NET's reading of a standard format: a letter and an optional precision of up to
        /// nine digits. Returns '\0' for anything else (a custom format).</summary>
        public static char ParseFormat(System.ReadOnlySpan<char> format, out int precision)
        {
            precision = -1;
            if (format.Length == 0) return 'G';
            char c = format[0];
            if ((uint)((c | 0x20) - 'a') > 'z' - 'a') return '\0';
            int n = 0, i = 1;
            while (i < format.Length && (uint)(format[i] - '0') <= 9)
            {
                if (n >= 100000000) throw new System.FormatException("Format precision is too large: '" + new string(format) + "'.");
                n = n * 10 + (format[i] - '0');
                i++;
            }
            if (i < format.Length && format[i] != '\0') return '\0';
            if (i > 1) precision = n;
            return c;
        }

        private static System.FormatException Unsupported(System.ReadOnlySpan<char> format, char kind)
        {
            if (kind == '\0')
                return new System.FormatException("Custom numeric format strings are not supported by Aegis.Runtime: '" + new string(format) + "'.");
            if (kind == 'C' || kind == 'c')
                return new System.FormatException("The currency format '" + new string(format) + "' is not supported by Aegis.Runtime.");
            return new System.FormatException("Format specifier was invalid: '" + new string(format) + "'.");
        }

        private struct Digits
        {
            public byte* Buffer;
            public int Count;
            public int Scale;      // value = 0.d1d2... * 10^Scale
            public bool Negative;
        }

        private static void WriteFloat(ref CharWriter writer, ref NumericValue value, System.ReadOnlySpan<char> format)
        {
            bool single = value.Kind == NumericValue.Single;
            ulong mantissa;
            int exponent;
            bool negative;
            if (single)
            {
                float f = value.SingleValue;
                uint bits = *(uint*)&f;
                negative = (bits >> 31) != 0;
                int biased = (int)((bits >> 23) & 0xFF);
                mantissa = bits & 0x7FFFFF;
                if (biased == 0xFF) { WriteNonFinite(ref writer, mantissa != 0, negative); return; }
                if (biased == 0) exponent = -149;
                else { mantissa |= 1UL << 23; exponent = biased - 150; }
            }
            else
            {
                double d = value.DoubleValue;
                ulong bits = *(ulong*)&d;
                negative = (bits >> 63) != 0;
                int biased = (int)((bits >> 52) & 0x7FF);
                mantissa = bits & 0xFFFFFFFFFFFFFUL;
                if (biased == 0x7FF) { WriteNonFinite(ref writer, mantissa != 0, negative); return; }
                if (biased == 0) exponent = -1074;
                else { mantissa |= 1UL << 52; exponent = biased - 1075; }
            }

            char kind = ParseFormat(format, out int precision);
            int mode, cutoff, maxDigits = 0;
            switch (kind)
            {
                case 'R': case 'r':
                    kind = 'G'; mode = FloatDigits.Shortest; cutoff = 0; precision = -1;
                    break;
                case 'G': case 'g':
                    if (precision <= 0) { mode = FloatDigits.Shortest; cutoff = 0; precision = -1; }
                    else { mode = FloatDigits.Significant; cutoff = precision; maxDigits = precision; }
                    break;
                case 'E': case 'e':
                    if (precision < 0) precision = 6;
                    mode = FloatDigits.Significant; cutoff = precision + 1;
                    break;
                case 'F': case 'f': case 'N': case 'n':
                    if (precision < 0) precision = 2;
                    mode = FloatDigits.Fractional; cutoff = precision;
                    break;
                case 'P': case 'p':
                    if (precision < 0) precision = 2;
                    mode = FloatDigits.Fractional; cutoff = precision + 2;
                    break;
                default:
                    throw Unsupported(format, kind);
            }

            byte* buffer = stackalloc byte[FloatDigits.MaxDigits];
            var digits = new Digits { Buffer = buffer, Negative = negative };
            if (mantissa != 0)
                digits.Count = FloatDigits.Generate(mantissa, exponent, single ? 24 : 53, single ? -149 : -1074,
                    mode, cutoff, buffer, out digits.Scale);
            if (mode == FloatDigits.Shortest)
            {
                // Fixed notation up to the type's round-trip digit count (17 / 9), as .NET does.
                int roundTrip = single ? 9 : 17;
                maxDigits = digits.Count > roundTrip ? digits.Count : roundTrip;
            }
            WriteStandard(ref writer, ref digits, kind, precision, maxDigits);
        }

        private static void WriteNonFinite(ref CharWriter writer, bool nan, bool negative)
            => writer.Append(nan ? NaNSymbol : negative ? NegativeInfinitySymbol : PositiveInfinitySymbol);

        private static void WriteInteger(ref CharWriter writer, ref NumericValue value, System.ReadOnlySpan<char> format)
        {
            char kind = ParseFormat(format, out int precision);
            switch (kind)
            {
                case 'X': case 'x':
                    WriteRadix(ref writer, value.Bits, 4, kind == 'x', precision);
                    return;
                case 'B': case 'b':
                    WriteRadix(ref writer, value.Bits, 1, false, precision);
                    return;
                case 'D': case 'd': case 'R': case 'r':
                    WriteDecimal(ref writer, value.Magnitude, value.Negative, kind == 'R' || kind == 'r' ? -1 : precision);
                    return;
                case 'G': case 'g':
                    if (precision < 1) { WriteDecimal(ref writer, value.Magnitude, value.Negative, -1); return; }
                    break;
                case 'E': case 'e': case 'F': case 'f': case 'N': case 'n': case 'P': case 'p':
                    break;
                default:
                    throw Unsupported(format, kind);
            }

            byte* buffer = stackalloc byte[24];
            var digits = new Digits { Buffer = buffer, Negative = value.Negative };
            ulong magnitude = value.Magnitude;
            int count = 0;
            byte* reversed = stackalloc byte[24];
            while (magnitude != 0) { reversed[count++] = (byte)('0' + (int)(magnitude % 10)); magnitude /= 10; }
            for (int i = 0; i < count; i++) buffer[i] = reversed[count - 1 - i];
            digits.Count = count;
            digits.Scale = count;
            while (digits.Count > 0 && buffer[digits.Count - 1] == (byte)'0') digits.Count--;
            if (digits.Count == 0) digits.Scale = 0;

            int maxDigits = 0;
            switch (kind)
            {
                case 'G': case 'g':
                    RoundHalfUp(ref digits, precision);
                    maxDigits = precision;
                    break;
                case 'E': case 'e':
                    if (precision < 0) precision = 6;
                    RoundHalfUp(ref digits, precision + 1);
                    break;
                case 'F': case 'f': case 'N': case 'n':
                    if (precision < 0) precision = 2;
                    break;
                case 'P': case 'p':
                    if (precision < 0) precision = 2;
                    break;
            }
            WriteStandard(ref writer, ref digits, kind, precision, maxDigits);
        }

        /// <summary>Keeps 'position' digits, rounding half away from zero (integers only: their
        /// digits are exact, so .NET's digit rounding applies).</summary>
        private static void RoundHalfUp(ref Digits digits, int position)
        {
            if (position < 0 || position >= digits.Count) return;
            bool up = digits.Buffer[position] >= (byte)'5';
            digits.Count = position;
            if (up)
            {
                int i = position - 1;
                while (i >= 0 && digits.Buffer[i] == (byte)'9') i--;
                if (i < 0) { digits.Buffer[0] = (byte)'1'; digits.Count = 1; digits.Scale++; }
                else { digits.Buffer[i]++; digits.Count = i + 1; }
            }
            while (digits.Count > 0 && digits.Buffer[digits.Count - 1] == (byte)'0') digits.Count--;
            if (digits.Count == 0) { digits.Scale = 0; digits.Negative = false; }
        }

        /// <summary>Writes already rounded digits in the layout of format 'kind'.</summary>
        private static void WriteStandard(ref CharWriter writer, ref Digits digits, char kind, int precision, int maxDigits)
        {
            switch (kind)
            {
                case 'G': case 'g':
                    if (digits.Negative) writer.Append('-');
                    WriteGeneral(ref writer, ref digits, maxDigits, kind == 'g' ? 'e' : 'E');
                    break;
                case 'E': case 'e':
                    if (digits.Negative) writer.Append('-');
                    WriteScientific(ref writer, ref digits, precision + 1, kind);
                    break;
                case 'F': case 'f':
                    if (digits.Negative) writer.Append('-');
                    WriteFixed(ref writer, ref digits, precision, false);
                    break;
                case 'N': case 'n':
                    if (digits.Negative) writer.Append('-');
                    WriteFixed(ref writer, ref digits, precision, true);
                    break;
                case 'P': case 'p':
                    if (digits.Negative) writer.Append('-');
                    digits.Scale += digits.Count == 0 ? 0 : 2;
                    WriteFixed(ref writer, ref digits, precision, true);
                    writer.Append(' ');
                    writer.Append('%');
                    break;
            }
        }

        private static void WriteGeneral(ref CharWriter writer, ref Digits digits, int maxDigits, char exponentChar)
        {
            int position = digits.Scale;
            bool scientific = false;
            if (position > maxDigits || position < -3)
            {
                position = 1;
                scientific = true;
            }
            int i = 0;
            if (position > 0)
            {
                do { writer.Append(i < digits.Count ? (char)digits.Buffer[i++] : '0'); } while (--position > 0);
            }
            else
            {
                writer.Append('0');
            }
            if (i < digits.Count || position < 0)
            {
                writer.Append('.');
                while (position < 0) { writer.Append('0'); position++; }
                while (i < digits.Count) writer.Append((char)digits.Buffer[i++]);
            }
            if (scientific)
                WriteExponent(ref writer, digits.Scale - 1, exponentChar, 2);
        }

        private static void WriteScientific(ref CharWriter writer, ref Digits digits, int significant, char exponentChar)
        {
            int i = 0;
            writer.Append(digits.Count > 0 ? (char)digits.Buffer[i++] : '0');
            if (significant != 1)
            {
                writer.Append('.');
                while (--significant > 0) writer.Append(i < digits.Count ? (char)digits.Buffer[i++] : '0');
            }
            WriteExponent(ref writer, digits.Count == 0 ? 0 : digits.Scale - 1, exponentChar, 3);
        }

        private static void WriteFixed(ref CharWriter writer, ref Digits digits, int decimals, bool groups)
        {
            int integerDigits = digits.Scale;
            int i = 0;
            if (integerDigits > 0)
            {
                for (int j = 0; j < integerDigits; j++)
                {
                    writer.Append(i < digits.Count ? (char)digits.Buffer[i++] : '0');
                    int left = integerDigits - 1 - j;
                    if (groups && left > 0 && left % 3 == 0) writer.Append(',');
                }
            }
            else
            {
                writer.Append('0');
            }
            if (decimals > 0)
            {
                writer.Append('.');
                int position = integerDigits;
                for (int j = 0; j < decimals; j++, position++)
                    writer.Append(position >= 0 && i < digits.Count ? (char)digits.Buffer[i++] : '0');
            }
        }

        private static void WriteExponent(ref CharWriter writer, int exponent, char exponentChar, int minimumDigits)
        {
            writer.Append(exponentChar);
            if (exponent < 0) { writer.Append('-'); exponent = -exponent; }
            else writer.Append('+');
            char* text = stackalloc char[10];
            int count = 0;
            do { text[count++] = (char)('0' + exponent % 10); exponent /= 10; } while (exponent != 0);
            for (int j = count; j < minimumDigits; j++) writer.Append('0');
            while (count > 0) writer.Append(text[--count]);
        }

        private static void WriteDecimal(ref CharWriter writer, ulong magnitude, bool negative, int minimumDigits)
        {
            char* text = stackalloc char[20];
            int count = 0;
            while (magnitude != 0) { text[count++] = (char)('0' + (int)(magnitude % 10)); magnitude /= 10; }
            if (negative) writer.Append('-');
            if (minimumDigits < 1) minimumDigits = 1;
            for (int j = count; j < minimumDigits; j++) writer.Append('0');
            while (count > 0) writer.Append(text[--count]);
        }

        private static void WriteRadix(ref CharWriter writer, ulong bits, int bitsPerDigit, bool lowercase, int minimumDigits)
        {
            char* text = stackalloc char[64];
            int count = 0;
            ulong mask = (1UL << bitsPerDigit) - 1;
            while (bits != 0)
            {
                int digit = (int)(bits & mask);
                text[count++] = (char)(digit < 10 ? '0' + digit : (lowercase ? 'a' : 'A') + digit - 10);
                bits >>= bitsPerDigit;
            }
            if (minimumDigits < 1) minimumDigits = 1;
            for (int j = count; j < minimumDigits; j++) writer.Append('0');
            while (count > 0) writer.Append(text[--count]);
        }
    }
}
