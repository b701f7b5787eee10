// smap-ac: a ring-3 program may set RFLAGS.AC, and an interrupt gate does not clear it; with AC
// set on entry, SMAP would not stop the kernel from touching user pages. This app spins with AC
// set for a few timer ticks. The kernel judges (ProtectionSuite.Cpu.cs) from its own counters:
// ticks that interrupted the app with AC set (the attack happened) and kernel entries that still
// ran with AC set (must be none: interrupt_common's clac).
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.SmapAc
{
    internal static unsafe class Program
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "smapac_spin")]
        private static extern void Spin(ulong* ticks, ulong count);

        private const ulong Ticks = 5;

        private static int Main()
        {
            InfoPage* info = (InfoPage*)UserAddresses.InfoPage;
            Spin(&info->Ticks, Ticks);
            Console.WriteLine("smap-ac: spun " + Ticks.ToString() + " ticks with RFLAGS.AC set");
            return 0;
        }
    }
}
