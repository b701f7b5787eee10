// BootModule: a file the boot loader loaded next to the kernel (multiboot2 tag type 3),
// occupying physical memory [Start, End).
// Invariant (for modules made by Multiboot2Info): End >= Start.
namespace Aegis.Kernel.Core
{
    public readonly struct BootModule
    {
        public BootModule(uint start, uint end, string commandLine)
        {
            Start = start;
            End = end;
            CommandLine = commandLine;
        }

        public uint Start { get; }

        /// <summary>One past the last byte.</summary>
        public uint End { get; }

        /// <summary>The module's string from the boot loader (GRUB: its path and arguments).</summary>
        public string CommandLine { get; }

        public uint Length => End - Start;
    }
}
