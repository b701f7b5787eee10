// Handing a live TCP connection from one stack to another (TcpConnection.HandOver,
// Tcp.TakeOver; docs/network.md, "Handing a connection over"): the peer must see one
// connection, every byte once and in order, whatever was in flight; a record that is not one
// HandOver wrote must be refused or, if taken, must never break the stack that took it.
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.TcpTestKit;

namespace Aegis.Tests.Host;

public class NetTcpHandoverTests
{
    /// <summary>The server's connection moves to a new stack (the same address: the network now
    /// delivers to it) and the old one is left dead and empty.</summary>
    private static TcpConnection Move(SimNet net, ref SimHost server, TcpConnection connection, ulong seed)
    {
        var record = new byte[connection.HandoverBytes];
        Assert.That(connection.HandOver(record, net.Now), Is.EqualTo(record.Length), "the record's length");
        SimHost old = server;
        Assert.That(old.Tcp.ConnectionCount, Is.EqualTo(0), "the old stack keeps nothing");
        Assert.That(old.Tcp.TimeWaitCount, Is.EqualTo(0));
        Assert.That(connection.Send(new byte[1], net.Now), Is.EqualTo(-(int)TcpError.NotConnected), "the old object is dead");
        server = net.AddHost(ServerAddress, seed);
        TcpConnection taken = server.Tcp.TakeOver(record, net.Now, out TcpError error);
        Assert.That(error, Is.EqualTo(TcpError.None));
        Assert.That(taken, Is.Not.Null);
        Assert.That(server.Tcp.Counters.TakenOver, Is.EqualTo(1));
        return taken;
    }

    /// <summary>Both ways at once: bytes from each side to the other, each side reading what
    /// comes; <paramref name="between"/> runs at each step and may replace the server's end.</summary>
    private static (byte[] atClient, byte[] atServer) Exchange(SimNet net, TcpConnection client, Func<TcpConnection> server,
        byte[] toClient, byte[] toServer, long limitMicros, Action between)
    {
        int sentToClient = 0, sentToServer = 0;
        var atClient = new MemoryStream();
        var atServer = new MemoryStream();
        var buffer = new byte[8192];
        net.RunUntil(() =>
        {
            between();
            TcpConnection s = server();
            while (sentToClient < toClient.Length)
            {
                int n = s.Send(toClient.AsSpan(sentToClient, Math.Min(5000, toClient.Length - sentToClient)), net.Now);
                if (n <= 0) break;
                sentToClient += n;
            }
            while (sentToServer < toServer.Length)
            {
                int n = client.Send(toServer.AsSpan(sentToServer, Math.Min(3000, toServer.Length - sentToServer)), net.Now);
                if (n <= 0) break;
                sentToServer += n;
            }
            for (int n; (n = client.Receive(buffer, net.Now)) > 0;) atClient.Write(buffer, 0, n);
            // The server reads slowly, so bytes wait in its queue when it moves.
            int m = s.Receive(buffer.AsSpan(0, 700), net.Now);
            if (m > 0) atServer.Write(buffer, 0, m);
            return atClient.Length == toClient.Length && atServer.Length == toServer.Length;
        }, limitMicros);
        return (atClient.ToArray(), atServer.ToArray());
    }

    [Test]
    public void AConnectionHandedToAnotherStackMidTransferCarriesEveryByteBothWays()
    {
        var (net, ch, sh) = Pair(3);
        net.BytesPerSecond = 10_000_000 / 8;
        net.LossRate = 0.02;
        net.ReorderRate = 0.05;
        var (c, s, _) = Connect(net, ch, sh);
        var toClient = Pattern(1_500_000, 31);
        var toServer = Pattern(400_000, 32);
        SimHost server = sh;
        TcpConnection current = s;
        int moves = 0;
        long nextMove = net.Now + 150_000;
        var (atClient, atServer) = Exchange(net, c, () => current, toClient, toServer, 120_000_000, () =>
        {
            // Three moves, each with segments in flight, unacknowledged and queued.
            if (moves < 3 && net.Now >= nextMove && current.State == TcpState.Established)
            {
                Assert.That(current.SendQueued, Is.GreaterThan(0), "bytes queued when it moves");
                current = Move(net, ref server, current, 0xAB00UL + (ulong)moves);
                moves++;
                nextMove = net.Now + 150_000;
            }
        });
        Assert.That(moves, Is.EqualTo(3));
        Assert.That(atClient, Is.EqualTo(toClient), "the server's bytes, through three stacks");
        Assert.That(atServer, Is.EqualTo(toServer), "the client's bytes, read by three stacks");
        Assert.That(c.State, Is.EqualTo(TcpState.Established));
        Assert.That(ch.Tcp.Counters.ResetsReceived + ch.Tcp.Counters.ResetsSent, Is.EqualTo(0), "the peer never saw a reset");
        TestContext.Out.WriteLine($"{net.Now / 1000} ms virtual, lost {net.Lost} of {net.Sent}");
    }

