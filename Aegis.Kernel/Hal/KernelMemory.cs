// The kernel's own address space, built at boot to replace the boot stub's identity map:
//   0xFFFF800000000000 + p   direct map of physical memory (2 MiB pages, writable, no-execute);
//   0xFFFFFFFF80000000 + p   the kernel image: .text read-only+executable, .rodata read-only,
//                            .data/.bss writable, both no-execute; the page under each kernel
//                            stack (its guard: Hal/KernelStacks.cs) is left unmapped;
//   0xFFFFC00000000000 ...   the managed heap, grown frame by frame on demand;
//   0xFFFFD00000000000 ...   device registers (MapDevice): 4 KiB pages, uncached (PCD|PWT), made
//                            at boot for a driver's memory-mapped registers (an AHCI ABAR);
//   0xFFFFE00000000000 ...   generated code (MapCode: compiled packet filters), read-only and
//                            executable; the kernel writes it through the direct map (writable,
//                            no-execute), so no page is ever both writable and executable here.
// Nothing is mapped in the lower half: a null dereference faults.
// Invariants: every page-table frame and heap frame comes from the FrameAllocator; the direct
// map covers every usable frame, so kernel code can reach any table or frame through it.
using Aegis.Kernel.Core;
using Internal.Runtime;

namespace Aegis.Kernel.Hal
{
    internal static unsafe class KernelMemory
    {
        public const ulong DirectMapBase = 0xFFFF800000000000;
        public const ulong KernelImageBase = 0xFFFFFFFF80000000;
        public const ulong HeapBase = 0xFFFFC00000000000;
        public const ulong DeviceWindowBase = 0xFFFFD00000000000;
        public const ulong CodeWindowBase = 0xFFFFE00000000000;
        private static ulong s_codeNext = CodeWindowBase;
        private const ulong PageSize = 4096;
        private const ulong LargePageSize = 2 * 1024 * 1024;

        private static FrameAllocator s_frames;
        private static PageTableBuilder s_tables;
        private static PhysicalWindowTables s_tableMemory;
        private static ulong s_heapNext = HeapBase;
        private static ulong s_deviceNext = DeviceWindowBase;
        private static ulong s_rootPhysical;

        public static FrameAllocator Frames => s_frames;

        /// <summary>Frames the kernel heap holds now (the collector gives whole free blocks back
        /// through ReleaseHeap), the page tables that map them included (they stay once made).</summary>
        public static ulong HeapFrames => s_heapFrames + s_heapTableFrames;
        private static ulong s_heapFrames;
        private static ulong s_heapTableFrames;
        public static ulong RootTablePhysical => s_rootPhysical;

        /// <summary>The virtual address through which physical memory is reached right now:
        /// identity (0) under the boot stub's tables, the direct map afterwards.</summary>
        public static ulong PhysicalWindow => s_tableMemory == null ? 0 : s_tableMemory.Window;

        public static void* PhysicalToVirtual(ulong physical) => (void*)(PhysicalWindow + physical);

