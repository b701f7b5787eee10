// The root file system's build scripts, run on the host on small inputs made here (offline):
// tools/rootfs/build-rootfs.sh (staging, busybox applet links, overlay, normalized modes, a
// reproducible ustar archive) and tools/rootfs/fetch-packages.sh (the sha256-checked package
// cache; apt-get and apt-cache are replaced by stand-ins on PATH, so no network is used), and
// the package list tools/packages.sha256 itself.
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Aegis.Tests.Boot;
using NUnit.Framework;

namespace Aegis.Tests.Host;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class LinuxRootfsPackingTests
{
    private const long FixedMtime = 1735689600; // build-rootfs.sh's default: 2025-01-01 00:00 UTC
    private string _work;

    [SetUp]
    public void SetUp() => _work = Directory.CreateTempSubdirectory("aegis-rootfs-test-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_work, recursive: true);

    private static string Tool(string name) => Path.Combine(FrontDoor.RepositoryRoot, "tools", "rootfs", name);

    private static (int ExitCode, string Output) Bash(string script, IEnumerable<string> arguments, string pathPrefix = null)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        if (pathPrefix != null)
            start.Environment["PATH"] = pathPrefix + ":" + start.Environment["PATH"];
        using var process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        Assert.That(process.WaitForExit(120_000), Is.True, $"{script} did not end in 2 minutes");
        return (process.ExitCode, output.Result + errors.Result);
    }

    private void Write(string relative, string text, string mode = null)
    {
        string path = Path.Combine(_work, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        if (mode != null)
            File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(mode, 8));
    }

    /// <summary>A .deb with a stand-in bin/busybox whose --list-full names a few applets.</summary>
    private string MakeBusyboxDeb()
    {
        Write("deb/DEBIAN/control", "Package: fake-busybox\nVersion: 1.0\nArchitecture: amd64\nMaintainer: Aegis tests <tests@aegis.invalid>\nDescription: stand-in\n");
        Write("deb/bin/busybox", "#!/bin/sh\nprintf 'bin/busybox\\nlinuxrc\\nbin/ls\\nbin/sh\\nusr/bin/wc\\nsbin/poweroff\\n'\n", "755");
        Write("deb/usr/share/doc/fake-busybox/copyright", "stand-in\n");
        Write("deb/usr/lib/fake-busybox/data", "kept\n");
        string deb = Path.Combine(_work, "fake-busybox.deb");
        var (exitCode, output) = Bash("-c", new[] { $"dpkg-deb --root-owner-group --build '{_work}/deb' '{deb}'" });
        Assert.That(exitCode, Is.EqualTo(0), output);
        return deb;
    }

    private (int ExitCode, string Output, string Archive) Pack(string name, string deb, params string[] extra)
    {
        string archive = Path.Combine(_work, name);
        var arguments = new List<string> { "--output", archive, "--stage", Path.Combine(_work, "stage-" + name) };
        if (deb != null)
            arguments.AddRange(new[] { "--package", deb });
        arguments.AddRange(extra);
        var (exitCode, output) = Bash(Tool("build-rootfs.sh"), arguments);
        return (exitCode, output, archive);
    }

    [Test]
    public void ArchiveIsSortedUstarOwnedByRootWithOneMtime()
    {
        Write("overlay/etc/passwd", "root::0:0:root:/root:/bin/sh\n");
        var (exitCode, output, archive) = Pack("a.tar", MakeBusyboxDeb(), "--overlay", Path.Combine(_work, "overlay"));
        Assert.That(exitCode, Is.EqualTo(0), output);

        List<Ustar.Entry> entries = Ustar.ReadTar(File.ReadAllBytes(archive));
        Assert.That(entries.Select(e => e.Magic).Distinct(), Is.EqualTo(new[] { "ustar/00" }), "POSIX ustar headers");
        Assert.That(entries.All(e => e.Uid == 0 && e.Gid == 0 && e.Owner == ""), Is.True, "owner 0, numeric (no names)");
        Assert.That(entries.All(e => e.Mtime == FixedMtime), Is.True, "one fixed mtime");
        var names = Ustar.WithoutPadding(entries).Select(e => e.Name.TrimEnd('/')).ToList();
        Assert.That(names, Is.EqualTo(names.OrderBy(n => n, StringComparer.Ordinal).ToList()), "sorted by name (the alignment's repeated directory headers aside)");
        Assert.That(names, Is.Unique);
        Assert.That(names.All(n => !n.StartsWith("/") && !n.StartsWith("./")), Is.True, "relative names");
        foreach (Ustar.Entry entry in entries.Where(e => e.Name.Contains('/') && e.Name.TrimEnd('/').Contains('/')))
        {
            string parent = entry.Name.TrimEnd('/')[..entry.Name.TrimEnd('/').LastIndexOf('/')];
            Assert.That(names.IndexOf(parent), Is.GreaterThanOrEqualTo(0).And.LessThan(names.IndexOf(entry.Name.TrimEnd('/'))),
                $"the directory {parent} comes before {entry.Name}");
        }
        Ustar.Entry passwd = entries.Single(e => e.Name == "etc/passwd");
        Assert.That(passwd.Type, Is.EqualTo('0'));
        Assert.That(passwd.Size, Is.EqualTo(29));
    }

