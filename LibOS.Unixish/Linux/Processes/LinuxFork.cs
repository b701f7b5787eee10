// fork, vfork and clone (process flags only) for the Linux personality: a copy-on-write child
// of the whole environment, made from inside the parent's system-call handler.
//
// What the child gets (ShareAll; JOS's fork and LibOS.Unixish's Process.Fork are the model; the
// kernel does the copying later, CopyOnWriteMark, with CopyOnWrite's handler as the fallback).
// The kernel walks our page tables and maps our frames into the child (PageShare, up to 512 pages
// a call; the authority is our own mapping, so a child hands on what it got from us without
// copying it first):
//   - the libOS's image, heap, initial stack and registered ranges (InheritedRegions):
//     copy-on-write (our writable pages become read-only with CopyOnWrite.KernelMark in both;
//     read-only pages, text and rodata, mapped as they are), except the ranges in OnDemandPages
//     (the embedded root archive, ~7,000 pages: PageShare OnDemand, the child maps them when it
//     touches them) and the heap's untouched blocks (RuntimeHost.UntouchedHeapRanges: not handed
//     on at all; the child's runtime forgets them and recommits fresh pages when it needs them);
//   - every page the program's areas have (the kernel walks each area of at most WalkLimitPages;
//     in a longer one, the runs of pages ProgramPages knows): private pages copy-on-write, a
//     private page that was read-only marked with CopyOnWrite.Bit alone (MarkReadOnly, so a later
//     mprotect can make the child's copy writable, while a write before that is refused);
//     MAP_SHARED pages mapped with our rights at the same frames;
//   - libOS ranges registered with ShareRange (the shared pipes' pages): writable, same frames;
//   - last, our upcall stack, copy-on-write: its top page holds the program's UpcallFrame and the
//     trampoline's FXSAVE area below it, which the child resumes (ChildStarted sets RAX = 0 and,
//     for clone with a stack, RSP in its own copy);
//   - copies of our console, input and display capabilities.
// The child starts at Native/linux_fork.S (linux_fork_child_entry), registers its upcall entry
// and the system-call upcall, runs ChildStarted here, then resumes the program.
//
// Order: everything the child reads of ours (the request, the heap's untouched ranges) is written
// before ShareAll; the kernel maps each page into the child and makes ours read-only in one call,
// and nothing in between writes what the child reads (ShareAll allocates nothing: the program's
// page list is collected beforehand; the upcall stack, the only memory it writes, goes last).
//
// clone: only CSIGNAL, CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID, CLONE_PARENT_SETTID, CLONE_VFORK
// and CLONE_VM together with CLONE_VFORK (vfork is a fork here: the parent does not wait for the
// child's exec). Thread flags are -ENOSYS with one log line (threads are issue #10).
using System.Collections.Generic;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aegis.Abi;
using Internal.Runtime;

namespace Aegis.LibOS.Unixish.Linux.Processes
{
    public static unsafe class LinuxFork
    {
        public const ulong CSIGNAL = 0xFF, CLONE_VM = 0x100, CLONE_FS = 0x200, CLONE_FILES = 0x400, CLONE_SIGHAND = 0x800,
            CLONE_PIDFD = 0x1000, CLONE_PTRACE = 0x2000, CLONE_VFORK = 0x4000, CLONE_PARENT = 0x8000, CLONE_THREAD = 0x10000,
            CLONE_NEWNS = 0x20000, CLONE_SYSVSEM = 0x40000, CLONE_SETTLS = 0x80000, CLONE_PARENT_SETTID = 0x100000,
            CLONE_CHILD_CLEARTID = 0x200000, CLONE_DETACHED = 0x400000, CLONE_UNTRACED = 0x800000, CLONE_CHILD_SETTID = 0x1000000;
        /// <summary>Flags a process (not thread) clone may carry.</summary>
        public const ulong ProcessFlags = CSIGNAL | CLONE_VFORK | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID
            | CLONE_DETACHED | CLONE_UNTRACED;

        private const ulong Page = UserAddresses.PageSize;

        /// <summary>What the child reads of its parent's decision (written before the memory is shared).</summary>
        private struct Request
        {
            public ulong Flags, ChildTid, Parent, Stack;
        }

