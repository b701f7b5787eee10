// The 8254 PIT: channel 0 drives the periodic timer interrupt (IRQ 0); channel 2 (gated by
// port 0x61, no interrupt) measures the TSC frequency once at boot.
namespace Aegis.Kernel.Hal
{
    internal static class ProgrammableIntervalTimer
    {
        public const uint InputHz = 1193182;

        public static void StartPeriodic(uint hz)
        {
            uint divisor = InputHz / hz;
            Cpu.OutByte(0x43, 0x34);                  // channel 0, lobyte/hibyte, mode 2 (rate generator)
            Cpu.OutByte(0x40, (byte)divisor);
            Cpu.OutByte(0x40, (byte)(divisor >> 8));
        }

        /// <summary>Counts TSC ticks over 'milliseconds' of PIT time; returns ticks per second.</summary>
        public static ulong MeasureTimestampFrequency(uint milliseconds)
        {
            uint count = InputHz * milliseconds / 1000;
            byte gate = Cpu.InByte(0x61);
            Cpu.OutByte(0x61, (byte)((gate & ~0x02) | 0x01)); // gate on, speaker off
            Cpu.OutByte(0x43, 0xB0);                          // channel 2, lobyte/hibyte, mode 0
            Cpu.OutByte(0x42, (byte)count);
            Cpu.OutByte(0x42, (byte)(count >> 8));
            // Restart the count by toggling the gate, then wait for OUT2 (bit 5) to go high.
            gate = Cpu.InByte(0x61);
            Cpu.OutByte(0x61, (byte)(gate & ~0x01));
            Cpu.OutByte(0x61, (byte)(gate | 0x01));
            ulong start = Cpu.ReadTimestampCounter();
            ulong spins = 0;
            while ((Cpu.InByte(0x61) & 0x20) == 0)
            {
                if (++spins > 100_000_000) return 0; // no PIT: give up rather than hang
            }
            ulong end = Cpu.ReadTimestampCounter();
            return (end - start) * 1000 / milliseconds;
        }
    }
}
