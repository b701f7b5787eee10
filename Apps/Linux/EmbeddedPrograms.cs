// The linux app's own test programs (Tests/Linux/core-*.c and the bad files of
// embed-test-programs.sh), linked into the test ISO's image and served as /tests/NAME through
// ProgramFiles until the VFS installs the real file source (its SetSource replaces this one).
// The user ISO's table is empty.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.LibOS.Unixish.Linux;

namespace Aegis.Apps.Linux
{
    internal static unsafe class EmbeddedPrograms
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "linux_embedded_programs")]
        private static extern ulong* Table();

        public static void Install()
        {
            if (!ProgramFiles.HasSource)
                ProgramFiles.SetSource(&Lookup);
        }

        private static int Lookup(byte* path, int length, byte** data, ulong* size)
        {
            for (ulong* entry = Table(); entry[0] != 0; entry += 3)
            {
                byte* name = (byte*)entry[0];
                int i = 0;
                while (i < length && name[i] != 0 && name[i] == path[i]) i++;
                if (i == length && name[i] == 0)
                {
                    *data = (byte*)entry[1];
                    *size = entry[2];
                    return 0;
                }
            }
            return -Errno.ENOENT;
        }
    }
}
