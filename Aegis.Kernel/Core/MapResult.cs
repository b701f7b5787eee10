// MapResult: the outcome of a PageTableBuilder operation. Anything but Ok means the mapping
// the caller asked about was not changed.
namespace Aegis.Kernel.Core
{
    public enum MapResult
    {
        Ok,
        /// <summary>Bits 63..47 of the virtual address are not all equal to bit 47.</summary>
        NotCanonical,
        /// <summary>An address is not aligned to the page size the operation works on.</summary>
        Misaligned,
        /// <summary>The physical address does not fit in 52 bits.</summary>
        PhysicalAddressTooLarge,
        /// <summary>A present page is already mapped there: unmap it first.</summary>
        AlreadyMapped,
        /// <summary>A 4 KiB page inside a large page, or a large page over an existing page table.</summary>
        ConflictsWithLargePage,
        /// <summary>No present page at that address.</summary>
        NotMapped,
        /// <summary>A page table was needed and none could be allocated.</summary>
        OutOfMemory,
    }
}
