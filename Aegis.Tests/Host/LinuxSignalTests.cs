using System.Diagnostics;
using System.Runtime.InteropServices;
using Aegis.Abi;
using Aegis.LibOS.Unixish.Linux;
using NUnit.Framework;

namespace Aegis.Tests.Host;

/// <summary>Helpers: build and run the C programs in Host/Data with the host's gcc.</summary>
internal static class HostC
{
    private static readonly Dictionary<string, string> s_built = new();

    public static string Build(string name)
    {
        lock (s_built)
        {
            if (s_built.TryGetValue(name, out string done)) return done;
            string source = Path.Combine(TestContext.CurrentContext.TestDirectory, "..", "..", "..", "Host", "Data", name + ".c");
            string output = Path.Combine(Path.GetTempPath(), "aegis-" + name + "-" + Environment.ProcessId);
            var gcc = Process.Start(new ProcessStartInfo("gcc", "-O1 -o " + output + " " + source) { RedirectStandardError = true })!;
            string errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            Assert.That(gcc.ExitCode, Is.EqualTo(0), "gcc " + name + ": " + errors);
            s_built[name] = output;
            return output;
        }
    }

    public static string Run(string name, string arguments = "")
    {
        var run = Process.Start(new ProcessStartInfo(Build(name), arguments) { RedirectStandardOutput = true })!;
        string text = run.StandardOutput.ReadToEnd();
        run.WaitForExit();
        Assert.That(run.ExitCode, Is.EqualTo(0), name + " failed");
        return text;
    }

    /// <summary>"name value" lines as a dictionary.</summary>
    public static Dictionary<string, long> Values(string text)
    {
        var values = new Dictionary<string, long>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] words = line.Split(' ');
            values[words[0]] = long.Parse(words[1]);
        }
        return values;
    }
}

/// <summary>The signal layouts and constants of LibOS.Unixish/Linux/Signals against the host's
/// headers (a C program printing offsetof values and constants, compiled at test time).</summary>
public class LinuxSignalLayoutTests
{
    [Test]
    public void UcontextMcontextAndStackOffsetsAreGlibcs()
    {
        var host = HostC.Values(HostC.Run("linux-signal-layout"));
        Assert.That(SignalFrame.UcFlags, Is.EqualTo(host["uc_flags"]));
        Assert.That(SignalFrame.UcLink, Is.EqualTo(host["uc_link"]));
        Assert.That(SignalFrame.UcStack, Is.EqualTo(host["uc_stack"]));
        Assert.That(SignalFrame.UcMcontext, Is.EqualTo(host["uc_mcontext"]));
        Assert.That(SignalFrame.UcSigmask, Is.EqualTo(host["uc_sigmask"]));
        Assert.That(SignalFrame.StackSp, Is.EqualTo(host["ss_sp"]));
        Assert.That(SignalFrame.StackFlags, Is.EqualTo(host["ss_flags"]));
        Assert.That(SignalFrame.StackSize, Is.EqualTo(host["ss_size"]));
        Assert.That(host["gregs"], Is.EqualTo(0));
        Assert.That(SignalFrame.McontextFpState, Is.EqualTo(host["fpregs"]));
        Assert.That(SignalFrame.GregCount, Is.EqualTo(host["NGREG"]));
        string[] names = { "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15", "RDI", "RSI", "RBP", "RBX", "RDX", "RAX",
            "RCX", "RSP", "RIP", "EFL", "CSGSFS", "ERR", "TRAPNO", "OLDMASK", "CR2" };
        foreach (string name in names)
        {
            int ours = (int)typeof(SignalFrame).GetField("REG_" + name)!.GetValue(null)!;
            Assert.That(ours, Is.EqualTo(host["REG_" + name]), "REG_" + name);
        }
    }

    [Test]
    public void SiginfoFieldsAreWrittenWhereGlibcReadsThem()
    {
        var host = HostC.Values(HostC.Run("linux-signal-layout"));
        Assert.That(SigInfo.Size, Is.EqualTo(host["sizeof_siginfo"]));
        byte[] bytes = new byte[SigInfo.Size];
        unsafe
        {
            fixed (byte* b = bytes)
            {
                var kill = SigInfo.FromProcess(Sig.SIGUSR1, Sig.SI_USER, 0x1234, 0x5678);
                SignalFrame.WriteSiginfo(b, in kill);
                Assert.That(*(int*)(b + host["si_signo"]), Is.EqualTo(Sig.SIGUSR1));
                Assert.That(*(int*)(b + host["si_code"]), Is.EqualTo(0));
                Assert.That(*(int*)(b + host["si_pid"]), Is.EqualTo(0x1234));
                Assert.That(*(uint*)(b + host["si_uid"]), Is.EqualTo(0x5678));

                var queued = SigInfo.FromProcess(Sig.SIGRTMIN + 3, Sig.SI_QUEUE, 7, 0);
                queued.Value = 0xABCDEF;
                SignalFrame.WriteSiginfo(b, in queued);
                Assert.That(*(ulong*)(b + host["si_value"]), Is.EqualTo(0xABCDEFUL));

                var fault = new SigInfo { Signo = Sig.SIGSEGV, Code = Sig.SEGV_ACCERR, Address = 0xDEAD000 };
                SignalFrame.WriteSiginfo(b, in fault);
                Assert.That(*(ulong*)(b + host["si_addr"]), Is.EqualTo(0xDEAD000UL));
                Assert.That(*(int*)(b + host["si_code"]), Is.EqualTo(Sig.SEGV_ACCERR));

                var child = new SigInfo { Signo = Sig.SIGCHLD, Code = Sig.CLD_EXITED, Pid = 99, Uid = 0, Status = 3, UserTime = 5, SystemTime = 6 };
                SignalFrame.WriteSiginfo(b, in child);
                Assert.That(*(int*)(b + host["si_pid"]), Is.EqualTo(99));
                Assert.That(*(int*)(b + host["si_status"]), Is.EqualTo(3));
                Assert.That(*(long*)(b + host["si_utime"]), Is.EqualTo(5));
                Assert.That(*(long*)(b + host["si_stime"]), Is.EqualTo(6));

                var sys = new SigInfo { Signo = Sig.SIGSYS, Code = 1, Address = 0x401000, Status = 39 };
                SignalFrame.WriteSiginfo(b, in sys);
                Assert.That(*(ulong*)(b + host["si_call_addr"]), Is.EqualTo(0x401000UL));
                Assert.That(*(int*)(b + host["si_syscall"]), Is.EqualTo(39));
                Assert.That(*(uint*)(b + host["si_arch"]), Is.EqualTo(0xC000003Eu));
            }
        }
    }

    [Test]
    public void KernelSigactionLayoutIsTheUapiHeaders()
    {
        var host = HostC.Values(HostC.Run("linux-signal-kernel-sigaction"));
        Assert.That(Marshal.OffsetOf<SignalAction>(nameof(SignalAction.Handler)).ToInt64(), Is.EqualTo(host["sa_handler"]));
        Assert.That(Marshal.OffsetOf<SignalAction>(nameof(SignalAction.Flags)).ToInt64(), Is.EqualTo(host["sa_flags"]));
        Assert.That(Marshal.OffsetOf<SignalAction>(nameof(SignalAction.Restorer)).ToInt64(), Is.EqualTo(host["sa_restorer"]));
        Assert.That(Marshal.OffsetOf<SignalAction>(nameof(SignalAction.Mask)).ToInt64(), Is.EqualTo(host["sa_mask"]));
        Assert.That(host["sizeof_sigset"], Is.EqualTo(8));
        Assert.That(Marshal.SizeOf<SignalAction>(), Is.EqualTo(SignalAction.Size));
    }

    [Test]
    public void ConstantsAreTheHostHeaders()
    {
        var host = HostC.Values(HostC.Run("linux-signal-layout"));
        foreach (var field in typeof(Sig).GetFields())
        {
            if (!field.IsLiteral || !host.ContainsKey(field.Name)) continue;
            long ours = Convert.ToInt64(field.GetValue(null));
            Assert.That(ours, Is.EqualTo(host[field.Name]), field.Name);
        }
        Assert.That(Sig.SA_RESETHAND, Is.EqualTo((ulong)host["SA_RESETHAND"]));
        Assert.That(host.ContainsKey("SIGSYS") && host.ContainsKey("FPE_INTDIV"), Is.True);
    }
}

