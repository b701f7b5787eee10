// Network interface controllers (issue #12): what the kernel's NIC drivers are and the frames
// they move. The kernel drives the hardware and multiplexes it (Exo/NetworkDevices.cs); what a
// frame means (ARP, IP, TCP) is the libOS's business. docs/kernel.md, "Network devices";
// docs/abi.md, "Networks" (the calls NicInfo .. NicRestrict, the receive ring, NicSend).
using System.Runtime.InteropServices;

namespace Aegis.Abi
{
    /// <summary>Which kind of controller a network device is (the driver the kernel uses).</summary>
    public enum NetworkController : ulong
    {
        None = 0,
        /// <summary>An Intel 8254x (82540EM, 82544GC, 82545EM: QEMU's e1000, VMware's e1000).</summary>
        E1000 = 1,
        /// <summary>An Intel 82574L (QEMU's e1000e, VMware's e1000e), driven with legacy descriptors.</summary>
        E1000e = 2,
        /// <summary>virtio-net through the legacy (transitional) virtio-pci interface, 1af4:1000 (QEMU's
        /// virtio-net-pci): MAC and link status features only, no offloads.</summary>
        VirtioNet = 3,
    }

    public static class NicLimits
    {
        /// <summary>Bytes of a MAC address.</summary>
        public const int MacAddressBytes = 6;
        /// <summary>The shortest frame a sender may give: an Ethernet header (the device pads short
        /// frames to 60 bytes). The longest is NetworkLimits.MaximumFrameBytes (1518 without the
        /// CRC: a 1500-byte payload and a VLAN tag; no jumbo frames).</summary>
        public const int MinimumFrameBytes = 14;
        /// <summary>Bytes of one receive-ring slot's buffer (a frame is at most
        /// NetworkLimits.MaximumFrameBytes; two slots share a page).</summary>
        public const int SlotBytes = 2048;
        /// <summary>Slots of the largest receive ring (a power of two, at least MinimumRingSlots).</summary>
        public const int MaximumRingSlots = 256;
        public const int MinimumRingSlots = 2;
        /// <summary>Environments that may hold a receive ring at once.</summary>
        public const int MaximumRings = 32;
        /// <summary>Frames one environment may have given NicSend that the device has not finished
        /// sending (their pages stay pinned until then): past it NicSend answers WouldBlock.</summary>
        public const int MaximumSendsInFlight = 64;
        /// <summary>Most NicSendRequests one NicSend call takes.</summary>
        public const int MaximumSendBatch = 32;
        /// <summary>The longest frame a segmented send (NicSendRequest.SegmentSizeShift) may give:
        /// an Ethernet header and the longest IPv4 datagram.</summary>
        public const int MaximumSegmentedFrameBytes = 14 + 65_535;
        /// <summary>The smallest segment size a segmented send may ask for (RFC 879's default MSS):
        /// a libOS whose peer wants smaller segments cuts them itself.</summary>
        public const int MinimumSegmentSize = 536;
        /// <summary>Most pages one frame may lie in (a segmented frame's 65,549 bytes, not aligned).</summary>
        public const int MaximumFramePages = 18;
    }

    /// <summary>What a device can do for NicSend beyond sending a frame as given (NicInfo.Offloads).</summary>
    public static class NicOffloads
    {
        /// <summary>TCP segmentation (TSO) of IPv4 frames: NicSendRequest with a segment size.</summary>
        public const ulong TcpSegmentation = 1;
    }

    /// <summary>How a Nic capability's object is packed. Unrestricted (init's): any filter. A
    /// restricted copy (NicRestrict) installs only filters that bind one IPv4 TCP or UDP
    /// destination port inside its range: binding a port is holding a capability for it.</summary>
    public static class NicCapability
    {
        /// <summary>Bit 0: restricted to a port range.</summary>
        public const ulong Restricted = 1;
        /// <summary>Bits 16..31: the lowest port; bits 32..47: the highest.</summary>
        public const int LowShift = 16, HighShift = 32;
    }

