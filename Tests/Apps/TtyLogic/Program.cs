// tty-logic: the Linux personality's terminal (LibOS.Unixish/Linux/Terminal) compiled by ILC
// against Aegis.Runtime and run in ring 3. It prints what it observes — the line discipline's
// reads and echo, a VT100 screen's rows after vi-like output, scan-code translations, the
// termios bytes TCGETS writes into its memory, ioctl results for good and bad pointers, a read
// with no input device — and the boot test (LinuxTerminalBootTests) compares every line with the
// values the host tests expect from the same code under .NET. Then it writes through
// Terminal.Write (OPOST, then the console: plain text while it has no raw serial line).
using Aegis.LibOS;
using Aegis.LibOS.Unixish.Linux;

namespace Aegis.Tests.Apps.TtyLogic
{
    internal static unsafe class Program
    {
        private static string Visible(System.ReadOnlySpan<byte> bytes)
        {
            var text = new System.Text.StringBuilder();
            for (int i = 0; i < bytes.Length; i++)
            {
                byte b = bytes[i];
                if (b >= 0x20 && b < 0x7F && b != (byte)'\\') text.Append((char)b);
                else text.Append("\\x" + b.ToString("x2"));
            }
            return text.ToString();
        }

        private static string Row(VtScreen screen, int row)
        {
            string text = screen.RowText(row);
            int end = text.Length;
            while (end > 0 && text[end - 1] == ' ') end--;
            return text.Substring(0, end);
        }

        private static void Say(string line) => Console.WriteLine("tty-logic: " + line);

        private static void Type(LineDiscipline ld, string text)
        {
            for (int i = 0; i < text.Length; i++) ld.Receive((byte)text[i]);
        }

        private static int Main()
        {
            if (Info.Argument == "echo") return Echo();

            // The line discipline: erase, kill, word erase, ^C, EOF.
            var ld = new LineDiscipline();
            Type(ld, "abc\x7f\x15xy\b z w\x17q\r");
            byte[] buffer = new byte[64];
            int n = ld.ReadCanonical(buffer);
            Say("line '" + Visible(new System.ReadOnlySpan<byte>(buffer, 0, n)) + "' echo '" + Visible(ld.Output.Span) + "'");
            ld.Output.Clear();
            Type(ld, "zz\x03\x04");
            Say("signal " + ld.TakeSignal().ToString() + " eof " + ld.ReadCanonical(buffer).ToString() + " echo '" + Visible(ld.Output.Span) + "'");

            // The VT100 screen after vi-like output.
            var screen = new VtScreen(25, 80);
            string vi = "\x1b[H\x1b[Jone\r\ntwo\r\nthree\x1b[2;1H\x1b[M\x1b[1;1H\x1b[Lnew\x1b[7m!\x1b[m\x1b[25;70Hend\x1b[6n";
            for (int i = 0; i < vi.Length; i++) screen.Write((byte)vi[i]);
            Say("screen '" + Row(screen, 0) + "|" + Row(screen, 1) + "|" + Row(screen, 2)
                + "' attr " + screen.AttributeAt(0, 3).ToString("x2") + " cursor " + screen.Row.ToString() + "," + screen.Column.ToString()
                + " answer '" + Visible(screen.Responses.Span) + "'");

            // Scan codes: Shift+h, i, Ctrl+c, Up, Delete.
            var keys = new ScanCodeTranslator();
            byte[] codes = { 0x2A, 0x23, 0xAA, 0x17, 0x1D, 0x2E, 0x9D, 0xE0, 0x48, 0xE0, 0x53 };
            byte[] produced = new byte[8];
            var typed = new ByteQueue();
            for (int i = 0; i < codes.Length; i++)
            {
                int k = keys.Translate(codes[i], produced);
                for (int j = 0; j < k; j++) typed.Add(produced[j]);
            }
            Say("keys '" + Visible(typed.Span) + "'");

            // The real terminal: ioctls on this program's memory, a read with no input device.
            byte* termios = stackalloc byte[64];
            long r = Terminal.Ioctl(TerminalIoctls.TCGETS, (ulong)termios);
            Say("TCGETS " + r.ToString() + " '" + Visible(new System.ReadOnlySpan<byte>(termios, Termios.Size)) + "'");
            Say("TCGETS to 0x10 " + Terminal.Ioctl(TerminalIoctls.TCGETS, 0x10).ToString()
                + ", to the kernel " + Terminal.Ioctl(TerminalIoctls.TCGETS, 0xFFFF800000000000).ToString()
                + ", unknown request " + Terminal.Ioctl(0x5499, (ulong)termios).ToString());
            r = Terminal.Ioctl(TerminalIoctls.TIOCGWINSZ, (ulong)termios);
            Say("TIOCGWINSZ " + r.ToString() + " " + termios[0].ToString() + "x" + termios[2].ToString());
            r = Terminal.Ioctl(TerminalIoctls.TIOCGPGRP, (ulong)termios);
            Say("TIOCGPGRP " + r.ToString() + " is the environment id " + ((ulong)*(int*)termios == Info.EnvironmentId ? "yes" : "no"));
            byte* input = stackalloc byte[16];
            Say("non-blocking read " + Terminal.Read(input, 16, true).ToString());

            string text = "terminal \x1b[1mwrite\x1b[0m\ttab\nnext line\n";
            byte[] bytes = new byte[text.Length];
            for (int i = 0; i < text.Length; i++) bytes[i] = (byte)text[i];
            fixed (byte* p = bytes)
            {
                long written = Terminal.Write(p, bytes.Length);
                Say("wrote " + written.ToString());
            }
            // What the VGA shows (only with a display mapped): the two lines written, bold "write".
            int last = -1;
            for (int row = 0; row < 25; row++)
            {
                string shown = Terminal.DisplayRow(row);
                if (shown != null && shown.IndexOf("next line") >= 0) last = row;
            }
            if (last < 1) Say("vga none");
            else Say("vga '" + Terminal.DisplayRow(last - 1).Substring(0, 19) + "|" + Terminal.DisplayRow(last).Substring(0, 9)
                + "' bold " + Terminal.DisplayAttribute(last - 1, 9).ToString("x2") + " cursor " + Terminal.DisplayAttribute(last + 1, 0).ToString("x2"));
            return 0;
        }

