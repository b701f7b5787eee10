// virtio-blk through the legacy (transitional) PCI interface: I/O BAR 0, one virtqueue (issue #11;
// virtio 1.x spec, "Legacy Interface" and "Block Device"). Mechanism only: it puts descriptor
// chains on the queue and takes finished ones off; which environment a request is for, and
// whether it may make it, is Exo/BlockDevices.cs's business.
//
// Memory: the virtqueue (descriptors, available ring, used ring in the legacy layout) and one
// 32-byte header-and-status record per request slot, in frames taken contiguously at boot, never
// freed. A request is a chain: its 16-byte header (device-readable), its data (one descriptor a
// piece, device-writable for a read), its status byte (device-writable). Free descriptors form a
// list through their Next fields; a chain's head maps back to its slot.
// Invariants: FreeDescriptors counts the list; a chain's head is on no list until TakeCompleted
// hands it back and Release puts the chain back; the device sees an available-ring entry only
// after its descriptors are written (the index is written last, in a method never inlined).
using System;
using System.Runtime.CompilerServices;
using Aegis.Abi;

namespace Aegis.Kernel.Hal
{
    internal sealed unsafe class VirtioBlock : IBlockController
    {
        // Legacy register offsets from BAR 0.
        private const ushort RegDeviceFeatures = 0x00, RegGuestFeatures = 0x04, RegQueueAddress = 0x08,
            RegQueueSize = 0x0C, RegQueueSelect = 0x0E, RegQueueNotify = 0x10, RegStatus = 0x12, RegIsr = 0x13,
            RegConfig = 0x14; // without MSI-X enabled (the kernel never enables it)
        private const byte StatusAcknowledge = 1, StatusDriver = 2, StatusDriverOk = 4, StatusFailed = 128;
        private const uint FeatureFlush = 1u << 9;
        private const ushort DescriptorNext = 1, DescriptorWrite = 2;
        private const uint TypeIn = 0, TypeOut = 1, TypeFlush = 4;
        private const int MaximumQueue = 256;

