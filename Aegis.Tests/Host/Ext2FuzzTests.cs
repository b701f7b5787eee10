#nullable enable
// Corrupt images: random bytes flipped (seeded) in the superblock, the group descriptors, the
// inode table, directory blocks and indirect blocks of a valid image; each is mounted and its
// whole tree walked (then changed, on a read-write mount). The only acceptable outcomes are
// success, a StorageException at mount, or a negative errno from an operation; any other
// exception, or a walk that does not finish in time, fails the test.
using Aegis.LibOS.Unixish.Storage;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class Ext2FuzzTests
{
    private static (byte[] Image, List<(string Name, long Start, int Length)> Regions) Target()
    {
        string source = Ext2Tools.TempDirectory();
        var random = new Random(3);
        Directory.CreateDirectory(Path.Combine(source, "d/e"));
        Directory.CreateDirectory(Path.Combine(source, "many"));
        for (int i = 0; i < 120; i++) File.WriteAllBytes(Path.Combine(source, "many", "name-" + i), new byte[i % 3]);
        var big = new byte[300 * 1024];
        random.NextBytes(big);
        File.WriteAllBytes(Path.Combine(source, "d/big"), big);
        File.WriteAllText(Path.Combine(source, "d/e/small"), "small");
        File.CreateSymbolicLink(Path.Combine(source, "d/fast"), "e/small");
        File.CreateSymbolicLink(Path.Combine(source, "d/slow"), new string('s', 200));
        byte[] image = Ext2Tools.MakeImage(source, 1024, "4M");
        Directory.Delete(source, true);

        var regions = new List<(string, long, int)> { ("superblock", 1024, 1024), ("group descriptors", 2048, 1024) };
        var fs = Ext2FileSystem.Mount(new MemoryBlockStore((byte[])image.Clone()), new Ext2MountOptions { ReadOnly = true });
        string stats = Ext2Tools.Debugfs(image, "stats");
        int table = int.Parse(System.Text.RegularExpressions.Regex.Match(stats, @"inode table at (\d+)").Groups[1].Value);
        regions.Add(("inode table", table * 1024L, 8 * 1024)); // inodes 1-32: root, journal, lost+found, the tree
        foreach (string path in new[] { "/", "/many", "/d", "/d/big" })
        {
            string blocks = Ext2Tools.Debugfs(image, "blocks " + path).Trim();
            var numbers = blocks.Split(new[] { ' ', '\n' }, StringSplitOptions.RemoveEmptyEntries).TakeWhile(t => t.All(char.IsDigit)).Select(long.Parse).ToList();
            Assert.That(numbers, Is.Not.Empty, "debugfs blocks " + path);
            foreach (long b in path == "/d/big" ? numbers.Skip(12).Take(1) : numbers.Take(4))
                regions.Add((path == "/d/big" ? "indirect block" : "directory " + path, b * 1024, 1024));
        }
        GC.KeepAlive(fs);
        return (image, regions);
    }

    /// <summary>Mounts and walks everything; returns how it ended ("ok", "refused", "errno").</summary>
    private static string MountAndWalk(byte[] image, bool write)
    {
        Ext2FileSystem fs;
        try { fs = Ext2FileSystem.Mount(new MemoryBlockStore(image), new Ext2MountOptions { ReadOnly = !write, CacheBlocks = 64 }); }
        catch (StorageException) { return "refused"; }
        bool sawError = false;
        var visited = new HashSet<uint>();
        var pending = new Stack<uint>();
        pending.Push(Ext2FileSystem.RootInode);
        var buffer = new byte[64 * 1024];
        int steps = 0;
        while (pending.Count > 0 && steps++ < 5000)
        {
            uint dir = pending.Pop();
            if (!visited.Add(dir)) continue;
            long position = 0;
            for (int n = 0; n < 10_000; n++)
            {
                int result = fs.ReadDirectory(dir, position, out Ext2DirectoryEntry entry);
                if (result < 0) { sawError = true; break; }
                if (result == 0) break;
                if (entry.Next <= position) Assert.Fail("directory position did not advance");
                position = entry.Next;
                if (entry.Name == "." || entry.Name == "..") continue;
                if (fs.Lookup(dir, entry.Name, out uint inode) < 0) { sawError = true; continue; }
                if (fs.GetAttributes(inode, out Ext2Stat stat) < 0) { sawError = true; continue; }
                uint type = stat.Mode & 0xF000;
                if (type == 0x4000) pending.Push(inode);
                else if (type == 0xA000) { if (fs.ReadLink(inode, out _) < 0) sawError = true; }
                else if (type == 0x8000)
                {
                    if (fs.Read(inode, 0, buffer, 0, buffer.Length) < 0) sawError = true;
                    if (stat.Size > buffer.Length && fs.Read(inode, stat.Size - 100, buffer, 0, 100) < 0) sawError = true;
                }
            }
        }
        if (write)
        {
            var data = new byte[20_000];
            if (fs.Create(Ext2FileSystem.RootInode, "fuzz-new", 0x1A4, 0, 0, out uint created) == 0)
            {
                if (fs.Write(created, 0, data, 0, data.Length) < 0) sawError = true;
                if (fs.Truncate(created, 100) < 0) sawError = true;
                if (fs.Unlink(Ext2FileSystem.RootInode, "fuzz-new") < 0) sawError = true;
            }
            else sawError = true;
            if (fs.MakeDirectory(Ext2FileSystem.RootInode, "fuzz-dir", 0x1ED, 0, 0, out _) < 0) sawError = true;
            if (fs.Rename(Ext2FileSystem.RootInode, "d", Ext2FileSystem.RootInode, "fuzz-dir") < 0) sawError = true;
            if (fs.Sync() < 0) sawError = true;
            if (fs.Unmount() < 0) sawError = true;
        }
        return sawError ? "errno" : "ok";
    }

    [TestCase(false, 1)]
    [TestCase(true, 2)]
    public void Ext2CorruptImagesGiveCleanErrorsNeverCrashesOrHangs(bool write, int seed)
    {
        var (image, regions) = Target();
        Assert.That(MountAndWalk((byte[])image.Clone(), write), Is.EqualTo("ok"), "the unfuzzed image walks cleanly");
        var random = new Random(seed);
        var outcomes = new Dictionary<string, int>();
        for (int iteration = 0; iteration < 300; iteration++)
        {
            var (name, start, length) = regions[random.Next(regions.Count)];
            byte[] copy = (byte[])image.Clone();
            int flips = 1 + random.Next(6);
            for (int i = 0; i < flips; i++)
            {
                long at = start + random.Next(length);
                copy[at] = random.Next(3) == 0 ? (byte)random.Next(256) : (byte)(copy[at] ^ (1 << random.Next(8)));
            }
            string outcome = "";
            Exception? failure = null;
            var worker = new Thread(() =>
            {
                try { outcome = MountAndWalk(copy, write); }
                catch (Exception e) { failure = e; }
            }, 16 << 20);
            worker.Start();
            if (!worker.Join(TimeSpan.FromSeconds(10))) Assert.Fail($"iteration {iteration} ({name}): mount and walk hung");
            if (failure != null) Assert.Fail($"iteration {iteration} ({name}): {failure.GetType().Name}: {failure.Message}\n{failure.StackTrace}");
            string key = name.StartsWith("directory") ? "directory" : name;
            key += ": " + outcome;
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
        }
        TestContext.Progress.WriteLine("fuzz outcomes: " + string.Join(", ", outcomes.OrderBy(p => p.Key).Select(p => p.Key + " " + p.Value)));
    }
}
