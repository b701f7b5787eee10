// The collector: non-moving mark-sweep over Heap's blocks (docs/runtime.md, "Garbage collection").
//   roots   - every registered stack, conservatively: the one the collection runs on from its
//             stack pointer (below the callee-saved registers Native/gc.S spilled) to its top,
//             the others from their resume pointer (a suspended fiber's saved stack pointer,
//             RuntimeHost.StackResumePointer) when it lies in the stack, else whole; the GC static bases (section 201 cells); raw runtime blocks
//             (thread-local blocks: thread statics) conservatively; frozen objects in the image
//             (preinitialised statics can be written to point at heap objects) conservatively;
//   mark    - precise through the heap: each object's GC descriptor (the series before its
//             MethodTable) lists its reference fields; an explicit mark stack, and when it
//             overflows a rescan of marked objects until nothing new is marked;
//   weak    - WeakReference targets that were not marked are cleared;
//   sweep   - dead cells of partly live blocks are zeroed and those blocks go on their class's
//             hole list; blocks with nothing live become free; unmarked large objects free their
//             region; free memory beyond the budget goes back to the host.
// Invariants: a collection runs only where the host allows it (RuntimeHost.SetCollectionPolicy)
// and only on a registered stack, never re-entered; nothing is allocated while it runs (except
// its mark stack, taken before marking); frozen objects are never written.
using System.Runtime.CompilerServices;

namespace Internal.Runtime
{
    internal static unsafe class GcCollector
    {
        private const int MaxStacks = 32; // the initial and upcall stacks, and a libOS's fibers
        private const int MaxModules = 4;

        private struct Ranges
        {
            public fixed long Start[MaxModules];
            public fixed long End[MaxModules];
        }

        private struct StackRanges
        {
            public fixed long Start[MaxStacks];
            public fixed long End[MaxStacks];
            public fixed long Resume[MaxStacks];
        }

        private static StackRanges s_stacks;
        private static int s_stackCount;
        private static Ranges s_staticRegions;
        private static int s_staticRegionCount;
        private static Ranges s_frozen;
        private static int s_frozenCount;

        internal static nuint s_allocatedSinceCollection;
        internal static bool s_collecting;
        private static ulong s_collections;
        private static ulong s_longestPause, s_totalPause;

        private static nint* s_markStack;
        private static int s_markStackCapacity;
        private static int s_markStackCount;
        private static bool s_markStackOverflowed;

        /// <summary>Addresses of the live WeakReference objects (a managed nint[]: not traced).</summary>
        private static nint[] s_weakReferences;
        private static int s_weakReferenceCount;

        [MethodImpl(MethodImplOptions.InternalCall), System.Runtime.RuntimeImport("*", "aegis_gc_spill_and_call")]
        private static extern void SpillRegistersAndCall(delegate*<nint, void> body);
        [MethodImpl(MethodImplOptions.InternalCall), System.Runtime.RuntimeImport("*", "aegis_gc_stack_pointer")]
        private static extern nint StackPointer();
        [MethodImpl(MethodImplOptions.InternalCall), System.Runtime.RuntimeImport("*", "aegis_gc_timestamp")]
        private static extern ulong Timestamp();

        public static ulong Collections => s_collections;
        public static ulong LongestPause => s_longestPause;
        public static ulong TotalPause => s_totalPause;

        private static uint s_onlyWhenCurrentMask;

        /// <summary>The resume-pointer word of the registered stack whose top is 'top' (null: none).</summary>
        public static nint* ResumePointer(nint top)
        {
            for (int i = 0; i < s_stackCount; i++)
                if (s_stacks.End[i] == top)
                    fixed (long* resume = s_stacks.Resume)
                        return (nint*)(resume + i);
            return null;
        }

        public static bool RegisterStack(nint bottom, nint top, bool onlyWhenCurrent)
        {
            if (s_stackCount >= MaxStacks || (nuint)bottom >= (nuint)top || ((bottom | top) & 7) != 0)
                return false;
            s_stacks.Start[s_stackCount] = bottom;
            s_stacks.End[s_stackCount] = top;
            if (onlyWhenCurrent) s_onlyWhenCurrentMask |= 1u << s_stackCount;
            s_stacks.Resume[s_stackCount] = 0;
            s_stackCount++;
            return true;
        }

