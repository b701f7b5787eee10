// The kernel's console text rules (Aegis.Kernel/Core/ConsoleText.cs): UTF-8 from environments
// passes, controls and ill-formed sequences become '?', also across a split between two calls;
// the kernel's own UTF-16 text is encoded exactly as .NET's UTF-8 encoder does.
using System.Text;
using Aegis.Kernel.Core;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class ConsoleTextTests
{
    private static string Filtered(params byte[][] calls)
    {
        var filter = new Utf8ConsoleFilter();
        var all = new List<byte>();
        foreach (byte[] call in calls)
        {
            byte[] copy = (byte[])call.Clone();
            filter.Filter(copy);
            Assert.That(copy.Length, Is.EqualTo(call.Length));
            all.AddRange(copy);
        }
        return Encoding.UTF8.GetString(all.ToArray());
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [Test]
    public void WellFormedTextPassesUnchanged()
    {
        string text = "héllo, π ≈ 3.14, 日本, 🙂 ∞ -∞\tend\n";
        Assert.That(Filtered(Utf8(text)), Is.EqualTo(text));
    }

    [Test]
    public void ControlsAndForgeriesBecomeQuestionMarks()
    {
        Assert.That(Filtered(Utf8("a\rb\u001b[2Jc\u007fd")), Is.EqualTo("a?b?[2Jc?d"));
        Assert.That(Filtered(Utf8("nel:\u0085|csi:\u009b|ls:\u2028|ps:\u2029|rlo:\u202e|lri:\u2066|alm:\u061c|lrm:\u200e")),
            Is.EqualTo("nel:??|csi:??|ls:???|ps:???|rlo:???|lri:???|alm:??|lrm:???"));
    }

    [Test]
    public void IllFormedSequencesBecomeQuestionMarks()
    {
        Assert.That(Filtered(new byte[] { (byte)'a', 0x80, (byte)'b' }), Is.EqualTo("a?b"));          // stray continuation
        Assert.That(Filtered(new byte[] { 0xC0, 0xAF, 0xC1, 0xBF }), Is.EqualTo("????"));              // overlong
        Assert.That(Filtered(new byte[] { 0xE0, 0x80, 0xAF }), Is.EqualTo("???"));                    // overlong 3-byte
        Assert.That(Filtered(new byte[] { 0xED, 0xA0, 0x80 }), Is.EqualTo("???"));                    // a surrogate
        Assert.That(Filtered(new byte[] { 0xF4, 0x90, 0x80, 0x80 }), Is.EqualTo("????"));             // past U+10FFFF
        Assert.That(Filtered(new byte[] { 0xF5, 0xFF, (byte)'x' }), Is.EqualTo("??x"));
        Assert.That(Filtered(new byte[] { 0xE2, 0x82, (byte)'x' }), Is.EqualTo("??x"));               // cut short inside a call
    }

    [Test]
    public void ACharacterSplitAcrossCallsPasses()
    {
        byte[] euro = Utf8("€🙂");
        for (int cut = 0; cut <= euro.Length; cut++)
            Assert.That(Filtered(euro[..cut], euro[cut..]), Is.EqualTo("€🙂"), $"cut at {cut}");
    }

    [Test]
    public void ASplitThatDoesNotCompleteAnAllowedCharacterIsCut()
    {
        // NEL split: C2 went out with the first call; its 85 may not complete it.
        var filter = new Utf8ConsoleFilter();
        byte[] first = { (byte)'a', 0xC2 }, second = { 0x85, (byte)'b' };
        filter.Filter(first);
        filter.Filter(second);
        Assert.That(second, Is.EqualTo(new byte[] { (byte)'?', (byte)'b' }));
        // A lead byte followed in the next call by a non-continuation: that byte starts afresh.
        filter = new Utf8ConsoleFilter();
        first = new byte[] { 0xE2, 0x82 }; second = new byte[] { (byte)'z', 0xE2, 0x82, 0xAC };
        filter.Filter(first);
        filter.Filter(second);
        Assert.That(second, Is.EqualTo(new byte[] { (byte)'z', 0xE2, 0x82, 0xAC }));
    }

    [Test]
    public void RandomBytesNeverLeaveAControlOrAnIllFormedAllowedCharacter()
    {
        var random = new Random(31);
        for (int round = 0; round < 2000; round++)
        {
            byte[] bytes = new byte[random.Next(1, 40)];
            random.NextBytes(bytes);
            var filter = new Utf8ConsoleFilter();
            int cut = random.Next(bytes.Length + 1);
            byte[] a = bytes[..cut], b = bytes[cut..];
            filter.Filter(a);
            filter.Filter(b);
            byte[] output = a.Concat(b).ToArray();
            // Decode strictly: every well-formed character must be allowed; no C0/C1 control survives.
            string decoded = Encoding.UTF8.GetString(output);
            foreach (char c in decoded)
                Assert.That(c >= 0x20 && c != 0x7F && (c < 0x80 || c > 0x9F) && c != '\u2028' && c != '\u2029' && (c < '\u202a' || c > '\u202e') || c == '\n' || c == '\t' || c == '\ufffd' || char.IsSurrogate(c),
                    Is.True, $"0x{(int)c:X4} survived in {Convert.ToHexString(bytes)}");
        }
    }

    [Test]
    public void KernelTextIsEncodedLikeDotNetsUtf8Encoder()
    {
        byte[] buffer = new byte[8];
        foreach (string text in new[] { "plain", "héllo, π ≈ 3.14, 日本, 🙂", "\ud800x", "x\udc00", "\ud83d", "\ud83d\ud83d\ude42" })
        {
            var bytes = new List<byte>();
            char pending = '\0';
            foreach (char c in text)
            {
                int count = Utf8Text.Encode(c, ref pending, buffer);
                for (int i = 0; i < count; i++) bytes.Add(buffer[i]);
            }
            if (pending != '\0') { bytes.AddRange(Utf8("\ufffd")); } // a trailing lone high half, as the encoder would replace it
            Assert.That(bytes.ToArray(), Is.EqualTo(Encoding.UTF8.GetBytes(text)), text);
        }
    }
}
