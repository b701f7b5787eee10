// Block and inode allocation: the only code that edits bitmaps and free counts.
//
// Policy (simple, documented in docs/ext2.md): a block is taken at or after a goal (the block
// after the file's previous one, else the start of the inode's group), scanning forward through
// the groups and wrapping; an inode for a file is taken in its parent's group (or the next with a
// free inode); a directory goes to the group with the fewest directories among those with at
// least the average number of free inodes (spreading directory trees, as Orlov does roughly).
// A block freed in the running transaction is not reused before it commits (Jbd2Journal).
// Each group remembers where its last search from below found a free bit (blockScanFrom,
// inodeScanFrom): the bits before it were in use then, so a search that would start lower starts
// there (a freed bit lowers it). Only a hint: a search that finds nothing from there looks again
// from the group's start. Without it, the first block of each new file scanned the bitmap from
// the group's start over every block the root file system holds (~12,000 instructions).
//
// Invariant: each change of a bitmap bit changes the group's count and the superblock's count in
// the same transaction.
using System;
using Aegis.LibOS.Unixish.Linux;

namespace Aegis.LibOS.Unixish.Storage
{
    public sealed partial class Ext2FileSystem
    {
        int[] blockScanFrom, inodeScanFrom;

        /// <summary>Allocates one block at or after goal; 0 when the disk is full.</summary>
        uint AllocateBlock(long goal)
        {
            if (sb.FreeBlocks == 0) return 0;
            if (goal < sb.FirstDataBlock || goal >= sb.BlocksCount) goal = sb.FirstDataBlock;
            if (blockScanFrom == null) blockScanFrom = new int[groupCount];
            uint startGroup = GroupOfBlock(goal);
            for (uint step = 0; step <= groupCount; step++)
            {
                uint g = (startGroup + step) % groupCount;
                if (groups[g].FreeBlocks == 0) continue;
                long first = GroupFirstBlock(g);
                int from = step == 0 ? (int)(goal - first) : 0;
                bool fromHint = from <= blockScanFrom[g];
                if (fromHint) from = blockScanFrom[g];
                int bits = (int)(GroupEnd(g) - first);
                long found = FindFreeBit(groups[g].BlockBitmap, from, bits, first, true);
                if (found < 0 && from > 0) { found = FindFreeBit(groups[g].BlockBitmap, 0, from, first, true); fromHint = false; }
                if (found < 0) continue;
                CachedBlock bitmap = cache.Get(groups[g].BlockBitmap);
                int bit = (int)(found - first);
                if (fromHint) blockScanFrom[g] = bit + 1;
                bitmap.Data[bit >> 3] |= (byte)(1 << (bit & 7));
                Dirty(bitmap);
                groups[g].FreeBlocks--;
                StoreGroup(g);
                sb.FreeBlocks--;
                StoreSuperblock();
                return (uint)found;
            }
            return 0;
        }

        /// <summary>The first clear bit in [from, to) of a bitmap block, as an absolute number (base +
        /// bit); -1 if none. For blocks, skips system blocks and blocks freed in the running transaction.</summary>
        long FindFreeBit(uint bitmapBlock, int from, int to, long numberBase, bool forBlocks)
        {
            if (to > blockSize * 8) to = blockSize * 8;
            byte[] bits = cache.Get(bitmapBlock).Data; // no other cache call inside the loop
            for (int bit = from; bit < to;)
            {
                byte value = bits[bit >> 3];
                if (value == 0xFF && (bit & 7) == 0) { bit += 8; continue; }
                if ((value & (1 << (bit & 7))) == 0)
                {
                    long number = numberBase + bit;
                    if (!forBlocks) return number;
                    if (!IsSystemBlock(number) && (journal == null || !journal.IsFreedInRunning(number))) return number;
                }
                bit++;
            }
            return -1;
        }

