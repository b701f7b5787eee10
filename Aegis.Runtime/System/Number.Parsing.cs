// Parsing of integers and floating-point numbers, with .NET's rules for the NumberStyles it
// supports (invariant culture: sign "-" / "+", decimal point ".", group separator ",").
//   Integers: AllowLeadingWhite, AllowTrailingWhite, AllowLeadingSign, AllowThousands,
//     AllowHexSpecifier (digits only, the type's bits). Too large or too small: Overflow.
//   Floating point: AllowLeadingWhite, AllowTrailingWhite, AllowLeadingSign, AllowDecimalPoint,
//     AllowExponent, AllowThousands; "NaN", "Infinity", "∞" (any case, with a sign).
//     The result is the exact decimal value correctly rounded (to nearest, ties to even): an
//     exact fast path when digits and power of ten are exact doubles, otherwise an approximation
//     corrected by exact big-integer comparisons with the midpoints between neighbouring values.
//     Out of range: ±∞ or ±0 (as .NET Core 3.0+ does), never an error.
// Other styles (parentheses, trailing sign, currency, binary, a decimal point in an integer)
// throw NotSupportedException naming the style. Whitespace is .NET's: space and \t..\r.
// Compiled unchanged into the host tests (Aegis.Tests) and compared with .NET's parser.
namespace Internal.Numerics
{
    internal static unsafe class NumberParser
    {
        public const int Ok = 0, BadFormat = 1, Overflow = 2;

        // The values of System.Globalization.NumberStyles.
        public const int AllowLeadingWhite = 1, AllowTrailingWhite = 2, AllowLeadingSign = 4, AllowTrailingSign = 8,
            AllowParentheses = 16, AllowDecimalPoint = 32, AllowThousands = 64, AllowExponent = 128,
            AllowCurrencySymbol = 256, AllowHexSpecifier = 512;
        public const int IntegerStyle = AllowLeadingWhite | AllowTrailingWhite | AllowLeadingSign;
        public const int FloatStyle = IntegerStyle | AllowDecimalPoint | AllowExponent | AllowThousands;

        private const int SupportedIntegerStyles = IntegerStyle | AllowThousands | AllowHexSpecifier;
        private const int SupportedFloatStyles = IntegerStyle | AllowDecimalPoint | AllowExponent | AllowThousands;

        private static bool IsWhite(char c) => c == ' ' || (c >= '\t' && c <= '\r');

        private static void CheckStyles(int styles, int supported)
        {
            if ((styles & ~supported) != 0)
                throw new System.NotSupportedException("NumberStyles 0x" + ((uint)(styles & ~supported)).ToString("X") + " is not supported by Aegis.Runtime's parser.");
        }

        /// <summary>Parses an integer of a type whose values are [-maxNegative, maxPositive] (magnitudes),
        /// 'bitWidth' bits wide (for hex). On Ok, 'magnitude' and 'negative' describe the value;
        /// hex input gives the raw bits in 'magnitude' and negative = false.</summary>
        public static int ParseInteger(System.ReadOnlySpan<char> s, int styles, ulong maxPositive, ulong maxNegative, int bitWidth,
            out ulong magnitude, out bool negative)
        {
            CheckStyles(styles, SupportedIntegerStyles);
            if ((styles & AllowHexSpecifier) != 0 && (styles & (AllowLeadingSign | AllowThousands)) != 0)
                throw new System.ArgumentException("AllowHexSpecifier goes only with AllowLeadingWhite and AllowTrailingWhite.");
            magnitude = 0;
            negative = false;
            int i = 0, end = s.Length;
            if ((styles & AllowLeadingWhite) != 0) while (i < end && IsWhite(s[i])) i++;
            if ((styles & AllowTrailingWhite) != 0) while (end > i && IsWhite(s[end - 1])) end--;
            if ((styles & AllowLeadingSign) != 0 && i < end && (s[i] == '-' || s[i] == '+'))
            {
                negative = s[i] == '-';
                i++;
            }
            if (i >= end) return BadFormat;
            bool overflow = false;
            ulong value = 0;
            if ((styles & AllowHexSpecifier) != 0)
            {
                int significantBits = 0;
                for (; i < end; i++)
                {
                    char c = s[i];
                    int digit = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
                    if (digit < 0) return BadFormat;
                    if (value == 0 && digit == 0) continue;
                    significantBits += significantBits == 0 ? BitsOf(digit) : 4;
                    if (significantBits > bitWidth) overflow = true;
                    value = (value << 4) | (uint)digit;
                }
                if (overflow) return Overflow;
                magnitude = value;
                return Ok;
            }
            bool sawDigit = false;
            for (; i < end; i++)
            {
                char c = s[i];
                if (c >= '0' && c <= '9')
                {
                    sawDigit = true;
                    uint digit = (uint)(c - '0');
                    if (value > (ulong.MaxValue - digit) / 10) overflow = true;
                    else value = value * 10 + digit;
                }
                else if (c == ',' && (styles & AllowThousands) != 0 && sawDigit)
                {
                    continue;
                }
                else
                {
                    return BadFormat;
                }
            }
            if (!sawDigit) return BadFormat;
            if (overflow || value > (negative ? maxNegative : maxPositive)) return Overflow;
            magnitude = value;
            if (value == 0) negative = false;
            return Ok;
        }

