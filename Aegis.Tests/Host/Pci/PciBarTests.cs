// BAR sizing and decoding (Core/Pci/PciBars.cs) against the fake configuration space: 32-bit
// memory, 64-bit prefetchable memory over two slots, I/O with 16 address bits, unimplemented
// BARs, and the probe's discipline (decoding off while probing, everything restored).
using Aegis.Abi;
using Aegis.Kernel.Core.Pci;
using NUnit.Framework;

namespace Aegis.Tests.Host.Pci;

public unsafe class PciBarTests
{
    private static PciFunction Probe(FakePciBus bus, int slots = 6, bool keepDecoding = false)
    {
        PciFunction record = default;
        PciBars.Probe(bus, 0, 3, 0, slots, keepDecoding, ref record);
        return record;
    }

    [Test]
    public void ThirtyTwoBitMemoryBarDecodesBaseAndSize()
    {
        PciBars.Decode(0xFEBC_0000, 0xFFFE_0000, 0, 0, out byte flags, out ulong baseAddress, out ulong size);
        Assert.That(flags, Is.EqualTo(PciBarFlags.Memory));
        Assert.That(baseAddress, Is.EqualTo(0xFEBC_0000UL));
        Assert.That(size, Is.EqualTo(0x2_0000UL));
    }

    [Test]
    public void ThirtyTwoBitMemoryBarIsSizedByTheProbe()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = bus.Add(0, 3, 0, 0x8086, 0x100E, 0x0200_0003);
        device[0x04] = 0x0007;
        FakePciBus.SetBar(device, 0, 0x0, 0xFEBC_0000, 0x2_0000);
        PciFunction record = Probe(bus);
        Assert.That(record.BarFlags[0], Is.EqualTo(PciBarFlags.Memory));
        Assert.That(record.BarBase[0], Is.EqualTo(0xFEBC_0000UL));
        Assert.That(record.BarSize[0], Is.EqualTo(0x2_0000UL));
        for (int slot = 1; slot < 6; slot++)
            Assert.That(record.BarFlags[slot] | (byte)record.BarSize[slot] | (byte)record.BarBase[slot], Is.EqualTo(0), "slot " + slot);
    }

    [Test]
    public void SixtyFourBitPrefetchableBarTakesTwoSlots()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = bus.Add(0, 3, 0, 0x1AF4, 0x1042, 0x0100_0001);
        device[0x04] = 0x0006;
        FakePciBus.SetBar(device, 1, 0x0, 0xFEB0_0000, 0x1000);
        FakePciBus.SetBar(device, 4, 0xC, 0x0000_0080_0000_0000, 0x4000, is64: true); // type 2 (64-bit), prefetchable
        PciFunction record = Probe(bus);
        Assert.That(record.BarFlags[4], Is.EqualTo(PciBarFlags.Memory | PciBarFlags.Is64Bit | PciBarFlags.Prefetchable));
        Assert.That(record.BarBase[4], Is.EqualTo(0x80_0000_0000UL));
        Assert.That(record.BarSize[4], Is.EqualTo(0x4000UL));
        Assert.That(record.BarFlags[5], Is.EqualTo(PciBarFlags.UpperHalf));
        Assert.That(record.BarSize[5], Is.EqualTo(0UL));
        Assert.That(record.BarFlags[1], Is.EqualTo(PciBarFlags.Memory));
        Assert.That(record.BarSize[1], Is.EqualTo(0x1000UL));
    }

    [Test]
    public void SixtyFourBitBarLargerThanFourGigabytesIsSizedFromItsUpperHalf()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = bus.Add(0, 3, 0, 0x10DE, 0x1234, 0x0300_0000);
        FakePciBus.SetBar(device, 0, 0xC, 0x0000_0040_0000_0000, 0x2_0000_0000, is64: true);
        PciFunction record = Probe(bus);
        Assert.That(record.BarBase[0], Is.EqualTo(0x40_0000_0000UL));
        Assert.That(record.BarSize[0], Is.EqualTo(0x2_0000_0000UL));
        Assert.That(record.BarFlags[1], Is.EqualTo(PciBarFlags.UpperHalf));
    }

    [Test]
    public void IoBarWithSixteenAddressBitsIsSizedRight()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = bus.Add(0, 3, 0, 0x8086, 0x7010, 0x0101_8000);
        device[0x04] = 0x0005;
        FakePciBus.SetBar(device, 4, 0x1, 0xC040, 0x10);
        PciFunction record = Probe(bus);
        Assert.That(record.BarFlags[4], Is.EqualTo(PciBarFlags.Io));
        Assert.That(record.BarBase[4], Is.EqualTo(0xC040UL));
        Assert.That(record.BarSize[4], Is.EqualTo(0x10UL));
    }

    [Test]
    public void IoBarDecodesFromTheProbedValue()
    {
        PciBars.Decode(0x0000_C001, 0x0000_FFE1, 0, 0, out byte flags, out ulong baseAddress, out ulong size);
        Assert.That((flags, baseAddress, size), Is.EqualTo((PciBarFlags.Io, 0xC000UL, 0x20UL)));
        PciBars.Decode(0x0000_C001, 0xFFFF_FFE1, 0, 0, out flags, out baseAddress, out size);
        Assert.That((flags, baseAddress, size), Is.EqualTo((PciBarFlags.Io, 0xC000UL, 0x20UL)), "32 I/O address bits");
    }

    [Test]
    public void UnimplementedBarHasSizeZeroAndNoFlags()
    {
        PciBars.Decode(0, 0, 0, 0, out byte flags, out ulong baseAddress, out ulong size);
        Assert.That((flags, baseAddress, size), Is.EqualTo(((byte)0, 0UL, 0UL)));
        var bus = new FakePciBus();
        bus.Add(0, 3, 0, 0x8086, 0x1237, 0x0600_0002);
        PciFunction record = Probe(bus);
        for (int slot = 0; slot < 6; slot++)
            Assert.That((record.BarFlags[slot], record.BarBase[slot], record.BarSize[slot]), Is.EqualTo(((byte)0, 0UL, 0UL)));
    }

    [Test]
    public void SixtyFourBitBarInTheLastSlotIsDecodedFromItsLowHalf()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = bus.Add(0, 3, 0, 0x1234, 0x0001, 0x0604_0000, headerType: 1);
        FakePciBus.SetBar(device, 1, 0x4, 0xFE00_0000, 0x10_0000);
        PciFunction record = Probe(bus, slots: 2);
        Assert.That(record.BarFlags[1], Is.EqualTo(PciBarFlags.Memory));
        Assert.That(record.BarSize[1], Is.EqualTo(0x10_0000UL));
        Assert.That(record.BarFlags[2], Is.EqualTo(0), "nothing is written past the function's slots");
    }

    [Test]
    public void ProbeTurnsDecodingOffWhileProbingAndRestoresEverything()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = bus.Add(0, 3, 0, 0x8086, 0x100E, 0x0200_0003);
        device[0x04] = 0x0010_0107; // status: capability list; command: I/O, memory, bus master, SERR
        FakePciBus.SetBar(device, 0, 0x0, 0xFEBC_0000, 0x2_0000);
        FakePciBus.SetBar(device, 1, 0x1, 0xC000, 0x40);
        uint[] before = (uint[])device.Space.Clone();
        Probe(bus);
        Assert.That(bus.Log[0], Is.EqualTo("command 0104"), "decoding off first (the status half written as 0)");
        Assert.That(bus.Log[^1], Is.EqualTo("command 0107"), "the command register restored last");
        foreach (string write in bus.Log.Where(w => w.StartsWith("bar")))
            Assert.That(write, Does.EndWith("(command 0104)"), "a BAR was written while the device decoded");
        Assert.That(device.Space, Is.EqualTo(before), "configuration space as it was");
    }

    [Test]
    public void HostBridgeKeepsDecodingWhileProbed()
    {
        var bus = new FakePciBus();
        FakePciBus.Function device = bus.Add(0, 3, 0, 0x8086, 0x29C0, 0x0600_0000);
        device[0x04] = 0x0006;
        FakePciBus.SetBar(device, 0, 0x0, 0xE000_0000, 0x1000_0000);
        PciFunction record = Probe(bus, keepDecoding: true);
        Assert.That(bus.Log.Where(w => w.StartsWith("command")), Is.Empty);
        Assert.That(record.BarSize[0], Is.EqualTo(0x1000_0000UL));
    }
}
