// Runtime suite: boxing, casts, static constructors, delegates and lambdas, enums, foreach,
// using, and the smaller language features (switch on strings, params, tuples, ref, properties,
// indexers, operators, thread statics).
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace Aegis.Kernel.Tests
{
    internal static class StartupLog
    {
        public static string Text = "";
        public static int Seed;
    }

    internal static class SeededTable
    {
        // Reads a value the test sets just before first use: ILC cannot precompute it.
        public static readonly int Value = StartupLog.Seed * 2 + 1;
    }

    internal static class FirstClass
    {
        public static readonly int Order;
        static FirstClass()
        {
            StartupLog.Text += "F";
            Order = StartupLog.Text.Length;
        }
        public static void Touch() { }
    }

    internal static class SecondClass
    {
        public static readonly int Order;
        static SecondClass()
        {
            StartupLog.Text += "S";
            Order = StartupLog.Text.Length;
        }
        public static void Touch() { }
    }

    internal static class Lookup
    {
        public static readonly Dictionary<string, int> Numbers;
        public static readonly string[] Names;
        static Lookup()
        {
            Names = new string[] { "zero", "one", "two", "three", "four" };
            Numbers = new Dictionary<string, int>();
            for (int i = 0; i < Names.Length; i++)
                Numbers[Names[i]] = i;
        }
    }

    internal enum Color : byte { Red = 1, Green = 2, Blue = 3 }

    [Flags]
    internal enum Access { None = 0, Read = 1, Write = 2, Execute = 4, All = Read | Write | Execute }

    internal enum Huge : long { Small = 1, Big = 1L << 40 }

    internal sealed class Tracker
    {
        public string Log = "";
    }

    internal sealed class Resource : IDisposable
    {
        private readonly Tracker _tracker;
        private readonly string _name;
        public Resource(Tracker tracker, string name) { _tracker = tracker; _name = name; _tracker.Log += "+" + name; }
        public void Dispose() => _tracker.Log += "-" + _name;
    }

    internal struct StructResource : IDisposable
    {
        private readonly Tracker _tracker;
        public StructResource(Tracker tracker) { _tracker = tracker; }
        public void Dispose() => _tracker.Log += "-struct";
    }

    internal sealed class Accumulator
    {
        private int _total;
        public Accumulator(int start) { _total = start; }
        public int Add(int value) => _total += value;
        public int Total => _total;
    }

    internal sealed class Matrix2
    {
        private readonly int[] _cells = new int[4];
        public int this[int row, int column]
        {
            get => _cells[row * 2 + column];
            set => _cells[row * 2 + column] = value;
        }
        public int Trace => this[0, 0] + this[1, 1];
        public string Label { get; set; } = "unnamed";
        public int Writes { get; private set; }
        public int Determinant
        {
            get => this[0, 0] * this[1, 1] - this[0, 1] * this[1, 0];
        }
        public void Set(int a, int b, int c, int d) { this[0, 0] = a; this[0, 1] = b; this[1, 0] = c; this[1, 1] = d; Writes += 4; }
    }

    internal readonly struct Fraction : IEquatable<Fraction>
    {
        public readonly int Numerator, Denominator;
        public Fraction(int numerator, int denominator)
        {
            int divisor = Gcd(numerator < 0 ? -numerator : numerator, denominator);
            Numerator = numerator / divisor;
            Denominator = denominator / divisor;
        }
        private static int Gcd(int a, int b) => b == 0 ? (a == 0 ? 1 : a) : Gcd(b, a % b);
        public static Fraction operator +(Fraction a, Fraction b) => new Fraction(a.Numerator * b.Denominator + b.Numerator * a.Denominator, a.Denominator * b.Denominator);
        public static Fraction operator *(Fraction a, Fraction b) => new Fraction(a.Numerator * b.Numerator, a.Denominator * b.Denominator);
        public static Fraction operator -(Fraction a) => new Fraction(-a.Numerator, a.Denominator);
        public static bool operator ==(Fraction a, Fraction b) => a.Equals(b);
        public static bool operator !=(Fraction a, Fraction b) => !a.Equals(b);
        public static implicit operator Fraction(int whole) => new Fraction(whole, 1);
        public static explicit operator int(Fraction f) => f.Numerator / f.Denominator;
        public bool Equals(Fraction other) => Numerator == other.Numerator && Denominator == other.Denominator;
        public override bool Equals(object obj) => obj is Fraction other && Equals(other);
        public override int GetHashCode() => Numerator * 31 + Denominator;
        public override string ToString() => Numerator.ToString() + "/" + Denominator.ToString();
    }

    internal static class PerThread
    {
        [ThreadStatic] public static int Counter;
        [ThreadStatic] public static string Name;
    }

    internal delegate int BinaryOperation(int a, int b);

    internal delegate void Notify(string message);

    internal struct Labelled
    {
        public string Label;
        public int Count;
        public Labelled(string label, int count) { Label = label; Count = count; }
    }

    internal struct Measurement
    {
        public double Value;
        public byte Unit;
        public Measurement(double value, byte unit) { Value = value; Unit = unit; }
    }

    internal struct Padded
    {
        public long Wide;
        public byte Narrow;
    }

    internal sealed class Listener
    {
        public string Log = "";
        public void OnNotify(string message) => Log += "[" + message + "]";
    }

    internal sealed class Publisher
    {
        public event Notify Changed;
        public void Raise(string message) => Changed?.Invoke(message);
        public bool HasListeners => Changed != null;
    }

    public static unsafe partial class RuntimeSuite
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static object BoxOf<T>(T value) => value;

        private static string BoxingUnboxing()
        {
            object boxedInt = BoxOf(42);
            object boxedLong = BoxOf(-5L);
            object boxedByte = BoxOf((byte)200);
            object boxedVector = BoxOf(new Vector2(3, 4));
            object boxedMoney = BoxOf(new Money(250));
            object boxedChar = BoxOf('z');
            Vector2 unboxed = (Vector2)boxedVector;
            unboxed.Scale(10);
            return Expect.Equal(43, (int)boxedInt + 1, "unbox int")
                ?? Expect.Equal(-5, (long)boxedLong, "unbox long")
                ?? Expect.Equal(200, (byte)boxedByte, "unbox byte")
                ?? Expect.Equal(25, ((Vector2)boxedVector).LengthSquared, "boxed struct is a copy")
                ?? Expect.Equal(2500, unboxed.LengthSquared, "unboxed copy is independent")
                ?? Expect.Equal("2.50", boxedMoney.ToString(), "virtual ToString on a boxed struct")
                ?? Expect.Equal("42|z|200", boxedInt.ToString() + "|" + boxedChar.ToString() + "|" + boxedByte.ToString(), "ToString of boxed primitives")
                ?? Expect.True(boxedInt.Equals(BoxOf(42)) && !boxedInt.Equals(BoxOf(43)) && !boxedInt.Equals(boxedLong), "Equals of boxed ints")
                ?? Expect.True(BoxOf(new Vector2(1, 2)).Equals(BoxOf(new Vector2(1, 2))), "default ValueType.Equals compares fields")
                ?? Expect.True(BoxOf((byte)7).Equals(BoxOf((byte)7)), "boxed byte equality (padding ignored)")
                ?? Expect.Equal(boxedMoney.GetHashCode(), new Money(250).GetHashCode(), "GetHashCode through the box");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int? MaybeDouble(int? value) => value.HasValue ? value.Value * 2 : null;

        private static string NullableBoxing()
        {
            int? some = MaybeDouble(21);
            int? none = MaybeDouble(null);
            object boxedSome = BoxOf(some);
            object boxedNone = BoxOf(none);
            long? wide = 1L << 40;
            object boxedWide = BoxOf(wide);
            int? back = (int?)boxedSome;
            int? backNone = (int?)boxedNone;
            Money? money = new Money(7);
            object boxedMoney = BoxOf(money);
            return Expect.True(some.HasValue && some.Value == 42, "Nullable<int> with a value")
                ?? Expect.True(!none.HasValue && none.GetValueOrDefault(-1) == -1, "Nullable<int> without a value")
                ?? Expect.True(boxedSome is int, "boxed Nullable<int> is a boxed int")
                ?? Expect.Equal(42, (int)boxedSome, "unbox the boxed Nullable<int> as int")
                ?? Expect.True(boxedNone == null, "empty Nullable boxes to null")
                ?? Expect.Equal(1L << 40, (long)boxedWide, "Nullable<long> box")
                ?? Expect.True(back == 42 && backNone == null, "unbox to Nullable<int>")
                ?? Expect.Equal(7, ((Money)boxedMoney).Cents, "Nullable<struct> box and unbox")
                ?? Expect.True((some ?? 0) + (none ?? 5) == 47, "?? on nullables");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static object[] MakeMixedObjects() => new object[] { new Dog(), new Cat(), "text", 5, new Square(2), null, new int[] { 1 }, new string[] { "s" } };

        private static string IsAsCasts()
        {
            object[] items = MakeMixedObjects();
            int animals = 0, dogs = 0, shapes = 0, strings = 0, ints = 0, arrays = 0;
            foreach (object item in items)
            {
                if (item is Animal) animals++;
                if (item as Dog != null) dogs++;
                if (item is IShape) shapes++;
                if (item is string) strings++;
                if (item is int) ints++;
                if (item is Array) arrays++;
            }
            Animal animal = (Animal)items[0];
            IShape shape = (IShape)items[4];
            object[] covariant = (object[])items[7];
            return Expect.Equal(2, animals, "is Animal (class hierarchy)")
                ?? Expect.Equal(1, dogs, "as Dog (failing as gives null)")
                ?? Expect.Equal(1, shapes, "is IShape (interface)")
                ?? Expect.Equal(1, strings, "is string")
                ?? Expect.Equal(1, ints, "is int (boxed)")
                ?? Expect.Equal(2, arrays, "is Array")
                ?? Expect.True(items[1] as Dog == null && items[2] as IShape == null && items[5] as string == null, "failing as returns null")
                ?? Expect.True(!(items[5] is object), "null is not object")
                ?? Expect.Equal("woof", animal.Sound(), "successful down-cast")
                ?? Expect.Equal(4, shape.Area(), "successful interface cast")
                ?? Expect.Equal("s", (string)covariant[0], "array covariance: string[] as object[]")
                ?? Expect.True(items[6] is int[] && !(items[6] is object[]) && items[7] is object[], "array type tests")
                ?? Expect.True(items[0] is Dog { } d && d.Sound() == "woof", "pattern with designation");
        }

        private static string StaticConstructorReadsRuntimeValue()
        {
            StartupLog.Seed = Opaque(20);
            return Expect.Equal(41, SeededTable.Value, "cctor ran after the seed was set");
        }

        private static string StaticConstructorSideEffectOrder()
        {
            string before = StartupLog.Text;
            SecondClass.Touch();
            int second = SecondClass.Order;
            FirstClass.Touch();
            int first = FirstClass.Order;
            int secondAgain = SecondClass.Order;
            return Expect.Equal("", before, "no cctor ran before first use")
                ?? Expect.Equal("SF", StartupLog.Text, "cctors ran once each, in order of first use")
                ?? Expect.Equal(1, second, "second class initialised first")
                ?? Expect.Equal(2, first, "first class initialised second")
                ?? Expect.Equal(1, secondAgain, "cctor did not run again");
        }

        private static string StaticReadonlyReferenceFromCctor()
        {
            return Expect.Equal(5, Lookup.Numbers.Count, "dictionary built in the cctor")
                ?? Expect.Equal(3, Lookup.Numbers["three"], "lookup")
                ?? Expect.Equal("four", Lookup.Names[4], "array built in the cctor")
                ?? Expect.True(ReferenceEquals(Lookup.Names, Lookup.Names), "same instance on every read");
        }

        private static int Multiply(int a, int b) => a * b;
        private static int Subtract(int a, int b) => a - b;

        private static string DelegatesStaticAndInstance()
        {
            BinaryOperation multiply = Multiply;
            BinaryOperation subtract = new BinaryOperation(Subtract);
            Accumulator accumulator = new Accumulator(100);
            Func<int, int> add = accumulator.Add;
            Func<int> total = () => accumulator.Total;
            Func<string, string> upper = s => s.ToUpperInvariant();
            Func<object, string> describe = o => o.ToString();
            Action<int> addAction = x => accumulator.Add(x);
            Predicate<int> isEven = n => n % 2 == 0;
            Comparison<string> byLength = (a, b) => a.Length - b.Length;
            BinaryOperation[] table = { multiply, subtract, (a, b) => a + b };
            int applied = 0;
            foreach (BinaryOperation operation in table)
                applied = applied * 10 + operation(6, 3) % 10;
            add(5);
            addAction(10);
            return Expect.Equal(42, multiply(6, 7), "static method delegate")
                ?? Expect.Equal(-1, subtract(6, 7), "delegate constructed explicitly")
                ?? Expect.Equal(115, total(), "instance method delegate and Action")
                ?? Expect.True(ReferenceEquals(add.Target, accumulator), "Target of an instance delegate")
                ?? Expect.Equal("ABC", upper("abc"), "Func<string,string>")
                ?? Expect.Equal("7", describe(7), "Func<object,string> with a boxed argument")
                ?? Expect.True(isEven(4) && !isEven(5), "Predicate")
                ?? Expect.True(byLength("aa", "b") > 0, "Comparison")
                ?? Expect.Equal(839, applied, "array of delegates");
        }

        private static string StructDefaultEquality()
        {
            Labelled a = new Labelled(Opaque("ab") + "c", 3);
            Labelled b = new Labelled(string.Concat(Opaque("a"), "bc"), 3);
            Labelled c = new Labelled("abc", 4);
            Measurement zero = new Measurement(0.0, 1);
            Measurement negativeZero = new Measurement(-0.0, 1);
            Padded p1 = new Padded { Wide = 5, Narrow = 1 };
            Padded p2 = default;
            p2.Wide = 5;
            p2.Narrow = 1;
            Dictionary<Labelled, int> byLabel = new Dictionary<Labelled, int> { [a] = 7 };
            return Expect.True(!ReferenceEquals(a.Label, b.Label), "the strings are distinct objects")
                ?? Expect.True(BoxOf(a).Equals(BoxOf(b)), "struct with a string field compares the strings' contents")
                ?? Expect.True(!BoxOf(a).Equals(BoxOf(c)), "a different int field makes them unequal")
                ?? Expect.Equal(BoxOf(a).GetHashCode(), BoxOf(b).GetHashCode(), "equal structs hash alike")
                ?? Expect.True(BoxOf(zero).Equals(BoxOf(negativeZero)), "0.0 and -0.0 fields are equal, as in .NET")
                ?? Expect.Equal(BoxOf(zero).GetHashCode(), BoxOf(negativeZero).GetHashCode(), "and hash alike")
                ?? Expect.True(BoxOf(p1).Equals(BoxOf(p2)), "struct with padding")
                ?? Expect.Equal(7, byLabel[b], "struct key found by an equal key");
        }

        private static string MulticastDelegatesAndEvents()
        {
            Listener first = new Listener(), second = new Listener();
            Publisher publisher = new Publisher();
            string order = "";
            Notify recordOrder = m => order += m.Length.ToString();
            publisher.Changed += first.OnNotify;
            publisher.Changed += second.OnNotify;
            publisher.Changed += recordOrder;
            publisher.Raise("a");
            publisher.Changed -= second.OnNotify; // an equal but distinct delegate removes it
            publisher.Raise("bb");
            publisher.Changed -= first.OnNotify;
            publisher.Changed -= recordOrder;
            bool emptyAfterRemovals = !publisher.HasListeners;
            Action chain = null;
            int calls = 0;
            for (int i = 0; i < 5; i++)
                chain += () => calls++;
            chain();
            Func<int> last = (Func<int>)Delegate.Combine(new Func<int>(() => 1), new Func<int>(() => 2));
            return Expect.Equal("[a][bb]", first.Log, "first listener saw both")
                ?? Expect.Equal("[a]", second.Log, "second listener removed after the first event")
                ?? Expect.Equal("12", order, "lambda in the chain ran in order")
                ?? Expect.True(emptyAfterRemovals, "removing every handler leaves null")
                ?? Expect.Equal(5, calls, "five-element chain")
                ?? Expect.Equal(5, chain.GetInvocationList().Length, "invocation list length")
                ?? Expect.Equal(2, last(), "a multicast Func returns the last result");
        }

        private static string LambdaCaptures()
        {
            List<Func<int>> perIteration = new List<Func<int>>();
            for (int i = 0; i < 3; i++)
            {
                int copy = i;
                perIteration.Add(() => copy * 10);
            }
            List<Func<int>> foreachCaptures = new List<Func<int>>();
            foreach (int value in new[] { 7, 8, 9 })
                foreachCaptures.Add(() => value);
            int counter = 0;
            Action increment = () => counter++;
            increment();
            increment();
            int seen = counter;
            counter = 100;
            Func<int> readCounter = () => counter;
            counter = 200; // modified after capture: the lambda sees the variable, not a copy
            Func<int, Func<int, int>> makeAdder = x => y => x + y;
            Func<int, int> addFive = makeAdder(5);
            string prefix = Opaque("n=");
            Func<int, string> format = n => prefix + n.ToString();
            return Expect.Equal(0 + 10 + 20, perIteration[0]() + perIteration[1]() + perIteration[2](), "per-iteration copies")
                ?? Expect.Equal(789, foreachCaptures[0]() * 100 + foreachCaptures[1]() * 10 + foreachCaptures[2](), "foreach variable is fresh per iteration")
                ?? Expect.Equal(2, seen, "lambda increments the captured local")
                ?? Expect.Equal(200, readCounter(), "captured variable modified after capture")
                ?? Expect.Equal(12, addFive(7), "nested closures")
                ?? Expect.Equal("n=3", format(3), "captured reference")
                ?? Expect.Equal(201, IncrementThrough(() => ++counter), "closure called from another method")
                ?? Expect.Equal(201, counter, "write through the closure is visible");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int IncrementThrough(Func<int> function) => function();

        private static string Describe<T>(T value) where T : struct, Enum => value.ToString();

        private static string EnumsFlagsGenericBoxing()
        {
            Color color = (Color)Opaque(2);
            Access access = Access.Read | Access.Execute;
            access |= Access.Write;
            access &= ~Access.Execute;
            object boxed = BoxOf(Color.Blue);
            Dictionary<Color, string> names = new Dictionary<Color, string> { [Color.Red] = "red", [Color.Green] = "green" };
            List<Access> list = new List<Access> { Access.Read, Access.All };
            string switched = color switch { Color.Red => "R", Color.Green => "G", _ => "?" };
            return Expect.Equal(2, (int)color, "enum from int")
                ?? Expect.Equal("G", switched, "switch on an enum")
                ?? Expect.Equal(3, (int)access, "flags arithmetic")
                ?? Expect.True(access.HasFlag(Access.Write) && !access.HasFlag(Access.Execute), "HasFlag")
                ?? Expect.True((Access.All & Access.Execute) != 0, "flag test")
                ?? Expect.True(boxed is Color && (Color)boxed == Color.Blue, "boxed enum unboxes")
                ?? Expect.Equal("3", boxed.ToString(), "boxed enum ToString prints its value (no metadata)")
                ?? Expect.Equal("green", names[color], "enum as a Dictionary key")
                ?? Expect.True(list.Contains(Access.All) && !list.Contains(Access.Write), "enum in List<T>")
                ?? Expect.Equal("1099511627776", Describe(Huge.Big), "enum as a generic argument, long-based")
                ?? Expect.Equal(1, (byte)(object)Color.Red, "unbox an enum as its underlying type");
        }

        private static string ForeachArrayListSpanDictionary()
        {
            int arraySum = 0;
            foreach (int value in new[] { 1, 2, 3, 4 })
                arraySum += value;
            List<string> list = new List<string> { "a", "b", "c" };
            string listText = "";
            foreach (string item in list)
                listText += item;
            Span<int> span = stackalloc int[] { 10, 20, 30 };
            foreach (ref int slot in span)
                slot += 1;
            int spanSum = 0;
            foreach (int value in span)
                spanSum += value;
            Dictionary<string, int> dictionary = new Dictionary<string, int> { ["x"] = 1, ["y"] = 2, ["z"] = 3 };
            int dictionarySum = 0;
            string keys = "";
            foreach (KeyValuePair<string, int> pair in dictionary)
            {
                dictionarySum += pair.Value;
                keys += pair.Key;
            }
            int keySum = 0;
            foreach (string key in dictionary.Keys)
                keySum += key[0];
            int valueSum = 0;
            foreach (int value in dictionary.Values)
                valueSum += value;
            IEnumerable<string> sequence = list;
            string throughInterface = "";
            foreach (string item in sequence)
                throughInterface += item;
            return Expect.Equal(10, arraySum, "array")
                ?? Expect.Equal("abc", listText, "List<T>")
                ?? Expect.Equal(63, spanSum, "Span<T> with ref iteration")
                ?? Expect.Equal(6, dictionarySum, "Dictionary pairs")
                ?? Expect.Equal("xyz", keys, "Dictionary enumerates in insertion order")
                ?? Expect.Equal('x' + 'y' + 'z', keySum, "Dictionary keys")
                ?? Expect.Equal(6, valueSum, "Dictionary values")
                ?? Expect.Equal("abc", throughInterface, "IEnumerable<T> (interface enumerator, Dispose through IDisposable)");
        }

        private static string UsingDisposableClassAndStruct()
        {
            Tracker tracker = new Tracker();
            using (Resource outer = new Resource(tracker, "a"))
            {
                using Resource inner = new Resource(tracker, "b");
                tracker.Log += "|";
            }
            using (new StructResource(tracker))
                tracker.Log += "s";
            IDisposable[] disposables = { new Resource(tracker, "c"), new StructResource(tracker) };
            foreach (IDisposable disposable in disposables)
                disposable.Dispose();
            return Expect.Equal("+a+b|-b-as-struct+c-c-struct", tracker.Log, "dispose order for nested, struct and interface calls");
        }

        private static int Classify(string command) => command switch
        {
            "run" => 1,
            "test" => 2,
            "debug" => 3,
            "iso" => 4,
            "help" or "--help" => 5,
            _ => 0,
        };

        private static string StringSwitch()
        {
            string[] words = { "run", "test", "debug", "iso", "help", "--help", "unknown", "" };
            int code = 0;
            foreach (string word in words)
                code = code * 10 + Classify(Opaque(word));
            string statement;
            switch (Opaque("beta"))
            {
                case "alpha": statement = "a"; break;
                case "beta": statement = "b"; break;
                case "gamma": statement = "g"; break;
                case "delta": statement = "d"; break;
                case "epsilon": statement = "e"; break;
                case "zeta": statement = "z"; break;
                case "eta": statement = "h"; break;
                default: statement = "?"; break;
            }
            return Expect.Equal(12345500, code, "switch expression over strings")
                ?? Expect.Equal("b", statement, "switch statement with many cases (hashed)")
                ?? Expect.Equal(0, Classify(null), "null matches the default case");
        }

        private static int Sum(params int[] values)
        {
            int sum = 0;
            foreach (int value in values)
                sum += value;
            return sum;
        }

        private static string Format(string separator, params object[] parts)
        {
            string result = "";
            for (int i = 0; i < parts.Length; i++)
                result += (i > 0 ? separator : "") + (parts[i] == null ? "null" : parts[i].ToString());
            return result;
        }

        private static string ParamsArrays()
        {
            return Expect.Equal(0, Sum(), "no arguments")
                ?? Expect.Equal(6, Sum(1, 2, 3), "three arguments")
                ?? Expect.Equal(10, Sum(new[] { 4, 6 }), "an explicit array")
                ?? Expect.Equal("1-two-null-3", Format("-", 1, "two", null, 3L), "params object[] with boxing");
        }

        private static (int Min, int Max, int Count) Stats(int[] values)
        {
            int min = int.MaxValue, max = int.MinValue;
            foreach (int value in values)
            {
                if (value < min) min = value;
                if (value > max) max = value;
            }
            return (min, max, values.Length);
        }

        private static string Tuples()
        {
            var stats = Stats(new[] { 5, -3, 12, 7 });
            (string name, int age) person = ("ada", 36);
            (int a, int b) = (1, 2);
            (a, b) = (b, a);
            var nested = (1, ("two", 3.0));
            Dictionary<(int, int), string> grid = new Dictionary<(int, int), string> { [(1, 2)] = "x" };
            return Expect.Equal(-3, stats.Min, "named element Min")
                ?? Expect.Equal(12, stats.Max, "named element Max")
                ?? Expect.Equal(4, stats.Count, "named element Count")
                ?? Expect.Equal("ada36", person.name + person.age.ToString(), "tuple local")
                ?? Expect.Equal(21, a * 10 + b, "swap by deconstruction")
                ?? Expect.Equal("two", nested.Item2.Item1, "nested tuple")
                ?? Expect.True(stats == (-3, 12, 4), "tuple equality")
                ?? Expect.Equal("x", grid[(Opaque(1), 2)], "tuple as a dictionary key");
        }

        private static ref int Largest(int[] values)
        {
            int index = 0;
            for (int i = 1; i < values.Length; i++)
                if (values[i] > values[index])
                    index = i;
            return ref values[index];
        }

        private static void Swap<T>(ref T a, ref T b)
        {
            T temporary = a;
            a = b;
            b = temporary;
        }

        private static void Triple(in int input, out int output) => output = input * 3;

        private static string RefLocalsAndReturns()
        {
            int[] values = { 3, 9, 4 };
            ref int largest = ref Largest(values);
            largest = 0;
            ref int again = ref Largest(values);
            again++;
            string x = "x", y = "y";
            Swap(ref x, ref y);
            Vector2 vector = new Vector2(1, 2);
            ref Vector2 alias = ref vector;
            alias.X = 50;
            Triple(7, out int tripled);
            ref readonly int first = ref values[0];
            return Expect.Equal("305", values[0].ToString() + values[1].ToString() + values[2].ToString(), "ref returns write into the array")
                ?? Expect.Equal("yx", x + y, "ref parameters swap")
                ?? Expect.Equal(50, vector.X, "ref local aliases a struct")
                ?? Expect.Equal(21, tripled, "in and out parameters")
                ?? Expect.Equal(3, first, "ref readonly local");
        }

        private static string PropertiesAndIndexers()
        {
            Matrix2 matrix = new Matrix2();
            matrix.Set(4, 3, 6, 5);
            matrix[1, 1] += 1;
            matrix.Label = "m";
            return Expect.Equal(10, matrix.Trace, "computed property over an indexer")
                ?? Expect.Equal(6, matrix.Determinant, "two-index indexer")
                ?? Expect.Equal(4, matrix.Writes, "auto-property with a private setter")
                ?? Expect.Equal("m", matrix.Label, "auto-property with an initialiser")
                ?? Expect.Equal("unnamed", new Matrix2().Label, "initialiser on a fresh object");
        }

        private static string OperatorOverloading()
        {
            Fraction half = new Fraction(1, 2);
            Fraction third = new Fraction(1, 3);
            Fraction sum = half + third;
            Fraction product = half * third;
            Fraction mixed = half + 2;
            Fraction negative = -half;
            return Expect.Equal("5/6", sum.ToString(), "operator +")
                ?? Expect.Equal("1/6", product.ToString(), "operator *")
                ?? Expect.Equal("5/2", mixed.ToString(), "implicit conversion from int")
                ?? Expect.Equal(2, (int)mixed, "explicit conversion to int")
                ?? Expect.Equal("-1/2", negative.ToString(), "unary minus")
                ?? Expect.True(new Fraction(2, 4) == half && half != third, "== and !=")
                ?? Expect.True(half.Equals((object)new Fraction(3, 6)), "Equals(object)");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int SumThrough(IEnumerable<int> values)
        {
            int sum = 0;
            foreach (int value in values)
                sum += value;
            return sum;
        }

        private static string ArraysAsGenericCollections()
        {
            int[] numbers = { 4, 5, 6 };
            IList<int> list = numbers;
            list[0] = 40;
            IReadOnlyList<int> readOnly = numbers;
            ICollection<int> collection = numbers;
            object boxedArray = new string[] { "x", "y" };
            IEnumerable<string> strings = (IEnumerable<string>)boxedArray;
            string joined = "";
            foreach (string text in strings)
                joined += text;
            object numbersObject = numbers;
            object listObject = new List<int>();
            return Expect.Equal(51, SumThrough(numbers), "int[] through IEnumerable<int>")
                ?? Expect.Equal(40, numbers[0], "IList<int> indexer writes the array")
                ?? Expect.Equal(3, readOnly.Count + (collection.IsReadOnly ? 0 : 100), "counts, and arrays are fixed-size")
                ?? Expect.Equal(2, list.IndexOf(6), "IList<int>.IndexOf")
                ?? Expect.True(collection.Contains(5) && !collection.Contains(4), "ICollection<int>.Contains")
                ?? Expect.Equal("xy", joined, "string[] through IEnumerable<string>")
                ?? Expect.True(numbersObject is IList<int> && !(numbersObject is IList<long>), "int[] is IList<int>, not IList<long>")
                ?? Expect.True(listObject is IEnumerable<int> && !(listObject is IEnumerable<uint>) && !(listObject is IList<string>), "exact generic interface checks");
        }

        private static string InterlockedOperations()
        {
            int counter = 5;
            long wide = 1L << 40;
            int previous = System.Threading.Interlocked.CompareExchange(ref counter, 9, 5);
            int failed = System.Threading.Interlocked.CompareExchange(ref counter, 1, 5);
            int incremented = System.Threading.Interlocked.Increment(ref counter);
            long added = System.Threading.Interlocked.Add(ref wide, 2);
            string slot = "old";
            string swapped = System.Threading.Interlocked.Exchange(ref slot, "new");
            string kept = System.Threading.Interlocked.CompareExchange(ref slot, "other", "nope");
            return Expect.Equal(5, previous, "CompareExchange returns the old value")
                ?? Expect.Equal(9, failed, "a failed CompareExchange leaves the value")
                ?? Expect.Equal(10, incremented, "Increment")
                ?? Expect.Equal((1L << 40) + 2, added, "Add on long")
                ?? Expect.Equal("old", swapped, "Exchange of a reference")
                ?? Expect.True(kept == "new" && slot == "new", "CompareExchange of a reference that does not match");
        }

        private static bool IsInt<T>() => typeof(T) == typeof(int);

        private static string TypeIdentityAndTypeof()
        {
            object dog = new Dog();
            object list = new List<int>();
            return Expect.True(dog.GetType() == typeof(Dog) && dog.GetType() != typeof(Animal), "GetType() against typeof")
                ?? Expect.True(list.GetType() == typeof(List<int>) && list.GetType() != typeof(List<long>), "generic instantiations are distinct types")
                ?? Expect.True(IsInt<int>() && !IsInt<uint>() && !IsInt<string>(), "typeof(T) in generic code")
                ?? Expect.True(typeof(int[]) != typeof(uint[]) && new int[0].GetType() == typeof(int[]), "array types")
                ?? Expect.True(BoxOf(Color.Red).GetType() == typeof(Color), "boxed enum's type");
        }

        private const uint FsBaseMsr = 0xC0000100;

        private static string ThreadStaticFields()
        {
            // Without a thread-local block, FS-relative accesses would read low memory: check first.
            if (Aegis.Kernel.Hal.Cpu.ReadMsr(FsBaseMsr) == 0)
                return "the FS base is 0: the kernel did not set up thread-local storage (RuntimeHost.CreateThreadLocalStorage)";
            PerThread.Counter += 5;
            PerThread.Counter++;
            PerThread.Name = Opaque("boot") + "-cpu";
            return Expect.Equal(6, PerThread.Counter, "thread-static int")
                ?? Expect.Equal("boot-cpu", PerThread.Name, "thread-static reference");
        }
    }
}
