// Power cuts (issue #11): the ext3 file system on a real disk (the rootfs extent `./aegis disk
// create` makes), written from ring 3 by `ext2smoke:churnK` — files created, written and fsynced
// one after another — while the host cuts QEMU off at a random moment (the monitor's `quit`: no
// guest shutdown, whatever the device had not finished is lost). After each cut the host mounts a
// copy of the file system with the same library (its journal replayed), checks that every file
// whose fsync returned (the guest printed it) is there with every byte, and runs e2fsck -fn on
// the replayed copy; the next boot mounts the cut image itself (the guest replays) and goes on.
// AEGIS_POWER_CUTS sets how many cuts (default 3, to keep `./aegis test` short; docs/disks.md
// has a run with 20).
using System.Text.RegularExpressions;
using Aegis.LibOS.Unixish.Storage;
using Aegis.Tests.Host;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class PowerCutTests
{
    private const long RootfsOffset = 2048L * 512;

    private static byte ChurnByte(int k, int i, int j) => (byte)(i * 31 + j * 7 + k);

    [Test]
    public void FsyncedFilesSurviveRandomPowerCutsAndTheFileSystemStaysClean()
    {
        int cuts = int.TryParse(Environment.GetEnvironmentVariable("AEGIS_POWER_CUTS"), out int n) && n > 0 ? n : 3;
        string image = Path.Combine(Path.GetTempPath(), $"aegis-powercut-{Environment.ProcessId}.img");
        File.Delete(image);
        var random = new Random(1101);
        var fsynced = new List<(int K, int I, int Size)>();
        try
        {
            // The staged root file system takes ~48 MiB; each boot writes at most 400 files of ~11 KiB.
            FrontDoor.Run(TimeSpan.FromMinutes(3), "disk", "create", image, "--size", (72 + 6 * cuts).ToString()).AssertExitStatus(0);
            for (int k = 1; k <= cuts; k++)
            {
                int delay = random.Next(0, 1500);
                FrontDoorResult result = FrontDoor.BootWithDiskAndMonitor(image, "virtio", 180, (monitor, output) =>
                {
                    var waited = System.Diagnostics.Stopwatch.StartNew();
                    while (!output().Contains("ext2smoke: fsynced ") && waited.Elapsed < TimeSpan.FromSeconds(150))
                        Thread.Sleep(50);
                    Thread.Sleep(delay);
                    try { monitor.Command("quit"); } catch (Exception) { } // QEMU goes at once: no answer
                }, $"init=ext2smoke:churn{k}", "exit");
                Assert.That(result.Output, Does.Contain($"ext2smoke: churn {k} mounted"), () => result.Describe("the guest mounted the (cut) file system"));
                Assert.That(result.Output, Does.Not.Contain("FAILED"), () => result.Describe("the workload failed"));
                int before = fsynced.Count;
                foreach (Match line in Regex.Matches(result.Output, $@"ext2smoke: fsynced k{k}-(\d{{4}}) (\d+)"))
                    fsynced.Add((k, int.Parse(line.Groups[1].Value), int.Parse(line.Groups[2].Value)));
                Assert.That(fsynced.Count, Is.GreaterThan(before), () => result.Describe("no fsync returned before the cut"));
                CheckAfterCut(image, fsynced, $"cut {k} after {delay} ms and {fsynced.Count - before} fsyncs");
            }
        }
        finally
        {
            File.Delete(image);
        }
    }

    /// <summary>The same through the Linux personality: busybox's shell writes /cK/fI (the output
    /// of seq I) and runs sync after each, printing "synced I"; / is the file server's ext3 on the
    /// disk. The host cuts QEMU at a random moment after the first sync; every file whose sync
    /// returned must be whole in the host's replay, and e2fsck -fn clean.</summary>
    [Test]
    public void FilesSyncedThroughTheLinuxRootSurviveRandomPowerCuts()
    {
        int cuts = int.TryParse(Environment.GetEnvironmentVariable("AEGIS_POWER_CUTS"), out int n) && n > 0 ? n : 3;
        string image = Path.Combine(Path.GetTempPath(), $"aegis-powercut-linux-{Environment.ProcessId}.img");
        File.Delete(image);
        var random = new Random(1102);
        var synced = new List<(int K, int I)>();
        try
        {
            FrontDoor.Run(TimeSpan.FromMinutes(3), "disk", "create", image, "--size", (72 + 2 * cuts).ToString()).AssertExitStatus(0);
            for (int k = 1; k <= cuts; k++)
            {
                int delay = random.Next(0, 1500);
                FrontDoorResult result = FrontDoor.BootWithDiskAndMonitor(image, "virtio", 180, (monitor, output) =>
                {
                    var waited = System.Diagnostics.Stopwatch.StartNew();
                    while (!output().Contains("] synced ") && waited.Elapsed < TimeSpan.FromSeconds(150))
                        Thread.Sleep(50);
                    Thread.Sleep(delay);
                    try { monitor.Command("quit"); } catch (Exception) { }
                }, $"init=/bin/sh -c 'mkdir -p /c{k};i=0;while :;do i=$((i+1));seq $i >/c{k}/f$i;sync;echo synced $i;done'", "exit");
                Assert.That(result.Output, Does.Contain("file server: / is ext3 on the disk"), () => result.Describe("/ was the disk"));
                int before = synced.Count;
                foreach (Match line in Regex.Matches(result.Output, @"\] synced (\d+)"))
                    synced.Add((k, int.Parse(line.Groups[1].Value)));
                Assert.That(synced.Count, Is.GreaterThan(before), () => result.Describe("no sync returned before the cut"));
                CheckLinuxFilesAfterCut(image, synced, $"cut {k} after {delay} ms and {synced.Count - before} syncs");
            }
        }
        finally
        {
            File.Delete(image);
        }
    }

    /// <summary>Nobody syncs: the file server commits the journal's running transaction every
    /// 5 s on its own (ext3's commit interval), so a file written 8 s before a power cut is on the
    /// disk; the host's replay finds it whole.</summary>
    [Test]
    public void WhatNobodySyncedIsCommittedWithinFiveSeconds()
    {
        string image = Path.Combine(Path.GetTempPath(), $"aegis-commit-{Environment.ProcessId}.img");
        File.Delete(image);
        try
        {
            FrontDoor.Run(TimeSpan.FromMinutes(3), "disk", "create", image, "--size", "72").AssertExitStatus(0);
            FrontDoorResult result = FrontDoor.BootWithDiskAndMonitor(image, "virtio", 120, (monitor, output) =>
            {
                var waited = System.Diagnostics.Stopwatch.StartNew();
                while (!output().Contains("] waited") && waited.Elapsed < TimeSpan.FromSeconds(90))
                    Thread.Sleep(50);
                try { monitor.Command("quit"); } catch (Exception) { } // the power goes before the first process ends
            }, "init=/bin/sh -c 'echo unsynced>/u;sleep 8;echo waited;sleep 100'", "exit");
            Assert.That(result.Output, Does.Contain("] waited"), () => result.Describe("the shell waited 8 s"));
            byte[] disk = File.ReadAllBytes(image);
            byte[] rootfs = new byte[disk.Length - RootfsOffset];
            Array.Copy(disk, RootfsOffset, rootfs, 0, rootfs.Length);
            var fs = Ext2FileSystem.Mount(new MemoryBlockStore(rootfs), new Ext2MountOptions { CacheBlocks = 1024 });
            Assert.That(fs.Lookup(Ext2FileSystem.RootInode, "u", out uint file), Is.EqualTo(0), "/u, written 8 s before the cut and never synced");
            var buffer = new byte[64];
            int read = fs.Read(file, 0, buffer, 0, buffer.Length);
            Assert.That(System.Text.Encoding.ASCII.GetString(buffer, 0, Math.Max(read, 0)), Is.EqualTo("unsynced\n"));
        }
        finally
        {
            File.Delete(image);
        }
    }

    private static void CheckLinuxFilesAfterCut(string image, List<(int K, int I)> synced, string context)
    {
        byte[] disk = File.ReadAllBytes(image);
        byte[] rootfs = new byte[disk.Length - RootfsOffset];
        Array.Copy(disk, RootfsOffset, rootfs, 0, rootfs.Length);
        var fs = Ext2FileSystem.Mount(new MemoryBlockStore(rootfs), new Ext2MountOptions { CacheBlocks = 1024 });
        var buffer = new byte[65536];
        foreach (var (k, i) in synced)
        {
            Assert.That(fs.Lookup(Ext2FileSystem.RootInode, "c" + k, out uint directory), Is.EqualTo(0), $"{context}: /c{k}");
            Assert.That(fs.Lookup(directory, "f" + i, out uint file), Is.EqualTo(0), $"{context}: /c{k}/f{i} was synced and is gone");
            int read = fs.Read(file, 0, buffer, 0, buffer.Length);
            string expected = string.Concat(Enumerable.Range(1, i).Select(x => x + "\n"));
            Assert.That(System.Text.Encoding.ASCII.GetString(buffer, 0, Math.Max(read, 0)), Is.EqualTo(expected), $"{context}: /c{k}/f{i}'s bytes");
        }
        Assert.That(fs.Unmount(), Is.EqualTo(0), context + ": unmount after the replay");
        var (code, output) = Ext2Tools.Fsck(rootfs);
        Assert.That(code, Is.EqualTo(0), $"{context}: e2fsck -fn after the replay:\n{output}");
    }

    /// <summary>The host's replay of a copy: every fsynced file whole, e2fsck -fn clean.</summary>
    private static void CheckAfterCut(string image, List<(int K, int I, int Size)> fsynced, string context)
    {
        byte[] disk = File.ReadAllBytes(image);
        byte[] rootfs = new byte[disk.Length - RootfsOffset];
        Array.Copy(disk, RootfsOffset, rootfs, 0, rootfs.Length);
        var fs = Ext2FileSystem.Mount(new MemoryBlockStore(rootfs), new Ext2MountOptions { CacheBlocks = 1024 });
        Assert.That(fs.Lookup(Ext2FileSystem.RootInode, "churn", out uint churn), Is.EqualTo(0), context + ": /churn");
        var buffer = new byte[32768];
        foreach (var (k, i, size) in fsynced)
        {
            string name = $"k{k}-{i:D4}";
            Assert.That(fs.Lookup(churn, name, out uint file), Is.EqualTo(0), $"{context}: {name} was fsynced and is gone");
            int read = fs.Read(file, 0, buffer, 0, buffer.Length);
            Assert.That(read, Is.EqualTo(size), $"{context}: {name}'s size");
            for (int j = 0; j < size; j++)
                if (buffer[j] != ChurnByte(k, i, j)) Assert.Fail($"{context}: {name} byte {j}");
        }
        Assert.That(fs.Unmount(), Is.EqualTo(0), context + ": unmount after the replay");
        var (code, output) = Ext2Tools.Fsck(rootfs);
        Assert.That(code, Is.EqualTo(0), $"{context}: e2fsck -fn after the replay:\n{output}");
    }
}
