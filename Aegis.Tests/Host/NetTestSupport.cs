// Helpers for the LibOS.Net host tests: a link that records frames, a simulated Ethernet hub
// joining stacks, and frames built by hand from the RFCs' layouts (independently of the
// library's builders, so that tests cross-check them).
#nullable enable
using Aegis.LibOS.Net;

namespace Aegis.Tests.Host;

/// <summary>Records every frame a stack sends.</summary>
public sealed class CapturingLink : IFrameLink
{
    public readonly List<byte[]> Frames = new();
    public bool Fail;

    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        if (Fail) return false;
        Frames.Add(frame.ToArray());
        return true;
    }

    public int SegmentedFrameBytes => 0;
    public bool TrySendSegmented(ReadOnlySpan<byte> frame, int segmentSize) => false;
    public Span<byte> SegmentedBuffer() => default;

    public byte[] Last => Frames[^1];

    public List<byte[]> Take()
    {
        var f = new List<byte[]>(Frames);
        Frames.Clear();
        return f;
    }

    public List<byte[]> OfType(ushort etherType)
    {
        var f = new List<byte[]>();
        foreach (var x in Frames) if (x.Length >= 14 && (x[12] << 8 | x[13]) == etherType) f.Add(x);
        return f;
    }
}

/// <summary>A hub: a frame one stack sends reaches every other stack on the next Pump (never
/// synchronously, so a stack is never re-entered while it sends).</summary>
public sealed class SimulatedEthernet
{
    private sealed class Port : IFrameLink
    {
        public SimulatedEthernet Wire = null!;
        public NetStack Stack = null!;

        public bool TrySend(ReadOnlySpan<byte> frame)
        {
            Wire._inFlight.Enqueue((this, frame.ToArray()));
            Wire.Sent.Add(frame.ToArray());
            return true;
        }

        public int SegmentedFrameBytes => Wire.SegmentedFrameBytes;
        public Span<byte> SegmentedBuffer() => default;

        /// <summary>Cuts the frame as an 8254x does (WireSegmentation.Cut) and sends each piece.</summary>
        public bool TrySendSegmented(ReadOnlySpan<byte> frame, int segmentSize)
        {
            if (Wire.SegmentedFrameBytes == 0 || frame.Length > Wire.SegmentedFrameBytes) return false;
            Wire.SegmentedSends++;
            foreach (byte[] piece in WireSegmentation.Cut(frame.ToArray(), segmentSize)) TrySend(piece);
            return true;
        }
    }

    /// <summary>Above 0: the ports cut segmented sends as a card with TCP segmentation does.</summary>
    public int SegmentedFrameBytes;
    /// <summary>Segmented sends the ports took.</summary>
    public int SegmentedSends;

    private readonly List<Port> _ports = new();
    private readonly Queue<(Port From, byte[] Frame)> _inFlight = new();
    public readonly List<byte[]> Sent = new();
    /// <summary>Return true to lose a frame.</summary>
    public Func<byte[], bool>? Drop;

    public NetStack Attach(MacAddress mac, NetStackOptions? options = null)
    {
        var port = new Port { Wire = this };
        var stack = new NetStack(mac, port, options);
        port.Stack = stack;
        _ports.Add(port);
        return stack;
    }

    /// <summary>Delivers frames (and those sent in answer) until the wire is quiet.</summary>
    public int Pump(long now)
    {
        int delivered = 0;
        while (_inFlight.Count > 0)
        {
            var (from, frame) = _inFlight.Dequeue();
            if (Drop != null && Drop(frame)) continue;
            foreach (var p in _ports)
                if (p != from)
                {
                    p.Stack.Receive(frame, now);
                    delivered++;
                }
        }
        return delivered;
    }
}

public static class NetFrames
{
    public static readonly MacAddress MacA = new(0x525400123456UL);
    public static readonly MacAddress MacB = new(0x525400ABCDEFUL);
    public static readonly MacAddress MacGateway = new(0x525500000002UL);
    public static readonly Ipv4Address IpA = new(10, 0, 2, 15);
    public static readonly Ipv4Address IpB = new(10, 0, 2, 16);
    public static readonly Ipv4Address IpGateway = new(10, 0, 2, 2);
    public static readonly Ipv4Address Mask24 = new(255, 255, 255, 0);

    public static NetStack Configured(CapturingLink link, NetStackOptions? options = null, MacAddress? mac = null)
    {
        var s = new NetStack(mac ?? MacA, link, options);
        // Configured in the past so that both gratuitous ARPs are out before time 0.
        s.Configure(IpA, Mask24, IpGateway, -10_000_000);
        s.Poll(-8_000_000);
        link.Frames.Clear();
        return s;
    }

    public static ushort Sum(ReadOnlySpan<byte> b)
    {
        // RFC 1071, written out again here (not the library's) for cross-checking.
        long s = 0;
        for (int i = 0; i < b.Length; i += 2) s += (b[i] << 8) | (i + 1 < b.Length ? b[i + 1] : 0);
        while ((s >> 16) != 0) s = (s & 0xFFFF) + (s >> 16);
        return (ushort)~s;
    }

