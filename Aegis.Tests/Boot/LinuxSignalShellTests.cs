// Boot test of signals between processes as a user meets them at the shell (issue #9): Ctrl-C typed
// while a foreground `sleep 100` runs stops it (SIGINT to the foreground process group) and the shell
// prompts again, `$?` is 130; `kill` ends a sleeping and a computing background job (143); ^C
// ends a foreground job that computes without ever blocking (130). The
// input is typed in steps (FrontDoorSession), each after the shell printed what the step before
// asked for, so the ^C byte arrives while the sleep runs. Verdicts: the shell's own output, the
// elapsed time (well under the 100 s the sleep asked for) and QEMU's exit status.
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class LinuxSignalShellTests
{
    private const int TimeoutSeconds = 150;

    [Test]
    public void CtrlCStopsAForegroundSleepAndKillEndsSleepingAndComputingJobs()
    {
        var typedAt = new List<TimeSpan>();
        FrontDoorResult result = FrontDoorSession.Run(TimeSpan.FromSeconds(TimeoutSeconds), new[]
        {
            // The leading newline: GRUB resets COM1's receiver, so a byte sent that early may be lost.
            new FrontDoorSession.Step(null, "\necho ready-$((6*7))\n"),
            new FrontDoorSession.Step(@"\] ready-42", "sleep 100\n"),
            new FrontDoorSession.Step(null, "\u0003", delayMilliseconds: 3000),
            new FrontDoorSession.Step(null, "echo \"after $?\"\n", delayMilliseconds: 1000),
            new FrontDoorSession.Step(@"\] after \d", "sleep 100 & kill $!; wait $!; echo \"killed $?\"\n"),
            new FrontDoorSession.Step(@"\] killed \d", "sh -c 'while :; do :; done' & sleep 1; kill $!; wait $!; echo \"busy $?\"\n"),
            new FrontDoorSession.Step(@"\] busy \d", "sh -c 'while :; do :; done'\n"),
            new FrontDoorSession.Step(null, "\u0003", delayMilliseconds: 3000),
            new FrontDoorSession.Step(null, "echo \"computing $?\"\n", delayMilliseconds: 1000),
            new FrontDoorSession.Step(@"\] computing \d", "exit 5\n"),
        }, new[] { "run", "--headless", "--no-build", "--timeout", TimeoutSeconds.ToString() }, typedAt);

        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] after 130\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] killed 143\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] busy 143\r?$");
        // A foreground job that computes without a system call: ^C reaches it through the shell.
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] computing 130\r?$");
        result.AssertExitStatus(5);
        // From typing "sleep 100" to the shell's answer after ^C (when the next step typed): far less than 100 s.
        Assert.That(typedAt.Count, Is.EqualTo(10), () => result.Describe("not every step was typed"));
        double seconds = (typedAt[4] - typedAt[1]).TotalSeconds;
        Assert.That(seconds, Is.LessThan(40), () => result.Describe("^C did not stop the sleep: the shell answered after " + seconds.ToString("0") + " s"));
        Assert.That(result.Output, Does.Not.Contain("destroyed by its capability holder"), "reaping a child is not worth a kernel line");
    }

    /// <summary>Job control with stops: ^Z stops a foreground `sleep 100` (SIGTSTP to its group;
    /// the shell's waitpid(WUNTRACED) reports it, $? is 148 and `jobs` lists it as Stopped); `fg`
    /// continues it in the foreground (SIGCONT) and ^C then ends it (130); a job stopped by ^Z and
    /// sent on with `bg` runs to its end in the background (wait gives its status 0).</summary>
    [Test]
    public void CtrlZStopsAForegroundJobWhichFgAndBgContinue()
    {
        var typedAt = new List<TimeSpan>();
        FrontDoorResult result = FrontDoorSession.Run(TimeSpan.FromSeconds(TimeoutSeconds), new[]
        {
            new FrontDoorSession.Step(null, "\necho ready-$((6*7))\n"),
            new FrontDoorSession.Step(@"\] ready-42", "sleep 100\n"),
            new FrontDoorSession.Step(null, "\u001a", delayMilliseconds: 3000),
            new FrontDoorSession.Step(@"Stopped", "echo \"stopped $?\"; jobs\n", delayMilliseconds: 500),
            new FrontDoorSession.Step(@"\] stopped \d", "fg\n"),
            new FrontDoorSession.Step(null, "\u0003", delayMilliseconds: 3000),
            new FrontDoorSession.Step(null, "echo \"after-fg $?\"\n", delayMilliseconds: 1000),
            new FrontDoorSession.Step(@"\] after-fg \d", "sleep 2; echo slept\n"),
            new FrontDoorSession.Step(null, "\u001a", delayMilliseconds: 1000),
            new FrontDoorSession.Step(@"Stopped +sleep 2", "bg; wait; echo \"waited $?\"\n", delayMilliseconds: 500),
            new FrontDoorSession.Step(@"\] waited \d", "exit 6\n"),
        }, new[] { "run", "--headless", "--no-build", "--timeout", TimeoutSeconds.ToString() }, typedAt);

        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] stopped 148\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] \[1\]\+ +Stopped +sleep 100\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] after-fg 130\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] (\^Z)?slept\r?$"); // after the echoed ^Z when the list went on
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] waited 0\r?$");
        result.AssertExitStatus(6);
        Assert.That(typedAt.Count, Is.EqualTo(11), () => result.Describe("not every step was typed"));
    }
}
