// Boot tests of the kernel's network multiplexer (issue #12; docs/abi.md "Networks"): the app
// nettest (Tests/Apps/NetTest) attaches a receive ring of its own pages, installs packet filters
// and sends frames by DMA from its pages. The verdicts are the host's: datagrams the host sends
// through QEMU's user network (./aegis run --forward udp:H:G) must come back byte for byte, which
// they can only do through the filter, the ring and NicSend. The refusals are the calls' own
// results, printed by the app.
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using NUnit.Framework;

using static Aegis.Tests.Boot.HostNetwork;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class NetworkDeliveryTests
{
    private const int TimeoutSeconds = 120;

    private static int FreeUdpPort()
    {
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.Client.LocalEndPoint!).Port;
    }

    /// <summary>Sends 'count' datagrams of varied sizes (4..1472 bytes, the first 4 bytes their
    /// number) to the host port one at a time and returns how many came back identical; each is
    /// resent until its echo arrives, up to 20 times (QEMU's user network may drop one while the
    /// guest answers its ARP request), and echoes of earlier ones are skipped. Then "quit", which
    /// ends nettest's echo.</summary>
    private static int EchoRoundTrips(int hostPort, int count, int seed)
    {
        using var socket = new UdpClient();
        socket.Client.ReceiveTimeout = 500;
        var random = new Random(seed);
        var to = new IPEndPoint(IPAddress.Loopback, hostPort);
        int echoed = 0;
        for (int i = 0; i <= count; i++)
        {
            byte[] payload = i == count ? "quit"u8.ToArray() : new byte[i == 0 ? 4 : i == 1 ? 1472 : random.Next(4, 1473)];
            if (i < count)
            {
                random.NextBytes(payload);
                BitConverter.TryWriteBytes(payload.AsSpan(0, 4), i);
            }
            if (Exchange(socket, to, payload, i)) echoed++;
        }
        return echoed - 1; // not "quit"
    }

    private static bool Exchange(UdpClient socket, IPEndPoint to, byte[] payload, int number)
    {
        // An earlier datagram's late echo (a smaller number, other bytes) is skipped.
        byte[] back = Resend(socket, to, payload,
            b => !(b.Length >= 4 && BitConverter.ToInt32(b, 0) < number && !b.AsSpan().SequenceEqual(payload)));
        if (back == null) return false;
        Assert.That(back, Is.EqualTo(payload), $"datagram {number} came back changed");
        return true;
    }

    /// <summary>Sends payload, and again every 500 ms up to 20 times (QEMU's user network may drop
    /// one while the guest answers its ARP request), until a datagram comes back that 'wanted'
    /// accepts; returns it, or null.</summary>
    private static byte[] Resend(UdpClient socket, IPEndPoint to, byte[] payload, Func<byte[], bool> wanted)
    {
        var from = new IPEndPoint(IPAddress.Any, 0);
        for (int attempt = 0; attempt < 20; attempt++)
        {
            socket.Send(payload, payload.Length, to);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (waited.ElapsedMilliseconds < 500)
            {
                byte[] back;
                try { back = socket.Receive(ref from); }
                catch (SocketException) { break; }
                if (wanted(back)) return back;
            }
        }
        return null;
    }

    [Test]
    public void AnEnvironmentsFilterBringsItsDatagramsIntoItsRingAndItsFramesLeaveByDma()
    {
        int hostPort = FreeUdpPort();
        int echoed = 0;
        FrontDoor.EnsureIsoBuilt();
        FrontDoorResult result = FrontDoor.RunWithMonitor(TimeoutSeconds, (monitor, output) =>
        {
            WaitFor(output, "nettest: echo on UDP port 7");
            echoed = EchoRoundTrips(hostPort, 40, 1);
        }, "--no-build", "--nic", "e1000", "--forward", "udp:" + hostPort + ":7", "--", "init=nettest:echo,7", "exit");

        Assert.That(echoed, Is.EqualTo(40), () => result.Describe("not every datagram came back"));
        result.AssertExitStatus(0);
        Match counts = result.AssertOutputMatches(@"nettest: echoed (\d+) datagrams, answered (\d+) ARP requests; delivered (\d+), dropped 0, sent (\d+)");
        Assert.That(int.Parse(counts.Groups[1].Value), Is.GreaterThanOrEqualTo(41), () => result.Describe("the app's echo count (with quit)"));
        Assert.That(int.Parse(counts.Groups[3].Value), Is.GreaterThanOrEqualTo(41), () => result.Describe("the kernel's delivered count"));
    }

    [Test]
    public void AFloodForAnEnvironmentThatStopsReadingLosesOnlyItsOwnFrames()
    {
        int echoPort = FreeUdpPort(), stallPort = FreeUdpPort();
        int echoed = 0;
        string pcap = Path.Combine(Path.GetTempPath(), $"aegis-flood-{Environment.ProcessId}.pcap");
        FrontDoor.EnsureIsoBuilt();
        FrontDoorResult result = FrontDoor.RunWithMonitor(TimeoutSeconds, (monitor, output) =>
        {
            WaitFor(output, "nettest: stalling on UDP port 9");
            WaitFor(output, "nettest: echo on UDP port 7");
            using (var flood = new UdpClient())
            {
                var junk = new byte[1000];
                for (int i = 0; i < 300; i++) flood.Send(junk, junk.Length, new IPEndPoint(IPAddress.Loopback, stallPort));
            }
            echoed = EchoRoundTrips(echoPort, 20, 2);
        }, "--no-build", "--nic", "e1000", "--pcap", pcap, "--forward", "udp:" + echoPort + ":7", "--forward", "udp:" + stallPort + ":9",
           "--", "init=nettest:echo,7,stall:9", "exit");
        List<byte[]> frames = Pcap.ReadFrames(pcap);
        File.Delete(pcap);

        Assert.That(echoed, Is.EqualTo(20), () => result.Describe("the reading environment lost datagrams to the other's flood"));
        result.AssertExitStatus(0);
        Match staller = result.AssertOutputMatches(@"nettest: staller: delivered (\d+), dropped (\d+) \(ring: produced (\d+), dropped (\d+)\)");
        Assert.That(int.Parse(staller.Groups[1].Value), Is.EqualTo(2), () => result.Describe("a 2-slot ring nobody reads takes 2 frames"));
        Assert.That(int.Parse(staller.Groups[2].Value), Is.GreaterThanOrEqualTo(20), () => result.Describe("the flood's drops are counted for the staller (QEMU's user network itself drops part of a burst)"));
        Assert.That(staller.Groups[4].Value, Is.EqualTo(staller.Groups[2].Value), () => result.Describe("the ring header and the environment page agree"));
        // The kernel's accounting against the wire (QEMU's record): every datagram that reached the
        // card for port 9 was either delivered to the staller's ring or counted as its drop.
        int onTheWire = Pcap.UdpTo(frames, 9);
        Assert.That(int.Parse(staller.Groups[1].Value) + int.Parse(staller.Groups[2].Value), Is.EqualTo(onTheWire),
            () => result.Describe($"{onTheWire} datagrams for port 9 reached the card; delivered + dropped must be all of them"));
        result.AssertOutputMatches(@"nettest: echoed \d+ datagrams, answered \d+ ARP requests; delivered \d+, dropped 0, sent \d+");
    }

    [Test]
    public void NetworkCallsRefuseBadRingsMalformedFiltersForgedFramesAndPortsOutsideARestrictedCapability()
    {
        string pcap = Path.Combine(Path.GetTempPath(), $"aegis-nettest-bad-{Environment.ProcessId}.pcap");
        FrontDoorResult result;
        List<byte[]> frames;
        try
        {
            FrontDoor.EnsureIsoBuilt();
            result = FrontDoor.Run(TimeSpan.FromSeconds(TimeoutSeconds), "run", "--headless", "--no-build", "--timeout", TimeoutSeconds.ToString(),
                "--nic", "e1000", "--pcap", pcap, "--", "init=nettest:bad", "exit");
            frames = File.Exists(pcap) ? Pcap.ReadFrames(pcap) : new List<byte[]>();
        }
        finally { File.Delete(pcap); }

        result.AssertExitStatus(0);
        // The segmented send the kernel let through, as the card cut it: every segment on the wire.
        AssertSegmentedOnTheWire(frames, result);
        string[] expected =
        {
            "info-no-capability NoCapability", "info-bad-address BadAddress", "send-without-ring InvalidArgument",
            "attach-3-slots InvalidArgument", "attach-512-slots InvalidArgument", "attach-unaligned InvalidArgument",
            "attach-unmapped BadAddress", "attach-read-only BadAddress", "attach-kernel BadAddress", "attach None", "attach-twice Busy",
            "filter-none InvalidArgument 1", "filter-17-atoms InvalidArgument 2", "filter-bad-address BadAddress",
            "filter-width-3 InvalidArgument 4", "filter-beyond-frame InvalidArgument 8", "filter-contradiction InvalidArgument 9",
            "remove-unknown InvalidArgument", "remove-out-of-range InvalidArgument",
            "send-13-bytes InvalidArgument", "send-1519-bytes InvalidArgument", "send-unmapped BadAddress", "send-kernel BadAddress",
            "send-other-mac InvalidArgument", "send-0-requests InvalidArgument", "send-33-requests InvalidArgument",
            "send-bad-requests BadAddress", "send 0x1",
            "offloads 1", "segmented-size-100 InvalidArgument", "segmented-size-1461 InvalidArgument",
            "segmented-size-beyond-16-bits InvalidArgument", "segmented-headers-only InvalidArgument",
            "segmented-70000-bytes InvalidArgument", "segmented-arp InvalidArgument", "segmented-udp InvalidArgument",
            "segmented-fragment InvalidArgument", "segmented-tcp-offset-16 InvalidArgument", "segmented-other-mac InvalidArgument",
            "segmented 0x1",
            "restrict-wider NoCapability", "restrict-reversed InvalidArgument", "restrict-70000 InvalidArgument",
            "restricted-8080 0x", "restricted-remove None", "restricted-80 NoCapability", "restricted-arp NoCapability",
            "restricted-port-only NoCapability", "restricted-range 8000..8099", "detach None", "attach-again None",
        };
        foreach (string line in expected)
            result.AssertOutputContains("nettest: bad " + line);
        result.AssertOutputMatches(@"nettest: bad restrict 0x[0-9a-f]+");
    }

    /// <summary>nettest's segmented send (Tests/Apps/NetTest, Segmented) as the wire carried it:
    /// 14 TCP segments from 10.0.2.15:4321 to 10.0.2.2:9, 1,460 payload bytes each but the last's
    /// 1,074, sequence numbers and IP identifications in a row, both checksums right, PSH on the
    /// last only, and every payload byte the one sent.</summary>
    private static void AssertSegmentedOnTheWire(List<byte[]> frames, FrontDoorResult result)
    {
        const int Payload = 20_054 - 54;
        var pieces = new List<byte[]>();
        foreach (byte[] f in frames)
            if (f.Length >= 54 && f[12] == 0x08 && f[13] == 0 && f[23] == 6 && f[26] == 10 && f[29] == 15
                && (f[34] << 8 | f[35]) == 4321 && (f[36] << 8 | f[37]) == 9)
                pieces.Add(f);
        Assert.That(pieces, Has.Count.EqualTo((Payload + 1459) / 1460), () => result.Describe("the segmented send's pieces on the wire"));
        for (int k = 0; k < pieces.Count; k++)
        {
            byte[] f = pieces[k];
            int n = Math.Min(1460, Payload - k * 1460);
            Assert.That((f[16] << 8 | f[17]), Is.EqualTo(40 + n), $"piece {k}: IP total length");
            Assert.That((f[18] << 8 | f[19]), Is.EqualTo(0x100 + k), $"piece {k}: identification");
            uint seq = (uint)(f[38] << 24 | f[39] << 16 | f[40] << 8 | f[41]);
            Assert.That(seq, Is.EqualTo(1000u + (uint)(k * 1460)), $"piece {k}: sequence number");
            Assert.That(f[47] & 0x08, Is.EqualTo(k == pieces.Count - 1 ? 0x08 : 0), $"piece {k}: PSH on the last only");
            Assert.That(OnesSum(f, 14, 20, 0), Is.EqualTo(0xFFFF), $"piece {k}: IP checksum");
            uint pseudo = 0x0A00 + 0x020F + 0x0A00 + 0x0202 + 6 + (uint)(20 + n);
            Assert.That(OnesSum(f, 34, 20 + n, pseudo), Is.EqualTo(0xFFFF), $"piece {k}: TCP checksum");
            for (int i = 0; i < n; i++)
                if (f[54 + i] != (byte)((k * 1460 + i) * 7 + 3)) Assert.Fail($"piece {k}: payload byte {i}");
        }
    }

    private static int OnesSum(byte[] b, int start, int length, uint sum)
    {
        for (int i = 0; i < length; i += 2) sum += (uint)(b[start + i] << 8 | (i + 1 < length ? b[start + i + 1] : 0));
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (int)sum;
    }

    [Test]
    public void ASegmentedSendIsRefusedByACardThatCannotCutSegments()
    {
        FrontDoorResult result = FrontDoor.BootWithNic("virtio", TimeoutSeconds, "init=nettest:bad", "exit");

        result.AssertExitStatus(0);
        result.AssertOutputContains("nettest: bad offloads 0");
        result.AssertOutputContains("nettest: bad segmented InvalidArgument");
        result.AssertOutputContains("nettest: bad send 0x1");
    }

    [Test]
    public void AFilterOverlappingAnotherEnvironmentsIsRefusedNamingItUntilThatEnvironmentEnds()
    {
        FrontDoorResult result = FrontDoor.BootWithNic("e1000", TimeoutSeconds, "init=nettest:overlap", "exit");

        result.AssertExitStatus(0);
        result.AssertOutputContains("nettest: child holds UDP port 4242: 0x");
        result.AssertOutputContains("nettest: overlap Busy reason 10 owner the child");
        result.AssertOutputMatches(@"nettest: after the child's end 0x[0-9a-f]+");
    }

    /// <summary>The answer to payload: a datagram of its length that differs at most in its
    /// first byte (who answered), or "(no answer)".</summary>
    private static string Ask(UdpClient socket, IPEndPoint to, string payload)
    {
        byte[] back = Resend(socket, to, System.Text.Encoding.ASCII.GetBytes(payload), b =>
        {
            string answer = System.Text.Encoding.ASCII.GetString(b);
            return answer.Length == payload.Length && answer.Substring(1) == payload.Substring(1);
        });
        return back == null ? "(no answer)" : System.Text.Encoding.ASCII.GetString(back);
    }

    [Test]
    public void AFilterGivenToAnotherEnvironmentBringsItThoseDatagramsUntilTheGiverTakesItBack()
    {
        // nettest's parent binds UDP 7 and gives its child the datagrams whose first byte is 'd'
        // (NicFilterDelegate). Who answered is the first byte of the answer: 'c' the child, 'p' the
        // parent; the host, not the apps, decides where each datagram went.
        int hostPort = FreeUdpPort();
        var answers = new List<(string Sent, string Answer)>();
        FrontDoor.EnsureIsoBuilt();
        FrontDoorResult result = FrontDoor.RunWithMonitor(TimeoutSeconds, (monitor, output) =>
        {
            WaitFor(output, "nettest: delegated on UDP port 7");
            using var socket = new UdpClient();
            socket.Client.ReceiveTimeout = 500;
            var to = new IPEndPoint(IPAddress.Loopback, hostPort);
            for (int i = 0; i < 6; i++)
            {
                string sent = (i % 2 == 0 ? "d" : "x") + "-given-" + i;
                answers.Add((sent, Ask(socket, to, sent)));
            }
            answers.Add(("revoke", Ask(socket, to, "revoke")));
            WaitFor(output, "nettest: revoked");
            answers.Add(("d-taken-back", Ask(socket, to, "d-taken-back")));
            answers.Add(("quit", Ask(socket, to, "quit")));
        }, "--no-build", "--nic", "e1000", "--forward", "udp:" + hostPort + ":7", "--", "init=nettest:delegate,7", "exit");

        string Described() => string.Join(", ", answers.Select(a => a.Sent + " -> " + a.Answer));
        string[] expected = { "c-given-0", "p-given-1", "c-given-2", "p-given-3", "c-given-4", "p-given-5", "pevoke", "p-taken-back", "puit" };
        Assert.That(answers.Select(a => a.Answer), Is.EqualTo(expected), () => result.Describe(Described()));
        result.AssertExitStatus(0);
        foreach (string line in new[]
                 {
                     "delegate before-the-child-has-a-ring InvalidArgument", "delegate not-ours NotOwner", "delegate no-more-specific Busy",
                     "delegate to-self InvalidArgument", "delegate to-no-one BadEnvironment", "delegate no-atoms InvalidArgument",
                 })
            result.AssertOutputContains("nettest: " + line);
        result.AssertOutputContains("nettest: revoked None");
        result.AssertOutputContains("nettest: child takes");
    }
}
