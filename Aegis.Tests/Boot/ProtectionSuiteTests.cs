// Boot test of the exokernel's protection behaviours (issue #3): the kernel argument
// test=protection runs each behaviour of the design brief as its own app in its own
// environment and judges it from what the kernel observed. This test fails on any FAIL line
// and on any behaviour that did not report at all.
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[NonParallelizable]
public class ProtectionSuiteTests
{
    private const int SuiteTimeoutSeconds = 600;

    private static readonly string[] CoreBehaviours =
    {
        "hello", "faultread", "faultwrite", "faultreadkernel", "faultwritekernel", "divzero", "breakpoint",
        "illegalinstruction", "faultregs", "faultalloc", "faultbadhandler", "faultevilhandler", "faultnostack",
        "evilhello", "dumbfork", "forktree", "pingpong", "sendpage", "spin", "revoke-polite", "revoke-rude", "syscall-fuzz",
    };

    // Issue #7's attacks, one list per hardening area (Aegis.Kernel/Tests/ProtectionSuite.*.cs).

    private static readonly string[] ResourceBehaviours =
    {
        "exhaust-kernel-heap", "frame-hog", "slice-hog", "fork-bomb", "grant-exhaust", "mapping-hog",
    };

    private static readonly string[] ReclaimBehaviours =
    {
        "revoke-huge", "console-flood", "orphan-children", "orphan-frames", "revoke-mapped-elsewhere", "destroy-huge",
    };

    private static readonly string[] InterfaceBehaviours =
    {
        "readonly-upcall-stack", "ipc-negative-reply", "forge-verdict",
    };

    private static readonly string[] CpuBehaviours =
    {
        "umip", "smap-ac", "nmi-user",
    };

    // Issue #9: the system-call upcall and per-environment FS/GS bases (ProtectionSuite.SystemCallUpcall.cs).
    private static readonly string[] SystemCallUpcallBehaviours =
    {
        "syscall-upcall", "syscall-upcall-high", "syscall-upcall-off", "syscall-upcall-bad-stack",
        "syscall-upcall-bad-stack-high", "fsgsbase",
    };

    // Issue #9's device capabilities (Aegis.Kernel/Tests/ProtectionSuite.Devices.cs).
    private static readonly string[] DeviceBehaviours =
    {
        "input-read", "input-watch", "input-watchers", "input-ninth-watcher", "input-bad-upcall", "device-map",
    };

    // Issue #9's notifications: kept IPC, asynchronous delivery, WaitUntil, child ends (ProtectionSuite.Notify.cs).
    private static readonly string[] NotifyBehaviours =
    {
        "ipc-pending", "ipc-pending-full", "ipc-async", "wait-deadline", "child-end", "ipc-reply-wait-until", "ipc-send-sender-continues", "environment-alive",
    };

    // Issue #9's fast fork: PageShare and PageInherit (Aegis.Kernel/Tests/ProtectionSuite.Sharing.cs).
    private static readonly string[] SharingBehaviours =
    {
        "page-share", "kernel-copy-on-write",
    };

    public static readonly string[] Behaviours =
        CoreBehaviours.Concat(ResourceBehaviours).Concat(ReclaimBehaviours).Concat(InterfaceBehaviours).Concat(CpuBehaviours).Concat(SystemCallUpcallBehaviours).Concat(DeviceBehaviours).Concat(NotifyBehaviours).Concat(SharingBehaviours).ToArray();

