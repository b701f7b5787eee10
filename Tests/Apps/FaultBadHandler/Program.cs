// faultbadhandler: an upcall registration that passes EnvironmentSetUpcall's checks but cannot be
// delivered, and one that must not pass them. It registers a mapped user page without execute
// permission (a data page) as its upcall entry: a user address, so the kernel accepts it; then it
// tries a kernel address (0xFFFFFFFF80100000), which the kernel must refuse (BadAddress) and so
// leave the data page registered. Then it writes address 0. Delivering that fault cannot work (the
// entry is not executable), so the kernel must destroy this environment (and only it), and its
// report names the data page: the protection suite checks both.
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
            ulong data = AddressSpace.Reserve(1);
            if (data == 0 || Memory.AllocateAndMap(data, 1, Memory.ReadWrite) != Error.None)
            {
                Console.WriteLine("faultbadhandler: cannot map a data page");
                return 1;
            }
            Error accepted = SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, data, AddressSpace.UpcallStackTop);
            Error refused = SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, KernelAddress, AddressSpace.UpcallStackTop);
            Console.WriteLine("faultbadhandler: EnvironmentSetUpcall(entry in a no-execute page 0x" + data.ToString("x") + ") = " + Errors.Name(accepted)
                + "; EnvironmentSetUpcall(entry at a kernel address) = " + Errors.Name(refused));
            Write(s_address, 1);
            Console.WriteLine("faultbadhandler: FAIL: resumed after writing address 0");
            return 1;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Write(ulong address, ulong value) => *(ulong*)address = value;
    }
}
