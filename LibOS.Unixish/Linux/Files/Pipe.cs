// An in-process pipe: a 64 KiB ring buffer (Linux's default pipe capacity) with counts of the open
// read and write descriptions. Pure logic; compiles under the real .NET.
//
// Semantics (pipe(7)): a read returns what is buffered (at most the count asked), 0 when empty and
// no writer is left; a write with no reader left fails with EPIPE (the caller raises SIGPIPE); an
// O_NONBLOCK read of an empty pipe with writers, or write to a full one, fails with EAGAIN; a write
// of at most PIPE_BUF (4096) bytes is atomic (all or nothing).
// Limit until processes share pipes: a blocking read of an empty pipe that still has writers, or a
// blocking write that finds no room, could only be satisfied by this same process, so it would
// wait forever; it returns -EDEADLK instead (a partial write returns the bytes it wrote).
using System;

namespace Aegis.LibOS.Unixish.Linux.Files
{
    public unsafe class Pipe
    {
        public const int Capacity = 65536;
        public const int AtomicLimit = 4096; // PIPE_BUF

        /// <summary>Makes the pipes pipe2 creates; null: in-process ones. The process layer
        /// (Linux/Processes/SharedPipe.cs) sets it: its pipes live in pages shared across fork.</summary>
        public static Func<Pipe> Factory;

        public static Pipe Create() => Factory != null ? Factory() : new Pipe();

        private readonly byte[] _ring;
        private int _head;   // index of the oldest byte
        private int _count;  // bytes buffered
        private int _readers, _writers;
        private long _written, _fullReads;

        public Pipe() { _ring = new byte[Capacity]; }

        /// <summary>For a subclass that keeps the bytes elsewhere.</summary>
        protected Pipe(bool noRing) { }

        /// <summary>Open read/write descriptions (a subclass may count them across processes).</summary>
        public virtual int Readers { get => _readers; set => _readers = value; }
        public virtual int Writers { get => _writers; set => _writers = value; }

        public virtual int Buffered => _count;
        /// <summary>Bytes ever written (an edge-triggered epoll interest in the read end reports
        /// again when it grows: Linux's wake-up of the readers).</summary>
        public virtual long BytesWritten => _written;
        /// <summary>Reads that found the ring full (the same for the write end: Linux wakes the
        /// writers only when a read makes room in a full pipe).</summary>
        public virtual long FullReads => _fullReads;
        public virtual int Space => Capacity - _count;

        public virtual long Read(byte* buffer, long length, bool nonBlocking)
        {
            if (length <= 0) return 0;
            if (_count == 0)
            {
                if (Writers == 0) return 0;
                return nonBlocking ? -Errno.EAGAIN : -Errno.EDEADLK;
            }
            int count = length < _count ? (int)length : _count;
            if (_count == Capacity) _fullReads++;
            int first = Capacity - _head < count ? Capacity - _head : count;
            fixed (byte* ring = _ring)
            {
                Buffer.MemoryCopy(ring + _head, buffer, first, first);
                if (count > first) Buffer.MemoryCopy(ring, buffer + first, count - first, count - first);
            }
            _head = (_head + count) % Capacity;
            _count -= count;
            if (_count == 0) _head = 0;
            return count;
        }

        public virtual long Write(byte* buffer, long length, bool nonBlocking)
        {
            if (Readers == 0) return -Errno.EPIPE;
            if (length <= 0) return 0;
            int space = Capacity - _count;
            if (space == 0 || (length <= AtomicLimit && space < length))
                return nonBlocking ? -Errno.EAGAIN : -Errno.EDEADLK;
            int count = length < space ? (int)length : space;
            int tail = (_head + _count) % Capacity;
            int first = Capacity - tail < count ? Capacity - tail : count;
            fixed (byte* ring = _ring)
            {
                Buffer.MemoryCopy(buffer, ring + tail, first, first);
                if (count > first) Buffer.MemoryCopy(buffer + first, ring, count - first, count - first);
            }
            _count += count;
            _written += count;
            return count;
        }
    }
}
