// Atomic read-modify-write operations, done by locked instructions in Native/runtime.S. The C#
// compiler also uses CompareExchange<T> for field-like event accessors.
using System.Runtime;
using System.Runtime.CompilerServices;

namespace System.Threading
{
    public static unsafe class Interlocked
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "RhpLockCmpXchg32")]
        private static extern int LockCompareExchange(int* location, int value, int comparand);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "RhpLockCmpXchg64")]
        private static extern long LockCompareExchange(long* location, long value, long comparand);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "RhpLockXchg32")]
        private static extern int LockExchange(int* location, int value);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "RhpLockXchg64")]
        private static extern long LockExchange(long* location, long value);

        // Reference versions: the write-barrier-aware helpers a collector would hook.
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "RhpCheckedLockCmpXchg")]
        private static extern object LockCompareExchange(ref object location, object value, object comparand);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "RhpCheckedXchg")]
        private static extern object LockExchange(ref object location, object value);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "RhpLockXAdd32")]
        private static extern int LockExchangeAdd(int* location, int addend);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "RhpLockXAdd64")]
        private static extern long LockExchangeAdd(long* location, long addend);

        // The locations below are fields or array elements of objects that never move (there is
        // no compacting collector), so taking their address is safe.
        public static int CompareExchange(ref int location1, int value, int comparand)
            => LockCompareExchange((int*)Unsafe.AsPointer(ref location1), value, comparand);

        public static long CompareExchange(ref long location1, long value, long comparand)
            => LockCompareExchange((long*)Unsafe.AsPointer(ref location1), value, comparand);

        public static object CompareExchange(ref object location1, object value, object comparand)
            => LockCompareExchange(ref location1, value, comparand);

        public static T CompareExchange<T>(ref T location1, T value, T comparand) where T : class
            => Unsafe.As<T>(CompareExchange(ref Unsafe.As<T, object>(ref location1), value, comparand));

        public static int Exchange(ref int location1, int value) => LockExchange((int*)Unsafe.AsPointer(ref location1), value);

        public static long Exchange(ref long location1, long value) => LockExchange((long*)Unsafe.AsPointer(ref location1), value);

        public static object Exchange(ref object location1, object value) => LockExchange(ref location1, value);

        public static T Exchange<T>(ref T location1, T value) where T : class
            => Unsafe.As<T>(Exchange(ref Unsafe.As<T, object>(ref location1), value));

        public static int Add(ref int location1, int value) => LockExchangeAdd((int*)Unsafe.AsPointer(ref location1), value) + value;

        public static long Add(ref long location1, long value) => LockExchangeAdd((long*)Unsafe.AsPointer(ref location1), value) + value;

        public static int Increment(ref int location) => Add(ref location, 1);

        public static long Increment(ref long location) => Add(ref location, 1);

        public static int Decrement(ref int location) => Add(ref location, -1);

        public static long Decrement(ref long location) => Add(ref location, -1);
    }
}
