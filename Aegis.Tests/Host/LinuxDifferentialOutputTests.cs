// How the differential tests read a Linux program's output out of a boot's serial log
// (Boot/LinuxDifferentialTests.ProgramLines): from the program's marker to the kernel's exit
// line, without the kernel console's attribution and without service lines, everything else kept.
using Aegis.Tests.Boot;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class LinuxDifferentialOutputTests
{
    [Test]
    public void ProgramLinesRunFromTheMarkerToTheExitLine()
    {
        string log = "Aegis 0.1 - an exokernel in C#\r\n" +
                     "Aegis: started environment 401 (linux) as init with the argument '/tests/pipe'\r\n" +
                     "[401 linux] == pipe\r\n" +
                     "[401 linux] write: 11\r\n" +
                     "aegis: a log line of the libOS\r\n" +
                     "[402 linux] read 5: 5 'hello'\r\n" +
                     "failures: 0\r\n" +
                     "Aegis: every environment has ended; init exited with status 0\r\n" +
                     "AEGIS-EXIT 0\r\n" +
                     "after the end\r\n";
        Assert.That(LinuxDifferentialTests.ProgramLines(log, "pipe"),
            Is.EqualTo(new[] { "== pipe", "write: 11", "read 5: 5 'hello'", "failures: 0" }));
    }

    [Test]
    public void NoMarkerGivesNull()
    {
        Assert.That(LinuxDifferentialTests.ProgramLines("Aegis: cannot start init\nAEGIS-EXIT 2\n", "pipe"), Is.Null);
        Assert.That(LinuxDifferentialTests.ProgramLines("== pipes\n", "pipe"), Is.Null, "the marker must match the whole line");
    }

    [Test]
    public void AnythingElseIsKeptSoThatItFailsTheComparison()
    {
        string log = "== errno\nlinux: openat: unimplemented system call\n[x] not an attribution\n  Aegis: indented\nAEGIS-EXIT 1\n";
        Assert.That(LinuxDifferentialTests.ProgramLines(log, "errno"),
            Is.EqualTo(new[] { "== errno", "linux: openat: unimplemented system call", "[x] not an attribution", "  Aegis: indented" }));
    }
}
