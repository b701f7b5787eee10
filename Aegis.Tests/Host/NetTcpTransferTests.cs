// TCP bulk transfer over bad links: the lossy-link test switch, random loss with
// reordering, duplication and corruption, sequence wraparound, many connections.
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.TcpTestKit;

namespace Aegis.Tests.Host;

public class NetTcpTransferTests
{
    private const int TenMiB = 10 * 1024 * 1024;

    [Test]
    public void TenMiBArriveIntactOnACleanLink()
    {
        var (net, ch, sh) = Pair();
        net.BytesPerSecond = 100_000_000 / 8;
        var (c, s, _) = Connect(net, ch, sh);
        var data = Pattern(TenMiB, 1);
        var got = Transfer(net, s, c, data, 120_000_000);
        Assert.That(got.Length, Is.EqualTo(data.Length));
        Assert.That(got, Is.EqualTo(data));
        Assert.That(sh.Tcp.Counters.Retransmissions, Is.EqualTo(0));
        TestContext.Out.WriteLine($"clean: {net.Now / 1000} ms virtual, segments {sh.Tcp.Counters.SegmentsSent}/{ch.Tcp.Counters.SegmentsSent}");
    }

    [Test]
    public void TenMiBArriveIntactWhenTheCardCutsTheSegments()
    {
        // The sender's "card" cuts large segments as an 8254x does (WireSegmentation): TCP hands it
        // many MSSes at once, and the wire must carry only segments of at most one MSS, which the
        // receiver (checksums checked) puts together into the same bytes.
        var (net, ch, sh) = Pair();
        net.BytesPerSecond = 100_000_000 / 8;
        net.Log = new List<SimPacket>();
        var (c, s, _) = Connect(net, ch, sh);
        sh.SegmentedLimit = 65_495;
        var data = Pattern(TenMiB, 5);
        var got = Transfer(net, s, c, data, 120_000_000);
        Assert.That(got, Is.EqualTo(data));
        Assert.That(sh.SegmentedSends, Is.GreaterThan(100), "large segments handed to the card");
        int largest = 0;
        foreach (SimPacket p in net.Log)
            if (p.From == sh) largest = Math.Max(largest, p.Data.Length - 20);
        Assert.That(largest, Is.EqualTo(1460), "the most payload a segment on the wire carried");
        Assert.That(sh.Tcp.Counters.Retransmissions, Is.EqualTo(0));
        Assert.That(ch.Tcp.Counters.SegmentsSent, Is.GreaterThan(0));
        TestContext.Out.WriteLine($"cut by the card: {net.Now / 1000} ms virtual, {sh.SegmentedSends} large segments, segments {sh.Tcp.Counters.SegmentsSent}");
    }

    [Test]
    public void TenMiBArriveIntactWithTheTestSwitchDroppingEvery20thReceivedAndEvery30thSentSegment()
    {
        var (net, ch, sh) = Pair();
        net.BytesPerSecond = 100_000_000 / 8;
        var (c, s, _) = Connect(net, ch, sh);
        // The switch on the server's Tcp, as in the boot test (the libOS drops).
        sh.Tcp.DropEveryNthReceived = 20;
        sh.Tcp.DropEveryNthSent = 30;
        var data = Pattern(TenMiB, 2);
        var got = Transfer(net, s, c, data, 600_000_000);
        Assert.That(got.Length, Is.EqualTo(data.Length));
        Assert.That(got, Is.EqualTo(data));
        Assert.That(sh.Tcp.Counters.DroppedByTestReceive, Is.GreaterThan(100));
        Assert.That(sh.Tcp.Counters.DroppedByTestSend, Is.GreaterThan(100));
        Assert.That(sh.Tcp.Counters.FastRetransmits, Is.GreaterThan(0));
        TestContext.Out.WriteLine($"switch: {net.Now / 1000} ms virtual; dropped rx {sh.Tcp.Counters.DroppedByTestReceive} tx {sh.Tcp.Counters.DroppedByTestSend}; " +
            $"fast retransmits {sh.Tcp.Counters.FastRetransmits}, RTOs {sh.Tcp.Counters.RetransmissionTimeouts}, retransmissions {sh.Tcp.Counters.Retransmissions}");
    }

    [Test]
    public void TenMiBArriveIntactUploadingThroughTheTestSwitchToo()
    {
        var (net, ch, sh) = Pair();
        net.BytesPerSecond = 100_000_000 / 8;
        var (c, s, _) = Connect(net, ch, sh);
        sh.Tcp.DropEveryNthReceived = 20;
        sh.Tcp.DropEveryNthSent = 30;
        var data = Pattern(TenMiB, 3);
        var got = Transfer(net, c, s, data, 600_000_000);
        Assert.That(got, Is.EqualTo(data));
    }

    /// <summary>A connected pair on a 100 Mbit/s link of 2 ms delay that, once connected, loses
    /// 5% of the segments and delays another 5% by 3 ms.</summary>
    private static (SimNet, SimHost, SimHost, TcpConnection, TcpConnection) LossyReorderingLink(int seed)
    {
        var (net, ch, sh) = Pair(seed: seed);
        net.BytesPerSecond = 100_000_000 / 8;
        net.DelayMicros = 2000;
        var (c, s, _) = Connect(net, ch, sh);
        net.LossRate = 0.05;
        net.ReorderRate = 0.05;
        net.ReorderDelayMicros = 3000;
        return (net, ch, sh, c, s);
    }

