// nmi-user: spins in ring 3 for a while, then exits 0. The protection suite raises NMIs at it
// (ProtectionSuite.Cpu.cs): an NMI is the machine's event, not the program's fault, so the
// program must see nothing of it (no exception upcall, no destruction) and end normally. The
// kernel judges from its own counters and the environment's end.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.NmiUser
{
    internal static unsafe class Program
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "nmiuser_spin")]
        private static extern void Spin(ulong* ticks, ulong count);

        private const ulong Ticks = 100;

        private static int Main()
        {
            Console.WriteLine("nmi-user: spinning");
            InfoPage* info = (InfoPage*)UserAddresses.InfoPage;
            Spin(&info->Ticks, Ticks);
            Console.WriteLine("nmi-user: spun " + Ticks.ToString() + " ticks");
            return 0;
        }
    }
}
