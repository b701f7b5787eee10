// The kernel's life, in order: the managed entry point Main is called by Boot/boot.S in 64-bit
// mode on the kernel stack (interrupts off, boot stub's identity-mapped tables).
//   1. console and runtime (heap, statics), then GDT/TSS/IDT: from here every fault is reported;
//   2. boot information: memory map, modules (the symbol file), kernel arguments;
//   3. memory: frame allocator, the kernel's own page tables, the growable heap;
//   4. time: TSC calibration, the wall clock, the PCI scan (interrupts still off), periodic timer,
//      interrupts on;
//   5. the banner, then what the arguments ask for (a test, a deliberate crash) or idle.
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Aegis.Kernel.Core;
using Aegis.Kernel.Diagnostics;
using Aegis.Kernel.Hal;
using Internal.Runtime;

namespace Aegis.Kernel
{
    internal static unsafe class KernelMain
    {
        public const string Version = "0.1";
        private static readonly string[] KnownArguments = { "test", "crash", "init", "only", "exit", "nictest", "filterbench", "profile", "nicwatch" };
        private static readonly string[] KnownTests = { "boot", "runtime", "protection" };
        /// <summary>What runs without init=: Debian's busybox shell under the Linux personality, as
        /// a login shell (/etc/profile prints the motd). Leaving it powers the machine off with
        /// its status (as `exit` would).</summary>
        public const string DefaultInit = "/bin/sh -l";
        private static ulong s_kernelThreadPointer;

        [UnmanagedCallersOnly(EntryPoint = "aegis_kernel_main")]
        private static void Main(uint multibootMagic, ulong multibootInfoPhysical)
        {
            ulong entryTimestamp = Cpu.ReadTimestampCounter();
            SerialPort.Initialize();
            VgaTextScreen.Clear();
            StartRuntime();
            GlobalDescriptorTable.Load();
            InterruptDescriptorTable.Load();

            Multiboot2Info boot = ReadBootInformation(multibootMagic, multibootInfoPhysical);
            KernelArguments arguments = ReadArguments(boot);
            FrameAllocator frames = CreateFrameAllocator(boot, multibootInfoPhysical);
            string error = KernelMemory.Initialize(frames, HighestAddress(boot));
            if (error != null)
                Panic.Fail("cannot build the kernel's page tables", error);
            FindSymbolFile(boot);
            Cpu.EnableProtectionFeatures();

            Clock.Calibrate();
            ReadWallClock(); // issue #9: the CMOS RTC once, with the TSC at that moment
            Exo.PciDevices.Initialize(); // the PCI table, scanned with interrupts still off
            ProgrammableInterruptController.Remap();
            Clock.StartTimer();
            Cpu.EnableInterrupts();

            PrintBanner(frames, entryTimestamp);
            Exo.Environments.Initialize();
            PublishWallClock();
            Exo.InputDevices.Initialize(); // issue #9: keyboard, COM1 input, the display's device frames
            Exo.BlockDevices.Initialize(); // issue #11: the first virtio-blk disk and its extent table
            Exo.NetworkDevices.Initialize(); // issue #12: the first e1000/e1000e NIC
            Exo.NetworkDevices.SetWatch(WatchMicroseconds(arguments));
            if (arguments.Has("nictest"))
                Exo.NetworkDevices.SelfTest(); // an ARP request to QEMU's user network, and its reply
            Diagnostics.Profiler.Enabled = arguments.Has("profile"); // PROF lines at every tick (Diagnostics/Profiler.cs)
            if (arguments.Has("filterbench"))
                Exo.FilterBench.Run(); // the packet-filter engine's cost with 1..1,000 filters, compiled and interpreted
            Exo.BootImages.Register(boot);
            Exo.Scheduler.Initialize(s_kernelThreadPointer);
            Run(arguments);
        }

