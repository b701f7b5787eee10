// Pipes between processes: the file layer's Pipe (Files/Pipe.cs) with its state in pages every
// process that holds an end maps at the same address (LinuxFork shares them writable, never
// copy-on-write), so parent, children and grandchildren read and write one ring.
//
// Layout (Pages pages, allocated by the process that called pipe2, which owns the frames):
//   page 0   the header: a lock word, the read and write description counts summed over every
//            process, the read and write indices (bytes ever read / written: their difference is
//            what is buffered), the pid of a reader and of a writer waiting, the pollers, the
//            count of reads that found the ring full (edge-triggered epoll: Pipe.FullReads)
//   pages 1-16  the 64 KiB ring (Pipe.Capacity)
// Blocking without spinning: a reader that finds the ring empty while writers remain records its
// pid in the header, releases the lock and Waits; a writer that adds bytes takes that pid and
// wakes it with an IPC message (WakeTag, taken by LinuxProcesses' filter: Wait returns). The same
// for a writer that finds the ring full; a second reader (or writer) that finds the slot held by
// another sleeper takes a poller slot instead (SleepSlotLocked), so no sleeper is forgotten.
// poll/select: a process about to sleep in one puts its pid
// in each shared pipe's poller slots (Watch; PollerSlots per pipe, else it spins as before), looks
// at its descriptors once more, then Waits; every change of the pipe (bytes in or out, an end
// closing) wakes every poller; the poll's end takes the pids out (UnwatchAll). No wakeup is lost: the sleeper records itself under the
// lock before it Waits, and the waker's IpcSend is retried (yielding to the sleeper) until the
// sleeper is in Wait. A signal ends the wait (-ERESTARTSYS).
//
// Counting: each process counts its own descriptions (Local*); the header holds the sum. A fork
// adds the parent's local counts to the header before the child exists (the child's copies of the
// descriptions are new references); an exit takes the process's local counts out and wakes the
// other side (EOF for readers, EPIPE for writers). A process whose local counts drop to zero
// unmaps the pages; the owner keeps its frames until every count in the header is zero (checked
// when it next creates a pipe, or at its end), because FrameFree would unmap them everywhere.
//
// Limits: a process destroyed by the kernel (not through exit: a crash, or a SIGKILL its libOS did
// not act on in time, LinuxProcesses.EndKilledChildren) leaves its counts in the header. (Any
// process that maps the pages hands them on at its forks: PageShare's authority is the mapping,
// not ownership, so grandchildren share the same ring; the tree's process list relies on the same.)
using System;
using System.Collections.Generic;
using System.Threading;
using Aegis.Abi;
using Aegis.LibOS.Unixish.Linux.Files;

namespace Aegis.LibOS.Unixish.Linux.Processes
{
    public sealed unsafe class SharedPipe : Pipe
    {
        public const int Pages = 1 + Capacity / 4096;
        public const ulong WakeTag = 0x4C58_5741_4B45_0004; // "LXWAKE"
        private const int WakeAttempts = 64;

        /// <summary>Processes poll/select may have asleep on one pipe at a time (more spin).</summary>
        public const int PollerSlots = 8;

        private struct Header
        {
            public int Lock, Readers, Writers, PollerCount;
            public long ReadIndex, WriteIndex;
            public ulong WaitingReader, WaitingWriter;
            public fixed ulong Pollers[PollerSlots];
            public long FullReads; // reads that found the ring full (Pipe.FullReads)
        }

        /// <summary>The pipes this process watches for the poll or select it is in (Watch .. UnwatchAll).</summary>
        private static readonly List<SharedPipe> s_watched = new List<SharedPipe>();

        private static readonly List<SharedPipe> s_live = new List<SharedPipe>();
        private static readonly List<SharedPipe> s_owned = new List<SharedPipe>();
        private static bool s_installed;

        private readonly ulong _base;
        private readonly ulong _owner;
        private Header* Head => (Header*)_base;
        private byte* Ring => (byte*)(_base + 4096);
        private int _localReaders, _localWriters;
        private bool _mapped;

        private SharedPipe(ulong address) : base(true)
        {
            _base = address;
            _owner = Info.EnvironmentId;
            _mapped = true;
        }

        /// <summary>Makes pipe2 create shared pipes, exit release them, fork count them (once).</summary>
        public static void Install()
        {
            if (s_installed) return;
            s_installed = true;
            Pipe.Factory = Create;
            FileCalls.BrokenPipe = &BrokenPipe;
            LinuxProcesses.OnExit(&ReleaseAll);
        }

