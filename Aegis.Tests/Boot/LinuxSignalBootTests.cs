// Boot tests of Linux signals (LibOS.Unixish/Linux/Signals, helper signals of issue #9): the
// Tests/Linux/signal-*.c programs (served as /tests/NAME by the linux app's embedded programs)
// run as init under the linux app; each passes when what it printed and its exit status are
// the host Linux's for the same program (built with the host's gcc) - the verdict comes from the
// comparison and the kernel's report of init's status, never from the program's own say-so.
using System.Diagnostics;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[Parallelizable(ParallelScope.All)]
public class LinuxSignalBootTests
{
    private const int TimeoutSeconds = 120;

    private static int InitStatus(FrontDoorResult result) => LinuxBootRuns.InitStatus(result);

    private static FrontDoorResult RunSameAsHost(string name, int expectedStatus)
    {
        FrontDoorResult result = LinuxBootRuns.RunProgram("/tests/" + name, TimeoutSeconds);
        Assert.That(LinuxBootRuns.AssertSameAsHost(name, result), Is.EqualTo(expectedStatus), $"{name}'s status on this host's Linux");
        return result;
    }

    [Test]
    public void SegvHandlerRepairsWithMprotectAndResumes() => RunSameAsHost("signal-segv", 0);

    [Test]
    public void RaiseKillAndSigqueueCarryTheirSiginfo() => RunSameAsHost("signal-siginfo", 0);

    [Test]
    public void BlockedSignalsAreDeliveredWhenUnblockedInLinuxOrder() => RunSameAsHost("signal-mask", 0);

    /// <summary>The FP/SSE state through the fast delivery (kill to itself) and rt_sigreturn: the
    /// handler's initial state, the frame's copy, the program's state after, the handler's edits of
    /// the frame loaded by sigreturn (SignalFrame.SwitchFpToHandler / RestoreFp, linux.S's FXSAVE moves).</summary>
    [Test]
    public void FpStateGoesIntoTheFrameAndComesBackBySigreturn() => RunSameAsHost("signal-fpstate", 0);

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
