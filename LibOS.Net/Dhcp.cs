namespace Aegis.LibOS.Net
{
    public enum DhcpState : byte { Stopped, Selecting, Requesting, Bound, Renewing, Rebinding }

    /// <summary>What a DHCP server's OFFER or ACK said (RFC 2131, options RFC 2132).</summary>
    public struct DhcpLease
    {
        public Ipv4Address Address, SubnetMask, Router, Server;
        public Ipv4Address Dns0, Dns1, Dns2;
        public int DnsCount;
        /// <summary>Seconds; uint.MaxValue is infinite. 0 when the server gave none.</summary>
        public uint LeaseSeconds, RenewSeconds, RebindSeconds;

        public Ipv4Address Dns(int i) => i == 0 ? Dns0 : i == 1 ? Dns1 : Dns2;
    }

    /// <summary>The DHCP client (RFC 2131): DISCOVER, OFFER, REQUEST, ACK; renewal at T1
    /// (unicast to the server), rebinding at T2 (broadcast), and a new discovery when the lease
    /// ends or a NAK arrives. Retransmissions back off 4, 8, 16, 32, 64 s with ±1 s of jitter
    /// (RFC 2131 4.1); in RENEWING and REBINDING they wait half the time left to T2 or the
    /// lease's end, at least 60 s. On an ACK it configures the stack (address, mask, router)
    /// and its DNS servers; when the lease is lost it deconfigures it.
    ///
    /// Messages are padded to the 548 bytes of a full BOOTP message (QEMU's slirp ignores
    /// shorter ones), ask for a broadcast reply, and are matched by xid and hardware address.
    /// Not done: ARP probing of the offered address (DECLINE), option overload (52), RELEASE
    /// on shutdown other than <see cref="Release"/>, INFORM.</summary>
    public sealed class DhcpClient : INetTimer, IUdpHandler
    {
        public const ushort ClientPort = 68, ServerPort = 67;
        public const byte Discover = 1, Offer = 2, Request = 3, Decline = 4, Ack = 5, Nak = 6, ReleaseMessage = 7;
        public const byte OptionPad = 0, OptionSubnetMask = 1, OptionRouter = 3, OptionDns = 6, OptionHostName = 12,
            OptionRequestedAddress = 50, OptionLeaseTime = 51, OptionOverload = 52, OptionMessageType = 53,
            OptionServerId = 54, OptionParameters = 55, OptionMaxSize = 57, OptionRenewalTime = 58,
            OptionRebindingTime = 59, OptionClientId = 61, OptionEnd = 255;
        public const uint MagicCookie = 0x63825363;
        public const int MessageBytes = 548;
        public const long MicrosPerSecond = 1_000_000;

        /// <summary>REQUESTs sent in REQUESTING before discovering again.</summary>
        public int RequestAttempts = 4;
        public long FirstRetransmitMicros = 4 * MicrosPerSecond;
        public long MaximumRetransmitMicros = 64 * MicrosPerSecond;

        private readonly NetStack _stack;
        private readonly UdpSocket _socket;
        private readonly byte[] _message = new byte[MessageBytes];
        private readonly byte[] _hostName;
        private uint _xid;
        private int _attempt;
        private long _started, _retransmitAt = long.MaxValue;
        private long _boundAt, _renewAt = long.MaxValue, _rebindAt = long.MaxValue, _expiresAt = long.MaxValue;
        private DhcpLease _offer;

        public DhcpClient(NetStack stack, string hostName = null)
        {
            _stack = stack;
            _socket = stack.Udp.Open(2048);
            _socket.Handler = this;
            if (hostName != null && hostName.Length > 0 && hostName.Length < 64)
            {
                _hostName = new byte[hostName.Length];
                for (int i = 0; i < hostName.Length; i++) _hostName[i] = (byte)hostName[i];
            }
        }

        public DhcpState State { get; private set; }
        /// <summary>The lease in force (valid in Bound, Renewing and Rebinding).</summary>
        public DhcpLease Lease { get; private set; }
        /// <summary>ACKs accepted so far (first lease and renewals).</summary>
        public int LeasesAcquired { get; private set; }
        public uint TransactionId => _xid;
        public long RenewAtMicros => _renewAt;
        public long RebindAtMicros => _rebindAt;
        public long LeaseEndsAtMicros => _expiresAt;
        public bool IsBound => State == DhcpState.Bound || State == DhcpState.Renewing || State == DhcpState.Rebinding;

        /// <summary>Starts acquiring an address (binds UDP port 68 and registers with the
        /// stack's timers). False when port 68 is taken.</summary>
        public bool Start(long nowMicros)
        {
            if (!_socket.IsBound && _socket.Bind(ClientPort) != UdpError.None) return false;
            _stack.AddTimer(this);
            BeginSelecting(nowMicros);
            return true;
        }

        /// <summary>Stops: no more messages or timers; the stack keeps its configuration.</summary>
        public void Stop()
        {
            State = DhcpState.Stopped;
            _retransmitAt = _renewAt = _rebindAt = _expiresAt = long.MaxValue;
            _stack.RemoveTimer(this);
            _socket.Close();
        }

        /// <summary>Gives the lease back (DHCPRELEASE, unicast to the server), deconfigures the
        /// stack, and stops.</summary>
        public void Release()
        {
            if (IsBound)
            {
                _xid = _stack.Random.Next32();
                int n = Build(ReleaseMessage, Lease.Address, false, 0);
                _socket.SendTo(Lease.Server, ServerPort, new System.ReadOnlySpan<byte>(_message, 0, n));
                _stack.Deconfigure();
            }
            Stop();
        }

        private void BeginSelecting(long now)
        {
            State = DhcpState.Selecting;
            _xid = _stack.Random.Next32();
            _attempt = 0;
            _started = now;
            _renewAt = _rebindAt = _expiresAt = long.MaxValue;
            SendDiscover(now);
        }

        private long Backoff()
        {
            long wait = FirstRetransmitMicros << (_attempt < 5 ? _attempt : 5);
            if (wait > MaximumRetransmitMicros) wait = MaximumRetransmitMicros;
            return wait - MicrosPerSecond + _stack.Random.Below(2 * (int)MicrosPerSecond + 1);
        }

        private void SendDiscover(long now)
        {
            int n = Build(Discover, Ipv4Address.Any, true, now);
            _socket.SendTo(Ipv4Address.Broadcast, ServerPort, new System.ReadOnlySpan<byte>(_message, 0, n));
            _retransmitAt = now + Backoff();
        }

        private void SendRequest(long now)
        {
            int n;
            Ipv4Address to = Ipv4Address.Broadcast;
            if (State == DhcpState.Requesting) n = Build(Request, Ipv4Address.Any, true, now);
            else
            {
                n = Build(Request, Lease.Address, false, now);
                if (State == DhcpState.Renewing) to = Lease.Server;
            }
            _socket.SendTo(to, ServerPort, new System.ReadOnlySpan<byte>(_message, 0, n));
        }

        /// <summary>Builds a client message in the preallocated buffer; returns its length.</summary>
        private int Build(byte type, Ipv4Address clientAddress, bool broadcastReply, long now)
        {
            var m = new System.Span<byte>(_message);
            m.Clear();
            m[0] = 1; // BOOTREQUEST
            m[1] = 1; // Ethernet
            m[2] = 6;
            Wire.Put32(m, 4, _xid);
            long secs = (now - _started) / MicrosPerSecond;
            Wire.Put16(m, 8, secs < 0 ? 0 : secs > 65535 ? 65535 : (int)secs);
            Wire.Put16(m, 10, broadcastReply ? 0x8000 : 0);
            clientAddress.Write(m, 12);
            _stack.Mac.Write(m, 28);
            Wire.Put32(m, 236, MagicCookie);
            int at = 240;
            m[at++] = OptionMessageType; m[at++] = 1; m[at++] = type;
            m[at++] = OptionClientId; m[at++] = 7; m[at++] = 1;
            _stack.Mac.Write(m, at);
            at += 6;
            if (type == Request && State == DhcpState.Requesting)
            {
                m[at++] = OptionRequestedAddress; m[at++] = 4; _offer.Address.Write(m, at); at += 4;
                m[at++] = OptionServerId; m[at++] = 4; _offer.Server.Write(m, at); at += 4;
            }
            if (type == ReleaseMessage)
            {
                m[at++] = OptionServerId; m[at++] = 4; Lease.Server.Write(m, at); at += 4;
            }
            if (type == Discover || type == Request)
            {
                m[at++] = OptionMaxSize; m[at++] = 2; Wire.Put16(m, at, 576); at += 2;
                m[at++] = OptionParameters; m[at++] = 6;
                m[at++] = OptionSubnetMask; m[at++] = OptionRouter; m[at++] = OptionDns;
                m[at++] = OptionLeaseTime; m[at++] = OptionRenewalTime; m[at++] = OptionRebindingTime;
                if (_hostName != null)
                {
                    m[at++] = OptionHostName; m[at++] = (byte)_hostName.Length;
                    new System.ReadOnlySpan<byte>(_hostName).CopyTo(m.Slice(at));
                    at += _hostName.Length;
                }
            }
            m[at] = OptionEnd;
            return MessageBytes;
        }

        /// <summary>Parses a server's reply: BOOTREPLY, Ethernet, our <paramref name="xid"/>
        /// and <paramref name="mac"/>, the magic cookie, well-formed options with a message
        /// type. Returns the type (0 when the message is not acceptable).</summary>
        public static byte Parse(System.ReadOnlySpan<byte> m, uint xid, MacAddress mac, out DhcpLease lease)
        {
            lease = default;
            if (m.Length < 241 || m[0] != 2 || m[1] != 1 || m[2] != 6 || Wire.U32(m, 4) != xid ||
                MacAddress.Read(m, 28) != mac || Wire.U32(m, 236) != MagicCookie)
                return 0;
            lease.Address = Ipv4Address.Read(m, 16);
            byte type = 0;
            int at = 240;
            while (at < m.Length)
            {
                byte code = m[at++];
                if (code == OptionPad) continue;
                if (code == OptionEnd) break;
                if (at >= m.Length) return 0;
                int length = m[at++];
                if (at + length > m.Length) return 0;
                var v = m.Slice(at, length);
                at += length;
                switch (code)
                {
                    case OptionMessageType: if (length == 1) type = v[0]; break;
                    case OptionSubnetMask: if (length == 4) lease.SubnetMask = Ipv4Address.Read(v, 0); break;
                    case OptionRouter: if (length >= 4) lease.Router = Ipv4Address.Read(v, 0); break;
                    case OptionServerId: if (length == 4) lease.Server = Ipv4Address.Read(v, 0); break;
                    case OptionLeaseTime: if (length == 4) lease.LeaseSeconds = Wire.U32(v, 0); break;
                    case OptionRenewalTime: if (length == 4) lease.RenewSeconds = Wire.U32(v, 0); break;
                    case OptionRebindingTime: if (length == 4) lease.RebindSeconds = Wire.U32(v, 0); break;
                    case OptionDns:
                        for (int i = 0; i + 4 <= length && lease.DnsCount < 3; i += 4)
                        {
                            var a = Ipv4Address.Read(v, i);
                            if (lease.DnsCount == 0) lease.Dns0 = a;
                            else if (lease.DnsCount == 1) lease.Dns1 = a;
                            else lease.Dns2 = a;
                            lease.DnsCount++;
                        }
                        break;
                }
            }
            return type;
        }

        public void UdpReceived(UdpSocket socket, Ipv4Address source, ushort sourcePort, Ipv4Address destination,
            System.ReadOnlySpan<byte> data, long now)
        {
            if (sourcePort != ServerPort || State == DhcpState.Stopped || State == DhcpState.Bound)
            {
                _stack.Counters.DhcpIgnored++;
                return;
            }
            byte type = Parse(data, _xid, _stack.Mac, out var lease);
            if (lease.Server.IsAny) lease.Server = source;
            bool usable = type != 0 && IsUsableAddress(lease.Address);
            if (State == DhcpState.Selecting && type == Offer && usable)
            {
                _offer = lease;
                State = DhcpState.Requesting;
                _attempt = 0;
                SendRequest(now);
                _retransmitAt = now + Backoff();
                return;
            }
            if (State != DhcpState.Selecting && type == Ack && usable &&
                (State != DhcpState.Requesting || lease.Address == _offer.Address))
            {
                Bind(lease, now);
                return;
            }
            if (State != DhcpState.Selecting && type == Nak && (State != DhcpState.Requesting || lease.Server == _offer.Server))
            {
                if (!_stack.Address.IsAny) _stack.Deconfigure();
                BeginSelecting(now);
                return;
            }
            _stack.Counters.DhcpIgnored++;
        }

        private static bool IsUsableAddress(Ipv4Address a) =>
            !a.IsAny && !a.IsBroadcast && !a.IsMulticast && !a.IsLoopback && (a.Value >> 24) != 0;

        private void Bind(DhcpLease lease, long now)
        {
            if (lease.SubnetMask.IsAny || !Contiguous(lease.SubnetMask.Value)) lease.SubnetMask = ClassfulMask(lease.Address);
            if (!lease.Router.IsAny && !lease.Router.SameSubnet(lease.Address, lease.SubnetMask)) lease.Router = Ipv4Address.Any;
            if (lease.LeaseSeconds == 0) lease.LeaseSeconds = _offer.LeaseSeconds != 0 ? _offer.LeaseSeconds : 3600;
            Lease = lease;
            LeasesAcquired++;
            State = DhcpState.Bound;
            _retransmitAt = long.MaxValue;
            _boundAt = now;
            if (lease.LeaseSeconds == uint.MaxValue)
            {
                _renewAt = _rebindAt = _expiresAt = long.MaxValue;
            }
            else
            {
                long leaseMicros = lease.LeaseSeconds * MicrosPerSecond;
                long t1 = lease.RenewSeconds * MicrosPerSecond, t2 = lease.RebindSeconds * MicrosPerSecond;
                if (t2 <= 0 || t2 >= leaseMicros) t2 = leaseMicros / 8 * 7;
                if (t1 <= 0 || t1 >= t2) t1 = leaseMicros / 2 < t2 ? leaseMicros / 2 : t2 / 2;
                _renewAt = now + t1;
                _rebindAt = now + t2;
                _expiresAt = now + leaseMicros;
            }
            if (_stack.Address != lease.Address || _stack.SubnetMask != lease.SubnetMask || _stack.Gateway != lease.Router)
                _stack.Configure(lease.Address, lease.SubnetMask, lease.Router, now);
            System.Span<Ipv4Address> dns = stackalloc Ipv4Address[3];
            for (int i = 0; i < lease.DnsCount; i++) dns[i] = lease.Dns(i);
            _stack.SetDnsServers(dns.Slice(0, lease.DnsCount));
        }

        private static bool Contiguous(uint mask) => (~mask & (~mask + 1)) == 0 && mask != 0;

        private static Ipv4Address ClassfulMask(Ipv4Address a)
        {
            uint top = a.Value >> 24;
            return new Ipv4Address(top < 128 ? 0xFF000000u : top < 192 ? 0xFFFF0000u : 0xFFFFFF00u);
        }

        public void Poll(long now)
        {
            switch (State)
            {
                case DhcpState.Selecting:
                    if (now < _retransmitAt) return;
                    _attempt++;
                    SendDiscover(now);
                    return;
                case DhcpState.Requesting:
                    if (now < _retransmitAt) return;
                    if (++_attempt >= RequestAttempts) { BeginSelecting(now); return; }
                    SendRequest(now);
                    _retransmitAt = now + Backoff();
                    return;
                case DhcpState.Bound:
                    if (now < _renewAt) return;
                    State = DhcpState.Renewing;
                    _xid = _stack.Random.Next32();
                    _started = now;
                    RetransmitTowards(now, _rebindAt);
                    return;
                case DhcpState.Renewing:
                    if (now >= _rebindAt)
                    {
                        State = DhcpState.Rebinding;
                        _xid = _stack.Random.Next32();
                        RetransmitTowards(now, _expiresAt);
                    }
                    else if (now >= _retransmitAt) RetransmitTowards(now, _rebindAt);
                    return;
                case DhcpState.Rebinding:
                    if (now >= _expiresAt)
                    {
                        _stack.Deconfigure();
                        BeginSelecting(now);
                    }
                    else if (now >= _retransmitAt) RetransmitTowards(now, _expiresAt);
                    return;
            }
        }

        private void RetransmitTowards(long now, long limit)
        {
            SendRequest(now);
            long wait = (limit - now) / 2;
            if (wait < 60 * MicrosPerSecond) wait = 60 * MicrosPerSecond;
            _retransmitAt = now + wait < limit ? now + wait : limit;
        }

        public long NextDeadlineMicros
        {
            get
            {
                switch (State)
                {
                    case DhcpState.Selecting:
                    case DhcpState.Requesting: return _retransmitAt;
                    case DhcpState.Bound: return _renewAt;
                    case DhcpState.Renewing: return _retransmitAt < _rebindAt ? _retransmitAt : _rebindAt;
                    case DhcpState.Rebinding: return _retransmitAt < _expiresAt ? _retransmitAt : _expiresAt;
                    default: return long.MaxValue;
                }
            }
        }
    }
}