        internal static void SetMarkStack(nint* stack, int capacity)
        {
            s_markStack = stack;
            s_markStackCapacity = capacity;
        }

        internal static void AddStaticRegion(nint start, int length)
        {
            if (s_staticRegionCount >= MaxModules)
                RuntimeHost.Fail(null, "System.NotSupportedException", "more than four modules with GC statics");
            s_staticRegions.Start[s_staticRegionCount] = start;
            s_staticRegions.End[s_staticRegionCount] = start + length;
            s_staticRegionCount++;
        }

        internal static void AddFrozenRegion(nint start, int length)
        {
            if (s_frozenCount >= MaxModules)
                RuntimeHost.Fail(null, "System.NotSupportedException", "more than four modules with frozen objects");
            s_frozen.Start[s_frozenCount] = start;
            s_frozen.End[s_frozenCount] = start + length;
            s_frozenCount++;
            if (s_frozenLow == 0 || (nuint)start < (nuint)s_frozenLow) s_frozenLow = start;
            if ((nuint)(start + length) > (nuint)s_frozenHigh) s_frozenHigh = start + length;
        }

        internal static void RegisterWeakReference(object weakReference)
        {
            if (s_weakReferences == null || s_weakReferenceCount == s_weakReferences.Length)
            {
                nint[] larger = new nint[s_weakReferences == null ? 16 : s_weakReferences.Length * 2];
                for (int i = 0; i < s_weakReferenceCount; i++)
                    larger[i] = s_weakReferences[i];
                s_weakReferences = larger;
            }
            s_weakReferences[s_weakReferenceCount++] = AddressOf(weakReference);
        }

        private static nint AddressOf(object obj) => *(nint*)Unsafe.AsPointer(ref obj);

        /// <summary>Whether enough was allocated since the last collection to collect now (and the host allows it here).</summary>
        internal static bool ShouldCollect()
            => s_allocatedSinceCollection >= Heap.s_budget && MayCollectHere();

        private static bool MayCollectHere()
        {
            if (s_collecting || Heap.s_emergency || s_stackCount == 0)
                return false;
            nint stackPointer = StackPointer();
            if (StackIndexOf(stackPointer) < 0)
                return false;
            return RuntimeHost.s_collectionPolicy == null || RuntimeHost.s_collectionPolicy(stackPointer);
        }

        private static int StackIndexOf(nint address)
        {
            for (int i = 0; i < s_stackCount; i++)
                if ((nuint)address >= (nuint)s_stacks.Start[i] && (nuint)address < (nuint)s_stacks.End[i])
                    return i;
            return -1;
        }

        /// <summary>Collects if the host allows it here; returns whether it did.</summary>
        internal static bool CollectNow()
        {
            if (!MayCollectHere())
                return false;
            SpillRegistersAndCall(&Collect);
            return true;
        }

