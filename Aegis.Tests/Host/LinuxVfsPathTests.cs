#nullable enable
// Path resolution relative to the cwd and to directory descriptors, getcwd/chdir/fchdir, umask,
// metadata calls (chmod, chown, utimensat, statfs, access), O_TMPFILE and link counts.
using Aegis.LibOS.Unixish.Linux.Files;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public unsafe class LinuxVfsPathTests
{
    [Test]
    public void RelativePathsStartAtTheCwdOrTheDirectoryDescriptor()
    {
        var vfs = new Vfs();
        Assert.That(vfs.Files.MakeDirectoryAt(-100, "/tmp/a", 0x1FF), Is.EqualTo(0));
        Assert.That(vfs.Files.MakeDirectoryAt(-100, "/tmp/a/b", 0x1FF), Is.EqualTo(0));
        vfs.CreateFile("/tmp/a/b/f", "in b");
        Assert.That(vfs.Files.ChangeDirectory("/tmp/a"), Is.EqualTo(0));
        Assert.That(vfs.ReadFile("b/f"), Is.EqualTo("in b"));
        Assert.That(vfs.ReadFile("./b/../b/./f"), Is.EqualTo("in b"));
        Assert.That(vfs.ReadFile("../../../../tmp/a/b/f"), Is.EqualTo("in b"), "'..' of the root is the root");
        int dir = (int)vfs.Open("/tmp/a/b", LinuxFile.O_DIRECTORY | LinuxFile.O_RDONLY);
        Assert.That(vfs.Files.OpenAt(dir, "f", 0, 0), Is.GreaterThan(0));
        Assert.That(vfs.Files.OpenAt(dir, "/tmp/a/b/f", 0, 0), Is.GreaterThan(0), "absolute paths ignore dirfd");
        Assert.That(vfs.Files.OpenAt(999, "/tmp/a/b/f", 0, 0), Is.GreaterThan(0), "even a bad one");
        Assert.That(vfs.Files.OpenAt(999, "f", 0, 0), Is.EqualTo(-9));
        int file = (int)vfs.Open("/tmp/a/b/f", 0);
        Assert.That(vfs.Files.OpenAt(file, "x", 0, 0), Is.EqualTo(-20), "dirfd not a directory: ENOTDIR");
        Assert.That(vfs.Files.StatAt(file, "", LinuxFile.AT_EMPTY_PATH, out StatInfo self), Is.EqualTo(0));
        Assert.That(self.Size, Is.EqualTo(4));
        Assert.That(vfs.Files.StatAt(file, "", 0, out _), Is.EqualTo(-2), "empty path without AT_EMPTY_PATH: ENOENT");
        Assert.That(vfs.Files.StatAt(-100, "", LinuxFile.AT_EMPTY_PATH, out StatInfo cwd), Is.EqualTo(0));
        Assert.That(cwd.Inode, Is.EqualTo(vfs.Stat("/tmp/a").Inode));
        Assert.That(vfs.Files.StatAt(-100, "x", 0x8000, out _), Is.EqualTo(-22), "unknown flags: EINVAL");
        Assert.That(vfs.Open("", 0), Is.EqualTo(-2));
    }

    [Test]
    public void GetcwdFollowsRenamesAndFailsOnceTheDirectoryIsRemoved()
    {
        var vfs = new Vfs();
        vfs.Files.MakeDirectoryAt(-100, "/tmp/x", 0x1ED);
        vfs.Files.MakeDirectoryAt(-100, "/tmp/x/y", 0x1ED);
        Assert.That(vfs.Files.ChangeDirectory("/tmp/x/y"), Is.EqualTo(0));
        Assert.That(vfs.Files.GetCwd(out string path), Is.EqualTo(0));
        Assert.That(path, Is.EqualTo("/tmp/x/y"));
        Assert.That(vfs.Files.RenameAt(-100, "/tmp/x", -100, "/tmp/z", 0), Is.EqualTo(0));
        vfs.Files.GetCwd(out path);
        Assert.That(path, Is.EqualTo("/tmp/z/y"));
        Assert.That(vfs.Files.UnlinkAt(-100, "/tmp/z/y", LinuxFile.AT_REMOVEDIR), Is.EqualTo(0));
        Assert.That(vfs.Files.GetCwd(out _), Is.EqualTo(-2), "ENOENT, as Linux for a removed cwd");
        Assert.That(vfs.Open("new", 0x41), Is.EqualTo(-2), "nothing can be created in a removed directory");
        Assert.That(vfs.Files.ChangeDirectory(".."), Is.EqualTo(0));
        vfs.Files.GetCwd(out path);
        Assert.That(path, Is.EqualTo("/tmp/z"));
        Assert.That(vfs.Files.ChangeDirectory("/"), Is.EqualTo(0));
        vfs.Files.GetCwd(out path);
        Assert.That(path, Is.EqualTo("/"));
    }

    [Test]
    public void ChdirAndFchdirNeedDirectories()
    {
        var vfs = new Vfs();
        vfs.CreateFile("/tmp/f");
        Assert.That(vfs.Files.ChangeDirectory("/tmp/f"), Is.EqualTo(-20));
        Assert.That(vfs.Files.ChangeDirectory("/nothing"), Is.EqualTo(-2));
        Assert.That(vfs.Files.ChangeDirectory((int)vfs.Open("/tmp/f", 0)), Is.EqualTo(-20));
        Assert.That(vfs.Files.ChangeDirectory((int)vfs.Open("/dev", LinuxFile.O_PATH)), Is.EqualTo(0), "an O_PATH descriptor will do");
        vfs.Files.GetCwd(out string path);
        Assert.That(path, Is.EqualTo("/dev"));
        Assert.That(vfs.Files.ChangeDirectory(77), Is.EqualTo(-9));
    }

    [Test]
    public void UmaskAppliesToNewFilesAndDirectories()
    {
        var vfs = new Vfs();
        Assert.That(vfs.Files.SetUmask(0x3F), Is.EqualTo(0x12u), "the default 022");
        vfs.Open("/tmp/f", 0x41, 0x1FF);
        vfs.Files.MakeDirectoryAt(-100, "/tmp/d", 0x1FF);
        Assert.That(vfs.Stat("/tmp/f").Mode, Is.EqualTo(LinuxFile.S_IFREG | 0x1C0));
        Assert.That(vfs.Stat("/tmp/d").Mode, Is.EqualTo(LinuxFile.S_IFDIR | 0x1C0));
        Assert.That(vfs.Files.SetUmask(0xFFFF), Is.EqualTo(0x3Fu));
        Assert.That(vfs.Files.SetUmask(0), Is.EqualTo(0x1FFu), "only the permission bits are kept");
    }

    [Test]
    public void ChmodChownAndUtimensatAreStored()
    {
        var vfs = new Vfs();
        vfs.CreateFile("/tmp/f");
        vfs.Time += 5_000_000_000;
        Assert.That(vfs.Files.ChmodAt(-100, "/tmp/f", 0xFED, 0), Is.EqualTo(0));
        Assert.That(vfs.Stat("/tmp/f").Mode, Is.EqualTo(LinuxFile.S_IFREG | 0xFED));
        Assert.That(vfs.Stat("/tmp/f").ChangeTime, Is.EqualTo(vfs.Time));
        Assert.That(vfs.Files.ChownAt(-100, "/tmp/f", 12, 0xFFFFFFFF, 0), Is.EqualTo(0));
        StatInfo owned = vfs.Stat("/tmp/f");
        Assert.That((owned.Uid, owned.Gid), Is.EqualTo((12u, 0u)));
        Assert.That(owned.Mode & 0xC00, Is.EqualTo(0u), "chown clears set-user-ID and (group-executable) set-group-ID");
        vfs.Files.SymlinkAt("f", -100, "/tmp/l");
        Assert.That(vfs.Files.ChownAt(-100, "/tmp/l", 5, 6, LinuxFile.AT_SYMLINK_NOFOLLOW), Is.EqualTo(0));
        Assert.That(vfs.Stat("/tmp/l", follow: false).Uid, Is.EqualTo(5u));
        Assert.That(vfs.Stat("/tmp/f").Uid, Is.EqualTo(12u));
        Assert.That(vfs.Files.ChmodAt(-100, "/tmp/l", 0x1FF, LinuxFile.AT_SYMLINK_NOFOLLOW), Is.EqualTo(-95), "EOPNOTSUPP, as Linux");

        Assert.That(vfs.Files.UtimensAt(-100, "/tmp/f", true, 100, 5, 200, 6, 0), Is.EqualTo(0));
        StatInfo times = vfs.Stat("/tmp/f");
        Assert.That((times.AccessTime, times.ModifyTime), Is.EqualTo((100_000_000_005L, 200_000_000_006L)));
        vfs.Time += 1;
        Assert.That(vfs.Files.UtimensAt(-100, "/tmp/f", true, 0, LinuxFile.UTIME_OMIT, 0, LinuxFile.UTIME_NOW, 0), Is.EqualTo(0));
        times = vfs.Stat("/tmp/f");
        Assert.That((times.AccessTime, times.ModifyTime), Is.EqualTo((100_000_000_005L, vfs.Time)));
        Assert.That(vfs.Files.UtimensAt(-100, "/tmp/f", true, 0, 1_000_000_000, 0, 0, 0), Is.EqualTo(-22));
        int fd = (int)vfs.Open("/tmp/f", 0);
        vfs.Time += 7;
        Assert.That(vfs.Files.UtimensAt(fd, null, false, 0, 0, 0, 0, 0), Is.EqualTo(0), "a null path: the descriptor's file");
        Assert.That(vfs.Stat("/tmp/f").ModifyTime, Is.EqualTo(vfs.Time));
        Assert.That(vfs.Files.UtimensAt(-100, null, false, 0, 0, 0, 0, 0), Is.EqualTo(-14), "AT_FDCWD with a null path: EFAULT");
    }

    [Test]
    public void WritesUpdateModificationTimesAndDirectoriesTrackTheirEntries()
    {
        var vfs = new Vfs();
        long created = vfs.Time;
        vfs.CreateFile("/tmp/f");
        Assert.That(vfs.Stat("/tmp").ModifyTime, Is.EqualTo(created));
        vfs.Time += 1000;
        int fd = (int)vfs.Open("/tmp/f", LinuxFile.O_WRONLY);
        vfs.Write(fd, "x");
        Assert.That(vfs.Stat("/tmp/f").ModifyTime, Is.EqualTo(vfs.Time));
        Assert.That(vfs.Stat("/tmp").ModifyTime, Is.EqualTo(created), "writing a file does not change its directory");
        vfs.Files.UnlinkAt(-100, "/tmp/f", 0);
        Assert.That(vfs.Stat("/tmp").ModifyTime, Is.EqualTo(vfs.Time));
        Assert.That(vfs.Files.Fstat(fd, out StatInfo gone), Is.EqualTo(0), "an open file outlives its name");
        Assert.That(gone.Links, Is.EqualTo(0UL));
        Assert.That(vfs.Write(fd, "y"), Is.EqualTo(1));
    }

    [Test]
    public void DirectoryLinkCountsCountSubdirectories()
    {
        var vfs = new Vfs();
        vfs.Files.MakeDirectoryAt(-100, "/tmp/d", 0x1ED);
        Assert.That(vfs.Stat("/tmp/d").Links, Is.EqualTo(2UL));
        vfs.Files.MakeDirectoryAt(-100, "/tmp/d/a", 0x1ED);
        vfs.Files.MakeDirectoryAt(-100, "/tmp/d/b", 0x1ED);
        vfs.CreateFile("/tmp/d/file");
        Assert.That(vfs.Stat("/tmp/d").Links, Is.EqualTo(4UL));
        vfs.Files.RenameAt(-100, "/tmp/d/a", -100, "/tmp/a", 0);
        Assert.That(vfs.Stat("/tmp/d").Links, Is.EqualTo(3UL));
        vfs.Files.RenameAt(-100, "/tmp/a", -100, "/tmp/d/b", 0);
        Assert.That(vfs.Stat("/tmp/d").Links, Is.EqualTo(3UL), "a directory renamed over an empty one");
        vfs.Files.UnlinkAt(-100, "/tmp/d/b", LinuxFile.AT_REMOVEDIR);
        Assert.That(vfs.Stat("/tmp/d").Links, Is.EqualTo(2UL));
    }

    [Test]
    public void MountsAreSeparateFileSystems()
    {
        var vfs = new Vfs();
        vfs.CreateFile("/tmp/f", "x");
        Assert.That(vfs.Files.RenameAt(-100, "/tmp/f", -100, "/f", 0), Is.EqualTo(-18), "EXDEV between / and /tmp");
        Assert.That(vfs.Files.LinkAt(-100, "/tmp/f", -100, "/dev/f", 0), Is.EqualTo(-18));
        Assert.That(vfs.Stat("/tmp").Device, Is.Not.EqualTo(vfs.Stat("/").Device));
        Assert.That(vfs.Stat("/tmp/..").Inode, Is.EqualTo(vfs.Stat("/").Inode));
        vfs.Fs.StatFs(vfs.Fs.Tmp, out ulong type, out long blocks, out long free, out _, out _);
        Assert.That(type, Is.EqualTo(LinuxFile.TMPFS_MAGIC));
        Assert.That(blocks, Is.EqualTo((512L << 20) / 2 / 4096), "half of memory, tmpfs's default");
        Assert.That(free, Is.LessThanOrEqualTo(blocks));
        Assert.That(vfs.Files.StatFsTarget(-1, "/proc/meminfo", out Inode proc), Is.EqualTo(0));
        vfs.Fs.StatFs(proc, out type, out _, out _, out _, out _);
        Assert.That(type, Is.EqualTo(LinuxFile.PROC_SUPER_MAGIC));
        Assert.That(vfs.Stat("/tmp").Mode, Is.EqualTo(LinuxFile.S_IFDIR | 0x3FF), "/tmp is 1777");
    }

    [Test]
    public void AccessChecksExecuteBitsOnlyAsRootDoes()
    {
        var vfs = new Vfs();
        vfs.Open("/tmp/f", 0x41, 0);
        Assert.That(vfs.Files.AccessAt(-100, "/tmp/f", LinuxFile.R_OK | LinuxFile.W_OK, 0), Is.EqualTo(0), "root reads and writes mode 000");
        Assert.That(vfs.Files.AccessAt(-100, "/tmp/f", LinuxFile.X_OK, 0), Is.EqualTo(-13));
        vfs.Files.ChmodAt(-100, "/tmp/f", 0x8, 0);
        Assert.That(vfs.Files.AccessAt(-100, "/tmp/f", LinuxFile.X_OK, 0), Is.EqualTo(0), "any x bit will do for root");
        Assert.That(vfs.Files.AccessAt(-100, "/tmp/f", 8, 0), Is.EqualTo(-22));
        Assert.That(vfs.Files.ExecutableAt("/tmp/f", out _), Is.EqualTo(0));
        Assert.That(vfs.Files.ExecutableAt("/tmp", out _), Is.EqualTo(-13));
        Assert.That(vfs.Files.ExecutableAt("/none", out _), Is.EqualTo(-2));
    }

    [Test]
    public void TmpfileMakesAnUnnamedFileThatLinkatCanName()
    {
        var vfs = new Vfs();
        int fd = (int)vfs.Open("/tmp", LinuxFile.O_TMPFILE | LinuxFile.O_RDWR);
        Assert.That(fd, Is.GreaterThan(2));
        Assert.That(vfs.Write(fd, "anon"), Is.EqualTo(4));
        Assert.That(vfs.List("/tmp").Count, Is.EqualTo(2), "no name in the directory");
        Assert.That(vfs.Files.LinkAt(fd, "", -100, "/tmp/named", LinuxFile.AT_EMPTY_PATH), Is.EqualTo(0));
        Assert.That(vfs.ReadFile("/tmp/named"), Is.EqualTo("anon"));
        Assert.That(vfs.Open("/tmp", LinuxFile.O_TMPFILE | LinuxFile.O_RDONLY), Is.EqualTo(-22));
        Assert.That(vfs.Open("/tmp/named", LinuxFile.O_TMPFILE | LinuxFile.O_RDWR), Is.EqualTo(-20));
    }

    [Test]
    public void LongPathsAreENameTooLong()
    {
        var vfs = new Vfs();
        string deep = "/tmp/" + string.Join("/", Enumerable.Repeat("d", 2100));
        Assert.That(vfs.Files.StatAt(-100, deep, 0, out _), Is.EqualTo(-36), "4096 bytes or more: ENAMETOOLONG");
        Assert.That(vfs.Files.MakeDirectoryAt(-100, "/tmp/" + new string('a', 256), 0x1ED), Is.EqualTo(-36));
    }

    [Test]
    public void WritingAnArchiveFileCopiesItAndTruncateToZeroFreesIt()
    {
        var vfs = new Vfs();
        vfs.CreateFile("/tmp/big", new string('b', 100000));
        Assert.That(vfs.Files.Truncate("/tmp/big", 0), Is.EqualTo(0));
        Assert.That(vfs.Stat("/tmp/big").Size, Is.EqualTo(0));
        Assert.That(vfs.Stat("/tmp/big").Blocks, Is.EqualTo(0));
        Assert.That(vfs.Files.Truncate("/tmp/big", 5), Is.EqualTo(0));
        Assert.That(vfs.ReadFile("/tmp/big"), Is.EqualTo("\0\0\0\0\0"));
        Assert.That(vfs.Files.Truncate("/tmp/big", -1), Is.EqualTo(-22));
        Assert.That(vfs.Files.Truncate("/tmp", 0), Is.EqualTo(-21));
    }
}

