// virtio-net through the legacy (transitional) PCI interface, 1af4:1000 (issue #12): QEMU's
// `virtio-net-pci` on a PCI bus, and the other hypervisors' transitional devices. Sources: the
// virtio 1.x specification, "Legacy Interface" (the I/O BAR 0 registers, the split virtqueue's
// legacy layout) and "Network Device" (features, configuration, virtio_net_hdr). Mechanism only,
// as Hal/E1000.cs: it moves frames between the device and memory; whose they are is
// Exo/NetworkDevices.cs's business.
//
// Features: only VIRTIO_NET_F_MAC (the station address in the configuration), VIRTIO_NET_F_STATUS
// (the link state, with a configuration-change interrupt) and VIRTIO_F_ANY_LAYOUT (the header and
// the frame in one receive descriptor) are taken, each when offered. No offloads, no mergeable
// receive buffers, no control queue, no event index, no indirect descriptors: the header is the
// legacy 10 bytes and always all zero on transmit; on receive it is skipped.
//
// Memory, contiguous frames taken at boot and never freed: each queue in the legacy layout
// (descriptors, available ring, then the used ring on the next page boundary) at the size the
// device offers; one 16-byte transmit header per transmit descriptor (the chain whose head is
// descriptor d uses header d); and the receive buffers, 2 KiB each — the header right before byte
// 16, the frame from byte 16 (2032 bytes of room: the longest frame, 1518, fits). Buffers: as
// many as the receive queue holds chains of (one descriptor each with ANY_LAYOUT, else two: header,
// frame), at most 256.
//
// Invariants:
//  - queues: a descriptor is on its queue's free list (FreeCount counts it) or in exactly one
//    chain the device owns or that the driver has taken back from the used ring and not yet freed;
//    the device sees an available-ring entry only after its descriptors are written, and the
//    available index only after the entry (x86 keeps stores in order; the index is written in a
//    method never inlined); the used index is read afresh at each look (a method never inlined);
//  - receive: each buffer is OnRing (in exactly one chain, _bufferOfHead maps its head to it),
//    HandedOut, or Free (_receive: ReceiveBuffers; only ever for the moment between ReturnBuffer or a skipped
//    frame and Refill, since the queue holds a chain for every buffer);
//  - transmit: _orderHead/_orderSlot hold, in the order TrySend took them, every frame not yet
//    reported by TryTakeSent: the head of its chain (-1 for a frame refused without reaching the
//    device; _refusedCount of them) and the caller's slot; a head's chain is freed only when
//    TryTakeSent reports it, so a head names one frame while it is listed; _headDone marks heads
//    the device has put on the used ring;
//  - every wait on the device is bounded; nothing after Start allocates.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aegis.Abi;

namespace Aegis.Kernel.Hal
{
    internal sealed unsafe class VirtioNet : INetworkController
    {
        // Legacy register offsets from BAR 0 (the device configuration at 0x14: MSI-X is never enabled).
        private const ushort RegDeviceFeatures = 0x00, RegGuestFeatures = 0x04, RegQueueAddress = 0x08,
            RegQueueSize = 0x0C, RegQueueSelect = 0x0E, RegQueueNotify = 0x10, RegStatus = 0x12, RegIsr = 0x13,
            RegConfig = 0x14;
        private const int ConfigMac = 0, ConfigStatus = 6;
        private const byte StatusAcknowledge = 1, StatusDriver = 2, StatusDriverOk = 4, StatusFailed = 128;
        private const uint FeatureMac = 1u << 5, FeatureStatus = 1u << 16, FeatureAnyLayout = 1u << 27;
        private const ushort LinkStatusUp = 1;
        private const byte IsrConfiguration = 2; // bit 0: a queue
        private const ushort DescriptorNext = 1, DescriptorWrite = 2;

        private const ushort ReceiveQueue = 0, TransmitQueue = 1;
        private const int MaximumQueueSize = 32768;    // the legacy interface's own limit
        private const int HeaderBytes = 10;            // struct virtio_net_hdr without num_buffers
        private const int TransmitHeaderStride = 16;
        private const int MaximumBufferCount = 256;
        private const int BufferBytes = 2048;
        private const int FrameOffset = 16;            // in a buffer; the header lies just before it
        private const int FrameRoom = BufferBytes - FrameOffset;
        private const int MaximumPiecesPerFrame = 16;
        private const int RefusedCapacity = 64;

