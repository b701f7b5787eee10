// The PCI table (docs/abi.md, "The PCI table"): enumerated once at boot and published read-only
// to every environment — what devices exist is information; which of them a libOS drives, and
// how, is its own business (nothing here maps a BAR or routes an interrupt).
// Invariants: the table's PciLimits.TablePages frames are contiguous, the kernel's (never in the
// frame ledger, never freed), written only here, before the first environment exists, and mapped
// read-only, no-execute at UserAddresses.PciTable by Environments.Create; no environment can make
// the kernel touch configuration space (nothing after boot does), so no path an environment
// drives reads, probes or allocates anything here.
using System;
using Aegis.Abi;
using Aegis.Kernel.Core.Pci;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class PciDevices
    {
        private const ulong PageSize = 4096;
        private static ulong s_firstFrame;
        private static PciTable* s_table;

        /// <summary>The frame of page 'page' (0..PciLimits.TablePages-1) of the table.</summary>
        public static ulong Frame(int page) => s_firstFrame + (ulong)page;

        public static PciTable* Table => s_table;

        public static PciFunction* Record(int index) => (PciFunction*)((byte*)s_table + PciLimits.RecordsOffset + index * PciLimits.RecordSize);

        /// <summary>Scans the PCI buses (interrupts must be off: mechanism #1 is two port accesses)
        /// and fills the table; prints one line saying what it found.</summary>
        public static void Initialize()
        {
            if (!KernelMemory.Frames.TryAllocateContiguous(PciLimits.TablePages, out s_firstFrame))
                Diagnostics.Panic.Fail("no memory", "cannot allocate the PCI table");
            s_table = (PciTable*)KernelMemory.PhysicalToVirtual(s_firstFrame * PageSize);
            for (int page = 0; page < PciLimits.TablePages; page++)
                Cpu.ZeroPage((byte*)s_table + page * (int)PageSize);
            s_table->Magic = PciTable.PciTableMagic;
            ulong started = Cpu.ReadTimestampCounter();
            if (!PciConfigurationPorts.Present())
            {
                s_table->Flags = PciTableFlags.NoConfigurationMechanism;
                KernelLog.WriteLine("Aegis: PCI: configuration mechanism #1 does not answer; no PCI table (PciTable.Count = 0)");
                return;
            }
            PciScanResult found = PciScanner.Scan(new PciConfigurationPorts(),
                new Span<PciFunction>(Record(0), PciLimits.MaximumFunctions));
            ulong ticks = Cpu.ReadTimestampCounter() - started;
            s_table->Count = (ulong)found.Count;
            s_table->Found = (ulong)found.Found;
            s_table->Buses = (ulong)found.Buses;
            s_table->Flags = found.Flags;
            s_table->ScanTimestampTicks = ticks;
            KernelLog.WriteLine(Summary(found, ticks));
        }

        /// <summary>"Aegis: PCI: 6 functions on 1 bus in 41 us; storage 00:04.0 1af4:1001 (01/00)".</summary>
        private static string Summary(PciScanResult found, ulong ticks)
        {
            ulong microseconds = Clock.TimestampHz == 0 ? 0 : ticks * 1000 / (Clock.TimestampHz / 1000);
            string line = "Aegis: PCI: " + found.Found.ToString() + (found.Found == 1 ? " function on " : " functions on ")
                + found.Buses.ToString() + (found.Buses == 1 ? " bus" : " buses") + " in " + microseconds.ToString() + " us";
            if ((found.Flags & PciTableFlags.Truncated) != 0)
                line += " (the table holds the first " + found.Count.ToString() + ")";
            if ((found.Flags & PciTableFlags.BusLoop) != 0)
                line += " (a bridge named a bus already scanned)";
            for (int i = 0; i < found.Count; i++)
            {
                PciFunction* record = Record(i);
                string kind = record->ClassCode == 0x01 ? "storage" : record->ClassCode == 0x02 ? "network" : null;
                if (kind == null) continue;
                line += "; " + kind + " " + record->Bus.ToString("x2") + ":" + record->Device.ToString("x2") + "." + record->Function.ToString()
                    + " " + record->VendorId.ToString("x4") + ":" + record->DeviceId.ToString("x4")
                    + " (" + record->ClassCode.ToString("x2") + "/" + record->Subclass.ToString("x2") + ")";
            }
            return line;
        }
    }
}