        private static int BitsOf(int digit) => digit >= 8 ? 4 : digit >= 4 ? 3 : digit >= 2 ? 2 : 1;

        /// <summary>The IEEE formats: 53-bit significand (double) or 24-bit (float).</summary>
        private struct Format
        {
            public int Precision;       // significand bits, implicit bit included
            public int MinimumExponent; // exponent of the subnormals (value = m * 2^e)
            public int InfinityExponent;// 2^(Precision-1) * 2^InfinityExponent is the first value past the largest
        }

        private static Format DoubleFormat => new Format { Precision = 53, MinimumExponent = -1074, InfinityExponent = 972 };
        private static Format SingleFormat => new Format { Precision = 24, MinimumExponent = -149, InfinityExponent = 105 };

        private const int MaxSignificantDigits = 780;

        private static readonly double[] s_exactPowers =
        {
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        };

        public static int ParseDouble(System.ReadOnlySpan<char> s, int styles, out double result)
        {
            int status = ParseFloat(s, styles, false, out ulong bits);
            result = *(double*)&bits;
            return status;
        }

        public static int ParseSingle(System.ReadOnlySpan<char> s, int styles, out float result)
        {
            int status = ParseFloat(s, styles, true, out ulong bits);
            uint single = (uint)bits;
            result = *(float*)&single;
            return status;
        }

        private static bool MatchWord(System.ReadOnlySpan<char> s, int i, int end, string word)
        {
            if (end - i != word.Length) return false;
            for (int j = 0; j < word.Length; j++)
            {
                char c = s[i + j];
                if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
                if (c != word[j]) return false;
            }
            return true;
        }

