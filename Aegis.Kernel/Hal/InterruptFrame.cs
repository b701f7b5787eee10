// The register state saved on every interrupt, exception and system-call slow path (the
// SAVE_FRAME_REGISTERS macro of Arch/x86_64/entry.h), lowest address first. Invariant: the
// field offsets are entry.h's IFRAME_* (Aegis.Tests/Host/AsmHeaderTests.cs checks them).
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
