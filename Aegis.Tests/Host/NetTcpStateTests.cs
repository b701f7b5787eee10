// TCP's state machine (RFC 9293): handshakes and closes in every order, half-close, resets,
// over the simulated network (NetTcpSimulation.cs).
using Aegis.LibOS.Net;
using NUnit.Framework;
using static Aegis.Tests.Host.TcpTestKit;

namespace Aegis.Tests.Host;

public class NetTcpStateTests
{
    [Test]
    public void HandshakeEstablishesBothSidesAndDataFlowsBothWays()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh);
        Assert.That(s.State, Is.EqualTo(TcpState.Established));
        Assert.That(c.LocalAddress, Is.EqualTo(ClientAddress));
        Assert.That(s.RemotePort, Is.EqualTo(c.LocalPort));
        Assert.That(c.LocalPort, Is.InRange(Tcp.EphemeralFirst, Tcp.EphemeralLast));
        Assert.That(c.Send("hello"u8, net.Now), Is.EqualTo(5));
        net.Run(100_000);
        Assert.That(System.Text.Encoding.ASCII.GetString(Drain(s, net.Now)), Is.EqualTo("hello"));
        Assert.That(s.Send("world!"u8, net.Now), Is.EqualTo(6));
        net.Run(100_000);
        Assert.That(System.Text.Encoding.ASCII.GetString(Drain(c, net.Now)), Is.EqualTo("world!"));
        Assert.That(c.Readiness & TcpReadiness.Writable, Is.EqualTo(TcpReadiness.Writable));
    }

    [Test]
    public void ActiveCloseGoesThroughFinWaitToTimeWaitAndPassiveThroughLastAck()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh);
        c.Close(net.Now);
        Assert.That(c.State, Is.EqualTo(TcpState.FinWait1));
        net.Run(50_000);
        Assert.That(c.State, Is.EqualTo(TcpState.FinWait2));
        Assert.That(s.State, Is.EqualTo(TcpState.CloseWait));
        Assert.That(s.Receive(new byte[10], net.Now), Is.EqualTo(0), "EOF");
        Assert.That(s.Readiness & TcpReadiness.ReadHangUp, Is.EqualTo(TcpReadiness.ReadHangUp));
        s.Close(net.Now);
        Assert.That(s.State, Is.EqualTo(TcpState.LastAck));
        net.Run(50_000);
        Assert.That(s.State, Is.EqualTo(TcpState.Closed));
        Assert.That(c.State, Is.EqualTo(TcpState.TimeWait));
        Assert.That(ch.Tcp.TimeWaitCount, Is.EqualTo(1));
        net.Run(2 * ch.Tcp.MslMicros + 1_000_000);
        Assert.That(c.State, Is.EqualTo(TcpState.Closed));
        Assert.That(ch.Tcp.ConnectionCount, Is.EqualTo(0));
        Assert.That(sh.Tcp.ConnectionCount, Is.EqualTo(0));
    }

    [Test]
    public void SimultaneousCloseGoesThroughClosingToTimeWaitOnBothSides()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh);
        c.Close(net.Now);
        s.Close(net.Now);
        Assert.That(c.State, Is.EqualTo(TcpState.FinWait1));
        Assert.That(s.State, Is.EqualTo(TcpState.FinWait1));
        net.RunUntil(() => c.State != TcpState.FinWait1 && s.State != TcpState.FinWait1, 10_000);
        Assert.That(c.State, Is.EqualTo(TcpState.Closing));
        Assert.That(s.State, Is.EqualTo(TcpState.Closing));
        net.Run(50_000);
        Assert.That(c.State, Is.EqualTo(TcpState.TimeWait));
        Assert.That(s.State, Is.EqualTo(TcpState.TimeWait));
    }

    [Test]
    public void SimultaneousOpenGoesThroughSynReceivedToEstablished()
    {
        var (net, ch, sh) = Pair();
        var a = ch.Tcp.CreateConnection();
        var b = sh.Tcp.CreateConnection();
        Assert.That(a.Bind(Ipv4Address.Any, 5000), Is.EqualTo(TcpError.None));
        Assert.That(b.Bind(Ipv4Address.Any, 6000), Is.EqualTo(TcpError.None));
        Assert.That(a.Connect(ServerAddress, 6000, net.Now), Is.EqualTo(TcpError.InProgress));
        Assert.That(b.Connect(ClientAddress, 5000, net.Now), Is.EqualTo(TcpError.InProgress));
        net.RunUntil(() => a.State != TcpState.SynSent && b.State != TcpState.SynSent, 10_000);
        Assert.That(a.State, Is.EqualTo(TcpState.SynReceived));
        Assert.That(b.State, Is.EqualTo(TcpState.SynReceived));
        net.Run(50_000);
        Assert.That(a.State, Is.EqualTo(TcpState.Established));
        Assert.That(b.State, Is.EqualTo(TcpState.Established));
        a.Send("x"u8, net.Now);
        b.Send("y"u8, net.Now);
        net.Run(100_000);
        Assert.That(Drain(b, net.Now), Is.EqualTo("x"u8.ToArray()));
        Assert.That(Drain(a, net.Now), Is.EqualTo("y"u8.ToArray()));
    }

    [Test]
    public void HalfCloseThenDataStillFlowsTheOtherWay()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh);
        c.Send("request"u8, net.Now);
        Assert.That(c.Shutdown(false, true, net.Now), Is.EqualTo(TcpError.None));
        Assert.That(c.Send("more"u8, net.Now), Is.EqualTo(-(int)TcpError.Pipe));
        net.Run(100_000);
        Assert.That(System.Text.Encoding.ASCII.GetString(Drain(s, net.Now)), Is.EqualTo("request"));
        Assert.That(s.Receive(new byte[1], net.Now), Is.EqualTo(0));
        Assert.That(s.State, Is.EqualTo(TcpState.CloseWait));
        var reply = Pattern(200_000, 3);
        var got = Transfer(net, s, c, reply, 20_000_000);
        Assert.That(got, Is.EqualTo(reply));
        net.Run(100_000);
        Assert.That(s.State, Is.EqualTo(TcpState.Closed));
        Assert.That(c.State, Is.EqualTo(TcpState.TimeWait));
    }

    [Test]
    public void ASynToAClosedPortIsAnsweredWithRstAndConnectIsRefused()
    {
        var (net, ch, sh) = Pair();
        net.Log = new List<SimPacket>();
        var c = ch.Tcp.CreateConnection();
        Assert.That(c.Connect(ServerAddress, 81, net.Now), Is.EqualTo(TcpError.InProgress));
        net.Run(100_000);
        Assert.That(c.State, Is.EqualTo(TcpState.Closed));
        Assert.That(c.PendingError, Is.EqualTo(TcpError.ConnectionRefused));
        Assert.That(c.Readiness & (TcpReadiness.Error | TcpReadiness.HangUp), Is.EqualTo(TcpReadiness.Error | TcpReadiness.HangUp));
        var rst = net.Log[1].Segment;
        var syn = net.Log[0].Segment;
        Assert.That(rst.HasRst && rst.HasAck, Is.True);
        Assert.That(rst.Seq, Is.EqualTo(0u));
        Assert.That(rst.AckNumber, Is.EqualTo(syn.Seq + 1));
        Assert.That(c.Send("x"u8, net.Now), Is.EqualTo(-(int)TcpError.ConnectionRefused));
        Assert.That(c.Send("x"u8, net.Now), Is.EqualTo(-(int)TcpError.Pipe));
        Assert.That(ch.Tcp.ConnectionCount, Is.EqualTo(0));
    }

    [Test]
    public void AnAckToAClosedPortIsAnsweredWithRstCarryingItsAckAsSequence()
    {
        var (net, ch, sh) = Pair();
        net.Log = new List<SimPacket>();
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, 1234, 99, 1000, 777777, TcpSegment.Ack, 100));
        Assert.That(net.Log, Has.Count.EqualTo(1));
        var rst = net.Log[0].Segment;
        Assert.That(rst.HasRst, Is.True);
        Assert.That(rst.HasAck, Is.False);
        Assert.That(rst.Seq, Is.EqualTo(777777u));
        // A RST is never answered.
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, 1234, 99, 1000, 0, TcpSegment.Rst, 0));
        Assert.That(net.Log, Has.Count.EqualTo(1));
    }

    [Test]
    public void ResetOfAnEstablishedConnectionReportsConnectionResetAndHangUp()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh);
        s.Abort(net.Now);
        net.Run(50_000);
        Assert.That(c.State, Is.EqualTo(TcpState.Closed));
        Assert.That(c.Readiness & TcpReadiness.HangUp, Is.EqualTo(TcpReadiness.HangUp));
        Assert.That(c.Receive(new byte[4], net.Now), Is.EqualTo(-(int)TcpError.ConnectionReset));
        Assert.That(c.Receive(new byte[4], net.Now), Is.EqualTo(0));
    }

    [Test]
    public void LingerZeroCloseSendsRst()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh, clientOptions: o => { o.Linger = true; o.LingerSeconds = 0; });
        c.Send("unsent?"u8, net.Now);
        c.Close(net.Now);
        Assert.That(c.State, Is.EqualTo(TcpState.Closed));
        net.Run(50_000);
        Assert.That(s.State, Is.EqualTo(TcpState.Closed));
        Assert.That(s.PendingError, Is.EqualTo(TcpError.ConnectionReset));
    }

    [Test]
    public void CloseWithUnreadDataSendsRst()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh);
        c.Send("unread"u8, net.Now);
        net.Run(50_000);
        s.Close(net.Now);
        net.Run(50_000);
        Assert.That(c.PendingError, Is.EqualTo(TcpError.ConnectionReset));
    }

    [Test]
    public void AnOutOfWindowRstIsIgnoredAndAnInWindowOneGetsAChallengeAck()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh);
        net.Log = new List<SimPacket>();
        uint nxt = s.ReceiveNext;
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, c.LocalPort, 80, nxt + 0x40000000, 0, TcpSegment.Rst, 0));
        Assert.That(s.State, Is.EqualTo(TcpState.Established));
        Assert.That(net.Log, Is.Empty);
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, c.LocalPort, 80, nxt + 10, 0, TcpSegment.Rst, 0));
        Assert.That(s.State, Is.EqualTo(TcpState.Established));
        Assert.That(net.Log, Has.Count.EqualTo(1));
        Assert.That(net.Log[0].Segment.AckNumber, Is.EqualTo(nxt));
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, c.LocalPort, 80, nxt, 0, TcpSegment.Rst, 0));
        Assert.That(s.State, Is.EqualTo(TcpState.Closed));
        Assert.That(s.PendingError, Is.EqualTo(TcpError.ConnectionReset));
    }

    [Test]
    public void ASynOnAnEstablishedConnectionGetsAChallengeAckAndChangesNothing()
    {
        var (net, ch, sh) = Pair();
        var (c, s, _) = Connect(net, ch, sh);
        net.Log = new List<SimPacket>();
        net.Inject(ClientAddress, ServerAddress, Segment(ClientAddress, ServerAddress, c.LocalPort, 80, s.ReceiveNext + 5, 0, TcpSegment.Syn, 1000));
        Assert.That(s.State, Is.EqualTo(TcpState.Established));
        Assert.That(net.Log, Has.Count.EqualTo(1));
        Assert.That(net.Log[0].Segment.HasAck && !net.Log[0].Segment.HasSyn, Is.True);
    }

    [Test]
    public void ConnectTimesOutAfterSynRetriesWhenNothingAnswers()
    {
        var (net, ch, sh) = Pair();
        net.Down = true;
        ch.Tcp.SynRetries = 3;
        var c = ch.Tcp.CreateConnection();
        c.Connect(ServerAddress, 80, net.Now);
        net.Run(60_000_000);
        Assert.That(c.PendingError, Is.EqualTo(TcpError.TimedOut));
        Assert.That(ch.Tcp.Counters.Retransmissions, Is.EqualTo(3));
    }

    [Test]
    public void ListenRefusesAPortAlreadyListenedOn()
    {
        var (net, ch, sh) = Pair();
        var a = sh.Tcp.CreateListener();
        var b = sh.Tcp.CreateListener();
        Assert.That(a.Listen(Ipv4Address.Any, 80, 4), Is.EqualTo(TcpError.None));
        Assert.That(b.Listen(Ipv4Address.Any, 80, 4), Is.EqualTo(TcpError.AddressInUse));
        Assert.That(b.Listen(ServerAddress, 80, 4), Is.EqualTo(TcpError.AddressInUse));
        a.Close(net.Now);
        Assert.That(b.Listen(ServerAddress, 80, 4), Is.EqualTo(TcpError.None));
    }

    [Test]
    public void ListenWithoutReuseAddressFailsWhileTimeWaitHoldsThePortAndSucceedsWithIt()
    {
        var (net, ch, sh) = Pair();
        var (c, s, l) = Connect(net, ch, sh);
        s.Close(net.Now);
        net.Run(50_000);
        c.Close(net.Now);
        net.Run(50_000);
        Assert.That(s.State, Is.EqualTo(TcpState.TimeWait));
        l.Close(net.Now);
        var again = sh.Tcp.CreateListener();
        Assert.That(again.Listen(Ipv4Address.Any, 80, 4), Is.EqualTo(TcpError.AddressInUse));
        again.Options.ReuseAddress = true;
        Assert.That(again.Listen(Ipv4Address.Any, 80, 4), Is.EqualTo(TcpError.None));
    }
}
