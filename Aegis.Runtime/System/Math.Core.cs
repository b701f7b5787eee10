#pragma warning disable CS1718 // x != x is the NaN test
// The elementary functions behind System.Math and System.MathF, in plain IEEE double arithmetic
// (no FMA, no x87, no tables beyond the constants below), with .NET's (C99 Annex F) results for
// NaN, ±∞ and ±0.
// Method: each function is evaluated in double-double arithmetic (a value as an unevaluated sum
// hi + lo, products made exact by Veltkamp/Dekker splitting) to a relative accuracy far beyond
// double's, then rounded once; so results are the correctly rounded value in almost all cases and
// always within one unit in the last place (host tests compare with the host's libm on random inputs).
//   exp: x = k ln2 + r, exp(r) from the series of expm1(r / 256) squared 8 times.
//   log: x = 2^k m, m in [0.707, 1.414], log m = 2 atanh(s), s = (m - 1) / (m + 1).
//   pow: exp(y log x) with the double-double log.
//   sin/cos/tan: x = n pi/2 + r; for |x| < 2^20 pi/2 with pi/2 in four pieces (Cody-Waite), beyond
//     by Payne-Hanek: x times 1280 bits of 2/pi (a big-integer product) gives n mod 4 and r.
//   atan: t = (x - c) / (1 + x c) around c = i/16 from a table of atan(i/16); asin, acos, atan2 from it.
// Compiled unchanged into the host tests (Aegis.Tests).
namespace Internal.Numerics
{
    internal static unsafe class MathCore
    {
        // ---- double-double primitives -------------------------------------------------------

        private static double TwoSum(double a, double b, out double error)
        {
            double s = a + b;
            double bb = s - a;
            error = (a - (s - bb)) + (b - bb);
            return s;
        }

        /// <summary>For |a| >= |b| (or a == 0).</summary>
        private static double QuickTwoSum(double a, double b, out double error)
        {
            double s = a + b;
            error = b - (s - a);
            return s;
        }

        private static void Split(double a, out double high, out double low)
        {
            double t = 134217729.0 * a; // 2^27 + 1
            high = t - (t - a);
            low = a - high;
        }

        private static double TwoProduct(double a, double b, out double error)
        {
            double p = a * b;
            Split(a, out double ah, out double al);
            Split(b, out double bh, out double bl);
            error = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
            return p;
        }

        private static double Add(double ah, double al, double bh, double bl, out double lo)
        {
            double s = TwoSum(ah, bh, out double e);
            e += al + bl;
            return QuickTwoSum(s, e, out lo);
        }

        private static double Multiply(double ah, double al, double bh, double bl, out double lo)
        {
            double p = TwoProduct(ah, bh, out double e);
            e += ah * bl + al * bh;
            return QuickTwoSum(p, e, out lo);
        }

        private static double Divide(double ah, double al, double bh, double bl, out double lo)
        {
            double q1 = ah / bh;
            // r = a - q1 * b
            double ph = Multiply(q1, 0, bh, bl, out double pl);
            double rh = Add(ah, al, -ph, -pl, out double rl);
            double q2 = rh / bh;
            ph = Multiply(q2, 0, bh, bl, out pl);
            rh = Add(rh, rl, -ph, -pl, out rl);
            double q3 = rh / bh;
            double qh = QuickTwoSum(q1, q2, out double ql);
            return Add(qh, ql, q3, 0, out lo);
        }

        private static double Sqrt(double ah, double al, out double lo)
        {
            if (ah <= 0) { lo = 0; return ah == 0 ? 0 : double.NaN; }
            double s = System.Math.Sqrt(ah);
            double sq = TwoProduct(s, s, out double sqLow);
            // s + (a - s^2) / (2 s)
            double diffH = Add(ah, al, -sq, -sqLow, out double _);
            return QuickTwoSum(s, diffH / (2 * s), out lo);
        }

        // ---- bits and scaling ---------------------------------------------------------------

        private static ulong Bits(double x) => *(ulong*)&x;
        private static double FromBits(ulong bits) => *(double*)&bits;

        /// <summary>2^n for -1022 &lt;= n &lt;= 1023.</summary>
        private static double Pow2(int n) => FromBits((ulong)(n + 1023) << 52);

