// Managed side of every interrupt: Arch/x86_64/interrupts.S calls Dispatch with the saved frame
// (MachineEventDispatch for NMI and machine check).
// Kernel-mode CPU exceptions are bugs: they end in a panic report, unless managed code expects
// them (a catch for the NullReferenceException or DivideByZeroException: Diagnostics/ManagedFaults.cs)
// or it is a #PF in usermode.S's system-call upcall frame writes (the environment's upcall stack is
// not writable: Exo/SystemCallUpcalls.cs ends it). CPU exceptions in ring 3 are
// the running environment's (an upcall, or its end). NMI and machine check are neither: they
// are the machine's events, whoever was running, so they never reach the environment (no
// upcall, no destruction): an NMI is counted and the interrupted code resumes; a machine check
// (a hardware error the CPU could not correct) stops the machine with a report that says so.
// IRQs go to their handler and get their end-of-interrupt here.
// Invariant: runs with interrupts off (interrupt gates) and RFLAGS.AC clear (interrupt_common's
// clac once SMAP is on; the timer path counts any entry where it is not, which must stay 0).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aegis.Kernel.Diagnostics;

namespace Aegis.Kernel.Hal
{
    internal static unsafe class Interrupts
    {
        public const int TimerIrq = 0;

        /// <summary>Non-maskable interrupts taken, and how many of them interrupted ring 3.</summary>
        public static ulong NmiCount, NmiFromUserCount;

        /// <summary>Timer ticks that interrupted ring 3 while the environment had RFLAGS.AC set, and
        /// timer ticks whose kernel entry still ran with AC set (a hole in SMAP; must stay 0).</summary>
        public static ulong UserTicksWithAlignmentCheck, KernelEntriesWithAlignmentCheck;

        [UnmanagedCallersOnly(EntryPoint = "aegis_interrupt_dispatch")]
        private static void Dispatch(InterruptFrame* frame)
        {
            ulong vector = frame->Vector;
            if (vector < InterruptDescriptorTable.FirstIrq)
            {
                // Ring 3: the environment's business (an upcall, or its end). Ring 0: a kernel bug.
                if (frame->FromUserMode)
                    Exo.Scheduler.OnUserException(frame);
                else if (Exo.SystemCallUpcalls.TryFixUpRedirectFault(frame)) // a system-call upcall's frame write: the environment's fault
                    return;
                else if (!ManagedFaults.TryRaise(frame)) // a null dereference or division a catch expects
                    Panic.FromCpuException(frame);
                return;
            }
            // The IRQs out of line: their locals must not cost the CPU exceptions' path (the upcall
            // primitives: exception_upcall, trap, pagefault_upcall) a register save.
            if (vector < InterruptDescriptorTable.FirstIrq + 16)
                DispatchIrq(frame, (int)vector - InterruptDescriptorTable.FirstIrq);
            // Any other vector: nothing is wired to it; ignore (spurious APIC vector 0xFF included).
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void DispatchIrq(InterruptFrame* frame, int irq)
        {
            if (ProgrammableInterruptController.IsSpurious(irq))
                return;
            if (irq == TimerIrq)
            {
                Clock.Tick();
                if (Diagnostics.Profiler.Enabled) Diagnostics.Profiler.Sample(frame);
                if (frame->FromUserMode && (frame->Rflags & Cpu.FlagsAlignmentCheck) != 0)
                {
                    UserTicksWithAlignmentCheck++;
                    if ((Cpu.ReadFlags() & Cpu.FlagsAlignmentCheck) != 0)
                        KernelEntriesWithAlignmentCheck++;
                }
            }
            else if (irq == Exo.InputDevices.KeyboardIrq || irq == Exo.InputDevices.SerialIrq)
            {
                // Input (issue #9): the bytes into the device's ring; the watcher hears of them
                // now only when no other kernel work was interrupted (else at the next tick).
                Exo.Scheduler.EndHalted(); // the handler's work is not idle time
                Exo.InputDevices.OnInterrupt(irq);
                ProgrammableInterruptController.EndOfInterrupt(irq);
                if (frame->FromUserMode || Exo.Scheduler.IsIdle)
                {
                    Exo.InputDevices.DeliverNews();
                    // A watcher destroyed for a bad upcall may have been an ancestor of the running one.
                    if (frame->FromUserMode && Exo.Scheduler.Current != null && !Exo.Scheduler.Current.IsAlive)
                        Exo.Scheduler.LeaveToLoop();
                }
                return;
            }
            bool disk = irq == Exo.BlockDevices.Irq, network = irq == Exo.NetworkDevices.Irq;
            if (disk || network)
            {
                // A disk (issue #11) or a NIC (issue #12), or both: PCI lines are shared (level-
                // triggered), so every device on the line is asked. Finished disk requests
                // complete; their owners hear of it now only when no other kernel work was
                // interrupted (else at the next tick).
                Exo.Scheduler.EndHalted(); // the handler's work is not idle time
                if (disk) Exo.BlockDevices.OnInterrupt();
                if (network) Exo.NetworkDevices.OnInterrupt(frame->FromUserMode || Exo.Scheduler.IsIdle);
                ProgrammableInterruptController.EndOfInterrupt(irq);
                if (disk && (frame->FromUserMode || Exo.Scheduler.IsIdle))
                    Exo.BlockDevices.DeliverNews();
                return;
            }
            // End of interrupt first: the scheduler may switch away and never come back here.
            ProgrammableInterruptController.EndOfInterrupt(irq);
            if (irq == TimerIrq)
            {
                if (frame->FromUserMode)
                    Exo.Scheduler.OnUserInterrupt(frame);
                else
                    Exo.Scheduler.OnTick();
            }
            return;
        }

        /// <summary>Vectors 2 (NMI) and 18 (machine check) only: their stubs enter through
        /// machine_event_common, so the path of every other vector tests for neither.</summary>
        [UnmanagedCallersOnly(EntryPoint = "aegis_machine_event_dispatch")]
        private static void MachineEventDispatch(InterruptFrame* frame)
        {
            if (frame->Vector == InterruptDescriptorTable.MachineCheck)
                OnMachineCheck(frame);
            else
                OnNmi(frame);
        }

        /// <summary>An NMI (on its own IST stack): nothing in Aegis raises one on purpose except the
        /// protection suite's test; count it and resume whatever was interrupted, in either ring.
        /// Allocates nothing and takes no lock (it can interrupt the kernel anywhere).</summary>
        private static void OnNmi(InterruptFrame* frame)
        {
            NmiCount++;
            if (frame->FromUserMode)
                NmiFromUserCount++;
        }

        /// <summary>A machine check (on its own IST stack): the CPU found a hardware error it could not
        /// correct. Not the running environment's doing, and the kernel has no recovery: stop with a
        /// report that names the machine, not the program.</summary>
        private static void OnMachineCheck(InterruptFrame* frame)
        {
            Panic.Fail("machine check", frame->FromUserMode
                ? "the CPU reported an uncorrectable hardware error while an environment ran (not the environment's fault)"
                : "the CPU reported an uncorrectable hardware error in the kernel");
        }
    }
}
