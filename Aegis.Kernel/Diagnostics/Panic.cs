// Panic reports: the end of the line for anything the kernel did not expect — a CPU exception
// in kernel mode, an unhandled C# exception (every throw, until try/catch exists), a failed
// assertion, out of memory. The report names the cause, shows the error code, CR2 for page
// faults, the registers and a symbolized stack trace, then stops the machine: under QEMU it
// exits with status 100 (QemuExit.Panic); elsewhere it halts.
// Invariants: a report is printed at most once (a panic inside a panic prints one line and
// stops); the report path allocates little and never depends on interrupts.
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Diagnostics
{
    public static unsafe class Panic
    {
        private const int MaximumFrames = 32;
        private const ulong NullRegionEnd = 0x10000; // faults below 64 KiB are null dereferences
        private static bool s_panicking;

        /// <summary>A kernel-mode CPU exception (called from the interrupt dispatcher).</summary>
        internal static void FromCpuException(InterruptFrame* frame)
        {
            Cpu.DisableInterrupts();
            ulong vector = frame->Vector;
            ulong faultAddress = vector == InterruptDescriptorTable.PageFault || vector == InterruptDescriptorTable.DoubleFault ? Cpu.ReadCr2() : 0;
            string headline;
            if (vector == InterruptDescriptorTable.DoubleFault && IsStackGuard(faultAddress))
                headline = "kernel stack overflow (the stack ran into its guard page at 0x" + Hex(faultAddress) + ")";
            else if (vector == InterruptDescriptorTable.PageFault && IsStackGuard(faultAddress))
                headline = "kernel stack overflow (the stack ran into its guard page at 0x" + Hex(faultAddress) + ")";
            else if (vector == InterruptDescriptorTable.PageFault && faultAddress < NullRegionEnd)
                headline = "System.NullReferenceException: Object reference not set to an instance of an object.";
            else if (vector == InterruptDescriptorTable.DivideError)
                headline = "System.DivideByZeroException: Attempted to divide by zero.";
            else
                headline = "CPU exception: " + InterruptDescriptorTable.ExceptionName(vector);
            if (!Begin(headline))
                return;
            KernelLog.WriteLine("  cause: " + InterruptDescriptorTable.ExceptionName(vector) + " in "
                + (frame->FromUserMode ? "user" : "kernel") + " mode at 0x" + Hex(frame->Rip) + Where(frame->Rip));
            KernelLog.WriteLine("  error code 0x" + Hex(frame->ErrorCode) + (vector == InterruptDescriptorTable.PageFault ? DescribePageFaultError(frame->ErrorCode) : ""));
            KernelLog.WriteLine("  CR2 0x" + Hex(Cpu.ReadCr2()) + "  CR3 0x" + Hex(Cpu.ReadCr3()));
            PrintRegisters(frame);
            PrintStackTrace(frame->Rip, frame->Rbp);
            End();
        }

        /// <summary>An unhandled managed exception, or a runtime failure (hooked into the runtime).</summary>
        internal static void FromRuntimeFailure(object exception, string typeName, string message)
        {
            Cpu.DisableInterrupts();
            if (!Begin(typeName + ": " + message))
                return;
            KernelLog.WriteLine("  cause: unhandled exception (Aegis has no try/catch yet: every throw ends here)");
            PrintStackTrace(0, Cpu.ReadFramePointer());
            End();
        }

        /// <summary>A failed kernel check: names the check and the detail.</summary>
        public static void Fail(string what, string detail)
        {
            Cpu.DisableInterrupts();
            if (!Begin(what + ": " + detail))
                return;
            PrintStackTrace(0, Cpu.ReadFramePointer());
            End();
        }

        private static bool Begin(string headline)
        {
            if (s_panicking)
            {
                KernelLog.WriteLine("PANIC while reporting a panic: " + headline);
                QemuExit.Exit(QemuExit.Panic);
                return false;
            }
            s_panicking = true;
            KernelLog.WriteLine("");
            KernelLog.WriteLine("PANIC: " + headline);
            return true;
        }

        private static void End()
        {
            KernelLog.WriteLine("Aegis: kernel halted after a panic.");
            QemuExit.Exit(QemuExit.Panic);
            Cpu.HaltForever();
        }

        private static string Where(ulong address)
        {
            string description = Symbolizer.DescribeCode(address);
            return description == null ? "" : " in " + description;
        }

        private static bool IsStackGuard(ulong address)
        {
            ulong guard = LinkerSymbols.StackGuard();
            return address >= guard && address < guard + 4096;
        }

        private static string DescribePageFaultError(ulong error)
        {
            string text = (error & 1) != 0 ? " (protection violation" : " (page not present";
            text += (error & 2) != 0 ? ", write" : ", read";
            if ((error & 16) != 0) text += ", instruction fetch";
            text += (error & 4) != 0 ? ", user mode)" : ", kernel mode)";
            return text;
        }

        private static void PrintRegisters(InterruptFrame* f)
        {
            KernelLog.WriteLine("  RIP " + Hex(f->Rip) + "  RSP " + Hex(f->Rsp) + "  RFLAGS " + Hex(f->Rflags));
            KernelLog.WriteLine("  RAX " + Hex(f->Rax) + "  RBX " + Hex(f->Rbx) + "  RCX " + Hex(f->Rcx));
            KernelLog.WriteLine("  RDX " + Hex(f->Rdx) + "  RSI " + Hex(f->Rsi) + "  RDI " + Hex(f->Rdi));
            KernelLog.WriteLine("  RBP " + Hex(f->Rbp) + "  R8  " + Hex(f->R8) + "  R9  " + Hex(f->R9));
            KernelLog.WriteLine("  R10 " + Hex(f->R10) + "  R11 " + Hex(f->R11) + "  R12 " + Hex(f->R12));
            KernelLog.WriteLine("  R13 " + Hex(f->R13) + "  R14 " + Hex(f->R14) + "  R15 " + Hex(f->R15));
            KernelLog.WriteLine("  CS " + Hex(f->Cs) + "  SS " + Hex(f->Ss) + "  vector " + f->Vector.ToString());
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
            for (int i = 0; i < MaximumFrames && IsPlausibleFrame(rbp); i++)
            {
                ulong returnAddress = *(ulong*)(rbp + 8);
                if (returnAddress == 0)
                    break;
                // The return address points after the call; the call itself is one byte earlier.
                PrintFrame(returnAddress - 1);
                ulong next = *(ulong*)rbp;
                if (next <= rbp)
                    break;
                rbp = next;
            }
        }

        private static void PrintFrame(ulong address)
        {
            string description = Symbolizer.DescribeCode(address);
            KernelLog.WriteLine("  at " + (description ?? "?") + " [0x" + Hex(address) + "]");
        }

        private static bool IsPlausibleFrame(ulong rbp)
        {
            if (rbp == 0 || (rbp & 7) != 0)
                return false;
            ulong stackBottom = LinkerSymbols.StackGuard() + 4096;
            ulong stackTop = LinkerSymbols.StackTop();
            if (rbp >= stackBottom && rbp + 16 <= stackTop)
                return true;
            for (int i = 1; i <= 3; i++)
            {
                ulong bottom = GlobalDescriptorTable.IstStackBottom(i);
                if (rbp >= bottom && rbp + 16 <= bottom + 32 * 1024)
                    return true;
            }
            return false;
        }

        private static string Hex(ulong value) => value.ToString("x16");
    }
}
