// LibOS.Net DNS stub resolver (RFC 1035) and /etc/hosts parser: query bytes, A answers with
// compression, CNAME chains, malicious pointers (loops, forward and out-of-range), id and
// source matching, NXDOMAIN, SERVFAIL, retries over two servers, timeouts.
#nullable enable
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.NetFrames;

namespace Aegis.Tests.Host;

public class NetDnsTests
{
    private const long Second = 1_000_000;
    private static readonly Ipv4Address Dns1 = new(10, 0, 2, 3);
    private static readonly Ipv4Address Dns2 = new(10, 0, 2, 4);

    private sealed class Rig
    {
        public readonly CapturingLink Link = new();
        public readonly NetStack Stack;
        public readonly DnsResolver Resolver;

        public Rig(int servers = 1)
        {
            Stack = Configured(Link);
            Stack.Arp.AddStatic(Dns1, MacGateway);
            Stack.Arp.AddStatic(Dns2, MacGateway);
            Stack.SetDnsServers(servers == 1 ? new[] { Dns1 } : new[] { Dns1, Dns2 });
            Resolver = new DnsResolver(Stack);
        }

        /// <summary>The last query sent: its server, our port, id, and DNS message.</summary>
        public (Ipv4Address Server, ushort Port, ushort Id, byte[] Message) LastQuery()
        {
            var f = Link.Last;
            var udp = Payload(f);
            var m = udp[8..];
            return (IpDestination(f), (ushort)Get(udp, 0, 2), (ushort)Get(m, 0, 2), m);
        }

        public void Answer(byte[] message, Ipv4Address? from = null, ushort sourcePort = 53, long now = 0)
        {
            var q = LastQuery();
            Stack.Receive(UdpFrame(from ?? q.Server, IpA, sourcePort, q.Port, message, ethSrc: MacGateway), now);
        }
    }

    private static byte[] Name(params string[] labels)
    {
        var b = new List<byte>();
        foreach (var l in labels)
        {
            b.Add((byte)l.Length);
            b.AddRange(l.Select(c => (byte)c));
        }
        b.Add(0);
        return b.ToArray();
    }

    private static byte[] Pointer(int offset) => new[] { (byte)(0xC0 | offset >> 8), (byte)offset };

    private static byte[] Record(byte[] owner, ushort type, uint ttl, byte[] data)
    {
        var r = new List<byte>(owner);
        r.AddRange(new[] { (byte)(type >> 8), (byte)type, (byte)0, (byte)1 });
        r.AddRange(new[] { (byte)(ttl >> 24), (byte)(ttl >> 16), (byte)(ttl >> 8), (byte)ttl });
        r.AddRange(new[] { (byte)(data.Length >> 8), (byte)data.Length });
        r.AddRange(data);
        return r.ToArray();
    }

    /// <summary>A response echoing <paramref name="query"/>'s id and question.</summary>
    private static byte[] Response(byte[] query, int rcode, int answers, params byte[][] records)
    {
        var m = new List<byte>(query);
        m[2] = 0x81;
        m[3] = (byte)(0x80 | rcode);
        m[6] = (byte)(answers >> 8);
        m[7] = (byte)answers;
        foreach (var r in records) m.AddRange(r);
        return m.ToArray();
    }

    [Test]
    public void TheQueryIsAStandardRecursiveARecordQuestion()
    {
        var rig = new Rig();
        var q = rig.Resolver.Resolve("www.Example.com", 0);
        Assert.That(q.Status, Is.EqualTo(DnsStatus.Pending));
        var (server, port, id, m) = rig.LastQuery();
        Assert.That(server, Is.EqualTo(Dns1));
        Assert.That(port, Is.InRange(49152, 65535));
        Assert.That(Get(Payload(rig.Link.Last), 2, 2), Is.EqualTo(53u));
        var expected = new byte[] { (byte)(id >> 8), (byte)id, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0 }
            .Concat(Name("www", "Example", "com")).Concat(new byte[] { 0, 1, 0, 1 }).ToArray();
        Assert.That(m, Is.EqualTo(expected));
    }

    [Test]
    public void AnAnswerWithACompressedNameResolves()
    {
        var rig = new Rig();
        var q = rig.Resolver.Resolve("www.example.com", 0);
        var query = rig.LastQuery().Message;
        rig.Answer(Response(query, 0, 2,
            Record(Pointer(12), 1, 300, new byte[] { 93, 184, 216, 34 }),
            Record(Pointer(12), 1, 60, new byte[] { 93, 184, 216, 35 })));
        Assert.That(q.Status, Is.EqualTo(DnsStatus.Resolved));
        Assert.That(q.AddressCount, Is.EqualTo(2));
        Assert.That(q.Addresses[0], Is.EqualTo(new Ipv4Address(93, 184, 216, 34)));
        Assert.That(q.Addresses[1], Is.EqualTo(new Ipv4Address(93, 184, 216, 35)));
        Assert.That(q.TtlSeconds, Is.EqualTo(60u));
        Assert.That(q.CanonicalName, Is.EqualTo("www.example.com"));
        Assert.That(rig.Resolver.Outstanding, Is.EqualTo(0));
    }

