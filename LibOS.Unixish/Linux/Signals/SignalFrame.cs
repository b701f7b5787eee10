// The Linux x86-64 signal frame (arch/x86/kernel/signal.c, struct rt_sigframe), byte for byte,
// as pure logic over addresses (the libOS's pointers are the program's addresses; the host tests
// build frames in their own memory):
//
//   frame + 0    pretcode      sa_restorer: the handler's return address (glibc/musl: mov $15,%eax; syscall)
//   frame + 8    ucontext      uc_flags 0, uc_link 8, uc_stack 16 (ss_sp, ss_flags, ss_size), uc_mcontext 40
//                              (struct sigcontext: gregs R8..R15, RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP, RIP,
//                              EFL, CSGSFS, ERR, TRAPNO, OLDMASK, CR2, fpstate pointer, 8 reserved words),
//                              uc_sigmask 296 (8 bytes)
//   frame + 312  siginfo_t     128 bytes
//   ...          fpstate       512-byte FXSAVE image, 64-aligned, above the frame (software bytes
//                              464..511 zero: no FP_XSTATE_MAGIC1, so nobody looks for XSAVE state)
//
// Placement (get_sigframe): from the program's RSP less the 128-byte red zone (or the top of the
// alternate stack), the FP area is taken and aligned down to 64, then the frame below it, with
// frame = round_down(.., 16) - 8: at the handler's first instruction RSP + 8 is 16-aligned, as
// after a call.
//
// Invariant: nothing here checks program memory: the caller (Signals) checks [frame, end) is
// writable (and the ucontext readable at sigreturn) before calling.
using System.Runtime.CompilerServices;
using System;
using Aegis.Abi;

namespace Aegis.LibOS.Unixish.Linux
{
    public static unsafe class SignalFrame
    {
        public const int UcontextOffset = 8;
        public const int SiginfoOffset = 312;
        /// <summary>sizeof(struct rt_sigframe).</summary>
        public const int Size = 440;
        public const int FpStateSize = 512;
        public const int RedZone = 128;

        /// <summary>512 zero bytes: the source of the block clears (Buffer.MemoryCopy is rep movsq).</summary>
        private static readonly byte[] s_zero = new byte[FpStateSize];

        /// <summary>Runs the static initializer now (at start-up, not inside a delivery).</summary>
        public static bool Ready => s_zero != null;

        private static void Zero(byte* to, int length)
        {
            fixed (byte* zero = s_zero) Buffer.MemoryCopy(zero, to, length, length);
        }

        // struct ucontext (the kernel's; glibc's ucontext_t has the same prefix)
        public const int UcFlags = 0, UcLink = 8, UcStack = 16, UcMcontext = 40, UcSigmask = 296, UcontextSize = 304;
        // stack_t
        public const int StackSp = 0, StackFlags = 8, StackSize = 16;
        // gregs indices (glibc's REG_*), 8 bytes each from uc_mcontext
        public const int REG_R8 = 0, REG_R9 = 1, REG_R10 = 2, REG_R11 = 3, REG_R12 = 4, REG_R13 = 5, REG_R14 = 6,
            REG_R15 = 7, REG_RDI = 8, REG_RSI = 9, REG_RBP = 10, REG_RBX = 11, REG_RDX = 12, REG_RAX = 13, REG_RCX = 14,
            REG_RSP = 15, REG_RIP = 16, REG_EFL = 17, REG_CSGSFS = 18, REG_ERR = 19, REG_TRAPNO = 20, REG_OLDMASK = 21,
            REG_CR2 = 22, GregCount = 23;
        /// <summary>uc_mcontext.fpregs (struct sigcontext's fpstate), from uc_mcontext.</summary>
        public const int McontextFpState = 184;

