// Boot test of the kernel argument `profile` (Aegis.Kernel/Diagnostics/Profiler.cs): every timer
// tick writes "PROF <environment> <u|k|i> <rip>", and tools/profile.py attributes the lines. The
// verdict is what the serial console shows and what the tool makes of it, not a program's word.
using System.Diagnostics;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
public class ProfilerTests
{
    [Test]
    public void ProfileSamplesEveryTickAndTheToolNamesTheFunctions()
    {
        FrontDoor.EnsureIsoBuilt();
        FrontDoorResult plain = FrontDoor.Run(TimeSpan.FromSeconds(120), "run", "--headless", "--no-build", "--no-disk", "--icount", "--", "init=hello", "exit");
        plain.AssertExitStatus(0);
        Assert.That(plain.Output, Does.Not.Contain("PROF "), () => plain.Describe("no samples without the argument"));

        FrontDoorResult result = FrontDoor.Run(TimeSpan.FromSeconds(120), "run", "--headless", "--no-build", "--no-disk", "--icount", "--", "profile", "init=/bin/sh -c 'sleep 1'", "exit");
        result.AssertExitStatus(0);
        MatchCollection samples = Regex.Matches(result.Output, @"(?m)PROF ([0-9a-f]+) ([uki]) ([0-9a-f]+)\r?$");
        Assert.That(samples.Count, Is.GreaterThan(50), () => result.Describe("a second's sleep is a thousand ticks"));
        Assert.That(samples.Cast<Match>().Any(m => m.Groups[2].Value == "i" && m.Groups[1].Value == "0"), Is.True, () => result.Describe("idle ticks (environment 0)"));
        Assert.That(samples.Cast<Match>().Any(m => m.Groups[2].Value == "u" && m.Groups[1].Value != "0"), Is.True, () => result.Describe("ticks in a program (ring 3)"));
        Assert.That(result.Output, Does.Not.Contain("unknown kernel argument 'profile'"), () => result.Describe("the kernel knows the argument"));

        // The tool attributes the same lines to environments and named functions.
        string log = Path.GetTempFileName();
        try
        {
            File.WriteAllText(log, result.Output);
            var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = FrontDoor.RepositoryRoot };
            start.ArgumentList.Add(Path.Combine(FrontDoor.RepositoryRoot, "tools", "profile.py"));
            start.ArgumentList.Add(log);
            using Process tool = Process.Start(start)!;
            string report = tool.StandardOutput.ReadToEnd();
            tool.WaitForExit(60_000);
            Assert.That(tool.ExitCode, Is.EqualTo(0), report);
            Assert.That(report, Does.Contain(samples.Count + " samples"), report);
            Assert.That(report, Does.Match(@"env 0 i"), report);
        }
        finally { File.Delete(log); }
    }
}
