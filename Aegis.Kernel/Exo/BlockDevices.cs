// Disks (issue #11; docs/kernel.md "Disks", docs/abi.md "Disks"): the kernel multiplexes block
// devices and protects their sectors with secure bindings — an Extent capability names an extent
// of the disk's on-disk extent table (Core/Block/ExtentTable.cs); every request is checked against
// it when it is made, its buffer's frames checked and pinned, and the data moves by DMA straight
// between the device and the environment's own frames (no kernel copy). Completions are kept
// for their environment until it collects them (BlockComplete), and wake its Wait.
//
// Invariants:
//  - a request slot is Free, Queued (checked, pinned, waiting for descriptors), InFlight (on the
//    device) or Done (completed, kept for its owner); Requests[owner] counts its Queued, InFlight
//    and Done slots, at most BlockLimits.MaximumRequestsPerEnvironment;
//  - a frame's pin count is the number of Queued and InFlight slots holding it; a pinned frame is
//    never returned to the frame pool: a free while pinned (FrameFree, revocation, an end) marks
//    it and the last unpin returns it (FramePins) — so a device never writes a frame someone
//    else got;
//  - a device that stops answering (TimeoutTicks) is marked failed: its in-flight requests complete
//    with DeviceError but keep their frames pinned for ever (the device may still write them);
//  - nothing on a path an environment drives allocates: slots, pins and buffers are made at boot.
using System;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Block;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Core.Pci;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class BlockDevices
    {
        private enum SlotState : byte { Free, Queued, InFlight, Done }

        private const int Slots = BlockLimits.MaximumRequests;
        private const int Pages = BlockLimits.MaximumPagesPerRequest;
        private const int KernelSlot = Slots; // the extent table's own writes
        private const ulong PageSize = 4096;
        private const ulong TimeoutSeconds = 60;

        /// <summary>The disk (one for now: disk 0).</summary>
        private static IBlockController s_device;
        private static ExtentTable s_table;
        private static bool s_formatted, s_failed;
        private static ulong s_pciAddress, s_completed, s_failedRequests;
        private static int s_irq = -1;

        // Request slots (KernelSlot included), parallel arrays.
        private static SlotState[] s_state;
        private static ulong[] s_owner, s_tag, s_sector, s_doneOrder, s_submittedAt;
        private static long[] s_status;
        private static BlockOperation[] s_operation;
        private static int[] s_pages;
        private static ulong[] s_frames;        // Pages per slot
        private static ulong s_doneCounter;
        private static bool s_anyNews;
        private static bool[] s_news;

        // The table's buffer: one copy (ExtentTable.CopyBytes), physically contiguous.
        private static ulong s_tableBufferPhysical;
        private static byte* s_tableBuffer;

        public static int Irq => s_irq;
        public static bool HasNews => s_anyNews;
        public static ulong Completed => s_completed;

        /// <summary>Finds the first disk controller the kernel drives in the PCI table (virtio-blk,
        /// or an AHCI controller with an ATA disk), starts it and reads its extent table; one that
        /// will not start is reported and the search goes on. Boot only, after PciDevices and
        /// Environments (the ledger's size) are set up.</summary>
        public static void Initialize()
        {
            PciTable* table = PciDevices.Table;
            if (table == null) return;
            for (int i = 0; i < (int)table->Count; i++)
            {
                PciFunction* f = PciDevices.Record(i);
                IBlockController device = null;
                string problem = null;
                if (f->VendorId == 0x1AF4 && f->DeviceId == 0x1001)
                {
                    if ((f->BarFlags[0] & PciBarFlags.Io) == 0)
                    {
                        KernelLog.WriteLine("Aegis: disk: virtio-blk " + Address(f) + " has no I/O BAR 0 (a modern-only device; the kernel drives the legacy interface): not used");
                        continue;
                    }
                    EnableDecoding(f, 0x1); // I/O space
                    device = VirtioBlock.TryStart((ushort)f->BarBase[0], out problem);
                    if (device == null) KernelLog.WriteLine("Aegis: disk: virtio-blk " + Address(f) + " did not start: " + problem);
                }
                else if (f->ClassCode == 0x01 && f->Subclass == 0x06 && f->ProgIf == 0x01)
                {
                    if ((f->BarFlags[5] & PciBarFlags.Memory) == 0 || f->BarSize[5] == 0)
                    {
                        KernelLog.WriteLine("Aegis: disk: AHCI " + Address(f) + " has no memory BAR 5 (ABAR): not used");
                        continue;
                    }
                    EnableDecoding(f, 0x2); // memory space
                    device = AhciDisk.TryStart(f->BarBase[5], f->BarSize[5], out problem);
                    if (device == null) KernelLog.WriteLine("Aegis: disk: AHCI " + Address(f) + " not used: " + problem);
                }
                if (device == null) continue;
                Attach(f, device);
                return;
            }
        }

        private static string Address(PciFunction* f)
            => f->Bus.ToString("x2") + ":" + f->Device.ToString("x2") + "." + f->Function.ToString();

        /// <summary>Turns on the function's decoding ('space': 1 I/O, 2 memory), bus mastering (DMA)
        /// and its legacy interrupt (clears Interrupt Disable); the firmware may have left them off.</summary>
        private static void EnableDecoding(PciFunction* f, uint space)
        {
            var ports = new PciConfigurationPorts();
            uint command = ports.Read(f->Bus, f->Device, f->Function, 4) & 0xFFFF;
            ports.Write(f->Bus, f->Device, f->Function, 4, (command | space | 0x4) & ~0x400u);
        }

        private static void Attach(PciFunction* f, IBlockController device)
        {
            s_pciAddress = (ulong)f->Bus << 8 | (ulong)f->Device << 3 | f->Function;
            AllocateState();
            s_device = device;
            s_table = new ExtentTable();
            // A request unanswered for TimeoutSeconds of guest time fails the disk. Not 5 s: under
            // QEMU's -icount sleep=off the guest's clock races ahead while it idles waiting for the
            // host's I/O (tens of guest seconds per host second), and a loaded host's flush then
            // looked like a dead device (kvbench under --icount).
            s_timeoutTicksValue = Clock.TimestampHz * TimeoutSeconds;
            string tableProblem = LoadTable();
            if (f->InterruptLine < 16 && f->InterruptPin != 0)
            {
                s_irq = f->InterruptLine;
                ProgrammableInterruptController.Unmask(s_irq);
            }
            ulong sectors = device.Sectors;
            string summary = "Aegis: disk 0: " + device.Name + " " + Address(f) + ", " + sectors.ToString() + " sectors ("
                + (sectors / 2048).ToString() + " MiB), IRQ " + (s_irq < 0 ? "none (polled at ticks)" : s_irq.ToString());
            if (s_formatted)
            {
                summary += ", " + s_table.Count.ToString() + " extent" + (s_table.Count == 1 ? "" : "s");
                for (int i = 0; i < ExtentTable.Records; i++)
                {
                    if (!s_table.IsInUse(i)) continue;
                    summary += " " + NameString(i) + " " + s_table.StartOf(i).ToString() + "+" + s_table.SectorsOf(i).ToString();
                }
            }
            else summary += "; no extent table (" + tableProblem + "): only BlockInfo works until the front door formats it";
            KernelLog.WriteLine(summary);
        }

        private static ulong s_timeoutTicksValue;

        private static string NameString(int index)
        {
            ReadOnlySpan<byte> name = s_table.NameOf(index);
            char[] chars = new char[name.Length];
            for (int i = 0; i < name.Length; i++) chars[i] = name[i] >= 0x20 && name[i] < 0x7F ? (char)name[i] : '?';
            return new string(chars);
        }

        private static void AllocateState()
        {
            int slots = Slots + 1;
            s_state = new SlotState[slots];
            s_owner = new ulong[slots]; s_tag = new ulong[slots]; s_sector = new ulong[slots];
            s_doneOrder = new ulong[slots]; s_submittedAt = new ulong[slots];
            s_status = new long[slots];
            s_operation = new BlockOperation[slots];
            s_pages = new int[slots];
            s_frames = new ulong[slots * Pages];
            s_news = new bool[slots];
            FramePins.Initialize();
            if (!KernelMemory.Frames.TryAllocateContiguous(2, out ulong buffer))
                Diagnostics.Panic.Fail("no memory", "cannot allocate the extent table's buffer");
            s_tableBufferPhysical = buffer * PageSize;
            s_tableBuffer = (byte*)KernelMemory.PhysicalToVirtual(s_tableBufferPhysical);
        }

        // ---- the extent table on the disk

        /// <summary>Reads both copies (polled) and loads the newer valid one; null, or why not.</summary>
        private static string LoadTable()
        {
            ulong sectors = s_device.Sectors;
            Span<byte> a = new Span<byte>(s_tableBuffer, ExtentTable.CopyBytes);
            if (KernelIo(BlockOperation.Read, BlockLimits.TableCopyA) != Error.None) return "the device failed reading it";
            byte[] copyA = a.ToArray();
            if (KernelIo(BlockOperation.Read, BlockLimits.TableCopyB) != Error.None) return "the device failed reading it";
            s_formatted = s_table.TryLoad(copyA, a, sectors, out string problem);
            return problem;
        }

        /// <summary>Writes the table's next copy and flushes; on success it is the current copy.</summary>
        private static Error WriteTable()
        {
            Span<byte> buffer = new Span<byte>(s_tableBuffer, ExtentTable.CopyBytes);
            int copy = s_table.WriteNext(buffer);
            Error error = KernelIo(BlockOperation.Write, copy == 0 ? BlockLimits.TableCopyA : BlockLimits.TableCopyB);
            if (error == Error.None && s_device.HasFlush) error = KernelIo(BlockOperation.Flush, 0);
            if (error == Error.None) s_table.Commit();
            return error;
        }

        /// <summary>One request of the kernel's own (the table's buffer, one copy's sectors), waited
        /// for by polling the device (bounded: the disk fails after the timeout). Other requests the
        /// device finishes meanwhile complete as usual.</summary>
        private static Error KernelIo(BlockOperation operation, ulong sector)
        {
            if (s_failed) return Error.DeviceError;
            ulong data = s_tableBufferPhysical;
            uint length = ExtentTable.CopyBytes;
            ulong started = Cpu.ReadTimestampCounter();
            while (!s_device.TryStart(KernelSlot, operation, sector, &data, &length, operation == BlockOperation.Flush ? 0 : 1))
            {
                // The device is full: wait for it to finish something.
                if (!PollOnce() && Cpu.ReadTimestampCounter() - started > s_timeoutTicksValue) { FailDisk(); return Error.DeviceError; }
            }
            s_state[KernelSlot] = SlotState.InFlight;
            while (s_state[KernelSlot] == SlotState.InFlight)
            {
                if (!PollOnce() && Cpu.ReadTimestampCounter() - started > s_timeoutTicksValue)
                {
                    FailDisk();
                    return Error.DeviceError;
                }
            }
            Error result = (Error)s_status[KernelSlot];
            s_state[KernelSlot] = SlotState.Free;
            return result;
        }

        /// <summary>Takes finished requests off the device; true when one was taken.</summary>
        private static bool PollOnce()
        {
            bool any = false;
            while (s_device.TryTakeCompleted(out int slot, out bool succeeded))
            {
                any = true;
                if (slot < 0 || slot > KernelSlot || s_state[slot] != SlotState.InFlight) continue; // nothing of ours in flight there
                if (slot == KernelSlot)
                {
                    s_status[KernelSlot] = (long)(succeeded ? Error.None : Error.DeviceError);
                    s_state[KernelSlot] = SlotState.Done;
                    continue;
                }
                Finish(slot, succeeded ? Error.None : Error.DeviceError);
            }
            if (any) StartQueued();
            return any;
        }

        // ---- requests of environments

        /// <summary>The device's interrupt: finished requests complete (their owners hear of it at
        /// DeliverNews).</summary>
        public static void OnInterrupt()
        {
            if (s_device == null) return;
            s_device.AcknowledgeInterrupt();
            PollOnce();
        }

        /// <summary>Timer tick (at a safe point): completions the interrupt missed, the timeout, news.</summary>
        public static void OnTick()
        {
            if (s_device == null) return;
            PollOnce();
            if (!s_failed)
            {
                ulong now = Cpu.ReadTimestampCounter();
                for (int i = 0; i < Slots; i++)
                    if (s_state[i] == SlotState.InFlight && now - s_submittedAt[i] > s_timeoutTicksValue) { FailDisk(); break; }
            }
            if (s_anyNews) DeliverNews();
        }

        /// <summary>The device stopped answering: every request in flight completes with DeviceError
        /// (its frames stay pinned: the device may still write them), queued ones too (unpinned),
        /// and every later request fails.</summary>
        private static void FailDisk()
        {
            if (s_failed) return;
            s_failed = true;
            KernelLog.WriteLine("Aegis: disk 0: the device did not answer within " + TimeoutSeconds.ToString() + " s: it is marked failed; every request now fails with DeviceError");
            for (int i = 0; i < Slots; i++)
            {
                if (s_state[i] == SlotState.InFlight) { s_pages[i] = 0; Finish(i, Error.DeviceError); }
                else if (s_state[i] == SlotState.Queued) Finish(i, Error.DeviceError);
            }
        }

        /// <summary>A request ended: its frames unpinned, kept for its owner (or freed if it is gone).</summary>
        private static void Finish(int slot, Error status)
        {
            for (int p = 0; p < s_pages[slot]; p++) FramePins.Unpin(s_frames[slot * Pages + p]);
            s_pages[slot] = 0;
            if (status == Error.None) s_completed++; else s_failedRequests++;
            Environment owner = Environments.Find(s_owner[slot]);
            if (owner == null || !owner.IsAlive)
            {
                s_state[slot] = SlotState.Free;
                return;
            }
            s_state[slot] = SlotState.Done;
            s_status[slot] = (long)status;
            s_doneOrder[slot] = ++s_doneCounter;
            s_news[slot] = true;
            s_anyNews = true;
        }

        /// <summary>Queued requests onto the device while descriptors last, oldest slot order.</summary>
        private static void StartQueued()
        {
            for (int i = 0; i < Slots; i++)
                if (s_state[i] == SlotState.Queued && !TryStart(i)) return;
        }

        private static bool TryStart(int slot)
        {
            ulong* data = stackalloc ulong[Pages];
            uint* lengths = stackalloc uint[Pages];
            int count = s_pages[slot];
            if (s_operation[slot] == BlockOperation.Flush && !s_device.HasFlush)
            {
                // A device without a write cache: every completed write is already durable.
                s_state[slot] = SlotState.InFlight;
                Finish(slot, Error.None);
                return true;
            }
            for (int p = 0; p < count; p++) { data[p] = s_frames[slot * Pages + p] * PageSize; lengths[p] = (uint)PageSize; }
            if (!s_device.TryStart(slot, s_operation[slot], s_sector[slot], data, lengths, count))
                return false;
            s_state[slot] = SlotState.InFlight;
            s_submittedAt[slot] = Cpu.ReadTimestampCounter();
            return true;
        }

        /// <summary>Tells owners of new completions: a Wait returns (or the next one does at once).</summary>
        public static void DeliverNews()
        {
            if (!s_anyNews) return;
            s_anyNews = false;
            for (int i = 0; i < Slots; i++)
            {
                if (!s_news[i]) continue;
                s_news[i] = false;
                Environment owner = Environments.Find(s_owner[i]);
                if (owner == null || !owner.IsAlive) continue;
                if (owner.State == EnvironmentState.Blocked && owner.Blocked == BlockReason.Waiting)
                    Scheduler.Wake(owner, WaitResult.Woken, 0);
                else
                    owner.WakeupPending = true;
            }
        }

        /// <summary>An environment ended: its completions and queued requests go; requests in flight
        /// finish on the device and are dropped then (Finish finds the owner gone).</summary>
        public static void OnEnvironmentEnded(Environment environment)
        {
            if (s_device == null) return;
            for (int i = 0; i < Slots; i++)
            {
                if (s_owner[i] != environment.Id) continue;
                if (s_state[i] == SlotState.Done) s_state[i] = SlotState.Free;
                else if (s_state[i] == SlotState.Queued)
                {
                    for (int p = 0; p < s_pages[i]; p++) FramePins.Unpin(s_frames[i * Pages + p]);
                    s_pages[i] = 0;
                    s_state[i] = SlotState.Free;
                }
            }
        }

        // ---- the system calls' work (SystemCalls.Block.cs checks the capability slots)

        public static bool Present => s_device != null;

        /// <summary>The extent an Extent capability's object names, if it still exists.</summary>
        public static Error ResolveExtent(ulong objectId, out int index, out bool writable)
        {
            index = (int)(objectId & ExtentCapability.IndexMask);
            writable = (objectId & ExtentCapability.Writable) != 0;
            ulong disk = (objectId >> ExtentCapability.DiskShift) & 0xFF;
            uint generation = (uint)(objectId >> ExtentCapability.GenerationShift);
            if (s_device == null || disk != 0 || !s_formatted) return Error.NoSuchExtent;
            if (index >= ExtentTable.Records || !s_table.IsInUse(index) || s_table.GenerationOf(index) != generation) return Error.NoSuchExtent;
            return Error.None;
        }

        public static ulong ExtentObject(int index, bool writable)
            => (ulong)(uint)index | (writable ? ExtentCapability.Writable : 0) | ((ulong)s_table.GenerationOf(index) << ExtentCapability.GenerationShift);

        public static void FillDiskInfo(BlockInfo* info)
        {
            info->Sectors = s_device.Sectors;
            info->FreeOrStart = s_formatted ? s_table.FreeSectors : 0;
            info->Flags = (s_formatted ? BlockInfoFlags.Formatted : 0) | (s_failed ? BlockInfoFlags.Failed : 0) | BlockInfoFlags.Writable;
            info->Extents = s_formatted ? (ulong)s_table.Count : 0;
            FillCommon(info);
        }

        public static void FillExtentInfo(BlockInfo* info, int index, bool writable)
        {
            info->Sectors = s_table.SectorsOf(index);
            info->FreeOrStart = s_table.StartOf(index);
            info->Flags = BlockInfoFlags.Extent | BlockInfoFlags.Formatted | (writable ? BlockInfoFlags.Writable : 0) | (s_failed ? BlockInfoFlags.Failed : 0);
            info->Extents = (ulong)index;
            FillCommon(info);
        }

        private static void FillCommon(BlockInfo* info)
        {
            info->Completed = s_completed;
            info->Failed = s_failedRequests;
            info->PciAddress = s_pciAddress;
            info->Controller = (ulong)s_device.Kind;
        }

        public static Error Open(ReadOnlySpan<byte> name, out int index)
        {
            index = -1;
            if (s_device == null || !s_formatted) return Error.NoSuchExtent;
            index = s_table.Find(name);
            return index < 0 ? Error.NoSuchExtent : Error.None;
        }

        public static Error Allocate(ulong sectors, ReadOnlySpan<byte> name, out int index)
        {
            index = -1;
            if (s_device == null || !s_formatted) return Error.NoSuchExtent;
            if (s_failed) return Error.DeviceError;
            Error error = s_table.Allocate(sectors, name, out index);
            if (error != Error.None) return error;
            error = WriteTable();
            if (error != Error.None)
            {
                s_table.Restore(index, false, 0, 0, s_table.GenerationOf(index), default);
                index = -1;
            }
            return error;
        }

        public static Error Free(int index)
        {
            if (s_failed) return Error.DeviceError;
            ulong start = s_table.StartOf(index), sectors = s_table.SectorsOf(index);
            uint generation = s_table.GenerationOf(index);
            Span<byte> name = stackalloc byte[BlockLimits.NameBytes];
            name.Clear();
            s_table.NameOf(index).CopyTo(name);
            s_table.Free(index);
            Error error = WriteTable();
            if (error != Error.None) s_table.Restore(index, true, start, sectors, generation, name);
            return error;
        }

        /// <summary>Checks one request of 'caller' on extent 'index' and starts it (or queues it for
        /// descriptors). Nothing changes on an error.</summary>
        public static Error Submit(Environment caller, int index, bool writable, in BlockRequest request)
        {
            if (s_failed) return Error.DeviceError;
            BlockOperation operation = request.Operation;
            ulong pages = request.Pages;
            if (operation == BlockOperation.Flush)
            {
                if (request.Sector != 0 || request.Buffer != 0 || pages != 0) return Error.InvalidArgument;
                if (!writable) return Error.NoCapability;
            }
            else if (operation == BlockOperation.Read || operation == BlockOperation.Write)
            {
                if (pages == 0 || pages > Pages || (request.Buffer & (PageSize - 1)) != 0) return Error.InvalidArgument;
                ulong sectors = pages * BlockLimits.SectorsPerPage, extent = s_table.SectorsOf(index);
                if (request.Sector > extent || sectors > extent - request.Sector) return Error.InvalidArgument; // outside the extent
                if (operation == BlockOperation.Write && !writable) return Error.NoCapability;
                if (!UserMemory.IsUserRange(request.Buffer, pages * PageSize)) return Error.BadAddress;
            }
            else return Error.InvalidArgument;
            if (caller.BlockRequests >= BlockLimits.MaximumRequestsPerEnvironment) return Error.WouldBlock;
            int slot = -1;
            for (int i = 0; i < Slots && slot < 0; i++) if (s_state[i] == SlotState.Free) slot = i;
            if (slot < 0) return Error.WouldBlock;
            // The buffer: every page mapped for the caller, writable when the device writes it, and
            // a frame of RAM the caller owns or was granted (never a device frame).
            bool deviceWrites = operation == BlockOperation.Read;
            for (ulong p = 0; p < pages; p++)
            {
                Error error = FramePins.CheckDmaPage(caller, request.Buffer + p * PageSize, deviceWrites, out ulong frame);
                if (error != Error.None) return error;
                s_frames[slot * Pages + (int)p] = frame;
            }
            for (ulong p = 0; p < pages; p++) FramePins.Pin(s_frames[slot * Pages + (int)p]);
            s_pages[slot] = (int)pages;
            s_owner[slot] = caller.Id;
            s_tag[slot] = request.Tag;
            s_operation[slot] = operation;
            s_sector[slot] = s_table.StartOf(index) + request.Sector;
            s_news[slot] = false;
            s_state[slot] = SlotState.Queued;
            caller.BlockRequests++;
            StartQueued();
            return Error.None;
        }

        /// <summary>Up to 'count' of the caller's completed requests, oldest first, into 'into'
        /// (each collected once).</summary>
        public static int Collect(Environment caller, BlockCompletion* into, int count)
        {
            if (s_device == null) return 0;
            PollOnce();
            int written = 0;
            while (written < count)
            {
                int oldest = -1;
                for (int i = 0; i < Slots; i++)
                    if (s_state[i] == SlotState.Done && s_owner[i] == caller.Id && (oldest < 0 || s_doneOrder[i] < s_doneOrder[oldest])) oldest = i;
                if (oldest < 0) break;
                into[written].Tag = s_tag[oldest];
                into[written].Status = s_status[oldest];
                written++;
                s_state[oldest] = SlotState.Free;
                s_news[oldest] = false;
                caller.BlockRequests--;
            }
            return written;
        }
    }
}
