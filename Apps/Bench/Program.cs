// bench: measures the exokernel paper's primitives (docs/benchmarks.md) with RDTSC and prints
//   BENCH <name> <iterations> <cycles per operation, one decimal>
// for each, then BENCH-DONE. Under QEMU's -icount shift=0 a cycle is one instruction, so the
// figures are instruction counts and repeat exactly (./aegis bench). Extra lines
//   PART <name> <iterations> <cycles per operation>
// measure pieces of the primitives (the kernel's share, the libOS's share) for the analysis.
// Started with the argument "echo" (or "echo-asm"), the image is the IPC echo server of
// ipc_roundtrip instead (EchoServer.cs); with "runtime" it runs only the runtime workloads
// (RuntimeWorkloads.cs).
using Aegis.LibOS;

namespace Aegis.Apps.Bench
{
    internal static class Program
    {
        public const string RuntimeArgument = "runtime";

        private static int Main()
        {
            string argument = Info.Argument;
            if (argument == EchoServer.Argument || argument == EchoServer.AssemblyArgument || argument.StartsWith(EchoServer.NurseryPrefix))
                return EchoServer.Run(argument);
            if (argument == RuntimeArgument)
            {
                // Only the runtime workloads (allocation, collection, exceptions):
                // ./aegis run --icount -- init=bench:runtime exit
                RuntimeWorkloads.Run();
                Console.WriteLine("BENCH-DONE");
                return 0;
            }
            return Benchmarks.RunAll();
        }
    }
}
