// The receiving half of IPC. Start registers one IPC handler with LibOS.Base's upcall dispatch;
// it runs inside each IpcCall/IpcSend upcall and either answers a call at once (SetCallHandler)
// or queues the message for Receive. Exit notices from our children (Process.Exit) are taken
// out of the stream and go to Process.
//
// Receive sleeps in the Wait system call when the queue is empty. An upcall that arrives between
// "the queue is empty" and the Wait would be lost (Wait sleeps until the *next* upcall), so the
// check and the syscall are one assembly sequence (unixish_wait_unless) and the handler, after
// queueing, moves an interrupted RIP inside that sequence to its end: the check and the Wait act
// as one step with respect to upcalls. (One hole remains: an upcall nested in the instant the
// trampoline is resuming Receive, after it read the frame. A kernel Wait that returned at once
// when an upcall arrived since the last Wait would close it.)
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
        private static ulong s_dropped;
        private static ulong s_windowStart, s_windowSyscall, s_windowEnd;

        /// <summary>Messages dropped because the queue was full.</summary>
        public static ulong Dropped => s_dropped;

        /// <summary>Registers the IPC upcall handler (once).</summary>
        public static void Start()
        {
            if (s_upcallHandler != null)
                return;
            s_queue = new IpcMessage[Capacity];
            s_indices = new long[2];
            s_windowStart = NativeMethods.WaitWindowStart();
            s_windowSyscall = NativeMethods.WaitWindowSyscall();
            s_windowEnd = NativeMethods.WaitWindowEnd();
            s_upcallHandler = OnIpcUpcall;
            Upcalls.SetIpcHandler(s_upcallHandler);
        }

        /// <summary>Calls are answered in the upcall by 'handler' from now on (null: queued for Receive).</summary>
        public static void SetCallHandler(IpcCallHandler handler)
        {
            Start();
            s_callHandler = handler;
        }

        /// <summary>The next message, sleeping in Wait until one arrives. A call must be answered
        /// with Reply before another call or send can reach this environment.</summary>
        public static IpcMessage Receive()
        {
            Start();
            IpcMessage message;
            fixed (long* indices = s_indices)
            {
                while (!TryReceive(out message))
                    NativeMethods.WaitUnless(indices + Head, indices + Tail, (ulong)SystemCall.Wait);
            }
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
            if (message.IsCall && s_callHandler != null)
            {
                s_callHandler(in message, out ulong reply0, out ulong reply1);
                SystemCalls.IpcReply(reply0, reply1);
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
            LeaveWaitWindow(ref frame);
        }

        /// <summary>If Receive was interrupted between its check and its Wait, skip the Wait (see the
        /// header). Receive runs outside upcalls, so the upcall that interrupted it is this one or,
        /// when this one is nested (e.g. inside a slice-end handler that yielded), the outermost,
        /// whose frame the kernel put right below the top of the upcall stack.</summary>
        private static void LeaveWaitWindow(ref UpcallFrame frame)
        {
            LeaveWaitWindow(ref frame.Registers);
            UpcallFrame* outermost = (UpcallFrame*)((AddressSpace.UpcallStackTop - UpcallFrame.Size) & ~15UL);
            fixed (UpcallFrame* current = &frame)
            {
                if (current < outermost && (ulong)current >= AddressSpace.UpcallStackBottom)
                    LeaveWaitWindow(ref outermost->Registers);
            }
        }

        private static void LeaveWaitWindow(ref UserRegisters registers)
        {
            if (registers.Rip >= s_windowStart && registers.Rip <= s_windowSyscall)
                registers.Rip = s_windowEnd;
        }
    }
}
