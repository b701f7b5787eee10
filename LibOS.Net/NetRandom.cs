namespace Aegis.LibOS.Net
{
    /// <summary>A small pseudo-random generator (xorshift64*) for identifiers that should not
    /// be guessable from outside: DHCP transaction ids, DNS ids, ephemeral ports, retransmission
    /// jitter, the IPv4 identification start. The libOS seeds it (from the time stamp counter,
    /// the MAC, the boot time); the tests seed it with constants.</summary>
    public sealed class NetRandom
    {
        private ulong _state;

        public NetRandom(ulong seed) { Reseed(seed); }

        public void Reseed(ulong seed)
        {
            // splitmix64 once so that small seeds spread over all bits; never zero.
            ulong z = seed + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            _state = z == 0 ? 0x2545F4914F6CDD1DUL : z;
        }

        /// <summary>Mixes more entropy in (e.g. the arrival time of frames).</summary>
        public void Stir(ulong value) => Reseed(_state ^ value);

        public ulong Next64()
        {
            ulong x = _state;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            _state = x;
            return x * 0x2545F4914F6CDD1DUL;
        }

        public uint Next32() => (uint)(Next64() >> 32);

        /// <summary>A value in [0, bound) (bound &gt; 0).</summary>
        public int Below(int bound) => (int)((Next64() >> 33) % (ulong)bound);
    }
}
