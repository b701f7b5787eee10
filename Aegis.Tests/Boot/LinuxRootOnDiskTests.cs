// The Linux personality's / on the disk (issue #11): unmodified busybox writes through the file
// server into the ext3 file system on the extent rootfs, the machine stops, boots again, and the
// files are there. The verdicts are the host's: e2fsck -fn on the image, debugfs reading what the
// guest wrote, and the second boot's output of commands reading the first boot's files.
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public class LinuxRootOnDiskTests
{
    private string _image = "";

    [SetUp]
    public void MakeDisk()
    {
        _image = Path.Combine(Path.GetTempPath(), $"aegis-root-{Environment.ProcessId}-{(uint)TestContext.CurrentContext.Test.Name.GetHashCode():x8}.img");
        File.Delete(_image);
        FrontDoor.Run(TimeSpan.FromMinutes(3), "disk", "create", _image, "--size", "64").AssertExitStatus(0);
    }

    [TearDown]
    public void RemoveDisk() => File.Delete(_image);

    [TestCase("virtio")]
    [TestCase("ahci")]
    public void FilesWrittenThroughTheLinuxPersonalitySurviveARebootAndTwoProcessesShareThem(string bus)
    {
        // Boot 1: a directory, a file, a hard link, a symbolic link, a mode; and a file two processes share:
        // the parent writes, a child process reads it and appends, the parent reads the child's line.
        FrontDoorResult first = FrontDoor.BootWithDisk(_image, bus, 120,
            "init=/bin/sh -c 'mkdir -p /home/u;echo kept>/home/u/a;ln /home/u/a /home/u/b;ln -s a /home/u/c;chmod 640 /home/u/a;"
            + "echo from-parent>/s;sh -c \"cat /s;echo from-child>>/s\";cat /s'", "exit");
        first.AssertExitStatus(0);
        first.AssertOutputContains("file server: / is ext3 on the disk");
        first.AssertOutputMatches(@"(?m)from-parent\s*\r?\n(\[[^\]]*\] )?from-parent\s*\r?\n(\[[^\]]*\] )?from-child");

        AssertClean("after the first boot");
        Assert.That(Debugfs("cat /home/u/a"), Is.EqualTo("kept\n"), "the file's bytes, read by debugfs");
        Assert.That(Debugfs("cat /s"), Is.EqualTo("from-parent\nfrom-child\n"), "both processes' lines");
        string stat = Debugfs("stat /home/u/a");
        Assert.That(stat, Does.Match(@"Mode:\s+0640").And.Match(@"Links:\s+2"), stat);
        Assert.That(Debugfs("stat /home/u/c"), Does.Contain("Fast link dest: \"a\""));

        // Boot 2: the first boot's files as it left them; a name removed.
        FrontDoorResult second = FrontDoor.BootWithDisk(_image, bus, 120,
            "init=/bin/sh -c 'cat /home/u/c;stat -c \"%a %h %s\" /home/u/a;readlink /home/u/c;rm /home/u/b;stat -c \"links %h\" /home/u/a;cp /bin/busybox /echo;/echo copied-runs'", "exit");
        second.AssertExitStatus(0);
        second.AssertOutputMatches(@"(?m)\] kept\s*$");
        second.AssertOutputMatches(@"(?m)\] 640 2 5\s*$");
        second.AssertOutputMatches(@"(?m)\] a\s*$");
        second.AssertOutputMatches(@"(?m)\] links 1\s*$");
        second.AssertOutputMatches(@"(?m)\] copied-runs\s*$"); // a program only on the disk: copied into the process
        AssertClean("after the second boot");
        Assert.That(Debugfs("ls /home/u"), Does.Not.Contain(" b ").And.Contain("a"), "b was removed on the disk");
    }

    [Test]
    public void AForkWhileTheFileServerReadsTheDiskForAnotherProcessSucceeds()
    {
        // Two programs start from the disk in the background (their execs make the file server
        // wait for the disk inside their calls, refusing others) while the shell forks ten more.
        // Before the fix the fork's call to the server gave up after Ipc.Call's yields: "can't
        // fork: Cannot allocate memory" in 3 boots of 3 (and in about half the boots of
        // "nginx & sleep 4"); VfsIpc.CallServer now waits such a refusal out.
        const string command = "/usr/sbin/nginx -V 2>/dev/null & /usr/bin/sqlite3 -version >/dev/null & "
            + "for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true || echo FORK-FAILED; done; wait; echo forks-done";
        FrontDoorResult result = FrontDoor.BootWithDisk(_image, "virtio", 120, "init=/bin/sh -c '" + command + "'", "exit");
        result.AssertExitStatus(0);
        result.AssertOutputContains("file server: / is ext3 on the disk");
        result.AssertOutputMatches(@"(?m)\] forks-done\s*$");
        Assert.That(result.Output, Does.Not.Contain("] FORK-FAILED").And.Not.Contain("can't fork").And.Not.Contain("fork failed"),
            () => result.Describe("a fork failed"));
    }

    [Test]
    public void RunMakesAMissingDiskFromTheRootFileSystemAndItsFilesStayForTheNextRun()
    {
        File.Delete(_image); // ./aegis run --disk FILE makes it (as it makes artifacts/disk.img)
        FrontDoorResult first = FrontDoor.BootWithDisk(_image, "virtio", 180, "init=/bin/sh -c 'echo kept>/root/k'", "exit");
        first.AssertExitStatus(0);
        first.AssertOutputContains("made " + _image);
        first.AssertOutputContains("file server: / is ext3 on the disk");
        Assert.That(Debugfs("cat /root/k"), Is.EqualTo("kept\n"));
        FrontDoorResult second = FrontDoor.BootWithDisk(_image, "virtio", 120, "init=/bin/sh -c 'cat /root/k'", "exit");
        second.AssertExitStatus(0);
        Assert.That(second.Output, Does.Not.Contain("made " + _image), "an existing disk is never made again");
        second.AssertOutputMatches(@"(?m)\] kept\s*$");
    }

    [Test]
    public void ARootExtentThatIsNotAFileSystemLeavesTheBuiltInArchiveAsRoot()
    {
        // Garbage over the file system's first 64 KiB (its superblock and group descriptors): the
        // extent table stays, so the kernel serves the extent and the file server refuses the mount.
        var random = new Random(11);
        byte[] garbage = new byte[65536];
        random.NextBytes(garbage);
        using (var file = new FileStream(_image, FileMode.Open, FileAccess.Write))
        {
            file.Seek(1048576, SeekOrigin.Begin);
            file.Write(garbage);
        }
        FrontDoorResult result = FrontDoor.BootWithDisk(_image, "virtio", 120, "init=/bin/sh -c 'cat /etc/hostname;echo x>/t;cat /t'", "exit");
        result.AssertExitStatus(0);
        result.AssertOutputMatches(@"file server: the extent 'rootfs' cannot be mounted: .+; / is the built-in archive, in memory");
        string hostname = File.ReadAllText(Path.Combine(FrontDoor.RepositoryRoot, "rootfs", "etc", "hostname")).Trim();
        result.AssertOutputMatches(@"(?m)\] " + hostname + @"\s*$");
        result.AssertOutputMatches(@"(?m)\] x\s*$");
        Assert.That(result.Output, Does.Not.Contain("PANIC"));
    }

    private void AssertClean(string when)
    {
        FrontDoorResult check = FrontDoor.Run(TimeSpan.FromMinutes(2), "disk", "check", _image);
        Assert.That(check.ExitCode, Is.EqualTo(0), () => check.Describe("e2fsck -fn must find the file system clean " + when));
    }

    private string Debugfs(string command) => FrontDoor.Debugfs(_image, command);
}
