// The IDT: all 256 vectors point at the stubs in Arch/x86_64/interrupts.S (interrupt gates, so
// interrupts are off inside handlers). Vectors 0-31 are CPU exceptions, 32-47 the remapped
// legacy PIC lines, the rest are free. Double fault, NMI and machine check run on their own
// IST stacks (see GlobalDescriptorTable). Invariant: loaded once, after the GDT.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Aegis.Kernel.Hal
{
    internal static unsafe class InterruptDescriptorTable
    {
        public const int DivideError = 0, Debug = 1, Nmi = 2, Breakpoint = 3, Overflow = 4, BoundRange = 5,
            InvalidOpcode = 6, DeviceNotAvailable = 7, DoubleFault = 8, InvalidTss = 10, SegmentNotPresent = 11,
            StackSegmentFault = 12, GeneralProtection = 13, PageFault = 14, X87Floating = 16, AlignmentCheck = 17,
            MachineCheck = 18, SimdFloating = 19, Virtualization = 20, ControlProtection = 21;
        public const int FirstIrq = 32;
        public const int SpuriousVector = 0xFF;

        private static ulong[] s_entries;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_symbol_interrupt_stubs")]
        private static extern ulong* InterruptStubs();

        public static void Load()
        {
            s_entries = new ulong[256 * 2];
            ulong* stubs = InterruptStubs();
            for (int vector = 0; vector < 256; vector++)
            {
                int ist = vector == DoubleFault ? GlobalDescriptorTable.DoubleFaultStack
                    : vector == Nmi ? GlobalDescriptorTable.NmiStack
                    : vector == MachineCheck ? GlobalDescriptorTable.MachineCheckStack : 0;
                // Breakpoint may be raised from ring 3 (int3); every other gate is kernel-only.
                int privilege = vector == Breakpoint ? 3 : 0;
                SetGate(vector, stubs[vector], ist, privilege);
            }
            byte* pointer = stackalloc byte[10];
            fixed (ulong* entries = s_entries)
            {
                *(ushort*)pointer = (ushort)(s_entries.Length * 8 - 1);
                *(ulong*)(pointer + 2) = (ulong)entries;
                Cpu.LoadIdt(pointer);
            }
        }

        private static void SetGate(int vector, ulong handler, int ist, int privilege)
        {
            ulong type = 0x8E | ((ulong)privilege << 5); // present, 64-bit interrupt gate
            s_entries[vector * 2] = (handler & 0xFFFF)
                | ((ulong)GlobalDescriptorTable.KernelCode << 16)
                | ((ulong)ist << 32)
                | (type << 40)
                | ((handler >> 16) & 0xFFFF) << 48;
            s_entries[vector * 2 + 1] = handler >> 32;
        }

        public static string ExceptionName(ulong vector)
        {
            switch (vector)
            {
                case DivideError: return "divide error (#DE)";
                case Debug: return "debug (#DB)";
                case Nmi: return "non-maskable interrupt";
                case Breakpoint: return "breakpoint (#BP)";
                case Overflow: return "overflow (#OF)";
                case BoundRange: return "bound range exceeded (#BR)";
                case InvalidOpcode: return "invalid opcode (#UD)";
                case DeviceNotAvailable: return "device not available (#NM)";
                case DoubleFault: return "double fault (#DF)";
                case InvalidTss: return "invalid TSS (#TS)";
                case SegmentNotPresent: return "segment not present (#NP)";
                case StackSegmentFault: return "stack-segment fault (#SS)";
                case GeneralProtection: return "general protection fault (#GP)";
                case PageFault: return "page fault (#PF)";
                case X87Floating: return "x87 floating-point exception (#MF)";
                case AlignmentCheck: return "alignment check (#AC)";
                case MachineCheck: return "machine check (#MC)";
                case SimdFloating: return "SIMD floating-point exception (#XM)";
                case Virtualization: return "virtualization exception (#VE)";
                case ControlProtection: return "control protection exception (#CP)";
                default: return vector < 32 ? "reserved CPU exception " + vector.ToString() : "interrupt " + vector.ToString();
            }
        }
    }
}
