#nullable enable
// Sockets of the Linux personality through the file server (VfsServer.Sockets.cs, VfsClient.Sockets.cs,
// Linux/Net/InetSockets.cs): "processes" (SharedProcess: a VfsClient over a direct transport) make
// sockets in a server whose network is LibOS.Net stack A; stack B on the same simulated Ethernet
// plays the remote host with LibOS.Net's own TCP and UDP. Checked from B's side (what arrived on
// the wire), not only from the calls' results.
using System.Text;
using Aegis.LibOS.Net;
using Aegis.LibOS.Unixish.Linux;
using Aegis.LibOS.Unixish.Linux.Files;
using Aegis.LibOS.Unixish.Linux.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.NetFrames;

namespace Aegis.Tests.Host;

[TestFixture]
public sealed unsafe partial class LinuxSocketTests
{
    private SimulatedEthernet _wire = null!;
    private NetStack _a = null!, _b = null!;
    private Tcp _tcpA = null!, _tcpB = null!;
    private InetSockets _sockets = null!;
    private SharedTree _tree = null!;
    private long _now;
    private readonly List<ulong> _woken = new();

    [SetUp]
    public void Build()
    {
        _wire = new SimulatedEthernet();
        _a = _wire.Attach(MacA);
        _b = _wire.Attach(MacB);
        _a.Configure(IpA, Mask24, IpGateway, 0);
        _b.Configure(IpB, Mask24, IpGateway, 0);
        _tcpA = new Tcp(_a, 1, 2);
        _tcpB = new Tcp(_b, 3, 4);
        _a.Register(_tcpA);
        _b.Register(_tcpB);
        _sockets = new InetSockets(_a, _tcpA, () => _now);
        _tree = new SharedTree();
        _tree.Server.Sockets = _sockets;
        _now = 1000;
        _wire.Pump(_now);
        _woken.Clear();
    }

    /// <summary>The wire until quiet, the stacks' timers, then the wakes the server's loop would send.</summary>
    private void Run(int rounds = 4)
    {
        for (int i = 0; i < rounds; i++)
        {
            _now += 1000;
            _wire.Pump(_now);
            for (int loops = 0; loops < 8 && _a.LoopbackQueued > 0; loops++) _a.Poll(_now); // loopback: what the server's Step does
            _tcpA.Poll(_now);
            _tcpB.Poll(_now);
            _wire.Pump(_now);
            for (int loops = 0; loops < 8 && _a.LoopbackQueued > 0; loops++) _a.Poll(_now);
        }
        var changed = new List<Socket>();
        _sockets.TakeChanged(changed);
        foreach (Socket s in changed) s.WakeWatchers(id => _woken.Add(id));
    }

    private static byte[] Inet(Ipv4Address address, int port)
    {
        var bytes = new byte[16];
        fixed (byte* p = bytes) Socket.WriteInet(p, address.Value, port);
        return bytes;
    }

    private static long Bind(SharedProcess p, RemoteSocket s, Ipv4Address address, int port)
    {
        byte[] a = Inet(address, port);
        fixed (byte* q = a) return p.Client.Bind(s, q, a.Length);
    }

    private static RemoteSocket NewSocket(SharedProcess p, int type)
    {
        Assert.That(p.Client.Socket(LinuxSocket.AF_INET, type, 0, out RemoteSocket s), Is.EqualTo(0));
        return s;
    }

    private static long Send(SharedProcess p, RemoteSocket s, string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        fixed (byte* q = bytes) return p.Client.Send(s, q, bytes.Length, 0, null, 0);
    }

    private static string Receive(SharedProcess p, RemoteSocket s, out long result, int max = 4096)
    {
        byte[] buffer = new byte[max];
        fixed (byte* q = buffer) result = p.Client.Receive(s, q, max, 0, null, out _);
        return result > 0 ? Encoding.ASCII.GetString(buffer, 0, (int)result) : "";
    }

    /// <summary>A non-blocking TCP socket of p listening on port (any address).</summary>
    private static RemoteSocket Listening(SharedProcess p, int port, int backlog = 16)
    {
        RemoteSocket listener = NewSocket(p, LinuxSocket.SOCK_STREAM | LinuxSocket.SOCK_NONBLOCK);
        Assert.That(Bind(p, listener, Ipv4Address.Any, port), Is.EqualTo(0));
        Assert.That(p.Client.Listen(listener, backlog), Is.EqualTo(0));
        return listener;
    }

    private (RemoteSocket Listener, TcpConnection Peer, RemoteSocket Accepted) Connected(SharedProcess p, int port = 8080)
    {
        RemoteSocket listener = Listening(p, port);
        TcpConnection peer = _tcpB.CreateConnection();
        peer.Options.NoDelay = true; // small segments go at once (the tests count what arrives)
        Assert.That(peer.Connect(IpA, port, _now), Is.EqualTo(TcpError.InProgress));
        Run();
        Assert.That(peer.State, Is.EqualTo(TcpState.Established));
        byte[] address = new byte[LinuxSocket.AddressBytes];
        long accepted;
        RemoteSocket? connection;
        int length;
        fixed (byte* q = address) accepted = p.Client.Accept(listener, 0, q, out length, out connection);
        Assert.That(accepted, Is.EqualTo(0));
        Assert.That(length, Is.EqualTo(16));
        Assert.That(address[2] << 8 | address[3], Is.EqualTo(peer.LocalPort), "the peer's port");
        Assert.That(new Ipv4Address((uint)(address[4] << 24 | address[5] << 16 | address[6] << 8 | address[7])), Is.EqualTo(IpB));
        return (listener, peer, connection!);
    }

    [Test]
    public void TheReadinessBoardLiesPastEveryPayloadAndBeforeTheGeneration()
    {
        // Every place a call's payload uses (offsets from VfsProtocol.Payload) ends within PayloadBytes,
        // which ends where the board begins. (The first layout put the board over SendTo's extra
        // words: with more than ten sockets on the board, writev failed with EINVAL.)
        Assert.That(VfsProtocol.Payload + VfsProtocol.PayloadBytes, Is.EqualTo(VfsProtocol.Board));
        Assert.That(VfsProtocol.SendExtraData + 16, Is.LessThanOrEqualTo(VfsProtocol.PayloadBytes), "SendTo's two extra words");
        Assert.That(VfsProtocol.CredentialsData + 12, Is.LessThanOrEqualTo(VfsProtocol.PayloadBytes), "ReceiveFrom's credentials");
        Assert.That(VfsProtocol.RightsData + VfsProtocol.MaximumRights * VfsProtocol.PassedEntryBytes, Is.LessThanOrEqualTo(VfsProtocol.PayloadBytes));
        Assert.That(VfsProtocol.SocketData + VfsProtocol.DataBytes, Is.LessThanOrEqualTo(VfsProtocol.PayloadBytes));
        Assert.That(VfsProtocol.OpenStatOffset + sizeof(StatInfo), Is.LessThanOrEqualTo(VfsProtocol.PayloadBytes), "Open's reply (prefetch and stat)");
        Assert.That(VfsProtocol.MaximumPollBatch * VfsProtocol.PollEntryBytes, Is.LessThanOrEqualTo(VfsProtocol.PayloadBytes));
        Assert.That(ReadinessBoard.SlotsStart + ReadinessBoard.Slots * ReadinessBoard.SlotBytes, Is.LessThanOrEqualTo(VfsProtocol.Generation));
        Assert.That(ReadinessBoard.Slots, Is.EqualTo(224));
        Assert.That(VfsProtocol.Board % 64, Is.EqualTo(0));
    }

    [Test]
    public void ManySocketsOnTheBoardLeaveEverySendsExtraWordsAlone()
    {
        SharedProcess p = _tree.Attach(40);
        (RemoteSocket listener, TcpConnection peer, RemoteSocket accepted) = Connected(p);
        var sockets = new List<RemoteSocket> { listener, accepted };
        for (int i = 0; i < 40; i++) sockets.Add(NewSocket(p, LinuxSocket.SOCK_DGRAM));
        p.Client.PollMany(sockets, false);
        foreach (RemoteSocket remote in sockets) Assert.That(p.Client.BoardShows(remote), Is.True);
        // The server may write a board while its process is between filling a call's payload and
        // making the call (preempted, a frame arrives): no slot may lie in the payload.
        byte* buffer = p.Transport.Buffer;
        int used = VfsProtocol.Payload + VfsProtocol.SendExtraData + 16; // the last bytes a call's payload uses
        for (int i = VfsProtocol.Payload; i < used; i++) buffer[i] = 0xA5;
        foreach (RemoteSocket remote in sockets)
            _tree.Server.Publish(((SocketNode)_tree.Server.Files.Table.Get(remote.Handle.ServerFd).Node).Socket);
        int touched = 0;
        for (int i = VfsProtocol.Payload; i < used; i++) if (buffer[i] != 0xA5) touched++;
        Assert.That(touched, Is.Zero, "bytes of the payload the board's writes changed");
        for (int i = 0; i < 5; i++) Assert.That(Send(p, accepted, "abc"), Is.EqualTo(3), "send " + i.ToString());
        Assert.That(peer, Is.Not.Null);
    }

    /// <summary>An event loop's accept (SOCK_NONBLOCK) subscribes the new socket to a board slot in
    /// the same call, so its epoll_ctl and first look ask the server nothing (nginx's connection a
    /// request: one PollMany call less); the board shows its bytes when they come.</summary>
    [Test]
    public void ANonBlockingAcceptSubscribesTheNewSocketToTheBoardInTheSameCall()
    {
        SharedProcess p = _tree.Attach(40);
        RemoteSocket listener = Listening(p, 8081);
        TcpConnection peer = _tcpB.CreateConnection();
        Assert.That(peer.Connect(IpA, 8081, _now), Is.EqualTo(TcpError.InProgress));
        Run();
        byte[] address = new byte[LinuxSocket.AddressBytes];
        RemoteSocket? accepted;
        ulong before = _tree.Server.Requests;
        long result;
        fixed (byte* q = address) result = p.Client.Accept(listener, LinuxSocket.SOCK_NONBLOCK, q, out _, out accepted);
        Assert.That(result, Is.EqualTo(0));
        Assert.That(_tree.Server.Requests - before, Is.LessThanOrEqualTo(2UL), "the accept (and the lend page's registration, once)");
        ulong afterAccept = _tree.Server.Requests;
        Assert.That(p.Client.BoardShows(accepted!), Is.True, "the accept subscribed it");
        const short POLLIN = 1, POLLOUT = 4;
        Assert.That(p.Client.PollBoard(accepted!, out short revents), Is.True);
        Assert.That(revents & (POLLIN | POLLOUT), Is.EqualTo(POLLOUT), "connected, nothing to read");
        Assert.That(peer.Send(Encoding.ASCII.GetBytes("GET /"), _now), Is.EqualTo(5));
        Run();
        Assert.That(p.Client.PollBoard(accepted!, out revents), Is.True);
        Assert.That(revents & POLLIN, Is.EqualTo(POLLIN), "the bytes show on the board");
        Assert.That(_tree.Server.Requests, Is.EqualTo(afterAccept), "looks asked the server nothing");
        // A blocking accept leaves the socket off the board (a thread-per-connection server's
        // sockets are asked when polled, as before).
        TcpConnection second = _tcpB.CreateConnection();
        Assert.That(second.Connect(IpA, 8081, _now), Is.EqualTo(TcpError.InProgress));
        Run();
        RemoteSocket? blocking;
        fixed (byte* q = address) result = p.Client.Accept(listener, 0, q, out _, out blocking);
        Assert.That(result, Is.EqualTo(0));
        Assert.That(p.Client.BoardShows(blocking!), Is.False);
    }

