// File contents: the block map (12 direct blocks, single, double and triple indirect), reading
// and writing at an offset, growing and shrinking. Indirect blocks are metadata (journaled);
// file data blocks are written back through the cache (ordered mode: before the commit).
//
// Bounds: every block number followed is checked to lie inside the file system; a logical block
// past the triple-indirect range is EFBIG; sizes are checked against the same limit.
using System;
using Aegis.LibOS.Unixish.Linux;

namespace Aegis.LibOS.Unixish.Storage
{
    public sealed partial class Ext2FileSystem
    {
        /// <summary>Largest logical block count the map can address.</summary>
        long MaxFileBlocks => Ext2.DirectBlocks + pointersPerBlock + (long)pointersPerBlock * pointersPerBlock +
                              (long)pointersPerBlock * pointersPerBlock * pointersPerBlock;

        /// <summary>Largest file size: the map's reach, capped at 2^32 blocks of 512 bytes in i_blocks
        /// and 2 TiB - 1 (ext2's 32-bit block numbers of 512 bytes in i_blocks).</summary>
        long MaxFileSize => Math.Min(MaxFileBlocks * blockSize, (1L << 41) - 1);

        void CheckDataBlock(uint block, Ext2Inode inode)
        {
            if (block < sb.FirstDataBlock || block >= sb.BlocksCount)
                throw StorageException.Corrupt("inode " + inode.Number + " points to block " + block + " outside the file system");
        }

        /// <summary>The physical block of a logical block, 0 for a hole. With allocate, a hole is
        /// filled (and indirect blocks created); fresh tells that the data block is new (zeroed by the
        /// caller). Returns 0 with allocate only when the disk is full.</summary>
        uint MapBlock(Ext2Inode inode, long logical, bool allocate, out bool fresh)
        {
            fresh = false;
            if (logical < 0 || logical >= MaxFileBlocks) throw new StorageException(Errno.EFBIG, "ext2: block " + logical + " is past the largest file");
            if (logical < Ext2.DirectBlocks)
            {
                uint direct = inode.Block[logical];
                if (direct != 0) { CheckDataBlock(direct, inode); return direct; }
                if (!allocate) return 0;
                direct = AllocateBlock(Goal(inode, logical));
                if (direct == 0) return 0;
                inode.Block[logical] = direct;
                inode.Blocks512 += blockSize / 512;
                fresh = true;
                return direct;
            }
            long rest = logical - Ext2.DirectBlocks;
            int depth, slot;
            long span = pointersPerBlock;
            if (rest < span) { depth = 1; slot = Ext2.IndirectSlot; }
            else
            {
                rest -= span; span *= pointersPerBlock;
                if (rest < span) { depth = 2; slot = Ext2.DoubleSlot; }
                else { rest -= span; span *= pointersPerBlock; depth = 3; slot = Ext2.TripleSlot; }
            }
            uint current = inode.Block[slot];
            if (current == 0)
            {
                if (!allocate) return 0;
                current = NewIndirectBlock(inode, Goal(inode, logical));
                if (current == 0) return 0;
                inode.Block[slot] = current;
            }
            else CheckDataBlock(current, inode);
            for (int level = depth; level >= 1; level--)
            {
                span /= pointersPerBlock;
                int index = (int)(rest / span);
                rest %= span;
                CachedBlock table = cache.Get(current);
                uint next = Bytes.U32(table.Data, index * 4);
                if (next != 0) { CheckDataBlock(next, inode); current = next; continue; }
                if (!allocate) return 0;
                uint made = level == 1 ? AllocateBlock(Goal(inode, logical)) : NewIndirectBlock(inode, current + 1);
                if (made == 0) return 0;
                if (level == 1) { inode.Blocks512 += blockSize / 512; fresh = true; }
                table = cache.Get(current);
                Bytes.PutU32(table.Data, index * 4, made);
                Dirty(table);
                current = made;
            }
            return current;
        }

