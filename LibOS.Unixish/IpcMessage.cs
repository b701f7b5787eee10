// One IPC message as IpcServer hands it to the app: who sent it, how (a call expects a reply),
// the four words and the frame of a page that came with it.
namespace Aegis.LibOS.Unixish
{
    public struct IpcMessage
    {
        /// <summary>True for an IpcCall (answer it with IpcServer.Reply), false for an IpcSend.</summary>
        public bool IsCall;
        public ulong Sender;
        public ulong Word0, Word1, Word2, Word3;
        /// <summary>The frame granted with the message (map it with Memory.Map), or
        /// Aegis.Abi.UpcallFrame.NoFrame.</summary>
        public ulong Frame;

        public bool HasPage => Frame != Aegis.Abi.UpcallFrame.NoFrame;
    }

    /// <summary>Answers an IpcCall inside the upcall that delivered it (IpcServer.SetCallHandler).</summary>
    public delegate void IpcCallHandler(in IpcMessage request, out ulong reply0, out ulong reply1);
}

namespace Aegis.LibOS.Unixish
{
    /// <summary>Sees every IpcSend message before it is queued (IpcServer.SetMessageFilter), inside
    /// the upcall: true when it took the message. Must not allocate.</summary>
    public delegate bool IpcMessageFilter(in IpcMessage message);
}
