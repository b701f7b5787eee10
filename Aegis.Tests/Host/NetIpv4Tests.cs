// LibOS.Net IPv4 (RFC 791/1122): header validation and delivery, routing, the bytes sent
// (checked field by field against a header built by hand), and ICMP (echo, errors, the pinger).
#nullable enable
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.NetFrames;

namespace Aegis.Tests.Host;

public class NetIpv4Tests
{
    private static (NetStack Stack, CapturingLink Link, RecordingTransport Tcp) Setup(NetStackOptions? options = null)
    {
        var link = new CapturingLink();
        var s = Configured(link, options);
        s.Arp.AddStatic(IpB, MacB);
        s.Arp.AddStatic(IpGateway, MacGateway);
        var tcp = new RecordingTransport(6);
        s.Register(tcp);
        return (s, link, tcp);
    }

    [Test]
    public void AValidDatagramIsDeliveredToTheTransportRegisteredForItsProtocol()
    {
        var (s, _, tcp) = Setup();
        s.Receive(Ipv4Frame(IpB, IpA, 6, new byte[] { 1, 2, 3 }), 0);
        Assert.That(tcp.Received, Has.Count.EqualTo(1));
        Assert.That(tcp.Received[0].Source, Is.EqualTo(IpB));
        Assert.That(tcp.Received[0].Destination, Is.EqualTo(IpA));
        Assert.That(tcp.Received[0].Payload, Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public void LinkPaddingAfterTheTotalLengthIsNotPartOfThePayload()
    {
        var (s, _, tcp) = Setup();
        var f = Ipv4Frame(IpB, IpA, 6, new byte[] { 1, 2, 3 }).Concat(new byte[20]).ToArray();
        s.Receive(f, 0);
        Assert.That(tcp.Received[0].Payload, Is.EqualTo(new byte[] { 1, 2, 3 }));
    }

    [Test]
    public void OptionsAreSkippedByTheHeaderLength()
    {
        var (s, _, tcp) = Setup();
        var options = new byte[] { 0x94, 4, 0, 0, 1, 1, 1, 0 }; // router alert, NOPs, end
        var f = EthernetFrame(MacA, MacB, 0x0800, Ipv4Datagram(IpB, IpA, 6, new byte[] { 7, 8 }, options: options));
        s.Receive(f, 0);
        Assert.That(tcp.Received[0].Payload, Is.EqualTo(new byte[] { 7, 8 }));
    }

    private static byte[] Corrupt(Action<byte[]> change, bool fixChecksum = true)
    {
        var d = Ipv4Datagram(IpB, IpA, 6, new byte[] { 1, 2, 3, 4 });
        change(d);
        if (fixChecksum)
        {
            int ihl = Math.Min((d[0] & 15) * 4, d.Length);
            if (ihl >= 12)
            {
                d[10] = d[11] = 0;
                Put(d, 10, Sum(d.AsSpan(0, ihl)), 2);
            }
        }
        return EthernetFrame(MacA, MacB, 0x0800, d);
    }

    [Test]
    public void MalformedHeadersAreCountedByReasonAndDropped()
    {
        var (s, link, tcp) = Setup();
        s.Receive(Corrupt(d => d[0] = 0x65), 0);
        s.Receive(Corrupt(d => d[0] = 0x44), 0);
        s.Receive(Corrupt(d => d[0] = 0x4F), 0);
        s.Receive(Corrupt(d => Put(d, 2, 200, 2)), 0);
        s.Receive(Corrupt(d => Put(d, 2, 19, 2)), 0);
        s.Receive(Corrupt(d => d[8] ^= 1, fixChecksum: false), 0);
        s.Receive(Corrupt(d => Put(d, 6, 0x8000, 2)), 0);
        s.Receive(EthernetFrame(MacA, MacB, 0x0800, new byte[19]), 0);
        var c = s.Counters;
        Assert.That(c.Ipv4DropBadVersion, Is.EqualTo(1));
        Assert.That(c.Ipv4DropBadHeaderLength, Is.EqualTo(2));
        Assert.That(c.Ipv4DropBadTotalLength, Is.EqualTo(2));
        Assert.That(c.Ipv4DropBadChecksum, Is.EqualTo(1));
        Assert.That(c.Ipv4DropReservedFlag, Is.EqualTo(1));
        Assert.That(c.Ipv4DropTooShort, Is.EqualTo(1));
        Assert.That(tcp.Received, Is.Empty);
        Assert.That(link.Frames, Is.Empty);
    }

    [Test]
    public void TheReceivedTtlIsNotAReasonToDrop()
    {
        var (s, _, tcp) = Setup();
        s.Receive(EthernetFrame(MacA, MacB, 0x0800, Ipv4Datagram(IpB, IpA, 6, new byte[] { 1 }, ttl: 0)), 0);
        s.Receive(EthernetFrame(MacA, MacB, 0x0800, Ipv4Datagram(IpB, IpA, 6, new byte[] { 1 }, ttl: 1)), 0);
        Assert.That(tcp.Received, Has.Count.EqualTo(2));
    }

    [Test]
    public void DatagramsForOtherAddressesOrFromBadSourcesAreDropped()
    {
        var (s, _, tcp) = Setup();
        s.Receive(Ipv4Frame(IpB, new Ipv4Address(10, 0, 2, 99), 6, new byte[1]), 0);
        s.Receive(Ipv4Frame(IpB, new Ipv4Address(224, 0, 0, 1), 6, new byte[1]), 0);
        s.Receive(Ipv4Frame(IpB, IpA, 6, new byte[1], ethDst: MacAddress.Broadcast), 0); // RFC 1122 3.3.6
        Assert.That(s.Counters.Ipv4DropNotForUs, Is.EqualTo(3));
        s.Receive(Ipv4Frame(Ipv4Address.Broadcast, IpA, 6, new byte[1]), 0);
        s.Receive(Ipv4Frame(new Ipv4Address(224, 1, 2, 3), IpA, 6, new byte[1]), 0);
        s.Receive(Ipv4Frame(new Ipv4Address(127, 0, 0, 1), IpA, 6, new byte[1]), 0);
        s.Receive(Ipv4Frame(IpA, IpA, 6, new byte[1]), 0);
        Assert.That(s.Counters.Ipv4DropBadSource, Is.EqualTo(4));
        Assert.That(tcp.Received, Is.Empty);
    }

    [Test]
    public void BroadcastAndSubnetBroadcastDatagramsAreAccepted()
    {
        var (s, _, tcp) = Setup();
        s.Receive(Ipv4Frame(IpB, Ipv4Address.Broadcast, 6, new byte[1], ethDst: MacAddress.Broadcast), 0);
        s.Receive(Ipv4Frame(IpB, new Ipv4Address(10, 0, 2, 255), 6, new byte[1], ethDst: MacAddress.Broadcast), 0);
        Assert.That(tcp.Received, Has.Count.EqualTo(2));
    }

    [Test]
    public void AnUnconfiguredStackAcceptsUnicastToAnyAddressForDhcp()
    {
        var link = new CapturingLink();
        var s = new NetStack(MacA, link);
        var t = new RecordingTransport(6);
        s.Register(t);
        s.Receive(Ipv4Frame(IpGateway, IpA, 6, new byte[1]), 0);
        Assert.That(t.Received, Has.Count.EqualTo(1));
    }

    [Test]
    public void ASentDatagramMatchesAHeaderBuiltByHand()
    {
        var (s, link, _) = Setup();
        s.Poll(0);
        var payload = new byte[] { 0xDE, 0xAD, 0xBE, 0xEF, 5 };
        Assert.That(s.Send(IpB, 6, payload), Is.True);
        var f = link.Last;
        Assert.That(f.Length, Is.EqualTo(60), "padded to the Ethernet minimum");
        Assert.That(EthDestination(f), Is.EqualTo(MacB));
        ushort id = (ushort)Get(f, 18, 2);
        var expected = EthernetFrame(MacB, MacA, 0x0800, Ipv4Datagram(IpA, IpB, 6, payload, id, 0x4000, 64));
        Assert.That(f[..expected.Length], Is.EqualTo(expected));
        Assert.That(f[expected.Length..], Is.All.EqualTo((byte)0));
        s.Send(IpB, 6, payload);
        Assert.That(Get(link.Last, 18, 2), Is.EqualTo((ushort)(id + 1)), "identification counts up");
    }

    [Test]
    public void OffLinkDestinationsGoToTheGatewaysMac()
    {
        var (s, link, _) = Setup();
        var far = new Ipv4Address(8, 8, 8, 8);
        Assert.That(s.Send(far, 6, new byte[1]), Is.True);
        Assert.That(EthDestination(link.Last), Is.EqualTo(MacGateway));
        Assert.That(IpDestination(link.Last), Is.EqualTo(far));
        Assert.That(s.SourceFor(far), Is.EqualTo(IpA));
    }

    [Test]
    public void WithoutAGatewayOffLinkDestinationsHaveNoRoute()
    {
        var link = new CapturingLink();
        var s = new NetStack(MacA, link);
        s.Configure(IpA, Mask24, Ipv4Address.Any, 0);
        Assert.That(s.SourceFor(new Ipv4Address(8, 8, 8, 8)), Is.EqualTo(Ipv4Address.Any));
        Assert.That(s.Send(new Ipv4Address(8, 8, 8, 8), 6, new byte[1]), Is.False);
        Assert.That(s.Counters.Ipv4SendNoRoute, Is.EqualTo(1));
        Assert.That(s.SourceFor(IpB), Is.EqualTo(IpA));
    }

    [Test]
    public void APayloadOfOneFrameGoesWholeWithDontFragmentSet()
    {
        var (s, link, _) = Setup();
        Assert.That(s.MaxPayload(IpB), Is.EqualTo(1480));
        Assert.That(s.Send(IpB, 6, new byte[1480]), Is.True);
        Assert.That(link.Last.Length, Is.EqualTo(1514));
        Assert.That(Get(link.Last, 20, 2), Is.EqualTo(0x4000u), "DF set, offset 0");
        Assert.That(s.Counters.Ipv4Fragmented, Is.EqualTo(0));
    }

    /// <summary>A larger payload (a big UDP datagram) leaves in fragments of 1,480 bytes, DF clear,
    /// one identification, offsets in 8-byte units, MF on all but the last; another stack
    /// reassembles them into the payload sent. Past an IPv4 datagram's 65,515 bytes: refused.</summary>
    [Test]
    public void APayloadLargerThanAFrameLeavesInFragmentsThatReassembleIntoIt()
    {
        var (s, link, _) = Setup();
        byte[] payload = Enumerable.Range(0, 4000).Select(i => (byte)(i * 7 + 3)).ToArray();
        Assert.That(s.Send(IpB, 17, payload), Is.True);
        List<byte[]> frames = link.Take();
        Assert.That(frames.Select(f => f.Length), Is.EqualTo(new[] { 1514, 1514, 14 + 20 + 1040 }));
        Assert.That(frames.Select(f => Get(f, 20, 2)), Is.EqualTo(new[] { 0x2000u | 0, 0x2000u | 185, 370u }), "MF, offset/8");
        Assert.That(frames.Select(f => Get(f, 18, 2)).Distinct().Count(), Is.EqualTo(1), "one identification");
        Assert.That(frames.Select(f => Ipv4.Check(f.AsSpan(14))), Is.All.EqualTo(Ipv4HeaderCheck.Ok), "each header's checksum");
        Assert.That((s.Counters.Ipv4Sent, s.Counters.Ipv4Fragmented, s.Counters.FragmentsSent), Is.EqualTo((1L, 1L, 3L)));

        var other = new CapturingLink();
        var b = new NetStack(MacB, other);
        b.Configure(IpB, Mask24, IpGateway, 0);
        var udp = new RecordingTransport(17);
        b.Register(udp);
        foreach (byte[] f in frames) b.Receive(f, 1);
        Assert.That(udp.Received, Has.Count.EqualTo(1), "reassembled");
        Assert.That(udp.Received[0].Payload, Is.EqualTo(payload));

        Assert.That(s.Send(IpB, 17, new byte[Ipv4.MaximumDatagramPayload]), Is.True);
        Assert.That(link.Take(), Has.Count.EqualTo(45), "65,515 bytes: 44 fragments of 1,480 and one of 395");
        Assert.That(s.Send(IpB, 17, new byte[Ipv4.MaximumDatagramPayload + 1]), Is.False);
        Assert.That(s.Counters.Ipv4SendTooBig, Is.EqualTo(1));
    }

    [Test]
    public void AnUnconfiguredStackSendsOnlyBroadcastsFromAddressZero()
    {
        var link = new CapturingLink();
        var s = new NetStack(MacA, link);
        Assert.That(s.Send(IpB, 17, new byte[1]), Is.False);
        Assert.That(s.Counters.Ipv4SendUnconfigured, Is.EqualTo(1));
        Assert.That(s.Send(Ipv4Address.Broadcast, 17, new byte[1]), Is.True);
        Assert.That(EthDestination(link.Last), Is.EqualTo(MacAddress.Broadcast));
        Assert.That(IpSource(link.Last), Is.EqualTo(Ipv4Address.Any));
    }

    /// <summary>Datagrams to 127.0.0.0/8 and to our own address never reach the link: the next
    /// Poll delivers them (the deadline is due at once), from 127.0.0.1 or from us; a full queue drops.</summary>
    [Test]
    public void DatagramsToOurselfComeBackThroughLoopbackAtTheNextPoll()
    {
        var (s, link, _) = Setup();
        var udp = s.Udp.Open();
        Assert.That(udp.Bind(4000), Is.EqualTo(UdpError.None));
        int framesBefore = link.Frames.Count;
        Assert.That(udp.SendTo(new Ipv4Address(127, 0, 0, 1), 4000, new byte[] { 1, 2, 3 }), Is.EqualTo(UdpError.None));
        Assert.That(udp.SendTo(IpA, 4000, new byte[] { 4 }), Is.EqualTo(UdpError.None));
        Assert.That(link.Frames.Count, Is.EqualTo(framesBefore), "nothing on the wire");
        Assert.That(s.NextDeadlineMicros, Is.EqualTo(0), "due now");
        s.Poll(10);
        byte[] got = new byte[8];
        Assert.That(udp.TryReceive(got, out Ipv4Address from, out ushort port), Is.EqualTo(3));
        Assert.That((from, port), Is.EqualTo((new Ipv4Address(127, 0, 0, 1), (ushort)4000)));
        Assert.That(udp.TryReceive(got, out from, out _), Is.EqualTo(1));
        Assert.That(from, Is.EqualTo(IpA));
        for (int i = 0; i < NetStack.LoopbackSlots; i++) Assert.That(s.Send(IpA, 17, new byte[8]), Is.True);
        Assert.That(s.Send(IpA, 17, new byte[8]), Is.False, "the queue is full");
        Assert.That(s.Counters.Ipv4SendToSelf, Is.EqualTo(1));
    }

    [Test]
    public void ALinkThatRefusesAFrameMakesSendFail()
    {
        var (s, link, _) = Setup();
        link.Fail = true;
        Assert.That(s.Send(IpB, 6, new byte[1]), Is.False);
        Assert.That(s.Counters.FramesSendFailed, Is.EqualTo(1));
    }

    [Test]
    public void MulticastDestinationsMapToTheirMac()
    {
        var (s, link, _) = Setup();
        s.Send(new Ipv4Address(224, 0, 0, 251), 17, new byte[1]);
        Assert.That(EthDestination(link.Last), Is.EqualTo(new MacAddress(0x01005E0000FBUL)));
    }

    // ---- ICMP ----

    [Test]
    public void AnEchoRequestIsAnsweredWithTheSameIdentifierSequenceAndData()
    {
        var (s, link, _) = Setup();
        s.Receive(EchoRequestFrame(0x4242, 7, 56), 0);
        Assert.That(link.Frames, Has.Count.EqualTo(1));
        var reply = Payload(link.Last);
        var data = new byte[56];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 7);
        Assert.That(reply, Is.EqualTo(Echo(0, 0x4242, 7, data)));
        Assert.That(IpDestination(link.Last), Is.EqualTo(IpB));
    }

    [Test]
    public void AnEchoRequestIsNotAnsweredWhenTheStackDoesNotAnswerArpAndPing()
    {
        var (s, link, _) = Setup(new NetStackOptions { AnswersArpAndPing = false });
        s.Receive(EchoRequestFrame(), 0);
        Assert.That(link.Frames, Is.Empty);
        Assert.That(s.Counters.IcmpEchoRequestsIgnored, Is.EqualTo(1));
        s.AnswersArpAndPing = true;
        s.Receive(EchoRequestFrame(), 0);
        Assert.That(link.Frames, Has.Count.EqualTo(1), "the option can change at run time");
    }

    [Test]
    public void AnEchoRequestToABroadcastAddressIsNotAnswered()
    {
        var (s, link, _) = Setup();
        var f = Ipv4Frame(IpB, Ipv4Address.Broadcast, 1, Echo(8, 1, 1, new byte[8]), ethDst: MacAddress.Broadcast);
        s.Receive(f, 0);
        Assert.That(link.Frames, Is.Empty);
    }

    [Test]
    public void AnIcmpMessageWithABadChecksumIsDropped()
    {
        var (s, link, _) = Setup();
        var m = Echo(8, 1, 1, new byte[8]);
        m[9] ^= 0xFF;
        s.Receive(Ipv4Frame(IpB, IpA, 1, m), 0);
        Assert.That(s.Counters.IcmpBadChecksum, Is.EqualTo(1));
        Assert.That(link.Frames, Is.Empty);
    }

    [Test]
    public void ThePingerMatchesRepliesAndMeasuresTheRoundTripWithTheCallersClock()
    {
        var (s, link, _) = Setup();
        var p = s.Icmp.OpenPinger(0x77);
        Assert.That(p.Send(IpB, 16, 1000), Is.EqualTo(0));
        Assert.That(p.Send(IpB, 16, 2000), Is.EqualTo(1));
        var request = Payload(link.Frames[1]);
        Assert.That(request[0], Is.EqualTo(8));
        Assert.That(Sum(request), Is.EqualTo(0));
        // The peer answers the second one: the request with its type changed.
        var reply = (byte[])request.Clone();
        reply[0] = 0;
        reply[2] = reply[3] = 0;
        Put(reply, 2, Sum(reply), 2);
        s.Receive(Ipv4Frame(IpB, IpA, 1, reply), 2500);
        Assert.That(p.TryGetReply(out var r), Is.True);
        Assert.That(r.Sequence, Is.EqualTo(1));
        Assert.That(r.RoundTripMicros, Is.EqualTo(500));
        Assert.That(r.Source, Is.EqualTo(IpB));
        Assert.That(r.DataLength, Is.EqualTo(16));
        s.Receive(Ipv4Frame(IpB, IpA, 1, reply), 2600);
        Assert.That(p.TryGetReply(out _), Is.False, "a duplicate reply is not matched twice");
        Assert.That(s.Counters.IcmpEchoRepliesUnmatched, Is.EqualTo(1));
    }

    [Test]
    public void AReplyFromAnotherHostOrWithOtherDataIsNotMatched()
    {
        var (s, link, _) = Setup();
        var p = s.Icmp.OpenPinger(0x77);
        p.Send(IpB, 8, 0);
        var request = Payload(link.Last);
        var reply = (byte[])request.Clone();
        reply[0] = 0;
        reply[2] = reply[3] = 0;
        Put(reply, 2, Sum(reply), 2);
        s.Receive(Ipv4Frame(IpGateway, IpA, 1, reply), 1);
        reply[9] ^= 1;
        reply[2] = reply[3] = 0;
        Put(reply, 2, Sum(reply), 2);
        s.Receive(Ipv4Frame(IpB, IpA, 1, reply), 1);
        Assert.That(p.TryGetReply(out _), Is.False);
    }

    [Test]
    public void AnUnregisteredProtocolIsAnsweredWithProtocolUnreachable()
    {
        var (s, link, _) = Setup();
        var datagram = Ipv4Datagram(IpB, IpA, 99, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 });
        s.Receive(EthernetFrame(MacA, MacB, 0x0800, datagram), 0);
        Assert.That(s.Counters.Ipv4DropNoTransport, Is.EqualTo(1));
        var m = Payload(link.Last);
        Assert.That(m[0], Is.EqualTo(3));
        Assert.That(m[1], Is.EqualTo(2));
        Assert.That(Sum(m), Is.EqualTo(0));
        Assert.That(m[8..], Is.EqualTo(datagram), "the whole original (header and payload) is quoted");
    }