        [StructLayout(LayoutKind.Sequential)]
        private struct Descriptor
        {
            public ulong Address;
            public uint Length;
            public ushort Flags;
            public ushort Next;
        }

        /// <summary>One split virtqueue in the legacy layout: its descriptors' free list, the
        /// available ring the driver fills, the used ring the device fills.</summary>
        private sealed class Queue
        {
            public readonly int Size;
            public readonly Descriptor* Descriptors;
            private readonly ushort* _available; // flags, index, ring[Size]
            private readonly ushort* _used;      // flags, index, then (uint id, uint length)[Size]
            private ushort _freeHead, _lastUsed;
            public int FreeCount;

            public Queue(int size, ulong physical, ulong usedOffset)
            {
                Size = size;
                byte* ring = (byte*)KernelMemory.PhysicalToVirtual(physical);
                Descriptors = (Descriptor*)ring;
                _available = (ushort*)(ring + 16 * size);
                _used = (ushort*)(ring + usedOffset);
                for (int i = 0; i < size; i++) Descriptors[i].Next = (ushort)(i + 1);
                _freeHead = 0;
                FreeCount = size;
            }

            /// <summary>Bytes of a legacy queue of 'size' entries, and where its used ring starts.</summary>
            public static ulong Bytes(int size, out ulong usedOffset)
            {
                ulong availableEnd = (ulong)(16 * size + 6 + 2 * size);
                usedOffset = (availableEnd + 4095) & ~4095UL;
                return usedOffset + (ulong)(6 + 8 * size);
            }

            /// <summary>Takes 'count' descriptors off the free list, linked in order (the caller
            /// fills in addresses, lengths and flags, keeping DescriptorNext on all but the last);
            /// the head's index. The caller checked FreeCount.</summary>
            public ushort TakeChain(int count, out ushort last)
            {
                ushort head = _freeHead, index = head;
                for (int i = 1; i < count; i++) index = Descriptors[index].Next;
                last = index;
                _freeHead = Descriptors[index].Next;
                FreeCount -= count;
                return head;
            }

            /// <summary>Offers the chain at 'head' to the device (no notification).</summary>
            [MethodImpl(MethodImplOptions.NoInlining)]
            public void Publish(ushort head)
            {
                ushort index = _available[1];
                _available[2 + (index & (Size - 1))] = head;
                _available[1] = (ushort)(index + 1); // after the entry: see the invariants
            }

            /// <summary>Whether the device has used a descriptor TryTakeUsed has not taken.</summary>
            public bool HasUsed
            {
                [MethodImpl(MethodImplOptions.NoInlining)] // read afresh at each call
                get => _used[1] != _lastUsed;
            }

            /// <summary>The next chain the device finished, if any: its head and the bytes it wrote.</summary>
            [MethodImpl(MethodImplOptions.NoInlining)]
            public bool TryTakeUsed(out ushort head, out uint length)
            {
                head = 0;
                length = 0;
                while (_used[1] != _lastUsed) // read afresh at each call: not inlined
                {
                    uint* element = (uint*)(_used + 2) + 2 * (_lastUsed & (Size - 1));
                    uint id = element[0];
                    length = element[1];
                    _lastUsed++;
                    if (id < (uint)Size)
                    {
                        head = (ushort)id;
                        return true;
                    }
                }
                return false;
            }

            /// <summary>Puts the chain at 'head' back on the free list.</summary>
            public void Free(ushort head)
            {
                ushort index = head;
                int count = 1;
                while ((Descriptors[index].Flags & DescriptorNext) != 0 && count < Size)
                {
                    index = Descriptors[index].Next;
                    count++;
                }
                Descriptors[index].Flags = 0;
                Descriptors[index].Next = _freeHead;
                _freeHead = head;
                FreeCount += count;
            }
        }


        private readonly ushort _io;
        private uint _features;
        private Queue _rx, _tx;

        private int _bufferCount, _descriptorsPerBuffer;
        private ulong _buffersPhysical;
        private byte* _buffers;
        private int[] _bufferOfHead;
        private ReceiveBuffers _receive;

        private ulong _headersPhysical;
        private byte* _headers;
        private bool[] _headDone;
        // Frames not yet reported, in the order sent (a circular list): the head of each one's
        // chain (-1: refused) and the caller's slot.
        private int[] _orderHead, _orderSlot;
        private int _orderFirst, _orderCount, _refusedCount;

