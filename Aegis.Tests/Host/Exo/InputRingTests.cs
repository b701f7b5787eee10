// Core/Exo/InputRing.cs: an input device's bytes between its interrupt and InputRead (issue #9).
using Aegis.Kernel.Core.Exo;
using NUnit.Framework;

namespace Aegis.Tests.Host.Exo;

public class InputRingTests
{
    [Test]
    public void BytesComeOutInTheOrderTheyWentIn()
    {
        var ring = new InputRing(8);
        foreach (byte b in new byte[] { 1, 2, 3 }) Assert.That(ring.Write(b), Is.True);
        var buffer = new byte[8];
        Assert.That(ring.Read(buffer), Is.EqualTo(3));
        Assert.That(buffer[..3], Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(ring.Count, Is.EqualTo(0));
        Assert.That(ring.Read(buffer), Is.EqualTo(0));
    }

    [Test]
    public void FullRingDropsAndCountsNewBytesAndKeepsTheOldest()
    {
        var ring = new InputRing(4);
        for (int i = 0; i < 10; i++) ring.Write((byte)i);
        Assert.That(ring.Count, Is.EqualTo(4));
        Assert.That(ring.Dropped, Is.EqualTo(6UL));
        Assert.That(ring.Received, Is.EqualTo(4UL));
        var buffer = new byte[4];
        ring.Read(buffer);
        Assert.That(buffer, Is.EqualTo(new byte[] { 0, 1, 2, 3 }));
    }

    [Test]
    public void WrapsAroundTheEndOfItsStorage()
    {
        var ring = new InputRing(5);
        var buffer = new byte[3];
        byte next = 0, expected = 0;
        for (int round = 0; round < 40; round++)
        {
            for (int i = 0; i < 3; i++) Assert.That(ring.Write(next++), Is.True);
            Assert.That(ring.Read(buffer), Is.EqualTo(3));
            for (int i = 0; i < 3; i++) Assert.That(buffer[i], Is.EqualTo(expected++));
        }
    }

    [Test]
    public void PeekTakesNothingAndDiscardTakesWhatWasPeeked()
    {
        var ring = new InputRing(256);
        for (int i = 0; i < 10; i++) ring.Write((byte)(100 + i));
        var buffer = new byte[4];
        Assert.That(ring.Peek(buffer), Is.EqualTo(4));
        Assert.That(ring.Count, Is.EqualTo(10), "a failed copy to the reader must lose nothing");
        ring.Discard(4);
        Assert.That(ring.Peek(buffer), Is.EqualTo(4));
        Assert.That(buffer[0], Is.EqualTo(104));
        ring.Discard(100);
        Assert.That(ring.Count, Is.EqualTo(0));
    }
}
