using Aegis.LibOS.Unixish.Linux.Processes;
using NUnit.Framework;

namespace Aegis.Tests.Host;

/// <summary>The process layer's pure logic (LibOS.Unixish/Linux/Processes): wait statuses as the
/// host kernel encodes them (a gcc-built program reports them, Data/linux-process-wait.c), the
/// Aegis exit status that carries them, and the child table behind wait4's selection.</summary>
public class LinuxProcessTests
{
    private static Dictionary<string, long> Host => s_host ??= HostC.Values(HostC.Run("linux-process-wait"));
    private static Dictionary<string, long> s_host;

    [Test]
    public void WaitStatusesAreTheHostKernels()
    {
        Assert.That(WaitStatus.Exited(7), Is.EqualTo(Host["exit7"]));
        Assert.That(WaitStatus.Exited(255), Is.EqualTo(Host["exit255"]));
        Assert.That(WaitStatus.Exited(0x1_07), Is.EqualTo(Host["exit7"]), "only the low 8 bits of the code");
        Assert.That(WaitStatus.Signaled(9), Is.EqualTo(Host["sigkill"]));
        Assert.That(WaitStatus.Signaled(15), Is.EqualTo(Host["sigterm"]));
        Assert.That(WaitStatus.Stopped(19), Is.EqualTo(Host["stopped"]));
        Assert.That(WaitStatus.Continued, Is.EqualTo(Host["continued"]));
        Assert.That(WaitStatus.Exited(3), Is.EqualTo(Host["stopthenexit3"]));
    }

    [Test]
    public void WaitOptionsAreTheHostHeaders()
    {
        Assert.That(WaitStatus.WNOHANG, Is.EqualTo(Host["wnohang_option"]));
        Assert.That(WaitStatus.WUNTRACED, Is.EqualTo(Host["wuntraced_option"]));
        Assert.That(WaitStatus.WCONTINUED, Is.EqualTo(Host["wcontinued_option"]));
        Assert.That(WaitStatus.WNOWAIT, Is.EqualTo(Host["wnowait_option"]));
        Assert.That(WaitStatus.WEXITED, Is.EqualTo(Host["wexited_option"]));
    }

    [Test]
    public void WaitidSiginfoFieldsAreTheHostKernels()
    {
        Assert.That(Host["waitid_signo"], Is.EqualTo(17));
        Assert.That(WaitStatus.ChildCode(WaitStatus.Exited(5)), Is.EqualTo(Host["waitid_code"]));
        Assert.That(WaitStatus.ChildStatusField(WaitStatus.Exited(5)), Is.EqualTo(Host["waitid_status"]));
        Assert.That(Host["waitid_pid_matches"], Is.EqualTo(1));
        Assert.That(WaitStatus.ChildCode(WaitStatus.Signaled(9)), Is.EqualTo(Host["waitid_killed_code"]));
        Assert.That(WaitStatus.ChildStatusField(WaitStatus.Signaled(9)), Is.EqualTo(Host["waitid_killed_status"]));
        Assert.That(WaitStatus.ChildCode(WaitStatus.Signaled(11, true)), Is.EqualTo(WaitStatus.CLD_DUMPED));
        Assert.That(WaitStatus.ChildCode(WaitStatus.Stopped(20)), Is.EqualTo(WaitStatus.CLD_STOPPED));
        Assert.That(WaitStatus.ChildCode(WaitStatus.Continued), Is.EqualTo(WaitStatus.CLD_CONTINUED));
    }

    [Test]
    public void StatusMacrosDecodeWhatTheEncodersMake()
    {
        for (int code = 0; code < 256; code++)
        {
            int status = WaitStatus.Exited(code);
            Assert.That(WaitStatus.IsExited(status) && !WaitStatus.IsSignaled(status) && WaitStatus.ExitCode(status) == code, Is.True, "code " + code);
            Assert.That(WaitStatus.ShellStatus(status), Is.EqualTo(code));
        }
        for (int signal = 1; signal < 65; signal++)
        {
            int status = WaitStatus.Signaled(signal, signal == 11);
            Assert.That(WaitStatus.IsSignaled(status) && !WaitStatus.IsExited(status) && WaitStatus.TermSignal(status) == signal, Is.True, "signal " + signal);
            Assert.That(WaitStatus.CoreDumped(status), Is.EqualTo(signal == 11));
            Assert.That(WaitStatus.ShellStatus(status), Is.EqualTo(128 + signal));
        }
        Assert.That(WaitStatus.IsSignaled(WaitStatus.Stopped(19)), Is.False, "a stop is not a death");
        Assert.That(WaitStatus.IsSignaled(WaitStatus.Continued), Is.False);
    }

    [Test]
    public void AegisExitStatusCarriesTheExactWaitStatusForAForkedProcessAndTheShellStatusOtherwise()
    {
        int killed = WaitStatus.Signaled(9);
        Assert.That(WaitStatus.ToAegis(killed, false), Is.EqualTo(137UL), "a program the kernel started: QEMU's status is the shell's");
        Assert.That(WaitStatus.ToAegis(WaitStatus.Exited(3), false), Is.EqualTo(3UL));
        Assert.That(WaitStatus.FromAegisExit(WaitStatus.ToAegis(killed, true)), Is.EqualTo(killed), "no confusion with exit(137)");
        Assert.That(WaitStatus.FromAegisExit(WaitStatus.ToAegis(WaitStatus.Exited(137), true)), Is.EqualTo(WaitStatus.Exited(137)));
        Assert.That(WaitStatus.FromAegisExit(42), Is.EqualTo(WaitStatus.Exited(42)), "a plain Aegis exit (no Linux exit path) is an exit code");
    }

