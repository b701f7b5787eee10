// PageCache: the key-value store's buffer pool. Pages live in frames the caller gives it (on
// Aegis, frames the app mapped itself; on the host, aligned memory); Fetch returns the page in
// place. Which page leaves is an IReplacementPolicy's choice (TwoQueuePolicy by default).
// Dirty pages are tracked explicitly (the write-ahead log needs to know which pages a
// transaction changed), not with the MMU's dirty bit as BufferPool does.
// States of a cached page:
//   Clean      — the same as its home page on the store;
//   Committed  — changed by committed transactions, not yet written home (the durable log can
//                redo it); at a checkpoint it is written home; when evicted it goes to the
//                IPageSpill if there is one (KvStore's log: home pages change only at checkpoints),
//                else home;
//   Changing   — changed by the running transaction: pinned (no steal), so nothing uncommitted
//                ever reaches its home page. Commit turns these into Committed.
// Invariants: _frameOf[page] == f + 1  <=>  _pageIn[f] == page (0: not cached); a frame is either free or holds a
// page; Fetch's pointer stays valid until the next Fetch, FetchForWrite's until the commit.
using System;
using System.Collections.Generic;

namespace Aegis.LibOS.Database
{
    /// <summary>Where a committed page goes when it leaves the cache before it may be written home,
    /// and where it is read back from.</summary>
    public unsafe interface IPageSpill
    {
        void Spill(ulong page, byte* data);
        /// <summary>The spilled page's data into 'into'; false when the page was not spilled.</summary>
        bool TryRead(ulong page, byte* into);
        bool IsSpilled(ulong page);
    }

    public sealed unsafe class PageCache : IFramePins
    {
        public const int PageSize = 4096;
        private const ulong NoPage = ulong.MaxValue;
        private const byte Clean = 0, Committed = 1, Changing = 2;

        private readonly IPageStore _store;
        private readonly PageFrames _frames;
        private readonly IReplacementPolicy _policy;
        private readonly int[] _frameOf;  // page -> frame + 1 (0: not cached), one entry per page of the store
        private readonly ulong _pageCount;
        private readonly ulong[] _pageIn;
        private readonly byte[] _state;
        private readonly int[] _free;
        private int _freeCount;
        private int _committed;
        private readonly List<int> _changing = new List<int>();

        public PageCache(IPageStore store, PageFrames frames, IReplacementPolicy policy)
        {
            _store = store ?? throw new ArgumentNullException(nameof(store));
            if (frames.Count <= 0) throw new ArgumentOutOfRangeException(nameof(frames));
            if (frames.Count >= ScanFrameFrom)
            {
                // The last frame is the scans' own (FetchForScan); the others hold pages.
                _scanPage = frames.Page(frames.Count - 1);
                frames = new PageFrames(frames.Start, frames.Count - 1);
            }
            _frames = frames;
            _policy = policy ?? new TwoQueuePolicy();
            _policy.Attach(frames.Count);
            _pageCount = store.PageCount;
            _frameOf = new int[_pageCount];
            _pageIn = new ulong[frames.Count];
            _state = new byte[frames.Count];
            _free = new int[frames.Count];
            for (int f = 0; f < frames.Count; f++)
            {
                _pageIn[f] = NoPage;
                _free[f] = frames.Count - 1 - f;
            }
            _freeCount = frames.Count;
        }

        /// <summary>Frames for pages (a cache of 16 frames or more keeps one more for scans).</summary>
        public int FrameCount => _frames.Count;
        public const int ScanFrameFrom = 16;
        private readonly byte* _scanPage;
        /// <summary>Pages a scan read into its own frame instead of the cache.</summary>
        public ulong ScanReads { get; private set; }
        /// <summary>Changes while which every pointer Fetch or FetchForScan returned still points at
        /// its page's current contents: evictions, loads and scan reads (a cursor stays on its leaf
        /// while it is unchanged).</summary>
        public ulong Changes => Evictions + Misses + ScanReads;

        /// <summary>A page for a scan: from the cache when it is there (not counted as a reference
        /// by the policy: a scan's touch is no reason to keep a page), into a free frame while
        /// there is one, else into the scans' own frame without evicting anything — so a scan
        /// larger than the cache leaves the cache as it found it. Valid while Changes is unchanged.</summary>
        public byte* FetchForScan(ulong page)
        {
            if (page >= _pageCount) throw new CorruptStoreException("page " + page.ToString() + " is past the store's end");
            int frame = _frameOf[page] - 1;
            if (frame >= 0)
            {
                Hits++;
                return _frames.Page(frame);
            }
            if (_scanPage == null || _freeCount > 0 || (Spill != null && Spill.IsSpilled(page))) return Fetch(page);
            _store.Read(page, _scanPage, 1);
            PagesRead++;
            ScanReads++;
            return _scanPage;
        }
        public ulong Hits { get; private set; }
        public ulong Misses { get; private set; }
        public ulong WriteBacks { get; private set; }
        /// <summary>Pages evicted so far: while it is unchanged, every pointer Fetch returned still
        /// points at its page (a cursor uses this to stay on its leaf without fetching again).</summary>
        public ulong Evictions { get; private set; }
        public IReplacementPolicy Policy => _policy;
        /// <summary>Read-ahead: a miss on page p while the cache still has free frames also reads the
        /// pages after p, up to 32 and below this bound (0: no read-ahead), that are not cached, in
        /// one request, into consecutive free frames. KvStore sets it to the tree's end. It never
        /// evicts: once the cache is full, a miss reads one page.</summary>
        public ulong ReadAheadEnd { get; set; }
        /// <summary>Pages read from the store (misses and read-ahead).</summary>
        public ulong PagesRead { get; private set; }
        public const int ReadAheadPages = 32;

