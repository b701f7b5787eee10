// PS/2 scan-code set 1 to the bytes a Linux console sends (LibOS.Unixish/Linux/Terminal/
// ScanCodes.cs): letters, Shift, Caps Lock, Ctrl, Alt, releases, the 0xE0 keys (arrows, the
// navigation block), the keypad with and without Num Lock, function keys, Pause.
using System.Text;
using Aegis.LibOS.Unixish.Linux;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class LinuxTerminalScanCodeTests
{
    private static string Keys(ScanCodeTranslator t, params byte[] codes)
    {
        var text = new StringBuilder();
        byte[] output = new byte[ScanCodeTranslator.MaximumOutput];
        foreach (byte code in codes)
        {
            int n = t.Translate(code, output);
            for (int i = 0; i < n; i++) text.Append((char)output[i]);
        }
        return text.ToString();
    }

    private static string Keys(params byte[] codes) => Keys(new ScanCodeTranslator(), codes);

    [Test]
    public void LettersDigitsAndPunctuationOfTheUsLayout()
    {
        // h e l l o (press and release each), space, 1, -, =, [, ;, ', `, \, comma, /
        Assert.That(Keys(0x23, 0xA3, 0x12, 0x92, 0x26, 0xA6, 0x26, 0xA6, 0x18, 0x98), Is.EqualTo("hello"));
        Assert.That(Keys(0x39, 0x02, 0x0C, 0x0D, 0x1A, 0x27, 0x28, 0x29, 0x2B, 0x33, 0x35), Is.EqualTo(" 1-=[;'`\\,/"));
    }

    [Test]
    public void EnterBackspaceTabAndEscapeSendWhatALinuxConsoleSends()
    {
        Assert.That(Keys(0x1C, 0x0E, 0x0F, 0x01), Is.EqualTo("\r\u007f\t\u001b"));
    }

    [Test]
    public void ShiftGivesCapitalsAndSymbolsUntilReleased()
    {
        Assert.That(Keys(0x2A, 0x23, 0x02, 0x28, 0xAA, 0x23), Is.EqualTo("H!\"h"));
        Assert.That(Keys(0x36, 0x1E, 0x0D, 0xB6, 0x1E), Is.EqualTo("A+a"), "right shift");
    }

    [Test]
    public void CapsLockAffectsLettersOnlyAndShiftInvertsIt()
    {
        var t = new ScanCodeTranslator();
        Assert.That(Keys(t, 0x3A, 0xBA, 0x1E, 0x02), Is.EqualTo("A1"));
        Assert.That(t.CapsLock, Is.True);
        Assert.That(Keys(t, 0x2A, 0x1E, 0xAA), Is.EqualTo("a"));
        Assert.That(Keys(t, 0x3A, 0x1E), Is.EqualTo("a"), "pressed again: off");
    }

    [Test]
    public void CtrlGivesControlBytes()
    {
        Assert.That(Keys(0x1D, 0x2E, 0x20, 0x16, 0x9D, 0x2E), Is.EqualTo("\u0003\u0004\u0015c"), "^C ^D ^U, then c after release");
        Assert.That(Keys(0x1D, 0x2B, 0x2C, 0x39), Is.EqualTo("\u001c\u001a\u0000"), "^\\ ^Z ^@");
        Assert.That(Keys(0xE0, 0x1D, 0x2E, 0xE0, 0x9D, 0x2E), Is.EqualTo("\u0003c"), "right Ctrl");
    }

    /// <summary>The terminal's look-ahead for ^C (Terminal.ServiceSignalKeys) translates the ring's
    /// bytes with a copy: the copy goes on from the original's held keys, and the original stays.</summary>
    [Test]
    public void ACopyTranslatesOnFromTheOriginalsHeldKeysWithoutChangingIt()
    {
        var original = new ScanCodeTranslator();
        Assert.That(Keys(original, 0x1D, 0x2A), Is.EqualTo(""), "Ctrl and Shift held");
        var copy = new ScanCodeTranslator();
        copy.CopyFrom(original);
        Assert.That(Keys(copy, 0x2E, 0x9D, 0xAA, 0x2E), Is.EqualTo("\u0003c"), "the copy: ^C, then c after the releases");
        Assert.That(original.Ctrl && original.Shift, Is.True, "the original still holds both");
        Assert.That(Keys(original, 0x2E), Is.EqualTo("\u0003"));
    }

    [Test]
    public void ReleasedModifiersMakeAPlainKeyPlainAndKeepTheLocks()
    {
        var t = new ScanCodeTranslator();
        Assert.That(Keys(t, 0x3A, 0xBA, 0x1D, 0x38, 0xE0), Is.EqualTo(""), "Caps Lock on, Ctrl and Alt held, a prefix pending");
        t.ReleaseModifiers();
        Assert.That(t.Ctrl || t.Alt || t.Shift, Is.False);
        Assert.That(Keys(t, 0x2E), Is.EqualTo("C"), "c with Caps Lock, not ESC ^C, and not read as an extended key");
    }

    [Test]
    public void AltSendsEscapeFirst()
    {
        Assert.That(Keys(0x38, 0x2D, 0xB8, 0x2D), Is.EqualTo("\u001bxx"));
        Assert.That(Keys(0xE0, 0x38, 0x2D), Is.EqualTo("\u001bx"), "right Alt");
    }

    [Test]
    public void ArrowsAreVt100CursorSequences()
    {
        Assert.That(Keys(0xE0, 0x48, 0xE0, 0xC8), Is.EqualTo("\u001b[A"), "the release sends nothing");
        Assert.That(Keys(0xE0, 0x50, 0xE0, 0x4D, 0xE0, 0x4B), Is.EqualTo("\u001b[B\u001b[C\u001b[D"));
        var t = new ScanCodeTranslator { ApplicationCursorKeys = true };
        Assert.That(Keys(t, 0xE0, 0x48), Is.EqualTo("\u001bOA"), "application cursor keys (ESC[?1h)");
    }

    [Test]
    public void NavigationKeysAreLinuxConsoleSequences()
    {
        Assert.That(Keys(0xE0, 0x47), Is.EqualTo("\u001b[1~"), "Home");
        Assert.That(Keys(0xE0, 0x52), Is.EqualTo("\u001b[2~"), "Insert");
        Assert.That(Keys(0xE0, 0x53), Is.EqualTo("\u001b[3~"), "Delete");
        Assert.That(Keys(0xE0, 0x4F), Is.EqualTo("\u001b[4~"), "End");
        Assert.That(Keys(0xE0, 0x49), Is.EqualTo("\u001b[5~"), "Page Up");
        Assert.That(Keys(0xE0, 0x51), Is.EqualTo("\u001b[6~"), "Page Down");
        Assert.That(Keys(0xE0, 0x2A, 0xE0, 0x48, 0xE0, 0xC8, 0xE0, 0xAA), Is.EqualTo("\u001b[A"), "fake shifts are ignored");
    }

    [Test]
    public void KeypadFollowsNumLock()
    {
        var t = new ScanCodeTranslator();
        Assert.That(Keys(t, 0x48, 0x4F, 0x37, 0x4A, 0x4E), Is.EqualTo("\u001b[A\u001b[4~*-+"), "Num Lock off");
        Assert.That(Keys(t, 0x45, 0xC5, 0x48, 0x4F, 0x52, 0x53), Is.EqualTo("810."), "Num Lock on");
        Assert.That(Keys(t, 0xE0, 0x35, 0xE0, 0x1C), Is.EqualTo("/\r"), "keypad / and Enter");
    }

    [Test]
    public void FunctionKeys()
    {
        Assert.That(Keys(0x3B), Is.EqualTo("\u001b[[A"));
        Assert.That(Keys(0x3F), Is.EqualTo("\u001b[[E"));
        Assert.That(Keys(0x40), Is.EqualTo("\u001b[17~"));
        Assert.That(Keys(0x44), Is.EqualTo("\u001b[21~"));
        Assert.That(Keys(0x57, 0x58), Is.EqualTo("\u001b[23~\u001b[24~"));
    }

    [Test]
    public void PauseAndControllerBytesProduceNothing()
    {
        Assert.That(Keys(0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5, 0x1E), Is.EqualTo("a"));
        Assert.That(Keys(0xFA, 0xAA, 0xFE, 0x1E), Is.EqualTo("a"));
    }

    [Test]
    public void EveryCodeTranslatesWithinTheOutputBound()
    {
        var t = new ScanCodeTranslator();
        byte[] output = new byte[ScanCodeTranslator.MaximumOutput];
        foreach (byte modifier in new byte[] { 0x00, 0x2A, 0x1D, 0x38 })
            for (int prefix = 0; prefix < 2; prefix++)
                for (int code = 0; code < 256; code++)
                {
                    t = new ScanCodeTranslator();
                    if (modifier != 0) t.Translate(modifier, output);
                    if (prefix == 1) t.Translate(0xE0, output);
                    int n = t.Translate((byte)code, output);
                    Assert.That(n, Is.InRange(0, ScanCodeTranslator.MaximumOutput));
                }
    }
}
