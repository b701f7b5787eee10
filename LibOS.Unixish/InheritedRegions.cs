// The parts of the address space a child inherits from fork: the image (text, rodata, data and
// .bss with the runtime's first heap region), the heap UserHeap grew, the initial stack, and any
// range the app or a libOS registered (memory it mapped itself, e.g. from AddressSpace.Reserve).
// Not inherited: the upcall stack (each environment has its own), the information pages (the
// kernel maps them), the copy-on-write scratch pages, anything unregistered.
// Invariant: reading the regions allocates nothing (fork walks them while its own pages are
// being shared).
using Aegis.Abi;

namespace Aegis.LibOS.Unixish
{
    public static class InheritedRegions
    {
        /// <summary>Most ranges Register accepts.</summary>
        public const int MaximumRegistered = 16;
        /// <summary>How far below InitialStackTop fork looks for stack pages (the kernel maps
        /// InitialStackPages; a libOS may have mapped more below them).</summary>
        public const int MaximumStackPages = 256;

        private const int Fixed = 3; // image, heap, stack
        private static readonly ulong[] s_starts = new ulong[MaximumRegistered];
        private static readonly ulong[] s_pageCounts = new ulong[MaximumRegistered];
        private static int s_registered;

        /// <summary>Makes children inherit [start, start + pageCount pages). False if the table is full
        /// or the range is not page-aligned user memory.</summary>
        public static bool Register(ulong start, int pageCount)
        {
            if (s_registered == MaximumRegistered || pageCount <= 0 || (start & (UserAddresses.PageSize - 1)) != 0)
                return false;
            if (start < UserAddresses.LowestMappable || start >= UserAddresses.ReservedTop
                || (ulong)pageCount > (UserAddresses.ReservedTop - start) / UserAddresses.PageSize)
                return false;
            s_starts[s_registered] = start;
            s_pageCounts[s_registered] = (ulong)pageCount;
            s_registered++;
            return true;
        }

        /// <summary>How many regions Get describes.</summary>
        public static int Count => Fixed + s_registered;

        /// <summary>Region 'index' (0 .. Count-1) as [start, start + pages pages); pages may be
        /// mapped or not.</summary>
        public static void Get(int index, out ulong start, out ulong pages)
        {
            switch (index)
            {
                case 0:
                    start = NativeMethods.ImageStart();
                    pages = (NativeMethods.ImageEnd() - start + UserAddresses.PageSize - 1) / UserAddresses.PageSize;
                    return;
                case 1:
                    start = AddressSpace.HeapBase;
                    pages = UserHeap.ExtentBytes / UserAddresses.PageSize;
                    return;
                case 2:
                    pages = StackPages();
                    start = UserAddresses.InitialStackTop - pages * UserAddresses.PageSize;
                    return;
                default:
                    start = s_starts[index - Fixed];
                    pages = s_pageCounts[index - Fixed];
                    return;
            }
        }

        /// <summary>The kernel's initial stack pages plus any mapped right below them.</summary>
        private static ulong StackPages()
        {
            ulong pages = (ulong)UserAddresses.InitialStackPages;
            while (pages < MaximumStackPages
                   && Memory.Query(UserAddresses.InitialStackTop - (pages + 1) * UserAddresses.PageSize, out _) == Error.None)
                pages++;
            return pages;
        }
    }
}
