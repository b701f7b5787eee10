// Runtime suite: classes, structs, interfaces, virtual dispatch and generics.
// Helpers are [NoInlining] where the point is to make the compiler emit a real runtime
// mechanism (interface dispatch cell, virtual call) instead of folding the answer.
using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace Aegis.Kernel.Tests
{
    internal interface IShape
    {
        int Area();
        string Name { get; }
    }

    internal sealed class Square : IShape
    {
        private readonly int _side;
        public Square(int side) { _side = side; }
        public int Area() => _side * _side;
        public string Name => "square";
    }

    internal sealed class Rectangle : IShape
    {
        private readonly int _width, _height;
        public Rectangle(int width, int height) { _width = width; _height = height; }
        public int Area() => _width * _height;
        public string Name => "rectangle";
    }

    internal sealed class Triangle : IShape
    {
        private readonly int _base, _height;
        public Triangle(int baseLength, int height) { _base = baseLength; _height = height; }
        public int Area() => _base * _height / 2;
        public string Name => "triangle";
    }

    internal struct Dot : IShape
    {
        public int Area() => 0;
        public string Name => "dot";
    }

    internal class Polygon : IShape
    {
        protected readonly int Sides;
        public Polygon(int sides) { Sides = sides; }
        public virtual int Area() => Sides * 10;
        public string Name => "polygon" + Sides.ToString();
    }

    internal sealed class Hexagon : Polygon
    {
        public Hexagon() : base(6) { }
        public override int Area() => base.Area() + 1;
    }

    internal class Pentagon : Polygon
    {
        public Pentagon() : base(5) { }
    }

    internal interface ICounter
    {
        int Next();
        int Step => 1; // default interface method
        int Twice() => Next() + Next();
    }

    internal sealed class Counter : ICounter
    {
        private int _value;
        public int Next() => ++_value;
    }

    internal sealed class BigStepCounter : ICounter
    {
        private int _value;
        public int Next() => _value += 10;
        public int Step => 10;
    }

    internal interface INamedValue<T>
    {
        T Value { get; }
        string Describe() => "value " + Value.ToString() + " of " + Kind();
        string Kind() => "something";
    }

    internal sealed class NamedText : INamedValue<string>
    {
        public string Value => "text";
        public string Kind() => "string";
    }

    internal sealed class NamedNumber : INamedValue<int>
    {
        public int Value => 42;
    }

    internal sealed class NamedObject : INamedValue<object>
    {
        public object Value => "boxed";
    }

    internal interface IMonoid<T> where T : IMonoid<T>
    {
        static abstract T Identity { get; }
        static abstract T Combine(T a, T b);
        static virtual string Label => "monoid";
    }

    internal readonly struct Sum : IMonoid<Sum>
    {
        public readonly int Value;
        public Sum(int value) { Value = value; }
        public static Sum Identity => new Sum(0);
        public static Sum Combine(Sum a, Sum b) => new Sum(a.Value + b.Value);
    }

    internal sealed class Text : IMonoid<Text>
    {
        public readonly string Value;
        public Text(string value) { Value = value; }
        public static Text Identity => new Text("");
        public static Text Combine(Text a, Text b) => new Text(a.Value + b.Value);
        public static string Label => "text";
    }

    internal interface IDescribed
    {
        string Describe();
    }

    internal class ExplicitDescribed : IDescribed
    {
        string IDescribed.Describe() => "explicit";
        public string Describe() => "public";
    }

    internal sealed class DerivedDescribed : ExplicitDescribed { }

    internal interface IStore<T>
    {
        void Put(T value);
        T Get(int index);
        int Count { get; }
    }

    internal sealed class ArrayStore<T> : IStore<T>
    {
        private readonly T[] _items = new T[8];
        private int _count;
        public void Put(T value) => _items[_count++] = value;
        public T Get(int index) => _items[index];
        public int Count => _count;
    }

    internal sealed class ReversedStore<T> : IStore<T>
    {
        private readonly List<T> _items = new List<T>();
        public void Put(T value) => _items.Insert(0, value);
        public T Get(int index) => _items[index];
        public int Count => _items.Count;
    }

    internal abstract class Animal
    {
        public abstract string Sound();
        public virtual string Describe() => "animal says " + Sound();
        public string Name() => "generic";
    }

    internal class Dog : Animal
    {
        public override string Sound() => "woof";
    }

    internal class Puppy : Dog
    {
        public override string Sound() => "yip";
        public override string Describe() => "small " + base.Describe();
    }

    internal sealed class Cat : Animal
    {
        public override string Sound() => "meow";
        public override string Describe() => base.Describe() + "!";
    }

    internal sealed class Point3
    {
        public int X, Y, Z;
        public static int Created;
        public Point3() : this(1, 2, 3) { }
        public Point3(int x, int y, int z) { X = x; Y = y; Z = z; Created++; }
        public int Sum() => X + Y + Z;
    }

    internal struct Vector2
    {
        public int X;
        public int Y;
        public Vector2(int x, int y) { X = x; Y = y; }
        public void Scale(int factor) { X *= factor; Y *= factor; }
        public readonly int LengthSquared => X * X + Y * Y;
    }

    internal sealed class Box<T>
    {
        public T Value;
        public Box(T value) { Value = value; }
        public Box<T> With(T value) => new Box<T>(value);
        public override string ToString() => "Box(" + (Value == null ? "null" : Value.ToString()) + ")";
    }

    internal struct Pair<TFirst, TSecond>
    {
        public TFirst First;
        public TSecond Second;
        public Pair(TFirst first, TSecond second) { First = first; Second = second; }
        public Pair<TSecond, TFirst> Swap() => new Pair<TSecond, TFirst>(Second, First);
    }

    internal readonly struct Money : IEquatable<Money>, IComparable<Money>
    {
        public readonly long Cents;
        public Money(long cents) { Cents = cents; }
        public bool Equals(Money other) => Cents == other.Cents;
        public override bool Equals(object obj) => obj is Money other && Equals(other);
        public override int GetHashCode() => (int)Cents;
        public int CompareTo(Money other) => Cents.CompareTo(other.Cents);
        public override string ToString() => (Cents / 100).ToString() + "." + (Cents % 100).ToString("D2");
    }

    public static unsafe partial class RuntimeSuite
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static IShape[] MakeShapes() => new IShape[]
        {
            new Square(3), new Rectangle(2, 5), new Triangle(4, 3), new Dot(), new Hexagon(), new Pentagon(),
        };

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int TotalArea(IShape[] shapes)
        {
            int total = 0;
            for (int i = 0; i < shapes.Length; i++)
                total += shapes[i].Area();
            return total;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string Names(IShape[] shapes)
        {
            string names = "";
            foreach (IShape shape in shapes)
                names = names + shape.Name + ",";
            return names;
        }

        private static string ClassFieldsAndConstructors()
        {
            int before = Point3.Created;
            Point3 a = new Point3();
            Point3 b = new Point3(10, 20, 30) { Z = 5 };
            Point3 alias = a;
            alias.X = 7;
            return Expect.Equal(7 + 2 + 3, a.Sum(), "default-constructed sum after alias write")
                ?? Expect.Equal(35, b.Sum(), "initialiser overrides constructor")
                ?? Expect.Equal(2, Point3.Created - before, "static counter of constructions")
                ?? Expect.True(!ReferenceEquals(a, b) && ReferenceEquals(a, alias), "reference identity");
        }

        private static string StructValueSemantics()
        {
            Vector2 a = new Vector2(3, 4);
            Vector2 copy = a;
            copy.Scale(2);
            Vector2[] array = { a, copy };
            array[0].X = 100;
            ref Vector2 slot = ref array[1];
            slot.Y = -1;
            return Expect.Equal(25, a.LengthSquared, "original unchanged by copy's mutation")
                ?? Expect.Equal(6, copy.X, "copy scaled")
                ?? Expect.Equal(100, array[0].X, "array element mutated in place")
                ?? Expect.Equal(3, a.X, "array holds a copy")
                ?? Expect.Equal(-1, array[1].Y, "ref to element writes through");
        }

        private static string InterfaceDispatchThreeImplementations()
        {
            IShape[] shapes = MakeShapes();
            // 9 + 10 + 6 + 0 + 61 + 50
            return Expect.Equal(136, TotalArea(shapes), "sum of areas through IShape[]")
                ?? Expect.Equal(136, TotalArea(shapes), "second pass (cached cells)")
                ?? Expect.Equal("square,rectangle,triangle,dot,polygon6,polygon5,", Names(shapes), "names through IShape.Name");
        }

        private static string InterfaceDispatchCacheRefill()
        {
            // One call site sees more classes than its cache holds, in an order that evicts.
            IShape[] shapes = MakeShapes();
            IShape[] mixed = new IShape[60];
            for (int i = 0; i < mixed.Length; i++)
                mixed[i] = shapes[(i * 7) % shapes.Length];
            int expected = 0;
            for (int i = 0; i < mixed.Length; i++)
            {
                int index = (i * 7) % shapes.Length;
                expected += index switch { 0 => 9, 1 => 10, 2 => 6, 3 => 0, 4 => 61, _ => 50 };
            }
            return Expect.Equal(expected, TotalArea(mixed), "areas with cache evictions");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string DescribeThrough(IDescribed described) => described.Describe();

        private static string InterfaceInheritedAndExplicitImplementations()
        {
            ExplicitDescribed direct = new ExplicitDescribed();
            IShape hexagon = new Hexagon();
            IShape pentagon = new Pentagon();
            return Expect.Equal("explicit", DescribeThrough(direct), "explicit implementation through the interface")
                ?? Expect.Equal("public", direct.Describe(), "public method on the class")
                ?? Expect.Equal("explicit", DescribeThrough(new DerivedDescribed()), "explicit implementation inherited")
                ?? Expect.Equal(61, hexagon.Area(), "override reached through the base class's interface")
                ?? Expect.Equal(50, pentagon.Area(), "inherited implementation")
                ?? Expect.Equal("polygon5", pentagon.Name, "non-virtual implementation in the base class");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static ICounter[] MakeCounters() => new ICounter[] { new Counter(), new BigStepCounter() };

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string DescribeGeneric<T>(INamedValue<T> value) => value.Describe();

        private static string InterfaceDefaultMethod()
        {
            ICounter[] counters = MakeCounters();
            return Expect.Equal("value text of string", DescribeGeneric(new NamedText()), "default method of a generic interface over string")
                ?? Expect.Equal("value 42 of something", DescribeGeneric(new NamedNumber()), "default method of a generic interface over int")
                ?? Expect.Equal("value boxed of something", DescribeGeneric(new NamedObject()), "default method of a generic interface over object")
                ?? Expect.Equal(1, counters[0].Step, "default Step")
                ?? Expect.Equal(10, counters[1].Step, "overridden Step")
                ?? Expect.Equal(3, counters[0].Twice(), "default Twice calls Next twice")
                ?? Expect.Equal(30, counters[1].Twice(), "default Twice on the other class");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static string Fill<T>(IStore<T> store, T a, T b, T c)
        {
            store.Put(a);
            store.Put(b);
            store.Put(c);
            string result = store.Count.ToString() + ":";
            for (int i = 0; i < store.Count; i++)
                result += store.Get(i).ToString();
            return result;
        }

        private static string InterfaceGenericOverValueAndReference()
        {
            return Expect.Equal("3:123", Fill<int>(new ArrayStore<int>(), 1, 2, 3), "IStore<int> array")
                ?? Expect.Equal("3:321", Fill<int>(new ReversedStore<int>(), 1, 2, 3), "IStore<int> reversed")
                ?? Expect.Equal("3:abc", Fill<string>(new ArrayStore<string>(), "a", "b", "c"), "IStore<string> array")
                ?? Expect.Equal("3:cba", Fill<string>(new ReversedStore<string>(), "a", "b", "c"), "IStore<string> reversed")
                ?? Expect.Equal("3:1.002.003.00", Fill<Money>(new ReversedStore<Money>(), new Money(300), new Money(200), new Money(100)), "IStore<Money>");
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static Animal[] MakeAnimals() => new Animal[] { new Dog(), new Puppy(), new Cat() };

        private static string VirtualAbstractOverrideBaseCall()
        {
            Animal[] animals = MakeAnimals();
            string all = "";
            foreach (Animal animal in animals)
                all += animal.Describe() + "|";
            return Expect.Equal("animal says woof|small animal says yip|animal says meow!|", all, "virtual, abstract and base calls")
                ?? Expect.Equal("generic", animals[1].Name(), "non-virtual base method");
        }

        private static string GenericClassValueAndReference()
        {
            Box<int> number = new Box<int>(41);
            number.Value++;
            Box<string> text = new Box<string>("hi").With("there");
            Box<Vector2> vector = new Box<Vector2>(new Vector2(1, 2));
            vector.Value.Scale(3);
            Box<string> empty = new Box<string>(null);
            Pair<int, string> pair = new Pair<int, string>(7, "seven");
            Pair<string, int> swapped = pair.Swap();
            return Expect.Equal("Box(42)", number.ToString(), "Box<int>")
                ?? Expect.Equal("Box(there)", text.ToString(), "Box<string>")
                ?? Expect.Equal(45, vector.Value.LengthSquared, "Box<Vector2> mutated in place")
                ?? Expect.Equal("Box(null)", empty.ToString(), "Box<string> holding null")
                ?? Expect.Equal("seven", swapped.First, "Pair swapped first")
                ?? Expect.Equal(7, swapped.Second, "Pair swapped second");
        }

        private static T Fold<T>(T[] items) where T : IMonoid<T>
        {
            T result = T.Identity;
            foreach (T item in items)
                result = T.Combine(result, item);
            return result;
        }

        private static string LabelOf<T>() where T : IMonoid<T> => T.Label;

        private static string StaticAbstractInterfaceMembers()
        {
            return Expect.Equal(10, Fold(new[] { new Sum(1), new Sum(2), new Sum(3), new Sum(4) }).Value, "static abstract over a struct")
                ?? Expect.Equal("abc", Fold(new[] { new Text("a"), new Text("b"), new Text("c") }).Value, "static abstract over a class (shared code)")
                ?? Expect.Equal("monoid|text", LabelOf<Sum>() + "|" + LabelOf<Text>(), "static virtual default and override");
        }

        private static T Largest<T>(T[] items) where T : IComparable<T>
        {
            T best = items[0];
            for (int i = 1; i < items.Length; i++)
                if (items[i].CompareTo(best) > 0)
                    best = items[i];
            return best;
        }

        private static T Create<T>() where T : new() => new T();

        private static int CountNonNull<T>(T[] items) where T : class
        {
            int count = 0;
            foreach (T item in items)
                if (item != null)
                    count++;
            return count;
        }

        private static string GenericMethodConstraints()
        {
            return Expect.Equal(42, Largest(new[] { 3, 42, -7, 41 }), "Largest<int>")
                ?? Expect.Equal("pear", Largest(new[] { "apple", "pear", "banana" }), "Largest<string>")
                ?? Expect.Equal(999, Largest(new[] { new Money(5), new Money(999), new Money(100) }).Cents, "Largest<Money>")
                ?? Expect.Equal(6, Create<Point3>().Sum(), "new() constraint on a class")
                ?? Expect.Equal(0, Create<Vector2>().LengthSquared, "new() constraint on a struct")
                ?? Expect.Equal(2, CountNonNull(new[] { "a", null, "b" }), "class constraint");
        }

        private static bool AllEqual<T>(T a, T b, T c) where T : IEquatable<T> => a.Equals(b) && b.Equals(c);

        private static string GenericIEquatableComparer()
        {
            EqualityComparer<Money> comparer = EqualityComparer<Money>.Default;
            EqualityComparer<string> strings = EqualityComparer<string>.Default;
            return Expect.True(AllEqual(new Money(5), new Money(5), new Money(5)), "IEquatable<Money> all equal")
                ?? Expect.True(!AllEqual(new Money(5), new Money(5), new Money(6)), "IEquatable<Money> not all equal")
                ?? Expect.True(AllEqual("ab", Opaque("a") + "b", string.Concat(Opaque("a"), Opaque("b"))), "IEquatable<string>")
                ?? Expect.True(comparer.Equals(new Money(1), new Money(1)) && !comparer.Equals(new Money(1), new Money(2)), "EqualityComparer<Money>.Default")
                ?? Expect.True(strings.Equals("x", "x") && !strings.Equals("x", null), "EqualityComparer<string>.Default")
                ?? Expect.Equal(strings.GetHashCode("hello"), string.Concat(Opaque("hel"), "lo").GetHashCode(), "string hash is by content");
        }
    }
}
