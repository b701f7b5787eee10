namespace Aegis.LibOS.Net
{
    /// <summary>One echo reply matched to a request a <see cref="Pinger"/> sent.</summary>
    public struct PingReply
    {
        public Ipv4Address Source;
        public ushort Sequence;
        public int DataLength;
        /// <summary>Receive time minus send time, both from the caller's clock.</summary>
        public long RoundTripMicros;
    }

    /// <summary>ICMP (RFC 792, RFC 1122 3.2.2): answers echo requests for our address (when the
    /// stack <see cref="NetStack.AnswersArpAndPing"/>), matches echo replies to
    /// <see cref="Pinger"/>s by identifier, sends destination-unreachable for the stack (rate
    /// limited, never about broadcasts or ICMP errors), and hands received errors to the
    /// <see cref="IIcmpErrorReceiver"/> of the quoted datagram's protocol.</summary>
    public sealed class IcmpTransport : ITransport
    {
        public const byte TypeEchoReply = 0, TypeDestinationUnreachable = 3, TypeSourceQuench = 4, TypeEchoRequest = 8,
            TypeTimeExceeded = 11, TypeParameterProblem = 12;
        public const byte CodeNetUnreachable = 0, CodeHostUnreachable = 1, CodeProtocolUnreachable = 2,
            CodePortUnreachable = 3, CodeFragmentationNeeded = 4;
        /// <summary>Bytes of the original datagram's payload quoted in an error we send (after
        /// its header); RFC 792 requires 8.</summary>
        public const int QuotedPayloadBytes = 64;

        private readonly NetStack _stack;
        private readonly NetStackOptions _options;
        private readonly NetCounters _counters;
        private readonly byte[] _reply = new byte[Ipv4.MaximumPayload];
        private readonly byte[] _error = new byte[8 + Ipv4.MaximumHeaderLength + QuotedPayloadBytes];
        private readonly System.Collections.Generic.List<Pinger> _pingers = new System.Collections.Generic.List<Pinger>();
        private long _errorWindowStart = long.MinValue;
        private int _errorsInWindow;

        internal IcmpTransport(NetStack stack, NetStackOptions options)
        {
            _stack = stack;
            _options = options;
            _counters = stack.Counters;
        }

        public byte Protocol => Ipv4.ProtocolIcmp;

        public void Receive(Ipv4Address source, Ipv4Address destination, System.ReadOnlySpan<byte> p, long nowMicros)
        {
            _counters.IcmpReceived++;
            if (p.Length < 8) { _counters.IcmpMalformed++; return; }
            if (Checksum.Finish(Checksum.Add(0, p)) != 0) { _counters.IcmpBadChecksum++; return; }
            byte type = p[0];
            switch (type)
            {
                case TypeEchoRequest:
                    _counters.IcmpEchoRequests++;
                    if (!_stack.AnswersArpAndPing || destination != _stack.Address || source.IsAny)
                    {
                        _counters.IcmpEchoRequestsIgnored++;
                        return;
                    }
                    if (p.Length > _reply.Length) { _counters.IcmpEchoRequestsIgnored++; return; }
                    var r = new System.Span<byte>(_reply, 0, p.Length);
                    p.CopyTo(r);
                    r[0] = TypeEchoReply;
                    r[1] = 0;
                    r[2] = 0;
                    r[3] = 0;
                    Wire.Put16(r, 2, Checksum.Finish(Checksum.Add(0, r)));
                    if (_stack.Send(source, Ipv4.ProtocolIcmp, r)) _counters.IcmpEchoRepliesSent++;
                    return;
                case TypeEchoReply:
                    ushort id = Wire.U16(p, 4);
                    for (int i = 0; i < _pingers.Count; i++)
                        if (_pingers[i].Identifier == id && _pingers[i].Match(source, Wire.U16(p, 6), p.Slice(8), nowMicros))
                        {
                            _counters.IcmpEchoRepliesReceived++;
                            return;
                        }
                    _counters.IcmpEchoRepliesUnmatched++;
                    return;
                case TypeDestinationUnreachable:
                case TypeSourceQuench:
                case TypeTimeExceeded:
                case TypeParameterProblem:
                    ReceiveError(source, p, nowMicros);
                    return;
                default:
                    _counters.IcmpOtherIgnored++;
                    return;
            }
        }

        private void ReceiveError(Ipv4Address reporter, System.ReadOnlySpan<byte> p, long now)
        {
            _counters.IcmpErrorsReceived++;
            var quoted = p.Slice(8);
            if (quoted.Length < Ipv4.HeaderLength || Ipv4.Version(quoted) != 4) { _counters.IcmpMalformed++; return; }
            int ihl = Ipv4.HeaderBytes(quoted);
            if (ihl < Ipv4.HeaderLength || quoted.Length < ihl + 8) { _counters.IcmpMalformed++; return; }
            var originalSource = Ipv4.Source(quoted);
            // About a datagram we did not send: ignore (a blind attacker must at least guess our address).
            if (_stack.IsConfigured && originalSource != _stack.Address) { _counters.IcmpOtherIgnored++; return; }
            IIcmpErrorReceiver receiver = _stack.IcmpErrorReceiverFor(Ipv4.Protocol(quoted));
            if (receiver == null) { _counters.IcmpOtherIgnored++; return; }
            _counters.IcmpErrorsDelivered++;
            receiver.IcmpError(p[0], p[1], Wire.U32(p, 4), reporter, originalSource, Ipv4.Destination(quoted),
                quoted.Slice(ihl), now);
        }

        /// <summary>Sends an ICMP error about a received datagram (its header and payload),
        /// to its source. Not sent about broadcasts, multicasts, a source that is no single
        /// host, or an ICMP message other than an echo; at most
        /// <see cref="NetStackOptions.IcmpErrorBurst"/> per interval.</summary>
        internal void SendError(byte type, byte code, uint rest, System.ReadOnlySpan<byte> header, System.ReadOnlySpan<byte> payload)
        {
            var source = Ipv4.Source(header);
            var destination = Ipv4.Destination(header);
            if (source.IsAny || source.IsBroadcast || source.IsMulticast || destination.IsBroadcast ||
                destination.IsMulticast || destination == _stack.SubnetBroadcast)
                return;
            if (Ipv4.Protocol(header) == Ipv4.ProtocolIcmp && (payload.Length < 1 ||
                (payload[0] != TypeEchoRequest && payload[0] != TypeEchoReply)))
                return;
            long now = _stack.NowMicros;
            if (_errorWindowStart == long.MinValue || now < _errorWindowStart || now - _errorWindowStart >= _options.IcmpErrorIntervalMicros)
            {
                _errorWindowStart = now;
                _errorsInWindow = 0;
            }
            if (_errorsInWindow >= _options.IcmpErrorBurst) { _counters.IcmpErrorsRateLimited++; return; }
            _errorsInWindow++;
            int quote = payload.Length < QuotedPayloadBytes ? payload.Length : QuotedPayloadBytes;
            int length = 8 + header.Length + quote;
            var m = new System.Span<byte>(_error, 0, length);
            m[0] = type;
            m[1] = code;
            m[2] = 0;
            m[3] = 0;
            Wire.Put32(m, 4, rest);
            header.CopyTo(m.Slice(8));
            payload.Slice(0, quote).CopyTo(m.Slice(8 + header.Length));
            Wire.Put16(m, 2, Checksum.Finish(Checksum.Add(0, m)));
            if (_stack.Send(source, Ipv4.ProtocolIcmp, m)) _counters.IcmpErrorsSent++;
        }

        /// <summary>An echo client with its own identifier (0: one drawn at random).</summary>
        public Pinger OpenPinger(ushort identifier = 0)
        {
            if (identifier == 0) identifier = (ushort)(1 + _stack.Random.Below(65535));
            var p = new Pinger(this, _stack, identifier);
            _pingers.Add(p);
            return p;
        }

        internal void Close(Pinger p) => _pingers.Remove(p);
    }

    /// <summary>Sends echo requests with increasing sequence numbers and collects the matching
    /// replies with their round-trip times (the caller's clock). Keeps the last
    /// <see cref="Window"/> requests outstanding and at most <see cref="Window"/> replies
    /// unread; a reply to an older, unknown or already answered request is not matched.</summary>
    public sealed class Pinger
    {
        public const int Window = 64;
        public const int MaximumData = Ipv4.MaximumPayload - 8;

        private readonly IcmpTransport _icmp;
        private readonly NetStack _stack;
        private readonly byte[] _message = new byte[Ipv4.MaximumPayload];
        private readonly ushort[] _sentSequence = new ushort[Window];
        private readonly long[] _sentAt = new long[Window];
        private readonly Ipv4Address[] _sentTo = new Ipv4Address[Window];
        private readonly int[] _sentLength = new int[Window];
        private readonly bool[] _outstanding = new bool[Window];
        private readonly PingReply[] _replies = new PingReply[Window];
        private int _replyHead, _replyCount;
        private ushort _sequence;

        internal Pinger(IcmpTransport icmp, NetStack stack, ushort identifier)
        {
            _icmp = icmp;
            _stack = stack;
            Identifier = identifier;
        }

        public ushort Identifier { get; }
        public int RepliesWaiting => _replyCount;

        /// <summary>Sends one echo request with <paramref name="dataLength"/> bytes of pattern
        /// data. Returns its sequence number, or -1 when it could not be sent.</summary>
        public int Send(Ipv4Address destination, int dataLength, long nowMicros)
        {
            if (dataLength < 0 || dataLength > MaximumData) return -1;
            ushort seq = _sequence++;
            var m = new System.Span<byte>(_message, 0, 8 + dataLength);
            m[0] = IcmpTransport.TypeEchoRequest;
            m[1] = 0;
            Wire.Put16(m, 2, 0);
            Wire.Put16(m, 4, Identifier);
            Wire.Put16(m, 6, seq);
            for (int i = 0; i < dataLength; i++) m[8 + i] = (byte)(seq + i);
            Wire.Put16(m, 2, Checksum.Finish(Checksum.Add(0, m)));
            if (!_stack.Send(destination, Ipv4.ProtocolIcmp, m)) return -1;
            int slot = seq % Window;
            _sentSequence[slot] = seq;
            _sentAt[slot] = nowMicros;
            _sentTo[slot] = destination;
            _sentLength[slot] = dataLength;
            _outstanding[slot] = true;
            return seq;
        }

        internal bool Match(Ipv4Address source, ushort seq, System.ReadOnlySpan<byte> data, long now)
        {
            int slot = seq % Window;
            if (!_outstanding[slot] || _sentSequence[slot] != seq || _sentLength[slot] != data.Length) return false;
            if (!_sentTo[slot].IsBroadcast && _sentTo[slot] != source) return false;
            for (int i = 0; i < data.Length; i++) if (data[i] != (byte)(seq + i)) return false;
            _outstanding[slot] = false;
            if (_replyCount == Window) { _replyHead = (_replyHead + 1) % Window; _replyCount--; }
            _replies[(_replyHead + _replyCount) % Window] = new PingReply
            {
                Source = source, Sequence = seq, DataLength = data.Length, RoundTripMicros = now - _sentAt[slot],
            };
            _replyCount++;
            return true;
        }

        /// <summary>The oldest unread reply.</summary>
        public bool TryGetReply(out PingReply reply)
        {
            if (_replyCount == 0) { reply = default; return false; }
            reply = _replies[_replyHead];
            _replyHead = (_replyHead + 1) % Window;
            _replyCount--;
            return true;
        }

        public void Close() => _icmp.Close(this);
    }
}