        void FreeBlock(long block)
        {
            if (block < sb.FirstDataBlock || block >= sb.BlocksCount || IsSystemBlock(block))
                throw StorageException.Corrupt("freeing block " + block + " that no file can own");
            uint g = GroupOfBlock(block);
            CachedBlock bitmap = cache.Get(groups[g].BlockBitmap);
            int bit = (int)(block - GroupFirstBlock(g));
            if ((bitmap.Data[bit >> 3] & (1 << (bit & 7))) == 0)
                throw StorageException.Corrupt("block " + block + " is freed twice");
            bitmap.Data[bit >> 3] &= (byte)~(1 << (bit & 7));
            Dirty(bitmap);
            if (blockScanFrom != null && bit < blockScanFrom[g]) blockScanFrom[g] = bit;
            groups[g].FreeBlocks++;
            StoreGroup(g);
            sb.FreeBlocks++;
            StoreSuperblock();
            if (journal != null) journal.Freed(block);
        }

        /// <summary>Allocates an inode number (its record not yet written); 0 when none is free.</summary>
        uint AllocateInode(uint parent, bool directory)
        {
            if (sb.FreeInodes == 0) return 0;
            uint start = GroupOfInode(parent);
            if (directory)
            {
                uint average = sb.FreeInodes / groupCount;
                uint best = uint.MaxValue;
                for (uint g = 0; g < groupCount; g++)
                {
                    if (groups[g].FreeInodes == 0 || groups[g].FreeInodes < average) continue;
                    if (best == uint.MaxValue || groups[g].UsedDirectories < groups[best].UsedDirectories) best = g;
                }
                if (best != uint.MaxValue) start = best;
            }
            if (inodeScanFrom == null) inodeScanFrom = new int[groupCount];
            for (uint step = 0; step < groupCount; step++)
            {
                uint g = (start + step) % groupCount;
                if (groups[g].FreeInodes == 0) continue;
                long firstNumber = (long)g * sb.InodesPerGroup + 1;
                int lowest = g == 0 ? (int)sb.FirstInode - 1 : 0;
                int from = Math.Max(lowest, inodeScanFrom[g]);
                int count = (int)Math.Min(sb.InodesPerGroup, sb.InodesCount - (long)g * sb.InodesPerGroup);
                long found = FindFreeBit(groups[g].InodeBitmap, from, count, firstNumber, false);
                if (found < 0 && from > lowest) found = FindFreeBit(groups[g].InodeBitmap, lowest, from, firstNumber, false);
                if (found < 0) continue;
                CachedBlock bitmap = cache.Get(groups[g].InodeBitmap);
                int bit = (int)(found - firstNumber);
                if (bit >= from) inodeScanFrom[g] = bit + 1;
                bitmap.Data[bit >> 3] |= (byte)(1 << (bit & 7));
                Dirty(bitmap);
                groups[g].FreeInodes--;
                if (directory) groups[g].UsedDirectories++;
                StoreGroup(g);
                sb.FreeInodes--;
                StoreSuperblock();
                return (uint)found;
            }
            return 0;
        }

        void FreeInodeNumber(uint number, bool directory)
        {
            if (number < sb.FirstInode || number > sb.InodesCount) throw StorageException.Corrupt("freeing reserved inode " + number);
            uint g = GroupOfInode(number);
            CachedBlock bitmap = cache.Get(groups[g].InodeBitmap);
            int bit = (int)((number - 1) % sb.InodesPerGroup);
            if ((bitmap.Data[bit >> 3] & (1 << (bit & 7))) == 0) throw StorageException.Corrupt("inode " + number + " is freed twice");
            bitmap.Data[bit >> 3] &= (byte)~(1 << (bit & 7));
            Dirty(bitmap);
            if (inodeScanFrom != null && bit < inodeScanFrom[g]) inodeScanFrom[g] = bit;
            groups[g].FreeInodes++;
            if (directory && groups[g].UsedDirectories > 0) groups[g].UsedDirectories--;
            StoreGroup(g);
            sb.FreeInodes++;
            StoreSuperblock();
        }
    }
}
