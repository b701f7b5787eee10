// LibOS.Net UDP (RFC 768): checksums (sent bytes checked against a hand-built datagram,
// received ones verified when non-zero), sockets (bind, ephemeral ports, connect filtering,
// bounded queue with counted drops, truncation, readiness), port unreachable.
#nullable enable
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.NetFrames;

namespace Aegis.Tests.Host;

public class NetUdpTests
{
    private static (NetStack, CapturingLink) Setup(NetStackOptions? options = null)
    {
        var link = new CapturingLink();
        var s = Configured(link, options);
        s.Arp.AddStatic(IpB, MacB);
        return (s, link);
    }

    [Test]
    public void ASentDatagramCarriesTheChecksumComputedByHand()
    {
        var (s, link) = Setup();
        var sock = s.Udp.Open();
        Assert.That(sock.Bind(4000), Is.EqualTo(UdpError.None));
        var data = new byte[] { 1, 2, 3, 4, 5, 6, 7 };
        Assert.That(sock.SendTo(IpB, 53, data), Is.EqualTo(UdpError.None));
        Assert.That(Payload(link.Last), Is.EqualTo(Udp(IpA, IpB, 4000, 53, data)));
        Assert.That(s.Counters.UdpSent, Is.EqualTo(1));
    }

    [Test]
    public void AComputedChecksumOfZeroIsSentAsAllOnes()
    {
        var (s, link) = Setup();
        var sock = s.Udp.Open();
        sock.Bind(4000);
        // Find two data bytes that make the checksum 0 (the sum then is 0xFFFF).
        for (int v = 0; v < 65536; v++)
        {
            var data = new byte[] { (byte)(v >> 8), (byte)v };
            var u = Udp(IpA, IpB, 4000, 53, data, checksum: false);
            var pseudo = new byte[12 + u.Length];
            Put(pseudo, 0, IpA.Value, 4);
            Put(pseudo, 4, IpB.Value, 4);
            pseudo[9] = 17;
            Put(pseudo, 10, (uint)u.Length, 2);
            u.CopyTo(pseudo, 12);
            if (Sum(pseudo) != 0) continue;
            sock.SendTo(IpB, 53, data);
            Assert.That(Get(Payload(link.Last), 6, 2), Is.EqualTo(0xFFFFu));
            return;
        }
        Assert.Fail("no such data");
    }

    [Test]
    public void AReceivedDatagramIsQueuedAndReadWithoutBlocking()
    {
        var (s, _) = Setup();
        var sock = s.Udp.Open();
        sock.Bind(7);
        var buffer = new byte[100];
        Assert.That(sock.TryReceive(buffer, out _, out _), Is.EqualTo(-1));
        Assert.That(sock.Readable, Is.False);
        Assert.That(sock.Writable, Is.True);
        s.Receive(UdpFrame(IpB, IpA, 1111, 7, new byte[] { 9, 8, 7 }), 0);
        Assert.That(sock.Readable, Is.True);
        Assert.That(sock.NextDatagramLength, Is.EqualTo(3));
        Assert.That(sock.TryReceive(buffer, out var from, out var port), Is.EqualTo(3));
        Assert.That(buffer[..3], Is.EqualTo(new byte[] { 9, 8, 7 }));
        Assert.That((from, port), Is.EqualTo((IpB, (ushort)1111)));
        Assert.That(sock.Readable, Is.False);
    }

    [Test]
    public void AZeroChecksumIsAcceptedAndABadOneIsDropped()
    {
        var (s, _) = Setup();
        var sock = s.Udp.Open();
        sock.Bind(7);
        s.Receive(Ipv4Frame(IpB, IpA, 17, Udp(IpB, IpA, 1, 7, new byte[] { 1 }, checksum: false)), 0);
        var bad = Udp(IpB, IpA, 1, 7, new byte[] { 1 });
        bad[8] ^= 0x10;
        s.Receive(Ipv4Frame(IpB, IpA, 17, bad), 0);
        Assert.That(sock.QueuedDatagrams, Is.EqualTo(1));
        Assert.That(s.Counters.UdpBadChecksum, Is.EqualTo(1));
    }

