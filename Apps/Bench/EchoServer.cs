// The other side of ipc_roundtrip: a second environment (this image, spawned with the argument
// "echo", so its own address space) whose upcall entry is bench_echo_entry (Native/bench.S). It
// answers each IpcCall with the request's first word and exits on an IpcSend.
//
// Why its own entry and not LibOS.Base's trampoline with an IPC handler: IpcReply switches
// straight back to the caller, so a handler that replies never gets to return before the
// caller's next IpcCall arrives; the kernel then delivers that call on top of the unfinished
// handler (nested on the upcall stack), and a hot caller runs the server out of upcall stack
// within a few dozen calls. The echo entry replies from a separate small stack, so every call
// starts again at the top of the upcall stack (docs/benchmarks.md, ipc_roundtrip).
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Bench
{
    internal static class EchoServer
    {
        public const string Argument = "echo";

        public static int Run()
        {
            Error error = SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, Native.EchoEntry(), AddressSpace.UpcallStackTop);
            if (error != Error.None)
            {
                Console.WriteLine("BENCH-ERROR echo server: EnvironmentSetUpcall failed: " + Errors.Name(error));
                return 1;
            }
            // Calls arrive as upcalls; after the first one the server lives in bench_echo_entry.
            while (true)
                SystemCalls.Wait();
        }
    }
}