        private static Request s_request;
        private static bool s_configured;
        private static List<ulong> s_programPages;
        private static List<bool> s_programShared;
        private static ulong[] s_deviceSlots;
        private static int s_deviceCount;

        private const int MaximumSharedRanges = 64;
        private static readonly ulong[] s_sharedStarts = new ulong[MaximumSharedRanges];
        private static readonly int[] s_sharedPages = new int[MaximumSharedRanges];
        private static int s_sharedCount;

        /// <summary>Makes children map [start, start + pages) writable at the same frames (not
        /// copy-on-write): libOS memory shared between processes (SharedPipe). False when full.</summary>
        public static bool ShareRange(ulong start, int pages)
        {
            if (s_sharedCount == MaximumSharedRanges) return false;
            s_sharedStarts[s_sharedCount] = start;
            s_sharedPages[s_sharedCount] = pages;
            s_sharedCount++;
            return true;
        }

        public static void UnshareRange(ulong start)
        {
            for (int i = 0; i < s_sharedCount; i++)
            {
                if (s_sharedStarts[i] != start) continue;
                s_sharedCount--;
                s_sharedStarts[i] = s_sharedStarts[s_sharedCount];
                s_sharedPages[i] = s_sharedPages[s_sharedCount];
                return;
            }
        }

        /// <summary>Flags a thread's clone may carry (pthread_create: VM, FS, FILES, SIGHAND, THREAD,
        /// SYSVSEM, SETTLS, PARENT_SETTID, CHILD_CLEARTID; CHILD_SETTID and DETACHED accepted).</summary>
        public const ulong ThreadFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM
            | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | CLONE_DETACHED;

        /// <summary>Forks done by this process (for /proc and tests).</summary>
        public static ulong Forks;
        /// <summary>Whether the clone flags describe a process (what fork can make).</summary>
        public static bool IsProcessClone(ulong flags)
        {
            if ((flags & ~ProcessFlags) == 0) return true;
            // vfork through clone (posix_spawn): CLONE_VM | CLONE_VFORK, with a stack.
            return (flags & ~(ProcessFlags | CLONE_VM)) == 0 && (flags & CLONE_VFORK) != 0;
        }

        public static long ForkCall(ref LinuxCall call) => Fork(ref call, 0, 0, 0, 0);

        /// <summary>clone(flags, stack, parent_tid, child_tid, tls) (x86-64 argument order).</summary>
        public static long CloneCall(ref LinuxCall call)
        {
            ulong flags = call.A0;
            if ((flags & CLONE_THREAD) != 0)
            {
                // A thread (LinuxThreads): Linux's rules, CLONE_THREAD needs CLONE_SIGHAND, which needs CLONE_VM.
                if ((flags & CLONE_SIGHAND) == 0 || (flags & CLONE_VM) == 0) return -Errno.EINVAL;
                if ((flags & ~ThreadFlags) != 0)
                {
                    LinuxLog.Line("clone of a thread with flags 0x" + (flags & ~ThreadFlags).ToString("x") + " is not supported: -EINVAL");
                    return -Errno.EINVAL;
                }
                return LinuxThreads.Create(call.Frame, flags, call.A1, call.A2, call.A3, call.A4);
            }
            if (!IsProcessClone(flags))
            {
                LinuxLog.Line("clone with flags 0x" + flags.ToString("x") + " (CLONE_VM without CLONE_THREAD or CLONE_VFORK, or namespaces) is not supported: -ENOSYS");
                return -Errno.ENOSYS;
            }
            if ((flags & CSIGNAL) != 0 && (flags & CSIGNAL) > 64) return -Errno.EINVAL;
            if ((flags & CLONE_PARENT_SETTID) != 0 && !UserPointers.IsAccessible(call.A2, 4, true)) return -Errno.EFAULT;
            return Fork(ref call, flags, call.A1, call.A2, call.A3);
        }

