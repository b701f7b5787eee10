#pragma warning disable CS1718 // x != x is the NaN test
// Floating-point primitives. Formatting prints a fixed number of decimals (no shortest round-trip).
namespace System
{
    public struct Single : IEquatable<float>, IComparable<float>
    {
        private readonly float m_value;
        public override string ToString() => Number.FormatDouble(m_value);
        public bool Equals(float other) => m_value == other || (m_value != m_value && other != other);
        public override bool Equals(object obj) => obj is float f && Equals(f);
        // Equal values hash alike: +0 and -0, and every NaN.
        public override unsafe int GetHashCode() { float v = m_value; if (v == 0) return 0; if (v != v) return int.MinValue; return *(int*)&v; }
        public int CompareTo(float other) => m_value < other ? -1 : m_value > other ? 1 : 0;
        public static bool IsNaN(float f) => f != f;
    }

    public struct Double : IEquatable<double>, IComparable<double>
    {
        private readonly double m_value;
        public override string ToString() => Number.FormatDouble(m_value);
        public bool Equals(double other) => m_value == other || (m_value != m_value && other != other);
        public override bool Equals(object obj) => obj is double d && Equals(d);
        public override unsafe int GetHashCode() { double v = m_value; if (v == 0) return 0; if (v != v) return int.MinValue; long bits = *(long*)&v; return (int)bits ^ (int)(bits >> 32); }
        public int CompareTo(double other) => m_value < other ? -1 : m_value > other ? 1 : 0;
        public static bool IsNaN(double d) => d != d;
    }
}
