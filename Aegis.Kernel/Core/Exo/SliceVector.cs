// SliceVector: the CPU's time slices, each free or owned by one environment ("expose
// allocation": a libOS asks for slices, by number or any). The timer walks the vector round
// robin; a slice whose owner cannot run is skipped. Owners are published in the information
// page so every libOS can see who holds what.
//
// Invariants:
//   - an owner is an environment id, never 0; a free slice's owner is 0;
//   - FreeCount == the number of free slices;
//   - only a slice's owner frees it; ReleaseAll(env) leaves env with no slice.
using System;
using Aegis.Abi;

namespace Aegis.Kernel.Core.Exo
{
    public sealed class SliceVector
    {
        public const int DefaultCount = 64;

        private readonly ulong[] _owners;

        /// <summary>Bit i set when slice i has an owner (vectors of up to 64 slices).</summary>
        private ulong _occupied;

        public SliceVector(int count = DefaultCount)
        {
            if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count));
            _owners = new ulong[count];
            FreeCount = count;
        }

        public int Count => _owners.Length;
        public int FreeCount { get; private set; }

        /// <summary>Counts every change of an owner: a copy of the owners (the information page's)
        /// is current while this has not moved.</summary>
        public ulong Changes { get; private set; }

        /// <summary>Gives envId the slice requestedIndex, or the lowest free one for
        /// SystemCallLimits.AnySlice. InvalidArgument for envId 0 or an index past the vector,
        /// Busy when the named slice is taken (even by envId), NoMemory when none is free.</summary>
        public Error Allocate(ulong envId, ulong requestedIndex, out int index)
        {
            index = -1;
            if (envId == 0) return Error.InvalidArgument;
            if (requestedIndex == SystemCallLimits.AnySlice)
            {
                for (int candidate = 0; candidate < _owners.Length; candidate++)
                {
                    if (_owners[candidate] != 0) continue;
                    Take(candidate, envId);
                    index = candidate;
                    return Error.None;
                }
                return Error.NoMemory;
            }
            if (requestedIndex >= (ulong)_owners.Length) return Error.InvalidArgument;
            if (_owners[(int)requestedIndex] != 0) return Error.Busy;
            index = (int)requestedIndex;
            Take(index, envId);
            return Error.None;
        }

        /// <summary>envId gives its slice back. InvalidArgument for an index past the vector, NotOwner
        /// when envId does not own the slice (a free one included).</summary>
        public Error Free(ulong envId, ulong index)
        {
            if (index >= (ulong)_owners.Length) return Error.InvalidArgument;
            if (envId == 0 || _owners[(int)index] != envId) return Error.NotOwner;
            _owners[(int)index] = 0;
            _occupied &= ~(1UL << ((int)index & 63));
            FreeCount++;
            Changes++;
            return Error.None;
        }

        /// <summary>Frees every slice envId owns (it ended). Returns how many.</summary>
        public int ReleaseAll(ulong envId)
        {
            if (envId == 0) return 0;
            int released = 0;
            for (int index = 0; index < _owners.Length; index++)
            {
                if (_owners[index] != envId) continue;
                _owners[index] = 0;
                _occupied &= ~(1UL << (index & 63));
                released++;
            }
            FreeCount += released;
            if (released != 0) Changes++;
            return released;
        }

        /// <summary>The owner of a slice, 0 when it is free or the index is out of range.</summary>
        public ulong OwnerOf(int index) => index >= 0 && index < _owners.Length ? _owners[index] : 0;

        public int CountOwnedBy(ulong envId)
        {
            if (envId == 0) return 0;
            int count = 0;
            for (int index = 0; index < _owners.Length; index++)
                if (_owners[index] == envId) count++;
            return count;
        }

        /// <summary>Round robin: the first slice after current (wrapping, current itself last) whose
        /// owner isRunnable says may run, or -1 when there is none. current -1 starts at slice 0.
        /// Free slices are skipped without asking.</summary>
        public int Next(int current, Predicate<ulong> isRunnable)
        {
            int count = _owners.Length;
            int start = current < 0 || current >= count ? count - 1 : current;
            if (count <= 64)
            {
                // FAST PATH (docs/kernel.md): the owned-slice bitmap, not a scan of every slice.
                // Visit only the owned slices (a bitmap of them), in round-robin order from start + 1:
                // the scheduler runs this on every switch, so it must not walk 64 empty slots.
                ulong candidates = _occupied;
                while (candidates != 0)
                {
                    ulong after = start + 1 >= 64 ? 0 : candidates & ~((2UL << start) - 1);
                    int index = LowestSetBit(after != 0 ? after : candidates);
                    if (isRunnable(_owners[index])) return index;
                    candidates &= ~(1UL << index);
                }
                return -1;
            }
            for (int step = 1; step <= count; step++)
            {
                int index = (start + step) % count;
                ulong owner = _owners[index];
                if (owner != 0 && isRunnable(owner)) return index;
            }
            return -1;
        }

        /// <summary>Index of the lowest set bit of a non-zero word (de Bruijn multiplication).</summary>
        private static int LowestSetBit(ulong word)
        {
            ulong isolated = word & (ulong)-(long)word;
            return s_deBruijnPositions[(int)((isolated * 0x03F79D71B4CB0A89UL) >> 58)];
        }

        private static readonly byte[] s_deBruijnPositions =
        {
            0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4,
            62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
            63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
            46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6,
        };

        /// <summary>Copies the owners (0 for free) into destination, as many as fit; returns how many
        /// (for InfoPage.SliceOwners).</summary>
        public int CopyOwners(Span<ulong> destination)
        {
            int copied = destination.Length < _owners.Length ? destination.Length : _owners.Length;
            for (int index = 0; index < copied; index++) destination[index] = _owners[index];
            return copied;
        }

        private void Take(int index, ulong envId)
        {
            _owners[index] = envId;
            _occupied |= 1UL << (index & 63);
            FreeCount--;
            Changes++;
        }
    }
}
