// dbtest: runs LibOS.Database's policy. Inserts Records records into a record file over a buffer
// pool much smaller than the file (so inserting already evicts), then looks records up with
// locality (most in a hot set of blocks, the rest anywhere), checks every record read, and
// prints "dbtest: <n> records, <h> hits, <m> misses, ok" with the pool's counters.
// Argument "disk": the blocks live on the disk extent "dbtest" (made when missing; DMA straight
// into the pool's pages), flushed at the end. "verify": opens that extent (written by an earlier
// boot's "disk" run), inserts nothing and checks every record it looks up — what survived.
using Aegis.LibOS;
using Aegis.LibOS.Database;

namespace Aegis.Apps.DbTest
{
    internal static class Program
    {
        private const int Blocks = 32;
        private const int PoolFrames = 6;
        private const int Lookups = 4000;
        private const int HotBlocks = 4;

        private static int Main()
        {
            string mode = Info.Argument;
            BlockStore store;
            if (mode == "disk" || mode == "verify")
            {
                Aegis.Abi.Error error = mode == "disk"
                    ? DiskExtent.OpenOrAllocate("dbtest", (ulong)Blocks * DiskExtent.SectorsPerPage, out DiskExtent extent)
                    : DiskExtent.Open("dbtest", out extent);
                if (error != Aegis.Abi.Error.None)
                {
                    Console.WriteLine("dbtest: the extent dbtest: " + Errors.Name(error));
                    return 1;
                }
                store = new BlockStore(extent);
                Console.WriteLine("dbtest: on the disk, extent dbtest at sector " + extent.Start.ToString() + ", " + store.BlockCount.ToString() + " blocks");
            }
            else store = new BlockStore(Blocks);
            BufferPool pool = new BufferPool(store, PoolFrames);
            ulong records = (ulong)(Blocks * RecordFile.RecordsPerBlock);
            RecordFile file = new RecordFile(pool, Blocks, mode == "verify" ? records : 0);
            if (mode != "verify")
            {
                for (ulong i = 0; i < records; i++)
                    file.Append(KeyOf(i), ValueOf(i));
                pool.Flush();
            }

            ulong state = 0x2545_F491_4F6C_DD1DUL;
            ulong hot = (ulong)(HotBlocks * RecordFile.RecordsPerBlock);
            for (int i = 0; i < Lookups; i++)
            {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                ulong number = (state % 10) < 8 ? (state >> 8) % hot : (state >> 8) % records;
                if (!file.TryRead(number, out ulong key, out ulong value) || key != KeyOf(number) || value != ValueOf(number))
                {
                    Console.WriteLine("dbtest: record " + number.ToString() + " is wrong");
                    return 1;
                }
            }
            Console.WriteLine("dbtest: " + records.ToString() + " records, " + pool.Hits.ToString() + " hits, "
                + pool.Misses.ToString() + " misses, ok");
            Console.WriteLine("dbtest: " + PoolFrames.ToString() + " buffers for " + Blocks.ToString() + " blocks; "
                + pool.Evictions.ToString() + " evictions, " + pool.WriteBacks.ToString() + " write-backs, "
                + store.Reads.ToString() + " block reads, " + store.Writes.ToString() + " block writes");
            return 0;
        }

        private static ulong KeyOf(ulong number) => number * 2654435761UL + 17;
        private static ulong ValueOf(ulong number) => number ^ 0x5A5A_5A5A_5A5A_5A5AUL;
    }
}
