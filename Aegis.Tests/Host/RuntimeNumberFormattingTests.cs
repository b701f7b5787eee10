// Aegis.Runtime's number formatting (Internal.Numerics.NumberFormatter, compiled from the runtime's
// source) against .NET's own ToString in the invariant culture, on fixed cases and on random
// values: the same text, character for character. The one intended difference: infinities print
// as "∞" / "-∞" (the invariant culture says "Infinity").
using System.Globalization;
using Internal.Numerics;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class RuntimeNumberFormattingTests
{
    private static string Expected(IFormattable value, string format)
    {
        string text = value.ToString(format, CultureInfo.InvariantCulture);
        return text == "Infinity" ? "∞" : text == "-Infinity" ? "-∞" : text;
    }

    private static string Ours(double value, string format) => NumberFormatter.Format(NumericValue.FromDouble(value), format);
    private static string Ours(float value, string format) => NumberFormatter.Format(NumericValue.FromSingle(value), format);
    private static string Ours(long value, string format) => NumberFormatter.Format(NumericValue.FromSigned(value, (ulong)value), format);
    private static string Ours(ulong value, string format) => NumberFormatter.Format(NumericValue.FromUnsigned(value, value), format);

    [Test]
    public void TheIssuesExamplesPrintLikeDotNet()
    {
        Assert.That(Ours(1e20, null), Is.EqualTo("1E+20"));
        Assert.That(Ours(1e-9, null), Is.EqualTo("1E-09"));
        Assert.That(Ours(1e-7, null), Is.EqualTo("1E-07"));
        Assert.That(Ours(1.0 / 0, null), Is.EqualTo("∞"));
        Assert.That(Ours(-1.0 / 0, null), Is.EqualTo("-∞"));
        Assert.That(Ours(double.NaN, null), Is.EqualTo("NaN"));
        Assert.That(Ours(-0.0, null), Is.EqualTo("-0"));
        Assert.That(Ours(3.14159, "F2"), Is.EqualTo("3.14"));
        Assert.That(Ours(0.1 + 0.2, null), Is.EqualTo("0.30000000000000004"));
    }

    private static readonly string[] DoubleFormats =
        { "", "R", "G", "g", "G1", "G5", "G15", "G17", "G20", "E", "e", "E0", "E3", "E16", "E25", "F", "F0", "F2", "F5", "F20", "N", "N0", "N3", "P", "P0", "P4", "f1", "n1", "p1" };

    private static readonly double[] SpecialDoubles =
    {
        0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 2.5, 0.125, 0.375, 1e15, 1e16, 1e17, 1e20, 1e21, 1e22, 1e23, 1e-4, 1e-5, 1e-7, 1e-9,
        123456789012345680.0, 12345678901234567.0, 9007199254740993.0, double.MaxValue, double.MinValue, double.Epsilon,
        2.2250738585072014E-308, 2.2250738585072009E-308, 5e-324, 1.7976931348623157e308 / 3, 0.001, -0.001, 999.9999, 0.95, 0.05, 0.5e-2,
        double.PositiveInfinity, double.NegativeInfinity, double.NaN, 4.35, 2.675, 1234567.891, 100, 1e100, 9.999999999999999e22, 5e-5, 0.00015,
    };

    [Test]
    public void SpecialDoublesFormatLikeDotNetInEveryFormat()
    {
        foreach (double value in SpecialDoubles)
            foreach (string format in DoubleFormats)
                Assert.That(Ours(value, format), Is.EqualTo(Expected(value, format)), $"{value:R} \"{format}\"");
    }

    /// <summary>Random bit patterns (every exponent equally likely) and random short decimals.</summary>
    private static double RandomDouble(Random random)
    {
        switch (random.Next(4))
        {
            case 0: return BitConverter.Int64BitsToDouble(random.NextInt64());
            case 1: return BitConverter.Int64BitsToDouble(random.NextInt64()) is var d && double.IsFinite(d) ? d : 1.0;
            case 2: return Math.Round(random.NextDouble() * Math.Pow(10, random.Next(-8, 12)), random.Next(0, 10));
            default: return (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-30, 30));
        }
    }

    [Test]
    public void RandomDoublesPrintTheShortestRoundTripTextLikeDotNet()
    {
        var random = new Random(8);
        for (int i = 0; i < 120000; i++)
        {
            double value = RandomDouble(random);
            string ours = Ours(value, null);
            if (ours != Expected(value, null))
                Assert.Fail($"{BitConverter.DoubleToInt64Bits(value):X16}: ours {ours}, .NET {Expected(value, null)}");
        }
    }

    [Test]
    public void RandomDoublesFormatLikeDotNetInEveryStandardFormat()
    {
        var random = new Random(9);
        for (int i = 0; i < 40000; i++)
        {
            double value = RandomDouble(random);
            string format = DoubleFormats[random.Next(DoubleFormats.Length)];
            if (format.StartsWith("F") || format.StartsWith("N") || format.StartsWith("P") || format.StartsWith("f") || format.StartsWith("n") || format.StartsWith("p"))
                if (Math.Abs(value) > 1e30) value = Math.Abs(value) % 1e30;
            string ours = Ours(value, format);
            if (ours != Expected(value, format))
                Assert.Fail($"{BitConverter.DoubleToInt64Bits(value):X16} \"{format}\": ours {ours}, .NET {Expected(value, format)}");
        }
    }

    [Test]
    public void RandomFloatsFormatLikeDotNet()
    {
        var random = new Random(10);
        string[] formats = { "", "R", "G", "G3", "G9", "E", "E2", "F", "F3", "N1", "P" };
        foreach (float special in new[] { 1e9f, 1e8f, 123456789f, 1e-5f, 1e-4f, float.MaxValue, float.Epsilon, 1.17549435e-38f, 16777217f, 0.1f, -0f, float.NaN, float.PositiveInfinity })
            foreach (string format in formats)
                Assert.That(Ours(special, format), Is.EqualTo(Expected(special, format)), $"{special:R} \"{format}\"");
        for (int i = 0; i < 100000; i++)
        {
            float value = BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31));
            string format = i % 2 == 0 ? "" : formats[random.Next(formats.Length)];
            if (!format.StartsWith("F") && !format.StartsWith("N") && !format.StartsWith("P") || Math.Abs(value) < 1e20f)
            {
                string ours = Ours(value, format);
                if (ours != Expected(value, format))
                    Assert.Fail($"{BitConverter.SingleToInt32Bits(value):X8} \"{format}\": ours {ours}, .NET {Expected(value, format)}");
            }
        }
    }

    [Test]
    public void IntegersFormatLikeDotNetInEveryStandardFormat()
    {
        string[] formats = { "", "G", "G1", "G3", "G25", "D", "D1", "D10", "X", "x8", "X20", "B", "B70", "R", "E", "E0", "e2", "F", "F0", "F3", "N", "N0", "n4", "P", "P0", "P3" };
        var random = new Random(11);
        long[] specials = { 0, 1, -1, 5, 9, 10, 95, 99, 1235, -1250, 999999, long.MaxValue, long.MinValue, int.MaxValue, int.MinValue };
        for (int i = 0; i < 60000; i++)
        {
            long value = i < specials.Length ? specials[i] : random.NextInt64() >> random.Next(64);
            string format = formats[i % formats.Length];
            Assert.That(Ours(value, format), Is.EqualTo(Expected(value, format)), $"{value} \"{format}\"");
            ulong unsignedValue = (ulong)value;
            Assert.That(Ours(unsignedValue, format), Is.EqualTo(Expected(unsignedValue, format)), $"{unsignedValue} \"{format}\"");
        }
    }

    [Test]
    public void UnsupportedFormatsThrowFormatExceptionNamingTheFormat()
    {
        foreach (string format in new[] { "0.00", "#,##0", "Q", "X", "D", "C", "C2", "E1234567890" })
        {
            var error = Assert.Throws<FormatException>(() => Ours(1.5, format), format);
            Assert.That(error!.Message, Does.Contain(format.Length > 10 ? "precision" : format), format);
        }
        foreach (string format in new[] { "0.00", "Q", "C", "#" })
            Assert.Throws<FormatException>(() => Ours(15L, format), format);
    }

    [Test]
    public void TryFormatReportsATooSmallDestinationAndWritesNothingPastIt()
    {
        Span<char> small = stackalloc char[4];
        Assert.That(NumberFormatter.TryFormat(NumericValue.FromDouble(1e20), "", small, out int written), Is.False);
        Assert.That(written, Is.EqualTo(0));
        Span<char> exact = stackalloc char[5];
        Assert.That(NumberFormatter.TryFormat(NumericValue.FromDouble(1e20), "", exact, out written), Is.True);
        Assert.That(new string(exact.Slice(0, written)), Is.EqualTo("1E+20"));
        Assert.That(Ours(double.MaxValue, "F2").Length, Is.EqualTo(312)); // longer than the stack buffer
    }
}
