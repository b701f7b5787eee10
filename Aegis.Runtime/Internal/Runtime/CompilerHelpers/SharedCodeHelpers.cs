// Helpers for ILC's instantiating stubs: a default interface method compiled once for all
// reference-type instantiations needs the exact interface type as a hidden argument; the stub
// takes it from the object's interface map.
namespace Internal.Runtime.CompilerHelpers
{
    internal static unsafe class SharedCodeHelpers
    {
        public static MethodTable* GetOrdinalInterface(MethodTable* pType, ushort interfaceIndex) => pType->InterfaceMap[interfaceIndex];

        // Only used with types built at run time (a type loader), which Aegis does not have.
        public static MethodTable* GetCurrentSharedThunkContext()
        {
            RuntimeHost.Fail(null, "System.NotSupportedException", "Shared-code thunk context requested: types built at run time are not supported.");
            return null;
        }
    }
}
