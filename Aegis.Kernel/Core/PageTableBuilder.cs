// PageTableBuilder: builds and edits one x86-64 4-level page-table tree (PML4 -> PDPT -> PD
// -> PT), reaching the tables through IPageTableMemory. Levels are numbered 3 (PML4) down to
// 0 (PT); a leaf is a 4 KiB PT entry, a 2 MiB PD entry or a 1 GiB PDPT entry (PS bit set).
//
// Invariants it keeps:
//   - intermediate entries it creates are Present | Writable, plus User when a User leaf lies
//     below; never NoExecute. Protection is decided at the leaves only;
//   - a present leaf is never overwritten: Map and MapLarge answer AlreadyMapped, and the
//     caller must Unmap first (so a libOS cannot silently lose a binding);
//   - physical addresses in entries fit in 52 bits and are aligned to their page size;
//   - validation comes first: an error result means no leaf changed. The one exception is
//     OutOfMemory, which can leave new, empty intermediate tables linked in (they are valid
//     and the next Map reuses them).
// TLB invalidation after Unmap or Protect is the caller's job (the Hal issues invlpg).
namespace Aegis.Kernel.Core
{
    public sealed class PageTableBuilder
    {
        public const ulong PageSize = 0x1000;
        public const ulong LargePageSize = 0x200000;
        public const ulong HugePageSize = 0x40000000;

        /// <summary>Physical addresses must be below 2^52.</summary>
        public const ulong PhysicalAddressLimit = 1UL << 52;

        private const int TopLevel = 3;
        private const int EntriesPerTable = 512;
        private const ulong TableAddressMask = 0x000F_FFFF_FFFF_F000;
        private const ulong PresentBit = (ulong)PageFlags.Present;
        private const ulong LargeBit = (ulong)PageFlags.Large;
        private const ulong UserBit = (ulong)PageFlags.User;
        private const ulong WritableBit = (ulong)PageFlags.Writable;
        private const ulong NoExecuteBit = (ulong)PageFlags.NoExecute;
        private const ulong IntermediateBits = PresentBit | WritableBit;

        /// <summary>The flag bits a leaf takes from the caller (bit 7, PS or PAT, is never one of them).</summary>
        // Bits 9-11 are ignored by the MMU and kept for the software that owns the mapping
        // (a libOS's copy-on-write mark, for instance).
        private const ulong SoftwareBits = 0xE00;
        private const ulong LeafFlagMask = (ulong)(PageFlags.Present | PageFlags.Writable | PageFlags.User |
            PageFlags.WriteThrough | PageFlags.CacheDisable | PageFlags.Accessed | PageFlags.Dirty |
            PageFlags.Global | PageFlags.NoExecute) | SoftwareBits;

        private readonly IPageTableMemory _memory;

        public PageTableBuilder(IPageTableMemory memory, ulong rootPhysical)
        {
            _memory = memory;
            RootPhysical = rootPhysical;
        }

        /// <summary>A builder over a new, empty PML4; false when no table could be allocated.</summary>
        public static bool TryCreate(IPageTableMemory memory, out PageTableBuilder builder)
        {
            ulong root = memory.AllocateTable();
            builder = root == 0 ? null : new PageTableBuilder(memory, root);
            return builder != null;
        }

        /// <summary>Points the builder at a new, empty PML4 from its memory (the old tables are the
        /// caller's to free): one builder object serves one owner after another without being
        /// allocated again. False, and unchanged, when no table could be allocated.</summary>
        public bool TryStartOver()
        {
            ulong root = _memory.AllocateTable();
            if (root == 0) return false;
            RootPhysical = root;
            return true;
        }

        /// <summary>The PML4's physical address (the value for CR3).</summary>
        public ulong RootPhysical { get; private set; }

        public static bool IsCanonical(ulong virtualAddress)
            => (((long)virtualAddress << 16) >> 16) == (long)virtualAddress;

        /// <summary>Maps one 4 KiB page. The Large bit in flags is ignored (it would be PAT here).</summary>
        public MapResult Map(ulong virtualAddress, ulong physicalAddress, PageFlags flags)
            => MapLeaf(virtualAddress, physicalAddress, (ulong)flags & LeafFlagMask, 0);

