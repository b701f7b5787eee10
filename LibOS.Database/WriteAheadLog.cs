// WriteAheadLog: a redo log of records (the puts themselves), with page images only at
// checkpoints, so a commit writes about 116 bytes per put instead of whole pages
// (docs/database.md "The log").
// Home pages change only at a checkpoint: between two checkpoints the pages on the store are the
// tree as the first of them left it, a consistent tree on which the logged puts can be replayed.
// A committed page that must leave the cache before the next checkpoint is "spilled" to a slot at
// the log's far end (never to its home), and read back from there.
// Format (StoreLayout gives the places):
//   header (page 0 or 1, the copy epoch % 2): magic AEGISWL1, version 2, epoch, log pages, store
//     pages, start (the log page where this epoch's log begins), checksum of those 48 bytes.
//     The newer valid copy names the live epoch.
//   segment: a descriptor page — magic AEGISSG2, epoch, sequence (0, 1, ... within the epoch),
//     transaction, flags (u32: 1 commit, 2 images), count (u32, at most 251), for records the
//     payload's bytes (u64), then from byte 64 count (page number, checksum) pairs — for records
//     the page number is 0 and the checksum is of payload page i — and the descriptor's own
//     checksum in its last 8 bytes; followed by count pages: the payload (puts of 16 + 100 bytes,
//     packed, a record may cross a page) or the images. A transaction is one or more segments of
//     one kind, the last one flagged commit.
// Commit: the running transaction's puts, already staged (and written a segment at a time when the
//   staging pages fill), end with a segment flagged commit; then the store is flushed.
// Checkpoint (after a commit that left the log or the cache more than half used by what is not
//   home yet, and at Close), with E the live epoch and P the end of its log:
//   1. the images of every page not home yet, as one transaction of epoch E+1 at log page P; flush;
//   2. the header of E+1, starting at P; flush;
//   3. every one of those pages written home; flush;
//   4. the header of E+2, starting at 0 (an empty log); flush.
// Recovery (Open): the newer valid header, then from its start each transaction whose segments are
//   all whole (magic, epoch, expected sequence, checksums) and end in a commit; the first segment
//   that is not ends the log. Images are written home (then flush, and an empty epoch: this ends
//   an interrupted checkpoint; images are idempotent). Records are handed to the store to replay
//   on the tree, which then checkpoints from the end of the valid log: its images go to a new
//   epoch, so a stale tail of the old one can never be read as part of it.
using System;
using System.Collections.Generic;

namespace Aegis.LibOS.Database
{
    /// <summary>Where a replayed put goes (KvStore).</summary>
    internal unsafe interface IRecordSink
    {
        void Replay(byte* key, byte* value);
        void ReplayedTransaction();
    }

    internal sealed unsafe class WriteAheadLog : IPageSpill
    {
        private const ulong HeaderMagic = 0x314C575349474541UL;   // "AEGISWL1"
        private const ulong SegmentMagic = 0x3247535349474541UL;  // "AEGISSG2"
        private const ulong Version = 2;
        private const int HeaderChecksumAt = 48;
        private const uint CommitFlag = 1, ImagesFlag = 2;
        private const int EntriesOffset = 64;
        private const int MaximumEntries = (PageCache.PageSize - EntriesOffset - 8) / 16; // 251 pages a segment
        private const int SelfChecksumOffset = PageCache.PageSize - 8;
        public const int RecordSize = BTree.KeySize + BTree.ValueSize;

        private readonly IPageStore _store;
        private readonly StoreLayout _layout;
        private readonly PageFrames _staging;
        private readonly int _payloadCapacity;   // bytes of records one segment carries
        private int _payloadBytes;               // records staged in staging pages 1.. for the next segment
        private ulong _epoch;
        private ulong _start;                    // where the live epoch's log begins
        private ulong _position;                 // next free log page (absolute within the log)
        private ulong _sequence;                 // next segment's sequence
        // Spill slots: log pages from the far end, one per spilled page, until the next checkpoint.
        private readonly Dictionary<ulong, ulong> _spillSlot = new Dictionary<ulong, ulong>();
        private ulong _spillUsed;
        private readonly List<ulong> _pendingTransactions = new List<ulong>(); // recovery: record transactions' first log pages

