// StoreLayout: where the key-value store's parts are on its page store (one disk extent),
// computed from the store's size alone so that nothing needs to be read to find the log:
//   page 0, 1          the log header, two copies written alternately (the newer valid one counts)
//   2 .. 2+L-1         the log: L = half the pages, at most 16,384 (64 MiB)
//   2+L                the meta page (root, height, next free page, record count)
//   2+L+1 ..           the B+tree's pages, allocated in order (a bump pointer in the meta page)
using System;

namespace Aegis.LibOS.Database
{
    public readonly struct StoreLayout
    {
        public const ulong HeaderPages = 2;
        public const ulong MaximumLogPages = 16384;
        public const ulong MinimumPages = 32;

        public StoreLayout(ulong pageCount)
        {
            if (pageCount < MinimumPages)
                throw new ArgumentOutOfRangeException(nameof(pageCount), "a key-value store needs at least 32 pages");
            PageCount = pageCount;
            LogPages = pageCount / 2 < MaximumLogPages ? pageCount / 2 : MaximumLogPages;
        }

        public ulong PageCount { get; }
        public ulong LogStart => HeaderPages;
        public ulong LogPages { get; }
        public ulong MetaPage => HeaderPages + LogPages;
        public ulong FirstTreePage => MetaPage + 1;
    }
}
