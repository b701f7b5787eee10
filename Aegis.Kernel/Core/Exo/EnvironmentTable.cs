// EnvironmentTable: which environment ids are alive. An id names one environment for its
// whole life and never again: id = (generation << IndexBits) | index, where index picks one of
// Capacity table slots and generation counts how often that slot has been used. Freeing an
// environment bumps its slot's generation, so every id handed out before is stale from then
// on and IndexOf rejects it. The kernel keeps its per-environment state in its own arrays
// indexed by IndexOf(id).
//
// Invariants:
//   - index 0 is never used, so id 0 ("none") is never live;
//   - a slot's generation is >= 1 and only grows (it wraps to 1 after MaximumGeneration,
//     about 1.8e16 reuses of one slot), so no id is ever 0 or ulong.MaxValue;
//   - Count == the number of live slots;
//   - a live environment's parent is 0 or was live when the child was made.
namespace Aegis.Kernel.Core.Exo
{
    public sealed class EnvironmentTable
    {
        public const int Capacity = 1024;
        public const int IndexBits = 10;
        public const ulong IndexMask = Capacity - 1;
        /// <summary>The last generation before a slot wraps to 1. One short of the top, so no id is
        /// ever ulong.MaxValue (FrameLedger.KernelOwner).</summary>
        public const ulong MaximumGeneration = (ulong.MaxValue >> IndexBits) - 1;

        private readonly ulong[] _generations = new ulong[Capacity];
        private readonly bool[] _live = new bool[Capacity];
        private readonly ulong[] _parents = new ulong[Capacity];
        private int _nextIndex = 1;

        public EnvironmentTable()
        {
            for (int index = 0; index < Capacity; index++) _generations[index] = 1;
        }

        /// <summary>Live environments.</summary>
        public int Count { get; private set; }

        /// <summary>The table slot an id points at (live or not): its low IndexBits bits.</summary>
        public static int SlotOf(ulong id) => (int)(id & IndexMask);

        /// <summary>Makes a new environment whose creator is parentId (0 for one the kernel starts).
        /// Slots are taken next-fit, so a freed slot is reused as late as possible. False when
        /// every slot is live, or when parentId is neither 0 nor a live environment.</summary>
        public bool TryAllocate(ulong parentId, out ulong id)
        {
            id = 0;
            if (parentId != 0 && !IsLive(parentId)) return false;
            if (Count == Capacity - 1) return false;
            int index = _nextIndex;
            while (_live[index]) index = NextIndex(index);
            _live[index] = true;
            _parents[index] = parentId;
            _nextIndex = NextIndex(index);
            Count++;
            id = (_generations[index] << IndexBits) | (uint)index;
            return true;
        }

        public bool IsLive(ulong id) => IndexOf(id) >= 0;

        /// <summary>The slot of a live environment, or -1 for 0, a stale id or one never issued.</summary>
        public int IndexOf(ulong id)
        {
            int index = SlotOf(id);
            if (index == 0 || !_live[index]) return -1;
            return (id >> IndexBits) == _generations[index] ? index : -1;
        }

        /// <summary>The id of the environment living in a slot, or 0 when the slot is free or out of range.</summary>
        public ulong IdAt(int index)
        {
            if (index <= 0 || index >= Capacity || !_live[index]) return 0;
            return (_generations[index] << IndexBits) | (uint)index;
        }

        /// <summary>The creator of a live environment (0 when the kernel made it, or for an id not live).</summary>
        public ulong ParentOf(ulong id)
        {
            int index = IndexOf(id);
            return index < 0 ? 0 : _parents[index];
        }

        /// <summary>Hands a live environment to another parent (0: none), e.g. when its creator ends.
        /// False when id is not live or parentId is neither 0 nor live.</summary>
        public bool SetParent(ulong id, ulong parentId)
        {
            int index = IndexOf(id);
            if (index < 0 || (parentId != 0 && !IsLive(parentId))) return false;
            _parents[index] = parentId;
            return true;
        }

        /// <summary>Ends a live environment; its id (and every earlier id of its slot) is stale from
        /// now on. A stale or unknown id is ignored.</summary>
        public void Free(ulong id)
        {
            int index = IndexOf(id);
            if (index < 0) return;
            _live[index] = false;
            _parents[index] = 0;
            ulong generation = _generations[index];
            _generations[index] = generation >= MaximumGeneration ? 1 : generation + 1;
            Count--;
        }

        private static int NextIndex(int index) => index + 1 < Capacity ? index + 1 : 1;
    }
}
