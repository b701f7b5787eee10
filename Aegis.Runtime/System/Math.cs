#pragma warning disable CS1718 // x != x is the NaN test
// System.Math and System.MathF with .NET's names and results: special values (NaN, ±∞, ±0) as
// .NET returns them; elementary functions from Internal.Numerics.MathCore (Math.Core.cs: within
// one unit in the last place of the exact value, almost always correctly rounded); Sqrt is the
// sqrtsd instruction (ILC expands [Intrinsic] Math.Sqrt; MathCore.SqrtExact is the exact fallback body).
// Floor/Ceiling/Truncate/Round work on the bits (the build targets x86-64 v1: no roundsd).
// MathF's functions are the double ones rounded to float (within one float ulp).
using System.Runtime.CompilerServices;
using Internal.Numerics;

namespace System
{
    public enum MidpointRounding
    {
        ToEven = 0,
        AwayFromZero = 1,
        ToZero = 2,
        ToNegativeInfinity = 3,
        ToPositiveInfinity = 4,
    }

    public static class Math
    {
        public const double PI = 3.14159265358979323846;
        public const double E = 2.7182818284590452354;
        public const double Tau = 6.283185307179586476925;

        public static int Max(int a, int b) => a > b ? a : b;
        public static int Min(int a, int b) => a < b ? a : b;
        public static long Max(long a, long b) => a > b ? a : b;
        public static long Min(long a, long b) => a < b ? a : b;
        public static uint Max(uint a, uint b) => a > b ? a : b;
        public static uint Min(uint a, uint b) => a < b ? a : b;
        public static ulong Max(ulong a, ulong b) => a > b ? a : b;
        public static ulong Min(ulong a, ulong b) => a < b ? a : b;
        public static short Max(short a, short b) => a > b ? a : b;
        public static short Min(short a, short b) => a < b ? a : b;
        public static ushort Max(ushort a, ushort b) => a > b ? a : b;
        public static ushort Min(ushort a, ushort b) => a < b ? a : b;
        public static byte Max(byte a, byte b) => a > b ? a : b;
        public static byte Min(byte a, byte b) => a < b ? a : b;
        public static sbyte Max(sbyte a, sbyte b) => a > b ? a : b;
        public static sbyte Min(sbyte a, sbyte b) => a < b ? a : b;
        public static nint Max(nint a, nint b) => a > b ? a : b;
        public static nint Min(nint a, nint b) => a < b ? a : b;
        public static nuint Max(nuint a, nuint b) => a > b ? a : b;
        public static nuint Min(nuint a, nuint b) => a < b ? a : b;

        /// <summary>NaN if either is NaN; +0 is larger than -0.</summary>
        public static double Max(double a, double b)
        {
            if (a != b) return a != a ? a : (b < a ? a : b);
            return double.IsNegative(b) ? a : b;
        }

        /// <summary>NaN if either is NaN; -0 is smaller than +0.</summary>
        public static double Min(double a, double b)
        {
            if (a != b) return a != a ? a : (a < b ? a : b);
            return double.IsNegative(a) ? a : b;
        }

        public static float Max(float a, float b)
        {
            if (a != b) return a != a ? a : (b < a ? a : b);
            return float.IsNegative(b) ? a : b;
        }

        public static float Min(float a, float b)
        {
            if (a != b) return a != a ? a : (a < b ? a : b);
            return float.IsNegative(a) ? a : b;
        }

        public static int Abs(int value) => value < 0 ? checked(-value) : value;
        public static long Abs(long value) => value < 0 ? checked(-value) : value;
        public static short Abs(short value) => value < 0 ? checked((short)-value) : value;
        public static sbyte Abs(sbyte value) => value < 0 ? checked((sbyte)-value) : value;
        public static nint Abs(nint value) => value < 0 ? checked(-value) : value;
        public static unsafe double Abs(double value) { ulong bits = *(ulong*)&value & 0x7FFFFFFFFFFFFFFFUL; return *(double*)&bits; }
        public static unsafe float Abs(float value) { uint bits = *(uint*)&value & 0x7FFFFFFFu; return *(float*)&bits; }

        public static int Sign(int value) => value > 0 ? 1 : value < 0 ? -1 : 0;
        public static int Sign(long value) => value > 0 ? 1 : value < 0 ? -1 : 0;
        public static int Sign(double value)
        {
            if (value != value) throw new ArithmeticException("Function does not accept floating point Not-a-Number values.");
            return value > 0 ? 1 : value < 0 ? -1 : 0;
        }
        public static int Sign(float value) => Sign((double)value);

        public static int Clamp(int value, int min, int max) => value < min ? min : value > max ? max : value;
        public static long Clamp(long value, long min, long max) => value < min ? min : value > max ? max : value;
        public static uint Clamp(uint value, uint min, uint max) => value < min ? min : value > max ? max : value;
        public static ulong Clamp(ulong value, ulong min, ulong max) => value < min ? min : value > max ? max : value;
        public static double Clamp(double value, double min, double max) => value < min ? min : value > max ? max : value;
        public static float Clamp(float value, float min, float max) => value < min ? min : value > max ? max : value;

        public static ulong DivRem(ulong a, ulong b, out ulong remainder) { ulong q = a / b; remainder = a - q * b; return q; }
        public static int DivRem(int a, int b, out int result) { int q = a / b; result = a - q * b; return q; }
        public static long DivRem(long a, long b, out long result) { long q = a / b; result = a - q * b; return q; }
        public static long BigMul(int a, int b) => (long)a * b;

