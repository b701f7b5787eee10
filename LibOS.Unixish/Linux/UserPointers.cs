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
        /// into buffer, NUL-terminated there: its length, -EFAULT, or -ENAMETOOLONG.</summary>
        public static long ReadString(ulong address, byte* buffer, int capacity)
        {
            for (int i = 0; i < capacity; i++)
            {
                ulong at = address + (ulong)i;
                if ((i == 0 || (at & (Memory.PageSize - 1)) == 0) && !IsAccessible(at, 1, false))
                    return -Errno.EFAULT;
                byte b = *(byte*)at;
                buffer[i] = b;
                if (b == 0) return i;
            }
            return -Errno.ENAMETOOLONG;
        }
    }
}
