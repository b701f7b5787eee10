// Addresses the linker script (Boot/linker.ld) and boot stub (Boot/boot.S) define.
// ILC has no way to take a symbol's address directly, so tiny accessors in Boot/symbols.S return them.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Aegis.Kernel.Hal
{
    internal static unsafe class LinkerSymbols
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;

        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_modules_start")] public static extern nint* ModulesStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_modules_end")] public static extern nint* ModulesEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_early_heap_start")] public static extern byte* EarlyHeapStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_early_heap_end")] public static extern byte* EarlyHeapEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_text_start")] public static extern ulong TextStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_text_end")] public static extern ulong TextEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_rodata_start")] public static extern ulong RodataStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_rodata_end")] public static extern ulong RodataEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_data_start")] public static extern ulong DataStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_data_end")] public static extern ulong DataEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_kernel_physical_start")] public static extern ulong KernelPhysicalStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_kernel_physical_end")] public static extern ulong KernelPhysicalEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_stack_guard")] public static extern ulong StackGuard();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_stack_top")] public static extern ulong StackTop();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_tdata_start")] public static extern ulong TdataStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_tdata_end")] public static extern ulong TdataEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_tbss_end")] public static extern ulong TbssEnd();
    }
}