        /// <summary>Maps one 2 MiB page; it cannot replace a page table already there.</summary>
        public MapResult MapLarge(ulong virtualAddress, ulong physicalAddress, PageFlags flags)
            => MapLeaf(virtualAddress, physicalAddress, ((ulong)flags & LeafFlagMask) | LargeBit, 1);

        /// <summary>Removes the leaf mapping virtualAddress (a large page is unmapped by its first
        /// address) and returns the entry it held.</summary>
        public MapResult Unmap(ulong virtualAddress, out ulong previousEntry)
        {
            previousEntry = 0;
            MapResult found = FindMappedLeaf(virtualAddress, out ulong table, out int level, out ulong entry);
            if (found != MapResult.Ok) return found;
            _memory.WriteEntry(table, IndexAt(virtualAddress, level), 0);
            previousEntry = entry;
            return MapResult.Ok;
        }

        /// <summary>Replaces the leaf's flags with flags | Present, keeping its address and page size.</summary>
        public MapResult Protect(ulong virtualAddress, PageFlags flags)
        {
            MapResult found = FindMappedLeaf(virtualAddress, out ulong table, out int level, out ulong entry);
            if (found != MapResult.Ok) return found;
            ulong bits = ((ulong)flags & LeafFlagMask) | PresentBit;
            if ((bits & UserBit) != 0) AddUserToPath(virtualAddress, level);
            _memory.WriteEntry(table, IndexAt(virtualAddress, level), (entry & ~LeafFlagMask) | bits);
            return MapResult.Ok;
        }

        /// <summary>The physical address virtualAddress maps to, and the effective flags the MMU
        /// applies: Writable and User only when every level has them, NoExecute when any level has
        /// it, Large for 2 MiB and 1 GiB pages, the other bits from the leaf.</summary>
        public bool TryTranslate(ulong virtualAddress, out ulong physicalAddress, out PageFlags flags)
        {
            physicalAddress = 0;
            flags = PageFlags.None;
            if (!IsCanonical(virtualAddress)) return false;
            ulong table = RootPhysical;
            ulong allOf = WritableBit | UserBit, anyOf = 0;
            for (int level = TopLevel; level >= 0; level--)
            {
                ulong entry = _memory.ReadEntry(table, IndexAt(virtualAddress, level));
                if ((entry & PresentBit) == 0) return false;
                allOf &= entry;
                anyOf |= entry & NoExecuteBit;
                if (IsLeaf(entry, level))
                {
                    ulong offsetMask = PageSizeAt(level) - 1;
                    physicalAddress = (entry & TableAddressMask & ~offsetMask) | (virtualAddress & offsetMask);
                    ulong bits = (entry & LeafFlagMask & ~(WritableBit | UserBit)) | allOf | anyOf;
                    flags = (PageFlags)(level > 0 ? bits | LargeBit : bits);
                    return true;
                }
                table = entry & TableAddressMask;
            }
            return false;
        }

        private MapResult MapLeaf(ulong virtualAddress, ulong physicalAddress, ulong leafBits, int leafLevel)
        {
            ulong offsetMask = PageSizeAt(leafLevel) - 1;
            if (!IsCanonical(virtualAddress)) return MapResult.NotCanonical;
            if ((virtualAddress & offsetMask) != 0 || (physicalAddress & offsetMask) != 0) return MapResult.Misaligned;
            if (physicalAddress >= PhysicalAddressLimit) return MapResult.PhysicalAddressTooLarge;

            MapResult check = CheckSlotFree(virtualAddress, leafLevel);
            if (check != MapResult.Ok) return check;
            MapResult walk = FindOrCreateTable(virtualAddress, leafLevel, (leafBits & UserBit) != 0, out ulong table);
            if (walk != MapResult.Ok) return walk;
            _memory.WriteEntry(table, IndexAt(virtualAddress, leafLevel), physicalAddress | leafBits | PresentBit);
            return MapResult.Ok;
        }