        /// <summary>Parses into the bits of a double or (single) a float.</summary>
        private static int ParseFloat(System.ReadOnlySpan<char> s, int styles, bool single, out ulong bits)
        {
            CheckStyles(styles, SupportedFloatStyles);
            Format format = single ? SingleFormat : DoubleFormat;
            ulong signBit = single ? 1UL << 31 : 1UL << 63;
            bits = 0;
            int i = 0, end = s.Length;
            if ((styles & AllowLeadingWhite) != 0) while (i < end && IsWhite(s[i])) i++;
            if ((styles & AllowTrailingWhite) != 0) while (end > i && IsWhite(s[end - 1])) end--;
            bool negative = false;
            if ((styles & AllowLeadingSign) != 0 && i < end && (s[i] == '-' || s[i] == '+'))
            {
                negative = s[i] == '-';
                i++;
            }
            ulong sign = negative ? signBit : 0;
            if (i >= end) return BadFormat;
            if (MatchWord(s, i, end, "nan"))
            {
                bits = single ? 0xFFC00000UL : 0xFFF8000000000000UL; // .NET's NaN
                return Ok;
            }
            if (MatchWord(s, i, end, "infinity") || MatchWord(s, i, end, "∞"))
            {
                bits = sign | (single ? 0x7F800000UL : 0x7FF0000000000000UL);
                return Ok;
            }

            byte* digits = stackalloc byte[MaxSignificantDigits + 1];
            int count = 0;          // significant digits kept
            bool dropped = false;   // a non-zero digit past MaxSignificantDigits
            int scale = 0;          // value = 0.d1d2... * 10^scale (before the exponent part)
            bool sawDigit = false, sawPoint = false;
            for (; i < end; i++)
            {
                char c = s[i];
                if (c >= '0' && c <= '9')
                {
                    sawDigit = true;
                    if (count == 0 && c == '0')
                    {
                        if (sawPoint) scale--;
                        continue;
                    }
                    if (count < MaxSignificantDigits) digits[count++] = (byte)(c - '0');
                    else if (c != '0') dropped = true;
                    if (!sawPoint) scale++;
                }
                else if (c == '.' && !sawPoint && (styles & AllowDecimalPoint) != 0)
                {
                    sawPoint = true;
                }
                else if (c == ',' && !sawPoint && sawDigit && (styles & AllowThousands) != 0)
                {
                    continue;
                }
                else break;
            }
            if (!sawDigit) return BadFormat;
            if (i < end && (s[i] == 'e' || s[i] == 'E') && (styles & AllowExponent) != 0)
            {
                int j = i + 1;
                bool exponentNegative = false;
                if (j < end && (s[j] == '-' || s[j] == '+')) { exponentNegative = s[j] == '-'; j++; }
                if (j < end && s[j] >= '0' && s[j] <= '9')
                {
                    int exponent = 0;
                    for (; j < end && s[j] >= '0' && s[j] <= '9'; j++)
                        if (exponent < 100000000) exponent = exponent * 10 + (s[j] - '0');
                    scale += exponentNegative ? -exponent : exponent;
                    i = j;
                }
            }
            if (i != end) return BadFormat;

            if (count == 0)
            {
                bits = sign;
                return Ok;
            }
            // A dropped non-zero tail only matters as "a little more than the kept digits":
            // one more digit 1 says so exactly enough (no midpoint has 780 significant digits).
            if (dropped) digits[count++] = 1;
            while (count > 1 && digits[count - 1] == 0) count--;
            bits = sign | Round(digits, count, scale, single, ref format);
            return Ok;
        }

