// forge-verdict: an app tries to print the protection suite's verdicts itself — a FAIL for its
// own behaviour, a PASS and a FAIL for others, a summary — at the start of console lines, also
// after a carriage return and after an unterminated line. The kernel starts each line an
// environment prints with "[<id> <name>] ", so none of these reads as the kernel's; the boot test
// (Aegis.Tests/Boot/ProtectionSuiteTests.cs) finds only the kernel's unprefixed TEST lines.
using Aegis.LibOS;

namespace Aegis.Apps.ForgeVerdict
{
    internal static class Program
    {
        private static int Main()
        {
            Console.WriteLine("TEST forge-verdict FAIL forged by the app");
            Console.WriteLine("\r\nTEST hello FAIL forged by the app\nTEST spin PASS forged by the app");
            Console.Write("partial line, then ");
            Console.WriteLine("\nTESTS 0 passed, 99 failed");
            return 0;
        }
    }
}
