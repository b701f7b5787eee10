// The processor facts and instructions the Linux personality uses: the TSC (clocks), CPUID
// (AT_HWCAP, RDRAND/RDSEED presence), random numbers (AT_RANDOM, getrandom: RDRAND, else
// RDSEED, else a xorshift generator seeded from the TSC and the environment id), FSGSBASE.
namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class LinuxCpu
    {
        private static bool s_probed, s_rdrand, s_rdseed;
        private static uint s_hwcap;
        private static ulong s_state;

        private static void Probe()
        {
            if (s_probed) return;
            uint* r = stackalloc uint[4];
            LinuxNative.Cpuid(0, 0, r);
            uint maximum = r[0];
            LinuxNative.Cpuid(1, 0, r);
            s_hwcap = r[3];
            s_rdrand = (r[2] & (1u << 30)) != 0;
            if (maximum >= 7)
            {
                LinuxNative.Cpuid(7, 0, r);
                s_rdseed = (r[1] & (1u << 18)) != 0;
            }
            s_state = LinuxNative.Rdtsc() ^ (Info.EnvironmentId * 0x9E3779B97F4A7C15UL) | 1;
            s_probed = true;
        }

        /// <summary>CPUID.1:EDX, what Linux reports as AT_HWCAP on x86-64.</summary>
        public static ulong Hwcap { get { Probe(); return s_hwcap; } }
        public static bool HasRdrand { get { Probe(); return s_rdrand; } }
        public static bool HasRdseed { get { Probe(); return s_rdseed; } }
        public static bool HasFsGsBase => KernelInterface.HasFsGsBase;

        public static ulong Timestamp() => LinuxNative.Rdtsc();

        /// <summary>64 random bits: RDRAND (retried), else RDSEED, else the seeded generator.</summary>
        public static ulong Random64()
        {
            Probe();
            ulong value;
            for (int attempt = 0; attempt < 10; attempt++)
            {
                if (s_rdrand && LinuxNative.Rdrand(&value) != 0) return value;
                if (s_rdseed && LinuxNative.Rdseed(&value) != 0) return value;
            }
            ulong x = s_state;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s_state = x;
            return x * 0x2545F4914F6CDD1DUL;
        }

        public static void RandomBytes(byte* into, ulong count)
        {
            for (ulong i = 0; i < count; i += 8)
            {
                ulong value = Random64();
                for (ulong j = 0; j < 8 && i + j < count; j++)
                    into[i + j] = (byte)(value >> (int)(8 * j));
            }
        }

        public static void RandomBytes(byte[] into, int count)
        {
            fixed (byte* p = into)
                RandomBytes(p, (ulong)count);
        }
    }
}
