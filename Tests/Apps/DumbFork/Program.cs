// dumbfork: fork without sharing (JOS's dumbfork): the child gets a copy of every page of the
// parent in fresh frames. Parent and child each write who they are ("I am the parent" / "I am the
// child") into a page of its heap written before the fork and stop at the kernel's checkpoint (EnvironmentStop,
// RSI = the page): the kernel checks that the two pages are different frames with different
// contents. Then each prints its lines, yielding between them; the parent waits for the child;
// both exit with status 0.
using Aegis.Abi;
using Aegis.LibOS;
using Aegis.LibOS.Unixish;

namespace Aegis.Apps.DumbFork
{
    internal static unsafe class Program
    {
        private static ulong s_page;
        private static byte[] s_buffer;

        private static int Main()
        {
            // A page of the heap (which the fork gives the child): no collector moves it.
            s_buffer = new byte[2 * Memory.PageSize];
            fixed (byte* buffer = s_buffer)
                s_page = ((ulong)buffer + Memory.PageSize - 1) & ~(Memory.PageSize - 1);
            long child = Process.DumbFork();
            if (child < 0)
            {
                Console.WriteLine("dumbfork: fork failed: " + Errors.Name((Aegis.Abi.Error)child));
                return 1;
            }
            bool parent = child > 0;
            Checkpoint(parent ? "I am the parent" : "I am the child");
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

        /// <summary>Writes 'marker' into the page and stops for the kernel's inspection (RSI = the page).</summary>
        private static void Checkpoint(string marker)
        {
            byte* bytes = (byte*)s_page;
            for (int i = 0; i < marker.Length; i++)
                bytes[i] = (byte)marker[i];
            bytes[marker.Length] = 0;
            SystemCalls.Invoke((ulong)SystemCall.EnvironmentStop, CapabilitySlots.Self, s_page);
        }
    }
}
