// Malformed and random frames from the wire (issue #12, "Bad input"): the test is the whole
// network (./aegis run --wire: QEMU's socket netdev, one UDP datagram per frame each way). It
// answers the guest's ARP for the gateway 10.0.2.2, then sends thousands of frames built to hurt:
// random bytes, lying lengths, bad header lengths and options, every protocol number, fragments,
// TCP with random flags and options, ARP for and from anyone, each mutated, with the checksums
// sometimes made right again so the damage reaches the layers above. Between bursts it checks
// that traffic still flows: a UDP echo (its payload compared byte for byte) and a ping. The
// verdicts are the host's: the echoes it saw on the wire, the guest's exit status (0: the app
// ended when asked, the kernel did not panic) and no panic or crash report in the output.
//
// The frames come from a seeded generator: AEGIS_FUZZ_SEED=N replays (or varies) a run; a failure
// names the seed, the round and the kinds of frames of the last burst; AEGIS_FUZZ_ONLY=KIND sends
// only frames of that kind (to find which one hurts).
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;

using static Aegis.Tests.Boot.HostNetwork;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class NetworkFuzzTests
{
    private const int TimeoutSeconds = 240;
    private const int Rounds = 20, FramesPerRound = 250;

    private static readonly byte[] GatewayMac = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
    private static readonly byte[] GatewayIp = { 10, 0, 2, 2 }, GuestIp = { 10, 0, 2, 15 };
    private static readonly byte[] Broadcast = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

    [Test]
    public void MalformedAndRandomFramesNeitherPanicNorStopTraffic()
    {
        int seed = int.TryParse(System.Environment.GetEnvironmentVariable("AEGIS_FUZZ_SEED"), out int s) ? s : 20261202;
        using var wire = new Wire();
        var failures = new List<string>();
        int sent = 0;
        FrontDoor.EnsureIsoBuilt();
        FrontDoorResult result = FrontDoor.RunWithMonitor(TimeoutSeconds, (monitor, output) =>
        {
            WaitFor(output, "net: UDP echo on port 7");
            var fuzz = new FrameFuzzer(seed, System.Environment.GetEnvironmentVariable("AEGIS_FUZZ_ONLY"));
            string check = wire.Check("before any bad frame");
            if (check != null)
            {
                failures.Add(check);
                try { monitor.Command("quit"); } catch (IOException) { }
                return;
            }
            for (int round = 0; round < Rounds; round++)
            {
                var kinds = new Dictionary<string, int>();
                for (int i = 0; i < FramesPerRound; i++)
                {
                    byte[] frame = fuzz.Next(wire.GuestMac, out string kind);
                    kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
                    wire.Send(frame);
                    sent++;
                    if (i % 50 == 49) Thread.Sleep(20); // QEMU reads its socket as the card takes frames: no host-side loss
                }
                check = wire.Check($"after round {round}");
                if (check != null)
                {
                    failures.Add($"{check} (seed {seed}, round {round}; its frames: {string.Join(", ", kinds.Select(k => k.Key + " " + k.Value))})");
                    try { monitor.Command("quit"); } catch (IOException) { } // QEMU goes at once: no answer
                    return;
                }
            }
            wire.Quit(output);
        }, "--no-build", "--nic", "e1000", "--wire", wire.Port.ToString(), "--", "init=net:udpecho,7,static", "exit");

        Assert.That(failures, Is.Empty, () => result.Describe($"traffic stopped after bad frames ({sent} sent)"));
        Assert.That(result.Output, Does.Not.Contain("PANIC").And.Not.Contain("crash report"), () => result.Describe("a panic or a crash"));
        result.AssertExitStatus(0);
        result.AssertOutputMatches(@"net: UDP echo: \d+ datagrams");
        Assert.That(new[] { wire.Resets, wire.Unreachables, wire.ArpReplies }, Has.All.GreaterThan(0),
            () => $"the bad frames did not reach every layer: TCP resets {wire.Resets}, ICMP unreachables {wire.Unreachables}, ARP replies {wire.ArpReplies}");
        TestContext.Out.WriteLine($"{sent} bad frames; the guest answered with {wire.Resets} TCP resets, {wire.Unreachables} ICMP unreachables, {wire.ArpReplies} ARP replies");
    }

    /// <summary>The host's end of --wire: a UDP socket on PORT (the card's frames arrive here),
    /// sending to PORT+1 (QEMU's end). A thread answers the guest's ARP for the gateway and keeps
    /// what came back: UDP echoes from port 7 (by payload) and ping replies (by sequence).</summary>
    private sealed class Wire : IDisposable
    {
        private readonly UdpClient _socket;
        private readonly IPEndPoint _qemu;
        private readonly Thread _reader;
        private volatile bool _stop;
        private readonly ConcurrentDictionary<string, bool> _echoes = new();
        private readonly ConcurrentDictionary<int, bool> _pings = new();
        private int _checks;
        /// <summary>What the guest said to the bad frames, on the wire: proof that they reached
        /// its stack's layers (TCP's resets, UDP's and IP's unreachables, ARP's replies).</summary>
        public int Resets, Unreachables, ArpReplies;
        private const ushort PingId = 0x4145; // the fuzzer's pings have random ids: a reply counts only with this one
        public int Port { get; }
        public byte[] GuestMac { get; private set; } = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

        public Wire()
        {
            _socket = BindWireEnd(out int port, out _qemu);
            Port = port;
            _socket.Client.ReceiveBufferSize = 4 << 20;
            _reader = new Thread(Read) { IsBackground = true };
            _reader.Start();
        }

        public void Send(byte[] frame) => _socket.Send(frame, frame.Length, _qemu);

        private void Read()
        {
            _socket.Client.ReceiveTimeout = 200;
            var from = new IPEndPoint(IPAddress.Any, 0);
            while (!_stop)
            {
                byte[] f;
                try { f = _socket.Receive(ref from); }
                catch (SocketException) { continue; }
                catch (ObjectDisposedException) { return; }
                if (f.Length < 14) continue;
                int type = f[12] << 8 | f[13];
                if (type == 0x0806 && f.Length >= 42 && f[21] == 1 && f.AsSpan(38, 4).SequenceEqual(GatewayIp))
                {
                    GuestMac = f.AsSpan(6, 6).ToArray();
                    Send(Frames.Arp(2, GatewayMac, GatewayIp, f.AsSpan(22, 6).ToArray(), f.AsSpan(28, 4).ToArray(), f.AsSpan(6, 6).ToArray()));
                }
                else if (type == 0x0800 && f.Length >= 34 && f.AsSpan(26, 4).SequenceEqual(GuestIp))
                {
                    int t = 14 + (f[14] & 15) * 4, total = f[16] << 8 | f[17];
                    if (f[23] == 17 && f.Length >= t + 8 && (f[t] << 8 | f[t + 1]) == 7)
                        _echoes[Convert.ToHexString(f, t + 8, Math.Min(total + 14, f.Length) - t - 8)] = true;
                    else if (f[23] == 1 && f.Length >= t + 8 && f[t] == 0)
                        _pings[(f[t + 4] << 8 | f[t + 5]) << 16 | f[t + 6] << 8 | f[t + 7]] = true;
                    else if (f[23] == 1 && f.Length >= t + 8 && f[t] == 3) Interlocked.Increment(ref Unreachables);
                    else if (f[23] == 6 && f.Length >= t + 14 && (f[t + 13] & 4) != 0) Interlocked.Increment(ref Resets);
                }
                else if (type == 0x0806 && f.Length >= 42 && f[21] == 2 && f.AsSpan(28, 4).SequenceEqual(GuestIp))
                {
                    Interlocked.Increment(ref ArpReplies);
                }
            }
        }

        /// <summary>A UDP echo of fresh bytes and a ping, each sent again every second until
        /// answered (the wire may lose a frame; the guest may be busy), for at most 15 s; null when
        /// both came back, else what did not.</summary>
        public string Check(string when)
        {
            int n = Interlocked.Increment(ref _checks);
            byte[] payload = new byte[16 + n % 200];
            Random.Shared.NextBytes(payload);
            string key = Convert.ToHexString(payload);
            var waited = Stopwatch.StartNew();
            TimeSpan next = TimeSpan.Zero;
            while (waited.Elapsed < TimeSpan.FromSeconds(15))
            {
                bool echoed = _echoes.ContainsKey(key), pinged = _pings.ContainsKey(PingId << 16 | n);
                if (echoed && pinged) return null;
                if (waited.Elapsed >= next)
                {
                    if (!echoed) Send(Frames.Udp(GatewayMac, GuestMac, GatewayIp, GuestIp, 40007, 7, payload));
                    if (!pinged) Send(Frames.Ping(GatewayMac, GuestMac, GatewayIp, GuestIp, PingId, (ushort)n));
                    next = waited.Elapsed + TimeSpan.FromSeconds(1);
                }
                Thread.Sleep(10);
            }
            return $"{when}: no answer in 15 s to {(_echoes.ContainsKey(key) ? "" : $"a UDP echo of {payload.Length} bytes ")}{(_pings.ContainsKey(PingId << 16 | n) ? "" : $"ping {n}")}";
        }

        /// <summary>Ends the guest's echo server ("quit"), sent again until it says so.</summary>
        public void Quit(Func<string> output)
        {
            var waited = Stopwatch.StartNew();
            while (!output().Contains("net: UDP echo: ") && waited.Elapsed < TimeSpan.FromSeconds(20))
            {
                Send(Frames.Udp(GatewayMac, GuestMac, GatewayIp, GuestIp, 40007, 7, "quit"u8.ToArray()));
                Thread.Sleep(500);
            }
        }

        public void Dispose()
        {
            _stop = true;
            _reader.Join(1000);
            _socket.Dispose();
        }
    }

    /// <summary>Well-formed frames (the templates), with their checksums.</summary>
    private static class Frames
    {
        public static byte[] Ethernet(byte[] destination, byte[] source, int type, int payload)
        {
            var f = new byte[14 + payload];
            destination.CopyTo(f, 0);
            source.CopyTo(f, 6);
            f[12] = (byte)(type >> 8); f[13] = (byte)type;
            return f;
        }

        public static byte[] Arp(int op, byte[] senderMac, byte[] senderIp, byte[] targetMac, byte[] targetIp, byte[] to)
        {
            byte[] f = Ethernet(to, senderMac, 0x0806, 28);
            byte[] head = { 0, 1, 8, 0, 6, 4, 0, (byte)op };
            head.CopyTo(f, 14);
            senderMac.CopyTo(f, 22); senderIp.CopyTo(f, 28); targetMac.CopyTo(f, 32); targetIp.CopyTo(f, 38);
            return f;
        }

        /// <summary>An IPv4 frame: a 20-byte header (checksummed) and 'payload' bytes after it.</summary>
        public static byte[] Ipv4(byte[] fromMac, byte[] toMac, byte[] fromIp, byte[] toIp, int protocol, int payload, int id = 1, int fragment = 0x4000)
        {
            byte[] f = Ethernet(toMac, fromMac, 0x0800, 20 + payload);
            f[14] = 0x45; f[16] = (byte)((20 + payload) >> 8); f[17] = (byte)(20 + payload);
            f[18] = (byte)(id >> 8); f[19] = (byte)id; f[20] = (byte)(fragment >> 8); f[21] = (byte)fragment;
            f[22] = 64; f[23] = (byte)protocol;
            fromIp.CopyTo(f, 26); toIp.CopyTo(f, 30);
            FixIpv4(f);
            return f;
        }

        public static byte[] Udp(byte[] fromMac, byte[] toMac, byte[] fromIp, byte[] toIp, int sourcePort, int port, byte[] data)
        {
            byte[] f = Ipv4(fromMac, toMac, fromIp, toIp, 17, 8 + data.Length);
            f[34] = (byte)(sourcePort >> 8); f[35] = (byte)sourcePort; f[36] = (byte)(port >> 8); f[37] = (byte)port;
            f[38] = (byte)((8 + data.Length) >> 8); f[39] = (byte)(8 + data.Length);
            data.CopyTo(f, 42);
            FixTransport(f);
            return f;
        }

        public static byte[] Ping(byte[] fromMac, byte[] toMac, byte[] fromIp, byte[] toIp, ushort id, ushort sequence)
        {
            byte[] f = Ipv4(fromMac, toMac, fromIp, toIp, 1, 8 + 24);
            f[34] = 8; f[38] = (byte)(id >> 8); f[39] = (byte)id; f[40] = (byte)(sequence >> 8); f[41] = (byte)sequence;
            for (int i = 42; i < f.Length; i++) f[i] = (byte)i;
            FixTransport(f);
            return f;
        }

        public static byte[] Tcp(byte[] fromMac, byte[] toMac, byte[] fromIp, byte[] toIp, int sourcePort, int port, uint seq, uint ack, int flags, byte[] options, byte[] data)
        {
            int header = 20 + options.Length;
            byte[] f = Ipv4(fromMac, toMac, fromIp, toIp, 6, header + data.Length);
            int t = 34;
            f[t] = (byte)(sourcePort >> 8); f[t + 1] = (byte)sourcePort; f[t + 2] = (byte)(port >> 8); f[t + 3] = (byte)port;
            for (int i = 0; i < 4; i++) { f[t + 4 + i] = (byte)(seq >> (24 - 8 * i)); f[t + 8 + i] = (byte)(ack >> (24 - 8 * i)); }
            f[t + 12] = (byte)((header / 4) << 4); f[t + 13] = (byte)flags; f[t + 14] = 0xff; f[t + 15] = 0xff;
            options.CopyTo(f, t + 20);
            data.CopyTo(f, t + header);
            FixTransport(f);
            return f;
        }

        private static int Sum(ReadOnlySpan<byte> bytes, int sum = 0)
        {
            for (int i = 0; i + 1 < bytes.Length; i += 2) sum += bytes[i] << 8 | bytes[i + 1];
            if ((bytes.Length & 1) != 0) sum += bytes[^1] << 8;
            return sum;
        }

        private static ushort Fold(int sum)
        {
            while (sum >> 16 != 0) sum = (sum & 0xffff) + (sum >> 16);
            return (ushort)~sum;
        }

        /// <summary>Makes the IPv4 header checksum right for whatever the header says now.</summary>
        public static void FixIpv4(byte[] f)
        {
            if (f.Length < 34) return;
            int length = Math.Min((f[14] & 15) * 4, f.Length - 14);
            f[24] = f[25] = 0;
            ushort c = Fold(Sum(f.AsSpan(14, length)));
            f[24] = (byte)(c >> 8); f[25] = (byte)c;
        }

        /// <summary>Makes the UDP, TCP or ICMP checksum right for the bytes the IP header claims
        /// (or those there are), and the IPv4 header's too.</summary>
        public static void FixTransport(byte[] f)
        {
            FixIpv4(f);
            if (f.Length < 34) return;
            int t = 14 + (f[14] & 15) * 4, total = f[16] << 8 | f[17];
            int end = Math.Min(14 + total, f.Length);
            if (t >= end) return;
            int protocol = f[23], at = protocol switch { 17 => 6, 6 => 16, 1 => 2, _ => -1 };
            if (at < 0 || t + at + 2 > end) return;
            f[t + at] = f[t + at + 1] = 0;
            int sum = Sum(f.AsSpan(t, end - t));
            if (protocol != 1) sum = Sum(f.AsSpan(26, 8), sum) + protocol + (end - t);
            ushort c = Fold(sum);
            f[t + at] = (byte)(c >> 8); f[t + at + 1] = (byte)c;
        }
    }

    /// <summary>The bad frames: a template or random bytes, then damage.</summary>
    private sealed class FrameFuzzer
    {
        /// <summary>The shortest frame sent: its Ethernet header (a real card drops shorter runts;
        /// QEMU's e1000 pads what it gets to 60 bytes). Never an empty datagram: QEMU's socket
        /// netdev reads one as the end of the connection and stops reading for good.</summary>
        private const int MinimumFrame = 14;
        private readonly Random _random;
        private readonly int _only;
        private static readonly string[] Kinds = { "random bytes", "ethertype", "arp", "ipv4 protocol", "ipv4 header", "fragment", "udp", "icmp", "tcp" };

        /// <summary>'only': one kind of frame (a name of Kinds), or null for all.</summary>
        public FrameFuzzer(int seed, string only)
        {
            _random = new Random(seed);
            _only = only == null ? -1 : Array.IndexOf(Kinds, only);
            if (only != null && _only < 0) throw new ArgumentException($"AEGIS_FUZZ_ONLY is one of: {string.Join(", ", Kinds)}");
        }

        private byte[] Bytes(int n) { var b = new byte[n]; _random.NextBytes(b); return b; }
        private byte[] SomeIp() => _random.Next(4) switch { 0 => GatewayIp, 1 => GuestIp, 2 => new byte[] { 10, 0, 2, (byte)_random.Next(256) }, _ => Bytes(4) };
        private byte[] SomeMac(byte[] guest) => _random.Next(3) switch { 0 => guest, 1 => Broadcast, _ => Bytes(6) };

        public byte[] Next(byte[] guestMac, out string kind)
        {
            byte[] f;
            byte[] to = _random.Next(8) == 0 ? Broadcast : guestMac;
            int pick = _random.Next(11);
            if (_only >= 0) pick = _only;
            switch (pick)
            {
                case 0:
                    kind = "random bytes";
                    f = Bytes(_random.Next(MinimumFrame, 1600));
                    if (_random.Next(2) == 0) to.CopyTo(f, 0); // past the card's address filter, into the kernel's
                    return f;
                case 1:
                    kind = "ethertype";
                    f = Frames.Ethernet(to, Bytes(6), _random.Next(65536), _random.Next(0, 1500));
                    _random.NextBytes(f.AsSpan(14));
                    break;
                case 2:
                    kind = "arp";
                    f = Frames.Arp(_random.Next(4), SomeMac(guestMac), SomeIp(), SomeMac(guestMac), SomeIp(), to);
                    break;
                case 3:
                    kind = "ipv4 protocol";
                    f = Frames.Ipv4(GatewayMac, to, SomeIp(), GuestIp, _random.Next(256), _random.Next(0, 1480));
                    _random.NextBytes(f.AsSpan(34));
                    Frames.FixTransport(f);
                    break;
                case 4:
                    kind = "ipv4 header";
                    f = Frames.Ipv4(GatewayMac, to, SomeIp(), GuestIp, new[] { 1, 6, 17 }[_random.Next(3)], _random.Next(0, 200));
                    f[14] = (byte)(_random.Next(16) << 4 | _random.Next(16));     // version and header length
                    int total = _random.Next(3) == 0 ? _random.Next(65536) : f.Length - 14 + _random.Next(-30, 30);
                    f[16] = (byte)(total >> 8); f[17] = (byte)total;
                    if (f.Length > 34) _random.NextBytes(f.AsSpan(34, Math.Min(40, f.Length - 34))); // options, or what follows
                    Frames.FixIpv4(f);
                    break;
                case 5:
                    kind = "fragment";
                    f = Frames.Ipv4(GatewayMac, to, SomeIp(), GuestIp, new[] { 1, 6, 17, _random.Next(256) }[_random.Next(4)],
                        _random.Next(0, 1480), _random.Next(8), (_random.Next(2) << 13) | _random.Next(8192));
                    _random.NextBytes(f.AsSpan(34));
                    Frames.FixIpv4(f);
                    break;
                case 6:
                    kind = "udp";
                    f = Frames.Udp(GatewayMac, to, SomeIp(), GuestIp, _random.Next(65536), _random.Next(3) == 0 ? 7 : _random.Next(65536), Bytes(_random.Next(0, 1472)));
                    if (_random.Next(2) == 0) { int length = _random.Next(65536); f[38] = (byte)(length >> 8); f[39] = (byte)length; Frames.FixTransport(f); }
                    break;
                case 7:
                    kind = "icmp";
                    f = Frames.Ipv4(GatewayMac, to, SomeIp(), GuestIp, 1, _random.Next(0, 600));
                    _random.NextBytes(f.AsSpan(34));
                    if (f.Length > 34 && _random.Next(2) == 0) f[34] = (byte)new[] { 0, 3, 8, 11, 5 }[_random.Next(5)];
                    Frames.FixTransport(f);
                    break;
                default:
                    kind = "tcp";
                    f = Frames.Tcp(GatewayMac, to, SomeIp(), GuestIp, _random.Next(65536), _random.Next(3) == 0 ? 7 : _random.Next(65536),
                        (uint)_random.NextInt64(1L << 32), (uint)_random.NextInt64(1L << 32), _random.Next(256),
                        Bytes(4 * _random.Next(0, 11)), Bytes(_random.Next(0, 1400)));
                    if (_random.Next(2) == 0) { f[46] = (byte)(_random.Next(16) << 4); Frames.FixTransport(f); } // the data offset lies
                    break;
            }
            // Damage: a few bytes changed, sometimes the checksums made right again, sometimes cut short.
            int hits = _random.Next(0, 4);
            for (int i = 0; i < hits && f.Length > 14; i++) f[_random.Next(14, f.Length)] ^= (byte)(1 + _random.Next(255));
            if (hits > 0 && _random.Next(2) == 0) Frames.FixTransport(f);
            if (_random.Next(6) == 0 && f.Length > MinimumFrame) f = f.AsSpan(0, _random.Next(MinimumFrame, f.Length + 1)).ToArray();
            return f;
        }
    }
}
