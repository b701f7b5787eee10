#nullable enable
// Connections a process runs itself (docs/libos-unixish.md, "Connections run by the process"):
// the file server's half (VfsServer.Handover.cs: Accept with AcceptHere, Adopt) and the client's
// (VfsClient.Accept with here, AdoptRecord, RemoteSocket.Local), on LinuxSocketTests' wire: stack
// A is the server's, B the remote host, and C plays the process's own stack (the same address as
// A; the wire delivers by MAC, so what B sends still reaches A, whose stack drops the moved
// connection's segments quietly). The machine's hooks (the filter NicFilterDelegate gives) are
// fakes that record what they were asked.
using System.Text;
using Aegis.LibOS.Net;
using Aegis.LibOS.Unixish.Linux;
using Aegis.LibOS.Unixish.Linux.Files;
using Aegis.LibOS.Unixish.Linux.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.NetFrames;

namespace Aegis.Tests.Host;

public sealed unsafe partial class LinuxSocketTests
{
    /// <summary>The process's own stack (TakeIntoC takes connections into it); null: refuse.</summary>
    private static InetSockets? s_stackC;
    private static byte[]? s_lastInfo;

    private static Socket? TakeIntoC(byte* record, int length, byte* info, byte* peer)
    {
        s_lastInfo = new ReadOnlySpan<byte>(info, VfsProtocol.HandoverInfoBytes).ToArray();
        if (s_stackC == null) return null;
        TcpConnection? connection = s_stackC.Tcp.TakeOver(new ReadOnlySpan<byte>(record, length), s_stackC.Clock(), out _);
        return connection == null ? null : s_stackC.Adopt(connection);
    }

    private readonly List<(ulong Process, uint Local, int LocalPort, uint Remote, int RemotePort)> _given = new();
    private readonly List<int> _takenBack = new();

    /// <summary>The server gives filters (id 7, 8, ...) and says so; C is the process's stack.</summary>
    private NetStack GiveFiltersAndMakeStackC()
    {
        _given.Clear(); // (one fixture object serves every test)
        _takenBack.Clear();
        _tree.Server.GiveConnection = (ulong process, uint local, int localPort, uint remote, int remotePort, out HandoverRoute route) =>
        {
            _given.Add((process, local, localPort, remote, remotePort));
            route = new HandoverRoute { Address = IpA.Value, Mask = Mask24.Value, Router = IpGateway.Value, NextHopMac = MacB.Value };
            return 6 + _given.Count;
        };
        _tree.Server.TakeFilterBack = id => _takenBack.Add(id);
        NetStack c = _wire.Attach(new MacAddress(0x0200000000CCUL), new NetStackOptions { ArpAnnouncements = 0 });
        c.Configure(IpA, Mask24, IpGateway, 0);
        c.AnswersArpAndPing = false; // as LocalNet's: the machine's ARP is the server's
        c.SendsIcmpErrors = false;
        var tcpC = new Tcp(c, 5, 6);
        c.Register(tcpC);
        s_stackC = new InetSockets(c, tcpC, () => _now);
        VfsClient.TakeHere = &TakeIntoC;
        return c;
    }

    /// <summary>B connects to p's listener on port (a new one unless given) and sends 'first'; p
    /// accepts asking to run it. delivered false: 'first' is still on the wire (the server's ring) at the accept.</summary>
    private (TcpConnection Peer, RemoteSocket Accepted) AcceptHere(SharedProcess p, int port, string first, bool delivered = true, RemoteSocket? listening = null)
    {
        RemoteSocket listener = listening ?? Listening(p, port);
        TcpConnection peer = _tcpB.CreateConnection();
        peer.Options.NoDelay = true;
        Assert.That(peer.Connect(IpA, port, _now), Is.EqualTo(TcpError.InProgress));
        Run();
        Assert.That(peer.State, Is.EqualTo(TcpState.Established));
        Assert.That(peer.Send(Encoding.ASCII.GetBytes(first), _now), Is.EqualTo(first.Length));
        if (delivered) Run();
        byte[] address = new byte[LinuxSocket.AddressBytes];
        RemoteSocket? accepted;
        fixed (byte* q = address)
            Assert.That(p.Client.Accept(listener, LinuxSocket.SOCK_NONBLOCK, q, out _, out accepted, here: true), Is.EqualTo(0));
        return (peer, accepted!);
    }

