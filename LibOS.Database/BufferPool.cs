// BufferPool: the database's own cache of blocks, in frames it allocates and maps itself (one
// page per buffer, in a range it reserved), with its own replacement policy: the clock
// algorithm driven by the MMU's accessed bit, which the exokernel exposes (PageQuery reads a
// page's accessed and dirty bits, PageClean clears them). A buffer the app touched since the
// hand last passed gets a second chance; the first one not touched is the victim. A victim is
// written back only if the MMU's dirty bit (or a dirty bit saved when the hand cleared the
// bits) says it was written since it was loaded. Callers use the page in place: Fetch returns
// its address, valid until the next Fetch.
// Invariants: Blocks[slot] is the block in buffer slot (or NoBlock); a block is in at most one
// slot; right after a load the page's accessed and dirty bits are clear (the copy set them).
using System;
using Aegis.Abi;

namespace Aegis.LibOS.Database
{
    public sealed unsafe class BufferPool
    {
        private const ulong NoBlock = ulong.MaxValue;

        private readonly BlockStore _store;
        private readonly ulong _base;
        private readonly ulong[] _blocks;
        private readonly bool[] _dirty;   // dirty bits saved when the clock hand cleared them
        private int _hand;

        public BufferPool(BlockStore store, int frameCount)
        {
            if (store == null) throw new ArgumentNullException(nameof(store));
            if (frameCount <= 0) throw new ArgumentOutOfRangeException(nameof(frameCount));
            _store = store;
            _base = AddressSpace.Reserve(frameCount);
            if (_base == 0 || Memory.AllocateAndMap(_base, frameCount, Memory.ReadWrite) != Error.None)
                throw new InvalidOperationException("the buffer pool cannot map its frames");
            FrameCount = frameCount;
            _blocks = new ulong[frameCount];
            _dirty = new bool[frameCount];
            for (int slot = 0; slot < frameCount; slot++)
            {
                _blocks[slot] = NoBlock;
                Memory.Clean(PageOf(slot));
            }
        }

        public int FrameCount { get; }
        public ulong Hits { get; private set; }
        public ulong Misses { get; private set; }
        public ulong Evictions { get; private set; }
        public ulong WriteBacks { get; private set; }

        /// <summary>The page holding 'block', loading it (and evicting another) if needed.</summary>
        public byte* Fetch(ulong block)
        {
            for (int slot = 0; slot < FrameCount; slot++)
            {
                if (_blocks[slot] != block) continue;
                Hits++;
                return (byte*)PageOf(slot);
            }
            Misses++;
            int victim = ChooseVictim();
            byte* page = (byte*)PageOf(victim);
            if (_blocks[victim] != NoBlock)
            {
                Evictions++;
                if (_dirty[victim] || WrittenSinceClean(victim))
                {
                    _store.WriteBlock(_blocks[victim], page);
                    WriteBacks++;
                }
            }
            _store.ReadBlock(block, page);
            _blocks[victim] = block;
            _dirty[victim] = false;
            Memory.Clean(PageOf(victim));
            return page;
        }

        /// <summary>Writes every written buffer back to the store (they stay cached).</summary>
        public void Flush()
        {
            for (int slot = 0; slot < FrameCount; slot++)
            {
                if (_blocks[slot] == NoBlock || !(_dirty[slot] || WrittenSinceClean(slot))) continue;
                _store.WriteBlock(_blocks[slot], (byte*)PageOf(slot));
                WriteBacks++;
                _dirty[slot] = false;
                Memory.Clean(PageOf(slot));
            }
            _store.Flush(); // on a disk: durable when this returns
        }

        /// <summary>The clock: an empty buffer, or the first one not accessed since the hand passed
        /// it; accessed ones have their bit cleared (their dirty bit saved) and are passed over.</summary>
        private int ChooseVictim()
        {
            for (int step = 0; step < 2 * FrameCount + 1; step++)
            {
                int slot = _hand;
                _hand = (_hand + 1) % FrameCount;
                if (_blocks[slot] == NoBlock)
                    return slot;
                if (Memory.Query(PageOf(slot), out PageInfo mapping) != Error.None)
                    throw new InvalidOperationException("a buffer page is not mapped");
                if (!mapping.IsAccessed)
                    return slot;
                if (mapping.IsDirty)
                    _dirty[slot] = true;
                Memory.Clean(PageOf(slot));
            }
            return _hand; // every bit was cleared on the first round: unreachable
        }

        private bool WrittenSinceClean(int slot)
            => Memory.Query(PageOf(slot), out PageInfo mapping) == Error.None && mapping.IsDirty;

        private ulong PageOf(int slot) => _base + (ulong)slot * UserAddresses.PageSize;
    }
}
