// spin-killer: the other half of the spin behaviour. The kernel puts an Environment capability
// over the spinner in this app's slot 2; the killer gives up the CPU a number of times (so the
// spinner runs, and is preempted, again and again), then destroys the spinner through the
// capability and exits with status 0.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.SpinKiller
{
    internal static class Program
    {
        private const ulong SpinnerSlot = 2;
        private const int Yields = 20;

        private static int Main()
        {
            SystemCallResult held = SystemCalls.CapabilityQuery(SpinnerSlot);
            if (held.IsError || held.Value != (ulong)CapabilityKind.Environment)
            {
                Console.WriteLine("spin-killer: no Environment capability in slot 2");
                return 1;
            }
            for (int i = 0; i < Yields; i++)
                SystemCalls.Yield();
            Error error = SystemCalls.EnvironmentDestroy(SpinnerSlot);
            if (error != Error.None)
            {
                Console.WriteLine("spin-killer: cannot destroy environment " + held.Second.ToString("x") + ": " + Errors.Name(error));
                return 1;
            }
            Console.WriteLine("spin-killer: destroyed the spinner (environment " + held.Second.ToString("x") + ") after "
                + Yields.ToString() + " yields");
            return 0;
        }
    }
}
