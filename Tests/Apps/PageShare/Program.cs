// pageshare: PageShare and PageInherit (issue #9, fast fork) from ring 3. The protection suite
// (ProtectionSuite.Sharing.cs) judges from what it observes itself: page tables, the frame
// ledger, charges, error counts. One run, three checkpoints (it stops itself at each):
//   1. maps five pages at 0x40000000 (0, 1 and 4 writable, 2 read-only, 3 left unmapped) and one
//      at 0x50000000, makes a child environment, tries every bad PageShare/PageInherit (each must
//      fail: the kernel counts 12 errors), shares [0x40000000, +5 pages) copy-on-write (MarkReadOnly,
//      mark Software0) and marks [0x50000000, +16 pages) on demand for the child; stops.
//   2. destroys the child, reclaims its pages (PageShare Self Reclaim: the three marked pages
//      become writable again), writes them; makes a second child, shares page 0 copy-on-write,
//      then Reclaim | Release on page 0 (the child still maps it: released); stops.
//   3. unmaps page 0 and destroys the second child (the released frame's last mapping); stops.
// Then it exits 0.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.PageShare
{
    internal static unsafe class Program
    {
        private const ulong Base = 0x40000000, Lazy = 0x50000000, Page = 4096;
        private const ulong Mark = PageBits.Software0;

        private static string Result(SystemCallResult result) => result.IsError ? Errors.Name(result.Error) : result.Value.ToString();

        private static void Say(string what, SystemCallResult result) => Console.WriteLine("pageshare: " + what + " " + Result(result));

        private static bool MapNew(ulong address, ulong permissions)
        {
            SystemCallResult frame = SystemCalls.FrameAllocate(SystemCallLimits.AnyFrame);
            return !frame.IsError && Memory.Map(address, frame.Value, permissions) == Error.None;
        }

        private static int Main()
        {
            for (ulong i = 0; i < 5; i++)
            {
                if (i == 3) continue;
                if (!MapNew(Base + i * Page, i == 2 ? Memory.ReadOnly : Memory.ReadWrite)) { Console.WriteLine("pageshare: cannot map"); return 1; }
                if (i != 2) *(ulong*)(Base + i * Page) = 0x5A00 + i;
            }
            if (!MapNew(Lazy, Memory.ReadWrite)) return 1;
            *(ulong*)Lazy = 0x1A2B;
            SystemCallResult created = SystemCalls.EnvironmentCreate();
            if (created.IsError) { Say("create", created); return 1; }
            ulong child = created.Value;

            // Every one of these must fail and change nothing.
            Say("bad flags", SystemCalls.PageShare(child, Base, 5, 32, Mark));
            Say("bad mark", SystemCalls.PageShare(child, Base, 5, PageShareFlags.CopyOnWrite, PageBits.Writable));
            Say("unaligned", SystemCalls.PageShare(child, Base + 8, 5, PageShareFlags.CopyOnWrite, Mark));
            Say("no pages", SystemCalls.PageShare(child, Base, 0, PageShareFlags.CopyOnWrite, Mark));
            Say("too many pages", SystemCalls.PageShare(child, Base, 513, PageShareFlags.CopyOnWrite, Mark));
            Say("kernel address", SystemCalls.PageShare(child, 0xFFFFFFFF80100000UL, 1, PageShareFlags.Share, 0));
            Say("empty slot", SystemCalls.PageShare(40, Base, 5, PageShareFlags.CopyOnWrite, Mark));
            Say("to itself", SystemCalls.PageShare(CapabilitySlots.Self, Base, 5, PageShareFlags.CopyOnWrite, Mark));
            Say("reclaim in a child", SystemCalls.PageShare(child, Base, 5, PageShareFlags.Reclaim, Mark));
            Say("on demand mixed", SystemCalls.PageShare(child, Lazy, 16, PageShareFlags.OnDemand | PageShareFlags.CopyOnWrite, 0));
            Say("inherit outside", SystemCalls.PageInherit(Base, 1));
            Say("inherit no pages", SystemCalls.PageInherit(Lazy, 0));

            Say("share", SystemCalls.PageShare(child, Base, 5, PageShareFlags.CopyOnWrite | PageShareFlags.MarkReadOnly, Mark));
            Say("on demand", SystemCalls.PageShare(child, Lazy, 16, PageShareFlags.OnDemand, 0));
            SystemCalls.EnvironmentStop(CapabilitySlots.Self); // checkpoint 1

            Say("destroy", SystemCalls.Invoke((ulong)SystemCall.EnvironmentDestroy, child));
            Say("reclaim", SystemCalls.PageShare(CapabilitySlots.Self, Base, 5, PageShareFlags.Reclaim, Mark));
            *(ulong*)Base = 0x6A00;
            *(ulong*)(Base + 4 * Page) = 0x6A04;
            created = SystemCalls.EnvironmentCreate();
            if (created.IsError) { Say("create", created); return 1; }
            ulong second = created.Value;
            Say("share again", SystemCalls.PageShare(second, Base, 1, PageShareFlags.CopyOnWrite, Mark));
            Say("release", SystemCalls.PageShare(CapabilitySlots.Self, Base, 1, PageShareFlags.Reclaim | PageShareFlags.Release, Mark));
            SystemCalls.EnvironmentStop(CapabilitySlots.Self); // checkpoint 2

            Say("unmap", new SystemCallResult((long)Memory.Unmap(Base), 0));
            Say("destroy second", SystemCalls.Invoke((ulong)SystemCall.EnvironmentDestroy, second));
            SystemCalls.EnvironmentStop(CapabilitySlots.Self); // checkpoint 3
            return 0;
        }
    }
}
