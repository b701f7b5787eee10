// dumbfork: fork without sharing (JOS's dumbfork): the child gets a copy of every page of the
// parent in fresh frames. Parent and child each print their lines, yielding between them; the
// parent waits for the child; both exit with status 0.
using Aegis.LibOS;
using Aegis.LibOS.Unixish;

namespace Aegis.Apps.DumbFork
{
    internal static class Program
    {
        private static int Main()
        {
            long child = Process.DumbFork();
            if (child < 0)
            {
                Console.WriteLine("dumbfork: fork failed: " + Errors.Name((Aegis.Abi.Error)child));
                return 1;
            }
            bool parent = child > 0;
            int lines = parent ? 5 : 10;
            for (int i = 0; i < lines; i++)
            {
                Console.WriteLine(Process.Id.ToString("x") + ": " + i.ToString() + ": I am the " + (parent ? "parent" : "child"));
                SystemCalls.Yield();
            }
            if (parent)
            {
                Process.Wait((ulong)child, out ulong status);
                Console.WriteLine("dumbfork: the child exited with " + (status == Process.UnknownStatus ? "an unknown status" : status.ToString()));
            }
            Process.Exit(0);
            return 0;
        }
    }
}
