// The receiving half of IPC. Start registers one IPC handler with LibOS.Base's upcall dispatch;
// it runs inside each IpcCall/IpcSend upcall and either answers a call at once (SetCallHandler)
// or queues the message for Receive. Exit notices from our children (Process.Exit) are taken
// out of the stream and go to Process.
//
// A call answered by the handler is answered with reply-and-wait (IpcReply's flag,
// SystemCalls.IpcReplyAndWait): the kernel ends the upcall and puts this environment straight
// back into the Wait the call interrupted, so the next call is delivered at once (the fast path
// ./aegis bench's ipc_roundtrip measures).
//
// Receive sleeps in the Wait system call while the queue is empty. No wakeup is lost: an IPC
// upcall is only ever delivered to an environment blocked in Wait (it ends that Wait), and an
// IPC or revocation upcall delivered while this environment is not in Wait (say between
// Receive's "the queue is empty" and its Wait) leaves a wakeup pending in the kernel, which
// makes the next Wait return at once (docs/abi.md, Wait). So "check, then Wait" needs no
// assembly window.
//
// Invariants: the handler allocates nothing; a message is queued by claiming a slot with one
// atomic add and then filling it, so a handler interrupted by another upcall (which nests on
// the upcall stack and runs to completion first) never loses or mixes messages; Receive runs
// only outside upcalls, so it never sees a claimed slot half filled. A full queue drops new
// messages (counted in Dropped); a dropped call is answered with Error.WouldBlock.
using System.Threading;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish
{
    public static unsafe class IpcServer
    {
        public const int Capacity = 64;
        private const int Head = 0, Tail = 1;

        private static IpcMessage[] s_queue;
        private static long[] s_indices;         // [Head], [Tail]: messages taken / queued since start
        private static IpcHandler s_upcallHandler;
        private static IpcCallHandler s_callHandler;
        private static IpcMessageFilter s_filter;
        private static ulong s_dropped;

        /// <summary>Messages dropped because the queue was full.</summary>
        public static ulong Dropped => s_dropped;

        /// <summary>Registers the IPC upcall handler (once).</summary>
        public static void Start()
        {
            if (s_upcallHandler != null)
                return;
            s_queue = new IpcMessage[Capacity];
            s_indices = new long[2];
            s_upcallHandler = OnIpcUpcall;
            Upcalls.SetIpcHandler(s_upcallHandler);
        }

        /// <summary>Set by a call handler: after its reply the upcall returns, so the Wait it came
        /// into returns too (instead of going on with reply-and-wait). A handler that waited itself
        /// (a nested Wait, e.g. for a disk) needs it when the interrupted Wait had a deadline: the
        /// nested Wait replaced it, and the caller of that WaitUntil must set it again.</summary>
        public static bool ReturnAfterReply;

        /// <summary>Set by a call handler (not ulong.MaxValue): the Wait the reply goes back into gets
        /// this deadline instead of its own (TSC; SystemCalls.IpcReplyAndWaitUntil). A server whose
        /// loop waits with a deadline sets it when a call armed an earlier timer, instead of
        /// returning to its loop (ReturnAfterReply) only to wait again.</summary>
        public static ulong ResumeDeadline = ulong.MaxValue;

        /// <summary>Calls are answered in the upcall by 'handler' from now on (null: queued for Receive).</summary>
        public static void SetCallHandler(IpcCallHandler handler)
        {
            Start();
            s_callHandler = handler;
        }

        /// <summary>Messages (IpcSend, not calls) go to 'filter' first; what it takes is not queued
        /// (the Linux personality's process messages: exit notices, signals, group changes).</summary>
        public static void SetMessageFilter(IpcMessageFilter filter)
        {
            Start();
            s_filter = filter;
        }

        /// <summary>The next message, sleeping in Wait until one arrives. A call must be answered
        /// with Reply before another call or send can reach this environment.</summary>
        public static IpcMessage Receive()
        {
            Start();
            IpcMessage message;
            while (!TryReceive(out message))
                SystemCalls.Wait(); // returns at once if an upcall came since the check (see the header)
            return message;
        }

        /// <summary>The next queued message, if there is one (never sleeps).</summary>
        public static bool TryReceive(out IpcMessage message)
        {
            Start();
            long head = s_indices[Head];
            if (head == s_indices[Tail])
            {
                message = default;
                return false;
            }
            message = s_queue[(int)(head % Capacity)];
            s_indices[Head] = head + 1;
            return true;
        }

        /// <summary>Answers the call being handled (a message with IsCall from Receive).</summary>
        public static Error Reply(ulong word0, ulong word1 = 0) => SystemCalls.IpcReply(word0, word1);

        /// <summary>A forked child starts with an empty queue (the parent's messages are the parent's).</summary>
        internal static void ResetAfterFork()
        {
            if (s_indices == null)
                return;
            s_indices[Head] = 0;
            s_indices[Tail] = 0;
            s_dropped = 0;
        }

        private static void OnIpcUpcall(ref UpcallFrame frame)
        {
            IpcMessage message;
            message.IsCall = frame.Kind == UpcallKind.IpcCall;
            message.Sender = frame.Sender;
            message.Word0 = frame.Word0;
            message.Word1 = frame.Word1;
            message.Word2 = frame.Word2;
            message.Word3 = frame.Word3;
            message.Frame = frame.Frame;

            if (!message.IsCall && message.Word3 == Process.ExitNoticeTag && Process.OnExitNotice(message.Sender, message.Word0))
                return;
            if (!message.IsCall && s_filter != null && s_filter(in message))
                return;
            if (message.IsCall && s_callHandler != null)
            {
                s_callHandler(in message, out ulong reply0, out ulong reply1);
                if (ReturnAfterReply)
                {
                    ReturnAfterReply = false;
                    ResumeDeadline = ulong.MaxValue; // the loop sets its own deadline again
                    SystemCalls.IpcReply(reply0, reply1);
                    return;
                }
                // The handler's last act: back to the interrupted Wait inside the kernel (this
                // returns only when the call did not interrupt a Wait, e.g. a pending wakeup).
                ulong deadline = ResumeDeadline;
                if (deadline != ulong.MaxValue)
                {
                    ResumeDeadline = ulong.MaxValue;
                    SystemCalls.IpcReplyAndWaitUntil(reply0, reply1, deadline);
                    return;
                }
                SystemCalls.IpcReplyAndWait(reply0, reply1);
                return;
            }
            if (s_indices[Tail] - s_indices[Head] >= Capacity)
            {
                s_dropped++;
                if (message.IsCall)
                    SystemCalls.IpcReply(unchecked((ulong)(long)Error.WouldBlock), 0);
                return;
            }
            long claimed = Interlocked.Increment(ref s_indices[Tail]) - 1;
            s_queue[(int)(claimed % Capacity)] = message;
        }
    }
}
