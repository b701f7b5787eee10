namespace Aegis.LibOS.Net
{
    /// <summary>A stack's spare buffer rings of one length (a libOS policy: docs/network.md,
    /// "Rings kept for the next connection"). A connection that ends gives its rings back and the
    /// next one takes them, so a connection a request allocates no 128 KiB receive ring and no
    /// 16 KiB send ring, and the collector, whose runs follow the bytes allocated, runs for it
    /// no more. Invariants: a ring is in the pool or owned by one buffer, never both (a buffer
    /// gives its ring back only when its connection drops the buffer, and nothing else refers to
    /// a ring); a ring's old bytes are never read again: buffers read only what they wrote.</summary>
    internal sealed class TcpRingPool
    {
        /// <summary>Rings kept at most: enough for a burst of short connections; a stack with
        /// more connections alive holds their rings in the connections anyway.</summary>
        public const int Capacity = 8;

        private readonly byte[][] _spare = new byte[Capacity][];
        private readonly int _length;
        private int _count;

        public TcpRingPool(int length) { _length = length; }

        public int Length => _length;
        public int Count => _count;

        /// <summary>A ring of Length bytes: a spare one (its old bytes left) or a new one.</summary>
        public byte[] Take(TcpCounters counters)
        {
            if (_count == 0) return new byte[_length];
            counters.RingsReused++;
            byte[] ring = _spare[--_count];
            _spare[_count] = null;
            return ring;
        }

        /// <summary>Keeps a ring its buffer no longer uses, if it is of this pool's length and there is room.</summary>
        public void Give(byte[] ring)
        {
            if (ring == null || ring.Length != _length || _count == Capacity) return;
            _spare[_count++] = ring;
        }
    }
}
