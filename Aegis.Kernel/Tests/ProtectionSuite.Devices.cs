// Protection-suite behaviours for the device capabilities (issue #9): input through the real
// interrupt paths (the keyboard controller presents bytes as if typed: i8042 command 0xD2; COM1
// receives its own bytes in loopback mode), InputRead's refusals, InputWatch's upcall and pending
// wakeup, DeviceMap's hand-over of the screen and the device frames no one can free or grant.
// All run the app 'devices' (Tests/Apps/Devices) in a mode; the kernel judges from what it
// observes: the bytes it chose arriving, error counts, the VGA memory, the ledger, the screen's
// owner.
using System;
using Aegis.Abi;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Exo;
using Aegis.Kernel.Hal;
using Internal.Runtime;

namespace Aegis.Kernel.Tests
{
    internal static unsafe partial class ProtectionSuite
    {
        private static readonly string[] s_deviceBehaviours =
        {
            "input-read", "input-watch", "input-watchers", "input-ninth-watcher", "input-bad-upcall", "device-map",
        };

        private const string DevicesImage = "devices";

        /// <summary>The boot image a behaviour runs (most are named after their image).</summary>
        private static string DeviceImageOf(string name)
        {
            for (int i = 0; i < s_deviceBehaviours.Length; i++)
                if (s_deviceBehaviours[i] == name) return DevicesImage;
            return name;
        }

        private static bool TryDispatchDevices(string name, out string reason)
        {
            switch (name)
            {
                case "input-read": reason = InputReadBehaviour(); return true;
                case "input-watch": reason = InputWatchBehaviour(); return true;
                case "input-watchers": reason = InputWatchersBehaviour(); return true;
                case "input-ninth-watcher": reason = InputNinthWatcherBehaviour(); return true;
                case "input-bad-upcall": reason = InputBadUpcallBehaviour(); return true;
                case "device-map": reason = DeviceMapBehaviour(); return true;
                default: reason = null; return false;
            }
        }

        /// <summary>The device capabilities the first environment gets, in their slots.</summary>
        private static void GiveDevices(Environment environment)
        {
            if (environment == null) return;
            environment.Capabilities.TryInsertAt(CapabilitySlots.Keyboard, CapabilityKind.Input, (ulong)InputDevice.Keyboard);
            environment.Capabilities.TryInsertAt(CapabilitySlots.Serial, CapabilityKind.Input, (ulong)InputDevice.Serial);
            environment.Capabilities.TryInsertAt(CapabilitySlots.Display, CapabilityKind.Display, 0);
        }

        private static Environment SpawnWithDevices(string mode, bool display)
        {
            Environment app = Spawn(DevicesImage, mode);
            if (app == null) return null;
            app.Capabilities.TryInsertAt(CapabilitySlots.Keyboard, CapabilityKind.Input, (ulong)InputDevice.Keyboard);
            app.Capabilities.TryInsertAt(CapabilitySlots.Serial, CapabilityKind.Input, (ulong)InputDevice.Serial);
            if (display) app.Capabilities.TryInsertAt(CapabilitySlots.Display, CapabilityKind.Display, 0);
            return app;
        }

        /// <summary>Bytes the kernel chooses for one test (different every run).</summary>
        private static byte[] Token(int count, int salt)
        {
            byte[] token = new byte[count];
            ulong seed = Clock.Ticks * 7919 + (ulong)salt * 104729;
            for (int i = 0; i < count; i++)
            {
                seed = seed * 6364136223846793005UL + 1442695040888963407UL;
                token[i] = (byte)(0x10 + (seed >> 33) % 0x60); // 0x10..0x6F: no controller or loopback artefact looks like them
            }
            return token;
        }

        private static string HexOf(byte[] bytes)
        {
            string text = "";
            for (int i = 0; i < bytes.Length; i++) text += (i == 0 ? "" : " ") + bytes[i].ToString("x2");
            return text;
        }

        /// <summary>Through the keyboard controller, byte by byte, each arriving by IRQ 1 before the
        /// next (interrupts are on in the suite); null or why not.</summary>
        private static string InjectKeyboard(byte[] bytes)
        {
            InputRing ring = InputDevices.Ring((ulong)InputDevice.Keyboard);
            if (!Ps2Keyboard.Present) return "no PS/2 keyboard controller";
            for (int i = 0; i < bytes.Length; i++)
            {
                ulong before = ring.Received;
                if (!Ps2Keyboard.InjectThroughController(bytes[i])) return "the keyboard controller refused byte " + i.ToString();
                ulong deadline = Clock.Ticks + 200;
                while (ring.Received == before && Clock.Ticks < deadline) Cpu.Halt();
                if (ring.Received == before) return "byte " + i.ToString() + " never arrived through IRQ 1";
            }
            return null;
        }

