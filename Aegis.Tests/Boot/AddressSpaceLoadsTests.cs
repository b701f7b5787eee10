// Boot test: the kernel counts its CR3 loads (InfoPage.AddressSpaceLoads, docs/abi.md) and the
// Linux personality shows the count as /proc/aegis/address_space_loads (what workmeter reports a
// request). The verdict is the count's movement between two reads a shell makes: each read runs
// cat in a child environment, so at least a switch there and one back lie between them.
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class AddressSpaceLoadsTests
{
    [Test]
    public void TheKernelCountsTheAddressSpaceSwitchesOfAChildProcess()
    {
        FrontDoorResult result = FrontDoor.BootShared(120, "init=/bin/sh", "-c",
            "'a=$(cat /proc/aegis/address_space_loads); b=$(cat /proc/aegis/address_space_loads); echo loads $a $b'", "exit");

        result.AssertExitStatus(0);
        Match loads = Regex.Match(result.Output, @"loads (\d+) (\d+)");
        Assert.That(loads.Success, Is.True, () => result.Describe("no 'loads A B' line"));
        ulong first = ulong.Parse(loads.Groups[1].Value), second = ulong.Parse(loads.Groups[2].Value);
        Assert.That(first, Is.GreaterThan(0UL), () => result.Describe("no CR3 load counted by the first read"));
        Assert.That(second, Is.GreaterThanOrEqualTo(first + 2),
            () => result.Describe($"the count went from {first} to {second} over a child's whole life"));
    }
}
