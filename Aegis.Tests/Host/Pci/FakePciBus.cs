// FakePciBus: configuration space for host tests. Functions are 256-byte spaces keyed by
// bus:device.function; a BAR behaves as hardware does (a write keeps only the address bits its
// size allows, the low flag bits are read-only); the command register is writable and every
// write to it is logged, with the BAR writes, so tests can check decoding was off while probing.
using Aegis.Kernel.Core.Pci;
using NUnit.Framework;

namespace Aegis.Tests.Host.Pci;

internal sealed class FakePciBus : IPciConfigurationSpace
{
    internal sealed class Function
    {
        public readonly uint[] Space = new uint[64];
        /// <summary>Per BAR register (0x10..0x24): the bits a write may change (0: read-only/unimplemented).</summary>
        public readonly uint[] BarWritable = new uint[6];

        public uint this[int offset]
        {
            get => Space[offset / 4];
            set => Space[offset / 4] = value;
        }
    }

    private readonly Dictionary<(int, int, int), Function> _functions = new();
    public readonly List<string> Log = new();
    public int Reads { get; private set; }

    public Function Add(int bus, int device, int function, ushort vendor, ushort deviceId, uint classWord, int headerType = 0)
    {
        var made = new Function();
        made[0x00] = (uint)deviceId << 16 | vendor;
        made[0x08] = classWord;
        made[0x0C] = (uint)headerType << 16;
        _functions[(bus, device, function)] = made;
        return made;
    }

    /// <summary>A memory or I/O BAR at slot 'slot' with its flag bits, base and size (a power of two).
    /// A 64-bit BAR's upper half is the next slot.</summary>
    public static void SetBar(Function function, int slot, uint flagBits, ulong baseAddress, ulong size, bool is64 = false)
    {
        ulong addressMask = ~(size - 1);
        bool io = (flagBits & 1) != 0;
        uint lowFlags = io ? 0x3u : 0xFu;
        function[0x10 + 4 * slot] = (uint)(baseAddress & ~(ulong)lowFlags) | flagBits;
        function.BarWritable[slot] = (uint)addressMask & ~lowFlags;
        if (io) function.BarWritable[slot] &= 0xFFFF; // 16 I/O address bits: the upper half reads 0
        if (is64)
        {
            function[0x10 + 4 * (slot + 1)] = (uint)(baseAddress >> 32);
            function.BarWritable[slot + 1] = (uint)(addressMask >> 32);
        }
    }

    public uint Read(int bus, int device, int function, int offset)
    {
        Reads++;
        Assert.That(offset % 4, Is.EqualTo(0), "unaligned configuration read");
        Assert.That(offset, Is.InRange(0, 252));
        return _functions.TryGetValue((bus, device, function), out Function found) ? found[offset] : 0xFFFFFFFF;
    }

    public void Write(int bus, int device, int function, int offset, uint value)
    {
        Assert.That(_functions.TryGetValue((bus, device, function), out Function found), Is.True, $"write to absent {bus}:{device}.{function}");
        if (offset == 0x04)
        {
            Log.Add($"command {value & 0xFFFF:x4}");
            found[0x04] = (found[0x04] & 0xFFFF0000) | (value & 0xFFFF);
            return;
        }
        if (offset >= 0x10 && offset < 0x28)
        {
            int slot = (offset - 0x10) / 4;
            Log.Add($"bar{slot} {value:x8} (command {found[0x04] & 0xFFFF:x4})");
            uint writable = found.BarWritable[slot];
            found[offset] = (found[offset] & ~writable) | (value & writable);
            return;
        }
        Assert.Fail($"unexpected configuration write at 0x{offset:x2}");
    }
}
