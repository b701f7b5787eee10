// Boot test of fork's memory accounting (issue #9, fast fork): a shell that forks and execs 200
// times leaks no frame. Copy-on-write leaves the shell's old frames mapped by children; the
// kernel's PageShare Release gives them up, and each is freed when the last child mapping it
// ends. Before that change every fork left the frames the shell copied afterwards owned by the
// shell for its whole life (about 20 a fork). The verdict is the kernel's count of free frames
// (InfoPage.FreeFrames, as /proc/meminfo's MemFree shows it) before and after the loop, read by
// the shell (its read builtin, after a second for the kernel to take ended environments' memory
// back), never a line the guest prints about itself.
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class LinuxForkTests
{
    private const int TimeoutSeconds = 300;
    private const int Forks = 200;
    /// <summary>What the shell may still take for itself during the loop (its heap, a page or two of
    /// its own written for the first time): 64 frames. A leak of one frame a fork is 200.</summary>
    private const long ToleranceKiB = 64 * 4;

    [Test]
    public void ShellForkingTwoHundredTimesLeaksNoFrames()
    {
        // A warm-up loop first (the shell's own pages settle), then the measured one.
        // MemFree is read by the shell itself (the read builtin: no process of its own whose pages
        // would count), each time after a second's sleep: the kernel returns an ended environment's
        // memory over the following ticks, and the last children of a loop may still be going.
        // (Read through `grep | sed`, a reading could catch the pipeline half-forked: up to
        // hundreds of frames of difference between the two readings that were no leak.)
        // `sleep` is a process too: the kernel returns an ended process's memory over the ticks
        // after its exit (1,024 units a tick), and a shell as fast as this one read MemFree within
        // the same tick, 377 frames of the sleep's own short (one run in four). A loop of the
        // shell's own lets a few ticks pass before the reading.
        const string Free = "sleep 1; j=0; while [ $j -lt 2000 ]; do j=$((j+1)); done; while read k v u; do [ \"$k\" = MemFree: ] && echo \"{0} MemFree: $v kB\"; done < /proc/meminfo\n";
        string session = "\n"
            + "i=0; while [ $i -lt 20 ]; do /bin/true; i=$((i+1)); done\n"
            + string.Format(Free, "before")
            + $"i=0; while [ $i -lt {Forks} ]; do /bin/true; i=$((i+1)); done; echo \"forked $i\"\n"
            + string.Format(Free, "after")
            + "exit 0\n";
        FrontDoorResult result = FrontDoor.BootWithInput(session, TimeoutSeconds);

        result.AssertOutputMatches($@"(?m)^\[[0-9a-f]+ linux\] forked {Forks}\r?$");
        Match before = Regex.Match(result.Output, @"(?m)^\[[0-9a-f]+ linux\] before MemFree:\s+(\d+) kB\r?$");
        Match after = Regex.Match(result.Output, @"(?m)^\[[0-9a-f]+ linux\] after MemFree:\s+(\d+) kB\r?$");
        Assert.That(before.Success && after.Success, Is.True, () => result.Describe("no MemFree lines"));
        long lost = long.Parse(before.Groups[1].Value) - long.Parse(after.Groups[1].Value);
        Assert.That(lost, Is.LessThanOrEqualTo(ToleranceKiB), () => result.Describe($"{Forks} forks lost {lost} KiB"));
        result.AssertExitStatus(0);
    }
}
