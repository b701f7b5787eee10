// LibOS.Net's NetStack as a whole: two stacks on a simulated Ethernet exchanging ARP, ping
// and UDP; DHCP and DNS end to end; transports registered by protocol; deadlines; the receive
// path without allocation; and a fuzz run of random and mutated frames after which the stack
// still answers a valid ping.
#nullable enable
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.NetFrames;

namespace Aegis.Tests.Host;

public class NetStackTests
{
    private const long Second = 1_000_000;

    private static (SimulatedEthernet, NetStack, NetStack) TwoStacks()
    {
        var wire = new SimulatedEthernet();
        var a = wire.Attach(MacA);
        var b = wire.Attach(MacB);
        a.Configure(IpA, Mask24, IpGateway, 0);
        b.Configure(IpB, Mask24, IpGateway, 0);
        wire.Pump(0);
        return (wire, a, b);
    }

    [Test]
    public void TwoStacksResolveEachOtherAndPing()
    {
        var (wire, a, b) = TwoStacks();
        var pinger = a.Icmp.OpenPinger();
        Assert.That(pinger.Send(IpB, 56, 100), Is.EqualTo(0));
        Assert.That(a.Arp.StateOf(IpB), Is.EqualTo(ArpEntryState.Incomplete));
        wire.Pump(350);
        Assert.That(pinger.TryGetReply(out var r), Is.True);
        Assert.That((r.Source, r.Sequence, r.DataLength, r.RoundTripMicros), Is.EqualTo((IpB, (ushort)0, 56, 250L)));
        Assert.That(a.Arp.TryLookup(IpB, out var mb) && mb == MacB);
        Assert.That(b.Arp.TryLookup(IpA, out var ma) && ma == MacA, "B learned A from A's request");
        Assert.That(b.Counters.IcmpEchoRepliesSent, Is.EqualTo(1));
        for (int i = 1; i <= 5; i++)
        {
            pinger.Send(IpB, 8, 1000 * i);
            wire.Pump(1000 * i + 10);
        }
        int replies = 0;
        while (pinger.TryGetReply(out _)) replies++;
        Assert.That(replies, Is.EqualTo(5));
        Assert.That(b.Counters.ArpRepliesSent, Is.EqualTo(1), "no further ARP once resolved");
    }

    [Test]
    public void TwoStacksExchangeUdpBothWays()
    {
        var (wire, a, b) = TwoStacks();
        var server = b.Udp.Open();
        server.Bind(7);
        var client = a.Udp.Open();
        client.Connect(IpB, 7);
        Assert.That(client.Send("hello"u8), Is.EqualTo(UdpError.None));
        wire.Pump(10);
        var buffer = new byte[100];
        int n = server.TryReceive(buffer, out var from, out var port);
        Assert.That(buffer[..n], Is.EqualTo("hello"u8.ToArray()));
        Assert.That((from, port), Is.EqualTo((IpA, client.LocalPort)));
        server.SendTo(from, port, "world"u8);
        wire.Pump(20);
        n = client.TryReceive(buffer, out _, out _);
        Assert.That(buffer[..n], Is.EqualTo("world"u8.ToArray()));
    }

    [Test]
    public void ALostArpReplyIsRecoveredByTheRetry()
    {
        var (wire, a, b) = TwoStacks();
        int arpReplies = 0;
        wire.Drop = f => f[12] == 8 && f[13] == 6 && f[21] == 2 && ++arpReplies == 1;
        var client = a.Udp.Open();
        var server = b.Udp.Open();
        server.Bind(9);
        a.Poll(0);
        client.SendTo(IpB, 9, new byte[] { 1 });
        wire.Pump(0);
        Assert.That(server.QueuedDatagrams, Is.EqualTo(0));
        Assert.That(a.NextDeadlineMicros, Is.EqualTo(Second));
        a.Poll(Second);
        wire.Pump(Second);
        Assert.That(server.QueuedDatagrams, Is.EqualTo(1), "the queued datagram left after the second request");
    }

