// Multiboot2Info: the boot information a multiboot2 loader (GRUB) leaves for the kernel,
// parsed from its raw bytes: the command line, the boot loader's name, the modules, the basic
// memory sizes and the memory map.
//
// Layout: an 8-byte header (u32 total_size, u32 reserved), then tags, each starting on an
// 8-byte boundary with (u32 type, u32 size); size counts the tag header but not the padding.
// A tag of type 0 ends the list.
//
// Invariants of a parsed result:
//   - every byte it read lies inside [0, total_size), and total_size <= the span's length;
//   - MemoryMap is non-empty, has no zero-length entry, and no entry's Base + Length overflows;
//   - every module has End >= Start.
// Bad input never throws: TryParse returns false with an error that names the problem and the
// byte offset (hex) where it was found. Overlapping memory-map entries are accepted here;
// PhysicalMemoryPlan resolves them (reserved wins).
using System;
using System.Collections.Generic;

namespace Aegis.Kernel.Core
{
    public sealed class Multiboot2Info
    {
        /// <summary>The value a multiboot2 loader leaves in EAX.</summary>
        public const uint BootLoaderMagic = 0x36D76289;

        private const int HeaderSize = 8;
        private const int TagHeaderSize = 8;
        private const int MinimumTotalSize = HeaderSize + TagHeaderSize;
        private const uint TagEnd = 0;
        private const uint TagCommandLine = 1;
        private const uint TagBootLoaderName = 2;
        private const uint TagModule = 3;
        private const uint TagBasicMemoryInfo = 4;
        private const uint TagMemoryMap = 6;
        private const int MemoryMapHeaderSize = 16;
        private const int MinimumEntrySize = 24;

        private readonly List<MemoryRegion> _memoryMap = new List<MemoryRegion>();
        private readonly List<BootModule> _modules = new List<BootModule>();
        private bool _sawMemoryMap;

        private Multiboot2Info(uint totalSize)
        {
            TotalSize = totalSize;
            CommandLine = "";
            BootLoaderName = "";
        }

        /// <summary>The size of the whole structure, from its header.</summary>
        public uint TotalSize { get; }

        /// <summary>The kernel command line ("" when the loader gave none).</summary>
        public string CommandLine { get; private set; }

        public string BootLoaderName { get; private set; }

        public bool HasBasicMemoryInfo { get; private set; }

        /// <summary>KiB of memory below 1 MiB (tag type 4).</summary>
        public uint LowerMemoryKilobytes { get; private set; }

        /// <summary>KiB of memory from 1 MiB up to the first hole (tag type 4).</summary>
        public uint UpperMemoryKilobytes { get; private set; }

        /// <summary>The memory map in the loader's order, zero-length entries left out.</summary>
        public ReadOnlyListView<MemoryRegion> MemoryMap => new ReadOnlyListView<MemoryRegion>(_memoryMap);

        public ReadOnlyListView<BootModule> Modules => new ReadOnlyListView<BootModule>(_modules);

        public static bool TryParse(ReadOnlySpan<byte> info, out Multiboot2Info result, out string error)
        {
            result = null;
            error = CheckHeader(info, out uint totalSize);
            if (error != null) return false;

            Multiboot2Info parsed = new Multiboot2Info(totalSize);
            error = parsed.ReadTags(info.Slice(0, (int)totalSize));
            if (error != null) return false;

            result = parsed;
            return true;
        }

        private static string CheckHeader(ReadOnlySpan<byte> info, out uint totalSize)
        {
            totalSize = 0;
            if (info.Length < HeaderSize)
                return Problem("the boot information is " + info.Length.ToString() + " bytes, shorter than its 8-byte header", 0);
            totalSize = LittleEndian.ReadUInt32(info, 0);
            if (totalSize < MinimumTotalSize)
                return Problem("total_size " + totalSize.ToString() + " is smaller than 16 (header and end tag)", 0);
            if (totalSize > (uint)info.Length)
                return Problem("total_size " + totalSize.ToString() + " is larger than the " + info.Length.ToString() + " bytes available", 0);
            return null;
        }

        private string ReadTags(ReadOnlySpan<byte> info)
        {
            int offset = HeaderSize;
            while (offset < info.Length)
            {
                if (info.Length - offset < TagHeaderSize)
                    return Problem("tag header runs past total_size " + info.Length.ToString(), offset);
                uint type = LittleEndian.ReadUInt32(info, offset);
                uint size = LittleEndian.ReadUInt32(info, offset + 4);
                if (size < TagHeaderSize)
                    return Problem("tag type " + type.ToString() + " has size " + size.ToString() + ", less than 8", offset);
                if (size > (uint)(info.Length - offset))
                    return Problem("tag type " + type.ToString() + " has size " + size.ToString() + ", running past total_size " + info.Length.ToString(), offset);
                if (type == TagEnd)
                    return CheckComplete(offset);

                string problem = ReadTag(type, info.Slice(offset, (int)size), offset);
                if (problem != null) return problem;
                offset = AlignToTag((long)offset + size);
            }
            return Problem("no end tag (type 0) before total_size " + info.Length.ToString(), offset);
        }

