// The twelve primitives of docs/benchmarks.md (definitions: ../shared exokernel brief,
// "Benchmarks"), each measured over Iterations operations after WarmUp operations, through
// the same LibOS.Base calls an app would make:
//   - system calls through SystemCalls (PageMap with requests built once, as a libOS that
//     changes the same pages again and again keeps them);
//   - exceptions through LibOS.Base's upcall trampoline and dispatcher to a handler registered
//     with Upcalls.SetExceptionHandler or PageFaults.Register.
// Primitives timed as a loop report (end - start) / n. Primitives whose operation must be
// undone between operations (prot1, prot100, unprot100) time each operation alone and subtract
// the cost of the empty timing pair (PART rdtsc_pair).
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Bench
{
    internal static unsafe class Benchmarks
    {
        public const int Iterations = 10_000;
        public const int WarmUp = 1_000;
        private const int RangePages = 100;
        private const ulong PageSize = UserAddresses.PageSize;

        /// <summary>Trace-marker ids (bench_trace_begin's argument), in the order of the report.</summary>
        public enum Primitive : ulong
        {
            NullSyscall = 0, ExceptionUpcall, Prot1Unprot1, PagefaultUpcall, IpcRoundtrip, Prot1, Prot100, Unprot100,
            Trap, Appel1, Appel2, Dirty, SyscallUpcall,
        }

        /// <summary>Trace-marker id of the assembly echo server's round trip (a PART).</summary>
        private const ulong TracePartAsmEcho = 12;

        private enum FaultMode { None, RestoreWrite, SkipRead, Appel1, Appel2 }

        // Memory: one page, a range of 100 pages, an address never mapped, request arrays.
        private static ulong s_page;
        private static ulong s_range;
        private static ulong s_unmapped;
        private static PageMapRequest* s_protectPage;     // [1] s_page read-only
        private static PageMapRequest* s_unprotectPage;   // [1] s_page writable
        private static PageMapRequest* s_protectRange;    // [100] the range read-only
        private static PageMapRequest* s_unprotectRange;  // [100] the range writable
        private static PageMapRequest* s_appelPair;       // [2] protect the next page, unprotect the faulting one
        private static PageMapRequest* s_appelOne;        // [1] unprotect the faulting page

        // The page-fault handler's state.
        private static FaultMode s_mode;
        private static ulong s_readResume;
        private static ulong s_appelTarget;   // appel1: the page now protected
        private static ulong s_random = 0x9E3779B97F4A7C15;
        private static ulong s_faults;

        private static ulong s_timingOverhead;

        public static int RunAll()
        {
            Setup();
            Calibrate();

            Measure("null_syscall", NullSyscall);
            Measure("exception_upcall", ExceptionUpcall);
            Measure("prot1_unprot1", Prot1Unprot1);
            Measure("pagefault_upcall", PagefaultUpcall);
            Measure("ipc_roundtrip", IpcRoundtrip);
            Measure("prot1", Prot1);
            Measure("prot100+unprot100", Prot100AndUnprot100);
            Measure("trap", Trap);
            Measure("appel1", Appel1);
            Measure("appel2", Appel2);
            Measure("dirty", Dirty);
            Measure("syscall_upcall", SyscallUpcall);

            // The runtime's workloads (allocation, collection, exceptions): RuntimeWorkloads.cs.
            Measure("runtime", RuntimeWorkloads.Run);

            Measure("parts", Parts);
            Measure("scaling", Scaling);
            Console.WriteLine("BENCH-DONE");
            return 0;
        }

        // ------------------------------------------------------------------ set-up and reporting

        /// <summary>Runs one measurement and reports the free frames before and after it
        /// (FRAMES name before after): the kernel's own allocations show up here, since the
        /// benchmark's memory is all mapped in Setup. The information page is refreshed at each
        /// timer tick, so the figures lag by up to a tick.</summary>
        private static void Measure(string name, System.Action measurement)
        {
            ulong before = Info.FreeFrames;
            measurement();
            ulong after = Info.FreeFrames;
            Console.WriteLine("FRAMES " + name + " " + before.ToString() + " " + after.ToString());
        }

        private static void Setup()
        {
            s_page = MapFresh(1);
            s_range = MapFresh(RangePages);
            s_unmapped = AddressSpace.Reserve(1);
            if (s_unmapped == 0) Fail("no address range for the unmapped page");
            ulong requests = MapFresh(2);
            PageMapRequest* next = (PageMapRequest*)requests;
            s_protectPage = next; next += 1;
            s_unprotectPage = next; next += 1;
            s_appelPair = next; next += 2;
            s_appelOne = next; next += 1;
            s_protectRange = next; next += RangePages;
            s_unprotectRange = next; next += RangePages;
            SetProtect(s_protectPage, s_page, false);
            SetProtect(s_unprotectPage, s_page, true);
            for (int i = 0; i < RangePages; i++)
            {
                SetProtect(s_protectRange + i, RangePage(i), false);
                SetProtect(s_unprotectRange + i, RangePage(i), true);
            }
            s_readResume = Native.ReadResume();
            PageFaults.Register(OnPageFault);
            Upcalls.SetExceptionHandler(Traps.Breakpoint, OnBreakpoint);
        }

        private static ulong MapFresh(int pages)
        {
            ulong address = AddressSpace.Reserve(pages);
            if (address == 0) Fail("no address range for " + pages.ToString() + " pages");
            Error error = Memory.AllocateAndMap(address, pages, Memory.ReadWrite);
            if (error != Error.None) Fail("cannot map " + pages.ToString() + " pages: " + Errors.Name(error));
            return address;
        }

        private static ulong RangePage(int index) => s_range + (ulong)index * PageSize;

        private static void SetProtect(PageMapRequest* request, ulong address, bool writable)
        {
            request->VirtualAddress = address;
            request->Frame = 0;
            request->Permissions = writable ? Memory.ReadWrite : Memory.ReadOnly;
            request->Operation = PageMapOperation.Protect;
            request->Reserved = 0;
        }

        /// <summary>The cost of an empty Rdtsc() pair, subtracted from individually timed operations.</summary>
        private static void Calibrate()
        {
            ulong best = ulong.MaxValue;
            for (int i = 0; i < 100; i++)
            {
                ulong start = Native.Rdtsc();
                ulong end = Native.Rdtsc();
                if (end - start < best) best = end - start;
            }
            s_timingOverhead = best;
        }

        internal static void Report(string name, ulong iterations, ulong cycles)
            => Console.WriteLine("BENCH " + name + " " + iterations.ToString() + " " + PerOperation(cycles, iterations));

        private static void Part(string name, ulong iterations, ulong cycles)
            => Console.WriteLine("PART " + name + " " + iterations.ToString() + " " + PerOperation(cycles, iterations));

        /// <summary>cycles / iterations, rounded to one decimal.</summary>
        private static string PerOperation(ulong cycles, ulong iterations)
        {
            ulong tenths = (cycles * 10 + iterations / 2) / iterations;
            return (tenths / 10).ToString() + "." + (tenths % 10).ToString();
        }

        /// <summary>Total of individually timed sections, less the timing pair's own cost.</summary>
        private static ulong LessOverhead(ulong total, ulong sections)
        {
            ulong overhead = s_timingOverhead * sections;
            return total > overhead ? total - overhead : 0;
        }

        internal static void Fail(string what)
        {
            Console.WriteLine("BENCH-ERROR " + what);
            SystemCalls.Exit(1);
        }

        private static void Check(SystemCallResult result, string what)
        {
            if (result.IsError) Fail(what + ": " + Errors.Name(result.Error));
        }

        // Permission changes use PageProtect, the range form of Protect (one call, one request, all
        // or nothing). The PageMap batch forms above stay for the PART comparison.
        private static void ProtectPage() => Check(SystemCalls.PageProtect(CapabilitySlots.Self, s_page, 1, Memory.ReadOnly), "PageProtect (one page read-only)");
        private static void UnprotectPage() => Check(SystemCalls.PageProtect(CapabilitySlots.Self, s_page, 1, Memory.ReadWrite), "PageProtect (one page writable)");
        private static void ProtectRange() => Check(SystemCalls.PageProtect(CapabilitySlots.Self, s_range, RangePages, Memory.ReadOnly), "PageProtect (100 pages read-only)");
        private static void UnprotectRange() => Check(SystemCalls.PageProtect(CapabilitySlots.Self, s_range, RangePages, Memory.ReadWrite), "PageProtect (100 pages writable)");

        private static void PageMapBatch(PageMapRequest* requests, int count)
        {
            SystemCallResult result = SystemCalls.PageMap(CapabilitySlots.Self, requests, (ulong)count);
            if (result.IsError) Fail("PageMap (" + count.ToString() + " Protect requests): " + Errors.Name(result.Error));
        }

        // ------------------------------------------------------------------ handlers

        private static void OnBreakpoint(ref UpcallFrame frame)
        {
            // int3 is a trap: RIP is already past it, so returning resumes after it.
        }

        private static bool OnPageFault(ref UpcallFrame frame)
        {
            ulong page = PageFaults.FaultPage(frame);
            switch (s_mode)
            {
                case FaultMode.RestoreWrite:
                    if (page != s_page) return false;
                    s_faults++;
                    return !SystemCalls.PageProtect(CapabilitySlots.Self, s_page, 1, Memory.ReadWrite).IsError;
                case FaultMode.SkipRead:
                    if (page != s_unmapped) return false;
                    s_faults++;
                    frame.Registers.Rip = s_readResume;
                    return true;
                case FaultMode.Appel1:
                {
                    if (page != s_appelTarget) return false;
                    s_faults++;
                    ulong next = RangePage(RandomOtherPage(page));
                    if (SystemCalls.PageProtect(CapabilitySlots.Self, next, 1, Memory.ReadOnly).IsError) return false;
                    if (SystemCalls.PageProtect(CapabilitySlots.Self, page, 1, Memory.ReadWrite).IsError) return false;
                    s_appelTarget = next;
                    return true;
                }
                case FaultMode.Appel2:
                    if (page < s_range || page >= RangePage(RangePages)) return false;
                    s_faults++;
                    return !SystemCalls.PageProtect(CapabilitySlots.Self, page, 1, Memory.ReadWrite).IsError;
                default:
                    return false;
            }
        }

        /// <summary>A page index in the range, chosen at random (xorshift64), other than 'page's.</summary>
        private static int RandomOtherPage(ulong page)
        {
            int current = (int)((page - s_range) / PageSize);
            while (true)
            {
                ulong x = s_random;
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s_random = x;
                int index = (int)(x % RangePages);
                if (index != current) return index;
            }
        }

        // ------------------------------------------------------------------ the primitives

        private static void NullSyscall() => Report("null_syscall", Iterations, NullSyscallCycles((ulong)Primitive.NullSyscall));

        private static ulong NullSyscallCycles(ulong traceId)
        {
            for (int i = 0; i < WarmUp; i++) SystemCalls.Null();
            Native.TraceBegin(traceId);
            SystemCalls.Null();
            Native.TraceEnd();
            ulong start = Native.Rdtsc();
            for (int i = 0; i < Iterations; i++) SystemCalls.Null();
            ulong end = Native.Rdtsc();
            return end - start;
        }

        /// <summary>A program's system call with a number below 512 (39, Linux's getppid), delivered as a
        /// system-call upcall to the smallest entry (bench.S: it answers 0 and resumes the program
        /// itself): the kernel's share of a Linux getppid on Aegis (issue #9).</summary>
        private static void SyscallUpcall()
        {
            Error error = SystemCalls.SetSystemCallUpcall(Native.SyscallUpcallEntry());
            if (error != Error.None) Fail("SetSystemCallUpcall: " + Errors.Name(error));
            Native.SyscallUpcallLoop(WarmUp);
            Native.TraceBegin((ulong)Primitive.SyscallUpcall);
            Native.SyscallUpcallLoop(1);
            Native.TraceEnd();
            ulong start = Native.Rdtsc();
            Native.SyscallUpcallLoop(Iterations);
            ulong end = Native.Rdtsc();
            error = SystemCalls.SetSystemCallUpcall(0);
            if (error != Error.None) Fail("SetSystemCallUpcall(0): " + Errors.Name(error));
            Report("syscall_upcall", Iterations, end - start);
        }

        private static void ExceptionUpcall()
        {
            for (int i = 0; i < WarmUp; i++) Native.Int3();
            Native.TraceBegin((ulong)Primitive.ExceptionUpcall);
            Native.Int3();
            Native.TraceEnd();
            ulong start = Native.Rdtsc();
            for (int i = 0; i < Iterations; i++) Native.Int3();
            ulong end = Native.Rdtsc();
            Report("exception_upcall", Iterations, end - start);
        }

        private static void Prot1Unprot1()
        {
            for (int i = 0; i < WarmUp; i++) { ProtectPage(); UnprotectPage(); }
            Native.TraceBegin((ulong)Primitive.Prot1Unprot1);
            ProtectPage();
            UnprotectPage();
            Native.TraceEnd();
            ulong start = Native.Rdtsc();
            for (int i = 0; i < Iterations; i++) { ProtectPage(); UnprotectPage(); }
            ulong end = Native.Rdtsc();
            Report("prot1_unprot1", Iterations, end - start);
        }

        private static void PagefaultUpcall() => Report("pagefault_upcall", Iterations, PagefaultUpcallCycles((ulong)Primitive.PagefaultUpcall));

        private static ulong PagefaultUpcallCycles(ulong traceId)
        {
            ulong* word = (ulong*)s_page;
            s_mode = FaultMode.RestoreWrite;
            s_faults = 0;
            for (int i = 0; i < WarmUp; i++) { ProtectPage(); *word = (ulong)i; }
            Native.TraceBegin(traceId);
            ProtectPage();
            *word = 1;
            Native.TraceEnd();
            ulong start = Native.Rdtsc();
            for (int i = 0; i < Iterations; i++) { ProtectPage(); *word = (ulong)i; }
            ulong end = Native.Rdtsc();
            s_mode = FaultMode.None;
            if (s_faults != WarmUp + 1 + Iterations) Fail("pagefault_upcall: " + s_faults.ToString() + " faults, expected one per write");
            return end - start;
        }

        private static void IpcRoundtrip()
        {
            ulong cycles = IpcRoundtrips(EchoServer.Argument, (ulong)Primitive.IpcRoundtrip, out ulong retries);
            Report("ipc_roundtrip", Iterations, cycles);
            Part("ipc_roundtrip.would_block_retries", Iterations, retries);
        }

        /// <summary>Spawns an echo server with 'argument', times Iterations round trips with it,
        /// stops it. Returns the cycles; 'retries' counts the calls refused with WouldBlock.</summary>
        private static ulong IpcRoundtrips(string argument, ulong traceId, out ulong retries)
        {
            ulong echo = StartEchoServer(argument, out ulong echoId);
            s_ipcRetries = 0;
            for (int i = 0; i < WarmUp; i++) Call(echoId, (ulong)i);
            Native.TraceBegin(traceId);
            Call(echoId, 1);
            Native.TraceEnd();
            s_ipcRetries = 0;
            ulong start = Native.Rdtsc();
            for (int i = 0; i < Iterations; i++) Call(echoId, (ulong)i);
            ulong end = Native.Rdtsc();
            retries = s_ipcRetries;
            StopEchoServer(echo, echoId);
            return end - start;
        }

        private static ulong s_ipcRetries;

        /// <summary>One round trip as an app makes it: IpcCall; while the server is not back in
        /// Wait yet (WouldBlock), give it the CPU (Yield to it) and call again.</summary>
        private static void Call(ulong target, ulong word)
        {
            SystemCallResult reply = SystemCalls.IpcCall(target, word, 0, 0, 0);
            while (reply.Error == Error.WouldBlock)
            {
                s_ipcRetries++;
                SystemCalls.Yield(target);
                reply = SystemCalls.IpcCall(target, word, 0, 0, 0);
            }
            if (reply.IsError || reply.Second != word) Fail("ipc_roundtrip: sent " + word.ToString() + ", the echo server answered " + reply.ToString() + " / " + reply.Second.ToString());
        }

        /// <summary>Spawns this image as an echo server, lets it start, and returns its slot and id.</summary>
        private static ulong StartEchoServer(string argument, out ulong id)
        {
            string problem = EchoServer.StartChild(argument, true, out ulong slot, out id);
            if (problem != null) Fail("starting an echo server (" + argument + "): " + problem);
            return slot;
        }

        /// <summary>Ends an echo server (and the servers it started) through its capability, which
        /// also frees the capability slot (a slot naming an ended environment cannot be freed, and
        /// an environment has 64).</summary>
        private static void StopEchoServer(ulong slot, ulong id)
        {
            Error error = SystemCalls.EnvironmentDestroy(slot);
            if (error != Error.None) Fail("EnvironmentDestroy of echo server " + id.ToString("x") + ": " + Errors.Name(error));
        }

        private static void Prot1()
        {
            for (int i = 0; i < WarmUp; i++) { ProtectPage(); UnprotectPage(); }
            Native.TraceBegin((ulong)Primitive.Prot1);
            ProtectPage();
            Native.TraceEnd();
            UnprotectPage();
            ulong total = 0;
            for (int i = 0; i < Iterations; i++)
            {
                ulong start = Native.Rdtsc();
                ProtectPage();
                ulong end = Native.Rdtsc();
                total += end - start;
                UnprotectPage();
            }
            Report("prot1", Iterations, LessOverhead(total, Iterations));
        }

        private static void Prot100AndUnprot100()
        {
            for (int i = 0; i < WarmUp / 10; i++) { ProtectRange(); UnprotectRange(); }
            Native.TraceBegin((ulong)Primitive.Prot100);
            ProtectRange();
            Native.TraceEnd();
            Native.TraceBegin((ulong)Primitive.Unprot100);
            UnprotectRange();
            Native.TraceEnd();
            ulong protect = 0, unprotect = 0;
            for (int i = 0; i < Iterations; i++)
            {
                ulong t0 = Native.Rdtsc();
                ProtectRange();
                ulong t1 = Native.Rdtsc();
                UnprotectRange();
                ulong t2 = Native.Rdtsc();
                protect += t1 - t0;
                unprotect += t2 - t1;
            }
            Report("prot100", Iterations, LessOverhead(protect, Iterations));
            Report("unprot100", Iterations, LessOverhead(unprotect, Iterations));
        }

        private static void Trap()
        {
            ulong* address = (ulong*)s_unmapped;
            s_mode = FaultMode.SkipRead;
            s_faults = 0;
            for (int i = 0; i < WarmUp; i++) Native.Read(address);
            Native.TraceBegin((ulong)Primitive.Trap);
            Native.Read(address);
            Native.TraceEnd();
            ulong start = Native.Rdtsc();
            for (int i = 0; i < Iterations; i++) Native.Read(address);
            ulong end = Native.Rdtsc();
            s_mode = FaultMode.None;
            if (s_faults != WarmUp + 1 + Iterations) Fail("trap: " + s_faults.ToString() + " faults, expected one per read");
            Report("trap", Iterations, end - start);
        }

        private static void Appel1()
        {
            s_appelTarget = RangePage(0);
            SetProtect(s_appelOne, s_appelTarget, false);
            Check(SystemCalls.PageMap(CapabilitySlots.Self, s_appelOne, 1), "PageMap (appel1's first page)");
            s_mode = FaultMode.Appel1;
            s_faults = 0;
            for (int i = 0; i < WarmUp; i++) *(ulong*)s_appelTarget = (ulong)i;
            Native.TraceBegin((ulong)Primitive.Appel1);
            *(ulong*)s_appelTarget = 1;
            Native.TraceEnd();
            ulong start = Native.Rdtsc();
            for (int i = 0; i < Iterations; i++) *(ulong*)s_appelTarget = (ulong)i;
            ulong end = Native.Rdtsc();
            s_mode = FaultMode.None;
            if (s_faults != WarmUp + 1 + Iterations) Fail("appel1: " + s_faults.ToString() + " faults, expected one per write");
            UnprotectRange();
            Report("appel1", Iterations, end - start);
        }

        private static void Appel2()
        {
            const int Rounds = Iterations / RangePages;
            s_mode = FaultMode.Appel2;
            s_faults = 0;
            for (int round = 0; round < WarmUp / RangePages; round++) Appel2Round();
            Native.TraceBegin((ulong)Primitive.Appel2);
            ProtectRange();
            *(ulong*)s_range = 1;
            Native.TraceEnd();
            for (int page = 1; page < RangePages; page++) *(ulong*)RangePage(page) = 1;
            ulong start = Native.Rdtsc();
            for (int round = 0; round < Rounds; round++) Appel2Round();
            ulong end = Native.Rdtsc();
            s_mode = FaultMode.None;
            if (s_faults != (ulong)(WarmUp / RangePages + 1 + Rounds) * RangePages) Fail("appel2: " + s_faults.ToString() + " faults, expected one per page");
            Report("appel2", (ulong)Rounds * RangePages, end - start);
        }

        private static void Appel2Round()
        {
            ProtectRange();
            for (int page = 0; page < RangePages; page++)
                *(ulong*)(s_range + (ulong)page * PageSize) = (ulong)page;
        }

        private static void Dirty()
        {
            *(ulong*)s_page = 42; // written since it was mapped: the answer must be yes
            ulong seen = 0;
            for (int i = 0; i < WarmUp; i++) seen += IsDirty(s_page);
            Native.TraceBegin((ulong)Primitive.Dirty);
            seen += IsDirty(s_page);
            Native.TraceEnd();
            ulong start = Native.Rdtsc();
            for (int i = 0; i < Iterations; i++) seen += IsDirty(s_page);
            ulong end = Native.Rdtsc();
            if (seen != WarmUp + 1 + Iterations) Fail("dirty: PageQuery did not report the written page as dirty");
            Report("dirty", Iterations, end - start);
        }

        /// <summary>1 if the page was written since it was mapped (or cleaned), else 0.</summary>
        private static ulong IsDirty(ulong address)
        {
            SystemCallResult result = SystemCalls.PageQuery(CapabilitySlots.Self, address);
            // A no-execute page's entry has bit 63 set, so RAX is negative as a signed number
            // although the call succeeded: only -4095..-1 are errors (docs/abi.md).
            if (result.Raw < 0 && result.Raw >= -4095) Fail("PageQuery: " + Errors.Name(result.Error));
            return (result.Value & PageBits.Dirty) >> 6;
        }

        // ------------------------------------------------------------------ how cost grows

        /// <summary>Trace-marker id that no trace asks for (measurements repeated for scaling).</summary>
        private const ulong NoTrace = 99;

        /// <summary>The same primitives again with more live environments or more mapped memory:
        /// BENCH name@parameter lines. Idle environments are echo servers nobody calls (blocked in
        /// Wait, each holding a time slice); 64 is every slice of the slice vector.</summary>
        private static void Scaling()
        {
            Report("null_syscall@1", Iterations, NullSyscallCycles(NoTrace));
            MapFresh(256);
            Report("pagefault_upcall@1MiB", Iterations, PagefaultUpcallCycles(NoTrace));

            // Live: this benchmark, the echo server of the round trips, and idle echo servers (a
            // nursery "echo+N" and its N children).
            Report("ipc_roundtrip@2", Iterations, IpcRoundtrips(EchoServer.Argument, NoTrace, out _));
            ulong freeBefore = Info.FreeFrames;
            ulong first = StartEchoServer(EchoServer.NurseryPrefix + "13", out ulong firstId);
            Report("ipc_roundtrip@16", Iterations, IpcRoundtrips(EchoServer.Argument, NoTrace, out _));
            ulong second = StartEchoServer(EchoServer.NurseryPrefix + "47", out ulong secondId);
            Report("ipc_roundtrip@64", Iterations, IpcRoundtrips(EchoServer.Argument, NoTrace, out _));
            ulong last = StartEchoServer(EchoServer.Argument, out ulong lastId);
            Report("null_syscall@64", Iterations, NullSyscallCycles(NoTrace));
            StopEchoServer(last, lastId);
            StopEchoServer(second, secondId);
            StopEchoServer(first, firstId);
            // 64 environments started and ended: what the kernel kept of them shows here.
            SystemCalls.Yield();
            Console.WriteLine("FRAMES scaling.environments " + freeBefore.ToString() + " " + Info.FreeFrames.ToString());

            // Last: 256 MiB stay mapped until the benchmark exits (giving 65,536 frames back one by
            // one would take long: FrameFree looks for the frame's mappings in the whole address space).
            MapFresh(65536);
            Report("pagefault_upcall@256MiB", Iterations, PagefaultUpcallCycles(NoTrace));
        }

        // ------------------------------------------------------------------ pieces, for the analysis

        private static void Parts()
        {
            Part("rdtsc_pair", 1, s_timingOverhead);

            // The kernel crossing alone: `syscall` in an assembly loop (3 more instructions each).
            Native.SyscallLoop(WarmUp);
            ulong start = Native.Rdtsc();
            Native.SyscallLoop(Iterations);
            ulong end = Native.Rdtsc();
            Part("null_syscall.asm_loop", Iterations, end - start);

            // The kernel's exception delivery with a minimal resume in assembly (no SSE save,
            // no C# dispatch): what exception_upcall and trap cost without LibOS.Base's trampoline.
            Error error = SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, Native.RawUpcallEntry(), AddressSpace.UpcallStackTop);
            if (error != Error.None) Fail("EnvironmentSetUpcall (raw entry): " + Errors.Name(error));
            Native.Int3Loop(WarmUp);
            start = Native.Rdtsc();
            Native.Int3Loop(Iterations);
            end = Native.Rdtsc();
            Part("exception_upcall.asm_entry", Iterations, end - start);
            ulong* unmapped = (ulong*)s_unmapped;
            Native.ReadLoop(unmapped, WarmUp);
            start = Native.Rdtsc();
            Native.ReadLoop(unmapped, Iterations);
            end = Native.Rdtsc();
            Part("trap.asm_entry", Iterations, end - start);
            error = SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, Upcalls.EntryAddress, AddressSpace.UpcallStackTop);
            if (error != Error.None) Fail("EnvironmentSetUpcall (LibOS.Base entry): " + Errors.Name(error));

            // The IPC round trip with the echo server in assembly (no trampoline, no C#).
            ulong cycles = IpcRoundtrips(EchoServer.AssemblyArgument, TracePartAsmEcho, out ulong retries);
            Part("ipc_roundtrip.asm_echo", Iterations, cycles);
            Part("ipc_roundtrip.asm_echo.would_block_retries", Iterations, retries);

            // Through LibOS.Base's Memory.Protect helper instead of a prebuilt request.
            for (int i = 0; i < WarmUp; i++) { Memory.Protect(s_page, 1, Memory.ReadOnly); Memory.Protect(s_page, 1, Memory.ReadWrite); }
            start = Native.Rdtsc();
            for (int i = 0; i < Iterations; i++) { Memory.Protect(s_page, 1, Memory.ReadOnly); Memory.Protect(s_page, 1, Memory.ReadWrite); }
            end = Native.Rdtsc();
            Part("prot1_unprot1.memory_protect", Iterations, end - start);

            // The same permission changes through PageMap's batch form (one Protect request per
            // page, built once), as before PageProtect existed.
            for (int i = 0; i < WarmUp; i++) { PageMapBatch(s_protectPage, 1); PageMapBatch(s_unprotectPage, 1); }
            ulong protect = 0, unprotect = 0;
            for (int i = 0; i < Iterations; i++)
            {
                ulong t0 = Native.Rdtsc();
                PageMapBatch(s_protectPage, 1);
                ulong t1 = Native.Rdtsc();
                PageMapBatch(s_unprotectPage, 1);
                ulong t2 = Native.Rdtsc();
                protect += t1 - t0;
                unprotect += t2 - t1;
            }
            Part("prot1.pagemap", Iterations, LessOverhead(protect, Iterations));
            Part("unprot1.pagemap", Iterations, LessOverhead(unprotect, Iterations));
            for (int i = 0; i < WarmUp / 10; i++) { PageMapBatch(s_protectRange, RangePages); PageMapBatch(s_unprotectRange, RangePages); }
            protect = unprotect = 0;
            for (int i = 0; i < Iterations; i++)
            {
                ulong t0 = Native.Rdtsc();
                PageMapBatch(s_protectRange, RangePages);
                ulong t1 = Native.Rdtsc();
                PageMapBatch(s_unprotectRange, RangePages);
                ulong t2 = Native.Rdtsc();
                protect += t1 - t0;
                unprotect += t2 - t1;
            }
            Part("prot100.pagemap", Iterations, LessOverhead(protect, Iterations));
            Part("unprot100.pagemap", Iterations, LessOverhead(unprotect, Iterations));

            // A PageMap call with no requests: the fixed cost of the call (count 0 returns early).
            start = Native.Rdtsc();
            for (int i = 0; i < Iterations; i++) SystemCalls.PageMap(CapabilitySlots.Self, s_protectPage, 0);
            end = Native.Rdtsc();
            Part("pagemap.zero_requests", Iterations, end - start);

            // An empty C# loop of Rdtsc-free iterations (what the loop itself adds per operation).
            start = Native.Rdtsc();
            for (int i = 0; i < Iterations; i++) Native.TraceEnd();
            end = Native.Rdtsc();
            Part("call_loop", Iterations, end - start);
        }
    }
}
