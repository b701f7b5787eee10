// Boot test of the benchmark (issue #4): ./aegis bench boots the bench app as the first
// environment under -icount and prints one "BENCH <name> <iterations> <cycles per op>" line per
// primitive of the design brief, then BENCH-DONE (docs/benchmarks.md). Only that the benchmark
// runs and reports is checked here: the speed targets live in the benchmark and its report,
// never in a test.
using System.Globalization;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class BenchmarkTests
{
    private const int BenchTimeoutSeconds = 600;
    private const int MinimumIterations = 10_000;

    public static readonly string[] Primitives =
    {
        "null_syscall", "exception_upcall", "prot1_unprot1", "pagefault_upcall", "ipc_roundtrip",
        "prot1", "prot100", "unprot100", "trap", "appel1", "appel2", "dirty",
        // Issue #9: a program's syscall delivered as a system-call upcall and resumed by the libOS.
        "syscall_upcall",
        // The runtime workloads (Apps/Bench/RuntimeWorkloads.cs).
        "binarytrees", "alloc_small", "throw_catch", "throw_deep",
    };

    /// <summary>The Linux-ABI section (issue #9): Tests/Linux/linuxbench.c run unmodified by the
    /// Linux personality in a second boot; each has its own loop count (workloads.md).</summary>
    public static readonly string[] LinuxWorkloads =
    {
        "getppid", "pipe_roundtrip", "fork_exit_wait", "fork_exec_wait", "signal_self",
        "mmap_touch_munmap", "open_read_close_1k", "stat",
        // Issue #10: a .NET NativeAOT hello world's start to the first line of its Main.
        "dotnet_startup",
    };

    /// <summary>The key-value set (issue #11): kvbench in a third boot, on a fresh disk image the
    /// bench makes (artifacts/bench-kv.img); 100,000 records. kv_mixed_unixish: the same tree in a
    /// file of the Unixish libOS's ext2 through its LRU cache (the policy comparison).</summary>
    public static readonly string[] KvWorkloads = { "kv_put", "kv_get", "kv_get_8tx", "kv_scan", "kv_mixed", "kv_mixed_unixish" };

    /// <summary>The kernel's packet-filter engine (issue #12, kernel argument filterbench in the
    /// first boot): compiled code from the code window and the interpreter, 1..1,000 filters.</summary>
    public static readonly string[] FilterWorkloads =
    {
        "filter_compiled@1", "filter_interpreted@1", "filter_compiled@10", "filter_interpreted@10",
        "filter_compiled@100", "filter_interpreted@100", "filter_compiled@1000", "filter_interpreted@1000",
    };

    /// <summary>What a change of the kernel's filter set costs (a filter installed or removed and
    /// the set compiled again), with 1, 10, 100 and 1,000 filters installed (filterbench).</summary>
    public static readonly string[] FilterChangeWorkloads = { "filter_change@1", "filter_change@10", "filter_change@100", "filter_change@1000" };

    /// <summary>Our web server (issue #12, the fifth set of boots): ab's 1,001 keep-alive requests,
    /// the machine's work a request from the first answer to the last.</summary>
    public static readonly string[] HttpWorkloads = { "http_1k", "http_empty", "http_64k", "tcp_echo" };

    /// <summary>Debian's nginx (issue #12, the sixth boot): ab's requests, the machine's work a
    /// request as Tests/Linux/workmeter.c measures it over the window the host opens and closes;
    /// each with its request count and whether they share one keep-alive connection (nginx_conn:
    /// a new connection a request), and a ceiling for its instructions a request, about 1.5 times
    /// what it costs now (host timing moves these by up to 15%): nginx_64k was 16.8 million
    /// before sendfile's writes went in 64 KiB pieces to a connection nginx runs, nginx_conn
    /// 183,473 before TCP kept the rings of ended connections and 78,000–89,000 before the
    /// listener was lent to nginx (now 135,000–140,000 and about 72,000), and 68,000–69,000 before
    /// the kernel's idle loop watched the card's ring (76,000–88,000 since: frames QEMU's interrupt
    /// window used to batch now each wake nginx; docs/benchmarks.md, "The idle loop watches the ring").</summary>
    public static readonly (string Name, int Requests, bool KeptAlive, int Ceiling)[] NginxWorkloads =
        { ("nginx_1k", 1000, true, 60_000), ("nginx_64k", 300, true, 200_000), ("nginx_empty", 1000, true, 60_000), ("nginx_conn", 300, false, 130_000) };

    /// <summary>The I/O facts of the key-value set: "IO <workload> <what> <number>".</summary>
    public static readonly string[] KvIo = { "kv_put mib_written", "kv_get_8tx most_in_flight", "kv_mixed page_reads", "kv_mixed_unixish page_reads" };

    [Test]
    public void BenchReportsEveryPrimitive()
    {
        FrontDoor.EnsureIsoBuilt();
        FrontDoorResult result = FrontDoor.Run(TimeSpan.FromSeconds(BenchTimeoutSeconds),
            "bench", "--no-build", "--timeout", BenchTimeoutSeconds.ToString(CultureInfo.InvariantCulture));

        foreach (string primitive in Primitives)
        {
            MatchCollection lines = Regex.Matches(result.Output, @"(?m)^BENCH " + Regex.Escape(primitive) + @" (\d+) (\d+(?:\.\d)?)\r?$");
            Assert.That(lines, Has.Count.EqualTo(1), () => result.Describe($"expected exactly one line 'BENCH {primitive} <iterations> <cycles>'"));
            long iterations = long.Parse(lines[0].Groups[1].Value, CultureInfo.InvariantCulture);
            double cycles = double.Parse(lines[0].Groups[2].Value, CultureInfo.InvariantCulture);
            Assert.That(iterations, Is.GreaterThanOrEqualTo(MinimumIterations), () => result.Describe($"{primitive} ran fewer than {MinimumIterations} iterations"));
            Assert.That(cycles, Is.GreaterThan(0), () => result.Describe($"{primitive} reports no cost"));
        }
        foreach (string workload in LinuxWorkloads)
        {
            MatchCollection lines = Regex.Matches(result.Output, @"(?m)^BENCH " + Regex.Escape(workload) + @" (\d+) (\d+(?:\.\d)?)\r?$");
            Assert.That(lines, Has.Count.EqualTo(1), () => result.Describe($"expected exactly one line 'BENCH {workload} <iterations> <instructions>' from linuxbench"));
            Assert.That(double.Parse(lines[0].Groups[2].Value, CultureInfo.InvariantCulture), Is.GreaterThan(0), () => result.Describe($"{workload} reports no cost"));
        }
        var filterCost = new Dictionary<string, double>();
        foreach (string workload in FilterWorkloads)
        {
            MatchCollection lines = Regex.Matches(result.Output, @"(?m)^BENCH " + Regex.Escape(workload) + @" 10000 (\d+(?:\.\d)?)\r?$");
            Assert.That(lines, Has.Count.EqualTo(1), () => result.Describe($"expected exactly one line 'BENCH {workload} 10000 <instructions>' from the kernel's filterbench"));
            filterCost[workload] = double.Parse(lines[0].Groups[1].Value, CultureInfo.InvariantCulture);
        }
        // Issue #12's targets for the filters, as printed (the benchmark's loop and call left in
        // the compiled figure): flat in the number installed, and the compiled code at least 10
        // times cheaper than the interpreter of the same language. Under -icount these are
        // instruction counts and repeat exactly (46/53 against 551/568 now).
        foreach (int n in new[] { 1, 10, 100, 1000 })
            Assert.That(filterCost[$"filter_interpreted@{n}"], Is.GreaterThanOrEqualTo(10 * filterCost[$"filter_compiled@{n}"]),
                () => result.Describe($"with {n} filters the compiled code is less than 10 times cheaper than the interpreter"));
        foreach (string engine in new[] { "compiled", "interpreted" })
            Assert.That(filterCost[$"filter_{engine}@1000"], Is.LessThanOrEqualTo(1.25 * filterCost[$"filter_{engine}@10"]),
                () => result.Describe($"the {engine} filters' cost grows with the number installed (1,000 against 10)"));
        foreach (string workload in FilterChangeWorkloads)
        {
            MatchCollection lines = Regex.Matches(result.Output, @"(?m)^BENCH " + Regex.Escape(workload) + @" 100 (\d+(?:\.\d)?)\r?$");
            Assert.That(lines, Has.Count.EqualTo(1), () => result.Describe($"expected exactly one line 'BENCH {workload} 100 <instructions>' from the kernel's filterbench"));
            // A change compiles the set again: its cost follows the filters installed, not the
            // set's capacity (X64Code unbinds only the labels it bound; clearing all 49,154 cost
            // about 345,000 instructions a change: 353,630 with one filter, now 9,606).
            if (workload == "filter_change@1")
                Assert.That(double.Parse(lines[0].Groups[1].Value, CultureInfo.InvariantCulture), Is.LessThan(50_000), () => result.Describe($"{workload}: a change of a one-filter set costs 50,000 instructions or more"));
        }
        Assert.That(result.Output, Does.Not.Contain("filterbench: FAIL"), () => result.Describe("the compiled filters and the interpreter disagreed, or the code could not run"));
        foreach (string workload in KvWorkloads)
        {
            MatchCollection lines = Regex.Matches(result.Output, @"(?m)^BENCH " + Regex.Escape(workload) + @" 100000 (\d+(?:\.\d)?)\r?$");
            Assert.That(lines, Has.Count.EqualTo(1), () => result.Describe($"expected exactly one line 'BENCH {workload} 100000 <instructions>' from kvbench"));
            Assert.That(double.Parse(lines[0].Groups[1].Value, CultureInfo.InvariantCulture), Is.GreaterThan(0), () => result.Describe($"{workload} reports no cost"));
        }
        foreach (string fact in KvIo)
        {
            MatchCollection lines = Regex.Matches(result.Output, @"(?m)^IO " + Regex.Escape(fact) + @" (\d+(?:\.\d)?)\r?$");
            Assert.That(lines, Has.Count.EqualTo(1), () => result.Describe($"expected exactly one line 'IO {fact} <number>' from kvbench"));
            Assert.That(double.Parse(lines[0].Groups[1].Value, CultureInfo.InvariantCulture), Is.GreaterThan(0), () => result.Describe($"IO {fact} is zero"));
        }
        foreach (string workload in HttpWorkloads)
        {
            MatchCollection lines = Regex.Matches(result.Output, @"(?m)^BENCH " + Regex.Escape(workload) + @" 1000 (\d+(?:\.\d)?)\r?$");
            Assert.That(lines, Has.Count.EqualTo(1), () => result.Describe($"expected exactly one line 'BENCH {workload} 1000 <instructions>' from net's web server"));
            Assert.That(double.Parse(lines[0].Groups[1].Value, CultureInfo.InvariantCulture), Is.GreaterThan(0), () => result.Describe($"{workload} reports no cost"));
        }
        foreach ((string workload, int requests, bool keptAlive, int ceiling) in NginxWorkloads)
        {
            MatchCollection lines = Regex.Matches(result.Output, @"(?m)^BENCH " + Regex.Escape(workload) + " " + requests + @" (\d+(?:\.\d)?)\r?$");
            Assert.That(lines, Has.Count.EqualTo(1), () => result.Describe($"expected exactly one line 'BENCH {workload} {requests} <instructions>' from workmeter"));
            double cost = double.Parse(lines[0].Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.That(cost, Is.GreaterThan(0), () => result.Describe($"{workload} reports no cost"));
            Assert.That(cost, Is.LessThan(ceiling), () => result.Describe($"{workload}: {ceiling} instructions a request or more"));
            // The kernel's CR3 loads a request (InfoPage.AddressSpaceLoads): nginx runs its
            // connections itself (docs/libos-unixish.md, "Connections run by the process"), and
            // its lent listener makes and closes them ("The listener in the process"), so no
            // request switches to another address space, a new connection's neither (through the
            // file server: 4 loads a kept-alive request, 7 a new connection's).
            MatchCollection loads = Regex.Matches(result.Output, @"(?m)^IO " + Regex.Escape(workload) + @" address_space_loads (\d+\.\d\d)\r?$");
            Assert.That(loads, Has.Count.EqualTo(1), () => result.Describe($"expected exactly one line 'IO {workload} address_space_loads <loads a request>' from workmeter"));
            Assert.That(double.Parse(loads[0].Groups[1].Value, CultureInfo.InvariantCulture), Is.LessThan(0.5),
                () => result.Describe($"{workload}: its requests switch address spaces (" + (keptAlive ? "the connections do not run in nginx)" : "nginx's listener is not lent to it)")));
        }
        // What ab on the host saw of nginx's answers (the bench prints its summary lines).
        Assert.That(Regex.Matches(result.Output, @"(?m)^  Complete requests: +(\d+)\r?$").Select(match => int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)),
            Is.EqualTo(NginxWorkloads.Select(workload => workload.Requests)), () => result.Describe("ab completed every request of each nginx workload"));
        Assert.That(Regex.Matches(result.Output, @"(?m)^  Failed requests: +(\d+)\r?$").Select(match => match.Groups[1].Value),
            Is.EqualTo(NginxWorkloads.Select(_ => "0")), () => result.Describe("ab saw no failed nginx request"));
        result.AssertOutputMatches(@"(?m)^BENCH-DONE\r?$");
        Assert.That(result.Output, Does.Not.Contain("BENCH-ERROR"), () => result.Describe("the benchmark reported an error"));
        result.AssertExitStatus(0);
    }
}
