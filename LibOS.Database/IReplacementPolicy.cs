// IReplacementPolicy: which cached page PageCache evicts. The cache keeps the page table
// (page -> frame) and the free frames; the policy sees only frames: a page loaded into one, a
// hit on one, and a request for a victim among the frames the cache lets go (IFramePins: pages a
// running transaction changed stay until it commits). Replaceable: TwoQueuePolicy (the default,
// scan-resistant) and LruPolicy (plain LRU, which a scan flushes) implement it.
namespace Aegis.LibOS.Database
{
    public interface IFramePins
    {
        /// <summary>May the page in this frame be evicted now?</summary>
        bool CanEvict(int frame);
    }

    public interface IReplacementPolicy
    {
        /// <summary>Called once by the cache: frames are 0 .. frameCount-1, all empty.</summary>
        void Attach(int frameCount);

        /// <summary>The page in 'frame' was asked for and was cached.</summary>
        void Referenced(int frame);

        /// <summary>'page' was read into the empty 'frame' (a miss).</summary>
        void Loaded(int frame, ulong page);

        /// <summary>A frame holding a page that pins allow to be evicted; -1 when there is none.</summary>
        int ChooseVictim(IFramePins pins);

        /// <summary>The cache evicted 'page' from 'frame' (now empty).</summary>
        void Evicted(int frame, ulong page);
    }

    /// <summary>Doubly linked lists of frames threaded through arrays (no allocation per
    /// operation); several lists share the arrays, each frame is on at most one.</summary>
    internal sealed class FrameLists
    {
        private readonly int[] _previous, _next, _listOf;
        private readonly int[] _head, _tail, _count;

        public FrameLists(int frames, int lists)
        {
            _previous = new int[frames]; _next = new int[frames]; _listOf = new int[frames];
            _head = new int[lists + 1]; _tail = new int[lists + 1]; _count = new int[lists + 1];
            for (int i = 0; i < frames; i++) _listOf[i] = 0;
            for (int l = 0; l <= lists; l++) { _head[l] = -1; _tail[l] = -1; }
        }

        /// <summary>The list 'frame' is on (1..lists), 0 for none.</summary>
        public int ListOf(int frame) => _listOf[frame];
        public int Count(int list) => _count[list];
        public int Tail(int list) => _tail[list];
        public int Previous(int frame) => _previous[frame];

        public void PushHead(int list, int frame)
        {
            _listOf[frame] = list;
            _previous[frame] = -1;
            _next[frame] = _head[list];
            if (_head[list] >= 0) _previous[_head[list]] = frame; else _tail[list] = frame;
            _head[list] = frame;
            _count[list]++;
        }

        public void Remove(int frame)
        {
            int list = _listOf[frame];
            if (list == 0) return;
            int previous = _previous[frame], next = _next[frame];
            if (previous >= 0) _next[previous] = next; else _head[list] = next;
            if (next >= 0) _previous[next] = previous; else _tail[list] = previous;
            _listOf[frame] = 0;
            _count[list]--;
        }

        /// <summary>From the tail towards the head, the first frame pins allow to evict; -1 if none.</summary>
        public int OldestEvictable(int list, IFramePins pins)
        {
            for (int frame = _tail[list]; frame >= 0; frame = _previous[frame])
                if (pins.CanEvict(frame)) return frame;
            return -1;
        }
    }
}
