// ElfImage: an app image from the ISO, checked before the kernel loads a byte of it. An app
// is a static ELF64 x86-64 executable linked at user addresses (System V gABI, "ELF-64
// Object File Format"); anything else is refused with one line naming the problem, which
// the kernel reports for that environment (DestroyReason.BadImage / Error.NoSuchImage).
//
// What a valid image guarantees to the loader (every check is overflow-safe):
//   - the header is ELF64, little-endian, version 1, ET_EXEC, EM_X86_64, and its program
//     header table (1 to MaximumProgramHeaders entries of 56 bytes) lies inside the file;
//   - no PT_INTERP (nothing here can run a dynamic linker);
//   - every PT_LOAD has FileSize <= MemorySize, file bytes inside the file, memory inside
//     [LowestMappable, ReservedTop) and clear of the initial stack, a power-of-two (or 0)
//     alignment with address and file offset congruent modulo it; empty ones are dropped;
//   - at least one PT_LOAD; no two overlap (two may share a page, as `ld -n` packs them: the
//     loader gives such a page the union of their permissions, PagePermissions); Segments is
//     sorted by address;
//   - the entry point lies inside an executable PT_LOAD;
//   - at most one PT_TLS, whose initialised bytes lie inside a PT_LOAD's file bytes.
// TryParse never throws and never reads outside the span, whatever the bytes.
using System;
using System.Collections.Generic;
using Aegis.Abi;

namespace Aegis.Kernel.Core.Exo
{
    public sealed class ElfImage
    {
        public const int HeaderSize = 64;
        public const int ProgramHeaderSize = 56;
        public const int MaximumProgramHeaders = 64;

        private const uint LoadType = 1;        // PT_LOAD
        private const uint InterpreterType = 3; // PT_INTERP
        private const uint TlsType = 7;         // PT_TLS
        private const uint ExecuteFlag = 1;     // PF_X
        private const uint WriteFlag = 2;       // PF_W
        private const ushort ExecutableType = 2; // ET_EXEC
        private const ushort X86_64Machine = 62; // EM_X86_64

        private const ulong StackBottom = UserAddresses.InitialStackTop
                                          - (ulong)UserAddresses.InitialStackPages * UserAddresses.PageSize;

        private ElfImage(ulong entry, List<ElfSegment> segments, bool hasTls, ElfTlsSegment tls)
        {
            Entry = entry;
            Segments = segments;
            HasTls = hasTls;
            Tls = tls;
            PageCount = CountPages(segments);
        }

        public ulong Entry { get; }

        /// <summary>The non-empty PT_LOAD segments, lowest address first.</summary>
        public List<ElfSegment> Segments { get; }

        public bool HasTls { get; }

        /// <summary>The PT_TLS template (meaningful when HasTls).</summary>
        public ElfTlsSegment Tls { get; }

        /// <summary>Pages the segments cover (a page two segments share counts once): the frames
        /// the loader needs, known before it takes any.</summary>
        public ulong PageCount { get; }

        /// <summary>The permissions the loader gives a page: the union over every segment that touches
        /// it (writable if any is, executable if any is), so a page two segments share (as `ld -n`
        /// packs them) keeps the permissions each needs, whichever is loaded last. False for a page
        /// no segment touches.</summary>
        public bool PagePermissions(ulong page, out bool writable, out bool executable)
        {
            page &= ~(UserAddresses.PageSize - 1);
            writable = false;
            executable = false;
            bool touched = false;
            for (int i = 0; i < Segments.Count; i++)
            {
                ElfSegment segment = Segments[i];
                ulong first = segment.VirtualAddress & ~(UserAddresses.PageSize - 1);
                if (page < first || page >= segment.End) continue;
                touched = true;
                writable |= segment.Writable;
                executable |= segment.Executable;
            }
            return touched;
        }

