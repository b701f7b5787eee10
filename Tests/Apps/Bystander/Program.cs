// bystander: an environment that minds its own business while others misbehave. It prints
// "bystander: tick N" five times, yielding the CPU between prints, and exits with status 0;
// a test that sees all five lines knows it was unharmed.
using Aegis.LibOS;

namespace Aegis.Apps.Bystander
{
    internal static class Program
    {
        private const int Ticks = 5;

        private static int Main()
        {
            for (int tick = 1; tick <= Ticks; tick++)
            {
                Console.WriteLine("bystander: tick " + tick.ToString());
                if (tick < Ticks)
                    SystemCalls.Yield();
            }
            return 0;
        }
    }
}