        /// <summary>Builds the kernel's page tables and switches to them. Returns null or an error.</summary>
        public static string Initialize(FrameAllocator frames, ulong highestPhysicalAddress)
        {
            s_frames = frames;
            s_tableMemory = new PhysicalWindowTables(frames);
            if (!PageTableBuilder.TryCreate(s_tableMemory, out s_tables))
                return "no memory for the kernel's top-level page table";
            s_rootPhysical = s_tables.RootPhysical;

            // Direct map: at least the first 4 GiB (firmware, VGA, APIC live there) and all RAM.
            ulong directMapEnd = highestPhysicalAddress > 0x100000000UL ? highestPhysicalAddress : 0x100000000UL;
            directMapEnd = (directMapEnd + LargePageSize - 1) & ~(LargePageSize - 1);
            for (ulong physical = 0; physical < directMapEnd; physical += LargePageSize)
            {
                MapResult result = s_tables.MapLarge(DirectMapBase + physical, physical, PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute | PageFlags.Global);
                if (result != MapResult.Ok)
                    return "direct map at 0x" + physical.ToString("X") + ": error " + ((int)result).ToString() + " (MapResult)";
            }

            // The boot stub's page (multiboot2 header, 32-bit entry) is mapped too, read-only, so the
            // whole image from 0xFFFFFFFF80100000 up is present (and supervisor-only).
            string error = MapImageRange(KernelImageBase + LinkerSymbols.KernelPhysicalStart(), LinkerSymbols.TextStart(), PageFlags.Present | PageFlags.NoExecute | PageFlags.Global);
            error ??= MapImageRange(LinkerSymbols.TextStart(), LinkerSymbols.TextEnd(), PageFlags.Present | PageFlags.Global);
            error ??= MapImageRange(LinkerSymbols.RodataStart(), LinkerSymbols.RodataEnd(), PageFlags.Present | PageFlags.NoExecute | PageFlags.Global);
            error ??= MapImageRange(LinkerSymbols.DataStart(), LinkerSymbols.DataEnd(), PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute | PageFlags.Global);
            if (error != null)
                return error;
            // The stack guards: the pages in the image that stay unmapped (Hal/KernelStacks.cs).
            s_tables.Unmap(LinkerSymbols.StackGuard(), out _);
            s_tables.Unmap(KernelStacks.TrapStackGuard(), out _);
            for (int i = 1; i <= KernelStacks.IstStackCount; i++)
                s_tables.Unmap(KernelStacks.IstGuard(i), out _);
            // Environments copy the kernel half's top-level entries when they are created, so every
            // top-level entry the kernel will ever use must exist now: build the heap's tables
            // (map and unmap one page) so later heap growth only adds entries below them.
            if (s_tables.Map(HeapBase, LinkerSymbols.KernelPhysicalStart(), PageFlags.Present | PageFlags.NoExecute) != MapResult.Ok)
                return "cannot prepare the heap's page tables";
            s_tables.Unmap(HeapBase, out _);
            // The same for the device window (MapDevice).
            if (s_tables.Map(DeviceWindowBase, LinkerSymbols.KernelPhysicalStart(), PageFlags.Present | PageFlags.NoExecute) != MapResult.Ok)
                return "cannot prepare the device window's page tables";
            s_tables.Unmap(DeviceWindowBase, out _);
            // And for the code window (MapCode).
            if (s_tables.Map(CodeWindowBase, LinkerSymbols.KernelPhysicalStart(), PageFlags.Present) != MapResult.Ok)
                return "cannot prepare the code window's page tables";
            s_tables.Unmap(CodeWindowBase, out _);

            Cpu.WriteCr3(s_rootPhysical);
            s_tableMemory.Window = DirectMapBase;
            VgaTextScreen.s_physicalWindow = DirectMapBase;
            RuntimeHost.SetHeapGrower(&GrowHeap);
            RuntimeHost.SetHeapReleaser(&ReleaseHeap, &RecommitHeap);
            Diagnostics.Panic.PrepareEmergencyHeap();
            return null;
        }

        private static string MapImageRange(ulong start, ulong end, PageFlags flags)
        {
            for (ulong virtualAddress = start; virtualAddress < end; virtualAddress += PageSize)
            {
                MapResult result = s_tables.Map(virtualAddress, virtualAddress - KernelImageBase, flags);
                if (result != MapResult.Ok)
                    return "kernel image page 0x" + virtualAddress.ToString("X") + ": error " + ((int)result).ToString() + " (MapResult)";
            }
            return null;
        }

        /// <summary>Maps the device registers at physical [physical, physical + bytes) into the device
        /// window, uncached (PCD|PWT: every access reaches the device, in program order), writable,
        /// no-execute, supervisor only; returns the virtual address of 'physical', or null when a page
        /// table could not be made. Boot only: the window only grows, and its page tables come from
        /// the frame allocator. The direct map may cover the same frames (below 4 GiB) with the
        /// default memory type; drivers reach registers only through this window.</summary>
        public static void* MapDevice(ulong physical, ulong bytes)
        {
            ulong first = physical & ~(PageSize - 1);
            ulong end = (physical + bytes + PageSize - 1) & ~(PageSize - 1);
            ulong start = s_deviceNext;
            for (ulong page = first; page < end; page += PageSize)
            {
                MapResult result = s_tables.Map(s_deviceNext, page, PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute | PageFlags.Global
                    | PageFlags.CacheDisable | PageFlags.WriteThrough);
                s_deviceNext += PageSize; // a page that failed to map is skipped, never reused
                if (result != MapResult.Ok) return null;
            }
            return (void*)(start + (physical - first));
        }

        /// <summary>Maps 'pages' frames from physical 'physical' (page-aligned, contiguous) into the
        /// code window, read-only and executable, supervisor only; returns the virtual address, or
        /// null when a page table could not be made. Boot only (the window only grows). Code is
        /// written through PhysicalToVirtual (the direct map: writable, no-execute) and run from here.</summary>
        public static void* MapCode(ulong physical, ulong pages)
        {
            ulong start = s_codeNext;
            for (ulong p = 0; p < pages; p++)
            {
                MapResult result = s_tables.Map(s_codeNext, physical + p * PageSize, PageFlags.Present | PageFlags.Global);
                s_codeNext += PageSize;
                if (result != MapResult.Ok) return null;
            }
            return (void*)start;
        }

        /// <summary>Translates a kernel virtual address through the live tables.</summary>
        public static bool TryTranslate(ulong virtualAddress, out ulong physical, out PageFlags flags)
            => s_tables.TryTranslate(virtualAddress, out physical, out flags);

