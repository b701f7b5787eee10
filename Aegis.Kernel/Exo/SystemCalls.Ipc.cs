// System calls of protected control transfer: IpcCall, IpcReply, IpcSend. They switch
// environments, so they take the full register frame; the work is in Exo/Ipc.cs.
using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Diagnostics;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe partial class SystemCalls
    {
        private static ulong IpcCall(Environment caller, InterruptFrame* frame)
            => Ipc.Call(caller, frame, frame->Rdi, frame->Rsi, frame->Rdx, frame->R10, frame->R8, frame->R9);

        private static ulong IpcReply(Environment caller, InterruptFrame* frame)
            => Ipc.Reply(caller, frame, frame->Rdi, frame->Rsi, frame->Rdx, frame->R10);

        private static ulong IpcSend(Environment caller, InterruptFrame* frame)
            => Ipc.Send(caller, frame, frame->Rdi, frame->Rsi, frame->Rdx, frame->R10, frame->R8, frame->R9);
    }
}
