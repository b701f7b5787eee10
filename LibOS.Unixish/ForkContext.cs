// What fork captures of the parent so the child can resume inside Fork: the callee-saved
// registers, the stack pointer and return address of the capture call (Native/unixish.S,
// unixish_fork_capture, is setjmp), the thread pointer, the SSE/x87 control words, and what the
// child's first instructions (unixish_fork_child_entry) need before any managed code runs: the
// system-call numbers to set its FS base and register its upcall entry, and that entry and stack.
// Layout fixed: Native/unixish.S uses the offsets.
// Invariant: the context is complete before the parent shares its memory with the child (the
// child reads its copy of it), and the parent's frame that called the capture is not left
// until the child has been started.
using System.Runtime.InteropServices;

namespace Aegis.LibOS.Unixish
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct ForkContext
    {
        public ulong Rip;            //   0
        public ulong Rsp;            //   8
        public ulong Rbx;            //  16
        public ulong Rbp;            //  24
        public ulong R12;            //  32
        public ulong R13;            //  40
        public ulong R14;            //  48
        public ulong R15;            //  56
        public ulong FsBase;         //  64
        public uint Mxcsr;           //  72
        public ushort FpuControl;    //  76
        public ushort Padding;       //  78
        public ulong SetFsBaseCall;  //  80 SystemCall.SetFsBase
        public ulong SetUpcallCall;  //  88 SystemCall.EnvironmentSetUpcall
        public ulong UpcallEntry;    //  96
        public ulong UpcallStackTop; // 104
    }
}
