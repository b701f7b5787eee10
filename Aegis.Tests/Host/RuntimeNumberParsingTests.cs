// Aegis.Runtime's number parsing (Internal.Numerics.NumberParser, compiled from the runtime's
// source) against .NET's double/float/int/long parsers on fixed hard cases and random input,
// and the round trip parse(format(x)) == x bit for bit through the runtime's own formatter.
using System.Globalization;
using System.Text;
using Internal.Numerics;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class RuntimeNumberParsingTests
{
    private const NumberStyles FloatStyles = NumberStyles.Float | NumberStyles.AllowThousands;

    private static (int status, double value) OursDouble(string s, int styles = NumberParser.FloatStyle)
    {
        int status = NumberParser.ParseDouble(s, styles, out double value);
        return (status, value);
    }

    private static void AgreesWithDotNet(string s)
    {
        bool expectedOk = double.TryParse(s, FloatStyles, CultureInfo.InvariantCulture, out double expected);
        var (status, value) = OursDouble(s);
        Assert.That(status == NumberParser.Ok, Is.EqualTo(expectedOk), $"[{s}] accepted");
        if (expectedOk)
            Assert.That(BitConverter.DoubleToInt64Bits(value), Is.EqualTo(BitConverter.DoubleToInt64Bits(expected)), $"[{s}] ours {value:R}, .NET {expected:R}");
        bool expectedFloatOk = float.TryParse(s, FloatStyles, CultureInfo.InvariantCulture, out float expectedFloat);
        int floatStatus = NumberParser.ParseSingle(s, NumberParser.FloatStyle, out float ours);
        Assert.That(floatStatus == NumberParser.Ok, Is.EqualTo(expectedFloatOk), $"[{s}] accepted as float");
        if (expectedFloatOk)
            Assert.That(BitConverter.SingleToInt32Bits(ours), Is.EqualTo(BitConverter.SingleToInt32Bits(expectedFloat)), $"[{s}] float ours {ours:R}, .NET {expectedFloat:R}");
    }

    [Test]
    public void SyntaxIsAcceptedAndRejectedLikeDotNet()
    {
        foreach (string s in new[] { "1.5", " 1.5 ", "1,234.5", "1e400", "-1e400", "1e-400", "-0", "0", "Infinity", "-infinity", "+INFINITY", "NaN", "nan", "-NaN",
                     ".5", "5.", ".", "", " ", "1e", "1e+", "1e-5", "1E5", "0x10", "1_0", "+1", "++1", "-+1", "1 2", "1.2.3", "12,34,5", "1.5,5", ",5", "\t1\n", "1d", "1f",
                     "00000000000000000000000001.5", "0.000000000000000000000000000000000000000000001", "1e99999999999999", "1e-99999999999999", "-", "e5", "1.e5", ".e5" })
            AgreesWithDotNet(s);
    }

    [Test]
    public void InfinitySymbolsParseBack()
    {
        Assert.That(OursDouble("∞").value, Is.EqualTo(double.PositiveInfinity));
        Assert.That(OursDouble("-∞").value, Is.EqualTo(double.NegativeInfinity));
        Assert.That(OursDouble(" ∞ ").status, Is.EqualTo(NumberParser.Ok));
    }

    [Test]
    public void HardRoundingCasesAreCorrectlyRounded()
    {
        string[] cases =
        {
            "2.4703282292062327e-324", "2.4703282292062328e-324", "4.9406564584124654e-324", "2.2250738585072011e-308", "2.2250738585072012e-308",
            "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "9007199254740993", "9007199254740992.5", "9007199254740993.0000000000000000000000001",
            "0.1", "0.3", "123456789012345678901234567890", "1e23", "8.98846567431158e307", "4.35", "2.675", "3.4028235e38", "3.4028236e38", "1.4e-45", "7e-46", "7.0000001e-46",
            "2.2250738585072014E-308", "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791",
        };
        foreach (string s in cases) AgreesWithDotNet(s);
        // A halfway point with hundreds of digits, then nudged past it by a digit far away.
        var half = new StringBuilder("4.94065645841246544176568792868221372365059802614324764425585682500675507270208751865299836361635992379796564695445717730926656710355939796398774796010781878126300713190311404527845817167848982103688718636056998730723050006387409153564984387312473397273169615140031715385398074126238565591171026658556686768187039560310624931945271591492455329305456544401127480129709999541931989409080416563324524757147869014726780159355238611550134803526493472019379026810710749170333222684475333572083243193609238289345836806010601150616980975307834227731832924790498252473077637592724787465608477820373446969953364701797267771758512566055119913150489110145103786273816725095583738973359899366480994116420570263709027924276754456522908753868250641971826553344726562");
        AgreesWithDotNet(half.ToString() + "e-324");
        AgreesWithDotNet(half.ToString() + "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000001e-324");
        AgreesWithDotNet("0." + new string('0', 800) + "1e500");
        AgreesWithDotNet(new string('9', 1000));
        AgreesWithDotNet("1" + new string('0', 400) + "e-400");
    }

    [Test]
    public void RandomDecimalStringsParseLikeDotNet()
    {
        var random = new Random(12);
        var text = new StringBuilder();
        for (int i = 0; i < 60000; i++)
        {
            text.Clear();
            if (random.Next(4) == 0) text.Append('-');
            int digits = random.Next(1, i % 10 == 0 ? 60 : 20);
            int point = random.Next(digits + 1);
            for (int d = 0; d < digits; d++)
            {
                if (d == point && d > 0) text.Append('.');
                text.Append((char)('0' + random.Next(10)));
            }
            if (random.Next(3) != 0) text.Append('e').Append(random.Next(-345, 320));
            AgreesWithDotNet(text.ToString());
        }
    }

    [Test]
    public void EveryFormattedDoubleParsesBackToTheSameBits()
    {
        var random = new Random(13);
        for (int i = 0; i < 80000; i++)
        {
            double value = BitConverter.Int64BitsToDouble(random.NextInt64());
            if (double.IsNaN(value)) continue;
            string text = NumberFormatter.Format(NumericValue.FromDouble(value), i % 3 == 0 ? "E16" : "R");
            var (status, back) = OursDouble(text);
            if (status != NumberParser.Ok || BitConverter.DoubleToInt64Bits(back) != BitConverter.DoubleToInt64Bits(value))
                Assert.Fail($"{BitConverter.DoubleToInt64Bits(value):X16} printed {text}, parsed back {back:R} (status {status})");
        }
        for (int i = 0; i < 50000; i++)
        {
            float value = BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31));
            if (float.IsNaN(value)) continue;
            string text = NumberFormatter.Format(NumericValue.FromSingle(value), "R");
            int status = NumberParser.ParseSingle(text, NumberParser.FloatStyle, out float back);
            if (status != NumberParser.Ok || BitConverter.SingleToInt32Bits(back) != BitConverter.SingleToInt32Bits(value))
                Assert.Fail($"{BitConverter.SingleToInt32Bits(value):X8} printed {text}, parsed back {back:R}");
        }
    }

    private static int OursInt32(string s, NumberStyles styles, out int value)
    {
        int status = NumberParser.ParseInteger(s, (int)styles, int.MaxValue, 1UL << 31, 32, out ulong magnitude, out bool negative);
        value = status != NumberParser.Ok ? 0 : (styles & NumberStyles.AllowHexSpecifier) != 0 ? (int)(uint)magnitude : negative ? (int)(0 - magnitude) : (int)magnitude;
        return status;
    }

    private static int Classify(Action parse)
    {
        try { parse(); return NumberParser.Ok; }
        catch (FormatException) { return NumberParser.BadFormat; }
        catch (OverflowException) { return NumberParser.Overflow; }
    }

    [Test]
    public void IntegersParseLikeDotNetWithTheSameErrors()
    {
        string[] cases = { "12", " -12 ", "+12", "2147483647", "2147483648", "-2147483648", "-2147483649", "1,000", "0x10", "", " ", "-", "+", "12a", "１２", "-0", "00012",
            "99999999999999999999999", "-99999999999999999999999", "1 2", "--1", "\t7\r\n", "1.0", "7FFFFFFF", "80000000", "FFFFFFFF", "100000000", "0000000000000000000000000001" };
        foreach (NumberStyles styles in new[] { NumberStyles.Integer, NumberStyles.Integer | NumberStyles.AllowThousands, NumberStyles.HexNumber, NumberStyles.None })
            foreach (string s in cases)
            {
                int expectedStatus = Classify(() => int.Parse(s, styles, CultureInfo.InvariantCulture));
                int status = OursInt32(s, styles, out int value);
                Assert.That(status, Is.EqualTo(expectedStatus), $"[{s}] {styles}");
                if (status == NumberParser.Ok) Assert.That(value, Is.EqualTo(int.Parse(s, styles, CultureInfo.InvariantCulture)), $"[{s}] {styles}");
            }
        var random = new Random(14);
        for (int i = 0; i < 50000; i++)
        {
            long n = random.NextInt64() >> random.Next(64);
            string s = (random.Next(2) == 0 ? " " : "") + n.ToString(CultureInfo.InvariantCulture) + (random.Next(5) == 0 ? "x" : "");
            int expectedStatus = Classify(() => long.Parse(s, CultureInfo.InvariantCulture));
            int status = NumberParser.ParseInteger(s, NumberParser.IntegerStyle, long.MaxValue, 1UL << 63, 64, out ulong magnitude, out bool negative);
            Assert.That(status, Is.EqualTo(expectedStatus), s);
            if (status == NumberParser.Ok) Assert.That(negative ? (long)(0 - magnitude) : (long)magnitude, Is.EqualTo(n), s);
            int unsignedExpected = Classify(() => uint.Parse(s, CultureInfo.InvariantCulture));
            Assert.That(NumberParser.ParseInteger(s, NumberParser.IntegerStyle, uint.MaxValue, 0, 32, out _, out _), Is.EqualTo(unsignedExpected), "uint " + s);
        }
    }

    [Test]
    public void UnsupportedStylesThrowNotSupported()
    {
        Assert.Throws<NotSupportedException>(() => NumberParser.ParseInteger("(1)", (int)NumberStyles.AllowParentheses, 1, 1, 32, out _, out _));
        Assert.Throws<NotSupportedException>(() => NumberParser.ParseDouble("$1", (int)NumberStyles.Currency, out _));
    }
}
