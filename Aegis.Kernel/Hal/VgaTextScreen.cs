// The VGA text screen (80x25 cells at physical 0xB8000, reached through the kernel's
// higher-half window). Scrolls when full. Harmless under UEFI, where nothing displays it.
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

        public static void Write(byte value)
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
            Cells[s_row * Columns + s_column] = (ushort)(value | (Attribute << 8));
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
