// orphan-children: a tree of three environments. The root (no argument) spawns a child, the child a
// grandchild; each then yields forever. The kernel destroys the root (it holds the root's only
// capability) and judges that no environment of the tree is left alive: no environment may be
// left without anyone able to remove it.
using Aegis.LibOS;
using Aegis.LibOS.Unixish;

namespace Aegis.Apps.OrphanChildren
{
    internal static class Program
    {
        private static int Main()
        {
            string role = Info.Argument;
            string next = role == "" ? "child" : role == "child" ? "grandchild" : null;
            if (next != null)
            {
                long id = Process.Spawn("orphan-children", next);
                if (id < 0)
                {
                    Console.WriteLine("orphan-children: cannot spawn the " + next + ": " + Errors.Name((Aegis.Abi.Error)id));
                    return 1;
                }
            }
            Console.WriteLine("orphan-children: " + (role == "" ? "root" : role) + " running");
            for (;;)
                SystemCalls.Yield();
        }
    }
}
