// eventfd(2): a 64-bit counter behind a file descriptor ("anon_inode:[eventfd]"). Pure logic;
// compiles under the real .NET.
//
// Semantics (eventfd(2)): a read of at least 8 bytes takes the counter and sets it to 0 (with
// EFD_SEMAPHORE: takes 1 and decrements it); a write of at least 8 bytes adds its value. Reads
// and writes of fewer than 8 bytes, and a write of 0xffffffffffffffff, are EINVAL. A read of a
// zero counter, or a write that would take it past Maximum, waits: EAGAIN when the description
// is O_NONBLOCK, else WouldWait, which the system-call layer turns into a wait for another thread
// of this process to change the counter (FileCalls.Waiting.cs: the wait poll and epoll use).
// poll: POLLIN when the counter is above 0, POLLOUT when a write of 1 would not wait.
//
// Invariant: Count <= Maximum.
// Limit: the counter is this process's memory. A fork's child gets a copy of it: parent and
// child then count apart (Linux shares one counter); threads of the process share it.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    public sealed unsafe class EventFdNode : Inode
    {
        /// <summary>The largest value the counter holds (0xfffffffffffffffe).</summary>
        public const ulong Maximum = ulong.MaxValue - 1;
        /// <summary>eventfd2's flags: EFD_SEMAPHORE; EFD_CLOEXEC and EFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK.</summary>
        public const int EFD_SEMAPHORE = 1, EFD_CLOEXEC = LinuxFile.O_CLOEXEC, EFD_NONBLOCK = LinuxFile.O_NONBLOCK;
        /// <summary>What Read and Write return when a blocking description must wait (the pipe's
        /// answer for a wait only this process could end).</summary>
        public const long WouldWait = -Errno.EDEADLK;
        /// <summary>What /proc/self/fd/N shows.</summary>
        public const string DisplayName = "anon_inode:[eventfd]";

        public ulong Count { get; private set; }
        public readonly bool Semaphore;
        /// <summary>Successful reads and writes so far (each is a wake-up on Linux: an
        /// edge-triggered epoll interest reports again after one; ChangeStamp).</summary>
        public long Reads { get; private set; }
        public long Writes { get; private set; }

        /// <summary>An anonymous inode: mode 0600 without a file type, as Linux's anon_inode.</summary>
        public EventFdNode(Mount mount, ulong number, ulong initial, bool semaphore, long now)
            : base(mount, number, 0x180, now)
        {
            Count = initial;
            Semaphore = semaphore;
        }

        /// <summary>read(2): 8 (the value written to buffer), -EINVAL, -EAGAIN or WouldWait.</summary>
        public long Read(byte* buffer, long length, bool nonBlocking)
        {
            if (length < 8) return -Errno.EINVAL;
            if (Count == 0) return nonBlocking ? -Errno.EAGAIN : WouldWait;
            ulong value = Semaphore ? 1 : Count;
            Count -= value;
            Reads++;
            *(ulong*)buffer = value;
            return 8;
        }

        /// <summary>write(2): 8, -EINVAL, -EAGAIN or WouldWait. Only the first 8 bytes count.</summary>
        public long Write(byte* buffer, long length, bool nonBlocking)
        {
            if (length < 8) return -Errno.EINVAL;
            ulong value = *(ulong*)buffer;
            if (value == ulong.MaxValue) return -Errno.EINVAL;
            if (Maximum - Count < value) return nonBlocking ? -Errno.EAGAIN : WouldWait;
            Count += value;
            Writes++;
            return 8;
        }

        /// <summary>poll's bits before masking: POLLIN, POLLOUT (never POLLRDNORM/POLLWRNORM, as Linux).</summary>
        public short Readiness()
        {
            const short POLLIN = 0x1, POLLOUT = 0x4;
            short ready = 0;
            if (Count > 0) ready |= POLLIN;
            if (Count < Maximum) ready |= POLLOUT;
            return ready;
        }
    }
}
