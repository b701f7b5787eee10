// TCP's send queue (LibOS.Net/Tcp/TcpBuffers.cs): a ring that starts small and grows to the
// socket's send buffer size, keeping its bytes in order across the wrap and the growth.
using Aegis.LibOS.Net;
using NUnit.Framework;

namespace Aegis.Tests.Host;

public class NetTcpSendBufferTests
{
    [Test]
    public void TheSendRingGrowsToItsCapacityKeepingTheBytesInOrderAcrossTheWrap()
    {
        var buffer = new TcpSendBuffer(128 * 1024);
        Assert.That(buffer.RingBytes, Is.EqualTo(TcpSendBuffer.FirstRingBytes), "a connection that sends little holds little");
        Assert.That(buffer.Free, Is.EqualTo(128 * 1024), "the free space is the capacity's, not the ring's");
        // Wrap the small ring first: 12 KiB in, 10 KiB acknowledged, 12 KiB more (the tail wraps).
        long next = 0, oldest = 0;
        byte[] Piece(int n) { var p = new byte[n]; for (int i = 0; i < n; i++) p[i] = (byte)((next + i) * 13 + 5); next += n; return p; }
        Assert.That(buffer.Append(Piece(12 * 1024)), Is.EqualTo(12 * 1024));
        buffer.Consume(10 * 1024); oldest += 10 * 1024;
        Assert.That(buffer.Append(Piece(12 * 1024)), Is.EqualTo(12 * 1024));
        Assert.That(buffer.RingBytes, Is.EqualTo(TcpSendBuffer.FirstRingBytes), "14 KiB fit without growing");
        // Now more than the ring holds: it grows (doubling), the wrapped bytes first.
        Assert.That(buffer.Append(Piece(60 * 1024)), Is.EqualTo(60 * 1024));
        Assert.That(buffer.RingBytes, Is.EqualTo(128 * 1024));
        // And no further than the capacity: the rest is refused.
        Assert.That(buffer.Append(Piece(100 * 1024)), Is.EqualTo(128 * 1024 - 74 * 1024));
        next = oldest + buffer.Length;
        var all = new byte[buffer.Length];
        buffer.CopyOut(0, all);
        for (int i = 0; i < all.Length; i++)
            if (all[i] != (byte)((oldest + i) * 13 + 5)) Assert.Fail($"byte {i} of the queue is out of order");
        Assert.That(buffer.Free, Is.EqualTo(0));
    }
}
