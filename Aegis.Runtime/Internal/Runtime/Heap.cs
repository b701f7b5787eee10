// The managed heap: regions of host memory cut into 32 KiB blocks. Small objects (up to
// GcSizeClasses.MaximumSmall bytes) live in cells of a block of their size class; large objects
// each get a region of their own; runtime-internal raw blocks (thread-local blocks, interface
// dispatch caches, the mark stack) come from raw blocks that are never freed. Allocation bumps a
// pointer through a run of free cells (Native/gc.S, the per-class allocation contexts); this file
// is the slow path: find the next run, take a free block, ask the host for memory, collect
// (GcCollector.cs), give whole free blocks back to the host.
// docs/runtime.md ("Memory", "Garbage collection") describes the design; its invariants:
//  - a region starts on a block boundary; small regions hold at most 64 blocks; the region table
//    is sorted by start address and regions never overlap;
//  - every cell of a small block is either an object (MethodTable word non-zero) or all zero;
//    every byte of a context's run [current, limit) is zero; a free block is zero unless its
//    Dirty bit is set; a released block is not mapped (never touched until recommitted);
//  - a large object takes whole blocks (contiguous free blocks of a small region, or a region of
//    its own when it needs more than 64); its object starts 24 bytes into its first block, a small
//    object's cell at least BlockHeaderSize into its block: (object & BlockMask) == 24 tells them apart;
//  - raw blocks are never swept or freed; the collector scans them conservatively.
using System.Runtime.CompilerServices;

namespace Internal.Runtime
{
    internal unsafe struct GcRegion
    {
        public nint Start;
        public nint End;
        public int BlockCount;
        public int Kind;             // Heap.SmallRegion / Heap.LargeRegion
        public ulong UsedMask;       // small: blocks in use (cells, raw); large: bit 0 = the object is live
        public ulong DirtyMask;      // free blocks that are not all zero
        public ulong ReleasedMask;   // blocks given back to the host
        public int Releasable;       // the host may take the pages back (grown memory, not .bss)
        public int Padding;
        public ulong TailMask;       // small: blocks that continue a large object begun in a lower block
    }

    /// <summary>The header at the start of each used small block.</summary>
    internal unsafe struct GcBlock
    {
        public int Kind;             // Heap.CellBlock / Heap.RawBlock / Heap.LargeBlock
        public int SizeClass;
        public int CellSize;
        public int CellCount;
        public int Cursor;           // the next cell index the allocator looks for a free run from
        public int LiveCells;        // after the last collection
        public GcBlock* NextWithHoles;
        public nint RawUsed;         // raw blocks: bytes handed out after the header
        public nint Padding0;
        public nint Padding1;
        public fixed ulong Marks[32];
    }

    internal struct AllocationContext
    {
        public nint Current;
        public nint Limit;
        public nint CellSize;
        public nint RunStart;
    }

    internal static unsafe class Heap
    {
        public const int SmallRegion = 1, LargeRegion = 2;
        public const int CellBlock = 1, RawBlock = 2, LargeBlock = 3;
        // A large object's first block: Kind at 0, its mark at 4, its length in blocks at 8, then the
        // object's header word at 16 and the object itself at 24 (LargeObjectOffset).
        public const int LargeMarkOffset = 4, LargeSpanOffset = 8;
        public const int BlockSize = GcSizeClasses.BlockSize;
        public const nint BlockMask = BlockSize - 1;
        public const int RegionBlocks = 64;
        public const int LargeObjectOffset = 24;   // object address within its large region
        private const int MaxRegions = 448;
        /// <summary>At least this much is allocated between two collections (and kept free after one).</summary>
        public const nuint MinimumBudget = 4 * 1024 * 1024;
        /// <summary>Bytes allocated between collections per byte that survived the last one
        /// (RuntimeHost.SetCollectionBudgetFactor; the kernel, tight on memory, uses 1).</summary>
        public static nuint BudgetFactor = 3;

        [MethodImpl(MethodImplOptions.InternalCall), System.Runtime.RuntimeImport("*", "aegis_gc_contexts_address")]
        private static extern AllocationContext* ContextsAddress();
        [MethodImpl(MethodImplOptions.InternalCall), System.Runtime.RuntimeImport("*", "aegis_gc_size_classes_address")]
        private static extern byte* SizeClassesAddress();
        [MethodImpl(MethodImplOptions.InternalCall), System.Runtime.RuntimeImport("*", "aegis_gc_restart_ranges")]
        private static extern void RestartRanges(ulong* four);

        private static ulong s_fastStart, s_fastCommit, s_arrayStart, s_arrayCommit;

