// Reading what QEMU saw on the wire (./aegis run --pcap FILE: QEMU's filter-dump of the network
// card's netdev, both directions): the host's own record of every frame, so a network test's
// verdict can be an observation rather than the guest's word. The classic pcap format: a 24-byte
// file header (magic 0xa1b2c3d4, little-endian here), then per frame a 16-byte record header
// (seconds, microseconds, captured length, original length) and the bytes.
namespace Aegis.Tests.Boot;

public static class Pcap
{
    public static List<byte[]> ReadFrames(string file)
    {
        byte[] bytes = File.ReadAllBytes(file);
        var frames = new List<byte[]>();
        if (bytes.Length < 24 || BitConverter.ToUInt32(bytes, 0) != 0xA1B2C3D4)
            throw new InvalidDataException($"{file} is not a little-endian pcap file");
        int at = 24;
        while (at + 16 <= bytes.Length)
        {
            int captured = (int)BitConverter.ToUInt32(bytes, at + 8);
            if (captured < 0 || at + 16 + captured > bytes.Length) break; // the last record cut short
            frames.Add(bytes.AsSpan(at + 16, captured).ToArray());
            at += 16 + captured;
        }
        return frames;
    }

    public static int U16(byte[] f, int at) => f[at] << 8 | f[at + 1];

    public static bool IsIpv4(byte[] f) => f.Length >= 34 && U16(f, 12) == 0x0800 && (f[14] >> 4) == 4;

    public static string Ip(byte[] f, int at) => $"{f[at]}.{f[at + 1]}.{f[at + 2]}.{f[at + 3]}";

    /// <summary>The IPv4 transport header's offset in the frame.</summary>
    public static int Transport(byte[] f) => 14 + (f[14] & 15) * 4;

    /// <summary>ICMP echo messages (type 8 request, 0 reply) from 'source' to 'destination': their sequence numbers.</summary>
    public static List<int> IcmpEchoes(List<byte[]> frames, int type, string source, string destination)
    {
        var sequences = new List<int>();
        foreach (byte[] f in frames)
        {
            if (!IsIpv4(f) || f[23] != 1 || Ip(f, 26) != source || Ip(f, 30) != destination) continue;
            int t = Transport(f);
            if (f.Length >= t + 8 && f[t] == type) sequences.Add(U16(f, t + 6));
        }
        return sequences;
    }

    /// <summary>UDP datagrams to destination port 'port'.</summary>
    public static int UdpTo(List<byte[]> frames, int port)
    {
        int n = 0;
        foreach (byte[] f in frames)
            if (IsIpv4(f) && f[23] == 17 && f.Length >= Transport(f) + 8 && U16(f, Transport(f) + 2) == port) n++;
        return n;
    }

    /// <summary>DHCP messages (UDP 67/68) of message type 'type' (option 53: 1 DISCOVER, 2 OFFER, 3 REQUEST, 5 ACK).</summary>
    public static int Dhcp(List<byte[]> frames, int type)
    {
        int n = 0;
        foreach (byte[] f in frames)
        {
            if (!IsIpv4(f) || f[23] != 17) continue;
            int u = Transport(f);
            if (f.Length < u + 8 + 240 || (U16(f, u) != 67 && U16(f, u) != 68)) continue;
            for (int o = u + 8 + 240; o + 2 < f.Length && f[o] != 255; o += f[o] == 0 ? 1 : 2 + f[o + 1])
                if (f[o] == 53 && f[o + 1] == 1 && f[o + 2] == type) { n++; break; }
        }
        return n;
    }

    /// <summary>Whether f is a TCP segment to or from 'port': where its header starts (t), whether it
    /// goes to the port (inbound), and the other end's port (peer).</summary>
    private static bool TcpOfPort(byte[] f, int port, out int t, out bool inbound, out int peer)
    {
        t = 0; inbound = false; peer = 0;
        if (!IsIpv4(f) || f[23] != 6) return false;
        t = Transport(f);
        if (f.Length < t + 20) return false;
        int source = U16(f, t), destination = U16(f, t + 2);
        inbound = destination == port;
        peer = inbound ? source : destination;
        return inbound || source == port;
    }

    /// <summary>One line per TCP connection to 'port' (by the peer's port), for a failed test's
    /// message: SYNs, SYN-ACKs, segments carrying data and their bytes each way, FINs and RSTs;
    /// only the connections 'show' picks (given the bytes the server sent).</summary>
    public static string TcpConnectionSummary(List<byte[]> frames, int port, Func<long, bool> show)
    {
        var table = new SortedDictionary<int, long[]>(); // syn, synack, in segs, in bytes, out segs, out bytes, fin in, fin out, rst in, rst out
        foreach (byte[] f in frames)
        {
            if (!TcpOfPort(f, port, out int t, out bool inbound, out int peer)) continue;
            if (!table.TryGetValue(peer, out long[] c)) table[peer] = c = new long[10];
            int flags = f[t + 13];
            int payload = 14 + U16(f, 16) - t - (f[t + 12] >> 4) * 4;
            if ((flags & 2) != 0) c[inbound ? 0 : 1]++;
            if (payload > 0) { c[inbound ? 2 : 4]++; c[inbound ? 3 : 5] += payload; }
            if ((flags & 1) != 0) c[inbound ? 6 : 7]++;
            if ((flags & 4) != 0) c[inbound ? 8 : 9]++;
        }
        var text = new System.Text.StringBuilder();
        text.AppendLine($"the wire: {frames.Count} frames, {table.Count} connections to port {port}");
        foreach ((int peer, long[] c) in table)
        {
            if (!show(c[5])) continue;
            text.AppendLine($"  peer port {peer}: SYN {c[0]}, SYN-ACK {c[1]}; in {c[2]} segments {c[3]} bytes; out {c[4]} segments {c[5]} bytes; FIN {c[6]}/{c[7]}; RST {c[8]}/{c[9]}");
        }
        return text.ToString();
    }

