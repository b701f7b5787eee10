// The kernel's console: every line goes to COM1 and to the VGA text screen, in the order it was
// written. Environments' ConsoleWrite output goes through a fixed console buffer (16 KiB) that
// the timer tick drains, at most DrainPerTick bytes per tick, writing to the UART only while its
// transmitter is ready (no spinning): a system call never does more console work than copying
// its own bytes, and the work per tick is bounded. A full buffer makes ConsoleWrite short (or
// WouldBlock), never loses accepted bytes. The kernel's own text goes straight to the UART while
// the buffer is empty, and behind the buffered bytes otherwise (making room by writing out the
// oldest bytes itself, so kernel text is never lost: it is bounded by the kernel's own lines).
// Flush writes everything out (before the machine exits, after a panic).
// Invariant: usable from the first managed instruction (no allocation, no statics that need
// start-up: the buffer is a fixed-size struct in static data), so that even an early panic can
// be reported.
using Aegis.Kernel.Hal;

namespace Aegis.Kernel
{
    public static unsafe class KernelLog
    {
        /// <summary>Bytes the console buffer holds.</summary>
        public const int BufferBytes = 16384;

        /// <summary>Bytes the timer tick writes out of the buffer, at most, per tick.</summary>
        public const int DrainPerTick = 1024;

        /// <summary>The most bytes written to the UART between two ticks while environments flood the
        /// console: one tick's drain, plus the kernel's own lines (which go straight out).</summary>
        public const ulong MaximumBytesPerTick = DrainPerTick + 256;

        private struct Ring
        {
            public fixed byte Bytes[BufferBytes];
        }

        private static Ring s_ring;
        private static int s_head;   // the oldest byte
        private static int s_count;  // bytes waiting
        // Set while code changes the buffer. The timer tick interrupts kernel code (the scheduler
        // loop, the test suites) with interrupts on: its drain then waits for the next tick, and
        // kernel text it writes goes straight out, so the buffer is never changed by two at once.
        private static bool s_busy;

        /// <summary>Bytes waiting in the console buffer.</summary>
        public static int Pending => s_count;

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

        /// <summary>True when the last byte written (kernel text or an environment's, buffered or
        /// not) ended a line, or nothing was written yet: what comes next starts a console line
        /// (Exo/ConsoleOutput marks environments' lines).</summary>
        public static bool AtLineStart => !s_midLine;
        private static bool s_midLine;

        /// <summary>Ends a line an environment left open, so that the next line starts at column 0.</summary>
        public static void StartLine()
        {
            if (s_midLine)
                Write('\n');
        }

        private static char s_pendingHigh; // a high surrogate waiting for its low half

        /// <summary>A character of the kernel's own text, as UTF-8 (Core/ConsoleText.cs: a surrogate
        /// pair becomes one 4-byte sequence; a lone surrogate U+FFFD). Allocates nothing.</summary>
        public static void Write(char c)
        {
            if (c < 0x80 && s_pendingHigh == '\0')
            {
                WriteByte((byte)c);
                return;
            }
            byte* encoded = stackalloc byte[8];
            int count = Core.Utf8Text.Encode(c, ref s_pendingHigh, new System.Span<byte>(encoded, 8));
            for (int i = 0; i < count; i++)
                WriteByte(encoded[i]);
        }

        private static void WriteByte(byte value)
        {
            s_midLine = value != (byte)'\n';
            if (s_count == 0 || s_busy)
            {
                Emit(value, true);
                return;
            }
            s_busy = true;
            if (s_count == BufferBytes)
                DrainOne(true);
            Enqueue(value);
            s_busy = false;
        }

        /// <summary>A number in decimal, without allocating.</summary>
        public static void WriteDecimal(ulong value)
        {
            char* digits = stackalloc char[20];
            int count = 0;
            do
            {
                digits[count++] = (char)('0' + (int)(value % 10));
                value /= 10;
            } while (value != 0);
            while (count > 0) Write(digits[--count]);
        }

        /// <summary>A number in hexadecimal (lower case, no prefix), without allocating.</summary>
        public static void WriteHex(ulong value)
        {
            int shift = 60;
            while (shift > 0 && (value >> shift) == 0) shift -= 4;
            for (; shift >= 0; shift -= 4)
                Write("0123456789abcdef"[(int)((value >> shift) & 0xF)]);
        }

        /// <summary>An environment's output (already filtered to printable text): written out now as
        /// far as this tick's budget (DrainPerTick UART bytes between two ticks) allows, the rest
        /// buffered as far as it fits. Returns the bytes taken, 0 when the buffer is full.</summary>
        public static int WriteFromEnvironment(byte* bytes, int length)
        {
            if (s_busy) return 0;
            s_busy = true;
            int index = 0;
            // FAST PATH (docs/kernel.md): nothing buffered, so writing straight out keeps the order.
            // With nothing waiting, bytes go straight out while this tick's UART budget lasts and
            // the transmitter is ready (no waiting): a short line costs no buffering.
            if (s_count == 0)
            {
                while (index < length && SerialPort.BytesSinceTick + 2 <= (ulong)DrainPerTick && Emit(bytes[index], false))
                    index++;
            }
            int room = BufferBytes - s_count;
            int rest = length - index;
            int buffered = rest < room ? rest : room;
            for (int i = 0; i < buffered; i++)
                Enqueue(bytes[index + i]);
            if (index + buffered > 0)
                s_midLine = bytes[index + buffered - 1] != (byte)'\n';
            s_busy = false;
            return index + buffered;
        }

        /// <summary>Every timer tick: a new interval of the UART's per-tick count, and one tick's
        /// share of the console buffer.</summary>
        public static void OnTick()
        {
            SerialPort.OnTick();
            if (s_count != 0)
                Drain(DrainPerTick);
        }

        /// <summary>Writes out up to 'budget' UART bytes (a newline is two), while the
        /// UART is ready.</summary>
        public static void Drain(int budget)
        {
            if (s_busy) return;
            s_busy = true;
            while (budget > 1 && s_count > 0)
            {
                int written = DrainOne(false);
                if (written == 0)
                    break; // the transmitter is busy: the rest waits for the next tick
                budget -= written;
            }
            s_busy = false;
        }

        /// <summary>Writes out everything waiting (the machine is about to stop, or a panic).</summary>
        public static void Flush()
        {
            bool wasBusy = s_busy;
            s_busy = true;
            while (s_count > 0)
                DrainOne(true);
            s_busy = wasBusy;
        }

        private static void Enqueue(byte value)
        {
            s_ring.Bytes[(s_head + s_count) % BufferBytes] = value;
            s_count++;
        }

        /// <summary>Writes the oldest waiting byte: waiting for the UART if 'wait', else only if it is
        /// ready now. Returns the UART bytes written (2 for a newline), 0 when it was not written.</summary>
        private static int DrainOne(bool wait)
        {
            byte value = s_ring.Bytes[s_head];
            if (!Emit(value, wait))
                return 0;
            s_head = (s_head + 1) % BufferBytes;
            s_count--;
            return value == (byte)'\n' ? 2 : 1;
        }

        private static bool Emit(byte value, bool wait)
        {
            if (wait)
            {
                if (value == (byte)'\n')
                    SerialPort.Write((byte)'\r');
                SerialPort.Write(value);
            }
            else if (value == (byte)'\n' ? !SerialPort.TryWriteTwo((byte)'\r', value) : !SerialPort.TryWrite(value))
                return false;
            VgaTextScreen.Write(value);
            return true;
        }
    }
}
