// Finds the code that implements an interface method on a given class, from the dispatch maps
// ILC writes next to each MethodTable.
// Rules (the CLI's): walk from the object's class up through its base classes; at each level look
// for an exact (interface, slot) entry among the class's own implementations. Only if no level
// has one, walk again looking at default interface implementations. A hit names either a vtable
// slot (read from the object's own class, so overrides in derived classes win) or a sealed
// slot (read from the class that declared the entry).
// Generic variance (IEnumerable<Derived> used as IEnumerable<Base>) is not resolved here: such a
// call finds no entry and the caller reports it.
using Internal.Runtime;

namespace System.Runtime
{
    internal static unsafe class DispatchResolve
    {
        /// <summary>Special implementation slots in a dispatch map (not real slots).</summary>
        private const ushort ReabstractionSlot = 0xFFFF;
        private const ushort DiamondSlot = 0xFFFE;

        /// <summary>Returns the code address, or 0 when the type has no implementation.</summary>
        public static nint FindInterfaceMethodImplementation(MethodTable* objectType, MethodTable* interfaceType, ushort slot)
        {
            nint target = Search(objectType, interfaceType, slot, defaultImplementations: false);
            if (target == 0)
                target = Search(objectType, interfaceType, slot, defaultImplementations: true);
            return target;
        }

        private static nint Search(MethodTable* objectType, MethodTable* interfaceType, ushort slot, bool defaultImplementations)
        {
            for (MethodTable* current = objectType; current != null; current = NextInHierarchy(current))
            {
                if (!FindImplementationSlot(current, interfaceType, slot, defaultImplementations, out ushort implementation))
                    continue;
                if (implementation == ReabstractionSlot || implementation == DiamondSlot)
                    return 0;
                if (implementation < current->NumVtableSlots)
                    return objectType->GetVirtualSlot(implementation);
                return current->GetSealedVirtualSlot(implementation - current->NumVtableSlots);
            }
            return 0;
        }

        private static MethodTable* NextInHierarchy(MethodTable* type)
        {
            if (type->IsArray)
                return Internal.Runtime.MethodTable.Of<Array>();
            return type->BaseType;
        }

        private static bool FindImplementationSlot(MethodTable* type, MethodTable* interfaceType, ushort slot, bool defaultImplementations, out ushort implementation)
        {
            implementation = 0;
            DispatchMap* map = type->DispatchMap;
            if (map == null)
                return false;
            int first = defaultImplementations ? map->StandardEntryCount : 0;
            int end = first + (defaultImplementations ? map->DefaultEntryCount : map->StandardEntryCount);
            DispatchMap.Entry* entries = map->Entries;
            MethodTable** interfaces = type->InterfaceMap;
            for (int i = first; i < end; i++)
            {
                if (entries[i].InterfaceMethodSlot == slot && interfaces[entries[i].InterfaceIndex] == interfaceType)
                {
                    implementation = entries[i].ImplementationSlot;
                    return true;
                }
            }
            return false;
        }
    }
}
