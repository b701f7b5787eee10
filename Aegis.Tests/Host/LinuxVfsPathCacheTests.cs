#nullable enable
// The client's answers kept by the path's bytes (LibOS.Unixish/Linux/Files/PathCache.cs, the
// fast paths of stat and open that FileCalls takes with the program's bytes: LinuxFiles.CachedStat
// and OpenCached). Checked: a kept answer is exactly what the slow path (the server) answers, as
// the struct stat Linux writes; it is used only while the tree's generation is unchanged, so any
// change by any process (write, create, chmod, rename, unlink, symlink) is seen at once; only
// absolute paths that reached the server are kept (never /dev, /proc, a path handed over to them,
// a relative path, bad flags); stat and lstat are distinct keys; the keys are the bytes, compared
// in full (bytes >= 0x80, paths that share a hash bucket, over the table's limit).
using System.Text;
using Aegis.LibOS.Unixish.Linux;
using Aegis.LibOS.Unixish.Linux.Files;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public unsafe class LinuxVfsPathCacheTests
{
    private const int O_RDONLY = 0, O_WRONLY = 1, O_APPEND = 0x400, O_CLOEXEC = 0x80000, O_LARGEFILE = 0x8000;
    private const int AT_SYMLINK_NOFOLLOW = 0x100;

    private static byte[] Bytes(string path) => Encoding.Latin1.GetBytes(path);

    private static int Kept(SharedProcess p, string path, int flags, out byte[]? image)
    {
        byte[] bytes = Bytes(path);
        fixed (byte* b = bytes) return p.Files.CachedStat(b, bytes.Length, flags, out image);
    }

    private static long OpenKept(SharedProcess p, string path, int flags)
    {
        byte[] bytes = Bytes(path);
        fixed (byte* b = bytes) return p.Files.OpenCached(b, bytes.Length, flags);
    }

    /// <summary>The struct stat the slow path makes for path (what FileCalls copies out on a miss).</summary>
    private static byte[] SlowImage(SharedProcess p, string path, int flags = 0)
    {
        Assert.That(p.Files.StatAt(-100, path, flags, out StatInfo info), Is.EqualTo(0), "stat " + path);
        var image = new byte[LinuxLayouts.StatSize];
        fixed (byte* to = image) LinuxLayouts.WriteStat(to, info);
        return image;
    }

    [Test]
    public void AKeptStatIsTheServersAnswerAsStructStatAndAsksNothing()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10);
        a.CreateFile("/tmp/f", "12345");
        Assert.That(Kept(a, "/tmp/f", 0, out _), Is.EqualTo(VfsClient.NotCached), "nothing kept before the first stat");
        byte[] slow = SlowImage(a, "/tmp/f");
        ulong requests = tree.Server.Requests;
        Assert.That(Kept(a, "/tmp/f", 0, out byte[]? image), Is.EqualTo(0));
        Assert.That(image, Is.EqualTo(slow));
        Assert.That(Kept(a, "/tmp/f", 0, out byte[]? again), Is.EqualTo(0));
        Assert.That(again, Is.EqualTo(slow));
        Assert.That(tree.Server.Requests, Is.EqualTo(requests), "served without a request");
        Assert.That(BitConverter.ToInt64(image!, 48), Is.EqualTo(5), "st_size");
        Assert.That(Kept(a, "/tmp/f", LinuxFile.AT_NO_AUTOMOUNT, out _), Is.EqualTo(0), "flags without meaning here share the key");
        Assert.That(Kept(a, "/tmp/f", AT_SYMLINK_NOFOLLOW, out _), Is.EqualTo(VfsClient.NotCached), "lstat is another key");
        Assert.That(Kept(a, "/tmp/f", 0x800000, out _), Is.EqualTo(VfsClient.NotCached), "bad flags: the slow path's EINVAL");
        Assert.That(a.Files.StatAt(-100, "/tmp/f", 0x800000, out _), Is.EqualTo(-Errno.EINVAL));
    }

    [Test]
    public void AnyChangeByAnyProcessEndsEveryKeptAnswer()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10), b = tree.Attach(11);
        a.CreateFile("/tmp/f", "12345");
        SlowImage(a, "/tmp/f");
        Assert.That(a.StatError("/tmp/none"), Is.EqualTo(-Errno.ENOENT));
        Assert.That(a.StatError("/tmp/f/x"), Is.EqualTo(-Errno.ENOTDIR));
        Assert.That(Kept(a, "/tmp/none", 0, out _), Is.EqualTo(-Errno.ENOENT), "ENOENT is kept");
        Assert.That(Kept(a, "/tmp/f/x", 0, out _), Is.EqualTo(-Errno.ENOTDIR), "ENOTDIR is kept");

        // A write by another process: every kept answer is stale, the next stat asks the server.
        long fd = b.Open("/tmp/f", O_WRONLY | O_APPEND);
        Assert.That(b.Write((int)fd, "678"), Is.EqualTo(3));
        Assert.That(Kept(a, "/tmp/f", 0, out _), Is.EqualTo(VfsClient.NotCached));
        Assert.That(Kept(a, "/tmp/none", 0, out _), Is.EqualTo(VfsClient.NotCached));
        byte[] grown = SlowImage(a, "/tmp/f");
        Assert.That(BitConverter.ToInt64(grown, 48), Is.EqualTo(8));
        Assert.That(Kept(a, "/tmp/f", 0, out byte[]? image), Is.EqualTo(0));
        Assert.That(image, Is.EqualTo(grown), "the new answer replaced the old one");

        // A create, a chmod, a symlink, a rename and an unlink: each is seen at once.
        Assert.That(a.StatError("/tmp/none"), Is.EqualTo(-Errno.ENOENT));
        b.CreateFile("/tmp/none", "");
        Assert.That(Kept(a, "/tmp/none", 0, out _), Is.EqualTo(VfsClient.NotCached));
        Assert.That(a.StatError("/tmp/none"), Is.EqualTo(0));
        Assert.That(b.Files.ChmodAt(-100, "/tmp/f", 0x100, 0), Is.EqualTo(0));
        Assert.That(Kept(a, "/tmp/f", 0, out _), Is.EqualTo(VfsClient.NotCached));
        Assert.That(BitConverter.ToUInt32(SlowImage(a, "/tmp/f"), 24) & 0xFFF, Is.EqualTo(0x100u), "st_mode");
        Assert.That(a.StatError("/tmp/l"), Is.EqualTo(-Errno.ENOENT));
        Assert.That(b.Files.SymlinkAt("/tmp/f", -100, "/tmp/l"), Is.EqualTo(0));
        Assert.That(Kept(a, "/tmp/l", 0, out _), Is.EqualTo(VfsClient.NotCached));
        Assert.That(b.Files.RenameAt(-100, "/tmp/f", -100, "/tmp/g", 0), Is.EqualTo(0));
        Assert.That(a.StatError("/tmp/f"), Is.EqualTo(-Errno.ENOENT));
        SlowImage(a, "/tmp/g");
        Assert.That(b.Files.UnlinkAt(-100, "/tmp/g", 0), Is.EqualTo(0));
        Assert.That(Kept(a, "/tmp/g", 0, out _), Is.EqualTo(VfsClient.NotCached));
        Assert.That(a.StatError("/tmp/g"), Is.EqualTo(-Errno.ENOENT));
    }

    [Test]
    public void StatAndLstatOfASymlinkAreKeptApart()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10);
        a.CreateFile("/tmp/target", "abc");
        Assert.That(a.Files.SymlinkAt("/tmp/target", -100, "/tmp/link"), Is.EqualTo(0));
        byte[] followed = SlowImage(a, "/tmp/link");
        byte[] itself = SlowImage(a, "/tmp/link", AT_SYMLINK_NOFOLLOW);
        Assert.That(Kept(a, "/tmp/link", 0, out byte[]? f), Is.EqualTo(0));
        Assert.That(Kept(a, "/tmp/link", AT_SYMLINK_NOFOLLOW, out byte[]? l), Is.EqualTo(0));
        Assert.That(f, Is.EqualTo(followed));
        Assert.That(l, Is.EqualTo(itself));
        Assert.That(BitConverter.ToUInt32(f!, 24) & LinuxFile.S_IFMT, Is.EqualTo(LinuxFile.S_IFREG));
        Assert.That(BitConverter.ToUInt32(l!, 24) & LinuxFile.S_IFMT, Is.EqualTo(LinuxFile.S_IFLNK));
    }

    [Test]
    public void OnlyAbsolutePathsAnsweredByTheServerAreKept()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10);
        a.CreateFile("/tmp/f", "x");
        Assert.That(a.Files.SymlinkAt("/proc/self", -100, "/tmp/toproc"), Is.EqualTo(0));
        Assert.That(a.Files.ChangeDirectory("/tmp"), Is.EqualTo(0));
        foreach (string path in new[] { "f", "./f", "/dev/null", "/dev", "/proc/self/stat", "/proc", "/tmp/toproc", "/tmp/toproc/status", "/tmp/../proc/meminfo", "/tmp/../dev/zero" })
        {
            Assert.That(a.StatError(path), Is.EqualTo(0), "stat " + path);
            Assert.That(Kept(a, path, 0, out _), Is.EqualTo(VfsClient.NotCached), path + " is not kept");
        }
        Assert.That(Kept(a, "", 0, out _), Is.EqualTo(VfsClient.NotCached), "the empty path (ENOENT, or AT_EMPTY_PATH)");
    }

    [Test]
    public void KeysAreTheWholeBytesAlsoPastTheTablesLimit()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10);
        string high = "/tmp/\u00e9t\u00e9\u00ff";
        a.CreateFile(high, "bytes >= 0x80");
        a.CreateFile("/tmp/abcdefgh1", "1");
        a.CreateFile("/tmp/abcdefgh12", "12");
        byte[] one = SlowImage(a, "/tmp/abcdefgh1"), two = SlowImage(a, "/tmp/abcdefgh12"), h = SlowImage(a, high);
        Assert.That(Kept(a, "/tmp/abcdefgh1", 0, out byte[]? k1), Is.EqualTo(0));
        Assert.That(Kept(a, "/tmp/abcdefgh12", 0, out byte[]? k2), Is.EqualTo(0));
        Assert.That(Kept(a, high, 0, out byte[]? kh), Is.EqualTo(0));
        Assert.That(k1, Is.EqualTo(one));
        Assert.That(k2, Is.EqualTo(two));
        Assert.That(kh, Is.EqualTo(h));
        Assert.That(Kept(a, "/tmp/abcdefgh", 0, out _), Is.EqualTo(VfsClient.NotCached), "a prefix is another path");
        Assert.That(Kept(a, "/tmp/\u00e9t\u00e9\u00fe", 0, out _), Is.EqualTo(VfsClient.NotCached), "one byte differs");
        // Far more paths than the table keeps: every kept answer stays the right one.
        for (int i = 0; i < StatTable.StatLimit * 3; i++)
        {
            string path = "/tmp/missing" + i;
            Assert.That(a.StatError(path), Is.EqualTo(-Errno.ENOENT));
            int kept = Kept(a, path, 0, out _);
            Assert.That(kept, Is.EqualTo(-Errno.ENOENT), path);
            int earlier = Kept(a, "/tmp/abcdefgh1", 0, out byte[]? e);
            Assert.That(earlier == VfsClient.NotCached || e!.SequenceEqual(one), Is.True, "an older answer is right or gone");
        }
    }

    /// <summary>StatTable remembers the entry it last found (a repeated path costs no hash): that
    /// entry answers only its own bytes and flags, and is forgotten with the table.</summary>
    [Test]
    public void TheRememberedEntryAnswersOnlyItsOwnKey()
    {
        var table = new StatTable();
        byte[] a = Bytes("/tmp/a"), ab = Bytes("/tmp/ab"), b = Bytes("/tmp/b");
        fixed (byte* pa = a) fixed (byte* pab = ab) fixed (byte* pb = b)
        {
            table.Put(pa, a.Length, 0, 7, 0, new StatInfo { Size = 1 });
            Assert.That(table.Find(pa, a.Length, 0)!.Info.Size, Is.EqualTo(1));
            Assert.That(table.Find(pa, a.Length, 0)!.Info.Size, Is.EqualTo(1), "again: the remembered entry");
            Assert.That(table.Find(pb, b.Length, 0), Is.Null, "same length, other bytes");
            Assert.That(table.Find(pab, ab.Length, 0), Is.Null, "a longer path");
            Assert.That(table.Find(pa, a.Length - 1, 0), Is.Null, "a prefix");
            Assert.That(table.Find(pa, a.Length, AT_SYMLINK_NOFOLLOW), Is.Null, "other flags");
            table.Put(pa, a.Length, AT_SYMLINK_NOFOLLOW, 7, -Errno.ENOENT, default);
            table.Put(pb, b.Length, 0, 8, 0, new StatInfo { Size = 2 });
            Assert.That(table.Find(pa, a.Length, AT_SYMLINK_NOFOLLOW)!.Result, Is.EqualTo(-Errno.ENOENT));
            Assert.That(table.Find(pb, b.Length, 0)!.Info.Size, Is.EqualTo(2));
            Assert.That(table.Find(pa, a.Length, 0)!.Info.Size, Is.EqualTo(1));
            table.Put(pa, a.Length, 0, 9, 0, new StatInfo { Size = 3 });
            Assert.That(table.Find(pa, a.Length, 0)!.Info.Size, Is.EqualTo(3), "replaced in place");
            Assert.That(table.Count, Is.EqualTo(3));
            table.Clear();
            Assert.That(table.Find(pa, a.Length, 0), Is.Null, "forgotten with the table");
        }
    }

    [Test]
    public void AnAnchoredOpenServesTheBytesAndTheTreesChangesEndIt()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10), b = tree.Attach(11);
        b.CreateFile("/tmp/data", "the first bytes");
        Assert.That(OpenKept(a, "/tmp/data", O_RDONLY), Is.EqualTo(VfsClient.NotCached), "no anchor before the first open");
        Assert.That(a.ReadFile("/tmp/data"), Is.EqualTo("the first bytes"));
        ulong requests = tree.Server.Requests;
        long fd = OpenKept(a, "/tmp/data", O_RDONLY | O_LARGEFILE | O_CLOEXEC);
        Assert.That(fd, Is.GreaterThanOrEqualTo(3));
        Assert.That(a.Files.Table.IsCloseOnExec((int)fd), Is.True, "O_CLOEXEC");
        Assert.That(a.Read((int)fd), Is.EqualTo("the first bytes"));
        Assert.That(a.Files.Close((int)fd), Is.EqualTo(0));
        Assert.That(tree.Server.Requests, Is.EqualTo(requests), "open + read + close asked nothing");
        fd = OpenKept(a, "/tmp/data", O_RDONLY | O_LARGEFILE);
        Assert.That(a.Files.Fcntl((int)fd, LinuxFile.F_GETFL, 0), Is.EqualTo(O_RDONLY | O_LARGEFILE), "the status flags the slow path keeps (asked of the server)");
        Assert.That(a.Read((int)fd), Is.EqualTo("the first bytes"));
        a.Files.Close((int)fd);
        Assert.That(OpenKept(a, "/tmp/data", O_WRONLY), Is.EqualTo(VfsClient.NotCached), "only read-only opens");
        Assert.That(OpenKept(a, "/tmp/data", O_RDONLY | 0x10000), Is.EqualTo(VfsClient.NotCached), "O_DIRECTORY asks the server (ENOTDIR)");
        Assert.That(a.Files.ChangeDirectory("/tmp"), Is.EqualTo(0));
        Assert.That(OpenKept(a, "data", O_RDONLY), Is.EqualTo(VfsClient.NotCached), "relative paths ask the server");
        Assert.That(OpenKept(a, "/tmp/dat", O_RDONLY), Is.EqualTo(VfsClient.NotCached), "another path");

        // b writes: the anchor no longer answers; the slow path's open reads the new bytes.
        long w = b.Open("/tmp/data", O_WRONLY);
        Assert.That(b.Write((int)w, "THE"), Is.EqualTo(3));
        Assert.That(OpenKept(a, "/tmp/data", O_RDONLY), Is.EqualTo(VfsClient.NotCached));
        Assert.That(a.ReadFile("/tmp/data"), Is.EqualTo("THE first bytes"));
        fd = OpenKept(a, "/tmp/data", O_RDONLY);
        Assert.That(a.Read((int)fd), Is.EqualTo("THE first bytes"), "a new anchor after the change");
        a.Files.Close((int)fd);
        // b unlinks: the name is gone for a new open.
        Assert.That(b.Files.UnlinkAt(-100, "/tmp/data", 0), Is.EqualTo(0));
        Assert.That(OpenKept(a, "/tmp/data", O_RDONLY), Is.EqualTo(VfsClient.NotCached));
        Assert.That(a.Open("/tmp/data", O_RDONLY), Is.EqualTo(-Errno.ENOENT));
    }

    [Test]
    public void MoreFilesThanAnchorsKeepOnlyTheNewestAndEveryOpenReadsItsOwnFile()
    {
        var tree = new SharedTree();
        SharedProcess a = tree.Attach(10);
        int files = AnchorTable.AnchorLimit + 4;
        for (int i = 0; i < files; i++) a.CreateFile("/tmp/n" + i, "content " + i);
        for (int round = 0; round < 3; round++)
            for (int i = 0; i < files; i++)
            {
                long fd = OpenKept(a, "/tmp/n" + i, O_RDONLY);
                if (fd == VfsClient.NotCached) fd = a.Open("/tmp/n" + i, O_RDONLY);
                Assert.That(fd, Is.GreaterThanOrEqualTo(0));
                Assert.That(a.Read((int)fd), Is.EqualTo("content " + i));
                Assert.That(a.Files.Close((int)fd), Is.EqualTo(0));
            }
        int anchored = 0;
        for (int i = 0; i < files; i++)
        {
            long fd = OpenKept(a, "/tmp/n" + i, O_RDONLY);
            if (fd == VfsClient.NotCached) continue;
            anchored++;
            Assert.That(a.Read((int)fd), Is.EqualTo("content " + i));
            a.Files.Close((int)fd);
        }
        Assert.That(anchored, Is.EqualTo(AnchorTable.AnchorLimit));
        a.Client.Flush(); // the deferred closes
        Assert.That(tree.Server.DescriptorsOf(10), Is.LessThanOrEqualTo(AnchorTable.AnchorLimit + 3), "dropped anchors' descriptors were closed");
    }
}