        internal static ulong RestartPoint(ulong ip)
        {
            if (ip >= s_fastStart && ip < s_fastCommit) return s_fastStart;
            if (ip >= s_arrayStart && ip < s_arrayCommit) return s_arrayStart;
            return ip;
        }

        /// <summary>Set while the slow path works on the heap's tables: an allocation that arrives
        /// meanwhile (from an upcall handler that interrupted it) cannot be served.</summary>
        private static bool s_busy;
        /// <summary>A block kept back at start-up for the failure report once the heap cannot serve.</summary>
        private static byte* s_reserve;

        internal static AllocationContext* s_contexts;
        private static byte* s_sizeClasses;
        internal static GcRegion* s_regions;
        internal static int s_regionCount;
        internal static nint s_heapLow, s_heapHigh;
        private static GcBlock** s_classBlock;       // per class: the block being allocated from
        private static GcBlock** s_classHoles;       // per class: blocks with free cells, after a collection
        private static GcBlock* s_rawBlock;

        // Accounting. Bytes and allocations are counted when a context's run is retired and at
        // query time for the live runs, so the fast path counts nothing.
        private static nuint s_retiredBytes;
        private static ulong s_retiredAllocations;
        private static nuint s_reserved;
        private static nuint s_limit = unchecked((nuint)(-1));
        internal static nuint s_allocatedAtCollection;
        internal static nuint s_liveAfterCollection;
        internal static nuint s_budget = MinimumBudget;

        // Emergency mode (a region added after start-up, e.g. the kernel's panic reserve): a plain
        // bump allocator from then on, and no more collections.
        private static byte* s_emergencyCurrent, s_emergencyLimit;
        internal static bool s_emergency;

        public static nuint BytesAllocated
        {
            get
            {
                nuint total = s_retiredBytes;
                for (int i = 0; s_contexts != null && i < GcSizeClasses.Count; i++)
                    total += (nuint)(s_contexts[i].Current - s_contexts[i].RunStart);
                return total;
            }
        }

        /// <summary>Successful allocations since start (objects, arrays, raw blocks): a host can
        /// prove that a path allocates nothing by reading it before and after.</summary>
        public static ulong Allocations
        {
            get
            {
                ulong total = s_retiredAllocations;
                for (int i = 0; s_contexts != null && i < GcSizeClasses.Count; i++)
                    if (s_contexts[i].CellSize != 0)
                        total += (ulong)((s_contexts[i].Current - s_contexts[i].RunStart) / s_contexts[i].CellSize);
                return total;
            }
        }

        /// <summary>Bytes of host memory the heap holds (mapped, not given back).</summary>
        public static nuint BytesReserved => s_reserved;
        public static nuint Limit => s_limit;
        public static void SetLimit(nuint bytes) => s_limit = bytes;

        /// <summary>Bytes that can still be allocated without asking the host for memory: the free
        /// cells and free blocks the heap holds now.</summary>
        public static nuint BytesLeft
        {
            get
            {
                if (s_emergency) return (nuint)(s_emergencyLimit - s_emergencyCurrent);
                nuint free = 0;
                for (int r = 0; r < s_regionCount; r++)
                {
                    GcRegion* region = &s_regions[r];
                    if (region->Kind != SmallRegion) continue;
                    for (int b = 0; b < region->BlockCount; b++)
                        if ((region->UsedMask & (1UL << b)) == 0 && (region->ReleasedMask & (1UL << b)) == 0)
                            free += BlockSize;
                }
                return free;
            }
        }

        /// <summary>Bytes in use: what survived the last collection plus what was allocated since.</summary>
        public static nuint BytesInUse => s_liveAfterCollection + (BytesAllocated - s_allocatedAtCollection);

