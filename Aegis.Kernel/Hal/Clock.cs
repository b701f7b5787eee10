// Time: the periodic timer tick count and the TSC, calibrated against the PIT at boot.
// Under QEMU the TSC counts from machine reset, so TSC / frequency is the time since power-on.
// Interrupts-off measurement: every tick records the TSC gap since the previous tick. Timer
// interrupts only arrive while interrupts are on, so the longest gap bounds the longest stretch
// with interrupts off (to within one tick period, 1 ms); a gap of more than 1.5 periods means
// the PIC coalesced ticks and LostTicks counts the ticks that were not delivered.
namespace Aegis.Kernel.Hal
{
    public static class Clock
    {
        public const uint TickHz = 1000;
        private static ulong s_ticks;
        private static ulong s_timestampHz;

        public static ulong Ticks => s_ticks;
        public static ulong TimestampHz => s_timestampHz;

        private static ulong s_lastTickTimestamp;
        private static ulong s_maxTickGap;
        private static ulong s_lostTicks;

        internal static void Tick()
        {
            ulong now = Cpu.ReadTimestampCounter();
            ulong last = s_lastTickTimestamp;
            s_lastTickTimestamp = now;
            s_ticks++;
            if (last == 0) return;
            ulong gap = now - last;
            if (gap > s_maxTickGap) s_maxTickGap = gap;
            if (gap > s_lostThreshold && s_lostThreshold != 0) s_lostTicks += (gap + s_period / 2) / s_period - 1;
        }

        private static ulong s_period;        // TSC cycles per tick (0 before calibration)
        private static ulong s_lostThreshold; // 1.5 periods (0 before calibration: nothing counts as lost)

        /// <summary>The longest gap between two consecutive timer ticks since ResetTickGaps, in
        /// microseconds: an upper bound (plus one period) of the longest interrupts-off stretch.</summary>
        public static ulong MaxTickGapMicroseconds => s_timestampHz == 0 ? 0 : s_maxTickGap / (s_timestampHz / 1000000 == 0 ? 1 : s_timestampHz / 1000000);

        /// <summary>Timer ticks that were not delivered (coalesced while interrupts were off) since ResetTickGaps.</summary>
        public static ulong LostTicks => s_lostTicks;

        /// <summary>Starts a new measurement of MaxTickGapMicroseconds and LostTicks.</summary>
        public static void ResetTickGaps()
        {
            s_maxTickGap = 0;
            s_lostTicks = 0;
            s_lastTickTimestamp = 0;
        }

        internal static void Calibrate()
        {
            s_timestampHz = ProgrammableIntervalTimer.MeasureTimestampFrequency(5);
            s_period = s_timestampHz / TickHz;
            s_lostThreshold = s_period + s_period / 2;
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