        /// <summary>clone3(args, size): struct clone_args (flags, pidfd, child_tid, parent_tid,
        /// exit_signal, stack, stack_size, tls, ...; at least the first 64 bytes), the same cases
        /// as clone, the stack given as its lowest address and size. CLONE_PIDFD, set_tid and cgroup
        /// are not offered (-EINVAL), nor any flag clone refuses.</summary>
        public static long Clone3Call(ref LinuxCall call)
        {
            const ulong MinimumSize = 64, KnownSize = 88;
            ulong size = call.A1;
            if (size < MinimumSize || size > 4096) return -Errno.EINVAL;
            ulong* args = stackalloc ulong[11];
            for (int i = 0; i < 11; i++) args[i] = 0;
            if (!UserPointers.CopyIn(args, call.A0, size < KnownSize ? size : KnownSize)) return -Errno.EFAULT;
            ulong flags = args[0], childTid = args[2], parentTid = args[3], exitSignal = args[4], stack = args[5], stackSize = args[6], tls = args[7];
            if ((flags & (CSIGNAL | CLONE_PIDFD)) != 0 || exitSignal > 64 || args[9] != 0 || args[10] != 0) return -Errno.EINVAL;
            if ((stack == 0) != (stackSize == 0) || stack > ulong.MaxValue - stackSize) return -Errno.EINVAL;
            ulong top = stack == 0 ? 0 : stack + stackSize;
            if ((flags & CLONE_THREAD) != 0)
            {
                if ((flags & CLONE_SIGHAND) == 0 || (flags & CLONE_VM) == 0) return -Errno.EINVAL;
                if ((flags & ~ThreadFlags) != 0) return -Errno.EINVAL;
                return LinuxThreads.Create(call.Frame, flags, top, parentTid, childTid, tls);
            }
            flags |= exitSignal;
            if (!IsProcessClone(flags)) return -Errno.EINVAL;
            if ((flags & CLONE_PARENT_SETTID) != 0 && !UserPointers.IsAccessible(parentTid, 4, true)) return -Errno.EFAULT;
            return Fork(ref call, flags, top, parentTid, childTid);
        }

        private static long Fork(ref LinuxCall call, ulong flags, ulong stack, ulong parentTid, ulong childTid)
        {
            ReportProblems();
            if (!Prepare())
            {
                LinuxLog.Line("fork failed: copy-on-write could not be set up");
                return -Errno.ENOMEM;
            }
            LinuxProcesses.ReapIgnoredChildren();
            if (LinuxProcesses.Children.IsFull) return -Errno.EAGAIN;
            SystemCallResult created = SystemCalls.EnvironmentCreate();
            if (created.IsError) return -Errno.EAGAIN; // Linux's answer for no process slot or quota
            ulong slot = created.Value;
            ulong pid = SystemCalls.CapabilityQuery(slot).Second;
            // Everything we write for this fork is written before our memory is shared (ShareAll is
            // the last step): a page written after it would be copied at once (copy-on-write).
            s_request.Flags = flags;
            s_request.ChildTid = childTid;
            s_request.Parent = Info.EnvironmentId;
            s_request.Stack = stack;
            CollectProgramPages();
            SharedPipe.BeforeFork(1);
            // The file server's descriptions: duplicated for the child before its memory is copied (helper vfs).
            int duplicated = Files.FileCalls.BeforeFork(pid);
            if (duplicated < 0)
            {
                SystemCalls.EnvironmentDestroy(slot);
                SharedPipe.BeforeFork(-1);
                LinuxLog.Line("fork failed: the file server did not duplicate the descriptors (errno " + (-duplicated).ToString() + ")");
                return -Errno.ENOMEM;
            }
            int entry = LinuxProcesses.Children.Add(pid, slot, LinuxProcesses.Group);
            Forks++;

            // The child's copy-on-write faults are the kernel's from its first instruction (its
            // upcall stack is ours, copy-on-write, and it writes there before it runs any C#).
            Error error = CopyOnWrite.AskKernel(slot);
            if (error == Error.None) error = GiveDevices(slot);
            if (error == Error.None)
            {
                CollectUntouchedHeap(); // last: from here to the end of ShareAll nothing allocates
                error = ShareAll(slot);
            }
            ulong frame = (ulong)call.Frame;
            if (error == Error.None) error = SystemCalls.EnvironmentStart(slot, LinuxForkNative.ChildEntry(), frame, frame);
            if (error != Error.None)
            {
                SystemCalls.EnvironmentDestroy(slot);
                if (entry >= 0) LinuxProcesses.Children.Remove(entry);
                Forks--;
                SharedPipe.BeforeFork(-1);
                Files.FileCalls.ForkFailed();
                LinuxLog.Line("fork failed: " + Errors.Name(error));
                return error == Error.QuotaExceeded || error == Error.NoMemory ? -Errno.ENOMEM : -Errno.EAGAIN;
            }
            if ((flags & CLONE_PARENT_SETTID) != 0)
            {
                int tid = (int)pid;
                UserPointers.CopyOut(parentTid, &tid, 4);
            }
            // The child runs first: it registers its upcall entry at once (IPC to it works from
            // then on), and a child that exits at once is a zombie before the parent waits.
            SystemCalls.Yield(pid);
            return (long)pid;
        }

