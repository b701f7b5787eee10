// KvStore: a durable key-value store on a page store of its own (one disk extent; StoreLayout):
// a B+tree (BTree) in a buffer pool (PageCache, with a replaceable IReplacementPolicy) and a
// redo log of the puts (WriteAheadLog; page images only at checkpoints). Open recovers: it
// replays the committed transactions the log holds on the tree the last checkpoint left, and
// ignores a torn or uncommitted tail.
// Transactions are implicit: the Puts since the last Commit form one; Commit returns when it is
// durable. There is no rollback: a transaction is committed or lost with a power cut (or the
// process's end). Reads see the running transaction's own changes.
// Meta page (little-endian u64s): magic AEGISKV1, version, root, height, next free page, record
// count, key size << 32 | value size, store pages, checksum of the first 64 bytes. It is changed
// only inside transactions and reaches home, like every page, only through a checkpoint.
using System;

namespace Aegis.LibOS.Database
{
    public sealed unsafe class KvStore : IRecordSink
    {
        private const ulong MetaMagic = 0x31564B5349474541UL; // "AEGISKV1"
        private const ulong MetaVersion = 2; // 2: keys stored as big-endian words (BTree)
        private const int MetaChecksumAt = 64;

        private readonly IPageStore _store;
        private readonly StoreLayout _layout;
        private readonly PageCache _cache;
        private readonly WriteAheadLog _log;
        private readonly int _stagingPages;
        private BTree _tree;
        private ulong _transactions;
        private bool _putsPending;

        private KvStore(IPageStore store, PageFrames cache, PageFrames logStaging, IReplacementPolicy policy)
        {
            _store = store ?? throw new ArgumentNullException(nameof(store));
            _layout = new StoreLayout(store.PageCount);
            _log = new WriteAheadLog(store, _layout, logStaging);
            _stagingPages = logStaging.Count;
            _cache = new PageCache(store, cache, policy ?? new TwoQueuePolicy());
            _cache.Spill = _log;
        }

        /// <summary>Opens (recovering) the store on 'store', or makes a new one if it is all zeros.
        /// The cache's frames and the log's staging pages (2 or more; 32 makes one request of a
        /// batch) are the caller's memory. Throws CorruptStoreException for a damaged store.</summary>
        public static KvStore Open(IPageStore store, PageFrames cache, PageFrames logStaging, IReplacementPolicy policy = null)
        {
            KvStore kv = new KvStore(store, cache, logStaging, policy);
            bool existed = kv._log.Recover();
            byte* meta = kv._cache.Fetch(kv._layout.MetaPage);
            if (existed && !IsZero(meta))
            {
                kv.ReadMeta(meta);
                if (kv._log.HasRecordsToReplay)
                {
                    try { kv._log.Replay(kv); }
                    catch (InvalidOperationException e) { throw new CorruptStoreException("the log cannot be replayed: " + e.Message); }
                    if (kv._tree.Changed) { kv.WriteMeta(); kv._cache.TransactionCommitted(); kv._tree.ClearChanged(); }
                    kv.Checkpoint();
                }
            }
            else if (IsZero(meta))
            {
                if (kv._log.HasRecordsToReplay) throw new CorruptStoreException("the log holds records but the store has no tree");
                if (!existed) kv._log.StartFirstEpoch();
                kv._tree = new BTree(kv._cache, kv._layout.FirstTreePage, kv._layout.PageCount, 0, 0, kv._layout.FirstTreePage, 0);
                kv._tree.CreateEmpty();
                kv.WriteMeta();
                kv._cache.TransactionCommitted();
                kv._tree.ClearChanged();
                kv.Checkpoint(); // the empty tree is home before anything is logged against it
            }
            else throw new CorruptStoreException("the meta page holds data but there is no log header");
            kv.ReadAhead = kv._readAhead;
            return kv;
        }

        /// <summary>Makes 'store' empty: clears the log headers and the meta page (the next Open
        /// starts a new store). 'page' is one page of scratch memory.</summary>
        public static void Erase(IPageStore store, byte* page)
        {
            StoreLayout layout = new StoreLayout(store.PageCount);
            for (int i = 0; i < PageCache.PageSize / 8; i++) ((ulong*)page)[i] = 0;
            store.Write(0, page, 1);
            store.Write(1, page, 1);
            store.Write(layout.MetaPage, page, 1);
            store.Flush();
        }

        public ulong Count => _tree.Count;
        public int Height => _tree.Height;
        public ulong TreePages => _tree.NextPage - _layout.FirstTreePage;
        public PageCache Cache => _cache;
        /// <summary>Where the store's pages live.</summary>
        public IPageStore Store => _store;
        public StoreLayout Layout => _layout;
        public ulong Transactions => _transactions;
        public ulong LogPagesWritten => _log.PagesWritten;
        /// <summary>Committed pages written to the log's spill slots because they left the cache
        /// before a checkpoint.</summary>
        public ulong SpillWrites => _log.SpillWrites;
        public ulong Checkpoints => _log.Checkpoints;
        /// <summary>Transactions replayed from the log when the store was opened.</summary>
        public ulong Replayed => _log.Replayed;