        private static void BrokenPipe() => ProcessSignals.Post(13, Info.EnvironmentId); // SIGPIPE

        private static new Pipe Create()
        {
            Reclaim();
            ulong address = AddressSpace.Reserve(Pages);
            if (address == 0) return new Pipe();
            if (Memory.AllocateAndMap(address, Pages, Memory.ReadWrite) != Error.None)
            {
                AddressSpace.Release(address, Pages);
                LinuxLog.Line("pipe2: no memory for a shared pipe: this one works within the process only");
                return new Pipe();
            }
            var pipe = new SharedPipe(address);
            LinuxFork.ShareRange(address, Pages);
            s_live.Add(pipe);
            s_owned.Add(pipe);
            return pipe;
        }

        public override int Readers
        {
            get => Load(ref Head->Readers);
            set { int delta = value - Load(ref Head->Readers); Count(delta, 0); }
        }

        public override int Writers
        {
            get => Load(ref Head->Writers);
            set { int delta = value - Load(ref Head->Writers); Count(0, delta); }
        }

        public override int Buffered => (int)(Load(ref Head->WriteIndex) - Load(ref Head->ReadIndex));
        public override int Space => Capacity - Buffered;
        public override long BytesWritten => Load(ref Head->WriteIndex);
        public override long FullReads => Load(ref Head->FullReads);

        private void Count(int readers, int writers)
        {
            Lock();
            Head->Readers += readers;
            Head->Writers += writers;
            ulong wakeReader = 0, wakeWriter = 0;
            if (Head->Writers == 0) { wakeReader = Head->WaitingReader; Head->WaitingReader = 0; }
            if (Head->Readers == 0) { wakeWriter = Head->WaitingWriter; Head->WaitingWriter = 0; }
            bool poll = Head->PollerCount != 0;
            Unlock();
            _localReaders += readers;
            _localWriters += writers;
            Wake(wakeReader);
            Wake(wakeWriter);
            if (poll) WakePollers();
            if (_localReaders <= 0 && _localWriters <= 0) Unmap();
        }

        public override long Read(byte* buffer, long length, bool nonBlocking)
        {
            if (length <= 0) return 0;
            bool polling = false; // asleep in a poller slot: another reader held WaitingReader
            while (true)
            {
                Lock();
                long read = Head->ReadIndex, available = Head->WriteIndex - read;
                if (polling && (available > 0 || Head->Writers == 0 || nonBlocking))
                {
                    LeavePollersLocked();
                    polling = false;
                }
                if (available > 0)
                {
                    int count = length < available ? (int)length : (int)available;
                    if (available == Capacity) Head->FullReads++;
                    int at = (int)(read % Capacity);
                    int first = Capacity - at < count ? Capacity - at : count;
                    Buffer.MemoryCopy(Ring + at, buffer, first, first);
                    if (count > first) Buffer.MemoryCopy(Ring, buffer + first, count - first, count - first);
                    Head->ReadIndex = read + count;
                    ulong writer = Head->WaitingWriter;
                    Head->WaitingWriter = 0;
                    bool poll = Head->PollerCount != 0;
                    Unlock();
                    Wake(writer);
                    if (poll) WakePollers();
                    return count;
                }
                if (Head->Writers == 0) { Unlock(); return 0; }
                if (nonBlocking) { Unlock(); return -Errno.EAGAIN; }
                polling |= SleepSlotLocked(ref Head->WaitingReader);
                Unlock();
                if (ProcessSignals.TakeInterrupt())
                {
                    if (polling) { Lock(); LeavePollersLocked(); Unlock(); }
                    return -ProcessSignals.ERESTARTSYS;
                }
                if (LinuxThreads.OthersCanRun()) // another thread runs; this read is made again later
                {
                    if (polling) { Lock(); LeavePollersLocked(); Unlock(); }
                    return LinuxThreads.RestartLater();
                }
                ProcessSignals.WaitForWake();
            }
        }

        /// <summary>Under the lock, before this process sleeps for the other side: the pipe's one
        /// waiting slot (waiting: WaitingReader or WaitingWriter) when it is free or ours; when
        /// another process is asleep in it, a poller slot instead (every change of the pipe wakes
        /// the pollers), so neither sleeper's wakeup is lost. With every poller slot taken too, the
        /// waiting slot is overwritten (the other sleeper then waits for a later change). True
        /// when this process is in a poller slot (LeavePollersLocked takes it out).</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        private bool SleepSlotLocked(ref ulong waiting)
        {
            ulong self = Info.EnvironmentId;
            if (waiting == 0 || waiting == self)
            {
                waiting = self;
                return false;
            }
            return SleepInPollerSlot(ref waiting, self);
        }

