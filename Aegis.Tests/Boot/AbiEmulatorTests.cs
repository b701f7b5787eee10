// The ABI emulator's checks (tools/abi-emulator/check-apps.sh): LibOS.Base's start-up, stubs,
// trampoline and dispatchers, and the fixtures' own handlers, run as Linux processes against
// tools/abi-emulator's model of the ABI (built from Aegis.Abi/abi.h). Needs gcc and the app
// images of the ISO build; a second, kernel-free opinion on the libOS side next to the in-guest
// protection suite.
using System.Diagnostics;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class AbiEmulatorTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    [Test]
    public void FixturesBehaveUnderTheAbiEmulator()
    {
        FrontDoor.EnsureIsoBuilt();
        string config = Environment.GetEnvironmentVariable("AEGIS_CONFIG") is { Length: > 0 } value ? value : "Release";
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = FrontDoor.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("tools/abi-emulator/check-apps.sh");
        start.ArgumentList.Add("--no-build");
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(config);
        using var process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("check-apps.sh did not finish in " + Limit);
        }
        string text = output.Result + errors.Result;
        Assert.That(process.ExitCode, Is.EqualTo(0), "tools/abi-emulator/check-apps.sh failed:\n" + text);
        Assert.That(text, Does.Contain("PASS hello"), text);
        Assert.That(text, Does.Not.Contain("FAIL"), text);
    }
}
