// The managed entry point: called by Boot/boot.S in 64-bit mode on the kernel stack.
using System.Runtime.InteropServices;
using Aegis.Kernel.Hal;

namespace Aegis.Kernel
{
    internal static unsafe class KernelMain
    {
        [UnmanagedCallersOnly(EntryPoint = "aegis_kernel_main")]
        private static void Main(uint multibootMagic, ulong multibootInfoPhysical)
        {
            SerialPort.Initialize();
            string text = "Aegis says hello\n";
            for (int i = 0; i < text.Length; i++)
                SerialPort.Write((byte)text[i]);
            Cpu.HaltForever();
        }
    }
}