        /// <summary>Gives the runtime its first heap region (in .bss) and runs the module start-up.
        /// Nothing before this may touch a static field of reference type.</summary>
        private static void StartRuntime()
        {
            byte* heapStart = LinkerSymbols.EarlyHeapStart();
            RuntimeHost.AddHeapRegion((nint)heapStart, (nuint)(LinkerSymbols.EarlyHeapEnd() - heapStart));
            // The collector: roots on the boot stack, collections only where docs/kernel.md allows.
            RuntimeHost.RegisterStack((nint)(LinkerSymbols.StackGuard() + KernelStacks.PageSize), (nint)LinkerSymbols.StackTop());
            RuntimeHost.SetCollectionPolicy(&KernelMemory.MayCollect);
            RuntimeHost.SetCollectionBudgetFactor(1);
            // Until the statics exist, a failure can only be printed plainly (the full panic
            // report needs initialised statics).
            RuntimeHost.SetFailureHandler(&EarlyFailure);
            string error = RuntimeHost.InitializeModules(LinkerSymbols.ModulesStart(), LinkerSymbols.ModulesEnd());
            if (error != null)
            {
                KernelLog.WriteLine("Aegis: the kernel image is broken: " + error);
                QemuExit.Exit(QemuExit.Panic);
            }
            // Thread-local storage for the one kernel thread: the runtime lays out the TLS block
            // (.tdata/.tbss) and the FS base points at its thread control block.
            nint threadPointer = RuntimeHost.CreateThreadLocalStorage((nint)LinkerSymbols.TdataStart(), (nint)LinkerSymbols.TdataEnd(), (nint)LinkerSymbols.TbssEnd());
            Cpu.WriteFsBase((ulong)threadPointer);
            s_kernelThreadPointer = (ulong)threadPointer;
            RuntimeHost.SetFailureHandler(&Panic.FromRuntimeFailure);
            RuntimeHost.SetTypeNameResolver(&Symbolizer.TypeName);
            // Exception.StackTrace names frames with the kernel's symbol table (issue 8, exceptions).
            RuntimeHost.SetCodeNameResolver(&Symbolizer.NameCode);
        }

        private static void EarlyFailure(object exception, string typeName, string message)
        {
            KernelLog.WriteLine("PANIC during runtime start-up: " + typeName + ": " + message);
            QemuExit.Exit(QemuExit.Panic);
        }

        private static Multiboot2Info ReadBootInformation(uint magic, ulong infoPhysical)
        {
            if (magic != Multiboot2Info.BootLoaderMagic)
                Panic.Fail("not started by a multiboot2 boot loader", "EAX held 0x" + magic.ToString("X8") + ", expected 0x36D76289");
            // Still on the boot stub's identity map: the info is reachable at its physical address.
            uint totalSize = *(uint*)infoPhysical;
            if (totalSize < 16 || totalSize > 1024 * 1024)
                Panic.Fail("corrupt multiboot2 boot information", "implausible total size " + totalSize.ToString());
            if (!Multiboot2Info.TryParse(new System.ReadOnlySpan<byte>((void*)infoPhysical, (int)totalSize), out Multiboot2Info info, out string error))
                Panic.Fail("corrupt multiboot2 boot information", error);
            return info;
        }

        private static KernelArguments ReadArguments(Multiboot2Info boot)
        {
            string commandLine = boot.CommandLine ?? "";
            string extra = FirmwareConfig.ReadTextFile("opt/aegis/cmdline");
            if (extra != null)
                commandLine = commandLine + " " + extra;
            KernelArguments arguments = KernelArguments.Parse(commandLine);
            List<string> unknownKeys = arguments.UnknownKeys(KnownArguments);
            if (unknownKeys.Count > 0)
            {
                string[] forms = new string[KnownArguments.Length];
                for (int i = 0; i < KnownArguments.Length; i++)
                    forms[i] = ArgumentForm(KnownArguments[i]);
                string known = string.Join(", ", forms);
                foreach (string unknown in unknownKeys)
                    KernelLog.WriteLine("Aegis: unknown kernel argument '" + unknown + "' (known: " + known + "); ignored");
            }
            return arguments;
        }

