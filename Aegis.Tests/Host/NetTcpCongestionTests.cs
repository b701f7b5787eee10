// TCP's sending policy: fast retransmit and NewReno recovery (RFC 5681, RFC 6582) with the
// values they prescribe, slow start's initial window (RFC 6928), Nagle against NODELAY, window
// scaling (RFC 7323) both ways with a window beyond 64 KiB in use, MSS negotiation.
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.TcpTestKit;

namespace Aegis.Tests.Host;

public class NetTcpCongestionTests
{
    private static (SimNet, SimHost, SimHost, TcpConnection, TcpConnection) Link()
    {
        var (net, ch, sh) = Pair();
        net.BytesPerSecond = 10_000_000;
        net.DelayMicros = 5_000;
        var (c, s, _) = Connect(net, ch, sh, clientOptions: o => o.NoDelay = true);
        return (net, ch, sh, c, s);
    }

    /// <summary>Drops the first transmission of the data segments starting at these offsets.</summary>
    private static void DropFirstTransmissionOf(SimNet net, SimHost from, TcpConnection c, params int[] segmentIndexes)
    {
        var pending = new HashSet<uint>(segmentIndexes.Select(i => c.InitialSendSequence + 1 + (uint)(i * c.SendMss)));
        net.Filter = p => p.From == from && p.Segment.DataLength > 0 && pending.Remove(p.Segment.Seq);
    }

    [Test]
    public void TheInitialWindowIsTenSegments()
    {
        var (net, ch, sh, c, s) = Link();
        Assert.That(c.CongestionWindow, Is.EqualTo((uint)(10 * c.SendMss)));
        net.Log = new List<SimPacket>();
        net.Down = true;
        c.Send(Pattern(100_000, 1), net.Now);
        Assert.That(net.Log.Count(p => p.Segment.DataLength > 0), Is.EqualTo(10));
    }

    [Test]
    public void FastRetransmitAfterThreeDuplicateAcksSetsSsthreshAndCwndPerNewReno()
    {
        var (net, ch, sh, c, s) = Link();
        int mss = c.SendMss;
        DropFirstTransmissionOf(net, ch, c, 40);
        var data = Pattern(400 * mss, 2);
        int sent = 0;
        uint flight = 0;
        bool entered = net.RunUntil(() =>
        {
            if (sent < data.Length) { int n = c.Send(data.AsSpan(sent), net.Now); if (n > 0) sent += n; }
            Drain(s, net.Now);
            if (!c.InFastRecovery) flight = c.SendNext - c.SendUnacknowledged;
            return c.InFastRecovery;
        }, 10_000_000);
        Assert.That(entered, Is.True);
        Assert.That(ch.Tcp.Counters.FastRetransmits, Is.EqualTo(1));
        uint expectedSsthresh = Math.Max(flight / 2, 2u * (uint)mss);
        Assert.That(c.SlowStartThreshold, Is.EqualTo(expectedSsthresh), "ssthresh = max(FlightSize / 2, 2 SMSS)");
        Assert.That(c.CongestionWindow, Is.EqualTo(expectedSsthresh + 3u * (uint)mss), "cwnd = ssthresh + 3 SMSS");
        uint cwndAtEntry = c.CongestionWindow;
        net.RunUntil(() => c.CongestionWindow != cwndAtEntry, 1_000_000);
        Assert.That(c.CongestionWindow, Is.EqualTo(cwndAtEntry + (uint)mss), "each further duplicate ACK inflates by one SMSS");
        net.RunUntil(() => { Drain(s, net.Now); return !c.InFastRecovery; }, 1_000_000);
        Assert.That(c.CongestionWindow, Is.LessThanOrEqualTo(expectedSsthresh), "deflated on the full ACK");
        Assert.That(c.CongestionWindow, Is.GreaterThanOrEqualTo((uint)mss));
        Assert.That(c.SlowStartThreshold, Is.EqualTo(expectedSsthresh));
        var rest = Transfer(net, c, s, data.AsSpan(sent).ToArray(), 60_000_000);
        Assert.That(ch.Tcp.Counters.RetransmissionTimeouts, Is.EqualTo(0));
        Assert.That(ch.Tcp.Counters.Retransmissions, Is.EqualTo(1));
    }

    [Test]
    public void TwoLossesInOneWindowAreRepairedByAPartialAckWithoutATimeout()
    {
        var (net, ch, sh, c, s) = Link();
        int mss = c.SendMss;
        DropFirstTransmissionOf(net, ch, c, 40, 44);
        var data = Pattern(300 * mss, 3);
        var got = Transfer(net, c, s, data, 60_000_000);
        Assert.That(got, Is.EqualTo(data));
        Assert.That(ch.Tcp.Counters.FastRetransmits, Is.EqualTo(1), "one recovery episode");
        Assert.That(ch.Tcp.Counters.Retransmissions, Is.EqualTo(2), "the second hole resent on the partial ACK");
        Assert.That(ch.Tcp.Counters.RetransmissionTimeouts, Is.EqualTo(0));
    }

