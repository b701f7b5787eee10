// The Aegis system-call ABI: the single definition shared by the kernel and every libOS
// (both compile this file; it is never copied). docs/abi.md describes each call.
//
// Calling convention (x86-64 `syscall`): number in RAX; arguments in RDI, RSI, RDX, R10, R8,
// R9; result in RAX (>= 0 success, < 0 an Error code), a second result in RDX when the call
// has one (IpcCall: status in RAX, its two reply words in RDX and RSI). As for a System V call, RBX, RBP, RSP and R12-R15 are preserved; RCX, R11, RDI,
// RSI, RDX, R8-R10 and the SSE registers may be clobbered. Every call validates all of its
// arguments before it changes anything: on error nothing has changed.
// Numbers: Aegis's calls are SystemCallNumbers.First (512) + index, up to SystemCallNumbers.End;
// 0 .. 511 are left to the programs a libOS hosts (e.g. Linux's numbers, SetSystemCallUpcall).
namespace Aegis.Abi
{
    public enum SystemCall : ulong
    {
        /// <summary>Does nothing; returns 0 (the cost of a kernel crossing).</summary>
        Null = 512,
        /// <summary>(slot, bufferAddress, length) -> bytes written. Needs a Console capability.</summary>
        ConsoleWrite = 513,
        /// <summary>(status, crash, methodTable) -> does not return. Ends the calling environment.
        /// crash is ExitCrash.None for a normal end; otherwise the kernel first prints a crash report
        /// (the exception's name, a stack trace symbolized with the image's symbol file): crash is
        /// the user address of the UpcallFrame of the CPU exception nothing handled, or
        /// ExitCrash.ManagedException (the stack is walked from the call; methodTable, the
        /// exception's MethodTable address, names its type from the symbol file).</summary>
        Exit = 514,
        /// <summary>(targetId or 0) -> 0. Gives up the rest of the slice, to targetId if runnable.</summary>
        Yield = 515,
        /// <summary>() -> slot of an Environment capability over a new, empty, stopped child.</summary>
        EnvironmentCreate = 516,
        /// <summary>(envSlot) -> 0. Destroys the environment (SelfSlot: the caller).</summary>
        EnvironmentDestroy = 517,
        /// <summary>(envSlot, rip, rsp, rdi) -> 0. Makes a stopped environment runnable (it gets a slice). With
        /// rip != 0 it starts there with RDI = rdi and RSP = rsp (rsp 0: its saved RSP is kept); every other
        /// register keeps its saved value (all zero in a child EnvironmentCreate made). With rip 0 it resumes
        /// its saved registers unchanged (where ImageSpawn set it up or EnvironmentStop left it), and rsp and
        /// rdi must be 0 (InvalidArgument otherwise). BadAddress for a rip or rsp outside the user half.</summary>
        EnvironmentStart = 518,
        /// <summary>(envSlot, upcallEntry, upcallStackTop, stackPages) -> 0. Registers where upcalls are delivered.
        /// Checked here: upcallEntry is 0 (none) or a user-half address (>= LowestMappable, below ReservedTop),
        /// else BadAddress; stackPages is 0 (UpcallLimits.UpcallStackPages) or at most
        /// UpcallLimits.MaximumUpcallStackPages, else InvalidArgument; upcallStackTop is 16-byte aligned
        /// (InvalidArgument) and the stack's pages [top - stackPages pages, top) lie in mappable user memory
        /// (BadAddress). Whether entry and stack are mapped (entry executable, stack writable) is checked at
        /// each delivery: a failed delivery destroys the environment (DestroyReason.BadUpcall).</summary>
        EnvironmentSetUpcall = 519,
        /// <summary>(envSlot) -> EnvironmentState in RAX, exit status or destroy reason in RDX.</summary>
        EnvironmentStatus = 520,
        /// <summary>(frameNumber or AnyFrame) -> frame number, owned by the caller, zeroed.</summary>
        FrameAllocate = 521,
        /// <summary>(frameNumber) -> 0. Gives an owned frame back (it is unmapped everywhere first).</summary>
        FrameFree = 522,
        /// <summary>(frameNumber, envSlot, writable 0/1) -> 0. Lets another environment map an owned frame.</summary>
        FrameGrant = 523,
        /// <summary>(envSlot, requestsAddress, count) -> count. Applies PageMapRequest[count] all or nothing.</summary>
        PageMap = 524,
        /// <summary>(envSlot, virtualAddress) -> PTE bits (frame &lt;&lt; 12 | PageBits), or NotMapped.</summary>
        PageQuery = 525,
        /// <summary>(targetId, w0, w1, w2, w3, pageAddress or 0) -> 0 in RAX, reply w0 in RDX, reply w1 in RSI.
        /// Synchronous call: runs the target's IPC upcall now, on the rest of this slice; returns when it
        /// replies. The status is apart from the data: RAX is 0 or an Error (then no reply came and RDX,
        /// RSI mean nothing); the reply words are data whatever their value. WouldBlock unless the target
        /// is blocked in Wait.</summary>
        IpcCall = 526,
        /// <summary>(w0, w1, flags, deadline) -> 0. Answers the IpcCall being handled; the caller resumes at once.
        /// flags 1 (IpcReplyFlags.AndWait): if the IPC upcall interrupted a Wait, the replier does not return
        /// from this call: the upcall ends and it is back in that Wait (its upcall frame is dropped).
        /// flags 2 (AndWaitUntil): as 1, and that Wait's deadline becomes 'deadline' (TSC; 0: none;
        /// passed: the Wait returns DeadlinePassed at once).</summary>
        IpcReply = 527,
        /// <summary>(targetId, w0, w1, w2, w3, pageAddress or 0) -> 0. Asynchronous: delivers the upcall to the
        /// target now (on the rest of this slice); the sender resumes in its next slice. WouldBlock
        /// unless the target is blocked in Wait.</summary>
        IpcSend = 528,
        /// <summary>() -> 0 when an upcall arrives. Blocks until an IPC or revocation upcall is delivered; returns
        /// at once (0) if one was delivered while the caller was not in Wait since its last Wait (a pending
        /// wakeup: a libOS's "nothing queued, so Wait" cannot miss an upcall that came in between).</summary>
        Wait = 529,
        /// <summary>(slotIndex or AnySlice) -> slice index. Takes a time slice in the slice vector.</summary>
        SliceAllocate = 530,
        /// <summary>(sliceIndex) -> 0. Gives an owned slice back.</summary>
        SliceFree = 531,
        /// <summary>(envSlot, frameCount, deadlineTicks) -> 0. Asks the environment to release frames by the
        /// deadline (visible revocation); after it the abort protocol takes them.</summary>
        RevokeFrames = 532,
        /// <summary>(imageNameAddress, nameLength, argumentAddress, argumentLength) -> slot of an Environment
        /// capability over a stopped child with the named boot image loaded (segments mapped, a stack of
        /// InitialStackPages below InitialStackTop, the argument copied into its EnvironmentPage). Start it
        /// with EnvironmentStart(slot, 0, 0, 0): rip 0 = the image's entry, rsp 0 = InitialStackTop.</summary>
        ImageSpawn = 533,
        /// <summary>(slot, envSlot) -> slot in the target. Copies a capability (e.g. Console) to a child.</summary>
        CapabilityCopy = 534,
        /// <summary>(fsBase) -> 0. Sets the caller's FS base (its thread pointer, for TLS).</summary>
        SetFsBase = 535,
        /// <summary>(slot) -> CapabilityKind in RAX, the object (environment id, frame) in RDX.</summary>
        CapabilityQuery = 536,
        /// <summary>(envSlot, virtualAddress) -> 0. Clears the accessed and dirty bits of a mapped page.</summary>
        PageClean = 537,
        /// <summary>(value) -> 0. Test support: the kernel prints the value and the caller's frame accounting.</summary>
        Debug = 538,
        /// <summary>(envSlot, virtualAddress, pageCount, permissions) -> pageCount. Sets the permissions
        /// (PageBits.Allowed) of pageCount consecutive mapped pages in one call, all or nothing:
        /// the range form of PageMap's Protect, for the common "protect/unprotect a region".</summary>
        PageProtect = 539,
        /// <summary>(envSlot) -> 0. Stops a runnable environment (Self: the caller): it keeps its
        /// registers and memory but loses its slices and does not run until EnvironmentStart(slot, 0, 0, 0)
        /// resumes it where it stopped. WouldBlock for a blocked environment.</summary>
        EnvironmentStop = 540,
        /// <summary>(entry) -> 0. entry != 0: from now on every `syscall` the caller executes with RAX
        /// below SystemCallNumbers.First (or at or above SystemCallNumbers.End) is delivered to entry as
        /// an UpcallKind.SystemCall upcall instead of failing with NoSuchCall (docs/abi.md, "System-call
        /// upcalls"). entry must be a user-half address (>= LowestMappable, below ReservedTop: BadAddress
        /// otherwise) and an upcall stack must be registered (EnvironmentSetUpcall; InvalidArgument
        /// otherwise). entry 0 turns it off. A child EnvironmentCreate or ImageSpawn makes starts with it off.</summary>
        SetSystemCallUpcall = 541,
        // ---- devices (issue #9)
        /// <summary>(slot, bufferAddress, length) -> bytes copied (0 when none are waiting). Takes up to
        /// length bytes from the kernel's buffer of the Input capability's device (oldest first).
        /// NoCapability unless slot holds an Input capability; InvalidArgument for length above
        /// InputLimits.RingBytes; BadAddress when the buffer is not writable user memory (then no
        /// byte is taken).</summary>
        InputRead = 542,
        /// <summary>(slot, enable 0/1) -> 0. With 1 the caller becomes one of the device's watchers
        /// (InputLimits.WatchersPerDevice at most; every one is woken; when full, the one that asked
        /// longest ago is dropped): when bytes arrive while it is blocked in Wait it gets an
        /// UpcallKind.Input upcall (Word0 = the InputDevice) and its Wait returns 0; when they arrive
        /// while it is not in Wait its next Wait returns at once. 0 stops watching (if the caller
        /// watches). NoCapability unless slot holds an Input capability; InvalidArgument for
        /// enable above 1.</summary>
        InputWatch = 543,
        /// <summary>(slot, virtualAddress) -> pages mapped. With a Display capability: maps the VGA text
        /// buffer (InputLimits.DisplayPages pages from physical 0xB8000) writable, no-execute at
        /// virtualAddress (page-aligned, InvalidArgument otherwise; the range in mappable user memory,
        /// BadAddress otherwise; a page already mapped there is replaced). From then on the kernel
        /// stops drawing its console on VGA (serial unchanged) until every environment that mapped it
        /// has ended. The device frames are no one's: FrameFree, FrameGrant and PageMap refuse them
        /// (NotOwner). NoCapability unless slot holds a Display capability.</summary>
        DeviceMap = 544,
        // ---- notifications (issue #9, session 2: pending IPC, deadlines, child ends)
        /// <summary>(flags) -> the previous flags. Sets how the caller hears of messages and of its
        /// children (NotifyFlags): Asynchronous - an IpcSend that found it outside Wait (kept pending,
        /// see IpcSend) is delivered as an upcall interrupting whatever it runs, the next time it runs
        /// in user mode, instead of at its next Wait; ChildEnded - when an environment it created ends
        /// (for any reason), its Wait (or its next one) returns WaitResult.ChildEnded. InvalidArgument
        /// for any other bit.</summary>
        NotifyControl = 545,
        /// <summary>(deadline) -> WaitResult. Wait with a deadline on the time-stamp counter (the TSC
        /// value, InfoPage.TimestampHz per second): returns Woken (0) as Wait does, ChildEnded, or
        /// DeadlinePassed (1) once the TSC has reached deadline (checked at every timer tick, so up to
        /// one tick late); a deadline already passed returns DeadlinePassed at once unless something
        /// is pending (then that, as Wait).</summary>
        WaitUntil = 546,
        /// <summary>(slot, bufferAddress, length) -> bytes copied. As InputRead (same checks, same
        /// errors), but the bytes stay in the ring: the next InputRead or InputPeek sees them again.</summary>
        InputPeek = 547,
        // ---- fast fork (issue #9, helper fork): 548, 549
        /// <summary>(envSlot, address, pageCount, flags, mark, readOnlyMark) -> pages mapped or changed. Hands the caller's
        /// own mappings of [address, address + pageCount pages) on to another environment at the same
        /// addresses, walking the caller's page tables in the kernel (docs/abi.md, "PageShare"). The
        /// authority is the caller's mapping itself: the target gets the same frame with no more rights
        /// (never writable unless the caller's page is). PageShareFlags: CopyOnWrite (the caller's
        /// writable pages become read-only with 'mark' in both), MarkReadOnly (the target's read-only
        /// pages get 'readOnlyMark', or 'mark' when it is 0), OnDemand (nothing is mapped now: the child the caller created may map
        /// the caller's pages there later with PageInherit), Reclaim / Release (the caller's own pages
        /// carrying 'mark': a frame the caller owns that nobody else maps becomes writable again; one
        /// that others still map is given up, freed with its last mapping). All or nothing.</summary>
        PageShare = 548,
        /// <summary>(address, pageCount) -> pages mapped. Inside a range the caller's creator marked
        /// PageShareFlags.OnDemand: maps into the caller, read-only, the frames its nearest ancestor maps
        /// at the same addresses (docs/abi.md, "PageShare"). Pages the caller maps already or no
        /// ancestor maps are skipped. All or nothing.</summary>
        PageInherit = 549,
        /// <summary>(envSlot, mark, dropOnCopy) -> 0. Copy-on-write resolved by the kernel (docs/abi.md,
        /// "CopyOnWriteMark") for the environment in envSlot (itself, or one it holds a capability
        /// over, e.g. a child before it starts): from then on a write fault from ring 3 on a present,
        /// read-only user page whose leaf carries every bit of 'mark', or an upcall frame the kernel
        /// must write there, is not upcalled; the kernel makes the page writable itself: a frame the
        /// environment owns that nobody else maps keeps its frame and loses 'mark'; any other gets a
        /// fresh frame of the environment's own (charged to it) holding the same bytes, with 'mark'
        /// and 'dropOnCopy' cleared (a frame it owned and others still map is given up, as
        /// PageShare Release). When it cannot (account or memory exhausted) the fault is upcalled as
        /// before. mark = 0 turns it off. Both are software page bits (PageBits.Software0..2), mark
        /// non-empty when on; InvalidArgument otherwise. A new environment starts with it off.</summary>
        CopyOnWriteMark = 550,
        /// <summary>(address, pageCount, permissions) -> pages mapped. Fresh zeroed frames of the
        /// caller's own (charged to it, as FrameAllocate), mapped at [address, address + pageCount
        /// pages) with 'permissions' (as PageMap): FrameAllocate and PageMap in one call, for memory
        /// a libOS fills at once (a program's segments, a heap's growth). InvalidArgument for an
        /// unaligned address, 0 or more than MaximumMapRequests pages, or bad permissions;
        /// BadAddress outside mappable user memory; Busy when a page of the range is mapped already;
        /// QuotaExceeded/NoMemory when the account, the pool or the mapping records cannot cover
        /// them all. All or nothing.</summary>
        PageAllocate = 551,
        /// <summary>(source, destination, pageCount, permissions) -> pages mapped. Maps at
        /// [destination, destination + pageCount pages) of the caller's own space, read-only with
        /// 'permissions' (as PageMap, without Writable: its execute and software bits), the frames
        /// the caller maps at [source, ...) — or, for a source page it does not map inside one of its
        /// on-demand ranges, the frame its nearest ancestor maps there (as PageInherit). A second
        /// view of memory the caller can already read (a program's text mapped from the file's
        /// pages instead of copied). InvalidArgument for unaligned addresses, 0 or more than
        /// MaximumMapRequests pages, bad permissions or Writable; BadAddress outside mappable user
        /// memory; Busy when a destination page is mapped; NotMapped when nobody maps a source page;
        /// NotOwner for a device frame; QuotaExceeded/NoMemory as PageMap. All or nothing.</summary>
        PageAlias = 552,
        // ---- disks (issue #11): Aegis.Abi/Block.cs, docs/abi.md "Disks"
        /// <summary>(slot, BlockInfo* info) -> 0. What a Disk or Extent capability covers.</summary>
        BlockInfo = 553,
        /// <summary>(disk slot, name, name length) -> slot of a writable Extent capability over the
        /// extent of that name. NoSuchExtent when there is none.</summary>
        ExtentOpen = 554,
        /// <summary>(disk slot, sectors, name, name length) -> slot of a writable Extent capability
        /// over a new extent (the lowest free run that fits); the table is on the disk (written and
        /// flushed) when it returns. Busy when the name is taken; NoMemory when no run fits or the
        /// table is full.</summary>
        ExtentAllocate = 555,
        /// <summary>(extent slot) -> 0. Frees the extent (a writable capability): it leaves the table
        /// on the disk; every capability over it names nothing from then on.</summary>
        ExtentFree = 556,
        /// <summary>(extent slot) -> slot of a read-only copy of the Extent capability (to grant with
        /// CapabilityCopy).</summary>
        ExtentRestrict = 557,
        /// <summary>(extent slot, BlockRequest* request) -> 0. Checks the request and its buffer's
        /// pages, pins their frames and starts it; its completion wakes the caller's Wait and is
        /// collected with BlockComplete. WouldBlock when MaximumRequestsPerEnvironment are out.</summary>
        BlockSubmit = 558,
        /// <summary>(BlockCompletion* completions, count) -> completions written: the caller's
        /// completed requests, oldest first, each collected once.</summary>
        BlockComplete = 559,
        // ---- networks (issue #12): Aegis.Abi/Nic.cs, Aegis.Abi/Network.cs, docs/abi.md "Networks"
        /// <summary>(nic slot, NicInfo* info) -> 0. The NIC's address, link and counters.</summary>
        NicInfo = 560,
        /// <summary>(nic slot, ringAddress, slots) -> 0. Attaches the caller's receive ring
        /// (NicRingHeader): ringAddress page-aligned, slots a power of two in
        /// [NicLimits.MinimumRingSlots, MaximumRingSlots]; the header page and the slots' pages
        /// mapped writable, the caller's own frames or granted to it writable (NotOwner), pinned
        /// until detach or the caller's end. Busy when it has a ring already; NoMemory when
        /// MaximumRings are attached. (slot, 0, 0) detaches it (its filters stay: their frames
        /// are dropped and counted until a ring is attached again).</summary>
        NicAttach = 561,
        /// <summary>(nic slot, FilterAtom* atoms, count) -> filter id. Installs a filter whose
        /// frames go to the caller's ring (docs/network-filters.md). A malformed filter:
        /// InvalidArgument, the FilterError in RDX; another environment's filter could accept
        /// the same frame: Busy, FilterError.Overlap in RDX and that environment's id in RSI;
        /// no room: NoMemory (RDX FilterError.Full); a restricted capability and a filter that
        /// does not bind one port of its range (NicCapability): NoCapability.</summary>
        NicFilterInstall = 562,
        /// <summary>(nic slot, filter id) -> 0. Removes one of the caller's filters; NotOwner for
        /// another's, InvalidArgument for an id that names none.</summary>
        NicFilterRemove = 563,
        /// <summary>(nic slot, NicSendRequest* requests, count) -> frames queued. Checks each
        /// frame (length NicLimits.MinimumFrameBytes..NetworkLimits.MaximumFrameBytes, its pages
        /// mapped for the caller and its own or granted, its source MAC the NIC's), pins its pages
        /// and queues it for the device, which reads it by DMA; completion is counted in the ring
        /// header's SendsDone (a ring must be attached: InvalidArgument otherwise). Stops at the
        /// first frame that fails: its error when it is the first, else the count queued before
        /// it. WouldBlock when MaximumSendsInFlight are out or the device's ring is full.</summary>
        NicSend = 564,
        /// <summary>(nic slot, lowPort, highPort) -> slot of a restricted copy of the Nic
        /// capability: only filters binding an IPv4 TCP or UDP destination port in
        /// [lowPort, highPort] (inside the capability's own range). InvalidArgument when
        /// lowPort > highPort or highPort > 65535; NoCapability when the range is not inside.</summary>
        NicRestrict = 565,
        /// <summary>(nic slot, FilterAtom* atoms, count, target environment id) -> filter id.
        /// Installs a filter the caller gives to the target: part of the frames the caller's own
        /// filters claim (a TCP connection out of a port it holds), from now on delivered to the
        /// target's ring. The filter must be covered by one filter of the caller's (NotOwner,
        /// FilterError.NotCovered in RDX), have more atoms than every filter of the caller's that
        /// could accept one of its frames and overlap no other environment's (Busy, Overlap in RDX,
        /// that environment's id in RSI); the target must be alive (BadEnvironment) and have a ring
        /// attached, and be another environment (InvalidArgument). Restricted capabilities and
        /// malformed filters as NicFilterInstall. The filter is the target's; NicFilterRemove by the
        /// target or by the caller (taking it back) removes it.</summary>
        NicFilterDelegate = 566,