    [Test]
    public void IcmpErrorsAreRateLimited()
    {
        var (s, link, _) = Setup();
        for (int i = 0; i < 25; i++) s.Receive(Ipv4Frame(IpB, IpA, 99, new byte[8]), 0);
        Assert.That(link.Frames, Has.Count.EqualTo(10));
        Assert.That(s.Counters.IcmpErrorsRateLimited, Is.EqualTo(15));
        s.Receive(Ipv4Frame(IpB, IpA, 99, new byte[8]), 1_000_000);
        Assert.That(link.Frames, Has.Count.EqualTo(11));
    }

    [Test]
    public void NoIcmpErrorsAreSentWhenTheStackIsToldNotTo()
    {
        var (s, link, _) = Setup(new NetStackOptions { SendsIcmpErrors = false });
        s.Receive(Ipv4Frame(IpB, IpA, 99, new byte[8]), 0);
        Assert.That(link.Frames, Is.Empty);
    }

    [Test]
    public void IcmpErrorsForTcpGoToTheRegisteredHook()
    {
        var (s, _, tcp) = Setup();
        // A router says "fragmentation needed, MTU 1400" about a TCP segment we sent.
        var original = Ipv4Datagram(IpA, new Ipv4Address(8, 8, 8, 8), 6, new byte[] { 0x12, 0x34, 0, 80, 0, 0, 0, 1, 9, 9 });
        var m = new byte[8 + 28];
        m[0] = 3;
        m[1] = 4;
        Put(m, 4, 1400, 4);
        original.AsSpan(0, 28).CopyTo(m.AsSpan(8));
        Put(m, 2, Sum(m), 2);
        s.Receive(Ipv4Frame(IpGateway, IpA, 1, m, ethSrc: MacGateway), 0);
        Assert.That(tcp.Errors, Has.Count.EqualTo(1));
        var e = tcp.Errors[0];
        Assert.That((e.Type, e.Code, e.Word), Is.EqualTo(((byte)3, (byte)4, 1400u)));
        Assert.That(e.Reporter, Is.EqualTo(IpGateway));
        Assert.That(e.OriginalDestination, Is.EqualTo(new Ipv4Address(8, 8, 8, 8)));
        Assert.That(e.Original, Is.EqualTo(new byte[] { 0x12, 0x34, 0, 80, 0, 0, 0, 1 }));
    }

