// The layout of a NativeAOT MethodTable (the type descriptor ILC emits for every type).
// Invariant: field offsets match what ILC 10.0 emits on 64-bit targets:
//   0 flags (low 16 bits: component size when HasComponentSize), 4 base size,
//   8 related type (parent class, or element type of arrays), 16 vtable slot count,
//   18 interface count, 20 hash code, 24 vtable, then the interface map.
namespace Internal.Runtime
{
    internal enum ElementType
    {
        Unknown = 0x00, Void = 0x01, Boolean = 0x02, Char = 0x03, SByte = 0x04, Byte = 0x05,
        Int16 = 0x06, UInt16 = 0x07, Int32 = 0x08, UInt32 = 0x09, Int64 = 0x0A, UInt64 = 0x0B,
        IntPtr = 0x0C, UIntPtr = 0x0D, Single = 0x0E, Double = 0x0F,
        ValueType = 0x10, Nullable = 0x12, Class = 0x14, Interface = 0x15,
        SystemArray = 0x16, Array = 0x17, SzArray = 0x18, ByRef = 0x19, Pointer = 0x1A,
    }

    internal unsafe struct MethodTable
    {
        private const uint KindMask = 0x00030000;
        private const uint ParameterizedKind = 0x00020000;
        private const uint HasPointersFlag = 0x01000000;
        private const uint GenericVarianceFlag = 0x00800000;
        private const uint IsGenericFlag = 0x02000000;
        private const uint ElementTypeMask = 0x7C000000;
        private const int ElementTypeShift = 26;
        private const uint HasComponentSizeFlag = 0x80000000;

        private uint _flags;
        private uint _baseSize;
        private MethodTable* _relatedType;
        private ushort _numVtableSlots;
        private ushort _numInterfaces;
        private uint _hashCode;

        public uint BaseSize => _baseSize;
        public ushort ComponentSize => HasComponentSize ? (ushort)_flags : (ushort)0;
        public bool HasComponentSize => (_flags & HasComponentSizeFlag) != 0;
        public bool HasPointers => (_flags & HasPointersFlag) != 0;
        public bool IsGeneric => (_flags & IsGenericFlag) != 0;
        public bool HasGenericVariance => (_flags & GenericVarianceFlag) != 0;
        public bool IsParameterized => (_flags & KindMask) == ParameterizedKind;
        public ElementType ElementType => (ElementType)((_flags & ElementTypeMask) >> ElementTypeShift);
        public bool IsInterface => ElementType == ElementType.Interface;
        public bool IsArray => ElementType == ElementType.SzArray || ElementType == ElementType.Array;
        public bool IsSzArray => ElementType == ElementType.SzArray;
        public bool IsValueType => ElementType < ElementType.Class && ElementType != ElementType.Unknown;
        public bool IsNullable => ElementType == ElementType.Nullable;
        public bool IsPrimitive => ElementType >= ElementType.Boolean && ElementType <= ElementType.Double;
        public uint HashCode => _hashCode;
        public int NumVtableSlots => _numVtableSlots;
        public int NumInterfaces => _numInterfaces;

        /// <summary>Parent class for classes and value types (null for Object and interfaces).</summary>
        public MethodTable* BaseType => IsParameterized ? null : _relatedType;

        /// <summary>Element type of an array or pointer type.</summary>
        public MethodTable* RelatedParameterType => IsParameterized ? _relatedType : null;

        /// <summary>For Nullable&lt;T&gt;, the MethodTable of T (its first generic argument).</summary>
        public MethodTable* NullableType => _relatedType;

        /// <summary>The size of a boxed value's payload (base size less the header and MethodTable pointer).</summary>
        public uint ValueTypeSize => _baseSize - (uint)(2 * sizeof(nint));

        public MethodTable** InterfaceMap
        {
            get
            {
                fixed (MethodTable* self = &this)
                    return (MethodTable**)((byte*)self + sizeof(MethodTable) + (nint)_numVtableSlots * sizeof(nint));
            }
        }

        public nint GetVirtualSlot(int slot)
        {
            fixed (MethodTable* self = &this)
                return ((nint*)((byte*)self + sizeof(MethodTable)))[slot];
        }
    }
}