        uint NewIndirectBlock(Ext2Inode inode, long goal)
        {
            uint block = AllocateBlock(goal);
            if (block == 0) return 0;
            CachedBlock buffer = cache.GetZeroed(block);
            Dirty(buffer);
            inode.Blocks512 += blockSize / 512;
            return block;
        }

        long Goal(Ext2Inode inode, long logical)
        {
            if (inode.AllocationHint != 0) return inode.AllocationHint;
            if (logical > 0 && logical <= Ext2.DirectBlocks && inode.Block[logical - 1] != 0) return inode.Block[logical - 1] + 1;
            uint g = GroupOfInode(inode.Number);
            return GroupFirstBlock(g);
        }

        /// <summary>Reads file bytes at offset (zeros for holes); returns the count read.</summary>
        int ReadData(Ext2Inode inode, long offset, byte[] buffer, int bufferOffset, int count)
        {
            if (offset >= inode.Size || count == 0) return 0;
            if (count > inode.Size - offset) count = (int)(inode.Size - offset);
            int done = 0;
            while (done < count)
            {
                long position = offset + done;
                long logical = position / blockSize;
                int within = (int)(position % blockSize);
                int chunk = Math.Min(blockSize - within, count - done);
                uint physical = MapBlock(inode, logical, false, out _);
                if (physical == 0) Array.Clear(buffer, bufferOffset + done, chunk);
                else Array.Copy(cache.Get(physical).Data, within, buffer, bufferOffset + done, chunk);
                done += chunk;
            }
            return done;
        }

        /// <summary>Writes file bytes at offset, filling holes; the size grows block by block so
        /// that a commit in between leaves a consistent inode. Returns the count written (short on
        /// ENOSPC after some progress) or -ENOSPC.</summary>
        int WriteData(Ext2Inode inode, long offset, byte[] buffer, int bufferOffset, int count, bool metadata)
        {
            int done = 0;
            while (done < count)
            {
                MaybeCommitInside(inode);
                long position = offset + done;
                long logical = position / blockSize;
                int within = (int)(position % blockSize);
                int chunk = Math.Min(blockSize - within, count - done);
                uint physical = MapBlock(inode, logical, true, out bool fresh);
                if (physical == 0) break;
                inode.AllocationHint = physical + 1;
                CachedBlock block = fresh || chunk == blockSize ? cache.GetZeroed(physical) : cache.Get(physical);
                Array.Copy(buffer, bufferOffset + done, block.Data, within, chunk);
                if (metadata) Dirty(block); else DirtyData(block);
                done += chunk;
                if (position + chunk > inode.Size) inode.Size = position + chunk;
            }
            inode.AllocationHint = 0;
            if (done == 0 && count > 0) return -Errno.ENOSPC;
            return done;
        }

        /// <summary>Frees every block at or past logical block `from` (data and indirect blocks).</summary>
        void FreeBlocksFrom(Ext2Inode inode, long from)
        {
            for (int i = Ext2.DirectBlocks - 1; i >= from && i >= 0; i--)
            {
                if (inode.Block[i] == 0) continue;
                MaybeCommitInside(inode);
                uint block = inode.Block[i];
                inode.Block[i] = 0;
                ReleaseBlock(inode, block);
            }
            long baseLogical = Ext2.DirectBlocks;
            long span = pointersPerBlock;
            for (int depth = 1; depth <= 3; depth++)
            {
                int slot = Ext2.IndirectSlot + depth - 1;
                if (inode.Block[slot] != 0 && baseLogical + span > from)
                {
                    CheckDataBlock(inode.Block[slot], inode);
                    if (FreeSubtree(inode, inode.Block[slot], depth, baseLogical, span, from))
                    {
                        uint block = inode.Block[slot];
                        inode.Block[slot] = 0;
                        ReleaseBlock(inode, block);
                    }
                }
                baseLogical += span;
                span *= pointersPerBlock;
            }
        }