        public WriteAheadLog(IPageStore store, StoreLayout layout, PageFrames staging)
        {
            if (staging.Count < 2) throw new ArgumentOutOfRangeException(nameof(staging), "the log needs at least 2 staging pages");
            _store = store;
            _layout = layout;
            _staging = staging;
            _payloadCapacity = Math.Min(staging.Count - 1, MaximumEntries) * PageCache.PageSize;
        }

        public ulong Epoch => _epoch;
        /// <summary>Log pages in use: the live epoch's segments and the spill slots.</summary>
        public ulong Used => _position - _start + _spillUsed;
        public ulong PagesWritten { get; private set; }
        public ulong SpillWrites { get; private set; }
        public ulong Checkpoints { get; private set; }
        public ulong Replayed { get; private set; }
        /// <summary>Pages spilled since the last checkpoint.</summary>
        public int Spilled => _spillSlot.Count;
        /// <summary>Record transactions the last Recover found and Replay has to apply.</summary>
        public bool HasRecordsToReplay => _pendingTransactions.Count > 0;

        /// <summary>Log pages a checkpoint of 'pages' images takes.</summary>
        public static ulong ImagePages(ulong pages, int stagingPages)
        {
            ulong perSegment = (ulong)Math.Min(MaximumEntries, stagingPages - 1);
            return pages + (pages + perSegment - 1) / perSegment;
        }

        /// <summary>Reads the header and checks the log (see the file's header). False when both
        /// copies of the header are zero: a new store (the caller checks, then calls StartFirstEpoch).
        /// Images found are written home here; record transactions are left for Replay.</summary>
        public bool Recover()
        {
            _store.Read(0, _staging.Page(0), 2);
            bool valid0 = ValidHeader(_staging.Page(0), 0, out ulong epoch0, out ulong start0);
            bool valid1 = ValidHeader(_staging.Page(1), 1, out ulong epoch1, out ulong start1);
            if (!valid0 && !valid1)
            {
                if (!IsZero(_staging.Page(0)) || !IsZero(_staging.Page(1)))
                    throw new CorruptStoreException("neither copy of the log header is valid");
                return false;
            }
            bool first = valid0 && (!valid1 || epoch0 > epoch1);
            _epoch = first ? epoch0 : epoch1;
            _start = first ? start0 : start1;
            ulong position = _start, sequence = 0;
            bool images = false;
            _pendingTransactions.Clear();
            while (true)
            {
                ulong at = position, atSequence = sequence;
                if (!ValidTransaction(ref position, ref sequence, out bool imageTransaction)) break;
                if (imageTransaction)
                {
                    ApplyImages(at, position);
                    images = true;
                    Replayed++;
                }
                else _pendingTransactions.Add(at);
            }
            _position = position;
            _sequence = sequence;
            if (images && _pendingTransactions.Count > 0)
                throw new CorruptStoreException("an epoch of the log holds both images and records");
            if (images) _store.Flush();
            if (_pendingTransactions.Count == 0) StartEpoch(0);
            return true;
        }

