// Creating, loading and destroying environments, and changing their address spaces.
// Mechanism only: the kernel checks who may use what (capabilities, the frame ledger,
// the mapping validator) and never decides how memory is laid out beyond the fixed ABI pages.
// Invariants:
//  - every frame an environment owns is in the FrameLedger under its id; page-table frames
//    and the environment page are the kernel's and are freed when the environment ends;
//  - a frame returns to the FrameAllocator exactly when it has no owner and no mapping;
//  - destroying an environment leaves no trace of it in other environments (capabilities
//    naming it, grants to it, slices, IPC partners) and loses no frame.
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
        // Recycled environment objects (there is no garbage collector: objects are reused, not freed),
        // and scratch lists so that destroying an environment allocates nothing.
        private static readonly List<Environment> s_pool = new List<Environment>();
        private static readonly List<ulong> s_scratchAddresses = new List<ulong>();
        private static readonly List<ulong> s_scratchFrameAddresses = new List<ulong>();
        public const int AutomaticRecycleThreshold = 256;
        private static EnvironmentTablesMemory s_tableMemory;

        private static readonly List<Environment> s_history = new List<Environment>();
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
            s_ledger = new FrameLedger(frames.FrameLimit);
            s_slices = new SliceVector(64);
            s_validator = new MappingValidator(s_ledger);
            s_revocations = new RevocationTracker();
            s_ended = new EndedRecord[1024];
            s_tableMemory = new EnvironmentTablesMemory();
            if (!frames.TryAllocate(out s_infoFrame))
                Diagnostics.Panic.Fail("no memory", "cannot allocate the information page");
            s_info = (InfoPage*)KernelMemory.PhysicalToVirtual(s_infoFrame * PageSize);
            ZeroFrame(s_infoFrame);
            s_info->Magic = InfoPage.InfoPageMagic;
            s_info->SliceCount = 64;
            s_info->TotalFrames = frames.TotalFrames;
            UpdateInfoPage();
        }

        public static void UpdateInfoPage()
        {
            s_info->Ticks = Clock.Ticks;
            s_info->TimestampHz = Clock.TimestampHz;
            s_info->FreeFrames = KernelMemory.Frames.FreeFrames;
            s_info->CurrentSlice = (ulong)Scheduler.CurrentSlice;
            s_slices.CopyOwners(new Span<ulong>(s_info->SliceOwners, 64));
        }

        /// <summary>The live environment with this id, or null.</summary>
        public static Environment Find(ulong id)
        {
            int index = s_table.IndexOf(id);
            return index < 0 ? null : s_environments[index];
        }

        /// <summary>The state of a live or ended environment (ended ones are remembered in a ring).
        /// False when the id is unknown or its record was overwritten.</summary>
        public static bool TryGetStatus(ulong id, out EnvironmentState state, out ulong status)
        {
            Environment live = Find(id);
            if (live != null)
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
        public static void RecycleEnded()
        {
            for (int i = 0; i < s_history.Count; i++)
            {
                Environment environment = s_history[i];
                if (!environment.IsAlive && environment.State != EnvironmentState.Free)
                {
                    environment.State = EnvironmentState.Free;
                    s_pool.Add(environment);
                }
            }
            int kept = 0;
            for (int i = 0; i < s_history.Count; i++)
                if (s_history[i].IsAlive) s_history[kept++] = s_history[i];
            while (s_history.Count > kept) s_history.RemoveAt(s_history.Count - 1);
        }

        /// <summary>Set by the protection suite, which recycles explicitly between tests.</summary>
        public static bool ManualRecycling;

        public static Environment At(int index) => s_environments[index];
        public static int Capacity => s_environments.Length;

        /// <summary>A new, empty, stopped environment: kernel half, info pages, no user memory.</summary>
        public static Error Create(ulong parentId, string name, out Environment environment)
        {
            environment = null;
            if (!s_table.TryAllocate(parentId, out ulong id))
                return Error.NoMemory;
            if (!ManualRecycling && s_history.Count >= AutomaticRecycleThreshold)
                RecycleEnded();
            Environment created;
            if (s_pool.Count > 0)
            {
                created = s_pool[s_pool.Count - 1];
                s_pool.RemoveAt(s_pool.Count - 1);
                created.Reset();
            }
            else
                created = new Environment();
            created.Id = id;
            created.ParentId = parentId;
            created.Name = name;
            created.State = EnvironmentState.Stopped;
            if (!PageTableBuilder.TryCreate(s_tableMemory, out created.Tables))
                return Abandon(created, id);
            created.RootPhysical = created.Tables.RootPhysical;
            // The kernel half: the same PML4 entries as the kernel's own (supervisor-only).
            ulong* kernelRoot = (ulong*)KernelMemory.PhysicalToVirtual(KernelMemory.RootTablePhysical);
            ulong* root = (ulong*)KernelMemory.PhysicalToVirtual(created.RootPhysical);
            for (int i = 256; i < 512; i++)
                root[i] = kernelRoot[i];

            if (!KernelMemory.Frames.TryAllocate(out created.EnvironmentPageFrame))
                return Abandon(created, id);
            ZeroFrame(created.EnvironmentPageFrame);
            created.Page = (EnvironmentPage*)KernelMemory.PhysicalToVirtual(created.EnvironmentPageFrame * PageSize);
            created.Page->Id = id;
            created.Page->ParentId = parentId;
            PageFlags readOnly = PageFlags.Present | PageFlags.User | PageFlags.NoExecute;
            if (created.Tables.Map(UserAddresses.InfoPage, s_infoFrame * PageSize, readOnly) != MapResult.Ok
                || created.Tables.Map(UserAddresses.EnvironmentPage, created.EnvironmentPageFrame * PageSize, readOnly) != MapResult.Ok)
            {
                KernelMemory.Frames.Free(created.EnvironmentPageFrame);
                created.EnvironmentPageFrame = 0;
                return Abandon(created, id);
            }
            // Registers: ring 3 selectors, interrupts on.
            created.Frame->Cs = GlobalDescriptorTable.UserCode | 3;
            created.Frame->Ss = GlobalDescriptorTable.UserData | 3;
            created.Frame->Rflags = 0x202;
            InitializeFxState(created);
            s_environments[s_table.IndexOf(id)] = created;
            created.Sequence = s_createdCount++;
            s_history.Add(created);
            environment = created;
            return Error.None;
        }

        /// <summary>Create's failure path: the half-built environment's address space (if any) is
        /// freed, its id goes back to the table and the object back to the pool (nothing is lost).</summary>
        private static Error Abandon(Environment created, ulong id)
        {
            FreeAddressSpace(created);
            created.Tables = null;
            created.Page = null;
            created.State = EnvironmentState.Free;
            s_table.Free(id);
            s_pool.Add(created);
            return Error.NoMemory;
        }

        /// <summary>Makes a stopped environment runnable and gives it a time slice.</summary>
        public static Error Start(Environment environment)
        {
            if (environment.State != EnvironmentState.Stopped)
                return Error.BadEnvironment;
            Error error = s_slices.Allocate(environment.Id, SystemCallLimits.AnySlice, out _);
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
        public static Environment FirstStoppedSince(ulong sequence)
        {
            for (int i = 0; i < s_history.Count; i++)
                if (s_history[i].Sequence >= sequence && s_history[i].State == EnvironmentState.Stopped) return s_history[i];
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
            environment.Page->FramesOwned = s_ledger.CountOwnedBy(environment.Id);
            return Error.None;
        }

        /// <summary>The owner gives a frame back: it is unmapped from the owner's own address space;
        /// it returns to the free pool once no other environment maps it.</summary>
        public static Error FreeFrame(Environment environment, ulong frame, bool countsTowardRevocation = true)
        {
            if (frame >= KernelMemory.Frames.FrameLimit)
                return Error.InvalidArgument;
            if (s_ledger.OwnerOf(frame) != environment.Id)
                return Error.NotOwner;
            UnmapFrameEverywhereIn(environment, frame);
            if (s_ledger.ReleaseOwnership(frame))
                KernelMemory.Frames.Free(frame);
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
        {
            MapResult result = target.Tables.Map(virtualAddress, frame * PageSize, flags);
            if (result == MapResult.AlreadyMapped)
            {
                Unmap(target, virtualAddress);
                result = target.Tables.Map(virtualAddress, frame * PageSize, flags);
            }
            if (result != MapResult.Ok)
                return result == MapResult.OutOfMemory ? Error.NoMemory : Error.InvalidArgument;
            s_ledger.AddMapping(frame);
            target.MappingGeneration++;
            InvalidateIfCurrent(target, virtualAddress);
            return Error.None;
        }

        public static Error Unmap(Environment target, ulong virtualAddress)
        {
            if (target.Tables.Unmap(virtualAddress, out ulong previous) != MapResult.Ok)
                return Error.NotMapped;
            ulong frame = (previous & PageBits.FrameMask) >> PageBits.FrameShift;
            if (s_ledger.RemoveMapping(frame))
                KernelMemory.Frames.Free(frame);
            target.MappingGeneration++;
            InvalidateIfCurrent(target, virtualAddress);
            return Error.None;
        }

        public static Error Protect(Environment target, ulong virtualAddress, PageFlags flags)
        {
            ulong* leaf = PageWalk.UserLeaf(target, virtualAddress, false);
            if (leaf == null)
                return Error.NotMapped;
            // Same frame; new permissions; the accessed and dirty bits the MMU set are kept.
            ulong kept = *leaf & (PageBits.FrameMask | PageBits.Accessed | PageBits.Dirty);
            *leaf = kept | ((ulong)flags & ~(PageBits.FrameMask | PageBits.Accessed | PageBits.Dirty));
            if (TouchesUpcallPages(target, virtualAddress, 1))
                target.MappingGeneration++;
            InvalidateIfCurrent(target, virtualAddress);
            return Error.None;
        }

        /// <summary>True when [address, address + pages) overlaps the pages the upcall path checked
        /// (its entry's page, the UpcallLimits.UpcallStackPages pages below the stack top — the only
        /// pages whose leaf Upcalls.Deliver caches): only then must a permission change forget those
        /// checks.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool TouchesUpcallPages(Environment target, ulong address, ulong pages)
        {
            ulong end = address + pages * 4096;
            ulong entryPage = target.UpcallEntry & ~4095UL;
            if (entryPage >= address && entryPage < end) return true;
            ulong stackTop = target.UpcallStackTop;
            ulong stackBottom = stackTop - (ulong)UpcallLimits.UpcallStackPages * 4096;
            return address < stackTop && end > stackBottom;
        }

        private static void InvalidateIfCurrent(Environment target, ulong virtualAddress)
        {
            if (Scheduler.Current == target || Cpu.ReadCr3() == target.RootPhysical)
                Cpu.InvalidatePage(virtualAddress);
        }

        /// <summary>Removes every mapping of the frame from the environment's user half.</summary>
        private static void UnmapFrameEverywhereIn(Environment environment, ulong frame)
        {
            List<ulong> addresses = s_scratchFrameAddresses;
            addresses.Clear();
            ForEachUserMapping(environment, addresses, frame);
            for (int i = 0; i < addresses.Count; i++)
                Unmap(environment, addresses[i]);
        }

        /// <summary>Collects the virtual addresses of user leaves (all, or those mapping 'onlyFrame').</summary>
        private static void ForEachUserMapping(Environment environment, List<ulong> addresses, ulong onlyFrame = ulong.MaxValue)
        {
            ulong* pml4 = Table(environment.RootPhysical);
            for (int i4 = 0; i4 < 256; i4++)
            {
                if ((pml4[i4] & 1) == 0) continue;
                ulong* pdpt = Table(pml4[i4] & PageBits.FrameMask);
                for (int i3 = 0; i3 < 512; i3++)
                {
                    if ((pdpt[i3] & 1) == 0 || (pdpt[i3] & 0x80) != 0) continue;
                    ulong* pd = Table(pdpt[i3] & PageBits.FrameMask);
                    for (int i2 = 0; i2 < 512; i2++)
                    {
                        if ((pd[i2] & 1) == 0 || (pd[i2] & 0x80) != 0) continue;
                        ulong* pt = Table(pd[i2] & PageBits.FrameMask);
                        for (int i1 = 0; i1 < 512; i1++)
                        {
                            ulong entry = pt[i1];
                            if ((entry & 1) == 0) continue;
                            if (onlyFrame != ulong.MaxValue && ((entry & PageBits.FrameMask) >> PageBits.FrameShift) != onlyFrame) continue;
                            addresses.Add(((ulong)i4 << 39) | ((ulong)i3 << 30) | ((ulong)i2 << 21) | ((ulong)i1 << 12));
                        }
                    }
                }
            }
        }

        private static ulong* Table(ulong physical) => (ulong*)KernelMemory.PhysicalToVirtual(physical);

        /// <summary>Ends an environment: every mapping, frame, capability, grant, slice and IPC link
        /// goes. Safe to call on the running environment (the caller then returns to the loop).</summary>
        public static void Destroy(Environment environment, EnvironmentState endState, DestroyReason reason, ulong status, string report)
        {
            if (!environment.IsAlive)
                return;
            environment.State = endState;
            environment.DestroyReason = reason;
            environment.ExitStatus = status;
            if (report != null)
            {
                environment.EndReport = environment.Describe() + " " + report;
                KernelLog.WriteLine("aegis: " + environment.EndReport);
            }

            // Address space: drop every user mapping (frames shared with others stay theirs).
            List<ulong> addresses = s_scratchAddresses;
            addresses.Clear();
            ForEachUserMapping(environment, addresses);
            for (int i = 0; i < addresses.Count; i++)
            {
                ulong address = addresses[i];
                if (address == UserAddresses.InfoPage || address == UserAddresses.EnvironmentPage)
                {
                    environment.Tables.Unmap(address, out _);
                    continue;
                }
                Unmap(environment, address);
            }
            // Frames it owns but others still map become ownerless; the rest are free now.
            ulong limit = KernelMemory.Frames.FrameLimit;
            for (ulong frame = s_ledger.NextOwnedBy(environment.Id, 0); frame < limit; frame = s_ledger.NextOwnedBy(environment.Id, frame + 1))
            {
                if (s_ledger.ReleaseOwnership(frame))
                    KernelMemory.Frames.Free(frame);
            }
            s_ledger.DropGrantsTo(environment.Id);
            s_slices.ReleaseAll(environment.Id);
            s_revocations.Forget(environment.Id);
            for (int i = 0; i < s_environments.Length; i++)
            {
                Environment other = s_environments[i];
                if (other == null || other == environment) continue;
                if (other.CallTarget == environment.Id && other.Blocked == BlockReason.AwaitingReply)
                    Scheduler.FailCall(other, Error.BadEnvironment);
                if (other.PendingCaller == environment.Id)
                    other.PendingCaller = 0;
            }
            if (environment.PendingCaller != 0)
            {
                Environment caller = Find(environment.PendingCaller);
                if (caller != null && caller.Blocked == BlockReason.AwaitingReply)
                    Scheduler.FailCall(caller, Error.BadEnvironment);
                environment.PendingCaller = 0;
            }

            environment.Page = null;
            ulong pageFrame = environment.EnvironmentPageFrame;
            environment.EnvironmentPageFrame = 0;
            FreeAddressSpace(environment);
            if (pageFrame != 0)
                KernelMemory.Frames.Free(pageFrame);

            int index = s_table.IndexOf(environment.Id);
            s_environments[index] = null;
            s_table.Free(environment.Id);
            s_ended[s_endedNext].Id = environment.Id;
            s_ended[s_endedNext].State = endState;
            s_ended[s_endedNext].Status = endState == EnvironmentState.Exited ? status : (ulong)reason;
            s_endedNext = (s_endedNext + 1) % s_ended.Length;
            Scheduler.OnEnvironmentEnded(environment);
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
                for (int i3 = 0; i3 < 512; i3++)
                {
                    if ((pdpt[i3] & 1) == 0 || (pdpt[i3] & 0x80) != 0) continue;
                    ulong pdPhysical = pdpt[i3] & PageBits.FrameMask;
                    ulong* pd = Table(pdPhysical);
                    for (int i2 = 0; i2 < 512; i2++)
                    {
                        if ((pd[i2] & 1) == 0 || (pd[i2] & 0x80) != 0) continue;
                        KernelMemory.Frames.Free((pd[i2] & PageBits.FrameMask) / PageSize);
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
            ulong* page = (ulong*)KernelMemory.PhysicalToVirtual(frame * PageSize);
            for (int i = 0; i < 512; i++) page[i] = 0;
        }

        /// <summary>Page-table frames for environments come straight from the frame allocator.</summary>
        private sealed class EnvironmentTablesMemory : IPageTableMemory
        {
            public ulong AllocateTable()
            {
                if (!KernelMemory.Frames.TryAllocate(out ulong frame))
                    return 0;
                ZeroFrame(frame);
                return frame * PageSize;
            }

            public ulong ReadEntry(ulong tablePhysical, int index) => Table(tablePhysical)[index];

            public void WriteEntry(ulong tablePhysical, int index, ulong entry) => Table(tablePhysical)[index] = entry;
        }
    }
}
