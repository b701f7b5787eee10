// faultread: reads address 0 (never mapped: the null guard).
// Nothing handles the page fault, so LibOS.Base reports it in one line and ends the environment;
// the kernel and every other environment carry on. Reaching the line after the access is a failure.
using System.Runtime.CompilerServices;
using Aegis.LibOS;

namespace Aegis.Apps.FaultRead
{
    internal static unsafe class Program
    {
        // A field, not a constant, so the compiler keeps the access exactly as written.
        private static ulong s_address = 0;

        private static int Main()
        {
            Console.WriteLine("faultread: reading address 0x0");
            ulong value = Read(s_address);
            Console.WriteLine("faultread: read 0x" + value.ToString("x") + " from address 0x0: protection is broken");
            return 1;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static ulong Read(ulong address) => *(ulong*)address;
    }
}
