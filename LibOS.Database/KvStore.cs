// KvStore: a durable key-value store on a page store of its own (one disk extent; StoreLayout):
// a B+tree (BTree) in a buffer pool (PageCache, with a replaceable IReplacementPolicy) and a
// redo log of page images (WriteAheadLog). Open recovers: it replays the committed transactions
// the log holds and ignores a torn or uncommitted tail.
// Transactions are implicit: the Puts since the last Commit form one; Commit returns when it is
// durable. There is no rollback: a transaction is committed or lost with a power cut (or the
// process's end). Reads see the running transaction's own changes.
// Meta page (little-endian u64s): magic AEGISKV1, version, root, height, next free page, record
// count, key size << 32 | value size, store pages, checksum of the first 64 bytes. It is changed
// only inside transactions, so it is logged like any other page.
using System;

namespace Aegis.LibOS.Database
{
    public sealed unsafe class KvStore
    {
        private const ulong MetaMagic = 0x31564B5349474541UL; // "AEGISKV1"
        private const ulong MetaVersion = 1;
        private const int MetaChecksumAt = 64;

        private readonly IPageStore _store;
        private readonly StoreLayout _layout;
        private readonly PageCache _cache;
        private readonly WriteAheadLog _log;
        private BTree _tree;
        private ulong _transactions;

        private KvStore(IPageStore store, PageFrames cache, PageFrames logStaging, IReplacementPolicy policy)
        {
            _store = store ?? throw new ArgumentNullException(nameof(store));
            _layout = new StoreLayout(store.PageCount);
            _log = new WriteAheadLog(store, _layout, logStaging);
            _cache = new PageCache(store, cache, policy ?? new TwoQueuePolicy());
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
                kv.ReadMeta(meta);
            else if (IsZero(meta))
            {
                if (!existed) kv._log.StartFirstEpoch();
                kv._tree = new BTree(kv._cache, kv._layout.FirstTreePage, kv._layout.PageCount, 0, 0, kv._layout.FirstTreePage, 0);
                kv._tree.CreateEmpty();
                kv.Commit();
            }
            else throw new CorruptStoreException("the meta page holds data but there is no log header");
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
        public StoreLayout Layout => _layout;
        public ulong Transactions => _transactions;
        public ulong LogPagesWritten => _log.PagesWritten;
        public ulong Checkpoints => _log.Checkpoints;
        /// <summary>Transactions replayed from the log when the store was opened.</summary>
        public ulong Replayed => _log.Replayed;

        /// <summary>Inserts or replaces (key, value) in the running transaction; true when the key was new.</summary>
        public bool Put(byte* key, byte* value) => _tree.Put(key, value);

        public bool Get(byte* key, byte* value) => _tree.Get(key, value);

        public BTree.Cursor First() => _tree.First();

        public BTree.Cursor Seek(byte* key) => _tree.Seek(key);

        /// <summary>Checks the tree's invariants (CorruptStoreException otherwise).</summary>
        public void Verify() => _tree.Verify();

        /// <summary>Makes the running transaction durable (log written and flushed); returns after.</summary>
        public void Commit()
        {
            if (_tree.Changed) WriteMeta();
            if (_cache.ChangingCount == 0) return;
            _log.Commit(_cache, ++_transactions);
            _cache.TransactionCommitted();
            _tree.ClearChanged();
            if (_log.Used > _layout.LogPages / 2) _log.Checkpoint(_cache);
        }

        /// <summary>Writes every committed page home and empties the log (nothing to replay at the
        /// next Open). The running transaction must have been committed.</summary>
        public void Close() => _log.Checkpoint(_cache);

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
