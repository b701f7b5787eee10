// Boot tests of Debian's nginx (issue #12), unmodified, in the root file system with its libraries
// (tools/packages.sha256: nginx, libssl3, libpcre2-8-0, libcrypt1) and the image's configuration
// (rootfs/etc/nginx/nginx.conf) and test documents (rootfs/srv/www, /srv/make-10m.sh). The verdict
// is what the same binary prints on this host (unpacked from the same cached .deb files), and
// bytes the test computes itself, never a line the guest prints about itself.
// One boot serves every test here (FrontDoor.BootShared): the command line (at most 255 bytes)
// runs nginx -v, nginx -t, lists the temporary directories nginx -t made, then makes the 10 MiB
// document and prints the sha256 of every document.
// nginx -t binds the listening sockets too (the Linux personality's sockets: docs/libos-unixish.md,
// "Sockets"; without a card the stack has its loopback, and 0.0.0.0:80 binds as on Linux).
// Serving: LinuxNginxServingTests.
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Aegis.Tests.Host;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public class LinuxNginxTests
{
    private const int TimeoutSeconds = 180;
    private const string Script =
        "nginx -v; echo status $?; nginx -t; echo status $?; stat -c %a:%n /tmp/nginx-*; /srv/make-10m.sh && sha256sum /srv/www/*.txt; echo status $?";
    private static readonly string[] Packages = { "nginx", "libssl3", "libpcre2-8-0", "libcrypt1" };
    private static readonly string[] TemporaryDirectories = { "client-body", "fastcgi", "proxy", "scgi", "uwsgi" };
    private const string GuestConfiguration = "/etc/nginx/nginx.conf";

    private static FrontDoorResult Boot() => FrontDoor.BootShared(TimeoutSeconds, "init=/bin/sh", "-c", "'" + Script + "'", "exit");

    /// <summary>The guest's lines from the one starting with start (inclusive) to the next "status N" (inclusive).</summary>
    private static string[] Section(FrontDoorResult result, Func<string, bool> start, int occurrence)
    {
        string[] lines = LinuxBootRuns.OwnLines(result);
        var sections = new List<string[]>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (!start(lines[i])) continue;
            int end = Array.FindIndex(lines, i, line => line.StartsWith("status ", StringComparison.Ordinal));
            Assert.That(end, Is.GreaterThanOrEqualTo(0), () => result.Describe("no 'status N' line after " + lines[i]));
            sections.Add(lines[i..(end + 1)]);
            i = end;
        }
        Assert.That(sections.Count, Is.GreaterThan(occurrence), () => result.Describe("the script's output is incomplete"));
        return sections[occurrence];
    }

    /// <summary>nginx -v prints what the same binary prints on this host (nginx/1.22.1), status 0.</summary>
    [Test]
    public void NginxPrintsTheVersionItPrintsOnLinux()
    {
        (int status, string[] host) = RunOnHost("-v");
        Assert.That(host, Is.EqualTo(new[] { "nginx version: nginx/1.22.1" }), "the host's nginx -v");
        Assert.That(status, Is.Zero);

        FrontDoorResult result = Boot();
        string[] aegis = Section(result, line => line.StartsWith("nginx version:", StringComparison.Ordinal), 0);
        Assert.That(aegis, Is.EqualTo(host.Append("status 0")), () => result.Describe("nginx -v on Aegis"));
        result.AssertExitStatus(0);
    }

    /// <summary>nginx -t reads /etc/nginx/nginx.conf, finds its syntax ok, makes its five temporary
    /// directories in /tmp (mode 0700), binds and listens on its listening socket and reports the
    /// test successful: the same lines as the same binary on this host with the same file, status 0.</summary>
    [Test]
    public void NginxTestFindsTheConfigurationGoodAsOnLinux()
    {
        (int status, string[] host) = RunOnHost("-t");
        Assert.That(host, Is.EqualTo(new[]
        {
            $"nginx: the configuration file {GuestConfiguration} syntax is ok",
            $"nginx: configuration file {GuestConfiguration} test is successful",
        }), "the host's nginx -t with the image's configuration");
        Assert.That(status, Is.Zero);

        FrontDoorResult result = Boot();
        string[] aegis = Section(result, line => line.StartsWith("nginx: ", StringComparison.Ordinal), 0);
        Assert.That(aegis, Is.EqualTo(host.Append("status 0")), () => result.Describe("nginx -t on Aegis: the host's lines"));
        string[] directories = LinuxBootRuns.OwnLines(result).Where(line => line.StartsWith("700:/tmp/nginx-", StringComparison.Ordinal)).ToArray();
        Assert.That(directories, Is.EqualTo(TemporaryDirectories.Select(name => "700:/tmp/nginx-" + name)),
            () => result.Describe("nginx -t made its temporary directories, mode 0700"));
    }

    /// <summary>/srv/make-10m.sh makes /srv/www/10m.txt in the guest, and every test document
    /// (1k.txt and 64k.txt from the archive, 10m.txt made at boot) holds exactly its numbered lines
    /// of 64 bytes: the sha256 busybox prints is that of the bytes this test makes.</summary>
    [Test]
    public void TheTestDocumentsHoldTheirNumberedLines()
    {
        FrontDoorResult result = Boot();
        string[] aegis = Section(result, line => line.EndsWith(" /srv/www/10m.txt", StringComparison.Ordinal), 0);
        Assert.That(aegis, Is.EqualTo(new[]
        {
            Sha256OfLines(163_840) + "  /srv/www/10m.txt",
            Sha256OfLines(16) + "  /srv/www/1k.txt",
            Sha256OfLines(1_024) + "  /srv/www/64k.txt",
            "status 0",
        }), () => result.Describe("the test documents' sha256"));
        result.AssertExitStatus(0);
    }

    /// <summary>The documents' content (docs/network.md, "nginx"): line N is N in ten digits and a
    /// fixed text, 64 bytes with its newline.</summary>
    private static string Sha256OfLines(int count)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(HostNetwork.NumberedLines(count));
        Assert.That(bytes.Length, Is.EqualTo(count * 64));
        return Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
    }

    /// <summary>The image's nginx binary on this host: the cached .deb files of Packages unpacked
    /// into a directory of their own, run with their libraries (libc and zlib are the host's, the
    /// versions the image has). With -t it reads a copy of rootfs/etc/nginx/nginx.conf whose /tmp
    /// paths are in that directory and whose port is a Unix socket there (nothing of the host's is
    /// touched, and no root needed to bind); the copy's path is written back as /etc/nginx/nginx.conf.
    /// Returns the status and the lines (stderr, where nginx writes them).</summary>
    private static (int Status, string[] Lines) RunOnHost(string option)
    {
        string directory = Directory.CreateTempSubdirectory("aegis-nginx-").FullName;
        try
        {
            foreach (string package in Packages)
                Execute("dpkg-deb", "-x", CachedPackage(package), directory);
            string configuration = Path.Combine(directory, "nginx.conf");
            string text = File.ReadAllText(Path.Combine(FrontDoor.RepositoryRoot, "rootfs", "etc", "nginx", "nginx.conf"));
            Assert.That(text, Does.Contain("listen 80;"));
            text = text.Replace("/tmp/", directory + "/").Replace("listen 80;", $"listen unix:{directory}/http.sock;");
            File.WriteAllText(configuration, text);

            var start = new ProcessStartInfo(Path.Combine(directory, "usr/sbin/nginx"))
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.ArgumentList.Add(option);
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(configuration);
            start.Environment["LD_LIBRARY_PATH"] = $"{directory}/usr/lib/x86_64-linux-gnu:{directory}/lib/x86_64-linux-gnu";
            using Process process = Process.Start(start)!;
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            string errors = process.StandardError.ReadToEnd();
            Assert.That(process.WaitForExit(60_000), Is.True, "nginx ended on the host");
            string[] lines = LinuxPrograms.SplitLines(output.Result + errors)
                .Select(line => line.Replace(configuration, GuestConfiguration))
                // Only as a user other than root: Aegis's one user is root, as this check's usual one.
                .Where(line => !line.Contains("the \"user\" directive makes sense only if the master process runs with super-user privileges"))
                .ToArray();
            return (process.ExitCode, lines);
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    /// <summary>artifacts/packages/NAME_VERSION_ARCH.deb (an epoch's ':' written '_'), as
    /// tools/rootfs/fetch-packages.sh caches the version tools/packages.sha256 pins.</summary>
    private static string CachedPackage(string name)
    {
        string[] fields = File.ReadLines(Path.Combine(FrontDoor.RepositoryRoot, "tools", "packages.sha256"))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Single(parts => parts.Length == 4 && parts[0] == name);
        string path = Path.Combine(FrontDoor.RepositoryRoot, "artifacts", "packages", $"{name}_{fields[1].Replace(':', '_')}_{fields[2]}.deb");
        Assert.That(File.Exists(path), Is.True, path + " is cached by the image's build (./aegis iso)");
        return path;
    }

    private static void Execute(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        Assert.That(process.WaitForExit(60_000), Is.True, $"{file} ended");
        Assert.That(process.ExitCode, Is.Zero, () => $"{file} {string.Join(' ', arguments)}:\n{output}");
    }
}