        /// <summary>Read-only walk: may a leaf at leafLevel be written for this address?</summary>
        private MapResult CheckSlotFree(ulong virtualAddress, int leafLevel)
        {
            ulong table = RootPhysical;
            for (int level = TopLevel; level > leafLevel; level--)
            {
                ulong entry = _memory.ReadEntry(table, IndexAt(virtualAddress, level));
                if ((entry & PresentBit) == 0) return MapResult.Ok;
                if (IsLeaf(entry, level)) return MapResult.ConflictsWithLargePage;
                table = entry & TableAddressMask;
            }
            ulong slot = _memory.ReadEntry(table, IndexAt(virtualAddress, leafLevel));
            if ((slot & PresentBit) == 0) return MapResult.Ok;
            if (leafLevel > 0 && !IsLeaf(slot, leafLevel)) return MapResult.ConflictsWithLargePage;
            return MapResult.AlreadyMapped;
        }

        /// <summary>Walks from the root to the table holding leafLevel's entry, creating missing
        /// tables and giving every entry on the way Present | Writable (| User when user).</summary>
        private MapResult FindOrCreateTable(ulong virtualAddress, int leafLevel, bool user, out ulong table)
        {
            table = RootPhysical;
            ulong wanted = IntermediateBits | (user ? UserBit : 0);
            for (int level = TopLevel; level > leafLevel; level--)
            {
                int index = IndexAt(virtualAddress, level);
                ulong entry = _memory.ReadEntry(table, index);
                if ((entry & PresentBit) == 0)
                {
                    ulong created = _memory.AllocateTable();
                    if (created == 0) return MapResult.OutOfMemory;
                    entry = created | wanted;
                    _memory.WriteEntry(table, index, entry);
                }
                else if (IsLeaf(entry, level))
                {
                    return MapResult.ConflictsWithLargePage;
                }
                else if ((entry & wanted) != wanted)
                {
                    entry |= wanted;
                    _memory.WriteEntry(table, index, entry);
                }
                table = entry & TableAddressMask;
            }
            return MapResult.Ok;
        }

        /// <summary>Finds the present leaf for an address given as its page's first byte.</summary>
        private MapResult FindMappedLeaf(ulong virtualAddress, out ulong table, out int level, out ulong entry)
        {
            table = RootPhysical;
            level = TopLevel;
            entry = 0;
            if (!IsCanonical(virtualAddress)) return MapResult.NotCanonical;
            if ((virtualAddress & (PageSize - 1)) != 0) return MapResult.Misaligned;
            for (; level >= 0; level--)
            {
                entry = _memory.ReadEntry(table, IndexAt(virtualAddress, level));
                if ((entry & PresentBit) == 0) return MapResult.NotMapped;
                if (IsLeaf(entry, level))
                    return (virtualAddress & (PageSizeAt(level) - 1)) == 0 ? MapResult.Ok : MapResult.Misaligned;
                table = entry & TableAddressMask;
            }
            return MapResult.NotMapped;
        }

        private void AddUserToPath(ulong virtualAddress, int leafLevel)
        {
            ulong table = RootPhysical;
            for (int level = TopLevel; level > leafLevel; level--)
            {
                int index = IndexAt(virtualAddress, level);
                ulong entry = _memory.ReadEntry(table, index);
                if ((entry & UserBit) == 0) _memory.WriteEntry(table, index, entry | UserBit);
                table = entry & TableAddressMask;
            }
        }

        /// <summary>A present entry ends the walk at level 0, or at level 1 or 2 with PS set.
        /// (PS in a PML4 entry is reserved; it is treated as a table pointer.)</summary>
        private static bool IsLeaf(ulong entry, int level)
            => level == 0 || (level < TopLevel && (entry & LargeBit) != 0);

        private static int IndexAt(ulong virtualAddress, int level)
            => (int)((virtualAddress >> (12 + 9 * level)) & (EntriesPerTable - 1));

        private static ulong PageSizeAt(int level)
            => level == 0 ? PageSize : level == 1 ? LargePageSize : HugePageSize;
    }
}
