// Clocks and sleeping. Every clock is computed from the TSC (InfoPage.TimestampHz ticks a
// second), so none ever goes backwards:
//   CLOCK_MONOTONIC, _RAW, _COARSE, CLOCK_BOOTTIME   TSC since boot (Aegis never suspends);
//   CLOCK_REALTIME, _COARSE, CLOCK_TAI               InfoPage.BootUnixNanoseconds (the CMOS clock
//                                                    read at boot) + TSC since InfoPage.BootTimestamp;
//   CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID  TSC since the program started: an upper
//                                                    bound of its CPU time (the kernel keeps no
//                                                    per-environment CPU accounting; time other
//                                                    environments ran is counted too).
// nanosleep/clock_nanosleep block in the kernel's WaitUntil (Processes/Notices.cs, WaitStep) until
// the deadline: a sleeping process costs no CPU; a signal from another process (or ^C typed at the
// terminal by its foreground group) wakes it early, and it returns -EINTR with the time left.
using Aegis.Abi;
using static Aegis.LibOS.Unixish.Linux.LinuxSystemCallNumbers;

namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class TimeCalls
    {
        public const int ClockRealtime = 0, ClockMonotonic = 1, ClockProcessCpu = 2, ClockThreadCpu = 3, ClockMonotonicRaw = 4,
            ClockRealtimeCoarse = 5, ClockMonotonicCoarse = 6, ClockBoottime = 7, ClockRealtimeAlarm = 8, ClockBoottimeAlarm = 9, ClockTai = 11;
        public const int TimerAbsolute = 1;
        private const ulong Billion = 1_000_000_000;

        public static void Register()
        {
            LinuxSystemCalls.Define(clock_gettime, &ClockGetTime);
            LinuxSystemCalls.Define(clock_getres, &ClockGetRes);
            LinuxSystemCalls.Define(gettimeofday, &GetTimeOfDay);
            LinuxSystemCalls.Define(time, &Time);
            LinuxSystemCalls.Define(nanosleep, &NanoSleep);
            LinuxSystemCalls.Define(clock_nanosleep, &ClockNanoSleep);
            LinuxSystemCalls.Define(times, &Times);
            LinuxSystemCalls.Define(getrusage, &GetRusage);
        }

        /// <summary>TSC ticks as nanoseconds (128-bit-safe: seconds and remainder apart).</summary>
        public static ulong TicksToNanoseconds(ulong ticks, ulong hz)
        {
            if (hz == 0) return 0;
            return ticks / hz * Billion + ticks % hz * Billion / hz;
        }

        public static ulong NanosecondsToTicks(ulong nanoseconds, ulong hz)
            => nanoseconds / Billion * hz + nanoseconds % Billion * hz / Billion;

        public static ulong MonotonicNanoseconds() => TicksToNanoseconds(LinuxCpu.Timestamp(), Info.GlobalPage->TimestampHz);

        public static ulong RealtimeNanoseconds()
        {
            ulong now = LinuxCpu.Timestamp(), boot = KernelInterface.BootTimestamp;
            ulong since = now > boot ? now - boot : 0;
            return KernelInterface.BootUnixNanoseconds + TicksToNanoseconds(since, Info.GlobalPage->TimestampHz);
        }

        /// <summary>The clock's value in ns, or -EINVAL for an unknown clock.</summary>
        public static long Now(int clock, out ulong nanoseconds)
        {
            switch (clock)
            {
                case ClockRealtime:
                case ClockRealtimeCoarse:
                case ClockTai:
                case ClockRealtimeAlarm:
                    nanoseconds = RealtimeNanoseconds();
                    return 0;
                case ClockMonotonic:
                case ClockMonotonicRaw:
                case ClockMonotonicCoarse:
                case ClockBoottime:
                case ClockBoottimeAlarm:
                    nanoseconds = MonotonicNanoseconds();
                    return 0;
                case ClockProcessCpu:
                case ClockThreadCpu:
                    ulong now = LinuxCpu.Timestamp();
                    nanoseconds = TicksToNanoseconds(now - LinuxProcess.ProgramStarted, Info.GlobalPage->TimestampHz);
                    return 0;
                default:
                    nanoseconds = 0;
                    return -Errno.EINVAL;
            }
        }

        internal static long PutTimespec(ulong address, ulong nanoseconds)
        {
            ulong* value = stackalloc ulong[2];
            value[0] = nanoseconds / Billion;
            value[1] = nanoseconds % Billion;
            return UserPointers.CopyOut(address, value, 16) ? 0 : -Errno.EFAULT;
        }

        public static long ClockGetTime(ref LinuxCall call)
        {
            long error = Now((int)call.A0, out ulong nanoseconds);
            return error < 0 ? error : PutTimespec(call.A1, nanoseconds);
        }

        /// <summary>1 ns for the TSC clocks, 1 ms (the kernel's tick) for the coarse ones.</summary>
        public static long ClockGetRes(ref LinuxCall call)
        {
            int clock = (int)call.A0;
            long error = Now(clock, out _);
            if (error < 0) return error;
            if (call.A1 == 0) return 0;
            return PutTimespec(call.A1, clock == ClockRealtimeCoarse || clock == ClockMonotonicCoarse ? 1_000_000UL : 1UL);
        }

        public static long GetTimeOfDay(ref LinuxCall call)
        {
            ulong nanoseconds = RealtimeNanoseconds();
            ulong* value = stackalloc ulong[2];
            if (call.A0 != 0)
            {
                value[0] = nanoseconds / Billion;
                value[1] = nanoseconds % Billion / 1000;
                if (!UserPointers.CopyOut(call.A0, value, 16)) return -Errno.EFAULT;
            }
            if (call.A1 != 0)
            {
                value[0] = 0; // struct timezone: UTC, no DST
                if (!UserPointers.CopyOut(call.A1, value, 8)) return -Errno.EFAULT;
            }
            return 0;
        }

        public static long Time(ref LinuxCall call)
        {
            ulong seconds = RealtimeNanoseconds() / Billion;
            if (call.A0 != 0 && !UserPointers.CopyOut(call.A0, &seconds, 8)) return -Errno.EFAULT;
            return (long)seconds;
        }

        /// <summary>Reads a struct timespec: its ns, or -EFAULT / -EINVAL (negative seconds, ns out of range).</summary>
        public static long ReadTimespec(ulong address, out ulong nanoseconds)
        {
            nanoseconds = 0;
            long* value = stackalloc long[2];
            if (!UserPointers.CopyIn(value, address, 16)) return -Errno.EFAULT;
            if (value[0] < 0 || value[1] < 0 || value[1] >= (long)Billion) return -Errno.EINVAL;
            ulong seconds = (ulong)value[0];
            nanoseconds = seconds > (ulong.MaxValue - Billion) / Billion ? ulong.MaxValue : seconds * Billion + (ulong)value[1];
            return 0;
        }

        public static long NanoSleep(ref LinuxCall call)
        {
            long error = ReadTimespec(call.A0, out ulong nanoseconds);
            if (error < 0) return error;
            ulong left = Sleep(nanoseconds);
            if (left == 0) return 0;
            // A signal ended the sleep: the remaining time, then -EINTR (a handler runs) or a restart (Signals).
            if (call.A1 != 0 && PutTimespec(call.A1, left) < 0) return -Errno.EFAULT;
            return -Signals.ERESTART_RESTARTBLOCK;
        }

        public static long ClockNanoSleep(ref LinuxCall call)
        {
            int clock = (int)call.A0;
            if (clock == ClockThreadCpu) return -Errno.EINVAL;
            if ((call.A1 & ~(ulong)TimerAbsolute) != 0) return -Errno.EINVAL;
            long error = Now(clock, out ulong now);
            if (error < 0) return error;
            if (clock == ClockProcessCpu) return -Errno.EOPNOTSUPP;
            error = ReadTimespec(call.A2, out ulong nanoseconds);
            if (error < 0) return error;
            bool absolute = (call.A1 & TimerAbsolute) != 0;
            if (absolute)
                nanoseconds = nanoseconds > now ? nanoseconds - now : 0;
            ulong left = Sleep(nanoseconds);
            if (left == 0) return 0;
            if (!absolute && call.A3 != 0 && PutTimespec(call.A3, left) < 0) return -Errno.EFAULT;
            return -Signals.ERESTART_RESTARTBLOCK;
        }

        /// <summary>Blocks until duration ns have passed: 0, or the ns left when a signal ended
        /// the sleep (Signals.InterruptPending).</summary>
        private static ulong Sleep(ulong duration)
        {
            ulong hz = Info.GlobalPage->TimestampHz;
            ulong startTicks = LinuxCpu.Timestamp();
            ulong ticks = duration == ulong.MaxValue ? ulong.MaxValue : NanosecondsToTicks(duration, hz);
            ulong deadline = ticks > ulong.MaxValue - startTicks ? ulong.MaxValue : startTicks + ticks;
            if (Processes.LinuxThreads.Live > 1)
            {
                // Other threads run meanwhile (LinuxThreads: the sleeper blocks, a signal ends it early).
                if (Processes.LinuxThreads.Sleep(deadline) == 0) return 0;
                ulong done = LinuxCpu.Timestamp() - startTicks;
                return done >= ticks ? 1 : System.Math.Max(1UL, TicksToNanoseconds(ticks - done, hz));
            }
            bool blocking = false;
            for (;;)
            {
                ulong passed = LinuxCpu.Timestamp() - startTicks;
                if (passed >= ticks) return 0;
                if (Signals.InterruptPending()) return System.Math.Max(1UL, TicksToNanoseconds(ticks - passed, hz));
                if (!blocking) { Processes.Notices.BeginBlocking(); blocking = true; }
                Processes.Notices.WaitStep(deadline);
            }
        }

        /// <summary>times(): clock ticks (AT_CLKTCK = 100 a second) since boot; the program's user
        /// time is its TSC time since start (see the header), system time 0, children 0.</summary>
        public static long Times(ref LinuxCall call)
        {
            ulong hz = Info.GlobalPage->TimestampHz;
            ulong since = TicksToNanoseconds(LinuxCpu.Timestamp() - LinuxProcess.ProgramStarted, hz) / 10_000_000;
            if (call.A0 != 0)
            {
                ulong* tms = stackalloc ulong[4];
                tms[0] = since;
                tms[1] = tms[2] = tms[3] = 0;
                if (!UserPointers.CopyOut(call.A0, tms, 32)) return -Errno.EFAULT;
            }
            return (long)(MonotonicNanoseconds() / 10_000_000);
        }

        /// <summary>getrusage(RUSAGE_SELF/THREAD): ru_utime as for times(), the rest 0 (RUSAGE_CHILDREN: all 0).</summary>
        public static long GetRusage(ref LinuxCall call)
        {
            int who = (int)call.A0;
            if (who != 0 && who != -1 && who != 1) return -Errno.EINVAL;
            byte* usage = stackalloc byte[144];
            for (int i = 0; i < 144; i++) usage[i] = 0;
            if (who != -1)
            {
                ulong ns = TicksToNanoseconds(LinuxCpu.Timestamp() - LinuxProcess.ProgramStarted, Info.GlobalPage->TimestampHz);
                *(ulong*)usage = ns / Billion;
                *(ulong*)(usage + 8) = ns % Billion / 1000;
            }
            return UserPointers.CopyOut(call.A1, usage, 144) ? 0 : -Errno.EFAULT;
        }
    }
}