        public static void AddRegion(nint start, nuint size)
        {
            if (s_regions != null)
            {
                // After start-up: an emergency reserve. Collections stop (its objects are in no region).
                s_emergency = true;
                s_emergencyCurrent = (byte*)((start + 7) & ~(nint)7);
                s_emergencyLimit = (byte*)(start + (nint)size);
                RetireAllContexts();
                return;
            }
            s_contexts = ContextsAddress();
            s_sizeClasses = SizeClassesAddress();
            for (int bytes = 0; bytes <= GcSizeClasses.MaximumSmall; bytes += 8)
                s_sizeClasses[bytes >> 3] = (byte)GcSizeClasses.ClassOf(bytes == 0 ? 8 : bytes);
            for (int c = 0; c < GcSizeClasses.Count; c++)
                s_contexts[c].CellSize = GcSizeClasses.CellSize(c);

            // The first block of the first region holds the heap's own tables.
            nint aligned = (start + BlockMask) & ~BlockMask;
            nint end = (start + (nint)size) & ~BlockMask;
            if (end - aligned < 4 * BlockSize)
                RuntimeHost.Fail(null, "System.OutOfMemoryException", "the first heap region is too small (it needs four aligned 32 KiB blocks)");
            s_regions = (GcRegion*)aligned;
            s_classBlock = (GcBlock**)(aligned + MaxRegions * sizeof(GcRegion));
            s_classHoles = s_classBlock + GcSizeClasses.Count;
            if ((byte*)(s_classHoles + GcSizeClasses.Count) > (byte*)(aligned + BlockSize))
                RuntimeHost.Fail(null, "System.InvalidOperationException", "heap tables do not fit their block");
            s_reserved += size;
            AddRegionBlocks(aligned + BlockSize, end, releasable: false);
            ulong* ranges = stackalloc ulong[4];
            RestartRanges(ranges);
            s_fastStart = ranges[0]; s_fastCommit = ranges[1]; s_arrayStart = ranges[2]; s_arrayCommit = ranges[3];
            GcBlock* reserve = TakeFreeBlock();
            reserve->Kind = RawBlock; // never swept; RawUsed stays 0, so nothing in it is scanned
            s_reserve = (byte*)reserve + GcSizeClasses.BlockHeaderSize;
            GcBlock* markStack = TakeFreeBlock();
            markStack->Kind = RawBlock; // the collector's mark stack: RawUsed stays 0, never scanned
            GcCollector.SetMarkStack((nint*)((byte*)markStack + GcSizeClasses.BlockHeaderSize), (BlockSize - GcSizeClasses.BlockHeaderSize) / sizeof(nint));
            // Mark the first block's bytes (the tables) as raw so nothing else is placed there:
            // it is outside every region, so conservative lookups never see it.
        }

        /// <summary>Registers [start, end) (block aligned) as small regions of at most 64 blocks each.</summary>
        private static bool AddRegionBlocks(nint start, nint end, bool releasable)
        {
            while (end - start >= BlockSize)
            {
                int blocks = (int)((end - start) >> GcSizeClasses.BlockShift);
                if (blocks > RegionBlocks) blocks = RegionBlocks;
                GcRegion* region = InsertRegion(start, start + (nint)blocks * BlockSize);
                if (region == null)
                    return false;
                region->Kind = SmallRegion;
                region->BlockCount = blocks;
                region->Releasable = releasable ? 1 : 0;
                start += (nint)blocks * BlockSize;
            }
            return true;
        }

        private static GcRegion* InsertRegion(nint start, nint end)
        {
            if (s_regionCount >= MaxRegions)
                return null;
            int index = s_regionCount;
            while (index > 0 && s_regions[index - 1].Start > start)
            {
                s_regions[index] = s_regions[index - 1];
                index--;
            }
            s_regionCount++;
            GcRegion* region = &s_regions[index];
            *region = default;
            region->Start = start;
            region->End = end;
            // Unsigned: the kernel's addresses are in the upper half (negative as nint).
            if (s_heapLow == 0 || (nuint)start < (nuint)s_heapLow) s_heapLow = start;
            if ((nuint)end > (nuint)s_heapHigh) s_heapHigh = end;
            return region;
        }

        internal static void RemoveRegion(GcRegion* region)
        {
            int index = (int)(region - s_regions);
            for (int i = index; i < s_regionCount - 1; i++)
                s_regions[i] = s_regions[i + 1];
            s_regionCount--;
        }

        /// <summary>The region holding 'address', or null (binary search: the table is sorted).</summary>
        internal static GcRegion* FindRegion(nint address)
        {
            int low = 0, high = s_regionCount - 1;
            while (low <= high)
            {
                int middle = (low + high) >> 1;
                GcRegion* region = &s_regions[middle];
                if (address < region->Start) high = middle - 1;
                else if (address >= region->End) low = middle + 1;
                else return region;
            }
            return null;
        }

        // ---------------------------------------------------------------- allocation

        public static object AllocateObject(MethodTable* methodTable, nuint size)
            => AllocateCell(methodTable, (nuint)methodTable->BaseSize, 0);

        public static object AllocateArray(MethodTable* methodTable, int length)
        {
            if (length < 0)
                throw new System.OverflowException();
            ulong size = methodTable->BaseSize + (ulong)(uint)length * methodTable->ComponentSize;
            if (size > int.MaxValue)
                throw new System.OutOfMemoryException();
            return AllocateCell(methodTable, (nuint)((size + 7) & ~7UL), length);
        }

