// linux: runs the static Linux program its argument names ("/PATH ARGS...") with the Linux
// personality of LibOS.Unixish. Returns (ending the environment) only when the program cannot
// be started, with the status a shell gives: 127 not found, 126 not executable. With the argument
// "--vfs-server" it is the file server every Linux process shares the tree through.
using Aegis.LibOS;
using Aegis.LibOS.Unixish.Linux;

namespace Aegis.Apps.Linux
{
    internal static class Program
    {
        private static int Main()
        {
            string argument = Info.Argument;
            if (argument == Aegis.LibOS.Unixish.Linux.Files.VfsIpc.ServerArgument)
                return Aegis.LibOS.Unixish.Linux.Files.VfsIpc.RunServer(); // the file server (docs/libos-unixish.md, "Files")
            return LinuxPersonality.Run(argument);
        }
    }
}
