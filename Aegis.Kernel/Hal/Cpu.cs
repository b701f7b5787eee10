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
        [MethodImpl(Import), RuntimeImport("*", "aegis_inw")] public static extern ushort InWord(ushort port);
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_cr0")] public static extern ulong ReadCr0();
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_cr2")] public static extern ulong ReadCr2();
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_cr3")] public static extern ulong ReadCr3();
        [MethodImpl(Import), RuntimeImport("*", "aegis_write_cr3")] public static extern void WriteCr3(ulong value);
        /// <summary>Every CR3 load (WriteCr3, and the switches' loads) adds one to *counter from now on.</summary>
        [MethodImpl(Import), RuntimeImport("*", "aegis_set_cr3_load_counter")] public static extern unsafe void SetCr3LoadCounter(ulong* counter);
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_cr4")] public static extern ulong ReadCr4();
        [MethodImpl(Import), RuntimeImport("*", "aegis_write_cr4")] public static extern void WriteCr4(ulong value);
        [MethodImpl(Import), RuntimeImport("*", "aegis_invlpg")] public static extern void InvalidatePage(ulong virtualAddress);
        [MethodImpl(Import), RuntimeImport("*", "aegis_zero_page")] public static extern unsafe void ZeroPage(void* page);
        [MethodImpl(Import), RuntimeImport("*", "aegis_copy_page")] public static extern unsafe void CopyPage(void* destination, void* source);
        [MethodImpl(Import), RuntimeImport("*", "aegis_scan_nonzero")] public static extern unsafe long ScanNonzero(ulong* table, long index, long limit);
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
        /// <summary>PAUSE: a spin loop's hint (Exo/NetworkDevices.WatchWhileIdle).</summary>
        [MethodImpl(Import), RuntimeImport("*", "aegis_pause")] public static extern void Pause();
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
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_smap_redirect_sites")] private static extern byte** SmapRedirectSites();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_user_base_patches")] private static extern byte** UserBasePatches();
        [MethodImpl(Import), RuntimeImport("*", "aegis_save_user_bases")] public static extern void SaveUserBases(ulong* bases, ulong kernelFsBase);
        /// <summary>Enters an environment from the loop: CR3 = root (unless it already is), the per-CPU
        /// block's word 2 = counters, FS and GS bases = nextBases.</summary>
        [MethodImpl(Import), RuntimeImport("*", "aegis_enter_environment")] public static extern void EnterEnvironment(ulong* nextBases, ulong* counters, ulong root);
        /// <summary>EnterEnvironment after saving the live FS and GS bases into previousBases.</summary>
        [MethodImpl(Import), RuntimeImport("*", "aegis_switch_environment")] public static extern void SwitchEnvironment(ulong* previousBases, ulong* nextBases, ulong* counters, ulong root);
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_fs_base")] public static extern ulong ReadFsBase();
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_gs_base")] public static extern ulong ReadGsBase();
        /// <summary>The running program's GS base as a fast-path system-call handler sees it: inside
        /// usermode.S's swapgs window it is in KERNEL_GS_BASE (the GS base register holds the per-CPU
        /// block). Everywhere else (slow path, interrupts, the loop) use ReadGsBase.</summary>
        [MethodImpl(Import), RuntimeImport("*", "aegis_read_kernel_gs_base")] public static extern ulong ReadProgramGsBaseInFastPath();

        /// <summary>CR4.FSGSBASE is on: ring 3 may read and write its FS and GS bases itself
        /// (InfoPage.CpuFeatures, CpuFeatureBits.FsGsBase).</summary>
        public static bool FsGsBaseEnabled { get; private set; }

        /// <summary>RFLAGS.AC: with SMAP on, set means the kernel may touch user pages.</summary>
        public const ulong FlagsAlignmentCheck = 1UL << 18;

        private const ulong Cr4PageGlobal = 1UL << 7, Cr4Umip = 1UL << 11, Cr4FsGsBase = 1UL << 16, Cr4Smep = 1UL << 20, Cr4Smap = 1UL << 21;
        private const uint Leaf7EbxFsGsBase = 1u << 0, Leaf7EbxSmep = 1u << 7, Leaf7EbxSmap = 1u << 20, Leaf7EcxUmip = 1u << 2;

        /// <summary>CR4.UMIP: sgdt, sidt, sldt, str and smsw raise #GP in ring 3.</summary>
        public static bool UserModeInstructionPreventionEnabled => (ReadCr4() & Cr4Umip) != 0;

        /// <summary>CR4.SMAP: the kernel cannot touch user pages (unless RFLAGS.AC is set, which every
        /// kernel entry clears: SFMASK for syscall, clac in interrupt_common).</summary>
        public static bool SupervisorAccessPreventionEnabled => (ReadCr4() & Cr4Smap) != 0;

        /// <summary>Global kernel pages survive address-space switches (PGE); the kernel can neither
        /// run (SMEP) nor touch (SMAP) user pages, which it reaches only through the direct map;
        /// ring 3 cannot read the descriptor-table registers or the machine status word (UMIP).
        /// Each feature the CPU reports is turned on. Also FSGSBASE (ring 3 may set its own FS and GS
        /// bases; the scheduler keeps them per environment with rdfsbase/wrfsbase, or through the
        /// MSRs on a CPU without it: the save/load functions are patched to their MSR twins).
        /// Call once, with interrupts off, after the kernel's own page tables (the direct map) are live.</summary>
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
            if ((registers[1] & Leaf7EbxFsGsBase) != 0)
            {
                cr4 |= Cr4FsGsBase;
                FsGsBaseEnabled = true;
            }
            else
                UseMsrsForUserBases();
            WriteCr4(cr4);
        }

        /// <summary>No FSGSBASE: rdfsbase and friends are #UD in the kernel too, so each of
        /// aegis_save_user_bases, aegis_enter_environment and aegis_switch_environment (cpu.S) gets a
        /// jmp to its MSR twin over the instruction at its user_bases_site_* (at least 5 bytes long).</summary>
        private static void UseMsrsForUserBases()
        {
            byte** patches = UserBasePatches();
            for (int i = 0; i < 3; i++)
            {
                byte* site = patches[2 * i];
                byte* twin = patches[2 * i + 1];
                byte* alias = TextAlias(site);
                int displacement = (int)(twin - (site + 5));
                alias[0] = 0xE9;
                *(int*)(alias + 1) = displacement;
            }
            uint* registers = stackalloc uint[4];
            CpuId(0, 0, registers);
        }

        private static byte* TextAlias(byte* site) => (byte*)KernelMemory.PhysicalToVirtual((ulong)site - KernelMemory.KernelImageBase);

        /// <summary>interrupt_common and machine_event_common (Arch/x86_64/interrupts.S) start with a
        /// three-byte nop, because clac is #UD on a CPU without SMAP; with SMAP it must be clac (an
        /// interrupt gate leaves a ring-3 program's AC set, and AC set would lift SMAP in the kernel).
        /// The kernel text is read-only in its own mapping: the bytes are rewritten through the direct
        /// map, then CPUID serializes so the new instruction is the one fetched.</summary>
        private static void EnableClacOnInterruptEntry()
        {
            PatchNopToClac(SmapEntrySite());
            PatchNopToClac(SmapMachineEventSite());
            // The system-call upcall's frame writes (usermode.S, aegis_syscall_redirect): stac before,
            // clac after, and clac where a fault in them resumes.
            byte** redirect = SmapRedirectSites();
            PatchNop(redirect[0], 0xCB);
            PatchNopToClac(redirect[1]);
            PatchNopToClac(redirect[2]);
            uint* registers = stackalloc uint[4];
            CpuId(0, 0, registers);
        }

        private static void PatchNopToClac(byte* site) => PatchNop(site, 0xCA);

        /// <summary>nopl (0f 1f 00) to clac (0f 01 ca) or stac (0f 01 cb).</summary>
        private static void PatchNop(byte* site, byte last)
        {
            byte* alias = TextAlias(site);
            if (alias[0] != 0x0F || alias[1] != 0x1F || alias[2] != 0x00)
                Diagnostics.Panic.Fail("SMAP", "a clac/stac site does not hold the expected nopl (0f 1f 00)");
            alias[1] = 0x01;                    // 0f 01 ca: clac; 0f 01 cb: stac
            alias[2] = last;
        }
    }
}
