// Helpers ILC's generated IL (multi-dimensional array accessors) calls by name.
using Internal.Runtime;

namespace System.Runtime
{
    internal static unsafe class RuntimeImports
    {
        /// <summary>Array covariance check before storing a reference into an array.</summary>
        internal static void RhCheckArrayStore(object array, object obj)
        {
            if (obj == null)
                return;
            MethodTable* elementType = array.GetMethodTable()->RelatedParameterType;
            if (obj.GetMethodTable() != elementType && !TypeCast.IsObjectType(elementType) && !TypeCast.AreTypesAssignable(obj.GetMethodTable(), elementType))
                throw new ArrayTypeMismatchException();
        }
    }
}
