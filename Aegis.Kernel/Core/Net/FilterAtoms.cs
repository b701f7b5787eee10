// FilterAtoms: the rules about one packet-filter atom (Aegis.Abi FilterAtom; docs/network-filters.md)
// that PacketFilterSet and its compiler share: what a valid atom and filter are, when two atoms
// prove two filters disjoint, the canonical atom order the merged structure is built in, and how
// an atom's field is read from a frame.
//
// Rules:
//   - a valid atom has a known base, width 1, 2 or 4, a mask that is not 0 and fits the width, a
//     value inside the mask, and Offset + Width <= NetworkLimits.MaximumFrameBytes;
//   - two atoms contradict when they have the same base and some bit both read (same byte of the
//     frame, same bit of it, both masks set) must have different values: no frame satisfies both.
//     Atoms of different bases never contradict (the transport base moves with the IHL, so the
//     kernel assumes the worst);
//   - the canonical order sorts by (Base, Offset, Width, Mask, Value): the fields every filter
//     tests come in one order, so filters written in different orders share their common tests;
//   - a field is read big-endian at base + Offset and fails (no value) when any of its bytes lies
//     at or past the frame's length; the transport base is 14 + 4 × IHL, and with no byte 14 or an
//     IHL below 5 every transport field fails.
using System;
using Aegis.Abi;

namespace Aegis.Kernel.Core.Net
{
    public static unsafe class FilterAtoms
    {
        /// <summary>Where a field of a frame with no valid transport base would start: past any
        /// frame (a 32-bit length), so every bounds check on it fails.</summary>
        public const long NoTransport = 1L << 32;

        /// <summary>The bits a field of width bytes holds (1, 2 or 4; 0 for another width).</summary>
        public static uint WidthMask(int width) => width switch
        {
            1 => 0xFFu,
            2 => 0xFFFFu,
            4 => 0xFFFF_FFFFu,
            _ => 0u,
        };

        /// <summary>Whether one atom is well formed (FilterError.None), else the first reason it is not.</summary>
        public static FilterError Check(in FilterAtom atom)
        {
            if (atom.Base != (byte)FilterBase.Frame && atom.Base != (byte)FilterBase.Transport) return FilterError.BadBase;
            uint widthMask = WidthMask(atom.Width);
            if (widthMask == 0) return FilterError.BadWidth;
            if (atom.Mask == 0) return FilterError.ZeroMask;
            if ((atom.Mask & ~widthMask) != 0) return FilterError.MaskWiderThanField;
            if ((atom.Value & ~atom.Mask) != 0) return FilterError.ValueOutsideMask;
            if (atom.Offset + atom.Width > NetworkLimits.MaximumFrameBytes) return FilterError.BeyondFrame;
            return FilterError.None;
        }

        /// <summary>Whether atoms form a valid filter: 1..MaximumAtoms valid atoms, no two of them
        /// contradicting. badAtom is the index of the atom refused (-1 for a bad count).</summary>
        public static FilterError Check(ReadOnlySpan<FilterAtom> atoms, out int badAtom)
        {
            badAtom = -1;
            if (atoms.Length == 0) return FilterError.NoAtoms;
            if (atoms.Length > NetworkLimits.MaximumAtoms) return FilterError.TooManyAtoms;
            for (int i = 0; i < atoms.Length; i++)
            {
                FilterError error = Check(atoms[i]);
                if (error != FilterError.None) { badAtom = i; return error; }
            }
            for (int i = 1; i < atoms.Length; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    if (Contradict(atoms[i], atoms[j])) { badAtom = i; return FilterError.Contradiction; }
                }
            }
            return FilterError.None;
        }

        /// <summary>True when no frame can satisfy both atoms (valid ones): same base, and a bit of a
        /// byte both read is set in both masks with different values.</summary>
        public static bool Contradict(in FilterAtom a, in FilterAtom b)
        {
            if (a.Base != b.Base) return false;
            int first = Math.Max(a.Offset, b.Offset);
            int end = Math.Min(a.Offset + a.Width, b.Offset + b.Width);
            for (int position = first; position < end; position++)
            {
                uint both = ByteAt(a.Mask, a, position) & ByteAt(b.Mask, b, position);
                uint differ = ByteAt(a.Value, a, position) ^ ByteAt(b.Value, b, position);
                if ((both & differ) != 0) return true;
            }
            return false;
        }