        private static void Collect(nint stackPointer)
        {
            s_collecting = true;
            ulong started = Timestamp();
            Heap.RetireAllContexts();
            Heap.ResetClassLists();
            ClearMarks();

            // Roots.
            int current = StackIndexOf(stackPointer);
            for (int i = 0; i < s_stackCount; i++)
            {
                if (i == current)
                    ScanConservatively(stackPointer, (nint)s_stacks.End[i]);
                else if ((s_onlyWhenCurrentMask & (1u << i)) == 0)
                {
                    // A suspended fiber's frames lie above the stack pointer it saved.
                    nint resume = (nint)s_stacks.Resume[i];
                    bool inside = (nuint)resume >= (nuint)s_stacks.Start[i] && (nuint)resume < (nuint)s_stacks.End[i];
                    ScanConservatively(inside ? resume : (nint)s_stacks.Start[i], (nint)s_stacks.End[i]);
                }
                // else: a stack that holds live frames only while code runs on it (an upcall
                // stack): what is left there is stale and would keep garbage alive.
            }
            for (int i = 0; i < s_staticRegionCount; i++)
                ScanStaticCells((nint)s_staticRegions.Start[i], (nint)s_staticRegions.End[i]);
            ScanRawBlocks();
            for (int i = 0; i < s_frozenCount; i++)
                ScanConservatively((nint)s_frozen.Start[i], (nint)s_frozen.End[i]);
            Drain();
            while (s_markStackOverflowed)
            {
                s_markStackOverflowed = false;
                RescanMarkedObjects();
            }

            ClearDeadWeakReferences();
            nuint live = Sweep();
            Heap.s_liveAfterCollection = live;
            Heap.s_allocatedAtCollection = Heap.BytesAllocated;
            s_allocatedSinceCollection = 0;
            // The next collection comes after BudgetFactor times the live bytes (at least the minimum):
            // marking costs in proportion to what lives, so this bounds its cost per allocated byte.
            nuint budget = live * Heap.BudgetFactor;
            Heap.s_budget = budget > Heap.MinimumBudget ? budget : Heap.MinimumBudget;
            Heap.ReleaseFreeMemory(Heap.s_budget);

            ulong pause = Timestamp() - started;
            s_totalPause += pause;
            if (pause > s_longestPause) s_longestPause = pause;
            s_collections++;
            s_collecting = false;
        }

        // ---------------------------------------------------------------- marking

        private static void ClearMarks()
        {
            for (int r = 0; r < Heap.s_regionCount; r++)
            {
                GcRegion* region = &Heap.s_regions[r];
                if (region->Kind == Heap.LargeRegion)
                {
                    if (region->UsedMask != 0) *(int*)(region->Start + Heap.LargeMarkOffset) = 0;
                    continue;
                }
                for (int b = 0; b < region->BlockCount; b++)
                {
                    if (((region->UsedMask & ~region->TailMask) & (1UL << b)) == 0) continue;
                    GcBlock* block = (GcBlock*)(region->Start + (nint)b * Heap.BlockSize);
                    if (block->Kind == Heap.LargeBlock) *(int*)((byte*)block + Heap.LargeMarkOffset) = 0;
                    if (block->Kind != Heap.CellBlock) continue;
                    int words = (block->CellCount + 63) >> 6;
                    for (int i = 0; i < words; i++)
                        block->Marks[i] = 0;
                }
            }
        }

        private static void ScanConservatively(nint start, nint end)
        {
            nuint low = (nuint)Heap.s_heapLow, high = (nuint)Heap.s_heapHigh;
            for (nint* word = (nint*)((start + 7) & ~(nint)7); word < (nint*)end; word++)
            {
                nuint value = (nuint)(*word);
                if (value >= low && value < high)
                    MarkConservative((nint)value);
            }
        }

        /// <summary>Marks the object a stack word points at or into (interior pointers included), if any.</summary>
        private static void MarkConservative(nint address)
        {
            GcRegion* region = Heap.FindRegion(address);
            if (region == null)
                return;
            if (region->Kind == Heap.LargeRegion)
            {
                if (region->UsedMask == 0 || address < region->Start + Heap.LargeObjectOffset - sizeof(nint))
                    return;
                MarkReference(region->Start + Heap.LargeObjectOffset);
                return;
            }
            int index = (int)((address - region->Start) >> GcSizeClasses.BlockShift);
            if ((region->UsedMask & (1UL << index)) == 0)
                return;
            while ((region->TailMask & (1UL << index)) != 0)
                index--; // inside a large object: its first block
            GcBlock* block = (GcBlock*)(region->Start + (nint)index * Heap.BlockSize);
            if (block->Kind == Heap.LargeBlock)
            {
                if (address >= (nint)block + Heap.LargeObjectOffset - sizeof(nint))
                    MarkReference((nint)block + Heap.LargeObjectOffset);
                return;
            }
            if (block->Kind != Heap.CellBlock)
                return;
            nint offset = address - ((nint)block + GcSizeClasses.BlockHeaderSize);
            if (offset < 0)
                return;
            nint cell = offset / block->CellSize;
            if (cell >= block->CellCount)
                return;
            nint obj = (nint)block + GcSizeClasses.BlockHeaderSize + cell * block->CellSize + sizeof(nint);
            if (*(nint*)obj == 0)
                return; // a free cell
            MarkReference(obj);
        }

