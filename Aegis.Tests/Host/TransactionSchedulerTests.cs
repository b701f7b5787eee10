// LibOS.Database's run-to-completion transaction scheduler on the host (docs/database.md,
// "Transactions and their scheduling"): the same TransactionScheduler and PageCache as on Aegis,
// with threads that hand the CPU to each other standing in for fibers (one runs at a time) and a
// page store whose requests complete later, in a random order, and fill their pages only then —
// so a transaction that used a page before its read completed, or a frame evicted from under
// another transaction, would read the wrong bytes.
using Aegis.Abi;
using Aegis.LibOS.Database;
using NUnit.Framework;

namespace Aegis.Tests.Host;

/// <summary>Execution contexts as threads that take turns: Resume hands the CPU over and waits
/// until the context yields or ends.</summary>
public sealed class ThreadContexts : IExecutionContexts, IDisposable
{
    private sealed class Context
    {
        public readonly SemaphoreSlim Go = new(0);
        public Action Body;
        public bool Ended = true, Quit;
        public Exception Failure;
        public Thread Thread;
    }

    private readonly Context[] _contexts;
    private readonly SemaphoreSlim _back = new(0);
    [ThreadStatic] private static Context t_current;

    public ThreadContexts(int count)
    {
        _contexts = new Context[count];
        for (int i = 0; i < count; i++) _contexts[i] = new Context();
    }

    public int Count => _contexts.Length;

    public void Start(int context, Action body)
    {
        Context c = _contexts[context];
        Assert.That(c.Ended, Is.True, "a context is started only when free");
        c.Body = body;
        c.Ended = false;
        c.Failure = null;
        if (c.Thread != null) return;
        c.Thread = new Thread(() =>
        {
            t_current = c;
            while (true)
            {
                c.Go.Wait();
                if (c.Quit) return;
                try { c.Body(); }
                catch (Exception e) { c.Failure = e; }
                c.Ended = true;
                _back.Release();
            }
        }) { IsBackground = true };
        c.Thread.Start();
    }

    public bool Resume(int context, out Exception failure)
    {
        Context c = _contexts[context];
        c.Go.Release();
        if (!_back.Wait(TimeSpan.FromSeconds(30))) throw new TimeoutException("a transaction neither yielded nor ended");
        failure = c.Ended ? c.Failure : null;
        return c.Ended;
    }

    public void Yield()
    {
        Context c = t_current ?? throw new InvalidOperationException("Yield outside a context");
        _back.Release();
        c.Go.Wait();
    }

    public void Dispose()
    {
        foreach (Context c in _contexts)
        {
            if (c.Thread == null) continue;
            c.Quit = true;
            c.Go.Release();
        }
    }
}

/// <summary>Pages in memory whose requests (while a scheduler waits for them) complete only when
/// Collect says so, a random few at a time; a read's pages are copied at its completion, a
/// write's from its source then too. Reads of a page in FailingPages complete with DeviceError.</summary>
public sealed unsafe class DeferredStore : IAsyncPageStore, IRequestCompletions
{
    private const int PageSize = 4096;
    private readonly byte[] _pages;
    private readonly Random _random;
    private readonly List<(ulong Tag, bool Write, ulong Page, nint Memory, int Count)> _pending = new();
    private readonly Dictionary<ulong, Error> _done = new();
    private ulong _nextTag = 1;

    public DeferredStore(ulong pages, int seed)
    {
        PageCount = pages;
        _pages = new byte[pages * PageSize];
        _random = new Random(seed);
    }

    public ulong PageCount { get; }
    public IRequestWaiter Waiter { get; set; }
    public HashSet<ulong> FailingPages { get; } = new();
    public Dictionary<ulong, int> ReadsOfPage { get; } = new();
    public int MostPending { get; private set; }

    public void Read(ulong page, byte* destination, int count) => Request(false, page, destination, count);
    public void Write(ulong page, byte* source, int count) => Request(true, page, source, count);
    public void Flush()
    {
        if (Waiter == null) return;
        ulong tag = _nextTag++;
        _pending.Add((tag, true, 0, 0, 0));
        Error status = Waiter.WaitFor(tag);
        if (status != Error.None) throw new InvalidOperationException("flush failed");
    }

    private void Request(bool write, ulong page, byte* memory, int count)
    {
        if (count < 0 || page + (ulong)count > PageCount) throw new ArgumentOutOfRangeException(nameof(page));
        if (!write)
            for (int i = 0; i < count; i++) ReadsOfPage[page + (ulong)i] = ReadsOfPage.GetValueOrDefault(page + (ulong)i) + 1;
        if (Waiter == null)
        {
            Error now = Complete(write, page, (nint)memory, count);
            if (now != Error.None) throw new InvalidOperationException("the read of page " + page + " failed");
            return;
        }
        ulong tag = _nextTag++;
        _pending.Add((tag, write, page, (nint)memory, count));
        MostPending = Math.Max(MostPending, _pending.Count);
        Error status = Waiter.WaitFor(tag);
        if (status != Error.None) throw new InvalidOperationException("the read of page " + page + " failed: " + status);
    }