        /// <summary>The idle loop's watch of the NIC's receive ring (Exo/NetworkDevices.WatchWhileIdle).</summary>
        private const ulong DefaultWatchMicroseconds = 200, MaximumWatchMicroseconds = 10_000;

        /// <summary>nicwatch=MICROSECONDS, or the default; a value that is not a number up to
        /// MaximumWatchMicroseconds is reported and the default kept.</summary>
        private static ulong WatchMicroseconds(KernelArguments arguments)
        {
            if (!arguments.Has("nicwatch")) return DefaultWatchMicroseconds;
            if (arguments.TryGetNumber("nicwatch", MaximumWatchMicroseconds, out ulong value)) return value;
            KernelLog.WriteLine("Aegis: nicwatch=" + arguments.Get("nicwatch") + " is not a number of microseconds up to " + MaximumWatchMicroseconds.ToString() + "; " + DefaultWatchMicroseconds.ToString() + " it is");
            return DefaultWatchMicroseconds;
        }

        /// <summary>How a known argument is written, for the unknown-argument message (a key added to
        /// KnownArguments without a case here is listed by its name).</summary>
        private static string ArgumentForm(string key)
        {
            switch (key)
            {
                case "test": return "test=" + string.Join("|", KnownTests);
                case "crash": return "crash=" + string.Join("|", DeliberateCrash.Kinds);
                case "init": return "init=NAME[:ARGS] or init=/PATH ARGS... (a Linux program)";
                case "only": return "only=NAME (with test=protection)";
                case "exit": return "exit (end QEMU with init's status)";
                case "nictest": return "nictest (the NIC driver's self-test: ARP for 10.0.2.2 on QEMU's user network)";
                case "profile": return "profile (a PROF line on the serial port at every timer tick: environment, ring, rip)";
                case "nicwatch": return "nicwatch=MICROSECONDS (how long the idle loop watches the NIC's receive ring after its last interrupt or send; 0: never; default " + DefaultWatchMicroseconds.ToString() + ")";
                case "filterbench": return "filterbench (BENCH lines: packet-filter classification with 1..1,000 filters, compiled and interpreted)";
                default: return key;
            }
        }

        private static FrameAllocator CreateFrameAllocator(Multiboot2Info boot, ulong infoPhysical)
        {
            List<PhysicalRange> reserved = new List<PhysicalRange>();
            // The first MiB holds the BIOS data area, the VGA window and firmware tables; frame 0
            // must never be handed out either (0 means "no frame" to the page-table code).
            reserved.Add(new PhysicalRange(0, PhysicalMemoryPlan.FirstMegabyteEnd));
            reserved.Add(new PhysicalRange(LinkerSymbols.KernelPhysicalStart(), LinkerSymbols.KernelPhysicalEnd()));
            reserved.Add(PhysicalRange.FromLength(infoPhysical, boot.TotalSize));
            foreach (BootModule module in boot.Modules)
                reserved.Add(new PhysicalRange(module.Start, module.End));
            PhysicalMemoryPlan plan = PhysicalMemoryPlan.Create(boot.MemoryMap, reserved);
            FrameAllocator frames = new FrameAllocator(plan.FrameLimit);
            foreach (PhysicalRange range in plan.UsableRanges)
                frames.AddFreeRange(range.Start / FrameAllocator.FrameSize, (range.End - range.Start) / FrameAllocator.FrameSize);
            if (frames.FreeFrames == 0)
                Panic.Fail("no usable memory", "the multiboot2 memory map lists no available RAM outside the kernel and boot modules");
            return frames;
        }

