// The entry points of Native/linux.S, for C# (ILC cannot take a symbol's address directly, so
// accessors return the addresses C# needs).
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    internal static unsafe class LinuxNative
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;

        [MethodImpl(Import), RuntimeImport("*", "linux_configure")] public static extern void Configure(ulong libosFs, ulong hasFsGsBase, ulong setFsBaseNumber);
        /// <summary>Starts the program in the state given (never returns).</summary>
        [MethodImpl(Import), RuntimeImport("*", "linux_enter")] public static extern void Enter(UpcallFrame* state);
        [MethodImpl(Import), RuntimeImport("*", "linux_thread_pointer")] public static extern ulong ThreadPointer();
        [MethodImpl(Import), RuntimeImport("*", "linux_rdtsc")] public static extern ulong Rdtsc();
        [MethodImpl(Import), RuntimeImport("*", "linux_cpuid")] public static extern void Cpuid(uint leaf, uint subleaf, uint* registers);
        [MethodImpl(Import), RuntimeImport("*", "linux_rdrand")] public static extern int Rdrand(ulong* value);
        [MethodImpl(Import), RuntimeImport("*", "linux_rdseed")] public static extern int Rdseed(ulong* value);
        [MethodImpl(Import), RuntimeImport("*", "linux_wrgsbase")] public static extern void WriteGsBase(ulong value);
        [MethodImpl(Import), RuntimeImport("*", "linux_rdgsbase")] public static extern ulong ReadGsBase();
        /// <summary>Signals' FP moves (SignalFrame.SwitchFpToHandler, RestoreFp).</summary>
        [MethodImpl(Import), RuntimeImport("*", "linux_fp_to_frame")] public static extern void FpToFrame(byte* area, byte* frameFp);
        [MethodImpl(Import), RuntimeImport("*", "linux_fp_from_frame")] public static extern void FpFromFrame(byte* area, byte* frameFp);
        [MethodImpl(Import), RuntimeImport("*", "linux_symbol_upcall_entry")] public static extern ulong UpcallEntry();
        [MethodImpl(Import), RuntimeImport("*", "linux_symbol_image_start")] public static extern ulong ImageStart();
        [MethodImpl(Import), RuntimeImport("*", "linux_symbol_image_end")] public static extern ulong ImageEnd();
    }
}