        /// <summary>Every frame that satisfies all of 'filter' satisfies all of 'other' (both valid
        /// filters): each bit some atom of other tests is tested, with the same value, by an atom
        /// of filter with the same base. Exact for atoms of one base, as Contradict is; a bit only a
        /// differently based atom tests never counts.</summary>
        public static bool Implies(ReadOnlySpan<FilterAtom> filter, ReadOnlySpan<FilterAtom> other)
        {
            for (int j = 0; j < other.Length; j++)
            {
                FilterAtom b = other[j];
                for (int position = b.Offset; position < b.Offset + b.Width; position++)
                {
                    uint needed = ByteAt(b.Mask, b, position);
                    for (int i = 0; i < filter.Length && needed != 0; i++)
                    {
                        FilterAtom a = filter[i];
                        if (a.Base != b.Base || position < a.Offset || position >= a.Offset + a.Width) continue;
                        uint same = ~(ByteAt(a.Value, a, position) ^ ByteAt(b.Value, b, position)) & 0xFF;
                        needed &= ~(ByteAt(a.Mask, a, position) & same);
                    }
                    if (needed != 0) return false;
                }
            }
            return true;
        }

        /// <summary>The byte of word (a mask or a value of atom) that lies at frame position
        /// 'position' (counted from the atom's base): the field is big-endian.</summary>
        private static uint ByteAt(uint word, in FilterAtom atom, int position)
        {
            int shift = 8 * (atom.Offset + atom.Width - 1 - position);
            return (word >> shift) & 0xFF;
        }

        /// <summary>The canonical order: negative when a comes first.</summary>
        public static int Compare(in FilterAtom a, in FilterAtom b)
        {
            int order = CompareField(a, b);
            if (order != 0) return order;
            return a.Value.CompareTo(b.Value);
        }

        /// <summary>The canonical order of the fields alone (Value ignored): 0 when a and b read and
        /// mask the same bits.</summary>
        public static int CompareField(in FilterAtom a, in FilterAtom b)
        {
            if (a.Base != b.Base) return a.Base < b.Base ? -1 : 1;
            if (a.Offset != b.Offset) return a.Offset < b.Offset ? -1 : 1;
            if (a.Width != b.Width) return a.Width < b.Width ? -1 : 1;
            if (a.Mask != b.Mask) return a.Mask < b.Mask ? -1 : 1;
            return 0;
        }

        /// <summary>Copies atoms into 'into' in canonical order, exact duplicates once; returns how
        /// many were written (into must hold atoms.Length).</summary>
        public static int Canonicalize(ReadOnlySpan<FilterAtom> atoms, Span<FilterAtom> into)
        {
            int count = 0;
            for (int i = 0; i < atoms.Length; i++)
            {
                FilterAtom atom = atoms[i];
                int at = count;
                while (at > 0 && Compare(into[at - 1], atom) > 0) at--;
                if (at > 0 && Compare(into[at - 1], atom) == 0) continue;
                for (int move = count; move > at; move--) into[move] = into[move - 1];
                into[at] = atom;
                count++;
            }
            return count;
        }

        /// <summary>Where the transport base of the frame lies, or NoTransport (no byte 14, IHL &lt; 5).</summary>
        public static long TransportStart(byte* frame, int length)
        {
            if (length < 15) return NoTransport;
            int headerWords = frame[14] & 0x0F;
            if (headerWords < 5) return NoTransport;
            return 14 + 4 * headerWords;
        }

        /// <summary>Reads the width-byte big-endian field at start + offset; false when any of its
        /// bytes lies at or past length.</summary>
        public static bool TryRead(byte* frame, int length, long start, int offset, int width, out uint field)
        {
            field = 0;
            long position = start + offset;
            if (position + width > length) return false;
            byte* at = frame + position;
            field = width switch
            {
                1 => at[0],
                2 => (uint)(at[0] << 8 | at[1]),
                _ => (uint)at[0] << 24 | (uint)at[1] << 16 | (uint)at[2] << 8 | at[3],
            };
            return true;
        }
    }
}
