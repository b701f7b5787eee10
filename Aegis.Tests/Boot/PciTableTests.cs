// Boot tests of the PCI table (docs/abi.md, "The PCI table"): an environment reads it
// (init=devices:pci prints it from UserAddresses.PciTable) and finds QEMU's standard devices
// where QEMU puts them; with a scratch disk on virtio-blk-pci or AHCI (./aegis run --disk) the
// storage controller appears with its class, vendor and a memory BAR of the size the device has.
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public class PciTableTests
{
    /// <summary>"00:01.0 class 06/01/00 8086:7000 rev 00 ..." lines of devices:pci, by bus:device.function.</summary>
    private static Dictionary<string, string> Functions(FrontDoorResult result)
    {
        var functions = new Dictionary<string, string>();
        foreach (Match line in Regex.Matches(result.Output, @"^\[\w+ devices\] ([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) (class .*)$", RegexOptions.Multiline))
            functions[line.Groups[1].Value] = line.Groups[2].Value.TrimEnd('\r');
        return functions;
    }

    /// <summary>The BAR lines printed after function 'address': "bar0 mem32 base 0x... size 0x...".</summary>
    private static List<string> Bars(FrontDoorResult result, string address)
    {
        var bars = new List<string>();
        bool inside = false;
        foreach (string raw in result.Lines)
        {
            Match line = Regex.Match(raw, @"^\[\w+ devices\] (.*)$");
            if (!line.Success) continue;
            string text = line.Groups[1].Value;
            if (Regex.IsMatch(text, @"^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] ")) inside = text.StartsWith(address + " ");
            else if (inside && text.StartsWith("  bar")) bars.Add(text.Trim());
        }
        return bars;
    }

    private static void AssertQemuStandardDevices(FrontDoorResult result, Dictionary<string, string> functions)
    {
        Assert.That(functions.TryGetValue("00:00.0", out string host), Is.True, () => result.Describe("no function 00:00.0"));
        Assert.That(host, Does.StartWith("class 06/00/00 8086:1237 "), () => result.Describe("00:00.0 is not the i440FX host bridge"));
        Assert.That(functions.TryGetValue("00:01.0", out string isa), Is.True, () => result.Describe("no function 00:01.0"));
        Assert.That(isa, Does.StartWith("class 06/01/00 8086:7000 ").And.Contain(" header 80 "), () => result.Describe("00:01.0 is not the multi-function PIIX3 ISA bridge"));
        Assert.That(functions.Where(f => f.Value.StartsWith("class 03/00/")).Count(), Is.EqualTo(1), () => result.Describe("expected one VGA controller"));
        string vga = functions.First(f => f.Value.StartsWith("class 03/00/")).Key;
        // QEMU's std VGA: a 16 MiB prefetchable framebuffer in BAR 0.
        Assert.That(Bars(result, vga), Has.Some.Match(@"^bar0 mem32 prefetchable base 0x[0-9a-f]+ size 0x1000000$"), () => result.Describe("the VGA framebuffer BAR"));
    }

    [Test]
    public void AnEnvironmentReadsQemusStandardDevicesFromThePciTable()
    {
        FrontDoorResult result = FrontDoor.Boot(120, "init=devices:pci", "exit");

        result.AssertExitStatus(0);
        Match kernel = result.AssertOutputMatches(@"Aegis: PCI: (\d+) functions on 1 bus in \d+ us");
        Match app = result.AssertOutputMatches(@"devices: pci (\d+) functions on 1 buses, (\d+) in the table, flags 0x0,");
        Assert.That(app.Groups[1].Value, Is.EqualTo(kernel.Groups[1].Value), () => result.Describe("the table and the kernel's line disagree"));
        Dictionary<string, string> functions = Functions(result);
        Assert.That(functions.Count.ToString(), Is.EqualTo(app.Groups[2].Value), () => result.Describe("a record per function"));
        AssertQemuStandardDevices(result, functions);
        // Information only: read-only in the environment, and not the environment's to unmap or make writable.
        for (int page = 0; page < 2; page++)
            result.AssertOutputContains($"devices: pci page {page} present user read-only no-execute");
        result.AssertOutputContains("devices: pci unmap BadAddress");
        result.AssertOutputContains("devices: pci protect writable BadAddress");
    }

    // QEMU's transitional virtio-blk: legacy I/O BAR 0, the MSI-X table in BAR 1, the modern
    // registers in a 64-bit prefetchable BAR 4 (two slots). ICH9 AHCI: the ABAR in BAR 5, MSI.
    [TestCase("virtio", "class 01/00/00 1af4:1001 ", " msi-x@", new[] { @"^bar1 mem32 base 0x[0-9a-f]+ size 0x1000$", @"^bar4 mem64 prefetchable base 0x[0-9a-f]+ size 0x4000$" },
        TestName = "AVirtioBlockDiskAppearsAsAStorageControllerWithItsBarsAndMsiX")]
    [TestCase("ahci", "class 01/06/01 8086:2922 ", " msi@", new[] { @"^bar5 mem32 base 0x[0-9a-f]+ size 0x1000$" },
        TestName = "AnAhciControllerAppearsWithItsClassAbarAndMsi")]
    public void StorageControllerAppearsInThePciTable(string controller, string expectedFunction, string expectedCapability, string[] expectedBars)
    {
        string disk = Path.Combine(Path.GetTempPath(), $"aegis-pci-{controller}-{Environment.ProcessId}.img");
        try
        {
            using (FileStream image = File.Create(disk))
                image.SetLength(1024 * 1024);
            FrontDoorResult result = FrontDoor.BootWithDisk(disk, controller, 120, "init=devices:pci", "exit");

            result.AssertExitStatus(0);
            Dictionary<string, string> functions = Functions(result);
            AssertQemuStandardDevices(result, functions);
            string[] storage = functions.Where(f => f.Value.StartsWith(expectedFunction)).Select(f => f.Key).OrderBy(f => f, StringComparer.Ordinal).ToArray();
            // The front door puts the ISO's CD drive on an AHCI controller of its own, after the
            // disk's: with an AHCI disk there are two, the disk's first.
            int expected = controller == "ahci" ? 2 : 1;
            Assert.That(storage, Has.Length.EqualTo(expected), () => result.Describe($"expected {expected} function(s) '{expectedFunction}'"));
            Assert.That(functions[storage[0]], Does.Contain(expectedCapability), () => result.Describe("the controller's interrupt capability"));
            foreach (string expectedBar in expectedBars)
                Assert.That(Bars(result, storage[0]), Has.Some.Match(expectedBar), () => result.Describe("the controller's BAR /" + expectedBar + "/"));
            result.AssertOutputMatches(@"Aegis: PCI: \d+ functions on 1 bus in \d+ us; .*storage " + Regex.Escape(storage[0]) + " " + expectedFunction.Substring(15, 9));
            // The kernel drives both: the blank disk is attached, and its missing extent table reported.
            string driver = controller == "ahci" ? "AHCI port 0" : "virtio-blk";
            result.AssertOutputMatches(@"Aegis: disk 0: " + driver + " " + Regex.Escape(storage[0]) + @", 2048 sectors \(1 MiB\), IRQ \d+; no extent table \(");
        }
        finally
        {
            File.Delete(disk);
        }
    }
}