        /// <summary>Through COM1 in loopback mode (interrupts off meanwhile, so no console byte goes
        /// round); the bytes then arrive through IRQ 4.</summary>
        private static string InjectSerial(byte[] bytes)
        {
            InputRing ring = InputDevices.Ring((ulong)InputDevice.Serial);
            ulong before = ring.Received;
            Cpu.DisableInterrupts();
            bool sent = SerialPort.InjectThroughLoopback(bytes);
            Cpu.EnableInterrupts();
            if (!sent) return "COM1 cannot loop bytes back";
            ulong deadline = Clock.Ticks + 200;
            while (ring.Received < before + (ulong)bytes.Length && Clock.Ticks < deadline) Cpu.Halt();
            if (ring.Received != before + (ulong)bytes.Length)
                return (ring.Received - before).ToString() + " of " + bytes.Length.ToString() + " bytes arrived through IRQ 4";
            return null;
        }

        private static string Expect(string output, string line)
            => output.Contains(line) ? null : "its output lacks '" + line + "': " + output;

        /// <summary>InputRead: every refusal (slots that are not Input capabilities, bad buffers, a bad
        /// length) fails and takes nothing; then the app reads exactly the bytes the kernel injected.</summary>
        private static string InputReadBehaviour()
        {
            InputDevices.Ring((ulong)InputDevice.Keyboard).Clear();
            InputDevices.Ring((ulong)InputDevice.Serial).Clear();
            byte[] keys = Token(6, 1), received = Token(5, 2);
            string problem = InjectKeyboard(keys) ?? InjectSerial(received);
            if (problem != null) return problem;
            Environment app = SpawnWithDevices("read", true);
            if (!Start(app)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            string output = Output(app);
            if (!ExitedWith(app, 0)) return "devices " + Ending(app) + ": " + output;
            if (app.SystemCallErrors != 9) return "expected 9 refused calls, the kernel counted " + app.SystemCallErrors.ToString() + ": " + output;
            problem = Expect(output, "devices: keyboard " + HexOf(keys) + "\n") ?? Expect(output, "devices: serial " + HexOf(received) + "\n")
                ?? Expect(output, "console slot NoCapability") ?? Expect(output, "self slot NoCapability") ?? Expect(output, "display slot NoCapability")
                ?? Expect(output, "empty slot NoCapability") ?? Expect(output, "past the table InvalidArgument") ?? Expect(output, "kernel buffer BadAddress")
                ?? Expect(output, "unmapped buffer BadAddress") ?? Expect(output, "too long InvalidArgument") ?? Expect(output, "bad flag InvalidArgument");
            if (problem != null) return problem;
            if (InputDevices.Ring((ulong)InputDevice.Keyboard).Count != 0 || InputDevices.Ring((ulong)InputDevice.Serial).Count != 0)
                return "bytes are left in the rings";
            return null;
        }

        /// <summary>InputWatch: bytes arriving while the watcher waits deliver one Input upcall and end
        /// the Wait; bytes arriving while it is stopped leave a pending wakeup (no upcall), so its
        /// next Wait returns at once. The kernel heap does not grow on that path.</summary>
        private static string InputWatchBehaviour()
        {
            InputDevices.Ring((ulong)InputDevice.Keyboard).Clear();
            byte[] first = Token(3, 3), second = Token(4, 4);
            Environment app = SpawnWithDevices("watch", false);
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || (app.State == EnvironmentState.Blocked && app.Blocked == BlockReason.Waiting), DefaultTicks);
            if (app.State != EnvironmentState.Blocked || app.Blocked != BlockReason.Waiting) return "it did not wait: " + Ending(app) + " " + Output(app);
            if (InputDevices.WatcherOf((ulong)InputDevice.Keyboard) != app.Id) return "it is not the keyboard's watcher";
            Func<bool> stopped = () => !app.IsAlive || app.State == EnvironmentState.Stopped; // made before the count starts
            ulong allocationsBefore = RuntimeHost.HeapAllocations;
            string problem = InjectKeyboard(first);
            if (problem != null) return problem;
            Scheduler.Run(stopped, DefaultTicks);
            ulong allocations = RuntimeHost.HeapAllocations - allocationsBefore;
            if (app.State != EnvironmentState.Stopped) return "it did not reach its checkpoint: " + Ending(app) + " " + Output(app);
            if (app.InputUpcalls != 1) return "expected one Input upcall, the kernel delivered " + app.InputUpcalls.ToString();
            problem = Expect(Output(app), "devices: woke with " + HexOf(first) + " after 1 input upcalls (device 1)");
            if (problem != null) return problem;
            if (allocations != 0) return "the kernel heap allocated " + allocations.ToString() + " times on the input path";
            // Stopped, so not in Wait: the news leaves a pending wakeup (delivered here, a safe point).
            problem = InjectKeyboard(second);
            if (problem != null) return problem;
            InputDevices.DeliverNews();
            if (!app.WakeupPending) return "no pending wakeup for input that came while it was not waiting";
            if (Environments.Start(app) != Error.None) return "cannot resume it";
            if (!RunToEnd(3000)) return "timed out: its Wait did not return at once for the pending wakeup";
            if (!ExitedWith(app, 0)) return "devices " + Ending(app) + ": " + Output(app);
            if (app.InputUpcalls != 1) return "an upcall was delivered for the pending wakeup (" + app.InputUpcalls.ToString() + " in all)";
            problem = Expect(Output(app), "devices: after the pending wakeup " + HexOf(second));
            if (problem != null) return problem;
            if (InputDevices.WatcherOf((ulong)InputDevice.Keyboard) != 0) return "the ended watcher is still the keyboard's";
            return null;
        }