        /// <summary>EnvironmentAlive(id): 1 when an environment with that id (slot and generation) is
        /// alive — created and not ended — else 0 (an id never used, 0, an ended one, one being reaped).
        /// No capability is needed: an IpcSend already tells a live id from a dead one. With
        /// InfoPage.EnvironmentEnds, a server that holds resources for clients it did not create
        /// learns which of them ended without saying so (docs/abi.md, "Ends").</summary>
        EnvironmentAlive = 567,
    }

    /// <summary>NotifyControl's flags.</summary>
    public static class NotifyFlags
    {
        /// <summary>Pending messages interrupt the environment (an upcall with UpcallFrame.Trap =
        /// UpcallDelivery.Asynchronous) the next time it runs in user mode.</summary>
        public const ulong Asynchronous = 1;
        /// <summary>A child's end makes its creator's Wait return WaitResult.ChildEnded.</summary>
        public const ulong ChildEnded = 2;
        /// <summary>Any other environment's end (issue #12) makes the Wait return WaitResult.OtherEnded:
        /// a server learns that a client may have ended without saying so (then InfoPage.EnvironmentEnds
        /// and EnvironmentAlive tell which).</summary>
        public const ulong OthersEnded = 4;
        public const ulong All = 7;
    }

    /// <summary>What Wait and WaitUntil return.</summary>
    public static class WaitResult
    {
        /// <summary>An upcall was delivered into the Wait, or a wakeup was pending.</summary>
        public const ulong Woken = 0;
        /// <summary>WaitUntil's deadline passed.</summary>
        public const ulong DeadlinePassed = 1;
        /// <summary>An environment the caller created ended since its last ChildEnded result
        /// (NotifyFlags.ChildEnded; several ends are reported once).</summary>
        public const ulong ChildEnded = 2;
        /// <summary>Another environment ended since the last OtherEnded result (NotifyFlags.OthersEnded;
        /// several ends are reported once; ChildEnded comes first when both are due).</summary>
        public const ulong OtherEnded = 3;
    }

