// Aegis.Runtime's composite formatting (Internal.Numerics.CompositeFormatter, the code behind its
// string.Format and StringBuilder.AppendFormat) against .NET's string.Format in the invariant culture.
using System.Globalization;
using Internal.Numerics;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class RuntimeNumberCompositeFormatTests
{
    private static string Ours(string format, params object[] args) => CompositeFormatter.Format(CultureInfo.InvariantCulture, format, args);
    private static string Theirs(string format, params object[] args) => string.Format(CultureInfo.InvariantCulture, format, args);

    [Test]
    public void ItemsAlignmentsFormatsAndEscapesComeOutLikeDotNet()
    {
        object[] args = { "ab", 255, 3.14159, -7L, null!, 'c', 1e20, true };
        foreach (string format in new[] { "{0}", "{0,-10}|", "{1:X8}", "{{x}}", "}}{{", "{2,6:F1}", "{2:E2}", "{3,5}", "[{4}]", "{5}{0}{5}", "{6}", "{1,-6:D4}|", "{0 ,3}", "{0, 3}",
                     "a{1:N0}b", "{2:P}", "{7}", "{1,0}", "{1:}", "{2:G3}", "", "no items", "{0}{1}{2}{3}{4}{5}{6}{7}", "{1:x}" })
            Assert.That(Ours(format, args), Is.EqualTo(Theirs(format, args)), format);
    }

    [Test]
    public void MalformedFormatsThrowFormatExceptionLikeDotNet()
    {
        object[] args = { 1, 2 };
        foreach (string format in new[] { "{", "}", "{0", "{a}", "{0,}", "{0,-}", "{0:{}", "x}y", "{2}", "{-1}", "{0,a}", "{}", "{ 0 }" })
        {
            Assert.Throws<FormatException>(() => Theirs(format, args), "precondition: .NET rejects " + format);
            Assert.Throws<FormatException>(() => Ours(format, args), format);
        }
        Assert.Throws<ArgumentNullException>(() => Ours(null!, args));
    }
}