        /// <summary>Two watchers of the keyboard, both waiting: the same bytes wake both (one Input
        /// upcall each), as a tty's bytes wake every reader; neither takes them (InputPeek), so they
        /// stay in the ring. The kernel heap does not grow on that path, and when both have ended
        /// the keyboard has no watcher.</summary>
        private static string InputWatchersBehaviour()
        {
            InputRing ring = InputDevices.Ring((ulong)InputDevice.Keyboard);
            ring.Clear();
            byte[] token = Token(3, 6);
            Environment first = SpawnWithDevices("peekwatch", false), second = SpawnWithDevices("peekwatch", false);
            if (!Start(first) || !Start(second)) return "cannot start";
            Func<Environment, bool> waiting = e => e.State == EnvironmentState.Blocked && e.Blocked == BlockReason.Waiting;
            Scheduler.Run(() => !first.IsAlive || !second.IsAlive || (waiting(first) && waiting(second)), DefaultTicks);
            if (!waiting(first) || !waiting(second)) return "they did not both wait: " + Ending(first) + " " + Output(first) + " / " + Ending(second) + " " + Output(second);
            ulong keyboard = (ulong)InputDevice.Keyboard;
            if (!InputDevices.Watches(keyboard, first.Id) || !InputDevices.Watches(keyboard, second.Id)) return "they do not both watch the keyboard";
            ulong latest = InputDevices.WatcherOf(keyboard);
            if (latest != first.Id && latest != second.Id) return "the latest watcher is neither of them";
            ulong allocationsBefore = RuntimeHost.HeapAllocations;
            string problem = InjectKeyboard(token);
            if (problem != null) return problem;
            InputDevices.DeliverNews();
            ulong allocations = RuntimeHost.HeapAllocations - allocationsBefore;
            if (!RunToEnd()) return "timed out: " + Ending(first) + " / " + Ending(second);
            if (!ExitedWith(first, 0) || !ExitedWith(second, 0)) return "devices " + Ending(first) + ": " + Output(first) + " / " + Ending(second) + ": " + Output(second);
            string expected = "devices: saw " + HexOf(token) + " after 1 input upcalls";
            problem = Expect(Output(first), expected) ?? Expect(Output(second), expected);
            if (problem != null) return problem;
            if (first.InputUpcalls != 1 || second.InputUpcalls != 1)
                return "expected one Input upcall each, the kernel delivered " + first.InputUpcalls.ToString() + " and " + second.InputUpcalls.ToString();
            if (allocations != 0) return "the kernel heap allocated " + allocations.ToString() + " times on the input path";
            if (InputDevices.WatcherOf(keyboard) != 0) return "an ended watcher is still the keyboard's";
            if (ring.Count != token.Length) return "the peeked bytes did not stay in the ring";
            ring.Clear();
            return null;
        }

