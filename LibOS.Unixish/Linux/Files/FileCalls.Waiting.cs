// The file calls that wait for descriptors: poll, ppoll, select, pselect6, epoll_wait,
// epoll_pwait, epoll_pwait2, and a read or write of an eventfd that must wait (eventfd and epoll
// themselves: EventFd.cs, Epoll.cs). One loop serves them all (WaitUntilReady): each call gives
// it a look (its descriptors' readiness through OpenFile.Poll, the one place a kind of file says
// when it is ready) and what can change them (SourcesOf); the loop decides when to look again.
//
// How it waits between two looks (docs/libos-unixish.md, "Files"): asleep in the kernel
// (Notices.WaitStep: a signal, another process's message, a child's end, an interval timer or the
// call's own timeout wakes it) when every descriptor that can become ready tells this process so —
// the terminal, when this process is in the foreground group (it becomes the input's watcher); a
// shared pipe, once this process is one of its pollers (SharedPipe.Watch: any change of the pipe
// wakes it; taken back when the call returns). A background process does not watch the terminal,
// and a pipe has SharedPipe.PollerSlots pollers at most: with such a descriptor the loop yields and
// looks again (it spins). Descriptors only this process changes (files, an in-process pipe, an
// eventfd) need no watching: another thread of the process changes them, and the call is made
// again after it ran (LinuxThreads.RestartLater); with no other thread, no timeout and no timer
// armed nothing could ever change them: -EDEADLK (where Linux would wait for ever). A signal ends
// the wait: -ERESTARTNOHAND for poll, select and epoll (EINTR when a handler runs), -ERESTARTSYS
// for an eventfd read or write (restarted under SA_RESTART).
//
// A kind of descriptor that another party can change plugs in at two places: OpenFile.Poll (its
// readiness) and SourcesOf/Watch here (who wakes this process when it changes). Sockets: the file
// server records the process in the look itself (VfsClient.PollWatch) and wakes it (Sockets.cs).
using Aegis.LibOS.Unixish.Linux.Processes;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public static unsafe partial class FileCalls
    {
        private const short POLLIN = 0x1, POLLOUT = 0x4, POLLPRI = 0x2, POLLERR = 0x8, POLLHUP = 0x10;

        // What can make a descriptor ready while this process waits (NoChange: a file, a pipe only
        // this process holds, an eventfd, nothing: only this process's threads change them).
        private const int NoChange = 0, TerminalInput = 1, SharedRing = 2, ServerSocket = 4;

        /// <summary>A look's answer when nothing is ready yet (any other value ends the wait).</summary>
        private const long NotYet = -Errno.EAGAIN;

        // ------------------------------------------------------------------ the one loop

        /// <summary>Looks until look answers something other than NotYet, the timeout passes
        /// (timeoutMs &lt; 0: none; the answer is then 0), a signal comes (-interruption) or another
        /// thread must run (ERESTART_THREAD). watch (called once, before the first sleep, when
        /// sources has SharedRing) makes every shared pipe among the descriptors wake this process.</summary>
        private static long WaitUntilReady(delegate*<void*, long> look, delegate*<void*, bool> watch, void* state,
                                           int sources, long timeoutMs, int interruption, out long remainingMs)
        {
            long result = Looking(look, watch, state, sources, timeoutMs, interruption, out remainingMs);
            if (SharedPipe.Watching) SharedPipe.UnwatchAll();
            if ((sources & ServerSocket) != 0 && timeoutMs != 0) Remote?.DisarmBoard(); // looks that armed the board wait no more
            return result;
        }

        private static long Looking(delegate*<void*, long> look, delegate*<void*, bool> watch, void* state,
                                    int sources, long timeoutMs, int interruption, out long remainingMs)
        {
            remainingMs = 0;
            ulong start = LinuxCpu.Timestamp();
            bool blocking = false, watchTried = false, watched = false;
            while (true)
            {
                // A socket not ready records this process to be woken by its next change, in the
                // same look (VfsClient.PollWatch): a wait that may sleep needs that, one that returns
                // at once does not. PollUnrecorded: a socket's table of watchers was full (yield).
                VfsClient.PollWatch = timeoutMs != 0 && (sources & ServerSocket) != 0;
                VfsClient.PollUnrecorded = false;
                Net.LocalNet.Step(); // the connections running here: frames and timers before the look
                long result = look(state);
                VfsClient.PollWatch = false;
                long elapsed = MillisecondsSince(start);
                if (result != NotYet)
                {
                    remainingMs = timeoutMs > elapsed ? timeoutMs - elapsed : 0;
                    return result;
                }
                if (timeoutMs == 0 || (timeoutMs > 0 && elapsed >= timeoutMs)) return 0;
                if (sources == NoChange && timeoutMs < 0 && !Signals.TimersArmed && LinuxThreads.Live < 2)
                    return -Errno.EDEADLK; // nothing could ever become ready (an armed timer will interrupt)
                if (Signals.InterruptPending()) return -interruption; // EINTR when a handler runs (the fuzzer's alarm)
                if ((sources & SharedRing) != 0 && !watchTried)
                {
                    watchTried = true;
                    watched = watch(state);
                    if (watched) continue; // a change from now on wakes us: look once more before sleeping
                }
                if (LinuxThreads.OthersCanRun()) return LinuxThreads.RestartLater(); // another thread runs; the call is made again later
                WaitOnce(sources, timeoutMs, start, ref blocking, watched);
            }
        }

        private static void WaitOnce(int sources, long timeoutMs, ulong startTsc, ref bool blocking, bool pipesWatched)
        {
            if (Idle != null) { Idle(); return; }
            if (((sources & SharedRing) != 0 && !pipesWatched) || !Notices.On || VfsClient.PollUnrecorded) { SystemCalls.Yield(); return; }
            if (!blocking) { Notices.BeginBlocking(); blocking = true; }
            if ((sources & TerminalInput) != 0 && !Notices.WatchTerminal()) { SystemCalls.Yield(); return; }
            ulong deadline = timeoutMs < 0 ? ulong.MaxValue : startTsc + (ulong)timeoutMs * TscPerMillisecond;
            ulong threads = LinuxThreads.NextDeadline; // a blocked thread's deadline: it runs then
            // The connections running here: their next timer ends the wait (a frame ends it by itself: the kernel wakes a ring's owner).
            deadline = Net.LocalNet.WaitDeadline(threads < deadline ? threads : deadline);
            if (deadline == 0) return; // a frame came since the look
            Notices.WaitStep(deadline);
        }

        /// <summary>What can make the description ready while this process waits (an epoll: what
        /// can make any of its interests ready).</summary>
        private static int SourcesOf(OpenFile file)
        {
            if (file == null) return NoChange;
            switch (file.Node)
            {
                case DeviceNode _: return TerminalInput;
                case PipeNode pipe: return pipe.Pipe is SharedPipe ? SharedRing : NoChange;
                case RemoteSocket _: return ServerSocket; // the file server wakes this process (Sockets.cs)
                case EpollNode epoll:
                    int sources = NoChange;
                    for (int i = 0; i < epoll.Count; i++) sources |= SourcesOf(epoll.FileAt(i));
                    return sources;
                default: return NoChange;
            }
        }

        private static int SourcesOf(int fd) => SourcesOf(Files.Table.Get(fd));

        /// <summary>Before the first sleep: makes every shared pipe behind the description (an
        /// epoll's interests too) wake this process when it changes (SharedPipe.Watch). True when
        /// every one is watched (the loop then looks once more, and may sleep); false: it spins.</summary>
        private static bool Watch(OpenFile file)
        {
            if (file == null) return true;
            switch (file.Node)
            {
                case PipeNode pipe: return !(pipe.Pipe is SharedPipe shared) || shared.Watch();
                case EpollNode epoll:
                    bool all = true;
                    for (int i = 0; i < epoll.Count; i++) all &= Watch(epoll.FileAt(i));
                    return all;
                default: return true;
            }
        }

        private static ulong TscPerMillisecond
        {
            get
            {
                ulong perMs = Info.GlobalPage->TimestampHz / 1000;
                return perMs == 0 ? 1 : perMs;
            }
        }

        private static long MillisecondsSince(ulong startTsc) => (long)((LinuxCpu.Timestamp() - startTsc) / TscPerMillisecond);

        /// <summary>A struct timespec timeout (0: none, -1) in milliseconds rounded up: 0, -EFAULT or -EINVAL.</summary>
        private static long TimespecMilliseconds(ulong address, long* timespec, out long timeoutMs)
        {
            timeoutMs = -1;
            if (address == 0) return 0;
            if (!UserPointers.CopyIn(timespec, address, 16)) return -Errno.EFAULT;
            if (timespec[0] < 0 || timespec[1] < 0 || timespec[1] >= 1_000_000_000) return -Errno.EINVAL;
            timeoutMs = timespec[0] * 1000 + (timespec[1] + 999_999) / 1_000_000;
            return 0;
        }

        // ------------------------------------------------------------------ poll, ppoll

        private struct PollTable { public byte* Entries; public int Count; }

        private static long LookAtPollTable(void* state)
        {
            var table = (PollTable*)state;
            int ready = 0;
            for (int i = 0; i < table->Count; i++)
            {
                byte* entry = table->Entries + i * 8;
                short revents = Files.Poll(*(int*)entry, *(short*)(entry + 4));
                *(short*)(entry + 6) = revents;
                if (revents != 0) ready++;
            }
            return ready > 0 ? ready : NotYet;
        }

        private static bool WatchPollTable(void* state)
        {
            var table = (PollTable*)state;
            bool all = true;
            for (int i = 0; i < table->Count; i++) all &= Watch(Files.Table.Get(*(int*)(table->Entries + i * 8)));
            return all;
        }

        /// <summary>timeoutMs &lt; 0: forever.</summary>
        private static long PollLoop(ulong fds, int count, long timeoutMs, out long remainingMs)
        {
            remainingMs = 0;
            if (count < 0 || count > FileTable.Limit) return -Errno.EINVAL; // nfds above RLIMIT_NOFILE
            int bytes = count * 8;
            byte* entries = stackalloc byte[bytes > 0 ? bytes : 1];
            if (!UserPointers.CopyIn(entries, fds, (ulong)bytes)) return -Errno.EFAULT;
            int sources = NoChange;
            for (int i = 0; i < count; i++) sources |= SourcesOf(*(int*)(entries + i * 8));
            var table = new PollTable { Entries = entries, Count = count };
            long result = WaitUntilReady(&LookAtPollTable, &WatchPollTable, &table, sources, timeoutMs, Signals.ERESTARTNOHAND, out remainingMs);
            if (result >= 0 && !UserPointers.CopyOut(fds, entries, (ulong)bytes)) return -Errno.EFAULT;
            return result;
        }

        private static long Poll(ref LinuxCall c) => PollLoop(c.A0, (int)c.A1, (int)c.A2 < 0 ? -1 : (int)c.A2, out _);

        /// <summary>ppoll: poll with a timespec and, when sigmask is given, that set blocked while
        /// it waits (Linux's order: the timeout, then the mask, then the descriptors).</summary>
        private static long Ppoll(ref LinuxCall c)
        {
            long* ts = stackalloc long[2];
            long error = TimespecMilliseconds(c.A2, ts, out long timeout);
            if (error < 0) return error;
            ulong mask = 0;
            if (c.A3 != 0)
            {
                if (c.A4 != 8) return -Errno.EINVAL;
                if (!UserPointers.CopyIn(&mask, c.A3, 8)) return -Errno.EFAULT;
                Signals.BeginWaitMask(mask);
            }
            long result = PollLoop(c.A0, (int)c.A1, timeout, out long remaining);
            if (c.A3 != 0) Signals.EndWaitMask(result);
            if (result >= 0 && c.A2 != 0)
            {
                ts[0] = remaining / 1000; ts[1] = remaining % 1000 * 1_000_000;
                UserPointers.CopyOut(c.A2, ts, 16);
            }
            return result;
        }

        // ------------------------------------------------------------------ select, pselect6

        // The three sets: in Input (read, write, except; 16 words each: 1024 descriptors), out Output.
        private struct SelectSets { public int Count; public ulong* Input; public ulong* Output; }

        private static bool Selected(ulong* input, int fd) => (((input[fd >> 6] | input[16 + (fd >> 6)] | input[32 + (fd >> 6)]) >> (fd & 63)) & 1) != 0;

        private static long LookAtSelectSets(void* state)
        {
            var sets = (SelectSets*)state;
            ulong* input = sets->Input, output = sets->Output;
            int ready = 0;
            for (int fd = 0; fd < sets->Count; fd++)
            {
                if (!Selected(input, fd)) continue;
                ulong bit = 1UL << (fd & 63);
                int w = fd >> 6;
                // Only the events of its sets: a socket records this process only when none of them is ready.
                short wanted = (short)(((input[w] & bit) != 0 ? POLLIN : 0) | ((input[16 + w] & bit) != 0 ? POLLOUT : 0) | ((input[32 + w] & bit) != 0 ? POLLPRI : 0));
                short revents = Files.Poll(fd, wanted);
                if ((input[w] & bit) != 0 && (revents & (POLLIN | POLLHUP | POLLERR)) != 0) { output[w] |= bit; ready++; }
                if ((input[16 + w] & bit) != 0 && (revents & (POLLOUT | POLLERR)) != 0) { output[16 + w] |= bit; ready++; }
                if ((input[32 + w] & bit) != 0 && (revents & POLLPRI) != 0) { output[32 + w] |= bit; ready++; }
            }
            return ready > 0 ? ready : NotYet;
        }

        private static bool WatchSelectSets(void* state)
        {
            var sets = (SelectSets*)state;
            bool all = true;
            for (int fd = 0; fd < sets->Count; fd++)
                if (Selected(sets->Input, fd)) all &= Watch(Files.Table.Get(fd));
            return all;
        }

        private static long Select(ref LinuxCall c)
        {
            long timeout = -1;
            long* tv = stackalloc long[2];
            if (c.A4 != 0)
            {
                if (!UserPointers.CopyIn(tv, c.A4, 16)) return -Errno.EFAULT;
                if (tv[0] < 0 || tv[1] < 0) return -Errno.EINVAL;
                timeout = tv[0] * 1000 + (tv[1] + 999) / 1000;
            }
            long result = SelectLoop((int)c.A0, c.A1, c.A2, c.A3, timeout, out long remaining);
            if (result >= 0 && c.A4 != 0)
            {
                tv[0] = remaining / 1000; tv[1] = remaining % 1000 * 1000;
                UserPointers.CopyOut(c.A4, tv, 16);
            }
            return result;
        }

        /// <summary>pselect6: select with a timespec; its sixth argument points at { const sigset_t
        /// *ss; size_t ss_len; }: with ss given, that set is blocked while it waits.</summary>
        private static long Pselect6(ref LinuxCall c)
        {
            long* ts = stackalloc long[2];
            long error = TimespecMilliseconds(c.A4, ts, out long timeout);
            if (error < 0) return error;
            ulong mask = 0;
            bool masked = false;
            if (c.A5 != 0)
            {
                ulong* data = stackalloc ulong[2];
                if (!UserPointers.CopyIn(data, c.A5, 16)) return -Errno.EFAULT;
                if (data[0] != 0)
                {
                    if (data[1] != 8) return -Errno.EINVAL;
                    if (!UserPointers.CopyIn(&mask, data[0], 8)) return -Errno.EFAULT;
                    masked = true;
                }
            }
            if (masked) Signals.BeginWaitMask(mask);
            long result = SelectLoop((int)c.A0, c.A1, c.A2, c.A3, timeout, out long remaining);
            if (masked) Signals.EndWaitMask(result);
            if (result >= 0 && c.A4 != 0)
            {
                ts[0] = remaining / 1000; ts[1] = remaining % 1000 * 1_000_000;
                UserPointers.CopyOut(c.A4, ts, 16);
            }
            return result;
        }

        private static long SelectLoop(int nfds, ulong readSet, ulong writeSet, ulong exceptSet, long timeoutMs, out long remainingMs)
        {
            remainingMs = 0;
            if (nfds < 0) return -Errno.EINVAL;
            if (nfds > FileTable.Limit) nfds = FileTable.Limit;
            int words = (nfds + 63) / 64;
            ulong* input = stackalloc ulong[48];  // 3 sets x 16 words (1024 descriptors)
            ulong* output = stackalloc ulong[48];
            for (int i = 0; i < 48; i++) { input[i] = 0; output[i] = 0; }
            ulong bytes = (ulong)words * 8;
            if (readSet != 0 && !UserPointers.CopyIn(input, readSet, bytes)) return -Errno.EFAULT;
            if (writeSet != 0 && !UserPointers.CopyIn(input + 16, writeSet, bytes)) return -Errno.EFAULT;
            if (exceptSet != 0 && !UserPointers.CopyIn(input + 32, exceptSet, bytes)) return -Errno.EFAULT;
            int sources = NoChange;
            for (int fd = 0; fd < nfds; fd++)
            {
                if (!Selected(input, fd)) continue;
                if (Files.Table.Get(fd) == null) return -Errno.EBADF;
                sources |= SourcesOf(fd);
            }
            var sets = new SelectSets { Count = nfds, Input = input, Output = output };
            long result = WaitUntilReady(&LookAtSelectSets, &WatchSelectSets, &sets, sources, timeoutMs, Signals.ERESTARTNOHAND, out remainingMs);
            if (result < 0) return result;
            if (readSet != 0 && !UserPointers.CopyOut(readSet, output, bytes)) return -Errno.EFAULT;
            if (writeSet != 0 && !UserPointers.CopyOut(writeSet, output + 16, bytes)) return -Errno.EFAULT;
            if (exceptSet != 0 && !UserPointers.CopyOut(exceptSet, output + 32, bytes)) return -Errno.EFAULT;
            return result;
        }

        // ------------------------------------------------------------------ epoll (Epoll.cs)

        private static long EpollCreate(ref LinuxCall c) => (int)c.A0 <= 0 ? -Errno.EINVAL : Files.EpollCreate(0);
        private static long EpollCreate1(ref LinuxCall c) => Files.EpollCreate((int)c.A0);

        private static long EpollCtl(ref LinuxCall c)
        {
            int op = (int)c.A1;
            uint events = 0;
            ulong data = 0;
            if (op != EpollNode.EPOLL_CTL_DEL) // every other op (an unknown one too) reads the event first, as Linux
            {
                byte* e = stackalloc byte[EpollNode.EventSize];
                if (!UserPointers.CopyIn(e, c.A3, EpollNode.EventSize)) return -Errno.EFAULT;
                events = *(uint*)e;
                data = *(ulong*)(e + 4);
            }
            return Files.EpollControl((int)c.A0, op, (int)c.A2, events, data);
        }

        private static long EpollWait(ref LinuxCall c) => EpollWaitFor((int)c.A0, c.A1, (int)c.A2, (int)c.A3 < 0 ? -1 : (int)c.A3, 0, 0);
        private static long EpollPwait(ref LinuxCall c) => EpollWaitFor((int)c.A0, c.A1, (int)c.A2, (int)c.A3 < 0 ? -1 : (int)c.A3, c.A4, c.A5);

        private static long EpollPwait2(ref LinuxCall c)
        {
            long* ts = stackalloc long[2];
            long error = TimespecMilliseconds(c.A3, ts, out long timeout);
            return error < 0 ? error : EpollWaitFor((int)c.A0, c.A1, (int)c.A2, timeout, c.A4, c.A5);
        }

        private struct EpollWaitState { public int Epfd; public byte* Events; public int Max; }

        private static long LookAtEpoll(void* state)
        {
            var wait = (EpollWaitState*)state;
            long count = Files.EpollCollect(wait->Epfd, wait->Events, wait->Max);
            return count == 0 ? NotYet : count;
        }

        private static bool WatchEpoll(void* state) => Watch(Files.Table.Get(((EpollWaitState*)state)->Epfd));

        // epoll_wait's checks in Linux's order (the signal mask, maxevents, the buffer, the
        // descriptor), then the wait with sigmask (when given) as the blocked set meanwhile.
        private static long EpollWaitFor(int epfd, ulong events, int max, long timeoutMs, ulong sigmask, ulong sigsetSize)
        {
            ulong mask = 0;
            if (sigmask != 0)
            {
                if (sigsetSize != 8) return -Errno.EINVAL;
                if (!UserPointers.CopyIn(&mask, sigmask, 8)) return -Errno.EFAULT;
            }
            if (max <= 0 || max > EpollNode.MaximumEvents) return -Errno.EINVAL;
            if (!UserPointers.IsAccessible(events, (ulong)max * EpollNode.EventSize, true)) return -Errno.EFAULT;
            OpenFile file = Files.Table.Get(epfd);
            if (file == null || file.IsPath) return -Errno.EBADF;
            if (!(file.Node is EpollNode)) return -Errno.EINVAL;
            if (sigmask != 0) Signals.BeginWaitMask(mask);
            var state = new EpollWaitState { Epfd = epfd, Events = (byte*)events, Max = max };
            long result = WaitUntilReady(&LookAtEpoll, &WatchEpoll, &state, SourcesOf(file), timeoutMs, Signals.ERESTARTNOHAND, out _);
            if (sigmask != 0) Signals.EndWaitMask(result);
            return result;
        }

        // ------------------------------------------------------------------ eventfd (EventFd.cs)

        private static long EventFd(ref LinuxCall c) => Files.EventFd((uint)c.A0, 0);
        private static long EventFd2(ref LinuxCall c) => Files.EventFd((uint)c.A0, (int)c.A1);

        private struct CounterWait { public int Fd; public byte* Buffer; public long Count; public bool Write; }

        private static long LookAtCounter(void* state)
        {
            var wait = (CounterWait*)state;
            OpenFile file = Files.Table.Get(wait->Fd);
            if (file == null || !(file.Node is EventFdNode counter)) return -Errno.EBADF;
            return wait->Write ? counter.Write(wait->Buffer, wait->Count, true) : counter.Read(wait->Buffer, wait->Count, true);
        }

        /// <summary>A blocking read or write of an eventfd that found it must wait (EventFdNode.WouldWait):
        /// waits until another thread of this process makes it possible.</summary>
        private static long WaitForCounter(int fd, byte* buffer, long count, bool write)
        {
            var state = new CounterWait { Fd = fd, Buffer = buffer, Count = count, Write = write };
            return WaitUntilReady(&LookAtCounter, null, &state, NoChange, -1, Signals.ERESTARTSYS, out _);
        }
    }
}
