// The PCI table: what the kernel found on the PCI buses at boot, mapped read-only into every
// environment at UserAddresses.PciTable (PciLimits.TablePages pages, the same frames everywhere).
// What devices exist is information, not policy: the kernel enumerates them once (configuration
// mechanism #1) and never changes the table afterwards; which device a libOS drives is its business.
// Layout: a PciTable header at the first byte, then PciTable.Count PciFunction records of
// PciLimits.RecordSize bytes each, the first at PciLimits.RecordsOffset (docs/abi.md, "The PCI table").
using System.Runtime.InteropServices;

namespace Aegis.Abi
{
    public static class PciLimits
    {
        /// <summary>Pages of the table at UserAddresses.PciTable.</summary>
        public const int TablePages = 2;
        /// <summary>Bytes of one PciFunction record (never straddles a page).</summary>
        public const int RecordSize = 128;
        /// <summary>Where the first PciFunction record starts, from UserAddresses.PciTable.</summary>
        public const int RecordsOffset = 128;
        /// <summary>Functions the table holds; further functions are counted in PciTable.Found, not recorded.</summary>
        public const int MaximumFunctions = (TablePages * 4096 - RecordsOffset) / RecordSize;
        /// <summary>BAR slots per record (a header type 0 function has six, a PCI-to-PCI bridge two).</summary>
        public const int BarCount = 6;
    }

    /// <summary>The header at UserAddresses.PciTable (128 bytes, PciLimits.RecordsOffset).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PciTable
    {
        public ulong Magic;        // PciTableMagic once the kernel has looked (even when nothing answered: Flags)
        public ulong Count;        // records that follow (at most PciLimits.MaximumFunctions)
        public ulong Found;        // functions found; more than Count when the table was full
        public ulong Buses;        // buses scanned (bus 0 and every secondary bus behind a bridge)
        public ulong Flags;        // PciTableFlags
        public ulong ScanTimestampTicks; // TSC ticks the scan took (InfoPage.TimestampHz per second)

        public const ulong PciTableMagic = 0x4145474953504349; // "AEGISPCI"
    }

    /// <summary>PciTable.Flags.</summary>
    public static class PciTableFlags
    {
        /// <summary>Configuration mechanism #1 did not answer (no PCI, or not through ports 0xCF8/0xCFC): nothing was scanned.</summary>
        public const ulong NoConfigurationMechanism = 1;
        /// <summary>Found exceeded PciLimits.MaximumFunctions: the functions past it (in scan order) are not in the table.</summary>
        public const ulong Truncated = 2;
        /// <summary>A bridge named a secondary bus already scanned (or bus 0): it was not scanned twice.</summary>
        public const ulong BusLoop = 4;
    }

    /// <summary>PciFunction.Flags.</summary>
    public static class PciFunctionFlags
    {
        /// <summary>The capability list holds an MSI capability (at PciFunction.MsiCapability).</summary>
        public const byte Msi = 1;
        /// <summary>The capability list holds an MSI-X capability (at PciFunction.MsixCapability).</summary>
        public const byte Msix = 2;
        /// <summary>The capability list was malformed (it looped or ran past its bound); the walk stopped there.</summary>
        public const byte CapabilitiesMalformed = 4;
        /// <summary>Header type bit 7: the device has more functions than function 0.</summary>
        public const byte MultiFunction = 8;
    }

    /// <summary>PciFunction.BarFlags[i]: what BAR slot i decodes. 0: unimplemented (size 0).</summary>
    public static class PciBarFlags
    {
        /// <summary>An I/O port range: BarBase is the first port.</summary>
        public const byte Io = 1;
        /// <summary>A memory range: BarBase is the physical address.</summary>
        public const byte Memory = 2;
        /// <summary>A 64-bit memory BAR: it takes this slot and the next (which is UpperHalf).</summary>
        public const byte Is64Bit = 4;
        /// <summary>Prefetchable memory (no side effects on reads; may be mapped write-combining).</summary>
        public const byte Prefetchable = 8;
        /// <summary>The slot is the upper 32 bits of the 64-bit BAR in the slot before it (base and size 0 here).</summary>
        public const byte UpperHalf = 16;
    }

    /// <summary>One PCI function (128 bytes, PciLimits.RecordSize). Identification fields are the
    /// configuration space's own values, read at boot; BARs are decoded (base and size).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct PciFunction
    {
        public byte Bus;
        public byte Device;              // 0..31
        public byte Function;            // 0..7
        public byte HeaderType;          // bits 0..6: 0 device, 1 PCI-to-PCI bridge, 2 CardBus bridge; bit 7 multi-function
        public ushort VendorId;
        public ushort DeviceId;
        public byte Revision;
        public byte ProgIf;
        public byte Subclass;
        public byte ClassCode;
        public ushort SubsystemVendorId; // header type 0 only (0 otherwise)
        public ushort SubsystemId;
        public byte InterruptLine;       // what the firmware wrote (the legacy IRQ), 0xFF: none
        public byte InterruptPin;        // 0 none, 1..4 INTA#..INTD#
        public byte MsiCapability;       // configuration-space offset of the MSI capability, 0 none
        public byte MsixCapability;      // offset of the MSI-X capability, 0 none
        public ushort Command;           // the command register as the kernel left it (as it found it)
        public byte SecondaryBus;        // PCI-to-PCI bridges: the bus behind it; 0 otherwise
        public byte Flags;               // PciFunctionFlags
        public fixed byte BarFlags[6];   // PciBarFlags per slot
        public ushort Reserved;
        public fixed ulong BarBase[6];   // decoded base: a physical address or the first I/O port
        public fixed ulong BarSize[6];   // bytes (or ports) it decodes; 0 unimplemented
    }
}
