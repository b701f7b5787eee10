// The kernel's stacks: all static (in the image's .bss, never the heap, so they exist before
// and whatever happens to the heap), each with an unmapped guard page right below it, so an
// overflow faults instead of running into whatever lies below:
//   - the boot stack the scheduler loop runs on (256 KiB; Boot/boot.S, kernel_stack_*);
//   - the trap stack (64 KiB): entries from ring 3, system calls included (Boot/usermode.S);
//   - the IST stacks (32 KiB each) for double faults, NMIs and machine checks (usermode.S,
//     aegis_ist_stacks: guard, stack, guard, stack, guard, stack).
// KernelMemory.Initialize unmaps every guard page; the panic report names a fault in one as a
// kernel stack overflow and walks frames only within these stacks.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Aegis.Kernel.Hal
{
    internal static class KernelStacks
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        public const ulong PageSize = 4096;
        public const ulong TrapStackSize = 65536;
        public const ulong IstStackSize = 32768;
        public const int IstStackCount = 3;

        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_trap_stack_guard")] public static extern ulong TrapStackGuard();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_ist_stacks")] private static extern ulong IstStacks();

        /// <summary>The guard page under IST stack 'index' (1..3).</summary>
        public static ulong IstGuard(int index) => IstStacks() + (ulong)(index - 1) * (PageSize + IstStackSize);
        public static ulong IstBottom(int index) => IstGuard(index) + PageSize;
        public static ulong IstTop(int index) => IstBottom(index) + IstStackSize;
        public static ulong TrapStackBottom => TrapStackGuard() + PageSize;
        public static ulong TrapStackTop => TrapStackBottom + TrapStackSize;

        /// <summary>True when the address lies in one of the guard pages.</summary>
        public static bool IsGuard(ulong address)
        {
            if (InPage(address, LinkerSymbols.StackGuard()) || InPage(address, TrapStackGuard())) return true;
            for (int i = 1; i <= IstStackCount; i++)
                if (InPage(address, IstGuard(i))) return true;
            return false;
        }

        /// <summary>True when [address, address + length) lies within one of the stacks.</summary>
        public static bool Contains(ulong address, ulong length)
        {
            if (Within(address, length, LinkerSymbols.StackGuard() + PageSize, LinkerSymbols.StackTop())) return true;
            if (Within(address, length, TrapStackBottom, TrapStackTop)) return true;
            for (int i = 1; i <= IstStackCount; i++)
                if (Within(address, length, IstBottom(i), IstTop(i))) return true;
            return false;
        }

        private static bool InPage(ulong address, ulong page) => address >= page && address < page + PageSize;
        private static bool Within(ulong address, ulong length, ulong bottom, ulong top) => address >= bottom && address + length <= top;
    }
}