    [Test]
    public void IcmpErrorsAboutDatagramsWeDidNotSendAreIgnored()
    {
        var (s, _, tcp) = Setup();
        var original = Ipv4Datagram(IpB, new Ipv4Address(8, 8, 8, 8), 6, new byte[8]);
        var m = new byte[8 + 28];
        m[0] = 3;
        m[1] = 1;
        original.AsSpan(0, 28).CopyTo(m.AsSpan(8));
        Put(m, 2, Sum(m), 2);
        s.Receive(Ipv4Frame(IpGateway, IpA, 1, m), 0);
        Assert.That(tcp.Errors, Is.Empty);
    }

    [Test]
    public void ExplicitIcmpErrorReceiverReplacesTheTransports()
    {
        var (s, _, tcp) = Setup();
        var hook = new RecordingTransport(6);
        s.SetIcmpErrorReceiver(6, hook);
        var original = Ipv4Datagram(IpA, IpB, 6, new byte[8]);
        var m = new byte[8 + 28];
        m[0] = 11;
        original.AsSpan(0, 28).CopyTo(m.AsSpan(8));
        Put(m, 2, Sum(m), 2);
        s.Receive(Ipv4Frame(IpB, IpA, 1, m), 0);
        Assert.That(hook.Errors, Has.Count.EqualTo(1));
        Assert.That(tcp.Errors, Is.Empty);
    }
}