        /// <summary>The span of every frozen region (one per module; with one module, exact).
        /// Heap regions never overlap it: the image's frozen objects are not heap memory.</summary>
        private static nint s_frozenLow, s_frozenHigh;

        // Addresses compare unsigned: the kernel's are in the upper half (negative as nint).
        private static bool IsFrozen(nint obj) => (nuint)obj >= (nuint)s_frozenLow && (nuint)obj < (nuint)s_frozenHigh;

        private static bool InHeapRange(nint address) => (nuint)address >= (nuint)Heap.s_heapLow && (nuint)address < (nuint)Heap.s_heapHigh;

        /// <summary>Marks a heap object (the address of its MethodTable word) and queues it for scanning.</summary>
        private static void MarkReference(nint obj)
        {
            if (!InHeapRange(obj) || IsFrozen(obj))
                return;
            if ((obj & Heap.BlockMask) == Heap.LargeObjectOffset)
            {
                int* mark = (int*)(obj - Heap.LargeObjectOffset + Heap.LargeMarkOffset);
                if (*mark != 0) return;
                if (s_markStackCount >= s_markStackCapacity - 2) { s_markStackOverflowed = true; return; }
                *mark = 1;
            }
            else
            {
                GcBlock* block = (GcBlock*)(obj & ~Heap.BlockMask);
                int cell = (int)((obj - sizeof(nint) - (nint)block - GcSizeClasses.BlockHeaderSize) / block->CellSize);
                ulong bit = 1UL << (cell & 63);
                ulong* word = &block->Marks[cell >> 6];
                if ((*word & bit) != 0) return;
                if (s_markStackCount >= s_markStackCapacity - 2) { s_markStackOverflowed = true; return; }
                *word |= bit;
            }
            s_markStack[s_markStackCount++] = obj;
        }

        private static bool IsMarked(nint obj)
        {
            if (!InHeapRange(obj) || IsFrozen(obj))
                return true; // not the heap's to free
            if ((obj & Heap.BlockMask) == Heap.LargeObjectOffset)
                return *(int*)(obj - Heap.LargeObjectOffset + Heap.LargeMarkOffset) != 0;
            GcBlock* block = (GcBlock*)(obj & ~Heap.BlockMask);
            int cell = (int)((obj - sizeof(nint) - (nint)block - GcSizeClasses.BlockHeaderSize) / block->CellSize);
            return GcBitmap.Test(block->Marks, cell);
        }

        /// <summary>Scans what is queued. An entry with bit 0 set is a continuation: the rest of a
        /// long run of references (start | 1, with the run's end in the entry below it).</summary>
        private static void Drain()
        {
            while (s_markStackCount > 0)
            {
                nint entry = s_markStack[--s_markStackCount];
                if ((entry & 1) == 0)
                {
                    ScanObject(entry);
                    continue;
                }
                nint end = s_markStack[--s_markStackCount];
                ScanRun((nint*)(entry & ~(nint)1), (nint*)end);
            }
        }

        /// <summary>References per scanning step of a long run (a big array of references): the
        /// rest waits as one continuation entry, so the mark stack holds at most this many
        /// children per object being scanned.</summary>
        private const int RunChunk = 128;

        private static void ScanRun(nint* field, nint* end)
        {
            if (end - field > RunChunk && s_markStackCount + 2 <= s_markStackCapacity)
            {
                s_markStack[s_markStackCount++] = (nint)end;
                s_markStack[s_markStackCount++] = (nint)(field + RunChunk) | 1;
                end = field + RunChunk;
            }
            for (; field < end; field++)
            {
                nint value = *field;
                if (value != 0) MarkReference(value);
            }
        }

