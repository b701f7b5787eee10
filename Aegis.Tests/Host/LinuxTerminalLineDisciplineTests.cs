// The terminal's line discipline (LibOS.Unixish/Linux/Terminal/LineDiscipline.cs) against
// Linux's n_tty behaviour: canonical lines, echo, erase/kill/word erase, EOF, ISIG, the input
// and output mappings (ICRNL, IGNCR, INLCR, ONLCR, OPOST), raw mode, IXON, literal next.
using System.Text;
using Aegis.LibOS.Unixish.Linux;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class LinuxTerminalLineDisciplineTests
{
    private static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);

    private static LineDiscipline Typed(string input)
    {
        var ld = new LineDiscipline();
        ld.Receive(Bytes(input));
        return ld;
    }

    private static string ReadLine(LineDiscipline ld, int size = 100)
    {
        byte[] buffer = new byte[size];
        int n = ld.ReadCanonical(buffer);
        return n < 0 ? "<none>" : Encoding.Latin1.GetString(buffer, 0, n);
    }

    private static string Echo(LineDiscipline ld) => ld.Output.AsLatin1();

    private static void SetLocal(LineDiscipline ld, uint set, uint clear)
    {
        Termios t = ld.Settings.Clone();
        t.LocalFlags = (t.LocalFlags | set) & ~clear;
        ld.SetSettings(t);
    }

    [Test]
    public void CanonicalModeReturnsOneLineAtATime()
    {
        var ld = Typed("ab\ncd\n");
        Assert.That(ReadLine(ld), Is.EqualTo("ab\n"));
        Assert.That(ReadLine(ld), Is.EqualTo("cd\n"));
        Assert.That(ReadLine(ld), Is.EqualTo("<none>"));
    }

    [Test]
    public void CanonicalModeHasNothingToReadBeforeTheLineEnds()
    {
        var ld = Typed("abc");
        Assert.That(ld.HasReadable(1), Is.False);
        Assert.That(ReadLine(ld), Is.EqualTo("<none>"));
        Assert.That(ld.ReadableBytes, Is.EqualTo(0), "FIONREAD counts completed lines only");
        ld.Receive((byte)'\n');
        Assert.That(ld.ReadableBytes, Is.EqualTo(4));
        Assert.That(ReadLine(ld), Is.EqualTo("abc\n"));
    }

    [Test]
    public void ALongLineIsReadInPiecesTheTerminatorLast()
    {
        var ld = Typed("abcdef\n");
        Assert.That(ReadLine(ld, 4), Is.EqualTo("abcd"));
        Assert.That(ReadLine(ld, 4), Is.EqualTo("ef\n"));
    }

    [Test]
    public void EnterIsCarriageReturnMappedToNewlineAndEchoedWithOnlcr()
    {
        var ld = Typed("hi\r");
        Assert.That(ReadLine(ld), Is.EqualTo("hi\n"));
        Assert.That(Echo(ld), Is.EqualTo("hi\r\n"));
    }

    [Test]
    public void EraseRemovesTheLastCharacterVisually()
    {
        var ld = Typed("abc\u007f\n");
        Assert.That(ReadLine(ld), Is.EqualTo("ab\n"));
        Assert.That(Echo(ld), Is.EqualTo("abc\b \b\r\n"));
    }

    [Test]
    public void ControlHAlsoErasesWhileEraseIsDel()
    {
        var ld = Typed("abc\b\bx\n");
        Assert.That(ReadLine(ld), Is.EqualTo("ax\n"));
    }

    [Test]
    public void EraseAtTheStartOfALineDoesNothing()
    {
        var ld = Typed("\u007f\u007fz\n");
        Assert.That(ReadLine(ld), Is.EqualTo("z\n"));
        Assert.That(Echo(ld), Is.EqualTo("z\r\n"));
    }

    [Test]
    public void EraseOfAControlCharacterErasesItsCaretForm()
    {
        var ld = Typed("a\u0001\u007f");
        Assert.That(Echo(ld), Is.EqualTo("a^A\b \b\b \b"));
    }

    [Test]
    public void EraseRemovesAWholeUtf8Character()
    {
        var ld = new LineDiscipline();
        ld.Receive(new byte[] { (byte)'a', 0xC3, 0xA9, 0x7F, (byte)'\n' });
        Assert.That(ReadLine(ld), Is.EqualTo("a\n"));
        Assert.That(Echo(ld), Is.EqualTo("a\u00C3\u00A9\b \b\r\n"), "one visual erase for the two-byte character");
    }

    [Test]
    public void EraseOfATabMovesBackToWhereTheTabStarted()
    {
        var ld = new LineDiscipline();
        ld.ProcessOutput(Bytes("$ "), new ByteQueue()); // a prompt: the line starts at column 2
        ld.Receive(Bytes("\t"));
        Assert.That(ld.Column, Is.EqualTo(8));
        ld.Output.Clear();
        ld.Receive(0x7F);
        Assert.That(Echo(ld), Is.EqualTo("\b\b\b\b\b\b"));
        Assert.That(ld.Column, Is.EqualTo(2));
    }

    [Test]
    public void WithoutEchoeEraseEchoesTheEraseCharacter()
    {
        var ld = new LineDiscipline();
        SetLocal(ld, 0, TermiosBits.ECHOE);
        ld.Receive(Bytes("ab\u007f"));
        Assert.That(Echo(ld), Is.EqualTo("ab^?"));
    }

    [Test]
    public void KillErasesTheWholeLine()
    {
        var ld = Typed("abc\u0015x\n");
        Assert.That(ReadLine(ld), Is.EqualTo("x\n"));
        Assert.That(Echo(ld), Is.EqualTo("abc\b \b\b \b\b \bx\r\n"));
    }

    [Test]
    public void KillWithoutEchokeEchoesTheKillCharacterAndANewline()
    {
        var ld = new LineDiscipline();
        SetLocal(ld, 0, TermiosBits.ECHOKE);
        ld.Receive(Bytes("abc\u0015"));
        Assert.That(Echo(ld), Is.EqualTo("abc^U\r\n"));
        Assert.That(ld.EditingLength, Is.EqualTo(0));
    }

    [Test]
    public void WordEraseRemovesTrailingBlanksAndOneWord()
    {
        var ld = Typed("foo bar  \u0017");
        Assert.That(ld.EditingLength, Is.EqualTo(4), "\"foo \" is left");
        ld.Receive(0x17);
        Assert.That(ld.EditingLength, Is.EqualTo(0));
        ld.Receive(Bytes("x.y\u0017\n"));
        Assert.That(ReadLine(ld), Is.EqualTo("x.\n"), "Linux's rule: a word is letters, digits and '_'");
    }

    [Test]
    public void EofAtTheStartOfALineReadsZero()
    {
        var ld = Typed("\u0004");
        Assert.That(ld.HasReadable(1), Is.True);
        byte[] buffer = new byte[10];
        Assert.That(ld.ReadCanonical(buffer), Is.EqualTo(0));
        Assert.That(ld.ReadCanonical(buffer), Is.EqualTo(-1), "the EOF is consumed");
        Assert.That(Echo(ld), Is.EqualTo(""), "EOF is not echoed");
    }

    [Test]
    public void EofAfterTextEndsTheLineWithoutANewline()
    {
        var ld = Typed("ab\u0004");
        Assert.That(ReadLine(ld), Is.EqualTo("ab"));
        Assert.That(ReadLine(ld), Is.EqualTo("<none>"));
    }

    [Test]
    public void InterruptRaisesSigintFlushesAndEchoesCaretC()
    {
        var ld = Typed("ab\ncd\u0003");
        Assert.That(ld.TakeSignal(), Is.EqualTo(TerminalSignals.SIGINT));
        Assert.That(ld.TakeSignal(), Is.EqualTo(0));
        Assert.That(ReadLine(ld), Is.EqualTo("<none>"), "completed and edited input are flushed");
        Assert.That(Echo(ld), Is.EqualTo("ab\r\ncd^C"));
    }

    [Test]
    public void QuitAndSuspendRaiseSigquitAndSigtstp()
    {
        var ld = Typed("\u001c\u001a");
        Assert.That(ld.TakeSignal(), Is.EqualTo(TerminalSignals.SIGQUIT));
        Assert.That(ld.TakeSignal(), Is.EqualTo(TerminalSignals.SIGTSTP));
    }

    [Test]
    public void NoflshKeepsTheInputOnASignal()
    {
        var ld = new LineDiscipline();
        SetLocal(ld, TermiosBits.NOFLSH, 0);
        ld.Receive(Bytes("ab\u0003\n"));
        Assert.That(ld.TakeSignal(), Is.EqualTo(TerminalSignals.SIGINT));
        Assert.That(ReadLine(ld), Is.EqualTo("ab\n"));
    }

    [Test]
    public void WithoutIsigControlCIsData()
    {
        var ld = new LineDiscipline();
        SetLocal(ld, 0, TermiosBits.ISIG);
        ld.Receive(Bytes("\u0003\n"));
        Assert.That(ld.TakeSignal(), Is.EqualTo(0));
        Assert.That(ReadLine(ld), Is.EqualTo("\u0003\n"));
    }

    [Test]
    public void InputMappingsIcrnlIgncrInlcr()
    {
        var ld = new LineDiscipline();
        Termios t = ld.Settings.Clone();
        t.InputFlags &= ~TermiosBits.ICRNL;
        ld.SetSettings(t);
        ld.Receive(Bytes("a\rb\n"));
        Assert.That(ReadLine(ld), Is.EqualTo("a\rb\n"), "without ICRNL a CR is data");

        t.InputFlags |= TermiosBits.IGNCR;
        ld.SetSettings(t);
        ld.Receive(Bytes("a\rb\n"));
        Assert.That(ReadLine(ld), Is.EqualTo("ab\n"), "IGNCR drops CR");

        t.InputFlags = TermiosBits.INLCR;
        t.LocalFlags &= ~TermiosBits.ICANON;
        ld.SetSettings(t);
        ld.Receive(Bytes("x\n"));
        byte[] buffer = new byte[10];
        Assert.That(Encoding.Latin1.GetString(buffer, 0, ld.ReadRaw(buffer)), Is.EqualTo("x\r"), "INLCR maps NL to CR");
    }

    [Test]
    public void OutputProcessingOnlcrAndOpost()
    {
        var ld = new LineDiscipline();
        var sink = new ByteQueue();
        ld.ProcessOutput(Bytes("a\nb"), sink);
        Assert.That(sink.AsLatin1(), Is.EqualTo("a\r\nb"));

        Termios t = ld.Settings.Clone();
        t.OutputFlags &= ~TermiosBits.ONLCR;
        ld.SetSettings(t);
        sink.Clear();
        ld.ProcessOutput(Bytes("a\nb"), sink);
        Assert.That(sink.AsLatin1(), Is.EqualTo("a\nb"));

        t.OutputFlags = TermiosBits.ONLCR; // without OPOST nothing is processed
        ld.SetSettings(t);
        sink.Clear();
        ld.ProcessOutput(Bytes("a\nb"), sink);
        Assert.That(sink.AsLatin1(), Is.EqualTo("a\nb"));

        t.OutputFlags = TermiosBits.OPOST | TermiosBits.XTABS;
        ld.SetSettings(t);
        sink.Clear();
        ld.ProcessOutput(Bytes("\rab\tc"), sink);
        Assert.That(sink.AsLatin1(), Is.EqualTo("\rab      c"), "XTABS expands to the next multiple of 8");
    }

    [Test]
    public void RawModeMakesEveryByteReadableAtOnce()
    {
        var ld = new LineDiscipline();
        SetLocal(ld, 0, TermiosBits.ICANON | TermiosBits.ECHO);
        ld.Receive(Bytes("q\u007f"));
        Assert.That(ld.HasReadable(1), Is.True);
        byte[] buffer = new byte[10];
        Assert.That(ld.ReadRaw(buffer), Is.EqualTo(2));
        Assert.That(buffer[1], Is.EqualTo(0x7F), "erase is data in raw mode");
        Assert.That(Echo(ld), Is.EqualTo(""));
    }

    [Test]
    public void LeavingCanonicalModeMakesTheEditedLineReadable()
    {
        var ld = Typed("abc");
        SetLocal(ld, 0, TermiosBits.ICANON);
        byte[] buffer = new byte[10];
        Assert.That(ld.ReadRaw(buffer), Is.EqualTo(3));
        Assert.That(Encoding.Latin1.GetString(buffer, 0, 3), Is.EqualTo("abc"));
    }

    [Test]
    public void EnteringCanonicalModeMakesPendingRawInputOneLine()
    {
        var ld = new LineDiscipline();
        SetLocal(ld, 0, TermiosBits.ICANON);
        ld.Receive(Bytes("xy"));
        SetLocal(ld, TermiosBits.ICANON, 0);
        Assert.That(ReadLine(ld), Is.EqualTo("xy"));
    }

    [Test]
    public void WithoutEchoNothingIsEchoedButEchonlEchoesNewline()
    {
        var ld = new LineDiscipline();
        SetLocal(ld, TermiosBits.ECHONL, TermiosBits.ECHO);
        ld.Receive(Bytes("secret\n"));
        Assert.That(Echo(ld), Is.EqualTo("\r\n"));
        Assert.That(ReadLine(ld), Is.EqualTo("secret\n"));
    }

    [Test]
    public void IxonStopAndStartAreConsumed()
    {
        var ld = Typed("a\u0013");
        Assert.That(ld.OutputStopped, Is.True);
        ld.Receive(Bytes("b\u0011\n"));
        Assert.That(ld.OutputStopped, Is.False);
        Assert.That(ReadLine(ld), Is.EqualTo("ab\n"));
    }

    [Test]
    public void LiteralNextTakesTheNextCharacterAsData()
    {
        var ld = Typed("\u0016\u0003\u0016\u007f\n");
        Assert.That(ld.TakeSignal(), Is.EqualTo(0));
        Assert.That(ReadLine(ld), Is.EqualTo("\u0003\u007f\n"));
        Assert.That(Echo(ld), Is.EqualTo("^\b^C^\b^?\r\n"));
    }

    [Test]
    public void ReprintEchoesTheLineAgain()
    {
        var ld = Typed("ab\u0012");
        Assert.That(Echo(ld), Is.EqualTo("ab^R\r\nab"));
    }

    [Test]
    public void ALineHoldsAtMost4095BytesPlusItsEnd()
    {
        var ld = new LineDiscipline();
        for (int i = 0; i < 5000; i++) ld.Receive((byte)'x');
        ld.Receive((byte)'\n');
        byte[] buffer = new byte[8192];
        Assert.That(ld.ReadCanonical(buffer), Is.EqualTo(4096));
        Assert.That(buffer[4095], Is.EqualTo((byte)'\n'));
    }

    [Test]
    public void FlushInputDiscardsEverything()
    {
        var ld = Typed("ab\ncd");
        ld.FlushInput();
        ld.Receive(Bytes("e\n"));
        Assert.That(ReadLine(ld), Is.EqualTo("e\n"));
    }
}
