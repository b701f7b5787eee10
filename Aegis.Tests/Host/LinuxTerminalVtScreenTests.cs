// The VGA console's VT100 emulator (LibOS.Unixish/Linux/Terminal/VtScreen.cs): the screen's
// cells after the sequences busybox vi and less emit (cursor addressing, erasing, scrolling
// regions, insert/delete, attributes, reports), wrap and scroll rules, UTF-8 glyphs, the
// alternate screen, the state hand-over between processes, and that no input escapes the cells.
using System.Text;
using Aegis.LibOS.Unixish.Linux;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class LinuxTerminalVtScreenTests
{
    private static VtScreen Screen(string output, int rows = 25, int columns = 80)
    {
        var s = new VtScreen(rows, columns);
        Write(s, output);
        return s;
    }

    private static void Write(VtScreen s, string output) => s.Write(Encoding.UTF8.GetBytes(output));

    private static string Row(VtScreen s, int row) => s.RowText(row).TrimEnd();

    [Test]
    public void TextCarriageReturnAndLineFeed()
    {
        var s = Screen("hello\r\nworld");
        Assert.That(Row(s, 0), Is.EqualTo("hello"));
        Assert.That(Row(s, 1), Is.EqualTo("world"));
        Assert.That((s.Row, s.Column), Is.EqualTo((1, 5)));
    }

    [Test]
    public void BackspaceAndTab()
    {
        var s = Screen("abc\b\bX\tY");
        Assert.That(Row(s, 0), Is.EqualTo("aXc     Y"));
        Assert.That(s.Column, Is.EqualTo(9));
    }

    [Test]
    public void TextWrapsAtTheLastColumnOnlyWhenTheNextCharacterComes()
    {
        var s = Screen(new string('x', 80));
        Assert.That((s.Row, s.Column), Is.EqualTo((0, 79)), "pending wrap: the cursor stays on the last column");
        Write(s, "\r\n");
        Assert.That((s.Row, s.Column), Is.EqualTo((1, 0)), "no blank line after a full line");
        Write(s, new string('y', 85));
        Assert.That(Row(s, 2), Is.EqualTo("yyyyy"));
    }

    [Test]
    public void LineFeedAtTheBottomScrolls()
    {
        var s = new VtScreen(25, 80);
        for (int i = 0; i < 30; i++) Write(s, "line " + i + "\r\n");
        Assert.That(Row(s, 0), Is.EqualTo("line 6"));
        Assert.That(Row(s, 23), Is.EqualTo("line 29"));
        Assert.That(Row(s, 24), Is.EqualTo(""));
        Assert.That(s.Row, Is.EqualTo(24));
    }

    [Test]
    public void CursorPositionAndRelativeMoves()
    {
        var s = Screen("\u001b[5;10HA\u001b[2AB\u001b[3CC\u001b[10DD\u001b[BE\u001b[HF\u001b[3;4fG\u001b[20GH\u001b[7dI");
        Assert.That(s.GlyphAt(4, 9), Is.EqualTo((byte)'A'));
        Assert.That(s.GlyphAt(2, 10), Is.EqualTo((byte)'B'));
        Assert.That(s.GlyphAt(2, 14), Is.EqualTo((byte)'C'));
        Assert.That(s.GlyphAt(2, 5), Is.EqualTo((byte)'D'));
        Assert.That(s.GlyphAt(3, 6), Is.EqualTo((byte)'E'));
        Assert.That(s.GlyphAt(0, 0), Is.EqualTo((byte)'F'));
        Assert.That(s.GlyphAt(2, 3), Is.EqualTo((byte)'G'));
        Assert.That(s.GlyphAt(2, 19), Is.EqualTo((byte)'H'));
        Assert.That(s.GlyphAt(6, 20), Is.EqualTo((byte)'I'));
    }

    [Test]
    public void MovesStopAtTheEdges()
    {
        var s = Screen("\u001b[999;999HZ\u001b[999A\u001b[999DY");
        Assert.That(s.GlyphAt(24, 79), Is.EqualTo((byte)'Z'));
        Assert.That(s.GlyphAt(0, 0), Is.EqualTo((byte)'Y'));
    }

    [Test]
    public void EraseInDisplayAndLine()
    {
        string fill = "";
        for (int r = 0; r < 3; r++) fill += "\u001b[" + (r + 1) + ";1H" + new string((char)('a' + r), 10);
        var s = Screen(fill + "\u001b[2;5H\u001b[K");
        Assert.That(Row(s, 1), Is.EqualTo("bbbb"), "EL 0: cursor to end");
        s = Screen(fill + "\u001b[2;5H\u001b[1K");
        Assert.That(Row(s, 1), Is.EqualTo("     bbbbb"), "EL 1: start to cursor");
        s = Screen(fill + "\u001b[2;5H\u001b[2K");
        Assert.That(Row(s, 1), Is.EqualTo(""), "EL 2: whole line");
        s = Screen(fill + "\u001b[2;5H\u001b[J");
        Assert.That((Row(s, 0), Row(s, 1), Row(s, 2)), Is.EqualTo(("aaaaaaaaaa", "bbbb", "")), "ED 0");
        s = Screen(fill + "\u001b[2;5H\u001b[1J");
        Assert.That((Row(s, 0), Row(s, 1), Row(s, 2)), Is.EqualTo(("", "     bbbbb", "cccccccccc")), "ED 1");
        s = Screen(fill + "\u001b[2;5H\u001b[2J");
        Assert.That((Row(s, 0), Row(s, 1), Row(s, 2)), Is.EqualTo(("", "", "")), "ED 2");
        Assert.That((s.Row, s.Column), Is.EqualTo((1, 4)), "ED 2 leaves the cursor");
    }

    [Test]
    public void ScrollRegionConfinesScrolling()
    {
        var s = new VtScreen(25, 80);
        for (int r = 0; r < 25; r++) Write(s, "\u001b[" + (r + 1) + ";1Hrow" + r);
        Write(s, "\u001b[2;5r");
        Assert.That((s.Row, s.Column), Is.EqualTo((0, 0)), "DECSTBM homes the cursor");
        Write(s, "\u001b[5;1H\nnew");
        Assert.That(Row(s, 0), Is.EqualTo("row0"));
        Assert.That(Row(s, 1), Is.EqualTo("row2"));
        Assert.That(Row(s, 3), Is.EqualTo("row4"));
        Assert.That(Row(s, 4), Is.EqualTo("new"));
        Assert.That(Row(s, 5), Is.EqualTo("row5"), "below the region nothing moved");
        Write(s, "\u001b[2;1H\u001bMtop");
        Assert.That(Row(s, 1), Is.EqualTo("top"), "reverse index at the region's top scrolls it down");
        Assert.That(Row(s, 2), Is.EqualTo("row2"));
        Assert.That(Row(s, 4), Is.EqualTo("row4"));
        Assert.That(Row(s, 5), Is.EqualTo("row5"));
    }

    [Test]
    public void ReverseIndexAtTheTopScrollsTheScreenDown()
    {
        var s = Screen("first\u001b[H\u001bMzero");
        Assert.That(Row(s, 0), Is.EqualTo("zero"));
        Assert.That(Row(s, 1), Is.EqualTo("first"));
    }

    [Test]
    public void InsertAndDeleteLines()
    {
        var s = new VtScreen(25, 80);
        for (int r = 0; r < 5; r++) Write(s, "\u001b[" + (r + 1) + ";1Hrow" + r);
        Write(s, "\u001b[2;3H\u001b[2L");
        Assert.That((Row(s, 1), Row(s, 2), Row(s, 3), Row(s, 6)), Is.EqualTo(("", "", "row1", "row4")));
        Assert.That(s.Column, Is.EqualTo(0));
        Write(s, "\u001b[1;1H\u001b[3M");
        Assert.That((Row(s, 0), Row(s, 1), Row(s, 3)), Is.EqualTo(("row1", "row2", "row4")));
        Assert.That(Row(s, 24), Is.EqualTo(""));
    }

    [Test]
    public void InsertDeleteAndEraseCharacters()
    {
        Assert.That(Row(Screen("abcdef\u001b[1;3H\u001b[2@"), 0), Is.EqualTo("ab  cdef"));
        Assert.That(Row(Screen("abcdef\u001b[1;3H\u001b[2P"), 0), Is.EqualTo("abef"));
        Assert.That(Row(Screen("abcdef\u001b[1;3H\u001b[2X"), 0), Is.EqualTo("ab  ef"));
        Assert.That(Row(Screen("abcdef\u001b[1;3H\u001b[4hXY\u001b[4lZ"), 0), Is.EqualTo("abXYZdef"), "insert mode, then replace");
    }

    [Test]
    public void GraphicRenditionSetsVgaAttributes()
    {
        var s = Screen("a\u001b[7mb\u001b[0mc\u001b[1;31md\u001b[44me\u001b[mf\u001b[32;47mg\u001b[39;49mh\u001b[93mi\u001b[1;7mj");
        Assert.That(s.AttributeAt(0, 0), Is.EqualTo(0x07), "default light grey on black");
        Assert.That(s.AttributeAt(0, 1), Is.EqualTo(0x70), "reverse");
        Assert.That(s.AttributeAt(0, 2), Is.EqualTo(0x07));
        Assert.That(s.AttributeAt(0, 3), Is.EqualTo(0x0C), "bold red = bright red (VGA 4 | 8)");
        Assert.That(s.AttributeAt(0, 4), Is.EqualTo(0x1C), "on blue (VGA 1)");
        Assert.That(s.AttributeAt(0, 5), Is.EqualTo(0x07));
        Assert.That(s.AttributeAt(0, 6), Is.EqualTo(0x72), "green on white");
        Assert.That(s.AttributeAt(0, 7), Is.EqualTo(0x07));
        Assert.That(s.AttributeAt(0, 8), Is.EqualTo(0x0E), "bright yellow");
        Assert.That(s.AttributeAt(0, 9), Is.EqualTo(0x60), "bright yellow reversed: black on brown (a bright background would blink)");
    }

    [Test]
    public void ErasingUsesTheCurrentBackground()
    {
        var s = Screen("\u001b[44m\u001b[2J");
        Assert.That(s.AttributeAt(10, 10), Is.EqualTo(0x17));
    }

    [Test]
    public void SaveAndRestoreCursor()
    {
        var s = Screen("\u001b[3;4H\u001b[31m\u001b7\u001b[10;10H\u001b[0mx\u001b8y");
        Assert.That(s.GlyphAt(2, 3), Is.EqualTo((byte)'y'));
        Assert.That(s.AttributeAt(2, 3), Is.EqualTo(0x04), "ESC 8 restores the attributes too");
        s = Screen("\u001b[5;6H\u001b[s\u001b[1;1Hx\u001b[uy");
        Assert.That(s.GlyphAt(4, 5), Is.EqualTo((byte)'y'));
    }

    [Test]
    public void CursorPositionReportAndDeviceAttributesAreAnswered()
    {
        var s = Screen("\u001b[12;34H\u001b[6n");
        Assert.That(s.Responses.AsLatin1(), Is.EqualTo("\u001b[12;34R"));
        s = Screen("\u001b[5n\u001b[c");
        Assert.That(s.Responses.AsLatin1(), Is.EqualTo("\u001b[0n\u001b[?6c"));
        s = Screen("\u001b[999;999H\u001b[6n");
        Assert.That(s.Responses.AsLatin1(), Is.EqualTo("\u001b[25;80R"), "vi's screen-size probe");
    }

    [Test]
    public void CursorIsShownByInvertingItsCellUnlessHidden()
    {
        var s = Screen("ab");
        ushort[] display = new ushort[25 * 80];
        s.Render(display);
        Assert.That(display[2] >> 8, Is.EqualTo(0x70), "the cell under the cursor is inverted");
        Assert.That(display[1] >> 8, Is.EqualTo(0x07));
        Assert.That(s.Cells[2] >> 8, Is.EqualTo(0x07), "the model keeps the real attribute");
        Write(s, "\u001b[?25l");
        s.Render(display);
        Assert.That(display[2] >> 8, Is.EqualTo(0x07));
        Write(s, "\u001b[?25h");
        Assert.That(s.CursorVisible, Is.True);
    }

    [Test]
    public void AlternateScreenRestoresTheMainScreen()
    {
        var s = Screen("shell$ \u001b[?1049h\u001b[H\u001b[2Jvi text");
        Assert.That(Row(s, 0), Is.EqualTo("vi text"));
        Write(s, "\u001b[?1049l");
        Assert.That(Row(s, 0), Is.EqualTo("shell$"));
        Assert.That((s.Row, s.Column), Is.EqualTo((0, 7)));
    }

    [Test]
    public void Utf8TextShowsCodePage437Glyphs()
    {
        var s = Screen("é─│π€");
        Assert.That(s.GlyphAt(0, 0), Is.EqualTo(0x82));
        Assert.That(s.GlyphAt(0, 1), Is.EqualTo(0xC4));
        Assert.That(s.GlyphAt(0, 2), Is.EqualTo(0xB3));
        Assert.That(s.GlyphAt(0, 3), Is.EqualTo(0xE3));
        Assert.That(s.GlyphAt(0, 4), Is.EqualTo((byte)'?'), "no euro sign in code page 437");
        var t = new VtScreen();
        t.Write(new byte[] { 0xC3, (byte)'a', 0xE0, 0x80, 0x80, 0xFF });
        Assert.That(t.RowText(0).TrimEnd(), Is.EqualTo("?a??"), "truncated, overlong and invalid bytes");
    }

    [Test]
    public void DecLineDrawingCharacterSet()
    {
        var s = Screen("\u001b(0lqk\u001b(Bq");
        Assert.That((s.GlyphAt(0, 0), s.GlyphAt(0, 1), s.GlyphAt(0, 2), s.GlyphAt(0, 3)), Is.EqualTo(((byte)0xDA, (byte)0xC4, (byte)0xBF, (byte)'q')));
    }

    [Test]
    public void OscAndUnknownSequencesAreNotShown()
    {
        var s = Screen("a\u001b]0;title\ab\u001b[>0cc\u001b[?1000hd\u001b=e\u001bPdcs\u001b\\f\u001b[38;5;1mg\u001b[m");
        Assert.That(Row(s, 0), Is.EqualTo("abcdefg"));
        Assert.That(s.AttributeAt(0, 6), Is.EqualTo(0x04), "38;5;1 is red");
    }

    [Test]
    public void WhatBusyboxViDrawsOnAFile()
    {
        // busybox vi on a 25-row screen with a 3-line file: clear, the text, "~" lines, the
        // status line in reverse video, the cursor back to the top.
        var sb = new StringBuilder("\u001b[1;1H\u001b[J");
        sb.Append("\u001b[1;1Hfirst line\u001b[K\u001b[2;1Hsecond\u001b[K\u001b[3;1Hthird\u001b[K");
        for (int r = 4; r <= 24; r++) sb.Append("\u001b[" + r + ";1H~\u001b[K");
        sb.Append("\u001b[25;1H\u001b[K\u001b[7m\"f.txt\" 3L, 25C\u001b[m\u001b[1;1H");
        // Then: dd on line 2 (the rest moves up), and "O" opens a line above line 1.
        sb.Append("\u001b[2;1H\u001b[M\u001b[24;1H~\u001b[K\u001b[1;1H\u001b[Lnew\u001b[1;4H");
        var s = Screen(sb.ToString());
        Assert.That(Row(s, 0), Is.EqualTo("new"));
        Assert.That(Row(s, 1), Is.EqualTo("first line"));
        Assert.That(Row(s, 2), Is.EqualTo("third"));
        Assert.That(Row(s, 3), Is.EqualTo("~"));
        Assert.That(Row(s, 23), Is.EqualTo("~"));
        Assert.That(Row(s, 24), Is.EqualTo("~"), "IL on the whole screen pushed the status line off; vi redraws it");
        Assert.That((s.Row, s.Column), Is.EqualTo((0, 3)));
    }

    [Test]
    public void WhatBusyboxLessDrawsWhenScrolling()
    {
        // less: the page, then for each line forward: clear the prompt line, print the line, prompt.
        var sb = new StringBuilder("\u001b[H\u001b[J");
        for (int i = 1; i <= 24; i++) sb.Append("line " + i + "\n");
        sb.Append("\u001b[7m:\u001b[0m");
        sb.Append("\r\u001b[K" + "line 25\n" + "\u001b[7m:\u001b[0m");
        var s = new VtScreen();
        var ld = new LineDiscipline(); // output goes through ONLCR like the real tty
        var processed = new ByteQueue();
        ld.ProcessOutput(Encoding.UTF8.GetBytes(sb.ToString()), processed);
        s.Write(processed.Span);
        Assert.That(Row(s, 0), Is.EqualTo("line 2"));
        Assert.That(Row(s, 23), Is.EqualTo("line 25"));
        Assert.That(Row(s, 24), Is.EqualTo(":"));
        Assert.That(s.AttributeAt(24, 0), Is.EqualTo(0x70));
    }

    [Test]
    public void StateHandedToAnotherEmulatorContinuesTheSameScreen()
    {
        var a = Screen("\u001b[3;5r\u001b[1;33m\u001b[10;20Hxy\u001b7\u001b[?25l\u001b[?7l");
        var b = new VtScreen();
        byte[] state = new byte[VtScreen.StateSize];
        a.SaveState(state);
        Array.Copy(a.Cells, b.Cells, a.Cells.Length);
        b.LoadState(state);
        string more = "z\u001b[5;1H\nq\u001b8w" + new string('k', 100);
        Write(a, more);
        Write(b, more);
        Assert.That(b.Cells, Is.EqualTo(a.Cells));
        Assert.That((b.Row, b.Column, b.CursorVisible, b.Top, b.Bottom), Is.EqualTo((a.Row, a.Column, a.CursorVisible, a.Top, a.Bottom)));
    }

    [Test]
    public void LoadedStateIsClampedToTheScreen()
    {
        var s = new VtScreen();
        byte[] garbage = new byte[VtScreen.StateSize];
        new Random(1).NextBytes(garbage);
        s.LoadState(garbage);
        Assert.That(s.Row, Is.InRange(0, 24));
        Assert.That(s.Column, Is.InRange(0, 79));
        Assert.That(s.Top, Is.LessThan(s.Bottom));
        Write(s, "\u001b8text\u001b[?1049lmore\r\n\u001bM");
        Assert.That(s.Row, Is.InRange(0, 24));
    }

    [Test]
    public void AdoptingTheKernelsScreenPutsTheCursorAfterItsText()
    {
        ushort[] cells = new ushort[25 * 80];
        for (int i = 0; i < cells.Length; i++) cells[i] = 0x0720;
        cells[0] = 0x0700 | 'A';
        cells[2 * 80 + 5] = 0x0700 | 'B';
        var s = new VtScreen();
        s.Adopt(cells);
        Assert.That((s.Row, s.Column), Is.EqualTo((3, 0)));
        Assert.That(s.GlyphAt(2, 5), Is.EqualTo((byte)'B'));
        cells[24 * 80] = 0x0700 | 'Z';
        s.Adopt(cells);
        Assert.That(s.Row, Is.EqualTo(24));
        Assert.That(s.GlyphAt(23, 0), Is.EqualTo((byte)'Z'), "a full screen scrolls one line");
    }

    [Test]
    public void RandomBytesNeverLeaveTheScreen()
    {
        var rng = new Random(42);
        var s = new VtScreen(25, 80);
        byte[] chunk = new byte[4096];
        for (int round = 0; round < 100; round++)
        {
            rng.NextBytes(chunk);
            // Bias towards escape sequences and digits.
            for (int i = 0; i < chunk.Length; i += 7) chunk[i] = (byte)"\u001b[;?0123456789HJKLMPr@\n\r"[rng.Next(24)];
            s.Write(chunk);
            Assert.That(s.Row, Is.InRange(0, 24));
            Assert.That(s.Column, Is.InRange(0, 79));
            Assert.That(s.Top, Is.LessThan(s.Bottom));
        }
    }
}

