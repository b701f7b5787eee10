// FrameAllocator: the physical frames (4 KiB) of the machine, one bit each, over frame
// numbers [0, FrameLimit). A set bit means "free". Frames become usable only through
// AddFreeRange; a frame that was never added can be neither allocated nor freed.
//
// Invariants:
//   - FreeFrames == the number of set bits;
//   - a set bit lies inside a usable run (never-usable frames are never free);
//   - the usable runs are sorted, disjoint and non-adjacent, and TotalFrames == their total
//     length == every frame ever added (adding a frame twice counts it once);
//   - _hintWord < _freeBits.Length (or 0 for an empty bitmap): the next-fit search starts there.
// No method throws on a bad frame number: results say what happened.
using System;
using System.Collections.Generic;

namespace Aegis.Kernel.Core
{
    public sealed class FrameAllocator
    {
        public const ulong FrameSize = 4096;
        private const int BitsPerWord = 64;

        private readonly ulong[] _freeBits;
        private List<UsableRun> _usableRuns = new List<UsableRun>();
        private int _hintWord;

        /// <summary>A bitmap for frames [0, frameLimit): frameLimit / 8 bytes (128 KiB for 4 GiB).</summary>
        public FrameAllocator(ulong frameLimit)
        {
            ulong words = (frameLimit + BitsPerWord - 1) / BitsPerWord;
            if (frameLimit > ulong.MaxValue - BitsPerWord || words > int.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(frameLimit));
            _freeBits = new ulong[(int)words];
            FrameLimit = frameLimit;
        }

        /// <summary>One past the highest frame number this allocator can hold.</summary>
        public ulong FrameLimit { get; }

        public ulong FreeFrames { get; private set; }

        /// <summary>Frames ever added as usable (free or allocated now).</summary>
        public ulong TotalFrames { get; private set; }

        /// <summary>Makes frames [firstFrame, firstFrame + count) usable and free. Frames past FrameLimit
        /// and frames already usable (free or allocated) are left alone. Returns the frames added.</summary>
        public ulong AddFreeRange(ulong firstFrame, ulong count)
        {
            if (firstFrame >= FrameLimit || count == 0) return 0;
            ulong end = count > FrameLimit - firstFrame ? FrameLimit : firstFrame + count;

            ulong added = 0;
            ulong cursor = firstFrame;
            for (int i = 0; i < _usableRuns.Count && cursor < end; i++)
            {
                UsableRun run = _usableRuns[i];
                if (run.End <= cursor) continue;
                if (run.First >= end) break;
                if (run.First > cursor) added += SetFree(cursor, run.First);
                cursor = run.End;
            }
            if (cursor < end) added += SetFree(cursor, end);

            AddUsableRun(firstFrame, end);
            TotalFrames += added;
            FreeFrames += added;
            return added;
        }

        public bool IsFree(ulong frame)
            => frame < FrameLimit && (_freeBits[WordOf(frame)] & BitOf(frame)) != 0;

        /// <summary>True when the frame was added as usable memory (it may be free or allocated).</summary>
        public bool IsUsable(ulong frame)
        {
            int low = 0, high = _usableRuns.Count - 1;
            while (low <= high)
            {
                int middle = low + (high - low) / 2;
                UsableRun run = _usableRuns[middle];
                if (frame < run.First) high = middle - 1;
                else if (frame >= run.End) low = middle + 1;
                else return true;
            }
            return false;
        }

        /// <summary>Next fit: the first free frame at or after the last allocation, wrapping around.
        /// Full words are skipped 64 frames at a time, so sequential use is O(1) amortised.</summary>
        public bool TryAllocate(out ulong frame)
        {
            frame = 0;
            if (FreeFrames == 0) return false;
            int words = _freeBits.Length;
            for (int step = 0; step < words; step++)
            {
                int word = _hintWord + step;
                if (word >= words) word -= words;
                ulong bits = _freeBits[word];
                if (bits == 0) continue;
                _freeBits[word] = bits & (bits - 1);
                FreeFrames--;
                _hintWord = word;
                frame = (ulong)word * BitsPerWord + (ulong)LowestSetBit(bits);
                return true;
            }
            return false;
        }

        /// <summary>Allocates the named frame if it is free ("expose allocation": a libOS asks for this frame).</summary>
        public bool TryAllocateSpecific(ulong frame)
        {
            if (!IsFree(frame)) return false;
            _freeBits[WordOf(frame)] &= ~BitOf(frame);
            FreeFrames--;
            return true;
        }