        private bool SleepInPollerSlot(ref ulong waiting, ulong self)
        {
            for (int i = 0; i < PollerSlots; i++)
                if (Head->Pollers[i] == self) return true;
            for (int i = 0; i < PollerSlots; i++)
            {
                if (Head->Pollers[i] != 0) continue;
                Head->Pollers[i] = self;
                Head->PollerCount++;
                return true;
            }
            waiting = self;
            return false;
        }

        /// <summary>Under the lock: this process leaves the poller slots (SleepSlotLocked's).</summary>
        private void LeavePollersLocked()
        {
            ulong self = Info.EnvironmentId;
            for (int i = 0; i < PollerSlots; i++)
            {
                if (Head->Pollers[i] != self) continue;
                Head->Pollers[i] = 0;
                Head->PollerCount--;
            }
        }

        public override long Write(byte* buffer, long length, bool nonBlocking)
        {
            if (length <= 0) return Readers == 0 ? -Errno.EPIPE : 0;
            long done = 0;
            bool polling = false; // asleep in a poller slot: another writer held WaitingWriter
            while (true)
            {
                Lock();
                if (polling)
                {
                    LeavePollersLocked(); // taken again below if it must sleep once more
                    polling = false;
                }
                if (Head->Readers == 0) { Unlock(); return done > 0 ? done : -Errno.EPIPE; }
                long space = Capacity - (Head->WriteIndex - Head->ReadIndex);
                long wanted = length - done;
                // At most PIPE_BUF bytes go all at once or not at all.
                bool fits = wanted <= AtomicLimit ? space >= wanted : space > 0;
                if (fits)
                {
                    int count = wanted < space ? (int)wanted : (int)space;
                    long write = Head->WriteIndex;
                    int at = (int)(write % Capacity);
                    int first = Capacity - at < count ? Capacity - at : count;
                    Buffer.MemoryCopy(buffer + done, Ring + at, first, first);
                    if (count > first) Buffer.MemoryCopy(buffer + done + first, Ring, count - first, count - first);
                    Head->WriteIndex = write + count;
                    ulong reader = Head->WaitingReader;
                    Head->WaitingReader = 0;
                    bool poll = Head->PollerCount != 0;
                    Unlock();
                    Wake(reader);
                    if (poll) WakePollers();
                    done += count;
                    if (done == length || nonBlocking) return done;
                    continue;
                }
                if (nonBlocking) { Unlock(); return done > 0 ? done : -Errno.EAGAIN; }
                polling = SleepSlotLocked(ref Head->WaitingWriter);
                Unlock();
                if (ProcessSignals.TakeInterrupt())
                {
                    if (polling) { Lock(); LeavePollersLocked(); Unlock(); }
                    return done > 0 ? done : -ProcessSignals.ERESTARTSYS;
                }
                if (done == 0 && LinuxThreads.OthersCanRun()) // nothing written yet: made again later
                {
                    if (polling) { Lock(); LeavePollersLocked(); Unlock(); }
                    return LinuxThreads.RestartLater();
                }
                ProcessSignals.WaitForWake();
            }
        }

        private void Lock()
        {
            while (Interlocked.CompareExchange(ref Head->Lock, 1, 0) != 0)
                SystemCalls.Yield(); // the holder was preempted inside a few instructions
        }

        private void Unlock() => Interlocked.Exchange(ref Head->Lock, 0);

        /// <summary>A read another process's writes are seen by (the header lives in shared pages).</summary>
        private static int Load(ref int location) => Interlocked.CompareExchange(ref location, 0, 0);
        private static long Load(ref long location) => Interlocked.CompareExchange(ref location, 0, 0);

        private static void Wake(ulong pid)
        {
            if (pid == 0 || pid == Info.EnvironmentId) return;
            WakeOrGone(pid);
        }

        /// <summary>Sends pid a WakeTag (retrying, yielding to it, while its kept messages are full):
        /// true when no such environment exists any more.</summary>
        private static bool WakeOrGone(ulong pid)
        {
            for (int attempt = 0; attempt < WakeAttempts; attempt++)
            {
                Error error = SystemCalls.IpcSend(pid, 0, 0, 0, WakeTag);
                if (error != Error.WouldBlock) return error == Error.BadEnvironment;
                SystemCalls.Yield(pid);
            }
            return false;
        }