    [Test]
    public void ACnameChainIsFollowedToItsAddresses()
    {
        var rig = new Rig();
        var q = rig.Resolver.Resolve("www.example.com", 0);
        var query = rig.LastQuery().Message;
        // www.example.com CNAME web.example.com (compressed: "web" + pointer to "example.com" at 16);
        // web.example.com CNAME edge.cdn.net; edge.cdn.net A 192.0.2.7. Records in a shuffled order.
        int first = query.Length;
        var cname1 = Record(Pointer(12), 5, 300, Name("web").SkipLast(1).Concat(Pointer(16)).ToArray());
        int webAt = first + 2 + 10; // the rdata of the first record
        var cname2 = Record(Pointer(webAt), 5, 120, Name("edge", "cdn", "net"));
        int edgeAt = first + cname1.Length + 2 + 10;
        var a = Record(Pointer(edgeAt), 1, 30, new byte[] { 192, 0, 2, 7 });
        rig.Answer(Response(query, 0, 3, cname1, cname2, a));
        Assert.That(q.Status, Is.EqualTo(DnsStatus.Resolved));
        Assert.That(q.Addresses[0], Is.EqualTo(new Ipv4Address(192, 0, 2, 7)));
        Assert.That(q.CanonicalName, Is.EqualTo("edge.cdn.net"));
        Assert.That(q.TtlSeconds, Is.EqualTo(30u));
    }

    [Test]
    public void ACnameWithoutAnAddressEndsAsNoAddress()
    {
        var rig = new Rig();
        var q = rig.Resolver.Resolve("www.example.com", 0);
        var query = rig.LastQuery().Message;
        rig.Answer(Response(query, 0, 1, Record(Pointer(12), 5, 300, Name("elsewhere", "org"))));
        Assert.That(q.Status, Is.EqualTo(DnsStatus.NoAddress));
        Assert.That(q.CanonicalName, Is.EqualTo("elsewhere.org"));
    }

    [Test]
    public void ACnameLoopEndsAsNoAddress()
    {
        var rig = new Rig();
        var q = rig.Resolver.Resolve("a.example", 0);
        var query = rig.LastQuery().Message;
        // a.example CNAME b.example, b.example CNAME a.example.
        var r1 = Record(Pointer(12), 5, 300, Name("b", "example"));
        int bAt = query.Length + 12;
        var r2 = Record(Pointer(bAt), 5, 300, Pointer(12));
        rig.Answer(Response(query, 0, 2, r1, r2));
        Assert.That(q.Status, Is.EqualTo(DnsStatus.NoAddress));
    }

    [Test]
    public void AMaliciousPointerLoopIsRefusedWithoutHanging()
    {
        var rig = new Rig();
        var q = rig.Resolver.Resolve("www.example.com", 0);
        var query = rig.LastQuery().Message;
        int at = query.Length;
        // The answer's owner name points at itself.
        rig.Answer(Response(query, 0, 1, Record(Pointer(at), 1, 300, new byte[] { 1, 2, 3, 4 })));
        // Two pointers pointing at each other.
        var twoLoop = Pointer(at + 2).Concat(Pointer(at)).ToArray();
        rig.Answer(Response(query, 0, 1, twoLoop.Concat(Record(Pointer(at), 1, 1, new byte[4])).ToArray()));
        Assert.That(q.Status, Is.EqualTo(DnsStatus.Pending), "malformed responses are ignored");
        Assert.That(rig.Stack.Counters.DnsIgnored, Is.EqualTo(2));
        rig.Answer(Response(query, 0, 1, Record(Pointer(12), 1, 300, new byte[] { 1, 2, 3, 4 })));
        Assert.That(q.Status, Is.EqualTo(DnsStatus.Resolved), "the real answer still gets through");
    }

    [Test]
    public void PointersForwardOrOutOfRangeAreRefused()
    {
        var m = new byte[64];
        m[20] = 0xC0;
        m[21] = 30; // forward
        Assert.That(DnsResolver.TryReadName(m, 20, new byte[256], out _, out _), Is.False);
        m[21] = 200; // beyond the message
        Assert.That(DnsResolver.TryReadName(m, 20, new byte[256], out _, out _), Is.False);
        m[20] = 0x80; // reserved label type
        Assert.That(DnsResolver.TryReadName(m, 20, new byte[256], out _, out _), Is.False);
        m[20] = 50; // a label running past the end
        Assert.That(DnsResolver.TryReadName(m, 20, new byte[256], out _, out _), Is.False);
        m[63] = 0xC0; // a pointer cut in half
        Assert.That(DnsResolver.TryReadName(m, 63, new byte[256], out _, out _), Is.False);
    }

