// Typed wrappers for every Aegis system call (Aegis.Abi/SystemCall.cs is the contract and says
// what each one does). Each wrapper passes its arguments through unchanged: validation is the
// kernel's job, and a wrong argument comes back as an Error, never as a crash. The stubs are in
// Native/libos.S: aegis_syscall (six arguments, RAX:RDX back), aegis_syscall_rsi (also RSI, for
// IpcCall's second reply word), aegis_syscall0/1 (the fast ones).
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;

namespace Aegis.LibOS
{
    public static unsafe class SystemCalls
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_syscall")]
        private static extern SystemCallResult Stub(ulong number, ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_syscall_rsi")]
        private static extern SystemCallResult StubThird(ulong number, ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5, ulong* rsi);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_syscall0")]
        private static extern long Stub0(ulong number);

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_syscall1")]
        private static extern long Stub1(ulong number, ulong a0);

        /// <summary>Any call with any arguments, exactly as given (tests and fuzzing use it).</summary>
        public static SystemCallResult Invoke(ulong number, ulong a0 = 0, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0)
            => Stub(number, a0, a1, a2, a3, a4, a5);

        private static SystemCallResult Call(SystemCall call, ulong a0 = 0, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0, ulong a4 = 0, ulong a5 = 0)
            => Stub((ulong)call, a0, a1, a2, a3, a4, a5);

        private static Error ToError(long rax) => rax < 0 ? (Error)rax : Error.None;

        /// <summary>Does nothing: the cost of a kernel crossing. Returns 0.</summary>
        public static long Null() => Stub0((ulong)SystemCall.Null);

        /// <summary>Writes length bytes at buffer through the Console capability in slot. Value: bytes written.</summary>
        public static SystemCallResult ConsoleWrite(ulong slot, byte* buffer, ulong length)
            => Call(SystemCall.ConsoleWrite, slot, (ulong)buffer, length);

        /// <summary>Raw form of ConsoleWrite (any address, e.g. to show the kernel refuses one).</summary>
        public static SystemCallResult ConsoleWrite(ulong slot, ulong bufferAddress, ulong length)
            => Call(SystemCall.ConsoleWrite, slot, bufferAddress, length);

        /// <summary>Ends the calling environment. Does not return.</summary>
        public static void Exit(ulong status) => Exit(status, ExitCrash.None, 0);

        /// <summary>Ends the calling environment; crash (ExitCrash.ManagedException with the
        /// exception's MethodTable address, or the address of the UpcallFrame of an exception
        /// nothing handled) asks the kernel for its crash report first: the exception's name and a
        /// stack trace from this image's symbol file. Does not return.</summary>
        public static void Exit(ulong status, ulong crash, ulong methodTable)
        {
            Stub((ulong)SystemCall.Exit, status, crash, methodTable, 0, 0, 0);
            // The kernel never resumes an exited environment; if it ever did, stay put.
            while (true)
                Stub0((ulong)SystemCall.Yield);
        }

        /// <summary>Gives up the rest of the slice, to targetId if it is runnable (0: to anyone).</summary>
        public static Error Yield(ulong targetId = 0) => ToError(Stub1((ulong)SystemCall.Yield, targetId));

        /// <summary>A new, empty, stopped child. Value: the slot of the Environment capability over it.</summary>
        public static SystemCallResult EnvironmentCreate() => Call(SystemCall.EnvironmentCreate);

        public static Error EnvironmentDestroy(ulong environmentSlot) => Call(SystemCall.EnvironmentDestroy, environmentSlot).Error;

        /// <summary>Makes a stopped environment runnable. rip != 0: it starts at rip with RDI = rdi and
        /// RSP = rsp (rsp 0 keeps its saved RSP); its other registers keep their saved values (zero in a new
        /// child). rip 0: it resumes its saved registers unchanged (where ImageSpawn set it up or
        /// EnvironmentStop left it); rsp and rdi must then be 0 (else InvalidArgument).</summary>
        public static Error EnvironmentStart(ulong environmentSlot, ulong rip, ulong rsp, ulong rdi)
            => Call(SystemCall.EnvironmentStart, environmentSlot, rip, rsp, rdi).Error;

        /// <summary>Registers the upcall entry and stack (stackPages 0: UpcallLimits.UpcallStackPages). The
        /// kernel refuses an entry outside the user half and a stack whose pages are not all user memory.</summary>
        public static Error EnvironmentSetUpcall(ulong environmentSlot, ulong upcallEntry, ulong upcallStackTop, ulong stackPages = 0)
            => Call(SystemCall.EnvironmentSetUpcall, environmentSlot, upcallEntry, upcallStackTop, stackPages).Error;

        /// <summary>Whether an environment with this id is alive (created, not ended): no capability needed.</summary>
        public static bool EnvironmentAlive(ulong id) => Call(SystemCall.EnvironmentAlive, id).Value == 1;

        /// <summary>Value: the EnvironmentState; Second: the exit status or the DestroyReason.</summary>
        public static SystemCallResult EnvironmentStatus(ulong environmentSlot) => Call(SystemCall.EnvironmentStatus, environmentSlot);

        /// <summary>Value: the frame number (owned by the caller, zeroed). frameNumber: a named frame, or AnyFrame.</summary>
        public static SystemCallResult FrameAllocate(ulong frameNumber = SystemCallLimits.AnyFrame)
            => Call(SystemCall.FrameAllocate, frameNumber);

        public static Error FrameFree(ulong frameNumber) => Call(SystemCall.FrameFree, frameNumber).Error;

        public static Error FrameGrant(ulong frameNumber, ulong environmentSlot, bool writable)
            => Call(SystemCall.FrameGrant, frameNumber, environmentSlot, writable ? 1UL : 0UL).Error;

        /// <summary>Applies requests[0..count) all or nothing. Value: count.</summary>
        public static SystemCallResult PageMap(ulong environmentSlot, PageMapRequest* requests, ulong count)
            => Call(SystemCall.PageMap, environmentSlot, (ulong)requests, count);

        /// <summary>Value: the PTE bits (frame &lt;&lt; 12 | PageBits), or Error.NotMapped. A PTE with
        /// NoExecute (bit 63) makes RAX negative, so IsError is not meaningful here: use Memory.Query.</summary>
        /// <summary>Stops a runnable environment (Self: the caller) until EnvironmentStart(slot, 0, 0, 0).</summary>
        public static SystemCallResult EnvironmentStop(ulong environmentSlot)
            => Call(SystemCall.EnvironmentStop, environmentSlot);

        /// <summary>Sets the permissions of pageCount consecutive mapped pages in one call (all or nothing).</summary>
        public static SystemCallResult PageProtect(ulong environmentSlot, ulong virtualAddress, ulong pageCount, ulong permissions)
            => Call(SystemCall.PageProtect, environmentSlot, virtualAddress, pageCount, permissions);

        public static SystemCallResult PageQuery(ulong environmentSlot, ulong virtualAddress)
            => Call(SystemCall.PageQuery, environmentSlot, virtualAddress);

        /// <summary>Synchronous call into targetId's IPC upcall. Error: the status (Error.None when the
        /// target replied); Second: reply word 0, data whatever its value (a reply of -23 is -23, not an
        /// error). Value is 0 on success.</summary>
        public static SystemCallResult IpcCall(ulong targetId, ulong word0, ulong word1, ulong word2, ulong word3, ulong pageAddress = 0)
            => Call(SystemCall.IpcCall, targetId, word0, word1, word2, word3, pageAddress);

        /// <summary>IpcCall that also returns reply word 1 (RSI) in reply1 (0 on error).</summary>
        public static SystemCallResult IpcCall(ulong targetId, ulong word0, ulong word1, ulong word2, ulong word3, ulong pageAddress, out ulong reply1)
        {
            ulong third;
            SystemCallResult result = StubThird((ulong)SystemCall.IpcCall, targetId, word0, word1, word2, word3, pageAddress, &third);
            reply1 = result.IsError ? 0 : third;
            return result;
        }

        /// <summary>Answers the IpcCall being handled.</summary>
        public static Error IpcReply(ulong word0, ulong word1) => Call(SystemCall.IpcReply, word0, word1).Error;

        /// <summary>Replies, then — when this IPC upcall interrupted a Wait — ends the upcall and goes
        /// back to that Wait inside the kernel (it does not return then). Call it as the handler's last act.</summary>
        public static Error IpcReplyAndWait(ulong word0, ulong word1) => Call(SystemCall.IpcReply, word0, word1, IpcReplyFlags.AndWait).Error;

        /// <summary>As IpcReplyAndWait, and the Wait it goes back into gets a new deadline (TSC; 0:
        /// none; one passed already: that Wait returns WaitResult.DeadlinePassed at once).</summary>
        public static Error IpcReplyAndWaitUntil(ulong word0, ulong word1, ulong deadline) => Call(SystemCall.IpcReply, word0, word1, IpcReplyFlags.AndWaitUntil, deadline).Error;

        /// <summary>Asynchronous message to targetId's IPC upcall.</summary>
        public static Error IpcSend(ulong targetId, ulong word0, ulong word1, ulong word2, ulong word3, ulong pageAddress = 0)
            => Call(SystemCall.IpcSend, targetId, word0, word1, word2, word3, pageAddress).Error;

        /// <summary>Blocks until an IPC or revocation upcall has been delivered.</summary>
        public static Error Wait() => ToError(Stub0((ulong)SystemCall.Wait));

        /// <summary>Value: the slice index taken. sliceIndex: a named slice, or AnySlice.</summary>
        public static SystemCallResult SliceAllocate(ulong sliceIndex = SystemCallLimits.AnySlice)
            => Call(SystemCall.SliceAllocate, sliceIndex);

        public static Error SliceFree(ulong sliceIndex) => Call(SystemCall.SliceFree, sliceIndex).Error;

        /// <summary>Asks an environment to release frameCount frames by deadlineTicks (visible revocation).</summary>
        public static Error RevokeFrames(ulong environmentSlot, ulong frameCount, ulong deadlineTicks)
            => Call(SystemCall.RevokeFrames, environmentSlot, frameCount, deadlineTicks).Error;

        /// <summary>A stopped child running the named boot image. Value: the slot of its Environment capability.</summary>
        public static SystemCallResult ImageSpawn(byte* name, ulong nameLength, byte* argument, ulong argumentLength)
            => Call(SystemCall.ImageSpawn, (ulong)name, nameLength, (ulong)argument, argumentLength);

        /// <summary>ImageSpawn with the name and argument as strings (UTF-8, up to 256 bytes each).</summary>
        public static SystemCallResult ImageSpawn(string name, string argument)
        {
            const int Capacity = 256 + Utf8.MaximumBytesPerCharacter;
            byte* nameBytes = stackalloc byte[Capacity];
            byte* argumentBytes = stackalloc byte[Capacity];
            int nameIndex = 0, argumentIndex = 0;
            int nameLength = Utf8.Encode(name, ref nameIndex, nameBytes, Capacity);
            int argumentLength = argument == null ? 0 : Utf8.Encode(argument, ref argumentIndex, argumentBytes, Capacity);
            if (nameIndex < name.Length || (argument != null && argumentIndex < argument.Length))
                return new SystemCallResult((long)Error.InvalidArgument, 0);
            return ImageSpawn(nameBytes, (ulong)nameLength, argumentBytes, (ulong)argumentLength);
        }

        /// <summary>Copies the capability in slot into the environment's table. Value: the slot there.</summary>
        public static SystemCallResult CapabilityCopy(ulong slot, ulong environmentSlot)
            => Call(SystemCall.CapabilityCopy, slot, environmentSlot);

        public static Error SetFsBase(ulong fsBase) => ToError(Stub1((ulong)SystemCall.SetFsBase, fsBase));

        /// <summary>entry != 0: the caller's `syscall`s with numbers outside Aegis's range become
        /// UpcallKind.SystemCall upcalls at entry (an assembly routine: RSP = RDI = the frame, at the
        /// upcall stack's top - 256); 0: off again. Needs an upcall stack (docs/abi.md).</summary>
        public static Error SetSystemCallUpcall(ulong entry) => ToError(Stub1((ulong)SystemCall.SetSystemCallUpcall, entry));

        /// <summary>Value: the CapabilityKind; Second: its object (environment id, frame).</summary>
        public static SystemCallResult CapabilityQuery(ulong slot) => Call(SystemCall.CapabilityQuery, slot);

        /// <summary>Clears the accessed and dirty bits of a mapped page.</summary>
        public static Error PageClean(ulong environmentSlot, ulong virtualAddress)
            => Call(SystemCall.PageClean, environmentSlot, virtualAddress).Error;

        /// <summary>Test support: the kernel prints the caller's frame accounting.</summary>
        public static Error Debug(ulong reason) => ToError(Stub1((ulong)SystemCall.Debug, reason));

        // ---- devices (issue #9)

        /// <summary>Takes up to length waiting bytes of the Input capability's device in slot into
        /// buffer. Value: bytes copied (0 when none are waiting).</summary>
        public static SystemCallResult InputRead(ulong slot, byte* buffer, ulong length)
            => Call(SystemCall.InputRead, slot, (ulong)buffer, length);

        /// <summary>Raw form of InputRead (any address, e.g. to show the kernel refuses one).</summary>
        public static SystemCallResult InputRead(ulong slot, ulong bufferAddress, ulong length)
            => Call(SystemCall.InputRead, slot, bufferAddress, length);

        /// <summary>Becomes (enable) or stops being a watcher of the Input capability's device:
        /// input then wakes a Wait with an UpcallKind.Input upcall (Upcalls.SetInputHandler).</summary>
        public static Error InputWatch(ulong slot, bool enable) => Call(SystemCall.InputWatch, slot, enable ? 1UL : 0UL).Error;

        /// <summary>Maps the VGA text buffer (InputLimits.DisplayPages pages) writable at virtualAddress
        /// with the Display capability in slot. Value: pages mapped.</summary>
        public static SystemCallResult DeviceMap(ulong slot, ulong virtualAddress) => Call(SystemCall.DeviceMap, slot, virtualAddress);

        // ---- notifications (issue #9, session 2)

        /// <summary>Sets NotifyFlags (asynchronous delivery of kept messages, child-end wakeups).
        /// Value: the previous flags.</summary>
        public static SystemCallResult NotifyControl(ulong flags) => Call(SystemCall.NotifyControl, flags);

        /// <summary>Wait with a TSC deadline. Value: a WaitResult (Woken, DeadlinePassed, ChildEnded).</summary>
        public static SystemCallResult WaitUntil(ulong deadline) => Call(SystemCall.WaitUntil, deadline);

        /// <summary>As InputRead, but the bytes stay in the ring.</summary>
        public static SystemCallResult InputPeek(ulong slot, byte* buffer, ulong length)
            => Call(SystemCall.InputPeek, slot, (ulong)buffer, length);

        /// <summary>Hands the caller's mappings of [address, address + pageCount pages) on to the
        /// environment in slot (PageShareFlags; docs/abi.md "PageShare"). readOnlyMark: the bits
        /// MarkReadOnly gives read-only pages (0: mark). Value: pages mapped or changed.</summary>
        public static SystemCallResult PageShare(ulong environmentSlot, ulong address, ulong pageCount, ulong flags, ulong mark, ulong readOnlyMark = 0)
            => Call(SystemCall.PageShare, environmentSlot, address, pageCount, flags, mark, readOnlyMark);

        /// <summary>Maps, read-only, what the caller's nearest ancestor maps in [address, address +
        /// pageCount pages) inside an on-demand range. Value: pages mapped.</summary>
        public static SystemCallResult PageInherit(ulong address, ulong pageCount) => Call(SystemCall.PageInherit, address, pageCount);
        /// <summary>Write faults on pages carrying 'mark' in the environment in slot are resolved by the
        /// kernel (copy-on-write, docs/abi.md); 0 turns it off.</summary>
        /// <summary>Fresh zeroed frames of ours mapped at [address, address + pageCount pages), all or nothing (Busy if one is mapped).</summary>
        public static SystemCallResult PageAllocate(ulong address, ulong pageCount, ulong permissions) => Call(SystemCall.PageAllocate, address, pageCount, permissions);
        public static SystemCallResult PageAlias(ulong source, ulong destination, ulong pageCount, ulong permissions) => Call(SystemCall.PageAlias, source, destination, pageCount, permissions);
        public static SystemCallResult CopyOnWriteMark(ulong environmentSlot, ulong mark, ulong dropOnCopy) => Call(SystemCall.CopyOnWriteMark, environmentSlot, mark, dropOnCopy);

        // ---- disks (issue #11; Aegis.Abi/Block.cs, docs/abi.md "Disks")

        /// <summary>What the Disk or Extent capability in slot covers, into *info.</summary>
        public static Error BlockInfo(ulong slot, BlockInfo* info) => Call(SystemCall.BlockInfo, slot, (ulong)info).Error;
        /// <summary>A writable Extent capability over the extent named by the UTF-8 bytes at name. Value: its slot.</summary>
        public static SystemCallResult ExtentOpen(ulong diskSlot, byte* name, ulong nameLength) => Call(SystemCall.ExtentOpen, diskSlot, (ulong)name, nameLength);
        /// <summary>A new extent of 'sectors' named by the bytes at name, on the disk when it returns. Value: its capability's slot.</summary>
        public static SystemCallResult ExtentAllocate(ulong diskSlot, ulong sectors, byte* name, ulong nameLength) => Call(SystemCall.ExtentAllocate, diskSlot, sectors, (ulong)name, nameLength);
        /// <summary>Frees the extent (a writable capability).</summary>
        public static Error ExtentFree(ulong extentSlot) => Call(SystemCall.ExtentFree, extentSlot).Error;
        /// <summary>A read-only copy of the Extent capability. Value: its slot.</summary>
        public static SystemCallResult ExtentRestrict(ulong extentSlot) => Call(SystemCall.ExtentRestrict, extentSlot);
        /// <summary>Starts the request (its completion wakes Wait; collect it with BlockComplete).</summary>
        public static Error BlockSubmit(ulong extentSlot, BlockRequest* request) => Call(SystemCall.BlockSubmit, extentSlot, (ulong)request).Error;
        /// <summary>Raw form: any request address (to show the kernel refuses one).</summary>
        public static Error BlockSubmit(ulong extentSlot, ulong requestAddress) => Call(SystemCall.BlockSubmit, extentSlot, requestAddress).Error;
        /// <summary>Up to count completed requests, oldest first. Value: how many were written.</summary>
        public static SystemCallResult BlockComplete(BlockCompletion* completions, ulong count) => Call(SystemCall.BlockComplete, (ulong)completions, count);

        // ---- networks (issue #12; Aegis.Abi/Nic.cs, Aegis.Abi/Network.cs, docs/abi.md "Networks")

        /// <summary>The NIC's address, link and counters into *info.</summary>
        public static Error NicInfo(ulong nicSlot, NicInfo* info) => Call(SystemCall.NicInfo, nicSlot, (ulong)info).Error;
        /// <summary>Attaches our receive ring (a NicRingHeader page, then slots × NicLimits.SlotBytes); (slot, 0, 0) detaches it.</summary>
        public static Error NicAttach(ulong nicSlot, ulong ringAddress, ulong slots) => Call(SystemCall.NicAttach, nicSlot, ringAddress, slots).Error;
        /// <summary>Installs a filter. Value: its id. On an error Second is the FilterError and
        /// 'conflictingOwner' the environment whose filter overlaps (FilterError.Overlap).</summary>
        public static SystemCallResult NicFilterInstall(ulong nicSlot, FilterAtom* atoms, ulong count, out ulong conflictingOwner)
        {
            ulong rsi = 0;
            SystemCallResult result = StubThird((ulong)SystemCall.NicFilterInstall, nicSlot, (ulong)atoms, count, 0, 0, 0, &rsi);
            conflictingOwner = rsi;
            return result;
        }
        /// <summary>Raw form: any atoms address (to show the kernel refuses one).</summary>
        public static SystemCallResult NicFilterInstall(ulong nicSlot, ulong atomsAddress, ulong count) => Call(SystemCall.NicFilterInstall, nicSlot, atomsAddress, count);
        /// <summary>Gives a filter to another environment (NicFilterDelegate): part of what our own
        /// filters claim goes to its ring. Value: the filter's id; Second: the FilterError.</summary>
        public static SystemCallResult NicFilterDelegate(ulong nicSlot, FilterAtom* atoms, ulong count, ulong environmentId, out ulong conflictingOwner)
        {
            ulong rsi = 0;
            SystemCallResult result = StubThird((ulong)SystemCall.NicFilterDelegate, nicSlot, (ulong)atoms, count, environmentId, 0, 0, &rsi);
            conflictingOwner = rsi;
            return result;
        }
        /// <summary>Removes one of our filters, or one we gave (NicFilterDelegate).</summary>
        public static Error NicFilterRemove(ulong nicSlot, ulong id) => Call(SystemCall.NicFilterRemove, nicSlot, id).Error;
        /// <summary>Queues frames for the device. Value: how many were queued.</summary>
        public static SystemCallResult NicSend(ulong nicSlot, NicSendRequest* requests, ulong count) => Call(SystemCall.NicSend, nicSlot, (ulong)requests, count);
        /// <summary>Raw form: any requests address.</summary>
        public static SystemCallResult NicSend(ulong nicSlot, ulong requestsAddress, ulong count) => Call(SystemCall.NicSend, nicSlot, requestsAddress, count);
        /// <summary>A copy of the Nic capability restricted to binding ports [low, high]. Value: its slot.</summary>
        public static SystemCallResult NicRestrict(ulong nicSlot, ulong lowPort, ulong highPort) => Call(SystemCall.NicRestrict, nicSlot, lowPort, highPort);
    }
}
