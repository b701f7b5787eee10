// The heap's size classes: every small object (up to MaximumSmall bytes, header word included)
// lives in a cell of its class's size, in a block that holds cells of that one size, so an
// address inside a block maps to its cell by arithmetic (conservative stack words, interior
// pointers from `ref` and Span). Pure logic: host-tested (Aegis.Tests/Host/GcSizeClassTests.cs).
// Invariants: CellSize is strictly increasing and a multiple of 8; ClassOf(size) is the smallest
// class whose cell holds 'size'; every class fits at least three cells in a block; Native/gc.S
// hard-codes Count (GC_CLASS_COUNT) and MaximumSmall (GC_MAX_SMALL).
namespace Internal.Runtime
{
    internal static class GcSizeClasses
    {
        public const int BlockShift = 15;
        public const int BlockSize = 1 << BlockShift;
        /// <summary>Bytes at the start of each small-object block: its GcBlock header and mark bits.</summary>
        public const int BlockHeaderSize = 320;
        public const int MinimumCell = 24;
        public const int MaximumSmall = 8192;
        /// <summary>14 classes 24..128 by 8, then six groups of eight, each step twice the last.</summary>
        public const int Count = 62;
        private const int FineClasses = 14;

        public static int CellSize(int sizeClass)
        {
            if (sizeClass < FineClasses)
                return MinimumCell + 8 * sizeClass;
            int k = sizeClass - FineClasses;
            int group = k / 8;
            return (128 << group) + (16 << group) * (k % 8 + 1);
        }

        /// <summary>The class for an object of 'size' bytes (1..MaximumSmall).</summary>
        public static int ClassOf(int size)
        {
            if (size <= MinimumCell)
                return 0;
            if (size <= 128)
                return (size - MinimumCell + 7) / 8;
            int group = 0;
            while ((256 << group) < size)
                group++;
            int step = 16 << group;
            int index = (size - (128 << group) + step - 1) / step - 1;
            return FineClasses + group * 8 + index;
        }

        public static int CellsPerBlock(int sizeClass) => (BlockSize - BlockHeaderSize) / CellSize(sizeClass);
    }
}
