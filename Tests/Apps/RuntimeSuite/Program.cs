// runtime-suite: the shared runtime tests (Tests/Runtime/) in ring 3, with the app's own copy of
// Aegis.Runtime and LibOS.Base as its host. Same output contract as the kernel's test=runtime:
// one "TEST <name> PASS|FAIL" line per test, then "TESTS <p> passed, <f> failed"; the exit
// status is the number of failures (the kernel's AEGIS-EXIT line carries it to the boot test).
using Aegis.LibOS;
using Aegis.RuntimeTests;

namespace Aegis.Apps.RuntimeSuite
{
    internal static unsafe class Program
    {
        private static int Main()
        {
            SharedTest[] tests = SharedSuite.All();
            int passed = 0, failed = 0;
            for (int i = 0; i < tests.Length; i++)
            {
                string failure = tests[i].Body();
                if (failure == null)
                {
                    passed++;
                    Console.WriteLine("TEST " + tests[i].Name + " PASS");
                }
                else
                {
                    failed++;
                    Console.WriteLine("TEST " + tests[i].Name + " FAIL " + failure);
                }
            }
            Console.WriteLine("TESTS " + passed.ToString() + " passed, " + failed.ToString() + " failed");
            return failed;
        }
    }
}