    private static string ReceiveLocal(Socket socket)
    {
        byte[] buffer = new byte[4096];
        long n;
        fixed (byte* q = buffer) n = socket.Receive(q, buffer.Length, 0, null, out _);
        return n > 0 ? Encoding.ASCII.GetString(buffer, 0, (int)n) : "";
    }

    [Test]
    public void AnAcceptAskingToRunTheConnectionGetsItsRecordAndRouteAndTheServerKeepsNoDescriptor()
    {
        SharedProcess p = _tree.Attach(20);
        GiveFiltersAndMakeStackC();
        var (peer, accepted) = AcceptHere(p, 8081, "sent before the accept");

        Assert.That(accepted.Local, Is.Not.Null, "the connection runs in the process");
        Assert.That(_given, Is.EqualTo(new[] { (20UL, IpA.Value, 8081, IpB.Value, peer.LocalPort) }), "the filter given: to the caller, for the four-tuple");
        fixed (byte* info = s_lastInfo)
        {
            Assert.That(*(uint*)info, Is.EqualTo(IpA.Value), "our address");
            Assert.That(*(uint*)(info + 4), Is.EqualTo(Mask24.Value), "mask");
            Assert.That(*(uint*)(info + 8), Is.EqualTo(IpGateway.Value), "router");
            Assert.That(*(ulong*)(info + 16), Is.EqualTo(MacB.Value), "the next hop's MAC");
        }
        Assert.That(_sockets.Open, Is.EqualTo(1), "the server keeps only the listener");
        Assert.That(_tree.Server.HandedOverCount, Is.EqualTo(1));
        Assert.That(ReceiveLocal(accepted.Local!), Is.EqualTo("sent before the accept"), "the unread bytes came with the record");
        Run();
        Assert.That(peer.State, Is.EqualTo(TcpState.Established), "the peer saw nothing of the move");
        Assert.That(_tcpA.Counters.ResetsSent, Is.Zero, "the server's stack stays quiet about the moved connection");
    }

    /// <summary>VfsServer.DeliverWaiting: a segment still waiting in the server's ring when the
    /// process's accept moves the connection is delivered to the server's stack before the record
    /// is made, so its bytes move with the connection (without it they reached the server's stack
    /// after the move and were dropped: the peer sent them again only at its retransmission
    /// timeout, 1.4 s stalls under ab). Here the wire's queue plays the ring.</summary>
    [Test]
    public void BytesStillWaitingInTheServersRingAtTheMoveComeWithTheConnection()
    {
        SharedProcess p = _tree.Attach(27);
        GiveFiltersAndMakeStackC();
        _tree.Server.DeliverWaiting = () => _wire.Pump(_now);
        try
        {
            // The request leaves B but nothing delivers it before the accept.
            var (_, accepted) = AcceptHere(p, 8091, "GET / HTTP/1.1", delivered: false);
            Assert.That(accepted.Local, Is.Not.Null, "the connection runs in the process");
            Assert.That(ReceiveLocal(accepted.Local!), Is.EqualTo("GET / HTTP/1.1"), "the waiting segment's bytes came with the record");
        }
        finally
        {
            _tree.Server.DeliverWaiting = null;
        }
    }

