// System.Object: the root of every reference type.
// Invariant: the first (and only) field is the MethodTable pointer; ILC relies on it.
using Internal.Runtime;

namespace System
{
    public unsafe class Object
    {
        internal MethodTable* m_pEEType;

        public Object() { }

        // Finalize, as .NET's Object declares it: a type that overrides it (a C# ~T()) is
        // allocated through RhpNewFinalizable, which Aegis.Runtime does not provide, so such a
        // type fails the build (docs/runtime.md: there are no finalizers).
        ~Object() { }

        public virtual bool Equals(object obj) => ReferenceEquals(this, obj);

        public static bool Equals(object objA, object objB)
        {
            if (ReferenceEquals(objA, objB)) return true;
            if (objA is null || objB is null) return false;
            return objA.Equals(objB);
        }

        public static bool ReferenceEquals(object objA, object objB) => objA == objB;

        public virtual int GetHashCode()
        {
            // No moving collector exists, so an object's address is stable for its lifetime.
            object self = this;
            nuint address = *(nuint*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref self);
            return (int)(address >> 3) ^ (int)(address >> 35);
        }

        public virtual string ToString() => GetType().FullName;

        public Type GetType() => Type.FromMethodTable(m_pEEType);

        internal MethodTable* GetMethodTable() => m_pEEType;

        // ILC's generated array accessors read it under this name.
        internal MethodTable* MethodTable => m_pEEType;

        internal ref byte GetRawData() => ref System.Runtime.CompilerServices.Unsafe.As<System.Runtime.CompilerServices.RawData>(this).Data;

        internal uint GetRawObjectDataSize() => m_pEEType->BaseSize - (uint)sizeof(ObjectHeaderAndMethodTable);

        private struct ObjectHeaderAndMethodTable { private nint _header; private nint _methodTable; }
    }

}

namespace System.Runtime.CompilerServices
{
    // Views of an object's payload; ILC looks RawData up by name (unboxing stubs).
    internal sealed class RawData
    {
        public byte Data;
    }

    internal sealed class RawArrayData
    {
        public uint Length;
        public uint Padding;
        public byte Data;
    }
}
