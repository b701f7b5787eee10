// ElfTlsSegment: an app image's thread-local storage template (PT_TLS): FileSize initialised
// bytes at VirtualAddress (inside a loaded segment), followed by MemorySize - FileSize zero
// bytes, aligned to Alignment. The libOS builds each thread's TLS block from it.
namespace Aegis.Kernel.Core.Exo
{
    public readonly struct ElfTlsSegment
    {
        public ElfTlsSegment(ulong virtualAddress, ulong fileOffset, ulong fileSize, ulong memorySize, ulong alignment)
        {
            VirtualAddress = virtualAddress;
            FileOffset = fileOffset;
            FileSize = fileSize;
            MemorySize = memorySize;
            Alignment = alignment;
        }

        public ulong VirtualAddress { get; }
        public ulong FileOffset { get; }
        public ulong FileSize { get; }
        public ulong MemorySize { get; }
        public ulong Alignment { get; }
    }
}
