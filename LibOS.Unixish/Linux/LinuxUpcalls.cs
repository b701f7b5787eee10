// The C# side of the Linux trampoline (Native/linux.S): the program's system calls go to the
// one table (LinuxSystemCalls); every other upcall goes to LibOS.Base's dispatcher, except a CPU
// exception raised by the program itself (RIP outside the libOS image), which is the program's:
// a page fault its areas allow is filled (ProgramPages), copy-on-write is offered to LibOS.Base's
// page-fault handlers, and anything else becomes the signal Linux would raise (LinuxSignals).
// A message the kernel delivers asynchronously (another process's signal while this one computes)
// is handled at once when it interrupted the program, and only noted (Processes/Notices.cs) when
// it interrupted the libOS's own code, which may be in the middle of anything.
//
// Invariant: a handler's exception never escapes into the trampoline (no CFI there): the system
// call gets -EFAULT and one log line naming the exception (a bug of ours, reported, not hidden).
using System;
using System.Runtime.InteropServices;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class LinuxUpcalls
    {
        private static ulong s_imageStart, s_imageEnd;

        internal static void Initialize()
        {
            s_imageStart = LinuxNative.ImageStart();
            s_imageEnd = LinuxNative.ImageEnd();
        }

        /// <summary>Whether rip is the libOS's code (else the program's).</summary>
        public static bool InLibOS(ulong rip) => rip >= s_imageStart && rip < s_imageEnd;

        [UnmanagedCallersOnly(EntryPoint = "linux_dispatch_system_call")]
        private static long DispatchSystemCall(UpcallFrame* frame)
        {
            LinuxCall call;
            call.Registers = &frame->Registers;
            try
            {
                long result = LinuxSystemCalls.Dispatch(ref call);
                if (SignalAttention.Word != 0) result = AfterCall(frame, result); // signals, or another thread (ThreadSwitch sets the word)
                return result;
            }
            catch (Exception e)
            {
                LinuxLog.Line(LinuxSystemCallNames.Of(frame->Registers.Rax) + " failed inside the libOS: " + e.GetType().Name + ": " + e.Message + " (answered -EFAULT)");
                return -Errno.EFAULT;
            }
        }

        /// <summary>A system call's end with something to do: another thread to run (LinuxThreads: the
        /// frame becomes its state, resumed as an interrupted program, with no restart logic for a
        /// call it did not just make), signals to deliver.</summary>
        private static long AfterCall(UpcallFrame* frame, long result)
        {
            if (SignalAttention.ThreadSwitch == 0) return Signals.AfterSystemCall(frame, result);
            result = Processes.LinuxThreads.SwitchAfterCall(frame, result);
            if (SignalAttention.Word == 0) return result;
            frame->Registers.Rax = (ulong)result;
            Signals.AfterUpcall(frame);
            return (long)frame->Registers.Rax;
        }

        [UnmanagedCallersOnly(EntryPoint = "linux_dispatch_upcall")]
        private static void DispatchUpcall(UpcallFrame* frame)
        {
            if (frame->Kind == UpcallKind.Exception && !InLibOS(frame->Registers.Rip))
                ProgramException(ref *frame);
            else if (frame->Kind == UpcallKind.IpcSend && frame->Trap == UpcallDelivery.Asynchronous && InLibOS(frame->Registers.Rip))
                Processes.Notices.Stash(frame); // it interrupted the libOS: noted, handled at a safe point
            else
            {
                // The slice ended while a thread of the program ran: the next thread takes over
                // (LinuxThreads' round robin), then the environment yields as always.
                if (frame->Kind == UpcallKind.SliceEnd)
                {
                    // A slice end inside the libOS (a thread's system call) switches at that call's end.
                    if (!InLibOS(frame->Registers.Rip)) Processes.LinuxThreads.Preempt(frame);
                    else Processes.LinuxThreads.PreemptAtCallEnd();
                }
                Upcalls.Dispatch(ref *frame);
            }
            // A signal became deliverable (or a timer is armed) while the program was interrupted.
            if (SignalAttention.Word != 0 && !InLibOS(frame->Registers.Rip))
                Signals.AfterUpcall(frame);
        }

        private static void ProgramException(ref UpcallFrame frame)
        {
            if (frame.Trap != Traps.PageFault)
            {
                LinuxSignals.DeliverFault(ref frame, LinuxSignals.ForTrap(frame.Trap), 0, frame.Registers.Rip);
                return;
            }
            FaultOutcome outcome = ProgramPages.Fault(frame.FaultAddress, PageFaults.IsWrite(frame), PageFaults.IsInstructionFetch(frame),
                PageFaults.IsProtectionViolation(frame));
            switch (outcome)
            {
                case FaultOutcome.Resolved:
                    return;
                case FaultOutcome.NotMine:
                    if (PageFaults.Dispatch(ref frame)) return;
                    LinuxSignals.DeliverFault(ref frame, LinuxSignals.SIGSEGV, LinuxSignals.SEGV_ACCERR, frame.FaultAddress);
                    return;
                case FaultOutcome.OutOfMemory:
                    LinuxLog.Line("out of memory: killed " + LinuxSignals.ProgramName() + " (pid " + LinuxProcess.Id.ToString() + ")");
                    LinuxSignals.Terminate(LinuxSignals.SIGKILL);
                    return;
                default:
                    LinuxSignals.DeliverFault(ref frame, LinuxSignals.SIGSEGV,
                        outcome == FaultOutcome.Forbidden ? LinuxSignals.SEGV_ACCERR : LinuxSignals.SEGV_MAPERR, frame.FaultAddress);
                    return;
            }
        }
    }
}