    [Test]
    public void AStackThatDoesNotAnswerArpAndPingStaysSilentOnTheWire()
    {
        var wire = new SimulatedEthernet();
        var a = wire.Attach(MacA);
        var quiet = wire.Attach(MacB, new NetStackOptions { AnswersArpAndPing = false });
        a.Configure(IpA, Mask24, IpGateway, 0);
        quiet.Configure(IpB, Mask24, IpGateway, 0);
        wire.Pump(0);
        var p = a.Icmp.OpenPinger();
        p.Send(IpB, 8, 0);
        wire.Pump(0);
        Assert.That(quiet.Counters.ArpRepliesSent, Is.EqualTo(0));
        a.Arp.AddStatic(IpB, MacB);
        p.Send(IpB, 8, 0);
        wire.Pump(0);
        Assert.That(p.TryGetReply(out _), Is.False);
        Assert.That(quiet.Counters.IcmpEchoRequestsIgnored, Is.EqualTo(2), "the queued first request left with the static entry");
    }

    [Test]
    public void ATransportRegisteredForAProtocolReceivesItsDatagramsAndCanSend()
    {
        var (wire, a, b) = TwoStacks();
        var tcpA = new RecordingTransport(6);
        var tcpB = new RecordingTransport(6);
        a.Register(tcpA);
        b.Register(tcpB);
        Assert.That(a.TransportFor(6), Is.SameAs(tcpA));
        IIpv4Output output = a;
        Assert.That(output.SourceFor(IpB), Is.EqualTo(IpA));
        Assert.That(output.Send(IpB, 6, new byte[] { 1, 2, 3 }), Is.True);
        wire.Pump(0);
        Assert.That(tcpB.Received.Single().Payload, Is.EqualTo(new byte[] { 1, 2, 3 }));
        b.Unregister(6);
        output.Send(IpB, 6, new byte[] { 4 });
        wire.Pump(0);
        Assert.That(tcpB.Received, Has.Count.EqualTo(1));
        Assert.That(b.Counters.Ipv4DropNoTransport, Is.EqualTo(1));
    }

    [Test]
    public void DhcpThenDnsThenPingAcrossASimulatedSlirp()
    {
        // A stack gets its address by DHCP from a second stack playing slirp's DHCP server in a
        // few lines (the full scripted server is in NetDhcpTests), then resolves a name at the
        // DNS server the lease named.
        var wire = new SimulatedEthernet();
        var guest = wire.Attach(MacA, new NetStackOptions { RandomSeed = 7 });
        var slirp = wire.Attach(MacGateway);
        slirp.Configure(IpGateway, Mask24, Ipv4Address.Any, 0);
        var dhcpd = slirp.Udp.Open();
        dhcpd.Bind(67);
        var dnsd = slirp.Udp.Open();
        dnsd.Bind(53);
        var dhcp = new DhcpClient(guest);
        dhcp.Start(0);
        var buffer = new byte[2048];
        for (int round = 0; round < 4 && !dhcp.IsBound; round++)
        {
            wire.Pump(0);
            while (dhcpd.TryReceive(buffer, out _, out _) is int n && n > 0)
            {
                byte type = buffer[242];
                var reply = new byte[548];
                Array.Copy(buffer, reply, 240);
                reply[0] = 2;
                Put(reply, 16, IpA.Value, 4);
                new byte[] { 53, 1, (byte)(type == 1 ? 2 : 5), 54, 4, 10, 0, 2, 2, 51, 4, 0, 1, 0x51, 0x80,
                    1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2, 6, 4, 10, 0, 2, 2, 255 }.CopyTo(reply, 240);
                dhcpd.SendTo(Ipv4Address.Broadcast, 68, reply);
            }
            wire.Pump(0);
        }
        Assert.That(dhcp.State, Is.EqualTo(DhcpState.Bound));
        Assert.That(guest.Address, Is.EqualTo(IpA));

        var resolver = new DnsResolver(guest);
        var q = resolver.Resolve("example.org", 10);
        wire.Pump(10);
        int length = dnsd.TryReceive(buffer, out var from, out var port);
        Assert.That(length, Is.GreaterThan(12));
        var answer = buffer[..length].Concat(new byte[] { 0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 2, 77 }).ToArray();
        answer[2] = 0x81;
        answer[3] = 0x80;
        answer[7] = 1;
        dnsd.SendTo(from, port, answer);
        wire.Pump(20);
        Assert.That(q.Status, Is.EqualTo(DnsStatus.Resolved));
        Assert.That(q.Addresses[0], Is.EqualTo(new Ipv4Address(10, 0, 2, 77)));

        var p = guest.Icmp.OpenPinger();
        p.Send(IpGateway, 8, 30);
        wire.Pump(40);
        Assert.That(p.TryGetReply(out var r) && r.RoundTripMicros == 10);
    }

