// Boot tests of the Linux personality's core (helper core of issue #9): unmodified static Linux
// programs (Tests/Linux/core-*.c, each with its line "// aegis-link: static", built with the host's
// gcc by tools/rootfs/build-program.sh and served as /tests/NAME) run as init under the linux app; the verdict comes from what the
// kernel reports (init's exit status) and what the program printed, compared with the same
// program run on this host's Linux where the output is meant to be the same.
using System.Diagnostics;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[Parallelizable(ParallelScope.All)]
public class LinuxCoreTests
{
    private const int TimeoutSeconds = 90;

    private static FrontDoorResult RunProgram(string path) => LinuxBootRuns.RunProgram(path, TimeoutSeconds);

    private static int InitStatus(FrontDoorResult result) => LinuxBootRuns.InitStatus(result);

    private static string[] ProgramLines(FrontDoorResult result) => LinuxBootRuns.ProgramLines(result);

    private static void AssertSameAsHost(string name, FrontDoorResult result) => LinuxBootRuns.AssertSameAsHost(name, result);

    [Test]
    public void HelloPrintsAndItsExitStatusIsInits()
    {
        FrontDoorResult result = RunProgram("/tests/core-hello");
        result.AssertOutputContains("hello from a static Linux program");
        result.AssertExitStatus(7);
    }

    /// <summary>issue #10: core-hello linked dynamically (gcc's default PIE with PT_INTERP) runs
    /// through Debian's ld-linux-x86-64.so.2 and libc.so.6 from the root file system.</summary>
    [Test]
    public void ADynamicallyLinkedProgramRunsThroughTheDynamicLinker()
    {
        FrontDoorResult result = RunProgram("/tests/core-dynamic");
        Assert.That(ProgramLines(result), Is.EqualTo(new[] { "hello from a static Linux program" }), () => result.Describe("expected core-hello's one line"));
        result.AssertExitStatus(7);
    }

    [Test]
    public void StaticPieProgramRelocatesItselfAndRuns()
    {
        FrontDoorResult result = RunProgram("/tests/core-pie");
        result.AssertOutputContains("static-pie: relocated pointer matches, answer 42");
        result.AssertExitStatus(0);
    }

    [Test]
    public void MemoryCallsBehaveAsOnLinux()
    {
        FrontDoorResult result = RunProgram("/tests/core-memory");
        AssertSameAsHost("core-memory", result);
        result.AssertOutputContains("memory: all ok");
    }

    [Test]
    public void IdentityTimeAndErrorPathsBehaveAsOnLinux()
    {
        FrontDoorResult result = RunProgram("/tests/core-calls");
        AssertSameAsHost("core-calls", result);
        result.AssertOutputContains("calls: all ok");
        // The unimplemented number was called twice: one log line, by name and number.
        int reports = ProgramLines(result).Count(line => Regex.IsMatch(line, @"^linux: .*\(400\) is not implemented: -ENOSYS$"));
        Assert.That(reports, Is.EqualTo(1), () => result.Describe("expected exactly one -ENOSYS report for number 400"));
    }

    [Test]
    public void ExecveReplacesTheProgramInPlaceAndFailuresReturn()
    {
        FrontDoorResult result = RunProgram("/tests/core-exec");
        string[] lines = ProgramLines(result).Where(line => !line.StartsWith("linux: ")).ToArray();
        Assert.That(lines, Is.EqualTo(new[]
        {
            "missing file: ENOENT",
            "text file: ENOEXEC",
            "bad path: EFAULT",
            "child: argc 3, argv[0] /tests/core-exec, env FROM=parent, next env (none)",
            "child: pid unchanged",
        }), () => result.Describe("execve's failures must return to the caller and its success must start the new image in the same environment"));
        Assert.That(InitStatus(result), Is.EqualTo(5), () => result.Describe("the new image's exit status"));
    }

