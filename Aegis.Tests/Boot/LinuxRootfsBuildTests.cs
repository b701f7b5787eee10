// The root file system as the build embeds it (tools/rootfs.targets, Cosmos.targets AegisEmbed),
// checked on the real app images: Apps/Linux's linux.elf of the test image (the ISO the other
// boot tests use) and of the user image (./aegis iso --without-tests, built once for these tests
// and UserImageTests: FrontDoor.EnsureUserIsoBuilt). The archive is read back out of the linked
// ELF between aegis_rootfs_start and aegis_rootfs_end and must be the archive the build packed,
// page aligned in the read-only segment, holding busybox and its applet links, rootfs/,
// linuxbench, and /tests only in the test image, each program of Tests/Linux linked as its source
// asks (dynamically unless static). A second build with nothing changed relinks nothing.
// (Category Boot: it needs the images' builds, with the real apt-get download of the pinned
// packages.) Until 2026-12 a probe app of its own (Tests/BuildProbes/RootfsApp) was built twice
// for this, 3 minutes of every test run, the same targets on the same packages.
using System.Diagnostics;
using System.Text;
using Aegis.Tests.Host;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class LinuxRootfsBuildTests
{
    private const string LinuxProject = "Apps/Linux/Linux.csproj";
    private static readonly TimeSpan BuildLimit = TimeSpan.FromMinutes(10);

    private static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = FrontDoor.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit((int)BuildLimit.TotalMilliseconds))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', arguments)} took longer than {BuildLimit}");
        }
        process.WaitForExit();
        return (process.ExitCode, output.Result + errors.Result);
    }

    /// <summary>Apps/Linux's image in the test image (userImage false: the ISO's build, which the
    /// other boot tests use too) or in the user image (built once: FrontDoor.EnsureUserIsoBuilt).</summary>
    private static string LinuxImage(bool userImage)
    {
        if (userImage)
        {
            FrontDoor.UserIsoBuild user = FrontDoor.EnsureUserIsoBuilt();
            user.Build.AssertExitStatus(0);
        }
        else FrontDoor.EnsureIsoBuilt();
        string elf = Path.Combine(FrontDoor.RepositoryRoot, "artifacts", userImage ? "user/Release/apps" : "Release/apps", "linux.elf");
        Assert.That(File.Exists(elf), Is.True, elf + " was not built");
        return elf;
    }

    private static string IntermediateArchive(bool userImage) => Path.Combine(FrontDoor.RepositoryRoot, "Apps", "Linux",
        userImage ? "obj/user" : "obj/Release/net10.0", "aegis", "rootfs", "rootfs.tar");

    /// <summary>The embedded bytes, and the flags of the PT_LOAD segment that holds them.</summary>
    private static (byte[] Archive, uint SegmentFlags, ulong Start) Embedded(string elf)
    {
        var (exitCode, output) = Run("nm", elf);
        Assert.That(exitCode, Is.EqualTo(0), output);
        ulong start = 0, end = 0;
        foreach (string line in output.Split('\n'))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 3 && parts[2] == "aegis_rootfs_start") start = Convert.ToUInt64(parts[0], 16);
            if (parts.Length == 3 && parts[2] == "aegis_rootfs_end") end = Convert.ToUInt64(parts[0], 16);
        }
        Assert.That(start, Is.Not.Zero, "no symbol aegis_rootfs_start in " + elf);
        Assert.That(end, Is.GreaterThan(start), "aegis_rootfs_end must follow aegis_rootfs_start");

        byte[] file = File.ReadAllBytes(elf);
        ulong headers = BitConverter.ToUInt64(file, 32);
        int count = BitConverter.ToUInt16(file, 56);
        for (int i = 0; i < count; i++)
        {
            int at = (int)headers + 56 * i;
            uint type = BitConverter.ToUInt32(file, at);
            uint flags = BitConverter.ToUInt32(file, at + 4);
            ulong offset = BitConverter.ToUInt64(file, at + 8), address = BitConverter.ToUInt64(file, at + 16), size = BitConverter.ToUInt64(file, at + 32);
            if (type == 1 && start >= address && end <= address + size)
                return (file[(int)(offset + start - address)..(int)(offset + end - address)], flags, start);
        }
        Assert.Fail("no PT_LOAD segment holds the embedded archive's file bytes");
        return default;
    }

    [Test]
    public void TestImageEmbedsTheRootFileSystemBetweenItsSymbols()
    {
        string elf = LinuxImage(userImage: false);
        var (archive, flags, start) = Embedded(elf);

        Assert.That(start % 4096, Is.Zero, "aegis_rootfs_start is page aligned");
        // The accessors C# calls (ILC cannot take a symbol's address) return exactly the two symbols.
        string disassembled = Run("objdump", "-d", "--no-show-raw-insn", elf).Output;
        foreach (var (accessor, expected) in new[] { ("aegis_rootfs_start_address", start), ("aegis_rootfs_end_address", start + (ulong)archive.Length) })
        {
            var match = System.Text.RegularExpressions.Regex.Match(disassembled,
                "<" + accessor + @">:\s+[0-9a-f]+:\s+lea\s+-?0x[0-9a-f]+\(%rip\),%rax\s+# ([0-9a-f]+)\b[^\n]*\n\s+[0-9a-f]+:\s+ret");
            Assert.That(match.Success, Is.True, accessor + " is lea SYMBOL(%rip), %rax; ret");
            Assert.That(Convert.ToUInt64(match.Groups[1].Value, 16), Is.EqualTo(expected), accessor + " returns its symbol's address");
        }
        Assert.That(flags, Is.EqualTo(4u), "the archive is in the read-only segment (PF_R only)");
        Assert.That(archive, Is.EqualTo(File.ReadAllBytes(IntermediateArchive(userImage: false))), "the embedded bytes are the packed archive");

        var entries = Ustar.WithoutPadding(Ustar.ReadTar(archive)).ToDictionary(e => e.Name.TrimEnd('/'));
        foreach (Ustar.Entry large in entries.Values.Where(e => e.Type == '0' && e.Size >= 4096))
            Assert.That((start + (ulong)large.DataOffset) % 4096, Is.Zero, $"{large.Name}'s data is page-aligned in the image (exec maps it: PageAlias)");
        Assert.That(entries["bin/busybox"].Type, Is.EqualTo('0'));
        Assert.That(entries["bin/busybox"].Size, Is.GreaterThan(1_000_000), "Debian's static busybox");
        foreach (string applet in new[] { "bin/sh", "bin/ls", "usr/bin/wc", "usr/bin/tr", "bin/ps", "usr/bin/free", "sbin/poweroff", "usr/bin/yes", "usr/bin/head" })
            Assert.That((entries[applet].Type, entries[applet].Link), Is.EqualTo(('2', "/bin/busybox")), applet);
        foreach (string file in Directory.GetFiles(Path.Combine(FrontDoor.RepositoryRoot, "rootfs"), "*", SearchOption.AllDirectories))
        {
            string name = Path.GetRelativePath(Path.Combine(FrontDoor.RepositoryRoot, "rootfs"), file);
            Assert.That(entries.ContainsKey(name), Is.True, $"rootfs/{name} is in the image at /{name}");
            Assert.That(entries[name].Size, Is.EqualTo(new FileInfo(file).Length), name);
        }
        Assert.That(Encoding.ASCII.GetString(archive), Does.Contain("root:x:0:0:root:/root:/bin/sh"), "etc/passwd's text");
        foreach (string program in LinuxPrograms.UsrBinNames)
            Assert.That(entries["usr/bin/" + program].Mode, Is.EqualTo(Convert.ToInt32("755", 8)), program);
        foreach (string program in LinuxPrograms.DifferentialNames())
            Assert.That(entries.ContainsKey("tests/" + program), Is.True, $"/tests/{program} is in the test image");
        // Every program of Tests/Linux is linked as its source asks (tools/rootfs/build-program.sh):
        // dynamically (PT_INTERP, position-independent) unless a line "// aegis-link: static" or
        // "static-pie" says otherwise.
        foreach (string source in Directory.GetFiles(LinuxPrograms.SourceDirectory, "*.c"))
        {
            string name = Path.GetFileNameWithoutExtension(source);
            string path = LinuxPrograms.UsrBinNames.Contains(name) ? "usr/bin/" + name : "tests/" + name;
            Assert.That(entries.ContainsKey(path), Is.True, $"/{path} (Tests/Linux/{name}.c) is in the test image");
            AssertLinkedAsItsSourceSays(name, archive[(int)entries[path].DataOffset..(int)(entries[path].DataOffset + entries[path].Size)]);
        }
        foreach (string directory in new[] { "tmp", "root", "dev", "proc", "etc" })
            Assert.That(entries[directory].Type, Is.EqualTo('5'), directory);

        // Nothing changed: nothing is repacked into the image, nothing relinked.
        DateTime linked = File.GetLastWriteTimeUtc(elf);
        var (exitCode, output) = Run("dotnet", "build", LinuxProject, "-c", "Release", "-nologo");
        Assert.That(exitCode, Is.EqualTo(0), () => "Apps/Linux did not build again:\n" + output);
        Assert.That(File.GetLastWriteTimeUtc(elf), Is.EqualTo(linked), "a build with nothing changed relinks the image");
    }

    private static unsafe void AssertLinkedAsItsSourceSays(string name, byte[] file)
    {
        Aegis.LibOS.Unixish.Linux.ElfCheck check;
        fixed (byte* data = file)
            check = Aegis.LibOS.Unixish.Linux.LinuxElf.Read(data, (ulong)file.Length);
        Assert.That(check.IsValid, Is.True, $"{name}: {check.Problem}");
        string mode = LinuxPrograms.LinkMode(name);
        Assert.That(mode, Is.AnyOf(null, "static", "static-pie"), $"{name}.c's aegis-link line");
        Assert.That(check.Program.Interpreter == null, Is.EqualTo(mode != null),
            $"{name}: {(mode == null ? "linked dynamically, it names the dynamic linker" : "linked " + mode + ", it names no dynamic linker")}");
        Assert.That(check.Program.IsPositionIndependent, Is.EqualTo(mode != "static"), $"{name}: position-independent unless linked static");
    }

    [Test]
    public void UserImageHasNoTestPrograms()
    {
        string elf = LinuxImage(userImage: true);
        var (archive, _, _) = Embedded(elf);
        var names = Ustar.ReadTar(archive).Select(e => e.Name).ToList();
        Assert.That(names, Does.Contain("usr/bin/linuxbench"), "the benchmark ships in the user image");
        Assert.That(names, Does.Contain("bin/busybox"));
        Assert.That(names.Where(name => name.StartsWith("tests", StringComparison.Ordinal)), Is.Empty, "no /tests in the user image");
        Assert.That(archive, Is.EqualTo(File.ReadAllBytes(IntermediateArchive(userImage: true))), "the embedded bytes are the user build's packed archive");
        Assert.That(File.ReadAllBytes(LinuxImage(userImage: false)).SequenceEqual(File.ReadAllBytes(elf)),
            Is.False, "the user image's app is written apart from the test image's");
    }
}
