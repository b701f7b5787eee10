// Exception tests shared by the kernel (test=runtime) and ring 3 (runtime-suite): every form of
// try/catch/finally/when/throw; that .NET's two-pass semantics hold (filters run before any
// finally, finallies of unwound frames run innermost first); exceptions thrown inside catch,
// finally and filter blocks; exceptions raised by the CPU (null dereference, divide by zero) and
// by the runtime's checks; and stack traces. Each test records what ran, in order, in a trace
// string and compares it with what .NET does.
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace Aegis.RuntimeTests
{
    public static unsafe partial class SharedSuite
    {
        static partial void AddExceptionTests(List<SharedTest> tests)
        {
            tests.Add(new SharedTest("catch-typed-by-hierarchy", &ExceptionTests.CatchTypedByHierarchy));
            tests.Add(new SharedTest("catch-skips-unrelated-type", &ExceptionTests.CatchSkipsUnrelatedType));
            tests.Add(new SharedTest("finally-runs-when-exception-passes-through", &ExceptionTests.FinallyRunsWhenExceptionPassesThrough));
            tests.Add(new SharedTest("finally-order-innermost-first", &ExceptionTests.FinallyOrderInnermostFirst));
            tests.Add(new SharedTest("filter-runs-before-finally", &ExceptionTests.FilterRunsBeforeFinally));
            tests.Add(new SharedTest("filter-that-declines", &ExceptionTests.FilterThatDeclines));
            tests.Add(new SharedTest("filter-that-throws-declines", &ExceptionTests.FilterThatThrowsDeclines));
            tests.Add(new SharedTest("sibling-catches-of-one-try", &ExceptionTests.SiblingCatchesOfOneTry));
            tests.Add(new SharedTest("rethrow-preserves-exception", &ExceptionTests.RethrowPreservesException));
            tests.Add(new SharedTest("throw-inside-catch", &ExceptionTests.ThrowInsideCatch));
            tests.Add(new SharedTest("throw-inside-catch-skips-sibling-catch", &ExceptionTests.ThrowInsideCatchSkipsSiblingCatch));
            tests.Add(new SharedTest("throw-inside-finally", &ExceptionTests.ThrowInsideFinally));
            tests.Add(new SharedTest("nested-try-in-catch", &ExceptionTests.NestedTryInCatch));
            tests.Add(new SharedTest("nested-try-in-finally", &ExceptionTests.NestedTryInFinally));
            tests.Add(new SharedTest("catch-then-continue-in-loop", &ExceptionTests.CatchThenContinueInLoop));
            tests.Add(new SharedTest("locals-survive-into-catch", &ExceptionTests.LocalsSurviveIntoCatch));
            tests.Add(new SharedTest("catch-null-dereference", &ExceptionTests.CatchNullDereference));
            tests.Add(new SharedTest("catch-divide-by-zero", &ExceptionTests.CatchDivideByZero));
            tests.Add(new SharedTest("catch-overflow-checked", &ExceptionTests.CatchOverflowChecked));
            tests.Add(new SharedTest("catch-index-out-of-range", &ExceptionTests.CatchIndexOutOfRange));
            tests.Add(new SharedTest("catch-span-and-string-out-of-range", &ExceptionTests.CatchSpanAndStringOutOfRange));
            tests.Add(new SharedTest("catch-invalid-cast", &ExceptionTests.CatchInvalidCast));
            tests.Add(new SharedTest("exception-through-many-frames", &ExceptionTests.ExceptionThroughManyFrames));
            tests.Add(new SharedTest("stacktrace-names-frames", &ExceptionTests.StackTraceNamesFrames));
            tests.Add(new SharedTest("using-dispose-on-throw", &ExceptionTests.UsingDisposeOnThrow));
            tests.Add(new SharedTest("catch-all-catches-everything", &ExceptionTests.CatchAllCatchesEverything));
            tests.Add(new SharedTest("catch-null-interface-call", &ExceptionTests.CatchNullInterfaceCall));
            tests.Add(new SharedTest("throw-from-finally-on-normal-path", &ExceptionTests.ThrowFromFinallyOnNormalPath));
            tests.Add(new SharedTest("exception-through-delegates-virtual-and-generic-calls", &ExceptionTests.ExceptionThroughDelegatesVirtualAndGenericCalls));
            tests.Add(new SharedTest("throw-null-is-null-reference", &ExceptionTests.ThrowNullIsNullReference));
            tests.Add(new SharedTest("rethrown-object-gets-a-fresh-trace", &ExceptionTests.RethrownObjectGetsAFreshTrace));
            tests.Add(new SharedTest("deep-recursion-trace-grows", &ExceptionTests.DeepRecursionTraceGrows));
        }
    }

    internal sealed class TestException : Exception
    {
        public readonly int Code;
        public TestException(int code) : base("test exception " + code.ToString()) { Code = code; }
    }

    internal class BaseTestException : Exception
    {
        public BaseTestException(string message) : base(message) { }
    }

    internal sealed class DerivedTestException : BaseTestException
    {
        public DerivedTestException(string message) : base(message) { }
    }

    internal sealed class Disposable : IDisposable
    {
        public static string Log;
        private readonly string _name;
        public Disposable(string name) { _name = name; }
        public void Dispose() => Log += "dispose " + _name + ";";
    }

    internal interface IShape { int Corners(); }
    internal sealed class Triangle : IShape { public int Corners() => 3; }
    internal sealed class Square : IShape { public int Corners() => 4; }
    internal sealed class Pentagon : IShape { public int Corners() => 5; }
    internal sealed class Hexagon : IShape { public int Corners() => 6; }
    internal sealed class Octagon : IShape { public int Corners() => 8; }

    internal static unsafe class ExceptionTests
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int CornersOf(IShape shape) => shape.Corners();

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void FinallyThrowsOnNormalPath()
        {
            try { s_trace += "body;"; }
            finally { s_trace += "finally;"; Throw(12); }
            s_trace += "not reached;";
        }

        public static string ThrowFromFinallyOnNormalPath()
        {
            s_trace = "";
            try { FinallyThrowsOnNormalPath(); }
            catch (TestException e) { s_trace += "catch " + e.Code.ToString() + ";"; }
            return Check.Equal("body;finally;catch 12;", s_trace, "order");
        }

        private abstract class Thrower { public abstract int Run(int value); }
        private sealed class ThrowingThrower : Thrower
        {
            public override int Run(int value) { if (value > 0) Throw(value); return value; }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static T Pass<T>(T value, Func<T, T> through) => through(value);

        public static string ExceptionThroughDelegatesVirtualAndGenericCalls()
        {
            Thrower thrower = new ThrowingThrower();
            int captured = 5;
            Func<int, int> lambda = x => thrower.Run(x + captured);
            int caught = 0;
            try { Pass(1, lambda); }
            catch (TestException e) { caught = e.Code; }
            string failure = Check.Equal(6, caught, "through a generic method, a closure and a virtual call");
            if (failure != null) return failure;
            Func<string, string> reference = text => { Throw(text.Length); return text; };
            try { Pass("four", reference); }
            catch (TestException e) { caught = e.Code; }
            return Check.Equal(4, caught, "through shared generic code");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowNull() => throw null;

        public static string ThrowNullIsNullReference()
        {
            string result = "not caught";
            try { ThrowNull(); }
            catch (NullReferenceException) { result = "caught"; }
            return Check.Equal("caught", result, "throw null");
        }

        private static readonly TestException s_reused = new TestException(77);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowReused() => throw s_reused;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowReusedDeeper() => ThrowReused();

        public static string RethrownObjectGetsAFreshTrace()
        {
            // throw e (not throw;) starts a new trace, as in .NET.
            try { ThrowReusedDeeper(); } catch (TestException) { }
            int first = Internal.Runtime.RuntimeHost.StackFrameCount(s_reused);
            try { ThrowReused(); } catch (TestException) { }
            int second = Internal.Runtime.RuntimeHost.StackFrameCount(s_reused);
            return Check.Equal(3, first, "frames of the first throw") ?? Check.Equal(2, second, "frames of the second throw");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Recurse(int depth) => depth == 0 ? ThrowAndReturn() : Recurse(depth - 1) + 1;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int ThrowAndReturn() { Throw(1); return 0; }

        public static string DeepRecursionTraceGrows()
        {
            TestException caught = null;
            try { Recurse(200); }
            catch (TestException e) { caught = e; }
            if (caught == null) return "not caught";
            // Throw, ThrowAndReturn, 201 x Recurse, this test.
            return Check.Equal(204, Internal.Runtime.RuntimeHost.StackFrameCount(caught), "recorded frames");
        }

        public static string CatchNullInterfaceCall()
        {
            // Five implementations: the call goes through the interface-dispatch stubs (assembly
            // with CFI), whose resolver throws for a null 'this'.
            IShape[] shapes = { new Triangle(), new Square(), new Pentagon(), new Hexagon(), new Octagon() };
            int sum = 0;
            for (int i = 0; i < shapes.Length; i++) sum += CornersOf(shapes[i]);
            try { sum += CornersOf(null); }
            catch (NullReferenceException) { sum += 100; }
            return Check.Equal(126, sum, "interface call on null caught");
        }

        private static string s_trace;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Throw(int code) => throw new TestException(code);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowDerived(string message) => throw new DerivedTestException(message);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool Record(string what, bool result)
        {
            s_trace += what + ";";
            return result;
        }

        public static string CatchTypedByHierarchy()
        {
            string caught = null;
            try { ThrowDerived("derived"); }
            catch (InvalidOperationException) { caught = "wrong clause"; }
            catch (BaseTestException e) { caught = "base:" + e.Message; }
            catch (Exception) { caught = "too general"; }
            string failure = Check.Equal("base:derived", caught, "caught by the base type's clause");
            if (failure != null) return failure;
            try { ThrowDerived("as exception"); }
            catch (Exception e) { caught = e.GetType() == typeof(DerivedTestException) ? "exception" : "wrong type"; }
            return Check.Equal("exception", caught, "caught as System.Exception");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string CatchOnlyInvalidOperation()
        {
            try { Throw(7); }
            catch (InvalidOperationException) { return "wrong clause"; }
            return "not thrown";
        }

        public static string CatchSkipsUnrelatedType()
        {
            try { return CatchOnlyInvalidOperation(); }
            catch (TestException e) { return Check.Equal(7, e.Code, "the exception passed the unrelated clause"); }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowThroughFinally()
        {
            try { Throw(1); }
            finally { s_trace += "finally;"; }
            s_trace += "after;";
        }

        public static string FinallyRunsWhenExceptionPassesThrough()
        {
            s_trace = "";
            try { ThrowThroughFinally(); }
            catch (TestException) { s_trace += "catch;"; }
            return Check.Equal("finally;catch;", s_trace, "order");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Nest(int level)
        {
            try
            {
                try
                {
                    if (level == 0) Throw(2);
                    else Nest(level - 1);
                }
                finally { s_trace += "inner" + level.ToString() + ";"; }
            }
            finally { s_trace += "outer" + level.ToString() + ";"; }
        }

        public static string FinallyOrderInnermostFirst()
        {
            s_trace = "";
            try { Nest(3); }
            catch (TestException) { s_trace += "catch;"; }
            return Check.Equal("inner0;outer0;inner1;outer1;inner2;outer2;inner3;outer3;catch;", s_trace, "order");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void ThrowUnderFinally()
        {
            try { Throw(3); }
            finally { s_trace += "finally;"; }
        }

        public static string FilterRunsBeforeFinally()
        {
            s_trace = "";
            try { ThrowUnderFinally(); }
            catch (TestException e) when (Record("filter " + e.Code.ToString(), true)) { s_trace += "catch;"; }
            return Check.Equal("filter 3;finally;catch;", s_trace, "order");
        }

        public static string FilterThatDeclines()
        {
            s_trace = "";
            try
            {
                try { ThrowUnderFinally(); }
                catch (TestException) when (Record("declining filter", false)) { s_trace += "wrong catch;"; }
            }
            catch (TestException) when (Record("accepting filter", true)) { s_trace += "catch;"; }
            return Check.Equal("declining filter;accepting filter;finally;catch;", s_trace, "order");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static bool ThrowingFilter()
        {
            s_trace += "throwing filter;";
            throw new InvalidOperationException("from a filter");
        }

        public static string FilterThatThrowsDeclines()
        {
            s_trace = "";
            try
            {
                try { ThrowUnderFinally(); }
                catch (TestException) when (ThrowingFilter()) { s_trace += "wrong catch;"; }
                catch (InvalidOperationException) { s_trace += "filter's exception escaped;"; }
            }
            catch (TestException e) { s_trace += "catch " + e.Code.ToString() + ";"; }
            catch (InvalidOperationException) { s_trace += "filter's exception escaped;"; }
            return Check.Equal("throwing filter;finally;catch 3;", s_trace, "order");
        }

        public static string SiblingCatchesOfOneTry()
        {
            s_trace = "";
            try { ThrowDerived("x"); }
            catch (TestException) { s_trace += "test;"; }
            catch (DerivedTestException) when (Record("filter", false)) { s_trace += "declined;"; }
            catch (BaseTestException) { s_trace += "base;"; }
            catch (Exception) { s_trace += "exception;"; }
            return Check.Equal("filter;base;", s_trace, "clauses tried in order");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void CatchAndRethrow()
        {
            try { Throw(4); }
            catch (TestException) { s_trace += "inner catch;"; throw; }
        }

        public static string RethrowPreservesException()
        {
            s_trace = "";
            Exception first = null;
            try
            {
                try { Throw(5); }
                catch (TestException e)
                {
                    first = e;
                    // An exception thrown and caught inside the catch does not change what `throw;` rethrows.
                    try { Throw(6); } catch (TestException) { s_trace += "nested;"; }
                    throw;
                }
            }
            catch (TestException e)
            {
                if (!ReferenceEquals(e, first)) return "throw; rethrew a different exception object (code " + e.Code.ToString() + ")";
            }
            try { CatchAndRethrow(); }
            catch (TestException e) { s_trace += "outer catch " + e.Code.ToString() + ";"; }
            return Check.Equal("nested;inner catch;outer catch 4;", s_trace, "order");
        }

        public static string ThrowInsideCatch()
        {
            s_trace = "";
            try
            {
                try { Throw(1); }
                catch (TestException) { s_trace += "catch 1;"; Throw(2); }
                finally { s_trace += "finally;"; }
            }
            catch (TestException e) { s_trace += "catch " + e.Code.ToString() + ";"; }
            return Check.Equal("catch 1;finally;catch 2;", s_trace, "order");
        }

        public static string ThrowInsideCatchSkipsSiblingCatch()
        {
            // The second exception comes from the first clause's handler: the sibling clauses of
            // the same try must not catch it, only what encloses the whole try statement.
            s_trace = "";
            try
            {
                try { ThrowDerived("first"); }
                catch (DerivedTestException) { s_trace += "catch derived;"; Throw(9); }
                catch (TestException) { s_trace += "sibling caught it;"; }
            }
            catch (TestException e) { s_trace += "outer " + e.Code.ToString() + ";"; }
            return Check.Equal("catch derived;outer 9;", s_trace, "order");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void FinallyThatThrows()
        {
            try
            {
                try { Throw(1); }
                finally { s_trace += "finally 1;"; Throw(2); }
            }
            finally { s_trace += "finally 2;"; }
        }

        public static string ThrowInsideFinally()
        {
            s_trace = "";
            try { FinallyThatThrows(); }
            catch (TestException e) { s_trace += "catch " + e.Code.ToString() + ";"; }
            // .NET: the exception from the finally replaces the first one.
            return Check.Equal("finally 1;finally 2;catch 2;", s_trace, "order");
        }

        public static string NestedTryInCatch()
        {
            s_trace = "";
            try { Throw(1); }
            catch (TestException outer)
            {
                try { Throw(2); }
                catch (TestException inner) { s_trace += "inner " + inner.Code.ToString() + ";"; }
                finally { s_trace += "inner finally;"; }
                s_trace += "outer " + outer.Code.ToString() + ";";
            }
            return Check.Equal("inner 2;inner finally;outer 1;", s_trace, "order");
        }

        public static string NestedTryInFinally()
        {
            s_trace = "";
            try
            {
                try { Throw(1); }
                finally
                {
                    try { Throw(2); }
                    catch (TestException e) { s_trace += "in finally " + e.Code.ToString() + ";"; }
                }
            }
            catch (TestException e) { s_trace += "catch " + e.Code.ToString() + ";"; }
            return Check.Equal("in finally 2;catch 1;", s_trace, "order");
        }

        public static string CatchThenContinueInLoop()
        {
            int caught = 0, finallies = 0;
            for (int i = 0; i < 50; i++)
            {
                try
                {
                    if ((i & 1) == 0) Throw(i);
                }
                catch (TestException e) { caught += e.Code; }
                finally { finallies++; }
            }
            return Check.Equal(600, caught, "sum of caught codes") ?? Check.Equal(50, finallies, "finallies");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static long Mix(long a, long b) => a * 31 + b;

        public static string LocalsSurviveIntoCatch()
        {
            // Values in callee-saved registers and on the stack of the catching frame must be intact in the handler and after it.
            long a = Mix(1, 2), b = Mix(3, 4), c = Mix(5, 6), d = Mix(7, 8), e = Mix(9, 10), f = Mix(11, 12);
            long inHandler = 0;
            try { Throw(1); }
            catch (TestException) { inHandler = a + b + c + d + e + f; }
            long after = a + b + c + d + e + f;
            long expected = 33 + 97 + 161 + 225 + 289 + 353;
            return Check.Equal(expected, inHandler, "locals in the handler") ?? Check.Equal(expected, after, "locals after the handler");
        }

        private sealed class Box { public int Value; }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int ReadThrough(Box box) => box.Value;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Divide(int a, int b) => a / b;

        public static string CatchNullDereference()
        {
            s_trace = "";
            try
            {
                try { ReadThrough(null); s_trace += "no fault;"; }
                finally { s_trace += "finally;"; }
            }
            catch (NullReferenceException) { s_trace += "caught;"; }
            string failure = Check.Equal("finally;caught;", s_trace, "order");
            if (failure != null) return failure;
            // And again: the fault path must leave everything as it was.
            int value = 0;
            try { value = ReadThrough(null); }
            catch (NullReferenceException) { value = 42; }
            return Check.Equal(42, value, "second null dereference");
        }

        public static string CatchDivideByZero()
        {
            int result = -1;
            try { result = Divide(10, 0); }
            catch (DivideByZeroException e) { result = e.Message.Length > 0 ? 7 : 8; }
            string failure = Check.Equal(7, result, "caught DivideByZeroException");
            if (failure != null) return failure;
            // int.MinValue / -1 faults with #DE on x86-64 too; .NET throws OverflowException for it.
            try { result = Divide(int.MinValue, -1); }
            catch (OverflowException) { result = 9; }
            catch (DivideByZeroException) { result = 10; }
            return Check.Equal(9, result, "int.MinValue / -1");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int CheckedAdd(int a, int b) => checked(a + b);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static byte CheckedNarrow(long value) => checked((byte)value);

        public static string CatchOverflowChecked()
        {
            int caught = 0;
            try { CheckedAdd(int.MaxValue, 1); }
            catch (OverflowException) { caught++; }
            try { CheckedNarrow(300); }
            catch (OverflowException) { caught++; }
            try { CheckedNarrow(-1); }
            catch (ArithmeticException) { caught++; }
            return Check.Equal(3, caught, "overflows caught") ?? Check.Equal(255, CheckedNarrow(255), "in range");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int At(int[] array, int index) => array[index];

        public static string CatchIndexOutOfRange()
        {
            int[] array = new int[4];
            int caught = 0;
            try { At(array, 4); }
            catch (IndexOutOfRangeException) { caught++; }
            try { At(array, -1); }
            catch (IndexOutOfRangeException) { caught++; }
            return Check.Equal(2, caught, "out-of-range accesses caught");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static byte SpanAt(Span<byte> span, int index) => span[index];

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static byte ReadOnlySpanAt(ReadOnlySpan<byte> span, int index) => span[index];

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static char CharAt(string s, int index) => s[index];

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int SliceLength(ReadOnlySpan<byte> span, int start, int length) => span.Slice(start, length).Length;

        // Span's and String's indexers are expanded by the compiler ([Intrinsic]) and their
        // throws are out of line (System.ThrowHelper): the exceptions are still the BCL's.
        public static string CatchSpanAndStringOutOfRange()
        {
            byte[] bytes = { 1, 2, 3, 4 };
            int caught = 0, wrong = 0;
            try { SpanAt(bytes, 4); } catch (IndexOutOfRangeException) { caught++; } catch (Exception) { wrong++; }
            try { SpanAt(bytes, -1); } catch (IndexOutOfRangeException) { caught++; } catch (Exception) { wrong++; }
            try { ReadOnlySpanAt(bytes, 4); } catch (IndexOutOfRangeException) { caught++; } catch (Exception) { wrong++; }
            try { CharAt("abc", 3); } catch (IndexOutOfRangeException) { caught++; } catch (Exception) { wrong++; }
            try { SliceLength(bytes, 3, 2); } catch (ArgumentOutOfRangeException) { caught++; } catch (Exception) { wrong++; }
            try { new ReadOnlySpan<byte>(bytes).CopyTo(new Span<byte>(bytes, 0, 3)); } catch (ArgumentException) { caught++; } catch (Exception) { wrong++; }
            return Check.Equal(6, caught, "out-of-range span and string accesses caught") ?? Check.Equal(0, wrong, "caught as another exception")
                ?? Check.Equal(4, SpanAt(bytes, 3) + ReadOnlySpanAt(bytes, 0) - 1 + CharAt("abc", 1) - 'b', "in range")
                ?? Check.Equal(2, SliceLength(bytes, 2, 2), "slice in range");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string CastToString(object value) => (string)value;

        public static string CatchInvalidCast()
        {
            string result;
            try { result = CastToString(new Box()); }
            catch (InvalidCastException) { result = "caught"; }
            return Check.Equal("caught", result, "failing cast");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Deep(int level)
        {
            try
            {
                if (level == 0) Throw(100);
                return Deep(level - 1) + 1;
            }
            finally { s_depthFinallies++; }
        }

        private static int s_depthFinallies;

        public static string ExceptionThroughManyFrames()
        {
            s_depthFinallies = 0;
            int caught = 0;
            for (int round = 0; round < 3; round++)
            {
                try { Deep(60); }
                catch (TestException e) { caught += e.Code; }
            }
            return Check.Equal(300, caught, "caught") ?? Check.Equal(183, s_depthFinallies, "finallies run");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void TraceLevelTwo() => Throw(11);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void TraceLevelOne() { TraceLevelTwo(); s_trace += "not reached;"; }

        /// <summary>Index of needle in text, or -1 (the runtime's string has no IndexOf(string)).</summary>
        private static int Find(string text, string needle)
        {
            for (int i = 0; i + needle.Length <= text.Length; i++)
            {
                int j = 0;
                while (j < needle.Length && text[i + j] == needle[j]) j++;
                if (j == needle.Length) return i;
            }
            return -1;
        }

        /// <summary>Is 'address' inside the method starting at 'start' (all of these are under 0x300 bytes)?</summary>
        private static bool In(nint address, nint start) => address >= start && address - start < 0x300;

        public static string StackTraceNamesFrames()
        {
            TestException caught = null;
            try { TraceLevelOne(); }
            catch (TestException e) { caught = e; }
            if (caught == null) return "not caught";
            // The recorded frames: from the throw to the catching method, innermost first.
            int count = Internal.Runtime.RuntimeHost.StackFrameCount(caught);
            if (count != 4) return "expected 4 frames (Throw, TraceLevelTwo, TraceLevelOne, this test), got " + count.ToString() + ": " + caught.StackTrace;
            if (!In(Internal.Runtime.RuntimeHost.StackFrameAddress(caught, 0), (nint)(delegate*<int, void>)&Throw)
                || !In(Internal.Runtime.RuntimeHost.StackFrameAddress(caught, 1), (nint)(delegate*<void>)&TraceLevelTwo)
                || !In(Internal.Runtime.RuntimeHost.StackFrameAddress(caught, 2), (nint)(delegate*<void>)&TraceLevelOne)
                || !In(Internal.Runtime.RuntimeHost.StackFrameAddress(caught, 3), (nint)(delegate*<string>)&StackTraceNamesFrames))
                return "frames are not in the expected methods: " + caught.StackTrace;
            string trace = caught.StackTrace;
            if (trace == null) return "StackTrace is null";
            if (!Internal.Runtime.RuntimeHost.CanNameCode)
                return Check.True(Find(trace, "   at 0x") == 0, "unnamed frames print as addresses: " + trace);
            // The host names code (the kernel): innermost first, down to the catching method.
            int throwAt = Find(trace, "ExceptionTests.Throw");
            int two = Find(trace, "TraceLevelTwo");
            int one = Find(trace, "TraceLevelOne");
            int here = Find(trace, "StackTraceNamesFrames");
            if (throwAt < 0 || two < 0 || one < 0 || here < 0)
                return "a frame is missing from: " + trace;
            if (!(throwAt < two && two < one && one < here))
                return "frames out of order: " + trace;
            return null;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void UseAndThrow()
        {
            using (new Disposable("outer"))
            {
                using var inner = new Disposable("inner");
                Throw(3);
            }
        }

        public static string UsingDisposeOnThrow()
        {
            Disposable.Log = "";
            try { UseAndThrow(); }
            catch (TestException) { Disposable.Log += "caught;"; }
            return Check.Equal("dispose inner;dispose outer;caught;", Disposable.Log, "order");
        }

        public static string CatchAllCatchesEverything()
        {
            int caught = 0;
            try { Throw(1); } catch { caught++; }
            try { ReadThrough(null); } catch { caught++; }
            try { CastToString(new Box()); } catch { caught++; }
            return Check.Equal(3, caught, "catch-all clauses");
        }
    }
}
