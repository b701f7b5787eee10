namespace Aegis.LibOS.Net
{
    /// <summary>IPv4 fragment reassembly with RFC 815 hole descriptors.
    ///
    /// Bounds: <see cref="NetStackOptions.ReassemblySlots"/> datagrams in progress (a new one
    /// when all are busy evicts the one started first), each at most
    /// <see cref="Ipv4.MaximumDatagramPayload"/> bytes of payload in a buffer allocated on the
    /// slot's first use and kept, and at most <see cref="NetStackOptions.ReassemblyHoles"/> holes
    /// (a datagram cut into more gaps is dropped). A datagram not complete
    /// <see cref="NetStackOptions.ReassemblyTimeoutMicros"/> after its first fragment is dropped.
    ///
    /// Overlaps: only the bytes of a fragment that fall into holes are copied, so data once
    /// received is never overwritten (the first copy wins; overlaps and duplicates are counted).
    /// A fragment inconsistent with the datagram's known end (a second, different last fragment,
    /// data beyond the end) drops the whole datagram, and so does a non-last fragment whose
    /// length is not a multiple of 8.</summary>
    public sealed class Ipv4Reassembler
    {
        private const int Infinity = 1 << 20;

        private sealed class Slot
        {
            public bool Used;
            public Ipv4Address Source, Destination;
            public byte Protocol;
            public ushort Id;
            public long Started, Deadline;
            public int Total;        // payload length once the last fragment arrived, else -1
            public int HighestEnd;   // the highest byte end received so far
            public int Holes;
            public int[] HoleFirst, HoleLast;
            public byte[] Data;
            public readonly byte[] Header = new byte[Ipv4.MaximumHeaderLength];
            public int HeaderLength;
        }

        private readonly Slot[] _slots;
        private readonly NetStackOptions _options;
        private readonly NetCounters _counters;

        /// <summary>NextDeadline as last computed (valid until a datagram starts or Poll runs: a
        /// slot freed meanwhile only makes the cached value early, which the contract allows).</summary>
        private long _deadline = long.MaxValue;
        private bool _deadlineValid;

        internal Ipv4Reassembler(NetStackOptions options, NetCounters counters)
        {
            _options = options;
            _counters = counters;
            _slots = new Slot[options.ReassemblySlots];
            for (int i = 0; i < _slots.Length; i++)
                _slots[i] = new Slot { HoleFirst = new int[options.ReassemblyHoles], HoleLast = new int[options.ReassemblyHoles] };
        }

        public int InProgress
        {
            get
            {
                int n = 0;
                for (int i = 0; i < _slots.Length; i++) if (_slots[i].Used) n++;
                return n;
            }
        }

        /// <summary>Adds one fragment (<paramref name="header"/> its IPv4 header, validated;
        /// <paramref name="payload"/> its data). True when it completed a datagram: then
        /// <paramref name="slot"/> names it for <see cref="Payload"/> and <see cref="Header"/>,
        /// and the caller must <see cref="Release"/> it after delivery.</summary>
        internal bool Add(System.ReadOnlySpan<byte> header, System.ReadOnlySpan<byte> payload, long now, out int slot)
        {
            slot = -1;
            _counters.FragmentsReceived++;
            int flags = Ipv4.FlagsAndOffset(header);
            bool more = (flags & Ipv4.FlagMoreFragments) != 0;
            int first = (flags & Ipv4.OffsetMask) * 8;
            int length = payload.Length;
            int end = first + length;
            if ((more && (length == 0 || (length & 7) != 0)) || (!more && length == 0 && first == 0))
            {
                _counters.FragmentDropBad++;
                return false;
            }

            var source = Ipv4.Source(header);
            var destination = Ipv4.Destination(header);
            byte protocol = Ipv4.Protocol(header);
            ushort id = Ipv4.Identification(header);
            int s = Find(source, destination, protocol, id, now);
            if (end > Ipv4.MaximumDatagramPayload)
            {
                if (s >= 0) _slots[s].Used = false;
                _counters.FragmentDropTooBig++;
                return false;
            }
            if (s < 0) s = Start(source, destination, protocol, id, now);
            Slot r = _slots[s];

            if (!more)
            {
                if ((r.Total >= 0 && r.Total != end) || r.HighestEnd > end) { Drop(r); return false; }
                if (r.Total < 0)
                {
                    r.Total = end;
                    // The end is known: cut every hole at it.
                    int k = 0;
                    for (int i = 0; i < r.Holes; i++)
                    {
                        if (r.HoleFirst[i] >= end) continue;
                        r.HoleFirst[k] = r.HoleFirst[i];
                        r.HoleLast[k] = r.HoleLast[i] < end - 1 ? r.HoleLast[i] : end - 1;
                        k++;
                    }
                    r.Holes = k;
                }
            }
            else if (r.Total >= 0 && end > r.Total) { Drop(r); return false; }
            if (end > r.HighestEnd) r.HighestEnd = end;

            if (first == 0)
            {
                int ihl = Ipv4.HeaderBytes(header);
                header.Slice(0, ihl).CopyTo(r.Header);
                r.HeaderLength = ihl;
            }

            // Fill the holes this fragment covers (RFC 815 steps 1-6), copying only into holes.
            int copied = 0;
            if (length > 0)
            {
                int last = end - 1;
                int n = r.Holes;
                for (int i = 0; i < n; i++)
                {
                    int hf = r.HoleFirst[i], hl = r.HoleLast[i];
                    if (first > hl || last < hf) continue;
                    int from = first > hf ? first : hf;
                    int to = last < hl ? last : hl;
                    payload.Slice(from - first, to - from + 1).CopyTo(new System.Span<byte>(r.Data, from, to - from + 1));
                    copied += to - from + 1;
                    // Replace hole i by what is left on either side.
                    bool left = first > hf, right = last < hl;
                    if (left && right)
                    {
                        if (r.Holes == r.HoleFirst.Length) { _counters.FragmentDropTooManyHoles++; Drop(r, false); return false; }
                        r.HoleLast[i] = first - 1;
                        r.HoleFirst[r.Holes] = last + 1;
                        r.HoleLast[r.Holes] = hl;
                        r.Holes++;
                    }
                    else if (left) r.HoleLast[i] = first - 1;
                    else if (right) r.HoleFirst[i] = last + 1;
                    else
                    {
                        // Hole filled: move the last hole here and look at index i again.
                        r.Holes--;
                        r.HoleFirst[i] = r.HoleFirst[r.Holes];
                        r.HoleLast[i] = r.HoleLast[r.Holes];
                        if (r.Holes < n) { n--; i--; }
                    }
                }
                if (copied == 0) _counters.FragmentDuplicates++;
                else if (copied < length) _counters.FragmentOverlaps++;
            }

            if (r.Total >= 0 && r.Holes == 0)
            {
                _counters.Reassembled++;
                slot = s;
                return true;
            }
            return false;
        }

        private int Find(Ipv4Address source, Ipv4Address destination, byte protocol, ushort id, long now)
        {
            for (int i = 0; i < _slots.Length; i++)
            {
                Slot r = _slots[i];
                if (!r.Used || r.Id != id || r.Protocol != protocol || r.Source != source || r.Destination != destination) continue;
                if (now >= r.Deadline)
                {
                    r.Used = false;
                    _counters.ReassemblyTimeouts++;
                    return -1;
                }
                return i;
            }
            return -1;
        }

        private int Start(Ipv4Address source, Ipv4Address destination, byte protocol, ushort id, long now)
        {
            int s = -1;
            for (int i = 0; i < _slots.Length; i++)
            {
                if (!_slots[i].Used) { s = i; break; }
                if (s < 0 || _slots[i].Started < _slots[s].Started) s = i;
            }
            Slot r = _slots[s];
            if (r.Used) _counters.ReassemblyEvictions++;
            _deadlineValid = false;
            r.Used = true;
            r.Source = source;
            r.Destination = destination;
            r.Protocol = protocol;
            r.Id = id;
            r.Started = now;
            r.Deadline = now + _options.ReassemblyTimeoutMicros;
            r.Total = -1;
            r.HighestEnd = 0;
            r.Holes = 1;
            r.HoleFirst[0] = 0;
            r.HoleLast[0] = Infinity;
            r.HeaderLength = 0;
            if (r.Data == null) r.Data = new byte[Ipv4.MaximumDatagramPayload];
            return s;
        }

        private void Drop(Slot r, bool inconsistent = true)
        {
            r.Used = false;
            if (inconsistent) _counters.FragmentDropInconsistent++;
        }

        internal System.ReadOnlySpan<byte> Payload(int slot) => new System.ReadOnlySpan<byte>(_slots[slot].Data, 0, _slots[slot].Total);

        internal System.ReadOnlySpan<byte> Header(int slot) => new System.ReadOnlySpan<byte>(_slots[slot].Header, 0, _slots[slot].HeaderLength);

        internal void Release(int slot) => _slots[slot].Used = false;

        internal void Poll(long now)
        {
            if (now < NextDeadline) return; // nothing expires before the earliest deadline (as Arp.Poll)
            _deadlineValid = false;
            for (int i = 0; i < _slots.Length; i++)
                if (_slots[i].Used && now >= _slots[i].Deadline)
                {
                    _slots[i].Used = false;
                    _counters.ReassemblyTimeouts++;
                }
        }

        internal long NextDeadline
        {
            get
            {
                if (_deadlineValid) return _deadline;
                long d = long.MaxValue;
                for (int i = 0; i < _slots.Length; i++)
                    if (_slots[i].Used && _slots[i].Deadline < d) d = _slots[i].Deadline;
                _deadline = d;
                _deadlineValid = true;
                return d;
            }
        }
    }
}
