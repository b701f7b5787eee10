#nullable enable
// AF_UNIX sockets of the Linux personality (UnixSockets.cs, UnixSocket.cs, VfsServer.Sockets.cs,
// VfsClient.Sockets.cs): "processes" (SharedProcess: a VfsClient over a direct transport) make
// sockets in one file server with no network at all, and talk to each other through it. Verdicts
// come from what the other end observes (the bytes it reads, the errors it gets, the inode stat
// shows, the processes the server would wake), not from the calls' own results alone. The errno of
// each case is the one host Linux gives (the differential program Tests/Linux/unixsockets.c checks
// the same on both systems).
using System.Runtime.InteropServices;
using System.Text;
using Aegis.LibOS.Unixish.Linux;
using Aegis.LibOS.Unixish.Linux.Files;
using NUnit.Framework;

namespace Aegis.Tests.Host;

[TestFixture]
public sealed unsafe class LinuxUnixSocketTests
{
    private const short POLLIN = 0x1, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLRDHUP = 0x2000;
    private const short Basic = POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP;
    private SharedTree _tree = null!;
    private readonly List<ulong> _woken = new();

    [SetUp]
    public void Build()
    {
        _tree = new SharedTree(); // no network: AF_UNIX needs none
        _woken.Clear();
    }

    /// <summary>What the server's loop does after a call: every process recorded on a changed socket is woken once.</summary>
    private void Wakes()
    {
        var changed = new List<Socket>();
        _tree.Server.Unix.TakeChanged(changed);
        foreach (Socket s in changed) s.WakeWatchers(id => _woken.Add(id));
    }

    /// <summary>struct sockaddr_un for a path, as most programs pass it (the whole 110 bytes).</summary>
    private static byte[] PathAddress(string path)
    {
        var bytes = new byte[LinuxSocket.UnixAddressLength];
        bytes[0] = LinuxSocket.AF_UNIX;
        Encoding.ASCII.GetBytes(path).CopyTo(bytes, 2);
        return bytes;
    }

    /// <summary>An abstract address: the family, a NUL, the name (length 3 + name).</summary>
    private static byte[] AbstractAddress(string name)
    {
        var bytes = new byte[3 + name.Length];
        bytes[0] = LinuxSocket.AF_UNIX;
        Encoding.ASCII.GetBytes(name).CopyTo(bytes, 3);
        return bytes;
    }

    private static RemoteSocket NewSocket(SharedProcess p, int type)
    {
        Assert.That(p.Client.Socket(LinuxSocket.AF_UNIX, type, 0, out RemoteSocket s), Is.EqualTo(0));
        return s;
    }

    private static long Bind(SharedProcess p, RemoteSocket s, byte[] address, int? length = null)
    {
        fixed (byte* a = address) return p.Client.Bind(s, a, length ?? address.Length);
    }

    private static long Connect(SharedProcess p, RemoteSocket s, byte[] address, int? length = null)
    {
        fixed (byte* a = address) return p.Client.Connect(s, a, length ?? address.Length);
    }