        private static ulong HighestAddress(Multiboot2Info boot)
        {
            ulong highest = 0;
            foreach (MemoryRegion region in boot.MemoryMap)
                if (region.IsAvailable && region.End > highest) highest = region.End;
            return highest;
        }

        private static void FindSymbolFile(Multiboot2Info boot)
        {
            foreach (BootModule module in boot.Modules)
            {
                if (module.CommandLine == "symbols")
                {
                    Symbolizer.SetSymbolFile((byte*)KernelMemory.PhysicalToVirtual(module.Start), (int)module.Length);
                    return;
                }
            }
            KernelLog.WriteLine("Aegis: no symbol file among the boot modules; panic reports will show addresses only");
        }

        // ---- wall time and the first environment's devices (issue #9, kdev)
        private static ulong s_bootUnixNanoseconds, s_bootTimestamp;

        /// <summary>Reads the CMOS RTC (taken to be UTC) and remembers it with the TSC of the read.</summary>
        private static void ReadWallClock()
        {
            if (!Rtc.TryRead(out RtcRegisters registers, out ulong timestamp))
            {
                KernelLog.WriteLine("Aegis: the CMOS real-time clock could not be read; no wall time (InfoPage.BootUnixNanoseconds = 0)");
                return;
            }
            if (!RtcTime.TryToUnixSeconds(registers, out long seconds) || seconds < 0)
            {
                KernelLog.WriteLine("Aegis: the CMOS real-time clock holds no valid date (status B 0x" + registers.StatusB.ToString("x2")
                    + "); no wall time (InfoPage.BootUnixNanoseconds = 0)");
                return;
            }
            s_bootUnixNanoseconds = (ulong)seconds * 1_000_000_000UL;
            s_bootTimestamp = timestamp;
            KernelLog.WriteLine("Aegis: wall clock " + RtcTime.Format(seconds) + " (CMOS RTC, unix time " + seconds.ToString() + ")");
        }

        private static void PublishWallClock()
        {
            Abi.InfoPage* info = Exo.Environments.Info;
            info->BootUnixNanoseconds = s_bootUnixNanoseconds;
            info->BootTimestamp = s_bootTimestamp;
        }

        /// <summary>The first environment's device capabilities, in their well-known slots.</summary>
        private static void GiveDevices(Exo.Environment init)
        {
            init.Capabilities.TryInsertAt(Abi.CapabilitySlots.Keyboard, Abi.CapabilityKind.Input, (ulong)Abi.InputDevice.Keyboard);
            init.Capabilities.TryInsertAt(Abi.CapabilitySlots.Serial, Abi.CapabilityKind.Input, (ulong)Abi.InputDevice.Serial);
            init.Capabilities.TryInsertAt(Abi.CapabilitySlots.Display, Abi.CapabilityKind.Display, 0);
            if (Exo.BlockDevices.Present)
                init.Capabilities.TryInsertAt(Abi.CapabilitySlots.Disk, Abi.CapabilityKind.Disk, 0);
            if (Exo.NetworkDevices.Present)
                init.Capabilities.TryInsertAt(Abi.CapabilitySlots.Nic, Abi.CapabilityKind.Nic, 0);
        }

        /// <summary>init=/PATH ARGS...: the boot image 'linux' runs the program, with "/PATH ARGS..." as
        /// its argument. Null (and QEMU ended with InitFailed) when it cannot.</summary>
        private static bool TryLinuxInit(KernelArguments arguments, out string name, out string argument)
        {
            name = KernelArguments.LinuxImage;
            argument = arguments.InitCommand;
            if (arguments.InitCommandError != null)
            {
                KernelLog.WriteLine("Aegis: cannot start init '" + argument + "': " + arguments.InitCommandError);
                return false;
            }
            if (!Exo.BootImages.Exists(name))
            {
                KernelLog.WriteLine("Aegis: cannot start init '" + argument + "': no boot image linux (the Linux personality's host app, which runs init=/PATH programs) in this ISO; the images are: " + ImageList());
                return false;
            }
            return true;
        }

