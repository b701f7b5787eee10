// The kernel's own collector test (the shared ones are in Tests/Runtime/Collector.cs): creating
// and destroying environments leaves the kernel heap where it was once the collector has run.
// Their records, tables and buffers are garbage after the reaper is done and the records are
// recycled; the collector reclaims them and gives free blocks back to the frame allocator.
using Aegis.Abi;
using Aegis.Kernel.Exo;
using Aegis.Kernel.Hal;
using Internal.Runtime;

namespace Aegis.Kernel.Tests
{
    public static unsafe partial class RuntimeSuite
    {
        private static string KernelHeapReturnsToItsSizeAfterEnvironmentsEnd()
        {
            if (!BootImages.Exists("hello")) return "no boot image named hello";
            Environments.RecycleEnded();
            System.GC.Collect();
            ulong framesBefore = KernelMemory.HeapFrames;
            ulong inUseBefore = (ulong)RuntimeHost.HeapBytesInUse;
            ulong createdBefore = Environments.CreatedCount;
            ulong inUsePeak = 0;
            for (int round = 0; round < 4; round++)
            {
                for (int i = 0; i < 8; i++)
                {
                    Quota quota = Accounts.Whole;
                    quota.Frames /= 16;
                    Account account = Accounts.Open(quota);
                    if (BootImages.Spawn(0, "hello", "", out Environment environment, out string problem, account) != Error.None)
                        return "cannot spawn hello: " + problem;
                    environment.Capabilities.TryInsertAt(CapabilitySlots.Console, CapabilityKind.Console, 0);
                    if (Environments.Start(environment) != Error.None) return "cannot start hello";
                }
                ulong inUse = (ulong)RuntimeHost.HeapBytesInUse;
                if (inUse > inUsePeak) inUsePeak = inUse;
                if (!Scheduler.Run(() => Environments.LiveCount == 0, 20000)) return "the environments did not end";
            }
            Scheduler.Run(() => Environments.ReapingCount == 0, 20000);
            if (Environments.CreatedCount - createdBefore != 32)
                return "expected 32 environments, created " + (Environments.CreatedCount - createdBefore).ToString();
            Environments.RecycleEnded();
            System.GC.Collect();
            ulong framesAfter = KernelMemory.HeapFrames;
            ulong inUseAfter = (ulong)RuntimeHost.HeapBytesInUse;
            KernelLog.WriteLine("kernel heap: " + inUseBefore.ToString() + " bytes in use before, " + inUsePeak.ToString() + " at most with 8 environments, "
                + inUseAfter.ToString() + " after; " + framesBefore.ToString() + " heap frames before, " + framesAfter.ToString() + " after");
            if (inUsePeak <= inUseBefore) return "the environments took no kernel heap: nothing to check";
            if (inUseAfter > inUseBefore + 64 * 1024)
                return "bytes in use did not come back: " + inUseBefore.ToString() + " before, " + inUseAfter.ToString() + " after the collection";
            if (framesAfter > framesBefore + 16)
                return "the heap kept " + (framesAfter - framesBefore).ToString() + " more frames than before";
            return null;
        }
    }
}
