// A process's half of the shared file tree (docs/libos-unixish.md, "Files"): the proxies its fd
// table and cwd hold for descriptions the file server keeps (RemoteFile, RemoteDirectory, each
// owning one server descriptor through a RemoteHandle) and the requests that reach the server
// (VfsProtocol) through a transport: IPC in Aegis (VfsIpc), a direct call in the host tests.
// Pure logic; compiles under the real .NET.
//
// Invariants: a handle's server descriptor is closed exactly once, when the last client object
// using it goes (deferred: the number rides with the next request, or with Flush); after a fork
// the child's handles name the descriptors BeforeFork duplicated for it (Adopt, run lazily on
// the child's first request: the transport's Identity changed); an archive file opened for
// reading keeps its position here (LocalPosition) until a fork shares the description, which
// first hands the position to the server.
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    /// <summary>How requests reach the file server.</summary>
    public unsafe abstract class VfsTransport
    {
        /// <summary>The request/reply buffer (VfsProtocol.BufferBytes), registered with the server.</summary>
        public abstract byte* Buffer { get; }
        /// <summary>Who this process is (changes in a forked child).</summary>
        public abstract ulong Identity { get; }
        /// <summary>One request: reply word 0 (or -errno when the server cannot be reached).</summary>
        public abstract long Call(ulong w0, ulong w1, ulong w2, ulong w3, out ulong reply1);
        /// <summary>Where the process's own copy of the root archive lies (archive reads stay local).</summary>
        public abstract bool InArchive(ulong address, long length);
        /// <summary>The lend page (LendArea.cs) once registered with the server (AskLend), else null.</summary>
        public virtual byte* Lend => null;
        /// <summary>Registers the lend page (a process that subscribes a board: its sockets' bytes
        /// may then be lent to it). Once per process; a failure leaves it without lending.</summary>
        public virtual void AskLend() { }
    }

    /// <summary>One server descriptor a process holds.</summary>
    public sealed class RemoteHandle
    {
        public readonly VfsClient Client;
        /// <summary>The server's descriptor (in a forked child: the duplicate, adopted on first use).</summary>
        public int ServerFd
        {
            get
            {
                Client.Adopt();
                if (Fd == Pending) Client.Materialize(this);
                return Fd;
            }
            set => Fd = value;
        }
        internal int Fd;
        /// <summary>Fd of a description opened from an anchor without asking the server (see
        /// VfsClient.Open): the server's description is made when first needed.</summary>
        internal const int Pending = int.MinValue;
        /// <summary>A pending description's anchor (the server descriptor that keeps its inode).</summary>
        internal RemoteHandle Anchor;
        /// <summary>A pending description's status flags (O_NONBLOCK): its server description gets them.</summary>
        internal int OpenFlags;
        /// <summary>The absolute path it was opened by (its bytes), when it may become an anchor at close.</summary>
        internal byte[] AnchorPath;
        /// <summary>The duplicate BeforeFork made for the child (the child adopts it).</summary>
        public int ChildFd = -1;
        internal int Index = -1;
        /// <summary>The file opened read-only whose position may live in the client.</summary>
        internal RemoteFile Local;
        private bool _released;

        public RemoteHandle(VfsClient client, int serverFd) { Client = client; ServerFd = serverFd; }

        /// <summary>The process no longer uses it: the server's descriptor closes (deferred).</summary>
        public void Release()
        {
            if (_released) return;
            _released = true;
            Client.Forget(this);
        }
    }

    /// <summary>A client-side proxy of a server description.</summary>
    public interface IRemoteNode
    {
        RemoteHandle Handle { get; }
    }

    /// <summary>A non-directory the server holds (regular file, symlink opened with O_PATH).</summary>
    public sealed unsafe class RemoteFile : Inode, IRemoteNode
    {
        public RemoteHandle Handle { get; }
        /// <summary>Non-null: the file is the archive's bytes, readable in this process's own copy.</summary>
        public readonly byte* ArchiveData;
        public readonly long ArchiveSize;
        /// <summary>The archive file's position lives here (not yet shared by a fork).</summary>
        public bool LocalPosition;
        public long Position;
        /// <summary>The file's bytes copied for mmap or exec (kept while the node lives).</summary>
        public byte[] Copy;
        /// <summary>A tmpfs file opened read-only: its size and the generation it was seen at, and
        /// how many of its first bytes the open's reply carried.</summary>
        public long KnownSize, PrefetchCount;
        public ulong KnownGeneration;
        public byte[] Cached;
        /// <summary>A regular file opened read-only: the description whose open's reply carried
        /// its stat (this one, or for an open from an anchor the anchor's; null: none), good while
        /// the server's generation is its KnownStatGeneration. Shared, not copied: an anchored open
        /// copies nothing of it (open_read_close_1k paid ~95 instructions for copying it).</summary>
        public RemoteFile StatHolder;
        public StatInfo KnownStat;
        public ulong KnownStatGeneration;

        public RemoteFile(Mount mount, RemoteHandle handle, uint mode, byte* archiveData, long archiveSize)
            : base(mount, 0, mode, 0)
        {
            Handle = handle; ArchiveData = archiveData; ArchiveSize = archiveSize;
        }

        public override StatInfo Stat() =>
            StatHolder != null && StatHolder.KnownStatGeneration == Handle.Client.Generation ? StatHolder.KnownStat : Handle.Client.Fstat(Handle);
        public override long Size => Stat().Size;
    }

    /// <summary>A directory the server holds: a cwd, a dirfd, or (ServerFd AT_FDCWD) the server's root.</summary>
    public sealed class RemoteDirectory : DirectoryNode, IRemoteNode
    {
        public RemoteHandle Handle { get; }

        public RemoteDirectory(Mount mount, RemoteHandle handle, uint mode) : base(mount, 0, mode, 0)
        {
            Handle = handle;
            Mode = mode;
            Class = NodeClass.RemoteDirectory;
        }

        public override StatInfo Stat() => Handle.Client.Fstat(Handle);
        public override Inode Lookup(string name) => null; // walks stop here (FileSystem.LeavesTree)
        public override bool EntryAt(int index, out string name, out Inode node) { name = null; node = null; return false; }
        public override bool IsEmpty => false;
    }

    public sealed unsafe partial class VfsClient
    {
        public readonly VfsTransport Transport;
        /// <summary>The server's root (never closed).</summary>
        public readonly RemoteDirectory Root;
        /// <summary>Where the server's last Redirected reply said the path goes on (absolute, in this process's tree).</summary>
        public string RedirectPath;
        private readonly Mount _mount;
        private readonly List<RemoteHandle> _handles = new List<RemoteHandle>();
        private readonly int[] _closes = new int[VfsProtocol.MaximumCloses];
        private int _closeCount;
        private ulong _identity;

        // stat answers for absolute paths (by the path's bytes and AT_SYMLINK_NOFOLLOW), valid while
        // the server's generation is the one they were got at (the server writes it into the
        // buffer at each change: VfsProtocol.Generation). PathCache.cs.
        private readonly StatTable _stats = new StatTable();

        /// <summary>stat answers taken from the cache (tests).</summary>
        public ulong StatCacheHits;

        /// <summary>CachedStat's and LinuxFiles' answer when the cache cannot answer (ask the slow way).</summary>
        public const int NotCached = int.MinValue;

        public VfsClient(VfsTransport transport, Mount mount)
        {
            Transport = transport;
            _mount = mount;
            _identity = transport.Identity;
            Root = new RemoteDirectory(mount, new RemoteHandle(this, LinuxFile.AT_FDCWD), LinuxFile.S_IFDIR | 0x1ED);
        }

        /// <summary>Server descriptors this process holds (tests).</summary>
        public int HandleCount => _handles.Count;

        private byte* Payload => Transport.Buffer + VfsProtocol.Payload;

        // ---------------------------------------------------------------- handles, fork, exit

        internal void Forget(RemoteHandle handle)
        {
            Adopt();
            int index = handle.Index;
            if (index < 0) return;
            if (handle.Fd != RemoteHandle.Pending && handle.AnchorPath != null && KeepAsAnchor(handle)) return;
            int last = _handles.Count - 1;
            _handles[index] = _handles[last];
            _handles[index].Index = index;
            _handles.RemoveAt(last);
            handle.Index = -1;
            if (handle.Fd == RemoteHandle.Pending) return; // never reached the server
            if (_closeCount == _closes.Length) Flush();
            _closes[_closeCount++] = handle.Fd;
        }

        // ---- anchors: opening a file again for reading without asking the server
        //
        // A file opened read-only by an absolute path (a tmpfs file whose first bytes came with the
        // reply) keeps, when closed, its server descriptor as the path's anchor, with its size and
        // first bytes and the generation they were seen at. Opening the path again read-only while
        // the generation holds asks nothing: nothing in the tree changed, so the path still names
        // that inode with that content. The new description is pending (no server descriptor);
        // reads are served from the kept bytes while the generation holds; whatever needs the
        // server (a read after a change or past the kept bytes, fstat, fork...) first makes the
        // server's description, a new one of the anchor's inode (Reopen: the anchor keeps the inode
        // even if it was unlinked since, as an open file keeps it on Linux).
        // Anchors are kept by the path's bytes (PathCache.cs: AnchorTable, the oldest goes first).
        private readonly AnchorTable _anchors = new AnchorTable();

        /// <summary>Opens that asked the server nothing (tests).</summary>
        public ulong AnchoredOpens;

        private bool KeepAsAnchor(RemoteHandle handle)
        {
            RemoteFile file = handle.Local;
            if (file == null || (file.Cached == null && file.ArchiveData == null) || file.KnownGeneration != CurrentGeneration) return false;
            byte[] key = handle.AnchorPath;
            int old;
            fixed (byte* k = key) old = _anchors.Find(k, key.Length);
            if (old >= 0)
            {
                if (_anchors[old].Handle == handle) return true;
                DropAnchor(old);
            }
            if (_anchors.Count >= AnchorTable.AnchorLimit) DropAnchor(0);
            _anchors.Add(key, handle, file.KnownGeneration);
            return true;
        }

        private void DropAnchor(int index)
        {
            RemoteHandle handle = _anchors[index].Handle;
            _anchors.RemoveAt(index);
            handle.AnchorPath = null;
            Forget(handle);
        }

        /// <summary>A pending description of anchor index's inode (no request; see above), with the
        /// status flags 'flags' has (O_NONBLOCK) for when the server's description is made.</summary>
        private RemoteFile FromAnchor(int index, int flags)
        {
            RemoteHandle anchor = _anchors[index].Handle;
            RemoteFile first = anchor.Local; // the description the anchor was (what it knew is unchanged since)
            AnchoredOpens++;
            RemoteHandle pending = NewHandle(RemoteHandle.Pending);
            pending.Anchor = anchor;
            pending.OpenFlags = flags & LinuxFile.O_NONBLOCK;
            var again = new RemoteFile(_mount, pending, first.Mode, first.ArchiveData, first.ArchiveSize)
            {
                LocalPosition = true, KnownSize = first.KnownSize, PrefetchCount = first.PrefetchCount,
                KnownGeneration = first.KnownGeneration, Cached = first.Cached,
                StatHolder = first.StatHolder,
            };
            pending.Local = again;
            return again;
        }

        // The flags an open served from an anchor may have besides O_RDONLY: none changes what is
        // opened; O_NONBLOCK (nginx opens its files so) is given to the server's description when
        // it is made (Materialize).
        private const int PlainReadOnly = LinuxFile.O_LARGEFILE | LinuxFile.O_CLOEXEC | LinuxFile.O_NOCTTY | LinuxFile.O_NONBLOCK;

        /// <summary>open(path, flags) of an absolute path (its bytes, without the NUL) served from
        /// its anchor while the tree is unchanged: true and the new description's node; false when
        /// the server must be asked (VfsClient.Open, through LinuxFiles).</summary>
        public bool TryOpenAnchored(byte* path, int length, int flags, out Inode node)
        {
            node = null;
            if (_anchors.Count == 0 || (flags & ~PlainReadOnly) != 0 || length == 0 || path[0] != '/') return false;
            int index = _anchors.Find(path, length);
            if (index < 0 || _anchors[index].Generation != CurrentGeneration) return false;
            node = FromAnchor(index, flags);
            return true;
        }

        private byte[] _payloadKept;

        /// <summary>The server's description of a pending one: a new description of its anchor's inode.</summary>
        internal void Materialize(RemoteHandle handle)
        {
            RemoteHandle anchor = handle.Anchor;
            handle.Anchor = null;
            handle.Fd = -1;
            if (anchor == null) return;
            // Called while a call is being put together (its payload may be written already, as
            // sendfile's offset or futimens's times are): the Reopen's reply must not overwrite it.
            if (_payloadKept == null) _payloadKept = new byte[VfsProtocol.PayloadBytes];
            fixed (byte* kept = _payloadKept)
            {
                System.Buffer.MemoryCopy(Payload, kept, VfsProtocol.PayloadBytes, VfsProtocol.PayloadBytes);
                long fd = Call(VfsProtocol.Reopen, (ulong)anchor.ServerFd, (ulong)(uint)(LinuxFile.O_RDONLY | handle.OpenFlags), 0, out _);
                if (fd >= 0) handle.Fd = (int)fd;
                System.Buffer.MemoryCopy(kept, Payload, VfsProtocol.PayloadBytes, VfsProtocol.PayloadBytes);
            }
        }

        private byte[] _payloadBeforeFlush;

        /// <summary>Held sends go before any other call (VfsClient.Sockets.cs, "held sends"); this
        /// call's payload, written already, is kept across the flush.</summary>
        private void FlushKeepingPayload()
        {
            if (_payloadBeforeFlush == null) _payloadBeforeFlush = new byte[VfsProtocol.PayloadBytes];
            fixed (byte* kept = _payloadBeforeFlush)
            {
                System.Buffer.MemoryCopy(Payload, kept, VfsProtocol.PayloadBytes, VfsProtocol.PayloadBytes);
                FlushHeld(false);
                System.Buffer.MemoryCopy(kept, Payload, VfsProtocol.PayloadBytes, VfsProtocol.PayloadBytes);
            }
        }

        private RemoteHandle NewHandle(int serverFd)
        {
            var handle = new RemoteHandle(this, serverFd) { Index = _handles.Count };
            _handles.Add(handle);
            return handle;
        }

        /// <summary>Sends the deferred closes now. Bytes held on a corked socket go first, and the
        /// closes with them in the same call (VfsProtocol.ClosesAfter): nginx's answer on a
        /// connection it closes, its header and file then its close, is one call.</summary>
        public void Flush()
        {
            if (_heldSocket != null && _closeCount > 0)
            {
                _closesAfterHeld = true;
                try { FlushHeld(); }
                finally { _closesAfterHeld = false; }
            }
            if (_closeCount > 0) Call(VfsProtocol.Close, unchecked((ulong)-1), 0, 0, out _);
        }

        /// <summary>The parent's side of fork, before the child's memory is copied: every server
        /// descriptor is duplicated for child (the child adopts the duplicates), archive positions
        /// move to the server. 0 or -errno (then nothing was duplicated).</summary>
        public int BeforeFork(ulong child)
        {
            Adopt();
            for (int i = 0; i < _handles.Count; i++) _handles[i].ChildFd = -1;
            int done = 0;
            while (done < _handles.Count)
            {
                int batch = _handles.Count - done;
                if (batch > VfsProtocol.PayloadBytes / 4) batch = VfsProtocol.PayloadBytes / 4;
                for (int i = 0; i < batch; i++) ShareLocalPosition(_handles[done + i]);
                int* fds = (int*)Payload;
                for (int i = 0; i < batch; i++) fds[i] = _handles[done + i].ServerFd;
                long result = Call(VfsProtocol.Duplicate, (ulong)batch, child, 0, out _);
                if (result < 0) { UndoFork(); return (int)result; }
                for (int i = 0; i < batch; i++) _handles[done + i].ChildFd = fds[i];
                done += batch;
            }
            Flush(); // the child's copy of the deferred closes must be empty
            return 0;
        }

        /// <summary>A fork that failed after BeforeFork: the duplicates go.</summary>
        public void UndoFork()
        {
            for (int i = 0; i < _handles.Count; i++)
            {
                RemoteHandle handle = _handles[i];
                if (handle.ChildFd < 0) continue;
                if (_closeCount == _closes.Length) Flush();
                _closes[_closeCount++] = handle.ChildFd;
                handle.ChildFd = -1;
            }
            Flush();
        }

        /// <summary>The server descriptor of a description about to be passed to another process
        /// (SCM_RIGHTS): a position kept here moves to the server first, as fork does.</summary>
        public int ServerFdToPass(RemoteHandle handle)
        {
            Adopt();
            ShareLocalPosition(handle);
            return handle.ServerFd;
        }

        private void ShareLocalPosition(RemoteHandle handle)
        {
            _ = handle.ServerFd; // a pending description is made now
            // Archive files keep their position here until shared.
            RemoteFile file = handle.Local;
            if (file == null || !file.LocalPosition) return;
            file.LocalPosition = false;
            if (file.Position != 0) Call(VfsProtocol.SetPosition, (ulong)handle.ServerFd, (ulong)file.Position, 0, out _);
        }

        /// <summary>In a forked child: take the descriptors the parent duplicated.</summary>
        internal void Adopt()
        {
            ulong identity = Transport.Identity;
            if (identity == _identity) return;
            _identity = identity;
            _closeCount = 0;
            for (int i = 0; i < _handles.Count; i++)
            {
                RemoteHandle handle = _handles[i];
                handle.Fd = handle.ChildFd;
                handle.ChildFd = -1;
            }
            // A handle whose duplicate failed cannot be used: it answers EBADF from the server.
        }

        /// <summary>The process ends: the server drops all its descriptors.</summary>
        public void Goodbye()
        {
            Adopt();
            _closeCount = 0;
            Call(VfsProtocol.Goodbye, 0, 0, 0, out _);
            _handles.Clear();
            _anchors.Clear();
        }

        // ---------------------------------------------------------------- requests

        private const ulong PrefetchBit = 1UL << 33, StatBit = 1UL << 34;

        /// <summary>The server's generation as this process last saw it (it moves at every change of the tree).</summary>
        public ulong Generation => CurrentGeneration;
        /// <summary>The file whose first bytes the last reply (Open's) left in the payload.</summary>

        private ulong CurrentGeneration
        {
            get
            {
                byte* buffer = Transport.Buffer;
                return buffer == null ? 0 : *(ulong*)(buffer + VfsProtocol.Generation);
            }
        }

        private long Call(int op, ulong w1, ulong w2, ulong w3, out ulong reply1)
        {
            if (_heldSocket != null) FlushKeepingPayload();
            Adopt();
            int closes = _closeCount;
            // While Flush sends held bytes, the closes wait for the held send and go with it, after
            // it (VfsProtocol.ClosesAfter): a call between (a wait for room) does not take them.
            bool after = _closesAfterHeld && op == VfsProtocol.SendTo && closes > 0;
            if (_closesAfterHeld && !after) closes = 0;
            if (closes > 0)
            {
                int* list = (int*)Transport.Buffer;
                for (int i = 0; i < closes; i++) list[i] = _closes[i];
                _closeCount = 0;
            }
            if (op == VfsProtocol.Close) op = VfsProtocol.GetFlags; // a bare flush: a harmless request
            ulong word = (ulong)(uint)op | ((ulong)(uint)closes << 8) | (after ? VfsProtocol.ClosesAfter : 0);
            long result = Transport.Call(word, w1, w2, w3, out reply1);
            if (after && !VfsProtocol.ClosesWentAfter(result, w2)) _closeCount = closes; // not done: listed again (still in _closes)
            return result;
        }

        /// <summary>Set while Flush sends held bytes with the closes after them (Call).</summary>
        private bool _closesAfterHeld;

        private static int Fd(RemoteDirectory start) => start == null ? LinuxFile.AT_FDCWD : start.Handle.ServerFd;

        private int PutString(string text, int offset)
        {
            return PathBytes.Copy(text, Payload + offset, VfsProtocol.PayloadBytes - offset);
        }

        private long Redirect(long result, ulong reply1)
        {
            if (result == VfsProtocol.Redirected)
            {
                int length = reply1 > VfsProtocol.PayloadBytes ? VfsProtocol.PayloadBytes : (int)reply1;
                RedirectPath = PathBytes.ToString(Payload, length);
            }
            return result;
        }

        private Inode Proxy(long fd, ulong info)
        {
            uint mode = (uint)info;
            RemoteHandle handle = NewHandle((int)fd);
            if ((mode & LinuxFile.S_IFMT) == LinuxFile.S_IFDIR) return new RemoteDirectory(_mount, handle, mode);
            byte* data = null;
            long size = 0;
            if ((info >> 32) != 0)
            {
                data = (byte*)((ulong*)Payload)[0];
                size = ((long*)Payload)[1];
                if (!Transport.InArchive((ulong)data, size)) { data = null; size = 0; }
            }
            var file = new RemoteFile(_mount, handle, mode, data, size);
            if (data != null) file.KnownGeneration = CurrentGeneration; // (an anchor at close needs it)
            if ((info & PrefetchBit) != 0)
            {
                file.KnownSize = ((long*)Payload)[3];
                file.PrefetchCount = ((long*)Payload)[2];
                file.KnownGeneration = CurrentGeneration;
                if (file.PrefetchCount < 0 || file.PrefetchCount > VfsProtocol.PrefetchBytes) file.PrefetchCount = 0;
                file.Cached = new byte[file.PrefetchCount];
                fixed (byte* to = file.Cached) System.Buffer.MemoryCopy(Payload + PrefetchOffset, to, file.PrefetchCount, file.PrefetchCount);
            }
            if ((info & StatBit) != 0)
            {
                file.KnownStat = *(StatInfo*)(Payload + VfsProtocol.OpenStatOffset);
                file.KnownStatGeneration = CurrentGeneration;
                file.StatHolder = file;
            }
            return file;
        }

        /// <summary>openat at the server: the proxy, or -errno / Redirected.</summary>
        public long Open(RemoteDirectory start, string path, int flags, uint mode, uint umask, out Inode node)
        {
            node = null;
            bool anchorable = (start == null || start == Root) && path.Length > 0 && path[0] == '/' && (flags & ~PlainReadOnly) == 0;
            int length = PutString(path, 0);
            if (anchorable && _anchors.Count > 0)
            {
                int index = _anchors.Find(Payload, length);
                if (index >= 0)
                {
                    if (_anchors[index].Generation == CurrentGeneration) { node = FromAnchor(index, flags); return 0; }
                    DropAnchor(index); // may send the deferred closes (the payload is written again below)
                    length = PutString(path, 0);
                }
            }
            long fd = Call(VfsProtocol.Open, (ulong)(long)Fd(start), (uint)flags | ((ulong)mode << 32), (ulong)(uint)length | ((ulong)umask << 32), out ulong info);
            if (fd == VfsProtocol.Redirected) return Redirect(fd, info);
            if (fd < 0) return fd;
            node = Proxy(fd, info);
            if (node is RemoteFile file && (file.ArchiveData != null || (info & PrefetchBit) != 0)
                && (flags & LinuxFile.O_ACCMODE) == LinuxFile.O_RDONLY && (flags & LinuxFile.O_PATH) == 0)
            {
                file.LocalPosition = true;
                file.Handle.Local = file;
                if (anchorable && (file.Cached != null || file.ArchiveData != null)) file.Handle.AnchorPath = PathBytes.ToBytes(path);
            }
            return 0;
        }

        /// <summary>execve's lookup: the executable's proxy (open for reading), or -errno / Redirected.</summary>
        public long Exec(RemoteDirectory start, string path, out RemoteFile file)
        {
            file = null;
            int length = PutString(path, 0);
            long fd = Call(VfsProtocol.Exec, (ulong)(long)Fd(start), 0, (ulong)length, out ulong info);
            if (fd == VfsProtocol.Redirected) return Redirect(fd, info);
            if (fd < 0) return fd;
            file = (RemoteFile)Proxy(fd, info);
            return 0;
        }

        /// <summary>A new description of the inode handle names (open of /proc/self/fd/N).</summary>
        public long Reopen(RemoteHandle handle, int flags, out Inode node)
        {
            node = null;
            long fd = Call(VfsProtocol.Reopen, (ulong)handle.ServerFd, (uint)flags, 0, out ulong info);
            if (fd < 0) return fd;
            node = Proxy(fd, info);
            return 0;
        }

        /// <summary>stat of path from start (flags: AT_SYMLINK_NOFOLLOW or 0) at the server, or the
        /// answer kept for the absolute path while the tree is unchanged (ENOENT and ENOTDIR too).</summary>
        public int Stat(RemoteDirectory start, string path, int flags, out StatInfo info)
        {
            info = default;
            bool cacheable = (start == null || start == Root) && path.Length > 0 && path[0] == '/' && Transport.Buffer != null;
            int length = PutString(path, 0);
            if (cacheable)
            {
                StatEntry kept = _stats.Find(Payload, length, flags);
                if (kept != null && kept.Generation == CurrentGeneration)
                {
                    StatCacheHits++;
                    info = kept.Info;
                    return kept.Result;
                }
            }
            long result = Call(VfsProtocol.Stat, (ulong)(long)Fd(start), (ulong)(uint)flags, (ulong)length, out ulong reply1);
            if (result == VfsProtocol.Redirected) return (int)Redirect(result, reply1);
            if (result >= 0) info = *(StatInfo*)Payload;
            if (cacheable && (result >= 0 || result == -Errno.ENOENT || result == -Errno.ENOTDIR))
            {
                byte[] key = PathBytes.ToBytes(path);
                fixed (byte* k = key) _stats.Put(k, key.Length, flags, CurrentGeneration, (int)result, info);
            }
            return (int)result;
        }

        /// <summary>stat of an absolute path (its bytes, without the NUL; flags AT_SYMLINK_NOFOLLOW or
        /// 0) from the answers kept while the tree is unchanged: 0 with image the struct stat to
        /// copy out, -errno, or NotCached (then Stat asks the server).</summary>
        public int CachedStat(byte* path, int length, int flags, out byte[] image)
        {
            image = null;
            if (_stats.Count == 0) return NotCached;
            byte* buffer = Transport.Buffer;
            if (buffer == null) return NotCached;
            StatEntry kept = _stats.Find(path, length, flags);
            if (kept == null || kept.Generation != *(ulong*)(buffer + VfsProtocol.Generation)) return NotCached;
            StatCacheHits++;
            if (kept.Result < 0) return kept.Result;
            if (kept.Image == null)
            {
                var made = new byte[LinuxLayouts.StatSize];
                fixed (byte* to = made) LinuxLayouts.WriteStat(to, kept.Info);
                kept.Image = made;
            }
            image = kept.Image;
            return 0;
        }

        public StatInfo Fstat(RemoteHandle handle)
        {
            if (handle.ServerFd == LinuxFile.AT_FDCWD)
            {
                Stat(null, "/", 0, out StatInfo root);
                return root;
            }
            long result = Call(VfsProtocol.Fstat, (ulong)handle.ServerFd, 0, 0, out _);
            return result < 0 ? default : *(StatInfo*)Payload;
        }

        public int ReadLink(RemoteDirectory start, string path, out string target)
        {
            target = null;
            int length = PutString(path, 0);
            long result = Call(VfsProtocol.ReadLink, (ulong)(long)Fd(start), 0, (ulong)length, out ulong reply1);
            if (result < 0) return (int)Redirect(result, reply1);
            target = PathBytes.ToString(Payload, (int)result);
            return 0;
        }

        /// <summary>The path operations with one path: MakeDirectory, Unlink, Access, Chmod, Truncate.</summary>
        public long PathCall(int op, RemoteDirectory start, string path, ulong w2, ulong w3High = 0)
        {
            int length = PutString(path, 0);
            return Redirect(Call(op, (ulong)(long)Fd(start), w2, (ulong)(uint)length | (w3High << 32), out ulong reply1), reply1);
        }

        /// <summary>Rename or Link with both paths at the server.</summary>
        public long TwoPaths(int op, RemoteDirectory oldStart, string oldPath, RemoteDirectory newStart, string newPath, int flags)
        {
            int oldLength = PutString(oldPath, 0);
            int newLength = PutString(newPath, oldLength);
            ulong dirfds = (uint)Fd(oldStart) | ((ulong)(uint)Fd(newStart) << 32);
            return Call(op, dirfds, (ulong)(uint)flags, (ulong)(uint)oldLength | ((ulong)(uint)newLength << 32), out _);
        }

        public long Symlink(string target, RemoteDirectory start, string path)
        {
            int targetLength = PutString(target, 0);
            int pathLength = PutString(path, targetLength);
            return Redirect(Call(VfsProtocol.Symlink, (ulong)(long)Fd(start), 0, (ulong)(uint)targetLength | ((ulong)(uint)pathLength << 32), out ulong reply1), reply1);
        }

        public long Utimens(RemoteDirectory start, string path, bool haveTimes, long aSeconds, long aNanos, long mSeconds, long mNanos, int flags)
        {
            long* times = (long*)Payload;
            times[0] = aSeconds; times[1] = aNanos; times[2] = mSeconds; times[3] = mNanos;
            int length = PutString(path, 32);
            return Redirect(Call(VfsProtocol.Utimens, (ulong)(long)Fd(start), (uint)flags | ((haveTimes ? 1UL : 0) << 32), (ulong)length, out ulong reply1), reply1);
        }

        public long Futimens(RemoteHandle handle, bool haveTimes, long aSeconds, long aNanos, long mSeconds, long mNanos)
        {
            long* times = (long*)Payload;
            times[0] = aSeconds; times[1] = aNanos; times[2] = mSeconds; times[3] = mNanos;
            return Call(VfsProtocol.Futimens, (ulong)handle.ServerFd, haveTimes ? 1UL : 0, 0, out _);
        }

        /// <summary>statfs of a path (handle null) or of handle's description.</summary>
        public long StatFs(RemoteDirectory start, string path, RemoteHandle handle, long* values)
        {
            long result;
            ulong reply1;
            if (handle != null) result = Call(VfsProtocol.StatFs, (ulong)handle.ServerFd, 0, 0, out reply1);
            else
            {
                int length = PutString(path, 0);
                if (length == 0) return -Errno.ENOENT;
                result = Call(VfsProtocol.StatFs, (ulong)(long)Fd(start), 0, (ulong)length, out reply1);
            }
            if (result < 0) return Redirect(result, reply1);
            for (int i = 0; i < 6; i++) values[i] = ((long*)Payload)[i];
            return 0;
        }

        /// <summary>An operation on a description: Fchmod, Fchown, Ftruncate, Seek, GetFlags, SetFlags, Readable.</summary>
        public long HandleCall(int op, RemoteHandle handle, ulong w2 = 0, ulong w3 = 0) =>
            Call(op, (ulong)handle.ServerFd, w2, w3, out _);

        /// <summary>fsync/fdatasync/syncfs of a server file (handle) or sync (null).</summary>
        public long Sync(RemoteHandle handle) =>
            Call(VfsProtocol.Sync, handle == null ? unchecked((ulong)-1L) : (ulong)handle.ServerFd, 0, 0, out _);

        /// <summary>The server's requests to the disk (false: / is not on a disk).</summary>
        public bool DiskStatistics(out DiskStatistics statistics)
        {
            statistics = default;
            if (Call(VfsProtocol.DiskStatistics, 0, 0, 0, out _) < 0) return false;
            ulong* values = (ulong*)Payload;
            statistics.Reads = values[0]; statistics.SectorsRead = values[1];
            statistics.Writes = values[2]; statistics.SectorsWritten = values[3];
            statistics.Name = values[4] == 1 ? "sda" : "vda";
            return true;
        }

        /// <summary>The server's requests so far by operation into 'calls' (VfsProtocol.Count longs),
        /// then its VfsProtocol.ServerFacts; false when it did not answer.</summary>
        public bool ServerCalls(long[] calls)
        {
            if (Call(VfsProtocol.ServerCalls, 0, 0, 0, out _) != VfsProtocol.Count) return false;
            for (int i = 0; i < VfsProtocol.Count + VfsProtocol.ServerFacts && i < calls.Length; i++) calls[i] = ((long*)Payload)[i];
            return true;
        }

        /// <summary>The disk's cached blocks and listings dropped (after writing them back).</summary>
        public long DropCaches() => Call(VfsProtocol.DropCaches, 0, 0, 0, out _);

        /// <summary>The disk's file system written home and marked clean (the first process's exit).</summary>
        public long Unmount() => Call(VfsProtocol.Unmount, 0, 0, 0, out _);

        public string GetCwd(RemoteHandle handle, out long error)
        {
            if (handle.ServerFd == LinuxFile.AT_FDCWD) { error = 0; return "/"; }
            error = Call(VfsProtocol.GetCwd, (ulong)handle.ServerFd, 0, 0, out _);
            return error < 0 ? null : PathBytes.ToString(Payload, (int)error);
        }

        public string DisplayPath(RemoteHandle handle)
        {
            long length = Call(VfsProtocol.DisplayPath, (ulong)handle.ServerFd, 0, 0, out _);
            return length < 0 ? "" : PathBytes.ToString(Payload, (int)length);
        }

        // ---------------------------------------------------------------- data

        /// <summary>read (offset &lt; 0: at the description's position) into buffer: bytes or -errno.</summary>
        public long Read(RemoteFile file, byte* buffer, long count, long offset)
        {
            if (file.LocalPosition)
            {
                long at = offset >= 0 ? offset : file.Position;
                if (count <= 0) return 0;
                if (file.ArchiveData != null)
                {
                    if (at >= file.ArchiveSize) return 0;
                    long n = file.ArchiveSize - at < count ? file.ArchiveSize - at : count;
                    System.Buffer.MemoryCopy(file.ArchiveData + at, buffer, n, n);
                    if (offset < 0) file.Position = at + n;
                    return n;
                }
                // A tmpfs file opened read-only, not shared: the position is ours; the first bytes
                // came with the open and serve while nothing in the tree changed.
                bool unchanged = CurrentGeneration == file.KnownGeneration;
                if (unchanged && at >= file.KnownSize) return 0;
                if (unchanged && file.Cached != null && at < file.PrefetchCount)
                {
                    long n = file.PrefetchCount - at < count ? file.PrefetchCount - at : count;
                    fixed (byte* from = file.Cached) System.Buffer.MemoryCopy(from + at, buffer, n, n);
                    if (offset < 0) file.Position = at + n;
                    return n;
                }
                long got = ReadServer(file, buffer, count, at);
                if (got > 0 && offset < 0) file.Position = at + got;
                return got;
            }
            return ReadServer(file, buffer, count, offset);
        }

        private const int PrefetchOffset = 32;

        private long ReadServer(RemoteFile file, byte* buffer, long count, long offset)
        {
            long total = 0;
            while (total < count)
            {
                long chunk = count - total < VfsProtocol.DataBytes ? count - total : VfsProtocol.DataBytes;
                long got = offset >= 0
                    ? Call(VfsProtocol.PRead, (ulong)file.Handle.ServerFd, (ulong)chunk, (ulong)(offset + total), out _)
                    : Call(VfsProtocol.Read, (ulong)file.Handle.ServerFd, (ulong)chunk, 0, out _);
                if (got < 0) return total > 0 ? total : got;
                if (got > chunk) got = chunk;
                System.Buffer.MemoryCopy(Payload, buffer + total, got, got);
                total += got;
                if (got < chunk) break;
            }
            return total;
        }

        /// <summary>write (offset &lt; 0: at the position, or the end under O_APPEND): bytes or -errno.</summary>
        public long Write(RemoteFile file, byte* buffer, long count, long offset)
        {
            long total = 0;
            do
            {
                long chunk = count - total < VfsProtocol.DataBytes ? count - total : VfsProtocol.DataBytes;
                System.Buffer.MemoryCopy(buffer + total, Payload, chunk, chunk);
                long put = offset >= 0
                    ? Call(VfsProtocol.PWrite, (ulong)file.Handle.ServerFd, (ulong)chunk, (ulong)(offset + total), out _)
                    : Call(VfsProtocol.Write, (ulong)file.Handle.ServerFd, (ulong)chunk, 0, out _);
                if (put < 0) return total > 0 ? total : put;
                total += put;
                if (put < chunk) break;
            } while (total < count);
            return total;
        }

        public long Seek(RemoteFile file, long offset, int whence)
        {
            if (file.LocalPosition)
            {
                long target;
                switch (whence)
                {
                    case LinuxFile.SEEK_SET: target = offset; break;
                    case LinuxFile.SEEK_CUR: target = file.Position + offset; break;
                    case LinuxFile.SEEK_END: target = SizeOf(file) + offset; break;
                    case LinuxFile.SEEK_DATA: if (offset < 0) return -Errno.EINVAL; if (offset >= SizeOf(file)) return -Errno.ENXIO; target = offset; break;
                    case LinuxFile.SEEK_HOLE: if (offset < 0) return -Errno.EINVAL; if (offset >= SizeOf(file)) return -Errno.ENXIO; target = SizeOf(file); break;
                    default: return -Errno.EINVAL;
                }
                if (target < 0) return -Errno.EINVAL;
                file.Position = target;
                return target;
            }
            return Call(VfsProtocol.Seek, (ulong)file.Handle.ServerFd, (ulong)offset, (ulong)(long)whence, out _);
        }

        /// <summary>A file's size: the archive's, the one known at open while nothing changed, or the server's.</summary>
        private long SizeOf(RemoteFile file)
        {
            if (file.ArchiveData != null) return file.ArchiveSize;
            if (CurrentGeneration == file.KnownGeneration) return file.KnownSize;
            return Fstat(file.Handle).Size;
        }

        public long GetDents(RemoteHandle handle, byte* buffer, int length)
        {
            int chunk = length < VfsProtocol.DataBytes ? length : VfsProtocol.DataBytes;
            long got = Call(VfsProtocol.GetDents, (ulong)handle.ServerFd, (ulong)chunk, 0, out _);
            if (got <= 0) return got;
            if (got > chunk) return -Errno.EIO;
            System.Buffer.MemoryCopy(Payload, buffer, got, got);
            return got;
        }

        /// <summary>Bytes after the position (FIONREAD).</summary>
        public long Readable(RemoteFile file)
        {
            if (file.LocalPosition)
            {
                long size = SizeOf(file);
                return size > file.Position ? size - file.Position : 0;
            }
            return Call(VfsProtocol.Readable, (ulong)file.Handle.ServerFd, 0, 0, out _);
        }

        /// <summary>The whole file's bytes (exec, mmap): the archive's, or a copy kept on the proxy.</summary>
        public long Content(RemoteFile file, out byte* data)
        {
            data = null;
            if (file.ArchiveData != null) { data = file.ArchiveData; return file.ArchiveSize; }
            long size = Fstat(file.Handle).Size;
            if (size < 0 || size > int.MaxValue) return -Errno.EFBIG;
            var copy = new byte[size == 0 ? 1 : size];
            long done = 0;
            fixed (byte* to = copy)
            {
                while (done < size)
                {
                    long got = Read(file, to + done, size - done, done);
                    if (got < 0) return got;
                    if (got == 0) break;
                    done += got;
                }
                data = to;
            }
            file.Copy = copy;
            return done;
        }
    }
}
