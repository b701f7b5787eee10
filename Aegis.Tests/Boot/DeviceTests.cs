// Boot tests of issue #9's kernel devices: the wall time from the CMOS RTC, COM1 input reaching
// the first environment through its Serial capability, and init=/PATH's command-line errors.
// (The protection suite's input-read, input-watch and device-map test the rest from inside.)
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class DeviceTests
{
    /// <summary>The first byte piped in before GRUB sets COM1 up is lost (GRUB's serial init resets
    /// the receiver, which then held one byte with its FIFO off); the app skips empty lines, so the
    /// input starts with a newline that may or may not arrive.</summary>
    private const string SerialInput = "\nhello kdev\n";

    [Test]
    public void SerialInputReachesTheFirstAppAndWallTimeIsTheHosts()
    {
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        FrontDoorResult result = FrontDoor.BootWithInput(SerialInput, 120, "init=devices:stdin", "exit");
        long after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        result.AssertOutputContains("devices: stdin 'hello kdev'");
        result.AssertExitStatus(0);
        // The information page's input fields: the watcher is the app while it watches and none
        // after; the bytes the ring took are at least those the app read (the line and its newline).
        Match input = result.AssertOutputMatches(@"devices: input info watcher (\d+) self (\d+) arrivals (\d+) read (\d+) unwatched (\d+)");
        Assert.That(input.Groups[1].Value, Is.EqualTo(input.Groups[2].Value), () => result.Describe("InputWatchers does not name the watcher"));
        Assert.That(long.Parse(input.Groups[4].Value), Is.GreaterThanOrEqualTo(11), () => result.Describe("the app read less than its line"));
        Assert.That(long.Parse(input.Groups[3].Value), Is.GreaterThanOrEqualTo(long.Parse(input.Groups[4].Value)), () => result.Describe("InputArrivals counts fewer bytes than were read"));
        Assert.That(input.Groups[5].Value, Is.EqualTo("0"), () => result.Describe("InputWatchers still names a watcher that stopped"));
        // QEMU's RTC starts at the host's time (UTC): the kernel's reading and the app's computation
        // from the information page (BootUnixNanoseconds + TSC since BootTimestamp) are within 2 minutes.
        long kernel = long.Parse(result.AssertOutputMatches(@"Aegis: wall clock \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(CMOS RTC, unix time (\d+)\)").Groups[1].Value);
        long app = long.Parse(result.AssertOutputMatches(@"devices: wall (\d+) \(boot \d+\)").Groups[1].Value);
        foreach ((string who, long seconds) in new[] { ("the kernel", kernel), ("the app", app) })
            Assert.That(seconds, Is.InRange(before - 120, after + 120), () => result.Describe(who + "'s wall time " + seconds + " is not within 2 minutes of the host's " + before + ".." + after));
        Assert.That(app, Is.GreaterThanOrEqualTo(kernel), () => result.Describe("the app's wall time is before the boot's"));
    }

    [Test]
    public void LinuxInitWithAnUnterminatedQuoteIsRefusedClearly()
    {
        FrontDoorResult result = FrontDoor.Boot(120, "init=/bin/echo", "'oops", "exit");

        result.AssertOutputContains("cannot start init '/bin/echo 'oops exit': the quote opened at character 11 is not closed");
        result.AssertExitStatus(2);
    }

    [Test]
    public void LinuxInitLongerThanTheArgumentPageIsRefusedClearly()
    {
        FrontDoorResult result = FrontDoor.Boot(120, "init=/bin/echo", new string('x', 300), "exit");

        result.AssertOutputMatches(@"cannot start init '/bin/echo x+': the command line is 310 bytes; a program started by init=/PATH gets at most 255");
        result.AssertExitStatus(2);
    }
}
