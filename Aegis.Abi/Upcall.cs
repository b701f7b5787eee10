// Upcalls: how the kernel hands control to an environment's libOS. Every upcall is delivered
// the same way: the kernel writes an UpcallFrame on the environment's upcall stack (below the
// current RSP if the environment is already running on that stack, leaving a 128-byte gap),
// then starts it at its upcall entry with RSP = RDI = the frame's address. The frame holds the
// interrupted register state; the libOS resumes it by itself (no kernel entry needed).
// If the entry or the stack is not valid user memory, or writing the frame faults, the
// environment is destroyed (reason in EnvironmentState/DestroyReason).
using System.Runtime.InteropServices;

namespace Aegis.Abi
{
    public enum UpcallKind : ulong
    {
        /// <summary>A CPU exception in user mode: Trap, ErrorCode, FaultAddress are set.</summary>
        Exception = 1,
        /// <summary>An IpcCall: Sender, Words, Frame (if a page was passed). Answer with IpcReply.</summary>
        IpcCall = 2,
        /// <summary>An IpcSend: as IpcCall, but no reply is expected.</summary>
        IpcSend = 3,
        /// <summary>The environment's time slice ended: yield within SliceGraceTicks or be preempted.</summary>
        SliceEnd = 4,
        /// <summary>Visible revocation: release Words[0] frames by tick Words[1] (FrameFree), or the
        /// abort protocol takes them and lists them in the EnvironmentPage's repossession vector.</summary>
        Revoke = 5,
        /// <summary>A `syscall` of the program with a number outside Aegis's range, while
        /// SetSystemCallUpcall is on: only Kind and Registers are meaningful (Registers: the whole
        /// program state, Rip after the syscall, Rax the number, Rcx = Rip and R11 = Rflags as the
        /// instruction leaves them). The frame is always at the upcall stack's top - Size. The
        /// libOS resumes the program itself (docs/abi.md, "System-call upcalls").</summary>
        SystemCall = 6,
        /// <summary>Bytes arrived from an input device the environment watches (InputWatch) while it
        /// was blocked in Wait: Word0 = the InputDevice. Read them with InputRead.</summary>
        Input = 7,
    }

    /// <summary>UpcallFrame.Trap of an IpcSend, IpcCall or Input upcall: how it was delivered.</summary>
    public static class UpcallDelivery
    {
        /// <summary>It ended a Wait (the interrupted registers are the Wait's, which returns 0 when
        /// they are resumed).</summary>
        public const ulong IntoWait = 0;
        /// <summary>It interrupted whatever the environment was running (a pending message delivered
        /// to an environment with NotifyFlags.Asynchronous): the interrupted registers may be
        /// anywhere in its code, its upcall handlers included.</summary>
        public const ulong Asynchronous = 1;
    }

    /// <summary>How many IpcSend messages the kernel keeps for an environment that is not in Wait.</summary>
    public static class IpcLimits
    {
        public const int PendingMessages = 16;
    }

    /// <summary>IpcSend's flags, given as its page argument (no page then: a flag with a page, or
    /// an unknown flag, is InvalidArgument).</summary>
    public static class IpcSendFlags
    {
        /// <summary>A target in Wait runs at once, the sender next slice.</summary>
        public const ulong None = 0;
        /// <summary>A target in Wait is made runnable with the message and runs when the sender
        /// next stops (its Wait, Yield or slice end), the sender going on now: a server that wakes
        /// a process and then waits itself costs one switch, not three.</summary>
        public const ulong SenderContinues = 1;
    }

    /// <summary>IpcReply's flags (its third argument).</summary>
    public static class IpcReplyFlags
    {
        /// <summary>Only the reply: the replier returns from IpcReply.</summary>
        public const ulong None = 0;
        /// <summary>Reply, then back into the Wait the IPC upcall interrupted (its deadline unchanged).</summary>
        public const ulong AndWait = 1;
        /// <summary>As AndWait, with that Wait's deadline replaced by the fourth argument (a TSC value;
        /// 0: none): a deadline already passed makes the Wait return DeadlinePassed at once.</summary>
        public const ulong AndWaitUntil = 2;
    }

    /// <summary>The saved user registers. Layout fixed: offsets are used by assembly trampolines.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UserRegisters
    {
        public ulong R15, R14, R13, R12, R11, R10, R9, R8;   //   0 ..  63
        public ulong Rbp, Rdi, Rsi, Rdx, Rcx, Rbx, Rax;       //  64 .. 119
        public ulong Rip, Rflags, Rsp;                        // 120 .. 143
    }

    /// <summary>What the kernel writes on the upcall stack. 256 bytes, 16-byte aligned.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UpcallFrame
    {
        public UpcallKind Kind;          //   0
        public ulong Trap;               //   8 (Exception) CPU vector
        public ulong ErrorCode;          //  16
        public ulong FaultAddress;       //  24 CR2 for page faults
        public ulong Sender;             //  32 (Ipc) sender's environment id
        public ulong Word0, Word1, Word2, Word3; // 40 .. 71 (Ipc) message; (Revoke) count, deadline
        public ulong Frame;              //  72 (Ipc) frame granted with the message, or ulong.MaxValue
        public ulong Reserved0;          //  80
        public ulong Reserved1;          //  88
        public UserRegisters Registers;  //  96 .. 239 the interrupted state
        public ulong Reserved2, Reserved3; // 240 .. 255

        public const int Size = 256;
        public const int RegistersOffset = 96;
        public const int RedZone = 128;
        public const ulong NoFrame = ulong.MaxValue;
    }

    public static class UpcallLimits
    {
        /// <summary>The upcall stack is the pages below the registered top (this many unless
        /// EnvironmentSetUpcall names a count): an upcall taken while RSP is inside them nests below
        /// RSP instead of starting at the top.</summary>
        public const int UpcallStackPages = 16;
        /// <summary>The most pages EnvironmentSetUpcall accepts for the upcall stack (1 MiB).</summary>
        public const int MaximumUpcallStackPages = 256;
        /// <summary>Timer ticks an environment has after a SliceEnd upcall before it is preempted.</summary>
        public const int SliceGraceTicks = 2;
        /// <summary>Ticks (1 ms each) in one time slice.</summary>
        public const int SliceTicks = 10;
    }
}