/// <summary>A frame built by SignalFrame, read back by a gcc-built program through glibc's own
/// ucontext_t/siginfo_t, as a handler would.</summary>
public unsafe class LinuxSignalFrameTests
{
    [Test]
    public void PlacementAlignsLikeLinuxGetSigframe()
    {
        for (ulong top = 0x7FFF_0000; top < 0x7FFF_0000 + 200; top += 7)
        {
            ulong frame = SignalFrame.Place(top, out ulong fp);
            Assert.That(fp % 64, Is.EqualTo(0UL));
            Assert.That(fp + SignalFrame.FpStateSize, Is.LessThanOrEqualTo(top));
            Assert.That((frame + 8) % 16, Is.EqualTo(0UL), "RSP + 8 16-aligned at the handler's entry");
            Assert.That(frame + SignalFrame.Size, Is.LessThanOrEqualTo(fp));
            Assert.That(fp - (frame + SignalFrame.Size), Is.LessThan(64UL + 16));
        }
    }

    [Test]
    public void GlibcReadsTheFrameWeBuild()
    {
        IntPtr memory = Marshal.AllocHGlobal(16384);
        try
        {
            ulong top = ((ulong)memory + 16000) & ~0xFUL;
            ulong frame = SignalFrame.Place(top, out ulong fp);
            byte* fx = stackalloc byte[512 + 16];
            fx = (byte*)(((ulong)fx + 15) & ~15UL);
            for (int i = 0; i < 512; i++) fx[i] = 0xEE;
            *(ushort*)fx = 0x37F;
            *(uint*)(fx + 24) = 0x1F80;
            *(uint*)(fx + 160) = 0x11223344; // xmm0 low
            var regs = new UserRegisters
            {
                R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15, Rdi = 0xD1, Rsi = 0x51,
                Rbp = 0xB9, Rbx = 0xBB, Rdx = 0xDD, Rax = 0xAA, Rcx = 0xCC, Rsp = 0x7FFE00, Rip = 0x401234, Rflags = 0x246,
            };
            var info = new SigInfo { Signo = Sig.SIGSEGV, Code = Sig.SEGV_MAPERR, Address = 0x1000, Trap = 14, ErrorCode = 6 };
            SignalFrame.Write(frame, fp, in regs, 0x401F00, in info, 0x300, 0x500000, Sig.SS_DISABLE, 0x4000, fx);
            int length = (int)(fp + 512 - frame);
            byte[] bytes = new byte[length];
            Marshal.Copy((IntPtr)frame, bytes, 0, length);
            string file = Path.Combine(Path.GetTempPath(), "aegis-signal-frame-" + Environment.ProcessId);
            File.WriteAllBytes(file, bytes);
            string output = HostC.Run("linux-signal-readframe", file + " " + frame);
            var lines = output.Split('\n').ToList();
            Assert.That(lines, Does.Contain("pretcode 0x401f00"));
            Assert.That(lines, Does.Contain("uc_flags 0x6"));
            Assert.That(lines, Does.Contain("ss_sp 0x500000 ss_flags 2 ss_size 16384"));
            string[] expected = { "R8 0x8", "R9 0x9", "R10 0xa", "R11 0xb", "R12 0xc", "R13 0xd", "R14 0xe", "R15 0xf",
                "RDI 0xd1", "RSI 0x51", "RBP 0xb9", "RBX 0xbb", "RDX 0xdd", "RAX 0xaa", "RCX 0xcc", "RSP 0x7ffe00",
                "RIP 0x401234", "EFL 0x246", "CSGSFS 0x2b000000000033", "ERR 0x6", "TRAPNO 0xe", "OLDMASK 0x300", "CR2 0x1000" };
            foreach (string line in expected) Assert.That(lines, Does.Contain(line));
            Assert.That(lines, Does.Contain("fpregs_offset " + (fp - frame)));
            Assert.That(lines, Does.Contain("cwd 0x37f mxcsr 0x1f80 xmm0 0x11223344"));
            Assert.That(lines, Does.Contain("magic1 0x0"), "no FP_XSTATE_MAGIC1: no XSAVE state claimed");
            Assert.That(lines, Does.Contain("sigmask 0x300"));
            Assert.That(lines, Does.Contain("si_signo 11 si_errno 0 si_code 1"));
            Assert.That(output, Does.Contain("si_addr 0x1000"));
        }
        finally
        {
            Marshal.FreeHGlobal(memory);
        }
    }

    [Test]
    public void SigreturnRestoresWhatTheHandlerChangedButNotPrivilegedFlags()
    {
        byte* memory = stackalloc byte[2048];
        ulong top = ((ulong)memory + 2000) & ~0xFUL;
        ulong frame = SignalFrame.Place(top, out ulong fp);
        byte* fx = stackalloc byte[512];
        var regs = new UserRegisters { Rax = 1, Rip = 0x401000, Rsp = 0x7FF000, Rflags = 0x202 };
        SignalFrame.Write(frame, fp, in regs, 0x401F00, SigInfo.FromKernel(Sig.SIGALRM), 0x5, 0, Sig.SS_DISABLE, 0, fx);
        ulong uc = frame + SignalFrame.UcontextOffset;
        ulong* g = (ulong*)(uc + SignalFrame.UcMcontext);
        g[SignalFrame.REG_RIP] = 0x401002;           // a handler skipping the faulting instruction
        g[SignalFrame.REG_RAX] = 77;
        g[SignalFrame.REG_EFL] = 0x3000 | 0x200 | 0x1 | 0x400; // IOPL 3 asked, IF, CF, DF
        *(ulong*)(uc + SignalFrame.UcSigmask) = 0x1234;
        var live = new UserRegisters { Rflags = 0x246 };
        SignalFrame.Restore(uc, ref live, out ulong mask, out ulong fpState);
        Assert.That(live.Rip, Is.EqualTo(0x401002UL));
        Assert.That(live.Rax, Is.EqualTo(77UL));
        Assert.That(live.Rsp, Is.EqualTo(0x7FF000UL));
        Assert.That(live.Rflags & 0x3000, Is.EqualTo(0UL), "IOPL never comes from the frame");
        Assert.That(live.Rflags & 0x401, Is.EqualTo(0x401UL), "CF and DF do");
        Assert.That(live.Rflags & 0x200, Is.EqualTo(0x200UL), "IF stays as it was");
        Assert.That(mask, Is.EqualTo(0x1234UL));
        Assert.That(fpState, Is.EqualTo(fp));
    }

    [Test]
    public void LoadedFpStateNeverHasReservedMxcsrBits()
    {
        byte* fx = stackalloc byte[512];
        byte* from = stackalloc byte[512];
        for (int i = 0; i < 512; i++) { fx[i] = 0; from[i] = 0; }
        *(uint*)(fx + 28) = 0xFFBF;               // the CPU's MXCSR_MASK (no DAZ)
        *(uint*)(from + 24) = 0xFFFF_1F80;       // reserved bits set by a hostile handler
        SignalFrame.LoadFpState(fx, from);
        Assert.That(*(uint*)(fx + 24), Is.EqualTo(0x1F80u));
        SignalFrame.WriteInitialFpState(fx);
        Assert.That(*(ushort*)fx, Is.EqualTo((ushort)0x37F));
        Assert.That(*(uint*)(fx + 24), Is.EqualTo(0x1F80u));
        Assert.That(*(uint*)(fx + 28), Is.EqualTo(0xFFBFu));
    }

