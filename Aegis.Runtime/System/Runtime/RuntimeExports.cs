// Helpers that ILC-generated code calls by symbol name: allocation entry points, write barriers,
// boxing, and the unmanaged-transition stubs (no-ops: the collector runs only on the allocating
// thread, at an allocation, so there is nothing to coordinate with).
// Helpers with a register-level contract (RhpByRefAssignRef, interlocked operations, stack
// probes, interface dispatch stubs, TLS) are in Native/runtime.S; throwing (RhpThrowEx,
// RhpRethrow, RhpThrowHwEx) is in Native/eh.S and Internal/Runtime/ExceptionHandling.
// ILC also looks some of them up by name in this class (System.Runtime.RuntimeExports): RhBox,
// RhUnbox2, RhUnboxNullable, RhUnboxTypeTest.
using Internal.Runtime;
using System.Runtime.CompilerServices;

namespace System.Runtime
{
    internal static unsafe class RuntimeExports
    {
        // Allocation: RhpNewFast, RhpNewArray (and its aliases RhpNewArrayFast, RhpNewPtrArrayFast,
        // RhNewString, RhNewArray) are in Native/gc.S with their slow path in Internal/Runtime/Heap.cs.
        // RhpNewFinalizable is deliberately missing: a type with a finalizer is a build error
        // (Cosmos.targets names it), since the collector runs no finalizers (docs/runtime.md).

        [RuntimeExport("RhAllocateNewObject")]
        private static void RhAllocateNewObject(MethodTable* methodTable, uint flags, void* result)
            => *(object*)result = Heap.AllocateObject(methodTable, methodTable->BaseSize);

        // Write barriers: the collector is neither generational nor concurrent, so a reference store is a plain store.
        [RuntimeExport("RhpAssignRef")]
        private static void RhpAssignRef(void** location, void* value) => *location = value;

        [RuntimeExport("RhpCheckedAssignRef")]
        private static void RhpCheckedAssignRef(void** location, void* value) => *location = value;

        [RuntimeExport("RhBox")]
        private static object RhBox(MethodTable* methodTable, ref byte data) => Box(methodTable, ref data);

        internal static object Box(MethodTable* methodTable, ref byte data)
        {
            if (methodTable->IsNullable)
            {
                // A Nullable<T> boxes to null or to a boxed T; its bool flag comes first.
                if (data == 0) return null;
                return Box(methodTable->NullableType, ref Unsafe.Add(ref data, methodTable->NullableValueOffset));
            }
            object result = Heap.AllocateObject(methodTable, methodTable->BaseSize);
            Buffer.Memmove(ref result.GetRawData(), ref data, methodTable->ValueTypeSize);
            return result;
        }

        [RuntimeExport("RhUnboxAny")]
        private static void RhUnboxAny(object obj, ref byte data, MethodTable* methodTable)
        {
            if (methodTable->IsValueType)
            {
                if (methodTable->IsNullable)
                {
                    RhUnboxNullable(ref data, methodTable, obj);
                    return;
                }
                if (obj == null || obj.GetMethodTable() != methodTable && !TypeCast.AreEquivalentPrimitives(obj.GetMethodTable(), methodTable))
                    throw new InvalidCastException();
                Buffer.Memmove(ref data, ref obj.GetRawData(), methodTable->ValueTypeSize);
            }
            else
            {
                object checkedObject = TypeCast.CheckCastAny(methodTable, obj);
                Unsafe.As<byte, object>(ref data) = checkedObject;
            }
        }

        [RuntimeExport("RhUnboxNullable")]
        internal static void RhUnboxNullable(ref byte data, MethodTable* methodTable, object obj)
        {
            MethodTable* inner = methodTable->NullableType;
            Buffer.ZeroMemory(ref data, methodTable->ValueTypeSize);
            if (obj == null)
                return;
            if (obj.GetMethodTable() != inner && !TypeCast.AreEquivalentPrimitives(obj.GetMethodTable(), inner))
                throw new InvalidCastException();
            data = 1;
            Buffer.Memmove(ref Unsafe.Add(ref data, methodTable->NullableValueOffset), ref obj.GetRawData(), inner->ValueTypeSize);
        }

        [RuntimeExport("RhUnboxTypeTest")]
        private static void RhUnboxTypeTest(MethodTable* type, MethodTable* boxType)
        {
            if (type != boxType && !TypeCast.AreEquivalentPrimitives(type, boxType))
                throw new InvalidCastException();
        }

        [RuntimeExport("RhUnbox2")]
        private static ref byte RhUnbox2(MethodTable* methodTable, object obj)
        {
            if (obj == null || (obj.GetMethodTable() != methodTable && !TypeCast.AreEquivalentPrimitives(obj.GetMethodTable(), methodTable)))
                throw new InvalidCastException();
            return ref obj.GetRawData();
        }

        [RuntimeExport("RhpFallbackFailFast")]
        private static void RhpFallbackFailFast() => RuntimeHost.Fail(null, "FailFast", "the runtime hit an unrecoverable state");

        [RuntimeExport("RhpReversePInvoke")]
        private static void RhpReversePInvoke(void* frame) { }

        [RuntimeExport("RhpReversePInvokeReturn")]
        private static void RhpReversePInvokeReturn(void* frame) { }

        [RuntimeExport("RhpPInvoke")]
        private static void RhpPInvoke(void* frame) { }

        [RuntimeExport("RhpPInvokeReturn")]
        private static void RhpPInvokeReturn(void* frame) { }

        [RuntimeExport("RhpGcPoll")]
        private static void RhpGcPoll() { }

        [RuntimeExport("RhGetRuntimeHelperForType")]
        private static void* RhGetRuntimeHelperForType(MethodTable* type, int helper) => null;
    }
}
