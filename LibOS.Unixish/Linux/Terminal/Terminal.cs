// The program's terminal: what fds 0-2, /dev/console and /dev/tty read, write and ioctl.
// This first version only writes (ConsoleWrite); the tty work (line discipline, termios,
// keyboard and serial input, the VGA console) replaces its bodies behind the same signatures.
namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class Terminal
    {
        /// <summary>Reads up to length bytes into the program's buffer (already checked writable):
        /// bytes read, 0 at end of input, -EAGAIN when nonBlocking and nothing is ready.</summary>
        public static long Read(byte* buffer, int length, bool nonBlocking) => -Errno.EIO;

        /// <summary>Writes length bytes (already copied or checked readable): bytes written.</summary>
        public static long Write(byte* buffer, int length)
        {
            if (length <= 0) return 0;
            SystemCallResult result = SystemCalls.ConsoleWrite(Aegis.Abi.CapabilitySlots.Console, buffer, (ulong)length);
            return result.IsError ? -Errno.EIO : (long)result.Value;
        }

        /// <summary>A terminal ioctl (TCGETS, TCSETS*, TIOCGWINSZ, ...): its result or -ENOTTY.</summary>
        public static long Ioctl(ulong request, ulong argument) => -Errno.ENOTTY;

        /// <summary>Whether a Read would not block now.</summary>
        public static bool PollReadable() => false;
    }
}
