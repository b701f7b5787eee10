// Reading a Linux x86-64 executable's ELF headers, with every check made before anything is
// mapped: a broken file gets one clear sentence (ElfCheck.Problem) and a Linux errno, never a
// fault. Pure: reads only [data, data + length); host-tested (Aegis.Tests/Host/LinuxElfTests.cs).
//
// Accepted: ELFCLASS64, little-endian, EM_X86_64, ET_EXEC (at its link addresses) and ET_DYN
// (position-independent: the loader picks the base), either with PT_INTERP (dynamically linked:
// Interpreter names the dynamic linker the loader maps beside it) or without (static, static-PIE).
// Refused: anything else, a PT_INTERP that is not one NUL-terminated path inside the file, a PT_LOAD whose file
// bytes run past the end of the file (truncated), whose FileSize exceeds its MemorySize, whose
// address and offset disagree modulo the page size, that wraps around, that overlaps an earlier
// one or is out of order, a span above MaximumSpan, an entry point outside every PT_LOAD.
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux
{
    public struct ElfSegment
    {
        public ulong Offset;
        public ulong VirtualAddress;
        public ulong FileSize;
        public ulong MemorySize;
        /// <summary>Protection.Read/Write/Execute from p_flags.</summary>
        public int Protection;
    }

    public sealed class ElfProgram
    {
        /// <summary>ET_DYN (static-PIE): addresses are relative to a base the loader chooses.</summary>
        public bool IsPositionIndependent;
        public ulong Entry;
        /// <summary>Where the program headers are in the file (AT_PHDR is computed from it).</summary>
        public ulong HeaderTableOffset;
        public int HeaderCount;
        public int HeaderEntrySize;
        /// <summary>p_vaddr of PT_PHDR, when the file has one (else 0; HasPhdrSegment false).</summary>
        public ulong PhdrAddress;
        public bool HasPhdrSegment;
        /// <summary>PT_INTERP's path (the dynamic linker, without its NUL), or null for a static program.</summary>
        public byte[] Interpreter;
        /// <summary>PT_GNU_STACK with PF_X (an executable stack asked for); false without the header.</summary>
        public bool ExecutableStack;
        public readonly List<ElfSegment> Segments = new List<ElfSegment>();
        /// <summary>The lowest page and the end of the highest segment (link addresses).</summary>
        public ulong LowestAddress;
        public ulong HighestEnd;

        /// <summary>AT_PHDR at link addresses: PT_PHDR's address, else the PT_LOAD holding the
        /// header table's file bytes; 0 if neither.</summary>
        public ulong HeaderTableAddress
        {
            get
            {
                if (HasPhdrSegment) return PhdrAddress;
                foreach (ElfSegment segment in Segments)
                    if (HeaderTableOffset >= segment.Offset && HeaderTableOffset - segment.Offset < segment.FileSize)
                        return segment.VirtualAddress + (HeaderTableOffset - segment.Offset);
                return 0;
            }
        }
    }

    /// <summary>The outcome of reading an ELF file: Program, or Problem with the errno and the
    /// shell's exit status for it.</summary>
    public struct ElfCheck
    {
        public ElfProgram Program;
        public string Problem;
        public int Errno;
        public int ShellStatus;

        public bool IsValid => Problem == null;

        internal static ElfCheck Fail(string problem, int errno = Linux.Errno.ENOEXEC, int shellStatus = 126)
            => new ElfCheck { Problem = problem, Errno = errno, ShellStatus = shellStatus };
    }

    public static unsafe class LinuxElf
    {
        public const ushort TypeExecutable = 2, TypeShared = 3;
        public const ushort MachineX86_64 = 62;
        public const uint PtLoad = 1, PtInterp = 3, PtPhdr = 6, PtGnuStack = 0x6474E551;
        public const uint PfX = 1, PfW = 2, PfR = 4;
        public const int HeaderSize = 64, ProgramHeaderSize = 56;
        public const int MaximumHeaders = 256;
        /// <summary>The longest PT_INTERP path accepted (Linux's PATH_MAX).</summary>
        public const int MaximumInterpreterPath = 4096;
        /// <summary>The most address space one program's PT_LOADs may span (1 GiB).</summary>
        public const ulong MaximumSpan = 1UL << 30;
        private const ulong Page = 4096;

        private static ushort U16(byte* p) => (ushort)(p[0] | p[1] << 8);
        private static uint U32(byte* p) => (uint)(p[0] | p[1] << 8 | p[2] << 16 | p[3] << 24);
        private static ulong U64(byte* p) => U32(p) | (ulong)U32(p + 4) << 32;

        /// <summary>Checks the file and reads its headers.</summary>
        public static ElfCheck Read(byte* data, ulong length)
        {
            if (length >= 2 && data[0] == (byte)'#' && data[1] == (byte)'!')
                return ElfCheck.Fail("is a script (#!): only ELF executables run here");
            if (length < 4 || data[0] != 0x7F || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F')
                return ElfCheck.Fail("not an ELF executable (no \\x7fELF signature)");
            if (length < HeaderSize)
                return ElfCheck.Fail("truncated ELF file (" + length.ToString() + " bytes, shorter than the 64-byte ELF header)");
            if (data[4] != 2)
                return ElfCheck.Fail("not a 64-bit ELF (class " + data[4].ToString() + "): only x86-64 programs run here");
            if (data[5] != 1)
                return ElfCheck.Fail("not a little-endian ELF: only x86-64 programs run here");
            ushort machine = U16(data + 18);
            if (machine != MachineX86_64)
                return ElfCheck.Fail("an ELF for another architecture (" + MachineName(machine) + "): only x86-64 programs run here");
            ushort type = U16(data + 16);
            if (type != TypeExecutable && type != TypeShared)
                return ElfCheck.Fail("not an executable ELF (type " + type.ToString() + ")");

            var program = new ElfProgram
            {
                IsPositionIndependent = type == TypeShared,
                Entry = U64(data + 24),
                HeaderTableOffset = U64(data + 32),
                HeaderEntrySize = U16(data + 54),
                HeaderCount = U16(data + 56),
            };
            if (program.HeaderEntrySize != ProgramHeaderSize)
                return ElfCheck.Fail("bad ELF program header size " + program.HeaderEntrySize.ToString());
            if (program.HeaderCount == 0 || program.HeaderCount > MaximumHeaders)
                return ElfCheck.Fail("bad ELF program header count " + program.HeaderCount.ToString());
            ulong tableBytes = (ulong)program.HeaderCount * ProgramHeaderSize;
            if (program.HeaderTableOffset > length || length - program.HeaderTableOffset < tableBytes)
                return ElfCheck.Fail("truncated ELF file (the program headers end past its " + length.ToString() + " bytes)");

            ulong previousEnd = 0;
            for (int i = 0; i < program.HeaderCount; i++)
            {
                byte* header = data + program.HeaderTableOffset + (ulong)i * ProgramHeaderSize;
                uint kind = U32(header);
                uint flags = U32(header + 4);
                if (kind == PtInterp)
                {
                    if (program.Interpreter != null) return ElfCheck.Fail("bad ELF: more than one PT_INTERP");
                    ulong at = U64(header + 8), size = U64(header + 32);
                    if (size < 2 || size > MaximumInterpreterPath || at > length || length - at < size || data[at + size - 1] != 0)
                        return ElfCheck.Fail("bad ELF: its PT_INTERP is not a path inside the file");
                    int pathLength = 0;
                    while (data[at + (ulong)pathLength] != 0) pathLength++;
                    if (pathLength == 0) return ElfCheck.Fail("bad ELF: its PT_INTERP is an empty path");
                    program.Interpreter = new byte[pathLength];
                    for (int k = 0; k < pathLength; k++) program.Interpreter[k] = data[at + (ulong)k];
                }
                else if (kind == PtPhdr)
                {
                    program.HasPhdrSegment = true;
                    program.PhdrAddress = U64(header + 16);
                }
                else if (kind == PtGnuStack) program.ExecutableStack = (flags & PfX) != 0;
                if (kind != PtLoad) continue;

                var segment = new ElfSegment
                {
                    Offset = U64(header + 8),
                    VirtualAddress = U64(header + 16),
                    FileSize = U64(header + 32),
                    MemorySize = U64(header + 40),
                    Protection = ((flags & PfR) != 0 ? Protection.Read : 0) | ((flags & PfW) != 0 ? Protection.Write : 0)
                        | ((flags & PfX) != 0 ? Protection.Execute : 0),
                };
                string where = "segment " + program.Segments.Count.ToString() + " (at 0x" + segment.VirtualAddress.ToString("x") + ")";
                if (segment.FileSize > segment.MemorySize)
                    return ElfCheck.Fail("bad ELF: " + where + " has more file bytes than memory bytes");
                if (segment.Offset > length || length - segment.Offset < segment.FileSize)
                    return ElfCheck.Fail("truncated ELF file (" + where + " needs bytes up to " + (segment.Offset + segment.FileSize).ToString()
                        + ", the file has " + length.ToString() + ")");
                if (segment.VirtualAddress > ulong.MaxValue - segment.MemorySize || segment.VirtualAddress + segment.MemorySize > ProgramMemory.WindowHigh)
                    return ElfCheck.Fail("bad ELF: " + where + " is too large or too high");
                if ((segment.VirtualAddress & (Page - 1)) != (segment.Offset & (Page - 1)))
                    return ElfCheck.Fail("bad ELF: " + where + " has an address and file offset that disagree modulo the page size");
                if (segment.MemorySize == 0) continue;
                ulong end = segment.VirtualAddress + segment.MemorySize;
                if (program.Segments.Count > 0 && segment.VirtualAddress < previousEnd)
                    return ElfCheck.Fail("bad ELF: " + where + " overlaps or precedes the segment before it");
                if (program.Segments.Count == 0) program.LowestAddress = segment.VirtualAddress & ~(Page - 1);
                previousEnd = end;
                program.HighestEnd = end;
                program.Segments.Add(segment);
            }
            if (program.Segments.Count == 0)
                return ElfCheck.Fail("bad ELF: nothing to load (no PT_LOAD segment)");
            if (program.HighestEnd - program.LowestAddress > MaximumSpan)
                return ElfCheck.Fail("bad ELF: its segments span " + ((program.HighestEnd - program.LowestAddress) >> 20).ToString()
                    + " MiB, more than the " + (MaximumSpan >> 20).ToString() + " MiB allowed");
            if (!program.IsPositionIndependent && program.LowestAddress < ProgramMemory.WindowLow)
                return ElfCheck.Fail("bad ELF: it is linked at 0x" + program.LowestAddress.ToString("x") + ", below the lowest address a program may use (0x"
                    + ProgramMemory.WindowLow.ToString("x") + ")");
            bool entryInside = false;
            foreach (ElfSegment segment in program.Segments)
                if (program.Entry >= segment.VirtualAddress && program.Entry - segment.VirtualAddress < segment.MemorySize)
                    entryInside = true;
            if (!entryInside)
                return ElfCheck.Fail("bad ELF: the entry point 0x" + program.Entry.ToString("x") + " is outside every loaded segment");
            return new ElfCheck { Program = program };
        }

        public static string MachineName(ushort machine) => machine switch
        {
            3 => "i386",
            8 => "MIPS",
            20 => "PowerPC",
            21 => "PowerPC64",
            40 => "ARM",
            43 => "SPARC V9",
            50 => "IA-64",
            62 => "x86-64",
            183 => "AArch64",
            243 => "RISC-V",
            258 => "LoongArch",
            _ => "machine " + machine.ToString(),
        };
    }
}
