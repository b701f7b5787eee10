// InputRing: the kernel's buffer of one input device's bytes, between its interrupt handler
// (Write) and InputRead (Peek, then Discard once the bytes reached the reader).
// Invariants: 0 <= Count <= Capacity; the storage is made once by the constructor and never
// again, so no operation allocates (the interrupt path may not); a byte written to a full ring
// is dropped and counted in Dropped (the oldest bytes are kept: what a reader takes is what
// arrived first, with a gap only at the end); the kernel calls every operation with interrupts
// off (the handler runs with them off, system calls too), so there is one writer at a time.
namespace Aegis.Kernel.Core.Exo
{
    public sealed class InputRing
    {
        private readonly byte[] _bytes;
        private int _head;   // the oldest byte
        private int _count;

        public InputRing(int capacity)
        {
            if (capacity <= 0) throw new System.ArgumentOutOfRangeException(nameof(capacity));
            _bytes = new byte[capacity];
        }

        public int Capacity => _bytes.Length;
        public int Count => _count;
        public bool IsFull => _count == _bytes.Length;

        /// <summary>Bytes dropped because the ring was full.</summary>
        public ulong Dropped { get; private set; }

        /// <summary>Bytes accepted since the ring was made.</summary>
        public ulong Received { get; private set; }

        /// <summary>Appends a byte; false (and Dropped counts it) when the ring is full.</summary>
        public bool Write(byte value)
        {
            if (_count == _bytes.Length)
            {
                Dropped++;
                return false;
            }
            int tail = _head + _count;
            if (tail >= _bytes.Length) tail -= _bytes.Length;
            _bytes[tail] = value;
            _count++;
            Received++;
            return true;
        }

        /// <summary>Copies up to destination.Length of the oldest bytes without taking them; returns
        /// how many.</summary>
        public int Peek(System.Span<byte> destination)
        {
            int n = destination.Length < _count ? destination.Length : _count;
            int at = _head;
            for (int i = 0; i < n; i++)
            {
                destination[i] = _bytes[at];
                if (++at == _bytes.Length) at = 0;
            }
            return n;
        }

        /// <summary>Takes the count oldest bytes (at most Count).</summary>
        public void Discard(int count)
        {
            if (count <= 0) return;
            if (count > _count) count = _count;
            _head += count;
            if (_head >= _bytes.Length) _head -= _bytes.Length;
            _count -= count;
        }

        /// <summary>Peek, then Discard what was copied.</summary>
        public int Read(System.Span<byte> destination)
        {
            int n = Peek(destination);
            Discard(n);
            return n;
        }

        /// <summary>Empties the ring (the counters stay).</summary>
        public void Clear()
        {
            _head = 0;
            _count = 0;
        }
    }
}
