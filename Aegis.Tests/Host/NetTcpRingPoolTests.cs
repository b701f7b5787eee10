// The stack's spare rings (TcpRingPool; docs/network.md, "Rings kept for the next connection"):
// a connection a request takes the rings an ended connection gave back, allocates no 128 KiB
// receive ring or 16 KiB send ring, and never sees another connection's bytes.
using System;
using System.Linq;
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.TcpTestKit;

namespace Aegis.Tests.Host;

public class NetTcpRingPoolTests
{
    /// <summary>One request (the client's 'request' bytes) and its answer on a new connection, both
    /// sides closed; returns (what the server read, what the client read).</summary>
    private static (byte[] request, byte[] answer) OneExchange(SimNet net, SimHost client, TcpListener listener, byte[] request, byte[] answer)
    {
        var c = client.Tcp.CreateConnection();
        Assert.That(c.Connect(ServerAddress, 80, net.Now), Is.EqualTo(TcpError.InProgress));
        TcpConnection s = null;
        Assert.That(net.RunUntil(() => (s ??= listener.Accept(out _)) != null && c.State == TcpState.Established, 1_000_000), Is.True, "handshake");
        byte[] gotRequest = Transfer(net, c, s, request, 5_000_000, closeAfter: false, readChunk: 2048);
        byte[] gotAnswer = Transfer(net, s, c, answer, 5_000_000, closeAfter: true, readChunk: 2048);
        c.Close(net.Now);
        s.Close(net.Now);
        net.Run(200_000);
        return (gotRequest, gotAnswer);
    }

    [Test]
    public void AConnectionARequestTakesTheRingsAnEndedConnectionGaveBack()
    {
        var (net, ch, sh) = Pair();
        var l = sh.Tcp.CreateListener();
        Assert.That(l.Listen(Ipv4Address.Any, 80, 16), Is.EqualTo(TcpError.None));
        // The first connection fills its rings with a large request and answer; the next ones
        // send little, so any of the first one's bytes they read would show.
        byte[] bigRequest = Pattern(60_000, 1), bigAnswer = Pattern(100_000, 2);
        var (r0, a0) = OneExchange(net, ch, l, bigRequest, bigAnswer);
        Assert.That(r0, Is.EqualTo(bigRequest));
        Assert.That(a0, Is.EqualTo(bigAnswer));
        long reusedBefore = sh.Tcp.Counters.RingsReused;
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        const int Connections = 20;
        for (int i = 0; i < Connections; i++)
        {
            byte[] request = Pattern(10 + i, 100 + i), answer = Pattern(1000 + i, 200 + i);
            var (r, a) = OneExchange(net, ch, l, request, answer);
            Assert.That(r, Is.EqualTo(request), $"connection {i}: the server read another connection's bytes");
            Assert.That(a, Is.EqualTo(answer), $"connection {i}: the client read another connection's bytes");
        }
        long perConnection = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / Connections;
        TestContext.Out.WriteLine($"allocated a connection: {perConnection} bytes; rings reused: server {sh.Tcp.Counters.RingsReused}, client {ch.Tcp.Counters.RingsReused}");
        // Each connection ends before the next starts: both of the server's rings come from the
        // pool, but the first one's send ring (the big answer's had grown past the pool's length,
        // so it was not kept).
        Assert.That(sh.Tcp.Counters.RingsReused - reusedBefore, Is.EqualTo(2 * Connections - 1), "the server's rings were reused");
        Assert.That(ch.Tcp.Counters.RingsReused, Is.GreaterThanOrEqualTo(2 * Connections - 1), "the client's rings were reused");
        // Without the pool both stacks allocate 2 x (128 + 16) KiB of rings a connection more: 417,561
        // bytes a connection measured so, 124,193 with it (the rest is the simulated network's
        // frames and the test's own buffers).
        Assert.That(perConnection, Is.LessThan(192 * 1024), "bytes allocated a connection, both stacks and the test's own");
    }

    [Test]
    public void ConnectionsAliveTogetherNeverShareARing()
    {
        var (net, ch, sh) = Pair();
        var l = sh.Tcp.CreateListener();
        Assert.That(l.Listen(Ipv4Address.Any, 80, 64), Is.EqualTo(TcpError.None));
        // Fill the pools: 12 connections that end (more than the pool keeps).
        for (int i = 0; i < 12; i++) OneExchange(net, ch, l, Pattern(100, i), Pattern(100, 50 + i));
        // Now 12 at once, each sending its own bytes both ways before any reads.
        var pairs = Enumerable.Range(0, 12).Select(_ =>
        {
            var c = ch.Tcp.CreateConnection();
            c.Connect(ServerAddress, 80, net.Now);
            return c;
        }).ToList();
        var servers = new TcpConnection[12];
        int accepted = 0;
        Assert.That(net.RunUntil(() =>
        {
            TcpConnection s;
            while (accepted < 12 && (s = l.Accept(out _)) != null) servers[accepted++] = s;
            return accepted == 12 && pairs.All(c => c.State == TcpState.Established);
        }, 2_000_000), Is.True, "12 handshakes");
        // Servers are matched to clients by port.
        var byPort = servers.ToDictionary(s => s.RemotePort);
        for (int i = 0; i < 12; i++)
        {
            pairs[i].Send(Pattern(3000, 300 + i), net.Now);
            byPort[pairs[i].LocalPort].Send(Pattern(5000, 400 + i), net.Now);
        }
        net.Run(500_000);
        for (int i = 0; i < 12; i++)
        {
            Assert.That(Drain(byPort[pairs[i].LocalPort], net.Now), Is.EqualTo(Pattern(3000, 300 + i)), $"server side of connection {i}");
            Assert.That(Drain(pairs[i], net.Now), Is.EqualTo(Pattern(5000, 400 + i)), $"client side of connection {i}");
        }
        Assert.That(sh.Tcp.Counters.RingsReused, Is.GreaterThan(0));
    }
}
