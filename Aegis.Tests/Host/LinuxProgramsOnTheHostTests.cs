// The host half of the differential tests: every program of Tests/Linux builds with the build's
// flags, passes on the host Linux (status 0, no FAILED line) and prints exactly the same thing
// on two runs, so a difference on Aegis is Aegis's. The benchmark program prints one well-formed
// BENCH line per workload asked for, "exit0" exits 0 silently, an unknown workload is status 2.
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class LinuxProgramsOnTheHostTests
{
    private static IEnumerable<string> Programs() => LinuxPrograms.DifferentialNames();

    [Test]
    public void EveryDifferentialProgramIsListed()
    {
        // The differential tests enumerate Tests/Linux; a rename or an empty folder must not go unseen.
        Assert.That(LinuxPrograms.DifferentialNames(), Is.SupersetOf(new[]
        {
            "brk", "clocks", "dents", "dup2", "errno", "files", "fork", "hello", "mmap", "pipe", "sigchld", "uname",
        }));
    }

    [TestCaseSource(nameof(Programs))]
    public void ProgramPassesOnTheHostAndItsOutputIsStable(string name)
    {
        LinuxProgramRun first = LinuxPrograms.RunOnHost(name);
        LinuxProgramRun second = LinuxPrograms.RunOnHost(name);

        Assert.That(first.Lines.Count, Is.GreaterThan(2), () => $"{name} printed almost nothing:\n{first.Output}");
        Assert.That(first.Lines[0], Is.EqualTo("== " + name), () => $"{name}'s first line must be its marker:\n{first.Output}");
        Assert.That(first.Output, Does.Not.Contain("FAILED"), () => $"{name} fails on the host Linux:\n{first.Output}");
        Assert.That(first.Output, Does.Not.Contain("[stderr]"), () => $"{name} wrote to standard error:\n{first.Output}");
        Assert.That(first.Lines[^1], Is.EqualTo("failures: 0"), () => $"{name} did not finish:\n{first.Output}");
        Assert.That(first.ExitCode, Is.EqualTo(0), () => $"{name} exited {first.ExitCode}:\n{first.Output}");
        Assert.That(second.Output, Is.EqualTo(first.Output), $"{name}'s output differs between two runs on the host");
        Assert.That(second.ExitCode, Is.EqualTo(first.ExitCode), $"{name}'s exit status differs between two runs");
    }

    [Test]
    public void HelloPrintsItsArgumentsAndNoAddress()
    {
        LinuxProgramRun run = LinuxPrograms.RunOnHost("hello", "alpha", "two words");
        Assert.That(run.Lines, Does.Contain("argc: 3"));
        Assert.That(run.Lines, Does.Contain("argv[0] name: hello"));
        Assert.That(run.Lines, Does.Contain("argv[2]: 'two words'"));
        Assert.That(run.Output, Does.Not.Match("0x[0-9a-f]{6,}"), "a program's output must not depend on addresses");
    }

    [Test]
    public void LinuxbenchPrintsOneBenchLinePerWorkload()
    {
        LinuxProgramRun run = LinuxPrograms.RunOnHost(LinuxPrograms.BenchmarkName, "getppid", "stat", "mmap_touch_munmap");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        Assert.That(run.Lines.Count, Is.EqualTo(3), run.Output);
        Assert.That(run.Lines[0], Does.Match(@"^BENCH getppid 20000 \d+\.\d$"));
        Assert.That(run.Lines[1], Does.Match(@"^BENCH stat 10000 \d+\.\d$"));
        Assert.That(run.Lines[2], Does.Match(@"^BENCH mmap_touch_munmap 5000 \d+\.\d$"));
        Assert.That(double.Parse(run.Lines[0].Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0));
    }

    [Test]
    public void LinuxbenchProcessWorkloadsRun()
    {
        // fork_exec_wait execve's the binary itself with "exit0": a failed exec would end it with status 1.
        LinuxProgramRun run = LinuxPrograms.RunOnHost(LinuxPrograms.BenchmarkName, "fork_exec_wait", "pipe_roundtrip", "signal_self");
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Output);
        Assert.That(run.Lines.Select(line => Regex.Replace(line, @" \d+\.\d$", "")),
            Is.EqualTo(new[] { "BENCH fork_exec_wait 100", "BENCH pipe_roundtrip 2000", "BENCH signal_self 10000" }), run.Output);
    }

    [Test]
    public void LinuxbenchExit0AndUnknownWorkload()
    {
        LinuxProgramRun exit = LinuxPrograms.RunOnHost(LinuxPrograms.BenchmarkName, "exit0");
        Assert.That(exit.ExitCode, Is.EqualTo(0));
        Assert.That(exit.Output, Is.Empty);

        LinuxProgramRun unknown = LinuxPrograms.RunOnHost(LinuxPrograms.BenchmarkName, "no_such_workload");
        Assert.That(unknown.ExitCode, Is.EqualTo(2));
        Assert.That(unknown.Output, Does.Contain("unknown workload 'no_such_workload'").And.Contain("fork_exit_wait"));
    }
}
