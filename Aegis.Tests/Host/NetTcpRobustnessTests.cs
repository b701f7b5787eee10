// TCP against hostile and odd input: TIME_WAIT reuse by a new SYN (RFC 6191 without
// timestamps), a handshake as Linux sends it, SYN floods against the backlog, the reassembly
// queue's bounds, and a fuzz run of 100k+ random and mutated segments.
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.TcpTestKit;

namespace Aegis.Tests.Host;

public class NetTcpRobustnessTests
{
    /// <summary>Client port 40000 to the server's 80; the server closes first and sits in
    /// TIME_WAIT. Returns the old client's last sequence number + 1 (the server's RCV.NXT).</summary>
    private static (SimNet, SimHost, SimHost, TcpConnection serverSide, uint lastSeq) ServerInTimeWait()
    {
        var (net, ch, sh) = Pair();
        var l = sh.Tcp.CreateListener();
        l.Listen(Ipv4Address.Any, 80, 16);
        var c = ch.Tcp.CreateConnection();
        c.Bind(Ipv4Address.Any, 40000);
        c.Connect(ServerAddress, 80, net.Now);
        TcpConnection s = null;
        net.RunUntil(() => (s ??= l.Accept(out _)) != null, 1_000_000);
        c.Send("GET /"u8, net.Now);
        net.Run(100_000);
        Drain(s, net.Now);
        s.Send("200 OK"u8, net.Now);
        s.Close(net.Now);
        net.Run(100_000);
        Assert.That(Drain(c, net.Now), Is.EqualTo("200 OK"u8.ToArray()));
        c.Close(net.Now);
        net.Run(100_000);
        Assert.That(s.State, Is.EqualTo(TcpState.TimeWait));
        Assert.That(c.State, Is.EqualTo(TcpState.Closed));
        return (net, ch, sh, s, c.SendNext);
    }

    /// <summary>A new client connection on the old one's 4-tuple (port 40000 to 80) whose SYN
    /// carries 'isn', connecting.</summary>
    private static TcpConnection ReconnectWithIsn(SimNet net, SimHost ch, uint isn)
    {
        var c = ch.Tcp.CreateConnection();
        c.Bind(Ipv4Address.Any, 40000);
        ch.Tcp.UseFixedIsn = true;
        ch.Tcp.FixedIsn = isn;
        Assert.That(c.Connect(ServerAddress, 80, net.Now), Is.EqualTo(TcpError.InProgress));
        return c;
    }

    [Test]
    public void TimeWaitIsEndedByANewSynWithALargerIsnOnTheSame4Tuple()
    {
        var (net, ch, sh, old, last) = ServerInTimeWait();
        var c = ReconnectWithIsn(net, ch, last + 100_000);
        net.RunUntil(() => c.State == TcpState.Established, 50_000);
        Assert.That(c.State, Is.EqualTo(TcpState.Established), "no wait for the SYN's retransmission");
        Assert.That(sh.Tcp.Counters.TimeWaitReused, Is.EqualTo(1));
        Assert.That(old.State, Is.EqualTo(TcpState.Closed));
        var fresh = sh.Tcp.Find(ServerAddress, 80, ClientAddress, 40000);
        Assert.That(fresh, Is.Not.SameAs(old));
        Assert.That(TcpSeq.Gt(fresh.InitialSendSequence, old.SendNext), Is.True, "the new incarnation's ISN lies beyond the old one's");
    }