        /// <summary>Frees the entries of an indirect block covering logical blocks >= from; true when
        /// every entry is now zero (the caller frees the block itself).</summary>
        bool FreeSubtree(Ext2Inode inode, uint table, int depth, long baseLogical, long span, long from)
        {
            long childSpan = span / pointersPerBlock;
            bool empty = true;
            for (int index = pointersPerBlock - 1; index >= 0; index--)
            {
                long childBase = baseLogical + index * childSpan;
                uint child = Bytes.U32(cache.Get(table).Data, index * 4);
                if (child == 0) continue;
                if (childBase + childSpan <= from) { empty = false; break; }
                CheckDataBlock(child, inode);
                bool release = depth == 1 || FreeSubtree(inode, child, depth - 1, childBase, childSpan, from);
                if (!release) { empty = false; continue; }
                MaybeCommitInside(inode);
                CachedBlock buffer = cache.Get(table);
                Bytes.PutU32(buffer.Data, index * 4, 0);
                Dirty(buffer);
                ReleaseBlock(inode, child);
            }
            if (!empty) return false;
            for (int index = 0; index < pointersPerBlock; index++)
                if (Bytes.U32(cache.Get(table).Data, index * 4) != 0) return false;
            return true;
        }

        void ReleaseBlock(Ext2Inode inode, uint block)
        {
            FreeBlock(block);
            inode.Blocks512 -= blockSize / 512;
            if (inode.Blocks512 < 0) throw StorageException.Corrupt("inode " + inode.Number + "'s block count went negative");
        }

        /// <summary>Sets a regular file's size: shrinking frees blocks past the end and zeroes the
        /// tail of the last block; growing leaves a hole.</summary>
        void ResizeFile(Ext2Inode inode, long size)
        {
            if (size < inode.Size)
            {
                long keepBlocks = (size + blockSize - 1) / blockSize;
                FreeBlocksFrom(inode, keepBlocks);
                int tail = (int)(size % blockSize);
                if (tail != 0)
                {
                    uint last = MapBlock(inode, size / blockSize, false, out _);
                    if (last != 0)
                    {
                        CachedBlock block = cache.Get(last);
                        Array.Clear(block.Data, tail, blockSize - tail);
                        DirtyData(block);
                    }
                }
            }
            inode.Size = size;
        }

        /// <summary>Frees an inode whose last link went away: its blocks, its attribute block, its number.</summary>
        void DestroyInode(Ext2Inode inode)
        {
            bool directory = inode.IsDirectory;
            if (directory) IndexDropped(inode.Number);
            if (!IsFastSymlink(inode)) FreeBlocksFrom(inode, 0);
            else Array.Clear(inode.Block, 0, inode.Block.Length);
            if (inode.FileAcl != 0) ReleaseAttributeBlock(inode);
            inode.LinksCount = 0;
            inode.Size = 0;
            inode.Dtime = Math.Max(Now(), sb.InodesCount); // a small dtime would read as an orphan-list link
            WriteInode(inode);
            FreeInodeNumber(inode.Number, directory);
        }

        /// <summary>Drops the inode's reference to its extended-attribute block (freed at refcount 0).</summary>
        void ReleaseAttributeBlock(Ext2Inode inode)
        {
            uint block = inode.FileAcl;
            inode.FileAcl = 0;
            if (block < sb.FirstDataBlock || block >= sb.BlocksCount || IsSystemBlock(block)) return;
            CachedBlock buffer = cache.Get(block);
            if (Bytes.U32(buffer.Data, 0) != Ext2.ExtAttrMagic) return;
            uint references = Bytes.U32(buffer.Data, 4);
            if (references > 1)
            {
                Bytes.PutU32(buffer.Data, 4, references - 1);
                Dirty(buffer);
            }
            else FreeBlock(block);
            inode.Blocks512 = Math.Max(0, inode.Blocks512 - blockSize / 512);
        }

        bool IsFastSymlink(Ext2Inode inode)
        {
            if (!inode.IsSymlink) return false;
            long attributeBlocks = inode.FileAcl != 0 ? blockSize / 512 : 0;
            return inode.Blocks512 - attributeBlocks == 0 && inode.Size < Ext2.FastSymlinkMax;
        }
    }
}
