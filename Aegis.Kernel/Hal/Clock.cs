// Time: the periodic timer tick count and the TSC, calibrated against the PIT at boot.
// Under QEMU the TSC counts from machine reset, so TSC / frequency is the time since power-on.
namespace Aegis.Kernel.Hal
{
    public static class Clock
    {
        public const uint TickHz = 1000;
        private static ulong s_ticks;
        private static ulong s_timestampHz;

        public static ulong Ticks => s_ticks;
        public static ulong TimestampHz => s_timestampHz;

        internal static void Tick() => s_ticks++;

        internal static void Calibrate()
        {
            s_timestampHz = ProgrammableIntervalTimer.MeasureTimestampFrequency(5);
        }

        internal static void StartTimer()
        {
            ProgrammableIntervalTimer.StartPeriodic(TickHz);
            ProgrammableInterruptController.Unmask(Interrupts.TimerIrq);
        }

        /// <summary>Milliseconds since the machine was reset, from the TSC (0 if uncalibrated).</summary>
        public static ulong MillisecondsSinceReset()
        {
            if (s_timestampHz == 0) return 0;
            return Cpu.ReadTimestampCounter() / (s_timestampHz / 1000);
        }
    }
}
