// WriteAheadLog: redo logging of whole page images, so a commit is durable when it returns and a
// power cut loses only what had not committed (docs/database.md "Log").
// Format (StoreLayout gives the places):
//   header (page 0 or 1, the copy epoch % 2): magic AEGISWL1, version, epoch, log pages, store
//     pages, checksum. The newer valid copy names the live epoch; its log starts at log page 0.
//   segment: a descriptor page — magic AEGISSG1, epoch, sequence (0, 1, ... within the epoch),
//     transaction, flags (1: commit), count, then count (page number, checksum of its image)
//     pairs (at most 251), the descriptor's own checksum in its last 8 bytes — followed by the
//     count page images. A transaction is one or more segments, the last one flagged commit.
// Commit: the running transaction's changed pages (PageCache keeps them pinned: no steal) are
//   appended as segments, written, then the store is flushed; only then may the pages be written
//   home (lazily, by eviction or a checkpoint).
// Checkpoint (after a commit that left the log more than half full, and at Close): every
//   committed page is written home, flush, then the header of epoch+1 in the other copy, flush;
//   the log starts again at page 0. Segments of an older epoch no longer count.
// Recovery (Open): the newer valid header; then from log page 0, each transaction whose
//   segments are all whole (magic, epoch, expected sequence, checksums of descriptor and images)
//   and end in a commit is written home, in order; the first segment that is not ends the log
//   (a torn or never-written tail). Then flush, and a new epoch (so the tail never counts later).
// Replaying whole images is idempotent: a crash during recovery just recovers again.
using System;

namespace Aegis.LibOS.Database
{
    internal sealed unsafe class WriteAheadLog
    {
        private const ulong HeaderMagic = 0x314C575349474541UL;   // "AEGISWL1"
        private const ulong SegmentMagic = 0x3147535349474541UL;  // "AEGISSG1"
        private const ulong Version = 1;
        private const uint CommitFlag = 1;
        private const int EntriesOffset = 64;
        public const int EntriesPerSegment = (PageCache.PageSize - EntriesOffset - 8) / 16; // 251
        private const int SelfChecksumOffset = PageCache.PageSize - 8;

        private readonly IPageStore _store;
        private readonly StoreLayout _layout;
        private readonly PageFrames _staging;
        private int _staged;
        private ulong _stagedAt;     // log page where staging page 0 goes
        private ulong _epoch;
        private ulong _position;     // next free log page
        private ulong _sequence;     // next segment's sequence

        public WriteAheadLog(IPageStore store, StoreLayout layout, PageFrames staging)
        {
            if (staging.Count < 2) throw new ArgumentOutOfRangeException(nameof(staging), "the log needs at least 2 staging pages");
            _store = store;
            _layout = layout;
            _staging = staging;
        }

        public ulong Epoch => _epoch;
        public ulong Used => _position;
        public ulong PagesWritten { get; private set; }
        public ulong Checkpoints { get; private set; }
        public ulong Replayed { get; private set; }

        /// <summary>Recovers the store (see the header). False when both copies of the header are
        /// zero: a new store (the caller checks, then calls StartFirstEpoch).</summary>
        public bool Recover()
        {
            _store.Read(0, _staging.Page(0), 2);
            bool valid0 = ValidHeader(_staging.Page(0), out ulong epoch0);
            bool valid1 = ValidHeader(_staging.Page(1), out ulong epoch1);
            if (!valid0 && !valid1)
            {
                if (!IsZero(_staging.Page(0)) || !IsZero(_staging.Page(1)))
                    throw new CorruptStoreException("neither copy of the log header is valid");
                return false;
            }
            _epoch = valid0 && (!valid1 || epoch0 > epoch1) ? epoch0 : epoch1;
            ulong position = 0, sequence = 0;
            bool replayedAny = false;
            while (true)
            {
                ulong start = position, startSequence = sequence;
                if (!ValidTransaction(ref position, ref sequence)) break;
                Apply(start, startSequence, position);
                Replayed++;
                replayedAny = true;
            }
            if (replayedAny) _store.Flush();
            StartEpoch();
            return true;
        }

        public void StartFirstEpoch()
        {
            _epoch = 0;
            StartEpoch();
        }

        /// <summary>Logs the transaction's changed pages and makes them durable.</summary>
        public void Commit(PageCache cache, ulong transaction)
        {
            int pages = cache.ChangingCount;
            if (pages == 0) return;
            ulong segments = (ulong)((pages + EntriesPerSegment - 1) / EntriesPerSegment);
            ulong need = (ulong)pages + segments;
            if (need > _layout.LogPages - _position)
                throw new InvalidOperationException("a transaction of " + pages.ToString() + " pages does not fit the log ("
                    + (_layout.LogPages - _position).ToString() + " of " + _layout.LogPages.ToString() + " pages free)");
            _staged = 0;
            _stagedAt = _position;
            for (int first = 0; first < pages; first += EntriesPerSegment)
            {
                int count = pages - first < EntriesPerSegment ? pages - first : EntriesPerSegment;
                byte* descriptor = NextStagingPage();
                Zero(descriptor);
                ulong* words = (ulong*)descriptor;
                words[0] = SegmentMagic;
                words[1] = _epoch;
                words[2] = _sequence++;
                words[3] = transaction;
                *(uint*)(descriptor + 32) = first + count == pages ? CommitFlag : 0;
                *(uint*)(descriptor + 36) = (uint)count;
                for (int i = 0; i < count; i++)
                {
                    ulong* entry = (ulong*)(descriptor + EntriesOffset + i * 16);
                    entry[0] = cache.ChangingPage(first + i);
                    entry[1] = PageChecksum.Of(cache.ChangingData(first + i), PageCache.PageSize);
                }
                *(ulong*)(descriptor + SelfChecksumOffset) = PageChecksum.Of(descriptor, SelfChecksumOffset);
                for (int i = 0; i < count; i++)
                    Buffer.MemoryCopy(cache.ChangingData(first + i), NextStagingPage(), PageCache.PageSize, PageCache.PageSize);
            }
            WriteStaged();
            _store.Flush();
            _position += need;
        }

