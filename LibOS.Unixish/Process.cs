// Processes, Unix-style, as policy over the exokernel's environments:
//   Fork      copy-on-write fork done in user space (JOS's lib/fork.c is the model): a new
//             environment, the parent's pages mapped into it copy-on-write (CopyOnWrite), a fresh
//             upcall stack, the console, and a start inside Fork so the child sees it return 0;
//   DumbFork  the same, but every page is copied into a fresh frame at once (no sharing);
//   Spawn     a boot image in a new environment, with the console;
//   Exit      tells the parent the status (an IPC message), then ends the environment;
//   Wait      until a child has ended; its status.
// Processes are named by environment id (what Fork and Spawn return); the capability slot that
// controls each child is kept here (ChildSlot).
//
// How the child resumes: ForkContext. The parent captures its registers with a setjmp-like call
// (unixish_fork_capture) in ForkWith's frame, then shares its memory and starts the child at
// unixish_fork_child_entry with RDI = the context; the child sets its FS base, registers its
// upcall entry, restores the registers and returns from the capture a second time, with 1.
// ForkWith's frame holds nothing but what was saved before the capture, so the child, seeing the
// stack as it was when the parent's stack pages were shared, finds it intact.
//
// Order when sharing a writable page: the child's mapping first, then the parent's own page is
// made copy-on-write (PageMap Protect). The other order would let the parent write between the
// two steps into a frame the child then maps: the child would see a later state than the rest.
//
// Invariants: the walk that shares the address space allocates no managed memory; the parent
// stays in ForkWith until the child is started; a child's table of its own children starts empty.
using System.Runtime.CompilerServices;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish
{
    public static unsafe class Process
    {
        /// <summary>Wait's status when a child ended without telling it (destroyed, or it did not
        /// end through Process.Exit).</summary>
        public const ulong UnknownStatus = ulong.MaxValue;
        /// <summary>Children this table tracks at once (live plus ended but not waited for).</summary>
        public const int MaximumChildren = 128;

        /// <summary>Word3 of the IPC message Exit sends to the parent (Word0: the status).</summary>
        internal const ulong ExitNoticeTag = 0x4554_4F4E_5449_5845; // "EXITNOTE"
        private const int ExitNoticeAttempts = 64;

        private struct Child
        {
            public ulong Id;     // 0: entry unused
            public ulong Slot;
            public bool HasStatus;
            public ulong Status;
        }

        private static ForkContext s_context;
        private static bool s_initialized;
        private static Child[] s_children;

        /// <summary>This environment's id.</summary>
        public static ulong Id => Info.EnvironmentId;

        /// <summary>Sets up what Fork, Spawn and Wait need: the copy-on-write fault handler, its
        /// scratch pages, and the IPC server (exit statuses arrive by IPC). Idempotent; every
        /// other call here does it first.</summary>
        public static Error Initialize()
        {
            if (s_initialized)
                return Error.None;
            Error error = CopyOnWrite.Install();
            if (error != Error.None)
                return error;
            IpcServer.Start();
            s_children = new Child[MaximumChildren];
            s_context.SetFsBaseCall = (ulong)SystemCall.SetFsBase;
            s_context.SetUpcallCall = (ulong)SystemCall.EnvironmentSetUpcall;
            s_context.UpcallEntry = Upcalls.EntryAddress;
            s_context.UpcallStackTop = AddressSpace.UpcallStackTop;
            s_initialized = true;
            return Error.None;
        }

        /// <summary>Copy-on-write fork. In the parent: the child's environment id (> 0); in the
        /// child: 0; on failure: a negative Error (no child exists). Not from inside an upcall handler.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long Fork() => ForkWith(false);

        /// <summary>Fork that copies every page into a fresh frame for the child (JOS's dumbfork).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static long DumbFork() => ForkWith(true);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long ForkWith(bool copyEverything)
        {
            Error error = Initialize();
            if (error != Error.None)
                return (long)error;
            fixed (ForkContext* context = &s_context)
            {
                if (NativeMethods.ForkCapture(context) != 0)
                    return ResumeInChild();
                return StartChild(context, copyEverything);
            }
        }

        /// <summary>The child's side of fork, right after its registers were restored.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long ResumeInChild()
        {
            for (int i = 0; i < s_children.Length; i++)
                s_children[i] = default;
            IpcServer.ResetAfterFork();
            return 0;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long StartChild(ForkContext* context, bool copyEverything)
        {
            SystemCallResult created = SystemCalls.EnvironmentCreate();
            if (created.IsError)
                return (long)created.Error;
            ulong slot = created.Value;
            Error error = copyEverything ? CopyAddressSpace(slot) : ShareAddressSpace(slot);
            if (error == Error.None)
                error = MapUpcallStack(slot);
            if (error == Error.None)
                error = GiveConsole(slot);
            if (error == Error.None)
                error = SystemCalls.EnvironmentStart(slot, NativeMethods.ForkChildEntry(), context->Rsp, (ulong)context);
            if (error != Error.None)
            {
                SystemCalls.EnvironmentDestroy(slot);
                return (long)error;
            }
            ulong id = SystemCalls.CapabilityQuery(slot).Second;
            Record(id, slot);
            // The child runs first: by the time Fork returns here it has its FS base and upcall
            // entry, so IPC to it works at once.
            SystemCalls.Yield(id);
            return (long)id;
        }

        /// <summary>Maps every inherited page into the child: writable ones copy-on-write in both.</summary>
        private static Error ShareAddressSpace(ulong slot)
        {
            for (int region = 0; region < InheritedRegions.Count; region++)
            {
                InheritedRegions.Get(region, out ulong start, out ulong pages);
                for (ulong i = 0; i < pages; i++)
                {
                    ulong page = start + i * UserAddresses.PageSize;
                    if (Memory.Query(page, out PageInfo mapping) != Error.None)
                        continue;
                    Error error = SharePage(slot, page, mapping);
                    if (error != Error.None)
                        return error;
                }
            }
            return Error.None;
        }

        private static Error SharePage(ulong slot, ulong page, PageInfo mapping)
        {
            ulong frame = mapping.Frame;
            ulong permissions = mapping.Permissions;
            bool copyOnWrite = (permissions & (PageBits.Writable | CopyOnWrite.Bit)) != 0;
            ulong shared = copyOnWrite ? (permissions & ~PageBits.Writable) | CopyOnWrite.Bit : permissions;
            Error error = Memory.Map(page, frame, shared, slot);
            if (error == Error.NotOwner)
            {
                // Inherited from our own parent without the right to hand it on: make it ours first.
                error = CopyOnWrite.ReplaceWithCopy(page, permissions, CopyOnWrite.WalkScratch, out frame);
                if (error == Error.None)
                    error = Memory.Map(page, frame, shared, slot);
            }
            if (error != Error.None)
                return error;
            // Lets the child hand the frame on when it forks (NotOwner when it is only granted to us).
            SystemCalls.FrameGrant(frame, slot, false);
            if ((permissions & PageBits.Writable) != 0)
                error = Memory.Protect(page, 1, shared);
            return error;
        }

        /// <summary>Copies every inherited page into a fresh frame mapped at the same place in the child.</summary>
        private static Error CopyAddressSpace(ulong slot)
        {
            ulong scratch = CopyOnWrite.WalkScratch;
            Error error = Error.None;
            for (int region = 0; region < InheritedRegions.Count && error == Error.None; region++)
            {
                InheritedRegions.Get(region, out ulong start, out ulong pages);
                for (ulong i = 0; i < pages && error == Error.None; i++)
                {
                    ulong page = start + i * UserAddresses.PageSize;
                    if (Memory.Query(page, out PageInfo mapping) != Error.None)
                        continue;
                    ulong permissions = mapping.Permissions;
                    if ((permissions & CopyOnWrite.Bit) != 0)
                        permissions = (permissions & ~CopyOnWrite.Bit) | PageBits.Writable;
                    SystemCallResult allocated = SystemCalls.FrameAllocate();
                    if (allocated.IsError)
                    {
                        error = allocated.Error;
                        continue;
                    }
                    error = Memory.Map(scratch, allocated.Value, Memory.ReadWrite);
                    if (error == Error.None)
                    {
                        NativeMethods.CopyPage((void*)scratch, (void*)page);
                        error = Memory.Map(page, allocated.Value, permissions, slot);
                    }
                }
            }
            Memory.Unmap(scratch);
            return error;
        }

        /// <summary>A fresh upcall stack for the child (the parent's own is not shared).</summary>
        private static Error MapUpcallStack(ulong slot)
        {
            const int Pages = AddressSpace.UpcallStackPages;
            ulong* frames = stackalloc ulong[Pages];
            for (int i = 0; i < Pages; i++)
            {
                SystemCallResult allocated = SystemCalls.FrameAllocate();
                if (allocated.IsError)
                {
                    for (int j = 0; j < i; j++)
                        SystemCalls.FrameFree(frames[j]);
                    return allocated.Error;
                }
                frames[i] = allocated.Value;
            }
            return Memory.Map(AddressSpace.UpcallStackBottom, frames, Pages, Memory.ReadWrite, slot);
        }

        /// <summary>Copies our console capability to the child (it lands in its CapabilitySlots.Console).</summary>
        private static Error GiveConsole(ulong slot)
        {
            SystemCallResult copied = SystemCalls.CapabilityCopy(Console.Slot, slot);
            // Without a console ourselves, the child has none either.
            return copied.IsError && copied.Error != Error.NoCapability ? copied.Error : Error.None;
        }

        /// <summary>Runs boot image 'image' in a new environment with 'argument' and our console.
        /// The child's environment id, or a negative Error.</summary>
        public static long Spawn(string image, string argument = "")
        {
            Error error = Initialize();
            if (error != Error.None)
                return (long)error;
            SystemCallResult spawned = SystemCalls.ImageSpawn(image, argument ?? "");
            if (spawned.IsError)
                return (long)spawned.Error;
            ulong slot = spawned.Value;
            error = GiveConsole(slot);
            if (error == Error.None)
                error = SystemCalls.EnvironmentStart(slot, 0, 0, 0);
            if (error != Error.None)
            {
                SystemCalls.EnvironmentDestroy(slot);
                return (long)error;
            }
            ulong id = SystemCalls.CapabilityQuery(slot).Second;
            Record(id, slot);
            return (long)id;
        }

        /// <summary>Ends this environment with 'status', telling the parent first (Wait's status).</summary>
        public static void Exit(ulong status)
        {
            ulong parent = Info.ParentId;
            if (parent != 0)
            {
                for (int attempt = 0; attempt < ExitNoticeAttempts; attempt++)
                {
                    Error error = SystemCalls.IpcSend(parent, status, 0, 0, ExitNoticeTag);
                    if (error != Error.WouldBlock)
                        break;
                    SystemCalls.Yield();
                }
            }
            SystemCalls.Exit(status);
        }

        /// <summary>Waits (yielding) until child 'childId' has ended. Its exit status, or
        /// UnknownStatus if it was destroyed or did not say. Error.BadEnvironment: not our child.</summary>
        public static Error Wait(ulong childId, out ulong status)
        {
            status = UnknownStatus;
            int index = Find(childId);
            if (index < 0)
                return Error.BadEnvironment;
            ulong slot = s_children[index].Slot;
            while (true)
            {
                // The kernel drops a capability when the environment it names ends, and the slot
                // may be reused: trust it only while it still names this child.
                SystemCallResult named = SystemCalls.CapabilityQuery(slot);
                if (named.IsError || named.Value != (ulong)CapabilityKind.Environment || named.Second != childId)
                    break;
                SystemCallResult state = SystemCalls.EnvironmentStatus(slot);
                if (state.IsError)
                    break;
                if (state.Value == (ulong)EnvironmentState.Exited)
                {
                    s_children[index].HasStatus = true;
                    s_children[index].Status = state.Second;
                    break;
                }
                if (state.Value == (ulong)EnvironmentState.Destroyed)
                    break;
                SystemCalls.Yield();
            }
            if (s_children[index].HasStatus)
                status = s_children[index].Status;
            s_children[index] = default;
            return Error.None;
        }

        /// <summary>The capability slot controlling child 'childId' (0 if it is not our child).</summary>
        public static ulong ChildSlot(ulong childId)
        {
            int index = Find(childId);
            return index < 0 ? 0 : s_children[index].Slot;
        }

        /// <summary>IpcServer hands exit notices here; false if the sender is not our child.</summary>
        internal static bool OnExitNotice(ulong sender, ulong status)
        {
            int index = Find(sender);
            if (index < 0)
                return false;
            s_children[index].Status = status;
            s_children[index].HasStatus = true;
            return true;
        }

        private static void Record(ulong id, ulong slot)
        {
            for (int i = 0; i < s_children.Length; i++)
            {
                if (s_children[i].Id != 0)
                    continue;
                s_children[i].Id = id;
                s_children[i].Slot = slot;
                return;
            }
        }

        private static int Find(ulong id)
        {
            if (s_children == null || id == 0)
                return -1;
            for (int i = 0; i < s_children.Length; i++)
                if (s_children[i].Id == id)
                    return i;
            return -1;
        }
    }
}
