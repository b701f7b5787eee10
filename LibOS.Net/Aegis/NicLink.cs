// The binding of LibOS.Net to the kernel's network calls (issue #12; docs/abi.md "Networks",
// docs/network.md "On Aegis"): a receive ring of this environment's own pages attached to the NIC,
// packet filters that claim this stack's frames, and a pool of send buffers the device reads by
// DMA. The protocol code never sees any of it: it gets frames through Deliver and sends through
// IFrameLink.TrySend.
//
// Invariants: the ring is attached from Open until Close; _consumed is the count of frames handed
// to the stack, written back to the header's Consumed after each batch; send buffer n % Buffers
// is free again once the header's SendsDone has passed n (the kernel counts finished sends in the
// order they were queued).
using System;
using Aegis.Abi;

namespace Aegis.LibOS.Net.Aegis
{
    public sealed unsafe class NicLink : IFrameLink
    {
        private const ulong PageSize = 4096;

        private readonly ulong _nic;
        private readonly NicRingHeader* _ring;
        private readonly byte* _slots;
        private readonly byte* _sendBuffers;
        private readonly int _sendBufferCount;
        private readonly NicSendRequest* _request;
        private uint _sendsQueued;
        // Segmented sends (the card cuts TCP segments, NicOffloads.TcpSegmentation): LargeBuffers
        // buffers of LargeBufferBytes, taken in turn; buffer b is free again once SendsDone has
        // passed _largeUse[b], the number of the send that last used it (-1: never).
        public const int LargeBuffers = 4;
        public const int LargeBufferBytes = 17 * 4096;
        private readonly byte* _largeBuffers;
        private readonly long[] _largeUse;
        private int _largeNext;

        public MacAddress Mac { get; }
        public uint RingSlots { get; }
        /// <summary>Frames TrySend could not queue (the device busy for too long, or refused).</summary>
        public ulong SendFailures { get; private set; }
        /// <summary>Frames given to NicSend, and the TSC ticks those calls took (instructions under -icount).</summary>
        public ulong Sends { get; private set; }
        public ulong SendWork { get; private set; }
        /// <summary>Why Open failed (null when it did not).</summary>
        public static string LastError { get; private set; }

        private NicLink(ulong nic, MacAddress mac, NicRingHeader* ring, uint slots, byte* sendBuffers, int sendBufferCount, NicSendRequest* request, byte* largeBuffers)
        {
            _largeBuffers = largeBuffers;
            if (largeBuffers != null)
            {
                _largeUse = new long[LargeBuffers];
                for (int i = 0; i < LargeBuffers; i++) _largeUse[i] = -1;
            }
            _nic = nic;
            Mac = mac;
            _ring = ring;
            RingSlots = slots;
            _slots = (byte*)ring + PageSize;
            _sendBuffers = sendBuffers;
            _sendBufferCount = sendBufferCount;
            _request = request;
        }

        /// <summary>Attaches a ring of 'ringSlots' (a power of two, 2..256) and makes 'sendBuffers'
        /// (a power of two, at most NicLimits.MaximumSendsInFlight) send buffers, all in fresh pages
        /// of this environment. Null when the NIC capability, memory or the kernel refuse
        /// (LastError says why).</summary>
        public static NicLink Open(ulong nicSlot = CapabilitySlots.Nic, uint ringSlots = 256, int sendBuffers = 64)
        {
            LastError = null;
            int ringPages = 1 + (int)(ringSlots * NicLimits.SlotBytes / PageSize);
            int sendPages = (sendBuffers * NicLimits.SlotBytes + (int)PageSize - 1) / (int)PageSize + 1; // + a page for the request
            ulong ring = AddressSpace.Reserve(ringPages), send = AddressSpace.Reserve(sendPages);
            if (ring == 0 || send == 0) { LastError = "no address space"; return null; }
            Error error = Memory.AllocateAndMap(ring, ringPages, PageBits.Writable);
            if (error == Error.None) error = Memory.AllocateAndMap(send, sendPages, PageBits.Writable);
            if (error != Error.None) { LastError = "memory: " + Errors.Name(error); return null; }
            NicInfo info;
            error = SystemCalls.NicInfo(nicSlot, &info);
            if (error != Error.None) { LastError = "NicInfo: " + Errors.Name(error); return null; }
            error = SystemCalls.NicAttach(nicSlot, ring, ringSlots);
            if (error != Error.None) { LastError = "NicAttach: " + Errors.Name(error); return null; }
            ulong wire = 0;
            for (int i = 0; i < 6; i++) wire = wire << 8 | ((info.MacAddress >> (8 * i)) & 0xFF);
            // The card cuts TCP segments: buffers for the large frames (a link without them cuts
            // its own; so does one whose memory is short: not an error).
            byte* large = null;
            if ((info.Offloads & NicOffloads.TcpSegmentation) != 0)
            {
                int largePages = LargeBuffers * LargeBufferBytes / (int)PageSize;
                ulong at = AddressSpace.Reserve(largePages);
                if (at != 0 && Memory.AllocateAndMap(at, largePages, PageBits.Writable) == Error.None) large = (byte*)at;
            }
            return new NicLink(nicSlot, new MacAddress(wire), (NicRingHeader*)ring, ringSlots,
                (byte*)send + PageSize, sendBuffers, (NicSendRequest*)send, large);
        }

