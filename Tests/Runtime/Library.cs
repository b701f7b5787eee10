// Shared runtime tests of the library (run in the kernel and in ring 3): number formatting and
// parsing, Math, string.Format, collections. Each test is named after the behaviour it checks;
// the issue's examples ($"{1e20}" printed "1E+18+", $"{1e-9}" printed "0", ...) are here verbatim.
// Error paths are checked through the Try* APIs (a throw would end the suite).
using System;
using System.Collections.Generic;

namespace Aegis.RuntimeTests
{
    public static unsafe partial class SharedSuite
    {
        static partial void AddLibraryTests(List<SharedTest> tests)
        {
            tests.Add(new SharedTest("DoublesPrintLikeDotNet", &DoublesPrintLikeDotNet));
            tests.Add(new SharedTest("FloatFormatStringsAreHonoured", &FloatFormatStringsAreHonoured));
            tests.Add(new SharedTest("IntegerFormatStringsAreHonoured", &IntegerFormatStringsAreHonoured));
            tests.Add(new SharedTest("InterpolationHonoursAlignmentAndFormat", &InterpolationHonoursAlignmentAndFormat));
            tests.Add(new SharedTest("DoublesRoundTripThroughToStringAndParse", &DoublesRoundTripThroughToStringAndParse));
            tests.Add(new SharedTest("DoubleParseIsCorrectlyRounded", &DoubleParseIsCorrectlyRounded));
            tests.Add(new SharedTest("IntegerParseAcceptsAndRejectsLikeDotNet", &IntegerParseAcceptsAndRejectsLikeDotNet));
        }

        private static string DoublesPrintLikeDotNet()
        {
            double x = 1.0, zero = 0.0;
            return Check.Equal("1E+20", $"{1e20}", "1e20")
                ?? Check.Equal("1E-09", $"{1e-9}", "1e-9")
                ?? Check.Equal("1E-07", $"{1e-7}", "1e-7")
                ?? Check.Equal("∞", $"{x / zero}", "1.0/0")
                ?? Check.Equal("-∞", $"{-x / zero}", "-1.0/0")
                ?? Check.Equal("NaN", $"{zero / zero}", "0.0/0")
                ?? Check.Equal("-0", (-zero).ToString(), "-0.0")
                ?? Check.Equal("0.30000000000000004", (0.1 + 0.2).ToString(), "0.1 + 0.2")
                ?? Check.Equal("1.7976931348623157E+308", double.MaxValue.ToString(), "double.MaxValue")
                ?? Check.Equal("5E-324", double.Epsilon.ToString(), "double.Epsilon")
                ?? Check.Equal("1E+16", 1e16.ToString("G5"), "1e16 G5")
                ?? Check.Equal("10000000000000000", 1e16.ToString(), "1e16 switches to exponent only after 17 digits")
                ?? Check.Equal("1E+17", 1e17.ToString(), "1e17")
                ?? Check.Equal("0.0001", 0.0001.ToString(), "0.0001")
                ?? Check.Equal("1E-05", 0.00001.ToString(), "0.00001")
                ?? Check.Equal("3.4028235E+38", float.MaxValue.ToString(), "float.MaxValue")
                ?? Check.Equal("0.1", 0.1f.ToString(), "0.1f")
                ?? Check.Equal("1E+09", 1e9f.ToString(), "1e9f");
        }

