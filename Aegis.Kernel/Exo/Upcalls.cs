// Delivering upcalls: the kernel writes an UpcallFrame (Aegis.Abi/Upcall.cs) on the
// environment's upcall stack and points the environment at its upcall entry. The libOS
// resumes the interrupted state by itself. If the entry is not user code, the stack is not
// writable user memory, or the frame would not fit, delivery fails and the caller destroys
// the environment (DestroyReason.BadUpcall).
using System;
using Aegis.Abi;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class Upcalls
    {
        /// <summary>Minimum size of an upcall stack the kernel accepts (one page).</summary>
        private const ulong MinimumStack = 4096;

        /// <summary>Rewrites 'registers' (the environment's state right now) so that it enters its
        /// upcall entry with the frame. Returns null, or why delivery is impossible.</summary>
        public static string Deliver(Environment environment, InterruptFrame* registers, UpcallFrame* upcall)
        {
            ulong entry = environment.UpcallEntry;
            ulong stackTop = environment.UpcallStackTop;
            if (entry == 0)
                return "no upcall entry registered";
            if (!UserMemory.IsUserRange(entry, 1) || entry < UserAddresses.LowestMappable)
                return "upcall entry 0x" + entry.ToString("x") + " is not a user address";
            if (!UserMemory.IsAccessible(environment, entry, 1, false))
                return "upcall entry 0x" + entry.ToString("x") + " is not mapped";
            if (stackTop == 0 || !UserMemory.IsUserRange(stackTop - MinimumStack, MinimumStack))
                return "upcall stack 0x" + stackTop.ToString("x") + " is not in user memory";

            // Already on the upcall stack (a fault inside the handler): nest below the current RSP.
            ulong rsp = registers->Rsp;
            ulong stackBottom = stackTop - (ulong)(environment.UpcallStackPages > 0 ? environment.UpcallStackPages : 1) * 4096;
            ulong top = rsp > stackBottom && rsp <= stackTop ? rsp - UpcallFrame.RedZone : stackTop;
            ulong frameAddress = (top - UpcallFrame.Size) & ~15UL;
            if (frameAddress < stackBottom && !(rsp > stackBottom && rsp <= stackTop))
                return "upcall stack 0x" + stackTop.ToString("x") + " is too small";

            upcall->Registers.R15 = registers->R15; upcall->Registers.R14 = registers->R14;
            upcall->Registers.R13 = registers->R13; upcall->Registers.R12 = registers->R12;
            upcall->Registers.R11 = registers->R11; upcall->Registers.R10 = registers->R10;
            upcall->Registers.R9 = registers->R9; upcall->Registers.R8 = registers->R8;
            upcall->Registers.Rbp = registers->Rbp; upcall->Registers.Rdi = registers->Rdi;
            upcall->Registers.Rsi = registers->Rsi; upcall->Registers.Rdx = registers->Rdx;
            upcall->Registers.Rcx = registers->Rcx; upcall->Registers.Rbx = registers->Rbx;
            upcall->Registers.Rax = registers->Rax; upcall->Registers.Rip = registers->Rip;
            upcall->Registers.Rflags = registers->Rflags; upcall->Registers.Rsp = registers->Rsp;

            if (!UserMemory.TryWrite(environment, frameAddress, new ReadOnlySpan<byte>(upcall, UpcallFrame.Size)))
                return "upcall stack at 0x" + frameAddress.ToString("x") + " is not mapped writable";

            registers->Rip = entry;
            registers->Rsp = frameAddress;
            registers->Rdi = frameAddress;
            registers->Rflags = 0x202;
            environment.UpcallsDelivered++;
            return null;
        }

        public static void Clear(UpcallFrame* upcall)
        {
            ulong* words = (ulong*)upcall;
            for (int i = 0; i < UpcallFrame.Size / 8; i++) words[i] = 0;
            upcall->Frame = UpcallFrame.NoFrame;
        }
    }
}
