// What Exo/NetworkDevices.cs (the multiplexer) needs of a network controller's driver (issue #12):
// mechanism only. The driver owns its device's memory — descriptor rings and a fixed set of
// receive buffers, physically contiguous, taken at boot and never freed — and moves frames; which
// environment a received frame is for, and whether a frame may be sent, is the multiplexer's.
//
// Receive: the device fills the kernel's receive buffers; TryTakeReceived hands out the next full
// one (the frame without its CRC), which then belongs to the caller until it gives it back with
// ReturnBuffer (in any order: the driver puts returned buffers back on the device's ring). A
// buffer the caller keeps is one the device cannot fill: when all are out, frames are dropped
// (counted in Dropped).
// Transmit: TrySend puts a frame whose memory the caller has checked and pinned on the device's
// ring, in pieces (physical address, length), under the caller's slot number; TryTakeSent says,
// in order, which slots the device no longer reads (their memory may be unpinned).
//
// Invariants (every driver): each receive buffer is on the device's ring, handed out, or waiting
// to go back on the ring, exactly one of them; a slot given to TrySend comes back from
// TryTakeSent exactly once. No method allocates: they run in interrupt handlers and on paths an
// environment drives. The caller serialises them (one CPU; an interrupt handler and a system call
// never run the same driver method at once because both run with interrupts off).
using Aegis.Abi;

namespace Aegis.Kernel.Hal
{
    internal unsafe interface INetworkController
    {
        /// <summary>"e1000 82540EM", "e1000e 82574L", "virtio-net".</summary>
        string Name { get; }
        NetworkController Kind { get; }

        /// <summary>The station address, 6 bytes: byte i (in the order sent on the wire) in bits
        /// 8i..8i+7; bits 48..63 are 0. The device receives frames sent to it and to broadcast.</summary>
        ulong MacAddress { get; }

        /// <summary>Whether the link is up, as the device said at its last interrupt (or at start).</summary>
        bool LinkUp { get; }

        /// <summary>Times the link went up or down since start.</summary>
        ulong LinkChanges { get; }

        // ---- receive

        /// <summary>Receive buffers the driver owns (numbered 0..ReceiveBuffers-1).</summary>
        int ReceiveBuffers { get; }

        /// <summary>Bytes of each receive buffer (a frame is at most NetworkLimits.MaximumFrameBytes).</summary>
        int ReceiveBufferBytes { get; }

        /// <summary>The next frame the device received, if any: its buffer's number, its length in
        /// bytes (without the CRC) and where it lies (kernel virtual address, through the direct
        /// map). The buffer is the caller's until ReturnBuffer; frames the device flagged as bad
        /// are skipped (counted in Errors).</summary>
        bool TryTakeReceived(out int buffer, out int length, out byte* data);

        /// <summary>Whether TryTakeReceived would find a frame now (a look at memory the device
        /// writes: no register is read, so it costs no exit in a virtual machine).</summary>
        bool HasReceived { get; }

        /// <summary>Gives a buffer TryTakeReceived handed out back to the device. A number that is
        /// not handed out is ignored.</summary>
        void ReturnBuffer(int buffer);

        // ---- transmit

        /// <summary>The most pieces one frame may have.</summary>
        int MaximumPieces { get; }

        /// <summary>Whether TrySend can cut an IPv4 TCP segment into segments (NicOffloads.TcpSegmentation).</summary>
        bool CanSegment { get; }

        /// <summary>Queues a frame of 'pieces' pieces (physical address and length each, in order)
        /// under slot number 'slot' (any value; TryTakeSent gives it back). The caller checked the
        /// frame: 1..MaximumPieces pieces, NicLimits.MinimumFrameBytes..NetworkLimits.MaximumFrameBytes bytes in
        /// all, none empty. False when the device's ring has no room for it now (try again after
        /// TryTakeSent); a frame that breaks the rules is not sent and comes back from TryTakeSent
        /// as not sent. With a segmentation (SegmentSize above 0; only when CanSegment) the frame
        /// is an IPv4 TCP segment of up to NicLimits.MaximumSegmentedFrameBytes whose headers the
        /// caller checked (NicSendRequest's rules): the device sends it in pieces.</summary>
        bool TrySend(int slot, ulong* physical, uint* lengths, int pieces, in Segmentation segmentation);

        /// <summary>The next frame, in the order sent, that the device no longer reads: its slot
        /// and whether it went out (false: refused by TrySend, or the device reported an error).</summary>
        bool TryTakeSent(out int slot, out bool sent);

        // ---- interrupts and counters

        /// <summary>Reads and clears the device's interrupt causes (notes a link change); true when
        /// there were any (on a shared line: whether the interrupt may have been this device's).</summary>
        bool AcknowledgeInterrupt();

        /// <summary>Frames handed out by TryTakeReceived since start.</summary>
        ulong Received { get; }
        /// <summary>Frames the device dropped because no receive buffer was free (its missed-packets
        /// count, read at each interrupt).</summary>
        ulong Dropped { get; }
        /// <summary>Frames the device sent (TryTakeSent with sent = true).</summary>
        ulong Sent { get; }
        /// <summary>Receive errors (frames skipped) and frames that were not sent.</summary>
        ulong Errors { get; }
    }

    /// <summary>How a device cuts a segmented send (NicSendRequest): payload bytes a segment
    /// (0: the frame goes as it is) and the header lengths the kernel read from the frame.</summary>
    internal readonly struct Segmentation
    {
        public readonly int SegmentSize, IpHeaderBytes, TcpHeaderBytes;

        public Segmentation(int segmentSize, int ipHeaderBytes, int tcpHeaderBytes)
        {
            SegmentSize = segmentSize;
            IpHeaderBytes = ipHeaderBytes;
            TcpHeaderBytes = tcpHeaderBytes;
        }

        public static Segmentation None => default;
        /// <summary>Ethernet, IP and TCP headers: what the device copies in front of each segment.</summary>
        public int HeaderBytes => 14 + IpHeaderBytes + TcpHeaderBytes;
    }

    /// <summary>How drivers and the kernel's lines write a network controller's values.</summary>
    internal static class NetworkControllerText
    {
        /// <summary>A MacAddress as "52:54:00:12:34:56".</summary>
        public static string Mac(ulong mac)
        {
            char[] text = new char[17];
            const string digits = "0123456789abcdef";
            for (int i = 0; i < 6; i++)
            {
                int b = (int)(mac >> (8 * i)) & 0xFF;
                text[3 * i] = digits[b >> 4];
                text[3 * i + 1] = digits[b & 0xF];
                if (i < 5) text[3 * i + 2] = ':';
            }
            return new string(text);
        }
    }
}
