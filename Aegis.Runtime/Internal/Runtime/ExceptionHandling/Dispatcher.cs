// The exception dispatcher: .NET's two-pass exception handling over ILC's unwind and EH data.
//   Pass 1 walks the frames from the throw (CFI unwinding; a caller frame is looked up at its
//   return address − 1), records each frame's address in the exception (its stack trace), and
//   looks for a typed catch that matches the exception's type or a filter that accepts it
//   (filters run here, before any finally; a filter that throws declines).
//   Pass 2 walks the same frames again and calls the finally (fault) funclets of every clause the
//   exception leaves, innermost first, then calls the catch funclet and resumes the catching
//   frame at the address the funclet returns.
// Exceptions thrown inside funclets: the call stubs in Native/eh.S keep the dispatch's ExInfo
// above their return address; a walk that unwinds out of a catch or finally funclet continues at
// the funclet's parent frame (ExInfo.Frame) and considers only the clauses after the running one
// (ExInfo.ClauseIndex) whose try range differs (so a sibling catch of the same try never catches
// what its neighbour's handler threw). The abandoned dispatch's frames are skipped, as in .NET.
// Invariants: the exception object is referenced from the dispatcher's stack frame (ExInfo) for
// the whole dispatch, so a conservative stack scan sees it; nothing here allocates except the
// stack-trace array (once per exception object, grown by doubling) and what an unhandled
// exception's report needs; the code lookup is a binary search over .eh_frame_hdr.
// One thread of execution per image (the ExInfo chain is a static).
using System;
using System.Runtime;
using System.Runtime.CompilerServices;

namespace Internal.Runtime.ExceptionHandling
{
    /// <summary>One dispatch in progress, on the dispatcher's stack. Previous is at offset 0 (eh.S).</summary>
    internal unsafe struct ExInfo
    {
        public ExInfo* Previous;
        public nint Exception;      // the exception object's address (kept visible to the collector)
        public RegisterSet Frame;   // the frame whose handler runs now (a running funclet's parent)
        public uint ClauseIndex;    // the clause whose handler runs now (NoClause: none)
        public int Pass;            // 1, 2, or 3 (the catch funclet runs)
    }

    /// <summary>Walks the frames of one thread from a captured RegisterSet.</summary>
    internal unsafe struct FrameWalker
    {
        public RegisterSet Regs;
        public FrameEntry Frame;
        public CommonEntry Common;
        public MethodInfo Method;
        public bool HasMethod;      // ILC code with a .dotnet_eh_table block
        public uint SkipClause;     // clauses up to this one (and its siblings) are not considered

        public bool Init(RegisterSet* context)
        {
            Regs = *context;
            return Resolve();
        }

        /// <summary>Unwinds to the caller. False at the end of the managed frames (a frame without CFI).</summary>
        public bool Next()
        {
            if (CallFrameInfo.Unwind(Common, Frame, Regs.Rip - 1, ref Regs) != null)
                return false;
            return Resolve();
        }

        private bool Resolve()
        {
            SkipClause = Dispatcher.NoClause;
            if (Regs.Rip == Dispatcher.s_catchReturn || Regs.Rip == Dispatcher.s_finallyReturn)
            {
                // Leaving a catch or finally funclet: continue at its parent frame, as the
                // dispatch that called the funclet left it.
                ExInfo* parent = *(ExInfo**)(Regs.Rsp + 16);
                Regs = parent->Frame;
                SkipClause = parent->ClauseIndex;
            }
            if (!Dispatcher.Lookup(Regs.Rip - 1, out Frame, out Common))
                return false;
            HasMethod = Frame.Lsda != null && EhTable.ReadMethod(Frame.Lsda, Frame.Start, out Method) == null && Method.EhInfo != null;
            return true;
        }

        public uint CodeOffset => (uint)(Regs.Rip - 1 - Method.MethodStart);
    }

    internal static unsafe class Dispatcher
    {
        public const uint NoClause = uint.MaxValue;
        private const int KindThrow = 0, KindRethrow = 1;

        internal static ExInfo* s_head;
        internal static ulong s_catchReturn, s_finallyReturn;
        private static byte* s_header;
        private static int* s_table;
        private static uint s_count;
        private static bool s_initialized;
        private static string s_initializationError;
        private static CommonEntry s_lastCommon;

        private const MethodImplOptions Import = MethodImplOptions.InternalCall;
        [MethodImpl(Import), RuntimeImport("*", "aegis_eh_frame_hdr_start")] private static extern byte* FrameHeaderStart();
        [MethodImpl(Import), RuntimeImport("*", "aegis_eh_frame_hdr_end")] private static extern byte* FrameHeaderEnd();
        [MethodImpl(Import), RuntimeImport("*", "aegis_eh_catch_return_address")] private static extern ulong CatchReturnAddress();
        [MethodImpl(Import), RuntimeImport("*", "aegis_eh_finally_return_address")] private static extern ulong FinallyReturnAddress();
        [MethodImpl(Import), RuntimeImport("*", "aegis_eh_throw_hw_address")] internal static extern ulong ThrowHardwareAddress();
        [MethodImpl(Import), RuntimeImport("*", "aegis_eh_call_catch")] private static extern void CallCatch(object exception, ulong funclet, RegisterSet* frame, ExInfo* exInfo, ExInfo** head);
        [MethodImpl(Import), RuntimeImport("*", "aegis_eh_call_finally")] private static extern void CallFinally(ulong funclet, RegisterSet* frame, ExInfo* exInfo);
        [MethodImpl(Import), RuntimeImport("*", "aegis_eh_call_filter")] private static extern int CallFilter(object exception, ulong funclet, RegisterSet* frame);