        /// <summary>x * 2^n with a single rounding (only if the result is subnormal).</summary>
        public static double ScaleB(double x, int n)
        {
            if (n > 1023)
            {
                x *= Pow2(1023); n -= 1023;
                if (n > 1023) { x *= Pow2(1023); n -= 1023; if (n > 1023) n = 1023; }
            }
            else if (n < -1022)
            {
                // Two steps so that only the last one can round: 2^-1022 * 2^53 keeps 53 bits.
                x *= Pow2(-1022 + 53); n += 1022 - 53;
                if (n < -1022) { x *= Pow2(-1022 + 53); n += 1022 - 53; if (n < -1022) n = -1022; }
            }
            return x * Pow2(n);
        }

        private static bool IsFinite(double x) => (Bits(x) & 0x7FF0000000000000UL) != 0x7FF0000000000000UL;
        private static bool IsNaN(double x) => x != x;

        /// <summary>x rounded to the nearest integer, ties to even, for |x| &lt; 2^51.</summary>
        private static double RoundToNearestSmall(double x)
        {
            const double Shifter = 6755399441055744.0; // 1.5 * 2^52
            return x >= 0 ? (x + Shifter) - Shifter : (x - Shifter) + Shifter;
        }

        // ---- square root ------------------------------------------------------------------------

        /// <summary>The correctly rounded square root, bit by bit on the significand.</summary>
        public static double SqrtExact(double d)
        {
            if (d != d || d == 0 || d == double.PositiveInfinity) return d;
            if (d < 0) return double.NaN;
            ulong bits = *(ulong*)&d;
            int exponent = (int)(bits >> 52);
            ulong mantissa = bits & 0xFFFFFFFFFFFFFUL;
            if (exponent == 0)
            {
                // Subnormal: normalise.
                exponent = 1;
                while ((mantissa & (1UL << 52)) == 0) { mantissa <<= 1; exponent--; }
            }
            else mantissa |= 1UL << 52;
            int e = exponent - 1075; // d = mantissa * 2^e
            if ((e & 1) != 0) { mantissa <<= 1; e--; }
                        // Work on a 128-bit radicand (hi:lo) = mantissa << 60 with the classic digit-by-digit method.
            ulong remHi = 0, rem = 0, root = 0;
            ulong radHi = mantissa >> 4, radLo = mantissa << 60;
            for (int i = 0; i < 64; i++)
            {
                // Bring down two bits.
                remHi = (remHi << 2) | (rem >> 62);
                rem = (rem << 2) | (radHi >> 62);
                radHi = (radHi << 2) | (radLo >> 62);
                radLo <<= 2;
                ulong trialHi = root >> 62, trial = (root << 2) | 1;
                root <<= 1;
                if (remHi > trialHi || (remHi == trialHi && rem >= trial))
                {
                    ulong borrow = rem < trial ? 1UL : 0UL;
                    rem -= trial;
                    remHi -= trialHi + borrow;
                    root |= 1;
                }
            }
            bool sticky = rem != 0 || remHi != 0;
            // root = floor(sqrt(mantissa * 2^60)) = sqrt(d) * 2^(30 - e/2), 57 bits; round to 53.
            int resultExponent = e / 2 - 30;
            int shift = 0;
            while ((root >> (53 + shift)) != 0) shift++;
            ulong kept = root >> shift;
            ulong dropped = root & ((1UL << shift) - 1);
            ulong half = 1UL << (shift - 1);
            if (dropped > half || (dropped == half && (sticky || (kept & 1) != 0))) kept++;
            resultExponent += shift;
            if (kept == 1UL << 53) { kept >>= 1; resultExponent++; }
            ulong resultBits = ((ulong)(resultExponent + 1075) << 52) | (kept & 0xFFFFFFFFFFFFFUL);
            return *(double*)&resultBits;
        }

        // ---- rounding functions -------------------------------------------------------------

        public static double Truncate(double x)
        {
            ulong bits = Bits(x);
            int exponent = (int)((bits >> 52) & 0x7FF) - 1023;
            if (exponent >= 52) return x; // integral, ∞ or NaN
            if (exponent < 0) return FromBits(bits & 0x8000000000000000UL);
            return FromBits(bits & ~(0xFFFFFFFFFFFFFUL >> exponent));
        }

        public static double Floor(double x)
        {
            double t = Truncate(x);
            return x < 0 && t != x ? t - 1 : t;
        }

        public static double Ceiling(double x)
        {
            double t = Truncate(x);
            return x > 0 && t != x ? t + 1 : t;
        }

