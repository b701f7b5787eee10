// The kernel's GDT and TSS. Selectors (fixed: the syscall/sysret MSR layout depends on them):
//   0x08 kernel code (64-bit), 0x10 kernel data, 0x18 user data, 0x20 user code (64-bit), 0x28 TSS.
// The TSS gives the CPU known-good stacks (IST) for faults that must work even when the
// current stack is broken: IST1 double fault (a kernel stack overflow ends there),
// IST2 NMI, IST3 machine check. The IST stacks are static, with guard pages (Hal/KernelStacks.cs).
// Invariant: loaded once at boot, before the IDT; the tables live in static arrays that never move.
namespace Aegis.Kernel.Hal
{
    internal static unsafe class GlobalDescriptorTable
    {
        public const ushort KernelCode = 0x08;
        public const ushort KernelData = 0x10;
        public const ushort UserData = 0x18;
        public const ushort UserCode = 0x20;
        public const ushort TaskState = 0x28;

        public const int DoubleFaultStack = 1;
        public const int NmiStack = 2;
        public const int MachineCheckStack = 3;

        private static ulong[] s_entries;
        private static byte[] s_taskState;

        public static void Load()
        {
            s_entries = new ulong[7];
            s_entries[0] = 0;
            s_entries[1] = 0x00AF9A000000FFFF; // kernel code: present, DPL 0, executable, long mode
            s_entries[2] = 0x00CF92000000FFFF; // kernel data: present, DPL 0, writable
            s_entries[3] = 0x00CFF2000000FFFF; // user data: present, DPL 3, writable
            s_entries[4] = 0x00AFFA000000FFFF; // user code: present, DPL 3, executable, long mode

            s_taskState = new byte[104];
            for (int i = 1; i <= KernelStacks.IstStackCount; i++)
                SetTaskStateQword(0x24 + (i - 1) * 8, KernelStacks.IstTop(i) & ~15UL);
            fixed (byte* state = s_taskState)
                *(ushort*)(state + 0x66) = 104; // I/O map base at the limit: no port access from ring 3

            ulong tss;
            fixed (byte* state = s_taskState)
                tss = (ulong)state;
            ulong limit = 104 - 1;
            s_entries[5] = (limit & 0xFFFF) | ((tss & 0xFFFFFF) << 16) | (0x89UL << 40) | ((tss >> 24) & 0xFF) << 56;
            s_entries[6] = tss >> 32;

            byte* pointer = stackalloc byte[10];
            fixed (ulong* entries = s_entries)
            {
                *(ushort*)pointer = (ushort)(s_entries.Length * 8 - 1);
                *(ulong*)(pointer + 2) = (ulong)entries;
                Cpu.LoadGdt(pointer);
            }
            Cpu.ReloadSegments(KernelCode, KernelData);
            Cpu.LoadTaskRegister(TaskState);
        }

        /// <summary>The stack the CPU switches to on an interrupt from ring 3.</summary>
        public static void SetKernelStackForUserInterrupts(ulong stackTop) => SetTaskStateQword(0x04, stackTop);

        public static ulong IstStackBottom(int index) => KernelStacks.IstBottom(index);

        private static void SetTaskStateQword(int offset, ulong value)
        {
            fixed (byte* state = s_taskState)
                *(ulong*)(state + offset) = value;
        }
    }
}
