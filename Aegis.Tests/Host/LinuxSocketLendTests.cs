#nullable enable
// The listener in the process (docs/libos-unixish.md, "The listener in the process"): the file
// server's half (VfsServer.Handover.cs: Lend, LendBack) on LinuxSocketTests' wire. Stack A is the
// server's, B the remote host, C the process's own stack with the twin of the lent listener; once
// the port is lent, B's ARP entry for A's address names C's MAC, as the kernel's filter would
// send the port's frames to the process's ring. The machine's hooks are fakes that record.
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
    private static readonly MacAddress MacC = new MacAddress(0x0200000000CCUL);
    private readonly List<(ulong Process, uint Address, int Port)> _lentGiven = new();

    /// <summary>The server lends (filter ids 100, 101, ...) and gives connections (7, 8, ...); C is the process's stack.</summary>
    private NetStack LendingAndStackC()
    {
        NetStack c = GiveFiltersAndMakeStackC();
        _lentGiven.Clear();
        _tree.Server.GiveListener = (ulong process, uint address, int port, out HandoverRoute route) =>
        {
            _lentGiven.Add((process, address, port));
            route = new HandoverRoute { Address = IpA.Value, Mask = Mask24.Value, Router = IpGateway.Value, NextHopMac = MacB.Value };
            return 99 + _lentGiven.Count;
        };
        c.LearnsFromFrames = true; // as LocalNet's once a listener is lent
        return c;
    }

    /// <summary>The twin of a lent listener in C (as LocalNet.MaybeLend makes it).</summary>
    private static Socket Twin(int port)
    {
        Assert.That(s_stackC!.Create(LinuxSocket.AF_INET, LinuxSocket.SOCK_STREAM, 0, out Socket twin), Is.EqualTo(0));
        int one = 1;
        Assert.That(twin.SetOption(LinuxSocket.SOL_SOCKET, LinuxSocket.SO_REUSEADDR, (byte*)&one, 4), Is.EqualTo(0));
        byte[] name = Inet(IpA, port);
        fixed (byte* q = name) Assert.That(twin.Bind(q, name.Length, SocketCaller.Server), Is.EqualTo(0));
        Assert.That(twin.Listen(511, SocketCaller.Server), Is.EqualTo(0));
        return twin;
    }

    /// <summary>Run, with C's TCP timers too.</summary>
    private void RunWithC(int rounds = 4)
    {
        for (int i = 0; i < rounds; i++)
        {
            Run(1);
            s_stackC!.Tcp.Poll(_now);
        }
        Run(1);
    }

    private static long AcceptTwin(Socket twin, out Socket accepted)
    {
        byte* peer = stackalloc byte[LinuxSocket.AddressBytes];
        return twin.Accept(out accepted, peer, out _);
    }

    /// <summary>With the port lent: the twin in C, the port's frames sent to C (B's ARP entry for
    /// A's address, as the kernel's filter would), B's connection made and accepted by the twin.</summary>
    private (Socket Twin, TcpConnection Peer, Socket Accepted) TwinConnection(int port)
    {
        Socket twin = Twin(port);
        _b.Arp.AddStatic(IpA, MacC);
        TcpConnection peer = _tcpB.CreateConnection();
        peer.Options.NoDelay = true;
        Assert.That(peer.Connect(IpA, port, _now), Is.EqualTo(TcpError.InProgress));
        RunWithC();
        Assert.That(peer.State, Is.EqualTo(TcpState.Established), "the twin answered the handshake");
        Assert.That(AcceptTwin(twin, out Socket accepted), Is.EqualTo(0), "accepted in the process");
        return (twin, peer, accepted);
    }

    /// <summary>A new listener of p on port, lent to p.</summary>
    private static RemoteSocket LentListener(SharedProcess p, int port)
    {
        RemoteSocket listener = Listening(p, port);
        Assert.That(Lend(p, listener, out _), Is.EqualTo(port), "lent");
        return listener;
    }

    private static long Lend(SharedProcess p, RemoteSocket listener, out byte[] info)
    {
        info = new byte[VfsProtocol.HandoverInfoBytes];
        fixed (byte* q = info) return p.Client.Lend(listener, q, out _);
    }

    [Test]
    public void ALentListenersConnectionsAreMadeAndClosedByTheProcessesOwnStackAndTheServerKeepsNone()
    {
        SharedProcess p = _tree.Attach(40);
        NetStack c = LendingAndStackC();
        RemoteSocket listener = Listening(p, 8100);

        Assert.That(Lend(p, listener, out byte[] info), Is.EqualTo(8100), "the port");
        Assert.That(_lentGiven, Is.EqualTo(new[] { (40UL, IpA.Value, 8100) }), "the port's filter: to the caller, for our address and the port");
        fixed (byte* q = info)
        {
            Assert.That(*(uint*)q, Is.EqualTo(IpA.Value));
            Assert.That(*(uint*)(q + 8), Is.EqualTo(IpGateway.Value));
            Assert.That(*(ulong*)(q + 16), Is.EqualTo(MacB.Value), "the router's MAC");
        }
        Assert.That(_tree.Server.LentListeners, Is.EqualTo(1));
        Assert.That(Lend(p, listener, out _), Is.EqualTo(-Errno.EALREADY), "lent once");
        Assert.That(_lentGiven.Count, Is.EqualTo(1));

        var (_, peer, accepted) = TwinConnection(8100);
        Assert.That(c.Arp.TryLookup(IpB, out MacAddress learnt) && learnt == MacB, Is.True, "B's MAC learnt from its SYN");
        Assert.That(c.Counters.ArpRequestsSent, Is.Zero, "without asking (in the machine this stack gets no ARP answer)");
        Assert.That(peer.Send(Encoding.ASCII.GetBytes("GET /"), _now), Is.EqualTo(5));
        RunWithC();
        Assert.That(ReceiveLocal(accepted), Is.EqualTo("GET /"));
        byte[] answer = Encoding.ASCII.GetBytes("200 OK");
        fixed (byte* q = answer) Assert.That(accepted.Send(q, answer.Length, 0, null, 0, default), Is.EqualTo(answer.Length));
        accepted.Close(); // in the process: no call
        RunWithC();
        byte[] buffer = new byte[64];
        Assert.That(Encoding.ASCII.GetString(buffer, 0, peer.Receive(buffer, _now)), Is.EqualTo("200 OK"));
        Assert.That(peer.State, Is.EqualTo(TcpState.CloseWait), "the process's FIN");

        Assert.That(_tcpA.ConnectionCount, Is.Zero, "the server's stack never had the connection");
        Assert.That(_sockets.Open, Is.EqualTo(1), "the server keeps only the listener");
        Assert.That(_tcpA.Counters.ResetsSent, Is.Zero);
        Assert.That(_tree.Server.LentCount, Is.EqualTo(1));
    }

    [Test]
    public void AListenerLentBackLeavesItsRunningConnectionsAFilterEachAndTakesThePortsBack()
    {
        SharedProcess p = _tree.Attach(41);
        LendingAndStackC();
        RemoteSocket listener = LentListener(p, 8101);
        var (_, _, accepted) = TwinConnection(8101);
        var stream = (StreamSocket)accepted;
        Assert.That(stream.Tuple(out uint local, out int localPort, out uint remote, out int remotePort), Is.True);

        int* tuples = stackalloc int[8];
        int* given = stackalloc int[2];
        tuples[0] = (int)local; tuples[1] = localPort; tuples[2] = (int)remote; tuples[3] = remotePort;
        tuples[4] = (int)local; tuples[5] = 9999; tuples[6] = (int)remote; tuples[7] = remotePort; // not the lent port: refused
        Assert.That(p.Client.LendBack(listener, tuples, 2, given), Is.EqualTo(1), "one connection kept");
        Assert.That(given[0], Is.EqualTo(1));
        Assert.That(given[1], Is.EqualTo(0), "a four-tuple on another port gets no filter");
        Assert.That(_given, Is.EqualTo(new[] { (41UL, local, localPort, remote, remotePort) }), "a filter of its own, given to the process");
        Assert.That(_takenBack, Is.EqualTo(new[] { 100 }), "the port's filter taken back");
        Assert.That(_tree.Server.LentListeners, Is.Zero);
        Assert.That(_tree.Server.GivenFilters, Is.EqualTo(1), "the kept connection's filter: Adopt takes it back later, as a handed-over one's");
        Assert.That(p.Client.LendBack(listener, tuples, 1, given), Is.EqualTo(-Errno.EINVAL), "nothing lent any more");

        // The connection then goes back to the server as a handed-over one does.
        byte[] record = new byte[stream.HandOverSize];
        Assert.That(stream.HandOver(record), Is.EqualTo(record.Length));
        long fd;
        fixed (byte* r = record) fd = p.Client.AdoptRecord(r, record.Length, LinuxSocket.SOCK_NONBLOCK);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        Assert.That(_takenBack, Is.EqualTo(new[] { 100, 7 }), "and its filter with it");
        Assert.That(_tree.Server.GivenFilters, Is.Zero);
    }

    [Test]
    public void ALendIsRefusedWhileTheServersStackNeedsThePortAndForAnythingButATcpListener()
    {
        SharedProcess p = _tree.Attach(42);
        LendingAndStackC();
        RemoteSocket listener = Listening(p, 8102);
        TcpConnection peer = _tcpB.CreateConnection();
        Assert.That(peer.Connect(IpA, 8102, _now), Is.EqualTo(TcpError.InProgress));
        Run();
        Assert.That(Lend(p, listener, out _), Is.EqualTo(-Errno.EBUSY), "a connection in the server's queue needs the port's frames");
        Assert.That(_lentGiven, Is.Empty, "no filter given");

        RemoteSocket unbound = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(Lend(p, unbound, out _), Is.EqualTo(-Errno.EINVAL), "not a listener");
        RemoteSocket datagram = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(Bind(p, datagram, Ipv4Address.Any, 8103), Is.EqualTo(0));
        Assert.That(Lend(p, datagram, out _), Is.EqualTo(-Errno.EINVAL), "not TCP");
        RemoteSocket loopback = NewSocket(p, LinuxSocket.SOCK_STREAM | LinuxSocket.SOCK_NONBLOCK);
        Assert.That(Bind(p, loopback, new Ipv4Address(0x7F000001), 8104), Is.EqualTo(0));
        Assert.That(p.Client.Listen(loopback, 4), Is.EqualTo(0));
        Assert.That(Lend(p, loopback, out _), Is.EqualTo(-Errno.EINVAL), "a loopback listener has no frames to lend");
        Assert.That(_lentGiven, Is.Empty);

        // Another process cannot give back p's loan.
        RemoteSocket free = LentListener(p, 8105);
        SharedProcess other = _tree.Attach(43);
        *(int*)other.Transport.Buffer = 0;
        Assert.That(other.Transport.Call(VfsProtocol.LendBack, (ulong)free.Handle.ServerFd, 0, 0, out _), Is.EqualTo(-Errno.EBADF), "not its descriptor");
        int* none = stackalloc int[1];
        Assert.That(p.Client.LendBack(free, none, VfsProtocol.MaximumKept + 1, none), Is.EqualTo(-Errno.EINVAL), "too many");
        Assert.That(_tree.Server.LentListeners, Is.EqualTo(1), "still lent");
    }

    /// <summary>A SYN that reached the server's ring before the port's filter was given is
    /// delivered there and made a handshake in the server's stack: the loan is undone (its ACK
    /// would reach the process, whose stack would reset it).</summary>
    [Test]
    public void ASynWaitingInTheServersRingWhenTheFilterIsGivenUndoesTheLoan()
    {
        SharedProcess p = _tree.Attach(44);
        LendingAndStackC();
        _tree.Server.DeliverWaiting = () => _wire.Pump(_now);
        try
        {
            RemoteSocket listener = Listening(p, 8106);
            TcpConnection peer = _tcpB.CreateConnection();
            Assert.That(peer.Connect(IpA, 8106, _now), Is.EqualTo(TcpError.InProgress)); // the SYN waits on the wire
            Assert.That(Lend(p, listener, out _), Is.EqualTo(-Errno.EBUSY));
            Assert.That(_lentGiven.Count, Is.EqualTo(1), "the filter was given");
            Assert.That(_takenBack, Is.EqualTo(new[] { 100 }), "and taken back");
            Assert.That(_tree.Server.LentListeners, Is.Zero);
            Run();
            Assert.That(peer.State, Is.EqualTo(TcpState.Established), "the server made the connection");
        }
        finally
        {
            _tree.Server.DeliverWaiting = null;
        }
    }

    /// <summary>Frames from B to port that a Drop hook took off the wire ("in the process's ring"),
    /// given to C as the process's stack gets them, after the port's filter went back.</summary>
    private void DeliverToC(NetStack c, List<byte[]> ring)
    {
        foreach (byte[] frame in ring)
        {
            byte[] copy = (byte[])frame.Clone();
            for (int i = 0; i < 6; i++) copy[i] = (byte)(MacC.Value >> (40 - 8 * i)); // the kernel's filter sent them to this ring
            c.Receive(copy, _now);
        }
        ring.Clear();
    }

    private static bool IsTcpFromBToPort(byte[] f, int port, out bool syn)
    {
        syn = false;
        if (!IsTcpFrom(f, IpB)) return false;
        int t = 14 + (f[14] & 15) * 4;
        syn = (f[t + 13] & 0x02) != 0;
        return (f[t + 2] << 8 | f[t + 3]) == port;
    }

    private static bool IsTcpFrom(byte[] f, Ipv4Address source) =>
        f.Length >= 54 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 6 && (uint)(f[26] << 24 | f[27] << 16 | f[28] << 8 | f[29]) == source.Value;

    /// <summary>nginx's reload (the stress of LinuxSocketBootTests' reload test, 60 reloads with 24
    /// connections each) lost requests with a reset: a worker asked for the loan while the
    /// server's stack was answering handshakes on the port, so the loan was undone, but between
    /// the filter's gift and its return the peer's ACK of such a handshake and a new SYN reached
    /// the worker's ring, and its stack, with no listener, reset both. Now the server says which
    /// port's filter it gave and took back (Lend's -EBUSY, reply1), and the process gives what
    /// came for that port to the server (Tcp.RememberMovedPort, VfsProtocol.LateSegment), which
    /// ends the handshake and answers the SYN.</summary>
    [Test]
    public void APortsFramesThatReachedTheProcessWhileItsLoanWasUndoneAreGivenToTheServer()
    {
        SharedProcess p = _tree.Attach(50);
        NetStack c = LendingAndStackC();
        RemoteSocket listener = Listening(p, 8112);
        s_stackC!.Tcp.MovedSegment = (source, destination, segment) =>
            Assert.That(p.Client.LateSegment(source.Value, destination.Value, segment), Is.EqualTo(0), "the server takes it");
        var ring = new List<byte[]>();
        TcpConnection first = _tcpB.CreateConnection(), second = _tcpB.CreateConnection();
        _wire.Drop = f =>
        {
            // The first SYN reaches the server (its ring, before the gift); the rest, the process's.
            if (!IsTcpFromBToPort(f, 8112, out bool syn) || (syn && (f[34] << 8 | f[35]) == first.LocalPort)) return false;
            ring.Add(f);
            return true;
        };
        _tree.Server.DeliverWaiting = () =>
        {
            _wire.Pump(_now); // the SYN: a handshake in the server's stack; its SYN-ACK; B's ACK, to the process
            Assert.That(second.Connect(IpA, 8112, _now), Is.EqualTo(TcpError.InProgress));
            _wire.Pump(_now); // a new SYN, to the process
        };
        try
        {
            Assert.That(first.Connect(IpA, 8112, _now), Is.EqualTo(TcpError.InProgress));
            byte[] info = new byte[VfsProtocol.HandoverInfoBytes];
            long lent;
            int undone;
            fixed (byte* q = info) lent = p.Client.Lend(listener, q, out undone);
            Assert.That(lent, Is.EqualTo(-Errno.EBUSY), "undone: the server's stack has a handshake on the port");
            Assert.That(undone, Is.EqualTo(8112), "the port whose filter was given and taken back");
            Assert.That(_takenBack, Is.EqualTo(new[] { 100 }));
            Assert.That(ring, Has.Count.EqualTo(2), "the first's ACK and the second's SYN reached the process");
        }
        finally
        {
            _tree.Server.DeliverWaiting = null;
            _wire.Drop = null;
        }
        s_stackC.Tcp.RememberMovedPort(IpA, 8112, _now); // what LocalNet.MaybeLend does with the port
        DeliverToC(c, ring);
        Run(2); // no time for a retransmission
        Assert.That(s_stackC.Tcp.Counters.ResetsSent, Is.Zero, "the process's stack reset nothing");
        Assert.That(s_stackC.Tcp.Counters.ForwardedForMovedPort, Is.EqualTo(2));
        Assert.That(first.State, Is.EqualTo(TcpState.Established));
        Assert.That(second.State, Is.EqualTo(TcpState.Established), "the server answered the SYN it was given");
        Assert.That(first.Retries + second.Retries, Is.Zero, "without a retransmission");
        byte[] address = new byte[LinuxSocket.AddressBytes];
        fixed (byte* q = address)
        {
            Assert.That(p.Client.Accept(listener, 0, q, out _, out _), Is.EqualTo(0));
            Assert.That(p.Client.Accept(listener, 0, q, out _, out _), Is.EqualTo(0), "both queued at the server");
        }
        Assert.That(_tree.Server.LendsUndone, Is.EqualTo(1));
        Assert.That(_tree.Server.LatePortSegments, Is.EqualTo(2));
        SharedProcess other = _tree.Attach(51);
        byte[] syn = new byte[20];
        syn[2] = 8112 >> 8; syn[3] = 8112 & 0xFF;
        Assert.That(other.Client.LateSegment(IpB.Value, IpA.Value, syn), Is.EqualTo(-Errno.EPERM), "only the process the port's frames went to");
    }

    /// <summary>The same at the loan's return: a SYN that reached the borrower's ring after its
    /// last look and before the server took the port's filter back went to the twin, still
    /// listening while its queue drains (a fork keeps it) — whose handshake then ended at the
    /// server with a reset — or, once the twin was gone (the listener's close), was reset. Now it
    /// goes to the server, which answers it.</summary>
    [Test]
    public void ASynThatReachedTheBorrowerJustBeforeTheLoanWentBackIsAnsweredByTheServer()
    {
        SharedProcess p = _tree.Attach(52);
        NetStack c = LendingAndStackC();
        RemoteSocket listener = LentListener(p, 8113);
        Socket twin = Twin(8113);
        s_stackC!.Tcp.MovedSegment = (source, destination, segment) =>
            Assert.That(p.Client.LateSegment(source.Value, destination.Value, segment), Is.EqualTo(0), "the server takes it");
        var ring = new List<byte[]>();
        _b.Arp.AddStatic(IpA, MacC);
        _wire.Drop = f => { if (!IsTcpFromBToPort(f, 8113, out _)) return false; ring.Add(f); return true; };
        TcpConnection peer = _tcpB.CreateConnection();
        Assert.That(peer.Connect(IpA, 8113, _now), Is.EqualTo(TcpError.InProgress));
        _wire.Pump(_now);
        _wire.Drop = null;
        Assert.That(ring, Has.Count.EqualTo(1), "the SYN, in the process's ring");
        int* none = stackalloc int[1];
        Assert.That(p.Client.LendBack(listener, none, 0, none), Is.EqualTo(0));
        _b.Arp.AddStatic(IpA, MacA); // the port's frames go to the server again
        s_stackC.Tcp.RememberMovedPort(IpA, 8113, _now); // what LocalNet.GiveBack does after LendBack
        DeliverToC(c, ring);
        Run(2);
        Assert.That(AcceptTwin(twin, out _), Is.EqualTo(-Errno.EAGAIN), "the twin did not answer it");
        Assert.That(s_stackC.Tcp.Counters.ResetsSent + _tcpA.Counters.ResetsSent, Is.Zero);
        Assert.That(peer.State, Is.EqualTo(TcpState.Established), "the server answered");
        Assert.That(peer.Retries, Is.Zero);
        byte[] address = new byte[LinuxSocket.AddressBytes];
        fixed (byte* q = address) Assert.That(p.Client.Accept(listener, 0, q, out _, out _), Is.EqualTo(0), "queued at the server");
        Assert.That(_tree.Server.LatePortSegments, Is.EqualTo(1));
    }

    /// <summary>The accept that asks for the loan may have handed its connection over: once the
    /// port is lent, that connection's own filter goes (the port's covers it), so its close in
    /// the process leaves nothing behind and its later segments still reach the process.</summary>
    [Test]
    public void AConnectionHandedOverBeforeTheLoanHasItsOwnFilterTakenBackAtTheLoan()
    {
        SharedProcess p = _tree.Attach(46);
        LendingAndStackC();
        RemoteSocket listener = Listening(p, 8108);
        var (_, accepted) = AcceptHere(p, 8108, "first", listening: listener);
        Assert.That(accepted.Local, Is.Not.Null, "handed over, with a filter of its own (7)");
        AcceptHere(p, 8109, "another port"); // (8)
        Assert.That(_tree.Server.GivenFilters, Is.EqualTo(2));

        Assert.That(Lend(p, listener, out _), Is.EqualTo(8108));
        Assert.That(_takenBack, Is.EqualTo(new[] { 7 }), "the port's connection's own filter, and only that one");
        Assert.That(_tree.Server.GivenFilters, Is.EqualTo(1));
    }

    /// <summary>B connects to the lent port while the twin in C listens, and sends text: the
    /// connection waits in the twin's queue, accepted by nobody; its socket, taken out of the queue.</summary>
    private StreamSocket QueuedInTwin(Socket twin, int port, string text, out TcpConnection peer)
    {
        peer = _tcpB.CreateConnection();
        peer.Options.NoDelay = true;
        Assert.That(peer.Connect(IpA, port, _now), Is.EqualTo(TcpError.InProgress));
        RunWithC();
        Assert.That(peer.State, Is.EqualTo(TcpState.Established), "the twin answered the handshake");
        Assert.That(peer.Send(Encoding.ASCII.GetBytes(text), _now), Is.EqualTo(text.Length));
        RunWithC();
        Assert.That(AcceptTwin(twin, out Socket made), Is.EqualTo(0));
        return (StreamSocket)made;
    }

    private static byte[] RecordOf(StreamSocket stream)
    {
        byte[] record = new byte[stream.HandOverSize];
        Assert.That(stream.HandOver(record), Is.EqualTo(record.Length));
        return record;
    }

    /// <summary>nginx's reload (LinuxSocketBootTests.NginxWithAMasterAndTwoWorkersServesReloadsAndQuits
    /// lost a request about one run in twelve): an old worker borrowed the listener, a connection
    /// waited in its twin's queue, and the worker closed its descriptor of the listener and
    /// exited: the queue was reset, though the master and the new workers still held the
    /// listener. Now the process gives each waiting connection to the listener's queue at the
    /// server (VfsProtocol.Requeue, LocalNet.GiveBack) before the loan goes back, and any holder
    /// accepts it there with its unread bytes; only the borrower, only for the lent port and
    /// address, and a full queue resets it, as Linux's does.</summary>
    [Test]
    public void AConnectionWaitingInALentListenersTwinGoesToTheListenersQueueAtTheServerWhenTheProcessLetsGo()
    {
        SharedProcess p = _tree.Attach(47);
        LendingAndStackC();
        RemoteSocket listener = Listening(p, 8110, backlog: 1);
        Assert.That(Lend(p, listener, out _), Is.EqualTo(8110));
        Socket twin = Twin(8110);
        _b.Arp.AddStatic(IpA, MacC);
        StreamSocket waiting = QueuedInTwin(twin, 8110, "GET /queued", out TcpConnection peer);
        StreamSocket second = QueuedInTwin(twin, 8110, "GET /second", out TcpConnection peer2);
        byte[] record = RecordOf(waiting);
        byte[] record2 = RecordOf(second);

        // Refused, nothing taken: another process (not its descriptor), a record of another port, a bad record.
        SharedProcess other = _tree.Attach(48);
        fixed (byte* r = record) System.Buffer.MemoryCopy(r, other.Transport.Buffer + VfsProtocol.Payload, record.Length, record.Length);
        Assert.That(other.Transport.Call(VfsProtocol.Requeue, (ulong)listener.Handle.ServerFd, (ulong)record.Length, 0, out _), Is.EqualTo(-Errno.EBADF));
        byte[] otherPort = (byte[])record.Clone();
        otherPort[22] ^= 1; // the local port's low byte (the record's sixth word)
        fixed (byte* r = otherPort) Assert.That(p.Client.Requeue(listener, r, otherPort.Length), Is.EqualTo(-Errno.EINVAL));
        byte[] garbage = new byte[record.Length];
        fixed (byte* r = garbage) Assert.That(p.Client.Requeue(listener, r, garbage.Length), Is.EqualTo(-Errno.EINVAL));
        Assert.That(_tcpA.ConnectionCount, Is.Zero, "nothing taken over");

        fixed (byte* r = record) Assert.That(p.Client.Requeue(listener, r, record.Length), Is.EqualTo(0), "into the listener's queue");
        fixed (byte* r = record2) Assert.That(p.Client.Requeue(listener, r, record2.Length), Is.EqualTo(-Errno.ECONNREFUSED), "the backlog of 1 is full");
        Assert.That(_tree.Server.RequeuedCount, Is.EqualTo(2));
        int* none = stackalloc int[1];
        Assert.That(p.Client.LendBack(listener, none, 0, none), Is.EqualTo(0));
        _b.Arp.AddStatic(IpA, MacA); // the port's frames go to the server again
        Run();
        Assert.That(peer2.State, Is.EqualTo(TcpState.Closed), "the one that did not fit was reset");
        Assert.That(peer.State, Is.EqualTo(TcpState.Established));

        // Any holder accepts it at the server (here the process itself, through the server now).
        byte[] address = new byte[LinuxSocket.AddressBytes];
        RemoteSocket? accepted;
        fixed (byte* q = address) Assert.That(p.Client.Accept(listener, 0, q, out _, out accepted), Is.EqualTo(0));
        Assert.That(address[2] << 8 | address[3], Is.EqualTo(peer.LocalPort), "the peer's port");
        Assert.That(Receive(p, accepted!, out _), Is.EqualTo("GET /queued"), "its unread bytes came with it");
        Assert.That(Send(p, accepted!, "200 requeued"), Is.EqualTo(12));
        Run();
        byte[] buffer = new byte[64];
        Assert.That(Encoding.ASCII.GetString(buffer, 0, peer.Receive(buffer, _now)), Is.EqualTo("200 requeued"));
        Assert.That(_tcpA.Counters.ResetsSent, Is.EqualTo(1), "only the one that did not fit");
    }

    /// <summary>A handshake the twin answered and whose final ACK had not reached the process when
    /// the loan went back used to be dropped: the ACK then reached the server, which reset it.
    /// Now the process gives it to the listener at the server (LocalNet.RequeueHandshakes: its
    /// record with HandOverHalfOpen, VfsProtocol.Requeue), which runs its SYN-ACK's retransmission
    /// and queues it when the peer's ACK comes. Here the peer's first ACK is lost on the wire, so
    /// the server's retransmitted SYN-ACK draws the ACK that ends the handshake there.</summary>
    [Test]
    public void AHandshakeInALentListenersTwinFinishesAtTheServerWhenTheLoanGoesBack()
    {
        SharedProcess p = _tree.Attach(49);
        LendingAndStackC();
        RemoteSocket listener = Listening(p, 8111);
        Assert.That(Lend(p, listener, out _), Is.EqualTo(8111));
        Socket twin = Twin(8111);
        _b.Arp.AddStatic(IpA, MacC);
        bool loseAcks = true;
        _wire.Drop = frame => loseAcks && IsPureAckFrom(frame, IpB);
        TcpConnection peer = _tcpB.CreateConnection();
        peer.Options.NoDelay = true;
        Assert.That(peer.Connect(IpA, 8111, _now), Is.EqualTo(TcpError.InProgress));
        RunWithC(2);
        Assert.That(peer.State, Is.EqualTo(TcpState.Established), "the peer got the twin's SYN-ACK");
        var onPort = new List<TcpConnection>();
        s_stackC!.Tcp.ConnectionsOnPort(8111, onPort);
        Assert.That(onPort, Has.Count.EqualTo(1));
        TcpConnection handshake = onPort[0];
        Assert.That(handshake.State, Is.EqualTo(TcpState.SynReceived), "the twin still waits for the ACK");
        Assert.That(handshake.CanHandOverHalfOpen, Is.True);
        Assert.That(handshake.CanHandOver, Is.False, "not a synchronized connection");

        byte[] record = new byte[handshake.HandoverBytes];
        Assert.That(handshake.HandOverHalfOpen(record, _now), Is.EqualTo(record.Length));
        Assert.That(s_stackC.Tcp.ConnectionCount, Is.Zero, "gone from the process's stack");
        // Refused, nothing taken: a handshake's record as a connection's, and a tampered one.
        Assert.That(_tcpA.TakeOver(record, _now, out TcpError refused), Is.Null);
        Assert.That(refused, Is.EqualTo(TcpError.InvalidArgument), "a plain TakeOver takes no handshake");
        byte[] tampered = (byte[])record.Clone();
        tampered[4 * 18 + 3] ^= 1; // SND.NXT's low byte (the record's nineteenth word)
        fixed (byte* r = tampered) Assert.That(p.Client.Requeue(listener, r, tampered.Length), Is.EqualTo(-Errno.EINVAL));
        Assert.That(_tcpA.ConnectionCount, Is.Zero, "nothing taken over");

        fixed (byte* r = record) Assert.That(p.Client.Requeue(listener, r, record.Length), Is.EqualTo(0), "the listener's at the server now");
        int* none = stackalloc int[1];
        Assert.That(p.Client.LendBack(listener, none, 0, none), Is.EqualTo(0));
        _b.Arp.AddStatic(IpA, MacA); // the port's frames go to the server again
        loseAcks = false;
        _now += 3_000_000; // past the SYN-ACK's retransmission timeout
        Run();
        Assert.That(peer.State, Is.EqualTo(TcpState.Established), "not reset");
        byte[] address = new byte[LinuxSocket.AddressBytes];
        RemoteSocket? accepted;
        fixed (byte* q = address) Assert.That(p.Client.Accept(listener, 0, q, out _, out accepted), Is.EqualTo(0), "queued at the server when the ACK came");
        Assert.That(address[2] << 8 | address[3], Is.EqualTo(peer.LocalPort), "the peer's port");
        Assert.That(peer.Send(Encoding.ASCII.GetBytes("after the handshake"), _now), Is.EqualTo(19));
        Run();
        Assert.That(Receive(p, accepted!, out _), Is.EqualTo("after the handshake"));
        Assert.That(_tcpA.Counters.ResetsSent, Is.Zero);
        _wire.Drop = null;
    }

    /// <summary>An IPv4 TCP frame from 'source' with ACK and no other flag (PSH aside) and no data.</summary>
    private static bool IsPureAckFrom(byte[] f, Ipv4Address source)
    {
        if (f.Length < 54 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 6) return false;
        uint from = (uint)(f[26] << 24 | f[27] << 16 | f[28] << 8 | f[29]);
        int t = 14 + (f[14] & 15) * 4;
        int payload = 14 + (f[16] << 8 | f[17]) - t - (f[t + 12] >> 4) * 4;
        return from == source.Value && (f[t + 13] & ~0x08) == 0x10 && payload == 0;
    }

    [Test]
    public void AProcessThatSaysGoodbyeWithAListenerLentGetsThePortsFilterTakenBack()
    {
        SharedProcess p = _tree.Attach(45);
        LendingAndStackC();
        RemoteSocket listener = LentListener(p, 8107);
        Assert.That(p.Transport.Call(VfsProtocol.Goodbye, 0, 0, 0, out _), Is.EqualTo(0));
        Assert.That(_takenBack, Is.EqualTo(new[] { 100 }));
        Assert.That(_tree.Server.LentListeners, Is.Zero);
    }
}