    private Error Complete(bool write, ulong page, nint memory, int count)
    {
        if (count == 0) return Error.None;
        if (!write)
            for (int i = 0; i < count; i++)
                if (FailingPages.Contains(page + (ulong)i)) return Error.DeviceError;
        var span = new Span<byte>(_pages, (int)(page * PageSize), count * PageSize);
        var other = new Span<byte>((void*)memory, count * PageSize);
        if (write) other.CopyTo(span); else span.CopyTo(other);
        return Error.None;
    }

    public bool Collect()
    {
        if (_pending.Count == 0) return false;
        int n = 1 + _random.Next(_pending.Count);
        for (int k = 0; k < n && _pending.Count > 0; k++)
        {
            int at = _random.Next(_pending.Count);
            var r = _pending[at];
            _pending.RemoveAt(at);
            _done[r.Tag] = Complete(r.Write, r.Page, r.Memory, r.Count);
        }
        return true;
    }

    public bool TryTake(ulong tag, out Error status) => _done.Remove(tag, out status);

    public void Wait() { }
}

/// <summary>A replacement policy that evicts any frame the cache lets go, at random: it finds
/// what a real policy rarely does (a frame just loaded for a transaction that has not run yet).</summary>
public sealed class RandomPolicy : IReplacementPolicy
{
    private readonly Random _random;
    private bool[] _loaded;
    public RandomPolicy(int seed) => _random = new Random(seed);
    public void Attach(int frameCount) => _loaded = new bool[frameCount];
    public void Referenced(int frame) { }
    public void Loaded(int frame, ulong page) => _loaded[frame] = true;
    public void Evicted(int frame, ulong page) => _loaded[frame] = false;
    public int ChooseVictim(IFramePins pins)
    {
        int start = _random.Next(_loaded.Length);
        for (int k = 0; k < _loaded.Length; k++)
        {
            int f = (start + k) % _loaded.Length;
            if (_loaded[f] && pins.CanEvict(f)) return f;
        }
        return -1;
    }
}

public unsafe class TransactionSchedulerTests
{
    private const int Records = 3000;

    /// <summary>A store of key(i) -> value(i) for i below 'records', closed; then opened cold with a cache of 'frames'.</summary>
    private static KvStore Filled(DeferredStore store, HostFrames frames, int records = Records, IReplacementPolicy policy = null)
    {
        var kv = KvStore.Open(store, frames.Cache, frames.Staging);
        for (ulong i = 0; i < (ulong)records; i++)
        {
            KvData.Put(kv, KvData.Key(i), KvData.Value(i));
            if (i % 10 == 9) kv.Commit();
        }
        kv.Commit();
        kv.Close();
        Scribble(frames);
        return KvStore.Open(store, frames.Cache, frames.Staging, policy);
    }

    /// <summary>Garbage in every frame, so a page used before its read completed shows.</summary>
    private static void Scribble(HostFrames frames)
        => new Span<byte>(frames.Cache.Start, frames.Cache.Count * 4096).Fill(0xA5);

    private static Action<KvStore> Gets(int seed, int count, List<string> problems, int records = Records)
        => kv =>
        {
            var random = new Random(seed);
            for (int n = 0; n < count; n++)
            {
                ulong i = (ulong)random.Next(records);
                byte[] value = KvData.Get(kv, KvData.Key(i));
                if (value == null || !value.AsSpan().SequenceEqual(KvData.Value(i))) problems.Add($"key {i}: {(value == null ? "missing" : "wrong value")}");
            }
        };

