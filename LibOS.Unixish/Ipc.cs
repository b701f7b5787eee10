// The sending half of IPC: IpcSend and IpcCall with retries. A target that is answering a call
// (or waiting for a reply of its own) refuses with WouldBlock; the sender yields and tries again,
// up to Attempts times. Any other error is final (no such environment, no upcall entry, a page
// the sender does not own).
using Aegis.Abi;

namespace Aegis.LibOS.Unixish
{
    public static class Ipc
    {
        public const int Attempts = 10000;

        /// <summary>Asynchronous message to 'target'; with pageAddress, the frame mapped there (ours)
        /// is granted to it with the message (writable if our mapping is).</summary>
        public static Error Send(ulong target, ulong word0, ulong word1 = 0, ulong word2 = 0, ulong word3 = 0, ulong pageAddress = 0)
        {
            Error error = Error.WouldBlock;
            for (int attempt = 0; attempt < Attempts && error == Error.WouldBlock; attempt++)
            {
                error = SystemCalls.IpcSend(target, word0, word1, word2, word3, pageAddress);
                if (error == Error.WouldBlock)
                    SystemCalls.Yield();
            }
            return error;
        }

        /// <summary>Synchronous call: runs 'target''s handler now. The result's Error is the status
        /// (Error.None: it replied); its Second is reply word 0 and reply1 reply word 1, data
        /// whatever their values (a reply of -23 is not an error).</summary>
        public static SystemCallResult Call(ulong target, ulong word0, ulong word1, ulong word2, ulong word3, ulong pageAddress, out ulong reply1)
        {
            SystemCallResult result = new SystemCallResult((long)Error.WouldBlock, 0);
            reply1 = 0;
            for (int attempt = 0; attempt < Attempts && result.Error == Error.WouldBlock; attempt++)
            {
                result = SystemCalls.IpcCall(target, word0, word1, word2, word3, pageAddress, out reply1);
                if (result.Error == Error.WouldBlock)
                    SystemCalls.Yield();
            }
            return result;
        }

        /// <summary>Call with reply word 0 only (the result's Second).</summary>
        public static SystemCallResult Call(ulong target, ulong word0, ulong word1 = 0, ulong word2 = 0, ulong word3 = 0, ulong pageAddress = 0)
            => Call(target, word0, word1, word2, word3, pageAddress, out _);
    }
}
