// The managed entry point: called by Boot/boot.S in 64-bit mode on the kernel stack.
using System.Runtime.InteropServices;
using Aegis.Kernel.Hal;
using Internal.Runtime;

namespace Aegis.Kernel
{
    internal static unsafe class KernelMain
    {
        [UnmanagedCallersOnly(EntryPoint = "aegis_kernel_main")]
        private static void Main(uint multibootMagic, ulong multibootInfoPhysical)
        {
            SerialPort.Initialize();
            VgaTextScreen.Clear();
            StartRuntime();
            KernelLog.WriteLine("Aegis: managed runtime started");
            QemuExit.Exit(QemuExit.Success);
        }

        /// <summary>Gives the runtime its first heap region (in .bss) and runs the module start-up.
        /// Nothing before this may touch a static field of reference type.</summary>
        private static void StartRuntime()
        {
            byte* heapStart = LinkerSymbols.EarlyHeapStart();
            RuntimeHost.AddHeapRegion((nint)heapStart, (nuint)(LinkerSymbols.EarlyHeapEnd() - heapStart));
            string error = RuntimeHost.InitializeModules(LinkerSymbols.ModulesStart(), LinkerSymbols.ModulesEnd());
            if (error != null)
            {
                KernelLog.WriteLine("Aegis: the kernel image is broken: " + error);
                QemuExit.Exit(QemuExit.Panic);
            }
        }
    }
}
