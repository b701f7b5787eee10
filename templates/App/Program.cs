// myapp: one line saying what this app shows. Copy this folder to Apps/<Name>/, rename
// App.csproj to <Name>.csproj, set AegisImageName, and write Main (docs/writing-an-app.md).
using Aegis.LibOS;

namespace Aegis.Apps.MyApp
{
    internal static class Program
    {
        /// <summary>Runs after LibOS.Base has started the runtime, the heap and the upcalls; the
        /// return value is the environment's exit status.</summary>
        private static int Main()
        {
            Console.WriteLine("myapp: hello from environment " + Info.EnvironmentIdText
                + ", argument '" + Info.Argument + "'");
            return 0;
        }
    }
}
