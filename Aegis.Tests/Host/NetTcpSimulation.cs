// A simulated network for the TCP host tests (NetTcp*Tests): hosts, each a Tcp behind a fake
// IIpv4Output, joined by a link with a virtual clock, delay, bandwidth, random and every-Nth
// loss, reordering, duplication and corruption, plus a per-packet hook for tests that drop or
// inspect particular segments.
using Aegis.LibOS.Net;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public sealed class SimPacket
{
    public long Time;
    public long Order;
    public SimHost From;
    public Ipv4Address Source;
    public Ipv4Address Destination;
    public byte[] Data;

    public TcpSegment Segment
    {
        get
        {
            TcpSegment.TryParse(Data, out var s);
            return s;
        }
    }

    public override string ToString()
    {
        var s = Segment;
        string f = "";
        if (s.HasSyn) f += "S";
        if (s.HasAck) f += "A";
        if (s.HasFin) f += "F";
        if (s.HasRst) f += "R";
        return $"{Time} {Source}:{s.SourcePort}>{Destination}:{s.DestinationPort} [{f}] seq={s.Seq} ack={s.AckNumber} win={s.Window} len={s.DataLength}";
    }
}

public sealed class SimHost : IIpv4Output
{
    public readonly SimNet Net;
    public readonly Ipv4Address Address;
    public readonly Tcp Tcp;
    public int Mtu = 1500;

    public SimHost(SimNet net, Ipv4Address address, ulong seed)
    {
        Net = net;
        Address = address;
        Tcp = new Tcp(this, seed, seed * 31 + 7);
    }

    public Ipv4Address SourceFor(Ipv4Address destination) => Address;
    public int MaxPayload(Ipv4Address destination) => Mtu - 20;

    public bool Send(Ipv4Address destination, byte protocol, ReadOnlySpan<byte> payload)
    {
        Net.Enqueue(this, destination, payload.ToArray());
        return true;
    }

    /// <summary>Above 0: this host's "card" cuts large TCP segments (WireSegmentation, as an 8254x).</summary>
    public int SegmentedLimit;
    /// <summary>Large segments cut so far.</summary>
    public int SegmentedSends;

    public int SegmentedPayloadLimit(int tcpHeaderBytes) => SegmentedLimit;
    public Span<byte> TcpSegmentedRoom(int length) => default;

    public bool SendTcpSegmented(Ipv4Address destination, ReadOnlySpan<byte> segment, int tcpHeaderBytes, int segmentSize)
    {
        Assert.That(SegmentedLimit, Is.GreaterThan(0), "a segmented send on a host that does not cut");
        Assert.That(segment.Length - tcpHeaderBytes, Is.GreaterThan(segmentSize).And.LessThanOrEqualTo(SegmentedLimit), "a segmented send's payload");
        SegmentedSends++;
        // As the card sees it: an Ethernet and IPv4 header in front, the pseudo-header's sum
        // without the length in the checksum field; the pieces lose those headers again.
        var frame = new byte[34 + segment.Length];
        frame[12] = 0x08; frame[14] = 0x45; frame[23] = 6;
        segment.CopyTo(frame.AsSpan(34));
        uint pseudo = (Address.Value >> 16) + (Address.Value & 0xFFFF) + (destination.Value >> 16) + (destination.Value & 0xFFFF) + 6;
        while (pseudo >> 16 != 0) pseudo = (pseudo & 0xFFFF) + (pseudo >> 16);
        frame[34 + 16] = (byte)(pseudo >> 8); frame[34 + 17] = (byte)pseudo;
        foreach (byte[] piece in WireSegmentation.Cut(frame, segmentSize)) Net.Enqueue(this, destination, piece.AsSpan(34).ToArray());
        return true;
    }
}

public sealed class SimNet
{
    public long Now;
    public long DelayMicros = 1000;
    /// <summary>Link rate per direction in bytes per second (0: infinite).</summary>
    public long BytesPerSecond;
    public double LossRate;
    public int DropEveryNth;
    public double ReorderRate;
    public long ReorderDelayMicros = 3000;
    public double DuplicateRate;
    public double CorruptRate;
    public bool Down;
    /// <summary>Return true to drop the packet (called for each packet sent).</summary>
    public Func<SimPacket, bool> Filter;
    /// <summary>Every packet sent (before loss; Time is the sending time), when non-null.</summary>
    public List<SimPacket> Log;
    public long Sent, Delivered, Lost;

