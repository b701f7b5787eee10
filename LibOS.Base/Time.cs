// Time for libOSes: the time-stamp counter (constant-rate; InfoPage.TimestampHz ticks a second,
// the unit of WaitUntil's deadlines) and microseconds derived from it. Native/libos.S: aegis_rdtsc.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Aegis.LibOS
{
    public static unsafe class Time
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_rdtsc")]
        private static extern ulong Rdtsc();

        /// <summary>The time-stamp counter now.</summary>
        public static ulong Timestamp => Rdtsc();

        /// <summary>Time-stamp counter ticks a second.</summary>
        public static ulong TimestampHz => Info.TimestampHz;

        /// <summary>Microseconds since the counter's origin (boot).</summary>
        public static long Microseconds => (long)(Rdtsc() / TicksPerMicrosecond());

        /// <summary>The counter's value 'microseconds' from now (a WaitUntil deadline).</summary>
        public static ulong DeadlineAfter(long microseconds)
            => Rdtsc() + (ulong)(microseconds < 0 ? 0 : microseconds) * TicksPerMicrosecond();

        private static ulong TicksPerMicrosecond()
        {
            ulong perMicrosecond = Info.TimestampHz / 1_000_000;
            return perMicrosecond == 0 ? 1 : perMicrosecond;
        }
    }
}