        /// <summary>InputLimits.WatchersPerDevice + 1 environments watch the keyboard, one after the
        /// other: the last InputWatch drops the first watcher (the one that asked longest ago). The
        /// bytes wake the other eight, once each; the dropped one is not woken and still waits.</summary>
        private static string InputNinthWatcherBehaviour()
        {
            InputRing ring = InputDevices.Ring((ulong)InputDevice.Keyboard);
            ring.Clear();
            ulong keyboard = (ulong)InputDevice.Keyboard;
            byte[] token = Token(2, 7);
            Environment[] apps = new Environment[InputLimits.WatchersPerDevice + 1];
            Func<Environment, bool> waiting = e => e.State == EnvironmentState.Blocked && e.Blocked == BlockReason.Waiting;
            for (int i = 0; i < apps.Length; i++)
            {
                Environment app = SpawnWithDevices("peekwatch", false);
                if (!Start(app)) return "cannot start watcher " + i.ToString();
                apps[i] = app;
                Scheduler.Run(() => !app.IsAlive || waiting(app), DefaultTicks);
                if (!waiting(app)) return "watcher " + i.ToString() + " did not wait: " + Ending(app) + " " + Output(app);
            }
            if (InputDevices.Watches(keyboard, apps[0].Id)) return "the first watcher was not dropped by the ninth InputWatch";
            for (int i = 1; i < apps.Length; i++)
                if (!InputDevices.Watches(keyboard, apps[i].Id)) return "watcher " + i.ToString() + " does not watch the keyboard";
            if (InputDevices.WatcherOf(keyboard) != apps[apps.Length - 1].Id) return "the latest watcher is not the last to ask";
            string problem = InjectKeyboard(token);
            if (problem != null) return problem;
            InputDevices.DeliverNews();
            Scheduler.Run(() =>
            {
                for (int i = 1; i < apps.Length; i++) if (apps[i].IsAlive) return false;
                return true;
            }, DefaultTicks);
            string expected = "devices: saw " + HexOf(token) + " after 1 input upcalls";
            for (int i = 1; i < apps.Length; i++)
            {
                if (!ExitedWith(apps[i], 0)) return "watcher " + i.ToString() + " " + Ending(apps[i]) + ": " + Output(apps[i]);
                problem = Expect(Output(apps[i]), expected);
                if (problem != null) return "watcher " + i.ToString() + ": " + problem;
                if (apps[i].InputUpcalls != 1) return "watcher " + i.ToString() + " had " + apps[i].InputUpcalls.ToString() + " Input upcalls, not 1";
            }
            if (!waiting(apps[0]) || apps[0].InputUpcalls != 0)
                return "the dropped watcher was woken: " + Ending(apps[0]) + ", " + apps[0].InputUpcalls.ToString() + " Input upcalls";
            Environments.Destroy(apps[0], EnvironmentState.Destroyed, DestroyReason.ByCapability, 0, null);
            if (InputDevices.WatcherOf(keyboard) != 0) return "an ended watcher is still the keyboard's";
            ring.Clear();
            return null;
        }

        /// <summary>A watcher whose upcall stack is gone when input arrives: the Input upcall cannot be
        /// delivered, so it is destroyed for a bad upcall (with a report), the device has no watcher
        /// any more, and the bytes stay for the next reader.</summary>
        private static string InputBadUpcallBehaviour()
        {
            InputDevices.Ring((ulong)InputDevice.Keyboard).Clear();
            Environment app = SpawnWithDevices("badwatch", false);
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || (app.State == EnvironmentState.Blocked && app.Blocked == BlockReason.Waiting), DefaultTicks);
            if (app.State != EnvironmentState.Blocked || app.Blocked != BlockReason.Waiting) return "it did not wait: " + Ending(app) + " " + Output(app);
            byte[] keys = Token(2, 5);
            string problem = InjectKeyboard(keys);
            if (problem != null) return problem;
            if (!RunToEnd()) return "timed out";
            if (app.State != EnvironmentState.Destroyed || app.DestroyReason != DestroyReason.BadUpcall)
                return "devices " + Ending(app) + "; expected destroyed for a bad upcall";
            if (app.EndReport == null || !app.EndReport.Contains("input upcall")) return "no report of the undeliverable input upcall: " + (app.EndReport ?? "none");
            if (InputDevices.WatcherOf((ulong)InputDevice.Keyboard) != 0) return "the destroyed watcher is still the keyboard's";
            if (InputDevices.Ring((ulong)InputDevice.Keyboard).Count != keys.Length) return "the bytes did not stay in the ring";
            InputDevices.Ring((ulong)InputDevice.Keyboard).Clear();
            return null;
        }

