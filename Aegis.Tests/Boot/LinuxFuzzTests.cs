// Boot test of the Linux-ABI fuzzer (issue #9, "a program that calls every syscall number 0-511
// with random arguments: clear errors, the libOS never corrupts itself silently, the kernel and
// other environments unharmed"). The shell is init; it runs /tests/fuzz (Tests/Linux/fuzz.c) with
// fixed seeds, then commands of its own. The verdict is taken from outside the fuzzer:
//   - the shell that started it (another environment) still runs commands afterwards: it prints
//     /etc/motd byte for byte as the repository's rootfs/etc/motd, and `ls /tests | wc -l` counts
//     the programs the root archive holds under tests/ (read here from the archive the build made);
//   - the machine ends with the shell's status (0: wc's), so the kernel neither panicked nor
//     ended early, and it printed no panic and no kernel fault;
//   - every line the Linux personality logged is one it may log: a call it does not serve
//     ("... is not implemented: -ENOSYS", once per process) or the report of a child that a
//     signal ended (kill(self, SIGSEGV) and rt_sigreturn with a garbage frame are fair calls).
//     Any other libOS line (an exception inside the libOS, "out of memory", ...) fails the test;
//   - in addition, the fuzzer's own findings (a result that is not a Linux errno, a forbidden
//     address not answered with EFAULT, a hang, a child whose libOS state broke) must be none,
//     and it must have made at least the calls it was asked for (a run that stopped early
//     proves nothing).
using System.Formats.Tar;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public class LinuxFuzzTests
{
    private const int TimeoutSeconds = 240;
    // Seeds that found bugs (1111: sendfile deaf to signals; 1717: a pipe read deaf to the alarm; 404: a
    // child that stops itself) stay here as their regression tests.
    private static readonly int[] Seeds = { 404, 1111, 1717 };
    private const int Rounds = 4, CallsPerNumber = 12;

    /// <summary>The numbers the fuzzer skips (fuzz.c's header): exit, exit_group, fork, vfork,
    /// clone, clone3, reboot.</summary>
    private const int SkippedNumbers = 7;

    /// <summary>The lines the personality may log while it is fuzzed (after "[ID linux] linux: ").</summary>
    private static readonly Regex AllowedLibOSLine = new(
        @"^(\S+ \(\d+\) is not implemented: -ENOSYS" +
        @"|([A-Za-z/ ]+|Signal \d+|Real-time signal \d+) \(SIG[A-Z0-9+]+\) in /tests/fuzz \(pid \d+\)( at rip 0x[0-9a-f]+, address 0x[0-9a-f]+ \([a-z ]+\))?" +
        @"|rt_sigreturn in /tests/fuzz \(pid \d+\) found no frame at 0x[0-9a-f]+: killed by SIGSEGV)$",
        RegexOptions.Compiled);

    private static readonly Regex LibOSLine = new(@"^\[[0-9a-f]+ linux\] linux: (.*)$", RegexOptions.Compiled);

    /// <summary>The root archive the build embedded into the linux image (Apps/Linux, tools/rootfs.targets).</summary>
    public static string RootArchivePath => Path.Combine(FrontDoor.RepositoryRoot, "Apps", "Linux", "obj", "Release", "net10.0", "aegis", "rootfs", "rootfs.tar");

    /// <summary>The archive's entries: name (without a leading "./" or "/") and entry.</summary>
    public static List<(string Name, TarEntryType Type, string Link)> RootArchiveEntries()
    {
        Assert.That(File.Exists(RootArchivePath), Is.True, $"the build made no root archive at {RootArchivePath}");
        var entries = new List<(string, TarEntryType, string)>();
        using var stream = File.OpenRead(RootArchivePath);
        using var reader = new TarReader(stream);
        for (TarEntry entry = reader.GetNextEntry(); entry != null; entry = reader.GetNextEntry())
            entries.Add((entry.Name.TrimStart('.').TrimStart('/'), entry.EntryType, entry.LinkName));
        return entries;
    }

    [Test]
    public void FuzzedPersonalityLeavesTheShellTheFilesAndTheKernelIntact()
    {
        string fuzz = "/tests/fuzz " + string.Join(" ", Seeds) + $" -r {Rounds} -n {CallsPerNumber}";
        string script = fuzz + "; echo \"fuzz status $?\"; echo after-fuzz; cat /etc/motd; echo motd-end; ls /tests | wc -l";
        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=/bin/sh", "-c", "'" + script + "'", "exit");

        // The machine ended with the shell's status: its last command, wc, succeeded.
        result.AssertExitStatus(0);
        Assert.That(result.Output, Does.Not.Match(@"(?i)kernel panic|PANIC"), () => result.Describe("the kernel panicked"));
        Assert.That(result.Output, Does.Not.Match(@"(?m)^Aegis: .*(fault in the kernel|kernel fault|double fault)"), () => result.Describe("the kernel reported a fault of its own"));

        // The shell, another environment, still works and sees the files intact.
        // The Linux environments' lines (the kernel's own, such as its reaping reports, left out).
        string[] lines = result.Lines.Select(line => Regex.Match(line, @"^\[[0-9a-f]+ linux\] (.*)$")).Where(m => m.Success).Select(m => m.Groups[1].Value).ToArray();
        int after = Array.IndexOf(lines, "after-fuzz");
        Assert.That(after, Is.GreaterThan(0), () => result.Describe("the shell did not go on after the fuzzer"));
        int motdEnd = Array.IndexOf(lines, "motd-end", after);
        Assert.That(motdEnd, Is.GreaterThan(after), () => result.Describe("cat /etc/motd did not end"));
        string[] motd = File.ReadAllText(Path.Combine(FrontDoor.RepositoryRoot, "rootfs", "etc", "motd")).Split('\n')[..^1];
        Assert.That(lines[(after + 1)..motdEnd], Is.EqualTo(motd), () => result.Describe("/etc/motd read after the fuzzing is not rootfs/etc/motd"));
        // What ls /tests lists: the names directly under tests/ (programs, and folders such as sqlite/).
        int tests = RootArchiveEntries().Where(e => e.Name.StartsWith("tests/", StringComparison.Ordinal) && e.Name.Length > 6)
            .Select(e => e.Name.Substring(6).Split('/')[0]).Where(name => name.Length > 0).Distinct().Count();
        Assert.That(tests, Is.GreaterThan(20), "the archive's tests/ folder");
        Assert.That(motdEnd + 1 < lines.Length ? lines[motdEnd + 1].Trim() : "", Is.EqualTo(tests.ToString()), () => result.Describe($"ls /tests | wc -l must count the {tests} entries of the root archive's tests/"));

        // The personality logged nothing but missing calls and children ended by signals.
        string[] unexpected = result.Lines.Select(line => LibOSLine.Match(line)).Where(m => m.Success && !AllowedLibOSLine.IsMatch(m.Groups[1].Value))
            .Select(m => m.Value).ToArray();
        Assert.That(unexpected, Is.Empty, () => result.Describe("the Linux personality logged lines other than missing calls and signal deaths"));

        // The fuzzer's own findings, and that it did the work.
        Assert.That(lines, Does.Contain("fuzz status 0"), () => result.Describe("the fuzzer reported anomalies (its ANOMALY/hang lines say which)"));
        Assert.That(result.Output, Does.Not.Contain("ANOMALY"), () => result.Describe("the fuzzer reported anomalies"));
        foreach (int seed in Seeds)
        {
            Match summary = result.AssertOutputMatches($@"fuzz: seed {seed}: (\d+) calls in (\d+) children.*hangs: 0; other exits: \d+; anomalies: 0");
            long calls = long.Parse(summary.Groups[1].Value);
            // Each child killed in a call skips the rest of that number's calls in its round.
            long children = long.Parse(summary.Groups[2].Value);
            long expected = (long)Rounds * (512 - SkippedNumbers) * CallsPerNumber - children * CallsPerNumber;
            Assert.That(calls, Is.GreaterThanOrEqualTo(expected), () => result.Describe($"seed {seed}: the fuzzer made {calls} calls, fewer than the {expected} it was asked for"));
        }
    }
}
