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
    }
}
