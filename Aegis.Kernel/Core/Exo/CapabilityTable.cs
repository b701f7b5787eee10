// CapabilityTable: one environment's capabilities, CapabilitySlots.Count numbered slots each
// holding (kind, object) or nothing. A system call names a capability by slot; Lookup checks
// the slot holds the kind the call needs and yields the object (an environment id for
// Environment, 0 for Console).
//
// Invariants:
//   - slot 0 is never stored: it means the calling environment itself (CapabilitySlots.Self),
//     which the kernel resolves before it looks anything up;
//   - an occupied slot's kind is never CapabilityKind.None; an empty slot holds (None, 0);
//   - Count == the number of occupied slots;
//   - a slot number from user space is checked against the slot count before it indexes anything.
using Aegis.Abi;

namespace Aegis.Kernel.Core.Exo
{
    public sealed class CapabilityTable
    {
        /// <summary>The lowest slot TryInsert hands out (0 is Self, 1 is by convention Console).</summary>
        public const ulong FirstFreeSlot = 2;

        private readonly CapabilityKind[] _kinds = new CapabilityKind[CapabilitySlots.Count];
        private readonly ulong[] _objects = new ulong[CapabilitySlots.Count];

        public int Count { get; private set; }

        /// <summary>Stores a capability in the lowest empty slot from FirstFreeSlot up. InvalidArgument
        /// for kind None, NoMemory when no slot is empty.</summary>
        public Error TryInsert(CapabilityKind kind, ulong objectId, out ulong slot)
        {
            slot = 0;
            if (!IsKnownKind(kind)) return Error.InvalidArgument;
            for (ulong candidate = FirstFreeSlot; candidate < CapabilitySlots.Count; candidate++)
            {
                if (_kinds[(int)candidate] != CapabilityKind.None) continue;
                Store(candidate, kind, objectId);
                slot = candidate;
                return Error.None;
            }
            return Error.NoMemory;
        }

        /// <summary>True when TryInsert would find an empty slot (a caller checks before it acts).</summary>
        public bool HasFreeSlot()
        {
            for (ulong candidate = FirstFreeSlot; candidate < CapabilitySlots.Count; candidate++)
                if (_kinds[(int)candidate] == CapabilityKind.None) return true;
            return false;
        }

        /// <summary>Stores a capability in the named slot. InvalidArgument for slot 0 (Self), a slot past
        /// the table or kind None; Busy when the slot is occupied (Remove it first).</summary>
        public Error TryInsertAt(ulong slot, CapabilityKind kind, ulong objectId)
        {
            if (slot == CapabilitySlots.Self || slot >= CapabilitySlots.Count || !IsKnownKind(kind))
                return Error.InvalidArgument;
            if (_kinds[(int)slot] != CapabilityKind.None) return Error.Busy;
            Store(slot, kind, objectId);
            return Error.None;
        }

        /// <summary>The object of the capability in slot, which must be of the expected kind.
        /// InvalidArgument for a slot past the table; NoCapability for slot 0 (Self is the caller's
        /// business), an empty slot or one of another kind.</summary>
        public Error Lookup(ulong slot, CapabilityKind expected, out ulong objectId)
        {
            objectId = 0;
            if (slot >= CapabilitySlots.Count) return Error.InvalidArgument;
            if (expected == CapabilityKind.None || _kinds[(int)slot] != expected) return Error.NoCapability;
            objectId = _objects[(int)slot];
            return Error.None;
        }

        /// <summary>What slot holds, whatever its kind (CapabilityQuery). InvalidArgument for a slot
        /// past the table, NoCapability for an empty one.</summary>
        public Error Query(ulong slot, out CapabilityKind kind, out ulong objectId)
        {
            kind = CapabilityKind.None;
            objectId = 0;
            if (slot >= CapabilitySlots.Count) return Error.InvalidArgument;
            if (_kinds[(int)slot] == CapabilityKind.None) return Error.NoCapability;
            kind = _kinds[(int)slot];
            objectId = _objects[(int)slot];
            return Error.None;
        }

        /// <summary>Empties slot; an empty or out-of-range slot is left alone.</summary>
        public void Remove(ulong slot)
        {
            if (slot >= CapabilitySlots.Count || _kinds[(int)slot] == CapabilityKind.None) return;
            _kinds[(int)slot] = CapabilityKind.None;
            _objects[(int)slot] = 0;
            Count--;
        }

        /// <summary>Empties every slot naming (kind, objectId), e.g. the capabilities over an
        /// environment that ended. Returns how many were removed.</summary>
        public int RemoveAllFor(CapabilityKind kind, ulong objectId)
        {
            int removed = 0;
            if (kind == CapabilityKind.None) return 0;
            for (ulong slot = 1; slot < CapabilitySlots.Count; slot++)
            {
                if (_kinds[(int)slot] != kind || _objects[(int)slot] != objectId) continue;
                Remove(slot);
                removed++;
            }
            return removed;
        }

        /// <summary>Empties every slot (the environment ended).</summary>
        public void Clear()
        {
            for (ulong slot = 1; slot < CapabilitySlots.Count; slot++) Remove(slot);
        }

        private void Store(ulong slot, CapabilityKind kind, ulong objectId)
        {
            _kinds[(int)slot] = kind;
            _objects[(int)slot] = objectId;
            Count++;
        }

        /// <summary>Any kind but None (the ABI may add kinds; the kernel only ever passes real ones).</summary>
        private static bool IsKnownKind(CapabilityKind kind) => kind != CapabilityKind.None;
    }
}