        /// <summary>Marks what an object's reference fields point at, as its GC descriptor lists them:
        /// word -1 before the MethodTable is the series count; positive: that many (size, offset)
        /// pairs below it, each a run of references from offset, size + object size bytes long;
        /// negative: a repeating pattern of (pointer count, bytes to skip) pairs for arrays of structs.</summary>
        private static void ScanObject(nint obj)
        {
            MethodTable* type = *(MethodTable**)obj;
            if (!type->HasPointers)
                return;
            nint* descriptor = (nint*)type;
            nint seriesCount = descriptor[-1];
            nint size = (nint)type->BaseSize;
            if (type->HasComponentSize)
                size += (nint)(uint)*(int*)(obj + sizeof(nint)) * type->ComponentSize;
            if (seriesCount > 0)
            {
                for (nint i = 1; i <= seriesCount; i++)
                {
                    nint* series = descriptor - 1 - 2 * i;
                    nint* field = (nint*)(obj + series[1]);
                    ScanRun(field, (nint*)((byte*)field + series[0] + size));
                }
            }
            else
            {
                nint* highest = descriptor - 3;
                nint* field = (nint*)(obj + highest[1]);
                nint* stop = (nint*)(obj + size - sizeof(nint));
                nint patterns = -seriesCount;
                while (field < stop)
                {
                    for (nint i = 0; i < patterns; i++)
                    {
                        uint* item = (uint*)((byte*)highest - 8 * i);
                        nint* runEnd = field + item[0];
                        for (; field < runEnd; field++)
                            if (*field != 0) MarkReference(*field);
                        field = (nint*)((byte*)field + item[1]);
                        if (field >= stop) break;
                    }
                }
            }
        }

        /// <summary>Each entry is a 32-bit self-relative pointer to a static base cell that holds the
        /// holder object (or, not yet initialised, a tagged pointer with bit 0 set). Holders made
        /// at start-up are heap objects; holders ILC preinitialised are in the image.</summary>
        private static void ScanStaticCells(nint start, nint end)
        {
            for (nint offset = start; offset + sizeof(int) <= end; offset += sizeof(int))
            {
                nint* cell = (nint*)(offset + *(int*)offset);
                nint value = *cell;
                if (value == 0 || (value & 1) != 0)
                    continue;
                // A static base ILC preinitialised lives in the image, not the heap: nothing marks
                // it, but what its fields point at must be marked.
                if (Heap.FindRegion(value) != null)
                    MarkReference(value);
                else
                    ScanObject(value);
            }
        }

        private static void ScanRawBlocks()
        {
            for (int r = 0; r < Heap.s_regionCount; r++)
            {
                GcRegion* region = &Heap.s_regions[r];
                if (region->Kind != Heap.SmallRegion) continue;
                for (int b = 0; b < region->BlockCount; b++)
                {
                    if (((region->UsedMask & ~region->TailMask) & (1UL << b)) == 0) continue;
                    GcBlock* block = (GcBlock*)(region->Start + (nint)b * Heap.BlockSize);
                    if (block->Kind != Heap.RawBlock) continue;
                    nint first = (nint)block + GcSizeClasses.BlockHeaderSize;
                    ScanConservatively(first, first + block->RawUsed);
                }
            }
        }

