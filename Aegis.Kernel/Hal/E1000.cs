// Intel's gigabit Ethernet controllers as QEMU and VMware present them (issue #12): the 8254x
// family — 82540EM (8086:100e, QEMU's default `e1000`), 82545EM (8086:100f, `e1000-82545em`,
// VMware's e1000), 82544GC/EI (8086:100c, 100d, 1008: `e1000-82544gc`) — and the 82574L
// (8086:10d3, QEMU's and VMware's `e1000e`), which keeps the 8254x's legacy descriptors and
// registers. Sources: Intel's "PCI/PCI-X Family of Gigabit Ethernet Controllers Software
// Developer's Manual" (8254x; sections 3.2 receive and 3.3 transmit descriptors, 13 registers)
// and the 82574 GbE Controller datasheet (10 registers). Mechanism only: it moves frames between
// the wire and memory; whose they are is Exo/NetworkDevices.cs's business.
//
// Memory: the registers (BAR 0) through KernelMemory.MapDevice (uncached). Contiguous frames taken
// at boot, never freed: one page for the receive ring (256 legacy descriptors of 16 bytes), one
// for the transmit ring (256), and 128 pages for 256 receive buffers of 2 KiB (RCTL.BSIZE 2048;
// the longest frame, 1518 bytes with a VLAN tag plus its stripped CRC, fits one buffer). Descriptors and buffers
// are decoupled: a descriptor carries whichever free buffer was put on it, so buffers may come
// back in any order.
//
// Invariants:
//  - receive: the descriptors from _rxNext up to (not including) _rxTail are the device's or
//    done and not yet taken, at most RingSize - 1 of them (RDT == RDH means "none" to the device);
//    RDT is _rxTail. Each buffer is OnRing (on exactly one of those descriptors, _bufferAt),
//    HandedOut (TryTakeReceived gave it and ReturnBuffer has not), or Free (_receive: ReceiveBuffers);
//    returned buffers go back on the ring RefillBatch at a time (one RDT write each time), so
//    fewer than RefillBatch of them wait Free (the delivery returns each buffer right after copying);
//  - transmit: the descriptors from _txClean up to _txTail hold _txUsed pieces of frames the device
//    may still read, in order; a frame's first descriptor maps to its last (_txLast) and its last
//    to the caller's slot (_txSlot); TDT is _txTail; only a frame's last descriptor asks for a
//    status write-back (RS), so DD there means the whole frame is done;
//  - a descriptor is written before the tail register that gives it to the device (x86 keeps
//    stores in order, the register is an uncached store, and the register writes are calls the
//    compiler cannot move); descriptor fields the device writes are read through methods that are
//    never inlined, so each read reaches memory;
//  - every wait on the device is bounded; nothing after Start allocates.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aegis.Abi;

namespace Aegis.Kernel.Hal
{
    internal sealed unsafe class E1000 : INetworkController
    {
        // Registers (byte offsets in BAR 0).
        private const int RegCtrl = 0x0000, RegStatus = 0x0008, RegEecd = 0x0010, RegEerd = 0x0014,
            RegIcr = 0x00C0, RegItr = 0x00C4, RegIms = 0x00D0, RegImc = 0x00D8,
            RegRctl = 0x0100, RegTctl = 0x0400, RegTipg = 0x0410,
            RegRdbal = 0x2800, RegRdbah = 0x2804, RegRdlen = 0x2808, RegRdh = 0x2810, RegRdt = 0x2818,
            RegRdtr = 0x2820, RegRadv = 0x282C,
            RegTdbal = 0x3800, RegTdbah = 0x3804, RegTdlen = 0x3808, RegTdh = 0x3810, RegTdt = 0x3818,
            RegTidv = 0x3820, RegTadv = 0x382C, RegTarc0 = 0x3840,
            RegMpc = 0x4010, RegRxcsum = 0x5000, RegRfctl = 0x5008, RegMta = 0x5200, RegRal0 = 0x5400,
            RegRah0 = 0x5404, RegManc = 0x5820;
        private const int RegistersNeeded = 0x6000; // everything above lies below

