// The kernel's console: every line goes to COM1 and to the VGA text screen.
// Invariant: usable from the first managed instruction (no allocation, no statics that need
// start-up), so that even an early panic can be reported.
using Aegis.Kernel.Hal;

namespace Aegis.Kernel
{
    public static class KernelLog
    {
        public const ulong MaximumBytesPerTick = 1024 + 256;

        public static void Flush() { }

        public static void Write(string text)
        {
            if (text == null) return;
            for (int i = 0; i < text.Length; i++)
                Write(text[i]);
        }

        public static void WriteLine(string text)
        {
            Write(text);
            Write('\n');
        }

        public static void Write(char c)
        {
            byte value = c < 0x80 ? (byte)c : (byte)'?';
            if (value == (byte)'\n')
                SerialPort.Write((byte)'\r');
            SerialPort.Write(value);
            VgaTextScreen.Write(value);
        }
    }
}
