// Boot test of a stock .NET app (issue #10): Apps/DotNet/dotnetcheck, published by the build with
// the SDK's NativeAOT for linux-x64 (the real runtime, GC, threads and class library, linked
// against the image's Debian libc) into /bin/dotnetcheck, runs unmodified under the Linux
// personality. The verdict is its output compared with the same binary run on this host (with the
// same line on its standard input), never a line the guest prints about itself.
using System.Diagnostics;
using Aegis.Tests.Host;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class LinuxDotNetTests
{
    private const int TimeoutSeconds = 180;
    private const string Typed = "typed line";

    /// <summary>Exceptions (a filter, a null dereference), deep recursion, the GC under pressure,
    /// threads, Task.Run, Parallel.For, async/await with Task.Delay, Monitor, LINQ, collections,
    /// formatting and parsing, DateTime.Now, files in /tmp and Console.ReadLine from the terminal:
    /// the same lines and status as on this host.</summary>
    [Test]
    public void ANativeAotAppRunsAsOnLinux()
    {
        string binary = PublishedBinary();
        (int hostStatus, string[] host) = RunOnHost(binary);
        Assert.That(host, Does.Contain("failures: 0"), "the app passes its own checks on the host");

        // Typed once the kernel started init: bytes sent while GRUB sets COM1 up can be lost (it
        // lost one, then three when the ISO grew and GRUB's timing moved).
        FrontDoorResult result = FrontDoor.BootWithInputAfter("as init", Typed + "\n", TimeoutSeconds, "init=/bin/dotnetcheck", "exit");
        // From its marker on; the terminal's echo of the typed line (a tty echoes, the host's pipe does not) left out.
        string[] lines = LinuxBootRuns.OwnLines(result).SkipWhile(line => line != "== dotnetcheck").Where(line => line != Typed).ToArray();
        Assert.That(lines, Is.EqualTo(host), () => result.Describe("dotnetcheck printed on Aegis what it did not print on this host:\n" + string.Join("\n", host)));
        result.AssertExitStatus(hostStatus);
    }

    /// <summary>Bad input: an unhandled exception prints .NET's own report (to stderr, the console)
    /// and the runtime aborts: status 134 (SIGABRT), as on the host.</summary>
    [Test]
    public void AnUnhandledExceptionPrintsDotNetsReportAndAborts()
    {
        string binary = PublishedBinary();
        var start = new ProcessStartInfo(binary, "throw") { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start)!;
        string report = process.StandardError.ReadToEnd();
        Assert.That(process.WaitForExit(60_000), Is.True, "dotnetcheck throw ended on the host");
        string first = LinuxPrograms.SplitLines(report).First();
        Assert.That(first, Does.StartWith("Unhandled exception. System.InvalidOperationException"), "the host's report");

        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=/bin/dotnetcheck", "throw", "exit");
        Assert.That(LinuxBootRuns.ProgramLines(result), Does.Contain(first), () => result.Describe("no unhandled-exception report: " + first));
        result.AssertExitStatus(process.ExitCode);
        Assert.That(process.ExitCode, Is.EqualTo(134), "SIGABRT on the host");
    }

    /// <summary>Bad input: exhausting the heap (the app's 64 MiB hard limit) is an
    /// OutOfMemoryException the app catches and survives, as on the host; the kernel is unharmed.</summary>
    [Test]
    public void ExhaustingTheHeapIsAnOutOfMemoryException()
    {
        string binary = PublishedBinary();
        var start = new ProcessStartInfo(binary, "oom") { RedirectStandardOutput = true };
        using Process process = Process.Start(start)!;
        string[] host = LinuxPrograms.SplitLines(process.StandardOutput.ReadToEnd()).ToArray();
        Assert.That(process.WaitForExit(60_000), Is.True, "dotnetcheck oom ended on the host");
        Assert.That(host, Does.Contain("OutOfMemoryException caught: after more than 16 MiB"), "the host's run");

        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=/bin/dotnetcheck", "oom", "exit");
        Assert.That(LinuxBootRuns.OwnLines(result), Is.EqualTo(host), () => result.Describe("dotnetcheck oom printed on Aegis what it did not on the host"));
        Assert.That(result.Output, Does.Not.Match(@"(?i)kernel panic"), () => result.Describe("the kernel panicked"));
        result.AssertExitStatus(process.ExitCode);
    }

    /// <summary>.NET's own networking over the Linux personality's sockets (issue #12): TcpListener
    /// and TcpClient with async reads and writes (the runtime's epoll engine and its threads), an
    /// HttpListener answering HttpClient three times, a UDP datagram, all over 127.0.0.1
    /// (Apps/DotNet/dotnetnet): the same lines and status as on this host.</summary>
    [Test]
    public void DotNetSocketsHttpListenerAndHttpClientWorkAsOnLinux()
    {
        string binary = PublishedBinary("dotnetnet");
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true };
        using Process process = Process.Start(start)!;
        string[] host = LinuxPrograms.SplitLines(process.StandardOutput.ReadToEnd()).ToArray();
        Assert.That(process.WaitForExit(60_000), Is.True, "dotnetnet ended on the host");
        Assert.That(host, Does.Contain("failures: 0"), "the app passes its own checks on the host");

        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=/bin/dotnetnet", "exit");
        string[] lines = LinuxBootRuns.OwnLines(result).SkipWhile(line => line != "== dotnetnet").ToArray();
        Assert.That(lines, Is.EqualTo(host), () => result.Describe("dotnetnet printed on Aegis what it did not print on this host:\n" + string.Join("\n", host)));
        result.AssertExitStatus(process.ExitCode);
    }

    /// <summary>What the build published (tools/rootfs.targets, AegisDotNetApps), the newest of the configurations.</summary>
    private static string PublishedBinary(string name = "dotnetcheck")
    {
        FrontDoor.EnsureIsoBuilt();
        string root = Path.Combine(FrontDoor.RepositoryRoot, "Apps", "Linux", "obj");
        string found = Directory.Exists(root)
            ? Directory.GetFiles(root, name, SearchOption.AllDirectories).Where(path => path.Contains(Path.Combine("rootfs", "dotnet")))
                .OrderByDescending(File.GetLastWriteTimeUtc).FirstOrDefault()
            : null;
        Assert.That(found, Is.Not.Null, $"the build published no {name} under Apps/Linux/obj/*/net10.0/aegis/rootfs/dotnet/");
        return found!;
    }

    private static (int, string[]) RunOnHost(string binary)
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start)!;
        process.StandardInput.Write(Typed + "\n");
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd();
        Assert.That(process.WaitForExit(60_000), Is.True, "dotnetcheck ended on the host");
        return (process.ExitCode, LinuxPrograms.SplitLines(output).ToArray());
    }
}