        /// <summary>Modes as System.MidpointRounding: 0 ToEven, 1 AwayFromZero, 2 ToZero,
        /// 3 ToNegativeInfinity, 4 ToPositiveInfinity.</summary>
        public static double Round(double x, int mode)
        {
            switch (mode)
            {
                case 2: return Truncate(x);
                case 3: return Floor(x);
                case 4: return Ceiling(x);
            }
            double t = Truncate(x);
            double fraction = x - t; // exact
            double half = fraction < 0 ? -fraction : fraction;
            if (half > 0.5 || (half == 0.5 && (mode == 1 || Truncate(t * 0.5) * 2 != t)))
                return t + (x < 0 ? -1 : 1);
            return t;
        }

        // ---- exp ------------------------------------------------------------------------------

        private const double Ln2Hi = 0.6931471805598903, Ln2Mid = 5.49792301870721e-14, Ln2Lo = 1.1612227229362532e-26;
        private const double InvLn2 = 1.4426950408889634;

        /// <summary>exp(xh + xl) = 2^k (1 + uh + ul), for |xh| &lt; 1500.</summary>
        private static double ExpM1Scaled(double xh, double xl, out int k, out double ul)
        {
            double kd = RoundToNearestSmall(xh * InvLn2);
            k = (int)kd;
            // r = x - k ln2 (k ln2Hi and k ln2Mid are exact: 42-bit pieces, |k| < 2^11).
            double rh = Add(xh, xl, -kd * Ln2Hi, 0, out double rl);
            rh = Add(rh, rl, -kd * Ln2Mid, -kd * Ln2Lo, out rl);
            // expm1(r / 256) by its series, then (1 + u)^2 - 1 = 2u + u^2 eight times.
            double sh = rh * (1.0 / 256), sl = rl * (1.0 / 256);
            double s2 = sh * sh;
            double tail = s2 * sh * (1.0 / 6 + sh * (1.0 / 24 + sh * (1.0 / 120 + sh * (1.0 / 720 + sh * (1.0 / 5040)))));
            double hh = Multiply(sh, sl, sh * 0.5, sl * 0.5, out double hl); // s^2 / 2
            double uh = Add(sh, sl, hh, hl, out double u);
            uh = Add(uh, u, tail, 0, out u);
            for (int i = 0; i < 8; i++)
            {
                double qh = Multiply(uh, u, uh, u, out double ql);
                uh = Add(2 * uh, 2 * u, qh, ql, out u);
            }
            ul = u;
            return uh;
        }

        public static double Exp(double x)
        {
            if (IsNaN(x)) return x;
            if (x > 709.79) return double.PositiveInfinity;
            if (x < -745.2) return 0;
            if (x > -1e-20 && x < 1e-20) return 1 + x;
            double uh = ExpM1Scaled(x, 0, out int k, out double ul);
            double vh = Add(1, 0, uh, ul, out double vl);
            if (k > -1020) return ScaleB(vh + vl, k);
            // Subnormal result: round once, at the final scale.
            return ScaleB(vh, k) + ScaleB(vl, k);
        }

        // ---- log ------------------------------------------------------------------------------

        private const double ThirdHi = 0.3333333333333333, ThirdLo = 1.850371707708594e-17;

        /// <summary>log(x) as a double-double for finite x > 0.</summary>
        private static double LogDD(double x, out double lo)
        {
            int k = 0;
            if (x < 2.2250738585072014E-308) { x *= 18014398509481984.0; k = -54; } // 2^54
            ulong bits = Bits(x);
            k += (int)(bits >> 52) - 1023;
            double m = FromBits((bits & 0xFFFFFFFFFFFFFUL) | 0x3FF0000000000000UL); // [1, 2)
            if (m > 1.4142135623730951) { m *= 0.5; k++; }
            double f = m - 1; // exact (Sterbenz)
            double dh = TwoSum(2, f, out double dl);
            double sh = Divide(f, 0, dh, dl, out double sl);           // s = f / (2 + f)
            double zh = Multiply(sh, sl, sh, sl, out double zl);       // z = s^2 <= 0.0295
            // T = z/3 + z^2/5 + z^3 (1/7 + z/9 + ...)
            double z = zh;
            double rest = z * z * z * (1.0 / 7 + z * (1.0 / 9 + z * (1.0 / 11 + z * (1.0 / 13 + z * (1.0 / 15 + z * (1.0 / 17 + z * (1.0 / 19
                + z * (1.0 / 21 + z * (1.0 / 23 + z * (1.0 / 25 + z * (1.0 / 27 + z * (1.0 / 29 + z * (1.0 / 31)))))))))))));
            double th = Multiply(zh, zl, ThirdHi, ThirdLo, out double tl);
            double z2h = Multiply(zh, zl, zh, zl, out double z2l);
            double fifthH = Multiply(z2h, z2l, 0.2, 1.1102230246251566e-17, out double fifthL); // 1/5 = 0.2 + 1.11e-17
            th = Add(th, tl, fifthH, fifthL, out tl);
            th = Add(th, tl, rest, 0, out tl);
            // log m = 2 s (1 + T)
            double oneT = Add(1, 0, th, tl, out double oneTl);
            double lh = Multiply(2 * sh, 2 * sl, oneT, oneTl, out double ll);
            if (k == 0) { lo = ll; return lh; }
            double kh = Add(k * Ln2Hi, 0, k * Ln2Mid, k * Ln2Lo, out double kl);
            return Add(kh, kl, lh, ll, out lo);
        }

