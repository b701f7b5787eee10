// Memory ABI: the page-map request, page permission bits, and the fixed user addresses.
using System.Runtime.InteropServices;

namespace Aegis.Abi
{
    /// <summary>Bits of a user page-table entry as the ABI sees them (the hardware's own positions).</summary>
    public static class PageBits
    {
        public const ulong Present = 1UL << 0;
        public const ulong Writable = 1UL << 1;
        public const ulong User = 1UL << 2;
        public const ulong Accessed = 1UL << 5;
        public const ulong Dirty = 1UL << 6;
        /// <summary>Three bits the hardware ignores, free for the libOS (e.g. copy-on-write).</summary>
        public const ulong Software0 = 1UL << 9;
        public const ulong Software1 = 1UL << 10;
        public const ulong Software2 = 1UL << 11;
        public const ulong NoExecute = 1UL << 63;
        /// <summary>The bits a libOS may ask for in PageMapRequest.Permissions (Present and User are implied).</summary>
        public const ulong Allowed = Writable | Software0 | Software1 | Software2 | NoExecute;
        public const ulong FrameMask = 0x000F_FFFF_FFFF_F000;
        public const int FrameShift = 12;
    }

    public enum PageMapOperation : uint
    {
        /// <summary>Map Frame at VirtualAddress with Permissions (replacing what was there).</summary>
        Map = 0,
        /// <summary>Remove the mapping at VirtualAddress.</summary>
        Unmap = 1,
        /// <summary>Change the permissions of the mapping at VirtualAddress (the frame stays).</summary>
        Protect = 2,
    }

    /// <summary>One update of PageMap; an array of them is passed by address. 32 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PageMapRequest
    {
        public ulong VirtualAddress;
        public ulong Frame;
        public ulong Permissions;
        public PageMapOperation Operation;
        public uint Reserved;
    }

    /// <summary>Fixed places in every environment's address space.</summary>
    public static class UserAddresses
    {
        public const ulong PageSize = 4096;
        /// <summary>Nothing is ever mapped below this (null-pointer guard).</summary>
        public const ulong LowestMappable = 0x0000_0000_0010_0000;
        /// <summary>First address above the user half: the kernel's, never mappable by a libOS.</summary>
        public const ulong UserEnd = 0x0000_8000_0000_0000;
        /// <summary>The global information page (read-only, the same frame in every environment).</summary>
        public const ulong InfoPage = 0x0000_7FFF_FFFF_E000;
        /// <summary>The environment's own information page (read-only).</summary>
        public const ulong EnvironmentPage = 0x0000_7FFF_FFFF_D000;
        /// <summary>The PCI table (PciTable, PciLimits.TablePages pages, read-only, the same frames in
        /// every environment): the devices the kernel found at boot.</summary>
        public const ulong PciTable = 0x0000_7FFF_FFFF_B000;
        /// <summary>Top of the initial stack the image loader gives a spawned image (16 pages below it).</summary>
        public const ulong InitialStackTop = 0x0000_7FFF_FFF0_0000;
        public const int InitialStackPages = 16;
        /// <summary>Where images are linked (the loader refuses segments below LowestMappable).</summary>
        public const ulong ImageBase = 0x0000_0000_0040_0000;
        /// <summary>Addresses at or above this (up to UserEnd) are reserved for the kernel's pages above.</summary>
        public const ulong ReservedTop = 0x0000_7FFF_FFFF_0000;
    }
}
