// IPciConfigurationSpace: how the PCI scan reads and writes configuration space, one aligned dword
// at a time. The kernel implements it with configuration mechanism #1 (Hal/PciConfigurationPorts.cs,
// ports 0xCF8/0xCFC); host tests with a fake bus of functions (Aegis.Tests/Host/FakePciBus.cs).
namespace Aegis.Kernel.Core.Pci
{
    public interface IPciConfigurationSpace
    {
        /// <summary>The dword at offset (a multiple of 4, below 256) of bus:device.function; 0xFFFFFFFF
        /// where no function answers.</summary>
        uint Read(int bus, int device, int function, int offset);

        void Write(int bus, int device, int function, int offset, uint value);
    }
}
