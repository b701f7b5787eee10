#nullable enable
// The ustar reader (LibOS.Unixish/Linux/Files/TarArchive.cs) on archives the host's
// `tar --format=ustar` makes, and on corrupt and truncated ones.
using System.Runtime.InteropServices;
using System.Text;
using Aegis.LibOS.Unixish.Linux.Files;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public unsafe class LinuxVfsTarTests
{
    private static string Read(byte[] archive, List<TarEntry> entries)
    {
        fixed (byte* p = archive) return TarArchive.Read(p, archive.Length, entries);
    }

    private static byte[] SampleTree(out string directory)
    {
        directory = HostTar.TempDirectory();
        Directory.CreateDirectory(Path.Combine(directory, "root/bin"));
        Directory.CreateDirectory(Path.Combine(directory, "root/etc"));
        File.WriteAllText(Path.Combine(directory, "root/etc/motd"), "welcome\n");
        File.WriteAllBytes(Path.Combine(directory, "root/bin/prog"), Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray());
        Assert.That(chmod(Path.Combine(directory, "root/bin/prog"), 0x1ED), Is.EqualTo(0)); // 0755
        Assert.That(chmod(Path.Combine(directory, "root/etc/motd"), 0x180), Is.EqualTo(0)); // 0600
        File.CreateSymbolicLink(Path.Combine(directory, "root/bin/sh"), "prog");
        File.CreateSymbolicLink(Path.Combine(directory, "root/bin/abs"), "/etc/motd");
        Assert.That(link(Path.Combine(directory, "root/bin/prog"), Path.Combine(directory, "root/bin/hard")), Is.EqualTo(0));
        return HostTar.Create(Path.Combine(directory, "root"), "--owner=1000", "--group=100", "--numeric-owner", "--mtime=@1600000000", ".");
    }

    [DllImport("libc", SetLastError = true)] private static extern int link(string oldPath, string newPath);
    [DllImport("libc", SetLastError = true)] private static extern int chmod(string path, uint mode);

    [Test]
    public void HostTarArchiveEntriesAreReadWithKindsModesOwnersAndTimes()
    {
        byte[] archive = SampleTree(out _);
        var entries = new List<TarEntry>();
        Assert.That(Read(archive, entries), Is.Null);
        var byPath = entries.ToDictionary(e => e.Path);
        Assert.That(byPath.ContainsKey(""), "the root entry ./ normalises to the empty path");
        Assert.That(byPath["etc"].Kind, Is.EqualTo(TarEntryKind.Directory));
        TarEntry motd = byPath["etc/motd"];
        Assert.That(motd.Kind, Is.EqualTo(TarEntryKind.Regular));
        Assert.That(motd.Mode, Is.EqualTo(0x180u));
        Assert.That(motd.Uid, Is.EqualTo(1000u));
        Assert.That(motd.Gid, Is.EqualTo(100u));
        Assert.That(motd.ModifyTime, Is.EqualTo(1600000000L));
        Assert.That(motd.Size, Is.EqualTo(8));
        Assert.That(Encoding.ASCII.GetString(new ReadOnlySpan<byte>(motd.Data, (int)motd.Size)), Is.EqualTo("welcome\n"));
        Assert.That(byPath["bin/sh"].Kind, Is.EqualTo(TarEntryKind.Symlink));
        Assert.That(byPath["bin/sh"].LinkTarget, Is.EqualTo("prog"));
        Assert.That(byPath["bin/abs"].LinkTarget, Is.EqualTo("/etc/motd"));
        // One of prog/hard is the file, the other a hard link to it (tar's order decides which).
        TarEntry prog = byPath["bin/prog"], hard = byPath["bin/hard"];
        Assert.That(new[] { prog.Kind, hard.Kind }, Is.EquivalentTo(new[] { TarEntryKind.Regular, TarEntryKind.HardLink }));
        TarEntry link = prog.Kind == TarEntryKind.HardLink ? prog : hard;
        Assert.That(link.LinkTarget, Is.EqualTo(prog.Kind == TarEntryKind.HardLink ? "bin/hard" : "bin/prog"));
        Assert.That(link.Size, Is.EqualTo(0));
    }

    [Test]
    public void LongPathsUseTheUstarPrefixAndAreJoined()
    {
        string directory = HostTar.TempDirectory();
        string deep = string.Join("/", Enumerable.Range(0, 4).Select(i => new string((char)('a' + i), 30)));
        Directory.CreateDirectory(Path.Combine(directory, deep));
        string name = new string('z', 90);
        File.WriteAllText(Path.Combine(directory, deep, name), "deep");
        byte[] archive = HostTar.Create(directory, deep + "/" + name);
        // The header's name field alone cannot hold the path: the prefix field (offset 345) is used.
        Assert.That(archive[345], Is.Not.EqualTo((byte)0), "tar used the prefix field");
        var entries = new List<TarEntry>();
        Assert.That(Read(archive, entries), Is.Null);
        Assert.That(entries.Select(e => e.Path), Does.Contain(deep + "/" + name));

        var vfs = new Vfs(archive);
        Assert.That(vfs.ReadFile("/" + deep + "/" + name), Is.EqualTo("deep"));
    }

    [Test]
    public void ArchiveLoadsIntoTheTreeWithDataInPlaceAndHardLinksSharingTheInode()
    {
        byte[] archive = SampleTree(out _);
        var vfs = new Vfs(archive);
        Assert.That(vfs.ReadFile("/etc/motd"), Is.EqualTo("welcome\n"));
        Assert.That(vfs.ReadFile("/bin/sh").Length, Is.EqualTo(3000), "symlink followed");
        StatInfo prog = vfs.Stat("/bin/prog"), hard = vfs.Stat("/bin/hard");
        Assert.That(hard.Inode, Is.EqualTo(prog.Inode));
        Assert.That(prog.Links, Is.EqualTo(2UL));
        Assert.That(prog.Mode, Is.EqualTo(0x81EDu));
        Assert.That(prog.Uid, Is.EqualTo(1000u));
        Assert.That(prog.ModifyTime, Is.EqualTo(1600000000L * 1_000_000_000));
        StatInfo sh = vfs.Stat("/bin/sh", follow: false);
        Assert.That(sh.Mode & LinuxFile.S_IFMT, Is.EqualTo(LinuxFile.S_IFLNK));
        Assert.That(sh.Size, Is.EqualTo(4));
        // The file's bytes are the archive's until written: a write copies them, the archive is untouched.
        var node = (RegularFile)vfs.Fs.Root.Lookup("etc")!.Let(d => ((DirectoryNode)d).Lookup("motd"));
        Assert.That(node.IsInArchive, Is.True);
        long fd = vfs.Open("/etc/motd", 2);
        Assert.That(vfs.Write((int)fd, "W"), Is.EqualTo(1));
        Assert.That(node.IsInArchive, Is.False);
        Assert.That(vfs.ReadFile("/etc/motd"), Is.EqualTo("Welcome\n"));
        var entries = new List<TarEntry>();
        Read(archive, entries);
        TarEntry motd = entries.First(e => e.Path == "etc/motd");
        Assert.That(Encoding.ASCII.GetString(new ReadOnlySpan<byte>(motd.Data, 8)), Is.EqualTo("welcome\n"));
    }

    private static byte[] OneFileArchive()
    {
        string directory = HostTar.TempDirectory();
        File.WriteAllText(Path.Combine(directory, "file"), new string('x', 700));
        return HostTar.Create(directory, "file");
    }

    [Test]
    public void ChecksumMismatchIsAClearError()
    {
        byte[] archive = OneFileArchive();
        archive[0] ^= 0x20; // a name byte changes: the stored checksum no longer matches
        var entries = new List<TarEntry>();
        Assert.That(Read(archive, entries), Does.Contain("checksum mismatch").And.Contain("offset 0"));
        Assert.That(entries, Is.Empty);
    }

    [Test]
    public void BadMagicIsAClearError()
    {
        byte[] archive = OneFileArchive();
        archive[257] = (byte)'X';
        var entries = new List<TarEntry>();
        Assert.That(Read(archive, entries), Does.Contain("not a ustar header"));
    }

    [Test]
    public void TruncatedHeaderAndTruncatedDataAreClearErrors()
    {
        byte[] archive = OneFileArchive();
        var entries = new List<TarEntry>();
        Assert.That(Read(archive[..300], entries), Does.Contain("truncated header"));
        entries.Clear();
        Assert.That(Read(archive[..(512 + 100)], entries), Does.Contain("700 bytes of data").And.Contain("archive ends 100 bytes"));
        entries.Clear();
        // Cut on a block boundary right after the data, without the end marker: accepted.
        Assert.That(Read(archive[..(512 + 1024)], entries), Is.Null);
        Assert.That(entries.Count, Is.EqualTo(1));
    }

    [Test]
    public void BadOctalFieldIsAClearError()
    {
        byte[] archive = OneFileArchive();
        archive[124] = (byte)'9'; // size field: not octal
        FixChecksum(archive, 0);
        var entries = new List<TarEntry>();
        Assert.That(Read(archive, entries), Does.Contain("bad size field"));
    }

    [Test]
    public void HugeSizeFieldDoesNotReadOutsideTheArchive()
    {
        byte[] archive = OneFileArchive();
        Encoding.ASCII.GetBytes("77777777777\0").CopyTo(archive, 124);
        FixChecksum(archive, 0);
        var entries = new List<TarEntry>();
        Assert.That(Read(archive, entries), Does.Contain("bytes of data but the archive ends"));
    }

    [Test]
    public void PaxAndGnuExtensionHeadersAreRefusedByName()
    {
        byte[] archive = OneFileArchive();
        archive[156] = (byte)'x';
        FixChecksum(archive, 0);
        var entries = new List<TarEntry>();
        Assert.That(Read(archive, entries), Does.Contain("unsupported entry type 'x'"));
    }

    [Test]
    public void DotDotInAPathIsRefused()
    {
        byte[] archive = OneFileArchive();
        Encoding.ASCII.GetBytes("../evil\0").CopyTo(archive, 0);
        FixChecksum(archive, 0);
        var entries = new List<TarEntry>();
        Assert.That(Read(archive, entries), Does.Contain("bad path '../evil'"));
    }

    [Test]
    public void RandomCorruptionNeverCrashesTheReaderOrTheLoader()
    {
        byte[] original = SampleTree(out _);
        var random = new Random(9);
        for (int round = 0; round < 300; round++)
        {
            byte[] archive = (byte[])original.Clone();
            int flips = random.Next(1, 8);
            for (int i = 0; i < flips; i++) archive[random.Next(archive.Length)] = (byte)random.Next(256);
            if (round % 3 == 0) archive = archive[..random.Next(archive.Length)];
            var entries = new List<TarEntry>();
            fixed (byte* p = archive)
            {
                TarArchive.Read(p, archive.Length, entries); // an error or not: never an exception
                foreach (TarEntry e in entries)
                    Assert.That(e.Data >= p + 512 && e.Data + e.Size <= p + archive.Length, Is.True, "entry data inside the archive");
            }
            var fs = new FileSystem(new FileSystemSources(), new FakeTerminal());
            GCHandle handle = GCHandle.Alloc(archive, GCHandleType.Pinned);
            try { fs.LoadArchive((byte*)handle.AddrOfPinnedObject(), archive.Length); }
            finally { handle.Free(); }
        }
    }

    [Test]
    public void EmptyArchiveAndEndMarkerOnlyAreFine()
    {
        var entries = new List<TarEntry>();
        Assert.That(Read(new byte[0], entries), Is.Null);
        Assert.That(Read(new byte[1024], entries), Is.Null);
        Assert.That(entries, Is.Empty);
    }

    private static void FixChecksum(byte[] archive, int header)
    {
        for (int i = 148; i < 156; i++) archive[header + i] = (byte)' ';
        int sum = 0;
        for (int i = 0; i < 512; i++) sum += archive[header + i];
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(archive, header + 148);
    }
}

internal static class LetExtension
{
    public static TResult Let<T, TResult>(this T value, Func<T, TResult> f) => f(value);
}
