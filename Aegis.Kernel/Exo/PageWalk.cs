// The kernel's fast path through an environment's page tables: a direct walk of the four
// levels through the direct map, for the hot system calls (user-memory copies, Protect,
// PageQuery, upcall delivery) and for UserPageTables, the one writer of user page tables.
// PageTableBuilder (Core) remains the general, host-tested path for building tables; this
// walker only finds entries; only UserPageTables writes through what it returns.
// Invariant: Leaf returns a pointer to a present 4 KiB leaf in the user half, or null;
// LeafSlot the slot of a 4 KiB leaf (present or not) whose tables exist with a user path, or
// null. The pointers stay valid while the environment lives (its page tables are freed only
// when it ends).
using System.Runtime.CompilerServices;
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
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong* Leaf(ulong rootPhysical, ulong address, out ulong pathBits)
        {
            pathBits = 0;
            if (address >= UserAddresses.UserEnd)
                return null;
            // Each level: the table (through the direct map) plus the entry's byte offset
            // (index * 8, taken straight from the address bits).
            byte* window = (byte*)KernelMemory.DirectMapBase;
            ulong top = *(ulong*)(window + rootPhysical + ((address >> 36) & 0xFF8));
            if ((top & Present) == 0) return null;
            ulong upper = *(ulong*)(window + (top & PageBits.FrameMask) + ((address >> 27) & 0xFF8));
            if ((upper & (Present | Large)) != Present) return null;
            ulong middle = *(ulong*)(window + (upper & PageBits.FrameMask) + ((address >> 18) & 0xFF8));
            if ((middle & (Present | Large)) != Present) return null;
            ulong* leaf = (ulong*)(window + (middle & PageBits.FrameMask) + ((address >> 9) & 0xFF8));
            ulong entry = *leaf;
            if ((entry & Present) == 0) return null;
            pathBits = top & upper & middle & entry & (Writable | User);
            return leaf;
        }

        /// <summary>The slot of the 4 KiB leaf for 'address', present or not, when every table above
        /// it exists and is Present, Writable and User (as the tables PageTableBuilder builds for
        /// user mappings are); null otherwise (the caller builds the tables the general way).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong* LeafSlot(ulong rootPhysical, ulong address)
        {
            const ulong path = Present | Writable | User;
            if (address >= UserAddresses.UserEnd)
                return null;
            byte* window = (byte*)KernelMemory.DirectMapBase;
            ulong top = *(ulong*)(window + rootPhysical + ((address >> 36) & 0xFF8));
            if ((top & path) != path) return null;
            ulong upper = *(ulong*)(window + (top & PageBits.FrameMask) + ((address >> 27) & 0xFF8));
            if ((upper & (path | Large)) != path) return null;
            ulong middle = *(ulong*)(window + (upper & PageBits.FrameMask) + ((address >> 18) & 0xFF8));
            if ((middle & (path | Large)) != path) return null;
            return (ulong*)(window + (middle & PageBits.FrameMask) + ((address >> 9) & 0xFF8));
        }

        /// <summary>The leaf of a page the user may access (and write, if asked), or null.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong* UserLeaf(Environment environment, ulong address, bool write)
        {
            ulong* leaf = Leaf(environment.RootPhysical, address, out ulong pathBits);
            if (leaf == null || (pathBits & User) == 0) return null;
            if (write && (pathBits & Writable) == 0) return null;
            return leaf;
        }
    }
}
