namespace Aegis.LibOS.Net
{
    /// <summary>The send queue: bytes the application handed over that are not yet
    /// acknowledged. Copied bytes go into a ring that grows to the connection's send buffer size;
    /// bytes the caller promises not to change while queued (a web server's cached response:
    /// <see cref="AppendStable"/>) are only referred to, so the file cache and the retransmission
    /// queue are one (Cheetah's merge). Segments are built by <see cref="CopyOut"/> (offset from the
    /// oldest unacknowledged byte) without seeing either. Invariants: with no extent listed
    /// (_count 0) every queued byte is in the ring, in order from _head; with extents listed, they
    /// describe every queued byte in order, an extent of ring bytes (Array null) standing for the
    /// next ring bytes in ring order, and the ring holds exactly the ring extents' bytes. Stable
    /// bytes count against the capacity as copied ones do.</summary>
    internal sealed class TcpSendBuffer
    {
        /// <summary>The ring's first size: a connection that never sends much never holds more.</summary>
        public const int FirstRingBytes = 16 * 1024;

        private byte[] _ring;
        private readonly int _capacity;
        private int _head;
        private int _ringLength;   // bytes in the ring
        private int _length;       // bytes queued: the ring's and the stable extents'

        private struct Extent
        {
            public byte[] Array;   // null: the next Length bytes of the ring
            public int Offset, Length;
        }
        private Extent[] _extents;
        private int _first, _count;

        /// <summary>A queue of up to capacity bytes (SO_SNDBUF). Its ring starts at FirstRingBytes
        /// and doubles, up to capacity, when an Append needs the room (as Linux grows a socket's
        /// send buffer with what it is asked to hold).</summary>
        public TcpSendBuffer(int capacity)
            : this(capacity, new byte[capacity < FirstRingBytes ? capacity : FirstRingBytes]) { }

        /// <summary>A queue whose first ring is <paramref name="ring"/> (a pool's: TcpRingPool), of
        /// min(capacity, FirstRingBytes) bytes; its old bytes are never read.</summary>
        public TcpSendBuffer(int capacity, byte[] ring)
        {
            _capacity = capacity;
            _ring = ring;
        }

        /// <summary>Gives the ring to <paramref name="pool"/> (when it is of the pool's length) as
        /// the connection drops this queue; the queue is unusable after.</summary>
        public void GiveRing(TcpRingPool pool)
        {
            pool.Give(_ring);
            _ring = null;
        }

        public int Capacity => _capacity;
        public int Length => _length;
        public int Free => _capacity - _length;
        /// <summary>The bytes the ring holds now (tests).</summary>
        public int RingBytes => _ring.Length;
        /// <summary>Queued bytes that are the caller's, not copied (tests).</summary>
        public int StableBytes => _length - _ringLength;

        public int Append(System.ReadOnlySpan<byte> data)
        {
            int n = data.Length < Free ? data.Length : Free;
            if (n == 0) return 0;
            if (_ringLength + n > _ring.Length) Grow(_ringLength + n);
            int tail = (_head + _ringLength) % _ring.Length;
            int first = n < _ring.Length - tail ? n : _ring.Length - tail;
            data.Slice(0, first).CopyTo(new System.Span<byte>(_ring, tail, first));
            if (n > first) data.Slice(first, n - first).CopyTo(new System.Span<byte>(_ring, 0, n - first));
            _ringLength += n;
            _length += n;
            if (_count > 0) AddExtent(null, 0, n);
            return n;
        }

        /// <summary>Queues up to length bytes of array from offset without copying them: the
        /// caller must not change them until they are acknowledged (the queue holds the array).
        /// Returns how many were queued (the free room bounds it).</summary>
        public int AppendStable(byte[] array, int offset, int length)
        {
            if ((uint)offset > (uint)array.Length || (uint)length > (uint)(array.Length - offset))
                throw new System.ArgumentOutOfRangeException(nameof(length));
            int n = length < Free ? length : Free;
            if (n == 0) return 0;
            if (_count == 0 && _ringLength > 0) AddExtent(null, 0, _ringLength); // what the ring holds comes first
            AddExtent(array, offset, n);
            _length += n;
            return n;
        }

        private void AddExtent(byte[] array, int offset, int length)
        {
            if (_count > 0)
            {
                ref Extent last = ref _extents[(_first + _count - 1) % _extents.Length];
                if (last.Array == array && (array == null || last.Offset + last.Length == offset))
                {
                    last.Length += length; // ring bytes after ring bytes, or the array's next bytes
                    return;
                }
            }
            if (_extents == null) _extents = new Extent[8];
            else if (_count == _extents.Length)
            {
                var larger = new Extent[_extents.Length * 2];
                for (int i = 0; i < _count; i++) larger[i] = _extents[(_first + i) % _extents.Length];
                _extents = larger;
                _first = 0;
            }
            _extents[(_first + _count) % _extents.Length] = new Extent { Array = array, Offset = offset, Length = length };
            _count++;
        }

