// pingpong: a parent and its copy-on-write child pass a counter back and forth by IPC (IpcSend
// into the other's IpcServer queue), each printing "<id>: got <n> from <sender>" and sending
// n + 1, until the count reaches 10. The parent waits for the child; both exit with status 0.
using Aegis.LibOS;
using Aegis.LibOS.Unixish;

namespace Aegis.Apps.PingPong
{
    internal static class Program
    {
        private const ulong Last = 10;

        private static int Main()
        {
            IpcServer.Start();
            long child = Process.Fork();
            if (child < 0)
            {
                Console.WriteLine("pingpong: fork failed: " + Errors.Name((Aegis.Abi.Error)child));
                return 1;
            }
            if (child > 0)
            {
                Console.WriteLine(Process.Id.ToString("x") + ": sending 0 to " + child.ToString("x"));
                Check(Ipc.Send((ulong)child, 0));
            }
            while (true)
            {
                IpcMessage message = IpcServer.Receive();
                ulong count = message.Word0;
                Console.WriteLine(Process.Id.ToString("x") + ": got " + count.ToString() + " from " + message.Sender.ToString("x"));
                if (count == Last)
                    break;
                count++;
                Check(Ipc.Send(message.Sender, count));
                if (count == Last)
                    break;
            }
            if (child > 0)
                Process.Wait((ulong)child, out _);
            Process.Exit(0);
            return 0;
        }

        private static void Check(Aegis.Abi.Error error)
        {
            if (error == Aegis.Abi.Error.None)
                return;
            Console.WriteLine(Process.Id.ToString("x") + ": send failed: " + Errors.Name(error));
            Process.Exit(1);
        }
    }
}