        // ---- filters

        /// <summary>Installs a filter; its id, or the error (with the FilterError in 'reason').</summary>
        public Error InstallFilter(ReadOnlySpan<FilterAtom> atoms, out int id, out FilterError reason)
        {
            id = -1;
            fixed (FilterAtom* a = atoms)
            {
                SystemCallResult result = SystemCalls.NicFilterInstall(_nic, a, (ulong)atoms.Length, out _);
                reason = result.IsError ? (FilterError)result.Second : FilterError.None;
                if (result.IsError) return result.Error;
                id = (int)result.Value;
                return Error.None;
            }
        }

        public Error RemoveFilter(int id) => SystemCalls.NicFilterRemove(_nic, (ulong)id);

        public static FilterAtom Atom(FilterBase b, int width, int offset, uint value)
            => new FilterAtom { Base = (byte)b, Width = (byte)width, Offset = (ushort)offset, Mask = width == 4 ? 0xFFFFFFFF : width == 2 ? 0xFFFFu : 0xFFu, Value = value };

        /// <summary>ARP frames whose target address is 'address' (requests for it, replies to it).</summary>
        public Error ClaimArpFor(Ipv4Address address, out int id)
        {
            FilterAtom* atoms = stackalloc FilterAtom[2];
            atoms[0] = Atom(FilterBase.Frame, 2, 12, Ethernet.TypeArp);
            atoms[1] = Atom(FilterBase.Frame, 4, 38, address.Value);
            return InstallFilter(new ReadOnlySpan<FilterAtom>(atoms, 2), out id, out _);
        }

        /// <summary>Every IPv4 datagram to 'address' (Any: every IPv4 frame, e.g. before DHCP).</summary>
        public Error ClaimIpv4To(Ipv4Address address, out int id)
        {
            FilterAtom* atoms = stackalloc FilterAtom[2];
            atoms[0] = Atom(FilterBase.Frame, 2, 12, Ethernet.TypeIpv4);
            atoms[1] = Atom(FilterBase.Frame, 4, 30, address.Value);
            return InstallFilter(new ReadOnlySpan<FilterAtom>(atoms, address.IsAny ? 1 : 2), out id, out _);
        }

        /// <summary>IPv4 'protocol' (6 TCP, 17 UDP) datagrams to destination port 'port' — what a
        /// restricted Nic capability allows.</summary>
        public Error ClaimPort(byte protocol, ushort port, out int id)
        {
            FilterAtom* atoms = stackalloc FilterAtom[3];
            atoms[0] = Atom(FilterBase.Frame, 2, 12, Ethernet.TypeIpv4);
            atoms[1] = Atom(FilterBase.Frame, 1, 23, protocol);
            atoms[2] = Atom(FilterBase.Transport, 2, 2, port);
            return InstallFilter(new ReadOnlySpan<FilterAtom>(atoms, 3), out id, out _);
        }

        /// <summary>Gives 'environment' (which must have a ring attached) the frames of one TCP
        /// connection: IPv4, protocol 6, from remote:remotePort to local:localPort (six atoms, so it
        /// wins them over a claim of the address; docs/network-filters.md, "Giving frames away").
        /// The filter's id (ours to take back with RemoveFilter), or the error with its reason.</summary>
        public Error GiveConnection(ulong environment, Ipv4Address local, int localPort, Ipv4Address remote, int remotePort, out int id, out FilterError reason)
        {
            id = -1;
            FilterAtom* atoms = stackalloc FilterAtom[6];
            atoms[0] = Atom(FilterBase.Frame, 2, 12, Ethernet.TypeIpv4);
            atoms[1] = Atom(FilterBase.Frame, 1, 23, 6);
            atoms[2] = Atom(FilterBase.Frame, 4, 26, remote.Value);
            atoms[3] = Atom(FilterBase.Frame, 4, 30, local.Value);
            atoms[4] = Atom(FilterBase.Transport, 2, 0, (uint)remotePort);
            atoms[5] = Atom(FilterBase.Transport, 2, 2, (uint)localPort);
            SystemCallResult result = SystemCalls.NicFilterDelegate(_nic, atoms, 6, environment, out _);
            reason = result.IsError ? (FilterError)result.Second : FilterError.None;
            if (result.IsError) return result.Error;
            id = (int)result.Value;
            return Error.None;
        }

