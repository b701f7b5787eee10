// The VGA text screen (80x25 cells at physical 0xB8000, reached through the kernel's
// higher-half window). Scrolls when full. Harmless under UEFI, where nothing displays it.
// The console is UTF-8: each character takes one cell, shown with its code page 437 glyph when
// it has one (accented Latin letters, Greek, some symbols) and '?' otherwise.
// Hand-over (issue #9): while an environment has the text buffer mapped (DeviceMap), Suspended is
// set and the kernel draws nothing on it (its console goes on on serial); Resume clears the
// screen and draws again.
namespace Aegis.Kernel.Hal
{
    internal static unsafe class VgaTextScreen
    {
        private const int Columns = 80;
        private const int Rows = 25;
        private const ulong PhysicalAddress = 0xB8000;
        private const byte Attribute = 0x07; // light grey on black
        private static int s_column;
        private static int s_row;

        /// <summary>Base of the higher-half window onto physical memory (set when paging changes).</summary>
        internal static ulong s_physicalWindow = 0xFFFFFFFF80000000;

        private static ushort* Cells => (ushort*)(s_physicalWindow + PhysicalAddress);

        private static int s_utf8Remaining;
        private static uint s_utf8CodePoint;

        /// <summary>An environment has the screen (DeviceMap): the kernel does not draw.</summary>
        public static bool Suspended { get; private set; }

        /// <summary>Bytes the kernel did not draw because the screen was handed over.</summary>
        public static ulong BytesNotDrawn { get; private set; }

        public static void Suspend() => Suspended = true;

        /// <summary>The kernel has the screen again: cleared, drawing from the top.</summary>
        public static void Resume()
        {
            if (!Suspended) return;
            Suspended = false;
            Clear();
        }

        /// <summary>A byte of UTF-8 text.</summary>
        public static void Write(byte value)
        {
            if (Suspended)
            {
                BytesNotDrawn++;
                return;
            }
            if (value >= 0x80)
            {
                if (value < 0xC0)
                {
                    if (s_utf8Remaining == 0) return; // stray continuation byte
                    s_utf8CodePoint = (s_utf8CodePoint << 6) | ((uint)value & 0x3F);
                    if (--s_utf8Remaining > 0) return;
                    PutCell(Glyph(s_utf8CodePoint));
                    return;
                }
                s_utf8Remaining = value >= 0xF0 ? 3 : value >= 0xE0 ? 2 : 1;
                s_utf8CodePoint = (uint)value & (value >= 0xF0 ? 0x07u : value >= 0xE0 ? 0x0Fu : 0x1Fu);
                return;
            }
            s_utf8Remaining = 0;
            WriteAscii(value);
        }

        /// <summary>The code page 437 glyph of a character above U+007F (a switch: no static data
        /// to initialise, the screen works from the first instruction).</summary>
        private static byte Glyph(uint codePoint)
        {
            switch (codePoint)
            {
                case 0x00C7: return 0x80; case 0x00FC: return 0x81; case 0x00E9: return 0x82; case 0x00E2: return 0x83;
                case 0x00E4: return 0x84; case 0x00E0: return 0x85; case 0x00E5: return 0x86; case 0x00E7: return 0x87;
                case 0x00EA: return 0x88; case 0x00EB: return 0x89; case 0x00E8: return 0x8A; case 0x00EF: return 0x8B;
                case 0x00EE: return 0x8C; case 0x00EC: return 0x8D; case 0x00C4: return 0x8E; case 0x00C5: return 0x8F;
                case 0x00C9: return 0x90; case 0x00E6: return 0x91; case 0x00C6: return 0x92; case 0x00F4: return 0x93;
                case 0x00F6: return 0x94; case 0x00F2: return 0x95; case 0x00FB: return 0x96; case 0x00F9: return 0x97;
                case 0x00FF: return 0x98; case 0x00D6: return 0x99; case 0x00DC: return 0x9A; case 0x00A3: return 0x9C;
                case 0x00A5: return 0x9D; case 0x00E1: return 0xA0; case 0x00ED: return 0xA1; case 0x00F3: return 0xA2;
                case 0x00FA: return 0xA3; case 0x00F1: return 0xA4; case 0x00D1: return 0xA5; case 0x00DF: return 0xE1;
                case 0x03C0: return 0xE3; case 0x03A3: return 0xE4; case 0x03C3: return 0xE5; case 0x00B5: return 0xE6;
                case 0x03A9: return 0xEA; case 0x03B4: return 0xEB; case 0x221E: return 0xEC; case 0x00B1: return 0xF1;
                case 0x2248: return 0xF7; case 0x00B0: return 0xF8; case 0x00B7: return 0xFA; case 0x221A: return 0xFB;
                case 0x00B2: return 0xFD;
                default: return (byte)'?';
            }
        }

        private static void WriteAscii(byte value)
        {
            if (value == (byte)'\n')
            {
                NewLine();
                return;
            }
            if (value == (byte)'\r')
            {
                s_column = 0;
                return;
            }
            PutCell(value);
        }

        private static void PutCell(byte glyph)
        {
            Cells[s_row * Columns + s_column] = (ushort)(glyph | (Attribute << 8));
            if (++s_column == Columns)
                NewLine();
        }

        private static void NewLine()
        {
            s_column = 0;
            if (++s_row < Rows)
                return;
            ushort* cells = Cells;
            for (int i = 0; i < (Rows - 1) * Columns; i++)
                cells[i] = cells[i + Columns];
            for (int i = (Rows - 1) * Columns; i < Rows * Columns; i++)
                cells[i] = (ushort)(' ' | (Attribute << 8));
            s_row = Rows - 1;
        }

        public static void Clear()
        {
            ushort* cells = Cells;
            for (int i = 0; i < Rows * Columns; i++)
                cells[i] = (ushort)(' ' | (Attribute << 8));
            s_row = 0;
            s_column = 0;
        }
    }
}
