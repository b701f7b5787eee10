// Console output through the environment's Console capability (a secure binding: the kernel
// checked the capability when it was granted; each write names the slot). Text is UTF-8,
// encoded in a stack buffer, so writing works anywhere: in upcall handlers, in the failure
// handler, and when the heap cannot grow. A line of up to ChunkBytes bytes, newline included,
// goes out in one system call, so lines of different environments do not interleave.
using Aegis.Abi;

namespace Aegis.LibOS
{
    public static unsafe class Console
    {
        private const int ChunkBytes = 512;

        /// <summary>The capability slot written through (the first environment finds its Console
        /// capability in CapabilitySlots.Console; a libOS that keeps it elsewhere changes this).</summary>
        public static ulong Slot { get; set; } = CapabilitySlots.Console;

        public static Error Write(string text) => WriteText(text, false);

        public static Error WriteLine(string text) => WriteText(text, true);

        public static Error WriteLine() => WriteText("", true);

        /// <summary>Writes raw bytes, as many system calls as needed.</summary>
        public static Error Write(byte* bytes, int length)
        {
            while (length > 0)
            {
                int chunk = length < SystemCallLimits.MaximumConsoleWrite ? length : SystemCallLimits.MaximumConsoleWrite;
                SystemCallResult result = SystemCalls.ConsoleWrite(Slot, bytes, (ulong)chunk);
                if (result.Error == Error.WouldBlock)
                {
                    // The kernel's console buffer is full: let it drain (a short write takes the rest).
                    SystemCalls.Yield();
                    continue;
                }
                if (result.IsError)
                    return result.Error;
                if (result.Value == 0 || result.Value > (ulong)chunk)
                    return Error.InvalidArgument;
                bytes += result.Value;
                length -= (int)result.Value;
            }
            return Error.None;
        }

        private static Error WriteText(string text, bool newline)
        {
            text ??= "";
            byte* buffer = stackalloc byte[ChunkBytes];
            int index = 0;
            while (true)
            {
                // Keep one byte free for the newline so a short line is a single write.
                int used = Utf8.Encode(text, ref index, buffer, ChunkBytes - 1);
                bool last = index >= text.Length;
                if (last && newline)
                    buffer[used++] = (byte)'\n';
                Error error = Write(buffer, used);
                if (error != Error.None || last)
                    return error;
            }
        }
    }
}
