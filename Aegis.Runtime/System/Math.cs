namespace System
{
    public static class Math
    {
        public static int Max(int a, int b) => a > b ? a : b;
        public static int Min(int a, int b) => a < b ? a : b;
        public static long Max(long a, long b) => a > b ? a : b;
        public static long Min(long a, long b) => a < b ? a : b;
        public static uint Max(uint a, uint b) => a > b ? a : b;
        public static uint Min(uint a, uint b) => a < b ? a : b;
        public static ulong Max(ulong a, ulong b) => a > b ? a : b;
        public static ulong Min(ulong a, ulong b) => a < b ? a : b;
        public static int Abs(int value) => value < 0 ? checked(-value) : value;
        public static long Abs(long value) => value < 0 ? checked(-value) : value;
        public static double Abs(double value) => value < 0 ? -value : value;
        public static int Clamp(int value, int min, int max) => value < min ? min : value > max ? max : value;
        public static ulong DivRem(ulong a, ulong b, out ulong remainder) { ulong q = a / b; remainder = a - q * b; return q; }
    }
}