    private readonly Random _random;
    private readonly PriorityQueue<SimPacket, (long, long)> _queue = new();
    private readonly Dictionary<uint, SimHost> _hosts = new();
    private readonly Dictionary<SimHost, long> _linkFree = new();
    private long _order;
    private long _nth;

    public SimNet(int seed = 1) { _random = new Random(seed); }

    public SimHost AddHost(Ipv4Address address, ulong seed = 0)
    {
        var h = new SimHost(this, address, seed == 0 ? (ulong)(_hosts.Count + 1) * 0x1234567UL : seed);
        _hosts[address.Value] = h;
        return h;
    }

    public void Enqueue(SimHost from, Ipv4Address destination, byte[] data)
    {
        var p = new SimPacket { From = from, Source = from.Address, Destination = destination, Data = data, Order = _order++, Time = Now };
        Sent++;
        Log?.Add(p);
        if (Filter != null && Filter(p)) { Lost++; return; }
        if (Down) { Lost++; return; }
        if (DropEveryNth > 0 && ++_nth % DropEveryNth == 0) { Lost++; return; }
        if (LossRate > 0 && _random.NextDouble() < LossRate) { Lost++; return; }
        long t = Now;
        if (BytesPerSecond > 0)
        {
            _linkFree.TryGetValue(from, out long free);
            if (free < Now) free = Now;
            free += (data.Length + 40) * 1000000L / BytesPerSecond;
            _linkFree[from] = free;
            t = free;
        }
        t += DelayMicros;
        if (ReorderRate > 0 && _random.NextDouble() < ReorderRate) t += 1 + _random.NextInt64(ReorderDelayMicros);
        if (CorruptRate > 0 && _random.NextDouble() < CorruptRate)
        {
            data = (byte[])data.Clone();
            data[_random.Next(data.Length)] ^= (byte)(1 + _random.Next(255));
        }
        _queue.Enqueue(new SimPacket { From = from, Source = p.Source, Destination = destination, Data = data, Time = t, Order = p.Order }, (t, p.Order));
        if (DuplicateRate > 0 && _random.NextDouble() < DuplicateRate)
        {
            long t2 = t + 1 + _random.NextInt64(ReorderDelayMicros);
            _queue.Enqueue(new SimPacket { From = from, Source = p.Source, Destination = destination, Data = data, Time = t2, Order = _order }, (t2, _order++));
        }
    }

    /// <summary>Injects a packet at once (tests crafting segments).</summary>
    public void Inject(Ipv4Address source, Ipv4Address destination, byte[] data)
    {
        if (_hosts.TryGetValue(destination.Value, out var h)) h.Tcp.Receive(source, destination, data, Now);
    }

    private long NextEvent()
    {
        long t = long.MaxValue;
        if (_queue.TryPeek(out var p, out _)) t = p.Time;
        foreach (var h in _hosts.Values)
        {
            long d = h.Tcp.NextDeadlineMicros;
            if (d < t) t = d;
        }
        return t;
    }

    /// <summary>Runs events until <paramref name="done"/> holds (checked after every event) or
    /// <paramref name="forMicros"/> of virtual time pass. True when done held.</summary>
    public bool RunUntil(Func<bool> done, long forMicros)
    {
        long end = Now + forMicros;
        while (true)
        {
            if (done != null && done()) return true;
            long t = NextEvent();
            if (t > end)
            {
                Now = end;
                return done != null && done();
            }
            if (t > Now) Now = t;
            while (_queue.TryPeek(out var p, out _) && p.Time <= Now)
            {
                _queue.Dequeue();
                if (_hosts.TryGetValue(p.Destination.Value, out var h))
                {
                    Delivered++;
                    h.Tcp.Receive(p.Source, p.Destination, p.Data, Now);
                }
            }
            foreach (var h in _hosts.Values)
                if (h.Tcp.NextDeadlineMicros <= Now) h.Tcp.Poll(Now);
        }
    }

