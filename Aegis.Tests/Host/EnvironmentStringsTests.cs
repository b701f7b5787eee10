// Host tests of EnvironmentStrings (LibOS.Unixish/Linux/Processes/EnvironmentStrings.cs): how the
// personality reads its own switches (AEGIS_THREADS, AEGIS_SYSCALL_COUNTS) from execve's environment.
using System.Collections.Generic;
using System.Text;
using Aegis.LibOS.Unixish.Linux.Processes;
using NUnit.Framework;

namespace Aegis.Tests.Host;

[TestFixture]
public class EnvironmentStringsTests
{
    private static List<byte[]> Environment(params string[] entries)
    {
        var list = new List<byte[]>();
        foreach (string entry in entries) list.Add(Encoding.ASCII.GetBytes(entry));
        return list;
    }

    [Test]
    public void TheNamedEntrysValueDecides()
    {
        Assert.That(EnvironmentStrings.ValueIs(Environment("PATH=/bin", "AEGIS_SYSCALL_COUNTS=1"), "AEGIS_SYSCALL_COUNTS", "1"), Is.True);
        Assert.That(EnvironmentStrings.ValueIs(Environment("AEGIS_SYSCALL_COUNTS=0"), "AEGIS_SYSCALL_COUNTS", "1"), Is.False);
        Assert.That(EnvironmentStrings.ValueIs(Environment("AEGIS_SYSCALL_COUNTS=10"), "AEGIS_SYSCALL_COUNTS", "1"), Is.False);
        Assert.That(EnvironmentStrings.ValueIs(Environment("PATH=/bin"), "AEGIS_SYSCALL_COUNTS", "1"), Is.False);
        Assert.That(EnvironmentStrings.ValueIs(Environment(), "AEGIS_THREADS", "run-to-completion"), Is.False);
    }

    [Test]
    public void ANameThatOnlyStartsTheSameIsNotIt()
    {
        Assert.That(EnvironmentStrings.ValueIs(Environment("AEGIS_SYSCALL_COUNTSX=1"), "AEGIS_SYSCALL_COUNTS", "1"), Is.False);
        Assert.That(EnvironmentStrings.ValueIs(Environment("AEGIS_SYSCALL_COUNTS"), "AEGIS_SYSCALL_COUNTS", "1"), Is.False);
        Assert.That(EnvironmentStrings.ValueIs(Environment("AEGIS_THREADS"), "AEGIS_THREADS", ""), Is.False, "no '=': not an entry of that name");
    }

    [Test]
    public void TheFirstEntryOfTheNameDecidesAsGetenv()
    {
        Assert.That(EnvironmentStrings.ValueIs(Environment("AEGIS_THREADS=round-robin", "AEGIS_THREADS=run-to-completion"), "AEGIS_THREADS", "run-to-completion"), Is.False);
        Assert.That(EnvironmentStrings.ValueIs(Environment("AEGIS_THREADS=run-to-completion", "AEGIS_THREADS=x"), "AEGIS_THREADS", "run-to-completion"), Is.True);
    }

    [Test]
    public void ANulTerminatedEntryReadsAsItsText()
    {
        Assert.That(EnvironmentStrings.ValueIs(Environment("AEGIS_SYSCALL_COUNTS=1\0"), "AEGIS_SYSCALL_COUNTS", "1"), Is.True);
        Assert.That(EnvironmentStrings.ValueIs(Environment("AEGIS_THREADS=\0"), "AEGIS_THREADS", ""), Is.True);
    }
}
