// An environment: the exokernel's unit of protection. It is an address space (its own page
// tables, the kernel half shared supervisor-only), a saved register state, an upcall entry
// and stack, and a table of capabilities. Nothing here is policy: what runs in it, and how it
// uses its memory and time, is its libOS's business.
// Invariants: Frame holds the user state whenever the environment is not running; FxState is
// 16-byte aligned and holds its SSE state under the same condition; every frame it owns is
// recorded in the FrameLedger under its Id.
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal enum BlockReason
    {
        None,
        /// <summary>In Wait: resumes (Wait returns 0) when an upcall is delivered.</summary>
        Waiting,
        /// <summary>In IpcCall: resumes when CallTarget replies (or dies).</summary>
        AwaitingReply,
    }

    internal sealed unsafe class Environment : IMappedFrames
    {
        public ulong Id;
        public ulong Sequence;
        public ulong ParentId;
        public string Name;
        public EnvironmentState State;
        public DestroyReason DestroyReason;
        public ulong ExitStatus;
        public BlockReason Blocked;

        public PageTableBuilder Tables;
        public ulong RootPhysical;
        public CapabilityTable Capabilities = new CapabilityTable();

        /// <summary>The user registers while the environment is not running (an InterruptFrame).</summary>
        public InterruptFrame* Frame;
        /// <summary>512-byte, 16-aligned fxsave area.</summary>
        public byte* FxState;
        private byte[] _storage;
        /// <summary>[0] FS base, [1] GS base: the program's, saved from the live registers at every
        /// switch-out and loaded at switch-in (Scheduler; ring 3 may change them itself with
        /// wrfsbase/wrgsbase when CR4.FSGSBASE is on). In the fixed storage, so the switch code
        /// passes one pointer.</summary>
        public ulong* UserBases;
        public ref ulong FsBase => ref UserBases[0];
        public ref ulong GsBase => ref UserBases[1];

        /// <summary>Changes whenever a user mapping or the upcall registration changes: the upcall
        /// path's checks are remembered for one generation.</summary>
        public ulong MappingGeneration;
        public ulong UpcallCheckedGeneration = ulong.MaxValue;
        public ulong UpcallCheckedFramePage;
        public ulong* UpcallCheckedFrameLeaf;
        public ulong UpcallEntry;
        public ulong UpcallStackTop;
        public int UpcallStackPages;

        /// <summary>Environment page (kernel-written, mapped read-only) and its frame.</summary>
        public ulong EnvironmentPageFrame;
        public EnvironmentPage* Page;

        // IPC: who is waiting for this environment's reply, and whom this one waits for.
        public ulong PendingCaller;
        /// <summary>Where the current IPC upcall's frame was written, when that upcall interrupted a
        /// Wait (0 otherwise): IpcReply's "and wait" form resumes that Wait from the frame.</summary>
        public ulong IpcWaitFrame;
        public ulong CallTarget;
        /// <summary>An IPC or revocation upcall was delivered while the environment was not blocked in
        /// Wait: its next Wait returns at once (and clears this), so no wakeup is lost.</summary>
        public bool WakeupPending;

        // Time: ticks left in the current slice; the SliceEnd warning state.
        public int SliceTicksLeft;
        public bool SliceEndDelivered;
        public int GraceTicksLeft;

        // What the kernel observed (for reports and the protection suite).
        public ulong UpcallsDelivered;
        public ulong LastFaultAddress;
        public ulong LastFaultVector;
        public ulong LastFaultErrorCode;
        public ulong RepossessedFrames;
        /// <summary>Exception upcalls per CPU vector (32 counters, in the environment's fixed storage:
        /// the exception path counts without a bounds check).</summary>
        public ulong* ExceptionUpcalls;
        /// <summary>RIP of the last exception taken in ring 3 (the protection suite checks where an
        /// environment resumed against it).</summary>
        public ulong LastFaultRip;
        public ulong IpcMessagesReceived;
        public ulong PagesReceived;
        /// <summary>IPC sends of a page refused because no grant could be made for it.</summary>
        public ulong PageSendsRefused;
        /// <summary>The first bytes of the last page received by IPC, as the kernel read them from the
        /// frame when it granted it (the protection suite checks what was transferred).</summary>
        public byte* ReceivedPageHead;
        public const int ReceivedPageHeadBytes = 64;
        /// <summary>[0] system calls made, [1] of which failed: counted by the syscall entry stub.
        /// [2] the system-call upcall's frame address (UpcallStackTop - UpcallFrame.Size; 0 = off) and
        /// [3] its entry: read by usermode.S's aegis_syscall_redirect through the per-CPU block
        /// (entry.h COUNTERS_*), kept by SystemCallUpcalls.</summary>
        public ulong* Counters;
        public const int CountersSystemCallUpcallFrame = 2, CountersSystemCallUpcallEntry = 3;
        /// <summary>The system-call upcall's entry (SetSystemCallUpcall), 0 when off.</summary>
        public ulong SystemCallUpcallEntry => Counters[CountersSystemCallUpcallEntry];
        /// <summary>System-call upcalls the slow path delivered (numbers at or above SystemCallNumbers.End)
        /// and that the kernel refused to deliver (the environment then ended).</summary>
        public ulong SystemCallUpcallsSlow;
        public ulong SystemCalls => Counters[0];
        public ulong SystemCallErrors => Counters[1];
        public ulong ForcedPreemptions;
        /// <summary>Revocation requests this environment paid in full, in time (FrameFree).</summary>
        public ulong PoliteRevocations;
        /// <summary>Ended, but its memory is still being returned a tick's share at a time
        /// (Environments.Reap): its table slot and page tables stay until then.</summary>
        public bool Reaping;
        /// <summary>The next user page (number) the reaper looks at.</summary>
        public ulong ReapCursor;
        /// <summary>User pages mapped (kept by UserPageTables; decides whether ending it is cut into ticks).</summary>
        public long MappedPages;
        /// <summary>Ranges its creator marked PageShareFlags.OnDemand (PageInherit maps from the creator
        /// there): start, end pairs; OnDemandCount pairs are in use. Made with the object: nothing allocates.</summary>
        public readonly ulong[] OnDemandRanges = new ulong[2 * Aegis.Abi.SystemCallLimits.MaximumOnDemandRanges];
        public int OnDemandCount;
        /// <summary>SystemCall.CopyOnWriteMark: the software bits that mark a page the kernel copies on
        /// a write fault (0: off, every fault is upcalled), and the bits a copy drops besides them.</summary>
        public ulong CopyOnWriteMark, CopyOnWriteDrop;
        /// <summary>Write faults the kernel resolved for it (CopyOnWriteMark): copied, and kept without a copy.</summary>
        public ulong CopyOnWriteCopies, CopyOnWriteKept;
        /// <summary>Bytes of this environment's ConsoleWrite calls the kernel accepted (its results' sum).</summary>
        public ulong ConsoleBytesAccepted;
        /// <summary>What may pass to the console from it (UTF-8 text; a character may span two calls).</summary>
        public Core.Utf8ConsoleFilter ConsoleFilter;
        /// <summary>The one-line report of how it ended (a fixed buffer: ending allocates nothing).</summary>
        public readonly Diagnostics.TextBuffer EndReportText = new Diagnostics.TextBuffer(256);
        /// <summary>The end report as a string, null when there is none (for the protection suite).</summary>
        public string EndReport => EndReportText.Length == 0 ? null : EndReportText.ToString();
        public const int OutputLimit = 4 * 1024;
        /// <summary>What it wrote to its console, up to OutputLimit (allocated once: recording never allocates).</summary>
        public System.Text.StringBuilder Output = new System.Text.StringBuilder(OutputLimit);

        /// <summary>The account it draws on (Accounts.cs) and the frames charged to it there.</summary>
        public Account Account;
        public ulong FramesCharged;
        /// <summary>Where its page tables come from (charged to it); set once when the object is made.</summary>
        public IPageTableMemory TableMemory;
        /// <summary>The one page-table builder this object ever has (over TableMemory): Create points
        /// it at a new root instead of allocating a builder.</summary>
        public PageTableBuilder TableBuilder;
        /// <summary>Set by the protection suite on the environments it judges: their records are not
        /// recycled while the suite may still read them.</summary>
        public bool KeepRecord;
        /// <summary>Frames it freed while a revocation request was open (counted by the kernel).</summary>
        public ulong FramesReleasedOnRequest;
        /// <summary>It mapped the display (DeviceMap): the kernel draws on VGA again when it ends (InputDevices).</summary>
        public bool DisplayMapped;
        /// <summary>Input upcalls delivered to it (InputWatch).</summary>
        public ulong InputUpcalls;
        /// <summary>Its block requests submitted and not yet collected (BlockDevices).</summary>
        public int BlockRequests;
        /// <summary>Its receive ring's index in NetworkDevices, or -1 (none attached).</summary>
        public int NetRing = -1;

        // Notifications (Exo/Notifications.cs, issue #9): NotifyControl's flags; IpcSend messages kept
        // for it while it was not in Wait (a ring of IpcLimits.PendingMessages records of
        // PendingWords words: sender, w0..w3, in the fixed storage); a child's end not yet reported;
        // the TSC deadline of the WaitUntil it is blocked in (0: none).
        public ulong NotifyFlags;
        public ulong* PendingMessages;
        public const int PendingWords = 5;
        public int PendingHead, PendingCount;
        /// <summary>Ends to report at the next Wait: EndsPendingChild (2, ChildEnded) and
        /// EndsPendingOther (3, OtherEnded) bits; one field, so a Wait tests both with one load.</summary>
        public byte EndsPending;
        public const byte EndsPendingChild = 1, EndsPendingOther = 2;
        public ulong WaitDeadline;
        /// <summary>Messages kept pending for it, delivered asynchronously, Waits ended by a deadline,
        /// by a child's end (for the protection suite).</summary>
        public ulong MessagesQueued, AsynchronousUpcalls, DeadlinesPassed, ChildEndWakes, OtherEndWakes;

        public Environment()
        {
            // One allocation holds the frame and the aligned fx area; nothing moves (the collector never moves objects).
            _storage = new byte[sizeof(InterruptFrame) + 512 + 32 + 32 * 8 + ReceivedPageHeadBytes + 16
                + IpcLimits.PendingMessages * PendingWords * 8 + 16];
            fixed (byte* storage = _storage)
            {
                ulong aligned = ((ulong)storage + 15) & ~15UL;
                FxState = (byte*)aligned;
                Frame = (InterruptFrame*)(aligned + 512);
                Counters = (ulong*)(aligned + 512 + (ulong)sizeof(InterruptFrame));
                ExceptionUpcalls = (ulong*)(aligned + 512 + (ulong)sizeof(InterruptFrame) + 32);
                ReceivedPageHead = (byte*)(aligned + 512 + (ulong)sizeof(InterruptFrame) + 32 + 32 * 8);
                UserBases = (ulong*)(aligned + 512 + (ulong)sizeof(InterruptFrame) + 32 + 32 * 8 + ReceivedPageHeadBytes);
                PendingMessages = UserBases + 2;
            }
        }

        /// <summary>Prepares a recycled object for a new environment: everything as after construction.</summary>
        public void Reset()
        {
            Id = 0; Sequence = 0; ParentId = 0; Name = null;
            State = EnvironmentState.Free; DestroyReason = DestroyReason.None; ExitStatus = 0; Blocked = BlockReason.None;
            Tables = null; RootPhysical = 0;
            Capabilities.Clear();
            byte* frame = (byte*)Frame;
            for (int i = 0; i < sizeof(InterruptFrame); i++) frame[i] = 0;
            Counters[0] = 0; Counters[1] = 0; Counters[2] = 0; Counters[3] = 0; SystemCallUpcallsSlow = 0;
            MappingGeneration = 0; UpcallCheckedGeneration = ulong.MaxValue; UpcallCheckedFramePage = 0; UpcallCheckedFrameLeaf = null;
            FsBase = 0; GsBase = 0; UpcallEntry = 0; UpcallStackTop = 0; UpcallStackPages = 0;
            EnvironmentPageFrame = 0; Page = null;
            PendingCaller = 0; CallTarget = 0; IpcWaitFrame = 0; WakeupPending = false;
            NotifyFlags = 0; PendingHead = 0; PendingCount = 0; EndsPending = 0; WaitDeadline = 0;
            MessagesQueued = 0; AsynchronousUpcalls = 0; DeadlinesPassed = 0; ChildEndWakes = 0; OtherEndWakes = 0;
            SliceTicksLeft = 0; SliceEndDelivered = false; GraceTicksLeft = 0;
            UpcallsDelivered = 0; LastFaultAddress = 0; LastFaultVector = 0; LastFaultErrorCode = 0; RepossessedFrames = 0;
            for (int i = 0; i < 32; i++) ExceptionUpcalls[i] = 0;
            LastFaultRip = 0;
            for (int i = 0; i < ReceivedPageHeadBytes; i++) ReceivedPageHead[i] = 0;
            IpcMessagesReceived = 0; PagesReceived = 0; PageSendsRefused = 0; ForcedPreemptions = 0; PoliteRevocations = 0; FramesReleasedOnRequest = 0;
            ConsoleBytesAccepted = 0; ConsoleFilter.Reset(); Reaping = false; ReapCursor = 0; MappedPages = 0; OnDemandCount = 0;
            CopyOnWriteMark = 0; CopyOnWriteDrop = 0; CopyOnWriteCopies = 0; CopyOnWriteKept = 0;
            EndReportText.Clear();
            Output.Clear();
            Account = null; FramesCharged = 0; KeepRecord = false;
            DisplayMapped = false; InputUpcalls = 0; BlockRequests = 0; NetRing = -1;
        }

        /// <summary>IMappedFrames for the mapping validator: the frame mapped at a user page.</summary>
        public bool TryGetMappedFrame(ulong virtualAddress, out ulong frame)
        {
            frame = 0;
            if (RootPhysical == 0) return false;
            ulong* leaf = PageWalk.UserLeaf(this, virtualAddress & ~4095UL, false);
            if (leaf == null) return false;
            frame = (*leaf & PageBits.FrameMask) >> PageBits.FrameShift;
            return true;
        }

        public bool IsAlive => State == EnvironmentState.Stopped || State == EnvironmentState.Runnable
            || State == EnvironmentState.Running || State == EnvironmentState.Blocked;

        public bool IsRunnable => State == EnvironmentState.Runnable || State == EnvironmentState.Running;

        public string Describe() => "environment " + Id.ToString("x") + " (" + (Name ?? "?") + ")";

        /// <summary>Describe() written into a buffer, without allocating.</summary>
        public void DescribeTo(Diagnostics.TextBuffer text)
        {
            text.Append("environment ");
            text.AppendHex(Id);
            text.Append(" (");
            text.Append(Name ?? "?");
            text.Append(")");
        }

        public void RecordOutput(char c)
        {
            if (Output.Length < OutputLimit)
                Output.Append(c);
        }
    }
}