    private static long Send(SharedProcess p, RemoteSocket s, string text, int flags = 0)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        fixed (byte* q = bytes) return p.Client.Send(s, q, bytes.Length, flags, null, 0);
    }

    private static long SendTo(SharedProcess p, RemoteSocket s, string text, byte[] to)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        fixed (byte* q = bytes) fixed (byte* a = to) return p.Client.Send(s, q, bytes.Length, 0, a, to.Length);
    }

    private static string Receive(SharedProcess p, RemoteSocket s, out long result, int max = 4096, int flags = 0)
    {
        byte[] buffer = new byte[max];
        fixed (byte* q = buffer) result = p.Client.Receive(s, q, max, flags, null, out _);
        return result > 0 ? Encoding.ASCII.GetString(buffer, 0, (int)Math.Min(result, max)) : "";
    }

    private static (string Text, long Result, byte[] From, bool Truncated) ReceiveFrom(SharedProcess p, RemoteSocket s, int max, int flags = 0)
    {
        byte[] buffer = new byte[max], from = new byte[LinuxSocket.AddressBytes];
        long n;
        int length;
        bool truncated;
        fixed (byte* q = buffer) fixed (byte* f = from) n = p.Client.Receive(s, q, max, flags, f, out length, out truncated, null);
        string text = n > 0 ? Encoding.ASCII.GetString(buffer, 0, (int)Math.Min(n, max)) : "";
        return (text, n, from.AsSpan(0, length).ToArray(), truncated);
    }

    private static byte[] NameOf(SharedProcess p, RemoteSocket s, bool peer, out long length)
    {
        byte[] name = new byte[LinuxSocket.AddressBytes];
        fixed (byte* q = name) length = p.Client.Name(s, peer, q);
        return length > 0 ? name.AsSpan(0, (int)length).ToArray() : Array.Empty<byte>();
    }

    private static long Accept(SharedProcess p, RemoteSocket listener, out RemoteSocket? accepted, out byte[] peer, int flags = 0)
    {
        byte[] address = new byte[LinuxSocket.AddressBytes];
        long result;
        int length;
        fixed (byte* q = address) result = p.Client.Accept(listener, flags, q, out length, out accepted);
        peer = address.AsSpan(0, length).ToArray();
        return result;
    }

    /// <summary>The client's fd table holds the proxies the tests made through the client directly:
    /// install them as socket() does, to close them through LinuxFiles.</summary>
    private static int FdOf(SharedProcess p, RemoteSocket s)
    {
        for (int fd = 0; fd < 64; fd++)
            if (p.Files.Table.Get(fd)?.Node == s) return fd;
        var file = new OpenFile(p.Fs, s, LinuxFile.O_RDWR, null);
        return p.Files.Table.Install(file, false);
    }

    private static void Close(SharedProcess p, RemoteSocket s) => Assert.That(p.Files.Close(FdOf(p, s)), Is.EqualTo(0));

    private static int GetInt(SharedProcess p, RemoteSocket s, int name)
    {
        int value = -12345;
        Assert.That(p.Client.GetOption(s, LinuxSocket.SOL_SOCKET, name, (byte*)&value, 4), Is.EqualTo(4));
        return value;
    }

    /// <summary>A listener at path in p, a client in q connected to it, and the accepted end.</summary>
    private (RemoteSocket Listener, RemoteSocket Client, RemoteSocket Server) Connected(SharedProcess p, SharedProcess q, string path, int type = LinuxSocket.SOCK_STREAM)
    {
        RemoteSocket listener = NewSocket(p, type);
        Assert.That(Bind(p, listener, PathAddress(path)), Is.EqualTo(0));
        Assert.That(p.Client.Listen(listener, 4), Is.EqualTo(0));
        RemoteSocket client = NewSocket(q, type);
        Assert.That(Connect(q, client, PathAddress(path)), Is.EqualTo(0));
        Assert.That(Accept(p, listener, out RemoteSocket? server, out _), Is.EqualTo(0));
        return (listener, client, server!);
    }

    [Test]
    public void AStreamConnectionAcrossTwoProcessesEchoesBothWaysAndNamesItsEnds()
    {
        SharedProcess server = _tree.Attach(10), client = _tree.Attach(11);
        var (listener, near, far) = Connected(server, client, "/tmp/echo.sock");
        Assert.That(Send(client, near, "hello over a unix socket"), Is.EqualTo(24));
        Assert.That(Receive(server, far, out _), Is.EqualTo("hello over a unix socket"), "what the other process read");
        Assert.That(Send(server, far, "and back"), Is.EqualTo(8));
        Assert.That(Receive(client, near, out _), Is.EqualTo("and back"));

        // Names: offsetof(sun_path) + strlen + 1 for the path; 2 (the family) for the unnamed client.
        byte[] expected = new byte[2 + 14 + 1];
        PathAddress("/tmp/echo.sock").AsSpan(0, 16).CopyTo(expected);
        Assert.That(NameOf(server, listener, false, out long length), Is.EqualTo(expected));
        Assert.That(length, Is.EqualTo(17));
        Assert.That(NameOf(server, far, false, out _), Is.EqualTo(expected), "an accepted socket has its listener's name");
        Assert.That(NameOf(client, near, true, out _), Is.EqualTo(expected), "the client's peer is named as the listener");
        Assert.That(NameOf(client, near, false, out length), Is.EqualTo(new byte[] { 1, 0 }));
        Assert.That(NameOf(server, far, true, out length), Is.EqualTo(new byte[] { 1, 0 }), "the unnamed client: the family alone");
        NameOf(server, listener, true, out length);
        Assert.That(length, Is.EqualTo(-Errno.ENOTCONN), "a listener has no peer");
    }

    [Test]
    public void BindingAPathMakesASocketInodeThatStatShowsAndUnlinkRemoves()
    {
        SharedProcess p = _tree.Attach(12), other = _tree.Attach(13);
        RemoteSocket s = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(other.StatError("/tmp/made.sock"), Is.EqualTo(-Errno.ENOENT), "not there yet (and cached so)");
        Assert.That(Bind(p, s, PathAddress("/tmp/made.sock")), Is.EqualTo(0));
        Assert.That(other.Files.StatAt(SharedProcess.AT_FDCWD, "/tmp/made.sock", 0, out StatInfo info), Is.EqualTo(0), "another process sees it at once");
        Assert.That(info.Mode, Is.EqualTo(LinuxFile.S_IFSOCK | 0x1ED), "srwxr-xr-x: 0777 less the umask 022");
        Assert.That(other.List("/tmp"), Does.Contain("made.sock"));
        Assert.That(other.Open("/tmp/made.sock", LinuxFile.O_RDWR), Is.EqualTo(-Errno.ENXIO), "a socket's name cannot be opened");

        RemoteSocket second = NewSocket(other, LinuxSocket.SOCK_DGRAM);
        Assert.That(Bind(other, second, PathAddress("/tmp/made.sock")), Is.EqualTo(-Errno.EADDRINUSE));
        other.CreateFile("/tmp/plain", "x");
        Assert.That(Bind(other, second, PathAddress("/tmp/plain")), Is.EqualTo(-Errno.EADDRINUSE), "any name in the way");
        Assert.That(Bind(other, second, PathAddress("/tmp/no/such/dir.sock")), Is.EqualTo(-Errno.ENOENT));
        Assert.That(Bind(p, s, PathAddress("/tmp/again.sock")), Is.EqualTo(-Errno.EINVAL), "already bound");
        Assert.That(other.StatError("/tmp/again.sock"), Is.EqualTo(-Errno.ENOENT), "and no name was left behind");

        Assert.That(other.Files.UnlinkAt(SharedProcess.AT_FDCWD, "/tmp/made.sock", 0), Is.EqualTo(0));
        Assert.That(other.StatError("/tmp/made.sock"), Is.EqualTo(-Errno.ENOENT));
        Assert.That(NameOf(p, s, false, out _)[2..^1], Is.EqualTo(Encoding.ASCII.GetBytes("/tmp/made.sock")), "the socket keeps its name, as on Linux");
        Assert.That(Bind(other, second, PathAddress("/tmp/made.sock")), Is.EqualTo(0), "the path is free again");
    }

    [Test]
    public void ARelativePathIsBoundInTheCallersDirectory()
    {
        SharedProcess p = _tree.Attach(14);
        long directory = p.Open("/tmp", LinuxFile.O_RDONLY | LinuxFile.O_DIRECTORY);
        var cwd = (RemoteDirectory)p.Files.Table.Get((int)directory)!.Node;
        RemoteSocket s = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        byte[] address = PathAddress("here.sock");
        fixed (byte* a = address) Assert.That(p.Client.Bind(s, a, address.Length, cwd.Handle.ServerFd, 0x3F), Is.EqualTo(0));
        Assert.That(p.Files.StatAt(SharedProcess.AT_FDCWD, "/tmp/here.sock", 0, out StatInfo info), Is.EqualTo(0));
        Assert.That(info.Mode, Is.EqualTo(LinuxFile.S_IFSOCK | 0x1C0), "umask 077: srwx------");
        RemoteSocket sender = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(SendTo(p, sender, "found", PathAddress("/tmp/here.sock")), Is.EqualTo(5));
        Assert.That(Receive(p, s, out _), Is.EqualTo("found"));
        fixed (byte* a = address) Assert.That(p.Client.Bind(sender, a, address.Length, 77, 0x12), Is.EqualTo(-Errno.EBADF), "a cwd the process does not hold");
    }

    /// <summary>/dev is each process's own tree, so no socket file can be made there; a name under
    /// it (syslog's /dev/log) is kept in the server by its path and reached all the same.</summary>
    [Test]
    public void ANameUnderDevIsKeptByTheServerAndReachedByOthers()
    {
        SharedProcess daemon = _tree.Attach(45), client = _tree.Attach(46);
        RemoteSocket log = NewSocket(daemon, LinuxSocket.SOCK_DGRAM);
        Assert.That(Bind(daemon, log, PathAddress("/dev/log")), Is.EqualTo(0));
        Assert.That(NameOf(daemon, log, false, out long length)[2..^1], Is.EqualTo(Encoding.ASCII.GetBytes("/dev/log")));
        Assert.That(length, Is.EqualTo(11));
        RemoteSocket sender = NewSocket(client, LinuxSocket.SOCK_DGRAM);
        Assert.That(Connect(client, sender, PathAddress("/dev/log")), Is.EqualTo(0));
        Assert.That(Send(client, sender, "<13>hello"), Is.EqualTo(9));
        Assert.That(Receive(daemon, log, out _), Is.EqualTo("<13>hello"));
        RemoteSocket second = NewSocket(client, LinuxSocket.SOCK_DGRAM), stream = NewSocket(client, LinuxSocket.SOCK_STREAM);
        Assert.That(Bind(client, second, PathAddress("/dev/log")), Is.EqualTo(-Errno.EADDRINUSE));
        Assert.That(Connect(client, stream, PathAddress("/dev/log")), Is.EqualTo(-Errno.EPROTOTYPE));
        Assert.That(Connect(client, stream, PathAddress("/dev/nothing")), Is.EqualTo(-Errno.ENOENT));
        Assert.That(Bind(client, second, PathAddress("/proc/mine")), Is.EqualTo(-Errno.EACCES), "/proc holds no names");
        Close(daemon, log);
        Assert.That(SendTo(client, second, "x", PathAddress("/dev/log")), Is.EqualTo(-Errno.ENOENT), "the name went with its socket");
        Assert.That(Bind(client, second, PathAddress("/dev/log")), Is.EqualTo(0));
    }

    [Test]
    public void ConnectAnswersENOENTECONNREFUSEDOrEPROTOTYPEAsLinux()
    {
        SharedProcess p = _tree.Attach(15);
        RemoteSocket client = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(Connect(p, client, PathAddress("/tmp/nobody")), Is.EqualTo(-Errno.ENOENT));
        p.CreateFile("/tmp/file", "x");
        Assert.That(Connect(p, client, PathAddress("/tmp/file")), Is.EqualTo(-Errno.ECONNREFUSED), "not a socket");
        RemoteSocket bound = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(Bind(p, bound, PathAddress("/tmp/bound")), Is.EqualTo(0));
        Assert.That(Connect(p, client, PathAddress("/tmp/bound")), Is.EqualTo(-Errno.ECONNREFUSED), "bound but not listening");
        RemoteSocket datagram = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(Bind(p, datagram, PathAddress("/tmp/datagram")), Is.EqualTo(0));
        Assert.That(Connect(p, client, PathAddress("/tmp/datagram")), Is.EqualTo(-Errno.EPROTOTYPE));
        Assert.That(p.Client.Listen(bound, 1), Is.EqualTo(0));
        Close(p, bound);
        Assert.That(Connect(p, client, PathAddress("/tmp/bound")), Is.EqualTo(-Errno.ECONNREFUSED), "the socket file of a closed socket");
        Assert.That(Connect(p, client, AbstractAddress("nobody")), Is.EqualTo(-Errno.ECONNREFUSED), "an abstract name nobody has");
        p.Files.SymlinkAt("/tmp/datagram", SharedProcess.AT_FDCWD, "/tmp/link");
        RemoteSocket other = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(Connect(p, other, PathAddress("/tmp/link")), Is.EqualTo(0), "connect follows a symbolic link");
    }

    [Test]
    public void BadAddressesGetEINVALAndLeaveNothingBehind()
    {
        SharedProcess p = _tree.Attach(16);
        RemoteSocket s = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(Bind(p, s, PathAddress("/tmp/x"), 1), Is.EqualTo(-Errno.EINVAL), "shorter than the family");
        Assert.That(Bind(p, s, new byte[LinuxSocket.AddressBytes], 111), Is.EqualTo(-Errno.EINVAL), "longer than sockaddr_un");
        byte[] inet = PathAddress("/tmp/x");
        inet[0] = LinuxSocket.AF_INET;
        Assert.That(Bind(p, s, inet), Is.EqualTo(-Errno.EINVAL), "another family");
        Assert.That(p.StatError("/tmp/x"), Is.EqualTo(-Errno.ENOENT));
        Assert.That(Connect(p, s, PathAddress("/tmp/x"), 2), Is.EqualTo(-Errno.EINVAL), "connect needs a name");
        Assert.That(Connect(p, s, inet), Is.EqualTo(-Errno.EINVAL));
        RemoteSocket d = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(SendTo(p, d, "x", new byte[] { 1, 0 }), Is.EqualTo(-Errno.EINVAL), "a datagram's address too");

        // sun_path without a NUL (108 bytes, length 110): the path is all of it; the name is 111 bytes.
        string longName = "/tmp/" + new string('n', 103);
        Assert.That(Bind(p, s, PathAddress(longName)), Is.EqualTo(0));
        Assert.That(p.StatError(longName), Is.EqualTo(0));
        Assert.That(NameOf(p, s, false, out long length).Length, Is.EqualTo(111));
        Assert.That(length, Is.EqualTo(111));

        // Lengths the client would never send, straight to the server: refused, nothing changes.
        ulong reply;
        int fd = s.Handle.ServerFd;
        byte* buffer = p.Transport.Buffer;
        Assert.That(_tree.Server.Handle(16, VfsProtocol.Bind, (ulong)fd, 4000, 0, buffer, VfsProtocol.BufferBytes, out reply), Is.EqualTo(-Errno.EINVAL));
        Assert.That(_tree.Server.Handle(16, VfsProtocol.SendTo, (ulong)d.Handle.ServerFd, 1, 200, buffer, VfsProtocol.BufferBytes, out reply), Is.EqualTo(-Errno.EINVAL));
        *(int*)(buffer + VfsProtocol.Payload + VfsProtocol.RightsData) = 9999;
        long* extra = (long*)(buffer + VfsProtocol.Payload + VfsProtocol.SendExtraData); // descriptions passed, the cwd
        extra[0] = 1; extra[1] = LinuxFile.AT_FDCWD;
        Assert.That(_tree.Server.Handle(16, VfsProtocol.SendTo, (ulong)d.Handle.ServerFd, 1, 0, buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(-Errno.EBADF), "a passed descriptor the sender does not hold");
        extra[0] = 300;
        Assert.That(_tree.Server.Handle(16, VfsProtocol.SendTo, (ulong)d.Handle.ServerFd, 1, 0, buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(-Errno.EINVAL), "more descriptors than SCM_MAX_FD");
        extra[0] = -1;
        Assert.That(_tree.Server.Handle(16, VfsProtocol.SendTo, (ulong)d.Handle.ServerFd, 1, 0, buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(-Errno.EINVAL), "a negative count of descriptors");
        extra[0] = 0;
        Assert.That(_tree.Server.Handle(16, VfsProtocol.SocketPair, LinuxSocket.AF_UNIX | (ulong)0x7000_0000 << 32, 0, 0, buffer, VfsProtocol.BufferBytes, out reply),
            Is.EqualTo(-Errno.EINVAL));
        Assert.That(_tree.Server.Malformed, Is.GreaterThan(0));
    }

    [Test]
    public void DatagramsKeepTheirBoundariesAndSayWhoSentThem()
    {
        SharedProcess p = _tree.Attach(17), q = _tree.Attach(18);
        RemoteSocket receiver = NewSocket(p, LinuxSocket.SOCK_DGRAM | LinuxSocket.SOCK_NONBLOCK);
        Assert.That(Bind(p, receiver, PathAddress("/tmp/dgram")), Is.EqualTo(0));
        RemoteSocket named = NewSocket(q, LinuxSocket.SOCK_DGRAM), unnamed = NewSocket(q, LinuxSocket.SOCK_DGRAM);
        Assert.That(Bind(q, named, AbstractAddress("sender")), Is.EqualTo(0));
        Assert.That(SendTo(q, named, "first", PathAddress("/tmp/dgram")), Is.EqualTo(5));
        Assert.That(SendTo(q, unnamed, "second message", PathAddress("/tmp/dgram")), Is.EqualTo(14));
        Assert.That(SendTo(q, unnamed, "", PathAddress("/tmp/dgram")), Is.EqualTo(0), "an empty datagram is one too");
        Assert.That(SendTo(q, unnamed, "third", PathAddress("/tmp/dgram")), Is.EqualTo(5));

        var first = ReceiveFrom(p, receiver, 64);
        Assert.That((first.Text, first.Result, first.Truncated), Is.EqualTo(("first", 5L, false)));
        Assert.That(first.From, Is.EqualTo(AbstractAddress("sender")), "the abstract sender, its exact bytes");
        var peeked = ReceiveFrom(p, receiver, 6, LinuxSocket.MSG_PEEK);
        Assert.That((peeked.Text, peeked.Result, peeked.Truncated), Is.EqualTo(("second", 6L, true)), "MSG_PEEK of a cut message");
        var whole = ReceiveFrom(p, receiver, 6, LinuxSocket.MSG_PEEK | LinuxSocket.MSG_TRUNC);
        Assert.That(whole.Result, Is.EqualTo(14), "MSG_TRUNC answers the whole length");
        var cut = ReceiveFrom(p, receiver, 6);
        Assert.That((cut.Text, cut.Result, cut.Truncated), Is.EqualTo(("second", 6L, true)));
        Assert.That(cut.From, Is.Empty, "an unnamed sender: no address (length 0)");
        var empty = ReceiveFrom(p, receiver, 64);
        Assert.That((empty.Result, empty.Truncated), Is.EqualTo((0L, false)), "the rest of the cut one is gone; then the empty one");
        Assert.That(ReceiveFrom(p, receiver, 64).Text, Is.EqualTo("third"));
        Assert.That(ReceiveFrom(p, receiver, 64).Result, Is.EqualTo(-Errno.EAGAIN));

        Assert.That(Send(q, unnamed, "x"), Is.EqualTo(-Errno.ENOTCONN), "no destination");
        Assert.That(Connect(q, unnamed, PathAddress("/tmp/dgram")), Is.EqualTo(0));
        Assert.That(Send(q, unnamed, "connected"), Is.EqualTo(9));
        Assert.That(Receive(p, receiver, out _), Is.EqualTo("connected"));
        RemoteSocket thirdParty = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(Connect(p, receiver, AbstractAddress("sender")), Is.EqualTo(0));
        Assert.That(SendTo(p, thirdParty, "x", PathAddress("/tmp/dgram")), Is.EqualTo(-Errno.EPERM), "it talks only to its peer now");
        byte[] unspecified = { 0, 0 };
        Assert.That(Connect(q, unnamed, unspecified), Is.EqualTo(0), "AF_UNSPEC dissolves the association");
        Assert.That(Send(q, unnamed, "x"), Is.EqualTo(-Errno.ENOTCONN));
        // A datagram larger than one call's data travels in pieces and arrives whole (Linux allows
        // up to the send buffer; the protocol's pieces carry up to 64 KiB); with no destination
        // Linux answers ENOTCONN before it looks at the size.
        byte[] big = new byte[20_000];
        for (int i = 0; i < big.Length; i++) big[i] = (byte)(i * 7);
        fixed (byte* b = big) Assert.That(q.Client.Send(named, b, big.Length, 0, null, 0), Is.EqualTo(-Errno.ENOTCONN));
        Assert.That(Connect(p, receiver, unspecified), Is.EqualTo(0), "the receiver talks to anyone again");
        Assert.That(Connect(q, unnamed, PathAddress("/tmp/dgram")), Is.EqualTo(0));
        fixed (byte* b = big) Assert.That(q.Client.Send(unnamed, b, big.Length, 0, null, 0), Is.EqualTo(big.Length));
        byte[] arrived = new byte[65536];
        fixed (byte* a = arrived) Assert.That(p.Client.Receive(receiver, a, arrived.Length, 0, null, out _), Is.EqualTo(big.Length));
        Assert.That(arrived[..big.Length], Is.EqualTo(big), "whole, in order");
        byte[] huge = new byte[VfsProtocol.MaximumDatagram + 1];
        fixed (byte* h = huge) Assert.That(q.Client.Send(unnamed, h, huge.Length, 0, null, 0), Is.EqualTo(-Errno.EMSGSIZE));
    }

    [Test]
    public void ANonPeerSenderFindsTheQueueFullAfterElevenAndIsWokenWhenItDrains()
    {
        SharedProcess p = _tree.Attach(19), q = _tree.Attach(20);
        RemoteSocket receiver = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(Bind(p, receiver, AbstractAddress("full")), Is.EqualTo(0));
        RemoteSocket sender = NewSocket(q, LinuxSocket.SOCK_DGRAM);
        Assert.That(Connect(q, sender, AbstractAddress("full")), Is.EqualTo(0));
        int sent = 0;
        while (Send(q, sender, "m" + sent, LinuxSocket.MSG_DONTWAIT) > 0) sent++;
        Assert.That(sent, Is.EqualTo(11), "net.unix.max_dgram_qlen 10: the 12th finds it full");
        Assert.That(Send(q, sender, "x"), Is.EqualTo(-Errno.EAGAIN), "a blocking send: recorded (the host has no wait)");
        Assert.That(q.Client.Poll(sender, POLLOUT, true, out _) & POLLOUT, Is.EqualTo(0), "poll: not writable while the peer is full");
        Wakes();
        _woken.Clear();
        Assert.That(Receive(p, receiver, out _), Is.EqualTo("m0"));
        Wakes();
        Assert.That(_woken, Is.EqualTo(new[] { 20UL }), "the read woke the waiting sender, once");
        Assert.That(q.Client.Poll(sender, POLLOUT, false, out _) & POLLOUT, Is.EqualTo(POLLOUT));
        Assert.That(Send(q, sender, "m11"), Is.EqualTo(3));
    }

    [Test]
    public void SocketpairConnectsEachTypeWithTheCreatorsCredentials()
    {
        SharedProcess p = _tree.Attach(21);
        int* credentials = stackalloc int[3];
        foreach (int type in new[] { LinuxSocket.SOCK_STREAM, LinuxSocket.SOCK_DGRAM, LinuxSocket.SOCK_SEQPACKET })
        {
            Assert.That(p.Client.SocketPair(LinuxSocket.AF_UNIX, type, 0, out RemoteSocket a, out RemoteSocket b), Is.EqualTo(0));
            Assert.That((a.SocketType, b.SocketType), Is.EqualTo((type, type)));
            Assert.That(Send(p, a, "ping"), Is.EqualTo(4));
            Assert.That(Receive(p, b, out _), Is.EqualTo("ping"), "type " + type);
            Assert.That(Send(p, b, "pong"), Is.EqualTo(4));
            Assert.That(Receive(p, a, out _), Is.EqualTo("pong"));
            NameOf(p, a, true, out long length);
            Assert.That(length, Is.EqualTo(2), "an unnamed peer");
            Assert.That(p.Client.GetOption(a, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_PEERCRED, (byte*)credentials, 12), Is.EqualTo(12));
            Assert.That((credentials[0], credentials[1], credentials[2]), Is.EqualTo((21, 0, 0)), "pid, uid, gid of the creator");
            Assert.That(GetInt(p, a, LinuxSocket.SO_TYPE), Is.EqualTo(type));
        }
        Assert.That(p.Client.SocketPair(LinuxSocket.AF_UNIX, LinuxSocket.SOCK_RAW, 0, out RemoteSocket raw, out _), Is.EqualTo(0));
        Assert.That(raw.SocketType, Is.EqualTo(LinuxSocket.SOCK_DGRAM), "SOCK_RAW is a datagram socket, as Linux makes it");
        Assert.That(p.Client.SocketPair(LinuxSocket.AF_UNIX, 4, 0, out _, out _), Is.EqualTo(-Errno.ESOCKTNOSUPPORT));
        Assert.That(p.Client.SocketPair(LinuxSocket.AF_UNIX, LinuxSocket.SOCK_STREAM, 2, out _, out _), Is.EqualTo(-Errno.EPROTONOSUPPORT));
        Assert.That(p.Client.SocketPair(LinuxSocket.AF_INET, LinuxSocket.SOCK_STREAM, 0, out _, out _), Is.EqualTo(-Errno.EAFNOSUPPORT), "no network here");
        Assert.That(p.Client.SocketPair(LinuxSocket.AF_UNIX, LinuxSocket.SOCK_STREAM | LinuxSocket.SOCK_NONBLOCK, 0, out RemoteSocket x, out _), Is.EqualTo(0));
        Assert.That(Receive(p, x, out _), Is.Empty);
        Receive(p, x, out long nothing);
        Assert.That(nothing, Is.EqualTo(-Errno.EAGAIN), "SOCK_NONBLOCK holds for both ends");
    }

    [Test]
    public void SocketpairOfTheNetworksFamilyIsEOPNOTSUPPAsOnLinux()
    {
        var wire = new SimulatedEthernet();
        var stack = wire.Attach(new Aegis.LibOS.Net.MacAddress(0x020000000001UL));
        var tcp = new Aegis.LibOS.Net.Tcp(stack, 1, 2);
        stack.Register(tcp);
        var inet = new Aegis.LibOS.Unixish.Linux.Net.InetSockets(stack, tcp, () => 0);
        _tree.Server.Sockets = inet;
        SharedProcess p = _tree.Attach(22);
        Assert.That(p.Client.SocketPair(LinuxSocket.AF_INET, LinuxSocket.SOCK_STREAM, 0, out _, out _), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(p.Client.SocketPair(LinuxSocket.AF_INET, LinuxSocket.SOCK_STREAM, LinuxSocket.IPPROTO_UDP, out _, out _), Is.EqualTo(-Errno.EPROTONOSUPPORT), "the socket's own error first");
        Assert.That(inet.Open, Is.EqualTo(0), "the probe socket went");
        _tree.Server.SocketsTouched = false;
        Assert.That(p.Client.Socket(LinuxSocket.AF_UNIX, LinuxSocket.SOCK_STREAM, 0, out RemoteSocket local), Is.EqualTo(0), "AF_UNIX still goes to its own provider");
        Assert.That(_tree.Server.Unix.Open, Is.EqualTo(1));
        Assert.That(Bind(p, local, AbstractAddress("quiet")), Is.EqualTo(0));
        Close(p, local);
        Assert.That(_tree.Server.SocketsTouched, Is.False, "AF_UNIX calls leave the network's loop alone (no timers to arm)");
    }

    [Test]
    public void AbstractNamesLiveInNoDirectoryAndGoWithTheirSocket()
    {
        SharedProcess p = _tree.Attach(23);
        List<string> before = p.List("/");
        RemoteSocket listener = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(Bind(p, listener, AbstractAddress("aegis.test")), Is.EqualTo(0));
        Assert.That(p.List("/"), Is.EqualTo(before), "no file anywhere");
        Assert.That(NameOf(p, listener, false, out long length), Is.EqualTo(AbstractAddress("aegis.test")));
        Assert.That(length, Is.EqualTo(13), "the length bind was given");
        Assert.That(p.Client.Listen(listener, 1), Is.EqualTo(0));
        RemoteSocket taken = NewSocket(p, LinuxSocket.SOCK_STREAM), datagram = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(Bind(p, taken, AbstractAddress("aegis.test")), Is.EqualTo(-Errno.EADDRINUSE));
        Assert.That(Bind(p, datagram, AbstractAddress("aegis.test")), Is.EqualTo(0), "one table per type, as Linux hashes them");
        byte[] longer = new byte[14];
        AbstractAddress("aegis.test").CopyTo(longer, 0);
        RemoteSocket client = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(Connect(p, client, longer), Is.EqualTo(-Errno.ECONNREFUSED), "a trailing NUL is another name");
        Assert.That(Connect(p, client, AbstractAddress("aegis.test")), Is.EqualTo(0));
        Close(p, listener);
        Assert.That(Bind(p, taken, AbstractAddress("aegis.test")), Is.EqualTo(0), "free once its socket closed");

        RemoteSocket auto = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(Bind(p, auto, new byte[] { 1, 0 }), Is.EqualTo(0), "only the family: autobind");
        byte[] name = NameOf(p, auto, false, out length);
        Assert.That(length, Is.EqualTo(8));
        Assert.That(name[2], Is.EqualTo(0));
        Assert.That(Encoding.ASCII.GetString(name, 3, 5), Does.Match("^[0-9a-f]{5}$"));
        Assert.That(Bind(p, auto, new byte[] { 1, 0 }), Is.EqualTo(0), "again: nothing changes");
        Assert.That(NameOf(p, auto, false, out _), Is.EqualTo(name));
    }

    [Test]
    public void ClosingAStreamEndGivesEofAfterTheDataAndEpipeToWrites()
    {
        SharedProcess p = _tree.Attach(24), q = _tree.Attach(25);
        var (_, near, far) = Connected(p, q, "/tmp/eof");
        Assert.That(Send(q, near, "last words"), Is.EqualTo(10));
        Close(q, near);
        Assert.That(Receive(p, far, out _), Is.EqualTo("last words"));
        Receive(p, far, out long end);
        Assert.That(end, Is.EqualTo(0), "then the end of the stream");
        Assert.That(Send(p, far, "anyone?", LinuxSocket.MSG_NOSIGNAL), Is.EqualTo(-Errno.EPIPE));
        Assert.That(p.Client.Poll(far, POLLIN | POLLOUT | POLLRDHUP, false, out _) & Basic, Is.EqualTo((int)(POLLIN | POLLOUT | POLLHUP | POLLRDHUP)));

        // A close that leaves bytes unread resets the other end: ECONNRESET once, then 0.
        var (_, a, b) = Connected(p, q, "/tmp/reset");
        Assert.That(Send(q, a, "never read"), Is.EqualTo(10));
        Close(p, b);
        Assert.That(q.Client.Poll(a, POLLIN, false, out _) & POLLERR, Is.EqualTo(POLLERR));
        Receive(q, a, out long reset);
        Assert.That(reset, Is.EqualTo(-Errno.ECONNRESET));
        Receive(q, a, out end);
        Assert.That(end, Is.EqualTo(0));

        // shutdown(SHUT_WR) here: EOF there, writes here EPIPE, the other way still open.
        var (_, c, d) = Connected(p, q, "/tmp/half");
        Assert.That(q.Client.Shutdown(c, LinuxSocket.SHUT_WR), Is.EqualTo(0));
        Receive(p, d, out end);
        Assert.That(end, Is.EqualTo(0));
        Assert.That(Send(q, c, "x"), Is.EqualTo(-Errno.EPIPE));
        Assert.That(Send(p, d, "still open"), Is.EqualTo(10));
        Assert.That(Receive(q, c, out _), Is.EqualTo("still open"));
        Assert.That(q.Client.Shutdown(c, 3), Is.EqualTo(-Errno.EINVAL));
    }

    [Test]
    public void AListenerClosedWithAPendingConnectionResetsItsClient()
    {
        SharedProcess p = _tree.Attach(26), q = _tree.Attach(27);
        RemoteSocket listener = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(Bind(p, listener, PathAddress("/tmp/pending")), Is.EqualTo(0));
        Assert.That(p.Client.Listen(listener, 4), Is.EqualTo(0));
        RemoteSocket client = NewSocket(q, LinuxSocket.SOCK_STREAM);
        Assert.That(Connect(q, client, PathAddress("/tmp/pending")), Is.EqualTo(0));
        Assert.That(Send(q, client, "early"), Is.EqualTo(5), "connected before any accept: it may write");
        Assert.That(_tree.Server.Unix.Open, Is.EqualTo(3), "the listener, the client and the server end waiting");
        Close(p, listener);
        Assert.That(_tree.Server.Unix.Open, Is.EqualTo(1), "the waiting end went with its listener");
        Receive(q, client, out long reset);
        Assert.That(reset, Is.EqualTo(-Errno.ECONNRESET));
        Assert.That(Send(q, client, "x", LinuxSocket.MSG_NOSIGNAL), Is.EqualTo(-Errno.EPIPE));
    }

    [Test]
    public void ABlockedAcceptIsWokenByAConnectAndAFullBacklogByAnAccept()
    {
        SharedProcess p = _tree.Attach(28), q = _tree.Attach(29);
        RemoteSocket listener = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(Bind(p, listener, PathAddress("/tmp/wait")), Is.EqualTo(0));
        Assert.That(p.Client.Listen(listener, 0), Is.EqualTo(0));
        // No SocketWait on the host: a blocked call comes back as EAGAIN after the server recorded the caller.
        Assert.That(Accept(p, listener, out _, out _), Is.EqualTo(-Errno.EAGAIN));
        Wakes();
        Assert.That(_woken, Is.Empty);
        RemoteSocket first = NewSocket(q, LinuxSocket.SOCK_STREAM | LinuxSocket.SOCK_NONBLOCK);
        Assert.That(Connect(q, first, PathAddress("/tmp/wait")), Is.EqualTo(0));
        Wakes();
        Assert.That(_woken, Is.EqualTo(new[] { 28UL }), "the connection woke the accepting process, once");
        _woken.Clear();

        // backlog 0 holds one connection: the next non-blocking connect is EAGAIN, a blocking one waits.
        RemoteSocket second = NewSocket(q, LinuxSocket.SOCK_STREAM | LinuxSocket.SOCK_NONBLOCK);
        Assert.That(Connect(q, second, PathAddress("/tmp/wait")), Is.EqualTo(-Errno.EAGAIN));
        RemoteSocket third = NewSocket(q, LinuxSocket.SOCK_STREAM);
        Assert.That(Connect(q, third, PathAddress("/tmp/wait")), Is.EqualTo(-Errno.EINPROGRESS), "blocked (the host has no wait): recorded");
        Wakes();
        Assert.That(_woken, Is.Empty);
        Assert.That(Accept(p, listener, out RemoteSocket? accepted, out byte[] peer), Is.EqualTo(0));
        Assert.That(peer, Is.EqualTo(new byte[] { 1, 0 }), "the unnamed client: length 2");
        Wakes();
        Assert.That(_woken, Is.EqualTo(new[] { 29UL }), "the accept woke the connecting process");
        Assert.That(Connect(q, third, PathAddress("/tmp/wait")), Is.EqualTo(0), "room now");
        Assert.That(Connect(q, first, PathAddress("/tmp/wait")), Is.EqualTo(-Errno.EAGAIN), "full again, checked before EISCONN as Linux");
    }

    [Test]
    public void AWriterWithAFullSendBufferIsWokenWhenTheReaderReads()
    {
        SharedProcess p = _tree.Attach(30);
        Assert.That(p.Client.SocketPair(LinuxSocket.AF_UNIX, LinuxSocket.SOCK_STREAM, 0, out RemoteSocket writer, out RemoteSocket reader), Is.EqualTo(0));
        int size = 4096;
        Assert.That(p.Client.SetOption(writer, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_SNDBUF, (byte*)&size, 4), Is.EqualTo(0));
        Assert.That(GetInt(p, writer, LinuxSocket.SO_SNDBUF), Is.EqualTo(8192), "doubled, as Linux");
        byte[] block = new byte[3000];
        long total = 0, n;
        fixed (byte* b = block)
            while ((n = p.Client.Send(writer, b, block.Length, LinuxSocket.MSG_DONTWAIT, null, 0)) > 0) total += n;
        Assert.That(n, Is.EqualTo(-Errno.EAGAIN));
        Assert.That(total, Is.EqualTo(8192), "the send buffer's worth in flight");
        Assert.That(p.Client.Poll(writer, POLLOUT, true, out bool recorded) & POLLOUT, Is.EqualTo(0));
        Assert.That(recorded, Is.True);
        Wakes();
        _woken.Clear();
        Receive(p, reader, out long got, 1000);
        Assert.That(got, Is.EqualTo(1000));
        Wakes();
        Assert.That(_woken, Is.Empty, "still more than a quarter in flight: not writable (Linux's unix_writable)");
        Receive(p, reader, out got, 6000);
        Assert.That(got, Is.EqualTo(6000));
        Wakes();
        Assert.That(_woken, Is.EqualTo(new[] { 30UL }), "room: the writer's watcher woken");
        Assert.That(p.Client.Poll(writer, POLLOUT, false, out _) & POLLOUT, Is.EqualTo(POLLOUT));
    }

    [Test]
    public void PollShowsLinuxsBitsForEachState()
    {
        SharedProcess p = _tree.Attach(31);
        RemoteSocket fresh = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(p.Client.Poll(fresh, POLLIN | POLLOUT, false, out _) & Basic, Is.EqualTo((int)(POLLOUT | POLLHUP)), "unconnected: writable and hung up");
        Assert.That(Bind(p, fresh, AbstractAddress("poll")), Is.EqualTo(0));
        Assert.That(p.Client.Listen(fresh, 2), Is.EqualTo(0));
        Assert.That(p.Client.Poll(fresh, POLLIN | POLLOUT, true, out bool recorded) & Basic, Is.EqualTo(0), "a listener with nothing waiting");
        Assert.That(recorded, Is.True);
        RemoteSocket client = NewSocket(p, LinuxSocket.SOCK_STREAM);
        Assert.That(Connect(p, client, AbstractAddress("poll")), Is.EqualTo(0));
        Wakes();
        Assert.That(_woken, Is.EqualTo(new[] { 31UL }), "recorded by the look, woken by the connection");
        Assert.That(p.Client.Poll(fresh, POLLIN, false, out _) & POLLIN, Is.EqualTo(POLLIN));
        Assert.That(Accept(p, fresh, out RemoteSocket? server, out _), Is.EqualTo(0));
        Assert.That(p.Client.Poll(client, POLLIN | POLLOUT, false, out _) & Basic, Is.EqualTo((int)POLLOUT));
        long changes = client.Changes;
        Assert.That(Send(p, server!, "x"), Is.EqualTo(1));
        Assert.That(p.Client.Poll(client, POLLIN | POLLOUT, false, out _) & Basic, Is.EqualTo((int)(POLLIN | POLLOUT)));
        Assert.That(client.Changes, Is.GreaterThan(changes), "the change count moved (edge-triggered epoll reports again)");
        Assert.That(p.Client.Shutdown(server!, LinuxSocket.SHUT_WR), Is.EqualTo(0));
        Assert.That(p.Client.Poll(client, POLLIN | POLLOUT, false, out _) & Basic, Is.EqualTo((int)(POLLIN | POLLOUT | POLLRDHUP)));
        Assert.That(p.Client.Shutdown(client, LinuxSocket.SHUT_WR), Is.EqualTo(0));
        Assert.That(p.Client.Poll(client, POLLIN | POLLOUT, false, out _) & Basic, Is.EqualTo((int)(POLLIN | POLLOUT | POLLHUP | POLLRDHUP)));

        RemoteSocket datagram = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(p.Client.Poll(datagram, POLLIN | POLLOUT, false, out _) & Basic, Is.EqualTo((int)POLLOUT), "a datagram socket is never hung up");

        // One PollMany call answers unix sockets too (an epoll's look).
        var sockets = new List<RemoteSocket> { client, datagram };
        p.Client.PollMany(sockets, false);
        Assert.That((client.Batched & Basic, datagram.Batched & Basic), Is.EqualTo((POLLIN | POLLOUT | POLLHUP | POLLRDHUP, (int)POLLOUT)));
    }

    [Test]
    public void OptionsAnswerAsLinuxsUnixSockets()
    {
        SharedProcess p = _tree.Attach(32);
        RemoteSocket s = NewSocket(p, LinuxSocket.SOCK_SEQPACKET);
        Assert.That(GetInt(p, s, LinuxSocket.SO_TYPE), Is.EqualTo(LinuxSocket.SOCK_SEQPACKET));
        Assert.That(GetInt(p, s, LinuxSocket.SO_DOMAIN), Is.EqualTo(LinuxSocket.AF_UNIX));
        Assert.That(GetInt(p, s, LinuxSocket.SO_PROTOCOL), Is.EqualTo(0));
        Assert.That(GetInt(p, s, LinuxSocket.SO_ACCEPTCONN), Is.EqualTo(0));
        Assert.That(GetInt(p, s, LinuxSocket.SO_ERROR), Is.EqualTo(0));
        Assert.That(GetInt(p, s, LinuxSocket.SO_SNDBUF), Is.EqualTo(212992));
        Assert.That(GetInt(p, s, LinuxSocket.SO_RCVBUF), Is.EqualTo(212992));
        int one = 1;
        Assert.That(p.Client.SetOption(s, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_RCVBUF, (byte*)&one, 4), Is.EqualTo(0));
        Assert.That(GetInt(p, s, LinuxSocket.SO_RCVBUF), Is.EqualTo(2304), "SOCK_MIN_RCVBUF");
        Assert.That(p.Client.SetOption(s, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_SNDBUF, (byte*)&one, 4), Is.EqualTo(0));
        Assert.That(GetInt(p, s, LinuxSocket.SO_SNDBUF), Is.EqualTo(4608), "SOCK_MIN_SNDBUF");
        int huge = int.MaxValue;
        Assert.That(p.Client.SetOption(s, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_SNDBUF, (byte*)&huge, 4), Is.EqualTo(0));
        Assert.That(GetInt(p, s, LinuxSocket.SO_SNDBUF), Is.EqualTo(425984), "capped at twice wmem_max");
        Assert.That(p.Client.SetOption(s, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_PASSCRED, (byte*)&one, 4), Is.EqualTo(0));
        Assert.That(GetInt(p, s, LinuxSocket.SO_PASSCRED), Is.EqualTo(1));
        Assert.That(p.Client.SetOption(s, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_REUSEADDR, (byte*)&one, 2), Is.EqualTo(-Errno.EINVAL), "shorter than an int");
        Assert.That(p.Client.SetOption(s, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_PEERCRED, (byte*)&one, 4), Is.EqualTo(-Errno.ENOPROTOOPT));
        Assert.That(p.Client.SetOption(s, LinuxSocket.IPPROTO_TCP, LinuxSocket.TCP_NODELAY, (byte*)&one, 4), Is.EqualTo(-Errno.EOPNOTSUPP));
        int value = 0;
        Assert.That(p.Client.GetOption(s, LinuxSocket.SOL_SOCKET, 9999, (byte*)&value, 4), Is.EqualTo(-Errno.ENOPROTOOPT));
        int* credentials = stackalloc int[3];
        Assert.That(p.Client.GetOption(s, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_PEERCRED, (byte*)credentials, 12), Is.EqualTo(12));
        Assert.That((credentials[0], credentials[1], credentials[2]), Is.EqualTo((0, -1, -1)), "unconnected: pid 0, uid and gid -1");
        Assert.That(p.Client.GetOption(s, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_PEERCRED, (byte*)credentials, 8), Is.EqualTo(8), "a short buffer gets the first bytes");
        Assert.That(p.Client.GetOption(s, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_TYPE, (byte*)&value, 2), Is.EqualTo(2));
    }

    [Test]
    public void SeqpacketConnectsLikeAStreamAndReadsLikeDatagrams()
    {
        SharedProcess p = _tree.Attach(33), q = _tree.Attach(34);
        var (listener, client, server) = Connected(p, q, "/tmp/packets", LinuxSocket.SOCK_SEQPACKET);
        Assert.That(Send(q, client, "abcdef"), Is.EqualTo(6));
        Assert.That(Send(q, client, "gh"), Is.EqualTo(2));
        var cut = ReceiveFrom(p, server, 3);
        Assert.That((cut.Text, cut.Truncated), Is.EqualTo(("abc", true)), "one packet, cut");
        Assert.That(Receive(p, server, out _), Is.EqualTo("gh"), "the rest of the first is gone");
        Close(q, client);
        Receive(p, server, out long end);
        Assert.That(end, Is.EqualTo(0), "EOF when the other end closed");
        Assert.That(Send(p, server, "x", LinuxSocket.MSG_NOSIGNAL), Is.EqualTo(-Errno.EPIPE));
        RemoteSocket loose = NewSocket(p, LinuxSocket.SOCK_SEQPACKET);
        Assert.That(Send(p, loose, "x"), Is.EqualTo(-Errno.ENOTCONN));
        Receive(p, loose, out long unconnected);
        Assert.That(unconnected, Is.EqualTo(-Errno.ENOTCONN));
        RemoteSocket datagram = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(p.Client.Listen(datagram, 1), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(Accept(p, datagram, out _, out _), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(p.Client.Listen(loose, 1), Is.EqualTo(-Errno.EINVAL), "listen needs a name");
    }

    [Test]
    public void DescriptorsPassWithSCMRightsAndArriveAsTheSameDescriptions()
    {
        SharedProcess p = _tree.Attach(35), q = _tree.Attach(36);
        p.CreateFile("/tmp/shared.txt", "0123456789");
        long file = p.Open("/tmp/shared.txt", LinuxFile.O_RDONLY); // read-only: its position lives in the process (until shared)
        Assert.That(p.Files.Seek((int)file, 4, LinuxFile.SEEK_SET), Is.EqualTo(4));
        var remote = (RemoteFile)p.Files.Table.Get((int)file)!.Node;
        RemoteSocket sender = NewSocket(p, LinuxSocket.SOCK_DGRAM), receiver = NewSocket(q, LinuxSocket.SOCK_DGRAM);
        Assert.That(Bind(q, receiver, AbstractAddress("rights")), Is.EqualTo(0));
        Assert.That(Connect(p, sender, AbstractAddress("rights")), Is.EqualTo(0));
        Assert.That(remote.LocalPosition, Is.True);
        int serverFd = p.Client.ServerFdToPass(remote.Handle); // what sendmsg does: the position moves to the server
        int descriptorsBefore = _tree.Server.DescriptorsOf(36);
        byte[] text = Encoding.ASCII.GetBytes("here");
        fixed (byte* t = text) Assert.That(p.Client.Send(sender, t, 4, 0, null, 0, LinuxFile.AT_FDCWD, &serverFd, 1), Is.EqualTo(4));
        Assert.That(p.Files.Close((int)file), Is.EqualTo(0), "the sender closes its descriptor: the one in flight keeps the file open");
        p.Client.Flush();

        var control = new SocketControl();
        byte[] buffer = new byte[16];
        long got;
        fixed (byte* into = buffer) got = q.Client.Receive(receiver, into, 16, 0, null, out _, out _, control);
        Assert.That(got, Is.EqualTo(4));
        Assert.That(control.RightsCount, Is.EqualTo(1));
        Assert.That(_tree.Server.DescriptorsOf(36), Is.EqualTo(descriptorsBefore + 1), "installed for the receiver");
        var passed = (RemoteFile)control.Rights[0];
        var opened = new OpenFile(q.Fs, passed, control.RightsFlags[0], null);
        int fd = q.Files.Table.Install(opened, false);
        Assert.That(q.Read(fd, 64), Is.EqualTo("456789"), "the same description: its offset came along");

        // A socket passes too; a message with a description that nobody reads goes at close.
        Assert.That(q.Client.SocketPair(LinuxSocket.AF_UNIX, LinuxSocket.SOCK_STREAM, 0, out RemoteSocket a, out RemoteSocket b), Is.EqualTo(0));
        int socketFd = a.Handle.ServerFd;
        RemoteSocket back = NewSocket(q, LinuxSocket.SOCK_DGRAM), inbox = NewSocket(p, LinuxSocket.SOCK_DGRAM);
        Assert.That(Bind(p, inbox, AbstractAddress("rights-back")), Is.EqualTo(0));
        Assert.That(Connect(q, back, AbstractAddress("rights-back")), Is.EqualTo(0));
        fixed (byte* t = text) Assert.That(q.Client.Send(back, t, 4, 0, null, 0, LinuxFile.AT_FDCWD, &socketFd, 1), Is.EqualTo(4));
        fixed (byte* into = buffer) got = p.Client.Receive(inbox, into, 16, 0, null, out _, out _, control);
        var carried = (RemoteSocket)control.Rights[0];
        Assert.That(carried.SocketType, Is.EqualTo(LinuxSocket.SOCK_STREAM));
        Assert.That(Send(p, carried, "through the passed socket"), Is.EqualTo(25));
        Assert.That(Receive(q, b, out _), Is.EqualTo("through the passed socket"));

        int openBefore = _tree.Server.Unix.Open;
        fixed (byte* t = text) Assert.That(q.Client.Send(back, t, 4, 0, null, 0, LinuxFile.AT_FDCWD, &socketFd, 1), Is.EqualTo(4));
        Close(q, a);
        Close(q, b);
        Close(p, carried);
        Assert.That(_tree.Server.Unix.Open, Is.EqualTo(openBefore - 1), "b went; a lives in the message in flight");
        Close(p, inbox);
        Assert.That(_tree.Server.Unix.Open, Is.EqualTo(openBefore - 3), "the unread message went with its receiver, and a with it");
        int notHeld = 9999;
        fixed (byte* t = text) Assert.That(q.Client.Send(back, t, 4, 0, null, 0, LinuxFile.AT_FDCWD, &notHeld, 1), Is.EqualTo(-Errno.EBADF), "a descriptor q does not hold");
    }

    [Test]
    public void PassCredentialsReportsTheSendingProcess()
    {
        SharedProcess p = _tree.Attach(37), q = _tree.Attach(38);
        var (_, client, server) = Connected(p, q, "/tmp/creds");
        int one = 1;
        Assert.That(p.Client.SetOption(server, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_PASSCRED, (byte*)&one, 4), Is.EqualTo(0));
        Assert.That(Send(q, client, "who"), Is.EqualTo(3));
        var control = new SocketControl();
        byte[] buffer = new byte[16];
        fixed (byte* into = buffer) Assert.That(p.Client.Receive(server, into, 16, 0, null, out _, out _, control), Is.EqualTo(3));
        Assert.That((control.HasCredentials, control.Pid, control.Uid, control.Gid), Is.EqualTo((true, 38, 0u, 0u)));
        int* credentials = stackalloc int[3];
        Assert.That(p.Client.GetOption(server, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_PEERCRED, (byte*)credentials, 12), Is.EqualTo(12));
        Assert.That(credentials[0], Is.EqualTo(38), "SO_PEERCRED of the accepted end: the connecting process");
        Assert.That(q.Client.GetOption(client, LinuxSocket.SOL_SOCKET, LinuxSocket.SO_PEERCRED, (byte*)credentials, 12), Is.EqualTo(12));
        Assert.That(credentials[0], Is.EqualTo(37), "SO_PEERCRED of the client: the listening process");
    }

    [Test]
    public void AForkedChildSharesTheSocketAndExitClosesEverything()
    {
        SharedProcess parent = _tree.Attach(40), scratch = _tree.Attach(42);
        Assert.That(parent.Client.SocketPair(LinuxSocket.AF_UNIX, LinuxSocket.SOCK_STREAM, 0, out RemoteSocket a, out RemoteSocket b), Is.EqualTo(0));
        FdOf(parent, a);
        FdOf(parent, b);
        Assert.That(parent.Client.BeforeFork(41), Is.EqualTo(0));
        Assert.That(_tree.Server.DescriptorsOf(41), Is.EqualTo(2), "the child holds both ends too");
        // The child (41) writes on its duplicate of a, then exits.
        byte* buffer = scratch.Transport.Buffer;
        byte[] text = Encoding.ASCII.GetBytes("from the child");
        Marshal.Copy(text, 0, (IntPtr)(buffer + VfsProtocol.Payload + VfsProtocol.SocketData), text.Length);
        Assert.That(_tree.Server.Handle(41, VfsProtocol.SendTo, (ulong)a.Handle.ChildFd, (ulong)text.Length, 0, buffer, VfsProtocol.BufferBytes, out _), Is.EqualTo(14));
        Assert.That(_tree.Server.Handle(41, VfsProtocol.Goodbye, 0, 0, 0, buffer, VfsProtocol.BufferBytes, out _), Is.EqualTo(0));
        Assert.That(_tree.Server.DescriptorsOf(41), Is.EqualTo(0));
        Assert.That(Receive(parent, b, out _), Is.EqualTo("from the child"), "the parent reads what its child wrote");
        Assert.That(Send(parent, b, "still here"), Is.EqualTo(10), "the child's exit closed its descriptors, not the sockets");
        parent.Client.Goodbye();
        Assert.That(_tree.Server.Unix.Open, Is.EqualTo(0), "exit closed the sockets");
    }
    /// <summary>A forked child the parent's Duplicate gave descriptors, which never calls the server
    /// and ends without Goodbye (a crash): the server knows it holds something for it (Holds,
    /// Holders), and Depart — what the environment glue does when InfoPage.RecentEnds names it —
    /// closes its ends, so the parent reads end of file. A process that said Goodbye is held for
    /// no more, and Depart of it counts as such only when no Goodbye did it.</summary>
    [Test]
    public void AChildThatEndsWithoutGoodbyeIsHeldForUntilDepartClosesItsEnds()
    {
        SharedProcess parent = _tree.Attach(40);
        Assert.That(parent.Client.SocketPair(LinuxSocket.AF_UNIX, LinuxSocket.SOCK_STREAM, 0, out RemoteSocket a, out RemoteSocket b), Is.EqualTo(0));
        FdOf(parent, a);
        FdOf(parent, b);
        Assert.That(parent.Client.BeforeFork(41), Is.EqualTo(0));
        Assert.That(_tree.Server.Holds(41), Is.True, "given descriptors by its parent's Duplicate");
        Assert.That(_tree.Server.Holds(43), Is.False);
        var holders = new List<ulong>();
        _tree.Server.Holders(holders, descriptors: false);
        Assert.That(holders, Does.Contain(41UL));
        // The parent closes its copy of a (the close rides with its next call); the child's copy keeps a open.
        Close(parent, a);
        Assert.That(_tree.Server.DescriptorsOf(41), Is.EqualTo(2));
        long departedBefore = _tree.Server.DepartedCount;
        _tree.Server.Depart(41);
        Assert.That(_tree.Server.DescriptorsOf(41), Is.EqualTo(0));
        Assert.That(_tree.Server.Holds(41), Is.False);
        Assert.That(_tree.Server.DepartedCount, Is.EqualTo(departedBefore + 1));
        Assert.That(Receive(parent, b, out _), Is.EqualTo(""), "the child's end of a closed with it: end of file");
        parent.Client.Goodbye();
        Assert.That(_tree.Server.DepartedCount, Is.EqualTo(departedBefore + 1), "a Goodbye is not counted as an end without one");
        Assert.That(_tree.Server.Unix.Open, Is.EqualTo(0));
    }
}
