// TCP's timers: RFC 6298's RTO from known samples and through a connection, exponential
// backoff and ETIMEDOUT, delayed ACKs, the persist timer behind a zero window, keep-alive, the
// cork's 200 ms ceiling.
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.TcpTestKit;

namespace Aegis.Tests.Host;

public class NetTcpTimerTests
{
    [Test]
    public void RtoIsComputedPerRfc6298FromKnownSamples()
    {
        var e = new TcpRttEstimator(1_000_000, 200_000, 60_000_000);
        Assert.That(e.Rto, Is.EqualTo(1_000_000), "initial RTO 1 s");
        e.Sample(100_000);
        Assert.That(e.Srtt, Is.EqualTo(100_000));
        Assert.That(e.RttVar, Is.EqualTo(50_000));
        Assert.That(e.Rto, Is.EqualTo(300_000), "SRTT + 4 RTTVAR");
        e.Sample(200_000);
        // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5 ms; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5 ms.
        Assert.That(e.RttVar, Is.EqualTo(62_500));
        Assert.That(e.Srtt, Is.EqualTo(112_500));
        Assert.That(e.Rto, Is.EqualTo(362_500));
        for (int i = 0; i < 200; i++) e.Sample(1_000);
        Assert.That(e.Rto, Is.EqualTo(200_000), "clamped to the 200 ms minimum");
        e.Backoff();
        Assert.That(e.Rto, Is.EqualTo(400_000));
        for (int i = 0; i < 20; i++) e.Backoff();
        Assert.That(e.Rto, Is.EqualTo(60_000_000), "capped at 60 s");
        e.Sample(50_000);
        Assert.That(e.Backoffs, Is.EqualTo(0));
        Assert.That(e.Rto, Is.LessThan(1_000_000), "a new sample ends the backoff");
    }

    [Test]
    public void TheHandshakeGivesBothSidesAnRttSample()
    {
        var (net, ch, sh) = Pair();
        net.DelayMicros = 50_000;
        var (c, s, _) = Connect(net, ch, sh);
        Assert.That(c.Rtt.Srtt, Is.EqualTo(100_000));
        Assert.That(c.Rtt.Rto, Is.EqualTo(300_000));
        Assert.That(s.Rtt.Srtt, Is.EqualTo(100_000));
        Assert.That(s.Rtt.Rto, Is.EqualTo(300_000));
    }

    [Test]
    public void RetransmissionTimerBacksOffExponentiallyThenTimesOut()
    {
        var (net, ch, sh) = Pair();
        net.DelayMicros = 50_000;
        ch.Tcp.MaxRetransmissions = 6;
        ch.Tcp.MaxRtoMicros = 5_000_000;    // tunables apply to connections made afterwards
        var (c, s, _) = Connect(net, ch, sh);
        net.Log = new List<SimPacket>();
        net.Down = true;
        long start = net.Now;
        Assert.That(c.Send("doomed"u8, net.Now), Is.EqualTo(6));
        net.RunUntil(() => c.State == TcpState.Closed, 120_000_000);
        var times = net.Log.Where(p => p.From == ch && p.Segment.DataLength > 0).Select(p => p.Time - start).ToList();
        var gaps = times.Zip(times.Skip(1), (a, b) => b - a).ToList();
        Assert.That(gaps, Is.EqualTo(new long[] { 300_000, 600_000, 1_200_000, 2_400_000, 4_800_000, 5_000_000 }));
        Assert.That(c.PendingError, Is.EqualTo(TcpError.TimedOut));
        Assert.That(net.Now - start, Is.EqualTo(300_000 + 600_000 + 1_200_000 + 2_400_000 + 4_800_000 + 5_000_000 + 5_000_000L));
        Assert.That(net.Log.Last().Segment.HasRst, Is.True, "a RST goes out on giving up");
        Assert.That(c.Send("x"u8, net.Now), Is.EqualTo(-(int)TcpError.TimedOut));
        Assert.That(c.Readiness & TcpReadiness.HangUp, Is.EqualTo(TcpReadiness.HangUp));
    }

