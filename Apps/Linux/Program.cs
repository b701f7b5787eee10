// linux: runs the static Linux program its argument names ("/PATH ARGS...") with the Linux
// personality of LibOS.Unixish. Returns (ending the environment) only when the program cannot
// be started, with the status a shell gives: 127 not found, 126 not executable.
using Aegis.LibOS;
using Aegis.LibOS.Unixish.Linux;

namespace Aegis.Apps.Linux
{
    internal static class Program
    {
        private static int Main()
        {
            return LinuxPersonality.Run(Info.Argument);
        }
    }
}
