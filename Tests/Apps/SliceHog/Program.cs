// slice-hog: asks for a time slice 64 times (the whole slice vector), then stays alive holding
// what it got, yielding until it is destroyed. The kernel judges: the hog was refused before the
// vector was full, and another environment can still be started.
using Aegis.LibOS;

namespace Aegis.Apps.SliceHog
{
    internal static class Program
    {
        private static int Main()
        {
            Console.WriteLine("slice-hog: asking for 64 slices");
            for (int i = 0; i < 64; i++)
                SystemCalls.SliceAllocate();
            while (true)
                SystemCalls.Yield();
        }
    }
}
