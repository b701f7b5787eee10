// BTree: a B+tree of fixed-size records — 16-byte keys (compared as bytes, unsigned) and
// 100-byte values, the key-value workload's sizes — in 4 KiB pages of a PageCache, used in
// place. Records live in the leaves, which are chained left to right for ordered scans; inner
// pages hold separator keys. Pages are never freed (no delete); new ones come from a bump
// pointer (NextPage) that KvStore keeps in the meta page.
// Page layout (little-endian):
//   0: kind (u16: 1 leaf, 2 inner)   2: count (u16)   4: zero (u32)
//   8: link (u64) — a leaf's right sibling (0: none), an inner page's leftmost child
//  16: entries — leaf: key(16) value(100), at most 35; inner: key(16) child(8), at most 170.
//   A key is stored as two little-endian words, each the big-endian value of one half of the
//   key's bytes (ConvertKey): comparing the words, high then low, is the unsigned byte order of
//   the keys, with no byte swapping in the searches.
//   In an inner page, entry i's child holds keys >= key i (and < key i+1); the leftmost child
//   holds keys < key 0.
// Invariants (Verify checks them all): every leaf is at depth Height; keys strictly increase in
// a page, along the leaf chain, and lie within their separators; Count is the number of records.
// Every page read is checked (kind, count, child and sibling numbers inside [first, NextPage))
// before it is used, so a damaged page gives CorruptStoreException, never a wild access or a loop.
using System;

namespace Aegis.LibOS.Database
{
    public sealed unsafe class BTree
    {
        public const int KeySize = 16;
        public const int ValueSize = 100;
        private const int HeaderSize = 16;
        private const int LeafEntrySize = KeySize + ValueSize;
        private const int InnerEntrySize = KeySize + 8;
        public const int LeafCapacity = (PageCache.PageSize - HeaderSize) / LeafEntrySize;    // 35
        public const int InnerCapacity = (PageCache.PageSize - HeaderSize) / InnerEntrySize;  // 170
        private const ushort LeafKind = 1, InnerKind = 2;
        public const int MaximumHeight = 16;

        private readonly PageCache _cache;
        private readonly ulong _firstPage, _pageLimit;
        private readonly ulong[] _pathPage = new ulong[MaximumHeight];
        private readonly int[] _pathSlot = new int[MaximumHeight];
        private readonly byte[] _scratch = new byte[(LeafCapacity + 1) * LeafEntrySize > (InnerCapacity + 1) * InnerEntrySize
            ? (LeafCapacity + 1) * LeafEntrySize : (InnerCapacity + 1) * InnerEntrySize];
        private readonly byte[] _separator = new byte[KeySize];
        private readonly byte[] _pair = new byte[(2 * LeafCapacity + 1) * LeafEntrySize];
        private ulong _verifyVisits;

        /// <summary>A tree over pages [firstPage, pageLimit) whose state (from the meta page) is given.</summary>
        public BTree(PageCache cache, ulong firstPage, ulong pageLimit, ulong root, int height, ulong nextPage, ulong count)
        {
            _cache = cache;
            _firstPage = firstPage;
            _pageLimit = pageLimit;
            Root = root;
            Height = height;
            NextPage = nextPage;
            Count = count;
        }

        public ulong Root { get; private set; }
        public int Height { get; private set; }
        public ulong NextPage { get; private set; }
        public ulong Count { get; private set; }
        /// <summary>Root, height, next page or count changed since the last ClearChanged.</summary>
        public bool Changed { get; private set; }
        public void ClearChanged() => Changed = false;

        /// <summary>Makes an empty tree: one empty leaf as the root (part of the running transaction).</summary>
        public void CreateEmpty()
        {
            ulong page = AllocatePage();
            byte* leaf = _cache.Create(page);
            *(ushort*)leaf = LeafKind;
            Root = page;
            Height = 1;
            Count = 0;
            Changed = true;
        }

        public bool Get(byte* key, byte* value)
        {
            ulong hi = BigEndian(*(ulong*)key), lo = BigEndian(*(ulong*)(key + 8));
            ulong page = Descend(hi, lo);
            byte* leaf = _cache.Fetch(page);
            int count = CheckedCount(leaf, page, LeafKind);
            int at = LeafLowerBound(leaf, count, hi, lo);
            if (at == count || !SameStored(LeafKey(leaf, at), hi, lo)) return false;
            Buffer.MemoryCopy(LeafKey(leaf, at) + KeySize, value, ValueSize, ValueSize);
            return true;
        }

