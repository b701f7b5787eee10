// grant-exhaust: creates 32 empty children and grants each of 2,100 frames to every child
// (67,200 grants: more than the kernel's whole grant pool) until the kernel refuses. Then it
// sends one of its pages by IPC to a server child of its own (the same image, argument
// "server", waiting for messages): with no grant left, the send must fail rather than deliver a
// frame the receiver has no grant for. The kernel judges: the grants stayed within the
// environment's quota, the system-wide pool was not exhausted, no page was delivered.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.GrantExhaust
{
    internal static unsafe class Program
    {
        private const int Children = 32;
        private const int Frames = 2100;

        private static int Main()
        {
            if (Info.Argument == "server")
            {
                while (true)
                    SystemCalls.Wait();
            }
            Console.WriteLine("grant-exhaust: granting until refused");
            SystemCallResult server = SystemCalls.ImageSpawn("grant-exhaust", "server");
            if (server.IsError || SystemCalls.EnvironmentStart(server.Value, 0, 0, 0) != Error.None)
                return 2;
            ulong serverId = SystemCalls.CapabilityQuery(server.Value).Second;
            ulong* children = stackalloc ulong[Children];
            int childCount = 0;
            for (int i = 0; i < Children; i++)
            {
                SystemCallResult child = SystemCalls.EnvironmentCreate();
                if (child.IsError) break;
                children[childCount++] = child.Value;
            }
            ulong page = AddressSpace.Reserve(1);
            if (page == 0 || Memory.AllocateAndMap(page, 1, Memory.ReadWrite) != Error.None)
                return 3;
            bool refused = false;
            for (int f = 0; f < Frames && !refused; f++)
            {
                SystemCallResult frame = SystemCalls.FrameAllocate();
                if (frame.IsError) break;
                for (int c = 0; c < childCount; c++)
                {
                    if (SystemCalls.FrameGrant(frame.Value, children[c], false) != Error.None)
                    {
                        refused = true;
                        break;
                    }
                }
            }
            // Give the server the CPU until it waits, then try to send it the page.
            Error sent = Error.WouldBlock;
            for (int attempt = 0; attempt < 1000 && sent == Error.WouldBlock; attempt++)
            {
                SystemCalls.Yield(serverId);
                sent = SystemCalls.IpcSend(serverId, 1, 2, 3, 4, page);
            }
            Console.WriteLine("grant-exhaust: refused " + (refused ? "yes" : "no") + ", page send: " + Errors.Name(sent));
            for (int c = 0; c < childCount; c++)
                SystemCalls.EnvironmentDestroy(children[c]);
            SystemCalls.EnvironmentDestroy(server.Value);
            return 0;
        }
    }
}