        /// <summary>The managed half of Native/gc.S: any allocation its fast path did not make.</summary>
        [System.Runtime.RuntimeExport("RhpGcAllocateSlow")]
        private static object AllocateSlow(MethodTable* methodTable, int length)
        {
            if (!methodTable->HasComponentSize)
                return AllocateCell(methodTable, methodTable->BaseSize, 0);
            return AllocateArray(methodTable, length);
        }

        private static object AllocateCell(MethodTable* methodTable, nuint size, int length)
        {
            if (s_busy)
                Reentered();
            s_busy = true;
            byte* cell = size <= GcSizeClasses.MaximumSmall ? TakeSmallCell((int)size) : TakeLargeCell(size);
            s_busy = false;
            if (cell == null)
                OutOfMemory(size);
            byte* obj = cell + sizeof(nint);
            *(MethodTable**)obj = methodTable;
            if (methodTable->HasComponentSize)
                *(int*)(obj + sizeof(nint)) = length;
            if (RuntimeHost.s_allocationObserver != null) RuntimeHost.s_allocationObserver(size);
            return Unsafe.AsRef<object>(&obj);
        }

        private static byte* TakeSmallCell(int size)
        {
            if (s_emergency)
                return TakeEmergency((nuint)size);
            int sizeClass = s_sizeClasses[size >> 3];
            AllocationContext* context = &s_contexts[sizeClass];
            if (context->Current + context->CellSize > context->Limit || RuntimeHost.s_allocationObserver != null)
            {
                if (!Refill(sizeClass))
                    return null;
            }
            byte* cell = (byte*)context->Current;
            context->Current += context->CellSize;
            if (RuntimeHost.s_allocationObserver != null)
                RetireContext(sizeClass); // one cell at a time while someone watches
            return cell;
        }

        private static void RetireContext(int sizeClass)
        {
            AllocationContext* context = &s_contexts[sizeClass];
            nint used = context->Current - context->RunStart;
            s_retiredBytes += (nuint)used;
            s_retiredAllocations += (ulong)(used / context->CellSize);
            context->Current = context->Limit = context->RunStart = 0;
        }

        internal static void RetireAllContexts()
        {
            for (int c = 0; c < GcSizeClasses.Count; c++)
                RetireContext(c);
        }

        /// <summary>Gives the class's context its next run of free cells: from the block in use,
        /// then blocks with holes left by the last collection, then (after a collection, when
        /// enough was allocated since the last one) a free block, then new host memory.</summary>
        private static bool Refill(int sizeClass)
        {
            if (GcCollector.s_collecting)
                AllocationDuringCollection();
            RetireContext(sizeClass);
            if (NextRun(sizeClass))
                return true;
            if (GcCollector.ShouldCollect() && GcCollector.CollectNow())
            {
                if (NextRun(sizeClass))
                    return true;
            }
            GcBlock* block = TakeFreeBlock();
            if (block == null && GcCollector.CollectNow())
            {
                if (NextRun(sizeClass))
                    return true;
                block = TakeFreeBlock();
            }
            if (block == null)
                return false;
            InitializeCellBlock(block, sizeClass);
            s_classBlock[sizeClass] = block;
            return NextRun(sizeClass);
        }

        private static void InitializeCellBlock(GcBlock* block, int sizeClass)
        {
            block->Kind = CellBlock;
            block->SizeClass = sizeClass;
            block->CellSize = GcSizeClasses.CellSize(sizeClass);
            block->CellCount = GcSizeClasses.CellsPerBlock(sizeClass);
            block->Cursor = 0;
            block->LiveCells = 0;
            block->NextWithHoles = null;
            for (int i = 0; i < 32; i++)
                block->Marks[i] = 0;
        }

        /// <summary>Finds the next run of free (zeroed) cells for the class and installs it.</summary>
        private static bool NextRun(int sizeClass)
        {
            while (true)
            {
                GcBlock* block = s_classBlock[sizeClass];
                if (block == null)
                {
                    block = s_classHoles[sizeClass];
                    if (block == null)
                        return false;
                    s_classHoles[sizeClass] = block->NextWithHoles;
                    block->NextWithHoles = null;
                    s_classBlock[sizeClass] = block;
                }
                int start = GcBitmap.NextClearRun(block->Marks, block->CellCount, block->Cursor, out int end);
                if (start < 0)
                {
                    block->Cursor = block->CellCount;
                    s_classBlock[sizeClass] = null;
                    continue;
                }
                block->Cursor = end;
                AllocationContext* context = &s_contexts[sizeClass];
                nint first = (nint)block + GcSizeClasses.BlockHeaderSize;
                context->Current = context->RunStart = first + (nint)start * block->CellSize;
                context->Limit = first + (nint)end * block->CellSize;
                GcCollector.s_allocatedSinceCollection += (nuint)(context->Limit - context->Current);
                return true;
            }
        }

