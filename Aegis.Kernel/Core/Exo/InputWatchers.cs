// InputWatchers: the environments one input device wakes when bytes arrive (InputWatch). Every
// watcher is woken, as every reader of a Linux tty is: a libOS process blocked reading the
// terminal and another of its foreground group blocked elsewhere (watching for ^C) both hear
// of a line, and the one that reads takes it. (Until issue #12's session 18 a device had one
// watcher, the last to ask, and a shell's `read` never woke while `nginx &` of the same group
// waited in epoll_wait.)
// Invariants: at most Capacity ids, none 0, none twice; the storage is made once by the
// constructor, so no operation allocates (InputWatch is a path an app drives); Latest is the id
// whose last Add is the newest of those present (0 when empty). When the set is full, Add drops
// the watcher whose last Add is the oldest. The kernel calls it with interrupts off.
namespace Aegis.Kernel.Core.Exo
{
    public sealed class InputWatchers
    {
        private readonly ulong[] _ids;
        private readonly ulong[] _added; // when each slot's id was last added (_clock's value)
        private ulong _clock;

        public InputWatchers(int capacity)
        {
            if (capacity <= 0) throw new System.ArgumentOutOfRangeException(nameof(capacity));
            _ids = new ulong[capacity];
            _added = new ulong[capacity];
        }

        public int Capacity => _ids.Length;

        /// <summary>The id in a slot (0: the slot is empty); slots are 0..Capacity-1.</summary>
        public ulong At(int slot) => _ids[slot];

        public int Count
        {
            get
            {
                int count = 0;
                for (int i = 0; i < _ids.Length; i++) if (_ids[i] != 0) count++;
                return count;
            }
        }

        public bool Contains(ulong id)
        {
            if (id == 0) return false;
            for (int i = 0; i < _ids.Length; i++) if (_ids[i] == id) return true;
            return false;
        }

        /// <summary>The watcher added most recently (0: none).</summary>
        public ulong Latest
        {
            get
            {
                ulong id = 0, when = 0;
                for (int i = 0; i < _ids.Length; i++)
                    if (_ids[i] != 0 && _added[i] >= when) { id = _ids[i]; when = _added[i]; }
                return id;
            }
        }

        /// <summary>Adds id (or makes it the latest again when present). Returns the id dropped to
        /// make room (the one added longest ago), or 0. Ignores id 0.</summary>
        public ulong Add(ulong id)
        {
            if (id == 0) return 0;
            int free = -1, oldest = 0;
            for (int i = 0; i < _ids.Length; i++)
            {
                if (_ids[i] == id) { _added[i] = ++_clock; return 0; }
                if (_ids[i] == 0) { if (free < 0) free = i; }
                else if (_ids[oldest] != 0 && _added[i] < _added[oldest]) oldest = i;
            }
            ulong dropped = 0;
            int slot = free;
            if (slot < 0) { slot = oldest; dropped = _ids[oldest]; }
            _ids[slot] = id;
            _added[slot] = ++_clock;
            return dropped;
        }

        /// <summary>Removes id; false when it was not a watcher.</summary>
        public bool Remove(ulong id)
        {
            if (id == 0) return false;
            for (int i = 0; i < _ids.Length; i++)
                if (_ids[i] == id) { _ids[i] = 0; _added[i] = 0; return true; }
            return false;
        }

        /// <summary>Empties a slot (a watcher found dead).</summary>
        public void RemoveAt(int slot)
        {
            _ids[slot] = 0;
            _added[slot] = 0;
        }
    }
}
