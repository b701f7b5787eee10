// ElfSegment: one loadable (PT_LOAD) segment of an app image, as ElfImage validated it:
// memory [VirtualAddress, VirtualAddress + MemorySize) inside user memory, filled from file
// bytes [FileOffset, FileOffset + FileSize) (inside the file), the rest zero.
namespace Aegis.Kernel.Core.Exo
{
    public readonly struct ElfSegment
    {
        public ElfSegment(ulong virtualAddress, ulong memorySize, ulong fileOffset, ulong fileSize,
            bool writable, bool executable, ulong alignment)
        {
            VirtualAddress = virtualAddress;
            MemorySize = memorySize;
            FileOffset = fileOffset;
            FileSize = fileSize;
            Writable = writable;
            Executable = executable;
            Alignment = alignment;
        }

        public ulong VirtualAddress { get; }
        public ulong MemorySize { get; }
        public ulong FileOffset { get; }
        public ulong FileSize { get; }
        public bool Writable { get; }
        public bool Executable { get; }
        public ulong Alignment { get; }

        /// <summary>One past the last byte (no overflow: ElfImage checked the segment ends below ReservedTop).</summary>
        public ulong End => VirtualAddress + MemorySize;
    }
}
