// The one exception type of the storage layer: a device error, a corrupt on-disk structure or an
// image the file system refuses to mount. Errno is the positive Linux errno a system call would
// report (EIO for device errors, EUCLEAN for corruption, EINVAL/EROFS for refused images).
using System;

namespace Aegis.LibOS.Unixish.Storage
{
    public sealed class StorageException : Exception
    {
        /// <summary>Linux's "structure needs cleaning": what ext4 reports for corrupt metadata.</summary>
        public const int EUCLEAN = 117;

        public int Errno { get; }

        public StorageException(int errno, string message) : base(message) { Errno = errno; }

        public static StorageException Corrupt(string message) => new StorageException(EUCLEAN, "ext2: corrupt file system: " + message);
    }
}
