// Boot tests: each boots the kernel ISO in QEMU through ./aegis and checks what the kernel
// reports on its serial console and the status it exits with (docs/front-door.md).
// Kernel arguments select the behaviour: test=boot, test=runtime, crash=null, crash=stackoverflow.
// QEMU runs in TCG (no KVM): a BIOS boot takes a few seconds, a UEFI boot a little longer.
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public class KernelBootTests
{
    internal const int BootTimeoutSeconds = 90;
    private const int UefiBootTimeoutSeconds = 120;
    private const int MinimumRuntimeTests = 30;
    private const int KernelPanicStatus = 100;

    [Test]
    public void KernelBootsAndReportsMemory()
    {
        FrontDoorResult result = FrontDoor.Boot(BootTimeoutSeconds, "test=boot");

        result.AssertExitStatus(0);
        Match banner = result.AssertOutputMatches(@"Aegis: (\d+) MiB memory, (\d+) of (\d+) frames free, booted in (\d+) ms");
        long freeFrames = long.Parse(banner.Groups[2].Value);
        long totalFrames = long.Parse(banner.Groups[3].Value);
        Assert.That(freeFrames, Is.GreaterThan(0), () => result.Describe("the banner reports no free frame"));
        Assert.That(freeFrames, Is.LessThanOrEqualTo(totalFrames), () => result.Describe("the banner reports more free frames than frames"));
    }

    [Test]
    public void RuntimeSuitePasses()
    {
        FrontDoorResult result = FrontDoor.BootShared(BootTimeoutSeconds, "test=runtime");

        AssertRuntimeSuitePassed(result);
    }

    [Test]
    public void RuntimeSuitePassesUnderUefi()
    {
        FrontDoorResult result = FrontDoor.Boot(uefi: true, UefiBootTimeoutSeconds, "test=runtime");

        AssertRuntimeSuitePassed(result);
    }

    [Test]
    public void RuntimeSuitePassesInAnApp()
    {
        // The shared runtime tests (Tests/Runtime/) in ring 3, with the app's own runtime copy.
        FrontDoorResult result = FrontDoor.Boot(BootTimeoutSeconds, "init=runtime-suite", "exit");

        AssertRuntimeSuitePassed(result, minimumTests: 1);
    }

    [Test]
    public void NullDereferencePanicNamesMethod()
    {
        FrontDoorResult result = FrontDoor.Boot(BootTimeoutSeconds, "crash=null");

        result.AssertExitStatus(KernelPanicStatus);
        result.AssertOutputContains("PANIC");
        result.AssertOutputContains("System.NullReferenceException");
        result.AssertOutputContains("DereferenceNull");
        result.AssertOutputMatches(@"(?m)^.*\bCR2\b.*$");
    }

    [Test]
    public void StackOverflowPanicNamesMethod()
    {
        FrontDoorResult result = FrontDoor.Boot(BootTimeoutSeconds, "crash=stackoverflow");

        // A reboot loop or a hang shows up as 124 (timeout); a triple fault as 125.
        Assert.That(result.ExitCode, Is.Not.EqualTo(124), () => result.Describe("the kernel did not stop after the stack overflow (reboot loop or hang)"));
        Assert.That(result.ExitCode, Is.Not.EqualTo(125), () => result.Describe("the stack overflow reset the machine (triple fault) instead of reporting a panic"));
        result.AssertExitStatus(KernelPanicStatus);
        result.AssertOutputContains("PANIC");
        result.AssertOutputContains("stack overflow", StringComparison.OrdinalIgnoreCase);
        result.AssertOutputContains("OverflowStack");
    }

    [Test]
    public void ExceptionLeavingASystemCallHandlerPanicsNamingTheHandler()
    {
        // crash=syscall-throw makes the ConsoleWrite handler throw; hello's first line calls it.
        // The exception may not leave the kernel (docs/kernel.md): a panic names the handler.
        FrontDoorResult result = FrontDoor.Boot(BootTimeoutSeconds, "crash=syscall-throw", "init=hello");

        result.AssertExitStatus(KernelPanicStatus);
        result.AssertOutputMatches(@"(?m)^PANIC: an exception left the system-call handler Aegis\.Kernel\.Exo\.SystemCalls\.ConsoleWrite \(SystemCalls\.cs:\d+\): System\.InvalidOperationException: deliberate exception in a system-call handler");
        result.AssertOutputMatches(@"(?m)^  at Aegis\.Kernel\.Exo\.SystemCalls\.ThrowDeliberately \(SystemCalls\.cs:\d+\)");
    }

    [Test]
    public void PanicWithoutMemoryPrintsAFullReport()
    {
        // crash=oom-panic takes every free frame and fills the heap, then allocates: the panic
        // report must be written without memory (issue #7), not recurse into a triple fault.
        FrontDoorResult result = FrontDoor.Boot(BootTimeoutSeconds, "crash=oom-panic");

        Assert.That(result.ExitCode, Is.Not.EqualTo(125), () => result.Describe("the out-of-memory panic reset the machine (triple fault)"));
        result.AssertExitStatus(KernelPanicStatus);
        result.AssertOutputContains("crash=oom-panic: no free frame, the heap is full");
        result.AssertOutputContains("PANIC: System.OutOfMemoryException");
        result.AssertOutputContains("PanicWithoutMemory");
        result.AssertOutputContains("Aegis: kernel halted after a panic.");
        Assert.That(result.Output, Does.Not.Contain("PANIC while reporting a panic"), () => result.Describe("the report itself failed"));
    }

    [Test]
    public void UnknownKernelArgumentIsReported()
    {
        FrontDoorResult result = FrontDoor.BootShared(BootTimeoutSeconds, "test=boot", "bogus=1");

        result.AssertOutputContains("unknown kernel argument 'bogus'");
        result.AssertExitStatus(0);
    }

    [Test]
    public void GdbBatchSessionShowsCSharpLine()
    {
        FrontDoorResult result = FrontDoor.DebugBatch(BootTimeoutSeconds);

        result.AssertExitStatus(0);
        result.AssertOutputMatches(@"KernelMain\.cs:\d+");
    }

    [Test]
    public void UnknownKernelArgumentListsTheKnownOnes()
    {
        FrontDoorResult result = FrontDoor.BootShared(BootTimeoutSeconds, "test=boot", "bogus=1");

        Match known = result.AssertOutputMatches(@"unknown kernel argument 'bogus' \(known: (.*)\); ignored");
        foreach (string argument in new[] { "test=boot|runtime|protection", "crash=null|stackoverflow", "init=NAME[:ARGS]", "only=NAME", "exit", "nictest" })
            Assert.That(known.Groups[1].Value, Does.Contain(argument), () => result.Describe("the list of known arguments lacks " + argument));
    }

    [Test]
    public void UnknownInitListsTheImages()
    {
        FrontDoorResult result = FrontDoor.Boot(BootTimeoutSeconds, "init=no-such-app", "exit");

        Match images = result.AssertOutputMatches(@"cannot start init 'no-such-app': there is no boot image of that name; the images are: (.*)");
        foreach (string image in new[] { "hello", "bench", "throw", "exitstatus" })
            Assert.That(images.Groups[1].Value, Does.Contain(image), () => result.Describe("the list of images lacks " + image));
        result.AssertExitStatus(2);
    }

    [Test]
    public void InitWithoutANameIsRefused()
    {
        FrontDoorResult result = FrontDoor.Boot(BootTimeoutSeconds, "init=:42", "exit");

        result.AssertOutputMatches(@"init= needs the name of a boot image \(init=NAME or init=NAME:ARGS\); the images are: .*hello");
        result.AssertExitStatus(2);
    }

    [Test]
    public void InitArgumentsReachTheFirstApp()
    {
        FrontDoorResult result = FrontDoor.Boot(BootTimeoutSeconds, "init=exitstatus:42", "exit");

        result.AssertOutputMatches(@"Aegis: started environment [0-9a-f]+ \(exitstatus\) as init with the argument '42'");
        result.AssertOutputContains("exitstatus: argument '42'");
        result.AssertOutputMatches(@"(?m)^AEGIS-EXIT 42\r?$");
        result.AssertExitStatus(42);
    }

    [Test]
    public void FullExitStatusReachesTheFrontDoor()
    {
        // QEMU's exit device carries 0..127: 200 travels in the kernel's AEGIS-EXIT line.
        FrontDoorResult result = FrontDoor.Boot(BootTimeoutSeconds, "init=exitstatus:200", "exit");

        result.AssertOutputMatches(@"(?m)^AEGIS-EXIT 200\r?$");
        result.AssertOutputContains("aegis: init exited with status 200");
        result.AssertExitStatus(200);
    }

    [Test]
    public void ReservedExitStatusIsNotTakenForAPanic()
    {
        FrontDoorResult result = FrontDoor.Boot(BootTimeoutSeconds, "init=exitstatus:100", "exit");

        result.AssertOutputMatches(@"(?m)^AEGIS-EXIT 100\r?$");
        result.AssertOutputContains("init exited with status 100, which is outside 0..255 or one of this script's own statuses");
        result.AssertExitStatus(99);
    }

    [Test]
    public void RunSaysHowToLeave()
    {
        // Without 'exit' the kernel idles once init has ended: the front door and the kernel both
        // say how to leave. Two seconds after the kernel said it idles, QEMU gets SIGINT, as from
        // Ctrl-C: ./aegis reports 130 only if QEMU was still running then (it did not end by
        // itself), and leaving with Ctrl-C works as the message says.
        FrontDoorResult result = FrontDoor.BootAndInterruptAfter("the kernel idles", TimeSpan.FromSeconds(2), BootTimeoutSeconds, "init=hello");

        result.AssertOutputContains("aegis: the serial console is this terminal; leave with Ctrl-C");
        result.AssertOutputContains("the kernel idles. Leave QEMU with Ctrl-C");
        result.AssertOutputContains("init=NAME exit");
        result.AssertOutputContains("aegis: QEMU was stopped by a signal");
        result.AssertExitStatus(130);
    }

    [Test]
    public void IsoThatCannotStartTheKernelEndsWithAMessage()
    {
        // The built ISO's tree without the kernel: GRUB's first entry fails, its fallback entry
        // says why and ends QEMU with status 3.
        string isoRoot = Path.Combine(FrontDoor.RepositoryRoot, "Aegis.Kernel", "obj", Environment.GetEnvironmentVariable("AEGIS_CONFIG") ?? "Release", "net10.0", "aegis", "isoroot");
        FrontDoor.EnsureIsoBuilt();
        Assert.That(Directory.Exists(isoRoot), Is.True, "no ISO tree at " + isoRoot);
        string work = Path.Combine(Path.GetTempPath(), "aegis-broken-iso-" + Guid.NewGuid().ToString("N"));
        try
        {
            CopyDirectory(isoRoot, Path.Combine(work, "root"));
            File.Delete(Path.Combine(work, "root", "boot", "aegis.elf"));
            string iso = Path.Combine(work, "broken.iso");
            var mkrescue = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("grub-mkrescue", $"-o \"{iso}\" \"{Path.Combine(work, "root")}\"")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            })!;
            string mkrescueOutput = mkrescue.StandardError.ReadToEnd() + mkrescue.StandardOutput.ReadToEnd();
            Assert.That(mkrescue.WaitForExit(120_000) && mkrescue.ExitCode == 0, Is.True, "grub-mkrescue failed: " + mkrescueOutput);

            // After the first entry's errors GRUB shows "Press any key to continue..." and waits
            // up to 10 s before it falls back. A key typed on the keyboard (QEMU's monitor) once
            // GRUB reported the missing kernel waits in the keyboard buffer and ends that pause at
            // once, as it would for a person at the machine.
            FrontDoorResult result = FrontDoor.RunWithMonitor(BootTimeoutSeconds, (monitor, output) =>
            {
                var waited = System.Diagnostics.Stopwatch.StartNew();
                while (!output().Contains("error: file `/boot/aegis.elf' not found"))
                {
                    Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(BootTimeoutSeconds)), () => "GRUB never reported the missing kernel; the output so far:\n" + output());
                    Thread.Sleep(50);
                }
                monitor.Command("sendkey ret");
            }, "--iso", iso);

            result.AssertOutputContains("Aegis: GRUB could not start the kernel");
            result.AssertOutputContains("GRUB could not start the kernel)"); // the front door's reading of status 3
            result.AssertExitStatus(3);
        }
        finally
        {
            if (Directory.Exists(work))
                Directory.Delete(work, recursive: true);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (string directory in Directory.GetDirectories(from))
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
    }

    [Test]
    public void GdbBatchSessionStopsInAnAppsMain()
    {
        FrontDoor.EnsureIsoBuilt();
        FrontDoorResult result = FrontDoor.Run(TimeSpan.FromSeconds(150), "debug", "--batch", "--no-build", "--timeout", "120", "--app", "hello");

        result.AssertExitStatus(0);
        result.AssertOutputContains("add symbol table from file \"artifacts/");
        result.AssertOutputMatches(@"Hello_Aegis_Apps_Hello_Program__Main \(\) at \S*Program\.cs:\d+");
    }

    [Test]
    public void TimeoutStopsQemuAndExits124()
    {
        // UEFI firmware alone needs more than a second under TCG, so one second always expires.
        // The marker argument finds any QEMU left behind.
        string marker = "timeout-probe=" + Guid.NewGuid().ToString("N");

        FrontDoorResult result = FrontDoor.Boot(uefi: true, 1, marker);

        result.AssertExitStatus(124);
        Assert.That(ProcessesWhoseCommandLineContains(marker), Is.Empty, () => result.Describe("QEMU was still running after the timeout"));
    }

    /// <summary>Checks the in-guest runtime suite's report: TEST name PASS|FAIL lines and the TESTS summary.</summary>
    private static void AssertRuntimeSuitePassed(FrontDoorResult result, int minimumTests = MinimumRuntimeTests)
    {
        var passed = new List<string>();
        var failed = new List<string>();
        var summaries = new List<Match>();
        foreach (string rawLine in result.Lines)
        {
            // An app's lines carry the kernel's "[<id> <name>] " prefix (Exo/ConsoleOutput.cs).
            string line = Regex.Replace(rawLine, @"^\[[0-9a-f]+ runtime-suite\] ", "");
            Match test = Regex.Match(line, @"^TEST (\S+) (PASS|FAIL)\b");
            if (test.Success)
                (test.Groups[2].Value == "PASS" ? passed : failed).Add(line);
            Match summary = Regex.Match(line, @"^TESTS (\d+) passed, (\d+) failed$");
            if (summary.Success)
                summaries.Add(summary);
        }

        Assert.That(failed, Is.Empty, () => result.Describe("runtime tests failed:\n" + string.Join("\n", failed)));
        Assert.That(summaries, Has.Count.EqualTo(1), () => result.Describe("expected exactly one line 'TESTS <p> passed, <f> failed'"));
        int summaryPassed = int.Parse(summaries[0].Groups[1].Value);
        int summaryFailed = int.Parse(summaries[0].Groups[2].Value);
        Assert.That(summaryFailed, Is.EqualTo(0), () => result.Describe("the summary line reports failures"));
        Assert.That(passed, Has.Count.GreaterThanOrEqualTo(minimumTests), () => result.Describe($"expected at least {minimumTests} 'TEST <name> PASS' lines"));
        Assert.That(summaryPassed, Is.EqualTo(passed.Count), () => result.Describe("the summary's pass count differs from the number of PASS lines"));
        result.AssertExitStatus(0);
    }

    private static List<string> ProcessesWhoseCommandLineContains(string text)
    {
        var found = new List<string>();
        foreach (string directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out _))
                continue;
            try
            {
                string commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                if (commandLine.Contains(text, StringComparison.Ordinal))
                    found.Add($"{Path.GetFileName(directory)}: {commandLine}");
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }
}

