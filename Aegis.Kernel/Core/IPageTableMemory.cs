// IPageTableMemory: how PageTableBuilder reaches page tables, by physical address. The kernel
// implements it with pointers into its direct map; host tests with a dictionary.
namespace Aegis.Kernel.Core
{
    public interface IPageTableMemory
    {
        /// <summary>The physical address of a new zeroed 4 KiB table, or 0 when out of memory.</summary>
        ulong AllocateTable();

        /// <summary>Entry index (0..511) of the table at tablePhysical.</summary>
        ulong ReadEntry(ulong tablePhysical, int index);

        void WriteEntry(ulong tablePhysical, int index, ulong entry);
    }
}
