// fork-bomb: every member spawns and starts copies of its own image until the kernel refuses,
// then waits forever. The kernel judges: the tree stopped within its quota of environments,
// the environment table was not filled, and the kernel can still create and run others.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.ForkBomb
{
    internal static class Program
    {
        private static int Main()
        {
            if (Info.Argument != "child")
                Console.WriteLine("fork-bomb: spawning until refused");
            while (true)
            {
                SystemCallResult child = SystemCalls.ImageSpawn("fork-bomb", "child");
                if (child.IsError) break;
                if (SystemCalls.EnvironmentStart(child.Value, 0, 0, 0) != Error.None) break;
            }
            while (true)
                SystemCalls.Wait();
        }
    }
}
