// The layout of a NativeAOT MethodTable (the type descriptor ILC emits for every type).
// Invariant: field offsets match what ILC 10.0 emits on 64-bit targets:
//   0 flags (low 16 bits: component size when HasComponentSize, else extended flags),
//   4 base size, 8 related type (parent class, or element type of arrays), 16 vtable slot count,
//   18 interface count, 20 hash code, 24 vtable, then the interface map (full pointers), then
//   32-bit self-relative pointers, each present only when its flag says so, in this order:
//   type manager, writable data, dispatch map, finalizer, sealed vtable, generic definition,
//   generic composition.
// Static images only: dynamic types (built at run time by a type loader) do not exist here.
namespace Internal.Runtime
{
    internal enum ElementType
    {
        Unknown = 0x00, Void = 0x01, Boolean = 0x02, Char = 0x03, SByte = 0x04, Byte = 0x05,
        Int16 = 0x06, UInt16 = 0x07, Int32 = 0x08, UInt32 = 0x09, Int64 = 0x0A, UInt64 = 0x0B,
        IntPtr = 0x0C, UIntPtr = 0x0D, Single = 0x0E, Double = 0x0F,
        ValueType = 0x10, Nullable = 0x12, Class = 0x14, Interface = 0x15,
        SystemArray = 0x16, Array = 0x17, SzArray = 0x18, ByRef = 0x19, Pointer = 0x1A, FunctionPointer = 0x1B,
    }

    /// <summary>Which interface methods a class implements and where: one entry per (interface, slot).
    /// Entries: first the class's own implementations, then default interface implementations.</summary>
    internal unsafe struct DispatchMap
    {
        internal struct Entry
        {
            public ushort InterfaceIndex;      // index into the declaring type's interface map
            public ushort InterfaceMethodSlot; // slot of the method within the interface
            public ushort ImplementationSlot;  // vtable slot, or sealed slot past the vtable
        }

        private ushort _standardEntryCount;
        private ushort _defaultEntryCount;
        private ushort _standardStaticEntryCount;
        private ushort _defaultStaticEntryCount;

        public int StandardEntryCount => _standardEntryCount;
        public int DefaultEntryCount => _defaultEntryCount;

        public Entry* Entries
        {
            get
            {
                fixed (DispatchMap* self = &this)
                    return (Entry*)(self + 1);
            }
        }
    }

    internal unsafe struct MethodTable
    {
        private const uint KindMask = 0x00030000;
        private const uint ParameterizedKind = 0x00020000;
        private const uint GenericDefinitionKind = 0x00030000;
        private const uint HasDispatchMapFlag = 0x00040000;
        private const uint IsDynamicTypeFlag = 0x00080000;
        private const uint HasFinalizerFlag = 0x00100000;
        private const uint HasSealedVTableEntriesFlag = 0x00400000;
        private const uint GenericVarianceFlag = 0x00800000;
        private const uint HasPointersFlag = 0x01000000;
        private const uint IsGenericFlag = 0x02000000;
        private const uint ElementTypeMask = 0x7C000000;
        private const int ElementTypeShift = 26;
        private const uint HasComponentSizeFlag = 0x80000000;
        // Extended flags (low 16 bits when there is no component size).
        private const uint ValueTypePaddingMask = 0x00E0;
        private const int ValueTypePaddingShift = 5;
        private const uint NullableValueOffsetMask = 0x0700;
        private const int NullableValueOffsetShift = 8;

        private uint _flags;
        private uint _baseSize;
        private MethodTable* _relatedType;
        private ushort _numVtableSlots;
        private ushort _numInterfaces;
        private uint _hashCode;

        /// <summary>The MethodTable of T (a compiler intrinsic: ILC replaces the body with the address).</summary>
        [System.Runtime.CompilerServices.Intrinsic]
        internal static MethodTable* Of<T>() => throw new System.PlatformNotSupportedException("MethodTable.Of<T> was not expanded by the compiler");