    [Test]
    public void AHandoverKeepsUnacknowledgedBytesAndTheNewStackRetransmitsThem()
    {
        var (net, ch, sh) = Pair(4);
        var (c, s, _) = Connect(net, ch, sh);
        var data = Pattern(20_000, 41);
        net.Down = true; // everything the old stack sends is lost
        Assert.That(s.Send(data, net.Now), Is.EqualTo(data.Length));
        Assert.That(s.SendNext - s.SendUnacknowledged, Is.GreaterThan(0u), "bytes sent, never acknowledged");
        SimHost server = sh;
        TcpConnection moved = Move(net, ref server, s, 0x4242);
        net.Down = false;
        Assert.That(net.RunUntil(() => c.ReceiveAvailable == data.Length, 30_000_000), Is.True, "the bytes arrive");
        Assert.That(Drain(c, net.Now), Is.EqualTo(data));
        Assert.That(net.RunUntil(() => moved.SendQueued == 0, 5_000_000), Is.True, "all acknowledged");
        Assert.That(server.Tcp.Counters.RetransmissionTimeouts, Is.GreaterThan(0), "the new stack's retransmission timer sent them");
    }

    /// <summary>A lent listener's port given back (or a loan undone): frames of the port that
    /// reached this stack's ring before the filter moved belong to the stack that has the port now.
    /// nginx's reload lost requests to them (a SYN reset because the twin was gone, the ACK of the
    /// server's own handshake reset): for MovedQuietMicros each such segment goes to MovedSegment,
    /// or is dropped quietly without one, before a listener still here sees it; a connection
    /// still here keeps its own; a new loan (ForgetMovedPort) or the time's end makes the port's
    /// segments this stack's again.</summary>
    [Test]
    public void SegmentsToAPortWhoseFramesMovedLatelyGoToTheMovedSegmentHookNotToAListenerOrAReset()
    {
        var (net, ch, sh) = Pair(9);
        var (c, s, listener) = Connect(net, ch, sh, 8080);
        net.Log = new List<SimPacket>();
        var forwarded = new List<byte[]>();
        sh.Tcp.MovedSegment = (source, destination, segment) => forwarded.Add(segment.ToArray());
        sh.Tcp.RememberMovedPort(ServerAddress, 8080, net.Now);
        byte[] syn = Segment(ClientAddress, ServerAddress, 40001, 8080, 1000, 0, TcpSegment.Syn, 65535, mss: 1460);
        byte[] strayAck = Segment(ClientAddress, ServerAddress, 40002, 8080, 2000, 3000, TcpSegment.Ack, 65535);
        sh.Tcp.Receive(ClientAddress, ServerAddress, syn, net.Now);
        sh.Tcp.Receive(ClientAddress, ServerAddress, strayAck, net.Now);
        Assert.That(forwarded, Has.Count.EqualTo(2), "both given to the hook");
        Assert.That(forwarded[0], Is.EqualTo(syn).AsCollection);
        Assert.That(sh.Tcp.Counters.ForwardedForMovedPort, Is.EqualTo(2));
        Assert.That(net.Log.Where(p => p.From == sh), Is.Empty, "neither a SYN-ACK from the listener still here nor a reset");
        Assert.That(listener.Accept(out _), Is.Null);

        // The established connection on the port is still this stack's.
        Assert.That(c.Send(new byte[] { 7 }, net.Now), Is.EqualTo(1));
        Assert.That(net.RunUntil(() => s.ReceiveAvailable == 1, 2_000_000), Is.True, "a connection still here gets its segments");
        Assert.That(forwarded, Has.Count.EqualTo(2));

        // Without a hook: dropped, quietly.
        sh.Tcp.MovedSegment = null;
        sh.Tcp.Receive(ClientAddress, ServerAddress, strayAck, net.Now);
        Assert.That(sh.Tcp.Counters.DroppedForMovedPort, Is.EqualTo(1));
        Assert.That(net.Log.Where(p => p.From == sh && p.Segment.HasRst), Is.Empty);

        // The port lent again: its SYNs are this stack's listener's.
        sh.Tcp.ForgetMovedPort(ServerAddress, 8080);
        int before = net.Log.Count(p => p.From == sh && p.Segment.HasSyn);
        sh.Tcp.Receive(ClientAddress, ServerAddress, syn, net.Now);
        Assert.That(net.Log.Count(p => p.From == sh && p.Segment.HasSyn), Is.EqualTo(before + 1), "the listener answered");

        // Another port, and the time's end: as any stack.
        sh.Tcp.RememberMovedPort(ServerAddress, 8081, net.Now);
        sh.Tcp.Receive(ClientAddress, ServerAddress, strayAck, net.Now);
        Assert.That(net.Log.Count(p => p.From == sh && p.Segment.HasRst), Is.EqualTo(1), "8080 is no longer moved: reset");
        byte[] strayOther = Segment(ClientAddress, ServerAddress, 40003, 8081, 2000, 3000, TcpSegment.Ack, 65535);
        sh.Tcp.Receive(ClientAddress, ServerAddress, strayOther, net.Now + sh.Tcp.MovedQuietMicros + 1);
        Assert.That(net.Log.Count(p => p.From == sh && p.Segment.HasRst), Is.EqualTo(2), "after MovedQuietMicros: reset");
        Assert.That(sh.Tcp.Counters.DroppedForMovedPort, Is.EqualTo(1));
    }