    [Test]
    public void WriteToAReadOnlyPageEndsTheProgramWithSigsegv()
    {
        FrontDoorResult result = RunProgram("/tests/core-segv");
        result.AssertOutputContains("writing into a read-only page");
        result.AssertOutputMatches(@"linux: Segmentation fault \(SIGSEGV\) in /tests/core-segv \(pid [0-9]+\) at rip 0x[0-9a-f]+, address 0x[0-9a-f]+ \(access not allowed\)");
        Assert.That(result.Output.Contains("still alive"), Is.False, () => result.Describe("the program ran on after the fault"));
        Assert.That(InitStatus(result), Is.EqualTo(139), () => result.Describe("expected status 128 + SIGSEGV"));
    }

    /// <summary>The getppid round trip under -icount (the figure itself is the benchmark's report,
    /// docs/benchmarks.md, not a test's verdict): the program runs to the end and reports a cost.</summary>
    [Test]
    public void PollAndSelectOnASharedPipeSleepUntilItChanges()
    {
        // The verdict is the kernel's own report of the CPU's idle time (its last lines: "the CPU was
        // idle N ms since boot"), not the program's say-so about itself: the two waits of 300 ms
        // leave ~600 ms idle (a boot that only runs /bin/true leaves ~40); a poll that looked again
        // and again, yielding, would leave the CPU no idle time while it waits.
        FrontDoorResult result = RunProgram("/tests/core-poll-sleep");
        Assert.That(ProgramLines(result), Is.EqualTo(new[] { "poll: 1, POLLIN", "poll: slept", "select: 1, readable", "select: slept" }),
            () => result.Describe("poll and select on a pipe its child writes after 300 ms"));
        Assert.That(InitStatus(result), Is.Zero, () => result.Describe("exit status 0"));
        Match idle = result.AssertOutputMatches(@"(?m)^Aegis: the CPU was idle (\d+) ms since boot\r?$");
        Assert.That(int.Parse(idle.Groups[1].Value), Is.GreaterThanOrEqualTo(400),
            () => result.Describe("the kernel saw the CPU idle for less than 400 ms: the waits did not sleep"));
    }

    [Test]
    public void GetppidBenchmarkReportsItsCost()
    {
        FrontDoor.EnsureIsoBuilt();
        FrontDoorResult result = FrontDoor.Run(TimeSpan.FromSeconds(TimeoutSeconds),
            "run", "--headless", "--no-build", "--icount", "--timeout", TimeoutSeconds.ToString(), "--", "init=linux:/tests/core-bench", "exit");
        Match line = result.AssertOutputMatches(@"BENCH linux_getppid 20000 (\d+)\.(\d)");
        Assert.That(int.Parse(line.Groups[1].Value), Is.GreaterThan(0), () => result.Describe("no cost reported"));
        result.AssertExitStatus(0);
    }

    [TestCase("/tests/core-text", "not an ELF executable", 126)]
    [TestCase("/tests/core-truncated", "truncated ELF file", 126)]
    [TestCase("/tests/core-arm", "an ELF for another architecture (AArch64): only x86-64 programs run here", 126)]
    [TestCase("/tests/core-no-linker", "its dynamic linker /lib64/no-such-linker.so.2 is missing", 127)]
    [TestCase("/tests/no-such-program", "no such file", 127)]
    public void AFileThatCannotRunGetsOneClearLine(string path, string reason, int status)
    {
        FrontDoorResult result = RunProgram(path);
        string[] lines = ProgramLines(result);
        Assert.That(lines.Count(line => line.StartsWith("linux: " + path + ": " + reason)), Is.EqualTo(1), () => result.Describe($"expected one line 'linux: {path}: {reason}...'"));
        Assert.That(lines.Length, Is.EqualTo(1), () => result.Describe("expected nothing else from the linux environment"));
        Assert.That(InitStatus(result), Is.EqualTo(status), () => result.Describe($"expected the shell's status {status}"));
    }
}