        /// <summary>A free block, zeroed: from the regions, recommitted from the host, or new from the host.</summary>
        private static GcBlock* TakeFreeBlock()
        {
            GcRegion* recommit = null;
            int recommitBlock = 0;
            for (int r = 0; r < s_regionCount; r++)
            {
                GcRegion* region = &s_regions[r];
                if (region->Kind != SmallRegion) continue;
                ulong all = region->BlockCount == 64 ? ~0UL : (1UL << region->BlockCount) - 1;
                ulong free = all & ~region->UsedMask & ~region->ReleasedMask;
                if (free != 0)
                {
                    int b = GcBitmap.Find(&free, 64, 0, true);
                    return UseBlock(region, b);
                }
                ulong released = all & ~region->UsedMask & region->ReleasedMask;
                if (recommit == null && released != 0)
                {
                    recommit = region;
                    recommitBlock = GcBitmap.Find(&released, 64, 0, true);
                }
            }
            if (recommit != null && s_reserved + BlockSize <= s_limit && RuntimeHost.s_recommitHeap != null
                && RuntimeHost.s_recommitHeap(recommit->Start + (nint)recommitBlock * BlockSize, BlockSize))
            {
                recommit->ReleasedMask &= ~(1UL << recommitBlock);
                recommit->DirtyMask &= ~(1UL << recommitBlock);
                s_reserved += BlockSize;
                return UseBlock(recommit, recommitBlock);
            }
            if (!GrowSmall())
                return null;
            return TakeFreeBlock();
        }

        private static GcBlock* UseBlock(GcRegion* region, int index)
        {
            region->UsedMask |= 1UL << index;
            GcBlock* block = (GcBlock*)(region->Start + (nint)index * BlockSize);
            if ((region->DirtyMask & (1UL << index)) != 0)
            {
                ZeroMemory((byte*)block, BlockSize);
                region->DirtyMask &= ~(1UL << index);
            }
            return block;
        }

        /// <summary>A new small region: 2 MiB, or less when the host cannot give that much (8 blocks, then one).</summary>
        private static bool GrowSmall()
        {
            if (GrowSmallLazily())
                return true;
            nint start = GrowFromHost(RegionBlocks * BlockSize, out nuint granted);
            if (start == 0)
                start = GrowFromHost(8 * BlockSize, out granted);
            if (start == 0)
                start = GrowFromHost(BlockSize, out granted);
            if (start == 0)
                return false;
            nint aligned = (start + BlockMask) & ~BlockMask;
            nint end = (start + (nint)granted) & ~BlockMask;
            return AddRegionBlocks(aligned, end, releasable: true) && end > aligned;
        }

        /// <summary>A new small region of address space only (RuntimeHost.SetHeapReserver): every block
        /// released, mapped by the recommit hook when first taken (TakeFreeBlock, TakeFreeSpan). A
        /// libOS process then maps its heap 32 KiB at a time as it fills, not 2 MiB at the first
        /// growth (about 500,000 instructions of mapping and zeroing, most of it never used).</summary>
        private static bool GrowSmallLazily()
        {
            if (RuntimeHost.s_reserveHeap == null || RuntimeHost.s_recommitHeap == null || s_reserved + BlockSize > s_limit)
                return false;
            nuint got;
            nint start = RuntimeHost.s_reserveHeap((nuint)(RegionBlocks + 1) * BlockSize, &got);
            if (start == 0)
                return false;
            nint aligned = (start + BlockMask) & ~BlockMask;
            nint end = (start + (nint)got) & ~BlockMask;
            if (end - aligned > (nint)RegionBlocks * BlockSize)
                end = aligned + (nint)RegionBlocks * BlockSize;
            if (end - aligned < BlockSize)
                return false;
            GcRegion* region = InsertRegion(aligned, end);
            if (region == null)
                return false;
            region->Kind = SmallRegion;
            region->BlockCount = (int)((end - aligned) >> GcSizeClasses.BlockShift);
            region->Releasable = 1;
            region->ReleasedMask = region->BlockCount == 64 ? ~0UL : (1UL << region->BlockCount) - 1;
            return true;
        }

