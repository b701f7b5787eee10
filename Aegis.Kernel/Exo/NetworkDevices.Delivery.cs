// Network devices (issue #12), step 2: the multiplexer. Environments holding a Nic capability
// install packet filters (Core/Net/PacketFilterSet: merged into one trie, compiled to x86-64 code
// in the kernel's code window), attach a receive ring of their own pages, and send frames from
// their own pages (docs/abi.md "Networks", docs/network-filters.md). Each received frame is
// classified once; the filter's owner gets it copied into its ring (or it is dropped, counted in
// its ring and its environment page: a flood for one environment fills only its own ring); a
// frame no filter claims goes straight back to the device (Unclaimed). A frame sent is checked
// (length, source MAC, its pages the sender's own or granted), its pages pinned, and the device
// reads it by DMA from them; SendsDone in the sender's ring header counts those the device is
// done with, in order.
//
// Invariants:
//  - ring r is free (s_ringOwner[r] == 0) or attached to the live environment s_ringEnv[r], whose
//    NetRing is r; its header page and its Slots/2 buffer pages are pinned (one pin each) until
//    it is detached (NicAttach(0), or the environment's end);
//  - s_filterRing[id] is the ring of the filter's owner, or -1 when it has none;
//  - the classifier in the code window always matches s_filters when s_compiled (it is rebuilt
//    after every change, with interrupts off); otherwise the interpreter runs;
//  - a send slot is free or busy; a busy one holds one pin on each of its 1..2 pages, its
//    sender's ring (or -1 when that ring went), and is on the device's ring; the device gives
//    each back once (TryTakeSent) and then the pins go;
//  - nothing here allocates after Initialize: frames are copied into pinned pages, counters
//    live in fixed arrays and in the environment's page.
using System;
using System.Threading;
using Aegis.Abi;
using Aegis.Kernel.Core.Net;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe partial class NetworkDevices
    {
        private const int Rings = NicLimits.MaximumRings;
        private const int BufferPagesPerRing = NicLimits.MaximumRingSlots * NicLimits.SlotBytes / 4096;
        private const int SendSlots = 256;
        private const int CodePages = 64;
        private const ulong PageSize = 4096;

        private static PacketFilterSet s_filters;
        private static int[] s_filterRing;
        private static byte* s_code;
        // SuppressGCTransition: the generated code makes no call and returns in tens of
        // instructions (FilterCompiler), so the call needs no transition frame.
        private static delegate* unmanaged[SuppressGCTransition]<byte*, int, int> s_classify;
        private static bool s_compiled;

        private static Environment[] s_ringEnv;
        private static ulong[] s_ringOwner, s_ringHeaderFrame, s_ringFrames;
        private static uint[] s_ringSlots, s_ringProduced, s_ringSendsDone;
        private static int[] s_ringSendsOut;
        private static bool[] s_ringNews;
        private static bool s_anyNews;

        private static bool[] s_sendBusy;
        private static int[] s_sendRing, s_sendPages;
        private static ulong[] s_sendFrames;
        private static int s_sendNext; // where the search for a free send slot starts (the one after the last taken)

        private static ulong s_delivered, s_droppedForEnvironments;

        /// <summary>Frames classified as some environment's and copied into its ring.</summary>
        public static ulong Delivered => s_delivered;
        /// <summary>Whether the classifier runs as compiled code (false: the interpreter).</summary>
        public static bool Compiled => s_compiled;

        /// <summary>The multiplexer's state: filters, their code, rings and send slots. Boot only,
        /// once a device started.</summary>
        private static void AllocateMultiplexer()
        {
            FramePins.Initialize();
            s_filters = new PacketFilterSet();
            s_filterRing = new int[NetworkLimits.MaximumFilters];
            s_ringEnv = new Environment[Rings];
            s_ringOwner = new ulong[Rings]; s_ringHeaderFrame = new ulong[Rings];
            s_ringFrames = new ulong[Rings * BufferPagesPerRing];
            s_ringSlots = new uint[Rings]; s_ringProduced = new uint[Rings]; s_ringSendsDone = new uint[Rings];
            s_ringSendsOut = new int[Rings];
            s_ringNews = new bool[Rings];
            s_sendBusy = new bool[SendSlots];
            s_sendRing = new int[SendSlots]; s_sendPages = new int[SendSlots];
            s_sendFrames = new ulong[SendSlots * NicLimits.MaximumFramePages];
            if (KernelMemory.Frames.TryAllocateContiguous(CodePages, out ulong first))
            {
                void* executable = KernelMemory.MapCode(first * PageSize, CodePages);
                if (executable != null)
                {
                    s_code = (byte*)KernelMemory.PhysicalToVirtual(first * PageSize);
                    s_classify = (delegate* unmanaged[SuppressGCTransition]<byte*, int, int>)executable;
                }
            }
            Recompile();
        }

        /// <summary>Rebuilds the classifier after a change (interrupts are off: no frame is
        /// classified meanwhile). Code that does not fit, or no code window: the interpreter.</summary>
        private static void Recompile()
        {
            s_compiled = s_code != null && s_filters.Compile(s_code, CodePages * (int)PageSize, out _);
        }

        private static int Classify(byte* frame, int length)
            => s_compiled ? s_classify(frame, length) : s_filters.Classify(frame, length);

        // ---- receive

        /// <summary>Every frame the device holds: classified, copied into its owner's ring (or
        /// dropped and counted), its buffer back to the device; then every finished send.</summary>
        private static void Deliver()
        {
            while (s_device.TryTakeReceived(out int buffer, out int length, out byte* data))
            {
                int id = s_filters == null ? -1 : Classify(data, length);
                if (id < 0) s_unclaimed++;
                else
                {
                    int ring = s_filterRing[id];
                    if (ring >= 0) CopyIntoRing(ring, data, length);
                    else
                    {
                        s_droppedForEnvironments++;
                        Environment owner = Environments.Find(s_filters.OwnerOf(id));
                        if (owner != null && owner.Page != null) owner.Page->NetDropped++;
                    }
                }
                s_device.ReturnBuffer(buffer);
            }
            ReapSends();
        }

        /// <summary>Every send the device has finished: its pages unpinned, its ring's SendsDone
        /// counted (a descriptor's status per finished send).</summary>
        public static void ReapSends()
        {
            while (s_device.TryTakeSent(out int slot, out bool sent)) FinishSend(slot, sent);
        }

        /// <summary>NicSend's end: ReapSends when half of the caller's sends are in flight (below
        /// that, the interrupt or the tick counts them: no cost on a request's path).</summary>
        public static void ReapSendsWhenHalfInFlight(Environment caller)
        {
            int ring = caller.NetRing;
            if (ring >= 0 && s_ringSendsOut[ring] >= NicLimits.MaximumSendsInFlight / 2) ReapSends();
        }

        private static void CopyIntoRing(int ring, byte* data, int length)
        {
            NicRingHeader* header = (NicRingHeader*)KernelMemory.PhysicalToVirtual(s_ringHeaderFrame[ring] * PageSize);
            uint slots = s_ringSlots[ring], produced = s_ringProduced[ring];
            uint consumed = header->Consumed; // the environment's word: never trusted beyond this test
            Environment owner = s_ringEnv[ring];
            if (produced - consumed >= slots)
            {
                header->Dropped++;
                s_droppedForEnvironments++;
                owner.Page->NetDropped++;
                return;
            }
            uint slot = produced & (slots - 1);
            ulong frame = s_ringFrames[ring * BufferPagesPerRing + (int)(slot >> 1)];
            byte* into = (byte*)KernelMemory.PhysicalToVirtual(frame * PageSize) + (slot & 1) * NicLimits.SlotBytes;
            Buffer.MemoryCopy(data, into, NicLimits.SlotBytes, length);
            NicRingHeader.Lengths(header)[slot] = (ushort)length;
            s_ringProduced[ring] = produced + 1;
            Interlocked.Exchange(ref *(int*)&header->Produced, (int)(produced + 1)); // after the bytes and the length
            owner.Page->NetDelivered++;
            s_delivered++;
            s_ringNews[ring] = true;
            s_anyNews = true;
        }

        /// <summary>Owners of rings that got frames (or finished sends) hear of it: a Wait returns,
        /// or the next one does at once. Only where waking is safe (a tick, or an interrupt that
        /// came from user mode or the idle loop).</summary>
        private static void DeliverNews()
        {
            if (!s_anyNews) return;
            s_anyNews = false;
            for (int r = 0; r < Rings; r++)
            {
                if (!s_ringNews[r]) continue;
                s_ringNews[r] = false;
                Environment owner = s_ringEnv[r];
                if (owner == null || !owner.IsAlive) continue;
                if (owner.State == EnvironmentState.Blocked && owner.Blocked == BlockReason.Waiting)
                    Scheduler.Wake(owner, WaitResult.Woken, 0);
                else
                    owner.WakeupPending = true;
            }
        }

        // ---- the system calls' work (SystemCalls.Network.cs resolves the capability)

        public static bool Present => s_device != null;

        public static void FillInfo(NicInfo* info, ulong capabilityObject)
        {
            info->MacAddress = s_device.MacAddress;
            info->Controller = (ulong)s_device.Kind;
            info->LinkUp = s_device.LinkUp ? 1UL : 0;
            info->PciAddress = s_pciAddress;
            info->Received = s_device.Received;
            info->Unclaimed = s_unclaimed;
            info->Sent = s_device.Sent;
            info->DeviceDropped = s_device.Dropped;
            info->Errors = s_device.Errors;
            info->Filters = (ulong)s_filters.Count;
            PortRange(capabilityObject, out uint low, out uint high);
            info->LowPort = low;
            info->HighPort = high;
            info->Offloads = s_device.CanSegment ? NicOffloads.TcpSegmentation : 0;
            info->Watched = s_watchedFrames;
        }

        public static void PortRange(ulong capabilityObject, out uint low, out uint high)
        {
            if ((capabilityObject & NicCapability.Restricted) == 0) { low = 0; high = 65535; return; }
            low = (uint)(capabilityObject >> NicCapability.LowShift) & 0xFFFF;
            high = (uint)(capabilityObject >> NicCapability.HighShift) & 0xFFFF;
        }

        public static ulong RestrictedObject(uint low, uint high)
            => NicCapability.Restricted | (ulong)low << NicCapability.LowShift | (ulong)high << NicCapability.HighShift;

        /// <summary>Attaches 'caller''s ring at 'address' with 'slots' slots (checked by the call:
        /// a power of two in range, address page-aligned). Pins its pages. Nothing changes on an error.</summary>
        public static Error Attach(Environment caller, ulong address, uint slots)
        {
            if (caller.NetRing >= 0) return Error.Busy;
            int pages = 1 + (int)(slots * NicLimits.SlotBytes / PageSize);
            if (!UserMemory.IsUserRange(address, (ulong)pages * PageSize)) return Error.BadAddress;
            int ring = -1;
            for (int r = 0; r < Rings && ring < 0; r++) if (s_ringOwner[r] == 0) ring = r;
            if (ring < 0) return Error.NoMemory;
            for (int p = 0; p < pages; p++)
            {
                Error error = FramePins.CheckDmaPage(caller, address + (ulong)p * PageSize, true, out ulong frame);
                if (error != Error.None) return error;
                if (p == 0) s_ringHeaderFrame[ring] = frame;
                else s_ringFrames[ring * BufferPagesPerRing + p - 1] = frame;
            }
            FramePins.Pin(s_ringHeaderFrame[ring]);
            for (int p = 1; p < pages; p++) FramePins.Pin(s_ringFrames[ring * BufferPagesPerRing + p - 1]);
            s_ringOwner[ring] = caller.Id;
            s_ringEnv[ring] = caller;
            s_ringSlots[ring] = slots;
            s_ringProduced[ring] = 0;
            s_ringSendsDone[ring] = 0;
            s_ringSendsOut[ring] = 0;
            s_ringNews[ring] = false;
            caller.NetRing = ring;
            NicRingHeader* header = (NicRingHeader*)KernelMemory.PhysicalToVirtual(s_ringHeaderFrame[ring] * PageSize);
            new Span<byte>(header, sizeof(NicRingHeader)).Clear();
            header->Slots = slots;
            for (int id = 0; id < NetworkLimits.MaximumFilters; id++)
                if (s_filters.OwnerOf(id) == caller.Id) s_filterRing[id] = ring;
            return Error.None;
        }

        /// <summary>Detaches the caller's ring (none: nothing to do); its pages are unpinned, its
        /// filters stay (their frames are dropped and counted until a ring is attached again).</summary>
        public static void Detach(Environment environment)
        {
            int ring = environment.NetRing;
            if (ring < 0) return;
            environment.NetRing = -1;
            int pages = 1 + (int)(s_ringSlots[ring] * NicLimits.SlotBytes / PageSize);
            FramePins.Unpin(s_ringHeaderFrame[ring]);
            for (int p = 1; p < pages; p++) FramePins.Unpin(s_ringFrames[ring * BufferPagesPerRing + p - 1]);
            for (int id = 0; id < NetworkLimits.MaximumFilters; id++)
                if (s_filterRing[id] == ring) s_filterRing[id] = -1;
            for (int s = 0; s < SendSlots; s++)
                if (s_sendBusy[s] && s_sendRing[s] == ring) s_sendRing[s] = -1;
            s_ringOwner[ring] = 0;
            s_ringEnv[ring] = null;
            s_ringNews[ring] = false;
        }

        /// <summary>Installs 'caller''s filter (atoms read into kernel memory by the call). With a
        /// restricted capability the filter must bind one IPv4 TCP or UDP destination port inside
        /// [low, high].</summary>
        public static Error InstallFilter(Environment caller, ulong capabilityObject, ReadOnlySpan<FilterAtom> atoms,
            out int id, out FilterError reason, out ulong conflictingOwner)
        {
            id = -1;
            conflictingOwner = 0;
            Error error = CheckFilter(capabilityObject, atoms, out reason);
            if (error != Error.None) return error;
            reason = s_filters.Add(caller.Id, atoms, out id, out conflictingOwner);
            return Installed(reason, id, caller.NetRing);
        }

        /// <summary>Installs a filter 'caller' gives to 'target' (NicFilterDelegate): part of what
        /// caller's own filters claim, which from now on goes to target's ring. The target must have
        /// a ring attached (its consent to receive frames: InvalidArgument otherwise); a restricted
        /// capability's port rule holds as for InstallFilter. Refusals as PacketFilterSet.AddDelegated:
        /// NotOwner (FilterError.NotCovered), Busy (Overlap), NoMemory (Full).</summary>
        public static Error DelegateFilter(Environment caller, ulong capabilityObject, Environment target, ReadOnlySpan<FilterAtom> atoms,
            out int id, out FilterError reason, out ulong conflictingOwner)
        {
            id = -1;
            conflictingOwner = 0;
            Error error = CheckFilter(capabilityObject, atoms, out reason);
            if (error != Error.None) return error;
            if (target == caller || target.NetRing < 0) return Error.InvalidArgument;
            reason = s_filters.AddDelegated(caller.Id, target.Id, atoms, out id, out conflictingOwner);
            return Installed(reason, id, target.NetRing);
        }

        /// <summary>A well-formed filter, and with a restricted capability one that binds one IPv4
        /// TCP or UDP destination port inside its [low, high].</summary>
        private static Error CheckFilter(ulong capabilityObject, ReadOnlySpan<FilterAtom> atoms, out FilterError reason)
        {
            reason = FilterAtoms.Check(atoms, out _);
            if (reason != FilterError.None) return Error.InvalidArgument;
            if ((capabilityObject & NicCapability.Restricted) != 0)
            {
                PortRange(capabilityObject, out uint low, out uint high);
                if (!BindsPortIn(atoms, low, high)) return Error.NoCapability;
            }
            return Error.None;
        }

        /// <summary>The call's answer to the filter set's; an installed filter's frames go to ring
        /// (-1: none yet), and the classifier is rebuilt.</summary>
        private static Error Installed(FilterError reason, int id, int ring)
        {
            switch (reason)
            {
                case FilterError.None:
                    s_filterRing[id] = ring;
                    Recompile();
                    return Error.None;
                case FilterError.NotCovered: return Error.NotOwner;
                case FilterError.Overlap: return Error.Busy;
                case FilterError.Full: return Error.NoMemory;
                default: return Error.InvalidArgument;
            }
        }

        /// <summary>Whether the filter accepts only IPv4 (EtherType 0x0800) TCP or UDP frames to one
        /// destination port in [low, high]: it has the three exact atoms that say so.</summary>
        private static bool BindsPortIn(ReadOnlySpan<FilterAtom> atoms, uint low, uint high)
        {
            bool ipv4 = false, transport = false, port = false;
            foreach (FilterAtom a in atoms)
            {
                if (a.Base == (byte)FilterBase.Frame && a.Width == 2 && a.Offset == 12 && a.Mask == 0xFFFF && a.Value == 0x0800) ipv4 = true;
                if (a.Base == (byte)FilterBase.Frame && a.Width == 1 && a.Offset == 23 && a.Mask == 0xFF && (a.Value == 6 || a.Value == 17)) transport = true;
                if (a.Base == (byte)FilterBase.Transport && a.Width == 2 && a.Offset == 2 && a.Mask == 0xFFFF && a.Value >= low && a.Value <= high) port = true;
            }
            return ipv4 && transport && port;
        }

        public static Error RemoveFilter(Environment caller, ulong id)
        {
            if (id >= NetworkLimits.MaximumFilters || !s_filters.IsInstalled((int)id)) return Error.InvalidArgument;
            // Its owner, or the environment that gave it (taking back what it delegated).
            if (s_filters.OwnerOf((int)id) != caller.Id && s_filters.DelegatorOf((int)id) != caller.Id) return Error.NotOwner;
            s_filters.Remove((int)id);
            s_filterRing[(int)id] = -1;
            Recompile();
            return Error.None;
        }

        // ---- send

        /// <summary>Checks one frame of 'caller''s, pins its pages and queues it on the device.
        /// Nothing changes on an error.</summary>
        [System.Runtime.CompilerServices.SkipLocalsInit] // every array entry is written before it is read
        public static Error Send(Environment caller, in NicSendRequest request)
        {
            int ring = caller.NetRing;
            if (ring < 0) return Error.InvalidArgument;
            ulong length = request.Length & 0xFFFFFFFF, address = request.Frame;
            ulong segmentWord = request.Length >> NicSendRequest.SegmentSizeShift;
            if (segmentWord > 0xFFFF) return Error.InvalidArgument;
            int segmentSize = (int)segmentWord;
            ulong longest = (ulong)(segmentSize == 0 ? NetworkLimits.MaximumFrameBytes : NicLimits.MaximumSegmentedFrameBytes);
            if (length < NicLimits.MinimumFrameBytes || length > longest) return Error.InvalidArgument;
            if (!UserMemory.IsUserRange(address, length)) return Error.BadAddress;
            Segmentation segmentation = Segmentation.None;
            if (segmentSize != 0)
            {
                Error invalid = CheckSegmented(caller, address, (int)length, segmentSize, out segmentation);
                if (invalid != Error.None) return invalid;
            }
            if (s_ringSendsOut[ring] >= NicLimits.MaximumSendsInFlight)
            {
                // The device may have finished some since its last interrupt (one that came in the
                // kernel waits for the tick): count them now, so a burst does not wait a tick.
                ReapSends();
                if (s_ringSendsOut[ring] >= NicLimits.MaximumSendsInFlight) return Error.WouldBlock;
            }
            int slot = -1;
            for (int k = 0; k < SendSlots && slot < 0; k++)
            {
                int s = (s_sendNext + k) & (SendSlots - 1);
                if (!s_sendBusy[s]) slot = s;
            }
            if (slot < 0) return Error.WouldBlock;
            ulong firstPage = address & ~(PageSize - 1), lastPage = (address + length - 1) & ~(PageSize - 1);
            int pages = (int)((lastPage - firstPage) / PageSize) + 1;
            if (pages > s_device.MaximumPieces || pages > NicLimits.MaximumFramePages) return Error.InvalidArgument;
            ulong* frames = stackalloc ulong[NicLimits.MaximumFramePages];
            ulong* physical = stackalloc ulong[NicLimits.MaximumFramePages];
            uint* lengths = stackalloc uint[NicLimits.MaximumFramePages];
            ulong offset = address & (PageSize - 1), left = length;
            for (int p = 0; p < pages; p++)
            {
                Error error = FramePins.CheckDmaPage(caller, firstPage + (ulong)p * PageSize, false, out frames[p]);
                if (error != Error.None) return error;
                ulong start = p == 0 ? offset : 0, piece = PageSize - start < left ? PageSize - start : left;
                physical[p] = frames[p] * PageSize + start;
                lengths[p] = (uint)piece;
                left -= piece;
            }
            // The source MAC (bytes 6..11) must be the NIC's: an environment cannot speak for another
            // station. Read through the direct map when the 12 bytes lie in the first page (just checked).
            byte* bytes = stackalloc byte[12];
            if (offset + 12 <= PageSize)
                Buffer.MemoryCopy((byte*)KernelMemory.PhysicalToVirtual(physical[0]), bytes, 12, 12);
            else if (!UserMemory.TryRead(caller, address, new Span<byte>(bytes, 12))) return Error.BadAddress;
            ulong source = 0;
            for (int i = 0; i < 6; i++) source |= (ulong)bytes[6 + i] << (8 * i);
            if (source != s_device.MacAddress) return Error.InvalidArgument;
            for (int p = 0; p < pages; p++)
            {
                s_sendFrames[slot * NicLimits.MaximumFramePages + p] = frames[p];
                FramePins.Pin(frames[p]);
            }
            if (!s_device.TrySend(slot, physical, lengths, pages, segmentation))
            {
                for (int p = 0; p < pages; p++) FramePins.Unpin(frames[p]);
                Deliver(); // make room: sends the device finished
                return Error.WouldBlock;
            }
            s_sendBusy[slot] = true;
            s_lastActivity = Cpu.ReadTimestampCounter(); // an answer may follow: the idle loop watches for it
            s_sendNext = (slot + 1) & (SendSlots - 1);
            s_sendRing[slot] = ring;
            s_sendPages[slot] = pages;
            s_ringSendsOut[ring]++;
            return Error.None;
        }

        /// <summary>The rules of a segmented send (NicSendRequest): a device that segments, an
        /// IPv4 datagram that is not a fragment carrying TCP, headers inside the frame with payload
        /// behind them, and a segment size that keeps each segment within Ethernet's 1,500 bytes.
        /// The headers are read from the caller's memory (at most 134 bytes).</summary>
        [System.Runtime.CompilerServices.SkipLocalsInit] // only the bytes read are looked at
        private static Error CheckSegmented(Environment caller, ulong address, int length, int segmentSize, out Segmentation segmentation)
        {
            segmentation = Segmentation.None;
            if (!s_device.CanSegment) return Error.InvalidArgument;
            const int Longest = 14 + 60 + 60;
            byte* header = stackalloc byte[Longest];
            int read = length < Longest ? length : Longest;
            if (read < 14 + 20 + 20 || !UserMemory.TryRead(caller, address, new Span<byte>(header, read))) return read < 54 ? Error.InvalidArgument : Error.BadAddress;
            if (header[12] != 0x08 || header[13] != 0x00 || (header[14] >> 4) != 4 || header[14 + 9] != 6) return Error.InvalidArgument;
            int ip = (header[14] & 0xF) * 4;
            if (ip < 20 || (((header[14 + 6] & 0x3F) << 8) | header[14 + 7]) != 0) return Error.InvalidArgument; // MF or an offset: a fragment
            if (14 + ip + 13 >= read) return Error.InvalidArgument;
            int tcp = (header[14 + ip + 12] >> 4) * 4;
            if (tcp < 20 || 14 + ip + tcp >= length) return Error.InvalidArgument;
            if (segmentSize < NicLimits.MinimumSegmentSize || ip + tcp + segmentSize > 1500) return Error.InvalidArgument;
            segmentation = new Segmentation(segmentSize, ip, tcp);
            return Error.None;
        }

        private static void FinishSend(int slot, bool sent)
        {
            if (slot < 0 || slot >= SendSlots || !s_sendBusy[slot]) return; // the self-test's own
            for (int p = 0; p < s_sendPages[slot]; p++) FramePins.Unpin(s_sendFrames[slot * NicLimits.MaximumFramePages + p]);
            s_sendBusy[slot] = false;
            int ring = s_sendRing[slot];
            if (ring < 0) return;
            s_ringSendsOut[ring]--;
            NicRingHeader* header = (NicRingHeader*)KernelMemory.PhysicalToVirtual(s_ringHeaderFrame[ring] * PageSize);
            if (!sent) header->SendErrors++;
            else s_ringEnv[ring].Page->NetSent++;
            header->SendsDone = ++s_ringSendsDone[ring];
        }

        /// <summary>An environment ended: its filters and its ring go (sends in flight finish on
        /// the device and unpin then).</summary>
        public static void OnEnvironmentEnded(Environment environment)
        {
            if (s_device == null || s_filters == null) return;
            Detach(environment);
            if (s_filters.RemoveAll(environment.Id) > 0) Recompile();
        }
    }
}
