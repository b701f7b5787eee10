// Type names for failure reports. An app image carries no symbol table at run time (the kernel's
// panic reports use one; apps have only their .sym beside the ELF), so the runtime's exception
// types are named from their MethodTables here; other types print as Type@0x<address>.
using System;

namespace Aegis.LibOS
{
    internal static class TypeNames
    {
        internal static string Resolve(nint methodTable)
        {
            if (Is(typeof(NullReferenceException).TypeHandle, methodTable)) return "System.NullReferenceException";
            if (Is(typeof(IndexOutOfRangeException).TypeHandle, methodTable)) return "System.IndexOutOfRangeException";
            if (Is(typeof(InvalidCastException).TypeHandle, methodTable)) return "System.InvalidCastException";
            if (Is(typeof(ArgumentNullException).TypeHandle, methodTable)) return "System.ArgumentNullException";
            if (Is(typeof(ArgumentOutOfRangeException).TypeHandle, methodTable)) return "System.ArgumentOutOfRangeException";
            if (Is(typeof(ArgumentException).TypeHandle, methodTable)) return "System.ArgumentException";
            if (Is(typeof(InvalidOperationException).TypeHandle, methodTable)) return "System.InvalidOperationException";
            if (Is(typeof(NotSupportedException).TypeHandle, methodTable)) return "System.NotSupportedException";
            if (Is(typeof(NotImplementedException).TypeHandle, methodTable)) return "System.NotImplementedException";
            if (Is(typeof(DivideByZeroException).TypeHandle, methodTable)) return "System.DivideByZeroException";
            if (Is(typeof(OverflowException).TypeHandle, methodTable)) return "System.OverflowException";
            if (Is(typeof(OutOfMemoryException).TypeHandle, methodTable)) return "System.OutOfMemoryException";
            if (Is(typeof(FormatException).TypeHandle, methodTable)) return "System.FormatException";
            if (Is(typeof(ArrayTypeMismatchException).TypeHandle, methodTable)) return "System.ArrayTypeMismatchException";
            if (Is(typeof(System.Collections.Generic.KeyNotFoundException).TypeHandle, methodTable)) return "System.Collections.Generic.KeyNotFoundException";
            if (Is(typeof(Exception).TypeHandle, methodTable)) return "System.Exception";
            return null;
        }

        private static bool Is(RuntimeTypeHandle type, nint methodTable) => type.Value == methodTable;
    }
}