        private static string FloatFormatStringsAreHonoured()
        {
            double x = 3.14159;
            return Check.Equal("3.14", $"{x:F2}", "x:F2")
                ?? Check.Equal("3", $"{x:F0}", "x:F0")
                ?? Check.Equal("2", 2.5.ToString("F0"), "2.5 F0 (ties to even, like .NET)")
                ?? Check.Equal("0.12", 0.125.ToString("F2"), "0.125 F2")
                ?? Check.Equal("3.141590E+000", x.ToString("E"), "E")
                ?? Check.Equal("3.14e+000", x.ToString("e2"), "e2")
                ?? Check.Equal("1,234,567.89", 1234567.891.ToString("N"), "N")
                ?? Check.Equal("314.16 %", x.ToString("P"), "P")
                ?? Check.Equal("3.1416", x.ToString("G5"), "G5")
                ?? Check.Equal("3.14159", x.ToString("R"), "R")
                ?? Check.Equal("-0.00", (-0.001).ToString("F2"), "-0.001 F2")
                ?? Check.Equal("3.14", 3.14159f.ToString("F2"), "float F2")
                ?? Check.Equal("0.10000000149011612", ((double)0.1f).ToString(), "(double)0.1f")
                ?? Check.Equal("179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.00",
                    double.MaxValue.ToString("F2"), "MaxValue F2 (longer than any stack buffer)");
        }

        private static string IntegerFormatStringsAreHonoured()
        {
            int n = 1234567;
            return Check.Equal("1,234,567", n.ToString("N0"), "N0")
                ?? Check.Equal("1234567.00", n.ToString("F"), "F")
                ?? Check.Equal("1.234567E+006", n.ToString("E"), "E")
                ?? Check.Equal("1.23E+06", n.ToString("G3"), "G3")
                ?? Check.Equal("123,456,700.00 %", n.ToString("P"), "P")
                ?? Check.Equal("0012D687", n.ToString("X8"), "X8")
                ?? Check.Equal("101", 5.ToString("B"), "B")
                ?? Check.Equal("-0042", (-42).ToString("D4"), "D4")
                ?? Check.Equal("FFFFFFFF", (-1).ToString("X"), "X of -1")
                ?? Check.Equal("-9,223,372,036,854,775,808", long.MinValue.ToString("N0"), "long.MinValue N0")
                ?? Check.Equal("18446744073709551615", ulong.MaxValue.ToString(), "ulong.MaxValue");
        }

        private static string InterpolationHonoursAlignmentAndFormat()
        {
            double d = 2.5;
            int i = 42;
            long l = -7;
            float f = 0.5f;
            return Check.Equal("[  2.50]", $"[{d,6:F2}]", "double right-aligned with format")
                ?? Check.Equal("[2.5   ]", $"[{d,-6}]", "double left-aligned")
                ?? Check.Equal("[  002A]", $"[{i,6:X4}]", "int hex aligned")
                ?? Check.Equal("[-7   ]", $"[{l,-5}]", "long left-aligned")
                ?? Check.Equal("[50.0 %]", $"[{f:P1}]", "float percent")
                ?? Check.Equal("[     ∞]", $"[{d / 0,6}]", "infinity aligned");
        }

        /// <summary>A deterministic pseudo-random 64-bit sequence (xorshift64*).</summary>
        private static ulong NextRandom(ref ulong state)
        {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            return state * 2685821657736338717UL;
        }

        private static string DoublesRoundTripThroughToStringAndParse()
        {
            ulong state = 0x9E3779B97F4A7C15UL;
            for (int i = 0; i < 3000; i++)
            {
                ulong bits = NextRandom(ref state);
                double value = *(double*)&bits;
                if (double.IsNaN(value)) continue;
                string text = value.ToString();
                if (!double.TryParse(text, out double back) || *(ulong*)&back != bits)
                    return "0x" + bits.ToString("X16") + " printed \"" + text + "\" parsed back as 0x" + (*(ulong*)&back).ToString("X16");
                uint singleBits = (uint)bits;
                float single = *(float*)&singleBits;
                if (float.IsNaN(single)) continue;
                text = single.ToString();
                if (!float.TryParse(text, out float singleBack) || *(uint*)&singleBack != singleBits)
                    return "float 0x" + singleBits.ToString("X8") + " printed \"" + text + "\" did not parse back";
            }
            return null;
        }

        private static string Bits(double value) => "0x" + (*(ulong*)&value).ToString("X16");