        public static double Log(double x)
        {
            if (IsNaN(x)) return x;
            if (x < 0) return double.NaN;
            if (x == 0) return double.NegativeInfinity;
            if (x == double.PositiveInfinity) return x;
            double h = LogDD(x, out double l);
            return h + l;
        }

        private const double InvLn10Hi = 0.4342944819032518, InvLn10Lo = 1.098319650216765e-17;
        private const double InvLn2Hi = 1.4426950408889634, InvLn2Lo = 2.0355273740931033e-17;

        public static double Log10(double x)
        {
            if (IsNaN(x)) return x;
            if (x < 0) return double.NaN;
            if (x == 0) return double.NegativeInfinity;
            if (x == double.PositiveInfinity) return x;
            double h = LogDD(x, out double l);
            h = Multiply(h, l, InvLn10Hi, InvLn10Lo, out l);
            return h + l;
        }

        public static double Log2(double x)
        {
            if (IsNaN(x)) return x;
            if (x < 0) return double.NaN;
            if (x == 0) return double.NegativeInfinity;
            if (x == double.PositiveInfinity) return x;
            double h = LogDD(x, out double l);
            h = Multiply(h, l, InvLn2Hi, InvLn2Lo, out l);
            return h + l;
        }

        /// <summary>log(x) in base b, as .NET's Math.Log(a, newBase) defines it.</summary>
        public static double Log(double a, double newBase)
        {
            if (IsNaN(a)) return a;
            if (IsNaN(newBase)) return newBase;
            if (newBase == 1) return double.NaN;
            if (a != 1 && (newBase == 0 || newBase == double.PositiveInfinity)) return double.NaN;
            return Log(a) / Log(newBase);
        }

        // ---- pow ------------------------------------------------------------------------------

        /// <summary>0 for a non-integer, 1 for an even integer, 2 for an odd integer.</summary>
        private static int IntegerKind(double y)
        {
            if (!IsFinite(y) || Truncate(y) != y) return 0;
            double a = y < 0 ? -y : y;
            if (a >= 9007199254740992.0) return 1; // 2^53 and beyond: even
            return ((long)a & 1) == 0 ? 1 : 2;
        }

        public static double Pow(double x, double y)
        {
            if (y == 0) return 1;
            if (x == 1) return 1;
            if (IsNaN(x) || IsNaN(y)) return double.NaN;
            double ax = x < 0 ? -x : x;
            if (y == double.PositiveInfinity || y == double.NegativeInfinity)
            {
                if (ax == 1) return 1;
                return (ax > 1) == (y > 0) ? double.PositiveInfinity : 0;
            }
            int kind = IntegerKind(y);
            bool negative = x < 0 || (x == 0 && (Bits(x) >> 63) != 0);
            double sign = negative && kind == 2 ? -1 : 1;
            if (x == 0) return y < 0 ? sign * double.PositiveInfinity : sign * 0.0;
            if (ax == double.PositiveInfinity) return y < 0 ? sign * 0.0 : sign * double.PositiveInfinity;
            if (x < 0 && kind == 0) return double.NaN;
            if (ax == 1) return sign; // (-1)^y: y is an integer here
            if (y > 1e200 || y < -1e200) // |y log x| is far out of range (|log x| >= 2^-53 here)
                return (ax > 1) == (y > 0) ? sign * double.PositiveInfinity : sign * 0.0;

            double lh = LogDD(ax, out double ll);
            double zh = Multiply(lh, ll, y, 0, out double zl);
            if (zh > 709.8) return sign * double.PositiveInfinity;
            if (zh < -745.2) return sign * 0.0;
            double uh = ExpM1Scaled(zh, zl, out int k, out double ul);
            double vh = Add(1, 0, uh, ul, out double vl);
            double result = k > -1020 ? ScaleB(vh + vl, k) : ScaleB(vh, k) + ScaleB(vl, k);
            return sign * result;
        }