        /// <summary>The leaf page where 'key' is or would be.</summary>
        public ulong LeafPageOf(byte* key) => Descend(BigEndian(*(ulong*)key), BigEndian(*(ulong*)(key + 8)));

        /// <summary>Inserts or replaces (key, value); true when the key was new.</summary>
        public bool Put(byte* key, byte* value)
        {
            ulong hi = BigEndian(*(ulong*)key), lo = BigEndian(*(ulong*)(key + 8));
            ulong page = Descend(hi, lo);
            byte* leaf = _cache.FetchForWrite(page);
            int count = CheckedCount(leaf, page, LeafKind);
            int at = LeafLowerBound(leaf, count, hi, lo);
            if (at < count && SameStored(LeafKey(leaf, at), hi, lo))
            {
                Buffer.MemoryCopy(value, LeafKey(leaf, at) + KeySize, ValueSize, ValueSize);
                return false;
            }
            Count++;
            Changed = true;
            if (count < LeafCapacity)
            {
                byte* slot = LeafKey(leaf, at);
                Buffer.MemoryCopy(slot, slot + LeafEntrySize, (count - at) * LeafEntrySize, (count - at) * LeafEntrySize);
                *(ulong*)slot = hi;
                *(ulong*)(slot + 8) = lo;
                Buffer.MemoryCopy(value, slot + KeySize, ValueSize, ValueSize);
                SetCount(leaf, count + 1);
                return true;
            }
            if (Height > 1 && ShareWithSibling(leaf, count, at, hi, lo, value)) return true;
            fixed (byte* scratch = _scratch)
            fixed (byte* separator = _separator)
            {
                // All count + 1 records in order in scratch, then the lower half stays, the upper half moves right.
                Buffer.MemoryCopy(LeafKey(leaf, 0), scratch, at * LeafEntrySize, at * LeafEntrySize);
                *(ulong*)(scratch + at * LeafEntrySize) = hi;
                *(ulong*)(scratch + at * LeafEntrySize + 8) = lo;
                Buffer.MemoryCopy(value, scratch + at * LeafEntrySize + KeySize, ValueSize, ValueSize);
                Buffer.MemoryCopy(LeafKey(leaf, at), scratch + (at + 1) * LeafEntrySize, (count - at) * LeafEntrySize, (count - at) * LeafEntrySize);
                int total = count + 1, left = total / 2, right = total - left;
                ulong rightPage = AllocatePage();
                byte* sibling = _cache.Create(rightPage);
                *(ushort*)sibling = LeafKind;
                SetCount(sibling, right);
                Buffer.MemoryCopy(scratch + left * LeafEntrySize, LeafKey(sibling, 0), right * LeafEntrySize, right * LeafEntrySize);
                Buffer.MemoryCopy(scratch, LeafKey(leaf, 0), left * LeafEntrySize, left * LeafEntrySize);
                SetCount(leaf, left);
                SetLink(sibling, Link(leaf));
                SetLink(leaf, rightPage);
                Buffer.MemoryCopy(LeafKey(sibling, 0), separator, KeySize, KeySize);
                InsertIntoParent(Height - 2, separator, rightPage, scratch);
            }
            return true;
        }

