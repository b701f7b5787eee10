// kvbench: the key-value workloads of workloads.md ("Key-value store") on LibOS.Database's
// KvStore, on the disk extent "kv" (made when missing; erased first):
//   kv_put   — count/1000 transactions of 1,000 puts of (key(i), value(i)), each a durable commit;
//   kv_get   — cold cache: count gets of key(rng() mod count), seed 0x2545F4914F6CDD1D, values checked;
//   kv_scan  — cold cache: one ordered scan of every record, order, values and the key set checked;
//   kv_mixed — cold cache of 12 MiB: 10 rounds of {count/10 gets (seed 0x9E3779B97F4A7C15), one
//              full scan}; per get, scans included, and the page reads;
//   kv_get_8tx — kv_get's gets as 8 read transactions on the database's run-to-completion
//              scheduler (Transactions.cs; on the disk only), values checked; then, last, writes
//              among reads: 4 write transactions of 1,000 new keys each, interleaved with 4 reads.
// "Cold cache" is a new buffer pool (KvStore.Open) over the same extent. Each is timed with
// RDTSC less the kernel's halted time (under ./aegis run --icount: the instructions executed by
// kvbench, the kernel and interrupts, without the time waiting for the disk) and printed
// "BENCH <name> <count> <per op>".
// Argument: the record count (default 100,000; a multiple of 1,000), then options after commas:
// "open" stops after kv_put without Close, leaving the last transactions only in the log (a power
// cut's view); "ram" keeps the store in memory (RamStore) instead of on the extent kv; "unixish"
// then runs kv_mixed again on the same tree in a file of the Unixish libOS's ext2 file system on
// the extent kvfs, through its 12 MiB LRU cache (UnixishComparison.cs): "BENCH kv_mixed_unixish".
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;
using Aegis.LibOS.Database;
using Aegis.LibOS.Unixish.Disk;
using Aegis.LibOS.Unixish.Storage;

