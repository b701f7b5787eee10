// Linux's struct termios and struct winsize as the terminal ioctls carry them
// (LibOS.Unixish/Linux/Terminal/Termios.cs): the byte layout, the default settings, and that
// decoding inverts encoding. The reference values are the host's <asm/termbits.h> and
// <asm/ioctls.h> (sizeof 36, c_line at 16, c_cc at 17, NCCS 19; termios2 44) and the kernel's
// tty_std_termios (a host pty reports iflag 0x500, oflag 0x5, lflag 0x8a3b and the same c_cc).
using Aegis.LibOS.Unixish.Linux;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class LinuxTerminalTermiosTests
{
    [Test]
    public void DefaultSettingsAreLinuxsStandardTermiosWithUtf8()
    {
        Termios t = Termios.LinuxDefault();
        Assert.That(t.InputFlags, Is.EqualTo(0x500u | 0x4000u), "ICRNL IXON, plus IUTF8 as on a UTF-8 console");
        Assert.That(t.OutputFlags, Is.EqualTo(0x5u), "OPOST ONLCR");
        Assert.That(t.ControlFlags, Is.EqualTo(0x4BFu), "B38400 CS8 CREAD HUPCL");
        Assert.That(t.LocalFlags, Is.EqualTo(0x8A3Bu), "ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN");
        Assert.That(t.Cc, Is.EqualTo(new byte[] { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0 }));
    }

    [Test]
    public void TermiosEncodesInLinuxsLayout()
    {
        byte[] bytes = new byte[Termios.Size];
        Termios.LinuxDefault().Encode(bytes);
        byte[] expected =
        {
            0x00, 0x45, 0x00, 0x00,  0x05, 0x00, 0x00, 0x00,  0xBF, 0x04, 0x00, 0x00,  0x3B, 0x8A, 0x00, 0x00,
            0x00,
            0x03, 0x1C, 0x7F, 0x15, 0x04, 0x00, 0x01, 0x00, 0x11, 0x13, 0x1A, 0x00, 0x12, 0x0F, 0x17, 0x16, 0x00, 0x00, 0x00,
        };
        Assert.That(bytes, Is.EqualTo(expected));
        Assert.That(Termios.Size, Is.EqualTo(36));
        Assert.That(Termios.ControlCharsOffset, Is.EqualTo(17));
    }

    [Test]
    public void TermiosDecodeInvertsEncode()
    {
        var rng = new Random(9);
        for (int round = 0; round < 100; round++)
        {
            byte[] bytes = new byte[Termios.Size];
            rng.NextBytes(bytes);
            Termios t = Termios.Decode(bytes);
            byte[] again = new byte[Termios.Size];
            t.Encode(again);
            Assert.That(again, Is.EqualTo(bytes));
        }
        Termios raw = Termios.Decode(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36 });
        Assert.That(raw.InputFlags, Is.EqualTo(0x04030201u));
        Assert.That(raw.LocalFlags, Is.EqualTo(0x100F0E0Du));
        Assert.That(raw.LineDiscipline, Is.EqualTo(17));
        Assert.That(raw.Cc[0], Is.EqualTo(18));
        Assert.That(raw.Cc[18], Is.EqualTo(36));
    }

    [Test]
    public void TermiosRefusesShortBuffers()
    {
        Assert.Throws<ArgumentException>(() => Termios.Decode(new byte[35]));
        Assert.Throws<ArgumentException>(() => Termios.LinuxDefault().Encode(new byte[35]));
    }

    [Test]
    public void WindowSizeIsFourLittleEndianShorts()
    {
        var size = new WindowSize { Rows = 25, Columns = 80, XPixels = 0x1234, YPixels = 0 };
        byte[] bytes = new byte[WindowSize.Size];
        size.Encode(bytes);
        Assert.That(bytes, Is.EqualTo(new byte[] { 25, 0, 80, 0, 0x34, 0x12, 0, 0 }));
        WindowSize back = WindowSize.Decode(bytes);
        Assert.That((back.Rows, back.Columns, back.XPixels), Is.EqualTo(((ushort)25, (ushort)80, (ushort)0x1234)));
    }
}
