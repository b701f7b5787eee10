// Methods ILC-generated code calls (by name) when a runtime check fails.
using System;

namespace Internal.Runtime.CompilerHelpers
{
    internal static class ThrowHelpers
    {
        private static void ThrowOverflowException() => throw new OverflowException();
        private static void ThrowIndexOutOfRangeException() => throw new IndexOutOfRangeException();
        private static void ThrowNullReferenceException() => throw new NullReferenceException();
        private static void ThrowDivideByZeroException() => throw new DivideByZeroException();
        private static void ThrowArrayTypeMismatchException() => throw new ArrayTypeMismatchException();
        private static void ThrowPlatformNotSupportedException() => throw new PlatformNotSupportedException();
        private static void ThrowTypeLoadException() => throw new PlatformNotSupportedException("type load failed");
        private static void ThrowArgumentException() => throw new ArgumentException();
        private static void ThrowArgumentOutOfRangeException() => throw new ArgumentOutOfRangeException();
        private static void ThrowNotImplementedException() => throw new NotImplementedException();
        private static void ThrowNotSupportedException() => throw new NotSupportedException();
        private static void ThrowInvalidProgramException() => throw new InvalidProgramException();
        private static void ThrowMissingMethodException() => throw new PlatformNotSupportedException("missing method");
        private static void ThrowMissingFieldException() => throw new PlatformNotSupportedException("missing field");
        private static void ThrowFeatureBodyRemoved() => throw new NotSupportedException("this feature was removed at build time");
        private static void ThrowBodyRemoved() => throw new NotSupportedException("this method body was removed at build time");
    }
}