    [Test]
    public void NamesLongerThan255BytesAreRefusedEvenThroughPointers()
    {
        // Five 60-byte labels chained backwards by pointers: 5 * 61 + 1 > 255.
        var m = new List<byte>();
        int previous = -1;
        for (int i = 0; i < 5; i++)
        {
            int at = m.Count;
            m.Add(60);
            m.AddRange(Enumerable.Repeat((byte)'x', 60));
            if (previous < 0) m.Add(0);
            else m.AddRange(Pointer(previous));
            previous = at;
        }
        Assert.That(DnsResolver.TryReadName(m.ToArray(), previous, new byte[1024], out _, out _), Is.False);
        Assert.That(DnsResolver.TryReadName(m.ToArray(), 0, new byte[1024], out int n, out int next), Is.True);
        Assert.That((n, next), Is.EqualTo((60, 62)));
    }

    [Test]
    public void ResponsesWithAnotherIdFromAnotherHostOrPortOrQuestionAreIgnored()
    {
        var rig = new Rig();
        var q = rig.Resolver.Resolve("www.example.com", 0);
        var query = rig.LastQuery().Message;
        var good = Response(query, 0, 1, Record(Pointer(12), 1, 300, new byte[] { 1, 2, 3, 4 }));
        var wrongId = (byte[])good.Clone();
        wrongId[1] ^= 1;
        rig.Answer(wrongId);
        rig.Answer(good, from: IpB);
        rig.Answer(good, sourcePort: 5353);
        var otherQuestion = (byte[])good.Clone();
        otherQuestion[13] = (byte)'x';
        rig.Answer(otherQuestion);
        var notResponse = (byte[])good.Clone();
        notResponse[2] &= 0x7F;
        rig.Answer(notResponse);
        Assert.That(q.Status, Is.EqualTo(DnsStatus.Pending));
        Assert.That(rig.Stack.Counters.DnsIgnored, Is.EqualTo(5));
        rig.Answer(good);
        Assert.That(q.Status, Is.EqualTo(DnsStatus.Resolved));
    }

    [Test]
    public void NameErrorEndsTheQuery()
    {
        var rig = new Rig();
        var q = rig.Resolver.Resolve("nope.example", 0);
        rig.Answer(Response(rig.LastQuery().Message, 3, 0));
        Assert.That(q.Status, Is.EqualTo(DnsStatus.NameNotFound));
    }

    [Test]
    public void ServerFailureMovesToTheNextServer()
    {
        var rig = new Rig(servers: 2);
        var q = rig.Resolver.Resolve("www.example.com", 0);
        rig.Answer(Response(rig.LastQuery().Message, 2, 0));
        Assert.That(q.Status, Is.EqualTo(DnsStatus.Pending));
        var (server, _, _, m) = rig.LastQuery();
        Assert.That(server, Is.EqualTo(Dns2));
        rig.Answer(Response(m, 0, 1, Record(Pointer(12), 1, 300, new byte[] { 1, 2, 3, 4 })));
        Assert.That(q.Status, Is.EqualTo(DnsStatus.Resolved));
    }

    [Test]
    public void ATimeoutRetriesOnTheOtherServerThenGivesUp()
    {
        var rig = new Rig(servers: 2);
        rig.Stack.Poll(0);
        var q = rig.Resolver.Resolve("www.example.com", 0);
        var servers = new List<Ipv4Address> { rig.LastQuery().Server };
        Assert.That(rig.Stack.NextDeadlineMicros, Is.EqualTo(2 * Second));
        for (int i = 1; i < 4; i++)
        {
            rig.Stack.Poll(2 * Second * i);
            servers.Add(rig.LastQuery().Server);
        }
        Assert.That(servers, Is.EqualTo(new[] { Dns1, Dns2, Dns1, Dns2 }));
        Assert.That(q.Status, Is.EqualTo(DnsStatus.Pending));
        rig.Stack.Poll(8 * Second);
        Assert.That(q.Status, Is.EqualTo(DnsStatus.TimedOut));
        Assert.That(rig.Resolver.Outstanding, Is.EqualTo(0));
    }

    [Test]
    public void ALateAnswerToAnEarlierAttemptIsAccepted()
    {
        var rig = new Rig(servers: 2);
        rig.Stack.Poll(0);
        var q = rig.Resolver.Resolve("www.example.com", 0);
        var first = rig.LastQuery();
        rig.Stack.Poll(2 * Second);
        rig.Stack.Receive(UdpFrame(Dns1, IpA, 53, first.Port,
            Response(first.Message, 0, 1, Record(Pointer(12), 1, 300, new byte[] { 1, 2, 3, 4 })), ethSrc: MacGateway), 2 * Second + 1);
        Assert.That(q.Status, Is.EqualTo(DnsStatus.Resolved));
    }

