// Type and the runtime handles. There is no reflection metadata in the image: a Type knows its
// MethodTable, and its name comes from the host's resolver (the kernel's symbol table).
using Internal.Runtime;

namespace System
{
    public abstract class Type
    {
        public abstract string Name { get; }
        public abstract string FullName { get; }
        public abstract RuntimeTypeHandle TypeHandle { get; }

        public static Type GetTypeFromHandle(RuntimeTypeHandle handle) => handle.Value == IntPtr.Zero ? null : new RuntimeType(handle.Value);

        internal static unsafe Type FromMethodTable(MethodTable* methodTable) => new RuntimeType((IntPtr)methodTable);

        public override bool Equals(object o) => o is Type other && other.TypeHandle.Value == TypeHandle.Value;
        public override int GetHashCode() => TypeHandle.Value.GetHashCode();
        public static bool operator ==(Type left, Type right) => ReferenceEquals(left, right) || (left is not null && left.Equals(right));
        public static bool operator !=(Type left, Type right) => !(left == right);
        public override string ToString() => FullName;
    }

    internal sealed unsafe class RuntimeType : Type
    {
        private readonly IntPtr _methodTable;
        internal RuntimeType(IntPtr methodTable) { _methodTable = methodTable; }
        public override RuntimeTypeHandle TypeHandle => new RuntimeTypeHandle(_methodTable);
        public override string FullName => RuntimeHost.TypeNameOf((MethodTable*)_methodTable);
        public override string Name
        {
            get
            {
                string full = FullName;
                int dot = full.LastIndexOf('.');
                return dot < 0 ? full : full.Substring(dot + 1);
            }
        }
    }

    public struct RuntimeTypeHandle
    {
        private readonly IntPtr _value;
        internal RuntimeTypeHandle(IntPtr value) { _value = value; }
        public IntPtr Value => _value;
        public override bool Equals(object obj) => obj is RuntimeTypeHandle other && other._value == _value;
        public override int GetHashCode() => _value.GetHashCode();
    }

    public struct RuntimeMethodHandle
    {
        private readonly IntPtr _value;
        internal RuntimeMethodHandle(IntPtr value) { _value = value; }
        public IntPtr Value => _value;
    }

    public struct RuntimeFieldHandle
    {
        private readonly IntPtr _value;
        internal RuntimeFieldHandle(IntPtr value) { _value = value; }
        public IntPtr Value => _value;
    }
}
