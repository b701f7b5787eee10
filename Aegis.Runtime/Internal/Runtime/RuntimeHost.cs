// The few services the runtime needs from whoever hosts it (the kernel, or later a libOS):
// memory for the heap (and a way to give it back), the stacks the collector scans and where it
// may run, a way to stop with a report, and (optionally) names for types.
// Invariant: the host installs its hooks before the first allocation that does not fit the
// initial heap region; until then the runtime works from the region it was given. No collection
// runs before the host registers a stack.
namespace Internal.Runtime
{
    public static unsafe class RuntimeHost
    {
        /// <summary>Asks the host for at least 'bytes' more zeroed, writable bytes. Returns the
        /// start of the new region and its actual size, or 0 when memory is exhausted.</summary>
        internal static delegate*<nuint, nuint*, nint> s_growHeap;

        /// <summary>Stops the machine: reports an unhandled exception (type name, message) and never returns.</summary>
        internal static delegate*<object, string, string, void> s_fail;

        /// <summary>Optional: maps a MethodTable address to a type name (the kernel uses its symbol table).</summary>
        internal static delegate*<nint, string> s_typeName;

        internal static delegate*<nuint, void> s_allocationObserver;
        /// <summary>Debugging aid: called after every allocation with its size (null: none).</summary>
        public static void SetAllocationObserver(delegate*<nuint, void> observer) => s_allocationObserver = observer;

        public static void SetHeapGrower(delegate*<nuint, nuint*, nint> grow) => s_growHeap = grow;

        /// <summary>The failure hook receives the exception object, its type name and its message.</summary>
        public static void SetFailureHandler(delegate*<object, string, string, void> fail) => s_fail = fail;

        public static void SetTypeNameResolver(delegate*<nint, string> resolver) => s_typeName = resolver;

        public static void AddHeapRegion(nint start, nuint size) => Heap.AddRegion(start, size);

        /// <summary>Starts the managed world: GC static bases, eager class constructors and module
        /// initialisers of every module in the image (the __modules section). Call once, after the
        /// first heap region is added. Returns null, or what is wrong with the image.</summary>
        public static string InitializeModules(nint* modulesStart, nint* modulesEnd)
            => CompilerHelpers.StartupCodeHelpers.InitializeModules(modulesStart, modulesEnd);

        /// <summary>Builds one thread's thread-local block: a copy of the image's TLS template
        /// (templateStart..templateEnd, the linker's .tdata), zeroes up to tlsEnd (the end of
        /// .tbss), and the thread control block the FS base must point at (its first word points
        /// at itself, as the x86-64 ELF TLS ABI requires). Returns that thread pointer; the host
        /// loads it into the FS base (MSR 0xC0000100) before any [ThreadStatic] field is used.</summary>
        public static nint CreateThreadLocalStorage(nint templateStart, nint templateEnd, nint tlsEnd)
            => ThreadLocalStorage.Create(templateStart, templateEnd, tlsEnd);

        // ---- Garbage collection (docs/runtime.md, "Garbage collection") ----

        internal static delegate*<nint, nuint, bool> s_releaseHeap;
        internal static delegate*<nint, nuint, bool> s_recommitHeap;
        internal static delegate*<nuint, nuint*, nint> s_reserveHeap;

        /// <summary>For a host with SetHeapReleaser: reserve(bytes, &amp;granted) gives address space for
        /// a new small region without mapping it (0: none); the heap then treats each of its blocks as
        /// released and maps it through the recommit hook when it first uses it. Without this hook a
        /// new region is mapped whole by the grower (2 MiB at once).</summary>
        public static void SetHeapReserver(delegate*<nuint, nuint*, nint> reserve) => s_reserveHeap = reserve;
        internal static delegate*<nint, bool> s_collectionPolicy;

        /// <summary>Hooks through which the heap gives whole free pages back and takes them again:
        /// release(start, bytes) unmaps and frees the frames of a range the grower gave (returns
        /// false if it keeps them: the heap then keeps the range as free memory); recommit(start,
        /// bytes) maps zeroed frames at such a released range again (false: no memory). Both are
        /// called only with page-aligned ranges from the grower, never with the first region.</summary>
        public static void SetHeapReleaser(delegate*<nint, nuint, bool> release, delegate*<nint, nuint, bool> recommit)
        {
            s_releaseHeap = release;
            s_recommitHeap = recommit;
        }

        /// <summary>For a host that forks (a copy-on-write child of the whole address space): the
        /// heap memory that holds nothing yet, as ascending [start, end) pairs (at most maxPairs;
        /// only ranges the grower gave). A fork need not hand these pages on: the child calls
        /// ForgetUntouchedHeapRanges with the same pairs before it allocates, and the heap takes
        /// fresh pages there through the recommit hook when it needs them. Reads only; the answer
        /// holds until the next allocation.</summary>
        public static int UntouchedHeapRanges(ulong* pairs, int maxPairs) => Heap.UntouchedRanges(pairs, maxPairs);

