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

    /// <summary>The front door prints the QEMU command it runs, whose -fw_cfg holds init's
    /// argument, before the guest boots: the wget test's WaitFor("httpd up") returned there at
    /// once, and its curl met the guest before httpd listened (a reset, 1 run in 8 here).</summary>
    [Test]
    public void AMarkerInTheFrontDoorsQemuCommandIsNotSeenUntilTheGuestPrintsIt()
    {
        string command = "aegis: timeout --foreground -k 5 150 qemu-system-x86_64 -cpu max -fw_cfg 'name=opt/aegis/cmdline,string=init=/bin/sh -c '\\''httpd -f -p 8080 -h / & p=$!;echo httpd up'\\'' exit' -serial chardev:serial0\n";
        string booting = command + "aegis: the serial console is this terminal\n  Booting `Aegis'\n";
        Assert.That(HostNetwork.WithoutInitsArgument(booting), Does.Not.Contain("httpd up"));
        Assert.That(HostNetwork.WithoutInitsArgument(booting), Is.EqualTo("aegis: the serial console is this terminal\n  Booting `Aegis'\n"));
        Assert.That(() => HostNetwork.WaitFor(() => booting, "httpd up", seconds: 1), Throws.InstanceOf<AssertionException>());
        string printed = booting + Echo + "[401 linux] httpd up\n";
        Assert.DoesNotThrow(() => HostNetwork.WaitFor(() => printed, "httpd up", seconds: 1));
        Assert.That(HostNetwork.WithoutInitsArgument(command.TrimEnd('\n')), Is.Empty, "a command line not yet ended");
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