        public void CopyOut(int offset, System.Span<byte> destination)
        {
            if (_count == 0)
            {
                RingCopy(offset, destination);
                return;
            }
            int ringAt = 0; // ring bytes before the extent looked at
            for (int i = 0; i < _count && destination.Length > 0; i++)
            {
                ref Extent e = ref _extents[(_first + i) % _extents.Length];
                if (offset >= e.Length)
                {
                    offset -= e.Length;
                    if (e.Array == null) ringAt += e.Length;
                    continue;
                }
                int n = e.Length - offset < destination.Length ? e.Length - offset : destination.Length;
                if (e.Array == null) RingCopy(ringAt + offset, destination.Slice(0, n));
                else new System.ReadOnlySpan<byte>(e.Array, e.Offset + offset, n).CopyTo(destination);
                destination = destination.Slice(n);
                if (e.Array == null) ringAt += e.Length;
                offset = 0;
            }
            if (destination.Length > 0) throw new System.ArgumentOutOfRangeException(nameof(destination));
        }

        /// <summary>destination.Length ring bytes from 'offset' past the ring's head.</summary>
        private void RingCopy(int offset, System.Span<byte> destination)
        {
            int n = destination.Length;
            int at = (_head + offset) % _ring.Length;
            int first = n < _ring.Length - at ? n : _ring.Length - at;
            new System.ReadOnlySpan<byte>(_ring, at, first).CopyTo(destination);
            if (n > first) new System.ReadOnlySpan<byte>(_ring, 0, n - first).CopyTo(destination.Slice(first));
        }

        /// <summary>A larger ring (doubling, at least 'needed', at most the capacity), its bytes in order from 0.</summary>
        private void Grow(int needed)
        {
            int size = _ring.Length;
            while (size < needed) size *= 2;
            if (size > _capacity) size = _capacity;
            var ring = new byte[size];
            RingCopy(0, new System.Span<byte>(ring, 0, _ringLength));
            _ring = ring;
            _head = 0;
        }

        public void Consume(int n)
        {
            if (n > _length) n = _length;
            _length -= n;
            if (_count == 0)
            {
                ConsumeRing(n);
                return;
            }
            while (n > 0 && _count > 0)
            {
                ref Extent e = ref _extents[_first];
                int take = n < e.Length ? n : e.Length;
                if (e.Array == null) ConsumeRing(take);
                else e.Offset += take;
                e.Length -= take;
                n -= take;
                if (e.Length == 0)
                {
                    e = default; // the array is no longer held
                    _first = (_first + 1) % _extents.Length;
                    _count--;
                }
            }
            if (_count == 0) _first = 0; // every byte left (none) is the ring's
        }

        private void ConsumeRing(int n)
        {
            _head = (_head + n) % _ring.Length;
            _ringLength -= n;
            if (_ringLength == 0) _head = 0;
        }

        public void Clear()
        {
            _head = 0;
            _ringLength = 0;
            _length = 0;
            for (int i = 0; i < _count; i++) _extents[(_first + i) % _extents.Length] = default;
            _first = 0;
            _count = 0;
        }
    }

    /// <summary>The receive queue with out-of-order reassembly in the same ring: in-order bytes
    /// wait at the front for the application; a segment beyond a hole is written where it will
    /// belong once the hole fills, and its range is kept in a small sorted list (at most
    /// <see cref="MaxRanges"/> ranges: a segment that would need more is dropped). Nothing is
    /// accepted beyond the ring, so the window offered (the ring's free space) is honest.</summary>
    internal sealed class TcpReceiveBuffer
    {
        public const int MaxRanges = 16;

        private byte[] _ring;
        private int _head;
        private int _length;
        private readonly uint[] _start = new uint[MaxRanges];
        private readonly uint[] _end = new uint[MaxRanges];
        private int _ranges;

        public TcpReceiveBuffer(int capacity) { _ring = new byte[capacity]; }

        /// <summary>A buffer over <paramref name="ring"/> (a pool's: TcpRingPool); its old bytes
        /// are never read, only the ones Store writes.</summary>
        public TcpReceiveBuffer(byte[] ring) { _ring = ring; }

        /// <summary>Gives the ring to <paramref name="pool"/> (when it is of the pool's length) as
        /// the connection drops this buffer; the buffer is unusable after.</summary>
        public void GiveRing(TcpRingPool pool)
        {
            pool.Give(_ring);
            _ring = null;
        }

