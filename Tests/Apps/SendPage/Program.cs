// sendpage: IPC of a page mapping (JOS's sendpage). The parent forks; it writes a string into a
// page of its own and sends the page with an IpcSend; the kernel grants the frame to the child,
// which maps it, prints `sendpage: received "<string>"` and answers the same way with a page of
// its own. The parent waits for the child; both exit with status 0.
using Aegis.Abi;
using Aegis.LibOS;
using Aegis.LibOS.Unixish;

namespace Aegis.Apps.SendPage
{
    internal static unsafe class Program
    {
        private const string ToChild = "hello, child: this page was the parent's";
        private const string ToParent = "hello, parent: this one was the child's";

        private static int Main()
        {
            IpcServer.Start();
            long child = Process.Fork();
            if (child < 0)
                Fail("fork", (Error)child);
            if (child == 0)
            {
                IpcMessage request = IpcServer.Receive();
                Print(request);
                Send(request.Sender, ToParent);
                Process.Exit(0);
            }
            Send((ulong)child, ToChild);
            Print(IpcServer.Receive());
            Process.Wait((ulong)child, out _);
            Process.Exit(0);
            return 0;
        }

        /// <summary>Writes 'text' into a fresh page of ours and sends the page (Word0: the length).</summary>
        private static void Send(ulong target, string text)
        {
            ulong page = AddressSpace.Reserve(1);
            Error error = page == 0 ? Error.NoMemory : Memory.AllocateAndMap(page, 1, Memory.ReadWrite);
            if (error != Error.None)
                Fail("map a page", error);
            byte* bytes = (byte*)page;
            for (int i = 0; i < text.Length; i++)
                bytes[i] = (byte)text[i];
            error = Ipc.Send(target, (ulong)text.Length, 0, 0, 0, page);
            if (error != Error.None)
                Fail("send the page", error);
        }

        /// <summary>Maps the page that came with the message and prints its string.</summary>
        private static void Print(IpcMessage message)
        {
            if (!message.HasPage)
                Fail("receive a page", Error.InvalidArgument);
            ulong page = AddressSpace.Reserve(1);
            Error error = page == 0 ? Error.NoMemory : Memory.Map(page, message.Frame, Memory.ReadOnly);
            if (error != Error.None)
                Fail("map the page received", error);
            int length = message.Word0 < UserAddresses.PageSize ? (int)message.Word0 : (int)UserAddresses.PageSize;
            Console.WriteLine("sendpage: received \"" + new string((sbyte*)page, 0, length) + "\" (in " + Process.Id.ToString("x")
                + ", frame " + message.Frame.ToString("x") + " from " + message.Sender.ToString("x") + ")");
        }

        private static void Fail(string what, Error error)
        {
            Console.WriteLine("sendpage: " + Process.Id.ToString("x") + " cannot " + what + ": " + Errors.Name(error));
            Process.Exit(1);
        }
    }
}
