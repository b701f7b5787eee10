// IPageStore: what the key-value store needs of the place its pages live — numbered 4 KiB pages
// that can be read and written in runs, and a flush after which every page written before it is
// durable. On Aegis it is BlockStore (a disk extent, or memory); the host tests use a memory
// store that can "lose power" after any write. The B+tree, the log and recovery see nothing else,
// so all of their logic runs on the host.
// Contract: pages are 0 .. PageCount-1; a page never written reads as zeros; a write may be lost
// or torn (in 512-byte pieces) by a power cut until a later Flush returns.
namespace Aegis.LibOS.Database
{
    public unsafe interface IPageStore
    {
        ulong PageCount { get; }

        /// <summary>Reads 'count' pages starting at 'page' into destination (count * 4096 bytes).</summary>
        void Read(ulong page, byte* destination, int count);

        /// <summary>Writes 'count' pages starting at 'page' from source (count * 4096 bytes).</summary>
        void Write(ulong page, byte* source, int count);

        /// <summary>Every write issued before it is durable when it returns.</summary>
        void Flush();
    }

    /// <summary>A run of page-aligned memory the store may use (the cache's frames, the log's
    /// staging buffer). The caller owns it; on Aegis, frames it mapped itself.</summary>
    public readonly unsafe struct PageFrames
    {
        public PageFrames(byte* start, int count) { Start = start; Count = count; }
        public byte* Start { get; }
        public int Count { get; }
        public byte* Page(int index) => Start + (long)index * PageCache.PageSize;
    }

    /// <summary>The store's pages on disk are not what it wrote: a damaged log, meta page or tree
    /// page. Raised instead of a hang or an access out of range.</summary>
    public sealed class CorruptStoreException : System.Exception
    {
        public CorruptStoreException(string message) : base("corrupt key-value store: " + message) { }
    }

    /// <summary>A 64-bit checksum of whole words (FNV-1a's constants over 8-byte words, with a
    /// shift to spread high bits, then splitmix64's finaliser); length is a multiple of 8.</summary>
    public static unsafe class PageChecksum
    {
        public static ulong Of(byte* data, int length)
        {
            ulong hash = 0xCBF29CE484222325UL;
            ulong* words = (ulong*)data;
            int count = length / 8;
            for (int i = 0; i < count; i++)
            {
                hash = (hash ^ words[i]) * 0x100000001B3UL;
                hash ^= hash >> 29;
            }
            // A finaliser, so a page that stores the checksum of its own first words (a log
            // descriptor, the meta page) does not cancel to a fixed value when checksummed whole.
            hash ^= (ulong)length;
            hash = (hash ^ (hash >> 30)) * 0xBF58476D1CE4E5B9UL;
            hash = (hash ^ (hash >> 27)) * 0x94D049BB133111EBUL;
            return hash ^ (hash >> 31);
        }
    }
}
