// The file server as environments (docs/libos-unixish.md, "Files"): the first Linux process
// spawns the server (the `linux` image with the argument ServerArgument) and every process,
// forked children included, reaches it by its environment id with IpcCall. The server is not a
// Linux process: no pid, never in a wait4 answer; it ends with the first process (the kernel
// ends an environment's descendants).
//
// Buffers: each process maps BufferPages fresh frames of its own at an address it reserved
// (AddressSpace.Reserve: not inherited by fork, so a child maps its own there) and hands them to
// the server one by one with Hello (IpcCall's page). The server maps each client's pages in a
// slot of its own; when all MaximumClients slots are in use it takes the one used longest ago (a
// process that comes back is told VfsProtocol.Unregistered and registers again).
//
// The tree's generation (VfsProtocol.Generation) is written into every registered buffer after
// each change. A buffer whose frames went with their process faults: the server's fault handler
// maps a scratch page there and forgets the slot, so a dead client never takes the server down.
//
// A process the kernel destroys without exit's Goodbye (a crash, a SIGKILL its libOS did not act
// on in time, a program's own Aegis Exit call) is found by NoticeEnds, at the loop's turn (a call,
// a frame, a timer) and before each call: when InfoPage.EnvironmentEnds
// moved it looks at the new ends' ids (InfoPage.RecentEnds; EnvironmentAlive about every holder
// when it fell behind) and does Goodbye's work for those it holds something for (VfsServer.Depart).
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public static unsafe class VfsIpc
    {
        /// <summary>The `linux` image's argument that makes it the file server.</summary>
        public const string ServerArgument = "--vfs-server";
        public const int MaximumClients = 256;

        /// <summary>The server's environment id (0: none; inherited by fork).</summary>
        private static ulong s_server;
        /// <summary>The environment that started the server (fork copies this: only that one matches).</summary>
        private static ulong s_starter;

        /// <summary>Whether this process started the file server (its exit ends it: FileCalls.Goodbye unmounts the disk first).</summary>
        /// <summary>What the server's / is (VfsProtocol.RootKind), read at registration.</summary>
        public static long RootKind;

        public static bool StartedTheServer => s_starter != 0 && s_starter == Info.EnvironmentId;

        /// <summary>The disk extent the root file system lives on (made by `./aegis disk create`).</summary>
        public const string RootExtentName = "rootfs";
        /// <summary>Seconds between the server's commits of the journal's running transaction (ext3's default commit interval).</summary>
        public const int CommitSeconds = 5;

        // ---------------------------------------------------------------- the client

        /// <summary>Spawns the server (the first process) and returns this process's connection, or
        /// null (then the process keeps a tree of its own, as before the server: logged).</summary>
        public static VfsTransport Connect()
        {
            if (s_server == 0)
            {
                string problem = Spawn(out s_server);
                if (problem == null) s_starter = Info.EnvironmentId;
                if (problem != null)
                {
                    s_server = 0;
                    LinuxLog.Line("file server: " + problem + "; this process keeps a file tree of its own");
                    return null;
                }
            }
            var transport = new IpcTransport();
            if (transport.Buffer == null)
            {
                LinuxLog.Line("file server: cannot register a buffer; this process keeps a file tree of its own");
                return null;
            }
            return transport;
        }

        private static string Spawn(out ulong id)
        {
            id = 0;
            SystemCallResult spawned = SystemCalls.ImageSpawn(Info.ImageName, ServerArgument);
            if (spawned.IsError) return "ImageSpawn: " + Errors.Name(spawned.Error);
            ulong slot = spawned.Value;
            SystemCallResult query = SystemCalls.CapabilityQuery(slot);
            if (query.IsError) return "CapabilityQuery: " + Errors.Name(query.Error);
            id = query.Second;
            SystemCalls.CapabilityCopy(CapabilitySlots.Console, slot); // its log lines (optional)
            GiveRootExtent(slot);
            if (Net.NetService.HaveNic()) SystemCalls.CapabilityCopy(CapabilitySlots.Nic, slot); // the sockets' network (Net/NetService.cs)
            Error error = SystemCalls.EnvironmentStart(slot, 0, 0, 0);
            if (error != Error.None) return "EnvironmentStart: " + Errors.Name(error);
            for (int attempt = 0; ; attempt++)
            {
                SystemCallResult status = SystemCalls.EnvironmentStatus(slot);
                if (status.IsError) return "EnvironmentStatus: " + Errors.Name(status.Error);
                if ((EnvironmentState)status.Value == EnvironmentState.Blocked) return null;
                if ((EnvironmentState)status.Value != EnvironmentState.Runnable || attempt > 100_000)
                    return "it did not come up (state " + status.Value.ToString() + ")";
                SystemCalls.Yield(id);
            }
        }

        /// <summary>When this process holds the Disk capability and the disk has the extent
        /// RootExtentName, the server gets a capability over that extent (only it: the server
        /// never sees the rest of the disk) and mounts it as /.</summary>
        private static void GiveRootExtent(ulong serverSlot)
        {
            SystemCallResult disk = SystemCalls.CapabilityQuery(CapabilitySlots.Disk);
            if (disk.IsError || disk.Value != (ulong)CapabilityKind.Disk) return; // no disk: / is the archive
            Error error = DiskExtent.Open(RootExtentName, out DiskExtent extent);
            if (error == Error.NoSuchExtent)
            {
                LinuxLog.Line("file server: the disk has no extent '" + RootExtentName + "' (./aegis disk create makes one); / is the built-in archive, in memory");
                return;
            }
            if (error != Error.None)
            {
                LinuxLog.Line("file server: the extent '" + RootExtentName + "': " + Errors.Name(error) + "; / is the built-in archive, in memory");
                return;
            }
            SystemCallResult copied = SystemCalls.CapabilityCopy(extent.Slot, serverSlot);
            if (copied.IsError) LinuxLog.Line("file server: cannot give it the extent '" + RootExtentName + "': " + Errors.Name(copied.Error) + "; / is the built-in archive, in memory");
        }

        /// <summary>One call to the server; while it answers Busy (mounting the disk, taking its
        /// DHCP lease, committing its journal) this process sleeps a millisecond and calls again.
        /// It sleeps rather than yields: the server is busy waiting for the disk or the network,
        /// and a client that kept calling kept the CPU from halting: the boot's DHCP took a
        /// billion instructions a second of waiting, ten seconds under -icount instead of one
        /// (messages that come meanwhile are kept by the upcall handler, as in any wait).
        /// The same when the server is inside another process's call that waits for the disk (a
        /// program's pages read for its exec): it refuses calls (WouldBlock) until that call ends,
        /// which can outlast Ipc.Call's yields; a fork then failed with EIO (ENOMEM to the program)
        /// while nginx started from the disk. Such a refusal is waited out for ServerStallSeconds.</summary>
        private static SystemCallResult CallServer(ulong w0, ulong w1, ulong w2, ulong w3, ulong page, out ulong reply1)
        {
            ulong giveUp = 0;
            while (true)
            {
                SystemCallResult result = Ipc.Call(s_server, w0, w1, w2, w3, page, out reply1);
                if (result.Error == Error.WouldBlock)
                {
                    if (giveUp == 0) giveUp = Rdtsc() + Info.TimestampHz * ServerStallSeconds;
                    else if (Rdtsc() > giveUp) return result;
                }
                else if (result.IsError || (long)result.Second != VfsProtocol.Busy) return result;
                SystemCalls.WaitUntil(Rdtsc() + Info.TimestampHz / 1000);
            }
        }

        /// <summary>How long a process waits out a server that refuses its calls before the call fails with EIO.</summary>
        public const int ServerStallSeconds = 60;

        private sealed class IpcTransport : VfsTransport
        {
            private ulong _address;
            private ulong _registeredFor;
            /// <summary>The environment the lend page is registered for (0: none), and whether it is wanted
            /// (registered again with the buffer when the server forgot both).</summary>
            private ulong _lendFor;
            private bool _lendWanted;
            private readonly ulong _archiveStart, _archiveEnd;

            public IpcTransport()
            {
                _archiveStart = (ulong)FilesNative.RootfsStart();
                _archiveEnd = (ulong)FilesNative.RootfsEnd();
            }

            public override byte* Buffer => Register() ? (byte*)_address : null;
            public override ulong Identity => Info.EnvironmentId;

            public override bool InArchive(ulong address, long length) =>
                length >= 0 && address >= _archiveStart && address <= _archiveEnd && (ulong)length <= _archiveEnd - address;

            /// <summary>Maps and hands over this environment's buffer (once per environment).</summary>
            private bool Register()
            {
                ulong self = Info.EnvironmentId;
                if (_registeredFor == self) return true;
                if (_address == 0) _address = AddressSpace.Reserve(VfsProtocol.ReservedPages);
                if (_address == 0) return false;
                for (int page = 0; page < VfsProtocol.BufferPages; page++)
                {
                    ulong address = _address + (ulong)page * UserAddresses.PageSize;
                    // A fork never maps this range into the child (it is not an inherited region):
                    // a mapping here is this environment's own.
                    if (Memory.Query(address, out _) != Error.None)
                    {
                        if (Memory.AllocateFrame(out ulong frame) != Error.None) return false;
                        if (Memory.Map(address, frame, Memory.ReadWrite) != Error.None) return false;
                    }
                    SystemCallResult hello = CallServer(VfsProtocol.Hello, (ulong)page, 0, 0, address, out _);
                    if (hello.IsError || (long)hello.Second < 0) return false;
                }
                _registeredFor = self;
                RootKind = *(long*)(_address + VfsProtocol.RootKind);
                if (_lendWanted && _lendFor != self) RegisterLend(self);
                return true;
            }

            public override byte* Lend => _lendFor == Info.EnvironmentId ? (byte*)(_address + VfsProtocol.BufferBytes) : null;

            public override void AskLend()
            {
                ulong self = Info.EnvironmentId;
                if (_lendFor == self || !Register()) return;
                _lendWanted = true;
                if (_lendFor != self) RegisterLend(self);
            }

            private void RegisterLend(ulong self)
            {
                ulong address = _address + VfsProtocol.BufferBytes;
                if (Memory.Query(address, out _) != Error.None)
                {
                    if (Memory.AllocateFrame(out ulong frame) != Error.None) return;
                    if (Memory.Map(address, frame, Memory.ReadWrite) != Error.None) return;
                }
                // The page is the process's own (fresh in a forked child); nothing is lent in it yet.
                for (int i = 0; i < LendArea.Areas; i++) *(long*)(address + (ulong)(i * LendArea.AreaBytes) + LendArea.Key) = 0;
                SystemCallResult hello = CallServer(VfsProtocol.Hello, VfsProtocol.LendPage, 0, 0, address, out _);
                if (!hello.IsError && (long)hello.Second >= 0) _lendFor = self;
            }

            public override long Call(ulong w0, ulong w1, ulong w2, ulong w3, out ulong reply1)
            {
                reply1 = 0;
                for (int attempt = 0; attempt < 2; attempt++)
                {
                    if (!Register()) return -Errno.EIO;
                    SystemCallResult result = CallServer(w0, w1, w2, w3, 0, out reply1);
                    if (result.IsError) return -Errno.EIO;
                    long reply = (long)result.Second;
                    if (reply != VfsProtocol.Unregistered) return reply;
                    _registeredFor = 0; // the server forgot this buffer (and the lend page): hand it over again
                    _lendFor = 0;
                }
                return -Errno.EIO;
            }
        }

        // ---------------------------------------------------------------- the server

        private static VfsServer s_vfs;
        private static IpcCallHandler s_handler;
        private static readonly ulong[] s_clients = new ulong[MaximumClients];
        private static readonly ulong[] s_bases = new ulong[MaximumClients];
        private static readonly int[] s_pages = new int[MaximumClients];     // bit i: page i mapped
        private static readonly ulong[] s_lastUse = new ulong[MaximumClients];
        private static ulong s_clock;
        private const int AllPages = (1 << VfsProtocol.BufferPages) - 1;
        private const int LendBit = 1 << VfsProtocol.LendPage;

        /// <summary>The server environment's life: builds the tree and answers calls forever.</summary>
        public static int RunServer()
        {
            FileCalls.Sources.Clock = () => (long)TimeCalls.RealtimeNanoseconds();
            // Calls that come while the disk is mounted (its reads wait in Wait, where calls are
            // delivered) are told Busy; the first process's Spawn saw this server blocked already.
            s_busy = true;
            s_handler = OnCall;
            IpcServer.SetCallHandler(s_handler);
            DiskTree disk = MountRoot();
            FileSystem fs = FileCalls.BuildTree(null, disk == null, disk);
            s_vfs = new VfsServer(fs);
            s_vfs.Broadcast = Broadcast;
            s_vfs.BoardOf = BoardOf;
            s_vfs.LendOf = LendOf;
            s_vfs.WakeProcess = WakeProcess;
            s_faults = OnFault;
            PageFaults.Register(s_faults);
            Net.NetService.ResolverConfiguration = WriteResolverConfiguration;
            s_vfs.Sockets = Net.NetService.Start(Net.NetService.HaveNic()); // calls meanwhile are told Busy
            s_vfs.GiveConnection = Net.NetService.GiveConnection; // connections processes run themselves
            s_vfs.GiveListener = Net.NetService.GiveListener; // listeners whose connections processes run from their first segment
            s_vfs.TakeFilterBack = Net.NetService.TakeFilterBack;
            s_vfs.DeliverWaiting = Net.NetService.DeliverWaiting;
            bool network = s_vfs.Sockets != null;
            // Ends: a process that ended without Goodbye (NoticeEnds, at the loop's turn and before each
            // call). The loop does not ask to be woken by every end (NotifyFlags.OthersEnded, about 740
            // instructions an end): no case that needs it was found (proc-no-goodbye's sibling in poll,
            // which no SIGCHLD wakes, sees its end of file without it). The reload test's lost
            // request that first kept it off was a lent listener's queue reset at a worker's close
            // (fixed: VfsProtocol.Requeue), not the wake.
            s_endsSeen = Info.EnvironmentEnds;
            s_busy = false;
            // Calls are answered inside the Wait (upcalls). Between them: the network's frames and
            // timers (a frame ends the Wait; NetService.NextDeadlineMicros is its next timer), and
            // every CommitSeconds the journal's running transaction is committed, so what was
            // written reaches the disk even when nobody calls fsync (ext3's commit interval).
            // Meanwhile calls are told Busy.
            ulong interval = Info.TimestampHz * CommitSeconds;
            ulong next = disk == null ? ulong.MaxValue : Rdtsc() + interval;
            while (true)
            {
                ulong deadline = next;
                NoticeEnds();
                if (network)
                {
                    Net.NetService.Step();
                    long micros = Net.NetService.NextDeadlineMicros - Time.Microseconds;
                    ulong wake = micros <= 0 ? 1 : Time.DeadlineAfter(micros);
                    if (micros < long.MaxValue / 2 && wake < deadline) deadline = wake;
                }
                s_loopDeadline = deadline;
                if (deadline == ulong.MaxValue) SystemCalls.Wait();
                else if (deadline > Rdtsc()) SystemCalls.WaitUntil(deadline);
                s_loopDeadline = 0; // (a call answered outside the loop's Wait: see OnCall)
                if (disk == null || Rdtsc() < next) continue; // a call (which may have waited for the disk: OnCall), a frame, a timer or a wakeup
                next = Rdtsc() + interval;
                s_busy = true;
                int error = disk.Commit();
                s_busy = false;
                if (error < 0 && !s_commitFailed)
                {
                    s_commitFailed = true;
                    LinuxLog.Line("file server: the journal's commit failed (errno " + (-error).ToString() + "): " + (disk.Ext2.LastError ?? "the disk refused"));
                }
            }
        }

        private static bool s_busy, s_commitFailed, s_deadlineLost;

        /// <summary>InfoPage.EnvironmentEnds when NoticeEnds last looked.</summary>
        private static ulong s_endsSeen;
        /// <summary>Whether a slot was taken from a live process (Claim): its descriptors are no longer
        /// found through the slots, so the next look asks about every holder.</summary>
        private static bool s_evicted;

        /// <summary>A process that ended: Goodbye's work if the server holds anything for it.</summary>
        private static void Ended(ulong process)
        {
            int slot = Find(process);
            if (slot >= 0)
            {
                s_vfs.Depart(process);
                Forget(slot);
                s_dead[slot] = false;
            }
            else if (s_vfs.Holds(process))
                s_vfs.Depart(process);
        }

        /// <summary>Goodbye's work for every process that ended without it, when an environment ended
        /// since the last look (one read of the information page otherwise). The ids of the new
        /// ends come from InfoPage.RecentEnds: a registered process, or one the server holds
        /// something else for, is let go of (a process that said Goodbye is neither). When more
        /// ended than the page keeps, or a slot was taken from a live process (its descriptors are
        /// no longer found through the slots), every holder is asked about with EnvironmentAlive.
        /// At the loop's turn and before each call. Re-entered by a call answered while a close
        /// here waits for the disk: that call looks only at later ends.</summary>
        private static void NoticeEnds()
        {
            ulong ends = Info.EnvironmentEnds;
            if (ends == s_endsSeen) return;
            ulong seen = s_endsSeen;
            s_endsSeen = ends;
            bool sweep = s_evicted || ends - seen > InfoPage.RecentEndsKept;
            for (ulong n = seen; n < ends && !sweep; n++)
            {
                ulong process = Info.RecentEnd(n);
                if (Info.EnvironmentEnds - n > InfoPage.RecentEndsKept) sweep = true; // overwritten before it was read
                else Ended(process);
            }
            if (sweep)
            {
                s_evicted = false;
                var holders = new System.Collections.Generic.List<ulong>(); // (rare: more than 16 ends unseen)
                for (int i = 0; i <= s_highest; i++)
                    if (s_clients[i] != 0) holders.Add(s_clients[i]);
                s_vfs.Holders(holders, descriptors: true);
                for (int i = 0; i < holders.Count; i++)
                    if (!SystemCalls.EnvironmentAlive(holders[i])) Ended(holders[i]);
            }
            if (s_vfs.Unix.HasChanged) WakeUnixWatchers();
            if (s_vfs.Sockets != null && s_vfs.SocketsTouched)
            {
                s_vfs.SocketsTouched = false;
                Net.NetService.AfterWork();
            }
        }
        /// <summary>The deadline (TSC) of the Wait the loop is in (ulong.MaxValue: none; 0: not in it).</summary>
        private static ulong s_loopDeadline;

        /// <summary>When the network's next timer is due, as the loop computes its deadline (ulong.MaxValue: none).</summary>
        private static ulong NetworkWake()
        {
            long micros = Net.NetService.NextDeadlineMicros - Time.Microseconds;
            if (micros >= long.MaxValue / 2) return ulong.MaxValue;
            return micros <= 0 ? 1 : Time.DeadlineAfter(micros);
        }

        private static readonly System.Collections.Generic.List<Socket> s_changedUnix = new System.Collections.Generic.List<Socket>();
        private static System.Action<ulong> s_wakeProcess;

        /// <summary>Every process recorded on an AF_UNIX socket the last call changed gets one wake
        /// message (its Wait ends: LinuxProcesses takes WakeTag); a full queue means one is pending.</summary>
        private static void WakeUnixWatchers()
        {
            if (s_wakeProcess == null) s_wakeProcess = WakeProcess;
            s_vfs.Unix.TakeChanged(s_changedUnix);
            for (int i = 0; i < s_changedUnix.Count; i++) s_changedUnix[i].WakeWatchers(s_wakeProcess);
            s_changedUnix.Clear();
        }

        private static void WakeProcess(ulong environment) =>
            SystemCalls.IpcSend(environment, 0, 0, 0, Processes.SharedPipe.WakeTag, IpcSendFlags.SenderContinues);

        /// <summary>/etc/resolv.conf from the lease's DNS servers (glibc's resolver and busybox read
        /// it; without it they would ask 127.0.0.1). Logged when it cannot be written.</summary>
        private static void WriteResolverConfiguration(string text)
        {
            LinuxFiles files = s_vfs.Files;
            long fd = files.OpenAt(LinuxFile.AT_FDCWD, "/etc/resolv.conf", LinuxFile.O_WRONLY | LinuxFile.O_CREAT | LinuxFile.O_TRUNC, 0x1A4);
            if (fd < 0) { LinuxLog.Line("network: cannot write /etc/resolv.conf (errno " + (-fd).ToString() + ")"); return; }
            byte[] bytes = new byte[text.Length];
            for (int i = 0; i < text.Length; i++) bytes[i] = (byte)text[i];
            fixed (byte* data = bytes) files.Write((int)fd, data, bytes.Length);
            files.Close((int)fd);
            s_vfs.Generation++; // a stat may see it: the clients' caches start again
            Broadcast(s_vfs.Generation);
        }

        private static ulong Rdtsc() => LinuxNative.Rdtsc();

        /// <summary>The root file system from the extent the first process gave this server (a
        /// capability of kind Extent in one of its slots), or null: then / is the archive.</summary>
        private static DiskTree MountRoot()
        {
            ulong slot = 0;
            for (ulong candidate = 1; candidate < 64 && slot == 0; candidate++)
            {
                SystemCallResult query = SystemCalls.CapabilityQuery(candidate);
                if (!query.IsError && query.Value == (ulong)CapabilityKind.Extent) slot = candidate;
            }
            if (slot == 0) return null;
            Error error = DiskExtent.FromSlot(slot, out DiskExtent extent);
            if (error != Error.None)
            {
                LinuxLog.Line("file server: the extent '" + RootExtentName + "': " + Errors.Name(error) + "; / is the built-in archive, in memory");
                return null;
            }
            try
            {
                var store = new Aegis.LibOS.Unixish.Disk.ExtentBlockStore(extent);
                var ext2 = Aegis.LibOS.Unixish.Storage.Ext2FileSystem.Mount(store, new Aegis.LibOS.Unixish.Storage.Ext2MountOptions
                {
                    CacheBlocks = CacheBlocks,
                    Clock = () => (long)(TimeCalls.RealtimeNanoseconds() / 1_000_000_000UL),
                });
                var tree = new DiskTree(ext2, store);
                tree.Archive = ArchiveFiles();
                LinuxLog.Line("file server: / is " + tree.Type + " on the disk (extent '" + RootExtentName + "', "
                    + (extent.Sectors / 2048).ToString() + " MiB" + (ext2.ReplayedTransactions > 0 ? ", " + ext2.ReplayedTransactions.ToString() + " journal transactions replayed" : "") + ")");
                return tree;
            }
            catch (Aegis.LibOS.Unixish.Storage.StorageException e)
            {
                LinuxLog.Line("file server: the extent '" + RootExtentName + "' cannot be mounted: " + e.Message + "; / is the built-in archive, in memory");
                return null;
            }
        }

        /// <summary>The embedded archive's regular files by path (DiskTree.TryArchiveAlias), or null.</summary>
        private static System.Collections.Generic.Dictionary<string, TarEntry> ArchiveFiles()
        {
            byte* start = FilesNative.RootfsStart(), end = FilesNative.RootfsEnd();
            if (start == null || end <= start) return null;
            var entries = new System.Collections.Generic.List<TarEntry>();
            TarArchive.Read(start, end - start, entries);
            var files = new System.Collections.Generic.Dictionary<string, TarEntry>();
            for (int i = 0; i < entries.Count; i++)
                if (entries[i].Kind == TarEntryKind.Regular) files[entries[i].Path] = entries[i];
            return files;
        }

        /// <summary>The buffer cache's size in blocks (4 KiB blocks: 32 MiB).</summary>
        public const int CacheBlocks = 8192;

        private static int s_lastSlot;
        private static int s_highest = -1;
        private static PageFaultHandler s_faults;
        private static ulong s_scratchFrame;
        private static readonly bool[] s_dead = new bool[MaximumClients];

        /// <summary>A registered client's buffer (its readiness board at VfsProtocol.Board), or zero.</summary>
        private static System.IntPtr BoardOf(ulong client)
        {
            int slot = Find(client);
            if (slot < 0 || (s_pages[slot] & AllPages) != AllPages || s_dead[slot]) return System.IntPtr.Zero;
            return (System.IntPtr)s_bases[slot];
        }

        /// <summary>A registered client's lend page (LendArea.cs), or zero when it has none.</summary>
        private static System.IntPtr LendOf(ulong client)
        {
            int slot = Find(client);
            if (slot < 0 || s_pages[slot] != (AllPages | LendBit) || s_dead[slot]) return System.IntPtr.Zero;
            return (System.IntPtr)(s_bases[slot] + VfsProtocol.BufferBytes);
        }

        /// <summary>The new generation into every registered buffer (VfsProtocol.Generation).</summary>
        private static void Broadcast(ulong generation)
        {
            for (int i = 0; i <= s_highest; i++)
                if (s_clients[i] != 0 && (s_pages[i] & AllPages) == AllPages && !s_dead[i])
                    *(ulong*)(s_bases[i] + VfsProtocol.Generation) = generation;
            for (int i = 0; i <= s_highest; i++)
                if (s_dead[i]) { Forget(i); s_dead[i] = false; }
        }

        /// <summary>A client's buffer the kernel took away (the client ended: its frames went): a
        /// scratch page takes the access, the slot is forgotten; the server goes on.</summary>
        private static bool OnFault(ref UpcallFrame frame)
        {
            ulong page = PageFaults.FaultPage(frame);
            for (int i = 0; i <= s_highest; i++)
            {
                if (s_bases[i] == 0 || page < s_bases[i] || page >= s_bases[i] + (ulong)VfsProtocol.ReservedPages * 4096) continue;
                if (s_scratchFrame == 0 && Memory.AllocateFrame(out s_scratchFrame) != Error.None) return false;
                if (Memory.Map(page, s_scratchFrame, Memory.ReadWrite) != Error.None) return false;
                s_dead[i] = true;
                return true;
            }
            return false;
        }

        private static int Find(ulong sender)
        {
            if (sender == 0) return -1;
            if (s_clients[s_lastSlot] == sender) return s_lastSlot; // a process's calls come in runs
            for (int i = 0; i <= s_highest; i++) // (Claim keeps every used slot at or below s_highest)
                if (s_clients[i] == sender) return s_lastSlot = i;
            return -1;
        }

        private static int Claim(ulong sender)
        {
            int slot = -1;
            for (int i = 0; i < MaximumClients && slot < 0; i++)
                if (s_clients[i] == 0) slot = i;
            if (slot < 0)
            {
                slot = 0;
                for (int i = 1; i < MaximumClients; i++)
                    if (s_lastUse[i] < s_lastUse[slot]) slot = i;
                // The evicted process hears no generations any more: generation 0 (never a tree's)
                // ends every answer it cached, so its next call comes here and learns Unregistered.
                s_evicted = true;
                if ((s_pages[slot] & AllPages) == AllPages && !s_dead[slot])
                {
                    if ((s_pages[slot] & LendBit) != 0) s_vfs.EndLending(s_clients[slot], (byte*)(s_bases[slot] + VfsProtocol.BufferBytes), republish: false);
                    *(ulong*)(s_bases[slot] + VfsProtocol.Generation) = 0;
                    ReadinessBoard.Clear((byte*)s_bases[slot]); // its slots are no longer kept: it asks again
                }
                Forget(slot);
            }
            if (s_bases[slot] == 0) s_bases[slot] = AddressSpace.Reserve(VfsProtocol.ReservedPages);
            if (s_bases[slot] == 0) return -1;
            s_clients[slot] = sender;
            s_pages[slot] = 0;
            s_dead[slot] = false;
            if (slot > s_highest) s_highest = slot;
            return slot;
        }

        private static void Forget(int slot)
        {
            for (int page = 0; page < VfsProtocol.ReservedPages; page++)
                if ((s_pages[slot] & (1 << page)) != 0) Memory.Unmap(s_bases[slot] + (ulong)page * UserAddresses.PageSize);
            s_clients[slot] = 0;
            s_pages[slot] = 0;
        }

        private static void OnCall(in IpcMessage request, out ulong reply0, out ulong reply1)
        {
            reply1 = 0;
            if (s_busy) { reply0 = unchecked((ulong)VfsProtocol.Busy); return; } // mounting, or inside the commit's disk waits
            NoticeEnds(); // (first: a slot Find returns below may be a dead process's)
            ulong sender = request.Sender;
            int slot = Find(sender);
            if ((request.Word0 & 0xFF) == VfsProtocol.Hello)
            {
                ulong page = request.Word1;
                if (!request.HasPage || page >= VfsProtocol.ReservedPages) { reply0 = unchecked((ulong)(long)-Errno.EINVAL); return; }
                if (slot < 0 && (slot = Claim(sender)) < 0) { reply0 = unchecked((ulong)(long)-Errno.ENOMEM); return; }
                ulong address = s_bases[slot] + page * UserAddresses.PageSize;
                if ((s_pages[slot] & (1 << (int)page)) != 0) Memory.Unmap(address);
                Error error = Memory.Map(address, request.Frame, Memory.ReadWrite);
                if (error != Error.None) { s_pages[slot] &= ~(1 << (int)page); reply0 = unchecked((ulong)(long)-Errno.EFAULT); return; }
                s_pages[slot] |= 1 << (int)page;
                s_lastUse[slot] = ++s_clock;
                if (s_pages[slot] == AllPages) // (the lend page comes after, if at all)
                {
                    *(ulong*)(s_bases[slot] + VfsProtocol.Generation) = s_vfs.Generation;
                    // (The board is empty: the process's frames are new, zeroed by the kernel, or were
                    // cleared when this server last let their slot go: Claim.)
                    DiskTree disk = s_vfs.FileSystem.Disk;
                    *(long*)(s_bases[slot] + VfsProtocol.RootKind) = disk == null ? VfsProtocol.RootArchive : disk.Ext2.HasJournal ? VfsProtocol.RootExt3 : VfsProtocol.RootExt2;
                }
                reply0 = 0;
                return;
            }
            if (slot < 0 || (s_pages[slot] & AllPages) != AllPages) { reply0 = unchecked((ulong)VfsProtocol.Unregistered); return; }
            s_lastUse[slot] = ++s_clock;
            DiskTree root = s_vfs.FileSystem.Disk;
            ulong requests = root?.Counters == null ? 0 : root.Counters.Reads + root.Counters.Writes;
            long result = s_vfs.Handle(sender, request.Word0, request.Word1, request.Word2, request.Word3,
                (byte*)s_bases[slot], (s_pages[slot] & LendBit) != 0 ? VfsProtocol.BufferBytes + 4096 : VfsProtocol.BufferBytes, out reply1);
            // A call that waited for the disk replaced the main loop's WaitUntil deadline with none
            // (one deadline per environment): once something waits for the next commit, the upcall
            // returns (not reply-and-wait) and the loop sets its deadline again.
            if (root != null)
            {
                if (root.Counters == null || root.Counters.Reads + root.Counters.Writes != requests) s_deadlineLost = true;
                if (s_deadlineLost && ((root.Ext2.HasJournal && root.Ext2.Journal.HasRunningTransaction) || s_vfs.Sockets != null)) // the next commit, or the network's timers
                {
                    IpcServer.ReturnAfterReply = true;
                    s_deadlineLost = false;
                }
            }
            if ((request.Word0 & 0xFF) == VfsProtocol.Goodbye || s_dead[slot]) { Forget(slot); s_dead[slot] = false; }
            if (s_vfs.Unix.HasChanged) WakeUnixWatchers();
            if (s_vfs.Sockets != null && s_vfs.SocketsTouched)
            {
                // A socket call may have armed a timer or changed what others wait for: wake them.
                // A timer now due before the deadline the loop waits with becomes that Wait's
                // deadline through the reply (reply-and-wait-until); only when a disk wait replaced
                // the deadline, or the call did not come into the loop's Wait, does the upcall
                // return so the loop takes its deadline again. Returning after every socket call
                // cost two more address-space switches a call (the reply ran the caller, and the
                // kernel later ran this server again to finish its loop): 8 of nginx's 28 a request.
                s_vfs.SocketsTouched = false;
                Net.NetService.AfterWork();
                ulong wake = NetworkWake();
                if (s_deadlineLost || s_loopDeadline == 0)
                {
                    IpcServer.ReturnAfterReply = true;
                    s_deadlineLost = false;
                }
                else if (wake < s_loopDeadline && !IpcServer.ReturnAfterReply)
                {
                    // The reply goes back into the loop's Wait with the earlier deadline (the kernel
                    // sets it: IpcReplyFlags.AndWaitUntil); the loop's Step runs when it passes.
                    s_loopDeadline = wake;
                    IpcServer.ResumeDeadline = wake;
                }
            }
            reply0 = unchecked((ulong)result);
        }
    }
}
