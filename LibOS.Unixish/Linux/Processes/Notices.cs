// News from other processes while this one computes or sleeps (issue #9, docs/libos-unixish.md
// "Processes"). The personality turns on the kernel's asynchronous delivery and child-end wakeups
// (NotifyControl): a message another process sends (a signal, an exit notice) is kept by the
// kernel while this environment is not in Wait and interrupts it as an IpcSend upcall the next
// time it runs — possibly in the middle of the libOS's own code (a system call's handler, the
// allocator, another upcall's handler). The libOS acts on it only where that is safe:
//   - the upcall interrupted the program's code, or a Wait (UpcallFrame.Trap IntoWait): the
//     message is handled at once (IpcServer's filter: LinuxProcesses.OnMessage), and a signal it
//     posts is delivered into the program right away (LinuxUpcalls: Signals.AfterUpcall);
//   - it interrupted libOS code (RIP inside the libOS image): the message is only noted here, in
//     a fixed lock-free ring (Stash), and SignalAttention.Word is set, so the next system call's
//     return (Signals.AfterSystemCall) handles it; a blocking loop handles it at its next
//     Signals.InterruptPending() (the kernel also left a wakeup pending, so a Wait that follows
//     the note returns at once and the loop looks again).
// Blocking calls wait through WaitStep: WaitUntil with the earliest of the call's deadline and the
// armed interval timers (a sleeping process costs no CPU and still wakes for alarm()), and, for a
// process of the terminal's foreground group, the terminal's ^C/^\/^Z typed meanwhile
// (Terminal.ServiceSignalKeys: only those bytes are taken, typed-ahead text stays for the next reader).
// Invariants: Stash runs only inside upcalls, which nest and run to completion before what they
// interrupted continues, so producers never interleave with each other except by nesting (the
// claim is a compare-and-swap loop) and Drain (never inside a stashing upcall) never sees a
// claimed slot half filled — a slot is published by its Ready flag, written last; nothing here
// allocates on the stashing side.
using System.Threading;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux.Processes
{
    public static unsafe class Notices
    {
        public const int Capacity = 64;
        private const int Words = 6; // sender, w0..w3, ready

        private static readonly ulong[] s_slots = new ulong[Capacity * Words];
        private static long s_head, s_tail;
        private static ulong s_dropped;
        private static bool s_on;

        /// <summary>Messages noted while the libOS ran and not yet handled.</summary>
        public static bool Waiting => s_head != s_tail;

        /// <summary>Notes dropped because the ring was full (reported in /proc-like diagnostics only).</summary>
        public static ulong Dropped => s_dropped;

        /// <summary>Turns on asynchronous delivery and child-end wakeups for this environment (the
        /// first program, and every fork's child: the flags are per environment).</summary>
        public static void TurnOn()
        {
            s_on = !SystemCalls.NotifyControl(NotifyFlags.Asynchronous | NotifyFlags.ChildEnded).IsError;
            s_head = s_tail = 0;
            for (int i = 0; i < s_slots.Length; i++) s_slots[i] = 0;
        }

        /// <summary>Whether the kernel delivers messages asynchronously to this environment.</summary>
        public static bool On => s_on;

        /// <summary>Inside an asynchronous IPC upcall that interrupted libOS code: notes the message
        /// (false when the ring is full: the message is dropped and counted).</summary>
        public static bool Stash(UpcallFrame* frame)
        {
            long claimed;
            do
            {
                claimed = s_tail;
                if (claimed - s_head >= Capacity)
                {
                    s_dropped++;
                    return false;
                }
            } while (Interlocked.CompareExchange(ref s_tail, claimed + 1, claimed) != claimed);
            int at = (int)(claimed % Capacity) * Words;
            s_slots[at] = frame->Sender;
            s_slots[at + 1] = frame->Word0;
            s_slots[at + 2] = frame->Word1;
            s_slots[at + 3] = frame->Word2;
            s_slots[at + 4] = frame->Word3;
            s_slots[at + 5] = 1; // published last
            SignalAttention.Word |= 1; // the next system call's return looks (Signals.AfterSystemCall)
            return true;
        }

        /// <summary>Handles the noted messages (from libOS code at a safe point: a system call's
        /// return, a blocking loop, an upcall that interrupted the program).</summary>
        public static void Drain()
        {
            while (s_head != s_tail)
            {
                int at = (int)(s_head % Capacity) * Words;
                if (s_slots[at + 5] == 0) return; // being filled by an upcall this one interrupted
                UpcallFrame message = default;
                message.Kind = UpcallKind.IpcSend;
                message.Trap = UpcallDelivery.IntoWait;
                message.Sender = s_slots[at];
                message.Word0 = s_slots[at + 1];
                message.Word1 = s_slots[at + 2];
                message.Word2 = s_slots[at + 3];
                message.Word3 = s_slots[at + 4];
                message.Frame = UpcallFrame.NoFrame;
                s_slots[at + 5] = 0;
                s_head++;
                Upcalls.Dispatch(ref message);
            }
        }

        // ---- blocking ----------------------------------------------------------------------------

        /// <summary>The start of a blocking system call: a process of the terminal's foreground group
        /// becomes the input's watcher, so ^C typed while it blocks wakes it (WaitStep reads it).</summary>
        public static void BeginBlocking() => Terminal.WatchIfForeground();

        /// <summary>As BeginBlocking; false when this process cannot be woken by terminal input (it
        /// is not in the foreground group, or there is no terminal): a poll on the terminal then
        /// looks again after a Yield instead of sleeping.</summary>
        public static bool WatchTerminal() => Terminal.WatchIfForeground();

        /// <summary>One wait of a blocking loop: until an upcall, a child's end, the TSC deadline
        /// (ulong.MaxValue: none) or the earliest armed interval timer; then ^C and friends typed
        /// meanwhile. The caller checks Signals.InterruptPending() and its own condition again.</summary>
        public static void WaitStep(ulong deadline)
        {
            ulong timer = Signals.NextTimerDeadline;
            if (timer < deadline) deadline = timer;
            if (deadline == ulong.MaxValue) SystemCalls.Wait();
            else SystemCalls.WaitUntil(deadline == 0 ? 1 : deadline);
            if (Waiting) Drain(); // a message noted just before the Wait (which then returned at once)
            Terminal.ServiceSignalKeys();
        }
    }
}
