// LibOS.Unixish/Storage inside the guest: the fixture Tests/Apps/Ext2Smoke, compiled by ILC
// against Aegis.Runtime, mounts ext2 and ext3 images from mke2fs, writes, replays a journal.
// Named apart from the Ext2* host tests, which need no ISO. And the same library on a real disk:
// the ext3 file system `./aegis disk create` made (mke2fs -d from the staged root file system),
// mounted from ring 3 through the kernel's block requests, written, then judged on the host by
// e2fsck -fn and debugfs.
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public class StorageBootTests
{
    [Test]
    public void StorageLibraryRunsInRing3AndReplaysAnExt3Journal()
    {
        FrontDoorResult result = FrontDoor.Boot(120, "init=ext2smoke", "exit");
        result.AssertOutputMatches(@"(?m)ext2smoke: ok \(ext2 written and read back; ext3 journal replayed [1-9]\d* transaction");
        result.AssertExitStatus(0);
    }

    [Test]
    public void AnExt3RootFileSystemOnTheDiskIsReadAndWrittenFromRing3AndStaysClean()
    {
        string image = Path.Combine(Path.GetTempPath(), $"aegis-ext3-{Environment.ProcessId}.img");
        File.Delete(image);
        try
        {
            FrontDoor.Run(TimeSpan.FromMinutes(3), "disk", "create", image, "--size", "64").AssertExitStatus(0);
            FrontDoorResult result = FrontDoor.BootWithDisk(image, "virtio", 120, "init=ext2smoke:disk", "exit");

            result.AssertExitStatus(0);
            result.AssertOutputContains("ext2smoke: disk ok");
            // What it read is the staged file's bytes.
            byte[] hostname = File.ReadAllBytes(Path.Combine(FrontDoor.RepositoryRoot, "Apps/Linux/obj/Release/net10.0/aegis/rootfs/stage/etc/hostname"));
            ulong hash = 0xCBF29CE484222325;
            foreach (byte b in hostname) hash = (hash ^ b) * 0x100000001B3;
            result.AssertOutputContains($"ext2smoke: disk /etc/hostname {hostname.Length} bytes hash {hash:x16}");
            // The host's e2fsprogs judge what it wrote.
            FrontDoorResult check = FrontDoor.Run(TimeSpan.FromMinutes(2), "disk", "check", image);
            Assert.That(check.ExitCode, Is.EqualTo(0), () => check.Describe("e2fsck -fn must find the file system clean"));
            string line = "written by Aegis through ext3 on a disk extent\n";
            string expected = string.Concat(Enumerable.Repeat(line, 200));
            Assert.That(Debugfs(image, "cat /aegis-wrote.txt"), Is.EqualTo(expected), "the file's bytes, read by debugfs");
            Assert.That(Debugfs(image, "ls -l /"), Does.Contain("made-by-aegis"));
        }
        finally
        {
            File.Delete(image);
        }
    }

    private static string Debugfs(string image, string command) => FrontDoor.Debugfs(image, command);
}