        public string Name => "virtio-net";
        public NetworkController Kind => NetworkController.VirtioNet;
        public ulong MacAddress { get; private set; }
        public bool LinkUp { get; private set; }
        public ulong LinkChanges { get; private set; }
        public int ReceiveBuffers => _bufferCount;
        public int ReceiveBufferBytes => FrameRoom;
        public int MaximumPieces => MaximumPiecesPerFrame;
        public ulong Received { get; private set; }
        /// <summary>Always 0: a virtio-net device counts no frames it dropped for want of buffers.</summary>
        public ulong Dropped => 0;
        public ulong Sent { get; private set; }
        public ulong Errors { get; private set; }

        /// <summary>Whether the device offered, and the driver took, VIRTIO_NET_F_STATUS (else the link is always up).</summary>
        public bool HasLinkStatus => (_features & FeatureStatus) != 0;
        /// <summary>The receive and transmit queues' sizes, as the device offered them.</summary>
        public int ReceiveQueueSize => _rx.Size;
        public int TransmitQueueSize => _tx.Size;

        private VirtioNet(ushort io) { _io = io; }

        /// <summary>Resets and starts the device whose legacy registers are at I/O port base io; null
        /// (and why) when it will not. The caller has turned on I/O decoding and bus mastering. Boot
        /// only: takes contiguous frames and makes the driver's arrays.</summary>
        public static VirtioNet TryStart(ushort io, out string problem)
        {
            var device = new VirtioNet(io);
            problem = device.Start();
            return problem == null ? device : null;
        }

        private string Start()
        {
            // Reset (a boot-time driver may have left it running into memory that is now the
            // kernel's; writing 0 stops the queues), then ACKNOWLEDGE and DRIVER.
            Cpu.OutByte((ushort)(_io + RegStatus), 0);
            if (Cpu.InByte((ushort)(_io + RegStatus)) != 0) return Fail("it does not reset (status 0x" + Cpu.InByte((ushort)(_io + RegStatus)).ToString("x2") + ")");
            Cpu.OutByte((ushort)(_io + RegStatus), StatusAcknowledge);
            Cpu.OutByte((ushort)(_io + RegStatus), StatusAcknowledge | StatusDriver);
            uint offered = Cpu.InDword((ushort)(_io + RegDeviceFeatures));
            if ((offered & FeatureMac) == 0) return Fail("it offers no MAC address (features 0x" + offered.ToString("x8") + ")");
            _features = offered & (FeatureMac | FeatureStatus | FeatureAnyLayout);
            Cpu.OutDword((ushort)(_io + RegGuestFeatures), _features);

            ulong mac = 0;
            for (int i = 0; i < 6; i++) mac |= (ulong)Cpu.InByte((ushort)(_io + RegConfig + ConfigMac + i)) << (8 * i);
            if (mac == 0 || mac == 0xFFFFFFFFFFFF || (mac & 1) != 0) return Fail("its MAC address is not usable (" + NetworkControllerText.Mac(mac) + ")");
            MacAddress = mac;

            string problem = SetUpQueue(ReceiveQueue, out _rx);
            if (problem != null) return Fail(problem);
            problem = SetUpQueue(TransmitQueue, out _tx);
            if (problem != null) return Fail(problem);

            // Receive buffers: as many chains as the receive queue holds, at most 256.
            _descriptorsPerBuffer = (_features & FeatureAnyLayout) != 0 ? 1 : 2;
            _bufferCount = _rx.Size / _descriptorsPerBuffer;
            if (_bufferCount > MaximumBufferCount) _bufferCount = MaximumBufferCount;
            if (_bufferCount == 0) return Fail("its receive queue has " + _rx.Size.ToString() + " entry");
            ulong bufferPages = ((ulong)_bufferCount * BufferBytes + 4095) / 4096;
            if (!KernelMemory.Frames.TryAllocateContiguous(bufferPages, out ulong buffers))
                return Fail("no contiguous memory for its receive buffers (" + (bufferPages * 4).ToString() + " KiB)");
            _buffersPhysical = buffers * 4096;
            _buffers = (byte*)KernelMemory.PhysicalToVirtual(_buffersPhysical);
            for (ulong p = 0; p < bufferPages; p++) Cpu.ZeroPage(_buffers + p * 4096);
            _bufferOfHead = new int[_rx.Size];
            for (int i = 0; i < _rx.Size; i++) _bufferOfHead[i] = -1;
            _receive = new ReceiveBuffers(_bufferCount);

            // Transmit: a header per descriptor (all zero: no offloads), the bookkeeping per head.
            ulong headerPages = ((ulong)_tx.Size * TransmitHeaderStride + 4095) / 4096;
            if (!KernelMemory.Frames.TryAllocateContiguous(headerPages, out ulong headers))
                return Fail("no contiguous memory for its transmit headers");
            _headersPhysical = headers * 4096;
            _headers = (byte*)KernelMemory.PhysicalToVirtual(_headersPhysical);
            for (ulong p = 0; p < headerPages; p++) Cpu.ZeroPage(_headers + p * 4096);
            _headDone = new bool[_tx.Size];
            _orderHead = new int[_tx.Size + RefusedCapacity];
            _orderSlot = new int[_tx.Size + RefusedCapacity];

            LinkUp = !HasLinkStatus || (ReadConfigWord(ConfigStatus) & LinkStatusUp) != 0;
            Refill(notify: false);
            Cpu.OutByte((ushort)(_io + RegStatus), StatusAcknowledge | StatusDriver | StatusDriverOk);
            Cpu.OutWord((ushort)(_io + RegQueueNotify), ReceiveQueue);
            Cpu.InByte((ushort)(_io + RegIsr)); // nothing from before DRIVER_OK is news
            return null;
        }