        /// <summary>Parses and validates an app image. On failure image is null and error is one line
        /// starting "image: " that names the problem; on success error is null.</summary>
        public static bool TryParse(ReadOnlySpan<byte> file, out ElfImage image, out string error)
        {
            image = null;
            error = CheckHeader(file);
            if (error != null) return false;

            ulong entry = LittleEndian.ReadUInt64(file, 24);
            int headerOffset = (int)LittleEndian.ReadUInt64(file, 32);
            int headerCount = LittleEndian.ReadUInt16(file, 56);
            List<ElfSegment> segments = new List<ElfSegment>(headerCount);
            List<int> segmentHeaders = new List<int>(headerCount);
            bool hasTls = false;
            ElfTlsSegment tls = default;
            for (int index = 0; index < headerCount; index++)
            {
                ProgramHeader header = ProgramHeader.Read(file, headerOffset + index * ProgramHeaderSize);
                if (header.Type == InterpreterType)
                {
                    error = $"image: program header {index} asks for an interpreter (PT_INTERP): only static executables can be loaded";
                    return false;
                }
                if (header.Type == TlsType)
                {
                    if (hasTls)
                    {
                        error = $"image: program header {index} is a second TLS segment (PT_TLS)";
                        return false;
                    }
                    error = CheckTls(header, index, (ulong)file.Length);
                    if (error != null) return false;
                    hasTls = true;
                    tls = new ElfTlsSegment(header.VirtualAddress, header.Offset, header.FileSize,
                        header.MemorySize, header.Alignment);
                    continue;
                }
                if (header.Type != LoadType) continue;
                error = CheckLoad(header, index, (ulong)file.Length);
                if (error != null) return false;
                if (header.MemorySize == 0) continue;
                InsertByAddress(segments, segmentHeaders, index, new ElfSegment(header.VirtualAddress, header.MemorySize,
                    header.Offset, header.FileSize, (header.Flags & WriteFlag) != 0, (header.Flags & ExecuteFlag) != 0,
                    header.Alignment));
            }

            error = CheckLayout(segments, segmentHeaders, entry);
            if (error == null && hasTls) error = CheckTlsPlacement(tls, segments);
            if (error != null) return false;
            image = new ElfImage(entry, segments, hasTls, tls);
            return true;
        }

        /// <summary>The ELF header and where the program header table lies.</summary>
        private static string CheckHeader(ReadOnlySpan<byte> file)
        {
            if (file.Length < HeaderSize)
                return $"image: {file.Length} bytes is too short for an ELF header ({HeaderSize} bytes)";
            if (file[0] != 0x7F || file[1] != (byte)'E' || file[2] != (byte)'L' || file[3] != (byte)'F')
                return "image: not an ELF file (no \\x7fELF magic)";
            if (file[4] != 2) return $"image: not a 64-bit ELF file (class {file[4]})";
            if (file[5] != 1) return $"image: not a little-endian ELF file (data encoding {file[5]})";
            if (file[6] != 1) return $"image: unknown ELF identification version {file[6]}";
            ushort type = LittleEndian.ReadUInt16(file, 16);
            if (type != ExecutableType)
                return $"image: not an executable (ELF type {type}; only ET_EXEC, type 2, can be loaded)";
            ushort machine = LittleEndian.ReadUInt16(file, 18);
            if (machine != X86_64Machine) return $"image: not an x86-64 image (machine {machine})";
            uint version = LittleEndian.ReadUInt32(file, 20);
            if (version != 1) return $"image: unknown ELF version {version}";

            ulong headerOffset = LittleEndian.ReadUInt64(file, 32);
            ushort entrySize = LittleEndian.ReadUInt16(file, 54);
            ushort count = LittleEndian.ReadUInt16(file, 56);
            if (entrySize != ProgramHeaderSize)
                return $"image: program header entries are {entrySize} bytes, not {ProgramHeaderSize}";
            if (count == 0) return "image: no program headers";
            if (count > MaximumProgramHeaders)
                return $"image: {count} program headers (at most {MaximumProgramHeaders})";
            ulong tableSize = (ulong)count * ProgramHeaderSize;
            if (headerOffset > (ulong)file.Length || tableSize > (ulong)file.Length - headerOffset)
                return $"image: the program headers (offset {Hex(headerOffset)}, {count} x {ProgramHeaderSize} bytes) " +
                       $"end past the end of the file ({file.Length} bytes)";
            return null;
        }

