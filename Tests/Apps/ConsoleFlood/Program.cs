// console-flood: writes Writes console writes of the largest size (4 KiB) as fast as it can. The
// kernel must neither spin on the UART for a whole write with interrupts off nor lose output:
// ConsoleWrite takes what fits in the kernel's console buffer and returns the count (a short
// write), or WouldBlock when the buffer is full, and the app continues from where it stopped
// (yielding on WouldBlock), as write(2) callers do. It exits 0 when every byte was accepted.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.ConsoleFlood
{
    internal static unsafe class Program
    {
        private const int Writes = 12;
        private const int Size = SystemCallLimits.MaximumConsoleWrite;

        private static int Main()
        {
            byte* buffer = stackalloc byte[Size];
            const string Line = "console-flood: 0123456789abcdefghijklmnopqrstuvwxyz0123456789AB\n"; // 64 bytes: a write holds whole lines
            for (int i = 0; i < Size; i++)
                buffer[i] = (byte)Line[i % Line.Length];
            ulong accepted = 0, shortWrites = 0, blocked = 0;
            for (int write = 0; write < Writes; write++)
            {
                int offset = 0;
                while (offset < Size)
                {
                    SystemCallResult result = SystemCalls.ConsoleWrite(Console.Slot, buffer + offset, (ulong)(Size - offset));
                    if (result.Error == Error.WouldBlock)
                    {
                        blocked++;
                        SystemCalls.Yield();
                        continue;
                    }
                    if (result.IsError || result.Value == 0 || result.Value > (ulong)(Size - offset))
                    {
                        Console.WriteLine("console-flood: write failed: " + Errors.Name(result.Error));
                        return 1;
                    }
                    if (result.Value < (ulong)(Size - offset)) shortWrites++;
                    offset += (int)result.Value;
                    accepted += result.Value;
                }
            }
            Console.WriteLine("console-flood: " + accepted.ToString() + " bytes accepted; " + shortWrites.ToString()
                + " short writes, " + blocked.ToString() + " WouldBlock");
            return 0;
        }
    }
}