    [Test]
    public void TenMiBArriveIntactOverFivePercentRandomLossWithReordering()
    {
        var (net, ch, sh, c, s) = LossyReorderingLink(seed: 7);
        var data = Pattern(TenMiB, 4);
        var got = Transfer(net, s, c, data, 1200_000_000);
        Assert.That(got.Length, Is.EqualTo(data.Length));
        Assert.That(got, Is.EqualTo(data));
        Assert.That(ch.Tcp.Counters.OutOfOrderSegments, Is.GreaterThan(0));
        TestContext.Out.WriteLine($"5% loss: {net.Now / 1000} ms virtual; lost {net.Lost}; RTOs {sh.Tcp.Counters.RetransmissionTimeouts}, fast {sh.Tcp.Counters.FastRetransmits}");
    }

    [Test]
    public void BytesSentFromTheCallersBufferArriveIntactOverLossAndReordering()
    {
        // SendStable: the queue refers to the caller's array (retransmissions read it again).
        var (net, ch, sh, c, s) = LossyReorderingLink(seed: 11);
        var data = Pattern(2 * 1024 * 1024, 5);
        var got = Transfer(net, s, c, data, 1200_000_000, stable: true);
        Assert.That(got, Is.EqualTo(data));
        Assert.That(sh.Tcp.Counters.Retransmissions, Is.GreaterThan(0), "retransmissions read the caller's bytes again");
    }

    [Test]
    public void DataArrivesIntactDespiteDuplicationAndCorruption()
    {
        var (net, ch, sh) = Pair(seed: 9);
        var (c, s, _) = Connect(net, ch, sh);
        net.DuplicateRate = 0.05;
        net.CorruptRate = 0.02;
        net.ReorderRate = 0.1;
        var data = Pattern(2 * 1024 * 1024, 5);
        var got = Transfer(net, s, c, data, 600_000_000);
        Assert.That(got, Is.EqualTo(data));
        Assert.That(ch.Tcp.Counters.BadChecksum + sh.Tcp.Counters.BadChecksum, Is.GreaterThan(0));
        Assert.That(ch.Tcp.Counters.DuplicateSegments, Is.GreaterThan(0));
    }

    [Test]
    public void SequenceNumbersWrapAroundMidTransfer()
    {
        var (net, ch, sh) = Pair();
        sh.Tcp.UseFixedIsn = true;
        sh.Tcp.FixedIsn = 0xFFFFFFFFu - 300_000;
        ch.Tcp.UseFixedIsn = true;
        ch.Tcp.FixedIsn = 0xFFFFFFFFu - 1000;
        var (c, s, _) = Connect(net, ch, sh);
        Assert.That(s.InitialSendSequence, Is.EqualTo(0xFFFFFFFFu - 300_000));
        net.LossRate = 0.02;
        var down = Pattern(2 * 1024 * 1024, 6);
        var up = Pattern(1024 * 1024, 7);
        var got = Transfer(net, s, c, down, 600_000_000, closeAfter: false);
        Assert.That(got, Is.EqualTo(down));
        Assert.That(s.SendNext, Is.LessThan(0x80000000u), "wrapped");
        var got2 = Transfer(net, c, s, up, 600_000_000, closeAfter: false);
        Assert.That(got2, Is.EqualTo(up));
        Assert.That(c.SendNext, Is.LessThan(0x80000000u), "wrapped");
    }

    [Test]
    public void HundredConcurrentConnectionsToOneListenerEachGetTheirOwnReply()
    {
        var (net, ch, sh) = Pair();
        net.BytesPerSecond = 100_000_000 / 8;
        var l = sh.Tcp.CreateListener();
        Assert.That(l.Listen(Ipv4Address.Any, 80, 128), Is.EqualTo(TcpError.None));
        var clients = new TcpConnection[100];
        for (int i = 0; i < clients.Length; i++)
        {
            clients[i] = ch.Tcp.CreateConnection();
            Assert.That(clients[i].Connect(ServerAddress, 80, net.Now), Is.EqualTo(TcpError.InProgress));
        }
        var servers = new List<TcpConnection>();
        var replies = new Dictionary<TcpConnection, byte[]>();
        var received = new Dictionary<TcpConnection, MemoryStream>();
        var buf = new byte[65536];
        bool done = net.RunUntil(() =>
        {
            TcpConnection a;
            while ((a = l.Accept(out _)) != null) servers.Add(a);
            foreach (var s in servers)
            {
                if (!replies.ContainsKey(s))
                {
                    int n = s.Receive(buf, net.Now);
                    if (n > 0)
                    {
                        int id = BitConverter.ToInt32(buf, 0);
                        var reply = Pattern(20_000 + id, id);
                        replies[s] = reply;
                        Assert.That(s.Send(reply, net.Now), Is.EqualTo(reply.Length));
                        s.Close(net.Now);
                    }
                }
            }
            for (int i = 0; i < clients.Length; i++)
            {
                var c = clients[i];
                if (c.State == TcpState.Established && !received.ContainsKey(c))
                {
                    received[c] = new MemoryStream();
                    c.Send(BitConverter.GetBytes(i), net.Now);
                }
                if (received.TryGetValue(c, out var ms))
                {
                    int n;
                    while ((n = c.Receive(buf, net.Now)) > 0) ms.Write(buf, 0, n);
                }
            }
            int complete = 0;
            for (int i = 0; i < clients.Length; i++)
                if (received.TryGetValue(clients[i], out var ms) && ms.Length == 20_000 + i && clients[i].PeerClosed) complete++;
            return complete == clients.Length;
        }, 30_000_000);
        Assert.That(done, Is.True);
        Assert.That(servers, Has.Count.EqualTo(100));
        for (int i = 0; i < clients.Length; i++)
            Assert.That(received[clients[i]].ToArray(), Is.EqualTo(Pattern(20_000 + i, i)));
        var ports = new HashSet<int>();
        foreach (var c in clients) ports.Add(c.LocalPort);
        Assert.That(ports, Has.Count.EqualTo(100));
    }
}