    [Test]
    public void EpollLooksReadTheReadinessBoardAndTheServerWakesAProcessWaitingOnIt()
    {
        SharedProcess p = _tree.Attach(40);
        (RemoteSocket listener, TcpConnection peer, RemoteSocket accepted) = Connected(p);
        const short POLLIN = 1, POLLOUT = 4;
        // Before a look subscribes it, the board does not show the socket: it is asked.
        Assert.That(p.Client.BoardShows(accepted), Is.False);
        Assert.That(p.Client.PollBoard(accepted, out _), Is.False);
        p.Client.PollMany(new List<RemoteSocket> { listener, accepted }, false);
        Assert.That(p.Client.BoardShows(accepted) && p.Client.BoardShows(listener), Is.True, "one PollMany subscribed both");
        ulong requests = _tree.Server.Requests;
        Assert.That(p.Client.PollBoard(accepted, out short revents), Is.True);
        Assert.That(revents & (POLLIN | POLLOUT), Is.EqualTo(POLLOUT), "connected, nothing to read");
        long changes = accepted.Changes;

        // Bytes arrive: the server's loop writes the slot (no call), and the change count moves.
        VfsClient.PollWatch = true; // a look before a sleep arms the board
        Assert.That(p.Client.PollBoard(accepted, out _), Is.True);
        VfsClient.PollWatch = false;
        Assert.That(peer.Send(Encoding.ASCII.GetBytes("GET /"), _now), Is.EqualTo(5));
        Run();
        Assert.That(_tree.BoardWakes, Is.EqualTo(new[] { 40UL }), "the armed board's change woke the process once");
        Assert.That(p.Client.PollBoard(accepted, out revents), Is.True);
        Assert.That(revents & POLLIN, Is.EqualTo(POLLIN));
        Assert.That(accepted.Changes, Is.GreaterThan(changes), "an edge-triggered epoll reports the new bytes");
        Assert.That(_tree.Server.Requests, Is.EqualTo(requests), "looks at the board asked the server nothing");

        // The receive empties the socket and the slot says so: the next MSG_DONTWAIT receive
        // answers EAGAIN without a call; a blocking one still goes to the server.
        Assert.That(Receive(p, accepted, out long got), Is.EqualTo("GET /"));
        Assert.That(p.Client.PollBoard(accepted, out revents), Is.True);
        Assert.That(revents & POLLIN, Is.EqualTo(0));
        requests = _tree.Server.Requests;
        byte[] buffer = new byte[16];
        fixed (byte* q = buffer) Assert.That(p.Client.Receive(accepted, q, 16, LinuxSocket.MSG_DONTWAIT, null, out _), Is.EqualTo(-Errno.EAGAIN));
        Assert.That(_tree.Server.Requests, Is.EqualTo(requests));
        Assert.That(p.Client.BoardAgains, Is.EqualTo(1));
        Assert.That(_tree.BoardWakes.Count, Is.EqualTo(1), "an unarmed board is written but nobody is woken");

        // The peer closes: the slot shows the end (a receive then answers 0 from the server).
        peer.Close(_now);
        Run();
        Assert.That(p.Client.PollBoard(accepted, out revents), Is.True);
        Assert.That(revents & POLLIN, Is.EqualTo(POLLIN), "end of stream is readable");
        fixed (byte* q = buffer) Assert.That(p.Client.Receive(accepted, q, 16, LinuxSocket.MSG_DONTWAIT, null, out _), Is.EqualTo(0));

        // A board the server took anew (a re-registered buffer) shows nothing: the process asks again.
        ReadinessBoard.Clear(p.Transport.Buffer);
        Assert.That(p.Client.PollBoard(accepted, out _), Is.False);
        Assert.That(p.Client.Poll(accepted, POLLIN, false, out _) & POLLIN, Is.EqualTo(POLLIN));
    }

    private Socket ServerSocket(RemoteSocket remote) => ((SocketNode)_tree.Server.Files.Table.Get(remote.Handle.ServerFd).Node).Socket;

    [Test]
    public void BytesWaitingOnAWatchedSocketAreLentToTheProcessAndItsReceivesNeedNoCall()
    {
        SharedProcess p = _tree.Attach(41);
        (RemoteSocket listener, TcpConnection peer, RemoteSocket accepted) = Connected(p);
        p.Client.PollMany(new List<RemoteSocket> { listener, accepted }, false);
        Assert.That(p.Transport.LendAsked, Is.True, "a process that subscribes asks for a lend page");
        Socket socket = ServerSocket(accepted);

        Assert.That(peer.Send(Encoding.ASCII.GetBytes("hello world"), _now), Is.EqualTo(11));
        Run();
        Assert.That(_tree.Server.Lends, Is.EqualTo(1), "the slot's write lent the bytes");
        Assert.That(socket.Lent, Is.EqualTo(11));
        Assert.That(socket.ReadableBytes, Is.EqualTo(11), "lent bytes stay queued in the server");
        ulong requests = _tree.Server.Requests;
        Assert.That(p.Client.PollBoard(accepted, out short revents), Is.True);
        Assert.That(revents & 1, Is.EqualTo(1), "readable: the lent bytes");
        byte[] buffer = new byte[32];
        fixed (byte* q = buffer)
        {
            Assert.That(p.Client.Receive(accepted, q, 5, LinuxSocket.MSG_PEEK, null, out _), Is.EqualTo(5));
            Assert.That(Encoding.ASCII.GetString(buffer, 0, 5), Is.EqualTo("hello"));
        }
        Assert.That(Receive(p, accepted, out _, 5), Is.EqualTo("hello"), "a peek took nothing");
        Assert.That(Receive(p, accepted, out _), Is.EqualTo(" world"));
        fixed (byte* q = buffer) Assert.That(p.Client.Receive(accepted, q, 16, LinuxSocket.MSG_DONTWAIT, null, out _), Is.EqualTo(-Errno.EAGAIN));
        Assert.That(p.Client.PollBoard(accepted, out revents), Is.True);
        Assert.That(revents & 1, Is.EqualTo(0), "nothing beyond what was taken");
        Assert.That(_tree.Server.Requests, Is.EqualTo(requests), "receives and looks asked the server nothing");
        Assert.That(p.Client.LentReceives, Is.EqualTo(3));

        // The process's next call (here its answer) takes back what it took: the socket is empty.
        Assert.That(Send(p, accepted, "ok"), Is.EqualTo(2));
        Assert.That(socket.Lent, Is.Zero);
        Assert.That(socket.ReadableBytes, Is.Zero, "what the process took left the socket");
        Assert.That(_tree.Server.LentBytesTaken, Is.EqualTo(11));

        // Partly taken, then another call: the rest goes back to the socket, shown readable again
        // (lent anew when the slot is written), and nothing is read twice or lost.
        Assert.That(peer.Send(Encoding.ASCII.GetBytes("abcdef"), _now), Is.EqualTo(6));
        Run();
        Assert.That(Receive(p, accepted, out _, 2), Is.EqualTo("ab"));
        Assert.That(p.Client.Fstat(accepted.Handle).Mode & LinuxFile.S_IFMT, Is.EqualTo(LinuxFile.S_IFSOCK));
        Assert.That(socket.ReadableBytes, Is.EqualTo(4), "the two taken went, four stay");
        Assert.That(p.Client.PollBoard(accepted, out revents), Is.True);
        Assert.That(revents & 1, Is.EqualTo(1), "the slot was written again after the call");
        Assert.That(Receive(p, accepted, out _), Is.EqualTo("cdef"));

        // A description held twice (a fork's duplicates) is never lent: the other holder could read it.
        Assert.That(Send(p, accepted, "x"), Is.EqualTo(1)); // (takes back "cdef")
        Assert.That(p.Client.BeforeFork(99), Is.EqualTo(0));
        long lends = _tree.Server.Lends;
        Assert.That(peer.Send(Encoding.ASCII.GetBytes("dup"), _now), Is.EqualTo(3));
        Run();
        Assert.That(_tree.Server.Lends, Is.EqualTo(lends));
        Assert.That(Receive(p, accepted, out _), Is.EqualTo("dup"));
    }

    [Test]
    public void ABufferTheServerLetsGoGivesBackWhatWasLentInIt()
    {
        SharedProcess p = _tree.Attach(44);
        (RemoteSocket listener, TcpConnection peer, RemoteSocket accepted) = Connected(p);
        p.Client.PollMany(new List<RemoteSocket> { listener, accepted }, false);
        Socket socket = ServerSocket(accepted);
        Assert.That(peer.Send(Encoding.ASCII.GetBytes("abcdef"), _now), Is.EqualTo(6));
        Run();
        Assert.That(Receive(p, accepted, out _, 2), Is.EqualTo("ab"));
        // The server takes the buffer for another process (VfsIpc.Claim): what was taken goes,
        // the rest stays queued, lent no more, and the page shows nothing.
        _tree.Server.EndLending(44, p.Transport.Lend, republish: false);
        Assert.That(socket.Lent, Is.Zero);
        Assert.That(socket.ReadableBytes, Is.EqualTo(4));
        Assert.That(LendArea.Remaining(p.Transport.Lend, accepted.Handle.ServerFd), Is.Zero);
        Assert.That(Receive(p, accepted, out _), Is.EqualTo("cdef"), "read by a call now");
    }

