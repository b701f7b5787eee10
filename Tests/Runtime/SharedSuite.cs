// The runtime tests that run both inside the kernel (test=runtime, after the kernel's own
// RuntimeSuite tests) and in ring 3 (the app runtime-suite, Tests/Apps/RuntimeSuite): the same
// source, compiled by ILC into each image with that image's copy of Aegis.Runtime.
// Each area adds its tests in its own file by implementing one partial method below:
//   Exceptions.cs -> AddExceptionTests, Collector.cs -> AddCollectorTests, Library.cs -> AddLibraryTests.
// A test is a static method returning null on success or the reason it failed (see Check).
// Output contract (parsed by the boot tests): "TEST <name> PASS" | "TEST <name> FAIL <reason>".
using System.Collections.Generic;

namespace Aegis.RuntimeTests
{
    public unsafe struct SharedTest
    {
        public string Name;
        public delegate*<string> Body;
        public SharedTest(string name, delegate*<string> body) { Name = name; Body = body; }
    }

    public static unsafe partial class SharedSuite
    {
        /// <summary>Every shared test, in a fixed order.</summary>
        public static SharedTest[] All()
        {
            var tests = new List<SharedTest>();
            AddExceptionTests(tests);
            AddCollectorTests(tests);
            AddLibraryTests(tests);
            return tests.ToArray();
        }

        static partial void AddExceptionTests(List<SharedTest> tests);
        static partial void AddCollectorTests(List<SharedTest> tests);
        static partial void AddLibraryTests(List<SharedTest> tests);
    }

    /// <summary>Comparisons that return null when they hold and a description when they do not,
    /// so a test can chain them with ??.</summary>
    public static class Check
    {
        public static string Equal(long expected, long actual, string what)
            => expected == actual ? null : what + ": expected " + expected.ToString() + ", got " + actual.ToString();

        public static string Equal(ulong expected, ulong actual, string what)
            => expected == actual ? null : what + ": expected " + expected.ToString() + ", got " + actual.ToString();

        public static string Equal(string expected, string actual, string what)
            => expected == actual ? null : what + ": expected \"" + (expected ?? "null") + "\", got \"" + (actual ?? "null") + "\"";

        public static string True(bool condition, string what) => condition ? null : what;
    }
}