    /// <summary>The range of Aegis's own call numbers: [First, End). Numbers below First (0 .. 511,
    /// the range Linux and other systems use) and from End on are not Aegis calls: NoSuchCall, or a
    /// system-call upcall for an environment that asked for one (SystemCall.SetSystemCallUpcall).</summary>
    public static class SystemCallNumbers
    {
        /// <summary>The first Aegis call number (SystemCall.Null).</summary>
        public const ulong First = 512;
        /// <summary>One past the last Aegis call number.</summary>
        public const ulong End = 568;
    }

    /// <summary>Exit's second argument (besides an UpcallFrame's address).</summary>
    public static class ExitCrash
    {
        /// <summary>A normal end: no report.</summary>
        public const ulong None = 0;
        /// <summary>An unhandled managed exception (a throw nothing caught).</summary>
        public const ulong ManagedException = 1;
    }

    public static class SystemCallLimits
    {
        /// <summary>Most PageMapRequests one PageMap call accepts.</summary>
        public const int MaximumMapRequests = 512;
        /// <summary>Most bytes one ConsoleWrite call accepts.</summary>
        public const int MaximumConsoleWrite = 4096;
        /// <summary>Passed as frameNumber to FrameAllocate: any free frame.</summary>
        public const ulong AnyFrame = ulong.MaxValue;
        /// <summary>Passed as slot index to SliceAllocate: any free slice.</summary>
        public const ulong AnySlice = ulong.MaxValue;
        /// <summary>Most on-demand ranges (PageShareFlags.OnDemand) one environment can hold.</summary>
        public const int MaximumOnDemandRanges = 8;
        /// <summary>Most ancestors PageInherit looks through for a page (past them: not mapped).</summary>
        public const int MaximumInheritDepth = 32;
    }

