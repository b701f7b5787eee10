#nullable enable
// The whole network of a guest run with ./aegis run --wire PORT, played by LibOS.Net on the host:
// a NetStack and a Tcp at 10.0.2.2 (the address QEMU's user network gives its gateway) whose
// frames go to QEMU as UDP datagrams, and a DHCP server that leases 10.0.2.15 to the guest. A
// boot test then drives TCP connections to the guest with a stack whose every segment it can
// see and hold back (DropSent): a handshake whose final ACK the guest has not had yet, for one.
// One thread runs the stack (frames in, timers); a test's calls take the same lock.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Aegis.LibOS.Net;
using static Aegis.Tests.Host.NetFrames;

namespace Aegis.Tests.Boot;

public sealed class WirePeer : IDisposable
{
    public static readonly Ipv4Address Address = new(10, 0, 2, 2);
    public static readonly Ipv4Address Guest = new(10, 0, 2, 15);
    private static readonly MacAddress Mac = new(0x52550A000202UL);

    private readonly UdpClient _socket;
    private readonly IPEndPoint _qemu;
    private readonly Thread _pump;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private volatile bool _stop;

    public readonly object Lock = new();
    public NetStack Stack { get; }
    public Tcp Tcp { get; }
    public int Port { get; }
    /// <summary>Return true to keep a frame this stack sends off the wire (called under Lock).</summary>
    public Func<byte[], bool>? DropSent;
    public int Leases, DroppedSent;

    public WirePeer()
    {
        _socket = HostNetwork.BindWireEnd(out int port, out _qemu);
        Port = port;
        _socket.Client.ReceiveTimeout = 5;
        Stack = new NetStack(Mac, new Link(this));
        Stack.Configure(Address, new Ipv4Address(255, 255, 255, 0), Address, Now);
        Tcp = new Tcp(Stack, 11, 12);
        Stack.Register(Tcp);
        _pump = new Thread(Pump) { IsBackground = true, Name = "wire peer" };
        _pump.Start();
    }

    public long Now => _clock.ElapsedTicks * 1_000_000 / Stopwatch.Frequency;

    /// <summary>Waits (polling under the lock) until condition holds; false after 'seconds'.</summary>
    public bool WaitUntil(Func<bool> condition, double seconds)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed.TotalSeconds < seconds)
        {
            lock (Lock) if (condition()) return true;
            Thread.Sleep(5);
        }
        lock (Lock) return condition();
    }

    /// <summary>A TCP connection to the guest's port, established within 'seconds' (null if not).</summary>
    public TcpConnection? Connect(int port, double seconds = 20)
    {
        TcpConnection c;
        lock (Lock)
        {
            c = Tcp.CreateConnection();
            c.Options.NoDelay = true;
            if (c.Connect(Guest, port, Now) != TcpError.InProgress) return null;
        }
        return WaitUntil(() => c.State == TcpState.Established, seconds) ? c : null;
    }

    public void Send(TcpConnection c, string text)
    {
        lock (Lock) c.Send(System.Text.Encoding.ASCII.GetBytes(text), Now);
    }

    /// <summary>The next line the connection brings (without its newline), or null after 'seconds'.</summary>
    public string? ReadLine(TcpConnection c, double seconds = 30)
    {
        var buffer = new byte[4096];
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed.TotalSeconds < seconds)
        {
            lock (Lock)
            {
                int n = c.Receive(buffer, Now, peek: true);
                int newline = n > 0 ? Array.IndexOf(buffer, (byte)'\n', 0, n) : -1;
                if (newline >= 0)
                {
                    c.Receive(buffer.AsSpan(0, newline + 1), Now);
                    return System.Text.Encoding.ASCII.GetString(buffer, 0, newline);
                }
                if (n == 0 || n < 0 && n != -(int)TcpError.WouldBlock) return null; // the end, or an error
            }
            Thread.Sleep(5);
        }
        return null;
    }

    private void Pump()
    {
        var from = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop)
        {
            byte[]? frame = null;
            try { frame = _socket.Receive(ref from); }
            catch (SocketException) { }
            catch (ObjectDisposedException) { return; }
            lock (Lock)
            {
                if (frame != null && !AnswerDhcp(frame)) Stack.Receive(frame, Now);
                Stack.Poll(Now);
                Tcp.Poll(Now);
            }
        }
    }

    /// <summary>The guest's DISCOVER and REQUEST: an OFFER and an ACK of 10.0.2.15 (router and server 10.0.2.2).</summary>
    private bool AnswerDhcp(byte[] f)
    {
        if (!IsIpv4(f, 17) || f.Length < 14 + 20 + 8 + 240) return false;
        byte[] udp = Payload(f);
        if (Get(udp, 2, 2) != 67) return false;
        byte[] m = udp[8..];
        if (m.Length < 240 || Get(m, 236, 4) != 0x63825363) return true;
        byte type = 0;
        for (int at = 240; at + 1 < m.Length && m[at] != 255;)
        {
            if (m[at] == 0) { at++; continue; }
            if (m[at] == 53 && at + 2 < m.Length) type = m[at + 2];
            at += 2 + m[at + 1];
        }
        if (type != 1 && type != 3) return true;
        var reply = new byte[548];
        reply[0] = 2; reply[1] = 1; reply[2] = 6;
        Array.Copy(m, 4, reply, 4, 4);      // xid
        Put(reply, 16, Guest.Value, 4);     // yiaddr
        Put(reply, 20, Address.Value, 4);   // siaddr
        Array.Copy(m, 28, reply, 28, 16);   // chaddr
        Put(reply, 236, 0x63825363, 4);
        byte[] options = { 53, 1, (byte)(type == 1 ? 2 : 5), 54, 4, 10, 0, 2, 2, 51, 4, 0, 1, 81, 128,
                           1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2, 255 };
        options.CopyTo(reply, 240);
        Send(EthernetFrame(MacAddress.Broadcast, Mac, 0x0800,
            Ipv4Datagram(Address, Ipv4Address.Broadcast, 17, Udp(Address, Ipv4Address.Broadcast, 67, 68, reply))));
        if (type == 3) Leases++;
        return true;
    }

    private void Send(byte[] frame)
    {
        try { _socket.Send(frame, frame.Length, _qemu); }
        catch (SocketException) { } // QEMU gone
    }

    public void Dispose()
    {
        _stop = true;
        _pump.Join(2000);
        _socket.Dispose();
    }

    private sealed class Link : IFrameLink
    {
        private readonly WirePeer _peer;
        public Link(WirePeer peer) => _peer = peer;

        public bool TrySend(ReadOnlySpan<byte> frame)
        {
            byte[] copy = frame.ToArray();
            if (_peer.DropSent != null && _peer.DropSent(copy)) { _peer.DroppedSent++; return true; }
            _peer.Send(copy);
            return true;
        }

        public int SegmentedFrameBytes => 0;
        public Span<byte> SegmentedBuffer() => default;
        public bool TrySendSegmented(ReadOnlySpan<byte> frame, int segmentSize) => false;
    }
}