/// <summary>The image a user runs (`./aegis iso --without-tests`): the kernel without its in-guest
/// test suites and the ISO without the fixtures of Tests/Apps; built apart from the test image.</summary>
[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class UserImageTests
{
    private const int BootTimeoutSeconds = 120;
    private const string UserIso = FrontDoor.UserIso;

    [Test]
    public void UserImageShipsNoTestSuitesAndNoFixtures()
    {
        FrontDoor.UserIsoBuild user = FrontDoor.EnsureUserIsoBuilt();
        user.Build.AssertExitStatus(0);
        user.Build.AssertOutputContains("ISO ready: " + UserIso);
        Assert.That(user.LeftTestIsoAlone, Is.True, "building the user image must leave the test image alone");

        FrontDoorResult suite = FrontDoor.Run(TimeSpan.FromSeconds(BootTimeoutSeconds), "run", "--headless", "--timeout", BootTimeoutSeconds.ToString(), "--iso", UserIso, "--", "test=protection");
        suite.AssertOutputContains("Aegis: this kernel was built without its test suites");
        suite.AssertExitStatus(1);

        FrontDoorResult fixture = FrontDoor.Run(TimeSpan.FromSeconds(BootTimeoutSeconds), "run", "--headless", "--timeout", BootTimeoutSeconds.ToString(), "--iso", UserIso, "--", "init=faultread", "exit");
        fixture.AssertOutputMatches(@"the images are: [^\n]*\bhello\b");
        Assert.That(fixture.Output, Does.Not.Contain("faultread,").And.Not.Contain("not-an-app"), () => fixture.Describe("a fixture is in the user image"));
        fixture.AssertExitStatus(2);

        FrontDoorResult hello = FrontDoor.Run(TimeSpan.FromSeconds(BootTimeoutSeconds), "run", "--headless", "--timeout", BootTimeoutSeconds.ToString(), "--iso", UserIso, "--", "init=hello", "exit");
        hello.AssertOutputContains("hello, world from environment");
        hello.AssertExitStatus(0);
    }

    // ---- UTF-8 console (lib helper, issue 8) ----

    [Test]
    public void NonAsciiTextReachesTheSerialConsoleAsUtf8()
    {
        // An app's text: LibOS.Base's Console encodes UTF-8, the kernel passes well-formed UTF-8,
        // a character split across two ConsoleWrite calls included, and turns controls into '?'.
        FrontDoorResult app = FrontDoor.Boot(BootTimeoutSeconds, "init=utf8-text", "exit");
        app.AssertExitStatus(0);
        app.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ utf8-text\] utf8-text: héllo, π ≈ 3\.14, 日本, 🙂\r?$");
        app.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ utf8-text\] utf8-text: ∞ -1\.5E-09 0\.1\r?$");
        app.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ utf8-text\] split: €\r?$");
        app.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ utf8-text\] forge:\?\?\|\?\?\?\|\?\?\?\|\?\|\?\?\r?$");

        // The kernel's own text: KernelLog encodes UTF-8 (its runtime suite prints this line).
        // The same boot as KernelBootTests.RuntimeSuitePasses (one boot per test run).
        FrontDoorResult kernel = FrontDoor.BootShared(KernelBootTests.BootTimeoutSeconds, "test=runtime");
        kernel.AssertOutputMatches(@"(?m)^kernel-utf8: héllo, π ≈ 3\.14, 日本, 🙂\r?$");
        kernel.AssertOutputContains("TEST kernel-log-writes-utf8 PASS");
    }
}