        public int Capacity => _ring.Length;
        /// <summary>In-order bytes ready for the application.</summary>
        public int Length => _length;
        /// <summary>Space after the in-order bytes (out-of-order bytes live inside it).</summary>
        public int Free => _ring.Length - _length;
        public int OutOfOrderRanges => _ranges;

        /// <summary>Out-of-order bytes held (for tests and statistics).</summary>
        public long OutOfOrderBytes
        {
            get
            {
                long n = 0;
                for (int i = 0; i < _ranges; i++) n += _end[i] - _start[i];
                return n;
            }
        }

        /// <summary>Stores data at sequence <paramref name="seq"/>, where <paramref name="rcvNxt"/>
        /// is the next expected byte. The caller trimmed it to [rcvNxt, rcvNxt + Free). Returns
        /// the new rcvNxt (advanced over in-order data and any ranges that became contiguous),
        /// or rcvNxt unchanged when the data was out of order (stored, or dropped when the range
        /// list was full: <paramref name="dropped"/>).</summary>
        public uint Store(uint rcvNxt, uint seq, System.ReadOnlySpan<byte> data, out bool dropped)
        {
            dropped = false;
            if (data.Length == 0) return rcvNxt;
            uint end = seq + (uint)data.Length;
            if (seq != rcvNxt)
            {
                if (!AddRange(seq, end))
                {
                    dropped = true;
                    return rcvNxt;
                }
                Write((int)(seq - rcvNxt), data);
                return rcvNxt;
            }
            Write(0, data);
            _length += data.Length;
            rcvNxt = end;
            // Ranges now reached become in-order bytes.
            while (_ranges > 0 && TcpSeq.Le(_start[0], rcvNxt))
            {
                if (TcpSeq.Gt(_end[0], rcvNxt))
                {
                    _length += (int)(_end[0] - rcvNxt);
                    rcvNxt = _end[0];
                }
                RemoveRangeAt(0);
            }
            return rcvNxt;
        }

        private void Write(int offsetFromTail, System.ReadOnlySpan<byte> data)
        {
            int n = data.Length;
            int at = (_head + _length + offsetFromTail) % _ring.Length;
            int first = n < _ring.Length - at ? n : _ring.Length - at;
            data.Slice(0, first).CopyTo(new System.Span<byte>(_ring, at, first));
            if (n > first) data.Slice(first, n - first).CopyTo(new System.Span<byte>(_ring, 0, n - first));
        }

        private bool AddRange(uint s, uint e)
        {
            int i = 0;
            while (i < _ranges && TcpSeq.Lt(_end[i], s)) i++;
            int j = i;
            uint ns = s, ne = e;
            while (j < _ranges && TcpSeq.Le(_start[j], ne))
            {
                ns = TcpSeq.Min(ns, _start[j]);
                ne = TcpSeq.Max(ne, _end[j]);
                j++;
            }
            if (j == i)
            {
                if (_ranges == MaxRanges) return false;
                for (int k = _ranges; k > i; k--)
                {
                    _start[k] = _start[k - 1];
                    _end[k] = _end[k - 1];
                }
                _start[i] = ns;
                _end[i] = ne;
                _ranges++;
                return true;
            }
            _start[i] = ns;
            _end[i] = ne;
            int removed = j - i - 1;
            if (removed > 0)
            {
                for (int k = i + 1; k + removed < _ranges; k++)
                {
                    _start[k] = _start[k + removed];
                    _end[k] = _end[k + removed];
                }
                _ranges -= removed;
            }
            return true;
        }

        private void RemoveRangeAt(int i)
        {
            for (int k = i; k + 1 < _ranges; k++)
            {
                _start[k] = _start[k + 1];
                _end[k] = _end[k + 1];
            }
            _ranges--;
        }

        /// <summary>Copies up to destination.Length in-order bytes out; consumes them unless peeking.</summary>
        public int Read(System.Span<byte> destination, bool peek)
        {
            int n = destination.Length < _length ? destination.Length : _length;
            if (n == 0) return 0;
            int first = n < _ring.Length - _head ? n : _ring.Length - _head;
            new System.ReadOnlySpan<byte>(_ring, _head, first).CopyTo(destination);
            if (n > first) new System.ReadOnlySpan<byte>(_ring, 0, n - first).CopyTo(destination.Slice(first));
            if (!peek) Consume(n);
            return n;
        }

        /// <summary>Drops in-order bytes (shutdown of the read side).</summary>
        public void Consume(int n)
        {
            if (n > _length) n = _length;
            _head = (_head + n) % _ring.Length;
            _length -= n;
        }
    }
}