    [Test]
    public void AMalformedLengthIsCountedAndDropped()
    {
        var (s, _) = Setup();
        var sock = s.Udp.Open();
        sock.Bind(7);
        var u = Udp(IpB, IpA, 1, 7, new byte[] { 1, 2 }, checksum: false);
        Put(u, 4, 20, 2);
        s.Receive(Ipv4Frame(IpB, IpA, 17, u), 0);
        Put(u, 4, 7, 2);
        s.Receive(Ipv4Frame(IpB, IpA, 17, u), 0);
        s.Receive(Ipv4Frame(IpB, IpA, 17, new byte[5]), 0);
        Assert.That(s.Counters.UdpMalformed, Is.EqualTo(3));
        Assert.That(sock.QueuedDatagrams, Is.EqualTo(0));
    }

    [Test]
    public void TheUdpLengthFieldTrimsTheIpPayload()
    {
        var (s, _) = Setup();
        var sock = s.Udp.Open();
        sock.Bind(7);
        var u = Udp(IpB, IpA, 1, 7, new byte[] { 1, 2 }, checksum: false).Concat(new byte[] { 0xEE, 0xEE }).ToArray();
        s.Receive(Ipv4Frame(IpB, IpA, 17, u), 0);
        Assert.That(sock.NextDatagramLength, Is.EqualTo(2));
    }

    [Test]
    public void BindingPortZeroPicksDistinctEphemeralPorts()
    {
        var (s, _) = Setup();
        var ports = new HashSet<int>();
        for (int i = 0; i < 50; i++)
        {
            var sock = s.Udp.Open(64);
            Assert.That(sock.Bind(0), Is.EqualTo(UdpError.None));
            Assert.That(sock.LocalPort, Is.InRange(49152, 65535));
            ports.Add(sock.LocalPort);
        }
        Assert.That(ports, Has.Count.EqualTo(50));
    }

    [Test]
    public void EphemeralPortsRunOutCleanly()
    {
        var (s, _) = Setup(new NetStackOptions { EphemeralPortFirst = 50000, EphemeralPortLast = 50002 });
        for (int i = 0; i < 3; i++) Assert.That(s.Udp.Open(64).Bind(0), Is.EqualTo(UdpError.None));
        Assert.That(s.Udp.Open(64).Bind(0), Is.EqualTo(UdpError.NoEphemeralPort));
    }

    [Test]
    public void ABoundPortIsInUseUntilClosed()
    {
        var (s, _) = Setup();
        var a = s.Udp.Open();
        Assert.That(a.Bind(53), Is.EqualTo(UdpError.None));
        Assert.That(a.Bind(54), Is.EqualTo(UdpError.AlreadyBound));
        Assert.That(s.Udp.Open().Bind(53), Is.EqualTo(UdpError.AddressInUse));
        a.Close();
        Assert.That(a.SendTo(IpB, 1, new byte[1]), Is.EqualTo(UdpError.Closed));
        Assert.That(s.Udp.Open().Bind(53), Is.EqualTo(UdpError.None));
    }

    [Test]
    public void SendToOnAnUnboundSocketBindsAnEphemeralPort()
    {
        var (s, link) = Setup();
        var sock = s.Udp.Open();
        Assert.That(sock.SendTo(IpB, 9, new byte[1]), Is.EqualTo(UdpError.None));
        Assert.That(sock.IsBound, Is.True);
        Assert.That(Get(Payload(link.Last), 0, 2), Is.EqualTo((uint)sock.LocalPort));
    }

    [Test]
    public void AFullReceiveQueueDropsAndCountsNewDatagrams()
    {
        var (s, _) = Setup();
        var sock = s.Udp.Open(100);
        sock.Bind(7);
        for (int i = 0; i < 5; i++) s.Receive(UdpFrame(IpB, IpA, 1, 7, new byte[30]), 0);
        Assert.That(sock.QueuedDatagrams, Is.EqualTo(2), "two records of 38 bytes fit in 100");
        Assert.That(sock.Drops, Is.EqualTo(3));
        Assert.That(s.Counters.UdpQueueFull, Is.EqualTo(3));
        var buffer = new byte[64];
        sock.TryReceive(buffer, out _, out _);
        s.Receive(UdpFrame(IpB, IpA, 1, 7, new byte[30]), 0);
        Assert.That(sock.QueuedDatagrams, Is.EqualTo(2), "room again after a read");
    }

