// faultbadhandler: registers a kernel address (0xFFFFFFFF80100000) as its upcall entry.
// Then it writes address 0. Delivering that fault cannot work, so the kernel must destroy
// this environment (and only it). If the kernel refused the registration instead, the fault
// reaches LibOS.Base's own handler, which reports it and ends the environment: either way
// nothing else is harmed, and the report says which happened.
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.FaultBadHandler
{
    internal static unsafe class Program
    {
        private const ulong KernelAddress = 0xFFFF_FFFF_8010_0000;
        private static ulong s_address; // 0, in a field so the compiler keeps the store

        private static int Main()
        {
            Error error = SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, KernelAddress, AddressSpace.UpcallStackTop);
            Console.WriteLine("faultbadhandler: EnvironmentSetUpcall(entry at a kernel address) = " + Errors.Name(error));
            Write(s_address, 1);
            Console.WriteLine("faultbadhandler: FAIL: resumed after writing address 0");
            return 1;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Write(ulong address, ulong value) => *(ulong*)address = value;
    }
}
