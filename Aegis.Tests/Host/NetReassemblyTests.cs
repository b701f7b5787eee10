// LibOS.Net IPv4 reassembly (RFC 815 holes): in and out of order, overlaps and duplicates
// (first copy wins), inconsistent fragments, the 30 s timeout, the bounds (datagram size,
// holes, datagrams in progress), and a fragmented UDP datagram delivered to a socket.
#nullable enable
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.NetFrames;

namespace Aegis.Tests.Host;

public class NetReassemblyTests
{
    private static (NetStack, RecordingTransport) Setup(NetStackOptions? options = null)
    {
        var link = new CapturingLink();
        var s = Configured(link, options);
        var t = new RecordingTransport(6);
        s.Register(t);
        return (s, t);
    }

    private static byte[] Data(int n, int seed = 3)
    {
        var d = new byte[n];
        new Random(seed).NextBytes(d);
        return d;
    }

    /// <summary>A fragment carrying data[offset .. offset+length).</summary>
    private static byte[] Fragment(byte[] data, int offset, int length, bool more, ushort id = 77, byte protocol = 6,
        Ipv4Address? src = null)
        => EthernetFrame(MacA, MacB, 0x0800, Ipv4Datagram(src ?? IpB, IpA, protocol, data.AsSpan(offset, length), id,
            (more ? 0x2000 : 0) | offset / 8));

    [Test]
    public void FragmentsInOrderAreReassembledAndDeliveredOnce()
    {
        var (s, t) = Setup();
        var d = Data(3000);
        s.Receive(Fragment(d, 0, 1480, true), 0);
        s.Receive(Fragment(d, 1480, 1480, true), 1);
        Assert.That(t.Received, Is.Empty);
        s.Receive(Fragment(d, 2960, 40, false), 2);
        Assert.That(t.Received, Has.Count.EqualTo(1));
        Assert.That(t.Received[0].Payload, Is.EqualTo(d));
        Assert.That(s.Reassembly.InProgress, Is.EqualTo(0));
        Assert.That(s.Counters.Reassembled, Is.EqualTo(1));
    }

    [Test]
    public void FragmentsInReverseAndRandomOrderAreReassembled()
    {
        var (s, t) = Setup();
        var d = Data(4000);
        s.Receive(Fragment(d, 3200, 800, false), 0);
        s.Receive(Fragment(d, 1600, 1600, true), 0);
        s.Receive(Fragment(d, 0, 1600, true), 0);
        Assert.That(t.Received.Single().Payload, Is.EqualTo(d));

        var random = new Random(9);
        for (int round = 0; round < 20; round++)
        {
            var e = Data(8 * random.Next(2, 1000) + random.Next(1, 8), round);
            var pieces = new List<(int, int)>();
            for (int at = 0; at < e.Length;)
            {
                int n = Math.Min(8 * random.Next(1, 60), e.Length - at);
                pieces.Add((at, n));
                at += n;
            }
            if (pieces.Count == 1) continue;
            var order = pieces.OrderBy(_ => random.Next()).ToList();
            t.Received.Clear();
            foreach (var (at, n) in order) s.Receive(Fragment(e, at, n, at + n < e.Length, (ushort)(100 + round)), 0);
            Assert.That(t.Received.Single().Payload, Is.EqualTo(e), $"round {round}");
        }
    }

    [Test]
    public void OverlappingFragmentsNeverOverwriteDataAlreadyReceived()
    {
        var (s, t) = Setup();
        var d = Data(2400);
        s.Receive(Fragment(d, 0, 1200, true), 0);
        // An overlapping fragment whose overlap carries different bytes (a filter-evasion trick).
        var evil = (byte[])d.Clone();
        for (int i = 800; i < 1200; i++) evil[i] ^= 0xFF;
        s.Receive(Fragment(evil, 800, 1600, false), 0);
        Assert.That(t.Received.Single().Payload, Is.EqualTo(d.Take(1200).Concat(evil.Skip(1200)).ToArray()));
        Assert.That(t.Received[0].Payload[800..1200], Is.EqualTo(d[800..1200]), "first copy wins");
        Assert.That(s.Counters.FragmentOverlaps, Is.EqualTo(1));
    }