namespace Aegis.Apps.KvBench
{
    internal static unsafe partial class Program
    {
        private const int CacheFrames = 8192;      // 32 MiB: kv_put, kv_get, kv_scan
        private const int MixedFrames = 3072;      // 12 MiB: kv_mixed
        private const int StagingFrames = 32;      // the log's staging buffer: one disk request
        private const ulong ExtentSectors = 96UL * 1024 * 1024 / 512;

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "kvbench_rdtsc")]
        private static extern ulong Rdtsc();

        /// <summary>The TSC minus the ticks the kernel's idle loop spent halted (InfoPage.IdleTimestampTicks):
        /// the CPU's work since boot — kvbench's, the kernel's and the interrupts' — without the time it sat
        /// waiting for the disk. Under -icount shift=0 the difference of two readings is the instructions
        /// executed between them (docs/database.md, "What counts as an instruction").</summary>
        private static ulong Work() => Rdtsc() - Info.GlobalPage->IdleTimestampTicks;

        private static ulong Halted() => Info.GlobalPage->IdleTimestampTicks;
        private static ulong s_haltedAtStart;

        private static byte* s_key, s_read, s_previous;
        /// <summary>Bytes 0, 1, ..., 255, 0, 1, ..., 99: value(i) is the 100 bytes at (131 i) mod 256.</summary>
        private static byte* s_pattern;
        /// <summary>For each byte, its two lowercase hex digits as they lie in memory (high digit first).</summary>
        private static ushort* s_hexPairs;
        private static BlockStore s_blocks;
        private static RamStore s_ram;
        private static IPageStore s_store;

        private static ulong PageReads => s_ram != null ? s_ram.Reads : s_blocks.Reads;
        private static ulong PageWrites => s_ram != null ? s_ram.Writes : s_blocks.Writes;
        private static PageFrames s_cache, s_staging;

        private static int Main()
        {
            string argument = Info.Argument;
            bool leaveOpen = false, inMemory = false, unixish = false;
            while (argument.EndsWith(",open") || argument.EndsWith(",ram") || argument.EndsWith(",unixish"))
            {
                int comma = argument.LastIndexOf(',');
                string option = argument.Substring(comma + 1);
                if (option == "open") leaveOpen = true; else if (option == "ram") inMemory = true; else unixish = true;
                argument = argument.Substring(0, comma);
            }
            if (argument == "unixish") { unixish = true; argument = ""; }
            ulong count = argument.Length == 0 ? 100_000UL : ulong.Parse(argument);
            if (count == 0 || count % 1000 != 0) return Fail("the record count must be a positive multiple of 1,000");

            string where;
            if (inMemory)
            {
                s_ram = new RamStore((int)(ExtentSectors / DiskExtent.SectorsPerPage));
                s_store = s_ram;
                where = "in memory";
            }
            else
            {
                Error error = DiskExtent.OpenOrAllocate("kv", ExtentSectors, out DiskExtent extent);
                if (error != Error.None) return Fail("the extent kv: " + Errors.Name(error));
                s_blocks = new BlockStore(extent);
                s_store = s_blocks;
                where = "on the extent kv at sector " + extent.Start.ToString();
            }
            ulong memory = AddressSpace.Reserve(CacheFrames + StagingFrames + 1);
            if (memory == 0 || Memory.AllocateAndMap(memory, CacheFrames + StagingFrames + 1, Memory.ReadWrite) != Error.None)
                return Fail("cannot map the cache");
            s_cache = new PageFrames((byte*)memory, CacheFrames);
            s_staging = new PageFrames((byte*)memory + (long)CacheFrames * PageCache.PageSize, StagingFrames);
            byte* scratch = (byte*)memory + (long)(CacheFrames + StagingFrames) * PageCache.PageSize;
            s_key = scratch; s_read = scratch + 256; s_previous = scratch + 512; s_pattern = scratch + 1024;
            for (int b = 0; b < 256 + BTree.ValueSize; b++) s_pattern[b] = (byte)b;
            s_hexPairs = (ushort*)(scratch + 2048);
            for (int b = 0; b < 256; b++)
            {
                int high = b >> 4, low = b & 0xF;
                s_hexPairs[b] = (ushort)((high < 10 ? '0' + high : 'a' + high - 10) | (low < 10 ? '0' + low : 'a' + low - 10) << 8);
            }
            Console.WriteLine("kvbench: " + count.ToString() + " records " + where + ", " + s_store.PageCount.ToString() + " pages");

            try
            {
                KvStore.Erase(s_store, s_staging.Page(0));
                if (!Put(count, leaveOpen)) return 1;
                if (leaveOpen) return 0;
                if (!Get(count)) return 1;
                if (!inMemory && !GetInTransactions(count)) return 1;
                if (!Scan(count)) return 1;
                if (!Mixed(count)) return 1;
                if (unixish && !MixedUnixish(count)) return 1;
                if (!WritesAmongReads(count)) return 1;
            }
            catch (CorruptStoreException e) { return Fail(e.Message); }
            catch (System.InvalidOperationException e) { return Fail(e.Message); }
            Console.WriteLine("kvbench: verified, ok");
            return 0;
        }

        private static KvStore OpenCold(int frames)
            => KvStore.Open(s_store, new PageFrames(s_cache.Start, frames), s_staging, new TwoQueuePolicy());

        private static bool Put(ulong count, bool leaveOpen)
        {
            KvStore store = OpenCold(CacheFrames);
            ulong reads = PageReads, writes = PageWrites;
            ulong start = Work();
            s_haltedAtStart = Halted();
            for (ulong t = 0; t < count / 1000; t++)
            {
                for (ulong p = 0; p < 1000; p++)
                {
                    ulong i = 1000 * t + p;
                    MakeKey(i, s_key);
                    store.Put(s_key, Value(i));
                }
                store.Commit();
            }
            ulong loop = Work() - start;
            ulong loopWrites = PageWrites - writes;
            // The Close's checkpoint (the tree written home) is part of kv_put's cost: it is timed
            // with the loop and its writes count in the bytes written.
            if (!leaveOpen) store.Close();
            ulong cycles = Work() - start;
            ulong pageWrites = PageWrites - writes;
            Report("kv_put", count, cycles);
            Console.WriteLine("IO kv_put mib_written " + PerOperation(pageWrites * PageCache.PageSize, 1024 * 1024));
            Console.WriteLine("kvbench: kv_put " + store.Transactions.ToString() + " commits, " + store.LogPagesWritten.ToString()
                + " log pages, " + store.Checkpoints.ToString() + " checkpoints, " + (PageReads - reads).ToString() + " page reads, "
                + pageWrites.ToString() + " page writes (" + loopWrites.ToString() + " before the close); the loop "
                + PerOperation(loop, count) + " per put, the close " + PerOperation(cycles - loop, count) + "; tree of "
                + store.TreePages.ToString() + " pages, height " + store.Height.ToString() + ", " + store.Count.ToString() + " records");
            if (store.Count != count) return Failed("the store holds " + store.Count.ToString() + " records after kv_put");
            if (leaveOpen)
            {
                Console.WriteLine("kvbench: left open, " + store.Count.ToString() + " records committed");
                return true;
            }
            KvStore check = OpenCold(CacheFrames);
            if (check.Count != count) return Failed("the store holds " + check.Count.ToString() + " records after its close");
            check.Verify();
            return true;
        }

        private static bool Get(ulong count)
        {
            KvStore store = OpenCold(CacheFrames);
            ulong reads = PageReads;
            ulong state = 0x2545F4914F6CDD1DUL;
            ulong start = Work();
            s_haltedAtStart = Halted();
            for (ulong n = 0; n < count; n++)
            {
                ulong i = Next(ref state) % count;
                MakeKey(i, s_key);
                if (!store.Get(s_key, s_read)) return Failed("kv_get: key " + i.ToString() + " is missing");
                if (!SameValue(s_read, Value(i))) return Failed("kv_get: the value of key " + i.ToString() + " is wrong");
            }
            ulong cycles = Work() - start;
            Report("kv_get", count, cycles);
            Console.WriteLine("kvbench: kv_get " + (PageReads - reads).ToString() + " page reads");
            return true;
        }

        private static bool Scan(ulong count)
        {
            ulong expected = 0;
            for (ulong i = 0; i < count; i++)
            {
                MakeKey(i, s_key);
                BTree.ConvertKey(s_key, s_previous); // the scan sees keys in their stored form
                expected += KeyHash(s_previous);
            }
            KvStore store = OpenCold(CacheFrames);
            ulong reads = PageReads;
            ulong start = Work();
            s_haltedAtStart = Halted();
            ulong seen = ScanAll(store, out ulong sum, out string problem);
            ulong cycles = Work() - start;
            if (problem != null) return Failed("kv_scan: " + problem);
            if (seen != count || sum != expected) return Failed("kv_scan: " + seen.ToString() + " records, not the keys put");
            Report("kv_scan", count, cycles);
            Console.WriteLine("kvbench: kv_scan " + (PageReads - reads).ToString() + " page reads");
            return true;
        }

        private static bool Mixed(ulong count)
        {
            KvStore store = OpenCold(MixedFrames);
            ulong reads = PageReads;
            ulong start = Work();
            s_haltedAtStart = Halted();
            if (!RunMixed(store, count, "kv_mixed", out ulong gets)) return false;
            ulong cycles = Work() - start;
            ulong pageReads = PageReads - reads;
            Report("kv_mixed", gets, cycles);
            Console.WriteLine("IO kv_mixed page_reads " + pageReads.ToString());
            Console.WriteLine("kvbench: kv_mixed " + MixedFrames.ToString() + " frames, " + store.Cache.Hits.ToString() + " hits, "
                + store.Cache.Misses.ToString() + " misses");
            s_mixedPageReads = pageReads;
            return true;
        }

        private static ulong s_mixedPageReads;

        /// <summary>kv_mixed's loop: 10 rounds of {count/10 random gets, one full scan}.</summary>
        private static bool RunMixed(KvStore store, ulong count, string name, out ulong gets)
        {
            ulong state = 0x9E3779B97F4A7C15UL;
            gets = 0;
            for (int round = 0; round < 10; round++)
            {
                for (ulong n = 0; n < count / 10; n++)
                {
                    ulong i = Next(ref state) % count;
                    MakeKey(i, s_key);
                    if (!store.Get(s_key, s_read)) return Failed(name + ": key " + i.ToString() + " is missing");
                    if (!SameValue(s_read, Value(i))) return Failed(name + ": the value of key " + i.ToString() + " is wrong");
                    gets++;
                }
                ulong seen = ScanAll(store, out ulong _, out string problem);
                if (problem != null || seen != count) return Failed(name + ": scan " + round.ToString() + ": " + (problem ?? seen.ToString() + " records"));
            }
            return true;
        }

        /// <summary>The policy comparison (UnixishComparison.cs): kv_mixed on the same tree, copied
        /// into a file of the ext2 file system on the extent kvfs, through the file system's LRU
        /// cache of 12 MiB and a PageCache of 2 frames.</summary>
        private static bool MixedUnixish(ulong count)
        {
            const int FileSystemCacheBlocks = 3072; // 12 MiB of 4 KiB blocks
            const string FileName = "kv.db";
            KvStore source = OpenCold(CacheFrames);
            StoreLayout layout = source.Layout;
            ulong treeEnd = layout.FirstTreePage + source.TreePages;
            Error error = DiskExtent.Open("kvfs", out DiskExtent extent);
            if (error != Error.None) return Failed("kv_mixed_unixish: the extent kvfs (an ext2 file system; ./aegis bench makes it): " + Errors.Name(error));
            var device = new CountingBlockStore(new ExtentBlockStore(extent));
            var fs = Ext2FileSystem.Mount(device, new Ext2MountOptions { CacheBlocks = FileSystemCacheBlocks });
            if (fs.BlockSize != PageCache.PageSize) return Failed("kv_mixed_unixish: the file system's blocks are " + fs.BlockSize.ToString() + " bytes, not 4096");
            int r = fs.Lookup(Ext2FileSystem.RootInode, FileName, out uint inode);
            r = r == 0 ? fs.Truncate(inode, 0) : fs.Create(Ext2FileSystem.RootInode, FileName, 0x1A4, 0, 0, out inode);
            if (r != 0) return Failed("kv_mixed_unixish: cannot make /" + FileName + ": " + r.ToString() + " " + fs.LastError);
            var file = new FilePageStore(fs, inode, s_store.PageCount);
            // The store's header, meta page and tree, at the same pages; the log's pages stay holes.
            s_store.Read(0, s_staging.Page(0), 2);
            file.Write(0, s_staging.Page(0), 2);
            for (ulong page = layout.MetaPage; page < treeEnd; page += (ulong)StagingFrames)
            {
                int n = treeEnd - page < (ulong)StagingFrames ? (int)(treeEnd - page) : StagingFrames;
                s_store.Read(page, s_staging.Start, n);
                file.Write(page, s_staging.Start, n);
            }
            r = fs.Unmount();
            if (r != 0) return Failed("kv_mixed_unixish: unmount after the copy: " + r.ToString() + " " + fs.LastError);

            // Cold: a new mount (an empty buffer cache), a store with 2 frames of its own.
            fs = Ext2FileSystem.Mount(device, new Ext2MountOptions { CacheBlocks = FileSystemCacheBlocks });
            r = fs.Lookup(Ext2FileSystem.RootInode, FileName, out inode);
            if (r != 0) return Failed("kv_mixed_unixish: /" + FileName + " is gone: " + r.ToString());
            file = new FilePageStore(fs, inode, s_store.PageCount);
            KvStore store = KvStore.Open(file, new PageFrames(s_cache.Start, 2), new PageFrames(s_staging.Start, 2), new TwoQueuePolicy());
            store.ReadAhead = false; // the file system reads ahead on its own
            if (store.Count != count) return Failed("kv_mixed_unixish: the file's store holds " + store.Count.ToString() + " records");
            ulong sectors = device.SectorsRead;
            ulong start = Work();
            s_haltedAtStart = Halted();
            if (!RunMixed(store, count, "kv_mixed_unixish", out ulong gets)) return false;
            ulong cycles = Work() - start;
            ulong pageReads = (device.SectorsRead - sectors) / (ulong)DiskExtent.SectorsPerPage;
            Report("kv_mixed_unixish", gets, cycles);
            Console.WriteLine("IO kv_mixed_unixish page_reads " + pageReads.ToString());
            Console.WriteLine("kvbench: kv_mixed_unixish " + FileSystemCacheBlocks.ToString() + " blocks of LRU cache, " + fs.Cache.Hits.ToString()
                + " hits, " + fs.Cache.Misses.ToString() + " misses; " + store.Cache.Misses.ToString() + " page fetches through the file; the database libOS read "
                + (s_mixedPageReads == 0 ? "?" : PerOperation(pageReads, s_mixedPageReads)) + " times fewer pages");
            r = fs.Unmount();
            if (r != 0) return Failed("kv_mixed_unixish: unmount: " + r.ToString() + " " + fs.LastError);
            return true;
        }

        /// <summary>A full ordered scan: the records seen; keys must increase and each value must be
        /// a value(i) (byte j = byte 0 + j); the sum of KeyHash over the keys.</summary>
        private static ulong ScanAll(KvStore store, out ulong sum, out string problem)
        {
            sum = 0;
            problem = null;
            ulong seen = 0;
            BTree.Cursor cursor = store.First();
            while (cursor.NextRecord(out byte* record))
            {
                byte* key = record, value = record + BTree.KeySize;
                if (seen > 0 && BTree.CompareStored(s_previous, key) >= 0) { problem = "keys out of order at record " + seen.ToString(); return seen; }
                if (!SameValue(value, s_pattern + value[0])) { problem = "the value of record " + seen.ToString() + " is wrong"; return seen; }
                sum += KeyHash(key);
                *(ulong*)s_previous = *(ulong*)key;
                *(ulong*)(s_previous + 8) = *(ulong*)(key + 8);
                seen++;
            }
            return seen;
        }

        private static ulong KeyHash(byte* key) => Mix64(*(ulong*)key ^ Mix64(*(ulong*)(key + 8)));

        /// <summary>key(i): the 16 lowercase hex digits of mix64(i), two digits (one table entry) at a time.</summary>
        private static void MakeKey(ulong i, byte* key)
        {
            ulong z = Mix64(i);
            ushort* pairs = (ushort*)key;
            for (int b = 7; b >= 0; b--)
            {
                pairs[b] = s_hexPairs[z & 0xFF];
                z >>= 8;
            }
        }

        /// <summary>value(i): byte j = (131 i + j) mod 256 — the 100 bytes of the pattern table at (131 i) mod 256.</summary>
        private static byte* Value(ulong i) => s_pattern + (byte)(131 * i);

        private static ulong Mix64(ulong z)
        {
            z += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>xorshift64*.</summary>
        private static ulong Next(ref ulong x)
        {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            return x * 0x2545F4914F6CDD1DUL;
        }

        /// <summary>Whether two 100-byte values are equal: twelve 8-byte words and a 4-byte one.</summary>
        private static bool SameValue(byte* a, byte* b)
        {
            ulong* x = (ulong*)a, y = (ulong*)b;
            for (int w = 0; w < 12; w++) if (x[w] != y[w]) return false;
            return *(uint*)(a + 96) == *(uint*)(b + 96);
        }

        private static void Report(string name, ulong count, ulong cycles)
        {
            Console.WriteLine("BENCH " + name + " " + count.ToString() + " " + PerOperation(cycles, count));
            Console.WriteLine("kvbench: " + name + " halted " + PerOperation(Halted() - s_haltedAtStart, count) + " TSC ticks per op (not counted)");
        }

        /// <summary>cycles / operations, rounded to one decimal.</summary>
        private static string PerOperation(ulong cycles, ulong operations)
        {
            ulong tenths = (cycles * 10 + operations / 2) / operations;
            return (tenths / 10).ToString() + "." + (tenths % 10).ToString();
        }

        private static bool Failed(string what)
        {
            Console.WriteLine("kvbench: FAILED " + what);
            return false;
        }

        private static int Fail(string what)
        {
            Console.WriteLine("kvbench: FAILED " + what);
            return 1;
        }
    }
}
