// rootfs-probe: an app image with the root file system embedded (tools/rootfs.targets); the
// build tests (LinuxRootfsBuildTests) read the archive between aegis_rootfs_start and
// aegis_rootfs_end out of the ELF. Not in Aegis.sln and not an ISO app.
using Aegis.LibOS;

namespace Aegis.Probes.Rootfs
{
    internal static class Program
    {
        private static int Main()
        {
            Console.WriteLine("rootfs-probe: the root file system is linked in");
            return 0;
        }
    }
}
