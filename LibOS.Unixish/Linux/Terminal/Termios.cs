// Linux's terminal settings: struct termios as the TCGETS/TCSETS ioctls carry it (the kernel's
// struct, asm-generic/termbits.h on x86-64: c_iflag, c_oflag, c_cflag, c_lflag as u32, c_line
// u8, c_cc[19]; 36 bytes, no padding), its flag bits and control-character indices (octal in the
// headers, written here in hex), and the values a fresh Linux tty starts with (the kernel's
// tty_std_termios, plus IUTF8 as `stty -a` shows on a UTF-8 Linux system).
//
// Pure data and byte layout: host-tested (LinuxTerminalTermiosTests), no system calls.
// Invariant: Cc always has NCCS (19) entries; Encode/Decode are exact inverses over 36 bytes.
using System;

namespace Aegis.LibOS.Unixish.Linux
{
    public static class TermiosBits
    {
        // c_iflag
        public const uint IGNBRK = 0x1, BRKINT = 0x2, IGNPAR = 0x4, PARMRK = 0x8, INPCK = 0x10, ISTRIP = 0x20;
        public const uint INLCR = 0x40, IGNCR = 0x80, ICRNL = 0x100, IUCLC = 0x200, IXON = 0x400, IXANY = 0x800;
        public const uint IXOFF = 0x1000, IMAXBEL = 0x2000, IUTF8 = 0x4000;
        // c_oflag
        public const uint OPOST = 0x1, OLCUC = 0x2, ONLCR = 0x4, OCRNL = 0x8, ONOCR = 0x10, ONLRET = 0x20;
        public const uint TABDLY = 0x1800, XTABS = 0x1800;
        // c_cflag
        public const uint B38400 = 0xF, CSIZE = 0x30, CS8 = 0x30, CREAD = 0x80, HUPCL = 0x400, CLOCAL = 0x800;
        // c_lflag
        public const uint ISIG = 0x1, ICANON = 0x2, XCASE = 0x4, ECHO = 0x8, ECHOE = 0x10, ECHOK = 0x20;
        public const uint ECHONL = 0x40, NOFLSH = 0x80, TOSTOP = 0x100, ECHOCTL = 0x200, ECHOPRT = 0x400;
        public const uint ECHOKE = 0x800, FLUSHO = 0x1000, PENDIN = 0x4000, IEXTEN = 0x8000, EXTPROC = 0x10000;

        // c_cc indices
        public const int VINTR = 0, VQUIT = 1, VERASE = 2, VKILL = 3, VEOF = 4, VTIME = 5, VMIN = 6, VSWTC = 7;
        public const int VSTART = 8, VSTOP = 9, VSUSP = 10, VEOL = 11, VREPRINT = 12, VDISCARD = 13;
        public const int VWERASE = 14, VLNEXT = 15, VEOL2 = 16;
        public const int NCCS = 19;
    }

    /// <summary>Linux's struct termios (the ioctl form, 36 bytes).</summary>
    public sealed class Termios
    {
        public const int Size = 36;
        /// <summary>Offset of c_cc in the struct (after four u32 flags and c_line).</summary>
        public const int ControlCharsOffset = 17;

        public uint InputFlags;
        public uint OutputFlags;
        public uint ControlFlags;
        public uint LocalFlags;
        public byte LineDiscipline;
        public readonly byte[] Cc = new byte[TermiosBits.NCCS];

