// devices: the input and display capabilities from ring 3 (issue #9). What it does depends on
// its argument; the kernel (protection suite) or the boot test judges from what it observes
// itself — the bytes the kernel injected arriving, error counts, the VGA memory, the frames.
//   read   InputRead through slots that are not an Input capability, with bad buffers and a bad
//          length (each must fail), then reads the keyboard and serial bytes the kernel injected
//          and prints them: "devices: keyboard XX XX ..." / "devices: serial XX ...".
//   watch  watches the keyboard, Waits (the kernel injects bytes while it waits: an Input upcall
//          wakes it), prints what it read; stops itself (the kernel injects while it is not in
//          Wait), then Waits again, which must return at once; prints the second bytes.
//   map    DeviceMap at 0x40000000, writes "DEVMAP <token>" in the first cells (token: its
//          environment id in hex), tries what must fail (an Input slot, an unaligned or kernel
//          address, FrameFree/FrameGrant/PageMap of the device frames), prints the results, and
//          stops itself so the kernel can look at the screen while it holds it.
//   nomap  a non-holder's DeviceMap (slot Display, which it does not hold): prints the result.
//   badwatch  watches the keyboard, unmaps its own upcall stack and Waits: the Input upcall the
//          kernel then owes it cannot be delivered (it must be destroyed for a bad upcall, the
//          kernel unharmed).
//   stdin  prints the wall time computed from the information page ("devices: wall NNN"), then
//          reads COM1 (watch + Wait) until the end of the first line that is not empty and prints
//          "devices: stdin 'LINE'".
//   pci    prints the PCI table the kernel publishes at UserAddresses.PciTable (docs/abi.md, "The
//          PCI table"): a summary line, one line per function, one per implemented BAR; then how the
//          table's pages are mapped (PageQuery) and what unmapping or protecting them gives.
using System.Runtime;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.Devices
{
    internal static unsafe class Program
    {
        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "devices_rdtsc")]
        private static extern ulong Rdtsc();

        private const ulong MapAddress = 0x40000000;
        private static int s_inputUpcalls;
        private static InputDevice s_lastDevice;

        private static int Main()
        {
            string mode = Info.Argument;
            switch (mode)
            {
                case "read": return Read();
                case "watch": return Watch();
                case "peekwatch": return PeekWatch();
                case "map": return Map();
                case "nomap": return NoMap();
                case "badwatch": return BadWatch();
                case "stdin": return Stdin();
                case "pci": return Pci();
                default:
                    Console.WriteLine("devices: unknown mode '" + mode + "' (read, watch, peekwatch, map, nomap, badwatch, stdin, pci)");
                    return 2;
            }
        }

        private static string Result(SystemCallResult result)
            => result.IsError ? Errors.Name(result.Error) : result.Value.ToString();

        private static string Hex(byte* bytes, long count)
        {
            string text = "";
            for (long i = 0; i < count; i++)
                text += (i == 0 ? "" : " ") + bytes[i].ToString("x2");
            return text;
        }

        private static int Read()
        {
            byte* buffer = stackalloc byte[64];
            // Each of these must fail, and take nothing from the rings (the kernel counts the errors).
            Console.WriteLine("devices: console slot " + Result(SystemCalls.InputRead(CapabilitySlots.Console, buffer, 16)));
            Console.WriteLine("devices: self slot " + Result(SystemCalls.InputRead(CapabilitySlots.Self, buffer, 16)));
            Console.WriteLine("devices: display slot " + Result(SystemCalls.InputRead(CapabilitySlots.Display, buffer, 16)));
            Console.WriteLine("devices: empty slot " + Result(SystemCalls.InputRead(40, buffer, 16)));
            Console.WriteLine("devices: slot past the table " + Result(SystemCalls.InputRead(999, buffer, 16)));
            Console.WriteLine("devices: kernel buffer " + Result(SystemCalls.InputRead(CapabilitySlots.Keyboard, 0xFFFFFFFF80100000UL, 16)));
            Console.WriteLine("devices: unmapped buffer " + Result(SystemCalls.InputRead(CapabilitySlots.Keyboard, 0x1000UL, 16)));
            Console.WriteLine("devices: too long " + Result(SystemCalls.InputRead(CapabilitySlots.Serial, buffer, 257)));
            Console.WriteLine("devices: watch with a bad flag " + Result(SystemCalls.Invoke((ulong)SystemCall.InputWatch, CapabilitySlots.Keyboard, 2)));
            // Now the bytes the kernel put there.
            SystemCallResult keyboard = SystemCalls.InputRead(CapabilitySlots.Keyboard, buffer, 64);
            if (keyboard.IsError) { Console.WriteLine("devices: keyboard read failed: " + Result(keyboard)); return 1; }
            Console.WriteLine("devices: keyboard " + Hex(buffer, (long)keyboard.Value));
            SystemCallResult serial = SystemCalls.InputRead(CapabilitySlots.Serial, buffer, 64);
            if (serial.IsError) { Console.WriteLine("devices: serial read failed: " + Result(serial)); return 1; }
            Console.WriteLine("devices: serial " + Hex(buffer, (long)serial.Value));
            return 0;
        }

        private static void OnInput(InputDevice device)
        {
            s_inputUpcalls++;
            s_lastDevice = device;
        }

        private static int Watch()
        {
            byte* buffer = stackalloc byte[64];
            // Nothing is waiting yet: Wait until the kernel's bytes arrive, and take them.
            SystemCallResult got = WatchAndWait(buffer, 64, true);
            if (got.IsError) { Console.WriteLine("devices: read failed: " + Result(got)); return 1; }
            Console.WriteLine("devices: woke with " + Hex(buffer, (long)got.Value) + " after " + s_inputUpcalls.ToString() + " input upcalls (device "
                + ((ulong)s_lastDevice).ToString() + ")");
            // The checkpoint: the kernel injects while this environment is stopped (not in Wait).
            SystemCalls.EnvironmentStop(CapabilitySlots.Self);
            // A pending wakeup: this Wait returns at once (else the kernel's deadline fails the test).
            SystemCalls.Wait();
            SystemCallResult second = SystemCalls.InputRead(CapabilitySlots.Keyboard, buffer, 64);
            Console.WriteLine("devices: after the pending wakeup " + (second.IsError ? Result(second) : Hex(buffer, (long)second.Value)));
            SystemCalls.InputWatch(CapabilitySlots.Keyboard, false);
            return 0;
        }

        /// <summary>Watches the keyboard and waits until bytes are there, leaving them in the ring
        /// (InputPeek): one of several watchers woken by the same bytes (input-watchers).</summary>
        private static int PeekWatch()
        {
            byte* buffer = stackalloc byte[64];
            SystemCallResult got = WatchAndWait(buffer, 64, false);
            if (got.IsError) { Console.WriteLine("devices: peek failed: " + Result(got)); return 1; }
            Console.WriteLine("devices: saw " + Hex(buffer, (long)got.Value) + " after " + s_inputUpcalls.ToString() + " input upcalls");
            return 0;
        }

        /// <summary>Becomes a watcher of the keyboard (the Input upcall counted by OnInput), then Waits
        /// until bytes are there: takes them (InputRead) or leaves them in the ring (InputPeek). The
        /// bytes seen, or the error of the watch or of the read.</summary>
        private static SystemCallResult WatchAndWait(byte* buffer, ulong length, bool take)
        {
            Upcalls.SetInputHandler(OnInput);
            Error error = SystemCalls.InputWatch(CapabilitySlots.Keyboard, true);
            if (error != Error.None) { Console.WriteLine("devices: watch failed: " + Errors.Name(error)); return new SystemCallResult((long)error, 0); }
            while (true)
            {
                SystemCallResult got = take ? SystemCalls.InputRead(CapabilitySlots.Keyboard, buffer, length)
                                            : SystemCalls.InputPeek(CapabilitySlots.Keyboard, buffer, length);
                if (got.IsError || got.Value > 0) return got;
                SystemCalls.Wait();
            }
        }

        private static int Map()
        {
            SystemCallResult mapped = SystemCalls.DeviceMap(CapabilitySlots.Display, MapAddress);
            Console.WriteLine("devices: map " + Result(mapped));
            if (mapped.IsError) return 1;
            string token = "DEVMAP " + Info.EnvironmentIdText;
            ushort* cells = (ushort*)MapAddress;
            for (int i = 0; i < token.Length; i++)
                cells[i] = (ushort)(token[i] | 0x1F00);
            // The last page is mapped too (writes the last cell of the 32 KiB window).
            *(ushort*)(MapAddress + InputLimits.DisplayPages * 4096 - 2) = 0x2F21;
            SystemCallResult query = SystemCalls.PageQuery(CapabilitySlots.Self, MapAddress);
            Console.WriteLine("devices: frame " + (query.IsError ? Result(query) : "0x" + ((query.Value & PageBits.FrameMask) >> PageBits.FrameShift).ToString("x")));
            Console.WriteLine("devices: input slot " + Result(SystemCalls.DeviceMap(CapabilitySlots.Keyboard, MapAddress)));
            Console.WriteLine("devices: unaligned " + Result(SystemCalls.DeviceMap(CapabilitySlots.Display, MapAddress + 8)));
            Console.WriteLine("devices: kernel address " + Result(SystemCalls.DeviceMap(CapabilitySlots.Display, 0xFFFFFFFF80000000UL)));
            Console.WriteLine("devices: free " + Errors.Name(SystemCalls.FrameFree(InputLimits.DisplayFirstFrame)));
            Console.WriteLine("devices: grant " + Errors.Name(SystemCalls.FrameGrant(InputLimits.DisplayFirstFrame + 1, CapabilitySlots.Self, true)));
            Console.WriteLine("devices: pagemap " + Errors.Name(Memory.Map(0x50000000, InputLimits.DisplayFirstFrame, Memory.ReadWrite)));
            // The checkpoint: the kernel looks at the screen while this environment holds it.
            SystemCalls.EnvironmentStop(CapabilitySlots.Self);
            return 0;
        }

        private static int NoMap()
        {
            Console.WriteLine("devices: non-holder map " + Result(SystemCalls.DeviceMap(CapabilitySlots.Display, MapAddress)));
            return 0;
        }

        private static int BadWatch()
        {
            Error error = SystemCalls.InputWatch(CapabilitySlots.Keyboard, true);
            if (error != Error.None) { Console.WriteLine("devices: watch failed: " + Errors.Name(error)); return 1; }
            Console.WriteLine("devices: unmapping the upcall stack, then waiting");
            error = Memory.Unmap(AddressSpace.UpcallStackBottom, AddressSpace.UpcallStackPages);
            if (error != Error.None) return 3;
            SystemCalls.Wait();
            return 4; // woken without an upcall: the kernel must have destroyed it instead
        }

        private static int Pci()
        {
            PciTable* table = Info.Pci;
            if (table->Magic != PciTable.PciTableMagic)
            {
                Console.WriteLine("devices: no PCI table (magic 0x" + table->Magic.ToString("x") + ")");
                return 1;
            }
            Console.WriteLine("devices: pci " + table->Found.ToString() + " functions on " + table->Buses.ToString() + " buses, "
                + table->Count.ToString() + " in the table, flags 0x" + table->Flags.ToString("x")
                + ", scanned in " + table->ScanTimestampTicks.ToString() + " TSC ticks");
            for (int i = 0; i < (int)table->Count && i < PciLimits.MaximumFunctions; i++)
                PrintPci(Info.PciRecord(i));
            // The table is information: mapped read-only, and no environment can change its mapping.
            for (int page = 0; page < PciLimits.TablePages; page++)
            {
                ulong address = UserAddresses.PciTable + (ulong)page * UserAddresses.PageSize;
                SystemCallResult bits = SystemCalls.PageQuery(CapabilitySlots.Self, address);
                Console.WriteLine("devices: pci page " + page.ToString() + (bits.IsError ? " " + Result(bits)
                    : ((bits.Value & PageBits.Present) != 0 ? " present" : " absent")
                    + ((bits.Value & PageBits.User) != 0 ? " user" : " kernel")
                    + ((bits.Value & PageBits.Writable) != 0 ? " writable" : " read-only")
                    + ((bits.Value & PageBits.NoExecute) != 0 ? " no-execute" : " executable")));
            }
            PageMapRequest unmap = new PageMapRequest { VirtualAddress = UserAddresses.PciTable, Operation = PageMapOperation.Unmap };
            Console.WriteLine("devices: pci unmap " + Result(SystemCalls.PageMap(CapabilitySlots.Self, &unmap, 1)));
            Console.WriteLine("devices: pci protect writable " + Result(SystemCalls.PageProtect(CapabilitySlots.Self, UserAddresses.PciTable, 1, PageBits.Writable)));
            return 0;
        }

        private static void PrintPci(PciFunction* f)
        {
            string line = f->Bus.ToString("x2") + ":" + f->Device.ToString("x2") + "." + f->Function.ToString()
                + " class " + f->ClassCode.ToString("x2") + "/" + f->Subclass.ToString("x2") + "/" + f->ProgIf.ToString("x2")
                + " " + f->VendorId.ToString("x4") + ":" + f->DeviceId.ToString("x4")
                + " rev " + f->Revision.ToString("x2") + " header " + f->HeaderType.ToString("x2")
                + " subsystem " + f->SubsystemVendorId.ToString("x4") + ":" + f->SubsystemId.ToString("x4")
                + " irq " + f->InterruptLine.ToString() + " pin " + PinName(f->InterruptPin)
                + " command " + f->Command.ToString("x4");
            if ((f->HeaderType & 0x7F) == 1) line += " secondary-bus " + f->SecondaryBus.ToString("x2");
            if ((f->Flags & PciFunctionFlags.Msi) != 0) line += " msi@" + f->MsiCapability.ToString("x2");
            if ((f->Flags & PciFunctionFlags.Msix) != 0) line += " msi-x@" + f->MsixCapability.ToString("x2");
            if ((f->Flags & PciFunctionFlags.CapabilitiesMalformed) != 0) line += " capabilities-malformed";
            Console.WriteLine(line);
            for (int bar = 0; bar < PciLimits.BarCount; bar++)
            {
                byte flags = Info.PciBarFlagsOf(f, bar);
                if ((flags & (PciBarFlags.Io | PciBarFlags.Memory)) == 0) continue;
                string kind = (flags & PciBarFlags.Io) != 0 ? "io"
                    : ((flags & PciBarFlags.Is64Bit) != 0 ? "mem64" : "mem32") + ((flags & PciBarFlags.Prefetchable) != 0 ? " prefetchable" : "");
                Console.WriteLine("  bar" + bar.ToString() + " " + kind + " base 0x" + Info.PciBarBaseOf(f, bar).ToString("x")
                    + " size 0x" + Info.PciBarSizeOf(f, bar).ToString("x"));
            }
        }

        private static string PinName(byte pin)
        {
            switch (pin)
            {
                case 0: return "none";
                case 1: return "INTA";
                case 2: return "INTB";
                case 3: return "INTC";
                case 4: return "INTD";
                default: return "0x" + pin.ToString("x2");
            }
        }

        private static int Stdin()
        {
            InfoPage* info = Info.GlobalPage;
            ulong hz = info->TimestampHz == 0 ? 1 : info->TimestampHz;
            ulong elapsed = Rdtsc() - info->BootTimestamp;
            // now = BootUnixNanoseconds + elapsed * 10^9 / TimestampHz (in two parts: no overflow).
            ulong nanoseconds = info->BootUnixNanoseconds + elapsed / hz * 1_000_000_000UL + elapsed % hz * 1_000_000_000UL / hz;
            Console.WriteLine("devices: wall " + (nanoseconds / 1_000_000_000UL).ToString() + " (boot " + (info->BootUnixNanoseconds / 1_000_000_000UL).ToString() + ")");
            Error error = SystemCalls.InputWatch(CapabilitySlots.Serial, true);
            if (error != Error.None) { Console.WriteLine("devices: watch failed: " + Errors.Name(error)); return 1; }
            ulong watcher = Info.InputWatcher(InputDevice.Serial);
            byte* buffer = stackalloc byte[64];
            string line = "";
            ulong read = 0;
            while (true)
            {
                SystemCallResult got = SystemCalls.InputRead(CapabilitySlots.Serial, buffer, 64);
                if (got.IsError) { Console.WriteLine("devices: read failed: " + Result(got)); return 1; }
                read += got.Value;
                for (ulong i = 0; i < got.Value; i++)
                {
                    byte b = buffer[i];
                    if ((b == (byte)'\n' || b == (byte)'\r') && line.Length == 0)
                        continue; // an empty line (the boot test sends one first: see DeviceTests)
                    if (b == (byte)'\n' || b == (byte)'\r')
                    {
                        Console.WriteLine("devices: stdin '" + line + "'");
                        // What the information page showed (InfoPage.InputWatchers, InputArrivals):
                        // the raw values, judged by the boot test.
                        ulong arrivals = Info.InputArrivals(InputDevice.Serial);
                        SystemCalls.InputWatch(CapabilitySlots.Serial, false);
                        Console.WriteLine("devices: input info watcher " + watcher.ToString() + " self " + Info.EnvironmentId.ToString()
                            + " arrivals " + arrivals.ToString() + " read " + read.ToString()
                            + " unwatched " + Info.InputWatcher(InputDevice.Serial).ToString());
                        return 0;
                    }
                    line += b >= 0x20 && b < 0x7F ? ((char)b).ToString() : "?";
                }
                if (got.Value == 0)
                    SystemCalls.Wait();
            }
        }
    }
}
