#nullable enable
// Changes made by Ext2FileSystem, judged by the real e2fsprogs: after sequences of create, write,
// truncate, rename, unlink, mkdir, rmdir, link and symlink (fixed ones and a seeded random one
// checked against an in-memory model), e2fsck -fn must exit 0 and debugfs must read back the
// same bytes and names.
using System.Text;
using Aegis.LibOS.Unixish.Linux;
using Aegis.LibOS.Unixish.Storage;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class Ext2WriteTests
{
    private static Ext2FileSystem MountFresh(int blockSize, out MemoryBlockStore store, bool journal = true, string size = "16M", int cacheBlocks = 2048)
    {
        byte[] image = journal ? Ext2Tools.MakeImage(null, blockSize, size) : Ext2Tools.MakeImage(null, blockSize, size, "-O", "^has_journal");
        store = new MemoryBlockStore(image);
        long now = 1_700_000_000;
        return Ext2FileSystem.Mount(store, new Ext2MountOptions { Clock = () => now++, CacheBlocks = cacheBlocks });
    }

    private static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static uint Ok(int result, Ext2FileSystem fs, uint value = 0)
    {
        Assert.That(result, Is.GreaterThanOrEqualTo(0), fs.LastError);
        return value;
    }

    [TestCase(1024, true)]
    [TestCase(4096, true)]
    [TestCase(1024, false)]
    public void Ext2FixedSequenceLeavesACleanFileSystem(int blockSize, bool journal)
    {
        var fs = MountFresh(blockSize, out MemoryBlockStore store, journal, "96M");
        const uint root = Ext2FileSystem.RootInode;
        Ok(fs.MakeDirectory(root, "docs", 0x1ED, 1000, 100, out uint docs), fs);
        Ok(fs.MakeDirectory(docs, "inner", 0x1C0, 1000, 100, out uint inner), fs);
        Ok(fs.Create(docs, "small.txt", 0x1A4, 1000, 100, out uint small), fs);
        Assert.That(fs.Write(small, 0, "hello, ext2\n"u8.ToArray(), 0, 12), Is.EqualTo(12));
        Ok(fs.Create(root, "big", 0x1A4, 0, 0, out uint big), fs);
        byte[] bigBytes = Pattern(300 * 1024 + 17, 1);
        Assert.That(fs.Write(big, 0, bigBytes, 0, bigBytes.Length), Is.EqualTo(bigBytes.Length), fs.LastError);
        Ok(fs.Create(root, "sparse", 0x1A4, 0, 0, out uint sparse), fs);
        byte[] tail = Pattern(5000, 2);
        long far = 65L * 1024 * 1024 + 333; // triple-indirect with 1 KiB blocks
        Assert.That(fs.Write(sparse, far, tail, 0, tail.Length), Is.EqualTo(tail.Length), fs.LastError);
        Ok(fs.Create(root, "shrink", 0x1A4, 0, 0, out uint shrink), fs);
        byte[] shrinkBytes = Pattern(280 * 1024, 3);
        Ok(fs.Write(shrink, 0, shrinkBytes, 0, shrinkBytes.Length), fs);
        Ok(fs.Truncate(shrink, 13 * 1024 + 100), fs);
        Ok(fs.Truncate(shrink, 20 * 1024), fs); // grows again: a hole after the old tail
        Ok(fs.Link(small, inner, "small-link"), fs);
        Ok(fs.Create(docs, "grüße-世界", 0x1A4, 0, 0, out _), fs);
        Ok(fs.Symlink(root, "fast", "docs/small.txt", 0, 0, out _), fs);
        string longTarget = "docs/" + new string('y', 100) + "/../small.txt";
        Ok(fs.Symlink(root, "slow", longTarget, 0, 0, out uint slow), fs);
        Ok(fs.Create(root, "victim", 0x1A4, 0, 0, out uint victim), fs);
        Ok(fs.Write(victim, 0, Pattern(50_000, 4), 0, 50_000), fs);
        Ok(fs.Unlink(root, "victim"), fs);
        Ok(fs.MakeDirectory(root, "gone", 0x1ED, 0, 0, out _), fs);
        Ok(fs.RemoveDirectory(root, "gone"), fs);
        Assert.That(fs.RemoveDirectory(root, "docs"), Is.EqualTo(-Errno.ENOTEMPTY));
        Assert.That(fs.Unlink(root, "docs"), Is.EqualTo(-Errno.EISDIR));
        Assert.That(fs.Create(root, "big", 0x1A4, 0, 0, out _), Is.EqualTo(-Errno.EEXIST));
        Ok(fs.Create(root, "other", 0x1A4, 0, 0, out uint other), fs);
        Ok(fs.Write(other, 0, "other"u8.ToArray(), 0, 5), fs);
        Ok(fs.Rename(root, "other", docs, "small.txt"), fs); // over an existing target (small keeps its second link)
        Ok(fs.MakeDirectory(root, "moved", 0x1ED, 0, 0, out uint moved), fs);
        Ok(fs.Create(moved, "x", 0x1A4, 0, 0, out _), fs);
        Ok(fs.Rename(root, "moved", inner, "moved-here"), fs); // a directory across directories
        Assert.That(fs.Rename(root, "docs", inner, "loop"), Is.EqualTo(-Errno.EINVAL), "a directory into its own subtree");
        Ok(fs.Rename(root, "big", root, "big-renamed"), fs);
        Ok(fs.SetMode(small, 0x180), fs);
        Ok(fs.SetOwner(small, 42, 43), fs);
        Ok(fs.SetTimes(small, 1234, 5678), fs);
        for (int i = 0; i < 300; i++) Ok(fs.Create(inner, "f" + i, 0x1A4, 0, 0, out _), fs);
        for (int i = 0; i < 300; i += 2) Ok(fs.Unlink(inner, "f" + i), fs);
        Assert.That(fs.FsyncFile(big), Is.EqualTo(0));
        Assert.That(fs.Unmount(), Is.EqualTo(0), fs.LastError);

        byte[] image = store.Bytes;
        Ext2Tools.AssertClean(image, "fixed sequence");
        Assert.That(Ext2Tools.DebugfsCat(image, "/big-renamed"), Is.EqualTo(bigBytes));
        Assert.That(Ext2Tools.DebugfsCat(image, "/docs/small.txt"), Is.EqualTo("other"u8.ToArray()));
        Assert.That(Ext2Tools.DebugfsCat(image, "/docs/inner/small-link"), Is.EqualTo("hello, ext2\n"u8.ToArray()));
        byte[] shrunk = Ext2Tools.DebugfsCat(image, "/shrink");
        Assert.That(shrunk.Length, Is.EqualTo(20 * 1024));
        Assert.That(shrunk.AsSpan(0, 13 * 1024 + 100).SequenceEqual(shrinkBytes.AsSpan(0, 13 * 1024 + 100)), Is.True);
        Assert.That(shrunk.Skip(13 * 1024 + 100).All(b => b == 0), Is.True, "the truncated tail reads as zeros");
        byte[] sparseBytes = Ext2Tools.DebugfsCat(image, "/sparse");
        Assert.That(sparseBytes.Length, Is.EqualTo(far + tail.Length));
        Assert.That(sparseBytes.AsSpan((int)far).SequenceEqual(tail), Is.True);
        string escaped = string.Concat(Encoding.UTF8.GetBytes("grüße-世界").Select(b => b < 0x80 ? ((char)b).ToString() : "\\x" + b.ToString("x2")));
        Assert.That(Ext2Tools.DebugfsNames(image, "/docs"), Does.Contain(escaped), "the name's UTF-8 bytes as debugfs prints them");
        HashSet<string> innerNames = Ext2Tools.DebugfsNames(image, "/docs/inner");
        Assert.That(innerNames, Does.Contain("moved-here").And.Contain("small-link").And.Contain("f299").And.Not.Contain("f298"));
        Assert.That(Ext2Tools.Debugfs(image, "stat /slow"), Does.Contain("Size: " + longTarget.Length));
        Assert.That(Ext2Tools.Debugfs(image, "stat /docs/inner/small-link"), Does.Contain("Mode:  0600").And.Contain("User:    42"));

        var again = Ext2FileSystem.Mount(new MemoryBlockStore(image), new Ext2MountOptions { ReadOnly = true });
        Assert.That(Ext2Tools.Resolve(again, "slow", out slow), Is.EqualTo(0));
        Assert.That(again.ReadLink(slow, out string target), Is.EqualTo(0));
        Assert.That(target, Is.EqualTo(longTarget));
        Assert.That(Ext2Tools.Resolve(again, "docs/inner/moved-here/..", out uint parentOfMoved), Is.EqualTo(0));
        Assert.That(Ext2Tools.Resolve(again, "docs/inner", out uint innerAgain), Is.EqualTo(0));
        Assert.That(parentOfMoved, Is.EqualTo(innerAgain), "the moved directory's .. names its new parent");
    }

    [Test]
    public void Ext2SyncWithoutUnmountLeavesACleanImage()
    {
        var fs = MountFresh(1024, out MemoryBlockStore store);
        Ok(fs.Create(Ext2FileSystem.RootInode, "f", 0x1A4, 0, 0, out uint f), fs);
        Ok(fs.Write(f, 0, Pattern(40_000, 9), 0, 40_000), fs);
        Assert.That(fs.Sync(), Is.EqualTo(0));
        Ext2Tools.AssertClean((byte[])store.Bytes.Clone(), "after Sync while still mounted");
        Assert.That(Ext2Tools.DebugfsCat(store.Bytes, "/f"), Is.EqualTo(Pattern(40_000, 9)));
    }

    [Test]
    public void Ext2IndexedDirectoryLosesItsIndexFlagWhenChanged()
    {
        string source = Ext2Tools.MakeSourceTree(3);
        byte[] image = Ext2Tools.MakeImage(source, 1024, "24M");
        Directory.Delete(source, true);
        string dir = Ext2Tools.TempDirectory();
        string path = Path.Combine(dir, "image");
        File.WriteAllBytes(path, image);
        Ext2Tools.Run("e2fsck", "-fyD", path);
        image = File.ReadAllBytes(path);
        Directory.Delete(dir, true);
        var fs = Ext2FileSystem.Mount(new MemoryBlockStore(image));
        Assert.That(Ext2Tools.Resolve(fs, "many", out uint many), Is.EqualTo(0));
        for (int i = 0; i < 50; i++) Ok(fs.Create(many, "added-" + i, 0x1A4, 0, 0, out _), fs);
        for (int i = 0; i < 400; i += 3) Ok(fs.Unlink(many, "entry-with-a-longish-name-" + i.ToString("D4")), fs);
        Assert.That(fs.Unmount(), Is.EqualTo(0));
        Ext2Tools.AssertClean(image, "changed htree directory");
        Assert.That(Ext2Tools.Debugfs(image, "stat /many"), Does.Contain("Flags: 0x0"));
        HashSet<string> names = Ext2Tools.DebugfsNames(image, "/many");
        var expected = Enumerable.Range(0, 400).Where(i => i % 3 != 0).Select(i => "entry-with-a-longish-name-" + i.ToString("D4"))
            .Concat(Enumerable.Range(0, 50).Select(i => "added-" + i)).Append(".").Append("..");
        Assert.That(names, Is.EquivalentTo(expected), "debugfs's listing of the changed directory");
    }

    [Test]
    public void Ext2FullDiskReportsEnospcAndStaysClean()
    {
        var fs = MountFresh(1024, out MemoryBlockStore store, true, "4M");
        Ok(fs.Create(Ext2FileSystem.RootInode, "fill", 0x1A4, 0, 0, out uint fill), fs);
        byte[] chunk = Pattern(64 * 1024, 5);
        long offset = 0;
        int result;
        while ((result = fs.Write(fill, offset, chunk, 0, chunk.Length)) == chunk.Length) offset += result;
        Assert.That(result == -Errno.ENOSPC || result >= 0 && result < chunk.Length, Is.True, "result " + result);
        Assert.That(fs.Create(Ext2FileSystem.RootInode, "more", 0x1A4, 0, 0, out _), Is.EqualTo(-Errno.ENOSPC).Or.EqualTo(0));
        Assert.That(fs.Unmount(), Is.EqualTo(0), fs.LastError);
        Ext2Tools.AssertClean(store.Bytes, "full disk");
    }

    [Test]
    public void Ext2OrphanListLeftByACrashIsProcessedAtMount()
    {
        string source = Ext2Tools.TempDirectory();
        File.WriteAllBytes(Path.Combine(source, "deleted-while-open"), Pattern(40_000, 21));
        File.WriteAllBytes(Path.Combine(source, "truncated"), Pattern(60_000, 22));
        byte[] image = Ext2Tools.MakeImage(source, 1024, "8M");
        Directory.Delete(source, true);
        string dir = Ext2Tools.TempDirectory();
        string path = Path.Combine(dir, "image");
        File.WriteAllBytes(path, image);
        int InodeOf(string name) => int.Parse(System.Text.RegularExpressions.Regex.Match(Ext2Tools.Run("debugfs", "-R", "stat " + name, path).Output, @"Inode: (\d+)").Groups[1].Value);
        int deleted = InodeOf("/deleted-while-open"), truncated = InodeOf("/truncated");
        // What Linux leaves after a crash: one inode unlinked but open, one cut short by a truncate,
        // both on the orphan list (s_last_orphan -> deleted -> truncated, chained through i_dtime).
        Ext2Tools.Run("debugfs", "-w", "-R", "unlink /deleted-while-open", path);
        Ext2Tools.Run("debugfs", "-w", "-R", $"sif <{deleted}> links_count 0", path);
        Ext2Tools.Run("debugfs", "-w", "-R", $"sif <{deleted}> dtime {truncated}", path);
        Ext2Tools.Run("debugfs", "-w", "-R", $"sif <{truncated}> size 5000", path);
        Ext2Tools.Run("debugfs", "-w", "-R", $"ssv last_orphan {deleted}", path);
        image = File.ReadAllBytes(path);
        Directory.Delete(dir, true);
        Assert.That(Ext2Tools.Fsck(image).Code, Is.Not.EqualTo(0), "e2fsck -n leaves the orphans alone and complains");

        var fs = Ext2FileSystem.Mount(new MemoryBlockStore(image));
        Assert.That(fs.Unmount(), Is.EqualTo(0), fs.LastError);
        Ext2Tools.AssertClean(image, "after orphan processing");
        Assert.That(Ext2Tools.DebugfsCat(image, "/truncated"), Is.EqualTo(Pattern(60_000, 22).AsSpan(0, 5000).ToArray()));
        Assert.That(Ext2Tools.Debugfs(image, $"stat <{truncated}>"), Does.Contain("Blockcount: 10"), "blocks past the size were freed");
        Assert.That(Ext2Tools.Debugfs(image, "testi <" + deleted + ">"), Does.Contain("not in use"), "the unlinked orphan was freed");
    }

    // ---- The random sequence against a model ----

    private sealed class Node
    {
        public bool IsDirectory;
        public string? LinkTarget;
        public byte[] Bytes = Array.Empty<byte>();
        public SortedDictionary<string, Node> Children = new(StringComparer.Ordinal);
        public int Links; // files: names pointing here
        public uint Inode;
    }

    [TestCase(1024, 11, true, 2048)]
    [TestCase(4096, 12, true, 2048)]
    [TestCase(1024, 13, true, 128)]   // a small cache: evictions and commits inside operations
    [TestCase(1024, 14, false, 128)]  // plain ext2, no journal
    [TestCase(2048, 15, true, 2048)]
    // Few, large directories (the library's name index: Ext2NameIndex.cs), with a small cache too.
    [TestCase(1024, 16, true, 2048, 2500, 2)]
    [TestCase(1024, 17, true, 128, 2500, 3)]
    public void Ext2RandomSequenceMatchesAModelAndE2fsck(int blockSize, int seed, bool journal, int cacheBlocks, int steps = 600, int maxDirectories = int.MaxValue)
    {
        var fs = MountFresh(blockSize, out MemoryBlockStore store, journal, "32M", cacheBlocks);
        var random = new Random(seed);
        var root = new Node { IsDirectory = true, Inode = Ext2FileSystem.RootInode };
        var directories = new List<Node> { root };
        var files = new List<Node>();
        int nameCounter = 0;
        string NewName() => "n" + (nameCounter++) + (random.Next(4) == 0 ? new string('q', random.Next(1, 120)) : "");

        for (int step = 0; step < steps; step++)
        {
            Node dir = directories[random.Next(directories.Count)];
            int op = random.Next(100);
            if (op < 15)
            {
                string name = NewName();
                Ok(fs.Create(dir.Inode, name, 0x1A4, 0, 0, out uint inode), fs);
                var node = new Node { Inode = inode, Links = 1 };
                dir.Children[name] = node; files.Add(node);
            }
            else if (op < 35 && files.Count > 0)
            {
                Node file = files[random.Next(files.Count)];
                if (file.LinkTarget != null || file.Links == 0) continue;
                int length = random.Next(4) == 0 ? random.Next(1, 300_000) : random.Next(1, 5000);
                int offset = random.Next(3) == 0 ? file.Bytes.Length : random.Next(0, file.Bytes.Length + 20_000);
                byte[] data = Pattern(length, random.Next());
                Assert.That(fs.Write(file.Inode, offset, data, 0, length), Is.EqualTo(length), fs.LastError);
                if (file.Bytes.Length < offset + length) Array.Resize(ref file.Bytes, offset + length);
                for (int i = 0; i < length; i++) file.Bytes[offset + i] = data[i];
            }
            else if (op < 45 && files.Count > 0)
            {
                Node file = files[random.Next(files.Count)];
                if (file.LinkTarget != null || file.Links == 0) continue;
                int size = random.Next(0, file.Bytes.Length + 30_000);
                Ok(fs.Truncate(file.Inode, size), fs);
                Array.Resize(ref file.Bytes, size);
            }
            else if (op < 55)
            {
                if (directories.Count >= maxDirectories) continue;
                string name = NewName();
                Ok(fs.MakeDirectory(dir.Inode, name, 0x1ED, 0, 0, out uint inode), fs);
                var node = new Node { IsDirectory = true, Inode = inode };
                dir.Children[name] = node; directories.Add(node);
            }
            else if (op < 70 && dir.Children.Count > 0)
            {
                var (name, node) = dir.Children.ElementAt(random.Next(dir.Children.Count));
                if (node.IsDirectory)
                {
                    int result = fs.RemoveDirectory(dir.Inode, name);
                    if (node.Children.Count > 0) { Assert.That(result, Is.EqualTo(-Errno.ENOTEMPTY)); continue; }
                    Ok(result, fs);
                    directories.Remove(node);
                }
                else
                {
                    Ok(fs.Unlink(dir.Inode, name), fs);
                    if (--node.Links == 0) files.Remove(node);
                }
                dir.Children.Remove(name);
            }
            else if (op < 78 && files.Count > 0)
            {
                Node file = files[random.Next(files.Count)];
                string name = NewName();
                Ok(fs.Link(file.Inode, dir.Inode, name), fs);
                file.Links++;
                dir.Children[name] = file;
            }
            else if (op < 85)
            {
                string name = NewName();
                string target = random.Next(2) == 0 ? "t" + random.Next(1000) : new string('L', random.Next(60, 900));
                Ok(fs.Symlink(dir.Inode, name, target, 0, 0, out uint inode), fs);
                var node = new Node { Inode = inode, LinkTarget = target, Links = 1 };
                dir.Children[name] = node; files.Add(node);
            }
            else if (dir.Children.Count > 0)
            {
                var (name, node) = dir.Children.ElementAt(random.Next(dir.Children.Count));
                Node to = directories[random.Next(directories.Count)];
                string newName = random.Next(3) == 0 && to.Children.Count > 0 ? to.Children.Keys.ElementAt(random.Next(to.Children.Count)) : NewName();
                int result = fs.Rename(dir.Inode, name, to.Inode, newName);
                if (node.IsDirectory && IsInside(to, node)) { Assert.That(result, Is.EqualTo(-Errno.EINVAL)); continue; }
                if (to.Children.TryGetValue(newName, out Node? existing) && existing != node)
                {
                    if (node.IsDirectory != existing.IsDirectory || existing.IsDirectory && existing.Children.Count > 0) { Assert.That(result, Is.LessThan(0)); continue; }
                    Ok(result, fs);
                    if (existing.IsDirectory) directories.Remove(existing);
                    else if (--existing.Links == 0) files.Remove(existing);
                }
                else if (existing == node) { Ok(result, fs); continue; }
                else Ok(result, fs);
                dir.Children.Remove(name);
                to.Children[newName] = node;
            }
            if (step % 97 == 0) Assert.That(fs.Sync(), Is.EqualTo(0));
        }
        VerifyModel(fs, root);
        if (maxDirectories < int.MaxValue) Assert.That(fs.IndexedDirectories, Is.GreaterThan(0), "the large directories were indexed");
        Assert.That(fs.Unmount(), Is.EqualTo(0), fs.LastError);
        Ext2Tools.AssertClean(store.Bytes, "random sequence seed " + seed);
        VerifyModel(Ext2FileSystem.Mount(new MemoryBlockStore(store.Bytes), new Ext2MountOptions { ReadOnly = true }), root);
    }

    private static bool IsInside(Node dir, Node maybeAncestor)
    {
        if (dir == maybeAncestor) return true;
        foreach (Node child in maybeAncestor.Children.Values)
            if (child.IsDirectory && IsInside(dir, child)) return true;
        return false;
    }

    private static void VerifyModel(Ext2FileSystem fs, Node dir)
    {
        var listed = Ext2Tools.List(fs, dir.Inode).Where(e => e.Name != "." && e.Name != ".." && e.Name != "lost+found").ToList();
        Assert.That(listed.Select(e => e.Name), Is.EquivalentTo(dir.Children.Keys));
        int subdirectories = dir.Children.Values.Count(c => c.IsDirectory) + (dir.Inode == Ext2FileSystem.RootInode ? 1 : 0);
        Assert.That(fs.GetAttributes(dir.Inode, out Ext2Stat dirStat), Is.EqualTo(0));
        Assert.That(dirStat.Links, Is.EqualTo(2 + subdirectories), "directory link count");
        foreach (var (name, node) in dir.Children)
        {
            Assert.That(fs.Lookup(dir.Inode, name, out uint inode), Is.EqualTo(0));
            Assert.That(inode, Is.EqualTo(node.Inode), name);
            if (node.IsDirectory) { VerifyModel(fs, node); continue; }
            Assert.That(fs.GetAttributes(inode, out Ext2Stat stat), Is.EqualTo(0));
            Assert.That(stat.Links, Is.EqualTo(node.Links), name + " links");
            if (node.LinkTarget != null)
            {
                Assert.That(fs.ReadLink(inode, out string target), Is.EqualTo(0));
                Assert.That(target, Is.EqualTo(node.LinkTarget));
            }
            else Assert.That(Ext2Tools.ReadAll(fs, inode), Is.EqualTo(node.Bytes), name + " bytes");
        }
    }
}
