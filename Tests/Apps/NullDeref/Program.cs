// nullderef: reads a field through a null reference. Nothing handles the page fault (at the
// field's offset, in the first page), so LibOS.Base ends the app with Exit(128 + 14, frame) and
// the kernel prints the crash report: System.NullReferenceException and a stack trace with
// Program.cs:LINE from this image's symbol file. Boot test: NullDereferenceInAnAppIsReportedWithItsLine.
using System.Runtime.CompilerServices;
using Aegis.LibOS;

namespace Aegis.Apps.NullDeref
{
    internal static class Program
    {
        private sealed class Box
        {
            public int Value;
        }

        private static Box s_box;

        private static int Main()
        {
            Console.WriteLine("nullderef: about to read through a null reference");
            return Read(s_box);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Read(Box box)
        {
            return box.Value; // the fault
        }
    }
}