    [Test]
    public void ProtectionSuitePasses()
    {
        FrontDoorResult result = FrontDoor.Boot(SuiteTimeoutSeconds, "test=protection");

        foreach (string behaviour in Behaviours)
        {
            Match line = Regex.Match(result.Output, @"(?m)^TEST " + Regex.Escape(behaviour) + @" (PASS|FAIL)(.*)$");
            Assert.That(line.Success, Is.True, () => result.Describe("no result line for '" + behaviour + "'"));
            Assert.That(line.Groups[1].Value, Is.EqualTo("PASS"), () => result.Describe(behaviour + " failed:" + line.Groups[2].Value));
        }
        result.AssertOutputMatches(@"(?m)^TESTS " + Behaviours.Length + @" passed, 0 failed\r?$");
        // forge-verdict printed verdicts of its own: each must have reached the console behind the
        // kernel's "[<id> forge-verdict] " prefix, never at the start of a line.
        Assert.That(result.Output, Does.Contain("forge-verdict] TEST forge-verdict FAIL forged"), () => result.Describe("the forged line is not marked as forge-verdict's"));
        Assert.That(Regex.IsMatch(result.Output, @"(?m)^TESTS? .*forged by the app"), Is.False, () => result.Describe("an app's forged verdict line reads as the kernel's"));
        Assert.That(Regex.IsMatch(result.Output, @"(?m)^TESTS 0 passed, 99 failed"), Is.False, () => result.Describe("an app's forged summary reads as the kernel's"));
        result.AssertExitStatus(0);
    }

    /// <summary>A million random system calls while a frame hog, a slice hog and a fork bomb hold
    /// what they took: no panic, no kernel heap allocation, every frame back (about a minute, so it
    /// runs only when named: only=syscall-fuzz-long).</summary>
    [Test]
    public void LongSyscallFuzzUnderAttackLosesNothing()
    {
        FrontDoorResult result = FrontDoor.Boot(SuiteTimeoutSeconds, "test=protection", "only=syscall-fuzz-long");

        result.AssertOutputMatches(@"(?m)^syscall-fuzz-long: \d+ system calls, \d+ errors; kernel heap: 0 allocations, 0 new frames;");
        Match calls = Regex.Match(result.Output, @"(?m)^syscall-fuzz-long: (\d+) system calls");
        Assert.That(calls.Success && ulong.Parse(calls.Groups[1].Value) >= 1_000_000UL, Is.True, () => result.Describe("fewer than 1,000,000 calls"));
        result.AssertOutputMatches(@"(?m)^TEST syscall-fuzz-long PASS\r?$");
        result.AssertOutputMatches(@"(?m)^TESTS 1 passed, 0 failed\r?$");
        result.AssertExitStatus(0);
    }

    [Test]
    public void InvalidImageIsRefusedWithAClearError()
    {
        FrontDoorResult result = FrontDoor.Boot(120, "init=not-an-app");

        result.AssertOutputContains("boot image 'not-an-app' is not a valid app");
        result.AssertExitStatus(2);
    }
}

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public class LibraryOperatingSystemTests
{
    [Test]
    public void DatabaseLibOSAppRuns()
    {
        FrontDoorResult result = FrontDoor.Boot(120, "init=dbtest", "exit");

        result.AssertOutputMatches(@"dbtest: \d+ records, \d+ hits, \d+ misses, ok");
        result.AssertExitStatus(0);
    }

    [Test]
    public void HelloRunsAsInitAndReportsItsStatus()
    {
        FrontDoorResult result = FrontDoor.Boot(120, "init=hello", "exit");

        result.AssertOutputContains("hello, world from environment");
        result.AssertExitStatus(0);
    }
}

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public class AppFailureTests
{
    [Test]
    public void UnhandledExceptionInAnAppIsReportedByName()
    {
        // One boot with AppCrashReportTests.UnhandledExceptionInAnAppGetsASymbolizedStack (BootShared).
        FrontDoorResult result = FrontDoor.BootShared(120, "init=throw", "exit");

        result.AssertOutputContains("throw: unhandled System.InvalidOperationException: deliberately thrown by the throw app");
        result.AssertOutputMatches(@"(?m)^AEGIS-EXIT 255\r?$");
        result.AssertExitStatus(255); // Exit(255) from LibOS.Base: the true status (docs/front-door.md)
    }
}