        private static nint GrowFromHost(nuint bytes, out nuint granted)
        {
            granted = 0;
            if (RuntimeHost.s_growHeap == null || s_reserved + bytes > s_limit || s_reserved + bytes < s_reserved)
                return 0;
            nuint got;
            nint region = RuntimeHost.s_growHeap(bytes, &got);
            if (region == 0 || got < bytes)
                return 0;
            granted = got;
            s_reserved += got;
            return region;
        }

        private static byte* TakeLargeCell(nuint size)
        {
            if (s_emergency)
                return TakeEmergency(size);
            if (GcCollector.s_collecting)
                AllocationDuringCollection();
            if (GcCollector.ShouldCollect())
                GcCollector.CollectNow();
            nuint spanBytes = (size + (nuint)(LargeObjectOffset - sizeof(nint)) + (nuint)BlockMask) & ~(nuint)BlockMask;
            if (spanBytes < size)
                return null;
            byte* head = null;
            if (spanBytes <= (nuint)(RegionBlocks * BlockSize))
            {
                int span = (int)(spanBytes >> GcSizeClasses.BlockShift);
                head = TakeFreeSpan(span);
                if (head == null && GrowSmall())
                    head = TakeFreeSpan(span);
                if (head == null && GcCollector.CollectNow())
                    head = TakeFreeSpan(span);
            }
            else
            {
                head = TakeLargeRegion(spanBytes);
                if (head == null && GcCollector.CollectNow())
                    head = TakeLargeRegion(spanBytes);
            }
            if (head == null)
                return null;
            *(int*)head = LargeBlock;
            *(int*)(head + LargeMarkOffset) = 0;
            *(int*)(head + LargeSpanOffset) = (int)(spanBytes >> GcSizeClasses.BlockShift);
            GcCollector.s_allocatedSinceCollection += spanBytes;
            s_retiredBytes += size;
            s_retiredAllocations++;
            return head + LargeObjectOffset - sizeof(nint);
        }

        /// <summary>'span' contiguous free blocks of one small region, zeroed and marked used (the
        /// first is the head, the others tails), or null.</summary>
        private static byte* TakeFreeSpan(int span)
        {
            // A released block counts when the host can map it again (recommitted below).
            bool recommits = RuntimeHost.s_recommitHeap != null;
            for (int r = 0; r < s_regionCount; r++)
            {
                GcRegion* region = &s_regions[r];
                if (region->Kind != SmallRegion || region->BlockCount < span) continue;
                ulong unusable = region->UsedMask | (recommits ? 0 : region->ReleasedMask);
                int run = 0;
                for (int b = 0; b < region->BlockCount; b++)
                {
                    run = (unusable & (1UL << b)) == 0 ? run + 1 : 0;
                    if (run < span) continue;
                    int first = b - span + 1;
                    if (!RecommitReleased(region, first, span)) return null;
                    for (int i = first; i <= b; i++)
                    {
                        UseBlock(region, i);
                        if (i != first) region->TailMask |= 1UL << i;
                    }
                    return (byte*)(region->Start + (nint)first * BlockSize);
                }
            }
            return null;
        }

        /// <summary>Maps again the released blocks among region's [first, first + count): one recommit
        /// per run of them. False (nothing of the failing run taken) when the host has no memory.</summary>
        private static bool RecommitReleased(GcRegion* region, int first, int count)
        {
            for (int i = first; i < first + count; i++)
            {
                if ((region->ReleasedMask & (1UL << i)) == 0) continue;
                int end = i + 1;
                while (end < first + count && (region->ReleasedMask & (1UL << end)) != 0) end++;
                nuint bytes = (nuint)(end - i) * BlockSize;
                if (s_reserved + bytes > s_limit || !RuntimeHost.s_recommitHeap(region->Start + (nint)i * BlockSize, bytes))
                    return false;
                s_reserved += bytes;
                for (int j = i; j < end; j++)
                {
                    region->ReleasedMask &= ~(1UL << j);
                    region->DirtyMask &= ~(1UL << j);
                }
                i = end - 1;
            }
            return true;
        }