    [Test]
    public void NextDeadlineIsTheEarliestOfEveryTimer()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        Assert.That(s.NextDeadlineMicros, Is.EqualTo(long.MaxValue));
        s.Poll(0);
        s.Send(IpB, 17, new byte[1]);
        Assert.That(s.NextDeadlineMicros, Is.EqualTo(Second), "ARP retry");
        s.Receive(EthernetFrame(MacA, MacB, 0x0800, Ipv4Datagram(IpGateway, IpA, 6, new byte[8], 5, 0x2000)), 100);
        Assert.That(s.NextDeadlineMicros, Is.EqualTo(Second), "reassembly ends at 30 s");
        s.SetDnsServers(new[] { IpGateway });
        var r = new DnsResolver(s);
        r.AttemptTimeoutMicros = 500;
        r.Resolve("a.b", 200);
        Assert.That(s.NextDeadlineMicros, Is.EqualTo(700), "a registered timer");
    }

    private sealed class CountingLink : IFrameLink
    {
        public int Sent;
        public bool TrySend(ReadOnlySpan<byte> frame) { Sent++; return true; }
        public int SegmentedFrameBytes => 0;
        public bool TrySendSegmented(ReadOnlySpan<byte> frame, int segmentSize) => false;
        public Span<byte> SegmentedBuffer() => default;
    }

    [Test]
    public void TheReceivePathDoesNotAllocatePerPacket()
    {
        var link = new CountingLink();
        var s = new NetStack(MacA, link);
        s.Configure(IpA, Mask24, IpGateway, 0);
        s.Arp.AddStatic(IpB, MacB);
        var sock = s.Udp.Open();
        sock.Bind(7);
        var echo = EchoRequestFrame();
        var udp = UdpFrame(IpB, IpA, 1, 7, new byte[100]);
        var arp = Arp(1, MacB, IpB, MacAddress.Zero, IpA);
        var buffer = new byte[200];
        var d = new byte[3000];
        var frag1 = EthernetFrame(MacA, MacB, 0x0800, Ipv4Datagram(IpB, IpA, 6, d.AsSpan(0, 1480), 9, 0x2000));
        var frag2 = EthernetFrame(MacA, MacB, 0x0800, Ipv4Datagram(IpB, IpA, 6, d.AsSpan(1480), 9, 185));
        for (int i = 0; i < 10; i++) { s.Receive(echo, i); s.Receive(udp, i); sock.TryReceive(buffer, out _, out _); s.Receive(frag1, i); s.Receive(frag2, i); }
        void Round()
        {
            for (int i = 0; i < 1000; i++)
            {
                s.Receive(echo, i);
                s.Receive(udp, i);
                s.Receive(arp, i);
                s.Receive(frag1, i);
                s.Receive(frag2, i);
                sock.TryReceive(buffer, out _, out _);
            }
        }
        Assert.That(AllocationCheck.LeastOfThree(Round), Is.EqualTo(0));
        Assert.That(s.Counters.IcmpEchoRepliesSent, Is.EqualTo(3010));
    }

    // ---- fuzz ----

    private static readonly Ipv4Address DnsServer = new(10, 0, 2, 3);

    private static void FixChecksums(byte[] f, Random random)
    {
        if (f.Length < 34 || f[12] != 8 || f[13] != 0) return;
        int ihl = (f[14] & 15) * 4;
        if (ihl < 20 || 14 + ihl > f.Length) return;
        if (random.Next(4) == 0)
        {
            // Make the total length fit the frame so the datagram reaches its transport.
            Put(f, 16, (uint)(f.Length - 14), 2);
        }
        f[24] = f[25] = 0;
        Put(f, 24, Sum(f.AsSpan(14, ihl)), 2);
        int total = (int)Get(f, 16, 2);
        if (total < ihl || 14 + total > f.Length) return;
        var t = f.AsSpan(14 + ihl, total - ihl);
        if (f[23] == 1 && t.Length >= 4)
        {
            t[2] = t[3] = 0;
            var sum = Sum(t);
            t[2] = (byte)(sum >> 8);
            t[3] = (byte)sum;
        }
        else if (f[23] == 17 && t.Length >= 8 && random.Next(2) == 0)
        {
            t[6] = t[7] = 0;
            int udpLength = Math.Min((int)Get(f, 14 + ihl + 4, 2), t.Length);
            if (udpLength < 8) return;
            var pseudo = new byte[12 + udpLength];
            Put(pseudo, 0, Get(f, 26, 4), 4);
            Put(pseudo, 4, Get(f, 30, 4), 4);
            pseudo[9] = 17;
            Put(pseudo, 10, (uint)udpLength, 2);
            t[..udpLength].CopyTo(pseudo.AsSpan(12));
            var sum = Sum(pseudo);
            t[6] = (byte)(sum >> 8);
            t[7] = (byte)sum;
        }
    }

    [Test]
    public void FuzzedFramesNeverThrowAndTheStackStillAnswersPing()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.SetDnsServers(new[] { DnsServer });
        s.Arp.AddStatic(DnsServer, MacGateway);
        var sock = s.Udp.Open(4096);
        sock.Bind(7);
        var connected = s.Udp.Open(1024);
        connected.Connect(IpB, 9);
        var pinger = s.Icmp.OpenPinger(0x99);
        var resolver = new DnsResolver(s);
        var tcp = new RecordingTransport(6);
        s.Register(tcp);
        // A second, unconfigured stack with DHCP selecting takes the same frames.
        var link2 = new CapturingLink();
        var booting = new NetStack(MacA, link2, new NetStackOptions { RandomSeed = 3 });
        var dhcp = new DhcpClient(booting);
        dhcp.Start(0);

        var data = new byte[3000];
        new Random(1).NextBytes(data);
        DnsQuery query = resolver.Resolve("www.example.com", 0);
        var dnsQuery = Payload(link.Last)[8..];
        var dnsPort = (ushort)Get(Payload(link.Last), 0, 2);
        var dnsAnswer = dnsQuery.Concat(new byte[] { 0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 9, 0, 2, 0xC0, 16,
            0xC0, 16, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 1, 2, 3, 4 }).ToArray();
        dnsAnswer[2] = 0x81;
        dnsAnswer[7] = 2;
        var offer = new byte[300];
        offer[0] = 2; offer[1] = 1; offer[2] = 6;
        Put(offer, 4, dhcp.TransactionId, 4);
        Put(offer, 16, IpA.Value, 4);
        Put(offer, 28, 0x52540012, 4);
        Put(offer, 32, 0x3456, 2);
        Put(offer, 236, 0x63825363, 4);
        new byte[] { 53, 1, 2, 54, 4, 10, 0, 2, 2, 51, 4, 0, 0, 1, 0, 1, 4, 255, 255, 255, 0, 255 }.CopyTo(offer, 240);
        var icmpError = new byte[8 + 28];
        icmpError[0] = 3;
        icmpError[1] = 3;
        Ipv4Datagram(IpA, IpB, 17, Udp(IpA, IpB, connected.LocalPort, 9, new byte[0])).AsSpan(0, 28).CopyTo(icmpError.AsSpan(8));
        Put(icmpError, 2, Sum(icmpError), 2);

        var corpus = new List<byte[]>
        {
            Arp(1, MacB, IpB, MacAddress.Zero, IpA),
            Arp(2, MacB, IpB, MacA, IpA),
            EchoRequestFrame(),
            Ipv4Frame(IpB, IpA, 1, Echo(0, 0x99, 0, new byte[8])),
            UdpFrame(IpB, IpA, 1000, 7, new byte[] { 1, 2, 3 }),
            UdpFrame(IpB, IpA, 9, connected.LocalPort, new byte[] { 1, 2, 3 }),
            UdpFrame(IpB, IpA, 1000, 999, new byte[] { 1, 2, 3 }),
            UdpFrame(DnsServer, IpA, 53, dnsPort, dnsAnswer, ethSrc: MacGateway),
            UdpFrame(IpGateway, Ipv4Address.Broadcast, 67, 68, offer, ethDst: MacAddress.Broadcast),
            Ipv4Frame(IpB, IpA, 1, icmpError),
            Ipv4Frame(IpB, IpA, 6, new byte[20]),
            EthernetFrame(MacA, MacB, 0x0800, Ipv4Datagram(IpB, IpA, 17, data.AsSpan(0, 1480), 5, 0x2000)),
            EthernetFrame(MacA, MacB, 0x0800, Ipv4Datagram(IpB, IpA, 17, data.AsSpan(1480, 1480), 5, 0x2000 | 185)),
            EthernetFrame(MacA, MacB, 0x0800, Ipv4Datagram(IpB, IpA, 17, data.AsSpan(2960, 40), 5, 370)),
        };

        var random = new Random(12345);
        long now = 0;
        const int Frames = 120_000;
        for (int i = 0; i < Frames; i++)
        {
            byte[] f;
            int kind = random.Next(10);
            if (kind == 0)
            {
                f = new byte[random.Next(0, 1600)];
                random.NextBytes(f);
                if (random.Next(2) == 0 && f.Length >= 14)
                {
                    MacA.Write(f, 0);
                    f[12] = 8;
                    f[13] = (byte)(random.Next(2) == 0 ? 0 : 6);
                    if (f.Length > 14 && f[13] == 0) f[14] = (byte)(0x45 + random.Next(3));
                }
            }
            else
            {
                var seed = corpus[random.Next(corpus.Count)];
                f = (byte[])seed.Clone();
                int mutations = random.Next(1, 6);
                for (int m = 0; m < mutations; m++)
                {
                    int op = random.Next(6);
                    if (op <= 2 && f.Length > 0) f[random.Next(f.Length)] = (byte)random.Next(256);
                    else if (op == 3 && f.Length > 0) f[random.Next(f.Length)] ^= (byte)(1 << random.Next(8));
                    else if (op == 4) f = f[..random.Next(f.Length + 1)];
                    else
                    {
                        var extra = new byte[random.Next(1, 64)];
                        random.NextBytes(extra);
                        f = f.Concat(extra).ToArray();
                    }
                }
                if (random.Next(3) != 0) FixChecksums(f, random);
            }
            now += random.Next(0, 2000);
            try
            {
                s.Receive(f, now);
                booting.Receive(f, now);
                if ((i & 255) == 0)
                {
                    s.Poll(now);
                    booting.Poll(now);
                    sock.TryReceive(new byte[64], out _, out _);
                }
            }
            catch (Exception e)
            {
                Assert.Fail($"frame {i} threw {e}\n{Convert.ToHexString(f)}");
            }
            if (link.Frames.Count > 1000) link.Frames.Clear();
            if (link2.Frames.Count > 1000) link2.Frames.Clear();
        }
        TestContext.Out.WriteLine($"{Frames} frames; delivered {s.Counters.Ipv4Delivered}, UDP {s.Counters.UdpDelivered}, " +
            $"echo replies {s.Counters.IcmpEchoRepliesSent}, reassembled {s.Counters.Reassembled}, DNS ignored {s.Counters.DnsIgnored}, " +
            $"DHCP ignored {booting.Counters.DhcpIgnored}, ARP malformed {s.Counters.ArpMalformed}, IPv4 bad checksum {s.Counters.Ipv4DropBadChecksum}");
        Assert.That(s.Counters.IcmpEchoRepliesSent, Is.GreaterThan(100), "the fuzzing reached ICMP");
        Assert.That(s.Counters.UdpDelivered, Is.GreaterThan(100), "the fuzzing reached UDP sockets");
        Assert.That(s.Address, Is.EqualTo(IpA));

        // After all that, a valid ping is still answered.
        link.Frames.Clear();
        now += 60 * Second;
        s.Poll(now);
        link.Frames.Clear();
        s.Receive(EchoRequestFrame(0x5151, 77, 24), now);
        var reply = link.Frames.FirstOrDefault(x => IsIpv4(x, 1));
        if (reply == null)
        {
            // The fuzz may have left IpB's ARP entry unresolved: answer the request it sends.
            Assert.That(link.Frames.Any(x => x[12] == 8 && x[13] == 6), "an ARP request for the asker");
            s.Receive(Arp(2, MacB, IpB, MacA, IpA), now);
            reply = link.Frames.First(x => IsIpv4(x, 1));
        }
        var expectedData = new byte[24];
        for (int k = 0; k < 24; k++) expectedData[k] = (byte)(k * 7);
        Assert.That(Payload(reply), Is.EqualTo(Echo(0, 0x5151, 77, expectedData)));
        Assert.That(IpDestination(reply), Is.EqualTo(IpB));
    }

    [Test]
    public void FuzzedDnsAndDhcpRepliesMatchingTheirIdsNeverThrow()
    {
        // The frame fuzz above rarely gets past the DNS id or the DHCP xid; here every reply
        // carries the right one, so the mutations land in the parsers.
        var link = new CapturingLink();
        var s = Configured(link);
        s.SetDnsServers(new[] { DnsServer });
        s.Arp.AddStatic(DnsServer, MacGateway);
        var resolver = new DnsResolver(s);
        var random = new Random(777);
        int resolved = 0;
        for (int i = 0; i < 20_000; i++)
        {
            var q = resolver.Resolve("www.example.com", i);
            var udp = Payload(link.Last);
            var query = udp[8..];
            var answer = query.Concat(new byte[] { 0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 9, 0, 6, 3, (byte)'c', (byte)'d', (byte)'n', 0xC0, 16,
                0xC0, 33, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 1, 2, 3, 4 }).ToArray();
            answer[2] = 0x81;
            answer[3] = 0x80;
            answer[7] = 2;
            for (int m = random.Next(1, 4); m > 0; m--)
            {
                if (answer.Length <= 2) break;
                int at = random.Next(2, answer.Length);
                if (random.Next(4) == 0) answer = answer[..at];
                else answer[at] = random.Next(3) == 0 ? (byte)0xC0 : (byte)random.Next(256);
            }
            s.Receive(UdpFrame(DnsServer, IpA, 53, (ushort)Get(udp, 0, 2), answer, ethSrc: MacGateway), i);
            if (q.Status == DnsStatus.Resolved) resolved++;
            if (!q.IsDone) resolver.Cancel(q);
            link.Frames.Clear();
        }
        TestContext.Out.WriteLine($"DNS: {resolved} of 20000 mutated answers still resolved");

        var link2 = new CapturingLink();
        var booting = new NetStack(MacA, link2);
        var dhcp = new DhcpClient(booting);
        for (int i = 0; i < 20_000; i++)
        {
            if (dhcp.State != DhcpState.Selecting)
            {
                dhcp.Stop();
                booting.Deconfigure();
                dhcp = new DhcpClient(booting);
            }
            if (dhcp.State == DhcpState.Stopped) dhcp.Start(i);
            var offer = new byte[300];
            offer[0] = 2; offer[1] = 1; offer[2] = 6;
            Put(offer, 4, dhcp.TransactionId, 4);
            Put(offer, 16, IpA.Value, 4);
            Put(offer, 28, 0x52540012, 4);
            Put(offer, 32, 0x3456, 2);
            Put(offer, 236, 0x63825363, 4);
            new byte[] { 53, 1, 2, 54, 4, 10, 0, 2, 2, 51, 4, 0, 0, 1, 0, 1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2, 6, 8, 10, 0, 2, 3, 1, 1, 1, 1, 255 }
                .CopyTo(offer, 240);
            for (int m = random.Next(1, 4); m > 0; m--)
            {
                if (offer.Length <= 240) break;
                int at = random.Next(240, offer.Length);
                if (random.Next(5) == 0) offer = offer[..at];
                else offer[at] = (byte)random.Next(256);
            }
            booting.Receive(UdpFrame(IpGateway, Ipv4Address.Broadcast, 67, 68, offer, ethDst: MacAddress.Broadcast), i);
            link2.Frames.Clear();
        }
    }
}