    /// <summary>The receive ring an environment gives NicAttach: one header page, then Slots
    /// buffers of NicLimits.SlotBytes, all in pages of its own (or granted to it writable), which
    /// the kernel pins while the ring is attached. The kernel is the producer: it copies a frame
    /// its filters gave this environment into slot Produced % Slots, writes its length, then
    /// increments Produced. The environment is the consumer: it reads slots up to Produced and
    /// then sets Consumed. A frame that finds the ring full (Produced - Consumed == Slots) is
    /// dropped and counted in Dropped (and in the environment page's NetDropped): a libOS that
    /// stops reading loses only its own frames. The kernel keeps its own copy of Produced and
    /// never trusts the page's: a Consumed beyond Produced counts as a full ring.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct NicRingHeader
    {
        /// <summary>Kernel: frames written into the ring so far (wraps at 2^32).</summary>
        public uint Produced;
        /// <summary>Environment: frames it is done with (their slots may be reused).</summary>
        public uint Consumed;
        /// <summary>Kernel, at attach: the ring's slots.</summary>
        public uint Slots;
        /// <summary>Kernel: frames of this environment's that NicSend queued and the device has
        /// finished with, in the order sent (wraps at 2^32): a libOS may reuse a send buffer once
        /// this count passes it.</summary>
        public uint SendsDone;
        /// <summary>Kernel: frames dropped because the ring was full.</summary>
        public ulong Dropped;
        /// <summary>Kernel: of SendsDone, frames the device reported as not sent.</summary>
        public ulong SendErrors;
        public ulong Reserved0, Reserved1, Reserved2, Reserved3;

        /// <summary>Where, from the header's start, the kernel writes each slot's frame length (a
        /// ushort per slot, Slots of them); the header itself is 64 bytes.</summary>
        public const int LengthsOffset = 64;

        /// <summary>The length of the frame in 'slot' (the header must be the ring's page).</summary>
        public static ushort* Lengths(NicRingHeader* header) => (ushort*)((byte*)header + LengthsOffset);
    }

    /// <summary>One frame for NicSend (16 bytes): the frame's bytes at the user address Frame,
    /// mapped readable and the caller's own frames or granted to it. The frame's source MAC (bytes
    /// 6..11) must be the NIC's. Length's bits 0..31 are the frame's bytes
    /// (NicLimits.MinimumFrameBytes..NetworkLimits.MaximumFrameBytes); bits 32..47 a segment size
    /// (0: the frame goes as it is).
    ///
    /// A segment size asks the device to cut the frame into TCP segments (only when NicInfo's
    /// Offloads has NicOffloads.TcpSegmentation): the frame is one IPv4 datagram (EtherType
    /// 0x0800, no options beyond its header length, not a fragment) carrying a TCP segment with
    /// more payload than the segment size, at most NicLimits.MaximumSegmentedFrameBytes in all; the
    /// segment size is NicLimits.MinimumSegmentSize..(1,500 less the IP and TCP headers). The
    /// device sends the payload in pieces of that size, each behind a copy of the headers with its
    /// own IP total length, identification (the first's plus its index), sequence number and both
    /// checksums; PSH and FIN stay on the last piece only. The sender leaves 0 in the IP checksum
    /// and the TCP pseudo-header's sum without the length (folded, not complemented) in the TCP
    /// checksum. A frame that breaks these rules is refused with InvalidArgument.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct NicSendRequest
    {
        public ulong Frame;
        public ulong Length;

        /// <summary>Where Length keeps the segment size.</summary>
        public const int SegmentSizeShift = 32;
    }

    /// <summary>What NicInfo writes (104 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct NicInfo
    {
        /// <summary>The MAC address: byte i (wire order) in bits 8i..8i+7.</summary>
        public ulong MacAddress;
        /// <summary>NetworkController.</summary>
        public ulong Controller;
        /// <summary>1 when the link is up.</summary>
        public ulong LinkUp;
        /// <summary>The PCI address (bus &lt;&lt; 8 | device &lt;&lt; 3 | function).</summary>
        public ulong PciAddress;
        /// <summary>Frames the device received, and of those, frames no filter claimed.</summary>
        public ulong Received, Unclaimed;
        /// <summary>Frames sent; frames the device dropped for want of a buffer; errors.</summary>
        public ulong Sent, DeviceDropped, Errors;
        /// <summary>Filters installed (all environments).</summary>
        public ulong Filters;
        /// <summary>The capability's port range (0 and 65535 when unrestricted).</summary>
        public ulong LowPort, HighPort;
        /// <summary>NicOffloads: what NicSend can ask of this device.</summary>
        public ulong Offloads;
        /// <summary>Times the kernel's idle loop, watching the receive ring (the kernel argument
        /// nicwatch), found frames there and delivered them (every frame then in the ring) before
        /// the device's interrupt.</summary>
        public ulong Watched;
    }
}