    [Test]
    public void TheStackThatHandedAConnectionOverDropsItsLateSegmentsWithoutAReset()
    {
        // Frames already on their way to the old stack when the connection's filter moved must
        // not be answered with a reset (that would kill the connection the new stack runs); after
        // MovedQuietMicros the old stack answers a stray segment as any stack does.
        var (net, ch, sh) = Pair(8);
        var (c, s, _) = Connect(net, ch, sh);
        net.Log = new List<SimPacket>();
        SimHost old = sh, server = sh;
        TcpConnection moved = Move(net, ref server, s, 0x8888);
        byte[] late = Segment(ClientAddress, ServerAddress, c.LocalPort, 80, c.SendNext, c.ReceiveNext, TcpSegment.Ack | TcpSegment.Psh, 65535, new byte[] { 1, 2, 3 });
        old.Tcp.Receive(ClientAddress, ServerAddress, late, net.Now);
        Assert.That(old.Tcp.Counters.DroppedForMovedConnection, Is.EqualTo(1));
        Assert.That(net.Log.Where(p => p.From == old && p.Segment.HasRst), Is.Empty, "no reset for a segment of the moved connection");
        old.Tcp.Receive(ClientAddress, ServerAddress, late, net.Now + old.Tcp.MovedQuietMicros + 1);
        Assert.That(net.Log.Count(p => p.From == old && p.Segment.HasRst), Is.EqualTo(1), "later, a stray segment is reset as usual");
        // Taken back, the connection is the old stack's again and its segments are its own.
        var record = new byte[moved.HandoverBytes];
        Assert.That(moved.HandOver(record, net.Now), Is.EqualTo(record.Length));
        Assert.That(old.Tcp.TakeOver(record, net.Now, out TcpError error), Is.Not.Null);
        Assert.That(error, Is.EqualTo(TcpError.None));
    }

