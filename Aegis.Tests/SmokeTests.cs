using NUnit.Framework;

namespace Aegis.Tests;

public class SmokeTests
{
    [Test]
    public void TestProjectBuilds() => Assert.That(1 + 1, Is.EqualTo(2));
}