        /// <summary>Hands the records of the transactions Recover found to 'sink', in order. The
        /// payload is read a staging batch at a time; a record cut by a batch's end is put together
        /// in staging page 0 (the descriptor's fields are read first).</summary>
        public void Replay(IRecordSink sink)
        {
            byte* descriptor = _staging.Page(0);
            int batch = _staging.Count - 1;
            for (int t = 0; t < _pendingTransactions.Count; t++)
            {
                ulong position = _pendingTransactions[t];
                while (true)
                {
                    _store.Read(_layout.LogStart + position, descriptor, 1);
                    uint flags = *(uint*)(descriptor + 32);
                    int count = (int)*(uint*)(descriptor + 36);
                    ulong bytes = *(ulong*)(descriptor + 40);
                    byte* carry = descriptor; // free now
                    int carried = 0;
                    ulong next = 0; // payload offset of the next record not yet handed on
                    for (int done = 0; done < count; done += batch)
                    {
                        int n = count - done < batch ? count - done : batch;
                        _store.Read(_layout.LogStart + position + 1 + (ulong)done, _staging.Page(1), n);
                        ulong chunkStart = (ulong)done * PageCache.PageSize;
                        ulong chunkEnd = chunkStart + (ulong)n * PageCache.PageSize;
                        if (chunkEnd > bytes) chunkEnd = bytes;
                        byte* chunk = _staging.Page(1);
                        if (carried > 0)
                        {
                            int rest = RecordSize - carried;
                            Buffer.MemoryCopy(chunk, carry + carried, rest, rest);
                            sink.Replay(carry, carry + BTree.KeySize);
                            next = chunkStart + (ulong)rest;
                            carried = 0;
                        }
                        while (next + RecordSize <= chunkEnd)
                        {
                            byte* record = chunk + (next - chunkStart);
                            sink.Replay(record, record + BTree.KeySize);
                            next += RecordSize;
                        }
                        if (next < chunkEnd)
                        {
                            carried = (int)(chunkEnd - next);
                            Buffer.MemoryCopy(chunk + (next - chunkStart), carry, carried, carried);
                            next = chunkEnd;
                        }
                    }
                    position += 1 + (ulong)count;
                    if ((flags & CommitFlag) != 0) break;
                }
                sink.ReplayedTransaction();
                Replayed++;
            }
            _pendingTransactions.Clear();
        }

        public void StartFirstEpoch()
        {
            _epoch = 0;
            StartEpoch(0);
        }

        /// <summary>Stages one put of the running transaction; a full segment is written at once
        /// (without the commit flag: a power cut before the commit drops it).</summary>
        public void Append(byte* key, byte* value, ulong transaction)
        {
            if (_payloadBytes + RecordSize > _payloadCapacity) WriteRecordSegment(transaction, commit: false);
            byte* at = _staging.Page(1) + _payloadBytes;
            Buffer.MemoryCopy(key, at, BTree.KeySize, BTree.KeySize);
            Buffer.MemoryCopy(value, at + BTree.KeySize, BTree.ValueSize, BTree.ValueSize);
            _payloadBytes += RecordSize;
        }

        /// <summary>Writes the running transaction's last segment, flagged commit, and flushes: the
        /// transaction is durable when it returns.</summary>
        public void Commit(ulong transaction)
        {
            WriteRecordSegment(transaction, commit: true);
            _store.Flush();
        }

        private void WriteRecordSegment(ulong transaction, bool commit)
        {
            int pages = (_payloadBytes + PageCache.PageSize - 1) / PageCache.PageSize;
            if (pages == 0) pages = 1;
            if (_position + 1 + (ulong)pages > _layout.LogPages - _spillUsed)
                throw new InvalidOperationException("the transaction does not fit the log (" + _layout.LogPages.ToString() + " pages, "
                    + (_position - _start).ToString() + " used by records, " + _spillUsed.ToString() + " by spilled pages): commit more often");
            byte* payload = _staging.Page(1);
            int used = _payloadBytes, end = pages * PageCache.PageSize;
            for (int i = used; i < end; i++) payload[i] = 0;
            byte* descriptor = _staging.Page(0);
            Zero(descriptor);
            ulong* words = (ulong*)descriptor;
            words[0] = SegmentMagic;
            words[1] = _epoch;
            words[2] = _sequence++;
            words[3] = transaction;
            *(uint*)(descriptor + 32) = commit ? CommitFlag : 0;
            *(uint*)(descriptor + 36) = (uint)pages;
            words[5] = (ulong)used;
            for (int i = 0; i < pages; i++)
                *(ulong*)(descriptor + EntriesOffset + i * 16 + 8) = PageChecksum.Of(payload + (long)i * PageCache.PageSize, PageCache.PageSize);
            *(ulong*)(descriptor + SelfChecksumOffset) = PageChecksum.Of(descriptor, SelfChecksumOffset);
            _store.Write(_layout.LogStart + _position, descriptor, 1 + pages);
            PagesWritten += 1 + (ulong)pages;
            _position += 1 + (ulong)pages;
            _payloadBytes = 0;
        }

        // ---- Spilling (IPageSpill): a committed page leaving the cache before the checkpoint.