        /// <summary>init=tty-logic:echo — reads the terminal (keyboard and COM1, with whatever kernel
        /// devices exist) line by line and reports each line; "raw" switches to non-canonical mode
        /// (VMIN 3, echo off) for one read of three bytes; "quit" or end of input ends it.</summary>
        private static int Echo()
        {
            byte* line = stackalloc byte[256];
            byte* termios = stackalloc byte[Termios.Size];
            while (true)
            {
                long n = Terminal.Read(line, 256, false);
                Say("got " + n.ToString() + " '" + Visible(new System.ReadOnlySpan<byte>(line, n > 0 ? (int)n : 0)) + "'");
                if (n <= 0) return 0;
                if (n == 5 && line[0] == (byte)'q' && line[3] == (byte)'t') return 0;
                if (n == 4 && line[0] == (byte)'r' && line[1] == (byte)'a' && line[2] == (byte)'w')
                {
                    Terminal.Ioctl(TerminalIoctls.TCGETS, (ulong)termios);
                    Termios settings = Termios.Decode(new System.ReadOnlySpan<byte>(termios, Termios.Size));
                    Termios saved = settings.Clone();
                    settings.LocalFlags &= ~(TermiosBits.ICANON | TermiosBits.ECHO);
                    settings.Cc[TermiosBits.VMIN] = 3;
                    settings.Encode(new System.Span<byte>(termios, Termios.Size));
                    Terminal.Ioctl(TerminalIoctls.TCSETS, (ulong)termios);
                    n = Terminal.Read(line, 256, false);
                    Say("raw " + n.ToString() + " '" + Visible(new System.ReadOnlySpan<byte>(line, n > 0 ? (int)n : 0)) + "'");
                    saved.Encode(new System.Span<byte>(termios, Termios.Size));
                    Terminal.Ioctl(TerminalIoctls.TCSETSW, (ulong)termios);
                }
            }
        }
    }
}
