// Creating, loading and destroying environments, and changing their address spaces.
// Mechanism only: the kernel checks who may use what (capabilities, the frame ledger,
// the mapping validator) and never decides how memory is laid out beyond the fixed ABI pages.
// Invariants:
//  - every frame an environment owns is in the FrameLedger under its id; page-table frames
//    and the environment page are the kernel's and are freed when the environment ends;
//  - a frame returns to the FrameAllocator exactly when it has no owner and no mapping;
//  - every change to user page tables goes through UserPageTables (the one writer);
//  - taking a frame back (FrameFree, the abort protocol) removes every mapping of it, in
//    every environment, and frees it;
//  - no environment is unreachable: destroying (or exiting) an environment destroys its
//    descendants too, so every live environment's parent is live or the kernel (0);
//  - destroying an environment leaves no trace of it in other environments (capabilities
//    naming it, grants to it, slices, IPC partners) and loses no frame: frames it owned that
//    others still map (shared pages sent by IPC) become ownerless and go back to the pool when
//    their last mapping goes.
// Work: FreeFrame is O(the frame's mappings); Destroy does everything but memory at once (a
// scan of the environment table per destroyed environment) and at most ReapUnitsPerTick units
// of teardown; the timer tick does the rest (Reap), and the table slot stays taken until then.
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class Environments
    {
        private const ulong PageSize = 4096;
        private static EnvironmentTable s_table;
        private static Environment[] s_environments;
        private static FrameLedger s_ledger;
        private static SliceVector s_slices;
        private static RevocationTracker s_revocations;
        private static ulong s_infoFrame;
        private static InfoPage* s_info;
        /// <summary>How environments ended, for EnvironmentStatus after the end (a ring: the oldest
        /// records are overwritten; a capability naming an overwritten one reads BadEnvironment).</summary>
        private struct EndedRecord
        {
            public ulong Id;
            public EnvironmentState State;
            public ulong Status;
        }
        private static EndedRecord[] s_ended;
        private static int s_endedNext;
        // Recycled environment objects (reused, not collected: the kernel may not collect on a system
        // call's path, and their storage's address is used by assembly),
        // and the work list of a destroyed tree, so that destroying environments allocates nothing.
        private static readonly List<Environment> s_pool = new List<Environment>(PoolSize);
        private static readonly ulong[] s_doomed = new ulong[EnvironmentTable.Capacity];
        private static bool s_destroyingTree;
        // Ended environments whose memory is still being returned (Reap), in the order they ended.
        private static readonly Environment[] s_reaping = new Environment[EnvironmentTable.Capacity];
        private static readonly Environment[] s_dying = new Environment[EnvironmentTable.Capacity]; // by table slot
        private static int s_reapingCount;

        /// <summary>Units of teardown work per tick: a mapping removed, a frame released (a page table
        /// looked through is UserPageTables.PageTableScanUnits).</summary>
        public const long ReapUnitsPerTick = 1024;

        /// <summary>Ended environments whose memory is not all back yet.</summary>
        public static int ReapingCount => s_reapingCount;

        /// <summary>The most teardown units spent in one go (one synchronous teardown, or one tick's
        /// Reap) since ResetTeardownCounter: what ending environments cost with interrupts off.</summary>
        public static long MaxTeardownUnits { get; private set; }

        public static void ResetTeardownCounter() => MaxTeardownUnits = 0;

        private static void CountTeardown(long spent)
        {
            if (spent > MaxTeardownUnits) MaxTeardownUnits = spent;
        }
        public const int AutomaticRecycleThreshold = 256;
        /// <summary>Environment objects made at start: every live one plus ended records kept for
        /// EnvironmentStatus and the protection suite. Creating an environment never allocates.</summary>
        public const int PoolSize = EnvironmentTable.Capacity + AutomaticRecycleThreshold;

        private static readonly List<Environment> s_history = new List<Environment>(PoolSize);
        private static ulong s_createdCount;

        /// <summary>Environments created since boot (each gets the next Sequence number).</summary>
        public static ulong CreatedCount => s_createdCount;

        public static FrameLedger Ledger => s_ledger;
        public static MappingValidator Validator => s_validator;
        private static MappingValidator s_validator;
        public static SliceVector Slices => s_slices;
        public static RevocationTracker Revocations => s_revocations;
        public static InfoPage* Info => s_info;
        public static int LiveCount => s_table.Count;

        public static void Initialize()
        {
            FrameAllocator frames = KernelMemory.Frames;
            s_table = new EnvironmentTable();
            s_environments = new Environment[1024];
            s_occupied = new int[s_environments.Length];
            s_occupiedAt = new int[s_environments.Length];
            for (int i = 0; i < s_occupiedAt.Length; i++) s_occupiedAt[i] = -1;
            s_occupiedCount = 0;
            s_ledger = new FrameLedger(frames.FrameLimit);
            s_slices = new SliceVector(64);
            s_validator = new MappingValidator(s_ledger);
            s_revocations = new RevocationTracker();
            s_ended = new EndedRecord[1024];
            for (int i = 0; i < PoolSize; i++)
            {
                Environment made = new Environment();
                made.TableMemory = new EnvironmentTablesMemory(made);
                made.TableBuilder = new PageTableBuilder(made.TableMemory, 0);
                s_pool.Add(made);
            }
            if (!frames.TryAllocate(out s_infoFrame))
                Diagnostics.Panic.Fail("no memory", "cannot allocate the information page");
            s_info = (InfoPage*)KernelMemory.PhysicalToVirtual(s_infoFrame * PageSize);
            ZeroFrame(s_infoFrame);
            s_info->Magic = InfoPage.InfoPageMagic;
            s_info->SliceCount = 64;
            s_info->TotalFrames = frames.TotalFrames;
            s_info->CpuFeatures = Cpu.FsGsBaseEnabled ? CpuFeatureBits.FsGsBase : 0;
            Cpu.SetCr3LoadCounter(&s_info->AddressSpaceLoads);
            UpdateInfoPage();
            Accounts.Initialize();
            Diagnostics.ReportBuffers.Initialize();
        }

        private static ulong s_sliceOwnersCopied = ulong.MaxValue;

        public static void UpdateInfoPage()
        {
            s_info->Ticks = Clock.Ticks;
            s_info->TimestampHz = Clock.TimestampHz;
            s_info->FreeFrames = KernelMemory.Frames.FreeFrames;
            s_info->CurrentSlice = (ulong)Scheduler.CurrentSlice;
            // The owners only when they changed (a copy of 64 words every tick cost more than the
            // rest of the tick).
            // FAST PATH (docs/kernel.md): the tick copies the slice owners only when they changed.
            if (s_slices.Changes != s_sliceOwnersCopied)
            {
                s_sliceOwnersCopied = s_slices.Changes;
                s_slices.CopyOwners(new Span<ulong>(s_info->SliceOwners, 64));
            }
        }

        /// <summary>The live environment with this id, or null.</summary>
        public static Environment Find(ulong id)
        {
            int index = s_table.IndexOf(id);
            return index < 0 ? null : s_environments[index]; // an environment being reaped is in s_dying
        }

        /// <summary>EnvironmentAlive: whether the id names a live environment (not ended, not being reaped).</summary>
        public static bool IsAliveId(ulong id)
        {
            Environment live = Find(id);
            return live != null && live.IsAlive;
        }

        /// <summary>The state of a live or ended environment (ended ones are remembered in a ring).
        /// False when the id is unknown or its record was overwritten.</summary>
        public static bool TryGetStatus(ulong id, out EnvironmentState state, out ulong status)
        {
            Environment live = Find(id);
            if (live != null && live.IsAlive)
            {
                state = live.State;
                status = 0;
                return true;
            }
            for (int i = 0; i < s_ended.Length; i++)
            {
                if (s_ended[i].Id == id && id != 0)
                {
                    state = s_ended[i].State;
                    status = s_ended[i].Status;
                    return true;
                }
            }
            state = EnvironmentState.Free;
            status = 0;
            return false;
        }

        /// <summary>Makes every ended environment's object available for reuse. The protection suite
        /// calls it between tests (it reads ended environments' records until then); otherwise it
        /// happens when AutomaticRecycleThreshold records have piled up.</summary>
        public static void RecycleEnded() => RecycleEnded(false);

        /// <summary>spareKept: leave the records the protection suite marked (KeepRecord) alone.</summary>
        private static void RecycleEnded(bool spareKept)
        {
            for (int i = 0; i < s_history.Count; i++)
            {
                Environment environment = s_history[i];
                if (!environment.IsAlive && environment.State != EnvironmentState.Free && !environment.Reaping && !(spareKept && environment.KeepRecord))
                {
                    environment.State = EnvironmentState.Free;
                    s_pool.Add(environment);
                }
            }
            int kept = 0;
            for (int i = 0; i < s_history.Count; i++)
                if (s_history[i].State != EnvironmentState.Free) s_history[kept++] = s_history[i];
            while (s_history.Count > kept) s_history.RemoveAt(s_history.Count - 1);
        }

        /// <summary>Set by the protection suite, which recycles explicitly between tests.</summary>
        public static bool ManualRecycling;

        /// <summary>The environment in a table slot: a live one, or an ended one whose memory is still
        /// being reaped (the reverse map and the kernel's cleanup reach those too).</summary>
        public static Environment At(int index) => s_environments[index] ?? s_dying[index];

        // The slots of s_environments that hold an environment, in no order (s_occupiedAt: a slot's
        // place in the list, -1 when empty): walks over every live environment (Destroy's search
        // for children, DestroyOne's callers) cost the live count, not the table's 1,024 slots.
        // Kept by SetSlot, the one writer of s_environments.
        // (Made in Initialize: a static initializer would cost this class's fast paths a check.)
        private static int[] s_occupied;
        private static int[] s_occupiedAt;
        private static int s_occupiedCount;

        private static void SetSlot(int index, Environment environment)
        {
            s_environments[index] = environment;
            int at = s_occupiedAt[index];
            if (environment != null && at < 0)
            {
                s_occupiedAt[index] = s_occupiedCount;
                s_occupied[s_occupiedCount++] = index;
            }
            else if (environment == null && at >= 0)
            {
                int last = s_occupied[--s_occupiedCount];
                s_occupied[at] = last;
                s_occupiedAt[last] = at;
                s_occupiedAt[index] = -1;
            }
        }
        public static int Capacity => s_environments.Length;

        /// <summary>A new, empty, stopped environment in 'account' (which pays for it): kernel half,
        /// info pages, no user memory. QuotaExceeded when the account has no environment or frame
        /// left for it, NoMemory when the table is full or only the kernel's reserve is left.
        /// Allocates nothing (the object comes from the pool); a failure leaves no trace.</summary>
        public static Error Create(ulong parentId, string name, Account account, out Environment environment)
        {
            environment = null;
            if (account == null) return Error.InvalidArgument;
            Error error = Accounts.CheckEnvironment(account);
            if (error != Error.None) return error;
            if (!ManualRecycling && s_history.Count >= AutomaticRecycleThreshold)
                RecycleEnded(false);
            if (s_pool.Count == 0)
                RecycleEnded(true);
            if (s_pool.Count == 0)
                return Error.NoMemory;
            if (!s_table.TryAllocate(parentId, out ulong id))
                return Error.NoMemory;
            Environment created = s_pool[s_pool.Count - 1];
            s_pool.RemoveAt(s_pool.Count - 1);
            created.Reset();
            created.Id = id;
            created.ParentId = parentId;
            created.Name = name;
            created.State = EnvironmentState.Stopped;
            Accounts.Join(created, account);
            // Its root table, the tables under the two info pages (and the PCI table) and the environment page.
            error = Accounts.CheckFrames(created, 5);
            if (error != Error.None || !created.TableBuilder.TryStartOver())
                return Abandon(created, error == Error.None ? Error.NoMemory : error);
            created.Tables = created.TableBuilder;
            created.RootPhysical = created.Tables.RootPhysical;
            // The kernel half: the same PML4 entries as the kernel's own (supervisor-only).
            ulong* kernelRoot = (ulong*)KernelMemory.PhysicalToVirtual(KernelMemory.RootTablePhysical);
            ulong* root = (ulong*)KernelMemory.PhysicalToVirtual(created.RootPhysical);
            for (int i = 256; i < 512; i++)
                root[i] = kernelRoot[i];

            error = Accounts.TakeFrame(created, out created.EnvironmentPageFrame);
            if (error != Error.None)
                return Abandon(created, error);
            ZeroFrame(created.EnvironmentPageFrame);
            created.Page = (EnvironmentPage*)KernelMemory.PhysicalToVirtual(created.EnvironmentPageFrame * PageSize);
            created.Page->Id = id;
            created.Page->ParentId = parentId;
            PageFlags readOnly = PageFlags.Present | PageFlags.User | PageFlags.NoExecute;
            if (created.Tables.Map(UserAddresses.InfoPage, s_infoFrame * PageSize, readOnly) != MapResult.Ok
                || created.Tables.Map(UserAddresses.EnvironmentPage, created.EnvironmentPageFrame * PageSize, readOnly) != MapResult.Ok
                || !MapPciTable(created, readOnly))
                return Abandon(created, Error.NoMemory);
            // Registers: ring 3 selectors, interrupts on.
            created.Frame->Cs = GlobalDescriptorTable.UserCode | 3;
            created.Frame->Ss = GlobalDescriptorTable.UserData | 3;
            created.Frame->Rflags = 0x202;
            InitializeFxState(created);
            SetSlot(s_table.IndexOf(id), created);
            created.Sequence = s_createdCount++;
            s_history.Add(created);
            environment = created;
            return Error.None;
        }

        /// <summary>The PCI table's pages (PciDevices), read-only at UserAddresses.PciTable: they share
        /// the leaf table of the two information pages, so mapping them takes no frame. Their leaves
        /// are the information page's with another frame, written in place (through the table
        /// builder each cost every fork ~570 instructions); the builder maps them if that table
        /// is somehow not there.</summary>
        private static bool MapPciTable(Environment created, PageFlags readOnly)
        {
            ulong* info = PageWalk.LeafSlot(created.RootPhysical, UserAddresses.InfoPage);
            ulong* first = PageWalk.LeafSlot(created.RootPhysical, UserAddresses.PciTable);
            bool sameTable = info != null && first != null
                && (UserAddresses.InfoPage >> 21) == ((UserAddresses.PciTable + (ulong)(PciLimits.TablePages - 1) * PageSize) >> 21);
            for (int page = 0; page < PciLimits.TablePages; page++)
            {
                ulong address = UserAddresses.PciTable + (ulong)page * PageSize, frame = PciDevices.Frame(page);
                if (sameTable && first[page] == 0)
                    first[page] = (*info & ~PageBits.FrameMask) | frame * PageSize;
                else if (created.Tables.Map(address, frame * PageSize, readOnly) != MapResult.Ok)
                    return false;
            }
            return true;
        }

        /// <summary>Undoes a Create that failed half-way: frames back, account left, id and object returned.</summary>
        private static Error Abandon(Environment created, Error error)
        {
            created.Page = null;
            if (created.EnvironmentPageFrame != 0)
                KernelMemory.Frames.Free(created.EnvironmentPageFrame);
            created.EnvironmentPageFrame = 0;
            FreeAddressSpace(created);
            Accounts.Leave(created);
            s_table.Free(created.Id);
            created.State = EnvironmentState.Free;
            s_pool.Add(created);
            return error;
        }

        /// <summary>Makes a stopped environment runnable and gives it a time slice.</summary>
        public static Error Start(Environment environment)
        {
            if (environment.State != EnvironmentState.Stopped)
                return Error.BadEnvironment;
            Error error = Accounts.CheckSlice(environment);
            if (error != Error.None)
                return error;
            error = s_slices.Allocate(environment.Id, SystemCallLimits.AnySlice, out _);
            if (error != Error.None)
                return error;
            environment.State = EnvironmentState.Runnable;
            return Error.None;
        }

        // Observations over the environments created since a sequence number (the protection suite).
        public static string AllOutputSince(ulong sequence)
        {
            System.Text.StringBuilder all = new System.Text.StringBuilder();
            for (int i = 0; i < s_history.Count; i++)
                if (s_history[i].Sequence >= sequence) all.Append(s_history[i].Output.ToString());
            return all.ToString();
        }

        public static int EndedAbnormallySince(ulong sequence)
        {
            int count = 0;
            for (int i = 0; i < s_history.Count; i++)
            {
                Environment environment = s_history[i];
                if (environment.Sequence < sequence) continue;
                if (environment.State == EnvironmentState.Destroyed || (environment.State == EnvironmentState.Exited && environment.ExitStatus != 0))
                    count++;
            }
            return count;
        }

        public static ulong IpcReceivedSince(ulong sequence)
        {
            ulong total = 0;
            for (int i = 0; i < s_history.Count; i++)
                if (s_history[i].Sequence >= sequence) total += s_history[i].IpcMessagesReceived;
            return total;
        }

        public static ulong PagesReceivedSince(ulong sequence)
        {
            ulong total = 0;
            for (int i = 0; i < s_history.Count; i++)
                if (s_history[i].Sequence >= sequence) total += s_history[i].PagesReceived;
            return total;
        }

        /// <summary>True when an environment created since 'sequence' received by IPC a page whose
        /// first bytes (read by the kernel at the transfer) are 'text' (ASCII).</summary>
        public static bool ReceivedPageStartingWith(ulong sequence, string text)
        {
            for (int i = 0; i < s_history.Count; i++)
            {
                Environment environment = s_history[i];
                if (environment.Sequence < sequence || environment.PagesReceived == 0) continue;
                bool same = text.Length <= Environment.ReceivedPageHeadBytes;
                for (int j = 0; same && j < text.Length; j++)
                    same = environment.ReceivedPageHead[j] == (byte)text[j];
                if (same) return true;
            }
            return false;
        }

        /// <summary>An environment created since 'sequence' that is stopped, or null.</summary>
        /// <summary>The first environment created at or after 'sequence' that stopped itself
        /// (EnvironmentStop): stopped after it ran and made a system call. An environment that was
        /// created but not yet started (a parent still filling it in, as fork does) is also
        /// Stopped, but has made no call and is skipped.</summary>
        public static Environment FirstStoppedSince(ulong sequence)
        {
            for (int i = 0; i < s_history.Count; i++)
                if (s_history[i].Sequence >= sequence && s_history[i].State == EnvironmentState.Stopped && s_history[i].SystemCalls != 0) return s_history[i];
            return null;
        }

        private static void InitializeFxState(Environment environment)
        {
            // A clean SSE state: the default MXCSR (all exceptions masked) and x87 control word.
            for (int i = 0; i < 512; i++) environment.FxState[i] = 0;
            *(ushort*)(environment.FxState + 0) = 0x037F;
            *(uint*)(environment.FxState + 24) = 0x1F80;
        }

        /// <summary>Allocates a zeroed frame owned by the environment (a named one, or any).</summary>
        public static Error AllocateFrame(Environment environment, ulong requested, out ulong frame)
        {
            frame = 0;
            FrameAllocator frames = KernelMemory.Frames;
            Error allowed = Accounts.CheckFrames(environment, 1);
            if (allowed != Error.None)
                return allowed;
            if (requested == SystemCallLimits.AnyFrame)
            {
                if (!frames.TryAllocate(out frame))
                    return Error.NoMemory;
            }
            else
            {
                if (requested >= frames.FrameLimit || !frames.IsUsable(requested))
                    return Error.InvalidArgument;
                if (!frames.TryAllocateSpecific(requested))
                    return Error.Busy;
                frame = requested;
            }
            ZeroFrame(frame);
            s_ledger.Assign(frame, environment.Id);
            Accounts.Charge(environment, 1);
            environment.Page->FramesOwned = s_ledger.CountOwnedBy(environment.Id);
            return Error.None;
        }

        /// <summary>A user frame nobody owns or maps any more goes back to the pool — unless a block
        /// request has it pinned: then it goes when the request ends (FramePins.DeferFree), so
        /// no device writes a frame someone else was given.</summary>
        public static void ReturnFrame(ulong frame)
        {
            if (!FramePins.DeferFree(frame))
                KernelMemory.Frames.Free(frame);
        }

        /// <summary>The owner gives a frame back (or the abort protocol takes it): every mapping of it
        /// goes, in every environment (children and grantees included), and it returns to the free
        /// pool. O(the frame's mappings).</summary>
        public static Error FreeFrame(Environment environment, ulong frame, bool countsTowardRevocation = true)
        {
            if (frame >= KernelMemory.Frames.FrameLimit)
                return Error.InvalidArgument;
            if (s_ledger.OwnerOf(frame) != environment.Id)
                return Error.NotOwner;
            UserPageTables.UnmapEverywhere(frame);
            if (s_ledger.ReleaseOwnership(frame))
                ReturnFrame(frame);
            Accounts.Uncharge(environment, 1);
            environment.Page->FramesOwned = s_ledger.CountOwnedBy(environment.Id);
            if (countsTowardRevocation)
            {
                // The kernel's own count of polite releases (the protection suite's revoke-polite
                // judges from it): a frame freed while a request is open, and requests paid in time.
                RevocationState state = s_revocations.OnFrameFreed(environment.Id);
                if (state == RevocationState.Requested || state == RevocationState.Satisfied)
                    environment.FramesReleasedOnRequest++;
                if (state == RevocationState.Satisfied)
                    environment.PoliteRevocations++;
            }
            return Error.None;
        }

        /// <summary>Installs (or replaces) a user mapping. The caller has validated the request.</summary>
        public static Error Map(Environment target, ulong virtualAddress, ulong frame, PageFlags flags)
            => UserPageTables.Map(target, virtualAddress, frame, flags);

        public static Error Unmap(Environment target, ulong virtualAddress) => UserPageTables.Unmap(target, virtualAddress);

        public static Error Protect(Environment target, ulong virtualAddress, PageFlags flags)
            => UserPageTables.Protect(target, virtualAddress, flags);

        private static ulong* Table(ulong physical) => (ulong*)KernelMemory.PhysicalToVirtual(physical);

        /// <summary>Destroy with a report the caller wrote into a buffer (no string is built).</summary>
        public static void DestroyReporting(Environment environment, EnvironmentState endState, DestroyReason reason, ulong status, Diagnostics.TextBuffer report)
        {
            if (!environment.IsAlive)
                return;
            Diagnostics.TextBuffer text = environment.EndReportText;
            text.Clear();
            environment.DescribeTo(text);
            text.Append(' ');
            text.Append(report);
            KernelLog.Write("aegis: ");
            text.WriteToLog();
            KernelLog.Write('\n');
            Destroy(environment, endState, reason, status, null);
        }

        /// <summary>Ends an environment and all its descendants (children, their children, ...):
        /// every mapping, frame, capability, grant, slice and IPC link goes. Safe to call on the
        /// running environment, or on an ancestor of it (the caller then returns to the loop:
        /// check IsAlive). Iterative: the tree's depth does not use kernel stack.</summary>
        public static void Destroy(Environment environment, EnvironmentState endState, DestroyReason reason, ulong status, string report, Environment holder = null)
        {
            if (!environment.IsAlive)
            {
                // Ended and still being reaped: the kernel itself (no environment running) waits for it.
                if (environment.Reaping && Scheduler.Current == null)
                    ReapNow(environment);
                return;
            }
            DestroyOne(environment, endState, reason, status, report, holder);
            if (s_destroyingTree)
                return; // an outer Destroy is walking a tree and will find this one's children
            s_destroyingTree = true;
            int pending = 0;
            s_doomed[pending++] = environment.Id;
            while (pending > 0)
            {
                ulong parent = s_doomed[--pending];
                // Backwards: DestroyOne may take the current slot off the list (the last one moves in).
                for (int k = s_occupiedCount - 1; k >= 0; k--)
                {
                    Environment child = s_environments[s_occupied[k]];
                    if (child == null || child.ParentId != parent || !child.IsAlive) continue;
                    DestroyOne(child, EnvironmentState.Destroyed, DestroyReason.AncestorEnded, 0, null, null, descendant: true);
                    s_doomed[pending++] = child.Id; // at most one entry per environment: fits
                }
            }
            s_destroyingTree = false;
        }

        private static void DestroyOne(Environment environment, EnvironmentState endState, DestroyReason reason, ulong status, string report,
            Environment holder, bool descendant = false)
        {
            if (!environment.IsAlive)
                return;
            environment.State = endState;
            environment.DestroyReason = reason;
            environment.ExitStatus = status;
            SystemCallUpcalls.Turn(environment, 0); // its system-call upcalls end with it
            if (report != null)
                RecordEndReport(environment, report, holder, log: reason != DestroyReason.ByCapability);

            s_ledger.DropGrantsTo(environment.Id);
            s_slices.ReleaseAll(environment.Id);
            s_revocations.Forget(environment.Id);
            for (int k = 0; k < s_occupiedCount; k++)
            {
                Environment other = s_environments[s_occupied[k]];
                if (other == null || other == environment) continue;
                if (other.CallTarget == environment.Id && other.Blocked == BlockReason.AwaitingReply)
                    Scheduler.FailCall(other, Error.BadEnvironment);
                if (other.PendingCaller == environment.Id)
                    other.PendingCaller = 0;
                if ((other.NotifyFlags & NotifyFlags.OthersEnded) != 0 && other.IsAlive)
                    Notifications.OnOtherEnded(other); // a server that holds things for clients it did not create
            }
            if (environment.PendingCaller != 0)
            {
                Environment caller = Find(environment.PendingCaller);
                if (caller != null && caller.Blocked == BlockReason.AwaitingReply)
                    Scheduler.FailCall(caller, Error.BadEnvironment);
                environment.PendingCaller = 0;
            }

            s_ended[s_endedNext].Id = environment.Id;
            s_ended[s_endedNext].State = endState;
            s_ended[s_endedNext].Status = endState == EnvironmentState.Exited ? status : (ulong)reason;
            s_endedNext = (s_endedNext + 1) % s_ended.Length;
            s_info->RecentEnds[(int)(s_info->EnvironmentEnds % InfoPage.RecentEndsKept)] = environment.Id; // before the count
            s_info->EnvironmentEnds++; // servers compare it with their last reading
            // What it was charged returns to its account now (its memory is on its way back; the
            // kernel's reserve, not the account, covers the frames still being reaped).
            Accounts.Leave(environment);
            Scheduler.OnEnvironmentEnded(environment);
            InputDevices.OnEnvironmentEnded(environment); // its device watches; the screen back to the kernel
            BlockDevices.OnEnvironmentEnded(environment); // its kept completions and queued requests (issue #11)
            NetworkDevices.OnEnvironmentEnded(environment); // its filters and its receive ring (issue #12)
            if (!descendant) Notifications.OnChildEnded(environment); // its creator's Wait (NotifyFlags.ChildEnded)

            // Memory: its mappings and frames go back: from the kernel itself, all now; on an
            // environment's behalf, one tick's share now and the rest a tick's share at a time
            // (Reap), so that ending a large environment never keeps interrupts off for long (a
            // descendant ended with it gets no share now: the ticks do all of it). Until then its
            // table slot (and so its id) stays taken; Find no longer returns it.
            environment.ReapCursor = 0;
            long budget = Scheduler.Current == null ? long.MaxValue : descendant ? 0 : ReapUnitsPerTick;
            long share = budget;
            bool done = TearDown(environment, ref budget);
            if (Scheduler.Current != null) CountTeardown(share - budget); // the kernel's own cleanup is not an environment's doing
            if (done)
            {
                Release(environment);
                return;
            }
            environment.Reaping = true;
            int slot = s_table.IndexOf(environment.Id);
            SetSlot(slot, null); // Find no longer returns it
            s_dying[slot] = environment;
            s_reaping[s_reapingCount++] = environment; // at most one entry per table slot: fits
        }

        /// <summary>Part of an ended environment's teardown: unmap (frames shared with others stay
        /// theirs), then release the frames it owned (those others still map become ownerless).
        /// True when done; 'budget' is spent.</summary>
        private static bool TearDown(Environment environment, ref long budget)
        {
            if (!UserPageTables.UnmapSome(environment, ref environment.ReapCursor, ref budget))
                return false;
            ulong limit = s_ledger.FrameLimit;
            while (budget > 0)
            {
                ulong frame = s_ledger.LastOwnedBy(environment.Id);
                if (frame >= limit)
                    return true;
                if (s_ledger.ReleaseOwnership(frame))
                    ReturnFrame(frame);
                budget--;
            }
            return s_ledger.CountOwnedBy(environment.Id) == 0;
        }

        /// <summary>The last of an ended environment: its page tables, environment page and table slot.</summary>
        private static void Release(Environment environment)
        {
            environment.Reaping = false;
            environment.Page = null;
            ulong pageFrame = environment.EnvironmentPageFrame;
            environment.EnvironmentPageFrame = 0;
            FreeAddressSpace(environment);
            if (pageFrame != 0)
                KernelMemory.Frames.Free(pageFrame);
            int index = s_table.IndexOf(environment.Id);
            SetSlot(index, null);
            s_dying[index] = null;
            s_table.Free(environment.Id);
        }

        /// <summary>Every timer tick while ended environments are being reaped (from ring 3 or the idle
        /// loop, never in the middle of other kernel code): ReapUnitsPerTick units of their teardown,
        /// oldest first.</summary>
        public static void Reap()
        {
            long budget = ReapUnitsPerTick;
            while (s_reapingCount > 0 && budget > 0)
            {
                Environment environment = s_reaping[0];
                if (!TearDown(environment, ref budget))
                    break;
                FinishReaping(environment);
            }
            CountTeardown(ReapUnitsPerTick - budget);
        }

        private static void ReapNow(Environment environment)
        {
            long unlimited = long.MaxValue;
            TearDown(environment, ref unlimited);
            FinishReaping(environment);
        }

        private static void FinishReaping(Environment environment)
        {
            int at = 0;
            while (at < s_reapingCount && s_reaping[at] != environment) at++;
            for (int i = at; i + 1 < s_reapingCount; i++) s_reaping[i] = s_reaping[i + 1];
            if (at < s_reapingCount) s_reaping[--s_reapingCount] = null;
            Release(environment);
        }

        /// <summary>"environment ID (NAME) REPORT[, environment ID (NAME)]" into the environment's
        /// fixed report buffer and the kernel log: ending an environment allocates nothing.</summary>
        private static void RecordEndReport(Environment environment, string report, Environment holder, bool log)
        {
            Diagnostics.TextBuffer text = environment.EndReportText;
            text.Clear();
            environment.DescribeTo(text);
            text.Append(' ');
            text.Append(report);
            if (holder != null)
            {
                text.Append(", ");
                holder.DescribeTo(text);
            }
            if (!log) return; // an ordinary end (a child destroyed by its holder): recorded, not printed
            KernelLog.Write("aegis: ");
            text.WriteToLog();
            KernelLog.Write('\n');
        }

        /// <summary>Frees the user-half page tables and the PML4 (the kernel half is shared, not freed).</summary>
        private static void FreeAddressSpace(Environment environment)
        {
            if (environment.RootPhysical == 0) return;
            if (Cpu.ReadCr3() == environment.RootPhysical)
                Cpu.WriteCr3(KernelMemory.RootTablePhysical);
            ulong* pml4 = Table(environment.RootPhysical);
            for (int i4 = 0; i4 < 256; i4++)
            {
                if ((pml4[i4] & 1) == 0) continue;
                ulong pdptPhysical = pml4[i4] & PageBits.FrameMask;
                ulong* pdpt = Table(pdptPhysical);
                for (int i3 = UserPageTables.NextPresent(pdpt, 0); i3 < 512; i3 = UserPageTables.NextPresent(pdpt, i3 + 1))
                {
                    ulong upper = pdpt[i3];
                    if ((upper & 0x80) != 0) continue;
                    ulong pdPhysical = upper & PageBits.FrameMask;
                    ulong* pd = Table(pdPhysical);
                    for (int i2 = UserPageTables.NextPresent(pd, 0); i2 < 512; i2 = UserPageTables.NextPresent(pd, i2 + 1))
                    {
                        ulong middle = pd[i2];
                        if ((middle & 0x80) != 0) continue;
                        KernelMemory.Frames.Free((middle & PageBits.FrameMask) / PageSize);
                    }
                    KernelMemory.Frames.Free(pdPhysical / PageSize);
                }
                KernelMemory.Frames.Free(pdptPhysical / PageSize);
            }
            KernelMemory.Frames.Free(environment.RootPhysical / PageSize);
            environment.RootPhysical = 0;
        }

        private static void ZeroFrame(ulong frame)
        {
            Cpu.ZeroPage((void*)KernelMemory.PhysicalToVirtual(frame * PageSize));
        }

        /// <summary>Page-table frames for one environment: charged to it (its account, the kernel's
        /// reserve untouched), returned when it ends.</summary>
        private sealed class EnvironmentTablesMemory : IPageTableMemory
        {
            private readonly Environment _owner;

            public EnvironmentTablesMemory(Environment owner) { _owner = owner; }

            public ulong AllocateTable()
            {
                if (Accounts.TakeFrame(_owner, out ulong frame) != Error.None)
                    return 0;
                ZeroFrame(frame);
                return frame * PageSize;
            }

            public ulong ReadEntry(ulong tablePhysical, int index) => Table(tablePhysical)[index];

            public void WriteEntry(ulong tablePhysical, int index, ulong entry) => Table(tablePhysical)[index] = entry;
        }
    }
}
