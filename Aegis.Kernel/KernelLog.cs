// The kernel's console: every line goes to COM1 and to the VGA text screen.
// Invariant: usable from the first managed instruction (no allocation, no statics that need
// start-up), so that even an early panic can be reported.
using Aegis.Kernel.Hal;

namespace Aegis.Kernel
{
    public static class KernelLog
    {
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

        /// <summary>True when the last character written ended a line (or nothing was written yet):
        /// what comes next starts a console line (Exo/ConsoleOutput marks environments' lines).</summary>
        public static bool AtLineStart => !s_midLine;
        private static bool s_midLine;

        /// <summary>Ends a line an environment left open, so that the next line starts at column 0.</summary>
        public static void StartLine()
        {
            if (s_midLine)
                Write('\n');
        }

        public static void Write(char c)
        {
            byte value = c < 0x80 ? (byte)c : (byte)'?';
            s_midLine = value != (byte)'\n';
            if (value == (byte)'\n')
                SerialPort.Write((byte)'\r');
            SerialPort.Write(value);
            VgaTextScreen.Write(value);
        }
    }
}
