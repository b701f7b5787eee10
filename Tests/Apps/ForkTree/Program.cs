// forktree: copy-on-write fork builds a binary tree of environments (JOS's forktree). Each one
// prints "<id>: I am '<branch>'" and, while its branch is shorter than Depth, forks two children
// whose branches append '0' and '1': 15 environments for depth 3. Each also writes "I am
// '<branch>'" into a page of the root's heap (so every environment shares it
// copy-on-write) and stops at the kernel's checkpoint (EnvironmentStop, RSI = the page): the kernel
// checks that its page and its parent's are different frames with different contents. Each waits
// for its children, then exits with status 0.
using Aegis.Abi;
using Aegis.LibOS;
using Aegis.LibOS.Unixish;

namespace Aegis.Apps.ForkTree
{
    internal static unsafe class Program
    {
        private const int Depth = 3;
        private static ulong s_page;
        private static byte[] s_buffer;

        private static int Main()
        {
            // A page of the heap (which the fork gives the child): no collector moves it.
            s_buffer = new byte[2 * Memory.PageSize];
            fixed (byte* buffer = s_buffer)
                s_page = ((ulong)buffer + Memory.PageSize - 1) & ~(Memory.PageSize - 1);
            Grow("");
            return 0; // not reached: Grow ends the environment
        }

        private static void Grow(string branch)
        {
            Console.WriteLine(Process.Id.ToString("x") + ": I am '" + branch + "'");
            Checkpoint("I am '" + branch + "'");
            if (branch.Length < Depth)
            {
                long first = ForkChild(branch + "0");
                long second = ForkChild(branch + "1");
                Process.Wait((ulong)first, out _);
                Process.Wait((ulong)second, out _);
            }
            Process.Exit(0);
        }

        /// <summary>Writes 'marker' into the shared page and stops for the kernel's inspection (RSI = the page).</summary>
        private static void Checkpoint(string marker)
        {
            byte* bytes = (byte*)s_page;
            for (int i = 0; i < marker.Length; i++)
                bytes[i] = (byte)marker[i];
            bytes[marker.Length] = 0;
            SystemCalls.Invoke((ulong)SystemCall.EnvironmentStop, CapabilitySlots.Self, s_page);
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
