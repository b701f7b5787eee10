#nullable enable
// Power cuts: a write-heavy workload with fsyncs runs over a store that silently drops every
// write after the Nth (the Nth itself sometimes torn), for many N across the whole workload. The
// frozen image is then mounted (the journal replays), every file whose FsyncFile or Sync returned
// before the cut must have its full contents, and e2fsck -fn must find the replayed image clean.
using Aegis.LibOS.Unixish.Storage;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class Ext2PowerCutTests
{
    private sealed class Promise
    {
        public string Path = "";
        public string? OtherPath;   // a rename was issued: the file may sit at either name
        public bool MayBeGone;      // an unlink was issued after the promise
        public bool Truncated;      // a truncate was issued after the promise
        public byte[] Bytes = Array.Empty<byte>();
    }

    private static byte[]? pristine;
    private static byte[] Pristine => pristine ??= Ext2Tools.MakeImage(null, 1024, "8M");

    /// <summary>The workload; returns the promises made before the store lost power.</summary>
    private static List<Promise> Workload(Ext2FileSystem fs, PowerCutStore store)
    {
        var random = new Random(77);
        var promises = new List<Promise>();
        const uint root = Ext2FileSystem.RootInode;
        fs.MakeDirectory(root, "dir", 0x1ED, 0, 0, out uint dir);
        for (int k = 0; k < 24; k++)
        {
            string name = "f" + k;
            if (fs.Create(root, name, 0x1A4, 0, 0, out uint file) != 0) break;
            int size = k % 5 == 4 ? 400_000 + random.Next(200_000) : random.Next(1, 60_000);
            var bytes = new byte[size];
            random.NextBytes(bytes);
            for (int at = 0; at < size;)
            {
                int chunk = Math.Min(size - at, 1 + random.Next(70_000));
                if (fs.Write(file, at, bytes, at, chunk) != chunk) return promises;
                at += chunk;
            }
            bool cutBefore = store.Cut;
            if (fs.FsyncFile(file) == 0 && !cutBefore && !store.Cut) promises.Add(new Promise { Path = name, Bytes = bytes });

            if (k % 4 == 1) // scratch churn: rewrite, truncate (not promised)
            {
                if (fs.Lookup(root, "scratch", out uint scratch) != 0) fs.Create(root, "scratch", 0x1A4, 0, 0, out scratch);
                var junk = new byte[random.Next(1, 150_000)];
                random.NextBytes(junk);
                fs.Write(scratch, random.Next(10_000), junk, 0, junk.Length);
                fs.Truncate(scratch, random.Next(50_000));
            }
            if (k % 5 == 3 && promises.Count > 1)
            {
                Promise victim = promises[random.Next(promises.Count - 1)];
                if (!victim.MayBeGone && victim.OtherPath == null && fs.Unlink(root, victim.Path) == 0) victim.MayBeGone = true;
            }
            if (k % 6 == 5 && promises.Count > 0)
            {
                Promise moving = promises[random.Next(promises.Count)];
                if (!moving.MayBeGone && moving.OtherPath == null && fs.Rename(root, moving.Path, dir, moving.Path + "-moved") == 0)
                    moving.OtherPath = "dir/" + moving.Path + "-moved";
            }
            if (k % 7 == 6)
            {
                string sub = "d" + k;
                if (fs.MakeDirectory(dir, sub, 0x1ED, 0, 0, out uint subdir) != 0) return promises;
                if (fs.Create(subdir, "inner", 0x1A4, 0, 0, out uint inner) != 0) return promises;
                var small = new byte[random.Next(1, 3000)];
                random.NextBytes(small);
                fs.Write(inner, 0, small, 0, small.Length);
                bool cut = store.Cut;
                if (fs.Sync() == 0 && !cut && !store.Cut) promises.Add(new Promise { Path = "dir/" + sub + "/inner", Bytes = small });
            }
        }
        return promises;
    }

    [Test]
    public void Ext2PowerCutAtAnyWriteLeavesFsyncedFilesAndACleanImage() => RunCuts(Workload, Pristine, 256, 56, 20);

    private static byte[]? pristineLarge;

    /// <summary>Single operations larger than a transaction (one 5 MiB write, a truncate and an
    /// unlink freeing thousands of blocks) with a small cache: commits happen inside them.</summary>
    private static List<Promise> LargeOperations(Ext2FileSystem fs, PowerCutStore store)
    {
        var random = new Random(8);
        var promises = new List<Promise>();
        const uint root = Ext2FileSystem.RootInode;
        var big = new byte[5 * 1024 * 1024];
        random.NextBytes(big);
        if (fs.Create(root, "big", 0x1A4, 0, 0, out uint first) != 0) return promises;
        if (fs.Write(first, 0, big, 0, big.Length) != big.Length) return promises;
        bool cut = store.Cut;
        if (fs.FsyncFile(first) == 0 && !cut && !store.Cut) promises.Add(new Promise { Path = "big", Bytes = big });
        long commitsBefore = fs.Journal!.Commits;
        if (fs.Truncate(first, 100_000) != 0) return promises;
        if (promises.Count > 0) promises[0] = new Promise { Path = "big", Bytes = big, MayBeGone = false };
        var second = new byte[3 * 1024 * 1024];
        random.NextBytes(second);
        if (fs.Create(root, "second", 0x1A4, 0, 0, out uint secondInode) != 0) return promises;
        if (fs.Write(secondInode, 0, second, 0, second.Length) != second.Length) return promises;
        cut = store.Cut;
        if (fs.Sync() == 0 && !cut && !store.Cut)
        {
            promises.Clear(); // "big" was truncated after its promise: now promised at 100,000 bytes
            promises.Add(new Promise { Path = "big", Bytes = big.AsSpan(0, 100_000).ToArray() });
            promises.Add(new Promise { Path = "second", Bytes = second });
        }
        else if (promises.Count > 0) promises[0].Truncated = true;
        if (fs.Unlink(root, "second") != 0) return promises;
        foreach (Promise p in promises) if (p.Path == "second") p.MayBeGone = true;
        fs.Sync();
        GC.KeepAlive(commitsBefore);
        return promises;
    }

    [Test]
    public void Ext2PowerCutInsideLargeOperationsLeavesACleanImage()
    {
        pristineLarge ??= Ext2Tools.MakeImage(null, 1024, "16M");
        RunCuts(LargeOperations, pristineLarge, 128, 50, 5); // 3 explicit syncs, the rest inside operations
    }

    private static void RunCuts(Func<Ext2FileSystem, PowerCutStore, List<Promise>> workload, byte[] pristineImage, int cacheBlocks, int points, int minimumCommits)
    {
        var counting = new PowerCutStore(new MemoryBlockStore((byte[])pristineImage.Clone()), long.MaxValue, false);
        var whole = Ext2FileSystem.Mount(counting, new Ext2MountOptions { CacheBlocks = cacheBlocks, Clock = () => 1_700_000_000 });
        int allPromises = workload(whole, counting).Count;
        Assert.That(whole.Unmount(), Is.EqualTo(0));
        long totalWrites = counting.Writes;
        Assert.That(allPromises, Is.GreaterThan(1));
        Assert.That(whole.Journal!.Commits, Is.GreaterThan(minimumCommits));
        TestContext.Progress.WriteLine($"power cut: workload of {totalWrites} writes, {whole.Journal.Commits} commits, {whole.Journal.Checkpoints} checkpoints");

        var random = new Random(5);
        int needingRecovery = 0, replayedSome = 0, checkedPromises = 0;
        for (int i = 0; i < points; i++)
        {
            long cut = 1 + (totalWrites - 1) * i / points + random.Next((int)Math.Max(1, totalWrites / points));
            bool tear = i % 2 == 1;
            var memory = new MemoryBlockStore((byte[])pristineImage.Clone());
            var store = new PowerCutStore(memory, cut, tear);
            var fs = Ext2FileSystem.Mount(store, new Ext2MountOptions { CacheBlocks = cacheBlocks, Clock = () => 1_700_000_000 });
            List<Promise> promises = workload(fs, store);

            byte[] frozen = (byte[])memory.Bytes.Clone();
            if (i % 8 == 0)
            {
                var (code, output) = Ext2Tools.Fsck(frozen);
                if (output.Contains("skipping journal recovery")) needingRecovery++;
                // e2fsprogs' own replay of the log this code wrote must also give a clean image.
                var (repairCode, checkCode, repairOutput) = Ext2Tools.FsckReplayThenCheck(frozen);
                TestContext.Progress.WriteLine($"  cut at write {cut}{(tear ? " (torn)" : "")}: e2fsck -fn before replay exits {code}; e2fsck -fy replays and exits {repairCode}, then -fn {checkCode}");
                Assert.That(repairCode, Is.LessThanOrEqualTo(1), "e2fsck's replay of our journal: " + repairOutput);
                Assert.That(checkCode, Is.EqualTo(0), "after e2fsck's replay: " + repairOutput);
            }

            var after = new MemoryBlockStore(frozen);
            Ext2FileSystem replayed;
            try { replayed = Ext2FileSystem.Mount(after, new Ext2MountOptions { ReadOnly = true }); }
            catch (StorageException e) { Assert.Fail($"cut at write {cut}: mount failed: {e.Message}"); return; }
            if (replayed.ReplayedTransactions > 0) replayedSome++;
            foreach (Promise promise in promises)
            {
                bool atFirst = Ext2Tools.Resolve(replayed, promise.Path, out _) == 0;
                bool atOther = promise.OtherPath != null && Ext2Tools.Resolve(replayed, promise.OtherPath, out _) == 0;
                if (promise.OtherPath != null) Assert.That(atFirst ^ atOther, Is.True, $"cut {cut}: {promise.Path} must sit at exactly one of its names");
                else if (!atFirst) { Assert.That(promise.MayBeGone, Is.True, $"cut {cut}: fsynced {promise.Path} vanished"); continue; }
                Ext2Tools.Resolve(replayed, atFirst ? promise.Path : promise.OtherPath!, out uint inode);
                byte[] actual = Ext2Tools.ReadAll(replayed, inode);
                if (promise.Truncated)
                {
                    // a truncate was issued after the promise: any length between, with the promised prefix
                    Assert.That(actual.Length, Is.LessThanOrEqualTo(promise.Bytes.Length));
                    Assert.That(actual.AsSpan().SequenceEqual(promise.Bytes.AsSpan(0, actual.Length)) ||
                                actual.AsSpan(0, Math.Min(actual.Length, 100_000)).SequenceEqual(promise.Bytes.AsSpan(0, Math.Min(actual.Length, 100_000))), Is.True, $"cut {cut}: prefix of {promise.Path}");
                }
                else Assert.That(actual, Is.EqualTo(promise.Bytes), $"cut {cut}: contents of {promise.Path}");
                checkedPromises++;
            }
            Ext2Tools.AssertClean(frozen, $"cut at write {cut}{(tear ? " (torn)" : "")}, after replay");
        }
        TestContext.Progress.WriteLine($"power cut: {points} cuts, {replayedSome} replayed a transaction, {needingRecovery} of {(points + 7) / 8} sampled images needed recovery by e2fsck, {checkedPromises} promises checked");
        Assert.That(replayedSome, Is.GreaterThan(points / 4), "most cuts should find committed transactions in the log");
    }
}
