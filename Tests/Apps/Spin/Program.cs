// spin: says it started, then loops forever without a system call. It also refuses the
// kernel's end-of-slice warning (its SliceEnd handler returns without yielding), so the only
// way anything else runs is the kernel preempting it by force — the abort protocol for the
// CPU — and only a holder of its Environment capability can end it.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Spin
{
    internal static class Program
    {
        private static ulong s_iterations;
        private static ulong s_warningsIgnored;

        private static int Main()
        {
            Upcalls.SetSliceEndHandler(IgnoreSliceEnd);
            Console.WriteLine("spin: environment " + Info.EnvironmentIdText + " spinning");
            while (true)
                s_iterations++;
        }

        private static void IgnoreSliceEnd(ref UpcallFrame frame) => s_warningsIgnored++;
    }
}
