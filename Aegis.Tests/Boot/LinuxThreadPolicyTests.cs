// Boot test of the thread policies of the Linux personality (LinuxThreads, docs/libos-unixish.md
// "Threads"): Tests/Linux/boot-threads-share runs a process with four busy threads beside one with a
// single busy thread over the same 600 ms and reports the loop iterations each thread made. The
// verdict is in those counts, judged here: round robin takes one slice of the kernel's slice
// vector per runnable thread (up to four), so the four-thread process does about four times the
// work, spread over its threads; run-to-completion (AEGIS_THREADS=run-to-completion) takes no
// extra slice and never preempts, so the first thread does everything and the process no more
// than the single-threaded one.
using System.Text.RegularExpressions;
using Aegis.Tests.Host;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class LinuxThreadPolicyTests
{
    private const int TimeoutSeconds = 150;

    [Test]
    public void RoundRobinTakesASliceForEachRunnableThreadAndRunToCompletionKeepsOneThreadRunning()
    {
        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=/bin/sh", "-c",
            "'/tests/boot-threads-share && /tests/boot-threads-share run-to-completion; echo status $?'", "exit");
        string[] lines = LinuxBootRuns.OwnLines(result);
        Assert.That(lines, Does.Contain("status 0"), () => result.Describe("boot-threads-share ran twice"));
        var four = lines.Select(l => Regex.Match(l, @"^busy4 (\d+) (\d+) (\d+) (\d+) (\d+)$")).Where(m => m.Success).ToArray();
        var one = lines.Select(l => Regex.Match(l, @"^busy1 (\d+)$")).Where(m => m.Success).ToArray();
        Assert.That(four, Has.Length.EqualTo(2), () => result.Describe("two busy4 lines"));
        Assert.That(one, Has.Length.EqualTo(2), () => result.Describe("two busy1 lines"));

        double Total(Match m) => double.Parse(m.Groups[1].Value);
        double Thread(Match m, int i) => double.Parse(m.Groups[2 + i].Value);

        // Round robin: four slices against one.
        double ratio = Total(four[0]) / Total(one[0]);
        Assert.That(ratio, Is.InRange(2.5, 6.0), () => result.Describe($"round robin: the four-thread process did {ratio:F2} times the single-threaded one's work"));
        for (int i = 0; i < 4; i++)
            Assert.That(Thread(four[0], i) / Total(four[0]), Is.GreaterThan(0.1), () => result.Describe($"round robin: thread {i} got its turns"));

        // Run to completion: one slice, the first thread alone.
        double ratioRtc = Total(four[1]) / Total(one[1]);
        Assert.That(ratioRtc, Is.InRange(0.5, 2.0), () => result.Describe($"run-to-completion: {ratioRtc:F2} times the single-threaded one's work (one slice each)"));
        Assert.That(Thread(four[1], 0) / Total(four[1]), Is.GreaterThan(0.9), () => result.Describe("run-to-completion: the first thread was never preempted"));
        result.AssertExitStatus(0);
    }

    /// <summary>A thread keeps running while another waits for a terminal line: the worker's
    /// report comes before anything is typed (it used to wait for the line: the terminal's read
    /// blocked every thread of the process).</summary>
    [Test]
    public void ATerminalReadLetsTheOtherThreadsRun()
    {
        FrontDoorResult result = FrontDoorSession.Run(TimeSpan.FromSeconds(TimeoutSeconds), new[]
        {
            new FrontDoorSession.Step(@"\] worker: the read was still waiting", "hello tty\n"),
        }, new[] { "run", "--headless", "--no-build", "--timeout", TimeoutSeconds.ToString(), "--", "init=/tests/boot-threads-tty", "exit" });
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] worker: the read was still waiting\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] read: hello tty\r?$");
        result.AssertExitStatus(0);
    }
}
