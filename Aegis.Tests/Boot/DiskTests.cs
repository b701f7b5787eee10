// Boot tests of disks (issue #11; docs/disks.md, docs/abi.md "Disks"): the kernel's disk drivers
// (virtio-blk, and AHCI with the disk on port 0: the fixture runs once per bus) and block secure
// bindings, exercised from ring 3 by the app 'disk'. Every verdict comes
// from the image file on the host — what the app read is compared with a hash of what the host
// wrote, what it wrote is read back from the file after QEMU ended, the extent table it changed
// is read with the front door's own tool (./aegis disk list) — never from the app's say-so.
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture("virtio")]
[TestFixture("ahci")]
[Category("Boot")]
[NonParallelizable]
public class DiskTests
{
    private const int SectorSize = 512;
    private readonly string _bus;
    /// <summary>The controller's name in the boot line, and its BlockController number.</summary>
    private readonly string _controller;
    private readonly int _controllerKind;
    private string _image = "";

    public DiskTests(string bus)
    {
        _bus = bus;
        (_controller, _controllerKind) = bus == "ahci" ? ("AHCI port 0", 2) : ("virtio-blk", 1);
    }

    [SetUp]
    public void MakeImage()
    {
        _image = Path.Combine(Path.GetTempPath(), $"aegis-disk-{Environment.ProcessId}-{_bus}-{TestContext.CurrentContext.Test.Name}.img");
        File.Delete(_image);
        FrontDoorResult made = FrontDoor.Run(TimeSpan.FromMinutes(3), "disk", "create", _image, "--size", "64", "--extent", "scratch:8", "--extent", "doomed:1");
        made.AssertExitStatus(0);
    }

    [TearDown]
    public void RemoveImage() => File.Delete(_image);

    /// <summary>"NAME START SECTORS" lines of ./aegis disk list.</summary>
    private Dictionary<string, (long Start, long Sectors)> Extents()
    {
        FrontDoorResult list = FrontDoor.Run(TimeSpan.FromMinutes(2), "disk", "list", _image);
        list.AssertExitStatus(0);
        var extents = new Dictionary<string, (long, long)>();
        foreach (Match line in Regex.Matches(list.Output, @"^(\S+) (\d+) (\d+)\r?$", RegexOptions.Multiline))
            extents[line.Groups[1].Value] = (long.Parse(line.Groups[2].Value), long.Parse(line.Groups[3].Value));
        return extents;
    }

    private static string Fnv(byte[] bytes, long offset, int length)
    {
        ulong hash = 0xCBF29CE484222325;
        for (int i = 0; i < length; i++) hash = (hash ^ bytes[offset + i]) * 0x100000001B3;
        return hash.ToString("x16");
    }

    /// <summary>Bus-independent behaviour (the extent table, pins, the database's store): one bus
    /// is enough, and the AHCI runs are skipped to keep `./aegis test` short. The driver's own
    /// paths (reads, writes, refusals, a failed read) run on both.</summary>
    private void OnVirtioOnly()
    {
        if (_bus != "virtio") Assert.Ignore("bus-independent: runs on virtio");
    }

    private FrontDoorResult Boot(string mode) => FrontDoor.BootWithDisk(_image, _bus, 120, "init=disk:" + mode, "exit");

    [Test]
    public void ReadsReturnTheDisksBytesAndWritesReachTheImage()
    {
        long scratch = Extents()["scratch"].Start * SectorSize;
        // The host's pattern over the first 192 sectors of scratch.
        using (var file = new FileStream(_image, FileMode.Open, FileAccess.Write))
        {
            byte[] pattern = new byte[192 * SectorSize];
            for (int o = 0; o < pattern.Length; o++) pattern[o] = (byte)((o * 7 + o / 512) & 0xFF);
            file.Position = scratch;
            file.Write(pattern);
        }
        byte[] before = File.ReadAllBytes(_image);

        FrontDoorResult result = Boot("rw");

        result.AssertExitStatus(0);
        result.AssertOutputMatches(@"Aegis: disk 0: " + _controller + @" [0-9a-f:.]+, 131072 sectors \(64 MiB\), IRQ \d+, 2 extents scratch 2048\+16384 doomed 18432\+2048");
        Match read = result.AssertOutputMatches(@"disk: read status 0 hash ([0-9a-f]{16})");
        Assert.That(read.Groups[1].Value, Is.EqualTo(Fnv(before, scratch, 64 * SectorSize)), () => result.Describe("one 8-page read: the bytes the host wrote"));
        Match many = result.AssertOutputMatches(@"disk: in flight 16 completed once 16 ok 16 hash ([0-9a-f]{16})");
        Assert.That(many.Groups[1].Value, Is.EqualTo(Fnv(before, scratch + 64 * SectorSize, 128 * SectorSize)), () => result.Describe("16 one-page reads in flight"));
        result.AssertOutputContains("disk: wrote status 0 flush status 0");
        AssertOnlyTheWriteChangedTheImage(before, scratch);
    }

