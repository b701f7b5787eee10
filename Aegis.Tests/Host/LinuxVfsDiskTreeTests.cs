#nullable enable
// DiskTree: the VFS with / on an ext3 image made by mke2fs (LibOS.Unixish/Linux/Files/DiskTree.cs).
// What a program does through the call layer must be on the image afterwards, as the host's
// e2fsprogs read it, and must come back after a remount.
using System.Text;
using Aegis.LibOS.Unixish.Linux.Files;
using Aegis.LibOS.Unixish.Storage;
using NUnit.Framework;

namespace Aegis.Tests.Host;

[TestFixture]
public unsafe class LinuxVfsDiskTreeTests
{
    private static (Vfs Vfs, DiskTree Tree, MemoryBlockStore Image) Mount(byte[]? image = null)
    {
        var store = new MemoryBlockStore(image ?? Ext2Tools.MakeImage(null, 1024, "8M"), 512);
        var tree = new DiskTree(Ext2FileSystem.Mount(store));
        return (new Vfs(disk: tree), tree, store);
    }

    private static string DebugfsCat(MemoryBlockStore image, string path) => Encoding.Latin1.GetString(Ext2Tools.DebugfsCat(image.Bytes, path));

    [Test]
    public void WhatIsWrittenIsOnTheImageAndComesBackAfterARemount()
    {
        var (vfs, tree, image) = Mount();
        Assert.That(vfs.Files.MakeDirectoryAt(-100, "/d", 0x1ED), Is.EqualTo(0));
        vfs.CreateFile("/d/f", "hello disk");
        Assert.That(vfs.Files.SymlinkAt("f", -100, "/d/l"), Is.EqualTo(0));
        Assert.That(tree.Unmount(), Is.EqualTo(0));
        Ext2Tools.AssertClean(image.Bytes, "after unmount");
        Assert.That(DebugfsCat(image, "/d/f"), Is.EqualTo("hello disk"));

        var (again, _, _) = Mount(image.Bytes);
        Assert.That(again.ReadFile("/d/l"), Is.EqualTo("hello disk"), "through the symbolic link, after a remount");
        Assert.That(again.Files.StatAt(-100, "/d/f", 0, out StatInfo info), Is.EqualTo(0));
        Assert.That(info.Size, Is.EqualTo(10));
        Assert.That(info.Device, Is.EqualTo(DiskTree.RootDevice));
    }

    [Test]
    public void AnOpenFileWhoseLastNameGoesKeepsItsBytesAndTheDiskFreesIt()
    {
        var (vfs, tree, image) = Mount();
        vfs.CreateFile("/big", new string('z', 50000));
        long fd = vfs.Open("/big", 0);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        long freeBefore = tree.Ext2.FreeBlocks;
        Assert.That(vfs.Files.UnlinkAt(-100, "/big", 0), Is.EqualTo(0));
        Assert.That(tree.Ext2.FreeBlocks, Is.GreaterThan(freeBefore + 40), "the disk freed the file's blocks at once");
        Assert.That(vfs.Read((int)fd, 100000), Is.EqualTo(new string('z', 50000)), "the open descriptor still reads the bytes");
        Assert.That(vfs.Files.Close((int)fd), Is.EqualTo(0));
        Assert.That(tree.Unmount(), Is.EqualTo(0));
        Ext2Tools.AssertClean(image.Bytes, "after the unlink of an open file");
    }

    [Test]
    public void DropCachesReadsListingsAndBlocksAgainAndKeepsTheNodes()
    {
        var (vfs, tree, _) = Mount();
        for (int i = 0; i < 20; i++) vfs.CreateFile("/f" + i, "x" + i);
        Assert.That(vfs.Files.StatAt(-100, "/f7", 0, out StatInfo before), Is.EqualTo(0));
        long loaded = tree.DirectoriesLoaded;
        long misses = tree.Ext2.Cache.Misses;
        Assert.That(tree.DropCaches(), Is.EqualTo(0));
        Assert.That(vfs.ReadFile("/f7"), Is.EqualTo("x7"));
        Assert.That(tree.DirectoriesLoaded, Is.EqualTo(loaded + 1), "the root's listing was read again");
        Assert.That(tree.Ext2.Cache.Misses, Is.GreaterThan(misses), "its blocks came from the device");
        Assert.That(vfs.Files.StatAt(-100, "/f7", 0, out StatInfo after), Is.EqualTo(0));
        Assert.That(after.Inode, Is.EqualTo(before.Inode));
    }