        private string CheckComplete(int endTagOffset)
        {
            if (!_sawMemoryMap)
                return Problem("no memory map (tag type 6) before the end tag", endTagOffset);
            if (_memoryMap.Count == 0)
                return Problem("the memory map has no non-empty entry; end tag", endTagOffset);
            return null;
        }

        private static int AlignToTag(long offset)
        {
            long aligned = (offset + 7) & ~7L;
            return aligned > int.MaxValue ? int.MaxValue : (int)aligned;
        }

        private string ReadTag(uint type, ReadOnlySpan<byte> tag, int offset)
        {
            switch (type)
            {
                case TagCommandLine:
                    CommandLine = ReadString(tag.Slice(TagHeaderSize));
                    return null;
                case TagBootLoaderName:
                    BootLoaderName = ReadString(tag.Slice(TagHeaderSize));
                    return null;
                case TagModule:
                    return ReadModule(tag, offset);
                case TagBasicMemoryInfo:
                    return ReadBasicMemoryInfo(tag, offset);
                case TagMemoryMap:
                    return ReadMemoryMap(tag, offset);
                default:
                    return null;
            }
        }

        private string ReadModule(ReadOnlySpan<byte> tag, int offset)
        {
            if (tag.Length < TagHeaderSize + 8)
                return Problem("module tag is " + tag.Length.ToString() + " bytes, too short for its start and end", offset);
            uint start = LittleEndian.ReadUInt32(tag, 8);
            uint end = LittleEndian.ReadUInt32(tag, 12);
            if (end < start)
                return Problem("module ends (0x" + end.ToString("X") + ") before it starts (0x" + start.ToString("X") + ")", offset);
            _modules.Add(new BootModule(start, end, ReadString(tag.Slice(16))));
            return null;
        }

        private string ReadBasicMemoryInfo(ReadOnlySpan<byte> tag, int offset)
        {
            if (tag.Length < TagHeaderSize + 8)
                return Problem("basic memory information tag is " + tag.Length.ToString() + " bytes, less than 16", offset);
            LowerMemoryKilobytes = LittleEndian.ReadUInt32(tag, 8);
            UpperMemoryKilobytes = LittleEndian.ReadUInt32(tag, 12);
            HasBasicMemoryInfo = true;
            return null;
        }

        private string ReadMemoryMap(ReadOnlySpan<byte> tag, int offset)
        {
            if (_sawMemoryMap)
                return Problem("a second memory map", offset);
            if (tag.Length < MemoryMapHeaderSize)
                return Problem("memory map tag is " + tag.Length.ToString() + " bytes, less than 16", offset);
            uint entrySize = LittleEndian.ReadUInt32(tag, 8);
            if (entrySize < MinimumEntrySize || entrySize % 8 != 0)
                return Problem("memory map entry_size " + entrySize.ToString() + " is not a multiple of 8 of at least 24", offset);
            int entriesLength = tag.Length - MemoryMapHeaderSize;
            if ((uint)entriesLength % entrySize != 0)
                return Problem("memory map holds " + entriesLength.ToString() + " bytes of entries, not a whole number of " + entrySize.ToString() + "-byte entries", offset);

            _sawMemoryMap = true;
            int count = (int)((uint)entriesLength / entrySize);
            for (int i = 0; i < count; i++)
            {
                int entryOffset = MemoryMapHeaderSize + i * (int)entrySize;
                string problem = ReadMemoryMapEntry(tag.Slice(entryOffset, MinimumEntrySize), i, offset + entryOffset);
                if (problem != null) return problem;
            }
            return null;
        }

        private string ReadMemoryMapEntry(ReadOnlySpan<byte> entry, int index, int offset)
        {
            ulong baseAddress = LittleEndian.ReadUInt64(entry, 0);
            ulong length = LittleEndian.ReadUInt64(entry, 8);
            uint type = LittleEndian.ReadUInt32(entry, 16);
            if (length == 0) return null;
            if (length > ulong.MaxValue - baseAddress)
                return Problem("memory map entry " + index.ToString() + " (base 0x" + baseAddress.ToString("X") +
                               ", length 0x" + length.ToString("X") + ") runs past the top of the 64-bit address space", offset);
            _memoryMap.Add(new MemoryRegion(baseAddress, length, type));
            return null;
        }

        /// <summary>Bytes up to the first NUL (or the end), one char per byte.</summary>
        private static string ReadString(ReadOnlySpan<byte> bytes)
        {
            int length = bytes.IndexOf((byte)0);
            if (length < 0) length = bytes.Length;
            if (length == 0) return "";
            char[] chars = new char[length];
            for (int i = 0; i < length; i++) chars[i] = (char)bytes[i];
            return new string(chars);
        }

        private static string Problem(string what, int offset)
            => "multiboot2: " + what + " (at offset 0x" + offset.ToString("X") + ")";
    }
}
