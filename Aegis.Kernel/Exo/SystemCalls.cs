// The system calls (Aegis.Abi/SystemCall.cs; docs/abi.md): the one table of handlers, the slow
// path's dispatcher, and the console and diagnostic calls. The handlers live with their resource
// (SystemCalls.Memory.cs, .Environments.cs, .Capabilities.cs, .Ipc.cs, .Revocation.cs).
// Every handler has seL4's shape: first decode and check every argument, writing nothing; then
// perform. So a failing call leaves no partial effect, and that can be seen by reading it.
// Results go back in RAX (and RDX); errors are negative. No handler allocates kernel heap
// memory (issue #7): buffers are static, text is written piece by piece.
using System;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Core.Exo;
using Aegis.Kernel.Diagnostics;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe partial class SystemCalls
    {
        private static readonly byte[] s_consoleBuffer = new byte[SystemCallLimits.MaximumConsoleWrite];

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_symbol_syscall_fast")]
        private static extern ulong* FastTable();

        /// <summary>One system call: its handler, and whether that handler needs the full register
        /// frame. A handler that needs it (it blocks, switches, ends the caller or returns two
        /// results) takes (caller, frame); the others take the six argument registers (System V
        /// order: RDI, RSI, RDX, R10, R8, R9) and are called directly by the entry stub, skipping
        /// the frame (the fast path, docs/kernel.md).</summary>
        private struct Entry
        {
            public delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong> Direct;
            public delegate*<Environment, InterruptFrame*, ulong> WithFrame;
        }

        [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "aegis_symbol_syscall_redirect")]
        private static extern ulong RedirectStub();

        /// <summary>The one table of system calls, by number - SystemCallNumbers.First (Aegis.Abi.SystemCall).</summary>
        private static readonly Entry[] s_table = new Entry[(int)(SystemCallNumbers.End - SystemCallNumbers.First)];

        private static void Define(SystemCall number, delegate*<ulong, ulong, ulong, ulong, ulong, ulong, ulong> handler)
        {
            int index = (int)((ulong)number - SystemCallNumbers.First);
            KernelAssert.That(s_table[index].Direct == null && s_table[index].WithFrame == null, "a system call is defined twice");
            s_table[index].Direct = handler;
        }

        private static void DefineWithFrame(SystemCall number, delegate*<Environment, InterruptFrame*, ulong> handler)
        {
            int index = (int)((ulong)number - SystemCallNumbers.First);
            KernelAssert.That(s_table[index].Direct == null && s_table[index].WithFrame == null, "a system call is defined twice");
            s_table[index].WithFrame = handler;
        }

        /// <summary>Fills the table (every number once) and hands the entry stub the handlers that
        /// need no frame (Arch/x86_64/usermode.S, aegis_syscall_fast, [0, SYSTEM_CALL_END); 0 there
        /// means "build the frame"). Every number below SystemCallNumbers.First gets
        /// aegis_syscall_redirect: the system-call upcall (SystemCallUpcalls), or NoSuchCall when off.</summary>
        public static void Initialize()
        {
            // Console and diagnostics (this file)
            Define(SystemCall.Null, &Null);
            Define(SystemCall.ConsoleWrite, &ConsoleWrite);
            Define(SystemCall.Debug, &Debug);
            // Memory (SystemCalls.Memory.cs)
            Define(SystemCall.FrameAllocate, &FrameAllocate);
            Define(SystemCall.FrameFree, &FrameFree);
            Define(SystemCall.FrameGrant, &FrameGrant);
            Define(SystemCall.PageMap, &PageMap);
            Define(SystemCall.PageProtect, &PageProtect);
            Define(SystemCall.PageQuery, &PageQuery);
            Define(SystemCall.PageClean, &PageClean);
            // Environments and time (SystemCalls.Environments.cs)
            DefineWithFrame(SystemCall.Exit, &Exit);
            DefineWithFrame(SystemCall.Yield, &Yield);
            DefineWithFrame(SystemCall.Wait, &Wait);
            Define(SystemCall.EnvironmentCreate, &EnvironmentCreate);
            Define(SystemCall.ImageSpawn, &ImageSpawn);
            DefineWithFrame(SystemCall.EnvironmentDestroy, &EnvironmentDestroy);
            Define(SystemCall.EnvironmentStart, &EnvironmentStart);
            DefineWithFrame(SystemCall.EnvironmentStop, &EnvironmentStop);
            Define(SystemCall.EnvironmentSetUpcall, &EnvironmentSetUpcall);
            DefineWithFrame(SystemCall.EnvironmentStatus, &EnvironmentStatus);
            Define(SystemCall.SetFsBase, &SetFsBase);
            Define(SystemCall.SliceAllocate, &SliceAllocate);
            Define(SystemCall.SliceFree, &SliceFree);
            // Capabilities (SystemCalls.Capabilities.cs)
            Define(SystemCall.CapabilityCopy, &CapabilityCopy);
            DefineWithFrame(SystemCall.CapabilityQuery, &CapabilityQuery);
            // IPC (SystemCalls.Ipc.cs)
            DefineWithFrame(SystemCall.IpcCall, &IpcCall);
            DefineWithFrame(SystemCall.IpcReply, &IpcReply);
            DefineWithFrame(SystemCall.IpcSend, &IpcSend);
            // Revocation (SystemCalls.Revocation.cs)
            Define(SystemCall.RevokeFrames, &RevokeFrames);
            // System-call upcalls (SystemCallUpcalls.cs)
            Define(SystemCall.SetSystemCallUpcall, &SystemCallUpcalls.SetSystemCallUpcall);
            // Devices (SystemCalls.Devices.cs, issue #9)
            Define(SystemCall.InputRead, &InputRead);
            Define(SystemCall.InputWatch, &InputWatch);
            Define(SystemCall.DeviceMap, &DeviceMap);
            // Notifications (Exo/Notifications.cs, issue #9)
            Define(SystemCall.NotifyControl, &NotifyControl);
            DefineWithFrame(SystemCall.WaitUntil, &WaitUntil);
            Define(SystemCall.InputPeek, &InputPeek);
            Define(SystemCall.PageShare, &PageShare);
            Define(SystemCall.PageInherit, &PageInherit);
            Define(SystemCall.CopyOnWriteMark, &CopyOnWriteMark);
            Define(SystemCall.PageAllocate, &PageAllocate);
            Define(SystemCall.PageAlias, &PageAlias);
            Define(SystemCall.BlockInfo, &BlockInfoCall);
            Define(SystemCall.ExtentOpen, &ExtentOpen);
            Define(SystemCall.ExtentAllocate, &ExtentAllocate);
            Define(SystemCall.ExtentFree, &ExtentFree);
            Define(SystemCall.ExtentRestrict, &ExtentRestrict);
            Define(SystemCall.BlockSubmit, &BlockSubmit);
            Define(SystemCall.BlockComplete, &BlockComplete);
            // Networks (SystemCalls.Network.cs, issue #12)
            Define(SystemCall.NicInfo, &NicInfoCall);
            Define(SystemCall.NicAttach, &NicAttach);
            DefineWithFrame(SystemCall.NicFilterInstall, &NicFilterInstall);
            Define(SystemCall.NicFilterRemove, &NicFilterRemove);
            Define(SystemCall.NicSend, &NicSend);
            Define(SystemCall.NicRestrict, &NicRestrict);
            DefineWithFrame(SystemCall.NicFilterDelegate, &NicFilterDelegate);
            // Ends (SystemCalls.Environments.cs, issue #12)
            Define(SystemCall.EnvironmentAlive, &EnvironmentAlive);

            ulong* fast = FastTable();
            ulong redirect = RedirectStub();
            for (ulong number = 0; number < SystemCallNumbers.First; number++)
                fast[number] = redirect;
            for (int index = 0; index < s_table.Length; index++)
            {
                KernelAssert.That(s_table[index].Direct != null || s_table[index].WithFrame != null, "a system call number has no handler");
                fast[SystemCallNumbers.First + (ulong)index] = (ulong)s_table[index].Direct;
            }
        }

        /// <summary>The slow path: the entry stub built the full register frame (a handler that needs
        /// it, or a number at or past SystemCallNumbers.End: a system-call upcall when the caller
        /// turned them on, else NoSuchCall). Numbers below First never come here (the fast table
        /// sends them all to aegis_syscall_redirect).</summary>
        [UnmanagedCallersOnly(EntryPoint = "aegis_syscall_dispatch")]
        private static void Dispatch(InterruptFrame* frame)
        {
            Environment caller = Scheduler.Current;
            caller.Counters[0]++;
            ulong index = frame->Rax - SystemCallNumbers.First;
            ulong result;
            if (index >= (ulong)s_table.Length)
            {
                if (caller.Counters[Environment.CountersSystemCallUpcallFrame] != 0)
                {
                    SystemCallUpcalls.DeliverSlow(caller, frame); // the frame now enters the libOS
                    return;
                }
                result = Fail(Error.NoSuchCall);
            }
            else if (s_table[(int)index].WithFrame != null)
                result = s_table[(int)index].WithFrame(caller, frame);
            else
                result = s_table[(int)index].Direct(frame->Rdi, frame->Rsi, frame->Rdx, frame->R10, frame->R8, frame->R9);
            frame->Rax = result;
            if ((long)result < 0)
                caller.Counters[1]++;
        }

        /// <summary>crash=syscall-throw: the ConsoleWrite handler throws (and nothing catches it).</summary>
        internal static bool ThrowInConsoleWrite;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static void ThrowDeliberately() => throw new System.InvalidOperationException("deliberate exception in a system-call handler (crash=syscall-throw)");

        private static ulong Ok(ulong value = 0) => value;
        private static ulong Fail(Error error) => unchecked((ulong)(long)error);
        private static ulong ErrorResult(Error error) => error == Error.None ? Ok() : Fail(error);

        private static ulong Null(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => 0;

        private static ulong ConsoleWrite(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => ConsoleWrite(Scheduler.Current, a0, a1, a2);

        private static ulong Debug(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5) => Debug(Scheduler.Current, a0);

        private static ulong Debug(Environment caller, ulong value)
        {
            // Written piece by piece: no string is built (an app can call this in a loop).
            KernelLog.Write("aegis: debug from ");
            LogText.WriteEnvironment(caller);
            KernelLog.Write(": value ");
            LogText.WriteDecimal(value);
            KernelLog.Write("; it owns ");
            LogText.WriteDecimal(Environments.Ledger.CountOwnedBy(caller.Id));
            KernelLog.Write(" frames; its account is charged ");
            LogText.WriteDecimal(caller.Account == null ? 0 : caller.Account.FramesCharged);
            KernelLog.Write(" of ");
            LogText.WriteDecimal(caller.Account == null ? 0 : caller.Account.Limit.Frames);
            KernelLog.Write("; ");
            LogText.WriteDecimal(KernelMemory.Frames.FreeFrames);
            KernelLog.WriteLine(" free");
            return Ok();
        }

        /// <summary>The environment a slot names: Self (slot 0) or an Environment capability.</summary>
        // Inlined into the hot mapping calls (PageProtect, PageClean): measured +15 instructions a call when ILC stopped inlining it.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Error ResolveEnvironment(Environment caller, ulong slot, out Environment target)
        {
            target = null;
            if (slot == CapabilitySlots.Self)
            {
                target = caller;
                return Error.None;
            }
            Error error = caller.Capabilities.Lookup(slot, CapabilityKind.Environment, out ulong id);
            if (error != Error.None)
                return error;
            target = Environments.Find(id);
            return target == null ? Error.BadEnvironment : Error.None;
        }

        /// <summary>Like write(2): takes as many bytes as the kernel's console buffer has room for and
        /// returns the count (a short write when it fills up); WouldBlock when it is full. The timer
        /// tick writes the buffer out (KernelLog); the call itself only copies.</summary>
        private static ulong ConsoleWrite(Environment caller, ulong slot, ulong address, ulong length)
        {
            if (ThrowInConsoleWrite) ThrowDeliberately();
            Error error = caller.Capabilities.Lookup(slot, CapabilityKind.Console, out _);
            if (error != Error.None) return Fail(error);
            if (length > SystemCallLimits.MaximumConsoleWrite) return Fail(Error.InvalidArgument);
            if (!UserMemory.IsUserRange(address, length)) return Fail(Error.BadAddress);
            if (length == 0) return Ok(0);
            int room = KernelLog.BufferBytes - KernelLog.Pending;
            if (room == 0) return Fail(Error.WouldBlock);
            if ((ulong)room < length) length = (ulong)room;
            // Static buffer: system calls never allocate (the kernel never collects on their path, so
            // an app could otherwise grow the kernel heap at will; docs/kernel.md).
            Span<byte> buffer = new Span<byte>(s_consoleBuffer, 0, (int)length);
            if (!UserMemory.TryRead(caller, address, buffer)) return Fail(Error.BadAddress);
            // UTF-8 text passes; control bytes (terminal escapes, carriage returns that could
            // overwrite the kernel's lines, C1 controls, bidirectional overrides) and ill-formed
            // sequences print as '?' (Core/ConsoleText.cs). A character may span two calls.
            Core.Utf8ConsoleFilter filterBefore = caller.ConsoleFilter;
            caller.ConsoleFilter.Filter(buffer);
            // Line by line: each line it starts on the console gets the kernel's prefix first
            // (ConsoleOutput), so its output can never read as the kernel's own.
            int taken = 0;
            fixed (byte* bytes = s_consoleBuffer)
            {
                while (taken < (int)length)
                {
                    int end = taken;
                    while (end < (int)length && bytes[end] != (byte)'\n') end++;
                    if (end < (int)length) end++; // the newline belongs to its line
                    if (KernelLog.AtLineStart)
                        ConsoleOutput.WritePrefix(caller);
                    int line = end - taken;
                    int part = KernelLog.WriteFromEnvironment(bytes + taken, line);
                    taken += part;
                    if (part < line) break; // the buffer is full: a short write
                }
            }
            if (taken < (int)length)
            {
                // A short write: the filter's state must describe the bytes taken (the caller sends
                // the rest again), also when the cut falls inside a character.
                caller.ConsoleFilter = filterBefore;
                caller.ConsoleFilter.Filter(buffer.Slice(0, taken));
            }
            if (taken == 0) return Fail(Error.WouldBlock);
            for (int i = 0; i < taken; i++)
                caller.RecordOutput((char)buffer[i]);
            length = (ulong)taken;
            caller.ConsoleBytesAccepted += length;
            return Ok(length);
        }
    }
}