        private static string DoubleParseIsCorrectlyRounded()
        {
            double big = double.Parse("1.7976931348623157e308"), tiny = double.Parse("4.9406564584124654e-324");
            return Check.Equal(Bits(0.1), Bits(double.Parse("0.1")), "0.1")
                ?? Check.Equal(Bits(9007199254740992.0), Bits(double.Parse("9007199254740993")), "2^53+1 ties to even (down)")
                ?? Check.Equal(Bits(9007199254740996.0), Bits(double.Parse("9007199254740995")), "2^53+3 ties to even (up)")
                ?? Check.Equal(Bits(9007199254740994.0), Bits(double.Parse("9007199254740993.000000000000000000001")), "just above the tie rounds up")
                ?? Check.Equal(Bits(double.MaxValue), Bits(big), "MaxValue")
                ?? Check.Equal(Bits(double.Epsilon), Bits(tiny), "Epsilon")
                ?? Check.Equal(Bits(0.0), Bits(double.Parse("2.4703282292062327e-324")), "half of Epsilon ties to 0")
                ?? Check.Equal(Bits(double.Epsilon), Bits(double.Parse("2.4703282292062328e-324")), "just above half of Epsilon")
                ?? Check.Equal(Bits(double.PositiveInfinity), Bits(double.Parse("1e400")), "overflow is infinity")
                ?? Check.Equal(Bits(-0.0), Bits(double.Parse("-0")), "-0 keeps its sign")
                ?? Check.Equal(Bits(1234.5), Bits(double.Parse(" 1,234.5 ")), "whitespace and thousands")
                ?? Check.Equal(Bits(double.NegativeInfinity), Bits(double.Parse("-∞")), "-∞ parses back")
                ?? Check.True(double.IsNaN(double.Parse("NaN")), "NaN")
                ?? Check.True(!double.TryParse("1.2.3", out _) && !double.TryParse("", out _) && !double.TryParse("1e", out _) && !double.TryParse(null, out _), "malformed input is rejected")
                ?? Check.Equal(Bits(3.4028234663852886E+38), Bits(float.Parse("3.4028235e38")), "float.MaxValue");
        }

        private static string IntegerParseAcceptsAndRejectsLikeDotNet()
        {
            bool okMax = int.TryParse("2147483647", out int max);
            bool okMin = int.TryParse(" -2147483648 ", out int min);
            bool okHex = int.TryParse("FFFFFFFF", System.Globalization.NumberStyles.HexNumber, null, out int hex);
            bool okULong = ulong.TryParse("18446744073709551615", out ulong ulongMax);
            return Check.Equal(42, int.Parse("42"), "42")
                ?? Check.Equal(-17, int.Parse("  -17\t"), "whitespace and sign")
                ?? Check.Equal(12, int.Parse("+12"), "plus sign")
                ?? Check.True(okMax && max == int.MaxValue, "int.MaxValue")
                ?? Check.True(okMin && min == int.MinValue, "int.MinValue")
                ?? Check.True(!int.TryParse("2147483648", out _), "overflow is rejected")
                ?? Check.True(!int.TryParse("-2147483649", out _), "underflow is rejected")
                ?? Check.True(!int.TryParse("12a", out _) && !int.TryParse("", out _) && !int.TryParse("-", out _) && !int.TryParse(null, out _) && !int.TryParse("1 2", out _), "malformed input is rejected")
                ?? Check.True(!uint.TryParse("-1", out _), "a negative unsigned is rejected")
                ?? Check.True(okHex && hex == -1, "hex FFFFFFFF is -1")
                ?? Check.True(okULong && ulongMax == ulong.MaxValue, "ulong.MaxValue")
                ?? Check.True(!byte.TryParse("256", out _) && byte.Parse("255") == 255 && sbyte.Parse("-128") == -128 && short.Parse("-32768") == short.MinValue, "byte/sbyte/short ranges")
                ?? Check.Equal(1000000, int.Parse("1,000,000", System.Globalization.NumberStyles.Integer | System.Globalization.NumberStyles.AllowThousands), "thousands")
                ?? Check.Equal(long.MinValue, long.Parse("-9223372036854775808"), "long.MinValue");
        }
    }
}
