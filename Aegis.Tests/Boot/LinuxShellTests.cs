// Boot test of what a user meets (issue #9): without init= the kernel starts Debian's busybox as
// a login shell under the Linux personality; --headless connects it to stdin; a pipeline, a
// command's exit status and a pipe whose reader leaves early behave as on Linux; leaving the
// shell powers the machine off with the shell's status. The verdicts are the shell's output
// (what the commands print) and QEMU's exit status, never a line the guest prints about itself.
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class LinuxShellTests
{
    private const int TimeoutSeconds = 150;

    [Test]
    public void BootLandsAtBusyboxShellAndLeavingItPowersOffWithItsStatus()
    {
        // The leading newline: GRUB resets COM1's receiver, so a byte sent that early may be lost.
        const string Session = "\necho hello | tr a-z A-Z\nsh -c 'exit 3'; echo \"status $?\"\nyes | head -3 | wc -l\nexit 7\n";
        FrontDoorResult result = FrontDoor.BootWithInput(Session, TimeoutSeconds);

        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] Memory: \d+ MiB free of \d+ MiB\.\r?$"); // /etc/profile ran
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] HELLO\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] status 3\r?$");
        result.AssertOutputMatches(@"(?m)^\[[0-9a-f]+ linux\] 3\r?$");
        result.AssertExitStatus(7);
    }
}
