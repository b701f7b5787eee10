namespace Aegis.LibOS.Net
{
    public enum DnsStatus : byte
    {
        Pending, Resolved,
        /// <summary>The server said the name does not exist (NXDOMAIN).</summary>
        NameNotFound,
        /// <summary>The name exists but has no A record (at the end of its CNAME chain).</summary>
        NoAddress,
        /// <summary>Every attempt got SERVFAIL, REFUSED or another error code.</summary>
        ServerFailure,
        TimedOut,
        /// <summary>The name is not a valid host name.</summary>
        InvalidName,
        /// <summary>No DNS server is configured.</summary>
        NoServer,
        /// <summary>Too many queries outstanding.</summary>
        Busy,
        Cancelled,
    }

    /// <summary>One name lookup: poll <see cref="Status"/> until it is no longer Pending.</summary>
    public sealed class DnsQuery
    {
        public const int MaximumAddresses = 8;

        public readonly string Name;
        public DnsStatus Status { get; internal set; }
        public readonly Ipv4Address[] Addresses = new Ipv4Address[MaximumAddresses];
        public int AddressCount { get; internal set; }
        /// <summary>The name the addresses belong to (the end of the CNAME chain).</summary>
        public string CanonicalName { get; internal set; }
        /// <summary>The smallest TTL of the records used.</summary>
        public uint TtlSeconds { get; internal set; }
        public bool IsDone => Status != DnsStatus.Pending;

        internal ushort Id;
        internal int Attempt;
        internal long Deadline;
        internal readonly byte[] Question; // QNAME in wire form, QTYPE, QCLASS
        internal readonly byte[] LowerName; // the name in lower-case ASCII, no trailing dot

        internal DnsQuery(string name, byte[] question, byte[] lowerName)
        {
            Name = name;
            Question = question;
            LowerName = lowerName;
        }
    }

    /// <summary>A stub resolver (RFC 1035) for A records over UDP: queries go to the stack's
    /// DNS servers (from DHCP) or <see cref="SetServers"/>, one attempt per server in turn with
    /// <see cref="AttemptTimeoutMicros"/> each, <see cref="Attempts"/> in all. A response is
    /// used only when it comes from a server's port 53 with the query's random id and its
    /// question; then CNAME chains are followed (at most <see cref="MaximumCnameHops"/>) to the
    /// A records. Names are decoded with compression pointers that must point strictly
    /// backwards and stay within the message and 255 bytes, so pointer loops and
    /// out-of-range pointers make a response malformed; malformed responses are ignored
    /// (counted in <see cref="NetCounters.DnsIgnored"/>) and the query keeps waiting.
    /// Not done: a cache, AAAA, TCP fallback for truncated answers, search domains.</summary>
    public sealed class DnsResolver : INetTimer, IUdpHandler
    {
        /// <summary>The servers' port: 53, or another for a test server (QEMU's user network maps 10.0.2.2:P to the host's 127.0.0.1:P).</summary>
        public ushort ServerPort = 53;
        public const int MaximumName = 253;
        public const int MaximumCnameHops = 8;
        public const int MaximumOutstanding = 16;
        public const ushort TypeA = 1, TypeCname = 5, ClassIn = 1;

        public long AttemptTimeoutMicros = 2_000_000;
        public int Attempts = 4;

        private struct Record
        {
            public int Owner;
            public ushort Type, Class;
            public uint Ttl;
            public int Data, DataLength;
        }

        private readonly NetStack _stack;
        private readonly UdpSocket _socket;
        private readonly DnsQuery[] _outstanding = new DnsQuery[MaximumOutstanding];
        private readonly Record[] _records = new Record[64];
        private readonly byte[] _target = new byte[256];
        private readonly byte[] _scratch = new byte[256];
        private readonly byte[] _message = new byte[512];
        private readonly Ipv4Address[] _servers = new Ipv4Address[3];
        private int _serverCount = -1; // -1: use the stack's

        public DnsResolver(NetStack stack)
        {
            _stack = stack;
            _socket = stack.Udp.Open(4096);
            _socket.Handler = this;
            stack.AddTimer(this);
        }

        /// <summary>Uses these servers instead of the stack's (an empty span: the stack's again).</summary>
        public void SetServers(System.ReadOnlySpan<Ipv4Address> servers)
        {
            _serverCount = servers.Length == 0 ? -1 : 0;
            for (int i = 0; i < servers.Length && _serverCount < _servers.Length; i++) _servers[_serverCount++] = servers[i];
        }

        private int ServerCount => _serverCount >= 0 ? _serverCount : _stack.DnsServerCount;
        private Ipv4Address Server(int i) => _serverCount >= 0 ? _servers[i] : _stack.DnsServer(i);

        public int Outstanding
        {
            get
            {
                int n = 0;
                for (int i = 0; i < _outstanding.Length; i++) if (_outstanding[i] != null) n++;
                return n;
            }
        }

        /// <summary>Starts looking up <paramref name="name"/>'s IPv4 addresses. A dotted quad
        /// resolves at once to itself.</summary>
        public DnsQuery Resolve(string name, long nowMicros)
        {
            if (name != null && Ipv4Address.TryParse(name, out var literal))
            {
                var q0 = new DnsQuery(name, null, null) { Status = DnsStatus.Resolved, AddressCount = 1, CanonicalName = name };
                q0.Addresses[0] = literal;
                return q0;
            }
            byte[] question = EncodeQuestion(name, out byte[] lower);
            if (question == null) return new DnsQuery(name, null, null) { Status = DnsStatus.InvalidName };
            var q = new DnsQuery(name, question, lower);
            if (ServerCount == 0) { q.Status = DnsStatus.NoServer; return q; }
            int slot = -1;
            for (int i = 0; i < _outstanding.Length; i++) if (_outstanding[i] == null) { slot = i; break; }
            if (slot < 0) { q.Status = DnsStatus.Busy; return q; }
            if (!_socket.IsBound && _socket.Bind(0) != UdpError.None) { q.Status = DnsStatus.Busy; return q; }
            q.Id = NewId();
            _outstanding[slot] = q;
            SendAttempt(q, nowMicros);
            return q;
        }

        public void Cancel(DnsQuery q)
        {
            for (int i = 0; i < _outstanding.Length; i++)
                if (_outstanding[i] == q)
                {
                    _outstanding[i] = null;
                    q.Status = DnsStatus.Cancelled;
                }
        }

        private ushort NewId()
        {
            while (true)
            {
                ushort id = (ushort)_stack.Random.Next32();
                bool used = false;
                for (int i = 0; i < _outstanding.Length; i++) if (_outstanding[i] != null && _outstanding[i].Id == id) used = true;
                if (!used) return id;
            }
        }

        private void SendAttempt(DnsQuery q, long now)
        {
            int n = BuildQuery(_message, q.Id, q.Question);
            _socket.SendTo(Server(q.Attempt % ServerCount), ServerPort, new System.ReadOnlySpan<byte>(_message, 0, n));
            q.Deadline = now + AttemptTimeoutMicros;
        }

        /// <summary>The wire question (QNAME, QTYPE A, QCLASS IN) for a host name, or null when
        /// the name is empty, longer than 253 characters, has an empty label or one longer than
        /// 63, or a character other than a letter, digit, '-' or '_'. A trailing dot is allowed.</summary>
        public static byte[] EncodeQuestion(string name, out byte[] lowerName)
        {
            lowerName = null;
            if (name == null) return null;
            int length = name.Length;
            if (length > 0 && name[length - 1] == '.') length--;
            if (length == 0 || length > MaximumName) return null;
            var q = new byte[length + 2 + 4];
            lowerName = new byte[length];
            int labelAt = 0, labelLength = 0;
            for (int i = 0; i <= length; i++)
            {
                if (i == length || name[i] == '.')
                {
                    if (labelLength == 0 || labelLength > 63) { lowerName = null; return null; }
                    q[labelAt] = (byte)labelLength;
                    labelAt = i + 1;
                    labelLength = 0;
                    if (i < length) lowerName[i] = (byte)'.';
                    continue;
                }
                char c = name[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
                if (!ok) { lowerName = null; return null; }
                q[i + 1] = (byte)c;
                lowerName[i] = (byte)(c >= 'A' && c <= 'Z' ? c + 32 : c);
                labelLength++;
            }
            q[length + 1] = 0;
            Wire.Put16(q, length + 2, TypeA);
            Wire.Put16(q, length + 4, ClassIn);
            return q;
        }

        /// <summary>A standard query with recursion desired; returns its length.</summary>
        public static int BuildQuery(System.Span<byte> m, ushort id, System.ReadOnlySpan<byte> question)
        {
            Wire.Put16(m, 0, id);
            Wire.Put16(m, 2, 0x0100); // RD
            Wire.Put16(m, 4, 1);
            Wire.Put16(m, 6, 0);
            Wire.Put16(m, 8, 0);
            Wire.Put16(m, 10, 0);
            question.CopyTo(m.Slice(12));
            return 12 + question.Length;
        }

        /// <summary>Decodes the (possibly compressed) name at <paramref name="at"/> into
        /// lower-case dotted ASCII (the root is empty). <paramref name="next"/> is the offset
        /// after the name where it started. False for a pointer that does not point strictly
        /// before the label it is in, a name beyond the message or longer than 255 bytes, a
        /// label type other than 00 and 11, or a '.' inside a label.</summary>
        public static bool TryReadName(System.ReadOnlySpan<byte> m, int at, System.Span<byte> name, out int nameLength, out int next)
        {
            nameLength = 0;
            next = -1;
            int wire = 0;     // bytes of the name in uncompressed wire form
            int limit = at;   // pointers must point below this
            int hops = 0;
            while (true)
            {
                if (at < 0 || at >= m.Length) return false;
                int b = m[at];
                if ((b & 0xC0) == 0xC0)
                {
                    if (at + 1 >= m.Length) return false;
                    int target = (b & 0x3F) << 8 | m[at + 1];
                    if (next < 0) next = at + 2;
                    if (target >= limit || ++hops > 127) return false;
                    limit = target;
                    at = target;
                    continue;
                }
                if ((b & 0xC0) != 0) return false;
                if (b == 0)
                {
                    if (next < 0) next = at + 1;
                    return wire + 1 <= 255;
                }
                if (at + 1 + b > m.Length) return false;
                wire += 1 + b;
                if (wire + 1 > 255) return false;
                if (nameLength != 0) name[nameLength++] = (byte)'.';
                for (int i = 0; i < b; i++)
                {
                    byte c = m[at + 1 + i];
                    if (c == (byte)'.') return false;
                    name[nameLength++] = c >= (byte)'A' && c <= (byte)'Z' ? (byte)(c + 32) : c;
                }
                at += 1 + b;
            }
        }

        public void UdpReceived(UdpSocket socket, Ipv4Address source, ushort sourcePort, Ipv4Address destination,
            System.ReadOnlySpan<byte> m, long now)
        {
            DnsQuery q = null;
            int slot = -1;
            if (sourcePort == ServerPort && m.Length >= 12 && IsServer(source))
            {
                ushort id = Wire.U16(m, 0);
                for (int i = 0; i < _outstanding.Length; i++)
                    if (_outstanding[i] != null && _outstanding[i].Id == id) { q = _outstanding[i]; slot = i; }
            }
            if (q == null || !Use(q, m, now)) { _stack.Counters.DnsIgnored++; return; }
            if (q.Status != DnsStatus.Pending) _outstanding[slot] = null;
        }

        private bool IsServer(Ipv4Address a)
        {
            for (int i = 0; i < ServerCount; i++) if (Server(i) == a) return true;
            return false;
        }

        /// <summary>Applies a response to its query; false when it is not a well-formed answer
        /// to that query's question (then it is ignored).</summary>
        private bool Use(DnsQuery q, System.ReadOnlySpan<byte> m, long now)
        {
            int flags = Wire.U16(m, 2);
            if ((flags & 0x8000) == 0 || (flags & 0x7800) != 0) return false; // a response to a standard query
            if (Wire.U16(m, 4) != 1) return false;
            int answers = Wire.U16(m, 6);
            // The question must be ours.
            if (!TryReadName(m, 12, _scratch, out int length, out int at)) return false;
            if (!SameName(_scratch, length, q.LowerName, q.LowerName.Length)) return false;
            if (at + 4 > m.Length || Wire.U16(m, at) != TypeA || Wire.U16(m, at + 2) != ClassIn) return false;
            at += 4;
            int rcode = flags & 0xF;
            if (rcode == 3) { q.Status = DnsStatus.NameNotFound; return true; }
            if (rcode != 0)
            {
                // SERVFAIL, REFUSED, ...: the next server, if attempts remain.
                if (++q.Attempt >= Attempts) q.Status = DnsStatus.ServerFailure;
                else SendAttempt(q, now);
                return true;
            }
            int records = 0;
            for (int i = 0; i < answers && records < _records.Length; i++)
            {
                if (!TryReadName(m, at, _scratch, out _, out int after)) return false;
                if (after + 10 > m.Length) return false;
                int dataLength = Wire.U16(m, after + 8);
                if (after + 10 + dataLength > m.Length) return false;
                _records[records++] = new Record
                {
                    Owner = at, Type = Wire.U16(m, after), Class = Wire.U16(m, after + 2), Ttl = Wire.U32(m, after + 4),
                    Data = after + 10, DataLength = dataLength,
                };
                at = after + 10 + dataLength;
            }

            // Follow the chain from the question's name.
            new System.ReadOnlySpan<byte>(q.LowerName).CopyTo(_target);
            int targetLength = q.LowerName.Length;
            uint ttl = uint.MaxValue;
            for (int hop = 0; hop <= MaximumCnameHops; hop++)
            {
                int found = 0;
                for (int i = 0; i < records; i++)
                {
                    ref Record r = ref _records[i];
                    if (r.Type != TypeA || r.Class != ClassIn || r.DataLength != 4) continue;
                    if (!TryReadName(m, r.Owner, _scratch, out int n, out _) || !SameName(_scratch, n, _target, targetLength)) continue;
                    if (found < DnsQuery.MaximumAddresses) q.Addresses[found++] = Ipv4Address.Read(m, r.Data);
                    if (r.Ttl < ttl) ttl = r.Ttl;
                }
                if (found > 0)
                {
                    q.AddressCount = found;
                    q.TtlSeconds = ttl;
                    q.CanonicalName = Ascii(_target, targetLength);
                    q.Status = DnsStatus.Resolved;
                    return true;
                }
                bool followed = false;
                for (int i = 0; i < records && !followed; i++)
                {
                    ref Record r = ref _records[i];
                    if (r.Type != TypeCname || r.Class != ClassIn) continue;
                    if (!TryReadName(m, r.Owner, _scratch, out int n, out _) || !SameName(_scratch, n, _target, targetLength)) continue;
                    if (!TryReadName(m, r.Data, _target, out targetLength, out int end) || end > r.Data + r.DataLength) return false;
                    if (r.Ttl < ttl) ttl = r.Ttl;
                    followed = true;
                }
                if (!followed) break;
            }
            // No A record at the end of the chain (or the chain is too long).
            q.CanonicalName = Ascii(_target, targetLength);
            q.Status = DnsStatus.NoAddress;
            return true;
        }

        private static bool SameName(byte[] a, int aLength, byte[] b, int bLength)
        {
            if (aLength != bLength) return false;
            for (int i = 0; i < aLength; i++) if (a[i] != b[i]) return false;
            return true;
        }

        private static string Ascii(byte[] b, int length)
        {
            var c = new char[length];
            for (int i = 0; i < length; i++) c[i] = (char)b[i];
            return new string(c);
        }

        public void Poll(long now)
        {
            for (int i = 0; i < _outstanding.Length; i++)
            {
                DnsQuery q = _outstanding[i];
                if (q == null || now < q.Deadline) continue;
                if (++q.Attempt >= Attempts || ServerCount == 0)
                {
                    q.Status = DnsStatus.TimedOut;
                    _outstanding[i] = null;
                }
                else SendAttempt(q, now);
            }
        }

        public long NextDeadlineMicros
        {
            get
            {
                long d = long.MaxValue;
                for (int i = 0; i < _outstanding.Length; i++)
                    if (_outstanding[i] != null && _outstanding[i].Deadline < d) d = _outstanding[i].Deadline;
                return d;
            }
        }
    }
}