        /// <summary>The bits of 0.d1d2...dn * 10^scale correctly rounded in the format.</summary>
        private static ulong Round(byte* digits, int count, int scale, bool single, ref Format format)
        {
            // Certainly past the largest value or below half the smallest.
            if (scale > (single ? 40 : 310)) return Compose(1UL << (format.Precision - 1), format.InfinityExponent, single, ref format);
            if (scale < (single ? -46 : -324)) return 0;
            int exponent10 = scale - count; // value = D * 10^exponent10, D the digits as an integer

            // Exact fast path: D and 10^|exponent10| exact in the format, one correctly rounded operation.
            if (count <= (single ? 7 : 15) && exponent10 >= -(single ? 10 : 22) && exponent10 <= (single ? 10 : 22))
            {
                ulong d = 0;
                for (int j = 0; j < count; j++) d = d * 10 + digits[j];
                if (single)
                {
                    float f = d;
                    float p = (float)s_exactPowers[exponent10 < 0 ? -exponent10 : exponent10];
                    f = exponent10 < 0 ? f / p : f * p;
                    return *(uint*)&f;
                }
                double x = d;
                x = exponent10 < 0 ? x / s_exactPowers[-exponent10] : x * s_exactPowers[exponent10];
                return *(ulong*)&x;
            }

            // An approximation (a few units in the last place off at most) from the first 19 digits.
            int head = count < 19 ? count : 19;
            ulong w = 0;
            for (int j = 0; j < head; j++) w = w * 10 + digits[j];
            double z = w;
            int e = scale - head;
            if (e > 0)
            {
                while (e > 22 && z < 1e300) { z *= 1e22; e -= 22; }
                z = e > 22 ? double.PositiveInfinity : z * s_exactPowers[e];
            }
            else if (e < 0)
            {
                while (e < -22) { z /= 1e22; e += 22; }
                z /= s_exactPowers[-e];
            }
            ulong m;
            int k;
            if (single)
            {
                float f = (float)z;
                uint fb = *(uint*)&f;
                int biased = (int)((fb >> 23) & 0xFF);
                if (biased == 0xFF) { m = 1UL << 23; k = format.InfinityExponent; }
                else if (biased == 0) { m = fb & 0x7FFFFF; k = format.MinimumExponent; }
                else { m = (fb & 0x7FFFFF) | (1UL << 23); k = biased - 150; }
            }
            else
            {
                ulong db = *(ulong*)&z;
                int biased = (int)((db >> 52) & 0x7FF);
                if (biased == 0x7FF) { m = 1UL << 52; k = format.InfinityExponent; }
                else if (biased == 0) { m = db & 0xFFFFFFFFFFFFFUL; k = format.MinimumExponent; }
                else { m = (db & 0xFFFFFFFFFFFFFUL) | (1UL << 52); k = biased - 1075; }
            }

            // D * 10^max(exponent10, 0), built once.
            BigNum big = default;
            int at = 0;
            while (at < count)
            {
                uint chunk = 0, factor = 1;
                for (int j = 0; j < 9 && at < count; j++, at++) { chunk = chunk * 10 + digits[at]; factor *= 10; }
                big.MultiplyAdd(factor, chunk);
            }
            if (exponent10 > 0) big.MultiplyPow10(exponent10);

            ulong lowestNormal = 1UL << (format.Precision - 1);
            while (true)
            {
                bool infinite = k >= format.InfinityExponent;
                if (!infinite)
                {
                    // Against the midpoint with the next value up: (2m + 1) * 2^(k-1).
                    int c = CompareWithValue(ref big, exponent10, 2 * m + 1, k - 1);
                    if (c > 0 || (c == 0 && (m & 1) != 0))
                    {
                        m++;
                        // (A subnormal that reaches lowestNormal is the smallest normal, same k.)
                        if (m == 2 * lowestNormal) { m = lowestNormal; k++; }
                        if (c == 0) break;
                        continue;
                    }
                }
                if (m == 0) break;
                // Against the midpoint with the next value down.
                ulong midM;
                int midK;
                if (m == lowestNormal && k > format.MinimumExponent) { midM = 4 * m - 1; midK = k - 2; }
                else { midM = 2 * m - 1; midK = k - 1; }
                int below = CompareWithValue(ref big, exponent10, midM, midK);
                if (below < 0 || (below == 0 && (m & 1) != 0))
                {
                    if (m == lowestNormal && k > format.MinimumExponent) { m = 2 * lowestNormal - 1; k--; }
                    else m--;
                    if (below == 0) break;
                    continue;
                }
                break;
            }
            return Compose(m, k, single, ref format);
        }

        /// <summary>Compares D * 10^exponent10 (big holds D * 10^max(exponent10, 0)) with M * 2^j.</summary>
        private static int CompareWithValue(ref BigNum big, int exponent10, ulong M, int j)
        {
            BigNum left = default, right = default;
            left.CopyFrom(ref big);
            if (j < 0) left.ShiftLeft(-j);
            right.SetUInt64(M);
            if (exponent10 < 0) right.MultiplyPow10(-exponent10);
            if (j > 0) right.ShiftLeft(j);
            return BigNum.Compare(ref left, ref right);
        }

        private static ulong Compose(ulong m, int k, bool single, ref Format format)
        {
            ulong lowestNormal = 1UL << (format.Precision - 1);
            if (k >= format.InfinityExponent) return single ? 0x7F800000UL : 0x7FF0000000000000UL;
            if (m < lowestNormal) return m; // subnormal (k is the minimum exponent) or zero
            ulong biased = (ulong)(k - format.MinimumExponent + 1);
            return (biased << (format.Precision - 1)) | (m - lowestNormal);
        }
    }
}