        /// <summary>UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS: what a 64-bit Linux without XSAVE frames sets.</summary>
        public const ulong UcFlagsValue = 0x2 | 0x4;
        /// <summary>cs = __USER_CS 0x33, gs = fs = 0, ss = __USER_DS 0x2b (four 16-bit fields).</summary>
        public const ulong CsGsFsValue = 0x33UL | (0x2BUL << 48);
        /// <summary>The flags sigreturn takes from the frame (Linux's FIX_EFLAGS without RF):
        /// AC, OF, DF, TF, SF, ZF, AF, PF, CF; the rest stays as it was.</summary>
        public const ulong RestorableFlags = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1;
        /// <summary>What a handler starts without: DF, TF, RF (setup_rt_frame).</summary>
        public const ulong ClearedAtEntry = 0x400 | 0x100 | 0x10000;

        /// <summary>Where the frame and its FP area go for a stack top (RSP - red zone, or the
        /// alternate stack's top): the frame's address (RSP at the handler); fpState gets the FP area's.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Place(ulong top, out ulong fpState)
        {
            fpState = (top - FpStateSize) & ~63UL;
            return ((fpState - Size) & ~15UL) - 8;
        }

        /// <summary>Writes siginfo_t (128 bytes) by Linux's siginfo_layout.</summary>
        public static void WriteSiginfo(byte* to, in SigInfo info)
        {
            ulong* z = (ulong*)to;
            z[0] = 0; z[1] = 0; z[2] = 0; z[3] = 0; z[4] = 0; z[5] = 0; z[6] = 0; z[7] = 0;
            z[8] = 0; z[9] = 0; z[10] = 0; z[11] = 0; z[12] = 0; z[13] = 0; z[14] = 0; z[15] = 0;
            *(int*)to = info.Signo;
            *(int*)(to + 4) = info.Errno;
            *(int*)(to + 8) = info.Code;
            int signal = info.Signo, code = info.Code;
            if (code > Sig.SI_USER && code < Sig.SI_KERNEL)
            {
                switch (signal)
                {
                    case Sig.SIGILL: case Sig.SIGFPE: case Sig.SIGSEGV: case Sig.SIGBUS: case Sig.SIGTRAP:
                        *(ulong*)(to + 16) = info.Address;             // si_addr
                        return;
                    case Sig.SIGCHLD:
                        *(int*)(to + 16) = info.Pid;                   // si_pid
                        *(uint*)(to + 20) = info.Uid;                  // si_uid
                        *(int*)(to + 24) = info.Status;                // si_status
                        *(long*)(to + 32) = info.UserTime;             // si_utime
                        *(long*)(to + 40) = info.SystemTime;           // si_stime
                        return;
                    case Sig.SIGIO:
                        *(long*)(to + 16) = (long)info.Value;          // si_band
                        *(int*)(to + 24) = info.Status;                // si_fd
                        return;
                    case Sig.SIGSYS:
                        *(ulong*)(to + 16) = info.Address;             // si_call_addr
                        *(int*)(to + 24) = info.Status;                // si_syscall
                        *(uint*)(to + 28) = 0xC000003E;                // si_arch: AUDIT_ARCH_X86_64
                        return;
                }
            }
            if (code == Sig.SI_TIMER)
            {
                *(int*)(to + 16) = info.Pid;                           // si_tid (the timer id)
                *(int*)(to + 20) = info.Status;                        // si_overrun
                *(ulong*)(to + 24) = info.Value;                       // si_value
                return;
            }
            *(int*)(to + 16) = info.Pid;                               // si_pid
            *(uint*)(to + 20) = info.Uid;                              // si_uid
            if (code < 0) *(ulong*)(to + 24) = info.Value;             // si_value (SIL_RT)
        }

        /// <summary>Reads a siginfo_t the program gave (rt_sigqueueinfo): the fields SigInfo keeps.</summary>
        public static SigInfo ReadSiginfo(byte* from)
        {
            var info = default(SigInfo);
            info.Signo = *(int*)from;
            info.Errno = *(int*)(from + 4);
            info.Code = *(int*)(from + 8);
            info.Pid = *(int*)(from + 16);
            info.Uid = *(uint*)(from + 20);
            info.Value = *(ulong*)(from + 24);
            return info;
        }

