// Shared runtime tests of the library (run in the kernel and in ring 3): number formatting and
// parsing, Math, string.Format, collections. Each test is named after the behaviour it checks;
// the issue's examples ($"{1e20}" printed "1E+18+", $"{1e-9}" printed "0", ...) are here verbatim.
// Error paths are checked through the Try* APIs and, now that exceptions unwind, by catching
// what the throwing APIs throw (LibraryErrorsThrowCatchableExceptions).
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
            tests.Add(new SharedTest("MathSpecialValuesAreLikeDotNet", &MathSpecialValuesAreLikeDotNet));
            tests.Add(new SharedTest("MathFunctionsAreAccurate", &MathFunctionsAreAccurate));
            tests.Add(new SharedTest("MathRoundingFunctionsRoundLikeDotNet", &MathRoundingFunctionsRoundLikeDotNet));
            tests.Add(new SharedTest("StringFormatHonoursIndexAlignmentAndFormat", &StringFormatHonoursIndexAlignmentAndFormat));
            tests.Add(new SharedTest("HashSetKeepsOneOfEachItem", &HashSetKeepsOneOfEachItem));
            tests.Add(new SharedTest("QueueIsFirstInFirstOut", &QueueIsFirstInFirstOut));
            tests.Add(new SharedTest("StackIsLastInFirstOut", &StackIsLastInFirstOut));
            tests.Add(new SharedTest("ArraySortSortsWithEveryOverload", &ArraySortSortsWithEveryOverload));
            tests.Add(new SharedTest("LibraryErrorsThrowCatchableExceptions", &LibraryErrorsThrowCatchableExceptions));
            tests.Add(new SharedTest("OverlappingCopiesMoveEveryByteInBothDirections", &OverlappingCopiesMoveEveryByteInBothDirections));
            tests.Add(new SharedTest("BlockCopyCopiesFromSourceToDestination", &BlockCopyCopiesFromSourceToDestination));
        }

        /// <summary>Buffer.BlockCopy moves bytes from its first array to its second, at the offsets
        /// given, between arrays of different element types (it copied the other way round, which
        /// zeroed an ext2 image read into a block store inside the OS).</summary>
        private static string BlockCopyCopiesFromSourceToDestination()
        {
            byte[] source = new byte[16];
            for (int i = 0; i < source.Length; i++) source[i] = (byte)(i + 1);
            int[] destination = new int[4];
            Buffer.BlockCopy(source, 4, destination, 2, 8);
            byte[] back = new byte[16];
            Buffer.BlockCopy(destination, 0, back, 0, 16);
            for (int i = 0; i < 16; i++)
            {
                byte expected = i >= 2 && i < 10 ? (byte)(i + 3) : (byte)0;
                if (back[i] != expected) return "byte " + i.ToString() + " is " + back[i].ToString() + ", expected " + expected.ToString();
            }
            if (source[4] != 5 || source[11] != 12) return "the source changed";
            return null;
        }

        /// <summary>Array.Copy within one array (memmove) for every length 0..40 and shift 1..17 up
        /// and down: the result is what a copy through a separate buffer gives (the backward copy
        /// moves 8 bytes at a time after the odd tail bytes).</summary>
        private static string OverlappingCopiesMoveEveryByteInBothDirections()
        {
            byte[] data = new byte[80], expected = new byte[80], temporary = new byte[80];
            for (int length = 0; length <= 40; length++)
                for (int shift = 1; shift <= 17; shift++)
                    for (int direction = 0; direction < 2; direction++)
                    {
                        for (int i = 0; i < data.Length; i++) data[i] = expected[i] = (byte)(i * 7 + 3);
                        int source = direction == 0 ? 5 : 5 + shift, destination = direction == 0 ? 5 + shift : 5;
                        for (int i = 0; i < length; i++) temporary[i] = expected[source + i];
                        for (int i = 0; i < length; i++) expected[destination + i] = temporary[i];
                        Array.Copy(data, source, data, destination, length);
                        for (int i = 0; i < data.Length; i++)
                            if (data[i] != expected[i])
                                return "length " + length.ToString() + ", shift " + shift.ToString() + (direction == 0 ? " up" : " down")
                                    + ": byte " + i.ToString() + " is " + data[i].ToString() + ", expected " + expected[i].ToString();
                    }
            return null;
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
            short sh = -3; byte b = 200; uint u = 4000000000; ulong ul = 18446744073709551615; sbyte sb = -8; ushort us = 65535;
            return Check.Equal("[  2.50]", $"[{d,6:F2}]", "double right-aligned with format")
                ?? Check.Equal("[-3   |  C8|4,000,000,000|1.84E+019|-008|FFFF]", $"[{sh,-5}|{b,4:X}|{u:N0}|{ul:E2}|{sb:D3}|{us:X}]", "every integer type with alignment and format")
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
                ?? Check.True(!double.TryParse("1.2.3", out _) && !double.TryParse("", out _) && !double.TryParse("1e", out _) && !double.TryParse((string)null, out _), "malformed input is rejected")
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
                ?? Check.True(!int.TryParse("12a", out _) && !int.TryParse("", out _) && !int.TryParse("-", out _) && !int.TryParse((string)null, out _) && !int.TryParse("1 2", out _), "malformed input is rejected")
                ?? Check.True(!uint.TryParse("-1", out _), "a negative unsigned is rejected")
                ?? Check.True(okHex && hex == -1, "hex FFFFFFFF is -1")
                ?? Check.True(okULong && ulongMax == ulong.MaxValue, "ulong.MaxValue")
                ?? Check.True(!byte.TryParse("256", out _) && byte.Parse("255") == 255 && sbyte.Parse("-128") == -128 && short.Parse("-32768") == short.MinValue, "byte/sbyte/short ranges")
                ?? Check.Equal(1000000, int.Parse("1,000,000", System.Globalization.NumberStyles.Integer | System.Globalization.NumberStyles.AllowThousands), "thousands")
                ?? Check.Equal(long.MinValue, long.Parse("-9223372036854775808"), "long.MinValue");
        }

        private static string MathSpecialValuesAreLikeDotNet()
        {
            double inf = double.PositiveInfinity, nan = double.NaN;
            return Check.True(double.IsNaN(Math.Sqrt(-1)), "Sqrt(-1) is NaN")
                ?? Check.Equal(Bits(-0.0), Bits(Math.Sqrt(-0.0)), "Sqrt(-0) is -0")
                ?? Check.Equal(Bits(inf), Bits(Math.Sqrt(inf)), "Sqrt(∞)")
                ?? Check.Equal(Bits(1.0), Bits(Math.Pow(nan, 0)), "Pow(NaN, 0) is 1")
                ?? Check.Equal(Bits(1.0), Bits(Math.Pow(1, nan)), "Pow(1, NaN) is 1")
                ?? Check.True(double.IsNaN(Math.Pow(-8, 1.0 / 3)), "Pow of a negative to a non-integer is NaN")
                ?? Check.Equal(Bits(-inf), Bits(Math.Pow(-0.0, -3)), "Pow(-0, -3) is -∞")
                ?? Check.Equal(Bits(0.0), Bits(Math.Pow(2, -inf)), "Pow(2, -∞) is 0")
                ?? Check.Equal(Bits(-inf), Bits(Math.Log(0)), "Log(0) is -∞")
                ?? Check.True(double.IsNaN(Math.Log(-1)), "Log(-1) is NaN")
                ?? Check.Equal(Bits(0.0), Bits(Math.Exp(-inf)), "Exp(-∞) is 0")
                ?? Check.Equal(Bits(inf), Bits(Math.Exp(1000)), "Exp(1000) overflows to ∞")
                ?? Check.True(double.IsNaN(Math.Sin(inf)) && double.IsNaN(Math.Cos(-inf)) && double.IsNaN(Math.Tan(nan)), "trig of ∞/NaN is NaN")
                ?? Check.Equal(Bits(-0.0), Bits(Math.Sin(-0.0)), "Sin(-0) is -0")
                ?? Check.Equal(Bits(Math.PI), Bits(Math.Atan2(0.0, -0.0)), "Atan2(0, -0) is π")
                ?? Check.Equal(Bits(-Math.PI / 2), Bits(Math.Atan2(-1, 0)), "Atan2(-1, 0) is -π/2")
                ?? Check.True(double.IsNaN(Math.Asin(1.5)), "Asin(1.5) is NaN")
                ?? Check.True(double.IsNaN(Math.Max(nan, 1)) && double.IsNaN(Math.Min(1, nan)), "Max/Min propagate NaN")
                ?? Check.Equal(Bits(0.0), Bits(Math.Max(-0.0, 0.0)), "Max(-0, 0) is +0")
                ?? Check.Equal(Bits(-0.0), Bits(Math.Min(0.0, -0.0)), "Min(0, -0) is -0")
                ?? Check.Equal(Bits(0.0), Bits(Math.Abs(-0.0)), "Abs(-0) is +0")
                ?? Check.Equal(Bits(1.0), Bits(Math.Tanh(inf)), "Tanh(∞) is 1");
        }

        private static string MathFunctionsAreAccurate()
        {
            // Correctly rounded values (mpmath), compared bit for bit.
            return Check.Equal(Bits(1.4142135623730951), Bits(Math.Sqrt(2)), "Sqrt(2)")
                ?? Check.Equal(Bits(3.0), Bits(Math.Sqrt(9)), "Sqrt(9)")
                ?? Check.Equal(Bits(1024.0), Bits(Math.Pow(2, 10)), "Pow(2, 10)")
                ?? Check.Equal(Bits(1e15), Bits(Math.Pow(10, 15)), "Pow(10, 15)")
                ?? Check.Equal(Bits(3.0), Bits(Math.Pow(9, 0.5)), "Pow(9, 0.5)")
                ?? Check.Equal(Bits(2.718281828459045), Bits(Math.Exp(1)), "Exp(1)")
                ?? Check.Equal(Bits(0.6931471805599453), Bits(Math.Log(2)), "Log(2)")
                ?? Check.Equal(Bits(3.0), Bits(Math.Log10(1000)), "Log10(1000)")
                ?? Check.Equal(Bits(10.0), Bits(Math.Log2(1024)), "Log2(1024)")
                ?? Check.Equal(Bits(0.8414709848078965), Bits(Math.Sin(1)), "Sin(1)")
                ?? Check.Equal(Bits(0.5403023058681398), Bits(Math.Cos(1)), "Cos(1)")
                ?? Check.Equal(Bits(1.5574077246549023), Bits(Math.Tan(1)), "Tan(1)")
                ?? Check.Equal(Bits(1.2246467991473532e-16), Bits(Math.Sin(Math.PI)), "Sin(π) (π is not exact)")
                ?? Check.Equal(Bits(-0.8522008497671888), Bits(Math.Sin(1e22)), "Sin(1e22) (large argument)")
                ?? Check.Equal(Bits(-4.687165924254628E-19), Bits(Math.Cos(6381956970095103.0 * Math.ScaleB(1, 797))), "Cos of the hardest argument")
                ?? Check.Equal(Bits(0.7853981633974483), Bits(Math.Atan(1)), "Atan(1)")
                ?? Check.Equal(Bits(0.5235987755982989), Bits(Math.Asin(0.5)), "Asin(0.5)")
                ?? Check.Equal(Bits(1.0471975511965979), Bits(Math.Acos(0.5)), "Acos(0.5)")
                ?? Check.Equal(Bits(1.1752011936438014), Bits(Math.Sinh(1)), "Sinh(1)")
                ?? Check.Equal(Bits(1.5430806348152437), Bits(Math.Cosh(1)), "Cosh(1)")
                ?? Check.Equal(Bits(0.7615941559557649), Bits(Math.Tanh(1)), "Tanh(1)")
                ?? Check.Equal(Bits((double)1.41421354f), Bits((double)MathF.Sqrt(2f)), "MathF.Sqrt(2)")
                ?? Check.Equal(Bits((double)0.84147096f), Bits((double)MathF.Sin(1f)), "MathF.Sin(1)");
        }

        private static string MathRoundingFunctionsRoundLikeDotNet()
        {
            return Check.Equal(Bits(2.0), Bits(Math.Round(2.5)), "Round(2.5) is 2 (banker's)")
                ?? Check.Equal(Bits(4.0), Bits(Math.Round(3.5)), "Round(3.5) is 4")
                ?? Check.Equal(Bits(-2.0), Bits(Math.Round(-2.5)), "Round(-2.5) is -2")
                ?? Check.Equal(Bits(-0.0), Bits(Math.Round(-0.4)), "Round(-0.4) is -0")
                ?? Check.Equal(Bits(3.0), Bits(Math.Round(2.5, MidpointRounding.AwayFromZero)), "Round(2.5, AwayFromZero)")
                ?? Check.Equal(Bits(1.23), Bits(Math.Round(1.2345, 2)), "Round(1.2345, 2)")
                ?? Check.Equal(Bits(-3.0), Bits(Math.Floor(-2.5)), "Floor(-2.5)")
                ?? Check.Equal(Bits(-0.0), Bits(Math.Ceiling(-0.5)), "Ceiling(-0.5) is -0")
                ?? Check.Equal(Bits(2.0), Bits(Math.Truncate(2.9)), "Truncate(2.9)")
                ?? Check.Equal(Bits(-2.0), Bits(Math.Truncate(-2.9)), "Truncate(-2.9)")
                ?? Check.Equal(Bits(4503599627370497.0), Bits(Math.Floor(4503599627370497.0)), "Floor of an integral 2^52+1")
                ?? Check.Equal(Bits(1.0), Bits(Math.Round(0.5000000000000001)), "Round just above a half")
                ?? Check.Equal(-1, Math.Sign(-3.5), "Sign(-3.5)")
                ?? Check.Equal(5, Math.Max(3, 5), "Max(3, 5)")
                ?? Check.Equal(2147483647, Math.Abs(-2147483647), "Abs(-2147483647)");
        }

        private static string HashSetKeepsOneOfEachItem()
        {
            var set = new HashSet<int>();
            int added = 0;
            for (int i = 0; i < 2000; i++)
                if (set.Add(i % 700)) added++;
            string failure = Check.Equal(700, added, "distinct adds") ?? Check.Equal(700, set.Count, "Count");
            if (failure != null) return failure;
            for (int i = 0; i < 700; i += 2) set.Remove(i);
            int sum = 0;
            foreach (int item in set) sum += item;
            var words = new HashSet<string> { "alpha", "beta" };
            var other = new HashSet<int> { 1, 3, 5, 999 };
            other.IntersectWith(set);
            return Check.Equal(350, set.Count, "Count after removing the even items")
                ?? Check.Equal(122500, sum, "sum of the odd items below 700 by enumeration")
                ?? Check.True(set.Contains(699) && !set.Contains(698), "Contains")
                ?? Check.True(!words.Add("alpha") && words.Contains("beta") && !words.Contains("gamma"), "strings compare by value")
                ?? Check.Equal(3, other.Count, "IntersectWith");
        }

        private static string QueueIsFirstInFirstOut()
        {
            var queue = new Queue<int>();
            for (int i = 0; i < 100; i++) queue.Enqueue(i);
            for (int i = 0; i < 50; i++)
                if (queue.Dequeue() != i) return "Dequeue out of order at " + i.ToString();
            for (int i = 100; i < 300; i++) queue.Enqueue(i); // wraps around and grows
            int expected = 50;
            foreach (int item in queue)
                if (item != expected++) return "enumeration out of order at " + item.ToString();
            bool emptyRejected = true;
            var empty = new Queue<string>();
            emptyRejected = !empty.TryDequeue(out _) && !empty.TryPeek(out _);
            return Check.Equal(250, queue.Count, "Count")
                ?? Check.Equal(50, queue.Peek(), "Peek")
                ?? Check.True(queue.Contains(299) && !queue.Contains(49), "Contains")
                ?? Check.Equal(299, queue.ToArray()[249], "ToArray's last item")
                ?? Check.True(emptyRejected, "an empty queue has nothing to dequeue (Dequeue throws InvalidOperationException)");
        }

        private static string StackIsLastInFirstOut()
        {
            var stack = new Stack<string>();
            stack.Push("a"); stack.Push("b"); stack.Push("c");
            string order = "";
            foreach (string item in stack) order += item;
            string popped = stack.Pop() + stack.Pop();
            bool emptyRejected = stack.TryPop(out string last) && !stack.TryPop(out _) && !stack.TryPeek(out _);
            return Check.Equal("cba", order, "enumeration from the top")
                ?? Check.Equal("cb", popped, "Pop order")
                ?? Check.Equal("a", last, "TryPop")
                ?? Check.True(emptyRejected, "an empty stack has nothing to pop (Pop throws InvalidOperationException)")
                ?? Check.Equal(0, stack.Count, "Count");
        }

        private sealed class Descending : IComparer<int>
        {
            public int Compare(int x, int y) => y.CompareTo(x);
        }

        private static string ArraySortSortsWithEveryOverload()
        {
            ulong state = 12345;
            int[] numbers = new int[5000];
            for (int i = 0; i < numbers.Length; i++) numbers[i] = (int)(NextRandom(ref state) % 1000);
            Array.Sort(numbers);
            for (int i = 1; i < numbers.Length; i++)
                if (numbers[i - 1] > numbers[i]) return "Array.Sort(T[]) left " + numbers[i - 1].ToString() + " before " + numbers[i].ToString();
            // Already sorted and reversed input: the cases that make a naive quicksort quadratic.
            Array.Sort(numbers, new Descending());
            for (int i = 1; i < numbers.Length; i++)
                if (numbers[i - 1] < numbers[i]) return "Array.Sort(T[], IComparer) not descending";
            Array.Sort(numbers, (a, b) => a.CompareTo(b));
            for (int i = 1; i < numbers.Length; i++)
                if (numbers[i - 1] > numbers[i]) return "Array.Sort(T[], Comparison) not ascending";
            int[] part = { 9, 8, 7, 6, 5, 4, 3 };
            Array.Sort(part, 2, 3);
            string[] words = { "pear", "fig", "apple" };
            Array.Sort(words, string.CompareOrdinal);
            var list = new List<int> { 3, 1, 2 };
            list.Sort();
            return Check.Equal("9,8,5,6,7,4,3", string.Join(",", part[0].ToString(), part[1].ToString(), part[2].ToString(), part[3].ToString(), part[4].ToString(), part[5].ToString(), part[6].ToString()), "Array.Sort(T[], index, length)")
                ?? Check.Equal("apple fig pear", words[0] + " " + words[1] + " " + words[2], "strings")
                ?? Check.Equal("123", list[0].ToString() + list[1].ToString() + list[2].ToString(), "List<T>.Sort()")
                ?? Check.Equal(~1, Array.BinarySearch(new[] { 1, 3, 5 }, 2), "BinarySearch of a missing item")
                ?? Check.Equal(2, Array.BinarySearch(new[] { 1, 3, 5 }, 5), "BinarySearch");
        }

        private static string StringFormatHonoursIndexAlignmentAndFormat()
        {
            var builder = new System.Text.StringBuilder();
            builder.AppendFormat("{0:F1}/{1,3}", 0.25, 7);
            return Check.Equal("ab        |000000FF|{x}|   3.1", string.Format("{0,-10}|{1:X8}|{{x}}|{2,6:F1}", "ab", 255, 3.14159), "the issue's kind of format")
                ?? Check.Equal("b a b", string.Format("{1} {0} {1}", "a", "b"), "indexes in any order, repeated")
                ?? Check.Equal("[]", string.Format("[{0}]", (object)null), "null prints nothing")
                ?? Check.Equal("1.00E+020 50.0 %", string.Format("{0:E2} {1:P1}", 1e20, 0.5f), "floating-point formats")
                ?? Check.Equal("0.2/  7", builder.ToString(), "StringBuilder.AppendFormat (ties to even)");
        }
    
        /// <summary>What the library throws on bad input arrives as the exception .NET throws, and
        /// a catch of that type gets it (before exceptions unwound, each of these ended the program).</summary>
        private static string LibraryErrorsThrowCatchableExceptions()
        {
            string format = ThrownTypeName(() => int.Parse("12x"));
            string overflow = ThrownTypeName(() => byte.Parse("256"));
            string doubleFormat = ThrownTypeName(() => double.Parse("1.2.3"));
            string badComposite = ThrownTypeName(() => string.Format("{1}", "only one"));
            string customFormat = ThrownTypeName(() => 1.5.ToString("0.00"));
            string emptyQueue = ThrownTypeName(() => new Queue<int>().Dequeue());
            string emptyStack = ThrownTypeName(() => new Stack<int>().Pop());
            return Check.Equal("FormatException", format, "int.Parse(\"12x\")")
                ?? Check.Equal("OverflowException", overflow, "byte.Parse(\"256\")")
                ?? Check.Equal("FormatException", doubleFormat, "double.Parse(\"1.2.3\")")
                ?? Check.Equal("FormatException", badComposite, "string.Format with an index past the arguments")
                ?? Check.Equal("FormatException", customFormat, "a custom numeric format")
                ?? Check.Equal("InvalidOperationException", emptyQueue, "Dequeue on an empty queue")
                ?? Check.Equal("InvalidOperationException", emptyStack, "Pop on an empty stack");
        }

        /// <summary>The kind of exception 'action' throws (by catch clause, most specific first), or "none".</summary>
        private static string ThrownTypeName(Action action)
        {
            try { action(); }
            catch (FormatException) { return "FormatException"; }
            catch (OverflowException) { return "OverflowException"; }
            catch (InvalidOperationException) { return "InvalidOperationException"; }
            catch (Exception) { return "another exception"; }
            return "none";
        }
    }
}
