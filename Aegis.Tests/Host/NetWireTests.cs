// LibOS.Net's shared wire facts (docs/network.md): the Internet checksum against a header
// whose checksum is known, the pseudo header against a segment checked by hand, and the
// address types' parsing and printing.
using Aegis.LibOS.Net;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class NetWireTests
{
    // An IPv4 header from RFC 1071's usual example (checksum 0xB861 at bytes 10-11).
    private static readonly byte[] Header =
    {
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xB8, 0x61,
        0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8, 0x00, 0xC7,
    };

    [Test]
    public void TheChecksumOfAHeaderWithItsChecksumFieldIsZeroAndRecomputesTheField()
    {
        Assert.That(Checksum.Finish(Checksum.Add(0, Header)), Is.EqualTo(0));
        var copy = (byte[])Header.Clone();
        copy[10] = copy[11] = 0;
        Assert.That(Checksum.Finish(Checksum.Add(0, copy)), Is.EqualTo(0xB861));
    }

    [Test]
    public void TheChecksumOfSpansAddedInPiecesEqualsTheWhole()
    {
        var random = new Random(5);
        var data = new byte[1501];
        random.NextBytes(data);
        uint whole = Checksum.Add(0, data);
        uint pieces = Checksum.Add(Checksum.Add(Checksum.Add(0, data.AsSpan(0, 2)), data.AsSpan(2, 1000)), data.AsSpan(1002));
        Assert.That(Checksum.Finish(pieces), Is.EqualTo(Checksum.Finish(whole)));
    }

    [Test]
    public void TheWordAtATimeChecksumEqualsTheBytewiseDefinitionForEveryLengthAndStart()
    {
        // Checksum.Add sums eight bytes at a time in little-endian order; the reference sums
        // big-endian 16-bit words one at a time, as RFC 1071 defines it.
        var random = new Random(12);
        var data = new byte[700];
        for (int round = 0; round < 20; round++)
        {
            random.NextBytes(data);
            if (round == 0) Array.Fill(data, (byte)0xFF);
            for (int start = 0; start < 9; start++)
                for (int length = 0; length + start <= data.Length; length += 1 + random.Next(3))
                {
                    var span = data.AsSpan(start, length);
                    uint initial = (uint)random.Next(0x20000);
                    Assert.That(Checksum.Finish(Checksum.Add(initial, span)), Is.EqualTo(Reference(initial, span)), $"start {start} length {length}");
                }
        }
    }

    private static ushort Reference(uint sum, ReadOnlySpan<byte> bytes)
    {
        ulong s = sum;
        for (int i = 0; i < bytes.Length; i += 2) s += (uint)(bytes[i] << 8 | (i + 1 < bytes.Length ? bytes[i + 1] : 0));
        while ((s >> 16) != 0) s = (s & 0xFFFF) + (s >> 16);
        return (ushort)~s;
    }

    [Test]
    public void ThePseudoHeaderSumMatchesTheSumOfItsTwelveBytes()
    {
        var src = new Ipv4Address(10, 0, 2, 15);
        var dst = new Ipv4Address(10, 0, 2, 2);
        var pseudo = new byte[12];
        src.Write(pseudo, 0);
        dst.Write(pseudo, 4);
        pseudo[9] = 6;
        Wire.Put16(pseudo, 10, 1460);
        Assert.That(Checksum.Finish(Checksum.PseudoHeader(src, dst, 6, 1460)),
            Is.EqualTo(Checksum.Finish(Checksum.Add(0, pseudo))));
    }

    [TestCase("10.0.2.15", 0x0A00020Fu)]
    [TestCase("255.255.255.255", 0xFFFFFFFFu)]
    [TestCase("0.0.0.0", 0u)]
    public void AnAddressParsesAndPrintsBack(string text, uint value)
    {
        Assert.That(Ipv4Address.TryParse(text, out var a), Is.True);
        Assert.That(a.Value, Is.EqualTo(value));
        Assert.That(a.ToString(), Is.EqualTo(text));
    }

    [TestCase("")]
    [TestCase("10.0.2")]
    [TestCase("10.0.2.15.1")]
    [TestCase("256.0.0.1")]
    [TestCase("1..2.3")]
    [TestCase("1.2.3.4 ")]
    [TestCase("1234.1.1.1")]
    public void MalformedAddressTextIsRefused(string text)
    {
        Assert.That(Ipv4Address.TryParse(text, out _), Is.False);
    }

    [Test]
    public void AMacAddressRoundTripsThroughItsSixBytesAndPrintsInColonForm()
    {
        var bytes = new byte[] { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
        var mac = MacAddress.Read(bytes, 0);
        Assert.That(mac.Value, Is.EqualTo(0x525400123456UL));
        Assert.That(mac.ToString(), Is.EqualTo("52:54:00:12:34:56"));
        var back = new byte[6];
        mac.Write(back, 0);
        Assert.That(back, Is.EqualTo(bytes));
        Assert.That(MacAddress.Broadcast.IsMulticast, Is.True);
    }
}