        /// <summary>The runtime's collection policy (docs/kernel.md, "Garbage collection"): the kernel
        /// collects only in its own thread of control - on the boot stack with interrupts enabled
        /// (boot after interrupts are on, the scheduler loop, kernel tests) - never in an interrupt
        /// or exception handler or a system call (those run with interrupts off, on the trap or an
        /// IST stack, or on the boot stack with interrupts off). Elsewhere the heap grows instead.</summary>
        public static bool MayCollect(nint stackPointer)
        {
            const ulong InterruptFlag = 1UL << 9;
            if ((Cpu.ReadFlags() & InterruptFlag) == 0)
                return false;
            ulong sp = (ulong)stackPointer;
            return sp > LinkerSymbols.StackGuard() + PageSize && sp <= LinkerSymbols.StackTop();
        }

        /// <summary>The runtime's heap grower: maps fresh zeroed frames after the heap's end (the
        /// request rounded up to pages). It may use the kernel's reserve (Exo/Accounts.cs): users
        /// cannot take those frames. A frame that could not be mapped (no frame left for a page
        /// table) is given back and the heap ends where the last mapped page ends.</summary>
        private static nint GrowHeap(nuint bytes, nuint* granted)
        {
            ulong size = ((ulong)bytes + PageSize - 1) & ~(PageSize - 1);
            ulong start = s_heapNext;
            ulong mapped = MapHeapPages(start, size);
            s_heapNext += mapped;
            *granted = (nuint)mapped;
            return mapped == 0 ? 0 : (nint)start;
        }

        /// <summary>The runtime's release hook: unmaps a range of the heap the grower made and
        /// gives its frames back to the frame allocator (the page tables stay).</summary>
        private static bool ReleaseHeap(nint start, nuint bytes)
        {
            if ((ulong)start < HeapBase || (ulong)start + (ulong)bytes > s_heapNext || (((ulong)start | (ulong)bytes) & (PageSize - 1)) != 0)
                return false;
            for (ulong page = (ulong)start; page < (ulong)start + (ulong)bytes; page += PageSize)
            {
                if (s_tables.Unmap(page, out ulong entry) != MapResult.Ok)
                    continue;
                Cpu.InvalidatePage(page);
                s_frames.Free((entry & 0x000F_FFFF_FFFF_F000) / PageSize);
                s_heapFrames--;
            }
            return true;
        }

        /// <summary>The runtime's recommit hook: maps zeroed frames again at a released range (all or nothing).</summary>
        private static bool RecommitHeap(nint start, nuint bytes)
        {
            if ((ulong)start < HeapBase || (ulong)start + (ulong)bytes > s_heapNext)
                return false;
            ulong mapped = MapHeapPages((ulong)start, (ulong)bytes);
            if (mapped == (ulong)bytes)
                return true;
            ReleaseHeap(start, (nuint)mapped);
            return false;
        }

        /// <summary>Maps zeroed frames at [start, start + size); returns how many bytes it mapped (stops at the first failure).</summary>
        private static ulong MapHeapPages(ulong start, ulong size)
        {
            for (ulong offset = 0; offset < size; offset += PageSize)
            {
                bool mapped = false;
                if (s_frames.TryAllocate(out ulong frame))
                {
                    ulong physical = frame * PageSize;
                    ZeroPhysicalPage(physical);
                    ulong tablesBefore = s_tableMemory.TablesAllocated;
                    mapped = s_tables.Map(start + offset, physical, PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute | PageFlags.Global) == MapResult.Ok;
                    s_heapTableFrames += s_tableMemory.TablesAllocated - tablesBefore;
                    if (!mapped)
                        s_frames.Free(frame);
                }
                if (!mapped)
                    return offset;
                s_heapFrames++;
            }
            return size;
        }

        private static void ZeroPhysicalPage(ulong physical)
        {
            ulong* page = (ulong*)PhysicalToVirtual(physical);
            for (int i = 0; i < 512; i++)
                page[i] = 0;
        }

        /// <summary>IPageTableMemory over physical memory seen through a window (identity or direct map).</summary>
        private sealed class PhysicalWindowTables : IPageTableMemory
        {
            private readonly FrameAllocator _frames;
            public ulong Window;

            public PhysicalWindowTables(FrameAllocator frames) { _frames = frames; }

            /// <summary>Page-table frames taken so far.</summary>
            public ulong TablesAllocated;

            public ulong AllocateTable()
            {
                if (!_frames.TryAllocate(out ulong frame))
                    return 0;
                TablesAllocated++;
                ulong physical = frame * PageSize;
                ulong* table = (ulong*)(Window + physical);
                for (int i = 0; i < 512; i++)
                    table[i] = 0;
                return physical;
            }

            public ulong ReadEntry(ulong tablePhysical, int index) => ((ulong*)(Window + tablePhysical))[index];

            public void WriteEntry(ulong tablePhysical, int index, ulong entry)
            {
                ((ulong*)(Window + tablePhysical))[index] = entry;
            }
        }
    }
}
