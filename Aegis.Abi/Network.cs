// Packet filters (issue #12; docs/network-filters.md): how an environment tells the kernel which
// received Ethernet frames are its own. The kernel knows no protocol: a filter is a conjunction of
// FilterAtoms, each a masked comparison of a big-endian field at a byte offset, and the kernel
// hands a frame to the owner of the filter that accepts it. Filters of different owners may never
// both accept one frame (the kernel refuses the second: FilterError.Overlap).
using System.Runtime.InteropServices;

namespace Aegis.Abi
{
    public static class NetworkLimits
    {
        /// <summary>Atoms in one filter (at least one).</summary>
        public const int MaximumAtoms = 16;
        /// <summary>Filters the kernel holds for all environments together.</summary>
        public const int MaximumFilters = 1024;
        /// <summary>The largest Ethernet frame (without its CRC): no atom may read past it
        /// (Offset + Width at most this, counted from the atom's base).</summary>
        public const int MaximumFrameBytes = 1518;
    }

    /// <summary>Where a FilterAtom's Offset counts from.</summary>
    public enum FilterBase : byte
    {
        /// <summary>The frame's first byte (the Ethernet destination address).</summary>
        Frame = 0,
        /// <summary>The IPv4 transport header: 14 + 4 × (frame[14] &amp; 0x0F), the IHL of an IPv4
        /// header that follows a 14-byte Ethernet header. An atom with this base fails when the
        /// frame has no byte 14 or its IHL is below 5.</summary>
        Transport = 1,
    }

    /// <summary>One test of a filter (12 bytes): the Width-byte field at Offset from Base, read
    /// big-endian (network order), ANDed with Mask, must equal Value. The atom fails (the filter
    /// does not accept) when the field does not lie wholly inside the frame.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 12)]
    public struct FilterAtom
    {
        /// <summary>A FilterBase.</summary>
        [FieldOffset(0)] public byte Base;
        /// <summary>1, 2 or 4 bytes.</summary>
        [FieldOffset(1)] public byte Width;
        /// <summary>Bytes from the base to the field's first byte.</summary>
        [FieldOffset(2)] public ushort Offset;
        /// <summary>The bits compared: not 0, and no bit beyond the field's width.</summary>
        [FieldOffset(4)] public uint Mask;
        /// <summary>What the masked field must equal (no bit outside Mask).</summary>
        [FieldOffset(8)] public uint Value;
    }

    /// <summary>Why a filter was refused (or None). Every reason is checked before anything changes.</summary>
    public enum FilterError : int
    {
        None = 0,
        /// <summary>A filter needs at least one atom.</summary>
        NoAtoms = 1,
        /// <summary>More than NetworkLimits.MaximumAtoms atoms.</summary>
        TooManyAtoms = 2,
        /// <summary>An atom's Base is not a FilterBase.</summary>
        BadBase = 3,
        /// <summary>An atom's Width is not 1, 2 or 4.</summary>
        BadWidth = 4,
        /// <summary>An atom's Mask is 0 (it would test nothing).</summary>
        ZeroMask = 5,
        /// <summary>An atom's Mask has bits beyond its Width.</summary>
        MaskWiderThanField = 6,
        /// <summary>An atom's Value has bits outside its Mask (it could never match).</summary>
        ValueOutsideMask = 7,
        /// <summary>An atom's Offset + Width exceeds NetworkLimits.MaximumFrameBytes.</summary>
        BeyondFrame = 8,
        /// <summary>Two atoms of the filter (same base) want a common bit to be both 0 and 1.</summary>
        Contradiction = 9,
        /// <summary>Another owner's filter could accept a frame this one accepts.</summary>
        Overlap = 10,
        /// <summary>No room: every filter slot, or the merged structure's pool of nodes, is taken.</summary>
        Full = 11,
        /// <summary>No filter has that id.</summary>
        NoSuchFilter = 12,
        /// <summary>A delegated filter (SystemCall.NicFilterDelegate) that no filter of the
        /// delegator's covers: it would give away frames the delegator does not own.</summary>
        NotCovered = 13,
    }
}
