// Generic virtual methods (a virtual or interface method with its own type parameters, called
// where the compiler cannot tell the target) need a run-time type loader to find the
// instantiated target; Aegis has none. ILC calls GVMLookupForSlot only from such call sites, so
// referencing a symbol nobody defines turns every use into a link-time error that names the
// feature ("Missing runtime helpers: Aegis_Unsupported_GenericVirtualMethodCall").
using System.Runtime.CompilerServices;

namespace System.Runtime
{
    internal static class TypeLoaderExports
    {
        [MethodImpl(MethodImplOptions.InternalCall)]
        [RuntimeImport("*", "Aegis_Unsupported_GenericVirtualMethodCall")]
        private static extern IntPtr UnsupportedGenericVirtualMethodCall();

        public static IntPtr GVMLookupForSlot(object obj, RuntimeMethodHandle slot) => UnsupportedGenericVirtualMethodCall();
    }
}
