#nullable enable
// Shared fixtures of the Ext2* tests: images made by the real mke2fs from a source tree, e2fsck
// and debugfs as the judges, a file-backed block store, a power-cut block store, and a walk that
// compares a mounted tree with the source directory (find -printf gives the expected metadata).
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Aegis.LibOS.Unixish.Storage;
using NUnit.Framework;

namespace Aegis.Tests.Host;

internal static class Ext2Tools
{
    public static string TempDirectory()
    {
        string path = Path.Combine(Path.GetTempPath(), "aegis-ext2-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static (int Code, string Output) Run(string tool, params string[] arguments)
    {
        var info = new ProcessStartInfo("/usr/sbin/" + tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in arguments) info.ArgumentList.Add(a);
        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000)) { process.Kill(); throw new TimeoutException(tool + " hung"); }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>mke2fs's image of a source tree (null: empty) as bytes.</summary>
    public static byte[] MakeImage(string? source, int blockSize, string sizeSpec, params string[] extra)
    {
        string dir = TempDirectory();
        string image = Path.Combine(dir, "image");
        var args = new List<string> { "-q", "-F", "-t", "ext3", "-b", blockSize.ToString(), "-E", "root_owner=0:0" };
        args.AddRange(extra);
        if (source != null) { args.Add("-d"); args.Add(source); }
        args.Add(image); args.Add(sizeSpec);
        var (code, output) = Run("mke2fs", args.ToArray());
        Assert.That(code, Is.EqualTo(0), "mke2fs: " + output);
        byte[] bytes = File.ReadAllBytes(image);
        Directory.Delete(dir, true);
        return bytes;
    }

    /// <summary>e2fsck -fn on a copy of the image: (exit status, report).</summary>
    public static (int Code, string Output) Fsck(byte[] image, string options = "-fn")
    {
        string dir = TempDirectory();
        string path = Path.Combine(dir, "image");
        File.WriteAllBytes(path, image);
        var result = Run("e2fsck", options, path);
        Directory.Delete(dir, true);
        return result;
    }

    /// <summary>e2fsck -fy (which replays a journal itself), then e2fsck -fn on the result.</summary>
    public static (int RepairCode, int CheckCode, string Output) FsckReplayThenCheck(byte[] image)
    {
        string dir = TempDirectory();
        string path = Path.Combine(dir, "image");
        File.WriteAllBytes(path, image);
        var repair = Run("e2fsck", "-fy", path);
        var check = Run("e2fsck", "-fn", path);
        Directory.Delete(dir, true);
        return (repair.Code, check.Code, repair.Output + check.Output);
    }

    public static void AssertClean(byte[] image, string context)
    {
        var (code, output) = Fsck(image);
        Assert.That(code, Is.EqualTo(0), context + ": e2fsck -fn found problems:\n" + output);
    }

    /// <summary>Runs a debugfs request on a copy of the image.</summary>
    public static string Debugfs(byte[] image, string request)
    {
        string dir = TempDirectory();
        string path = Path.Combine(dir, "image");
        File.WriteAllBytes(path, image);
        var (_, output) = Run("debugfs", "-R", request, path);
        Directory.Delete(dir, true);
        return output;
    }

    /// <summary>The live names debugfs's "ls" lists in a directory (it also prints removed
    /// entries whose inode is 0 at a block start; those are left out).</summary>
    public static HashSet<string> DebugfsNames(byte[] image, string directory)
    {
        string listing = Debugfs(image, "ls " + directory);
        var names = new HashSet<string>();
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(listing, @"(\d+)\s+\((\d+)\)\s+(\S+)"))
            if (m.Groups[1].Value != "0") names.Add(m.Groups[3].Value);
        return names;
    }

    /// <summary>debugfs's "cat" as bytes (binary-safe: dump to a file).</summary>
    public static byte[] DebugfsCat(byte[] image, string path)
    {
        string dir = TempDirectory();
        string imagePath = Path.Combine(dir, "image"), outPath = Path.Combine(dir, "out");
        File.WriteAllBytes(imagePath, image);
        Run("debugfs", "-R", "dump " + path + " " + outPath, imagePath);
        byte[] bytes = File.Exists(outPath) ? File.ReadAllBytes(outPath) : Array.Empty<byte>();
        Directory.Delete(dir, true);
        return bytes;
    }

    [DllImport("libc", SetLastError = true)] public static extern int link(string oldPath, string newPath);
    [DllImport("libc", SetLastError = true)] public static extern int chmod(string path, uint mode);

