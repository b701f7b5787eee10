// Decimal digits of a binary floating-point value, exactly (Steele & White / Burger & Dybvig
// "free-format" printing with big integers: no approximation anywhere, so every result is exact).
//   Shortest: the fewest digits that read back (round-to-nearest-even) as the same value; among
//     those, the one closest to the value (ties: the even last digit). This is .NET Core 3.0+'s
//     round-trip output ("R", "G" and ToString()).
//   Significant(n) / Fractional(n): the exact value rounded to n significant digits or to n digits
//     after the decimal point, ties to even (as .NET's Dragon4 with a cutoff does).
// Output: ASCII digits without trailing zeros and a scale: value = 0.d1d2d3... * 10^scale.
// Count 0 means the value rounded to zero (only in Fractional mode).
// Compiled unchanged into the host tests (Aegis.Tests) and checked against .NET's output.
namespace Internal.Numerics
{
    internal static unsafe class FloatDigits
    {
        public const int Shortest = 0, Significant = 1, Fractional = 2;

        /// <summary>The most digits an exact double has (a subnormal's expansion) plus room for rounding.</summary>
        public const int MaxDigits = 800;

        /// <summary>Digits of mantissa * 2^exponent (mantissa != 0, with the implicit bit set for
        /// normal values). mantissaBits/minimumExponent describe the format (53/-1074 for double,
        /// 24/-149 for float): they decide whether the gap below the value is half the gap above.</summary>
        public static int Generate(ulong mantissa, int exponent, int mantissaBits, int minimumExponent,
            int mode, int cutoff, byte* digits, out int scale)
        {
            BigNum r = default, s = default, mMinus = default, mPlus = default;
            bool unequalGaps = mantissa == 1UL << (mantissaBits - 1) && exponent > minimumExponent;
            // value = r / s; the gaps to the neighbours are mMinus / s (below) and mPlus / s (above),
            // each already halved (everything is scaled by 2, or 4 with unequal gaps).
            if (exponent >= 0)
            {
                r.SetUInt64(mantissa);
                r.ShiftLeft(exponent + (unequalGaps ? 2 : 1));
                s.SetUInt64(unequalGaps ? 4UL : 2UL);
                mMinus.SetPow2(exponent);
                mPlus.SetPow2(exponent + (unequalGaps ? 1 : 0));
            }
            else
            {
                r.SetUInt64(mantissa);
                r.ShiftLeft(unequalGaps ? 2 : 1);
                s.SetPow2(-exponent + (unequalGaps ? 2 : 1));
                mMinus.SetUInt64(1);
                mPlus.SetUInt64(unequalGaps ? 2UL : 1UL);
            }

            // k: the decimal exponent with 10^(k-1) <= value < 10^k. Estimate from the binary
            // exponent (never too large, at most one too small) and correct below.
            int bitLength = 0;
            for (ulong m = mantissa; m != 0; m >>= 1) bitLength++;
            int k = CeilLog10Pow2(bitLength - 1 + exponent);
            if (k >= 0) s.MultiplyPow10(k);
            else
            {
                r.MultiplyPow10(-k);
                mMinus.MultiplyPow10(-k);
                mPlus.MultiplyPow10(-k);
            }

            bool even = (mantissa & 1) == 0;
            if (mode == Shortest)
            {
                // k is the least exponent with value + gapAbove below 10^k (or at it, when a tie
                // would round back to this value).
                while (true)
                {
                    int c = BigNum.CompareSum(ref r, ref mPlus, ref s);
                    if (even ? c < 0 : c <= 0) break;
                    s.Multiply10();
                    k++;
                }
                int count = 0;
                while (true)
                {
                    r.Multiply10();
                    mMinus.Multiply10();
                    mPlus.Multiply10();
                    uint digit = r.DivideDigit(ref s);
                    int cLow = BigNum.Compare(ref r, ref mMinus);
                    int cHigh = BigNum.CompareSum(ref r, ref mPlus, ref s);
                    bool low = even ? cLow <= 0 : cLow < 0;
                    bool high = even ? cHigh >= 0 : cHigh > 0;
                    if (!low && !high)
                    {
                        digits[count++] = (byte)('0' + digit);
                        continue;
                    }
                    bool up;
                    if (low && !high) up = false;
                    else if (high && !low) up = true;
                    else
                    {
                        r.ShiftLeft(1);
                        int c = BigNum.Compare(ref r, ref s);
                        up = c > 0 || (c == 0 && (digit & 1) != 0);
                    }
                    digits[count++] = (byte)('0' + digit);
                    if (up) count = RoundUp(digits, count, ref k);
                    scale = k;
                    return TrimZeros(digits, count);
                }
            }

            while (BigNum.Compare(ref r, ref s) >= 0)
            {
                s.Multiply10();
                k++;
            }
            // The last digit kept has exponent 'last'.
            int last = mode == Significant ? k - cutoff : -cutoff;
            int wanted = k - last;
            if (wanted <= 0)
            {
                // Every digit is past the cutoff: the result is 0 or one unit of the last place.
                scale = 0;
                if (wanted < 0) return 0;
                r.ShiftLeft(1);
                if (BigNum.Compare(ref r, ref s) > 0)
                {
                    digits[0] = (byte)'1';
                    scale = last + 1;
                    return 1;
                }
                return 0; // below half, or exactly half (ties go to the even 0)
            }
            if (wanted > MaxDigits - 1) wanted = MaxDigits - 1;
            int n = 0;
            uint d = 0;
            while (n < wanted)
            {
                r.Multiply10();
                d = r.DivideDigit(ref s);
                digits[n++] = (byte)('0' + d);
                if (r.IsZero) break;
            }
            if (!r.IsZero)
            {
                r.ShiftLeft(1);
                int c = BigNum.Compare(ref r, ref s);
                if (c > 0 || (c == 0 && (d & 1) != 0))
                    n = RoundUp(digits, n, ref k);
            }
            scale = k;
            return TrimZeros(digits, n);
        }

        /// <summary>Adds one unit in the last place; a carry out of the first digit gives "1", k+1.</summary>
        private static int RoundUp(byte* digits, int count, ref int k)
        {
            int i = count - 1;
            while (i >= 0 && digits[i] == (byte)'9') i--;
            if (i < 0)
            {
                digits[0] = (byte)'1';
                k++;
                return 1;
            }
            digits[i]++;
            return i + 1;
        }

        private static int TrimZeros(byte* digits, int count)
        {
            while (count > 0 && digits[count - 1] == (byte)'0') count--;
            return count;
        }

        /// <summary>An estimate of ceil(e * log10(2)) that is never too large (at most one too
        /// small for |e| &lt;= 1100): log10(2) * 2^32 rounded towards zero in magnitude's favour.</summary>
        private static int CeilLog10Pow2(int e)
        {
            if (e == 0) return 0;
            long scaled = e >= 0 ? e * 1292913986L : e * 1292913987L; // below log10(2)*2^32, above
            return (int)(scaled >> 32) + 1;
        }
    }
}
