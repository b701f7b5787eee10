// The in-guest protection suite (kernel argument test=protection): each behaviour of the
// design brief runs as its own app in its own environment, and the kernel decides PASS or FAIL
// from what it observed itself — how the environment ended, the upcalls it delivered, the
// system calls it saw, registers and memory it inspects, frame accounting before and after —
// never from the app's say-so. Prints "TEST <name> PASS|FAIL <reason>" per behaviour and
// "TESTS <p> passed, <f> failed", each at the start of a line; an environment's console lines
// all start with "[<id> <name>] " (Exo/ConsoleOutput), so no app can print a verdict.
using System;
using System.Collections.Generic;
using Aegis.Abi;
using Aegis.Kernel.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Tests
{
    internal static unsafe partial class ProtectionSuite
    {
        private const ulong DefaultTicks = 20000;
        private static readonly List<Environment> s_spawned = new List<Environment>();
        private static ulong s_createdBefore;

        private delegate string Check();

        /// <summary>The design brief's behaviours (issue #3).</summary>
        private static readonly string[] s_coreBehaviours =
        {
            "hello", "faultread", "faultwrite", "faultreadkernel", "faultwritekernel", "divzero", "breakpoint",
            "illegalinstruction", "faultregs", "faultalloc", "faultbadhandler", "faultevilhandler", "faultnostack",
            "evilhello", "dumbfork", "forktree", "pingpong", "sendpage", "spin", "revoke-polite", "revoke-rude", "syscall-fuzz",
        };

        /// <summary>Every behaviour, in the order the suite runs them: the core ones, then the attacks
        /// each hardening area defends against (ProtectionSuite.*.cs, one file per area).
        /// (A property, not a field initializer: the order of static initializers across the partial
        /// files is not defined.)</summary>
        /// <summary>The boot image a behaviour runs (several behaviours share one fixture).</summary>
        private static string ImageOf(string name)
        {
            string image = SystemCallUpcallImageOf(name);
            if (image != name) return image;
            image = NotifyImageOf(name);
            return image != name ? image : DeviceImageOf(name);
        }

        public static string[] Names => s_names ??= Concatenate(s_coreBehaviours, s_resourceBehaviours, s_reclaimBehaviours, s_interfaceBehaviours, s_cpuBehaviours, s_systemCallUpcallBehaviours, s_deviceBehaviours, s_notifyBehaviours, s_sharingBehaviours, s_onRequestBehaviours);

        private static bool IsOnRequest(string name)
        {
            for (int i = 0; i < s_onRequestBehaviours.Length; i++)
                if (s_onRequestBehaviours[i] == name) return true;
            return false;
        }
        private static string[] s_names;

        private static string[] Concatenate(params string[][] parts)
        {
            int total = 0;
            for (int i = 0; i < parts.Length; i++) total += parts[i].Length;
            string[] all = new string[total];
            int next = 0;
            for (int i = 0; i < parts.Length; i++)
                for (int j = 0; j < parts[i].Length; j++) all[next++] = parts[i][j];
            return all;
        }

        public static int Run(string only)
        {
            int passed = 0, failed = 0;
            ulong heapBefore = KernelMemory.HeapFrames;
            ulong createdBefore = Environments.CreatedCount;
            for (int i = 0; i < Names.Length; i++)
            {
                string name = Names[i];
                if (only != null && only != name)
                    continue;
                if (only == null && IsOnRequest(name))
                    continue; // too long for every run: only=NAME runs it
                string reason = RunOne(name);
                KernelLog.StartLine(); // a verdict line always starts at column 0 (environments' lines never do unprefixed)
                if (reason == null)
                {
                    passed++;
                    KernelLog.WriteLine("TEST " + name + " PASS");
                }
                else
                {
                    failed++;
                    KernelLog.WriteLine("TEST " + name + " FAIL " + reason);
                }
            }
            KernelLog.WriteLine("protection suite: " + (Environments.CreatedCount - createdBefore).ToString() + " environments created; the kernel heap grew by "
                + (KernelMemory.HeapFrames - heapBefore).ToString() + " frames (frames go back only when the kernel collects: on allocation pressure, on the boot stack)");
            KernelLog.StartLine();
            KernelLog.WriteLine("TESTS " + passed.ToString() + " passed, " + failed.ToString() + " failed");
            return failed;
        }

        /// <summary>Frames that are free or held by the kernel heap. The kernel heap grows during a
        /// test and shrinks only when the kernel collects (on allocation pressure, on the boot stack; docs/kernel.md), so
        /// its growth during a test is not a leak; every
        /// other frame an environment took must be back in the free pool afterwards.</summary>
        private static ulong FreeOrKernelHeapFrames() => KernelMemory.Frames.FreeFrames + KernelMemory.HeapFrames;

        private static string RunOne(string name)
        {
            Environments.ManualRecycling = true;
            Environments.RecycleEnded();
            ulong freeBefore = FreeOrKernelHeapFrames();
            s_spawned.Clear();
            s_createdBefore = Environments.CreatedCount;
            string reason;
            if (!BootImages.Exists(ImageOf(name)))
                reason = "no boot image named '" + ImageOf(name) + "' in the ISO";
            else
                reason = Dispatch(name);
            // Whatever is still alive from this test ends now; then no frame may be missing.
            EndEverything();
            ulong freeAfter = FreeOrKernelHeapFrames();
            if (reason == null && freeAfter != freeBefore)
                reason = "frame accounting: " + freeBefore.ToString() + " frames free (or kernel heap) before, " + freeAfter.ToString() + " after";
            return reason;
        }

        private static string Dispatch(string name)
        {
            switch (name)
            {
                case "hello": return Hello();
                case "faultread": return FaultKills(name, 0, false, false);
                case "faultwrite": return FaultKills(name, 0, true, false);
                case "faultreadkernel": return FaultKills(name, 0xFFFFFFFF80100000, false, true);
                case "faultwritekernel": return FaultKills(name, 0xFFFFFFFF80100000, true, true);
                case "divzero": return TrapResumes(name, InterruptDescriptorTable.DivideError);
                case "breakpoint": return TrapResumes(name, InterruptDescriptorTable.Breakpoint);
                case "illegalinstruction": return TrapResumes(name, InterruptDescriptorTable.InvalidOpcode);
                case "faultregs": return FaultRegisters();
                case "faultalloc": return FaultAlloc();
                case "faultbadhandler":
                case "faultevilhandler":
                case "faultnostack": return BadUpcallKills(name);
                case "evilhello": return EvilHello();
                case "dumbfork": return Fork(name, 2, "I am the parent", "I am the child");
                case "forktree": return Fork(name, 15, "I am ''", "I am '111'");
                case "pingpong": return PingPong();
                case "sendpage": return SendPage();
                case "spin": return Spin();
                case "revoke-polite": return Revoke(name, true);
                case "revoke-rude": return Revoke(name, false);
                case "syscall-fuzz": return SyscallFuzz();
                default:
                    // A behaviour of one of the hardening areas (ProtectionSuite.*.cs).
                    if (TryDispatchResources(name, out string reason) || TryDispatchReclaim(name, out reason) || TryDispatchInterface(name, out reason)
                        || TryDispatchCpu(name, out reason) || TryDispatchSystemCallUpcall(name, out reason) || TryDispatchDevices(name, out reason)
                        || TryDispatchNotify(name, out reason)
                        || TryDispatchSharing(name, out reason))
                        return reason;
                    return "no check for '" + name + "'";
            }
        }

        // ------------------------------------------------------------------ helpers

        private static Environment Spawn(string name, string argument = "")
        {
            // Each app the suite starts has an account of its own with half the user pool (Exo/Accounts.cs),
            // so what one takes never starves the others of a test.
            Quota quota = Accounts.Whole;
            quota.Frames /= 2;
            Account account = Accounts.Open(quota);
            if (BootImages.Spawn(0, name, argument, out Environment environment, out string problem, account) != Error.None)
            {
                Accounts.CloseIfEmpty(account);
                KernelLog.WriteLine("protection suite: cannot spawn '" + name + "': " + problem);
                return null;
            }
            environment.Capabilities.TryInsertAt(CapabilitySlots.Console, CapabilityKind.Console, 0);
            environment.KeepRecord = true;
            s_spawned.Add(environment);
            return environment;
        }

        private static bool Start(Environment environment)
            => environment != null && Environments.Start(environment) == Error.None;

        /// <summary>Runs until every environment spawned for this test (and their descendants) ended.</summary>
        private static bool RunToEnd(ulong maxTicks = DefaultTicks)
            => Scheduler.Run(() => Environments.LiveCount == 0, maxTicks);

        private static void EndEverything()
        {
            for (int i = 0; i < Environments.Capacity; i++)
            {
                Environment environment = Environments.At(i);
                if (environment != null)
                    Environments.Destroy(environment, EnvironmentState.Destroyed, DestroyReason.ByCapability, 0, null);
            }
        }

        private static bool ExitedWith(Environment environment, ulong status)
            => environment.State == EnvironmentState.Exited && environment.ExitStatus == status;

        private static string Ending(Environment environment)
            => environment.State == EnvironmentState.Exited ? "exited with " + environment.ExitStatus.ToString()
             : environment.State == EnvironmentState.Destroyed ? "destroyed (" + ((ulong)environment.DestroyReason).ToString() + ")"
             : "still " + ((ulong)environment.State).ToString();

        private static string Output(Environment environment) => environment.Output.ToString();

        private static string BystanderProblem(Environment bystander)
        {
            if (!ExitedWith(bystander, 0)) return "the bystander " + Ending(bystander);
            if (!Output(bystander).Contains("bystander: tick 5")) return "the bystander did not print all its ticks";
            return null;
        }

        // ------------------------------------------------------------------ behaviours

        private static string Hello()
        {
            Environment hello = Spawn("hello");
            if (!Start(hello)) return "cannot start hello";
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(hello, 0)) return "hello " + Ending(hello);
            if (!Output(hello).Contains("hello, world from environment")) return "no greeting on its console";
            if (hello.SystemCalls == 0) return "no system call seen";
            return null;
        }

        private static string FaultKills(string name, ulong address, bool write, bool protection)
        {
            Environment victim = Spawn(name);
            Environment bystander = Spawn("bystander");
            if (!Start(victim) || !Start(bystander)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            if (ExitedWith(victim, 0)) return name + " exited normally: the fault did not stop it";
            if (victim.State != EnvironmentState.Exited && victim.State != EnvironmentState.Destroyed) return name + " " + Ending(victim);
            if (victim.ExceptionUpcalls[InterruptDescriptorTable.PageFault] == 0 && victim.LastFaultVector != InterruptDescriptorTable.PageFault)
                return "no page fault was taken";
            if ((victim.LastFaultAddress & ~4095UL) != (address & ~4095UL))
                return "fault address 0x" + victim.LastFaultAddress.ToString("x") + ", expected 0x" + address.ToString("x");
            bool wasWrite = (victim.LastFaultErrorCode & 2) != 0;
            bool wasProtection = (victim.LastFaultErrorCode & 1) != 0;
            if (wasWrite != write) return "the fault was a " + (wasWrite ? "write" : "read");
            if (wasProtection != protection) return protection ? "a kernel page must fault on protection, not absence" : "address 0 must not be mapped";
            string report = (Output(victim) + (victim.EndReport ?? "")).ToLowerInvariant();
            if (!report.Contains(name) || !report.Contains("0x" + address.ToString("x")))
                return "no one-line report naming " + name + " and the address";
            return BystanderProblem(bystander);
        }

        /// <summary>The kernel judges the resume itself: right after the trapping instruction the app's
        /// assembly stops itself (EnvironmentStop, the checkpoint), and the kernel checks it stopped
        /// just past the instruction that trapped (LastFaultRip, recorded at the exception); resumed, the
        /// app must exit with the status the kernel chose and passed as its argument.</summary>
        private static string TrapResumes(string name, int vector)
        {
            ulong token = 1000 + (Clock.Ticks * 7919) % 100000;
            Environment app = Spawn(name, token.ToString());
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            if (app.State != EnvironmentState.Stopped) return name + " " + Ending(app) + " before its checkpoint after the trap";
            if (app.ExceptionUpcalls[vector] != 1 || app.LastFaultVector != (ulong)vector)
                return "expected one upcall for trap " + vector.ToString() + ", the kernel delivered " + app.ExceptionUpcalls[vector].ToString();
            ulong stopped = app.Frame->Rip;
            if (stopped <= app.LastFaultRip || stopped - app.LastFaultRip > 16)
                return "it stopped at rip 0x" + stopped.ToString("x") + ", not just past the trap at 0x" + app.LastFaultRip.ToString("x") + ": it did not resume there";
            if (Environments.Start(app) != Error.None) return "cannot resume it";
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(app, token)) return name + " " + Ending(app) + ", not with the status " + token.ToString() + " the kernel chose";
            return null;
        }

        /// <summary>faultregs loads registers with values derived from a seed the kernel chose, faults,
        /// and right after the resume stops itself (EnvironmentStop): the kernel compares what it saved
        /// there — the general registers, and RFLAGS, RAX, RCX, RDI, R11 from the user stack where the
        /// app pushed them before the syscall — with the values it derives itself.</summary>
        private static string FaultRegisters()
        {
            ulong seed = 1 + (Clock.Ticks * 7919) % 100000;
            Environment app = Spawn("faultregs", seed.ToString());
            if (!Start(app)) return "cannot start";
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            if (app.State != EnvironmentState.Stopped) return "faultregs " + Ending(app) + " before its checkpoint: " + Output(app);
            if (app.ExceptionUpcalls[InterruptDescriptorTable.PageFault] != 1 || app.LastFaultAddress != 0x1000)
                return "expected one page-fault upcall at 0x1000";
            InterruptFrame* saved = app.Frame;
            if (saved->Rip <= app.LastFaultRip || saved->Rip - app.LastFaultRip > 256)
                return "the checkpoint at rip 0x" + saved->Rip.ToString("x") + " is not right after the fault at 0x" + app.LastFaultRip.ToString("x");
            // At RSP: xmm0..xmm15 (low halves), then r10 r9 r8 rdx rsi r11 rdi rcx rax rflags.
            ulong* stack = stackalloc ulong[26];
            if (!UserMemory.TryRead(app, saved->Rsp, new Span<byte>(stack, 26 * 8))) return "cannot read its stack";
            ulong* pushed = stack + 16;
            for (int i = 0; i < 16; i++)
            {
                ulong expected = 0xA5A5_0000_0000_0000UL | ((ulong)(17 + i) << 40) | ((0x0102_0304UL * (ulong)(18 + i) + seed * 0x1_0001UL) & 0xFF_FFFF_FFFFUL);
                if (stack[i] != expected) return "xmm" + i.ToString() + " is 0x" + stack[i].ToString("x") + " after the resume, expected 0x" + expected.ToString("x");
            }
            // UserRegisters order: r15 r14 r13 r12 r11 r10 r9 r8 rbp rdi rsi rdx rcx rbx rax; pushed: r10 r9 r8 rdx rsi r11 rdi rcx rax rflags.
            ulong* seen = stackalloc ulong[16];
            seen[0] = saved->R15; seen[1] = saved->R14; seen[2] = saved->R13; seen[3] = saved->R12; seen[4] = pushed[5];
            seen[5] = saved->R10; seen[6] = saved->R9; seen[7] = saved->R8; seen[8] = saved->Rbp; seen[9] = pushed[6];
            seen[10] = saved->Rsi; seen[11] = saved->Rdx; seen[12] = pushed[7]; seen[13] = saved->Rbx; seen[14] = pushed[8];
            seen[15] = pushed[9];
            string[] names = { "r15", "r14", "r13", "r12", "r11", "r10", "r9", "r8", "rbp", "rdi", "rsi", "rdx", "rcx", "rbx", "rax", "rflags" };
            const ulong expectedFlags = 0x1 | 0x2 | 0x4 | 0x10 | 0x40 | 0x80 | 0x200 | 0x400 | 0x800;
            for (int i = 0; i < 16; i++)
            {
                ulong expected = i == 15 ? expectedFlags
                    : 0xA5A5_0000_0000_0000UL | ((ulong)i << 40) | ((0x0102_0304UL * (ulong)(i + 1) + seed * 0x1_0001UL) & 0xFF_FFFF_FFFFUL);
                if (i == 15 ? (seen[i] & 0xED7) != (expected & 0xED7) : seen[i] != expected)
                    return names[i] + " is 0x" + seen[i].ToString("x") + " after the resume, expected 0x" + expected.ToString("x");
            }
            if (Environments.Start(app) != Error.None) return "cannot resume it";
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(app, 0)) return "faultregs " + Ending(app) + ": " + Output(app);
            return null;
        }

        private static string FaultAlloc()
        {
            Environment app = Spawn("faultalloc");
            if (!Start(app)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(app, 0)) return "faultalloc " + Ending(app);
            if (app.ExceptionUpcalls[InterruptDescriptorTable.PageFault] < 2)
                return "expected nested page-fault upcalls, saw " + app.ExceptionUpcalls[InterruptDescriptorTable.PageFault].ToString();
            return null;
        }

        private static string BadUpcallKills(string name)
        {
            Environment victim = Spawn(name);
            Environment bystander = Spawn("bystander");
            if (!Start(victim) || !Start(bystander)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            if (victim.State != EnvironmentState.Destroyed || victim.DestroyReason != DestroyReason.BadUpcall)
                return name + " " + Ending(victim) + "; expected destroyed for a bad upcall";
            if (victim.EndReport == null || !victim.EndReport.Contains("upcall")) return "no report of the bad upcall";
            if (name == "faultbadhandler")
            {
                // The kernel entry must have been refused at registration, leaving the data page (a user
                // address that passes registration) to fail at delivery.
                ulong entry = victim.UpcallEntry;
                if (entry < UserAddresses.LowestMappable || entry >= UserAddresses.ReservedTop)
                    return "EnvironmentSetUpcall accepted the upcall entry 0x" + entry.ToString("x") + " outside the user half";
                if (!victim.EndReport.Contains("upcall entry is not executable (0x" + entry.ToString("x") + ")"))
                    return "the delivery-time check did not refuse the no-execute entry 0x" + entry.ToString("x") + ": " + victim.EndReport;
            }
            return BystanderProblem(bystander);
        }

        private static string EvilHello()
        {
            Environment app = Spawn("evilhello");
            if (!Start(app)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            if (app.SystemCallErrors == 0) return "the kernel returned no error";
            string output = Output(app);
            if (!output.Contains("BadAddress")) return "evilhello did not see BadAddress: " + output;
            if (output.Length > 512) return "evilhello printed more than it should (" + output.Length.ToString() + " bytes)";
            return null;
        }

        /// <summary>Copy-on-write isolation judged by the kernel: every environment of the tree writes who
        /// it is into a page shared before the fork and stops at a checkpoint (RSI = the page); the kernel
        /// reads the page through its page tables and its parent's, checks they are different frames
        /// holding different texts (the child's write did not reach the parent), and resumes it.</summary>
        private static string Fork(string name, ulong environments, string first, string last)
        {
            Environment root = Spawn(name);
            if (!Start(root)) return "cannot start";
            ulong checkpoints = 0;
            bool sawFirst = false, sawLast = false;
            while (true)
            {
                Scheduler.Run(() => Environments.LiveCount == 0 || Environments.FirstStoppedSince(s_createdBefore) != null, DefaultTicks);
                Environment stopped = Environments.FirstStoppedSince(s_createdBefore);
                if (stopped == null)
                {
                    if (Environments.LiveCount != 0) return "timed out";
                    break;
                }
                string text = PageText(stopped, stopped.Frame->Rsi, out ulong frame);
                if (text == null) return stopped.Describe() + " stopped without a mapped page in RSI (0x" + stopped.Frame->Rsi.ToString("x") + ", RIP 0x" + stopped.Frame->Rip.ToString("x") + ")";
                if (!text.StartsWith("I am")) return stopped.Describe() + "'s page holds '" + text + "'";
                sawFirst |= text == first;
                sawLast |= text == last;
                Environment parent = Environments.Find(stopped.ParentId);
                if (parent != null)
                {
                    string parentText = PageText(parent, stopped.Frame->Rsi, out ulong parentFrame);
                    if (parentFrame == frame) return stopped.Describe() + " and its parent map the written page to the same frame " + frame.ToString("x");
                    if (parentText == text) return "the parent of " + stopped.Describe() + " sees its child's write: '" + text + "'";
                }
                checkpoints++;
                if (Environments.Start(stopped) != Error.None) return "cannot resume " + stopped.Describe();
            }
            ulong created = Environments.CreatedCount - s_createdBefore;
            if (created < environments) return "only " + created.ToString() + " environments were created, expected " + environments.ToString();
            if (checkpoints != environments) return checkpoints.ToString() + " checkpoints, expected one per environment (" + environments.ToString() + ")";
            if (!sawFirst || !sawLast) return "no page held '" + first + "' or '" + last + "'";
            if (!ExitedWith(root, 0)) return name + " " + Ending(root);
            if (Environments.EndedAbnormallySince(s_createdBefore) != 0) return "an environment of the tree did not exit cleanly";
            return null;
        }

        /// <summary>The NUL-terminated ASCII text at 'address' in the environment's page (read through
        /// its page tables and the direct map), and the frame; null when nothing is mapped there.</summary>
        private static string PageText(Environment environment, ulong address, out ulong frame)
        {
            frame = ulong.MaxValue;
            if ((address & 4095) != 0 || !UserMemory.IsUserRange(address, 4096)) return null;
            ulong* leaf = PageWalk.UserLeaf(environment, address, false);
            if (leaf == null) return null;
            frame = (*leaf & PageBits.FrameMask) >> PageBits.FrameShift;
            byte* bytes = (byte*)KernelMemory.PhysicalToVirtual(frame * 4096);
            System.Text.StringBuilder text = new System.Text.StringBuilder();
            for (int i = 0; i < 64 && bytes[i] != 0; i++) text.Append((char)bytes[i]);
            return text.ToString();
        }

        private static string PingPong()
        {
            Environment root = Spawn("pingpong");
            if (!Start(root)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            if (Environments.CreatedCount - s_createdBefore < 2) return "pingpong needs two environments";
            if (Environments.IpcReceivedSince(s_createdBefore) < 10) return "fewer than 10 IPC messages were delivered";
            if (!Environments.AllOutputSince(s_createdBefore).Contains("got 10")) return "the count did not reach 10";
            if (Environments.EndedAbnormallySince(s_createdBefore) != 0) return "an environment did not exit cleanly";
            return null;
        }

        private static string SendPage()
        {
            Environment root = Spawn("sendpage");
            if (!Start(root)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            if (Environments.PagesReceivedSince(s_createdBefore) < 1) return "no page was transferred";
            // The pages' contents as the kernel read them from the frames it granted (not the apps' prints).
            if (!Environments.ReceivedPageStartingWith(s_createdBefore, "hello, child: this page was the parent's"))
                return "no page holding the parent's text reached the child";
            if (!Environments.ReceivedPageStartingWith(s_createdBefore, "hello, parent: this one was the child's"))
                return "no page holding the child's text reached the parent";
            if (Environments.EndedAbnormallySince(s_createdBefore) != 0) return "an environment did not exit cleanly";
            return null;
        }

        private static string Spin()
        {
            Environment spinner = Spawn("spin");
            Environment killer = Spawn("spin-killer");
            if (spinner == null || killer == null) return "cannot spawn";
            // The killer holds the right capability: an Environment capability over the spinner, slot 2.
            if (killer.Capabilities.TryInsertAt(2, CapabilityKind.Environment, spinner.Id) != Error.None) return "cannot hand over the capability";
            if (!Start(spinner) || !Start(killer)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            if (spinner.ForcedPreemptions == 0) return "the spinner was never preempted";
            if (spinner.State != EnvironmentState.Destroyed || spinner.DestroyReason != DestroyReason.ByCapability)
                return "the spinner " + Ending(spinner) + "; expected destroyed by its capability holder";
            if (!ExitedWith(killer, 0)) return "the killer " + Ending(killer);
            if (!Output(killer).Contains("stopped and resumed the spinner")) return "the killer could not stop and resume the spinner";
            return null;
        }

        private static string Revoke(string name, bool polite)
        {
            Environment app = Spawn(name);
            if (!Start(app)) return "cannot start";
            // Let it allocate its frames and say it is ready.
            Scheduler.Run(() => !app.IsAlive || Output(app).Contains(name + ": ready"), 5000);
            if (!app.IsAlive) return name + " " + Ending(app) + " before the revocation";
            ulong ownedBefore = Environments.Ledger.CountOwnedBy(app.Id);
            const ulong asked = 4;
            Error error = Revocation.Request(app, asked, Clock.Ticks + 50);
            if (error != Error.None) return "the revocation request failed: " + ((long)error).ToString();
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(app, 0)) return name + " " + Ending(app) + ": " + Output(app);
            if (polite)
            {
                if (app.RepossessedFrames != 0) return "the abort protocol took " + app.RepossessedFrames.ToString() + " frames from a compliant environment";
                // The kernel's own counts, not the app's "released 4".
                if (app.PoliteRevocations != 1 || app.FramesReleasedOnRequest != asked)
                    return "the kernel saw " + app.FramesReleasedOnRequest.ToString() + " frames freed toward the request and "
                        + app.PoliteRevocations.ToString() + " requests paid in time; expected " + asked.ToString() + " and 1";
            }
            else
            {
                if (app.RepossessedFrames != asked) return "the abort protocol took " + app.RepossessedFrames.ToString() + " frames, expected 4";
                if (!Output(app).Contains("repossessed 4")) return "the environment did not find 4 frames in its repossession vector";
            }
            if (ownedBefore < asked) return "it owned too few frames";
            return null;
        }

        private static string SyscallFuzz()
        {
            Environment fuzz = Spawn("syscall-fuzz");
            GiveDevices(fuzz); // issue #9: InputRead, InputWatch, DeviceMap fuzzed past the capability check
            Environment bystander = Spawn("bystander");
            if (!Start(fuzz) || !Start(bystander)) return "cannot start";
            if (!RunToEnd(120000)) return "timed out";
            if (fuzz.SystemCalls < 100000) return "only " + fuzz.SystemCalls.ToString() + " system calls were made";
            if (!ExitedWith(fuzz, 0)) return "the fuzzer " + Ending(fuzz);
            return BystanderProblem(bystander);
        }
    }
}
