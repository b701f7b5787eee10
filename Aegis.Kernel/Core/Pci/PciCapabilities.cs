// PciCapabilities: the walk of a function's capability list (pure logic over
// IPciConfigurationSpace, host-tested).
// The list starts at the pointer in 0x34 (0x14 for a CardBus bridge) when status bit 4 is set;
// each entry's dword holds its id (bits 0..7) and the next pointer (bits 8..15, the low two bits
// reserved and ignored). Entries live in 0x40..0xFF: at most 48 dwords.
// Guarantees: the walk ends on any list — a pointer below 0x40 or one already visited (a loop)
// stops it and marks it malformed; it reads at most 48 entries; nothing allocates.
using Aegis.Abi;

namespace Aegis.Kernel.Core.Pci
{
    public static class PciCapabilities
    {
        public const byte MsiId = 0x05;
        public const byte MsixId = 0x11;
        public const int StatusCapabilityList = 0x10 << 16; // status bit 4, in the command/status dword
        public const int FirstEntryOffset = 0x40;
        public const int MaximumEntries = (256 - FirstEntryOffset) / 4;

        /// <summary>The configuration-space offset of the capability pointer for a header type.</summary>
        public static int PointerOffset(int headerType) => (headerType & 0x7F) == 2 ? 0x14 : 0x34;

        /// <summary>Walks the list: the first MSI and MSI-X capabilities' offsets (0 none), and
        /// PciFunctionFlags (Msi, Msix, CapabilitiesMalformed).</summary>
        public static byte Walk(IPciConfigurationSpace config, int bus, int device, int function, int headerType,
            out byte msi, out byte msix)
        {
            msi = 0;
            msix = 0;
            uint status = config.Read(bus, device, function, PciBars.CommandOffset);
            if ((status & StatusCapabilityList) == 0) return 0;
            int pointer = (int)(config.Read(bus, device, function, PointerOffset(headerType)) & 0xFC);
            ulong visited = 0; // bit (offset - 0x40) / 4
            byte flags = 0;
            while (pointer != 0)
            {
                if (pointer < FirstEntryOffset)
                    return (byte)(flags | PciFunctionFlags.CapabilitiesMalformed);
                int index = (pointer - FirstEntryOffset) / 4;
                if ((visited & (1UL << index)) != 0)
                    return (byte)(flags | PciFunctionFlags.CapabilitiesMalformed);
                visited |= 1UL << index;
                uint entry = config.Read(bus, device, function, pointer);
                byte id = (byte)entry;
                if (id == MsiId && msi == 0) { msi = (byte)pointer; flags |= PciFunctionFlags.Msi; }
                if (id == MsixId && msix == 0) { msix = (byte)pointer; flags |= PciFunctionFlags.Msix; }
                pointer = (int)((entry >> 8) & 0xFC);
            }
            return flags;
        }
    }
}
