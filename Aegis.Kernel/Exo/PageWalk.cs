// The kernel's fast path through an environment's page tables: a direct walk of the four
// levels through the direct map, for the hot system calls (user-memory copies, Protect,
// PageQuery, upcall delivery). PageTableBuilder (Core) remains the general, host-tested path
// for building tables; this walker only reads entries and edits leaves in place.
// Invariant: it returns a pointer to a present 4 KiB leaf in the user half, or null; the
// pointer stays valid until the environment's tables change.
using Aegis.Abi;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class PageWalk
    {
        private const ulong Present = 1, Writable = 2, User = 4, Large = 0x80;

        /// <summary>The leaf entry for the page holding 'address', or null if it is not mapped
        /// (or mapped by a large page, which environments never have). 'pathBits' is the AND of
        /// the Writable and User bits of every level, as the MMU combines them.</summary>
        public static ulong* Leaf(ulong rootPhysical, ulong address, out ulong pathBits)
        {
            pathBits = 0;
            if (address >= UserAddresses.UserEnd)
                return null;
            ulong* table = (ulong*)(KernelMemory.DirectMapBase + rootPhysical);
            ulong entry = table[(address >> 39) & 511];
            if ((entry & Present) == 0) return null;
            ulong bits = entry;
            table = (ulong*)(KernelMemory.DirectMapBase + (entry & PageBits.FrameMask));
            entry = table[(address >> 30) & 511];
            if ((entry & Present) == 0 || (entry & Large) != 0) return null;
            bits &= entry;
            table = (ulong*)(KernelMemory.DirectMapBase + (entry & PageBits.FrameMask));
            entry = table[(address >> 21) & 511];
            if ((entry & Present) == 0 || (entry & Large) != 0) return null;
            bits &= entry;
            table = (ulong*)(KernelMemory.DirectMapBase + (entry & PageBits.FrameMask));
            ulong* leaf = &table[(address >> 12) & 511];
            if ((*leaf & Present) == 0) return null;
            pathBits = bits & *leaf & (Writable | User);
            return leaf;
        }

        /// <summary>The leaf of a page the user may access (and write, if asked), or null.</summary>
        public static ulong* UserLeaf(Environment environment, ulong address, bool write)
        {
            ulong* leaf = Leaf(environment.RootPhysical, address, out ulong pathBits);
            if (leaf == null || (pathBits & User) == 0) return null;
            if (write && (pathBits & Writable) == 0) return null;
            return leaf;
        }
    }
}