        /// <summary>Gives 'environment' (which must have a ring attached) every TCP frame to
        /// local:localPort: IPv4, protocol 6, the destination address and port (four atoms: it wins
        /// them over a claim of the address, and loses a connection's frames to a six-atom gift;
        /// docs/libos-unixish.md, "The listener in the process"). The filter's id, or the error.</summary>
        public Error GivePort(ulong environment, Ipv4Address local, int localPort, out int id, out FilterError reason)
        {
            id = -1;
            FilterAtom* atoms = stackalloc FilterAtom[4];
            atoms[0] = Atom(FilterBase.Frame, 2, 12, Ethernet.TypeIpv4);
            atoms[1] = Atom(FilterBase.Frame, 1, 23, 6);
            atoms[2] = Atom(FilterBase.Frame, 4, 30, local.Value);
            atoms[3] = Atom(FilterBase.Transport, 2, 2, (uint)localPort);
            SystemCallResult result = SystemCalls.NicFilterDelegate(_nic, atoms, 4, environment, out _);
            reason = result.IsError ? (FilterError)result.Second : FilterError.None;
            if (result.IsError) return result.Error;
            id = (int)result.Value;
            return Error.None;
        }

        // ---- receive

        /// <summary>Frames in the ring not yet handed to the stack.</summary>
        public bool HasFrames => _ring->Produced != _ring->Consumed;

        /// <summary>Hands every frame in the ring to 'stack', then gives their slots back. Returns how many.</summary>
        public int Deliver(NetStack stack, long nowMicros)
        {
            uint produced = _ring->Produced, consumed = _ring->Consumed;
            int count = 0;
            ushort* lengths = NicRingHeader.Lengths(_ring);
            ReadOnlySpan<byte> frame = consumed != produced ? Frame(consumed, lengths) : default;
            for (; consumed != produced; consumed++, count++)
            {
                // Each frame with the one after it: the stack may let the later stand for it
                // (merged ACKs, docs/network.md).
                ReadOnlySpan<byte> next = consumed + 1 != produced ? Frame(consumed + 1, lengths) : default;
                stack.Receive(frame, nowMicros, next);
                frame = next;
            }
            _ring->Consumed = consumed;
            return count;
        }

        private ReadOnlySpan<byte> Frame(uint index, ushort* lengths)
        {
            uint slot = index & (RingSlots - 1);
            int length = lengths[slot];
            if (length > NicLimits.SlotBytes) length = NicLimits.SlotBytes;
            return new ReadOnlySpan<byte>(_slots + slot * NicLimits.SlotBytes, length);
        }

        /// <summary>Frames the kernel dropped because the ring was full.</summary>
        public ulong RingDrops => _ring->Dropped;

        /// <summary>The kernel's counters for this link's card (NicInfo), or false.</summary>
        public bool TryInfo(out NicInfo info)
        {
            NicInfo result;
            Error error = SystemCalls.NicInfo(_nic, &result);
            info = result;
            return error == Error.None;
        }

        // ---- send

        /// <summary>How long TrySend waits for a send buffer or room on the card before it gives
        /// the frame up (counted in SendFailures; TCP sends it again).</summary>
        public const long SendWaitMicros = 100_000;

        public bool TrySend(ReadOnlySpan<byte> frame)
        {
            if (frame.Length < NicLimits.MinimumFrameBytes || frame.Length > NetworkLimits.MaximumFrameBytes) { SendFailures++; return false; }
            // A free buffer: the kernel finished the send that last used it. The wait is bounded in
            // time, not in tries (a device's completions may wait for the kernel's next tick, and
            // a busy host makes a thousand yields shorter than a tick): a frame is given up only
            // when the card has sent nothing for SendWaitMicros.
            long giveUp = 0;
            while (_sendsQueued - _ring->SendsDone >= (uint)_sendBufferCount)
            {
                long now = Time.Microseconds;
                if (giveUp == 0) giveUp = now + SendWaitMicros;
                else if (now >= giveUp) { SendFailures++; return false; }
                SystemCalls.Yield();
            }
            byte* buffer = _sendBuffers + (_sendsQueued & (uint)(_sendBufferCount - 1)) * NicLimits.SlotBytes;
            frame.CopyTo(new Span<byte>(buffer, frame.Length));
            _request->Frame = (ulong)buffer;
            _request->Length = (ulong)frame.Length;
            return Queue();
        }