    [Test]
    public void ConnectionPerRequestForAMinuteOverFourReusedClientPortsNeverWaitsForASynRetry()
    {
        // QEMU's user network reuses host ports and sends no timestamps: every new SYN lands on
        // a server connection still in TIME_WAIT (issue #12's trap).
        var (net, ch, sh) = Pair();
        var l = sh.Tcp.CreateListener();
        l.Listen(Ipv4Address.Any, 80, 16);
        int completed = 0, port = 0;
        var buf = new byte[256];
        TcpConnection c = null, s = null;
        bool replied = false;
        net.RunUntil(() =>
        {
            if (c == null || c.State == TcpState.Closed)
            {
                c = ch.Tcp.CreateConnection();
                c.Bind(Ipv4Address.Any, 50000 + port++ % 4);
                Assert.That(c.Connect(ServerAddress, 80, net.Now), Is.EqualTo(TcpError.InProgress));
                s = null;
                replied = false;
            }
            if (c.State == TcpState.Established && c.SendQueued == 0 && c.SendNext == c.InitialSendSequence + 1)
                c.Send("GET / HTTP/1.0\r\n\r\n"u8, net.Now);
            s ??= l.Accept(out _);
            if (s != null && !replied && s.Receive(buf, net.Now) > 0)
            {
                s.Send("HTTP/1.0 200 OK\r\n\r\nhello"u8, net.Now);
                s.Close(net.Now);
                replied = true;
            }
            if (c.State == TcpState.CloseWait)
            {
                while (c.Receive(buf, net.Now) > 0) { }
                c.Close(net.Now);
                completed++;
            }
            return false;
        }, 60_000_000);
        TestContext.Out.WriteLine($"{completed} requests in 60 s; TIME_WAIT reused {sh.Tcp.Counters.TimeWaitReused}, server TIME_WAIT now {sh.Tcp.TimeWaitCount}");
        Assert.That(completed, Is.GreaterThan(5000));
        Assert.That(sh.Tcp.Counters.TimeWaitReused, Is.GreaterThanOrEqualTo(completed - 4));
        Assert.That(ch.Tcp.Counters.Retransmissions + sh.Tcp.Counters.Retransmissions, Is.EqualTo(0));
        Assert.That(sh.Tcp.TimeWaitCount, Is.EqualTo(4), "one per 4-tuple: reused ones leave the TIME_WAIT list");
    }

    [Test]
    public void TimeWaitRejectsANewSynWithASmallerIsnUntilThePeersResetEndsIt()
    {
        // An ISN just behind the old incarnation's RCV.NXT (within its window's reach): not a new
        // connection. TIME_WAIT answers with an ACK; the client's RST (at exactly RCV.NXT) ends it,
        // and the SYN's retransmission then opens the connection (Linux's default).
        var (net, ch, sh, old, last) = ServerInTimeWait();
        net.Log = new List<SimPacket>();
        var c = ReconnectWithIsn(net, ch, last - 100_000);
        net.Run(500_000);
        Assert.That(c.State, Is.EqualTo(TcpState.SynSent), "before the SYN's retransmission");
        Assert.That(sh.Tcp.Counters.TimeWaitReused, Is.EqualTo(0));
        var answer = net.Log.First(p => p.From == sh).Segment;
        Assert.That(answer.HasAck && !answer.HasSyn, Is.True, "an ACK for the old connection, not a SYN-ACK");
        Assert.That(old.State, Is.EqualTo(TcpState.Closed), "the client's RST at RCV.NXT ended TIME_WAIT");
        Assert.That(sh.Tcp.Counters.TimeWaitEndedByReset, Is.EqualTo(1));
        net.RunUntil(() => c.State == TcpState.Established, 5_000_000);
        Assert.That(c.State, Is.EqualTo(TcpState.Established), "the SYN's retransmission opened it");
    }

    [Test]
    public void TimeWaitIgnoresAResetAnywhereButRcvNxt()
    {
        var (net, ch, sh, old, last) = ServerInTimeWait();
        var seg = new byte[20];
        seg[0] = 40000 >> 8; seg[1] = 40000 & 0xFF; seg[2] = 0; seg[3] = 80;
        uint seq = old.ReceiveNext + 1000;
        seg[4] = (byte)(seq >> 24); seg[5] = (byte)(seq >> 16); seg[6] = (byte)(seq >> 8); seg[7] = (byte)seq;
        seg[12] = 5 << 4; seg[13] = TcpSegment.Rst;
        TcpSegment.SetChecksum(seg, ClientAddress, ServerAddress);
        sh.Tcp.Receive(ClientAddress, ServerAddress, seg, net.Now);
        Assert.That(old.State, Is.EqualTo(TcpState.TimeWait), "RFC 1337: a RST elsewhere does not end TIME_WAIT");
        Assert.That(sh.Tcp.Counters.TimeWaitEndedByReset, Is.EqualTo(0));
    }