// The serial fallback while the terminal has no raw way to COM1 (PlainText.cs).
public class LinuxTerminalPlainTextTests
{
    private static string Plain(params string[] writes)
    {
        var filter = new PlainTextFilter();
        var output = new ByteQueue();
        foreach (string w in writes) filter.Filter(Encoding.UTF8.GetBytes(w), output);
        return Encoding.UTF8.GetString(output.Span);
    }

    [Test]
    public void ControlsAndSequencesAreDroppedTextStays()
    {
        Assert.That(Plain("ls\r\n\u001b[1;34mbin\u001b[0m\tétc\r\n"), Is.EqualTo("ls\nbin\tétc\n"));
        Assert.That(Plain("ab\b \b\u0007\u001b]0;title\u0007c\u001b(0q\u001b(Bd\u001b7e\u001bPx\u001b\\f"), Is.EqualTo("ab cqdef"));
    }

    [Test]
    public void ASequenceCutBetweenWritesIsStillDropped()
    {
        Assert.That(Plain("x\u001b", "[2", "Jy\u001b]ti", "tle\u001b", "\\z"), Is.EqualTo("xyz"));
    }

    [Test]
    public void OutputHoldsNoControlByte()
    {
        var rng = new Random(3);
        var filter = new PlainTextFilter();
        var output = new ByteQueue();
        byte[] chunk = new byte[65536];
        rng.NextBytes(chunk);
        filter.Filter(chunk, output);
        foreach (byte b in output.Span.ToArray())
            Assert.That(b >= 0x20 && b != 0x7F || b == (byte)'\n' || b == (byte)'\t', Is.True, b.ToString("x2"));
    }
}
