// spin-killer: the other half of the spin behaviour. The kernel puts an Environment capability
// over the spinner in this app's slot 2; the killer gives up the CPU a number of times (so the
// spinner runs, and is preempted, again and again), stops it and checks that it no longer runs,
// resumes it, and finally destroys it through the capability and exits with status 0.
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
            if (!StopAndResume())
                return 1;
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

        /// <summary>EnvironmentStop takes the spinner off the CPU (its state reads Stopped and it keeps
        /// no slice); EnvironmentStart(slot, 0, 0, 0) lets it run on from where it stopped.</summary>
        private static bool StopAndResume()
        {
            SystemCallResult stopped = SystemCalls.EnvironmentStop(SpinnerSlot);
            SystemCallResult status = SystemCalls.EnvironmentStatus(SpinnerSlot);
            if (stopped.IsError || status.IsError || status.Value != (ulong)EnvironmentState.Stopped)
            {
                Console.WriteLine("spin-killer: EnvironmentStop did not stop the spinner");
                return false;
            }
            for (int i = 0; i < 3; i++)
                SystemCalls.Yield();
            Error resumed = SystemCalls.EnvironmentStart(SpinnerSlot, 0, 0, 0);
            status = SystemCalls.EnvironmentStatus(SpinnerSlot);
            if (resumed != Error.None || status.IsError || status.Value != (ulong)EnvironmentState.Runnable)
            {
                Console.WriteLine("spin-killer: EnvironmentStart did not resume the spinner");
                return false;
            }
            Console.WriteLine("spin-killer: stopped and resumed the spinner");
            for (int i = 0; i < 3; i++)
                SystemCalls.Yield();
            return true;
        }
    }
}
