// Crash reports for apps, as good as the kernel's own panic reports: the exception's name, the
// cause, and a stack trace symbolized with the app's own symbol file (the boot module
// the entry NAME of the module "app-symbols", see BootImages). The kernel writes them, not the app:
//   - when the kernel ends an environment for a CPU exception it cannot deliver (no upcall
//     entry, or the upcall could not be written): Scheduler.OnUserException calls FromFault;
//   - when LibOS.Base ends its environment for a failure nothing handled: it calls
//     Exit(status, crash) (docs/abi.md) with crash = the address of the exception's UpcallFrame,
//     or ExitCrash.ManagedException for a throw; SystemCalls calls FromExit.
// The exception is named from the kernel's own record of the environment's last fault
// (Environment.LastFault*), never from what the app wrote; only the registers to start the
// stack walk from come from the app's frame (a lying app can only spoil its own stack trace).
// Names: a page fault below NullRegionEnd is System.NullReferenceException; a page fault in the
// StackGuardPages below the initial stack is a stack overflow.
//
// Invariants: nothing here allocates (an app can crash as often as it likes: every line is
// written from spans and stack buffers); the app's memory is read only through UserMemory; the
// work is bounded (at most MaximumWalk frames walked and MaximumWordsRead stack words read,
// MaximumPrinted frames printed, each symbolized by two scans of the app's symbol file; a
// repeated frame is looked up once).
using System;
using Aegis.Abi;
using Aegis.Kernel.Core;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel.Exo
{
    internal static unsafe class AppCrashReport
    {
        /// <summary>Faults below 64 KiB are null dereferences (as for the kernel, Diagnostics/Panic.cs).</summary>
        public const ulong NullRegionEnd = 0x10000;
        /// <summary>The unmapped pages below the initial stack (nothing maps them: LibOS.Base's
        /// ranges end far lower) that a runaway recursion runs into.</summary>
        public const int StackGuardPages = 16;
        private const int MaximumWalk = 16384;
        private const int MaximumPrinted = 24;
        private const int NameRoom = 200;
        /// <summary>How far above the stack pointer a frame's return address is looked for.</summary>
        private const int ScanWords = 64;
        /// <summary>Stack words one report's scan reads at most (a recursion costs one or two per frame).</summary>
        private const int MaximumWordsRead = 65536;

        public static ulong StackBottom => UserAddresses.InitialStackTop - (ulong)UserAddresses.InitialStackPages * UserAddresses.PageSize;
        public static ulong StackGuardBottom => StackBottom - (ulong)StackGuardPages * UserAddresses.PageSize;

        /// <summary>The kernel ends environment for a CPU exception it could not hand to the libOS.</summary>
        public static void FromFault(Environment environment, ulong vector, ulong faultAddress, ulong errorCode, ulong rip, ulong rsp, ulong rbp)
        {
            WriteHeadline(environment, vector, faultAddress);
            WriteCause(vector, faultAddress, errorCode, rip, "the kernel ends it");
            WriteStack(environment, rip, rsp, rbp);
        }

        /// <summary>Exit(status, crash, methodTable): crash 0 is a normal exit (nothing printed).</summary>
        public static void FromExit(Environment environment, InterruptFrame* frame, ulong crash, ulong methodTable)
        {
            if (crash == ExitCrash.None)
                return;
            if (crash == ExitCrash.ManagedException)
            {
                WritePrefix(environment);
                WriteTypeName(environment, methodTable);
                KernelLog.WriteLine(" (an unhandled managed exception; its message is in the app's line above)");
                // The walk starts at the system call, in the libOS's failure handler.
                WriteStack(environment, frame->Rip, frame->Rsp, frame->Rbp);
                return;
            }
            UpcallFrame upcall;
            if (!UserMemory.TryRead(environment, crash, new Span<byte>(&upcall, sizeof(UpcallFrame))) || upcall.Kind != UpcallKind.Exception)
            {
                WritePrefix(environment);
                KernelLog.Write("exited reporting a crash, but 0x");
                WriteHex(crash);
                KernelLog.WriteLine(" is not an exception's upcall frame it can read; no stack trace");
                return;
            }
            if (environment.LastFaultVector >= 32 || environment.ExceptionUpcalls[environment.LastFaultVector] == 0)
            {
                WritePrefix(environment);
                KernelLog.WriteLine("exited reporting a CPU exception, but the kernel delivered none to it; no report");
                return;
            }
            // Named from the kernel's own record of the last fault; the frame only starts the walk.
            WriteHeadline(environment, environment.LastFaultVector, environment.LastFaultAddress);
            WriteCause(environment.LastFaultVector, environment.LastFaultAddress, environment.LastFaultErrorCode, upcall.Registers.Rip,
                "nothing in the app handled it");
            WriteStack(environment, upcall.Registers.Rip, upcall.Registers.Rsp, upcall.Registers.Rbp);
        }

        /// <summary>The exception's type, looked up by its MethodTable in the image's T records
        /// (the kernel does not take a name from the app).</summary>
        private static void WriteTypeName(Environment environment, ulong methodTable)
        {
            if (methodTable != 0 && FindSymbols(environment, out ReadOnlySpan<byte> symbols)
                && SymbolTable.TryFindTypeName(symbols, methodTable, out int offset, out int length))
            {
                char* name = stackalloc char[NameRoom];
                int written = SymbolTable.FormatTypeName(symbols.Slice(offset, length), new Span<char>(name, NameRoom), SymbolImageName(environment));
                for (int i = 0; i < written; i++) KernelLog.Write(name[i]);
                return;
            }
            KernelLog.Write("an exception of unknown type (MethodTable 0x");
            WriteHex(methodTable);
            KernelLog.Write(")");
        }

        private static void WritePrefix(Environment environment)
        {
            KernelLog.Write("aegis: crash of ");
            KernelLog.Write(environment.Name ?? "?");
            KernelLog.Write(" (environment ");
            WriteHex(environment.Id);
            KernelLog.Write("): ");
        }

        private static void WriteHeadline(Environment environment, ulong vector, ulong faultAddress)
        {
            WritePrefix(environment);
            if (vector == InterruptDescriptorTable.PageFault && faultAddress < NullRegionEnd)
                KernelLog.WriteLine("System.NullReferenceException: Object reference not set to an instance of an object.");
            else if (vector == InterruptDescriptorTable.PageFault && faultAddress >= StackGuardBottom && faultAddress < StackBottom)
            {
                KernelLog.Write("stack overflow (the stack ran into its guard page at 0x");
                WriteHex(faultAddress);
                KernelLog.WriteLine(")");
            }
            else if (vector == InterruptDescriptorTable.DivideError)
                KernelLog.WriteLine("System.DivideByZeroException: Attempted to divide by zero.");
            else
            {
                KernelLog.Write("CPU exception: ");
                KernelLog.WriteLine(InterruptDescriptorTable.ExceptionName(vector));
            }
        }

        private static void WriteCause(ulong vector, ulong faultAddress, ulong errorCode, ulong rip, string ending)
        {
            KernelLog.Write("aegis:   cause: ");
            KernelLog.Write(InterruptDescriptorTable.ExceptionName(vector));
            if (vector == InterruptDescriptorTable.PageFault)
            {
                KernelLog.Write((errorCode & 2) != 0 ? " writing 0x" : (errorCode & 16) != 0 ? " executing 0x" : " reading 0x");
                WriteHex(faultAddress);
                KernelLog.Write((errorCode & 1) != 0 ? " (protection)" : " (not mapped)");
            }
            else if (errorCode != 0)
            {
                KernelLog.Write(", error code 0x");
                WriteHex(errorCode);
            }
            KernelLog.Write(" at rip 0x");
            WriteHex(rip);
            KernelLog.Write("; ");
            KernelLog.WriteLine(ending);
        }

        /// <summary>Walks the app's stack from (rip, rsp). ILC omits the frame pointer in small
        /// methods, so each step looks, a few words above the stack pointer, for the return address
        /// of a direct call (E8 rel32) to the current function: that word is the caller's call
        /// site, and the stack above it is the caller's. When no such word is found (an indirect
        /// call), the rest comes from the RBP chain, as for the kernel (Diagnostics/Panic.cs).
        /// Deep recursion prints its frame once, with a count.</summary>
        private static void WriteStack(Environment environment, ulong rip, ulong rsp, ulong rbp)
        {
            bool haveSymbols = FindSymbols(environment, out ReadOnlySpan<byte> symbols);
            string image = SymbolImageName(environment);
            KernelLog.Write("aegis:   stack trace");
            if (haveSymbols)
            {
                KernelLog.Write(" (symbols: ");
                KernelLog.Write(image);
                KernelLog.WriteLine(".sym)");
            }
            else
                KernelLog.WriteLine(" (no symbol file for this image: addresses only)");

            Walk walk = default;
            walk.Image = image;
            walk.WordsLeft = MaximumWordsRead;
            WriteFrame(symbols, rip, image);
            walk.Printed = 1;
            ulong pc = rip, sp = rsp;
            ulong cachedPc = ulong.MaxValue, cachedStart = 0;
            while (haveSymbols && walk.Steps < MaximumWalk && !walk.Stopped)
            {
                ulong start;
                if (pc == cachedPc)
                    start = cachedStart;
                else if (SymbolTable.TryFindFunctionName(symbols, pc, out _, out _, out start))
                {
                    cachedPc = pc;
                    cachedStart = start;
                }
                else
                    break;
                if (!FindReturnAddress(environment, sp, start, ref walk.WordsLeft, out ulong slot, out ulong returnAddress))
                    break;
                Emit(ref walk, symbols, returnAddress - 1);
                pc = returnAddress;
                sp = slot + 8;
            }
            // The RBP chain for what the scan could not follow (frames below sp are done).
            for (int i = 0; i < MaximumWalk && walk.Steps < MaximumWalk && !walk.Stopped && rbp != 0 && (rbp & 7) == 0; i++)
            {
                if (!UserMemory.TryReadUInt64(environment, rbp + 8, out ulong returnAddress) || returnAddress == 0)
                    break;
                if (rbp + 8 >= sp)
                    Emit(ref walk, symbols, returnAddress - 1);
                if (!UserMemory.TryReadUInt64(environment, rbp, out ulong next) || next <= rbp)
                    break;
                rbp = next;
            }
            FlushRepeats(walk.Repeats);
        }

        private struct Walk
        {
            public string Image;
            public ulong Previous;
            public int Repeats;
            public int Printed;
            public int Steps;
            public bool Stopped;
            /// <summary>Stack words the scan may still read (a crafted stack cannot make the
            /// report long: with interrupts off, its work must stay bounded).</summary>
            public int WordsLeft;
        }

        private static void Emit(ref Walk walk, ReadOnlySpan<byte> symbols, ulong callSite)
        {
            walk.Steps++;
            if (callSite == walk.Previous)
            {
                walk.Repeats++;
                return;
            }
            FlushRepeats(walk.Repeats);
            walk.Repeats = 0;
            walk.Previous = callSite;
            if (walk.Printed == MaximumPrinted)
            {
                KernelLog.WriteLine("aegis:     ... (more frames not shown)");
                walk.Stopped = true;
                return;
            }
            WriteFrame(symbols, callSite, walk.Image);
            walk.Printed++;
        }

        /// <summary>The first of ScanWords words from sp up that holds the return address of a
        /// direct call to functionStart.</summary>
        private static bool FindReturnAddress(Environment environment, ulong sp, ulong functionStart, ref int wordsLeft, out ulong slot, out ulong returnAddress)
        {
            byte* call = stackalloc byte[5];
            for (int i = 0; i < ScanWords && wordsLeft > 0; i++, wordsLeft--)
            {
                slot = sp + (ulong)i * 8;
                if (!UserMemory.TryReadUInt64(environment, slot, out returnAddress))
                    break;
                if (returnAddress < 5 || !UserMemory.IsUserRange(returnAddress - 5, 5))
                    continue;
                if (!UserMemory.TryRead(environment, returnAddress - 5, new Span<byte>(call, 5)) || call[0] != 0xE8)
                    continue;
                int displacement = call[1] | (call[2] << 8) | (call[3] << 16) | (call[4] << 24);
                if (returnAddress + (ulong)(long)displacement == functionStart)
                    return true;
            }
            slot = 0;
            returnAddress = 0;
            return false;
        }

        private static void FlushRepeats(int repeats)
        {
            if (repeats == 0) return;
            KernelLog.Write("aegis:     ... the frame above repeated ");
            WriteDecimal((ulong)repeats);
            KernelLog.WriteLine(" more times");
        }

        private static void WriteFrame(ReadOnlySpan<byte> symbols, ulong address, string image)
        {
            KernelLog.Write("aegis:     at ");
            if (symbols.Length > 0 && SymbolTable.TryFindFunctionName(symbols, address, out int nameOffset, out int nameLength, out ulong start))
            {
                char* name = stackalloc char[NameRoom];
                int length = SymbolTable.FormatFunctionName(symbols.Slice(nameOffset, nameLength), new Span<char>(name, NameRoom), image);
                for (int i = 0; i < length; i++) KernelLog.Write(name[i]);
                if (SymbolTable.TryFindLineName(symbols, address, out int fileOffset, out int fileLength, out int line))
                {
                    KernelLog.Write(" (");
                    ReadOnlySpan<byte> file = symbols.Slice(fileOffset, fileLength);
                    int slash = SymbolTable.LastIndex(file, (byte)'/');
                    WriteAscii(slash < 0 ? file : file.Slice(slash + 1));
                    KernelLog.Write(':');
                    WriteDecimal((ulong)line);
                    KernelLog.Write(')');
                }
                else
                {
                    KernelLog.Write("+0x");
                    WriteHex(address - start);
                }
            }
            else
                KernelLog.Write('?');
            KernelLog.Write(" [0x");
            WriteHex(address);
            KernelLog.WriteLine("]");
        }

        /// <summary>The image's symbols; a child made by EnvironmentCreate has no image of its own
        /// and runs its creator's code (a fork), so the nearest named ancestor's are used.</summary>
        private static bool FindSymbols(Environment environment, out ReadOnlySpan<byte> symbols)
        {
            symbols = default;
            string name = SymbolImageName(environment);
            return name != null && BootImages.TryGetSymbols(name, out symbols);
        }

        private static string SymbolImageName(Environment environment)
        {
            Environment current = environment;
            for (int depth = 0; depth < 8 && current != null; depth++)
            {
                if (current.Name != null) return current.Name;
                current = current.ParentId == 0 ? null : Environments.Find(current.ParentId);
            }
            return null;
        }

        private static void WriteAscii(ReadOnlySpan<byte> text)
        {
            for (int i = 0; i < text.Length; i++)
                KernelLog.Write(text[i] >= 0x20 && text[i] < 0x7F ? (char)text[i] : '?');
        }

        private static void WriteHex(ulong value)
        {
            int shift = 60;
            while (shift > 0 && ((value >> shift) & 0xF) == 0) shift -= 4;
            for (; shift >= 0; shift -= 4)
            {
                int digit = (int)((value >> shift) & 0xF);
                KernelLog.Write((char)(digit < 10 ? '0' + digit : 'a' + digit - 10));
            }
        }

        private static void WriteDecimal(ulong value)
        {
            char* digits = stackalloc char[20];
            int count = 0;
            do
            {
                digits[count++] = (char)('0' + (int)(value % 10));
                value /= 10;
            } while (value != 0);
            while (count > 0) KernelLog.Write(digits[--count]);
        }
    }
}