    [Test]
    public void ClosingConnectionsHandOverAndFinishTheirClose()
    {
        // The server's side in CLOSE_WAIT moves, then closes from the new stack (LAST_ACK);
        // the client's side, in TIME_WAIT, moves and ends at its deadline in the new stack.
        var (net, ch, sh) = Pair(5);
        var (c, s, _) = Connect(net, ch, sh);
        var data = Pattern(3000, 51);
        Assert.That(c.Send(data, net.Now), Is.EqualTo(data.Length));
        c.Close(net.Now);
        Assert.That(net.RunUntil(() => s.State == TcpState.CloseWait && c.State == TcpState.FinWait2, 5_000_000), Is.True);
        SimHost server = sh;
        TcpConnection moved = Move(net, ref server, s, 0x5151);
        Assert.That(moved.State, Is.EqualTo(TcpState.CloseWait));
        Assert.That(Drain(moved, net.Now), Is.EqualTo(data), "the unread bytes came along");
        Assert.That(moved.Receive(new byte[1], net.Now), Is.EqualTo(0), "then the end of the stream");
        moved.Close(net.Now);
        Assert.That(net.RunUntil(() => moved.State == TcpState.Closed && c.State == TcpState.TimeWait, 5_000_000), Is.True, "LAST_ACK ends");

        // Now the client's TIME_WAIT moves (its stack keeps none, the new one one) and ends on time.
        long deadline = net.Now + 2 * ch.Tcp.MslMicros;
        var record = new byte[c.HandoverBytes];
        Assert.That(c.HandOver(record, net.Now), Is.EqualTo(record.Length));
        Assert.That(ch.Tcp.TimeWaitCount, Is.EqualTo(0));
        var other = new SimNet(9).AddHost(ClientAddress, 77);
        TcpConnection waiting = other.Tcp.TakeOver(record, net.Now, out TcpError error);
        Assert.That(error, Is.EqualTo(TcpError.None));
        Assert.That(waiting.State, Is.EqualTo(TcpState.TimeWait));
        Assert.That(other.Tcp.TimeWaitCount, Is.EqualTo(1));
        Assert.That(other.Tcp.NextDeadlineMicros, Is.LessThanOrEqualTo(deadline));
        other.Tcp.Poll(deadline);
        Assert.That(other.Tcp.TimeWaitCount, Is.EqualTo(0), "TIME_WAIT ended at its deadline");
        Assert.That(waiting.State, Is.EqualTo(TcpState.Closed));
    }

    [Test]
    public void OnlyAnAcceptedSynchronizedConnectionHandsOverAndAShortBufferChangesNothing()
    {
        var (net, ch, sh) = Pair(6);
        var listener = sh.Tcp.CreateListener();
        Assert.That(listener.Listen(Ipv4Address.Any, 80, 8), Is.EqualTo(TcpError.None));
        var c = ch.Tcp.CreateConnection();
        Assert.That(c.Connect(ServerAddress, 80, net.Now), Is.EqualTo(TcpError.InProgress));
        var big = new byte[4096];
        Assert.That(c.HandOver(big, net.Now), Is.EqualTo(-(int)TcpError.InvalidArgument), "SYN_SENT");
        Assert.That(net.RunUntil(() => listener.Pending == 1 && c.State == TcpState.Established, 5_000_000), Is.True);
        TcpConnection s = listener.Accept(out _);
        Assert.That(s, Is.Not.Null);
        Assert.That(c.HandOver(new byte[100], net.Now), Is.EqualTo(-(int)TcpError.NoBufferSpace));
        Assert.That(c.State, Is.EqualTo(TcpState.Established), "a refused handover leaves the connection as it was");
        var data = Pattern(5000, 61);
        Assert.That(c.Send(data, net.Now), Is.EqualTo(data.Length));
        Assert.That(net.RunUntil(() => s.ReceiveAvailable == data.Length, 5_000_000), Is.True);
        Assert.That(Drain(s, net.Now), Is.EqualTo(data));
        var closed = ch.Tcp.CreateConnection();
        Assert.That(closed.HandOver(big, net.Now), Is.EqualTo(-(int)TcpError.InvalidArgument), "never connected");
    }

    [Test]
    public void ARecordForAConnectionTheStackHasIsRefusedWithAddressInUse()
    {
        var (net, ch, sh) = Pair(7);
        var (c, s, _) = Connect(net, ch, sh);
        var record = new byte[s.HandoverBytes];
        Assert.That(s.HandOver(record, net.Now), Is.GreaterThan(0));
        var other = new SimNet(3).AddHost(ServerAddress, 99);
        Assert.That(other.Tcp.TakeOver(record, net.Now, out TcpError first), Is.Not.Null);
        Assert.That(first, Is.EqualTo(TcpError.None));
        Assert.That(other.Tcp.TakeOver(record, net.Now, out TcpError second), Is.Null);
        Assert.That(second, Is.EqualTo(TcpError.AddressInUse));
        Assert.That(other.Tcp.ConnectionCount, Is.EqualTo(1));
    }