    [Test]
    public void EnterHandlerSetsTheAbiRegisters()
    {
        var regs = new UserRegisters { Rflags = 0x10746, Rax = 5 };
        SignalFrame.EnterHandler(ref regs, 0x7FF0_0008, 0x401500, Sig.SIGUSR1);
        Assert.That(regs.Rip, Is.EqualTo(0x401500UL));
        Assert.That(regs.Rsp, Is.EqualTo(0x7FF0_0008UL));
        Assert.That(regs.Rdi, Is.EqualTo((ulong)Sig.SIGUSR1));
        Assert.That(regs.Rsi, Is.EqualTo(0x7FF0_0008UL + 312));
        Assert.That(regs.Rdx, Is.EqualTo(0x7FF0_0008UL + 8));
        Assert.That(regs.Rax, Is.EqualTo(0UL));
        Assert.That(regs.Rflags, Is.EqualTo(0x246UL), "DF, TF, RF cleared");
    }

    [Test]
    public void TrapCodesAreLinuxs()
    {
        Assert.That(SignalFrame.TrapCode(0, 0x401000, 0x1F80, out ulong a), Is.EqualTo(Sig.FPE_INTDIV));
        Assert.That(a, Is.EqualTo(0x401000UL));
        Assert.That(SignalFrame.TrapCode(6, 0x401000, 0x1F80, out a), Is.EqualTo(Sig.ILL_ILLOPN));
        Assert.That(SignalFrame.TrapCode(13, 0x401000, 0x1F80, out a), Is.EqualTo(Sig.SI_KERNEL));
        Assert.That(a, Is.EqualTo(0UL));
        Assert.That(SignalFrame.TrapCode(3, 0x401000, 0x1F80, out _), Is.EqualTo(Sig.SI_KERNEL));
        // #XM: zero-divide unmasked (ZM bit 9 clear) and flagged (ZE bit 2).
        Assert.That(SignalFrame.TrapCode(19, 0x401000, 0x1F80 & ~0x200u | 0x4, out _), Is.EqualTo(Sig.FPE_FLTDIV));
        Assert.That(SignalFrame.TrapCode(19, 0x401000, 0x1F80 & ~0x80u | 0x1, out _), Is.EqualTo(Sig.FPE_FLTINV));
    }
}

/// <summary>Dispositions, the mask and the pending set (SignalState).</summary>
public class LinuxSignalStateTests
{
    private static SignalAction Handler(ulong flags = Sig.SA_RESTORER | Sig.SA_SIGINFO, ulong mask = 0)
        => new SignalAction { Handler = 0x401000, Flags = flags, Restorer = 0x401F00, Mask = mask };

    [Test]
    public void KillAndStopCannotBeCaughtIgnoredOrBlocked()
    {
        var state = new SignalState();
        Assert.That(state.SetAction(Sig.SIGKILL, true, Handler(), out _), Is.EqualTo(-Errno.EINVAL));
        Assert.That(state.SetAction(Sig.SIGSTOP, true, new SignalAction { Handler = Sig.SIG_IGN }, out _), Is.EqualTo(-Errno.EINVAL));
        Assert.That(state.SetAction(Sig.SIGKILL, false, default, out _), Is.EqualTo(0), "reading SIGKILL's action is allowed");
        Assert.That(state.SetAction(0, false, default, out _), Is.EqualTo(-Errno.EINVAL));
        Assert.That(state.SetAction(65, true, Handler(), out _), Is.EqualTo(-Errno.EINVAL));
        state.ChangeMask(Sig.SIG_SETMASK, true, ulong.MaxValue, out _);
        Assert.That(state.Blocked & Sig.Unblockable, Is.EqualTo(0UL));
        state.SetAction(Sig.SIGUSR1, true, Handler(mask: ulong.MaxValue), out _);
        Assert.That(state.Actions[Sig.SIGUSR1].Mask & Sig.Unblockable, Is.EqualTo(0UL));
        Assert.That(state.ChangeMask(3, true, 0, out _), Is.EqualTo(-Errno.EINVAL));
    }

    [Test]
    public void BlockUnblockSetmaskAndOldMask()
    {
        var state = new SignalState();
        state.ChangeMask(Sig.SIG_BLOCK, true, Sig.Bit(Sig.SIGUSR1) | Sig.Bit(Sig.SIGUSR2), out ulong old);
        Assert.That(old, Is.EqualTo(0UL));
        state.ChangeMask(Sig.SIG_UNBLOCK, true, Sig.Bit(Sig.SIGUSR1), out old);
        Assert.That(old, Is.EqualTo(Sig.Bit(Sig.SIGUSR1) | Sig.Bit(Sig.SIGUSR2)));
        Assert.That(state.Blocked, Is.EqualTo(Sig.Bit(Sig.SIGUSR2)));
        state.ChangeMask(Sig.SIG_SETMASK, true, Sig.Bit(Sig.SIGINT), out _);
        Assert.That(state.Blocked, Is.EqualTo(Sig.Bit(Sig.SIGINT)));
        state.ChangeMask(99, false, 0, out old);
        Assert.That(old, Is.EqualTo(Sig.Bit(Sig.SIGINT)), "no set: only the old mask, any how");
    }

    [Test]
    public void BlockedSignalWaitsThenIsDeliverableWhenUnblocked()
    {
        var state = new SignalState();
        int changes = 0;
        state.Changed = () => changes++;
        state.SetAction(Sig.SIGUSR1, true, Handler(), out _);
        state.ChangeMask(Sig.SIG_BLOCK, true, Sig.Bit(Sig.SIGUSR1), out _);
        Assert.That(state.Post(SigInfo.FromProcess(Sig.SIGUSR1, Sig.SI_USER, 5, 0)), Is.True);
        Assert.That(state.Deliverable, Is.EqualTo(0UL));
        Assert.That(state.Pending, Is.EqualTo(Sig.Bit(Sig.SIGUSR1)));
        state.ChangeMask(Sig.SIG_UNBLOCK, true, Sig.Bit(Sig.SIGUSR1), out _);
        Assert.That(state.Deliverable, Is.EqualTo(Sig.Bit(Sig.SIGUSR1)));
        Assert.That(state.Take(state.Deliverable, out SigInfo info), Is.EqualTo(Sig.SIGUSR1));
        Assert.That(info.Pid, Is.EqualTo(5));
        Assert.That(state.Pending, Is.EqualTo(0UL));
        Assert.That(changes, Is.GreaterThanOrEqualTo(4), "every change of Pending or Blocked is announced");
    }

