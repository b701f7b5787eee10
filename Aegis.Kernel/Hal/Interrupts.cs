// Managed side of every interrupt: Boot/interrupts.S calls Dispatch with the saved frame.
// Kernel-mode CPU exceptions are bugs: they end in a panic report. IRQs go to their handler
// and get their end-of-interrupt here. Invariant: runs with interrupts off (interrupt gates).
using System.Runtime.InteropServices;
using Aegis.Kernel.Diagnostics;

namespace Aegis.Kernel.Hal
{
    internal static unsafe class Interrupts
    {
        public const int TimerIrq = 0;

        [UnmanagedCallersOnly(EntryPoint = "aegis_interrupt_dispatch")]
        private static void Dispatch(InterruptFrame* frame)
        {
            ulong vector = frame->Vector;
            if (vector < InterruptDescriptorTable.FirstIrq)
            {
                // Ring 3: the environment's business (an upcall, or its end). Ring 0: a kernel bug.
                if (frame->FromUserMode)
                    Exo.Scheduler.OnUserException(frame);
                else
                    Panic.FromCpuException(frame);
                return;
            }
            if (vector < InterruptDescriptorTable.FirstIrq + 16)
            {
                int irq = (int)vector - InterruptDescriptorTable.FirstIrq;
                if (ProgrammableInterruptController.IsSpurious(irq))
                    return;
                if (irq == TimerIrq)
                    Clock.Tick();
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
            // Any other vector: nothing is wired to it; ignore (spurious APIC vector 0xFF included).
        }
    }
}