        private static void Initialize()
        {
            s_initialized = true;
            s_catchReturn = CatchReturnAddress();
            s_finallyReturn = FinallyReturnAddress();
            byte* start = FrameHeaderStart();
            if (FrameHeaderEnd() - start < 12)
            {
                s_initializationError = "the image has no .eh_frame_hdr (link with --eh-frame-hdr)";
                return;
            }
            s_initializationError = CallFrameInfo.OpenSearchTable(start, out s_table, out s_count);
            if (s_initializationError == null)
                s_header = start;
        }

        /// <summary>The FDE (and its CIE) covering pc; false if none does (assembly without CFI).</summary>
        internal static bool Lookup(ulong pc, out FrameEntry frame, out CommonEntry common)
        {
            frame = default;
            common = default;
            if (!s_initialized) Initialize();
            if (s_header == null) return false;
            byte* fde = CallFrameInfo.FindFrameEntry(s_header, s_table, s_count, pc);
            if (fde == null) return false;
            byte* cie = CallFrameInfo.CommonEntryOf(fde);
            if (cie != s_lastCommon.Address)
            {
                if (CallFrameInfo.ParseCommonEntry(cie, out s_lastCommon) != null)
                {
                    s_lastCommon = default;
                    return false;
                }
            }
            common = s_lastCommon;
            if (CallFrameInfo.ParseFrameEntry(fde, common, out frame) != null) return false;
            return pc >= frame.Start && pc < frame.End;
        }

        /// <summary>True if pc is in ILC-generated code (an FDE with a .dotnet_eh_table block).</summary>
        internal static bool IsManagedCode(ulong pc) => Lookup(pc, out FrameEntry frame, out _) && frame.Lsda != null;

        [RuntimeExport("AegisDispatchThrow")]
        private static void DispatchThrow(object exception, RegisterSet* context, int kind)
        {
            if (kind == KindRethrow)
            {
                ExInfo* active = s_head;
                while (active != null && active->Pass != 3) active = active->Previous;
                if (active == null)
                    RuntimeHost.Fail(null, "System.InvalidProgramException", "throw; outside a catch block");
                exception = Unsafe.As<nint, object>(ref active->Exception);
            }
            else if (exception == null)
                exception = new NullReferenceException();
            Dispatch(exception, context, kind);
        }

        public const int HardwareNullReference = FaultDecoder.HardwareNullReference, HardwareDivideByZero = FaultDecoder.HardwareDivideByZero, HardwareOverflow = FaultDecoder.HardwareOverflow;

        [RuntimeExport("AegisDispatchHardwareFault")]
        private static void DispatchHardwareFault(object unused, RegisterSet* context, int kind)
        {
            Exception exception;
            switch (kind)
            {
                case HardwareDivideByZero: exception = new DivideByZeroException(); break;
                case HardwareOverflow: exception = new OverflowException(); break;
                default: exception = new NullReferenceException(); break;
            }
            Dispatch(exception, context, KindThrow);
        }

        private static MethodTable* HardwareExceptionType(int kind)
        {
            switch (kind)
            {
                case HardwareNullReference: return Internal.Runtime.MethodTable.Of<NullReferenceException>();
                case HardwareDivideByZero: return Internal.Runtime.MethodTable.Of<DivideByZeroException>();
                case HardwareOverflow: return Internal.Runtime.MethodTable.Of<OverflowException>();
                default: return null;
            }
        }

        /// <summary>For a fault handler: would an exception of this kind raised at 'context' be
        /// caught (a matching typed catch, or any filter, in the managed frames above it)?
        /// Runs no filter and changes nothing.</summary>
        internal static bool WouldCatch(int kind, RegisterSet* context)
        {
            MethodTable* type = HardwareExceptionType(kind);
            if (type == null) return false;
            FrameWalker walker = default;
            if (!walker.Init(context) || walker.Frame.Lsda == null)
                return false; // the fault is not in managed code
            do
            {
                if (walker.HasMethod && FindCatch(ref walker, null, type, null, out _, out _))
                    return true;
            } while (walker.Next());
            return false;
        }