    [Test]
    public void AConnectionHandedBackInPiecesKeepsEveryQueuedByteAndItsPeer()
    {
        SharedProcess p = _tree.Attach(21);
        GiveFiltersAndMakeStackC();
        var (peer, accepted) = AcceptHere(p, 8082, "hello");
        Assert.That(ReceiveLocal(accepted.Local!), Is.EqualTo("hello"));

        // 30,000 bytes queued in the process's stack: B's ACKs go to A's MAC (dropped quietly
        // there), so they stay queued and the record is larger than one call's payload.
        byte[] data = new byte[30_000];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)('a' + i % 26);
        long queued;
        fixed (byte* q = data) queued = accepted.Local!.Send(q, data.Length, 0, null, 0, default);
        Assert.That(queued, Is.EqualTo(data.Length));
        var stream = (StreamSocket)accepted.Local;
        Assert.That(stream.HandOverSize, Is.GreaterThan(VfsProtocol.PayloadBytes), "the record goes in pieces");
        byte[] record = new byte[stream.HandOverSize];
        long written = stream.HandOver(record);
        Assert.That(written, Is.EqualTo(record.Length));
        long fd;
        fixed (byte* r = record) fd = p.Client.AdoptRecord(r, (int)written, LinuxSocket.SOCK_NONBLOCK);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0), "the server took it over");
        accepted.BecameRemote(p.Client.AdoptedHandle((int)fd));
        Assert.That(_takenBack, Is.EqualTo(new[] { 7 }), "the filter given for it, taken back once");
        Assert.That(_tree.Server.GivenFilters, Is.Zero);

        var got = new List<byte>();
        byte[] buffer = new byte[65536];
        for (int round = 0; round < 400 && got.Count < data.Length; round++)
        {
            _now += 200_000; // past the retransmission timer: the server sends what B never acknowledged to it
            Run();
            int n = peer.Receive(buffer, _now);
            for (int i = 0; i < n; i++) got.Add(buffer[i]);
        }
        Assert.That(got.Count, Is.EqualTo(data.Length), "B got every byte");
        Assert.That(got.ToArray().SequenceEqual(data), Is.True, "once, in order");
        Assert.That(Send(p, accepted, "and through the server"), Is.EqualTo(22));
        int m = 0;
        for (int round = 0; round < 20 && m <= 0; round++)
        {
            _now += 200_000;
            Run();
            m = peer.Receive(buffer, _now);
        }
        Assert.That(Encoding.ASCII.GetString(buffer, 0, m), Is.EqualTo("and through the server"));
        Assert.That(peer.State, Is.EqualTo(TcpState.Established));
        Assert.That(_tcpB.Counters.ResetsReceived, Is.Zero, "no reset reached the peer");
    }

    [Test]
    public void AnAcceptTheProcessCannotRunGivesAnOrdinaryDescriptorAndTakesTheFilterBack()
    {
        SharedProcess p = _tree.Attach(22);
        GiveFiltersAndMakeStackC();
        s_stackC = null; // the process refuses: the client gives the record straight back
        var (peer, accepted) = AcceptHere(p, 8083, "first");
        Assert.That(accepted.Local, Is.Null);
        Assert.That(_takenBack, Is.EqualTo(new[] { 7 }));
        Assert.That(Receive(p, accepted, out _), Is.EqualTo("first"), "its bytes, through the server");
        Assert.That(Send(p, accepted, "ok"), Is.EqualTo(2));
        Run();
        byte[] buffer = new byte[64];
        Assert.That(Encoding.ASCII.GetString(buffer, 0, peer.Receive(buffer, _now)), Is.EqualTo("ok"));

        // The server refusing (no card, no ring in the process): an ordinary accept.
        _tree.Server.GiveConnection = (ulong _, uint _, int _, uint _, int _, out HandoverRoute route) => { route = default; return -1; };
        var (_, second) = AcceptHere(p, 8084, "x");
        Assert.That(second.Local, Is.Null);
        Assert.That(_tree.Server.HandedOverCount, Is.EqualTo(1), "only the first was handed over");
        // No hook in the server: the same.
        _tree.Server.GiveConnection = null;
        var (_, third) = AcceptHere(p, 8085, "y");
        Assert.That(third.Local, Is.Null);
    }

    [Test]
    public void AConnectionClosedInTheProcessIsClosedByTheServerInOneCall()
    {
        SharedProcess p = _tree.Attach(26);
        GiveFiltersAndMakeStackC();
        var (peer, accepted) = AcceptHere(p, 8089, "last words");
        var stream = (StreamSocket)accepted.Local!;
        Assert.That(ReceiveLocal(stream), Is.EqualTo("last words"));
        byte[] record = new byte[stream.HandOverSize];
        Assert.That(stream.HandOver(record), Is.EqualTo(record.Length));
        long before = _tree.Server.Calls[VfsProtocol.Adopt] + _tree.Server.Calls[VfsProtocol.Close];
        fixed (byte* r = record) Assert.That(p.Client.AdoptRecord(r, record.Length, 0, close: true), Is.EqualTo(0), "no descriptor");
        Assert.That(_tree.Server.Calls[VfsProtocol.Adopt] + _tree.Server.Calls[VfsProtocol.Close] - before, Is.EqualTo(1), "one call");
        Run();
        Assert.That(peer.PeerClosed, Is.True, "the server sent the FIN");
        Assert.That(_sockets.Open, Is.EqualTo(1), "only the listener is left");
        Assert.That(_takenBack, Is.EqualTo(new[] { 7 }));
        Assert.That(_tcpB.Counters.ResetsReceived, Is.Zero);
    }

    [Test]
    public void AfterEightConnectionsOfOneRequestEachTheProcessAcceptsThroughTheServerAndAsksAgainOneInSixtyFour()
    {
        LocalSockets.ForgetHistory();
        try
        {
            Mount mount = _tree.Attach(27).Fs.RootMount;
            void Closed(int receives) => LocalSockets.Finished(new RemoteSocket(mount, (Socket?)null) { Receives = receives });
            for (int i = 0; i < LocalSockets.ShortLimit - 1; i++)
            {
                Closed(1);
                Assert.That(LocalSockets.Worthwhile, Is.True, "fewer than eight short ones");
            }
            Closed(0);
            int asked = 0;
            for (int i = 0; i < 2 * LocalSockets.RetryEvery; i++) if (LocalSockets.Worthwhile) asked++;
            Assert.That(asked, Is.EqualTo(2), "one accept in 64 asks again");
            Closed(3);
            Assert.That(LocalSockets.Worthwhile, Is.True, "a connection that carried more ends the streak");
        }
        finally
        {
            LocalSockets.ForgetHistory();
        }
    }

    /// <summary>The policy counts receives that brought bytes, a call each: a readv into two
    /// pieces is one receive (a one-request connection stays short), a second call is another.</summary>
    [Test]
    public void AReadvIntoSeveralPiecesCountsAsOneReceive()
    {
        SharedProcess p = _tree.Attach(30);
        GiveFiltersAndMakeStackC();
        var (_, accepted) = AcceptHere(p, 8092, "abcdef");
        Assert.That(accepted.Local, Is.Not.Null);
        byte[] first = new byte[2], second = new byte[2], rest = new byte[8];
        fixed (byte* a = first)
        fixed (byte* b = second)
        {
            ulong* iov = stackalloc ulong[4];
            iov[0] = (ulong)a; iov[1] = 2; iov[2] = (ulong)b; iov[3] = 2;
            Assert.That(LocalSockets.ReceivePieces(accepted, iov, 2, 0), Is.EqualTo(4));
        }
        Assert.That(Encoding.ASCII.GetString(first) + Encoding.ASCII.GetString(second), Is.EqualTo("abcd"));
        Assert.That(accepted.Receives, Is.EqualTo(1), "one readv, one receive");
        fixed (byte* r = rest) Assert.That(LocalSockets.Receive(accepted, r, rest.Length, 0), Is.EqualTo(2));
        Assert.That(accepted.Receives, Is.EqualTo(2), "a second call, a second receive");
    }

    [Test]
    public void AConnectionThatEndedInTheProcessHasItsFilterTakenBackAndOnlyByThatProcess()
    {
        SharedProcess p = _tree.Attach(28);
        GiveFiltersAndMakeStackC();
        var (peer, accepted) = AcceptHere(p, 8090, "q");
        var stream = (StreamSocket)accepted.Local!;
        Assert.That(stream.Tuple(out uint local, out int localPort, out uint remote, out int remotePort), Is.True);
        SharedProcess other = _tree.Attach(29);
        Assert.That(other.Client.ForgetGiven(local, localPort, remote, remotePort), Is.EqualTo(0));
        Assert.That(_takenBack, Is.Empty, "another process cannot take p's filter back");
        Assert.That(p.Client.ForgetGiven(local, localPort, remote, remotePort), Is.EqualTo(0));
        Assert.That(_takenBack, Is.EqualTo(new[] { 7 }));
        Assert.That(_tree.Server.GivenFilters, Is.Zero);
        Assert.That(p.Client.ForgetGiven(local, localPort, remote, remotePort), Is.EqualTo(0), "a second time: nothing left");
        Assert.That(_takenBack, Is.EqualTo(new[] { 7 }));
    }

    /// <summary>Adopt through the transport directly: the reply word.</summary>
    private static long AdoptCall(SharedProcess p, byte[] piece, long total, long offset)
    {
        fixed (byte* q = piece) Buffer.MemoryCopy(q, p.Transport.Buffer + VfsProtocol.Payload, VfsProtocol.PayloadBytes, piece.Length);
        return p.Transport.Call(VfsProtocol.Adopt, (ulong)total, (ulong)offset, (ulong)piece.Length, out _);
    }

    [Test]
    public void BadAdoptCallsAreRefusedAndChangeNothingAndAGoodOneStillWorks()
    {
        SharedProcess p = _tree.Attach(23);
        GiveFiltersAndMakeStackC();
        var (peer, accepted) = AcceptHere(p, 8086, "z");
        var stream = (StreamSocket)accepted.Local!;
        byte[] record = new byte[stream.HandOverSize];
        Assert.That(stream.HandOver(record), Is.EqualTo(record.Length));
        int open = _sockets.Open;

        Assert.That(AdoptCall(p, record[..100], record.Length, 100), Is.EqualTo(-Errno.EINVAL), "a piece out of order");
        Assert.That(AdoptCall(p, record[..100], 0, 0), Is.EqualTo(-Errno.EINVAL), "no length");
        Assert.That(AdoptCall(p, record[..100], 1L << 40, 0), Is.EqualTo(-Errno.EINVAL), "a length beyond any record");
        Assert.That(AdoptCall(p, record[..100], 50, 0), Is.EqualTo(-Errno.EINVAL), "a piece longer than the whole");
        Assert.That(AdoptCall(p, record[..100], record.Length, 0), Is.EqualTo(0), "a first piece");
        Assert.That(AdoptCall(p, record[100..], record.Length + 1, 100), Is.EqualTo(-Errno.EINVAL), "another total mid-way");
        byte[] mutated = (byte[])record.Clone();
        mutated[0] ^= 0xFF; // the magic
        Assert.That(AdoptCall(p, mutated, mutated.Length, 0), Is.EqualTo(-Errno.EINVAL), "a record the stack refuses");
        Assert.That(_sockets.Open, Is.EqualTo(open), "nothing installed");
        Assert.That(_takenBack, Is.Empty, "no filter taken back for a refused record");

        // Another process cannot take back the filter given to p.
        SharedProcess other = _tree.Attach(24);
        long stolen = AdoptCall(other, record, record.Length, 0);
        Assert.That(stolen, Is.GreaterThanOrEqualTo(0), "the record itself is good");
        Assert.That(_takenBack, Is.Empty, "but the filter was given to p, not to the other process");
        Assert.That(AdoptCall(p, record, record.Length, 0), Is.EqualTo(-Errno.EADDRINUSE), "the same connection twice");
        Assert.That(_sockets.Open, Is.EqualTo(open + 1), "one descriptor: the other process's");
        Assert.That(other.Transport.Call(VfsProtocol.Close, (ulong)stolen, 0, 0, out _), Is.EqualTo(0));
        Run();
        Assert.That(peer.State, Is.Not.EqualTo(TcpState.Established), "the other process's close ended it");
    }

    [Test]
    public void AProcessThatSaysGoodbyeWithConnectionsOutGetsTheirFiltersTakenBack()
    {
        SharedProcess p = _tree.Attach(25);
        GiveFiltersAndMakeStackC();
        AcceptHere(p, 8087, "a");
        AcceptHere(p, 8088, "b");
        Assert.That(_tree.Server.GivenFilters, Is.EqualTo(2));
        Assert.That(p.Transport.Call(VfsProtocol.Goodbye, 0, 0, 0, out _), Is.EqualTo(0));
        Assert.That(_takenBack, Is.EquivalentTo(new[] { 7, 8 }));
        Assert.That(_tree.Server.GivenFilters, Is.Zero);
    }

    /// <summary>A segment that reaches the process's stack after its connection went back to the
    /// server (in the machine: after the process's last look at its ring, before the server took
    /// the filter back) goes on to the server (Tcp.MovedSegment, VfsProtocol.LateSegment), which
    /// receives it as if from the card: the bytes are read there and acknowledged at once. Found by
    /// the lend boot test: a FIN so lost waited a second for the peer's retransmission, and kept the
    /// server's connection closing (a Lend refused meanwhile). No other process may give such a
    /// segment, nor this one once LateSegmentMicros have passed.</summary>
    [Test]
    public void ASegmentThatReachesTheProcessAfterItsConnectionWentBackIsReceivedByTheServer()
    {
        SharedProcess p = _tree.Attach(28);
        NetStack c = GiveFiltersAndMakeStackC();
        var (peer, accepted) = AcceptHere(p, 8092, "hello");
        Assert.That(ReceiveLocal(accepted.Local!), Is.EqualTo("hello"));
        byte[]? forwarded = null;
        uint forwardedSource = 0, forwardedDestination = 0;
        long forwardResult = 1;
        s_stackC!.Tcp.MovedSegment = (source, destination, segment) =>
        {
            forwarded = segment.ToArray();
            forwardedSource = source.Value;
            forwardedDestination = destination.Value;
            forwardResult = p.Client.LateSegment(source.Value, destination.Value, segment);
        };
        var stream = (StreamSocket)accepted.Local!;
        byte[] record = new byte[stream.HandOverSize];
        Assert.That(stream.HandOver(record), Is.EqualTo(record.Length));
        long fd;
        fixed (byte* r = record) fd = p.Client.AdoptRecord(r, record.Length, LinuxSocket.SOCK_NONBLOCK);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        accepted.BecameRemote(p.Client.AdoptedHandle((int)fd));

        _b.Arp.AddStatic(IpA, MacC); // B's next segment reaches the process's ring, as a late one does
        Assert.That(peer.Send(Encoding.ASCII.GetBytes("late bytes"), _now), Is.EqualTo(10));
        Run(1);
        Assert.That(forwardResult, Is.EqualTo(0), "the server took the segment");
        Assert.That(s_stackC.Tcp.Counters.ForwardedForMovedConnection, Is.EqualTo(1));
        Assert.That(Receive(p, accepted, out _), Is.EqualTo("late bytes"), "read at the server");
        _b.Arp.AddStatic(IpA, MacA);
        _now += 100_000; // the server's delayed ACK, well before B's retransmission timer
        Run();
        Assert.That(peer.SendQueued, Is.Zero, "the server acknowledged them");
        Assert.That(peer.Retries, Is.Zero, "without a retransmission");
        Assert.That(_tcpB.Counters.ResetsReceived, Is.Zero);

        SharedProcess other = _tree.Attach(29);
        Assert.That(other.Client.LateSegment(forwardedSource, forwardedDestination, forwarded), Is.EqualTo(-Errno.EPERM), "not a connection it gave back");
        _now += VfsServer.LateSegmentMicros;
        Assert.That(p.Client.LateSegment(forwardedSource, forwardedDestination, forwarded), Is.EqualTo(-Errno.EPERM), "too late");
        Assert.That(p.Client.LateSegment(forwardedSource, forwardedDestination, new byte[8]), Is.EqualTo(-Errno.EINVAL), "shorter than a TCP header");
    }
}