    [Test]
    public void SameInputsGiveTheSameBytesAndAnUnchangedArchiveIsNotRewritten()
    {
        Write("overlay/etc/motd", "welcome\n", "600");
        string deb = MakeBusyboxDeb();
        var first = Pack("a.tar", deb, "--overlay", Path.Combine(_work, "overlay"));
        Assert.That(first.ExitCode, Is.EqualTo(0), first.Output);
        // Same content, different mode bits and times on disk: the archive must not change.
        File.SetUnixFileMode(Path.Combine(_work, "overlay/etc/motd"), (UnixFileMode)Convert.ToInt32("664", 8));
        File.SetLastWriteTimeUtc(Path.Combine(_work, "overlay/etc/motd"), new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var second = Pack("b.tar", deb, "--overlay", Path.Combine(_work, "overlay"));
        Assert.That(second.ExitCode, Is.EqualTo(0), second.Output);
        Assert.That(File.ReadAllBytes(second.Archive), Is.EqualTo(File.ReadAllBytes(first.Archive)));

        DateTime written = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(first.Archive, written);
        var again = Pack("a.tar", deb, "--overlay", Path.Combine(_work, "overlay"));
        Assert.That(again.ExitCode, Is.EqualTo(0), again.Output);
        Assert.That(File.GetLastWriteTimeUtc(first.Archive), Is.EqualTo(written), "an archive whose bytes did not change is left alone");

        Write("overlay/etc/motd", "welcome!\n");
        var changed = Pack("a.tar", deb, "--overlay", Path.Combine(_work, "overlay"));
        Assert.That(changed.ExitCode, Is.EqualTo(0), changed.Output);
        Assert.That(File.GetLastWriteTimeUtc(first.Archive), Is.Not.EqualTo(written), "a changed archive is replaced");
    }

    [Test]
    public void BusyboxAppletsBecomeLinksToBinBusybox()
    {
        var (exitCode, output, archive) = Pack("a.tar", MakeBusyboxDeb());
        Assert.That(exitCode, Is.EqualTo(0), output);
        List<Ustar.Entry> entries = Ustar.ReadTar(File.ReadAllBytes(archive));
        foreach (string applet in new[] { "bin/ls", "bin/sh", "usr/bin/wc", "sbin/poweroff" })
        {
            Ustar.Entry link = entries.Single(e => e.Name == applet);
            Assert.That((link.Type, link.Link), Is.EqualTo(('2', "/bin/busybox")), applet);
        }
        Assert.That(entries.Single(e => e.Name == "bin/busybox").Type, Is.EqualTo('0'), "busybox itself stays a file");
        Assert.That(entries.Any(e => e.Name == "linuxrc"), Is.False, "an applet outside a directory is left out");
        Assert.That(entries.Any(e => e.Name == "usr/lib/fake-busybox/data"), Is.True, "the package's other files are kept");
        Assert.That(entries.Any(e => e.Name.StartsWith("usr/share/doc", StringComparison.Ordinal)), Is.False, "documentation is left out (PRUNED)");
    }

    [Test]
    public void OverlayWinsModesAreNormalizedAndStandardDirectoriesExist()
    {
        Write("overlay/bin/sh", "#!/bin/true\n", "700");
        Write("overlay/etc/secret", "x\n", "600");
        Write("program", "\x7fELF", "644");
        string deb = MakeBusyboxDeb();
        var (exitCode, output, archive) = Pack("a.tar", deb, "--overlay", Path.Combine(_work, "overlay"),
            "--file", Path.Combine(_work, "program") + "=tests/program");
        Assert.That(exitCode, Is.EqualTo(0), output);
        List<Ustar.Entry> entries = Ustar.WithoutPadding(Ustar.ReadTar(File.ReadAllBytes(archive)));
        Ustar.Entry sh = entries.Single(e => e.Name == "bin/sh");
        Assert.That((sh.Type, sh.Mode, sh.Size), Is.EqualTo(('0', Convert.ToInt32("755", 8), 12L)), "the overlay's file replaces the applet link");
        Assert.That(entries.Single(e => e.Name == "bin/busybox").Size, Is.GreaterThan(12), "and does not write through it into busybox");
        Assert.That(entries.Single(e => e.Name == "etc/secret").Mode, Is.EqualTo(Convert.ToInt32("644", 8)));
        Assert.That(entries.Single(e => e.Name == "tests/program").Mode, Is.EqualTo(Convert.ToInt32("755", 8)));
        Assert.That(entries.Single(e => e.Name == "tmp/").Mode, Is.EqualTo(Convert.ToInt32("1777", 8)));
        Assert.That(entries.Single(e => e.Name == "root/").Mode, Is.EqualTo(Convert.ToInt32("700", 8)));
        foreach (string directory in new[] { "dev/", "proc/", "sys/", "home/", "etc/", "bin/" })
            Assert.That(entries.Single(e => e.Name == directory), Has.Property("Type").EqualTo('5').And.Property("Mode").EqualTo(Convert.ToInt32("755", 8)), directory);
    }

    [Test]
    public void FilesOfAPageOrMoreHaveTheirDataPageAligned()
    {
        // Sizes that leave the next header at every 512-byte position of a page.
        string[] extra = Enumerable.Range(0, 8).SelectMany(i =>
        {
            Write($"f{i}", new string('x', 4096 + 700 * i), "755");
            Write($"s{i}", new string('y', 100 + 512 * i));
            return new[] { "--file", Path.Combine(_work, $"f{i}") + $"=tests/big{i}", "--file", Path.Combine(_work, $"s{i}") + $"=etc/small{i}" };
        }).ToArray();
        var (exitCode, output, archive) = Pack("a.tar", MakeBusyboxDeb(), extra);
        Assert.That(exitCode, Is.EqualTo(0), output);
        byte[] bytes = File.ReadAllBytes(archive);
        List<Ustar.Entry> entries = Ustar.ReadTar(bytes);
        var large = entries.Where(e => e.Type == '0' && e.Size >= 4096).ToList();
        Assert.That(large.Count, Is.GreaterThanOrEqualTo(8));
        foreach (Ustar.Entry entry in large)
            Assert.That(entry.DataOffset % 4096, Is.Zero, $"{entry.Name}'s data starts on a page");
        foreach (Ustar.Entry entry in large.Where(e => e.Name.StartsWith("tests/big")))
        {
            int i = entry.Name[^1] - '0';
            Assert.That(Encoding.ASCII.GetString(bytes, (int)entry.DataOffset, (int)entry.Size), Is.EqualTo(new string('x', 4096 + 700 * i)), entry.Name);
        }
        // The padding is repeated directory headers only, so the files are exactly those packed.
        var padding = entries.Except(Ustar.WithoutPadding(entries)).ToList();
        Assert.That(padding, Is.Not.Empty, "eight sizes cannot all fall on a page without padding");
        Assert.That(padding.All(e => e.Type == '5'), Is.True, "only directory headers pad");
        Assert.That(Ustar.WithoutPadding(entries).Select(e => e.Name), Is.Unique);
        // GNU tar extracts it as the same tree.
        string extracted = Path.Combine(_work, "extracted");
        Directory.CreateDirectory(extracted);
        var tar = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("tar", $"-xf \"{archive}\" -C \"{extracted}\"") { RedirectStandardError = true })!;
        tar.WaitForExit();
        Assert.That(tar.ExitCode, Is.EqualTo(0), tar.StandardError.ReadToEnd());
        Assert.That(File.ReadAllText(Path.Combine(extracted, "tests", "big3")), Is.EqualTo(new string('x', 4096 + 2100)));
    }