    /// <summary>The standard source tree: sizes around the block-map boundaries, nested
    /// directories, a directory of hundreds of entries, hard links, short and long symlinks, a
    /// sparse file past 64 MiB.</summary>
    public static string MakeSourceTree(int seed = 1)
    {
        var random = new Random(seed);
        string root = TempDirectory();
        byte[] Bytes(int n) { var b = new byte[n]; random.NextBytes(b); return b; }
        File.WriteAllBytes(Path.Combine(root, "empty"), Array.Empty<byte>());
        File.WriteAllBytes(Path.Combine(root, "one"), new byte[] { 42 });
        File.WriteAllBytes(Path.Combine(root, "block1k"), Bytes(1024));
        File.WriteAllBytes(Path.Combine(root, "block4k"), Bytes(4096));
        File.WriteAllBytes(Path.Combine(root, "thirteen"), Bytes(13 * 1024 + 7));
        File.WriteAllBytes(Path.Combine(root, "double"), Bytes(270 * 1024 + 5)); // past 12 + 256 blocks of 1 KiB
        File.WriteAllBytes(Path.Combine(root, "medium"), Bytes(1100 * 1024 + 3)); // past 12 + 1024 blocks of 4 KiB
        using (var sparse = File.Create(Path.Combine(root, "sparse")))
        {
            sparse.Write(Bytes(3000));
            sparse.Seek(70L * 1024 * 1024, SeekOrigin.Begin); // past the triple-indirect boundary of 1 KiB blocks
            sparse.Write(Bytes(5000));
        }
        Directory.CreateDirectory(Path.Combine(root, "a/b/c/d"));
        File.WriteAllText(Path.Combine(root, "a/b/c/d/deep.txt"), "deep inside\n");
        File.WriteAllText(Path.Combine(root, "a/top.txt"), "top\n");
        Assert.That(chmod(Path.Combine(root, "a/top.txt"), 0x1ED), Is.EqualTo(0)); // 0755
        Directory.CreateDirectory(Path.Combine(root, "many"));
        for (int i = 0; i < 400; i++)
            File.WriteAllBytes(Path.Combine(root, "many", "entry-with-a-longish-name-" + i.ToString("D4")), Bytes(i % 7));
        Assert.That(link(Path.Combine(root, "thirteen"), Path.Combine(root, "a/hard-thirteen")), Is.EqualTo(0));
        Assert.That(link(Path.Combine(root, "thirteen"), Path.Combine(root, "a/b/hard2")), Is.EqualTo(0));
        File.CreateSymbolicLink(Path.Combine(root, "short-link"), "thirteen");
        File.CreateSymbolicLink(Path.Combine(root, "long-link"), "a/b/c/d/" + new string('x', 60) + "/../../../../../thirteen-and-a-very-long-tail");
        File.CreateSymbolicLink(Path.Combine(root, "a/b/up"), "../../one");
        File.WriteAllText(Path.Combine(root, "naïve-名前-\U0001F600.txt"), "UTF-8 names\n");
        File.CreateSymbolicLink(Path.Combine(root, "a/ünï"), "naïve-名前-\U0001F600.txt");
        return root;
    }