    [Test]
    public void SeveralWatchedSocketsAreLentAtOnceEachInAnAreaOfItsOwn()
    {
        SharedProcess p = _tree.Attach(43);
        RemoteSocket listener = Listening(p, 8080);
        const int connections = LendArea.Areas + 2; // two more than there are areas
        var peers = new List<TcpConnection>();
        var accepted = new List<RemoteSocket>();
        for (int i = 0; i < connections; i++)
        {
            TcpConnection peer = _tcpB.CreateConnection();
            peer.Options.NoDelay = true;
            Assert.That(peer.Connect(IpA, 8080, _now), Is.EqualTo(TcpError.InProgress));
            Run();
            byte[] address = new byte[LinuxSocket.AddressBytes];
            RemoteSocket? connection;
            fixed (byte* q = address) Assert.That(p.Client.Accept(listener, 0, q, out _, out connection), Is.GreaterThanOrEqualTo(0));
            peers.Add(peer);
            accepted.Add(connection!);
        }
        Assert.That(accepted.Count, Is.EqualTo(connections));
        p.Client.PollMany(accepted, false);
        for (int i = 0; i < connections; i++) Assert.That(peers[i].Send(Encoding.ASCII.GetBytes("GET /" + i.ToString()), _now), Is.GreaterThan(0));
        Run();
        Assert.That(_tree.Server.Lends, Is.EqualTo(LendArea.Areas), "every area lent, to a socket each");
        ulong requests = _tree.Server.Requests;
        var seen = new HashSet<string>();
        int fromAreas = 0;
        foreach (RemoteSocket socket in accepted)
        {
            long before = p.Client.LentReceives;
            string text = Receive(p, socket, out _);
            if (p.Client.LentReceives > before) fromAreas++;
            seen.Add(text);
        }
        Assert.That(fromAreas, Is.EqualTo(LendArea.Areas));
        Assert.That(_tree.Server.Requests - requests, Is.EqualTo((ulong)(connections - LendArea.Areas)), "only the sockets without an area asked");
        for (int i = 0; i < connections; i++) Assert.That(seen, Does.Contain("GET /" + i.ToString()));
    }

    [Test]
    public void LentBytesArriveOnceAndInOrderWhateverTheProcessDoesBetween()
    {
        SharedProcess p = _tree.Attach(42);
        (RemoteSocket listener, TcpConnection peer, RemoteSocket accepted) = Connected(p);
        p.Client.PollMany(new List<RemoteSocket> { listener, accepted }, false);
        var random = new Random(12);
        var sent = new List<byte>();
        var received = new List<byte>();
        byte[] buffer = new byte[6000];
        for (int round = 0; round < 300; round++)
        {
            if (random.Next(3) == 0 || sent.Count - received.Count < 100)
            {
                byte[] chunk = new byte[random.Next(1, 3000)];
                random.NextBytes(chunk);
                int went = peer.Send(chunk, _now);
                if (went > 0) sent.AddRange(chunk.Take(went));
                Run();
            }
            int action = random.Next(10);
            fixed (byte* q = buffer)
            {
                if (action < 6)
                {
                    int flags = random.Next(4) == 0 ? LinuxSocket.MSG_PEEK : LinuxSocket.MSG_DONTWAIT;
                    long got = p.Client.Receive(accepted, q, random.Next(1, buffer.Length), flags, null, out _);
                    if (got > 0)
                    {
                        byte[] expected = sent.Skip(received.Count).Take((int)got).ToArray();
                        Assert.That(buffer.Take((int)got).ToArray(), Is.EqualTo(expected), "round " + round.ToString() + ": bytes out of order or read twice");
                        if (flags != LinuxSocket.MSG_PEEK) received.AddRange(expected);
                    }
                    else Assert.That(got, Is.EqualTo(-Errno.EAGAIN), "round " + round.ToString());
                }
                else if (action < 8) Assert.That(p.Client.Fstat(accepted.Handle).Mode & LinuxFile.S_IFMT, Is.EqualTo(LinuxFile.S_IFSOCK)); // another call
                else Run(); // time passes, slots are written again
            }
        }
        for (int i = 0; i < 100 && received.Count < sent.Count; i++)
        {
            Run();
            fixed (byte* q = buffer)
            {
                long got = p.Client.Receive(accepted, q, buffer.Length, LinuxSocket.MSG_DONTWAIT, null, out _);
                if (got > 0) received.AddRange(buffer.Take((int)got));
            }
        }
        Assert.That(received.Count, Is.EqualTo(sent.Count));
        Assert.That(received.SequenceEqual(sent), Is.True, "the stream arrived whole and in order");
        Assert.That(_tree.Server.Lends, Is.GreaterThan(10), "bytes were lent along the way");
        Assert.That(p.Client.LentReceives, Is.GreaterThan(10));
    }

    [Test]
    public void AClosedSocketsBoardSlotIsDroppedAndAnotherProcessCannotWriteIntoIt()
    {
        SharedProcess p = _tree.Attach(40), other = _tree.Attach(41);
        (RemoteSocket listener, TcpConnection peer, RemoteSocket accepted) = Connected(p);
        p.Client.PollMany(new List<RemoteSocket> { accepted }, false);
        int slot = accepted.BoardSlot - 1;
        int fd = accepted.Handle.ServerFd;
        Assert.That(slot, Is.GreaterThanOrEqualTo(0));
        // Another process naming p's descriptor subscribes nothing (it does not hold it).
        byte* payload = other.Transport.Buffer + VfsProtocol.Payload;
        *(int*)payload = fd;
        *(int*)(payload + 4) = slot + 1;
        Assert.That(_tree.Server.Handle(41, VfsProtocol.PollMany, 1, VfsProtocol.PollSubscribe, 0, other.Transport.Buffer, VfsProtocol.BufferBytes, out _), Is.EqualTo(0));
        Assert.That(*(short*)(payload + 6), Is.EqualTo(0x20), "POLLNVAL");
        Assert.That(ReadinessBoard.Read(other.Transport.Buffer, slot, fd, out _, out _, out _), Is.False);
        // An out-of-range slot is refused without writing anything.
        byte* own = p.Transport.Buffer + VfsProtocol.Payload;
        *(int*)own = fd;
        *(int*)(own + 4) = ReadinessBoard.Slots + 1;
        long writes = _tree.Server.BoardWrites;
        Assert.That(_tree.Server.Handle(40, VfsProtocol.PollMany, 1, VfsProtocol.PollSubscribe, 0, p.Transport.Buffer, VfsProtocol.BufferBytes, out _), Is.EqualTo(0));
        Assert.That(_tree.Server.BoardWrites, Is.EqualTo(writes));
        // Closing releases the slot for reuse; the server's next change of the socket drops the subscription.
        var file = new OpenFile(p.Fs, accepted, LinuxFile.O_RDWR, "socket:[0]");
        file.Release();
        Assert.That(accepted.BoardSlot, Is.EqualTo(0));
        writes = _tree.Server.BoardWrites;
        peer.Send(Encoding.ASCII.GetBytes("late"), _now);
        Run();
        Assert.That(_tree.Server.BoardWrites, Is.EqualTo(writes), "a closed descriptor's slot is written no more");
        Assert.That(listener, Is.Not.Null);
    }

    [Test]
    public void AStreamSocketListensAcceptsEchoesAndCloses()
    {
        SharedProcess p = _tree.Attach(10);
        var (listener, peer, connection) = Connected(p);
        byte[] name = new byte[LinuxSocket.AddressBytes];
        fixed (byte* q = name) Assert.That(p.Client.Name(listener, false, q), Is.EqualTo(16));
        Assert.That(name[2] << 8 | name[3], Is.EqualTo(8080), "getsockname gives the bound port");

        Assert.That(peer.Send(Encoding.ASCII.GetBytes("hello over TCP"), _now), Is.EqualTo(14));
        Run();
        Assert.That(p.Client.Poll(connection, 0x1, false, out _) & 0x1, Is.EqualTo(0x1), "POLLIN once data is there");
        Assert.That(Receive(p, connection, out _), Is.EqualTo("hello over TCP"));
        Assert.That(Send(p, connection, "and back"), Is.EqualTo(8));
        Run();
        byte[] got = new byte[64];
        int n = peer.Receive(got, _now);
        Assert.That(Encoding.ASCII.GetString(got, 0, n), Is.EqualTo("and back"), "what the remote host received");

        Assert.That(p.Files.Close(FdOf(p, connection)), Is.EqualTo(0));
        Run();
        Assert.That(peer.PeerClosed, Is.True, "closing the last descriptor sends the FIN at once");
        Assert.That(p.Files.Close(FdOf(p, listener)), Is.EqualTo(0));
        Run();
        Assert.That(_sockets.Open, Is.EqualTo(0), "no socket left in the server");
    }

    /// <summary>The client's fd table holds the proxies the tests made through the client directly:
    /// install them like socket() does, to close them through LinuxFiles.</summary>
    private static int FdOf(SharedProcess p, RemoteSocket s)
    {
        for (int fd = 0; fd < 64; fd++)
            if (p.Files.Table.Get(fd)?.Node == s) return fd;
        var file = new OpenFile(p.Fs, s, LinuxFile.O_RDWR, null);
        return p.Files.Table.Install(file, false);
    }

    [Test]
    public void ABlockingAcceptRecordsTheCallerAndTheConnectionWakesIt()
    {
        SharedProcess p = _tree.Attach(11);
        RemoteSocket listener = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(Bind(p, listener, Ipv4Address.Any, 9000), Is.EqualTo(0));
        Assert.That(p.Client.Listen(listener, 4), Is.EqualTo(0));
        byte[] address = new byte[LinuxSocket.AddressBytes];
        // No SocketWait on the host: a blocked call comes back as EAGAIN after the server recorded the caller.
        fixed (byte* q = address) Assert.That(p.Client.Accept(listener, 0, q, out _, out _), Is.EqualTo(-Errno.EAGAIN));
        Run();
        Assert.That(_woken, Is.Empty, "nothing changed yet");
        TcpConnection peer = _tcpB.CreateConnection();
        peer.Connect(IpA, 9000, _now);
        Run();
        Assert.That(_woken, Is.EqualTo(new[] { 11UL }), "the connection woke the recorded caller, once");
        fixed (byte* q = address) Assert.That(p.Client.Accept(listener, 0, q, out _, out RemoteSocket? accepted), Is.EqualTo(0));
    }

    [Test]
    public void PollWithTheWatchBitRecordsTheCallerReadyOrNotAndCountsChanges()
    {
        SharedProcess p = _tree.Attach(12);
        var (_, peer, connection) = Connected(p, 9100);
        Assert.That(p.Client.Poll(connection, 0x1, true, out bool recorded), Is.EqualTo((short)0x4), "writable, not readable");
        Assert.That(recorded, Is.True);
        long changes = connection.Changes;
        peer.Send(Encoding.ASCII.GetBytes("x"), _now);
        Run();
        Assert.That(_woken, Is.EqualTo(new[] { 12UL }), "the data woke the recorded caller, once");
        _woken.Clear();
        // Ready now, and recorded all the same: an edge-triggered epoll that already reported it
        // sleeps, and the next data must wake it (nginx's keep-alive connections).
        Assert.That(p.Client.Poll(connection, 0x1, true, out recorded) & 0x1, Is.EqualTo(0x1));
        Assert.That(recorded, Is.True);
        Assert.That(connection.Changes, Is.GreaterThan(changes), "the reply counts the socket's changes");
        peer.Send(Encoding.ASCII.GetBytes("y"), _now);
        Run();
        Assert.That(_woken, Is.EqualTo(new[] { 12UL }), "more data wakes a caller recorded on a ready socket");
        _woken.Clear();
        Assert.That(p.Client.Poll(connection, 0x1, false, out _) & 0x1, Is.EqualTo(0x1));
        peer.Send(Encoding.ASCII.GetBytes("z"), _now);
        Run();
        Assert.That(_woken, Is.Empty, "without the watch bit nobody is recorded");
    }

