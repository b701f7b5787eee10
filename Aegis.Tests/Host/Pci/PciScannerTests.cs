// The enumeration (Core/Pci/PciScanner.cs) over a fake topology: QEMU's i440FX machine, functions
// of multi-function devices, buses behind bridges, a bridge loop, and a full table.
using Aegis.Abi;
using Aegis.Kernel.Core.Pci;
using NUnit.Framework;

namespace Aegis.Tests.Host.Pci;

public unsafe class PciScannerTests
{
    /// <summary>QEMU's default PC: i440FX host bridge, PIIX3 (ISA, IDE, USB, ACPI) at device 1, VGA at 2, e1000 at 3.</summary>
    private static FakePciBus QemuPc()
    {
        var bus = new FakePciBus();
        bus.Add(0, 0, 0, 0x8086, 0x1237, 0x0600_0002);
        bus.Add(0, 1, 0, 0x8086, 0x7000, 0x0601_0000, headerType: 0x80);
        FakePciBus.Function ide = bus.Add(0, 1, 1, 0x8086, 0x7010, 0x0101_8000);
        FakePciBus.SetBar(ide, 4, 0x1, 0xC040, 0x10);
        bus.Add(0, 1, 3, 0x8086, 0x7113, 0x0680_0003);
        FakePciBus.Function vga = bus.Add(0, 2, 0, 0x1234, 0x1111, 0x0300_0002);
        FakePciBus.SetBar(vga, 0, 0x8, 0xFD00_0000, 0x100_0000);
        FakePciBus.SetBar(vga, 2, 0x0, 0xFEBF_0000, 0x1000);
        FakePciBus.Function nic = bus.Add(0, 3, 0, 0x8086, 0x100E, 0x0200_0003);
        nic[0x2C] = 0x1100_1AF4;
        nic[0x3C] = 0x0000_010B;
        FakePciBus.SetBar(nic, 0, 0x0, 0xFEBC_0000, 0x2_0000);
        FakePciBus.SetBar(nic, 1, 0x1, 0xC000, 0x40);
        return bus;
    }

    private static (PciScanResult, PciFunction[]) Scan(FakePciBus bus, int capacity = PciLimits.MaximumFunctions)
    {
        var table = new PciFunction[capacity];
        return (PciScanner.Scan(bus, table), table);
    }

    [Test]
    public void QemuPcFunctionsAreRecordedInScanOrder()
    {
        (PciScanResult result, PciFunction[] table) = Scan(QemuPc());
        Assert.That((result.Count, result.Found, result.Buses, result.Flags), Is.EqualTo((6, 6, 1, 0UL)));
        string[] names = table.Take(result.Count).Select(f => $"{f.Bus:x2}:{f.Device:x2}.{f.Function} {f.VendorId:x4}:{f.DeviceId:x4}").ToArray();
        Assert.That(names, Is.EqualTo(new[] { "00:00.0 8086:1237", "00:01.0 8086:7000", "00:01.1 8086:7010", "00:01.3 8086:7113", "00:02.0 1234:1111", "00:03.0 8086:100e" }));
        PciFunction nic = table[5];
        Assert.That((nic.ClassCode, nic.Subclass, nic.ProgIf, nic.Revision), Is.EqualTo(((byte)2, (byte)0, (byte)0, (byte)3)));
        Assert.That((nic.SubsystemVendorId, nic.SubsystemId), Is.EqualTo(((ushort)0x1AF4, (ushort)0x1100)));
        Assert.That((nic.InterruptLine, nic.InterruptPin), Is.EqualTo(((byte)11, (byte)1)));
        Assert.That((nic.BarFlags[0], nic.BarSize[0], nic.BarFlags[1], nic.BarSize[1]), Is.EqualTo((PciBarFlags.Memory, 0x2_0000UL, PciBarFlags.Io, 0x40UL)));
        Assert.That(table[1].Flags & PciFunctionFlags.MultiFunction, Is.EqualTo(PciFunctionFlags.MultiFunction));
        Assert.That(table[4].BarFlags[0], Is.EqualTo(PciBarFlags.Memory | PciBarFlags.Prefetchable));
    }