        /// <summary>Where evicted committed pages go (null: home).</summary>
        public IPageSpill Spill { get; set; }
        /// <summary>Cached pages in the Committed state (changed, not home yet).</summary>
        public int CommittedCount => _committed;
        public ulong PageInFrame(int frame) => _pageIn[frame];
        /// <summary>The frame holding 'page', -1 when it is not cached.</summary>
        public int FrameOf(ulong page) => page < _pageCount ? _frameOf[page] - 1 : -1;
        public bool IsCommitted(int frame) => _state[frame] == Committed;

        /// <summary>The caller wrote every committed page home (a checkpoint): they are clean now.</summary>
        public void CommittedAreHome()
        {
            for (int f = 0; f < _frames.Count; f++)
            {
                if (_state[f] != Committed) continue;
                _state[f] = Clean;
                WriteBacks++;
            }
            _committed = 0;
        }
        public byte* FrameData(int frame) => _frames.Page(frame);

        /// <summary>The pages the running transaction changed.</summary>
        public int ChangingCount => _changing.Count;
        public ulong ChangingPage(int index) => _pageIn[_changing[index]];
        public byte* ChangingData(int index) => _frames.Page(_changing[index]);

        public bool CanEvict(int frame) => _state[frame] != Changing;

        public bool IsCached(ulong page) => page < _pageCount && _frameOf[page] != 0;

        /// <summary>The page, read from the store if it is not cached.</summary>
        public byte* Fetch(ulong page) => _frames.Page(Locate(page, read: true));

        /// <summary>The page, to be changed by the running transaction (pinned until the commit).</summary>
        public byte* FetchForWrite(ulong page)
        {
            int frame = Locate(page, read: true);
            MarkChanging(frame);
            return _frames.Page(frame);
        }

        /// <summary>A new page (its old contents are not read): zeroed, changed by the running transaction.</summary>
        public byte* Create(ulong page)
        {
            int frame = Locate(page, read: false);
            byte* data = _frames.Page(frame);
            for (int i = 0; i < PageSize / 8; i++) ((ulong*)data)[i] = 0;
            MarkChanging(frame);
            return data;
        }

        /// <summary>The running transaction is durable: its pages may now be written home.</summary>
        public void TransactionCommitted()
        {
            for (int i = 0; i < _changing.Count; i++) _state[_changing[i]] = Committed;
            _committed += _changing.Count;
            _changing.Clear();
        }

        private void MarkChanging(int frame)
        {
            if (_state[frame] == Changing) return;
            if (_state[frame] == Committed) _committed--;
            _state[frame] = Changing;
            _changing.Add(frame);
        }

        private int Locate(ulong page, bool read)
        {
            if (page >= _pageCount) throw new CorruptStoreException("page " + page.ToString() + " is past the store's end");
            int frame = _frameOf[page] - 1;
            if (frame >= 0)
            {
                Hits++;
                _policy.Referenced(frame);
                return frame;
            }
            Misses++;
            frame = TakeFrame();
            byte state = Clean;
            if (Spill != null && Spill.TryRead(page, _frames.Page(frame))) { state = Committed; _committed++; }
            else if (read)
            {
                int run = ReadAheadRun(page, frame);
                _store.Read(page, _frames.Page(frame), run);
                PagesRead += (ulong)run;
                for (int i = 1; i < run; i++) // the read-ahead pages: their frames are the next free ones
                {
                    int next = _free[--_freeCount];
                    ulong ahead = page + (ulong)i;
                    _pageIn[next] = ahead;
                    _state[next] = Clean;
                    _frameOf[ahead] = next + 1;
                    _policy.Loaded(next, ahead);
                }
            }
            _pageIn[frame] = page;
            _state[frame] = state;
            _frameOf[page] = frame + 1;
            _policy.Loaded(frame, page);
            return frame;
        }

        /// <summary>How many pages from 'page' one read brings into 'frame' and the free frames after
        /// it (1: no read-ahead): pages not cached, not spilled, below ReadAheadEnd, into frames that
        /// are consecutive in memory and on top of the free stack.</summary>
        private int ReadAheadRun(ulong page, int frame)
        {
            if (page + 1 >= ReadAheadEnd || _freeCount == 0) return 1;
            int run = 1;
            while (run < ReadAheadPages && page + (ulong)run < ReadAheadEnd && run - 1 < _freeCount
                && _free[_freeCount - run] == frame + run && _frameOf[page + (ulong)run] == 0)
                run++;
            if (Spill != null && run > 1)
                for (int i = 1; i < run; i++)
                {
                    if (!Spill.IsSpilled(page + (ulong)i)) continue;
                    run = i;
                    break;
                }
            return run;
        }

        private int TakeFrame()
        {
            if (_freeCount > 0) return _free[--_freeCount];
            int victim = _policy.ChooseVictim(this);
            if (victim < 0 || _pageIn[victim] == NoPage || _state[victim] == Changing)
                throw new InvalidOperationException("every cached page is changed by the running transaction: the cache is too small for it");
            ulong page = _pageIn[victim];
            if (_state[victim] == Committed)
            {
                if (Spill != null) Spill.Spill(page, _frames.Page(victim));
                else
                {
                    _store.Write(page, _frames.Page(victim), 1);
                    WriteBacks++;
                }
                _committed--;
            }
            _policy.Evicted(victim, page);
            Evictions++;
            _frameOf[page] = 0;
            _pageIn[victim] = NoPage;
            _state[victim] = Clean;
            return victim;
        }
    }
}