        /// <summary>DeviceMap: the holder's writes land in the real VGA memory and the kernel stops
        /// drawing there; everything that must fail does (a non-holder's DeviceMap, FrameFree,
        /// FrameGrant and PageMap of the device frames); when the holder ends, the kernel has the
        /// screen back and the device frames are still no one's and not in the free pool.</summary>
        private static string DeviceMapBehaviour()
        {
            FrameLedger ledger = Environments.Ledger;
            if (VgaTextScreen.Suspended) return "the screen was not the kernel's before the test";
            Environment app = SpawnWithDevices("map", true);
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            string output = Output(app);
            if (app.State != EnvironmentState.Stopped) return "it did not reach its checkpoint: " + Ending(app) + " " + output;
            string problem = Expect(output, "devices: map 8\n") ?? Expect(output, "devices: frame 0xb8\n") ?? Expect(output, "input slot NoCapability")
                ?? Expect(output, "unaligned InvalidArgument") ?? Expect(output, "kernel address BadAddress") ?? Expect(output, "free NotOwner")
                ?? Expect(output, "grant NotOwner") ?? Expect(output, "pagemap NotOwner");
            if (problem != null) return problem;
            // Six refusals, and PageQuery of a no-execute page: its result has bit 63 set, which the
            // entry stub counts as a negative result.
            if (app.SystemCallErrors != 7) return "expected 7 negative results (6 refusals and PageQuery), the kernel counted " + app.SystemCallErrors.ToString();
            ulong* leaf = PageWalk.UserLeaf(app, 0x40000000, true);
            if (leaf == null || ((*leaf & PageBits.FrameMask) >> PageBits.FrameShift) != InputLimits.DisplayFirstFrame || (*leaf & PageBits.NoExecute) == 0)
                return "0x40000000 is not the VGA buffer's first frame, writable and no-execute";
            if (!VgaTextScreen.Suspended || InputDevices.DisplayHolders != 1) return "the kernel still draws on the screen the app holds";
            ushort* cells = (ushort*)KernelMemory.PhysicalToVirtual(InputLimits.DisplayFirstFrame * 4096);
            string token = "DEVMAP " + app.Id.ToString("x");
            for (int i = 0; i < token.Length; i++)
                if (cells[i] != (ushort)(token[i] | 0x1F00)) return "the VGA memory does not hold what the app wrote (cell " + i.ToString() + ")";
            if (cells[InputLimits.DisplayPages * 2048 - 1] != 0x2F21) return "the last page of the window is not the VGA memory's";
            for (ulong f = 0; f < InputLimits.DisplayPages; f++)
                if (ledger.MappingsOf(InputLimits.DisplayFirstFrame + f) != 1) return "frame 0x" + (InputLimits.DisplayFirstFrame + f).ToString("x") + " is not mapped once";
            // A non-holder (no Display capability) cannot have the screen.
            Environment other = Spawn(DevicesImage, "nomap");
            if (!Start(other)) return "cannot start the non-holder";
            Scheduler.Run(() => !other.IsAlive, DefaultTicks);
            if (!ExitedWith(other, 0)) return "the non-holder " + Ending(other);
            problem = Expect(Output(other), "devices: non-holder map NoCapability");
            if (problem != null) return problem;
            if (other.SystemCallErrors != 1 || other.DisplayMapped || InputDevices.DisplayHolders != 1) return "the non-holder's DeviceMap was not refused";
            // The holder ends: the screen is the kernel's again; the frames are no one's, unmapped, not free.
            if (Environments.Start(app) != Error.None) return "cannot resume it";
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(app, 0)) return "devices " + Ending(app);
            if (VgaTextScreen.Suspended || InputDevices.DisplayHolders != 0) return "the kernel did not take the screen back when the holder ended";
            for (ulong f = 0; f < InputLimits.DisplayPages; f++)
            {
                ulong frame = InputLimits.DisplayFirstFrame + f;
                if (!ledger.IsDevice(frame) || ledger.MappingsOf(frame) != 0 || ledger.OwnerOf(frame) != FrameLedger.DeviceOwner)
                    return "device frame 0x" + frame.ToString("x") + " changed hands or is still mapped";
                if (KernelMemory.Frames.IsFree(frame)) return "device frame 0x" + frame.ToString("x") + " went into the free pool";
            }
            return null;
        }
    }
}
