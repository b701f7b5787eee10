// What the Linux personality needs from the kernel's issue #9 ABI, in one place (plan sections
// 1 and 2): the system-call upcall (SystemCall.SetSystemCallUpcall, UpcallKind.SystemCall), the
// FSGSBASE bit of InfoPage.CpuFeatures, and wall time (InfoPage.BootUnixNanoseconds at the TSC
// value InfoPage.BootTimestamp).
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    internal static unsafe class KernelInterface
    {
        /// <summary>SystemCall.SetSystemCallUpcall's number (for assembly that makes the call itself).</summary>
        public const ulong SetSystemCallUpcall = (ulong)SystemCall.SetSystemCallUpcall;

        /// <summary>Routes the program's `syscall`s (numbers outside Aegis's range) to the upcall entry (0: stop).</summary>
        public static Error EnableSystemCallUpcall(ulong entry) => SystemCalls.SetSystemCallUpcall(entry);

        /// <summary>InfoPage.CpuFeatures bit 0: the kernel set CR4.FSGSBASE (ring 3 may rdfsbase/wrfsbase).</summary>
        public static bool HasFsGsBase => (Info.GlobalPage->CpuFeatures & CpuFeatureBits.FsGsBase) != 0;

        /// <summary>Wall time at boot (ns since the epoch, from the CMOS RTC; 0 when the kernel could
        /// not read it: then CLOCK_REALTIME counts from the epoch at boot) and the TSC at that moment.</summary>
        public static ulong BootUnixNanoseconds => Info.GlobalPage->BootUnixNanoseconds;
        public static ulong BootTimestamp => Info.GlobalPage->BootTimestamp;
    }
}