    /// <summary>TCP_CORK (Linux, tcp(7)): full segments leave at once, the partial one the cork
    /// holds leaves 200 ms after it was first held, and the cork stays on: the next partial
    /// segment waits its own 200 ms. Writes meanwhile join the held segment.</summary>
    [Test]
    public void ACorkedPartialSegmentLeavesAtTheTwoHundredMillisecondCeiling()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh, clientOptions: o => o.Cork = true);
        net.Log = new List<SimPacket>();
        int mss = c.SendMss;
        long start = net.Now;
        byte[] first = Pattern(2 * mss + 100, 3);
        Assert.That(c.Send(first, net.Now), Is.EqualTo(first.Length));
        net.Run(50_000);
        Assert.That(c.Send(Pattern(20, 4), net.Now), Is.EqualTo(20), "joins the held segment");
        net.Run(400_000);
        var data = net.Log.Where(p => p.From == ch && p.Segment.DataLength > 0).Select(p => (p.Time - start, p.Segment.DataLength)).ToList();
        Assert.That(data, Is.EqualTo(new[] { (0L, mss), (0L, mss), (200_000L, 120) }), "full segments at once, the partial one at the ceiling");
        Assert.That(c.Options.Cork, Is.True, "the cork stays on");
        Assert.That(ch.Tcp.Counters.CorkTimeouts, Is.EqualTo(1));

        net.Log.Clear();
        long second = net.Now;
        Assert.That(c.Send(Pattern(10, 5), net.Now), Is.EqualTo(10));
        net.Run(199_000);
        Assert.That(net.Log.Count(p => p.From == ch && p.Segment.DataLength > 0), Is.Zero, "held again, for its own 200 ms");
        net.Run(100_000);
        var later = net.Log.Where(p => p.From == ch && p.Segment.DataLength > 0).Select(p => (p.Time - second, p.Segment.DataLength)).ToList();
        Assert.That(later, Is.EqualTo(new[] { (200_000L, 10) }));
        Assert.That(Drain(s, net.Now), Is.EqualTo(first.Concat(Pattern(20, 4)).Concat(Pattern(10, 5)).ToArray()));
    }

    /// <summary>Uncorking before the ceiling sends at once and disarms it: nothing more goes at 200 ms.</summary>
    [Test]
    public void UncorkingBeforeTheCeilingSendsAtOnceAndDisarmsIt()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh, clientOptions: o => o.Cork = true);
        net.Log = new List<SimPacket>();
        long start = net.Now;
        c.Send(Pattern(30, 6), net.Now);
        net.Run(100_000);
        c.Uncork(net.Now);
        net.Run(500_000);
        var data = net.Log.Where(p => p.From == ch && p.Segment.DataLength > 0).Select(p => (p.Time - start, p.Segment.DataLength)).ToList();
        Assert.That(data, Is.EqualTo(new[] { (100_000L, 30) }));
        Assert.That(ch.Tcp.Counters.CorkTimeouts, Is.Zero);
        Assert.That(Drain(s, net.Now), Is.EqualTo(Pattern(30, 6)));
    }

    [Test]
    public void DelayedAckAcknowledgesEverySecondFullSegmentAndASingleOneAfterTheTimer()
    {
        var (net, ch, sh) = Pair();
        net.BytesPerSecond = 10_000_000;
        var (c, s, _) = Connect(net, ch, sh, clientOptions: o => o.NoDelay = true);
        net.Log = new List<SimPacket>();
        int mss = c.SendMss;
        Assert.That(c.Send(Pattern(20 * mss, 1), net.Now), Is.EqualTo(20 * mss));
        net.Run(500_000);
        var acks = net.Log.Where(p => p.From == sh && p.Segment.HasAck && p.Segment.DataLength == 0).ToList();
        var data = net.Log.Where(p => p.From == ch && p.Segment.DataLength > 0).ToList();
        Assert.That(data, Has.Count.EqualTo(20));
        Assert.That(acks, Has.Count.EqualTo(10));
        Assert.That(sh.Tcp.Counters.DelayedAcks, Is.EqualTo(0));

        net.Log.Clear();
        long t0 = net.Now;
        c.Send("x"u8, net.Now);
        net.Run(500_000);
        var ack = net.Log.Single(p => p.From == sh);
        var seg = net.Log.Single(p => p.From == ch);
        Assert.That(ack.Time - seg.Time - net.DelayMicros, Is.EqualTo(sh.Tcp.DelayedAckMicros).Within(100), "sent at, plus the delay, plus 40 ms");
        Assert.That(sh.Tcp.Counters.DelayedAcks, Is.EqualTo(1));
    }

    [Test]
    public void AReplyPiggybacksTheAckInsteadOfADelayedOne()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh);
        net.Log = new List<SimPacket>();
        c.Send("ping"u8, net.Now);
        net.RunUntil(() => s.ReceiveAvailable == 4, 100_000);
        Drain(s, net.Now);
        s.Send("pong"u8, net.Now);
        net.Run(300_000);
        Assert.That(net.Log.Count(p => p.From == sh), Is.EqualTo(1), string.Join("\n", net.Log));
        Assert.That(sh.Tcp.Counters.DelayedAcks, Is.EqualTo(0));
    }

    [Test]
    public void ZeroWindowIsProbedWithBackoffAndTheTransferResumesWhenTheReaderReads()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh, serverOptions: o => o.ReceiveBufferSize = 8192);
        var data = Pattern(100_000, 2);
        int sent = c.Send(data, net.Now);
        net.Run(40_000_000);
        Assert.That(c.SendWindow, Is.EqualTo(0u));
        Assert.That(s.AdvertisedWindow, Is.EqualTo(0u));
        Assert.That(c.State, Is.EqualTo(TcpState.Established));
        long probes = ch.Tcp.Counters.ZeroWindowProbes;
        Assert.That(probes, Is.InRange(3, 12), "probes back off");
        Assert.That(s.ReceiveAvailable, Is.EqualTo(8192));
        var got = new MemoryStream();
        var buf = new byte[1000];
        bool done = net.RunUntil(() =>
        {
            while (sent < data.Length)
            {
                int n = c.Send(data.AsSpan(sent), net.Now);
                if (n <= 0) break;
                sent += n;
            }
            int r;
            while ((r = s.Receive(buf, net.Now)) > 0) got.Write(buf, 0, r);
            return got.Length == data.Length;
        }, 10_000_000);
        Assert.That(done, Is.True);
        Assert.That(got.ToArray(), Is.EqualTo(data));
    }

    [Test]
    public void ALostWindowUpdateIsRecoveredByAPersistProbe()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh, serverOptions: o => o.ReceiveBufferSize = 8192);
        c.Send(Pattern(20_000, 3), net.Now);
        net.Run(1_000_000);
        Assert.That(c.SendWindow, Is.EqualTo(0u));
        bool dropped = false;
        net.Filter = p =>
        {
            if (dropped || p.From != sh) return false;
            var seg = p.Segment;
            if (seg.DataLength == 0 && seg.Window > 0) return dropped = true;
            return false;
        };
        long probesBefore = ch.Tcp.Counters.ZeroWindowProbes;
        Drain(s, net.Now);
        Assert.That(dropped, Is.True, "the window update was sent and lost");
        net.RunUntil(() => s.ReceiveAvailable > 0, 120_000_000);
        Assert.That(s.ReceiveAvailable, Is.GreaterThan(0));
        Assert.That(ch.Tcp.Counters.ZeroWindowProbes, Is.GreaterThan(probesBefore));
    }

    [Test]
    public void KeepAliveProbesAnIdlePeerAndDetectsADeadOne()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh, clientOptions: o =>
        {
            o.KeepAlive = true;
            o.KeepIdleMicros = 10_000_000;
            o.KeepIntervalMicros = 1_000_000;
            o.KeepCount = 3;
        });
        net.Run(35_000_000);
        Assert.That(c.State, Is.EqualTo(TcpState.Established));
        Assert.That(ch.Tcp.Counters.KeepAliveProbes, Is.EqualTo(3), "one probe per idle period, each answered");
        net.Down = true;
        long t0 = net.Now;
        net.RunUntil(() => c.State == TcpState.Closed, 60_000_000);
        Assert.That(c.PendingError, Is.EqualTo(TcpError.TimedOut));
        Assert.That(net.Now - t0, Is.LessThanOrEqualTo(10_000_000 + 3 * 1_000_000));
        Assert.That(ch.Tcp.Counters.KeepAliveProbes, Is.EqualTo(3 + 3));
    }

    [Test]
    public void AnOrphanedFinWait2ConnectionIsDroppedAfterItsTimeout()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh);
        c.Close(net.Now);
        net.Run(100_000);
        Assert.That(c.State, Is.EqualTo(TcpState.FinWait2));
        net.Run(ch.Tcp.FinWait2TimeoutMicros + 1_000_000);
        Assert.That(c.State, Is.EqualTo(TcpState.Closed));
        Assert.That(ch.Tcp.ConnectionCount, Is.EqualTo(0));
    }

    [Test]
    public void NextDeadlineIsNeverWhenNothingIsPending()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh);
        net.Run(1_000_000);
        Assert.That(ch.Tcp.NextDeadlineMicros, Is.EqualTo(Tcp.Never));
        Assert.That(sh.Tcp.NextDeadlineMicros, Is.EqualTo(Tcp.Never));
    }
}