        private static void RescanMarkedObjects()
        {
            for (int r = 0; r < Heap.s_regionCount; r++)
            {
                GcRegion* region = &Heap.s_regions[r];
                if (region->Kind == Heap.LargeRegion)
                {
                    if (region->UsedMask != 0 && *(int*)(region->Start + Heap.LargeMarkOffset) != 0)
                    {
                        ScanObject(region->Start + Heap.LargeObjectOffset);
                        Drain();
                    }
                    continue;
                }
                for (int b = 0; b < region->BlockCount; b++)
                {
                    if (((region->UsedMask & ~region->TailMask) & (1UL << b)) == 0) continue;
                    GcBlock* block = (GcBlock*)(region->Start + (nint)b * Heap.BlockSize);
                    if (block->Kind == Heap.LargeBlock && *(int*)((byte*)block + Heap.LargeMarkOffset) != 0)
                    {
                        ScanObject((nint)block + Heap.LargeObjectOffset);
                        Drain();
                    }
                    if (block->Kind != Heap.CellBlock) continue;
                    nint first = (nint)block + GcSizeClasses.BlockHeaderSize + sizeof(nint);
                    for (int cell = 0; cell < block->CellCount; cell++)
                    {
                        if (!GcBitmap.Test(block->Marks, cell)) continue;
                        ScanObject(first + (nint)cell * block->CellSize);
                        Drain();
                    }
                }
            }
        }

        private static void ClearDeadWeakReferences()
        {
            int kept = 0;
            for (int i = 0; i < s_weakReferenceCount; i++)
            {
                nint weak = s_weakReferences[i];
                if (!IsMarked(weak))
                    continue; // the WeakReference itself is garbage: forget it
                nint* target = (nint*)(weak + sizeof(nint));
                if (*target != 0 && !IsMarked(*target))
                    *target = 0;
                s_weakReferences[kept++] = weak;
            }
            for (int i = kept; i < s_weakReferenceCount; i++)
                s_weakReferences[i] = 0;
            s_weakReferenceCount = kept;
        }

        // ---------------------------------------------------------------- sweeping

        /// <summary>Frees what was not marked; returns the bytes that stay in use.</summary>
        private static nuint Sweep()
        {
            nuint live = 0;
            for (int r = 0; r < Heap.s_regionCount; r++)
            {
                GcRegion* region = &Heap.s_regions[r];
                if (region->Kind == Heap.LargeRegion)
                {
                    if (region->UsedMask == 0) continue;
                    if (*(int*)(region->Start + Heap.LargeMarkOffset) != 0)
                        live += (nuint)(region->End - region->Start);
                    else
                    {
                        region->UsedMask = 0;
                        region->DirtyMask = 1;
                    }
                    continue;
                }
                for (int b = 0; b < region->BlockCount; b++)
                {
                    ulong bit = 1UL << b;
                    if (((region->UsedMask & ~region->TailMask) & bit) == 0) continue;
                    GcBlock* block = (GcBlock*)(region->Start + (nint)b * Heap.BlockSize);
                    if (block->Kind == Heap.LargeBlock)
                    {
                        int span = *(int*)((byte*)block + Heap.LargeSpanOffset);
                        if (*(int*)((byte*)block + Heap.LargeMarkOffset) != 0)
                        {
                            live += (nuint)span * Heap.BlockSize;
                            continue;
                        }
                        for (int i = b; i < b + span; i++)
                        {
                            region->UsedMask &= ~(1UL << i);
                            region->TailMask &= ~(1UL << i);
                            region->DirtyMask |= 1UL << i;
                        }
                        continue;
                    }
                    if (block->Kind != Heap.CellBlock)
                    {
                        live += Heap.BlockSize;
                        continue;
                    }
                    int liveCells = GcBitmap.Count(block->Marks, block->CellCount);
                    block->LiveCells = liveCells;
                    if (liveCells == 0)
                    {
                        region->UsedMask &= ~bit;
                        region->DirtyMask |= bit;
                        continue;
                    }
                    live += (nuint)liveCells * (nuint)block->CellSize;
                    if (liveCells == block->CellCount)
                        continue;
                    // Zero every free run: dead objects vanish, and the allocator may hand the runs out.
                    byte* first = (byte*)block + GcSizeClasses.BlockHeaderSize;
                    int from = 0;
                    while (true)
                    {
                        int start = GcBitmap.NextClearRun(block->Marks, block->CellCount, from, out int end);
                        if (start < 0) break;
                        Heap.ZeroMemory(first + (nint)start * block->CellSize, (nuint)((end - start) * block->CellSize));
                        from = end;
                    }
                    Heap.AddBlockWithHoles(block);
                }
            }
            return live;
        }
    }
}
