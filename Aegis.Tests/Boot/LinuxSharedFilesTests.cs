// Boot test of the shared file tree (docs/libos-unixish.md, "Files"), scripted through busybox's
// shell: what one process writes the next one reads (the shell's redirections are the shell's or
// a child's, the readers are other children), two children of a subshell write through one
// description (the second line follows the first), and a directory made by one child is the
// shell's cwd and another child's listing. The verdicts are the commands' output and QEMU's
// exit status.
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class LinuxSharedFilesTests
{
    private const int TimeoutSeconds = 150;
    private const string Line = @"(?m)^\[[0-9a-f]+ linux\] ";

    [Test]
    public void ProcessesOfTheShellShareOneFileTree()
    {
        // The leading newline: GRUB resets COM1's receiver, so a byte sent that early may be lost.
        const string Session = "\n"
            + "ls /bin > /tmp/x; wc -l < /tmp/x\n"
            + "ls /bin | wc -l | sed 's/^/piped /'\n"
            + "echo hi > /tmp/y; cat /tmp/y\n"
            + "(echo a; echo b) > /tmp/f; cat /tmp/f\n"
            + "mkdir /tmp/d && cd /tmp/d && touch z && ls\n"
            + "pwd\n"
            + "exit 5\n";
        FrontDoorResult result = FrontDoor.BootWithInput(Session, TimeoutSeconds);

        Match viaFile = result.AssertOutputMatches(Line + @"(\d+)\r?$");
        Match piped = result.AssertOutputMatches(Line + @"piped (\d+)\r?$");
        Assert.That(int.Parse(viaFile.Groups[1].Value), Is.EqualTo(int.Parse(piped.Groups[1].Value)).And.GreaterThan(10),
            result.Describe("wc -l of the file ls wrote counts what ls prints into a pipe"));
        result.AssertOutputMatches(Line + @"hi\r?$");
        result.AssertOutputMatches(Line + @"a\r?\n\[[0-9a-f]+ linux\] b\r?$");
        result.AssertOutputMatches(Line + @"z\r?$");
        result.AssertOutputMatches(Line + @"/tmp/d\r?$");
        result.AssertExitStatus(5);
    }
}