        /// <summary>poll/select: from now until UnwatchAll, every change of this pipe (bytes in or
        /// out, an end closing) wakes this process (WakeTag), so it can sleep in Wait instead of
        /// looking again and again. False when the pipe's PollerSlots are taken (the caller spins).</summary>
        public bool Watch()
        {
            if (!_mapped) return false;
            if (s_watched.Contains(this)) return true;
            ulong self = Info.EnvironmentId;
            bool added = false;
            Lock();
            for (int i = 0; i < PollerSlots && !added; i++)
            {
                if (Head->Pollers[i] != 0) continue;
                Head->Pollers[i] = self;
                Head->PollerCount++;
                added = true;
            }
            Unlock();
            if (added) s_watched.Add(this);
            return added;
        }

        /// <summary>The end of a poll or select: this process stops watching every pipe it watched.</summary>
        public static void UnwatchAll()
        {
            ulong self = Info.EnvironmentId;
            for (int w = 0; w < s_watched.Count; w++)
            {
                SharedPipe pipe = s_watched[w];
                if (!pipe._mapped) continue;
                pipe.Lock();
                for (int i = 0; i < PollerSlots; i++)
                {
                    if (pipe.Head->Pollers[i] != self) continue;
                    pipe.Head->Pollers[i] = 0;
                    pipe.Head->PollerCount--;
                }
                pipe.Unlock();
            }
            s_watched.Clear();
        }

        public static bool Watching => s_watched.Count != 0;

        /// <summary>Wakes the processes polling this pipe (not this one); a poller that no longer
        /// exists loses its slot.</summary>
        private void WakePollers()
        {
            ulong* pollers = stackalloc ulong[PollerSlots];
            Lock();
            for (int i = 0; i < PollerSlots; i++) pollers[i] = Head->Pollers[i];
            Unlock();
            ulong self = Info.EnvironmentId;
            for (int i = 0; i < PollerSlots; i++)
            {
                ulong pid = pollers[i];
                if (pid == 0 || pid == self) continue;
                if (!WakeOrGone(pid)) continue;
                Lock();
                if (Head->Pollers[i] == pid) { Head->Pollers[i] = 0; Head->PollerCount--; }
                Unlock();
            }
        }

        private void Unmap()
        {
            if (!_mapped) return;
            _mapped = false;
            s_live.Remove(this);
            LinuxFork.UnshareRange(_base);
            if (_owner != Info.EnvironmentId)
            {
                Memory.Unmap(_base, Pages);
                AddressSpace.Release(_base, Pages);
            }
        }

        /// <summary>Frees owned pipes nobody holds any more (their header counts are zero).</summary>
        private static void Reclaim()
        {
            for (int i = s_owned.Count - 1; i >= 0; i--)
            {
                SharedPipe pipe = s_owned[i];
                if (pipe._mapped || pipe._owner != Info.EnvironmentId) continue;
                if (Load(ref pipe.Head->Readers) > 0 || Load(ref pipe.Head->Writers) > 0) continue;
                for (int page = 0; page < Pages; page++)
                    if (Memory.Query(pipe._base + (ulong)page * 4096, out PageInfo info) == Error.None) Memory.FreeFrame(info.Frame);
                AddressSpace.Release(pipe._base, Pages);
                s_owned.RemoveAt(i);
            }
        }

        /// <summary>Before a fork (the parent): the child's copies of our descriptions count too.</summary>
        internal static void BeforeFork(int sign)
        {
            for (int i = 0; i < s_live.Count; i++)
            {
                SharedPipe pipe = s_live[i];
                pipe.Lock();
                pipe.Head->Readers += sign * pipe._localReaders;
                pipe.Head->Writers += sign * pipe._localWriters;
                pipe.Unlock();
            }
        }

        /// <summary>The child's side: its pipes are not its to free.</summary>
        internal static void AfterForkInChild() => s_owned.Clear();

        /// <summary>At exit: this process's descriptions go (EOF / EPIPE for the other side).</summary>
        private static void ReleaseAll()
        {
            for (int i = s_live.Count - 1; i >= 0; i--)
            {
                SharedPipe pipe = s_live[i];
                pipe.Count(-pipe._localReaders, -pipe._localWriters);
            }
        }
    }
}
