// Merged ACKs (docs/network.md, "Merged ACKs"): a pure TCP ACK that the next frame of its batch
// covers is not delivered; slow start still grows as for each ACK; duplicate ACKs, data, options,
// other connections and a covering ACK with a bad checksum are never merged.
#nullable enable
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.NetFrames;

namespace Aegis.Tests.Host;

public class NetMergedAckTests
{
    private sealed class Rig
    {
        public readonly SimulatedEthernet Wire = new();
        public readonly NetStack A, B;
        public readonly Tcp TcpA, TcpB;
        public TcpConnection Sender = null!, Receiver = null!;
        public long Now = 1000;

        public Rig()
        {
            A = Wire.Attach(MacA);
            B = Wire.Attach(MacB);
            A.Configure(IpA, Mask24, IpGateway, 0);
            B.Configure(IpB, Mask24, IpGateway, 0);
            TcpA = new Tcp(A, 1, 2);
            TcpB = new Tcp(B, 3, 4);
            A.Register(TcpA);
            B.Register(TcpB);
            Wire.Pump(Now);
            TcpListener listener = TcpB.CreateListener();
            Assert.That(listener.Listen(Ipv4Address.Any, 80, 4), Is.EqualTo(TcpError.None));
            Sender = TcpA.CreateConnection();
            Sender.Options.NoDelay = true;
            Assert.That(Sender.Connect(IpB, 80, Now), Is.EqualTo(TcpError.None).Or.EqualTo(TcpError.InProgress));
            for (int i = 0; i < 4; i++) Wire.Pump(Now += 1000);
            Receiver = listener.Accept(out _)!;
            Assert.That(Receiver, Is.Not.Null, "connected");
        }

        /// <summary>Sends 'segments' full segments from A and returns B's answers to them (pure ACKs,
        /// taken off the wire before A sees them), in the order B sent them.</summary>
        public List<byte[]> AcksFor(int segments)
        {
            var acks = new List<byte[]>();
            Wire.Drop = frame =>
            {
                if (MacAddress.Read(frame, 6) != MacB) return false;
                acks.Add(frame);
                return true;
            };
            Assert.That(Sender.Send(new byte[segments * Sender.SendMss], Now), Is.EqualTo(segments * Sender.SendMss));
            for (int i = 0; i < 4; i++)
            {
                Wire.Pump(Now += 100_000); // past B's delayed-ACK timer
                TcpB.Poll(Now);
                var sink = new byte[1 << 20];
                Receiver.Receive(sink, Now);
            }
            Wire.Pump(Now);
            Wire.Drop = null;
            Assert.That(acks, Is.Not.Empty);
            return acks;
        }

        /// <summary>Gives A these frames as the card's ring would: each with the one after it.</summary>
        public void DeliverBatch(IReadOnlyList<byte[]> frames)
        {
            for (int i = 0; i < frames.Count; i++)
                A.Receive(frames[i], Now, i + 1 < frames.Count ? frames[i + 1] : default);
        }
    }

    private static uint AckOf(byte[] frame) => Wire.U32(frame, 34 + 8);

    private static byte[] Copy(byte[] frame) => (byte[])frame.Clone();

    [Test]
    public void APureAckTheNextAckCoversIsMergedAndSlowStartGrowsAsForEach()
    {
        var merged = new Rig();
        var plain = new Rig();
        List<byte[]> acks = merged.AcksFor(8);
        List<byte[]> plainAcks = plain.AcksFor(8);
        Assert.That(acks.Count, Is.GreaterThanOrEqualTo(3), "B acknowledges every second segment");
        Assert.That(acks.Select(AckOf), Is.EqualTo(plainAcks.Select(AckOf)), "the two rigs are the same");
        uint cwnd = merged.Sender.CongestionWindow;
        Assert.That(cwnd, Is.LessThan(merged.Sender.SlowStartThreshold), "in slow start");

        merged.DeliverBatch(acks);
        foreach (byte[] ack in plainAcks) plain.A.Receive(ack, plain.Now);

        Assert.That(merged.A.Counters.Superseded, Is.EqualTo(acks.Count - 1), "all but the last superseded");
        Assert.That(merged.TcpA.Counters.AcksMerged, Is.EqualTo(acks.Count - 1));
        Assert.That(merged.TcpA.Counters.SegmentsReceived - plain.TcpA.Counters.SegmentsReceived, Is.EqualTo(-(acks.Count - 1)));
        Assert.That(merged.Sender.SendUnacknowledged, Is.EqualTo(AckOf(acks[^1])), "the last ACK acknowledged everything");
        Assert.That(merged.Sender.SendUnacknowledged, Is.EqualTo(plain.Sender.SendUnacknowledged));
        Assert.That(merged.Sender.CongestionWindow, Is.EqualTo(plain.Sender.CongestionWindow),
            "slow start grew by an SMSS for each ACK, merged or not");
        Assert.That(merged.Sender.CongestionWindow, Is.GreaterThan(cwnd));
        Assert.That(plain.A.Counters.Superseded, Is.EqualTo(0), "one frame at a time: nothing merged");
    }

