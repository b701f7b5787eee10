// System-call upcalls (docs/abi.md, "System-call upcalls"; docs/kernel.md): an environment that
// called SetSystemCallUpcall(entry) gets every `syscall` whose number is not an Aegis call
// (RAX < SystemCallNumbers.First, or >= End) as an UpcallKind.SystemCall upcall at entry, its
// frame at UpcallStackTop - UpcallFrame.Size, so that its libOS can serve a hosted program's
// system calls (Linux's numbers) and resume it directly. The kernel knows nothing of what the
// numbers mean.
// Where the work is done: numbers below First take usermode.S's aegis_syscall_redirect (the fast
// table's entry for all of them: no instruction is added to Aegis's own calls); numbers from End
// on take the slow path (DeliverSlow). Both read the switch the same way: the environment's
// counter block words [2] (frame address, 0 = off) and [3] (entry), which the per-CPU block
// reaches through its word 2 (set at every switch-in for the counters already).
// Invariants: Counters[2] != 0 exactly when the environment (alive) turned the upcalls on and has an upcall
// stack; it is then that stack's top - 256, the top 16-byte aligned and checked to lie in the user
// half (Upcalls.Validate), and Counters[3] is an entry checked to lie in [LowestMappable,
// ReservedTop) (so usermode.S's sysretq to it returns to a canonical address). Whether the frame's
// page is mapped writable is not checked in advance: the write faults, the #PF path sees the fault's
// RIP inside the redirect's writes (IsRedirectWrite) and resumes at aegis_syscall_redirect_fault,
// which ends the environment here (OnRedirectFault, DestroyReason.BadUpcall): never a panic.
// A new environment (EnvironmentCreate, ImageSpawn) starts with the upcalls off (Environment.Reset
// clears the words): a forked child's libOS turns them on itself.
using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aegis.Abi;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class SystemCallUpcalls
    {
        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_syscall_redirect_write_begin")] private static extern ulong WriteBegin();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_syscall_redirect_write_end")] private static extern ulong WriteEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_symbol_syscall_redirect_fault")] private static extern ulong FaultResume();

        /// <summary>Frames the fast path could not write (environments ended with BadUpcall from the #PF fixup).</summary>
        public static ulong RedirectFaults;

        /// <summary>SetSystemCallUpcall(entry) -> 0. entry 0 turns the upcalls off; otherwise entry is a
        /// user-half address (BadAddress) and the caller has an upcall stack (InvalidArgument).</summary>
        public static ulong SetSystemCallUpcall(ulong entry, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
        {
            Environment caller = Scheduler.Current;
            if (entry == 0)
            {
                Turn(caller, 0);
                return 0;
            }
            if (entry < UserAddresses.LowestMappable || entry >= UserAddresses.ReservedTop)
                return unchecked((ulong)(long)Error.BadAddress);
            if (caller.UpcallStackTop == 0)
                return unchecked((ulong)(long)Error.InvalidArgument);
            Turn(caller, entry);
            return 0;
        }

        /// <summary>EnvironmentSetUpcall changed the upcall stack: the frame moves with it (a stack
        /// top of 0 turns the system-call upcalls off).</summary>
        public static void OnUpcallStackChanged(Environment environment)
        {
            Turn(environment, environment.UpcallStackTop == 0 ? 0 : environment.Counters[Environment.CountersSystemCallUpcallEntry]);
        }

        /// <summary>Sets the switch: entry 0 = off (also when the environment ends, Environments.DestroyOne).</summary>
        public static void Turn(Environment environment, ulong entry)
        {
            if (entry == 0)
            {
                environment.Counters[Environment.CountersSystemCallUpcallFrame] = 0;
                environment.Counters[Environment.CountersSystemCallUpcallEntry] = 0;
                return;
            }
            environment.Counters[Environment.CountersSystemCallUpcallEntry] = entry;
            environment.Counters[Environment.CountersSystemCallUpcallFrame] = environment.UpcallStackTop - UpcallFrame.Size;
        }

        /// <summary>The slow path's delivery (a number at or past SystemCallNumbers.End): the same
        /// frame the fast path writes, through the page tables (a page not mapped writable ends the
        /// environment with BadUpcall), and 'frame' rewritten to enter the libOS.</summary>
        public static void DeliverSlow(Environment caller, InterruptFrame* frame)
        {
            ulong frameAddress = caller.Counters[Environment.CountersSystemCallUpcallFrame];
            UpcallFrame upcall;
            Upcalls.Header(&upcall, UpcallKind.SystemCall);
            UserRegisters* to = &upcall.Registers;
            // The slow path's frame already has RCX = RIP and R11 = RFLAGS (syscall left them there).
            to->R15 = frame->R15; to->R14 = frame->R14; to->R13 = frame->R13; to->R12 = frame->R12;
            to->R11 = frame->R11; to->R10 = frame->R10; to->R9 = frame->R9; to->R8 = frame->R8;
            to->Rbp = frame->Rbp; to->Rdi = frame->Rdi; to->Rsi = frame->Rsi; to->Rdx = frame->Rdx;
            to->Rcx = frame->Rcx; to->Rbx = frame->Rbx; to->Rax = frame->Rax; to->Rip = frame->Rip;
            to->Rflags = frame->Rflags; to->Rsp = frame->Rsp;
            caller.SystemCallUpcallsSlow++;
            if (!UserMemory.TryWrite(caller, frameAddress, new ReadOnlySpan<byte>(&upcall, UpcallFrame.Size)))
                EndBadUpcall(caller, frameAddress);
            frame->Rip = caller.Counters[Environment.CountersSystemCallUpcallEntry];
            frame->Rsp = frameAddress;
            frame->Rdi = frameAddress;
            frame->Rflags = 0x202;
        }

        /// <summary>A ring-0 #PF: is it one of aegis_syscall_redirect's frame writes? Then the fault
        /// resumes at aegis_syscall_redirect_fault (true); the #PF path does not panic.</summary>
        public static bool TryFixUpRedirectFault(InterruptFrame* frame)
        {
            if (frame->Vector != InterruptDescriptorTable.PageFault || frame->Rip < WriteBegin() || frame->Rip >= WriteEnd())
                return false;
            frame->Rip = FaultResume();
            return true;
        }

        /// <summary>aegis_syscall_redirect_fault's continuation: the user GS is back, AC clear, the trap
        /// stack reset; the environment whose frame could not be written ends. Never returns.</summary>
        [UnmanagedCallersOnly(EntryPoint = "aegis_syscall_upcall_fault")]
        private static void OnRedirectFault()
        {
            RedirectFaults++;
            Environment current = Scheduler.Current;
            ulong address = Cpu.ReadCr2();
            EndBadUpcall(current, address);
        }

        private static void EndBadUpcall(Environment environment, ulong address)
        {
            Diagnostics.TextBuffer why = Diagnostics.ReportBuffers.Death;
            why.Clear();
            why.Append("destroyed: cannot deliver a system-call upcall: the upcall stack is not mapped writable (0x");
            why.AppendHex(address);
            why.Append(')');
            Environments.DestroyReporting(environment, EnvironmentState.Destroyed, DestroyReason.BadUpcall, 0, why);
            Scheduler.LeaveToLoop();
        }
    }
}