        /// <summary>A full leaf takes a new record by sharing with a sibling under the same parent that
        /// has room (the right one first): the records of both and the new one are split evenly
        /// between them and the parent's separator moves. No page is added, so leaves fill up
        /// (about 84% instead of 69% with random keys). False when neither sibling has room.</summary>
        private bool ShareWithSibling(byte* leaf, int count, int at, ulong hi, ulong lo, byte* value)
        {
            int level = Height - 2;
            ulong parentPage = _pathPage[level];
            int slot = _pathSlot[level]; // the leaf is the parent's child 'slot' (-1: the leftmost)
            byte* parent = _cache.Fetch(parentPage);
            int parentCount = CheckedCount(parent, parentPage, InnerKind);
            for (int side = 0; side < 2; side++)
            {
                bool right = side == 0;
                int separatorIndex = right ? slot + 1 : slot; // the separator between the two leaves
                if (right ? separatorIndex >= parentCount : separatorIndex < 0) continue;
                ulong siblingPage = CheckedChild(right ? InnerChild(parent, slot + 1) : slot == 0 ? Link(parent) : InnerChild(parent, slot - 1), parentPage);
                byte* sibling = _cache.Fetch(siblingPage);
                int siblingCount = CheckedCount(sibling, siblingPage, LeafKind);
                if (siblingCount >= LeafCapacity - 1) { parent = _cache.Fetch(parentPage); continue; }
                sibling = _cache.FetchForWrite(siblingPage);
                parent = _cache.FetchForWrite(parentPage);
                byte* lower = right ? leaf : sibling, upper = right ? sibling : leaf;
                int lowerCount = right ? count : siblingCount, upperCount = right ? siblingCount : count;
                int insertAt = right ? at : siblingCount + at; // the new record's place among the records of both, in order
                fixed (byte* pair = _pair)
                {
                    int total = lowerCount + upperCount + 1;
                    byte* all = pair;
                    // Both leaves' records in order, then the new one put in its place.
                    Buffer.MemoryCopy(LeafKey(lower, 0), all, lowerCount * LeafEntrySize, lowerCount * LeafEntrySize);
                    Buffer.MemoryCopy(LeafKey(upper, 0), all + lowerCount * LeafEntrySize, upperCount * LeafEntrySize, upperCount * LeafEntrySize);
                    byte* place = all + insertAt * LeafEntrySize;
                    Buffer.MemoryCopy(place, place + LeafEntrySize, (total - 1 - insertAt) * LeafEntrySize, (total - 1 - insertAt) * LeafEntrySize);
                    *(ulong*)place = hi;
                    *(ulong*)(place + 8) = lo;
                    Buffer.MemoryCopy(value, place + KeySize, ValueSize, ValueSize);
                    int first = (total + 1) / 2, second = total - first;
                    Buffer.MemoryCopy(all, LeafKey(lower, 0), first * LeafEntrySize, first * LeafEntrySize);
                    SetCount(lower, first);
                    Buffer.MemoryCopy(all + first * LeafEntrySize, LeafKey(upper, 0), second * LeafEntrySize, second * LeafEntrySize);
                    SetCount(upper, second);
                    Buffer.MemoryCopy(LeafKey(upper, 0), InnerKey(parent, separatorIndex), KeySize, KeySize);
                }
                return true;
            }
            return false;
        }

        /// <summary>A cursor at the first record.</summary>
        public Cursor First()
        {
            ulong page = Root;
            for (int level = 0; level < Height - 1; level++)
            {
                byte* inner = _cache.Fetch(page);
                CheckedCount(inner, page, InnerKind);
                page = CheckedChild(Link(inner), page);
            }
            return new Cursor(this, page, 0);
        }

        /// <summary>A cursor at the first record whose key is >= key.</summary>
        public Cursor Seek(byte* key)
        {
            ulong hi = BigEndian(*(ulong*)key), lo = BigEndian(*(ulong*)(key + 8));
            ulong page = Descend(hi, lo);
            byte* leaf = _cache.Fetch(page);
            int count = CheckedCount(leaf, page, LeafKind);
            return new Cursor(this, page, LeafLowerBound(leaf, count, hi, lo));
        }

        /// <summary>Checks every invariant of the header by walking the whole tree; throws
        /// CorruptStoreException naming the first one broken.</summary>
        public void Verify()
        {
            ulong records = 0, previousLeaf = 0, expectedNext = 0;
            bool first = true;
            _verifyVisits = 0;
            byte[] lastKey = new byte[KeySize];
            fixed (byte* last = lastKey)
                VerifyPage(Root, 1, null, null, last, ref first, ref records, ref previousLeaf, ref expectedNext);
            if (expectedNext != 0) throw new CorruptStoreException("the last leaf has a right sibling");
            if (records != Count) throw new CorruptStoreException("the tree holds " + records.ToString() + " records, the meta page says " + Count.ToString());
        }

