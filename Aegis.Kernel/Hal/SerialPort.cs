// COM1 (16550 UART at I/O port 0x3F8): 115200 baud, 8N1, FIFO on. Output only.
// Invariant: Write never blocks forever; if the transmitter stays busy (no UART present) the
// byte is dropped after a bounded wait.
namespace Aegis.Kernel.Hal
{
    internal static class SerialPort
    {
        private const ushort Com1 = 0x3F8;
        private static bool s_present;

        public static void Initialize()
        {
            Cpu.OutByte(Com1 + 1, 0x00); // no UART interrupts
            Cpu.OutByte(Com1 + 3, 0x80); // DLAB on
            Cpu.OutByte(Com1 + 0, 0x01); // divisor 1 = 115200 baud
            Cpu.OutByte(Com1 + 1, 0x00);
            Cpu.OutByte(Com1 + 3, 0x03); // 8 bits, no parity, one stop bit
            Cpu.OutByte(Com1 + 2, 0xC7); // FIFO on, cleared, 14-byte threshold
            Cpu.OutByte(Com1 + 4, 0x03); // DTR, RTS
            // A missing UART reads back 0xFF from the line status register.
            s_present = Cpu.InByte(Com1 + 5) != 0xFF;
        }

        public static void Write(byte value)
        {
            if (!s_present) return;
            for (int spin = 0; spin < 100000; spin++)
            {
                if ((Cpu.InByte(Com1 + 5) & 0x20) != 0)
                {
                    Cpu.OutByte(Com1, value);
                    return;
                }
            }
        }
    }
}
