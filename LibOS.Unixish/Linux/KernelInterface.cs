// What the Linux personality needs from the kernel's issue #9 ABI, in one place (plan section 1
// and 2): the system-call upcall (SetSystemCallUpcall = 541, UpcallKind.SystemCall = 6), the
// FSGSBASE bit of InfoPage.CpuFeatures, and wall time (InfoPage.BootUnixNanoseconds at the TSC
// value InfoPage.BootTimestamp). Everything else reads Aegis.Abi directly.
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    internal static unsafe class KernelInterface
    {
        /// <summary>SystemCall.SetSystemCallUpcall (plan section 1).</summary>
        public const ulong SetSystemCallUpcall = 541;
        /// <summary>UpcallKind.SystemCall (plan section 1; linux.S's UPCALL_KIND_SYSTEM_CALL).</summary>
        public const UpcallKind SystemCallKind = (UpcallKind)6;

        /// <summary>Routes the program's `syscall`s (RAX below 512) to the upcall entry (0: stop).</summary>
        public static Error EnableSystemCallUpcall(ulong entry)
            => SystemCalls.Invoke(SetSystemCallUpcall, entry).Error;

        /// <summary>InfoPage.CpuFeatures bit 0: the kernel set CR4.FSGSBASE.</summary>
        public static bool HasFsGsBase => (Info.GlobalPage->CpuFeatures & CpuFeatureBits.FsGsBase) != 0;

        /// <summary>Wall time at boot (ns since the epoch) and the TSC at that moment; 0, 0 until the
        /// kernel reads the RTC (then CLOCK_REALTIME counts from the epoch at boot).</summary>
        public static ulong BootUnixNanoseconds => 0;
        public static ulong BootTimestamp => 0;
    }
}
