// The other side of ipc_roundtrip: a second environment (this image, spawned with an argument,
// so in its own address space) that answers each IpcCall with the request's first word and
// exits on an IpcSend. Two versions:
//   "echo"      LibOS.Base's way: an IPC handler registered with Upcalls.SetIpcHandler, run by
//               the upcall trampoline and dispatcher; Main waits in SystemCalls.Wait. This is
//               what ipc_roundtrip measures.
//   "echo-asm"  bench_echo_entry (Native/bench.S) as the upcall entry: replies from assembly
//               and goes straight back to Wait, without the trampoline (PART
//               ipc_roundtrip.asm_echo: the kernel's share).
// The kernel delivers IPC only to an environment blocked in Wait, and IpcReply switches to the
// caller at once, so the caller's next IpcCall finds the server not yet back in Wait: it gets
// WouldBlock, yields to the server (which finishes its handler and waits again) and calls again.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Bench
{
    internal static class EchoServer
    {
        public const string Argument = "echo";
        public const string AssemblyArgument = "echo-asm";

        private static bool s_quit;

        public static int Run(bool assembly)
        {
            if (assembly)
            {
                Error error = SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, Native.EchoEntry(), AddressSpace.UpcallStackTop);
                if (error != Error.None)
                {
                    Console.WriteLine("BENCH-ERROR echo server: EnvironmentSetUpcall failed: " + Errors.Name(error));
                    return 1;
                }
            }
            else
            {
                Upcalls.SetIpcHandler(OnIpc);
            }
            // Calls arrive as upcalls while this waits (the assembly server waits in bench_echo_entry
            // after its first call and never comes back here).
            while (!s_quit)
                SystemCalls.Wait();
            return 0;
        }

        private static void OnIpc(ref UpcallFrame frame)
        {
            if (frame.Kind == UpcallKind.IpcCall)
                SystemCalls.IpcReply(frame.Word0, 0);
            else
                s_quit = true;
        }
    }
}
