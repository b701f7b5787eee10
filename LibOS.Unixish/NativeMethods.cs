// The entry points of Native/unixish.S, for C#. ILC cannot take a symbol's address directly, so
// tiny accessors return the addresses C# needs.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Aegis.LibOS.Unixish
{
    internal static unsafe class NativeMethods
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;

        /// <summary>setjmp for fork: 0 after saving; 1 when a child resumes from the context.</summary>
        [MethodImpl(Import), RuntimeImport("*", "unixish_fork_capture")] public static extern long ForkCapture(ForkContext* context);

        [MethodImpl(Import), RuntimeImport("*", "unixish_copy_page")] public static extern void CopyPage(void* destination, void* source);

        [MethodImpl(Import), RuntimeImport("*", "unixish_symbol_fork_child_entry")] public static extern ulong ForkChildEntry();
        [MethodImpl(Import), RuntimeImport("*", "unixish_symbol_image_start")] public static extern ulong ImageStart();
        [MethodImpl(Import), RuntimeImport("*", "unixish_symbol_image_end")] public static extern ulong ImageEnd();
    }
}
