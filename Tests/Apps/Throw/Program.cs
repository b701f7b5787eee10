// throw: an app whose Main throws. Nothing catches it, so LibOS.Base's failure handler
// ends it: one line naming the exception's type (LibOS.Base/TypeNames.cs) and message, then
// Exit(255). The boot test UnhandledExceptionInAnAppIsReportedByName checks that line.
using System;
using Aegis.LibOS;

namespace Aegis.Apps.Throw
{
    internal static class Program
    {
        private static int Main()
        {
            Console.WriteLine("throw: about to throw");
            throw new InvalidOperationException("deliberately thrown by the throw app");
        }
    }
}
