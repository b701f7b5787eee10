// cowmark: copy-on-write faults the kernel resolves (SystemCall.CopyOnWriteMark, issue #9) from
// ring 3. The protection suite (ProtectionSuite.Sharing.cs, "kernel-copy-on-write") judges from
// the page tables, the frame ledger, the charges and the kernel's counters. Two checkpoints:
//   1. refuses three bad settings (3 errors), asks for mark Software0|Software2, drop Software1;
//      maps pages A, B, C at 0x40000000 writable and writes 0xA0, 0xB0, 0xC0 into them; makes a
//      child and shares A and B copy-on-write with the full mark; makes C read-only with
//      Software0 alone (half the mark); then writes 0xA1 to A (the child maps it: the kernel
//      copies), and 0xC1 to C (half the mark: upcalled; its handler makes C writable and
//      counts); stops.
//   2. destroys the child, writes 0xB1 to B (its frame is the app's alone now: the kernel keeps
//      the frame, makes it writable); stops.
//   3. makes a third child and shares B with it; PageShare Discard mixed with Reclaim and on the
//      child's slot (both refused), then Discard over A and B: A's frame (its alone) is freed, B's
//      (the child maps it) given up; stops.
//   4. PageAllocate: six bad calls refused (unaligned, 0 and 513 pages, bad permissions, a kernel
//      address, a range with a mapped page), then 3 fresh pages at D; writes 0xD1 to the second;
//      stops.
//   5. PageAlias: six bad calls refused (writable, unaligned, 513 pages, a kernel address, an
//      unmapped source, a destination over a mapped page), then D's 3 pages a second time at E,
//      read-only with Software0; writes 0xD2 through D and reads it through E; stops. Then it exits 0.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.CowMark
{
    internal static unsafe class Program
    {
        private const ulong A = 0x40000000, B = A + 4096, C = A + 2 * 4096, D = A + 16 * 4096, E = A + 32 * 4096;
        private const ulong Mark = PageBits.Software0 | PageBits.Software2, Drop = PageBits.Software1;
        private static int s_upcalled;

        private static string Result(SystemCallResult result) => result.IsError ? Errors.Name(result.Error) : result.Value.ToString();
        private static void Say(string what, SystemCallResult result) => Console.WriteLine("cowmark: " + what + " " + Result(result));

        private static bool OnFault(ref UpcallFrame frame)
        {
            if (PageFaults.FaultPage(frame) != C || !PageFaults.IsWrite(frame)) return false;
            s_upcalled++;
            return SystemCalls.PageProtect(CapabilitySlots.Self, C, 1, Memory.ReadWrite).Error == Error.None;
        }

        private static int Main()
        {
            Say("bad mark", SystemCalls.CopyOnWriteMark(CapabilitySlots.Self, PageBits.Writable, 0));
            Say("drop without mark", SystemCalls.CopyOnWriteMark(CapabilitySlots.Self, 0, Drop));
            Say("empty slot", SystemCalls.CopyOnWriteMark(40, Mark, Drop));
            Say("mark", SystemCalls.CopyOnWriteMark(CapabilitySlots.Self, Mark, Drop));
            PageFaults.Register(OnFault);
            for (ulong page = A; page <= C; page += 4096)
            {
                SystemCallResult frame = SystemCalls.FrameAllocate(SystemCallLimits.AnyFrame);
                if (frame.IsError || Memory.Map(page, frame.Value, Memory.ReadWrite) != Error.None) { Console.WriteLine("cowmark: cannot map"); return 1; }
            }
            *(ulong*)A = 0xA0;
            *(ulong*)B = 0xB0;
            *(ulong*)C = 0xC0;
            SystemCallResult created = SystemCalls.EnvironmentCreate();
            if (created.IsError) { Say("create", created); return 1; }
            ulong child = created.Value;
            Say("share", SystemCalls.PageShare(child, A, 2, PageShareFlags.CopyOnWrite, Mark));
            Say("half mark", SystemCalls.PageProtect(CapabilitySlots.Self, C, 1, Memory.ReadOnly | PageBits.Software0));
            *(ulong*)A = 0xA1;
            *(ulong*)C = 0xC1;
            Console.WriteLine("cowmark: upcalled " + s_upcalled.ToString());
            SystemCalls.EnvironmentStop(CapabilitySlots.Self); // checkpoint 1

            Say("destroy", SystemCalls.Invoke((ulong)SystemCall.EnvironmentDestroy, child));
            *(ulong*)B = 0xB1;
            Console.WriteLine("cowmark: upcalled " + s_upcalled.ToString());
            SystemCalls.EnvironmentStop(CapabilitySlots.Self); // checkpoint 2

            created = SystemCalls.EnvironmentCreate();
            if (created.IsError) { Say("create", created); return 1; }
            ulong third = created.Value;
            Say("share B", SystemCalls.PageShare(third, B, 1, PageShareFlags.CopyOnWrite, Mark));
            Say("discard mixed", SystemCalls.PageShare(CapabilitySlots.Self, A, 2, PageShareFlags.Discard | PageShareFlags.Reclaim, 0));
            Say("discard in a child", SystemCalls.PageShare(third, A, 2, PageShareFlags.Discard, 0));
            Say("discard", SystemCalls.PageShare(CapabilitySlots.Self, A, 2, PageShareFlags.Discard, 0));
            SystemCalls.EnvironmentStop(CapabilitySlots.Self); // checkpoint 3

            Say("allocate unaligned", SystemCalls.PageAllocate(D + 8, 3, Memory.ReadWrite));
            Say("allocate none", SystemCalls.PageAllocate(D, 0, Memory.ReadWrite));
            Say("allocate too many", SystemCalls.PageAllocate(D, 513, Memory.ReadWrite));
            Say("allocate bad permissions", SystemCalls.PageAllocate(D, 3, 1UL << 40));
            Say("allocate kernel", SystemCalls.PageAllocate(0xFFFFFFFF80100000UL, 1, Memory.ReadWrite));
            Say("allocate over a mapped page", SystemCalls.PageAllocate(B, 2, Memory.ReadWrite)); // C is mapped
            Say("allocate", SystemCalls.PageAllocate(D, 3, Memory.ReadWrite));
            *(ulong*)(D + 4096) = 0xD1;
            SystemCalls.EnvironmentStop(CapabilitySlots.Self); // checkpoint 4

            Say("alias writable", SystemCalls.PageAlias(D, E, 3, Memory.ReadWrite));
            Say("alias unaligned", SystemCalls.PageAlias(D + 8, E, 3, Memory.ReadOnly));
            Say("alias too many", SystemCalls.PageAlias(D, E, 513, Memory.ReadOnly));
            Say("alias kernel", SystemCalls.PageAlias(D, 0xFFFFFFFF80100000UL, 1, Memory.ReadOnly));
            Say("alias unmapped source", SystemCalls.PageAlias(A, E, 1, Memory.ReadOnly)); // A was discarded
            Say("alias over a mapped page", SystemCalls.PageAlias(D, C - 4096 * 2, 3, Memory.ReadOnly)); // C is mapped
            Say("alias", SystemCalls.PageAlias(D, E, 3, Memory.ReadOnly | PageBits.Software0));
            *(ulong*)(D + 4096) = 0xD2;
            Console.WriteLine("cowmark: alias reads " + (*(ulong*)(E + 4096)).ToString("x"));
            SystemCalls.EnvironmentStop(CapabilitySlots.Self); // checkpoint 5
            return 0;
        }
    }
}