    [Test]
    public void StandardSignalsCoalesceRealtimeSignalsQueueInOrder()
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGUSR1, true, Handler(), out _);
        state.SetAction(40, true, Handler(), out _);
        Assert.That(state.Post(SigInfo.FromProcess(Sig.SIGUSR1, Sig.SI_USER, 1, 0)), Is.True);
        Assert.That(state.Post(SigInfo.FromProcess(Sig.SIGUSR1, Sig.SI_USER, 2, 0)), Is.False);
        Assert.That(state.PendingCount(Sig.SIGUSR1), Is.EqualTo(1));
        for (int i = 0; i < SignalState.RealtimeDepth + 3; i++)
        {
            var info = SigInfo.FromProcess(40, Sig.SI_QUEUE, 1, 0);
            info.Value = (ulong)i;
            Assert.That(state.Post(info), Is.EqualTo(i < SignalState.RealtimeDepth));
        }
        Assert.That(state.Dropped, Is.EqualTo(3));
        Assert.That(state.Take(state.Deliverable, out SigInfo first), Is.EqualTo(Sig.SIGUSR1), "lowest first");
        Assert.That(first.Pid, Is.EqualTo(1), "the first instance's siginfo is kept");
        for (int i = 0; i < SignalState.RealtimeDepth; i++)
        {
            Assert.That(state.Take(state.Deliverable, out SigInfo queued), Is.EqualTo(40));
            Assert.That(queued.Value, Is.EqualTo((ulong)i), "queued in order");
        }
        Assert.That(state.Pending, Is.EqualTo(0UL));
    }

    [Test]
    public void SynchronousSignalsComeFirst()
    {
        var state = new SignalState();
        state.Post(SigInfo.FromProcess(Sig.SIGINT, 0, 1, 0));
        state.SetAction(Sig.SIGSEGV, true, Handler(), out _);
        state.Post(new SigInfo { Signo = Sig.SIGSEGV, Code = Sig.SEGV_MAPERR });
        Assert.That(state.Take(state.Deliverable, out _), Is.EqualTo(Sig.SIGSEGV));
        Assert.That(state.Take(state.Deliverable, out _), Is.EqualTo(Sig.SIGINT));
    }

    [Test]
    public void IgnoredSignalsAreDiscardedUnlessBlocked()
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGUSR1, true, new SignalAction { Handler = Sig.SIG_IGN }, out _);
        Assert.That(state.Post(SigInfo.FromProcess(Sig.SIGUSR1, 0, 1, 0)), Is.False);
        Assert.That(state.Post(SigInfo.FromProcess(Sig.SIGCHLD, 0, 1, 0)), Is.False, "SIGCHLD's default is ignore");
        Assert.That(state.Post(SigInfo.FromProcess(Sig.SIGWINCH, 0, 1, 0)), Is.False);
        Assert.That(state.Post(SigInfo.FromProcess(Sig.SIGCONT, 0, 1, 0)), Is.False, "SIGCONT by default: continues, not queued");
        Assert.That(state.ContinueRequested, Is.True);
        Assert.That(state.Pending, Is.EqualTo(0UL));
        state.ChangeMask(Sig.SIG_BLOCK, true, Sig.Bit(Sig.SIGCHLD), out _);
        Assert.That(state.Post(SigInfo.FromProcess(Sig.SIGCHLD, 0, 1, 0)), Is.True, "blocked: kept, the action may change");
        state.SetAction(Sig.SIGUSR2, true, Handler(), out _);
        state.ChangeMask(Sig.SIG_BLOCK, true, Sig.Bit(Sig.SIGUSR2), out _);
        state.Post(SigInfo.FromProcess(Sig.SIGUSR2, 0, 1, 0));
        state.SetAction(Sig.SIGUSR2, true, new SignalAction { Handler = Sig.SIG_IGN }, out _);
        Assert.That(state.Pending & Sig.Bit(Sig.SIGUSR2), Is.EqualTo(0UL), "becoming ignored discards the pending one");
    }

    [Test]
    public void StopAndContinueCancelEachOther()
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGCONT, true, Handler(), out _);
        state.Post(SigInfo.FromProcess(Sig.SIGCONT, 0, 1, 0));
        Assert.That(state.PendingCount(Sig.SIGCONT), Is.EqualTo(1));
        state.Post(SigInfo.FromProcess(Sig.SIGTSTP, 0, 1, 0));
        Assert.That(state.PendingCount(Sig.SIGCONT), Is.EqualTo(0));
        Assert.That(state.PendingCount(Sig.SIGTSTP), Is.EqualTo(1));
        state.Post(SigInfo.FromProcess(Sig.SIGCONT, 0, 1, 0));
        Assert.That(state.PendingCount(Sig.SIGTSTP), Is.EqualTo(0));
    }

    [Test]
    public void DeliveryBlocksTheSignalAndItsMaskNodeferAndResethand()
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGUSR1, true, Handler(mask: Sig.Bit(Sig.SIGINT)), out _);
        state.Delivered(Sig.SIGUSR1);
        Assert.That(state.Blocked, Is.EqualTo(Sig.Bit(Sig.SIGUSR1) | Sig.Bit(Sig.SIGINT)));
        state.SetBlocked(0);
        state.SetAction(Sig.SIGUSR2, true, Handler(Sig.SA_RESTORER | Sig.SA_NODEFER | Sig.SA_RESETHAND), out _);
        state.Delivered(Sig.SIGUSR2);
        Assert.That(state.Blocked, Is.EqualTo(0UL));
        Assert.That(state.Actions[Sig.SIGUSR2].Handler, Is.EqualTo(Sig.SIG_DFL));
    }

    [Test]
    public void AlternateStackRules()
    {
        var state = new SignalState();
        Assert.That(state.AltStackFlags(0x7000), Is.EqualTo(Sig.SS_DISABLE));
        Assert.That(state.SetAltStack(0x7000, 0x10000, 0, 1024), Is.EqualTo(-Errno.ENOMEM));
        Assert.That(state.SetAltStack(0x7000, 0x10000, 5, 8192), Is.EqualTo(-Errno.EINVAL));
        Assert.That(state.SetAltStack(0x7000, 0x10000, 0, 8192), Is.EqualTo(0));
        Assert.That(state.AltStackFlags(0x7000), Is.EqualTo(0));
        Assert.That(state.AltStackFlags(0x11000), Is.EqualTo(Sig.SS_ONSTACK));
        Assert.That(state.AltStackFlags(0x12000), Is.EqualTo(Sig.SS_ONSTACK), "the top itself is on it (sp - 1)");
        Assert.That(state.AltStackFlags(0x12001), Is.EqualTo(0));
        Assert.That(state.SetAltStack(0x11000, 0, Sig.SS_DISABLE, 0), Is.EqualTo(-Errno.EPERM), "not while on it");
        Assert.That(state.SetAltStack(0x7000, 0, Sig.SS_DISABLE, 0), Is.EqualTo(0));
        Assert.That(state.AltSize, Is.EqualTo(0UL));
        Assert.That(state.SetAltStack(0x7000, 0x10000, unchecked((int)Sig.SS_AUTODISARM), 8192), Is.EqualTo(0));
        Assert.That(state.OnAltStack(0x11000), Is.False, "SS_AUTODISARM: never reported on it");
    }

    [Test]
    public void ExecResetsHandlersKeepsIgnoredMaskAndPending()
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGUSR1, true, Handler(), out _);
        state.SetAction(Sig.SIGUSR2, true, new SignalAction { Handler = Sig.SIG_IGN, Flags = Sig.SA_RESTART }, out _);
        state.ChangeMask(Sig.SIG_BLOCK, true, Sig.Bit(Sig.SIGINT), out _);
        state.Post(SigInfo.FromProcess(Sig.SIGINT, 0, 1, 0));
        state.SetAltStack(0x7000, 0x10000, 0, 8192);
        state.Exec();
        Assert.That(state.Actions[Sig.SIGUSR1].Handler, Is.EqualTo(Sig.SIG_DFL));
        Assert.That(state.Actions[Sig.SIGUSR2].Handler, Is.EqualTo(Sig.SIG_IGN));
        Assert.That(state.Blocked, Is.EqualTo(Sig.Bit(Sig.SIGINT)));
        Assert.That(state.Pending, Is.EqualTo(Sig.Bit(Sig.SIGINT)));
        Assert.That(state.AltSize, Is.EqualTo(0UL));
        state.Fork();
        Assert.That(state.Pending, Is.EqualTo(0UL));
    }

    [Test]
    public void DefaultActionsAndWaitStatuses()
    {
        Assert.That(Sig.Default(Sig.SIGSEGV), Is.EqualTo(DefaultAction.CoreDump));
        Assert.That(Sig.Default(Sig.SIGABRT), Is.EqualTo(DefaultAction.CoreDump));
        Assert.That(Sig.Default(Sig.SIGTERM), Is.EqualTo(DefaultAction.Terminate));
        Assert.That(Sig.Default(Sig.SIGKILL), Is.EqualTo(DefaultAction.Terminate));
        Assert.That(Sig.Default(40), Is.EqualTo(DefaultAction.Terminate));
        Assert.That(Sig.Default(Sig.SIGCHLD), Is.EqualTo(DefaultAction.Ignore));
        Assert.That(Sig.Default(Sig.SIGURG), Is.EqualTo(DefaultAction.Ignore));
        Assert.That(Sig.Default(Sig.SIGTTOU), Is.EqualTo(DefaultAction.Stop));
        Assert.That(Sig.Default(Sig.SIGCONT), Is.EqualTo(DefaultAction.Continue));
        Assert.That(Sig.KilledWaitStatus(Sig.SIGSEGV), Is.EqualTo(0x8B), "WTERMSIG 11 with WCOREDUMP");
        Assert.That(Sig.KilledWaitStatus(Sig.SIGTERM), Is.EqualTo(15));
        Assert.That(Sig.StoppedWaitStatus(Sig.SIGTSTP), Is.EqualTo(0x147F));
    }
}

