// The collector's public face, shaped like .NET's System.GC (one generation: 0).
// GC.Collect collects where the host allows it (RuntimeHost.SetCollectionPolicy: the kernel
// collects only in its own thread of control, on its boot stack); elsewhere it does nothing.
// Finalizers do not exist here (a type with one does not build), so SuppressFinalize and
// ReRegisterForFinalize have nothing to do.
using System.Runtime.CompilerServices;
using Internal.Runtime;

namespace System
{
    public static class GC
    {
        public static int MaxGeneration => 0;

        public static void Collect() => GcCollector.CollectNow();

        public static void Collect(int generation)
        {
            if (generation < 0)
                throw new ArgumentOutOfRangeException(nameof(generation), "a generation number, 0 or more");
            GcCollector.CollectNow();
        }

        /// <summary>Collections of 'generation' so far (there is only generation 0, and every
        /// collection is a full one, so every generation reports the same count).</summary>
        public static int CollectionCount(int generation)
        {
            if (generation < 0)
                throw new ArgumentOutOfRangeException(nameof(generation), "a generation number, 0 or more");
            return (int)GcCollector.Collections;
        }

        /// <summary>Bytes in objects: what survived the last collection plus what was allocated
        /// since. With forceFullCollection, collects first (where allowed).</summary>
        public static long GetTotalMemory(bool forceFullCollection)
        {
            if (forceFullCollection)
                GcCollector.CollectNow();
            return (long)Heap.BytesInUse;
        }

        public static long GetAllocatedBytesForCurrentThread() => (long)Heap.BytesAllocated;

        /// <summary>Keeps 'obj' reachable up to this call (the reference is an argument of a call
        /// the compiler cannot remove).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void KeepAlive(object obj) { }

        public static void SuppressFinalize(object obj)
        {
            if (obj == null) throw new ArgumentNullException(nameof(obj));
        }

        public static void ReRegisterForFinalize(object obj)
        {
            if (obj == null) throw new ArgumentNullException(nameof(obj));
        }
    }
}
