// The legacy 8259 PIC pair, remapped so IRQ 0-15 arrive on vectors 32-47 (clear of the CPU
// exceptions). Only the lines the kernel handles are unmasked.
namespace Aegis.Kernel.Hal
{
    internal static class ProgrammableInterruptController
    {
        private const ushort MasterCommand = 0x20, MasterData = 0x21, SlaveCommand = 0xA0, SlaveData = 0xA1;

        public static void Remap()
        {
            Cpu.OutByte(MasterCommand, 0x11); // initialise, expect ICW4
            Cpu.OutByte(SlaveCommand, 0x11);
            Cpu.OutByte(MasterData, InterruptDescriptorTable.FirstIrq);
            Cpu.OutByte(SlaveData, InterruptDescriptorTable.FirstIrq + 8);
            Cpu.OutByte(MasterData, 4);       // slave on line 2
            Cpu.OutByte(SlaveData, 2);
            Cpu.OutByte(MasterData, 1);       // 8086 mode
            Cpu.OutByte(SlaveData, 1);
            Cpu.OutByte(MasterData, 0xFF);    // everything masked until asked for
            Cpu.OutByte(SlaveData, 0xFF);
        }

        public static void Unmask(int irq)
        {
            ushort port = irq < 8 ? MasterData : SlaveData;
            byte mask = Cpu.InByte(port);
            Cpu.OutByte(port, (byte)(mask & ~(1 << (irq & 7))));
            if (irq >= 8)
                Unmask(2);
        }

        public static void EndOfInterrupt(int irq)
        {
            if (irq >= 8)
                Cpu.OutByte(SlaveCommand, 0x20);
            Cpu.OutByte(MasterCommand, 0x20);
        }

        /// <summary>True when the IRQ 7/15 that arrived is spurious (not in service): then no EOI is due.</summary>
        public static bool IsSpurious(int irq)
        {
            if (irq != 7 && irq != 15) return false;
            ushort command = irq == 7 ? MasterCommand : SlaveCommand;
            Cpu.OutByte(command, 0x0B); // read the in-service register
            bool inService = (Cpu.InByte(command) & 0x80) != 0;
            if (!inService && irq == 15)
                Cpu.OutByte(MasterCommand, 0x20); // the master did see the cascade line
            return !inService;
        }
    }
}
