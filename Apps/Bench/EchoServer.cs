// The other side of ipc_roundtrip: a second environment (this image, spawned with an argument,
// so in its own address space) that answers each IpcCall with the request's first word and
// exits on an IpcSend. Two versions:
//   "echo"      the libOS's own server: LibOS.Unixish's IpcServer with a call handler (what a
//               shipped app uses), which answers from the IPC upcall with reply-and-wait; Main
//               sleeps in IpcServer.Receive until the IpcSend that ends it. This is what
//               ipc_roundtrip measures.
//   "echo-asm"  bench_echo_entry (Native/bench.S) as the upcall entry: replies from assembly
//               and goes straight back to Wait, without the trampoline (PART
//               ipc_roundtrip.asm_echo: the kernel's share).
// "echo+N" is an echo server that first starts N echo servers of its own (idle environments
// for the scaling measurements).
// The kernel delivers IPC only to an environment blocked in Wait; reply-and-wait puts the server
// back in that Wait inside the kernel before the caller runs, so the caller's next IpcCall is
// delivered at once (no WouldBlock; PART ipc_roundtrip.would_block_retries counts any).
using Aegis.Abi;
using Aegis.LibOS;
using Aegis.LibOS.Unixish;

namespace Aegis.Apps.Bench
{
    internal static class EchoServer
    {
        public const string Argument = "echo";
        public const string AssemblyArgument = "echo-asm";
        /// <summary>"echo+N": an echo server that first starts N idle echo servers of its own (so that
        /// more environments are live than one environment has capability slots for children).</summary>
        public const string NurseryPrefix = "echo+";

        private static bool s_quit;

        public static int Run(string argument)
        {
            bool assembly = argument == AssemblyArgument;
            if (argument.StartsWith(NurseryPrefix))
            {
                int children = 0;
                for (int i = NurseryPrefix.Length; i < argument.Length; i++)
                    children = children * 10 + (argument[i] - '0');
                for (int i = 0; i < children; i++)
                {
                    string problem = StartChild(Argument, false, out _, out _);
                    if (problem != null)
                    {
                        Console.WriteLine("BENCH-ERROR echo server " + Info.EnvironmentId.ToString("x") + ": " + problem);
                        return 1;
                    }
                }
            }

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
                // Calls are answered in the upcall (reply-and-wait); the IpcSend that ends the server
                // is queued for Receive.
                IpcServer.SetCallHandler(OnCall);
                IpcServer.Receive();
                return 0;
            }
            // Calls arrive as upcalls while this waits (the assembly server waits in bench_echo_entry
            // after its first call and never comes back here).
            while (!s_quit)
                SystemCalls.Wait();
            return 0;
        }

        /// <summary>Spawns this image with 'argument', starts it and gives it the CPU until it waits
        /// for calls. Returns null, or what went wrong.</summary>
        public static string StartChild(string argument, bool console, out ulong slot, out ulong id)
        {
            id = 0;
            SystemCallResult spawned = SystemCalls.ImageSpawn(Info.ImageName, argument);
            slot = spawned.Value;
            if (spawned.IsError) return "ImageSpawn: " + Errors.Name(spawned.Error);
            SystemCallResult query = SystemCalls.CapabilityQuery(slot);
            if (query.IsError) return "CapabilityQuery: " + Errors.Name(query.Error);
            id = query.Second;
            if (console)
            {
                SystemCallResult copied = SystemCalls.CapabilityCopy(CapabilitySlots.Console, slot);
                if (copied.IsError) return "CapabilityCopy of the console: " + Errors.Name(copied.Error);
            }
            Error error = SystemCalls.EnvironmentStart(slot, 0, 0, 0);
            if (error != Error.None) return "EnvironmentStart: " + Errors.Name(error);
            for (int attempt = 0; ; attempt++)
            {
                SystemCallResult status = SystemCalls.EnvironmentStatus(slot);
                if (status.IsError) return "EnvironmentStatus: " + Errors.Name(status.Error);
                if ((EnvironmentState)status.Value == EnvironmentState.Blocked) return null;
                if ((EnvironmentState)status.Value != EnvironmentState.Runnable || attempt > 100_000)
                    return "it did not come up (state " + status.Value.ToString() + ")";
                SystemCalls.Yield(id);
            }
        }

        private static void OnCall(in IpcMessage request, out ulong reply0, out ulong reply1)
        {
            reply0 = request.Word0;
            reply1 = 0;
        }
    }
}
