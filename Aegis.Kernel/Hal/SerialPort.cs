// COM1 (16550 UART at I/O port 0x3F8): 115200 baud, 8N1, FIFO on. Output (the kernel's
// console) and, from EnableReceiveInterrupt on, input: IRQ 4 on received data (IER bit 0; MCR
// OUT2 gates the line on PC hardware), whose handler moves the received bytes into the Serial
// input ring (issue #9).
// Invariant: Write never blocks forever; if the transmitter stays busy (no UART present) the
// byte is dropped after a bounded wait. TryWrite never waits (the console buffer's drain).
// Initialize keeps the receive FIFO (bytes typed or piped in before the kernel ran stay there).
using Aegis.Kernel.Core.Exo;

namespace Aegis.Kernel.Hal
{
    internal static class SerialPort
    {
        private const ushort Com1 = 0x3F8;
        private static bool s_present;

        /// <summary>Bytes received before the kernel set the UART up (kept until the input ring exists).</summary>
        private unsafe struct EarlyBytes
        {
            public fixed byte Bytes[16];
            public int Count;
        }
        private static EarlyBytes s_early;

        public static unsafe void Initialize()
        {
            // Bytes already received (typed or piped in during the boot) are kept: turning the FIFO
            // on clears the receiver on a UART whose FIFO was off.
            if (Cpu.InByte(Com1 + 5) != 0xFF)
                for (int i = 0; i < 16 && (Cpu.InByte(Com1 + 5) & 0x01) != 0; i++)
                    s_early.Bytes[s_early.Count++] = Cpu.InByte(Com1);
            Cpu.OutByte(Com1 + 1, 0x00); // no UART interrupts
            Cpu.OutByte(Com1 + 3, 0x80); // DLAB on
            Cpu.OutByte(Com1 + 0, 0x01); // divisor 1 = 115200 baud
            Cpu.OutByte(Com1 + 1, 0x00);
            Cpu.OutByte(Com1 + 3, 0x03); // 8 bits, no parity, one stop bit
            Cpu.OutByte(Com1 + 2, 0xC5); // FIFO on, transmit FIFO cleared (received bytes kept), 14-byte threshold
            Cpu.OutByte(Com1 + 4, 0x0B); // DTR, RTS, OUT2 (the IRQ line; no UART interrupt is enabled yet)
            // A missing UART reads back 0xFF from the line status register.
            s_present = Cpu.InByte(Com1 + 5) != 0xFF;
        }

        /// <summary>From now on a received byte raises IRQ 4 (IER bit 0 only: no transmit interrupts).</summary>
        public static void EnableReceiveInterrupt()
        {
            if (!s_present) return;
            Cpu.OutByte(Com1 + 1, 0x01);
        }

        public static bool Present => s_present;

        /// <summary>Moves the bytes received before Initialize into the ring (once).</summary>
        public static unsafe void TakeEarlyBytes(InputRing ring)
        {
            for (int i = 0; i < s_early.Count; i++)
                ring.Write(s_early.Bytes[i]);
            s_early.Count = 0;
        }

        /// <summary>IRQ 4: moves the received bytes into the ring (the interrupt clears when the
        /// receive buffer is empty). Returns how many came.</summary>
        public static int OnInterrupt(InputRing ring)
        {
            if (!s_present) return 0;
            Cpu.InByte(Com1 + 2); // the interrupt identification (acknowledges a line-status cause)
            return Drain(ring);
        }

        /// <summary>Whether the receiver is held back (the ring was full: bytes wait in the UART).</summary>
        public static bool Throttled => s_throttled;
        private static bool s_throttled;

        /// <summary>Flow control, so no received byte is lost: bytes move into the ring only while it
        /// has room. When it fills with bytes still in the UART, the receive interrupt goes off and
        /// the bytes stay in the FIFO (a full FIFO makes QEMU stop taking its input, and a terminal
        /// line overruns only when it does not stop sending); Resume takes them once a reader made room.</summary>
        private static int Drain(InputRing ring)
        {
            int taken = 0;
            for (int i = 0; i < 64 && (Cpu.InByte(Com1 + 5) & 0x01) != 0; i++)
            {
                if (ring.IsFull)
                {
                    if (!s_throttled) { s_throttled = true; Cpu.OutByte(Com1 + 1, 0x00); }
                    return taken;
                }
                ring.Write(Cpu.InByte(Com1));
                taken++;
            }
            return taken;
        }

        /// <summary>After a reader took bytes from the ring (interrupts off): moves what waits in the
        /// UART into the room made, and turns the receive interrupt back on once the UART is empty.
        /// Returns how many bytes moved.</summary>
        public static int Resume(InputRing ring)
        {
            if (!s_throttled || !s_present) return 0;
            int taken = Drain(ring);
            if (!ring.IsFull || (Cpu.InByte(Com1 + 5) & 0x01) == 0)
            {
                s_throttled = false;
                Cpu.OutByte(Com1 + 1, 0x01); // a byte still waiting raises IRQ 4 at once
            }
            return taken;
        }

        /// <summary>Test support (the protection suite): sends the bytes to the UART's own receiver in
        /// loopback mode (MCR bit 4), so they arrive through IRQ 4 as received bytes do. The caller
        /// has interrupts off (so no console byte is sent in loopback); at most 16 bytes (the FIFO).
        /// False without a UART.</summary>
        public static bool InjectThroughLoopback(System.ReadOnlySpan<byte> bytes)
        {
            if (!s_present || bytes.Length > 16) return false;
            // Wait until the transmitter is empty: no kernel byte may be looped back.
            for (int spin = 0; spin < 100000 && (Cpu.InByte(Com1 + 5) & 0x40) == 0; spin++) { }
            Cpu.OutByte(Com1 + 4, 0x1B); // loopback on (DTR, RTS, OUT2 kept)
            for (int i = 0; i < bytes.Length; i++)
            {
                for (int spin = 0; spin < 100000 && (Cpu.InByte(Com1 + 5) & 0x20) == 0; spin++) { }
                Cpu.OutByte(Com1, bytes[i]);
            }
            // Until every byte went round (the transmitter empty again), then back to the line.
            for (int spin = 0; spin < 100000 && (Cpu.InByte(Com1 + 5) & 0x40) == 0; spin++) { }
            Cpu.OutByte(Com1 + 4, 0x0B);
            return true;
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
