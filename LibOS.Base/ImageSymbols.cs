// Addresses defined by the app linker script (Native/app.ld) and Native/libos.S. ILC cannot take
// a symbol's address directly, so tiny accessors in libos.S return them.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Aegis.LibOS
{
    internal static unsafe class ImageSymbols
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;

        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_upcall_entry")] public static extern ulong UpcallEntry();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_modules_start")] public static extern nint* ModulesStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_modules_end")] public static extern nint* ModulesEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_tdata_start")] public static extern nint TdataStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_tdata_end")] public static extern nint TdataEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_tbss_end")] public static extern nint TbssEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_image_start")] public static extern ulong ImageStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_image_end")] public static extern ulong ImageEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_initial_heap_start")] public static extern byte* InitialHeapStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_initial_heap_end")] public static extern byte* InitialHeapEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_fiber_start")] public static extern ulong FiberStart();
    }
}