        /// <summary>Once: the copy-on-write handler, the IPC server, the child entry's numbers,
        /// the capabilities a child gets.</summary>
        private static bool Prepare()
        {
            if (s_configured) return true;
            if (CopyOnWrite.Install() != Error.None) return false;
            LinuxProcesses.Initialize();
            LinuxForkNative.Configure((ulong)SystemCall.EnvironmentSetUpcall, KernelInterface.SetSystemCallUpcall, AddressSpace.UpcallStackTop);
            s_programPages = new List<ulong>();
            s_programShared = new List<bool>();
            // The embedded root archive (about 7,000 read-only pages) is mapped by children on demand.
            ulong rootfsStart = (ulong)Files.FilesNative.RootfsStart(), rootfsEnd = (ulong)Files.FilesNative.RootfsEnd();
            // Only whole pages: the archive's first and last pages may share a page with other
            // read-only data (e.g. linux_default_mxcsr, read by the upcall entry, which cannot take
            // a page fault), and those pages are shared at once with the rest of the image.
            ulong lazyFrom = (rootfsStart + Page - 1) & ~(Page - 1), lazyTo = rootfsEnd & ~(Page - 1);
            if (rootfsStart != 0 && lazyTo > lazyFrom) OnDemandPages.Add(lazyFrom, lazyTo);
            s_deviceSlots = new ulong[CapabilitySlots.Count];
            for (ulong slot = 1; slot < CapabilitySlots.Count; slot++)
            {
                SystemCallResult kind = SystemCalls.CapabilityQuery(slot);
                if (kind.IsError || kind.Value == (ulong)CapabilityKind.Environment || kind.Value == (ulong)CapabilityKind.None) continue;
                s_deviceSlots[s_deviceCount++] = slot;
            }
            s_configured = true;
            return true;
        }

        /// <summary>An area at most this long is handed on by the kernel's walk of our page tables
        /// over the whole area (unmapped pages cost it a few instructions each, a missing table
        /// nothing); a longer one (a runtime's reservation of gigabytes) by the runs of pages
        /// ProgramPages knows there, collected beforehand.</summary>
        private const ulong WalkLimitPages = 16384;

        private static bool Walked(in Area area) => area.Length / Page <= WalkLimitPages;

        private static void CollectProgramPages()
        {
            s_programPages.Clear();
            s_programShared.Clear();
            ProgramMemory memory = LinuxProcess.Memory;
            if (memory == null) return;
            for (int i = 0; i < memory.Count; i++)
            {
                Area area = memory[i];
                if (area.Kind == AreaKind.LibOS || Walked(area)) continue;
                int first = s_programPages.Count;
                ProgramPages.Collect(area.Start, area.End, s_programPages);
                for (int j = first; j < s_programPages.Count; j++) s_programShared.Add(area.Shared);
            }
        }