        /// <summary>What a fresh Linux tty starts with: `stty -a` shows icrnl ixon iutf8, opost onlcr,
        /// cs8 cread hupcl 38400, isig icanon iexten echo echoe echok echoctl echoke, and
        /// intr ^C quit ^\ erase ^? kill ^U eof ^D start ^Q stop ^S susp ^Z rprnt ^R werase ^W
        /// lnext ^V discard ^O min 1 time 0 (eol, eol2, swtch undefined).</summary>
        public static Termios LinuxDefault()
        {
            var t = new Termios
            {
                InputFlags = TermiosBits.ICRNL | TermiosBits.IXON | TermiosBits.IUTF8,
                OutputFlags = TermiosBits.OPOST | TermiosBits.ONLCR,
                ControlFlags = TermiosBits.B38400 | TermiosBits.CS8 | TermiosBits.CREAD | TermiosBits.HUPCL,
                LocalFlags = TermiosBits.ISIG | TermiosBits.ICANON | TermiosBits.ECHO | TermiosBits.ECHOE | TermiosBits.ECHOK
                    | TermiosBits.ECHOCTL | TermiosBits.ECHOKE | TermiosBits.IEXTEN,
                LineDiscipline = 0,
            };
            t.Cc[TermiosBits.VINTR] = 0x03;
            t.Cc[TermiosBits.VQUIT] = 0x1C;
            t.Cc[TermiosBits.VERASE] = 0x7F;
            t.Cc[TermiosBits.VKILL] = 0x15;
            t.Cc[TermiosBits.VEOF] = 0x04;
            t.Cc[TermiosBits.VTIME] = 0;
            t.Cc[TermiosBits.VMIN] = 1;
            t.Cc[TermiosBits.VSTART] = 0x11;
            t.Cc[TermiosBits.VSTOP] = 0x13;
            t.Cc[TermiosBits.VSUSP] = 0x1A;
            t.Cc[TermiosBits.VREPRINT] = 0x12;
            t.Cc[TermiosBits.VDISCARD] = 0x0F;
            t.Cc[TermiosBits.VWERASE] = 0x17;
            t.Cc[TermiosBits.VLNEXT] = 0x16;
            return t;
        }

        public Termios Clone()
        {
            var t = new Termios
            {
                InputFlags = InputFlags, OutputFlags = OutputFlags, ControlFlags = ControlFlags,
                LocalFlags = LocalFlags, LineDiscipline = LineDiscipline,
            };
            for (int i = 0; i < TermiosBits.NCCS; i++) t.Cc[i] = Cc[i];
            return t;
        }

        /// <summary>Writes the 36-byte Linux layout (little-endian u32s) into destination.</summary>
        public void Encode(Span<byte> destination)
        {
            if (destination.Length < Size) throw new ArgumentException("termios needs 36 bytes");
            PutU32(destination, 0, InputFlags);
            PutU32(destination, 4, OutputFlags);
            PutU32(destination, 8, ControlFlags);
            PutU32(destination, 12, LocalFlags);
            destination[16] = LineDiscipline;
            for (int i = 0; i < TermiosBits.NCCS; i++) destination[ControlCharsOffset + i] = Cc[i];
        }

        /// <summary>Reads the 36-byte Linux layout.</summary>
        public static Termios Decode(ReadOnlySpan<byte> source)
        {
            if (source.Length < Size) throw new ArgumentException("termios needs 36 bytes");
            var t = new Termios
            {
                InputFlags = GetU32(source, 0),
                OutputFlags = GetU32(source, 4),
                ControlFlags = GetU32(source, 8),
                LocalFlags = GetU32(source, 12),
                LineDiscipline = source[16],
            };
            for (int i = 0; i < TermiosBits.NCCS; i++) t.Cc[i] = source[ControlCharsOffset + i];
            return t;
        }

        internal static void PutU32(Span<byte> b, int at, uint v)
        {
            b[at] = (byte)v; b[at + 1] = (byte)(v >> 8); b[at + 2] = (byte)(v >> 16); b[at + 3] = (byte)(v >> 24);
        }

        internal static uint GetU32(ReadOnlySpan<byte> b, int at)
            => (uint)(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24));
    }

    /// <summary>struct winsize (TIOCGWINSZ): rows, columns, x and y pixels as u16; 8 bytes.</summary>
    public struct WindowSize
    {
        public const int Size = 8;
        public ushort Rows, Columns, XPixels, YPixels;

        public void Encode(Span<byte> b)
        {
            b[0] = (byte)Rows; b[1] = (byte)(Rows >> 8);
            b[2] = (byte)Columns; b[3] = (byte)(Columns >> 8);
            b[4] = (byte)XPixels; b[5] = (byte)(XPixels >> 8);
            b[6] = (byte)YPixels; b[7] = (byte)(YPixels >> 8);
        }

        public static WindowSize Decode(ReadOnlySpan<byte> b) => new WindowSize
        {
            Rows = (ushort)(b[0] | (b[1] << 8)),
            Columns = (ushort)(b[2] | (b[3] << 8)),
            XPixels = (ushort)(b[4] | (b[5] << 8)),
            YPixels = (ushort)(b[6] | (b[7] << 8)),
        };
    }
}
