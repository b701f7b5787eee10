// faultwrite: writes address 0 (never mapped: the null guard).
// Nothing handles the page fault, so LibOS.Base reports it in one line and ends the environment;
// the kernel and every other environment carry on. Reaching the line after the access is a failure.
using System.Runtime.CompilerServices;
using Aegis.LibOS;

namespace Aegis.Apps.FaultWrite
{
    internal static unsafe class Program
    {
        // A field, not a constant, so the compiler keeps the access exactly as written.
        private static ulong s_address = 0;

        private static int Main()
        {
            Console.WriteLine("faultwrite: writing address 0x0");
            Write(s_address, 0x5A5A);
            Console.WriteLine("faultwrite: wrote to address 0x0: protection is broken");
            return 1;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Write(ulong address, ulong value) => *(ulong*)address = value;
    }
}