[TestFixture]
[NonParallelizable] // RegularFile.MemoryBudget is static
public unsafe class LinuxVfsFuzzFindingsTests
{
    [TearDown]
    public void NoBudget()
    {
        RegularFile.MemoryBudget = null;
        LinuxFiles.InterruptPending = null;
    }

    /// <summary>busybox re-executes itself through /proc/self/exe: the program's name (maps, exe)
    /// must be the file's own path, links followed, not "/proc/self/exe".</summary>
    [Test]
    public void ResolvedPathFollowsLinksToTheFile()
    {
        var vfs = new Vfs();
        vfs.CreateFile("/tmp/program", "x");
        Assert.That(vfs.Files.SymlinkAt("/tmp/program", -100, "/tmp/link"), Is.EqualTo(0));
        Assert.That(vfs.Files.SymlinkAt("link", -100, "/tmp/link2"), Is.EqualTo(0));
        Assert.That(vfs.Files.ResolvedPath("/tmp/link2"), Is.EqualTo("/tmp/program"));
        Assert.That(vfs.Files.ResolvedPath("/tmp/../tmp/./program"), Is.EqualTo("/tmp/program"));
        Assert.That(vfs.Files.ResolvedPath("/tmp/none"), Is.Null);
    }

    private static int s_polls;
    private static bool SignalAfterThreeChunks() => ++s_polls >= 3;

