// epoll(7): an interest list behind a file descriptor ("anon_inode:[eventpoll]"), its epoll_ctl
// and one look of epoll_wait. Pure logic; compiles under the real .NET. The waiting (timeouts,
// signals, sleeping until a descriptor may have changed) is the system-call layer's, shared with
// poll and select (FileCalls.Waiting.cs); readiness is every description's own OpenFile.Poll.
//
// Invariants: an interest is keyed by (fd, open file description), as Linux's (file, fd): the
// same description under another fd is another interest, and an interest whose description was
// released (its last descriptor closed, in this process) is dropped at the next look or
// epoll_ctl, never reported. The list holds no reference on a description (closing still
// releases it). Events hold EPOLLERR|EPOLLHUP from ADD and MOD on; a EPOLLONESHOT interest that
// reported keeps only its flag bits (PrivateBits) until MOD re-arms it. No interest of one epoll
// leads back to it through nested epolls (ADD refuses with ELOOP).
//
// Edge-triggered (EPOLLET): an interest reports a bit once, then not again until a look sees that
// bit not ready (it then reports when it is ready again), MOD re-arms it, or the file was woken
// since (OpenFile.ChangeStamp moved: bytes written into a pipe for its read end, a read that made
// room in a full pipe for its write end, a write or read of an eventfd), as Linux reports anew at
// each wake-up. A kind of file without a stamp (0: the terminal, a device) goes by what looks see
// alone: it is not reported again while it stays ready, even where Linux's wake-up would.
// Order: interests in the order they were added, each one that reported moved to the end (so a
// maxevents smaller than the ready count serves every interest in turn, as Linux's ready list).
// Limits: EPOLLEXCLUSIVE and EPOLLWAKEUP are accepted and mean nothing (one waiter per process);
// the list is this process's: a fork's child gets a copy (Linux shares one instance).
using System.Collections.Generic;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public sealed unsafe class EpollNode : Inode
    {
        public const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
        public const int EPOLL_CLOEXEC = LinuxFile.O_CLOEXEC;
        public const uint EPOLLIN = 0x1, EPOLLPRI = 0x2, EPOLLOUT = 0x4, EPOLLERR = 0x8, EPOLLHUP = 0x10,
            EPOLLRDNORM = 0x40, EPOLLRDHUP = 0x2000;
        public const uint EPOLLEXCLUSIVE = 1u << 28, EPOLLWAKEUP = 1u << 29, EPOLLONESHOT = 1u << 30, EPOLLET = 1u << 31;
        /// <summary>The flag bits of an interest (not events): what a fired EPOLLONESHOT keeps.</summary>
        public const uint PrivateBits = EPOLLEXCLUSIVE | EPOLLWAKEUP | EPOLLONESHOT | EPOLLET;
        private const uint ExclusiveAllowed = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
        /// <summary>struct epoll_event on x86-64: packed, u32 events then u64 data.</summary>
        public const int EventSize = 12;
        /// <summary>Linux's EP_MAX_EVENTS (INT_MAX / sizeof(struct epoll_event)): a larger maxevents is EINVAL.</summary>
        public const int MaximumEvents = int.MaxValue / EventSize;
        /// <summary>Nested epolls deeper than this are ELOOP (Linux's EP_MAX_NESTS).</summary>
        public const int MaximumNesting = 4;
        public const string DisplayName = "anon_inode:[eventpoll]";

        private sealed class Interest
        {
            public int Fd;
            public OpenFile File;
            public uint Events;
            public ulong Data;
            /// <summary>EPOLLET: the bits reported and not seen not-ready since.</summary>
            public uint Reported;
            /// <summary>EPOLLET: the file's ChangeStamp when it last reported.</summary>
            public long Stamp;
        }

        private readonly List<Interest> _interests = new List<Interest>();
        private readonly List<Interest> _reportedScratch = new List<Interest>();
        private readonly List<RemoteSocket> _batch = new List<RemoteSocket>();

        /// <summary>Before a look: the interests that are sockets of the file server and that this
        /// process's readiness board does not show yet are asked in one call (VfsClient.PollMany),
        /// which also subscribes the board to each; from then on their looks read the board
        /// (ReadinessBoard.cs) and ask nothing. nginx's epoll_wait over its connections.</summary>
        private void AskSocketsTogether()
        {
            _batch.Clear();
            for (int i = 0; i < _interests.Count; i++)
                if (!_interests[i].File.Released && _interests[i].File.Node is RemoteSocket socket && (_interests[i].Events & ~PrivateBits) != 0
                    && socket.Local == null && !socket.Handle.Client.BoardShows(socket))
                    _batch.Add(socket);
            if (_batch.Count > 0) _batch[0].Handle.Client.PollMany(_batch, VfsClient.PollWatch);
        }

        /// <summary>After a look: an answer a look did not use (it stopped at maxevents) is not kept for a later one.</summary>
        private void ForgetBatch()
        {
            for (int i = 0; i < _batch.Count; i++) _batch[i].BatchValid = false;
            _batch.Clear();
        }

        /// <summary>An anonymous inode: mode 0600 without a file type, as Linux's anon_inode.</summary>
        public EpollNode(Mount mount, ulong number, long now) : base(mount, number, 0x180, now) { }

        /// <summary>The interests' slots (for the system-call layer's look at what can change them):
        /// FileAt(i) is null for one whose description was released.</summary>
        public int Count => _interests.Count;
        public OpenFile FileAt(int index)
        {
            OpenFile file = _interests[index].File;
            return file.Released ? null : file;
        }

        /// <summary>epoll_ctl once both descriptions are found (self: the epoll's own, for
        /// self == target; target: fd's). 0 or -EPERM (target cannot be polled), -EINVAL,
        /// -ELOOP, -EEXIST, -ENOENT, in Linux's order; nothing changes on an error.</summary>
        public int Control(OpenFile self, int op, int fd, OpenFile target, uint events, ulong data)
        {
            if (!target.CanPoll) return -Errno.EPERM;
            if (self == target) return -Errno.EINVAL;
            bool hasEvent = op != EPOLL_CTL_DEL;
            if (hasEvent && (events & EPOLLEXCLUSIVE) != 0)
            {
                if (op == EPOLL_CTL_MOD) return -Errno.EINVAL;
                if (op == EPOLL_CTL_ADD && (target.Node is EpollNode || (events & ~ExclusiveAllowed) != 0)) return -Errno.EINVAL;
            }
            Prune();
            int at = Find(fd, target);
            switch (op)
            {
                case EPOLL_CTL_ADD:
                    if (target.Node is EpollNode nested && (nested.Reaches(this, 0) || nested.Depth(0) > MaximumNesting)) return -Errno.ELOOP;
                    if (at >= 0) return -Errno.EEXIST;
                    _interests.Add(new Interest { Fd = fd, File = target, Events = events | EPOLLERR | EPOLLHUP, Data = data });
                    return 0;
                case EPOLL_CTL_DEL:
                    if (at < 0) return -Errno.ENOENT;
                    _interests.RemoveAt(at);
                    return 0;
                case EPOLL_CTL_MOD:
                    if (at < 0) return -Errno.ENOENT;
                    Interest interest = _interests[at];
                    if ((interest.Events & EPOLLEXCLUSIVE) != 0) return -Errno.EINVAL;
                    interest.Events = events | EPOLLERR | EPOLLHUP;
                    interest.Data = data;
                    interest.Reported = 0;
                    return 0;
                default:
                    return -Errno.EINVAL;
            }
        }

        /// <summary>One look of epoll_wait: writes up to max ready interests into output (struct
        /// epoll_event, EventSize bytes each) and returns how many (0: none ready). Reporting
        /// consumes: an edge-triggered bit is not reported again until seen not ready, a oneshot
        /// interest is disabled.</summary>
        public int Collect(byte* output, int max)
        {
            Prune();
            AskSocketsTogether();
            int count = 0;
            _reportedScratch.Clear();
            for (int i = 0; i < _interests.Count && count < max; i++)
            {
                Interest interest = _interests[i];
                uint report = Pending(interest, true, out long stamp);
                if (report == 0) continue;
                byte* slot = output + count * EventSize;
                *(uint*)slot = report;
                *(ulong*)(slot + 4) = interest.Data;
                count++;
                if ((interest.Events & EPOLLET) != 0) { interest.Reported |= report; interest.Stamp = stamp; }
                if ((interest.Events & EPOLLONESHOT) != 0) interest.Events &= PrivateBits;
                _reportedScratch.Add(interest);
            }
            ForgetBatch();
            if (_reportedScratch.Count != 0)
            {
                // The ones that reported go to the end, in their order: the next look starts with the others.
                for (int i = 0; i < _reportedScratch.Count; i++) _interests.Remove(_reportedScratch[i]);
                for (int i = 0; i < _reportedScratch.Count; i++) _interests.Add(_reportedScratch[i]);
                _reportedScratch.Clear();
            }
            return count;
        }

        /// <summary>poll of the epoll descriptor itself: POLLIN|POLLRDNORM when a look would report
        /// something (nothing is consumed).</summary>
        public short Readiness()
        {
            for (int i = 0; i < _interests.Count; i++)
            {
                Interest interest = _interests[i];
                if (!interest.File.Released && Pending(interest, false, out _) != 0) return (short)(EPOLLIN | EPOLLRDNORM);
            }
            return 0;
        }

        // What interest would report now; with observe, an edge-triggered interest forgets the
        // bits it sees not ready. An edge-triggered interest whose file was woken since it last
        // reported (its ChangeStamp moved) reports every ready bit again.
        private static uint Pending(Interest interest, bool observe, out long stamp)
        {
            stamp = 0;
            uint wanted = interest.Events & ~PrivateBits;
            if (wanted == 0) return 0;
            short asked = (short)(wanted & 0xFFFF);
            uint ready = (uint)(ushort)interest.File.Poll(asked) & wanted;
            if ((interest.Events & EPOLLET) == 0) return ready;
            uint reported = interest.Reported & ready;
            if (observe) interest.Reported = reported;
            stamp = interest.File.ChangeStamp(asked);
            return stamp != interest.Stamp ? ready : ready & ~reported;
        }

        private int Find(int fd, OpenFile file)
        {
            for (int i = 0; i < _interests.Count; i++)
                if (_interests[i].Fd == fd && _interests[i].File == file) return i;
            return -1;
        }

        private void Prune()
        {
            for (int i = _interests.Count - 1; i >= 0; i--)
                if (_interests[i].File.Released) _interests.RemoveAt(i);
        }

        // Whether this epoll leads to target through its interests (nested epolls), looking at most MaximumNesting + 1 deep.
        private bool Reaches(EpollNode target, int depth)
        {
            if (this == target) return true;
            if (depth > MaximumNesting) return false;
            for (int i = 0; i < _interests.Count; i++)
                if (!_interests[i].File.Released && _interests[i].File.Node is EpollNode nested && nested.Reaches(target, depth + 1)) return true;
            return false;
        }

        // How deep the chain of epolls below this one goes (this one at depth), capped past MaximumNesting.
        private int Depth(int depth)
        {
            int deepest = depth;
            if (depth > MaximumNesting) return depth;
            for (int i = 0; i < _interests.Count; i++)
            {
                if (_interests[i].File.Released || !(_interests[i].File.Node is EpollNode nested)) continue;
                int below = nested.Depth(depth + 1);
                if (below > deepest) deepest = below;
            }
            return deepest;
        }
    }
}
