// evilhello: a system call passed a kernel address gets an error, never data. It asks the kernel
// to write 100 bytes of its own code (0xFFFFFFFF80100000) to the console and prints the answer.
using Aegis.Abi;
using Aegis.LibOS;

namespace Aegis.Apps.EvilHello
{
    internal static class Program
    {
        private const ulong KernelAddress = 0xFFFF_FFFF_8010_0000;

        private static int Main()
        {
            SystemCallResult result = SystemCalls.ConsoleWrite(CapabilitySlots.Console, KernelAddress, 100);
            if (!result.IsError)
            {
                Console.WriteLine();
                Console.WriteLine("evilhello: FAIL: ConsoleWrite(kernel address) wrote " + result.Value.ToString() + " bytes of kernel memory");
                return 1;
            }
            Console.WriteLine("evilhello: ConsoleWrite(kernel address) = " + Errors.Name(result.Error));
            return 0;
        }
    }
}
