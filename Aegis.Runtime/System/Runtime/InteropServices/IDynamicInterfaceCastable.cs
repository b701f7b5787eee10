namespace System.Runtime.InteropServices
{
    // ILC requires this interface to exist; Aegis does not implement dynamic interface casting.
    public unsafe interface IDynamicInterfaceCastable
    {
        bool IsInterfaceImplemented(RuntimeTypeHandle interfaceType, bool throwIfNotImplemented);
        RuntimeTypeHandle GetInterfaceImplementation(RuntimeTypeHandle interfaceType);

        // ILC looks this helper up by name; Aegis never resolves dispatch through it.
        internal static IntPtr GetDynamicInterfaceImplementation(IDynamicInterfaceCastable instance, Internal.Runtime.MethodTable* interfaceType, ushort slot)
            => throw new PlatformNotSupportedException("IDynamicInterfaceCastable is not supported.");
    }

    public static class MemoryMarshal
    {
        public static ref T GetReference<T>(Span<T> span) => ref span._reference;
        public static ref T GetReference<T>(ReadOnlySpan<T> span) => ref span._reference;
        public static unsafe Span<T> CreateSpan<T>(ref T reference, int length) => new Span<T>(ref reference, length);
        public static ReadOnlySpan<T> CreateReadOnlySpan<T>(ref T reference, int length) => new ReadOnlySpan<T>(ref reference, length);
        public static Span<byte> AsBytes<T>(Span<T> span) where T : struct
            => new Span<byte>(ref System.Runtime.CompilerServices.Unsafe.As<T, byte>(ref span._reference), span.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        public static ReadOnlySpan<byte> AsBytes<T>(ReadOnlySpan<T> span) where T : struct
            => new ReadOnlySpan<byte>(ref System.Runtime.CompilerServices.Unsafe.As<T, byte>(ref span._reference), span.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        public static T Read<T>(ReadOnlySpan<byte> source) where T : struct
        {
            if (source.Length < System.Runtime.CompilerServices.Unsafe.SizeOf<T>()) throw new ArgumentOutOfRangeException(nameof(source));
            return System.Runtime.CompilerServices.Unsafe.ReadUnaligned<T>(ref source._reference);
        }
    }
}