    [Test]
    public void FunctionsBeyondZeroOfASingleFunctionDeviceAreNotScanned()
    {
        var bus = new FakePciBus();
        bus.Add(0, 5, 0, 0x1234, 0x0001, 0x0200_0000);
        bus.Add(0, 5, 1, 0x1234, 0x0002, 0x0200_0000); // answers, but function 0 is not multi-function
        bus.Add(0, 6, 1, 0x1234, 0x0003, 0x0200_0000); // no function 0: no device
        (PciScanResult result, _) = Scan(bus);
        Assert.That(result.Found, Is.EqualTo(1));
    }

    [Test]
    public void SecondaryBusesBehindBridgesAreScanned()
    {
        var bus = new FakePciBus();
        bus.Add(0, 0, 0, 0x8086, 0x29C0, 0x0600_0000);
        bus.Add(0, 0x1C, 0, 0x8086, 0x2940, 0x0604_0000, headerType: 1)[0x18] = 0x0002_0100; // primary 0, secondary 1, subordinate 2
        bus.Add(1, 0, 0, 0x1B36, 0x000E, 0x0604_0000, headerType: 1)[0x18] = 0x0002_0201;
        bus.Add(2, 3, 0, 0x1AF4, 0x1001, 0x0100_0000);
        (PciScanResult result, PciFunction[] table) = Scan(bus);
        Assert.That((result.Found, result.Buses, result.Flags), Is.EqualTo((4, 3, 0UL)));
        Assert.That(table[1].SecondaryBus, Is.EqualTo(1));
        Assert.That((table[3].Bus, table[3].Device, table[3].ClassCode), Is.EqualTo(((byte)2, (byte)3, (byte)1)));
    }

    [Test]
    public void BridgeNamingABusAlreadyScannedIsNotFollowedAgain()
    {
        var bus = new FakePciBus();
        bus.Add(0, 1, 0, 0x1234, 0x0001, 0x0604_0000, headerType: 1)[0x18] = 0x0001_0100;
        bus.Add(1, 0, 0, 0x1234, 0x0002, 0x0604_0000, headerType: 1)[0x18] = 0x0001_0101; // back to bus 1
        bus.Add(1, 1, 0, 0x1234, 0x0003, 0x0604_0000, headerType: 1)[0x18] = 0x0000_0000; // unconfigured
        (PciScanResult result, _) = Scan(bus);
        Assert.That((result.Found, result.Buses), Is.EqualTo((3, 2)));
        Assert.That(result.Flags, Is.EqualTo(PciTableFlags.BusLoop));
    }

    [Test]
    public void FunctionsPastTheTableAreCountedNotRecorded()
    {
        FakePciBus bus = QemuPc();
        (PciScanResult result, PciFunction[] table) = Scan(bus, capacity: 4);
        Assert.That((result.Count, result.Found, result.Flags), Is.EqualTo((4, 6, PciTableFlags.Truncated)));
        Assert.That(table[3].DeviceId, Is.EqualTo(0x7113));
        Assert.That(bus.Log.Any(w => w.Contains("bar") && w.StartsWith("bar")) , Is.True);
        int writesBefore = bus.Log.Count;
        Scan(bus, capacity: 0);
        Assert.That(bus.Log.Count, Is.EqualTo(writesBefore), "nothing past the table is probed");
    }

    [Test]
    public void TableLayoutIsTheAbis()
    {
        Assert.That(sizeof(PciFunction), Is.EqualTo(PciLimits.RecordSize));
        Assert.That(sizeof(PciTable), Is.LessThanOrEqualTo(PciLimits.RecordsOffset));
        Assert.That(PciLimits.RecordsOffset + PciLimits.MaximumFunctions * PciLimits.RecordSize, Is.LessThanOrEqualTo(PciLimits.TablePages * 4096));
        Assert.That(4096 % PciLimits.RecordSize, Is.EqualTo(0), "a record never straddles a page");
        Assert.That(UserAddresses.PciTable + PciLimits.TablePages * 4096UL, Is.LessThanOrEqualTo(UserAddresses.EnvironmentPage));
        Assert.That(UserAddresses.PciTable, Is.GreaterThanOrEqualTo(UserAddresses.ReservedTop));
        Assert.That(UserAddresses.PciTable >> 21, Is.EqualTo(UserAddresses.InfoPage >> 21), "one page table maps the table and the information pages");
    }
}
