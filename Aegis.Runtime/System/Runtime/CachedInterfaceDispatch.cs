// Interface calls through dispatch cells. A call site that ILC could not devirtualise does
//     lea cell(%rip), %r11 ; call *(%r11)      (arguments already in their registers)
// A cell is two words { Stub, Cache }. ILC emits cells in groups that end with a terminator
// cell whose Stub is 0 and whose Cache holds the interface slot (low 16 bits) and flags (next
// 16 bits; 0 = interface and slot). Before first use, Stub is RhpInitialDynamicInterfaceDispatch
// and Cache names the interface: its low two bits say how (3: 32-bit self-relative pointer,
// 2: self-relative pointer to a pointer, 1: plain pointer).
// The first call resolves the target through the dispatch maps, then rewrites the cell to
// Stub = RhpInterfaceDispatchCached, Cache = a DispatchCache (below, low bits 0) that remembers
// the interface, the slot and up to four (class, code) pairs. Native/runtime.S holds both stubs.
// Invariants: a DispatchCache is fully written before a cell points at it, and an entry's code
// is written before its class, so a stub never jumps to a stale target (interrupt handlers may
// use the same cell mid-update). Caches are never freed (they live outside the managed heap's
// objects, in memory taken from it once).
using Internal.Runtime;

namespace System.Runtime
{
    internal static unsafe class CachedInterfaceDispatch
    {
        private const nuint CachePointerMask = 3;
        private const nuint PointsAtCache = 0;
        private const nuint InterfacePointer = 1;
        private const nuint IndirectedRelativePointer = 2;
        private const nuint RelativePointer = 3;
        private const nuint MaxVTableOffsetPlusOne = 0x1000;
        private const int EntryCount = 4;

        internal struct DispatchCell
        {
            public nint Stub;
            public nuint Cache;
        }

        /// <summary>The cache a resolved cell points at. Layout is shared with Native/runtime.S:
        /// offsets 0 interface, 8 slot, 12 next victim, 16 + 16*i entry i (class, code).</summary>
        private struct DispatchCache
        {
            public MethodTable* Interface;
            public uint Slot;
            public uint NextVictim;
            public CacheEntry Entry0, Entry1, Entry2, Entry3;
        }

        private struct CacheEntry
        {
            public MethodTable* Type;
            public nint Code;
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall)]
        [RuntimeImport("*", "RhpInterfaceDispatchCachedAddress")]
        private static extern nint CachedStubAddress();

        /// <summary>Called by the assembly stubs on a cache miss, with the arguments saved.
        /// Returns the code to jump to.</summary>
        [RuntimeExport("RhpResolveInterfaceDispatch")]
        private static nint ResolveAndCache(object target, DispatchCell* cell)
        {
            if (target == null)
                throw new NullReferenceException("Interface method called on a null reference.");
            MethodTable* objectType = target.GetMethodTable();
            nuint cache = cell->Cache;
            if ((cache & CachePointerMask) == PointsAtCache && cache < MaxVTableOffsetPlusOne)
                return *(nint*)((byte*)objectType + cache);
            ReadCell(cell, out MethodTable* interfaceType, out ushort slot);
            nint code = Resolve(objectType, interfaceType, slot);
            Remember(cell, interfaceType, slot, objectType, code);
            return code;
        }

        /// <summary>ldvirtftn on an interface method (e.g. a delegate bound to one): the code, or 0 for null.</summary>
        [RuntimeExport("RhpResolveInterfaceMethod")]
        private static nint RhpResolveInterfaceMethod(object target, DispatchCell* cell) => ResolveInterfaceMethod(target, (nint)cell);

        internal static nint ResolveInterfaceMethod(object target, nint cell)
        {
            if (target == null)
                return 0;
            ReadCell((DispatchCell*)cell, out MethodTable* interfaceType, out ushort slot);
            return Resolve(target.GetMethodTable(), interfaceType, slot);
        }

