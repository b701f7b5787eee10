// exitstatus: prints the argument string it was given (init=exitstatus:ARGS, or ImageSpawn's
// argument) and exits with it read as a decimal number (0 when it is not one). Boot tests:
// InitArgumentsReachTheFirstApp, FullExitStatusReachesTheFrontDoor,
// ReservedExitStatusIsNotTakenForAPanic (Aegis.Tests/Boot/KernelBootTests.cs).
using Aegis.LibOS;

namespace Aegis.Apps.ExitStatus
{
    internal static class Program
    {
        private static int Main()
        {
            string argument = Info.Argument;
            Console.WriteLine("exitstatus: argument '" + argument + "'");
            ulong status = 0;
            for (int i = 0; i < argument.Length; i++)
            {
                char c = argument[i];
                if (c < '0' || c > '9' || status > 100_000_000)
                    return 0;
                status = status * 10 + (ulong)(c - '0');
            }
            SystemCalls.Exit(status);
            return 0;
        }
    }
}
