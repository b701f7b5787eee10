// An AF_UNIX socket's receive queue (UnixSocket.cs): what its peers sent, in order. The bytes live
// in one ring that grows as needed (the senders' send buffers bound it); beside them, one record
// per message — a datagram, a sequenced packet, or a run of a stream's bytes from one sender —
// saying who sent it and what it costs that sender until read. Pure logic; compiles under the
// real .NET.
//
// A record may carry descriptions in flight (SCM_RIGHTS: server OpenFiles, each holding one
// reference until the receiver installs or drops them) and the sending process's pid (for
// SCM_CREDENTIALS); a stream's records join only when the sender, the pid match and neither
// carries descriptions (Linux never glues those).
//
// Invariants: the records' lengths add up to Bytes, and the records lie in the ring in order from
// _start; a record's Cost is what its sender's InFlight counts for it (a stream's: its bytes; a
// message's: its bytes plus UnixSockets.MessageOverhead). Appending and reading allocate only when
// the ring or the record table must grow.
namespace Aegis.LibOS.Unixish.Linux.Files
{
    internal sealed unsafe class UnixQueue
    {
        internal struct Record
        {
            public int Length;
            public int Cost;
            public UnixSocket Sender;
            /// <summary>The sending process (SCM_CREDENTIALS' pid).</summary>
            public int Pid;
            /// <summary>Descriptions passed with the record (SCM_RIGHTS), or null.</summary>
            public OpenFile[] Rights;
        }

        private byte[] _ring = System.Array.Empty<byte>();
        private int _start, _bytes;
        private Record[] _records = new Record[4];
        private int _first, _count;

        /// <summary>Bytes queued.</summary>
        public int Bytes => _bytes;
        /// <summary>Records (messages) queued.</summary>
        public int Count => _count;
        public bool IsEmpty => _count == 0;
        /// <summary>The oldest record (the queue is not empty).</summary>
        public ref Record Head => ref _records[_first];

        /// <summary>Queues length bytes from sender (process pid), with rights (may be null). join: a
        /// stream's send, which extends the last record when the same sender and pid made it and
        /// neither carries rights.</summary>
        public void Append(byte* data, int length, UnixSocket sender, int pid, int cost, OpenFile[] rights, bool join)
        {
            if (_bytes + length > _ring.Length) Grow(_bytes + length);
            int at = (_start + _bytes) % (_ring.Length == 0 ? 1 : _ring.Length);
            int first = length < _ring.Length - at ? length : _ring.Length - at;
            if (first > 0) fixed (byte* ring = _ring) System.Buffer.MemoryCopy(data, ring + at, first, first);
            if (length > first) fixed (byte* ring = _ring) System.Buffer.MemoryCopy(data + first, ring, length - first, length - first);
            _bytes += length;
            if (join && _count > 0)
            {
                ref Record last = ref _records[(_first + _count - 1) % _records.Length];
                if (last.Sender == sender && last.Pid == pid && last.Rights == null && rights == null)
                {
                    last.Length += length;
                    last.Cost += cost;
                    return;
                }
            }
            if (_count == _records.Length)
            {
                var records = new Record[_records.Length * 2];
                for (int i = 0; i < _count; i++) records[i] = _records[(_first + i) % _records.Length];
                _records = records;
                _first = 0;
            }
            _records[(_first + _count) % _records.Length] = new Record { Length = length, Cost = cost, Sender = sender, Pid = pid, Rights = rights };
            _count++;
        }

        private void Grow(int needed)
        {
            int size = _ring.Length < 4096 ? 4096 : _ring.Length;
            while (size < needed) size *= 2;
            var ring = new byte[size];
            if (_bytes > 0)
            {
                int first = _bytes < _ring.Length - _start ? _bytes : _ring.Length - _start;
                System.Array.Copy(_ring, _start, ring, 0, first);
                if (_bytes > first) System.Array.Copy(_ring, 0, ring, first, _bytes - first);
            }
            _ring = ring;
            _start = 0;
        }

        /// <summary>Copies count bytes starting skip bytes after the oldest one (they are queued).</summary>
        public void CopyOut(int skip, byte* to, int count)
        {
            if (count <= 0) return;
            int at = (_start + skip) % _ring.Length;
            int first = count < _ring.Length - at ? count : _ring.Length - at;
            fixed (byte* ring = _ring)
            {
                System.Buffer.MemoryCopy(ring + at, to, first, first);
                if (count > first) System.Buffer.MemoryCopy(ring, to + first, count - first, count - first);
            }
        }

        /// <summary>Takes count bytes (at most the head record's) off the head record; a record
        /// used up goes. Returns the head's sender, whose InFlight the caller credits, and the
        /// record's rights (now the caller's: taken with its first byte, as Linux's).</summary>
        public UnixSocket ConsumeHead(int count, out int credit, out OpenFile[] rights)
        {
            ref Record head = ref _records[_first];
            UnixSocket sender = head.Sender;
            rights = head.Rights;
            head.Rights = null;
            if (count >= head.Length)
            {
                count = head.Length;
                credit = head.Cost;
                head = default;
                _first = (_first + 1) % _records.Length;
                _count--;
            }
            else
            {
                credit = count < head.Cost ? count : head.Cost;
                head.Length -= count;
                head.Cost -= credit;
            }
            _bytes -= count;
            _start = _bytes == 0 || _ring.Length == 0 ? 0 : (_start + count) % _ring.Length;
            return sender;
        }

        /// <summary>Gives the ring's memory back once the queue is empty (the socket closed).</summary>
        public void Trim()
        {
            if (_count != 0) return;
            _ring = System.Array.Empty<byte>();
            _start = _bytes = 0;
        }
    }
}
