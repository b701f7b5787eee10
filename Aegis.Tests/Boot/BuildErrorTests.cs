// Build-time refusals: what Aegis.Runtime does not support stops the build with a message that
// says why and what to do, instead of an image that misbehaves at run time (docs/runtime.md,
// "How an unsupported feature fails"). Each builds a probe project under Tests/BuildProbes/
// (not in Aegis.sln, not shipped) and checks that the build fails with that message.
using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class BuildErrorTests
{
    private static readonly TimeSpan BuildLimit = TimeSpan.FromMinutes(5);

    [Test]
    public void TypeWithAFinalizerIsABuildError()
    {
        (int exitCode, string output) = Build("Tests/BuildProbes/FinalizerApp/FinalizerApp.csproj");

        Assert.That(exitCode, Is.Not.EqualTo(0), () => "the probe with a finalizer built:\n" + output);
        Assert.That(output, Does.Contain("a type with a finalizer (a C# ~T() destructor) is allocated"),
            () => "the build failed without naming the finalizer:\n" + output);
        Assert.That(output, Does.Not.Contain("error CS"), () => "the probe itself does not compile:\n" + output);
    }

    private static (int ExitCode, string Output) Build(string project)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = FrontDoor.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "build", project, "-c", "Release", "-nologo" })
            start.ArgumentList.Add(argument);
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (output) output.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (output) output.Append(e.Data).Append('\n'); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit((int)BuildLimit.TotalMilliseconds))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet build {project} took longer than {BuildLimit.TotalMinutes} minutes");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }
}
