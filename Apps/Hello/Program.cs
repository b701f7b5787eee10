// hello: prints through the environment's console binding and exits with status 0.
using Aegis.LibOS;

namespace Aegis.Apps.Hello
{
    internal static class Program
    {
        private static int Main()
        {
            Console.WriteLine("hello, world from environment " + Info.EnvironmentIdText);
            return 0;
        }
    }
}
