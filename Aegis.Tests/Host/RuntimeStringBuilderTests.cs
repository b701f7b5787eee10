// Tests of Aegis.Runtime's StringBuilder: inside this assembly the runtime's source replaces the BCL's.
using System.Text;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class RuntimeStringBuilderTests
{
    [Test]
    public void TheRuntimeSourceIsTheOneUnderTest()
        => Assert.That(typeof(StringBuilder).Assembly, Is.SameAs(typeof(RuntimeStringBuilderTests).Assembly));

    [Test]
    public void AppendsTextCharsAndNumbers()
    {
        StringBuilder builder = new();
        builder.Append("frames=").Append(42).Append(' ').Append(-7L).Append(' ').Append(ulong.MaxValue)
            .Append(' ').Append(true).Append(' ').Append((byte)255).Append('x', 3);
        Assert.That(builder.ToString(), Is.EqualTo("frames=42 -7 18446744073709551615 True 255xxx"));
    }

    [Test]
    public void GrowsPastItsCapacity()
    {
        StringBuilder builder = new(2);
        for (int i = 0; i < 1000; i++) builder.Append((char)('a' + i % 26));
        Assert.That(builder.Length, Is.EqualTo(1000));
        Assert.That(builder.Capacity, Is.GreaterThanOrEqualTo(1000));
        Assert.That(builder.ToString()[999], Is.EqualTo((char)('a' + 999 % 26)));
    }

    [Test]
    public void NullAppendsNothing()
    {
        StringBuilder builder = new("a");
        builder.Append((string)null!).Append((object)null!);
        Assert.That(builder.ToString(), Is.EqualTo("a"));
        Assert.That(new StringBuilder((string)null!).ToString(), Is.EqualTo(""));
    }

    [Test]
    public void NegativeRepeatCountThrows()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new StringBuilder().Append('x', -1));

    [Test]
    public void InsertPutsTextAtTheIndex()
    {
        StringBuilder builder = new("ad");
        builder.Insert(1, "bc").Insert(0, ">").Insert(5, "<").Insert(2, "");
        Assert.That(builder.ToString(), Is.EqualTo(">abcd<"));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Insert(7, "x"));
    }

    [Test]
    public void RemoveCutsARange()
    {
        StringBuilder builder = new("0123456789");
        builder.Remove(2, 3).Remove(0, 1).Remove(6, 0);
        Assert.That(builder.ToString(), Is.EqualTo("156789"));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Remove(4, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Remove(-1, 1));
    }

    [Test]
    public void LengthTruncatesAndPadsWithNul()
    {
        StringBuilder builder = new("abcdef");
        builder.Length = 2;
        Assert.That(builder.ToString(), Is.EqualTo("ab"));
        builder.Length = 4;
        Assert.That(builder.ToString(), Is.EqualTo("ab\0\0"));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.Length = -1);
    }

    [Test]
    public void IndexerReadsAndWritesWithinLength()
    {
        StringBuilder builder = new("abc");
        builder[1] = 'X';
        Assert.That(builder[1], Is.EqualTo('X'));
        Assert.That(builder.ToString(), Is.EqualTo("aXc"));
        Assert.Throws<IndexOutOfRangeException>(() => _ = builder[3]);
        Assert.Throws<IndexOutOfRangeException>(() => builder[-1] = 'x');
    }

    [Test]
    public void ClearAndAppendLine()
    {
        StringBuilder builder = new("old");
        builder.Clear().AppendLine("one").AppendLine().Append("two");
        Assert.That(builder.ToString(), Is.EqualTo("one\n\ntwo"));
    }

    [Test]
    public void AppendSpanCopiesIt()
    {
        StringBuilder builder = new();
        builder.Append("hello world".AsSpan(6, 5));
        Assert.That(builder.ToString(), Is.EqualTo("world"));
    }
}
