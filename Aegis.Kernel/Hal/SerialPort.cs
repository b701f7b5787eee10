// COM1 (16550 UART at I/O port 0x3F8): 115200 baud, 8N1, FIFO on. Output only.
// Invariant: Write never blocks forever; if the transmitter stays busy (no UART present) the
// byte is dropped after a bounded wait. TryWrite never waits (the console buffer's drain).
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

        private static ulong s_bytesSinceTick;
        private static ulong s_maxBytesPerTick;
        private static ulong s_bytesWritten;

        /// <summary>Bytes handed to the UART since the last timer tick.</summary>
        public static ulong BytesSinceTick => s_bytesSinceTick;

        /// <summary>Bytes handed to the UART since boot.</summary>
        public static ulong BytesWritten => s_bytesWritten;

        /// <summary>The most bytes handed to the UART between two timer ticks since ResetCounters:
        /// every byte is a port write (and on real hardware a wait), so it measures how much
        /// console work the kernel did in one stretch.</summary>
        public static ulong MaxBytesPerTick => s_maxBytesPerTick;

        public static void ResetCounters()
        {
            s_maxBytesPerTick = 0;
            s_bytesSinceTick = 0;
        }

        /// <summary>Called by every timer tick: closes one interval of MaxBytesPerTick.</summary>
        public static void OnTick()
        {
            if (s_bytesSinceTick > s_maxBytesPerTick) s_maxBytesPerTick = s_bytesSinceTick;
            s_bytesSinceTick = 0;
        }

        /// <summary>Writes the byte if the transmitter can take it now; false (nothing written) if not.
        /// With no UART the byte is dropped and counts as written.</summary>
        public static bool TryWrite(byte value)
        {
            if (s_present && (Cpu.InByte(Com1 + 5) & 0x20) == 0)
                return false;
            s_bytesSinceTick++;
            s_bytesWritten++;
            if (s_present) Cpu.OutByte(Com1, value);
            return true;
        }

        /// <summary>Two bytes (CR LF) if the transmitter's FIFO can take both now (it empties as a
        /// whole: 'ready' means 16 free places), else nothing.</summary>
        public static bool TryWriteTwo(byte first, byte second)
        {
            if (!TryWrite(first))
                return false;
            s_bytesSinceTick++;
            s_bytesWritten++;
            if (s_present) Cpu.OutByte(Com1, second);
            return true;
        }

        public static void Write(byte value)
        {
            s_bytesSinceTick++;
            s_bytesWritten++;
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
