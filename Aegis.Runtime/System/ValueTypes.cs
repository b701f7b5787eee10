// ValueType, Enum and Nullable<T>.
using Internal.Runtime;
using System.Runtime.CompilerServices;

namespace System
{
    public abstract class ValueType
    {
        public override unsafe bool Equals(object obj)
        {
            if (obj == null || obj.GetMethodTable() != GetMethodTable())
                return false;
            // Bitwise comparison of the payload, as .NET does for types without references.
            uint size = GetMethodTable()->ValueTypeSize;
            ref byte left = ref GetRawData();
            ref byte right = ref obj.GetRawData();
            for (uint i = 0; i < size; i++)
            {
                if (Unsafe.Add(ref left, (nint)i) != Unsafe.Add(ref right, (nint)i))
                    return false;
            }
            return true;
        }

        public override unsafe int GetHashCode()
        {
            uint size = GetMethodTable()->ValueTypeSize;
            ref byte data = ref GetRawData();
            int hash = (int)GetMethodTable()->HashCode;
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
