// spin: says it started, then loops forever without a system call. Only preemption at the end of
// its time slice lets anything else run, and only a holder of its Environment capability (its
// creator) can end it.
using Aegis.LibOS;

namespace Aegis.Apps.Spin
{
    internal static class Program
    {
        private static ulong s_iterations;

        private static int Main()
        {
            Console.WriteLine("spin: environment " + Info.EnvironmentIdText + " spinning");
            while (true)
                s_iterations++;
        }
    }
}