        private void VerifyPage(ulong page, int depth, byte* low, byte* high, byte* last, ref bool first, ref ulong records, ref ulong previousLeaf, ref ulong expectedNext)
        {
            if (++_verifyVisits > NextPage) throw new CorruptStoreException("a page is reachable twice");
            bool leafLevel = depth == Height;
            byte* data = _cache.Fetch(page);
            int count = CheckedCount(data, page, leafLevel ? LeafKind : InnerKind);
            if (leafLevel)
            {
                if (previousLeaf != 0 && expectedNext != page) throw new CorruptStoreException("leaf " + previousLeaf.ToString() + "'s sibling is not the next leaf");
                for (int i = 0; i < count; i++)
                {
                    byte* key = LeafKey(data, i);
                    if (low != null && CompareStored(key, low) < 0) throw new CorruptStoreException("a key of leaf " + page.ToString() + " is below its separator");
                    if (high != null && CompareStored(key, high) >= 0) throw new CorruptStoreException("a key of leaf " + page.ToString() + " is not below the next separator");
                    if (!first && CompareStored(key, last) <= 0) throw new CorruptStoreException("keys do not increase at leaf " + page.ToString());
                    Buffer.MemoryCopy(key, last, KeySize, KeySize);
                    first = false;
                }
                records += (ulong)count;
                previousLeaf = page;
                expectedNext = Link(data);
                return;
            }
            if (count == 0) throw new CorruptStoreException("inner page " + page.ToString() + " is empty");
            byte[] bounds = new byte[(count + 1) * KeySize]; // the page may leave the cache while its children are walked
            ulong[] children = new ulong[count + 1];
            fixed (byte* copy = bounds)
            {
                for (int i = 0; i < count; i++)
                {
                    Buffer.MemoryCopy(InnerKey(data, i), copy + i * KeySize, KeySize, KeySize);
                    if (i > 0 && CompareStored(copy + i * KeySize, copy + (i - 1) * KeySize) <= 0) throw new CorruptStoreException("separators do not increase in page " + page.ToString());
                    children[i + 1] = CheckedChild(InnerChild(data, i), page);
                }
                children[0] = CheckedChild(Link(data), page);
                for (int i = 0; i <= count; i++)
                    VerifyPage(children[i], depth + 1, i == 0 ? low : copy + (i - 1) * KeySize, i == count ? high : copy + i * KeySize,
                        last, ref first, ref records, ref previousLeaf, ref expectedNext);
            }
        }

        private void InsertIntoParent(int level, byte* key, ulong child, byte* scratch)
        {
            while (true)
            {
                if (level < 0)
                {
                    if (Height == MaximumHeight) throw new InvalidOperationException("the tree is too tall");
                    ulong rootPage = AllocatePage();
                    byte* root = _cache.Create(rootPage);
                    *(ushort*)root = InnerKind;
                    SetLink(root, Root);
                    Buffer.MemoryCopy(key, InnerKey(root, 0), KeySize, KeySize);
                    SetInnerChild(root, 0, child);
                    SetCount(root, 1);
                    Root = rootPage;
                    Height++;
                    return;
                }
                ulong page = _pathPage[level];
                byte* inner = _cache.FetchForWrite(page);
                int count = CheckedCount(inner, page, InnerKind);
                int at = _pathSlot[level] + 1;
                if (count < InnerCapacity)
                {
                    byte* slot = InnerKey(inner, at);
                    Buffer.MemoryCopy(slot, slot + InnerEntrySize, (count - at) * InnerEntrySize, (count - at) * InnerEntrySize);
                    Buffer.MemoryCopy(key, slot, KeySize, KeySize);
                    SetInnerChild(inner, at, child);
                    SetCount(inner, count + 1);
                    return;
                }
                // count + 1 entries in scratch; the middle one's key goes up, its child becomes the
                // new right page's leftmost child.
                Buffer.MemoryCopy(InnerKey(inner, 0), scratch, at * InnerEntrySize, at * InnerEntrySize);
                Buffer.MemoryCopy(key, scratch + at * InnerEntrySize, KeySize, KeySize);
                *(ulong*)(scratch + at * InnerEntrySize + KeySize) = child;
                Buffer.MemoryCopy(InnerKey(inner, at), scratch + (at + 1) * InnerEntrySize, (count - at) * InnerEntrySize, (count - at) * InnerEntrySize);
                int total = count + 1, middle = total / 2, right = total - middle - 1;
                ulong rightPage = AllocatePage();
                byte* sibling = _cache.Create(rightPage);
                *(ushort*)sibling = InnerKind;
                SetLink(sibling, *(ulong*)(scratch + middle * InnerEntrySize + KeySize));
                Buffer.MemoryCopy(scratch + (middle + 1) * InnerEntrySize, InnerKey(sibling, 0), right * InnerEntrySize, right * InnerEntrySize);
                SetCount(sibling, right);
                Buffer.MemoryCopy(scratch, InnerKey(inner, 0), middle * InnerEntrySize, middle * InnerEntrySize);
                SetCount(inner, middle);
                Buffer.MemoryCopy(scratch + middle * InnerEntrySize, key, KeySize, KeySize); // key is _separator: free to reuse now
                child = rightPage;
                level--;
            }
        }