        /// <summary>Maps everything the child inherits into it (see the header): the kernel walks our
        /// page tables (PageShare), at most MaximumMapRequests pages a call.</summary>
        private static Error ShareAll(ulong slot)
        {
            Error error = Error.None;
            for (int region = 0; region < InheritedRegions.Count && error == Error.None; region++)
            {
                InheritedRegions.Get(region, out ulong start, out ulong pages);
                error = ShareRegion(slot, start, start + pages * Page);
            }
            // The program's areas: private pages copy-on-write, shared ones as they are.
            ProgramMemory memory = LinuxProcess.Memory;
            for (int a = 0; memory != null && a < memory.Count && error == Error.None; a++)
            {
                Area area = memory[a];
                if (area.Kind == AreaKind.LibOS || !Walked(area)) continue;
                error = Share(slot, area.Start, area.Length / Page,
                    area.Shared ? PageShareFlags.Share : PageShareFlags.CopyOnWrite | PageShareFlags.MarkReadOnly);
            }
            // The long areas' pages, in runs of consecutive pages of one area (the list is ascending).
            int i = 0;
            while (i < s_programPages.Count && error == Error.None)
            {
                ulong first = s_programPages[i];
                bool shared = s_programShared[i];
                int j = i + 1;
                while (j < s_programPages.Count && s_programShared[j] == shared && s_programPages[j] == first + (ulong)(j - i) * Page) j++;
                error = Share(slot, first, (ulong)(j - i),
                    shared ? PageShareFlags.Share : PageShareFlags.CopyOnWrite | PageShareFlags.MarkReadOnly);
                i = j;
            }
            for (int range = 0; range < s_sharedCount && error == Error.None; range++)
                error = Share(slot, s_sharedStarts[range], (ulong)s_sharedPages[range], PageShareFlags.Share);
            // Last, our upcall stack, copy-on-write (the kernel copies what either side writes): its
            // top page holds the program's UpcallFrame of this fork and the FXSAVE area below it,
            // which the child resumes (ChildStarted patches RAX and RSP in its own copy). Our next
            // push copies the page for us; nothing of ours is written in between.
            if (error == Error.None)
                error = Share(slot, AddressSpace.UpcallStackBottom, (ulong)AddressSpace.UpcallStackPages, PageShareFlags.CopyOnWrite);
            return error;
        }

        /// <summary>A libOS region: copy-on-write, except the parts children map on demand
        /// (OnDemandPages: marked for PageInherit) and the heap's untouched blocks (not handed on).</summary>
        private static Error ShareRegion(ulong slot, ulong start, ulong end)
        {
            ulong at = start;
            while (at < end)
            {
                // The nearest range at or after 'at' that is not copied: on demand, or untouched heap.
                ulong skipStart = end, skipEnd = end;
                bool onDemand = false;
                for (int k = 0; k < OnDemandPages.Count; k++)
                {
                    OnDemandPages.Get(k, out ulong s0, out ulong e0);
                    Nearer(s0, e0, at, end, ref skipStart, ref skipEnd, ref onDemand, true);
                }
                for (int k = 0; k < s_untouchedCount; k++)
                    Nearer(s_untouched[2 * k], s_untouched[2 * k + 1], at, end, ref skipStart, ref skipEnd, ref onDemand, false);
                Error error = Share(slot, at, (skipStart - at) / Page, PageShareFlags.CopyOnWrite);
                if (error != Error.None) return error;
                if (onDemand && skipStart < skipEnd)
                {
                    SystemCallResult marked = SystemCalls.PageShare(slot, skipStart, (skipEnd - skipStart) / Page, PageShareFlags.OnDemand, 0);
                    if (marked.IsError) return marked.Error;
                }
                at = skipEnd;
            }
            return Error.None;
        }

        /// <summary>Takes [s0, e0) clipped to [at, end) as the next skipped range when it starts first.</summary>
        private static void Nearer(ulong s0, ulong e0, ulong at, ulong end, ref ulong skipStart, ref ulong skipEnd, ref bool onDemand, bool isOnDemand)
        {
            if (e0 <= at || s0 >= end) return;
            ulong s1 = s0 < at ? at : s0;
            if (s1 >= skipStart) return;
            skipStart = s1;
            skipEnd = e0 < end ? e0 : end;
            onDemand = isOnDemand;
        }

        /// <summary>The heap's untouched blocks at this fork (RuntimeHost.UntouchedHeapRanges, read
        /// just before ShareAll: nothing allocates in between): not handed on; the child forgets them.</summary>
        private const int MaximumUntouched = 64;
        private static readonly ulong[] s_untouched = new ulong[2 * MaximumUntouched];
        private static int s_untouchedCount;

        private static void CollectUntouchedHeap()
        {
            fixed (ulong* pairs = s_untouched) s_untouchedCount = RuntimeHost.UntouchedHeapRanges(pairs, MaximumUntouched);
        }

