// LibOS.Net DHCP client (RFC 2131) against a scripted server shaped like QEMU's slirp
// (server 10.0.2.2 with MAC 52:55:0a:00:02:02, offers 10.0.2.15, DNS 10.0.2.3, broadcast
// replies, 86,400 s leases, requires 548-byte requests) and a VMware-NAT-like variant that
// unicasts its replies: acquisition, a lost OFFER, NAK, renewal, rebinding, expiry.
#nullable enable
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.NetFrames;

namespace Aegis.Tests.Host;

public class NetDhcpTests
{
    private const long Second = 1_000_000;
    private static readonly MacAddress SlirpMac = new(0x52550A000202UL);
    private static readonly Ipv4Address Server = new(10, 0, 2, 2);
    private static readonly Ipv4Address Offered = new(10, 0, 2, 15);
    private static readonly Ipv4Address Dns = new(10, 0, 2, 3);

    /// <summary>A DHCP server written from RFC 2131's message layout, answering like slirp.</summary>
    private sealed class ScriptedServer
    {
        public int OffersToDrop, AcksToDrop;
        public bool Unicast;          // VMware-like: to yiaddr and the client's MAC
        public bool Nak;              // answer REQUESTs with NAK
        public bool Silent;           // answer nothing (server gone)
        public uint LeaseSeconds = 86400;
        public uint T1, T2;
        public readonly List<(byte Type, uint Xid, Ipv4Address Ciaddr, Ipv4Address IpDestination, int Length, ushort Flags, ushort Secs)> Seen = new();

        public List<byte[]> Answer(IEnumerable<byte[]> frames)
        {
            var replies = new List<byte[]>();
            foreach (var f in frames)
            {
                if (f[12] == 8 && f[13] == 6 && Get(f, 14 + 24, 4) == Server.Value && Get(f, 14 + 6, 2) == 1)
                {
                    var clientMac = new MacAddress(((ulong)Get(f, 22, 4) << 16) | Get(f, 26, 2));
                    replies.Add(Arp(2, SlirpMac, Server, clientMac, new Ipv4Address(Get(f, 14 + 14, 4))));
                    continue;
                }
                if (!IsIpv4(f, 17)) continue;
                var udp = Payload(f);
                if (Get(udp, 2, 2) != 67) continue;
                var m = udp[8..];
                Assert.That(m.Length, Is.GreaterThanOrEqualTo(548), "slirp ignores shorter BOOTP messages");
                Assert.That(Get(m, 236, 4), Is.EqualTo(0x63825363u));
                byte type = 0;
                for (int at = 240; at < m.Length && m[at] != 255;)
                {
                    if (m[at] == 0) { at++; continue; }
                    if (m[at] == 53) type = m[at + 2];
                    at += 2 + m[at + 1];
                }
                uint xid = Get(m, 4, 4);
                Seen.Add((type, xid, new Ipv4Address(Get(m, 12, 4)), IpDestination(f), m.Length, (ushort)Get(m, 10, 2), (ushort)Get(m, 8, 2)));
                if (Silent) continue;
                var chaddr = new MacAddress(((ulong)Get(m, 28, 4) << 16) | Get(m, 32, 2));
                byte reply;
                if (type == 1)
                {
                    if (OffersToDrop > 0) { OffersToDrop--; continue; }
                    reply = 2;
                }
                else if (type == 3)
                {
                    if (Nak) reply = 6;
                    else if (AcksToDrop > 0) { AcksToDrop--; continue; }
                    else reply = 5;
                }
                else continue;
                replies.Add(Reply(reply, xid, chaddr));
            }
            return replies;
        }

        private byte[] Reply(byte type, uint xid, MacAddress chaddr)
        {
            var m = new byte[548];
            m[0] = 2;
            m[1] = 1;
            m[2] = 6;
            Put(m, 4, xid, 4);
            if (type != 6) Put(m, 16, Offered.Value, 4);
            Put(m, 20, Server.Value, 4);
            Put(m, 28, (uint)(chaddr.Value >> 16), 4);
            Put(m, 32, (uint)chaddr.Value & 0xFFFF, 2);
            Put(m, 236, 0x63825363, 4);
            var o = new List<byte> { 53, 1, type, 54, 4, 10, 0, 2, 2 };
            if (type != 6)
            {
                o.AddRange(new byte[] { 51, 4, (byte)(LeaseSeconds >> 24), (byte)(LeaseSeconds >> 16), (byte)(LeaseSeconds >> 8), (byte)LeaseSeconds });
                o.AddRange(new byte[] { 1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2, 6, 4, 10, 0, 2, 3 });
                if (T1 != 0) o.AddRange(new byte[] { 58, 4, (byte)(T1 >> 24), (byte)(T1 >> 16), (byte)(T1 >> 8), (byte)T1 });
                if (T2 != 0) o.AddRange(new byte[] { 59, 4, (byte)(T2 >> 24), (byte)(T2 >> 16), (byte)(T2 >> 8), (byte)T2 });
            }
            o.Add(255);
            o.ToArray().CopyTo(m, 240);
            var to = Unicast && type != 6 ? Offered : Ipv4Address.Broadcast;
            return EthernetFrame(Unicast ? chaddr : MacAddress.Broadcast, SlirpMac, 0x0800,
                Ipv4Datagram(Server, to, 17, Udp(Server, to, 67, 68, m), 1, 0));
        }
    }