        /// <summary>Selects queue 'index', takes memory for it at the size the device offers and
        /// gives the device its page number.</summary>
        private string SetUpQueue(ushort index, out Queue queue)
        {
            queue = null;
            Cpu.OutWord((ushort)(_io + RegQueueSelect), index);
            int size = Cpu.InWord((ushort)(_io + RegQueueSize));
            string name = index == ReceiveQueue ? "receive" : "transmit";
            if (size == 0 || size > MaximumQueueSize || (size & (size - 1)) != 0)
                return "its " + name + " queue has size " + size.ToString();
            if (index == TransmitQueue && size < MaximumPiecesPerFrame + 1)
                return "its transmit queue has " + size.ToString() + " entries (a frame takes up to " + (MaximumPiecesPerFrame + 1).ToString() + ")";
            if (Cpu.InDword((ushort)(_io + RegQueueAddress)) != 0) return "its " + name + " queue is in use after a reset";
            ulong bytes = Queue.Bytes(size, out ulong usedOffset);
            ulong pages = (bytes + 4095) / 4096;
            if (!KernelMemory.Frames.TryAllocateContiguous(pages, out ulong first))
                return "no contiguous memory for its " + name + " queue (" + (pages * 4).ToString() + " KiB)";
            if (first > uint.MaxValue) return "its " + name + " queue's memory lies above 16 TiB";
            byte* ring = (byte*)KernelMemory.PhysicalToVirtual(first * 4096);
            for (ulong p = 0; p < pages; p++) Cpu.ZeroPage(ring + p * 4096);
            queue = new Queue(size, first * 4096, usedOffset);
            Cpu.OutDword((ushort)(_io + RegQueueAddress), (uint)first);
            return null;
        }

        private string Fail(string problem)
        {
            Cpu.OutByte((ushort)(_io + RegStatus), StatusFailed);
            return problem;
        }

        private ushort ReadConfigWord(int offset) => Cpu.InWord((ushort)(_io + RegConfig + offset));

        // ---- receive

        public bool HasReceived => _rx.HasUsed;

        public bool TryTakeReceived(out int buffer, out int length, out byte* data)
        {
            while (_rx.TryTakeUsed(out ushort head, out uint written))
            {
                int b = _bufferOfHead[head];
                if (b < 0) continue; // not the head of a chain on the queue (a device gone wrong): ignored
                _bufferOfHead[head] = -1;
                _rx.Free(head);
                if (written <= HeaderBytes || written - HeaderBytes > NetworkLimits.MaximumFrameBytes)
                {
                    Errors++;
                    _receive.Discard(b);
                    Refill(notify: true);
                    continue;
                }
                _receive.HandOut(b);
                Received++;
                buffer = b;
                length = (int)written - HeaderBytes;
                data = _buffers + b * BufferBytes + FrameOffset;
                return true;
            }
            buffer = -1;
            length = 0;
            data = null;
            return false;
        }

        public void ReturnBuffer(int buffer)
        {
            if (!_receive.Return(buffer)) return;
            Refill(notify: true);
        }