        /// <summary>Builds the whole frame at frame (from Place) for the interrupted state regs:
        /// the restorer as return address, ucontext (with savedMask as uc_sigmask, the alternate
        /// stack as uc_stack), siginfo, and the FP image copied from fxsave (512 bytes) to fpState.</summary>
        public static void Write(ulong frame, ulong fpState, in UserRegisters regs, ulong restorer, in SigInfo info,
            ulong savedMask, ulong altBase, int altFlags, ulong altSize, byte* fxsave)
        {
            WriteContext(frame, fpState, in regs, restorer, in info, savedMask, altBase, altFlags, altSize);
            byte* fp = (byte*)fpState;
            Buffer.MemoryCopy(fxsave, fp, 464, 464);
        }

        /// <summary>The FP half of entering a handler: the interrupted FP image (fxsave, the
        /// trampoline's FXSAVE area) into the frame's FP area fpState (WriteContext cleared its
        /// bytes 464..511), and the handler's initial state into fxsave. With FpToFrame (the libOS:
        /// linux.S's FXRSTOR/FXSAVE, fpState must be 16-aligned as Place makes it) that is four
        /// instructions; without (the host tests) a copy and WriteInitialFpState, same bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void SwitchFpToHandler(byte* fxsave, ulong fpState)
        {
            if (FpToFrame != null)
            {
                FpToFrame(fxsave, (byte*)fpState);
                return;
            }
            Buffer.MemoryCopy(fxsave, (byte*)fpState, 464, 464);
            WriteInitialFpState(fxsave);
        }

        /// <summary>Native FP moves (set by the libOS, null in the host tests): FpToFrame(area,
        /// frameFp) does SwitchFpToHandler's work, FpFromFrame(area, frameFp) RestoreFp's.</summary>
        public static delegate*<byte*, byte*, void> FpToFrame;
        public static delegate*<byte*, byte*, void> FpFromFrame;

        /// <summary>Builds the frame at frame (from Place) but for the FP image itself (its
        /// software-reserved bytes 464..511 are cleared: no FP_XSTATE_MAGIC1): see Write. The
        /// siginfo is written only when withSiginfo (the action has SA_SIGINFO), as Linux's
        /// setup_rt_frame does; else those 128 bytes are left as they were.</summary>
        public static void WriteContext(ulong frame, ulong fpState, in UserRegisters regs, ulong restorer, in SigInfo info,
            ulong savedMask, ulong altBase, int altFlags, ulong altSize, bool withSiginfo = true)
        {
            WriteUcontext(frame, fpState, in regs, restorer, savedMask, altBase, altFlags, altSize,
                info.ErrorCode, info.Trap, IsFault(info) ? info.Address : 0);
            if (withSiginfo) WriteSiginfo((byte*)frame + SiginfoOffset, in info);
        }

        /// <summary>The frame but for siginfo and the FP image: the restorer as return address and
        /// the ucontext (err, trap, cr2: sigcontext's ERR, TRAPNO and CR2).</summary>
        public static void WriteUcontext(ulong frame, ulong fpState, in UserRegisters regs, ulong restorer,
            ulong savedMask, ulong altBase, int altFlags, ulong altSize, ulong err, ulong trap, ulong cr2)
        {
            byte* f = (byte*)frame;
            *(ulong*)f = restorer;
            byte* uc = f + UcontextOffset;
            *(ulong*)(uc + UcFlags) = UcFlagsValue;
            *(ulong*)(uc + UcLink) = 0;
            *(ulong*)(uc + UcStack + StackSp) = altBase;
            *(ulong*)(uc + UcStack + StackFlags) = (uint)altFlags; // int ss_flags + 4 bytes of padding
            *(ulong*)(uc + UcStack + StackSize) = altSize;
            ulong* g = (ulong*)(uc + UcMcontext);
            g[REG_R8] = regs.R8; g[REG_R9] = regs.R9; g[REG_R10] = regs.R10; g[REG_R11] = regs.R11;
            g[REG_R12] = regs.R12; g[REG_R13] = regs.R13; g[REG_R14] = regs.R14; g[REG_R15] = regs.R15;
            g[REG_RDI] = regs.Rdi; g[REG_RSI] = regs.Rsi; g[REG_RBP] = regs.Rbp; g[REG_RBX] = regs.Rbx;
            g[REG_RDX] = regs.Rdx; g[REG_RAX] = regs.Rax; g[REG_RCX] = regs.Rcx; g[REG_RSP] = regs.Rsp;
            g[REG_RIP] = regs.Rip; g[REG_EFL] = regs.Rflags; g[REG_CSGSFS] = CsGsFsValue;
            g[REG_ERR] = err; g[REG_TRAPNO] = trap; g[REG_OLDMASK] = savedMask;
            g[REG_CR2] = cr2;
            *(ulong*)(uc + UcMcontext + McontextFpState) = fpState;
            ulong* reserved = (ulong*)(uc + UcMcontext + McontextFpState + 8);
            reserved[0] = 0; reserved[1] = 0; reserved[2] = 0; reserved[3] = 0;
            reserved[4] = 0; reserved[5] = 0; reserved[6] = 0; reserved[7] = 0;
            *(ulong*)(uc + UcSigmask) = savedMask;
            ulong* software = (ulong*)(fpState + 464);
            software[0] = 0; software[1] = 0; software[2] = 0; software[3] = 0; software[4] = 0; software[5] = 0;
        }

