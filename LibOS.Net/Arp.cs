namespace Aegis.LibOS.Net
{
    public enum ArpEntryState : byte { Free, Incomplete, Resolved, Static }

    /// <summary>ARP (RFC 826) for one stack: the neighbour cache, resolution with retries, the
    /// answer to requests for our address (when the stack <see cref="NetStack.AnswersArpAndPing"/>),
    /// gratuitous announcements, and a bounded queue of frames waiting for a resolution.
    ///
    /// Bounds (all preallocated in the constructor): <see cref="NetStackOptions.ArpCacheEntries"/>
    /// entries (a full cache evicts the entry that expires first, never a static one), and
    /// <see cref="NetStackOptions.ArpQueueFrames"/> waiting frames over all destinations (a full
    /// queue drops its oldest frame). A resolved entry lives
    /// <see cref="NetStackOptions.ArpLifetimeMicros"/>; when it is used in its last
    /// <see cref="NetStackOptions.ArpRefreshMicros"/> a request is sent ahead while the old
    /// mapping stays in use. An unanswered resolution sends
    /// <see cref="NetStackOptions.ArpRequests"/> requests <see cref="NetStackOptions.ArpRetryMicros"/>
    /// apart, then drops its waiting frames.</summary>
    public sealed class Arp
    {
        public const int PacketLength = 28;
        public const ushort OpRequest = 1, OpReply = 2;

        private struct Entry
        {
            public Ipv4Address Ip;
            public MacAddress Mac;
            public ArpEntryState State;
            public long Expires;      // Resolved: when it is removed
            public long NextRequest;  // Incomplete: next retry; Resolved: earliest refresh request
            public int RequestsLeft;  // Incomplete
        }

        private readonly NetStack _stack;
        private readonly NetStackOptions _options;
        private readonly NetCounters _counters;
        private readonly Entry[] _entries;
        private readonly byte[][] _queued;
        private readonly int[] _queuedLength;
        private readonly Ipv4Address[] _queuedHop;
        private readonly long[] _queuedOrder;
        private long _order;
        /// <summary>NextDeadline as last computed; recomputed when an entry's state or times
        /// changed since (the stack asks after every call and frame: 32 entries each time cost
        /// nginx's requests ~3% of their instructions).</summary>
        private long _deadline;
        private bool _deadlineValid;
        private readonly byte[] _frame = new byte[Ethernet.MinimumFrame];

        internal Arp(NetStack stack, NetStackOptions options, NetCounters counters)
        {
            _stack = stack;
            _options = options;
            _counters = counters;
            _entries = new Entry[options.ArpCacheEntries];
            int q = options.ArpQueueFrames;
            _queued = new byte[q][];
            for (int i = 0; i < q; i++) _queued[i] = new byte[Ethernet.MaximumFrame];
            _queuedLength = new int[q];
            _queuedHop = new Ipv4Address[q];
            _queuedOrder = new long[q];
        }

        /// <summary>Frames waiting for a resolution now.</summary>
        public int QueuedFrames
        {
            get
            {
                int n = 0;
                for (int i = 0; i < _queuedLength.Length; i++) if (_queuedLength[i] != 0) n++;
                return n;
            }
        }

        /// <summary>The MAC of a resolved or static neighbour.</summary>
        public bool TryLookup(Ipv4Address ip, out MacAddress mac)
        {
            int i = Find(ip);
            if (i >= 0 && (_entries[i].State == ArpEntryState.Resolved || _entries[i].State == ArpEntryState.Static))
            {
                mac = _entries[i].Mac;
                return true;
            }
            mac = MacAddress.Zero;
            return false;
        }

        public ArpEntryState StateOf(Ipv4Address ip)
        {
            int i = Find(ip);
            return i < 0 ? ArpEntryState.Free : _entries[i].State;
        }

        /// <summary>A mapping that never expires and that received ARP does not change (for a
        /// libOS that does not own the machine's ARP frames, or a fixed gateway).</summary>
        public void AddStatic(Ipv4Address ip, MacAddress mac)
        {
            int i = Find(ip);
            if (i < 0) i = Allocate(0);
            _entries[i].Ip = ip;
            _entries[i].Mac = mac;
            _entries[i].State = ArpEntryState.Static;
            _deadlineValid = false;
            FlushQueued(ip, mac);
        }

        /// <summary>Forgets one mapping (static or learned).</summary>
        public void Remove(Ipv4Address ip)
        {
            int i = Find(ip);
            if (i >= 0) _entries[i].State = ArpEntryState.Free;
            _deadlineValid = false;
        }

        /// <summary>Forgets every learned (non-static) mapping and drops waiting frames.</summary>
        public void Flush()
        {
            for (int i = 0; i < _entries.Length; i++)
                if (_entries[i].State != ArpEntryState.Static) _entries[i].State = ArpEntryState.Free;
            _deadlineValid = false;
            for (int i = 0; i < _queuedLength.Length; i++) _queuedLength[i] = 0;
        }

        private int Find(Ipv4Address ip)
        {
            for (int i = 0; i < _entries.Length; i++)
                if (_entries[i].State != ArpEntryState.Free && _entries[i].Ip == ip) return i;
            return -1;
        }

        private int Allocate(long now)
        {
            int victim = -1;
            for (int i = 0; i < _entries.Length; i++)
            {
                if (_entries[i].State == ArpEntryState.Free) return i;
                if (_entries[i].State == ArpEntryState.Static) continue;
                if (victim < 0 || Soonest(i) < Soonest(victim)) victim = i;
            }
            if (victim < 0) victim = 0; // every entry static: the first static one goes
            DropQueuedFor(_entries[victim].Ip);
            _entries[victim].State = ArpEntryState.Free;
            _deadlineValid = false;
            _counters.ArpCacheEvictions++;
            return victim;
        }

        private long Soonest(int i) =>
            _entries[i].State == ArpEntryState.Incomplete ? _entries[i].NextRequest : _entries[i].Expires;

        /// <summary>The next hop's MAC when known (a request is sent ahead when the mapping is
        /// about to expire). Otherwise starts a resolution, if none is running, and returns false.</summary>
        internal bool Resolve(Ipv4Address hop, long now, out MacAddress mac)
        {
            int i = Find(hop);
            if (i >= 0)
            {
                ref Entry e = ref _entries[i];
                if (e.State == ArpEntryState.Static) { mac = e.Mac; return true; }
                if (e.State == ArpEntryState.Resolved && e.Expires > now)
                {
                    if (e.Expires - now <= _options.ArpRefreshMicros && now >= e.NextRequest)
                    {
                        e.NextRequest = now + _options.ArpRetryMicros;
                        SendRequest(hop);
                    }
                    mac = e.Mac;
                    return true;
                }
                if (e.State == ArpEntryState.Incomplete) { mac = MacAddress.Zero; return false; }
            }
            else i = Allocate(now);
            _entries[i].Ip = hop;
            _entries[i].Mac = MacAddress.Zero;
            _entries[i].State = ArpEntryState.Incomplete;
            _entries[i].RequestsLeft = _options.ArpRequests - 1;
            _entries[i].NextRequest = now + _options.ArpRetryMicros;
            _deadlineValid = false;
            SendRequest(hop);
            mac = MacAddress.Zero;
            return false;
        }

        /// <summary>Keeps a frame (its Ethernet destination not yet written) until
        /// <paramref name="hop"/> resolves; a full queue drops its oldest frame.</summary>
        internal void Enqueue(Ipv4Address hop, System.ReadOnlySpan<byte> frame)
        {
            int slot = -1;
            for (int i = 0; i < _queuedLength.Length; i++)
            {
                if (_queuedLength[i] == 0) { slot = i; break; }
                if (slot < 0 || _queuedOrder[i] < _queuedOrder[slot]) slot = i;
            }
            if (slot < 0) { _counters.ArpQueueOverflow++; return; }
            if (_queuedLength[slot] != 0) _counters.ArpQueueOverflow++;
            frame.CopyTo(_queued[slot]);
            _queuedLength[slot] = frame.Length;
            _queuedHop[slot] = hop;
            _queuedOrder[slot] = ++_order;
            _counters.ArpQueued++;
        }

        private void DropQueuedFor(Ipv4Address hop)
        {
            for (int i = 0; i < _queuedLength.Length; i++)
                if (_queuedLength[i] != 0 && _queuedHop[i] == hop)
                {
                    _queuedLength[i] = 0;
                    _counters.ArpQueuedDroppedUnresolved++;
                }
        }

        private void FlushQueued(Ipv4Address hop, MacAddress mac)
        {
            while (true)
            {
                int next = -1;
                for (int i = 0; i < _queuedLength.Length; i++)
                    if (_queuedLength[i] != 0 && _queuedHop[i] == hop && (next < 0 || _queuedOrder[i] < _queuedOrder[next]))
                        next = i;
                if (next < 0) return;
                byte[] f = _queued[next];
                int length = _queuedLength[next];
                _queuedLength[next] = 0;
                mac.Write(f, 0);
                _stack.SendFrame(new System.ReadOnlySpan<byte>(f, 0, length));
            }
        }

        internal void Poll(long now)
        {
            // Nothing is due before the earliest deadline (kept while no entry changes): the
            // stack polls after every batch of frames, and 32 entries twice a poll cost the file
            // server's nginx requests ~1,000 instructions each.
            if (now < NextDeadline) return;
            _deadlineValid = false;
            for (int i = 0; i < _entries.Length; i++)
            {
                ref Entry e = ref _entries[i];
                if (e.State == ArpEntryState.Resolved && now >= e.Expires) e.State = ArpEntryState.Free;
                else if (e.State == ArpEntryState.Incomplete && now >= e.NextRequest)
                {
                    if (e.RequestsLeft <= 0)
                    {
                        e.State = ArpEntryState.Free;
                        _counters.ArpResolutionFailures++;
                        DropQueuedFor(e.Ip);
                    }
                    else
                    {
                        e.RequestsLeft--;
                        e.NextRequest = now + _options.ArpRetryMicros;
                        SendRequest(e.Ip);
                    }
                }
            }
        }

        internal long NextDeadline
        {
            get
            {
                if (_deadlineValid) return _deadline;
                long d = long.MaxValue;
                for (int i = 0; i < _entries.Length; i++)
                {
                    if (_entries[i].State == ArpEntryState.Resolved && _entries[i].Expires < d) d = _entries[i].Expires;
                    else if (_entries[i].State == ArpEntryState.Incomplete && _entries[i].NextRequest < d) d = _entries[i].NextRequest;
                }
                _deadline = d;
                _deadlineValid = true;
                return d;
            }
        }

        /// <summary>One received ARP packet (the bytes after the Ethernet header), following
        /// RFC 826's reception algorithm: refresh the sender if known ("merge"); if the target
        /// is our address, learn the sender and, for a request, answer.</summary>
        internal void Receive(System.ReadOnlySpan<byte> p, long now)
        {
            _counters.ArpReceived++;
            if (p.Length < PacketLength || Wire.U16(p, 0) != 1 || Wire.U16(p, 2) != Ethernet.TypeIpv4 ||
                p[4] != 6 || p[5] != 4)
            {
                _counters.ArpMalformed++;
                return;
            }
            ushort op = Wire.U16(p, 6);
            var senderMac = MacAddress.Read(p, 8);
            var senderIp = Ipv4Address.Read(p, 14);
            var targetIp = Ipv4Address.Read(p, 24);
            if ((op != OpRequest && op != OpReply) || senderMac.IsMulticast || senderMac == MacAddress.Zero ||
                senderIp.IsBroadcast || senderIp.IsMulticast)
            {
                _counters.ArpMalformed++;
                return;
            }
            if (senderMac == _stack.Mac) { _counters.ArpIgnored++; return; }
            Ipv4Address us = _stack.Address;
            bool configured = !us.IsAny;
            if (configured && senderIp == us)
            {
                // Someone else claims our address (RFC 5227 conflict): never learn it.
                _counters.ArpAddressConflicts++;
                return;
            }

            bool merged = false;
            if (!senderIp.IsAny)
            {
                int i = Find(senderIp);
                if (i >= 0 && _entries[i].State != ArpEntryState.Static)
                {
                    Learn(i, senderIp, senderMac, now);
                    merged = true;
                }
            }
            bool forUs = configured && targetIp == us;
            if (!forUs)
            {
                if (!merged) _counters.ArpIgnored++;
                return;
            }
            if (!merged && !senderIp.IsAny && Find(senderIp) < 0) Learn(Allocate(now), senderIp, senderMac, now);
            if (op == OpRequest && _stack.AnswersArpAndPing)
            {
                Build(OpReply, senderMac, us, senderMac, senderIp);
                _counters.ArpRepliesSent++;
            }
        }

        private void Learn(int i, Ipv4Address ip, MacAddress mac, long now)
        {
            bool wasIncomplete = _entries[i].State == ArpEntryState.Incomplete;
            _entries[i].Ip = ip;
            _entries[i].Mac = mac;
            _entries[i].State = ArpEntryState.Resolved;
            _entries[i].Expires = now + _options.ArpLifetimeMicros;
            _entries[i].NextRequest = now;
            _deadlineValid = false;
            if (wasIncomplete || QueuedFrames != 0) FlushQueued(ip, mac);
        }

        internal void SendRequest(Ipv4Address target)
        {
            Build(OpRequest, MacAddress.Broadcast, _stack.Address, MacAddress.Zero, target);
            _counters.ArpRequestsSent++;
        }

        /// <summary>A gratuitous ARP: a broadcast request from and for our own address, so that
        /// neighbours update their caches (RFC 5227's announcement).</summary>
        internal void Announce()
        {
            Ipv4Address us = _stack.Address;
            if (us.IsAny) return;
            Build(OpRequest, MacAddress.Broadcast, us, MacAddress.Zero, us);
            _counters.ArpAnnouncementsSent++;
        }

        private void Build(ushort op, MacAddress ethernetDestination, Ipv4Address senderIp, MacAddress targetMac, Ipv4Address targetIp)
        {
            var f = new System.Span<byte>(_frame);
            f.Clear();
            Ethernet.WriteHeader(f, ethernetDestination, _stack.Mac, Ethernet.TypeArp);
            var p = f.Slice(Ethernet.HeaderLength);
            Wire.Put16(p, 0, 1);
            Wire.Put16(p, 2, Ethernet.TypeIpv4);
            p[4] = 6;
            p[5] = 4;
            Wire.Put16(p, 6, op);
            _stack.Mac.Write(p, 8);
            senderIp.Write(p, 14);
            targetMac.Write(p, 18);
            targetIp.Write(p, 24);
            _stack.SendFrame(f);
        }
    }
}
