// Which managed exception a divide error (#DE) is. x86-64 raises #DE both for a zero divisor and
// for a quotient that does not fit (int.MinValue / -1; ILC emits a bare idiv for both), and .NET
// throws DivideByZeroException for the first and OverflowException for the second. This decodes
// the div/idiv at the faulting RIP (legacy and REX prefixes, F6/F7 /6 or /7, register or memory
// operand with SIB and RIP-relative addressing) and reads its divisor.
// Pure function over the instruction bytes and the saved registers; host-tested
// (Aegis.Tests/Host/EhFaultDecoderTests.cs). Anything it cannot decode counts as a zero divisor.
namespace Internal.Runtime.ExceptionHandling
{
    public static unsafe class FaultDecoder
    {
        /// <summary>Kinds of CPU faults that become managed exceptions (RDI of RhpThrowHwEx).</summary>
        public const int HardwareNullReference = 1, HardwareDivideByZero = 2, HardwareOverflow = 3;

        /// <summary>registers: rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15 (encoding order).</summary>
        public static int DivideErrorKind(byte* rip, ulong* registers)
        {
            return DivisorIsZero(rip, registers) ? HardwareDivideByZero : HardwareOverflow;
        }

        public static bool DivisorIsZero(byte* rip, ulong* registers)
        {
            byte* p = rip;
            bool operandSize16 = false;
            int rex = 0;
            for (int i = 0; i < 14; i++)
            {
                byte b = *p;
                if (b == 0x66) { operandSize16 = true; p++; continue; }
                if (b == 0x2E || b == 0x36 || b == 0x3E || b == 0x26 || b == 0x64 || b == 0x65 || b == 0x67 || b == 0xF0 || b == 0xF2 || b == 0xF3) { p++; continue; }
                break;
            }
            if ((*p & 0xF0) == 0x40) rex = *p++;
            byte opcode = *p++;
            if (opcode != 0xF6 && opcode != 0xF7) return true;
            byte modrm = *p++;
            int reg = (modrm >> 3) & 7;
            if (reg != 6 && reg != 7) return true;
            int mod = modrm >> 6, rm = modrm & 7;
            int size = opcode == 0xF6 ? 1 : (rex & 8) != 0 ? 8 : operandSize16 ? 2 : 4;
            ulong divisor;
            if (mod == 3)
            {
                if (size == 1 && rex == 0 && rm >= 4)
                    divisor = (registers[rm - 4] >> 8) & 0xFF; // ah, ch, dh, bh
                else
                    divisor = registers[rm + ((rex & 1) != 0 ? 8 : 0)];
            }
            else
            {
                ulong address;
                if (rm == 4)
                {
                    byte sib = *p++;
                    int scale = sib >> 6, index = ((sib >> 3) & 7) + ((rex & 2) != 0 ? 8 : 0), baseRegister = sib & 7;
                    address = index == 4 ? 0 : registers[index] << scale;
                    if (baseRegister == 5 && mod == 0)
                    {
                        address += (ulong)(long)*(int*)p;
                        p += 4;
                    }
                    else
                        address += registers[baseRegister + ((rex & 1) != 0 ? 8 : 0)];
                }
                else if (rm == 5 && mod == 0)
                {
                    long displacement = *(int*)p;
                    p += 4;
                    address = (ulong)((long)p + displacement); // RIP-relative: from the next instruction (no immediate follows)
                }
                else
                    address = registers[rm + ((rex & 1) != 0 ? 8 : 0)];
                if (mod == 1) { address += (ulong)(long)*(sbyte*)p; p++; }
                else if (mod == 2) { address += (ulong)(long)*(int*)p; p += 4; }
                switch (size)
                {
                    case 1: divisor = *(byte*)address; break;
                    case 2: divisor = *(ushort*)address; break;
                    case 4: divisor = *(uint*)address; break;
                    default: divisor = *(ulong*)address; break;
                }
            }
            switch (size)
            {
                case 1: divisor &= 0xFF; break;
                case 2: divisor &= 0xFFFF; break;
                case 4: divisor &= 0xFFFFFFFF; break;
            }
            return divisor == 0;
        }
    }
}
