// PageFlags: the x86-64 page-table entry bits this kernel sets or reads (Intel SDM vol. 3, 4.5).
// Large is the PS bit: in a PDPT or PD entry it makes the entry a 1 GiB or 2 MiB page.
using System;

namespace Aegis.Kernel.Core
{
    [Flags]
    public enum PageFlags : ulong
    {
        None = 0,
        Present = 1,
        Writable = 2,
        User = 4,
        WriteThrough = 8,
        CacheDisable = 0x10,
        Accessed = 0x20,
        Dirty = 0x40,
        Large = 0x80,
        Global = 0x100,
        NoExecute = 1UL << 63,
    }
}