        private static string CheckLoad(in ProgramHeader header, int index, ulong fileLength)
        {
            string name = $"image: segment {index}";
            if (header.FileSize > header.MemorySize)
                return $"{name} has more file bytes ({Hex(header.FileSize)}) than memory ({Hex(header.MemorySize)})";
            if (header.Offset > fileLength || header.FileSize > fileLength - header.Offset)
                return $"{name} ends past the end of the file (offset {Hex(header.Offset)}, size {Hex(header.FileSize)}, " +
                       $"file {Hex(fileLength)} bytes)";
            if (header.MemorySize == 0) return null;
            if (!IsInUserMemory(header.VirtualAddress, header.MemorySize))
                return $"{name} (address {Hex(header.VirtualAddress)}, size {Hex(header.MemorySize)}) is outside user memory " +
                       $"[{Hex(UserAddresses.LowestMappable)}, {Hex(UserAddresses.ReservedTop)})";
            if (header.VirtualAddress < UserAddresses.InitialStackTop && header.VirtualAddress + header.MemorySize > StackBottom)
                return $"{name} (address {Hex(header.VirtualAddress)}, size {Hex(header.MemorySize)}) overlaps the initial stack " +
                       $"[{Hex(StackBottom)}, {Hex(UserAddresses.InitialStackTop)})";
            return CheckAlignment(name, header);
        }

        private static string CheckTls(in ProgramHeader header, int index, ulong fileLength)
        {
            string name = $"image: TLS segment (program header {index})";
            if (header.FileSize > header.MemorySize)
                return $"{name} has more file bytes ({Hex(header.FileSize)}) than memory ({Hex(header.MemorySize)})";
            if (header.Offset > fileLength || header.FileSize > fileLength - header.Offset)
                return $"{name} ends past the end of the file (offset {Hex(header.Offset)}, size {Hex(header.FileSize)})";
            if (header.MemorySize > UserAddresses.ReservedTop)
                return $"{name} is too large ({Hex(header.MemorySize)} bytes)";
            return CheckAlignment(name, header);
        }

        private static string CheckAlignment(string name, in ProgramHeader header)
        {
            ulong alignment = header.Alignment;
            if ((alignment & (alignment - 1)) != 0)
                return $"{name} has alignment {Hex(alignment)}, not a power of two";
            if (alignment > 1 && (header.VirtualAddress & (alignment - 1)) != (header.Offset & (alignment - 1)))
                return $"{name} has address {Hex(header.VirtualAddress)} and file offset {Hex(header.Offset)}, " +
                       $"which differ modulo its alignment {Hex(alignment)}";
            return null;
        }

        /// <summary>At least one segment, no two overlapping, the entry point in an executable one.</summary>
        private static string CheckLayout(List<ElfSegment> segments, List<int> segmentHeaders, ulong entry)
        {
            if (segments.Count == 0) return "image: no loadable segment (PT_LOAD with memory)";
            for (int i = 1; i < segments.Count; i++)
            {
                ElfSegment lower = segments[i - 1], upper = segments[i];
                if (lower.End > upper.VirtualAddress)
                    return $"image: segments {segmentHeaders[i - 1]} and {segmentHeaders[i]} overlap " +
                           $"([{Hex(lower.VirtualAddress)}, {Hex(lower.End)}) and [{Hex(upper.VirtualAddress)}, {Hex(upper.End)}))";
            }
            for (int i = 0; i < segments.Count; i++)
            {
                ElfSegment segment = segments[i];
                if (segment.Executable && entry >= segment.VirtualAddress && entry < segment.End) return null;
            }
            return $"image: the entry point {Hex(entry)} is not inside an executable segment";
        }