    [Test]
    public void MountPointsCoverTheDisksNamesAndAddNoLinks()
    {
        var (vfs, tree, _) = Mount(Ext2Tools.MakeImage(Ext2Tools.MakeSourceTree(), 1024, "8M"));
        Assert.That(vfs.Files.MakeDirectoryAt(-100, "/tmp/x", 0x1ED), Is.EqualTo(0), "/tmp is the tmpfs");
        Assert.That(vfs.Files.StatAt(-100, "/tmp/x", 0, out StatInfo tmp), Is.EqualTo(0));
        Assert.That(tmp.Device, Is.Not.EqualTo(DiskTree.RootDevice));
        Assert.That(tree.Ext2.GetAttributes(Ext2FileSystem.RootInode, out Ext2Stat root), Is.EqualTo(0));
        Assert.That(vfs.Files.StatAt(-100, "/", 0, out StatInfo slash), Is.EqualTo(0));
        Assert.That(slash.Links, Is.EqualTo((ulong)root.Links), "/'s link count is the disk's");
    }

    [Test]
    public void ADiskFileEqualToItsArchiveCopyIsServedAsTheArchiveUntilWritten()
    {
        var (vfs, tree, _) = Mount();
        Assert.That(vfs.Files.MakeDirectoryAt(-100, "/bin", 0x1ED), Is.EqualTo(0));
        string program = new string('p', 9000), other = new string('q', 9000);
        vfs.CreateFile("/bin/prog", program);
        vfs.CreateFile("/bin/other", other);
        byte[] archiveBytes = Encoding.Latin1.GetBytes(program);
        var pinned = System.Runtime.InteropServices.GCHandle.Alloc(archiveBytes, System.Runtime.InteropServices.GCHandleType.Pinned);
        try
        {
            byte* archive = (byte*)pinned.AddrOfPinnedObject();
            tree.Archive = new Dictionary<string, TarEntry>
            {
                ["bin/prog"] = new TarEntry { Path = "bin/prog", Kind = TarEntryKind.Regular, Size = archiveBytes.Length, Data = archive },
                ["bin/other"] = new TarEntry { Path = "bin/other", Kind = TarEntryKind.Regular, Size = archiveBytes.Length, Data = archive },
            };
            Assert.That(vfs.Files.LookupAt(-100, "/bin/prog", 0, out Inode node), Is.EqualTo(0));
            var file = (RegularFile)node;
            Assert.That(vfs.Files.LookupAt(-100, "/bin/other", 0, out Inode otherNode), Is.EqualTo(0));
            var differs = (RegularFile)otherNode;

            tree.TryArchiveAlias(file, "/bin/prog");
            tree.TryArchiveAlias(differs, "/bin/other");
            Assert.That(file.IsInArchive, Is.True, "the same bytes: served from the archive");
            file.GetContent(out byte* data, out long length);
            Assert.That((ulong)data, Is.EqualTo((ulong)archive));
            Assert.That(length, Is.EqualTo(9000));
            Assert.That(differs.IsInArchive, Is.False, "same size, other bytes: read from the disk");

            long fd = vfs.Open("/bin/prog", 1);
            Assert.That(vfs.Write((int)fd, "X"), Is.EqualTo(1));
            vfs.Files.Close((int)fd);
            Assert.That(file.IsInArchive, Is.False, "written: no longer the archive's");
            Assert.That(vfs.ReadFile("/bin/prog"), Is.EqualTo("X" + program.Substring(1)));
            tree.TryArchiveAlias(file, "/bin/prog");
            Assert.That(file.IsInArchive, Is.False, "compared again after the change: it differs now");
            Assert.That(tree.ArchiveAliases, Is.EqualTo(1));
        }
        finally { pinned.Free(); }
    }
}