    [Test]
    public void DuplicateFragmentsAreCountedAndDoNotBreakReassembly()
    {
        var (s, t) = Setup();
        var d = Data(2000);
        s.Receive(Fragment(d, 0, 1000, true), 0);
        s.Receive(Fragment(d, 0, 1000, true), 0);
        s.Receive(Fragment(d, 0, 504, true), 0);
        s.Receive(Fragment(d, 1000, 1000, false), 0);
        Assert.That(t.Received.Single().Payload, Is.EqualTo(d));
        Assert.That(s.Counters.FragmentDuplicates, Is.EqualTo(2));
        s.Receive(Fragment(d, 1000, 1000, false), 0);
        Assert.That(t.Received, Has.Count.EqualTo(1), "a late duplicate starts a new, incomplete datagram");
    }

    [Test]
    public void AFragmentContainedInAHoleSplitsIt()
    {
        var (s, t) = Setup();
        var d = Data(4000);
        s.Receive(Fragment(d, 1600, 800, true), 0);
        s.Receive(Fragment(d, 3200, 800, false), 0);
        s.Receive(Fragment(d, 0, 1600, true), 0);
        Assert.That(t.Received, Is.Empty);
        s.Receive(Fragment(d, 2400, 800, true), 0);
        Assert.That(t.Received.Single().Payload, Is.EqualTo(d));
    }

    [Test]
    public void AnIncompleteDatagramTimesOutAfterThirtySeconds()
    {
        var (s, t) = Setup();
        var d = Data(2000);
        s.Receive(Fragment(d, 0, 1000, true), 5_000_000);
        Assert.That(s.NextDeadlineMicros, Is.EqualTo(35_000_000));
        s.Poll(34_999_999);
        Assert.That(s.Reassembly.InProgress, Is.EqualTo(1));
        s.Poll(35_000_000);
        Assert.That(s.Reassembly.InProgress, Is.EqualTo(0));
        Assert.That(s.Counters.ReassemblyTimeouts, Is.EqualTo(1));
        s.Receive(Fragment(d, 1000, 1000, false), 36_000_000);
        Assert.That(t.Received, Is.Empty, "the second half alone is not a datagram");
    }

    [Test]
    public void AnExpiredDatagramIsNotCompletedEvenWithoutAPoll()
    {
        var (s, t) = Setup();
        var d = Data(2000);
        s.Receive(Fragment(d, 0, 1000, true), 0);
        s.Receive(Fragment(d, 1000, 1000, false), 30_000_000);
        Assert.That(t.Received, Is.Empty);
        Assert.That(s.Counters.ReassemblyTimeouts, Is.EqualTo(1));
    }

    [Test]
    public void ADatagramOfTheMaximumSizeIsReassembledAndOneByteMoreIsRefused()
    {
        var (s, t) = Setup();
        var d = Data(65515);
        for (int at = 0; at < d.Length; at += 1480)
            s.Receive(Fragment(d, at, Math.Min(1480, d.Length - at), at + 1480 < d.Length), 0);
        Assert.That(t.Received.Single().Payload, Is.EqualTo(d));

        var big = Data(65520);
        s.Receive(Fragment(big, 0, 1480, true, id: 5), 0);
        s.Receive(Fragment(big, 65512, 8, false, id: 5), 0);
        Assert.That(s.Counters.FragmentDropTooBig, Is.EqualTo(1));
        Assert.That(s.Reassembly.InProgress, Is.EqualTo(0), "the datagram is dropped, not kept");
    }

    [Test]
    public void AConflictingLastFragmentDropsTheDatagram()
    {
        var (s, t) = Setup();
        var d = Data(3000);
        s.Receive(Fragment(d, 0, 1000, true), 0);
        s.Receive(Fragment(d, 2000, 1000, false), 0);
        s.Receive(Fragment(d, 1000, 1008, false), 0);
        Assert.That(s.Counters.FragmentDropInconsistent, Is.EqualTo(1));
        Assert.That(s.Reassembly.InProgress, Is.EqualTo(0));

        s.Receive(Fragment(d, 0, 1000, true, id: 8), 0);
        s.Receive(Fragment(d, 1000, 1000, false, id: 8), 0);
        s.Receive(Fragment(d, 2000, 1000, true, id: 8), 0);
        Assert.That(t.Received.Single().Payload, Is.EqualTo(d.Take(2000).ToArray()), "completed before the stray");
    }