        // CTRL, STATUS, EECD bits.
        private const uint CtrlLinkReset = 1u << 3, CtrlGioMasterDisable = 1u << 2, CtrlAutoSpeed = 1u << 5,
            CtrlSetLinkUp = 1u << 6, CtrlInvertLoss = 1u << 7, CtrlForceSpeed = 1u << 11, CtrlForceDuplex = 1u << 12,
            CtrlReset = 1u << 26, CtrlVlanMode = 1u << 30, CtrlPhyReset = 1u << 31;
        private const uint StatusLinkUp = 1u << 1, StatusGioMasterEnable = 1u << 19;
        private const uint EecdAutoRead = 1u << 9;
        private const uint MancArpEnable = 1u << 13;
        private const uint RahAddressValid = 1u << 31;
        private const uint TarcEnable = 1u << 10;

        // Interrupt causes (ICR, IMS, IMC).
        private const uint CauseTransmitWritten = 1u << 0, CauseLinkChange = 1u << 2, CauseReceiveOverrun = 1u << 6,
            CauseReceiveTimer = 1u << 7;
        // No CauseTransmitWritten: finished sends are taken back (TryTakeSent) when frames come, at a
        // later send and at the tick; an interrupt per frame sent would cost a kernel entry each
        // and, under QEMU (whose e1000 holds each interrupt after another back for at least
        // 128 us: its "mitigation"), delay the next received frame's (docs/benchmarks.md, session 9).
        private const uint EnabledCauses = CauseReceiveTimer | CauseLinkChange | CauseReceiveOverrun;

        // RCTL, TCTL.
        private const uint RctlEnable = 1u << 1, RctlBroadcast = 1u << 15, RctlStripCrc = 1u << 26; // BSIZE 00: 2048 bytes
        private const uint TctlEnable = 1u << 1, TctlPadShort = 1u << 3, TctlCollisionThreshold = 0x0Fu << 4,
            TctlCollisionDistance = 0x3Fu << 12, TctlRetransmitLateCollision = 1u << 24;

        // Descriptor bits.
        private const byte ReceiveDone = 1 << 0, ReceiveEndOfPacket = 1 << 1;
        private const byte ReceiveFrameErrors = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 4) | (1 << 7); // CE, SE, SEQ, CXE, RXE
        private const byte SendEndOfPacket = 1 << 0, SendInsertCrc = 1 << 1, SendReportStatus = 1 << 3;
        private const byte SendDone = 1 << 0, SendExcessCollisions = 1 << 1, SendLateCollision = 1 << 2;
        // TCP segmentation: a "TCP/IP context" descriptor, then "TCP/IP data" descriptors (DEXT set).
        // The command bits sit in bits 24..31 of the descriptor's third dword in both; a data
        // descriptor has DTYP 0001 (bit 20); POPTS (bits 8..15 of the fourth) asks for the checksums.
        private const uint ExtendedTcp = 1u << 24, ExtendedIpv4 = 1u << 25, ExtendedSegment = 1u << 26,
            ExtendedEndOfPacket = 1u << 24, ExtendedInsertCrc = 1u << 25, ExtendedReportStatus = 1u << 27,
            ExtendedDescriptor = 1u << 29, ExtendedData = 1u << 20;
        private const uint InsertIpChecksum = 1u << 8, InsertTcpChecksum = 1u << 9;

        private const int RingSize = 256;            // descriptors per ring (one page each)
        private const int BufferCount = 256;
        private const int BufferBytes = 2048;
        private const int MaximumPiecesPerFrame = NicLimits.MaximumFramePages;
        private const int MaximumPieceBytes = 16288; // the 8254x's limit for one transmit descriptor
        private const int RefusedCapacity = 64;

        [StructLayout(LayoutKind.Sequential)]
        private struct ReceiveDescriptor
        {
            public ulong Address;
            public ushort Length;
            public ushort Checksum;
            public byte Status;
            public byte Errors;
            public ushort Special;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct SendDescriptor
        {
            public ulong Address;
            public ushort Length;
            public byte ChecksumOffset;
            public byte Command;
            public byte Status;
            public byte ChecksumStart;
            public ushort Special;
        }


        private readonly bool _is82574, _is82544;
        private byte* _registers;

        private ReceiveDescriptor* _rx;
        private SendDescriptor* _tx;
        private ulong _rxPhysical, _txPhysical, _buffersPhysical;
        private byte* _buffers;

        private int _rxNext, _rxTail;
        private bool _discarding; // inside a frame that spans buffers (never with BSIZE 2048 and LPE off): skip to its end
        private readonly int[] _bufferAt = new int[RingSize];
        private ReceiveBuffers _receive;

