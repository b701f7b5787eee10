// Network interface controllers (issue #12): what the kernel's NIC drivers are and the frames
// they move. The kernel drives the hardware and multiplexes it (Exo/NetworkDevices.cs); what a
// frame means (ARP, IP, TCP) is the libOS's business. docs/kernel.md, "Network devices".
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
        /// <summary>virtio-net (no driver yet).</summary>
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
    }
}
