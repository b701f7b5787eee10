// Casting helpers that ILC calls by name for 'is', 'as', casts and array stores.
// Invariant: a cast succeeds only if the object's type is the target, derives from it,
// implements it (interfaces are listed flat in every MethodTable's interface map), or is an
// array whose element type is assignable by reference (array covariance).
// Generic variance (IEnumerable<Derived> as IEnumerable<Base>, Func<Derived> as Func<Base>) is
// not supported: a cast that could only succeed through variance ends in a panic that says so,
// rather than answering differently from .NET.
using Internal.Runtime;
using System.Runtime.CompilerServices;

namespace System.Runtime
{
    internal static unsafe class TypeCast
    {
        internal static bool AreEquivalentPrimitives(MethodTable* a, MethodTable* b)
        {
            // int <-> enum of int, etc.: same element type and size.
            return a->IsPrimitive && b->IsPrimitive && a->ElementType == b->ElementType;
        }

        /// <summary>Type identity (there is no type equivalence without COM interop).</summary>
        internal static bool AreTypesEquivalent(MethodTable* a, MethodTable* b) => a == b;

        internal static bool IsObjectType(MethodTable* type)
            => type->BaseType == null && !type->IsInterface && !type->IsParameterized && !type->IsValueType && type->ElementType == ElementType.Class;

        internal static bool AreTypesAssignable(MethodTable* source, MethodTable* target)
        {
            if (source == target)
                return true;
            if (target->IsInterface)
                return ImplementsInterface(source, target);
            if (source->IsArray)
            {
                if (target->ElementType == ElementType.SystemArray || IsObjectType(target))
                    return true;
                if (!target->IsArray || source->ElementType != target->ElementType)
                    return false;
                MethodTable* sourceElement = source->RelatedParameterType;
                MethodTable* targetElement = target->RelatedParameterType;
                if (sourceElement == targetElement)
                    return true;
                if (sourceElement->IsValueType || targetElement->IsValueType)
                    return sourceElement->IsPrimitive && AreEquivalentPrimitives(sourceElement, targetElement);
                return AreTypesAssignable(sourceElement, targetElement);
            }
            for (MethodTable* type = source->BaseType; type != null; type = type->BaseType)
            {
                if (type == target)
                    return true;
            }
            if (target->HasGenericVariance && source->IsGeneric && source->GenericDefinition == target->GenericDefinition && CouldBeVariant(source, target))
                VarianceNotSupported(source, target);
            return false;
        }

        private static bool ImplementsInterface(MethodTable* source, MethodTable* target)
        {
            MethodTable** map = source->InterfaceMap;
            int count = source->NumInterfaces;
            for (int i = 0; i < count; i++)
            {
                if (map[i] == target)
                    return true;
            }
            if (target->HasGenericVariance)
            {
                MethodTable* definition = target->GenericDefinition;
                for (int i = 0; i < count; i++)
                    if (map[i]->IsGeneric && map[i]->GenericDefinition == definition && CouldBeVariant(map[i], target))
                        VarianceNotSupported(source, target);
            }
            return false;
        }

        /// <summary>Two instantiations of one generic type can only be related by variance if every
        /// type argument that differs is a reference type on both sides.</summary>
        private static bool CouldBeVariant(MethodTable* a, MethodTable* b)
        {
            int arity = a->GenericDefinition->GenericParameterCount;
            for (int i = 0; i < arity; i++)
            {
                MethodTable* left = a->GetGenericArgument(i), right = b->GetGenericArgument(i);
                if (left != right && (left->IsValueType || right->IsValueType))
                    return false;
            }
            return true;
        }

        private static void VarianceNotSupported(MethodTable* source, MethodTable* target)
        {
            RuntimeHost.Fail(null, "System.NotSupportedException", "Type check that needs generic variance: '" + RuntimeHost.TypeNameOf(source)
                + "' against '" + RuntimeHost.TypeNameOf(target) + "' (Aegis matches generic interfaces and delegates exactly; see docs/runtime.md).");
        }

        public static object IsInstanceOfAny(MethodTable* target, object obj)
        {
            if (obj == null || AreTypesAssignable(obj.GetMethodTable(), target))
                return obj;
            return null;
        }

        public static object IsInstanceOfInterface(MethodTable* target, object obj)
        {
            if (obj == null || ImplementsInterface(obj.GetMethodTable(), target))
                return obj;
            return null;
        }

        public static object IsInstanceOfClass(MethodTable* target, object obj)
        {
            if (obj == null)
                return null;
            for (MethodTable* type = obj.GetMethodTable(); type != null; type = type->BaseType)
            {
                if (type == target)
                    return obj;
            }
            return AreTypesAssignable(obj.GetMethodTable(), target) ? obj : null;
        }

        public static bool IsInstanceOfException(MethodTable* target, object obj)
            => obj != null && AreTypesAssignable(obj.GetMethodTable(), target);

        public static object CheckCastAny(MethodTable* target, object obj)
        {
            if (obj == null || AreTypesAssignable(obj.GetMethodTable(), target))
                return obj;
            throw CastFailure(obj, target);
        }

        public static object CheckCastInterface(MethodTable* target, object obj)
        {
            if (obj == null || ImplementsInterface(obj.GetMethodTable(), target))
                return obj;
            throw CastFailure(obj, target);
        }

        public static object CheckCastClass(MethodTable* target, object obj)
        {
            if (obj == null || obj.GetMethodTable() == target)
                return obj;
            return CheckCastClassSpecial(target, obj);
        }

        public static object CheckCastClassSpecial(MethodTable* target, object obj)
        {
            if (AreTypesAssignable(obj.GetMethodTable(), target))
                return obj;
            throw CastFailure(obj, target);
        }

        private static Exception CastFailure(object obj, MethodTable* target)
        {
            return new InvalidCastException("Unable to cast object of type '" + RuntimeHost.TypeNameOf(obj.GetMethodTable())
                + "' to type '" + RuntimeHost.TypeNameOf(target) + "'.");
        }

        public static void StelemRef(object[] array, nint index, object obj)
        {
            if ((nuint)index >= (nuint)(uint)array.Length)
                throw new IndexOutOfRangeException();
            ref object element = ref Unsafe.As<byte, object>(ref Unsafe.As<RawArrayData>(array).Data);
            element = ref Unsafe.Add(ref element, index);
            if (obj == null)
            {
                element = null;
                return;
            }
            MethodTable* elementType = array.GetMethodTable()->RelatedParameterType;
            if (obj.GetMethodTable() != elementType && !IsObjectType(elementType) && !AreTypesAssignable(obj.GetMethodTable(), elementType))
                throw new ArrayTypeMismatchException();
            element = obj;
        }

        public static ref object LdelemaRef(object[] array, nint index, MethodTable* elementType)
        {
            if ((nuint)index >= (nuint)(uint)array.Length)
                throw new IndexOutOfRangeException();
            if (array.GetMethodTable()->RelatedParameterType != elementType)
                throw new ArrayTypeMismatchException();
            ref object element = ref Unsafe.As<byte, object>(ref Unsafe.As<RawArrayData>(array).Data);
            return ref Unsafe.Add(ref element, index);
        }
    }
}
