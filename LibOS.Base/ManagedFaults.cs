// CPU exceptions of an app that become managed exceptions, as .NET has them: a page fault below
// RuntimeHost.NullRegionEnd (64 KiB, never mapped) is a NullReferenceException, a divide error a
// DivideByZeroException (or OverflowException for int.MinValue / -1). Upcalls offers a fault here
// when no libOS handler claimed it; it becomes an exception only if the fault is in the app's
// managed code and a catch for it (or a filter) exists in the frames above it. Then the
// interrupted context resumes in the runtime's RhpThrowHwEx (RDI = kind, RSI = faulting RIP,
// every other register as at the fault), as NativeAOT's signal handler does; otherwise the fault
// is reported as before (Upcalls.ReportAndExit, the kernel's crash report).
using Aegis.Abi;
using Internal.Runtime;

namespace Aegis.LibOS
{
    internal static unsafe class ManagedFaults
    {
        internal static bool TryRaise(ref UpcallFrame frame)
        {
            ref UserRegisters r = ref frame.Registers;
            int kind;
            if (frame.Trap == Traps.PageFault)
            {
                if (frame.FaultAddress >= RuntimeHost.NullRegionEnd)
                    return false;
                kind = RuntimeHost.HardwareNullReference;
            }
            else if (frame.Trap == Traps.DivideError)
            {
                if (!RuntimeHost.IsManagedCode(r.Rip))
                    return false;
                ulong* registers = stackalloc ulong[16];
                registers[0] = r.Rax; registers[1] = r.Rcx; registers[2] = r.Rdx; registers[3] = r.Rbx;
                registers[4] = r.Rsp; registers[5] = r.Rbp; registers[6] = r.Rsi; registers[7] = r.Rdi;
                registers[8] = r.R8; registers[9] = r.R9; registers[10] = r.R10; registers[11] = r.R11;
                registers[12] = r.R12; registers[13] = r.R13; registers[14] = r.R14; registers[15] = r.R15;
                kind = RuntimeHost.DivideErrorKind((byte*)r.Rip, registers);
            }
            else
                return false;
            if (!RuntimeHost.WouldCatchHardwareException(kind, r.Rip, r.Rsp, r.Rbx, r.Rbp, r.R12, r.R13, r.R14, r.R15))
                return false;
            r.Rdi = (ulong)kind;
            r.Rsi = r.Rip;
            r.Rip = RuntimeHost.HardwareExceptionEntry;
            return true;
        }
    }
}
