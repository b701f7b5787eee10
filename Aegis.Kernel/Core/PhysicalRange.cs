// PhysicalRange: a half-open range of physical addresses [Start, End).
// Invariant: a range with End <= Start is empty (Length 0); nothing here overflows.
namespace Aegis.Kernel.Core
{
    public readonly struct PhysicalRange
    {
        public PhysicalRange(ulong start, ulong end)
        {
            Start = start;
            End = end;
        }

        /// <summary>The range [start, start + length), cut at the top of the address space.</summary>
        public static PhysicalRange FromLength(ulong start, ulong length)
            => new PhysicalRange(start, length > ulong.MaxValue - start ? ulong.MaxValue : start + length);

        public ulong Start { get; }

        /// <summary>One past the last byte.</summary>
        public ulong End { get; }

        public bool IsEmpty => End <= Start;
        public ulong Length => IsEmpty ? 0 : End - Start;

        public bool Contains(ulong address) => address >= Start && address < End;

        public bool Overlaps(PhysicalRange other)
            => !IsEmpty && !other.IsEmpty && Start < other.End && other.Start < End;

        public override string ToString() => "[0x" + Start.ToString("X") + ", 0x" + End.ToString("X") + ")";
    }
}
