// LibOS.Net Ethernet framing and ARP (RFC 826): answering, learning, resolution with retries,
// the bounded waiting queue, expiry and refresh, announcements, conflicts (docs/network.md).
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.NetFrames;

namespace Aegis.Tests.Host;

public class NetArpTests
{
    private const long Second = 1_000_000;

    [Test]
    public void AnArpRequestForOurAddressIsAnsweredWithOurMacInRfc826Layout()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Receive(Arp(1, MacB, IpB, MacAddress.Zero, IpA), 0);
        Assert.That(link.Frames, Has.Count.EqualTo(1));
        // Built by hand: Ethernet to the asker, ARP reply with our MAC/IP as sender, padded to 60.
        var expected = new byte[60];
        Arp(2, MacA, IpA, MacB, IpB).CopyTo(expected, 0);
        Assert.That(link.Last, Is.EqualTo(expected));
        Assert.That(s.Counters.ArpRepliesSent, Is.EqualTo(1));
        Assert.That(s.Arp.TryLookup(IpB, out var mac) && mac == MacB, "the asker is learned");
    }

    [Test]
    public void AnArpRequestIsNotAnsweredWhenTheStackDoesNotAnswerArpAndPing()
    {
        var link = new CapturingLink();
        var s = Configured(link, new NetStackOptions { AnswersArpAndPing = false });
        s.Receive(Arp(1, MacB, IpB, MacAddress.Zero, IpA), 0);
        Assert.That(link.Frames, Is.Empty);
        Assert.That(s.Arp.TryLookup(IpB, out _), Is.True, "still learns its neighbours");
    }

    [Test]
    public void ARequestForAnotherAddressIsNotAnsweredAndDoesNotAddTheSender()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Receive(Arp(1, MacB, IpB, MacAddress.Zero, new Ipv4Address(10, 0, 2, 99)), 0);
        Assert.That(link.Frames, Is.Empty);
        Assert.That(s.Arp.TryLookup(IpB, out _), Is.False);
        Assert.That(s.Counters.ArpIgnored, Is.EqualTo(1));
    }

    [Test]
    public void AnyArpFromAKnownSenderUpdatesItsMac()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Receive(Arp(1, MacB, IpB, MacAddress.Zero, IpA), 0);
        var moved = new MacAddress(0x02AABBCCDDEEUL);
        s.Receive(Arp(1, moved, IpB, MacAddress.Zero, new Ipv4Address(10, 0, 2, 99)), 1);
        Assert.That(s.Arp.TryLookup(IpB, out var mac) && mac == moved);
    }

    [Test]
    public void AGratuitousArpUpdatesAnExistingEntry()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Arp.TryLookup(IpB, out _);
        s.Receive(Arp(2, MacB, IpB, MacA, IpA), 0);
        var moved = new MacAddress(0x02AABBCCDDEEUL);
        s.Receive(Arp(1, moved, IpB, MacAddress.Zero, IpB), 1);
        Assert.That(s.Arp.TryLookup(IpB, out var mac) && mac == moved);
        Assert.That(link.Frames, Is.Empty, "a gratuitous ARP is not answered");
    }

    [Test]
    public void SendingToAnUnresolvedNeighbourQueuesTheDatagramAndSendsARequest()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        Assert.That(s.Send(IpB, 17, new byte[] { 1 }), Is.True);
        Assert.That(s.Send(IpB, 17, new byte[] { 2 }), Is.True);
        Assert.That(link.Frames, Has.Count.EqualTo(1), "one request for both");
        var expected = new byte[60];
        Arp(1, MacA, IpA, MacAddress.Zero, IpB).CopyTo(expected, 0);
        Assert.That(link.Last, Is.EqualTo(expected));
        Assert.That(s.Arp.QueuedFrames, Is.EqualTo(2));
        link.Frames.Clear();

        s.Receive(Arp(2, MacB, IpB, MacA, IpA), 10);
        Assert.That(link.Frames, Has.Count.EqualTo(2));
        Assert.That(EthDestination(link.Frames[0]), Is.EqualTo(MacB));
        Assert.That(Payload(link.Frames[0])[0], Is.EqualTo(1), "queued datagrams leave in order");
        Assert.That(Payload(link.Frames[1])[0], Is.EqualTo(2));
        Assert.That(s.Arp.QueuedFrames, Is.EqualTo(0));
    }

    [Test]
    public void UnansweredRequestsAreRetriedThenTheWaitingDatagramsAreDropped()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Poll(0); // the time Send works with (it has no time argument)
        s.Send(IpB, 17, new byte[] { 1 });
        s.Poll(Second / 2);
        Assert.That(link.Frames, Has.Count.EqualTo(1));
        s.Poll(Second);
        s.Poll(2 * Second);
        Assert.That(link.Frames, Has.Count.EqualTo(3), "three requests one second apart");
        Assert.That(s.NextDeadlineMicros, Is.EqualTo(3 * Second));
        s.Poll(3 * Second);
        Assert.That(link.Frames, Has.Count.EqualTo(3));
        Assert.That(s.Counters.ArpResolutionFailures, Is.EqualTo(1));
        Assert.That(s.Counters.ArpQueuedDroppedUnresolved, Is.EqualTo(1));
        Assert.That(s.Arp.QueuedFrames, Is.EqualTo(0));
        Assert.That(s.Arp.StateOf(IpB), Is.EqualTo(ArpEntryState.Free));
    }

    [Test]
    public void TheWaitingQueueDropsItsOldestBeyondItsBound()
    {
        var link = new CapturingLink();
        var s = Configured(link, new NetStackOptions { ArpQueueFrames = 4 });
        for (byte i = 0; i < 6; i++) Assert.That(s.Send(IpB, 17, new[] { i }), Is.True);
        Assert.That(s.Arp.QueuedFrames, Is.EqualTo(4));
        Assert.That(s.Counters.ArpQueueOverflow, Is.EqualTo(2));
        link.Frames.Clear();
        s.Receive(Arp(2, MacB, IpB, MacA, IpA), 1);
        Assert.That(link.Frames.Select(f => (int)Payload(f)[0]), Is.EqualTo(new[] { 2, 3, 4, 5 }));
    }

    [Test]
    public void ALargeDatagramsFragmentsAllWaitForTheResolution()
    {
        // The default queue holds a 65,507-byte datagram's 45 fragments (with 16 it dropped the
        // first 29 and the datagram was lost), and SYN-ACKs to a burst of clients at boot.
        var link = new CapturingLink();
        var s = Configured(link);
        for (int i = 0; i < 64; i++) Assert.That(s.Send(IpB, 17, new[] { (byte)i }), Is.True);
        Assert.That(s.Arp.QueuedFrames, Is.EqualTo(64));
        Assert.That(s.Counters.ArpQueueOverflow, Is.EqualTo(0));
        link.Frames.Clear();
        s.Receive(Arp(2, MacB, IpB, MacA, IpA), 1);
        Assert.That(link.Frames.Select(f => (int)Payload(f)[0]), Is.EqualTo(Enumerable.Range(0, 64)));
    }

    [Test]
    public void ResolvedEntriesExpireAfterTheirLifetime()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Receive(Arp(1, MacB, IpB, MacAddress.Zero, IpA), 0);
        Assert.That(s.NextDeadlineMicros, Is.EqualTo(120 * Second));
        s.Poll(120 * Second - 1);
        Assert.That(s.Arp.TryLookup(IpB, out _), Is.True);
        s.Poll(120 * Second);
        Assert.That(s.Arp.TryLookup(IpB, out _), Is.False);
    }

    [Test]
    public void AnEntryUsedNearItsExpiryIsRefreshedAheadWhileStillInUse()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Receive(Arp(1, MacB, IpB, MacAddress.Zero, IpA), 0);
        link.Frames.Clear();
        s.Poll(110 * Second);
        Assert.That(s.Send(IpB, 17, new byte[] { 9 }), Is.True);
        Assert.That(link.Frames, Has.Count.EqualTo(2), "an ARP request ahead, and the datagram sent at once");
        Assert.That(link.Frames[0][12..14], Is.EqualTo(new byte[] { 8, 6 }));
        Assert.That(EthDestination(link.Frames[1]), Is.EqualTo(MacB));
        s.Receive(Arp(2, MacB, IpB, MacA, IpA), 110 * Second + 5);
        s.Poll(125 * Second);
        Assert.That(s.Arp.TryLookup(IpB, out _), Is.True, "the answer renewed the entry");
    }

    [Test]
    public void ConfiguringAnAddressSendsTwoGratuitousArps()
    {
        var link = new CapturingLink();
        var s = new NetStack(MacA, link);
        s.Configure(IpA, Mask24, IpGateway, 0);
        var expected = new byte[60];
        Arp(1, MacA, IpA, MacAddress.Zero, IpA).CopyTo(expected, 0);
        Assert.That(link.Frames, Has.Count.EqualTo(1));
        Assert.That(link.Last, Is.EqualTo(expected));
        Assert.That(s.NextDeadlineMicros, Is.EqualTo(2 * Second));
        s.Poll(2 * Second);
        Assert.That(link.Frames, Has.Count.EqualTo(2));
        Assert.That(link.Last, Is.EqualTo(expected));
        Assert.That(s.NextDeadlineMicros, Is.EqualTo(long.MaxValue));
    }

    [Test]
    public void AnArpClaimingOurAddressIsCountedAsAConflictAndNotLearned()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Receive(Arp(1, MacB, IpA, MacAddress.Zero, IpA), 0);
        Assert.That(s.Counters.ArpAddressConflicts, Is.EqualTo(1));
        Assert.That(s.Arp.TryLookup(IpA, out _), Is.False);
        Assert.That(link.Frames, Is.Empty);
    }

    [Test]
    public void AnArpProbeForOurAddressIsAnsweredButTheZeroSenderIsNotLearned()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Receive(Arp(1, MacB, Ipv4Address.Any, MacAddress.Zero, IpA), 0);
        Assert.That(link.Frames, Has.Count.EqualTo(1));
        Assert.That(s.Arp.TryLookup(Ipv4Address.Any, out _), Is.False);
    }

    [Test]
    public void AFullCacheEvictsTheEntryThatExpiresFirst()
    {
        var link = new CapturingLink();
        var s = Configured(link, new NetStackOptions { ArpCacheEntries = 2 });
        s.Receive(Arp(1, MacB, IpB, MacAddress.Zero, IpA), 0);
        s.Receive(Arp(1, MacGateway, IpGateway, MacAddress.Zero, IpA), 5);
        s.Receive(Arp(1, new MacAddress(0x020000000003UL), new Ipv4Address(10, 0, 2, 3), MacAddress.Zero, IpA), 10);
        Assert.That(s.Arp.TryLookup(IpB, out _), Is.False);
        Assert.That(s.Arp.TryLookup(IpGateway, out _), Is.True);
        Assert.That(s.Counters.ArpCacheEvictions, Is.EqualTo(1));
    }

    [Test]
    public void StaticEntriesNeitherExpireNorChangeOnReceivedArp()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Arp.AddStatic(IpB, MacB);
        s.Receive(Arp(1, new MacAddress(0x02AABBCCDDEEUL), IpB, MacAddress.Zero, IpA), 0);
        s.Poll(1000 * Second);
        Assert.That(s.Arp.TryLookup(IpB, out var mac) && mac == MacB);
        Assert.That(s.Arp.StateOf(IpB), Is.EqualTo(ArpEntryState.Static));
    }

    [Test]
    public void MalformedArpIsCountedAndDropped()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        var bad = Arp(1, MacB, IpB, MacAddress.Zero, IpA);
        bad[14 + 5] = 16; // protocol address length
        s.Receive(bad, 0);
        s.Receive(Arp(1, MacB, IpB, MacAddress.Zero, IpA)[..30], 0);
        var op = Arp(1, MacB, IpB, MacAddress.Zero, IpA);
        op[14 + 7] = 9;
        s.Receive(op, 0);
        var multicastSender = Arp(1, new MacAddress(0x01005E000001UL), IpB, MacAddress.Zero, IpA);
        s.Receive(multicastSender, 0);
        Assert.That(s.Counters.ArpMalformed, Is.EqualTo(4));
        Assert.That(link.Frames, Is.Empty);
    }

    [Test]
    public void FramesForAnotherMacAreDropped()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Receive(EchoRequestFrame()[..14].Concat(new byte[40]).ToArray(), 0);
        var f = EchoRequestFrame();
        f[5] ^= 1;
        s.Receive(f, 0);
        Assert.That(s.Counters.DropNotOurMac, Is.EqualTo(1));
        Assert.That(s.Counters.IcmpEchoRepliesSent, Is.EqualTo(0));
    }

    [Test]
    public void VlanTaggedAndUnknownEtherTypesAndShortFramesAreCountedAndDropped()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Receive(EthernetFrame(MacA, MacB, 0x8100, new byte[] { 0, 5, 8, 0, 0x45 }), 0);
        s.Receive(EthernetFrame(MacA, MacB, 0x88A8, new byte[46]), 0);
        s.Receive(EthernetFrame(MacA, MacB, 0x86DD, new byte[46]), 0);
        s.Receive(EthernetFrame(MacA, MacB, 0x0040, new byte[46]), 0);
        s.Receive(new byte[13], 0);
        Assert.That(s.Counters.DropVlanTagged, Is.EqualTo(2));
        Assert.That(s.Counters.DropUnknownEtherType, Is.EqualTo(2));
        Assert.That(s.Counters.DropShortFrame, Is.EqualTo(1));
        Assert.That(link.Frames, Is.Empty);
    }

    [Test]
    public void BroadcastFramesAreAccepted()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        s.Receive(Arp(1, MacB, IpB, MacAddress.Zero, IpA, MacAddress.Broadcast), 0);
        Assert.That(s.Counters.ArpRepliesSent, Is.EqualTo(1));
    }
}
