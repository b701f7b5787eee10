// Upcalls: the kernel hands every event to the environment's libOS through one entry, the
// trampoline aegis_upcall_entry (Native/libos.S), on the upcall stack. Dispatch sorts them by
// UpcallKind:
//   Exception  -> the handler registered for that trap; page faults (trap 14) -> PageFaults;
//                 nothing claims it -> a null dereference or division the app's code catches becomes
//                 a managed exception (ManagedFaults.cs); otherwise a one-line report and Exit(ExitStatus.UnhandledTrap(trap), frame):
//                 the kernel adds the full crash report (exception name, symbolized stack);
//   IpcCall/IpcSend -> the IPC handler (none: a call is answered with Error.NoSuchCall in word 0);
//   SliceEnd   -> the slice-end handler (default: yield at once);
//   Revoke     -> the revocation handler (default: none, the abort protocol takes the frames).
// When Dispatch returns, the trampoline resumes the frame's registers, as handlers left them.
// Invariant: the upcall stack (AddressSpace.UpcallStack*) is mapped before the kernel knows it.
using System.Runtime.InteropServices;
using Aegis.Abi;
using Internal.Runtime;

namespace Aegis.LibOS
{
    public static unsafe class Upcalls
    {
        private static readonly ExceptionHandler[] s_exceptionHandlers = new ExceptionHandler[Traps.Count];
        private static IpcHandler s_ipcHandler;
        private static RevocationHandler s_revocationHandler;
        private static SliceEndHandler s_sliceEndHandler;

        /// <summary>The address of the trampoline (what EnvironmentSetUpcall is given).</summary>
        public static ulong EntryAddress => ImageSymbols.UpcallEntry();

        /// <summary>Maps the upcall stack and registers the trampoline and the stack with the kernel.</summary>
        internal static Error Install()
        {
            // Run the static constructors the dispatch path needs now, so an upcall allocates nothing
            // on its way to a handler (it may interrupt the allocator: docs/runtime.md).
            if (s_exceptionHandlers == null || PageFaults.HandlerCount < 0)
                return Error.InvalidArgument;
            Error error = Memory.AllocateAndMap(AddressSpace.UpcallStackBottom, AddressSpace.UpcallStackPages, Memory.ReadWrite);
            if (error != Error.None)
                return error;
            return SystemCalls.EnvironmentSetUpcall(CapabilitySlots.Self, EntryAddress, AddressSpace.UpcallStackTop);
        }

        /// <summary>Handles CPU exception 'trap' (0..31) from now on; null removes the handler. Page
        /// faults are not taken here: register with PageFaults.</summary>
        public static void SetExceptionHandler(ulong trap, ExceptionHandler handler)
        {
            if (trap >= Traps.Count || trap == Traps.PageFault)
                throw new System.ArgumentOutOfRangeException(nameof(trap), "a CPU exception vector other than the page fault (use PageFaults.Register)");
            s_exceptionHandlers[(int)trap] = handler;
        }

        public static void SetIpcHandler(IpcHandler handler) => s_ipcHandler = handler;

        public static void SetRevocationHandler(RevocationHandler handler) => s_revocationHandler = handler;

        /// <summary>null restores the default (yield at once).</summary>
        public static void SetSliceEndHandler(SliceEndHandler handler) => s_sliceEndHandler = handler;

        [UnmanagedCallersOnly(EntryPoint = "aegis_upcall_dispatch")]
        private static void DispatchFromTrampoline(UpcallFrame* frame) => Dispatch(ref *frame);

        /// <summary>The trampoline's shortcut for the commonest upcall (UpcallKind.Exception).</summary>
        [UnmanagedCallersOnly(EntryPoint = "aegis_upcall_dispatch_exception")]
        private static void DispatchExceptionFromTrampoline(UpcallFrame* frame) => DispatchException(ref *frame);

        /// <summary>The trampoline calls this first when the upcall interrupted the runtime's
        /// allocation fast paths (a range check in assembly): an interrupted allocation that had not
        /// yet taken its cell restarts from its beginning (the runtime says where), so a handler
        /// may allocate without the same memory being handed out twice.</summary>
        [UnmanagedCallersOnly(EntryPoint = "aegis_upcall_restart_allocation")]
        private static void RestartAllocation(UpcallFrame* frame)
            => frame->Registers.Rip = RuntimeHost.AllocationRestartPoint(frame->Registers.Rip);

        /// <summary>What the trampoline runs for each upcall (public so a libOS can forward to it).</summary>
        public static void Dispatch(ref UpcallFrame frame)
        {
            switch (frame.Kind)
            {
                case UpcallKind.Exception:
                    DispatchException(ref frame);
                    break;
                case UpcallKind.IpcCall:
                case UpcallKind.IpcSend:
                    if (s_ipcHandler != null)
                        s_ipcHandler(ref frame);
                    else if (frame.Kind == UpcallKind.IpcCall)
                        SystemCalls.IpcReply(unchecked((ulong)(long)Error.NoSuchCall), 0);
                    break;
                case UpcallKind.SliceEnd:
                    if (s_sliceEndHandler != null)
                        s_sliceEndHandler(ref frame);
                    else
                        SystemCalls.Yield();
                    break;
                case UpcallKind.Revoke:
                    s_revocationHandler?.Invoke(frame.Word0, frame.Word1);
                    break;
                default:
                    Console.WriteLine(Info.ImageName + ": ignored an upcall of unknown kind " + ((ulong)frame.Kind).ToString());
                    break;
            }
        }

        private static void DispatchException(ref UpcallFrame frame)
        {
            ulong trap = frame.Trap;
            if (trap == Traps.PageFault)
            {
                if (PageFaults.Dispatch(ref frame))
                    return;
            }
            else if (trap < Traps.Count)
            {
                ExceptionHandler handler = s_exceptionHandlers[(int)trap];
                if (handler != null)
                {
                    handler(ref frame);
                    return;
                }
            }
            if (ManagedFaults.TryRaise(ref frame))
                return;
            ReportAndExit(ref frame);
        }

        /// <summary>Prints the one-line report of an exception nothing handled and ends the environment.</summary>
        public static void ReportAndExit(ref UpcallFrame frame)
        {
            Console.WriteLine(Describe(ref frame));
            // The kernel then prints the full report: the exception's name and a stack trace
            // symbolized with this image's symbol file (docs/writing-an-app.md, "When an app crashes").
            fixed (UpcallFrame* crash = &frame)
                SystemCalls.Exit((ulong)ExitStatus.UnhandledTrap(frame.Trap), (ulong)crash, 0);
        }

        /// <summary>"hello (environment 401): unhandled page fault (trap 14) at rip 0x401234: write of 0x0, page not present".</summary>
        public static string Describe(ref UpcallFrame frame)
        {
            string line = Info.ImageName + " (environment " + Info.EnvironmentIdText + "): unhandled "
                + Traps.Name(frame.Trap) + " (trap " + frame.Trap.ToString() + ") at rip 0x" + frame.Registers.Rip.ToString("x");
            if (frame.Trap == Traps.PageFault)
                return line + ": " + PageFaults.Describe(frame);
            if (frame.ErrorCode != 0)
                return line + ", error code 0x" + frame.ErrorCode.ToString("x");
            return line;
        }
    }
}