    [Test]
    public void AnAckThatOnlyFreesRoomInAWritableQueueWakesNobodyButDataDoes()
    {
        // nginx waits in epoll_wait after its answer; the peer's ACKs for that answer change
        // nothing it can see (the queue was writable and stays so), and must not wake it.
        SharedProcess p = _tree.Attach(13);
        var (_, peer, connection) = Connected(p, 9150);
        var answer = new byte[13 * 1460]; // whole segments: Nagle holds back no tail
        fixed (byte* a = answer) Assert.That(p.Client.Send(connection, a, answer.Length, 0, null, 0), Is.EqualTo(answer.Length));
        Assert.That(p.Client.Poll(connection, 0x1, true, out bool recorded), Is.EqualTo((short)0x4), "writable, not readable");
        Assert.That(recorded, Is.True);
        long changes = connection.Changes;
        Run(8);
        var got = new byte[answer.Length];
        Assert.That(peer.Receive(got, _now), Is.EqualTo(answer.Length), "the peer has it all: every byte acknowledged");
        Assert.That(_woken, Is.Empty, "the ACKs woke nobody");
        Assert.That(p.Client.Poll(connection, 0x1, true, out _), Is.EqualTo((short)0x4));
        Assert.That(connection.Changes, Is.EqualTo(changes), "nor counted as a change (an edge-triggered epoll reports nothing new)");
        peer.Send(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n\r\n"), _now);
        Run();
        Assert.That(_woken, Is.EqualTo(new[] { 13UL }), "the next request wakes it");
    }

    [Test]
    public void AForkedChildAcceptsOnTheSharedListenerAndItsCloseLeavesTheParentsSocket()
    {
        SharedProcess parent = _tree.Attach(20);
        RemoteSocket listener = Listening(parent, 80, 8);
        int fd = FdOf(parent, listener);
        Assert.That(parent.Client.BeforeFork(21), Is.EqualTo(0));
        parent.Transport.Id = 21; // the child's side: same proxies, the duplicated server descriptors
        TcpConnection peer = _tcpB.CreateConnection();
        peer.Connect(IpA, 80, _now);
        Run();
        byte[] address = new byte[LinuxSocket.AddressBytes];
        fixed (byte* q = address) Assert.That(parent.Client.Accept(listener, 0, q, out _, out RemoteSocket? child), Is.EqualTo(0));
        Assert.That(parent.Files.Close(fd), Is.EqualTo(0));
        parent.Client.Flush();
        Assert.That(_tree.Server.DescriptorsOf(20), Is.EqualTo(1), "the parent still holds its listener");
        Assert.That(_sockets.Open, Is.EqualTo(2), "the listener and the accepted connection");
    }

    [Test]
    public void DatagramsGoBothWaysWithTheirAddresses()
    {
        SharedProcess p = _tree.Attach(30);
        RemoteSocket s = NewSocket(p, LinuxSocket.SOCK_DGRAM | LinuxSocket.SOCK_NONBLOCK);
        Assert.That(Bind(p, s, Ipv4Address.Any, 5353), Is.EqualTo(0));
        UdpSocket remote = _b.Udp.Open();
        Assert.That(remote.Bind(6000), Is.EqualTo(UdpError.None));
        Assert.That(remote.SendTo(IpA, 5353, Encoding.ASCII.GetBytes("ping")), Is.EqualTo(UdpError.None));
        Run();
        byte[] buffer = new byte[64], from = new byte[LinuxSocket.AddressBytes];
        long n;
        int length;
        fixed (byte* q = buffer) fixed (byte* f = from) n = p.Client.Receive(s, q, 64, 0, f, out length);
        Assert.That(Encoding.ASCII.GetString(buffer, 0, (int)n), Is.EqualTo("ping"));
        Assert.That((length, from[2] << 8 | from[3]), Is.EqualTo((16, 6000)));
        byte[] reply = Encoding.ASCII.GetBytes("pong");
        fixed (byte* q = reply) fixed (byte* f = from) Assert.That(p.Client.Send(s, q, 4, 0, f, 16), Is.EqualTo(4));
        Run();
        byte[] got = new byte[16];
        Assert.That(remote.TryReceive(got, out Ipv4Address source, out ushort port), Is.EqualTo(4));
        Assert.That((Encoding.ASCII.GetString(got, 0, 4), source, port), Is.EqualTo(("pong", IpA, (ushort)5353)));
        fixed (byte* q = buffer) Assert.That(p.Client.Receive(s, q, 64, 0, null, out _), Is.EqualTo(-Errno.EAGAIN), "nothing more: EAGAIN");
    }

    [Test]
    public void BadSocketCallsGetErrorsAndChangeNothing()
    {
        SharedProcess p = _tree.Attach(40), other = _tree.Attach(41);
        Assert.That(p.Client.Socket(LinuxSocket.AF_INET6, LinuxSocket.SOCK_STREAM, 0, out _), Is.EqualTo(-Errno.EAFNOSUPPORT));
        Assert.That(p.Client.Socket(LinuxSocket.AF_INET, LinuxSocket.SOCK_RAW, 0, out _), Is.EqualTo(-Errno.ESOCKTNOSUPPORT));
        Assert.That(p.Client.Socket(LinuxSocket.AF_INET, LinuxSocket.SOCK_STREAM, 17, out _), Is.EqualTo(-Errno.EPROTONOSUPPORT));
        RemoteSocket a = NewSocket(p, LinuxSocket.SOCK_STREAM), b = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(Bind(p, a, Ipv4Address.Any, 7000), Is.EqualTo(0));
        Assert.That(Bind(p, b, Ipv4Address.Any, 7000), Is.EqualTo(-Errno.EADDRINUSE));
        Assert.That(Bind(p, b, new Ipv4Address(192, 168, 9, 9), 7001), Is.EqualTo(-Errno.EADDRNOTAVAIL), "not this machine's address");
        byte[] shortAddress = new byte[8];
        fixed (byte* q = shortAddress) Assert.That(p.Client.Bind(b, q, 8), Is.EqualTo(-Errno.EINVAL));
        Assert.That(Send(p, b, "x"), Is.EqualTo(-Errno.EPIPE), "as Linux: a stream never connected");
        // Another process's descriptor number: EBADF; a file: ENOTSOCK.
        int serverFd = a.Handle.ServerFd;
        ulong reply;
        Assert.That(_tree.Server.Handle(41, VfsProtocol.Listen, (ulong)serverFd, 1, 0, other.Transport.Buffer, VfsProtocol.BufferBytes, out reply), Is.EqualTo(-Errno.EBADF));
        other.CreateFile("/f", "data");
        long file = other.Open("/f", LinuxFile.O_RDONLY);
        var remote = (RemoteFile)other.Files.Table.Get((int)file)!.Node;
        Assert.That(_tree.Server.Handle(41, VfsProtocol.Listen, (ulong)remote.Handle.ServerFd, 1, 0, other.Transport.Buffer, VfsProtocol.BufferBytes, out reply), Is.EqualTo(-Errno.ENOTSOCK));
        Assert.That(_tree.Server.Handle(40, VfsProtocol.SendTo, (ulong)serverFd, 100_000, 0, p.Transport.Buffer, VfsProtocol.BufferBytes, out reply), Is.EqualTo(-Errno.EINVAL), "a count past the buffer");
        p.Client.Goodbye();
        Assert.That(_sockets.Open, Is.EqualTo(0), "exit closes the process's sockets");
    }

    /// <summary>sendfile from a server file to a socket moves the bytes inside the server, from the
    /// description's position (which moves) or from an offset (which does not move it).</summary>
    [Test]
    public void SendfileFromAFileToASocketArrivesWholeAndMovesThePosition()
    {
        SharedProcess p = _tree.Attach(60);
        var (_, peer, connection) = Connected(p, 9200);
        var content = new StringBuilder();
        for (int i = 0; content.Length < 150_000; i++) content.Append("line ").Append(i).Append('\n');
        p.CreateFile("/doc", content.ToString());
        int socketFd = FdOf(p, connection);
        long fileFd = p.Open("/doc", LinuxFile.O_RDONLY);
        var received = new List<byte>();
        byte[] buffer = new byte[65536];
        long total = 0;
        for (int round = 0; round < 50 && total < content.Length; round++)
        {
            long sent = p.Files.SendFile(socketFd, (int)fileFd, null, content.Length - total);
            Assert.That(sent, Is.GreaterThan(0).Or.EqualTo(-Errno.EAGAIN), "round " + round);
            if (sent > 0) total += sent;
            Run();
            int n;
            while ((n = peer.Receive(buffer, _now)) > 0) received.AddRange(buffer.AsSpan(0, n).ToArray());
            Run();
        }
        Assert.That(total, Is.EqualTo(content.Length));
        for (int round = 0; round < 20 && received.Count < total; round++)
        {
            Run();
            int n;
            while ((n = peer.Receive(buffer, _now)) > 0) received.AddRange(buffer.AsSpan(0, n).ToArray());
        }
        Assert.That(Encoding.ASCII.GetString(received.ToArray()), Is.EqualTo(content.ToString()), "what the remote host received");
        Assert.That(p.Files.Seek((int)fileFd, 0, LinuxFile.SEEK_CUR), Is.EqualTo(content.Length), "the position moved");
        long offset = 5;
        Assert.That(p.Files.SendFile(socketFd, (int)fileFd, &offset, 10), Is.EqualTo(10));
        Assert.That(offset, Is.EqualTo(15));
        Assert.That(p.Files.Seek((int)fileFd, 0, LinuxFile.SEEK_CUR), Is.EqualTo(content.Length), "an offset leaves the position");
        int got = -1;
        for (int round = 0; round < 100 && got <= 0; round++) // a small segment may wait for Nagle and delayed ACKs
        {
            Run();
            got = peer.Receive(buffer, _now);
        }
        Assert.That(got, Is.EqualTo(10));
        Assert.That(Encoding.ASCII.GetString(buffer, 0, got), Is.EqualTo(content.ToString().Substring(5, 10)));
    }

    /// <summary>Two sockets of the machine talk over 127.0.0.1 (the stack's loopback): nothing goes
    /// on the wire, and each end names the other at 127.0.0.1.</summary>
    [Test]
    public void ASocketConnectsToAListenerOfTheSameMachineOverLoopback()
    {
        SharedProcess p = _tree.Attach(70);
        RemoteSocket listener = NewSocket(p, LinuxSocket.SOCK_STREAM | LinuxSocket.SOCK_NONBLOCK);
        Assert.That(Bind(p, listener, new Ipv4Address(127, 0, 0, 1), 7100), Is.EqualTo(0));
        Assert.That(p.Client.Listen(listener, 4), Is.EqualTo(0));
        RemoteSocket client = NewSocket(p, LinuxSocket.SOCK_STREAM | LinuxSocket.SOCK_NONBLOCK);
        int wireBefore = _wire.Sent.Count;
        byte[] address = Inet(new Ipv4Address(127, 0, 0, 1), 7100);
        fixed (byte* q = address) Assert.That(p.Client.Connect(client, q, 16), Is.EqualTo(-Errno.EINPROGRESS));
        Run();
        fixed (byte* q = address) Assert.That(p.Client.Connect(client, q, 16), Is.EqualTo(-Errno.EISCONN), "connected");
        byte[] peerName = new byte[LinuxSocket.AddressBytes];
        RemoteSocket? server;
        fixed (byte* q = peerName) Assert.That(p.Client.Accept(listener, 0, q, out _, out server), Is.EqualTo(0));
        Assert.That((peerName[4], peerName[5], peerName[6], peerName[7]), Is.EqualTo(((byte)127, (byte)0, (byte)0, (byte)1)));
        Assert.That(Send(p, client, "over loopback"), Is.EqualTo(13));
        Run();
        Assert.That(Receive(p, server!, out _), Is.EqualTo("over loopback"));
        Assert.That(Send(p, server!, "and back"), Is.EqualTo(8));
        Run();
        Assert.That(Receive(p, client, out _), Is.EqualTo("and back"));
        Assert.That(_wire.Sent.Count, Is.EqualTo(wireBefore), "nothing went on the wire");
    }

    /// <summary>TCP_CORK holds partial segments; turning it off sends what waits at once, in one
    /// segment (nginx corks its header and its sendfile'd body).</summary>
    [Test]
    public void CorkHoldsPartialSegmentsAndUncorkSendsThemTogether()
    {
        SharedProcess p = _tree.Attach(80);
        var (_, peer, connection) = Connected(p, 9300);
        int on = 1, off = 0;
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&on, 4), Is.EqualTo(0));
        Assert.That(Send(p, connection, "HEADER "), Is.EqualTo(7));
        Assert.That(Send(p, connection, "and body"), Is.EqualTo(8));
        Run();
        byte[] buffer = new byte[64];
        Assert.That(peer.Receive(buffer, _now), Is.EqualTo(-(int)TcpError.WouldBlock), "corked: nothing left");
        int sentBefore = _wire.Sent.Count;
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&off, 4), Is.EqualTo(0));
        Assert.That(_wire.Sent.Count, Is.EqualTo(sentBefore + 1), "one segment at once");
        Run();
        int n = peer.Receive(buffer, _now);
        Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("HEADER and body"));
    }

    /// <summary>nginx's answer: cork, header, file, uncork. On an accepted TCP socket (its peer an
    /// IPv4 address) a cork rides with the next send from the first (no request of its own), an
    /// uncork of a cork never told costs nothing, and the segments on the wire are the same: held
    /// while corked, pushed at the uncork.</summary>
    [Test]
    public void ACorkRidesWithTheNextSendAndTheWireSeesTheSameSegments()
    {
        SharedProcess p = _tree.Attach(81);
        var (_, peer, connection) = Connected(p, 9310);
        int on = 1, off = 0;
        // As nginx: no Nagle (an uncorked small send goes at once; the cork still holds them).
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_NODELAY, (byte*)&on, 4), Is.EqualTo(0));
        byte[] buffer = new byte[128];
        string received = "";
        for (int round = 0; round < 3; round++)
        {
            ulong before = _tree.Server.Requests;
            Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&on, 4), Is.EqualTo(0));
            Assert.That(_tree.Server.Requests - before, Is.EqualTo(0UL), "a cork waits for the send, the first one too");
            Assert.That(Send(p, connection, "HEAD" + round + " "), Is.EqualTo(6));
            Assert.That(Send(p, connection, "body" + round), Is.EqualTo(5));
            Run();
            Assert.That(peer.Receive(buffer, _now), Is.EqualTo(-(int)TcpError.WouldBlock), "round " + round + ": corked, nothing on the wire");
            int sentBefore = _wire.Sent.Count;
            Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&off, 4), Is.EqualTo(0));
            Assert.That(_wire.Sent.Count, Is.EqualTo(sentBefore + 1), "the uncork pushes one segment at once");
            Assert.That(_tree.Server.Requests - before, Is.EqualTo(3UL), "two sends and the uncork");
            Run();
            int n = peer.Receive(buffer, _now);
            received += Encoding.ASCII.GetString(buffer, 0, n);
        }
        Assert.That(received, Is.EqualTo("HEAD0 body0HEAD1 body1HEAD2 body2"));
        // A cork kept back and taken back before any send: no request, nothing held.
        ulong quiet = _tree.Server.Requests;
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&on, 4), Is.EqualTo(0));
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&off, 4), Is.EqualTo(0));
        Assert.That(_tree.Server.Requests, Is.EqualTo(quiet));
        Assert.That(Send(p, connection, "plain"), Is.EqualTo(5));
        Run();
        int m = peer.Receive(buffer, _now);
        Assert.That(m > 0 ? Encoding.ASCII.GetString(buffer, 0, m) : "", Is.EqualTo("plain"), "not corked: it goes at once");
        // getsockopt sees a kept-back cork (it is told first).
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&on, 4), Is.EqualTo(0));
        int value = 0;
        Assert.That(p.Client.GetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&value, 4), Is.EqualTo(4));
        Assert.That(value, Is.EqualTo(1));
    }

    /// <summary>Held sends (VfsClient.Sockets.cs): on a corked socket the board shows roomy, nginx's
    /// header and body stay in the process and go with the uncork in one call; the wire sees the
    /// same one segment; any other call to the server sends them first with the cork kept; a send
    /// larger than HoldBytes or a socket not on the board is not held.</summary>
    /// <summary>nginx's answer on a connection it then closes: cork, header, file, close (no
    /// uncork). The held bytes and the close go in one call (VfsProtocol.ClosesAfter), the bytes
    /// first: the peer reads the whole answer, then the end.</summary>
    [Test]
    public void HeldBytesAndTheirSocketsCloseGoInOneCallTheBytesFirst()
    {
        SharedProcess p = _tree.Attach(83);
        var (_, peer, connection) = Connected(p, 9330);
        int on = 1;
        p.Client.PollMany(new List<RemoteSocket> { connection }, false); // on the board: sends may be held
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&on, 4), Is.EqualTo(0));
        Assert.That(Send(p, connection, "HTTP/1.1 200 OK\r\n\r\n"), Is.EqualTo(19));
        Assert.That(Send(p, connection, "the body"), Is.EqualTo(8));
        Assert.That(p.Client.HeldSocket, Is.SameAs(connection));
        int serverFd = connection.Handle.ServerFd;
        ulong before = _tree.Server.Requests;
        connection.Handle.Release(); // as OpenFile's last close of a socket
        p.Client.Flush();
        Assert.That(_tree.Server.Requests - before, Is.EqualTo(1UL), "the held bytes and the close: one call");
        Assert.That(p.Client.HeldSocket, Is.Null);
        Assert.That(_tree.Server.Files.Table.Get(serverFd), Is.Null, "the server closed the descriptor");
        Run();
        byte[] buffer = new byte[256];
        int n = peer.Receive(buffer, _now);
        Assert.That(n > 0 ? Encoding.ASCII.GetString(buffer, 0, n) : "", Is.EqualTo("HTTP/1.1 200 OK\r\n\r\nthe body"));
        Assert.That(peer.Receive(buffer, _now), Is.EqualTo(0), "then the end (FIN)");
    }

    /// <summary>VfsProtocol.ClosesAfter: the listed closes are done only when the send took every
    /// byte; a send that failed leaves them (the client lists them again); another operation with
    /// the bit is malformed.</summary>
    [Test]
    public void ClosesListedAfterASendAreDoneOnlyWhenTheSendTookEveryByte()
    {
        SharedProcess p = _tree.Attach(84);
        var (_, _, connection) = Connected(p, 9340);
        int serverFd = connection.Handle.ServerFd;
        byte* buffer = p.Transport.Buffer;
        ((int*)buffer)[0] = serverFd;
        ulong word = (ulong)VfsProtocol.SendTo | 1UL << 8 | VfsProtocol.ClosesAfter;
        // A send on a descriptor the process does not hold: EBADF, and the listed close is not done.
        Assert.That(_tree.Server.Handle(84, word, 9999, 4, 0, buffer, VfsProtocol.BufferBytes, out _), Is.EqualTo(-Errno.EBADF));
        Assert.That(_tree.Server.Files.Table.Get(serverFd), Is.Not.Null, "a failed send leaves the close");
        // Another operation with the bit: refused, nothing closed.
        ((int*)buffer)[0] = serverFd;
        Assert.That(_tree.Server.Handle(84, (ulong)VfsProtocol.GetFlags | 1UL << 8 | VfsProtocol.ClosesAfter, (ulong)serverFd, 0, 0, buffer, VfsProtocol.BufferBytes, out _),
            Is.EqualTo(-Errno.EINVAL));
        Assert.That(_tree.Server.Files.Table.Get(serverFd), Is.Not.Null);
        // A whole send: done, then closed.
        ((int*)buffer)[0] = serverFd;
        *(long*)(buffer + VfsProtocol.Payload + VfsProtocol.SendExtraData) = 0;
        for (int i = 0; i < 4; i++) buffer[VfsProtocol.Payload + VfsProtocol.SocketData + i] = (byte)'x';
        Assert.That(_tree.Server.Handle(84, word, (ulong)serverFd, 4, 0, buffer, VfsProtocol.BufferBytes, out _), Is.EqualTo(4));
        Assert.That(_tree.Server.Files.Table.Get(serverFd), Is.Null, "closed after the send");
    }

    [Test]
    public void CorkedSendsAreHeldInTheProcessAndGoWithTheUncorkInOneCall()
    {
        SharedProcess p = _tree.Attach(82);
        var (_, peer, connection) = Connected(p, 9320);
        int on = 1, off = 0;
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_NODELAY, (byte*)&on, 4), Is.EqualTo(0));
        p.Client.PollMany(new List<RemoteSocket> { connection }, false); // an epoll's first look: on the board
        byte[] buffer = new byte[256];
        string received = "";
        for (int round = 0; round < 3; round++)
        {
            Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&on, 4), Is.EqualTo(0));
            ulong before = _tree.Server.Requests;
            Assert.That(Send(p, connection, "HEAD" + round + " "), Is.EqualTo(6));
            Assert.That(Send(p, connection, "body" + round), Is.EqualTo(5));
            Assert.That(_tree.Server.Requests, Is.EqualTo(before), "round " + round + ": both sends held");
            Assert.That(p.Client.HeldSocket, Is.SameAs(connection));
            Assert.That(VfsClient.Holding, Is.SameAs(p.Client));
            Run();
            Assert.That(peer.Receive(buffer, _now), Is.EqualTo(-(int)TcpError.WouldBlock), "nothing on the wire while held");
            int sentBefore = _wire.Sent.Count;
            Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&off, 4), Is.EqualTo(0));
            Assert.That(_tree.Server.Requests - before, Is.EqualTo(1UL), "the held bytes and the uncork: one call");
            Assert.That(_wire.Sent.Count, Is.EqualTo(sentBefore + 1), "one segment at once, as without holding");
            Assert.That(VfsClient.Holding, Is.Null);
            Run();
            int n = peer.Receive(buffer, _now);
            received += n > 0 ? Encoding.ASCII.GetString(buffer, 0, n) : "";
        }
        Assert.That(received, Is.EqualTo("HEAD0 body0HEAD1 body1HEAD2 body2"));
        int value = 0;
        Assert.That(p.Client.GetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&value, 4), Is.EqualTo(4));
        Assert.That(value, Is.EqualTo(0), "uncorked at the server");

        // Another call to the server sends what is held first, the cork kept: nothing leaves
        // until the uncork, and then all of it in order.
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&on, 4), Is.EqualTo(0));
        Assert.That(Send(p, connection, "first "), Is.EqualTo(6));
        Assert.That(p.Client.HeldSocket, Is.SameAs(connection));
        Assert.That(p.Client.Poll(connection, 1, false, out _) & 4, Is.EqualTo(4), "a poll: a server call");
        Assert.That(p.Client.HeldSocket, Is.Null, "flushed before the poll");
        Run();
        Assert.That(peer.Receive(buffer, _now), Is.EqualTo(-(int)TcpError.WouldBlock), "the cork went first: still held by TCP");
        Assert.That(p.Client.GetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&value, 4), Is.EqualTo(4));
        Assert.That(value, Is.EqualTo(1), "corked at the server by the flush");
        Assert.That(Send(p, connection, "second"), Is.EqualTo(6));
        ulong flushes = p.Client.HeldFlushes;
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&off, 4), Is.EqualTo(0));
        Assert.That(p.Client.HeldFlushes, Is.EqualTo(flushes + 1));
        Run();
        int m = peer.Receive(buffer, _now);
        Assert.That(m > 0 ? Encoding.ASCII.GetString(buffer, 0, m) : "", Is.EqualTo("first second"));

        // More than HoldBytes is not held: it goes at once (and the cork holds it in TCP as before).
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&on, 4), Is.EqualTo(0));
        ulong requests = _tree.Server.Requests;
        Assert.That(Send(p, connection, new string('x', VfsProtocol.HoldBytes + 1)), Is.EqualTo(VfsProtocol.HoldBytes + 1));
        Assert.That(_tree.Server.Requests, Is.GreaterThan(requests));
        Assert.That(p.Client.HeldSocket, Is.Null);
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&off, 4), Is.EqualTo(0));

        // Exit with bytes held: they go before the goodbye.
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&on, 4), Is.EqualTo(0));
        for (int i = 0; i < 20; i++) { Run(); while (peer.Receive(buffer, _now) > 0) { } }
        Assert.That(Send(p, connection, "last words"), Is.EqualTo(10));
        Assert.That(p.Client.HeldSocket, Is.SameAs(connection));
        p.Client.Goodbye();
        Assert.That(VfsClient.Holding, Is.Null);
        string tail = "";
        for (int i = 0; i < 30 && !tail.EndsWith("last words"); i++)
        {
            _now += 10_000;
            Run();
            int k = peer.Receive(buffer, _now);
            if (k > 0) tail += Encoding.ASCII.GetString(buffer, 0, k);
        }
        Assert.That(tail, Does.EndWith("last words"), "the close after the goodbye sent them");
    }

    /// <summary>An uncork pushes what waits past Nagle (Linux's TCP_NAGLE_PUSH), held sends too:
    /// with Nagle on and a byte unacknowledged, the held bytes of a cork never told to the server
    /// still leave at the uncork.</summary>
    [Test]
    public void HeldSendsLeaveAtTheUncorkEvenWhenNagleWouldHoldThem()
    {
        SharedProcess p = _tree.Attach(84);
        var (_, peer, connection) = Connected(p, 9340);
        int on = 1, off = 0;
        p.Client.PollMany(new List<RemoteSocket> { connection }, false);
        // The server takes a first cork (later corks wait for the next send).
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&on, 4), Is.EqualTo(0));
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&off, 4), Is.EqualTo(0));
        Assert.That(Send(p, connection, "a"), Is.EqualTo(1)); // in flight, not acknowledged (no Run)
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&on, 4), Is.EqualTo(0));
        Assert.That(Send(p, connection, "bc"), Is.EqualTo(2));
        Assert.That(p.Client.HeldSocket, Is.SameAs(connection));
        int sentBefore = _wire.Sent.Count;
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&off, 4), Is.EqualTo(0));
        Assert.That(_wire.Sent.Count, Is.EqualTo(sentBefore + 1), "the uncork pushed the held bytes past Nagle");
        Run();
        byte[] buffer = new byte[16];
        string got = "";
        for (int i = 0; i < 4; i++) { int n = peer.Receive(buffer, _now); if (n > 0) got += Encoding.ASCII.GetString(buffer, 0, n); Run(); }
        Assert.That(got, Is.EqualTo("abc"));
    }

    /// <summary>Which Linux calls leave held sends held (FileCalls.HoldingSurvives): every call
    /// that could sleep, fork, exit or read sends them first.</summary>
    [Test]
    public void HeldSendsGoBeforeAnyCallThatCouldSeeThem()
    {
        const ulong read = 0, nanosleep = 35, fork = 57, exit_group = 231, epoll_wait = 232, recvfrom = 45, getpid = 39, close = 3, write = 1, clock_gettime = 228;
        foreach (ulong number in new[] { read, nanosleep, fork, exit_group, epoll_wait, recvfrom })
            Assert.That(VfsClient.HoldingSurvives(number, null, null), Is.False, "call " + number);
        foreach (ulong number in new[] { getpid, clock_gettime })
            Assert.That(VfsClient.HoldingSurvives(number, null, null), Is.True, "call " + number);
        // A write or setsockopt to the held socket keeps holding, to anything else sends first; a
        // close of the held socket sends first, of anything else does not.
        SharedProcess p = _tree.Attach(83);
        var (listener, _, connection) = Connected(p, 9330);
        const ulong setsockopt = 54;
        Assert.That(VfsClient.HoldingSurvives(write, connection, connection), Is.True);
        Assert.That(VfsClient.HoldingSurvives(setsockopt, connection, connection), Is.True);
        Assert.That(VfsClient.HoldingSurvives(write, listener, connection), Is.False);
        Assert.That(VfsClient.HoldingSurvives(write, null, connection), Is.False);
        Assert.That(VfsClient.HoldingSurvives(close, connection, connection), Is.True, "its last close sends them with the close, in one call");
        Assert.That(VfsClient.HoldingSurvives(close, listener, connection), Is.True);
    }

    /// <summary>One call asks many sockets (an epoll's look): each gets its own readiness and change
    /// count, the caller is recorded on each, and the next look of each takes the answer once.</summary>
    [Test]
    public void PollManyAnswersEverySocketInOneCallAndRecordsTheCallerOnEach()
    {
        SharedProcess p = _tree.Attach(90);
        var (listener, peer, connection) = Connected(p, 9400);
        ulong requestsBefore = _tree.Server.Requests;
        var sockets = new List<RemoteSocket> { listener, connection };
        p.Client.PollMany(sockets, true);
        Assert.That(_tree.Server.Requests, Is.EqualTo(requestsBefore + 1), "one call for both");
        Assert.That((listener.BatchValid, connection.BatchValid), Is.EqualTo((true, true)));
        Assert.That((listener.Batched, connection.Batched), Is.EqualTo(((short)0, (short)0x4)), "the listener has nothing; the connection is writable");
        int fd = FdOf(p, connection);
        Assert.That(p.Files.Poll(fd, 0x4), Is.EqualTo((short)0x4), "the look takes the batched answer (POLLOUT)");
        Assert.That(_tree.Server.Requests, Is.EqualTo(requestsBefore + 1), "without asking again");
        Assert.That(connection.BatchValid, Is.False, "an answer serves one look");
        peer.Send(Encoding.ASCII.GetBytes("data"), _now);
        Run();
        Assert.That(_woken, Is.EqualTo(new[] { 90UL }), "recorded on the connection");
    }

    // ---- timeouts (SO_RCVTIMEO, SO_SNDTIMEO): the server keeps them, Blocked carries them, the
    // process's wait measures them. On the host a wait that records what it was given stands in.

    private static int s_waits;
    private static long s_waitLimit;
    private static ulong s_waitCall;

    /// <summary>A SocketWait whose deadline passed at once: it records the call's limit and answers -EAGAIN.</summary>
    private static long DeadlinePassed(bool recorded, VfsClient.SocketTimeout* timeout)
    {
        s_waits++;
        s_waitLimit = timeout->Milliseconds;
        s_waitCall = timeout->Call;
        return -Errno.EAGAIN;
    }

    [TearDown]
    public void NoWaitHook()
    {
        VfsClient.SocketWait = null;
        VfsClient.TakeHere = null; // (LinuxSocketHandoverTests.cs)
        s_stackC = null;
    }

    private static long SetTimeval(SharedProcess p, RemoteSocket s, int name, long seconds, long microseconds, int length = 16)
    {
        long* timeval = stackalloc long[2];
        timeval[0] = seconds;
        timeval[1] = microseconds;
        return p.Client.SetOption(s, LinuxSocket.SOL_SOCKET, name, (byte*)timeval, length);
    }

    private static (long Result, long Seconds, long Microseconds) GetTimeval(SharedProcess p, RemoteSocket s, int name)
    {
        long* timeval = stackalloc long[2];
        long result = p.Client.GetOption(s, LinuxSocket.SOL_SOCKET, name, (byte*)timeval, 16);
        return (result, timeval[0], timeval[1]);
    }

    /// <summary>setsockopt/getsockopt of SO_RCVTIMEO and SO_SNDTIMEO as Linux's sock_set_timeout:
    /// the timeval set comes back (rounded up to the millisecond), tv_usec out of range is EDOM, a
    /// short value EINVAL, 0 means no limit, on every kind of socket.</summary>
    [Test]
    public void TimeoutsReadBackAsSetAndBadTimevalsAreRefused()
    {
        SharedProcess p = _tree.Attach(100);
        foreach (int type in new[] { LinuxSocket.SOCK_STREAM, LinuxSocket.SOCK_DGRAM })
        {
            RemoteSocket s = NewSocket(p, type);
            Assert.That(GetTimeval(p, s, LinuxSocket.SO_RCVTIMEO), Is.EqualTo((16L, 0L, 0L)), "none at first");
            Assert.That(SetTimeval(p, s, LinuxSocket.SO_RCVTIMEO, 2, 500_000), Is.EqualTo(0));
            Assert.That(SetTimeval(p, s, LinuxSocket.SO_SNDTIMEO, 0, 100_000), Is.EqualTo(0));
            Assert.That(GetTimeval(p, s, LinuxSocket.SO_RCVTIMEO), Is.EqualTo((16L, 2L, 500_000L)));
            Assert.That(GetTimeval(p, s, LinuxSocket.SO_SNDTIMEO), Is.EqualTo((16L, 0L, 100_000L)));
            Assert.That(GetTimeval(p, s, LinuxSocket.SO_SNDTIMEO_NEW), Is.EqualTo((16L, 0L, 100_000L)), "the new number: the same struct");
            Assert.That(SetTimeval(p, s, LinuxSocket.SO_RCVTIMEO, 0, 1), Is.EqualTo(0));
            Assert.That(GetTimeval(p, s, LinuxSocket.SO_RCVTIMEO), Is.EqualTo((16L, 0L, 1000L)), "rounded up to the millisecond (HZ=1000)");
            Assert.That(SetTimeval(p, s, LinuxSocket.SO_RCVTIMEO, 1, 1_000_000), Is.EqualTo(-Errno.EDOM));
            Assert.That(SetTimeval(p, s, LinuxSocket.SO_RCVTIMEO, 1, -1), Is.EqualTo(-Errno.EDOM));
            Assert.That(SetTimeval(p, s, LinuxSocket.SO_RCVTIMEO, 1, 0, 15), Is.EqualTo(-Errno.EINVAL), "shorter than a timeval");
            Assert.That(GetTimeval(p, s, LinuxSocket.SO_RCVTIMEO), Is.EqualTo((16L, 0L, 1000L)), "a refused value changes nothing");
            Assert.That(SetTimeval(p, s, LinuxSocket.SO_RCVTIMEO, 0, 0), Is.EqualTo(0));
            Assert.That(GetTimeval(p, s, LinuxSocket.SO_RCVTIMEO), Is.EqualTo((16L, 0L, 0L)), "0: no limit again");
        }
    }

    /// <summary>A blocking receive on a socket with SO_RCVTIMEO is Blocked with its limit: the wait
    /// gets 250 ms and the call ends as its wait says (-EAGAIN at the deadline). Without a timeout
    /// the wait gets 0 (for ever); a negative tv_sec does not wait at all, as Linux's.</summary>
    [Test]
    public void ABlockedReceiveCarriesItsTimeoutToTheWaitAndEndsWithEagain()
    {
        SharedProcess p = _tree.Attach(101);
        RemoteSocket s = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(Bind(p, s, Ipv4Address.Any, 5400), Is.EqualTo(0));
        VfsClient.SocketWait = &DeadlinePassed;
        s_waits = 0;
        Assert.That(Receive(p, s, out long result), Is.EqualTo(""));
        Assert.That((result, s_waits, s_waitLimit), Is.EqualTo((-Errno.EAGAIN, 1, 0L)), "no timeout: the wait has no limit");
        Assert.That(s_waitCall, Is.EqualTo((ulong)VfsProtocol.ReceiveFrom | (ulong)s.Handle.ServerFd << 8), "the call's name, for a restart");
        Assert.That(SetTimeval(p, s, LinuxSocket.SO_RCVTIMEO, 0, 250_000), Is.EqualTo(0));
        s_waits = 0;
        Receive(p, s, out result);
        Assert.That((result, s_waits, s_waitLimit), Is.EqualTo((-Errno.EAGAIN, 1, 250L)));
        Assert.That(SetTimeval(p, s, LinuxSocket.SO_RCVTIMEO, -1, 0), Is.EqualTo(0));
        s_waits = 0;
        Receive(p, s, out result);
        Assert.That((result, s_waits), Is.EqualTo((-Errno.EAGAIN, 0)), "a negative time: EAGAIN without waiting");
        Assert.That(GetTimeval(p, s, LinuxSocket.SO_RCVTIMEO), Is.EqualTo((16L, 0L, 0L)));
    }

    /// <summary>accept honours SO_RCVTIMEO and connect SO_SNDTIMEO, as Linux: the wait gets each
    /// one's limit; connect's ending wait answers EINPROGRESS (its handshake goes on).</summary>
    [Test]
    public void AcceptWaitsAtMostSoRcvtimeoAndConnectSoSndtimeo()
    {
        SharedProcess p = _tree.Attach(102);
        RemoteSocket listener = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(Bind(p, listener, Ipv4Address.Any, 9500), Is.EqualTo(0));
        Assert.That(p.Client.Listen(listener, 4), Is.EqualTo(0));
        Assert.That(SetTimeval(p, listener, LinuxSocket.SO_RCVTIMEO, 1, 0), Is.EqualTo(0));
        Assert.That(SetTimeval(p, listener, LinuxSocket.SO_SNDTIMEO, 7, 0), Is.EqualTo(0));
        VfsClient.SocketWait = &DeadlinePassed;
        byte[] address = new byte[LinuxSocket.AddressBytes];
        fixed (byte* q = address) Assert.That(p.Client.Accept(listener, 0, q, out _, out _), Is.EqualTo(-Errno.EAGAIN));
        Assert.That(s_waitLimit, Is.EqualTo(1000L), "accept: SO_RCVTIMEO");

        RemoteSocket client = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(SetTimeval(p, client, LinuxSocket.SO_SNDTIMEO, 0, 300_000), Is.EqualTo(0));
        byte[] nobody = Inet(new Ipv4Address(10, 0, 0, 99), 80); // on the subnet, never answers ARP: the handshake waits
        fixed (byte* q = nobody) Assert.That(p.Client.Connect(client, q, 16), Is.EqualTo(-Errno.EINPROGRESS));
        Assert.That(s_waitLimit, Is.EqualTo(300L), "connect: SO_SNDTIMEO");
        fixed (byte* q = nobody) Assert.That(p.Client.Connect(client, q, 16), Is.EqualTo(-Errno.EALREADY), "still connecting, as Linux");
    }

    /// <summary>A stream send that fills the buffers waits at most SO_SNDTIMEO and then answers the
    /// bytes that went (the rest was not queued).</summary>
    [Test]
    public void AStreamSendStoppedByItsTimeoutAnswersWhatWent()
    {
        SharedProcess p = _tree.Attach(103);
        var (_, peer, connection) = Connected(p, 9600);
        Assert.That(SetTimeval(p, connection, LinuxSocket.SO_SNDTIMEO, 0, 50_000), Is.EqualTo(0));
        VfsClient.SocketWait = &DeadlinePassed;
        byte[] big = new byte[4 << 20];
        long sent;
        fixed (byte* q = big) sent = p.Client.Send(connection, q, big.Length, 0, null, 0);
        Assert.That(sent, Is.GreaterThan(0).And.LessThan(big.Length), "part of it: the peer reads nothing");
        Assert.That(s_waitLimit, Is.EqualTo(50L));
        Assert.That(peer.State, Is.EqualTo(TcpState.Established));
    }

    // ---- datagrams: MSG_PEEK, and larger than one call (VfsProtocol.MaximumDatagram, in pieces)

    private static byte[] Pattern(int length, int seed) => Enumerable.Range(0, length).Select(i => (byte)(i * 13 + seed)).ToArray();

    private static long SendTo(SharedProcess p, RemoteSocket s, byte[] data, Ipv4Address to, int port, int flags = 0)
    {
        byte[] address = Inet(to, port);
        fixed (byte* q = data) fixed (byte* a = address) return p.Client.Send(s, q, data.Length, flags, a, 16);
    }

    private static byte[] ReceiveFrom(SharedProcess p, RemoteSocket s, int room, int flags, out long result, out int port)
    {
        byte[] buffer = new byte[room], from = new byte[LinuxSocket.AddressBytes];
        fixed (byte* q = buffer) fixed (byte* f = from) result = p.Client.Receive(s, q, room, flags, f, out _);
        port = from[2] << 8 | from[3];
        return result > 0 ? buffer.AsSpan(0, (int)Math.Min(result, room)).ToArray() : Array.Empty<byte>();
    }

    /// <summary>recvfrom with MSG_PEEK returns the datagram and its sender and leaves it: the next
    /// receive takes the same one (a large one too, whose pieces come from the server's copy).</summary>
    [Test]
    public void MsgPeekOnADatagramSocketLeavesTheDatagramForTheNextReceive()
    {
        SharedProcess p = _tree.Attach(110);
        RemoteSocket s = NewSocket(p, LinuxSocket.SOCK_DGRAM | LinuxSocket.SOCK_NONBLOCK);
        Assert.That(Bind(p, s, Ipv4Address.Any, 5500), Is.EqualTo(0));
        UdpSocket remote = _b.Udp.Open();
        Assert.That(remote.Bind(6100), Is.EqualTo(UdpError.None));
        byte[] big = Pattern(20_000, 1);
        Assert.That(remote.SendTo(IpA, 5500, Encoding.ASCII.GetBytes("peek at me")), Is.EqualTo(UdpError.None));
        Assert.That(remote.SendTo(IpA, 5500, big), Is.EqualTo(UdpError.None));
        Run();
        for (int look = 0; look < 2; look++)
        {
            byte[] got = ReceiveFrom(p, s, 64, LinuxSocket.MSG_PEEK, out long n, out int port);
            Assert.That((Encoding.ASCII.GetString(got), n, port), Is.EqualTo(("peek at me", 10L, 6100)), "peek " + look);
        }
        Assert.That(Encoding.ASCII.GetString(ReceiveFrom(p, s, 64, 0, out _, out _)), Is.EqualTo("peek at me"));
        Assert.That(ReceiveFrom(p, s, 65536, LinuxSocket.MSG_PEEK, out long peeked, out _), Is.EqualTo(big), "a large datagram peeked");
        Assert.That(peeked, Is.EqualTo(20_000));
        Assert.That(ReceiveFrom(p, s, 65536, 0, out long taken, out int from), Is.EqualTo(big));
        Assert.That((taken, from), Is.EqualTo((20_000L, 6100)));
        ReceiveFrom(p, s, 64, 0, out long none, out _);
        Assert.That(none, Is.EqualTo(-Errno.EAGAIN), "both were taken");
    }

    /// <summary>Datagrams of 20,000 and 65,507 bytes (Linux's UDP ceiling) leave whole through the
    /// protocol's pieces, cross the wire in IPv4 fragments and arrive reassembled at the remote
    /// host; one from the remote host arrives whole too; 65,508 bytes is EMSGSIZE, as past the
    /// protocol's ceiling.</summary>
    [Test]
    public void LargeDatagramsCrossTheWireInFragmentsAndArriveWhole()
    {
        SharedProcess p = _tree.Attach(111);
        RemoteSocket s = NewSocket(p, LinuxSocket.SOCK_DGRAM | LinuxSocket.SOCK_NONBLOCK);
        Assert.That(Bind(p, s, Ipv4Address.Any, 5600), Is.EqualTo(0));
        UdpSocket remote = _b.Udp.Open(70_000);
        Assert.That(remote.Bind(6200), Is.EqualTo(UdpError.None));
        byte[] got = new byte[70_000];
        foreach (int size in new[] { 20_000, 65_507 })
        {
            byte[] data = Pattern(size, size);
            int framesBefore = _wire.Sent.Count;
            Assert.That(SendTo(p, s, data, IpB, 6200), Is.EqualTo(size));
            Run();
            Assert.That(_wire.Sent.Count - framesBefore, Is.GreaterThanOrEqualTo((size + 8 + 1479) / 1480), "in fragments");
            int n = remote.TryReceive(got, out Ipv4Address source, out ushort port);
            Assert.That((n, source, port), Is.EqualTo((size, IpA, (ushort)5600)), size + " bytes: one datagram at the remote host");
            Assert.That(got.AsSpan(0, n).ToArray(), Is.EqualTo(data));
        }
        Assert.That(SendTo(p, s, new byte[65_508], IpB, 6200), Is.EqualTo(-Errno.EMSGSIZE), "past UDP's ceiling");
        Assert.That(SendTo(p, s, new byte[VfsProtocol.MaximumDatagram + 1], IpB, 6200), Is.EqualTo(-Errno.EMSGSIZE), "past the protocol's");

        byte[] back = Pattern(30_000, 9);
        Assert.That(remote.SendTo(IpA, 5600, back), Is.EqualTo(UdpError.None));
        Run();
        Assert.That(ReceiveFrom(p, s, 65536, 0, out long received, out int from), Is.EqualTo(back));
        Assert.That((received, from), Is.EqualTo((30_000L, 6200)));
        Assert.That(ReceiveFrom(p, s, 100, LinuxSocket.MSG_TRUNC, out long full, out _), Is.Empty, "nothing left");
        Assert.That(full, Is.EqualTo(-Errno.EAGAIN));
    }

    /// <summary>Over 127.0.0.1 a 65,507-byte datagram is not fragmented (Linux's lo) and arrives
    /// whole; a smaller buffer gets its first bytes, MSG_TRUNC its full length.</summary>
    [Test]
    public void ALargeDatagramOverLoopbackArrivesWholeAndTruncatesIntoASmallBuffer()
    {
        SharedProcess p = _tree.Attach(112);
        RemoteSocket a = NewSocket(p, LinuxSocket.SOCK_DGRAM), b = NewSocket(p, LinuxSocket.SOCK_DGRAM | LinuxSocket.SOCK_NONBLOCK);
        var loopback = new Ipv4Address(127, 0, 0, 1);
        Assert.That(Bind(p, a, loopback, 5700), Is.EqualTo(0));
        Assert.That(Bind(p, b, loopback, 5701), Is.EqualTo(0));
        int wireBefore = _wire.Sent.Count;
        byte[] data = Pattern(65_507, 4);
        Assert.That(SendTo(p, a, data, loopback, 5701), Is.EqualTo(65_507));
        Run();
        Assert.That(ReceiveFrom(p, b, 65_536, 0, out long n, out int port), Is.EqualTo(data));
        Assert.That((n, port), Is.EqualTo((65_507L, 5700)));
        Assert.That(SendTo(p, a, data, loopback, 5701), Is.EqualTo(65_507));
        Run();
        Assert.That(ReceiveFrom(p, b, 10_000, LinuxSocket.MSG_TRUNC, out long full, out _), Is.EqualTo(data.AsSpan(0, 10_000).ToArray()));
        Assert.That(full, Is.EqualTo(65_507L), "MSG_TRUNC: the datagram's length");
        Assert.That(_wire.Sent.Count, Is.EqualTo(wireBefore), "nothing on the wire");
    }

    /// <summary>The server's pieces are one process's, in order: a piece out of order, or another
    /// process's ReceiveRest, is EINVAL; a process's exit forgets what it left half sent.</summary>
    [Test]
    public void DatagramPiecesOutOfOrderOrFromAnotherProcessAreRefused()
    {
        SharedProcess p = _tree.Attach(113), other = _tree.Attach(114);
        RemoteSocket s = NewSocket(p, LinuxSocket.SOCK_DGRAM | LinuxSocket.SOCK_NONBLOCK);
        Assert.That(Bind(p, s, Ipv4Address.Any, 5800), Is.EqualTo(0));
        int fd = s.Handle.ServerFd;
        ulong w2 = 100, reply;
        ulong Where(int offset, int whole) => (ulong)offset << 8 | (ulong)whole << 32;
        Assert.That(_tree.Server.Handle(113, VfsProtocol.SendTo, (ulong)fd, w2, Where(8192, 20_000), p.Transport.Buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(-Errno.EINVAL), "a piece with no start");
        Assert.That(_tree.Server.Handle(113, VfsProtocol.SendTo, (ulong)fd, 8192, Where(0, 20_000), p.Transport.Buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(8192), "the first piece is kept");
        Assert.That(_tree.Server.Handle(113, VfsProtocol.SendTo, (ulong)fd, 100, Where(100, 20_000), p.Transport.Buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(-Errno.EINVAL), "a gap");
        Assert.That(_tree.Server.Handle(113, VfsProtocol.SendTo, (ulong)fd, 8192, Where(8192, 20_000), p.Transport.Buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(-Errno.EINVAL), "forgotten after the gap");
        Assert.That(_tree.Server.Handle(113, VfsProtocol.SendTo, (ulong)fd, 100, Where(0, 70_000), p.Transport.Buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(-Errno.EMSGSIZE), "past the protocol's ceiling");
        ulong malformedBefore = _tree.Server.Malformed;
        Assert.That(_tree.Server.Handle(113, VfsProtocol.SendTo, (ulong)fd, 100, 0xFFFFFFFFUL << 32, p.Transport.Buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(-Errno.EINVAL), "a length that is no length");
        Assert.That(_tree.Server.Malformed, Is.EqualTo(malformedBefore), "answered, not thrown");
        Assert.That(_tree.Server.Handle(113, VfsProtocol.ReceiveFrom, (ulong)fd, 100, VfsProtocol.ReceiveRest, p.Transport.Buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(-Errno.EINVAL), "nothing kept to hand out");

        // A whole datagram kept for p: the other process cannot take its pieces.
        UdpSocket remote = _b.Udp.Open(70_000);
        remote.Bind(6300);
        remote.SendTo(IpA, 5800, Pattern(20_000, 2));
        Run();
        Assert.That(_tree.Server.Handle(113, VfsProtocol.ReceiveFrom, (ulong)fd, 20_000, VfsProtocol.ReceiveWhole, p.Transport.Buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(20_000));
        Assert.That(reply & VfsProtocol.ReceiveMore, Is.Not.Zero, "the rest is kept");
        Assert.That(p.Client.BeforeFork(114), Is.EqualTo(0)); // the other process holds the socket too
        Assert.That(_tree.Server.Handle(114, VfsProtocol.ReceiveFrom, (ulong)s.Handle.ChildFd, 100, VfsProtocol.ReceiveRest | 8192UL << 8, other.Transport.Buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(-Errno.EINVAL), "not its datagram");
        Assert.That(_tree.Server.Handle(113, VfsProtocol.ReceiveFrom, (ulong)fd, 8192, VfsProtocol.ReceiveRest | 8192UL << 8, p.Transport.Buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(8192), "the owner's next piece");
        Assert.That(_tree.Server.StagedDatagrams, Is.EqualTo(1), "3,616 bytes still kept for p");
        p.Client.Goodbye();
        Assert.That(_tree.Server.StagedDatagrams, Is.Zero, "exit forgot them");
    }

    // ---- TCP_CORK's ceiling and TCP_NODELAY's push, through setsockopt

    /// <summary>A corked partial segment leaves by itself after 200 ms (Linux's ceiling), not before.</summary>
    [Test]
    public void ACorkedPartialSegmentLeavesAfterTwoHundredMilliseconds()
    {
        SharedProcess p = _tree.Attach(120);
        var (_, peer, connection) = Connected(p, 9700);
        int on = 1;
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&on, 4), Is.EqualTo(0));
        Assert.That(Send(p, connection, "corked header"), Is.EqualTo(13));
        long corked = _now;
        byte[] buffer = new byte[64];
        while (_now < corked + 190_000)
        {
            Run();
            Assert.That(peer.Receive(buffer, _now), Is.EqualTo(-(int)TcpError.WouldBlock), "held at " + (_now - corked) / 1000 + " ms");
        }
        _now = corked + 200_000;
        Run();
        int n = peer.Receive(buffer, _now);
        Assert.That(n > 0 ? Encoding.ASCII.GetString(buffer, 0, n) : n.ToString(), Is.EqualTo("corked header"));
        int value = 0;
        int length;
        long got = p.Client.GetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_CORK, (byte*)&value, 4);
        length = (int)got;
        Assert.That((length, value), Is.EqualTo((4, 1)), "still corked");
    }

    /// <summary>Setting TCP_NODELAY on a connection whose small write Nagle holds (data in flight)
    /// sends it at once, as Linux's setsockopt pushes pending frames.</summary>
    [Test]
    public void SettingTcpNodelaySendsWhatNagleHolds()
    {
        SharedProcess p = _tree.Attach(121);
        var (_, peer, connection) = Connected(p, 9800);
        int sentBefore = _wire.Sent.Count;
        Assert.That(Send(p, connection, "a"), Is.EqualTo(1));
        Assert.That(Send(p, connection, "bc"), Is.EqualTo(2));
        Assert.That(_wire.Sent.Count, Is.EqualTo(sentBefore + 1), "\"a\" left; Nagle holds \"bc\" until its ACK");
        int on = 1;
        Assert.That(p.Client.SetOption(connection, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_NODELAY, (byte*)&on, 4), Is.EqualTo(0));
        Assert.That(_wire.Sent.Count, Is.EqualTo(sentBefore + 2), "TCP_NODELAY pushed it at once");
        Run();
        byte[] buffer = new byte[16];
        int n = peer.Receive(buffer, _now);
        Assert.That(Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("abc"));
    }

    [Test]
    public void WithoutANetworkSocketIsRefused()
    {
        var tree = new SharedTree();
        SharedProcess p = tree.Attach(50);
        Assert.That(p.Client.Socket(LinuxSocket.AF_INET, LinuxSocket.SOCK_STREAM, 0, out _), Is.EqualTo(-Errno.EAFNOSUPPORT));
    }
}