        /// <summary>The child's half: the runtime takes the ranges as released, UserHeap's count follows.</summary>
        private static void ForgetUntouchedHeap()
        {
            fixed (ulong* pairs = s_untouched)
            {
                nuint forgotten = RuntimeHost.ForgetUntouchedHeapRanges(pairs, s_untouchedCount, out int mismatched);
                UserHeap.ForgetUnmapped(forgotten);
                if (mismatched != 0) s_untouchedMismatches += (ulong)mismatched;
            }
        }

        /// <summary>Blocks a child found not untouched where its parent said they were (always 0 unless fork is broken).
        /// Counted in the fork hook (which may not allocate), reported by ReportProblems.</summary>
        private static ulong s_untouchedMismatches;

        /// <summary>At a point that may allocate (this process's next fork, its exit): says once if
        /// its fork found heap blocks its parent called untouched that were not (a broken fork: the
        /// runtime kept them, so nothing was lost, but the parent's list was wrong).</summary>
        public static void ReportProblems()
        {
            if (s_untouchedMismatches == 0) return;
            LinuxLog.Line("fork: " + s_untouchedMismatches.ToString() + " heap block(s) the parent called untouched were not (kept; a fork bug)");
            s_untouchedMismatches = 0;
        }

        /// <summary>PageShare over [start, start + pages pages) in calls of at most MaximumMapRequests.</summary>
        private static Error Share(ulong slot, ulong start, ulong pages, ulong flags)
        {
            while (pages > 0)
            {
                ulong count = pages < (ulong)SystemCallLimits.MaximumMapRequests ? pages : (ulong)SystemCallLimits.MaximumMapRequests;
                // Writable pages: copy-on-write the kernel resolves (KernelMark); read-only ones
                // (MarkReadOnly) only Bit: a write there stays the libOS's to refuse.
                SystemCallResult shared = SystemCalls.PageShare(slot, start, count, flags, CopyOnWrite.KernelMark, CopyOnWrite.Bit);
                if (shared.IsError) return shared.Error;
                start += count * Page;
                pages -= count;
            }
            return Error.None;
        }

        /// <summary>Our console, input and display capabilities, copied to the child.</summary>
        private static Error GiveDevices(ulong slot)
        {
            for (int i = 0; i < s_deviceCount; i++)
            {
                SystemCallResult copied = SystemCalls.CapabilityCopy(s_deviceSlots[i], slot);
                if (copied.IsError && copied.Error != Error.NoCapability) return copied.Error;
            }
            return Error.None;
        }

        /// <summary>The child's first C#: on its upcall stack, its upcall entry registered, the
        /// program not yet resumed. Allocates nothing.</summary>
        [UnmanagedCallersOnly(EntryPoint = "linux_fork_child_started")]
        private static void ChildStarted(UpcallFrame* frame)
        {
            CopyOnWrite.AskKernel(); // the kernel's setting is per environment
            LinuxThreads.Reset(false); // the child is the forking thread alone (tid = its pid)
            OnDemandPages.FromAncestor = OnDemandPages.Count != 0;
            Forks = 0;
            ForgetUntouchedHeap(); // before anything here allocates
            IpcServer.ResetAfterFork();
            SharedPipe.AfterForkInChild();
            LinuxProcesses.OnForkChild(s_request.Parent);
            // The program returns 0 from fork, on the stack clone gave it if any.
            frame->Registers.Rax = 0;
            if (s_request.Stack != 0) frame->Registers.Rsp = s_request.Stack;
            ulong flags = s_request.Flags;
            if ((flags & CLONE_CHILD_SETTID) != 0)
            {
                int tid = (int)Info.EnvironmentId;
                UserPointers.CopyOut(s_request.ChildTid, &tid, 4);
            }
            if ((flags & CLONE_CHILD_CLEARTID) != 0)
                LinuxProcess.ClearChildTid = s_request.ChildTid;
        }
    }

    internal static unsafe class LinuxForkNative
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;

        [MethodImpl(Import), RuntimeImport("*", "linux_fork_configure")] public static extern void Configure(ulong setUpcallNumber, ulong systemCallUpcallNumber, ulong upcallStackTop);
        [MethodImpl(Import), RuntimeImport("*", "linux_symbol_fork_child_entry")] public static extern ulong ChildEntry();
    }
}
