// Boot tests of Linux signals (LibOS.Unixish/Linux/Signals, helper signals of issue #9): the
// Tests/Linux/signal-*.c programs (served as /tests/NAME by the linux app's embedded programs)
// run as init under the linux app; each passes when what it printed and its exit status are
// the host Linux's for the same program (built with the host's gcc) - the verdict comes from the
// comparison and the kernel's report of init's status, never from the program's own say-so.
using System.Diagnostics;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

public class LinuxSignalBootTests
{
    private const int TimeoutSeconds = 120;

    private static FrontDoorResult RunProgram(string path) => FrontDoor.Boot(TimeoutSeconds, "init=linux:" + path, "exit");

    private static int InitStatus(FrontDoorResult result)
        => int.Parse(result.AssertOutputMatches(@"init exited with status (\d+)").Groups[1].Value);

    private static string[] ProgramLines(FrontDoorResult result)
        => result.Lines.Select(line => Regex.Match(line, @"^\[[0-9a-f]+ linux\] (.*)$")).Where(m => m.Success)
            .Select(m => m.Groups[1].Value).Where(line => !line.StartsWith("linux: ")).ToArray();

    private static (string[] Lines, int Status) RunOnHost(string name)
    {
        string directory = Directory.CreateTempSubdirectory("aegis-linux-signal").FullName;
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

    private static FrontDoorResult RunSameAsHost(string name, int expectedStatus)
    {
        (string[] hostLines, int hostStatus) = RunOnHost(name);
        Assert.That(hostStatus, Is.EqualTo(expectedStatus), $"{name} on this host's Linux");
        FrontDoorResult result = RunProgram("/tests/" + name);
        Assert.That(ProgramLines(result), Is.EqualTo(hostLines), () => result.Describe($"{name} printed differently on Aegis and on this host's Linux"));
        Assert.That(InitStatus(result), Is.EqualTo(hostStatus), () => result.Describe($"{name}'s exit status differs from the host's ({hostStatus})"));
        return result;
    }

    [Test]
    public void SegvHandlerRepairsWithMprotectAndResumes() => RunSameAsHost("signal-segv", 0);

    [Test]
    public void RaiseKillAndSigqueueCarryTheirSiginfo() => RunSameAsHost("signal-siginfo", 0);

    [Test]
    public void BlockedSignalsAreDeliveredWhenUnblockedInLinuxOrder() => RunSameAsHost("signal-mask", 0);

    [Test]
    public void DivisionByZeroIsCaughtAsSigfpe() => RunSameAsHost("signal-fpe", 0);

    [Test]
    public void AlternateStackIsUsedForOnstackHandlers() => RunSameAsHost("signal-altstack", 0);

    [Test]
    public void AlarmInterruptsPauseAndNanosleepWithEintr() => RunSameAsHost("signal-alarm", 0);

    [Test]
    public void IgnoredResethandAndNodeferBehaveAsOnLinux() => RunSameAsHost("signal-ignore", 0);

    [Test]
    public void AbortEndsTheProgramWithStatus134()
    {
        FrontDoorResult result = RunSameAsHost("signal-abort", 134);
        result.AssertOutputContains("Aborted (SIGABRT)");
    }

    [Test]
    public void SignalBenchDeliversEverySignal()
    {
        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=linux:/tests/signal-bench", "exit");
        Match match = result.AssertOutputMatches(@"BENCH linux_signal_self (\d+) ([0-9.]+)");
        Assert.That(InitStatus(result), Is.EqualTo(0), () => result.Describe("a signal went missing"));
        TestContext.Out.WriteLine("linux_signal_self " + match.Groups[2].Value + " (not under -icount: TSC ticks)");
    }
}
