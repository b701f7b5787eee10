// Protection-suite behaviours of the system-call upcall and the per-environment FS/GS bases
// (issue #9; Exo/SystemCallUpcalls.cs, usermode.S's aegis_syscall_redirect, Scheduler's user
// bases). The fixture is Tests/Apps/SyscallUpcall ("syscall-upcall MODE SEED NUMBER"): the kernel
// chooses the seed and the number, derives the register values itself and reads what the program
// and its entry hold at checkpoints (EnvironmentStop) and in its memory: the verdict never rests
// on the app's word. Names here, checks below; ProtectionSuite.cs runs them.
using System;
using Aegis.Abi;
using Aegis.Kernel.Exo;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Tests
{
    internal static unsafe partial class ProtectionSuite
    {
        private static readonly string[] s_systemCallUpcallBehaviours =
        {
            "syscall-upcall", "syscall-upcall-high", "syscall-upcall-off", "syscall-upcall-bad-stack",
            "syscall-upcall-bad-stack-high", "fsgsbase",
        };

        /// <summary>The boot image a behaviour runs: its own name, except this area's behaviours, which
        /// all run the one fixture "syscall-upcall" in different modes.</summary>
        private static string SystemCallUpcallImageOf(string name)
        {
            for (int i = 0; i < s_systemCallUpcallBehaviours.Length; i++)
                if (s_systemCallUpcallBehaviours[i] == name) return "syscall-upcall";
            return name;
        }

        private static bool TryDispatchSystemCallUpcall(string name, out string reason)
        {
            switch (name)
            {
                case "syscall-upcall": reason = SystemCallUpcallDelivers(false); return true;
                case "syscall-upcall-high": reason = SystemCallUpcallDelivers(true); return true;
                case "syscall-upcall-off": reason = SystemCallUpcallOff(); return true;
                case "syscall-upcall-bad-stack": reason = SystemCallUpcallBadStack(false); return true;
                case "syscall-upcall-bad-stack-high": reason = SystemCallUpcallBadStack(true); return true;
                case "fsgsbase": reason = FsGsBasesPerEnvironment(); return true;
                default: reason = null; return false;
            }
        }

        /// <summary>The fixture's register i (UserRegisters order r15 .. rax) for a seed.</summary>
        private static ulong UpcallValue(ulong seed, int i)
            => 0xC3C3_0000_0000_0000UL | ((ulong)i << 40) | ((0x0102_0304UL * (ulong)(i + 1) + seed * 0x1_0001UL) & 0xFF_FFFF_FFFFUL);

        private static ulong UpcallSeed() => 1 + (Clock.Ticks * 7919) % 100000;

        private static bool RunToCheckpoint(Environment app)
        {
            Scheduler.Run(() => !app.IsAlive || app.State == EnvironmentState.Stopped, DefaultTicks);
            return app.State == EnvironmentState.Stopped;
        }

        private static readonly string[] s_userRegisterNames =
            { "r15", "r14", "r13", "r12", "r11", "r10", "r9", "r8", "rbp", "rdi", "rsi", "rdx", "rcx", "rbx", "rax" };

        /// <summary>A syscall with RAX below First (high: at or above End, the slow path) reaches the
        /// entry as an UpcallKind.SystemCall upcall: checkpoint 1 in the entry (RSP and RDI = the
        /// frame at the upcall stack's top - 256; the frame holds every register, RCX = RIP just past
        /// a syscall instruction, R11 = RFLAGS); the entry answers ~number and resumes the program
        /// itself; checkpoint 2 right after the syscall: every register the program had, RAX the
        /// answer, RCX/R11 as Linux leaves them. A bystander runs meanwhile.</summary>
        private static string SystemCallUpcallDelivers(bool high)
        {
            ulong seed = UpcallSeed();
            ulong number = high ? ((seed & 1) == 0 ? SystemCallNumbers.End + seed % 4096 : 0xFFFF_FFFF_0000_0000UL | seed) : seed % SystemCallNumbers.First;
            Environment app = Spawn("syscall-upcall", "deliver " + seed.ToString() + " " + number.ToString());
            Environment bystander = Spawn("bystander");
            if (!Start(app) || !Start(bystander)) return "cannot start";
            if (!RunToCheckpoint(app)) return "syscall-upcall " + Ending(app) + " before its entry's checkpoint: " + Output(app);

            ulong frameAddress = app.UpcallStackTop - UpcallFrame.Size;
            InterruptFrame* saved = app.Frame;
            if (saved->Rsp != frameAddress || saved->R12 != frameAddress)
                return "the entry ran with RSP 0x" + saved->Rsp.ToString("x") + ", RDI 0x" + saved->R12.ToString("x") + "; the frame is at 0x" + frameAddress.ToString("x");
            if (saved->Rip < app.SystemCallUpcallEntry || saved->Rip - app.SystemCallUpcallEntry > 32)
                return "the checkpoint at 0x" + saved->Rip.ToString("x") + " is not in the entry at 0x" + app.SystemCallUpcallEntry.ToString("x");
            UpcallFrame upcall;
            if (!UserMemory.TryRead(app, frameAddress, new Span<byte>(&upcall, UpcallFrame.Size))) return "cannot read the frame";
            if (upcall.Kind != UpcallKind.SystemCall) return "the frame's kind is " + ((ulong)upcall.Kind).ToString();
            UserRegisters* registers = &upcall.Registers;
            ulong* words = (ulong*)registers;
            for (int i = 0; i < 14; i++)
            {
                if (i == 4 || i == 12) continue; // r11, rcx: the syscall instruction's
                if (words[i] != UpcallValue(seed, i))
                    return "the frame's " + s_userRegisterNames[i] + " is 0x" + words[i].ToString("x") + ", the program had 0x" + UpcallValue(seed, i).ToString("x");
            }
            if (registers->Rax != number) return "the frame's rax is 0x" + registers->Rax.ToString("x") + ", the call was 0x" + number.ToString("x");
            if (registers->Rcx != registers->Rip || registers->R11 != registers->Rflags) return "the frame's rcx/r11 are not rip/rflags";
            if ((registers->Rflags & 0x200) == 0) return "the frame's rflags lack IF";
            byte* instruction = stackalloc byte[2];
            if (!UserMemory.TryRead(app, registers->Rip - 2, new Span<byte>(instruction, 2)) || instruction[0] != 0x0F || instruction[1] != 0x05)
                return "the frame's rip 0x" + registers->Rip.ToString("x") + " is not just past a syscall instruction";
            if (app.SystemCallUpcallsSlow != (high ? 1UL : 0UL))
                return "the slow path delivered " + app.SystemCallUpcallsSlow.ToString() + " system-call upcalls; expected " + (high ? "1" : "0 (the fast path's)");
            ulong programRsp = registers->Rsp;

            if (Environments.Start(app) != Error.None) return "cannot resume it in its entry";
            if (!RunToCheckpoint(app)) return "syscall-upcall " + Ending(app) + " before the program's checkpoint: " + Output(app);
            if (saved->Rsp != programRsp - 40) return "the program resumed with RSP 0x" + (saved->Rsp + 40).ToString("x") + ", not 0x" + programRsp.ToString("x");
            ulong* pushed = stackalloc ulong[5]; // rflags, rdi, r11, rcx, rax
            if (!UserMemory.TryRead(app, saved->Rsp, new Span<byte>(pushed, 40))) return "cannot read the program's stack";
            if (pushed[4] != ~number) return "the call returned 0x" + pushed[4].ToString("x") + ", the entry answered 0x" + (~number).ToString("x");
            if (pushed[3] != registers->Rip || pushed[2] != registers->Rflags) return "rcx/r11 after the call are not the rip/rflags Linux leaves";
            if (pushed[1] != UpcallValue(seed, 9)) return "rdi after the call is 0x" + pushed[1].ToString("x");
            if ((pushed[0] & 0xCD5) != (registers->Rflags & 0xCD5)) return "the flags after the call are 0x" + pushed[0].ToString("x") + ", before 0x" + registers->Rflags.ToString("x");
            ulong* after = stackalloc ulong[15];
            after[0] = saved->R15; after[1] = saved->R14; after[2] = saved->R13; after[3] = saved->R12; after[5] = saved->R10;
            after[6] = saved->R9; after[7] = saved->R8; after[8] = saved->Rbp; after[10] = saved->Rsi; after[11] = saved->Rdx; after[13] = saved->Rbx;
            for (int i = 0; i < 14; i++)
            {
                if (i == 4 || i == 9 || i == 12) continue;
                if (after[i] != UpcallValue(seed, i))
                    return s_userRegisterNames[i] + " after the call is 0x" + after[i].ToString("x") + ", expected 0x" + UpcallValue(seed, i).ToString("x");
            }
            if (Environments.Start(app) != Error.None) return "cannot resume the program";
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(app, 0)) return "syscall-upcall " + Ending(app) + ": " + Output(app);
            return BystanderProblem(bystander);
        }

        /// <summary>Turned on then off (and refused for a kernel entry and without an upcall stack): the
        /// call below First fails with NoSuchCall as any unknown number, the entry never runs, the
        /// callee-saved registers survive; the kernel's switch reads off.</summary>
        private static string SystemCallUpcallOff()
        {
            ulong seed = UpcallSeed();
            ulong number = seed % SystemCallNumbers.First;
            Environment app = Spawn("syscall-upcall", "off " + seed.ToString() + " " + number.ToString());
            if (!Start(app)) return "cannot start";
            if (!RunToCheckpoint(app)) return "syscall-upcall " + Ending(app) + " before its checkpoint: " + Output(app);
            InterruptFrame* saved = app.Frame;
            if (app.SystemCallUpcallEntry != 0 || app.Counters[Environment.CountersSystemCallUpcallFrame] != 0) return "the system-call upcall is still on";
            if (app.UpcallEntry == 0 || app.UpcallStackTop == 0) return "its upcall registration did not come back";
            ulong result;
            if (!UserMemory.TryReadUInt64(app, saved->Rsp + 32, out result)) return "cannot read the program's stack";
            if (result != unchecked((ulong)(long)Error.NoSuchCall)) return "the call returned 0x" + result.ToString("x") + ", not NoSuchCall";
            if (saved->R15 != UpcallValue(seed, 0) || saved->R12 != UpcallValue(seed, 3) || saved->Rbx != UpcallValue(seed, 13) || saved->Rbp != UpcallValue(seed, 8))
                return "a callee-saved register changed across the failed call";
            if (Environments.Start(app) != Error.None) return "cannot resume the program";
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(app, 0)) return "syscall-upcall " + Ending(app) + " (the app checks BadAddress and InvalidArgument): " + Output(app);
            return null;
        }

        /// <summary>The upcall stack's top page read-only: the frame cannot be written (the fast path's
        /// write faults in ring 0 and the #PF fixup catches it; high: the slow path's checked write
        /// fails): the environment is destroyed (BadUpcall) with a report, the kernel and a bystander
        /// carry on.</summary>
        private static string SystemCallUpcallBadStack(bool high)
        {
            ulong seed = UpcallSeed();
            ulong number = high ? SystemCallNumbers.End + seed % 4096 : seed % SystemCallNumbers.First;
            ulong faultsBefore = SystemCallUpcalls.RedirectFaults;
            Environment app = Spawn("syscall-upcall", "bad-stack " + seed.ToString() + " " + number.ToString());
            Environment bystander = Spawn("bystander");
            if (!Start(app) || !Start(bystander)) return "cannot start";
            if (!RunToEnd()) return "timed out";
            if (app.State != EnvironmentState.Destroyed || app.DestroyReason != DestroyReason.BadUpcall)
                return "syscall-upcall " + Ending(app) + "; expected destroyed for a bad upcall: " + Output(app);
            if (app.EndReport == null || !app.EndReport.Contains("system-call upcall")) return "no report of the bad system-call upcall";
            ulong faults = SystemCallUpcalls.RedirectFaults - faultsBefore;
            if (faults != (high ? 0UL : 1UL)) return "the #PF fixup caught " + faults.ToString() + " faults; expected " + (high ? "0" : "1");
            return BystanderProblem(bystander);
        }

        /// <summary>Two programs set their own FS and GS bases with wrfsbase/wrgsbase (one GS base a
        /// kernel-half address, which the kernel never uses) and yield to each other and a bystander
        /// 20 times: each reads back its own values at its checkpoint; a child it creates meanwhile
        /// starts with them; the bystander's bases are untouched.</summary>
        private static string FsGsBasesPerEnvironment()
        {
            ulong seed = UpcallSeed();
            Environment first = Spawn("syscall-upcall", "fsgs " + seed.ToString() + " 0");
            Environment second = Spawn("syscall-upcall", "fsgs " + (seed + 1).ToString() + " 0");
            Environment bystander = Spawn("bystander");
            if (!Start(first) || !Start(second) || !Start(bystander)) return "cannot start";
            if (!Cpu.FsGsBaseEnabled)
            {
                if (!RunToEnd()) return "timed out";
                return ExitedWith(first, 3) && ExitedWith(second, 3) ? null : "without FSGSBASE the app must see CpuFeatures 0";
            }
            Scheduler.Run(() => (!first.IsAlive || first.State == EnvironmentState.Stopped) && (!second.IsAlive || second.State == EnvironmentState.Stopped), DefaultTicks);
            for (int k = 0; k < 2; k++)
            {
                Environment app = k == 0 ? first : second;
                ulong appSeed = seed + (ulong)k;
                if (app.State != EnvironmentState.Stopped) return "syscall-upcall " + Ending(app) + " before its checkpoint: " + Output(app);
                ulong fs = UpcallValue(appSeed, 0) & 0x0000_7FFF_FFFF_F000UL;
                ulong gs = UpcallValue(appSeed, 1) | 0xFFFF_8000_0000_0000UL;
                InterruptFrame* saved = app.Frame;
                if (saved->R12 != fs) return "FS base read back as 0x" + saved->R12.ToString("x") + " after the switches, set 0x" + fs.ToString("x");
                if (saved->R13 != gs) return "GS base read back as 0x" + saved->R13.ToString("x") + " after the switches, set 0x" + gs.ToString("x");
                if (app.GsBase != gs) return "the kernel keeps GS base 0x" + app.GsBase.ToString("x") + " for it";
                if (app.Capabilities.Lookup(saved->R14, CapabilityKind.Environment, out ulong childId) != Error.None) return "EnvironmentCreate gave no child";
                Environment child = Environments.Find(childId);
                if (child == null || child.FsBase != fs || child.GsBase != gs)
                    return "the child did not start with its creator's live FS and GS bases (0x" + fs.ToString("x") + ", 0x" + gs.ToString("x") + "): "
                        + (child == null ? "no child" : "0x" + child.FsBase.ToString("x") + ", 0x" + child.GsBase.ToString("x"));
                if (child.SystemCallUpcallEntry != 0) return "the child starts with the system-call upcall on";
            }
            ulong bystanderFs = bystander.FsBase;
            if (bystanderFs == (UpcallValue(seed, 0) & 0x0000_7FFF_FFFF_F000UL) || bystanderFs == (UpcallValue(seed + 1, 0) & 0x0000_7FFF_FFFF_F000UL))
                return "the bystander runs with another program's FS base";
            if (bystander.GsBase != 0) return "the bystander's GS base is 0x" + bystander.GsBase.ToString("x");
            if (Environments.Start(first) != Error.None || Environments.Start(second) != Error.None) return "cannot resume";
            if (!RunToEnd()) return "timed out";
            if (!ExitedWith(first, 0) || !ExitedWith(second, 0)) return "syscall-upcall " + Ending(first) + " / " + Ending(second);
            return BystanderProblem(bystander);
        }
    }
}
