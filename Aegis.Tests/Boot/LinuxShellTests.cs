// Boot test of what a user meets (issue #9): without init= the kernel starts Debian's busybox as
// a login shell under the Linux personality; --headless connects it to stdin; a pipeline, a
// command's exit status and a pipe whose reader leaves early behave as on Linux; leaving the
// shell powers the machine off with the shell's status. The verdicts are the shell's output
// (what the commands print) and QEMU's exit status, never a line the guest prints about itself.
// A second session runs issue #9's list (ls /bin | wc -l against the root archive, /proc/self/maps,
// ps, a background job and wait); init's exit 3 is told from GRUB's status 3.
using System.Formats.Tar;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class LinuxShellTests
{
    private const int TimeoutSeconds = 150;

    [Test]
    public void BootLandsAtBusyboxShellAndLeavingItPowersOffWithItsStatus()
    {
        // The leading newline: GRUB resets COM1's receiver, so a byte sent that early may be lost.
        const string Session = "\necho hello | tr a-z A-Z\nsh -c 'exit 3'; echo \"status $?\"\nyes | head -3 | wc -l\nexit 7\n";
        FrontDoorResult result = FrontDoor.BootWithInput(Session, TimeoutSeconds);

        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] Memory: \d+ MiB free of \d+ MiB\.\r?$"); // /etc/profile ran
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] HELLO\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] status 3\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] 3\r?$");
        result.AssertExitStatus(7);
    }

    /// <summary>`poweroff` typed at the shell ends the machine with status 0 (busybox sends SIGUSR2 to
    /// pid 1; the first program plays init), with a background job still running: nothing after it
    /// runs (no "after"), and the job does not keep the machine up (it would for 1,000 s).</summary>
    [Test]
    public void PoweroffAtTheShellEndsTheMachine()
    {
        const string Session = "\nsleep 1000 &\necho before\npoweroff\necho after\n";
        FrontDoorResult result = FrontDoor.BootWithInput(Session, TimeoutSeconds);

        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] before\r?$");
        Assert.That(result.Output, Does.Not.Match(@"(?m)^\[[0-9a-f]+ linux\] after\r?$"), () => result.Describe("the shell went on after poweroff"));
        Assert.That(result.Output, Does.Not.Contain("No such process"), () => result.Describe("poweroff found no init"));
        result.AssertExitStatus(0);
    }

    /// <summary>`poweroff -f` (reboot(RB_POWER_OFF) itself) from a process that is not the first
    /// program ends the machine too, with status 0, though a background job still runs.</summary>
    [Test]
    public void PoweroffForcedFromAChildEndsTheMachine()
    {
        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=/bin/sh", "-c", "'sleep 1000 & poweroff -f; echo after'", "exit");
        Assert.That(result.Output, Does.Not.Match(@"(?m)^\[[0-9a-f]+ linux\] after\r?$"), () => result.Describe("the shell went on after poweroff -f"));
        result.AssertOutputMatches(@"(?m)^AEGIS-EXIT 0\r?$");
        result.AssertExitStatus(0);
    }

    /// <summary>A shell blocked reading the terminal gets the line typed while another process of
    /// its (foreground) group blocks elsewhere: in `sh -c` background jobs share the shell's group,
    /// so the sleeper also asks the kernel to wake it for input (for ^C). The kernel woke only the
    /// last process that asked, so the shell's read never saw the line (found with `nginx & read
    /// x`); now every watcher is woken (InputLimits.WatchersPerDevice).</summary>
    [Test]
    public void AReadingShellGetsTheLineWhileAnotherProcessOfItsGroupWaitsForInputToo()
    {
        // Both jobs write to the terminal (so they have one) and then block in sleep, each asking to
        // be woken for input after the shell's read did; the line is typed once the second says
        // "ready". Neither job ends before the line: a child's end would wake the shell (SIGCHLD)
        // and let its read look again.
        FrontDoorResult result = FrontDoor.BootWithInputAfter("] ready", "typed-line\n", TimeoutSeconds, "init=/bin/sh", "-c",
            "'(sleep 1; echo sleeper; exec sleep 30) & s=$!; (sleep 3; echo ready; exec sleep 30) & t=$!; read x; echo got-$x; kill $s $t'", "exit");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] got-typed-line\r?$");
        result.AssertExitStatus(0);
    }

    /// <summary>Typed-ahead input far beyond the kernel's input ring (InputLimits.RingBytes) while
    /// the shell is busy: every line reaches the shell, in order. The serial driver stops taking
    /// bytes from the UART while the ring is full (flow control); before that, every byte past
    /// the ring's 256 was dropped and the shell then waited for a line that never came.</summary>
    [Test]
    public void TypedAheadInputLongerThanTheInputRingIsNotLost()
    {
        const int Lines = 80; // about 3 KiB, twelve rings' worth
        var session = new System.Text.StringBuilder("\nsleep 2\n");
        for (int i = 0; i < Lines; i++) session.Append($"echo typed-{i:D2}-{new string('x', 24)}\n");
        session.Append("exit 6\n");
        // Typed once init started (still ahead of the shell, which sleeps 2 s before reading on):
        // bytes sent while GRUB sets COM1 up are lost before any of ours could keep them.
        FrontDoorResult result = FrontDoor.BootWithInputAfter("as init", session.ToString(), TimeoutSeconds);

        var seen = result.Lines.Select(line => Regex.Match(line, @"^\[[0-9a-f]+ linux\] typed-(\d\d)-x{24}\r?$"))
            .Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).ToList();
        Assert.That(seen, Is.EqualTo(Enumerable.Range(0, Lines).ToList()), () => result.Describe("the typed-ahead lines' output, in order"));
        result.AssertExitStatus(6);
    }

    /// <summary>Lines pasted behind a command line reach the command, and ^D at a line's start
    /// ends it: `cat > /tmp/f` gets the two lines, its end of file, and the shell then runs the
    /// line after, which counts 2. Before: the shell's line editor (raw mode, a byte a read) took
    /// everything typed from the terminal into its own process, so cat got nothing; and cat's
    /// sendfile from the terminal read on after the first line and took the ^D as its own end
    /// of data (Linux refuses sendfile from a terminal: busybox then reads).</summary>
    [Test]
    public void LinesPastedBehindACommandReachItAndControlDEndsIt()
    {
        const string Session = "\ncat > /tmp/f\nline one\nline two\n\u0004cat /tmp/f | tr a-z A-Z; echo \"count $(wc -l < /tmp/f)\"\nexit 4\n";
        FrontDoorResult result = FrontDoor.BootWithInputAfter("as init", Session, TimeoutSeconds);

        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] LINE ONE\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] LINE TWO\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] count 2\r?$");
        result.AssertExitStatus(4);
    }

    /// <summary>The command typed behind vi's ":wq" reaches the shell whole: vi polls for typed-ahead
    /// keys before it redraws, and poll outside canonical mode now looks at the terminal's input
    /// without taking it. Before, vi's poll took the e of "echo" and vi ended with it ("cho: not
    /// found"); on Linux vi reads a byte at a time and the shell gets the rest.</summary>
    [Test]
    public void ACommandTypedBehindVisQuitReachesTheShellWhole()
    {
        FrontDoorResult result = FrontDoorSession.Run(TimeSpan.FromSeconds(TimeoutSeconds), new[]
        {
            // The leading newline: GRUB resets COM1's receiver, so a byte sent that early may be lost.
            new FrontDoorSession.Step(null, "\necho ready-$((6*7))\n"),
            new FrontDoorSession.Step(@"\] ready-42", "vi /tmp/v\n"),
            new FrontDoorSession.Step(null, "ihello", delayMilliseconds: 2000),
            new FrontDoorSession.Step(null, "\u001b", delayMilliseconds: 1000),
            new FrontDoorSession.Step(null, ":wq\necho after-vi $(cat /tmp/v)\n", delayMilliseconds: 1000),
            new FrontDoorSession.Step(@"after-vi \w", "exit 3\n"),
        }, new[] { "run", "--headless", "--no-build", "--timeout", TimeoutSeconds.ToString() });

        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] after-vi hello\r?$");
        result.AssertExitStatus(3);
    }

    /// <summary>^S stops a writer's output and ^Q restarts it: the shell's loop writes a line every
    /// 50 ms for about 2 s; ^S typed after its sixth line holds it for 6 s, so the loop takes at
    /// least 6 s by the guest's clock, and every line still comes out. A writer takes only the
    /// control characters from the terminal (the rest stays for readers), so this is the path
    /// that must still find them.</summary>
    [Test]
    public void ControlSStopsAWritersOutputUntilControlQ()
    {
        FrontDoorResult result = FrontDoorSession.Run(TimeSpan.FromSeconds(TimeoutSeconds), new[]
        {
            // The leading newline: GRUB resets COM1's receiver, so a byte sent that early may be lost.
            new FrontDoorSession.Step(null, "\necho ready-$((6*7))\n"),
            new FrontDoorSession.Step(@"\] ready-42",
                "s=$(date +%s); i=0; while [ $i -lt 40 ]; do echo tick-$i; i=$((i+1)); usleep 50000; done; echo \"took $(($(date +%s)-s))\"\n"),
            new FrontDoorSession.Step(@"\] tick-5\r?\n", "\u0013"),
            new FrontDoorSession.Step(null, "\u0011", delayMilliseconds: 6000),
            new FrontDoorSession.Step(@"\] took \d+", "exit 2\n"),
        }, new[] { "run", "--headless", "--no-build", "--timeout", TimeoutSeconds.ToString() });

        for (int i = 0; i < 40; i++) result.AssertOutputMatches($@"(?m)^\[[0-9a-f]+ linux\] tick-{i}\r?$");
        var took = result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] took (\d+)\r?$");
        Assert.That(int.Parse(took.Groups[1].Value), Is.GreaterThanOrEqualTo(6), () => result.Describe("the loop's seconds: output held 6 s by ^S"));
        result.AssertExitStatus(2);
    }

    // ---- one scripted session, several commands (issue #9's list); markers delimit their output ----

    private const string Session =
        "\n" +
        "echo ==ls\nls /bin | wc -l\n" +
        "echo ==maps\ncat /proc/self/maps\necho ==ps\n" +
        "echo \"shell $$\"\nsleep 30 & echo \"job $!\"\nsh -c 'sleep 3; true' &\nsleep 1\nps\nkill %1\nwait\n" +
        "echo ==status\ngrep -E '^Vm(Size|RSS):' /proc/self/status\necho ==top\ntop -b -n 1 | head -3\necho ==job\n" +
        "(sleep 1; echo from-background) & echo \"started $!\"\nwait; echo \"done $?\"\n" +
        "(exit 5) & wait $!; echo \"waited $?\"\n" +
        "echo ==end\nexit 0\n";

    private static FrontDoorResult s_session;
    private static string[] s_lines;

    /// <summary>The scripted session's lines, as the shell's environments printed them ("[ID linux] " removed).</summary>
    private static string[] SessionLines()
    {
        if (s_session == null)
        {
            s_session = FrontDoor.BootWithInput(Session, TimeoutSeconds);
            s_lines = s_session.Lines.Select(line => Regex.Match(line, @"^\[[0-9a-f]+ linux\] (.*)$")).Where(m => m.Success)
                .Select(m => m.Groups[1].Value.TrimEnd('\r')).ToArray();
        }
        return s_lines;
    }

    /// <summary>The lines between the marker line and the next line starting with "==".</summary>
    private static string[] Section(string marker)
    {
        string[] lines = SessionLines();
        int start = Array.IndexOf(lines, "==" + marker);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), () => s_session.Describe($"no '=={marker}' line: the session did not get there"));
        int end = Array.FindIndex(lines, start + 1, line => line.StartsWith("==", StringComparison.Ordinal));
        Assert.That(end, Is.GreaterThan(start), () => s_session.Describe($"the '=={marker}' section has no end"));
        // Without the shell's echoed command lines (its prompt, "root@aegis:/# ", then the command).
        return lines[(start + 1)..end].Where(line => !Regex.IsMatch(line, @"^\S+@[^:\s]+:\S*# ")).ToArray();
    }

    /// <summary>`ls /bin | wc -l` counts what the root archive holds in bin/ (busybox and a link per
    /// applet), counted here from the archive the build embedded, not from a copied constant.</summary>
    [Test]
    public void LsOfBinCountsTheArchivesBusyboxLinks()
    {
        var entries = LinuxFuzzTests.RootArchiveEntries();
        var bin = entries.Where(e => e.Name.StartsWith("bin/", StringComparison.Ordinal) && e.Name.Length > 4 && e.Name.IndexOf('/', 4) < 0).ToList();
        int links = bin.Count(e => e.Type == TarEntryType.SymbolicLink && e.Link == "/bin/busybox");
        Assert.That(links, Is.GreaterThan(50), "busybox's applet links in the archive's bin/");
        string[] section = Section("ls");
        string count = section.Select(line => line.Trim()).LastOrDefault(line => Regex.IsMatch(line, @"^\d+$"));
        Assert.That(count, Is.EqualTo(bin.Count.ToString()), () => s_session.Describe(
            $"ls /bin | wc -l must count the archive's {bin.Count} entries of bin/ ({links} busybox links and {bin.Count - links} others)"));
    }

    /// <summary>`cat /proc/self/maps`: every line has Linux's layout, the areas are sorted and
    /// disjoint, and cat's own areas are there: busybox's code (executable, named by its path) and
    /// the stack.</summary>
    [Test]
    public void ProcSelfMapsListsTheProgramsOwnAreasInLinuxsLayout()
    {
        string[] section = Section("maps");
        var layout = new Regex(@"^([0-9a-f]{8,16})-([0-9a-f]{8,16}) ([r-])([w-])([x-])([ps]) ([0-9a-f]{8}) 00:00 (\d+)(?: +(\S.*))?$");
        ulong previousEnd = 0;
        Assert.That(section.Length, Is.GreaterThanOrEqualTo(3), () => s_session.Describe("too few lines in /proc/self/maps"));
        foreach (string line in section)
        {
            Match m = layout.Match(line);
            Assert.That(m.Success, Is.True, () => s_session.Describe($"a /proc/self/maps line not in Linux's layout: '{line}'"));
            ulong start = Convert.ToUInt64(m.Groups[1].Value, 16), end = Convert.ToUInt64(m.Groups[2].Value, 16);
            Assert.That(start, Is.LessThan(end), line);
            Assert.That(start % 4096 == 0 && end % 4096 == 0, Is.True, line);
            Assert.That(start, Is.GreaterThanOrEqualTo(previousEnd), () => $"areas sorted and disjoint: '{line}'");
            previousEnd = end;
        }
        Assert.That(section.Any(line => Regex.IsMatch(line, @" r-xp [0-9a-f]{8} 00:00 \d+ +/bin/(busybox|cat)$")), Is.True,
            () => s_session.Describe("no executable area named by cat's program file"));
        Assert.That(section.Any(line => line.EndsWith(" [stack]", StringComparison.Ordinal) && line.Contains(" rw-p ")), Is.True,
            () => s_session.Describe("no [stack] area"));
        Assert.That(section.Any(line => line.Contains("60000000-")), Is.False, "the libOS's own image is not the program's area");
    }

    /// <summary>`ps` shows the shell (with the pid the shell reports for itself, $$) and ps itself,
    /// with another pid.</summary>
    [Test]
    public void PsShowsTheShellAndItself()
    {
        string[] section = Section("ps");
        string shellLine = section.FirstOrDefault(line => line.StartsWith("shell ", StringComparison.Ordinal));
        Assert.That(shellLine, Is.Not.Null, () => s_session.Describe("the shell did not print its pid"));
        string shellPid = shellLine.Substring(6).Trim();
        Assert.That(section.Any(line => Regex.IsMatch(line, @"^\s*PID\s+USER\s+.*COMMAND\s*$")), Is.True, () => s_session.Describe("no ps header"));
        Assert.That(section.Any(line => Regex.IsMatch(line, @"^\s*" + shellPid + @"\s+root\s+-?(/bin/)?sh( .*)?$")), Is.True,
            () => s_session.Describe($"ps does not show the shell as pid {shellPid}"));
        // ps is one of busybox's applets the shell runs in a forked child without an exec: its name
        // is then "{ps}" (set by prctl(PR_SET_NAME)) before the shell's command line, as on Linux.
        Match ps = section.Select(line => Regex.Match(line, @"^\s*(\d+)\s+root\s+(\{ps\} .*|.*\sps)$")).FirstOrDefault(m => m.Success);
        Assert.That(ps, Is.Not.Null, () => s_session.Describe("ps does not show itself"));
        Assert.That(ps.Groups[1].Value, Is.Not.EqualTo(shellPid), "ps runs as its own process");
    }

    /// <summary>/proc/self/status gives the caller's memory in Linux's form: VmSize (its areas, the
    /// stack as far as it grew) and VmRSS (the pages mapped for it), both a few MiB for grep (busybox
    /// is about 2 MiB), the resident part no larger than the whole.</summary>
    [Test]
    public void ProcSelfStatusGivesTheProgramsMemory()
    {
        string[] section = Section("status");
        Match size = section.Select(line => Regex.Match(line, @"^VmSize:\s+(\d+) kB$")).FirstOrDefault(m => m.Success);
        Match rss = section.Select(line => Regex.Match(line, @"^VmRSS:\s+(\d+) kB$")).FirstOrDefault(m => m.Success);
        Assert.That(size, Is.Not.Null, () => s_session.Describe("no VmSize line"));
        Assert.That(rss, Is.Not.Null, () => s_session.Describe("no VmRSS line"));
        long sizeKb = long.Parse(size.Groups[1].Value), rssKb = long.Parse(rss.Groups[1].Value);
        Assert.That(sizeKb, Is.InRange(1024L, 64L * 1024), () => s_session.Describe("VmSize out of range"));
        Assert.That(rssKb, Is.InRange(256L, sizeKb), () => s_session.Describe("VmRSS out of range, or above VmSize"));
    }

    /// <summary>busybox's `top` runs (it reads /proc/stat, /proc/meminfo and /proc/loadavg, and
    /// dies without them) and prints its header: memory, CPU shares, load average.</summary>
    [Test]
    public void TopPrintsItsHeader()
    {
        string[] section = Section("top");
        Assert.That(section.Any(line => Regex.IsMatch(line, @"^Mem: \d+K used, \d+K free")), Is.True, () => s_session.Describe("no Mem: line from top"));
        Assert.That(section.Any(line => Regex.IsMatch(line, @"^CPU:\s+\d+% usr .*\d+% idle")), Is.True, () => s_session.Describe("no CPU: line from top"));
        Assert.That(section.Any(line => Regex.IsMatch(line, @"^Load average: 0\.00 0\.00 0\.00 1/\d+ \d+")), Is.True, () => s_session.Describe("no load average from top"));
    }

    /// <summary>`ps` lists every process of the tree, not only the shell and itself (the tree's
    /// shared process list): a background job with the pid the shell gave for it ($!), a second
    /// job's shell and that shell's own child (a grandchild of the login shell).</summary>
    [Test]
    public void PsListsBackgroundJobsAndTheirChildren()
    {
        string[] section = Section("ps");
        string jobLine = section.FirstOrDefault(line => line.StartsWith("job ", StringComparison.Ordinal));
        Assert.That(jobLine, Is.Not.Null, () => s_session.Describe("the shell did not print the job's pid"));
        string jobPid = jobLine.Substring(4).Trim();
        Assert.That(section.Any(line => Regex.IsMatch(line, @"^\s*" + jobPid + @"\s+root\s+sleep 30$")), Is.True,
            () => s_session.Describe($"ps does not show the background job sleep 30 as pid {jobPid}"));
        Match inner = section.Select(line => Regex.Match(line, @"^\s*(\d+)\s+root\s+sh -c sleep 3; true$")).FirstOrDefault(m => m.Success);
        Match grandchild = section.Select(line => Regex.Match(line, @"^\s*(\d+)\s+root\s+sleep 3$")).FirstOrDefault(m => m.Success);
        Assert.That(inner, Is.Not.Null, () => s_session.Describe("ps does not show the second job's shell"));
        Assert.That(grandchild, Is.Not.Null, () => s_session.Describe("ps does not show the second job's child (a grandchild)"));
        Assert.That(grandchild.Groups[1].Value, Is.Not.EqualTo(inner.Groups[1].Value));
    }

    /// <summary>A background job runs while the shell goes on, `wait` waits for it (its output comes
    /// before "done") and gives 0; `wait PID` gives the job's own status (5).</summary>
    [Test]
    public void BackgroundJobAndWait()
    {
        string[] section = Section("job");
        int started = Array.FindIndex(section, line => Regex.IsMatch(line, @"^started \d+$"));
        int background = Array.IndexOf(section, "from-background");
        int done = Array.IndexOf(section, "done 0");
        Assert.That(started, Is.GreaterThanOrEqualTo(0), () => s_session.Describe("the shell did not go on after starting the job ($!)"));
        Assert.That(background, Is.GreaterThan(started), () => s_session.Describe("the background job's output is missing"));
        Assert.That(done, Is.GreaterThan(background), () => s_session.Describe("wait did not wait for the job, or gave another status"));
        Assert.That(section, Does.Contain("waited 5"), () => s_session.Describe("wait PID did not give the job's status 5"));
        s_session.AssertExitStatus(0);
    }

    /// <summary>A Linux program's `exit 3` as init with `exit` ends QEMU with 3, reported as init's
    /// status, not as GRUB's failure (which is also 3 on the exit device).</summary>
    [Test]
    public void InitsExitStatusThreeIsNotReadAsGrubFailing()
    {
        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=/bin/sh", "-c", "'exit 3'", "exit");
        result.AssertExitStatus(3);
        result.AssertOutputMatches(@"(?m)^AEGIS-EXIT 3\r?$");
        result.AssertOutputContains("init exited with status 3");
        Assert.That(result.Output, Does.Not.Contain("GRUB could not start the kernel"), () => result.Describe("status 3 was read as GRUB's"));
    }
}
