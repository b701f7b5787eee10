// What the loader and file-backed mmap need from the file system, and nothing more: the bytes
// of a file by path (the loader) or by open descriptor (mmap). The VFS (Linux/Files/, the rootfs tar read in place plus tmpfs) installs
// its lookup with SetSource at start-up; the loader never parses the file system itself.
// Contract of a source: resolve path (absolute, or relative to the program's working directory;
// symbolic links followed) to a regular file and return its bytes, which stay valid and
// unchanged while the caller uses them (the loader copies them into the program's pages before
// anything else can run); or a negative Linux errno (-ENOENT, -EACCES, -EISDIR, -ENOTDIR,
// -ELOOP, -ENAMETOOLONG).
namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class ProgramFiles
    {
        private static delegate*<byte*, int, int, byte**, ulong*, int> s_source;
        private static delegate*<int, byte**, ulong*, int> s_descriptorSource;

        /// <summary>Installs the lookup (path bytes without the NUL, its length, the role: 0 the
        /// program, 1 its dynamic linker; out data, out length) -> 0 or -errno. The bytes of the
        /// program and of its dynamic linker stay valid together (one kept per role).</summary>
        public static void SetSource(delegate*<byte*, int, int, byte**, ulong*, int> source) => s_source = source;

        public static bool HasSource => s_source != null;

        /// <summary>Installs the lookup for mmap of an open file: (fd, out data, out length) -> 0, or
        /// -EBADF (not open), -EACCES (not open for reading), -ENODEV (not a regular file).</summary>
        public static void SetDescriptorSource(delegate*<int, byte**, ulong*, int> source) => s_descriptorSource = source;

        /// <summary>Installs the lookup of the path /proc/self/maps shows for a file mapped from fd.</summary>
        public static void SetDescriptorNameSource(delegate*<int, string> source) => s_descriptorName = source;
        private static delegate*<int, string> s_descriptorName;

        /// <summary>The file open as fd by its path, links followed (as Linux's maps show it), or null.</summary>
        public static string DescriptorName(int fd) => s_descriptorName == null ? null : s_descriptorName(fd);

        /// <summary>The bytes of the regular file open as fd: 0, or -errno (-EBADF when no source is installed).</summary>
        public static int TryGetDescriptorBytes(int fd, out byte* data, out ulong length)
        {
            byte* d = null;
            ulong n = 0;
            int result = s_descriptorSource == null ? -Errno.EBADF : s_descriptorSource(fd, &d, &n);
            data = result == 0 ? d : null;
            length = result == 0 ? n : 0;
            return result;
        }

        /// <summary>The bytes of the file at path: 0, or -errno (-ENOENT when no source is installed).</summary>
        public static int TryGetBytes(byte* path, int pathLength, out byte* data, out ulong length, bool interpreter = false)
        {
            byte* d = null;
            ulong n = 0;
            int result = s_source == null ? -Errno.ENOENT : s_source(path, pathLength, interpreter ? 1 : 0, &d, &n);
            data = result == 0 ? d : null;
            length = result == 0 ? n : 0;
            return result;
        }
    }
}
