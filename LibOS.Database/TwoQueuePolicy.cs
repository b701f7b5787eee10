// TwoQueuePolicy: the 2Q replacement policy (Johnson and Shasha, VLDB 1994), scan-resistant.
// - A1in: a FIFO of pages seen once (a quarter of the frames). A page read for the first time
//   enters here; hits while it is here do not promote it (they are correlated references, such
//   as a scan reading a leaf's records one after another).
// - A1out: a ghost FIFO of the page numbers (no data) last evicted from A1in, half the frame count.
// - Am: an LRU of pages asked for again after they left A1in — the hot set.
// A miss on a page remembered in A1out loads it into Am; other misses load into A1in. The victim
// is A1in's oldest page while A1in holds more than its share, else Am's least recently used.
// A full scan therefore passes through A1in (and A1out) and leaves Am — the hot set — alone.
using System.Collections.Generic;

namespace Aegis.LibOS.Database
{
    public sealed class TwoQueuePolicy : IReplacementPolicy
    {
        private const int SeenOnce = 1, Hot = 2;

        private FrameLists _lists;
        private int _seenOnceShare;
        // A1out: a ring of page numbers; _ghostAt says where a page's live entry is.
        private ulong[] _ghosts;
        private int _ghostNext, _ghostCount;
        private Dictionary<ulong, int> _ghostAt;

        public void Attach(int frameCount)
        {
            _lists = new FrameLists(frameCount, 2);
            _seenOnceShare = frameCount / 4 > 0 ? frameCount / 4 : 1;
            int ghosts = frameCount / 2 > 0 ? frameCount / 2 : 1;
            _ghosts = new ulong[ghosts];
            _ghostAt = new Dictionary<ulong, int>();
            _ghostNext = 0;
            _ghostCount = 0;
        }

        public void Referenced(int frame)
        {
            if (_lists.ListOf(frame) != Hot) return; // A1in: a correlated reference
            _lists.Remove(frame);
            _lists.PushHead(Hot, frame);
        }

        public void Loaded(int frame, ulong page)
        {
            if (_ghostAt.Remove(page)) _lists.PushHead(Hot, frame);
            else _lists.PushHead(SeenOnce, frame);
        }

        public int ChooseVictim(IFramePins pins)
        {
            int victim = -1;
            if (_lists.Count(SeenOnce) > _seenOnceShare || _lists.Count(Hot) == 0)
                victim = _lists.OldestEvictable(SeenOnce, pins);
            if (victim < 0) victim = _lists.OldestEvictable(Hot, pins);
            if (victim < 0) victim = _lists.OldestEvictable(SeenOnce, pins);
            return victim;
        }

        public void Evicted(int frame, ulong page)
        {
            if (_lists.ListOf(frame) == SeenOnce) Remember(page);
            _lists.Remove(frame);
        }

        private void Remember(ulong page)
        {
            if (_ghostCount == _ghosts.Length)
            {
                ulong oldest = _ghosts[_ghostNext];
                if (_ghostAt.TryGetValue(oldest, out int at) && at == _ghostNext) _ghostAt.Remove(oldest);
            }
            else _ghostCount++;
            _ghosts[_ghostNext] = page;
            _ghostAt[page] = _ghostNext;
            _ghostNext = (_ghostNext + 1) % _ghosts.Length;
        }
    }
}
