// Thread-static fields ([ThreadStatic]). ILC lays all of a module's thread statics out as the
// fields of one storage object per thread; generated code finds it through the TLS variable
// tls_InlinedThreadStatics (x86-64 ELF thread-local storage: reached from the FS segment base,
// which the host points at a block made by RuntimeHost.CreateThreadLocalStorage). While the
// variable is null, code calls GetInlinedThreadStaticBaseSlow (found by name), which allocates
// the storage object described by the module's ThreadStaticRegion section.
// Invariant: every thread (today: the one CPU) gets its block before any thread static is used.
using System;

namespace Internal.Runtime
{
    internal struct TypeManagerSlot
    {
        public IntPtr TypeManager;
        public int ModuleIndex;
    }

    internal static unsafe class ThreadStatics
    {
        /// <summary>MethodTable of the storage object (entry 0 of the ThreadStaticRegion section).</summary>
        internal static MethodTable* s_inlinedStorageType;

        internal static object GetInlinedThreadStaticBaseSlow(ref object threadStorage)
        {
            if (s_inlinedStorageType == null)
                RuntimeHost.Fail(null, "System.InvalidOperationException", "Thread-static storage is used before the runtime's modules were initialised.");
            object storage = Heap.AllocateObject(s_inlinedStorageType, s_inlinedStorageType->BaseSize);
            threadStorage = storage;
            return storage;
        }

        /// <summary>Thread statics ILC could not inline into the per-module block (e.g. of types
        /// loaded at run time). Aegis images have none; reaching this is reported, not guessed at.</summary>
        internal static object GetThreadStaticBaseForType(TypeManagerSlot* pModuleData, int typeTlsIndex)
        {
            RuntimeHost.Fail(null, "System.NotSupportedException", "Thread-static field outside the module's inlined thread-static block (index " + typeTlsIndex.ToString() + ").");
            return null;
        }
    }
}
