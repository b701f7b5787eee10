// Boot tests of the key-value store (docs/database.md): the app kvbench runs the workloads of
// workloads.md on a fresh disk image; then the host opens the store from the image file with the
// same LibOS.Database code (compiled into the tests) and checks every record itself — the
// verdict comes from the bytes on the disk, not from kvbench's say-so. A second run leaves its
// last transactions only in the log (no Close), so the host's open must replay them.
// The count is 10,000 here to keep the test short; ./aegis run --icount with the default 100,000
// is the benchmark (docs/database.md "Figures").
using System.Text.RegularExpressions;
using Aegis.LibOS.Database;
using Aegis.Tests.Host;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public unsafe class KvBenchTests
{
    private const int SectorSize = 512;
    private string _image = "";

    [SetUp]
    public void MakeImage()
    {
        _image = Path.Combine(Path.GetTempPath(), $"aegis-kv-{Environment.ProcessId}-{TestContext.CurrentContext.Test.Name}.img");
        File.Delete(_image);
        FrontDoor.Run(TimeSpan.FromMinutes(3), "disk", "create", _image, "--size", "128", "--extent", "kv:rest").AssertExitStatus(0);
    }

    [TearDown]
    public void RemoveImage() => File.Delete(_image);

    /// <summary>The store on the extent kv, read from the image: its pages, as ./aegis disk list places them.</summary>
    private MemoryPageStore StoreFromImage()
    {
        FrontDoorResult list = FrontDoor.Run(TimeSpan.FromMinutes(2), "disk", "list", _image);
        list.AssertExitStatus(0);
        Match kv = Regex.Match(list.Output, @"^kv (\d+) (\d+)\r?$", RegexOptions.Multiline);
        Assert.That(kv.Success, Is.True, "the extent kv is in the table");
        long start = long.Parse(kv.Groups[1].Value) * SectorSize, sectors = long.Parse(kv.Groups[2].Value);
        ulong pages = (ulong)(sectors * SectorSize / 4096);
        byte[] image = File.ReadAllBytes(_image);
        byte[] extent = new byte[pages * 4096];
        Array.Copy(image, start, extent, 0, extent.Length);
        return new MemoryPageStore(pages, extent);
    }

    /// <summary>Opens the store from the image on the host and checks key(i) -> value(i) for every i.</summary>
    private KvStore CheckRecordsOnTheDisk(int count)
    {
        using var frames = new HostFrames(1024);
        var kv = KvStore.Open(StoreFromImage(), frames.Cache, frames.Staging);
        Assert.That(kv.Count, Is.EqualTo((ulong)count), "records in the store on the disk");
        kv.Verify();
        for (ulong i = 0; i < (ulong)count; i++)
            Assert.That(KvData.Get(kv, KvData.Key(i)), Is.EqualTo(KvData.Value(i)), $"record {i} read by the host from the image");
        var keys = KvData.Scan(kv).Select(r => r.Key).ToList();
        Assert.That(keys, Is.EqualTo(Enumerable.Range(0, count).Select(i => KvData.Hex(KvData.Key((ulong)i))).OrderBy(k => k, StringComparer.Ordinal).ToList()), "the scan, in key order");
        return kv;
    }

    [Test]
    public void KvBenchRunsTheWorkloadsAlsoAsRunToCompletionTransactionsAndTheRecordsAreOnTheDisk()
    {
        FrontDoorResult result = FrontDoor.BootWithDisk(_image, "virtio", 150, "init=kvbench:10000", "exit");

        result.AssertExitStatus(0);
        Assert.That(result.Output, Does.Not.Contain("FAILED"));
        foreach (string name in new[] { "kv_put", "kv_get", "kv_get_8tx", "kv_scan", "kv_mixed" })
            result.AssertOutputMatches($@"BENCH {name} 10000 \d+\.\d");
        result.AssertOutputMatches(@"IO kv_put mib_written \d+\.\d");
        result.AssertOutputMatches(@"IO kv_mixed page_reads \d+");
        // The gets as 8 transactions on fibers: more than one read in flight at once.
        Match inFlight = Regex.Match(result.Output, @"IO kv_get_8tx most_in_flight (\d+)");
        Assert.That(inFlight.Success && int.Parse(inFlight.Groups[1].Value) > 1, Is.True, "kv_get_8tx had several reads in flight:\n" + result.Output);
        result.AssertOutputContains("kvbench: verified, ok");
        // Last, 4 write transactions among reads added keys 10,000 .. 13,999: the host finds them
        // on the disk with the others.
        KvStore kv = CheckRecordsOnTheDisk(14000);
        Assert.That(kv.Replayed, Is.EqualTo(0UL), "kvbench closed the store: nothing left to replay");
    }

    [Test]
    public void TheSameTreeRunsKvMixedInAFileOfTheUnixishExt2AndTheFileHoldsTheRecords()
    {
        // The policy comparison (docs/database.md): kvbench copies its store into /kv.db on the
        // extent kvfs (an empty ext2 made on the host) and runs kv_mixed again through the Unixish
        // libOS's file system and its LRU cache. The host then judges the file system with
        // e2fsck, takes the file out with debugfs and opens the store in it with LibOS.Database.
        string image = Path.Combine(Path.GetTempPath(), $"aegis-kvfs-{Environment.ProcessId}.img");
        File.Delete(image);
        try
        {
            FrontDoor.Run(TimeSpan.FromMinutes(3), "disk", "create", image, "--size", "256", "--extent", "kv:128", "--extent", "kvfs:rest", "--ext2", "kvfs").AssertExitStatus(0);
            FrontDoorResult result = FrontDoor.BootWithDisk(image, "virtio", 180, "init=kvbench:10000,unixish", "exit");

            result.AssertExitStatus(0);
            Assert.That(result.Output, Does.Not.Contain("FAILED"));
            result.AssertOutputMatches(@"BENCH kv_mixed_unixish 10000 \d+\.\d");
            result.AssertOutputMatches(@"IO kv_mixed_unixish page_reads \d+");

            FrontDoorResult list = FrontDoor.Run(TimeSpan.FromMinutes(2), "disk", "list", image);
            list.AssertExitStatus(0);
            Match kv = Regex.Match(list.Output, @"^kv (\d+) (\d+)\r?$", RegexOptions.Multiline);
            Match kvfs = Regex.Match(list.Output, @"^kvfs (\d+) (\d+)\r?$", RegexOptions.Multiline);
            Assert.That(kv.Success && kvfs.Success, Is.True, "the extents kv and kvfs are in the table");
            string device = image + "?offset=" + (long.Parse(kvfs.Groups[1].Value) * SectorSize);
            (int fsck, string fsckOutput) = Tool("e2fsck", "-fn", device);
            Assert.That(fsck, Is.EqualTo(0), "e2fsck -fn finds the ext2 that the Unixish libOS wrote clean:\n" + fsckOutput);
            string dumped = Path.Combine(Path.GetTempPath(), $"aegis-kvdb-{Environment.ProcessId}.bin");
            try
            {
                Tool("debugfs", "-R", "dump /kv.db " + dumped, device);
                byte[] file = File.ReadAllBytes(dumped);
                ulong pages = (ulong)(long.Parse(kv.Groups[2].Value) * SectorSize / 4096);
                Assert.That((ulong)file.Length, Is.LessThanOrEqualTo(pages * 4096), "the file is the store's pages (the log's are holes)");
                byte[] store = new byte[pages * 4096];
                Array.Copy(file, store, file.Length);
                using var frames = new HostFrames(1024);
                var kvStore = KvStore.Open(new MemoryPageStore(pages, store), frames.Cache, frames.Staging);
                Assert.That(kvStore.Count, Is.EqualTo(10000UL), "records in the store in /kv.db");
                kvStore.Verify();
                for (ulong i = 0; i < 10000; i++)
                    Assert.That(KvData.Get(kvStore, KvData.Key(i)), Is.EqualTo(KvData.Value(i)), $"record {i} read by the host from /kv.db");
            }
            finally { File.Delete(dumped); }
        }
        finally { File.Delete(image); }
    }

    /// <summary>Runs a host tool (e2fsprogs are in /sbin): its exit status and its output.</summary>
    private static (int ExitCode, string Output) Tool(string name, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(name, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH") + ":/usr/sbin:/sbin";
        using var process = System.Diagnostics.Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        output += process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    [Test]
    public void TransactionsLeftOnlyInTheLogAreReplayedWhenTheStoreIsOpened()
    {
        FrontDoorResult result = FrontDoor.BootWithDisk(_image, "virtio", 120, "init=kvbench:5000,open", "exit");

        result.AssertExitStatus(0);
        result.AssertOutputContains("kvbench: left open, 5000 records committed");
        KvStore kv = CheckRecordsOnTheDisk(5000);
        Assert.That(kv.Replayed, Is.GreaterThan(0UL), "the committed transactions were still in the log");
    }
}
