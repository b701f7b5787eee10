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

    [Test]
    public void StableBytesAreReferredToNotCopiedAndKeepTheirPlaceAmongCopiedOnes()
    {
        var buffer = new TcpSendBuffer(64 * 1024);
        byte[] document = new byte[10_000];
        for (int i = 0; i < document.Length; i++) document[i] = (byte)(i * 7 + 1);
        Assert.That(buffer.Append(new byte[] { 1, 2, 3 }), Is.EqualTo(3));
        Assert.That(buffer.AppendStable(document, 100, 5_000), Is.EqualTo(5_000));
        Assert.That(buffer.Append(new byte[] { 9 }), Is.EqualTo(1));
        Assert.That(buffer.AppendStable(document, 5_100, 4_900), Is.EqualTo(4_900));
        Assert.That((buffer.Length, buffer.StableBytes, buffer.Free), Is.EqualTo((9_904, 9_900, 64 * 1024 - 9_904)), "stable bytes count against the capacity");
        var all = new byte[buffer.Length];
        buffer.CopyOut(0, all);
        byte[] expected = new byte[] { 1, 2, 3 }.Concat(document.Skip(100).Take(5_000)).Concat(new byte[] { 9 })
            .Concat(document.Skip(5_100).Take(4_900)).ToArray();
        Assert.That(all, Is.EqualTo(expected));
        document[100] = 0xEE; // referred to, not copied: the queue shows the caller's bytes
        var one = new byte[1];
        buffer.CopyOut(3, one);
        Assert.That(one[0], Is.EqualTo(0xEE));
        buffer.Consume(4); // the copied three and the first stable byte
        buffer.CopyOut(0, one);
        Assert.That(one[0], Is.EqualTo(document[101]));
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.AppendStable(document, 9_000, 1_001), "past the array's end");
        var big = new byte[100 * 1024];
        int free = buffer.Free;
        Assert.That(buffer.AppendStable(big, 0, big.Length), Is.EqualTo(free), "no more than the free room");
        Assert.That(buffer.Free, Is.EqualTo(0));
    }

    [Test]
    public void TheSendQueueMatchesAPlainListUnderRandomAppendsCopiesAndAcknowledgements()
    {
        var random = new Random(21);
        for (int round = 0; round < 20; round++)
        {
            int capacity = random.Next(1, 5) * 20_000;
            var buffer = new TcpSendBuffer(capacity);
            byte[] model = Array.Empty<byte>();
                        for (int step = 0; step < 400; step++)
            {
                switch (random.Next(4))
                {
                    case 0:
                    {
                        var piece = new byte[random.Next(0, 6_000)];
                        random.NextBytes(piece);
                        int n = buffer.Append(piece);
                        Assert.That(n, Is.EqualTo(Math.Min(piece.Length, capacity - model.Length)));
                        model = model.Concat(piece.Take(n)).ToArray();
                        break;
                    }
                    case 1:
                    {
                        var array = new byte[random.Next(1, 9_000)];
                        random.NextBytes(array);
                        int offset = random.Next(0, array.Length), length = random.Next(0, array.Length - offset + 1);
                        int n = buffer.AppendStable(array, offset, length);
                        Assert.That(n, Is.EqualTo(Math.Min(length, capacity - model.Length)));
                        model = model.Concat(array.Skip(offset).Take(n)).ToArray();
                        // The same array's next bytes right after: one extent grows.
                        int more = buffer.AppendStable(array, offset + n, array.Length - offset - n);
                        model = model.Concat(array.Skip(offset + n).Take(more)).ToArray();
                        break;
                    }
                    case 2:
                    {
                        int n = random.Next(0, model.Length + 1);
                        buffer.Consume(n);
                        model = model.Skip(n).ToArray();
                        break;
                    }
                    default:
                    {
                        if (model.Length == 0) break;
                        int offset = random.Next(0, model.Length), length = random.Next(0, model.Length - offset + 1);
                        var got = new byte[length];
                        buffer.CopyOut(offset, got);
                        Assert.That(got, Is.EqualTo(model.Skip(offset).Take(length).ToArray()), $"round {round} step {step}");
                        break;
                    }
                }
                Assert.That((buffer.Length, buffer.Free), Is.EqualTo((model.Length, capacity - model.Length)));
            }
            var whole = new byte[model.Length];
            buffer.CopyOut(0, whole);
            Assert.That(whole, Is.EqualTo(model));
        }
    }
}
