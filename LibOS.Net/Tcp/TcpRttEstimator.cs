namespace Aegis.LibOS.Net
{
    /// <summary>The retransmission timeout of RFC 6298, in microseconds: SRTT and RTTVAR from
    /// round-trip samples (alpha 1/8, beta 1/4, K 4), RTO = SRTT + max(G, 4 RTTVAR) clamped to
    /// [<see cref="MinRto"/>, <see cref="MaxRto"/>]; <see cref="Backoff"/> doubles it after a
    /// timeout. Karn's algorithm (no samples from retransmitted segments) is the caller's part.</summary>
    public sealed class TcpRttEstimator
    {
        /// <summary>Clock granularity G (1 ms: callers' Poll loops run on millisecond timers).</summary>
        public const long Granularity = 1000;

        public long MinRto;
        public long MaxRto;
        public long Srtt;
        public long RttVar;
        public long Rto;
        public bool HasSample;
        public int Backoffs;

        public TcpRttEstimator(long initialRto, long minRto, long maxRto)
        {
            MinRto = minRto;
            MaxRto = maxRto;
            Rto = initialRto;
        }

        /// <summary>RFC 6298 (2.2) and (2.3): one measurement R.</summary>
        public void Sample(long r)
        {
            if (r < 0) return;
            if (!HasSample)
            {
                Srtt = r;
                RttVar = r / 2;
                HasSample = true;
            }
            else
            {
                long delta = Srtt - r;
                if (delta < 0) delta = -delta;
                RttVar = (3 * RttVar + delta) / 4;
                Srtt = (7 * Srtt + r) / 8;
            }
            Backoffs = 0;
            Rto = Clamp(Srtt + (4 * RttVar > Granularity ? 4 * RttVar : Granularity));
        }

        /// <summary>RFC 6298 (5.5): after a timeout the RTO doubles (up to the maximum).</summary>
        public void Backoff()
        {
            Backoffs++;
            Rto = Rto >= MaxRto / 2 ? MaxRto : Rto * 2;
            if (Rto < MinRto) Rto = MinRto;
        }

        /// <summary>RFC 6298 (5.7): after a retransmitted SYN and no sample, data starts with 3 s.</summary>
        public void ResetAfterSynRetransmission(long rto)
        {
            if (!HasSample) Rto = Clamp(rto);
        }

        private long Clamp(long rto) => rto < MinRto ? MinRto : rto > MaxRto ? MaxRto : rto;
    }

    /// <summary>Initial sequence numbers per RFC 6528: ISN = M + F(local, lport, remote,
    /// rport, secret), M a 4-microsecond clock and F SipHash-2-4 keyed with the caller's seed.</summary>
    public sealed class TcpIsnGenerator
    {
        private readonly ulong _k0, _k1;

        public TcpIsnGenerator(ulong seed0, ulong seed1)
        {
            _k0 = seed0;
            _k1 = seed1;
        }

        public uint Next(Ipv4Address local, int localPort, Ipv4Address remote, int remotePort, long nowMicros)
        {
            ulong m0 = (ulong)local.Value << 32 | remote.Value;
            ulong m1 = (ulong)(uint)localPort << 16 | (uint)(remotePort & 0xFFFF);
            ulong h = Hash(m0, m1);
            return (uint)(nowMicros / 4) + (uint)(h ^ (h >> 32));
        }

        /// <summary>SipHash-2-4 over two 64-bit words (16 bytes of message, little-endian word
        /// order), written from the algorithm's description.</summary>
        internal ulong Hash(ulong m0, ulong m1)
        {
            ulong v0 = _k0 ^ 0x736f6d6570736575UL;
            ulong v1 = _k1 ^ 0x646f72616e646f6dUL;
            ulong v2 = _k0 ^ 0x6c7967656e657261UL;
            ulong v3 = _k1 ^ 0x7465646279746573UL;
            Absorb(ref v0, ref v1, ref v2, ref v3, m0);
            Absorb(ref v0, ref v1, ref v2, ref v3, m1);
            Absorb(ref v0, ref v1, ref v2, ref v3, 16UL << 56);
            v2 ^= 0xFF;
            for (int i = 0; i < 4; i++) Round(ref v0, ref v1, ref v2, ref v3);
            return v0 ^ v1 ^ v2 ^ v3;
        }

        private static void Absorb(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3, ulong m)
        {
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }

        private static ulong Rotl(ulong x, int b) => (x << b) | (x >> (64 - b));

        private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
        {
            v0 += v1; v1 = Rotl(v1, 13); v1 ^= v0; v0 = Rotl(v0, 32);
            v2 += v3; v3 = Rotl(v3, 16); v3 ^= v2;
            v0 += v3; v3 = Rotl(v3, 21); v3 ^= v0;
            v2 += v1; v1 = Rotl(v1, 17); v1 ^= v2; v2 = Rotl(v2, 32);
        }
    }
}