        private static void Dispatch(object exception, RegisterSet* context, int kind)
        {
            ExInfo exInfo;
            exInfo.Previous = s_head;
            exInfo.Exception = *(nint*)Unsafe.AsPointer(ref exception);
            exInfo.Frame = default;
            exInfo.ClauseIndex = NoClause;
            exInfo.Pass = 1;
            s_head = &exInfo;

            Exception managed = exception as Exception;
            if (managed != null && kind != KindRethrow)
                managed.ResetStackTrace();

            // ---- Pass 1: find the handler ----
            FrameWalker walker = default;
            bool found = false;
            uint catchClause = NoClause;
            ulong handler = 0;
            RegisterSet catchFrame = default;
            if (walker.Init(context))
            {
                do
                {
                    managed?.AppendStackFrame((nint)(walker.Regs.Rip - 1));
                    if (walker.HasMethod && FindCatch(ref walker, exception, null, &exInfo, out catchClause, out handler))
                    {
                        found = true;
                        catchFrame = walker.Regs;
                        break;
                    }
                } while (walker.Next());
            }

            if (!found)
            {
                // Where the walk stopped: the return address into the first frame without unwind
                // information (an assembly entry: the kernel's system-call or interrupt entry, an
                // app's start), for the host's report.
                if (managed != null) managed.UnwindStoppedAt = (nint)walker.Regs.Rip;
                string typeName = exception.GetType().FullName;
                string message = managed != null ? managed.Message : "";
                RuntimeHost.Fail(exception, typeName, message);
            }

            // ---- Pass 2: run the finallies, innermost first, then the catch ----
            exInfo.Pass = 2;
            walker = default;
            walker.Init(context);
            while (true)
            {
                bool catching = walker.Regs.Rsp == catchFrame.Rsp && walker.Regs.Rip == catchFrame.Rip;
                if (walker.HasMethod)
                    RunFinallies(ref walker, &exInfo, catching ? catchClause : NoClause);
                if (catching)
                    break;
                if (!walker.Next())
                    RuntimeHost.Fail(exception, "System.ExecutionEngineException", "the second pass lost the catching frame");
            }
            exInfo.Frame = walker.Regs;
            exInfo.ClauseIndex = catchClause;
            exInfo.Pass = 3;
            fixed (ExInfo** head = &s_head)
                CallCatch(exception, handler, &exInfo.Frame, &exInfo, head);
        }

        /// <summary>Pass 1 in one frame: the first clause (innermost first) whose try covers the
        /// frame's offset and that takes the exception: a typed catch of a type the exception
        /// (or, with exception null, an exception of 'type') is an instance of, or a filter that
        /// accepts it (exInfo null: filters are not run and count as accepting).</summary>
        private static bool FindCatch(ref FrameWalker walker, object exception, MethodTable* type, ExInfo* exInfo, out uint index, out ulong handler)
        {
            index = NoClause;
            handler = 0;
            uint offset = walker.CodeOffset;
            EhClauseReader reader = new EhClauseReader(walker.Method.EhInfo);
            uint skip = walker.SkipClause;
            EhClause skipped = default;
            EhClause clause;
            for (uint i = 0; reader.Next(out clause); i++)
            {
                if (skip != NoClause)
                {
                    if (i <= skip) { skipped = clause; continue; }
                    if (clause.SameTryAs(skipped)) continue;
                    skip = NoClause;
                }
                if (clause.Kind == EhClauseKind.Fault || !clause.Contains(offset))
                    continue;
                if (clause.Kind == EhClauseKind.TypedCatch)
                {
                    MethodTable* target = (MethodTable*)clause.TargetType;
                    bool matches = exception != null
                        ? TypeCast.IsInstanceOfException(target, exception)
                        : TypeCast.AreTypesAssignable(type, target);
                    if (!matches) continue;
                }
                else if (exInfo != null)
                {
                    RegisterSet frame = walker.Regs;
                    if (!RunFilter(exception, walker.Method.MethodStart + clause.FilterOffset, &frame))
                        continue;
                }
                index = i;
                handler = walker.Method.MethodStart + clause.HandlerOffset;
                return true;
            }
            return false;
        }

        /// <summary>Calls a filter funclet; an exception it throws means "declined" (as in .NET).</summary>
        private static bool RunFilter(object exception, ulong funclet, RegisterSet* frame)
        {
            try
            {
                return CallFilter(exception, funclet, frame) != 0;
            }
            catch
            {
                return false;
            }
        }

        /// <summary>Pass 2 in one frame: calls the finally funclets of the clauses covering the
        /// frame's offset, innermost first, up to (not including) clause 'limit'.</summary>
        private static void RunFinallies(ref FrameWalker walker, ExInfo* exInfo, uint limit)
        {
            uint offset = walker.CodeOffset;
            EhClauseReader reader = new EhClauseReader(walker.Method.EhInfo);
            uint skip = walker.SkipClause;
            EhClause skipped = default;
            EhClause clause;
            for (uint i = 0; i < limit && reader.Next(out clause); i++)
            {
                if (skip != NoClause)
                {
                    if (i <= skip) { skipped = clause; continue; }
                    if (clause.SameTryAs(skipped)) continue;
                    skip = NoClause;
                }
                if (clause.Kind != EhClauseKind.Fault || !clause.Contains(offset))
                    continue;
                exInfo->Frame = walker.Regs;
                exInfo->ClauseIndex = i;
                CallFinally(walker.Method.MethodStart + clause.HandlerOffset, &exInfo->Frame, exInfo);
                exInfo->ClauseIndex = NoClause;
            }
        }
    }
}
