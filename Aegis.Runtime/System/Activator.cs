// Activator.CreateInstance<T>(): what C# emits for 'new T()'. ILC expands DefaultConstructorOf<T>
// to the address of T's parameterless constructor; when T has none it substitutes
// MissingConstructorMethod (classes) or StructWithNoConstructor's constructor (structs without
// one), both looked up by name.
using Internal.Runtime;
using System.Runtime.CompilerServices;

namespace System
{
    public static unsafe class Activator
    {
        public static T CreateInstance<T>()
        {
            nint constructor = DefaultConstructorOf<T>();
            if (constructor == (nint)(delegate*<long>)&MissingConstructorMethod)
                throw new MissingMethodException("No parameterless constructor defined for the type.");
            MethodTable* type = Internal.Runtime.MethodTable.Of<T>();
            if (!type->IsValueType)
            {
                object instance = Heap.AllocateObject(type, type->BaseSize);
                ((delegate*<object, void>)constructor)(instance);
                return Unsafe.As<object, T>(ref instance);
            }
            T value = default;
            ((delegate*<ref byte, void>)constructor)(ref Unsafe.As<T, byte>(ref value));
            return value;
        }

        [Intrinsic]
        private static nint DefaultConstructorOf<T>() => throw new NotSupportedException("DefaultConstructorOf<T> was not expanded by the compiler");

        // A marker with a body no other method shares, so its address is unique.
        private static long MissingConstructorMethod() => 0x4165676973_4E6F43;

        internal struct StructWithNoConstructor
        {
            public StructWithNoConstructor() { }
        }
    }
}