    public static void Put(byte[] b, int at, uint v, int bytes)
    {
        for (int i = 0; i < bytes; i++) b[at + i] = (byte)(v >> (8 * (bytes - 1 - i)));
    }

    public static uint Get(byte[] b, int at, int bytes)
    {
        uint v = 0;
        for (int i = 0; i < bytes; i++) v = v << 8 | b[at + i];
        return v;
    }

    public static byte[] EthernetFrame(MacAddress dst, MacAddress src, ushort type, ReadOnlySpan<byte> payload)
    {
        var f = new byte[14 + payload.Length];
        Put(f, 0, (uint)(dst.Value >> 16), 4);
        Put(f, 4, (uint)dst.Value & 0xFFFF, 2);
        Put(f, 6, (uint)(src.Value >> 16), 4);
        Put(f, 10, (uint)src.Value & 0xFFFF, 2);
        Put(f, 12, type, 2);
        payload.CopyTo(f.AsSpan(14));
        return f;
    }

    public static byte[] Arp(ushort op, MacAddress sha, Ipv4Address spa, MacAddress tha, Ipv4Address tpa, MacAddress? ethDst = null)
    {
        var p = new byte[28];
        Put(p, 0, 1, 2);
        Put(p, 2, 0x0800, 2);
        p[4] = 6;
        p[5] = 4;
        Put(p, 6, op, 2);
        Put(p, 8, (uint)(sha.Value >> 16), 4);
        Put(p, 12, (uint)sha.Value & 0xFFFF, 2);
        Put(p, 14, spa.Value, 4);
        Put(p, 18, (uint)(tha.Value >> 16), 4);
        Put(p, 22, (uint)tha.Value & 0xFFFF, 2);
        Put(p, 24, tpa.Value, 4);
        return EthernetFrame(ethDst ?? (op == 1 ? MacAddress.Broadcast : tha), sha, 0x0806, p);
    }

    /// <summary>An IPv4 datagram (header with checksum + payload), no options unless given.</summary>
    public static byte[] Ipv4Datagram(Ipv4Address src, Ipv4Address dst, byte protocol, ReadOnlySpan<byte> payload,
        ushort id = 1, int flagsOffset = 0x4000, byte ttl = 64, byte[]? options = null)
    {
        int ihl = 20 + (options?.Length ?? 0);
        var d = new byte[ihl + payload.Length];
        d[0] = (byte)(0x40 | ihl / 4);
        Put(d, 2, (uint)d.Length, 2);
        Put(d, 4, id, 2);
        Put(d, 6, (uint)flagsOffset, 2);
        d[8] = ttl;
        d[9] = protocol;
        Put(d, 12, src.Value, 4);
        Put(d, 16, dst.Value, 4);
        options?.CopyTo(d, 20);
        Put(d, 10, Sum(d.AsSpan(0, ihl)), 2);
        payload.CopyTo(d.AsSpan(ihl));
        return d;
    }

    public static byte[] Ipv4Frame(Ipv4Address src, Ipv4Address dst, byte protocol, ReadOnlySpan<byte> payload,
        MacAddress? ethDst = null, MacAddress? ethSrc = null, ushort id = 1, int flagsOffset = 0x4000)
        => EthernetFrame(ethDst ?? MacA, ethSrc ?? MacB, 0x0800, Ipv4Datagram(src, dst, protocol, payload, id, flagsOffset));

    public static byte[] Udp(Ipv4Address src, Ipv4Address dst, ushort srcPort, ushort dstPort, ReadOnlySpan<byte> data, bool checksum = true)
    {
        var u = new byte[8 + data.Length];
        Put(u, 0, srcPort, 2);
        Put(u, 2, dstPort, 2);
        Put(u, 4, (uint)u.Length, 2);
        data.CopyTo(u.AsSpan(8));
        if (checksum)
        {
            var pseudo = new byte[12 + u.Length];
            Put(pseudo, 0, src.Value, 4);
            Put(pseudo, 4, dst.Value, 4);
            pseudo[9] = 17;
            Put(pseudo, 10, (uint)u.Length, 2);
            u.CopyTo(pseudo, 12);
            ushort s = Sum(pseudo);
            Put(u, 6, s == 0 ? 0xFFFFu : s, 2);
        }
        return u;
    }

    public static byte[] UdpFrame(Ipv4Address src, Ipv4Address dst, ushort srcPort, ushort dstPort, ReadOnlySpan<byte> data,
        MacAddress? ethDst = null, MacAddress? ethSrc = null)
        => Ipv4Frame(src, dst, 17, Udp(src, dst, srcPort, dstPort, data), ethDst, ethSrc);

    public static byte[] Echo(byte type, ushort id, ushort seq, ReadOnlySpan<byte> data)
    {
        var m = new byte[8 + data.Length];
        m[0] = type;
        Put(m, 4, id, 2);
        Put(m, 6, seq, 2);
        data.CopyTo(m.AsSpan(8));
        Put(m, 2, Sum(m), 2);
        return m;
    }

