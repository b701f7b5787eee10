// The terminal as a person at the machine uses it: keys typed on the PS/2 keyboard (QEMU's
// monitor, sendkey) reach busybox's shell through the kernel's Keyboard capability and the
// libOS's line discipline, and what the shell prints appears on the VGA text screen (read back
// from the VGA buffer with the monitor's xp) as well as on serial. Nothing here goes through
// COM1's input: stdin is closed. ^C typed on the keyboard stops a foreground job.
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class KeyboardAndVgaTests
{
    private const int BootTimeoutSeconds = 300;
    private static readonly TimeSpan ShellLimit = TimeSpan.FromSeconds(150);
    private static readonly TimeSpan CommandLimit = TimeSpan.FromSeconds(60);

    /// <summary>Waits until a row of the VGA screen satisfies row; fails with the screen otherwise.</summary>
    private static void Expect(QemuMonitor monitor, Func<string, bool> row, string what, TimeSpan limit)
    {
        (string[] screen, bool found) = monitor.WaitForRow(row, limit);
        if (!found)
            Assert.Fail($"the VGA screen never showed {what}; it shows:\n" + string.Join("\n", screen));
    }

    [Test]
    public void KeysTypedOnTheKeyboardRunCommandsWhoseOutputShowsOnTheVgaScreen()
    {
        FrontDoorResult result = FrontDoor.BootWithMonitor(BootTimeoutSeconds, (monitor, _) =>
        {
            // The login shell's profile prints the memory line, then the prompt, on the screen.
            Expect(monitor, row => row.StartsWith("root@aegis:/#"), "the shell's prompt", ShellLimit);
            Expect(monitor, row => System.Text.RegularExpressions.Regex.IsMatch(row, @"^Memory: \d+ MiB free of \d+ MiB\.$"), "the profile's memory line", TimeSpan.Zero);

            // A pipeline typed with shifted keys; its output is a row of its own.
            monitor.Type("echo typed $((6*7)) | tr a-z A-Z\n");
            Expect(monitor, row => row == "TYPED 42", "the pipeline's output 'TYPED 42'", CommandLimit);
            Expect(monitor, row => row == "root@aegis:/# echo typed $((6*7)) | tr a-z A-Z", "the echoed command line", TimeSpan.Zero);

            // Backspace erases in the line discipline (canonical mode) before the shell reads the line.
            monitor.Type("echo erasez");
            monitor.Command("sendkey backspace");
            monitor.Type("d\n");
            Expect(monitor, row => row == "erased", "'erased' (the z rubbed out)", CommandLimit);

            // Ctrl-C on the keyboard stops a foreground sleep (SIGINT to its group): the shell prompts
            // again long before 100 s and $? is 128 + SIGINT.
            monitor.Type("sleep 100\n");
            Expect(monitor, row => row == "root@aegis:/# sleep 100", "the sleep command line", CommandLimit);
            Thread.Sleep(3000);
            monitor.Command("sendkey ctrl-c");
            monitor.Type("echo after $?\n");
            Expect(monitor, row => row == "after 130", "'after 130' (the sleep ended by ^C typed on the keyboard)", CommandLimit);

            // Leaving the shell powers the machine off with its status.
            monitor.Type("exit 5\n");
        });

        result.AssertExitStatus(5);
        // Serial shows the same session (the terminal writes to both).
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] TYPED 42\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] erased\r?$");
    }

    /// <summary>A process of the foreground group blocked elsewhere (sleep in nanosleep, the shell
    /// in wait4) is woken by every key (the kernel wakes every input watcher) and looks for ^C,
    /// ^\ and ^Z. It took a plain c, \ or z (the same keys without Ctrl) away from whoever reads
    /// next: vi lost the c of "second line" to its waiting shell. Here the keys are typed ahead
    /// while sleep runs, as on Linux they wait for the next reader, head.</summary>
    [Test]
    public void KeysOfSignalCharactersWithoutCtrlReachTheForegroundProgramNotItsWaitingShell()
    {
        const string keys = "cz\\c cz\\z zzcc\\\\ cczz\\cz\\ c\\zc\\ zc";
        FrontDoorResult result = FrontDoor.BootWithMonitor(BootTimeoutSeconds, (monitor, _) =>
        {
            Expect(monitor, row => row.StartsWith("root@aegis:/#"), "the shell's prompt", ShellLimit);
            monitor.Type("sleep 5; head -n 1 > /tmp/keys.txt\n");
            Expect(monitor, row => row == "root@aegis:/# sleep 5; head -n 1 > /tmp/keys.txt", "the command line", CommandLimit);
            monitor.Type(keys + "\n");
            Expect(monitor, row => row == "root@aegis:/#", "the prompt after head", CommandLimit);
            monitor.Type("printf '[%s]\\n' \"$(cat /tmp/keys.txt)\"\n");
            Expect(monitor, row => row == "[" + keys + "]", $"'[{keys}]': every key reached head", CommandLimit);
            monitor.Type("exit 3\n");
        });

        result.AssertExitStatus(3);
    }

    /// <summary>Lines typed ahead while sleep runs: head reads the first, and the second stays in
    /// the kernel's ring for the shell, as a Linux tty keeps it. head took both into its own
    /// line discipline and the second was lost when it ended.</summary>
    [Test]
    public void ALineTypedAheadBehindTheOneAProgramReadsStaysForTheShell()
    {
        FrontDoorResult result = FrontDoor.BootWithMonitor(BootTimeoutSeconds, (monitor, _) =>
        {
            Expect(monitor, row => row.StartsWith("root@aegis:/#"), "the shell's prompt", ShellLimit);
            monitor.Type("sleep 8; head -n 1 > /tmp/first.txt\n");
            Expect(monitor, row => row == "root@aegis:/# sleep 8; head -n 1 > /tmp/first.txt", "the command line", CommandLimit);
            monitor.Type("line one\n");
            monitor.Type("echo second $((6*7)) [$(cat /tmp/first.txt)]\n");
            Expect(monitor, row => row == "second 42 [line one]", "'second 42 [line one]': the shell ran the second line after head read the first", CommandLimit);
            monitor.Type("exit 4\n");
        });

        result.AssertExitStatus(4);
    }

    [Test]
    public void ViEditsAFileOnTheVgaScreenAndTheShellReadsItBack()
    {
        string[] lastScreen = Array.Empty<string>();
        void Expect(QemuMonitor monitor, Func<string[], bool> screenIs, string what, TimeSpan limit)
        {
            DateTime deadline = DateTime.UtcNow + limit;
            while (true)
            {
                lastScreen = monitor.ReadScreen();
                if (screenIs(lastScreen))
                    return;
                if (DateTime.UtcNow > deadline)
                    Assert.Fail($"the VGA screen never showed {what}; it shows:\n" + string.Join("\n", lastScreen));
                Thread.Sleep(500);
            }
        }

        FrontDoorResult result = FrontDoor.BootWithMonitor(BootTimeoutSeconds, (monitor, _) =>
        {
            Expect(monitor, screen => screen.Any(row => row.StartsWith("root@aegis:/#")), "the shell's prompt", ShellLimit);

            // vi draws a full screen with VT100 sequences: every row but the first and the status
            // line is a '~' (an empty buffer), the status line names the file.
            monitor.Type("vi /tmp/typed.txt\n");
            Expect(monitor, screen => screen.Skip(1).Take(QemuMonitor.Rows - 2).All(row => row == "~") && screen[^1].Contains("/tmp/typed.txt"),
                   "vi's empty buffer (rows of '~' and the status line)", CommandLimit);

            // Insert two lines, leave insert mode with Escape: the text is on rows 0 and 1.
            monitor.Type("ihello from vi\nsecond line");
            monitor.Command("sendkey esc");
            // vi waits a moment after ESC for the rest of an escape sequence (a cursor key): a ':'
            // right behind it would be read as part of one.
            Thread.Sleep(1500);
            Expect(monitor, screen => screen[0] == "hello from vi" && screen[1] == "second line" && screen[2] == "~",
                   "the two typed lines at the top of vi's screen", CommandLimit);

            // Write and quit; vi restores the shell's screen; the shell (another process) reads the file.
            monitor.Type(":wq\n");
            Expect(monitor, screen => screen.Any(row => row.StartsWith("root@aegis:/#")) && !screen.Skip(1).Take(QemuMonitor.Rows - 2).All(row => row == "~"),
                   "the shell's screen back after :wq", CommandLimit);
            monitor.Type("cat /tmp/typed.txt; wc -c < /tmp/typed.txt\n");
            Expect(monitor, screen =>
            {
                int at = Array.IndexOf(screen, "hello from vi");
                return at >= 0 && at + 2 < screen.Length && screen[at + 1] == "second line" && screen[at + 2] == "26";
            }, "the file's two lines and its size, 26 bytes", CommandLimit);
            monitor.Type("exit\n");
        });

        result.AssertExitStatus(0);
    }
}
