// The register state saved by Boot/interrupts.S on every interrupt or exception, lowest
// address first. Invariant: field order matches the push order in interrupt_common exactly.
using System.Runtime.InteropServices;

namespace Aegis.Kernel.Hal
{
    [StructLayout(LayoutKind.Sequential)]
    public struct InterruptFrame
    {
        public ulong R15, R14, R13, R12, R11, R10, R9, R8;
        public ulong Rbp, Rdi, Rsi, Rdx, Rcx, Rbx, Rax;
        public ulong Vector;
        public ulong ErrorCode;
        public ulong Rip, Cs, Rflags, Rsp, Ss;

        public bool FromUserMode => (Cs & 3) == 3;
    }
}
