// Network devices (issue #12): the boot-time wiring of the kernel's NIC drivers. The first network
// controller the kernel drives (Hal/E1000.cs: Intel 8254x and 82574L; Hal/VirtioNet.cs: legacy
// virtio-net) is started at boot and its legacy interrupt line unmasked; the multiplexer
// (NetworkDevices.Delivery.cs) decides which environment gets each frame and checks what
// environments send (docs/kernel.md, "Network devices"). The kernel argument `nictest` checks the
// driver end to end against QEMU's user network (an ARP request for its gateway, 10.0.2.2) before
// any environment runs.
//
// Invariants: at most one device (s_device), started at boot and never stopped; s_irq is its
// legacy line or -1; nothing here allocates after Initialize (the interrupt and tick paths use
// the driver's own buffers and the environments' pinned pages; the self-test's frame is one page
// taken when it runs).
using Aegis.Abi;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe partial class NetworkDevices
    {
        private const ushort IntelVendor = 0x8086, VirtioVendor = 0x1AF4, VirtioNetLegacy = 0x1000;

        private static INetworkController s_device;
        private static int s_irq = -1;
        private static bool s_selfTesting;
        private static bool s_reportedLinkUp;
        private static ulong s_interrupts, s_unclaimed, s_pciAddress;

        /// <summary>The legacy IRQ of the device the kernel drives, or -1.</summary>
        public static int Irq => s_irq;
        public static INetworkController Device => s_device;
        /// <summary>Interrupts on the device's line that the device said were its own.</summary>
        public static ulong Interrupts => s_interrupts;
        /// <summary>Frames received that no filter claimed (given straight back to the device).</summary>
        public static ulong Unclaimed => s_unclaimed;

        /// <summary>Starts the first network controller in the PCI table that the kernel drives; one
        /// it does not drive, or that will not start, is reported and the search goes on. A machine
        /// without one prints nothing. Boot only (after PciDevices).</summary>
        public static void Initialize()
        {
            PciTable* table = PciDevices.Table;
            if (table == null) return;
            for (int i = 0; i < (int)table->Count; i++)
            {
                PciFunction* f = PciDevices.Record(i);
                if (f->ClassCode != 0x02) continue; // network controllers only
                string ids = "(" + f->VendorId.ToString("x4") + ":" + f->DeviceId.ToString("x4") + ") at " + Address(f);
                INetworkController device = TryStart(f, ids);
                if (device == null) continue;
                s_device = device;
                s_pciAddress = (ulong)f->Bus << 8 | (ulong)f->Device << 3 | f->Function;
                s_reportedLinkUp = device.LinkUp;
                AllocateMultiplexer();
                // Line 0 is the timer's, 2 the cascade: a firmware that wrote those gave no usable line.
                if (f->InterruptPin != 0 && f->InterruptLine < 16 && f->InterruptLine != 0 && f->InterruptLine != 2)
                {
                    s_irq = f->InterruptLine;
                    ProgrammableInterruptController.Unmask(s_irq);
                }
                KernelLog.WriteLine("Aegis: network: " + device.Name + " " + ids + ", MAC " + NetworkControllerText.Mac(device.MacAddress)
                    + ", link " + (device.LinkUp ? "up" : "down") + ", IRQ " + (s_irq < 0 ? "none (polled at ticks)" : s_irq.ToString()));
                return;
            }
        }

        /// <summary>Starts the network function f with the driver its ids name (Intel 8254x and
        /// 82574L: Hal/E1000.cs; legacy virtio-net: Hal/VirtioNet.cs); null, said in a line, when
        /// there is none or it will not start.</summary>
        private static INetworkController TryStart(PciFunction* f, string ids)
        {
            string model = f->VendorId == IntelVendor ? E1000.ModelName(f->DeviceId)
                : f->VendorId == VirtioVendor && f->DeviceId == VirtioNetLegacy ? "virtio-net" : null;
            if (model == null)
            {
                KernelLog.WriteLine("Aegis: network: " + ids + " not used: the kernel has no driver for it (it drives Intel 8254x and 82574L: QEMU's e1000, e1000-82545em, e1000-82544gc, e1000e; and legacy virtio-net 1af4:1000: QEMU's virtio-net-pci)");
                return null;
            }
            bool virtio = f->VendorId == VirtioVendor;
            if (virtio ? (f->BarFlags[0] & PciBarFlags.Io) == 0 : (f->BarFlags[0] & PciBarFlags.Memory) == 0 || f->BarSize[0] == 0)
            {
                KernelLog.WriteLine("Aegis: network: " + model + " " + ids + " not used: it has no " + (virtio ? "I/O" : "memory") + " BAR 0");
                return null;
            }
            EnableDecoding(f, virtio ? 0x1u : 0x2u);
            string problem;
            INetworkController device = virtio ? VirtioNet.TryStart((ushort)f->BarBase[0], out problem)
                : E1000.TryStart(f->DeviceId, f->BarBase[0], f->BarSize[0], out problem);
            if (device == null) KernelLog.WriteLine("Aegis: network: " + model + " " + ids + " not used: " + problem);
            return device;
        }

        private static string Address(PciFunction* f)
            => f->Bus.ToString("x2") + ":" + f->Device.ToString("x2") + "." + f->Function.ToString();

        /// <summary>Turns on decoding ('space': 1 I/O, 2 memory), bus mastering (DMA) and the legacy
        /// interrupt (clears Interrupt Disable) in the function's command register; the firmware may
        /// have left them off.</summary>
        private static void EnableDecoding(PciFunction* f, uint space)
        {
            var ports = new PciConfigurationPorts();
            uint command = ports.Read(f->Bus, f->Device, f->Function, 4) & 0xFFFF;
            ports.Write(f->Bus, f->Device, f->Function, 4, (command | space | 0x4) & ~0x400u);
        }

        /// <summary>The device's interrupt (its line may be shared with a disk's): clears its causes;
        /// when 'safe' (it came from user mode or the idle loop) frames go to their rings and
        /// their owners are woken now, else at the next tick. Allocates nothing.</summary>
        public static void OnInterrupt(bool safe)
        {
            if (s_device == null) return;
            if (s_device.AcknowledgeInterrupt())
            {
                s_interrupts++;
                s_lastActivity = Cpu.ReadTimestampCounter();
            }
            if (!safe || s_selfTesting) return;
            Deliver();
            DeliverNews();
        }

        // ---- the idle loop's look at the receive ring (docs/kernel.md, "Network devices")

        /// <summary>How long after the device's last interrupt or send the idle loop watches its
        /// receive ring instead of halting (TSC ticks; 0: never, the kernel argument nicwatch=0).</summary>
        private static ulong s_windowTicks;
        /// <summary>How long the watch waits, once a frame came, for the rest of its burst (TSC ticks, GatherMicroseconds).</summary>
        private static ulong s_gatherTicks;
        /// <summary>How long the watch rests after a window that closed with no frame (TSC ticks, RestMicroseconds).</summary>
        private static ulong s_restTicks;
        private const ulong GatherMicroseconds = 15, RestMicroseconds = 1000;

        /// <summary>The watch's window (nicwatch: microseconds, 0 turns the watch off). Boot only,
        /// after the clock's calibration.</summary>
        public static void SetWatch(ulong windowMicroseconds)
        {
            ulong perMicrosecond = Clock.TimestampHz / 1_000_000;
            s_windowTicks = perMicrosecond * windowMicroseconds;
            s_gatherTicks = perMicrosecond * GatherMicroseconds;
            s_restTicks = perMicrosecond * RestMicroseconds;
        }
        private static ulong s_lastActivity, s_watchedFrames, s_restUntil;

        /// <summary>The idle loop, before it halts (interrupts on): within the window (nicwatch) of the
        /// device's last interrupt or send, watches the receive ring until a frame comes (delivered
        /// now: its owner need not wait for the interrupt an emulated card holds back), an
        /// interrupt or a tick ends the idle span, or the window closes. True when the loop should
        /// look for work instead of halting. Allocates nothing.</summary>
        public static bool WatchWhileIdle()
        {
            if (s_device == null || s_windowTicks == 0 || s_selfTesting) return false;
            ulong ticks = Clock.Ticks, start = Cpu.ReadTimestampCounter();
            if (start < s_restUntil || start - s_lastActivity >= s_windowTicks) return false;
            while (true)
            {
                ulong now = Cpu.ReadTimestampCounter();
                if (now - s_lastActivity >= s_windowTicks)
                {
                    // Nothing came: the peer is slow, or the host is too busy to bring frames while
                    // this CPU spins (its spin then delays them). Halt for a while instead.
                    s_restUntil = now + s_restTicks;
                    return false;
                }
                if (!Scheduler.HaltedSpanOpen || Clock.Ticks != ticks) return true; // an interrupt did something
                if (!s_device.HasReceived)
                {
                    Cpu.Pause();
                    continue;
                }
                // The rest of a burst (a handshake's ACK and the request behind it) comes within
                // microseconds: taken with this frame, it costs its owner one wake, not one a frame.
                ulong seen = Cpu.ReadTimestampCounter();
                while (Cpu.ReadTimestampCounter() - seen < s_gatherTicks && Scheduler.HaltedSpanOpen) Cpu.Pause();
                if (!Scheduler.HaltedSpanOpen) return true; // the interrupt came meanwhile and delivered them
                Cpu.DisableInterrupts();
                Scheduler.EndHalted();
                s_watchedFrames++;
                s_lastActivity = Cpu.ReadTimestampCounter();
                // The causes the card holds for its interrupt go first (an interrupt later would
                // find nothing to do: a kernel entry for nothing); a frame that comes after this
                // raises them again.
                s_device.AcknowledgeInterrupt();
                Deliver();
                DeliverNews();
                Cpu.EnableInterrupts();
                return true;
            }
        }

        /// <summary>Timer tick (at a safe point): what the interrupt left, and a link change said once.</summary>
        public static void OnTick()
        {
            if (s_device == null || s_selfTesting) return;
            Deliver();
            DeliverNews();
            if (s_device.LinkUp != s_reportedLinkUp)
            {
                s_reportedLinkUp = s_device.LinkUp;
                KernelLog.Write("Aegis: network: ");
                KernelLog.Write(s_device.Name);
                KernelLog.WriteLine(s_reportedLinkUp ? ": link up" : ": link down");
            }
        }

        // ---- the kernel argument nictest

        private const uint GuestAddress = 0x0A00020F;   // 10.0.2.15: QEMU's user network gives the guest this
        private const uint GatewayAddress = 0x0A000202; // 10.0.2.2: its gateway, which answers ARP
        private const int ArpFrameBytes = 42;

        /// <summary>Sends an ARP request for 10.0.2.2 from 10.0.2.15 and waits (2 s at most) for the
        /// reply from QEMU's user network (slirp), polling the driver; prints the result in one line
        /// beginning "nictest: ". Boot only (interrupts on, no environment yet).</summary>
        public static void SelfTest()
        {
            if (s_device == null)
            {
                KernelLog.WriteLine("nictest: FAIL: no network device the kernel drives (./aegis run --nic e1000|e1000-82545em|e1000e|virtio)");
                return;
            }
            if (!KernelMemory.Frames.TryAllocate(out ulong frame))
            {
                KernelLog.WriteLine("nictest: FAIL: no memory for the request");
                return;
            }
            ulong physical = frame * 4096;
            byte* request = (byte*)KernelMemory.PhysicalToVirtual(physical);
            ulong mac = s_device.MacAddress;
            WriteArpRequest(request, mac, GuestAddress, GatewayAddress);

            s_selfTesting = true;
            ulong hz = Clock.TimestampHz;
            ulong started = Cpu.ReadTimestampCounter(), deadline = started + 2 * hz;
            ulong interruptsBefore = s_interrupts;
            uint length = ArpFrameBytes;
            bool queued = s_device.TrySend(1, &physical, &length, 1, Segmentation.None);
            bool sent = false, refused = false;
            int others = 0;
            ulong replyFrom = 0;
            while (queued && replyFrom == 0 && Cpu.ReadTimestampCounter() < deadline)
            {
                while (s_device.TryTakeSent(out _, out bool went))
                {
                    if (went) sent = true;
                    else refused = true;
                }
                while (replyFrom == 0 && s_device.TryTakeReceived(out int buffer, out int bytes, out byte* data))
                {
                    if (IsArpReplyFromGateway(data, bytes, mac, out ulong sender)) replyFrom = sender;
                    else others++;
                    s_device.ReturnBuffer(buffer);
                }
                if (replyFrom == 0) Cpu.Halt(); // until the device's interrupt or the next timer tick
            }
            ulong microseconds = (Cpu.ReadTimestampCounter() - started) / (hz / 1_000_000 == 0 ? 1 : hz / 1_000_000);
            while (s_device.TryTakeSent(out _, out bool went)) { if (went) sent = true; else refused = true; }
            s_selfTesting = false;

            string counts = "; received " + s_device.Received.ToString() + ", sent " + s_device.Sent.ToString() + ", dropped "
                + s_device.Dropped.ToString() + ", errors " + s_device.Errors.ToString() + ", interrupts "
                + (s_interrupts - interruptsBefore).ToString() + ", link " + (s_device.LinkUp ? "up" : "down");
            if (replyFrom != 0)
                KernelLog.WriteLine("nictest: 10.0.2.2 is at " + NetworkControllerText.Mac(replyFrom) + " (reply after "
                    + microseconds.ToString() + " us" + counts + ")");
            else if (!queued)
                KernelLog.WriteLine("nictest: FAIL: the driver would not queue the request" + counts);
            else
                KernelLog.WriteLine("nictest: FAIL: no ARP reply from 10.0.2.2 within 2 s (the request "
                    + (sent ? "was sent" : refused ? "was refused" : "was not sent") + ", " + others.ToString()
                    + " other frames" + counts + ")");
        }

        /// <summary>A broadcast Ethernet frame carrying an ARP request (RFC 826, IPv4 over Ethernet):
        /// who has targetIp? tell senderIp (at senderMac).</summary>
        private static void WriteArpRequest(byte* frame, ulong senderMac, uint senderIp, uint targetIp)
        {
            WriteMac(frame, 0xFFFFFFFFFFFF);
            WriteMac(frame + 6, senderMac);
            frame[12] = 0x08; frame[13] = 0x06;             // EtherType ARP
            frame[14] = 0; frame[15] = 1;                   // hardware: Ethernet
            frame[16] = 0x08; frame[17] = 0x00;             // protocol: IPv4
            frame[18] = 6; frame[19] = 4;                   // address lengths
            frame[20] = 0; frame[21] = 1;                   // request
            WriteMac(frame + 22, senderMac);
            WriteIp(frame + 28, senderIp);
            WriteMac(frame + 32, 0);
            WriteIp(frame + 38, targetIp);
        }

        private static bool IsArpReplyFromGateway(byte* frame, int length, ulong ourMac, out ulong sender)
        {
            sender = 0;
            if (length < ArpFrameBytes || frame[12] != 0x08 || frame[13] != 0x06) return false;
            if (frame[20] != 0 || frame[21] != 2 || ReadIp(frame + 28) != GatewayAddress || ReadIp(frame + 38) != GuestAddress) return false;
            if (ReadMac(frame + 32) != ourMac) return false;
            sender = ReadMac(frame + 22);
            return sender != 0;
        }

        private static void WriteMac(byte* at, ulong mac)
        {
            for (int i = 0; i < 6; i++) at[i] = (byte)(mac >> (8 * i));
        }

        private static ulong ReadMac(byte* at)
        {
            ulong mac = 0;
            for (int i = 0; i < 6; i++) mac |= (ulong)at[i] << (8 * i);
            return mac;
        }

        private static void WriteIp(byte* at, uint address)
        {
            at[0] = (byte)(address >> 24); at[1] = (byte)(address >> 16); at[2] = (byte)(address >> 8); at[3] = (byte)address;
        }

        private static uint ReadIp(byte* at) => (uint)at[0] << 24 | (uint)at[1] << 16 | (uint)at[2] << 8 | at[3];
    }
}