        // ---- trigonometric --------------------------------------------------------------------

        private const double PiHi = 3.141592653589793, PiLo = 1.2246467991473532e-16;
        private const double PiOver2Hi = 1.5707963267948966, PiOver2Lo = 6.123233995736766e-17;
        private const double PiOver4Hi = 0.7853981633974483, PiOver4Lo = 3.061616997868383e-17;
        private const double TwoOverPi = 0.6366197723675814;
        // pi/2 in 33-bit pieces (n * piece exact for |n| < 2^20), then the rest.
        private const double PiOver2A = 1.5707963267341256, PiOver2B = 6.077100506303966e-11, PiOver2C = 2.0222662487111665e-21, PiOver2D = 8.4784276603689e-32;

        /// <summary>floor(2/pi * 2^1280), little-endian 32-bit words.</summary>
        private static readonly uint[] s_twoOverPi =
        {
            0x9AF4361D, 0xF0CFBC20, 0xFC7B6BAB, 0x56033046, 0x1F8D5D08, 0x6BFB5FB1, 0x8A5292EA, 0x3D0739F7, 0xEBE5F17B, 0x7527BAC7,
            0x9E5FEA2D, 0x4F463F66, 0x27CB09B7, 0x6D367ECF, 0x5A0A6D1F, 0xEF2F118B, 0xDE05980F, 0x1FF897FF, 0xBDF9283B, 0x9C845F8B,
            0x835339F4, 0x3991D639, 0xB45F7E41, 0xE99C7026, 0x2EBB4484, 0xE88235F5, 0xB129A73E, 0xFE1DEB1C, 0x09D1921C, 0x06492EEA,
            0x424DD2E0, 0xB7246E3A, 0xDEBBC561, 0xFE5163AB, 0x3C439041, 0xDB629599, 0xF534DDC0, 0xFC2757D1, 0x4E441529, 0xA2F9836E,
        };

        /// <summary>x = n pi/2 + r, |r| &lt;= pi/4 (a little more near the pieces' error); returns n mod 4.</summary>
        private static int Reduce(double x, out double rh, out double rl)
        {
            double ax = x < 0 ? -x : x;
            if (ax <= PiOver4Hi) { rh = x; rl = 0; return 0; }
            if (ax < 1647099.0) // 2^20 * pi/2
            {
                double n = RoundToNearestSmall(x * TwoOverPi);
                double h = Add(x, 0, -n * PiOver2A, 0, out double l);
                h = Add(h, l, -n * PiOver2B, 0, out l);
                h = Add(h, l, -n * PiOver2C, 0, out l);
                rh = Add(h, l, -n * PiOver2D, 0, out rl);
                return (int)((long)n & 3);
            }
            // Payne-Hanek: x = m 2^e, x * 2/pi = m * C * 2^(e - 1280), C = s_twoOverPi.
            ulong bits = Bits(ax);
            int e = (int)(bits >> 52) - 1075;
            ulong m = (bits & 0xFFFFFFFFFFFFFUL) | (1UL << 52);
            BigNum product = default;
            product.SetWords(s_twoOverPi);
            product.MultiplyUInt64(m);
            int point = 1280 - e; // the binary point of x * 2/pi in 'product'
            int quadrant = (int)(product.GetBits64(point) & 3);
            ulong f1 = product.GetBits64(point - 64), f0 = product.GetBits64(point - 128); // fraction, 128 bits
            bool negativeR = (f1 >> 63) != 0;
            if (negativeR)
            {
                // Round n up: the fraction becomes f - 1, kept as its magnitude 2^128 - f.
                quadrant = (quadrant + 1) & 3;
                f0 = ~f0 + 1;
                f1 = ~f1 + (f0 == 0 ? 1UL : 0UL);
            }
            // Normalise the 128-bit magnitude and take it as a double-double times 2^-128.
            int shift = 0;
            while (f1 == 0 && shift < 128) { f1 = f0; f0 = 0; shift += 64; }
            while ((f1 >> 63) == 0 && shift < 128) { f1 = (f1 << 1) | (f0 >> 63); f0 <<= 1; shift++; }
            double hi = (double)(f1 >> 11) * Pow2(-53);
            double lo = ((double)(f1 & 0x7FF) * Pow2(-64)) + (double)(f0 >> 11) * Pow2(-117);
            double fh = QuickTwoSum(hi, lo, out double fl);
            double scale = ScaleB(1, -shift);
            fh *= scale; fl *= scale;
            rh = Multiply(fh, fl, PiOver2Hi, PiOver2Lo, out rl);
            if (negativeR) { rh = -rh; rl = -rl; }
            if (x < 0) { rh = -rh; rl = -rl; quadrant = (4 - quadrant) & 3; }
            return quadrant;
        }

