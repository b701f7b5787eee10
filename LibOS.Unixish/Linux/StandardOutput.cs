// write and writev for the standard output and error (fds 1 and 2) straight to the terminal,
// so a program can print before the file layer (Linux/Files/) is installed. FileCalls.Register
// runs after StandardOutput.Register and defines write/writev for every descriptor, replacing
// these. Other descriptors: -EBADF.
using static Aegis.LibOS.Unixish.Linux.LinuxSystemCallNumbers;

namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class StandardOutput
    {
        private const int Chunk = 512;

        public static void Register()
        {
            LinuxSystemCalls.Define(write, &Write);
            LinuxSystemCalls.Define(writev, &WriteVector);
        }

        public static long Write(ref LinuxCall call)
        {
            if (call.A0 != 1 && call.A0 != 2) return -Errno.EBADF;
            return WriteBytes(call.A1, call.A2);
        }

        private static long WriteBytes(ulong address, ulong length)
        {
            if ((long)length < 0) return -Errno.EINVAL;
            if (!UserPointers.IsAccessible(address, length, false)) return -Errno.EFAULT;
            byte* chunk = stackalloc byte[Chunk];
            ulong done = 0;
            while (done < length)
            {
                int bytes = length - done < Chunk ? (int)(length - done) : Chunk;
                if (!UserPointers.CopyIn(chunk, address + done, (ulong)bytes)) return done == 0 ? -Errno.EFAULT : (long)done;
                long written = Terminal.Write(chunk, bytes);
                if (written < 0) return done == 0 ? written : (long)done;
                done += (ulong)written;
            }
            return (long)done;
        }

        public static long WriteVector(ref LinuxCall call)
        {
            if (call.A0 != 1 && call.A0 != 2) return -Errno.EBADF;
            ulong count = call.A2;
            if (count > 1024) return -Errno.EINVAL;
            ulong total = 0;
            ulong* vector = stackalloc ulong[2];
            for (ulong i = 0; i < count; i++)
            {
                if (!UserPointers.CopyIn(vector, call.A1 + 16 * i, 16)) return total == 0 ? -Errno.EFAULT : (long)total;
                long written = WriteBytes(vector[0], vector[1]);
                if (written < 0) return total == 0 ? written : (long)total;
                total += (ulong)written;
                if ((ulong)written < vector[1]) break;
            }
            return (long)total;
        }
    }
}