    [Test]
    public void ReadTransactionsOverlapTheirPageReadsAndEachSeesEveryValue([Values(1, 2, 3)] int seed, [Values("2Q", "random")] string policy)
    {
        var store = new DeferredStore(1024, seed);
        using var frames = new HostFrames(48, 4);
        KvStore kv = Filled(store, frames, policy: policy == "random" ? new RandomPolicy(seed) : null);
        using var contexts = new ThreadContexts(8);
        var scheduler = new TransactionScheduler(kv, contexts, store);
        var problems = new List<string>();
        // Two scans among the gets: both read through the cache's one scan frame when it is free.
        var scans = new List<int>();
        var numberOf = Enumerable.Range(0, Records).ToDictionary(i => KvData.Hex(KvData.Key((ulong)i)), i => (ulong)i);
        var all = numberOf.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        for (int t = 0; t < 6; t++)
        {
            scheduler.Submit(Gets(seed * 100 + t, 300, problems));
            if (t % 3 == 0) scheduler.Submit(k =>
            {
                var records = KvData.Scan(k);
                scans.Add(records.Count);
                if (!records.Select(r => r.Key).SequenceEqual(all)) problems.Add("a scan did not see every key once, in order");
                foreach (var (key, value) in records)
                    if (!value.AsSpan().SequenceEqual(KvData.Value(numberOf[key]))) { problems.Add("a scan saw a wrong value"); break; }
            });
        }
        scheduler.Run();

        Assert.That(problems, Is.Empty, "every get and scan of every transaction found its values");
        Assert.That(scans, Is.EqualTo(new[] { Records, Records }), "both scans among the gets saw every record once");
        Assert.That(scheduler.Completed, Is.EqualTo(8UL));
        Assert.That(scheduler.MostWaiting, Is.GreaterThan(1), "transactions waited for the disk at the same time");
        Assert.That(store.MostPending, Is.GreaterThan(1), "more than one read was in flight");
        Assert.That(store.Waiter, Is.Null, "the store waits for itself again after Run");
        kv.Verify();
    }

    [Test]
    public void AWriteRunsAloneAndAReadSeesExactlyTheWritesSubmittedBeforeIt([Values(4, 5)] int seed)
    {
        var store = new DeferredStore(1024, seed);
        using var frames = new HostFrames(64, 8);
        KvStore kv = Filled(store, frames, 1000);
        using var contexts = new ThreadContexts(6);
        var scheduler = new TransactionScheduler(kv, contexts, store);
        var random = new Random(seed);
        var problems = new List<string>();
        int inside = 0, writers = 0;
        // The model: each write gives keys 0..999 stepping by its number a new version of value.
        var model = new Dictionary<ulong, ulong>();
        for (ulong i = 0; i < 1000; i++) model[i] = i;
        for (int step = 0; step < 24; step++)
        {
            if (random.Next(3) == 0)
            {
                int w = ++writers;
                foreach (ulong i in Enumerable.Range(0, 1000).Where(i => i % (w + 1) == 0).Select(i => (ulong)i)) model[i] = 5000 + (ulong)w;
                scheduler.SubmitWrite(k =>
                {
                    if (Interlocked.Increment(ref inside) != 1) problems.Add($"write {w} started while another transaction ran");
                    for (ulong i = 0; i < 1000; i += (ulong)(w + 1)) KvData.Put(k, KvData.Key(i), KvData.Value(5000 + (ulong)w));
                    KvData.Put(k, KvData.Key(100000 + (ulong)w), KvData.Value(1));
                    if (inside != 1) problems.Add($"another transaction ran during write {w}");
                    Interlocked.Decrement(ref inside);
                });
            }
            else
            {
                var expected = new Dictionary<ulong, ulong>();
                foreach (var (i, v) in model) expected[i] = v;
                int seenWrites = writers;
                scheduler.Submit(k =>
                {
                    Interlocked.Increment(ref inside);
                    foreach (var (i, version) in expected)
                    {
                        byte[] value = KvData.Get(k, KvData.Key(i));
                        if (value == null || !value.AsSpan().SequenceEqual(KvData.Value(version))) { problems.Add($"a read after {seenWrites} writes: key {i} is not version {version}"); break; }
                    }
                    if (KvData.Get(k, KvData.Key(100000 + (ulong)seenWrites + 1)) != null) problems.Add($"a read after {seenWrites} writes sees write {seenWrites + 1}");
                    Interlocked.Decrement(ref inside);
                });
            }
        }
        scheduler.Run();

        Assert.That(problems, Is.Empty);
        Assert.That(kv.Transactions, Is.EqualTo((ulong)writers), "each write committed once");
        kv.Close();
        var again = KvStore.Open(store, frames.Cache, frames.Staging);
        foreach (var (i, version) in model) Assert.That(KvData.Get(again, KvData.Key(i)), Is.EqualTo(KvData.Value(version)), $"key {i} after reopening");
        again.Verify();
    }