    /// <summary>PageShare's flags (SystemCall.PageShare, docs/abi.md "PageShare").</summary>
    public static class PageShareFlags
    {
        /// <summary>No flag: the target gets each page with the caller's permissions (software bits included).</summary>
        public const ulong Share = 0;
        /// <summary>A page writable in the caller becomes read-only with the mark bits, in the caller and the target.</summary>
        public const ulong CopyOnWrite = 1;
        /// <summary>A page read-only in the caller gets the mark bits in the target.</summary>
        public const ulong MarkReadOnly = 2;
        /// <summary>Map nothing now: record the range in the target (a child the caller created) for PageInherit.</summary>
        public const ulong OnDemand = 4;
        /// <summary>Caller only (slot Self): a page carrying the mark whose frame the caller owns and
        /// nobody else maps becomes writable and loses the mark. Counted in the result.</summary>
        public const ulong Reclaim = 8;
        /// <summary>Caller only (slot Self): a page carrying the mark whose frame the caller owns and
        /// others map too: the caller gives the frame up (it stays mapped everywhere, is freed with its
        /// last mapping, and stays charged to the caller until then or until the caller ends).</summary>
        public const ulong Release = 16;
        /// <summary>Caller only (slot Self), alone: every page in the range is unmapped; a frame the
        /// caller owns is freed when that was its only mapping, else given up as Release does (freed
        /// with its last mapping); others' frames just lose this mapping (munmap of private memory,
        /// exec's old program, a heap giving pages back). Counted in the result.</summary>
        public const ulong Discard = 32;
        public const ulong All = CopyOnWrite | MarkReadOnly | OnDemand | Reclaim | Release | Discard;
    }
}