    [Test]
    public void BadArgumentsAreClearErrors()
    {
        var missing = Pack("a.tar", null, "--file", Path.Combine(_work, "nothing") + "=tests/nothing");
        Assert.That(missing.ExitCode, Is.EqualTo(1));
        Assert.That(missing.Output, Does.Contain("build-rootfs: no file"));
        Assert.That(File.Exists(missing.Archive), Is.False);

        Write("long/" + new string('n', 120) + "/" + new string('m', 120), "x");
        var tooLong = Pack("b.tar", null, "--overlay", Path.Combine(_work, "long"));
        Assert.That(tooLong.ExitCode, Is.EqualTo(1), tooLong.Output);
        Assert.That(tooLong.Output, Does.Contain("build-rootfs: tar could not pack"));
    }

    // fetch-packages.sh

    /// <summary>Stand-ins for apt-get (downloadScript), apt-cache (madison's one line; show's Source
    /// line when source is given) and apt-helper (helperScript; default: nothing downloads).</summary>
    private string FakeApt(string downloadScript, string helperScript = "exit 100\n", string source = null)
    {
        string bin = Path.Combine(_work, "fakebin");
        Write("fakebin/apt-get", "#!/bin/bash\n" + downloadScript, "755");
        string show = source == null ? "" : $"[[ \"$1\" == show ]] && {{ echo 'Package: fake-busybox'; echo 'Source: {source}'; exit 0; }}\n";
        Write("fakebin/apt-cache", "#!/bin/bash\n" + show + "echo ' fake-busybox | 9.9 | stand-in'\n", "755");
        Write("fakebin/apt-helper", "#!/bin/bash\n" + helperScript, "755");
        return bin;
    }