    [Test]
    public void DataBeyondAKnownEndDropsTheDatagram()
    {
        var (s, _) = Setup();
        var d = Data(3000);
        s.Receive(Fragment(d, 0, 1000, true), 0);
        s.Receive(Fragment(d, 2000, 504, false), 0);
        s.Receive(Fragment(d, 2400, 200, true), 0);
        Assert.That(s.Counters.FragmentDropInconsistent, Is.EqualTo(1));
        Assert.That(s.Reassembly.InProgress, Is.EqualTo(0));
    }

    [Test]
    public void ANonLastFragmentNotAMultipleOfEightIsDropped()
    {
        var (s, _) = Setup();
        var d = Data(3000);
        s.Receive(Fragment(d, 0, 1001, true), 0);
        Assert.That(s.Counters.FragmentDropBad, Is.EqualTo(1));
        Assert.That(s.Reassembly.InProgress, Is.EqualTo(0));
    }

    [Test]
    public void TooManyHolesDropTheDatagram()
    {
        var (s, _) = Setup(new NetStackOptions { ReassemblyHoles = 4 });
        var d = Data(8000);
        for (int i = 0; i < 6; i++) s.Receive(Fragment(d, 16 + 32 * i, 8, true), 0);
        Assert.That(s.Counters.FragmentDropTooManyHoles, Is.EqualTo(1));
    }

    [Test]
    public void ANewDatagramWhenAllSlotsAreBusyEvictsTheOldest()
    {
        var (s, t) = Setup(new NetStackOptions { ReassemblySlots = 2 });
        var d = Data(2000);
        s.Receive(Fragment(d, 0, 1000, true, id: 1), 0);
        s.Receive(Fragment(d, 0, 1000, true, id: 2), 1);
        s.Receive(Fragment(d, 0, 1000, true, id: 3), 2);
        Assert.That(s.Counters.ReassemblyEvictions, Is.EqualTo(1));
        Assert.That(s.Reassembly.InProgress, Is.EqualTo(2));
        s.Receive(Fragment(d, 1000, 1000, false, id: 2), 3);
        s.Receive(Fragment(d, 1000, 1000, false, id: 3), 3);
        Assert.That(t.Received, Has.Count.EqualTo(2), "ids 2 and 3 complete");
        s.Receive(Fragment(d, 1000, 1000, false, id: 1), 3);
        Assert.That(t.Received, Has.Count.EqualTo(2), "id 1 was evicted: its second half alone is incomplete");
    }

    [Test]
    public void FragmentsOfDifferentSourcesWithTheSameIdAreKeptApart()
    {
        var (s, t) = Setup();
        var d1 = Data(2000, 1);
        var d2 = Data(2000, 2);
        s.Receive(Fragment(d1, 0, 1000, true, src: IpB), 0);
        s.Receive(Fragment(d2, 0, 1000, true, src: IpGateway), 0);
        s.Receive(Fragment(d2, 1000, 1000, false, src: IpGateway), 0);
        s.Receive(Fragment(d1, 1000, 1000, false, src: IpB), 0);
        Assert.That(t.Received.Select(r => r.Payload), Is.EqualTo(new[] { d2, d1 }));
    }

    [Test]
    public void AFragmentedUdpDatagramReachesItsSocketWithAValidChecksum()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        var sock = s.Udp.Open();
        sock.Bind(5000);
        var data = Data(4000);
        var udp = Udp(IpB, IpA, 1234, 5000, data);
        for (int at = 0; at < udp.Length; at += 1480)
            s.Receive(Fragment(udp, at, Math.Min(1480, udp.Length - at), at + 1480 < udp.Length, protocol: 17), 0);
        var buffer = new byte[5000];
        Assert.That(sock.TryReceive(buffer, out var from, out var port), Is.EqualTo(4000));
        Assert.That(buffer[..4000], Is.EqualTo(data));
        Assert.That((from, port), Is.EqualTo((IpB, (ushort)1234)));
    }
}
