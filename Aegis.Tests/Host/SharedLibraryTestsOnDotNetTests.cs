// The shared runtime tests of the library (Tests/Runtime/Library.cs) run in the kernel and in
// ring 3 against Aegis.Runtime; here the same source runs against the real .NET. Each test's
// expected values were written from .NET's behaviour: if .NET itself disagrees, the expectation
// (not Aegis) is wrong, and a guest PASS would prove nothing. Differential by construction.
// The culture is the one Aegis.Runtime implements (docs/runtime.md): the invariant culture with
// "∞"/"-∞" as the infinity symbols.
using System;
using System.Collections.Generic;
using System.Globalization;
using Aegis.RuntimeTests;
using NUnit.Framework;

namespace Aegis.Tests.Host;

[TestFixture]
public unsafe class SharedLibraryTestsOnDotNetTests
{
    /// <summary>Where Aegis deliberately differs from .NET, each a documented choice (docs/runtime.md):
    /// the start of the failure text .NET produces, and why. Anything else .NET fails is a wrong expectation.</summary>
    private static readonly (string Failure, string Why)[] KnownDifferences =
    {
        ("MathFunctionsAreAccurate: Cos of the hardest argument",
         "Aegis's Cos is correctly rounded there (checked against mpmath); the host's libm is 8 ulp off"),
        ("LibraryErrorsThrowCatchableExceptions: a custom numeric format",
         "custom numeric formats (\"0.00\") are unsupported in Aegis.Runtime and throw FormatException"),
    };

    [Test]
    public void SharedLibraryTestsAgreeWithDotNet()
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        var aegisCulture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        aegisCulture.NumberFormat.PositiveInfinitySymbol = "∞";
        aegisCulture.NumberFormat.NegativeInfinitySymbol = "-∞";
        CultureInfo.CurrentCulture = aegisCulture;
        try { RunAll(); }
        finally { CultureInfo.CurrentCulture = saved; }
    }

    private static void RunAll()
    {
        SharedTest[] tests = SharedSuite.All();
        Assert.That(tests, Has.Length.GreaterThanOrEqualTo(15), "the library's shared tests are compiled in");
        var failures = new List<string>();
        foreach (SharedTest test in tests)
        {
            string failure;
            try { failure = test.Body(); }
            catch (Exception e) { failure = "threw " + e.GetType().Name + ": " + e.Message; }
            if (failure == null) continue;
            string line = test.Name + ": " + failure;
            if (!Array.Exists(KnownDifferences, known => line.StartsWith(known.Failure, StringComparison.Ordinal)))
                failures.Add(line);
        }
        Assert.That(failures, Is.Empty, () => "under .NET:\n" + string.Join("\n", failures));
    }
}
