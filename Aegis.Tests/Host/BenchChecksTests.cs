// The checks `./aegis bench` makes of the nginx workloads' logs (tools/bench/*.awk): run here on
// logs with good and with bad counts, so a check that cannot fail (or always fails) is caught.
using System.Diagnostics;
using System.IO;
using NUnit.Framework;

namespace Aegis.Tests.Host;

[TestFixture]
public class BenchChecksTests
{
    private static int Awk(string program, string input)
    {
        string log = Path.Combine(Path.GetTempPath(), "aegis-bench-check-" + Path.GetRandomFileName());
        File.WriteAllText(log, input);
        try
        {
            var info = new ProcessStartInfo("awk") { RedirectStandardError = true, RedirectStandardOutput = true };
            info.ArgumentList.Add("-f");
            info.ArgumentList.Add(Path.Combine(Boot.FrontDoor.RepositoryRoot, "tools", "bench", program));
            info.ArgumentList.Add(log);
            using Process awk = Process.Start(info)!;
            awk.StandardOutput.ReadToEnd();
            awk.StandardError.ReadToEnd();
            awk.WaitForExit();
            return awk.ExitCode;
        }
        finally { File.Delete(log); }
    }

    private static string AbRun(int complete, int keptAlive) =>
        $"Complete requests:      {complete}\nFailed requests:        0\nKeep-Alive requests:    {keptAlive}\n";

    [Test]
    public void TheKeepAliveCheckAllowsOnlyTheConnectionsNginxCloses()
    {
        Assert.That(Awk("nginx-kept-alive.awk", AbRun(300, 300)), Is.EqualTo(0), "every request kept alive");
        Assert.That(Awk("nginx-kept-alive.awk", AbRun(300, 299)), Is.EqualTo(0), "the last one may close");
        // nginx closes a connection after keepalive_requests (1000) requests: --profile's 10,000 requests.
        Assert.That(Awk("nginx-kept-alive.awk", AbRun(10000, 9990)), Is.EqualTo(0));
        Assert.That(Awk("nginx-kept-alive.awk", AbRun(3000, 2997)), Is.EqualTo(0));
        Assert.That(Awk("nginx-kept-alive.awk", AbRun(300, 298)), Is.EqualTo(1), "a connection closed early");
        Assert.That(Awk("nginx-kept-alive.awk", AbRun(3000, 2900)), Is.EqualTo(1));
        Assert.That(Awk("nginx-kept-alive.awk", AbRun(300, 300) + AbRun(300, 150)), Is.EqualTo(1), "any bad run fails");
        Assert.That(Awk("nginx-kept-alive.awk", "Complete requests:      300\n"), Is.EqualTo(1), "no keep-alive count at all");
        // As the bench's host log has them (indented by its grep).
        Assert.That(Awk("nginx-kept-alive.awk", "  Complete requests:      300\n  Keep-Alive requests:    100\n"), Is.EqualTo(1));
    }

    [Test]
    public void TheComplaintCheckRefusesAnNginxThatLoggedAnError()
    {
        const string quiet = "[1 nginx] 2026/12/02 19:00:00 [notice] 7#7: start worker processes\n";
        Assert.That(Awk("nginx-complaints.awk", quiet), Is.EqualTo(0));
        Assert.That(Awk("nginx-complaints.awk", quiet + "2026/12/02 19:00:01 [alert] 7#7: *3 sendfile() reported that \"/srv/www/64k.bin\" was truncated at 0\n"), Is.EqualTo(1));
        Assert.That(Awk("nginx-complaints.awk", "x [error] y\n"), Is.EqualTo(1));
        Assert.That(Awk("nginx-complaints.awk", "x [crit] y\n"), Is.EqualTo(1));
        Assert.That(Awk("nginx-complaints.awk", "x [emerg] y\n"), Is.EqualTo(1));
    }
}