        public void Spill(ulong page, byte* data)
        {
            if (!_spillSlot.TryGetValue(page, out ulong slot))
            {
                if (_layout.LogPages - _spillUsed <= _position)
                    throw new InvalidOperationException("the log has no room to spill a committed page: the cache is too small for the transactions");
                _spillUsed++;
                slot = _layout.LogPages - _spillUsed;
                _spillSlot[page] = slot;
            }
            _store.Write(_layout.LogStart + slot, data, 1);
            SpillWrites++;
        }

        public bool IsSpilled(ulong page) => _spillSlot.Count != 0 && _spillSlot.ContainsKey(page);

        public bool TryRead(ulong page, byte* into)
        {
            if (_spillSlot.Count == 0 || !_spillSlot.TryGetValue(page, out ulong slot)) return false;
            _store.Read(_layout.LogStart + slot, into, 1);
            return true;
        }

        /// <summary>Writes every page that is not home yet (the cache's committed pages and the
        /// spilled ones) home, safely (see the file's header); the log is then empty. Only between
        /// transactions.</summary>
        public void Checkpoint(PageCache cache, ulong transaction)
        {
            if (cache.ChangingCount != 0) throw new InvalidOperationException("a checkpoint in the middle of a transaction");
            // The pages not home yet, in page order (the cache's committed pages and the spilled
            // ones), so that home writes go in runs of consecutive pages.
            _notHome.Clear();
            for (ulong page = _layout.MetaPage; page < _layout.PageCount; page++)
            {
                int frame = cache.FrameOf(page);
                if (frame >= 0 ? cache.IsCommitted(frame) : _spillSlot.Count != 0 && _spillSlot.ContainsKey(page)) _notHome.Add(page);
            }
            int total = _notHome.Count;
            if (total == 0)
            {
                if (_position != _start) StartEpoch(0); // records without pages: nothing to write home
                return;
            }
            ulong need = ImagePages((ulong)total, _staging.Count);
            if (_position + need > _layout.LogPages - _spillUsed)
                throw new InvalidOperationException("the log has no room for the checkpoint's " + total.ToString() + " images");
            // 1. The images, as one transaction of the next epoch, from the end of this one's log.
            ulong imagesAt = _position;
            _epoch++;
            _sequence = 0;
            int perSegment = Math.Min(MaximumEntries, _staging.Count - 1);
            for (int done = 0; done < total; done += perSegment)
            {
                int count = Math.Min(perSegment, total - done);
                byte* descriptor = _staging.Page(0);
                Zero(descriptor);
                ulong* words = (ulong*)descriptor;
                words[0] = SegmentMagic;
                words[1] = _epoch;
                words[2] = _sequence++;
                words[3] = transaction;
                *(uint*)(descriptor + 32) = ImagesFlag | (done + count == total ? CommitFlag : 0);
                *(uint*)(descriptor + 36) = (uint)count;
                for (int i = 0; i < count; i++)
                {
                    byte* image = _staging.Page(1 + i);
                    ulong page = _notHome[done + i];
                    CopyNotHome(cache, page, image);
                    ulong* entry = (ulong*)(descriptor + EntriesOffset + i * 16);
                    entry[0] = page;
                    entry[1] = PageChecksum.Of(image, PageCache.PageSize);
                }
                *(ulong*)(descriptor + SelfChecksumOffset) = PageChecksum.Of(descriptor, SelfChecksumOffset);
                _store.Write(_layout.LogStart + _position, descriptor, 1 + count);
                PagesWritten += 1 + (ulong)count;
                _position += 1 + (ulong)count;
            }
            _store.Flush();
            // 2. The new epoch starts at the images: from now on a power cut replays them.
            WriteHeader(imagesAt);
            // 3. Home, in runs of consecutive pages through the staging pages (one request a run).
            for (int first = 0; first < total;)
            {
                int run = 1;
                while (first + run < total && run < _staging.Count && _notHome[first + run] == _notHome[first] + (ulong)run) run++;
                for (int i = 0; i < run; i++) CopyNotHome(cache, _notHome[first + i], _staging.Page(i));
                _store.Write(_notHome[first], _staging.Start, run);
                HomeWrites += (ulong)run;
                first += run;
            }
            cache.CommittedAreHome();
            _store.Flush();
            // 4. An empty log.
            StartEpoch(0);
            Checkpoints++;
        }