    [Test]
    public void TheQueueWrapsAroundWithoutCorruptingDatagrams()
    {
        var (s, _) = Setup();
        var sock = s.Udp.Open(101);
        sock.Bind(7);
        var random = new Random(4);
        var buffer = new byte[100];
        var expected = new Queue<byte[]>();
        for (int i = 0; i < 500; i++)
        {
            var d = new byte[random.Next(0, 40)];
            random.NextBytes(d);
            int before = sock.QueuedDatagrams;
            s.Receive(UdpFrame(IpB, IpA, (ushort)(i + 1), 7, d), 0);
            if (sock.QueuedDatagrams > before) expected.Enqueue(d);
            if (random.Next(2) == 0 && expected.Count > 0)
            {
                int n = sock.TryReceive(buffer, out _, out _);
                Assert.That(buffer[..n], Is.EqualTo(expected.Dequeue()));
            }
        }
    }

    [Test]
    public void ADatagramLongerThanTheBufferIsCutAndReportsItsLength()
    {
        var (s, _) = Setup();
        var sock = s.Udp.Open();
        sock.Bind(7);
        s.Receive(UdpFrame(IpB, IpA, 1, 7, new byte[] { 1, 2, 3, 4, 5 }), 0);
        var small = new byte[2];
        Assert.That(sock.TryReceive(small, out _, out _), Is.EqualTo(5));
        Assert.That(small, Is.EqualTo(new byte[] { 1, 2 }));
        Assert.That(sock.QueuedDatagrams, Is.EqualTo(0), "the rest is discarded");
    }

    [Test]
    public void AConnectedSocketSendsToItsPeerAndReceivesOnlyFromIt()
    {
        var (s, link) = Setup();
        var sock = s.Udp.Open();
        Assert.That(sock.Send(new byte[1]), Is.EqualTo(UdpError.NotConnected));
        Assert.That(sock.Connect(IpB, 53), Is.EqualTo(UdpError.None));
        Assert.That(sock.IsBound, Is.True);
        Assert.That(sock.Send(new byte[] { 42 }), Is.EqualTo(UdpError.None));
        Assert.That(IpDestination(link.Last), Is.EqualTo(IpB));
        s.Receive(UdpFrame(IpB, IpA, 53, sock.LocalPort, new byte[1]), 0);
        s.Receive(UdpFrame(IpB, IpA, 54, sock.LocalPort, new byte[1]), 0);
        s.Receive(UdpFrame(IpGateway, IpA, 53, sock.LocalPort, new byte[1]), 0);
        Assert.That(sock.QueuedDatagrams, Is.EqualTo(1));
        Assert.That(sock.Filtered, Is.EqualTo(2));
        sock.Connect(Ipv4Address.Any, 0);
        s.Receive(UdpFrame(IpGateway, IpA, 53, sock.LocalPort, new byte[1]), 0);
        Assert.That(sock.QueuedDatagrams, Is.EqualTo(2), "disconnected: from anyone");
    }

    [Test]
    public void ADatagramToAnUnboundPortIsAnsweredWithPortUnreachable()
    {
        var (s, link) = Setup();
        var frame = UdpFrame(IpB, IpA, 1234, 9999, new byte[] { 1, 2, 3 });
        s.Receive(frame, 0);
        Assert.That(s.Counters.UdpNoPort, Is.EqualTo(1));
        var m = Payload(link.Last);
        Assert.That((m[0], m[1]), Is.EqualTo(((byte)3, (byte)3)));
        Assert.That(Sum(m), Is.EqualTo(0));
        Assert.That(m[8..], Is.EqualTo(frame[14..]), "the original header and UDP datagram are quoted");
    }

    [Test]
    public void ABroadcastToAnUnboundPortIsNotAnswered()
    {
        var (s, link) = Setup();
        s.Receive(UdpFrame(IpB, Ipv4Address.Broadcast, 1234, 9999, new byte[1], ethDst: MacAddress.Broadcast), 0);
        s.Receive(UdpFrame(IpB, new Ipv4Address(10, 0, 2, 255), 1234, 9999, new byte[1], ethDst: MacAddress.Broadcast), 0);
        Assert.That(link.Frames, Is.Empty);
        Assert.That(s.Counters.UdpNoPort, Is.EqualTo(2));
    }

    [Test]
    public void PortUnreachableForAConnectedSocketBecomesItsPendingError()
    {
        var (s, link) = Setup();
        var sock = s.Udp.Open();
        sock.Connect(IpB, 9);
        sock.Send(new byte[] { 1, 2 });
        var sent = link.Last[14..];
        var m = new byte[8 + sent.Length];
        m[0] = 3;
        m[1] = 3;
        sent.CopyTo(m, 8);
        Put(m, 2, Sum(m), 2);
        s.Receive(Ipv4Frame(IpB, IpA, 1, m), 0);
        Assert.That(sock.Readable, Is.True);
        Assert.That(sock.TakeError(), Is.EqualTo(UdpSocketError.ConnectionRefused));
        Assert.That(sock.TakeError(), Is.EqualTo(UdpSocketError.None));
    }