        /// <summary>The leaf where 'key' belongs; the inner pages and slots on the way are kept in the path.</summary>
        private ulong Descend(ulong hi, ulong lo)
        {
            ulong page = Root;
            for (int level = 0; level < Height - 1; level++)
            {
                byte* inner = _cache.Fetch(page);
                int count = CheckedCount(inner, page, InnerKind);
                int slot = InnerUpperBound(inner, count, hi, lo) - 1;
                _pathPage[level] = page;
                _pathSlot[level] = slot;
                page = CheckedChild(slot < 0 ? Link(inner) : InnerChild(inner, slot), page);
            }
            return page;
        }

        private ulong AllocatePage()
        {
            if (NextPage >= _pageLimit) throw new InvalidOperationException("the key-value store is full (" + (_pageLimit - _firstPage).ToString() + " pages)");
            Changed = true;
            return NextPage++;
        }

        internal ulong CheckedChild(ulong child, ulong parent)
        {
            if (child < _firstPage || child >= NextPage)
                throw new CorruptStoreException("page " + parent.ToString() + " points at page " + child.ToString() + ", outside the tree");
            return child;
        }

        internal static int CheckedCount(byte* data, ulong page, ushort kind)
        {
            ushort actual = *(ushort*)data;
            int count = *(ushort*)(data + 2);
            if (actual != kind)
                throw new CorruptStoreException("page " + page.ToString() + " is of kind " + actual.ToString() + ", not " + (kind == LeafKind ? "a leaf" : "an inner page"));
            if (count > (kind == LeafKind ? LeafCapacity : InnerCapacity))
                throw new CorruptStoreException("page " + page.ToString() + " claims " + count.ToString() + " entries");
            return count;
        }

        /// <summary>The first slot whose key is >= (hi, lo).</summary>
        private static int LeafLowerBound(byte* leaf, int count, ulong hi, ulong lo)
        {
            int low = 0, high = count;
            while (low < high)
            {
                int middle = (low + high) >> 1;
                byte* k = LeafKey(leaf, middle);
                ulong h = *(ulong*)k;
                if (h < hi || (h == hi && *(ulong*)(k + 8) < lo)) low = middle + 1; else high = middle;
            }
            return low;
        }

        /// <summary>The number of separators <= (hi, lo).</summary>
        private static int InnerUpperBound(byte* inner, int count, ulong hi, ulong lo)
        {
            int low = 0, high = count;
            while (low < high)
            {
                int middle = (low + high) >> 1;
                byte* k = InnerKey(inner, middle);
                ulong h = *(ulong*)k;
                if (h < hi || (h == hi && *(ulong*)(k + 8) <= lo)) low = middle + 1; else high = middle;
            }
            return low;
        }

        private static bool SameStored(byte* stored, ulong hi, ulong lo) => *(ulong*)stored == hi && *(ulong*)(stored + 8) == lo;

        /// <summary>Unsigned byte order of two 16-byte keys: -1, 0, 1.</summary>
        public static int Compare(byte* a, byte* b)
        {
            ulong x = BigEndian(*(ulong*)a), y = BigEndian(*(ulong*)b);
            if (x != y) return x < y ? -1 : 1;
            x = BigEndian(*(ulong*)(a + 8));
            y = BigEndian(*(ulong*)(b + 8));
            return x == y ? 0 : x < y ? -1 : 1;
        }

