// What the Linux boot fixtures that are not plain differential tests (LinuxCoreTests,
// LinuxSignalBootTests) share: running one program as init, reading its lines and its status
// from the serial log, and comparing them with the same program run on this host
// (LinuxPrograms builds it exactly as the root file system's build does).
using System.Text.RegularExpressions;
using Aegis.Tests.Host;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

public static class LinuxBootRuns
{
    /// <summary>Boots with PATH as the first program (init=linux:PATH) and `exit`.</summary>
    public static FrontDoorResult RunProgram(string path, int timeoutSeconds) => FrontDoor.Boot(timeoutSeconds, "init=linux:" + path, "exit");

    /// <summary>init's exit status as the kernel reported it (also for statuses ./aegis reserves).</summary>
    public static int InitStatus(FrontDoorResult result)
        => int.Parse(result.AssertOutputMatches(@"init exited with status (\d+)").Groups[1].Value);

    /// <summary>The lines the linux environment printed (the kernel prefixes them "[ID linux] "),
    /// the libOS's own "linux: " reports included.</summary>
    public static string[] ProgramLines(FrontDoorResult result)
        => result.Lines.Select(line => Regex.Match(line, @"^\[[0-9a-f]+ linux\] (.*)$")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToArray();

    /// <summary>The program's own lines: ProgramLines without the libOS's "linux: " reports (a
    /// fatal signal's line, an -ENOSYS line), which Linux's kernel does not print.</summary>
    public static string[] OwnLines(FrontDoorResult result)
        => ProgramLines(result).Where(line => !line.StartsWith("linux: ", StringComparison.Ordinal)).ToArray();

    /// <summary>Asserts that Tests/Linux/NAME printed the same non-empty lines and ended with the
    /// same status on Aegis (in result) as on this host; returns the host's status.</summary>
    public static int AssertSameAsHost(string name, FrontDoorResult result)
    {
        LinuxProgramRun host = LinuxPrograms.RunOnHost(name);
        string[] hostLines = host.Lines.Where(line => line.Length > 0).ToArray();
        string[] aegisLines = OwnLines(result).Where(line => line.Length > 0).ToArray();
        Assert.That(aegisLines, Is.EqualTo(hostLines), () => result.Describe($"{name} printed differently on Aegis and on this host's Linux:\n{host.Output}"));
        Assert.That(InitStatus(result), Is.EqualTo(host.ExitCode), () => result.Describe($"{name}'s exit status differs from the host's ({host.ExitCode})"));
        return host.ExitCode;
    }
}
