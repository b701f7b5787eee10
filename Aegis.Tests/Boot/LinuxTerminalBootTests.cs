// The Linux personality's terminal compiled by ILC against Aegis.Runtime and run in ring 3
// (Tests/Apps/TtyLogic): what it observes must be what the host tests expect of the same code
// under .NET, and a write through Terminal.Write must reach the serial console as text (OPOST's
// "\r\n" and the escape sequences must not turn into the kernel's '?').
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public class LinuxTerminalBootTests
{
    private const int BootTimeoutSeconds = 90;

    private static void AssertLine(FrontDoorResult result, string text)
        => result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ tty-logic\] " + Regex.Escape(text) + @"\r?$");

    [Test]
    public void TerminalLogicRunsInRing3AsOnTheHost()
    {
        FrontDoorResult result = FrontDoor.Boot(BootTimeoutSeconds, "init=tty-logic", "exit");

        result.AssertExitStatus(0);
        // erase, kill, ^H, word erase; echo with ONLCR.
        AssertLine(result, @"tty-logic: line 'x z q\x0a' echo 'abc\x08 \x08\x08 \x08\x08 \x08xy\x08 \x08 z w\x08 \x08q\x0d\x0a'");
        AssertLine(result, @"tty-logic: signal 2 eof 0 echo 'zz^C'");
        AssertLine(result, @"tty-logic: screen 'new!|one|three' attr 70 cursor 24,72 answer '\x1b[25;73R'");
        AssertLine(result, @"tty-logic: keys 'Hi\x03\x1b[A\x1b[3~'");
        // TCGETS into the program's memory: Linux's default termios, byte for byte.
        AssertLine(result, @"tty-logic: TCGETS 0 '\x00E\x00\x00\x05\x00\x00\x00\xbf\x04\x00\x00;\x8a\x00\x00\x00\x03\x1c\x7f\x15\x04\x00\x01\x00\x11\x13\x1a\x00\x12\x0f\x17\x16\x00\x00\x00'");
        AssertLine(result, "tty-logic: TCGETS to 0x10 -14, to the kernel -14, unknown request -25");
        AssertLine(result, "tty-logic: TIOCGPGRP 0 is the environment id yes");
        AssertLine(result, "tty-logic: non-blocking read -11");
        // Window size: 80x25 when the VGA is this terminal's (the kernel granted the Display
        // capability and DeviceMap worked), 80x24 on serial only; with the VGA its rows must show
        // the write: bold "write" (0x0F), the tab, the next line, the cursor inverted below it.
        Match size = result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ tty-logic\] tty-logic: TIOCGWINSZ 0 (24|25)x80\r?$");
        if (size.Groups[1].Value == "25")
            AssertLine(result, "tty-logic: vga 'terminal write  tab|next line' bold 0f cursor 70");
        else
            AssertLine(result, "tty-logic: vga none");
        // The write: text, tab and both lines; no '?' from a control byte.
        AssertLine(result, "terminal write\ttab");
        AssertLine(result, "next line");
        AssertLine(result, "tty-logic: wrote 37");
    }
}
