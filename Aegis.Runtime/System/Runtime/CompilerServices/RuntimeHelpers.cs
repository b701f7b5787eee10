// RuntimeHelpers: the pieces of it the C# compiler and ILC use.
using Internal.Runtime;

namespace System.Runtime.CompilerServices
{
    public static unsafe class RuntimeHelpers
    {
        // ILC expands array initialisers from static data at compile time.
        [Intrinsic]
        public static void InitializeArray(Array array, RuntimeFieldHandle fldHandle) => throw new PlatformNotSupportedException("InitializeArray was not expanded by the compiler");

        [Intrinsic]
        public static ReadOnlySpan<T> CreateSpan<T>(RuntimeFieldHandle fldHandle) => throw new PlatformNotSupportedException("CreateSpan was not expanded by the compiler");

        public static int OffsetToStringData => 12;

        [Intrinsic]
        public static bool IsReferenceOrContainsReferences<T>() => throw new PlatformNotSupportedException();

        [Intrinsic]
        internal static bool IsBitwiseEquatable<T>() => throw new PlatformNotSupportedException();

        public static int GetHashCode(object o) => o == null ? 0 : RuntimeHelpersHash(o);

        private static int RuntimeHelpersHash(object o)
        {
            object self = o;
            nuint address = *(nuint*)Unsafe.AsPointer(ref self);
            return (int)(address >> 3) ^ (int)(address >> 35);
        }

        public static new bool Equals(object o1, object o2) => ReferenceEquals(o1, o2);

        public static void RunClassConstructor(RuntimeTypeHandle type) { }

        public static void EnsureSufficientExecutionStack() { }
    }
}
