// faultreadkernel: reads the kernel's own code (mapped, but supervisor-only).
// Nothing handles the page fault, so LibOS.Base reports it in one line and ends the environment;
// the kernel and every other environment carry on. Reaching the line after the access is a failure.
using System.Runtime.CompilerServices;
using Aegis.LibOS;

namespace Aegis.Apps.FaultReadKernel
{
    internal static unsafe class Program
    {
        // A field, not a constant, so the compiler keeps the access exactly as written.
        private static ulong s_address = 0xFFFF_FFFF_8010_0000;

        private static int Main()
        {
            Console.WriteLine("faultreadkernel: reading kernel address 0xFFFFFFFF80100000");
            ulong value = Read(s_address);
            Console.WriteLine("faultreadkernel: read 0x" + value.ToString("x") + " from kernel address 0xFFFFFFFF80100000: protection is broken");
            return 1;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static ulong Read(ulong address) => *(ulong*)address;
    }
}
