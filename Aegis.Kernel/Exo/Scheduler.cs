// Running environments: the scheduler loop, time slices, preemption, directed switches
// (yield to an environment, IPC on the rest of a slice), and entry from ring 3.
// Mechanism, not policy: the order is the slice vector's (environments own slices); the
// kernel only enforces that a slice ends. At the end of its slice an environment with an
// upcall entry gets a SliceEnd upcall and SliceGraceTicks to yield; after that (or with no
// entry) it is preempted by force (the abort protocol for the CPU, counted in its page).
// Invariants: the loop runs on the kernel stack with its context in s_loopContext; ring-3
// entries run on the trap stack; at most one environment is Running, and it is s_current.
// FS and GS bases: while an environment runs (and in every kernel path entered from it) the FS
// and GS base registers hold its own values (the kernel's C# code on the trap stack uses neither:
// no thread statics there, and GS only inside usermode.S's swapgs window); they are saved into
// Environment.UserBases when it stops running (back in the loop, or SwitchDirect) and loaded
// when it starts; the loop itself runs with the kernel's FS base (its thread pointer).
using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class Scheduler
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "aegis_run_user")] private static extern void RunUser(InterruptFrame* frame, ulong* loopContext, byte* fxState);
        [MethodImpl(Import), RuntimeImport("*", "aegis_return_to_loop")] private static extern void ReturnToLoop(ulong* loopContext);
        [MethodImpl(Import), RuntimeImport("*", "aegis_resume_user")] private static extern void ResumeUser(InterruptFrame* frame);
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_cpu_block")] private static extern ulong* CpuBlock();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_trap_stack_top")] private static extern ulong TrapStackTop();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_syscall_entry")] private static extern ulong SyscallEntry();

        private const uint EferMsr = 0xC0000080, StarMsr = 0xC0000081, LstarMsr = 0xC0000082, SfmaskMsr = 0xC0000084, KernelGsBaseMsr = 0xC0000102;

        private static Environment s_current;
        private static Environment s_directedNext;
        private static int s_currentSlice = -1;
        private static ulong* s_loopContext;
        private static ulong s_kernelFsBase;
        private static bool s_initialized;
        /// <summary>The loop is halted waiting for an interrupt: a tick then interrupts no kernel work.</summary>
        private static bool s_idle;
        /// <summary>The TSC when the idle loop last halted, until the span is added to
        /// InfoPage.IdleTimestampTicks (EndHalted); 0 when no span is open.</summary>
        private static ulong s_haltedSince;

        public static Environment Current => s_current;
        /// <summary>The loop is halted waiting for an interrupt (an interrupt then interrupts no kernel work).</summary>
        public static bool IsIdle => s_idle;
        public static int CurrentSlice => s_currentSlice;

        public static void Initialize(ulong kernelFsBase)
        {
            s_kernelFsBase = kernelFsBase;
            s_loopContext = (ulong*)RuntimeHelpersAllocate(16);
            ulong trapTop = TrapStackTop();
            ulong* block = CpuBlock();
            block[0] = trapTop;
            GlobalDescriptorTable.SetKernelStackForUserInterrupts(trapTop);
            Cpu.WriteMsr(KernelGsBaseMsr, (ulong)block);
            Cpu.WriteMsr(EferMsr, Cpu.ReadMsr(EferMsr) | 1);                         // SCE
            Cpu.WriteMsr(StarMsr, ((ulong)0x10 << 48) | ((ulong)GlobalDescriptorTable.KernelCode << 32));
            Cpu.WriteMsr(LstarMsr, SyscallEntry());
            Cpu.WriteMsr(SfmaskMsr, 0x47700);                                         // IF, TF, DF, AC, NT, IOPL
            SystemCalls.Initialize();
            s_initialized = true;
        }

        private static ulong[] s_contextStorage;

        private static void* RuntimeHelpersAllocate(int words)
        {
            s_contextStorage = new ulong[words];
            fixed (ulong* storage = s_contextStorage)
                return storage;
        }

        /// <summary>Runs environments until 'done' says so, nothing can run any more, or maxTicks pass.
        /// Returns false on timeout.</summary>
        public static bool Run(Func<bool> done, ulong maxTicks)
        {
            bool finished = RunLoop(done, maxTicks);
            bool interrupts = (Cpu.ReadFlags() & InterruptFlag) != 0;
            Cpu.DisableInterrupts();
            EndHalted();
            if (interrupts) Cpu.EnableInterrupts();
            return finished;
        }

        private const ulong InterruptFlag = 0x200;

        private static bool RunLoop(Func<bool> done, ulong maxTicks)
        {
            ulong deadline = Clock.Ticks + maxTicks;
            while (!done())
            {
                if (Clock.Ticks >= deadline)
                    return false;
                Environment next = PickNext();
                if (next == null)
                {
                    if (!AnyoneCanRun())
                        return true;
                    s_idle = true;
                    // A halted span runs until a device interrupt or the next switch ends it
                    // (EndHalted): the idle loop's own rounds between timer ticks are idle too.
                    if (s_haltedSince == 0) s_haltedSince = Cpu.ReadTimestampCounter();
                    if (!NetworkDevices.WatchWhileIdle()) Cpu.Halt();
                    s_idle = false;
                    if (done() || Clock.Ticks >= deadline) continue; // the loop ends; Run ends the span
                    next = PickNext();
                    if (next == null) continue;                       // still idle: the span goes on
                    Cpu.DisableInterrupts();
                    EndHalted();
                    Cpu.EnableInterrupts();
                }
                Switch(next);
            }
            return true;
        }

        /// <summary>Whether the idle loop's halted span is open (no interrupt has ended it since).</summary>
        public static bool HaltedSpanOpen => s_haltedSince != 0;

        /// <summary>Ends the idle loop's halted span, if one is open: its TSC ticks go to
        /// InfoPage.IdleTimestampTicks. A device interrupt calls it first, so the handler's own work
        /// (and the switch to the environment it wakes) is not counted as idle, and so does the
        /// loop's switch to an environment (docs/abi.md). Interrupts must be off.</summary>
        public static void EndHalted()
        {
            if (s_haltedSince == 0) return;
            Environments.Info->IdleTimestampTicks += Cpu.ReadTimestampCounter() - s_haltedSince;
            s_haltedSince = 0;
        }

        private static bool AnyoneCanRun()
        {
            if (Environments.ReapingCount > 0)
                return true; // the ticks are still returning an ended environment's memory
            for (int i = 0; i < Environments.Capacity; i++)
            {
                Environment environment = Environments.At(i);
                if (environment != null && (environment.IsRunnable || environment.Blocked != BlockReason.None))
                    return true;
            }
            return false;
        }

        private static Environment PickNext()
        {
            Environment directed = s_directedNext;
            s_directedNext = null;
            if (directed != null && directed.IsRunnable)
                return directed;
            int slice = Environments.Slices.Next(s_currentSlice, IsRunnableId);
            if (slice < 0)
                return null;
            s_currentSlice = slice;
            Environment owner = Environments.Find(Environments.Slices.OwnerOf(slice));
            if (owner == null)
                return null;
            owner.SliceTicksLeft = UpcallLimits.SliceTicks;
            owner.SliceEndDelivered = false;
            return owner;
        }

        private static bool IsRunnableId(ulong id)
        {
            Environment environment = Environments.Find(id);
            return environment != null && environment.IsRunnable;
        }

        private static void Switch(Environment next)
        {
            Cpu.DisableInterrupts();
            s_current = next;
            next.State = EnvironmentState.Running;
            Cpu.EnterEnvironment(next.UserBases, next.Counters, next.RootPhysical); // CR3, per-CPU counters, FS/GS bases
            RunUser(next.Frame, s_loopContext, next.FxState);
            // Back in the loop: the environment has been saved (or has ended). The one that ran
            // last (s_current: SwitchDirect may have changed it) keeps its live FS and GS bases;
            // the kernel's thread pointer comes back into FS.
            Environment last = s_current;
            if (last != null)
                Cpu.SaveUserBases(last.UserBases, s_kernelFsBase);
            else
                Cpu.WriteFsBase(s_kernelFsBase);
            if (next.State == EnvironmentState.Running)
                next.State = EnvironmentState.Runnable;
            s_current = null;
            Cpu.EnableInterrupts();
        }

        /// <summary>Copies the live registers (and SSE state saved by the interrupt stub, if any)
        /// into the environment, so it can be resumed later.</summary>
        public static void Save(Environment environment, InterruptFrame* frame, bool hasFxArea)
        {
            *environment.Frame = *frame;
            if (hasFxArea)
                Buffer.MemoryCopy((byte*)frame - 512, environment.FxState, 512, 512);
        }

        /// <summary>Runs 'next' straight from the trap stack, without going through the loop: for
        /// protected control transfer, where the kernel already knows who runs next. The loop stays
        /// suspended in RunUser; whoever next leaves to the loop returns there. Never returns.
        /// The caller has saved the environment that was running.</summary>
        public static void SwitchDirect(Environment next)
        {
            s_directedNext = null;
            Environment previous = s_current;
            s_current = next;
            next.State = EnvironmentState.Running;
            // CR3, the per-CPU counters; the one that ran keeps its live FS and GS bases, next's are loaded.
            Cpu.SwitchEnvironment(previous.UserBases, next.UserBases, next.Counters, next.RootPhysical);
            Cpu.FxRestore(next.FxState);
            ResumeUser(next.Frame);
        }

        /// <summary>Leaves ring-3 handling and lets the loop choose what runs next. Never returns.</summary>
        public static void LeaveToLoop() => ReturnToLoop(s_loopContext);

        /// <summary>The next environment to run is 'target', on the rest of the current slice.</summary>
        public static void DirectTo(Environment target)
        {
            s_directedNext = target;
            target.SliceTicksLeft = s_current != null && s_current.SliceTicksLeft > 0 ? s_current.SliceTicksLeft : 1;
        }

        // ---------------------------------------------------------------- entries from ring 3

        /// <summary>An interrupt or exception taken in ring 3 (frame on the trap stack, fx area below it).</summary>
        public static void OnUserInterrupt(InterruptFrame* frame)
        {
            Environment current = s_current;
            ulong vector = frame->Vector;
            if (current == null)
                Diagnostics.Panic.Fail("ring-3 interrupt with no current environment", "vector " + vector.ToString());
            if (vector < InterruptDescriptorTable.FirstIrq)
            {
                OnUserException(frame);
                return;
            }
            if (vector == InterruptDescriptorTable.FirstIrq + Interrupts.TimerIrq)
                OnUserTimerTick(current, frame);
        }

        /// <summary>A CPU exception taken in ring 3: an upcall, or the environment's end.</summary>
        public static void OnUserException(InterruptFrame* frame)
        {
            Environment current = s_current;
            ulong vector = frame->Vector;
            ulong faultAddress = 0;
            if (vector == InterruptDescriptorTable.PageFault)
            {
                faultAddress = Cpu.ReadCr2();
                // FAST PATH (docs/kernel.md): a write to a present page the libOS marked copy-on-write
                // (SystemCall.CopyOnWriteMark) is resolved here; the environment retries the write.
                const ulong presentWriteUser = 7;
                if (current.CopyOnWriteMark != 0 && (frame->ErrorCode & 0x1F) == presentWriteUser
                    && UserPageTables.TryCopyOnWrite(current, faultAddress))
                    return;
            }
            current.ExceptionUpcalls[vector]++;
            current.LastFaultVector = vector;
            current.LastFaultAddress = faultAddress;
            current.LastFaultErrorCode = frame->ErrorCode;
            current.LastFaultRip = frame->Rip;
            if (current.UpcallEntry == 0)
            {
                AppCrashReport.FromFault(current, vector, faultAddress, frame->ErrorCode, frame->Rip, frame->Rsp, frame->Rbp);
                Save(current, frame, true);
                Diagnostics.TextBuffer why = BeginReport(vector, frame);
                why.Append(" (no upcall entry)");
                Environments.DestroyReporting(current, EnvironmentState.Destroyed, DestroyReason.UnhandledException, vector, why);
                LeaveToLoop();
            }
            // FAST PATH (docs/kernel.md): a ring-3 exception becomes an upcall here, not through the scheduler loop.
            string problem = Upcalls.Deliver(current, frame, UpcallKind.Exception, vector, frame->ErrorCode, faultAddress,
                0, 0, 0, 0, 0, UpcallFrame.NoFrame);
            if (problem != null)
            {
                AppCrashReport.FromFault(current, vector, faultAddress, frame->ErrorCode, frame->Rip, frame->Rsp, frame->Rbp);
                Save(current, frame, true);
                Diagnostics.TextBuffer why = BeginReport(vector, frame);
                why.Append("; cannot deliver the upcall: ");
                why.Append(problem);
                why.Append(" (0x");
                why.AppendHex(Upcalls.ProblemAddress);
                why.Append(')');
                Environments.DestroyReporting(current, EnvironmentState.Destroyed, DestroyReason.BadUpcall, vector, why);
                LeaveToLoop();
            }
            // Return through the interrupt stub: the environment continues in its upcall entry.
        }


        /// <summary>"destroyed: EXCEPTION[ reading 0xADDRESS (not mapped)] at rip 0xRIP" in a fixed
        /// buffer: an environment's death allocates nothing (an app can cause any number of them).</summary>
        private static Diagnostics.TextBuffer BeginReport(ulong vector, InterruptFrame* frame)
        {
            Diagnostics.TextBuffer why = Diagnostics.ReportBuffers.Death;
            why.Clear();
            why.Append("destroyed: ");
            why.Append(InterruptDescriptorTable.ExceptionName(vector));
            if (vector == InterruptDescriptorTable.PageFault)
            {
                ulong error = frame->ErrorCode;
                why.Append((error & 2) != 0 ? " writing 0x" : (error & 16) != 0 ? " executing 0x" : " reading 0x");
                why.AppendHex(Cpu.ReadCr2());
                why.Append((error & 1) != 0 ? " (protection)" : " (not mapped)");
            }
            why.Append(" at rip 0x");
            why.AppendHex(frame->Rip);
            return why;
        }

        private static void OnUserTimerTick(Environment current, InterruptFrame* frame)
        {
            OnTick();
            if (!current.IsAlive)
            {
                LeaveToLoop();
            }
            if (--current.SliceTicksLeft > 0)
                return;
            // A message kept for a running asynchronous environment (resumed from an IpcCall, so not
            // given it when it was sent) interrupts it now, at the end of its slice (Notifications).
            if (current.PendingCount != 0 && !Notifications.OnUserTick(current, frame))
                LeaveToLoop();
            bool ownsSlice = s_currentSlice >= 0 && Environments.Slices.OwnerOf(s_currentSlice) == current.Id;
            if (ownsSlice && current.UpcallEntry != 0 && !current.SliceEndDelivered)
            {
                current.SliceEndDelivered = true;
                current.GraceTicksLeft = UpcallLimits.SliceGraceTicks;
                current.SliceTicksLeft = UpcallLimits.SliceGraceTicks + 1;
                UpcallFrame upcall;
                Upcalls.Header(&upcall, UpcallKind.SliceEnd);
                if (Upcalls.Deliver(current, frame, &upcall) == null)
                    return;
            }
            if (ownsSlice)
            {
                current.ForcedPreemptions++;
                if (current.Page != null) current.Page->PreemptedCount++;
            }
            Save(current, frame, true);
            current.State = EnvironmentState.Runnable;
            LeaveToLoop();
        }

        /// <summary>Every timer tick (ring 3 or kernel): the information page, one tick's share of the
        /// console buffer, of the abort protocol (revocation deadlines) and of the teardown of
        /// ended environments (Environments.Reap).</summary>
        public static void OnTick()
        {
            if (!s_initialized) return;
            Environments.UpdateInfoPage();
            KernelLog.OnTick();
            // Work on frames and page tables only when the tick interrupted an environment or the
            // idle loop, never other kernel code in the middle of changing them.
            if (s_current == null && !s_idle)
                return;
            Revocation.CheckDeadlines();
            if (InputDevices.HasNews) InputDevices.DeliverNews(); // input that came while other kernel code ran (issue #9)
            BlockDevices.OnTick(); // disk completions the interrupt left, timeouts, news (issue #11)
            NetworkDevices.OnTick(); // frames the interrupt left, link changes (issue #12)
            Notifications.OnTick(); // WaitUntil deadlines (issue #9)
            if (Environments.ReapingCount > 0)
                Environments.Reap();
        }

        // ---------------------------------------------------------------- blocking and waking

        /// <summary>Blocks the current environment (its registers in frame) and leaves to the loop.</summary>
        public static void BlockCurrent(InterruptFrame* frame, BlockReason reason)
        {
            Environment current = s_current;
            Save(current, frame, false);
            current.State = EnvironmentState.Blocked;
            current.Blocked = reason;
            LeaveToLoop();
        }

        /// <summary>Makes a blocked environment runnable again with the given call results.</summary>
        public static void Wake(Environment environment, ulong rax, ulong rdx)
        {
            environment.Frame->Rax = rax;
            environment.Frame->Rdx = rdx;
            environment.Blocked = BlockReason.None;
            environment.CallTarget = 0;
            environment.State = EnvironmentState.Runnable;
        }

        /// <summary>An IpcCall that can never be answered: the caller gets the error.</summary>
        public static void FailCall(Environment caller, Error error) => Wake(caller, unchecked((ulong)(long)error), 0);

        public static void OnEnvironmentEnded(Environment environment)
        {
            if (s_directedNext == environment)
                s_directedNext = null;
        }

        /// <summary>Delivers an upcall to an environment that is not running (IPC, revocation).
        /// A blocked Wait returns 0 first. Returns null or why it failed (the caller destroys it).</summary>
        public static string DeliverToWaiting(Environment target, UpcallFrame* upcall)
        {
            if (target.State == EnvironmentState.Blocked && target.Blocked == BlockReason.Waiting)
            {
                target.Frame->Rax = 0;
                target.Blocked = BlockReason.None;
                target.State = EnvironmentState.Runnable;
            }
            else
                target.WakeupPending = true; // not in Wait: its next Wait returns at once
            return Upcalls.Deliver(target, target.Frame, upcall);
        }
    }
}
