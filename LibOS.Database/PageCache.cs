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
// Concurrent readers (TransactionScheduler, AttachScheduler): another transaction may run while
// one waits for the store inside a Fetch — and only then (run to completion). A frame whose
// contents are in transit (being read in, or written out before its eviction) is Busy: nobody
// uses or evicts it, and a transaction that needs its page steps aside (ITransactionYield) and
// looks again. A frame being read stays Busy until the transaction that waits for it runs
// again, so the page it asked for is there when its Fetch returns, and no other transaction
// runs between that return and its next call that can wait.
// Invariants: _frameOf[page] == f + 1  <=>  _pageIn[f] == page (0: not cached); a frame is either free or holds a
// page; Fetch's pointer stays valid until the same transaction's next Fetch, FetchForWrite's
// until the commit; a Busy frame is never chosen as a victim; the scan frame is read into by one
// transaction at a time.
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
        // Concurrency (null while no scheduler is attached): the frames in transit.
        private ITransactionYield _yield;
        private byte[] _busy;
        private bool _scanBusy;

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
            while (frame >= 0 && _busy != null && _busy[frame] != 0)
            {
                _yield.StepAside();
                frame = _frameOf[page] - 1;
            }
            if (frame >= 0)
            {
                Hits++;
                return _frames.Page(frame);
            }
            if (_scanPage == null || _freeCount > 0 || _scanBusy || (Spill != null && Spill.IsSpilled(page))) return Fetch(page);
            // Counted before the read: a cursor of another transaction that runs while this one
            // waits must not trust the scan frame's old contents.
            ScanReads++;
            PagesRead++;
            _scanBusy = _busy != null;
            try { _store.Read(page, _scanPage, 1); }
            finally { _scanBusy = false; }
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

        public bool CanEvict(int frame) => _state[frame] != Changing && (_busy == null || _busy[frame] == 0);

        /// <summary>From TransactionScheduler.Run: transactions may now fetch in turns, another
        /// running while one waits for the store.</summary>
        public void AttachScheduler(ITransactionYield yield)
        {
            _yield = yield ?? throw new ArgumentNullException(nameof(yield));
            _busy = new byte[_frames.Count];
        }

        /// <summary>Back to one transaction at a time (every transaction has ended).</summary>
        public void DetachScheduler()
        {
            _yield = null;
            _busy = null;
        }

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
            while (true)
            {
                int frame = _frameOf[page] - 1;
                if (frame >= 0)
                {
                    if (_busy != null && _busy[frame] != 0)
                    {
                        _yield.StepAside(); // in transit for another transaction: look again after
                        continue;
                    }
                    Hits++;
                    _policy.Referenced(frame);
                    return frame;
                }
                frame = TakeFrame();
                if (_frameOf[page] != 0)
                {
                    // Another transaction loaded it while this one wrote its victim out.
                    _free[_freeCount++] = frame;
                    continue;
                }
                Load(page, frame, read);
                return frame;
            }
        }

        /// <summary>Brings 'page' into the empty 'frame' (and read-ahead pages into the free frames
        /// after it): mapped first and Busy while the read is in flight; on a failed read the
        /// frames are free again and the error goes on.</summary>
        private void Load(ulong page, int frame, bool read)
        {
            Misses++;
            bool spilled = Spill != null && Spill.IsSpilled(page);
            int run = read && !spilled ? ReadAheadRun(page, frame) : 1;
            for (int i = 0; i < run; i++)
            {
                int f = i == 0 ? frame : _free[--_freeCount]; // the read-ahead pages' frames are the next free ones
                ulong p = page + (ulong)i;
                _pageIn[f] = p;
                _state[f] = Clean;
                _frameOf[p] = f + 1;
                if (_busy != null) _busy[f] = 1;
            }
            try
            {
                if (spilled)
                {
                    Spill.TryRead(page, _frames.Page(frame));
                    _state[frame] = Committed;
                    _committed++;
                }
                else if (read)
                {
                    _store.Read(page, _frames.Page(frame), run);
                    PagesRead += (ulong)run;
                }
            }
            catch
            {
                for (int i = run - 1; i >= 0; i--)
                {
                    int f = frame + i;
                    _frameOf[page + (ulong)i] = 0;
                    _pageIn[f] = NoPage;
                    if (_busy != null) _busy[f] = 0;
                    _free[_freeCount++] = f;
                }
                throw;
            }
            for (int i = 0; i < run; i++)
            {
                if (_busy != null) _busy[frame + i] = 0;
                _policy.Loaded(frame + i, page + (ulong)i);
            }
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
                // Busy while it is written out: a transaction that runs meanwhile and needs the
                // page steps aside, then reads it back from where it went.
                if (_busy != null) _busy[victim] = 1;
                try
                {
                    if (Spill != null) Spill.Spill(page, _frames.Page(victim));
                    else
                    {
                        _store.Write(page, _frames.Page(victim), 1);
                        WriteBacks++;
                    }
                }
                finally { if (_busy != null) _busy[victim] = 0; }
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
