// Which of a NIC driver's receive buffers is where (INetworkController's receive invariant, one
// definition for every driver): each buffer is on the device's ring (OnRing), handed out by
// TryTakeReceived and not yet given back (HandedOut), or free, waiting on the free stack to go
// back on the ring (Free) — exactly one of them. Made when the driver starts; allocates nothing after.
namespace Aegis.Kernel.Hal
{
    internal sealed class ReceiveBuffers
    {
        private enum State : byte { Free, OnRing, HandedOut }

        private readonly State[] _state;
        private readonly int[] _free;
        private int _freeCount;

        /// <summary>'count' buffers, all free (buffer 0 is the first TakeFree gives).</summary>
        public ReceiveBuffers(int count)
        {
            _state = new State[count];
            _free = new int[count];
            for (int b = count - 1; b >= 0; b--) _free[_freeCount++] = b;
        }

        public int Count => _state.Length;
        public bool AnyFree => _freeCount > 0;
        public int FreeCount => _freeCount;

        /// <summary>A free buffer to put on the ring (call only when AnyFree); it is OnRing now.</summary>
        public int TakeFree()
        {
            int b = _free[--_freeCount];
            _state[b] = State.OnRing;
            return b;
        }

        /// <summary>A buffer the device filled goes to the caller.</summary>
        public void HandOut(int b) => _state[b] = State.HandedOut;

        /// <summary>A buffer the device filled with a frame nobody gets (bad, or too long) is free again.</summary>
        public void Discard(int b)
        {
            _state[b] = State.Free;
            _free[_freeCount++] = b;
        }

        /// <summary>ReturnBuffer: true when 'b' was handed out (it is free now); false for any other number.</summary>
        public bool Return(int b)
        {
            if ((uint)b >= (uint)_state.Length || _state[b] != State.HandedOut) return false;
            Discard(b);
            return true;
        }
    }
}