        /// <summary>Starts the first environment (it holds the console capability) and runs until
        /// every environment has ended.</summary>
        private static Exo.Environment RunInit(string value, KernelArguments arguments)
        {
            string name, argument;
            if (arguments != null && arguments.InitCommand != null)
            {
                if (!TryLinuxInit(arguments, out name, out argument))
                {
                    QemuExit.Exit(QemuExit.InitFailed);
                    return null;
                }
            }
            else if (value.Length > 0 && value[0] == '/')
            {
                // DefaultInit: a Linux program's command, run by the linux image.
                name = KernelArguments.LinuxImage;
                argument = value;
            }
            else if (!KernelArguments.TrySplitInit(value, out name, out argument))
            {
                KernelLog.WriteLine("Aegis: init= needs the name of a boot image (init=NAME or init=NAME:ARGS); the images are: " + ImageList());
                QemuExit.Exit(QemuExit.InitFailed);
                return null;
            }
            return StartInit(name, argument);
        }

        private static Exo.Environment StartInit(string name, string argument)
        {
            if (!Exo.BootImages.Exists(name))
            {
                KernelLog.WriteLine("Aegis: cannot start init '" + name + "': there is no boot image of that name; the images are: " + ImageList());
                QemuExit.Exit(QemuExit.InitFailed);
                return null;
            }
            if (Exo.BootImages.Spawn(0, name, argument, out Exo.Environment init, out string problem) != Abi.Error.None)
            {
                KernelLog.WriteLine("Aegis: cannot start init '" + name + "': " + problem);
                QemuExit.Exit(QemuExit.InitFailed);
                return null;
            }
            init.Capabilities.TryInsertAt(Abi.CapabilitySlots.Console, Abi.CapabilityKind.Console, 0);
            GiveDevices(init);
            Exo.Environments.Start(init);
            KernelLog.WriteLine("Aegis: started " + init.Describe() + " as init" + (argument.Length > 0 ? " with the argument '" + argument + "'" : ""));
            Exo.Scheduler.Run(() => Exo.Environments.LiveCount == 0, ulong.MaxValue / 2);
            return init;
        }

        /// <summary>The boot images' names, in boot-module order: "bench, breakpoint, ...".</summary>
        private static string ImageList()
        {
            if (Exo.BootImages.Count == 0)
                return "(none: the ISO carries no apps)";
            string[] names = new string[Exo.BootImages.Count];
            for (int i = 0; i < names.Length; i++)
                names[i] = Exo.BootImages.NameAt(i);
            return string.Join(", ", names);
        }

        private static void PrintBanner(FrameAllocator frames, ulong entryTimestamp)
        {
            ulong totalMiB = frames.TotalFrames * FrameAllocator.FrameSize / (1024 * 1024);
            ulong bootMs = Clock.MillisecondsSinceReset();
            ulong kernelMs = Clock.TimestampHz == 0 ? 0 : (Cpu.ReadTimestampCounter() - entryTimestamp) / (Clock.TimestampHz / 1000);
            KernelLog.WriteLine("Aegis " + Version + " - an exokernel in C#");
            KernelLog.WriteLine("Aegis: " + totalMiB.ToString() + " MiB memory, " + frames.FreeFrames.ToString() + " of "
                + frames.TotalFrames.ToString() + " frames free, booted in " + bootMs.ToString() + " ms ("
                + kernelMs.ToString() + " ms in the kernel)");
        }

