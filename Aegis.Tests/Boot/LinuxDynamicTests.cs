// Boot tests of dynamically linked Debian programs (issue #10): the loader maps PT_INTERP's
// dynamic linker (Debian's ld-linux-x86-64.so.2), which maps the libraries from the root file
// system with file-backed mmap. The verdict is the program's output compared with the same
// program run on this host (Debian's same package versions: tools/packages.sha256 pins what the
// image holds), never a line the guest prints about itself.
using System.Diagnostics;
using Aegis.Tests.Host;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public class LinuxDynamicTests
{
    private const int TimeoutSeconds = 150;
    private static readonly string ScriptDirectory = Path.Combine(FrontDoor.RepositoryRoot, "Tests", "Linux", "sqlite");

    /// <summary>Debian's sqlite3 CLI (with libsqlite3, libreadline, libtinfo, zlib and libc) in two
    /// processes: the first creates /tmp/t.db (Tests/Linux/sqlite/create.sql), the second reads it
    /// back, rolls a transaction back, formats floats, runs a recursive CTE, json and dates
    /// (query.sql). Both print what the host's sqlite3 prints for the same scripts.</summary>
    [Test]
    public void SqliteCreatesAndQueriesADatabaseAsOnLinux()
    {
        const string Script = "sqlite3 /tmp/t.db < /tests/sqlite/create.sql && sqlite3 /tmp/t.db < /tests/sqlite/query.sql; echo status $?";
        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=/bin/sh", "-c", "'" + Script + "'", "exit");
        string[] aegis = LinuxBootRuns.OwnLines(result);

        string[] host = RunOnHost();
        Assert.That(host, Does.Contain("items|4|4.50"), "the host's sqlite3 ran the scripts");
        Assert.That(aegis, Is.EqualTo(host), () => result.Describe("sqlite3 printed on Aegis what it did not print on this host:\n" + string.Join("\n", host)));
        result.AssertExitStatus(0);
    }

    /// <summary>A dynamically linked program copied into the tmpfs (its bytes are the file server's
    /// copy, not the archive's) runs: the loader keeps the program's file and its dynamic linker's
    /// open apart (the linker's lookup used to give the program's copy up before it was mapped).</summary>
    [Test]
    public void ADynamicProgramCopiedToTmpRuns()
    {
        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=/bin/sh", "-c",
            "'cp /tests/core-dynamic /tmp/d && /tmp/d word; echo status $?'", "exit");
        Assert.That(LinuxBootRuns.OwnLines(result), Is.EqualTo(new[] { "hello from a static Linux program", "argument 1: 'word'", "status 7" }),
            () => result.Describe("core-dynamic run from /tmp"));
        result.AssertExitStatus(0);
    }

    /// <summary>The same two sqlite3 runs on this host, in a directory of their own.</summary>
    private static string[] RunOnHost()
    {
        string directory = Directory.CreateTempSubdirectory("aegis-sqlite-").FullName;
        try
        {
            string database = Path.Combine(directory, "t.db");
            string create = Path.Combine(ScriptDirectory, "create.sql"), query = Path.Combine(ScriptDirectory, "query.sql");
            var start = new ProcessStartInfo("sh", new[] { "-c", $"sqlite3 '{database}' < '{create}' && sqlite3 '{database}' < '{query}'; echo status $?" })
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using Process process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.That(output, Does.Contain("status 0"), "sqlite3 must be installed on the host (./aegis installs it)");
            return LinuxPrograms.SplitLines(output).ToArray();
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }
}
