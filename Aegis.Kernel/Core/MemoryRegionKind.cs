// MemoryRegionKind: what the firmware says a physical memory range is for (the multiboot2
// memory-map entry type). Only Available memory may ever become a free frame.
namespace Aegis.Kernel.Core
{
    public enum MemoryRegionKind
    {
        /// <summary>Type 1: RAM the kernel may use.</summary>
        Available = 1,
        /// <summary>Type 2 and every type this list does not name.</summary>
        Reserved = 2,
        /// <summary>Type 3: holds ACPI tables; usable only after they have been read.</summary>
        AcpiReclaimable = 3,
        /// <summary>Type 4: ACPI non-volatile storage, kept across sleep states.</summary>
        AcpiNvs = 4,
        /// <summary>Type 5: RAM the firmware found defective.</summary>
        BadRam = 5,
    }
}