        /// <summary>WriteSiginfo of SigInfo.FromProcess(signal, code, pid, 0) for a standard signal
        /// (kill, tkill: si_pid, si_uid 0), without building the SigInfo.</summary>
        public static void WriteProcessSiginfo(byte* to, int signal, int code, int pid)
        {
            ulong* z = (ulong*)to;
            z[0] = (uint)signal;                    // si_signo, si_errno 0
            z[1] = (uint)code;                      // si_code, padding
            z[2] = (uint)pid;                       // si_pid, si_uid 0
            z[3] = 0; z[4] = 0; z[5] = 0; z[6] = 0; z[7] = 0;
            z[8] = 0; z[9] = 0; z[10] = 0; z[11] = 0; z[12] = 0; z[13] = 0; z[14] = 0; z[15] = 0;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static bool IsFault(in SigInfo info)
            => info.Code > Sig.SI_USER && info.Code < Sig.SI_KERNEL
               && (info.Signo == Sig.SIGSEGV || info.Signo == Sig.SIGBUS);

        /// <summary>Sets regs to enter the handler: RIP = handler, RSP = frame, RDI = signal,
        /// RSI = &amp;siginfo, RDX = &amp;ucontext, RAX = 0, DF/TF/RF clear.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void EnterHandler(ref UserRegisters regs, ulong frame, ulong handler, int signal)
        {
            regs.Rip = handler;
            regs.Rsp = frame;
            regs.Rdi = (ulong)signal;
            regs.Rsi = frame + SiginfoOffset;
            regs.Rdx = frame + UcontextOffset;
            regs.Rax = 0;
            regs.Rflags &= ~ClearedAtEntry;
        }

        /// <summary>rt_sigreturn: the registers from the ucontext at uc into regs (RFLAGS: only
        /// RestorableFlags from the frame); mask = uc_sigmask, fpState = uc_mcontext.fpregs.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Restore(ulong uc, ref UserRegisters regs, out ulong mask, out ulong fpState)
        {
            ulong* g = (ulong*)(uc + UcMcontext);
            regs.R8 = g[REG_R8]; regs.R9 = g[REG_R9]; regs.R10 = g[REG_R10]; regs.R11 = g[REG_R11];
            regs.R12 = g[REG_R12]; regs.R13 = g[REG_R13]; regs.R14 = g[REG_R14]; regs.R15 = g[REG_R15];
            regs.Rdi = g[REG_RDI]; regs.Rsi = g[REG_RSI]; regs.Rbp = g[REG_RBP]; regs.Rbx = g[REG_RBX];
            regs.Rdx = g[REG_RDX]; regs.Rax = g[REG_RAX]; regs.Rcx = g[REG_RCX]; regs.Rsp = g[REG_RSP];
            regs.Rip = g[REG_RIP];
            regs.Rflags = (regs.Rflags & ~RestorableFlags) | (g[REG_EFL] & RestorableFlags);
            mask = *(ulong*)(uc + UcSigmask);
            fpState = *(ulong*)(uc + UcMcontext + McontextFpState);
        }

        /// <summary>An FXSAVE image of the initial FP state (what a handler starts with, Linux's
        /// fpu__clear_user_states): FCW 0x37F, MXCSR 0x1F80, all registers empty and zero.
        /// mxcsrMask (bytes 28..31) is kept from the CPU's own image.</summary>
        public static void WriteInitialFpState(byte* fxsave)
        {
            uint mxcsrMask = *(uint*)(fxsave + 28);
            Zero(fxsave, FpStateSize);
            *(ushort*)fxsave = 0x37F;
            *(uint*)(fxsave + 24) = 0x1F80;
            *(uint*)(fxsave + 28) = mxcsrMask;
        }

        /// <summary>Copies a program's FP image into the libOS's FXRSTOR area, keeping MXCSR to the
        /// bits the CPU supports (mask from the live image; a reserved bit would make FXRSTOR fault
        /// inside the libOS).</summary>
        public static void LoadFpState(byte* fxsave, byte* from)
        {
            CopyFpState(fxsave, from);
        }

        /// <summary>rt_sigreturn's FP half: as LoadFpState; with FpFromFrame (the libOS) by
        /// FXRSTOR/FXSAVE when the image is 16-aligned and its MXCSR has no bit the CPU lacks (what
        /// FXRSTOR would fault on), else by the copy, which clears such bits.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void RestoreFp(byte* fxsave, byte* from)
        {
            uint mxcsrMask = *(uint*)(fxsave + 28);
            if (mxcsrMask == 0) mxcsrMask = 0xFFBF;
            if (FpFromFrame != null && ((ulong)from & 15) == 0 && (*(uint*)(from + 24) & ~mxcsrMask) == 0)
            {
                FpFromFrame(fxsave, from);
                return;
            }
            CopyFpState(fxsave, from);
        }

        private static void CopyFpState(byte* fxsave, byte* from)
        {
            uint mxcsrMask = *(uint*)(fxsave + 28);
            if (mxcsrMask == 0) mxcsrMask = 0xFFBF;
            Buffer.MemoryCopy(from, fxsave, 464, 464);
            *(uint*)(fxsave + 24) &= mxcsrMask;
            *(uint*)(fxsave + 28) = mxcsrMask;
        }

        /// <summary>The si_code Linux gives a CPU exception's signal (arch/x86/kernel/traps.c);
        /// mxcsr decides a SIMD exception's (#XM) code; address gets si_addr.</summary>
        public static int TrapCode(ulong trap, ulong rip, uint mxcsr, out ulong address)
        {
            address = rip;
            switch (trap)
            {
                case 0: return Sig.FPE_INTDIV;          // #DE
                case 4: address = 0; return Sig.SI_KERNEL; // #OF: force_sig
                case 6: return Sig.ILL_ILLOPN;          // #UD
                case 17: address = 0; return Sig.BUS_ADRALN; // #AC: do_error_trap(.., NULL)
                case 1: return Sig.TRAP_TRACE;          // #DB: the program sets no debug registers, so a single step (TF)
                case 16:
                case 19:
                {
                    // Unmasked exceptions that are flagged: invalid, divide, overflow, underflow, precision.
                    uint flagged = mxcsr & ~(mxcsr >> 7) & 0x3F;
                    if ((flagged & 0x01) != 0) return Sig.FPE_FLTINV;
                    if ((flagged & 0x04) != 0) return Sig.FPE_FLTDIV;
                    if ((flagged & 0x08) != 0) return Sig.FPE_FLTOVF;
                    if ((flagged & 0x10) != 0) return Sig.FPE_FLTUND;
                    if ((flagged & 0x20) != 0) return Sig.FPE_FLTRES;
                    return 0;
                }
                default:
                    address = 0;
                    return Sig.SI_KERNEL;               // #BP (int3), #GP, #SS, ...: force_sig(SIG)
            }
        }
    }
}