    public void Run(long micros) => RunUntil(null, micros);

    public int InFlight => _queue.Count;
}

/// <summary>Helpers shared by the TCP tests.</summary>
public static class TcpTestKit
{
    public static readonly Ipv4Address ClientAddress = new(10, 0, 0, 1);
    public static readonly Ipv4Address ServerAddress = new(10, 0, 0, 2);

    public static (SimNet net, SimHost client, SimHost server) Pair(int seed = 1)
    {
        var net = new SimNet(seed);
        var c = net.AddHost(ClientAddress, 0xC11E47UL + (ulong)seed);
        var s = net.AddHost(ServerAddress, 0x5E4E4UL + (ulong)seed);
        return (net, c, s);
    }

    /// <summary>A listener on the server and an established pair (client side, server side).</summary>
    public static (TcpConnection client, TcpConnection server, TcpListener listener) Connect(SimNet net, SimHost client, SimHost server,
        int port = 80, Action<TcpSocketOptions> clientOptions = null, Action<TcpSocketOptions> serverOptions = null)
    {
        var l = server.Tcp.CreateListener();
        serverOptions?.Invoke(l.Options);
        Assert.That(l.Listen(Ipv4Address.Any, port, 128), Is.EqualTo(TcpError.None));
        var c = client.Tcp.CreateConnection();
        clientOptions?.Invoke(c.Options);
        Assert.That(c.Connect(server.Address, port, net.Now), Is.EqualTo(TcpError.InProgress));
        TcpConnection accepted = null;
        Assert.That(net.RunUntil(() => (accepted ??= l.Accept(out _)) != null && c.State == TcpState.Established, 10_000_000), Is.True,
            "handshake");
        return (c, accepted, l);
    }

    public static byte[] Pattern(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>Pushes <paramref name="data"/> from one side to the other (the sender closes
    /// when done if asked); returns what the receiver read until EOF or the limit.</summary>
    public static byte[] Transfer(SimNet net, TcpConnection from, TcpConnection to, byte[] data, long limitMicros, bool closeAfter = true,
        int readChunk = 65536, bool stable = false)
    {
        int sent = 0;
        var got = new MemoryStream();
        var buf = new byte[readChunk];
        bool eof = false, closed = false;
        net.RunUntil(() =>
        {
            while (sent < data.Length)
            {
                int n = stable ? from.SendStable(data, sent, data.Length - sent, net.Now) : from.Send(data.AsSpan(sent), net.Now);
                if (n <= 0) break;
                sent += n;
            }
            if (sent == data.Length && closeAfter && !closed)
            {
                from.Shutdown(false, true, net.Now);
                closed = true;
            }
            while (true)
            {
                int n = to.Receive(buf, net.Now);
                if (n > 0) { got.Write(buf, 0, n); continue; }
                if (n == 0) eof = true;
                break;
            }
            return closeAfter ? eof : got.Length >= data.Length;
        }, limitMicros);
        return got.ToArray();
    }

    /// <summary>Reads everything available now.</summary>
    public static byte[] Drain(TcpConnection c, long now)
    {
        var got = new MemoryStream();
        var buf = new byte[65536];
        while (true)
        {
            int n = c.Receive(buf, now);
            if (n <= 0) break;
            got.Write(buf, 0, n);
        }
        return got.ToArray();
    }

    /// <summary>A raw segment (checksum filled) for injection.</summary>
    public static byte[] Segment(Ipv4Address src, Ipv4Address dst, int sport, int dport, uint seq, uint ack, byte flags, int window,
        byte[] data = null, int mss = -1, int ws = -1)
    {
        data ??= Array.Empty<byte>();
        var b = new byte[60 + data.Length];
        int hl = TcpSegment.Write(b, sport, dport, seq, ack, flags, window, mss, ws);
        data.CopyTo(b, hl);
        var seg = b.AsSpan(0, hl + data.Length).ToArray();
        TcpSegment.SetChecksum(seg, src, dst);
        return seg;
    }
}