        /// <summary>The child's half of UntouchedHeapRanges: those ranges are not mapped here; the
        /// heap treats them as given back to the host. Returns the bytes forgotten; 'mismatched'
        /// counts blocks that were not untouched here (a host error: they are left as they are).</summary>
        public static nuint ForgetUntouchedHeapRanges(ulong* pairs, int count, out int mismatched) => Heap.ForgetUntouched(pairs, count, out mismatched);

        /// <summary>A stack the collector scans for roots (conservatively): [bottom, top), 8-byte
        /// aligned, mapped for its whole length whenever a collection can run. A collection runs
        /// only on a registered stack; the one it runs on is scanned from its stack pointer up,
        /// the others whole - except those registered onlyWhenCurrent (a stack whose frames are all
        /// gone whenever code runs elsewhere, like a libOS's upcall stack: its leftovers are stale).
        /// At most four. Returns false when the stack cannot be registered.</summary>
        public static bool RegisterStack(nint bottom, nint top, bool onlyWhenCurrent = false) => GcCollector.RegisterStack(bottom, top, onlyWhenCurrent);

        /// <summary>For a host that switches stacks (fibers): the word where the registered stack
        /// whose top is 'top' keeps its resume pointer. Whoever leaves that stack stores its final
        /// stack pointer there (below everything it pushed); while the stack is not the one a
        /// collection runs on, it is scanned from that pointer up (whole when the word is 0 or
        /// outside the stack). Null when no stack has that top. At most 32 stacks in all.</summary>
        public static nint* StackResumePointer(nint top) => GcCollector.ResumePointer(top);

        /// <summary>The runtime's chain of exception dispatches in progress (one per thread of
        /// control). A host that switches stacks saves it when it leaves one and restores it when it
        /// comes back, so a dispatch suspended in a finally block on one stack is not seen by another.</summary>
        public static nint ExceptionDispatchChain
        {
            get => (nint)ExceptionHandling.Dispatcher.s_head;
            set => ExceptionHandling.Dispatcher.s_head = (ExceptionHandling.ExInfo*)value;
        }

        /// <summary>Optional: asked (with the stack pointer) before a collection; false means "not
        /// here" and the heap grows instead. The kernel allows collections only in its own
        /// thread of control (docs/kernel.md), never in an interrupt or system-call handler.</summary>
        public static void SetCollectionPolicy(delegate*<nint, bool> mayCollect) => s_collectionPolicy = mayCollect;

        /// <summary>The most host memory the heap may hold (bytes mapped for it, the first region
        /// included). Reaching it means collecting, then OutOfMemory. Default: no limit.</summary>
        public static void SetHeapLimit(nuint bytes) => Heap.SetLimit(bytes);
        public static nuint HeapLimit => Heap.Limit;

        /// <summary>For a host that interrupts the program (a libOS's upcalls): where an interrupted
        /// thread must resume. If 'instructionPointer' lies in an allocation fast path before the
        /// point where it takes its cell, the answer is the start of that path (which is safe to
        /// redo), so an interrupting handler may allocate too; otherwise it is returned unchanged.</summary>
        public static ulong AllocationRestartPoint(ulong instructionPointer) => Heap.RestartPoint(instructionPointer);

        /// <summary>After a collection the next one comes once factor x (bytes that survived) more
        /// have been allocated (at least 4 MiB), and as much free memory stays mapped for them; the
        /// rest goes back to the host. A larger factor means fewer collections and a bigger heap. Default 3.</summary>
        public static void SetCollectionBudgetFactor(uint factor) => Heap.BudgetFactor = factor == 0 ? 1 : factor;

        /// <summary>Bytes that may be allocated between the last collection and the next (and the
        /// free memory the heap keeps mapped after a collection).</summary>
        public static nuint HeapCollectionBudget => Heap.s_budget;

        /// <summary>Collections so far, the longest one and all of them together (in timestamp-counter ticks).</summary>
        public static ulong HeapCollections => GcCollector.Collections;
        public static ulong LongestCollectionTicks => GcCollector.LongestPause;
        public static ulong TotalCollectionTicks => GcCollector.TotalPause;

        /// <summary>Bytes in objects now: what survived the last collection plus what was allocated since.</summary>
        public static nuint HeapBytesInUse => Heap.BytesInUse;

