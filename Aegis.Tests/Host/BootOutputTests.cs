// Host tests of the boot tests' own helpers (Aegis.Tests/Boot/HostNetwork.cs): a marker the guest
// prints must not be found in the kernel's echo of init's argument, which holds the same words
// before the guest ran them (the lend test's StopTheGuest once "saw" its "stopped" there and let a
// stuck guest run into the timeout with no word of why).
using Aegis.Tests.Boot;
using NUnit.Framework;

namespace Aegis.Tests.Host;

[TestFixture]
public class BootOutputTests
{
    private const string Echo = "Aegis: started environment 401 (linux) as init with the argument '/bin/sh -c 'busybox nc -l -p 9999;echo stopped''\n";

    [Test]
    public void AMarkerInInitsArgumentIsNotSeenUntilTheGuestPrintsIt()
    {
        string booted = "Aegis 0.1 - an exokernel in C#\n" + Echo + "[402 linux] linux: network: 10.0.2.15\n";
        Assert.That(HostNetwork.WithoutInitsArgument(booted), Does.Not.Contain("stopped"));
        Assert.That(HostNetwork.WithoutInitsArgument(booted), Is.EqualTo("Aegis 0.1 - an exokernel in C#\n[402 linux] linux: network: 10.0.2.15\n"));
        Assert.That(HostNetwork.WithoutInitsArgument(booted + "[401 linux] stopped\n"), Does.Contain("[401 linux] stopped"));
        Assert.That(() => HostNetwork.WaitFor(() => booted, "stopped", seconds: 1), Throws.InstanceOf<AssertionException>());
        Assert.DoesNotThrow(() => HostNetwork.WaitFor(() => booted + "[401 linux] stopped\n", "stopped", seconds: 1));
    }

    [Test]
    public void OtherKernelLinesAndAnArgumentlessStartAreKept()
    {
        string started = "Aegis: started environment 401 (hello) as init\nhello\n";
        Assert.That(HostNetwork.WithoutInitsArgument(started), Is.EqualTo(started));
        string unfinished = "Aegis: network: e1000\n" + Echo.TrimEnd('\n');
        Assert.That(HostNetwork.WithoutInitsArgument(unfinished), Is.EqualTo("Aegis: network: e1000\n"));
    }
}
