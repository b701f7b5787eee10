// Differential tests against Linux (issue #9): each program of Tests/Linux runs on the host Linux
// and on Aegis (`./aegis run --headless --no-build -- init=/tests/NAME ARGS exit`, the same binary:
// the build compiles it with the same gcc and flags into the linux image's root file system), and
// the test passes when both print the same lines and end with the same status.
//
// Which programs are compared: LinuxDifferentialTests.Enabled, the one list to edit as the Linux
// personality grows. A program not in it is reported as ignored ("pending"), so a test run shows
// at a glance which ones pass; the host half (Host/LinuxProgramsOnTheHostTests) runs for all.
//
// How Aegis's output is read: the serial log holds the kernel's lines ("Aegis: ...", the last
// "AEGIS-EXIT N") and the program's. The program's output starts at its marker line "== NAME"
// (difftest.h prints it first) and ends at the kernel's "AEGIS-EXIT" line. Lines written through
// the kernel console carry its "[ID NAME] " attribution, which is removed; lines that are the
// kernel's, the front door's or the libOS's own log (ServiceLine) are left out. Nothing else is
// filtered: any other difference fails the test.
using System.Text.RegularExpressions;
using Aegis.Tests.Host;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.All)]
public class LinuxDifferentialTests
{
    private const int TimeoutSeconds = 120;

    /// <summary>The programs compared with Linux. Add a name when the personality runs it
    /// (a program not in it is reported as pending).</summary>
    public static readonly string[] Enabled =
    {
        "brk", "clocks", "dents", "dup2", "errno", "files", "fork", "hello", "pipe", "proc-exec", "proc-group",
        "proc-pipe", "proc-wait", "sigchld", "uname", "interrupt", "mmap", "prctl",
        "proc-kill", "proc-kill-busy", // issue #9: signals to computing and sleeping processes
        "proc-files", // one file tree for every process (helper vfs)
        "files-cache", // stat and open served from the client's caches (helper files, session 3)
        "proc-exec-text", // exec maps read-only pages from the archive: a patch stays private (session 5)
        "proc-kill-pipe", // a SIGKILLed child's pipe ends close (session 5)
        "proc-orphan", // an orphan's PR_SET_PDEATHSIG and getppid (session 5)
        "mremap-cow", // mremap of pages shared copy-on-write or aliased from the archive (session 6)
        "proc-pipe-readers", // two readers (writers) asleep on one pipe both wake (session 5)
        "dynamic", // a dynamically linked program: ld.so, dlopen, the page cache of read-only file pages (issue #10)
        "threads", // pthreads: mutex, condvar, TLS, tids, preemption, sleep, timedwait, semaphore (issue #10)
        "proc-exec-fpu", // execve starts with the FPU's initial state, fork keeps the parent's (session 7)
        "sockets", // AF_INET over 127.0.0.1: TCP across fork, poll/select, sendfile, UDP, timeouts, large datagrams, errors (issue #12)
        "epoll", // eventfd and epoll: counters, level/edge/oneshot, errors, waits woken by a child, a signal, a thread
        "unixsockets", // AF_UNIX: socketpair, paths, abstract names, boundaries, EOF/EPIPE, poll/epoll waits, SCM_RIGHTS, SO_PASSCRED
        "proc-no-goodbye", // a process ended without its libOS's exit: the file server lets go of its sockets (session 21)
    };

    /// <summary>A line that is not the program's: the kernel's and the front door's log lines
    /// ("Aegis: ...", "aegis: "), the kernel's exit line, and the one line the Linux personality
    /// must print for a system call it does not serve ("linux: NAME (N) is not implemented:
    /// -ENOSYS", e.g. errno's deliberate call 511). Every other "linux: ..." line is kept: it
    /// fails the comparison.</summary>
    private static readonly Regex ServiceLine = new(@"^(Aegis: |aegis: |AEGIS-EXIT |linux: \S+ \(\d+\) is not implemented: -ENOSYS$)", RegexOptions.Compiled);

    /// <summary>The kernel console's attribution of a line to an environment: "[401 linux] ".</summary>
    private static readonly Regex Attribution = new(@"^\[[0-9a-f]+ [^\]]*\] ", RegexOptions.Compiled);

    private static IEnumerable<TestCaseData> Programs() =>
        LinuxPrograms.DifferentialNames().Select(name => new TestCaseData(name).SetName($"ProgramBehavesAsOnLinux({name})"));

    [TestCaseSource(nameof(Programs))]
    public void ProgramBehavesAsOnLinux(string name)
    {
        if (Array.IndexOf(Enabled, name) < 0)
            Assert.Ignore($"pending: /tests/{name} is not yet compared with Linux (add it to LinuxDifferentialTests.Enabled when the personality runs it)");

        LinuxProgramRun host = LinuxPrograms.RunOnHost(name);
        Assert.That(host.Lines.Count > 0 && host.Lines[0] == "== " + name, Is.True, () => $"the host run of {name} printed no marker:\n{host.Output}");

        var kernelArguments = new List<string> { "init=/tests/" + name };
        kernelArguments.AddRange(LinuxPrograms.ArgumentsOf(name).Select(Quote));
        kernelArguments.Add("exit");
        FrontDoorResult aegis = FrontDoor.Boot(TimeoutSeconds, kernelArguments.ToArray());

        IReadOnlyList<string> aegisLines = ProgramLines(aegis.Output, name);
        Assert.That(aegisLines, Is.Not.Null, () => aegis.Describe($"no '== {name}' line: /tests/{name} did not start or printed nothing"));
        Assert.That(aegisLines, Is.EqualTo(host.Lines), () => aegis.Describe(
            $"/tests/{name} printed on Aegis what it did not print on Linux.\n--- Linux (status {host.ExitCode}):\n{host.Output}--- Aegis:\n{string.Join("\n", aegisLines)}\n"));
        aegis.AssertExitStatus(host.ExitCode);
    }

    /// <summary>An argument as the kernel's init= parser groups words: in single quotes when it has a space.</summary>
    private static string Quote(string argument)
    {
        Assert.That(argument, Does.Not.Contain("'"), "an argument of a differential program cannot contain a single quote");
        return argument.Contains(' ') ? "'" + argument + "'" : argument;
    }

    /// <summary>The program's lines in a boot's output (from its marker to AEGIS-EXIT), or null without a marker.</summary>
    public static IReadOnlyList<string> ProgramLines(string bootOutput, string name)
    {
        System.Collections.ObjectModel.Collection<string> lines = null;
        foreach (string raw in LinuxPrograms.SplitLines(bootOutput))
        {
            string line = Attribution.Replace(raw, "", 1);
            if (lines == null)
            {
                if (line == "== " + name)
                    lines = new System.Collections.ObjectModel.Collection<string> { line };
                continue;
            }
            if (line.StartsWith("AEGIS-EXIT ", StringComparison.Ordinal))
                break;
            if (!ServiceLine.IsMatch(line))
                lines.Add(line);
        }
        return lines;
    }
}