    [Test]
    public void AFailedReadEndsOnlyItsTransactionAndTheCacheForgetsThePage()
    {
        var store = new DeferredStore(1024, 7);
        using var frames = new HostFrames(48, 4);
        KvStore kv = Filled(store, frames);
        // The leaf of key 17 fails: the transactions that need it end with the error, the rest go on.
        ulong failing = LeafOf(kv, 17);
        Scribble(frames);
        kv = KvStore.Open(store, frames.Cache, frames.Staging);
        kv.ReadAhead = false; // one page a request: only the failing page's readers see the error
        store.FailingPages.Add(failing);
        using var contexts = new ThreadContexts(4);
        var scheduler = new TransactionScheduler(kv, contexts, store);
        var problems = new List<string>();
        scheduler.Submit(k => KvData.Get(k, KvData.Key(17)));
        for (int t = 0; t < 3; t++) scheduler.Submit(k =>
        {
            for (ulong i = 0; i < Records; i += 7)
                if (i != 17 && LeafOf(k, i) != failing && KvData.Get(k, KvData.Key(i)) is not { } v) problems.Add($"key {i} missing");
        });
        var thrown = Assert.Throws<InvalidOperationException>(() => scheduler.Run());
        Assert.That(thrown!.Message, Does.Contain("page " + failing));
        Assert.That(scheduler.Completed, Is.EqualTo(4UL), "every transaction ended");
        Assert.That(problems, Is.Empty);
        Assert.That(kv.Cache.IsCached(failing), Is.False, "the page whose read failed is not left in the cache");
        store.FailingPages.Clear();
        Assert.That(KvData.Get(kv, KvData.Key(17)), Is.EqualTo(KvData.Value(17)), "read again once the disk works");
    }

    /// <summary>The leaf page that holds key(i) (its inner pages are fetched to find it).</summary>
    private static ulong LeafOf(KvStore kv, ulong i) => LeafPage(kv, KvData.Key(i));

    private static ulong LeafPage(KvStore kv, byte[] key)
    {
        fixed (byte* k = key) return kv.LeafPageOf(k);
    }

    [Test]
    public void TwoTransactionsMissingOnTheSamePageReadItOnce()
    {
        var store = new DeferredStore(1024, 9);
        using var frames = new HostFrames(48, 4);
        KvStore kv = Filled(store, frames);
        ulong leaf = LeafPage(kv, KvData.Key(42));
        Scribble(frames);
        kv = KvStore.Open(store, frames.Cache, frames.Staging);
        kv.ReadAhead = false;
        int readsBefore = store.ReadsOfPage.GetValueOrDefault(leaf);
        using var contexts = new ThreadContexts(2);
        var scheduler = new TransactionScheduler(kv, contexts, store);
        byte[] first = null, second = null;
        scheduler.Submit(k => first = KvData.Get(k, KvData.Key(42)));
        scheduler.Submit(k => second = KvData.Get(k, KvData.Key(42)));
        scheduler.Run();

        Assert.That(first, Is.EqualTo(KvData.Value(42)));
        Assert.That(second, Is.EqualTo(KvData.Value(42)));
        Assert.That(store.ReadsOfPage.GetValueOrDefault(leaf) - readsBefore, Is.EqualTo(1), "the page was read once");
        Assert.That(scheduler.StepsAside, Is.GreaterThan(0UL), "the second transaction stepped aside while the first one's read was in flight");
    }

    [Test]
    public void CommittedPagesThatConcurrentReadsEvictAreSpilledAndReadBack([Values(11, 12)] int seed)
    {
        var store = new DeferredStore(1024, seed);
        using var frames = new HostFrames(40, 4);
        KvStore kv = Filled(store, frames);
        using var contexts = new ThreadContexts(6);
        var scheduler = new TransactionScheduler(kv, contexts, store);
        var problems = new List<string>();
        // A write that changes a few leaves (committed, not home: no checkpoint for so few), then
        // reads over the whole tree that push those pages out of the 40-frame cache.
        scheduler.SubmitWrite(k => { for (ulong i = 0; i < Records; i += 300) KvData.Put(k, KvData.Key(i), KvData.Value(i + 1)); });
        var expected = Enumerable.Range(0, Records).Select(i => (ulong)i).ToDictionary(i => i, i => i % 300 == 0 ? i + 1 : i);
        for (int t = 0; t < 5; t++)
        {
            int s = seed * 10 + t;
            scheduler.Submit(k =>
            {
                var random = new Random(s);
                for (int n = 0; n < 400; n++)
                {
                    ulong i = (ulong)random.Next(Records);
                    byte[] value = KvData.Get(k, KvData.Key(i));
                    if (value == null || !value.AsSpan().SequenceEqual(KvData.Value(expected[i]))) problems.Add($"key {i}");
                }
            });
        }
        scheduler.Run();

        Assert.That(problems, Is.Empty, "every read saw the write's values, whether the page was cached, spilled or home");
        Assert.That(kv.SpillWrites, Is.GreaterThan(0UL), "committed pages left the cache while reads ran");
        kv.Close();
        var again = KvStore.Open(store, frames.Cache, frames.Staging);
        foreach (var (i, v) in expected.Where(e => e.Key % 50 == 0)) Assert.That(KvData.Get(again, KvData.Key(i)), Is.EqualTo(KvData.Value(v)));
        again.Verify();
    }
}
