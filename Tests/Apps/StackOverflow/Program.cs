// stackoverflow: recurses without end. The initial stack (16 pages) runs into the unmapped
// guard pages below it; the page fault is delivered on the upcall stack, nothing handles it, and
// LibOS.Base ends the app with Exit(128 + 14, frame): the kernel's crash report names a stack
// overflow and shows the recursing frame once, with a count. Boot test: StackOverflowInAnAppIsReported.
using System.Runtime.CompilerServices;
using Aegis.LibOS;

namespace Aegis.Apps.StackOverflow
{
    internal static class Program
    {
        private static int s_deepest;

        private static int Main()
        {
            Console.WriteLine("stackoverflow: about to recurse without end");
            return Recurse(1);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Recurse(int depth)
        {
            s_deepest = depth;
            return Recurse(depth + 1) + 1; // the recursion
        }
    }
}
