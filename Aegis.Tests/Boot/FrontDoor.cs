// Runs the front door (./aegis at the repository root) from tests and captures what it prints.
// Boot tests go through it rather than starting QEMU themselves: ./aegis is the only place
// that knows QEMU's command line.
// Invariants: every call is bounded in time (the script's own --timeout, plus a hard limit
// after which the whole process tree, QEMU included, is killed); the kernel ISO is built at
// most once per test run, and not at all when AEGIS_NO_BUILD=1 (./aegis test builds it first).
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

/// <summary>What one ./aegis invocation did: its exit status and its stdout and stderr, interleaved.</summary>
public sealed class FrontDoorResult
{
    public FrontDoorResult(string commandLine, int exitCode, string output, bool killed)
    {
        CommandLine = commandLine;
        ExitCode = exitCode;
        Output = output;
        Killed = killed;
    }

    public string CommandLine { get; }
    public int ExitCode { get; }
    public string Output { get; }

    /// <summary>True when the script did not end within the hard limit and was killed.</summary>
    public bool Killed { get; }

    /// <summary>The output split into lines, without line terminators.</summary>
    public IReadOnlyList<string> Lines => Output.Split('\n').Select(line => line.TrimEnd('\r')).ToList();

    /// <summary>A failure message: what was expected, then the command, its status and everything it printed.</summary>
    public string Describe(string expectation)
    {
        var text = new StringBuilder();
        text.AppendLine(expectation);
        text.AppendLine($"command: {CommandLine}");
        text.AppendLine(Killed ? "status: killed (no exit within the hard limit)" : $"status: {ExitCode}");
        text.AppendLine("output:");
        text.Append(Output);
        return text.ToString();
    }

    public void AssertExitStatus(int expected)
    {
        Assert.That(ExitCode, Is.EqualTo(expected), () => Describe($"expected exit status {expected}{FrontDoor.StatusMeaning(expected)}, got {ExitCode}{FrontDoor.StatusMeaning(ExitCode)}"));
    }

    public void AssertOutputContains(string expected, StringComparison comparison = StringComparison.Ordinal)
    {
        Assert.That(Output.Contains(expected, comparison), Is.True, () => Describe($"expected the output to contain '{expected}'"));
    }

    public Match AssertOutputMatches(string pattern, RegexOptions options = RegexOptions.None)
    {
        Match match = Regex.Match(Output, pattern, options);
        Assert.That(match.Success, Is.True, () => Describe($"expected the output to match /{pattern}/"));
        return match;
    }
}