        private int _txTail, _txClean, _txUsed;
        private readonly int[] _txLast = new int[RingSize];
        private readonly int[] _txSlot = new int[RingSize];
        private readonly int[] _refused = new int[RefusedCapacity];
        private int _refusedHead, _refusedCount;

        // The missed-packets count: clear-on-read in the datasheets, kept by QEMU's models.
        private uint _missedLast;
        private bool _missedChecked, _missedCumulative;

        public string Name { get; }
        public NetworkController Kind => _is82574 ? NetworkController.E1000e : NetworkController.E1000;
        public ulong MacAddress { get; private set; }
        public bool LinkUp { get; private set; }
        public ulong LinkChanges { get; private set; }
        public int ReceiveBuffers => BufferCount;
        public int ReceiveBufferBytes => BufferBytes;
        public int MaximumPieces => MaximumPiecesPerFrame;
        /// <summary>The 8254x cuts TCP segments (QEMU's e1000 and VMware's too). Not the 82574L:
        /// QEMU 7.2's e1000e sends such a frame as IP fragments of one large segment, not as
        /// segments. Nor the 82544, whose segmentation has errata (descriptors that end within a
        /// few bytes of a boundary) this driver does not work around.</summary>
        public bool CanSegment => !_is82574 && !_is82544;
        public ulong Received { get; private set; }
        public ulong Dropped { get; private set; }
        public ulong Sent { get; private set; }
        public ulong Errors { get; private set; }

        private E1000(string name, bool is82574, bool is82544)
        {
            Name = name;
            _is82574 = is82574;
            _is82544 = is82544;
        }

        /// <summary>The model name for a supported Intel device id ("e1000 82540EM"), or null: the
        /// device ids this driver takes.</summary>
        public static string ModelName(ushort deviceId)
        {
            switch (deviceId)
            {
                case 0x100E: return "e1000 82540EM";
                case 0x100F: return "e1000 82545EM";
                case 0x1008: return "e1000 82544EI";
                case 0x100C:
                case 0x100D: return "e1000 82544GC";
                case 0x10D3: return "e1000e 82574L";
                default: return null;
            }
        }

        /// <summary>Resets and starts the controller (Intel device id deviceId) whose registers are
        /// at physical 'bar' (barBytes long); null (and why) when it will not. The caller has turned
        /// on memory decoding and bus mastering. Boot only: maps the registers, takes contiguous frames.</summary>
        public static E1000 TryStart(ushort deviceId, ulong bar, ulong barBytes, out string problem)
        {
            string name = ModelName(deviceId);
            if (name == null)
            {
                problem = "not a device this driver knows (8086:" + deviceId.ToString("x4") + ")";
                return null;
            }
            var device = new E1000(name, deviceId == 0x10D3, deviceId == 0x1008 || deviceId == 0x100C || deviceId == 0x100D);
            problem = device.Start(bar, barBytes);
            return problem == null ? device : null;
        }