    /// <summary>The rw mode's 16 pages of pattern at scratch's sector 256 are in the image, and
    /// nothing else on the disk changed.</summary>
    private void AssertOnlyTheWriteChangedTheImage(byte[] before, long scratch)
    {
        byte[] after = File.ReadAllBytes(_image);
        long written = scratch + 256 * SectorSize;
        for (int i = 0; i < 16 * 4096; i++)
            if (after[written + i] != (byte)((i * 31 + 7) % 251))
                Assert.Fail($"byte {i} of the write is {after[written + i]} in the image");
        for (long o = 0; o < after.Length; o++)
            if ((o < written || o >= written + 16 * 4096) && after[o] != before[o])
                Assert.Fail($"the byte at {o} changed ({before[o]} -> {after[o]}) outside the write");
    }

    [Test]
    public void AReadTheDeviceFailsIsReportedAndLaterRequestsWork()
    {
        long scratch = Extents()["scratch"].Start;
        byte[] before = File.ReadAllBytes(_image);

        // QEMU fails the first read touching scratch's sector 64: the first of the 16 one-page reads.
        FrontDoorResult result = FrontDoor.BootWithDisk(_image, _bus, scratch + 64, 120, "init=disk:rw", "exit");
        if (result.Output.Contains("QEMU crashed (signal"))
        {
            // QEMU 7.2's AHCI segfaults in about one run of ten after the injected error (seen in CI
            // and alone, at 38fcbfa and before it): the emulator's fault, said here, and one more boot
            // on the image as it was.
            TestContext.Progress.WriteLine("AReadTheDeviceFailsIsReported(" + _bus + "): QEMU crashed; booting once more");
            File.WriteAllBytes(_image, before);
            result = FrontDoor.BootWithDisk(_image, _bus, scratch + 64, 120, "init=disk:rw", "exit");
        }

        result.AssertExitStatus(0);
        result.AssertOutputMatches(@"disk: read status 0 hash ");
        Match many = result.AssertOutputMatches(@"disk: in flight 16 completed once 16 ok (\d+) hash ");
        int ok = int.Parse(many.Groups[1].Value);
        // At least that request fails: AHCI fails every command issued when the error came
        // (docs/disks.md, "AHCI"), and QEMU's virtio-blk merges adjacent requests it finds queued
        // together into one I/O (request-merging, on by default), which then fails whole — on a
        // loaded host the 16 reads are all queued before QEMU looks, so all 16 can fail.
        Assert.That(ok, Is.LessThan(16), () => result.Describe("the failed read is reported"));
        // The device (the AHCI port: recovered) still writes and flushes.
        result.AssertOutputContains("disk: wrote status 0 flush status 0");
        AssertOnlyTheWriteChangedTheImage(before, scratch * SectorSize);
    }

    [Test]
    public void EveryBadRequestIsRefusedAndNothingIsWritten()
    {
        byte[] before = File.ReadAllBytes(_image);

        FrontDoorResult result = Boot("bad");

        result.AssertExitStatus(0);
        var expected = new Dictionary<string, string>
        {
            ["past-end"] = "InvalidArgument", ["huge-sector"] = "InvalidArgument", ["too-many-pages"] = "InvalidArgument",
            ["no-pages"] = "InvalidArgument", ["unaligned"] = "InvalidArgument", ["unmapped"] = "BadAddress",
            ["half-unmapped"] = "BadAddress", ["kernel-address"] = "BadAddress", ["into-info-page"] = "BadAddress",
            ["into-pci-table"] = "BadAddress", ["bad-operation"] = "InvalidArgument", ["flush-with-buffer"] = "InvalidArgument",
            ["bad-request-address"] = "BadAddress", ["console-slot"] = "NoCapability", ["disk-slot"] = "NoCapability",
            ["restrict"] = "ok", ["write-read-only"] = "NoCapability", ["flush-read-only"] = "NoCapability",
            ["free-read-only"] = "NoCapability", ["complete-bad-buffer"] = "BadAddress", ["complete-too-many"] = "InvalidArgument",
            ["open-unknown"] = "NoSuchExtent", ["open-too-long"] = "InvalidArgument", ["open-bad-name-address"] = "BadAddress",
            ["allocate-too-big"] = "NoMemory", ["allocate-taken-name"] = "Busy",
        };
        foreach (var (what, error) in expected)
            result.AssertOutputContains($"disk: bad {what} {error}");
        result.AssertOutputContains("disk: bad 33rd-request accepted 32 last WouldBlock");
        result.AssertOutputContains("disk: bad collected-32 yes");
        Assert.That(File.ReadAllBytes(_image).SequenceEqual(before), Is.True, "no request of the bad mode writes, and the table is unchanged");
    }

