// Boot test: a shell waiting at its prompt costs no CPU. busybox's line editing waits for a key in
// poll(); the libOS's poll sleeps in the kernel (the terminal's input watcher wakes it) instead of
// yielding in a loop. The verdict is the kernel's idle time (InfoPage.IdleTimestampTicks, the
// CPU's halted time, shown as /proc/uptime's second field) over a few seconds with nothing typed:
// before the fix the shell spun and the CPU was never idle (the idle field stayed 0.00).
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class IdleShellTests
{
    private const int BootTimeoutSeconds = 240;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(150);

    [Test]
    public void AShellWaitingAtItsPromptLeavesTheCpuIdle()
    {
        (double Up, double Idle) a = default, b = default;
        FrontDoorResult result = FrontDoor.BootWithMonitor(BootTimeoutSeconds, (monitor, output) =>
        {
            (double, double) Uptime(string marker)
            {
                var pattern = new Regex(@"(?m)^\[[0-9a-f]+ linux\] " + marker + @" (\d+\.\d\d) (\d+\.\d\d)\r?$");
                DateTime deadline = DateTime.UtcNow + Limit;
                while (DateTime.UtcNow < deadline)
                {
                    Match m = pattern.Match(output());
                    if (m.Success)
                        return (double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                                double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
                    Thread.Sleep(200);
                }
                Assert.Fail($"no '{marker} UPTIME IDLE' line; the output so far:\n{output()}");
                return default;
            }

            (_, bool prompt) = monitor.WaitForRow(row => row.StartsWith("root@aegis:/#"), Limit);
            Assert.That(prompt, Is.True, "the shell's prompt never showed");
            monitor.Type("echo first $(cat /proc/uptime)\n");
            a = Uptime("first");
            Thread.Sleep(5000); // nothing typed: the shell waits for a key
            monitor.Type("echo second $(cat /proc/uptime)\n");
            b = Uptime("second");
            monitor.Type("exit 0\n");
        });

        result.AssertExitStatus(0);
        double up = b.Up - a.Up, idle = b.Idle - a.Idle;
        Assert.That(up, Is.GreaterThan(0), () => result.Describe("the uptime did not advance"));
        Assert.That(idle, Is.GreaterThanOrEqualTo(up / 2),
            () => result.Describe($"the CPU was idle {idle:F2} s of {up:F2} s while the shell waited for a key"));
    }
}