    [TestCase("10.0.2.15", DnsStatus.Resolved)]
    [TestCase("", DnsStatus.InvalidName)]
    [TestCase("a..b", DnsStatus.InvalidName)]
    [TestCase("bad name", DnsStatus.InvalidName)]
    [TestCase("x.y.", DnsStatus.Pending)]
    public void LiteralAddressesAndInvalidNamesAreDecidedAtOnce(string name, DnsStatus status)
    {
        var rig = new Rig();
        Assert.That(rig.Resolver.Resolve(name, 0).Status, Is.EqualTo(status));
    }

    [Test]
    public void LabelsAndNamesOverTheirLimitsAreInvalid()
    {
        var rig = new Rig();
        Assert.That(rig.Resolver.Resolve(new string('a', 64) + ".com", 0).Status, Is.EqualTo(DnsStatus.InvalidName));
        Assert.That(rig.Resolver.Resolve(new string('a', 63) + ".com", 0).Status, Is.EqualTo(DnsStatus.Pending));
        var longName = string.Join(".", Enumerable.Repeat(new string('b', 50), 5)); // 254 characters
        Assert.That(rig.Resolver.Resolve(longName, 0).Status, Is.EqualTo(DnsStatus.InvalidName));
    }

    [Test]
    public void WithoutServersAQueryFailsAtOnceAndTooManyAreRefused()
    {
        var link = new CapturingLink();
        var s = Configured(link);
        var r = new DnsResolver(s);
        Assert.That(r.Resolve("a.b", 0).Status, Is.EqualTo(DnsStatus.NoServer));
        s.SetDnsServers(new[] { Dns1 });
        for (int i = 0; i < DnsResolver.MaximumOutstanding; i++) Assert.That(r.Resolve("a.b", 0).Status, Is.EqualTo(DnsStatus.Pending));
        Assert.That(r.Resolve("a.b", 0).Status, Is.EqualTo(DnsStatus.Busy));
    }

    [Test]
    public void QueriesInFlightGetDistinctIds()
    {
        var rig = new Rig();
        var ids = new HashSet<int>();
        for (int i = 0; i < 16; i++)
        {
            rig.Resolver.Resolve("h" + i + ".example", 0);
            ids.Add(rig.LastQuery().Id);
        }
        Assert.That(ids, Has.Count.EqualTo(16));
    }

    // ---- /etc/hosts ----

    private const string HostsText =
        "# /etc/hosts\n" +
        "127.0.0.1\tlocalhost\n" +
        "127.0.1.1   aegis.localdomain aegis   # this machine\r\n" +
        "::1 localhost ip6-localhost ip6-loopback\n" +
        "\n" +
        "10.0.2.2 gateway\n" +
        "10.0.2.99 Gateway other\n" +
        "bogus line here\n" +
        "10.0.2.5\n";

    [Test]
    public void TheHostsFileAnswersNamesAndAliasesCaseInsensitively()
    {
        var h = HostsFile.Parse(HostsText);
        Assert.That(h.Count, Is.EqualTo(4));
        Assert.That(h.TryLookup("localhost", out var a) && a == new Ipv4Address(127, 0, 0, 1));
        Assert.That(h.TryLookup("AEGIS", out a) && a == new Ipv4Address(127, 0, 1, 1));
        Assert.That(h.CanonicalName("aegis"), Is.EqualTo("aegis.localdomain"));
        Assert.That(h.TryLookup("gateway.", out a) && a == IpGateway, "a trailing dot is the same name");
        Assert.That(h.TryLookup("ip6-localhost", out _), Is.False, "IPv6 lines are skipped");
        Assert.That(h.TryLookup("nothere", out _), Is.False);
        Assert.That(h.SkippedLines, Is.EqualTo(3));
    }

    [Test]
    public void TheFirstLineWinsAndAllAddressesCanBeListed()
    {
        var h = HostsFile.Parse(HostsText);
        Assert.That(h.TryLookup("gateway", out var a) && a == IpGateway);
        var all = new Ipv4Address[4];
        Assert.That(h.LookupAll("gateway", all), Is.EqualTo(2));
        Assert.That(all[1], Is.EqualTo(new Ipv4Address(10, 0, 2, 99)));
        Assert.That(h.TryReverse(new Ipv4Address(10, 0, 2, 99), out var name) && name == "Gateway");
    }

    [Test]
    public void TheHostsFileParsesFromBytes()
    {
        var h = HostsFile.Parse(System.Text.Encoding.ASCII.GetBytes(HostsText).AsSpan());
        Assert.That(h.Count, Is.EqualTo(4));
        Assert.That(HostsFile.Parse("").Count, Is.EqualTo(0));
    }
}