    private sealed class Rig
    {
        public readonly CapturingLink Link = new();
        public readonly NetStack Stack;
        public readonly DhcpClient Client;
        public readonly ScriptedServer Server = new();
        public long Now;

        public Rig()
        {
            Stack = new NetStack(MacA, Link, new NetStackOptions { RandomSeed = 42 });
            Client = new DhcpClient(Stack, "aegis");
        }

        /// <summary>Advances time to <paramref name="until"/>, polling at every deadline and
        /// exchanging frames with the server.</summary>
        public void RunUntil(long until)
        {
            while (true)
            {
                Exchange();
                long next = Stack.NextDeadlineMicros;
                if (next > until) { Now = until; Stack.Poll(Now); Exchange(); return; }
                Now = Math.Max(Now, next);
                Stack.Poll(Now);
            }
        }

        public void Exchange()
        {
            while (Link.Frames.Count > 0)
                foreach (var r in Server.Answer(Link.Take())) Stack.Receive(r, Now);
        }
    }

    [Test]
    public void ItAcquiresTheSlirpAddressMaskRouterAndDnsServer()
    {
        var rig = new Rig();
        Assert.That(rig.Client.Start(0), Is.True);
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Selecting));
        rig.Exchange();
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Bound));
        var s = rig.Stack;
        Assert.That(s.Address, Is.EqualTo(Offered));
        Assert.That(s.SubnetMask, Is.EqualTo(Mask24));
        Assert.That(s.Gateway, Is.EqualTo(Server));
        Assert.That(s.DnsServerCount, Is.EqualTo(1));
        Assert.That(s.DnsServer(0), Is.EqualTo(Dns));
        Assert.That(rig.Client.Lease.LeaseSeconds, Is.EqualTo(86400u));
        Assert.That(rig.Server.Seen.Select(x => x.Type), Is.EqualTo(new byte[] { 1, 3 }));
        Assert.That(rig.Server.Seen[0].Xid, Is.EqualTo(rig.Server.Seen[1].Xid));
        Assert.That(rig.Server.Seen.All(x => x.IpDestination == Ipv4Address.Broadcast && x.Flags == 0x8000));
    }

    [Test]
    public void TheDiscoverIsA548ByteBroadcastFromAddressZeroWithOurHardwareAddress()
    {
        var rig = new Rig();
        rig.Client.Start(0);
        var f = rig.Link.Last;
        Assert.That(EthDestination(f), Is.EqualTo(MacAddress.Broadcast));
        Assert.That(IpSource(f), Is.EqualTo(Ipv4Address.Any));
        var udp = Payload(f);
        Assert.That((Get(udp, 0, 2), Get(udp, 2, 2)), Is.EqualTo((68u, 67u)));
        var m = udp[8..];
        Assert.That(m.Length, Is.EqualTo(548));
        Assert.That((m[0], m[1], m[2]), Is.EqualTo(((byte)1, (byte)1, (byte)6)));
        Assert.That(Get(m, 28, 4), Is.EqualTo(0x52540012u));
        Assert.That(Get(m, 32, 2), Is.EqualTo(0x3456u));
        Assert.That(m[240..243], Is.EqualTo(new byte[] { 53, 1, 1 }));
    }

    [Test]
    public void ALostOfferIsRecoveredByRetransmittingTheDiscoverAfterAboutFourSeconds()
    {
        var rig = new Rig();
        rig.Server.OffersToDrop = 1;
        rig.Client.Start(0);
        rig.Exchange();
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Selecting));
        long retry = rig.Stack.NextDeadlineMicros;
        Assert.That(retry, Is.InRange(3 * Second, 5 * Second));
        rig.RunUntil(6 * Second);
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Bound));
        Assert.That(rig.Server.Seen.Select(x => x.Type), Is.EqualTo(new byte[] { 1, 1, 3 }));
        Assert.That(rig.Server.Seen[1].Secs, Is.InRange(3, 5), "secs counts from the first DISCOVER");
        Assert.That(rig.Stack.Address, Is.EqualTo(Offered));
    }

    [Test]
    public void RetransmissionsBackOffExponentially()
    {
        var rig = new Rig();
        rig.Server.Silent = true;
        rig.Client.Start(0);
        var times = new List<long> { 0 };
        for (int i = 0; i < 6; i++)
        {
            long next = rig.Stack.NextDeadlineMicros;
            rig.Now = next;
            rig.Stack.Poll(next);
            times.Add(next);
        }
        var gaps = times.Zip(times.Skip(1), (a, b) => (b - a) / (double)Second).ToArray();
        double[] nominal = { 4, 8, 16, 32, 64, 64 };
        for (int i = 0; i < gaps.Length; i++) Assert.That(gaps[i], Is.InRange(nominal[i] - 1, nominal[i] + 1), $"gap {i}");
    }

    [Test]
    public void ALostAckIsRecoveredByRetransmittingTheRequest()
    {
        var rig = new Rig();
        rig.Server.AcksToDrop = 1;
        rig.Client.Start(0);
        rig.Exchange();
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Requesting));
        rig.RunUntil(6 * Second);
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Bound));
        Assert.That(rig.Server.Seen.Select(x => x.Type), Is.EqualTo(new byte[] { 1, 3, 3 }));
    }

    [Test]
    public void RequestsThatAreNeverAnsweredLeadBackToDiscovery()
    {
        var rig = new Rig();
        rig.Server.AcksToDrop = 100;
        rig.Client.Start(0);
        rig.RunUntil(200 * Second);
        Assert.That(rig.Server.Seen.Count(x => x.Type == 1), Is.GreaterThanOrEqualTo(2));
        Assert.That(rig.Client.IsBound, Is.False);
    }

    [Test]
    public void AVmwareLikeUnicastOfferAndAckAreAccepted()
    {
        var rig = new Rig();
        rig.Server.Unicast = true;
        rig.Client.Start(0);
        rig.Exchange();
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Bound));
        Assert.That(rig.Stack.Address, Is.EqualTo(Offered));
    }

    [Test]
    public void BindingAnnouncesTheAddressWithGratuitousArp()
    {
        var rig = new Rig();
        rig.Client.Start(0);
        var frames = new List<byte[]>();
        while (rig.Link.Frames.Count > 0)
        {
            var sent = rig.Link.Take();
            frames.AddRange(sent);
            foreach (var r in rig.Server.Answer(sent)) rig.Stack.Receive(r, 0);
        }
        var arp = frames.Where(f => f[12] == 8 && f[13] == 6).ToList();
        Assert.That(arp, Has.Count.EqualTo(1));
        Assert.That(Get(arp[0], 14 + 14, 4), Is.EqualTo(Offered.Value));
        Assert.That(Get(arp[0], 14 + 24, 4), Is.EqualTo(Offered.Value));
    }

    [Test]
    public void RepliesWithAnotherXidOrHardwareAddressAreIgnored()
    {
        var rig = new Rig();
        rig.Client.Start(0);
        var discover = rig.Link.Take();
        var offers = rig.Server.Answer(discover);
        var wrongXid = (byte[])offers[0].Clone();
        wrongXid[14 + 20 + 8 + 4] ^= 1;
        FixUdp(wrongXid);
        rig.Stack.Receive(wrongXid, 0);
        var wrongMac = (byte[])offers[0].Clone();
        wrongMac[14 + 20 + 8 + 33] ^= 1;
        FixUdp(wrongMac);
        rig.Stack.Receive(wrongMac, 0);
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Selecting));
        Assert.That(rig.Stack.Counters.DhcpIgnored, Is.EqualTo(2));
    }

    private static void FixUdp(byte[] frame)
    {
        var src = IpSource(frame);
        var dst = IpDestination(frame);
        var udp = Payload(frame);
        var fixedUdp = Udp(src, dst, (ushort)Get(udp, 0, 2), (ushort)Get(udp, 2, 2), udp[8..]);
        fixedUdp.CopyTo(frame, 34);
    }

    [Test]
    public void ANakDuringRequestingRestartsDiscovery()
    {
        var rig = new Rig();
        rig.Server.Nak = true;
        rig.Client.Start(0);
        rig.Link.Frames.ForEach(_ => { });
        var offer = rig.Server.Answer(rig.Link.Take());
        rig.Stack.Receive(offer[0], 0);
        var nak = rig.Server.Answer(rig.Link.Take());
        rig.Stack.Receive(nak[0], 0);
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Selecting));
        Assert.That(rig.Server.Seen.Select(x => x.Type), Is.EqualTo(new byte[] { 1, 3 }));
        Assert.That(rig.Link.Frames, Has.Count.EqualTo(1), "a new DISCOVER at once");
    }

    [Test]
    public void TheLeaseIsRenewedAtT1ByUnicastToTheServer()
    {
        var rig = new Rig();
        rig.Server.LeaseSeconds = 1000;
        rig.Client.Start(0);
        rig.Exchange();
        Assert.That(rig.Client.RenewAtMicros, Is.EqualTo(500 * Second));
        Assert.That(rig.Client.RebindAtMicros, Is.EqualTo(875 * Second));
        rig.Server.Seen.Clear();
        rig.RunUntil(500 * Second);
        Assert.That(rig.Server.Seen, Has.Count.EqualTo(1));
        var renew = rig.Server.Seen[0];
        Assert.That(renew.Type, Is.EqualTo(3));
        Assert.That(renew.IpDestination, Is.EqualTo(Server), "unicast to the server");
        Assert.That(renew.Ciaddr, Is.EqualTo(Offered));
        Assert.That(renew.Flags, Is.EqualTo(0));
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Bound));
        Assert.That(rig.Client.LeasesAcquired, Is.EqualTo(2));
        Assert.That(rig.Client.RenewAtMicros, Is.EqualTo(1000 * Second));
    }

    [Test]
    public void ServerGivenT1AndT2AreUsed()
    {
        var rig = new Rig();
        rig.Server.LeaseSeconds = 1000;
        rig.Server.T1 = 100;
        rig.Server.T2 = 200;
        rig.Client.Start(0);
        rig.Exchange();
        Assert.That(rig.Client.RenewAtMicros, Is.EqualTo(100 * Second));
        Assert.That(rig.Client.RebindAtMicros, Is.EqualTo(200 * Second));
    }

    [Test]
    public void WithoutAnAnswerRenewingBecomesRebindingAtT2AndTheLeaseEndsDeconfigured()
    {
        var rig = new Rig();
        rig.Server.LeaseSeconds = 1000;
        rig.Client.Start(0);
        rig.Exchange();
        rig.Server.Silent = true;
        rig.Server.Seen.Clear();
        rig.RunUntil(600 * Second);
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Renewing));
        rig.RunUntil(875 * Second);
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Rebinding));
        var renewals = rig.Server.Seen.Where(x => x.IpDestination == Server).ToList();
        Assert.That(renewals, Has.Count.EqualTo(4), "at 500, 687.5, 781.25 s (half the time left to T2), then 841.25 s (at least 60 s)");
        Assert.That(rig.Server.Seen.Last().IpDestination, Is.EqualTo(Ipv4Address.Broadcast), "rebinding broadcasts");
        Assert.That(rig.Server.Seen.Last().Ciaddr, Is.EqualTo(Offered));
        Assert.That(rig.Stack.Address, Is.EqualTo(Offered));
        rig.RunUntil(1000 * Second);
        Assert.That(rig.Stack.IsConfigured, Is.False, "the lease ended");
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Selecting));
    }

    [Test]
    public void RebindingIsAnsweredAndTheLeaseContinues()
    {
        var rig = new Rig();
        rig.Server.LeaseSeconds = 1000;
        rig.Client.Start(0);
        rig.Exchange();
        rig.Server.Silent = true;
        rig.RunUntil(880 * Second);
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Rebinding));
        rig.Server.Silent = false;
        rig.RunUntil(999 * Second);
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Bound));
        Assert.That(rig.Stack.Address, Is.EqualTo(Offered));
    }

    [Test]
    public void ReleaseDeconfiguresAndStops()
    {
        var rig = new Rig();
        rig.Client.Start(0);
        rig.Exchange();
        rig.Client.Release();
        rig.Exchange();
        Assert.That(rig.Server.Seen.Last().Type, Is.EqualTo(7));
        Assert.That(rig.Stack.IsConfigured, Is.False);
        Assert.That(rig.Client.State, Is.EqualTo(DhcpState.Stopped));
        Assert.That(rig.Stack.Udp.IsBound(68), Is.False);
    }

    [Test]
    public void ParsingRefusesTruncatedOptions()
    {
        var m = new byte[250];
        m[0] = 2;
        m[1] = 1;
        m[2] = 6;
        Put(m, 4, 7, 4);
        Put(m, 236, 0x63825363, 4);
        m[240] = 53;
        m[241] = 1;
        m[242] = 2;
        m[243] = 6;
        m[244] = 200; // runs past the end
        Assert.That(DhcpClient.Parse(m, 7, MacAddress.Zero, out _), Is.EqualTo(0));
        m[244] = 4;
        m[249] = 255;
        Assert.That(DhcpClient.Parse(m, 7, MacAddress.Zero, out _), Is.EqualTo(2));
    }
}