        public uint Flags => _flags;
        public uint BaseSize => _baseSize;
        public ushort ComponentSize => HasComponentSize ? (ushort)_flags : (ushort)0;
        public bool HasComponentSize => (_flags & HasComponentSizeFlag) != 0;
        public bool HasPointers => (_flags & HasPointersFlag) != 0;
        public bool IsGeneric => (_flags & IsGenericFlag) != 0;
        public bool IsGenericDefinition => (_flags & KindMask) == GenericDefinitionKind;
        public bool HasGenericVariance => (_flags & GenericVarianceFlag) != 0;
        public bool HasDispatchMap => (_flags & HasDispatchMapFlag) != 0;
        public bool IsFinalizable => (_flags & HasFinalizerFlag) != 0;
        public bool HasSealedVTableEntries => (_flags & HasSealedVTableEntriesFlag) != 0;
        public bool IsDynamicType => (_flags & IsDynamicTypeFlag) != 0;
        public bool IsParameterized => (_flags & KindMask) == ParameterizedKind;
        public ElementType ElementType => (ElementType)((_flags & ElementTypeMask) >> ElementTypeShift);
        public bool IsInterface => ElementType == ElementType.Interface;
        public bool IsArray => ElementType == ElementType.SzArray || ElementType == ElementType.Array;
        public bool IsSzArray => ElementType == ElementType.SzArray;

        /// <summary>Rank of an array type: its base size grows by two ints per dimension.</summary>
        public int ArrayRank
        {
            get
            {
                int boundsSize = (int)_baseSize - 3 * sizeof(nint);
                return boundsSize > 0 ? boundsSize / (2 * sizeof(int)) : 1;
            }
        }
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

        /// <summary>Bytes the compiler added after a value type's fields to round its boxed size up.</summary>
        private uint ValueTypePadding => HasComponentSize ? 0 : (_flags & ValueTypePaddingMask) >> ValueTypePaddingShift;

        /// <summary>The size of a value type's fields (a boxed value's payload, without padding).</summary>
        public uint ValueTypeSize => _baseSize - (uint)(2 * sizeof(nint)) - ValueTypePadding;

        /// <summary>For Nullable&lt;T&gt;, the MethodTable of T (its only generic argument).</summary>
        public MethodTable* NullableType => GetGenericArgument(0);

        /// <summary>For Nullable&lt;T&gt;, the offset of the value after the bool flag.</summary>
        public int NullableValueOffset => 1 << (int)((_flags & NullableValueOffsetMask) >> NullableValueOffsetShift);

        private byte* Self
        {
            get
            {
                fixed (MethodTable* self = &this)
                    return (byte*)self;
            }
        }

        public nint* Vtable => (nint*)(Self + sizeof(MethodTable));

        public MethodTable** InterfaceMap => (MethodTable**)(Self + sizeof(MethodTable) + (nint)_numVtableSlots * sizeof(nint));

        public nint GetVirtualSlot(int slot) => Vtable[slot];

        /// <summary>Offset of the first relative-pointer field (after the interface map): the type manager.</summary>
        private uint RelativeFieldsOffset => (uint)(sizeof(MethodTable) + (_numVtableSlots + _numInterfaces) * sizeof(nint));

        private uint DispatchMapOffset => RelativeFieldsOffset + 8; // after type manager and writable data

        private uint SealedVirtualSlotsOffset => DispatchMapOffset + (HasDispatchMap ? 4u : 0u) + (IsFinalizable ? 4u : 0u);

        private uint GenericDefinitionOffset => SealedVirtualSlotsOffset + (HasSealedVTableEntries ? 4u : 0u);

        private uint GenericCompositionOffset => GenericDefinitionOffset + (IsGeneric ? 4u : 0u);

        private static byte* FollowRelativePointer(byte* location) => location + *(int*)location;

        public DispatchMap* DispatchMap => HasDispatchMap ? (DispatchMap*)FollowRelativePointer(Self + DispatchMapOffset) : null;

        /// <summary>Code of a sealed virtual method (slot numbers past the vtable, counted from 0).</summary>
        public nint GetSealedVirtualSlot(int sealedSlot)
        {
            byte* table = FollowRelativePointer(Self + SealedVirtualSlotsOffset);
            return (nint)FollowRelativePointer(table + sealedSlot * 4);
        }

        public MethodTable* GenericDefinition => IsGeneric ? (MethodTable*)FollowRelativePointer(Self + GenericDefinitionOffset) : null;

        /// <summary>Number of generic parameters (valid on generic definitions).</summary>
        public int GenericParameterCount => (ushort)_baseSize;

        /// <summary>The index-th type argument of a constructed generic type.</summary>
        public MethodTable* GetGenericArgument(int index)
        {
            int arity = GenericDefinition->GenericParameterCount;
            byte* composition = Self + GenericCompositionOffset;
            // One argument: the field is the (one-element) list; several: it points at the list.
            byte* list = arity == 1 ? composition : FollowRelativePointer(composition);
            return (MethodTable*)FollowRelativePointer(list + index * 4);
        }
    }
}
