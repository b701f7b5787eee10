// The Linux test programs of Tests/Linux (C, built with the host's gcc exactly as the build puts
// them into the root file system: tools/rootfs/build-program.sh, dynamically linked against the
// C library unless the source asks for a static program) and how to run them on the host: shared by the
// host tests (LinuxProgramsOnTheHostTests) and the differential boot tests
// (Boot/LinuxDifferentialTests), which compare a host run with a run on Aegis.
// Guarantees: every program is compiled at most once per test run, into a private temporary
// folder, with the flags of tools/rootfs.targets (AegisRootfsCFlags, read from that file, so the
// host binary is the one the image holds); a host run is bounded in time, has a fixed, minimal
// environment, runs in "/" with no standard input, and captures standard output only (the
// programs never write to standard error).
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Aegis.Tests.Boot;
using NUnit.Framework;

namespace Aegis.Tests.Host;

/// <summary>What one host run of a Linux program did.</summary>
public sealed record LinuxProgramRun(int ExitCode, string Output)
{
    /// <summary>The output split into lines, without terminators and without a last empty line.</summary>
    public IReadOnlyList<string> Lines => LinuxPrograms.SplitLines(Output);
}

public static class LinuxPrograms
{
    /// <summary>The benchmark program: in the image as /usr/bin/linuxbench, not a differential program.</summary>
    public const string BenchmarkName = "linuxbench";
    /// <summary>Tests/Linux/smallfile.c: the small-file disk benchmark (/usr/bin/smallfile), not a differential program.</summary>
    public const string SmallFileBenchmarkName = "smallfile";
    /// <summary>Tests/Linux/workmeter.c: measures the machine's work over a window the host opens
    /// (./aegis bench's nginx set; /usr/bin/workmeter), not a differential program.</summary>
    public const string WorkMeterName = "workmeter";
    /// <summary>Tests/Linux/leanhttp.c: the lean epoll web server of the Linux comparison
    /// (/usr/bin/leanhttp; Boot/LinuxSocketBootTests checks it on Aegis), not a differential program.</summary>
    public const string LeanHttpName = "leanhttp";

    /// <summary>The programs of Tests/Linux that every image holds in /usr/bin (tools/rootfs.targets);
    /// the others are test programs in /tests of test images only.</summary>
    public static readonly HashSet<string> UsrBinNames = new HashSet<string> { BenchmarkName, SmallFileBenchmarkName, WorkMeterName, LeanHttpName };

    /// <summary>The Linux-ABI fuzzer (/tests/fuzz): never run on the host (random calls as the
    /// test user could damage it), checked from outside by Boot/LinuxFuzzTests.</summary>
    public const string FuzzerName = "fuzz";

    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(60);
    private static readonly object s_lock = new();
    private static readonly Dictionary<string, string> s_built = new();
    private static string s_buildDirectory;

    /// <summary>The arguments each program is started with (the same on the host and on Aegis);
    /// a program not listed gets none.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Arguments = new Dictionary<string, string[]>
    {
        ["hello"] = new[] { "one", "two words" },
    };

    public static string SourceDirectory => Path.Combine(FrontDoor.RepositoryRoot, "Tests", "Linux");