    /// <summary>A version apt no longer offers (a security update replaced it) is fetched from
    /// Debian's pool by its URL, made of the source package's name and the version without its
    /// epoch, and checked like any download: nginx's pinned deb12u11 left apt's suites and a
    /// fresh machine could not build.</summary>
    [Test]
    public void AVersionAptNoLongerOffersIsFetchedFromDebiansPoolAndChecked()
    {
        string deb = MakeBusyboxDeb();
        string sum = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(deb))).ToLowerInvariant();
        Write("list", $"fake-busybox 1:1.0 amd64 {sum}\n");
        string helper =
            "while [[ $# -gt 0 && $1 != download-file ]]; do shift; done\n" +
            "[[ $2 == http://deb.debian.org/debian-security/pool/updates/main/f/fakebox/fake-busybox_1.0_amd64.deb ]] || exit 100\n" +
            $"cp '{deb}' \"$3\"\n";
        string bin = FakeApt("echo \"E: Version '1:1.0' for 'fake-busybox' was not found\" >&2; exit 100\n", helper, "fakebox (1:1.0)");

        var (exitCode, output) = Bash(Tool("fetch-packages.sh"), new[] { Path.Combine(_work, "list"), Path.Combine(_work, "cache") }, bin);
        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("fake-busybox 1:1.0 is no longer offered by apt; fetched from http://deb.debian.org/debian-security/pool/updates/main"));
        Assert.That(output, Does.Contain(Path.Combine(_work, "cache", "fake-busybox_1_1.0_amd64.deb")));

        // The pool's file is checked as apt's would be: another sha256 is refused, nothing cached.
        Write("list", "fake-busybox 1:1.0 amd64 " + new string('0', 64) + "\n");
        var (refused, said) = Bash(Tool("fetch-packages.sh"), new[] { Path.Combine(_work, "list"), Path.Combine(_work, "cache2") }, bin);
        Assert.That(refused, Is.EqualTo(1), said);
        Assert.That(said, Does.Contain("the downloaded .deb has sha256"));
        Assert.That(Directory.Exists(Path.Combine(_work, "cache2")) ? Directory.GetFiles(Path.Combine(_work, "cache2")) : Array.Empty<string>(), Is.Empty);
    }

    [Test]
    public void CachedPackageWithTheListedSha256IsUsedWithoutDownloading()
    {
        string deb = MakeBusyboxDeb();
        string sum = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(deb))).ToLowerInvariant();
        Directory.CreateDirectory(Path.Combine(_work, "cache"));
        string cached = Path.Combine(_work, "cache", "fake-busybox_1_1.0_amd64.deb");
        File.Copy(deb, cached);
        Write("list", $"# comment\n\nfake-busybox 1:1.0 amd64 {sum}\n");
        string bin = FakeApt("echo 'the stand-in apt-get must not be called' >&2; exit 100\n");

        var (exitCode, output) = Bash(Tool("fetch-packages.sh"), new[] { Path.Combine(_work, "list"), Path.Combine(_work, "cache") }, bin);
        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output.Trim(), Is.EqualTo(cached));
    }

    [Test]
    public void DownloadWithAnotherSha256IsRefusedWithHowToUpdate()
    {
        string deb = MakeBusyboxDeb();
        Write("list", "fake-busybox 1.0 amd64 " + new string('0', 64) + "\n");
        string bin = FakeApt($"[[ \"$*\" == *download* ]] && cp '{deb}' . && exit 0\nexit 0\n");

        var (exitCode, output) = Bash(Tool("fetch-packages.sh"), new[] { Path.Combine(_work, "list"), Path.Combine(_work, "cache") }, bin);
        Assert.That(exitCode, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("the downloaded .deb has sha256").And.Contain("tools/rootfs/fetch-packages.sh --update fake-busybox"));
        Assert.That(Directory.GetFiles(Path.Combine(_work, "cache")), Is.Empty, "a refused file is not cached");
    }

    [Test]
    public void UnavailableVersionIsAClearError()
    {
        Write("list", "fake-busybox 1.0 amd64 " + new string('0', 64) + "\n");
        string bin = FakeApt("echo \"E: Version '1.0' for 'fake-busybox' was not found\" >&2; exit 100\n");

        var (exitCode, output) = Bash(Tool("fetch-packages.sh"), new[] { Path.Combine(_work, "list"), Path.Combine(_work, "cache") }, bin);
        Assert.That(exitCode, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("fake-busybox version 1.0 is not available here (apt offers: 9.9"));
        Assert.That(output, Does.Contain("the Debian pool has no fake-busybox_1.0_amd64.deb either"));
        Assert.That(output, Does.Contain("--update fake-busybox"));
    }

    [Test]
    public void MalformedListLineIsAClearError()
    {
        Write("list", "busybox-static 1.0 amd64\n");
        var (exitCode, output) = Bash(Tool("fetch-packages.sh"), new[] { Path.Combine(_work, "list"), Path.Combine(_work, "cache") }, FakeApt("exit 100\n"));
        Assert.That(exitCode, Is.EqualTo(1));
        Assert.That(output, Does.Contain("list:1: expected 'NAME VERSION ARCHITECTURE SHA256'"));
    }

    [Test]
    public void PackageListPinsBusyboxStatic()
    {
        string[] lines = File.ReadAllLines(Path.Combine(FrontDoor.RepositoryRoot, "tools", "packages.sha256"))
            .Where(line => line.Trim().Length > 0 && !line.StartsWith('#')).ToArray();
        foreach (string line in lines)
            Assert.That(line, Does.Match(@"^[a-z0-9][a-z0-9+.-]* [0-9A-Za-z.+~:-]+ (amd64|all) [0-9a-f]{64}$"), "NAME VERSION ARCHITECTURE SHA256");
        Assert.That(lines.Select(line => line.Split(' ')[0]), Does.Contain("busybox-static"));
    }
}

