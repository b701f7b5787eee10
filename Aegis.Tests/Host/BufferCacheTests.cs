#nullable enable
// The buffer cache's policy: fixed capacity, LRU eviction, write-back (dirty blocks reach the
// device on WriteBack or eviction, never earlier), pinned blocks stay, read-ahead, and a hit that
// allocates nothing.
using Aegis.LibOS.Unixish.Storage;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class BufferCacheTests
{
    private sealed class CountingStore : IBlockStore
    {
        public readonly MemoryBlockStore Inner = new MemoryBlockStore(1024, 512);
        public int Reads, Writes;
        public int BlockSize => 512;
        public long BlockCount => Inner.BlockCount;
        public int Read(long block, int count, byte[] buffer, int offset) { Reads++; return Inner.Read(block, count, buffer, offset); }
        public int Write(long block, int count, byte[] buffer, int offset) { Writes++; return Inner.Write(block, count, buffer, offset); }
        public int Flush() => 0;
    }

    [Test]
    public void BufferCacheWritesDirtyBlocksBackOnlyOnWriteBackOrEviction()
    {
        var store = new CountingStore();
        var cache = new BufferCache(store, 1024, 16);
        CachedBlock block = cache.GetZeroed(5);
        block.Data[0] = 0xAB;
        cache.MarkDirty(block);
        Assert.That(store.Writes, Is.EqualTo(0));
        Assert.That(store.Inner.Bytes[5 * 1024], Is.EqualTo(0));
        cache.WriteBack();
        Assert.That(store.Writes, Is.EqualTo(1));
        Assert.That(store.Inner.Bytes[5 * 1024], Is.EqualTo(0xAB));
        cache.WriteBack();
        Assert.That(store.Writes, Is.EqualTo(1), "a clean block is not written again");

        CachedBlock other = cache.GetZeroed(100);
        other.Data[1] = 7;
        cache.MarkDirty(other);
        for (int i = 200; i < 240; i++) cache.Get(i); // evicts block 100 (least recently used)
        Assert.That(cache.Peek(100), Is.Null);
        Assert.That(store.Inner.Bytes[100 * 1024 + 1], Is.EqualTo(7), "eviction wrote the dirty block");
    }

    [Test]
    public void BufferCacheEvictsTheLeastRecentlyUsedAndKeepsPinnedBlocks()
    {
        var store = new CountingStore();
        var cache = new BufferCache(store, 1024, 16);
        CachedBlock pinned = cache.GetZeroed(1);
        pinned.Data[0] = 9;
        cache.MarkDirty(pinned);
        cache.Pin(pinned);
        for (int i = 2; i <= 16; i++) cache.GetZeroed(i);
        cache.Get(2); // block 2 is now the most recent; 3 is the oldest unpinned
        cache.GetZeroed(300);
        Assert.That(cache.Peek(3), Is.Null, "the least recently used block went");
        Assert.That(cache.Peek(2), Is.Not.Null);
        for (int i = 400; i < 450; i++) cache.GetZeroed(i);
        Assert.That(cache.Peek(1), Is.Not.Null, "a pinned block is never evicted");
        Assert.That(store.Inner.Bytes[1024], Is.EqualTo(0), "nor written home");
        cache.WriteBack();
        Assert.That(store.Inner.Bytes[1024], Is.EqualTo(0), "WriteBack skips pinned blocks");
        cache.Unpin(pinned);
        cache.WriteBack();
        Assert.That(store.Inner.Bytes[1024], Is.EqualTo(9));
    }

    [Test]
    public void BufferCacheReadsAheadOnAMissAndAHitAllocatesNothing()
    {
        var store = new CountingStore();
        for (int i = 0; i < store.Inner.Bytes.Length; i++) store.Inner.Bytes[i] = (byte)(i / 1024);
        var cache = new BufferCache(store, 1024, 64);
        Assert.That(cache.Get(10).Data[0], Is.EqualTo(10));
        Assert.That(store.Reads, Is.EqualTo(1), "the block and the read-ahead of the next ones in one request");
        for (int i = 11; i <= 10 + BufferCache.ReadAheadFirst; i++) Assert.That(cache.Get(i).Data[5], Is.EqualTo((byte)i));
        Assert.That(store.Reads, Is.EqualTo(1), "the following blocks came from the read-ahead");
        // Sequential misses double the window (3, 7, 15): 14..21 in one request, 22..37 in the next.
        int next = 11 + BufferCache.ReadAheadFirst;
        for (int i = next; i < next + 8 + 16; i++) Assert.That(cache.Get(i).Data[7], Is.EqualTo((byte)i));
        Assert.That(store.Reads, Is.EqualTo(3), "a reader going forward gets ever larger requests");
        // A miss elsewhere starts again small.
        cache.Get(200);
        Assert.That(cache.Peek(200 + BufferCache.ReadAheadFirst), Is.Not.Null);
        Assert.That(cache.Peek(201 + BufferCache.ReadAheadFirst), Is.Null, "a random miss reads ReadAheadFirst ahead, no more");
        cache.Get(10);
        void Hits() { for (int i = 0; i < 1000; i++) cache.Get(10 + i % 5); }
        Hits();
        Assert.That(AllocationCheck.LeastOfThree(Hits), Is.EqualTo(0), "hits allocate nothing");
        Assert.That(cache.Hits, Is.GreaterThanOrEqualTo(4000));
    }

    [Test]
    public void BufferCacheNeverGrowsPastItsCapacity()
    {
        var store = new CountingStore();
        var cache = new BufferCache(store, 1024, 16);
        for (int i = 0; i < 500; i++) { CachedBlock b = cache.Get(i % 500); b.Data[0] = 1; cache.MarkDirty(b); }
        int cached = 0;
        for (int i = 0; i < 500; i++) if (cache.Peek(i) != null) cached++;
        Assert.That(cached, Is.LessThanOrEqualTo(16));
        Assert.That(cache.DirtyCount(), Is.LessThanOrEqualTo(16));
    }
}