        public static nuint HeapBytesAllocated => Heap.BytesAllocated;
        /// <summary>Bytes of host memory the heap holds now (falls when free pages go back to the host).</summary>
        public static nuint HeapBytesReserved => Heap.BytesReserved;
        /// <summary>Bytes in free blocks the heap holds (allocatable without asking the host).</summary>
        public static nuint HeapBytesLeft => Heap.BytesLeft;
        /// <summary>How many allocations the heap has made since start (never decreases).</summary>
        public static ulong HeapAllocations => Heap.Allocations;

        /// <summary>Ends the program with an unhandled-exception report. Never returns.</summary>
        public static void Fail(object exception, string typeName, string message)
        {
            if (s_fail != null)
                s_fail(exception, typeName, message);
            while (true) { }
        }

        // ---- Exceptions (Internal/Runtime/ExceptionHandling; docs/runtime.md, "What a throw does") ----

        /// <summary>Optional: names a code address ("Namespace.Type.Method (File.cs:12)") for
        /// Exception.StackTrace; null or no resolver: the address is printed.</summary>
        internal static delegate*<nint, string> s_codeName;
        public static void SetCodeNameResolver(delegate*<nint, string> resolver) => s_codeName = resolver;
        /// <summary>True when the host names code addresses (the kernel; an app has no symbols at run time).</summary>
        public static bool CanNameCode => s_codeName != null;

        internal static string NameOfCode(nint address)
        {
            if (s_codeName != null)
            {
                string name = s_codeName(address);
                if (name != null) return name;
            }
            return "0x" + ((ulong)address).ToString("x");
        }

        /// <summary>Kinds of CPU faults that become managed exceptions (RDI of RhpThrowHwEx).</summary>
        public const int HardwareNullReference = ExceptionHandling.Dispatcher.HardwareNullReference;
        public const int HardwareDivideByZero = ExceptionHandling.Dispatcher.HardwareDivideByZero;
        public const int HardwareOverflow = ExceptionHandling.Dispatcher.HardwareOverflow;

        /// <summary>Faults below this address are null dereferences (ILC relies on it: keep the
        /// first 64 KiB unmapped).</summary>
        public const ulong NullRegionEnd = 0x10000;

        /// <summary>True if rip is in ILC-generated code of this image.</summary>
        public static bool IsManagedCode(ulong rip) => ExceptionHandling.Dispatcher.IsManagedCode(rip);

        /// <summary>For #DE at rip: DivideByZero if the divisor of the div/idiv there is zero,
        /// Overflow otherwise (int.MinValue / -1). 'registers' holds the 16 general registers in
        /// instruction-encoding order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15).</summary>
        public static int DivideErrorKind(byte* rip, ulong* registers) => ExceptionHandling.FaultDecoder.DivideErrorKind(rip, registers);

        /// <summary>Would a managed exception of 'kind' raised at this context be caught (a typed
        /// catch for it, or a filter, in the managed frames from the fault up to the first frame
        /// without unwind information)? Runs nothing. A fault handler redirects the faulting
        /// context to HardwareExceptionEntry only then, and reports the fault as before otherwise.</summary>
        public static bool WouldCatchHardwareException(int kind, ulong rip, ulong rsp, ulong rbx, ulong rbp, ulong r12, ulong r13, ulong r14, ulong r15)
        {
            ExceptionHandling.RegisterSet context;
            context.Rip = rip + 1; // as RhpThrowHwEx presents it: a "return address" after the faulting instruction's first byte
            context.Rsp = rsp;
            context.Rbx = rbx;
            context.Rbp = rbp;
            context.R12 = r12;
            context.R13 = r13;
            context.R14 = r14;
            context.R15 = r15;
            return ExceptionHandling.Dispatcher.WouldCatch(kind, &context);
        }

        /// <summary>Where a fault handler resumes a faulting context to raise the exception: set
        /// RIP to this, RDI to the kind, RSI to the faulting RIP; leave every other register
        /// (RSP included) as at the fault.</summary>
        public static ulong HardwareExceptionEntry => ExceptionHandling.Dispatcher.ThrowHardwareAddress();

        /// <summary>The code addresses recorded by the last throw of 'exception', innermost first
        /// (for failure reports: index 0 is where it was thrown).</summary>
        public static int StackFrameCount(object exception) => exception is System.Exception e ? e.StackFrameCount : 0;
        public static nint StackFrameAddress(object exception, int index) => ((System.Exception)exception).StackFrameAt(index);
        /// <summary>For an exception nothing caught (the failure handler's): the return address into
        /// the first frame without unwind information, where the search for a catch ended (0: unknown).</summary>
        public static nint UnwindStopAddress(object exception) => exception is System.Exception e ? e.UnwindStoppedAt : 0;

        internal static string TypeNameOf(MethodTable* methodTable)
        {
            if (s_typeName != null)
            {
                string name = s_typeName((nint)methodTable);
                if (name != null) return name;
            }
            return "Type@0x" + ((ulong)methodTable).ToString("X");
        }
    }
}
