// frame-hog: takes every frame FrameAllocate gives it, then stays alive holding them (it yields
// until it is destroyed). The kernel judges: the hog was refused (an error, not a panic) within
// its quota, the kernel kept its reserve, and it can still create and run other environments
// while the hog holds everything it got.
using Aegis.LibOS;

namespace Aegis.Apps.FrameHog
{
    internal static class Program
    {
        private static int Main()
        {
            Console.WriteLine("frame-hog: taking every frame");
            while (!SystemCalls.FrameAllocate().IsError) { }
            while (true)
                SystemCalls.Yield();
        }
    }
}