    [Test]
    public void ASocketBoundToOneAddressGetsOnlyThatAddressAndBroadcasts()
    {
        var link = new CapturingLink();
        var s = new NetStack(MacA, link);
        var sock = s.Udp.Open();
        sock.Bind(68, IpA);
        s.Receive(UdpFrame(IpB, Ipv4Address.Broadcast, 1, 68, new byte[1], ethDst: MacAddress.Broadcast), 0);
        s.Receive(UdpFrame(IpB, IpGateway, 1, 68, new byte[1]), 0);
        s.Receive(UdpFrame(IpB, IpA, 1, 68, new byte[1]), 0);
        Assert.That(sock.QueuedDatagrams, Is.EqualTo(2));
    }

    [Test]
    public void ADatagramUpTo65507BytesIsSentInFragmentsAndOneByteMoreIsRefused()
    {
        var (s, link) = Setup();
        var sock = s.Udp.Open();
        Assert.That(sock.SendTo(IpB, 9, new byte[1472]), Is.EqualTo(UdpError.None));
        Assert.That(link.Take(), Has.Count.EqualTo(1), "1,472 bytes: one frame");
        Assert.That(sock.SendTo(IpB, 9, new byte[1473]), Is.EqualTo(UdpError.None));
        Assert.That(link.Take(), Has.Count.EqualTo(2), "1,473 bytes: two fragments");
        Assert.That(sock.SendTo(IpB, 9, new byte[65507]), Is.EqualTo(UdpError.None), "Linux's largest UDP datagram over IPv4");
        Assert.That(sock.SendTo(IpB, 9, new byte[65508]), Is.EqualTo(UdpError.MessageTooBig));
        Assert.That(sock.SendTo(IpB, 0, new byte[1]), Is.EqualTo(UdpError.InvalidArgument));
    }

    /// <summary>MSG_PEEK's half: the oldest datagram and its sender, left queued (also when its
    /// record wraps around the ring's end); the next receive takes the same one.</summary>
    [Test]
    public void APeekReturnsTheOldestDatagramAndLeavesItQueued()
    {
        var (s, _) = Setup();
        var sock = s.Udp.Open(60);
        sock.Bind(7);
        var buffer = new byte[40];
        s.Receive(UdpFrame(IpB, IpA, 1000, 7, Enumerable.Repeat((byte)1, 30).ToArray()), 0);
        Assert.That(sock.TryReceive(buffer, out _, out _), Is.EqualTo(30)); // the ring's head moves to 38: the next record wraps
        byte[] data = Enumerable.Range(0, 25).Select(i => (byte)(i + 100)).ToArray();
        s.Receive(UdpFrame(IpB, IpA, 2000, 7, data), 0);
        for (int look = 0; look < 2; look++)
        {
            Array.Clear(buffer);
            Assert.That(sock.TryReceive(buffer, out var from, out var port, peek: true), Is.EqualTo(25));
            Assert.That((buffer[..25], from, port), Is.EqualTo((data, IpB, (ushort)2000)));
            Assert.That(sock.QueuedDatagrams, Is.EqualTo(1), "still queued");
        }
        Assert.That(sock.TryReceive(buffer, out _, out _), Is.EqualTo(25));
        Assert.That(buffer[..25], Is.EqualTo(data));
        Assert.That(sock.QueuedDatagrams, Is.EqualTo(0));
    }

    private sealed class Handler : IUdpHandler
    {
        public readonly List<byte[]> Got = new();
        public void UdpReceived(UdpSocket socket, Ipv4Address source, ushort sourcePort, Ipv4Address destination,
            ReadOnlySpan<byte> data, long nowMicros) => Got.Add(data.ToArray());
    }

    [Test]
    public void ASocketWithAHandlerIsCalledInsteadOfQueueing()
    {
        var (s, _) = Setup();
        var sock = s.Udp.Open();
        var h = new Handler();
        sock.Handler = h;
        sock.Bind(7);
        s.Receive(UdpFrame(IpB, IpA, 1, 7, new byte[] { 5 }), 0);
        Assert.That(h.Got.Single(), Is.EqualTo(new byte[] { 5 }));
        Assert.That(sock.QueuedDatagrams, Is.EqualTo(0));
    }
}
