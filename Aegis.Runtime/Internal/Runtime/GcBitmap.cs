// Bit runs in the mark bitmaps (one bit per cell, set = the cell holds a live object).
// The allocator hands out runs of clear bits: after a collection those cells are free and zeroed.
// Pure logic: host-tested (Aegis.Tests/Host/GcBitmapTests.cs).
namespace Internal.Runtime
{
    internal static unsafe class GcBitmap
    {
        /// <summary>The first run of clear bits at or after 'from' among the first 'count' bits:
        /// returns its start (and its end, exclusive, in runEnd), or -1 when there is none.</summary>
        public static int NextClearRun(ulong* bits, int count, int from, out int runEnd)
        {
            runEnd = -1;
            int start = Find(bits, count, from, false);
            if (start < 0)
                return -1;
            int end = Find(bits, count, start, true);
            runEnd = end < 0 ? count : end;
            return start;
        }

        /// <summary>Index of the first bit at or after 'from' (and below 'count') equal to 'value', or -1.</summary>
        public static int Find(ulong* bits, int count, int from, bool value)
        {
            if (from >= count)
                return -1;
            int word = from >> 6;
            ulong current = value ? bits[word] : ~bits[word];
            current &= ~0UL << (from & 63);
            int words = (count + 63) >> 6;
            while (true)
            {
                if (current != 0)
                {
                    int index = (word << 6) + TrailingZeros(current);
                    return index < count ? index : -1;
                }
                word++;
                if (word >= words)
                    return -1;
                current = value ? bits[word] : ~bits[word];
            }
        }

        public static int Count(ulong* bits, int count)
        {
            int total = 0;
            int words = count >> 6;
            for (int i = 0; i < words; i++)
                total += PopCount(bits[i]);
            if ((count & 63) != 0)
                total += PopCount(bits[words] & ((1UL << (count & 63)) - 1));
            return total;
        }

        public static bool Test(ulong* bits, int index) => (bits[index >> 6] & (1UL << (index & 63))) != 0;

        public static void Set(ulong* bits, int index) => bits[index >> 6] |= 1UL << (index & 63);

        private static int TrailingZeros(ulong value)
        {
            // De Bruijn: isolate the lowest set bit, multiply, look the top six bits up.
            ulong lowest = value & (~value + 1);
            return DeBruijnPositions[(int)((lowest * 0x03F79D71B4CB0A89UL) >> 58)];
        }

        private static System.ReadOnlySpan<byte> DeBruijnPositions => new byte[]
        {
            0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4,
            62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
            63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
            46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6,
        };

        public static int PopCount(ulong value)
        {
            value -= (value >> 1) & 0x5555555555555555UL;
            value = (value & 0x3333333333333333UL) + ((value >> 2) & 0x3333333333333333UL);
            value = (value + (value >> 4)) & 0x0F0F0F0F0F0F0F0FUL;
            return (int)((value * 0x0101010101010101UL) >> 56);
        }
    }
}
