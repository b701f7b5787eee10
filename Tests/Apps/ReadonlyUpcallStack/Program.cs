// readonly-upcall-stack: the kernel must never write an upcall frame into a page that is not
// user-writable at delivery time, even one it wrote a frame into before. The app registers its
// own upcall stack (16 pages, with two writable pages mapped below its bottom) and, as upcall
// entry, LibOS.Base's aegis_upcall_resume (it resumes the frame at once). It takes a breakpoint
// with RSP just above the stack's bottom: the kernel nests the frame below RSP, on the page
// below the bottom, and resumes. Then it fills that page with a marker, makes it read-only
// (PageProtect: a page outside the stack, so the kernel's cached checks are not dropped), stops
// itself (the kernel's checkpoint: it snapshots the page) and takes the same breakpoint again.
// The kernel must destroy it for a bad upcall instead of writing the frame there; the protection
// suite compares the page with its snapshot.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.ReadonlyUpcallStack
{
    internal static unsafe class Program
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "rous_trap_on")] private static extern void TrapOn(ulong rsp);
        [MethodImpl(Import), RuntimeImport("*", "rous_symbol_resume")] private static extern ulong ResumeEntry();

        private const int BelowPages = 2;
        private const int StackPages = UpcallLimits.UpcallStackPages;

        private static int Main()
        {
            ulong region = AddressSpace.Reserve(BelowPages + StackPages);
            if (region == 0 || Memory.AllocateAndMap(region, BelowPages + StackPages, Memory.ReadWrite) != Error.None)
            {
                Console.WriteLine("readonly-upcall-stack: cannot map the stack");
                return 1;
            }
            ulong bottom = region + BelowPages * Memory.PageSize;
            ulong top = bottom + StackPages * Memory.PageSize;
            ulong below = bottom - Memory.PageSize; // where a frame nested just above the bottom lands
            Console.WriteLine("readonly-upcall-stack: stack 0x" + bottom.ToString("x") + "..0x" + top.ToString("x") + ", nested frames land at 0x" + below.ToString("x"));
            // From here to the end nothing allocates or faults: the upcall entry only resumes.
            Error error = SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, ResumeEntry(), top);
            if (error != Error.None)
                return 2;
            TrapOn(bottom + 64);                // the frame goes to [bottom - 320, bottom - 64): the page below
            ulong* words = (ulong*)below;
            for (int i = 0; i < 512; i++)
                words[i] = 0x5EA1_5EA1_0000_0000UL + (ulong)i;
            if (SystemCalls.PageProtect(CapabilitySlots.Self, below, 1, Memory.ReadOnly).IsError)
                return 3;
            SystemCalls.EnvironmentStop(CapabilitySlots.Self); // the kernel's checkpoint
            TrapOn(bottom + 64);                // must not be written: the page is read-only now
            // Only a kernel that wrote the frame into the read-only page comes back here.
            SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, Upcalls.EntryAddress, AddressSpace.UpcallStackTop);
            Console.WriteLine("readonly-upcall-stack: resumed after the second breakpoint");
            return 0;
        }
    }
}