    [Test]
    public void HandoverRecordsThatAreNotWhatHandOverWroteNeverBreakTheStackThatReadsThem()
    {
        // Records from another environment may be anything. Each of 3,000 mutations of real
        // records (bytes changed, fields set to edge values, cut or lengthened) is refused or,
        // when taken, the connection then lives through random segments from the peer, timers,
        // sends, receives and closes without an exception.
        var random = new Random(1234);
        var records = new List<byte[]>();
        foreach (int seed in new[] { 11, 12, 13 })
        {
            var (net, ch, sh) = Pair(seed);
            var (c, s, _) = Connect(net, ch, sh);
            c.Send(Pattern(30_000, seed), net.Now);
            s.Send(Pattern(50_000, seed + 1), net.Now);
            net.Run(3_000);
            if (seed == 13) { c.Shutdown(false, true, net.Now); net.Run(1_000); } // CLOSE_WAIT
            var r = new byte[s.HandoverBytes];
            Assert.That(s.HandOver(r, net.Now), Is.EqualTo(r.Length), $"seed {seed}: {s.State}");
            records.Add(r);
        }
        int taken = 0, refused = 0;
        for (int round = 0; round < 3000; round++)
        {
            byte[] record = (byte[])records[random.Next(records.Count)].Clone();
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits; e++)
            {
                switch (random.Next(5))
                {
                    case 0: record[random.Next(record.Length)] ^= (byte)(1 + random.Next(255)); break;
                    case 1:
                    {
                        // A 32-bit field of the fixed part set to an edge value.
                        int at = random.Next(TcpConnection.HandoverHeaderBytes / 4) * 4;
                        uint[] edges = { 0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 65535, 65536, 14, 15 };
                        uint v = edges[random.Next(edges.Length)];
                        record[at] = (byte)(v >> 24); record[at + 1] = (byte)(v >> 16); record[at + 2] = (byte)(v >> 8); record[at + 3] = (byte)v;
                        break;
                    }
                    case 2: Array.Resize(ref record, random.Next(record.Length + 1)); break;
                    case 3: Array.Resize(ref record, record.Length + 1 + random.Next(64)); break;
                    default:
                    {
                        // A field moved by a small amount: sequence numbers just out of line.
                        int at = 64 + random.Next(64) * 4;
                        if (at + 4 <= record.Length) record[at + 3] += (byte)(random.Next(2) == 0 ? 1 : 255);
                        break;
                    }
                }
            }
            var net = new SimNet(round);
            SimHost host = net.AddHost(ServerAddress, (ulong)round + 1);
            TcpConnection c = host.Tcp.TakeOver(record, 0, out TcpError error);
            if (c == null)
            {
                Assert.That(error, Is.EqualTo(TcpError.InvalidArgument));
                refused++;
                continue;
            }
            taken++;
            var buffer = new byte[4096];
            for (int step = 0; step < 40; step++)
            {
                net.Now += random.Next(300_000);
                host.Tcp.Poll(net.Now);
                byte flags = (byte)(random.Next(2) == 0 ? TcpSegment.Ack : random.Next(64));
                uint seq = c.ReceiveNext + (uint)(random.Next(3) == 0 ? random.Next() : random.Next(5000) - 2500);
                uint ack = c.SendUnacknowledged + (uint)(random.Next(3) == 0 ? random.Next() : random.Next(70_000) - 5000);
                byte[] payload = Pattern(random.Next(3) == 0 ? 0 : random.Next(1460), round * 100 + step);
                net.Inject(c.RemoteAddress, ServerAddress, Segment(c.RemoteAddress, ServerAddress, c.RemotePort, c.LocalPort, seq, ack, flags,
                    random.Next(65536), payload));
                c.Receive(buffer, net.Now, peek: random.Next(4) == 0);
                c.Send(payload, net.Now);
                if (random.Next(30) == 0) c.Close(net.Now);
                if (random.Next(60) == 0) c.Shutdown(random.Next(2) == 0, true, net.Now);
            }
        }
        TestContext.Out.WriteLine($"taken {taken}, refused {refused}");
        Assert.That(refused, Is.GreaterThan(1000), "most mutations are caught");
        Assert.That(taken, Is.GreaterThan(100), "and the ones that pass (data bytes, times, windows) were exercised");
    }
}