    [Test]
    public void DuplicateAcksDataOptionsOtherConnectionsAndBadChecksumsAreNeverMerged()
    {
        var rig = new Rig();
        List<byte[]> acks = rig.AcksFor(4);
        byte[] first = acks[0];

        // A duplicate ACK (fast retransmit counts them): the same acknowledgement twice.
        rig.DeliverBatch(new[] { Copy(first), Copy(first) });
        Assert.That(rig.A.Counters.Superseded, Is.EqualTo(0), "a duplicate ACK");

        // The covering ACK's TCP checksum is wrong: the earlier one is delivered.
        byte[] later = Copy(acks[^1]);
        later[34 + 16] ^= 0x5A;
        Assert.That(AckOf(later), Is.GreaterThan(AckOf(first)));
        rig.DeliverBatch(new[] { Copy(first), later });
        Assert.That(rig.A.Counters.Superseded, Is.EqualTo(0), "a covering ACK with a bad checksum");

        // An earlier or later segment with data, or with a flag beyond ACK and PSH.
        rig.DeliverBatch(new[] { WithFlags(first, TcpSegment.Ack | TcpSegment.Fin), Copy(acks[^1]) });
        rig.DeliverBatch(new[] { Copy(first), WithFlags(acks[^1], TcpSegment.Ack | TcpSegment.Urg) });
        Assert.That(rig.A.Counters.Superseded, Is.EqualTo(0), "FIN or URG");

        // Another connection (other ports): both are delivered.
        byte[] other = Copy(acks[^1]);
        Wire.Put16(other, 34, Wire.U16(other, 34) + 1);
        Refresh(other);
        rig.DeliverBatch(new[] { Copy(first), other });
        Assert.That(rig.A.Counters.Superseded, Is.EqualTo(0), "another connection");

        // A valid covering ACK: merged.
        rig.DeliverBatch(new[] { Copy(first), Copy(acks[^1]) });
        Assert.That(rig.A.Counters.Superseded, Is.EqualTo(1));
    }

    [Test]
    public void AFrameOfOtherBytesThanAnAckIsNeverMerged()
    {
        var rig = new Rig();
        List<byte[]> acks = rig.AcksFor(4);
        byte[] first = acks[0], last = acks[^1];
        // An IPv4 option, a fragment, or a different TTL in the earlier frame: not the same header.
        byte[] ttl = Copy(first);
        ttl[14 + 8]--;
        RefreshIp(ttl);
        rig.DeliverBatch(new[] { ttl, Copy(last) });
        byte[] fragment = Copy(first);
        Wire.Put16(fragment, 14 + 6, 0x2000);
        RefreshIp(fragment);
        rig.DeliverBatch(new[] { fragment, Copy(last) });
        // The covering frame's IPv4 checksum is wrong.
        byte[] badIp = Copy(last);
        badIp[14 + 10] ^= 0xFF;
        rig.DeliverBatch(new[] { Copy(first), badIp });
        // Random bytes in either place.
        var random = new Random(12);
        for (int i = 0; i < 200; i++)
        {
            var junk = new byte[random.Next(0, 80)];
            random.NextBytes(junk);
            rig.DeliverBatch(new[] { junk, Copy(last) });
            rig.DeliverBatch(new[] { Copy(first), junk });
        }
        Assert.That(rig.A.Counters.Superseded, Is.EqualTo(0));
    }

    private static byte[] WithFlags(byte[] frame, int flags)
    {
        byte[] f = Copy(frame);
        f[34 + 13] = (byte)flags;
        Refresh(f);
        return f;
    }

    /// <summary>The TCP checksum again after an edit (IPv4 without options at 14, TCP at 34).</summary>
    private static void Refresh(byte[] f)
    {
        int total = Wire.U16(f, 16);
        var segment = f.AsSpan(34, total - 20);
        segment[16] = 0;
        segment[17] = 0;
        TcpSegment.SetChecksum(segment, Ipv4Address.Read(f, 26), Ipv4Address.Read(f, 30));
    }

    private static void RefreshIp(byte[] f)
    {
        f[14 + 10] = 0;
        f[14 + 11] = 0;
        Wire.Put16(f, 14 + 10, Sum(f.AsSpan(14, 20)));
    }
}