    public static byte[] EchoRequestFrame(ushort id = 0x1234, ushort seq = 1, int dataLength = 32, Ipv4Address? src = null)
    {
        var data = new byte[dataLength];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 7);
        return Ipv4Frame(src ?? IpB, IpA, 1, Echo(8, id, seq, data));
    }

    /// <summary>The IPv4 payload of an IPv4 frame (after the header).</summary>
    public static byte[] Payload(byte[] frame)
    {
        int ihl = (frame[14] & 15) * 4;
        int total = (int)Get(frame, 16, 2);
        return frame.AsSpan(14 + ihl, total - ihl).ToArray();
    }

    public static bool IsIpv4(byte[] f, byte protocol) => f.Length >= 34 && f[12] == 8 && f[13] == 0 && f[23] == protocol;
    public static Ipv4Address IpSource(byte[] f) => new(Get(f, 26, 4));
    public static Ipv4Address IpDestination(byte[] f) => new(Get(f, 30, 4));
    public static MacAddress EthDestination(byte[] f) => new(((ulong)Get(f, 0, 4) << 16) | Get(f, 4, 2));
}

/// <summary>A transport that records what it is handed (stands in for TCP).</summary>
public sealed class RecordingTransport : ITransport, IIcmpErrorReceiver
{
    public RecordingTransport(byte protocol) { Protocol = protocol; }
    public byte Protocol { get; }
    public readonly List<(Ipv4Address Source, Ipv4Address Destination, byte[] Payload)> Received = new();
    public readonly List<(byte Type, byte Code, uint Word, Ipv4Address Reporter, Ipv4Address OriginalDestination, byte[] Original)> Errors = new();

    public void Receive(Ipv4Address source, Ipv4Address destination, ReadOnlySpan<byte> payload, long nowMicros) =>
        Received.Add((source, destination, payload.ToArray()));

    public void IcmpError(byte type, byte code, uint rest, Ipv4Address reporter, Ipv4Address originalSource,
        Ipv4Address originalDestination, ReadOnlySpan<byte> original, long nowMicros) =>
        Errors.Add((type, code, rest, reporter, originalDestination, original.ToArray()));
}

/// <summary>What an 8254x does with a segmented send (its datasheet's "TCP Segmentation"), written
/// from the datasheet for the host tests, independently of LibOS.Net: the Ethernet, IP and TCP
/// headers copied in front of each piece of segmentSize payload bytes; in each, the IP total
/// length, the identification plus the piece's index, the sequence number plus the bytes before
/// it, PSH and FIN only on the last, and both checksums computed (the TCP one from the
/// pseudo-header sum without the length that the sender left in the field, plus the length).</summary>
public static class WireSegmentation
{
    public static List<byte[]> Cut(byte[] frame, int segmentSize)
    {
        int ip = (frame[14] & 0xF) * 4, tcp = (frame[14 + ip + 12] >> 4) * 4, headers = 14 + ip + tcp;
        int payload = frame.Length - headers;
        var pieces = new List<byte[]>();
        for (int index = 0, offset = 0; offset < payload; index++, offset += segmentSize)
        {
            int n = Math.Min(segmentSize, payload - offset);
            bool last = offset + n == payload;
            var p = new byte[headers + n];
            Array.Copy(frame, 0, p, 0, headers);
            Array.Copy(frame, headers + offset, p, headers, n);
            int totalLength = ip + tcp + n;
            p[16] = (byte)(totalLength >> 8); p[17] = (byte)totalLength;
            int id = ((frame[18] << 8) | frame[19]) + index;
            p[18] = (byte)(id >> 8); p[19] = (byte)id;
            uint seq = (uint)(frame[14 + ip + 4] << 24 | frame[14 + ip + 5] << 16 | frame[14 + ip + 6] << 8 | frame[14 + ip + 7]) + (uint)offset;
            p[14 + ip + 4] = (byte)(seq >> 24); p[14 + ip + 5] = (byte)(seq >> 16); p[14 + ip + 6] = (byte)(seq >> 8); p[14 + ip + 7] = (byte)seq;
            if (!last) p[14 + ip + 13] &= unchecked((byte)~0x09); // PSH, FIN
            p[24] = 0; p[25] = 0;
            ushort ipSum = Finish(Sum(p, 14, ip, 0));
            p[24] = (byte)(ipSum >> 8); p[25] = (byte)ipSum;
            uint partial = (uint)(frame[14 + ip + 16] << 8 | frame[14 + ip + 17]);
            p[14 + ip + 16] = 0; p[14 + ip + 17] = 0;
            ushort tcpSum = Finish(Sum(p, 14 + ip, tcp + n, partial + (uint)(tcp + n)));
            p[14 + ip + 16] = (byte)(tcpSum >> 8); p[14 + ip + 17] = (byte)tcpSum;
            pieces.Add(p);
        }
        return pieces;
    }

    private static uint Sum(byte[] b, int start, int length, uint sum)
    {
        for (int i = 0; i < length; i += 2)
            sum += (uint)(b[start + i] << 8 | (i + 1 < length ? b[start + i + 1] : 0));
        return sum;
    }

    private static ushort Finish(uint sum)
    {
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }
}