        /// <summary>Frames the card cut into segments (TrySendSegmented).</summary>
        public ulong SegmentedSends { get; private set; }

        public int SegmentedFrameBytes => _largeBuffers == null ? 0 : NicLimits.MaximumSegmentedFrameBytes;

        public bool TrySendSegmented(ReadOnlySpan<byte> frame, int segmentSize)
        {
            if (_largeBuffers == null || frame.Length > NicLimits.MaximumSegmentedFrameBytes || segmentSize <= 0 || segmentSize > 0xFFFF
                || !WaitForLargeBuffer())
            {
                SendFailures++;
                return false;
            }
            int b = _largeNext & (LargeBuffers - 1);
            byte* buffer = _largeBuffers + b * LargeBufferBytes;
            fixed (byte* given = frame)
                if (given != buffer) frame.CopyTo(new Span<byte>(buffer, frame.Length)); // not built in place (SegmentedBuffer)
            _request->Frame = (ulong)buffer;
            _request->Length = (ulong)(uint)frame.Length | (ulong)(uint)segmentSize << NicSendRequest.SegmentSizeShift;
            if (!Queue()) return false;
            _largeUse[b] = _sendsQueued - 1;
            _largeNext++;
            SegmentedSends++;
            return true;
        }

        public Span<byte> SegmentedBuffer()
        {
            if (_largeBuffers == null || !WaitForLargeBuffer()) return default;
            return new Span<byte>(_largeBuffers + (_largeNext & (LargeBuffers - 1)) * LargeBufferBytes, NicLimits.MaximumSegmentedFrameBytes);
        }

        /// <summary>Waits (up to SendWaitMicros) until the next large buffer is free (sends finish
        /// in the order queued: the one that last used it is done) and a send may be queued
        /// (below MaximumSendsInFlight ahead). False: it did not come free.</summary>
        private bool WaitForLargeBuffer()
        {
            int b = _largeNext & (LargeBuffers - 1);
            long giveUp = 0;
            while ((_largeUse[b] >= 0 && (int)(_ring->SendsDone - (uint)_largeUse[b]) <= 0)
                   || _sendsQueued - _ring->SendsDone >= (uint)_sendBufferCount)
            {
                long now = Time.Microseconds;
                if (giveUp == 0) giveUp = now + SendWaitMicros;
                else if (now >= giveUp) return false;
                SystemCalls.Yield();
            }
            return true;
        }

        /// <summary>NicSend of _request, waiting up to SendWaitMicros while the card is busy; counts it.</summary>
        private bool Queue()
        {
            ulong before = Time.Timestamp;
            SystemCallResult result = SystemCalls.NicSend(_nic, _request, 1);
            SendWork += Time.Timestamp - before;
            Sends++;
            long stop = 0;
            while (result.Error == Error.WouldBlock)
            {
                long now = Time.Microseconds;
                if (stop == 0) stop = now + SendWaitMicros;
                else if (now >= stop) break;
                SystemCalls.Yield();
                result = SystemCalls.NicSend(_nic, _request, 1);
            }
            if (result.IsError) { SendFailures++; return false; }
            _sendsQueued++;
            return true;
        }

        // ---- waiting

        /// <summary>Sleeps until a frame arrives or 'deadlineMicros' (Time.Microseconds' clock) passes.</summary>
        public void WaitUntil(long deadlineMicros)
        {
            if (HasFrames) return;
            long now = Time.Microseconds;
            if (deadlineMicros <= now) return;
            SystemCalls.WaitUntil(Time.DeadlineAfter(deadlineMicros - now));
        }

        /// <summary>Detaches the ring (its filters stay until removed or this environment ends).</summary>
        public void Close() => SystemCalls.NicAttach(_nic, 0, 0);
    }

    /// <summary>The usual loop of a network libOS on Aegis: frames into the stack, its timers,
    /// then sleep until the next frame or timer (at most 'idleMicros').</summary>
    public static class NetLoop
    {
        /// <summary>One round; returns the frames delivered.</summary>
        public static int Step(NicLink link, NetStack stack, long idleMicros = 100_000)
        {
            long now = Time.Microseconds;
            int frames = link.Deliver(stack, now);
            stack.Poll(now);
            if (frames == 0)
            {
                long deadline = stack.NextDeadlineMicros;
                long latest = now + idleMicros;
                link.WaitUntil(deadline < latest ? deadline : latest);
            }
            return frames;
        }
    }
}
