// LibOS.Database's key-value store on the host (docs/database.md): the B+tree against a
// SortedDictionary under random operations, recovery after a power cut at every write of a
// workload, damaged stores giving CorruptStoreException (never another failure or a hang), and
// the replacement policy keeping a hot set through a scan larger than the cache.
using Aegis.LibOS.Database;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public unsafe class KvStoreTests
{
    private static byte[] RandomKey(Random random, int space)
    {
        // Keys from a small space (so puts also replace), spread over the whole key range.
        byte[] key = KvData.Key((ulong)random.Next(space));
        return key;
    }

    [Test]
    public void TheTreeMatchesASortedDictionaryUnderRandomPutsGetsAndScans()
    {
        var random = new Random(11);
        var store = new MemoryPageStore(4096);
        using var frames = new HostFrames(40, 4);
        var kv = KvStore.Open(store, frames.Cache, frames.Staging);
        var model = new SortedDictionary<string, byte[]>(OrdinalKeys.Instance);
        for (int op = 0; op < 14000; op++)
        {
            byte[] key = RandomKey(random, 7000);
            if (random.Next(10) < 7)
            {
                byte[] value = KvData.Value((ulong)random.Next());
                bool added = KvData.Put(kv, key, value);
                Assert.That(added, Is.EqualTo(!model.ContainsKey(KvData.Hex(key))), "Put says whether the key was new");
                model[KvData.Hex(key)] = value;
            }
            else
            {
                byte[] value = KvData.Get(kv, key);
                model.TryGetValue(KvData.Hex(key), out byte[] expected);
                Assert.That(value, Is.EqualTo(expected), $"get of {KvData.Hex(key)} at operation {op}");
            }
            if (op % 25 == 24) kv.Commit();
            if (op % 3000 == 2999)
            {
                Assert.That(KvData.Difference(kv, model), Is.Null);
                kv.Verify();
            }
        }
        Assert.That(kv.Height, Is.GreaterThanOrEqualTo(3), "inner pages split too (a tree of more than two levels)");
        // Seek lands on the first key >= the one asked for.
        var keys = model.Keys.ToList();
        for (int i = 0; i < 50; i++)
        {
            byte[] probe = KvData.Key((ulong)(10000 + i));
            string hex = KvData.Hex(probe);
            string expected = keys.FirstOrDefault(k => string.CompareOrdinal(k, hex) >= 0);
            byte[] found = new byte[16];
            bool any;
            fixed (byte* p = probe, f = found) any = kv.Seek(p).Next(f, null);
            Assert.That(any ? KvData.Hex(found) : null, Is.EqualTo(expected), "Seek");
        }
        kv.Commit();
        kv.Close();
        var again = KvStore.Open(new MemoryPageStore(4096, store.Durable), frames.Cache, frames.Staging);
        Assert.That(KvData.Difference(again, model), Is.Null, "after Close and a reopen, from the durable pages only");
        again.Verify();
    }

    /// <summary>One run of the crash workload: transactions of random puts over a store of 160
    /// pages (an 80-page log, so it checkpoints) and a 16-frame cache (so committed pages are
    /// written home between commits). The models of the committed transactions, each with the
    /// write count at which its commit's flush made it durable.</summary>
    private static List<(long DurableAt, SortedDictionary<string, byte[]> Model)> CrashWorkload(MemoryPageStore store, HostFrames frames,
        int maximumPuts = 10, int keySpace = 600, int transactions = 70, int gets = 0)
        => CrashWorkload(store, frames, out _, maximumPuts, keySpace, transactions, gets);

    private static List<(long DurableAt, SortedDictionary<string, byte[]> Model)> CrashWorkload(MemoryPageStore store, HostFrames frames,
        out KvStore kv, int maximumPuts = 10, int keySpace = 600, int transactions = 70, int gets = 0)
    {
        var committed = new List<(long, SortedDictionary<string, byte[]>)>();
        var model = new SortedDictionary<string, byte[]>(OrdinalKeys.Instance);
        kv = KvStore.Open(store, frames.Cache, frames.Staging);
        committed.Add((0, new SortedDictionary<string, byte[]>(model, OrdinalKeys.Instance)));
        var random = new Random(5);
        for (int t = 0; t < transactions; t++)
        {
            int puts = 1 + random.Next(maximumPuts);
            for (int p = 0; p < puts; p++)
            {
                byte[] key = RandomKey(random, keySpace);
                byte[] value = KvData.Value((ulong)random.Next());
                KvData.Put(kv, key, value);
                model[KvData.Hex(key)] = value;
            }
            for (int g = 0; g < gets; g++) KvData.Get(kv, RandomKey(random, keySpace)); // reads that make the cache let pages go
            int before = store.WritesAtFlush.Count;
            kv.Commit();
            committed.Add((store.WritesAtFlush[before], new SortedDictionary<string, byte[]>(model, OrdinalKeys.Instance)));
        }
        return committed;
    }

    [Test]
    public void APowerCutAtAnyWriteLeavesExactlyTheCommittedTransactions()
    {
        using var frames = new HostFrames(16, 4);
        var full = new MemoryPageStore(160);
        var committed = CrashWorkload(full, frames, out KvStore built);
        long writes = full.WriteCount;
        // The log of puts writes about 200 pages here (the log of page images wrote 458).
        Assert.That(writes, Is.GreaterThan(150), "the workload writes enough to cut it in many places");
        Assert.That(built.Checkpoints, Is.GreaterThan(2UL), "the workload checkpoints (the 80-page log fills)");
        int checkedRecoveries = 0, replays = 0;
        for (long cut = 1; cut <= writes; cut++)
        {
            var store = new MemoryPageStore(160) { CrashAfter = cut, TornSectors = 1 + (int)(cut % 7) };
            CrashWorkload(store, frames);
            long intact = store.TornWriteWasWhole ? cut : cut - 1;
            var expected = committed.Last(c => c.DurableAt <= intact).Model;

            var reopened = new MemoryPageStore(160, store.Durable);
            KvStore kv;
            try { kv = KvStore.Open(reopened, frames.Cache, frames.Staging); }
            catch (CorruptStoreException e) { Assert.Fail($"power cut at write {cut} of {writes} (torn after {store.TornSectors} sectors): {e.Message}"); throw; }
            replays += (int)kv.Replayed;
            Assert.That(KvData.Difference(kv, expected), Is.Null, $"power cut at write {cut} of {writes}");
            kv.Verify();
            // The recovered store goes on: one more transaction, another reopen.
            if (cut % 16 == 0)
            {
                byte[] key = KvData.Key(99999), value = KvData.Value(7);
                KvData.Put(kv, key, value);
                kv.Commit();
                var more = KvStore.Open(new MemoryPageStore(160, reopened.Durable), frames.Cache, frames.Staging);
                Assert.That(KvData.Get(more, key), Is.EqualTo(value), $"a commit after recovering from the cut at {cut}");
                Assert.That(more.Count, Is.EqualTo((ulong)expected.Count + (expected.ContainsKey(KvData.Hex(key)) ? 0UL : 1UL)));
            }
            // A second power cut in the middle of recovery: recovering again gives the same.
            if (cut % 8 == 0)
            {
                var during = new MemoryPageStore(160, store.Durable) { CrashAfter = 2 + cut % 5, TornSectors = 4 };
                try { KvStore.Open(during, frames.Cache, frames.Staging); } catch (CorruptStoreException) { Assert.Fail("recovery failed"); }
                var twice = KvStore.Open(new MemoryPageStore(160, during.Durable), frames.Cache, frames.Staging);
                Assert.That(KvData.Difference(twice, expected), Is.Null, $"a cut at {cut}, then another during recovery");
            }
            checkedRecoveries++;
        }
        Assert.That(replays, Is.GreaterThan(0), "some cuts leave committed transactions only in the log");
        TestContext.Out.WriteLine($"{checkedRecoveries} power cuts over {writes} writes, {replays} transactions replayed");
    }

    [Test]
    public void CommittedPagesThatLeaveTheCacheBeforeACheckpointAreSpilledToTheLogAndAPowerCutAtAnyWriteRecovers()
    {
        // Home pages change only at checkpoints (the log's records are replayed on the tree the
        // last checkpoint left), so a committed page the cache lets go goes to a spill slot at the
        // log's end. A 24-frame cache for a tree of about 100 pages, and gets between the puts and
        // the commit, make it happen; a cut at every write must still leave exactly the committed
        // transactions.
        using var frames = new HostFrames(24, 4);
        const ulong pages = 400;
        var full = new MemoryPageStore(pages);
        var committed = CrashWorkload(full, frames, out KvStore built, 10, 100000, 150, 20);
        Assert.That(built.SpillWrites, Is.GreaterThan(0UL), "the workload spills committed pages");
        Assert.That(built.Checkpoints, Is.GreaterThan(0UL), "the workload checkpoints");
        long writes = full.WriteCount, cuts = 0;
        for (long cut = 1; cut <= writes; cut += 3) // every third write: the workload is long
        {
            cuts++;
            var store = new MemoryPageStore(pages) { CrashAfter = cut, TornSectors = 1 + (int)(cut % 7) };
            CrashWorkload(store, frames, 10, 100000, 150, 20);
            long intact = store.TornWriteWasWhole ? cut : cut - 1;
            var expected = committed.Last(c => c.DurableAt <= intact).Model;
            KvStore kv;
            try { kv = KvStore.Open(new MemoryPageStore(pages, store.Durable), frames.Cache, frames.Staging); }
            catch (CorruptStoreException e) { Assert.Fail($"power cut at write {cut} of {writes}: {e.Message}"); throw; }
            Assert.That(KvData.Difference(kv, expected), Is.Null, $"power cut at write {cut} of {writes}");
            kv.Verify();
        }
        TestContext.Out.WriteLine($"{cuts} power cuts over {writes} writes, {built.SpillWrites} spill writes, {built.Checkpoints} checkpoints");
    }

    [Test]
    public void AScanLargerThanTheCacheEvictsNothing()
    {
        // A full cache, then a scan over a tree three times its size: every leaf not cached is
        // read into the scans' own frame; nothing is evicted, and the scan sees every record.
        using var frames = new HostFrames(33, 4); // 32 frames for pages, one for scans
        var store = new MemoryPageStore(1024);
        var kv = KvStore.Open(store, frames.Cache, frames.Staging);
        for (ulong t = 0; t < 300; t++)
        {
            for (ulong p = 0; p < 10; p++) KvData.Put(kv, KvData.Key(10 * t + p), KvData.Value(10 * t + p));
            kv.Commit();
        }
        kv.Close();
        Assert.That(kv.TreePages, Is.GreaterThan(90UL), "the tree is about three times the cache");
        for (ulong i = 0; i < 3000; i += 7) KvData.Get(kv, KvData.Key(i)); // the cache is full now
        ulong evictions = kv.Cache.Evictions, scanReads = kv.Cache.ScanReads;
        var records = KvData.Scan(kv);
        Assert.That(records.Count, Is.EqualTo(3000));
        Assert.That(records.Select(r => r.Key), Is.Ordered.Using((IComparer<string>)OrdinalKeys.Instance));
        Assert.That(kv.Cache.Evictions, Is.EqualTo(evictions), "the scan evicted nothing");
        Assert.That(kv.Cache.ScanReads - scanReads, Is.GreaterThan(50UL), "leaves not cached were read into the scans' frame");
    }

    [Test]
    public void ACommitLogsItsPutsNotItsPages()
    {
        // 1,000 random puts per commit into a tree of thousands of pages: the log takes about
        // 116 bytes a put (29 pages a commit with its descriptor), not the ~750 pages they change.
        using var frames = new HostFrames(8192);
        var store = new MemoryPageStore(32768);
        var kv = KvStore.Open(store, frames.Cache, frames.Staging);
        ulong before = kv.LogPagesWritten, checkpoints = kv.Checkpoints; // making the store checkpoints its empty tree
        for (ulong t = 0; t < 20; t++)
        {
            for (ulong p = 0; p < 1000; p++) KvData.Put(kv, KvData.Key(1000 * t + p), KvData.Value(1000 * t + p));
            kv.Commit();
        }
        ulong logged = kv.LogPagesWritten - before;
        Assert.That(kv.Checkpoints, Is.EqualTo(checkpoints), "no checkpoint yet: everything logged is records");
        Assert.That(logged, Is.EqualTo(20UL * 30), "each commit: one descriptor and 29 pages of 116,000 bytes of puts");
        kv.Close();
        var again = KvStore.Open(new MemoryPageStore(32768, store.Durable), frames.Cache, frames.Staging);
        Assert.That(again.Count, Is.EqualTo(20000UL));
        again.Verify();
    }

    [Test]
    public void APowerCutThatLosesAnyUnflushedWritesLeavesTheCommittedTransactions()
    {
        // A disk with a write cache: every write since the last flush may be lost or torn,
        // independently. The transaction whose commit was in flight may be there or not; every
        // one whose flush returned must be.
        using var frames = new HostFrames(16, 4);
        var full = new MemoryPageStore(160);
        var committed = CrashWorkload(full, frames);
        long writes = full.WriteCount;
        for (long cut = 1; cut <= writes; cut += 2)
        {
            var store = new MemoryPageStore(160) { CrashAfter = cut, LoseUnflushed = new Random((int)cut) };
            CrashWorkload(store, frames);
            int last = 0;
            for (int c = 0; c < committed.Count; c++) if (committed[c].DurableAt < cut) last = c;
            var kv = KvStore.Open(new MemoryPageStore(160, store.Durable), frames.Cache, frames.Staging);
            string asDurable = KvData.Difference(kv, committed[last].Model);
            string asInFlight = last + 1 < committed.Count ? KvData.Difference(kv, committed[last + 1].Model) : "none in flight";
            Assert.That(asDurable == null || asInFlight == null, Is.True, $"cut at write {cut} of {writes}: {asDurable}; in flight: {asInFlight}");
            kv.Verify();
        }
    }

    [Test]
    public void ADamagedStoreGivesCorruptStoreExceptionAndNothingElse()
    {
        using var frames = new HostFrames(16, 4);
        var built = new MemoryPageStore(160);
        CrashWorkload(built, frames); // ends with committed transactions still in the log
        byte[] image = built.Durable;
        var layout = new StoreLayout(160);

        // Both header copies gone: a clear refusal.
        byte[] noHeaders = (byte[])image.Clone();
        noHeaders[10] ^= 1; noHeaders[4096 + 10] ^= 1;
        var refused = Assert.Throws<CorruptStoreException>(() => KvStore.Open(new MemoryPageStore(160, noHeaders), frames.Cache, frames.Staging));
        Assert.That(refused!.Message, Does.Contain("log header"));

        var random = new Random(3);
        int refusedCount = 0;
        for (int trial = 0; trial < 400; trial++)
        {
            byte[] damaged = (byte[])image.Clone();
            // Mostly the meta page and the tree (what recovery cannot repair), sometimes the log.
            ulong page = random.Next(4) == 0 ? (ulong)random.Next((int)layout.MetaPage) : layout.MetaPage + (ulong)random.Next(12);
            for (int b = 0; b < 1 + random.Next(4); b++)
                damaged[(int)page * 4096 + random.Next(random.Next(2) == 0 ? 64 : 4096)] = (byte)random.Next(256);
            try
            {
                var kv = KvStore.Open(new MemoryPageStore(160, damaged), frames.Cache, frames.Staging);
                KvData.Scan(kv);
                for (ulong i = 0; i < 50; i++) KvData.Get(kv, KvData.Key(i));
                kv.Verify();
            }
            catch (CorruptStoreException)
            {
                refusedCount++;
            }
        }
        Assert.That(refusedCount, Is.GreaterThan(20), "damage is noticed");
    }

    [Test]
    public void TwoQueueKeepsTheHotSetThroughAScanLargerThanTheCacheAndLruDoesNot()
    {
        Assert.That(HotSetMissesAfterAScan(new TwoQueuePolicy()), Is.EqualTo(0));
        Assert.That(HotSetMissesAfterAScan(new LruPolicy()), Is.EqualTo(16), "the baseline: LRU loses the hot set to the scan");
    }

    private static ulong HotSetMissesAfterAScan(IReplacementPolicy policy)
    {
        var store = new MemoryPageStore(8192);
        using var frames = new HostFrames(64, 2);
        var cache = new PageCache(store, frames.Cache, policy);
        var random = new Random(1);
        // Warm up: the 16 hot pages referenced again and again among cold ones.
        for (int i = 0; i < 4000; i++)
        {
            cache.Fetch((ulong)random.Next(16));
            cache.Fetch(1000 + (ulong)random.Next(3000));
        }
        for (ulong page = 0; page < 16; page++) cache.Fetch(page);
        // One scan of 1,000 pages never seen before, 15 times the cache.
        for (ulong page = 5000; page < 6000; page++) cache.Fetch(page);
        ulong missesBefore = cache.Misses;
        for (ulong page = 0; page < 16; page++) cache.Fetch(page);
        return cache.Misses - missesBefore;
    }

    [Test]
    public void PagesOfTheRunningTransactionAreNeverEvicted()
    {
        var store = new MemoryPageStore(256);
        using var frames = new HostFrames(8, 2);
        var cache = new PageCache(store, frames.Cache, new TwoQueuePolicy());
        for (ulong page = 0; page < 8; page++) cache.FetchForWrite(page)[0] = (byte)(page + 1);
        Assert.Throws<InvalidOperationException>(() => cache.Fetch(100), "nothing may be evicted: every frame is changing");
        Assert.That(store.WriteCount, Is.EqualTo(0), "no uncommitted page reached the store");
        cache.TransactionCommitted();
        for (ulong page = 100; page < 116; page++) cache.Fetch(page);
        Assert.That(store.WriteCount, Is.EqualTo(8), "committed pages are written home when evicted");
    }
}
