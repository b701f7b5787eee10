// MemoryRegion: one entry of the firmware's physical memory map, [Base, End).
// Invariant (for regions made by Multiboot2Info): Length > 0 and Base + Length does not
// overflow, so End is always exact.
namespace Aegis.Kernel.Core
{
    public readonly struct MemoryRegion
    {
        public MemoryRegion(ulong baseAddress, ulong length, uint type)
        {
            Base = baseAddress;
            Length = length;
            Type = type;
        }

        public ulong Base { get; }
        public ulong Length { get; }

        /// <summary>The raw multiboot2 type number.</summary>
        public uint Type { get; }

        /// <summary>One past the last byte.</summary>
        public ulong End => Base + Length;

        public bool IsAvailable => Type == (uint)MemoryRegionKind.Available;

        public MemoryRegionKind Kind
        {
            get
            {
                switch (Type)
                {
                    case 1: return MemoryRegionKind.Available;
                    case 3: return MemoryRegionKind.AcpiReclaimable;
                    case 4: return MemoryRegionKind.AcpiNvs;
                    case 5: return MemoryRegionKind.BadRam;
                    default: return MemoryRegionKind.Reserved;
                }
            }
        }

        public override string ToString()
            => "[0x" + Base.ToString("X") + ", 0x" + End.ToString("X") + ") type " + Type.ToString();
    }
}