        /// <summary>A region of its own for an object of more than 64 blocks: a free one that fits, or new from the host.</summary>
        private static byte* TakeLargeRegion(nuint spanBytes)
        {
            for (int r = 0; r < s_regionCount; r++)
            {
                GcRegion* region = &s_regions[r];
                if (region->Kind == LargeRegion && region->UsedMask == 0 && (nuint)(region->End - region->Start) >= spanBytes)
                {
                    if (region->DirtyMask != 0)
                        ZeroMemory((byte*)region->Start, (nuint)(region->End - region->Start));
                    region->DirtyMask = 0;
                    region->UsedMask = 1;
                    return (byte*)region->Start;
                }
            }
            nint start = GrowFromHost(spanBytes, out nuint granted);
            if (start == 0)
                return null;
            nint aligned = (start + BlockMask) & ~BlockMask;
            nint end = (start + (nint)granted) & ~BlockMask;
            if ((nuint)(end - aligned) < spanBytes)
            {
                // The host's memory was not block aligned: keep it as small blocks, ask for more.
                AddRegionBlocks(aligned, end, releasable: true);
                start = GrowFromHost(spanBytes + BlockSize, out granted);
                if (start == 0)
                    return null;
                aligned = (start + BlockMask) & ~BlockMask;
                end = (start + (nint)granted) & ~BlockMask;
            }
            GcRegion* large = InsertRegion(aligned, end);
            if (large == null)
                return null;
            large->Kind = LargeRegion;
            large->BlockCount = (int)((end - aligned) >> GcSizeClasses.BlockShift);
            large->Releasable = 1;
            large->UsedMask = 1;
            return (byte*)aligned;
        }

        private static byte* TakeEmergency(nuint size)
        {
            size = (size + 7) & ~(nuint)7;
            if ((nuint)(s_emergencyLimit - s_emergencyCurrent) < size)
                return null;
            byte* cell = s_emergencyCurrent;
            s_emergencyCurrent += size;
            s_retiredBytes += size;
            s_retiredAllocations++;
            return cell;
        }

        /// <summary>Raw runtime memory (never freed, never moved, scanned conservatively by the
        /// collector): 'size' zeroed bytes, 8-byte aligned, or null.</summary>
        public static byte* Allocate(nuint size)
        {
            size = (size + 7) & ~(nuint)7;
            if (size > BlockSize - GcSizeClasses.BlockHeaderSize)
                return null;
            if (s_emergency)
                return TakeEmergency(size);
            if (s_busy)
                Reentered();
            if (s_rawBlock == null || (nuint)(BlockSize - GcSizeClasses.BlockHeaderSize - s_rawBlock->RawUsed) < size)
            {
                s_busy = true;
                GcBlock* block = TakeFreeBlock();
                s_busy = false;
                if (block == null)
                    return null;
                block->Kind = RawBlock;
                block->RawUsed = 0;
                s_rawBlock = block;
            }
            byte* result = (byte*)s_rawBlock + GcSizeClasses.BlockHeaderSize + s_rawBlock->RawUsed;
            s_rawBlock->RawUsed += (nint)size;
            s_retiredBytes += size;
            s_retiredAllocations++;
            if (RuntimeHost.s_allocationObserver != null) RuntimeHost.s_allocationObserver(size);
            return result;
        }

        // ---------------------------------------------------------------- collector support

        /// <summary>Forgets the per-class allocation state (the collector rebuilds the hole lists).</summary>
        internal static void ResetClassLists()
        {
            for (int c = 0; c < GcSizeClasses.Count; c++)
            {
                s_classBlock[c] = null;
                s_classHoles[c] = null;
            }
        }

        internal static void AddBlockWithHoles(GcBlock* block)
        {
            block->Cursor = 0;
            block->NextWithHoles = s_classHoles[block->SizeClass];
            s_classHoles[block->SizeClass] = block;
        }

        /// <summary>Gives free blocks beyond 'keep' bytes back to the host (those of releasable
        /// regions); a large region that is free goes back whole (or stays for reuse).</summary>
        internal static void ReleaseFreeMemory(nuint keep)
        {
            nuint kept = 0;
            for (int r = 0; r < s_regionCount; r++)
            {
                GcRegion* region = &s_regions[r];
                if (region->Kind == LargeRegion)
                {
                    if (region->UsedMask != 0) continue;
                    nuint bytes = (nuint)(region->End - region->Start);
                    if (RuntimeHost.s_releaseHeap != null && RuntimeHost.s_releaseHeap(region->Start, bytes))
                    {
                        s_reserved -= bytes;
                        RemoveRegion(region);
                        r--;
                    }
                    continue;
                }
                for (int b = 0; b < region->BlockCount; b++)
                {
                    ulong bit = 1UL << b;
                    if ((region->UsedMask & bit) != 0 || (region->ReleasedMask & bit) != 0)
                        continue;
                    if (kept < keep || region->Releasable == 0 || RuntimeHost.s_releaseHeap == null)
                    {
                        kept += BlockSize;
                        continue;
                    }
                    // Release the run of free blocks from here on in one call.
                    int end = b;
                    while (end < region->BlockCount && (region->UsedMask & (1UL << end)) == 0 && (region->ReleasedMask & (1UL << end)) == 0)
                        end++;
                    nuint bytes = (nuint)(end - b) * BlockSize;
                    if (RuntimeHost.s_releaseHeap(region->Start + (nint)b * BlockSize, bytes))
                    {
                        for (int i = b; i < end; i++)
                        {
                            region->ReleasedMask |= 1UL << i;
                            region->DirtyMask &= ~(1UL << i);
                        }
                        s_reserved -= bytes;
                    }
                    b = end - 1;
                }
            }
        }