        /// <summary>Offers every free buffer to the device (the queue has room for all of them) and
        /// notifies it once when there were any.</summary>
        private void Refill(bool notify)
        {
            bool any = false;
            while (_receive.AnyFree && _rx.FreeCount >= _descriptorsPerBuffer)
            {
                int b = _receive.TakeFree();
                ulong physical = _buffersPhysical + (ulong)(b * BufferBytes);
                ushort head = _rx.TakeChain(_descriptorsPerBuffer, out ushort last);
                Descriptor* d = &_rx.Descriptors[head];
                d->Address = physical + FrameOffset - HeaderBytes;
                if (_descriptorsPerBuffer == 1)
                {
                    d->Length = HeaderBytes + FrameRoom;
                    d->Flags = DescriptorWrite;
                }
                else
                {
                    d->Length = HeaderBytes;
                    d->Flags = DescriptorWrite | DescriptorNext;
                    Descriptor* frame = &_rx.Descriptors[last];
                    frame->Address = physical + FrameOffset;
                    frame->Length = FrameRoom;
                    frame->Flags = DescriptorWrite;
                }
                _bufferOfHead[head] = b;
                _rx.Publish(head);
                any = true;
            }
            if (any && notify) Cpu.OutWord((ushort)(_io + RegQueueNotify), ReceiveQueue);
        }

        // ---- transmit

        /// <summary>No offloads are negotiated (docs/network.md): a libOS cuts its own segments.</summary>
        public bool CanSegment => false;

        public bool TrySend(int slot, ulong* physical, uint* lengths, int pieces, in Segmentation segmentation)
        {
            ulong total = 0;
            bool valid = pieces >= 1 && pieces <= MaximumPiecesPerFrame && segmentation.SegmentSize == 0;
            for (int i = 0; valid && i < pieces; i++)
            {
                if (lengths[i] == 0) valid = false;
                total += lengths[i];
            }
            if (_orderCount == _orderHead.Length) return false;
            if (!valid || total < NicLimits.MinimumFrameBytes || total > NetworkLimits.MaximumFrameBytes)
            {
                if (_refusedCount == RefusedCapacity) return false;
                _refusedCount++;
                Enqueue(-1, slot);
                return true;
            }
            if (_tx.FreeCount < pieces + 1) return false;
            ushort head = _tx.TakeChain(pieces + 1, out _);
            ushort index = head;
            Descriptor* d = &_tx.Descriptors[index];
            d->Address = _headersPhysical + (ulong)head * TransmitHeaderStride; // all zero: no offloads
            d->Length = HeaderBytes;
            d->Flags = DescriptorNext;
            for (int i = 0; i < pieces; i++)
            {
                index = d->Next;
                d = &_tx.Descriptors[index];
                d->Address = physical[i];
                d->Length = lengths[i];
                d->Flags = i == pieces - 1 ? (ushort)0 : DescriptorNext;
            }
            _headDone[head] = false;
            Enqueue(head, slot);
            _tx.Publish(head);
            Cpu.OutWord((ushort)(_io + RegQueueNotify), TransmitQueue);
            return true;
        }

        private void Enqueue(int head, int slot)
        {
            int at = (_orderFirst + _orderCount) % _orderHead.Length;
            _orderHead[at] = head;
            _orderSlot[at] = slot;
            _orderCount++;
        }

        public bool TryTakeSent(out int slot, out bool sent)
        {
            while (_tx.TryTakeUsed(out ushort done, out _)) _headDone[done] = true;
            slot = -1;
            sent = false;
            if (_orderCount == 0) return false;
            int head = _orderHead[_orderFirst];
            if (head >= 0 && !_headDone[head]) return false;
            slot = _orderSlot[_orderFirst];
            _orderFirst = (_orderFirst + 1) % _orderHead.Length;
            _orderCount--;
            if (head < 0)
            {
                _refusedCount--;
                Errors++;
                return true;
            }
            _headDone[head] = false;
            _tx.Free((ushort)head);
            sent = true; // a virtio-net device reports no transmit errors
            Sent++;
            return true;
        }

        // ---- interrupts

        public bool AcknowledgeInterrupt()
        {
            byte isr = Cpu.InByte((ushort)(_io + RegIsr)); // reading clears it and lowers the line
            if (isr == 0 || isr == 0xFF) return false; // not ours; or the device is gone
            if ((isr & IsrConfiguration) != 0 && HasLinkStatus)
            {
                bool up = (ReadConfigWord(ConfigStatus) & LinkStatusUp) != 0;
                if (up != LinkUp)
                {
                    LinkUp = up;
                    LinkChanges++;
                }
            }
            return true;
        }
    }
}
