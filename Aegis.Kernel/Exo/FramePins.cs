// Frames a device may be reading or writing by DMA (issue #11's block requests, issue #12's
// receive rings and frames being sent): while a frame is pinned it is never returned to the
// frame pool, whatever its owner does (FrameFree, revocation, its end) — a free while pinned is
// remembered and the last Unpin returns it. So no device ever touches a frame somebody else was
// given. Also the one check that a user page may be handed to a device (CheckDmaPage).
//
// Invariants: s_pins[f] is the number of pins on frame f (block slots, ring pages, sends in
// flight each count one); s_freeWhenUnpinned[f] only while s_pins[f] > 0. Made once at boot
// (Initialize, by the first device that needs it); nothing here allocates afterwards.
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class FramePins
    {
        private static ushort[] s_pins;
        private static bool[] s_freeWhenUnpinned;

        /// <summary>Boot only, after Environments (the ledger's size); idempotent.</summary>
        public static void Initialize()
        {
            if (s_pins != null) return;
            ulong frames = Environments.Ledger.FrameLimit;
            s_pins = new ushort[frames];
            s_freeWhenUnpinned = new bool[frames];
        }

        public static void Pin(ulong frame) => s_pins[frame]++;

        public static void Unpin(ulong frame)
        {
            if (--s_pins[frame] != 0 || !s_freeWhenUnpinned[frame]) return;
            s_freeWhenUnpinned[frame] = false;
            KernelMemory.Frames.Free(frame);
        }

        /// <summary>True when the frame is pinned: it is not returned to the pool now but at its
        /// last Unpin. Every path that returns a user frame to the pool asks first
        /// (Environments.ReturnFrame).</summary>
        public static bool DeferFree(ulong frame)
        {
            if (s_pins == null || frame >= (ulong)s_pins.Length || s_pins[frame] == 0) return false;
            s_freeWhenUnpinned[frame] = true;
            return true;
        }

        public static bool IsPinned(ulong frame) => s_pins != null && frame < (ulong)s_pins.Length && s_pins[frame] != 0;

        /// <summary>The frame behind the caller's user page at 'address' if a device may use it: the
        /// page is mapped for the caller (writable when the device writes it) and its frame is RAM
        /// the caller owns or was granted (writable when the device writes it), never a device
        /// frame. BadAddress or NotOwner otherwise.</summary>
        public static Error CheckDmaPage(Environment caller, ulong address, bool deviceWrites, out ulong frame)
        {
            frame = 0;
            ulong* leaf = PageWalk.UserLeaf(caller, address, deviceWrites);
            if (leaf == null) return Error.BadAddress;
            frame = (*leaf & PageBits.FrameMask) >> PageBits.FrameShift;
            FrameLedger ledger = Environments.Ledger;
            if (frame >= ledger.FrameLimit || ledger.IsDevice(frame)) return Error.NotOwner;
            if (ledger.OwnerOf(frame) != caller.Id
                && (!ledger.IsGrantedTo(frame, caller.Id, out bool grantWritable) || (deviceWrites && !grantWritable)))
                return Error.NotOwner;
            return Error.None;
        }
    }
}
