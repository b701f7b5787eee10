// Input devices and the display, multiplexed through capabilities (issue #9). Mechanism only:
// the kernel moves bytes and hands over the screen; what the bytes mean (scan codes, a line
// discipline) and what is drawn is the libOS's business.
//  - Each InputDevice (Keyboard: PS/2 on IRQ 1; Serial: COM1 on IRQ 4) has a fixed ring of
//    InputLimits.RingBytes (Core/Exo/InputRing.cs); its interrupt handler only moves the
//    hardware's bytes into it and notes that the device has news (no allocation, a bounded
//    number of port reads). InputRead (SystemCalls.Devices.cs) takes them out. Flow control: a
//    driver moves bytes only while the ring has room and holds the rest in the device (COM1's
//    FIFO with its receive interrupt off; the keyboard controller's buffer) until an InputRead
//    makes room (Resume): no byte is dropped, the sender waits (QEMU stops reading its input).
//  - Each device has up to InputLimits.WatchersPerDevice watchers (InputWatch; Core/Exo/
//    InputWatchers.cs), and bytes wake every one of them, as a tty's bytes wake all its readers:
//    a shell reading and a job of its group waiting elsewhere for ^C both hear (when full, an
//    InputWatch drops the watcher that asked longest ago). The news reaches each watcher
//    at a safe point — at the end of the interrupt when it interrupted ring 3 or the idle loop,
//    else at the next timer tick that does (Scheduler.OnTick) — never in the middle of other
//    kernel code: a watcher blocked in Wait gets an UpcallKind.Input upcall (Word0 = the device)
//    and its Wait returns 0 (without an upcall entry its Wait just returns); a watcher not in
//    Wait gets a pending wakeup (its next Wait returns at once). No wakeup is lost: bytes that
//    arrive between a libOS's empty InputRead and its Wait leave the wakeup pending.
//  - The display: DeviceMap maps the VGA text buffer's frames (FrameLedger device frames, never
//    RAM, never an environment's) into a Display holder; while any environment that mapped it
//    lives, the kernel does not draw on VGA (VgaTextScreen.Suspended); when the last one ends, it
//    clears the screen and draws again.
// Invariants: a watcher id names a live environment or is cleared when that environment ends
// (OnEnvironmentEnded); InfoPage.InputWatchers[device] is the device's latest watcher;
// DisplayHolders == the number of live environments with DisplayMapped.
using Aegis.Abi;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class InputDevices
    {
        public const int KeyboardIrq = 1, SerialIrq = 4;
        private const int DeviceSlots = 3; // indexed by InputDevice (0 unused)

        private static InputRing[] s_rings;
        private static InputWatchers[] s_watchers;
        private static bool[] s_news;
        private static bool s_anyNews;
        private static bool s_initialized;

        /// <summary>Live environments that mapped the display (DeviceMap).</summary>
        public static int DisplayHolders { get; private set; }

        /// <summary>Input upcalls delivered and wakeups left pending since boot (for tests and reports).</summary>
        public static ulong InputUpcalls, PendingWakeups;

        /// <summary>Interrupts taken per device (index InputDevice).</summary>
        public static ulong[] InterruptCounts;

        /// <summary>Makes the rings, marks the display's frames as device frames, sets up the keyboard
        /// controller and COM1's receive interrupt, and unmasks IRQ 1 and 4. After Environments.Initialize.</summary>
        public static void Initialize()
        {
            s_rings = new InputRing[DeviceSlots];
            s_watchers = new InputWatchers[DeviceSlots];
            for (int device = 1; device < DeviceSlots; device++) s_watchers[device] = new InputWatchers(InputLimits.WatchersPerDevice);
            s_news = new bool[DeviceSlots];
            InterruptCounts = new ulong[DeviceSlots];
            s_rings[(int)InputDevice.Keyboard] = new InputRing(InputLimits.RingBytes);
            s_rings[(int)InputDevice.Serial] = new InputRing(InputLimits.RingBytes);
            for (ulong i = 0; i < InputLimits.DisplayPages; i++)
                Environments.Ledger.MarkDevice(InputLimits.DisplayFirstFrame + i);
            s_initialized = true;
            bool keyboard = Ps2Keyboard.Initialize();
            SerialPort.TakeEarlyBytes(s_rings[(int)InputDevice.Serial]);
            Arrived((int)InputDevice.Serial, s_rings[(int)InputDevice.Serial].Count);
            SerialPort.EnableReceiveInterrupt();
            if (keyboard)
                ProgrammableInterruptController.Unmask(KeyboardIrq);
            if (SerialPort.Present)
                ProgrammableInterruptController.Unmask(SerialIrq);
            KernelLog.WriteLine("Aegis: input: PS/2 keyboard " + (keyboard ? "on IRQ 1" : "not found") + ", COM1 "
                + (SerialPort.Present ? "on IRQ 4" : "not found") + "; display: the VGA text buffer (DeviceMap)");
        }

        /// <summary>InputRead took bytes: the device's driver moves what it held back while the ring
        /// was full (flow control: no byte is dropped) into the room made; a watcher hears of them.</summary>
        public static void Resume(ulong device, InputRing ring)
        {
            int taken = device == (ulong)InputDevice.Keyboard ? Ps2Keyboard.Resume(ring) : SerialPort.Resume(ring);
            if (taken > 0) Arrived((int)device, taken);
            if (taken > 0 && s_watchers[(int)device].Latest != 0)
            {
                s_news[(int)device] = true;
                s_anyNews = true;
            }
        }

        /// <summary>InfoPage.InputArrivals: bytes the device's ring took since boot (a libOS skips
        /// looking at the ring while the count stands still).</summary>
        private static void Arrived(int device, int bytes)
        {
            InfoPage* info = Environments.Info;
            if (info != null) info->InputArrivals[device] += (ulong)bytes;
        }

        /// <summary>After a change of the device's watchers: InfoPage.InputWatchers shows the latest.</summary>
        private static void Published(int device)
        {
            InfoPage* info = Environments.Info;
            if (info != null) info->InputWatchers[device] = s_watchers[device].Latest;
        }

        /// <summary>The ring of a device, or null for a value that names none.</summary>
        public static InputRing Ring(ulong device)
        {
            if (!s_initialized || device == 0 || device >= DeviceSlots) return null;
            return s_rings[(int)device];
        }

        /// <summary>The device's latest watcher (0: none).</summary>
        public static ulong WatcherOf(ulong device) => device > 0 && device < DeviceSlots && s_initialized ? s_watchers[(int)device].Latest : 0;

        /// <summary>Whether the environment watches the device.</summary>
        public static bool Watches(ulong device, ulong id) => device > 0 && device < DeviceSlots && s_initialized && s_watchers[(int)device].Contains(id);

        /// <summary>From the interrupt dispatcher, interrupts off: the device's handler. Short.</summary>
        public static void OnInterrupt(int irq)
        {
            if (!s_initialized) return;
            int device = irq == KeyboardIrq ? (int)InputDevice.Keyboard : (int)InputDevice.Serial;
            InterruptCounts[device]++;
            int taken = irq == KeyboardIrq ? Ps2Keyboard.OnInterrupt(s_rings[device]) : SerialPort.OnInterrupt(s_rings[device]);
            if (taken > 0) Arrived(device, taken);
            if (taken > 0 && s_watchers[device].Latest != 0)
            {
                s_news[device] = true;
                s_anyNews = true;
            }
        }

        /// <summary>Bytes came for a watcher that has not been told yet (the tick's test: a field read).</summary>
        public static bool HasNews => s_anyNews;

        /// <summary>At a safe point (an interrupt or tick that interrupted ring 3 or the idle loop):
        /// tells every watcher of each device that bytes came. O(devices × watchers) when there is
        /// news, O(1) otherwise.</summary>
        public static void DeliverNews()
        {
            if (!s_anyNews) return;
            s_anyNews = false;
            for (int device = 1; device < DeviceSlots; device++)
            {
                if (!s_news[device]) continue;
                s_news[device] = false;
                InputWatchers watchers = s_watchers[device];
                for (int slot = 0; slot < watchers.Capacity; slot++)
                {
                    ulong id = watchers.At(slot);
                    if (id == 0) continue;
                    Environment watcher = Environments.Find(id);
                    if (watcher == null || !watcher.IsAlive)
                    {
                        watchers.RemoveAt(slot);
                        Published(device);
                        continue;
                    }
                    Notify(watcher, (ulong)device); // may destroy it (OnEnvironmentEnded empties its slot)
                }
            }
        }

        private static void Notify(Environment watcher, ulong device)
        {
            if (watcher.State != EnvironmentState.Blocked || watcher.Blocked != BlockReason.Waiting)
            {
                // Running, runnable, stopped or awaiting a reply: its next Wait returns at once.
                watcher.WakeupPending = true;
                PendingWakeups++;
                return;
            }
            if (watcher.UpcallEntry == 0)
            {
                Scheduler.Wake(watcher, 0, 0); // Wait returns 0
                return;
            }
            UpcallFrame upcall;
            Upcalls.Header(&upcall, UpcallKind.Input);
            upcall.Word0 = device;
            string problem = Scheduler.DeliverToWaiting(watcher, &upcall);
            if (problem == null)
            {
                watcher.InputUpcalls++;
                InputUpcalls++;
                return;
            }
            Diagnostics.TextBuffer why = Diagnostics.ReportBuffers.Death;
            why.Clear();
            why.Append("destroyed: cannot deliver an input upcall: ");
            why.Append(problem);
            why.Append(" (0x");
            why.AppendHex(Upcalls.ProblemAddress);
            why.Append(')');
            Environments.DestroyReporting(watcher, EnvironmentState.Destroyed, DestroyReason.BadUpcall, 0, why);
        }

        /// <summary>InputWatch: enable makes 'caller' a watcher of the device, its latest (bytes already
        /// waiting leave it a pending wakeup); disable stops it if it watches.</summary>
        public static void Watch(Environment caller, ulong device, bool enable)
        {
            if (enable)
            {
                s_watchers[(int)device].Add(caller.Id); // full: the one that asked longest ago is dropped
                Published((int)device);
                if (s_rings[(int)device].Count > 0)
                    caller.WakeupPending = true;
            }
            else if (s_watchers[(int)device].Remove(caller.Id))
                Published((int)device);
        }

        /// <summary>DeviceMap succeeded: the kernel stops drawing on VGA.</summary>
        public static void OnDisplayMapped(Environment caller)
        {
            if (caller.DisplayMapped) return;
            caller.DisplayMapped = true;
            DisplayHolders++;
            VgaTextScreen.Suspend();
        }

        /// <summary>From Environments when an environment ends: it watches nothing any more, and the
        /// screen comes back to the kernel when the last environment that mapped it ended.</summary>
        public static void OnEnvironmentEnded(Environment environment)
        {
            if (!s_initialized) return;
            for (int device = 1; device < DeviceSlots; device++)
                if (s_watchers[device].Remove(environment.Id)) Published(device);
            if (environment.DisplayMapped)
            {
                environment.DisplayMapped = false;
                if (--DisplayHolders == 0)
                    VgaTextScreen.Resume();
            }
        }
    }
}