        /// <summary>The sqrtsd instruction: ILC expands calls to this [Intrinsic] method; the body
        /// only runs if it did not (an exact software square root).</summary>
        [Intrinsic]
        public static double Sqrt(double d) => MathCore.SqrtExact(d);

        public static double Floor(double d) => MathCore.Floor(d);
        public static double Ceiling(double d) => MathCore.Ceiling(d);
        public static double Truncate(double d) => MathCore.Truncate(d);
        public static double Round(double a) => MathCore.Round(a, 0);
        public static double Round(double value, MidpointRounding mode) => MathCore.Round(value, CheckMode(mode));
        public static double Round(double value, int digits) => Round(value, digits, MidpointRounding.ToEven);

        public static double Round(double value, int digits, MidpointRounding mode)
        {
            if ((uint)digits > 15) throw new ArgumentOutOfRangeException(nameof(digits), "Rounding digits must be between 0 and 15, inclusive.");
            int m = CheckMode(mode);
            if (Abs(value) < 1e16)
            {
                double power10 = s_roundPower10[digits];
                value = MathCore.Round(value * power10, m) / power10;
            }
            return value;
        }

        private static readonly double[] s_roundPower10 = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };

        private static int CheckMode(MidpointRounding mode)
        {
            if ((uint)mode > 4) throw new ArgumentException("The value '" + ((int)mode).ToString() + "' is not a valid MidpointRounding.", nameof(mode));
            return (int)mode;
        }

        public static double Exp(double d) => MathCore.Exp(d);
        public static double Log(double d) => MathCore.Log(d);
        public static double Log(double a, double newBase) => MathCore.Log(a, newBase);
        public static double Log10(double d) => MathCore.Log10(d);
        public static double Log2(double d) => MathCore.Log2(d);
        public static double Pow(double x, double y) => MathCore.Pow(x, y);
        public static double Sin(double a) => MathCore.Sin(a);
        public static double Cos(double d) => MathCore.Cos(d);
        public static double Tan(double a) => MathCore.Tan(a);
        public static double Asin(double d) => MathCore.Asin(d);
        public static double Acos(double d) => MathCore.Acos(d);
        public static double Atan(double d) => MathCore.Atan(d);
        public static double Atan2(double y, double x) => MathCore.Atan2(y, x);
        public static double Sinh(double value) => MathCore.Sinh(value);
        public static double Cosh(double value) => MathCore.Cosh(value);
        public static double Tanh(double value) => MathCore.Tanh(value);
        public static double ScaleB(double x, int n) => MathCore.ScaleB(x, n);

        public static unsafe double CopySign(double x, double y)
        {
            ulong bits = (*(ulong*)&x & 0x7FFFFFFFFFFFFFFFUL) | (*(ulong*)&y & 0x8000000000000000UL);
            return *(double*)&bits;
        }

        // Checked floating-point conversions: ILC binds the JIT's overflow-checking conversion
        // helpers to these names (they are looked up whenever a method contains checked conversions).
        internal static int ConvertToInt32Checked(double value)
        {
            if (!(value > -2147483649.0 && value < 2147483648.0)) throw new OverflowException();
            return (int)value;
        }

        internal static uint ConvertToUInt32Checked(double value)
        {
            if (!(value > -1.0 && value < 4294967296.0)) throw new OverflowException();
            return (uint)value;
        }

        internal static long ConvertToInt64Checked(double value)
        {
            if (!(value >= -9223372036854775808.0 && value < 9223372036854775808.0)) throw new OverflowException();
            return (long)value;
        }

        internal static ulong ConvertToUInt64Checked(double value)
        {
            if (!(value > -1.0 && value < 18446744073709551616.0)) throw new OverflowException();
            return (ulong)value;
        }
    }

    public static class MathF
    {
        public const float PI = 3.14159265f;
        public const float E = 2.71828183f;
        public const float Tau = 6.283185307f;

        public static float Abs(float x) => Math.Abs(x);
        public static float Max(float x, float y) => Math.Max(x, y);
        public static float Min(float x, float y) => Math.Min(x, y);
        public static int Sign(float x) => Math.Sign(x);
        // A double square root rounded to float is the correctly rounded float square root.
        public static float Sqrt(float x) => (float)Math.Sqrt(x);
        public static float Floor(float x) => (float)MathCore.Floor(x);
        public static float Ceiling(float x) => (float)MathCore.Ceiling(x);
        public static float Truncate(float x) => (float)MathCore.Truncate(x);
        public static float Round(float x) => (float)MathCore.Round(x, 0);
        public static float Round(float x, MidpointRounding mode) => (float)Math.Round(x, mode);
        public static float Exp(float x) => (float)MathCore.Exp(x);
        public static float Log(float x) => (float)MathCore.Log(x);
        public static float Log10(float x) => (float)MathCore.Log10(x);
        public static float Log2(float x) => (float)MathCore.Log2(x);
        public static float Pow(float x, float y) => (float)MathCore.Pow(x, y);
        public static float Sin(float x) => (float)MathCore.Sin(x);
        public static float Cos(float x) => (float)MathCore.Cos(x);
        public static float Tan(float x) => (float)MathCore.Tan(x);
        public static float Asin(float x) => (float)MathCore.Asin(x);
        public static float Acos(float x) => (float)MathCore.Acos(x);
        public static float Atan(float x) => (float)MathCore.Atan(x);
        public static float Atan2(float y, float x) => (float)MathCore.Atan2(y, x);
        public static float Sinh(float x) => (float)MathCore.Sinh(x);
        public static float Cosh(float x) => (float)MathCore.Cosh(x);
        public static float Tanh(float x) => (float)MathCore.Tanh(x);
    }
}
