// The in-guest runtime suite (kernel argument test=runtime): exercises every language and
// library feature Aegis.Runtime promises (docs/runtime.md) inside the real kernel, compiled by
// ILC exactly like kernel code.
// Output contract (parsed by the boot tests): one line per test, "TEST <name> PASS" or
// "TEST <name> FAIL <reason>", then "TESTS <p> passed, <f> failed".
// A test is a static method returning null on success or the reason it failed; it checks
// computed values against expected ones. A test that faults or throws ends the kernel with a
// panic report instead (an exception nothing catches), which the boot test also reports.
namespace Aegis.Kernel.Tests
{
    public static unsafe partial class RuntimeSuite
    {
        private struct TestCase
        {
            public string Name;
            public delegate*<string> Body;
            public TestCase(string name, delegate*<string> body) { Name = name; Body = body; }
        }

        /// <summary>Runs every test, prints the report and returns the number of failures.</summary>
        public static int Run()
        {
            TestCase[] tests =
            {
                new TestCase("class-fields-and-constructors", &ClassFieldsAndConstructors),
                new TestCase("struct-value-semantics", &StructValueSemantics),
                new TestCase("interface-dispatch-three-implementations", &InterfaceDispatchThreeImplementations),
                new TestCase("interface-dispatch-cache-refill", &InterfaceDispatchCacheRefill),
                new TestCase("interface-inherited-and-explicit-implementations", &InterfaceInheritedAndExplicitImplementations),
                new TestCase("interface-default-method", &InterfaceDefaultMethod),
                new TestCase("interface-generic-over-value-and-reference", &InterfaceGenericOverValueAndReference),
                new TestCase("virtual-abstract-override-base-call", &VirtualAbstractOverrideBaseCall),
                new TestCase("generic-class-value-and-reference", &GenericClassValueAndReference),
                new TestCase("generic-method-constraints", &GenericMethodConstraints),
                new TestCase("generic-iequatable-comparer", &GenericIEquatableComparer),
                new TestCase("static-abstract-interface-members", &StaticAbstractInterfaceMembers),
                new TestCase("list-of-values-and-references", &ListOfValuesAndReferences),
                new TestCase("dictionary-int-keys-many-entries", &DictionaryIntKeysManyEntries),
                new TestCase("dictionary-string-keys", &DictionaryStringKeys),
                new TestCase("dictionary-of-lists", &DictionaryOfLists),
                new TestCase("span-stackalloc-and-slicing", &SpanStackallocAndSlicing),
                new TestCase("large-stackalloc-probes", &LargeStackallocProbes),
                new TestCase("readonly-span-of-chars", &ReadOnlySpanOfChars),
                new TestCase("stringbuilder-append-insert-remove", &StringBuilderAppendInsertRemove),
                new TestCase("arrays-of-values-and-references", &ArraysOfValuesAndReferences),
                new TestCase("arrays-jagged", &ArraysJagged),
                new TestCase("arrays-multi-dimensional", &ArraysMultiDimensional),
                new TestCase("string-concat-and-equality", &StringConcatAndEquality),
                new TestCase("string-interpolation-hex", &StringInterpolationHex),
                new TestCase("integer-tostring-every-type", &IntegerToStringEveryType),
                new TestCase("kernel-log-writes-utf8", &KernelLogWritesUtf8),
                new TestCase("boxing-unboxing", &BoxingUnboxing),
                new TestCase("nullable-boxing", &NullableBoxing),
                new TestCase("is-as-casts", &IsAsCasts),
                new TestCase("static-constructor-reads-runtime-value", &StaticConstructorReadsRuntimeValue),
                new TestCase("static-constructor-side-effect-order", &StaticConstructorSideEffectOrder),
                new TestCase("static-readonly-reference-from-cctor", &StaticReadonlyReferenceFromCctor),
                new TestCase("delegates-static-and-instance", &DelegatesStaticAndInstance),
                new TestCase("lambda-captures", &LambdaCaptures),
                new TestCase("multicast-delegates-and-events", &MulticastDelegatesAndEvents),
                new TestCase("struct-default-equality", &StructDefaultEquality),
                new TestCase("enums-flags-generic-boxing", &EnumsFlagsGenericBoxing),
                new TestCase("foreach-array-list-span-dictionary", &ForeachArrayListSpanDictionary),
                new TestCase("using-disposable-class-and-struct", &UsingDisposableClassAndStruct),
                new TestCase("string-switch", &StringSwitch),
                new TestCase("params-arrays", &ParamsArrays),
                new TestCase("tuples", &Tuples),
                new TestCase("ref-locals-and-returns", &RefLocalsAndReturns),
                new TestCase("properties-and-indexers", &PropertiesAndIndexers),
                new TestCase("operator-overloading", &OperatorOverloading),
                new TestCase("thread-static-fields", &ThreadStaticFields),
                new TestCase("arrays-as-generic-collections", &ArraysAsGenericCollections),
                new TestCase("interlocked-operations", &InterlockedOperations),
                new TestCase("type-identity-and-typeof", &TypeIdentityAndTypeof),
                new TestCase("kernel-heap-returns-to-its-size-after-environments-end", &KernelHeapReturnsToItsSizeAfterEnvironmentsEnd),
            };

            int passed = 0, failed = 0;
            for (int i = 0; i < tests.Length; i++)
                Report(tests[i].Name, tests[i].Body(), ref passed, ref failed);
            // Then the tests shared with the ring-3 app runtime-suite (Tests/Runtime/).
            Aegis.RuntimeTests.SharedTest[] shared = Aegis.RuntimeTests.SharedSuite.All();
            for (int i = 0; i < shared.Length; i++)
                Report(shared[i].Name, shared[i].Body(), ref passed, ref failed);
            KernelLog.WriteLine("TESTS " + passed.ToString() + " passed, " + failed.ToString() + " failed");
            return failed;
        }

        private static void Report(string name, string failure, ref int passed, ref int failed)
        {
            if (failure == null)
            {
                passed++;
                KernelLog.WriteLine("TEST " + name + " PASS");
            }
            else
            {
                failed++;
                KernelLog.WriteLine("TEST " + name + " FAIL " + failure);
            }
        }
    }

    /// <summary>Comparisons that return null when they hold and a description when they do not,
    /// so a test can chain them with ??.</summary>
    internal static class Expect
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