        /// <summary>First fit: the lowest run of count free frames (low memory suits device buffers).</summary>
        public bool TryAllocateContiguous(ulong count, out ulong firstFrame)
        {
            firstFrame = 0;
            if (count == 0 || count > FreeFrames) return false;
            ulong runStart = 0, runLength = 0;
            for (int word = 0; word < _freeBits.Length; word++)
            {
                ulong bits = _freeBits[word];
                ulong wordStart = (ulong)word * BitsPerWord;
                if (bits == 0)
                {
                    runLength = 0;
                    continue;
                }
                if (bits == ulong.MaxValue && runLength + BitsPerWord < count)
                {
                    if (runLength == 0) runStart = wordStart;
                    runLength += BitsPerWord;
                    continue;
                }
                for (int bit = 0; bit < BitsPerWord; bit++)
                {
                    if ((bits & (1UL << bit)) == 0)
                    {
                        runLength = 0;
                        continue;
                    }
                    if (runLength == 0) runStart = wordStart + (ulong)bit;
                    if (++runLength == count)
                    {
                        SetAllocated(runStart, runStart + count);
                        firstFrame = runStart;
                        return true;
                    }
                }
            }
            return false;
        }

        public FrameFreeResult Free(ulong frame)
        {
            if (frame >= FrameLimit) return FrameFreeResult.NeverUsable;
            if (IsFree(frame)) return FrameFreeResult.DoubleFree;
            if (!IsUsable(frame)) return FrameFreeResult.NeverUsable;
            _freeBits[WordOf(frame)] |= BitOf(frame);
            FreeFrames++;
            return FrameFreeResult.Ok;
        }

        /// <summary>Sets the bits of [first, end), all clear before; returns how many.</summary>
        private ulong SetFree(ulong first, ulong end)
        {
            for (ulong frame = first; frame < end;)
            {
                int word = WordOf(frame);
                ulong mask = MaskWithin(frame, end);
                _freeBits[word] |= mask;
                frame = ((ulong)word + 1) * BitsPerWord;
            }
            return end - first;
        }

        /// <summary>Clears the bits of [first, end), all set before.</summary>
        private void SetAllocated(ulong first, ulong end)
        {
            for (ulong frame = first; frame < end;)
            {
                int word = WordOf(frame);
                _freeBits[word] &= ~MaskWithin(frame, end);
                frame = ((ulong)word + 1) * BitsPerWord;
            }
            FreeFrames -= end - first;
        }

        /// <summary>The bits of frame's word from frame up to (not including) end or the word's end.</summary>
        private static ulong MaskWithin(ulong frame, ulong end)
        {
            int low = (int)(frame % BitsPerWord);
            ulong wordEnd = (frame / BitsPerWord + 1) * BitsPerWord;
            int high = end >= wordEnd ? BitsPerWord : (int)(end % BitsPerWord);
            ulong upTo = high == BitsPerWord ? ulong.MaxValue : (1UL << high) - 1;
            return upTo & ~((1UL << low) - 1);
        }

        private void AddUsableRun(ulong first, ulong end)
        {
            List<UsableRun> merged = new List<UsableRun>(_usableRuns.Count + 1);
            UsableRun added = new UsableRun(first, end);
            bool placed = false;
            for (int i = 0; i < _usableRuns.Count; i++)
            {
                UsableRun run = _usableRuns[i];
                if (run.End < added.First)
                {
                    merged.Add(run);
                }
                else if (run.First > added.End)
                {
                    if (!placed) merged.Add(added);
                    placed = true;
                    merged.Add(run);
                }
                else
                {
                    added = new UsableRun(Math.Min(run.First, added.First), Math.Max(run.End, added.End));
                }
            }
            if (!placed) merged.Add(added);
            _usableRuns = merged;
        }

        private static int WordOf(ulong frame) => (int)(frame / BitsPerWord);
        private static ulong BitOf(ulong frame) => 1UL << (int)(frame % BitsPerWord);

        private static int LowestSetBit(ulong bits)
        {
            int index = 0;
            if ((bits & 0xFFFFFFFF) == 0) { index += 32; bits >>= 32; }
            if ((bits & 0xFFFF) == 0) { index += 16; bits >>= 16; }
            if ((bits & 0xFF) == 0) { index += 8; bits >>= 8; }
            if ((bits & 0xF) == 0) { index += 4; bits >>= 4; }
            if ((bits & 0x3) == 0) { index += 2; bits >>= 2; }
            if ((bits & 0x1) == 0) index += 1;
            return index;
        }

        /// <summary>Frames [First, End) that were added as usable.</summary>
        private readonly struct UsableRun
        {
            public UsableRun(ulong first, ulong end)
            {
                First = first;
                End = end;
            }

            public ulong First { get; }
            public ulong End { get; }
        }
    }
}
