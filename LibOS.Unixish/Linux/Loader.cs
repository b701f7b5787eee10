// Loading a static Linux program into this environment: the first one (LinuxPersonality.Run)
// and execve's replacement, which happens in place (same environment, same pid).
//
//   Prepare  reads the file through ProgramFiles, checks it (LinuxElf), checks that its segments
//            fit the program window clear of the libOS, and copies argv/envp into libOS memory.
//            Nothing of the running program changes: a failure is an errno for execve.
//   Commit   the point of no return: runs the exec hooks (close-on-exec descriptors), drops every
//            program area and page, maps each PT_LOAD (bytes copied from the file, the rest of
//            its pages zero: .bss), with its permissions; the 8 MiB stack area (RWX only when
//            PT_GNU_STACK asks), its top pages mapped and holding the System V stack
//            (ProgramStack); the brk heap starting at the page after the highest segment. The
//            registers are set for the entry point: RSP = the stack, RDX = 0 (no exit hook from
//            a dynamic linker), every other general register 0, RFLAGS = IF, FS base 0.
//
// A static-PIE program (ET_DYN) is placed at ProgramMemory.PieBase (its own start code applies
// its relocations). AT_BASE is 0 (no interpreter); AT_RANDOM's 16 bytes come from RDRAND when
// the CPU has it (LinuxCpu.RandomBytes); AT_HWCAP is CPUID.1:EDX, AT_HWCAP2 has bit 1
// (HWCAP2_FSGSBASE) when the program may use wrfsbase.
using System.Collections.Generic;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    public sealed unsafe class LoadRequest
    {
        public byte[] Path;
        public readonly List<byte[]> Arguments = new List<byte[]>();
        public readonly List<byte[]> Environment = new List<byte[]>();
        internal byte* Data;
        internal ulong Length;
        internal ElfProgram Program;
        internal ulong Base;
        /// <summary>The dynamic linker (PT_INTERP), when the program has one: its bytes, headers and path.</summary>
        internal byte* InterpreterData;
        internal ulong InterpreterLength;
        internal ElfProgram Interpreter;
        internal string InterpreterPath;
    }

    public static unsafe class Loader
    {
        private const ulong Page = 4096;
        /// <summary>Stack pages mapped at start beyond what the System V stack itself takes.</summary>
        private const ulong StackSlackPages = 8;
        /// <summary>Linux's ARG_MAX-like bound on argv + envp (bytes, strings and pointers).</summary>
        public const ulong ArgumentBytesLimit = 2UL << 20;

        public static readonly string[] DefaultEnvironment =
        {
            "HOME=/root", "PATH=/bin:/sbin:/usr/bin:/usr/sbin", "TERM=linux", "SHELL=/bin/sh", "USER=root", "LOGNAME=root", "PWD=/",
        };

        /// <summary>Checks the file and gathers what Commit needs. Returns 0, or -errno with problem
        /// set to one line for the person at the console and shellStatus to what a shell reports (126/127).</summary>
        public static int Prepare(LoadRequest request, out string problem, out int shellStatus)
        {
            problem = null;
            shellStatus = 0;
            byte[] path = request.Path;
            int error;
            byte* data;
            ulong length;
            fixed (byte* p = path)
                error = ProgramFiles.TryGetBytes(p, path.Length, out data, out length);
            if (error < 0)
            {
                problem = error == -Errno.ENOENT ? "no such file" : error == -Errno.EACCES ? "permission denied"
                    : error == -Errno.EISDIR ? "is a directory" : "cannot open it (errno " + (-error).ToString() + ")";
                shellStatus = error == -Errno.ENOENT || error == -Errno.ENOTDIR ? 127 : 126;
                return error;
            }
            // A forked process maps the embedded archive on demand: the headers now; Commit maps
            // the pages it copies, and read-only segments come from the archive's frames (PageAlias).
            OnDemandPages.Ensure((ulong)data, length < Page ? length : Page);
            ElfCheck check = LinuxElf.Read(data, length);
            if (!check.IsValid)
            {
                problem = check.Problem;
                shellStatus = check.ShellStatus;
                return -check.Errno;
            }
            ElfProgram program = check.Program;
            ulong loadBase = program.IsPositionIndependent ? ProgramMemory.PieBase - program.LowestAddress : 0;
            ulong low = program.LowestAddress + loadBase, high = ProgramMemory.PageUp(program.HighestEnd + loadBase);
            if (high == 0 || !ProgramMemory.InWindow(low, high) || LinuxProcess.Memory.TouchesLibOS(low, high))
            {
                problem = "bad ELF: its segments [0x" + low.ToString("x") + ", 0x" + program.HighestEnd.ToString("x")
                    + ") overlap the libOS or leave the program's address range";
                shellStatus = 126;
                return -Errno.ENOMEM;
            }
            ulong total = 0;
            foreach (byte[] s in request.Arguments) total += (ulong)s.Length + 9;
            foreach (byte[] s in request.Environment) total += (ulong)s.Length + 9;
            if (total > ArgumentBytesLimit)
            {
                problem = "the arguments and environment are too long";
                shellStatus = 126;
                return -Errno.E2BIG;
            }
            request.Data = data;
            request.Length = length;
            request.Program = program;
            request.Base = loadBase;
            request.Interpreter = null;
            request.InterpreterData = null;
            return program.Interpreter == null ? 0 : PrepareInterpreter(request, out problem, out shellStatus);
        }

        /// <summary>The dynamic linker PT_INTERP names: found, checked (an ET_DYN with no PT_INTERP
        /// of its own, as Linux's binfmt_elf wants), its headers kept for Commit.</summary>
        private static int PrepareInterpreter(LoadRequest request, out string problem, out int shellStatus)
        {
            problem = null;
            shellStatus = 0;
            byte[] path = request.Program.Interpreter;
            string name = Utf8String(path);
            byte* data;
            ulong length;
            int error;
            fixed (byte* p = path)
                error = ProgramFiles.TryGetBytes(p, path.Length, out data, out length, interpreter: true);
            if (error < 0)
            {
                // Linux: execve's ENOENT (bash: "cannot execute: required file not found").
                problem = "its dynamic linker " + name + (error == -Errno.ENOENT || error == -Errno.ENOTDIR ? " is missing"
                    : " cannot be opened (errno " + (-error).ToString() + ")");
                shellStatus = error == -Errno.ENOENT || error == -Errno.ENOTDIR ? 127 : 126;
                return error == -Errno.ENOTDIR ? -Errno.ENOENT : error;
            }
            OnDemandPages.Ensure((ulong)data, length < Page ? length : Page);
            ElfCheck check = LinuxElf.Read(data, length);
            if (!check.IsValid || !check.Program.IsPositionIndependent || check.Program.Interpreter != null)
            {
                problem = "its dynamic linker " + name + (check.IsValid ? " is not a position-independent ELF without an interpreter" : ": " + check.Problem);
                shellStatus = 126;
                return -Errno.ELIBBAD;
            }
            request.InterpreterData = data;
            request.InterpreterLength = length;
            request.Interpreter = check.Program;
            request.InterpreterPath = Files.FileCalls.Files?.ResolvedPath(name, interpreter: true) ?? name;
            return 0;
        }

        /// <summary>Replaces the program (see the header) and sets registers for its entry. False
        /// if memory ran out half-way: the old program is gone, the caller ends the environment.</summary>
        public static bool Commit(LoadRequest request, UserRegisters* registers, out ulong fsBase, out string problem)
        {
            fsBase = 0;
            problem = null;
            LinuxPersonality.RunExecHooks();

            var removed = new List<Area>();
            LinuxProcess.Memory.Clear(removed);
            foreach (Area area in removed)
                ProgramPages.Release(area.Start, area.End);
            MemoryCalls.ForgetLazy();

            ElfProgram program = request.Program;
            ulong loadBase = request.Base;
            // The file's own path, links followed (busybox re-executes itself through /proc/self/exe:
            // maps and /proc/self/exe then named "/proc/self/exe", a link to itself).
            string name = Utf8String(request.Path);
            name = Files.FileCalls.Files?.ResolvedPath(name) ?? name;
            PersonalityFiles.OnProgramLoaded(request, name);
            bool alias = MayAlias();
            if (!MapSegments(request.Data, program, loadBase, name, alias, out problem)) return false;
            ulong entry = program.Entry + loadBase, interpreterBase = 0;
            if (request.Interpreter != null)
            {
                // The dynamic linker goes where an mmap of its size would (Linux: at the mmap base).
                ElfProgram interpreter = request.Interpreter;
                ulong span = ProgramMemory.PageUp(interpreter.HighestEnd) - interpreter.LowestAddress;
                ulong at = LinuxProcess.Memory.FindFree(span, 0);
                if (at == 0) { problem = "no room for its dynamic linker"; return false; }
                interpreterBase = at - interpreter.LowestAddress;
                if (!MapSegments(request.InterpreterData, interpreter, interpreterBase, request.InterpreterPath, alias, out problem)) return false;
                entry = interpreter.Entry + interpreterBase;
            }

            LinuxProcess.BreakStart = LinuxProcess.Break = ProgramMemory.PageUp(program.HighestEnd + loadBase);

            // The stack: the whole RLIMIT_STACK reserved as one area, the top pages mapped now.
            int stackProtection = Protection.Read | Protection.Write | (program.ExecutableStack ? Protection.Execute : 0);
            var stack = new Area
            {
                Start = ProgramMemory.StackTop - ProgramMemory.StackLimit, End = ProgramMemory.StackTop,
                Protection = stackProtection, Kind = AreaKind.Stack, Name = "[stack]",
            };
            if (!LinuxProcess.Memory.Insert(stack)) { problem = "cannot place the stack"; return false; }
            StackImage image = BuildStackImage(request, program, loadBase, interpreterBase);
            ulong stackBytes = ProgramMemory.PageUp(ProgramStack.Size(image)) + StackSlackPages * Page;
            if (ProgramPages.MapZeroed(ProgramMemory.StackTop - stackBytes, ProgramMemory.StackTop, stackProtection) != Error.None)
            {
                problem = "out of memory for its stack";
                return false;
            }
            ulong rsp = ProgramStack.Build(image, ProgramMemory.StackTop, (byte*)ProgramMemory.StackTop, stackBytes);
            if (rsp == 0) { problem = "its arguments do not fit the stack"; return false; }

            LinuxProcess.ExecutablePath = request.Path;
            LinuxProcess.ProgramStarted = LinuxCpu.Timestamp();
            ulong* r = (ulong*)registers;
            for (int i = 0; i < sizeof(UserRegisters) / 8; i++) r[i] = 0;
            registers->Rip = entry;
            registers->Rsp = rsp;
            registers->Rflags = 0x202;
            return true;
        }

        /// <summary>Maps each PT_LOAD of 'program' at loadBase: an Image area named 'name' a segment,
        /// its file bytes copied (or, read-only whole pages, aliased from the archive when 'alias'),
        /// the rest zero (.bss), with its permissions. False with 'problem' when memory ran out.</summary>
        private static bool MapSegments(byte* data, ElfProgram program, ulong loadBase, string name, bool alias, out string problem)
        {
            problem = null;
            ulong previousEnd = 0;
            int previousProtection = 0;
            for (int index = 0; index < program.Segments.Count; index++)
            {
                ElfSegment segment = program.Segments[index];
                ulong address = segment.VirtualAddress + loadBase;
                ulong pageStart = address & ~(Page - 1), pageEnd = ProgramMemory.PageUp(address + segment.MemorySize);
                ulong areaStart = pageStart < previousEnd ? previousEnd : pageStart;
                ulong nextStart = index + 1 < program.Segments.Count ? (program.Segments[index + 1].VirtualAddress + loadBase) & ~(Page - 1) : ulong.MaxValue;
                if (areaStart < pageEnd)
                {
                    var area = new Area
                    {
                        Start = areaStart, End = pageEnd, Protection = segment.Protection, Kind = AreaKind.Image, Name = name,
                        FileOffset = (segment.Offset & ~(Page - 1)) + (areaStart - pageStart),
                    };
                    if (!LinuxProcess.Memory.Insert(area)) { problem = "cannot place segment at 0x" + address.ToString("x"); return false; }
                }
                // Read-only whole pages of file bytes are the archive's own frames (PageAlias), not copies.
                ulong aliasStart = 0, aliasEnd = 0;
                if (alias)
                    AliasRange(data, segment, address, areaStart, nextStart, out aliasStart, out aliasEnd);
                if (ProgramPages.MapZeroed(pageStart, pageEnd, Protection.Read | Protection.Write) != Error.None) // (skips the aliased pages)
                {
                    problem = "out of memory loading it";
                    return false;
                }
                if (pageStart < previousEnd) // a page shared with the segment before: writable while copying
                    ProgramPages.Reprotect(pageStart, previousEnd, Protection.Read | Protection.Write);
                ulong fileEnd = address + segment.FileSize;
                if (aliasStart < aliasEnd)
                {
                    CopyFile(data, segment, address, address, aliasStart);
                    CopyFile(data, segment, address, aliasEnd, fileEnd);
                }
                else
                {
                    CopyFile(data, segment, address, address, fileEnd);
                }
                if (areaStart < pageEnd && (ProgramPages.ProtectFilled(areaStart, aliasStart > areaStart ? aliasStart : areaStart, segment.Protection) != Error.None
                    || ProgramPages.ProtectFilled(aliasEnd > areaStart ? aliasEnd : areaStart, pageEnd, segment.Protection) != Error.None))
                {
                    problem = "cannot set a segment's permissions";
                    return false;
                }
                if (pageStart < previousEnd)
                    ProgramPages.Reprotect(pageStart, previousEnd, previousProtection | segment.Protection);
                previousEnd = pageEnd;
                previousProtection = segment.Protection;
            }

            return true;
        }

        /// <summary>Whether exec maps read-only segment pages from the archive (PageAlias): in a
        /// process that maps the archive from an ancestor. The first process owns the archive's
        /// frames, and giving up a program page it owns and maps twice would give up the archive's
        /// (PageShare Discard releases an owned frame mapped elsewhere), so it copies.</summary>
        internal static bool MayAlias() => OnDemandPages.FromAncestor;

        /// <summary>Whether [data, data + length) lies in the root archive (its frames can be aliased).</summary>
        internal static bool InArchive(ulong data, ulong length)
        {
            ulong archiveStart = (ulong)Files.FilesNative.RootfsStart(), archiveEnd = (ulong)Files.FilesNative.RootfsEnd();
            return data >= archiveStart && data <= archiveEnd && length <= archiveEnd - data;
        }

        /// <summary>The pages of the segment exec maps from the archive: whole pages of its file
        /// bytes ([address, address + FileSize)), inside its own area (from areaStart), below the
        /// next segment's first page (next), read-only. [start, end) is empty when there are none
        /// or the kernel refused (the caller copies them then).</summary>
        private static void AliasRange(byte* data, ElfSegment segment, ulong address, ulong areaStart, ulong next,
            out ulong start, out ulong end)
        {
            start = end = 0;
            if ((segment.Protection & Protection.Write) != 0 || segment.Protection == Protection.None) return;
            ulong first = ProgramMemory.PageUp(address), last = (address + segment.FileSize) & ~(Page - 1);
            if (first < areaStart) first = areaStart;
            if (last > next) last = next;
            if (first >= last) return;
            if (!AliasFilePages((ulong)data + segment.Offset + (first - address), first, last, segment.Protection)) return;
            start = first;
            end = last;
        }

        /// <summary>Maps [first, last) read-only with the protection from the root archive's frames
        /// at source (the file's bytes, page-aligned in the archive: tools/rootfs/build-rootfs.sh),
        /// recorded in ProgramPages with CopyOnWrite.Bit (a later mprotect to writable gives the
        /// process its own copy). The libOS's page cache for read-only file pages: every process
        /// running a program or mapping a library maps the same frames. False, nothing mapped, when
        /// the source is not whole archive pages or the kernel refused (the caller copies then).</summary>
        internal static bool AliasFilePages(ulong source, ulong first, ulong last, int protection)
        {
            if ((source & (Page - 1)) != 0 || first >= last) return false; // a file's data not page-aligned
            if (!InArchive(source, last - first)) return false; // not the archive's bytes
            ulong bits = ProgramPages.Bits(protection) | CopyOnWrite.Bit;
            for (ulong page = first; page < last; )
            {
                ulong pages = (last - page) / Page;
                if (pages > (ulong)SystemCallLimits.MaximumMapRequests) pages = (ulong)SystemCallLimits.MaximumMapRequests;
                SystemCallResult mapped = SystemCalls.PageAlias(source + (page - first), page, pages, bits);
                if (mapped.IsError)
                {
                    if (page > first) ProgramPages.UnmapAliased(first, page);
                    AliasRefusals++;
                    return false;
                }
                page += pages * Page;
            }
            ProgramPages.AdoptRange(first, last);
            AliasedPages += (last - first) / Page;
            return true;
        }

        /// <summary>Pages exec mapped from the archive, and the times the kernel refused (the pages were copied).</summary>
        public static ulong AliasedPages, AliasRefusals;

        /// <summary>Copies the segment's file bytes for [from, to) (clipped to them), mapping the
        /// archive's pages there first in a process that maps them on demand.</summary>
        private static void CopyFile(byte* data, ElfSegment segment, ulong address, ulong from, ulong to)
        {
            ulong fileEnd = address + segment.FileSize;
            if (from < address) from = address;
            if (to > fileEnd) to = fileEnd;
            if (from >= to) return;
            byte* source = data + segment.Offset + (from - address);
            OnDemandPages.Ensure((ulong)source, to - from);
            System.Buffer.MemoryCopy(source, (void*)from, (long)(to - from), (long)(to - from));
        }

        private static StackImage BuildStackImage(LoadRequest request, ElfProgram program, ulong loadBase, ulong interpreterBase)
        {
            var image = new StackImage { ExecutableName = request.Path };
            foreach (byte[] s in request.Arguments) image.Arguments.Add(s);
            foreach (byte[] s in request.Environment) image.Environment.Add(s);
            LinuxCpu.RandomBytes(image.Random, 16);
            image.Aux(AuxType.Phdr, program.HeaderTableAddress + loadBase);
            image.Aux(AuxType.Phent, (ulong)program.HeaderEntrySize);
            image.Aux(AuxType.Phnum, (ulong)program.HeaderCount);
            image.Aux(AuxType.Pagesz, Page);
            image.Aux(AuxType.Base, interpreterBase); // the dynamic linker's load address (0: none)
            image.Aux(AuxType.Flags, 0);
            image.Aux(AuxType.Entry, program.Entry + loadBase);
            image.Aux(AuxType.Uid, 0);
            image.Aux(AuxType.Euid, 0);
            image.Aux(AuxType.Gid, 0);
            image.Aux(AuxType.Egid, 0);
            image.Aux(AuxType.Secure, 0);
            image.Aux(AuxType.Random, 0);
            image.Aux(AuxType.Hwcap, LinuxCpu.Hwcap);
            image.Aux(AuxType.Hwcap2, LinuxCpu.HasFsGsBase ? 2UL : 0UL);
            image.Aux(AuxType.Clktck, 100);
            image.Aux(AuxType.Platform, 0);
            image.Aux(AuxType.Execfn, 0);
            return image;
        }

        public static byte[] Bytes(string s)
        {
            var bytes = new byte[s.Length];
            for (int i = 0; i < s.Length; i++) bytes[i] = (byte)s[i];
            return bytes;
        }

        public static string Utf8String(byte[] bytes)
        {
            fixed (byte* p = bytes)
                return new string((sbyte*)p, 0, bytes.Length);
        }
    }
}