        /// <summary>A forking host's question (RuntimeHost.UntouchedHeapRanges): the free blocks of
        /// grown small regions that hold nothing (not in use, not dirty, not released: all zero), as
        /// ascending [start, end) pairs, adjacent blocks merged; at most maxPairs. Reads only.</summary>
        internal static int UntouchedRanges(ulong* pairs, int maxPairs)
        {
            int count = 0;
            for (int r = 0; r < s_regionCount && count < maxPairs; r++)
            {
                GcRegion* region = &s_regions[r];
                if (region->Kind != SmallRegion || region->Releasable == 0) continue;
                ulong busy = region->UsedMask | region->DirtyMask | region->ReleasedMask;
                for (int b = 0; b < region->BlockCount && count < maxPairs; b++)
                {
                    if ((busy & (1UL << b)) != 0) continue;
                    int end = b + 1;
                    while (end < region->BlockCount && (busy & (1UL << end)) == 0) end++;
                    ulong start = (ulong)(region->Start + (nint)b * BlockSize), stop = (ulong)(region->Start + (nint)end * BlockSize);
                    if (count > 0 && pairs[2 * count - 1] == start) pairs[2 * count - 1] = stop;
                    else { pairs[2 * count] = start; pairs[2 * count + 1] = stop; count++; }
                    b = end - 1;
                }
            }
            return count;
        }

        /// <summary>In a forked child whose parent did not hand it the ranges UntouchedRanges gave
        /// (they are not mapped here): each such block becomes released, as if ReleaseFreeMemory had
        /// given it back (the allocator recommits it before use). A block that is not free and clean
        /// here is left alone and counted: the host handed on something it should not have skipped.
        /// Returns the bytes forgotten.</summary>
        internal static nuint ForgetUntouched(ulong* pairs, int count, out int mismatched)
        {
            mismatched = 0;
            nuint forgotten = 0;
            for (int i = 0; i < count; i++)
            {
                for (ulong at = pairs[2 * i]; at < pairs[2 * i + 1]; at += BlockSize)
                {
                    GcRegion* region = FindRegion((nint)at);
                    if (region == null || region->Kind != SmallRegion || region->Releasable == 0) { mismatched++; continue; }
                    ulong bit = 1UL << (int)(((nint)at - region->Start) >> GcSizeClasses.BlockShift);
                    if (((region->UsedMask | region->DirtyMask | region->ReleasedMask) & bit) != 0) { mismatched++; continue; }
                    region->ReleasedMask |= bit;
                    forgotten += BlockSize;
                }
            }
            s_reserved -= forgotten;
            return forgotten;
        }

        /// <summary>Zeroes with 16-byte stores (no `rep stos`: under -icount each iteration counts).</summary>
        [MethodImpl(MethodImplOptions.InternalCall), System.Runtime.RuntimeImport("*", "aegis_gc_zero")]
        internal static extern void ZeroMemory(byte* start, nuint bytes);

        private static void AllocationDuringCollection() => Reentered();

        private static void Reentered()
        {
            EnterEmergency();
            RuntimeHost.Fail(null, "System.InvalidOperationException", "an allocation while the heap was busy (a handler that allocates interrupted the allocator or the collector)");
        }

        /// <summary>From now on a plain bump allocator over the reserve block (so a failure report
        /// can still build its strings), and no more collections.</summary>
        private static void EnterEmergency()
        {
            if (s_emergency || s_reserve == null) return;
            s_emergency = true;
            s_busy = false;
            s_emergencyCurrent = s_reserve;
            s_emergencyLimit = s_reserve + (BlockSize - GcSizeClasses.BlockHeaderSize);
            RetireAllContexts();
        }

        private static void OutOfMemory(nuint size)
        {
            EnterEmergency();
            // No heap left to build an exception object from: report straight to the host.
            // The message is a literal: literals live in the image and need no allocation.
            RuntimeHost.Fail(null, "System.OutOfMemoryException", "the managed heap is exhausted (collected, and the host gave no more memory)");
        }
    }
}
