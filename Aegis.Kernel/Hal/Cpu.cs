// The CPU instructions C# cannot express, implemented in Arch/x86_64/cpu.S and called by symbol,
// and the control-register features the kernel turns on (EnableProtectionFeatures).
// This is the whole of the kernel's CPU surface: keep it small and obvious.
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
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_rflags")] public static extern ulong ReadFlags();
        [MethodImpl(Import), RuntimeImport("*", "aegis_breakpoint")] public static extern void Breakpoint();
        [MethodImpl(Import), RuntimeImport("*", "aegis_fxsave")] public static extern void FxSave(void* area);
        [MethodImpl(Import), RuntimeImport("*", "aegis_fxrstor")] public static extern void FxRestore(void* area);
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_smap_entry_site")] private static extern byte* SmapEntrySite();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_smap_machine_event_site")] private static extern byte* SmapMachineEventSite();

        /// <summary>RFLAGS.AC: with SMAP on, set means the kernel may touch user pages.</summary>
        public const ulong FlagsAlignmentCheck = 1UL << 18;

        private const ulong Cr4PageGlobal = 1UL << 7, Cr4Umip = 1UL << 11, Cr4Smep = 1UL << 20, Cr4Smap = 1UL << 21;
        private const uint Leaf7EbxSmep = 1u << 7, Leaf7EbxSmap = 1u << 20, Leaf7EcxUmip = 1u << 2;

        /// <summary>CR4.UMIP: sgdt, sidt, sldt, str and smsw raise #GP in ring 3.</summary>
        public static bool UserModeInstructionPreventionEnabled => (ReadCr4() & Cr4Umip) != 0;

        /// <summary>CR4.SMAP: the kernel cannot touch user pages (unless RFLAGS.AC is set, which every
        /// kernel entry clears: SFMASK for syscall, clac in interrupt_common).</summary>
        public static bool SupervisorAccessPreventionEnabled => (ReadCr4() & Cr4Smap) != 0;

        /// <summary>Global kernel pages survive address-space switches (PGE); the kernel can neither
        /// run (SMEP) nor touch (SMAP) user pages, which it reaches only through the direct map;
        /// ring 3 cannot read the descriptor-table registers or the machine status word (UMIP).
        /// Each feature the CPU reports is turned on. Call once, with interrupts off, after the
        /// kernel's own page tables (the direct map) are live.</summary>
        public static void EnableProtectionFeatures()
        {
            uint* registers = stackalloc uint[4];
            CpuId(7, 0, registers);
            ulong cr4 = ReadCr4() | Cr4PageGlobal;
            if ((registers[1] & Leaf7EbxSmep) != 0) cr4 |= Cr4Smep;
            if ((registers[2] & Leaf7EcxUmip) != 0) cr4 |= Cr4Umip;
            if ((registers[1] & Leaf7EbxSmap) != 0)
            {
                EnableClacOnInterruptEntry();
                cr4 |= Cr4Smap;
            }
            WriteCr4(cr4);
        }

        /// <summary>interrupt_common and machine_event_common (Arch/x86_64/interrupts.S) start with a
        /// three-byte nop, because clac is #UD on a CPU without SMAP; with SMAP it must be clac (an
        /// interrupt gate leaves a ring-3 program's AC set, and AC set would lift SMAP in the kernel).
        /// The kernel text is read-only in its own mapping: the bytes are rewritten through the direct
        /// map, then CPUID serializes so the new instruction is the one fetched.</summary>
        private static void EnableClacOnInterruptEntry()
        {
            PatchNopToClac(SmapEntrySite());
            PatchNopToClac(SmapMachineEventSite());
            uint* registers = stackalloc uint[4];
            CpuId(0, 0, registers);
        }

        private static void PatchNopToClac(byte* site)
        {
            byte* alias = (byte*)KernelMemory.PhysicalToVirtual((ulong)site - KernelMemory.KernelImageBase);
            if (alias[0] != 0x0F || alias[1] != 0x1F || alias[2] != 0x00)
                Diagnostics.Panic.Fail("SMAP", "an interrupt entry does not start with the expected nopl (0f 1f 00)");
            alias[1] = 0x01;                    // 0f 01 ca: clac
            alias[2] = 0xCA;
        }
    }
}