        private string Start(ulong barPhysical, ulong barBytes)
        {
            if (barBytes < RegistersNeeded) return "its register BAR is " + barBytes.ToString() + " bytes";
            _registers = (byte*)KernelMemory.MapDevice(barPhysical, RegistersNeeded);
            if (_registers == null) return "no page table for its registers";
            if (Read(RegStatus) == 0xFFFFFFFF) return "its registers read all ones";

            // Quiet it first: a boot-time driver (iPXE under UEFI) may have left it receiving into
            // memory that is now the kernel's.
            Write(RegImc, 0xFFFFFFFF);
            Write(RegRctl, 0);
            Write(RegTctl, TctlPadShort);
            Read(RegStatus);
            Sleep(10_000);
            if (_is82574)
            {
                // PCIe: stop its bus-master requests before the reset.
                Write(RegCtrl, Read(RegCtrl) | CtrlGioMasterDisable);
                WaitFor(RegStatus, StatusGioMasterEnable, 0, 10_000);
            }
            Write(RegCtrl, Read(RegCtrl) | CtrlReset);
            Sleep(1_000);
            if (!WaitFor(RegCtrl, CtrlReset, 0, 100_000)) return "it does not come out of reset (CTRL 0x" + Read(RegCtrl).ToString("x") + ")";
            Sleep(5_000); // the EEPROM reload after a reset
            if (_is82574) WaitFor(RegEecd, EecdAutoRead, EecdAutoRead, 10_000);
            Write(RegImc, 0xFFFFFFFF);
            Write(RegIcr, Read(RegIcr));

            // Link: MAC and PHY agree on speed and duplex by themselves (auto-negotiation); set link up.
            uint control = Read(RegCtrl);
            control |= CtrlSetLinkUp | CtrlAutoSpeed;
            control &= ~(CtrlLinkReset | CtrlInvertLoss | CtrlForceSpeed | CtrlForceDuplex | CtrlPhyReset | CtrlVlanMode | CtrlGioMasterDisable);
            Write(RegCtrl, control);
            if (!_is82544) Write(RegManc, Read(RegManc) & ~MancArpEnable); // ARP is the host's, not the firmware's

            string problem = ReadMacAddress();
            if (problem != null) return problem;
            Write(RegRal0, (uint)MacAddress);
            Write(RegRah0, (uint)(MacAddress >> 32) | RahAddressValid);
            for (int i = 1; i < 16; i++)
            {
                Write(RegRal0 + 8 * i, 0);
                Write(RegRah0 + 8 * i, 0);
            }
            for (int i = 0; i < 128; i++) Write(RegMta + 4 * i, 0); // no multicast

            // Memory: the two rings, then the buffers.
            const int bufferPages = BufferCount * BufferBytes / 4096;
            if (!KernelMemory.Frames.TryAllocateContiguous(2, out ulong rings))
                return "no contiguous memory for its descriptor rings";
            if (!KernelMemory.Frames.TryAllocateContiguous(bufferPages, out ulong buffers))
                return "no contiguous memory for its receive buffers (" + (bufferPages * 4).ToString() + " KiB)";
            _rxPhysical = rings * 4096;
            _txPhysical = _rxPhysical + 4096;
            _buffersPhysical = buffers * 4096;
            _rx = (ReceiveDescriptor*)KernelMemory.PhysicalToVirtual(_rxPhysical);
            _tx = (SendDescriptor*)KernelMemory.PhysicalToVirtual(_txPhysical);
            _buffers = (byte*)KernelMemory.PhysicalToVirtual(_buffersPhysical);
            Cpu.ZeroPage((byte*)_rx);
            Cpu.ZeroPage((byte*)_tx);
            for (int p = 0; p < bufferPages; p++) Cpu.ZeroPage(_buffers + p * 4096);

            // Receive: the ring, every buffer on it but one (RDT == RDH would mean none), no delays.
            Write(RegRdbal, (uint)_rxPhysical);
            Write(RegRdbah, (uint)(_rxPhysical >> 32));
            Write(RegRdlen, RingSize * 16);
            Write(RegRdh, 0);
            Write(RegRdt, 0);
            for (int i = 0; i < RingSize; i++) _bufferAt[i] = -1;
            _receive = new ReceiveBuffers(BufferCount);
            _rxNext = _rxTail = 0;
            Refill();
            Write(RegRdtr, 0);
            Write(RegRadv, 0);
            Write(RegItr, 0);
            Write(RegRxcsum, 0); // no checksum offload: the descriptors' checksum fields are not used
            if (_is82574) Write(RegRfctl, 0); // legacy receive descriptors

            // Transmit.
            Write(RegTdbal, (uint)_txPhysical);
            Write(RegTdbah, (uint)(_txPhysical >> 32));
            Write(RegTdlen, RingSize * 16);
            Write(RegTdh, 0);
            Write(RegTdt, 0);
            _txTail = _txClean = _txUsed = 0;
            Write(RegTidv, 0);
            Write(RegTadv, 0);
            // Inter-packet gap: IPGT 10 (8 on the 82574), IPGR1 8, IPGR2 6 (the datasheets' copper values).
            Write(RegTipg, (_is82574 ? 8u : 10u) | 8u << 10 | 6u << 20);
            if (_is82574) Write(RegTarc0, Read(RegTarc0) | TarcEnable);
            Write(RegTctl, TctlEnable | TctlPadShort | TctlCollisionThreshold | TctlCollisionDistance
                | (_is82574 ? TctlRetransmitLateCollision : 0));
            Write(RegRctl, RctlEnable | RctlBroadcast | RctlStripCrc);

            LinkUp = (Read(RegStatus) & StatusLinkUp) != 0;
            _missedLast = Read(RegMpc);
            Write(RegIcr, Read(RegIcr));
            Write(RegIms, EnabledCauses);
            return null;
        }