public static class FrontDoor
{
    /// <summary>debugfs -R COMMAND on the extent rootfs of a disk image (1 MiB in, where `./aegis
    /// disk create` puts it): its standard output.</summary>
    public static string Debugfs(string image, string command)
    {
        var start = new ProcessStartInfo("debugfs", new[] { "-R", command, image + "?offset=1048576" })
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["PATH"] = Environment.GetEnvironmentVariable("PATH") + ":/usr/sbin:/sbin";
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    /// <summary>Extra time a call may take beyond the time limit it passes to ./aegis.</summary>
    private static readonly TimeSpan HardLimitMargin = TimeSpan.FromSeconds(60);

    /// <summary>How long building the ISO may take (a clean build on 2 cores takes about a minute).</summary>
    private static readonly TimeSpan BuildLimit = TimeSpan.FromMinutes(15);

    private static readonly Lazy<string> s_repositoryRoot = new(FindRepositoryRoot);
    private static readonly Lazy<FrontDoorResult> s_isoBuild = new(BuildIsoOnce);
    private static readonly Lazy<UserIsoBuild> s_userIsoBuild = new(BuildUserIsoOnce);

    /// <summary>The image a user runs (`./aegis iso --without-tests`), apart from the test image.</summary>
    public const string UserIso = "artifacts/aegis-user.iso";

    /// <summary>The user image's build, and whether the test image's ISO kept its time stamp.</summary>
    public sealed record UserIsoBuild(FrontDoorResult Build, bool LeftTestIsoAlone);

    /// <summary>Builds the user image once for every test that looks at it (UserImageTests boots it,
    /// LinuxRootfsBuildTests reads its linux.elf): a build of every app without the test suites
    /// takes a minute or more.</summary>
    public static UserIsoBuild EnsureUserIsoBuilt() => s_userIsoBuild.Value;

    private static UserIsoBuild BuildUserIsoOnce()
    {
        string testIso = Path.Combine(RepositoryRoot, "artifacts", "aegis.iso");
        DateTime before = File.Exists(testIso) ? File.GetLastWriteTimeUtc(testIso) : DateTime.MinValue;
        FrontDoorResult build = Run(BuildLimit, "iso", "--without-tests");
        DateTime after = File.Exists(testIso) ? File.GetLastWriteTimeUtc(testIso) : DateTime.MinValue;
        return new UserIsoBuild(build, before == after);
    }

    // ANSI control sequences (GRUB and OVMF clear the screen on the serial line).
    private static readonly Regex s_terminalControl = new(@"\x1B(\[[0-9;=?]*[A-Za-z]|[()][0-9A-Za-z])", RegexOptions.Compiled);

    public static string RepositoryRoot => s_repositoryRoot.Value;

    public static string ScriptPath => Path.Combine(RepositoryRoot, "aegis");

    /// <summary>The meaning of a front-door exit status, for failure messages.</summary>
    public static string StatusMeaning(int status) => status switch
    {
        0 => " (success)",
        1 => " (test failure or front-door error)",
        2 => " (usage error, or init could not be started)",
        3 => " (GRUB could not start the kernel)",
        99 => " (init was destroyed, or its status collides with a front-door status)",
        100 => " (kernel panic)",
        124 => " (timeout)",
        125 => " (guest reset or powered off without a status: triple fault?)",
        126 => " (QEMU failed)",
        _ => "",
    };

    /// <summary>Boots the ISO headless under BIOS with the given kernel arguments.</summary>
    public static FrontDoorResult Boot(int timeoutSeconds, params string[] kernelArguments) =>
        Boot(uefi: false, timeoutSeconds, kernelArguments);

    /// <summary>Boots the ISO headless, under UEFI (OVMF) when asked, with the given kernel arguments.</summary>
    public static FrontDoorResult Boot(bool uefi, int timeoutSeconds, params string[] kernelArguments)
    {
        EnsureIsoBuilt();
        var arguments = new List<string> { "run", "--headless", "--no-build", "--timeout", timeoutSeconds.ToString() };
        if (uefi)
            arguments.Add("--uefi");
        if (kernelArguments.Length > 0)
        {
            arguments.Add("--");
            arguments.AddRange(kernelArguments);
        }
        return Run(TimeSpan.FromSeconds(timeoutSeconds), arguments.ToArray());
    }

    private static readonly Dictionary<string, Lazy<FrontDoorResult>> s_sharedBoots = new();

    /// <summary>As Boot, but a boot with the same arguments runs once per test run and every
    /// caller gets its result: for tests that each check a different behaviour of the same
    /// boot (e.g. "test=runtime": the runtime suite passes, and the kernel's text is UTF-8).
    /// Only for boots whose output does not depend on anything else (no disk, no input).</summary>
    public static FrontDoorResult BootShared(int timeoutSeconds, params string[] kernelArguments)
    {
        EnsureIsoBuilt();
        string key = timeoutSeconds + "\0" + string.Join("\0", kernelArguments);
        Lazy<FrontDoorResult> boot;
        lock (s_sharedBoots)
        {
            if (!s_sharedBoots.TryGetValue(key, out boot))
                s_sharedBoots[key] = boot = new Lazy<FrontDoorResult>(() => Boot(timeoutSeconds, kernelArguments));
        }
        return boot.Value;
    }

    /// <summary>Boots the ISO headless under BIOS with the raw image 'disk' attached to a PCI storage
    /// controller ('controller': virtio or ahci; ./aegis run --disk FILE --disk-bus C).</summary>
    public static FrontDoorResult BootWithDisk(string disk, string controller, int timeoutSeconds, params string[] kernelArguments)
        => BootWithDisk(disk, controller, -1, timeoutSeconds, kernelArguments);

    /// <summary>As BootWithDisk; when readErrorSector is not negative, the first read of the disk
    /// that touches that sector fails in QEMU (./aegis run --disk-read-error SECTOR).</summary>
    public static FrontDoorResult BootWithDisk(string disk, string controller, long readErrorSector, int timeoutSeconds, params string[] kernelArguments)
    {
        EnsureIsoBuilt();
        var arguments = new List<string> { "run", "--headless", "--no-build", "--timeout", timeoutSeconds.ToString(),
            "--disk", disk, "--disk-bus", controller };
        if (readErrorSector >= 0)
            arguments.AddRange(new[] { "--disk-read-error", readErrorSector.ToString() });
        arguments.Add("--");
        arguments.AddRange(kernelArguments);
        return Run(TimeSpan.FromSeconds(timeoutSeconds), arguments.ToArray());
    }

    /// <summary>Boots the ISO headless under BIOS with a network card on QEMU's user network
    /// (./aegis run --nic MODEL: e1000, e1000-82545em, e1000-82544gc, e1000e, virtio, rtl8139, none).</summary>
    public static FrontDoorResult BootWithNic(string nic, int timeoutSeconds, params string[] kernelArguments)
    {
        EnsureIsoBuilt();
        var arguments = new List<string> { "run", "--headless", "--no-build", "--timeout", timeoutSeconds.ToString(), "--nic", nic, "--" };
        arguments.AddRange(kernelArguments);
        return Run(TimeSpan.FromSeconds(timeoutSeconds), arguments.ToArray());
    }

    /// <summary>Boots the ISO headless under BIOS with 'input' on the serial console's stdin (COM1's
    /// receiver), then end of input.</summary>
    public static FrontDoorResult BootWithInput(string input, int timeoutSeconds, params string[] kernelArguments)
    {
        EnsureIsoBuilt();
        var arguments = new List<string> { "run", "--headless", "--no-build", "--timeout", timeoutSeconds.ToString(), "--" };
        arguments.AddRange(kernelArguments);
        return RunWithInput(TimeSpan.FromSeconds(timeoutSeconds), input, arguments.ToArray());
    }

    /// <summary>Runs the scripted gdb session (./aegis debug --batch) on the built ISO.</summary>
    public static FrontDoorResult DebugBatch(int timeoutSeconds)
    {
        EnsureIsoBuilt();
        return Run(TimeSpan.FromSeconds(timeoutSeconds), "debug", "--batch", "--no-build", "--timeout", timeoutSeconds.ToString());
    }

    /// <summary>Builds the ISO once per test run (unless AEGIS_NO_BUILD=1); fails the calling test if it does not build.</summary>
    public static void EnsureIsoBuilt()
    {
        FrontDoorResult build = s_isoBuild.Value;
        if (build != null && build.ExitCode != 0)
            Assert.Fail(build.Describe("the kernel ISO did not build, so it cannot boot"));
    }

    /// <summary>Runs ./aegis with the given arguments, headless and with no stdin, and waits for it
    /// at most <paramref name="limit"/> plus a margin; then the whole process tree is killed.</summary>
    public static FrontDoorResult Run(TimeSpan limit, params string[] arguments) => RunWithInput(limit, null, arguments);

    /// <summary>As Run, with 'input' (null: none) written to the script's stdin before it is closed.</summary>
    public static FrontDoorResult RunWithInput(TimeSpan limit, string input, params string[] arguments) =>
        RunInteracting(limit, input, null, arguments);

    /// <summary>Boots the ISO headless with QEMU's monitor on a fresh Unix socket (./aegis run
    /// --monitor) and, while the machine runs, calls 'interact' with a monitor client connected to
    /// it and a function returning the output so far; then waits for the end as Boot does.</summary>
    public static FrontDoorResult BootWithMonitor(int timeoutSeconds, Action<QemuMonitor, Func<string>> interact, params string[] kernelArguments)
    {
        EnsureIsoBuilt();
        string directory = Directory.CreateTempSubdirectory("aegis-monitor").FullName;
        string socket = Path.Combine(directory, "monitor.sock");
        try
        {
            var arguments = new List<string> { "run", "--headless", "--no-build", "--timeout", timeoutSeconds.ToString(), "--monitor", socket };
            if (kernelArguments.Length > 0)
            {
                arguments.Add("--");
                arguments.AddRange(kernelArguments);
            }
            return RunInteracting(TimeSpan.FromSeconds(timeoutSeconds), null, outputSoFar =>
            {
                using QemuMonitor monitor = QemuMonitor.Connect(socket, TimeSpan.FromSeconds(60));
                MachineState.OnFailure(monitor, () => interact(monitor, outputSoFar));
            }, arguments.ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>./aegis run --headless --timeout T --monitor SOCKET followed by 'runOptions' (e.g.
    /// --iso FILE), calling 'interact' as BootWithMonitor does.</summary>
    public static FrontDoorResult RunWithMonitor(int timeoutSeconds, Action<QemuMonitor, Func<string>> interact, params string[] runOptions)
    {
        string directory = Directory.CreateTempSubdirectory("aegis-monitor").FullName;
        string socket = Path.Combine(directory, "monitor.sock");
        try
        {
            var arguments = new List<string> { "run", "--headless", "--timeout", timeoutSeconds.ToString(), "--monitor", socket };
            arguments.AddRange(runOptions);
            return RunInteracting(TimeSpan.FromSeconds(timeoutSeconds), null, outputSoFar =>
            {
                using QemuMonitor monitor = QemuMonitor.Connect(socket, TimeSpan.FromSeconds(60));
                MachineState.OnFailure(monitor, () => interact(monitor, outputSoFar));
            }, arguments.ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>As BootWithMonitor, with the image 'disk' attached on 'controller' (virtio or ahci).</summary>
    public static FrontDoorResult BootWithDiskAndMonitor(string disk, string controller, int timeoutSeconds,
        Action<QemuMonitor, Func<string>> interact, params string[] kernelArguments)
    {
        EnsureIsoBuilt();
        string directory = Directory.CreateTempSubdirectory("aegis-monitor").FullName;
        string socket = Path.Combine(directory, "monitor.sock");
        try
        {
            var arguments = new List<string> { "run", "--headless", "--no-build", "--timeout", timeoutSeconds.ToString(), "--monitor", socket,
                "--disk", disk, "--disk-bus", controller, "--" };
            arguments.AddRange(kernelArguments);
            return RunInteracting(TimeSpan.FromSeconds(timeoutSeconds), null, outputSoFar =>
            {
                using QemuMonitor monitor = QemuMonitor.Connect(socket, TimeSpan.FromSeconds(60));
                MachineState.OnFailure(monitor, () => interact(monitor, outputSoFar));
            }, arguments.ToArray());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>As BootWithInput, but the input goes to the guest only once the output shows
    /// 'marker' (e.g. "as init"): bytes sent while GRUB still sets COM1 up can be lost (its reset
    /// of the receiver drops what the UART holds, up to its FIFO), so a test that needs every byte
    /// waits for the kernel, which keeps what arrives after it took the UART over.</summary>
    public static FrontDoorResult BootWithInputAfter(string marker, string input, int timeoutSeconds, params string[] kernelArguments)
    {
        EnsureIsoBuilt();
        var arguments = new List<string> { "run", "--headless", "--no-build", "--timeout", timeoutSeconds.ToString(), "--" };
        arguments.AddRange(kernelArguments);
        return RunInteracting(TimeSpan.FromSeconds(timeoutSeconds), null, null, arguments.ToArray(), (marker, input));
    }

    /// <summary>Boots the ISO headless under BIOS and, once the output shows 'marker' and 'grace'
    /// has passed, sends QEMU SIGINT, as Ctrl-C on the serial console's terminal does (./aegis
    /// then exits 130, "QEMU was stopped by a signal", if QEMU was still running). Fails the test
    /// if the marker does not show within the time limit.</summary>
    public static FrontDoorResult BootAndInterruptAfter(string marker, TimeSpan grace, int timeoutSeconds, params string[] kernelArguments)
    {
        EnsureIsoBuilt();
        var arguments = new List<string> { "run", "--headless", "--no-build", "--timeout", timeoutSeconds.ToString(), "--" };
        arguments.AddRange(kernelArguments);
        var limit = TimeSpan.FromSeconds(timeoutSeconds);
        return RunInteracting(limit, null, (script, outputSoFar) =>
        {
            var waited = Stopwatch.StartNew();
            while (!outputSoFar().Contains(marker))
            {
                if (waited.Elapsed > limit || script.HasExited)
                    Assert.Fail($"'{marker}' did not show within {limit.TotalSeconds} s; the output so far:\n{outputSoFar()}");
                Thread.Sleep(50);
            }
            Thread.Sleep(grace);
            int qemu = DescendantNamed(script.Id, "qemu-system-x86");
            Assert.That(qemu, Is.GreaterThan(0), () => $"no QEMU under ./aegis {grace.TotalSeconds} s after '{marker}'; the output so far:\n{outputSoFar()}");
            using var kill = Process.Start("kill", new[] { "-INT", qemu.ToString() })!;
            kill.WaitForExit();
            Assert.That(kill.ExitCode, Is.Zero, "kill -INT QEMU failed");
        }, arguments.ToArray(), (null, null));
    }

    /// <summary>The first process below 'root' (any depth) whose name (/proc/PID/comm, at most 15
    /// characters) is 'name'; 0 if none.</summary>
    private static int DescendantNamed(int root, string name)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (string directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid))
                continue;
            try
            {
                string stat = File.ReadAllText(Path.Combine(directory, "stat"));
                // pid (comm) state ppid ...: the name may hold spaces and parentheses.
                string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                int parent = int.Parse(fields[1]);
                if (!children.TryGetValue(parent, out List<int> list))
                    children[parent] = list = new List<int>();
                list.Add(pid);
            }
            catch (IOException) { } // the process ended while being read
            catch (UnauthorizedAccessException) { }
        }
        var queue = new Queue<int>(children.GetValueOrDefault(root) ?? new List<int>());
        while (queue.Count > 0)
        {
            int pid = queue.Dequeue();
            try
            {
                if (File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n') == name)
                    return pid;
            }
            catch (IOException) { }
            foreach (int child in children.GetValueOrDefault(pid) ?? new List<int>())
                queue.Enqueue(child);
        }
        return 0;
    }

    /// <summary>Runs ./aegis; 'input' (null: none) goes to its stdin, which is then closed; 'during'
    /// (null: nothing) runs once the script has started, with a function returning the output so far.
    /// An exception from 'during' ends the run (the process tree is killed) and is rethrown.</summary>
    private static FrontDoorResult RunInteracting(TimeSpan limit, string input, Action<Func<string>> during, params string[] arguments)
        => RunInteracting(limit, input, during == null ? null : (_, outputSoFar) => during(outputSoFar), arguments, (null, null));

    /// <summary>As above; with a 'late' (marker, text), stdin stays open until the output shows the
    /// marker, then gets the text and is closed (at the limit, closed without it).</summary>
    private static FrontDoorResult RunInteracting(TimeSpan limit, string input, Action<Process, Func<string>> during, string[] arguments, (string Marker, string Text) late)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ScriptPath);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        // No window, whatever the machine running the tests has.
        start.Environment.Remove("DISPLAY");
        start.Environment.Remove("WAYLAND_DISPLAY");
        // No default disk (artifacts/disk.img): a test that wants a disk names its own, so no test
        // sees another's files (./aegis run's AEGIS_DISK; docs/front-door.md).
        start.Environment["AEGIS_DISK"] = "none";

        string commandLine = "./aegis " + string.Join(" ", arguments);
        var output = new StringBuilder();
        void Append(string line)
        {
            if (line == null) return;
            lock (output) output.Append(line).Append('\n');
        }

        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        if (input != null)
            process.StandardInput.Write(input);
        if (late.Marker == null)
            process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (late.Marker != null)
        {
            var waited = Stopwatch.StartNew();
            bool seen = false;
            while (!seen && waited.Elapsed < limit && !process.HasExited)
            {
                lock (output) seen = output.ToString().Contains(late.Marker);
                if (!seen) Thread.Sleep(50);
            }
            try
            {
                if (seen) process.StandardInput.Write(late.Text);
                process.StandardInput.Close();
            }
            catch (IOException) { } // the script ended first: its output says why
        }

        if (during != null)
        {
            try
            {
                during(process, () => { lock (output) return s_terminalControl.Replace(output.ToString(), ""); });
            }
            catch
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                throw;
            }
        }

        bool killed = false;
        if (!process.WaitForExit(limit + HardLimitMargin))
        {
            killed = true;
            process.Kill(entireProcessTree: true);
        }
        process.WaitForExit(); // drains the redirected streams

        string text;
        lock (output) text = s_terminalControl.Replace(output.ToString(), "");
        return new FrontDoorResult(commandLine, killed ? -1 : process.ExitCode, text, killed);
    }

    private static FrontDoorResult BuildIsoOnce()
    {
        if (Environment.GetEnvironmentVariable("AEGIS_NO_BUILD") == "1")
            return null;
        return Run(BuildLimit, "iso");
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory != null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "aegis")) && File.Exists(Path.Combine(directory.FullName, "Aegis.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"no directory above {AppContext.BaseDirectory} holds the ./aegis script");
    }
}
