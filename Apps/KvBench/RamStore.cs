// RamStore: an IPageStore in frames kvbench maps itself — kvbench's ",ram" mode, which runs the
// same workloads with no disk, so RDTSC under -icount counts the store's own work (no halted
// waits for the disk; no disk requests either).
using Aegis.Abi;
using Aegis.LibOS;
using Aegis.LibOS.Database;

namespace Aegis.Apps.KvBench
{
    internal sealed unsafe class RamStore : IPageStore
    {
        private readonly byte* _pages;

        public RamStore(int pageCount)
        {
            ulong address = AddressSpace.Reserve(pageCount);
            if (address == 0 || Memory.AllocateAndMap(address, pageCount, Memory.ReadWrite) != Error.None)
                throw new System.InvalidOperationException("cannot map the RAM store's " + pageCount.ToString() + " pages");
            _pages = (byte*)address;
            PageCount = (ulong)pageCount;
        }

        public ulong PageCount { get; }
        public ulong Reads { get; private set; }
        public ulong Writes { get; private set; }

        public void Read(ulong page, byte* destination, int count)
        {
            Check(page, count);
            System.Buffer.MemoryCopy(_pages + (long)page * PageCache.PageSize, destination, (long)count * PageCache.PageSize, (long)count * PageCache.PageSize);
            Reads += (ulong)count;
        }

        public void Write(ulong page, byte* source, int count)
        {
            Check(page, count);
            System.Buffer.MemoryCopy(source, _pages + (long)page * PageCache.PageSize, (long)count * PageCache.PageSize, (long)count * PageCache.PageSize);
            Writes += (ulong)count;
        }

        public void Flush() { }

        private void Check(ulong page, int count)
        {
            if (count < 0 || page + (ulong)count > PageCount) throw new System.ArgumentOutOfRangeException(nameof(page));
        }
    }
}