        /// <summary>The station address: RAL0/RAH0 as the firmware or the device left them, else the
        /// EEPROM's words 0..2 (EERD; the 82544 has no EERD).</summary>
        private string ReadMacAddress()
        {
            uint low = Read(RegRal0), high = Read(RegRah0);
            ulong mac = low | (ulong)(high & 0xFFFF) << 32;
            if ((high & RahAddressValid) != 0 && IsUsable(mac))
            {
                MacAddress = mac;
                return null;
            }
            if (_is82544) return "no MAC address in RAL0/RAH0 (0x" + low.ToString("x8") + ", 0x" + high.ToString("x8") + ")";
            ulong fromEeprom = 0;
            for (int word = 0; word < 3; word++)
            {
                if (!TryReadEeprom(word, out ushort value)) return "the EEPROM does not answer (EERD 0x" + Read(RegEerd).ToString("x8") + ")";
                fromEeprom |= (ulong)value << (16 * word);
            }
            if (!IsUsable(fromEeprom)) return "no usable MAC address (RAL0/RAH0 0x" + low.ToString("x8") + ", 0x" + high.ToString("x8") + "; EEPROM " + NetworkControllerText.Mac(fromEeprom) + ")";
            MacAddress = fromEeprom;
            return null;
        }

        private static bool IsUsable(ulong mac) => mac != 0 && mac != 0xFFFFFFFFFFFF && (mac & 1) == 0; // not a group address

        /// <summary>One 16-bit EEPROM word through EERD: 8254x start bit 0, done bit 4, address from
        /// bit 8; 82574 start bit 0, done bit 1, address from bit 2. Data in bits 16..31.</summary>
        private bool TryReadEeprom(int word, out ushort value)
        {
            uint done = _is82574 ? 1u << 1 : 1u << 4;
            int shift = _is82574 ? 2 : 8;
            Write(RegEerd, 1u | (uint)word << shift);
            ulong started = Cpu.ReadTimestampCounter();
            uint read;
            while (((read = Read(RegEerd)) & done) == 0)
                if (Elapsed(started) > 10_000) { value = 0; return false; }
            value = (ushort)(read >> 16);
            return true;
        }

        // ---- receive

        public bool HasReceived => _rxNext != _rxTail && (ReadStatus(&_rx[_rxNext].Status) & ReceiveDone) != 0;

        public bool TryTakeReceived(out int buffer, out int length, out byte* data)
        {
            while (_rxNext != _rxTail)
            {
                ReceiveDescriptor* d = &_rx[_rxNext];
                byte status = ReadStatus(&d->Status);
                if ((status & ReceiveDone) == 0) break;
                int b = _bufferAt[_rxNext];
                int bytes = ReadLength(&d->Length);
                byte errors = ReadStatus(&d->Errors);
                d->Status = 0;
                _bufferAt[_rxNext] = -1;
                _rxNext = (_rxNext + 1) % RingSize;
                if (b < 0) continue; // no buffer was on it (cannot happen): nothing to give back
                bool endOfPacket = (status & ReceiveEndOfPacket) != 0;
                bool wasDiscarding = _discarding;
                _discarding = !endOfPacket;
                if (wasDiscarding || !endOfPacket || (errors & ReceiveFrameErrors) != 0 || bytes == 0 || bytes > BufferBytes)
                {
                    // A bad frame, or a piece of one longer than a buffer: count it once, at its end.
                    if (endOfPacket) Errors++;
                    _receive.Discard(b);
                    Refill();
                    continue;
                }
                _receive.HandOut(b);
                Received++;
                buffer = b;
                length = bytes;
                data = _buffers + b * BufferBytes;
                return true;
            }
            buffer = -1;
            length = 0;
            data = null;
            return false;
        }

        /// <summary>Buffers given back before they go on the ring again, in one RDT write: each
        /// write of the register is a trap into the emulator (QEMU, VMware), and a 64 KiB answer
        /// brings about 45 ACK frames. The device keeps at least RingSize - 1 - RefillBatch
        /// descriptors.</summary>
        private const int RefillBatch = 16;

        public void ReturnBuffer(int buffer)
        {
            if (!_receive.Return(buffer)) return;
            if (_receive.FreeCount >= RefillBatch) Refill();
        }

