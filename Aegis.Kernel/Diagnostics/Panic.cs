// Panic reports: the end of the line for anything the kernel did not expect — a CPU exception
// in kernel mode, an unhandled C# exception (a throw nothing catches), a failed
// assertion, out of memory. The report names the cause, shows the error code, CR2 for page
// faults, the registers and a symbolized stack trace, then stops the machine: under QEMU it
// exits with status 100 (QemuExit.Panic); elsewhere it halts.
// Invariants: a report is printed at most once (a panic inside a panic prints one line and
// stops); the re-entry guard is the first thing each entry checks; the report is written piece
// by piece straight to the kernel log and allocates nothing, so it works with the heap
// exhausted (crash=oom-panic). Only symbol names need memory (the demangler builds strings):
// they come from an emergency heap region set aside at start and handed to the runtime when a
// panic begins, so even an out-of-memory panic prints a symbolized stack. It never depends on
// interrupts, and runs on whichever static kernel stack the failure happened on (KernelStacks).
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Diagnostics
{
    public static unsafe class Panic
    {
        private const int MaximumFrames = 32;
        private const ulong NullRegionEnd = 0x10000; // faults below 64 KiB are null dereferences
        private const int EmergencyHeapSize = 256 * 1024;
        private static bool s_panicking;
        private static byte[] s_emergencyHeap;

        /// <summary>Sets the emergency heap region aside (called once the heap can grow).</summary>
        internal static void PrepareEmergencyHeap()
        {
            s_emergencyHeap = new byte[EmergencyHeapSize];
        }

        /// <summary>A kernel-mode CPU exception (called from the interrupt dispatcher).</summary>
        internal static void FromCpuException(InterruptFrame* frame)
        {
            Cpu.DisableInterrupts();
            if (!Enter())
                return;
            ulong vector = frame->Vector;
            ulong faultAddress = vector == InterruptDescriptorTable.PageFault || vector == InterruptDescriptorTable.DoubleFault ? Cpu.ReadCr2() : 0;
            KernelLog.WriteLine("");
            KernelLog.Write("PANIC: ");
            if ((vector == InterruptDescriptorTable.DoubleFault || vector == InterruptDescriptorTable.PageFault) && KernelStacks.IsGuard(faultAddress))
            {
                KernelLog.Write("kernel stack overflow (the stack ran into its guard page at 0x");
                LogText.WriteHex(faultAddress);
                KernelLog.WriteLine(")");
            }
            else if (vector == InterruptDescriptorTable.PageFault && faultAddress < NullRegionEnd)
                KernelLog.WriteLine("System.NullReferenceException: Object reference not set to an instance of an object.");
            else if (vector == InterruptDescriptorTable.DivideError)
                KernelLog.WriteLine("System.DivideByZeroException: Attempted to divide by zero.");
            else
            {
                KernelLog.Write("CPU exception: ");
                KernelLog.WriteLine(InterruptDescriptorTable.ExceptionName(vector));
            }
            UseEmergencyHeap();
            KernelLog.Write("  cause: ");
            KernelLog.Write(InterruptDescriptorTable.ExceptionName(vector));
            KernelLog.Write(frame->FromUserMode ? " in user mode at 0x" : " in kernel mode at 0x");
            LogText.WriteHex(frame->Rip);
            WriteWhere(frame->Rip);
            KernelLog.WriteLine("");
            KernelLog.Write("  error code 0x");
            LogText.WriteHex(frame->ErrorCode);
            if (vector == InterruptDescriptorTable.PageFault)
                WritePageFaultError(frame->ErrorCode);
            KernelLog.WriteLine("");
            KernelLog.Write("  CR2 0x");
            LogText.WriteHex(Cpu.ReadCr2());
            KernelLog.Write("  CR3 0x");
            LogText.WriteHex(Cpu.ReadCr3());
            KernelLog.WriteLine("");
            PrintRegisters(frame);
            PrintStackTrace(frame->Rip, frame->Rbp);
            End();
        }

        /// <summary>An unhandled managed exception, or a runtime failure (hooked into the runtime).</summary>
        internal static void FromRuntimeFailure(object exception, string typeName, string message)
        {
            Cpu.DisableInterrupts();
            if (!Enter())
                return;
            UseEmergencyHeap();
            int frames = Internal.Runtime.RuntimeHost.StackFrameCount(exception);
            ulong stoppedAt = (ulong)Internal.Runtime.RuntimeHost.UnwindStopAddress(exception);
            string boundary = stoppedAt == 0 ? null : Symbolizer.DescribeCode(stoppedAt);
            if (frames > 0 && boundary != null && boundary.StartsWith("aegis_syscall_entry"))
            {
                // docs/kernel.md: a system-call handler may not leave the kernel through an exception.
                string handler = Symbolizer.DescribeCode((ulong)Internal.Runtime.RuntimeHost.StackFrameAddress(exception, frames - 1));
                Headline("an exception left the system-call handler " + (handler ?? "?"), ": ", typeName + ": " + message);
                KernelLog.WriteLine("  cause: system-call handlers must catch what they throw (docs/kernel.md, \"System calls and exceptions\")");
            }
            else
            {
                Headline(typeName, ": ", message);
                KernelLog.WriteLine("  cause: raised in managed code and not caught (or a runtime failure)");
            }
            if (frames > 0)
            {
                KernelLog.WriteLine("Exception frames (from the throw to the last managed frame):");
                for (int i = 0; i < frames; i++)
                    PrintFrame((ulong)Internal.Runtime.RuntimeHost.StackFrameAddress(exception, i));
            }
            PrintStackTrace(0, Cpu.ReadFramePointer());
            End();
        }

        /// <summary>A failed kernel check: names the check and the detail.</summary>
        public static void Fail(string what, string detail)
        {
            Cpu.DisableInterrupts();
            if (!Enter())
                return;
            Headline(what, ": ", detail);
            UseEmergencyHeap();
            PrintStackTrace(0, Cpu.ReadFramePointer());
            End();
        }

        /// <summary>The re-entry guard, checked before anything else is done: a failure while a
        /// report is being written prints one line and stops the machine.</summary>
        private static bool Enter()
        {
            if (s_panicking)
            {
                KernelLog.WriteLine("");
                KernelLog.WriteLine("PANIC while reporting a panic");
                QemuExit.Exit(QemuExit.Panic);
                Cpu.HaltForever();
                return false;
            }
            s_panicking = true;
            VgaTextScreen.Resume(); // an environment had the screen (DeviceMap): the report is shown there too (issue #9)
            return true;
        }

        private static void Headline(string first, string separator, string second)
        {
            KernelLog.WriteLine("");
            KernelLog.Write("PANIC: ");
            KernelLog.Write(first);
            KernelLog.Write(separator);
            KernelLog.WriteLine(second);
        }

        /// <summary>From here on the runtime allocates from the emergency region (for symbol names).</summary>
        private static void UseEmergencyHeap()
        {
            byte[] region = s_emergencyHeap;
            if (region == null) return;
            s_emergencyHeap = null;
            fixed (byte* start = region)
                Internal.Runtime.RuntimeHost.AddHeapRegion((nint)start, (nuint)region.Length);
        }

        private static void End()
        {
            KernelLog.WriteLine("Aegis: kernel halted after a panic.");
            QemuExit.Exit(QemuExit.Panic);
            Cpu.HaltForever();
        }

        private static void WriteWhere(ulong address)
        {
            string description = Symbolizer.DescribeCode(address);
            if (description == null) return;
            KernelLog.Write(" in ");
            KernelLog.Write(description);
        }

        private static void WritePageFaultError(ulong error)
        {
            KernelLog.Write((error & 1) != 0 ? " (protection violation" : " (page not present");
            KernelLog.Write((error & 2) != 0 ? ", write" : ", read");
            if ((error & 16) != 0) KernelLog.Write(", instruction fetch");
            KernelLog.Write((error & 4) != 0 ? ", user mode)" : ", kernel mode)");
        }

        private static void Register(string name, ulong value)
        {
            KernelLog.Write(name);
            LogText.WriteHex(value);
        }

        private static void PrintRegisters(InterruptFrame* f)
        {
            Register("  RIP ", f->Rip); Register("  RSP ", f->Rsp); Register("  RFLAGS ", f->Rflags); KernelLog.WriteLine("");
            Register("  RAX ", f->Rax); Register("  RBX ", f->Rbx); Register("  RCX ", f->Rcx); KernelLog.WriteLine("");
            Register("  RDX ", f->Rdx); Register("  RSI ", f->Rsi); Register("  RDI ", f->Rdi); KernelLog.WriteLine("");
            Register("  RBP ", f->Rbp); Register("  R8  ", f->R8); Register("  R9  ", f->R9); KernelLog.WriteLine("");
            Register("  R10 ", f->R10); Register("  R11 ", f->R11); Register("  R12 ", f->R12); KernelLog.WriteLine("");
            Register("  R13 ", f->R13); Register("  R14 ", f->R14); Register("  R15 ", f->R15); KernelLog.WriteLine("");
            Register("  CS ", f->Cs); Register("  SS ", f->Ss);
            KernelLog.Write("  vector ");
            LogText.WriteDecimal(f->Vector);
            KernelLog.WriteLine("");
        }

        /// <summary>Walks the RBP chain (ILC code keeps frame pointers: [rbp] = caller's rbp,
        /// [rbp+8] = return address). Stops at the first frame outside the kernel's stacks.</summary>
        private static void PrintStackTrace(ulong rip, ulong rbp)
        {
            KernelLog.WriteLine("Stack trace:");
            if (!Symbolizer.HasSymbols)
                KernelLog.WriteLine("  (no symbol file loaded: addresses only)");
            if (rip != 0)
                PrintFrame(rip);
            ulong previous = 0;
            int repeats = 0;
            for (int i = 0; i < MaximumFrames * 64 && IsPlausibleFrame(rbp); i++)
            {
                ulong returnAddress = *(ulong*)(rbp + 8);
                if (returnAddress == 0)
                    break;
                // The return address points after the call; the call itself is one byte earlier.
                ulong callSite = returnAddress - 1;
                if (callSite == previous)
                    repeats++;
                else
                {
                    FlushRepeats(repeats);
                    repeats = 0;
                    PrintFrame(callSite);
                    previous = callSite;
                }
                ulong next = *(ulong*)rbp;
                if (next <= rbp)
                    break;
                rbp = next;
            }
            FlushRepeats(repeats);
        }

        /// <summary>Deep recursion (a stack overflow) prints the repeated frame once, with a count.</summary>
        private static void FlushRepeats(int repeats)
        {
            if (repeats <= 0) return;
            KernelLog.Write("  ... the frame above repeated ");
            LogText.WriteDecimal((ulong)repeats);
            KernelLog.WriteLine(" more times");
        }

        private static void PrintFrame(ulong address)
        {
            string description = Symbolizer.DescribeCode(address);
            KernelLog.Write("  at ");
            KernelLog.Write(description ?? "?");
            KernelLog.Write(" [0x");
            LogText.WriteHex(address);
            KernelLog.WriteLine("]");
        }

        private static bool IsPlausibleFrame(ulong rbp)
            => rbp != 0 && (rbp & 7) == 0 && KernelStacks.Contains(rbp, 16);

        private static bool s_tracing;
        private static int s_traced;
        private const int TracedAllocations = 4;
        /// <summary>Debugging aid (RuntimeHost.SetAllocationObserver): prints the stack of a kernel
        /// heap allocation.</summary>
        internal static void TraceAllocation(nuint size)
        {
            if (s_tracing || s_traced >= TracedAllocations) return;
            s_traced++;
            s_tracing = true;
            KernelLog.Write("kernel heap allocation of ");
            LogText.WriteDecimal((ulong)size);
            KernelLog.WriteLine(" bytes:");
            PrintStackTrace(0, Cpu.ReadFramePointer());
            s_tracing = false;
        }
    }
}
