// faultnostack: registers an upcall stack in unmapped memory (the entry is the real trampoline).
// Then it writes address 0. Delivering that fault cannot work, so the kernel must destroy
// this environment (and only it). If the kernel refused the registration instead, the fault
// reaches LibOS.Base's own handler, which reports it and ends the environment: either way
// nothing else is harmed, and the report says which happened.
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.FaultNoStack
{
    internal static unsafe class Program
    {
        private static ulong s_address; // 0, in a field so the compiler keeps the store

        private static int Main()
        {
            ulong unmapped = AddressSpace.Reserve(4); // reserved, never mapped
            Error error = SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, Upcalls.EntryAddress, unmapped + 4 * Memory.PageSize);
            Console.WriteLine("faultnostack: EnvironmentSetUpcall(stack in unmapped memory) = " + Errors.Name(error));
            Write(s_address, 1);
            Console.WriteLine("faultnostack: FAIL: resumed after writing address 0");
            return 1;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Write(ulong address, ulong value) => *(ulong*)address = value;
    }
}