    /// <summary>Every differential program (Tests/Linux/NAME.c but those of /usr/bin and fuzz, and but core-* and
    /// signal-*: their own fixtures, LinuxCoreTests and LinuxSignalBootTests, compare them with the
    /// host in their own way; boot-*: programs whose output a boot test judges, not comparable with
    /// the host's), sorted by name.</summary>
    public static IReadOnlyList<string> DifferentialNames()
    {
        var names = Directory.GetFiles(SourceDirectory, "*.c")
            .Select(path => Path.GetFileNameWithoutExtension(path))
            .Where(name => !UsrBinNames.Contains(name) && name != FuzzerName && !name.StartsWith("core-", StringComparison.Ordinal) && !name.StartsWith("signal-", StringComparison.Ordinal)
                && !name.StartsWith("boot-", StringComparison.Ordinal))
            .ToList();
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    public static string[] ArgumentsOf(string name) => Arguments.TryGetValue(name, out string[] arguments) ? arguments : Array.Empty<string>();

    /// <summary>The script that compiles a program for the root file system (tools/rootfs.targets runs it).</summary>
    public static string BuildScript => Path.Combine(FrontDoor.RepositoryRoot, "tools", "rootfs", "build-program.sh");

    /// <summary>How Tests/Linux/NAME.c asks to be linked: "static" or "static-pie" (its line
    /// "// aegis-link: MODE"), or null: dynamically (tools/rootfs/build-program.sh).</summary>
    public static string LinkMode(string name)
    {
        Match match = Regex.Match(File.ReadAllText(Path.Combine(SourceDirectory, name + ".c")), @"(?m)^// aegis-link: ([a-z-]+)[ \t]*$");
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>The C flags the build uses (tools/rootfs.targets, property AegisRootfsCFlags).</summary>
    public static string CFlags()
    {
        string targets = File.ReadAllText(Path.Combine(FrontDoor.RepositoryRoot, "tools", "rootfs.targets"));
        Match match = Regex.Match(targets, @"<AegisRootfsCFlags[^>]*>([^<]+)</AegisRootfsCFlags>");
        Assert.That(match.Success, Is.True, "tools/rootfs.targets has no AegisRootfsCFlags");
        return match.Groups[1].Value.Trim();
    }

    /// <summary>Builds Tests/Linux/NAME.c with the build's flags (once per test run) and returns the binary's path.</summary>
    public static string Build(string name)
    {
        lock (s_lock)
        {
            if (s_built.TryGetValue(name, out string built))
                return built;
            s_buildDirectory ??= Directory.CreateTempSubdirectory("aegis-linux-programs-").FullName;
            string output = Path.Combine(s_buildDirectory, name);
            string source = Path.Combine(SourceDirectory, name + ".c");
            // As tools/rootfs.targets: the build's script and flags (linked dynamically unless the
            // source's "// aegis-link:" line asks for static or static-pie).
            var arguments = new List<string> { BuildScript, output, source };
            arguments.AddRange(CFlags().Split(' ', StringSplitOptions.RemoveEmptyEntries));
            (int exitCode, string text) = Execute("bash", arguments, TimeSpan.FromMinutes(2), environment: null);
            Assert.That(exitCode, Is.EqualTo(0), () => $"bash {string.Join(' ', arguments)} failed:\n{text}");
            s_built[name] = output;
            return output;
        }
    }

    /// <summary>Runs the built program on the host with its arguments (or the given ones).</summary>
    public static LinuxProgramRun RunOnHost(string name, params string[] arguments)
    {
        string path = Build(name);
        string[] used = arguments.Length > 0 ? arguments : ArgumentsOf(name);
        var environment = new Dictionary<string, string> { ["PATH"] = "/bin:/sbin:/usr/bin:/usr/sbin", ["HOME"] = "/root" };
        (int exitCode, string output) = Execute(path, used, RunLimit, environment, stdoutOnly: true);
        return new LinuxProgramRun(exitCode, output);
    }

    public static IReadOnlyList<string> SplitLines(string text)
    {
        var lines = text.Replace("\r", "").Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0)
            lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    private static (int ExitCode, string Output) Execute(string file, IEnumerable<string> arguments, TimeSpan limit,
                                                        Dictionary<string, string> environment, bool stdoutOnly = false)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = environment != null ? "/" : FrontDoor.RepositoryRoot,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        if (environment != null)
        {
            start.Environment.Clear();
            foreach (var pair in environment)
                start.Environment[pair.Key] = pair.Value;
        }
        var output = new StringBuilder();
        var errors = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (errors) errors.Append(e.Data).Append('\n'); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit((int)limit.TotalMilliseconds))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', arguments)} did not end within {limit.TotalSeconds} s; it printed:\n{output}{errors}");
        }
        process.WaitForExit();
        lock (output)
            lock (errors)
                return (process.ExitCode, stdoutOnly ? output.ToString() + (errors.Length > 0 ? "[stderr] " + errors : "") : output.ToString() + errors);
    }
}