    [Test]
    public void TimeWaitIsEndedByANewSynWhoseIsnLiesBeyondTheOldWindowsReachBehind()
    {
        // A peer whose ISN clock ran more than half the sequence space since the old incarnation
        // (QEMU's user network) looks behind: far enough that none of the old incarnation's
        // retransmissions (within a window of RCV.NXT) can land in the new window, the SYN opens
        // the connection at once.
        var (net, ch, sh, old, last) = ServerInTimeWait();
        var c = ReconnectWithIsn(net, ch, last - 1_000_000_000);
        net.RunUntil(() => c.State == TcpState.Established, 50_000);
        Assert.That(c.State, Is.EqualTo(TcpState.Established), "no wait for the SYN's retransmission");
        Assert.That(sh.Tcp.Counters.TimeWaitReused, Is.EqualTo(1));
    }

    [Test]
    public void ARetransmittedFinInTimeWaitIsAcknowledgedAgain()
    {
        var (net, ch, sh, old, last) = ServerInTimeWait();
        net.Log = new List<SimPacket>();
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, 40000, 80, last - 1, old.SendNext, (byte)(TcpSegment.Fin | TcpSegment.Ack), 1000));
        var ack = net.Log.Single().Segment;
        Assert.That(ack.HasAck, Is.True);
        Assert.That(ack.AckNumber, Is.EqualTo(last));
        Assert.That(old.State, Is.EqualTo(TcpState.TimeWait));
    }

    [Test]
    public void AHandshakeAsLinuxSendsItIsAnsweredAndItsScaledWindowApplied()
    {
        var (net, ch, sh) = Pair();
        var l = sh.Tcp.CreateListener();
        l.Listen(Ipv4Address.Any, 80, 4);
        net.Log = new List<SimPacket>();
        // Linux 6.1's SYN: window 64240; MSS 1460, SACK permitted, timestamps, NOP, window scale 7.
        var syn = new byte[]
        {
            0xB3, 0x2C, 0x00, 0x50, 0x6A, 0x1E, 0x5B, 0x01, 0x00, 0x00, 0x00, 0x00, 0xA0, 0x02, 0xFA, 0xF0,
            0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x05, 0xB4, 0x04, 0x02, 0x08, 0x0A, 0x9C, 0x3A, 0x51, 0x0E,
            0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
        };
        TcpSegment.SetChecksum(syn, ClientAddress, ServerAddress);
        net.Inject(ClientAddress, ServerAddress, syn);
        var synAck = net.Log.Single().Segment;
        Assert.That(synAck.HasSyn && synAck.HasAck, Is.True);
        Assert.That(synAck.AckNumber, Is.EqualTo(0x6A1E5B02u));
        Assert.That(synAck.SourcePort, Is.EqualTo(80));
        Assert.That(synAck.DestinationPort, Is.EqualTo(0xB32C));
        Assert.That(synAck.Mss, Is.EqualTo(1460));
        Assert.That(synAck.WindowScale, Is.EqualTo(2), "128 KiB of receive buffer");
        Assert.That(synAck.HeaderLength, Is.EqualTo(28), "no timestamps, no SACK");
        // The ACK (window 502 << 7 = 64256), then a request.
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, 0xB32C, 80, 0x6A1E5B02, synAck.Seq + 1, TcpSegment.Ack, 502));
        var s = l.Accept(out _);
        Assert.That(s.State, Is.EqualTo(TcpState.Established));
        Assert.That(s.SendWindow, Is.EqualTo(64256u));
        Assert.That(s.SendWindowScale, Is.EqualTo(7));
        var request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray();
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, 0xB32C, 80, 0x6A1E5B02, synAck.Seq + 1,
            (byte)(TcpSegment.Ack | TcpSegment.Psh), 502, request));
        Assert.That(Drain(s, net.Now), Is.EqualTo(request));
    }

    [Test]
    public void ASynFloodIsBoundedByTheSynBacklogAndTheListenerRecovers()
    {
        var (net, ch, sh) = Pair();
        sh.Tcp.SynBacklog = 64;
        var l = sh.Tcp.CreateListener();
        l.Listen(Ipv4Address.Any, 80, 16);
        net.Down = true;    // SYN-ACKs go nowhere
        for (int i = 0; i < 1000; i++)
            net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, 1024 + i, 80, (uint)i * 7919, 0, TcpSegment.Syn, 1000));
        Assert.That(l.SynReceivedCount, Is.EqualTo(64));
        Assert.That(sh.Tcp.Counters.ListenOverflows, Is.EqualTo(936));
        Assert.That(sh.Tcp.ConnectionCount, Is.EqualTo(64));
        net.Run(120_000_000);
        Assert.That(l.SynReceivedCount, Is.EqualTo(0), "half-open connections time out");
        Assert.That(sh.Tcp.ConnectionCount, Is.EqualTo(0));
        net.Down = false;
        var (c, s) = ConnectTo(net, ch, l);
        Assert.That(s.State, Is.EqualTo(TcpState.Established));
    }

    [Test]
    public void AFullAcceptQueueHoldsFurtherClientsUntilTheApplicationAccepts()
    {
        var (net, ch, sh) = Pair();
        var l = sh.Tcp.CreateListener();
        l.Listen(Ipv4Address.Any, 80, 2);
        var clients = Enumerable.Range(0, 5).Select(_ => ch.Tcp.CreateConnection()).ToList();
        foreach (var c in clients) c.Connect(ServerAddress, 80, net.Now);
        net.Run(500_000);
        Assert.That(l.Pending, Is.EqualTo(2));
        Assert.That(l.SynReceivedCount, Is.EqualTo(3), "the others wait half-open, their ACKs dropped");
        Assert.That(clients.All(c => c.State == TcpState.Established), Is.True, "as clients see it");
        var accepted = new List<TcpConnection>();
        net.RunUntil(() =>
        {
            TcpConnection a;
            while ((a = l.Accept(out _)) != null) accepted.Add(a);
            return accepted.Count == 5;
        }, 30_000_000);
        Assert.That(accepted, Has.Count.EqualTo(5));
        Assert.That(clients.All(c => c.State == TcpState.Established), Is.True);
    }

    /// <summary>Closing a listener with connections queued and half-open resets them all (the
    /// clients see the reset). It once dequeued through Accept, which refuses after the listener
    /// stops listening: a null connection took the file server down (session 21, proc-no-goodbye).</summary>
    [Test]
    public void ClosingAListenerWithQueuedAndHalfOpenConnectionsResetsThemAll()
    {
        var (net, ch, sh) = Pair();
        var l = sh.Tcp.CreateListener();
        l.Listen(Ipv4Address.Any, 80, 2);
        var clients = Enumerable.Range(0, 4).Select(_ => ch.Tcp.CreateConnection()).ToList();
        foreach (var c in clients) c.Connect(ServerAddress, 80, net.Now);
        net.Run(500_000);
        Assert.That(l.Pending, Is.EqualTo(2));
        Assert.That(l.SynReceivedCount, Is.EqualTo(2));
        Assert.DoesNotThrow(() => l.Close(net.Now));
        Assert.That(l.Pending, Is.EqualTo(0));
        Assert.That(l.IsListening, Is.False);
        net.Run(2_000_000);
        Assert.That(clients.All(c => c.State == TcpState.Closed), Is.True,
            () => string.Join(", ", clients.Select(c => c.State)));
    }

    private static (TcpConnection, TcpConnection) ConnectTo(SimNet net, SimHost ch, TcpListener l)
    {
        var c = ch.Tcp.CreateConnection();
        c.Connect(ServerAddress, l.LocalPort, net.Now);
        TcpConnection s = null;
        net.RunUntil(() => (s ??= l.Accept(out _)) != null && c.State == TcpState.Established, 5_000_000);
        return (c, s);
    }

    [Test]
    public void TheReassemblyQueueFillsHolesInAnyOrderAndKeepsAtMostItsRangeLimit()
    {
        var b = new TcpReceiveBuffer(4096);
        var data = Pattern(4000, 1);
        uint start = 0xFFFFFF00u;     // across the sequence wrap
        uint nxt = start;
        var order = new[] { 3, 1, 7, 5, 0, 2, 6, 4 };
        foreach (int k in order)
        {
            nxt = b.Store(nxt, start + (uint)(k * 500), data.AsSpan(k * 500, 500), out bool dropped);
            Assert.That(dropped, Is.False);
        }
        Assert.That(nxt, Is.EqualTo(start + 4000));
        Assert.That(b.Length, Is.EqualTo(4000));
        var out1 = new byte[4000];
        Assert.That(b.Read(out1, false), Is.EqualTo(4000));
        Assert.That(out1, Is.EqualTo(data));

        // The ring has wrapped; more ranges than the limit.
        uint n2 = nxt;
        int stored = 0, drops = 0;
        for (int k = 1; k < 40; k += 2)
        {
            n2 = b.Store(n2, nxt + (uint)(k * 100), data.AsSpan(k * 100, 100), out bool dropped);
            if (dropped) drops++; else stored++;
        }
        Assert.That(stored, Is.EqualTo(TcpReceiveBuffer.MaxRanges));
        Assert.That(drops, Is.EqualTo(20 - TcpReceiveBuffer.MaxRanges));
        Assert.That(b.OutOfOrderRanges, Is.EqualTo(TcpReceiveBuffer.MaxRanges));
        for (int k = 0; k < 40; k++)
            n2 = b.Store(n2, nxt + (uint)(k * 100), data.AsSpan(k * 100, 100), out _);
        Assert.That(n2, Is.EqualTo(nxt + 4000));
        var out2 = new byte[4000];
        Assert.That(b.Read(out2, false), Is.EqualTo(4000));
        Assert.That(out2, Is.EqualTo(data));
        Assert.That(b.OutOfOrderRanges, Is.EqualTo(0));
    }

    [Test]
    public void MalformedHeadersAreCountedAndDropped()
    {
        var (net, ch, sh) = Pair();
        var l = sh.Tcp.CreateListener();
        l.Listen(Ipv4Address.Any, 80, 4);
        net.Log = new List<SimPacket>();
        net.Inject(ClientAddress, ServerAddress, new byte[10]);
        var badOffset = Segment(ClientAddress, ServerAddress, 1, 80, 1, 0, TcpSegment.Syn, 1);
        badOffset[12] = 0xF0;   // 60-byte header in a 20-byte segment
        net.Inject(ClientAddress, ServerAddress, badOffset);
        var badOption = Segment(ClientAddress, ServerAddress, 1, 80, 1, 0, TcpSegment.Syn, 1, mss: 1460);
        badOption[21] = 40;     // option length past the header
        TcpSegment.SetChecksum(badOption, ClientAddress, ServerAddress);
        net.Inject(ClientAddress, ServerAddress, badOption);
        var badSum = Segment(ClientAddress, ServerAddress, 1, 80, 1, 0, TcpSegment.Syn, 1);
        badSum[16] ^= 0xFF;
        net.Inject(ClientAddress, ServerAddress, badSum);
        Assert.That(sh.Tcp.Counters.Malformed, Is.EqualTo(3));
        Assert.That(sh.Tcp.Counters.BadChecksum, Is.EqualTo(1));
        Assert.That(net.Log, Is.Empty);
    }

    [Test]
    public void FuzzOf100kRandomAndMutatedSegmentsNeverThrowsAndLeavesConnectionsWorking()
    {
        var (net, ch, sh) = Pair();
        var rng = new Random(12345);
        var l = sh.Tcp.CreateListener();
        l.Listen(Ipv4Address.Any, 80, 64);
        // Real segments to mutate.
        net.Log = new List<SimPacket>();
        var (c, s) = ConnectTo(net, ch, l);
        c.Send(Pattern(5000, 1), net.Now);
        s.Send(Pattern(3000, 2), net.Now);
        net.Run(200_000);
        Drain(s, net.Now);
        Drain(c, net.Now);
        var captured = net.Log.Where(p => p.From == ch).Select(p => p.Data).ToList();
        net.Log = null;

        byte[] Mutate(byte[] seg)
        {
            var m = (byte[])seg.Clone();
            int flips = 1 + rng.Next(4);
            for (int i = 0; i < flips; i++) m[rng.Next(m.Length)] ^= (byte)(1 << rng.Next(8));
            if (rng.Next(8) == 0) m = m.AsSpan(0, rng.Next(m.Length + 1)).ToArray();
            else if (rng.Next(8) == 0) m = m.Concat(Pattern(rng.Next(64), rng.Next())).ToArray();
            return m;
        }
        byte[] RandomSegment(int sport, int dport)
        {
            int optLen = rng.Next(11) * 4;
            var m = new byte[20 + optLen + (rng.Next(3) == 0 ? rng.Next(1500) : 0)];
            rng.NextBytes(m);
            Wire.Put16(m, 0, sport);
            Wire.Put16(m, 2, dport);
            m[12] = (byte)(((20 + optLen) / 4) << 4);
            if (rng.Next(2) == 0) m[13] &= 0x3F;
            return m;
        }
        void Deliver(byte[] m, Ipv4Address src, Ipv4Address dst)
        {
            if (m.Length >= 20 && rng.Next(10) != 0) TcpSegment.SetChecksum(m, src, dst);
            net.Inject(src, dst, m);
            if (rng.Next(64) == 0) net.Run(rng.Next(300_000));
        }

        // 1. The listener: anything at all, from random ports.
        for (int i = 0; i < 40_000; i++)
        {
            byte[] m = rng.Next(2) == 0 ? RandomSegment(1 + rng.Next(65535), 80) : Mutate(captured[rng.Next(captured.Count)]);
            if (m.Length >= 4) Wire.Put16(m, 0, 1 + rng.Next(30000));     // not the connection's port
            Deliver(m, ClientAddress, ServerAddress);
        }
        Assert.That(l.SynReceivedCount, Is.LessThanOrEqualTo(sh.Tcp.SynBacklog));

        // 2. The established connection, with segments that cannot pass its sequence or
        //    acknowledgement checks: it must come out unchanged.
        int cport = c.LocalPort;
        for (int i = 0; i < 40_000; i++)
        {
            byte[] m;
            int kind = rng.Next(3);
            if (kind == 0) m = RandomSegment(cport, 80);
            else
            {
                m = Mutate(captured[rng.Next(captured.Count)]);
                if (m.Length < 20) { Deliver(m, ClientAddress, ServerAddress); continue; }
                Wire.Put16(m, 0, cport);
                Wire.Put16(m, 2, 80);
                m[13] &= unchecked((byte)~TcpSegment.Rst);
                if (kind == 1) Wire.Put32(m, 4, s.ReceiveNext + 0x01000000u + (uint)rng.Next(0x70000000));
                else Wire.Put32(m, 8, s.SendNext + 0x00100000u + (uint)rng.Next(0x40000000));
            }
            Deliver(m, ClientAddress, ServerAddress);
        }
        net.Run(1_000_000);
        Assert.That(s.State, Is.EqualTo(TcpState.Established));
        Assert.That(c.State, Is.EqualTo(TcpState.Established));
        Assert.That(Drain(s, net.Now), Is.Empty, "nothing injected was taken as data");
        var up = Pattern(100_000, 3);
        Assert.That(Transfer(net, c, s, up, 30_000_000, closeAfter: false), Is.EqualTo(up));
        var downMsg = Pattern(100_000, 4);
        Assert.That(Transfer(net, s, c, downMsg, 30_000_000, closeAfter: false), Is.EqualTo(downMsg));

        // 3. Unconstrained mutations of a second connection's segments (any state may follow),
        //    and random segments to a connection still in SYN_SENT.
        var (c2, s2) = ConnectTo(net, ch, l);
        int c2port = c2.LocalPort;
        for (int i = 0; i < 20_000; i++)
        {
            var m = Mutate(captured[rng.Next(captured.Count)]);
            if (m.Length >= 4) { Wire.Put16(m, 0, c2port); Wire.Put16(m, 2, 80); }
            Deliver(m, ClientAddress, ServerAddress);
            var r = RandomSegment(80, c2port);
            Deliver(r, ServerAddress, ClientAddress);
        }
        net.Down = true;
        var c3 = ch.Tcp.CreateConnection();
        c3.Connect(ServerAddress, 80, net.Now);
        for (int i = 0; i < 5_000; i++)
        {
            var r = RandomSegment(80, c3.LocalPort);
            if (rng.Next(4) == 0) { Wire.Put32(r, 8, c3.InitialSendSequence + 1); r[13] = (byte)(rng.Next(2) == 0 ? 0x12 : 0x14); }
            Deliver(r, ServerAddress, ClientAddress);
        }
        net.Down = false;
        net.Run(200_000_000);

        // The stacks still work.
        var (c4, s4) = ConnectTo(net, ch, l);
        Assert.That(c4.State, Is.EqualTo(TcpState.Established));
        var msg = Pattern(50_000, 5);
        Assert.That(Transfer(net, c4, s4, msg, 30_000_000), Is.EqualTo(msg));
        Assert.That(sh.Tcp.Counters.Malformed + sh.Tcp.Counters.BadChecksum, Is.GreaterThan(1000));
        TestContext.Out.WriteLine($"server: malformed {sh.Tcp.Counters.Malformed}, bad checksum {sh.Tcp.Counters.BadChecksum}, " +
            $"challenge ACKs {sh.Tcp.Counters.ChallengeAcks}, RSTs sent {sh.Tcp.Counters.ResetsSent}, out of window {sh.Tcp.Counters.OutOfWindow}");
    }
}
