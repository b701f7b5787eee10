// PciBars: a function's base address registers, sized and decoded (pure logic over
// IPciConfigurationSpace, host-tested).
// Sizing is the standard probe: with the function's I/O and memory decoding turned off in its
// command register, each BAR is saved, written with all ones, read back (the bits the device
// keeps at zero are the size's) and restored; the command register is restored last. A 64-bit
// memory BAR takes two slots, probed as one. Host bridges (class 06/00) keep decoding on while
// their BARs are probed: turning a chipset's decoding off may take away the RAM the kernel runs in.
// Decode is the pure rule: the size is the lowest bit the probe left set among the address bits
// (so a device that implements only 16 I/O address bits, whose upper half reads back 0, still
// sizes right); no bit set means the BAR is not implemented (flags and size 0).
// Guarantees: every slot of the record is written (unimplemented slots 0); the command register
// holds its original value afterwards; nothing allocates.
using Aegis.Abi;

namespace Aegis.Kernel.Core.Pci
{
    public static unsafe class PciBars
    {
        public const int CommandOffset = 0x04;
        public const int FirstBarOffset = 0x10;
        /// <summary>Command register bits 0 (I/O space) and 1 (memory space).</summary>
        public const uint DecodeBits = 0x3;

        /// <summary>Decodes one BAR from its value and what it read after all ones were written; for a
        /// 64-bit memory BAR, upperOriginal and upperProbed are the next slot's (else ignored).</summary>
        public static void Decode(uint original, uint probed, uint upperOriginal, uint upperProbed,
            out byte flags, out ulong baseAddress, out ulong size)
        {
            ulong mask;
            if ((original & 1) != 0)
            {
                flags = PciBarFlags.Io;
                baseAddress = original & ~0x3u;
                mask = probed & ~0x3u;
            }
            else
            {
                flags = PciBarFlags.Memory;
                if ((original & 0x8) != 0) flags |= PciBarFlags.Prefetchable;
                baseAddress = original & ~0xFu;
                mask = probed & ~0xFu;
                if (IsMemory64(original))
                {
                    flags |= PciBarFlags.Is64Bit;
                    baseAddress |= (ulong)upperOriginal << 32;
                    mask |= (ulong)upperProbed << 32;
                }
            }
            if (mask == 0)
            {
                flags = 0;
                baseAddress = 0;
                size = 0;
                return;
            }
            size = mask & (~mask + 1); // the lowest set bit
        }

        /// <summary>A memory BAR of type 2 (bits 2:1): 64 bits wide, over two slots.</summary>
        public static bool IsMemory64(uint original) => (original & 1) == 0 && ((original >> 1) & 0x3) == 2;

        /// <summary>Sizes and decodes the first 'slots' BARs of bus:device.function into the record.
        /// A 64-bit BAR in the last slot (malformed) is decoded from its low half alone.</summary>
        public static void Probe(IPciConfigurationSpace config, int bus, int device, int function, int slots,
            bool keepDecoding, ref PciFunction record)
        {
            for (int i = 0; i < PciLimits.BarCount; i++)
            {
                record.BarFlags[i] = 0;
                record.BarBase[i] = 0;
                record.BarSize[i] = 0;
            }
            if (slots <= 0) return;
            uint command = config.Read(bus, device, function, CommandOffset) & 0xFFFF;
            // The status half is written as 0: its bits are cleared by writing ones.
            if (!keepDecoding && (command & DecodeBits) != 0)
                config.Write(bus, device, function, CommandOffset, command & ~DecodeBits);
            for (int slot = 0; slot < slots; slot++)
            {
                int offset = FirstBarOffset + 4 * slot;
                uint original = ProbeOne(config, bus, device, function, offset, out uint probed);
                uint upperOriginal = 0, upperProbed = 0;
                bool wide = IsMemory64(original) && slot + 1 < slots;
                if (wide)
                    upperOriginal = ProbeOne(config, bus, device, function, offset + 4, out upperProbed);
                Decode(original, probed, upperOriginal, upperProbed, out byte flags, out ulong baseAddress, out ulong size);
                if (!wide) flags &= unchecked((byte)~PciBarFlags.Is64Bit);
                record.BarFlags[slot] = flags;
                record.BarBase[slot] = baseAddress;
                record.BarSize[slot] = size;
                if (wide)
                {
                    slot++;
                    record.BarFlags[slot] = PciBarFlags.UpperHalf;
                }
            }
            if (!keepDecoding && (command & DecodeBits) != 0)
                config.Write(bus, device, function, CommandOffset, command);
        }

        /// <summary>Saves the register, writes all ones, reads back, restores: the saved value.</summary>
        private static uint ProbeOne(IPciConfigurationSpace config, int bus, int device, int function, int offset, out uint probed)
        {
            uint original = config.Read(bus, device, function, offset);
            config.Write(bus, device, function, offset, 0xFFFFFFFF);
            probed = config.Read(bus, device, function, offset);
            config.Write(bus, device, function, offset, original);
            return original;
        }
    }
}
