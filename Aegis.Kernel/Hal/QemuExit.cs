// Ends the virtual machine with a status the host sees (QEMU's isa-debug-exit device at
// I/O port 0xF4: QEMU exits with (status << 1) | 1; ./aegis turns that back into 'status').
// On a machine without the device the write does nothing and the caller halts instead.
namespace Aegis.Kernel.Hal
{
    public static class QemuExit
    {
        public const int Success = 0;
        public const int TestFailure = 1;
        public const int InitFailed = 2;
        /// <summary>The boot loader could not start the kernel (written by grub.cfg's fallback entry).</summary>
        public const int BootFailed = 3;
        /// <summary>With the 'exit' argument: init ended with a status of 99 or more, or was destroyed;
        /// the full status is in the last "AEGIS-EXIT " line (KernelMain.ExitWithInitStatus).</summary>
        public const int InitFailedLate = 99;
        /// <summary>Starts the kernel's last line with the 'exit' argument: "AEGIS-EXIT 255", "AEGIS-EXIT destroyed".</summary>
        public const string StatusLinePrefix = "AEGIS-EXIT ";
        public const int Panic = 100;

        public static void Exit(int status)
        {
            KernelLog.Flush(); // environments' output still in the console buffer goes out first
            Cpu.OutDword(0xF4, (uint)status);
            Cpu.HaltForever();
        }
    }
}