        private static void Run(KernelArguments arguments)
        {
            string crash = arguments.Get("crash");
            if (crash != null)
            {
                KernelLog.WriteLine("Aegis: deliberate crash '" + crash + "' requested");
                if (!DeliberateCrash.Run(crash))
                    KernelLog.WriteLine("Aegis: unknown crash kind '" + crash + "' (known: " + string.Join(", ", DeliberateCrash.Kinds) + ")");
            }
            string test = arguments.Get("test");
            if (test == "boot")
                QemuExit.Exit(QemuExit.Success);
#if AEGIS_TEST_SUITES
            if (test == "runtime")
                QemuExit.Exit(Tests.RuntimeSuite.Run() == 0 ? QemuExit.Success : QemuExit.TestFailure);
            if (test == "protection")
                QemuExit.Exit(Tests.ProtectionSuite.Run(arguments.Get("only")) == 0 ? QemuExit.Success : QemuExit.TestFailure);
#else
            if (test == "runtime" || test == "protection")
            {
                KernelLog.WriteLine("Aegis: this kernel was built without its test suites (./aegis iso --without-tests); ./aegis iso builds them in");
                QemuExit.Exit(QemuExit.TestFailure);
            }
#endif
            if (test != null)
            {
                KernelLog.WriteLine("Aegis: unknown test '" + test + "' (known: " + string.Join(", ", KnownTests) + ")");
                QemuExit.Exit(QemuExit.TestFailure);
            }
            Exo.Environment init = RunInit(arguments.Get("init") ?? DefaultInit, arguments);
            if (arguments.Has("exit") || arguments.Get("init") == null)
                ExitWithInitStatus(init);
            KernelLog.WriteLine("Aegis: every environment has ended; the kernel idles. Leave QEMU with Ctrl-C"
                + " (or boot with the kernel argument 'exit': ./aegis run -- init=NAME exit ends QEMU with init's status).");
            while (true)
                Cpu.Halt();
        }

        /// <summary>The kernel argument 'exit': ends QEMU with init's status. The full status goes into
        /// the last line, "AEGIS-EXIT &lt;status&gt;" (decimal, 0..2^64-1) or "AEGIS-EXIT destroyed";
        /// QEMU's exit device carries only 0..127 (and 100 is a panic), so the device gets the status
        /// itself below 99 and 99 (QemuExit.InitFailedLate) otherwise: ./aegis then reads the line
        /// (docs/front-door.md, "Exit status of run").</summary>
        private static void ExitWithInitStatus(Exo.Environment init)
        {
            bool exited = init.State == Abi.EnvironmentState.Exited;
            // The kernel's own observation of how the machine ran (tests read it: a program that
            // should have slept, not spun, leaves idle time here whatever it says about itself).
            ulong hz = Clock.TimestampHz, idle = Exo.Environments.Info->IdleTimestampTicks;
            if (hz != 0)
                KernelLog.WriteLine("Aegis: the CPU was idle " + (idle / (hz / 1000)).ToString() + " ms since boot");
            int deviceStatus = exited && init.ExitStatus < QemuExit.InitFailedLate ? (int)init.ExitStatus : QemuExit.InitFailedLate;
            if (exited)
            {
                KernelLog.WriteLine("Aegis: every environment has ended; init exited with status " + init.ExitStatus.ToString());
                KernelLog.WriteLine(QemuExit.StatusLinePrefix + init.ExitStatus.ToString());
            }
            else
            {
                KernelLog.WriteLine("Aegis: every environment has ended; init was destroyed (" + DestroyReasonText(init.DestroyReason) + ")");
                KernelLog.WriteLine(QemuExit.StatusLinePrefix + "destroyed");
            }
            QemuExit.Exit(deviceStatus);
        }

        private static string DestroyReasonText(Abi.DestroyReason reason)
        {
            switch (reason)
            {
                case Abi.DestroyReason.ByCapability: return "by a holder of its capability";
                case Abi.DestroyReason.UnhandledException: return "a CPU exception with no upcall entry";
                case Abi.DestroyReason.BadUpcall: return "an upcall could not be delivered";
                case Abi.DestroyReason.BadImage: return "its image could not be loaded";
                default: return "reason " + ((ulong)reason).ToString();
            }
        }
    }
}
