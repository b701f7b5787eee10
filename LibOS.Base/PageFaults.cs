// The page-fault dispatcher: libOS code (a heap growing on demand, copy-on-write fork, ...)
// registers handlers; on a page fault they are offered it in registration order and the first
// that claims it wins. If none does, Upcalls reports the fault and ends the environment.
// Invariant: dispatch is re-entrant (a handler may fault again: the nested fault is dispatched
// the same way on the upcall stack below) and allocates nothing itself.
using System.Collections.Generic;
using Aegis.Abi;

namespace Aegis.LibOS
{
    public static class PageFaults
    {
        private static readonly List<PageFaultHandler> s_handlers = new List<PageFaultHandler>();

        /// <summary>Adds a handler after those already registered.</summary>
        public static void Register(PageFaultHandler handler)
        {
            if (handler == null)
                throw new System.ArgumentNullException(nameof(handler));
            s_handlers.Add(handler);
        }

        /// <summary>Removes a handler (the same delegate instance that was registered).</summary>
        public static bool Unregister(PageFaultHandler handler)
        {
            for (int i = 0; i < s_handlers.Count; i++)
            {
                if ((object)s_handlers[i] == handler)
                {
                    s_handlers.RemoveAt(i);
                    return true;
                }
            }
            return false;
        }

        public static int HandlerCount => s_handlers.Count;

        /// <summary>Offers the fault to each handler in turn; true if one claimed it.</summary>
        public static bool Dispatch(ref UpcallFrame frame)
        {
            for (int i = 0; i < s_handlers.Count; i++)
            {
                if (s_handlers[i](ref frame))
                    return true;
            }
            return false;
        }

        /// <summary>The page (4 KiB-aligned address) the fault is in.</summary>
        public static ulong FaultPage(in UpcallFrame frame) => frame.FaultAddress & ~(UserAddresses.PageSize - 1);
        public static bool IsWrite(in UpcallFrame frame) => (frame.ErrorCode & PageFaultBits.Write) != 0;
        public static bool IsInstructionFetch(in UpcallFrame frame) => (frame.ErrorCode & PageFaultBits.InstructionFetch) != 0;
        /// <summary>True for a protection violation on a mapped page, false for a page not present.</summary>
        public static bool IsProtectionViolation(in UpcallFrame frame) => (frame.ErrorCode & PageFaultBits.Present) != 0;

        /// <summary>"read of 0x..., page not present" and the like, for reports.</summary>
        public static string Describe(in UpcallFrame frame)
        {
            string access = IsInstructionFetch(frame) ? "instruction fetch" : IsWrite(frame) ? "write" : "read";
            string cause = IsProtectionViolation(frame) ? "protection violation" : "page not present";
            return access + " of 0x" + frame.FaultAddress.ToString("x") + ", " + cause;
        }
    }
}