/// <summary>A minimal reader of POSIX ustar archives (the tests read the root file system with it).</summary>
public static class Ustar
{
    /// <summary>One ustar header: name (prefix/name joined), type flag, mode, uid, gid, size, mtime, link, magic,
    /// and where its data starts in the archive.</summary>
    public sealed record Entry(string Name, char Type, int Mode, int Uid, int Gid, long Size, long Mtime, string Link, string Magic, string Owner,
        long DataOffset = 0);

    /// <summary>The entries without the padding build-rootfs.sh puts before a page-aligned file
    /// (a repeated header of a directory already in the archive).</summary>
    public static List<Entry> WithoutPadding(IEnumerable<Entry> entries)
    {
        var seen = new HashSet<string>();
        var kept = new List<Entry>();
        foreach (Entry entry in entries)
        {
            if (entry.Type == '5' && seen.Contains(entry.Name.TrimEnd('/'))) continue;
            seen.Add(entry.Name.TrimEnd('/'));
            kept.Add(entry);
        }
        return kept;
    }

    /// <summary>A minimal ustar reader: the headers in order (the data blocks are skipped).</summary>
    public static List<Entry> ReadTar(byte[] archive)
    {
        static string Text(byte[] block, int offset, int length)
        {
            int end = Array.IndexOf(block, (byte)0, offset, length);
            return Encoding.ASCII.GetString(block, offset, (end < 0 ? offset + length : end) - offset);
        }
        static long Octal(byte[] block, int offset, int length)
        {
            string text = Text(block, offset, length).Trim(' ', '\0');
            return text.Length == 0 ? 0 : Convert.ToInt64(text, 8);
        }
        var entries = new List<Entry>();
        for (int position = 0; position + 512 <= archive.Length;)
        {
            byte[] block = archive[position..(position + 512)];
            if (block.All(b => b == 0))
                break;
            string name = Text(block, 0, 100);
            string prefix = Text(block, 345, 155);
            if (prefix.Length > 0)
                name = prefix + "/" + name;
            long size = Octal(block, 124, 12);
            entries.Add(new Entry(name, (char)block[156], (int)Octal(block, 100, 8), (int)Octal(block, 108, 8), (int)Octal(block, 116, 8),
                size, Octal(block, 136, 12), Text(block, 157, 100), Text(block, 257, 6) + "/" + Text(block, 263, 2), Text(block, 265, 32) + Text(block, 297, 32),
                position + 512));
            position += 512 + (int)((size + 511) / 512 * 512);
        }
        return entries;
    }
}
