// App crash reports (Exo/AppCrashReport.cs): the kernel names the exception from its own record
// of the fault and symbolizes the app's stack with the app's .sym boot module.
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Aegis.Tests.Boot;

[TestFixture]
[Category("Boot")]
[Parallelizable(ParallelScope.Self)]
public class AppCrashReportTests
{
    private const int TimeoutSeconds = 120;

    /// <summary>The line of the fixture's source that holds the marker comment.</summary>
    private static int LineOf(string app, string marker)
    {
        string[] lines = File.ReadAllLines(Path.Combine(FrontDoor.RepositoryRoot, "Tests", "Apps", app, "Program.cs"));
        int index = Array.FindIndex(lines, line => line.Contains(marker));
        Assert.That(index, Is.GreaterThanOrEqualTo(0), $"no '{marker}' in Tests/Apps/{app}/Program.cs");
        return index + 1;
    }

    [Test]
    public void NullDereferenceInAnAppIsReportedWithItsLine()
    {
        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=nullderef", "exit");

        int line = LineOf("NullDeref", "// the fault");
        result.AssertOutputMatches(@"(?m)^aegis: crash of nullderef \(environment [0-9a-f]+\): System\.NullReferenceException: ");
        result.AssertOutputMatches(@"(?m)^aegis:   cause: page fault \(#PF\) reading 0x[0-9a-f]+ \(not mapped\)");
        result.AssertOutputMatches(@"(?m)^aegis:     at Aegis\.Apps\.NullDeref\.Program\.Read \(Program\.cs:" + line + @"\) \[0x[0-9a-f]+\]");
        result.AssertOutputMatches(@"(?m)^aegis:     at Aegis\.Apps\.NullDeref\.Program\.Main \(Program\.cs:\d+\)");
        result.AssertExitStatus(128 + 14); // LibOS.Base: 128 + the vector
    }

    [Test]
    public void StackOverflowInAnAppIsReported()
    {
        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=stackoverflow", "exit");

        int line = LineOf("StackOverflow", "// the recursion");
        result.AssertOutputMatches(@"(?m)^aegis: crash of stackoverflow \(environment [0-9a-f]+\): stack overflow \(the stack ran into its guard page at 0x[0-9a-f]+\)");
        result.AssertOutputMatches(@"(?m)^aegis:     at Aegis\.Apps\.StackOverflow\.Program\.Recurse \(Program\.cs:\d+\)");
        result.AssertOutputMatches(@"(?m)^aegis:     \.\.\. the frame above repeated \d+ more times");
        result.AssertOutputMatches(@"\(Program\.cs:" + line + @"\)");
        result.AssertExitStatus(128 + 14);
    }

    [Test]
    public void UnhandledExceptionInAnAppGetsASymbolizedStack()
    {
        // One boot with AppFailureTests.UnhandledExceptionInAnAppIsReportedByName (BootShared).
        FrontDoorResult result = FrontDoor.BootShared(TimeoutSeconds, "init=throw", "exit");

        result.AssertOutputContains("throw: unhandled System.InvalidOperationException: deliberately thrown by the throw app");
        // The type comes from the exception's MethodTable, looked up in throw.sym by the kernel.
        result.AssertOutputMatches(@"(?m)^aegis: crash of throw \(environment [0-9a-f]+\): System\.InvalidOperationException \(an unhandled managed exception");
        result.AssertOutputMatches(@"(?m)^aegis:     at Aegis\.Apps\.Throw\.Program\.Main \(Program\.cs:\d+\)");
        result.AssertExitStatus(255);
    }

    [Test]
    public void AppTheKernelEndsGetsTheSameReport()
    {
        // faultnostack's upcall stack is unmapped: the kernel cannot deliver its page fault and
        // ends it itself (DestroyReason.BadUpcall), with the same report.
        FrontDoorResult result = FrontDoor.Boot(TimeoutSeconds, "init=faultnostack", "exit");

        result.AssertOutputMatches(@"(?m)^aegis: crash of faultnostack \(environment [0-9a-f]+\): System\.NullReferenceException: ");
        result.AssertOutputMatches(@"(?m)^aegis:   cause: page fault \(#PF\) writing 0x0 \(not mapped\) at rip 0x[0-9a-f]+; the kernel ends it");
        result.AssertOutputMatches(@"(?m)^aegis:     at Aegis\.Apps\.FaultNoStack\.Program\.\w+ \(Program\.cs:\d+\)");
        result.AssertOutputMatches(@"(?m)^AEGIS-EXIT destroyed\r?$");
        result.AssertOutputContains("aegis: init was destroyed (see the kernel's report above): status 99");
        result.AssertExitStatus(99);
    }
}