        [RuntimeExport("RhResolveDispatch")]
        private static nint RhResolveDispatch(object target, MethodTable* interfaceType, ushort slot)
            => Resolve(target.GetMethodTable(), interfaceType, slot);

        [RuntimeExport("RhResolveDispatchOnType")]
        private static nint RhResolveDispatchOnType(MethodTable* objectType, MethodTable* interfaceType, ushort slot)
            => DispatchResolve.FindInterfaceMethodImplementation(objectType, interfaceType, slot);

        private static nint Resolve(MethodTable* objectType, MethodTable* interfaceType, ushort slot)
        {
            nint code = DispatchResolve.FindInterfaceMethodImplementation(objectType, interfaceType, slot);
            if (code == 0)
            {
                string reason = interfaceType->HasGenericVariance
                    ? "' implements the interface only through generic variance, which Aegis does not support"
                    : "' has no implementation of the interface method";
                RuntimeHost.Fail(null, "System.EntryPointNotFoundException",
                    "Interface dispatch failed: type '" + RuntimeHost.TypeNameOf(objectType) + reason
                    + " (interface '" + RuntimeHost.TypeNameOf(interfaceType) + "', slot " + slot.ToString() + ").");
            }
            return code;
        }

        /// <summary>Decodes which interface method a cell calls, whatever state the cell is in.</summary>
        private static void ReadCell(DispatchCell* cell, out MethodTable* interfaceType, out ushort slot)
        {
            nuint cache = cell->Cache;
            switch (cache & CachePointerMask)
            {
                case PointsAtCache:
                    DispatchCache* resolved = (DispatchCache*)cache;
                    interfaceType = resolved->Interface;
                    slot = (ushort)resolved->Slot;
                    return;
                case InterfacePointer:
                    interfaceType = (MethodTable*)(cache & ~CachePointerMask);
                    break;
                case IndirectedRelativePointer:
                    interfaceType = *(MethodTable**)RelativeTarget(cell, cache);
                    break;
                default:
                    interfaceType = (MethodTable*)RelativeTarget(cell, cache);
                    break;
            }
            DispatchCell* terminator = cell;
            while (terminator->Stub != 0)
                terminator++;
            if (((terminator->Cache >> 16) & 0xFFFF) != 0)
                RuntimeHost.Fail(null, "System.NotSupportedException", "Interface dispatch cell names its method by metadata token, which Aegis does not support.");
            slot = (ushort)terminator->Cache;
        }

        private static byte* RelativeTarget(DispatchCell* cell, nuint cache)
        {
            int distance = (int)(uint)(cache & ~CachePointerMask);
            return (byte*)&cell->Cache + distance;
        }

        private static void Remember(DispatchCell* cell, MethodTable* interfaceType, ushort slot, MethodTable* objectType, nint code)
        {
            DispatchCache* cache;
            if ((cell->Cache & CachePointerMask) == PointsAtCache)
            {
                cache = (DispatchCache*)cell->Cache;
            }
            else
            {
                cache = (DispatchCache*)Heap.Allocate((nuint)sizeof(DispatchCache));
                if (cache == null)
                    return; // out of memory: keep resolving slowly, correctness is unaffected
                cache->Interface = interfaceType;
                cache->Slot = slot;
            }
            CacheEntry* entries = &cache->Entry0;
            int index = -1;
            for (int i = 0; i < EntryCount; i++)
            {
                if (entries[i].Type == null)
                {
                    index = i;
                    break;
                }
            }
            if (index < 0)
            {
                index = (int)(cache->NextVictim % EntryCount);
                cache->NextVictim++;
                entries[index].Type = null;
            }
            entries[index].Code = code;
            entries[index].Type = objectType;
            if (cell->Cache != (nuint)cache)
            {
                cell->Cache = (nuint)cache;
                cell->Stub = CachedStubAddress();
            }
        }
    }
}
