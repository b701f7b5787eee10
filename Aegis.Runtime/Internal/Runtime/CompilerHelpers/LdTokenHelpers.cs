// What 'ldtoken' turns into when a handle is needed as a value (typeof(T), field handles for
// array initialisers the compiler did not expand). ILC looks these up by name.
using System;

namespace Internal.Runtime.CompilerHelpers
{
    internal static unsafe class LdTokenHelpers
    {
        private static RuntimeTypeHandle GetRuntimeTypeHandle(IntPtr methodTable) => new RuntimeTypeHandle(methodTable);

        private static Type GetRuntimeType(IntPtr methodTable) => Type.FromMethodTable((MethodTable*)methodTable);

        private static RuntimeMethodHandle GetRuntimeMethodHandle(IntPtr handle) => new RuntimeMethodHandle(handle);

        private static RuntimeFieldHandle GetRuntimeFieldHandle(IntPtr handle) => new RuntimeFieldHandle(handle);
    }
}