    [Test]
    public void ATimeoutCollapsesCwndToOneSegmentAndHalvesSsthresh()
    {
        var (net, ch, sh, c, s) = Link();
        int mss = c.SendMss;
        net.Down = true;
        c.Send(Pattern(8 * mss, 4), net.Now);
        uint flight = c.SendNext - c.SendUnacknowledged;
        net.RunUntil(() => ch.Tcp.Counters.RetransmissionTimeouts == 1, 5_000_000);
        Assert.That(c.CongestionWindow, Is.EqualTo((uint)mss));
        Assert.That(c.SlowStartThreshold, Is.EqualTo(Math.Max(flight / 2, 2u * (uint)mss)));
        net.Down = false;
        net.RunUntil(() => c.SendQueued == 0, 10_000_000);
        Assert.That(c.SendQueued, Is.EqualTo(0));
    }

    [Test]
    public void NagleCoalescesSmallWritesWhileDataIsUnacknowledged()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh);
        net.Log = new List<SimPacket>();
        for (int i = 0; i < 10; i++) Assert.That(c.Send(new[] { (byte)i }, net.Now), Is.EqualTo(1));
        net.Run(500_000);
        var data = net.Log.Where(p => p.From == ch && p.Segment.DataLength > 0).Select(p => p.Segment.DataLength).ToList();
        Assert.That(data, Is.EqualTo(new[] { 1, 9 }));
        Assert.That(Drain(s, net.Now), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (byte)i).ToArray()));
    }

    [Test]
    public void NoDelaySendsEverySmallWriteAtOnce()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh, clientOptions: o => o.NoDelay = true);
        net.Log = new List<SimPacket>();
        for (int i = 0; i < 10; i++) c.Send(new[] { (byte)i }, net.Now);
        net.Run(500_000);
        var data = net.Log.Where(p => p.From == ch && p.Segment.DataLength > 0).Select(p => p.Segment.DataLength).ToList();
        Assert.That(data, Is.EqualTo(Enumerable.Repeat(1, 10)));
        Assert.That(Drain(s, net.Now), Has.Length.EqualTo(10));
    }

    /// <summary>TCP_NODELAY set while Nagle holds a small segment (data unacknowledged) sends
    /// it at once (Push, as InetSockets' setsockopt does), before the ACK that Nagle waits for.</summary>
    [Test]
    public void SettingNoDelayPushesWhatNagleHolds()
    {
        var (net, ch, sh) = Pair();
        net.DelayMicros = 50_000; // the first byte's ACK comes back after 100 ms
        var (c, s, _) = Connect(net, ch, sh);
        net.Log = new List<SimPacket>();
        long start = net.Now;
        c.Send(new byte[] { 1 }, net.Now);
        c.Send(new byte[] { 2, 3 }, net.Now);
        net.Run(10_000);
        var held = net.Log.Where(p => p.From == ch && p.Segment.DataLength > 0).Select(p => p.Segment.DataLength).ToList();
        Assert.That(held, Is.EqualTo(new[] { 1 }), "Nagle holds the second write while the first is in flight");
        c.Options.NoDelay = true;
        c.Push(net.Now);
        var data = net.Log.Where(p => p.From == ch && p.Segment.DataLength > 0).Select(p => (p.Time - start, p.Segment.DataLength)).ToList();
        Assert.That(data, Is.EqualTo(new[] { (0L, 1), (10_000L, 2) }), "pushed at once, not at the ACK (100 ms)");
        net.Run(500_000);
        Assert.That(Drain(s, net.Now), Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    /// <summary>Setting TCP_NODELAY flushes even a corked connection (tcp(7)); the cork stays on.</summary>
    [Test]
    public void SettingNoDelayFlushesACorkedConnection()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh, clientOptions: o => o.Cork = true);
        net.Log = new List<SimPacket>();
        c.Send(Pattern(40, 7), net.Now);
        net.Run(50_000);
        Assert.That(net.Log.Count(p => p.From == ch && p.Segment.DataLength > 0), Is.Zero, "corked");
        c.Options.NoDelay = true;
        c.Push(net.Now);
        Assert.That(net.Log.Where(p => p.From == ch && p.Segment.DataLength > 0).Select(p => p.Segment.DataLength), Is.EqualTo(new[] { 40 }));
        Assert.That(c.Options.Cork, Is.True);
        net.Run(500_000);
        Assert.That(ch.Tcp.Counters.CorkTimeouts, Is.Zero, "nothing was left for the ceiling");
        Assert.That(Drain(s, net.Now), Is.EqualTo(Pattern(40, 7)));
    }

    [Test]
    public void WindowScaleIsNegotiatedBothWaysAndAWindowBeyond64KiBIsUsed()
    {
        var (net, ch, sh) = Pair();
        net.BytesPerSecond = 100_000_000 / 8;
        net.DelayMicros = 10_000;
        var (c, s, _) = Connect(net, ch, sh,
            clientOptions: o => o.ReceiveBufferSize = 1 << 20,
            serverOptions: o => { o.ReceiveBufferSize = 256 * 1024; o.SendBufferSize = 1 << 20; });
        Assert.That(c.ReceiveWindowScale, Is.EqualTo(5));
        Assert.That(c.SendWindowScale, Is.EqualTo(3));
        Assert.That(s.ReceiveWindowScale, Is.EqualTo(3));
        Assert.That(s.SendWindowScale, Is.EqualTo(5));
        var data = Pattern(8 << 20, 5);
        uint maxFlight = 0;
        int sent = 0;
        var got = new MemoryStream();
        var buf = new byte[1 << 20];
        net.RunUntil(() =>
        {
            while (sent < data.Length) { int n = s.Send(data.AsSpan(sent), net.Now); if (n <= 0) break; sent += n; }
            maxFlight = Math.Max(maxFlight, s.SendNext - s.SendUnacknowledged);
            int r;
            while ((r = c.Receive(buf, net.Now)) > 0) got.Write(buf, 0, r);
            return got.Length == data.Length;
        }, 60_000_000);
        Assert.That(got.ToArray(), Is.EqualTo(data));
        Assert.That(s.SendWindow, Is.GreaterThan(65535u));
        Assert.That(maxFlight, Is.GreaterThan(200_000u), "more than 64 KiB in flight");
    }

    [Test]
    public void APeerWithoutWindowScalingGetsNoScaleOptionAndUnscaledWindows()
    {
        var (net, ch, sh) = Pair();
        var l = sh.Tcp.CreateListener();
        l.Listen(Ipv4Address.Any, 80, 4);
        net.Log = new List<SimPacket>();
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, 3333, 80, 1000, 0, TcpSegment.Syn, 8192, mss: 1200));
        var synAck = net.Log.Single().Segment;
        Assert.That(synAck.HasSyn && synAck.HasAck, Is.True);
        Assert.That(synAck.WindowScale, Is.EqualTo(-1));
        Assert.That(synAck.Mss, Is.EqualTo(1460));
        Assert.That(synAck.Window, Is.EqualTo(65535));
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, 3333, 80, 1001, synAck.Seq + 1, TcpSegment.Ack, 8192));
        var s = l.Accept(out _);
        Assert.That(s, Is.Not.Null);
        Assert.That(s.SendMss, Is.EqualTo(1200), "the peer's MSS");
        Assert.That(s.ReceiveWindowScale, Is.EqualTo(0));
        Assert.That(s.SendWindow, Is.EqualTo(8192u));
        s.Send(Pattern(100, 1), net.Now);
        Assert.That(net.Log.Last().Segment.Window, Is.EqualTo(65535), "128 KiB of buffer, unscaled: capped");
    }

    [Test]
    public void WithoutAnMssOptionThePeerGets536ByteSegments()
    {
        var (net, ch, sh) = Pair();
        var l = sh.Tcp.CreateListener();
        l.Listen(Ipv4Address.Any, 80, 4);
        net.Log = new List<SimPacket>();
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, 3333, 80, 1000, 0, TcpSegment.Syn, 65535));
        var synAck = net.Log.Single().Segment;
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, 3333, 80, 1001, synAck.Seq + 1, TcpSegment.Ack, 65535));
        var s = l.Accept(out _);
        Assert.That(s.SendMss, Is.EqualTo(536));
        s.Options.NoDelay = true;
        s.Send(Pattern(2000, 1), net.Now);
        Assert.That(net.Log.Skip(1).Select(p => p.Segment.DataLength), Is.EqualTo(new[] { 536, 536, 536, 392 }));
    }

    [Test]
    public void ASmallerLinkMtuLowersTheMssWeAnnounce()
    {
        var (net, ch, sh) = Pair();
        ch.Mtu = 1000;
        var (c, s, _) = Connect(net, ch, sh);
        Assert.That(c.AnnouncedMss, Is.EqualTo(960));
        Assert.That(s.SendMss, Is.EqualTo(960));
        Assert.That(c.SendMss, Is.EqualTo(960));
    }
}
