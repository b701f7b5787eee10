// The handler types libOS and app code registers with Upcalls and PageFaults. Every handler
// runs on the upcall stack, inside the upcall trampoline, with the interrupted state in 'frame';
// what it leaves in frame.Registers is what resumes (e.g. Rip advanced past a faulting
// instruction). A handler may take further faults (they nest on the upcall stack).
using Aegis.Abi;

namespace Aegis.LibOS
{
    /// <summary>Handles a CPU exception (UpcallKind.Exception) of the trap it was registered for.
    /// Returning resumes the frame's registers.</summary>
    public delegate void ExceptionHandler(ref UpcallFrame frame);

    /// <summary>Offered a page fault (frame.FaultAddress, frame.ErrorCode): returns true if it
    /// dealt with it (the faulting code resumes), false to let the next handler try.</summary>
    public delegate bool PageFaultHandler(ref UpcallFrame frame);

    /// <summary>An IPC upcall: frame.Kind is IpcCall (answer with SystemCalls.IpcReply) or IpcSend;
    /// frame.Sender, frame.Word0..Word3, frame.Frame (UpcallFrame.NoFrame if no page came).</summary>
    public delegate void IpcHandler(ref UpcallFrame frame);

    /// <summary>Visible revocation: release frameCount frames (SystemCalls.FrameFree) by
    /// deadlineTick, or the abort protocol takes them (Info.RepossessedFrames lists them).</summary>
    public delegate void RevocationHandler(ulong frameCount, ulong deadlineTick);

    /// <summary>The time slice ended: save what the libOS needs and give up the CPU (yield) within
    /// UpcallLimits.SliceGraceTicks, or the kernel preempts the environment.</summary>
    public delegate void SliceEndHandler(ref UpcallFrame frame);

    /// <summary>Bytes arrived from a watched input device (UpcallKind.Input) while the environment
    /// waited: read them with SystemCalls.InputRead.</summary>
    public delegate void InputHandler(InputDevice device);
}
