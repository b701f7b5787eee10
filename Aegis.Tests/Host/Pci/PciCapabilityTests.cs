// The capability walk (Core/Pci/PciCapabilities.cs): MSI and MSI-X found, and every malformed
// list (a loop, a self-loop, a pointer into the header) ends the walk, bounded.
using Aegis.Abi;
using Aegis.Kernel.Core.Pci;
using NUnit.Framework;

namespace Aegis.Tests.Host.Pci;

public class PciCapabilityTests
{
    private const uint CapabilityList = 0x0010_0000;

    private static FakePciBus.Function Device(FakePciBus bus, int firstPointer, bool listBit = true)
    {
        FakePciBus.Function device = bus.Add(0, 4, 0, 0x1AF4, 0x1001, 0x0100_0000);
        device[0x04] = (listBit ? CapabilityList : 0) | 0x0007;
        device[0x34] = (uint)firstPointer;
        return device;
    }

    private static void Entry(FakePciBus.Function device, int offset, byte id, int next) => device[offset] = (uint)(next << 8 | id);

    private static byte Walk(FakePciBus bus, out byte msi, out byte msix) => PciCapabilities.Walk(bus, 0, 4, 0, 0, out msi, out msix);

    [Test]
    public void MsiAndMsiXAreFoundInTheList()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = Device(bus, 0x40);
        Entry(device, 0x40, 0x09, 0x50); // vendor-specific
        Entry(device, 0x50, PciCapabilities.MsiId, 0x98);
        Entry(device, 0x98, PciCapabilities.MsixId, 0x00);
        byte flags = Walk(bus, out byte msi, out byte msix);
        Assert.That(flags, Is.EqualTo(PciFunctionFlags.Msi | PciFunctionFlags.Msix));
        Assert.That((msi, msix), Is.EqualTo(((byte)0x50, (byte)0x98)));
    }

    [Test]
    public void ListWithoutMsiReportsNone()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = Device(bus, 0x40);
        Entry(device, 0x40, 0x01, 0x00); // power management only
        Assert.That(Walk(bus, out byte msi, out byte msix), Is.EqualTo(0));
        Assert.That((msi, msix), Is.EqualTo(((byte)0, (byte)0)));
    }

    [Test]
    public void NoListIsWalkedWhenTheStatusBitIsClear()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = Device(bus, 0x40, listBit: false);
        Entry(device, 0x40, PciCapabilities.MsiId, 0x00);
        Assert.That(Walk(bus, out byte msi, out _), Is.EqualTo(0));
        Assert.That(msi, Is.EqualTo(0));
    }

    [Test]
    public void LoopingCapabilityListTerminatesAndIsMarkedMalformed()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = Device(bus, 0x40);
        Entry(device, 0x40, PciCapabilities.MsiId, 0x60);
        Entry(device, 0x60, 0x01, 0x80);
        Entry(device, 0x80, 0x09, 0x40); // back to the start
        int readsBefore = bus.Reads;
        byte flags = Walk(bus, out byte msi, out _);
        Assert.That(flags, Is.EqualTo(PciFunctionFlags.Msi | PciFunctionFlags.CapabilitiesMalformed));
        Assert.That(msi, Is.EqualTo(0x40));
        Assert.That(bus.Reads - readsBefore, Is.LessThanOrEqualTo(2 + PciCapabilities.MaximumEntries));
    }

    [Test]
    public void CapabilityPointingAtItselfTerminates()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = Device(bus, 0x44);
        Entry(device, 0x44, 0x01, 0x47); // the low two bits are reserved: 0x47 is 0x44
        Assert.That(Walk(bus, out _, out _), Is.EqualTo(PciFunctionFlags.CapabilitiesMalformed));
    }

    [Test]
    public void PointerIntoTheHeaderIsMalformed()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = Device(bus, 0x40);
        Entry(device, 0x40, PciCapabilities.MsixId, 0x10);
        Assert.That(Walk(bus, out _, out byte msix), Is.EqualTo(PciFunctionFlags.Msix | PciFunctionFlags.CapabilitiesMalformed));
        Assert.That(msix, Is.EqualTo(0x40));
    }

    [Test]
    public void ListThroughEveryDwordEndsWellFormed()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = Device(bus, 0x40);
        for (int offset = 0x40; offset < 0x100; offset += 4)
            Entry(device, offset, 0x09, offset + 4 < 0x100 ? offset + 4 : 0);
        Assert.That(Walk(bus, out _, out _), Is.EqualTo(0));
    }

    [Test]
    public void GarbageCapabilitySpaceAlwaysTerminates()
    {
        var random = new Random(1234);
        for (int round = 0; round < 2000; round++)
        {
            var bus = new FakePciBus();
            FakePciBus.Function device = Device(bus, random.Next(256));
            for (int offset = 0x40; offset < 0x100; offset += 4)
                device[offset] = (uint)random.Next();
            int readsBefore = bus.Reads;
            Walk(bus, out _, out _);
            Assert.That(bus.Reads - readsBefore, Is.LessThanOrEqualTo(2 + PciCapabilities.MaximumEntries));
        }
    }
}
