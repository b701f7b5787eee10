// Delivering upcalls: the kernel writes an UpcallFrame (Aegis.Abi/Upcall.cs) on the
// environment's upcall stack and points the environment at its upcall entry. The libOS
// resumes the interrupted state by itself. If the entry is not mapped executable user code,
// the stack is not writable user memory, or the frame would not fit, delivery fails and the
// caller destroys the environment (DestroyReason.BadUpcall).
// Guarantee: no frame is ever written into a page that is not mapped present, user and
// writable at the moment of delivery. The checks are remembered for one MappingGeneration
// (the cached frame page's leaf is reused), and only for a page among the
// UpcallLimits.UpcallStackPages pages below the stack top: every permission change that touches
// those pages, and every map or unmap anywhere, starts a new generation
// (Environments.TouchesUpcallPages). A frame that lands below them (a deep nested frame, or one
// below the registered stack's bottom) is checked by a page walk every time.
// A page of the frame that is copy-on-write for the kernel (SystemCall.CopyOnWriteMark) is
// copied first, as a write of the environment's own would be (a forked child's upcall stack is
// its parent's, copy-on-write).
// Registration (EnvironmentSetUpcall) is checked too (Validate): the entry in the user half,
// the stack's pages inside the user half; delivery checks what can change after it.
using System;
using System.Runtime.CompilerServices;
using Aegis.Abi;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class Upcalls
    {
        /// <summary>Minimum size of an upcall stack the kernel accepts (one page).</summary>
        private const ulong MinimumStack = 4096;

        /// <summary>The address the last refused delivery was about (the problem text itself is a
        /// literal: refusing allocates nothing, however often an app makes it happen).</summary>
        public static ulong ProblemAddress;

        private static string Problem(string literal, ulong address)
        {
            ProblemAddress = address;
            return literal;
        }

        /// <summary>Rewrites 'registers' (the environment's state right now) so that it enters its
        /// upcall entry with the frame. 'upcall' supplies the header (words 0..11, see Header);
        /// the registers are filled in here. Returns null, or why delivery is impossible.</summary>
        public static string Deliver(Environment environment, InterruptFrame* registers, UpcallFrame* upcall)
            => Deliver(environment, registers, upcall->Kind, upcall->Trap, upcall->ErrorCode, upcall->FaultAddress,
                       upcall->Sender, upcall->Word0, upcall->Word1, upcall->Word2, upcall->Word3, upcall->Frame);

        /// <summary>The same, with the header given as values: no frame is built on the kernel stack
        /// first (the exception path uses this form).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static string Deliver(Environment environment, InterruptFrame* registers, UpcallKind kind, ulong trap, ulong errorCode,
            ulong faultAddress, ulong sender, ulong word0, ulong word1, ulong word2, ulong word3, ulong frameNumber)
        {
            ulong entry = environment.UpcallEntry;
            ulong stackTop = environment.UpcallStackTop;
            // FAST PATH (docs/kernel.md): the entry and stack checks are remembered for one MappingGeneration.
            bool checkedBefore = environment.UpcallCheckedGeneration == environment.MappingGeneration;
            if (!checkedBefore)
            {
                if (entry == 0)
                    return "no upcall entry registered";
                if (entry < UserAddresses.LowestMappable || !UserMemory.IsUserRange(entry, 1))
                    return Problem("upcall entry is not a user address", entry);
                // An entry that is not mapped would fault at once and loop through upcalls forever.
                ulong* entryLeaf = PageWalk.UserLeaf(environment, entry, false);
                if (entryLeaf == null)
                    return Problem("upcall entry is not mapped", entry);
                // Nor one that cannot be executed (a no-execute page): it too would fault at once.
                if ((*entryLeaf & PageBits.NoExecute) != 0)
                    return Problem("upcall entry is not executable", entry);
                if (stackTop < MinimumStack || !UserMemory.IsUserRange(stackTop - MinimumStack, MinimumStack))
                    return Problem("upcall stack is not in user memory", stackTop);
                environment.UpcallCheckedFramePage = ulong.MaxValue;
                environment.UpcallCheckedGeneration = environment.MappingGeneration;
            }

            // Already on the upcall stack (a fault inside the handler): nest below the current RSP.
            ulong rsp = registers->Rsp;
            ulong stackBottom = stackTop - (ulong)(environment.UpcallStackPages > 0 ? environment.UpcallStackPages : 1) * 4096;
            bool nested = rsp > stackBottom && rsp <= stackTop;
            ulong top = nested ? rsp - UpcallFrame.RedZone : stackTop;
            ulong frameAddress = (top - UpcallFrame.Size) & ~15UL;
            if (frameAddress < stackBottom && !nested)
                return Problem("upcall stack is too small", stackTop);

            ulong offset = frameAddress & 4095;
            if (offset <= 4096 - UpcallFrame.Size)
            {
                // The common case: the frame lies in one page. Write it in place through the direct map.
                // (The checks above and this page's leaf are remembered until a mapping changes.)
                ulong framePage = frameAddress & ~4095UL;
                ulong* leaf;
                if (environment.UpcallCheckedFramePage == framePage)
                    leaf = environment.UpcallCheckedFrameLeaf;
                else
                {
                    leaf = PageWalk.UserLeaf(environment, frameAddress, true);
                    // A copy-on-write page the environment asked the kernel to copy (CopyOnWriteMark):
                    // copied (or made writable) now, as its own write would have been.
                    if (leaf == null && UserPageTables.TryCopyOnWrite(environment, frameAddress))
                        leaf = PageWalk.UserLeaf(environment, frameAddress, true);
                    if (leaf == null)
                    {
                        environment.UpcallCheckedGeneration = ulong.MaxValue;
                        return Problem("upcall stack is not mapped writable", frameAddress);
                    }
                    // Remember the leaf only for a page whose permission changes start a new
                    // generation (the UpcallLimits.UpcallStackPages pages below the top,
                    // Environments.TouchesUpcallPages); a page below them (a deep nested frame) is
                    // walked, and so checked, at every delivery.
                    if (framePage >= stackTop - (ulong)UpcallLimits.UpcallStackPages * 4096)
                    {
                        environment.UpcallCheckedFramePage = framePage;
                        environment.UpcallCheckedFrameLeaf = leaf;
                    }
                }
                UpcallFrame* destination = (UpcallFrame*)(KernelMemory.DirectMapBase + (*leaf & PageBits.FrameMask) + offset);
                WriteFrame(destination, registers, kind, trap, errorCode, faultAddress, sender, word0, word1, word2, word3, frameNumber);
            }
            else
            {
                UpcallFrame straddling;
                WriteFrame(&straddling, registers, kind, trap, errorCode, faultAddress, sender, word0, word1, word2, word3, frameNumber);
                if (environment.CopyOnWriteMark != 0)
                {
                    // Each page of the frame: copy-on-write resolved first (see above); pages that are
                    // not marked are left as they are and checked by TryWrite.
                    UserPageTables.TryCopyOnWrite(environment, frameAddress);
                    UserPageTables.TryCopyOnWrite(environment, frameAddress + UpcallFrame.Size - 1);
                }
                if (!UserMemory.TryWrite(environment, frameAddress, new ReadOnlySpan<byte>(&straddling, UpcallFrame.Size)))
                    return Problem("upcall stack is not mapped writable", frameAddress);
            }

            registers->Rip = entry;
            registers->Rsp = frameAddress;
            registers->Rdi = frameAddress;
            registers->Rflags = 0x202;
            environment.UpcallsDelivered++;
            return null;
        }

        /// <summary>Checks an EnvironmentSetUpcall registration: entry 0 (no upcalls) or a user-half
        /// address at or above LowestMappable; a stack of 'pages' pages (0: UpcallLimits.UpcallStackPages;
        /// at most UpcallLimits.MaximumUpcallStackPages) whose every page, [top - pages, top), is mappable
        /// user memory. Whether they are mapped is checked at each delivery (mappings change).</summary>
        public static Error Validate(ulong entry, ulong stackTop, ulong pages, out int stackPages)
        {
            stackPages = 0;
            if (pages > (ulong)UpcallLimits.MaximumUpcallStackPages) return Error.InvalidArgument;
            ulong count = pages == 0 ? (ulong)UpcallLimits.UpcallStackPages : pages;
            if (entry != 0 && (entry < UserAddresses.LowestMappable || entry >= UserAddresses.ReservedTop))
                return Error.BadAddress;
            if (entry != 0 || stackTop != 0)
            {
                if ((stackTop & 15) != 0) return Error.InvalidArgument;
                if (stackTop > UserAddresses.ReservedTop || stackTop < UserAddresses.LowestMappable + count * 4096)
                    return Error.BadAddress;
            }
            stackPages = (int)count;
            return Error.None;
        }

        /// <summary>Sets the whole header of an upcall frame (the part before the registers).</summary>
        public static void Header(UpcallFrame* upcall, UpcallKind kind)
        {
            ulong* words = (ulong*)upcall;
            for (int i = 0; i < UpcallFrame.RegistersOffset / 8; i++) words[i] = 0;
            upcall->Kind = kind;
            upcall->Frame = UpcallFrame.NoFrame;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void WriteFrame(UpcallFrame* to, InterruptFrame* registers, UpcallKind kind, ulong trap, ulong errorCode,
            ulong faultAddress, ulong sender, ulong word0, ulong word1, ulong word2, ulong word3, ulong frameNumber)
        {
            to->Kind = kind; to->Trap = trap; to->ErrorCode = errorCode; to->FaultAddress = faultAddress;
            to->Sender = sender; to->Word0 = word0; to->Word1 = word1; to->Word2 = word2; to->Word3 = word3;
            to->Frame = frameNumber; to->Reserved0 = 0; to->Reserved1 = 0; to->Reserved2 = 0; to->Reserved3 = 0;
            CopyRegisters(registers, &to->Registers);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void CopyRegisters(InterruptFrame* from, UserRegisters* to)
        {
            to->R15 = from->R15; to->R14 = from->R14; to->R13 = from->R13; to->R12 = from->R12;
            to->R11 = from->R11; to->R10 = from->R10; to->R9 = from->R9; to->R8 = from->R8;
            to->Rbp = from->Rbp; to->Rdi = from->Rdi; to->Rsi = from->Rsi; to->Rdx = from->Rdx;
            to->Rcx = from->Rcx; to->Rbx = from->Rbx; to->Rax = from->Rax; to->Rip = from->Rip;
            to->Rflags = from->Rflags; to->Rsp = from->Rsp;
        }
    }
}
