// faultalloc: a page-fault handler maps memory on demand, including for faults taken inside the
// handler itself. The handler maps a fresh frame at the faulting page and writes
// "this string was faulted in at 0x<address>" at the faulting address. The second string starts
// two bytes before the end of a page, so writing it runs into the next (unmapped) page: that
// nested fault is handled on the upcall stack below the first, and the first handler completes.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.FaultAlloc
{
    internal static unsafe class Program
    {
        private const int RegionPages = 4;

        private static ulong s_regionStart;
        private static ulong s_regionEnd;
        private static int s_faults;
        private static int s_depth;
        private static int s_deepest;

        private static int Main()
        {
            s_regionStart = AddressSpace.Reserve(RegionPages);
            if (s_regionStart == 0)
            {
                Console.WriteLine("faultalloc: FAIL: no address range to use");
                return 1;
            }
            s_regionEnd = s_regionStart + RegionPages * Memory.PageSize;
            PageFaults.Register(OnPageFault);

            byte* first = (byte*)(s_regionStart + 0x123);
            byte* second = (byte*)(s_regionStart + 3 * Memory.PageSize - 2);
            Console.WriteLine("faultalloc: " + ReadString(first));
            Console.WriteLine("faultalloc: " + ReadString(second));

            string expectedFirst = Message((ulong)first);
            string expectedSecond = Message((ulong)second);
            if (ReadString(first) != expectedFirst || ReadString(second) != expectedSecond || s_faults != 3 || s_deepest != 2)
            {
                Console.WriteLine("faultalloc: FAIL: " + s_faults.ToString() + " faults, nested " + s_deepest.ToString()
                    + " deep; expected 3 faults, nested 2 deep, and the two strings above");
                return 1;
            }
            Console.WriteLine("faultalloc: 3 faults handled, one nested inside the handler");
            return 0;
        }

        private static string Message(ulong address) => "this string was faulted in at 0x" + address.ToString("x");

        private static bool OnPageFault(ref UpcallFrame frame)
        {
            ulong address = frame.FaultAddress;
            if (address < s_regionStart || address >= s_regionEnd)
                return false;
            s_faults++;
            s_depth++;
            if (s_depth > s_deepest)
                s_deepest = s_depth;
            Error error = Memory.AllocateAndMap(PageFaults.FaultPage(frame), 1, Memory.ReadWrite);
            if (error != Error.None)
            {
                Console.WriteLine("faultalloc: cannot map a frame at 0x" + PageFaults.FaultPage(frame).ToString("x") + ": " + Errors.Name(error));
                SystemCalls.Exit(1);
            }
            WriteString((byte*)address, Message(address));
            s_depth--;
            return true;
        }

        private static void WriteString(byte* destination, string text)
        {
            for (int i = 0; i < text.Length; i++)
                destination[i] = (byte)text[i];
            destination[text.Length] = 0;
        }

        private static string ReadString(byte* source)
        {
            int length = 0;
            while (source[length] != 0)
                length++;
            return new string((sbyte*)source, 0, length);
        }
    }
}