    /// <summary>Resolves a path (no symlinks followed) from the root; 0 and the errno when missing.</summary>
    public static int Resolve(Ext2FileSystem fs, string path, out uint inode)
    {
        inode = Ext2FileSystem.RootInode;
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            int result = fs.Lookup(inode, part, out uint next);
            if (result != 0) return result;
            inode = next;
        }
        return 0;
    }

    public static byte[] ReadAll(Ext2FileSystem fs, uint inode)
    {
        Assert.That(fs.GetAttributes(inode, out Ext2Stat stat), Is.EqualTo(0), fs.LastError);
        var bytes = new byte[stat.Size];
        int at = 0;
        while (at < bytes.Length)
        {
            int n = fs.Read(inode, at, bytes, at, Math.Min(1 << 20, bytes.Length - at));
            Assert.That(n, Is.GreaterThan(0), "read at " + at + ": " + n + " " + fs.LastError);
            at += n;
        }
        return bytes;
    }

    public static List<Ext2DirectoryEntry> List(Ext2FileSystem fs, uint dir)
    {
        var entries = new List<Ext2DirectoryEntry>();
        long position = 0;
        while (true)
        {
            int result = fs.ReadDirectory(dir, position, out Ext2DirectoryEntry entry);
            Assert.That(result, Is.GreaterThanOrEqualTo(0), fs.LastError);
            if (result == 0) return entries;
            entries.Add(entry);
            position = entry.Next;
        }
    }

    /// <summary>Compares every file under source with the mounted tree: kind, permission bits,
    /// owner, size, link count, bytes, symlink target, and the directory listing itself.</summary>
    public static int CompareWithSource(Ext2FileSystem fs, string source)
    {
        var info = new ProcessStartInfo("find") { RedirectStandardOutput = true };
        info.ArgumentList.Add(source); info.ArgumentList.Add("-mindepth"); info.ArgumentList.Add("1");
        info.ArgumentList.Add("-printf"); info.ArgumentList.Add("%P\t%y\t%m\t%n\t%s\t%U\t%l\n");
        using Process find = Process.Start(info)!;
        string listing = find.StandardOutput.ReadToEnd();
        find.WaitForExit();
        int compared = 0;
        var childrenOf = new Dictionary<string, HashSet<string>> { [""] = new HashSet<string>() };
        foreach (string line in listing.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split('\t');
            string path = f[0];
            string parent = Path.GetDirectoryName(path) ?? "";
            if (!childrenOf.ContainsKey(parent)) childrenOf[parent] = new HashSet<string>();
            childrenOf[parent].Add(Path.GetFileName(path));
            Assert.That(Resolve(fs, path, out uint inode), Is.EqualTo(0), path + ": " + fs.LastError);
            Assert.That(fs.GetAttributes(inode, out Ext2Stat stat), Is.EqualTo(0));
            char kind = f[1][0];
            uint type = stat.Mode & 0xF000;
            Assert.That(type, Is.EqualTo(kind == 'd' ? 0x4000u : kind == 'l' ? 0xA000u : 0x8000u), path + " kind");
            if (kind != 'l') Assert.That(stat.Mode & 0xFFF, Is.EqualTo(Convert.ToUInt32(f[2], 8)), path + " mode");
            Assert.That(stat.Links, Is.EqualTo(uint.Parse(f[3])), path + " links");
            Assert.That(stat.Uid, Is.EqualTo(uint.Parse(f[5])), path + " uid");
            if (kind == 'f')
            {
                Assert.That(stat.Size, Is.EqualTo(long.Parse(f[4])), path + " size");
                byte[] expected = File.ReadAllBytes(Path.Combine(source, path));
                Assert.That(ReadAll(fs, inode).AsSpan().SequenceEqual(expected), Is.True, path + " bytes");
            }
            else if (kind == 'l')
            {
                Assert.That(fs.ReadLink(inode, out string target), Is.EqualTo(0), path + ": " + fs.LastError);
                Assert.That(target, Is.EqualTo(f[6]), path + " target");
                Assert.That(stat.Size, Is.EqualTo(Encoding.UTF8.GetByteCount(f[6])));
            }
            compared++;
        }
        foreach (var (dir, names) in childrenOf)
        {
            Assert.That(Resolve(fs, dir, out uint inode), Is.EqualTo(0));
            var listed = List(fs, inode).Select(e => e.Name).Where(n => n != "." && n != ".." && !(dir == "" && n == "lost+found")).ToHashSet();
            Assert.That(listed, Is.EquivalentTo(names), "listing of /" + dir);
        }
        return compared;
    }
}

/// <summary>A block store over an image file (tests only).</summary>
internal sealed class FileBlockStore : IBlockStore, IDisposable
{
    private readonly FileStream file;
    public FileBlockStore(string path, int blockSize = 512)
    {
        file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        BlockSize = blockSize;
    }
    public int BlockSize { get; }
    public long BlockCount => file.Length / BlockSize;
    public int Read(long block, int count, byte[] buffer, int offset)
    {
        if (block < 0 || block + count > BlockCount) return -5;
        file.Position = block * BlockSize;
        file.ReadExactly(buffer, offset, count * BlockSize);
        return 0;
    }
    public int Write(long block, int count, byte[] buffer, int offset)
    {
        if (block < 0 || block + count > BlockCount) return -5;
        file.Position = block * BlockSize;
        file.Write(buffer, offset, count * BlockSize);
        return 0;
    }
    public int Flush() { file.Flush(true); return 0; }
    public void Dispose() => file.Dispose();
}

/// <summary>A store that loses power after a number of writes: every later write is silently
/// dropped; the write at the cut may be torn (only its first device blocks land).</summary>
internal sealed class PowerCutStore : IBlockStore
{
    private readonly MemoryBlockStore inner;
    private readonly long cutAfter;
    private readonly bool tear;
    public long Writes { get; private set; }
    public bool Cut => Writes >= cutAfter;
    public PowerCutStore(MemoryBlockStore inner, long cutAfter, bool tear) { this.inner = inner; this.cutAfter = cutAfter; this.tear = tear; }
    public int BlockSize => inner.BlockSize;
    public long BlockCount => inner.BlockCount;
    public int Read(long block, int count, byte[] buffer, int offset) => inner.Read(block, count, buffer, offset);
    public int Write(long block, int count, byte[] buffer, int offset)
    {
        Writes++;
        if (Writes < cutAfter) return inner.Write(block, count, buffer, offset);
        if (Writes == cutAfter && tear) return inner.Write(block, Math.Max(1, count / 2), buffer, offset);
        if (Writes == cutAfter && !tear) return inner.Write(block, count, buffer, offset);
        return 0;
    }
    public int Flush() => 0;
}
