// An open file description (what open creates and dup shares): the inode, the offset, the status
// flags, and for /proc files the content generated at open; and the per-process table of file
// descriptors pointing at them. Pure logic (buffers are already-checked libOS-addressable memory);
// compiles under the real .NET.
//
// Invariants: References counts the descriptors (in every FileTable) naming the description; when
// it drops to zero the description is released once (a pipe end stops counting as reader/writer).
// Flags never contain O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC or O_CLOEXEC (close-on-exec belongs to the
// descriptor). Position is never negative.
using System;
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public sealed unsafe class OpenFile
    {
        public readonly FileSystem FileSystem;
        public readonly Inode Node;
        /// <summary>Access mode and status flags (F_GETFL).</summary>
        public int Flags;
        public long Position;
        /// <summary>F_SETOWN's process (negative: a process group) that O_ASYNC's SIGIO would go to;
        /// kept and answered by F_GETOWN, but no SIGIO is sent (docs/libos-unixish.md).</summary>
        public int Owner;
        /// <summary>What /proc/self/fd/N shows: the path at open, "pipe:[ino]"... (a server
        /// description's: asked for when first needed).</summary>
        public string DisplayPath
        {
            get
            {
                if (_display == null && DisplayParent != null)
                    _display = DisplayName == null ? FileSystem.PathOf(DisplayParent) : FileSystem.PathOf(DisplayParent, DisplayName);
                if (_display == null && Node is IRemoteNode remote) _display = remote.Handle.Client.DisplayPath(remote.Handle);
                return _display;
            }
            set => _display = value;
        }
        private string _display;
        /// <summary>Where the file was opened (the directory itself for a directory; name null):
        /// DisplayPath is made from them when first asked.</summary>
        internal DirectoryNode DisplayParent;
        internal string DisplayName;
        public int References;
        /// <summary>A /proc file's content, generated at open.</summary>
        public byte[] Snapshot;
        private bool _released;

        /// <summary>A description of a pipe counts in its Readers/Writers by its access mode (fixed at open);
        /// the caller of the constructor has counted it.</summary>
        public OpenFile(FileSystem fileSystem, Inode node, int flags, string displayPath)
        {
            FileSystem = fileSystem; Node = node; Flags = flags; DisplayPath = displayPath;
            node.Opens++;
        }

        public bool PipeReader => Node is PipeNode && CanRead;
        public bool PipeWriter => Node is PipeNode && CanWrite;

        public int AccessMode => Flags & LinuxFile.O_ACCMODE;
        public bool IsPath => (Flags & LinuxFile.O_PATH) != 0;
        public bool CanRead => !IsPath && (AccessMode == LinuxFile.O_RDONLY || AccessMode == LinuxFile.O_RDWR);
        public bool CanWrite => !IsPath && (AccessMode == LinuxFile.O_WRONLY || AccessMode == LinuxFile.O_RDWR);
        public bool NonBlocking => (Flags & LinuxFile.O_NONBLOCK) != 0;
        /// <summary>Whether the last descriptor naming this description has closed (an epoll
        /// interest in it then goes).</summary>
        public bool Released => _released;

        /// <summary>Called when the last descriptor naming this description closes.</summary>
        public void Release()
        {
            if (_released) return;
            _released = true;
            Node.Opens--;
            if (Node is PipeNode pipeNode)
            {
                if (PipeWriter) pipeNode.Pipe.Writers--;
                if (PipeReader) pipeNode.Pipe.Readers--;
            }
            if (Node is RemoteSocket { Local: not null } local)
            {
                RemoteSocket.CloseLocal(local); // a connection running here: the server closes it
                return;
            }
            if (Node is RemoteSocket { LocalListener: not null } lending && RemoteSocket.ListenerClosing != null)
                RemoteSocket.ListenerClosing(lending); // before the server's descriptor goes: LendBack names it
            if (Node is IRemoteNode remote) remote.Handle.Release();
            if (Node is RemoteSocket closing)
            {
                LocalSockets.Finished(closing);
                closing.Handle.Client.Flush(); // a socket's close is seen at once (its FIN goes now)
                closing.Handle.Client.ForgetBoard(closing); // after the flush: the server writes its slot no more
            }
            if (Node is SocketNode socketNode) socketNode.Socket.Close();
        }

        /// <summary>read(2) at the current position: bytes read or -errno.</summary>
        public long Read(byte* buffer, long length)
        {
            if (!CanRead) return -Errno.EBADF;
            // A pipe first (ReadAt's answer, without its switch and Seekable: a test for an abstract
            // class such as DirectoryNode costs ~120 instructions in the runtime's cast helper).
            if (Node is PipeNode pipeNode)
                return length < 0 ? -Errno.EINVAL : pipeNode.Pipe.Read(buffer, length > int.MaxValue - 4095 ? int.MaxValue - 4095 : length, NonBlocking);
            if (Node is RemoteFile remote)
            {
                if (length < 0) return -Errno.EINVAL;
                return remote.Handle.Client.Read(remote, buffer, length, -1);
            }
            if (Node is RemoteSocket socket)
            {
                if (socket.Local != null) return LocalSockets.Receive(socket, buffer, length, 0);
                if (length < 0) return -Errno.EINVAL;
                long got = socket.Handle.Client.Receive(socket, buffer, length, 0, null, out _);
                if (got > 0) socket.Receives++;
                return got;
            }
            long result = ReadAt(Position, buffer, length, true);
            if (result > 0 && Seekable) Position += result;
            return result;
        }

        /// <summary>pread64 (positional: true for read at offset) or the stream read.</summary>
        public long ReadAt(long offset, byte* buffer, long length, bool stream)
        {
            if (!CanRead) return -Errno.EBADF;
            if (length < 0) return -Errno.EINVAL;
            if (length > int.MaxValue - 4095) length = int.MaxValue - 4095; // Linux's MAX_RW_COUNT
            switch (Node)
            {
                case RegularFile file:
                    if (offset < 0) return -Errno.EINVAL;
                    return file.ReadAt(offset, buffer, length);
                case RemoteFile remote:
                    if (offset < 0) return -Errno.EINVAL;
                    return remote.Handle.Client.Read(remote, buffer, length, offset);
                case ProcFile _:
                    if (offset < 0) return -Errno.EINVAL;
                    return ReadSnapshot(offset, buffer, length);
                case DirectoryNode _:
                    return -Errno.EISDIR;
                case DeviceNode device:
                    return device.Device.Read(buffer, (int)length, NonBlocking);
                case PipeNode pipe:
                    if (!stream) return -Errno.ESPIPE;
                    return pipe.Pipe.Read(buffer, length, NonBlocking);
                case EventFdNode counter:
                    if (!stream) return -Errno.ESPIPE;
                    return counter.Read(buffer, length, NonBlocking);
                case RemoteSocket _:
                    return -Errno.ESPIPE; // pread of a socket (read goes to Read)
                default:
                    return -Errno.EINVAL;
            }
        }

        private long ReadSnapshot(long offset, byte* buffer, long length)
        {
            byte[] data = Snapshot;
            if (data == null || offset >= data.Length) return 0;
            long count = data.Length - offset < length ? data.Length - offset : length;
            fixed (byte* from = data) Buffer.MemoryCopy(from + offset, buffer, count, count);
            return count;
        }

        /// <summary>write(2) at the current position (O_APPEND: at the end): bytes written or -errno.</summary>
        public long Write(byte* buffer, long length)
        {
            if (!CanWrite) return -Errno.EBADF;
            if (Node is PipeNode pipeNode) // as in Read: WriteAt's answer for a pipe, directly
                return length < 0 ? -Errno.EINVAL : pipeNode.Pipe.Write(buffer, length > int.MaxValue - 4095 ? int.MaxValue - 4095 : length, NonBlocking);
            if (Node is RemoteFile remote)
            {
                if (length < 0) return -Errno.EINVAL;
                if (length == 0) return 0;
                return remote.Handle.Client.Write(remote, buffer, length, -1);
            }
            if (Node is RemoteSocket socket)
            {
                if (socket.Local != null) return LocalSockets.Send(socket, buffer, length);
                return length < 0 ? -Errno.EINVAL : socket.Handle.Client.Send(socket, buffer, length, 0, null, 0);
            }
            if (Node is RegularFile file && (Flags & LinuxFile.O_APPEND) != 0) Position = file.Size;
            long result = WriteAt(Position, buffer, length, true);
            if (result > 0 && Seekable) Position += result;
            return result;
        }

        /// <summary>pwrite64 or the stream write. (Linux's pwrite ignores the offset under O_APPEND: appends.)</summary>
        public long WriteAt(long offset, byte* buffer, long length, bool stream)
        {
            if (!CanWrite) return -Errno.EBADF;
            if (length < 0) return -Errno.EINVAL;
            if (length > int.MaxValue - 4095) length = int.MaxValue - 4095;
            switch (Node)
            {
                case RegularFile file:
                    if (offset < 0) return -Errno.EINVAL;
                    if (!stream && (Flags & LinuxFile.O_APPEND) != 0) offset = file.Size;
                    if (length == 0) return 0;
                    long written = file.WriteAt(offset, buffer, length);
                    if (written > 0) file.ModifyTime = file.ChangeTime = FileSystem.Now;
                    return written;
                case RemoteFile remote:
                    if (offset < 0) return -Errno.EINVAL;
                    if (length == 0) return 0;
                    return remote.Handle.Client.Write(remote, buffer, length, offset);
                case DirectoryNode _:
                    return -Errno.EISDIR;
                case ProcFile proc when proc.Writer != null:
                    {
                        var bytes = new byte[length > 4096 ? 4096 : length];
                        fixed (byte* to = bytes) Buffer.MemoryCopy(buffer, to, bytes.Length, bytes.Length);
                        return proc.Writer(bytes);
                    }
                case DeviceNode device:
                    return device.Device.Write(buffer, (int)length, NonBlocking);
                case PipeNode pipe:
                    if (!stream) return -Errno.ESPIPE;
                    return pipe.Pipe.Write(buffer, length, NonBlocking);
                case RemoteSocket _:
                    return -Errno.ESPIPE; // pwrite of a socket (write goes to Write)
                case EventFdNode counter:
                    if (!stream) return -Errno.ESPIPE;
                    return counter.Write(buffer, length, NonBlocking);
                default:
                    return -Errno.EINVAL;
            }
        }

        /// <summary>Whether the offset means anything (regular files, directories, /proc files, seekable devices).</summary>
        public bool Seekable => Node is RegularFile || Node is DirectoryNode || Node is ProcFile || Node is RemoteFile
            || (Node is DeviceNode device && device.Device.Seekable);

        /// <summary>lseek: the new offset or -errno (ESPIPE for pipes and terminals, EINVAL for a bad
        /// whence or a negative result, ENXIO for SEEK_DATA/SEEK_HOLE past the end).</summary>
        public long Seek(long offset, int whence)
        {
            if (Node is PipeNode) return -Errno.ESPIPE;
            if (Node is EventFdNode || Node is EpollNode) return Position; // Linux's noop_llseek
            if (Node is RemoteFile remoteFile) return remoteFile.Handle.Client.Seek(remoteFile, offset, whence);
            if (Node is RemoteDirectory remoteDirectory)
                return remoteDirectory.Handle.Client.HandleCall(VfsProtocol.Seek, remoteDirectory.Handle, (ulong)offset, (ulong)(long)whence);
            if (Node is DeviceNode device)
            {
                if (!device.Device.Seekable) return -Errno.ESPIPE;
                if (whence < LinuxFile.SEEK_SET || whence > LinuxFile.SEEK_END) return -Errno.EINVAL;
                Position = 0;
                return 0; // null/zero/random: every seek succeeds and reports 0 (drivers/char/mem.c)
            }
            long size = Node is ProcFile ? (Snapshot == null ? 0 : Snapshot.Length) : Node.Size;
            long target;
            switch (whence)
            {
                case LinuxFile.SEEK_SET: target = offset; break;
                case LinuxFile.SEEK_CUR: target = Position + offset; if (offset > 0 && target < Position) return -Errno.EOVERFLOW; break;
                case LinuxFile.SEEK_END:
                    if (Node is DirectoryNode) return -Errno.EINVAL;
                    target = size + offset;
                    if (offset > 0 && target < size) return -Errno.EOVERFLOW;
                    break;
                case LinuxFile.SEEK_DATA:
                    if (!(Node is RegularFile)) return -Errno.EINVAL;
                    if (offset < 0) return -Errno.EINVAL;
                    if (offset >= size) return -Errno.ENXIO;
                    target = offset;
                    break;
                case LinuxFile.SEEK_HOLE:
                    if (!(Node is RegularFile)) return -Errno.EINVAL;
                    if (offset < 0) return -Errno.EINVAL;
                    if (offset >= size) return -Errno.ENXIO;
                    target = size;
                    break;
                default: return -Errno.EINVAL;
            }
            if (target < 0) return -Errno.EINVAL;
            Position = target;
            return target;
        }

        /// <summary>getdents64 from the current position: bytes written into buffer (dirent64
        /// records), 0 at the end, -EINVAL when not even one record fits, -ENOTDIR.</summary>
        public long ReadDirectory(byte* buffer, int length)
        {
            if (IsPath) return -Errno.EBADF;
            if (Node is RemoteDirectory remote) return remote.Handle.Client.GetDents(remote.Handle, buffer, length);
            if (!(Node is DirectoryNode directory)) return -Errno.ENOTDIR;
            int written = 0;
            while (true)
            {
                long position = Position;
                string name;
                Inode node;
                if (position == 0) { name = "."; node = directory; }
                else if (position == 1) { name = ".."; node = directory.Parent; }
                else
                {
                    if (position > int.MaxValue || !directory.EntryAt((int)(position - 2), out name, out node)) break;
                    if (name == null) { Position = position + 1; continue; }
                }
                int record = LinuxLayouts.DirentSize(name.Length);
                if (written + record > length)
                {
                    if (written == 0) return -Errno.EINVAL;
                    break;
                }
                LinuxLayouts.WriteDirent(buffer + written, node.Number, position + 1, LinuxFile.DirentType(node.Mode), name);
                written += record;
                Position = position + 1;
            }
            return written;
        }

        /// <summary>Whether poll and epoll can watch the file (Linux's file_can_poll): not a regular
        /// file, a directory, a /proc file, a symbolic link or a memory device other than
        /// /dev/random (epoll_ctl: EPERM; poll and select call them always ready).</summary>
        public bool CanPoll
        {
            get
            {
                switch (Node)
                {
                    case RegularFile _: case DirectoryNode _: case RemoteFile _: case ProcFile _: case SymlinkNode _:
                        return false;
                    case DeviceNode device:
                        return LinuxFile.Major(device.RDevice) != 1 || LinuxFile.Minor(device.RDevice) == 8;
                    default:
                        return true;
                }
            }
        }

        /// <summary>A count that grows whenever the file is woken for the events asked (Linux's
        /// wake-ups: bytes written into a pipe for its read end, a read that makes room in a full
        /// pipe for its write end, the other side's last end closing, a write of an eventfd for POLLIN, a read for POLLOUT); 0 for a
        /// kind without one. An edge-triggered epoll interest reports
        /// again when it changed, though the file never looked not ready (Epoll.cs).</summary>
        public long ChangeStamp(short events)
        {
            const short POLLIN = 0x1, POLLOUT = 0x4;
            switch (Node)
            {
                case PipeNode pipeNode:
                    // The last end of the other side closing wakes both sides too (it counts once).
                    Pipe pipe = pipeNode.Pipe;
                    return (PipeReader ? ((events & POLLIN) != 0 ? pipe.BytesWritten : 0) + (pipe.Writers == 0 ? 1 : 0) : 0)
                        + (PipeWriter ? ((events & POLLOUT) != 0 ? pipe.FullReads : 0) + (pipe.Readers == 0 ? 1 : 0) : 0);
                case EventFdNode counter:
                    return ((events & POLLIN) != 0 ? counter.Writes : 0) + ((events & POLLOUT) != 0 ? counter.Reads : 0);
                case RemoteSocket socket:
                    if (socket.Local != null) return socket.Local.Changes; // counted by the process's own stack
                    // What the server counted at the Poll that just looked (VfsProtocol.Poll), and a lent listener's twin's.
                    return socket.Changes + (socket.LocalListener != null ? socket.LocalListener.Changes : 0);
                default:
                    return 0;
            }
        }

        /// <summary>poll(2) readiness for the events asked (POLLIN/POLLOUT...): the revents bits.
        /// The one place a kind of file says when it is ready (poll, select, epoll).</summary>
        public short Poll(short events)
        {
            const short POLLIN = 0x1, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLRDNORM = 0x40, POLLWRNORM = 0x100;
            short ready = 0;
            switch (Node)
            {
                case PipeNode pipeNode:
                    Pipe pipe = pipeNode.Pipe;
                    if (PipeReader)
                    {
                        if (pipe.Buffered > 0) ready |= POLLIN | POLLRDNORM;
                        if (pipe.Writers == 0) ready |= POLLHUP;
                    }
                    if (PipeWriter)
                    {
                        if (pipe.Space > 0) ready |= POLLOUT | POLLWRNORM;
                        if (pipe.Readers == 0) ready |= POLLERR;
                    }
                    break;
                case RemoteSocket socket:
                    if (socket.Local != null)
                        ready = LocalSockets.Poll(socket); // a connection running here: no call (LocalSockets.cs)
                    else if (socket.BatchValid)
                    {
                        socket.BatchValid = false; // asked together with the others of this look (VfsClient.PollMany)
                        ready = socket.Batched;
                    }
                    else if (socket.Handle.Client.PollBoard(socket, out short boarded))
                        ready = boarded; // the readiness board: no call (ReadinessBoard.cs)
                    else
                    {
                        ready = socket.Handle.Client.Poll(socket, events, VfsClient.PollWatch, out bool recorded);
                        if (VfsClient.PollWatch && !recorded) VfsClient.PollUnrecorded = true;
                    }
                    if (socket.LocalListener != null) ready |= LocalSockets.PollListener(socket); // a lent listener's twin: its queue
                    if ((ready & POLLIN) != 0) ready |= POLLRDNORM;
                    if ((ready & POLLOUT) != 0) ready |= POLLWRNORM;
                    break;
                case DeviceNode device:
                    if (device.Device.PollReadable) ready |= POLLIN | POLLRDNORM;
                    if (device.Device.PollWritable) ready |= POLLOUT | POLLWRNORM;
                    break;
                case EventFdNode counter:
                    ready |= counter.Readiness();
                    break;
                case EpollNode epoll:
                    ready |= epoll.Readiness();
                    break;
                default:
                    ready |= POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM; // regular files and directories are always ready
                    break;
            }
            return (short)(ready & (events | POLLERR | POLLHUP));
        }
    }

    /// <summary>A process's file descriptors: each names an open file description, with its own close-on-exec flag.</summary>
    public sealed class FileTable
    {
        /// <summary>RLIMIT_NOFILE's usual soft limit: descriptors are below it.</summary>
        public const int Limit = 1024;

        /// <summary>This table's limit: Limit for a process; the file server's table of every
        /// process's descriptions (VfsServer) is larger.</summary>
        public readonly int MaximumDescriptors;

        public FileTable(int maximumDescriptors = Limit) { MaximumDescriptors = maximumDescriptors; }

        private OpenFile[] _files = new OpenFile[16];
        private bool[] _closeOnExec = new bool[16];

        /// <summary>One past the highest slot the table has room for (descriptors in use are below it).</summary>
        public int Size => _files.Length;

        public OpenFile Get(int fd) => fd >= 0 && fd < _files.Length ? _files[fd] : null;

        public bool IsCloseOnExec(int fd) => Get(fd) != null && _closeOnExec[fd];

        public void SetCloseOnExec(int fd, bool value)
        {
            if (Get(fd) != null) _closeOnExec[fd] = value;
        }

        /// <summary>Puts file at the lowest free descriptor at or above lowest: the descriptor or -EMFILE
        /// (-EINVAL when lowest is outside [0, Limit)).</summary>
        public int Install(OpenFile file, bool closeOnExec, int lowest = 0)
        {
            if (lowest < 0 || lowest >= MaximumDescriptors) return -Errno.EINVAL;
            for (int fd = lowest; fd < MaximumDescriptors; fd++)
            {
                if (fd >= _files.Length) Grow(fd + 1);
                if (_files[fd] == null)
                {
                    _files[fd] = file;
                    _closeOnExec[fd] = closeOnExec;
                    file.References++;
                    return fd;
                }
            }
            return -Errno.EMFILE;
        }

        /// <summary>Puts file at exactly fd, closing what was there (dup2/dup3): fd or -EBADF.</summary>
        public int InstallAt(int fd, OpenFile file, bool closeOnExec)
        {
            if (fd < 0 || fd >= MaximumDescriptors) return -Errno.EBADF;
            if (fd >= _files.Length) Grow(fd + 1);
            file.References++; // before the close: dup2(fd, fd') of descriptions shared with fd'
            OpenFile old = _files[fd];
            _files[fd] = file;
            _closeOnExec[fd] = closeOnExec;
            if (old != null) Drop(old);
            return fd;
        }

        /// <summary>close: 0 or -EBADF.</summary>
        public int Close(int fd)
        {
            OpenFile file = Get(fd);
            if (file == null) return -Errno.EBADF;
            _files[fd] = null;
            _closeOnExec[fd] = false;
            Drop(file);
            return 0;
        }

        private static void Drop(OpenFile file)
        {
            if (--file.References == 0) file.Release();
        }

        /// <summary>execve's step: closes every descriptor marked close-on-exec.</summary>
        public void CloseOnExec()
        {
            for (int fd = 0; fd < _files.Length; fd++)
                if (_files[fd] != null && _closeOnExec[fd]) Close(fd);
        }

        /// <summary>A copy sharing the descriptions (fork's table; the copy holds its own references).</summary>
        public FileTable Clone()
        {
            var copy = new FileTable(MaximumDescriptors);
            copy._files = (OpenFile[])_files.Clone();
            copy._closeOnExec = (bool[])_closeOnExec.Clone();
            for (int fd = 0; fd < copy._files.Length; fd++)
                if (copy._files[fd] != null) copy._files[fd].References++;
            return copy;
        }

        /// <summary>The number of descriptors in use.</summary>
        public int Count
        {
            get
            {
                int count = 0;
                for (int fd = 0; fd < _files.Length; fd++) if (_files[fd] != null) count++;
                return count;
            }
        }

        private void Grow(int needed)
        {
            int size = _files.Length;
            while (size < needed) size *= 2;
            if (size > MaximumDescriptors) size = MaximumDescriptors;
            System.Array.Resize(ref _files, size);
            System.Array.Resize(ref _closeOnExec, size);
        }
    }
}