    /// <summary>Every segment of the last 'count' TCP connections to 'port' (in the order of their
    /// first frame), one line each, for a failed test's message: the frame's number, which way
    /// ('>' to the port), the flags, sequence and acknowledgment numbers relative to each side's
    /// first, the data's length, and the IPv4 identification (each stack of the guest counts its own,
    /// so it tells which one sent a segment).</summary>
    public static string TcpConversations(List<byte[]> frames, int port, int count)
    {
        // A conversation per connection: a peer's SYN with a new sequence number starts one (the
        // user network reuses its ports).
        var conversations = new List<(int Peer, List<string> Lines)>();
        var current = new Dictionary<int, int>();
        var synOf = new Dictionary<int, uint>();
        var firstIn = new Dictionary<int, uint>();
        var firstOut = new Dictionary<int, uint>();
        for (int i = 0; i < frames.Count; i++)
        {
            byte[] f = frames[i];
            if (!TcpOfPort(f, port, out int t, out bool inbound, out int peer)) continue;
            uint seq = (uint)(f[t + 4] << 24 | f[t + 5] << 16 | f[t + 6] << 8 | f[t + 7]);
            uint ack = (uint)(f[t + 8] << 24 | f[t + 9] << 16 | f[t + 10] << 8 | f[t + 11]);
            int flags = f[t + 13];
            bool newSyn = inbound && (flags & 0x12) == 0x02 && (!synOf.TryGetValue(peer, out uint known) || known != seq);
            if (newSyn || !current.ContainsKey(peer))
            {
                current[peer] = conversations.Count;
                conversations.Add((peer, new List<string>()));
                firstIn.Remove(peer);
                firstOut.Remove(peer);
                if (newSyn) synOf[peer] = seq;
            }
            Dictionary<int, uint> mine = inbound ? firstIn : firstOut, theirs = inbound ? firstOut : firstIn;
            if (!mine.ContainsKey(peer)) mine[peer] = seq;
            string names = ((flags & 2) != 0 ? "S" : "") + ((flags & 16) != 0 ? "A" : "") + ((flags & 8) != 0 ? "P" : "") + ((flags & 1) != 0 ? "F" : "") + ((flags & 4) != 0 ? "R" : "");
            int payload = 14 + U16(f, 16) - t - (f[t + 12] >> 4) * 4;
            string ackText = (flags & 16) == 0 ? "-" : theirs.TryGetValue(peer, out uint other) ? (ack - other).ToString() : ack.ToString();
            conversations[current[peer]].Lines.Add($"    #{i + 1} {(inbound ? ">" : "<")} {names} seq {seq - mine[peer]} ack {ackText} len {payload} id {U16(f, 18)}");
        }
        var text = new System.Text.StringBuilder();
        for (int k = System.Math.Max(0, conversations.Count - count); k < conversations.Count; k++)
        {
            text.AppendLine($"  peer port {conversations[k].Peer}:");
            foreach (string line in conversations[k].Lines) text.AppendLine(line);
        }
        return text.ToString();
    }

    /// <summary>What the wire shows of the data a TCP server on 'port' sent: 'Holes', segments
    /// that began past everything sent before them on their connection (something in between
    /// never reached the wire), and 'Resends', segments whose data had all been sent before. A
    /// stack that drops what it sends (the lossy-link switch) shows both; a clean link neither.</summary>
    public static (int Holes, int Resends) TcpServerSendGaps(List<byte[]> frames, int port)
    {
        var highest = new Dictionary<int, uint>(); // by peer port: the end of the data sent so far
        int holes = 0, resends = 0;
        foreach (byte[] f in frames)
        {
            if (!IsIpv4(f) || f[23] != 6) continue;
            int t = Transport(f);
            if (f.Length < t + 20 || U16(f, t) != port) continue;
            int peer = U16(f, t + 2);
            int flags = f[t + 13];
            uint sequence = (uint)(f[t + 4] << 24 | f[t + 5] << 16 | f[t + 6] << 8 | f[t + 7]);
            int payload = 14 + U16(f, 16) - t - (f[t + 12] >> 4) * 4;
            if ((flags & 2) != 0) { highest[peer] = sequence + 1; continue; } // SYN-ACK: the data starts after it
            if (payload <= 0 || !highest.TryGetValue(peer, out uint end)) continue;
            uint last = sequence + (uint)payload;
            if ((int)(sequence - end) > 0) holes++;
            else if ((int)(last - end) <= 0) resends++;
            if ((int)(last - end) > 0) highest[peer] = last;
        }
        return (holes, resends);
    }

    /// <summary>The SYNs (without ACK) that reached a TCP server on 'port', and the peer ports they came from.</summary>
    public static (int Syns, HashSet<int> Peers) TcpSynsTo(List<byte[]> frames, int port)
    {
        int syns = 0;
        var peers = new HashSet<int>();
        foreach (byte[] f in frames)
        {
            if (!IsIpv4(f) || f[23] != 6) continue;
            int t = Transport(f);
            if (f.Length < t + 20 || U16(f, t + 2) != port || (f[t + 13] & 0x12) != 0x02) continue;
            syns++;
            peers.Add(U16(f, t));
        }
        return (syns, peers);
    }
}