        private const double SixthHi = 0.16666666666666666, SixthLo = 9.25185853854297e-18;

        /// <summary>sin(rh + rl) for |r| &lt;= ~pi/4, as a double-double.</summary>
        private static double SinKernel(double rh, double rl, out double lo)
        {
            double zh = Multiply(rh, rl, rh, rl, out double zl);
            double z = zh;
            double q = z * (1.0 / 120 + z * (-1.0 / 5040 + z * (1.0 / 362880 + z * (-1.0 / 39916800 + z * (1.0 / 6227020800
                + z * (-1.0 / 1307674368000 + z * (1.0 / 355687428096000 + z * (-1.0 / 121645100408832000.0 + z * (1.0 / 51090942171709440000.0)))))))));
            double ph = Add(-SixthHi, -SixthLo, q, 0, out double pl);
            double th = Multiply(rh, rl, zh, zl, out double tl);
            th = Multiply(th, tl, ph, pl, out tl);
            return Add(rh, rl, th, tl, out lo);
        }

        /// <summary>cos(rh + rl) for |r| &lt;= ~pi/4, as a double-double.</summary>
        private static double CosKernel(double rh, double rl, out double lo)
        {
            double zh = Multiply(rh, rl, rh, rl, out double zl);
            double z = zh;
            double q = z * (1.0 / 24 + z * (-1.0 / 720 + z * (1.0 / 40320 + z * (-1.0 / 3628800 + z * (1.0 / 479001600
                + z * (-1.0 / 87178291200 + z * (1.0 / 20922789888000 + z * (-1.0 / 6402373705728000.0 + z * (1.0 / 2432902008176640000.0)))))))));
            double ph = Add(-0.5, 0, q, 0, out double pl);
            double th = Multiply(zh, zl, ph, pl, out double tl);
            return Add(1, 0, th, tl, out lo);
        }

        public static double Sin(double x)
        {
            if (!IsFinite(x)) return double.NaN;
            if (x == 0) return x;
            int n = Reduce(x, out double rh, out double rl);
            double h, l;
            switch (n)
            {
                case 0: h = SinKernel(rh, rl, out l); return h + l;
                case 1: h = CosKernel(rh, rl, out l); return h + l;
                case 2: h = SinKernel(rh, rl, out l); return -(h + l);
                default: h = CosKernel(rh, rl, out l); return -(h + l);
            }
        }

        public static double Cos(double x)
        {
            if (!IsFinite(x)) return double.NaN;
            int n = Reduce(x, out double rh, out double rl);
            double h, l;
            switch (n)
            {
                case 0: h = CosKernel(rh, rl, out l); return h + l;
                case 1: h = SinKernel(rh, rl, out l); return -(h + l);
                case 2: h = CosKernel(rh, rl, out l); return -(h + l);
                default: h = SinKernel(rh, rl, out l); return h + l;
            }
        }

        public static double Tan(double x)
        {
            if (!IsFinite(x)) return double.NaN;
            if (x == 0) return x;
            int n = Reduce(x, out double rh, out double rl);
            double sh = SinKernel(rh, rl, out double sl);
            double ch = CosKernel(rh, rl, out double cl);
            double h, l;
            if ((n & 1) == 0) h = Divide(sh, sl, ch, cl, out l);
            else h = Divide(-ch, -cl, sh, sl, out l);
            return h + l;
        }

        // ---- inverse trigonometric --------------------------------------------------------------

        /// <summary>atan(i/16), i = 0..16, as double-doubles (hi, lo).</summary>
        private static readonly double[] s_atanTable =
        {
            0.0, 0.0,
            0.06241880999595735, -1.5490756308295046e-18,
            0.12435499454676144, -3.1253241424539383e-18,
            0.18534794999569476, 4.180692268843079e-18,
            0.24497866312686414, 1.0698755618734451e-17,
            0.3028848683749714, -1.1010827903001369e-17,
            0.35877067027057225, -2.4623815582638635e-17,
            0.4124104415973873, -1.587652227770689e-17,
            0.4636476090008061, 2.2698777452961687e-17,
            0.5123894603107377, -2.5462781472855804e-17,
            0.5585993153435624, -5.4556305485916264e-18,
            0.6022873461349642, 2.950430737228402e-17,
            0.6435011087932844, 1.5834785051444286e-17,
            0.6823165548747481, 6.943223671560008e-18,
            0.7188299996216245, -2.1478388444456983e-17,
            0.7531512809621944, -2.4256934659182068e-17,
            0.7853981633974483, 3.061616997868383e-17,
        };

