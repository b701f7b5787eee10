// ipc-negative-reply: an IpcCall's status comes back apart from its data, so a server may reply
// any value. The parent forks a server whose call handler replies (-23, -24) — -23 is the value of
// no error code today, but a reply that looks like one must still arrive as data. The parent calls
// it and exits with the status Exit(reply word 0) if the call succeeded and reply word 1 is -24,
// else 1 (the call reported an error) or 2 (word 1 lost). The protection suite checks the exit
// status is -23 as a 64-bit value and that the kernel delivered the call.
using Aegis.Abi;
using Aegis.LibOS;
using Aegis.LibOS.Unixish;

namespace Aegis.Apps.IpcNegativeReply
{
    internal static class Program
    {
        private const ulong Reply0 = unchecked((ulong)-23L);
        private const ulong Reply1 = unchecked((ulong)-24L);
        private const ulong Quit = 1;

        private static int Main()
        {
            IpcServer.Start();
            long child = Process.Fork();
            if (child < 0)
            {
                Console.WriteLine("ipc-negative-reply: fork failed: " + Errors.Name((Error)child));
                return 3;
            }
            if (child == 0)
            {
                IpcServer.SetCallHandler(Answer);
                IpcMessage quit = IpcServer.Receive(); // the parent's IpcSend
                Process.Exit(quit.Word0 == Quit ? 0UL : 1UL);
            }
            SystemCallResult result = Ipc.Call((ulong)child, 7, 0, 0, 0, 0, out ulong reply1);
            Ipc.Send((ulong)child, Quit);
            Process.Wait((ulong)child, out _);
            Console.WriteLine("ipc-negative-reply: status " + Errors.Name(result.Error) + ", reply 0x" + result.Second.ToString("x") + ", 0x" + reply1.ToString("x"));
            SystemCalls.Exit(result.IsError ? 1 : reply1 != Reply1 ? 2 : result.Second);
            return 0;
        }

        private static void Answer(in IpcMessage request, out ulong reply0, out ulong reply1)
        {
            reply0 = Reply0;
            reply1 = Reply1;
        }
    }
}