        [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
        private struct Descriptor
        {
            public ulong Address;
            public uint Length;
            public ushort Flags;
            public ushort Next;
        }

        private readonly ushort _io;
        private int _size;
        private Descriptor* _descriptors;
        private ushort* _available; // flags, index, ring[size]
        private ushort* _used;      // flags, index, then (uint id, uint length)[size]
        private ushort _freeHead;
        private ushort _lastUsed;

        public ulong Sectors { get; private set; }
        public bool HasFlush { get; private set; }
        public int FreeDescriptors { get; private set; }
        public BlockController Kind => BlockController.VirtioBlock;
        public string Name => "virtio-blk";

        // Per slot: header (type, reserved, sector) at +0, status byte at +16; 32 bytes a slot.
        private ulong _recordsPhysical;
        private byte* _records;
        private readonly int[] _slotOfHead = new int[MaximumQueue];

        private VirtioBlock(ushort io) { _io = io; }

        /// <summary>Resets and sets up the device at I/O port base io; null (and why) when it will not.
        /// Boot only: takes contiguous frames for the queue.</summary>
        public static VirtioBlock TryStart(ushort io, out string problem)
        {
            var device = new VirtioBlock(io);
            problem = device.Start();
            return problem == null ? device : null;
        }

        private string Start()
        {
            Cpu.OutByte((ushort)(_io + RegStatus), 0); // reset
            Cpu.OutByte((ushort)(_io + RegStatus), StatusAcknowledge);
            Cpu.OutByte((ushort)(_io + RegStatus), StatusAcknowledge | StatusDriver);
            uint offered = Cpu.InDword((ushort)(_io + RegDeviceFeatures));
            uint accepted = offered & FeatureFlush;
            Cpu.OutDword((ushort)(_io + RegGuestFeatures), accepted);
            HasFlush = (accepted & FeatureFlush) != 0;
            Cpu.OutWord((ushort)(_io + RegQueueSelect), 0);
            int size = Cpu.InWord((ushort)(_io + RegQueueSize));
            if (size == 0 || size > 32768 || (size & (size - 1)) != 0) return Fail("queue 0 has size " + size.ToString());
            if (size > MaximumQueue) return Fail("queue 0 has " + size.ToString() + " entries (the driver takes at most " + MaximumQueue.ToString() + ")");
            _size = size;
            ulong availableEnd = (ulong)(16 * size + 6 + 2 * size);
            ulong usedOffset = (availableEnd + 4095) & ~4095UL;
            ulong bytes = usedOffset + (ulong)(6 + 8 * size);
            ulong pages = (bytes + 4095) / 4096;
            if (!KernelMemory.Frames.TryAllocateContiguous(pages, out ulong first))
                return Fail("no contiguous memory for the queue");
            byte* ring = (byte*)KernelMemory.PhysicalToVirtual(first * 4096);
            for (ulong p = 0; p < pages; p++) Cpu.ZeroPage(ring + p * 4096);
            _descriptors = (Descriptor*)ring;
            _available = (ushort*)(ring + 16 * size);
            _used = (ushort*)(ring + usedOffset);
            for (int i = 0; i < size; i++) _descriptors[i].Next = (ushort)(i + 1);
            _freeHead = 0;
            FreeDescriptors = size;
            Cpu.OutDword((ushort)(_io + RegQueueAddress), (uint)first);
            Sectors = (ulong)Cpu.InDword((ushort)(_io + RegConfig)) | ((ulong)Cpu.InDword((ushort)(_io + RegConfig + 4)) << 32);
            ulong recordPages = ((ulong)(BlockLimits.MaximumRequests + 1) * 32 + 4095) / 4096;
            if (!KernelMemory.Frames.TryAllocateContiguous(recordPages, out ulong records))
                return Fail("no memory for the request headers");
            _recordsPhysical = records * 4096;
            _records = (byte*)KernelMemory.PhysicalToVirtual(_recordsPhysical);
            for (ulong p = 0; p < recordPages; p++) Cpu.ZeroPage(_records + p * 4096);
            for (int i = 0; i < MaximumQueue; i++) _slotOfHead[i] = -1;
            Cpu.OutByte((ushort)(_io + RegStatus), StatusAcknowledge | StatusDriver | StatusDriverOk);
            return null;
        }

        private string Fail(string problem)
        {
            Cpu.OutByte((ushort)(_io + RegStatus), StatusFailed);
            return problem;
        }

        public bool TryStart(int slot, BlockOperation operation, ulong sector, ulong* physical, uint* lengths, int count)
        {
            byte* record = _records + slot * 32;
            *(uint*)record = operation == BlockOperation.Read ? TypeIn : operation == BlockOperation.Write ? TypeOut : TypeFlush;
            *(uint*)(record + 4) = 0;
            *(ulong*)(record + 8) = operation == BlockOperation.Flush ? 0 : sector;
            record[16] = 0xFF;
            ulong recordPhysical = _recordsPhysical + (ulong)slot * 32;
            if (!TrySubmit(recordPhysical, physical, lengths, count, operation == BlockOperation.Read, recordPhysical + 16, out ushort head))
                return false;
            _slotOfHead[head] = slot;
            return true;
        }

        /// <summary>Puts a chain on the queue: header (16 bytes at headerPhysical, device-readable),
        /// the data (count pieces: physical address and length; device-writable when deviceWrites),
        /// the status byte at statusPhysical. False when fewer than count + 2 descriptors are free.</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private bool TrySubmit(ulong headerPhysical, ulong* dataPhysical, uint* dataLength, int count, bool deviceWrites,
            ulong statusPhysical, out ushort head)
        {
            head = 0;
            if (FreeDescriptors < count + 2) return false;
            head = _freeHead;
            ushort index = head;
            Descriptor* d = &_descriptors[index];
            d->Address = headerPhysical; d->Length = 16; d->Flags = DescriptorNext;
            for (int i = 0; i < count; i++)
            {
                index = d->Next;
                d = &_descriptors[index];
                d->Address = dataPhysical[i]; d->Length = dataLength[i];
                d->Flags = (ushort)(DescriptorNext | (deviceWrites ? DescriptorWrite : 0));
            }
            index = d->Next;
            d = &_descriptors[index];
            d->Address = statusPhysical; d->Length = 1; d->Flags = DescriptorWrite;
            _freeHead = d->Next;
            FreeDescriptors -= count + 2;
            ushort availableIndex = _available[1];
            _available[2 + (availableIndex & (_size - 1))] = head;
            _available[1] = (ushort)(availableIndex + 1); // after the entries: stores stay in order on x86, and this method is not inlined
            Cpu.OutWord((ushort)(_io + RegQueueNotify), 0);
            return true;
        }

        /// <summary>The next request the device finished: its slot and its status byte's verdict.</summary>
        public bool TryTakeCompleted(out int slot, out bool succeeded)
        {
            slot = -1; succeeded = false;
            while (TryTakeChain(out ushort head))
            {
                int owner = _slotOfHead[head];
                Release(head);
                if (owner < 0) continue; // not one of ours (a device gone wrong): the descriptors are back, nothing else to do
                _slotOfHead[head] = -1;
                slot = owner;
                succeeded = _records[owner * 32 + 16] == 0;
                return true;
            }
            return false;
        }

        /// <summary>The next chain the device finished, if any (its head).</summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private bool TryTakeChain(out ushort head)
        {
            head = 0;
            ushort usedIndex = _used[1]; // read afresh each call (not inlined into a caller's loop)
            if (usedIndex == _lastUsed) return false;
            uint* element = (uint*)(_used + 2) + 2 * (_lastUsed & (_size - 1));
            head = (ushort)element[0];
            _lastUsed++;
            return head < _size;
        }

        /// <summary>Gives a finished chain's descriptors back to the free list.</summary>
        private void Release(ushort head)
        {
            ushort index = head;
            int count = 1;
            while ((_descriptors[index].Flags & DescriptorNext) != 0 && count < _size)
            {
                index = _descriptors[index].Next;
                count++;
            }
            _descriptors[index].Next = _freeHead;
            _freeHead = head;
            FreeDescriptors += count;
        }

        /// <summary>Reads (and so clears) the interrupt status: bit 0 the queue, bit 1 configuration.</summary>
        public void AcknowledgeInterrupt() => Cpu.InByte((ushort)(_io + RegIsr));
    }
}