/// <summary>SignalDelivery: frames built on a stack in this process's memory, restart rules,
/// nesting order, sigsuspend's mask, sigreturn, and the failures that force SIGSEGV.</summary>
public unsafe class LinuxSignalDeliveryTests
{
    private const ulong Number = 0; // read(2)'s number, for restarts
    private byte[] _stack = null!;
    private GCHandle _pin;
    private ulong _low, _high;
    private readonly List<string> _events = new();

    [SetUp]
    public void Pin()
    {
        _stack = new byte[65536];
        _pin = GCHandle.Alloc(_stack, GCHandleType.Pinned);
        _low = (ulong)_pin.AddrOfPinnedObject();
        _high = _low + (ulong)_stack.Length;
        _events.Clear();
    }

    [TearDown]
    public void Unpin() => _pin.Free();

    private SignalDelivery Delivery(SignalState state) => new SignalDelivery(state)
    {
        Writable = (address, length) => address >= _low && address + length <= _high,
        Terminate = (signal, info) => _events.Add("terminate " + signal),
        Stop = signal => _events.Add("stop " + signal),
        FrameFailed = (signal, why, address) => _events.Add("frame failed " + signal + ": " + why),
    };

    private static SignalAction Handler(ulong address, ulong flags = Sig.SA_RESTORER | Sig.SA_SIGINFO, ulong mask = 0)
        => new SignalAction { Handler = address, Flags = flags | Sig.SA_RESTORER, Restorer = 0x401F00, Mask = mask };

    private UserRegisters Interrupted(ulong rip = 0x401002)
        => new UserRegisters { Rip = rip, Rsp = _high - 4096, Rflags = 0x246, Rax = 99, Rdi = 3 };

    private static byte[] Fx() { var fx = new byte[512]; fx[24] = 0x80; fx[25] = 0x1F; fx[28] = 0xFF; fx[29] = 0xFF; fx[160] = 0x5A; return fx; }

