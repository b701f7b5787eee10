// kvbench's transactions on LibOS.Database's run-to-completion scheduler (TransactionScheduler
// over FiberContexts: one fiber per transaction):
//   kv_get_8tx — cold cache of 32 MiB: kv_get's 100,000 gets (the same keys, in the same order)
//                split into 8 read transactions of count/8 consecutive gets, all submitted at
//                once. Each transaction runs until it misses in the cache; then another runs, so
//                up to 8 page reads are in flight. Per get: the work (as kv_get: TSC less halted
//                time) and the elapsed TSC (halted time included: what the overlap saves).
//   writes among reads — 4 write transactions of 1,000 new keys (count .. count+3,999), each
//                followed by a read transaction that checks every key written so far and that
//                none of the next write's keys is there yet (a write runs alone: a read sees
//                whole writes only); then the store, reopened cold, holds count + 4,000 records.
using System;
using Aegis.LibOS;
using Aegis.LibOS.Database;

namespace Aegis.Apps.KvBench
{
    internal static unsafe partial class Program
    {
        private const int Transactions = 8;

        private static bool GetInTransactions(ulong count)
        {
            if (count % Transactions != 0) return true;
            ulong[] order = new ulong[count];
            ulong state = 0x2545F4914F6CDD1DUL;
            for (ulong n = 0; n < count; n++) order[n] = Next(ref state) % count;

            KvStore store = OpenCold(CacheFrames);
            ulong reads = PageReads;
            string problem = null;
            using FiberContexts fibers = new FiberContexts(Transactions);
            TransactionScheduler scheduler = new TransactionScheduler(store, fibers, DiskCompletions.Instance);
            ulong share = count / Transactions;
            for (int t = 0; t < Transactions; t++)
            {
                ulong first = (ulong)t * share;
                scheduler.Submit(kv =>
                {
                    byte* key = stackalloc byte[BTree.KeySize];
                    byte* value = stackalloc byte[BTree.ValueSize + 4];
                    for (ulong n = first; n < first + share; n++)
                    {
                        ulong i = order[n];
                        MakeKey(i, key);
                        if (!kv.Get(key, value)) { problem ??= "key " + i.ToString() + " is missing"; return; }
                        if (!SameValue(value, Value(i))) { problem ??= "the value of key " + i.ToString() + " is wrong"; return; }
                    }
                });
            }
            ulong elapsedStart = Rdtsc();
            ulong start = Work();
            s_haltedAtStart = Halted();
            scheduler.Run();
            ulong cycles = Work() - start;
            ulong elapsed = Rdtsc() - elapsedStart;
            if (problem != null) return Failed("kv_get_8tx: " + problem);
            if (scheduler.Completed != Transactions) return Failed("kv_get_8tx: " + scheduler.Completed.ToString() + " transactions ended, not 8");
            Report("kv_get_8tx", count, cycles);
            Console.WriteLine("kvbench: kv_get_8tx " + (PageReads - reads).ToString() + " page reads, elapsed " + PerOperation(elapsed, count)
                + " TSC ticks per get, " + scheduler.Switches.ToString() + " switches, at most " + scheduler.MostWaiting.ToString()
                + " reads in flight, " + scheduler.KernelWaits.ToString() + " waits in the kernel, " + scheduler.StepsAside.ToString() + " steps aside");
            Console.WriteLine("IO kv_get_8tx most_in_flight " + scheduler.MostWaiting.ToString());
            return true;
        }

        private static bool WritesAmongReads(ulong count)
        {
            const int Writes = 4;
            const ulong PerWrite = 1000;
            KvStore store = OpenCold(CacheFrames);
            string problem = null;
            using FiberContexts fibers = new FiberContexts(Transactions);
            TransactionScheduler scheduler = new TransactionScheduler(store, fibers, DiskCompletions.Instance);
            for (int w = 0; w < Writes; w++)
            {
                ulong first = count + (ulong)w * PerWrite;
                scheduler.SubmitWrite(kv =>
                {
                    byte* key = stackalloc byte[BTree.KeySize];
                    for (ulong i = first; i < first + PerWrite; i++)
                    {
                        MakeKey(i, key);
                        kv.Put(key, Value(i));
                    }
                });
                scheduler.Submit(kv =>
                {
                    byte* key = stackalloc byte[BTree.KeySize];
                    byte* value = stackalloc byte[BTree.ValueSize + 4];
                    for (ulong i = count; i < first + 2 * PerWrite; i++)
                    {
                        MakeKey(i, key);
                        bool present = kv.Get(key, value);
                        if (i < first + PerWrite && (!present || !SameValue(value, Value(i)))) { problem ??= "a read after write " + (first - count) / PerWrite + " misses key " + i.ToString(); return; }
                        if (i >= first + PerWrite && present) { problem ??= "a read sees key " + i.ToString() + " of a write that had not run"; return; }
                    }
                });
            }
            scheduler.Run();
            if (problem != null) return Failed("writes among reads: " + problem);
            if (store.Count != count + Writes * PerWrite) return Failed("writes among reads: " + store.Count.ToString() + " records");
            store.Close();
            KvStore check = OpenCold(CacheFrames);
            if (check.Count != count + Writes * PerWrite) return Failed("writes among reads: " + check.Count.ToString() + " records after reopening");
            check.Verify();
            Console.WriteLine("kvbench: writes among reads: " + scheduler.Completed.ToString() + " transactions, " + store.Transactions.ToString()
                + " commits, " + scheduler.Switches.ToString() + " switches, " + check.Count.ToString() + " records after reopening");
            return true;
        }
    }
}
