// PCI configuration mechanism #1: the address of a configuration dword goes to port 0xCF8
// (bit 31 enable, bus in bits 16..23, device 11..15, function 8..10, register 2..7), the dword
// itself is read or written at port 0xCFC. The pair is not atomic: callers run with interrupts
// off (the boot scan does), so no other access can come between the two ports.
using Aegis.Kernel.Core.Pci;

namespace Aegis.Kernel.Hal
{
    internal sealed class PciConfigurationPorts : IPciConfigurationSpace
    {
        private const ushort AddressPort = 0xCF8, DataPort = 0xCFC;
        private const uint Enable = 0x8000_0000;

        /// <summary>True when the host bridge answers on mechanism #1: the address port keeps what is
        /// written to it (the check Linux's pci_check_type1 makes). The port's value is restored.</summary>
        public static bool Present()
        {
            uint saved = Cpu.InDword(AddressPort);
            Cpu.OutDword(AddressPort, Enable);
            bool present = Cpu.InDword(AddressPort) == Enable;
            Cpu.OutDword(AddressPort, saved);
            return present;
        }

        private static uint Address(int bus, int device, int function, int offset)
            => Enable | (uint)(bus & 0xFF) << 16 | (uint)(device & 0x1F) << 11 | (uint)(function & 0x7) << 8 | (uint)(offset & 0xFC);

        public uint Read(int bus, int device, int function, int offset)
        {
            Cpu.OutDword(AddressPort, Address(bus, device, function, offset));
            return Cpu.InDword(DataPort);
        }

        public void Write(int bus, int device, int function, int offset, uint value)
        {
            Cpu.OutDword(AddressPort, Address(bus, device, function, offset));
            Cpu.OutDword(DataPort, value);
        }
    }
}
