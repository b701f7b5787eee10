// The CMOS real-time clock (ports 0x70/0x71), read once at boot for the wall time.
// Reading: wait until status A's update-in-progress bit (0x80) is clear, read the date and time
// registers, and repeat until two reads in a row agree (an update between them would otherwise
// mix seconds of one second with minutes of the next); the decoding (BCD or binary, 12 or 24
// hours, the century) is Core/RtcTime.cs, host-tested. Every wait is bounded: a machine without
// a working RTC gives no wall time (TryRead false), never a hang. NMIs are left as they are (bit
// 7 of the index port is never set).
using Aegis.Kernel.Core;

namespace Aegis.Kernel.Hal
{
    internal static class Rtc
    {
        private const ushort IndexPort = 0x70, DataPort = 0x71;
        private const byte StatusA = 0x0A, StatusB = 0x0B, CenturyRegister = 0x32;
        private const byte UpdateInProgress = 0x80;

        private static byte Read(byte register)
        {
            Cpu.OutByte(IndexPort, register);
            return Cpu.InByte(DataPort);
        }

        /// <summary>False when the update-in-progress bit stays set (no RTC, or a broken one).</summary>
        private static bool WaitForUpdateToEnd()
        {
            // An update takes at most 2 ms; each port read takes at least ~1 µs on hardware.
            for (int spin = 0; spin < 200000; spin++)
                if ((Read(StatusA) & UpdateInProgress) == 0) return true;
            return false;
        }

        private static bool TryReadOnce(out RtcRegisters registers)
        {
            registers = default;
            if (!WaitForUpdateToEnd()) return false;
            registers.Seconds = Read(0x00);
            registers.Minutes = Read(0x02);
            registers.Hours = Read(0x04);
            registers.Day = Read(0x07);
            registers.Month = Read(0x08);
            registers.Year = Read(0x09);
            registers.Century = Read(CenturyRegister);
            registers.StatusB = Read(StatusB);
            return true;
        }

        private static bool Same(RtcRegisters a, RtcRegisters b)
            => a.Seconds == b.Seconds && a.Minutes == b.Minutes && a.Hours == b.Hours && a.Day == b.Day
            && a.Month == b.Month && a.Year == b.Year && a.Century == b.Century && a.StatusB == b.StatusB;

        /// <summary>The RTC's registers from two agreeing reads, and the TSC right after the second.</summary>
        public static bool TryRead(out RtcRegisters registers, out ulong timestamp)
        {
            timestamp = 0;
            if (!TryReadOnce(out registers)) return false;
            for (int attempt = 0; attempt < 8; attempt++)
            {
                if (!TryReadOnce(out RtcRegisters again)) return false;
                timestamp = Cpu.ReadTimestampCounter();
                if (Same(registers, again)) return true;
                registers = again;
            }
            return false;
        }
    }
}
