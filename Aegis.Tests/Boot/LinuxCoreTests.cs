// Boot tests of the Linux personality's core (helper core of issue #9): unmodified static Linux
// programs (Tests/Linux/core-*.c, built with the host's gcc by Apps/Linux/embed-test-programs.sh
// and served as /tests/NAME) run as init under the linux app; the verdict comes from what the
// kernel reports (init's exit status) and what the program printed, compared with the same
// program run on this host's Linux where the output is meant to be the same.
using System.Diagnostics;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

public class LinuxCoreTests
{
    private const int TimeoutSeconds = 90;

    private static FrontDoorResult RunProgram(string path) => FrontDoor.Boot(TimeoutSeconds, "init=linux:" + path, "exit");

    /// <summary>init's exit status as the kernel reported it (also for statuses ./aegis reserves).</summary>
    private static int InitStatus(FrontDoorResult result)
    {
        Match match = result.AssertOutputMatches(@"init exited with status (\d+)");
        return int.Parse(match.Groups[1].Value);
    }

    /// <summary>The lines the linux environment printed (the kernel prefixes them "[ID linux] ").</summary>
    private static string[] ProgramLines(FrontDoorResult result)
        => result.Lines.Select(line => Regex.Match(line, @"^\[[0-9a-f]+ linux\] (.*)$")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToArray();

    /// <summary>Builds Tests/Linux/NAME.c as the embedding does and runs it on this host: its stdout lines and exit status.</summary>
    private static (string[] Lines, int Status) RunOnHost(string name)
    {
        string directory = Directory.CreateTempSubdirectory("aegis-linux-core").FullName;
        string binary = Path.Combine(directory, name);
        var gcc = Process.Start(new ProcessStartInfo("gcc", $"-O2 -static -o {binary} {Path.Combine(FrontDoor.RepositoryRoot, "Tests", "Linux", name + ".c")}") { RedirectStandardError = true })!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        Assert.That(gcc.ExitCode, Is.EqualTo(0), "gcc: " + errors);
        var run = Process.Start(new ProcessStartInfo(binary) { RedirectStandardOutput = true })!;
        string output = run.StandardOutput.ReadToEnd();
        run.WaitForExit();
        return (output.Split("\n").Where(line => line.Length > 0).ToArray(), run.ExitCode);
    }

    private static void AssertSameAsHost(string name, FrontDoorResult result)
    {
        (string[] hostLines, int hostStatus) = RunOnHost(name);
        string[] aegisLines = ProgramLines(result).Where(line => !line.StartsWith("linux: ")).ToArray();
        Assert.That(aegisLines, Is.EqualTo(hostLines), () => result.Describe($"{name} printed differently on Aegis and on this host's Linux"));
        Assert.That(InitStatus(result), Is.EqualTo(hostStatus), () => result.Describe($"{name}'s exit status differs from the host's ({hostStatus})"));
    }

    [Test, Ignore("needs the kernel's system-call upcall (issue #9, helper ksc); enabled when it is merged")]
    public void HelloPrintsAndItsExitStatusIsInits()
    {
        FrontDoorResult result = RunProgram("/tests/core-hello");
        result.AssertOutputContains("hello from a static Linux program");
        result.AssertExitStatus(7);
    }

    [Test, Ignore("needs the kernel's system-call upcall (issue #9, helper ksc); enabled when it is merged")]
    public void StaticPieProgramRelocatesItselfAndRuns()
    {
        FrontDoorResult result = RunProgram("/tests/core-pie");
        result.AssertOutputContains("static-pie: relocated pointer matches, answer 42");
        result.AssertExitStatus(0);
    }

    [Test, Ignore("needs the kernel's system-call upcall (issue #9, helper ksc); enabled when it is merged")]
    public void MemoryCallsBehaveAsOnLinux()
    {
        FrontDoorResult result = RunProgram("/tests/core-memory");
        AssertSameAsHost("core-memory", result);
        result.AssertOutputContains("memory: all ok");
    }

    [Test, Ignore("needs the kernel's system-call upcall (issue #9, helper ksc); enabled when it is merged")]
    public void IdentityTimeAndErrorPathsBehaveAsOnLinux()
    {
        FrontDoorResult result = RunProgram("/tests/core-calls");
        AssertSameAsHost("core-calls", result);
        result.AssertOutputContains("calls: all ok");
        // The unimplemented number was called twice: one log line, by name and number.
        int reports = ProgramLines(result).Count(line => Regex.IsMatch(line, @"^linux: .*\(400\) is not implemented: -ENOSYS$"));
        Assert.That(reports, Is.EqualTo(1), () => result.Describe("expected exactly one -ENOSYS report for number 400"));
    }

    [Test, Ignore("needs the kernel's system-call upcall (issue #9, helper ksc); enabled when it is merged")]
    public void WriteToAReadOnlyPageEndsTheProgramWithSigsegv()
    {
        FrontDoorResult result = RunProgram("/tests/core-segv");
        result.AssertOutputContains("writing into a read-only page");
        result.AssertOutputMatches(@"linux: Segmentation fault \(SIGSEGV\) in /tests/core-segv \(pid [0-9]+\) at rip 0x[0-9a-f]+, address 0x[0-9a-f]+ \(access not allowed\)");
        Assert.That(result.Output.Contains("still alive"), Is.False, () => result.Describe("the program ran on after the fault"));
        Assert.That(InitStatus(result), Is.EqualTo(139), () => result.Describe("expected status 128 + SIGSEGV"));
    }

    [TestCase("/tests/core-text", "not an ELF executable", 126)]
    [TestCase("/tests/core-truncated", "truncated ELF file", 126)]
    [TestCase("/tests/core-arm", "an ELF for another architecture (AArch64): only x86-64 programs run here", 126)]
    [TestCase("/tests/core-dynamic", "is dynamically linked: needs the dynamic linker (issue #10)", 127)]
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
