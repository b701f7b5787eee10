// Reading and writing the Linux program's memory from the libOS. The program hands the libOS
// addresses (buffers, paths, structures); a bad one must give the program -EFAULT, as on Linux,
// never a fault inside the libOS. Every access is checked against what the program may touch
// (IsAccessible: the program's areas, LinuxProcess.Memory, with their PROT_* rights; a page of
// an area not yet filled is filled by the demand pager when the libOS touches it).
//
// Invariant: no method here touches program memory it has not checked first; a false/negative
// result means nothing was copied into libOS state (CopyOut may have written a prefix, as Linux may).
using System.Runtime.CompilerServices;
using Aegis.Abi;
using System;

namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class UserPointers
    {
        /// <summary>Whether [address, address + length) is program memory the libOS may read
        /// (write: and write). Length 0 is always accessible.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool IsAccessible(ulong address, ulong length, bool write)
        {
            ProgramMemory memory = LinuxProcess.Memory;
            return memory != null ? memory.IsAccessible(address, length, write) : IsMapped(address, length, write);
        }

        /// <summary>Without a Linux program (a native app using this code, e.g. the terminal's
        /// ring-3 fixture, is its own "program"): the pages must be mapped in its own address space,
        /// writable (or copy-on-write) for a write, below the reserved top.</summary>
        private static bool IsMapped(ulong address, ulong length, bool write)
        {
            if (length == 0) return true;
            ulong end = address + length;
            if (end < address || end > UserAddresses.ReservedTop || address < UserAddresses.LowestMappable) return false;
            for (ulong page = address & ~(Memory.PageSize - 1); page < end; page += Memory.PageSize)
            {
                if (Memory.Query(page, out PageInfo info) != Error.None) return false;
                if (write && !info.IsWritable && (info.Bits & CopyOnWrite.Bit) == 0) return false;
            }
            return true;
        }

        /// <summary>Copies length bytes from the program's address into destination; false (EFAULT) if not readable.</summary>
        public static bool CopyIn(void* destination, ulong source, ulong length)
        {
            if (!IsAccessible(source, length, false)) return false;
            Buffer.MemoryCopy((void*)source, destination, (long)length, (long)length);
            return true;
        }

        /// <summary>Copies length bytes to the program's address; false (EFAULT) if not writable.</summary>
        public static bool CopyOut(ulong destination, void* source, ulong length)
        {
            if (!IsAccessible(destination, length, true)) return false;
            Buffer.MemoryCopy(source, (void*)destination, (long)length, (long)length);
            return true;
        }

        /// <summary>Reads a NUL-terminated string (a path, an argument) of at most capacity - 1 bytes
        /// into buffer, NUL-terminated there (buffer's bytes after the NUL, up to 7, may be
        /// overwritten with what follows it in the program's page): its length, -EFAULT, or
        /// -ENAMETOOLONG.</summary>
        public static long ReadString(ulong address, byte* buffer, int capacity)
        {
            byte* from = (byte*)address;
            int i = 0;
            while (i < capacity)
            {
                // One check per page (areas are whole pages), then the page's bytes up to the NUL.
                ulong at = address + (ulong)i;
                if (!IsAccessible(at, 1, false)) return -Errno.EFAULT;
                ulong left = Memory.PageSize - (at & (Memory.PageSize - 1));
                int stop = (ulong)(capacity - i) < left ? capacity : i + (int)left;
                while (i < stop)
                {
                    // Eight bytes at a time while none of them is the NUL (the load stays in the
                    // checked page: stop is at most its end).
                    if (stop - i >= 8)
                    {
                        ulong word = *(ulong*)(from + i);
                        *(ulong*)(buffer + i) = word;
                        // Bit 7 of each zero byte (exact for the lowest one: nothing borrows into it).
                        ulong zeroes = (word - 0x0101010101010101UL) & ~word & 0x8080808080808080UL;
                        if (zeroes == 0) { i += 8; continue; }
                        // The lowest zero byte's index k: (1 << 8k) times 0x0001020304050607 has k in its top byte.
                        ulong lowest = (zeroes & (~zeroes + 1)) >> 7;
                        return i + (int)((lowest * 0x0001020304050607UL) >> 56);
                    }
                    byte b = from[i];
                    buffer[i] = b;
                    if (b == 0) return i;
                    i++;
                }
            }
            return -Errno.ENAMETOOLONG;
        }
    }
}