    [Test]
    public void CaughtSignalEntersTheHandlerWithAFrameBelowTheRedZone()
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGUSR1, true, Handler(0x401500), out _);
        state.Post(SigInfo.FromProcess(Sig.SIGUSR1, Sig.SI_USER, 7, 0));
        var delivery = Delivery(state);
        UserRegisters regs = Interrupted();
        byte[] fx = Fx();
        fixed (byte* f = fx)
        {
            long rax = delivery.DeliverPending(ref regs, f, 0, false, 0);
            Assert.That(rax, Is.EqualTo(0));
            Assert.That(f[160], Is.EqualTo(0), "the handler starts with the initial FP state");
        }
        Assert.That(regs.Rip, Is.EqualTo(0x401500UL));
        Assert.That(regs.Rsp, Is.LessThanOrEqualTo(_high - 4096 - 128 - 512 - 440));
        Assert.That((regs.Rsp + 8) % 16, Is.EqualTo(0UL));
        ulong* g = (ulong*)(regs.Rdx + SignalFrame.UcMcontext);
        Assert.That(g[SignalFrame.REG_RIP], Is.EqualTo(0x401002UL));
        Assert.That(g[SignalFrame.REG_RAX], Is.EqualTo(0UL), "the interrupted RAX is current (the call's result)");
        Assert.That(*(ulong*)regs.Rsp, Is.EqualTo(0x401F00UL), "return address = sa_restorer");
        Assert.That(*(byte*)(g[23 + 0] + 160), Is.EqualTo(0x5A), "the program's FP image is in the frame");
        Assert.That(*(int*)(regs.Rsi + 16), Is.EqualTo(7), "si_pid");
        Assert.That(state.Blocked, Is.EqualTo(Sig.Bit(Sig.SIGUSR1)));
        Assert.That(_events, Is.Empty);
    }

    [Test]
    public void SigreturnPutsEverythingBack()
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGUSR1, true, Handler(0x401500), out _);
        state.SetBlocked(Sig.Bit(Sig.SIGHUP));
        state.Post(SigInfo.FromProcess(Sig.SIGUSR1, Sig.SI_USER, 7, 0));
        var delivery = Delivery(state);
        UserRegisters regs = Interrupted();
        UserRegisters before = regs;
        byte[] fx = Fx();
        fixed (byte* f = fx)
        {
            long rax = delivery.DeliverPending(ref regs, f, 42, false, 0);
            regs.Rax = (ulong)rax;
            // The handler runs, clobbers registers, returns to the restorer: RSP = frame + 8.
            regs.Rsp += 8;
            regs.Rbx = 0xBAD;
            f[160] = 0;
            Assert.That(delivery.Sigreturn(ref regs, f, _ => true), Is.True);
            Assert.That(f[160], Is.EqualTo(0x5A), "the FP image comes back");
        }
        Assert.That(regs.Rip, Is.EqualTo(before.Rip));
        Assert.That(regs.Rsp, Is.EqualTo(before.Rsp));
        Assert.That(regs.Rbx, Is.EqualTo(before.Rbx));
        Assert.That(regs.Rdi, Is.EqualTo(before.Rdi));
        Assert.That(regs.Rax, Is.EqualTo(42UL));
        Assert.That(state.Blocked, Is.EqualTo(Sig.Bit(Sig.SIGHUP)), "the mask before the handler");
    }

    [Test]
    public void TwoSignalsAreFramedOneOnTopOfTheOtherHigherRunsFirst()
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGUSR1, true, Handler(0x401100), out _);
        state.SetAction(Sig.SIGUSR2, true, Handler(0x401200), out _);
        state.Post(SigInfo.FromProcess(Sig.SIGUSR2, 0, 1, 0));
        state.Post(SigInfo.FromProcess(Sig.SIGUSR1, 0, 1, 0));
        var delivery = Delivery(state);
        UserRegisters regs = Interrupted();
        fixed (byte* f = Fx()) delivery.DeliverPending(ref regs, f, 0, false, 0);
        Assert.That(regs.Rip, Is.EqualTo(0x401200UL), "SIGUSR2's handler runs first");
        ulong* g = (ulong*)(regs.Rdx + SignalFrame.UcMcontext);
        Assert.That(g[SignalFrame.REG_RIP], Is.EqualTo(0x401100UL), "and returns into SIGUSR1's handler");
        Assert.That(state.Blocked, Is.EqualTo(Sig.Bit(Sig.SIGUSR1) | Sig.Bit(Sig.SIGUSR2)));
    }

    [TestCase(SignalDelivery.ERESTARTSYS, Sig.SA_RESTART, true)]
    [TestCase(SignalDelivery.ERESTARTSYS, 0UL, false)]
    [TestCase(SignalDelivery.ERESTARTNOINTR, 0UL, true)]
    [TestCase(SignalDelivery.ERESTARTNOHAND, Sig.SA_RESTART, false)]
    [TestCase(SignalDelivery.ERESTART_RESTARTBLOCK, Sig.SA_RESTART, false)]
    public void InterruptedCallRestartsOrAnswersEintrByLinuxRules(int code, ulong flags, bool restarts)
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGALRM, true, Handler(0x401500, flags), out _);
        state.Post(SigInfo.FromKernel(Sig.SIGALRM));
        var delivery = Delivery(state);
        UserRegisters regs = Interrupted();
        fixed (byte* f = Fx()) delivery.DeliverPending(ref regs, f, -code, SignalDelivery.IsRestartRequest(-code), 35);
        ulong* g = (ulong*)(regs.Rdx + SignalFrame.UcMcontext);
        if (restarts)
        {
            Assert.That(g[SignalFrame.REG_RIP], Is.EqualTo(0x401000UL), "back over the syscall instruction");
            Assert.That(g[SignalFrame.REG_RAX], Is.EqualTo(35UL), "RAX = the call's number");
        }
        else
        {
            Assert.That(g[SignalFrame.REG_RIP], Is.EqualTo(0x401002UL));
            Assert.That((long)g[SignalFrame.REG_RAX], Is.EqualTo(-Errno.EINTR));
        }
    }

    [Test]
    public void WithoutAHandlerEveryRestartRequestRestarts()
    {
        var state = new SignalState();
        state.SetBlocked(Sig.Bit(Sig.SIGCHLD));
        state.Post(SigInfo.FromKernel(Sig.SIGCHLD));
        state.SetBlocked(0); // deliverable, default action: ignore
        var delivery = Delivery(state);
        UserRegisters regs = Interrupted();
        long rax;
        fixed (byte* f = Fx()) rax = delivery.DeliverPending(ref regs, f, -SignalDelivery.ERESTARTNOHAND, true, 34);
        Assert.That(rax, Is.EqualTo(34));
        Assert.That(regs.Rip, Is.EqualTo(0x401000UL));
        Assert.That(state.Pending, Is.EqualTo(0UL));
    }

    [Test]
    public void SigsuspendMaskGoesIntoTheFrameOrBackWhenNothingIsCaught()
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGUSR1, true, Handler(0x401500), out _);
        var delivery = Delivery(state);
        delivery.SavedMask = Sig.Bit(Sig.SIGUSR1) | Sig.Bit(Sig.SIGHUP);
        delivery.HasSavedMask = true;
        state.SetBlocked(Sig.Bit(Sig.SIGINT)); // sigsuspend's temporary mask
        state.Post(SigInfo.FromProcess(Sig.SIGUSR1, 0, 1, 0));
        UserRegisters regs = Interrupted();
        fixed (byte* f = Fx()) delivery.DeliverPending(ref regs, f, -SignalDelivery.ERESTARTNOHAND, true, 130);
        Assert.That(*(ulong*)(regs.Rdx + SignalFrame.UcSigmask), Is.EqualTo(Sig.Bit(Sig.SIGUSR1) | Sig.Bit(Sig.SIGHUP)));
        Assert.That(state.Blocked, Is.EqualTo(Sig.Bit(Sig.SIGINT) | Sig.Bit(Sig.SIGUSR1)), "during the handler: the temporary mask + the signal");
        Assert.That(delivery.HasSavedMask, Is.False);

        delivery.SavedMask = Sig.Bit(Sig.SIGHUP);
        delivery.HasSavedMask = true;
        state.SetBlocked(0);
        regs = Interrupted();
        fixed (byte* f = Fx()) delivery.DeliverPending(ref regs, f, 0, false, 0);
        Assert.That(state.Blocked, Is.EqualTo(Sig.Bit(Sig.SIGHUP)), "nothing caught: the saved mask is restored");
    }

    [Test]
    public void DefaultActionsTerminateAndStop()
    {
        var state = new SignalState();
        state.Post(SigInfo.FromProcess(Sig.SIGTERM, 0, 1, 0));
        state.Post(SigInfo.FromProcess(Sig.SIGTSTP, 0, 1, 0));
        var delivery = Delivery(state);
        UserRegisters regs = Interrupted();
        fixed (byte* f = Fx()) delivery.DeliverPending(ref regs, f, 0, false, 0);
        Assert.That(_events, Is.EqualTo(new[] { "terminate 15", "stop 20" }));
        Assert.That(regs.Rip, Is.EqualTo(0x401002UL));
    }

    [Test]
    public void AlternateStackAndAutodisarm()
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGSEGV, true, Handler(0x401500, Sig.SA_ONSTACK), out _);
        ulong altBase = _low + 8192;
        state.SetAltStack(_high - 4096, altBase, unchecked((int)Sig.SS_AUTODISARM), 16384);
        state.Post(new SigInfo { Signo = Sig.SIGSEGV, Code = Sig.SEGV_MAPERR, Address = 0x10 });
        var delivery = Delivery(state);
        UserRegisters regs = Interrupted();
        fixed (byte* f = Fx()) delivery.DeliverPending(ref regs, f, 0, false, 0);
        Assert.That(regs.Rsp, Is.GreaterThan(altBase).And.LessThan(altBase + 16384));
        Assert.That(*(ulong*)(regs.Rdx + SignalFrame.UcStack), Is.EqualTo(altBase), "uc_stack: the stack as set");
        Assert.That(state.AltSize, Is.EqualTo(0UL), "SS_AUTODISARM: disarmed while the handler runs");
        // sigreturn re-arms it from uc_stack.
        regs.Rsp += 8;
        fixed (byte* f = Fx()) Assert.That(delivery.Sigreturn(ref regs, f, _ => true), Is.True);
        Assert.That(state.AltSize, Is.EqualTo(16384UL));
    }

    // ---- the fast path (SignalDelivery.TryDeliverFast, SignalState.PostFromProcess, Sig.Lowest) ----

    /// <summary>A state with SIGUSR1 caught (sa_mask SIGUSR2), SIGHUP blocked, and SIGUSR1 posted by pid 7.</summary>
    private static SignalState OneCaught(ulong flags = Sig.SA_SIGINFO)
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGUSR1, true, Handler(0x401500, flags, Sig.Bit(Sig.SIGUSR2)), out _);
        state.SetBlocked(Sig.Bit(Sig.SIGHUP));
        state.PostFromProcess(Sig.SIGUSR1, Sig.SI_USER, 7);
        return state;
    }

    [Test]
    public void FastDeliveryWritesWhatTheGeneralPathWrites()
    {
        foreach (ulong flags in new[] { Sig.SA_SIGINFO, Sig.SA_NODEFER, Sig.SA_RESTART | Sig.SA_ONSTACK })
        {
            SignalState general = OneCaught(flags), fast = OneCaught(flags);
            UserRegisters regsGeneral = Interrupted(), regsFast = Interrupted();
            byte[] fxGeneral = Fx(), fxFast = Fx();
            Array.Clear(_stack);
            fixed (byte* f = fxGeneral) Assert.That(Delivery(general).DeliverPending(ref regsGeneral, f, 42, false, 0), Is.EqualTo(0));
            byte[] stackGeneral = (byte[])_stack.Clone();
            Array.Clear(_stack);
            fixed (byte* f = fxFast) Assert.That(Delivery(fast).TryDeliverFast(ref regsFast, f, 42), Is.True, "flags 0x" + flags.ToString("x"));
            Assert.That(_stack, Is.EqualTo(stackGeneral), "the same frame, byte for byte");
            Assert.That(regsFast, Is.EqualTo(regsGeneral), "the same registers (the handler's entry)");
            Assert.That(fxFast, Is.EqualTo(fxGeneral), "the same FP state for the handler");
            Assert.That(fast.Blocked, Is.EqualTo(general.Blocked));
            Assert.That(fast.Pending, Is.EqualTo(general.Pending));
            Assert.That(_events, Is.Empty);
        }
    }

    private delegate bool OnePass(SignalState state, ref UserRegisters regs, byte* fx);

    /// <summary>A one-pass delivery (TryDeliverFast, TryDeliverNow) declines: false, and the
    /// registers, FP state, stack (rsp: another stack pointer, 0 for the usual) and masks unchanged.</summary>
    private void AssertDeclines(string what, SignalState state, ulong rsp, OnePass call)
    {
        ulong pending = state.Pending, blocked = state.Blocked;
        UserRegisters regs = Interrupted();
        if (rsp != 0) regs.Rsp = rsp;
        UserRegisters before = regs;
        byte[] fx = Fx();
        Array.Clear(_stack);
        fixed (byte* f = fx) Assert.That(call(state, ref regs, f), Is.False, what);
        Assert.That(regs, Is.EqualTo(before), what + ": registers unchanged");
        Assert.That(fx, Is.EqualTo(Fx()), what + ": FP state unchanged");
        Assert.That(_stack.All(b => b == 0), Is.True, what + ": nothing written");
        Assert.That((state.Pending, state.Blocked), Is.EqualTo((pending, blocked)), what + ": state unchanged");
    }

    [Test]
    public void FastDeliveryDeclinesWhatItDoesNotCoverAndChangesNothing()
    {
        var cases = new List<(string, Func<SignalState>, Func<SignalDelivery, SignalDelivery>, long, ulong)>
        {
            ("two deliverable", () => { var s = OneCaught(); s.SetAction(Sig.SIGUSR2, true, Handler(0x401600), out _); s.PostFromProcess(Sig.SIGUSR2, 0, 7); return s; }, d => d, 0, 0),
            ("a real-time signal", () => { var s = new SignalState(); s.SetAction(40, true, Handler(0x401500), out _); s.Post(SigInfo.FromProcess(40, Sig.SI_QUEUE, 7, 0)); return s; }, d => d, 0, 0),
            ("default action", () => { var s = new SignalState(); s.PostFromProcess(Sig.SIGTERM, 0, 7); return s; }, d => d, 0, 0),
            ("SA_RESETHAND", () => OneCaught(Sig.SA_RESETHAND), d => d, 0, 0),
            ("no SA_RESTORER", () => { var s = new SignalState(); s.SetAction(Sig.SIGUSR1, true, new SignalAction { Handler = 0x401500 }, out _); s.PostFromProcess(Sig.SIGUSR1, 0, 7); return s; }, d => d, 0, 0),
            ("an alternate stack set", () => { var s = OneCaught(); s.SetAltStack(0, _low + 8192, 0, 16384); return s; }, d => d, 0, 0),
            ("sigsuspend's mask to put back", () => OneCaught(), d => { d.SavedMask = 0; d.HasSavedMask = true; return d; }, 0, 0),
            ("a restart request", () => OneCaught(), d => d, -SignalDelivery.ERESTARTSYS, 0),
            ("an unwritable stack", () => OneCaught(), d => d, 0, _low + 256),
        };
        foreach ((string what, Func<SignalState> make, Func<SignalDelivery, SignalDelivery> adjust, long current, ulong rsp) in cases)
        {
            AssertDeclines(what, make(), rsp, (SignalState state, ref UserRegisters regs, byte* f) => adjust(Delivery(state)).TryDeliverFast(ref regs, f, current));
        }
        Assert.That(_events, Is.Empty, "declining reports nothing (the general path does)");
    }

    /// <summary>A state with SIGUSR1 caught (sa_mask SIGUSR2) and SIGHUP blocked; SIGUSR1 posted by pid 7 when post.</summary>
    private static SignalState Caught(ulong flags, bool post, int code = Sig.SI_USER, int signal = Sig.SIGUSR1)
    {
        var state = new SignalState();
        state.SetAction(signal, true, Handler(0x401500, flags, Sig.Bit(Sig.SIGUSR2)), out _);
        state.SetBlocked(Sig.Bit(Sig.SIGHUP));
        if (post) state.PostFromProcess(signal, code, 7);
        return state;
    }

    /// <summary>kill/tkill to itself entered at once (TryDeliverNow) leaves exactly what posting it
    /// and delivering it at the call's return leaves: the frame byte for byte (over a stack full of
    /// 0xCC, so bytes not written stay alike too), registers, FP state, masks, nothing pending.</summary>
    [Test]
    public void DirectDeliveryOfAKillToItselfIsPostingAndDeliveringIt()
    {
        foreach (ulong flags in new[] { Sig.SA_SIGINFO, 0UL, Sig.SA_NODEFER, Sig.SA_RESTART | Sig.SA_ONSTACK | Sig.SA_SIGINFO })
            foreach (int code in new[] { Sig.SI_USER, Sig.SI_TKILL })
                foreach (int signal in new[] { Sig.SIGUSR1, Sig.SIGALRM, Sig.SIGCHLD })
                {
                    string what = $"signal {signal} flags 0x{flags:x} code {code}";
                    SignalState general = Caught(flags, true, code, signal), direct = Caught(flags, false, code, signal);
                    int changes = 0;
                    direct.Changed = () => changes++;
                    UserRegisters regsGeneral = Interrupted(), regsDirect = Interrupted();
                    byte[] fxGeneral = Fx(), fxDirect = Fx();
                    Array.Fill(_stack, (byte)0xCC);
                    fixed (byte* f = fxGeneral) Assert.That(Delivery(general).DeliverPending(ref regsGeneral, f, 0, false, 0), Is.EqualTo(0), what);
                    byte[] stackGeneral = (byte[])_stack.Clone();
                    Array.Fill(_stack, (byte)0xCC);
                    fixed (byte* f = fxDirect) Assert.That(Delivery(direct).TryDeliverNow(ref regsDirect, f, signal, code, 7, 0), Is.True, what);
                    Assert.That(_stack, Is.EqualTo(stackGeneral), what + ": the same frame, byte for byte");
                    Assert.That(regsDirect, Is.EqualTo(regsGeneral), what + ": the same registers (the handler's entry)");
                    Assert.That(fxDirect, Is.EqualTo(fxGeneral), what + ": the same FP state for the handler");
                    Assert.That((direct.Blocked, direct.Pending), Is.EqualTo((general.Blocked, general.Pending)), what);
                    Assert.That(direct.Deliverable, Is.EqualTo(0UL), what);
                    Assert.That(changes, Is.EqualTo(0), what + ": only more blocked, no Changed");
                    Assert.That(_events, Is.Empty, what);
                }
    }

    /// <summary>Linux's setup_rt_frame writes siginfo only for an SA_SIGINFO handler; the frame's
    /// other bytes are written either way.</summary>
    [Test]
    public void SiginfoIsWrittenOnlyForAnSaSiginfoHandler()
    {
        foreach (bool withSiginfo in new[] { true, false })
        {
            SignalState state = Caught(withSiginfo ? Sig.SA_SIGINFO : 0, true);
            UserRegisters regs = Interrupted();
            Array.Fill(_stack, (byte)0xCC);
            fixed (byte* f = Fx()) Delivery(state).DeliverPending(ref regs, f, 0, false, 0);
            int siginfo = (int)(regs.Rsi - _low);
            byte[] info = _stack.AsSpan(siginfo, 128).ToArray();
            if (withSiginfo)
                Assert.That(BitConverter.ToInt32(info, 0), Is.EqualTo(Sig.SIGUSR1), "si_signo");
            else
                Assert.That(info.All(b => b == 0xCC), Is.True, "siginfo left as it was");
            Assert.That(BitConverter.ToUInt64(_stack, (int)(regs.Rdx - _low) + SignalFrame.UcMcontext + 8 * SignalFrame.REG_RIP), Is.EqualTo(0x401002UL), "uc_mcontext's RIP either way");
        }
    }

    [Test]
    public void DirectDeliveryDeclinesWhatItDoesNotCoverAndChangesNothing()
    {
        var cases = new List<(string, Func<SignalState>, Func<SignalDelivery, SignalDelivery>, int, long, ulong)>
        {
            ("something else deliverable", () => { var s = Caught(Sig.SA_SIGINFO, false); s.PostFromProcess(Sig.SIGTERM, 0, 3); return s; }, d => d, Sig.SIGUSR1, 0, 0),
            ("the signal blocked", () => { var s = Caught(Sig.SA_SIGINFO, false); s.SetBlocked(Sig.Bit(Sig.SIGUSR1)); return s; }, d => d, Sig.SIGUSR1, 0, 0),
            ("SIGCONT", () => Caught(Sig.SA_SIGINFO, false, signal: Sig.SIGCONT), d => d, Sig.SIGCONT, 0, 0),
            ("a stop signal", () => Caught(Sig.SA_SIGINFO, false, signal: Sig.SIGTSTP), d => d, Sig.SIGTSTP, 0, 0),
            ("a real-time signal", () => Caught(Sig.SA_SIGINFO, false, signal: 40), d => d, 40, 0, 0),
            ("default action", () => new SignalState(), d => d, Sig.SIGUSR1, 0, 0),
            ("ignored", () => { var s = new SignalState(); s.SetAction(Sig.SIGUSR1, true, new SignalAction { Handler = Sig.SIG_IGN }, out _); return s; }, d => d, Sig.SIGUSR1, 0, 0),
            ("SA_RESETHAND", () => Caught(Sig.SA_RESETHAND, false), d => d, Sig.SIGUSR1, 0, 0),
            ("no SA_RESTORER", () => { var s = new SignalState(); s.SetAction(Sig.SIGUSR1, true, new SignalAction { Handler = 0x401500 }, out _); return s; }, d => d, Sig.SIGUSR1, 0, 0),
            ("an alternate stack set", () => { var s = Caught(Sig.SA_SIGINFO, false); s.SetAltStack(0, _low + 8192, 0, 16384); return s; }, d => d, Sig.SIGUSR1, 0, 0),
            ("sigsuspend's mask to put back", () => Caught(Sig.SA_SIGINFO, false), d => { d.SavedMask = 0; d.HasSavedMask = true; return d; }, Sig.SIGUSR1, 0, 0),
            ("a restart request", () => Caught(Sig.SA_SIGINFO, false), d => d, Sig.SIGUSR1, -SignalDelivery.ERESTARTSYS, 0),
            ("an unwritable stack", () => Caught(Sig.SA_SIGINFO, false), d => d, Sig.SIGUSR1, 0, _low + 256),
        };
        foreach ((string what, Func<SignalState> make, Func<SignalDelivery, SignalDelivery> adjust, int signal, long current, ulong rsp) in cases)
        {
            AssertDeclines(what, make(), rsp, (SignalState state, ref UserRegisters regs, byte* f) => adjust(Delivery(state)).TryDeliverNow(ref regs, f, signal, Sig.SI_USER, 7, current));
        }
        Assert.That(_events, Is.Empty);
    }

    [Test]
    public void PostFromProcessIsPostOfAKillSiginfo()
    {
        int[] signals = { Sig.SIGUSR1, Sig.SIGCHLD, Sig.SIGTERM, Sig.SIGCONT, Sig.SIGSTOP, Sig.SIGTSTP, Sig.SIGURG, 40, Sig.SIGKILL };
        foreach (int signal in signals)
            foreach (bool blocked in new[] { false, true })
                foreach (bool twice in new[] { false, true })
                    foreach (bool caught in new[] { false, true })
                    {
                        SignalState Make()
                        {
                            var s = new SignalState();
                            if (caught) s.SetAction(signal, true, Handler(0x401500), out _);
                            if (blocked) s.SetBlocked(Sig.Bit(signal));
                            s.Post(SigInfo.FromProcess(Sig.SIGTSTP, 0, 3, 0)); // something else pending (SIGCONT discards it)
                            return s;
                        }
                        SignalState viaPost = Make(), inPlace = Make();
                        int changes = 0;
                        inPlace.Changed = () => changes++;
                        var results = new List<bool>();
                        var expected = new List<bool>();
                        for (int i = 0; i < (twice ? 2 : 1); i++)
                        {
                            expected.Add(viaPost.Post(SigInfo.FromProcess(signal, Sig.SI_USER, 9, 0)));
                            results.Add(inPlace.PostFromProcess(signal, Sig.SI_USER, 9));
                        }
                        string what = $"signal {signal} blocked {blocked} twice {twice} caught {caught}";
                        Assert.That(results, Is.EqualTo(expected), what);
                        Assert.That(changes, Is.EqualTo(results.Count), what + ": Changed after each post");
                        Assert.That(inPlace.Pending, Is.EqualTo(viaPost.Pending), what);
                        Assert.That(inPlace.ContinueRequested, Is.EqualTo(viaPost.ContinueRequested), what);
                        for (;;)
                        {
                            int a = viaPost.Take(ulong.MaxValue, out SigInfo ia), b = inPlace.Take(ulong.MaxValue, out SigInfo ib);
                            Assert.That(b, Is.EqualTo(a), what);
                            Assert.That(ib, Is.EqualTo(ia), what + ": the same siginfo");
                            if (a == 0) break;
                        }
                    }
    }

    [Test]
    public void LowestIsTheLowestSignalOfASet()
    {
        for (int signal = 1; signal <= 64; signal++)
        {
            Assert.That(Sig.Lowest(Sig.Bit(signal)), Is.EqualTo(signal));
            Assert.That(Sig.Lowest(Sig.Bit(signal) | (signal < 64 ? Sig.Bit(64) : 0)), Is.EqualTo(signal));
            Assert.That(Sig.Lowest(ulong.MaxValue << (signal - 1)), Is.EqualTo(signal));
        }
        Assert.That(SignalState.Next(Sig.Bit(Sig.SIGUSR1) | Sig.Bit(Sig.SIGSEGV) | Sig.Bit(Sig.SIGHUP)), Is.EqualTo(Sig.SIGSEGV), "synchronous first");
    }

    private static int s_nativeLoads;
    private static void CountingLoad(byte* area, byte* frameFp)
    {
        s_nativeLoads++;
        Buffer.MemoryCopy(frameFp, area, 464, 464);
    }

    /// <summary>RestoreFp takes the native FXRSTOR route only where FXRSTOR cannot fault (a 16-aligned
    /// image, an MXCSR without bits the CPU lacks); otherwise it copies and clears such bits.</summary>
    [Test]
    public void RestoreFpUsesTheNativeMoveOnlyWhereFxrstorCannotFault()
    {
        byte[] image = new byte[512 + 32];
        fixed (byte* pinned = image)
        {
            byte* aligned = (byte*)(((ulong)pinned + 15) & ~15UL);
            SignalFrame.FpFromFrame = &CountingLoad;
            try
            {
                byte[] fx = Fx();
                *(uint*)(aligned + 24) = 0x1F80 | 0x4000;
                aligned[160] = 0x77;
                s_nativeLoads = 0;
                fixed (byte* f = fx) SignalFrame.RestoreFp(f, aligned);
                Assert.That(s_nativeLoads, Is.EqualTo(1), "aligned and valid: FXRSTOR");
                Assert.That(fx[160], Is.EqualTo(0x77));

                Buffer.MemoryCopy(aligned, aligned + 8, 464, 464);
                fx = Fx();
                fixed (byte* f = fx) SignalFrame.RestoreFp(f, aligned + 8);
                Assert.That(s_nativeLoads, Is.EqualTo(1), "misaligned: copied");
                Assert.That(fx[160], Is.EqualTo(0x77));

                *(uint*)(aligned + 24) = 0x1F80 | 0x10000; // a reserved bit (mask 0xFFFF)
                fx = Fx();
                fixed (byte* f = fx) SignalFrame.RestoreFp(f, aligned);
                Assert.That(s_nativeLoads, Is.EqualTo(1), "a reserved MXCSR bit: copied");
                fixed (byte* f = fx) Assert.That(*(uint*)(f + 24), Is.EqualTo(0x1F80u), "and cleared");
            }
            finally
            {
                SignalFrame.FpFromFrame = null;
            }
        }
    }

    [Test]
    public void UnwritableStackTooSmallAltStackAndNoRestorerForceSigsegv()
    {
        var state = new SignalState();
        state.SetAction(Sig.SIGUSR1, true, Handler(0x401500), out _);
        var delivery = Delivery(state);
        state.Post(SigInfo.FromProcess(Sig.SIGUSR1, 0, 1, 0));
        UserRegisters regs = Interrupted();
        regs.Rsp = _low + 256; // the frame would go below the writable memory
        fixed (byte* f = Fx()) delivery.DeliverPending(ref regs, f, 5, false, 0);
        Assert.That(_events, Is.EqualTo(new[] { "frame failed 10: the stack is not writable" }));
        Assert.That(regs.Rip, Is.EqualTo(0x401002UL), "nothing changed");

        _events.Clear();
        state.SetBlocked(0);
        state.SetAction(Sig.SIGUSR2, true, Handler(0x401500, Sig.SA_ONSTACK), out _);
        state.SetAltStack(_high - 4096, _low + 1024, 0, 2048);
        state.Post(SigInfo.FromProcess(Sig.SIGUSR2, 0, 1, 0));
        regs = Interrupted();
        regs.Rsp = _low + 1024 + 700; // already on the alternate stack, near its bottom: a nested frame overflows it
        fixed (byte* f = Fx()) delivery.DeliverPending(ref regs, f, 0, false, 0);
        Assert.That(_events, Is.EqualTo(new[] { "frame failed 12: the alternate stack is too small" }));

        _events.Clear();
        state.SetBlocked(0);
        state.SetAction(Sig.SIGHUP, true, new SignalAction { Handler = 0x401500 }, out _);
        state.Post(SigInfo.FromProcess(Sig.SIGHUP, 0, 1, 0));
        regs = Interrupted();
        fixed (byte* f = Fx()) delivery.DeliverPending(ref regs, f, 0, false, 0);
        Assert.That(_events, Has.Count.EqualTo(1).And.Some.StartsWith("frame failed 1: the handler has no SA_RESTORER"));
    }
}
