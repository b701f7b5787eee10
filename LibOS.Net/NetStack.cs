namespace Aegis.LibOS.Net
{
    /// <summary>One libOS's network stack on one Ethernet interface: Ethernet, ARP, IPv4 (with
    /// reassembly), and the transports registered by protocol number (ICMP and UDP built in,
    /// TCP registered by its owner).
    ///
    /// The libOS feeds every frame its packet filters claimed to <see cref="Receive"/>, calls
    /// <see cref="Poll"/> at <see cref="NextDeadlineMicros"/> (or sooner), and sends through
    /// the <see cref="IFrameLink"/> it gave the constructor. Time is always the caller's
    /// microsecond clock; the stack keeps the latest value it was given for work that starts
    /// inside <see cref="Send"/> (ARP retries). Nothing here blocks, allocates per packet on the
    /// receive path, or throws for malformed input: bad frames are counted in
    /// <see cref="Counters"/> and dropped.</summary>
    public sealed class NetStack : IIpv4Output
    {
        private readonly IFrameLink _link;
        private readonly NetStackOptions _options;
        private readonly ITransport[] _transports = new ITransport[256];
        private readonly IIcmpErrorReceiver[] _errorReceivers = new IIcmpErrorReceiver[256];
        private readonly System.Collections.Generic.List<INetTimer> _timers = new System.Collections.Generic.List<INetTimer>();
        private readonly byte[] _tx = new byte[Ethernet.MaximumFrame];
        private readonly byte[] _currentHeader = new byte[Ipv4.MaximumHeaderLength];
        private int _currentHeaderLength;
        private readonly Ipv4Address[] _dns = new Ipv4Address[3];
        private int _dnsCount;
        private ushort _identification;
        private long _now;
        private int _announcementsLeft;
        private long _nextAnnouncement = long.MaxValue;

        public readonly NetCounters Counters = new NetCounters();
        public readonly NetRandom Random;
        public readonly Arp Arp;
        public readonly Ipv4Reassembler Reassembly;
        public readonly IcmpTransport Icmp;
        public readonly UdpTransport Udp;

        public NetStack(MacAddress mac, IFrameLink link, NetStackOptions options = null)
        {
            _options = options ?? new NetStackOptions();
            Mac = mac;
            _link = link;
            AnswersArpAndPing = _options.AnswersArpAndPing;
            SendsIcmpErrors = _options.SendsIcmpErrors;
            Random = new NetRandom(_options.RandomSeed ^ mac.Value);
            _identification = (ushort)Random.Next32();
            Arp = new Arp(this, _options, Counters);
            Reassembly = new Ipv4Reassembler(_options, Counters);
            Icmp = new IcmpTransport(this, _options);
            Udp = new UdpTransport(this, _options);
            Register(Icmp);
            Register(Udp);
        }

        public MacAddress Mac { get; }
        public NetStackOptions Options => _options;

        /// <summary>Whether this stack answers ARP requests and ICMP echo requests for its
        /// address (default true; see docs/network.md).</summary>
        public bool AnswersArpAndPing { get; set; }
        public bool SendsIcmpErrors { get; set; }

        public Ipv4Address Address { get; private set; }
        public Ipv4Address SubnetMask { get; private set; }
        public Ipv4Address Gateway { get; private set; }
        public bool IsConfigured => !Address.IsAny;
        /// <summary>Bumped by every <see cref="Configure"/> and <see cref="Deconfigure"/>.</summary>
        public int ConfigurationVersion { get; private set; }

        /// <summary>The subnet's directed broadcast address (Any when unconfigured).</summary>
        public Ipv4Address SubnetBroadcast =>
            IsConfigured ? new Ipv4Address(Address.Value | ~SubnetMask.Value) : Ipv4Address.Any;

        /// <summary>The latest time the stack was given (Receive or Poll).</summary>
        public long NowMicros => _now;

        /// <summary>Gives the interface an address. A gateway of Any means no default route
        /// (only the subnet is reachable). Announces the address with gratuitous ARP.</summary>
        public void Configure(Ipv4Address address, Ipv4Address mask, Ipv4Address gateway, long nowMicros)
        {
            _now = nowMicros;
            bool changed = address != Address;
            Address = address;
            SubnetMask = mask;
            Gateway = gateway;
            ConfigurationVersion++;
            if (changed && !address.IsAny && _options.ArpAnnouncements > 0)
            {
                Arp.Announce();
                _announcementsLeft = _options.ArpAnnouncements - 1;
                _nextAnnouncement = _announcementsLeft > 0 ? nowMicros + _options.ArpAnnounceIntervalMicros : long.MaxValue;
            }
        }

        /// <summary>Forgets the address (lease lost): only broadcasts can be sent.</summary>
        public void Deconfigure()
        {
            Address = Ipv4Address.Any;
            SubnetMask = Ipv4Address.Any;
            Gateway = Ipv4Address.Any;
            _announcementsLeft = 0;
            _nextAnnouncement = long.MaxValue;
            ConfigurationVersion++;
        }

        public int DnsServerCount => _dnsCount;
        public Ipv4Address DnsServer(int i) => _dns[i];

        /// <summary>Sets the resolvers' servers (at most 3 kept).</summary>
        public void SetDnsServers(System.ReadOnlySpan<Ipv4Address> servers)
        {
            _dnsCount = 0;
            for (int i = 0; i < servers.Length && _dnsCount < _dns.Length; i++)
                if (!servers[i].IsAny) _dns[_dnsCount++] = servers[i];
        }

        /// <summary>Hands datagrams of <see cref="ITransport.Protocol"/> to
        /// <paramref name="transport"/> (replacing any earlier one). If it also implements
        /// <see cref="IIcmpErrorReceiver"/>, ICMP errors about that protocol go to it.</summary>
        public void Register(ITransport transport)
        {
            byte p = transport.Protocol;
            _transports[p] = transport;
            _errorReceivers[p] = transport as IIcmpErrorReceiver;
        }

        public void Unregister(byte protocol)
        {
            _transports[protocol] = null;
            _errorReceivers[protocol] = null;
        }

        public ITransport TransportFor(byte protocol) => _transports[protocol];

        public void SetIcmpErrorReceiver(byte protocol, IIcmpErrorReceiver receiver) => _errorReceivers[protocol] = receiver;

        internal IIcmpErrorReceiver IcmpErrorReceiverFor(byte protocol) => _errorReceivers[protocol];

        public void AddTimer(INetTimer timer)
        {
            if (!_timers.Contains(timer)) _timers.Add(timer);
        }

        public void RemoveTimer(INetTimer timer) => _timers.Remove(timer);

        // ---- receive ----

        /// <summary>One received frame of a batch, with the frame that came right after it in the
        /// same batch (empty for the last): a frame the next one supersedes (a pure TCP ACK the
        /// next ACK covers: docs/network.md, "Merged ACKs") is counted and not delivered.</summary>
        public void Receive(System.ReadOnlySpan<byte> frame, long nowMicros, System.ReadOnlySpan<byte> next)
        {
            if (next.Length != 0 && Superseded(frame, next))
            {
                Counters.FramesReceived++;
                Counters.Superseded++;
                return;
            }
            Receive(frame, nowMicros);
        }

        private const int PlainIpv4Frame = Ethernet.HeaderLength + Ipv4.HeaderLength; // no IPv4 options

        /// <summary>Both frames IPv4 without options or fragmentation, the same Ethernet header,
        /// the same IPv4 header but for identification and checksum (so the same acceptance), the
        /// later one's header valid, and the transport says the later payload covers the earlier.</summary>
        private bool Superseded(System.ReadOnlySpan<byte> a, System.ReadOnlySpan<byte> b)
        {
            if (a.Length < PlainIpv4Frame || b.Length < PlainIpv4Frame) return false;
            if (Wire.U32(a, 0) != Wire.U32(b, 0) || Wire.U32(a, 4) != Wire.U32(b, 4) || Wire.U32(a, 8) != Wire.U32(b, 8)
                || Wire.U16(a, 12) != Ethernet.TypeIpv4 || Wire.U16(b, 12) != Ethernet.TypeIpv4) return false;
            // Version 4, 20-byte header, TOS, total length: equal; flags and offset: equal, at most DF;
            // TTL and protocol: equal; addresses: equal.
            if (Wire.U32(a, 14) != Wire.U32(b, 14) || a[14] != 0x45 || Wire.U16(a, 20) != Wire.U16(b, 20)
                || (Wire.U16(a, 20) & ~Ipv4.FlagDontFragment) != 0 || Wire.U16(a, 22) != Wire.U16(b, 22)
                || Wire.U32(a, 26) != Wire.U32(b, 26) || Wire.U32(a, 30) != Wire.U32(b, 30)) return false;
            if (!(_transports[a[23]] is ISupersedingTransport t)) return false;
            System.ReadOnlySpan<byte> ipB = b.Slice(Ethernet.HeaderLength);
            if (Ipv4.Check(ipB) != Ipv4HeaderCheck.Ok) return false;
            int total = Ipv4.TotalLength(ipB);
            System.ReadOnlySpan<byte> ipA = a.Slice(Ethernet.HeaderLength);
            if (total > ipA.Length) return false;
            return t.Supersedes(Ipv4.Source(ipB), Ipv4.Destination(ipB), ipA.Slice(Ipv4.HeaderLength, total - Ipv4.HeaderLength),
                ipB.Slice(Ipv4.HeaderLength, total - Ipv4.HeaderLength));
        }

        /// <summary>One received frame (destination MAC first, no FCS); the span is not kept.</summary>
        public void Receive(System.ReadOnlySpan<byte> frame, long nowMicros)
        {
            _now = nowMicros;
            Counters.FramesReceived++;
            if (frame.Length < Ethernet.HeaderLength) { Counters.DropShortFrame++; return; }
            var destination = Ethernet.Destination(frame);
            bool linkBroadcast = destination.IsBroadcast;
            if (destination != Mac && !linkBroadcast) { Counters.DropNotOurMac++; return; }
            ushort type = Ethernet.EtherType(frame);
            var payload = frame.Slice(Ethernet.HeaderLength);
            if (type == Ethernet.TypeIpv4)
            {
                if (LearnsFromFrames) Learn(frame, payload);
                ReceiveIpv4(payload, linkBroadcast, nowMicros);
            }
            else if (type == Ethernet.TypeArp) Arp.Receive(payload, nowMicros);
            else if (type == Ethernet.TypeVlan || type == Ethernet.TypeQinQ) Counters.DropVlanTagged++;
            else Counters.DropUnknownEtherType++;
        }

        /// <summary>A stack that gets no ARP (a process running a lent listener: the machine's ARP is
        /// the file server's) learns an on-link peer's MAC from its IPv4 frames, once; frames
        /// reach it only through filters the kernel checked.</summary>
        public bool LearnsFromFrames { get; set; }

        private void Learn(System.ReadOnlySpan<byte> frame, System.ReadOnlySpan<byte> ip)
        {
            if (!IsConfigured || ip.Length < 20) return;
            Ipv4Address source = Ipv4.Source(ip);
            if (((source.Value ^ Address.Value) & SubnetMask.Value) != 0 || source == Address || source == SubnetBroadcast) return;
            MacAddress mac = Ethernet.Source(frame);
            if (mac.IsBroadcast || mac.IsMulticast || Arp.TryLookup(source, out _)) return;
            Arp.AddStatic(source, mac);
        }

        private void ReceiveIpv4(System.ReadOnlySpan<byte> d, bool linkBroadcast, long now)
        {
            Counters.Ipv4Received++;
            switch (Ipv4.Check(d))
            {
                case Ipv4HeaderCheck.Ok: break;
                case Ipv4HeaderCheck.TooShort: Counters.Ipv4DropTooShort++; return;
                case Ipv4HeaderCheck.BadVersion: Counters.Ipv4DropBadVersion++; return;
                case Ipv4HeaderCheck.BadHeaderLength: Counters.Ipv4DropBadHeaderLength++; return;
                case Ipv4HeaderCheck.BadTotalLength: Counters.Ipv4DropBadTotalLength++; return;
                default: Counters.Ipv4DropBadChecksum++; return;
            }
            d = d.Slice(0, Ipv4.TotalLength(d));
            int flags = Ipv4.FlagsAndOffset(d);
            if ((flags & Ipv4.FlagReserved) != 0) { Counters.Ipv4DropReservedFlag++; return; }
            var source = Ipv4.Source(d);
            var destination = Ipv4.Destination(d);
            if (source.IsBroadcast || source.IsMulticast || source.IsLoopback || (IsConfigured && source == Address) ||
                (IsConfigured && source == SubnetBroadcast))
            {
                Counters.Ipv4DropBadSource++;
                return;
            }
            if (!Accepts(destination, linkBroadcast)) { Counters.Ipv4DropNotForUs++; return; }
            int ihl = Ipv4.HeaderBytes(d);
            if ((flags & (Ipv4.FlagMoreFragments | Ipv4.OffsetMask)) != 0)
            {
                if (Reassembly.Add(d.Slice(0, ihl), d.Slice(ihl), now, out int slot))
                {
                    Deliver(Reassembly.Header(slot), Reassembly.Payload(slot), now);
                    Reassembly.Release(slot);
                }
                return;
            }
            Deliver(d.Slice(0, ihl), d.Slice(ihl), now);
        }

        private bool Accepts(Ipv4Address destination, bool linkBroadcast)
        {
            if (destination.IsMulticast) return false;
            if (destination.IsBroadcast) return true;
            if (!IsConfigured) return !destination.IsAny; // booting: DHCP may unicast to the offered address
            if (destination == SubnetBroadcast) return true;
            // RFC 1122 3.3.6: a unicast datagram that came as a link-layer broadcast is discarded.
            return destination == Address && !linkBroadcast;
        }

        private void Deliver(System.ReadOnlySpan<byte> header, System.ReadOnlySpan<byte> payload, long now)
        {
            header.CopyTo(_currentHeader);
            _currentHeaderLength = header.Length;
            byte protocol = Ipv4.Protocol(header);
            ITransport t = _transports[protocol];
            if (t == null)
            {
                Counters.Ipv4DropNoTransport++;
                SendDestinationUnreachable(IcmpTransport.CodeProtocolUnreachable, payload);
            }
            else
            {
                Counters.Ipv4Delivered++;
                t.Receive(Ipv4.Source(header), Ipv4.Destination(header), payload, now);
            }
            _currentHeaderLength = 0;
        }

        /// <summary>During a transport's <see cref="ITransport.Receive"/> only: answers the
        /// datagram being delivered with ICMP destination unreachable (code 2 protocol, 3 port),
        /// unless the stack does not send ICMP errors or the datagram was a broadcast.
        /// <paramref name="payload"/> is the payload the transport was given.</summary>
        public void SendDestinationUnreachable(byte code, System.ReadOnlySpan<byte> payload)
        {
            if (!SendsIcmpErrors || _currentHeaderLength == 0) return;
            var header = new System.ReadOnlySpan<byte>(_currentHeader, 0, _currentHeaderLength);
            var destination = Ipv4.Destination(header);
            if (destination != Address) return;
            Icmp.SendError(IcmpTransport.TypeDestinationUnreachable, code, 0, header, payload);
        }

        // ---- send ----

        public Ipv4Address SourceFor(Ipv4Address destination)
        {
            if (destination.IsLoopback) return LoopbackAddress;
            if (!IsConfigured) return Ipv4Address.Any;
            if (destination.IsBroadcast || destination.IsMulticast || destination.SameSubnet(Address, SubnetMask)) return Address;
            return Gateway.IsAny ? Ipv4Address.Any : Address;
        }

        /// <summary>The largest payload one frame carries (a transport's segment size: TCP's MSS).</summary>
        public int MaxPayload(Ipv4Address destination) => Ipv4.MaximumPayload;

        /// <summary>Sends one datagram of up to <see cref="Ipv4.MaximumDatagramPayload"/> bytes. One
        /// that fits a frame (<see cref="MaxPayload"/>) goes whole with DF set; a larger one goes in
        /// fragments (DF clear, one identification, offsets in 8-byte units), as Linux sends a
        /// large UDP datagram. Returns true when it went to the link or waits in ARP's queue.</summary>
        public bool Send(Ipv4Address destination, byte protocol, System.ReadOnlySpan<byte> payload)
        {
            if (payload.Length > Ipv4.MaximumDatagramPayload) { Counters.Ipv4SendTooBig++; return false; }
            MacAddress mac;
            Ipv4Address hop = Ipv4Address.Any;
            bool resolved = true;
            if (destination.IsLoopback || (IsConfigured && destination == Address)) return Loop(destination, protocol, payload);
            if (destination.IsBroadcast || (IsConfigured && destination == SubnetBroadcast)) mac = MacAddress.Broadcast;
            else if (destination.IsMulticast) mac = Ethernet.MulticastMac(destination);
            else if (!IsConfigured) { Counters.Ipv4SendUnconfigured++; return false; }
            else
            {
                if (destination.IsAny) { Counters.Ipv4SendNoRoute++; return false; }
                hop = destination.SameSubnet(Address, SubnetMask) ? destination : Gateway;
                if (hop.IsAny) { Counters.Ipv4SendNoRoute++; return false; }
                resolved = Arp.Resolve(hop, _now, out mac);
            }

            Counters.Ipv4Sent++;
            ushort identification = _identification++;
            if (payload.Length <= Ipv4.MaximumPayload)
                return SendFrame(mac, hop, resolved, payload, identification, Ipv4.FlagDontFragment, protocol, destination);
            Counters.Ipv4Fragmented++;
            const int Piece = Ipv4.MaximumPayload & ~7; // every fragment but the last: a multiple of 8 bytes
            for (int offset = 0; offset < payload.Length; offset += Piece)
            {
                int length = payload.Length - offset < Piece ? payload.Length - offset : Piece;
                int flags = (offset + length < payload.Length ? Ipv4.FlagMoreFragments : 0) | offset / 8;
                Counters.FragmentsSent++;
                if (!SendFrame(mac, hop, resolved, payload.Slice(offset, length), identification, flags, protocol, destination)) return false;
            }
            return true;
        }

        /// <summary>One frame of a datagram (the whole of it, or a fragment): to the link, or to
        /// ARP's queue while the next hop is unresolved.</summary>
        private bool SendFrame(MacAddress mac, Ipv4Address hop, bool resolved, System.ReadOnlySpan<byte> payload,
                               ushort identification, int flagsAndOffset, byte protocol, Ipv4Address destination)
        {
            var f = new System.Span<byte>(_tx);
            Ethernet.WriteHeader(f, mac, Mac, Ethernet.TypeIpv4);
            Ipv4.WriteHeader(f.Slice(Ethernet.HeaderLength), payload.Length, identification, flagsAndOffset, _options.Ttl,
                protocol, IsConfigured ? Address : Ipv4Address.Any, destination);
            int at = Ethernet.HeaderLength + Ipv4.HeaderLength;
            payload.CopyTo(f.Slice(at));
            int length = at + payload.Length;
            if (length < Ethernet.MinimumFrame)
            {
                f.Slice(length, Ethernet.MinimumFrame - length).Clear();
                length = Ethernet.MinimumFrame;
            }
            if (!resolved)
            {
                Arp.Enqueue(hop, f.Slice(0, length));
                return true;
            }
            if (SendFrame(f.Slice(0, length))) return true;
            Counters.Ipv4SendLinkFailed++;
            return false;
        }

        // ---- loopback: datagrams to 127.0.0.0/8 or to our own address ----
        // They never reach the link: each is queued (LoopbackSlots at most, else dropped and
        // counted) and delivered by the next Poll, which NextDeadlineMicros makes due at once. A
        // datagram sent while the queue is delivered waits for the following Poll, so a loop of
        // answers cannot recurse. The source is 127.0.0.1 for 127.0.0.0/8 (SourceFor), else ours.
        // As Linux's lo (MTU 65,536) nothing is fragmented: a slot holds a frame's datagram, and one
        // for a larger datagram is made for it and dropped once delivered.

        public static readonly Ipv4Address LoopbackAddress = new Ipv4Address(127, 0, 0, 1);
        public const int LoopbackSlots = 64;
        private byte[][] _loop;
        private int _loopHead, _loopCount;

        /// <summary>Datagrams waiting for loopback delivery.</summary>
        public int LoopbackQueued => _loopCount;

        private bool Loop(Ipv4Address destination, byte protocol, System.ReadOnlySpan<byte> payload)
        {
            if (_loopCount == LoopbackSlots) { Counters.Ipv4SendToSelf++; return false; }
            if (_loop == null) _loop = new byte[LoopbackSlots][];
            int index = (_loopHead + _loopCount) % LoopbackSlots;
            byte[] slot = _loop[index];
            if (slot == null || slot.Length < Ipv4.HeaderLength + payload.Length)
                _loop[index] = slot = new byte[Ipv4.HeaderLength + (payload.Length > Ipv4.MaximumPayload ? payload.Length : Ipv4.MaximumPayload)];
            var d = new System.Span<byte>(slot);
            Ipv4.WriteHeader(d, payload.Length, _identification++, true, _options.Ttl, protocol,
                destination.IsLoopback ? LoopbackAddress : Address, destination);
            payload.CopyTo(d.Slice(Ipv4.HeaderLength));
            _loopCount++;
            Counters.Ipv4Sent++;
            Counters.LoopbackSent++;
            return true;
        }

        private void DeliverLoopback(long now)
        {
            for (int n = _loopCount; n > 0; n--)
            {
                byte[] slot = _loop[_loopHead];
                if (slot.Length > Ipv4.HeaderLength + Ipv4.MaximumPayload) _loop[_loopHead] = null; // a large datagram's own slot
                _loopHead = (_loopHead + 1) % LoopbackSlots;
                _loopCount--;
                var d = new System.ReadOnlySpan<byte>(slot);
                int length = Ipv4.TotalLength(d);
                Counters.Ipv4Received++;
                Deliver(d.Slice(0, Ipv4.HeaderLength), d.Slice(Ipv4.HeaderLength, length - Ipv4.HeaderLength), now);
            }
        }

        // ---- large TCP segments (TCP segmentation offload)
        // TCP hands over one segment with more payload than the path's MSS; the card cuts it
        // (IFrameLink.TrySendSegmented: one frame, one send call, one copy) when the link can and
        // the next hop is resolved, else the stack cuts it here into ordinary segments. Either way
        // the wire sees the same segments: the headers copied in front of each piece, the sequence
        // number moved on by the bytes before it, PSH and FIN on the last only, IP identifications
        // in a row.

        /// <summary>The most TCP payload one SendTcpSegmented may carry behind headers of
        /// headerBytes (IP's 20 and TCP's own): what the link takes, within one IPv4 datagram;
        /// 0 when the link cannot cut segments.</summary>
        public int SegmentedPayloadLimit(int tcpHeaderBytes)
        {
            int frame = _link.SegmentedFrameBytes;
            if (frame <= 0) return 0;
            int limit = frame - Ethernet.HeaderLength - Ipv4.HeaderLength - tcpHeaderBytes;
            int datagram = 65_535 - Ipv4.HeaderLength - tcpHeaderBytes;
            return limit < datagram ? limit : datagram;
        }

        private byte[] _txLarge;
        /// <summary>Where TcpSegmentedRoom last put a segment: the frame around it (the link's buffer,
        /// or _txLarge), so that SendTcpSegmented finds it built in place.</summary>
        private System.Span<byte> LargeFrame(int length)
        {
            System.Span<byte> link = _link.SegmentedBuffer();
            if (link.Length >= length) return link.Slice(0, length);
            if (_txLarge == null) _txLarge = new byte[Ethernet.HeaderLength + 65_535];
            return new System.Span<byte>(_txLarge, 0, length);
        }

        private const int LargeFrameHeaders = 14 + 20; // Ethernet and IPv4 (no options) in front of the segment

        public System.Span<byte> TcpSegmentedRoom(int length)
        {
            if (_link.SegmentedFrameBytes <= 0 || LargeFrameHeaders + length > _link.SegmentedFrameBytes) return default;
            return LargeFrame(LargeFrameHeaders + length).Slice(LargeFrameHeaders);
        }

        /// <summary>Sends 'segment' (a TCP header of tcpHeaderBytes with its fields final except the
        /// checksum, then the payload) as segments of segmentSize payload bytes each.</summary>
        public bool SendTcpSegmented(Ipv4Address destination, System.ReadOnlySpan<byte> segment, int tcpHeaderBytes, int segmentSize)
        {
            int payload = segment.Length - tcpHeaderBytes;
            if (payload <= segmentSize || payload > SegmentedPayloadLimit(tcpHeaderBytes) || segmentSize < 536 || !IsConfigured
                || destination.IsLoopback || destination == Address || destination.IsBroadcast || destination.IsMulticast || destination == SubnetBroadcast)
                return CutTcpSegment(destination, segment, tcpHeaderBytes, segmentSize);
            Ipv4Address hop = destination.SameSubnet(Address, SubnetMask) ? destination : Gateway;
            if (hop.IsAny || !Arp.Resolve(hop, _now, out MacAddress mac))
                return CutTcpSegment(destination, segment, tcpHeaderBytes, segmentSize); // ARP queues each piece
            int pieces = (payload + segmentSize - 1) / segmentSize;
            System.Span<byte> f = LargeFrame(LargeFrameHeaders + segment.Length);
            Ethernet.WriteHeader(f, mac, Mac, Ethernet.TypeIpv4);
            System.Span<byte> ip = f.Slice(Ethernet.HeaderLength);
            ushort identification = _identification;
            _identification += (ushort)pieces; // the card numbers the pieces from the first's
            Ipv4.WriteHeader(ip, segment.Length, identification, Ipv4.FlagDontFragment, _options.Ttl, 6, Address, destination);
            ip[10] = 0; ip[11] = 0; // the card computes each piece's
            System.Span<byte> tcp = ip.Slice(Ipv4.HeaderLength);
            if (!SameStart(segment, tcp)) segment.CopyTo(tcp); // built in place (TcpSegmentedRoom): nothing to copy
            uint pseudo = Checksum.PseudoHeader(Address, destination, 6, 0);
            while ((pseudo >> 16) != 0) pseudo = (pseudo & 0xFFFF) + (pseudo >> 16);
            Wire.Put16(tcp, 16, (ushort)pseudo); // the card adds each piece's length, then sums
            Counters.Ipv4Sent += pieces;
            Counters.SegmentedSends++;
            if (_link.TrySendSegmented(f, segmentSize))
            {
                Counters.FramesSent += pieces;
                return true;
            }
            Counters.FramesSendFailed++;
            return false;
        }

        private static unsafe bool SameStart(System.ReadOnlySpan<byte> a, System.Span<byte> b)
        {
            fixed (byte* x = a) fixed (byte* y = b) return x == y;
        }

        private byte[] _cutScratch;

        /// <summary>The stack's own cut: each piece a TCP segment of its own through Send.</summary>
        private bool CutTcpSegment(Ipv4Address destination, System.ReadOnlySpan<byte> segment, int tcpHeaderBytes, int segmentSize)
        {
            int payload = segment.Length - tcpHeaderBytes;
            int largest = tcpHeaderBytes + (payload < segmentSize ? payload : segmentSize);
            if (_cutScratch == null || _cutScratch.Length < largest) _cutScratch = new byte[largest > 60 + Ethernet.MaximumPayload ? largest : 60 + Ethernet.MaximumPayload];
            uint seq = Wire.U32(segment, 4);
            byte flags = segment[13];
            bool all = true;
            for (int offset = 0; offset < payload || (payload == 0 && offset == 0); offset += segmentSize)
            {
                int n = payload - offset < segmentSize ? payload - offset : segmentSize;
                bool last = offset + n >= payload;
                var piece = new System.Span<byte>(_cutScratch, 0, tcpHeaderBytes + n);
                segment.Slice(0, tcpHeaderBytes).CopyTo(piece);
                segment.Slice(tcpHeaderBytes + offset, n).CopyTo(piece.Slice(tcpHeaderBytes));
                Wire.Put32(piece, 4, seq + (uint)offset);
                piece[13] = last ? flags : (byte)(flags & ~0x09); // PSH and FIN on the last only
                piece[16] = 0; piece[17] = 0;
                Wire.Put16(piece, 16, Checksum.Finish(Checksum.Add(Checksum.PseudoHeader(Address, destination, 6, piece.Length), piece)));
                all &= Send(destination, 6, piece);
                if (payload == 0) break;
            }
            return all;
        }

        internal bool SendFrame(System.ReadOnlySpan<byte> frame)
        {
            if (_link.TrySend(frame))
            {
                Counters.FramesSent++;
                return true;
            }
            Counters.FramesSendFailed++;
            return false;
        }

        // ---- timers ----

        public void Poll(long nowMicros)
        {
            _now = nowMicros;
            if (_loopCount > 0) DeliverLoopback(nowMicros);
            Arp.Poll(nowMicros);
            Reassembly.Poll(nowMicros);
            if (nowMicros >= _nextAnnouncement)
            {
                Arp.Announce();
                _announcementsLeft--;
                _nextAnnouncement = _announcementsLeft > 0 ? nowMicros + _options.ArpAnnounceIntervalMicros : long.MaxValue;
            }
            for (int i = 0; i < _timers.Count; i++) _timers[i].Poll(nowMicros);
        }

        /// <summary>When <see cref="Poll"/> must next run (long.MaxValue: nothing pending).</summary>
        public long NextDeadlineMicros
        {
            get
            {
                if (_loopCount > 0) return 0; // loopback datagrams wait: due now
                long d = Arp.NextDeadline;
                long r = Reassembly.NextDeadline;
                if (r < d) d = r;
                if (_nextAnnouncement < d) d = _nextAnnouncement;
                for (int i = 0; i < _timers.Count; i++)
                {
                    long t = _timers[i].NextDeadlineMicros;
                    if (t < d) d = t;
                }
                return d;
            }
        }
    }
}
