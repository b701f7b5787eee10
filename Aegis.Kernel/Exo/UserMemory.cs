// The kernel's only way to touch an environment's memory: translate through the
// environment's page tables, check the user permissions the MMU would check, and copy through
// the direct map. The kernel never dereferences a user pointer, so a bad pointer in a system
// call is an error code (BadAddress), never a kernel fault and never a leak of kernel data.
using System;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class UserMemory
    {
        private const ulong PageSize = 4096;

        /// <summary>True when [address, address + length) lies inside the user half (no overflow).</summary>
        public static bool IsUserRange(ulong address, ulong length)
        {
            if (address >= UserAddresses.UserEnd) return false;
            if (length > UserAddresses.UserEnd - address) return false;
            return true;
        }

        public static bool TryRead(Environment environment, ulong address, Span<byte> destination)
            => Copy(environment, address, (ulong)destination.Length, false, destination, default);

        public static bool TryWrite(Environment environment, ulong address, ReadOnlySpan<byte> source)
            => Copy(environment, address, (ulong)source.Length, true, default, source);

        public static bool TryReadUInt64(Environment environment, ulong address, out ulong value)
        {
            ulong result = 0;
            bool ok = TryRead(environment, address, new Span<byte>(&result, 8));
            value = result;
            return ok;
        }

        /// <summary>Checks that every page of the range is mapped for the user (and writable if asked).</summary>
        public static bool IsAccessible(Environment environment, ulong address, ulong length, bool write)
        {
            if (!IsUserRange(address, length)) return false;
            if (length == 0) return true;
            ulong end = address + length;
            for (ulong page = address & ~(PageSize - 1); page < end; page += PageSize)
            {
                if (PageWalk.UserLeaf(environment, page, write) == null) return false;
            }
            return true;
        }

        private static bool Copy(Environment environment, ulong address, ulong length, bool write, Span<byte> destination, ReadOnlySpan<byte> source)
        {
            // Check the whole range first, so a failing copy changes nothing.
            if (!IsAccessible(environment, address, length, write))
                return false;
            ulong done = 0;
            while (done < length)
            {
                ulong current = address + done;
                ulong* leaf = PageWalk.UserLeaf(environment, current, write);
                ulong offset = current & (PageSize - 1);
                ulong chunk = PageSize - offset;
                if (chunk > length - done) chunk = length - done;
                byte* window = (byte*)KernelMemory.PhysicalToVirtual((*leaf & PageBits.FrameMask) + offset);
                if (write)
                    source.Slice((int)done, (int)chunk).CopyTo(new Span<byte>(window, (int)chunk));
                else
                    new ReadOnlySpan<byte>(window, (int)chunk).CopyTo(destination.Slice((int)done, (int)chunk));
                done += chunk;
            }
            return true;
        }
    }
}