        /// <summary>Puts free buffers on empty descriptors at the tail and tells the device (RDT).</summary>
        private void Refill()
        {
            int tail = _rxTail;
            while (_receive.AnyFree && (tail + 1) % RingSize != _rxNext)
            {
                int b = _receive.TakeFree();
                ReceiveDescriptor* d = &_rx[tail];
                d->Address = _buffersPhysical + (ulong)(b * BufferBytes);
                d->Length = 0;
                d->Status = 0;
                d->Errors = 0;
                _bufferAt[tail] = b;
                tail = (tail + 1) % RingSize;
            }
            if (tail == _rxTail) return;
            _rxTail = tail;
            Write(RegRdt, (uint)tail); // after the descriptors: see the invariants
        }

        // ---- transmit

        public bool TrySend(int slot, ulong* physical, uint* lengths, int pieces, in Segmentation segmentation)
        {
            ulong total = 0;
            bool segmented = segmentation.SegmentSize > 0;
            bool valid = pieces >= 1 && pieces <= MaximumPiecesPerFrame && (!segmented || CanSegment);
            for (int i = 0; valid && i < pieces; i++)
            {
                if (lengths[i] == 0 || lengths[i] > MaximumPieceBytes) valid = false;
                total += lengths[i];
            }
            ulong longest = (ulong)(segmented ? NicLimits.MaximumSegmentedFrameBytes : NetworkLimits.MaximumFrameBytes);
            if (!valid || total < NicLimits.MinimumFrameBytes || total > longest || (segmented && total <= (ulong)segmentation.HeaderBytes))
            {
                // TryTakeSent gives refused frames back before the ring's: so one is taken only
                // when no frame sent before it is still on the ring (else "no room now"), and the
                // order of TryTakeSent stays the order of TrySend.
                if (_txUsed > 0 || _refusedCount == RefusedCapacity) return false;
                _refused[(_refusedHead + _refusedCount) % RefusedCapacity] = slot;
                _refusedCount++;
                return true;
            }
            if (segmented) return TrySendSegmented(slot, physical, lengths, pieces, segmentation, (uint)total);
            if (RingSize - 1 - _txUsed < pieces) return false;
            int first = _txTail, index = first, last = first;
            for (int i = 0; i < pieces; i++)
            {
                SendDescriptor* d = &_tx[index];
                d->Address = physical[i];
                d->Length = (ushort)lengths[i];
                d->ChecksumOffset = 0;
                d->ChecksumStart = 0;
                d->Special = 0;
                d->Status = 0;
                d->Command = i == pieces - 1 ? (byte)(SendInsertCrc | SendEndOfPacket | SendReportStatus) : SendInsertCrc;
                last = index;
                index = (index + 1) % RingSize;
            }
            _txLast[first] = last;
            _txSlot[last] = slot;
            _txUsed += pieces;
            _txTail = index;
            Write(RegTdt, (uint)index); // after the descriptors: see the invariants
            return true;
        }

        /// <summary>A segmented frame: a context descriptor that says where the headers and their
        /// checksums lie and how long a segment is, then the frame's pieces as data descriptors.
        /// The device (the 8254x datasheet, "TCP Segmentation") copies the headers in front of each
        /// segment, fixes their lengths, identification and sequence number and fills in both
        /// checksums; PAYLEN tells it which segment is the last (PSH and FIN stay on that one).</summary>
        private bool TrySendSegmented(int slot, ulong* physical, uint* lengths, int pieces, in Segmentation segmentation, uint total)
        {
            if (RingSize - 1 - _txUsed < pieces + 1) return false;
            int ipStart = 14, tcpStart = 14 + segmentation.IpHeaderBytes, headers = segmentation.HeaderBytes;
            int first = _txTail, index = first, last = first;
            uint* context = (uint*)&_tx[index];
            context[0] = (uint)ipStart | (uint)(ipStart + 10) << 8 | (uint)(tcpStart - 1) << 16;   // IPCSS, IPCSO, IPCSE
            context[1] = (uint)tcpStart | (uint)(tcpStart + 16) << 8;                              // TUCSS, TUCSO, TUCSE 0: to the end
            context[2] = (total - (uint)headers) | ExtendedTcp | ExtendedIpv4 | ExtendedSegment | ExtendedDescriptor; // PAYLEN, TUCMD
            context[3] = (uint)headers << 8 | (uint)segmentation.SegmentSize << 16;               // HDRLEN, MSS
            index = (index + 1) % RingSize;
            for (int i = 0; i < pieces; i++)
            {
                uint* d = (uint*)&_tx[index];
                *(ulong*)d = physical[i];
                uint command = ExtendedDescriptor | ExtendedData | ExtendedSegment | ExtendedInsertCrc;
                if (i == pieces - 1) command |= ExtendedEndOfPacket | ExtendedReportStatus;
                d[2] = lengths[i] | command;
                d[3] = InsertIpChecksum | InsertTcpChecksum; // status 0 (DD clear), POPTS
                last = index;
                index = (index + 1) % RingSize;
            }
            _txLast[first] = last;
            _txSlot[last] = slot;
            _txUsed += pieces + 1;
            _txTail = index;
            Write(RegTdt, (uint)index); // after the descriptors: see the invariants
            return true;
        }