    /// <summary>Found by the Linux-ABI fuzzer: sendfile from /dev/zero to /dev/null with a count
    /// of 2^44 ran for minutes, deaf to the program's alarm. As Linux, a waiting signal ends it
    /// with the bytes copied so far, and one call moves at most MAX_RW_COUNT.</summary>
    [Test]
    public void SendFileStopsForAWaitingSignal()
    {
        var vfs = new Vfs();
        int zero = (int)vfs.Open("/dev/zero", LinuxFile.O_RDONLY), sink = (int)vfs.Open("/dev/null", LinuxFile.O_WRONLY);
        s_polls = 0;
        LinuxFiles.InterruptPending = &SignalAfterThreeChunks;
        Assert.That(vfs.Files.SendFile(sink, zero, null, 1L << 44), Is.EqualTo(3 * 4096), "three chunks, then the signal");
        Assert.That(LinuxFiles.MaxTransfer, Is.EqualTo(0x7FFFF000), "Linux's MAX_RW_COUNT");
    }

    /// <summary>Found by the Linux-ABI fuzzer (Tests/Linux/fuzz.c): ftruncate(fd, 1 GiB) and a
    /// pwrite far beyond the end allocated the whole content at once and ended the libOS with
    /// OutOfMemory. Beyond the memory budget a truncate is -EFBIG and a write -ENOSPC; the file
    /// keeps what it had, and within the budget both work.</summary>
    [Test]
    public void GrowingAFileBeyondTheMemoryBudgetIsAnErrorNotACrash()
    {
        var vfs = new Vfs();
        vfs.CreateFile("/tmp/f", "abc");
        int fd = (int)vfs.Open("/tmp/f", LinuxFile.O_RDWR);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        RegularFile.MemoryBudget = () => 1 << 20;
        Assert.That(vfs.Files.Ftruncate(fd, 1L << 30), Is.EqualTo(-27), "ftruncate beyond the budget: EFBIG");
        Assert.That(vfs.Files.Truncate("/tmp/f", 1L << 30), Is.EqualTo(-27), "truncate beyond the budget: EFBIG");
        byte* bytes = stackalloc byte[4] { 1, 2, 3, 4 };
        Assert.That(vfs.Files.PWrite(fd, bytes, 4, 1L << 30), Is.EqualTo(-28), "a write beyond the budget: ENOSPC");
        Assert.That(vfs.ReadFile("/tmp/f"), Is.EqualTo("abc"), "the file is unchanged");
        Assert.That(vfs.Files.Ftruncate(fd, 100000), Is.EqualTo(0), "within the budget");
        Assert.That(vfs.Files.PWrite(fd, bytes, 4, 200000), Is.EqualTo(4), "within the budget");
        Assert.That(vfs.Stat("/tmp/f").Size, Is.EqualTo(200004));
    }
}
