// Throws kept out of line. A `throw new X(...)` inside a small method (a Span's Slice, an indexer)
// puts an allocation, a constructor call and the throw into every caller it is inlined into, and
// makes it too big to be inlined at all; a call to one of these is one instruction on a cold path,
// and the JIT sees that it does not return. The messages are the ones the inline throws had.
using System.Diagnostics.CodeAnalysis;

namespace System
{
    internal static class ThrowHelper
    {
        [DoesNotReturn]
        internal static void ThrowIndexOutOfRangeException() => throw new IndexOutOfRangeException();

        [DoesNotReturn]
        internal static void ThrowArgumentOutOfRangeException(string paramName) => throw new ArgumentOutOfRangeException(paramName);

        [DoesNotReturn]
        internal static void ThrowDestinationTooShort() => throw new ArgumentException("Destination is too short.", "destination");
    }
}
