// tools/profile.py on a made-up serial log: every app's image starts at the same address, so an
// environment's samples must be named from its own image's .sym ("Aegis: started environment N
// (IMAGE)"), not from whichever app's file comes first.
using System.Diagnostics;
using System.IO;
using NUnit.Framework;

namespace Aegis.Tests.Host;

[TestFixture]
public class ProfileToolTests
{
    private static string Profile(string directory, string log, params string[] symbolFiles)
    {
        var info = new ProcessStartInfo("python3") { RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add(Path.Combine(Boot.FrontDoor.RepositoryRoot, "tools", "profile.py"));
        info.ArgumentList.Add(Path.Combine(directory, log));
        foreach (string file in symbolFiles)
        {
            info.ArgumentList.Add("--sym");
            info.ArgumentList.Add(Path.Combine(directory, file));
        }
        using Process tool = Process.Start(info)!;
        string output = tool.StandardOutput.ReadToEnd();
        string errors = tool.StandardError.ReadToEnd();
        tool.WaitForExit();
        Assert.That(tool.ExitCode, Is.EqualTo(0), errors);
        return output;
    }

    [Test]
    public void AnEnvironmentsSamplesAreNamedFromItsOwnImagesSymbols()
    {
        string directory = Path.Combine(Path.GetTempPath(), "aegis-profile-" + Path.GetRandomFileName());
        Directory.CreateDirectory(directory);
        try
        {
            File.WriteAllText(Path.Combine(directory, "Aegis.Kernel.sym"), "F 0000000000100000 0000000000000100 KernelThing\n");
            // Two apps, both linked at 0x400000 ("alpha" sorts first).
            File.WriteAllText(Path.Combine(directory, "alpha.sym"), "F 0000000000400000 0000000000001000 AlphaMain\n");
            File.WriteAllText(Path.Combine(directory, "beta.sym"), "F 0000000000400000 0000000000001000 BetaMain\n");
            File.WriteAllText(Path.Combine(directory, "one.log"),
                "Aegis: started environment 401 (beta) as init with the argument ''\n"
                + "PROF 401 u 400010\nPROF 401 u 400020\nPROF 0 i 100010\n");
            string beta = Profile(directory, "one.log", "Aegis.Kernel.sym", "alpha.sym", "beta.sym");
            Assert.That(beta, Does.Contain("env 401  BetaMain"), beta);
            Assert.That(beta, Does.Not.Contain("AlphaMain"), beta);

            // A fork (not named) runs init's image; two named environments keep their own.
            File.WriteAllText(Path.Combine(directory, "two.log"),
                "Aegis: started environment 401 (alpha) as init with the argument ''\n"
                + "PROF 401 u 400010\nPROF 402 u 400020\n");
            string fork = Profile(directory, "two.log", "Aegis.Kernel.sym", "beta.sym", "alpha.sym");
            Assert.That(fork, Does.Contain("env 402  AlphaMain"), fork);
            Assert.That(fork, Does.Not.Contain("BetaMain"), fork);

            // No environment named: every file is looked in, as before.
            File.WriteAllText(Path.Combine(directory, "three.log"), "PROF 401 u 400010\n");
            string unnamed = Profile(directory, "three.log", "Aegis.Kernel.sym", "alpha.sym", "beta.sym");
            Assert.That(unnamed, Does.Contain("env 401  AlphaMain"), unnamed);
        }
        finally { Directory.Delete(directory, true); }
    }
}