    [Test]
    public void ChildTableSelectsLikeWait4()
    {
        var table = new ChildTable();
        Assert.That(table.Add(100, 5, 50), Is.GreaterThanOrEqualTo(0));
        Assert.That(table.Add(101, 6, 101), Is.GreaterThanOrEqualTo(0));
        Assert.That(table.Add(100, 7, 50), Is.EqualTo(-1), "one entry per pid");
        Assert.That(table.AnyWaitable(-1, 50), Is.True);
        Assert.That(table.AnyWaitable(0, 50), Is.True, "pid 0: the caller's group (50)");
        Assert.That(table.AnyWaitable(0, 77), Is.False, "nobody in group 77");
        Assert.That(table.AnyWaitable(-101, 50), Is.True, "-pgid");
        Assert.That(table.AnyWaitable(102, 50), Is.False, "not a child: ECHILD");
        Assert.That(table.FindZombie(-1, 50), Is.EqualTo(-1), "nobody ended yet (WNOHANG returns 0)");

        Assert.That(table.MarkEnded(101, WaitStatus.Exited(7)), Is.True);
        Assert.That(table.FindZombie(100, 50), Is.EqualTo(-1), "the selected child is still running");
        int zombie = table.FindZombie(-101, 50);
        Assert.That(zombie, Is.GreaterThanOrEqualTo(0));
        Assert.That(table[zombie].Status, Is.EqualTo(WaitStatus.Exited(7)));
        table.Reap(zombie, false);
        Assert.That(table.IndexOf(101), Is.EqualTo(-1), "reported once");
        Assert.That(table.AnyWaitable(-101, 50), Is.False, "then ECHILD");
        Assert.That(table.MarkEnded(101, 0), Is.False, "no longer a child");
    }

    [Test]
    public void ALingeringChildIsNotWaitableButAliveUntilItEnds()
    {
        var table = new ChildTable();
        table.Add(200, 9, 1);
        table.MarkEnded(200, WaitStatus.Exited(0));
        Assert.That(table.CountAlive(), Is.EqualTo(0), "a zombie is not alive");
        int index = table.FindZombie(200, 1);
        table.Reap(index, true);
        Assert.That(table[index].State, Is.EqualTo(ChildState.Lingering));
        Assert.That(table.CountAlive(), Is.EqualTo(1), "its environment still runs (its own children)");
        Assert.That(table.AnyWaitable(-1, 1), Is.False, "already waited for: ECHILD");
        Assert.That(table.FindZombie(-1, 1), Is.EqualTo(-1));
        Assert.That(table.MarkEnded(200, 0), Is.True);
        Assert.That(table.IndexOf(200), Is.EqualTo(-1), "its end frees the entry");
    }

    [Test]
    public void ChildTableGroupsAndCapacity()
    {
        var table = new ChildTable();
        for (ulong pid = 1; pid <= ChildTable.Capacity; pid++) Assert.That(table.Add(pid, pid, 1), Is.GreaterThanOrEqualTo(0));
        Assert.That(table.IsFull, Is.True);
        Assert.That(table.Add(1000, 1, 1), Is.EqualTo(-1), "full: fork answers EAGAIN");
        Assert.That(table.SetGroup(3, 3), Is.True);
        Assert.That(table.AnyInGroup(3), Is.True);
        Assert.That(table.AnyWaitable(-3, 1), Is.True);
        Assert.That(table.AnyWaitable(ChildTable.GroupOne, 1), Is.True, "group 1 (waitid P_PGID 1), not 'any'");
        table.MarkEnded(3, 0);
        Assert.That(table.AnyInGroup(3), Is.False, "a zombie is in no group a signal can reach");
        Assert.That(table.AnyWaitable(-3, 1), Is.True, "but it can still be waited for by group");
        table.Clear();
        Assert.That(table.CountAlive(), Is.EqualTo(0));
    }

    [Test]
    public void AStopOrContinueIsReportedOnceToTheWaitThatAskedForIt()
    {
        var table = new ChildTable();
        table.Add(10, 3, 1);
        table.Add(11, 4, 1);
        Assert.That(table.FindReport(-1, 1, stopped: true, continued: true), Is.EqualTo(-1), "nothing to report yet");
        Assert.That(table.SetReport(10, WaitStatus.Stopped(20)), Is.True);
        Assert.That(table.FindReport(-1, 1, stopped: false, continued: true), Is.EqualTo(-1), "a stop is not a continue (WCONTINUED alone)");
        int index = table.FindReport(-1, 1, stopped: true, continued: false);
        Assert.That(index, Is.EqualTo(table.IndexOf(10)));
        Assert.That(table[index].Report, Is.EqualTo(WaitStatus.Stopped(20)));
        Assert.That(table.FindReport(11, 1, stopped: true, continued: true), Is.EqualTo(-1), "another child's report is not this one's");
        // The latest report replaces an earlier one not yet taken (as Linux keeps one state).
        table.SetReport(10, WaitStatus.Continued);
        Assert.That(table.FindReport(-1, 1, stopped: true, continued: false), Is.EqualTo(-1));
        index = table.FindReport(10, 1, stopped: false, continued: true);
        Assert.That(index, Is.GreaterThanOrEqualTo(0));
        table.TakeReport(index);
        Assert.That(table.FindReport(-1, 1, stopped: true, continued: true), Is.EqualTo(-1), "reported once");
        // An ended child carries no report.
        table.SetReport(11, WaitStatus.Stopped(19));
        table.MarkEnded(11, WaitStatus.Exited(0));
        Assert.That(table.FindReport(-1, 1, stopped: true, continued: true), Is.EqualTo(-1));
        Assert.That(table.SetReport(11, WaitStatus.Stopped(19)), Is.False, "a zombie does not stop");
    }
}