        private static string CheckTlsPlacement(in ElfTlsSegment tls, List<ElfSegment> segments)
        {
            if (tls.FileSize == 0) return null;
            for (int i = 0; i < segments.Count; i++)
            {
                ElfSegment segment = segments[i];
                if (tls.VirtualAddress >= segment.VirtualAddress
                    && tls.VirtualAddress - segment.VirtualAddress <= segment.FileSize
                    && tls.FileSize <= segment.FileSize - (tls.VirtualAddress - segment.VirtualAddress))
                    return null;
            }
            return $"image: the TLS template (address {Hex(tls.VirtualAddress)}, {Hex(tls.FileSize)} bytes) " +
                   "is not inside the file bytes of a loaded segment";
        }

        /// <summary>[address, address + size) inside [LowestMappable, ReservedTop), without overflow.</summary>
        private static bool IsInUserMemory(ulong address, ulong size)
            => address >= UserAddresses.LowestMappable && address < UserAddresses.ReservedTop
               && size <= UserAddresses.ReservedTop - address;

        /// <summary>Keeps segments sorted by address (at most 64: insertion is cheap), with the
        /// program header index of each alongside for messages.</summary>
        private static void InsertByAddress(List<ElfSegment> segments, List<int> segmentHeaders, int headerIndex, ElfSegment segment)
        {
            int position = segments.Count;
            while (position > 0 && segments[position - 1].VirtualAddress > segment.VirtualAddress) position--;
            segments.Insert(position, segment);
            segmentHeaders.Insert(position, headerIndex);
        }

        private static ulong CountPages(List<ElfSegment> segments)
        {
            const ulong pageMask = UserAddresses.PageSize - 1;
            ulong pages = 0;
            ulong lastPageCounted = 0; // no segment lies in page 0
            for (int i = 0; i < segments.Count; i++)
            {
                ulong firstPage = segments[i].VirtualAddress & ~pageMask;
                ulong lastPage = (segments[i].End - 1) & ~pageMask;
                pages += (lastPage - firstPage) / UserAddresses.PageSize + 1;
                if (firstPage == lastPageCounted) pages--;
                lastPageCounted = lastPage;
            }
            return pages;
        }

        private static string Hex(ulong value) => "0x" + value.ToString("X");

        /// <summary>One Elf64_Phdr.</summary>
        private readonly struct ProgramHeader
        {
            private ProgramHeader(uint type, uint flags, ulong offset, ulong virtualAddress, ulong fileSize,
                ulong memorySize, ulong alignment)
            {
                Type = type;
                Flags = flags;
                Offset = offset;
                VirtualAddress = virtualAddress;
                FileSize = fileSize;
                MemorySize = memorySize;
                Alignment = alignment;
            }

            public uint Type { get; }
            public uint Flags { get; }
            public ulong Offset { get; }
            public ulong VirtualAddress { get; }
            public ulong FileSize { get; }
            public ulong MemorySize { get; }
            public ulong Alignment { get; }

            /// <summary>Reads the header at offset (the caller checked it lies inside the file).</summary>
            public static ProgramHeader Read(ReadOnlySpan<byte> file, int offset)
                => new ProgramHeader(
                    LittleEndian.ReadUInt32(file, offset),
                    LittleEndian.ReadUInt32(file, offset + 4),
                    LittleEndian.ReadUInt64(file, offset + 8),
                    LittleEndian.ReadUInt64(file, offset + 16),
                    LittleEndian.ReadUInt64(file, offset + 32),
                    LittleEndian.ReadUInt64(file, offset + 40),
                    LittleEndian.ReadUInt64(file, offset + 48));
        }
    }
}
