// forktree: copy-on-write fork builds a binary tree of environments (JOS's forktree). Each one
// prints "<id>: I am '<branch>'" and, while its branch is shorter than Depth, forks two children
// whose branches append '0' and '1': 15 environments for depth 3. Each waits for its children,
// then exits with status 0.
using Aegis.LibOS;
using Aegis.LibOS.Unixish;

namespace Aegis.Apps.ForkTree
{
    internal static class Program
    {
        private const int Depth = 3;

        private static int Main()
        {
            Grow("");
            return 0; // not reached: Grow ends the environment
        }

        private static void Grow(string branch)
        {
            Console.WriteLine(Process.Id.ToString("x") + ": I am '" + branch + "'");
            if (branch.Length < Depth)
            {
                long first = ForkChild(branch + "0");
                long second = ForkChild(branch + "1");
                Process.Wait((ulong)first, out _);
                Process.Wait((ulong)second, out _);
            }
            Process.Exit(0);
        }

        private static long ForkChild(string branch)
        {
            long child = Process.Fork();
            if (child == 0)
                Grow(branch);
            if (child < 0)
            {
                Console.WriteLine(Process.Id.ToString("x") + ": fork failed: " + Errors.Name((Aegis.Abi.Error)child));
                Process.Exit(1);
            }
            return child;
        }
    }
}