        /// <summary>Writes every committed page home and starts a new, empty epoch of the log.
        /// Only between transactions (no page changed by a running one).</summary>
        public void Checkpoint(PageCache cache)
        {
            if (cache.ChangingCount != 0) throw new InvalidOperationException("a checkpoint in the middle of a transaction");
            cache.WriteBackCommitted();
            _store.Flush();
            StartEpoch();
            Checkpoints++;
        }

        private void StartEpoch()
        {
            _epoch++;
            byte* header = _staging.Page(0);
            Zero(header);
            ulong* words = (ulong*)header;
            words[0] = HeaderMagic;
            words[1] = Version;
            words[2] = _epoch;
            words[3] = _layout.LogPages;
            words[4] = _layout.PageCount;
            words[5] = PageChecksum.Of(header, 40);
            _store.Write(_epoch % 2, header, 1);
            _store.Flush();
            _position = 0;
            _sequence = 0;
        }

        private bool ValidHeader(byte* header, out ulong epoch)
        {
            ulong* words = (ulong*)header;
            epoch = words[2];
            return words[0] == HeaderMagic && words[5] == PageChecksum.Of(header, 40) && words[1] == Version
                && words[3] == _layout.LogPages && words[4] == _layout.PageCount && epoch % 2 == (header == _staging.Page(0) ? 0UL : 1UL);
        }

        /// <summary>Whether whole segments ending in a commit start at 'position'; moves past them.</summary>
        private bool ValidTransaction(ref ulong position, ref ulong sequence)
        {
            while (true)
            {
                if (!ValidSegment(position, sequence, out int count, out bool commit)) return false;
                position += 1 + (ulong)count;
                sequence++;
                if (commit) return true;
            }
        }

        /// <summary>Reads the segment at 'position' (descriptor in staging page 0) and checks it and its images.</summary>
        private bool ValidSegment(ulong position, ulong sequence, out int count, out bool commit)
        {
            count = 0;
            commit = false;
            if (position >= _layout.LogPages) return false;
            byte* descriptor = _staging.Page(0);
            _store.Read(_layout.LogStart + position, descriptor, 1);
            ulong* words = (ulong*)descriptor;
            if (words[0] != SegmentMagic || words[1] != _epoch || words[2] != sequence) return false;
            if (*(ulong*)(descriptor + SelfChecksumOffset) != PageChecksum.Of(descriptor, SelfChecksumOffset)) return false;
            uint flags = *(uint*)(descriptor + 32);
            uint entries = *(uint*)(descriptor + 36);
            if (entries == 0 || entries > EntriesPerSegment || (flags & ~CommitFlag) != 0) return false;
            if (position + 1 + entries > _layout.LogPages) return false;
            for (int i = 0; i < (int)entries; i++)
            {
                ulong page = *(ulong*)(descriptor + EntriesOffset + i * 16);
                if (page < _layout.MetaPage || page >= _layout.PageCount) return false;
            }
            int batch = _staging.Count - 1;
            for (int done = 0; done < (int)entries; done += batch)
            {
                int n = (int)entries - done < batch ? (int)entries - done : batch;
                _store.Read(_layout.LogStart + position + 1 + (ulong)done, _staging.Page(1), n);
                for (int i = 0; i < n; i++)
                    if (PageChecksum.Of(_staging.Page(1 + i), PageCache.PageSize) != *(ulong*)(descriptor + EntriesOffset + (done + i) * 16 + 8))
                        return false;
            }
            count = (int)entries;
            commit = (flags & CommitFlag) != 0;
            return true;
        }

        /// <summary>Writes the images of the (already checked) segments in [position, end) home.</summary>
        private void Apply(ulong position, ulong sequence, ulong end)
        {
            byte* descriptor = _staging.Page(0);
            while (position < end)
            {
                _store.Read(_layout.LogStart + position, descriptor, 1);
                int entries = (int)*(uint*)(descriptor + 36);
                int batch = _staging.Count - 1;
                for (int done = 0; done < entries; done += batch)
                {
                    int n = entries - done < batch ? entries - done : batch;
                    _store.Read(_layout.LogStart + position + 1 + (ulong)done, _staging.Page(1), n);
                    for (int i = 0; i < n; i++)
                        _store.Write(*(ulong*)(descriptor + EntriesOffset + (done + i) * 16), _staging.Page(1 + i), 1);
                }
                position += 1 + (ulong)entries;
            }
        }

        private byte* NextStagingPage()
        {
            if (_staged == _staging.Count) WriteStaged();
            return _staging.Page(_staged++);
        }

        private void WriteStaged()
        {
            if (_staged == 0) return;
            _store.Write(_layout.LogStart + _stagedAt, _staging.Start, _staged);
            PagesWritten += (ulong)_staged;
            _stagedAt += (ulong)_staged;
            _staged = 0;
        }

        private static void Zero(byte* page)
        {
            for (int i = 0; i < PageCache.PageSize / 8; i++) ((ulong*)page)[i] = 0;
        }

        private static bool IsZero(byte* page)
        {
            for (int i = 0; i < PageCache.PageSize / 8; i++) if (((ulong*)page)[i] != 0) return false;
            return true;
        }
    }
}
