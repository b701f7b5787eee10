// Thread-static fields ([ThreadStatic]). ILC describes each group of thread statics by the
// MethodTable of a storage object (one per thread), listed in the module's ThreadStaticRegion
// section. Two ways of reaching a thread's storage object, depending on how ILC compiled:
//  - inlined (optimised builds): all of the module's thread statics share one storage object,
//    found through ILC's TLS variable tls_InlinedThreadStatics; while that is null, generated
//    code calls GetInlinedThreadStaticBaseSlow (found by name) with its address;
//  - per type (unoptimised builds): generated code calls GetThreadStaticBaseForType with the
//    type's index into the region; this thread's storage objects live in an array held by the
//    runtime's own TLS variable (Native/runtime.S: thread_static_bases).
// Both TLS variables sit in the thread-local block the host makes with
// RuntimeHost.CreateThreadLocalStorage and loads into the FS base.
// Invariant: every thread (today: the one CPU) gets its block before any thread static is used.
using System;
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Internal.Runtime
{
    internal struct TypeManagerSlot
    {
        public IntPtr TypeManager;
        public int ModuleIndex;
    }

    internal static unsafe class ThreadStatics
    {
        /// <summary>The module's ThreadStaticRegion: storage-object MethodTables, by index.</summary>
        private static MethodTable** s_storageTypes;
        private static int s_storageTypeCount;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "RhpThreadStaticBasesAddress")]
        private static extern object[]* ThreadStaticBasesAddress();

        /// <summary>Called once at start-up with the module's ThreadStaticRegion section.</summary>
        internal static string RegisterRegion(nint start, int length)
        {
            if (s_storageTypes != null)
                return "more than one module has thread statics; Aegis supports one";
            s_storageTypes = (MethodTable**)start;
            s_storageTypeCount = length / sizeof(nint);
            return null;
        }

        private static object NewStorage(int index)
        {
            if ((uint)index >= (uint)s_storageTypeCount)
                RuntimeHost.Fail(null, "System.InvalidOperationException", "Thread-static storage index " + index.ToString() + " is outside the module's thread-static region.");
            MethodTable* type = s_storageTypes[index];
            return Heap.AllocateObject(type, type->BaseSize);
        }

        internal static object GetInlinedThreadStaticBaseSlow(ref object threadStorage)
        {
            object storage = NewStorage(0);
            threadStorage = storage;
            return storage;
        }

        internal static object GetThreadStaticBaseForType(TypeManagerSlot* pModuleData, int typeTlsIndex)
        {
            ref object[] bases = ref Unsafe.AsRef<object[]>(ThreadStaticBasesAddress());
            if (bases == null)
                bases = new object[s_storageTypeCount];
            if ((uint)typeTlsIndex >= (uint)bases.Length)
                return NewStorage(typeTlsIndex); // reports the bad index
            object storage = bases[typeTlsIndex];
            if (storage == null)
            {
                storage = NewStorage(typeTlsIndex);
                bases[typeTlsIndex] = storage;
            }
            return storage;
        }
    }
}