        /// <summary>atan(th + tl) for th >= 0 (finite, not huge), as a double-double.</summary>
        private static double AtanDD(double th, double tl, out double lo)
        {
            bool inverted = false;
            if (th > 1)
            {
                th = Divide(1, 0, th, tl, out tl);
                inverted = true;
            }
            int i = (int)(th * 16 + 0.5);
            double c = i * 0.0625;
            // u = (t - c) / (1 + t c), |u| <= 1/32
            double nh = Add(th, tl, -c, 0, out double nl);
            double mh = Multiply(th, tl, c, 0, out double ml);
            mh = Add(1, 0, mh, ml, out ml);
            double uh = Divide(nh, nl, mh, ml, out double ul);
            // atan(u) = u - u^3/3 + u^5 (1/5 - u^2/7 + ...)
            double u2h = Multiply(uh, ul, uh, ul, out double u2l);
            double z = u2h;
            double rest = z * (1.0 / 5 + z * (-1.0 / 7 + z * (1.0 / 9 + z * (-1.0 / 11 + z * (1.0 / 13 + z * (-1.0 / 15 + z * (1.0 / 17)))))));
            double ph = Add(-ThirdHi, -ThirdLo, rest, 0, out double pl); // -1/3 + u^2 (...)
            double qh = Multiply(u2h, u2l, ph, pl, out double ql);           // u^2 (-1/3 + ...)
            qh = Multiply(uh, ul, qh, ql, out ql);
            double ah = Add(uh, ul, qh, ql, out double al);
            ah = Add(s_atanTable[2 * i], s_atanTable[2 * i + 1], ah, al, out al);
            if (inverted) ah = Add(PiOver2Hi, PiOver2Lo, -ah, -al, out al);
            lo = al;
            return ah;
        }

        public static double Atan(double x)
        {
            if (IsNaN(x)) return x;
            double ax = x < 0 ? -x : x;
            if (ax < 1e-9) return x;
            if (ax > 1e17) return x < 0 ? -PiOver2Hi : PiOver2Hi;
            double h = AtanDD(ax, 0, out double l);
            h += l;
            return x < 0 ? -h : h;
        }

        public static double Atan2(double y, double x)
        {
            if (IsNaN(x) || IsNaN(y)) return double.NaN;
            bool yNegative = (Bits(y) >> 63) != 0, xNegative = (Bits(x) >> 63) != 0;
            double ay = yNegative ? -y : y, ax = xNegative ? -x : x;
            double result;
            if (ay == 0)
                result = xNegative ? PiHi : 0;
            else if (ax == 0)
                result = PiOver2Hi;
            else if (ay == double.PositiveInfinity)
                result = ax == double.PositiveInfinity ? (xNegative ? 2.356194490192345 : PiOver4Hi) : PiOver2Hi;
            else if (ax == double.PositiveInfinity)
                result = xNegative ? PiHi : 0;
            else
            {
                int ey = (int)(Bits(ay) >> 52), ex = (int)(Bits(ax) >> 52);
                if (ey - ex > 60)
                    result = PiOver2Hi; // atan(huge): pi/2 to the last bit
                else if (ex - ey > 60)
                {
                    // atan(tiny) is tiny; beside -pi it vanishes.
                    result = xNegative ? PiHi : ay / ax;
                }
                else
                {
                    // Bring x near 1 so the double-double steps cannot overflow or underflow.
                    int shift = 1023 - ex;
                    double sx = ScaleB(ax, shift), sy = ScaleB(ay, shift);
                    double th = Divide(sy, 0, sx, 0, out double tl);
                    double h = AtanDD(th, tl, out double l);
                    if (xNegative) h = Add(PiHi, PiLo, -h, -l, out l);
                    result = h + l;
                }
            }
            return yNegative ? -result : result;
        }

