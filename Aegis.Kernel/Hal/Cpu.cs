// The CPU instructions C# cannot express, implemented in Boot/cpu.S and called by symbol.
// This is the whole of the kernel's assembly surface: keep it small and obvious.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Aegis.Kernel.Hal
{
    internal static unsafe class Cpu
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;

        [MethodImpl(Import), RuntimeImport("*", "aegis_outb")] public static extern void OutByte(ushort port, byte value);
        [MethodImpl(Import), RuntimeImport("*", "aegis_inb")] public static extern byte InByte(ushort port);
        [MethodImpl(Import), RuntimeImport("*", "aegis_outw")] public static extern void OutWord(ushort port, ushort value);
        [MethodImpl(Import), RuntimeImport("*", "aegis_outl")] public static extern void OutDword(ushort port, uint value);
        [MethodImpl(Import), RuntimeImport("*", "aegis_inl")] public static extern uint InDword(ushort port);
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_cr0")] public static extern ulong ReadCr0();
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_cr2")] public static extern ulong ReadCr2();
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_cr3")] public static extern ulong ReadCr3();
        [MethodImpl(Import), RuntimeImport("*", "aegis_write_cr3")] public static extern void WriteCr3(ulong value);
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_cr4")] public static extern ulong ReadCr4();
        [MethodImpl(Import), RuntimeImport("*", "aegis_write_cr4")] public static extern void WriteCr4(ulong value);
        [MethodImpl(Import), RuntimeImport("*", "aegis_invlpg")] public static extern void InvalidatePage(ulong virtualAddress);
        [MethodImpl(Import), RuntimeImport("*", "aegis_rdtsc")] public static extern ulong ReadTimestampCounter();
        [MethodImpl(Import), RuntimeImport("*", "aegis_rdmsr")] public static extern ulong ReadMsr(uint msr);
        [MethodImpl(Import), RuntimeImport("*", "aegis_wrmsr")] public static extern void WriteMsr(uint msr, ulong value);
        [MethodImpl(Import), RuntimeImport("*", "aegis_cpuid")] public static extern void CpuId(uint leaf, uint subleaf, uint* registers);
        [MethodImpl(Import), RuntimeImport("*", "aegis_lgdt")] public static extern void LoadGdt(void* pointer);
        [MethodImpl(Import), RuntimeImport("*", "aegis_lidt")] public static extern void LoadIdt(void* pointer);
        [MethodImpl(Import), RuntimeImport("*", "aegis_ltr")] public static extern void LoadTaskRegister(ushort selector);
        [MethodImpl(Import), RuntimeImport("*", "aegis_reload_segments")] public static extern void ReloadSegments(ushort code, ushort data);
        [MethodImpl(Import), RuntimeImport("*", "aegis_enable_interrupts")] public static extern void EnableInterrupts();
        [MethodImpl(Import), RuntimeImport("*", "aegis_disable_interrupts")] public static extern void DisableInterrupts();
        [MethodImpl(Import), RuntimeImport("*", "aegis_halt")] public static extern void Halt();
        [MethodImpl(Import), RuntimeImport("*", "aegis_halt_forever")] public static extern void HaltForever();
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_rbp")] public static extern ulong ReadFramePointer();
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_rsp")] public static extern ulong ReadStackPointer();
        [MethodImpl(Import), RuntimeImport("*", "aegis_write_fs_base")] public static extern void WriteFsBase(ulong value);
        [MethodImpl(Import), RuntimeImport("*", "aegis_breakpoint")] public static extern void Breakpoint();
        [MethodImpl(Import), RuntimeImport("*", "aegis_fxsave")] public static extern void FxSave(void* area);
        [MethodImpl(Import), RuntimeImport("*", "aegis_fxrstor")] public static extern void FxRestore(void* area);
    }
}