        private readonly List<ulong> _notHome = new List<ulong>();
        /// <summary>Pages written home by checkpoints.</summary>
        public ulong HomeWrites { get; private set; }

        /// <summary>A page not home yet into 'into': from its frame, or from its spill slot.</summary>
        private void CopyNotHome(PageCache cache, ulong page, byte* into)
        {
            int frame = cache.FrameOf(page);
            if (frame >= 0) Buffer.MemoryCopy(cache.FrameData(frame), into, PageCache.PageSize, PageCache.PageSize);
            else _store.Read(_layout.LogStart + _spillSlot[page], into, 1);
        }

        private void StartEpoch(ulong start)
        {
            _epoch++;
            WriteHeader(start);
            _position = start;
            _sequence = 0;
            _spillSlot.Clear();
            _spillUsed = 0;
            _payloadBytes = 0;
        }

        private void WriteHeader(ulong start)
        {
            byte* header = _staging.Page(0);
            Zero(header);
            ulong* words = (ulong*)header;
            words[0] = HeaderMagic;
            words[1] = Version;
            words[2] = _epoch;
            words[3] = _layout.LogPages;
            words[4] = _layout.PageCount;
            words[5] = start;
            words[6] = PageChecksum.Of(header, HeaderChecksumAt);
            _store.Write(_epoch % 2, header, 1);
            _store.Flush();
            _start = start;
        }

        private bool ValidHeader(byte* header, ulong copy, out ulong epoch, out ulong start)
        {
            ulong* words = (ulong*)header;
            epoch = words[2];
            start = words[5];
            return words[0] == HeaderMagic && words[6] == PageChecksum.Of(header, HeaderChecksumAt) && words[1] == Version
                && words[3] == _layout.LogPages && words[4] == _layout.PageCount && epoch % 2 == copy && start < _layout.LogPages;
        }

        /// <summary>Whether whole segments of one kind ending in a commit start at 'position'; moves past them.</summary>
        private bool ValidTransaction(ref ulong position, ref ulong sequence, out bool images)
        {
            images = false;
            bool first = true;
            while (true)
            {
                if (!ValidSegment(position, sequence, out int count, out bool commit, out bool segmentImages)) return false;
                if (!first && segmentImages != images) return false;
                images = segmentImages;
                first = false;
                position += 1 + (ulong)count;
                sequence++;
                if (commit) return true;
            }
        }

        /// <summary>Reads the segment at 'position' (descriptor in staging page 0) and checks it and its pages.</summary>
        private bool ValidSegment(ulong position, ulong sequence, out int count, out bool commit, out bool images)
        {
            count = 0;
            commit = false;
            images = false;
            if (position >= _layout.LogPages) return false;
            byte* descriptor = _staging.Page(0);
            _store.Read(_layout.LogStart + position, descriptor, 1);
            ulong* words = (ulong*)descriptor;
            if (words[0] != SegmentMagic || words[1] != _epoch || words[2] != sequence) return false;
            if (*(ulong*)(descriptor + SelfChecksumOffset) != PageChecksum.Of(descriptor, SelfChecksumOffset)) return false;
            uint flags = *(uint*)(descriptor + 32);
            uint entries = *(uint*)(descriptor + 36);
            if ((flags & ~(CommitFlag | ImagesFlag)) != 0) return false;
            images = (flags & ImagesFlag) != 0;
            if (entries == 0 || entries > MaximumEntries) return false;
            if (position + 1 + entries > _layout.LogPages) return false;
            if (images)
            {
                for (int i = 0; i < (int)entries; i++)
                {
                    ulong page = *(ulong*)(descriptor + EntriesOffset + i * 16);
                    if (page < _layout.MetaPage || page >= _layout.PageCount) return false;
                }
            }
            else
            {
                ulong bytes = words[5];
                if (bytes % RecordSize != 0 || bytes > (ulong)entries * PageCache.PageSize || bytes + PageCache.PageSize <= (ulong)entries * PageCache.PageSize)
                    return false;
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
        private void ApplyImages(ulong position, ulong end)
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