        /// <summary>The order of two keys in the form pages store them (see the file's header):
        /// the same order as Compare of the keys, with two word comparisons.</summary>
        public static int CompareStored(byte* a, byte* b)
        {
            ulong x = *(ulong*)a, y = *(ulong*)b;
            if (x != y) return x < y ? -1 : 1;
            x = *(ulong*)(a + 8);
            y = *(ulong*)(b + 8);
            return x == y ? 0 : x < y ? -1 : 1;
        }

        /// <summary>A key from its stored form or the stored form of a key (the conversion is its own inverse).</summary>
        public static void ConvertKey(byte* from, byte* to)
        {
            ulong first = *(ulong*)from, second = *(ulong*)(from + 8);
            *(ulong*)to = BigEndian(first);
            *(ulong*)(to + 8) = BigEndian(second);
        }

        private static ulong BigEndian(ulong v)
        {
            v = (v >> 32) | (v << 32);
            v = ((v & 0xFFFF0000FFFF0000UL) >> 16) | ((v & 0x0000FFFF0000FFFFUL) << 16);
            return ((v & 0xFF00FF00FF00FF00UL) >> 8) | ((v & 0x00FF00FF00FF00FFUL) << 8);
        }

        internal static byte* LeafKey(byte* leaf, int index) => leaf + HeaderSize + index * LeafEntrySize;
        private static byte* InnerKey(byte* inner, int index) => inner + HeaderSize + index * InnerEntrySize;
        private static ulong InnerChild(byte* inner, int index) => *(ulong*)(InnerKey(inner, index) + KeySize);
        private static void SetInnerChild(byte* inner, int index, ulong child) => *(ulong*)(InnerKey(inner, index) + KeySize) = child;
        internal static ulong Link(byte* data) => *(ulong*)(data + 8);
        private static void SetLink(byte* data, ulong link) => *(ulong*)(data + 8) = link;
        private static void SetCount(byte* data, int count) => *(ushort*)(data + 2) = (ushort)count;

        internal PageCache Cache => _cache;

        /// <summary>An ordered walk along the leaf chain. It keeps its leaf's page number and an
        /// index; it reuses the leaf's pointer only while the cache has neither evicted, loaded
        /// nor scan-read a page since it fetched it (else it fetches again), so other operations may
        /// run between steps. Leaves come through PageCache.FetchForScan: a scan does not evict.</summary>
        public sealed class Cursor
        {
            private readonly BTree _tree;
            private ulong _leaf;
            private int _index;
            private ulong _leavesVisited;
            private byte* _page;          // _leaf's page, valid while the cache's Changes equals _evictions
            private ulong _evictions = ulong.MaxValue;

            internal Cursor(BTree tree, ulong leaf, int index)
            {
                _tree = tree;
                _leaf = leaf;
                _index = index;
            }

            /// <summary>Copies the next record out (either pointer may be null); false at the end.</summary>
            public bool Next(byte* key, byte* value)
            {
                if (!NextRecord(out byte* record)) return false;
                if (key != null) ConvertKey(record, key);
                if (value != null) Buffer.MemoryCopy(record + KeySize, value, ValueSize, ValueSize);
                return true;
            }

            /// <summary>The next record in place, in its leaf in the cache: its key in the stored
            /// form (16 bytes: CompareStored orders them, ConvertKey gives the key) then its value (100). Valid until the next call on the store or the cache; false at the end.</summary>
            public bool NextRecord(out byte* record)
            {
                while (_leaf != 0)
                {
                    if (_evictions != _tree._cache.Changes)
                    {
                        _page = _tree._cache.FetchForScan(_leaf);
                        _evictions = _tree._cache.Changes;
                    }
                    byte* leaf = _page;
                    int count = CheckedCount(leaf, _leaf, LeafKind); // read each step: a Put may have changed it
                    if (_index < count)
                    {
                        record = LeafKey(leaf, _index++);
                        return true;
                    }
                    ulong next = Link(leaf);
                    if (next != 0) _tree.CheckedChild(next, _leaf);
                    if (++_leavesVisited > _tree.NextPage) throw new CorruptStoreException("the leaf chain loops");
                    _leaf = next;
                    _index = 0;
                    _evictions = ulong.MaxValue;
                }
                record = null;
                return false;
            }
        }
    }
}
