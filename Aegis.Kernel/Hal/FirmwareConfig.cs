// QEMU's firmware configuration device (fw_cfg, I/O ports 0x510 selector / 0x511 data).
// The front door passes kernel arguments as the fw_cfg file "opt/aegis/cmdline", because
// GRUB's menu on the ISO is fixed. On machines without the device (real hardware, VMware)
// the signature check fails and nothing is read.
namespace Aegis.Kernel.Hal
{
    internal static class FirmwareConfig
    {
        private const ushort SelectorPort = 0x510;
        private const ushort DataPort = 0x511;
        private const ushort SignatureKey = 0x0000;
        private const ushort FileDirectoryKey = 0x0019;
        private const int MaximumFileSize = 4096;

        public static bool IsPresent()
        {
            Cpu.OutWord(SelectorPort, SignatureKey);
            return Cpu.InByte(DataPort) == (byte)'Q' && Cpu.InByte(DataPort) == (byte)'E'
                && Cpu.InByte(DataPort) == (byte)'M' && Cpu.InByte(DataPort) == (byte)'U';
        }

        /// <summary>The text of the named fw_cfg file, or null when absent (or too large to be arguments).</summary>
        public static string ReadTextFile(string name)
        {
            if (!IsPresent())
                return null;
            Cpu.OutWord(SelectorPort, FileDirectoryKey);
            uint count = ReadBigEndian32();
            if (count > 4096)
                return null;
            for (uint i = 0; i < count; i++)
            {
                uint size = ReadBigEndian32();
                ushort key = (ushort)((Cpu.InByte(DataPort) << 8) | Cpu.InByte(DataPort));
                Cpu.InByte(DataPort);
                Cpu.InByte(DataPort);
                char[] fileName = new char[56];
                int length = 0;
                for (int j = 0; j < 56; j++)
                {
                    byte c = Cpu.InByte(DataPort);
                    if (c != 0 && length == j)
                        fileName[length++] = (char)c;
                }
                if (new string(fileName, 0, length) != name)
                    continue;
                if (size > MaximumFileSize)
                    return null;
                Cpu.OutWord(SelectorPort, key);
                char[] text = new char[size];
                int used = 0;
                for (uint j = 0; j < size; j++)
                {
                    byte c = Cpu.InByte(DataPort);
                    if (c == 0) break;
                    text[used++] = (char)c;
                }
                return new string(text, 0, used);
            }
            return null;
        }

        private static uint ReadBigEndian32()
        {
            uint value = 0;
            for (int i = 0; i < 4; i++)
                value = (value << 8) | Cpu.InByte(DataPort);
            return value;
        }
    }
}