        public bool TryTakeSent(out int slot, out bool sent)
        {
            if (_refusedCount > 0)
            {
                slot = _refused[_refusedHead];
                _refusedHead = (_refusedHead + 1) % RefusedCapacity;
                _refusedCount--;
                sent = false;
                Errors++;
                return true;
            }
            slot = -1;
            sent = false;
            if (_txUsed == 0) return false;
            int first = _txClean, last = _txLast[first];
            byte status = ReadStatus(&_tx[last].Status);
            if ((status & SendDone) == 0) return false;
            slot = _txSlot[last];
            sent = (status & (SendExcessCollisions | SendLateCollision)) == 0;
            if (sent) Sent++;
            else Errors++;
            _txUsed -= (last - first + RingSize) % RingSize + 1;
            _txClean = (last + 1) % RingSize;
            return true;
        }

        // ---- interrupts

        public bool AcknowledgeInterrupt()
        {
            uint causes = Read(RegIcr);
            if (causes == 0 || causes == 0xFFFFFFFF) return false; // not ours; or the device is gone
            // Reading clears ICR on the 8254x; the 82574 clears it on read only in some modes, so
            // clear what was read explicitly (write 1 to clear).
            Write(RegIcr, causes);
            if ((causes & CauseLinkChange) != 0)
            {
                bool up = (Read(RegStatus) & StatusLinkUp) != 0;
                if (up != LinkUp)
                {
                    LinkUp = up;
                    LinkChanges++;
                }
            }
            if ((causes & CauseReceiveOverrun) != 0) CountMissed();
            return true;
        }

        /// <summary>Adds the device's missed-packets count (MPC) to Dropped. The datasheets' MPC
        /// clears on read; QEMU's models keep counting (and keep it across CTRL.RST). Which one it
        /// is is decided the first time it has news: a second read at once that is not smaller
        /// means it keeps counting.</summary>
        private void CountMissed()
        {
            uint missed = Read(RegMpc);
            if (!_missedChecked)
            {
                if (missed == 0 || missed == _missedLast) return; // nothing new, whichever kind it is
                _missedChecked = true;
                uint again = Read(RegMpc);
                _missedCumulative = again >= missed;
                if (!_missedCumulative)
                {
                    Dropped += (ulong)missed + again; // both reads cleared what they returned
                    return;
                }
                missed = again;
            }
            if (!_missedCumulative)
            {
                Dropped += missed;
                return;
            }
            Dropped += missed >= _missedLast ? missed - _missedLast : missed;
            _missedLast = missed;
        }

        // ---- registers, descriptors and time

        [MethodImpl(MethodImplOptions.NoInlining)]
        private uint Read(int register) => *(uint*)(_registers + register); // not inlined: read afresh at every call

        [MethodImpl(MethodImplOptions.NoInlining)]
        private void Write(int register, uint value) => *(uint*)(_registers + register) = value;

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static byte ReadStatus(byte* field) => *field; // written by the device: read afresh

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static ushort ReadLength(ushort* field) => *field;

        /// <summary>Waits until (register &amp; mask) == want, at most 'microseconds'; true when it is.</summary>
        private bool WaitFor(int register, uint mask, uint want, ulong microseconds)
        {
            ulong started = Cpu.ReadTimestampCounter();
            while ((Read(register) & mask) != want)
                if (Elapsed(started) > microseconds) return (Read(register) & mask) == want;
            return true;
        }

        private static void Sleep(ulong microseconds)
        {
            ulong started = Cpu.ReadTimestampCounter();
            while (Elapsed(started) < microseconds) { }
        }

        private static ulong Elapsed(ulong started)
        {
            ulong perMicrosecond = Clock.TimestampHz / 1_000_000;
            return (Cpu.ReadTimestampCounter() - started) / (perMicrosecond == 0 ? 1 : perMicrosecond);
        }
    }
}
