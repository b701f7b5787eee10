// Where LibOS.Base puts things in the environment's address space, and a simple allocator of
// virtual address ranges for everything else. The kernel fixes only the image (ImageBase), the
// initial stack (below InitialStackTop) and the information pages (ReservedTop and above).
//
//   0x0000_0000_0040_0000  the app image (text, rodata, data + bss with the first heap region)
//   0x0000_1000_0000_0000  the heap, grown upwards by UserHeap           (HeapBase..HeapLimit)
//   0x0000_2000_0000_0000  ranges handed out by Reserve                  (DynamicBase..DynamicLimit)
//   0x0000_7FFF_FFF0_0000  top of the initial stack (16 pages, the kernel's)
//   0x0000_7FFF_FFFE_0000  the upcall stack (UpcallStackPages = 16, below ReservedTop)
//   0x0000_7FFF_FFFF_0000  ReservedTop: the kernel's information pages above
//
// Invariant: a range handed out by Reserve is never handed out again until it is Released, and
// one unmapped guard page follows each range (a stack growing past its bottom or a buffer
// running off its end faults instead of running into a neighbour).
using System.Collections.Generic;
using Aegis.Abi;

namespace Aegis.LibOS
{
    public static class AddressSpace
    {
        public const ulong HeapBase = 0x0000_1000_0000_0000;
        public const ulong HeapLimit = 0x0000_2000_0000_0000;
        public const ulong DynamicBase = 0x0000_2000_0000_0000;
        public const ulong DynamicLimit = 0x0000_7000_0000_0000;
        /// <summary>16 pages: the kernel treats an RSP within 16 pages below the registered top as
        /// "already on the upcall stack" (nested upcalls go below it).</summary>
        public const int UpcallStackPages = 16;
        public const ulong UpcallStackTop = UserAddresses.ReservedTop;
        public const ulong UpcallStackBottom = UpcallStackTop - UpcallStackPages * UserAddresses.PageSize;

        private struct Range
        {
            public ulong Start;
            public ulong Pages;
        }

        private static ulong s_next = DynamicBase;
        private static readonly List<Range> s_released = new List<Range>();

        /// <summary>A page-aligned range of pageCount pages nobody else uses (nothing is mapped
        /// there: map it with Memory). Returns 0 when the dynamic area is exhausted.</summary>
        public static ulong Reserve(int pageCount)
        {
            if (pageCount <= 0)
                return 0;
            ulong pages = (ulong)pageCount;
            // First fit among released ranges. Each released range still has its own guard page
            // after it; a range that is split keeps a page between the part taken and the rest.
            for (int i = 0; i < s_released.Count; i++)
            {
                Range range = s_released[i];
                if (range.Pages < pages)
                    continue;
                ulong start = range.Start;
                if (range.Pages <= pages + 1)
                    s_released.RemoveAt(i);
                else
                {
                    range.Start += (pages + 1) * UserAddresses.PageSize;
                    range.Pages -= pages + 1;
                    s_released[i] = range;
                }
                return start;
            }
            ulong size = (pages + 1) * UserAddresses.PageSize;
            if (pages > (DynamicLimit - DynamicBase) / UserAddresses.PageSize || DynamicLimit - s_next < size)
                return 0;
            ulong fresh = s_next;
            s_next += size;
            return fresh;
        }

        /// <summary>Gives back a range from Reserve (unmap it first: this only forgets the addresses).</summary>
        public static void Release(ulong start, int pageCount)
        {
            if (pageCount <= 0 || start < DynamicBase || start >= DynamicLimit)
                return;
            s_released.Add(new Range { Start = start, Pages = (ulong)pageCount });
        }
    }
}
