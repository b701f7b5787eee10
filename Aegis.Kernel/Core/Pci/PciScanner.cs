// PciScanner: the enumeration of the PCI hierarchy (pure logic over IPciConfigurationSpace,
// host-tested against a fake bus).
// Bus 0 first, then the secondary bus behind every PCI-to-PCI bridge (header type 1) found, in
// the order the bridges were found (a queue of buses); on each bus devices 0..31, function 0
// and, when its header type has bit 7 (multi-function), functions 1..7. A function exists when
// its vendor id is not 0xFFFF (a device without function 0 has none).
// Each function found is counted; the first table.Length of them are recorded: identification,
// BARs (PciBars.Probe), interrupt line and pin, the capability walk. Past the table's end the
// scan goes on (bridges are still followed and functions counted, Found > Count, flag Truncated)
// but records and probes nothing more.
// Guarantees: every bus is scanned at most once (a bridge naming a bus already scanned sets
// BusLoop and is not followed; a bridge with secondary bus 0, left unconfigured by the firmware,
// is not followed), so the scan ends after at most 256 buses x 32 devices x 8 functions; it does
// not assign bus numbers or change anything but what the BAR probe writes and restores; nothing
// allocates.
using System;
using Aegis.Abi;

namespace Aegis.Kernel.Core.Pci
{
    public struct PciScanResult
    {
        public int Count;   // records written
        public int Found;   // functions found
        public int Buses;   // buses scanned
        public ulong Flags; // PciTableFlags
    }

    public static unsafe class PciScanner
    {
        public const int BusCount = 256, DevicesPerBus = 32, FunctionsPerDevice = 8;
        public const ushort NoVendor = 0xFFFF;
        private const int IdOffset = 0x00, ClassOffset = 0x08, HeaderOffset = 0x0C, BusNumbersOffset = 0x18;
        private const int SubsystemOffset = 0x2C, CardBusSubsystemOffset = 0x40, InterruptOffset = 0x3C;

        public static PciScanResult Scan(IPciConfigurationSpace config, Span<PciFunction> table)
        {
            PciScanResult result = default;
            byte* queue = stackalloc byte[BusCount];
            ulong* seen = stackalloc ulong[BusCount / 64];
            for (int i = 0; i < BusCount / 64; i++) seen[i] = 0;
            int head = 0, tail = 0;
            queue[tail++] = 0;
            seen[0] = 1;
            while (head < tail)
            {
                int bus = queue[head++];
                result.Buses++;
                for (int device = 0; device < DevicesPerBus; device++)
                {
                    if ((ushort)config.Read(bus, device, 0, IdOffset) == NoVendor) continue;
                    int functions = (config.Read(bus, device, 0, HeaderOffset) >> 16 & 0x80) != 0 ? FunctionsPerDevice : 1;
                    for (int function = 0; function < functions; function++)
                    {
                        uint id = config.Read(bus, device, function, IdOffset);
                        if ((ushort)id == NoVendor) continue;
                        result.Found++;
                        int headerType = (int)(config.Read(bus, device, function, HeaderOffset) >> 16) & 0xFF;
                        if (result.Count < table.Length)
                            Record(config, bus, device, function, id, headerType, ref table[result.Count++]);
                        else
                            result.Flags |= PciTableFlags.Truncated;
                        if ((headerType & 0x7F) != 1) continue;
                        int secondary = (int)(config.Read(bus, device, function, BusNumbersOffset) >> 8) & 0xFF;
                        if (secondary == 0) continue; // not configured by the firmware
                        if ((seen[secondary / 64] & (1UL << (secondary % 64))) != 0)
                        {
                            result.Flags |= PciTableFlags.BusLoop;
                            continue;
                        }
                        seen[secondary / 64] |= 1UL << (secondary % 64);
                        queue[tail++] = (byte)secondary;
                    }
                }
            }
            return result;
        }

        /// <summary>Fills one record (every field: the record may hold an earlier scan's bytes).</summary>
        public static void Record(IPciConfigurationSpace config, int bus, int device, int function, uint id, int headerType, ref PciFunction record)
        {
            record.Bus = (byte)bus;
            record.Device = (byte)device;
            record.Function = (byte)function;
            record.HeaderType = (byte)headerType;
            record.VendorId = (ushort)id;
            record.DeviceId = (ushort)(id >> 16);
            uint classWord = config.Read(bus, device, function, ClassOffset);
            record.Revision = (byte)classWord;
            record.ProgIf = (byte)(classWord >> 8);
            record.Subclass = (byte)(classWord >> 16);
            record.ClassCode = (byte)(classWord >> 24);
            int kind = headerType & 0x7F;
            uint subsystem = kind == 0 ? config.Read(bus, device, function, SubsystemOffset)
                : kind == 2 ? config.Read(bus, device, function, CardBusSubsystemOffset) : 0;
            record.SubsystemVendorId = (ushort)subsystem;
            record.SubsystemId = (ushort)(subsystem >> 16);
            uint interrupt = config.Read(bus, device, function, InterruptOffset);
            record.InterruptLine = (byte)interrupt;
            record.InterruptPin = (byte)(interrupt >> 8);
            record.SecondaryBus = kind == 1 ? (byte)(config.Read(bus, device, function, BusNumbersOffset) >> 8) : (byte)0;
            record.Reserved = 0;
            bool hostBridge = record.ClassCode == 0x06 && record.Subclass == 0x00;
            PciBars.Probe(config, bus, device, function, BarSlots(headerType), hostBridge, ref record);
            record.Command = (ushort)config.Read(bus, device, function, PciBars.CommandOffset);
            byte flags = PciCapabilities.Walk(config, bus, device, function, headerType, out byte msi, out byte msix);
            if ((headerType & 0x80) != 0) flags |= PciFunctionFlags.MultiFunction;
            record.Flags = flags;
            record.MsiCapability = msi;
            record.MsixCapability = msix;
        }

        /// <summary>BAR slots of a header type: 6 (device), 2 (PCI-to-PCI bridge), 1 (CardBus bridge's socket registers).</summary>
        public static int BarSlots(int headerType)
        {
            switch (headerType & 0x7F)
            {
                case 0: return 6;
                case 1: return 2;
                case 2: return 1;
                default: return 0;
            }
        }
    }
}
