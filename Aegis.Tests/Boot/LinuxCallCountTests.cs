// Boot test of AEGIS_SYSCALL_COUNTS (docs/libos-unixish.md, "Counting a program's calls"): a program
// execve'd with AEGIS_SYSCALL_COUNTS=1 in its environment reports at its exit how many system calls
// of each number it made and the TSC ticks a call took; one started without it reports nothing. busybox cat of the same file
// twice opens, copies out (sendfile) and closes it twice, which the report must show; and the
// report's count of every call is the one strace gives on the host for the same busybox binary,
// run the same way (busybox's shell execs the applet through /proc/self/exe).
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
public class LinuxCallCountTests
{
    private const int TimeoutSeconds = 120;

    [Test]
    public void AProgramStartedWithAegisSyscallCountsReportsItsCallsAtExitAndOnlyThatOne()
    {
        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=/bin/sh", "-c",
            "'AEGIS_SYSCALL_COUNTS=1 busybox cat /etc/hostname /etc/hostname; busybox cat /etc/hostname; echo status $?'", "exit");
        result.AssertExitStatus(0);
        string[] lines = LinuxBootRuns.ProgramLines(result);
        Assert.That(lines, Does.Contain("status 0"), () => result.Describe("the shell ran both"));
        int at = Array.FindIndex(lines, l => Regex.IsMatch(l, @"^linux: system calls of pid \d+: \d+$"));
        Assert.That(at, Is.GreaterThanOrEqualTo(0), () => result.Describe("no report"));
        Assert.That(Array.FindAll(lines, l => l.StartsWith("linux: system calls of pid", StringComparison.Ordinal)), Has.Length.EqualTo(1),
            () => result.Describe("one report: the cat without the variable and the shell count nothing"));
        long total = long.Parse(Regex.Match(lines[at], @": (\d+)$").Groups[1].Value);
        var names = new System.Collections.Generic.List<string>();
        var numbers = new System.Collections.Generic.List<long>();
        var ticks = new System.Collections.Generic.List<long>();
        for (int i = at + 1; i < lines.Length; i++)
        {
            Match m = Regex.Match(lines[i], @"^linux:   (\S+) (\d+) (\d+)$");
            if (!m.Success) break;
            names.Add(m.Groups[1].Value);
            numbers.Add(long.Parse(m.Groups[2].Value));
            ticks.Add(long.Parse(m.Groups[3].Value));
        }
        long Count(string name) { int i = names.IndexOf(name); return i < 0 ? 0 : numbers[i]; }
        long Ticks(string name) { int i = names.IndexOf(name); return i < 0 ? 0 : ticks[i]; }
        long sum = 0;
        bool mostFirst = true;
        for (int i = 0; i < numbers.Count; i++)
        {
            sum += numbers[i];
            if (i > 0 && numbers[i] > numbers[i - 1]) mostFirst = false;
        }
        string said = string.Join(", ", names) + " / " + string.Join(", ", numbers) + " / ticks a call " + string.Join(", ", ticks);
        // The host's Linux, same binary, same shell line, same file: the same calls, each as often.
        SortedDictionary<string, long> host = HostCounts();
        var guest = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < names.Count; i++) guest[names[i]] = numbers[i];
        string Show(SortedDictionary<string, long> counts) => string.Join(" ", counts.Select(c => c.Key + "=" + c.Value));
        Assert.That(Show(guest), Is.EqualTo(Show(host)), () => result.Describe("the counts strace gives on the host (expected) and the report's"));
        Assert.That(sum, Is.EqualTo(total), () => result.Describe("the lines add up to the total: " + said));
        Assert.That(Count("openat") + Count("open"), Is.GreaterThanOrEqualTo(2), () => result.Describe("two opens: " + said));
        Assert.That(Count("write") + Count("sendfile"), Is.GreaterThanOrEqualTo(2), () => result.Describe("two copies out (busybox's cat uses sendfile): " + said));
        Assert.That(Count("close"), Is.GreaterThanOrEqualTo(2), () => result.Describe("two closes: " + said));
        Assert.That(Count("exit_group"), Is.EqualTo(1), () => result.Describe("one exit_group: " + said));
        Assert.That(mostFirst, Is.True, () => result.Describe("most first: " + said));
        Assert.That(Ticks("openat") + Ticks("open"), Is.GreaterThan(0), () => result.Describe("an open takes time: " + said));
        Assert.That(Ticks("close"), Is.GreaterThan(0), () => result.Describe("a close takes time: " + said));
        Assert.That(Ticks("exit_group"), Is.EqualTo(0), () => result.Describe("exit_group never returns, so it counts no time: " + said));
    }

    /// <summary>What strace counts on the host for the cat of the test's shell line: the calls of
    /// the process after its last execve (the applet's own, as the report counts them), by name.</summary>
    private static SortedDictionary<string, long> HostCounts()
    {
        string stage = Path.Combine(FrontDoor.RepositoryRoot, "Apps", "Linux", "obj", "Release", "net10.0", "aegis", "rootfs", "stage");
        string busybox = Path.Combine(stage, "bin", "busybox");
        string work = Path.Combine(Path.GetTempPath(), "aegis-strace-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            string file = Path.Combine(work, "hostname");
            File.Copy(Path.Combine(stage, "etc", "hostname"), file);
            var start = new System.Diagnostics.ProcessStartInfo("strace")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (string argument in new[] { "-f", "-ff", "-s", "512", "-o", Path.Combine(work, "trace"), busybox, "sh", "-c",
                                                 $"AEGIS_SYSCALL_COUNTS=1 busybox cat {file} {file}; busybox cat {file}" })
                start.ArgumentList.Add(argument);
            using var strace = System.Diagnostics.Process.Start(start)!;
            string output = strace.StandardOutput.ReadToEnd();
            string errors = strace.StandardError.ReadToEnd();
            strace.WaitForExit();
            Assert.That(strace.ExitCode, Is.EqualTo(0), "strace on the host: " + errors);
            // The counted cat: the process whose execve's argv names the file twice (strace shows
            // no environment, so not the variable).
            string twice = $"\"cat\", \"{file}\", \"{file}\"";
            string[] traces = Directory.GetFiles(work, "trace.*")
                .Where(t => File.ReadLines(t).Any(l => l.StartsWith("execve(", StringComparison.Ordinal) && l.Contains(twice) && l.EndsWith("= 0", StringComparison.Ordinal)))
                .ToArray();
            Assert.That(traces, Has.Length.EqualTo(1), "one host process ran the counted cat");
            string[] lines = File.ReadAllLines(traces[0]);
            int last = Array.FindLastIndex(lines, l => l.StartsWith("execve(", StringComparison.Ordinal) && l.EndsWith("= 0", StringComparison.Ordinal));
            var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
            for (int i = last + 1; i < lines.Length; i++)
            {
                Match call = Regex.Match(lines[i], @"^([a-z_0-9]+)\(");
                if (!call.Success) continue; // "+++ exited", "--- SIG", "<... resumed>"
                counts[call.Groups[1].Value] = counts.TryGetValue(call.Groups[1].Value, out long n) ? n + 1 : 1;
            }
            Assert.That(counts.ContainsKey("openat") && counts.ContainsKey("exit_group"), "the host trace shows the cat: " + string.Join(" ", counts.Keys));
            return counts;
        }
        finally { Directory.Delete(work, true); }
    }
}
