#nullable enable
// Images the real mke2fs builds from a source tree (ext3 with 1 KiB and 4 KiB blocks, plain
// ext2, and htree-indexed directories from e2fsck -D) read back by Ext2FileSystem: every file's
// bytes, size, mode, owner, link count and symlink target must match the source directory.
using Aegis.LibOS.Unixish.Storage;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class Ext2ReadTests
{
    private static string? source;
    private static string Source => source ??= Ext2Tools.MakeSourceTree();

    [OneTimeTearDown]
    public void RemoveSource() { if (source != null) Directory.Delete(source, true); source = null; }

    [TestCase(1024, "ext3")]
    [TestCase(4096, "ext3")]
    [TestCase(2048, "ext3")]
    [TestCase(1024, "ext2")]
    [TestCase(4096, "ext2")]
    public void Ext2MountedTreeMatchesTheSourceDirectory(int blockSize, string kind)
    {
        byte[] image = kind == "ext2"
            ? Ext2Tools.MakeImage(Source, blockSize, "24M", "-O", "^has_journal")
            : Ext2Tools.MakeImage(Source, blockSize, "24M");
        var fs = Ext2FileSystem.Mount(new MemoryBlockStore(image), new Ext2MountOptions { ReadOnly = true });
        Assert.That(fs.HasJournal, Is.EqualTo(kind == "ext3"));
        Assert.That(fs.BlockSize, Is.EqualTo(blockSize));
        int compared = Ext2Tools.CompareWithSource(fs, Source);
        Assert.That(compared, Is.GreaterThan(400));
    }

    [Test]
    public void Ext2HtreeIndexedDirectoriesReadLinearly()
    {
        byte[] image = Ext2Tools.MakeImage(Source, 1024, "24M");
        string dir = Ext2Tools.TempDirectory();
        string path = Path.Combine(dir, "image");
        File.WriteAllBytes(path, image);
        var (code, output) = Ext2Tools.Run("e2fsck", "-fyD", path);
        Assert.That(code, Is.LessThanOrEqualTo(1), output);
        image = File.ReadAllBytes(path);
        Directory.Delete(dir, true);
        Assert.That(Ext2Tools.Debugfs(image, "stat /many"), Does.Contain("Flags: 0x1000"), "e2fsck -D indexed the big directory");
        var fs = Ext2FileSystem.Mount(new MemoryBlockStore(image), new Ext2MountOptions { ReadOnly = true });
        Ext2Tools.CompareWithSource(fs, Source);
    }

    [Test]
    public void Ext2SparseFileReadsZerosInItsHoles()
    {
        byte[] image = Ext2Tools.MakeImage(Source, 1024, "24M");
        var fs = Ext2FileSystem.Mount(new MemoryBlockStore(image), new Ext2MountOptions { ReadOnly = true });
        Assert.That(Ext2Tools.Resolve(fs, "sparse", out uint inode), Is.EqualTo(0));
        Assert.That(fs.GetAttributes(inode, out Ext2Stat stat), Is.EqualTo(0));
        Assert.That(stat.Size, Is.EqualTo(70L * 1024 * 1024 + 5000));
        Assert.That(stat.Blocks512, Is.LessThan(100), "holes take no blocks");
        var middle = new byte[8192];
        middle[0] = 1;
        Assert.That(fs.Read(inode, 40L * 1024 * 1024, middle, 0, middle.Length), Is.EqualTo(8192));
        Assert.That(middle.All(b => b == 0), Is.True);
    }

    [Test]
    public void Ext2FileBackedStoreMountsAnImageFile()
    {
        byte[] image = Ext2Tools.MakeImage(Source, 4096, "24M");
        string dir = Ext2Tools.TempDirectory();
        string path = Path.Combine(dir, "image");
        File.WriteAllBytes(path, image);
        using (var store = new FileBlockStore(path))
        {
            var fs = Ext2FileSystem.Mount(store);
            Assert.That(Ext2Tools.Resolve(fs, "a/b/c/d/deep.txt", out uint inode), Is.EqualTo(0));
            Assert.That(fs.Write(inode, 0, "DEEP"u8.ToArray(), 0, 4), Is.EqualTo(4), fs.LastError);
            Assert.That(fs.Unmount(), Is.EqualTo(0), fs.LastError);
        }
        byte[] after = File.ReadAllBytes(path);
        Directory.Delete(dir, true);
        Ext2Tools.AssertClean(after, "after a write through the file store");
        Assert.That(System.Text.Encoding.ASCII.GetString(Ext2Tools.DebugfsCat(after, "/a/b/c/d/deep.txt")), Is.EqualTo("DEEP inside\n"));
    }
}