        /// <summary>Inserts or replaces (key, value) in the running transaction; true when the key was new.</summary>
        public bool Put(byte* key, byte* value)
        {
            bool added = _tree.Put(key, value);
            _log.Append(key, value, _transactions + 1);
            _putsPending = true;
            return added;
        }

        public bool Get(byte* key, byte* value) => _tree.Get(key, value);

        /// <summary>The leaf page where 'key' is or would be (tests and tools).</summary>
        public ulong LeafPageOf(byte* key) => _tree.LeafPageOf(key);

        /// <summary>Read-ahead (PageCache.ReadAheadEnd) up to the tree's end, while the cache has free
        /// frames; on by default.</summary>
        public bool ReadAhead
        {
            get => _readAhead;
            set { _readAhead = value; _cache.ReadAheadEnd = value ? _tree.NextPage : 0; }
        }
        private bool _readAhead = true;

        public BTree.Cursor First() => _tree.First();

        public BTree.Cursor Seek(byte* key) => _tree.Seek(key);

        /// <summary>Checks the tree's invariants (CorruptStoreException otherwise).</summary>
        public void Verify() => _tree.Verify();

        /// <summary>Makes the running transaction durable (its puts logged and flushed); returns after.</summary>
        public void Commit()
        {
            if (!_putsPending) return;
            if (_tree.Changed) WriteMeta();
            _log.Commit(++_transactions);
            _putsPending = false;
            _cache.TransactionCommitted();
            _tree.ClearChanged();
            if (_readAhead) _cache.ReadAheadEnd = _tree.NextPage;
            // Checkpoint while the log and the cache have room for the next transaction (a
            // quarter of each): the checkpoint needs log pages for every page not home yet, and
            // pages not home yet can leave the cache only to spill slots.
            ulong notHome = (ulong)_cache.CommittedCount + (ulong)_log.Spilled;
            if (_log.Used + WriteAheadLog.ImagePages(notHome, _stagingPages) > _layout.LogPages / 4 * 3
                || _cache.CommittedCount > _cache.FrameCount / 4 * 3)
                Checkpoint();
        }

        /// <summary>Writes every committed page home and empties the log (nothing to replay at the
        /// next Open). The running transaction must have been committed.</summary>
        public void Close() => Checkpoint();

        private void Checkpoint() => _log.Checkpoint(_cache, _transactions);

        void IRecordSink.Replay(byte* key, byte* value) => _tree.Put(key, value);

        void IRecordSink.ReplayedTransaction()
        {
            if (_tree.Changed) { WriteMeta(); _tree.ClearChanged(); }
            _cache.TransactionCommitted();
        }

        private void WriteMeta()
        {
            byte* meta = _cache.FetchForWrite(_layout.MetaPage);
            ulong* words = (ulong*)meta;
            words[0] = MetaMagic;
            words[1] = MetaVersion;
            words[2] = _tree.Root;
            words[3] = (ulong)_tree.Height;
            words[4] = _tree.NextPage;
            words[5] = _tree.Count;
            words[6] = ((ulong)BTree.KeySize << 32) | BTree.ValueSize;
            words[7] = _layout.PageCount;
            words[8] = PageChecksum.Of(meta, MetaChecksumAt);
        }

        private void ReadMeta(byte* meta)
        {
            ulong* words = (ulong*)meta;
            if (words[0] != MetaMagic) throw new CorruptStoreException("the meta page has no magic");
            if (words[8] != PageChecksum.Of(meta, MetaChecksumAt)) throw new CorruptStoreException("the meta page's checksum does not match");
            if (words[1] != MetaVersion) throw new CorruptStoreException("the meta page is of version " + words[1].ToString());
            if (words[6] != (((ulong)BTree.KeySize << 32) | BTree.ValueSize)) throw new CorruptStoreException("the meta page's record sizes are not 16 and 100");
            if (words[7] != _layout.PageCount) throw new CorruptStoreException("the meta page was made for a store of " + words[7].ToString() + " pages");
            ulong root = words[2], height = words[3], next = words[4], count = words[5];
            if (next <= _layout.FirstTreePage || next > _layout.PageCount) throw new CorruptStoreException("the meta page's next free page " + next.ToString() + " is outside the tree");
            if (root < _layout.FirstTreePage || root >= next) throw new CorruptStoreException("the meta page's root " + root.ToString() + " is outside the tree");
            if (height == 0 || height > BTree.MaximumHeight) throw new CorruptStoreException("the meta page's height " + height.ToString() + " is impossible");
            if (count > (next - _layout.FirstTreePage) * BTree.LeafCapacity) throw new CorruptStoreException("the meta page's record count " + count.ToString() + " cannot fit the tree");
            _tree = new BTree(_cache, _layout.FirstTreePage, _layout.PageCount, root, (int)height, next, count);
        }

        private static bool IsZero(byte* page)
        {
            for (int i = 0; i < PageCache.PageSize / 8; i++) if (((ulong*)page)[i] != 0) return false;
            return true;
        }
    }
}
