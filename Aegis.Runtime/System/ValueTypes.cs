// ValueType, Enum and Nullable<T>.
using Internal.Runtime;
using System.Runtime;
using System.Runtime.CompilerServices;

namespace System
{
    /// <summary>Default Equals and GetHashCode of structs. Structs whose bytes say everything
    /// (no references, no padding, no floating point) compare bytes. For the others ILC injects
    /// an override of __GetFieldHelper that lists the fields (offset and type), and they compare
    /// field by field with the fields' own Equals, as in .NET.</summary>
    public abstract unsafe class ValueType
    {
        private const int UseFastHelper = -1;
        private const int GetNumFields = -1;

        /// <summary>index == GetNumFields: the number of fields, or UseFastHelper when the bytes
        /// can be compared. Otherwise: the offset and type of the index-th field.</summary>
        internal virtual int __GetFieldHelper(int index, out MethodTable* mt)
        {
            mt = null;
            return UseFastHelper;
        }

        public override bool Equals(object obj)
        {
            if (obj == null || obj.GetMethodTable() != GetMethodTable())
                return false;
            ref byte left = ref GetRawData();
            ref byte right = ref obj.GetRawData();
            int fieldCount = __GetFieldHelper(GetNumFields, out _);
            if (fieldCount == UseFastHelper)
                return BytesEqual(ref left, ref right, GetMethodTable()->ValueTypeSize);
            for (int i = 0; i < fieldCount; i++)
            {
                int offset = __GetFieldHelper(i, out MethodTable* fieldType);
                if (!FieldEquals(fieldType, ref Unsafe.Add(ref left, offset), ref Unsafe.Add(ref right, offset)))
                    return false;
            }
            return true;
        }

        public override int GetHashCode()
        {
            int hash = (int)GetMethodTable()->HashCode;
            ref byte data = ref GetRawData();
            int fieldCount = __GetFieldHelper(GetNumFields, out _);
            if (fieldCount == UseFastHelper)
                return hash ^ BytesHash(ref data, GetMethodTable()->ValueTypeSize);
            // Like .NET: the first field that is not a null reference decides.
            for (int i = 0; i < fieldCount; i++)
            {
                int offset = __GetFieldHelper(i, out MethodTable* fieldType);
                ref byte field = ref Unsafe.Add(ref data, offset);
                if (!fieldType->IsValueType)
                {
                    object reference = Unsafe.As<byte, object>(ref field);
                    if (reference != null)
                        return hash ^ reference.GetHashCode();
                }
                else
                {
                    return hash ^ ValueFieldHash(fieldType, ref field);
                }
            }
            return hash;
        }

        private static bool FieldEquals(MethodTable* fieldType, ref byte left, ref byte right)
        {
            if (!fieldType->IsValueType)
            {
                object a = Unsafe.As<byte, object>(ref left), b = Unsafe.As<byte, object>(ref right);
                return a == null ? b == null : a.Equals(b);
            }
            switch (fieldType->ElementType)
            {
                case ElementType.Single:
                    return Unsafe.As<byte, float>(ref left).Equals(Unsafe.As<byte, float>(ref right));
                case ElementType.Double:
                    return Unsafe.As<byte, double>(ref left).Equals(Unsafe.As<byte, double>(ref right));
            }
            if (fieldType->IsPrimitive)
                return BytesEqual(ref left, ref right, fieldType->ValueTypeSize);
            // A struct field: its own Equals, through boxes (as .NET does).
            return RuntimeExports.Box(fieldType, ref left).Equals(RuntimeExports.Box(fieldType, ref right));
        }

        private static int ValueFieldHash(MethodTable* fieldType, ref byte field)
        {
            switch (fieldType->ElementType)
            {
                case ElementType.Single:
                    return Unsafe.As<byte, float>(ref field).GetHashCode();
                case ElementType.Double:
                    return Unsafe.As<byte, double>(ref field).GetHashCode();
            }
            if (fieldType->IsPrimitive)
                return BytesHash(ref field, fieldType->ValueTypeSize);
            return RuntimeExports.Box(fieldType, ref field).GetHashCode();
        }

        private static bool BytesEqual(ref byte left, ref byte right, uint size)
        {
            for (uint i = 0; i < size; i++)
                if (Unsafe.Add(ref left, (nint)i) != Unsafe.Add(ref right, (nint)i))
                    return false;
            return true;
        }

        private static int BytesHash(ref byte data, uint size)
        {
            int hash = 17;
            for (uint i = 0; i < size; i++)
                hash = hash * 31 + Unsafe.Add(ref data, (nint)i);
            return hash;
        }

        public override string ToString() => GetType().FullName;
    }

    /// <summary>Enums box to their own MethodTable; without reflection metadata ToString prints the number.</summary>
    public abstract class Enum : ValueType
    {
        public override unsafe string ToString()
        {
            ref byte data = ref GetRawData();
            switch (GetMethodTable()->ElementType)
            {
                case ElementType.SByte: return ((sbyte)data).ToString();
                case ElementType.Byte: return data.ToString();
                case ElementType.Int16: return Unsafe.As<byte, short>(ref data).ToString();
                case ElementType.UInt16: return Unsafe.As<byte, ushort>(ref data).ToString();
                case ElementType.Int32: return Unsafe.As<byte, int>(ref data).ToString();
                case ElementType.UInt32: return Unsafe.As<byte, uint>(ref data).ToString();
                case ElementType.Int64: return Unsafe.As<byte, long>(ref data).ToString();
                case ElementType.UInt64: return Unsafe.As<byte, ulong>(ref data).ToString();
                default: return "?";
            }
        }

        public bool HasFlag(Enum flag)
        {
            ulong mine = ToUInt64(this), theirs = ToUInt64(flag);
            return (mine & theirs) == theirs;
        }

        private static unsafe ulong ToUInt64(Enum value)
        {
            ref byte data = ref value.GetRawData();
            switch (value.GetMethodTable()->ValueTypeSize)
            {
                case 1: return data;
                case 2: return Unsafe.As<byte, ushort>(ref data);
                case 4: return Unsafe.As<byte, uint>(ref data);
                default: return Unsafe.As<byte, ulong>(ref data);
            }
        }
    }

    public struct Nullable<T> where T : struct
    {
        private readonly bool hasValue;
        internal T value;

        public Nullable(T value)
        {
            this.value = value;
            hasValue = true;
        }

        public readonly bool HasValue => hasValue;

        public readonly T Value
        {
            get
            {
                if (!hasValue)
                    throw new InvalidOperationException("Nullable object must have a value.");
                return value;
            }
        }

        public readonly T GetValueOrDefault() => value;
        public readonly T GetValueOrDefault(T defaultValue) => hasValue ? value : defaultValue;
        public override bool Equals(object other) => !hasValue ? other == null : other != null && value.Equals(other);
        public override int GetHashCode() => hasValue ? value.GetHashCode() : 0;
        public override string ToString() => hasValue ? value.ToString() : "";

        public static implicit operator T?(T value) => new T?(value);
        public static explicit operator T(T? value) => value.Value;
    }
}