        public static double Asin(double x)
        {
            if (IsNaN(x)) return x;
            double ax = x < 0 ? -x : x;
            if (ax > 1) return double.NaN;
            if (ax < 1e-9) return x;
            double result;
            if (ax == 1) result = PiOver2Hi;
            else
            {
                // asin x = atan(x / sqrt((1 - x)(1 + x)))
                double ah = TwoSum(1, -ax, out double al);
                double bh = TwoSum(1, ax, out double bl);
                double ph = Multiply(ah, al, bh, bl, out double pl);
                double sh = Sqrt(ph, pl, out double sl);
                double th = Divide(ax, 0, sh, sl, out double tl);
                double h = AtanDD(th, tl, out double l);
                result = h + l;
            }
            return x < 0 ? -result : result;
        }

        public static double Acos(double x)
        {
            if (IsNaN(x)) return x;
            double ax = x < 0 ? -x : x;
            if (ax > 1) return double.NaN;
            if (x == 1) return 0;
            if (x == -1) return PiHi;
            if (ax < 1e-17) return PiOver2Hi;
            double ah = TwoSum(1, -ax, out double al);
            double bh = TwoSum(1, ax, out double bl);
            double ph = Multiply(ah, al, bh, bl, out double pl);
            double sh = Sqrt(ph, pl, out double sl);
            double th = Divide(sh, sl, ax, 0, out double tl); // acos |x| = atan(sqrt(1-x^2)/|x|)
            double h = AtanDD(th, tl, out double l);
            if (x < 0) h = Add(PiHi, PiLo, -h, -l, out l);
            return h + l;
        }

        // ---- hyperbolic ---------------------------------------------------------------------------

        /// <summary>e^a as 2^k (1 + u) for 0 &lt;= a; returns E = e^a - 1 as a double-double when k is small.</summary>
        private static double ExpM1DD(double a, out double lo)
        {
            double uh = ExpM1Scaled(a, 0, out int k, out double ul);
            if (k == 0) { lo = ul; return uh; }
            // 2^k (1 + u) - 1
            double s = Pow2(k);
            double vh = Add(1, 0, uh, ul, out double vl);
            return Add(vh * s, vl * s, -1, 0, out lo);
        }

        public static double Sinh(double x)
        {
            if (!IsFinite(x)) return x;
            double ax = x < 0 ? -x : x;
            if (ax < 1e-9) return x;
            if (ax > 711) return x < 0 ? double.NegativeInfinity : double.PositiveInfinity;
            double result;
            if (ax > 22)
            {
                // e^a / 2 (e^-a is below the last bit), scaled without overflowing early.
                double uh = ExpM1Scaled(ax, 0, out int k, out double ul);
                double vh = Add(1, 0, uh, ul, out double vl);
                result = ScaleB(vh + vl, k - 1);
            }
            else
            {
                // sinh a = E (E + 2) / (2 (E + 1)), E = e^a - 1: no cancellation for small a.
                double eh = ExpM1DD(ax, out double el);
                double ph = Add(eh, el, 2, 0, out double pl);
                double nh = Multiply(eh, el, ph, pl, out double nl);
                double dh = Add(eh, el, 1, 0, out double dl);
                double h = Divide(nh, nl, 2 * dh, 2 * dl, out double l);
                result = h + l;
            }
            return x < 0 ? -result : result;
        }

        public static double Cosh(double x)
        {
            if (IsNaN(x)) return x;
            double ax = x < 0 ? -x : x;
            if (ax > 711) return double.PositiveInfinity;
            if (ax > 22)
            {
                double uh = ExpM1Scaled(ax, 0, out int k, out double ul);
                double vh = Add(1, 0, uh, ul, out double vl);
                return ScaleB(vh + vl, k - 1);
            }
            // cosh a = 1 + E^2 / (2 (E + 1))
            double eh = ExpM1DD(ax, out double el);
            double sh = Multiply(eh, el, eh, el, out double sl);
            double dh = Add(eh, el, 1, 0, out double dl);
            double h = Divide(sh, sl, 2 * dh, 2 * dl, out double l);
            h = Add(1, 0, h, l, out l);
            return h + l;
        }

        public static double Tanh(double x)
        {
            if (IsNaN(x)) return x;
            double ax = x < 0 ? -x : x;
            double result;
            if (ax > 22) result = 1;
            else if (ax < 1e-9) return x;
            else
            {
                // tanh a = E / (E + 2), E = e^(2a) - 1
                double eh = ExpM1DD(2 * ax, out double el);
                double dh = Add(eh, el, 2, 0, out double dl);
                double h = Divide(eh, el, dh, dl, out double l);
                result = h + l;
            }
            return x < 0 ? -result : result;
        }
    }
}
