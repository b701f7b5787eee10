// Front-door checks that need no QEMU and no build: ./aegis's help, its usage errors and the
// QEMU command line it would run (--dry-run). They run in well under a second each.
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("FrontDoor")]
public class FrontDoorTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private const int UsageErrorStatus = 2;

    [Test]
    public void HelpListsEveryCommand()
    {
        FrontDoorResult result = FrontDoor.Run(Limit, "--help");

        result.AssertExitStatus(0);
        foreach (string command in new[] { "iso", "run", "test", "debug", "bench" })
            result.AssertOutputMatches($@"(?m)^\s+{command}\s");
    }

    [Test]
    public void HelpShowsHowToRunAnAppAndLeave()
    {
        FrontDoorResult result = FrontDoor.Run(Limit, "--help");

        result.AssertExitStatus(0);
        result.AssertOutputContains("./aegis run -- init=NAME exit");
        result.AssertOutputContains("init=NAME[:ARGS]");
        result.AssertOutputContains("Ctrl-C");
    }

    [Test]
    public void UnknownCommandExitsWithUsageError()
    {
        FrontDoorResult result = FrontDoor.Run(Limit, "frobnicate");

        result.AssertExitStatus(UsageErrorStatus);
        result.AssertOutputContains("unknown command 'frobnicate'");
        result.AssertOutputContains("Usage:");
    }

    [Test]
    public void UnknownRunOptionExitsWithUsageError()
    {
        FrontDoorResult result = FrontDoor.Run(Limit, "run", "--frobnicate");

        result.AssertExitStatus(UsageErrorStatus);
        result.AssertOutputContains("unknown option for run: '--frobnicate'");
    }

    /// <summary>A QEMU that dies of SIGSEGV (exit code 139, which is also how the exit device
    /// would say the guest's status 69) is reported as the emulator's crash, exit status 126,
    /// not as a status of the guest (QEMU 7.2's AHCI crashed so in CI and was read as "69").</summary>
    [Test]
    public void AQemuThatCrashesIsReportedAsACrashNotAsTheGuestsStatus()
    {
        FrontDoor.EnsureIsoBuilt();
        string bin = Path.Combine(Path.GetTempPath(), "aegis-crashing-qemu-" + Environment.ProcessId);
        Directory.CreateDirectory(bin);
        try
        {
            string fake = Path.Combine(bin, "qemu-system-x86_64");
            File.WriteAllText(fake, "#!/bin/sh\nkill -SEGV $$\n");
            if (OperatingSystem.IsLinux()) File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var start = new System.Diagnostics.ProcessStartInfo("bash")
            {
                WorkingDirectory = FrontDoor.RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            foreach (string argument in new[] { "./aegis", "run", "--headless", "--no-build", "--timeout", "30", "--", "init=hello", "exit" })
                start.ArgumentList.Add(argument);
            start.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
            using var process = System.Diagnostics.Process.Start(start)!;
            Task<string> output = process.StandardOutput.ReadToEndAsync(), errors = process.StandardError.ReadToEndAsync();
            Assert.That(process.WaitForExit(60_000), Is.True, "./aegis run did not end");
            string all = output.Result + errors.Result;
            Assert.That(process.ExitCode, Is.EqualTo(126), all);
            Assert.That(all, Does.Contain("QEMU crashed (signal 11)"));
            Assert.That(all, Does.Not.Contain("guest exited with status 69"));
        }
        finally { Directory.Delete(bin, true); }
    }

    /// <summary>The measuring tools refuse a request they cannot carry out with a usage error
    /// (status 2) before they fetch a kernel or boot anything.</summary>
    [TestCase("tools/linux-reference.sh", "--forward 8080:80 /usr/sbin/nginx", "--forward needs --nic")]
    [TestCase("tools/linux-reference.sh", "--nic rtl8139 /usr/sbin/nginx", "unknown model 'rtl8139'")]
    [TestCase("tools/linux-reference.sh", "--nic e1000 --forward 80 /usr/sbin/nginx", "--forward needs [udp:]HOSTPORT:GUESTPORT")]
    [TestCase("tools/net-side-by-side.sh", "--servers linux-nginx,windows-iis", "unknown server 'windows-iis'")]
    [TestCase("tools/linux-reference.sh", "--nic e1000 --tap aegis-no-such0 /usr/sbin/nginx", "--tap: no network device 'aegis-no-such0'")]
    [TestCase("tools/linux-reference.sh", "--tap lo /usr/sbin/nginx", "--tap needs --nic")]
    [TestCase("tools/linux-reference.sh", "--nic e1000 --tap lo --forward 8080:80 /usr/sbin/nginx", "--tap and --forward exclude each other")]
    public void MeasuringToolsRefuseWhatTheyCannotDoWithAUsageError(string tool, string arguments, string message)
    {
        var start = new System.Diagnostics.ProcessStartInfo("bash")
        {
            WorkingDirectory = FrontDoor.RepositoryRoot, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.ArgumentList.Add(tool);
        foreach (string argument in arguments.Split(' ')) start.ArgumentList.Add(argument);
        using var process = System.Diagnostics.Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(), errors = process.StandardError.ReadToEndAsync();
        Assert.That(process.WaitForExit((int)Limit.TotalMilliseconds), Is.True, tool + " did not end");
        Assert.That(process.ExitCode, Is.EqualTo(UsageErrorStatus), output.Result + errors.Result);
        Assert.That(errors.Result, Does.Contain(message));
    }

    [Test]
    public void NonNumericTimeoutExitsWithUsageError()
    {
        FrontDoorResult result = FrontDoor.Run(Limit, "run", "--dry-run", "--timeout", "soon");

        result.AssertExitStatus(UsageErrorStatus);
        result.AssertOutputContains("--timeout needs a whole number of seconds");
    }

    [Test]
    public void KernelArgumentsReachQemuThroughFwCfg()
    {
        FrontDoorResult result = FrontDoor.Run(Limit, "run", "--dry-run", "--headless", "--", "test=boot", "list=a,b");

        result.AssertExitStatus(0);
        // Words joined by spaces; QEMU's option parser needs each comma doubled.
        result.AssertOutputContains("name=opt/aegis/cmdline,string=test=boot list=a,,b");
    }

    [Test]
    public void DiskOptionAttachesARawImageToVirtioOrAhci()
    {
        FrontDoorResult virtio = FrontDoor.Run(Limit, "run", "--dry-run", "--headless", "--disk", "/tmp/a,b.img");
        virtio.AssertExitStatus(0);
        // The disk first (it keeps the first free PCI slot), then the ISO's CD drive, which boots (bootindex).
        virtio.AssertOutputContains("-drive if=none,id=aegisdisk,format=raw,file=/tmp/a,,b.img -device virtio-blk-pci,drive=aegisdisk -drive if=none,id=aegiscd,media=cdrom,readonly=on,file=artifacts/aegis.iso -device ahci,id=aegiscdbus -device ide-cd,drive=aegiscd,bus=aegiscdbus.0,bootindex=0");

        FrontDoorResult ahci = FrontDoor.Run(Limit, "run", "--dry-run", "--headless", "--disk", "/tmp/d.img", "--disk-bus", "ahci");
        ahci.AssertExitStatus(0);
        ahci.AssertOutputContains("-device ahci,id=aegisahci -device ide-hd,drive=aegisdisk,bus=aegisahci.0");

        FrontDoorResult bad = FrontDoor.Run(Limit, "run", "--dry-run", "--disk", "/tmp/d.img", "--disk-bus", "scsi");
        bad.AssertExitStatus(2);
        bad.AssertOutputContains("--disk-bus is virtio or ahci, not 'scsi'");

        FrontDoorResult faulty = FrontDoor.Run(Limit, "run", "--dry-run", "--headless", "--disk", "/tmp/d.img", "--disk-read-error", "2112");
        faulty.AssertExitStatus(0);
        faulty.AssertOutputMatches(@"-drive if=none,id=aegisdisk,format=raw,file=blkdebug:\S+:/tmp/d\.img -device virtio-blk-pci");
        FrontDoorResult notASector = FrontDoor.Run(Limit, "run", "--dry-run", "--disk", "/tmp/d.img", "--disk-read-error", "x");
        notASector.AssertExitStatus(2);
        notASector.AssertOutputContains("--disk-read-error needs a sector number, not 'x'");
    }

    [Test]
    public void NicOptionPutsACardOnQemusUserNetwork()
    {
        // No card unless asked: QEMU's own default e1000 is turned off too.
        FrontDoorResult none = FrontDoor.Run(Limit, "run", "--dry-run", "--headless");
        none.AssertExitStatus(0);
        none.AssertOutputContains(" -nic none ");
        Assert.That(none.Output, Does.Not.Contain("-netdev"), () => none.Describe("no card was asked for"));

        FrontDoorResult e1000e = FrontDoor.Run(Limit, "run", "--dry-run", "--headless", "--nic", "e1000e", "--forward", "8080:80", "--forward", "2222:22");
        e1000e.AssertExitStatus(0);
        e1000e.AssertOutputContains("-netdev user,id=aegisnet,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:2222-:22 -device e1000e,netdev=aegisnet");
        Assert.That(e1000e.Output, Does.Not.Contain("-nic none"), () => e1000e.Describe("the card was asked for"));

        FrontDoorResult udp = FrontDoor.Run(Limit, "run", "--dry-run", "--headless", "--nic", "e1000", "--forward", "udp:5555:7");
        udp.AssertExitStatus(0);
        udp.AssertOutputContains("-netdev user,id=aegisnet,hostfwd=udp:127.0.0.1:5555-:7 -device e1000,netdev=aegisnet");

        FrontDoorResult capture = FrontDoor.Run(Limit, "run", "--dry-run", "--headless", "--nic", "e1000", "--pcap", "/tmp/aegis.pcap");
        capture.AssertExitStatus(0);
        capture.AssertOutputContains("-device e1000,netdev=aegisnet -object filter-dump,id=aegiscapture,netdev=aegisnet,file=/tmp/aegis.pcap");
        FrontDoorResult noCardCapture = FrontDoor.Run(Limit, "run", "--dry-run", "--pcap", "/tmp/aegis.pcap");
        noCardCapture.AssertExitStatus(UsageErrorStatus);
        noCardCapture.AssertOutputContains("--pcap needs a network card (--nic MODEL)");

        FrontDoorResult virtio = FrontDoor.Run(Limit, "run", "--dry-run", "--headless", "--nic", "virtio");
        virtio.AssertExitStatus(0);
        virtio.AssertOutputContains("-netdev user,id=aegisnet -device virtio-net-pci,netdev=aegisnet");
        FrontDoorResult rtl8139 = FrontDoor.Run(Limit, "run", "--dry-run", "--headless", "--nic", "rtl8139");
        rtl8139.AssertExitStatus(0);
        rtl8139.AssertOutputContains("-netdev user,id=aegisnet -device rtl8139,netdev=aegisnet");

        FrontDoorResult bad = FrontDoor.Run(Limit, "run", "--dry-run", "--nic", "ne2000");
        bad.AssertExitStatus(UsageErrorStatus);
        bad.AssertOutputContains("--nic is e1000, e1000-82545em, e1000-82544gc, e1000e, virtio, rtl8139 or none, not 'ne2000'");
        FrontDoorResult noCard = FrontDoor.Run(Limit, "run", "--dry-run", "--forward", "8080:80");
        noCard.AssertExitStatus(UsageErrorStatus);
        noCard.AssertOutputContains("--forward needs a network card (--nic MODEL)");
        FrontDoorResult badPort = FrontDoor.Run(Limit, "run", "--dry-run", "--nic", "e1000", "--forward", "8080:70000");
        badPort.AssertExitStatus(UsageErrorStatus);
        badPort.AssertOutputContains("--forward needs [udp:]HOSTPORT:GUESTPORT (each 1..65535), not '8080:70000'");
    }

    /// <summary>--tap puts the card on a host device the caller made (here "lo", which every Linux
    /// host has: a dry run only names it) instead of the user network; it needs a card, excludes
    /// --forward and --wire, and names a device that exists.</summary>
    [Test]
    public void TapOptionPutsTheCardOnAHostDeviceInsteadOfTheUserNetwork()
    {
        FrontDoorResult tap = FrontDoor.Run(Limit, "run", "--dry-run", "--headless", "--nic", "e1000", "--tap", "lo");
        tap.AssertExitStatus(0);
        tap.AssertOutputContains("-netdev tap,id=aegisnet,ifname=lo,script=no,downscript=no -device e1000,netdev=aegisnet");
        Assert.That(tap.Output, Does.Not.Contain("-netdev user"), () => tap.Describe("the user network is not used with --tap"));
        foreach ((string[] arguments, string message) in new[]
        {
            (new[] { "--tap", "lo" }, "--tap needs a network card (--nic MODEL)"),
            (new[] { "--nic", "e1000", "--tap", "lo", "--forward", "8080:80" }, "--tap and --forward exclude each other"),
            (new[] { "--nic", "e1000", "--tap", "lo", "--wire", "5000" }, "--tap and --wire exclude each other"),
            (new[] { "--nic", "e1000", "--tap", "aegis-no-such0" }, "--tap: there is no network device 'aegis-no-such0' on this host"),
        })
        {
            FrontDoorResult refused = FrontDoor.Run(Limit, new[] { "run", "--dry-run" }.Concat(arguments).ToArray());
            refused.AssertExitStatus(UsageErrorStatus);
            refused.AssertOutputContains(message);
        }
    }

    [Test]
    public void RunBootsTheIsoWithTheExitDevice()
    {
        FrontDoorResult result = FrontDoor.Run(Limit, "run", "--dry-run", "--headless");

        result.AssertExitStatus(0);
        result.AssertOutputContains("qemu-system-x86_64 -cpu max -m 512M -no-reboot");
        // The ISO on a CD drive of its own AHCI controller, booted first.
        result.AssertOutputContains("-drive if=none,id=aegiscd,media=cdrom,readonly=on,file=artifacts/aegis.iso -device ahci,id=aegiscdbus -device ide-cd,drive=aegiscd,bus=aegiscdbus.0,bootindex=0");
        result.AssertOutputContains("-device isa-debug-exit,iobase=0xf4,iosize=0x04");
        result.AssertOutputContains("-no-reboot");
        result.AssertOutputContains("-display none");
        result.AssertOutputContains("-chardev stdio,id=serial0,signal=on,logfile=");
        result.AssertOutputContains("-serial chardev:serial0");
        Assert.That(result.Output, Does.Not.Contain("-fw_cfg"), () => result.Describe("no kernel arguments were given, so no fw_cfg file is expected"));
    }

    [Test]
    public void BenchRunsUnderIcountWithInitBench()
    {
        FrontDoorResult result = FrontDoor.Run(Limit, "bench", "--dry-run");

        result.AssertExitStatus(0);
        result.AssertOutputContains("-cpu max");
        result.AssertOutputContains("-icount shift=0,sleep=off");
        result.AssertOutputContains("name=opt/aegis/cmdline,string=init=bench");
    }

    [Test]
    public void BenchTcgRunsWithoutIcount()
    {
        FrontDoorResult result = FrontDoor.Run(Limit, "bench", "--tcg", "--dry-run");

        result.AssertExitStatus(0);
        result.AssertOutputContains("string=init=bench");
        Assert.That(result.Output, Does.Not.Contain("-icount"), () => result.Describe("--tcg must not use icount"));
    }

    [Test]
    public void BenchTraceOfUnknownPrimitiveExitsWithUsageError()
    {
        FrontDoorResult result = FrontDoor.Run(Limit, "bench", "--trace", "frobnicate");

        result.AssertExitStatus(UsageErrorStatus);
        result.AssertOutputContains("unknown primitive 'frobnicate'");
    }
}
