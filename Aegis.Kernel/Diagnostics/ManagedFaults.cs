// CPU faults in kernel code that become managed exceptions, as .NET has them: a page fault below
// RuntimeHost.NullRegionEnd (64 KiB, never mapped) is a NullReferenceException, a divide error a
// DivideByZeroException (or OverflowException for int.MinValue / -1). Only when the fault is in
// the kernel's managed code and a catch for it (or a filter) exists in the frames above it, up to
// the first frame without unwind information (the interrupt, system-call and boot entries are
// assembly without CFI): then the faulting context resumes in the runtime's RhpThrowHwEx instead
// of the faulting instruction. Everything else (no catch, an interrupt handler, any other vector)
// keeps today's panic report. docs/kernel.md, "Faults that become exceptions".
using Aegis.Kernel.Hal;
using Internal.Runtime;

namespace Aegis.Kernel.Diagnostics
{
    internal static unsafe class ManagedFaults
    {
        /// <summary>Redirects 'frame' to raise the managed exception and returns true, or returns
        /// false (the caller panics).</summary>
        internal static bool TryRaise(InterruptFrame* frame)
        {
            int kind;
            if (frame->Vector == InterruptDescriptorTable.PageFault)
            {
                if (Cpu.ReadCr2() >= RuntimeHost.NullRegionEnd)
                    return false;
                kind = RuntimeHost.HardwareNullReference;
            }
            else if (frame->Vector == InterruptDescriptorTable.DivideError)
            {
                if (!RuntimeHost.IsManagedCode(frame->Rip))
                    return false;
                ulong* registers = stackalloc ulong[16];
                registers[0] = frame->Rax; registers[1] = frame->Rcx; registers[2] = frame->Rdx; registers[3] = frame->Rbx;
                registers[4] = frame->Rsp; registers[5] = frame->Rbp; registers[6] = frame->Rsi; registers[7] = frame->Rdi;
                registers[8] = frame->R8; registers[9] = frame->R9; registers[10] = frame->R10; registers[11] = frame->R11;
                registers[12] = frame->R12; registers[13] = frame->R13; registers[14] = frame->R14; registers[15] = frame->R15;
                kind = RuntimeHost.DivideErrorKind((byte*)frame->Rip, registers);
            }
            else
                return false;
            if (!RuntimeHost.WouldCatchHardwareException(kind, frame->Rip, frame->Rsp, frame->Rbx, frame->Rbp, frame->R12, frame->R13, frame->R14, frame->R15))
                return false;
            frame->Rdi = (ulong)kind;
            frame->Rsi = frame->Rip;
            frame->Rip = RuntimeHost.HardwareExceptionEntry;
            return true;
        }
    }
}