    [Test]
    public void ExtentsAnAppAllocatesAndFreesAreOnTheDiskAfterAReboot()
    {
        OnVirtioOnly();
        FrontDoorResult result = Boot("alloc");

        result.AssertExitStatus(0);
        Match made = result.AssertOutputMatches(@"disk: allocated made-by-app start (\d+) sectors 4096");
        result.AssertOutputContains("disk: wrote made-by-app status 0");
        result.AssertOutputContains("disk: free doomed ok");
        result.AssertOutputContains("disk: after free: read NoSuchExtent copy NoSuchExtent open NoSuchExtent");
        var extents = Extents();
        Assert.That(string.Join(",", extents.Select(e => e.Key).OrderBy(k => k, StringComparer.Ordinal)), Is.EqualTo("made-by-app,scratch"), "the table on the disk, read by the host's tool");
        Assert.That(extents["made-by-app"], Is.EqualTo((long.Parse(made.Groups[1].Value), 4096L)));
        Assert.That(extents["made-by-app"].Start, Is.EqualTo(20480), "the lowest free run when it was made: after scratch and doomed");
        byte[] image = File.ReadAllBytes(_image);
        long page = (extents["made-by-app"].Start + 8) * SectorSize;
        Assert.That(image.Skip((int)page).Take(4096).All(b => b == 0xA5), Is.True, "the page written through the new extent");

        FrontDoorResult again = Boot("info");
        again.AssertExitStatus(0);
        again.AssertOutputMatches(@"Aegis: disk 0: " + _controller + @" .*, 2 extents scratch 2048\+16384 made-by-app \d+\+4096");
        again.AssertOutputContains("disk: extent scratch start 2048 sectors 16384 flags 7 ok");
    }

    [Test]
    public void AFrameFreedWhileItsReadIsInFlightIsKeptUntilTheDeviceIsDone()
    {
        OnVirtioOnly();
        FrontDoorResult result = Boot("free-in-flight");

        result.AssertExitStatus(0);
        result.AssertOutputContains("disk: free-in-flight submit ok freed 8 completed 0");
    }

    [Test]
    public void ATornTableCopyFallsBackToTheOtherAndTwoMeanNoTable()
    {
        OnVirtioOnly();
        // Copy B (sector 16) is the newer one; damage one byte of its records.
        using (var file = new FileStream(_image, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 17 * SectorSize + 30;
            file.WriteByte(0x5A);
        }
        FrontDoorResult older = Boot("info");
        older.AssertExitStatus(0);
        older.AssertOutputMatches(@"Aegis: disk 0: " + _controller + @" .*, 2 extents scratch 2048\+16384 doomed 18432\+2048");

        using (var file = new FileStream(_image, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 3 * SectorSize + 30;
            file.WriteByte(0x5A);
        }
        FrontDoorResult none = Boot("info");
        none.AssertExitStatus(0);
        none.AssertOutputContains("no extent table (checksum mismatch (a torn or damaged write))");
        none.AssertOutputMatches(@"disk: info sectors 131072 free 0 extents 0 flags 2 controller " + _controllerKind);
        none.AssertOutputContains("disk: open scratch NoSuchExtent");
    }

    [Test]
    public void TheDatabaseKeepsItsRecordsOnItsOwnExtentAcrossAReboot()
    {
        OnVirtioOnly();
        FrontDoorResult written = FrontDoor.BootWithDisk(_image, _bus, 120, "init=dbtest:disk", "exit");
        written.AssertExitStatus(0);
        written.AssertOutputMatches(@"dbtest: on the disk, extent dbtest at sector \d+, 32 blocks");
        written.AssertOutputContains("dbtest: 2048 records,");
        // The records, read from the image by the host: record n is 64 bytes at n * 64 of the extent:
        // key (n * 2654435761 + 17), value (n ^ 0x5A5A...), 48 payload bytes (byte)(key + i).
        var extents = Extents();
        Assert.That(extents.TryGetValue("dbtest", out var extent), Is.True, "the extent the database made is in the table on the disk");
        Assert.That(extent.Sectors, Is.EqualTo(256));
        byte[] image = File.ReadAllBytes(_image);
        long at = extent.Start * SectorSize;
        for (ulong n = 0; n < 2048; n++)
        {
            long record = at + (long)n * 64;
            ulong key = BitConverter.ToUInt64(image, (int)record), value = BitConverter.ToUInt64(image, (int)record + 8);
            Assert.That(key, Is.EqualTo(n * 2654435761UL + 17), $"record {n}'s key on the disk");
            Assert.That(value, Is.EqualTo(n ^ 0x5A5A_5A5A_5A5A_5A5AUL), $"record {n}'s value on the disk");
            for (int i = 0; i < 48; i++)
                if (image[record + 16 + i] != (byte)(key + (ulong)i)) Assert.Fail($"record {n}'s payload byte {i} on the disk");
        }

        FrontDoorResult again = FrontDoor.BootWithDisk(_image, _bus, 120, "init=dbtest:verify", "exit");
        again.AssertExitStatus(0);
        again.AssertOutputMatches(@"dbtest: 2048 records, \d+ hits, \d+ misses, ok");
        again.AssertOutputMatches(@"0 write-backs, \d+ block reads, 0 block writes");
    }
}
