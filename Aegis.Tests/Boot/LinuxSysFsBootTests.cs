// Boot test of /sys (LibOS.Unixish/Linux/Files/SysFs.cs): the caches sysfs shows under QEMU must
// be the ones glibc's sysconf decodes from CPUID on its own (Tests/Linux/boot-sysfs-cpu.c prints both
// columns; this test compares them). The .NET GC sizes its gen0 budget from index*/size and level.
using System.Text.RegularExpressions;
using Aegis.Tests.Host;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public class LinuxSysFsBootTests
{
    private const int TimeoutSeconds = 120;

    [Test]
    public void SysfsCachesAreTheOnesGlibcDecodesFromCpuid()
    {
        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=/tests/boot-sysfs-cpu", "exit");
        string[] lines = LinuxBootRuns.OwnLines(result);
        Assert.That(lines, Does.Contain("online 0").And.Contain("possible 0").And.Contain("present 0").And.Contain("nprocs 1"),
            () => result.Describe("one CPU: online, possible and present are '0'"));
        Assert.That(lines, Does.Contain("L1d type Data level 1").And.Contain("L1i type Instruction level 1")
            .And.Contain("L2 type Unified level 2").And.Contain("L3 type Unified level 3"), () => result.Describe("the four caches of QEMU's CPU"));
        int compared = 0;
        foreach (string line in lines)
        {
            Match m = Regex.Match(line, @"^(L1d|L1i|L2|L3) (size|ways|line) sysfs (-?\d+) sysconf (-?\d+)$");
            if (!m.Success) continue;
            long sysfs = long.Parse(m.Groups[3].Value), sysconf = long.Parse(m.Groups[4].Value);
            if (sysconf <= 0 && m.Groups[2].Value == "ways") continue; // glibc does not know every associativity
            Assert.That(sysfs, Is.EqualTo(sysconf).And.GreaterThan(0), () => result.Describe($"{m.Groups[1].Value} {m.Groups[2].Value}: sysfs and glibc's CPUID decoding disagree"));
            compared++;
        }
        Assert.That(compared, Is.GreaterThanOrEqualTo(10), () => result.Describe("every cache's size and line size compared"));
        result.AssertExitStatus(0);
    }
}
