// notify: kept IPC messages, asynchronous delivery, WaitUntil and child-end wakeups (issue #9,
// docs/abi.md "Notifications"). What it does depends on its argument; the kernel (protection
// suite) judges from what it observes itself — its counters, states, ticks, and the words it
// chose arriving in the right order.
//   hold N         registers an IPC handler, then yields for a second (not in Wait: messages sent
//                  now are kept); then it Waits once per message it expects (N) and prints each:
//                  "notify: got W0 W1 trap T".
//   send ID N T    IpcSends N messages to environment ID (decimal): word 0 = T + i, word 1 = i;
//                  prints "notify: send i RESULT" for each.
//   spin           turns on asynchronous delivery, then computes without a system call until its
//                  IPC handler has run; prints "notify: async got W0 trap T" (T must be 1: it
//                  interrupted the computation) and exits 0.
//   deadline       WaitUntil: a deadline 50 ms ahead (must return DeadlinePassed after >= 49
//                  ticks), one already passed (at once), then a 10 s deadline that a message
//                  the kernel has sent ends early (Woken): prints each result and the ticks.
//   parent         turns on child-end wakeups, spawns itself as 'idle' and Waits: the kernel
//                  destroys the child; the Wait must return ChildEnded. Then it spawns 'quit'
//                  (exits at once), watches its status until it ended without calling Wait,
//                  and Waits: it must return ChildEnded at once.
//   rearm          registers an IPC handler that answers with reply-and-wait-until (IpcReplyFlags.
//                  AndWaitUntil), then WaitUntils 10 s twice. The first call's reply gives the Wait a
//                  deadline 50 ms ahead (it must return DeadlinePassed, at least 45 ms after the
//                  reply and long before 10 s); the second call's reply one already passed (the Wait
//                  must return DeadlinePassed at once). Prints "notify: rearm N RESULT after MS ms".
//   call ID N      IpcCalls environment ID (decimal) N times, 200 ms apart (retrying while it is not
//                  in Wait); prints "notify: call i reply W".
//   once           registers an IPC handler, prints "notify: in wait", Waits once and prints
//                  "notify: got W0 trap T".
//   continue ID T  IpcSends T to environment ID with flags 2 (unknown: must be refused), then with
//                  IpcSendFlags.SenderContinues; prints "notify: continue RESULT RESULT" and exits
//                  without another system call but its output and Exit.
//   alive          (issue #12) spawns 'idle', then prints "notify: alive C S Z G" (EnvironmentAlive of
//                  the child, itself, 0 and an id past the table), destroys the child and prints
//                  "notify: after A ends N" (EnvironmentAlive of the child, InfoPage.EnvironmentEnds
//                  minus its reading before the destroy), then "notify: spawned <id>". Then with
//                  NotifyFlags.OthersEnded on it spawns 'quit' and WaitUntils 20 s ("notify: other R":
//                  OtherEnded), and with it off spawns 'quit', sees it end and WaitUntils 50 ms
//                  ("notify: off R": DeadlinePassed).
//   idle           Waits for ever.   quit   exits 0.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Notify
{
    internal static unsafe class Program
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "notify_rdtsc")]
        private static extern ulong Rdtsc();

        private static volatile int s_received;
        private static ulong[] s_words = new ulong[64];
        private static ulong[] s_traps = new ulong[32];

        private static int Main()
        {
            string[] words = Info.Argument.Split(' ');
            switch (words[0])
            {
                case "hold": return Hold(words.Length > 1 ? (int)Number(words[1]) : 1);
                case "send": return Send(Number(words[1]), (int)Number(words[2]), Number(words[3]));
                case "spin": return Spin();
                case "deadline": return Deadline();
                case "parent": return Parent();
                case "alive": return Alive();
                case "rearm": return Rearm();
                case "call": return CallMany(Number(words[1]), (int)Number(words[2]));
                case "once": return Once();
                case "continue": return Continue(Number(words[1]), Number(words[2]));
                case "idle": while (true) SystemCalls.Wait();
                case "quit": return 0;
                default:
                    Console.WriteLine("notify: unknown mode '" + Info.Argument + "'");
                    return 2;
            }
        }

        private static ulong Number(string text)
        {
            ulong value = 0;
            for (int i = 0; i < text.Length; i++) value = value * 10 + (ulong)(text[i] - '0');
            return value;
        }

        private static string Result(SystemCallResult result) => result.IsError ? Errors.Name(result.Error) : result.Value.ToString();

        /// <summary>Records each message (no allocation, no output: it may interrupt anything).</summary>
        private static void OnIpc(ref UpcallFrame frame)
        {
            int at = s_received;
            if (at < s_traps.Length)
            {
                s_words[at * 2] = frame.Word0;
                s_words[at * 2 + 1] = frame.Word1;
                s_traps[at] = frame.Trap;
            }
            s_received = at + 1;
        }

        private static int Hold(int expected)
        {
            Upcalls.SetIpcHandler(OnIpc);
            // One second out of Wait (yielding, so not blocked): the messages sent now are kept.
            Console.WriteLine("notify: holding");
            ulong until = Info.Ticks + 1000;
            while (Info.Ticks < until) SystemCalls.Yield();
            Console.WriteLine("notify: waiting");
            for (int i = 0; i < expected; i++)
            {
                int before = s_received;
                SystemCalls.Wait(); // returns at once: a kept message is delivered into it
                if (s_received != before + 1) Console.WriteLine("notify: Wait " + i.ToString() + " brought " + (s_received - before).ToString() + " messages");
            }
            for (int i = 0; i < s_received && i < s_traps.Length; i++)
                Console.WriteLine("notify: got " + s_words[i * 2].ToString() + " " + s_words[i * 2 + 1].ToString() + " trap " + s_traps[i].ToString());
            return 0;
        }

        private static int Send(ulong target, int count, ulong token)
        {
            for (int i = 0; i < count; i++)
                Console.WriteLine("notify: send " + i.ToString() + " " + Errors.Name(SystemCalls.IpcSend(target, token + (ulong)i, (ulong)i, 0, 0)));
            return 0;
        }

        private static int Once()
        {
            Upcalls.SetIpcHandler(OnIpc);
            Console.WriteLine("notify: in wait");
            SystemCalls.Wait();
            Console.WriteLine("notify: got " + s_words[0].ToString() + " trap " + s_traps[0].ToString());
            return 0;
        }

        private static int Continue(ulong target, ulong token)
        {
            Error refused = SystemCalls.IpcSend(target, token + 1, 0, 0, 0, 2);
            Error sent = SystemCalls.IpcSend(target, token, 0, 0, 0, IpcSendFlags.SenderContinues);
            Console.WriteLine("notify: continue " + Errors.Name(refused) + " " + Errors.Name(sent));
            return 0;
        }

        private static int Spin()
        {
            Upcalls.SetIpcHandler(OnIpc);
            SystemCallResult previous = SystemCalls.NotifyControl(NotifyFlags.Asynchronous);
            if (previous.IsError || previous.Value != 0) { Console.WriteLine("notify: NotifyControl " + Result(previous)); return 1; }
            Console.WriteLine("notify: computing");
            ulong rounds = 0;
            while (s_received == 0) rounds++; // no system call: only an asynchronous upcall ends this
            Console.WriteLine("notify: async got " + s_words[0].ToString() + " trap " + s_traps[0].ToString() + " after " + (rounds > 0 ? "some" : "no") + " rounds");
            Console.WriteLine("notify: bad flag " + Result(SystemCalls.NotifyControl(8)));
            return 0;
        }

        private static int Deadline()
        {
            Upcalls.SetIpcHandler(OnIpc);
            ulong hz = Info.TimestampHz;
            ulong ticks = Info.Ticks;
            SystemCallResult first = SystemCalls.WaitUntil(Rdtsc() + hz / 20);
            Console.WriteLine("notify: deadline " + Result(first) + " after " + (Info.Ticks - ticks).ToString() + " ticks");
            ticks = Info.Ticks;
            SystemCallResult passed = SystemCalls.WaitUntil(Rdtsc() - 1);
            ulong took = Info.Ticks - ticks;
            Console.WriteLine("notify: passed " + Result(passed) + (took <= 1 ? " at once" : " after " + took.ToString() + " ticks")); // a tick may fall between the reads
            ticks = Info.Ticks;
            SystemCallResult woken = SystemCalls.WaitUntil(Rdtsc() + hz * 10);
            Console.WriteLine("notify: long " + Result(woken) + " with " + s_received.ToString() + " message(s), word " + s_words[0].ToString()
                + ", after " + (Info.Ticks - ticks < 5000 ? "less than 5 s" : (Info.Ticks - ticks).ToString() + " ticks"));
            return 0;
        }

        private static int s_calls;
        private static ulong s_repliedAt;

        private static void OnRearmCall(ref UpcallFrame frame)
        {
            s_calls++;
            ulong now = Rdtsc();
            s_repliedAt = now;
            // The first call: 50 ms from now; the second: a deadline that has passed.
            ulong deadline = s_calls == 1 ? now + Info.TimestampHz / 20 : now - 1;
            SystemCalls.IpcReplyAndWaitUntil(1000 + (ulong)s_calls, 0, deadline);
        }

        private static int Rearm()
        {
            Upcalls.SetIpcHandler(OnRearmCall);
            for (int round = 1; round <= 2; round++)
            {
                SystemCallResult waited = SystemCalls.WaitUntil(Rdtsc() + Info.TimestampHz * 10);
                ulong ms = (Rdtsc() - s_repliedAt) * 1000 / Info.TimestampHz;
                Console.WriteLine("notify: rearm " + round.ToString() + " " + Result(waited) + " after " + ms.ToString() + " ms, " + s_calls.ToString() + " call(s)");
            }
            return 0;
        }

        private static int CallMany(ulong target, int count)
        {
            for (int i = 0; i < count; i++)
            {
                if (i > 0) SystemCalls.WaitUntil(Rdtsc() + Info.TimestampHz / 5);
                SystemCallResult reply;
                int tries = 0;
                while ((reply = SystemCalls.IpcCall(target, 7, 0, 0, 0)).IsError && reply.Error == Error.WouldBlock && tries++ < 100_000)
                    SystemCalls.Yield();
                Console.WriteLine("notify: call " + i.ToString() + " reply " + (reply.IsError ? Errors.Name(reply.Error) : reply.Second.ToString()));
            }
            return 0;
        }

        private static ulong Spawn(string mode)
        {
            SystemCallResult child = SystemCalls.ImageSpawn("notify", mode);
            if (child.IsError) { Console.WriteLine("notify: spawn " + mode + " " + Result(child)); return 0; }
            Error started = SystemCalls.EnvironmentStart(child.Value, 0, 0, 0);
            if (started != Error.None) { Console.WriteLine("notify: start " + mode + " " + Errors.Name(started)); return 0; }
            return child.Value;
        }

        private static int Alive()
        {
            ulong slot = Spawn("idle");
            if (slot == 0) return 1;
            ulong child = SystemCalls.CapabilityQuery(slot).Second;
            Console.WriteLine("notify: alive " + Bit(SystemCalls.EnvironmentAlive(child)) + " " + Bit(SystemCalls.EnvironmentAlive(Info.EnvironmentId))
                + " " + Bit(SystemCalls.EnvironmentAlive(0)) + " " + Bit(SystemCalls.EnvironmentAlive(ulong.MaxValue)));
            ulong before = Info.EnvironmentEnds;
            SystemCalls.EnvironmentDestroy(slot);
            Console.WriteLine("notify: after " + Bit(SystemCalls.EnvironmentAlive(child)) + " ends " + (Info.EnvironmentEnds - before).ToString());
            Console.WriteLine("notify: spawned " + child.ToString());
            // Any end wakes a Wait with OthersEnded on (the 'quit' child here; ChildEnded is off) ...
            SystemCalls.NotifyControl(NotifyFlags.OthersEnded);
            ulong quit = Spawn("quit");
            if (quit == 0) return 1;
            Console.WriteLine("notify: other " + Result(SystemCalls.WaitUntil(Rdtsc() + Info.TimestampHz * 20)));
            SystemCalls.EnvironmentDestroy(quit);
            // ... and none with it off.
            SystemCalls.NotifyControl(0);
            quit = Spawn("quit");
            if (quit == 0) return 1;
            while (true)
            {
                SystemCallResult status = SystemCalls.EnvironmentStatus(quit);
                if (status.IsError || status.Value == (ulong)EnvironmentState.Exited || status.Value == (ulong)EnvironmentState.Destroyed) break;
                SystemCalls.Yield();
            }
            Console.WriteLine("notify: off " + Result(SystemCalls.WaitUntil(Rdtsc() + Info.TimestampHz / 20)));
            SystemCalls.EnvironmentDestroy(quit);
            return 0;
        }

        private static string Bit(bool value) => value ? "1" : "0";

        private static int Parent()
        {
            SystemCalls.NotifyControl(NotifyFlags.ChildEnded);
            ulong idle = Spawn("idle");
            if (idle == 0) return 1;
            SystemCallResult waited = SystemCalls.WaitUntil(Rdtsc() + Info.TimestampHz * 20); // the kernel destroys the child meanwhile
            SystemCallResult status = SystemCalls.EnvironmentStatus(idle);
            Console.WriteLine("notify: first " + Result(waited) + ", child state " + (status.IsError ? Errors.Name(status.Error) : status.Value.ToString()));
            ulong quit = Spawn("quit");
            if (quit == 0) return 1;
            while (true)
            {
                status = SystemCalls.EnvironmentStatus(quit);
                if (status.IsError || status.Value == (ulong)EnvironmentState.Exited || status.Value == (ulong)EnvironmentState.Destroyed) break;
                SystemCalls.Yield();
            }
            ulong ticks = Info.Ticks;
            waited = SystemCalls.WaitUntil(Rdtsc() + Info.TimestampHz * 20);
            Console.WriteLine("notify: second " + Result(waited) + " after " + (Info.Ticks - ticks < 1000 ? "less than 1 s" : "too long"));
            SystemCalls.EnvironmentDestroy(idle);
            SystemCalls.EnvironmentDestroy(quit);
            return 0;
        }
    }
}
